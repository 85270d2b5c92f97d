# SPDX-License-Identifier: GPL-3.0-or-later
# fake.sh - run the scripted fake server (fakeserver.py) from a test
# (POSIX sh, sourced after lib.sh).
#
#   fake NAME       start it on NAME.script; sets FAKE_PORT
#   run NAME ARGS   xmpctl -v against it (stdout NAME.out, stderr NAME.err);
#                   what the client sent ends up in NAME.sent
command -v "$PYTHON" >/dev/null 2>&1 || skip_all "python3 not found"
FAKE=$TESTS_SRCDIR/hostile/fakeserver.py
fake_pid=
test_atexit '[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null'

# fake NAME: start the fake server on script NAME.script (written by the
# test), wait until it listens, set FAKE_PORT.
fake() {
	rm -f "$1.port" "$1.sent"
	"$PYTHON" "$FAKE" "$1.script" "$1.port" "$1.sent" &
	fake_pid=$!
	wait_for "test -s $1.port" 20 "the fake server to listen" &&
	FAKE_PORT=$(cat "$1.port")
}

# done_fake: the server has served its one connection and exits by itself.
done_fake() {
	wait "$fake_pid" 2>/dev/null
	fake_pid=
}

run() { # run NAME ARGS...: xmpctl against the fake server named NAME
	_name=$1
	shift
	XMPCTL_PASSWORD=secret-password xmpctl -v --timeout 5 \
		--server "127.0.0.1:$FAKE_PORT" -j alice@example.test "$@" \
		>"$_name.out" 2>"$_name.err"
	_rc=$?
	done_fake
	return "$_rc"
}

