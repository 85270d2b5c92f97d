#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# queue.sh - send --queue and xmpctl queue against each server of the
# matrix: a send that cannot reach the server keeps its message (75) in
# a private file and says so; an authentication failure never queues;
# queue list (text, json), drop; queue flush sends in order, each message
# once, with its XEP-0359 origin-id, and sets aside a message a
# recipient refuses for good (80); the config file's queue = yes and
# --no-queue.  On Prosody (whose accounts survive a restart): the session
# holder flushes by itself when the server comes back, nothing lost or
# twice.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

A=alice@example.test
B=bob@example.test
QDIR=$XDG_STATE_HOME/xmpctl/queue

# alice, aimed at a port nobody listens on (port 1 of the loopback)
alice_down() {
	XMPCTL_PASSWORD=$ALICE_PASS xmpctl --server 127.0.0.1:1 \
		--cafile "$TEST_CA" -j "$A" "$@"
}

# alice with a wrong password
alice_wrong() {
	XMPCTL_PASSWORD=wrong-password xmpctl --server "127.0.0.1:$SERVER_PORT" \
		--cafile "$TEST_CA" -j "$A" "$@"
}

# entries: the names of the queued messages, one a line
entries() {
	ls "$QDIR" 2>/dev/null | grep -v '^failed$' || :
}

# received FILE TEXT: how many of bob's json lines in FILE have TEXT as body
received() {
	"$PYTHON" -c '
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    if o.get("kind") == "message" and o.get("body") == sys.argv[2]:
        n += 1
print(n)
' "$1" "$2"
}

test_expect_success 'send --queue, server out of reach: 75, queued, and said so' '
	expect_exit 75 alice_down send --queue "$B" "first down" 2>q1.err &&
	test_grep "queued as [0-9T.]*Z-[0-9a-f]* for 1 recipient" q1.err &&
	test "$(entries | wc -l)" = 1 &&
	f=$QDIR/$(entries) &&
	test "$(stat -c %a "$f")" = 600 &&
	test "$(stat -c %a "$QDIR")" = 700 &&
	test_grep "^to $B " "$f" &&
	test_grep -x "first down" "$f"
'

test_expect_success 'without --queue the message is lost as before: 69, nothing queued' '
	expect_exit 69 alice_down send "$B" "not kept" &&
	test "$(entries | wc -l)" = 1
'

test_expect_success 'a wrong password never queues: 77' '
	expect_exit 77 alice_wrong --no-fast send --queue "$B" "wrong password" &&
	test "$(entries | wc -l)" = 1
'

test_expect_success 'several recipients, a subject, a second message: queued in order' '
	expect_exit 75 alice_down send --queue --subject "two of them" \
		"$B" carol@example.test "second down" &&
	expect_exit 75 alice_down send --queue "$B" "third down" &&
	test "$(entries | wc -l)" = 3 &&
	xmpctl queue list >list.out &&
	test "$(wc -l <list.out)" = 3 &&
	sed -n 1p list.out | grep -q "$A -> $B: first down" &&
	sed -n 2p list.out | grep -q "$A -> $B, carol@example.test: second down" &&
	sed -n 3p list.out | grep -q ": third down" &&
	xmpctl --format json queue list >list.json &&
	json_get list.json "\"%d %s\" % (len(o[\"to\"]), o.get(\"subject\"))" >list.fields &&
	printf "%s\n" "1 None" "2 two of them" "1 None" >list.expect &&
	test_cmp list.expect list.fields
'

test_expect_success 'queue drop: that one goes; an unknown name is 65, a malformed one 64' '
	third=$(entries | sed -n 3p) &&
	xmpctl queue drop "$third" &&
	test "$(entries | wc -l)" = 2 &&
	expect_exit 65 xmpctl queue drop "$third" &&
	expect_exit 64 xmpctl queue drop ../../etc/passwd
'

test_expect_success 'queue flush: bob and carol get each message once, in order, with its origin-id; the queue is empty' '
	# each listener hears its own presence once the server has it as
	# available: a message sent before that may go to offline storage
	# just as the listener comes online (ejabberd has such a window)
	XMPCTL_TEST_TIMEOUT=600 bg_start bobl bob --format json listen --all &&
	XMPCTL_TEST_TIMEOUT=600 bg_start caroll carol --format json listen --all &&
	wait_for "grep -q \"kind.:.presence.*from.:.$B/\" bobl.out" 20 "bob available" &&
	wait_for "grep -q \"kind.:.presence.*from.:.carol@example.test/\" caroll.out" 20 "carol available" &&
	as alice send "$B" "marker before" &&
	wait_for "grep -q \"marker before\" bobl.out" 20 "bob listening" &&
	as alice send carol@example.test "marker for carol" &&
	wait_for "grep -q \"marker for carol\" caroll.out" 20 "carol listening" &&
	as alice queue flush >flush.out &&
	test "$(grep -c "^sent " flush.out)" = 3 &&
	test "$(entries | wc -l)" = 0 &&
	as alice send "$B" "marker after" &&
	wait_for "grep -q \"marker after\" bobl.out" 20 "the marker after" &&
	test "$(received bobl.out "first down")" = 1 &&
	test "$(received bobl.out "second down")" = 1 &&
	wait_for "grep -q \"second down\" caroll.out" 20 "carol'"'"'s copy" &&
	test "$(received caroll.out "second down")" = 1 &&
	grep -n "first down\|second down" bobl.out | cut -d: -f1 >order &&
	test "$(sort -n order)" = "$(cat order)" &&
	test_grep "origin-id xmlns=.urn:xmpp:sid:0. id=" bobl.out &&
	bg_stop bobl && bg_stop caroll
'

test_expect_success 'a flush of an empty queue: 0, nothing said' '
	as alice queue flush >empty.out &&
	test_must_be_empty empty.out
'

test_expect_success 'a recipient that does not exist: the flush sets it aside with the reason (80)' '
	expect_exit 75 alice_down send --queue nobody@example.test "to nobody" &&
	expect_exit 80 as alice queue flush >aside.out &&
	test_grep "^failed .* to nobody@example.test (" aside.out &&
	test "$(entries | wc -l)" = 0 &&
	xmpctl queue list --failed >failed.out &&
	test_grep "nobody@example.test: to nobody (" failed.out &&
	name=$(ls "$QDIR/failed") &&
	xmpctl queue drop --failed "$name" &&
	xmpctl queue list --failed >failed2.out &&
	test_must_be_empty failed2.out
'

test_expect_success 'queue = yes in the config file queues without the option; --no-queue does not' '
	printf "[alice]\njid = %s\nqueue = yes\n" "$A" >"$XDG_CONFIG_HOME/xmpctl/config" 2>/dev/null ||
		{ mkdir -p "$XDG_CONFIG_HOME/xmpctl" &&
		  printf "[alice]\njid = %s\nqueue = yes\n" "$A" >"$XDG_CONFIG_HOME/xmpctl/config"; } &&
	expect_exit 75 alice_down send "$B" "by config" &&
	expect_exit 69 alice_down send --no-queue "$B" "not by config" &&
	test "$(entries | wc -l)" = 1 &&
	xmpctl queue drop "$(entries)" &&
	rm "$XDG_CONFIG_HOME/xmpctl/config"
'

test_expect_success 'send --queue goes with plain messages only' '
	expect_exit 64 as alice send --queue --lines "$B" </dev/null &&
	expect_exit 64 as alice send --queue --receipt "$B" text &&
	expect_exit 64 as alice send --queue --room room@conference.example.test text
'

# ---- the session holder flushes when the server comes back ----------------------

# (ejabberd's test instance starts with a fresh spool: accounts and
# rosters would not survive a restart)
if server_is prosody; then

XDG_RUNTIME_DIR=$(mktemp -d /tmp/xmpctl-queue.XXXXXX) || bail_out 'mktemp'
export XDG_RUNTIME_DIR
test_atexit 'rm -rf "$XDG_RUNTIME_DIR"'
leftovers() {
	for _l in "$XDG_RUNTIME_DIR"/xmpctl/*.lock; do
		[ -s "$_l" ] && kill "$(cat "$_l")" 2>/dev/null
	done
	bg_kill_all
}
test_atexit leftovers
test_on_failure leftovers
STATUS=$XDG_RUNTIME_DIR/xmpctl/$A.status

test_expect_success 'the holder runs; the server goes; sends through it are queued' '
	XMPCTL_TEST_TIMEOUT=600 bg_start holder alice session start --foreground &&
	wait_for "grep -q \"^state *connected\" \"$STATUS\"" 30 "the holder" &&
	server_stop &&
	wait_for "grep -q \"^state *reconnecting\" \"$STATUS\"" 30 "the holder to notice" &&
	for i in 1 2 3 4 5; do
		expect_exit 75 alice send --queue "$B" "while down $i" || return 1
	done &&
	test "$(entries | wc -l)" = 5
'

test_expect_success 'the server is back: the holder flushes, bob gets each once, in order' '
	_prosody_run prosody &&
	wait_for "grep -q \"^state *connected\" \"$STATUS\"" 90 "the holder to reconnect" &&
	wait_for "test \"\$(entries | wc -l)\" = 0" 30 "the queue to empty" &&
	test_grep "queue flushed: 5 sent, 0 set aside, 0 kept" "$XDG_RUNTIME_DIR/xmpctl/$A.log" &&
	XMPCTL_TEST_TIMEOUT=600 bg_start bobo bob --format json listen &&
	alice send "$B" "marker of the end" &&
	wait_for "grep -q \"marker of the end\" bobo.out" 30 "bob'"'"'s stored messages" &&
	for i in 1 2 3 4 5; do
		test "$(received bobo.out "while down $i")" = 1 || return 1
	done &&
	grep -o "while down [0-9]" bobo.out | uniq >order2 &&
	printf "while down %s\n" 1 2 3 4 5 >order2.expect &&
	test_cmp order2.expect order2 &&
	bg_stop bobo &&
	alice session stop
'
else
	test_skip 'the holder runs; the server goes; sends through it are queued' 'Prosody only'
	test_skip 'the server is back: the holder flushes, bob gets each once, in order' 'Prosody only'
fi

test_done
