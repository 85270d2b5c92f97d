#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# session.sh - one-shot send versus send through a session holder
# (xmpctl session start), against the same private Prosody on 127.0.0.1,
# in one run: N sends each way, wall time per send from fork to exit,
# median and 90th percentile.
#
# A one-shot send pays for TCP, STARTTLS, SASL (SCRAM with channel
# binding), bind and the close; through the holder it connects to a unix
# socket, binds, sends and waits for the server's acknowledgement relayed
# by the holder.  Both wait for that acknowledgement before exiting 0, so
# the two columns measure the same promise.
#
#   tests/bench/session.sh [-n RUNS]      (XMPCTL=path/to/xmpctl)

srcdir=$(cd "$(dirname "$0")/.." && pwd)
. "$srcdir/bench/common.sh"
bench_args 50 "$@"

XMPCTL=${XMPCTL:-./xmpctl}
case $XMPCTL in
/*) ;;
*) XMPCTL=$(pwd)/$XMPCTL ;;
esac
[ -x "$XMPCTL" ] || die "no xmpctl binary at $XMPCTL (build it, or set XMPCTL)"

PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3

BASE=$(mktemp -d "${TMPDIR:-/tmp}/xmpctl-bs.XXXXXX") ||
	die 'cannot make a temporary directory'
PROSODY_BASEDIR=$BASE/prosody
. "$srcdir/integration/poll.sh"
. "$srcdir/integration/prosody.sh"

cleanup() {
	[ -n "${XDG_RUNTIME_DIR:-}" ] &&
		XMPCTL_PASSWORD=$ALICE_PASS "$XMPCTL" -j alice@example.test \
			session stop >/dev/null 2>&1
	prosody_stop_all
	rm -rf "$BASE"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

prosody_require || exit 1
mkdir -p "$BASE/home" "$BASE/run" && chmod 700 "$BASE/run" || exit 1
HOME=$BASE/home
XDG_CONFIG_HOME=$BASE/home/.config
XDG_RUNTIME_DIR=$BASE/run
export HOME XDG_CONFIG_HOME XDG_RUNTIME_DIR
unset XMPCTL_PASSWORD XMPCTL_DNS_SERVER
LC_ALL=C
export LC_ALL

prosody_start bench || die 'Prosody did not start'
XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD

set -- "$XMPCTL" --server "127.0.0.1:$PROSODY_PORT" --cafile "$TEST_CA" \
	-j alice@example.test

"$PYTHON" - "$RUNS" "$@" <<'PY' || exit 1
import subprocess, sys, time

runs = int(sys.argv[1])
base = sys.argv[2:]

def timed(extra, label):
    times = []
    for i in range(runs):
        t = time.monotonic()
        r = subprocess.run(base + extra + ["send", "bob@example.test",
                                           "%s %d" % (label, i)],
                           stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append((time.monotonic() - t) * 1000)
        if r.returncode != 0:
            sys.exit("%s: exit status %d: %s" % (label, r.returncode,
                                                 r.stderr.decode()[:200]))
    times.sort()
    return times

def q(t, p):
    return t[min(len(t) - 1, int(round(p * (len(t) - 1))))]

# what any run of the binary costs here: loading it and its libraries
start = []
for i in range(runs):
    t = time.monotonic()
    subprocess.run([base[0], "--version"], stdout=subprocess.DEVNULL)
    start.append((time.monotonic() - t) * 1000)
start.sort()
one = timed(["--no-session"], "one-shot")
r = subprocess.run(base + ["session", "start"], stdin=subprocess.DEVNULL,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
if r.returncode != 0:
    sys.exit("session start: exit status %d: %s" % (r.returncode,
                                                   r.stderr.decode()))
held = timed([], "held")
print("%-28s %6s %10s %10s" % ("send to bob, loopback", "runs",
                               "median ms", "p90 ms"))
for name, t in (("xmpctl --version (baseline)", start),
                ("one-shot (--no-session)", one),
                ("through the holder", held)):
    print("%-28s %6d %10.1f %10.1f" % (name, len(t), q(t, 0.5), q(t, 0.9)))
PY
