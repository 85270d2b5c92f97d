#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0023-tls-versions.sh - the TLS versions xmpctl accepts, --tls-min and the
# config key tls_min, against openssl s_server held to one version (mbedTLS
# 3.6 has nothing older than TLS 1.2 to serve with): TLS 1.1, refused by
# every build; TLS 1.2, accepted, and refused with --tls-min 1.3; TLS 1.3.
# s_server speaks no XMPP: a refusal is asserted on its error and exit
# status (79, nothing sent), an accepted handshake on the TLS line of the
# trace and a later failure that is not a TLS one (the "stream" it sends).

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/pki.sh"

command -v openssl >/dev/null 2>&1 || skip_all 'no openssl to run s_server'
pki_make "$TEST_TMP/pki" || bail_out 'cannot make the test certificates'

XMPCTL_PASSWORD=not-used
export XMPCTL_PASSWORD

if has_tls13; then
	TLS13=yes
	BUILD_HAS='this build has TLS 1.3 (xmpctl --version)'
else
	TLS13=no
	BUILD_HAS='this build has no TLS 1.3 (xmpctl --version)'
fi

# s_server_start NAME FLAGS...: openssl s_server for example.test (the
# test CA's certificate) on a port of its choosing on 127.0.0.1, for one
# connection, held to the version FLAGS say; its port in S_PORT.  It sends
# a line that is no XMPP once the handshake is done, then closes.
s_server_pids=
s_server_start() {
	_sn=$1
	shift
	rm -f "$_sn.s_out"
	printf 'not xmpp\n' >"$_sn.s_in"
	openssl s_server -accept 127.0.0.1:0 -naccept 1 \
		-cert "$PKI_DIR/example.test.pem" -key "$PKI_DIR/example.test.key" \
		"$@" <"$_sn.s_in" >"$_sn.s_out" 2>"$_sn.s_err" &
	s_server_pids="$s_server_pids $!"
	wait_for "grep -q '^ACCEPT ' $_sn.s_out" 20 "s_server $_sn to listen" &&
	S_PORT=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$_sn.s_out") &&
	test -n "$S_PORT"
}
s_server_stop() {
	for _sp in $s_server_pids; do
		kill "$_sp" 2>/dev/null
	done
	s_server_pids=
	return 0
}
test_atexit s_server_stop
test_on_failure 'for f in *.s_err; do [ -s "$f" ] && echo "$f:" && tail -n 5 "$f"; done'

# at ARGS...: xmpctl, direct TLS to the s_server last started, -v
at() {
	xmpctl --server "127.0.0.1:$S_PORT" --direct-tls --cafile "$TEST_CA" \
		-j alice@example.test --timeout 10 -v "$@"
}

# refused FILE WHAT: the trace FILE of a handshake refused for the version,
# with WHAT in its error; nothing went over TLS
refused() {
	test_grep "^xmpctl: TLS handshake with example\.test failed: the server does not offer $2" "$1" &&
	test_grep ! "<stream:stream" "$1"
}

# accepted FILE VERSION STATUS: the trace FILE of a handshake done in
# VERSION ("TLSv1.2"), and the exit STATUS of what failed next, not TLS
accepted() {
	test_grep "^xmpctl: -- $2 " "$1" &&
	test_grep "<stream:stream" "$1" &&
	test_grep ! "TLS handshake" "$1" &&
	test "$3" != 79 && test "$3" != 0
}

# accepts NAME FLAG VERSION [ARGS...]: an s_server NAME held to FLAG
# (-tls1_2) finishes the handshake of "xmpctl ARGS login" in VERSION
# (TLSv1.2), its trace in trace-NAME
accepts() {
	_ac_n=$1 _ac_f=$2 _ac_v=$3
	shift 3
	s_server_start "$_ac_n" "$_ac_f" || return 1
	at "$@" login >out 2>"trace-$_ac_n"
	accepted "trace-$_ac_n" "$_ac_v" $?
}

# ---- TLS 1.1: never ------------------------------------------------------------

test_expect_success 'a TLS 1.1 server is refused, and the error says so (79)' '
	s_server_start tls11 -tls1_1 -cipher "DEFAULT@SECLEVEL=0" &&
	expect_exit 79 at login >out 2>trace-11 &&
	test_must_be_empty out &&
	if [ $TLS13 = yes ]; then
		refused trace-11 "TLS 1\.2 or 1\.3: it sent a fatal alert: protocol_version (70)\$"
	else
		refused trace-11 "TLS 1\.2: it answered in TLS 1\.1 with a fatal alert: handshake_failure (40)\$"
	fi
'

# ---- TLS 1.2 --------------------------------------------------------------------

test_expect_success 'a TLS 1.2 server is accepted by default' '
	accepts tls12 -tls1_2 TLSv1.2
'

test_expect_success '--tls-min 1.2 accepts it as well' '
	accepts tls12b -tls1_2 TLSv1.2 --tls-min 1.2
'

if [ $TLS13 = yes ]; then
	test_expect_success '--tls-min 1.3 refuses a TLS 1.2 server, naming the version (79)' '
		s_server_start tls12c -tls1_2 &&
		expect_exit 79 at --tls-min 1.3 login >out 2>trace-12c &&
		test_must_be_empty out &&
		refused trace-12c "TLS 1\.3 (--tls-min 1\.3): it sent a fatal alert: protocol_version (70)\$"
	'

	test_expect_success 'so does tls_min = 1.3 in the config file' '
		printf "[alice]\njid = alice@example.test\ntls_min = 1.3\n" >config &&
		chmod 600 config &&
		s_server_start tls12d -tls1_2 &&
		expect_exit 79 at --config config login >out 2>trace-12d &&
		refused trace-12d "TLS 1\.3 (--tls-min 1\.3)"
	'

	test_expect_success '... and --tls-min 1.2 on the command line overrides it' '
		accepts tls12e -tls1_2 TLSv1.2 --config config --tls-min 1.2
	'

	test_expect_success 'a session holder started with --tls-min 1.3 refuses it (79)' '
		s_server_start tls12f -tls1_2 &&
		expect_exit 79 at --tls-min 1.3 session start >out 2>trace-12f &&
		refused trace-12f "TLS 1\.3 (--tls-min 1\.3)"
	'

	test_expect_success 'so do the clients of a script run with --tls-min 1.3' '
		printf "%s\n" "[Client] Alice" "	jid: alice@example.test" \
			"	password: not-used" "" "---------" "" "Alice connects" \
			>one.scs &&
		s_server_start tls12g -tls1_2 &&
		expect_exit 79 at --tls-min 1.3 script one.scs >out-12g 2>trace-12g &&
		test_grep "Alice cannot connect: TLS handshake with example\.test failed: the server does not offer TLS 1\.3 (--tls-min 1\.3)" out-12g
	'
else
	for t in '--tls-min 1.3 refuses a TLS 1.2 server, naming the version (79)' \
		'so does tls_min = 1.3 in the config file' \
		'... and --tls-min 1.2 on the command line overrides it' \
		'a session holder started with --tls-min 1.3 refuses it (79)' \
		'so do the clients of a script run with --tls-min 1.3'; do
		test_skip "$t" "$BUILD_HAS"
	done
fi

# ---- TLS 1.3 --------------------------------------------------------------------

if [ $TLS13 = yes ]; then
	test_expect_success 'a TLS 1.3 server is accepted in TLS 1.3' '
		accepts tls13 -tls1_3 TLSv1.3
	'

	test_expect_success '... and with --tls-min 1.3' '
		accepts tls13b -tls1_3 TLSv1.3 --tls-min 1.3
	'
	test_skip 'a TLS 1.3 server is refused by a build without TLS 1.3 (79)' \
		"$BUILD_HAS"
	test_skip 'tls_min = 1.3 is a configuration error without TLS 1.3 (78)' \
		"$BUILD_HAS"
else
	test_skip 'a TLS 1.3 server is accepted in TLS 1.3' "$BUILD_HAS"
	test_skip '... and with --tls-min 1.3' "$BUILD_HAS"

	test_expect_success 'a TLS 1.3 server is refused by a build without TLS 1.3 (79)' '
		s_server_start tls13c -tls1_3 &&
		expect_exit 79 at login >out 2>trace-13c &&
		refused trace-13c "TLS 1\.2: it sent a fatal alert: protocol_version (70); it may require TLS 1\.3, which this build lacks\$"
	'

	test_expect_success 'tls_min = 1.3 is a configuration error without TLS 1.3 (78)' '
		printf "[alice]\njid = alice@example.test\ntls_min = 1.3\n" >config &&
		chmod 600 config &&
		expect_exit 78 xmpctl --config config --server 127.0.0.1:1 \
			login >out 2>err &&
		test_must_be_empty out &&
		test_grep "^xmpctl: config:3: tls_min 1\.3: this build of xmpctl has no TLS 1\.3 (mbedTLS 2\.[0-9.]*)\$" err
	'
fi

# ---- the config key's values -----------------------------------------------------

test_expect_success 'tls_min other than 1.2 or 1.3 is a configuration error naming it (78)' '
	printf "[alice]\njid = alice@example.test\ntls_min = 1.0\n" >config-bad &&
	chmod 600 config-bad &&
	expect_exit 78 xmpctl --config config-bad --server 127.0.0.1:1 \
		login >out 2>err &&
	test_must_be_empty out &&
	test_grep "^xmpctl: config-bad:3: .tls_min. is .1\.2. or .1\.3., not .1\.0.\$" err
'

test_expect_success 'tls_min = 1.2 is taken (the port is closed: 69)' '
	printf "[alice]\njid = alice@example.test\ntls_min = 1.2\n" >config-12 &&
	chmod 600 config-12 &&
	expect_exit 69 xmpctl --config config-12 --server 127.0.0.1:1 login 2>err &&
	test_grep ! "tls_min" err
'

test_done
