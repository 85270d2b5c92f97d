#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0032-omemo.sh - "xmpctl send --encrypt=omemo" against a private Prosody
# with PEP, to an OMEMO implementation written elsewhere (python3-omemo
# with -oldmemo and -twomemo over slixmpp: omemo_netpeer.py): our device
# is made and published on first use, the namespace follows the
# recipient's device lists, the peer decrypts exactly the text sent, and
# the server's offline storage never holds it.  When encryption is not
# possible (no device, a changed identity key) nothing is sent and the
# status is 84.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
# t0033-omemo-prosody13.sh runs this against tests/lab.sh's Prosody 13
if [ "${OMEMO_SERVER:-}" = prosody13 ]; then
	[ -x "$XMPCTL_LAB_DIR/prosody13/bin/prosody" ] ||
		skip_all "prosody13: not in $XMPCTL_LAB_DIR (run tests/lab.sh to fetch it)"
	PROSODY_BIN=$XMPCTL_LAB_DIR/prosody13/bin/prosody
	PROSODYCTL_BIN=$XMPCTL_LAB_DIR/prosody13/bin/prosodyctl
	PROSODY_PASSWORD_HASH=SHA-256
	export PROSODY_PASSWORD_HASH
fi
. "$TESTS_SRCDIR/integration/prosody.sh"

PY=${OMEMO_PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
"$PY" -c 'import omemo, oldmemo, twomemo, xmlschema, slixmpp' 2>/dev/null ||
	skip_all "python3-omemo, -oldmemo, -twomemo, -xmlschema or -slixmpp not installed"
prosody_require
PROSODY_MODULES="offline" prosody_start || bail_out 'cannot start Prosody'
PYTHONUTF8=1
export PYTHONUTF8
test_atexit bg_kill_all
test_on_failure bg_kill_all

# peer USER NS ARGS...: USER's python device (its store USER-NS.json, or
# $PEER_STORE)
peer() {
	_pu=$1 _pns=$2
	shift 2
	eval "_pp=\$$(echo "$_pu" | tr a-z A-Z)_PASS"
	timeout -k 5 60 "$PY" "$TESTS_SRCDIR/integration/omemo_netpeer.py" \
		--jid "$_pu@example.test" --password "$_pp" \
		--server "127.0.0.1:$PROSODY_PORT" --cafile "$TEST_CA" \
		--ns "$_pns" --store "${PEER_STORE:-$_pu-$_pns.json}" "$@"
}
DATA=$PROSODY_DIR/data/example%2etest
# stored NAME TEXT: files of the server's storage holding TEXT as it is
# or as Prosody's internal storage escapes bytes above 127 (\195\188)
stored() {
	_esc=$(printf '%s' "$2" | od -An -tu1 -v | tr -s ' \n' '  ' |
		awk '{ for (i = 1; i <= NF; i++) printf ($i > 127 ? "\\%d" : "%c"), $i }')
	{ grep -rlF -- "$2" "$PROSODY_DIR/data"
	  grep -rlF -- "$_esc" "$PROSODY_DIR/data"; } >"$1" 2>/dev/null
	test -s "$1"
}

T1="OMEMO-MARK-$$ grüße ⚡ <b>&amp;</b>"
T2="second OMEMO-MARK-$$ ✓ ünïcode"

test_expect_success 'the escaped form finds what the server stores' '
	as alice send bob@example.test "PLAIN-$$ grüße" &&
	stored plain.files "PLAIN-$$ grüße" &&
	! grep -rlF "PLAIN-$$ grüße" "$PROSODY_DIR/data" >/dev/null
'

# a device list node another client made with the server's default
# access model (presence): our publish-options are then refused
# (precondition-not-met) until we open the node
test_expect_success 'a device list node made with the default access model' '
	as alice raw "<iq type=\"set\" id=\"n1\"><pubsub xmlns=\"http://jabber.org/protocol/pubsub\"><publish node=\"eu.siacs.conversations.axolotl.devicelist\"><item id=\"current\"><list xmlns=\"eu.siacs.conversations.axolotl\"/></item></publish></pubsub></iq>" >n1.out &&
	test_grep -F "eu.siacs.conversations.axolotl.devicelist" "$DATA/pep/alice.dat" &&
	test_grep ! -F "open" "$DATA/pep/alice.dat"
'

test_expect_code 84 'a contact without an OMEMO device: 84' '
	as alice send --encrypt=omemo carol@example.test "$T1"
'
test_expect_success '... saying so, and nothing reached the server' '
	test_grep "carol@example.test has no OMEMO device (that we may see)" stderr &&
	test ! -e "$DATA/offline/carol.list" &&
	! stored none.files "$T1"
'
test_expect_success 'our device was made, privately' '
	d=$XDG_DATA_HOME/xmpctl/omemo/alice@example.test &&
	test -d "$d" && test "$(stat -c %a "$d")" = 700 &&
	ls "$d" >files && test -s files &&
	test -z "$(find "$d" -type f ! -perm 600)"
'

for ns in old two; do
	case $ns in
	old) who=bob want=eu.siacs.conversations.axolotl
	     nodes=eu.siacs.conversations.axolotl.devicelist ;;
	two) who=carol want=urn:xmpp:omemo:2
	     nodes="urn:xmpp:omemo:2:devices urn:xmpp:omemo:2:bundles" ;;
	esac
	test_expect_success "$ns: $who publishes a device" '
		peer $who $ns publish 2>pub-$ns.err
	'
	test_expect_success "$ns: we send to $who encrypted, in $want" '
		as alice send --encrypt=omemo $who@example.test "$T1"
	'
	test_expect_success "$ns: the server stores ciphertext only" '
		test -s "$DATA/offline/$who.list" &&
		grep -qF "$want" "$DATA/offline/$who.list" &&
		grep -qF "encrypted with OMEMO" "$DATA/offline/$who.list" &&
		! stored stored-$ns.files "OMEMO-MARK-$$"  &&
		! stored stored2-$ns.files "$T1"
	'
	test_expect_success "$ns: our nodes were opened to anyone" '
		"$PY" -c "
import re, sys
t = open(sys.argv[1]).read()
for node in sys.argv[2:]:
    m = re.search(r\"\\[\\\"%s\\\"\\] = \\{.*?\\[\\\"config\\\"\\] = \\{([^}]*)\\}\" % re.escape(node), t, re.S)
    assert m and \"open\" in m.group(1), node
" "$DATA/pep/alice.dat" $nodes
	'
	test_expect_success "$ns: a second message, on the same session" '
		as alice send --encrypt=omemo $who@example.test "$T2"
	'
	# (both messages carry the key exchange: the peer may finish either
	# first)
	test_expect_success "$ns: $who decrypts exactly the texts sent" '
		peer $who $ns receive --count 2 >got-$ns.out 2>recv-$ns.err &&
		cut -f1,2,4 got-$ns.out | sort >got-$ns &&
		printf "%s\talice@example.test\t%s\n" "$want" "$T1" "$want" "$T2" |
			sort >want-$ns &&
		test_cmp want-$ns got-$ns
	'
done

# listen: what bob (axolotl, from a new device: a key exchange) and carol
# (omemo:2, on the session we started) write while alice is away,
# decrypted from the offline storage
T3="from python, axolotl: grüße ✓"
T4="from python, omemo:2: ünïcode ⚡"
fpr_of() {
	sed -n "s/^device [0-9]* .* fingerprint \(.*\)$/\1/p" "$1" | head -n 1
}
dev_of() {
	sed -n "s/^device \([0-9]*\) .*/\1/p" "$1" | head -n 1
}
test_expect_success 'listen: bob and carol write to alice, who is away' '
	PEER_STORE=bob-old-2.json peer bob old send alice@example.test "$T3" \
		2>s3.err &&
	peer carol two send alice@example.test "$T4" 2>s4.err
'
# the pre-key ids of alice's published bundles
prekeys() {
	cat "$DATA"/pep_eu%2esiacs%2econversations%2eaxolotl%2ebundles*/alice.list |
		grep -o "preKeyId.\{0,12\}" | sort
}
test_expect_success 'listen decrypts both, JSON with the device, its fingerprint and trust' '
	prekeys >prekeys-before &&
	test -s prekeys-before &&
	as alice --format json listen --count 2 --timeout 30 >l.json &&
	"$PY" -c "
import json, sys
for line in open(sys.argv[1], encoding=\"utf-8\"):
    r = json.loads(line)
    print(\"\\t\".join([r[\"from\"].split(\"/\")[0], r[\"encryption\"],
                      str(r[\"device\"]), r[\"fingerprint\"], r[\"trust\"],
                      r[\"body\"]]))
" l.json | sort >got-l &&
	printf "%s\tOMEMO\t%s\t%s\tblind\t%s\n" \
		bob@example.test "$(dev_of s3.err)" "$(fpr_of s3.err)" "$T3" \
		carol@example.test "$(dev_of s4.err)" "$(fpr_of s4.err)" "$T4" |
		sort >want-l &&
	test_cmp want-l got-l
'
test_expect_success 'a pre-key used up: the bundle was published again without it' '
	prekeys >prekeys-after &&
	test -s prekeys-after &&
	! test_cmp prekeys-before prekeys-after
'
test_expect_success 'listen, text: the mark says OMEMO, device, fingerprint, trust' '
	peer bob old send alice@example.test "plain ascii OMEMO text" 2>s5.err &&
	as alice listen --count 1 --timeout 30 >l.txt &&
	f8=$(fpr_of s5.err | cut -c1-8) &&
	test_grep -F "bob@example.test" l.txt &&
	test_grep -F "[OMEMO $(dev_of s5.err) $f8" l.txt &&
	test_grep -F "blind] plain ascii OMEMO text" l.txt &&
	test_grep ! -F "OMEMO encrypted]" l.txt
'
test_expect_success 'listen refuses a replayed message, and shows no fallback' '
	enc=$("$PY" -c "
import json, re, sys
for line in open(sys.argv[1], encoding=\"utf-8\"):
    r = json.loads(line)
    if r[\"from\"].startswith(\"bob@\"):
        print(re.search(r\"<encrypted.*</encrypted>\", r[\"xml\"]).group(0))
" l.json) &&
	test -n "$enc" &&
	as bob raw "<message to=\"alice@example.test\" type=\"chat\"><body>[This message is OMEMO encrypted]</body>$enc</message>" >raw.out &&
	as alice --format json listen --count 1 --timeout 30 >r.json &&
	test_grep -F "\"refused\":\"replayed message\"" r.json &&
	test_grep ! -F "\"body\"" r.json
'

# a second device of alice's (another data home): it joins alice's
# device list, next to the first, and encrypts for the first too; the
# trace shows the encrypted element, never the text
alice_ids() {
	grep -o "id.\{0,8\}\"[0-9]*\"" \
		"$DATA/pep_eu%2esiacs%2econversations%2eaxolotl%2edevicelist/alice.list" |
		grep -o "[0-9][0-9]*" | sort -u
}
test_expect_success 'our own other device gets the message too; the trace has no plaintext' '
	alice_ids >a-ids-before &&
	test "$(wc -l <a-ids-before)" = 1 &&
	mkdir -p data2 &&
	XDG_DATA_HOME=$TEST_TMP/data2 as alice --verbose send --encrypt=omemo \
		bob@example.test "TRACE-MARK-$$ from the second device" 2>trace.err &&
	alice_ids >a-ids-after &&
	test "$(wc -l <a-ids-after)" = 2 &&
	test_grep -x "$(cat a-ids-before)" a-ids-after &&
	test_grep -E "rid[^0-9]{0,8}\"$(cat a-ids-before)\"" "$DATA/offline/bob.list" &&
	test_grep "<encrypted" trace.err &&
	test_grep ! -F "TRACE-MARK-$$" trace.err
'

test_expect_success 'a changed identity key: bob device made anew under its id' '
	bdev=$(sed -n "s/^device \([0-9]*\) .*/\1/p" pub-old.err) &&
	test -n "$bdev" &&
	rm -f "$XDG_DATA_HOME"/xmpctl/omemo/alice@example.test/session.* &&
	peer carol old publish 2>pubc.err &&
	cdev=$(sed -n "s/^device \([0-9]*\) .*/\1/p" pubc.err) &&
	as carol raw "<iq type=\"get\" id=\"g1\"><pubsub xmlns=\"http://jabber.org/protocol/pubsub\"><items node=\"eu.siacs.conversations.axolotl.bundles:$cdev\"/></pubsub></iq>" >cb.out &&
	bundle=$(sed -n "s/.*\(<bundle.*<\/bundle>\).*/\1/p" cb.out) &&
	test -n "$bundle" &&
	as bob raw "<iq type=\"set\" id=\"p1\"><pubsub xmlns=\"http://jabber.org/protocol/pubsub\"><publish node=\"eu.siacs.conversations.axolotl.bundles:$bdev\"><item id=\"current\">$bundle</item></publish></pubsub></iq>" >pb.out &&
	rm -f "$DATA/offline/bob.list"
'
test_expect_code 84 '... and encryption to it is refused: 84' '
	as alice send --encrypt=omemo bob@example.test "$T1"
'
test_expect_success '... naming the device, and nothing was sent' '
	test_grep "bob@example.test device $bdev: identity key changed" stderr &&
	test ! -s "$DATA/offline/bob.list"
'

# the first listen makes and publishes the device, merged into the list
# another client published (carol's python device, above); omemo = no
# keeps it from doing so
carol_ids() {
	grep -o "id.\{0,8\}\"[0-9]*\"" \
		"$DATA/pep_eu%2esiacs%2econversations%2eaxolotl%2edevicelist/carol.list" |
		grep -o "[0-9][0-9]*" | sort -u
}
test_expect_success 'omemo = no: listen makes no device' '
	mkdir -p "$XDG_CONFIG_HOME/xmpctl" &&
	printf "[carol]\njid = carol@example.test\nomemo = no\n" \
		>"$XDG_CONFIG_HOME/xmpctl/config" &&
	{ as carol listen --timeout 1 >/dev/null 2>&1 || test $? = 75; } &&
	rm "$XDG_CONFIG_HOME/xmpctl/config" &&
	test ! -e "$XDG_DATA_HOME/xmpctl/omemo/carol@example.test" &&
	carol_ids >ids-before &&
	test "$(wc -l <ids-before)" = 1
'
test_expect_success 'the first listen makes the device and adds it to the list' '
	bg_start lst carol listen &&
	wait_for "test \"\$(carol_ids | wc -l)\" = 2" 20 "carol device list" &&
	bg_stop lst &&
	test -d "$XDG_DATA_HOME/xmpctl/omemo/carol@example.test" &&
	carol_ids >ids-after &&
	test_grep -x "$(cat ids-before)" ids-after
'

test_expect_code 64 'not with --room' '
	as alice send --encrypt=omemo --room r@rooms.example.test "$T1"
'
test_expect_code 64 'an unknown --encrypt value' '
	as alice send --encrypt=pgp bob@example.test "$T1"
'

test_done
