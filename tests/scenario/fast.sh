#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# fast.sh - SASL2 (XEP-0388), Bind2 (XEP-0386) and FAST tokens (XEP-0484)
# against the servers that offer them (Prosody 13 with mod_sasl2,
# mod_sasl2_bind2, mod_sasl2_fast; ejabberd 24.12 with mod_auth_fast).
#
# A login with the password asks for a token, kept in the data home
# ($XDG_DATA_HOME/xmpctl/fast/ACCOUNT, 0600) and nowhere else; the next run
# logs in with it (HT-SHA-256-EXPR on TLS 1.3, -UNIQ on TLS 1.2) without
# the password, and a one-shot send goes with the login (XEP-0509
# pipelining); a token the server refuses falls back to the password once,
# and a message that went with it is delivered once; --fast-invalidate
# forgets it on both sides; a server that stops offering FAST gets the
# password.  Delivery is checked at bob's end: bob is offline, the server
# keeps what arrives, and "xmpctl listen" as bob collects it behind a
# sentinel from carol.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

needs sasl2 bind2 fast sm
server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

XMPCTL_TEST_FAST=keep
export XMPCTL_TEST_FAST
FASTDIR=$XDG_DATA_HOME/xmpctl/fast
TOKEN=$FASTDIR/alice@example.test
if [ "$TLS_VERSION" = TLSv1.3 ]; then HT=HT-SHA-256-EXPR; else HT=HT-SHA-256-UNIQ; fi
# ejabberd 24.12 lists tls-exporter on TLS 1.2 too (XEP-0440)
[ "$TLS_VERSION" = TLSv1.2 ] && server_is ejabberd && HT=HT-SHA-256-EXPR

# with the password (as every other scenario), and without any
with_pw() { XMPCTL_PASSWORD=$ALICE_PASS alice "$@"; }
no_pw() { alice "$@"; }
unset XMPCTL_PASSWORD

# token FILE: the token a token file holds
token() { sed -n 's/^token //p' "$1"; }

# collect N: bob's kept messages, carol's sentinel N last: the bodies
# before it, one per line (a message that came twice pushes the sentinel
# out of the two collected)
collect() {
	as carol send bob@example.test "sentinel $1" &&
	as bob --format json listen --count 2 --timeout 30 >bob.json 2>bob.err &&
	json_get bob.json "o[\"body\"]" >bodies.all &&
	test_grep "^sentinel $1\$" bodies.all &&
	grep -v "^sentinel" bodies.all >bodies
}

test_expect_success 'a login with the password uses SASL2 and Bind2 and gets a token' '
	with_pw login >out1 &&
	test_grep "^sasl  *$SCRAM-PLUS .*SASL2" out1 &&
	test_grep "^jid  *alice@example\.test/xmpctl" out1 &&
	test_grep "^fast  *token received ($HT)" out1 &&
	test -s "$TOKEN"
'

test_expect_success 'the token file is 0600 in a 0700 directory' '
	test "$(stat -c %a "$TOKEN")" = 600 &&
	test "$(stat -c %a "$FASTDIR")" = 700 &&
	test_grep "^mech $HT\$" "$TOKEN" &&
	test -n "$(token "$TOKEN")"
'

test_expect_success 'the token is nowhere else: not in the output, the trace or the cache' '
	cp "$TOKEN" saved-token &&
	XMPCTL_PASSWORD=$ALICE_PASS XMPCTL_TEST_CACHE=$PWD/cache \
		alice -v login >out-v 2>trace-v &&
	t=$(token "$TOKEN") &&
	test_grep "^fast  *logged in with a token" out-v &&
	test_grep ! -F "$t" out-v &&
	test_grep ! -F "$t" trace-v &&
	! grep -rF "$t" cache &&
	test_grep "<authenticate .*mechanism=.$HT.*\[redacted\]" trace-v
'

test_expect_success 'the next run logs in with the token, without the password' '
	no_pw login >out2 &&
	test_grep "^sasl  *$HT .*SASL2" out2 &&
	test_grep "^fast  *logged in with a token ($HT)" out2
'

test_expect_success 'the JSON report says so' '
	no_pw --format json login >out.json &&
	test "$(json_get out.json "o[\"fast_mech\"]")" = "$HT" &&
	test "$(json_get out.json "o[\"sasl2\"]")" = True &&
	test "$(json_get out.json "o[\"bind2\"]")" = True
'

test_expect_success 'a one-shot send with the token goes with the login, and arrives' '
	no_pw -v send bob@example.test "with the token" 2>trace-send &&
	test_grep "stanzas may go before the server confirms" trace-send &&
	collect 1 &&
	echo "with the token" >expect &&
	test_cmp expect bodies
'

test_expect_success 'a later contact: the token and the message leave with the stream header' '
	XMPCTL_PASSWORD=$ALICE_PASS XMPCTL_TEST_CACHE=$PWD/cache-later \
		alice login >/dev/null &&
	XMPCTL_TEST_CACHE=$PWD/cache-later \
		no_pw -v send bob@example.test "on a later contact" 2>trace-later &&
	test_grep "remembered from an earlier session" trace-later &&
	sed -n "/^xmpctl: -- TLSv/,/^xmpctl: << /p" trace-later >flight &&
	test_grep "^xmpctl: << <stream:stream " flight &&
	test_grep "^xmpctl: >> <authenticate [^>]*mechanism=.$HT" flight &&
	test_grep "^xmpctl: >> <message " flight &&
	test_grep "^xmpctl: >> <r xmlns=.urn:xmpp:sm:3" flight &&
	collect 5 &&
	echo "on a later contact" >expect &&
	test_cmp expect bodies
'

test_expect_success 'a refused token: the password, once, and a new token' '
	t=$(token "$TOKEN") &&
	sed "s/^token .*/token not-the-token-$$/" "$TOKEN" >bad &&
	cp bad "$TOKEN" && chmod 600 "$TOKEN" &&
	with_pw login >out3 &&
	test_grep "^fast  *token refused; logged in with the password" out3 &&
	test -s "$TOKEN" &&
	test "$(token "$TOKEN")" != "not-the-token-$$"
'

test_expect_success 'a refused token without a password source: 77, and the token is gone' '
	sed "s/^token .*/token not-the-token-$$/" "$TOKEN" >bad &&
	cp bad "$TOKEN" && chmod 600 "$TOKEN" &&
	expect_exit 77 no_pw login 2>err &&
	test ! -e "$TOKEN"
'

test_expect_success 'a refused token under a pipelined send: delivered exactly once' '
	with_pw login >/dev/null &&
	sed "s/^token .*/token not-the-token-$$/" "$TOKEN" >bad &&
	cp bad "$TOKEN" && chmod 600 "$TOKEN" &&
	with_pw send bob@example.test "after a refused token" &&
	test -s "$TOKEN" &&
	collect 2 &&
	echo "after a refused token" >expect &&
	test_cmp expect bodies
'

test_expect_success '--fast-invalidate forgets the token on both sides' '
	no_pw login >/dev/null &&
	cp "$TOKEN" kept-token &&
	no_pw login --fast-invalidate >out4 &&
	test_grep "^fast  *token invalidated by the server" out4 &&
	test ! -e "$TOKEN" &&
	cp kept-token "$TOKEN" && chmod 600 "$TOKEN" &&
	expect_exit 77 no_pw login 2>err4 &&
	test_grep -i "not-authorized\|refused" err4
'

test_expect_success 'an expired token is not offered: the password is used' '
	with_pw login >/dev/null &&
	sed "s/^expiry .*/expiry 1000000000/" "$TOKEN" >old &&
	cp old "$TOKEN" && chmod 600 "$TOKEN" &&
	XMPCTL_PASSWORD=$ALICE_PASS alice -v login >out5 2>trace5 &&
	test_grep ! "<authenticate [^>]*mechanism=.HT-" trace5 &&
	test_grep "^fast  *token received" out5
'

test_expect_success 'a send while alice listens: another user agent, so neither ends the other' '
	test_atexit bg_kill_all &&
	with_pw login >/dev/null &&
	bg_start lsn alice listen --count 2 --timeout 60 &&
	as carol send alice@example.test "probe" &&
	wait_for "grep -q probe lsn.out" 20 "the listener to be online" &&
	with_pw send bob@example.test "while alice listens" &&
	test -s "$TOKEN#1" &&
	test_grep "^mech " "$TOKEN#1" &&
	as carol send alice@example.test "to the listener" &&
	wait_for "test -s lsn.rc" 30 "the listener to end" &&
	test "$(cat lsn.rc)" = 0 &&
	test_grep "to the listener" lsn.out &&
	collect 4 &&
	echo "while alice listens" >expect &&
	test_cmp expect bodies
'

test_expect_success '--no-sasl2 logs in the RFC 6120 way' '
	with_pw --no-sasl2 -v login >out6 2>trace6 &&
	test_grep "<auth " trace6 &&
	test_grep ! "<authenticate " trace6 &&
	test_grep ! "^fast " out6
'

test_expect_success '--resource binds exactly that resource, after SASL2' '
	with_pw --resource exact-one login >out7 &&
	test_grep "^jid  *alice@example\.test/exact-one\$" out7
'

if server_is prosody; then
# Prosody replaces a token older than sasl2_fast_token_min_ttl when it is
# used (ejabberd 24.12 counts that age in thousands of seconds)
test_expect_success 'the server replaces an aged token: the new one is kept, the old one is refused' '
	server_stop &&
	SERVER_FAST_ROTATE=1 server_start &&
	with_pw login >/dev/null &&
	cp "$TOKEN" aged &&
	aged_at=$(( $(date +%s) + 2 )) &&
	wait_for "test \$(date +%s) -ge $aged_at" 10 "the token to age" &&
	no_pw login >out-rot &&
	test_grep "^fast  *logged in with a token ($HT); token rotated" out-rot &&
	test "$(token "$TOKEN")" != "$(token aged)" &&
	no_pw login >out-rot2 &&
	test_grep "^fast  *logged in with a token" out-rot2 &&
	cp aged "$TOKEN" && chmod 600 "$TOKEN" &&
	expect_exit 77 no_pw login 2>err-rot &&
	test ! -e "$TOKEN"
'

# Prosody can be started again without FAST (ejabberd 24.12 keeps its
# modules in its database's configuration: not restarted here)
test_expect_success 'a server that stopped offering FAST gets the password, and the send arrives once' '
	with_pw login >/dev/null &&
	test -s "$TOKEN" &&
	server_stop &&
	SERVER_FAST=no server_start &&
	with_pw send bob@example.test "without FAST" &&
	collect 3 &&
	echo "without FAST" >expect &&
	test_cmp expect bodies
'
fi

test_done
