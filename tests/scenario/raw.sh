#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# raw.sh - "xmpctl raw" against each server of the matrix: answers printed
# and the exit status of curl --fail; what arrives (and what never does)
# on the receiving side; elements sent as they complete.
#
# What differs between the servers: an iq to a domain the server cannot
# reach (no s2s) gets not-allowed from Prosody, forbidden ("Access denied
# by service policy") from ejabberd.  ejabberd ends the stream
# (invalid-from) when a client sends an element whose from= is not its
# own, such as an iq result it printed; Prosody drops that result.
# ejabberd acknowledges a message (<a/>) before it bounces it, and raw
# waits for nothing behind <r/>: whether the bounce comes before the
# stream is closed is a race there.
#
# bob listens with "xmpctl listen --format json", fed from a FIFO that
# this script holds open; every wait is for a line to appear.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

needs
server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD
DISCO_INFO='http://jabber.org/protocol/disco#info'
# the error an iq to a domain without s2s gets
case $SERVER_FAMILY in
prosody) NO_S2S=not-allowed ;;
ejabberd) NO_S2S=forbidden ;;
esac

# ---- bob, listening -----------------------------------------------------------
bob_pid=
bob_start() {
	rm -f bob.in bob.out bob.err && mkfifo bob.in || return 1
	as bob --format json listen <bob.in >bob.out 2>bob.err &
	bob_pid=$!
	exec 8>bob.in
	# a message reaches him once he is available (sent before, it is
	# kept and handed over with his initial presence); Prosody also sends
	# his own presence back, ejabberd does not.  ejabberd 24.12 can lose
	# one that comes while his session is made, before his presence (its
	# routing and its offline store race): sent again until one arrives.
	for _bs_try in 1 2 3 4; do
		as carol send bob@example.test "bob-online" &&
		poll_until "bob_got bob-online" 5 && return 0
	done
	say "bob did not come online: 4 sentinels in 20 s, none arrived"
	return 1
}
bob_stop() {
	if [ -n "$bob_pid" ]; then
		exec 8>&-
		wait "$bob_pid"
		_bs=$?
		bob_pid=
		return $_bs
	fi
}
test_atexit 'exec 8>&- 9>&-'

# bob_got TEXT: bob printed a message whose body is exactly TEXT
bob_got() {
	json_get bob.out 'o.get("body", "")' 2>/dev/null | grep -qxF -- "$1"
}

# start_raw NAME ARGS...: "as alice ARGS" in the background, stdin from
# the FIFO NAME.in (held open on fd 9 until the test closes it), output
# in NAME.out and NAME.err, its exit status in NAME.rc when it ends.
start_raw() {
	_sr=$1
	shift
	rm -f "$_sr.in" "$_sr.rc" && mkfifo "$_sr.in" || return 1
	{ as alice "$@" <"$_sr.in" >"$_sr.out" 2>"$_sr.err"; echo $? >"$_sr.rc"; } &
	exec 9>"$_sr.in"
}

# sentinel TEXT: carol sends TEXT to bob; wait until bob has it.  The
# server handles stanzas in order, and so everything sent to bob before it has
# arrived when it has.
sentinel() {
	as carol send bob@example.test "$1" &&
	wait_for "bob_got '$1'" 20 "the sentinel '$1' at bob"
}

# ---- answers and exit status ---------------------------------------------------

test_expect_success 'disco#info to the server: the result is printed, exit 0' '
	as alice raw "<iq type=\"get\" to=\"example.test\"><query xmlns=\"$DISCO_INFO\"/></iq>" >out 2>err &&
	test_grep "^[0-9-]* [0-9:]* example.test iq result: <iq " out &&
	test_grep "<identity [^>]*name=.$SERVER_SOFTWARE." out &&
	test_must_be_empty err
'

test_expect_success 'the same as JSON: one object, parsed by a JSON parser' '
	as alice --format json raw "<iq type=\"get\" to=\"example.test\"><query xmlns=\"$DISCO_INFO\"/></iq>" >out.json &&
	test "$(wc -l <out.json)" = 1 &&
	json_get out.json "o[\"kind\"], o[\"type\"], o[\"from\"], o[\"ns\"]" >fields &&
	echo "('\''iq'\'', '\''result'\'', '\''example.test'\'', '\''$DISCO_INFO'\'')" >expect &&
	test_cmp expect fields &&
	json_get out.json "\"$SERVER_SOFTWARE\" in o[\"xml\"]" | grep -qx True
'

test_expect_success 'an iq without an id gets one' '
	json_get out.json "o[\"id\"]" >id &&
	test_grep "^xmp" id
'

test_expect_success 'an iq to a domain that does not exist: remote error (80)' '
	# s2s is off in the test server, so any other domain gets an error
	expect_exit 80 as alice raw "<iq type=\"get\" to=\"nowhere.invalid\"><query xmlns=\"$DISCO_INFO\"/></iq>" >out 2>err &&
	test_grep "nowhere.invalid iq error" out &&
	test_grep "^xmpctl: iq [^ ]*: error from nowhere.invalid: $NO_S2S" err
'

test_expect_success 'ping and version answered' '
	as alice raw "<iq type=\"get\" to=\"example.test\"><ping xmlns=\"urn:xmpp:ping\"/></iq>" >out-ping &&
	test_grep "example.test iq result" out-ping &&
	as alice raw "<iq type=\"get\" to=\"example.test\"><query xmlns=\"jabber:iq:version\"/></iq>" >out-ver &&
	test_grep "<name>$SERVER_SOFTWARE</name>" out-ver
'

test_expect_success '&& runs only after success (like curl --fail)' '
	: >ran &&
	{ as alice raw "<iq type=\"get\" to=\"nowhere.invalid\"><query xmlns=\"$DISCO_INFO\"/></iq>" >/dev/null 2>&1 && echo bad >ran; } ;
	test_must_be_empty ran &&
	as alice raw "<iq type=\"get\" to=\"example.test\"><ping xmlns=\"urn:xmpp:ping\"/></iq>" >/dev/null && echo good >ran &&
	test_grep good ran
'

test_expect_success 'the --format xml answer is one line of well-formed XML' '
	as alice --format xml raw "<iq type=\"get\" to=\"example.test\"><query xmlns=\"$DISCO_INFO\"/></iq>" >out.xml &&
	test "$(wc -l <out.xml)" = 1 &&
	"$PYTHON" -c "import sys, xml.dom.minidom as m; d = m.parseString(open(sys.argv[1]).read()); assert d.documentElement.tagName == \"iq\"" out.xml
'

if server_is prosody; then
test_expect_success '... which raw takes as input as it is' '
	# an iq result to a resource that has gone: the server drops it, and
	# the acknowledgement covers it
	as alice raw --all-or-nothing <out.xml >out2 2>err2 &&
	test_must_be_empty err2 &&
	test_must_be_empty out2
'
else
	test_skip '... which raw takes as input as it is' \
		"$XMPCTL_TEST_SERVER ends the stream on a from= not the sender's"
fi

# ---- what arrives ------------------------------------------------------------------

test_expect_success 'bob comes online' '
	bob_start
'

test_expect_success 'a message and presence as arguments: sent, acknowledged, exit 0' '
	as alice raw "<presence/>" "<message to=\"bob@example.test\" type=\"chat\"><body>from-args</body></message>" >out 2>err &&
	test_must_be_empty err &&
	wait_for "bob_got from-args" 20 "the message at bob"
'

test_expect_success 'a malformed element after a good one: 65, the good one is sent' '
	printf "%s\n%s\n%s\n" \
		"<message to=\"bob@example.test\"><body>good-before-bad</body></message>" \
		"<message to=\"bob@example.test\"><body>bad-one</bdy></message>" \
		"<message to=\"bob@example.test\"><body>after-bad</body></message>" >mixed.xml &&
	expect_exit 65 as alice raw <mixed.xml 2>err &&
	test_grep "^xmpctl: stdin: line 2, column 47: mismatched tag; it and what follows were not sent\$" err
'

test_expect_success '... bob got the good one and nothing of the bad one or after it' '
	sentinel "sentinel-1" &&
	bob_got good-before-bad &&
	! grep -e bad-one -e after-bad bob.out
'

test_expect_success '--all-or-nothing: one broken element, nothing is sent (65)' '
	printf "%s%s" \
		"<message to=\"bob@example.test\"><body>all-or-nothing-1</body></message>" \
		"<message to=\"bob@example.test\"><body>x</message>" >aon.xml &&
	expect_exit 65 as alice raw --all-or-nothing <aon.xml 2>err &&
	test_grep "stdin: line 1, column" err &&
	sentinel "sentinel-2" &&
	! grep -e all-or-nothing-1 bob.out
'

test_expect_success 'an invalid element is not sent, what came before is' '
	expect_exit 65 as alice raw \
		"<message to=\"bob@example.test\"><body>valid-arg</body></message>" \
		"<message to=\"bob@@example.test\"><body>invalid-arg</body></message>" 2>err &&
	test_grep "argument 2: element 1: <message> with an invalid .to." err &&
	sentinel "sentinel-3" &&
	bob_got valid-arg &&
	! grep invalid-arg bob.out
'

test_expect_success 'a slow pipe: the first stanza arrives before the second is written' '
	start_raw slow raw &&
	printf "<message to=\"bob@example.test\"><body>slow-1</body></message>\n" >&9 &&
	wait_for "bob_got slow-1" 20 "slow-1 at bob, with the pipe still open" &&
	! bob_got slow-2 &&
	printf "<message to=\"bob@example.test\"><body>slow-2</body>" >&9 &&
	printf "</message>\n" >&9 &&
	wait_for "bob_got slow-2" 20 "slow-2 at bob" &&
	exec 9>&- &&
	wait_for "test -s slow.rc" 20 "raw to end with its input" &&
	test "$(cat slow.rc)" = 0
'

if server_is prosody; then
test_expect_success 'a message to an account that does not exist bounces (80)' '
	expect_exit 80 as alice raw "<message to=\"nobody@example.test\" id=\"b1\"><body>bounce</body></message>" >out 2>err &&
	test_grep "^xmpctl: message b1 to nobody@example.test bounced: service-unavailable" err &&
	test_grep "nobody@example.test: error service-unavailable" out
'
else
	test_skip 'a message to an account that does not exist bounces (80)' \
		"$XMPCTL_TEST_SERVER may bounce it after raw has ended"
fi

test_expect_success '2000 messages through one pipe arrive, all of them, in order' '
	i=1 && : >many.xml &&
	while [ $i -le 2000 ]; do
		echo "<message to=\"bob@example.test\" type=\"chat\"><body>many-$i</body></message>" >>many.xml
		i=$((i + 1))
	done &&
	as alice raw <many.xml 2>err &&
	test_must_be_empty err &&
	sentinel "sentinel-4" &&
	json_get bob.out "o.get(\"body\", \"\")" | grep "^many-" >many.got &&
	seq 2000 | sed "s/^/many-/" >many.want &&
	test_cmp many.want many.got
'

test_expect_success 'raw --stay prints what arrives until stdin ends' '
	start_raw stay --format json raw --stay &&
	printf "<presence/>" >&9 &&
	wait_for "grep -q \"\\\"kind\\\":\\\"presence\\\"\" stay.out" 20 "alice to see her own presence" &&
	as bob send alice@example.test "to-alice-who-stays" &&
	wait_for "grep -q to-alice-who-stays stay.out" 20 "the message in raw --stay output" &&
	exec 9>&- &&
	wait_for "test -s stay.rc" 20 "raw --stay to end at EOF" &&
	test "$(cat stay.rc)" = 0 &&
	json_get stay.out "o[\"kind\"]" >kinds &&
	test_grep -x message kinds
'

test_expect_success 'comments in the arguments are dropped, never sent' '
	as alice -v raw "<!-- to bob --><message to=\"bob@example.test\"><!-- a note --><body>arg<!-- x -->-comment</body></message><!-- end -->" >out 2>err &&
	wait_for "bob_got arg-comment" 20 "the message at bob" &&
	test_grep "^xmpctl: >> <message " err &&
	! grep -F "<!--" err
'

test_expect_success 'comments on stdin are dropped, between and inside stanzas' '
	printf "%s\n" "<!-- first -->" "<message to=\"bob@example.test\">" \
		"  <!-- a note over" "  two lines -->" \
		"  <body>stdin-comment</body>" "</message>" "<!-- last -->" |
	as alice raw >out 2>err &&
	wait_for "bob_got stdin-comment" 20 "the message at bob" &&
	test_must_be_empty err
'

test_expect_success 'bob stops at the end of his stdin, politely (0)' '
	bob_stop
'

test_done
