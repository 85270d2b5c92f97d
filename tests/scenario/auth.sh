#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# auth.sh - SASL against each server of the matrix: mechanism choice,
# forced mechanisms, failures.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

needs
server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD

test_expect_success 'a wrong password exits 77 with not-authorized' '
	XMPCTL_PASSWORD=wrong-password expect_exit 77 alice login >out 2>err &&
	test_grep "^xmpctl: .*not-authorized" err &&
	test_grep "alice@example\.test" err &&
	test_must_be_empty out
'

test_expect_success 'the error names the mechanism that was tried' '
	test_grep "$SCRAM" err
'

test_expect_success 'a wrong password with --mech PLAIN exits 77' '
	XMPCTL_PASSWORD=wrong-password \
		expect_exit 77 alice --mech PLAIN login 2>err-plain &&
	test_grep "not-authorized" err-plain
'

test_expect_success '--mech PLAIN with the right password logs in with PLAIN' '
	alice --mech PLAIN login >out-plain &&
	test_grep "^sasl  *PLAIN\( \|\$\)" out-plain &&
	test_grep "^jid  *alice@example\.test/." out-plain
'

test_expect_success "--mech=$SCRAM logs in with $SCRAM" '
	alice --mech="$SCRAM" login >out-scram &&
	test_grep "^sasl  *$SCRAM\( \|\$\)" out-scram
'

test_expect_success '-m PLAIN -v: the trace holds neither password nor PLAIN payload' '
	alice -m PLAIN -v login >out-pv 2>trace-plain &&
	test_grep "^xmpctl: >> <$AUTH_EL .*mechanism=.PLAIN.*\[redacted" trace-plain &&
	test_grep ! -F "$ALICE_PASS" trace-plain &&
	# base64 of "\0alice\0", the start of the PLAIN message
	test_grep ! -F "AGFsaWNl" trace-plain &&
	test_grep ! -F "$(printf "\000alice\000%s" "$ALICE_PASS" | base64)" trace-plain
'

test_expect_success 'a wrong password with -v: the trace still leaks nothing' '
	XMPCTL_PASSWORD=wrong-password \
		expect_exit 77 alice -v login 2>trace-wrong &&
	test_grep "<$AUTH_EL " trace-wrong &&
	test_grep ! -F "wrong-password" trace-wrong &&
	test_grep ! -F biws trace-wrong
'

test_expect_success '--mech DIGEST-MD5 (not offered) fails and names it' '
	alice --mech DIGEST-MD5 login >out-digest 2>err-digest
	rc=$?
	echo "exit status $rc" &&
	test "$rc" != 0 &&
	test_grep "DIGEST-MD5" err-digest &&
	test_grep ! "^jid " out-digest
'

# the SCRAM the server's accounts are not stored with, so not offered
case $SCRAM in
SCRAM-SHA-1) OTHER_SCRAM=SCRAM-SHA-256 ;;
*) OTHER_SCRAM=SCRAM-SHA-1 ;;
esac
test_expect_success "--mech $OTHER_SCRAM (not offered by this server) fails and names it" '
	alice --mech "$OTHER_SCRAM" login >out-256 2>err-256
	rc=$?
	echo "exit status $rc" &&
	test "$rc" != 0 &&
	test_grep "$OTHER_SCRAM" err-256 &&
	test_grep ! "^jid " out-256
'

test_expect_success 'an account that does not exist exits 77' '
	expect_exit 77 xmpctl --server "127.0.0.1:$SERVER_PORT" \
		--cafile "$TEST_CA" -j nobody@example.test login 2>err-nobody &&
	test_grep "^xmpctl: .*nobody@example\.test" err-nobody
'

test_expect_success 'bob logs in with his own password, not with alice'"'"'s' '
	XMPCTL_PASSWORD=$ALICE_PASS expect_exit 77 xmpctl \
		--server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" \
		-j bob@example.test login &&
	XMPCTL_PASSWORD=$BOB_PASS xmpctl \
		--server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" \
		-j bob@example.test login >out-bob &&
	test_grep "^jid  *bob@example\.test/." out-bob
'

test_done
