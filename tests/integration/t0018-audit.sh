#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0018-audit.sh - secrets and trust at the edges: $XMPCTL_PASSWORD leaves
# the environment, config errors do not echo the line, -a NAME is never
# used with another account's JID, --cafile and --password-file are
# checked like the config file, JIDs with noncharacters are refused before
# connecting, and the DNS test hook is not in the installed program.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

prosody_require
prosody_start >/dev/null 2>&1 || bail_out 'cannot start Prosody'

printf '%s\n' "$ALICE_PASS" >pwfile && chmod 600 pwfile

# ---- $XMPCTL_PASSWORD -------------------------------------------------------
# The password command is a child of xmpctl: it records what the kernel
# shows of xmpctl's environment (/proc/PID/environ is the environment as
# the program started, so only overwriting it there removes it).  Under
# valgrind the program runs on a copy of it, and the kernel shows
# valgrind's.
env_secret=env-secret-$$-not-alice
TEST_SECRETS="${TEST_SECRETS:-} $env_secret"
if [ -n "$TEST_WRAPPER" ] || [ ! -r /proc/self/environ ]; then
	test_skip 'XMPCTL_PASSWORD and XMPCTL_ROOM_PASSWORD are gone from the environment once read' \
		'needs /proc and no TEST_WRAPPER'
else
	test_expect_success 'XMPCTL_PASSWORD and XMPCTL_ROOM_PASSWORD are gone from the environment once read' '
		XMPCTL_PASSWORD=$env_secret XMPCTL_ROOM_PASSWORD=room-$env_secret \
			alice --password-command \
			"tr \"\\\\000\" \"\\\\n\" </proc/\$PPID/environ >environ.txt; head -n 1 pwfile" \
			login >out-env &&
		test_grep "^jid  *alice@example\.test/." out-env &&
		test_grep "^HOME=" environ.txt &&
		test_grep ! -F "$env_secret" environ.txt &&
		test_grep ! XMPCTL_PASSWORD environ.txt &&
		test_grep ! XMPCTL_ROOM_PASSWORD environ.txt
	'
fi

test_expect_success '... and still used as the password' '
	XMPCTL_PASSWORD=$ALICE_PASS alice login >out-env2 &&
	test_grep "^jid  *alice@example\.test/." out-env2
'

# ---- config errors name file, line and key, never the line ----------------------
cfg_secret=cfg-secret-$$
TEST_SECRETS="${TEST_SECRETS:-} $cfg_secret"
test_expect_success 'a malformed config line is not echoed (78)' '
	printf "[work]\njid = alice@example.test\npassword %s\n" "$cfg_secret" >config-bad &&
	chmod 600 config-bad &&
	expect_exit 78 xmpctl -c config-bad login 2>err-bad &&
	test_grep "config-bad:3: expected .key = value.\$" err-bad &&
	test_grep ! -F "$cfg_secret" err-bad
'

test_expect_success 'a malformed section header is not echoed (78)' '
	printf "[%s\n" "$cfg_secret" >config-hdr &&
	chmod 600 config-hdr &&
	expect_exit 78 xmpctl -c config-hdr login 2>err-hdr &&
	test_grep "config-hdr:1: bad section header\$" err-hdr &&
	test_grep ! -F "$cfg_secret" err-hdr
'

# ---- -a NAME -j OTHER -----------------------------------------------------------
cat >config <<EOF
[work]
jid = alice@example.test
server = 127.0.0.1:$PROSODY_PORT
cafile = $TEST_CA
password_command = head -n 1 $TEST_TMP/pwfile
EOF
chmod 600 config

test_expect_success '-a NAME with another account'"'"'s -j is refused (64)' '
	expect_exit 64 xmpctl -c config -a work -j bob@example.test login 2>err-aj &&
	test_grep "account .work. is alice@example.test, not bob@example.test" err-aj
'

test_expect_success '-a NAME with its own -j (another resource) is used' '
	xmpctl -c config -a work -j Alice@example.test/mine login >out-aj &&
	test_grep "^jid  *alice@example\.test/mine\$" out-aj
'

# ---- --cafile and --password-file ------------------------------------------------
test_expect_success 'a --cafile others can change is refused (78)' '
	cp "$TEST_CA" ca-gw.pem &&
	chmod 666 ca-gw.pem &&
	XMPCTL_PASSWORD=$ALICE_PASS expect_exit 78 xmpctl --server "127.0.0.1:$PROSODY_PORT" \
		-j alice@example.test --cafile ca-gw.pem login 2>err-ca &&
	test_grep "CA file ca-gw.pem can be changed by other users" err-ca
'

test_expect_success 'a cafile key naming such a file is refused too (78)' '
	sed "s|^cafile = .*|cafile = $TEST_TMP/ca-gw.pem|" config >config-ca &&
	chmod 600 config-ca &&
	expect_exit 78 xmpctl -c config-ca login 2>err-ca2 &&
	test_grep "can be changed by other users" err-ca2
'

test_expect_success '... and used once only its owner can change it' '
	chmod 644 ca-gw.pem &&
	XMPCTL_PASSWORD=$ALICE_PASS xmpctl --server "127.0.0.1:$PROSODY_PORT" \
		-j alice@example.test --cafile ca-gw.pem login >out-ca &&
	test_grep "^jid  *alice@example\.test/." out-ca
'

test_expect_success 'a --password-file others can read is refused (78)' '
	cp pwfile pw-644 &&
	chmod 644 pw-644 &&
	expect_exit 78 alice --password-file pw-644 login 2>err-pw &&
	test_grep "password file pw-644 can be read by others" err-pw
'

test_expect_success 'a --password-file others can change is refused (78)' '
	chmod 602 pw-644 &&
	expect_exit 78 alice --password-file pw-644 login 2>err-pw2 &&
	test_grep "password file pw-644 can be changed by other users" err-pw2
'

# ---- JIDs with noncharacters ---------------------------------------------------
# Port 1 on loopback is closed: reaching it would end in 69, not 65.
for cp in 'FFFE \357\277\276' 'FDD0 \357\267\220' '1FFFE \360\237\277\276'; do
	hex=${cp% *}
	test_expect_success "a JID holding U+$hex is refused before connecting (65)" '
		res=$(printf "x${cp#* }") &&
		XMPCTL_PASSWORD=$ALICE_PASS expect_exit 65 xmpctl --server 127.0.0.1:1 \
			-j "alice@example.test/$res" login 2>err-nc &&
		test_grep "invalid JID: resourcepart holds U+$hex" err-nc
	'
done

# ---- the DNS test hook ------------------------------------------------------------
# The installed program does not even contain it (it could only be shown
# to be ignored by a lookup through the system's DNS, which would leave
# loopback); the build for the tests does.
test_expect_success 'xmpctl has no XMPCTL_DNS_SERVER hook' '
	! grep -q -a XMPCTL_DNS_SERVER "$XMPCTL"
'

test_expect_success '... the test build has it, and honours it' '
	grep -q -a XMPCTL_DNS_SERVER "${XMPCTL_TESTHOOKS:-$TESTS_BUILDDIR/integration/xmpctl-testhooks}" &&
	(XMPCTL=${XMPCTL_TESTHOOKS:-$TESTS_BUILDDIR/integration/xmpctl-testhooks}
	 XMPCTL_DNS_SERVER=bogus XMPCTL_PASSWORD=$ALICE_PASS expect_exit 64 \
		xmpctl -j alice@example.test login 2>err-dns) &&
	test_grep "invalid XMPCTL_DNS_SERVER value .bogus." err-dns
'

test_done
