#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# roster.sh - "xmpctl roster" against each server of the matrix: add, set
# and remove, each checked through a listing of its own; groups whose
# names are not ASCII; the XML form of an item; usage errors.
#
# Every change is followed by a fresh "roster --format json" (or text, or
# xml) run, so what is checked is what the server stored, not what the
# command printed about its own request.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

needs
server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

dave=dave@example.test

# ---- add, set, remove -----------------------------------------------------------

test_expect_success 'add with --name and two --group: listed with both' '
	as alice roster add "$dave" --name "Dave D." --group Friends --group Work &&
	as alice --format json roster >r1.json &&
	test "$(roster_item r1.json "$dave" "o[\"name\"]")" = "Dave D." &&
	test "$(roster_item r1.json "$dave" "sorted(o[\"groups\"])")" = "['\''Friends'\'', '\''Work'\'']" &&
	test "$(roster_item r1.json "$dave" "o[\"subscription\"]")" = none &&
	test "$(roster_item r1.json "$dave" "o.get(\"ask\")")" = None
'

test_expect_success 'the text listing shows the same item' '
	as alice roster list >r1.txt &&
	test_grep "^$dave  none  name \"Dave D.\"  groups " r1.txt &&
	grep "^$dave " r1.txt >r1.line &&
	test_grep "Friends" r1.line &&
	test_grep "Work" r1.line
'

test_expect_success 'add again with another --group: name and all three groups kept' '
	as alice roster add "$dave" --group Climbing &&
	as alice --format json roster list >r2.json &&
	test "$(roster_item r2.json "$dave" "o[\"name\"]")" = "Dave D." &&
	test "$(roster_item r2.json "$dave" "sorted(o[\"groups\"])")" = "['\''Climbing'\'', '\''Friends'\'', '\''Work'\'']"
'

test_expect_success 'set with only --name replaces: the new name, no group left' '
	as alice roster set "$dave" --name "David" &&
	as alice --format json roster >r3.json &&
	test "$(roster_item r3.json "$dave" "o[\"name\"]")" = David &&
	test "$(roster_item r3.json "$dave" "o[\"groups\"]")" = "[]" &&
	as alice roster >r3.txt &&
	test_grep -x "$dave  none  name \"David\"" r3.txt
'

test_expect_success 'remove: the listing no longer has it' '
	as alice roster remove "$dave" &&
	as alice --format json roster >r4.json &&
	test "$(roster_item r4.json "$dave" "o")" = ABSENT &&
	as alice roster >r4.txt &&
	test_grep ! "^$dave" r4.txt
'

# RFC 6121 §2.5.3 asks for item-not-found, and Prosody answers with it;
# ejabberd 23.01 answers with a result (nothing left to remove), which
# xmpctl can only report as the success it says it is.
if server_is ejabberd; then
test_expect_success 'remove again: ejabberd says it is done (0)' '
	as alice roster remove "$dave" &&
	as alice --format json roster >r5.json &&
	test "$(roster_item r5.json "$dave" "o")" = ABSENT
'
else
test_expect_success 'remove again: 80, item-not-found from the server' '
	expect_exit 80 as alice roster remove "$dave" 2>rm.err &&
	test_grep "item-not-found" rm.err
'
fi

# ---- names that are not ASCII ------------------------------------------------------

erin=erin@example.test
# sorted_lines ARGS...: ARGS one a line, in the order Python sorts them
sorted_lines() {
	"$PYTHON" -c 'import sys; print("\n".join(sorted(sys.argv[1:])))' "$@"
}
test_expect_success 'groups with non-ASCII names survive, in JSON' '
	as alice roster add "$erin" --name "Érin" --group "Équipe" --group "友達" --group "Ωmega" &&
	as alice --format json roster >u.json &&
	roster_item u.json "$erin" "\"\\n\".join(sorted(o[\"groups\"]))" >u.groups &&
	sorted_lines "Équipe" "友達" "Ωmega" >u.expect &&
	test_cmp u.expect u.groups &&
	test "$(roster_item u.json "$erin" "o[\"name\"]")" = "Érin"
'

# xml_items FILE: each line of FILE parsed alone; print "jid|name|groups"
# for every item, the groups sorted and joined with commas
xml_items() {
	"$PYTHON" -c '
import sys, xml.etree.ElementTree as ET
NS = "{jabber:iq:roster}"
for line in open(sys.argv[1], encoding="utf-8"):
    e = ET.fromstring(line)
    assert e.tag == NS + "item", e.tag
    assert all(c.tag == NS + "group" for c in e), [c.tag for c in e]
    g = sorted(c.text or "" for c in e)
    print("%s|%s|%s" % (e.get("jid"), e.get("name"), ",".join(g)))
' "$1"
}

test_expect_success 'and in XML' '
	as alice --format xml roster >u.xml &&
	xml_items u.xml >u.items &&
	test_grep -xF "$erin|Érin|$(paste -sd, u.expect)" u.items
'

# ---- XML -------------------------------------------------------------------------

test_expect_success 'xml: one <item xmlns="jabber:iq:roster"/> per line, each parsed alone' '
	as alice roster add "$dave" --name "A & <B>" --group "x\"y" &&
	as alice --format xml roster list >x.xml &&
	as alice --format json roster list >x.json &&
	test "$(wc -l <x.xml)" = "$(wc -l <x.json)" &&
	test "$(wc -l <x.xml)" -ge 2 &&
	test "$(grep -c "^<item " x.xml)" = "$(wc -l <x.xml)" &&
	test_grep -F "jabber:iq:roster" x.xml &&
	xml_items x.xml >x.items &&
	test_grep -xF "$dave|A & <B>|x\"y" x.items
'

# ---- usage ----------------------------------------------------------------------

test_expect_success 'roster add without a JID: 64' '
	expect_exit 64 as alice roster add 2>e1.err &&
	test_grep "usage" e1.err
'

test_expect_success 'roster add with a resource: 65' '
	expect_exit 65 as alice roster add bob@example.test/res 2>e2.err &&
	test_grep "bare JID" e2.err &&
	as alice --format json roster >e2.json &&
	test "$(roster_item e2.json bob@example.test/res "o")" = ABSENT
'

test_expect_success 'roster add with a JID that is not one: 65' '
	expect_exit 65 as alice roster add "a@b@c" &&
	expect_exit 65 as alice roster set "@example.test"
'

test_expect_success 'roster list --name x: 64' '
	expect_exit 64 as alice roster list --name x 2>e3.err &&
	test_grep "^xmpctl: " e3.err &&
	expect_exit 64 as alice roster --name x list 2>e3b.err &&
	test_grep -- "--name and --group go with add and set" e3b.err &&
	expect_exit 64 as alice roster --group g 2>e3c.err &&
	test_grep -- "--name and --group go with add and set" e3c.err
'

test_expect_success 'roster remove --group g: 64, nothing removed' '
	expect_exit 64 as alice roster remove "$dave" --group g &&
	as alice --format json roster >e4.json &&
	test "$(roster_item e4.json "$dave" "o[\"name\"]")" = "A & <B>"
'

test_expect_success 'an unknown action: 64' '
	expect_exit 64 as alice roster rename "$dave"
'

test_done
