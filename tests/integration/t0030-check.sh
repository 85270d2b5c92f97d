#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0030-check.sh - "xmpctl check DOMAIN": the report on a domain's servers
# without an account, against a Prosody with server-to-server enabled
# (PROSODY_S2S=yes: STARTTLS required, dialback): the client side and the
# server side (a jabber:server stream, never authenticated), the verdicts,
# --require and --min-days as exit status 2, a certificate for another
# name, a chain without its intermediate, a dead port, the server SRV
# records (fake DNS), the TLS versions accepted (openssl s_server held to
# TLS 1.1), the cipher suites accepted (openssl s_server held to static
# RSA with CBC), and with an
# account what login --check adds and the server's disco held against
# XEP-0479.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

# The SRV test needs the DNS test hook: use the build that has it.
XMPCTL=${XMPCTL_TESTHOOKS:-$TESTS_BUILDDIR/integration/xmpctl-testhooks}
prosody_require
# a group chat service and stream management, for what disco and the
# stream features announce (XEP-0479); no upload service
PROSODY_S2S=yes PROSODY_MUC=rooms.example.test PROSODY_MODULES=smacks \
	prosody_start >/dev/null 2>&1 || bail_out 'cannot start Prosody'
C2S=127.0.0.1:$PROSODY_PORT
S2S=127.0.0.1:$PROSODY_S2S_PORT
test_on_failure 'prosody_log_tail'

# ck ARGS...: xmpctl check with the test CA, no account
ck() {
	xmpctl --cafile "$TEST_CA" --timeout 10 check "$@"
}

test_expect_success 'both sides of a good server: exit 0, verdict good' '
	ck --server "$C2S" --s2s-server "$S2S" example.test >out &&
	test_grep "^client  *127\.0\.0\.1 port $PROSODY_PORT (--server, STARTTLS)\$" out &&
	test_grep "^server  *127\.0\.0\.1 port $PROSODY_S2S_PORT (--s2s-server, STARTTLS)\$" out &&
	test_grep "^verdict  *client side: good (1 of 1 targets answered)\$" out &&
	test_grep "^verdict  *server side: good (1 of 1 targets answered)\$" out
'

test_expect_success '... STARTTLS required on both, the certificate verified for the domain' '
	test "$(grep -c "^starttls  *required\$" out)" = 2 &&
	test "$(grep -c "^verified  *for example\.test\$" out)" = 2 &&
	test_grep "^chain  *0: CN=example\.test; issuer CN=xmpctl test CA; " out
'

test_expect_success '... the client side: no SASL before TLS, the mechanisms after it' '
	test_grep "^plaintext  *features: tls; mechanisms: none\$" out &&
	test_grep "^sasl  *offered: .*SCRAM-SHA-1" out
'

test_expect_success '... the server side: dialback offered, no SASL EXTERNAL' '
	test_grep "^dialback  *offered\$" out &&
	test_grep "^external  *not offered\$" out
'

test_expect_success 'direct TLS (XEP-0368) with the global --direct-tls: no plaintext stage' '
	xmpctl --cafile "$TEST_CA" --timeout 10 --direct-tls check \
		--server "127.0.0.1:$PROSODY_TLS_PORT" example.test >out-direct &&
	test_grep "^client  *127\.0\.0\.1 port $PROSODY_TLS_PORT (--server, direct TLS)\$" out-direct &&
	test_grep ! "^plaintext " out-direct &&
	test_grep "^verified  *for example\.test\$" out-direct &&
	test_grep "^verdict  *client side: good " out-direct
'

test_expect_success 'the probes never authenticate, the s2s one is a jabber:server stream with --from' '
	ck --server "$C2S" --s2s-server "$S2S" --from other.test \
		example.test >/dev/null 2>/dev/null &&
	xmpctl -v --cafile "$TEST_CA" --timeout 10 check --s2s-server "$S2S" \
		--from other.test example.test >/dev/null 2>trace &&
	test_grep "xmlns=.jabber:server. xmlns:db=.jabber:server:dialback. .* to=.example\.test. from=.other\.test." trace &&
	test_grep ! "<auth " trace &&
	test_grep "probe of example\.test done: closing" trace &&
	test_grep "<< </stream:stream>" trace
'

test_expect_success 'JSON: one object per target and per verdict' '
	ck --server "$C2S" --s2s-server "$S2S" --format json example.test >out.json &&
	grep "\"kind\":\"c2s\"" out.json >c2s.json &&
	grep "\"kind\":\"s2s\"" out.json >s2s.json &&
	test "$(json_get c2s.json "o[\"starttls\"]")" = required &&
	test "$(json_get c2s.json "o[\"verified\"]")" = True &&
	test "$(json_get s2s.json "o[\"dialback\"]")" = True &&
	test "$(json_get s2s.json "o[\"sasl_external\"]")" = False &&
	test "$(grep -c "\"kind\":\"verdict\",\"side\":\"[a-z]*\",\"verdict\":\"good\"" out.json)" = 2
'

# shellcheck disable=SC2086 # TEST_WRAPPER is a command line
if $TEST_WRAPPER "$XMPCTL" --version | grep -q "^TLS: mbedTLS 2\."; then
	test_expect_success 'TLS versions, one handshake each: 1.2 accepted, 1.0 and 1.1 refused' '
		grep "\"kind\":\"c2s\"" out.json >c2s.json &&
		test "$(json_get c2s.json "\",\".join(o[\"tls_accepted\"])")" = "TLS 1.2" &&
		test "$(json_get c2s.json "\",\".join(o[\"tls_refused\"])")" = "TLS 1.0,TLS 1.1" &&
		test_grep "^versions  *refused: TLS 1\.0, TLS 1\.1\$" out
	'
else
	test_expect_success 'TLS versions: this build cannot offer 1.0 and 1.1, and says so' '
		test_grep "^versions  *not probed: TLS 1\.0, TLS 1\.1" out
	'
fi

test_expect_success 'cipher suites, one handshake each: the negotiated one among them, none weak' '
	grep "\"kind\":\"c2s\"" out.json >c2s.json &&
	test "$(json_get c2s.json "o[\"tls_cipher\"] in o[\"suites\"][o[\"tls_version\"].replace(\"v\", \"\")]")" = True &&
	test "$(json_get c2s.json "len(o[\"weak_suites\"])")" = 0 &&
	test_grep "^suite  *TLS 1\.2 TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384\$" out &&
	test_grep ! "^suite .*(weak: " out
'

# Prosody 0.12's default tls_profile "intermediate" (Mozilla's): ECDHE
# or DHE with AEAD ciphers only, DHE not without a dhparam
test_expect_success '... Prosody refuses static RSA key exchange and CBC: none listed' '
	grep "\"kind\":\"s2s\"" out.json >s2s.json &&
	test "$(json_get s2s.json "len([n for v in o[\"suites\"].values() for n in v if n.startswith(\"TLS-RSA-\") or \"-CBC-\" in n])")" = 0 &&
	test "$(json_get s2s.json "len(o[\"suites\"][\"TLS1.2\"])")" -ge 1 &&
	test_grep ! "^suite  *TLS 1\.2 TLS-RSA-" out
'

test_expect_success '--no-suites: the versions only, no suite handshakes' '
	ck --server "$C2S" --no-suites --format json example.test >nosuites.json &&
	grep "\"kind\":\"c2s\"" nosuites.json >nosuites-c2s.json &&
	test "$(json_get nosuites-c2s.json "\"suites\" in o")" = False &&
	test "$(json_get nosuites-c2s.json "len(o[\"tls_accepted\"])")" -ge 1 &&
	xmpctl -v --cafile "$TEST_CA" --timeout 10 check --server "$C2S" \
		--no-suites example.test >nosuites.out 2>nosuites.trace &&
	test_grep ! "^suite " nosuites.out &&
	test_grep ! " accepted: closing" nosuites.trace &&
	xmpctl -v --cafile "$TEST_CA" --timeout 10 check --server "$C2S" \
		example.test >suites.out 2>suites.trace &&
	test_grep "ECDHE-RSA-WITH-AES-128-GCM-SHA256 accepted: closing" suites.trace
'

test_expect_success '--require dialback is met: exit 0' '
	ck --s2s-server "$S2S" --require dialback example.test >/dev/null
'

if has_tls13; then
	test_expect_success '--require tls1.3 is met where both ends speak it: exit 0' '
		ck --server "$C2S" --require tls1.3 example.test >out-13 &&
		test_grep "^tls  *TLSv1\.3 " out-13
	'
else
	test_expect_success '--require tls1.3 on a build without TLS 1.3: exit 2, the reason said' '
		expect_exit 2 ck --server "$C2S" --require tls1.3 example.test >out-13 &&
		test_grep "^unmet  *127\.0\.0\.1 port $PROSODY_PORT: TLSv1\.2, not TLS 1\.3\$" out-13
	'
fi

test_expect_success '--min-days: the 2-day test certificate passes 1, fails 30 (exit 2)' '
	ck --server "$C2S" --min-days 1 example.test >/dev/null &&
	expect_exit 2 ck --server "$C2S" --s2s-server "$S2S" --min-days 30 \
		example.test >out-days &&
	test_grep "^unmet  *127\.0\.0\.1 port $PROSODY_S2S_PORT: certificate expires in [0-9] days (--min-days 30)\$" out-days
'

test_expect_success 'a dead port: that side fails (exit 69), the other is still reported' '
	dead=$("$PYTHON" -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	expect_exit 69 ck --server "$C2S" --s2s-server "127.0.0.1:$dead" \
		example.test >out-dead &&
	test_grep "^verdict  *client side: good " out-dead &&
	test_grep "^verdict  *server side: fail (0 of 1 targets answered)\$" out-dead
'

test_expect_success 'the server SRV records lead to the server-to-server port' '
	dns "_xmpp-server._tcp.example.test=5:0:$PROSODY_S2S_PORT:localhost" \
	    "_xmpp-client._tcp.example.test=5:0:$PROSODY_PORT:localhost" &&
	ck example.test >out-srv &&
	test_grep "^srv  *_xmpp-server\._tcp\.example\.test: localhost port $PROSODY_S2S_PORT (priority 5, weight 0)\$" out-srv &&
	test_grep "^srv  *_xmpps-server\._tcp\.example\.test: none\$" out-srv &&
	test_grep "^server  *localhost port $PROSODY_S2S_PORT (SRV _xmpp-server\._tcp, STARTTLS)\$" out-srv &&
	test_grep "^client  *localhost port $PROSODY_PORT (SRV _xmpp-client\._tcp, STARTTLS)\$" out-srv &&
	test_grep "^verdict  *server side: good " out-srv
'

test_expect_success 'with an account: login --check follows the report' '
	XMPCTL_PASSWORD=$ALICE_PASS xmpctl --cafile "$TEST_CA" --timeout 10 \
		-j alice@example.test check --server "$C2S" example.test >out-acct &&
	test_grep "^verdict  *client side: good " out-acct &&
	test_grep "^jid  *alice@example\.test/" out-acct
'

test_expect_success '... and then the server held against XEP-0479 (2023)' '
	test_grep "^xep-0479  *Core: Feature discovery (XEP-0030, Server): advertised\$" out-acct &&
	test_grep "^xep-0479  *Core: Server extensibility (XEP-0114, Server): not discoverable\$" out-acct &&
	test_grep "^xep-0479  *IM: Group chat (XEP-0045, Server): advertised\$" out-acct &&
	test_grep "^xep-0479  *IM: Stream management (XEP-0198, Advanced Server): advertised\$" out-acct &&
	test_grep "^xep-0479  *IM: File upload (XEP-0363, Server): lacking\$" out-acct &&
	test_grep "^xep-0479  *Core Server: met\$" out-acct &&
	test_grep "^xep-0479  *IM Server: lacks XEP-0363\$" out-acct &&
	test_grep "^xep-0479  *Core Advanced Server: lacks XEP-0368\$" out-acct
'

test_expect_success '... in JSON: a requirement and a suite per object' '
	XMPCTL_PASSWORD=$ALICE_PASS xmpctl --cafile "$TEST_CA" --timeout 10 \
		-j alice@example.test check --server "$C2S" --format json \
		example.test >acct.json &&
	grep "\"kind\":\"requirement\",\"suite\":\"IM\",\"feature\":\"vcard-temp\"" acct.json >vcard.json &&
	test "$(json_get vcard.json "o[\"status\"]")" = advertised &&
	grep "\"kind\":\"compliance\",\"suite\":\"Mobile\",\"level\":\"Server\"" acct.json >mobile.json &&
	test "$(json_get mobile.json "o[\"met\"]")" = True
'

test_expect_success 'usage: no domain, a JID, an unknown requirement, a bad port (64)' '
	expect_exit 64 xmpctl check 2>err1 &&
	test_grep "no domain given" err1 &&
	expect_exit 64 xmpctl check alice@example.test 2>err2 &&
	test_grep "is not a domain" err2 &&
	expect_exit 64 xmpctl check --require tls1.4 example.test 2>err3 &&
	test_grep "require wants tls1.3, dialback or verified" err3 &&
	expect_exit 64 xmpctl check --s2s-server 127.0.0.1 example.test 2>err4 &&
	test_grep "s2s-server wants HOST:PORT" err4
'

# (mbedTLS 3.6 offers nothing older than TLS 1.2)
# shellcheck disable=SC2086 # TEST_WRAPPER is a command line
if $TEST_WRAPPER "$XMPCTL" --version | grep -q "^TLS: mbedTLS 2\." &&
   command -v openssl >/dev/null 2>&1; then
test_expect_success 'a server that still speaks TLS 1.1 only: reported as accepted, the side fails (79)' '
	openssl s_server -accept 127.0.0.1:0 -www -tls1_1 \
		-cipher "DEFAULT@SECLEVEL=0" -cert "$PKI_DIR/example.test.pem" \
		-key "$PKI_DIR/example.test.key" </dev/null >s11.out 2>s11.err &
	s11=$! &&
	wait_for "grep -q \"^ACCEPT \" s11.out" 20 "s_server to listen" &&
	port=$(sed -n "s/^ACCEPT .*:\([0-9][0-9]*\)\$/\1/p" s11.out) &&
	expect_exit 79 xmpctl --cafile "$TEST_CA" --timeout 3 --direct-tls \
		check --server "127.0.0.1:$port" example.test >out-11
	rc=$?
	kill "$s11"
	test "$rc" = 0 &&
	test_grep "^versions  *accepted: TLS 1\.1\$" out-11 &&
	test_grep "^verdict  *client side: fail " out-11 &&
	test_grep "^because  *127\.0\.0\.1 port $port: TLS 1\.1 is still accepted" out-11
'
fi

if command -v openssl >/dev/null 2>&1; then
test_expect_success 'a server that takes static RSA with CBC only: that suite alone, the reason said' '
	openssl s_server -accept 127.0.0.1:0 -www -tls1_2 -cipher AES128-SHA \
		-cert "$PKI_DIR/example.test.pem" \
		-key "$PKI_DIR/example.test.key" </dev/null >srsa.out 2>srsa.err &
	srsa=$! &&
	wait_for "grep -q \"^ACCEPT \" srsa.out" 20 "s_server to listen" &&
	port=$(sed -n "s/^ACCEPT .*:\([0-9][0-9]*\)\$/\1/p" srsa.out) &&
	expect_exit 79 xmpctl --cafile "$TEST_CA" --timeout 3 --direct-tls \
		check --server "127.0.0.1:$port" example.test >out-rsa &&
	xmpctl --cafile "$TEST_CA" --timeout 3 --direct-tls check \
		--server "127.0.0.1:$port" --format json example.test >rsa.json
	rc=$?
	kill "$srsa"
	test "$rc" = 79 &&
	test "$(grep -c "^suite " out-rsa)" = 1 &&
	test_grep "^suite  *TLS 1\.2 TLS-RSA-WITH-AES-128-CBC-SHA (weak: no forward secrecy, CBC)\$" out-rsa &&
	test_grep "^because  *127\.0\.0\.1 port $port: weak cipher suites accepted (no forward secrecy, CBC)" out-rsa &&
	grep "\"kind\":\"c2s\"" rsa.json >rsa-c2s.json &&
	test "$(json_get rsa-c2s.json "\",\".join(o[\"suites\"])")" = TLS1.2 &&
	test "$(json_get rsa-c2s.json "\",\".join(o[\"suites\"][\"TLS1.2\"])")" = TLS-RSA-WITH-AES-128-CBC-SHA &&
	test "$(json_get rsa-c2s.json "\",\".join(o[\"weak_suites\"])")" = TLS-RSA-WITH-AES-128-CBC-SHA
'

# chain_server NAME FLAGS...: openssl s_server (direct TLS, no XMPP) with
# the certificate of example.test signed by an intermediate CA under the
# test CA, on a port of its choosing; its port in S_PORT
chain_pids=
test_atexit 'for p in $chain_pids; do kill "$p" 2>/dev/null; done'
chain_server() {
	_cn=$1
	shift
	openssl s_server -accept 127.0.0.1:0 -www -cert inter/leaf.pem \
		-key inter/leaf.key "$@" </dev/null >"$_cn.out" 2>"$_cn.err" &
	chain_pids="$chain_pids $!"
	wait_for "grep -q \"^ACCEPT \" $_cn.out" 20 "s_server $_cn to listen" &&
	S_PORT=$(sed -n "s/^ACCEPT .*:\([0-9][0-9]*\)\$/\1/p" "$_cn.out") &&
	test -n "$S_PORT"
}

test_expect_success 'a chain without its intermediate: reported as such, not verified' '
	mkdir -p inter &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout inter/ca.key -subj "/CN=xmpctl test intermediate" \
		-out inter/ca.csr 2>/dev/null &&
	printf "%s\n" "basicConstraints = critical, CA:TRUE" \
		"keyUsage = critical, keyCertSign, cRLSign" >inter/ca.ext &&
	openssl x509 -req -in inter/ca.csr -CA "$PKI_DIR/ca.pem" \
		-CAkey "$PKI_DIR/ca.key" -set_serial 0x1234 -days 2 -sha256 \
		-extfile inter/ca.ext -out inter/ca.pem 2>/dev/null &&
	_pki_cert inter leaf example.test &&
	chain_server broken &&
	expect_exit 75 xmpctl --cafile "$TEST_CA" --timeout 3 --direct-tls \
		check --server "127.0.0.1:$S_PORT" example.test >out-broken &&
	test_grep "^chain  *0: CN=example\.test; issuer CN=xmpctl test intermediate; " out-broken &&
	test_grep ! "^chain  *1: " out-broken &&
	test_grep "^verified  *NO: not signed by a trusted CA" out-broken &&
	test_grep "^because  *127\.0\.0\.1 port $S_PORT: certificate not valid for example\.test (not signed by a trusted CA" out-broken &&
	test_grep ! "^features " out-broken
'

test_expect_success '... and with it sent: the whole chain, verified' '
	chain_server whole -cert_chain inter/ca.pem &&
	expect_exit 75 xmpctl --cafile "$TEST_CA" --timeout 3 --direct-tls \
		check --server "127.0.0.1:$S_PORT" example.test >out-whole &&
	test_grep "^chain  *1: CN=xmpctl test intermediate; issuer CN=xmpctl test CA; " out-whole &&
	test_grep "^verified  *for example\.test\$" out-whole
'
fi

prosody_stop
prosody_start wrong wrong-name >/dev/null 2>&1 || bail_out 'cannot start Prosody (wrong-name)'

test_expect_success 'a certificate for another name: reported, verdict weak, exit 0' '
	ck --server "127.0.0.1:$PROSODY_PORT" example.test >out-wrong &&
	test_grep "^verified  *NO: .*wrong\.test" out-wrong &&
	test_grep "^verdict  *client side: weak " out-wrong &&
	test_grep "^because  *127\.0\.0\.1 port $PROSODY_PORT: certificate not valid for example\.test" out-wrong
'

test_expect_success '... and --require verified makes that exit 2' '
	expect_exit 2 ck --server "127.0.0.1:$PROSODY_PORT" --require verified \
		example.test >/dev/null
'

test_done
