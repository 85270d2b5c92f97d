#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# pubsub.sh - "xmpctl pubsub" against each server of the matrix, on its
# PubSub service pubsub.example.test and on the accounts' own PEP
# services: a node created with a configuration, its form read and
# changed, items published (with and without an id, with a precondition
# met and one not met), fetched (all, by id, --max), retracted, purged;
# list and info; bob subscribed and his listen seeing the event; the
# owner's affiliations and subscriptions; the node deleted.  What the
# server stored is checked through another request, not through what the
# command said of its own.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"
. "$TESTS_SRCDIR/integration/tty.sh"

needs pubsub
# on Prosody, a component that never answers: a service with no answer
if server_is prosody; then
	PROSODY_COMPONENT=silent.example.test
	export PROSODY_COMPONENT
fi
server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

PS=pubsub.example.test
ps() { as alice pubsub --service "$PS" "$@"; }

# ---- before connecting ----------------------------------------------------------

# with -v, a connection would write its trace: one line of error is all
test_expect_success 'a payload that is not well-formed is refused before connecting (65)' '
	expect_exit 65 as alice -v pubsub --service "$PS" publish n1 \
		"<entry xmlns=\"urn:test\"><title>x</entry>" 2>err &&
	test_grep "^xmpctl: pubsub publish: the payload: line 1, column " err &&
	test "$(wc -l <err)" = 1 &&
	expect_exit 65 as alice -v pubsub --service "$PS" publish n1 \
		"<entry>no namespace</entry>" 2>err2 &&
	test_grep "no namespace of its own" err2 &&
	test "$(wc -l <err2)" = 1 &&
	printf "%s" "<a xmlns=\"urn:test\"><b></a>" >broken.xml &&
	expect_exit 65 as alice -v pubsub --service "$PS" publish n1 <broken.xml 2>err3 &&
	test_grep "the payload: line 1" err3 &&
	test "$(wc -l <err3)" = 1 &&
	expect_exit 65 ps publish n1 "<a xmlns=\"x\"/><b xmlns=\"y\"/>" 2>err4 &&
	test_grep "the payload: more than one element" err4
'

test_expect_success 'usage errors (64): unknown verb, missing NODE, an option of another verb' '
	expect_exit 64 ps frobnicate 2>e1 &&
	test_grep "unknown verb .frobnicate." e1 &&
	expect_exit 64 ps retract n1 2>e2 &&
	test_grep "usage: retract NODE ID" e2 &&
	expect_exit 64 ps items n1 --notify 2>e3 &&
	test_grep "notify goes with retract" e3 &&
	expect_exit 64 ps affiliations n1 --set bob@example.test=king 2>e4 &&
	test_grep "not an affiliation" e4
'

# ---- nodes ----------------------------------------------------------------------

test_expect_success 'create with a configuration: the node has it' '
	ps create n1 --access-model open --max-items 5 \
		--config pubsub#title="build results" >out &&
	test_grep "^created  *n1\$" out &&
	ps --format json configure n1 >conf.json &&
	json_get conf.json "o[\"var\"] + \"=\" + \",\".join(o[\"values\"])" >conf &&
	test_grep "^pubsub#max_items=5\$" conf &&
	test_grep "^pubsub#access_model=open\$" conf &&
	test_grep "^pubsub#title=build results\$" conf
'

test_expect_success 'configure with KEY=VALUE changes it; text shows the form' '
	ps configure n1 --max-items 10 --config pubsub#title=builds &&
	ps configure n1 >conf.txt &&
	test_grep "^pubsub#max_items = 10\$" conf.txt &&
	test_grep "^pubsub#title = builds\$" conf.txt
'

test_expect_success 'create again: conflict, exit 80' '
	expect_exit 80 ps create n1 2>err &&
	test_grep "^xmpctl: pubsub create n1: error from $PS: conflict" err
'

test_expect_success 'list and info show the node' '
	ps --format json list >list.json &&
	json_get list.json "o[\"node\"]" >nodes &&
	test_grep "^n1\$" nodes &&
	ps --format json info n1 >info.json &&
	json_get info.json "o[\"kind\"] + \" \" + (o.get(\"category\") or o.get(\"var\") or \"\")" >info &&
	test_grep "^identity pubsub\$" info &&
	json_get info.json "o[\"type\"] if o[\"kind\"] == \"identity\" else \"\"" >itype &&
	test_grep "^leaf\$" itype &&
	json_get info.json "o[\"var\"] + \"=\" + \",\".join(o[\"values\"]) if o[\"kind\"] == \"field\" else \"\"" >meta &&
	test_grep "^FORM_TYPE=http://jabber.org/protocol/pubsub#meta-data\$" meta &&
	test_grep "^pubsub#access_model=open\$" meta
'

# ---- items ----------------------------------------------------------------------

test_expect_success 'publish with an id, and without one (the service names it)' '
	ps publish n1 --id one "<entry xmlns=\"urn:test\">first</entry>" >p1 &&
	test_grep "^published  *one\$" p1 &&
	echo "<entry xmlns=\"urn:test\">second</entry>" |
		ps --format json publish n1 >p2.json &&
	id2=$(json_get p2.json "o[\"id\"]") &&
	test -n "$id2" && test "$id2" != None &&
	echo "$id2" >id2
'

test_expect_success 'items: all, by id, --max' '
	ps --format json items n1 >all.json &&
	json_get all.json "o[\"id\"] + \" \" + o[\"payload\"]" >all &&
	test_grep "^one <entry xmlns=.urn:test.>first</entry>\$" all &&
	test_grep "^$(cat id2) <entry xmlns=.urn:test.>second</entry>\$" all &&
	test "$(wc -l <all)" = 2 &&
	ps items n1 one >byid &&
	test_grep "^one <entry xmlns=.urn:test.>first</entry>\$" byid &&
	test "$(wc -l <byid)" = 1 &&
	ps --format json items n1 --max 1 >max.json &&
	test "$(wc -l <max.json)" = 1 &&
	ps --format xml items n1 one >byid.xml &&
	test_grep "^<item .*id=.one.*><entry xmlns=.urn:test.>first</entry></item>\$" byid.xml
'

test_expect_success 'publish-options met: published' '
	ps publish n1 --id three --option pubsub#access_model=open \
		"<entry xmlns=\"urn:test\">third</entry>" >p3 &&
	test_grep "^published  *three\$" p3
'

test_expect_success 'publish-options not met: precondition-not-met, exit 80, not stored' '
	expect_exit 80 ps publish n1 --id four --option pubsub#access_model=whitelist \
		"<entry xmlns=\"urn:test\">fourth</entry>" 2>err &&
	test_grep "^xmpctl: pubsub publish n1: error from $PS: conflict, precondition-not-met" err &&
	ps items n1 >after &&
	test_grep ! "fourth" after
'

test_expect_success 'an item that is not there: item-not-found, exit 80' '
	expect_exit 80 ps items nosuchnode 2>err &&
	test_grep "item-not-found" err
'

test_expect_success 'retract: the item is gone' '
	ps retract n1 three --notify &&
	ps items n1 >after &&
	test_grep ! "third" after &&
	test_grep "first" after
'

# ---- subscriptions and events ---------------------------------------------------

test_expect_success 'bob subscribes; his subscription is listed' '
	as bob pubsub --service "$PS" --format json subscribe n1 >sub.json &&
	test "$(json_get sub.json "o[\"subscription\"]")" = subscribed &&
	as bob pubsub --service "$PS" --format json subscriptions >subs.json &&
	json_get subs.json "o[\"node\"] + \" \" + o[\"subscription\"]" >subs &&
	test_grep "^n1 subscribed\$" subs &&
	ps --format json subscriptions n1 >osubs.json &&
	json_get osubs.json "o[\"jid\"] + \" \" + o[\"subscription\"]" >osubs &&
	test_grep "^bob@example.test subscribed\$" osubs
'

test_expect_success 'bob'"'"'s listen --all shows a publication and a retraction (json)' '
	test_atexit bg_kill_all &&
	bg_start lsn bob --format json listen --all &&
	wait_for "grep -q \"\\\"kind\\\": *\\\"presence\\\"\" lsn.out" 20 "bob to be online" &&
	ps publish n1 --id live "<entry xmlns=\"urn:test\">live &amp; well</entry>" &&
	wait_for "grep -q \"\\\"event\\\": *\\\"publish\\\"\" lsn.out" 20 "the event" &&
	ps retract n1 live --notify &&
	wait_for "grep -q \"\\\"event\\\": *\\\"retract\\\"\" lsn.out" 20 "the retraction" &&
	bg_stop lsn &&
	grep "\"kind\": *\"pubsub\"" lsn.out >ev.json &&
	json_get ev.json "\" \".join([o[\"from\"], o[\"node\"], o[\"event\"], o[\"id\"], o.get(\"payload\") or \"-\"])" >ev &&
	test_grep "^$PS n1 publish live <entry xmlns=.urn:test.>live &amp; well</entry>\$" ev &&
	test_grep "^$PS n1 retract live -\$" ev
'

test_expect_success '... and in text, one line per event' '
	test_atexit bg_kill_all &&
	bg_start lsnt bob listen &&
	as carol send bob@example.test "probe" &&
	wait_for "grep -q probe lsnt.out" 20 "bob to be online" &&
	bg_start lsnx bob --format xml listen --all &&
	wait_for "grep -q \"^<presence \" lsnx.out" 20 "bob to be online twice" &&
	ps publish n1 --id text1 "<entry xmlns=\"urn:test\">shown</entry>" &&
	wait_for "grep -q \"item text1\" lsnt.out" 20 "the event" &&
	ps purge n1 &&
	wait_for "grep -q \"node purged\" lsnt.out" 20 "the purge" &&
	wait_for "grep -q \"<purge \" lsnx.out" 20 "the purge in xml" &&
	bg_stop lsnt && bg_stop lsnx &&
	test_grep " pubsub n1@$PS: item text1 published: <entry xmlns=.urn:test.>shown</entry>\$" lsnt.out &&
	test_grep " pubsub n1@$PS: node purged\$" lsnt.out &&
	test "$(grep -c "item text1 published" lsnt.out)" = 1
'

test_expect_success '... and in xml, the stanzas themselves' '
	test_grep "^<message [^>]*from=.$PS.*<event xmlns=.http://jabber.org/protocol/pubsub#event.><items node=.n1.><item id=.text1.*<entry xmlns=.urn:test.>shown</entry></item></items></event>" lsnx.out &&
	test_grep "^<message [^>]*from=.$PS.*<event xmlns=.http://jabber.org/protocol/pubsub#event.><purge node=.n1./></event>" lsnx.out &&
	test "$(grep -c "<item id=.text1." lsnx.out)" = 1
'

# the shell, in a terminal (tmux), where there is one
if command -v tmux >/dev/null 2>&1; then
test_expect_success 'bob'"'"'s shell shows an event; pubsub runs at its prompt' '
	BOB_PASS=$BOB_PASS && export BOB_PASS &&
	tty_start bsh "XMPCTL_PASSWORD=\$BOB_PASS $TEST_WRAPPER \"\$XMPCTL\" \
-j bob@example.test --server 127.0.0.1:$SERVER_PORT --cafile \"\$TEST_CA\" shell" &&
	tty_wait bsh "^xmpctl: logged in as bob@example\.test/" 20 "the login" &&
	tty_wait_line bsh "^bob@example\.test> *\$" 20 "the prompt" &&
	ps publish n1 --id inshell "<entry xmlns=\"urn:test\">in the shell</entry>" &&
	tty_wait bsh "pubsub n1@$PS: item inshell published: <entry xmlns=.urn:test.>in the shell</entry>" 20 "the event" &&
	tty_type bsh "pubsub --service $PS items n1 inshell" && tty_keys bsh Enter &&
	tty_wait bsh "^inshell <entry xmlns=.urn:test.>in the shell</entry>" 20 "the item" &&
	tty_type bsh "pubsub --service $PS publish n1" && tty_keys bsh Enter &&
	tty_wait bsh "at the prompt the payload is an argument" 20 "the refusal" &&
	tty_kill bsh &&
	ps purge n1
'
fi

test_expect_success 'purge left no items' '
	ps items n1 >purged &&
	test_must_be_empty purged
'

test_expect_success 'bob unsubscribes: no longer listed' '
	as bob pubsub --service "$PS" unsubscribe n1 &&
	as bob pubsub --service "$PS" --format json subscriptions >subs2.json &&
	test_grep ! "\"n1\"" subs2.json
'

test_expect_success 'the owner makes and ends a subscription (subscriptions NODE --set)' '
	ps subscriptions n1 --set carol@example.test=subscribed &&
	ps --format json subscriptions n1 >os1.json &&
	json_get os1.json "o[\"jid\"] + \" \" + o[\"subscription\"]" >os1 &&
	test_grep "^carol@example.test subscribed\$" os1 &&
	ps subscriptions n1 --set carol@example.test=none &&
	ps --format json subscriptions n1 >os2.json &&
	test_grep ! "carol@example.test" os2.json &&
	expect_exit 80 as carol pubsub --service "$PS" unsubscribe n1 2>err &&
	test_grep "error from $PS: unexpected-request, not-subscribed" err
'

# ---- affiliations ---------------------------------------------------------------

test_expect_success 'the owner sets and reads affiliations' '
	ps affiliations n1 --set bob@example.test=publisher &&
	ps --format json affiliations n1 >aff.json &&
	json_get aff.json "o[\"jid\"] + \" \" + o[\"affiliation\"]" >aff &&
	test_grep "^bob@example.test publisher\$" aff &&
	test_grep "^alice@example.test owner\$" aff &&
	as bob pubsub --service "$PS" publish n1 --id bobs "<entry xmlns=\"urn:test\">bob</entry>" >bp &&
	test_grep "^published  *bobs\$" bp
'

if server_is ejabberd; then
# Prosody 0.12 answers an entity's own affiliations (XEP-0060 §5.7) with
# service-unavailable
test_expect_success '... and bob reads his own' '
	as bob pubsub --service "$PS" --format json affiliations >baff.json &&
	json_get baff.json "o[\"node\"] + \" \" + o[\"affiliation\"]" >baff &&
	test_grep "^n1 publisher\$" baff
'
fi

test_expect_success 'an affiliation for a JID the service refuses carries the condition' '
	ps affiliations n1 --set bob@example.test=none &&
	expect_exit 80 as carol pubsub --service "$PS" affiliations n1 --set bob@example.test=owner 2>err &&
	test_grep "^xmpctl: pubsub affiliations n1: error from $PS: forbidden" err
'

# ---- delete ---------------------------------------------------------------------

test_expect_success 'delete: the node is gone, and a subscriber hears of it' '
	test_atexit bg_kill_all &&
	as bob pubsub --service "$PS" subscribe n1 >/dev/null &&
	ps configure n1 --config pubsub#notify_delete=1 &&
	bg_start lsnd bob --format json listen &&
	as carol send bob@example.test "probe" &&
	wait_for "grep -q probe lsnd.out" 20 "bob to be online" &&
	ps delete n1 &&
	wait_for "grep -q \"\\\"event\\\": *\\\"delete\\\"\" lsnd.out" 20 "the deletion" &&
	bg_stop lsnd &&
	grep "\"event\": *\"delete\"" lsnd.out >del.json &&
	test "$(json_get del.json "o[\"kind\"] + \" \" + o[\"from\"] + \" \" + o[\"node\"]")" = "pubsub $PS n1" &&
	ps --format json list >list2.json &&
	test_grep ! "\"n1\"" list2.json &&
	expect_exit 80 ps items n1 2>err &&
	test_grep "item-not-found" err
'

if server_is prosody; then
test_expect_success 'a service that never answers: exit 75 once --timeout passes' '
	"$PYTHON" "$TESTS_SRCDIR/integration/component.py" "$PROSODY_COMPONENT_PORT" \
		"$PROSODY_COMPONENT" "$PROSODY_COMPONENT_SECRET" component.log \
		2>component.err &
	echo $! >component.pid &&
	test_atexit "kill \$(cat component.pid)" &&
	wait_for "grep -qx ready component.log" 20 "the component handshake" &&
	expect_exit 75 as alice --timeout 2 pubsub --service "$PROSODY_COMPONENT" items n1 2>err &&
	test_grep "^xmpctl: pubsub items: " err &&
	test_grep "<items node=.n1." component.log
'
fi

# ---- PEP ------------------------------------------------------------------------

test_expect_success 'PEP: the account'"'"'s own service without --service' '
	as alice pubsub publish http://jabber.org/protocol/tune --id current \
		"<tune xmlns=\"http://jabber.org/protocol/tune\"><title>Song</title></tune>" >pep &&
	test_grep "^published  *current\$" pep &&
	as alice pubsub --format json items http://jabber.org/protocol/tune >pep.json &&
	test "$(json_get pep.json "o[\"service\"] + \" \" + o[\"id\"]")" = "alice@example.test current" &&
	test_grep "<title>Song</title>" pep.json
'

test_done
