#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0007-srv.sh - finding the server through DNS SRV records (RFC 6120 §3.2,
# XEP-0368), answered by a fake DNS server on loopback; the certificate is
# checked against the XMPP domain, never against the SRV target.  SRV
# targets are "localhost" (from /etc/hosts), so no query leaves loopback.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

# The installed xmpctl has no DNS test hook: use the build that has it.
XMPCTL=${XMPCTL_TESTHOOKS:-$TESTS_BUILDDIR/integration/xmpctl-testhooks}
prosody_require
prosody_start >/dev/null 2>&1 || bail_out 'cannot start Prosody'
XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD

holes_pid=
test_atexit '[ -n "$holes_pid" ] && kill "$holes_pid" 2>/dev/null'

test_expect_success 'an _xmpp-client SRV record leads to the server' '
	dns "_xmpp-client._tcp.example.test=5:0:$PROSODY_PORT:localhost" &&
	xmpctl -j alice@example.test --cafile "$TEST_CA" login >out &&
	test_grep "^server  *localhost port $PROSODY_PORT (SRV _xmpp-client._tcp)\$" out &&
	test_grep "(STARTTLS)\$" out
'

test_expect_success '... and the certificate was checked for example.test, not localhost' '
	test_grep "^certificate .*verified for example\.test\$" out
'

test_expect_success 'records are tried in priority order, past a dead one' '
	dead=$("$PYTHON" -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	dns "_xmpp-client._tcp.example.test=1:0:$dead:localhost" \
	    "_xmpp-client._tcp.example.test=9:0:$PROSODY_PORT:localhost" &&
	xmpctl -j alice@example.test --cafile "$TEST_CA" login >out-order &&
	test_grep "^server  *localhost port $PROSODY_PORT " out-order
'

test_expect_success 'an _xmpps-client record at a better priority means direct TLS (XEP-0368)' '
	dns "_xmpps-client._tcp.example.test=1:0:$PROSODY_TLS_PORT:localhost" \
	    "_xmpp-client._tcp.example.test=5:0:$PROSODY_PORT:localhost" &&
	xmpctl -j alice@example.test --cafile "$TEST_CA" login >out-tls &&
	test_grep "^server  *localhost port $PROSODY_TLS_PORT (SRV _xmpps-client._tcp)\$" out-tls &&
	test_grep "(direct TLS)\$" out-tls
'

test_expect_success 'a "." target: the service is decidedly not offered (68)' '
	dns "_xmpp-client._tcp.example.test=0:0:0:." &&
	expect_exit 68 xmpctl -j alice@example.test --cafile "$TEST_CA" login 2>err-dot &&
	test_grep "not available" err-dot
'

# Outer bound for a run whose --timeout is 1 s: it must end long before
# this (valgrind is slow to start, hence more room under it).
hang_bound=10
[ -n "$TEST_WRAPPER" ] && hang_bound=40

# bounded ARGS...: xmpctl with $hang_bound as its outer bound (exit 124 when
# it hangs).
bounded() {
	_saved_bound=$XMPCTL_TEST_TIMEOUT
	XMPCTL_TEST_TIMEOUT=$hang_bound
	xmpctl "$@"
	_bounded_rc=$?
	XMPCTL_TEST_TIMEOUT=$_saved_bound
	return $_bounded_rc
}

test_expect_success 'eight black-holed SRV targets with --timeout 1: one deadline for all of them (75)' '
	"$PYTHON" "$TESTS_SRCDIR/integration/blackhole.py" holes.ports 8 &
	holes_pid=$! &&
	wait_for "test -s holes.ports" 20 "the black-holed listeners" &&
	records= &&
	for p in $(cat holes.ports); do
		records="$records _xmpp-client._tcp.example.test=1:0:$p:localhost"
	done &&
	dns $records &&
	expect_exit 75 bounded -j alice@example.test --cafile "$TEST_CA" \
		--timeout 1 login 2>err-holes &&
	test_grep "^xmpctl: cannot connect to example\.test within 1 s: tried [0-9]* addresses at [0-9]* of 8 servers; last: localhost port [0-9]* (127\.0\.0\.1): no answer\$" err-holes
'

test_expect_success 'a DNS server that never answers: --timeout 1 ends with "no answer from DNS" (75)' '
	dns --silent &&
	expect_exit 75 bounded -j alice@example.test --cafile "$TEST_CA" \
		--timeout 1 login 2>err-silent &&
	test_grep "^xmpctl: no answer from DNS for _xmpps-client\._tcp\.example\.test within 1 s\$" err-silent
'

test_done
