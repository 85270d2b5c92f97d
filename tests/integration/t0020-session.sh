#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0020-session.sh - session start|stop|status: a session held in the
# background that the other commands of the account go through (Prosody;
# ejabberd in t0209).  One login for many sends; presence that outlives
# the command that set it; a server restart; another uid, garbage and a
# client killed mid-request on the socket; a second start, a stale
# socket, and the polite close on stop and SIGTERM.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

server_require
server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

A=alice@example.test
B=bob@example.test

# a private runtime directory, short enough for a socket's path
XDG_RUNTIME_DIR=$(mktemp -d /tmp/xmpctl-t0020.XXXXXX) || bail_out 'mktemp'
export XDG_RUNTIME_DIR
test_atexit 'rm -rf "$XDG_RUNTIME_DIR"'
SOCK=$XDG_RUNTIME_DIR/xmpctl/$A.sock

leftovers() {
	for _p in *.pid; do
		[ -f "$_p" ] && [ ! -s "${_p%.pid}.rc" ] && kill "$(cat "$_p")"
	done
	return 0
}
test_atexit leftovers
test_on_failure leftovers

# logins of alice the server has seen so far
logins() {
	grep -c "Authenticated as $A" "$SERVER_LOG" || :
}

# holder_start NAME ARGS...: a holder of alice in the foreground, in the
# background of this script, until the line saying it started
holder_start() {
	_hs=$1
	shift
	_hs_to=$XMPCTL_TEST_TIMEOUT
	XMPCTL_TEST_TIMEOUT=600
	bg_start "$_hs" alice session start --foreground "$@"
	_hs_rc=$?
	XMPCTL_TEST_TIMEOUT=$_hs_to
	test "$_hs_rc" = 0 &&
	wait_for "grep -q started $_hs.out || test -s $_hs.rc" 30 "$_hs to log in" &&
	test_grep "session for $A started" "$_hs.out"
}

test_expect_success 'status without a holder: 69' '
	expect_exit 69 as alice session status &&
	expect_exit 69 as alice session stop
'

test_expect_success 'usage errors: 64' '
	expect_exit 64 as alice session &&
	expect_exit 64 as alice session restart &&
	expect_exit 64 as alice session stop --foreground &&
	expect_exit 64 as alice session start unavailable
'

# ---- (a) ten sends, one login ---------------------------------------------------

test_expect_success 'bob listens' '
	XMPCTL_TEST_TIMEOUT=600 bg_start listener bob listen &&
	wait_for "grep -q \"Resource bound\\|bound.*bob\\|Authenticated as $B\" \"$SERVER_LOG\"" 20 "bob to log in"
'

test_expect_success 'start: logs in once, socket 0600 in a 0700 directory' '
	before=$(logins) &&
	holder_start holder away -s "held" &&
	test "$(logins)" = $((before + 1)) &&
	test -S "$SOCK" &&
	test "$(stat -c %a "$SOCK")" = 600 &&
	test "$(stat -c %a "$XDG_RUNTIME_DIR/xmpctl")" = 700 &&
	as alice session status >st.out &&
	test_grep "^state *connected" st.out &&
	test_grep "^jid *$A/" st.out &&
	test_grep "^presence *away (held)" st.out
'

test_expect_success 'ten sends through the holder: no new login, all arrive' '
	before=$(logins) &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		alice send "$B" "through $i" || return 1
	done &&
	test "$(logins)" = "$before" &&
	wait_for "test \$(grep -c \"through \" listener.out) -ge 10" 20 "ten messages at bob" &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		test_grep "through $i\$" listener.out || return 1
	done
'

test_expect_success '--no-session goes to the server itself' '
	before=$(logins) &&
	as alice --no-session send "$B" "direct" &&
	test "$(logins)" = $((before + 1))
'

test_done
