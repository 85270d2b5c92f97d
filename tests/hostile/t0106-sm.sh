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

# Our answer to the server's ping is a stanza it counts: its h covers it.
sm_script counted "send <enabled $SM/><iq type='get' id='srv-ping' from='example.test'><ping xmlns='urn:xmpp:ping'/></iq>" \
	"expect id='srv-ping'" "expect <r $SM/>" "send <a $SM h='3'/>" \
	"$(script_ack)" "$(script_goodbye)"
test_expect_success 'the answer to a server ping counts: h covering it is not too high (0)' '
	fake counted &&
	run counted --cafile cert.pem send bob@example.test "counted" &&
	test_grep "<iq [^>]*id=.srv-ping.[^>]*type=.result.\|<iq [^>]*type=.result.[^>]*id=.srv-ping." counted.sent
'

# ---- resumption (XEP-0198 §5) under send --lines ------------------------------
# Three lines, one <r/>; the server breaks the connection and, on the next
# one, answers <resume/> as told.

# resume_script NAME ANSWER LINES...: to the <r/> after three messages,
# a broken connection, a new one up to <resume/>, ANSWER, then LINES
resume_script() {
	_n=$1
	_answer=$2
	shift 2
	{ script_to_bind_sm; script_bound alice@example.test/r
	  printf '%s\n' "expect <enable $SM resume='true'/>" \
		"send <enabled $SM id='sm-1' resume='true'/>" \
		"expect <r $SM/>" reconnect
	  script_to_auth
	  printf '%s\n' "send <success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" \
		"expect <stream:stream" \
		"send \$HEADER<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm $SM/></stream:features>" \
		"expect previd='sm-1'/>" "send $_answer" "$@"
	} >"$_n.script"
}

resume_script resumed "<resumed $SM previd='sm-1' h='1'/>" \
	"expect <r $SM/>" "send <a $SM h='3'/>" "$(script_goodbye)"
test_expect_success 'resumed with h=1 of 3: the other two are sent again, then confirmed (0)' '
	fake resumed &&
	printf "line-1\nline-2\nline-3\n" >three.in &&
	run resumed --cafile cert.pem send --lines bob@example.test <three.in &&
	test_grep "<resume $SM h=.0. previd=.sm-1./>" resumed.sent &&
	test "$(grep -o "<body>line-1</body>" resumed.sent | wc -l)" = 1 &&
	test "$(grep -o "<body>line-2</body>" resumed.sent | wc -l)" = 2 &&
	test "$(grep -o "<body>line-3</body>" resumed.sent | wc -l)" = 2 &&
	test "$(grep -o "<bind " resumed.sent | wc -l)" = 1 &&
	test_grep "session resumed; 2 stanzas sent again" resumed.err
'

resume_script resfail "<failed $SM><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>" \
	"$(script_goodbye)"
test_expect_success 'resumption refused: fails (81), says how many were confirmed' '
	fake resfail &&
	expect_exit 81 run resfail --cafile cert.pem send --lines bob@example.test <three.in &&
	test_grep "could not be resumed: server refused to resume (item-not-found)" resfail.err &&
	test_grep "the server confirmed 0 of 3 messages" resfail.err
'

resume_script reshigh "<resumed $SM previd='sm-1' h='7'/>" hang
test_expect_success 'resumed with an h above what was sent: protocol error, nothing confirmed (81)' '
	fake reshigh &&
	expect_exit 81 run reshigh --cafile cert.pem send --lines bob@example.test <three.in &&
	test_grep "server acknowledged 7 stanzas but only 3 were sent" reshigh.err &&
	test_grep "the server confirmed 0 of 3 messages" reshigh.err
'

resume_script resother "<resumed $SM previd='sm-2' h='3'/>" hang
test_expect_success 'resumed under another id: protocol error (81)' '
	fake resother &&
	expect_exit 81 run resother --cafile cert.pem send --lines bob@example.test <three.in &&
	test_grep "server resumed another session" resother.err
'

test_done
