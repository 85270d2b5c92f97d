#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0107-pipeline.sh - what xmpctl sends without waiting for the features
# (<starttls/> with the first header, the bind with the header after
# SASL), shown by servers that answer only once it has come, and what
# happens when the features then say otherwise: the same clean failure
# as without pipelining.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/hostile/fake.sh"

fake_cert

STARTTLS_F="<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>"
PLAIN_F="<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"

# a server that says nothing until <starttls/> has come: a client that
# waits for the features first never gets them
cat >early.script <<SCRIPT
expect <stream:stream
expect <starttls
send \$HEADER$STARTTLS_F
starttls $TEST_TMP/cert.pem $TEST_TMP/key.pem
expect <stream:stream
send \$HEADER$PLAIN_F
expect </auth>
send <success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>
expect <stream:stream
expect </iq>
send \$HEADER<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>
$(script_bound alice@example.test/r)
$(script_goodbye)
SCRIPT
test_expect_success '<starttls/> goes with the header, the bind with the restart' '
	fake early &&
	run early --cafile cert.pem login &&
	test_grep "^jid  *alice@example\.test/r\$" early.out
'

# the features after authentication lack bind, which is out already
{ script_to_auth; cat <<SCRIPT
send <success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>
expect <stream:stream
expect </iq>
send \$HEADER<stream:features/>
hang
SCRIPT
} >nobind.script
test_expect_success 'features without bind after the pipelined bind: protocol error (76)' '
	fake nobind &&
	expect_exit 76 run nobind --cafile cert.pem login &&
	test_grep "server does not offer resource binding" nobind.err
'

# the pipelined <starttls/> answered with <failure/>
cat >tlsfail.script <<SCRIPT
expect <starttls
send \$HEADER$STARTTLS_F<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>
hang
SCRIPT
test_expect_success 'a refused pipelined <starttls/> is a TLS failure (79)' '
	fake tlsfail &&
	expect_exit 79 run tlsfail --cafile cert.pem login &&
	test_grep "server refused STARTTLS" tlsfail.err &&
	test_grep ! "<auth" tlsfail.sent
'


test_done
