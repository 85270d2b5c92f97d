#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0105-audit.sh - a scripted server that keeps asking after SASL has
# finished: a <challenge/> after PLAIN's initial response is a protocol
# error, answered by nothing (the credentials go out once), and the trace
# shows no SASL payload and not its length.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/hostile/fake.sh"

fake_cert

# The initial response PLAIN sends for alice (RFC 4616), as fake.sh's run
# gives the password.
plain_b64=$(printf '\000alice\000secret-password' | base64)

challenge="send <challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>=</challenge>"
{ script_to_auth; cat <<SCRIPT; } >again.script
$challenge
expect </response>
$challenge
expect </response>
$challenge
hang
SCRIPT
# The server hangs after its challenges: a client that does not stop at
# the first one runs into --timeout (75) instead of 76.
test_expect_success 'a challenge after PLAIN finished ends the session at once (76)' '
	fake again &&
	expect_exit 76 run again --cafile cert.pem --timeout 30 login &&
	test_grep "server sent a SASL challenge after PLAIN had finished" again.err
'

test_expect_success '... and the password reached the server only once' '
	test "$(grep -c "$plain_b64" again.sent)" = 1 &&
	test_grep ! "<response" again.sent
'

test_expect_success 'the trace shows neither SASL payloads nor their length' '
	test_grep "mechanism=.PLAIN.>\[redacted\]</auth>\$" again.err &&
	test_grep "<< <challenge xmlns=.urn:ietf:params:xml:ns:xmpp-sasl.>\[redacted\]</challenge>\$" again.err &&
	test_grep ! "redacted [0-9]" again.err &&
	test_grep ! "$plain_b64" again.err
'

test_done
