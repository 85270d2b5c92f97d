#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0207-ejabberd-cb.sh - channel binding against a private ejabberd, as
# t0016-cb.sh against Prosody: SCRAM-SHA-1-PLUS with tls-unique succeeds
# and ejabberd's log says so; through a man in the middle with a
# certificate the client trusts, the binding data differ and it fails.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
XMPCTL_TEST_SERVER=ejabberd
. "$TESTS_SRCDIR/integration/server.sh"

server_require
command -v "$PYTHON" >/dev/null 2>&1 || skip_all "python3 not found"
server_start || bail_out 'cannot start ejabberd'

XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD

relay_pid=
test_atexit '[ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null'

test_expect_success 'login uses SCRAM-SHA-1-PLUS with tls-unique' '
	alice login >out &&
	test_grep "^sasl  *SCRAM-SHA-1-PLUS (offered: " out &&
	test_grep "^binding  *tls-unique" out
'

test_expect_success "ejabberd's log shows the SCRAM-SHA-1-PLUS login accepted" '
	wait_for "grep -q \"Accepted c2s SCRAM-SHA-1-PLUS authentication for alice@example.test\" \"$SERVER_LOG\"" \
		20 "ejabberd to log the login"
'

test_expect_success 'a man in the middle: other tls-unique, the login fails (77)' '
	rm -f relay.port &&
	{ "$PYTHON" "$TESTS_SRCDIR/integration/cbrelay.py" pass relay.port \
		"$SERVER_PORT" "$PKI_DIR/example.test.pem" \
		"$PKI_DIR/example.test.key" "$TEST_CA" & } &&
	relay_pid=$! &&
	wait_for "test -s relay.port" 20 "the relay to listen" &&
	XDG_DATA_HOME=$TEST_TMP/fresh expect_exit 77 xmpctl \
		--server "127.0.0.1:$(cat relay.port)" --cafile "$TEST_CA" \
		-j alice@example.test login >out-mitm 2>err-mitm &&
	test_grep "authentication failed as alice@example.test (SCRAM-SHA-1-PLUS)" err-mitm &&
	test_grep "Invalid channel binding" err-mitm &&
	wait_for "grep -q \"Failed c2s SCRAM-SHA-1-PLUS authentication from 127.0.0.1: Invalid channel binding\" \"$SERVER_LOG\"" \
		20 "ejabberd to log the refusal"
'

test_done
