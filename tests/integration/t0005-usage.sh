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

test_expect_success '--help exits 0 and describes login and send' '
	xmpctl --help >help 2>err &&
	test_grep -w login help &&
	test_grep -w send help &&
	test_must_be_empty err
'

test_expect_success '-h prints the same help' '
	xmpctl -h >help-h &&
	test_cmp help help-h
'

test_expect_success 'the man page and --help name the same long options' '
		long_options <"$MANPAGE" >man-options &&
		test -s man-options &&
		long_options <help >help-options &&
		{ comm -23 man-options help-options | sed "s/^/only in man page: /"
		  comm -13 man-options help-options | sed "s/^/only in --help: /"
		} >man-vs-help &&
		test_must_be_empty man-vs-help
'

test_expect_success 'COMMAND --help prints the same help, without connecting' '
	xmpctl send --help >help-send &&
	test_cmp help help-send &&
	xmpctl login -h >help-login &&
	test_cmp help help-login
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

test_done
