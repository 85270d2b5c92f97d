#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0015-send-more.sh - "xmpctl send" beyond one message to one contact:
# several recipients, the message types and fields, a group chat room
# (XEP-0045), --lines, delivery receipts (XEP-0184), bounce attribution,
# and a server that goes away under --lines.
#
# Receivers are bob's own clients: a listen (what a person would run) and,
# where bob must act (join a room, answer a receipt), a "raw --stay"
# session fed through a FIFO this script holds open.  Offline messages are
# read from Prosody's store.  Every wait is for something to appear; the
# server is stopped by the last test only.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

prosody_require
PROSODY_MUC=rooms.example.test
prosody_start || bail_out 'cannot start Prosody'

STORE=$PROSODY_DIR/data/example%2etest/offline
ROOM=ops@rooms.example.test

# stored USER TEXT: USER's offline store holds a message with TEXT
stored() {
	grep -qF -- "$2" "$STORE/$1.list" 2>/dev/null
}

# start NAME USER ARGS...: USER's xmpctl ARGS in the background, stdin
# from the FIFO NAME.in (held open on fd 8 while it runs: end it with
# "exec 8>&-"), output in NAME.out and NAME.err, PID in NAME.pid, exit
# status in NAME.rc
start() {
	_st=$1
	_su=$2
	shift 2
	rm -f "$_st.in" "$_st.rc" "$_st.pid" "$_st.out" "$_st.err"
	mkfifo "$_st.in" || return 1
	{ XMPCTL_TEST_TIMEOUT=600 XMPCTL_PIDFILE=$_st.pid as "$_su" "$@" <"$_st.in" >"$_st.out" 2>"$_st.err"
	  echo $? >"$_st.rc"; } &
	exec 8>"$_st.in"
	wait_for "test -s $_st.pid" 20 "$_st to start"
}
ended() { # ended NAME [SECONDS]: wait until NAME has exited
	wait_for "test -s $1.rc" "${2:-20}" "$1 to end"
}
leftovers() {
	exec 8>&-
	bg_kill_all
}
test_atexit leftovers

# bob_online: bob's listener is online once Prosody has sent bob his own
# available presence (the count before it started is $1)
presences() {
	grep "Sending\[c2s\]: <presence[^>]*from=.bob@example.test/" "$PROSODY_LOG" |
		grep -vc "type=" || :
}
online() {
	wait_for "test \"\$(presences)\" != $1" 20 "bob's presence"
}

# ---- several recipients -------------------------------------------------------

test_expect_success 'several recipients: the last operand is the text; each gets it' '
	as alice send bob@example.test carol@example.test "to both, as operand" &&
	stored bob "to both, as operand" &&
	stored carol "to both, as operand" &&
	! stored bob "carol@example.test"
'

test_expect_success 'with --message every operand is a recipient' '
	as alice send -m "to both, with -m" bob@example.test carol@example.test &&
	stored bob "to both, with -m" &&
	stored carol "to both, with -m"
'

test_expect_success '--message - reads the text from stdin' '
	echo "to both, from stdin" |
		as alice send -m - bob@example.test carol@example.test &&
	stored bob "to both, from stdin" &&
	stored carol "to both, from stdin"
'

test_expect_success 'one bounced recipient: 80, the other still gets it' '
	expect_exit 80 as alice send bob@example.test nobody@example.test \
		"one of two bounces" 2>err &&
	test_grep "message to nobody@example.test bounced: service-unavailable" err &&
	test_grep ! "bob@example.test" err &&
	stored bob "one of two bounces"
'

test_expect_success 'usage errors: 64, nothing sent' '
	expect_exit 64 as alice send --type groupchat bob@example.test "bad-type" &&
	expect_exit 64 as alice send --lines -m x bob@example.test &&
	expect_exit 64 as alice send --lines --receipt bob@example.test </dev/null &&
	expect_exit 64 as alice send --nick n bob@example.test "nick-no-room" &&
	expect_exit 64 as alice send -m x &&
	expect_exit 65 as alice send bob@example.test bad@@jid "bad-second-jid" &&
	expect_exit 65 as alice send --subject "$(printf "a\001")" bob@example.test "bad-subject" &&
	! stored bob bad-type && ! stored bob bad-second-jid &&
	! stored bob bad-subject
'

# ---- types and fields, to bob online --------------------------------------------

test_expect_success 'bob listens (xml)' '
	n=$(presences) &&
	start l1 bob --format xml listen &&
	online "$n"
'

test_expect_success 'headline with a subject and a thread arrives as sent' '
	as alice send --type headline --subject "the subject" --thread th-42 \
		bob@example.test "a headline" &&
	wait_for "grep -q \"a headline\" l1.out" 20 "the headline" &&
	grep "a headline" l1.out >m &&
	test_grep "type=.headline." m &&
	test_grep "<subject>the subject</subject>" m &&
	test_grep "<thread>th-42</thread>" m
'

test_expect_success 'normal arrives as normal, chat (the default) as chat' '
	as alice send -T normal bob@example.test "a normal one" &&
	as alice send bob@example.test "a chat one" &&
	wait_for "grep -q \"a chat one\" l1.out" 20 "the chat message" &&
	grep "a normal one" l1.out >m.normal &&
	grep "a chat one" l1.out >m.chat &&
	test_grep "type=.normal." m.normal &&
	test_grep "type=.chat." m.chat &&
	test_grep ! "<subject>" m.chat
'

test_expect_success 'bob stops listening' '
	exec 8>&- && ended l1 && test "$(cat l1.rc)" = 0
'

# ---- --lines --------------------------------------------------------------------

test_expect_success 'bob listens (text)' '
	n=$(presences) &&
	start l2 bob listen &&
	online "$n"
'

test_expect_success '--lines: blank lines skipped, a bad line skipped with a warning (65)' '
	printf "first-line\n\n  \n\377bad-line\nlast-line-no-newline" |
		expect_exit 65 as alice send --lines bob@example.test 2>err &&
	test_grep "line 4 skipped" err &&
	wait_for "grep -q last-line-no-newline l2.out" 20 "the last line" &&
	test_grep first-line l2.out &&
	test "$(grep -c "alice@example.test" l2.out)" = 2
'

rss_ok=yes
[ -n "$TEST_WRAPPER" ] && rss_ok=
[ -x /usr/bin/time ] || rss_ok=
# (ASan keeps freed memory in quarantine: that is not ours to measure)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"

test_expect_success '--lines: 10,000 lines arrive, all and in order' '
		seq -f "bulk-%g" 1 10000 >bulk.in &&
	if [ -n "$rss_ok" ]; then
		XMPCTL_PASSWORD=$ALICE_PASS timeout 120 /usr/bin/time -o rss.10000 -f %M "$XMPCTL" --server "127.0.0.1:$PROSODY_PORT" \
			--cafile "$TEST_CA" -j alice@example.test send --lines \
			bob@example.test <bulk.in
	else
		XMPCTL_TEST_TIMEOUT=300 as alice send --lines bob@example.test <bulk.in
	fi &&
	wait_for "test \$(grep -c \" alice@example.test/[^:]*: bulk-\" l2.out) -ge 10000" 120 \
		"10,000 lines at bob" &&
	sed -n "s/^.* alice@example.test\/[^:]*: \(bulk-[0-9]*\)\$/\1/p" l2.out >bulk.got &&
	test_cmp bulk.in bulk.got
'

if [ -n "$rss_ok" ]; then
	test_expect_success '--lines: peak memory does not grow with the line count' '
		seq -f "small-%g" 1 1000 >small.in &&
		XMPCTL_PASSWORD=$ALICE_PASS timeout 60 /usr/bin/time -o rss.1000 -f %M "$XMPCTL" --server "127.0.0.1:$PROSODY_PORT" \
			--cafile "$TEST_CA" -j alice@example.test send --lines \
			bob@example.test <small.in &&
		small=$(tail -n 1 rss.1000) && big=$(tail -n 1 rss.10000) &&
		say "peak RSS: 1,000 lines ${small} KiB, 10,000 lines ${big} KiB" &&
		test "$big" -le $((small + small / 4 + 1024))
	'
else
	test_skip '--lines: peak memory does not grow with the line count' \
		'under a wrapper, or no /usr/bin/time'
fi

test_expect_success 'bob stops listening' '
	exec 8>&- && ended l2 && test "$(cat l2.rc)" = 0
'

# ---- a group chat room ----------------------------------------------------------


# room_send PASSWORD ARGS...: alice's send with the room password in the
# environment
room_send() {
	( XMPCTL_ROOM_PASSWORD=$1
	  export XMPCTL_ROOM_PASSWORD
	  shift
	  as alice send "$@" )
}

MUC_OWNER="<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field><field var='muc#roomconfig_passwordprotectedroom'><value>1</value></field><field var='muc#roomconfig_roomsecret'><value>room-secret</value></field></x></query>"

test_expect_success 'bob creates a password-protected room and stays in it' '
	start m1 bob --format xml raw --stay &&
	printf "%s\n" "<presence to=\"$ROOM/bobby\"><x xmlns=\"http://jabber.org/protocol/muc\"/></presence>" >&8 &&
	wait_for "grep -q \"status code=.110.\" m1.out" 20 "bob in the room" &&
	printf "%s\n" "<iq type=\"set\" id=\"cfg1\" to=\"$ROOM\">$MUC_OWNER</iq>" >&8 &&
	wait_for "grep -q \"id=.cfg1.\" m1.out" 20 "the room configured" &&
	grep "id=.cfg1." m1.out >cfg &&
	test_grep "type=.result." cfg
'

test_expect_success 'send --room joins, sends a groupchat message, leaves' '
	room_send room-secret --room "$ROOM" "hello room" &&
	wait_for "grep -q \"hello room\" m1.out" 20 "the message in the room" &&
	grep "hello room" m1.out >m &&
	test_grep "type=.groupchat." m &&
	test_grep "from=.$ROOM/alice." m &&
	wait_for "grep \"from=.$ROOM/alice.\" m1.out | grep -q \"type=.unavailable.\"" 20 \
		"alice to leave the room"
'

test_expect_success 'the room password from a file, another nick, stdin as text' '
	printf "room-secret\n" >room.pw && chmod 600 room.pw &&
	echo "via a password file" |
		room_send "" --room "$ROOM" --nick "alice two" --room-password-file room.pw &&
	wait_for "grep -q \"via a password file\" m1.out" 20 "the message" &&
	grep "via a password file" m1.out | grep -q "from=.$ROOM/alice two."
'

test_expect_success 'a wrong room password: not-authorized, 80, nothing said' '
	expect_exit 80 room_send wrong-secret --room "$ROOM" "wrong-pw-text" 2>err &&
	test_grep "cannot join $ROOM: not-authorized" err &&
	test_grep ! "wrong-secret" err &&
	expect_exit 80 room_send "" --room "$ROOM" "no-pw-text" 2>err &&
	test_grep "not-authorized" err
'

test_expect_success 'a nickname in use: conflict, 80, not a silent rename' '
	expect_exit 80 room_send room-secret --room "$ROOM" --nick bobby "conflict-text" 2>err &&
	test_grep "cannot join $ROOM: conflict" err
'

test_expect_success 'the room password never shows in the trace' '
	( XMPCTL_ROOM_PASSWORD=room-secret && export XMPCTL_ROOM_PASSWORD &&
	  as alice -v send --room "$ROOM" "traced join" ) 2>trace &&
	test_grep "<password>\[redacted\]</password>" trace &&
	test_grep ! "room-secret" trace
'

test_expect_success '--lines into the room, password from a command' '
	printf "room line one\n\nroom line two\n" |
		room_send "" --room "$ROOM" --room-password-command "echo room-secret" --lines &&
	wait_for "grep -q \"room line two\" m1.out" 20 "the lines in the room" &&
	test_grep "room line one" m1.out &&
	test_grep ! "wrong-pw-text" m1.out &&
	test_grep ! "no-pw-text" m1.out &&
	test_grep ! "conflict-text" m1.out
'

# ---- delivery receipts ------------------------------------------------------------

test_expect_success 'a receipt from the recipient: 0' '
	printf "%s\n" "<presence/>" >&8 &&
	bg_start r1 alice send --receipt bob@example.test "receipt please" &&
	wait_for "grep -q \"receipt please\" m1.out" 20 "the message at bob" &&
	grep "receipt please" m1.out >m &&
	test_grep "<request xmlns=.urn:xmpp:receipts./>" m &&
	id=$(sed -n "s/^<message.* id=.\([^\"'\'']*\).*/\1/p" m) &&
	from=$(sed -n "s/^<message.* from=.\([^\"'\'']*\).*/\1/p" m) &&
	say "id $id from $from" && test -n "$id" && test -n "$from" &&
	test ! -s r1.rc &&
	printf "%s\n" "<message to=\"$from\"><received xmlns=\"urn:xmpp:receipts\" id=\"$id\"/></message>" >&8 &&
	ended r1 && test "$(cat r1.rc)" = 0
'

test_expect_success 'no receipt within --timeout: 82' '
	expect_exit 82 as alice --timeout 5 send --receipt carol@example.test \
		"nobody answers receipts" 2>err &&
	test_grep "no receipt from carol@example.test within 5 s" err &&
	stored carol "nobody answers receipts"
'

test_expect_success 'bob leaves' '
	exec 8>&- && ended m1 && test "$(cat m1.rc)" = 0
'

# ---- who may bounce, who may confirm: a scripted server ----------------------------
# Prosody checks the 'from' of what its users send, so a third party's
# forged error or receipt has to come from a server of our own making.
# It offers PLAIN only: alice, who used channel binding with Prosody,
# would refuse it as a downgrade, so it is met with a fresh record.
XDG_DATA_HOME=$TEST_TMP/data-scripted
export XDG_DATA_HOME

. "$TESTS_SRCDIR/hostile/fake.sh"
fake_cert

# fake_send NAME STANZA: a script that answers alice's message with STANZA
# before acknowledging it
fake_send() {
	{ script_to_bind; script_bound alice@example.test/r
	  printf 'expect </message>\nsend %s\n' "$2"
	  script_ack; script_goodbye; } >"$1.script"
}
STANZA_ERR="<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"

fake_send forged "<message type='error' id='\$ID' from='carol@example.test/x'>$STANZA_ERR</message>"
test_expect_success 'an error from a third party with our id is no bounce (traced)' '
	fake forged &&
	run forged --cafile cert.pem send bob@example.test "forged bounce" &&
	test_grep "ignored an error from carol@example.test/x" forged.err &&
	test_grep ! "bounced" forged.err
'

fake_send domain "<message type='error' id='\$ID' from='example.test'>$STANZA_ERR</message>"
test_expect_success 'an error from the recipient'\''s domain is a bounce (80)' '
	fake domain &&
	expect_exit 80 run domain --cafile cert.pem send bob@example.test "domain bounce" &&
	test_grep "message to bob@example.test bounced: item-not-found" domain.err
'

fake_send rforged "<message from='carol@example.test/x'><received xmlns='urn:xmpp:receipts' id='\$ID'/></message>"
test_expect_success 'a receipt from a third party does not count (82)' '
	fake rforged &&
	expect_exit 82 run rforged --cafile cert.pem --timeout 2 send --receipt \
		bob@example.test "forged receipt" &&
	test_grep "no receipt from bob@example.test" rforged.err
'

fake_send rgood "<message from='bob@example.test/phone'><received xmlns='urn:xmpp:receipts' id='\$ID'/></message>"
test_expect_success 'the same receipt from the recipient counts (0)' '
	fake rgood &&
	run rgood --cafile cert.pem send --receipt bob@example.test "real receipt" &&
	test_grep "<request xmlns=.urn:xmpp:receipts./>" rgood.sent
'

# ---- the server goes away under --lines (last: it stops the server) ---------------

# confirmed FILE: the N of "the server confirmed N of M messages"
confirmed() {
	sed -n "s/.*the server confirmed \([0-9]*\) of [0-9]* messages.*/\1/p" "$1"
}
got_kill() {
	grep -o "kill-[0-9]*" "$STORE/bob.list" 2>/dev/null | sort -u | wc -l
}

test_expect_success 'server stopped halfway through --lines: fails, confirms no more than arrived' '
	{ seq -f "kill-%g" 1 10000000 |
		XMPCTL_TEST_TIMEOUT=300 XMPCTL_PIDFILE=k.pid as alice send --lines \
			bob@example.test >k.out 2>k.err
	  echo $? >k.rc; } &
	wait_for "test \$(got_kill) -ge 3000" 120 "3,000 lines in bob'\''s store" &&
	prosody_stop &&
	ended k 60 &&
	got=$(got_kill) && n=$(confirmed k.err) &&
	say "rc $(cat k.rc); bob got $got; confirmed: $n; stderr: $(cat k.err)" &&
	test "$(cat k.rc)" != 0 &&
	test -n "$n" &&
	test "$n" -le "$got"
'

test_done
