#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# send.sh - time a one-shot notification send ("a cron job sends one
# message") with xmpctl, go-sendxmpp and sendxmpp against one private Prosody
# on 127.0.0.1, and print a table.  Not part of "make check".
#
# Usage: tests/bench/send.sh [-n RUNS]      (default 20 runs per client)
#
# xmpctl comes from $XMPCTL, else ./xmpctl.  Nothing is installed: a peer
# client that is missing gets a "not installed" row.
#
# Method
#   - One Prosody (tests/integration/prosody.sh) with throwaway accounts; alice
#     sends to bob, who stays offline, so every message lands in bob's offline
#     store.  All three clients use STARTTLS on the same port and SCRAM.
#   - Each client first sends one message that must arrive, or its row says
#     why it failed.  These warm-up sends are not timed or counted.
#   - RUNS rounds; each round runs every client once, the starting client
#     rotating from round to round so that drift hits all of them alike.
#   - A run is timed with date +%s%N around the client (wrapped in timeout(1),
#     the same small cost for all).  Times are over the runs that exited 0.
#   - Every run sends a unique text; "delivered" counts the distinct texts of
#     that client found in bob's offline store (polled with a deadline).
#   - Traffic: one more send per client goes through a small TCP relay on
#     127.0.0.1 that counts the bytes each way, the data segments the client
#     sent (tcpi_data_segs_in of the relay's socket) and the round trips: the
#     times the client sent again after data from the server had come in.  A
#     final wait for the server's closing reply is not counted, and server
#     data the client did not wait for (such as TLS session tickets) can add
#     one; take that column as approximate.  The TLS version and SASL
#     mechanism of that connection come from Prosody's debug log.
#   - Certificate checks: xmpctl (--cafile) and sendxmpp (-a) verify the
#     server against the test CA; go-sendxmpp cannot be given a CA file and
#     runs with -n (no verification).
#   - sendxmpp sleeps for 1 s before it logs out (a deliberate "sleep 1" in
#     its xmpp_logout), so about 1000 ms of its time is that pause.

srcdir=$(cd "$(dirname "$0")/.." && pwd)
RUNS=20

usage() {
	echo "usage: $0 [-n RUNS]" >&2
	exit 64
}

die() {
	printf 'send.sh: %s\n' "$*" >&2
	exit 1
}

while getopts n:h opt; do
	case $opt in
	n) RUNS=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# = 0 ] || usage
case $RUNS in
''|*[!0-9]*|0) die "-n wants a positive number, not '$RUNS'" ;;
esac

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
: "${DELIVERY_TIMEOUT:=30}"

CLIENTS='xmpctl go-sendxmpp sendxmpp'

BASE=$(mktemp -d "${TMPDIR:-/tmp}/xmpctl-bench.XXXXXX") ||
	die 'cannot make a temporary directory'
PROSODY_BASEDIR=$BASE/prosody
# shellcheck source=SCRIPTDIR/../integration/prosody.sh
. "$srcdir/integration/poll.sh"
. "$srcdir/integration/prosody.sh"

relay_pid=
cleanup() {
	if [ -n "$relay_pid" ]; then
		kill "$relay_pid" 2>/dev/null
		wait "$relay_pid" 2>/dev/null
		relay_pid=
	fi
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
# 127.0.0.1:PORT; the client's output goes to $BASE/out/last.
send_with() {
	case $1 in
	xmpctl)
		XMPCTL_PASSWORD=$ALICE_PASS timeout -k 5 "$RUN_TIMEOUT" \
			"$XMPCTL" --server "127.0.0.1:$2" --cafile "$TEST_CA" \
			-j alice@example.test send bob@example.test "$3" \
			</dev/null ;;
	go-sendxmpp)
		# the text must come on stdin: a message argument is ignored
		printf '%s\n' "$3" | timeout -k 5 "$RUN_TIMEOUT" \
			go-sendxmpp -n -j "127.0.0.1:$2" \
			-u alice@example.test -p "$ALICE_PASS" bob@example.test ;;
	sendxmpp)
		# -o names the XMPP domain, as -j is only where to connect
		printf '%s\n' "$3" | timeout -k 5 "$RUN_TIMEOUT" \
			sendxmpp -t -a "$TEST_CA" -j "127.0.0.1:$2" -o example.test \
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

# ---- the timed runs -----------------------------------------------------------

echo "timing $RUNS one-shot sends per client:$usable" >&2
round=1
while [ "$round" -le "$RUNS" ]; do
	# rotate the order: round r starts with client number r mod n
	# shellcheck disable=SC2086
	set -- $usable
	shift_by=$(( (round - 1) % nusable ))
	order=
	i=0
	for c; do
		[ "$i" -ge "$shift_by" ] && order="$order $c"
		i=$((i + 1))
	done
	i=0
	for c; do
		[ "$i" -lt "$shift_by" ] && order="$order $c"
		i=$((i + 1))
	done
	for c in $order; do
		t0=$(date +%s%N)
		send_with "$c" "$PROSODY_PORT" "bench-$SALT-$c-$round"
		rc=$?
		t1=$(date +%s%N)
		echo "$(( (t1 - t0) / 1000 )) $rc" >>"$BASE/out/$c.runs"
		if [ "$rc" != 0 ] && [ ! -s "$BASE/out/$c.err" ]; then
			why "$BASE/out/last" >"$BASE/out/$c.err"
		fi
	done
	round=$((round + 1))
done

# Delivery: wait until every run that exited 0 has its text in the store.
for c in $usable; do
	ok=$(awk '$2 == 0' "$BASE/out/$c.runs" | wc -l)
	wait_delivered "bench-$SALT-$c-[0-9]+" "$ok"
done

# ---- traffic of one send, through a counting relay ---------------------------------

cat >"$BASE/relay.py" <<'EOF'
# relay.py LISTEN-PORT-FILE STATS-FILE TARGET-PORT: relay connections to
# 127.0.0.1:TARGET-PORT one at a time; after each, append a line
# "c2s-bytes s2c-bytes c2s-data-segments round-trips" to STATS-FILE.
import os, select, socket, struct, sys

port_file, stats_file, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(4)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.rename(port_file + ".tmp", port_file)

def data_segs_in(sock):
    # struct tcp_info: tcpi_data_segs_in is the u32 at offset 152 (Linux 4.6+)
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
        if len(info) >= 156:
            return struct.unpack_from("I", info, 152)[0]
    except OSError:
        pass
    return -1

while True:
    c, _ = ls.accept()
    s = socket.create_connection(("127.0.0.1", target))
    for x in (c, s):
        x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    peer = {c: s, s: c}
    reading = [c, s]
    c2s = s2c = rtts = 0
    last = None
    while reading:
        r, _, _ = select.select(reading, [], [], 60)
        if not r:
            break
        for x in r:
            try:
                data = x.recv(65536)
            except OSError:
                data = b""
            if not data:
                try:
                    peer[x].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                reading.remove(x)
                continue
            try:
                peer[x].sendall(data)
            except OSError:
                pass
            if x is c:
                c2s += len(data)
                if last == "s":
                    rtts += 1
                last = "c"
            else:
                s2c += len(data)
                last = "s"
    segs = data_segs_in(c)
    c.close()
    s.close()
    with open(stats_file, "a") as f:
        f.write("%d %d %d %d\n" % (c2s, s2c, segs, rtts))
EOF

"$PYTHON" "$BASE/relay.py" "$BASE/relay.port" "$BASE/relay.stats" \
	"$PROSODY_PORT" >"$BASE/relay.log" 2>&1 &
relay_pid=$!
poll_until '[ -s "$BASE/relay.port" ] || ! kill -0 "$relay_pid"' 10
if [ ! -s "$BASE/relay.port" ]; then
	cat "$BASE/relay.log" >&2
	die 'the relay did not start'
fi
relay_port=$(cat "$BASE/relay.port")
: >"$BASE/relay.stats"
n=0
for c in $usable; do
	n=$((n + 1))
	mark=$(wc -c <"$PROSODY_LOG")
	if send_with "$c" "$relay_port" "probe-$SALT-$c"; then
		poll_until '[ "$(wc -l <"$BASE/relay.stats")" -ge "$n" ]' 10
	fi
	# a line per client, even when the send or the relay failed
	while [ "$(wc -l <"$BASE/relay.stats")" -lt "$n" ]; do
		echo "- - - -" >>"$BASE/relay.stats"
	done
	# what was negotiated, from the server's debug log of this connection
	tail -c +"$((mark + 1))" "$PROSODY_LOG" >"$BASE/out/log"
	tls=$(sed -n 's/.*Stream encrypted (\(TLSv[0-9.]*\).*/\1/p' "$BASE/out/log" | head -n 1)
	mech=$(sed -n "s/.*<auth [^>]*mechanism='\([^']*\)'.*/\1/p" "$BASE/out/log" | head -n 1)
	sed -n "${n}s/^/$c /p" "$BASE/relay.stats" |
		sed "s/\$/ ${tls:-?} ${mech:-?}/" >>"$BASE/out/traffic"
done
kill "$relay_pid" 2>/dev/null
wait "$relay_pid" 2>/dev/null
relay_pid=

# ---- report ---------------------------------------------------------------------------

prosody_version=$(timeout 10 "$PROSODYCTL_BIN" --config "$PROSODY_DIR/prosody.cfg.lua" \
	about 2>/dev/null | sed -n '1s/^Prosody //p')
build=
if ldd "$XMPCTL" 2>/dev/null | grep -q 'asan\|ubsan'; then
	build='sanitizer build (ASan/UBSan): times are inflated, use a plain build for numbers'
else
	build='plain build (no sanitizers)'
fi
flags=$(readelf --debug-dump=info "$XMPCTL" 2>/dev/null |
	grep -m1 DW_AT_producer | grep -o -- ' -O[0-9sgz]*\| -fsanitize=[^ ]*' | tr -d '\n')
[ -n "$flags" ] && build="$build, compiled with${flags}"

version_of() {
	case $1 in
	xmpctl) "$XMPCTL" --version 2>/dev/null | head -n 1 ;;
	go-sendxmpp) go-sendxmpp --version 2>/dev/null | head -n 1 ;;
	sendxmpp) sendxmpp --help 2>&1 | sed -n '1s/ version / /p' ;;
	esac
}

echo
printf '%-12s %5s %4s %10s %8s %10s %7s %7s\n' \
	client runs ok delivered 'mean ms' 'median ms' 'p90 ms' 'min ms'
for c in $CLIENTS; do
	status=$(cat "$BASE/out/$c.status")
	if [ -n "$status" ]; then
		printf '%-12s %s\n' "$c" "$status"
		continue
	fi
	got=$(delivered "bench-$SALT-$c-[0-9]+")
	awk -v name="$c" -v got="$got" '
		{ runs++ }
		$2 == 0 { ok++; t[ok] = $1 / 1000 }
		END {
			if (ok == 0) {
				printf "%-12s %5d %4d %10d %8s %10s %7s %7s\n",
					name, runs, 0, got, "-", "-", "-", "-"
				exit
			}
			# insertion sort: ok is small
			for (i = 2; i <= ok; i++) {
				v = t[i]
				for (j = i - 1; j >= 1 && t[j] > v; j--)
					t[j + 1] = t[j]
				t[j + 1] = v
			}
			for (i = 1; i <= ok; i++)
				sum += t[i]
			med = ok % 2 ? t[(ok + 1) / 2] : (t[ok / 2] + t[ok / 2 + 1]) / 2
			p = int(0.9 * ok + 0.999999)	# nearest rank
			if (p < 1) p = 1
			printf "%-12s %5d %4d %10d %8.1f %10.1f %7.1f %7.1f\n",
				name, runs, ok, got, sum / ok, med, t[p], t[1]
		}' "$BASE/out/$c.runs"
done
for c in $usable; do
	if [ -s "$BASE/out/$c.err" ]; then
		echo "$c: a run that failed said: $(cat "$BASE/out/$c.err")"
	fi
done

echo
printf '%-12s %11s %11s %14s %12s  %-7s %s\n' \
	client 'c->s bytes' 's->c bytes' 'c->s data seg' 'round trips' TLS SASL
while read -r c up down segs rtts tls mech; do
	[ "$segs" = -1 ] && segs='?'
	printf '%-12s %11s %11s %14s %12s  %-7s %s\n' \
		"$c" "$up" "$down" "$segs" "$rtts" "$tls" "$mech"
done <"$BASE/out/traffic"
echo "(one send each through a counting relay on 127.0.0.1; see the comment at the top)"

echo
printf 'clients:'
for c in $usable; do
	printf ' %s;' "$(version_of "$c")"
done
echo
echo "machine: $(nproc) CPUs, $(uname -sr), Prosody ${prosody_version:-(unknown version)}"
echo "xmpctl: $XMPCTL, $build"
echo "TLS: STARTTLS for all; go-sendxmpp runs without certificate verification (-n)"
echo "sendxmpp: includes a 1 s sleep of its own before it logs out"
