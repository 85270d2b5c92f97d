#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0007-srv.sh - finding the server through DNS SRV records (RFC 6120 §3.2,
# XEP-0368), answered by a fake DNS server on loopback; the certificate is
# checked against the XMPP domain, never against the SRV target.  SRV
# targets are "localhost" (from /etc/hosts), so no query leaves loopback.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

prosody_require
prosody_start >/dev/null 2>&1 || bail_out 'cannot start Prosody'
XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD

dns_pid=
test_atexit '[ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null'

# dns RECORD...: (re)start the fake DNS server with these SRV records.
dns() {
	[ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null && wait "$dns_pid" 2>/dev/null
	rm -f dns.port
	"$PYTHON" "$TESTS_SRCDIR/integration/fakedns.py" dns.port "$@" &
	dns_pid=$!
	wait_for "test -s dns.port" 20 "the fake DNS server" &&
	XMPCTL_DNS_SERVER=127.0.0.1:$(cat dns.port) &&
	export XMPCTL_DNS_SERVER
}

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

test_done
