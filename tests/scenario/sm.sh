#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# sm.sh - stream management (XEP-0198) against each server of the matrix
# (Prosody with mod_smacks, ejabberd built in): the server's <a h=.../> is what
# confirms a send (a ping right behind <r/> only waits for bounces, which
# a server may send after its <a/>); several stanzas are all covered by
# one h; and a server without stream management still confirms by ping.
#
# Everything is read from the -v trace, which shows every element sent
# and received.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

needs sm
PROSODY_TLS_TICKETS=yes
server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD

# sm_alice ARGS...: xmpctl -v as alice against the server started first
sm_alice() {
	xmpctl -v --server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" \
		-j alice@example.test "$@"
}

test_expect_success 'send: enabled after bind, confirmed by <a/>; the bounce barrier rides behind <r/>' '
	sm_alice send bob@example.test "managed" 2>one.err &&
	test_grep "<enable xmlns=.urn:xmpp:sm:3./>" one.err &&
	test_grep "stream management enabled" one.err &&
	test_grep "<r xmlns=.urn:xmpp:sm:3./>" one.err &&
	test_grep "<a [^>]*h=.1.[^>]*/>" one.err &&
	# one ping, sent after <r/> without waiting for <a/>
	test "$(grep -c "^xmpctl: >> .*urn:xmpp:ping" one.err)" = 1 &&
	r=$(grep -n "^xmpctl: >> <r xmlns" one.err | head -n 1 | cut -d: -f1) &&
	p=$(grep -n "^xmpctl: >> .*urn:xmpp:ping" one.err | cut -d: -f1) &&
	a=$(grep -n "^xmpctl: << <a " one.err | head -n 1 | cut -d: -f1) &&
	test "$r" -lt "$p" && test "$p" -lt "$a"
'

test_expect_success 'raw: three stanzas, one <r/>, h covers all three' '
	cat >three.xml <<-XML &&
	<message to="bob@example.test"><body>one</body></message>
	<message to="bob@example.test"><body>two</body></message>
	<message to="bob@example.test"><body>three</body></message>
	XML
	sm_alice raw <three.xml 2>three.err &&
	test_grep "<a [^>]*h=.3.[^>]*/>" three.err &&
	test_grep ! "urn:xmpp:ping" three.err
'

# ---- resumption (XEP-0198 §5) under send --lines ------------------------------
# alice sends through a relay (holdproxy.py) that breaks every connection
# when told to; bob listens.  Lines are fed through a FIFO in two parts,
# the connection broken between them (and while the second part may be in
# flight), so alice must resume to deliver them all, each exactly once.

test_expect_success 'a relay that breaks connections on demand' '
	relay_start "$SERVER_PORT"
'

# lines_at_bob: the "resume-N" texts bob got, in the order he got them
lines_at_bob() {
	json_get rl.out 'o.get("body") or ""' | grep "^resume-"
}

# bob is online once his own presence has come back to him (RFC 6121 §4.2.2)
bob_online() {
	json_get rl.out 'o.get("from") or ""' | grep -q "^bob@example.test/"
}

test_expect_success 'bob listens' '
	bg_start rl bob --format json listen --all &&
	wait_for bob_online 20 "bob online"
'

# feed_lines: the lines alice sends, in three parts: the second once
# rs.go2 exists, the third once rs.go3 exists
feed_lines() {
	seq -f "resume-%g" 1 100
	poll_until "test -e rs.go2" 60 || return
	seq -f "resume-%g" 101 200
	poll_until "test -e rs.go3" 60 || return
	seq -f "resume-%g" 201 300
}

test_expect_success 'send --lines: a broken connection is resumed; every line arrives once, in order' '
	rm -f rs.go2 rs.go3 rs.rc &&
	{ feed_lines | XMPCTL_TEST_TIMEOUT=120 xmpctl -v \
		--server "127.0.0.1:$(cat proxy.port)" --cafile "$TEST_CA" \
		-j alice@example.test send --lines bob@example.test >rs.out 2>rs.err
	  echo $? >rs.rc; } &
	wait_for "test \$(lines_at_bob | wc -l) -ge 100" 30 "the first 100 lines at bob" &&
	: >rs.go2 && : >proxy.drop &&
	wait_for "grep -q \"^dropped\" proxy.log" 20 "the relay to break the connection" &&
	: >rs.go3 &&
	wait_for "test -s rs.rc" 60 "alice to end" &&
	say "exit $(cat rs.rc); $(grep "resum" rs.err)" &&
	test "$(cat rs.rc)" = 0 &&
	test_grep "<enable xmlns=.urn:xmpp:sm:3. resume=.true./>" rs.err &&
	test_grep "resuming the session (attempt 1)" rs.err &&
	test_grep "<resume xmlns=.urn:xmpp:sm:3. h=" rs.err &&
	test_grep "session resumed; [0-9]* stanza" rs.err &&
	wait_for "test \$(lines_at_bob | wc -l) -ge 300" 30 "300 lines at bob" &&
	seq -f "resume-%g" 1 300 >rs.want &&
	lines_at_bob >rs.got &&
	test_cmp rs.want rs.got
'

test_expect_success 'the resumed connection did not bind again' '
	test "$(grep -c -e "^xmpctl: >> <iq[^>]*><bind " \
		-e "^xmpctl: >> <authenticate .*<bind xmlns=.urn:xmpp:bind:0" rs.err)" = 1
'

# XEP-0388 with XEP-0198 inline: <resume/> goes with <authenticate/>, and
# the answer with <success/>, not after the features
if server_has sm-sasl2; then
test_expect_success '... it resumed inside SASL2' '
	test_grep "^xmpctl: >> <authenticate .*<resume xmlns=.urn:xmpp:sm:3" rs.err &&
	test_grep "^xmpctl: << <success .*<resumed " rs.err &&
	test_grep ! "^xmpctl: >> <resume " rs.err
'
fi

# the TLS session of the lost connection, kept in memory, never on disk
if server_is prosody; then
	test_expect_success '... and resumed the TLS session of the lost connection' '
		test "$(grep -c "TLS session resumed" rs.err)" = 1
	'
fi

test_expect_success 'bob stops' '
	bg_stop rl
'

if server_is prosody; then
	PROSODY_MODULES=
	prosody_start plain || bail_out 'cannot start a Prosody without mod_smacks'
else
	EJABBERD_STREAM_MGMT=no
	ejabberd_start plain ||
		bail_out 'cannot start an ejabberd without mod_stream_mgmt'
fi
# ejabberd closes at once on a </stream:stream> that follows the ping,
# without the answer: send waits for the answer before it says goodbye
test_expect_success 'a server without stream management: confirmed by ping' '
	alice -v send bob@example.test "pinged" 2>plain.err &&
	test_grep "urn:xmpp:ping" plain.err &&
	test_grep ! "<enable " plain.err &&
	test_grep ! "<r xmlns" plain.err
'

test_done
