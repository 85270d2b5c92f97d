#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0208-ejabberd-identity.sh - a client certificate and SASL EXTERNAL
# (XEP-0178) against a private ejabberd, which supports it natively: the
# STARTTLS port asks for a certificate signed by a client CA of the test.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/ejabberd.sh"

ejabberd_require

# a CA for clients, and alice's certificate with her JID as id-on-xmppAddr
# (RFC 6120 §13.7.1.4); bob's has no JID at all
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=clientca -keyout clientca.key -out clientca.pem \
	>/dev/null 2>&1 || bail_out 'cannot make the client CA'
client_cert() { # client_cert NAME SUBJECT [EXTENSION]
	openssl req -new -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" \
		-out "$1.csr" >/dev/null 2>&1 &&
	printf '%s\n' "${3:-basicConstraints = CA:FALSE}" >"$1.ext" &&
	openssl x509 -req -in "$1.csr" -CA clientca.pem -CAkey clientca.key \
		-set_serial "0x$(openssl rand -hex 8)" -days 2 -extfile "$1.ext" \
		-out "$1.pem" >/dev/null 2>&1 &&
	chmod 600 "$1.key"
}
client_cert alice /CN=alice \
	'subjectAltName = otherName:1.3.6.1.5.5.7.8.5;UTF8:alice@example.test' &&
client_cert mallory /CN=mallory \
	'subjectAltName = otherName:1.3.6.1.5.5.7.8.5;UTF8:mallory@example.test' ||
	bail_out 'cannot make client certificates'

EJABBERD_CLIENT_CA=$TEST_TMP/clientca.pem
export EJABBERD_CLIENT_CA
ejabberd_start || bail_out 'cannot start ejabberd'

test_expect_success 'a certificate naming alice logs in with EXTERNAL, no password' '
	xmpctl --server "127.0.0.1:$EJABBERD_PORT" --cafile "$TEST_CA" \
		-j alice@example.test --client-cert alice.pem \
		--client-key alice.key -v login >out 2>err </dev/null &&
	test_grep "^sasl  *EXTERNAL (offered: .*EXTERNAL" out &&
	test_grep "^jid  *alice@example\.test/" out &&
	test_grep "mechanism=.EXTERNAL.>\[redacted" err
'

test_expect_success '... and ejabberd says it was EXTERNAL' '
	test_grep "Accepted c2s EXTERNAL authentication for alice@example\.test" "$EJABBERD_LOG"
'

test_expect_success 'another account'"'"'s certificate is refused (77)' '
	expect_exit 77 xmpctl --server "127.0.0.1:$EJABBERD_PORT" \
		--cafile "$TEST_CA" -j alice@example.test --mech EXTERNAL \
		--client-cert mallory.pem --client-key mallory.key login \
		>out-m 2>err-m </dev/null &&
	test_grep "authentication failed as alice@example\.test (EXTERNAL)" err-m
'

test_done
