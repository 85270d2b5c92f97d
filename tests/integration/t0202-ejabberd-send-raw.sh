#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0202-ejabberd-send-raw.sh - the delivery checks of t0002-send.sh and the
# basics of t0008-raw.sh against a private ejabberd (one start for both).
#
# What differs from Prosody: the proof of delivery cannot read an offline
# store on disk (ejabberd keeps it in Mnesia), so bob comes online with
# "xmpctl listen --count N" and must get every message, byte for byte; a
# message to an account that does not exist bounces with
# service-unavailable as with Prosody; an iq to a domain the server cannot
# reach (s2s_access: none) gets forbidden ("Access denied by service
# policy") where Prosody says not-allowed.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
XMPCTL_TEST_SERVER=ejabberd
. "$TESTS_SRCDIR/integration/server.sh"

server_require
server_start || bail_out 'cannot start ejabberd'

XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD
DISCO_INFO='http://jabber.org/protocol/disco#info'

# The messages bob must get, in the order they are sent: exp.1, exp.2, ...
n_expected=0
expect_message() {
	n_expected=$((n_expected + 1))
	printf '%s' "$1" >"exp.$n_expected"
}

# ---- send, while bob is offline ---------------------------------------------------

test_expect_success 'send with the text as an argument' '
	expect_message "Hello Bob, from the command line" &&
	alice send bob@example.test "Hello Bob, from the command line"
'

test_expect_success 'send with the text from stdin, trailing newline dropped' '
	expect_message "$(printf "line one\nline two")" &&
	printf "line one\nline two\n" | alice send bob@example.test
'

test_expect_success 'XML special characters are sent' '
	expect_message "<b>&amp; '\''q'\'' \"dq\"</b>" &&
	alice send bob@example.test "<b>&amp; '\''q'\'' \"dq\"</b>"
'

utf8=$(printf 'gr\303\274\303\237e \342\234\223 \360\237\230\200')
test_expect_success 'UTF-8 text is sent' '
	expect_message "$utf8 (argument)" &&
	alice send bob@example.test "$utf8 (argument)"
'

test_expect_code 65 'invalid UTF-8 on stdin is refused (65)' '
	printf "\377invalid-utf8-stdin\n" | alice send bob@example.test
'

test_expect_success 'a message to an account that does not exist bounces (80)' '
	expect_exit 80 alice send nobody@example.test "bounce-me" 2>err &&
	test_grep "service-unavailable" err
'

test_expect_success 'the last message to bob is accepted' '
	expect_message "last offline message" &&
	alice send bob@example.test "last offline message"
'

# ---- bob comes online --------------------------------------------------------------

test_expect_success 'bob comes online and gets exactly the accepted messages, in order' '
	# listen sends initial presence, so ejabberd hands the offline
	# messages over; --count stops at the last expected one
	as bob --format json listen --count "$n_expected" --timeout 30 \
		>bob.json 2>bob.err &&
	test "$(wc -l <bob.json)" = "$n_expected" &&
	json_get bob.json "o[\"from\"].split(\"/\")[0]" | sort -u >froms &&
	echo alice@example.test >expect-froms &&
	test_cmp expect-froms froms &&
	"$PYTHON" -c "
import json, sys
n = int(sys.argv[2])
got = [json.loads(l)[\"body\"] for l in open(sys.argv[1], encoding=\"utf-8\")]
want = [open(\"exp.%d\" % i, encoding=\"utf-8\").read() for i in range(1, n + 1)]
if got != want:
    print(\"expected:\", want)
    print(\"received:\", got)
    sys.exit(1)
" bob.json "$n_expected"
'

test_expect_success 'no refused text reached bob' '
	test_grep ! -e invalid-utf8 -e bounce-me bob.json
'

# ---- raw ------------------------------------------------------------------------------

test_expect_success 'raw: disco#info to the server, the result printed, exit 0' '
	alice raw "<iq type=\"get\" to=\"example.test\"><query xmlns=\"$DISCO_INFO\"/></iq>" >out 2>err &&
	test_grep "^[0-9-]* [0-9:]* example.test iq result: <iq " out &&
	test_grep "<identity [^>]*name=.ejabberd." out &&
	test_must_be_empty err
'

test_expect_success 'raw: the same as JSON, parsed by a JSON parser' '
	alice --format json raw "<iq type=\"get\" to=\"example.test\"><query xmlns=\"$DISCO_INFO\"/></iq>" >out.json &&
	test "$(wc -l <out.json)" = 1 &&
	json_get out.json "o[\"kind\"], o[\"type\"], o[\"from\"], o[\"ns\"]" >fields &&
	echo "('\''iq'\'', '\''result'\'', '\''example.test'\'', '\''$DISCO_INFO'\'')" >expect &&
	test_cmp expect fields &&
	json_get out.json "o[\"id\"]" | grep -q "^xmp"
'

test_expect_success 'raw: ping and version answered' '
	alice raw "<iq type=\"get\" to=\"example.test\"><ping xmlns=\"urn:xmpp:ping\"/></iq>" >out-ping &&
	test_grep "example.test iq result" out-ping &&
	alice raw "<iq type=\"get\" to=\"example.test\"><query xmlns=\"jabber:iq:version\"/></iq>" >out-ver &&
	test_grep "<name>ejabberd</name>" out-ver
'

test_expect_success 'raw: an iq to a domain that cannot be reached: remote error (80)' '
	# s2s is refused by policy: ejabberd says forbidden (Prosody: not-allowed)
	expect_exit 80 alice raw "<iq type=\"get\" to=\"nowhere.invalid\"><query xmlns=\"$DISCO_INFO\"/></iq>" >out 2>err &&
	test_grep "nowhere.invalid iq error" out &&
	test_grep "^xmpctl: iq [^ ]*: error from nowhere.invalid: forbidden" err
'

test_expect_success 'raw: a message as an argument arrives at bob' '
	alice raw "<message to=\"bob@example.test\" type=\"chat\"><body>from-raw</body></message>" >out 2>err &&
	test_must_be_empty err &&
	as bob --format json listen --count 1 --timeout 30 >bob2.json &&
	json_get bob2.json "o[\"body\"]" >body2 &&
	echo from-raw >expect-body2 &&
	test_cmp expect-body2 body2
'

test_expect_success 'raw: a malformed element after a good one: 65' '
	printf "%s\n%s\n" \
		"<message to=\"bob@example.test\"><body>good-before-bad</body></message>" \
		"<message to=\"bob@example.test\"><body>bad-one</bdy></message>" >mixed.xml &&
	expect_exit 65 alice raw <mixed.xml 2>err &&
	test_grep "^xmpctl: stdin: line 2, column 47: mismatched tag; it and what follows were not sent\$" err
'

test_done
