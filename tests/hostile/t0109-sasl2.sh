#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0109-sasl2.sh - a scripted server that offers SASL2 (XEP-0388), Bind2
# (XEP-0386) and FAST (XEP-0484) and then abuses them: a FAST login it
# does not prove (no or a wrong Responder proof, also with a message that
# went with the login), an authorization identifier that is someone
# else, SASL2 and FAST on a stream without TLS, tasks after
# authentication, a SCRAM <success/> without the server's final message,
# tokens that cannot be kept, <bound/> without <enabled/>, a refused
# pipelined token, and --insecure, which never uses a token.
#
# The token is HT-SHA-256-NONE (--fast-unbound): without channel binding
# the server's proof is HMAC-SHA-256(token, "Responder"), which the test
# computes for the fake.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/hostile/fake.sh"

fake_cert

# the token no output, trace or byte the client sends may show
TOKEN_VALUE=tok-$$-Qz9.fast
TEST_SECRETS="${TEST_SECRETS:-} $TOKEN_VALUE"
# every run keeps the token file the test writes
XMPCTL_TEST_FAST=keep
export XMPCTL_TEST_FAST
FAST_DIR=$XDG_DATA_HOME/xmpctl/fast
FAST_FILE=$FAST_DIR/alice@example.test

# token_file [TOKEN]: the account's token, as xmpctl writes it
token_file() {
	mkdir -p "$FAST_DIR" && chmod 700 "$XDG_DATA_HOME/xmpctl" "$FAST_DIR" &&
	printf 'xmpctl-fast 1\nmech HT-SHA-256-NONE\ntoken %s\nexpiry 0\nsaved %s\n' \
		"${1:-$TOKEN_VALUE}" "$(date +%s)" >"$FAST_FILE" &&
	chmod 600 "$FAST_FILE"
}

# proof TOKEN [LABEL]: base64 of HMAC-SHA-256(TOKEN, LABEL), LABEL
# Responder by default: the server's proof without channel binding
proof() {
	"$PYTHON" -c 'import base64, hashlib, hmac, sys
print(base64.b64encode(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(),
                                hashlib.sha256).digest()).decode())' \
		"$1" "${2:-Responder}"
}
GOOD_PROOF=$(proof "$TOKEN_VALUE")
# the client's own proof sent back, and the proof of another token
MIRROR_PROOF=$(proof "$TOKEN_VALUE" Initiator)
OTHER_PROOF=$(proof "not-$TOKEN_VALUE")

TLS_F="<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>"
FAST_NONE="<fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism></fast>"
BIND2_SM="<bind xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:sm:3'/></inline></bind>"
SM="xmlns='urn:xmpp:sm:3'"
SASL2="xmlns='urn:xmpp:sasl:2'"
AUTHZ="<authorization-identifier>alice@example.test/x</authorization-identifier>"

# sasl2_features MECH... : the SASL2 features with FAST (-NONE) and
# Bind2 (with stream management), on one line
sasl2_features() {
	printf "<stream:features><authentication %s>" "$SASL2"
	for _m; do
		printf '<mechanism>%s</mechanism>' "$_m"
	done
	printf '<inline>%s%s</inline></authentication></stream:features>' \
		"$FAST_NONE" "$BIND2_SM"
}

# to_sasl2 MECH...: STARTTLS, then the SASL2 features, up to the client's
# </authenticate>
to_sasl2() {
	printf 'expect <stream:stream\n'
	printf 'send $HEADER%s\n' "$TLS_F"
	printf 'expect <starttls\n'
	printf 'starttls %s %s\n' "$TEST_TMP/cert.pem" "$TEST_TMP/key.pem"
	printf 'expect <stream:stream\n'
	printf 'send $HEADER%s\n' "$(sasl2_features "$@")"
	printf 'expect </authenticate>\n'
}

# success [ADDITIONAL] [INSIDE-BOUND]: <success/> with the bound JID
# alice@example.test/x, then the features after it
success() {
	printf 'send <success %s>%s%s<bound xmlns=%s>%s</bound></success><stream:features/>\n' \
		"$SASL2" "${1:+<additional-data>$1</additional-data>}" "$AUTHZ" \
		"'urn:xmpp:bind:0'" "${2:-}"
}

# split_log LOG FIRST SECOND: the bytes of the two connections apart
split_log() {
	"$PYTHON" -c 'import sys
a, b = open(sys.argv[1], "rb").read().split(b"[second connection]")
open(sys.argv[2], "wb").write(a)
open(sys.argv[3], "wb").write(b)' "$@"
}

# ---- 1. HT <success/> that does not prove the token --------------------

{ to_sasl2 PLAIN; success "$GOOD_PROOF"; script_goodbye; } >htok.script
test_expect_success 'HT-SHA-256-NONE with the right Responder proof logs in' '
	token_file &&
	fake htok &&
	run htok --cafile cert.pem --fast-unbound login &&
	test_grep "^jid  *alice@example\.test/x\$" htok.out &&
	test_grep "<authenticate $SASL2 mechanism=.HT-SHA-256-NONE.>" htok.sent &&
	test_grep ! "$TOKEN_VALUE" htok.sent &&
	test_grep ! "secret-password" htok.sent
'

# the proof missing, the client's own proof mirrored, another token's
n=0
for add in "" "$MIRROR_PROOF" "$OTHER_PROOF" "not base64!"; do
	n=$((n + 1))
	{ to_sasl2 PLAIN; success "$add"; echo hang; } >htbad$n.script
done
test_expect_success 'HT <success/> without <additional-data>: not authenticated (77)' '
	token_file &&
	fake htbad1 &&
	expect_exit 77 run htbad1 --cafile cert.pem --fast-unbound login &&
	test_grep "server example.test did not prove that it holds the FAST token (HT-SHA-256-NONE)" htbad1.err &&
	test_grep "mechanism=.HT-SHA-256-NONE." htbad1.sent &&
	test_grep ! "$TOKEN_VALUE" htbad1.sent &&
	test_grep ! "^jid" htbad1.out
'
test_expect_success '... nor with a wrong one: our own proof, another token'"'"'s, not base64 (77)' '
	bad= &&
	for n in 2 3 4; do
		{ token_file &&
		  fake htbad$n &&
		  expect_exit 77 run htbad$n --cafile cert.pem --fast-unbound login &&
		  test_grep "did not prove that it holds the FAST token" htbad$n.err
		} || bad="$bad htbad$n"
	done &&
	test -z "$bad"
'

# send: the message goes with the login, before the <success/> that
# does not prove the token
{ to_sasl2 PLAIN; echo "expect urn:xmpp:ping'/></iq>"; success "$MIRROR_PROOF" "<enabled $SM/>"; echo hang; } >htsend.script
test_expect_success 'a pipelined message with an unproven login may have reached the server (77)' '
	token_file &&
	fake htsend &&
	expect_exit 77 run htsend --cafile cert.pem --fast-unbound send bob@example.test "early bird" &&
	test_grep "<body>early bird</body>" htsend.sent &&
	test_grep "did not prove that it holds the FAST token" htsend.err &&
	test_grep "message to bob@example.test: .*it went with the login and may have reached the server" htsend.err &&
	test_grep ! "delivered" htsend.err &&
	test_grep ! "<a $SM" htsend.sent
'

# ---- 2. an authorization identifier that is not us ----------------------

n=0
for id in mallory@example.test/x alice@evil.test/x alice@example.test; do
	n=$((n + 1))
	{ to_sasl2 PLAIN
	  printf 'send <success %s><authorization-identifier>%s</authorization-identifier><bound xmlns=%s/></success><stream:features/>\n' \
		"$SASL2" "$id" "'urn:xmpp:bind:0'"
	  echo hang; } >authz$n.script
done
test_expect_success '<authorization-identifier> of another account: protocol error (76), nothing sent' '
	fake authz1 &&
	expect_exit 76 run authz1 --cafile cert.pem send bob@example.test "for alice" &&
	test_grep "<bind xmlns=.urn:xmpp:bind:0.>" authz1.sent &&
	test_grep "server authorized us as mallory@example.test/x, which is not alice@example.test" authz1.err &&
	test_grep ! "<message" authz1.sent
'
test_expect_success '... of another domain (76)' '
	fake authz2 &&
	expect_exit 76 run authz2 --cafile cert.pem send bob@example.test "for alice" &&
	test_grep "server authorized us as alice@evil.test/x, which is not alice@example.test" authz2.err &&
	test_grep ! "<message" authz2.sent
'
test_expect_success '... a bare JID for a resource Bind2 bound (76)' '
	fake authz3 &&
	expect_exit 76 run authz3 --cafile cert.pem send bob@example.test "for alice" &&
	test_grep "server authorized us as alice@example.test, without a resource" authz3.err &&
	test_grep ! "<message" authz3.sent
'

# ---- 3. SASL2 and FAST without TLS --------------------------------------

cat >plain.script <<SCRIPT
expect <stream:stream
send \$HEADER$(sasl2_features PLAIN)
hang
SCRIPT
test_expect_success 'SASL2 and FAST on a stream without STARTTLS: refused (79), nothing of either sent' '
	token_file &&
	fake plain &&
	expect_exit 79 run plain --cafile cert.pem --fast-unbound login &&
	test_grep "server example.test does not offer STARTTLS" plain.err &&
	test_grep "<stream:stream" plain.sent &&
	test_grep ! "<authenticate" plain.sent &&
	test_grep ! "<auth" plain.sent &&
	test_grep ! "HT-SHA-256" plain.sent &&
	test_grep ! "initial-response" plain.sent &&
	test_grep ! "$TOKEN_VALUE" plain.sent &&
	test_grep ! "secret-password" plain.sent
'

# ---- 4. tasks after authentication --------------------------------------

# XEP-0388 §2.6.3: a client that cannot do the tasks aborts: the
# <abort/> must reach the server before the close, not only the trace.

{ to_sasl2 PLAIN; cat <<SCRIPT
send <continue $SASL2><additional-data>SSBhY2NlcHQgeW91</additional-data><tasks><task>HOTP-EXAMPLE</task><task>TOTP-EXAMPLE</task></tasks><text>2FA</text></continue>
expect <abort
hang
SCRIPT
} >tasks.script
test_expect_success '<continue/> with tasks xmpctl does not do: <abort/>, not authenticated (77)' '
	fake tasks &&
	expect_exit 77 run tasks --cafile cert.pem send bob@example.test "after tasks" &&
	test_grep "<abort $SASL2/>" tasks.sent &&
	test_grep "server example.test asks for tasks HOTP-EXAMPLE TOTP-EXAMPLE after authentication" tasks.err &&
	test_grep ! "<message" tasks.sent
'

# the same under a pipelined FAST login: the message went ahead
{ to_sasl2 PLAIN; cat <<SCRIPT
expect urn:xmpp:ping'/></iq>
send <continue $SASL2><tasks><task>HOTP-EXAMPLE</task></tasks></continue>
expect <abort
hang
SCRIPT
} >htasks.script
test_expect_success '... also with a message that went with a FAST login, never said delivered (77)' '
	token_file &&
	fake htasks &&
	expect_exit 77 run htasks --cafile cert.pem --fast-unbound send bob@example.test "early task" &&
	test_grep "<abort $SASL2/>" htasks.sent &&
	test_grep "asks for task HOTP-EXAMPLE after authentication" htasks.err &&
	test_grep ! " delivered" htasks.err
'

# ---- 5. SCRAM <success/> before the server's final message --------------

{ to_sasl2 SCRAM-SHA-1; echo "send <success $SASL2>$AUTHZ</success><stream:features/>"; echo hang; } >scram1.script
{ to_sasl2 SCRAM-SHA-1; echo "send <success $SASL2><additional-data>dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9</additional-data>$AUTHZ</success><stream:features/>"; echo hang; } >scram2.script
test_expect_success 'SCRAM <success/> before any challenge: not authenticated (77)' '
	fake scram1 &&
	expect_exit 77 run scram1 --cafile cert.pem send bob@example.test "scram" &&
	test_grep "server claimed SASL success but failed to prove it knows the password" scram1.err &&
	test_grep "mechanism=.SCRAM-SHA-1.>" scram1.sent &&
	test_grep ! "<response" scram1.sent &&
	test_grep ! "<message" scram1.sent
'
test_expect_success '... also with a server-final message of its own (77)' '
	fake scram2 &&
	expect_exit 77 run scram2 --cafile cert.pem send bob@example.test "scram" &&
	test_grep "server claimed SASL success but failed to prove it knows the password" scram2.err &&
	test_grep ! "<message" scram2.sent
'

# ---- 6. tokens that are not kept ----------------------------------------

LONG_TOKEN=$("$PYTHON" -c 'print("T" * 1025)')
# token_success NAME TOKEN: a password login asking for a token, and a
# <success/> with TOKEN, then a clean close
token_success() {
	{ to_sasl2 PLAIN
	  printf "send <success %s>%s<token xmlns='urn:xmpp:fast:0' token='%s' expiry='2099-01-01T00:00:00Z'/><bound xmlns='urn:xmpp:bind:0'/></success><stream:features/>\n" \
		"$SASL2" "$AUTHZ" "$2"
	  script_goodbye; } >"$1.script"
}
token_success tokgood "issued-$$.ok"
token_success tokspace "two words"
token_success toktab "tab&#9;in"
token_success tokutf8 "t$(printf '\303\266')ken"
token_success toklong "$LONG_TOKEN"
test_expect_success 'a token asked for is kept' '
	rm -rf "$FAST_DIR" &&
	fake tokgood &&
	run tokgood --cafile cert.pem --fast-unbound login &&
	test_grep "<request-token xmlns=.urn:xmpp:fast:0. mechanism=.HT-SHA-256-NONE./>" tokgood.sent &&
	test_grep "^token issued-$$\.ok\$" "$FAST_FILE"
'
test_expect_success 'a token with a space, a tab, a byte above ASCII or over 1 KiB is not kept; the login succeeds' '
	bad= &&
	for n in tokspace toktab tokutf8 toklong; do
		{ rm -rf "$FAST_DIR" &&
		  fake $n &&
		  run $n --cafile cert.pem --fast-unbound login &&
		  test_grep "^jid  *alice@example\.test/x\$" $n.out &&
		  test_grep "request-token" $n.sent &&
		  ! test -e "$FAST_FILE"
		} || bad="$bad $n"
	done &&
	test -z "$bad"
'

# a token the client did not ask for (FAST -NONE offered, no
# --fast-unbound)
token_success tokunasked "unasked-$$"
test_expect_success 'a token not asked for is not kept' '
	rm -rf "$FAST_DIR" &&
	fake tokunasked &&
	run tokunasked --cafile cert.pem login &&
	test_grep ! "request-token" tokunasked.sent &&
	! test -e "$FAST_FILE"
'

# a renewal with the token (proven) that cannot be kept: the old stays
{ to_sasl2 PLAIN
  printf "send <success %s><additional-data>%s</additional-data>%s<token xmlns='urn:xmpp:fast:0' token='%s'/><bound xmlns='urn:xmpp:bind:0'/></success><stream:features/>\n" \
	"$SASL2" "$GOOD_PROOF" "$AUTHZ" "$LONG_TOKEN"
  script_goodbye; } >tokrenew.script
test_expect_success '... and a renewal that cannot be kept leaves the token file as it was' '
	token_file &&
	cp "$FAST_FILE" fast-before &&
	fake tokrenew &&
	run tokrenew --cafile cert.pem --fast-unbound login &&
	test_grep "mechanism=.HT-SHA-256-NONE." tokrenew.sent &&
	test_cmp fast-before "$FAST_FILE"
'

# ---- 7. <bound/> without <enabled/> -------------------------------------

# the first ping is the bounce barrier, sent with the login; the second
# asks for the acknowledgement that stream management would have given
{ to_sasl2 PLAIN; echo "expect urn:xmpp:ping'/></iq>"; success "$GOOD_PROOF"
  echo "send <iq type='result' id='\$ID' from='example.test'/>"
  script_ack; script_goodbye; } >noenabled.script
test_expect_success 'Bind2 without <enabled/> under a pipelined send: the ack by ping, exit 0' '
	token_file &&
	fake noenabled &&
	run noenabled --cafile cert.pem --fast-unbound send bob@example.test "pinged" &&
	test_grep "<enable $SM/></bind>" noenabled.sent &&
	test_grep "<body>pinged</body>" noenabled.sent &&
	test "$(grep -o "<iq type=.get.[^>]*><ping xmlns=.urn:xmpp:ping./>" noenabled.sent | wc -l)" = 2
'

# ---- 8. a refused pipelined token, and the stream closed ----------------

{ to_sasl2 PLAIN; cat <<SCRIPT
expect urn:xmpp:ping'/></iq>
send <failure $SASL2><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure><stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>
note [second connection]
reconnect
SCRIPT
  to_sasl2 PLAIN; success "" "<enabled $SM/>"; cat <<SCRIPT
expect urn:xmpp:ping'/></iq>
send <iq type='result' id='\$ID' from='example.test'/><a $SM h='2'/>
SCRIPT
  script_goodbye; } >refused.script
test_expect_success 'a refused pipelined token: a second connection with the password sends the message once' '
	token_file &&
	fake refused &&
	run refused --cafile cert.pem --fast-unbound send bob@example.test "once more" &&
	split_log refused.sent first.sent second.sent &&
	test_grep "mechanism=.HT-SHA-256-NONE." first.sent &&
	test_grep "<body>once more</body>" first.sent &&
	test_grep "mechanism=.PLAIN." second.sent &&
	test_grep ! "<authenticate $SASL2 mechanism=.HT-" second.sent &&
	test "$(grep -o "<body>once more</body>" second.sent | wc -l)" = 1 &&
	! test -e "$FAST_FILE"
'

# ---- 9. --insecure ------------------------------------------------------

{ to_sasl2 SCRAM-SHA-1; echo close; } >insecure.script
test_expect_success '--insecure: no token read or sent, no token asked for' '
	token_file &&
	fake insecure &&
	{ run insecure --insecure --fast-unbound login; true; } &&
	test_grep "<authenticate $SASL2 mechanism=.SCRAM-SHA-1.>" insecure.sent &&
	test_grep ! "<authenticate $SASL2 mechanism=.HT-" insecure.sent &&
	test_grep ! "urn:xmpp:fast:0" insecure.sent &&
	test_grep ! "<user-agent" insecure.sent &&
	test -f "$FAST_FILE"
'

test_done
