#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# presence.sh - "xmpctl presence" against each server of the matrix:
# subscriptions asked for, granted and refused, as both rosters then say;
# requests stored while the account was offline; the show, status and
# priority a contact sees; directed presence that reaches its target only;
# usage errors.
#
# The accounts start with empty rosters and the tests build on each other:
# alice and bob end up subscribed both ways, carol to alice only.  Those
# that listen (bob, carol) run in the background with stdin from /dev/null,
# their PID in a file, and end with SIGTERM; every wait is for something
# to appear.
#
# Nothing here is particular to one server: what is checked is what
# RFC 6121 asks of any, and "online" watches a listener's own output.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

needs
server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

# roster_of USER FILE: USER's roster as JSON lines in FILE
roster_of() {
	as "$1" --format json roster >"$2"
}

# presences_from FILE BARE: "type|show|status|priority" for each presence
# in FILE (JSON lines) from a resource of BARE.  Presence from the bare
# JID is left out: it is the server's answer to our probe while the
# contact has no session (RFC 6121 §4.3.2), not the contact's own.
presences_from() {
	"$PYTHON" -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    f = (o.get("from") or "").split("/", 1)
    if o["kind"] == "presence" and f[0] == sys.argv[2] and len(f) == 2:
        print("%s|%s|%s|%s" % (o.get("type"), o.get("show"), o.get("status"), o.get("priority")))
' "$1" "$2"
}

test_atexit bg_kill_all
test_on_failure bg_kill_all

# online USER FILE: wait until the listener (listen --all) of USER writing
# JSON lines to FILE is online: its own presence has come back to it
# (RFC 6121 §4.2.2), which happens only once the server took its initial
# presence.  Server-neutral: nothing is read from a log.
is_online() {
	"$PYTHON" -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    f = o.get("from") or ""
    if o["kind"] == "presence" and f.startswith(sys.argv[2] + "@example.test/"):
        sys.exit(0)
sys.exit(1)
' "$1" "$2" 2>/dev/null
}
online() {
	wait_for "is_online $2 $1" 20 "$1 to be online"
}

A=alice@example.test
B=bob@example.test
C=carol@example.test

# ---- usage -------------------------------------------------------------------

test_expect_success 'an unknown SHOW: 64, the choices named' '
	expect_exit 64 as alice presence lunch 2>u1.err &&
	test_grep "unknown SHOW .lunch." u1.err
'

test_expect_success 'a bad JID for --subscribe: 65' '
	expect_exit 65 as alice presence --subscribe "a@b@c" &&
	expect_exit 65 as alice presence --approve "@example.test" &&
	expect_exit 65 as alice presence --to "a@b@c"
'

test_expect_success '--wait without --show or --pending: 64' '
	expect_exit 64 as alice presence --wait 1 2>u3.err &&
	test_grep -- "--wait goes with --show or --pending" u3.err &&
	expect_exit 64 as alice presence away --wait 1
'

test_expect_success '--show with --to, --pending with unavailable: 64' '
	expect_exit 64 as alice presence --show --to "$B" &&
	expect_exit 64 as alice presence unavailable --pending
'

test_expect_success 'a priority out of range, a second SHOW: 64' '
	expect_exit 64 as alice presence -p 128 &&
	expect_exit 64 as alice presence -p -129 &&
	expect_exit 64 as alice presence away dnd
'

# ---- subscriptions -------------------------------------------------------------

test_expect_success 'alice asks bob: her roster has him, asked, subscription none' '
	as alice presence --subscribe "$B" &&
	roster_of alice s1.json &&
	test "$(roster_item s1.json "$B" "o[\"subscription\"]")" = none &&
	test "$(roster_item s1.json "$B" "o[\"ask\"]")" = subscribe
'

# bob was offline when alice asked: the server kept the request and
# gives it to him after his initial presence (RFC 6121 §3.1.3)
test_expect_success '--pending: bob sees the request made while he was offline' '
	as bob --format json presence --pending --wait 1 >s2.json &&
	json_get s2.json "o[\"kind\"] + \"|\" + o[\"type\"] + \"|\" + o[\"from\"]" >s2.lines &&
	test_grep -x "presence|subscribe|$A" s2.lines
'

test_expect_success '--pending in text says the same' '
	as bob presence --pending --wait 0 >s2.txt &&
	test_grep " $A presence subscribe\$" s2.txt
'

test_expect_success 'bob approves and asks back at once; alice sees his request' '
	as bob presence --approve "$A" --subscribe "$A" &&
	roster_of bob s3b.json &&
	test "$(roster_item s3b.json "$A" "o[\"subscription\"]")" = from &&
	test "$(roster_item s3b.json "$A" "o[\"ask\"]")" = subscribe &&
	roster_of alice s3a.json &&
	test "$(roster_item s3a.json "$B" "o[\"subscription\"]")" = to &&
	as alice --format json presence --pending --wait 0 >s3p.json &&
	json_get s3p.json "o[\"type\"] + \"|\" + o[\"from\"]" >s3p.lines &&
	test_grep -x "subscribe|$B" s3p.lines
'

test_expect_success 'alice approves: both in both rosters, nothing asked' '
	as alice presence --approve "$B" &&
	roster_of alice s4a.json &&
	roster_of bob s4b.json &&
	test "$(roster_item s4a.json "$B" "o[\"subscription\"]")" = both &&
	test "$(roster_item s4b.json "$A" "o[\"subscription\"]")" = both &&
	test "$(roster_item s4a.json "$B" "o.get(\"ask\")")" = None &&
	test "$(roster_item s4b.json "$A" "o.get(\"ask\")")" = None
'

test_expect_success 'carol asks alice, who was offline: --pending lists it' '
	as carol presence --subscribe "$A" &&
	as alice --format json presence --pending --wait 0 >d1.json &&
	json_get d1.json "o[\"type\"] + \"|\" + o[\"from\"]" >d1.lines &&
	test_grep -x "subscribe|$C" d1.lines
'

test_expect_success 'alice denies: carol has nothing asked, alice no carol from/both' '
	as alice presence --deny "$C" &&
	roster_of carol d2c.json &&
	s=$(roster_item d2c.json "$A" "o[\"subscription\"] + \"|\" + str(o.get(\"ask\"))") &&
	{ test "$s" = "none|None" || test "$s" = ABSENT; } &&
	roster_of alice d2a.json &&
	s=$(roster_item d2a.json "$C" "o[\"subscription\"]") &&
	test "$s" != from && test "$s" != both
'

test_expect_success 'and the request is no longer pending' '
	as alice --format json presence --pending --wait 0 >d3.json &&
	json_get d3.json "o[\"from\"]" >d3.from &&
	test_grep ! "^$C" d3.from
'

test_expect_success 'carol asks again, alice approves: carol sees alice (to)' '
	as carol presence --subscribe "$A" &&
	as alice presence --approve "$C" &&
	roster_of carol d4.json &&
	test "$(roster_item d4.json "$A" "o[\"subscription\"]")" = to
'

# ---- what contacts see ----------------------------------------------------------

# alice stays online (raw --stay) with away, a status and a priority;
# bob's --show sends initial presence, which makes the server probe his
# contacts (RFC 6121 §4.3): alice's answer is what --show prints.
test_expect_success 'bob (--show) sees alice away, her status and priority' '
	bg_start al alice raw --stay "<presence><show>away</show><status>out to lunch</status><priority>5</priority></presence>" &&
	wait_for "grep -q \"presence away\" al.out" 20 "alice online" &&
	as bob --format json presence --show --wait 3 >sh1.out &&
	bg_stop al &&
	presences_from sh1.out "$A" >sh1.lines &&
	test_grep -x "available|away|out to lunch|5" sh1.lines
'

test_expect_success '--show prints contacts only, not our own presence' '
	test "$(presences_from sh1.out "$B")" = ""
'

test_expect_success 'a listener (listen --all) sees the same presence' '
	bg_start sh2 carol --format json listen --all &&
	online carol sh2.out &&
	as alice presence xa -s "asleep" -p -3 &&
	wait_for "presences_from sh2.out $A | grep -q ^unavailable" 20 "alice unavailable at carol" &&
	bg_stop sh2 &&
	presences_from sh2.out "$A" >sh2.lines &&
	test_grep -x "available|xa|asleep|-3" sh2.lines
'

# A conversation of three accounts reads best as one: see the script.
test_expect_success 'directed presence reaches its target only (tests/scripts/directed-presence.scs)' '
	scripted directed-presence &&
	xmpctl --server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" script \
		--wait 1 directed-presence.scs >directed.out
'

# ---- roster pushes ----------------------------------------------------------------

# own_full FILE USER: USER's full JID, from its own presence in FILE
own_full() {
	"$PYTHON" -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    f = o.get("from") or ""
    if o["kind"] == "presence" and f.startswith(sys.argv[2] + "@example.test/"):
        print(f)
        break
' "$1" "$2"
}

# The roster-push spoofing of many clients: bob addresses a roster push to
# alice's session; the server routes it with from=bob.  RFC 6121 §2.1.6:
# only the account's own server may push.  alice's library answers with
# an error, and no handler (listen --all prints every stanza one sees)
# ever gets it.
test_expect_success 'a roster push from another account is refused, never answered with a result' '
	bg_start rp alice --format json listen --all &&
	online alice rp.out &&
	full=$(own_full rp.out alice) &&
	test -n "$full" &&
	expect_exit 80 as bob raw "<iq type=\"set\" to=\"$full\" id=\"spoof1\"><query xmlns=\"jabber:iq:roster\"><item jid=\"mallory@example.test\" subscription=\"both\"/></query></iq>" >rp.bob 2>rp.err &&
	test_grep "service-unavailable" rp.err &&
	test_grep ! "type=.result" rp.bob &&
	bg_stop rp &&
	test_grep ! "spoof1" rp.out
'

test_done
