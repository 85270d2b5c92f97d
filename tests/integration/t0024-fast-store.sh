#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0024-fast-store.sh - what xmpctl keeps for FAST (XEP-0484) and SASL2
# (XEP-0388) in the data home: the user-agent id ($XDG_DATA_HOME/xmpctl/
# user-agent: a UUID, 0600 in 0700, made once and kept), the account's
# token ($XDG_DATA_HOME/xmpctl/fast/ACCOUNT: refused when others may
# change or read it, removed when expired or damaged, not read with
# --no-fast, fast = no or --insecure), login --fast-invalidate, the
# options in --help and the man page, and the trace hiding SASL2 data and
# tokens.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

MANPAGE=$TESTS_SRCDIR/../man/xmpctl.1
prosody_require
prosody_start >/dev/null 2>&1 || bail_out 'cannot start Prosody'
XMPCTL_PASSWORD=$ALICE_PASS
# the token files of the tests stay from one run to the next
XMPCTL_TEST_FAST=keep
export XMPCTL_PASSWORD XMPCTL_TEST_FAST
DATA=$XDG_DATA_HOME/xmpctl
UA=$DATA/user-agent
TOKENS=$DATA/fast
TOKEN=$TOKENS/alice@example.test
# a token value no output may show
secret_token=tok-$$-Xy7.not-for-output
TEST_SECRETS="${TEST_SECRETS:-} $secret_token"

# token_file EXPIRY [TOKEN]: a token file as xmpctl writes it, 0600 in 0700
token_file() {
	mkdir -p "$TOKENS" && chmod 700 "$TOKENS" &&
	printf 'xmpctl-fast 1\nmech HT-SHA-256-EXPR\ntoken %s\nexpiry %s\nsaved %s\n' \
		"${2:-$secret_token}" "$1" "$(date +%s)" >"$TOKEN" &&
	chmod 600 "$TOKEN"
}
in_a_day=$(( $(date +%s) + 86400 ))

test_expect_success 'a login makes the user-agent id: a UUID, file 0600, directory 0700' '
	rm -rf "$DATA" &&
	alice login >out-ua1 &&
	test_grep "^jid  *alice@example\.test/" out-ua1 &&
	test "$(stat -c %a "$DATA")" = 700 &&
	test "$(stat -c %a "$UA")" = 600 &&
	grep -Eqx "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}" "$UA"
'

test_expect_success '... which the next login keeps as it is' '
	cp "$UA" ua-before &&
	alice login >out-ua2 &&
	test_cmp ua-before "$UA"
'

test_expect_success '... and which is not in the cache' '
	XMPCTL_TEST_CACHE=$TEST_TMP/cache-ua alice login >out-ua3 &&
	test -d cache-ua/xmpctl &&
	! grep -rqF "$(cat "$UA")" cache-ua
'

test_expect_success 'a user-agent file others may change is not used, and a warning says so' '
	chmod 620 "$UA" &&
	alice login >out-ua4 2>err-ua4 &&
	test_grep "ignoring the user-agent id $UA: others may change it" err-ua4 &&
	test_cmp ua-before "$UA" &&
	chmod 600 "$UA"
'

test_expect_success 'a token file others may change is refused with a warning, and kept' '
	token_file "$in_a_day" &&
	chmod 620 "$TOKEN" &&
	alice login >out-gw 2>err-gw &&
	test_grep "^jid  *alice@example\.test/" out-gw &&
	test_grep "ignoring the FAST token $TOKEN: others may change it" err-gw &&
	test -f "$TOKEN"
'

test_expect_success '... and so is one others may read' '
	chmod 640 "$TOKEN" &&
	alice login >out-gr 2>err-gr &&
	test_grep "ignoring the FAST token $TOKEN: others may read it" err-gr
'

test_expect_success '... or in a directory others may change' '
	chmod 600 "$TOKEN" && chmod 770 "$TOKENS" &&
	alice login >out-gd 2>err-gd &&
	test_grep "ignoring the FAST token $TOKEN: others may change it" err-gd &&
	chmod 700 "$TOKENS"
'

test_expect_success '--no-fast, fast = no and --insecure do not read it' '
	chmod 620 "$TOKEN" &&
	alice --no-fast login >out-nf 2>err-nf &&
	test_grep ! "FAST token" err-nf &&
	mkdir -p "$XDG_CONFIG_HOME/xmpctl" &&
	printf "[alice]\njid = alice@example.test\nfast = no\nsasl2 = no\nfast_unbound = yes\n" \
		>"$XDG_CONFIG_HOME/xmpctl/config" &&
	alice login >out-cfg 2>err-cfg &&
	rm "$XDG_CONFIG_HOME/xmpctl/config" &&
	test_grep "^jid  *alice@example\.test/" out-cfg &&
	test_grep ! "FAST token" err-cfg &&
	alice --insecure login >out-ins 2>err-ins &&
	test_grep ! "FAST token" err-ins &&
	chmod 600 "$TOKEN"
'

test_expect_success 'fast = maybe in the config file is refused (78)' '
	mkdir -p "$XDG_CONFIG_HOME/xmpctl" &&
	printf "[alice]\njid = alice@example.test\nfast = maybe\n" \
		>"$XDG_CONFIG_HOME/xmpctl/config" &&
	expect_exit 78 alice login >out-maybe 2>err-maybe &&
	rm "$XDG_CONFIG_HOME/xmpctl/config" &&
	test_grep "'"'"'fast'"'"' is '"'"'yes'"'"' or '"'"'no'"'"', not '"'"'maybe'"'"'" err-maybe
'

test_expect_success 'an expired token is removed, and --verbose says so' '
	token_file 1000 &&
	alice -v login >out-exp 2>err-exp &&
	test_grep "^jid  *alice@example\.test/" out-exp &&
	test_grep "removing the FAST token $TOKEN: it has expired" err-exp &&
	test ! -e "$TOKEN"
'

test_expect_success '... one about to expire too, silently without --verbose' '
	token_file $(( $(date +%s) + 10 )) &&
	alice login >out-exp2 2>err-exp2 &&
	test_must_be_empty err-exp2 &&
	test ! -e "$TOKEN"
'

test_expect_success 'a damaged token file is removed, with a warning' '
	token_file "$in_a_day" "$(printf "tok\001en")" &&
	alice login >out-dmg 2>err-dmg &&
	test_grep "removing the FAST token $TOKEN: it is damaged" err-dmg &&
	test ! -e "$TOKEN"
'

test_expect_success 'login --fast-invalidate without a token says so, exits 0, connects nowhere' '
	rm -f "$TOKEN" &&
	xmpctl -j alice@example.test --server 127.0.0.1:1 login --fast-invalidate \
		>out-inv0 2>err-inv0 &&
	test_grep "no FAST token for alice@example.test: nothing to invalidate" err-inv0 &&
	test_must_be_empty out-inv0
'

test_expect_success 'login --fast-invalidate removes the token even when no server answers' '
	token_file "$in_a_day" &&
	expect_exit 69 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		login --fast-invalidate >out-inv1 2>err-inv1 &&
	test ! -e "$TOKEN"
'

test_expect_code 64 'login --fast-invalidate with --insecure is refused (64)' '
	token_file "$in_a_day" &&
	xmpctl -j alice@example.test --server 127.0.0.1:1 --insecure \
		login --fast-invalidate
'

test_expect_success '--help and login --help name the new options, and so does the man page' '
	xmpctl --help >help &&
	xmpctl login --help >help-login &&
	missing= &&
	for o in --no-sasl2 --no-fast --fast-unbound; do
		test_grep -e "^ *$o " help || missing="$missing $o"
	done &&
	test_grep -e "^ *--fast-invalidate " help-login &&
	sed "s/\\\\-/-/g" "$MANPAGE" >man.txt &&
	for o in no-sasl2 no-fast fast-unbound fast-invalidate; do
		test_grep -e "^\\.B --$o\$" man.txt || missing="$missing $o"
	done &&
	test -z "$missing"
'

test_expect_success 'the trace hides a FAST token and SASL2 data in what is sent' '
	alice -v raw "<message to=\"alice@example.test\"><token xmlns=\"urn:xmpp:fast:0\" expiry=\"2030-01-01T00:00:00Z\" token=\"$secret_token\"/><initial-response>$secret_token</initial-response><additional-data>$secret_token</additional-data></message>" \
		>out-raw 2>err-raw &&
	test_grep ">> <message.*<token xmlns=.urn:xmpp:fast:0. expiry=.2030-01-01T00:00:00Z. token=.\[redacted\]./>" err-raw &&
	test_grep "<initial-response>\[redacted\]</initial-response>" err-raw &&
	test_grep "<additional-data>\[redacted\]</additional-data>" err-raw &&
	test_grep ! -F "$secret_token" err-raw
'

test_done
