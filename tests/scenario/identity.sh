#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# identity.sh - the server's key against each server of the matrix: a pin
# (--pin, also from the config file), trust on first use (--tofu).  A key
# that does not match ends the session before any SASL byte.
# login --check against the same server, found through a fake DNS.
# A client certificate and SASL EXTERNAL (XEP-0178) where the server has
# it (ejabberd, natively: its STARTTLS port asks for a certificate signed
# by a client CA of the test; Debian's Prosody 0.12 needs a community
# module, and the fake server covers it too, t0104).

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

needs

if server_has sasl-external; then
	# a CA for clients, and alice's certificate with her JID as
	# id-on-xmppAddr (RFC 6120 §13.7.1.4); mallory's names another JID
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 2 -subj /CN=clientca -keyout clientca.key -out clientca.pem \
		>/dev/null 2>&1 || bail_out 'cannot make the client CA'
	client_cert() { # client_cert NAME SUBJECT [EXTENSION]
		openssl req -new -newkey rsa:2048 -nodes -subj "$2" \
			-keyout "$1.key" -out "$1.csr" >/dev/null 2>&1 &&
		printf '%s\n' "${3:-basicConstraints = CA:FALSE}" >"$1.ext" &&
		openssl x509 -req -in "$1.csr" -CA clientca.pem \
			-CAkey clientca.key -set_serial "0x$(openssl rand -hex 8)" \
			-days 2 -extfile "$1.ext" -out "$1.pem" >/dev/null 2>&1 &&
		chmod 600 "$1.key"
	}
	client_cert alice /CN=alice \
		'subjectAltName = otherName:1.3.6.1.5.5.7.8.5;UTF8:alice@example.test' &&
	client_cert mallory /CN=mallory \
		'subjectAltName = otherName:1.3.6.1.5.5.7.8.5;UTF8:mallory@example.test' ||
		bail_out 'cannot make client certificates'
	SERVER_CLIENT_CA=$TEST_TMP/clientca.pem
fi
server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD
XDG_DATA_HOME=$TEST_TMP/data
export XDG_DATA_HOME
KNOWN=$XDG_DATA_HOME/xmpctl/known_servers

PIN=$(pin_of "$PKI_DIR/example.test.pem")
WRONG_PIN=$(pin_of "$PKI_DIR/wrong.test.pem")

test_expect_success 'the right pin logs in' '
	alice --pin "$PIN" login >out 2>err &&
	test_grep "^jid  *alice@example\.test/." out
'

test_expect_success 'a wrong pin fails before SASL and names the real pin (79)' '
	log_from=$(wc -c <"$SERVER_LOG") &&
	expect_exit 79 alice -v --pin "$WRONG_PIN" login >out 2>err &&
	test_grep "^xmpctl: the public key of example\.test matches no pin (its pin is $PIN)\$" err &&
	test_grep ! "<auth" err &&
	test_must_be_empty out
'

if server_is prosody; then
test_expect_success '... and Prosody saw no authentication attempt' '
	tail -c +"$((log_from + 1))" "$SERVER_LOG" >log &&
	test_grep "Client connected" log &&
	test_grep ! "Received\[c2s_unauthed\]: <auth" log &&
	test_grep ! "Authenticated as" log
'
fi

test_expect_success 'a pin from the config file is used' '
	mkdir -p home/.config/xmpctl &&
	printf "%s\n" "[a]" "jid = alice@example.test" "pin = $WRONG_PIN" \
		>home/.config/xmpctl/config &&
	expect_exit 79 xmpctl --server "127.0.0.1:$SERVER_PORT" \
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

# ---- SASL EXTERNAL ------------------------------------------------------------

if server_has sasl-external; then
test_expect_success 'a certificate naming alice logs in with EXTERNAL, no password' '
	# an account that used channel binding keeps it where it is offered:
	# this one has not
	(unset XMPCTL_PASSWORD
	 XDG_DATA_HOME=$TEST_TMP/ext-data
	 xmpctl --server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" \
		-j alice@example.test --client-cert alice.pem \
		--client-key alice.key -v login >out-ext 2>err-ext </dev/null) &&
	test_grep "^sasl  *EXTERNAL (offered: .*EXTERNAL" out-ext &&
	test_grep "^jid  *alice@example\.test/" out-ext &&
	test_grep "mechanism=.EXTERNAL.>\(<initial-response>\)\?\[redacted" err-ext
'

if server_is ejabberd; then
test_expect_success '... and ejabberd says it was EXTERNAL' '
	test_grep "Accepted c2s EXTERNAL authentication for alice@example\.test" "$SERVER_LOG"
'
fi

test_expect_success 'another account'"'"'s certificate is refused (77)' '
	(unset XMPCTL_PASSWORD
	 XDG_DATA_HOME=$TEST_TMP/ext-data
	 expect_exit 77 xmpctl --server "127.0.0.1:$SERVER_PORT" \
		--cafile "$TEST_CA" -j alice@example.test --mech EXTERNAL \
		--client-cert mallory.pem --client-key mallory.key login \
		>out-m 2>err-m </dev/null) &&
	test_grep "authentication failed as alice@example\.test (EXTERNAL)" err-m
'
fi

# ---- login --check ------------------------------------------------------------

# The installed xmpctl has no DNS test hook: from here on, the build that has it.
XMPCTL=${XMPCTL_TESTHOOKS:-$TESTS_BUILDDIR/integration/xmpctl-testhooks}


# the features before TLS, as login --check names them
plain_features=tls
server_has stream-limits && plain_features='tls stream-limits:0'

# The server certificate is valid 2 days from when pki.sh made it: whole
# days left, as login --check counts them, are 1 once a second has passed,
# 2 before.  days_since T0: the days left at T0 and now, "1" or "[12]".
cert_end=$(date -d "$(openssl x509 -in "$PKI_DIR/example.test.pem" -noout -enddate |
	sed 's/^notAfter=//')" +%s) || bail_out 'cannot read the certificate end'
days_since() {
	_ds_hi=$(( (cert_end - $1) / 86400 ))
	_ds_lo=$(( (cert_end - $(date +%s)) / 86400 ))
	if [ "$_ds_hi" = "$_ds_lo" ]; then echo "$_ds_lo"; else echo "[$_ds_lo$_ds_hi]"; fi
}

test_expect_success 'login --check reports both kinds of SRV records and every target' '
	dns "_xmpps-client._tcp.example.test=1:0:$SERVER_TLS_PORT:localhost" \
	    "_xmpp-client._tcp.example.test=5:0:$SERVER_PORT:localhost" &&
	t0=$(date +%s) &&
	xmpctl -j alice@example.test --cafile "$TEST_CA" login --check >out 2>err &&
	days=$(days_since "$t0") &&
	test_grep "^srv  *_xmpps-client\._tcp\.example\.test: localhost port $SERVER_TLS_PORT (priority 1, weight 0)\$" out &&
	test_grep "^srv  *_xmpp-client\._tcp\.example\.test: localhost port $SERVER_PORT (priority 5, weight 0)\$" out &&
	test_grep "^target  *localhost port $SERVER_TLS_PORT (SRV _xmpps-client\._tcp, direct TLS)\$" out &&
	test_grep "^target  *localhost port $SERVER_PORT (SRV _xmpp-client\._tcp, STARTTLS)\$" out &&
	test "$(grep -c "^jid  *alice@example\.test/" out)" = 2
'

test_expect_success '... with the chain, TLS, pin and the features at each stage' '
	test_grep "^tls  *$TLS_VERSION $TLS_SUITES" out &&
	test_grep "^chain  *0: CN=example\.test; issuer CN=xmpctl test CA; valid .* to .* ($days days left); RSA 2048 bits; signed ECDSA with SHA256\$" out &&
	test_grep "^pin  *$PIN\$" out &&
	test_grep "^plaintext  *features: $plain_features; mechanisms: none\$" out &&
	test_grep "^features  *before authentication: sasl" out &&
	test_grep "^sasl  *$LOGIN_MECH (offered: " out &&
	if server_has bind2; then
		test_grep "^features  *after authentication: [a-z]" out
	else
		test_grep "^features  *after authentication: .*bind" out
	fi
'

test_expect_success '... and warns of a certificate expiring within 14 days' '
	test_grep "^warning  *localhost port $SERVER_PORT: certificate 0 (CN=example\.test) expires on .* ($days days)\$" out &&
	test_grep ! "no _xmpps-client" out
'

test_expect_success 'login --check warns when there is no direct-TLS record' '
	dns "_xmpp-client._tcp.example.test=5:0:$SERVER_PORT:localhost" &&
	xmpctl -j alice@example.test --cafile "$TEST_CA" login --check >out-nodirect &&
	test_grep "^srv  *_xmpps-client\._tcp\.example\.test: none\$" out-nodirect &&
	test_grep "^warning  *example\.test has no _xmpps-client\._tcp records: no direct TLS (XEP-0368)\$" out-nodirect
'

test_expect_success 'login --check --format json: one object per record, target and warning' '
	dns "_xmpps-client._tcp.example.test=1:0:$SERVER_TLS_PORT:localhost" \
	    "_xmpp-client._tcp.example.test=5:0:$SERVER_PORT:localhost" &&
	t0=$(date +%s) &&
	xmpctl -j alice@example.test --cafile "$TEST_CA" --format json login --check >out.json &&
	days=$(days_since "$t0") &&
	"$PYTHON" -c "
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
kinds = [o[\"kind\"] for o in objs]
assert kinds.count(\"srv\") == 2, kinds
targets = [o for o in objs if o[\"kind\"] == \"target\"]
assert len(targets) == 2, kinds
for t in targets:
    assert t[\"verified\"] is True, t
    assert t[\"pin\"] == sys.argv[2], t
    assert t[\"chain\"][0][\"subject\"] == \"CN=example.test\", t
    assert str(t[\"chain\"][0][\"days_left\"]) in list(sys.argv[3].strip(\"[]\")), t
    assert t[\"chain\"][0][\"key_bits\"] == 2048, t
    # after SASL2 with Bind2 there is nothing left to bind
    assert \"bind\" in t[\"features_after_auth\"] or sys.argv[5] == \"bind2\", t
    assert \"error\" not in t, t
assert {t[\"tls_mode\"] for t in targets} == {\"direct\", \"starttls\"}
st = [t for t in targets if t[\"tls_mode\"] == \"starttls\"][0]
assert st[\"features_before_tls\"] == sys.argv[4] and st[\"sasl_offered_before_tls\"] == \"\", st
assert any(o[\"kind\"] == \"warning\" and \"expires on\" in o[\"text\"] for o in objs)
" out.json "$PIN" "$days" "$plain_features" "$(server_has bind2 && echo bind2)"
'

test_expect_success 'login --check: a target that fails is reported, and sets the status' '
	dead=$("$PYTHON" -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	dns "_xmpp-client._tcp.example.test=1:0:$dead:localhost" \
	    "_xmpp-client._tcp.example.test=5:0:$SERVER_PORT:localhost" &&
	expect_exit 69 xmpctl -j alice@example.test --cafile "$TEST_CA" login --check >out-dead &&
	test_grep "^target  *localhost port $dead " out-dead &&
	test_grep "^error  *" out-dead &&
	test_grep "^jid  *alice@example\.test/" out-dead
'

test_done
