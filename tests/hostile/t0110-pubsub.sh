#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0110-pubsub.sh - xmpctl pubsub against a scripted server, for what the
# real ones do not do on demand: a service that requires subscription
# ids to unsubscribe (XEP-0060 §6.2.3.3), an error with an unsupported
# feature, the session ending before a change or a reading is answered,
# and an event whose payload carries terminal controls.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/hostile/fake.sh"

fake_cert

ready() {
	script_to_bind
	script_bound alice@example.test/r
}
PS=pubsub.example.test
NS=http://jabber.org/protocol/pubsub

{ ready; cat <<SCRIPT
expect </iq>
send <iq type='error' id='\$ID' from='$PS'><error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><subid-required xmlns='$NS#errors'/></error></iq>
expect </iq>
send <iq type='result' id='\$ID' from='$PS'><pubsub xmlns='$NS'><subscriptions node='n1'><subscription node='n1' jid='alice@example.test' subscription='subscribed' subid='s1'/><subscription node='n1' jid='alice@example.test' subscription='subscribed' subid='s2'/><subscription node='other' jid='alice@example.test' subscription='subscribed' subid='s3'/></subscriptions></pubsub></iq>
expect </iq>
send <iq type='result' id='\$ID' from='$PS'/>
expect </iq>
send <iq type='result' id='\$ID' from='$PS'/>
SCRIPT
script_goodbye; } >subid.script

test_expect_success 'unsubscribe where the service requires subscription ids: each ended with its own' '
	fake subid &&
	run subid --cafile cert.pem pubsub --service "$PS" unsubscribe n1 &&
	test_grep "<unsubscribe node=.n1. jid=.alice@example.test./>" subid.sent &&
	test_grep "<subscriptions node=.n1./>" subid.sent &&
	test_grep "<unsubscribe node=.n1. jid=.alice@example.test. subid=.s1./>" subid.sent &&
	test_grep "<unsubscribe node=.n1. jid=.alice@example.test. subid=.s2./>" subid.sent &&
	test_grep ! "subid=.s3." subid.sent &&
	test_must_be_empty subid.out
'

{ ready; cat <<SCRIPT
expect </iq>
send <iq type='error' id='\$ID' from='$PS'><error type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><unsupported xmlns='$NS#errors' feature='publish-options'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no preconditions here</text></error></iq>
SCRIPT
script_goodbye; } >unsupported.script

test_expect_success 'an error names the PubSub condition and its feature (80)' '
	fake unsupported &&
	expect_exit 80 run unsupported --cafile cert.pem pubsub --service "$PS" \
		publish n1 --option pubsub#access_model=open "<a xmlns=\"urn:t\"/>" &&
	test_grep "<publish-options><x xmlns=.jabber:x:data. type=.submit.><field var=.FORM_TYPE. type=.hidden.><value>$NS#publish-options</value></field><field var=.pubsub#access_model.><value>open</value></field></x></publish-options>" unsupported.sent &&
	test_grep "^xmpctl: pubsub publish n1: error from $PS: feature-not-implemented, unsupported publish-options (no preconditions here)\$" unsupported.err
'

{ ready; cat <<SCRIPT
expect </iq>
close
SCRIPT
} >dropchange.script

test_expect_success 'the session ends before a change is answered: in doubt (81)' '
	fake dropchange &&
	expect_exit 81 run dropchange --cafile cert.pem pubsub --service "$PS" purge n1 &&
	test_grep "<purge node=.n1./>" dropchange.sent &&
	test_grep "^xmpctl: pubsub purge: no answer from the server before the session ended: the change may or may not have been made\$" dropchange.err
'

{ ready; cat <<SCRIPT
expect </iq>
close
SCRIPT
} >dropread.script

test_expect_success '... before a reading is answered: the session'"'"'s status (69)' '
	fake dropread &&
	expect_exit 69 run dropread --cafile cert.pem pubsub --service "$PS" items n1 &&
	test_grep ! "may or may not" dropread.err
'

{ ready; cat <<SCRIPT
expect <presence
send <message from='$PS' to='alice@example.test/r'><event xmlns='$NS#event'><items node='n1'><item id='i1'><t xmlns='urn:t'>a\\Cbell</t></item><retract id='i0'/></items></event></message>
send <message from='$PS' to='alice@example.test/r'><event xmlns='$NS#event'><delete node='n2'/></event></message>
hang
SCRIPT
} >event.script

test_expect_success 'listen: an event a line each, terminal controls made harmless' '
	fake event &&
	run event --cafile cert.pem listen --count 2 &&
	test_grep " pubsub n1@$PS: item i1 published: <t xmlns=.urn:t.>a.*bell</t>\$" event.out &&
	test_grep " pubsub n1@$PS: item i0 retracted\$" event.out &&
	test_grep " pubsub n2@$PS: node deleted\$" event.out &&
	test_grep ! "$(printf "\\302\\233")" event.out
'
test_done
