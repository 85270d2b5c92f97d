#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0009-listen.sh - "xmpctl listen" against a private Prosody: each
# message printed as it arrives, in every format; the ways it ends and
# their exit statuses; the filters; what a terminal is shielded from.
#
# The listener reads a FIFO this script holds open (so that the end of
# its stdin is ours to choose) and writes its PID to a file (so that a
# signal goes to it alone).  Every wait is for something to appear.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

prosody_require
prosody_start || bail_out 'cannot start Prosody'

# start NAME [--null] ARGS...: bob's xmpctl ARGS in the background, stdin
# from the FIFO NAME.in held open on fd 9 (or /dev/null with --null),
# output in NAME.out and NAME.err, PID in NAME.pid, exit status in NAME.rc
start() {
	_st=$1
	shift
	rm -f "$_st.in" "$_st.rc" "$_st.pid" "$_st.out" "$_st.err"
	if [ "$1" = --null ]; then
		shift
		{ XMPCTL_PIDFILE=$_st.pid as bob "$@" </dev/null >"$_st.out" 2>"$_st.err"
		  echo $? >"$_st.rc"; } &
	elif [ "$1" = --closed ]; then
		shift
		{ XMPCTL_PIDFILE=$_st.pid as bob "$@" <&- >"$_st.out" 2>"$_st.err"
		  echo $? >"$_st.rc"; } &
	else
		mkfifo "$_st.in" || return 1
		{ XMPCTL_PIDFILE=$_st.pid as bob "$@" <"$_st.in" >"$_st.out" 2>"$_st.err"
		  echo $? >"$_st.rc"; } &
		exec 9>"$_st.in"
	fi
	wait_for "test -s $_st.pid" 20 "$_st to start"
}
# A test that failed may leave its listener running; it must not take
# the next test's messages.
leftovers() {
	exec 9>&-
	bg_kill_all
}
test_atexit leftovers
test_on_failure leftovers

# online NAME: wait until bob's listener NAME is online (Prosody has sent
# his own presence back to him)
online() {
	wait_for "test \"\$(presences)\" != $1" 20 "bob's presence"
}
# (grep -c prints 0 but fails when nothing matches)
# (Prosody writes attributes in no fixed order.)
presences() {
	grep "Sending\[c2s\]: <presence[^>]*from=.bob@example.test/" "$PROSODY_LOG" |
		grep -vc "type=" || :
}

ended() { # ended NAME [SECONDS]: wait until NAME has exited
	wait_for "test -s $1.rc" "${2:-20}" "$1 to end"
}

unavailable_count() {
	grep -c "Received\[c2s\]: <presence[^>]* type='unavailable'" "$PROSODY_LOG" || :
}

# ---- while bob is offline -------------------------------------------------------

test_expect_success 'a message for bob while he is offline' '
	as carol send bob@example.test "stored while offline"
'

# ---- one message at a time -------------------------------------------------------

test_expect_success 'listen prints a message as it arrives, before the next is sent' '
	n=$(presences) &&
	start l1 --format json listen &&
	online "$n" &&
	as alice send bob@example.test "first message" &&
	wait_for "grep -q \"first message\" l1.out" 20 "the first message" &&
	! grep -q "second message" l1.out &&
	as alice send bob@example.test "second message" &&
	wait_for "grep -q \"second message\" l1.out" 20 "the second message"
'

test_expect_success 'every line is JSON a JSON parser reads' '
	json_get l1.out "o[\"kind\"], o[\"type\"], o[\"body\"]" >l1.fields &&
	test_grep -F "('\''message'\'', '\''chat'\'', '\''first message'\'')" l1.fields &&
	test_grep -F "('\''message'\'', '\''chat'\'', '\''second message'\'')" l1.fields &&
	json_get l1.out "o[\"from\"].split(\"/\")[0]" | sort -u >l1.from &&
	printf "alice@example.test\ncarol@example.test\n" >l1.from.expect &&
	test_cmp l1.from.expect l1.from
'

test_expect_success 'the message stored while offline comes with its delay' '
	json_get l1.out "o.get(\"delay\", \"\") + \"|\" + o[\"body\"]" >l1.delay &&
	test_grep "^20[0-9-]*T[0-9:.]*Z|stored while offline\$" l1.delay
'

test_expect_success 'the end of stdin ends listen politely (0, unavailable presence)' '
	u=$(unavailable_count) &&
	exec 9>&- &&
	ended l1 &&
	test "$(cat l1.rc)" = 0 &&
	test_must_be_empty l1.err &&
	test "$(unavailable_count)" -gt "$u"
'

test_expect_success 'SIGTERM: the server sees unavailable presence, exit 0' '
	n=$(presences) &&
	start l2 listen &&
	online "$n" &&
	u=$(unavailable_count) &&
	kill -TERM "$(cat l2.pid)" &&
	ended l2 &&
	test "$(cat l2.rc)" = 0 &&
	test "$(unavailable_count)" -gt "$u"
'

test_expect_success 'SIGINT ends it the same way' '
	n=$(presences) &&
	start l3 listen &&
	online "$n" &&
	kill -INT "$(cat l3.pid)" &&
	ended l3 &&
	test "$(cat l3.rc)" = 0
'

# until_signal NAME MODE: with stdin from MODE (--null or --closed),
# listen prints what arrives and ends only with a signal, politely.
until_signal() {
	n=$(presences) &&
	start "$1" "$2" listen &&
	online "$n" &&
	as alice send bob@example.test "$1: first" &&
	wait_for "grep -q \"$1: first\" $1.out" 20 "the first message" &&
	as alice send bob@example.test "$1: second" &&
	wait_for "grep -q \"$1: second\" $1.out" 20 "the second message" &&
	! test -s "$1.rc" &&
	kill -TERM "$(cat "$1.pid")" &&
	ended "$1" &&
	test "$(cat "$1.rc")" = 0
}

test_expect_success 'with stdin from /dev/null it runs until a signal' '
	until_signal l4 --null
'

test_expect_success 'with stdin closed it runs until a signal too' '
	until_signal l5 --closed
'

# ---- how it ends ---------------------------------------------------------------------

test_expect_success '--count 2: exits 0 by itself after two messages' '
	n=$(presences) &&
	start c2 listen --count 2 &&
	online "$n" &&
	as alice send bob@example.test "count one" &&
	as alice send bob@example.test "count two" &&
	ended c2 &&
	test "$(cat c2.rc)" = 0 &&
	test "$(wc -l <c2.out)" = 2 &&
	test_grep ": count one\$" c2.out &&
	test_grep ": count two\$" c2.out
'

test_expect_success '--timeout with nothing arriving: 75 and a line that says so' '
	start t1 listen --timeout 1 &&
	ended t1 &&
	test "$(cat t1.rc)" = 75 &&
	test_grep "^xmpctl: listen: timeout of 1 s reached\$" t1.err &&
	test_must_be_empty t1.out
'

# The window in which one message must arrive: a sending xmpctl under
# valgrind takes seconds of its own.
window=2
[ -n "$TEST_WRAPPER" ] && window=15

test_expect_success '--count 3 --timeout with one message: 75, "1 of 3"' '
	n=$(presences) &&
	start t2 listen --count 3 --timeout "$window" &&
	online "$n" &&
	as alice send bob@example.test "only one" &&
	ended t2 &&
	test "$(cat t2.rc)" = 75 &&
	test_grep "1 of 3 messages" t2.err &&
	test_grep ": only one\$" t2.out
'

# ---- filters --------------------------------------------------------------------------

test_expect_success '--from: only messages from that JID' '
	n=$(presences) &&
	start f1 listen --from alice@example.test --count 1 &&
	online "$n" &&
	as carol send bob@example.test "from carol, filtered out" &&
	as alice send bob@example.test "from alice, shown" &&
	ended f1 &&
	test "$(cat f1.rc)" = 0 &&
	test_grep "from alice, shown" f1.out &&
	test_grep ! "from carol" f1.out
'

test_expect_success '--type headline: only headlines' '
	n=$(presences) &&
	start h1 listen --type headline --count 1 &&
	online "$n" &&
	as alice raw "<message to=\"bob@example.test\" type=\"chat\"><body>a chat</body></message>" \
		"<message to=\"bob@example.test\" type=\"headline\"><body>a headline</body></message>" &&
	ended h1 &&
	test "$(cat h1.rc)" = 0 &&
	test_grep ": a headline\$" h1.out &&
	test_grep ! "a chat" h1.out
'

test_expect_success '--no-presence: chat to the bare JID goes to offline storage' '
	start np listen --no-presence --timeout 2 &&
	as alice send bob@example.test "kept for later" &&
	ended np &&
	test "$(cat np.rc)" = 75 &&
	test_must_be_empty np.out &&
	test_grep "kept for later" "$PROSODY_DIR/data/example%2etest/offline/bob.list"
'

test_expect_success '--all: presence and other stanzas too' '
	n=$(presences) &&
	start a1 --format json listen --all &&
	online "$n" &&
	as alice send bob@example.test "with --all" &&
	wait_for "grep -q \"with --all\" a1.out" 20 "the message" &&
	exec 9>&- &&
	ended a1 &&
	json_get a1.out "o[\"kind\"]" >a1.kinds &&
	test_grep -x presence a1.kinds
'

# ---- formats and terminals -------------------------------------------------------------

evil=$(printf 'csi \302\233[31m rlo \342\200\256 lre \342\200\252 lsep \342\200\250 end')
test_expect_success 'text: C1 and bidi controls from a sender are shown escaped' '
	n=$(presences) &&
	start s1 listen --count 1 &&
	online "$n" &&
	as alice send bob@example.test "$evil" &&
	ended s1 &&
	test_grep -F "csi \\u009b[31m rlo \\u202e lre \\u202a lsep \\u2028 end" s1.out &&
	! grep -q "$(printf "\302\233")" s1.out &&
	! grep -q "$(printf "\342\200\256")" s1.out
'

test_expect_success 'json: the same characters as \u escapes, the text intact' '
	n=$(presences) &&
	start s2 --format json listen --count 1 &&
	online "$n" &&
	as alice send bob@example.test "$evil" &&
	ended s2 &&
	! grep -q "$(printf "\342\200\256")" s2.out &&
	json_get s2.out "o[\"body\"]" >s2.body &&
	printf "%s\n" "$evil" >s2.expect &&
	test_cmp s2.expect s2.body
'

test_expect_success 'xml: one line of XML a parser reads, the same text' '
	n=$(presences) &&
	start s3 --format xml listen --count 1 &&
	online "$n" &&
	as alice send bob@example.test "$(printf "two\nlines & <xml>")" &&
	ended s3 &&
	test "$(wc -l <s3.out)" = 1 &&
	"$PYTHON" -c "
import sys, xml.dom.minidom as m
d = m.parseString(open(sys.argv[1], encoding=\"utf-8\").read())
b = d.getElementsByTagName(\"body\")[0].firstChild.data
assert b == \"two\nlines & <xml>\", repr(b)
" s3.out
'

test_expect_success 'the format may follow the command: listen --format json' '
	n=$(presences) &&
	start s4 listen --format json --count 1 &&
	online "$n" &&
	as alice send bob@example.test "format after the command" &&
	ended s4 &&
	json_get s4.out "o[\"body\"]" | grep -qx "format after the command"
'

# ---- staying alive -------------------------------------------------------------------------

# the server's answers to iq requests from bob, as its log shows them
answers_to_bob() {
	grep "Sending\[c2s\]: <iq" "$PROSODY_LOG" | grep "to=.bob@example.test/" |
		grep "from=.example.test." | grep -c "type=.result." || :
}

test_expect_success 'keepalive: a quiet session pings the server, which answers' '
	n=$(presences) &&
	a=$(answers_to_bob) &&
	start k1 --keepalive 1 -v listen &&
	online "$n" &&
	wait_for "test \$(answers_to_bob) -ge $((a + 2))" 20 "two keepalive pings answered" &&
	! test -s k1.rc &&
	exec 9>&- &&
	ended k1 &&
	test "$(cat k1.rc)" = 0 &&
	test "$(grep -c "keepalive ping" k1.err)" -ge 2
'

test_done
