#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0010-shell.sh - "xmpctl shell" in a terminal (tmux) against a private
# Prosody: what is typed is sent, what arrives is shown above the line
# being typed, lines typed early wait their turn, Ctrl-C, Ctrl-D,
# history, completion, XML over several lines, a lost connection.
#
# Every wait is for something to appear: a line on the screen, a line in
# a file.  bob stays offline, so that what alice sends him goes to
# Prosody's offline store, where it is looked for.  A relay on loopback
# (holdproxy.py) holds alice's connection while she types, and breaks it
# when told to; an external component (component.py) never answers.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"
. "$TESTS_SRCDIR/integration/tty.sh"

tty_require
prosody_require
# shellcheck disable=SC2034 # read by prosody_start
PROSODY_COMPONENT=blackhole.example.test
prosody_start || bail_out 'cannot start Prosody'

XMPCTL_PASSWORD=$ALICE_PASS
XDG_STATE_HOME=$TEST_TMP/state
export XMPCTL_PASSWORD XDG_STATE_HOME
OFFLINE_STORE=$PROSODY_DIR/data/example%2etest/offline/bob.list
PING="<iq type='get' to='example.test' id='IDENT'><ping xmlns='urn:xmpp:ping'/></iq>"

# shell NAME [PORT]: alice's shell in terminal NAME, through 127.0.0.1:PORT
# (Prosody's by default)
shell() {
	tty_start "$1" "$TEST_WRAPPER \"\$XMPCTL\" -j alice@example.test \
--server 127.0.0.1:${2:-$PROSODY_PORT} --cafile \"\$TEST_CA\" shell"
}

PROMPT='alice@example\.test> '
# prompt NAME: wait until terminal NAME shows alice's prompt, empty
prompt() {
	tty_wait_line "$1" "^$PROMPT *\$" 20 "an empty prompt"
}
# logged_in NAME [N]: wait until terminal NAME has said "logged in" N
# times (default 1) and shows an empty prompt
logged_in() {
	wait_for "test \"\$(tty_screen $1 | grep -c '^xmpctl: logged in as alice@example\.test/')\" -ge ${2:-1}" \
		20 "'logged in' in terminal $1" &&
	prompt "$1"
}
# fresh NAME: an empty line (whatever a failed test left typed is gone)
fresh() {
	tty_keys "$1" C-e C-u && prompt "$1"
}
# enter NAME TEXT: type TEXT and Enter
enter() {
	tty_type "$1" "$2" && tty_keys "$1" Enter
}
# ping NAME IDENT: a ping to the server typed in NAME; wait for the result
ping() {
	enter "$1" "raw \"$(echo "$PING" | sed "s/IDENT/$2/")\"" &&
	tty_wait "$1" "example\.test iq result: <iq [^>]*id='$2'" 20 "the result of ping $2"
}

# exited NAME STATUS: wait until the shell in terminal NAME has ended;
# succeed if its exit status is STATUS
exited() {
	wait_for "test -s $1.rc" 20 "the shell in terminal $1 to end" || return 1
	[ "$(cat "$1.rc")" = "$2" ] && return 0
	say "terminal $1: expected exit status $2, got $(cat "$1.rc")"
	return 1
}

# bob_got TEXT: bob's offline store holds a message with TEXT
bob_got() {
	grep -qF -- "$1" "$OFFLINE_STORE" 2>/dev/null
}
bob_count() { # bob_count TEXT: how many times TEXT is in bob's store
	grep -oF -- "$1" "$OFFLINE_STORE" 2>/dev/null | wc -l
}

# ---- helpers on loopback ----------------------------------------------------

helper_pids=
test_atexit 'for p in $helper_pids; do kill "$p"; done'

test_expect_success 'a component that never answers is connected' '
	"$PYTHON" "$TESTS_SRCDIR/integration/component.py" "$PROSODY_COMPONENT_PORT" \
		"$PROSODY_COMPONENT" "$PROSODY_COMPONENT_SECRET" component.log \
		2>component.err &
	helper_pids="$helper_pids $!" &&
	wait_for "grep -qx ready component.log" 20 "the component handshake"
'

test_expect_success 'alice has bob on her roster' '
	as alice raw "<iq type=\"set\"><query xmlns=\"jabber:iq:roster\"><item jid=\"bob@example.test\"/></query></iq>" >out &&
	test_grep "iq result" out
'

# ---- one shell for most tests ----------------------------------------------

test_expect_success 'the shell logs in and shows the prompt' '
	shell a &&
	logged_in a &&
	full=$(tty_screen a | sed -n "s/^xmpctl: logged in as \([^ ]*\) .*/\1/p") &&
	test -n "$full"
'

test_expect_success 'a typed send arrives at bob' '
	enter a "send bob@example.test '\''hello from the shell'\''" &&
	wait_for "bob_got \"hello from the shell\"" 20 "the message in bob'\''s store" &&
	prompt a
'

test_expect_success 'a typed send: an option after the TEXT is an option' '
	enter a "send bob@example.test '\''typed before an option'\'' --subject '\''subject after the text'\''" &&
	wait_for "bob_got \"subject after the text\"" 20 "the message in bob'\''s store" &&
	bob_got "typed before an option" &&
	! bob_got "--subject" &&
	prompt a
'

test_expect_success 'a typed send: a TEXT that begins with "-" after "--"' '
	enter a "send bob@example.test -- '\''-5 degrees outside'\''" &&
	wait_for "bob_got \"-5 degrees outside\"" 20 "the message in bob'\''s store" &&
	prompt a
'

test_expect_success 'a message arriving while a line is half typed: shown above it' '
	fresh a &&
	tty_type a "hello wor" &&
	tty_wait_line a "^${PROMPT}hello wor *\$" 20 "the half-typed line" &&
	as bob send "$full" "while you type" &&
	tty_wait a "bob@example\.test/[^ ]*: while you type *\$" 20 "the message on the screen" &&
	tty_line a >line &&
	test_grep -x "${PROMPT}hello wor *" line &&
	tty_screen a >screen &&
	# the message is above the prompt line, which is the last one written
	msg=$(grep -n ": while you type *\$" screen | cut -d: -f1) &&
	last=$(grep -n "^${PROMPT}hello wor *\$" screen | cut -d: -f1) &&
	test "$msg" -lt "$last" &&
	test "$(grep -c "hello wor" screen)" = 1
'

test_expect_success '... C-u then clears that line, C-c clears another; the shell goes on' '
	tty_keys a C-u &&
	prompt a &&
	tty_type a "junk-line" &&
	tty_wait_line a "^${PROMPT}junk-line *\$" 20 "the line to clear" &&
	tty_keys a C-c &&
	prompt a &&
	enter a "send bob@example.test after-clearing" &&
	wait_for "bob_got after-clearing" 20 "the message in bob'\''s store" &&
	! tty_screen a | grep -e "hello wor" -e "junk-line" | grep -v "^$PROMPT"
'

test_expect_success 'invisible and bidi characters in a message are shown escaped' '
	fresh a &&
	as bob send "$full" "$(printf "rtl\342\200\217mark zw\342\200\213space bom\357\273\277 alm\330\234 wj\342\201\240 shy\302\255 zwj\342\200\215ok")" &&
	tty_wait a "bob@example\.test/[^ ]*: rtl\\\\u200fmark zw\\\\u200bspace bom\\\\ufeff alm\\\\u061c wj\\\\u2060 shy\\\\u00ad zwj" \
		20 "the message, escaped, on the screen" &&
	prompt a
'

test_expect_success 'Tab completes a JID of the roster after a command word' '
	fresh a &&
	# the roster was asked for before this ping: its answer is in
	ping a tab1 &&
	tty_type a "send bo" &&
	tty_keys a Tab &&
	tty_wait_line a "^${PROMPT}send bob@example\.test +\$" 20 "the completed JID" &&
	# and a blank after it: the cursor is past it
	want="alice@example.test> send bob@example.test " &&
	test "$(tty_cursor a | cut -d" " -f1)" = "${#want}" &&
	tty_keys a C-u &&
	prompt a
'

test_expect_success 'XML over several lines: the "...>" prompt until it is complete' '
	fresh a &&
	enter a "<message to='\''bob@example.test'\'' type='\''chat'\''>" &&
	tty_wait_line a "^\.\.\.> *\$" 20 "the continuation prompt" &&
	enter a "<body>two lines</body>" &&
	tty_wait a "^\.\.\.> <body>two lines</body> *\$" 20 "the second line" &&
	tty_wait_line a "^\.\.\.> *\$" 20 "the continuation prompt, again" &&
	enter a "</message>" &&
	prompt a &&
	enter a "send bob@example.test after-xml" &&
	wait_for "bob_got after-xml" 20 "the message sent after it" &&
	test "$(bob_count "two lines")" = 1
'

test_expect_success 'Ctrl-C abandons an element half typed' '
	fresh a &&
	enter a "<message to='\''bob@example.test'\'' type='\''chat'\''>" &&
	enter a "<body>abandoned</body>" &&
	tty_wait_line a "^\.\.\.> *\$" 20 "the continuation prompt" &&
	tty_keys a C-c &&
	prompt a &&
	enter a "send bob@example.test after-abandoning" &&
	wait_for "bob_got after-abandoning" 20 "the message sent after it" &&
	! bob_got abandoned
'

test_expect_success 'Ctrl-C during a request that is never answered: 130, the prompt' '
	fresh a &&
	enter a "/trace on" &&
	enter a "<iq type='\''get'\'' to='\''$PROSODY_COMPONENT'\'' id='\''bh1'\''><query xmlns='\''jabber:iq:version'\''/></iq>" &&
	tty_wait a "^xmpctl: >> <iq [^>]*id=.bh1" 20 "the request in the trace" &&
	wait_for "grep -q \"id=.bh1\" component.log" 20 "the request at the component" &&
	! tty_screen a | grep -q "exit status" &&
	tty_keys a C-c &&
	tty_wait a "^xmpctl: raw: exit status 130 *\$" 20 "the status of the cancelled request" &&
	prompt a
'

test_expect_success '... and the session is still usable' '
	enter a "/trace off" &&
	ping a after-cc
'

test_expect_success '\n in a typed text is a line break' '
	fresh a &&
	enter a "send bob@example.test \"first line\\nsecond line\"" &&
	wait_for "bob_got \"second line\"" 20 "the message in bob'\''s store" &&
	# Prosody writes a line break in its store as \n; a backslash and an
	# n would be \\n there
	grep -qF "\"first line\\nsecond line\"" "$OFFLINE_STORE" &&
	! grep -qF "first line\\\\n" "$OFFLINE_STORE" &&
	prompt a
'

test_expect_success 'help without the slash is /help' '
	fresh a &&
	enter a "help" &&
	tty_wait a "/reconnect  *connect again" 20 "the help text" &&
	prompt a
'

test_expect_success 'Ctrl-D closes politely: exit status 0' '
	fresh a &&
	tty_keys a C-d &&
	exited a 0 &&
	# it closed its stream (RFC 6120 §4.4): a connection that just breaks
	# is "unexpected eof" in this log
	wait_for "grep -qF \"c2s stream for $full closed: session closed\" \"\$PROSODY_LOG\"" \
		20 "Prosody to see the stream closed"
'
tty_kill a

# ---- history -------------------------------------------------------------------

test_expect_success 'history survives a restart' '
	XDG_STATE_HOME=$TEST_TMP/state-h &&
	shell h1 &&
	logged_in h1 &&
	enter h1 "/format json" &&
	prompt h1 &&
	enter h1 "/quit" &&
	exited h1 0 &&
	shell h2 &&
	logged_in h2 &&
	tty_keys h2 Up &&
	tty_wait_line h2 "^${PROMPT}/quit *\$" 20 "the last line again" &&
	tty_keys h2 Up &&
	tty_wait_line h2 "^${PROMPT}/format json *\$" 20 "the line before it"
'

test_expect_success '... in $XDG_STATE_HOME/xmpctl/history, mode 600' '
	test_grep -x "/format json" "$XDG_STATE_HOME/xmpctl/history" &&
	test "$(stat -c %a "$XDG_STATE_HOME/xmpctl/history")" = 600
'
tty_kill h1
tty_kill h2
XDG_STATE_HOME=$TEST_TMP/state

# ---- through a relay that holds, then breaks, the connection -------------------

test_expect_success 'a relay that holds connections' '
	"$PYTHON" "$TESTS_SRCDIR/integration/holdproxy.py" proxy.port \
		"$PROSODY_PORT" proxy.release proxy.drop >proxy.log 2>proxy.err &
	helper_pids="$helper_pids $!" &&
	wait_for "test -s proxy.port" 20 "the relay to listen"
'

test_expect_success 'a line typed while connecting is not lost' '
	shell p "$(cat proxy.port)" &&
	wait_for "grep -qx \"accepted 1\" proxy.log" 20 "the connection at the relay" &&
	tty_wait_line p "^\(connecting\)> *\$" 20 "the connecting prompt" &&
	enter p "send bob@example.test early-1" &&
	enter p "send bob@example.test early-2" &&
	tty_wait p "^\(connecting\)> send bob@example\.test early-2 *\$" 20 "the lines typed" &&
	tty_wait_line p "^\(connecting\)> *\$" 20 "the connecting prompt, again" &&
	! bob_got early- &&
	: >proxy.release &&
	logged_in p &&
	wait_for "bob_got early-2" 20 "the early messages in bob'\''s store" &&
	# both, in the order typed
	grep -o "early-[12]" "$OFFLINE_STORE" >early &&
	printf "early-1\nearly-2\n" >early.expect &&
	test_cmp early.expect early
'

test_expect_success 'a lost connection is reported at once; /reconnect' '
	: >proxy.drop &&
	tty_wait p "^xmpctl: the session has ended" 20 "the report of the lost connection" &&
	tty_wait_line p "^\(offline\)> *\$" 20 "the offline prompt" &&
	enter p "/reconnect" &&
	wait_for "grep -qx \"relayed 2\" proxy.log" 20 "a second connection" &&
	logged_in p 2 &&
	ping p after-reconnect
'

# The session that ended is over and done with: the status is that of
# the one being closed.
test_expect_success '... and Ctrl-D then closes politely: exit status 0' '
	fresh p &&
	tty_keys p C-d &&
	exited p 0
'
tty_kill p

# ---- without a command ---------------------------------------------------------

test_expect_success 'quit and exit without the slash close politely: 0' '
	shell q1 &&
	logged_in q1 &&
	enter q1 "quit" &&
	exited q1 0 &&
	shell q2 &&
	logged_in q2 &&
	enter q2 "  exit " &&
	exited q2 0
'
tty_kill q1
tty_kill q2

test_expect_success 'xmpctl with no command on a terminal is the shell' '
	tty_start n "stty -g >stty.before && $TEST_WRAPPER \"\$XMPCTL\" \
-j alice@example.test --server 127.0.0.1:$PROSODY_PORT --cafile \"\$TEST_CA\"; \
rc=\$?; stty -g >stty.after; (exit \$rc)" &&
	logged_in n &&
	enter n "/help" &&
	tty_wait n "^  /quit " 20 "the help" &&
	prompt n &&
	tty_keys n C-d &&
	exited n 0
'

test_expect_success '... and leaves the terminal as it found it' '
	test -s stty.before &&
	test_cmp stty.before stty.after
'
tty_kill n

# ---- usage ---------------------------------------------------------------------------

test_expect_success 'shell with stdin not a terminal: usage error (64)' '
	expect_exit 64 alice shell </dev/null 2>err &&
	test_grep "stdin is not a terminal" err
'

test_expect_success 'no command and stdin not a terminal: usage error (64)' '
	expect_exit 64 alice </dev/null 2>err &&
	test_grep "no command given" err
'

# ---- running commands ----------------------------------------------------------
# A send waits for a receipt from the component, which never answers: it
# runs until Ctrl-C.  A relay that holds the connection keeps the shell
# connecting until Ctrl-C.

test_expect_success 'jobs with nothing running: "no running commands"' '
	shell j &&
	logged_in j &&
	enter j "jobs" &&
	tty_wait j "^no running commands *\$" 20 "the answer to jobs" &&
	prompt j
'

test_expect_success '... /jobs, completed by Tab, too' '
	tty_type j "/jo" &&
	tty_keys j Tab &&
	tty_wait_line j "^${PROMPT}/jobs +\$" 20 "/jobs completed" &&
	tty_keys j Enter &&
	wait_for "test \"\$(tty_screen j | grep -c \"^no running commands\")\" = 2" \
		20 "the answer to /jobs" &&
	prompt j
'

test_expect_success 'a send waiting for its receipt: the prompt shows [send]' '
	enter j "send --receipt nobody@$PROSODY_COMPONENT held-by-jobs" &&
	wait_for "grep -q held-by-jobs component.log" 20 "the message at the component" &&
	tty_wait_line j "^alice@example\.test \[send\]> *\$" 20 "the prompt with its mark"
'

test_expect_success '... /jobs lists it as typed, then the line queued behind it' '
	enter j "send bob@example.test queued-behind-jobs" &&
	enter j "/jobs" &&
	tty_wait j "^queued: send bob@example\.test queued-behind-jobs *\$" 20 "the queued line in /jobs" &&
	tty_screen j >jobs.screen &&
	test_grep -E "^running \([0-9]+ s\): send --receipt nobody@blackhole\.example\.test held-by-jobs *\$" jobs.screen &&
	# the running line comes first, and /jobs itself is not queued
	run=$(grep -n "^running (" jobs.screen | cut -d: -f1) &&
	queued=$(grep -n "^queued: " jobs.screen | cut -d: -f1) &&
	test "$run" -lt "$queued" &&
	test "$(grep -c "^queued: " jobs.screen)" = 1 &&
	tty_wait_line j "^alice@example\.test \[send\]> *\$" 20 "the mark, still"
'

test_expect_success '... Ctrl-C cancels it: its messages name it; the queue is dropped' '
	tty_keys j C-c &&
	tty_wait j "^xmpctl: send: exit status 130 *\$" 20 "the status of the cancelled send" &&
	tty_screen j >jobs2.screen &&
	test_grep "^xmpctl: send: interrupted while waiting for receipts *\$" jobs2.screen &&
	test_grep "^xmpctl: dropped 1 line typed ahead *\$" jobs2.screen &&
	prompt j &&
	enter j "send bob@example.test after-jobs" &&
	wait_for "bob_got after-jobs" 20 "the message sent after it" &&
	! bob_got queued-behind-jobs &&
	prompt j
'

test_expect_success 'errors of the shell itself carry no command name' '
	enter j "frobnicate now" &&
	tty_wait j "^xmpctl: unknown command .frobnicate. \(type /help\) *\$" 20 "the unknown command" &&
	enter j "/trace sideways" &&
	tty_wait j "^xmpctl: usage: /trace on.off *\$" 20 "the usage of /trace" &&
	prompt j &&
	tty_keys j C-d &&
	exited j 0
'
tty_kill j

test_expect_success 'Ctrl-C while connecting cancels the connect; the shell stays' '
	"$PYTHON" "$TESTS_SRCDIR/integration/holdproxy.py" hold.port \
		"$PROSODY_PORT" hold.release hold.drop >hold.log 2>hold.err &
	helper_pids="$helper_pids $!" &&
	wait_for "test -s hold.port" 20 "the relay to listen" &&
	shell k "$(cat hold.port)" &&
	wait_for "grep -qx \"accepted 1\" hold.log" 20 "the connection at the relay" &&
	tty_wait_line k "^\(connecting\)> *\$" 20 "the connecting prompt" &&
	enter k "send bob@example.test typed-while-connecting" &&
	# the shell has taken the line (a slow one, under valgrind, may still
	# be reading it when Ctrl-C comes): /jobs lists it as queued
	enter k "/jobs" &&
	tty_wait k "^queued: send bob@example\.test typed-while-connecting *\$" 20 "the line queued" &&
	tty_keys k C-c &&
	tty_wait k "^xmpctl: connect cancelled; /reconnect connects again *\$" 20 "the cancel" &&
	tty_screen k >cancel.screen &&
	test_grep "^xmpctl: dropped 1 line typed ahead *\$" cancel.screen &&
	tty_wait_line k "^\(offline\)> *\$" 20 "the offline prompt" &&
	test ! -e k.rc &&
	enter k "send bob@example.test after-cancel" &&
	tty_wait k "^xmpctl: not connected" 20 "the refusal"
'

test_expect_success '... and /reconnect then logs in' '
	: >hold.release &&
	enter k "/reconnect" &&
	wait_for "grep -qx \"relayed 2\" hold.log" 20 "the second connection relayed" &&
	logged_in k &&
	ping k after-cancel &&
	! bob_got typed-while-connecting &&
	! bob_got after-cancel &&
	tty_keys k C-d &&
	exited k 0
'
tty_kill k

# typing
# ---- typing: history of XML, comments, blank text, completion, roster pushes ---

MSG_OPEN="<message to='bob@example.test' type='chat'>"
test_expect_success 'XML typed over several lines is one entry of history' '
	XDG_STATE_HOME=$TEST_TMP/state-x &&
	shell x1 &&
	logged_in x1 &&
	enter x1 "$MSG_OPEN" &&
	enter x1 "<body>kept-whole</body>" &&
	enter x1 "</message>" &&
	wait_for "bob_got kept-whole" 20 "the message in bob'\''s store" &&
	prompt x1 &&
	tty_keys x1 Up &&
	# the whole element, its lines below the prompt; the cursor at its end
	tty_wait_line x1 "^</message> *\$" 20 "the element recalled whole" &&
	tty_wait x1 "^${PROMPT}$MSG_OPEN *\$" 5 "its first line" &&
	tty_wait x1 "^<body>kept-whole</body> *\$" 5 "its second line"
'

test_expect_success '... sent again as one element' '
	tty_keys x1 Enter &&
	wait_for "test \"\$(bob_count kept-whole)\" = 2" 20 "the element sent again" &&
	prompt x1 &&
	enter x1 "/quit" &&
	exited x1 0
'

test_expect_success '... and whole after a restart' '
	shell x2 &&
	logged_in x2 &&
	tty_keys x2 Up &&
	tty_wait_line x2 "^${PROMPT}/quit *\$" 20 "the last line again" &&
	tty_keys x2 Up &&
	tty_wait_line x2 "^</message> *\$" 20 "the element recalled whole" &&
	tty_wait x2 "^<body>kept-whole</body> *\$" 5 "its second line" &&
	tty_keys x2 Enter &&
	wait_for "test \"\$(bob_count kept-whole)\" = 3" 20 "the element sent again" &&
	prompt x2
'
tty_kill x2

test_expect_success '... also in a long history written without the marks' '
	XDG_STATE_HOME=$TEST_TMP/state-z &&
	mkdir -p "$XDG_STATE_HOME/xmpctl" &&
	seq -f "old-%g" 1200 >"$XDG_STATE_HOME/xmpctl/history" &&
	shell z1 &&
	logged_in z1 &&
	enter z1 "$MSG_OPEN" &&
	enter z1 "<body>kept-long</body>" &&
	enter z1 "</message>" &&
	wait_for "bob_got kept-long" 20 "the message in bob'\''s store" &&
	prompt z1 &&
	enter z1 "/quit" &&
	exited z1 0 &&
	shell z2 &&
	logged_in z2 &&
	tty_keys z2 Up Up &&
	tty_wait_line z2 "^</message> *\$" 20 "the element recalled whole" &&
	tty_wait z2 "^<body>kept-long</body> *\$" 5 "its second line" &&
	tty_keys z2 Up &&
	tty_wait_line z2 "^${PROMPT}old-1200 *\$" 20 "the last of the old lines" &&
	tty_keys z2 C-u C-d &&
	exited z2 0 &&
	# the last 1000 entries: 998 old lines, the element, /quit
	test "$(grep -c "^#[0-9]" "$XDG_STATE_HOME/xmpctl/history")" = 1000 &&
	test_grep -x old-203 "$XDG_STATE_HOME/xmpctl/history" &&
	! grep -qx old-202 "$XDG_STATE_HOME/xmpctl/history"
'
tty_kill z1
tty_kill z2
XDG_STATE_HOME=$TEST_TMP/state

test_expect_success 'a comment in typed XML is dropped' '
	shell y &&
	logged_in y &&
	full=$(tty_screen y | sed -n "s/^xmpctl: logged in as \([^ ]*\) .*/\1/p") &&
	enter y "<!-- a note alone -->" &&
	prompt y &&
	enter y "$MSG_OPEN<!-- a note -->" &&
	enter y "<body>typed-comment</body></message>" &&
	wait_for "bob_got typed-comment" 20 "the message in bob'\''s store" &&
	prompt y &&
	! tty_screen y | grep -q "comment not allowed"
'

test_expect_success 'a text of white space only is refused, nothing sent' '
	enter y "send bob@example.test '\''   '\''" &&
	tty_wait y "^xmpctl: send: message of white space only: nothing sent *\$" 20 "the refusal" &&
	prompt y
'

test_expect_success 'roster pushes: one line each, not the stanzas' '
	for c in dave erin frank; do
		alice roster add "$c@example.test" >/dev/null || return 1
	done &&
	tty_wait y "^roster: frank@example\.test added \(none" 20 "the last push" &&
	tty_screen y >screen &&
	test "$(grep -c "^roster: [a-z]*@example\.test added (none" screen)" = 3 &&
	! grep -q "jabber:iq:roster" screen
'

test_expect_success '... and completion knows the JIDs they add' '
	fresh y &&
	tty_type y "send fra" &&
	tty_keys y Tab &&
	tty_wait_line y "^${PROMPT}send frank@example\.test +\$" 20 "the completed JID" &&
	fresh y
'

test_expect_success '... and forgets those they remove' '
	alice roster remove frank@example.test >/dev/null &&
	tty_wait y "^roster: frank@example\.test removed *\$" 20 "the push" &&
	fresh y &&
	tty_type y "send fra" &&
	tty_keys y Tab &&
	tty_type y "X" &&
	tty_wait_line y "^${PROMPT}send fraX *\$" 20 "nothing completed" &&
	fresh y
'

test_expect_success 'completion knows full JIDs whose presence arrives' '
	# bob, in a terminal of his own, sends alice directed presence and
	# stays until Ctrl-D
	tty_start b "XMPCTL_PASSWORD=\$BOB_PASS $TEST_WRAPPER \"\$XMPCTL\" \
-j bob@example.test --resource tabphone --server 127.0.0.1:$PROSODY_PORT \
--cafile \"\$TEST_CA\" raw --stay \"<presence to='\''$full'\''/>\"" &&
	tty_wait y "bob@example\.test/tabphone presence" 20 "bob'\''s presence" &&
	fresh y &&
	tty_type y "send bob@example.test/t" &&
	tty_keys y Tab &&
	tty_wait_line y "^${PROMPT}send bob@example\.test/tabphone +\$" 20 "the full JID" &&
	fresh y
'

test_expect_success '... until it becomes unavailable' '
	tty_keys b C-d &&
	exited b 0 &&
	tty_wait y "bob@example\.test/tabphone presence unavailable" 20 "bob'\''s unavailable presence" &&
	fresh y &&
	tty_type y "send bob@example.test/t" &&
	tty_keys y Tab &&
	tty_type y "X" &&
	tty_wait_line y "^${PROMPT}send bob@example\.test/tX *\$" 20 "nothing completed" &&
	fresh y &&
	tty_keys y C-d &&
	exited y 0
'
tty_kill b
tty_kill y

test_done
