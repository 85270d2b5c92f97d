#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0021-rtt.sh - fewer round trips: direct TLS (XEP-0368) first at equal
# SRV priority (answered by a fake DNS server on loopback); the login
# cache ($XDG_CACHE_HOME/xmpctl): TLS resumption, the features, the SCRAM
# salted password, and what happens when it is stale, damaged, or open to
# others.
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
	test_grep "^scram SCRAM-SHA-1 " "$CACHED"
'

test_expect_success 'the next login resumes TLS and uses the features and SCRAM key' '
	login -v >out-later 2>err-later &&
	test_grep "^cache  *TLS session resumed; features remembered; SCRAM key remembered;" out-later &&
	test_grep "TLS session resumed" err-later &&
	# <auth/> went with the stream header, before the features came
	sed -n "/authenticating on the features/,\$p" err-later >after-hint &&
	test_grep ">> <auth " after-hint &&
	test "$(grep -n ">> <auth " err-later | cut -d: -f1)" -lt "$(grep -n "<< <features.*mechanisms" err-later | cut -d: -f1)"
'

test_expect_success '... and a send through it is confirmed' '
	xmpctl --server "127.0.0.1:$PROSODY_PORT" -j alice@example.test \
		--cafile "$TEST_CA" -v send bob@example.test "cached" 2>err-send &&
	test_grep "TLS session resumed" err-send
'

test_expect_success 'features that changed: refused, then a login on the real ones' '
	sed "s/^mechs .*/mechs SCRAM-SHA-256/" "$CACHED" >cache.tmp &&
	cat cache.tmp >"$CACHED" &&
	login -v >out-stale 2>err-stale &&
	test_grep "remembered features are out of date" err-stale &&
	test_grep "mechanism=.SCRAM-SHA-256." err-stale &&
	test_grep "^sasl  *SCRAM-SHA-1" out-stale &&
	test_grep ! "features remembered" out-stale
'

test_expect_success 'a damaged cache file is ignored' '
	printf "xmpctl-hints 1\ndomain example.test\ntls zz\n" >"$CACHED" &&
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
test_expect_success 'a restarted server: full handshake, SCRAM from the password' '
	login >/dev/null &&
	prosody_stop >/dev/null 2>&1 &&
	prosody_start >/dev/null 2>&1 &&
	login -v >out-restart 2>err-restart &&
	test_grep ! "TLS session resumed" err-restart &&
	test_grep ! "salted password remembered" err-restart &&
	test_grep "^cache  *features remembered; (--no-cache to forget)\$" out-restart
'

test_done
