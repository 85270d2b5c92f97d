#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# cb.sh - channel binding (SCRAM-SHA-*-PLUS with tls-unique or tls-exporter,
# as server.sh says: LOGIN_MECH, LOGIN_CB) against each server of the matrix, and a man in the middle with a certificate the
# client trusts: other binding data, a stripped -PLUS offer (refused once
# the account has used -PLUS, unless --allow-downgrade), a forged XEP-0474
# hash.  Each server's log says in its own words that the login was
# accepted (and, for ejabberd, the binding refused).

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

needs cb
command -v "$PYTHON" >/dev/null 2>&1 || skip_all "python3 not found"
server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD
MEMORY=$HOME/.local/share/xmpctl/channel_binding

relay_pid=
test_atexit '[ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null'

# relay MODE: start cbrelay.py in front of the server; sets RELAY_PORT.
relay() {
	rm -f relay.port
	"$PYTHON" "$TESTS_SRCDIR/integration/cbrelay.py" "$1" relay.port \
		"$SERVER_PORT" "$PKI_DIR/example.test.pem" \
		"$PKI_DIR/example.test.key" "$TEST_CA" &
	relay_pid=$!
	wait_for "test -s relay.port" 20 "the relay to listen" &&
	RELAY_PORT=$(cat relay.port)
}

relay_done() {
	kill "$relay_pid" 2>/dev/null
	wait "$relay_pid" 2>/dev/null
	relay_pid=
}

# via_relay ARGS...: xmpctl as alice through the relay (its certificate
# is valid for example.test: the client's check passes)
via_relay() {
	xmpctl --server "127.0.0.1:$RELAY_PORT" --cafile "$TEST_CA" \
		-j alice@example.test "$@"
}

test_expect_success "login uses $LOGIN_MECH with $LOGIN_CB, and says so" '
	alice login >out &&
	test_grep "^sasl  *$LOGIN_MECH (offered: " out &&
	test_grep "^binding  *$LOGIN_CB" out
'

if server_is prosody; then
test_expect_success "Prosody's log shows the $LOGIN_MECH exchange succeed" '
	test_grep "Received\[c2s_unauthed\]: <$AUTH_EL [^>]*mechanism=.$LOGIN_MECH." \
		"$SERVER_LOG" &&
	test_grep "Authenticated as alice@example\.test" "$SERVER_LOG" &&
	test_grep ! "mechanism=.$SCRAM.[ />]" "$SERVER_LOG"
'
fi
if server_is ejabberd; then
test_expect_success "ejabberd's log shows the $LOGIN_MECH login accepted" '
	wait_for "grep -q \"Accepted c2s $LOGIN_MECH authentication for alice@example.test\" \"$SERVER_LOG\"" \
		20 "ejabberd to log the login"
'
fi

test_expect_success 'json output has the mechanism and the channel binding' '
	alice --format json login >out.json &&
	test "$(json_get out.json "o[\"sasl\"]")" = "$LOGIN_MECH" &&
	test "$(json_get out.json "o[\"channel_binding\"]")" = "$LOGIN_CB"
'

test_expect_success 'the account is remembered: private directory and file' '
	test_grep -x "alice@example.test $LOGIN_CB" "$MEMORY" &&
	test "$(stat -c %a "$MEMORY")" = 600 &&
	test "$(stat -c %a "${MEMORY%/*}")" = 700 &&
	test "$(grep -c . "$MEMORY")" = 1
'

test_expect_success "a man in the middle: other $LOGIN_CB data, the -PLUS login fails (77)" '
	relay pass &&
	XDG_DATA_HOME=$TEST_TMP/fresh expect_exit 77 via_relay -v login \
		>out-mitm 2>err-mitm &&
	relay_done &&
	test_grep "$LOGIN_MECH" err-mitm &&
	test_grep "<$AUTH_EL .*mechanism=.$LOGIN_MECH" err-mitm &&
	test_grep "authentication failed as alice@example.test ($LOGIN_MECH)" err-mitm &&
	test_must_be_empty out-mitm
'

if server_is ejabberd; then
test_expect_success '... and ejabberd says why: the binding is not its own' '
	test_grep "Invalid channel binding" err-mitm &&
	wait_for "grep -q \"Failed c2s $LOGIN_MECH authentication from 127.0.0.1: Invalid channel binding\" \"$SERVER_LOG\"" \
		20 "ejabberd to log the refusal"
'
fi

test_expect_success 'the relay strips -PLUS: refused after a -PLUS login (77), no <auth/>' '
	relay strip &&
	expect_exit 77 via_relay -v login >out-strip 2>err-strip &&
	relay_done &&
	test_grep "without channel binding, which it used before" err-strip &&
	test_grep "offered: [A-Z0-9 -]*$SCRAM" err-strip &&
	test_grep ! "offered: [^)]*PLUS" err-strip &&
	test_grep ! "<auth " err-strip &&
	test_must_be_empty out-strip
'

if server_has ssdp; then
# XEP-0474: the server's own hash of what it offered reaches the client
# inside SCRAM, where the relay cannot change it
test_expect_success '... and caught by downgrade protection even with --allow-downgrade (77)' '
	relay strip &&
	expect_exit 77 via_relay --allow-downgrade login >out-allow 2>err-allow &&
	relay_done &&
	test_grep "downgrade protection hash (XEP-0474) does not match what it offered (mechanisms: [A-Z0-9 -]*$SCRAM[A-Z0-9 -]*;" err-allow &&
	test_grep ! "offered (mechanisms: [^;]*PLUS" err-allow &&
	test_must_be_empty out-allow
'

test_expect_success '... and by an account that never used -PLUS (77)' '
	relay strip &&
	XDG_DATA_HOME=$TEST_TMP/fresh expect_exit 77 via_relay login \
		>out-new 2>err-new &&
	relay_done &&
	test_grep "downgrade protection hash (XEP-0474) does not match" err-new &&
	test_must_be_empty out-new
'
else
test_expect_success '... and allowed with --allow-downgrade' '
	relay strip &&
	via_relay --allow-downgrade login >out-allow &&
	relay_done &&
	test_grep "^sasl  *$SCRAM (offered: " out-allow &&
	test_grep ! "PLUS" out-allow &&
	test_grep "^binding  *none" out-allow
'

test_expect_success '... and by an account that never used -PLUS' '
	relay strip &&
	XDG_DATA_HOME=$TEST_TMP/fresh via_relay login >out-new &&
	relay_done &&
	test_grep "^sasl  *$SCRAM " out-new &&
	test ! -e "$TEST_TMP/fresh/xmpctl/channel_binding"
'
fi

test_expect_success 'a mechanism named with --mech is not a downgrade' '
	alice --mech "$SCRAM" login >out-forced &&
	test_grep "^sasl  *$SCRAM " out-forced
'

test_expect_success 'a forged XEP-0474 hash fails before the proof is sent (77)' '
	relay ssdp &&
	XDG_DATA_HOME=$TEST_TMP/fresh expect_exit 77 via_relay -v login \
		>out-ssdp 2>err-ssdp &&
	relay_done &&
	test_grep "downgrade protection hash (XEP-0474) does not match" err-ssdp &&
	test_grep ! "<response" err-ssdp
'

test_done
