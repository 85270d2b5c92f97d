#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# script.sh - "xmpctl script": the scansion scripts of tests/scripts/
# against each server of the matrix, every client in one
# process: messages between two accounts, presence from a resource the
# server chose, roster pushes, iq errors, "receives: nothing",
# {scansion:any} and strict matching, and the parts of the format that
# scansion's users (Prosody's spec/scansion) write: comments, actions
# without a colon, several elements in one sends, captures.  A script
# that expects the wrong thing fails with status 83 and shows the diff; a
# script with a syntax error is refused with its line before anything
# connects.
#
# The scripts name the test accounts; their passwords, made up when the
# server starts, are filled in here (@ALICE_PASS@ and so on).

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

SCRIPTS=$TESTS_SRCDIR/scripts
MANPAGE=$TESTS_SRCDIR/../man/xmpctl-script.1

# run ARGS...: xmpctl script against the test server
run() {
	xmpctl --server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" script "$@"
}

# long_options: the --long-options named in a text on stdin, sorted, unique
long_options() {
	sed 's/\\-/-/g' | grep -o -e '--[a-z][a-z0-9-]*' | sort -u
}

needs

# ---- before the server starts ---------------------------------------------------

cat >syntax.scs <<'EOF'
# a script with a mistake on line 12
[Client] Alice
	jid: alice@example.test
	password: not-a-real-one

---

Alice connects

Alice sends:
	<message to='bob@example.test'>
		<body>broken</bdy>
	</message>
EOF

test_expect_success 'a syntax error is refused with its line, before connecting' '
	# port 1 is closed: had anything connected, the status would be 69
	expect_exit 65 xmpctl --server 127.0.0.1:1 script syntax.scs >out 2>err &&
	test_grep "^xmpctl: syntax.scs:12: Alice sends: column [0-9]*: mismatched tag" err &&
	test_must_be_empty out
'

test_expect_success 'every script is checked before the first one runs' '
	cp syntax.scs other.scs &&
	sed -i "s/^Alice connects/Alice connects\n\nBob receives: nothing/" other.scs &&
	printf "[Client] Alice\n\tjid: alice@example.test\n\tpassword: x\n---\nAlice connects\n" >first.scs &&
	expect_exit 65 xmpctl --server 127.0.0.1:1 script first.scs other.scs \
		>out 2>err &&
	test_grep "^xmpctl: other.scs:10: expected an action" err &&
	test_must_be_empty out
'

test_expect_success 'other mistakes are refused with their line' '
	printf "[Client] A\n\tjid: a@example.test\n\tpassword: pw-sekrit\n\tpasswd: pw-sekrit\n---\nA connects\n" >key.scs &&
	expect_exit 65 xmpctl script key.scs 2>err &&
	test_grep "key.scs:4: unknown key .passwd." err &&
	test_grep ! "pw-sekrit" err &&
	printf "[Client] A\n\tjid: a@example.test\n\tpassword: x\n---\nA connects\nA sends:\n\t<message to=\"\${B'"'"'s JID}\"/>\n" >var.scs &&
	expect_exit 65 xmpctl script var.scs 2>err &&
	test_grep "var.scs:7: unknown variable" err &&
	printf "[Client] A\n\tjid: a@example.test\n\tpassword: x\n---\nA receives: nothing\n" >order.scs &&
	expect_exit 65 xmpctl script order.scs 2>err &&
	test_grep "order.scs:5: A is not connected here" err &&
	printf "[Client] A\n\tjid: a@example.test\n\tpassword: x\nA connects\n" >header.scs &&
	expect_exit 65 xmpctl script header.scs 2>err &&
	test_grep "header.scs:4: expected .\[Client\] NAME." err
'

# Reading is linear in the script's length: a quadratic step took more
# than the harness's timeout (XMPCTL_TEST_TIMEOUT) for this script of
# 45002 steps, 3.7 MB, which is read in about a second now.
printf "[Client] A\n\tjid: a@example.test\n\tpassword: x\n---\nA connects\n\n" >big.scs
cat >step.txt <<'EOF'
A sends:
	<message to='${A's JID}' id='m'>
		<body>Hello, Bob!</body>
	</message>

EOF
awk -v n=45000 '{ s = s $0 "\n" } END { for (i = 0; i < n; i++) printf "%s", s }' \
	step.txt >>big.scs
printf "A sends:\n\t<message to='a@example.test'>\n\t\t<body>broken</bdy>\n\t</message>\n" >>big.scs

test_expect_success 'a script of almost SCRIPT_MAX_BYTES is read whole, its last line checked' '
	test $(wc -c <big.scs) -gt 3500000 &&
	expect_exit 65 xmpctl --server 127.0.0.1:1 script big.scs >out 2>err &&
	test_grep "^xmpctl: big.scs:225009: A sends: column [0-9]*: mismatched tag" err &&
	test_must_be_empty out
'

test_expect_code 64 '--wait takes seconds' 'xmpctl script --wait=soon syntax.scs'

test_expect_success 'the man page names the options of script --help' '
	xmpctl script --help >help &&
	long_options <help >help-options &&
	long_options <"$MANPAGE" >man-options &&
	comm -23 help-options man-options >missing &&
	test_must_be_empty missing
'

# ---- against the server -------------------------------------------------------

server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

test_expect_success 'messages, iq errors, {scansion:any} and strict matching' '
	scripted messages &&
	run messages.scs >out 2>err &&
	test_grep "^pass  messages.scs:66  Alice receives:" out &&
	test_grep "^messages.scs: passed: 14 steps" out &&
	test_grep ! -i "fail" out
'

test_expect_success 'presence from a resource the server chose' '
	scripted presence &&
	run presence.scs >out 2>err &&
	test_grep "^presence.scs: passed" out
'

test_expect_success 'roster pushes to the resource that asked for the roster' '
	scripted roster &&
	run roster.scs >out 2>err &&
	test_grep "^roster.scs: passed" out
'

test_expect_success 'receives: nothing listens for --wait' '
	scripted nothing &&
	run --wait 2 nothing.scs >out 2>err &&
	test_grep "^pass  nothing.scs:23  Carol receives: nothing" out &&
	test_grep "^nothing.scs: passed" out
'

# A step that fails waits --wait for a stanza that matches; the tests that
# look at what arrived keep the default (3 s), so that a slow run (valgrind)
# still sees it arrive.  "receives: nothing" fails as soon as a stanza comes.
test_expect_success 'receives: nothing fails when something comes' '
	sed "s/type=\"headline\"/type=\"chat\"/; s/to=\"carol@example.test\"/to=\"\${Carol'"'"'s full JID}\"/" \
		nothing.scs >something.scs &&
	expect_exit 83 run --wait 30 something.scs >out 2>err &&
	test_grep "^FAIL  something.scs:23  Carol receives: nothing" out &&
	test_grep "Carol received 1 stanza, nothing was expected" out &&
	test_grep "Not for a session without presence" out
'

test_expect_success 'a wrong expectation fails with 83, its line and a diff' '
	scripted wrong &&
	expect_exit 83 run wrong.scs >out 2>err &&
	test_grep "^FAIL  wrong.scs:22  Bob receives:" out &&
	test_grep "expected (line 23):" out &&
	test_grep "received while waiting: 1 stanza" out &&
	test_grep "^ *- *<body>Goodbye</body>" out &&
	test_grep "^ *+ *<body>Hello</body>" out &&
	test_grep "/message/body: text .Goodbye. expected, got .Hello." out &&
	test_grep "^skip  wrong.scs:27  Bob disconnects" out &&
	test_grep "^wrong.scs: FAILED at line 22: 3 passed, 1 failed, 2 skipped of 6 steps" out &&
	test_grep "^xmpctl: wrong.scs:22: Bob received no stanza that matches within 3000 ms (1 received)" err
'

test_expect_success 'strict matching refuses what is not expected' '
	sed "s/<body>Hello<\/body>/<body>Goodbye<\/body>/; s/type=\"chat\">\$/type=\"chat\" scansion:strict=\"true\">/" \
		wrong.scs >strict.scs &&
	expect_exit 83 run strict.scs >out 2>err &&
	test_grep "attribute to=.* received, not expected (strict)" out &&
	test_grep ! "attribute from=.*not expected" out
'

test_expect_success 'one script failing does not stop the next; TAP output' '
	expect_exit 83 run --tap wrong.scs presence.scs >out 2>err &&
	test_grep "^1\.\.16$" out &&
	test_grep "^not ok 4 - wrong.scs:22 Bob receives:" out &&
	test_grep "^ok 5 - wrong.scs:27 Bob disconnects # SKIP" out &&
	test_grep "^ok 16 - presence.scs:" out &&
	test_grep "^#  *- *<body>Goodbye</body>" out
'

test_expect_success 'JSON: one object per step and per script' '
	expect_exit 83 run --wait 1 --format json wrong.scs >out 2>err &&
	json_get out "o.get(\"result\")" >results &&
	printf "pass\npass\npass\nfail\nskip\nskip\nfail\n" >expect &&
	test_cmp expect results &&
	json_get out "o[\"diff\"] if o.get(\"result\") == \"fail\" and \"line\" in o else None" >diff &&
	test_grep "Goodbye" diff
'

test_expect_success '-v traces each client labelled by its name, no password' '
	xmpctl -v --server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" \
		script wrong.scs >out 2>err
	test_grep "^xmpctl: Alice: >> <message" err &&
	test_grep "^xmpctl: Bob: << <message" err &&
	test_grep ! -F "$ALICE_PASS" err &&
	test_grep ! -F "$BOB_PASS" err &&
	test_grep ! -F "$ALICE_PASS" out
'

test_expect_success 'a wrong password fails at connects with 77' '
	sed "s/password: .*/password: not-$BOB_PASS/" wrong.scs >badpass.scs &&
	expect_exit 77 run badpass.scs >out 2>err &&
	test_grep "^FAIL  badpass.scs:13  Alice connects" out &&
	test_grep "^xmpctl: badpass.scs:13: Alice cannot connect: " err &&
	test_grep ! -F "not-$BOB_PASS" err &&
	test_grep ! -F "not-$BOB_PASS" out
'

test_expect_success 'SIGINT ends the script: 130, the clients close first' '
	printf "[Client] Carol\n\tjid: carol@example.test\n\tpassword: %s\n---\nCarol connects\n\nCarol receives: nothing\n\nCarol disconnects\n" \
		"$CAROL_PASS" >long.scs &&
	rm -f long.pid long.rc &&
	{ XMPCTL_PIDFILE=long.pid run --wait 600 long.scs </dev/null >long.out 2>long.err
	  echo $? >long.rc; } &
	wait_for "grep -q \"^pass .*Carol connects\" long.out" 30 "Carol to connect" &&
	kill -INT "$(cat long.pid)" &&
	wait_for "test -s long.rc" 30 "the script to end" &&
	test "$(cat long.rc)" = 130 &&
	test_grep "^FAIL  long.scs:7  Carol receives: nothing" long.out &&
	test_grep "Carol was interrupted by signal 2" long.out &&
	test_grep "^skip  long.scs:9  Carol disconnects" long.out
'

# record ARGS...: alice's shell on a terminal of its own, the ping of
# PING_LINE typed into it and then /quit
PING_LINE="<iq type='get' id='rec-1'><ping xmlns='urn:xmpp:ping'/></iq>
/quit"
record() {
	record_lines "$PING_LINE" "$@"
}
# record_lines LINES ARGS...: the same, LINES typed
record_lines() {
	_rl=$1
	shift
	XMPCTL_PASSWORD=$ALICE_PASS "$PYTHON" "$TESTS_SRCDIR/integration/ptyrun.py" \
		"$_rl" $TEST_WRAPPER "$XMPCTL" --server "127.0.0.1:$SERVER_PORT" \
		--cafile "$TEST_CA" -j alice@example.test shell "$@"
}

test_expect_success 'shell --record writes the session as a script' '
	record --record rec.scs >pty.out 2>pty.err &&
	test_grep "^\[Client\] alice$" rec.scs &&
	test_grep "^alice connects$" rec.scs &&
	test_grep "^alice sends:$" rec.scs &&
	test_grep "^	<iq .*id=.rec-1" rec.scs &&
	test_grep "^alice receives:$" rec.scs &&
	test_grep "^	<presence .*from=.\${alice.s full JID}" rec.scs &&
	test_grep "^alice disconnects$" rec.scs &&
	test_grep ! -F "$ALICE_PASS" rec.scs
'

test_expect_success '... which script replays, the password from its sources' '
	XMPCTL_PASSWORD=$ALICE_PASS run rec.scs >out 2>err &&
	test_grep "^rec.scs: passed" out
'

# a room's password in a join, another in a room configuration form
TEST_SECRETS="${TEST_SECRETS:-} room-pw-sekrit form-pw-sekrit"
SECRET_LINES="<presence to='room@rooms.example.test/alice'><x xmlns='http://jabber.org/protocol/muc'><password>room-pw-sekrit</password></x></presence>
<iq type='set' to='room@rooms.example.test' id='cfg-1'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_roomsecret'><value>form-pw-sekrit</value></field><field var='muc#roomconfig_roomname'><value>Lunch</value></field></x></query></iq>
$PING_LINE"
test_expect_success 'shell --record: secrets in stanzas are [redacted]; the file is mode 600' '
	rm -f secret.scs &&
	(umask 022 && record_lines "$SECRET_LINES" --record secret.scs >pty.out 2>pty.err) &&
	test_grep "^	<presence .*<password>\[redacted\]</password>" secret.scs &&
	test_grep "roomsecret.><value>\[redacted\]</value>" secret.scs &&
	test_grep "roomname.><value>Lunch</value>" secret.scs &&
	test_grep ! -e room-pw-sekrit -e form-pw-sekrit secret.scs &&
	test "$(stat -c %a secret.scs)" = 600
'

test_expect_success 'the -v trace redacts them too, the form field'"'"'s as the join'"'"'s' '
	printf "%s\n" "$SECRET_LINES" | as alice -v raw >/dev/null 2>raw.err;
	test_grep "^xmpctl: >> <presence .*<password>\[redacted\]</password>" raw.err &&
	test_grep "^xmpctl: >> <iq .*roomsecret.><value>\[redacted\]</value>" raw.err &&
	test_grep "roomname.><value>Lunch</value>" raw.err &&
	test_grep ! -e room-pw-sekrit -e form-pw-sekrit raw.err
'

test_expect_success 'shell --record over a file of mode 644: mode 600 now' '
	echo old >old.scs &&
	chmod 644 old.scs &&
	record --record old.scs >pty.out 2>pty.err &&
	test_grep "^alice sends:$" old.scs &&
	test "$(stat -c %a old.scs)" = 600
'

test_expect_success 'the scripts are read from stdin without FILE' '
	run <presence.scs >out 2>err &&
	test_grep "^stdin: passed" out
'


# ---- accounts from the config file --------------------------------------------

# The accounts as a user keeps them: server, CA file and password in the
# config file (alice's as a password line, bob's from a command).  No
# SRV lookup may leave the machine should a client miss its server.
XMPCTL_DNS_SERVER=127.0.0.1:1
export XMPCTL_DNS_SERVER
mkdir -p "$XDG_CONFIG_HOME/xmpctl"
cat >"$XDG_CONFIG_HOME/xmpctl/config" <<EOF
[alice]
jid = alice@example.test
server = 127.0.0.1:$SERVER_PORT
cafile = $TEST_CA
password = $ALICE_PASS

[bob]
jid = bob@example.test
server = 127.0.0.1:$SERVER_PORT
cafile = $TEST_CA
password_command = printf %s '$BOB_PASS'
EOF
chmod 600 "$XDG_CONFIG_HOME/xmpctl/config"

test_expect_success 'a client takes server, CA file and password from the config section of its jid' '
	sed "/password:/d" wrong.scs >nopass.scs &&
	sed -i "s/<body>Goodbye<\/body>/<body>Hello<\/body>/" nopass.scs &&
	xmpctl script nopass.scs </dev/null >out 2>err &&
	test_grep "^nopass.scs: passed: 6 steps" out
'

cat >noj.scs <<'EOF'
[Client] Me

---

Me connects

Me sends:
	<message to="${Me's full JID}" type="chat" id="noj-1">
		<body>to myself</body>
	</message>

Me receives:
	<message from="${Me's full JID}" id="noj-1">
		<body>to myself</body>
	</message>

Me disconnects
EOF

test_expect_success 'a client without a jid is the account of --account' '
	xmpctl -v -a bob script noj.scs </dev/null >out 2>err &&
	test_grep "^noj.scs: passed: 4 steps" out &&
	test_grep "Me: -- ready as bob@example.test/" err
'

test_expect_success '... of --jid, or else of the config file'"'"'s first section' '
	xmpctl -v -j bob@example.test script noj.scs </dev/null >out 2>err &&
	test_grep "Me: -- ready as bob@example.test/" err &&
	xmpctl -v script noj.scs </dev/null >out 2>err &&
	test_grep "^noj.scs: passed: 4 steps" out &&
	test_grep "Me: -- ready as alice@example.test/" err
'

test_expect_success 'a client without a jid and no account: refused before connecting' '
	: >empty.conf &&
	chmod 600 empty.conf &&
	expect_exit 64 xmpctl --config empty.conf script first.scs noj.scs \
		</dev/null >out 2>err &&
	test_grep "^xmpctl: noj.scs: client .Me. has no jid, and no account gives one" err &&
	test_must_be_empty out
'

test_expect_success '--account names an account of the config file, a client taking it or not' '
	expect_exit 78 xmpctl -a carol script nopass.scs </dev/null >out 2>err &&
	test_grep "^xmpctl: no account .carol. in " err &&
	test_must_be_empty out
'

# A shell of the config file's account, recorded as a user would (no
# option but --record): a message to itself, an iq and its reply, a
# change of presence, a ping, /quit.
CHAT_LINES="<message to='alice@example.test' type='chat' id='self-1'><body>note to self</body></message>
<iq type='get' id='ver-1' to='example.test'><query xmlns='jabber:iq:version'/></iq>
presence away
$PING_LINE"

test_expect_success 'a recording of the config file'"'"'s account replays as recorded' '
	"$PYTHON" "$TESTS_SRCDIR/integration/ptyrun.py" "$CHAT_LINES" \
		$TEST_WRAPPER "$XMPCTL" shell --record chat.scs >pty.out 2>pty.err &&
	test_grep "^	<message .*id=.self-1.*<body>note to self</body>" chat.scs &&
	test_grep "^	<iq .*id=.ver-1.*<query xmlns=.jabber:iq:version.><name>" chat.scs &&
	test_grep "^	<presence [^>]*from=.\${alice.s full JID}.[^>]*><show>away</show>" chat.scs &&
	test_grep ! -F "$ALICE_PASS" chat.scs &&
	xmpctl script chat.scs </dev/null >out 2>err &&
	test_grep "^chat.scs: passed" out &&
	test_grep ! -i "fail" out
'

test_expect_success 'a recording asks for the resource the shell asked for in its JID' '
	"$PYTHON" "$TESTS_SRCDIR/integration/ptyrun.py" "$PING_LINE" \
		$TEST_WRAPPER "$XMPCTL" -j alice@example.test/desk shell \
		--record desk.scs >pty.out 2>pty.err &&
	test_grep "^	resource: desk$" desk.scs &&
	xmpctl -v script desk.scs </dev/null >out 2>err &&
	test_grep "^desk.scs: passed" out &&
	test_grep "alice: -- ready as alice@example.test/desk$" err
'

rm -f "$XDG_CONFIG_HOME/xmpctl/config"

# ---- scripts as scansion's users write them -------------------------------------

test_expect_success 'comments of three kinds, no colons, several elements in a sends, a capture' '
	scripted scansion &&
	xmpctl -v --server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" \
		script scansion.scs >out 2>err &&
	test_grep "^scansion.scs: passed: 14 steps" out &&
	test_grep ! -i "fail" out
'

test_expect_success 'a disconnects of a session the server ended, or of none, passes with a note' '
	grep -A1 "^pass  scansion.scs:64  Alice disconnects" out >note &&
	test_grep "^      Alice was disconnected .*conflict" note &&
	grep -A1 "^pass  scansion.scs:66  Alice disconnects" out >note &&
	test_grep "^      Alice was not connected" note
'

test_expect_success '... and in JSON, the note of the step that passed' '
	run --format json scansion.scs >json.out 2>json.err &&
	json_get json.out "(o[\"line\"], o[\"result\"], o[\"note\"]) if \"note\" in o else None" >notes &&
	test_grep "^(64, .pass., .was disconnected .*conflict" notes &&
	test_grep "^(66, .pass., .was not connected.)" notes &&
	test $(grep -c "^(" notes) = 2
'

# The order of two clients'"'"' stanzas: a step'"'"'s stanzas are confirmed
# by the server (an XEP-0198 request or a ping) before the next step
# from another client goes out.
test_expect_success 'a sends is confirmed before the next client acts' '
	awk "/Alice: >> <message .*id=.scs-2/ { sent = NR }
	     sent && !confirmed && /Alice: >> <(r xmlns|iq .*urn:xmpp:ping)/ { confirmed = NR }
	     /Bob: >> <iq .*id=.scs-3/ { bob = NR }
	     END { exit !(sent && confirmed && bob && sent < confirmed && confirmed < bob) }" err
'

test_expect_success 'a capture may not be used before the step that captures it' '
	sed "/^Bob receives\$/,\$d" scansion.scs >early.scs &&
	printf "Bob sends\n\t<message to=\"\${Alice'"'"'s JID}\"><body>\${server}</body></message>\n" >>early.scs &&
	expect_exit 65 run early.scs >out 2>err &&
	test_grep "^xmpctl: early.scs:[0-9]*: unknown variable .\${server}." err
'

# Prosody's own scripts (spec/scansion), their accounts those of the
# test server: what scansion passes against Prosody passes here.
case $XMPCTL_TEST_SERVER in
prosody*)
	mkdir -p prosody
	for t in basic_roster basic_message presence_preapproval; do
		test_expect_success "Prosody's $t.scs" '
			scripted prosody/$t &&
			run prosody/$t.scs >out 2>err &&
			test_grep "^prosody/$t.scs: passed" out
		'
	done
	;;
esac

test_done
