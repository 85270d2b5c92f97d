#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# login.sh - what a repeat login costs now that no key derived from the
# password is cached: xmpctl login, N times each, against one private
# Prosody on 127.0.0.1, and a table of medians.  Not part of "make check".
#
# Usage: tests/bench/login.sh [-n RUNS]      (default 20 runs a row)
#
# xmpctl comes from $XMPCTL, else ./xmpctl.  XMPCTL_BASELINE may name
# another build (for example of a version whose cache kept the SCRAM
# salted password, so that it skipped PBKDF2 on a repeat login): it gets
# rows of its own in the same run, against the same server.
#
# Method
#   - One Prosody (tests/integration/prosody.sh), SCRAM-SHA-1 at its
#     iteration count (Prosody 0.12: 10000; printed in the table's title).
#   - Rows per binary: "warm" (one login before the timed runs fills the
#     cache, which is kept) and "--no-cache".
#   - Wall and CPU (user + system, from getrusage of the child, in
#     microseconds) of each run; medians and the 90th percentile of wall.
#     Both move with the machine's load; the instructions of one more
#     login under valgrind's callgrind (when valgrind is there) do not.
#   - "PBKDF2" is the derivation alone, as Python's hashlib does it at the
#     same iteration count: what a cached salted password saved at most.
#   - The machine's other load shows in the figures: run it on a quiet one.

srcdir=$(cd "$(dirname "$0")/.." && pwd)
. "$srcdir/bench/common.sh"
bench_args 20 "$@"

abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
XMPCTL=$(abs "${XMPCTL:-./xmpctl}")
[ -x "$XMPCTL" ] || die "no xmpctl binary at $XMPCTL (build it, or set XMPCTL)"
BASELINE=
if [ -n "${XMPCTL_BASELINE:-}" ]; then
	BASELINE=$(abs "$XMPCTL_BASELINE")
	[ -x "$BASELINE" ] || die "no xmpctl binary at $BASELINE"
fi
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3

BASE=$(mktemp -d "${TMPDIR:-/tmp}/xmpctl-bench.XXXXXX") ||
	die 'cannot make a temporary directory'
PROSODY_BASEDIR=$BASE/prosody
. "$srcdir/integration/poll.sh"
. "$srcdir/integration/prosody.sh"
trap 'rc=$?; prosody_stop_all; rm -rf "$BASE"; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

prosody_require || exit 1
mkdir -p "$BASE/home" || exit 1
HOME=$BASE/home
XDG_CONFIG_HOME=$BASE/home/.config
XDG_DATA_HOME=$BASE/home/.local/share
export HOME XDG_CONFIG_HOME XDG_DATA_HOME
unset XMPCTL_PASSWORD XMPCTL_DNS_SERVER XDG_RUNTIME_DIR
LC_ALL=C
export LC_ALL
prosody_start bench >/dev/null 2>&1 || die 'Prosody did not start'

set -- $($PYTHON "$srcdir/integration/scramsalt.py" "$PROSODY_PORT" \
	"$TEST_CA" alice example.test) || die 'no SCRAM challenge from Prosody'
SALT=$1 ITER=$2

# row LABEL BINARY CACHE-ARGS: RUNS timed logins; prints the row
row() {
	_cache=$BASE/cache-$(echo "$1" | tr -c 'a-z0-9\n' -)
	rm -rf "$_cache"
	XDG_CACHE_HOME=$_cache XMPCTL_PASSWORD=$ALICE_PASS \
	$PYTHON - "$1" "$RUNS" "$2" --server "127.0.0.1:$PROSODY_PORT" \
		--cafile "$TEST_CA" -j alice@example.test $3 login <<-"EOF"
	import os, re, resource, statistics, subprocess, sys, time
	label, runs, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
	def once():
	    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
	    t0 = time.monotonic()
	    rc = subprocess.call(argv, stdout=subprocess.DEVNULL,
	                         stderr=subprocess.DEVNULL)
	    wall = (time.monotonic() - t0) * 1000
	    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
	    cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000
	    return rc, wall, cpu
	if once()[0] != 0:
	    print("| %s | login failed | | | | |" % label)
	    sys.exit(0)
	walls, cpus = [], []
	for _ in range(runs):
	    rc, wall, cpu = once()
	    if rc == 0:
	        walls.append(wall)
	        cpus.append(cpu)
	walls.sort()
	p90 = walls[min(len(walls) - 1, int(len(walls) * 0.9))]
	# instructions of one more login: repeatable where time is not
	ir = ""
	try:
	    vg = subprocess.run(["valgrind", "--tool=callgrind",
	                         "--callgrind-out-file=/dev/null"] + argv,
	                        stdout=subprocess.DEVNULL,
	                        stderr=subprocess.PIPE, text=True)
	    m = re.search(r"Collected : (\d+)", vg.stderr)
	    ir = "%.1f" % (int(m.group(1)) / 1e6) if vg.returncode == 0 and m else ""
	except OSError:
	    pass
	print("| %s | %.1f | %.1f | %.1f | %s | %d/%d |" % (
	    label, statistics.median(walls), p90, statistics.median(cpus), ir,
	    len(walls), runs))
	EOF
}

printf '\nRepeat login, Prosody on loopback, SCRAM-SHA-1 at %s iterations; %s runs a row\n\n' "$ITER" "$RUNS"
echo '| build, cache | wall ms (median) | wall ms (p90) | CPU ms (median) | M instructions | ok |'
echo '|---|---|---|---|---|---|'
row "this build, warm cache" "$XMPCTL" ""
row "this build, --no-cache" "$XMPCTL" "--no-cache"
if [ -n "$BASELINE" ]; then
	row "baseline, warm cache" "$BASELINE" ""
	row "baseline, --no-cache" "$BASELINE" "--no-cache"
fi
ALICE_PASS=$ALICE_PASS $PYTHON - "$SALT" "$ITER" "$RUNS" <<-"EOF"
import base64, hashlib, os, statistics, sys, time
salt, iters, runs = base64.b64decode(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ts = []
for _ in range(runs):
    t0 = time.process_time()
    hashlib.pbkdf2_hmac("sha1", os.environ["ALICE_PASS"].encode(), salt, iters)
    ts.append((time.process_time() - t0) * 1000)
print("| PBKDF2-HMAC-SHA1 alone (hashlib) | | | %.1f | | %d/%d |" %
      (statistics.median(ts), runs, runs))
EOF
