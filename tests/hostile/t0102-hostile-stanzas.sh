#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0102-hostile-stanzas.sh - a scripted server that negotiates properly,
# then abuses the stanza layer: a reply with the right id from the wrong
# sender, a flood of pings it never reads the answers to, silence, a
# request nobody claims, a bounce from a third party.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/hostile/fake.sh"

fake_cert

# Everything up to a session bound to alice@example.test/r.
ready() {
	script_to_bind
	script_bound alice@example.test/r
}
DISCO="<iq type='get' to='example.test'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>"

# run_measured NAME ARGS...: like run (without the trace, which would be
# measured too), and write NAME.ms (wall time) and NAME.rss (peak
# resident memory, KiB) of the xmpctl process.
run_measured() {
	_rm=$1
	shift
	# shellcheck disable=SC2086 # TEST_WRAPPER is a command line
	# Freed memory is not memory in use: keep the sanitizer's and
	# valgrind's queues of freed blocks from counting as such.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 \
	VALGRIND_OPTS=--freelist-vol=100000 \
	XMPCTL_PASSWORD=secret-password "$PYTHON" -c '
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.call(sys.argv[3:], stdin=subprocess.DEVNULL,
                     stdout=open(sys.argv[1] + ".out", "w"),
                     stderr=open(sys.argv[1] + ".err", "w"))
open(sys.argv[1] + ".ms", "w").write("%d\n" % ((time.monotonic() - t) * 1000))
open(sys.argv[1] + ".rss", "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' "$_rm" unused timeout -k 5 60 $TEST_WRAPPER "$XMPCTL" \
		--server "127.0.0.1:$FAKE_PORT" -j alice@example.test "$@"
	_rc=$?
	done_fake
	return "$_rc"
}

# ---- requests ----------------------------------------------------------------------

{ ready; cat <<SCRIPT
expect disco#info'/></iq>
send <iq type='result' id='\$ID' from='mallory@example.test'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='im' name='Spoofed'/></query></iq>
hang
SCRIPT
} >spoof.script
test_expect_success 'a reply with the right id from the wrong sender is ignored (75)' '
	fake spoof &&
	expect_exit 75 run spoof --cafile cert.pem --timeout 2 raw "$DISCO" &&
	test_grep "ignoring a reply to request .* from mallory@example.test" spoof.err &&
	test_grep "^xmpctl: no answer to request .* from example.test within 2 s" spoof.err &&
	test_grep ! Spoofed spoof.out
'

{ ready; cat <<SCRIPT
expect disco#info'/></iq>
send <iq type='get' id='q1' from='example.test'><query xmlns='jabber:iq:version'/></iq><iq type='result' id='\$ID' from='example.test'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>
expect id='q1'
SCRIPT
script_goodbye; } >unclaimed.script
test_expect_success 'a request nobody claims gets service-unavailable' '
	fake unclaimed &&
	run unclaimed --cafile cert.pem raw "$DISCO" &&
	test_grep "<iq id=.q1. to=.example.test. type=.error.><error type=.cancel.><service-unavailable xmlns=.urn:ietf:params:xml:ns:xmpp-stanzas./></error></iq>" unclaimed.sent &&
	test_grep "example.test iq result" unclaimed.out
'

{ ready; cat <<SCRIPT
expect </message>
send <message type='error' id='m1' from='mallory@example.test'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>
SCRIPT
script_ack; script_goodbye; } >thirdparty.script
test_expect_success 'an error for our message from a third party is not a bounce (0)' '
	fake thirdparty &&
	run thirdparty --cafile cert.pem raw "<message id=\"m1\" to=\"bob@example.test\"><body>x</body></message>" &&
	test_grep ! "bounced" thirdparty.err
'

{ ready; cat <<SCRIPT
expect </message>
send <message type='error' id='m2' from='bob@example.test'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>
SCRIPT
script_ack; script_goodbye; } >bounce.script
test_expect_success '... the same from the recipient is (80)' '
	fake bounce &&
	expect_exit 80 run bounce --cafile cert.pem raw "<message id=\"m2\" to=\"bob@example.test\"><body>x</body></message>" &&
	test_grep "message m2 to bob@example.test bounced: item-not-found" bounce.err
'

{ ready; printf '%s\n' 'expect </message>' close; } >drop.script
test_expect_success 'the connection drops before raw is acknowledged: not delivered (81)' '
	fake drop &&
	expect_exit 81 run drop --cafile cert.pem raw "<message to=\"bob@example.test\"><body>x</body></message>" &&
	test_grep "^xmpctl: not acknowledged by the server: " drop.err
'

{ ready; printf '%s\n' 'expect disco#info' close; } >dropiq.script
test_expect_success '... or before an iq is answered (81)' '
	fake dropiq &&
	expect_exit 81 run dropiq --cafile cert.pem raw "$DISCO" &&
	test_grep "^xmpctl: not acknowledged by the server: " dropiq.err
'

# ---- a server that will not listen -------------------------------------------------------

# Margin on top of --timeout for the run to end: the loop and the polite
# goodbye, or valgrind's start-up.
margin_ms=3000
[ -n "$TEST_WRAPPER" ] && margin_ms=20000

{ ready; echo "expect </iq>"; echo "send <iq type='result' id='\$ID'/>"; script_goodbye; } >calm.script
{ ready; echo "flood <iq type='get' id='f' from='example.test'><ping xmlns='urn:xmpp:ping'/></iq>"; } >flood.script

test_expect_success 'a calm session, for comparison' '
	fake calm &&
	run_measured calm --cafile cert.pem raw "<iq type=\"set\"><x xmlns=\"urn:example\"/></iq>" &&
	test -s calm.rss
'

test_expect_success 'a server that floods pings and never reads: raw ends in time (75)' '
	fake flood &&
	expect_exit 75 run_measured flood --cafile cert.pem --timeout 2 raw "$DISCO" &&
	test_grep "^xmpctl: no answer to request .* within 2 s" flood.err &&
	say "ended after $(cat flood.ms) ms" &&
	test "$(cat flood.ms)" -lt $((2000 + margin_ms))
'

test_expect_success '... and memory stayed bounded' '
	say "peak RSS: calm $(cat calm.rss) KiB, flood $(cat flood.rss) KiB" &&
	test "$(cat flood.rss)" -lt $(( $(cat calm.rss) + 32 * 1024 ))
'

test_expect_success 'send against the same flood: not acknowledged (81), in time' '
	fake flood &&
	expect_exit 81 run_measured floodsend --cafile cert.pem --timeout 2 send bob@example.test "into the flood" &&
	test_grep "not acknowledged by the server: no answer to request .* within 2 s" floodsend.err &&
	say "ended after $(cat floodsend.ms) ms" &&
	test "$(cat floodsend.ms)" -lt $((2000 + margin_ms)) &&
	test "$(cat floodsend.rss)" -lt $(( $(cat calm.rss) + 32 * 1024 ))
'

test_expect_success 'listen against the flood: the stalled queue ends it (75)' '
	fake flood &&
	expect_exit 75 run_measured floodlisten --cafile cert.pem --timeout 2 --keepalive 0 listen &&
	test_grep "timed out after 2 s: example.test has not taken the" floodlisten.err &&
	test "$(cat floodlisten.rss)" -lt $(( $(cat calm.rss) + 32 * 1024 ))
'

# A roster whose attributes try to forge lines, reorder text or pass
# values RFC 6121 does not define.
{ ready; cat <<SCRIPT
expect jabber:iq:roster'/></iq>
send <iq type='result' id='\$ID'><query xmlns='jabber:iq:roster'><item jid='bob@example.test' subscription='both&#10;eve@evil.test  both  name &quot;Trusted&quot;' ask='x&#x85;y' name='B&#x202E;ob&#x200F;'><group>G&#10;roup&#x9B;31m&#xE0067;</group></item><item jid='carol@example.test' subscription='from' ask='subscribe'/></query></iq>
SCRIPT
script_goodbye; } >roster.script
test_expect_success 'roster: a subscription RFC 6121 does not define is shown as unknown, every field escaped' '
	fake roster &&
	run roster --cafile cert.pem roster list &&
	test "$(wc -l <roster.out)" -eq 2 &&
	test_grep "^bob@example.test  unknown  name \"B\\\\u202eob\\\\u200f\"  groups G\\\\nroup\\\\u009b31m\\\\U000e0067\$" roster.out &&
	test_grep "^carol@example.test  from (asked)\$" roster.out &&
	test_grep "warning: roster item bob@example.test: subscription .both\\\\neve@evil.test  both  name \"Trusted\". is not one of RFC 6121" roster.err &&
	test_grep "warning: roster item bob@example.test: ask .x\\\\u0085y. is not .subscribe.: ignored" roster.err
'

test_expect_success 'roster --format json: valid JSON, subscription unknown, no ask' '
	fake roster &&
	run roster --cafile cert.pem --format json roster list &&
	test "$(wc -l <roster.out)" -eq 2 &&
	"$PYTHON" -c "
import json, sys
items = [json.loads(l) for l in open(sys.argv[1])]
assert items[0][\"subscription\"] == \"unknown\", items[0]
assert \"ask\" not in items[0], items[0]
assert items[0][\"groups\"] == [\"G\\nroup\\u009b31m\\U000e0067\"], items[0]
assert items[1][\"subscription\"] == \"from\" and items[1][\"ask\"] == \"subscribe\"
" roster.out
'

test_expect_success 'roster --format xml: one item a line, nothing a terminal acts on' '
	fake roster &&
	run roster --cafile cert.pem --format xml roster list &&
	test "$(wc -l <roster.out)" -eq 2 &&
	test_grep "subscription=.both&#10;eve@evil.test  both  name" roster.out &&
	! LC_ALL=C grep -q -e "$(printf "\302\205")" -e "$(printf "\342\200\256")" \
		-e "$(printf "\302\233")" -e "$(printf "\363\240\201\247")" roster.out &&
	test_grep "31m&#xE0067;</group>" roster.out
'

{ ready; echo hang; } >silent.script
test_expect_success 'a server that goes silent is found dead by the keepalive (69)' '
	fake silent &&
	expect_exit 69 run silent --cafile cert.pem --timeout 1 --keepalive 1 listen --no-presence &&
	test_grep "no answer to a keepalive ping in 1 s" silent.err &&
	test_grep "urn:xmpp:ping" silent.sent
'

test_done
