#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0103-cb.sh - what a server (or whoever holds its certificate) can do to
# the choice of mechanism: offer only PLAIN over a connection that is not
# verified, drop -PLUS for an account that used it, or leave out the
# extended master secret that channel binding relies on.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"

. "$TESTS_SRCDIR/hostile/fake.sh"

fake_cert
MECHS_OPEN="<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
MECHS_CLOSE="</mechanisms></stream:features>"

# to_mechs [OP] MECH...: STARTTLS (with OP, default starttls), then offer
# the mechanisms
to_mechs() {
	_op=starttls
	case $1 in starttls*) _op=$1; shift ;; esac
	printf 'expect <stream:stream\n'
	printf "send \$HEADER<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>\n"
	printf 'expect <starttls\n'
	printf '%s %s %s\n' "$_op" "$TEST_TMP/cert.pem" "$TEST_TMP/key.pem"
	printf 'expect <stream:stream\n'
	printf 'send $HEADER%s' "$MECHS_OPEN"
	for _m; do
		printf '<mechanism>%s</mechanism>' "$_m"
	done
	printf '%s\n' "$MECHS_CLOSE"
}

to_mechs PLAIN >plainonly.script
echo hang >>plainonly.script
test_expect_success '--insecure and only PLAIN offered: refused, no <auth/> (77)' '
	fake plainonly &&
	expect_exit 77 run plainonly --insecure login &&
	test_grep "PLAIN over TLS that is not verified (--insecure) only with --mech PLAIN" plainonly.err &&
	test_grep ! "<auth" plainonly.sent &&
	test_grep ! "secret-password" plainonly.sent
'

{ script_to_bind; script_bound alice@example.test/x; script_goodbye; } >forced.script
test_expect_success '... but --insecure --mech PLAIN sends it, as asked' '
	fake forced &&
	run forced --insecure --mech PLAIN login &&
	test_grep "mechanism=.PLAIN" forced.sent
'

{ script_to_bind; script_bound alice@example.test/x; script_goodbye; } >verified.script
test_expect_success 'PLAIN alone over verified TLS is still used' '
	fake verified &&
	run verified --cafile cert.pem login &&
	test_grep "mechanism=.PLAIN" verified.sent
'

to_mechs SCRAM-SHA-1 PLAIN >stripped.script
echo hang >>stripped.script
test_expect_success 'an account that used -PLUS refuses an offer without it (77)' '
	mkdir -p mem/xmpctl &&
	echo ALICE@example.test >mem/xmpctl/channel_binding &&
	chmod 600 mem/xmpctl/channel_binding &&
	fake stripped &&
	XDG_DATA_HOME=$TEST_TMP/mem expect_exit 77 run stripped --cafile cert.pem login &&
	test_grep "refusing to authenticate as alice@example.test without channel binding" stripped.err &&
	test_grep "allow-downgrade" stripped.err &&
	test_grep ! "<auth" stripped.sent
'

test_expect_success 'a channel_binding file others may change is refused (78)' '
	chmod 666 mem/xmpctl/channel_binding &&
	XDG_DATA_HOME=$TEST_TMP/mem expect_exit 78 xmpctl \
		--server 127.0.0.1:1 -j alice@example.test login 2>err-perm &&
	test_grep "channel_binding may be changed by others" err-perm &&
	chmod 600 mem/xmpctl/channel_binding
'

to_mechs SCRAM-SHA-1 PLAIN >cfgallow.script
printf 'expect </auth>\nclose\n' >>cfgallow.script
test_expect_success 'allow_downgrade = yes in the account section allows it' '
	cat >config <<-EOF &&
	[alice]
	jid = alice@example.test
	allow_downgrade = yes
	EOF
	fake cfgallow &&
	{ XDG_DATA_HOME=$TEST_TMP/mem run cfgallow --cafile cert.pem -c config login; true; } &&
	test_grep "mechanism=.SCRAM-SHA-1.>" cfgallow.sent
'

test_expect_success 'allow_downgrade takes only yes or no (78)' '
	printf "[alice]\njid = alice@example.test\nallow_downgrade = maybe\n" >config-bad &&
	expect_exit 78 xmpctl -c config-bad login 2>err-bad &&
	test_grep "config-bad:3: .allow_downgrade. is .yes. or .no., not .maybe." err-bad
'

to_mechs starttls-noems SCRAM-SHA-1-PLUS SCRAM-SHA-1 >noems.script
printf 'expect </auth>\nclose\n' >>noems.script
test_expect_success 'no extended master secret: -PLUS is not used' '
	fake noems &&
	{ run noems --cafile cert.pem login; true; } &&
	test_grep "mechanism=.SCRAM-SHA-1.>" noems.sent &&
	test_grep ! "SCRAM-SHA-1-PLUS" noems.sent
'

to_mechs starttls-noems SCRAM-SHA-1-PLUS SCRAM-SHA-1 >noemsmem.script
echo hang >>noemsmem.script
test_expect_success '... which an account that used -PLUS refuses (77)' '
	fake noemsmem &&
	XDG_DATA_HOME=$TEST_TMP/mem expect_exit 77 run noemsmem --cafile cert.pem login &&
	test_grep "no extended master secret" noemsmem.err &&
	test_grep ! "<auth" noemsmem.sent
'

test_done
