#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# send.sh - time a one-shot notification send ("a cron job sends one
# message") with xmpctl, go-sendxmpp and sendxmpp against one private Prosody
# on 127.0.0.1, and print a table.  Not part of "make check".
#
# Usage: tests/bench/send.sh [-n RUNS]      (default 8 runs per client and row)
#
# xmpctl comes from $XMPCTL, else ./xmpctl.  Nothing is installed: a peer
# client that is missing gets a "not installed" row.
#
# Method
#   - One Prosody (tests/integration/prosody.sh) with throwaway accounts; alice
#     sends to bob, who stays offline, so every message lands in bob's offline
#     store.  All three clients use SCRAM.
#   - Each client first sends one message that must arrive, or its row says
#     why it failed.  These warm-up sends are not timed or counted.
#   - Rows: STARTTLS and direct TLS (XEP-0368), each for a first contact
#     (empty $XDG_CACHE_HOME before every run) and a later one (the cache of
#     one earlier send kept).  The peers keep no cache: their two rows differ
#     only by noise.
#   - Each row runs RUNS sends on loopback straight to the server and RUNS
#     through tests/bench/rtt.py's proxy, which holds every chunk DELAY_MS
#     (default 25) in each direction and counts round trips: the times the
#     client sent again after data from the server had reached it.  The
#     final wait for the server's closing reply is not counted (a last
#     flight that is only the client's TLS close_notify), and server
#     data the client did not wait for (such as TLS session tickets) can add
#     one.  The TCP handshake itself is not delayed.
#   - Wall, CPU (user + system) and peak RSS come from wait4(2) on the client
#     (rtt.py run); medians over the runs that exited 0.
#   - --lines: LINES_N (default 10000) lines through one xmpctl send --lines
#     to carol (Prosody 0.12 keeps at most 10,000 offline messages per
#     account, and bob has the others), which exits 0 only when the server
#     acknowledged every message.
#   - Prosody runs with stream management (PROSODY_MODULES, default smacks);
#     TLS session tickets are off as in Prosody's default unless
#     PROSODY_TLS_TICKETS=yes.
#   - Certificate checks: xmpctl (--cafile) and sendxmpp (-a) verify the
#     server against the test CA; go-sendxmpp cannot be given a CA file and
#     runs with -n (no verification).
#   - sendxmpp sleeps for 1 s before it logs out (a deliberate "sleep 1" in
#     its xmpp_logout), so about 1000 ms of its time is that pause.

srcdir=$(cd "$(dirname "$0")/.." && pwd)
. "$srcdir/bench/common.sh"
bench_args 8 "$@"

XMPCTL=${XMPCTL:-./xmpctl}
case $XMPCTL in
/*) ;;
*) XMPCTL=$(pwd)/$XMPCTL ;;
esac
[ -x "$XMPCTL" ] || die "no xmpctl binary at $XMPCTL (build it, or set XMPCTL)"
date +%N | grep -q '^[0-9]' || die 'date +%N is not supported here'
command -v timeout >/dev/null 2>&1 || die 'timeout(1) is needed'

PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
: "${RUN_TIMEOUT:=60}"
: "${DELAY_MS:=25}"
: "${DELIVERY_TIMEOUT:=30}"

CLIENTS=${CLIENTS:-'xmpctl go-sendxmpp sendxmpp'}

BASE=$(mktemp -d "${TMPDIR:-/tmp}/xmpctl-bench.XXXXXX") ||
	die 'cannot make a temporary directory'
PROSODY_BASEDIR=$BASE/prosody
# shellcheck source=SCRIPTDIR/../integration/prosody.sh
. "$srcdir/integration/poll.sh"
. "$srcdir/integration/prosody.sh"

proxy_pid=
proxytls_pid=
cleanup() {
	for p in $proxy_pid $proxytls_pid; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	proxy_pid=
	proxytls_pid=
	prosody_stop_all
	rm -rf "$BASE"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

prosody_require || exit 1

# The clients must not read the user's own configuration.
mkdir -p "$BASE/home" "$BASE/out" || exit 1
HOME=$BASE/home
XDG_CONFIG_HOME=$BASE/home/.config
export HOME XDG_CONFIG_HOME
unset XMPCTL_PASSWORD XMPCTL_DNS_SERVER
LC_ALL=C
export LC_ALL

PROSODY_MODULES=${PROSODY_MODULES-smacks}
prosody_start bench || die 'Prosody did not start'
STORE=$PROSODY_DIR/data
SALT=$(openssl rand -hex 4)

# ---- the clients ------------------------------------------------------------

installed() {
	case $1 in
	xmpctl) return 0 ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

# send_with CLIENT PORT TEXT: one send of TEXT from alice to bob through
# 127.0.0.1:PORT, over STARTTLS or (MODE=direct) direct TLS; the client's
# output goes to $BASE/out/last.  $RUN (if set) wraps the command.
MODE=starttls
send_with() {
	if [ "$MODE" = direct ]; then
		_sw_x=--direct-tls _sw_g=-t _sw_s=-e
	else
		_sw_x= _sw_g= _sw_s=-t
	fi
	case $1 in
	xmpctl)
		# shellcheck disable=SC2086 # an optional word
		xmpctl_send "$XMPCTL" "$2" "$3" $_sw_x ;;
	go-sendxmpp)
		# shellcheck disable=SC2086
		go_sendxmpp_send go-sendxmpp "$2" "$3" $_sw_g ;;
	sendxmpp)
		# -o names the XMPP domain, as -j is only where to connect
		printf '%s\n' "$3" | $RUN timeout -k 5 "$RUN_TIMEOUT" \
			sendxmpp $_sw_s -a "$TEST_CA" -j "127.0.0.1:$2" -o example.test \
			-u alice -p "$ALICE_PASS" bob@example.test ;;
	esac >"$BASE/out/last" 2>&1
}

# delivered PATTERN: how many distinct texts matching PATTERN bob has got.
delivered() {
	grep -rhoE -- "$1" "$STORE" 2>/dev/null | sort -u | wc -l | tr -d ' '
}

# wait_delivered PATTERN N: poll until N texts matching PATTERN have arrived
# or DELIVERY_TIMEOUT seconds have passed.
wait_delivered() {
	_wd_pattern=$1
	_wd_count=$2
	poll_until '[ "$(delivered "$_wd_pattern")" -ge "$_wd_count" ]' \
		"$DELIVERY_TIMEOUT"
}

# why FILE: the first line of a client's complaint, for the table.
why() {
	_why=$(grep -v 'uninitialized value' "$1" | grep -m1 . | cut -c1-60)
	printf '%s' "${_why:-no output}"
}

# ---- warm-up: every client must deliver one message -----------------------

usable=
for c in $CLIENTS; do
	: >"$BASE/out/$c.status"
	if ! installed "$c"; then
		echo 'not installed' >"$BASE/out/$c.status"
		continue
	fi
	send_with "$c" "$PROSODY_PORT" "check-$SALT-$c"
	rc=$?
	if [ "$rc" != 0 ]; then
		echo "failed: exit $rc: $(why "$BASE/out/last")" >"$BASE/out/$c.status"
	elif ! wait_delivered "check-$SALT-$c" 1; then
		echo "failed: exit 0 but the message did not arrive" >"$BASE/out/$c.status"
	else
		usable="$usable $c"
	fi
done
[ -n "$usable" ] || die 'no client could send a message'
# shellcheck disable=SC2086 # a list of words
set -- $usable
nusable=$#

# ---- the timed runs ---------------------------------------------------------

"$PYTHON" "$srcdir/bench/rtt.py" proxy "$BASE/proxy.port" "$BASE/proxy.stats" \
	"$PROSODY_PORT" "$DELAY_MS" >"$BASE/proxy.log" 2>&1 &
proxy_pid=$!
: >"$BASE/proxy.stats"
"$PYTHON" "$srcdir/bench/rtt.py" proxy "$BASE/proxytls.port" "$BASE/proxytls.stats" \
	"$PROSODY_TLS_PORT" "$DELAY_MS" >"$BASE/proxytls.log" 2>&1 &
proxytls_pid=$!
: >"$BASE/proxytls.stats"
poll_until '[ -s "$BASE/proxy.port" ] && [ -s "$BASE/proxytls.port" ]' 10 ||
	die "the delay proxy did not start: $(cat "$BASE/proxy.log")"
proxy_port=$(cat "$BASE/proxy.port")
proxytls_port=$(cat "$BASE/proxytls.port")

# contact CLIENT KIND: set XDG_CACHE_HOME for a first (empty cache) or later
# (warm cache) contact
contact() {
	XDG_CACHE_HOME=$BASE/cache-$1-$MODE-$2
	export XDG_CACHE_HOME
	[ "$2" = first ] && rm -rf "$XDG_CACHE_HOME"
	mkdir -p "$XDG_CACHE_HOME"
}

echo "timing $RUNS sends per client and row, ${DELAY_MS} ms delay each way:$usable" >&2
: >"$BASE/out/table"
for MODE in starttls direct; do
	if [ "$MODE" = direct ]; then
		lport=$PROSODY_TLS_PORT dport=$proxytls_port stats=$BASE/proxytls.stats
	else
		lport=$PROSODY_PORT dport=$proxy_port stats=$BASE/proxy.stats
	fi
	for kind in first later; do
		for c in $usable; do
			f=$BASE/out/$c-$MODE-$kind
			: >"$f.loop"
			: >"$f.delay"
			contact "$c" "$kind"
			[ "$kind" = later ] && send_with "$c" "$lport" "warm-$SALT-$c-$MODE"
			i=1
			while [ "$i" -le "$RUNS" ]; do
				contact "$c" "$kind"
				RUN="$PYTHON $srcdir/bench/rtt.py run $f.loop" \
					send_with "$c" "$lport" "bench-$SALT-$c-$MODE-$kind-$i"
				contact "$c" "$kind"
				before=$(wc -l <"$stats")
				RUN="$PYTHON $srcdir/bench/rtt.py run $f.delay" \
					send_with "$c" "$dport" "delay-$SALT-$c-$MODE-$kind-$i"
				poll_until '[ "$(wc -l <"$stats")" -gt "$before" ]' 10
				tail -n 1 "$stats" | awk '{ print $3 }' >>"$f.rtts"
				i=$((i + 1))
			done
			ok=$(awk '$4 == 0' "$f.delay" | wc -l)
			okl=$(awk '$4 == 0' "$f.loop" | wc -l)
			rtts=$(sort -n "$f.rtts" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
			printf '%-12s %-8s %-6s %5s %7s %9s %9s %7s %8s\n' "$c" "$MODE" \
				"$kind" "$((ok + okl))/$((2 * RUNS))" "$rtts" \
				"$(median "$f.delay" 1)" "$(median "$f.loop" 1)" \
				"$(median "$f.loop" 2)" "$(median "$f.loop" 3)" \
				>>"$BASE/out/table"
		done
	done
done
kill "$proxy_pid" "$proxytls_pid" 2>/dev/null
wait "$proxy_pid" "$proxytls_pid" 2>/dev/null

# ---- --lines throughput -------------------------------------------------------

LINES_N=${LINES_N:-10000}
seq "$LINES_N" | sed "s/^/lines-$SALT-/" >"$BASE/lines.in"
XDG_CACHE_HOME=$BASE/cache-lines
export XDG_CACHE_HOME
XMPCTL_PASSWORD=$ALICE_PASS "$PYTHON" "$srcdir/bench/rtt.py" run "$BASE/out/lines" \
	timeout -k 5 600 "$XMPCTL" --server "127.0.0.1:$PROSODY_PORT" --cafile "$TEST_CA" \
	-j alice@example.test send --lines carol@example.test <"$BASE/lines.in" \
	>"$BASE/out/lines.log" 2>&1
read -r lwall lcpu lrss lrc <"$BASE/out/lines"

# ---- report ---------------------------------------------------------------------------

prosody_version=$(timeout 10 "$PROSODYCTL_BIN" --config "$PROSODY_DIR/prosody.cfg.lua" \
	about 2>/dev/null | sed -n '1s/^Prosody //p')
build=
if ldd "$XMPCTL" 2>/dev/null | grep -q 'asan\|ubsan'; then
	build='sanitizer build (ASan/UBSan): times are inflated, use a plain build for numbers'
else
	build='plain build (no sanitizers)'
fi

version_of() {
	case $1 in
	xmpctl) "$XMPCTL" --version 2>/dev/null | head -n 1 ;;
	go-sendxmpp) go-sendxmpp --version 2>/dev/null | head -n 1 ;;
	sendxmpp) sendxmpp --help 2>&1 | sed -n '1s/ version / /p' ;;
	esac
}

echo
for c in $CLIENTS; do
	status=$(cat "$BASE/out/$c.status")
	[ -n "$status" ] && printf '%-12s %s\n' "$c" "$status"
done
printf '%-12s %-8s %-6s %5s %7s %9s %9s %7s %8s\n' client TLS contact ok \
	'RTs' 'delay ms' 'loop ms' 'CPU ms' 'RSS KiB'
cat "$BASE/out/table"
echo "(medians; RTs: round trips counted by the delay proxy; delay ms: wall through"
echo " the proxy adding ${DELAY_MS} ms each way; loop ms, CPU ms (user+sys), RSS: loopback)"
echo
echo "--lines: $LINES_N lines, exit $lrc (0: all acknowledged), ${lwall} ms," \
	"$(awk -v n="$LINES_N" -v w="$lwall" 'BEGIN { printf "%.0f", n / (w / 1000) }') msg/s," \
	"CPU ${lcpu} ms, peak RSS ${lrss} KiB"
[ "$lrc" = 0 ] || echo "--lines said: $(why "$BASE/out/lines.log")"
echo
printf 'clients:'
for c in $usable; do
	printf ' %s;' "$(version_of "$c")"
done
echo
echo "machine: $(nproc) CPUs, $(uname -sr), Prosody ${prosody_version:-(unknown version)}"
echo "xmpctl: $XMPCTL, $build"
echo "go-sendxmpp runs without certificate verification (-n)"
echo "sendxmpp: includes a 1 s sleep of its own before it logs out"
