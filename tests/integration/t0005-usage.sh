#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0005-usage.sh - command line handling: --help, --version, usage errors,
# and --help and the man page naming the same options.
# No server is needed: nothing here may get as far as the network (port 1 on
# 127.0.0.1 is closed, so a premature connection shows up as exit 69).

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"

MANPAGE=$TESTS_SRCDIR/../man/xmpctl.1
XMPCTL_PASSWORD=not-used
export XMPCTL_PASSWORD

# long_options: the --long-options named in a text on stdin, sorted, unique
long_options() {
	sed 's/\\-/-/g' | grep -o -e '--[a-z][a-z0-9-]*' | sort -u
}

test_expect_success '--help exits 0 and describes the commands' '
	xmpctl --help >help 2>err &&
	test_grep -w login help &&
	test_grep -w send help &&
	test_must_be_empty err
'

test_expect_success '-h prints the same help' '
	xmpctl -h >help-h &&
	test_cmp help help-h
'

commands='login check send raw listen presence roster pubsub queue session shell'
# documented in the man page, left out of the command list of --help
hidden_commands='completion'

test_expect_success '--help lists every command' '
	missing= &&
	for c in $commands; do
		test_grep "^  $c " help || missing="$missing $c"
	done &&
	test -z "$missing"
'

test_expect_success '--help leaves the hidden commands out' '
	listed= &&
	for c in $hidden_commands; do
		test_grep ! "^  $c " help || listed="$listed $c"
	done &&
	test -z "$listed"
'

test_expect_success 'COMMAND --help describes the command, without connecting' '
	bad= &&
	for c in $commands $hidden_commands; do
		expect_exit 0 xmpctl -j alice@example.test --server 127.0.0.1:1 \
			$c --help >help-$c 2>err-$c &&
		test_grep "^Usage: xmpctl \[OPTIONS\] $c" help-$c &&
		test_grep -e "--help" help-$c &&
		test_must_be_empty err-$c || bad="$bad $c"
	done &&
	test -z "$bad" &&
	xmpctl raw -h >help-raw-h &&
	test_cmp help-raw help-raw-h
'

test_expect_success 'each command names its own options' '
	test_grep -e "--stay" help-raw &&
	test_grep -e "--all-or-nothing" help-raw &&
	test_grep -e "--count" help-listen &&
	test_grep ! -e "--count" help-raw
'

test_expect_success 'the man page and the help texts name the same long options' '
	long_options <"$MANPAGE" >man-options &&
	test -s man-options &&
	cat help help-* | long_options >help-options &&
	{ comm -23 man-options help-options | sed "s/^/only in man page: /"
	  comm -13 man-options help-options | sed "s/^/only in --help: /"
	} >man-vs-help &&
	test_must_be_empty man-vs-help
'

test_expect_success 'every command has a section in the man page' '
	missing= &&
	for c in $commands $hidden_commands; do
		test_grep "^\\.SS $c\\b" "$MANPAGE" || missing="$missing $c"
	done &&
	test -z "$missing"
'

test_expect_success '--version exits 0 and prints "xmpctl 0.1.0"' '
	xmpctl --version >version 2>err &&
	test "$(head -n 1 version)" = "xmpctl 0.1.0" &&
	test_must_be_empty err
'

test_expect_success '-V prints the same' '
	xmpctl -V >version-V &&
	test_cmp version version-V
'

test_expect_success '--version names the TLS library and says whether it has TLS 1.3' '
	test_grep "^TLS: mbedTLS [23]\.[0-9]*\.[0-9]*\$" version &&
	test_grep -x "TLS 1\.3: \(yes\|no\)" version
'

test_expect_success 'a --tls-min other than 1.2 and 1.3 exits 64 and names the value' '
	for v in 1.1 1.4 tls1.3 ""; do
		expect_exit 64 xmpctl --tls-min "$v" -j alice@example.test \
			--server 127.0.0.1:1 login >out 2>err &&
		test_must_be_empty out &&
		test "$(wc -l <err)" = 1 &&
		test_grep -F "xmpctl: invalid --tls-min value '"'"'$v'"'"': expected 1.2 or 1.3" err ||
		return 1
	done
'

test_expect_success '--tls-min 1.2 is taken (the port is closed: 69)' '
	expect_exit 69 xmpctl --tls-min 1.2 -j alice@example.test \
		--server 127.0.0.1:1 login 2>err &&
	test_grep ! "tls-min" err
'

if has_tls13; then
	test_skip '--tls-min 1.3 without TLS 1.3 exits 64 and says why' \
		'this build has TLS 1.3 (xmpctl --version)'
	test_expect_success '--tls-min 1.3 is taken where the build has TLS 1.3 (69)' '
		expect_exit 69 xmpctl --tls-min=1.3 -j alice@example.test \
			--server 127.0.0.1:1 login 2>err &&
		test_grep ! "tls-min" err
	'
else
	test_expect_success '--tls-min 1.3 without TLS 1.3 exits 64 and says why' '
		expect_exit 64 xmpctl --tls-min 1.3 -j alice@example.test \
			--server 127.0.0.1:1 login >out 2>err &&
		test_must_be_empty out &&
		test "$(wc -l <err)" = 1 &&
		test_grep "^xmpctl: --tls-min 1\.3: this build of xmpctl has no TLS 1\.3 (mbedTLS 2\.[0-9.]*)\$" err
	'
	test_skip '--tls-min 1.3 is taken where the build has TLS 1.3 (69)' \
		'this build has no TLS 1.3 (xmpctl --version)'
fi

test_expect_success 'an unknown option exits 64 with one line on stderr' '
	expect_exit 64 xmpctl --no-such-option login >out 2>err &&
	test_must_be_empty out &&
	test_grep "^xmpctl: " err &&
	test_grep -e "--no-such-option" err
'

test_expect_code 64 'an unknown short option exits 64' '
	xmpctl -Q login
'

test_expect_success 'no command exits 64' '
	expect_exit 64 xmpctl -j alice@example.test --server 127.0.0.1:1 2>err &&
	test_grep "^xmpctl: " err
'

test_expect_success 'an unknown command exits 64 and names it' '
	expect_exit 64 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		frobnicate 2>err &&
	test_grep "frobnicate" err
'

test_expect_code 64 'there is no --password option (64)' '
	xmpctl --password=x -j alice@example.test --server 127.0.0.1:1 login
'

test_expect_code 64 'there is no -p option either (64)' '
	xmpctl -p x -j alice@example.test --server 127.0.0.1:1 login
'

test_expect_code 64 'an option without its argument exits 64' '
	xmpctl login -j
'

test_expect_code 64 '--jid without its argument exits 64' '
	xmpctl --server 127.0.0.1:1 --jid
'

test_expect_code 64 'a non-numeric --timeout exits 64' '
	xmpctl -j alice@example.test --server 127.0.0.1:1 --timeout=abc login
'

test_expect_code 64 'no -j and no config file exits 64' '
	xmpctl --server 127.0.0.1:1 login
'

test_expect_code 65 '-j "not a jid@" exits 65' '
	xmpctl -j "not a jid@" --server 127.0.0.1:1 login
'

test_expect_code 65 '-j with an empty domain exits 65' '
	xmpctl -j "alice@" --server 127.0.0.1:1 login
'

test_expect_code 64 'send without a recipient exits 64' '
	xmpctl -j alice@example.test --server 127.0.0.1:1 send
'

test_expect_code 64 'an unknown command option exits 64' '
	xmpctl -j alice@example.test --server 127.0.0.1:1 listen --bogus
'

test_expect_success 'a command option goes after the command' '
	expect_exit 64 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		--count 1 listen 2>err &&
	test_grep -e "--count" err
'

test_expect_success 'options may follow the operands: send JID TEXT --help' '
	xmpctl -j alice@example.test --server 127.0.0.1:1 \
		send bob@example.test hi --help >out &&
	test_grep "^Usage: xmpctl \[OPTIONS\] send " out
'

test_expect_success 'options follow the operands with POSIXLY_CORRECT set too' '
	POSIXLY_CORRECT=1 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		send bob@example.test hi --help >out &&
	test_grep "^Usage: xmpctl \[OPTIONS\] send " out
'

test_expect_success 'roster add JID --bogus, presence away --bogus: unknown options (64)' '
	expect_exit 64 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		roster add bob@example.test --bogus 2>err &&
	test_grep "unknown option .--bogus." err &&
	expect_exit 64 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		presence away --bogus 2>err &&
	test_grep "unknown option .--bogus." err
'

test_expect_success 'a TEXT that begins with "-" is an option, unless after "--"' '
	expect_exit 64 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		send bob@example.test -5 2>err &&
	test_grep "unknown option .-5. (an operand that begins with .-. goes after .--.)" err &&
	expect_exit 69 xmpctl -j alice@example.test \
		--server 127.0.0.1:1 send bob@example.test -- -5 2>err &&
	test_grep ! "option" err
'

test_expect_success 'send: a TEXT of white space only is refused like an empty one (65)' '
	expect_exit 65 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		send bob@example.test "" 2>err &&
	test_grep "empty message: nothing sent" err &&
	expect_exit 65 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		send bob@example.test " 	 " 2>err &&
	test_grep "message of white space only: nothing sent" err &&
	printf " \n\t\n" | expect_exit 65 xmpctl -j alice@example.test \
		--server 127.0.0.1:1 send bob@example.test 2>err &&
	test_grep "message of white space only: nothing sent" err
'

test_expect_code 64 'listen --count 0 exits 64' '
	xmpctl -j alice@example.test --server 127.0.0.1:1 listen --count 0
'

test_expect_code 64 'listen --type must be a message type (64)' '
	xmpctl -j alice@example.test --server 127.0.0.1:1 listen --type bogus
'

test_expect_code 65 'listen --from with an invalid JID exits 65' '
	xmpctl -j alice@example.test --server 127.0.0.1:1 listen --from "a@@b"
'

test_expect_code 64 'listen takes no arguments (64)' '
	xmpctl -j alice@example.test --server 127.0.0.1:1 listen extra
'

test_expect_code 64 'an unknown --format exits 64' '
	xmpctl --format yaml -j alice@example.test --server 127.0.0.1:1 login
'

test_expect_code 64 'a negative --keepalive exits 64' '
	xmpctl --keepalive -1 -j alice@example.test --server 127.0.0.1:1 login
'

test_expect_success 'raw: a broken argument is refused before connecting (65)' '
	expect_exit 65 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		raw "<message><body>x</message>" 2>err &&
	test_grep "^xmpctl: argument 1: line 1, column 19: mismatched tag; it and what follows were not sent\$" err
'

test_expect_success 'raw --all-or-nothing: one broken argument, nothing connects (65)' '
	expect_exit 65 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		raw --all-or-nothing "<presence/>" "<iq" 2>err &&
	test_grep "^xmpctl: argument 2: line 1, column 1: unfinished tag at the end of input; it and what follows were not sent\$" err
'

test_expect_success 'raw --all-or-nothing on stdin: a broken element, nothing connects (65)' '
	printf "<presence/>\n<message>\n<body>a</bdy></message>\n" >bad.xml &&
	expect_exit 65 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		raw --all-or-nothing <bad.xml 2>err &&
	test_grep "^xmpctl: stdin: line 3, column 10: mismatched tag" err
'

test_expect_success 'raw: a trailing CR is whitespace, not an unfinished tag' '
	expect_exit 69 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		raw --all-or-nothing "$(printf "<presence/>\r")" 2>err &&
	test_grep "cannot connect" err
'

test_expect_success 'raw: an invalid JID in to is bad input (65)' '
	expect_exit 65 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		raw "<message to=\"a@@b\"/>" 2>err &&
	test_grep "invalid .to." err
'

test_expect_success 'raw: an iq without a type is refused (65)' '
	expect_exit 65 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		raw "<iq id=\"x\"/>" 2>err &&
	test_grep "needs a type" err
'

test_expect_success 'raw: XML a server would refuse (a processing instruction) is refused (65)' '
	expect_exit 65 xmpctl -j alice@example.test --server 127.0.0.1:1 \
		raw "<?note x?><presence/>" 2>err &&
	test_grep "restricted XML: processing instruction" err
'

test_done
