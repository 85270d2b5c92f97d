#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0101-hostile-session.sh - a scripted server that negotiates TLS and
# SASL properly, then misbehaves: binds another account, changes case and
# resource, never acknowledges, drops the connection after a message,
# spoofs the acknowledgement, bounces the message, pings after our close.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/hostile/fake.sh"

fake_cert

{ script_to_bind; script_bound alice@example.test/srv-chosen; script_goodbye; } >case.script
test_expect_success 'the server may fold case and pick another resource' '
	fake case &&
	run case --cafile cert.pem -j Alice@example.test -r mine login &&
	test_grep "^jid  *alice@example\.test/srv-chosen\$" case.out &&
	test_grep "<resource>mine</resource>" case.err
'

{ script_to_bind; script_bound mallory@example.test/x; echo hang; } >mallory.script
test_expect_success 'binding another account is refused (76)' '
	fake mallory &&
	expect_exit 76 run mallory --cafile cert.pem login &&
	test_grep "server bound mallory@example.test/x, which is not alice@example.test" mallory.err
'

{ script_to_bind; script_bound alice@example.test/r; cat <<SCRIPT
expect </stream:stream>
send <iq type='get' id='late-ping' from='example.test'><ping xmlns='urn:xmpp:ping'/></iq>
hang
SCRIPT
} >lateping.script
test_expect_success 'nothing is sent after our </stream:stream> (RFC 6120 4.4)' '
	fake lateping &&
	run lateping --cafile cert.pem --timeout 2 login &&
	test_grep "late-ping" lateping.err &&
	test_grep ! "late-ping" lateping.sent &&
	test_grep "</stream:stream>\$" lateping.sent
'

{ script_to_bind; script_bound alice@example.test/r; cat <<SCRIPT
send <iq type='get' id='early-ping' from='example.test'><ping xmlns='urn:xmpp:ping'/></iq>
expect id='early-ping'
expect </stream:stream>
send </stream:stream>
hang
SCRIPT
} >ping.script
test_expect_success 'a ping from the server while ready is answered' '
	fake ping &&
	expect_exit 81 run ping --cafile cert.pem --timeout 2 send bob@example.test hi &&
	test_grep "<iq id=.early-ping. to=.example.test. type=.result./>" ping.sent &&
	test_grep "not acknowledged by the server" ping.err
'

# send: the message goes out, then the ping that asks for the ack.
{ script_to_bind; script_bound alice@example.test/r; cat <<SCRIPT
expect urn:xmpp:ping'/></iq>
hang
SCRIPT
} >noack.script
test_expect_success 'a server that never acknowledges: not delivered (81)' '
	fake noack &&
	expect_exit 81 run noack --cafile cert.pem --timeout 2 send bob@example.test "never acked" &&
	test_grep "never acked" noack.sent &&
	test_grep "not acknowledged by the server" noack.err
'

{ script_to_bind; script_bound alice@example.test/r; cat <<SCRIPT
expect urn:xmpp:ping'/></iq>
close
SCRIPT
} >drop.script
test_expect_success 'the connection drops before the acknowledgement (81)' '
	fake drop &&
	expect_exit 81 run drop --cafile cert.pem send bob@example.test "dropped" &&
	test_grep "not acknowledged by the server" drop.err
'

{ script_to_bind; script_bound alice@example.test/r; cat <<SCRIPT
expect urn:xmpp:ping'/></iq>
send <iq type='result' id='\$ID' from='mallory@example.test'/>
hang
SCRIPT
} >spoof.script
test_expect_success 'an acknowledgement from another JID does not count (81)' '
	fake spoof &&
	expect_exit 81 run spoof --cafile cert.pem --timeout 2 send bob@example.test "spoofed" &&
	test_grep "not acknowledged" spoof.err
'

{ script_to_bind; script_bound alice@example.test/r; script_ack; script_goodbye; } >acked.script
test_expect_success 'the same server acknowledging properly: exit 0' '
	fake acked &&
	run acked --cafile cert.pem send bob@example.test "acked" &&
	test_grep "acked" acked.sent
'

{ script_to_bind; script_bound alice@example.test/r; cat <<SCRIPT
expect </message>
send <message type='error' id='\$ID' from='bob@example.test'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>
SCRIPT
script_ack; script_goodbye; } >bounce.script
test_expect_success 'a bounced message is a remote error (80)' '
	fake bounce &&
	expect_exit 80 run bounce --cafile cert.pem send bob@example.test "bounced" &&
	test_grep "bounced: item-not-found" bounce.err
'

{ script_to_bind; script_bound alice@example.test/r; cat <<SCRIPT
expect </message>
send <message type='error' id='not-yours' from='bob@example.test'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>
SCRIPT
script_ack; script_goodbye; } >otherbounce.script
test_expect_success 'an error for another message id is not our bounce' '
	fake otherbounce &&
	run otherbounce --cafile cert.pem send bob@example.test "fine"
'

test_done
