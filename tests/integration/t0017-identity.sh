#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0017-identity.sh - the server's key against a private Prosody: a pin
# (--pin, also from the config file), trust on first use (--tofu).  A key
# that does not match ends the session before any SASL byte.
# (SASL EXTERNAL is tested against the fake server, t0104: Debian's Prosody
# 0.12 needs a community module for it.)

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

prosody_require
prosody_start || bail_out 'cannot start Prosody'

XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD
XDG_DATA_HOME=$TEST_TMP/data
export XDG_DATA_HOME
KNOWN=$XDG_DATA_HOME/xmpctl/known_servers

# pin_of CERT: curl's --pinnedpubkey form of the certificate's key.
pin_of() {
	printf 'sha256//%s\n' "$(openssl x509 -in "$1" -pubkey -noout |
		openssl pkey -pubin -outform der | openssl dgst -sha256 -binary |
		openssl base64 -A)"
}
PIN=$(pin_of "$PKI_DIR/example.test.pem")
WRONG_PIN=$(pin_of "$PKI_DIR/wrong.test.pem")

test_expect_success 'the right pin logs in' '
	alice --pin "$PIN" login >out 2>err &&
	test_grep "^jid  *alice@example\.test/." out
'

test_expect_success 'a wrong pin fails before SASL and names the real pin (79)' '
	log_from=$(wc -c <"$PROSODY_LOG") &&
	expect_exit 79 alice -v --pin "$WRONG_PIN" login >out 2>err &&
	test_grep "^xmpctl: the public key of example\.test matches no pin (its pin is $PIN)\$" err &&
	test_grep ! "<auth" err &&
	test_must_be_empty out
'

test_expect_success '... and Prosody saw no authentication attempt' '
	tail -c +"$((log_from + 1))" "$PROSODY_LOG" >log &&
	test_grep "Client connected" log &&
	test_grep ! "Received\[c2s_unauthed\]: <auth" log &&
	test_grep ! "Authenticated as" log
'

test_expect_success 'a pin from the config file is used' '
	mkdir -p home/.config/xmpctl &&
	printf "%s\n" "[a]" "jid = alice@example.test" "pin = $WRONG_PIN" \
		>home/.config/xmpctl/config &&
	expect_exit 79 xmpctl --server "127.0.0.1:$PROSODY_PORT" \
		--cafile "$TEST_CA" login 2>err &&
	test_grep "matches no pin" err &&
	rm home/.config/xmpctl/config
'

test_expect_success 'first contact with --tofu records the key (0600 in 0700)' '
	alice --tofu login >out 2>err &&
	test_grep "^example\.test RSA $PIN\$" "$KNOWN" &&
	test "$(stat -c %a "$KNOWN")" = 600 &&
	test "$(stat -c %a "$XDG_DATA_HOME/xmpctl")" = 700
'

test_expect_success 'the recorded key logs in again' '
	alice --tofu login >out 2>err &&
	test_grep "^jid  *alice@example\.test/." out &&
	test "$(wc -l <"$KNOWN")" = 1
'

test_expect_success 'a changed key is refused, both pins shown, no SASL (79)' '
	sed "s|$PIN|$WRONG_PIN|" "$KNOWN" >known.new &&
	cat known.new >"$KNOWN" &&
	expect_exit 79 alice -v --tofu login >out 2>err &&
	test_grep "server key of example\.test has changed: .* has $WRONG_PIN, the server now shows $PIN" err &&
	test_grep ! "<auth" err
'

test_done
