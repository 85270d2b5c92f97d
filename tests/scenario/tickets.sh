#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# tickets.sh - TLS resumption from one run to the next, against each server
# of the matrix.  With TLS 1.3 the server's ticket (RFC 8446 §4.6.1) is kept
# in the data home ($XDG_DATA_HOME/xmpctl/tls/ACCOUNT, 0600 in 0700) with
# the features, the next run resumes with it (always with a fresh key
# exchange) and binds the login to the new connection as before; the cache
# holds no ticket.  With TLS 1.2 nothing of TLS reaches the disk: its
# session state would decrypt recorded traffic.
#
# Prosody resumes when its tickets are turned on (its own default is off);
# ejabberd 23.01 and 24.12 send TLS 1.3 tickets that they never accept (an
# OpenSSL client is not resumed either): there the tests check that the
# next run does a full handshake and still logs in.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

needs
PROSODY_TLS_TICKETS=yes
server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD
# one cache, and the tickets kept, for every run
XMPCTL_TEST_CACHE=$HOME/.cache
XDG_CACHE_HOME=$XMPCTL_TEST_CACHE
XMPCTL_TEST_TICKETS=keep
export XMPCTL_TEST_CACHE XDG_CACHE_HOME XMPCTL_TEST_TICKETS
TICKETS=$XDG_DATA_HOME/xmpctl/tls
TICKET=$TICKETS/alice@example.test
CACHED=$XDG_CACHE_HOME/xmpctl/alice@example.test
# does this server resume a TLS 1.3 ticket?
server_is prosody && resumes=yes || resumes=no

if [ "$TLS_VERSION" = TLSv1.2 ]; then

test_expect_success 'TLS 1.2: a login keeps no TLS state on disk' '
	alice login >out1 &&
	test_grep "^tls  *TLSv1.2 .*(STARTTLS)\$" out1 &&
	test ! -e "$TICKET" &&
	test -s "$CACHED" &&
	test_grep ! "^tls " "$CACHED"
'

test_expect_success '... so the next run does a full handshake' '
	alice login >out2 &&
	test_grep "^tls  *TLSv1.2 .*(STARTTLS)\$" out2 &&
	test_grep ! "resumed" out2
'

else

test_expect_success 'TLS 1.3: the first login is a full handshake and keeps the ticket' '
	alice login >out1 &&
	test_grep "^tls  *TLSv1.3 .*(STARTTLS)\$" out1 &&
	test_grep "^binding  *$LOGIN_CB" out1 &&
	test -s "$TICKET" &&
	test_grep "^tls [0-9a-f]" "$TICKET"
'

test_expect_success '... private: 0600 in a 0700 directory' '
	test "$(stat -c %a "$TICKET")" = 600 &&
	test "$(stat -c %a "$TICKETS")" = 700
'

test_expect_success '... and the cache holds the features, not the ticket' '
	test -s "$CACHED" &&
	test_grep "^mechs " "$CACHED" &&
	test_grep ! "^tls " "$CACHED"
'

if [ "$resumes" = yes ]; then
test_expect_success 'the next run resumes with the ticket, and says so' '
	alice login >out2 &&
	test_grep "^tls  *TLSv1.3 .*(STARTTLS, resumed)\$" out2 &&
	test_grep "^cache  *TLS session resumed; " out2
'

test_expect_success '... binding the login to the new connection as before' '
	test_grep "^sasl  *$LOGIN_MECH " out2 &&
	test_grep "^binding  *$LOGIN_CB" out2
'

test_expect_success '... the certificate is not sent again: the key it was verified with is shown' '
	test_grep "^certificate  *not sent again (TLS session resumed); key sha256//[A-Za-z0-9+/=]*; verified for example\.test\$" out2 &&
	test_grep "key $(sed -n "s/^pin //p" "$TICKET")" out2
'

test_expect_success '... and the next run resumes again, with the ticket the server sent this time' '
	alice --format json login >out3.json &&
	test "$(json_get out3.json "o[\"tls_resumed\"]")" = True &&
	test "$(json_get out3.json "o[\"channel_binding\"]")" = "$LOGIN_CB"
'

test_expect_success '... a pinned account too (from its second run: the pin is part of what the ticket was kept under), the pin checked against that key' '
	pin=$(sed -n "s/^pin //p" "$TICKET") &&
	alice --pin "$pin" login >out-pin1 &&
	test_grep "(STARTTLS)\$" out-pin1 &&
	alice --pin "$pin" login >out-pin &&
	test_grep "(STARTTLS, resumed)\$" out-pin
'

test_expect_success '... and a pin the key does not match refuses the server, ticket or not (79)' '
	expect_exit 79 alice --pin "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" \
		login >out-badpin 2>err-badpin &&
	test_grep "matches no pin" err-badpin &&
	test_must_be_empty out-badpin
'

test_expect_success '--no-cache: a full handshake, and the ticket is left as it is' '
	cp "$TICKET" ticket.before &&
	alice --no-cache login >out4 &&
	test_grep "^tls  *TLSv1.3 .*(STARTTLS)\$" out4 &&
	test_grep "^cache  *none used" out4 &&
	cmp "$TICKET" ticket.before
'
else
test_expect_success "$XMPCTL_TEST_SERVER does not resume: the next run does a full handshake and logs in" '
	alice login >out2 &&
	test_grep "^tls  *TLSv1.3 .*(STARTTLS)\$" out2 &&
	test_grep "^binding  *$LOGIN_CB" out2 &&
	test_grep "^jid  *alice@example\.test/" out2
'
fi

test_expect_success 'a ticket others may read is not used, and a warning says so' '
	chmod 644 "$TICKET" &&
	alice login >out5 2>err5 &&
	test_grep "ignoring the TLS ticket $TICKET: others may read it" err5 &&
	test_grep ! "resumed" out5 &&
	test "$(stat -c %a "$TICKET")" = 600
'

test_expect_success 'a damaged ticket file costs a full handshake, and is replaced' '
	printf "xmpctl-hints 2\ntls zz\n" >"$TICKET" &&
	alice login >out6 2>err6 &&
	test_grep ! "resumed" out6 &&
	test_must_be_empty err6 &&
	test_grep "^tls [0-9a-f]" "$TICKET"
'

test_expect_success "a wrong password fails (77) whatever the ticket" '
	XMPCTL_PASSWORD=wrong-password expect_exit 77 alice login >out7 2>err7 &&
	test_grep "not-authorized" err7 &&
	test_must_be_empty out7
'

fi

test_done
