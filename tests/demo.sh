#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# demo.sh - a live demonstration of xmpctl against a private Prosody.
#
# Starts Prosody on 127.0.0.1 (random ports, a throwaway CA and accounts
# alice and bob), logs in as alice, sends "Hello from xmpctl" to bob while bob
# is offline, then connects as bob with an independent client (go-sendxmpp)
# and shows the message arriving.  Everything is stopped and removed at the
# end.  Exits non-zero if the message does not arrive.
#
# Usage: tests/demo.sh            (xmpctl from $XMPCTL, else ./xmpctl)

srcdir=$(cd "$(dirname "$0")" && pwd)
XMPCTL=${XMPCTL:-./xmpctl}
case $XMPCTL in
/*) ;;
*) XMPCTL=$(pwd)/$XMPCTL ;;
esac
TEXT='Hello from xmpctl'

heading() {
	printf '\n== %s\n' "$*"
}

die() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

# show_cmd ARGS...: print a command line the way a shell would take it
show_cmd() {
	printf '$'
	for _a; do
		case $_a in
		*[!A-Za-z0-9_./:@=-]*|'') printf " '%s'" "$(printf '%s' "$_a" | sed "s/'/'\\\\''/g")" ;;
		*) printf ' %s' "$_a" ;;
		esac
	done
	printf '\n'
}

[ -x "$XMPCTL" ] || die "no xmpctl binary at $XMPCTL (build it, or set XMPCTL)"
for cmd in prosody prosodyctl openssl go-sendxmpp; do
	command -v "$cmd" >/dev/null 2>&1 || die "$cmd is needed for the demo"
done

PROSODY_BASEDIR=$(mktemp -d "${TMPDIR:-/tmp}/xmpctl-demo.XXXXXX") ||
	die 'cannot make a temporary directory'
. "$srcdir/integration/poll.sh"
. "$srcdir/integration/prosody.sh"

receiver_pid=
cleanup() {
	if [ -n "$receiver_pid" ]; then
		kill "$receiver_pid" 2>/dev/null
		wait "$receiver_pid" 2>/dev/null
		receiver_pid=
	fi
	prosody_stop_all
	rm -rf "$PROSODY_BASEDIR"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

heading 'Starting a private Prosody on 127.0.0.1'
prosody_start demo || die 'Prosody did not start'
echo "XMPP domain example.test, STARTTLS on 127.0.0.1:$PROSODY_PORT,"
echo "direct TLS on 127.0.0.1:$PROSODY_TLS_PORT; certificate from a throwaway CA:"
echo "  $TEST_CA"
echo "Accounts alice@example.test and bob@example.test with random passwords."

XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD

heading 'alice logs in (the password comes from $XMPCTL_PASSWORD)'
set -- --server "127.0.0.1:$PROSODY_PORT" --cafile "$TEST_CA" -j alice@example.test
show_cmd xmpctl "$@" login
"$XMPCTL" "$@" login || die "login failed (exit status $?)"

heading 'alice sends a message to bob, who is offline'
show_cmd xmpctl "$@" send bob@example.test "$TEXT"
"$XMPCTL" "$@" send bob@example.test "$TEXT" || die "send failed (exit status $?)"
echo "exit status 0: the server has taken the message"

heading "bob connects with another client (go-sendxmpp) and receives it"
received=$PROSODY_BASEDIR/received
echo '$ go-sendxmpp --listen -u bob@example.test ...'
# -n: go-sendxmpp cannot be given our CA file; this is our own loopback server
timeout 60 go-sendxmpp -n -j "127.0.0.1:$PROSODY_PORT" -l \
	-u bob@example.test -p "$BOB_PASS" >"$received" 2>&1 </dev/null &
receiver_pid=$!

# until the message is there, or the receiver gave up
poll_until 'grep -q ": $TEXT\$" "$received" || ! kill -0 "$receiver_pid"' 20
if ! grep -q ": $TEXT\$" "$received"; then
	cat "$received"
	die 'the message did not arrive at bob within 20 s'
fi
sed 's/^/  /' "$received"

heading 'Stopping Prosody'
cleanup
echo 'Done: the message went from xmpctl (alice) to another client (bob).'
