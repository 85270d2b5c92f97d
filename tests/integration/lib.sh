# SPDX-License-Identifier: GPL-3.0-or-later
# lib.sh - a small TAP library for the integration tests (POSIX sh).
#
# Sourced by every tests/integration/tNNNN-name.sh:
#
#   . "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
#   test_expect_success 'description' '
#           xmpctl login >out 2>err &&
#           test_grep "^jid  *alice@" out
#   '
#   test_expect_code 64 'no command is a usage error' 'xmpctl'
#   test_done
#
# Test bodies run in the script's own shell (variables they set survive) with
# the scratch directory as the working directory.  Their stdout and stderr are
# captured and shown as "# " lines only when the test fails, together with
# every xmpctl command the test ran, its exit status and its stderr.
#
# Environment (exported by Makefile.am; defaults for running a script by hand
# from the top of the build tree): XMPCTL, TEST_WRAPPER, TESTS_SRCDIR,
# TESTS_BUILDDIR.

# ---- environment ------------------------------------------------------------
: "${TESTS_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TESTS_BUILDDIR:=$(pwd)/tests}"
: "${XMPCTL:=$(pwd)/xmpctl}"
: "${TEST_WRAPPER:=}"
export TESTS_SRCDIR TESTS_BUILDDIR XMPCTL TEST_WRAPPER

# Upper bound for one xmpctl run, so that a hang fails the test instead of
# hanging the suite (valgrind is slow, hence generous).
: "${XMPCTL_TEST_TIMEOUT:=60}"
# Default deadline of wait_for, in seconds.
: "${TEST_WAIT_TIMEOUT:=20}"

. "$TESTS_SRCDIR/integration/poll.sh"

TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$TESTS_BUILDDIR/tmp/$TEST_NAME
rm -rf "$TEST_TMP" && mkdir -p "$TEST_TMP/home" || {
	echo "Bail out! cannot create scratch directory $TEST_TMP"
	exit 1
}
TEST_TMP=$(cd "$TEST_TMP" && pwd)
export TEST_TMP
cd "$TEST_TMP" || exit 1

# The servers tests/lab.sh fetched (server.sh) stay where the real user's
# cache is.
: "${XMPCTL_LAB_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/xmpctl-lab}"
export XMPCTL_LAB_DIR

# Never read the real user's configuration, password or terminal settings.
HOME=$TEST_TMP/home
XDG_CONFIG_HOME=$TEST_TMP/home/.config
# nor what it recorded (known_servers, channel_binding, history)
XDG_DATA_HOME=$TEST_TMP/home/.local/share
XDG_STATE_HOME=$TEST_TMP/home/.local/state
XDG_CACHE_HOME=$TEST_TMP/home/.cache
export HOME XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME XDG_CACHE_HOME
unset XMPCTL_PASSWORD XMPCTL_DNS_SERVER XDG_RUNTIME_DIR
unset ALL_PROXY all_proxy NO_PROXY no_proxy
LC_ALL=C
export LC_ALL

PYTHON=python3

# bg_start NAME USER ARGS...: USER's xmpctl ARGS in the background (as
# defines USER), stdin from /dev/null, output in NAME.out and NAME.err, PID
# in NAME.pid, exit status in NAME.rc
bg_start() {
	_st=$1
	_su=$2
	shift 2
	rm -f "$_st.rc" "$_st.pid" "$_st.out" "$_st.err"
	{ XMPCTL_PIDFILE=$_st.pid as "$_su" "$@" </dev/null >"$_st.out" 2>"$_st.err"
	  echo $? >"$_st.rc"; } &
	wait_for "test -s $_st.pid" 20 "$_st to start"
}
# bg_stop NAME: SIGTERM to NAME; wait for it to end; it must exit 0
bg_stop() {
	kill -TERM "$(cat "$1.pid")" &&
	wait_for "test -s $1.rc" 20 "$1 to end" &&
	test "$(cat "$1.rc")" = 0
}
# bg_kill_all: SIGTERM to every bg_start process of this directory that
# has not ended (its .rc not written yet): for test_atexit and
# test_on_failure, so that a failed test leaves nothing running
bg_kill_all() {
	for _p in *.pid; do
		[ -f "$_p" ] && [ ! -s "${_p%.pid}.rc" ] && kill "$(cat "$_p")"
	done
	return 0
}
# pin_of CERT: the --pin form (curl's --pinnedpubkey) of the certificate's
# key
pin_of() {
	printf 'sha256//%s\n' "$(openssl x509 -in "$1" -pubkey -noout |
		openssl pkey -pubin -outform der | openssl dgst -sha256 -binary |
		openssl base64 -A)"
}

# has_tls13: the xmpctl under test speaks TLS 1.3 (its --version says so:
# that depends on the TLS library it was built with)
has_tls13() {
	# shellcheck disable=SC2086 # TEST_WRAPPER is a command line
	$TEST_WRAPPER "$XMPCTL" --version 2>/dev/null | grep -qx 'TLS 1.3: yes'
}

# dns RECORD...: (re)start the fake DNS server (fakedns.py) with these SRV
# records, and point XMPCTL_DNS_SERVER, the hook of the test build
# ($XMPCTL_TESTHOOKS), at it; the queries it gets go to dns.port.queries
dns_pid=
dns() {
	if [ -n "$dns_pid" ]; then
		kill "$dns_pid" 2>/dev/null && wait "$dns_pid" 2>/dev/null
	else
		test_atexit '[ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null'
	fi
	rm -f dns.port dns.port.queries
	"$PYTHON" "$TESTS_SRCDIR/integration/fakedns.py" dns.port "$@" &
	dns_pid=$!
	wait_for "test -s dns.port" 20 "the fake DNS server" &&
	XMPCTL_DNS_SERVER=127.0.0.1:$(cat dns.port) &&
	export XMPCTL_DNS_SERVER
}

# scripted NAME: the scansion script tests/scripts/NAME.scs with the test
# passwords (made up when the server starts) filled in for @ALICE_PASS@
# and so on, as NAME.scs here
scripted() {
	sed -e "s/@ALICE_PASS@/$ALICE_PASS/" -e "s/@BOB_PASS@/$BOB_PASS/" \
		-e "s/@CAROL_PASS@/$CAROL_PASS/" "$TESTS_SRCDIR/scripts/$1.scs" >"$1.scs"
}
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3

test_count=0
test_failures=0
_atexit=
_on_begin=
_on_failure=
_xmpctl_n=0

# relay_start PORT: a relay (holdproxy.py) in front of 127.0.0.1:PORT that
# passes connections at once; ": >proxy.drop" breaks every open one.  Its
# port is in proxy.port; it is stopped when the script ends.  (Its PID is
# taken from inside: $! would be a subshell of this shell, which runs
# traps.)
relay_start() {
	: >proxy.release &&
	{ sh -c 'echo $$ >proxy.pid && exec "$@"' sh "$PYTHON" \
		"$TESTS_SRCDIR/integration/holdproxy.py" proxy.port "$1" \
		proxy.release proxy.drop >proxy.log 2>proxy.err & } &&
	wait_for "test -s proxy.port && test -s proxy.pid" 20 "the relay to listen" &&
	test_atexit "kill $(cat proxy.pid) 2>/dev/null"
}

# ---- exit and failure hooks -------------------------------------------------

# test_atexit CMD: run CMD when the script exits, even on failure or signal
# (last registered runs first).
test_atexit() {
	_atexit="$1
$_atexit"
}

# test_on_begin CMD: run CMD before each test.
test_on_begin() {
	_on_begin="$_on_begin
$1"
}

# test_on_failure CMD: run CMD after a failing test; what it prints to stdout
# is shown as diagnostics.
test_on_failure() {
	_on_failure="$_on_failure
$1"
}

_run_atexit() {
	_ra=$_atexit
	_atexit=
	eval "$_ra" >/dev/null 2>&1
}

trap '_rc=$?; _run_atexit; exit $_rc' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

# ---- output -------------------------------------------------------------------

# Control characters (but tab) become "?": diagnostics quote what servers and
# the program under test said, and must not drive the terminal.
_sanitize() {
	tr '\000-\010\013-\037\177' '????????????????????????????????'
}

# diag TEXT...: print each argument as a TAP diagnostic line.
diag() {
	for _d; do
		printf '%s\n' "$_d" | _sanitize | sed 's/^/# /'
	done
}

# diag_file FILE [LINES]: print the last LINES (default 40) lines of FILE as
# diagnostics.
diag_file() {
	if [ -s "$1" ]; then
		tail -n "${2:-40}" "$1" | _sanitize | sed 's/^/#   /'
	else
		echo "#   (empty)"
	fi
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

bail_out() {
	echo "Bail out! $*"
	exit 1
}

# ---- running xmpctl -----------------------------------------------------------

# xmpctl ARGS...: run the binary under test through $TEST_WRAPPER, without a
# controlling terminal (so that nothing can block on a password prompt) and
# with an upper bound on its run time.  Every run is logged for diagnostics.
# With XMPCTL_PIDFILE set, the PID of the xmpctl process is written there
# as soon as it starts (for tests that send it signals).  Each run has a
# login cache of its own, and finds no TLS ticket or FAST token of an
# earlier run in the data home, so a run never depends on what an earlier one learnt, unless
# XMPCTL_TEST_CACHE names a cache directory for all of them,
# XMPCTL_TEST_TICKETS=keep keeps the tickets, and XMPCTL_TEST_FAST=keep the
# FAST tokens.
xmpctl() {
	_xmpctl_n=$((_xmpctl_n + 1))
	_xe=$TEST_TMP/.xmpctl.$_xmpctl_n.err
	# (a counter would not do: runs in subshells share numbers)
	_xc=${XMPCTL_TEST_CACHE:-$(mktemp -d "$TEST_TMP/.cache.XXXXXX")}
	[ "${XMPCTL_TEST_TICKETS:-}" = keep ] ||
		rm -rf "${XDG_DATA_HOME:-$HOME/.local/share}/xmpctl/tls"
	# (the tokens only: a running client's user-agent lock stays held)
	[ "${XMPCTL_TEST_FAST:-}" = keep ] ||
		find "${XDG_DATA_HOME:-$HOME/.local/share}/xmpctl/fast" -type f \
			! -name "*#lock" -exec rm -f {} + 2>/dev/null
	printf '$ xmpctl' >>"$TEST_TMP/.xmpctl.log"
	printf ' %s' "$@" >>"$TEST_TMP/.xmpctl.log"
	printf '\n' >>"$TEST_TMP/.xmpctl.log"
	# shellcheck disable=SC2086 # TEST_WRAPPER is a command line
	if [ -n "${XMPCTL_PIDFILE:-}" ]; then
		# the process that becomes xmpctl writes its PID, for signals
		XDG_CACHE_HOME=$_xc \
		$_setsid timeout -k 5 "$XMPCTL_TEST_TIMEOUT" \
			sh -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
			"$XMPCTL_PIDFILE" $TEST_WRAPPER "$XMPCTL" "$@" 2>"$_xe"
	else
		XDG_CACHE_HOME=$_xc \
		$_setsid timeout -k 5 "$XMPCTL_TEST_TIMEOUT" \
			$TEST_WRAPPER "$XMPCTL" "$@" 2>"$_xe"
	fi
	_xrc=$?
	cat "$_xe" >&2
	{
		[ "$_xrc" = 124 ] &&
			echo "timed out after $XMPCTL_TEST_TIMEOUT s"
		echo "exit status $_xrc; stderr:"
		sed -n '1,30s/^/  /p' "$_xe"
		[ "$(wc -l <"$_xe")" -gt 30 ] && echo '  ...'
	} >>"$TEST_TMP/.xmpctl.log"
	return "$_xrc"
}
_setsid=
command -v setsid >/dev/null 2>&1 && _setsid='setsid -w'

# ---- assertions (for use inside test bodies) -----------------------------------
# Their complaints go to a file of their own (shown when the test fails), so
# that redirections in the test body cannot swallow them.

# say TEXT...: a line for the diagnostics of the current test.
say() {
	printf '%s\n' "$*" >>"$TEST_TMP/.diag"
}

# expect_exit N CMD [ARGS...]: run CMD; succeed only if its exit status is N.
expect_exit() {
	_want=$1
	shift
	"$@"
	_got=$?
	if [ "$_got" != "$_want" ]; then
		say "expected exit status $_want, got $_got from: $*"
		return 1
	fi
	return 0
}

# test_cmp EXPECTED ACTUAL: compare two files; show a diff when they differ.
test_cmp() {
	if cmp -s "$1" "$2"; then
		return 0
	fi
	{
		echo "files differ: $1 (expected) and $2 (actual)"
		diff -u "$1" "$2"
		if [ "$(wc -c <"$1")" -lt 400 ] && [ "$(wc -c <"$2")" -lt 400 ]; then
			echo "expected bytes:"; od -c "$1" | sed 's/^/  /'
			echo "actual bytes:"; od -c "$2" | sed 's/^/  /'
		fi
	} >>"$TEST_TMP/.diag" 2>&1
	return 1
}

# test_must_be_empty FILE: succeed if FILE exists and is empty.
test_must_be_empty() {
	if [ ! -f "$1" ]; then
		say "test_must_be_empty: no such file: $1"
		return 1
	fi
	if [ -s "$1" ]; then
		say "'$1' is not empty:"
		sed -n '1,40s/^/  /p' "$1" >>"$TEST_TMP/.diag"
		return 1
	fi
}

# test_grep [!] [GREP-OPTIONS] PATTERN FILE: succeed if PATTERN matches (or,
# with !, does not match) a line of FILE.  The file, or the lines that
# matched, are shown when the test fails; "! test_grep" works too, since the
# matching lines are recorded either way.
test_grep() {
	_neg=
	if [ "$1" = '!' ]; then
		_neg=1
		shift
	fi
	if [ $# -lt 2 ]; then
		say "test_grep: need a pattern and a file"
		return 2
	fi
	eval "_file=\${$#}"
	if [ ! -f "$_file" ]; then
		say "test_grep: no such file: $_file"
		return 2
	fi
	if grep "$@" >"$TEST_TMP/.grep" 2>&1; then
		say "test_grep: '$(_args_but_last "$@")' matched in $_file:"
		sed -n '1,10s/^/  /p' "$TEST_TMP/.grep" >>"$TEST_TMP/.diag"
		[ -z "$_neg" ]
	else
		say "test_grep: no match for '$(_args_but_last "$@")' in $_file:"
		sed -n '1,60s/^/  /p' "$_file" >>"$TEST_TMP/.diag"
		[ "$(wc -l <"$_file")" -gt 60 ] && say '  ...'
		[ -n "$_neg" ]
	fi
}

_args_but_last() {
	_abl=
	while [ $# -gt 1 ]; do
		_abl="$_abl $1"
		shift
	done
	printf '%s' "${_abl# }"
}

# wait_for CONDITION [TIMEOUT [WHAT]]: poll_until CONDITION succeeds; fail
# with a message if TIMEOUT seconds (default $TEST_WAIT_TIMEOUT) pass first.
wait_for() {
	poll_until "$1" "${2:-$TEST_WAIT_TIMEOUT}" && return 0
	say "timed out after ${2:-$TEST_WAIT_TIMEOUT} s waiting for ${3:-$1}"
	return 1
}

# json_get FILE EXPR: evaluate a Python expression over each JSON line
# (as "o") of FILE and print the results; fails if a line is not JSON.
json_get() {
	"$PYTHON" -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    print(eval(sys.argv[2]))
' "$1" "$2"
}

# roster_item FILE JID EXPR: EXPR (Python, over the item as "o") for the
# roster-item line of FILE whose jid is JID; "ABSENT" if there is none.
# Every line of FILE must be JSON, or this fails.
roster_item() {
	"$PYTHON" -c '
import json, sys
found = None
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    assert o["kind"] == "roster-item", o
    if o["jid"] == sys.argv[2]:
        assert found is None, "two items for " + sys.argv[2]
        found = o
if found is None:
    print("ABSENT")
else:
    o = found
    print(eval(sys.argv[3]))
' "$1" "$2" "$3"
}

# ---- test cases ------------------------------------------------------------------

_test_begin() {
	test_count=$((test_count + 1))
	: >"$TEST_TMP/.xmpctl.log"
	: >"$TEST_TMP/.diag"
	_xmpctl_n=0
	if [ -n "$_on_begin" ]; then
		eval "$_on_begin" >/dev/null 2>&1
	fi
}

_test_ok() {
	echo "ok $test_count - $1"
}

_test_not_ok() {
	test_failures=$((test_failures + 1))
	echo "not ok $test_count - $1"
	shift
	diag "$@"
	if [ -s "$TEST_TMP/.diag" ]; then
		diag_file "$TEST_TMP/.diag" 120
	fi
	if [ -s "$TEST_TMP/.out" ]; then
		echo "# output:"
		diag_file "$TEST_TMP/.out" 60
	fi
	if [ -s "$TEST_TMP/.xmpctl.log" ]; then
		echo "# xmpctl runs:"
		diag_file "$TEST_TMP/.xmpctl.log" 80
	fi
	if [ -n "$_on_failure" ]; then
		eval "$_on_failure" 2>&1 | _sanitize | sed 's/^/# /'
	fi
}

# test_expect_success DESCRIPTION BODY
test_expect_success() {
	_test_begin
	{ eval "$2"; } >"$TEST_TMP/.out" 2>&1 </dev/null
	_rc=$?
	if [ "$_rc" = 0 ]; then
		_test_ok "$1"
	else
		_test_not_ok "$1" "failed (status $_rc):" "$2"
	fi
}

# test_expect_code N DESCRIPTION COMMAND: passes if COMMAND exits with status
# exactly N.  Its stdout and stderr are left in $TEST_TMP/stdout and
# $TEST_TMP/stderr for later tests.
test_expect_code() {
	_test_begin
	{ eval "$3"; } >"$TEST_TMP/stdout" 2>"$TEST_TMP/stderr" </dev/null
	_rc=$?
	: >"$TEST_TMP/.out"
	if [ "$_rc" = "$1" ]; then
		_test_ok "$2"
	else
		_test_not_ok "$2" "command: $3" "expected exit status $1, got $_rc" \
			"stdout:" "$(sed -n '1,20s/^/  /p' "$TEST_TMP/stdout")" \
			"stderr:" "$(sed -n '1,20s/^/  /p' "$TEST_TMP/stderr")"
	fi
}

# test_skip DESCRIPTION REASON: report a test case as skipped.
test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # SKIP $2"
}

# test_done: print the plan; exit 0 if every test passed, else 1.
# ---- no secret in any output -----------------------------------------------------
# Every run of xmpctl through the function above leaves its stderr (errors,
# warnings, the -v trace) in .xmpctl.N.err, and tests name what they capture
# from stdout and stderr out*, err*, trace*, *.out or *.err.  test_done
# greps all of these for the test passwords (pki.sh's, and any a script
# adds to TEST_SECRETS) and fails the script as one more test if one
# appears.  Each script checks its own scratch directory when it ends, so
# the check covers the whole suite whatever order or parallelism make
# check uses.  Files a test writes a password into on purpose (password
# files, configurations, what a fake server received) have other names
# and are not read; nor is .xmpctl.log, which records the test's own
# command lines.
_secret_leaks() {
	for _sl_secret in ${ALICE_PASS:-} ${BOB_PASS:-} ${CAROL_PASS:-} \
		${TEST_SECRETS:-}; do
		find "$TEST_TMP" -type f \( -name '.xmpctl.*.err' -o -name 'out*' \
			-o -name 'err*' -o -name 'trace*' -o -name '*.out' \
			-o -name '*.err' \) -exec grep -l -F -e "$_sl_secret" {} + \
			2>/dev/null | sed "s|^$TEST_TMP/||"
	done | sort -u
}

test_done() {
	if [ -n "${ALICE_PASS:-}${TEST_SECRETS:-}" ]; then
		test_count=$((test_count + 1))
		_sl_files=$(_secret_leaks)
		if [ -z "$_sl_files" ]; then
			_test_ok "no test password in any output of this script"
		else
			_test_not_ok "no test password in any output of this script" \
				"a test password appears in:" $_sl_files
		fi
	fi
	echo "1..$test_count"
	if [ "$test_failures" -gt 0 ]; then
		echo "# failed $test_failures of $test_count tests"
		exit 1
	fi
	exit 0
}
