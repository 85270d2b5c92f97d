#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0104-identity.sh - the server's identity beyond its certificate: a
# public-key pin (--pin), trust on first use (--tofu); and ours: a client
# certificate with SASL EXTERNAL.  A key that does not match must end the
# session before a single SASL byte is sent.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/hostile/fake.sh"

fake_cert
XDG_DATA_HOME=$TEST_TMP/data
export XDG_DATA_HOME
KNOWN=$XDG_DATA_HOME/xmpctl/known_servers

PIN=$(pin_of cert.pem)
# another key for the same name, from the same trust anchor
mkdir other && (cd other && fake_cert) || bail_out 'cannot make a second certificate'
cat other/cert.pem >>both.pem && cat cert.pem >>both.pem
OTHER_PIN=$(pin_of other/cert.pem)
ZERO_PIN=sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=

# up to the TLS handshake; the rest is up to the client
script_tls() { # script_tls CERT-DIR
	cat <<SCRIPT
expect <stream:stream
send \$HEADER<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>
expect <starttls
starttls $1/cert.pem $1/key.pem
SCRIPT
}

{ script_to_bind; script_bound alice@example.test/r; script_goodbye; } >pin.script
test_expect_success 'the right pin logs in' '
	fake pin &&
	run pin --cafile cert.pem --pin "$PIN" login &&
	test_grep "^jid  *alice@example\.test/r\$" pin.out
'

{ script_to_bind; script_bound alice@example.test/r; script_goodbye; } >pins.script
test_expect_success 'one of several pins is enough' '
	fake pins &&
	run pins --cafile cert.pem --pin "$ZERO_PIN;$PIN" login &&
	test_grep "^jid  *alice@example\.test/r\$" pins.out
'

{ script_tls "$TEST_TMP"; echo hang; } >wrongpin.script
test_expect_success 'a wrong pin fails after the handshake, before SASL (79)' '
	fake wrongpin &&
	expect_exit 79 run wrongpin --cafile cert.pem --pin "$ZERO_PIN" login &&
	test_grep "public key of example\.test matches no pin (its pin is $PIN)" wrongpin.err &&
	test_grep ! "<auth" wrongpin.sent &&
	test_grep ! "secret-password" wrongpin.sent &&
	test_must_be_empty wrongpin.out
'

test_expect_success 'a malformed pin is a usage error (64)' '
	expect_exit 64 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		--pin sha256//short login 2>err &&
	test_grep "invalid pin .sha256//short." err
'

# ---- trust on first use ---------------------------------------------------------

{ script_to_bind; script_bound alice@example.test/r; script_goodbye; } >tofu1.script
test_expect_success 'first contact with --tofu records the key' '
	fake tofu1 &&
	run tofu1 --cafile both.pem --tofu login &&
	test_grep "first contact" tofu1.err &&
	test_grep "^example\.test RSA $PIN\$" "$KNOWN" &&
	test "$(wc -l <"$KNOWN")" = 1
'

test_expect_success 'known_servers is 0600 in a 0700 directory' '
	test "$(stat -c %a "$KNOWN")" = 600 &&
	test "$(stat -c %a "$XDG_DATA_HOME/xmpctl")" = 700
'

{ script_to_bind; script_bound alice@example.test/r; script_goodbye; } >tofu2.script
test_expect_success 'the same key again: accepted, nothing added' '
	fake tofu2 &&
	run tofu2 --cafile both.pem --tofu login &&
	test_grep ! "first contact" tofu2.err &&
	test "$(wc -l <"$KNOWN")" = 1
'

{ script_tls "$TEST_TMP/other"; echo hang; } >tofu3.script
test_expect_success 'a changed key is refused with both pins, before SASL (79)' '
	fake tofu3 &&
	expect_exit 79 run tofu3 --cafile both.pem --tofu login &&
	test_grep "server key of example\.test has changed: .*known_servers line 1 has $PIN, the server now shows $OTHER_PIN" tofu3.err &&
	test_grep ! "<auth" tofu3.sent &&
	test "$(wc -l <"$KNOWN")" = 1
'

test_expect_success 'a known_servers others can change is refused' '
	chmod 622 "$KNOWN" &&
	{ script_tls "$TEST_TMP"; echo hang; } >tofu4.script &&
	fake tofu4 &&
	expect_exit 74 run tofu4 --cafile both.pem --tofu login &&
	test_grep "can be changed by other users" tofu4.err &&
	test_grep ! "<auth" tofu4.sent &&
	chmod 600 "$KNOWN"
'

# ---- client certificates and SASL EXTERNAL ------------------------------------------

# a CA for clients, and alice's certificate with her JID as id-on-xmppAddr
# (RFC 6120 §13.7.1.4); bob's names alice nowhere
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=clientca \
	-keyout clientca.key -out clientca.pem >/dev/null 2>&1 &&
client_cert() { # client_cert NAME SUBJECT [EXTENSION]
	openssl req -new -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" \
		-out "$1.csr" >/dev/null 2>&1 &&
	printf '%s\n' "${3:-basicConstraints = CA:FALSE}" >"$1.ext" &&
	openssl x509 -req -in "$1.csr" -CA clientca.pem -CAkey clientca.key \
		-set_serial 7 -days 2 -extfile "$1.ext" -out "$1.pem" \
		>/dev/null 2>&1 &&
	chmod 600 "$1.key"
} &&
client_cert alice /CN=alice \
	'subjectAltName = otherName:1.3.6.1.5.5.7.8.5;UTF8:alice@example.test' &&
client_cert nojid /CN=someone ||
	bail_out 'cannot make client certificates'

script_external() { # script_external NAME: a server that wants a certificate
	cat <<SCRIPT
expect <stream:stream
send \$HEADER<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>
expect <starttls
starttls $TEST_TMP/cert.pem $TEST_TMP/key.pem $TEST_TMP/clientca.pem
expect <stream:stream
send \$HEADER<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism><mechanism>EXTERNAL</mechanism></mechanisms></stream:features>
expect </auth>
send <success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>
expect <stream:stream
send \$HEADER<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>
expect </iq>
SCRIPT
	script_bound alice@example.test/r
	script_goodbye
}

script_external ext >ext.script
test_expect_success 'a client certificate naming the account: EXTERNAL with no authzid' '
	fake ext &&
	run ext --cafile cert.pem --client-cert alice.pem --client-key alice.key login &&
	test_grep "^sasl  *EXTERNAL" ext.out &&
	test_grep "mechanism=.EXTERNAL.>=</auth>" ext.sent &&
	test_grep ! "secret-password" ext.sent
'

# base64 of "alice@example.test"
script_external extz >extz.script
test_expect_success 'a certificate without our JID: EXTERNAL asks for the account as authzid' '
	fake extz &&
	run extz --cafile cert.pem --client-cert nojid.pem --client-key nojid.key login &&
	test_grep "mechanism=.EXTERNAL.>YWxpY2VAZXhhbXBsZS50ZXN0</auth>" extz.sent
'

# A man in the middle with a certificate for the domain can take EXTERNAL
# (it proves our key, not the server's): an account that used channel
# binding (here tls-exporter, which it may use on TLS 1.3 without a list)
# does not fall back to it unasked.
mkdir -p cbmem/xmpctl && echo "alice@example.test tls-exporter" >cbmem/xmpctl/channel_binding &&
chmod 600 cbmem/xmpctl/channel_binding
ext_offer() { # ext_offer MECH...: STARTTLS asking for a certificate, then MECHs
	printf '%s\n' 'expect <stream:stream' \
		"send \$HEADER<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>" \
		'expect <starttls' \
		"starttls $TEST_TMP/cert.pem $TEST_TMP/key.pem $TEST_TMP/clientca.pem" \
		'expect <stream:stream'
	printf "send \$HEADER<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
	for _m; do printf '<mechanism>%s</mechanism>' "$_m"; done
	printf '</mechanisms></stream:features>\n'
}
ext_offer EXTERNAL >extonly.script
echo hang >>extonly.script
test_expect_success 'an account that used channel binding refuses an offer of EXTERNAL alone (77)' '
	fake extonly &&
	XDG_DATA_HOME=$TEST_TMP/cbmem expect_exit 77 run extonly --cafile cert.pem \
		--client-cert alice.pem --client-key alice.key login &&
	test_grep "refusing to authenticate as alice@example.test without channel binding" extonly.err &&
	test_grep ! "<auth" extonly.sent
'

ext_offer EXTERNAL SCRAM-SHA-1-PLUS SCRAM-SHA-1 >extplus.script
printf 'expect </auth>\nclose\n' >>extplus.script
test_expect_success '... and takes -PLUS over EXTERNAL where both are offered' '
	fake extplus &&
	{ XDG_DATA_HOME=$TEST_TMP/cbmem run extplus --cafile cert.pem \
		--client-cert alice.pem --client-key alice.key login; true; } &&
	test_grep "mechanism=.SCRAM-SHA-1-PLUS.>" extplus.sent
'

ext_offer EXTERNAL >extasked.script
printf 'expect </auth>\nclose\n' >>extasked.script
test_expect_success '... but EXTERNAL named with --mech is the user'"'"'s choice' '
	fake extasked &&
	{ XDG_DATA_HOME=$TEST_TMP/cbmem run extasked --cafile cert.pem --mech EXTERNAL \
		--client-cert alice.pem --client-key alice.key login; true; } &&
	test_grep "mechanism=.EXTERNAL.>" extasked.sent
'

test_expect_success 'the client key in the config file works too' '
	mkdir -p home/.config/xmpctl &&
	printf "%s\n" "[a]" "jid = alice@example.test" \
		"client_cert = $TEST_TMP/alice.pem" \
		"client_key = $TEST_TMP/alice.key" "pin = $PIN" \
		>home/.config/xmpctl/config &&
	chmod 600 home/.config/xmpctl/config &&
	script_external extc >extc.script &&
	fake extc &&
	xmpctl --timeout 5 --server "127.0.0.1:$FAKE_PORT" --cafile cert.pem \
		login >extc.out 2>extc.err &&
	done_fake &&
	test_grep "^sasl  *EXTERNAL" extc.out &&
	rm home/.config/xmpctl/config
'

test_expect_success 'a client key others can read is refused (78)' '
	chmod 640 alice.key &&
	expect_exit 78 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		--client-cert alice.pem --client-key alice.key login 2>err &&
	test_grep "alice\.key holds a private key and others can read it" err &&
	chmod 600 alice.key
'

test_expect_success '--client-cert without --client-key is a usage error (64)' '
	expect_exit 64 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		--client-cert alice.pem login 2>err &&
	test_grep "needs --client-key" err
'

# ---- login --check: what is weak -----------------------------------------------

# a certificate signed with SHA-1 that expires in 5 days
mkdir weak &&
openssl req -x509 -newkey rsa:2048 -nodes -days 5 -sha1 -subj /CN=example.test \
	-addext subjectAltName=DNS:example.test -keyout weak/key.pem \
	-out weak/cert.pem >/dev/null 2>&1 ||
	bail_out 'cannot make a SHA-1 certificate with openssl'
cat >weak.script <<SCRIPT
expect <stream:stream
send \$HEADER<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>
expect <starttls
starttls $TEST_TMP/weak/cert.pem $TEST_TMP/weak/key.pem
expect <stream:stream
send \$HEADER<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>
expect </auth>
send <success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>
expect <stream:stream
send \$HEADER<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>
expect </iq>
SCRIPT
{ script_bound alice@example.test/r; script_goodbye; } >>weak.script

test_expect_success 'login --check warns of PLAIN before TLS, SHA-1 and near expiry' '
	fake weak &&
	run weak --insecure --mech PLAIN login --check &&
	test_grep "^plaintext  *features: tls sasl; mechanisms: SCRAM-SHA-1 PLAIN\$" weak.out &&
	test_grep "^chain  *0: CN=example\.test; issuer CN=example\.test; .* ([45] days left); RSA 2048 bits; signed RSA with SHA1\$" weak.out &&
	test_grep "^features  *after authentication: bind sm:3\$" weak.out &&
	test_grep "^warning  *127\.0\.0\.1:[0-9]*: PLAIN is offered before TLS" weak.out &&
	test_grep "^warning  *127\.0\.0\.1:[0-9]*: certificate 0 (CN=example\.test) is signed with RSA with SHA1, which can be forged\$" weak.out &&
	test_grep "^warning  *127\.0\.0\.1:[0-9]*: certificate 0 (CN=example\.test) expires on .* ([45] days)\$" weak.out
'

cp weak.script weakj.script
test_expect_success 'login --check --format json has the same warnings' '
	fake weakj &&
	run weakj --insecure --mech PLAIN --format json login --check &&
	"$PYTHON" -c "
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
t = [o for o in objs if o[\"kind\"] == \"target\"]
assert len(t) == 1 and t[0][\"found_by\"] == \"--server\", objs
assert t[0][\"sasl_offered_before_tls\"] == \"SCRAM-SHA-1 PLAIN\", t
assert t[0][\"chain\"][0][\"signature\"] == \"RSA with SHA1\", t
assert t[0][\"verified\"] is False, t
w = [o[\"text\"] for o in objs if o[\"kind\"] == \"warning\"]
assert len(w) == 3, w
assert any(\"PLAIN is offered before TLS\" in x for x in w), w
assert any(\"SHA1\" in x for x in w), w
assert any(\"expires on\" in x for x in w), w
" weakj.out
'

test_done
