#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0106-sm.sh - a scripted server that offers stream management
# (XEP-0198) and then abuses it: acknowledges more than was sent (also
# with an h near 2^32, which must not be read as a wrapped small count),
# sends an h that is not 32-bit, refuses <enable/>, never sends <a/>;
# and one that asks us for our count with <r/>.  send puts a ping right
# behind its <r/> (the bounce barrier), so a message is two stanzas.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/hostile/fake.sh"

fake_cert

SM="xmlns='urn:xmpp:sm:3'"
# script_to_bind, with <sm/> among the features after authentication
script_to_bind_sm() {
	script_to_bind | sed "s|<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>|<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm $SM/></stream:features>|"
}

# sm_script NAME LINES...: to bind, bound, then the lines, in NAME.script
sm_script() {
	_n=$1
	shift
	{ script_to_bind_sm; script_bound alice@example.test/r; printf '%s\n' "$@"; } >"$_n.script"
}

sm_script high "expect <r $SM/>" "send <enabled $SM/><a $SM h='3'/>" hang
test_expect_success 'h above what was sent: handled-count-too-high, not delivered (81)' '
	fake high &&
	expect_exit 81 run high --cafile cert.pem send bob@example.test "one" &&
	test_grep "<enable $SM/>" high.sent &&
	test_grep "<undefined-condition xmlns=.urn:ietf:params:xml:ns:xmpp-streams./><handled-count-too-high $SM h=.3. send-count=.2./>" high.sent &&
	test_grep "server acknowledged 3 stanzas but only 2 were sent (handled-count-too-high)" high.err
'

sm_script wrapped "expect <r $SM/>" "send <enabled $SM/><a $SM h='4294967295'/>" hang
test_expect_success 'h = 2^32 - 1 after two stanzas is too high, not -1 wrapped' '
	fake wrapped &&
	expect_exit 81 run wrapped --cafile cert.pem send bob@example.test "one" &&
	test_grep "handled-count-too-high $SM h=.4294967295. send-count=.2." wrapped.sent &&
	test_grep "handled-count-too-high" wrapped.err
'

sm_script bad "expect <r $SM/>" "send <enabled $SM/><a $SM h='4294967297'/>" hang
test_expect_success 'an h that is not 32-bit is a protocol error (81)' '
	fake bad &&
	expect_exit 81 run bad --cafile cert.pem send bob@example.test "one" &&
	test_grep "acknowledgement with a bad h .4294967297." bad.err
'

sm_script refused "expect <r $SM/>" \
	"send <failed $SM><unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>" \
	"$(script_ack)" "$(script_ack)" "$(script_goodbye)"
# the first ping answered is the bounce barrier, the second the one that
# replaces the <r/>
test_expect_success '<failed/> on enable: the ping confirms, exit 0' '
	fake refused &&
	run refused --cafile cert.pem send bob@example.test "by ping" &&
	test_grep "server refused stream management (unexpected-request)" refused.err &&
	test_grep "urn:xmpp:ping" refused.sent
'

sm_script silent "expect <r $SM/>" "send <enabled $SM/>" hang
test_expect_success '<a/> never sent: not acknowledged (81) within the timeout' '
	fake silent &&
	expect_exit 81 run silent --cafile cert.pem --timeout 2 send bob@example.test "unacked" &&
	test_grep "not acknowledged by the server: no acknowledgement (XEP-0198 <a/>) from example.test within 2 s" silent.err &&
	# the bounce barrier only: no ping stands in for the missing <a/>
	test "$(grep -o "urn:xmpp:ping" silent.sent | wc -l)" = 1
'

sm_script asked "expect <r $SM/>" \
	"send <enabled $SM/><message from='bob@example.test/x' type='chat'><body>hi</body></message><presence from='bob@example.test/x'/><r $SM/><a $SM h='1'/>" \
	"expect <a $SM h='2'/>" "$(script_goodbye)"
test_expect_success 'the server'"'"'s <r/> is answered with the stanzas handled since <enabled/>' '
	fake asked &&
	run asked --cafile cert.pem send bob@example.test "counted" &&
	test_grep "<a $SM h=.2./>" asked.sent
'

test_done
