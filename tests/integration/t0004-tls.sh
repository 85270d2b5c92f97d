#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0004-tls.sh - certificate verification, --insecure, unreachable and silent
# servers.  Whenever verification fails, no SASL byte may have been sent.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

prosody_require

# Prosody serving a certificate for wrong.test (signed by the test CA) as
# example.test.
prosody_start wrongname wrong-name || bail_out 'cannot start Prosody (wrong name)'
BAD_PORT=$PROSODY_PORT
BAD_TLS_PORT=$PROSODY_TLS_PORT
# and a correctly configured one
prosody_start good || bail_out 'cannot start Prosody'
GOOD_PORT=$PROSODY_PORT

XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD

# as_alice SERVER-PORT ARGS...
as_alice() {
	_port=$1
	shift
	xmpctl --server "127.0.0.1:$_port" -j alice@example.test "$@"
}

# A TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	"$PYTHON" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
'
}

# A listener that accepts connections and never says a word (it gives up by
# itself after two minutes, should it ever outlive this script).
silent_pid=
silent_start() {
	rm -f silent.port
	"$PYTHON" -c '
import os, signal, socket, sys
signal.alarm(120)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
' "$TEST_TMP/silent.port" &
	silent_pid=$!
	wait_for 'test -s silent.port' 10 'the silent listener to start' &&
	SILENT_PORT=$(cat silent.port)
}
silent_stop() {
	if [ -n "$silent_pid" ]; then
		kill "$silent_pid" 2>/dev/null
		wait "$silent_pid" 2>/dev/null
		silent_pid=
	fi
	return 0
}
test_atexit silent_stop
silent_start || bail_out 'cannot start the silent listener'

# ---- a certificate for another name ---------------------------------------------

test_expect_success 'a certificate for another name is refused (79)' '
	expect_exit 79 as_alice "$BAD_PORT" --cafile "$TEST_CA" login >out 2>err &&
	test_grep "^xmpctl: .*example\.test" err &&
	test_must_be_empty out
'

test_expect_success '... and no SASL byte was sent' '
	expect_exit 79 as_alice "$BAD_PORT" --cafile "$TEST_CA" -v login 2>trace &&
	test_grep "<starttls" trace &&
	test_grep ! "<auth" trace &&
	test_grep ! -F "$ALICE_PASS" trace
'

test_expect_success 'the same with direct TLS (79, no <auth)' '
	expect_exit 79 xmpctl --server "127.0.0.1:$BAD_TLS_PORT" --direct-tls \
		--cafile "$TEST_CA" -j alice@example.test -v login 2>trace-d &&
	test_grep "example\.test" trace-d &&
	test_grep ! "<auth" trace-d
'

# ---- an untrusted CA -----------------------------------------------------------------

test_expect_success 'a certificate from a CA not in --cafile is refused (79)' '
	expect_exit 79 as_alice "$GOOD_PORT" --cafile "$OTHER_CA" -v login \
		>out-other 2>trace-other &&
	test_grep "^xmpctl: .*example\.test" trace-other &&
	test_grep "<starttls" trace-other &&
	test_grep ! "<auth" trace-other &&
	test_must_be_empty out-other
'

test_expect_success 'the system CA bundle does not trust the test CA (79)' '
	expect_exit 79 as_alice "$GOOD_PORT" -v login 2>trace-sys &&
	test_grep ! "<auth" trace-sys
'

test_expect_success '--cafile= with the right CA is accepted' '
	as_alice "$GOOD_PORT" --cafile="$TEST_CA" login >out-good &&
	test_grep "^certificate .*verified for example\.test\$" out-good
'

# ---- --insecure ----------------------------------------------------------------------

test_expect_success '--insecure accepts the wrong name, with a warning' '
	as_alice "$BAD_PORT" --insecure login >out-ins 2>err-ins &&
	test_grep "^jid  *alice@example\.test/." out-ins &&
	test_grep -i "insecure" err-ins
'

test_expect_success '--insecure: the certificate line does not claim verification' '
	test_grep "^certificate " out-ins &&
	test_grep ! "^certificate .*; verified for" out-ins
'

test_expect_success '--insecure warns on every run, even when all is well' '
	as_alice "$GOOD_PORT" --insecure --cafile "$TEST_CA" login >out-ins2 2>err-ins2 &&
	test_grep "^jid  *alice@example\.test/." out-ins2 &&
	test_grep -i "insecure" err-ins2
'

# ---- unreachable and silent servers --------------------------------------------------

test_expect_success 'a port nobody listens on exits 69' '
	port=$(free_port) &&
	expect_exit 69 as_alice "$port" --cafile "$TEST_CA" login 2>err-refused &&
	test_grep "^xmpctl: " err-refused
'

test_expect_success '--timeout 2 gives up on a silent server (75) in time' '
	test -n "$SILENT_PORT" &&
	start=$(date +%s) &&
	expect_exit 75 as_alice "$SILENT_PORT" --cafile "$TEST_CA" --timeout 2 \
		-v login 2>trace-silent &&
	end=$(date +%s) &&
	echo "took $((end - start)) s" &&
	test $((end - start)) -ge 1 &&
	test $((end - start)) -le 15 &&
	test_grep ! "<auth" trace-silent
'

test_expect_success '--timeout=2 with --direct-tls: a silent TLS handshake (75)' '
	test -n "$SILENT_PORT" &&
	start=$(date +%s) &&
	expect_exit 75 xmpctl --server "127.0.0.1:$SILENT_PORT" --direct-tls \
		--cafile "$TEST_CA" -j alice@example.test --timeout=2 login &&
	end=$(date +%s) &&
	echo "took $((end - start)) s" &&
	test $((end - start)) -le 15
'

test_done
