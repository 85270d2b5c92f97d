#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0031-check-ejabberd.sh - "xmpctl check DOMAIN" against ejabberd with
# server-to-server enabled (EJABBERD_S2S=yes: STARTTLS required,
# mod_s2s_dialback): the second lab server beside t0030's Prosody.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/ejabberd.sh"

ejabberd_require
EJABBERD_S2S=yes ejabberd_start >/dev/null 2>&1 || bail_out 'cannot start ejabberd'

ck() {
	xmpctl --cafile "$TEST_CA" --timeout 10 check "$@"
}

# ejabberd leaves the TLS 1.2 ciphers to OpenSSL's defaults, which take
# static RSA key exchange and CBC: that much makes both sides weak
test_expect_success 'both sides of ejabberd: exit 0, verdict weak for the cipher suites' '
	ck --server "127.0.0.1:$EJABBERD_PORT" \
		--s2s-server "127.0.0.1:$EJABBERD_S2S_PORT" example.test >out &&
	test_grep "^verdict  *client side: weak (1 of 1 targets answered)\$" out &&
	test_grep "^verdict  *server side: weak (1 of 1 targets answered)\$" out &&
	test "$(grep -c "^because  *127\.0\.0\.1 port [0-9]*: weak cipher suites accepted (no forward secrecy, CBC)\$" out)" = 2 &&
	test_grep "^suite  *TLS 1\.2 TLS-RSA-WITH-AES-128-CBC-SHA (weak: no forward secrecy, CBC)\$" out &&
	test_grep "^suite  *TLS 1\.2 TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384\$" out
'

test_expect_success '... and good with --no-suites: nothing else is weak' '
	ck --server "127.0.0.1:$EJABBERD_PORT" --no-suites \
		--s2s-server "127.0.0.1:$EJABBERD_S2S_PORT" example.test >out-ns &&
	test_grep "^verdict  *client side: good (1 of 1 targets answered)\$" out-ns &&
	test_grep "^verdict  *server side: good (1 of 1 targets answered)\$" out-ns
'

test_expect_success '... the server side: dialback and SASL EXTERNAL after TLS only' '
	test_grep "^plaintext  *features: tls; mechanisms: none\$" out &&
	test_grep "^features  *after TLS: sasl dialback\$" out &&
	test_grep "^sasl  *offered: EXTERNAL\$" out &&
	test_grep "^dialback  *offered\$" out &&
	test_grep "^external  *offered\$" out
'

test_expect_success '... both ports send the whole chain, and refuse TLS 1.0 and 1.1' '
	test "$(grep -c "^chain  *1: CN=xmpctl test CA; " out)" = 2 &&
	if $TEST_WRAPPER "$XMPCTL" --version | grep -q "^TLS: mbedTLS 2\."; then
		test "$(grep -c "^versions  *refused: TLS 1\.0, TLS 1\.1\$" out)" = 2
	fi
'

test_expect_success '--require dialback --require verified: met, exit 0' '
	ck --s2s-server "127.0.0.1:$EJABBERD_S2S_PORT" --require dialback \
		--require verified example.test >/dev/null
'

test_done
