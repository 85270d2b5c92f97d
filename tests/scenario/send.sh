#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# send.sh - "xmpctl send" against each server of the matrix: what arrives
# on the receiving side.
#
# alice sends with xmpctl while bob is offline (the server keeps the
# messages); then bob comes online with an independent client (go-sendxmpp
# in listen mode, which sends initial presence, so the server hands the
# offline messages over) and every message is compared byte for byte with
# what was sent.  Refused messages must never arrive: a sentinel sent by
# carol after all of alice's messages proves that everything sent before
# it has been delivered.  Last, bob offline again, and "xmpctl listen
# --count" is the client that comes online for what was kept.
#
# What differs between the servers: Prosody's offline store is a file the
# test can read (ejabberd keeps it in Mnesia).

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

needs
command -v go-sendxmpp >/dev/null 2>&1 ||
	skip_all 'go-sendxmpp (the independent receiving client) not found'
server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD

# The messages bob must get, in the order they are sent: exp.1, exp.2, ...
# (recorded before each send, so that a failed send is missed at bob's end)
n_expected=0
expect_message() {
	n_expected=$((n_expected + 1))
	printf '%s' "$1" >"exp.$n_expected"
}

# go-sendxmpp as a plain client.  -n skips certificate verification: it has
# no option for a CA file, and it only ever talks to our own loopback server.
go_sendxmpp() {
	timeout 30 go-sendxmpp -n -j "127.0.0.1:$SERVER_PORT" "$@"
}

receiver_pid=
receiver_start() {
	# started directly (not through a function) so that $! is its PID
	timeout 120 go-sendxmpp -n -j "127.0.0.1:$SERVER_PORT" \
		-l -u bob@example.test -p "$BOB_PASS" \
		>received 2>received.err </dev/null &
	receiver_pid=$!
}
receiver_stop() {
	if [ -n "$receiver_pid" ]; then
		kill "$receiver_pid" 2>/dev/null
		wait "$receiver_pid" 2>/dev/null
		receiver_pid=
	fi
	return 0
}
test_atexit receiver_stop

# go-sendxmpp -l prints "STAMP FROM: BODY\n" per message, the body verbatim
# (newlines included).  Split that into msg.1, msg.2, ... (bodies, exactly)
# and msg.N.from.
split_received() {
	rm -f msg.*
	awk '
	function flush() {
		if (n) {
			printf "%s", body >("msg." n)
			close("msg." n)
			print from >("msg." n ".from")
			close("msg." n ".from")
		}
	}
	/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]*Z [^ ]*: / {
		flush()
		n++
		rest = substr($0, index($0, " ") + 1)
		from = substr(rest, 1, index(rest, ": ") - 1)
		body = substr(rest, index(rest, ": ") + 2)
		next
	}
	n { body = body "\n" $0 }
	END { flush() }
	' received
}

# has_message EXPECTED-FILE: one of the received messages is exactly that.
has_message() {
	for _m in msg.[0-9]*; do
		case $_m in *.from) continue ;; esac
		[ -f "$_m" ] && cmp -s "$1" "$_m" && return 0
	done
	echo "no received message is exactly:"
	od -c "$1" | sed 's/^/  /'
	echo "received (go-sendxmpp output):"
	sed 's/^/  /' received
	return 1
}

# ---- while bob is offline ---------------------------------------------------------

test_expect_success 'send with the text as an argument' '
	expect_message "Hello Bob, from the command line" &&
	alice send bob@example.test "Hello Bob, from the command line"
'

if server_is prosody; then
test_expect_success 'the message is stored at the server when send returns' '
	# bob is offline, so Prosody has put it into his offline store before
	# it answered the iq that send waits for
	test_grep -F "Hello Bob, from the command line" \
		"$PROSODY_DIR/data/example%2etest/offline/bob.list"
'
fi

test_expect_success 'send with the text from stdin, trailing newline dropped' '
	expect_message "$(printf "line one\nline two")" &&
	printf "line one\nline two\n" | alice send bob@example.test
'

test_expect_success 'stdin: whitespace kept, all trailing newlines dropped' '
	expect_message "$(printf "  indented\n\ttabbed  ")" &&
	printf "  indented\n\ttabbed  \n\n\n" | alice send bob@example.test
'

test_expect_success 'XML special characters arrive intact' '
	expect_message "<b>&amp; '\''q'\'' \"dq\"</b>" &&
	alice send bob@example.test "<b>&amp; '\''q'\'' \"dq\"</b>"
'

utf8=$(printf 'gr\303\274\303\237e \342\234\223 \360\237\230\200')
test_expect_success 'UTF-8 text as an argument arrives intact' '
	expect_message "$utf8 (argument)" &&
	alice send bob@example.test "$utf8 (argument)"
'

test_expect_success 'UTF-8 text from stdin arrives intact' '
	expect_message "$utf8 (stdin)" &&
	printf "%s\n" "$utf8 (stdin)" | alice send bob@example.test
'

test_expect_success 'invalid UTF-8 on stdin is refused (65)' '
	printf "\377invalid-utf8-stdin\n" >bad-utf8 &&
	expect_exit 65 alice send bob@example.test <bad-utf8 2>err &&
	test_grep "^xmpctl: " err
'

test_expect_success 'a message sent after the refused one is accepted' '
	expect_message "after invalid UTF-8" &&
	alice send bob@example.test "after invalid UTF-8"
'

test_expect_code 65 'invalid UTF-8 as an argument is refused (65)' '
	alice send bob@example.test "$(printf "invalid-utf8-arg\377")"
'

test_expect_code 65 'an overlong UTF-8 sequence is refused (65)' '
	printf "overlong-utf8 \300\257" | alice send bob@example.test
'

test_expect_code 65 'a UTF-16 surrogate encoded in UTF-8 is refused (65)' '
	printf "surrogate-utf8 \355\240\200" | alice send bob@example.test
'

test_expect_code 65 'a truncated UTF-8 sequence is refused (65)' '
	printf "truncated-utf8 \342\234" | alice send bob@example.test
'

test_expect_code 65 'a control character XML forbids is refused (65)' '
	printf "xml-forbidden-a\001b" | alice send bob@example.test
'

test_expect_code 65 'a control character XML forbids as an argument is refused (65)' '
	alice send bob@example.test "$(printf "xml-forbidden-arg\033[1m")"
'

test_expect_code 65 'U+FFFE (not an XML character) is refused (65)' '
	printf "xml-forbidden-fffe \357\277\276" | alice send bob@example.test
'

test_expect_code 65 'recipient "bad@@jid" is refused (65)' '
	alice send "bad@@jid" "bad-jid-one"
'

test_expect_code 65 'recipient "@example.test" is refused (65)' '
	alice send "@example.test" "bad-jid-two"
'

test_expect_code 65 'empty text as an argument is refused (65)' '
	alice send bob@example.test ""
'

test_expect_code 65 'empty stdin is refused (65)' '
	alice send bob@example.test </dev/null
'

test_expect_code 65 'stdin of newlines only is refused (65)' '
	printf "\n\n" | alice send bob@example.test
'

test_expect_success 'a message to an account that does not exist bounces (80)' '
	expect_exit 80 alice send nobody@example.test "bounce-me" 2>err &&
	test_grep "service-unavailable" err
'

test_expect_success 'the last message to bob is accepted' '
	expect_message "last offline message" &&
	alice send bob@example.test "last offline message"
'

# ---- bob comes online ----------------------------------------------------------------

sentinel="sentinel from carol, after all of alice's messages"
test_expect_success 'bob comes online (independent client) and gets messages from alice' '
	printf "%s\n" "$sentinel" |
		go_sendxmpp -u carol@example.test -p "$CAROL_PASS" bob@example.test &&
	receiver_start &&
	wait_for "grep -q \"carol@example.test: \$sentinel\\\$\" received" 20 \
		"the sentinel to arrive at bob" &&
	split_received &&
	test_grep "^[0-9TZ:.-]* alice@example\.test: " received
'

i=1
while [ "$i" -le "$n_expected" ]; do
	test_expect_success "bob received message $i byte for byte: $(head -n 1 "exp.$i" | cut -c1-40)" "
		has_message exp.$i &&
		grep -qx alice@example.test msg.$i.from
	"
	i=$((i + 1))
done

test_expect_success 'bob received exactly the accepted messages, in order' '
	i=1 &&
	: >all.expected && : >all.received &&
	while [ "$i" -le "$n_expected" ]; do
		{ echo "== message $i from alice@example.test"; cat "exp.$i"; echo; } >>all.expected
		i=$((i + 1))
	done &&
	{ echo "== message $i from carol@example.test"; echo "$sentinel"; } >>all.expected &&
	i=1 &&
	while [ -f "msg.$i" ]; do
		{ echo "== message $i from $(cat "msg.$i.from")"; cat "msg.$i"; echo; } >>all.received
		i=$((i + 1))
	done &&
	test_cmp all.expected all.received
'

test_expect_success 'no refused text reached bob' '
	test_grep ": after invalid UTF-8\$" received &&
	test_grep ! -e invalid-utf8 -e overlong-utf8 -e surrogate-utf8 \
		-e truncated-utf8 -e xml-forbidden -e bad-jid received
'

# ---- bob is online ------------------------------------------------------------------

test_expect_success 'a message to bob while he is online arrives at once' '
	alice send bob@example.test "hello again, bob is online" &&
	wait_for "grep -q \": hello again, bob is online\\\$\" received" 20 \
		"the message to arrive at bob"
'

test_expect_success 'bob did not get the refused messages later either' '
	receiver_stop &&
	test_grep ": hello again, bob is online\$" received &&
	test_grep ! -e invalid-utf8 -e xml-forbidden -e bad-jid received
'

# ---- bob offline again: xmpctl listen gets what was kept --------------------------

test_expect_success 'bob offline again: xmpctl listen --count gets the kept messages, in order' '
	alice send bob@example.test "kept for listen, 1" &&
	printf "%s\n" "$utf8 (kept for listen, 2)" | alice send bob@example.test &&
	as bob --format json listen --count 2 --timeout 30 >bob.json 2>bob.err &&
	test "$(wc -l <bob.json)" = 2 &&
	json_get bob.json "o[\"from\"].split(\"/\")[0]" | sort -u >froms &&
	echo alice@example.test >expect-froms &&
	test_cmp expect-froms froms &&
	json_get bob.json "o[\"body\"]" >bodies &&
	printf "%s\n" "kept for listen, 1" "$utf8 (kept for listen, 2)" >expect-bodies &&
	test_cmp expect-bodies bodies
'

test_done
