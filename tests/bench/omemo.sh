#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# omemo.sh - what OMEMO costs a one-shot send: xmpctl send against
# xmpctl send --encrypt=omemo to the same contact on a private Prosody
# (PEP, offline storage) on 127.0.0.1, bob's device published by Debian's
# python3-omemo (tests/integration/omemo_netpeer.py).  Rows:
#   plain          send, as always
#   omemo first    --encrypt=omemo with no device of ours yet: it is made
#                  (identity, 100 pre-keys) and published, bob's device
#                  list and bundle fetched, a key exchange sent
#   omemo later    --encrypt=omemo with the session kept: device lists
#                  fetched again, no bundle
# each the median over RUNS (-n, default 5; "first" once: its state is
# then there) of the round trips (tests/bench/rtt.py's proxy, which holds
# every chunk DELAY_MS, default 25, each way: on a real network round
# trips, not CPU, decide how long a send takes), wall time, CPU (user +
# system) and the client's peak RSS (/usr/bin/time), printed as a table.
# Not part of "make check", and not a timed test.
#
# Usage: tests/bench/omemo.sh [-n RUNS]
#
# xmpctl comes from $XMPCTL, else ./xmpctl; build it without
# --enable-sanitizers, whose shadow memory would hide what is measured.

srcdir=$(cd "$(dirname "$0")/.." && pwd)
. "$srcdir/bench/common.sh"
bench_args 5 "$@"

bench_xmpctl
PY=/usr/bin/python3
"$PY" -c 'import omemo, oldmemo, twomemo, slixmpp' 2>/dev/null ||
	die 'python3-omemo, -oldmemo, -twomemo and -slixmpp are needed'

bench_prosody_home

PROSODY_MODULES=offline
prosody_start bench || die 'Prosody did not start'
timeout -k 5 60 "$PY" "$srcdir/integration/omemo_netpeer.py" \
	--jid bob@example.test --password "$BOB_PASS" \
	--server "127.0.0.1:$PROSODY_PORT" --cafile "$TEST_CA" --ns old \
	--store "$BASE/out/bob.json" publish >"$BASE/out/peer.log" 2>&1 ||
	die "bob's device was not published: $(tail -n 3 "$BASE/out/peer.log")"

: "${DELAY_MS:=25}"
: >"$BASE/proxy.stats"
"$PY" "$srcdir/bench/rtt.py" proxy "$BASE/proxy.port" "$BASE/proxy.stats" \
	"$PROSODY_PORT" "$DELAY_MS" &
BENCH_PIDS=$!
poll_until 'test -s "$BASE/proxy.port"' 10 || die 'the delay proxy did not start'
PROXY_PORT=$(cat "$BASE/proxy.port")

# run ROW OPTION...: one send through the delay proxy, a line "WALL CPU
# RSS STATUS ROUND-TRIPS" (ms, ms, KiB) appended to out/ROW
run() {
	_row=$1
	shift
	_before=$(wc -l <"$BASE/proxy.stats" 2>/dev/null || echo 0)
	XMPCTL_PASSWORD=$ALICE_PASS /usr/bin/time -f '%e %U %S %M' \
		-o "$BASE/out/time" "$XMPCTL" --server "127.0.0.1:$PROXY_PORT" \
		--cafile "$TEST_CA" -j alice@example.test send "$@" \
		bob@example.test "bench $_row" >/dev/null 2>"$BASE/out/err" </dev/null
	_rc=$?
	# the proxy writes its line once the connection is over
	poll_until "test \"\$(wc -l <\"$BASE/proxy.stats\")\" -gt $_before" 10
	_rt=$(tail -n 1 "$BASE/proxy.stats" | awk '{ print $3 }')
	awk -v rc="$_rc" -v rt="${_rt:-0}" \
		'{ printf "%d %d %d %d %d\n", $1 * 1000, ($2 + $3) * 1000, $4, rc, rt }' \
		"$BASE/out/time" >>"$BASE/out/$_row"
	[ "$_rc" = 0 ] || echo "$_row: exit $_rc: $(tail -n 1 "$BASE/out/err")" >&2
}

i=0
while [ "$i" -lt "$RUNS" ]; do
	run plain
	i=$((i + 1))
done
run first --encrypt=omemo
i=0
while [ "$i" -lt "$RUNS" ]; do
	run later --encrypt=omemo
	i=$((i + 1))
done

echo "each chunk held $DELAY_MS ms each way by the proxy (a round trip: $((2 * DELAY_MS)) ms)"
printf '%-12s %5s %12s %10s %9s %15s\n' 'row' 'runs' 'round trips' 'wall (ms)' 'CPU (ms)' 'peak RSS (KiB)'
for row in plain first later; do
	case $row in
	first) name='omemo first' ;;
	later) name='omemo later' ;;
	*) name=$row ;;
	esac
	printf '%-12s %5s %12s %10s %9s %15s\n' "$name" \
		"$(awk '$4 == 0' "$BASE/out/$row" | wc -l)" \
		"$(median "$BASE/out/$row" 5)" \
		"$(median "$BASE/out/$row" 1)" "$(median "$BASE/out/$row" 2)" \
		"$(median "$BASE/out/$row" 3)"
done
