#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0021-rtt.sh - fewer round trips: direct TLS (XEP-0368) first at equal
# SRV priority (answered by a fake DNS server on loopback); the login
# cache ($XDG_CACHE_HOME/xmpctl): the features, used only for the same
# server identity (trust anchors, pins, known keys), no TLS 1.2 session
# and nothing derived from the password on disk, files of the version
# that held them removed, and what happens when it is stale, damaged, or
# open to others.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

# The installed xmpctl has no DNS test hook: use the build that has it.
XMPCTL=${XMPCTL_TESTHOOKS:-$TESTS_BUILDDIR/integration/xmpctl-testhooks}
prosody_require
PROSODY_TLS_TICKETS=yes
prosody_start >/dev/null 2>&1 || bail_out 'cannot start Prosody'
XMPCTL_PASSWORD=$ALICE_PASS
XMPCTL_TEST_CACHE=$TEST_TMP/cache
XDG_CACHE_HOME=$XMPCTL_TEST_CACHE
export XMPCTL_PASSWORD XMPCTL_TEST_CACHE XDG_CACHE_HOME
CACHED=$XDG_CACHE_HOME/xmpctl/alice@example.test

# login [ARGS...]: alice logs in on the STARTTLS port
login() {
	xmpctl --server "127.0.0.1:$PROSODY_PORT" -j alice@example.test \
		--cafile "$TEST_CA" "$@" login
}

# plus OUT: "-PLUS" when the login that wrote OUT could bind its channel.
# Prosody 0.12 binds tls-unique alone, which TLS 1.3 lacks (RFC 9266 §1),
# and lists no types (XEP-0440), so with TLS 1.3 (mbedTLS 3.6) it offers
# no -PLUS mechanism and nothing remembered can bind either.
plus() {
	grep -q "^tls  *TLSv1\.2 " "$1" && echo -PLUS
	grep -q "^tls  *TLSv1\.[23] " "$1"
}

# by weight alone STARTTLS would come first in 65534 of 65535 draws
test_expect_success 'equal SRV priority: _xmpps-client first, whatever the weights' '
	dns "_xmpp-client._tcp.example.test=5:65534:$PROSODY_PORT:localhost" \
	    "_xmpps-client._tcp.example.test=5:1:$PROSODY_TLS_PORT:localhost" &&
	for i in 1 2 3; do
		xmpctl -j alice@example.test --cafile "$TEST_CA" login >out-srv.$i &&
		test_grep "^server  *localhost port $PROSODY_TLS_PORT (SRV _xmpps-client._tcp)\$" out-srv.$i ||
		return 1
	done
'

test_expect_success 'a first login writes the cache: directory 0700, file 0600' '
	rm -rf "$XDG_CACHE_HOME" &&
	login >out-first &&
	test_grep "^cache  *none used\$" out-first &&
	test "$(stat -c %a "$XDG_CACHE_HOME/xmpctl")" = 700 &&
	test "$(stat -c %a "$CACHED")" = 600 &&
	test_grep "^mechs .*SCRAM-SHA-1" "$CACHED"
'

# a TLS 1.2 session holds the master secret; a salted password logs in
test_expect_success '... with neither a TLS session nor a SCRAM key in it' '
	test_grep ! "^tls" "$CACHED" &&
	test_grep ! "^scram" "$CACHED" &&
	test_grep ! "$ALICE_PASS" "$CACHED"
'

test_expect_success 'the next login uses the features: <auth/> before they come' '
	login -v >out-later 2>err-later &&
	test_grep "^cache  *features remembered; (--no-cache to forget)\$" out-later &&
	test_grep ! "TLS session resumed" err-later &&
	# <auth/> went with the stream header, before the features came
	sed -n "/authenticating on the features/,\$p" err-later >after-hint &&
	test_grep ">> <auth " after-hint &&
	test "$(grep -n ">> <auth " err-later | cut -d: -f1)" -lt "$(grep -n "<< <features.*mechanisms" err-later | cut -d: -f1)"
'

test_expect_success '... and a send through it is confirmed' '
	xmpctl --server "127.0.0.1:$PROSODY_PORT" -j alice@example.test \
		--cafile "$TEST_CA" -v send bob@example.test "cached" 2>err-send &&
	test_grep "authenticating on the features" err-send
'

# the trust the features were learnt under is part of them
test_expect_success 'another --pin: the remembered features are not used' '
	pin=$(sed -n "s/^pin //p" "$CACHED") &&
	login --pin "$pin" >out-pin &&
	test_grep "^cache  *none used\$" out-pin &&
	login --pin "$pin" >out-pin2 &&
	test_grep "^cache  *features remembered" out-pin2 &&
	login >out-nopin &&
	test_grep "^cache  *none used\$" out-nopin
'

test_expect_success 'a CA file replaced at the same path: not used either' '
	cp "$TEST_CA" ca-copy.pem &&
	xmpctl --server "127.0.0.1:$PROSODY_PORT" -j alice@example.test \
		--cafile ca-copy.pem login >out-ca1 &&
	xmpctl --server "127.0.0.1:$PROSODY_PORT" -j alice@example.test \
		--cafile ca-copy.pem login >out-ca2 &&
	test_grep "^cache  *features remembered" out-ca2 &&
	# the same anchor and another one: the file is not what it was
	cat "$TEST_CA" "$OTHER_CA" >ca-copy.pem &&
	xmpctl --server "127.0.0.1:$PROSODY_PORT" -j alice@example.test \
		--cafile ca-copy.pem login >out-ca3 &&
	test_grep "^cache  *none used\$" out-ca3
'

# the first contact records the key: that changes the record once
test_expect_success 'a --tofu record that changed: not used either' '
	login --tofu >/dev/null &&
	login --tofu >/dev/null &&
	login --tofu >out-tofu1 &&
	test_grep "^cache  *features remembered" out-tofu1 &&
	known=$XDG_DATA_HOME/xmpctl/known_servers &&
	test -s "$known" &&
	echo "example.test EC sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" >>"$known" &&
	login --tofu >out-tofu2 &&
	test_grep "^cache  *none used\$" out-tofu2
'

# what version 1 wrote: the SCRAM salted password and a TLS session
test_expect_success 'cache files of the earlier format are overwritten and removed' '
	login >/dev/null &&
	dir=$XDG_CACHE_HOME/xmpctl &&
	rm -f "$dir/.format" &&
	printf "xmpctl-hints 1\ndomain example.test\ntrust -\npin sha256//x\nsaved 1\nscram SCRAM-SHA-1 4096 c2FsdA== 00ff\n" >"$dir/carol@example.test" &&
	printf "xmpctl-hints 1\ndomain example.test\ntrust -\npin sha256//x\nsaved 1\ntls 00ff\n" >"$CACHED" &&
	chmod 600 "$dir/carol@example.test" "$CACHED" &&
	login >out-old &&
	test_grep "^cache  *none used\$" out-old &&
	test ! -e "$dir/carol@example.test" &&
	test -f "$dir/.format" &&
	test_grep "^xmpctl-hints 2\$" "$CACHED" &&
	test_grep ! "scram\|^tls" "$CACHED"
'

test_expect_success 'features that changed: refused, then a login on the real ones' '
	login >/dev/null &&
	sed "s/^mechs .*/mechs SCRAM-SHA-256-PLUS SCRAM-SHA-256/" "$CACHED" >cache.tmp &&
	cat cache.tmp >"$CACHED" &&
	login -v >out-stale 2>err-stale &&
	PLUS=$(plus out-stale) &&
	test_grep "remembered features are out of date" err-stale &&
	test_grep "mechanism=.SCRAM-SHA-256$PLUS." err-stale &&
	test_grep "^sasl  *SCRAM-SHA-1" out-stale &&
	test_grep ! "features remembered" out-stale
'

# PLAIN sends the password itself: never on a guess
test_expect_success 'remembered features that say PLAIN: the auth waits for the real ones' '
	login >/dev/null &&
	sed "s/^mechs .*/mechs PLAIN/" "$CACHED" >cache.tmp &&
	cat cache.tmp >"$CACHED" &&
	login -v --allow-downgrade >out-plain 2>err-plain &&
	test_grep "waiting for the features of this stream" err-plain &&
	test "$(grep -n ">> <auth " err-plain | cut -d: -f1)" -gt "$(grep -n "<< <features.*mechanisms" err-plain | cut -d: -f1)" &&
	test_grep ! "mechanism=.PLAIN" err-plain &&
	PLUS=$(plus out-plain) &&
	test_grep "^sasl  *SCRAM-SHA-1$PLUS " out-plain
'

# stale features must not look like a man in the middle (an account
# that used channel binding, remembered features without it); an account
# that never could bind (TLS 1.3 here) authenticates on them at once
test_expect_success 'remembered features without -PLUS: judged on the real ones, no refusal' '
	login >/dev/null &&
	sed "s/^mechs .*/mechs SCRAM-SHA-1/" "$CACHED" >cache.tmp &&
	cat cache.tmp >"$CACHED" &&
	login -v >out-nocb 2>err-nocb &&
	PLUS=$(plus out-nocb) &&
	if test -n "$PLUS"
	then
		test_grep "waiting for the features of this stream" err-nocb
	else
		test_grep "authenticating on the features of example.test remembered" err-nocb
	fi &&
	test_grep "^sasl  *SCRAM-SHA-1$PLUS " out-nocb
'

test_expect_success 'a damaged cache file is ignored' '
	printf "xmpctl-hints 2\ndomain example.test\ntls zz\n" >"$CACHED" &&
	login >out-damaged &&
	test_grep "^cache  *none used\$" out-damaged &&
	test "$(stat -c %a "$CACHED")" = 600
'

test_expect_success 'a cache file others may change is ignored, with a warning' '
	chmod 666 "$CACHED" &&
	login >out-open 2>err-open &&
	test_grep "ignoring the cache .*others may change it" err-open &&
	test_grep "^cache  *none used\$" out-open
'

test_expect_success '--no-cache neither reads nor writes it' '
	login >/dev/null &&
	login --no-cache >out-nocache &&
	test_grep "^cache  *none used\$" out-nocache &&
	rm -rf "$XDG_CACHE_HOME" &&
	login --no-cache >/dev/null &&
	test ! -e "$XDG_CACHE_HOME"
'

test_expect_success 'cache = no in the config file does the same' '
	printf "[alice]\njid = alice@example.test\ncache = no\n" >cfg &&
	xmpctl -c cfg --server "127.0.0.1:$PROSODY_PORT" --cafile "$TEST_CA" login >/dev/null &&
	test ! -e "$XDG_CACHE_HOME"
'

# a new instance: new ticket keys, and the accounts made again (new salt)
test_expect_success 'a restarted server: the features still serve' '
	login >/dev/null &&
	prosody_stop >/dev/null 2>&1 &&
	prosody_start >/dev/null 2>&1 &&
	login -v >out-restart 2>err-restart &&
	test_grep ! "TLS session resumed" err-restart &&
	test_grep "^cache  *features remembered; (--no-cache to forget)\$" out-restart
'

test_done
