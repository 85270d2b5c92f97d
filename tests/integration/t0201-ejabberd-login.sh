#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0201-ejabberd-login.sh - the core of t0001-login.sh against a private
# ejabberd (server.sh with XMPCTL_TEST_SERVER=ejabberd): login succeeds
# over STARTTLS and direct TLS, text and JSON output, a wrong password.
#
# What differs from Prosody: ejabberd (SCRAM-stored passwords) offers
# PLAIN, SCRAM-SHA-1-PLUS, SCRAM-SHA-1 and X-OAUTH2, so xmpctl must pass
# over a mechanism it does not know and bind to the channel (tls-unique,
# as Prosody); it has stream management (sm:2, sm:3) and still announces
# the old session establishment; its resources, when the server picks
# them, are digits only.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
XMPCTL_TEST_SERVER=ejabberd
. "$TESTS_SRCDIR/integration/server.sh"

server_require
server_start || bail_out 'cannot start ejabberd'

XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD

test_expect_success 'login succeeds and prints the bound JID' '
	alice login >out 2>err &&
	test_grep "^jid  *alice@example\.test/." out
'

test_expect_success 'login output is "key  value" lines, values at column 14' '
	test -s out &&
	awk "
		length(\$0) < 14 || substr(\$0, 1, 13) !~ /^[a-z]+ +\$/ ||
		substr(\$0, 14, 1) == \" \" { print \"bad line \" NR \": \" \$0; bad = 1 }
		END { exit bad }
	" out
'

test_expect_success 'login reports the address and TLS with STARTTLS' '
	test_grep "^address  *127\.0\.0\.1:$SERVER_PORT\$" out &&
	test_grep "^tls  *TLSv1\.[23] .*(STARTTLS)\$" out
'

test_expect_success 'login reports the certificate as verified for example.test' '
	test_grep "^certificate  *CN=example\.test; .*verified for example\.test\$" out &&
	test_grep "^certificate .*issuer CN=xmpctl test CA;" out
'

test_expect_success 'SCRAM-SHA-1-PLUS is chosen among the mechanisms ejabberd offers' '
	# X-OAUTH2 and SCRAM-SHA-1 are offered too, and passed over
	test_grep "^sasl  *SCRAM-SHA-1-PLUS (offered: .*PLAIN.*)\$" out &&
	test_grep "^sasl .*offered: .*X-OAUTH2" out
'

test_expect_success 'login reports the post-authentication stream features' '
	test_grep "^features  *.*bind" out
'

test_expect_success 'nothing on stderr after a successful login' '
	test_must_be_empty err
'

test_expect_success '-r asks for a resource and gets exactly it' '
	alice -r probe login >out-r &&
	test_grep "^jid  *alice@example\.test/probe\$" out-r
'

test_expect_success '--direct-tls connects with TLS from the first byte' '
	xmpctl --server "127.0.0.1:$SERVER_TLS_PORT" --direct-tls \
		--cafile "$TEST_CA" -j alice@example.test login >out-d &&
	test_grep "^tls  *TLSv1\.[23] .*(direct TLS)\$" out-d &&
	test_grep "^certificate .*verified for example\.test\$" out-d &&
	test_grep "^jid  *alice@example\.test/." out-d
'

test_expect_success 'login as JSON: one object with the same fields' '
	alice --format json login >out.json &&
	test "$(wc -l <out.json)" = 1 &&
	"$PYTHON" -c "
import json, sys
o = json.load(open(sys.argv[1]))
assert o[\"kind\"] == \"login\", o
assert o[\"jid\"].startswith(\"alice@example.test/\"), o
assert o[\"tls_mode\"] == \"starttls\", o
assert o[\"cert_verified_for\"] == \"example.test\", o
assert o[\"sasl\"] == \"SCRAM-SHA-1-PLUS\", o
assert \"X-OAUTH2\" in o[\"sasl_offered\"].split(), o
" out.json
'

test_expect_success '-v: the trace redacts every SASL element, no password' '
	alice -v login >out-v 2>trace &&
	test_grep "^xmpctl: >> <auth .*\[redacted" trace &&
	grep -E "<(auth|challenge|response|success)[ >]" trace >sasl-lines &&
	test_grep ! -v "\[redacted\]" sasl-lines &&
	test_grep ! -F "$ALICE_PASS" trace
'

test_expect_success 'a wrong password fails to authenticate (77)' '
	# ejabberd says not-authorized, with the text "Invalid username or password"
	XMPCTL_PASSWORD=wrong-password expect_exit 77 alice login 2>err-pw &&
	test_grep "^xmpctl: authentication failed as alice@example\.test" err-pw &&
	test_grep "not-authorized" err-pw
'

test_expect_success 'an account that does not exist fails the same way (77)' '
	XMPCTL_PASSWORD=x expect_exit 77 xmpctl --server "127.0.0.1:$SERVER_PORT" \
		--cafile "$TEST_CA" -j nobody@example.test login
'

test_expect_success 'bob and carol can log in too' '
	as bob login >out-bob &&
	test_grep "^jid  *bob@example\.test/." out-bob &&
	as carol login >out-carol &&
	test_grep "^jid  *carol@example\.test/." out-carol
'

test_done
