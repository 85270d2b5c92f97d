#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0019-sm.sh - stream management (XEP-0198) against a private Prosody
# with mod_smacks (or ejabberd, t0206): the server's <a h=.../> is what
# confirms a send (a ping right behind <r/> only waits for bounces, which
# a server may send after its <a/>); several stanzas are all covered by
# one h; and a server without stream management still confirms by ping.
#
# Everything is read from the -v trace, which shows every element sent
# and received.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

server_require
PROSODY_MODULES=smacks
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

if [ "$XMPCTL_TEST_SERVER" = prosody ]; then
	PROSODY_MODULES=
	prosody_start plain || bail_out 'cannot start a Prosody without mod_smacks'
	test_expect_success 'a server without stream management: confirmed by ping' '
		alice -v send bob@example.test "pinged" 2>plain.err &&
		test_grep "urn:xmpp:ping" plain.err &&
		test_grep ! "<enable " plain.err &&
		test_grep ! "<r xmlns" plain.err
	'
else
	test_skip 'a server without stream management: confirmed by ping' \
		"$XMPCTL_TEST_SERVER always offers it"
fi

test_done
