#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0029-omemo-interop.sh - lib/omemo.c against an OMEMO implementation
# written elsewhere: python3-omemo with python3-oldmemo
# (eu.siacs.conversations.axolotl) and python3-twomemo (urn:xmpp:omemo:2),
# in both namespaces and both ways, bundles and messages passed through
# files (no server): tests/unit/omemo_xc is our device, omemo_peer.py
# theirs.  Each side must read exactly the text the other sent, non-ASCII
# and XML specials included; the empty key-transport message python
# sends after a key exchange is taken quietly; and each side refuses a
# replayed or tampered message of the other's.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"

# Debian's python3 (a python3 earlier on PATH may lack the modules)
PY=${OMEMO_PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
"$PY" -c 'import omemo, oldmemo, twomemo, xmlschema' 2>/dev/null ||
	skip_all "python3-omemo, -oldmemo, -twomemo or -xmlschema not installed"
XC=$TESTS_BUILDDIR/unit/omemo_xc
[ -x "$XC" ] || bail_out "no $XC: run make check (or make tests/unit/omemo_xc)"
PYTHONUTF8=1
export PYTHONUTF8

# peer NS NAME JID ARGS...: python's device NAME
peer() {
	_ns=$1 _name=$2 _jid=$3
	shift 3
	"$PY" "$TESTS_SRCDIR/integration/omemo_peer.py" "$_ns" "py-$_ns-$_name" \
		"$_jid" "$@"
}
# ours NS NAME JID ARGS...: our device NAME
ours() {
	_ns=$1 _name=$2 _jid=$3
	shift 3
	$TEST_WRAPPER "$XC" "c-$_ns-$_name.state" "$_jid" "$_ns" "$@"
}

A=alice@example.test
B=bob@example.test
C=carol@example.test
D=dave@example.test
T1='from libomemo-c: grüße ⚡ <b>&amp;</b> "q"'
T2='from python: ünïcode ✓ & <tag/>'
T3='third: libomemo-c again, on the ratchet'
T4='fourth: python again'

for ns in old two; do
	test_expect_success "$ns: both publish a bundle" '
		peer $ns bob $B bundle bob-$ns.xml >bdev-$ns.out &&
		ours $ns alice $A bundle alice-$ns.xml >adev-$ns.out &&
		bdev=$(cat bdev-$ns.out) && adev=$(cat adev-$ns.out) &&
		test -n "$bdev" && test -n "$adev"
	'
	bdev=$(cat bdev-$ns.out 2>/dev/null)
	adev=$(cat adev-$ns.out 2>/dev/null)

	test_expect_success "$ns: we start (key exchange), python decrypts the exact text" '
		ours $ns alice $A encrypt $B "$bdev" bob-$ns.xml "$T1" c2p-1-$ns.xml &&
		peer $ns bob $B decrypt $A "$adev" alice-$ns.xml c2p-1-$ns.xml \
			>got-1-$ns.out 2>py-1-$ns.err &&
		printf "%s\t%s\n" "$adev" "$T1" >want-1-$ns.out &&
		test_cmp want-1-$ns.out got-1-$ns.out
	'
	test_expect_success "$ns: python answers the key exchange with an empty message: taken quietly" '
		test -f py-$ns-bob/kt-1.xml &&
		! grep -q payload py-$ns-bob/kt-1.xml &&
		ours $ns alice $A decrypt $B py-$ns-bob/kt-1.xml >got-kt-$ns.out &&
		echo key-transport >want-kt-$ns.out &&
		test_cmp want-kt-$ns.out got-kt-$ns.out
	'
	test_expect_success "$ns: python encrypts, we decrypt the exact text" '
		peer $ns bob $B encrypt $A "$adev" alice-$ns.xml "$T2" p2c-1-$ns.xml \
			2>py-2-$ns.err &&
		ours $ns alice $A decrypt $B p2c-1-$ns.xml >got-2-$ns.out &&
		printf "%s\tblind\t%s\n" "$bdev" "$T2" >want-2-$ns.out &&
		test_cmp want-2-$ns.out got-2-$ns.out
	'
	test_expect_success "$ns: fingerprints: each side shows the other's as the other does" '
		ours $ns alice $A fingerprint >fpr-a-$ns.out &&
		peer $ns bob $B fingerprint >fpr-b-$ns.out &&
		grep -Eqx "([0-9a-f]{8} ){7}[0-9a-f]{8}" fpr-a-$ns.out &&
		peer $ns bob $B fingerprint $A >got-fa-$ns.out &&
		printf "%s\t%s\n" "$adev" "$(cat fpr-a-$ns.out)" >want-fa-$ns.out &&
		test_cmp want-fa-$ns.out got-fa-$ns.out &&
		ours $ns alice $A trust $B "$bdev" >got-fb-$ns.out &&
		printf "blind\t%s\n" "$(cat fpr-b-$ns.out)" >want-fb-$ns.out &&
		test_cmp want-fb-$ns.out got-fb-$ns.out
	'
	test_expect_code 1 "$ns: we refuse python's message replayed" '
		ours $ns alice $A decrypt $B p2c-1-$ns.xml
	'
	test_expect_success "$ns: ... saying why" '
		test_grep "^refused	replayed message" stdout
	'
	test_expect_success "$ns: we again, over the ratchet; python decrypts" '
		ours $ns alice $A encrypt $B "$bdev" - "$T3" c2p-2-$ns.xml &&
		! grep -q "prekey=\|kex=" c2p-2-$ns.xml &&
		peer $ns bob $B decrypt $A "$adev" alice-$ns.xml c2p-2-$ns.xml \
			>got-3-$ns.out 2>py-3-$ns.err &&
		printf "%s\t%s\n" "$adev" "$T3" >want-3-$ns.out &&
		test_cmp want-3-$ns.out got-3-$ns.out
	'
	test_expect_code 1 "$ns: python refuses our message replayed" '
		peer $ns bob $B decrypt $A "$adev" alice-$ns.xml c2p-2-$ns.xml
	'
	test_expect_success "$ns: python again; a bit flipped in its payload: we refuse it" '
		peer $ns bob $B encrypt $A "$adev" alice-$ns.xml "$T4" p2c-2-$ns.xml \
			2>py-4-$ns.err &&
		"$PY" -c "
import base64, re, sys
s = open(sys.argv[1]).read()
m = re.search(r\"payload>([^<]+)<\", s)
raw = bytearray(base64.b64decode(m.group(1)))
raw[0] ^= 1
open(sys.argv[2], \"w\").write(s.replace(m.group(1), base64.b64encode(raw).decode()))
" p2c-2-$ns.xml p2c-2-bad-$ns.xml &&
		! ours $ns alice $A decrypt $B p2c-2-bad-$ns.xml >got-bad-$ns.out &&
		test_grep "^refused	tampered with" got-bad-$ns.out
	'

	# python starts this time, with a device of ours that never wrote
	test_expect_success "$ns: python starts (key exchange), we decrypt the exact text" '
		ours $ns carol $C bundle carol-$ns.xml >cdev-$ns.out &&
		peer $ns dave $D bundle dave-$ns.xml >ddev-$ns.out &&
		cdev=$(cat cdev-$ns.out) && ddev=$(cat ddev-$ns.out) &&
		peer $ns dave $D encrypt $C "$cdev" carol-$ns.xml "$T2" p2c-kex-$ns.xml \
			2>py-5-$ns.err &&
		grep -q "prekey=.true.\|kex=.true." p2c-kex-$ns.xml &&
		ours $ns carol $C decrypt $D p2c-kex-$ns.xml >got-5-$ns.out \
			2>err-5-$ns &&
		printf "%s\tblind\t%s\n" "$ddev" "$T2" >want-5-$ns.out &&
		test_cmp want-5-$ns.out got-5-$ns.out &&
		test_grep "republish" err-5-$ns
	'
	test_expect_success "$ns: we answer without a bundle; python decrypts" '
		ours $ns carol $C encrypt $D "$ddev" - "$T1" c2p-5-$ns.xml &&
		peer $ns dave $D decrypt $C "$cdev" carol-$ns.xml c2p-5-$ns.xml \
			>got-6-$ns.out 2>py-6-$ns.err &&
		printf "%s\t%s\n" "$cdev" "$T1" >want-6-$ns.out &&
		test_cmp want-6-$ns.out got-6-$ns.out
	'
	test_expect_code 1 "$ns: a message python encrypted for another device is not for us" '
		ours $ns carol $C decrypt $B p2c-1-$ns.xml
	'
	test_expect_success "$ns: ... saying so" '
		test_grep "^refused	not encrypted for this device" stdout
	'
done

test_done
