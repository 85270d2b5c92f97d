#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0028-upload.sh - "xmpctl send --file" (XEP-0363 HTTP File Upload)
# against Prosody's mod_http_file_share: one file and two, each fetched
# back from its GET URL and compared byte for byte; the message bob gets
# carries the URL as out-of-band data (XEP-0066); a file over the
# service's limit, a missing, unreadable or irregular file and a server
# without an upload service are refused with nothing sent; a group chat
# room gets the URLs too; the upload takes the session's proxy, shows its
# progress on a terminal, and checks the certificate against the URL's
# host.  The HTTP answers the service does not give (redirects, 500, long
# heads) are covered by tests/unit/test_http.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

prosody_require
PROSODY_UPLOAD=yes
PROSODY_MUC=rooms.example.test
prosody_start upload || bail_out 'cannot start Prosody with an upload service'

STORE=$PROSODY_DIR/data/example%2etest/offline
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# messages: bob's offline store (Prosody's data file, Lua: read with the
# Lua that runs Prosody, as the order of its keys varies), one message a
# line: its body, a tab, and the URL of its XEP-0066 <x xmlns=jabber:x:oob>
# (empty when it has none)
LUA=lua5.4
command -v "$LUA" >/dev/null 2>&1 || LUA=lua
messages() {
	[ -f "$STORE/bob.list" ] || return 0
	LIST=$STORE/bob.list "$LUA" -e '
local function text(el)
	for _, c in ipairs(el) do
		if type(c) == "string" then return c end
	end
	return ""
end
local function item(m)
	local body, url = "", ""
	for _, c in ipairs(m) do
		if type(c) == "table" and c.name == "body" then body = text(c) end
		if type(c) == "table" and c.name == "x" and c.attr.xmlns == "jabber:x:oob" then
			for _, u in ipairs(c) do
				if type(u) == "table" and u.name == "url" then url = text(u) end
			end
		end
	end
	print(body .. "\t" .. url)
end
assert(loadfile(os.getenv("LIST"), "t", { item = item }))()
'
}

stored_count() {
	messages | wc -l | tr -d ' '
}

# fetch URL FILE: GET URL (trusting the test CA only) into FILE
fetch() {
	"$PY" -c '
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[3])
with urllib.request.urlopen(sys.argv[1], context=ctx, timeout=20) as r:
    open(sys.argv[2], "wb").write(r.read())
' "$1" "$2" "$TEST_CA"
}

# uploaded: how many files the upload service holds
uploaded() {
	find "$PROSODY_DIR/data/upload%2eexample%2etest/http_file_share" -type f 2>/dev/null |
		wc -l | tr -d ' '
}

head -c 200000 /dev/urandom >one.bin
printf 'the second file\n' >two.txt
head -c 300000 /dev/urandom >three.png

test_expect_success 'one file: uploaded, its URL sent to bob with oob data' '
	as alice send --file one.bin bob@example.test &&
	messages >m1 &&
	test "$(wc -l <m1)" = 1 &&
	url=$(cut -f1 m1) &&
	case $url in https://localhost:$PROSODY_HTTPS_PORT/*/one.bin) ;; *) say "url: $url"; false ;; esac &&
	test "$(cut -f2 m1)" = "$url" &&
	fetch "$url" got1 &&
	cmp one.bin got1
'

test_expect_success 'two files and a text: the text first, then each file in its own message' '
	as alice send --file two.txt --file three.png bob@example.test "two files follow" &&
	messages | sed 1d >m2 &&
	test "$(wc -l <m2)" = 3 &&
	printf "two files follow\t\n" >want &&
	sed -n 1p m2 | test_cmp want - &&
	url2=$(sed -n 2p m2 | cut -f1) && url3=$(sed -n 3p m2 | cut -f1) &&
	case $url2 in */two.txt) ;; *) say "url2: $url2"; false ;; esac &&
	case $url3 in */three.png) ;; *) say "url3: $url3"; false ;; esac &&
	test "$(sed -n 2p m2 | cut -f2)" = "$url2" &&
	test "$(sed -n 3p m2 | cut -f2)" = "$url3" &&
	fetch "$url2" got2 && cmp two.txt got2 &&
	fetch "$url3" got3 && cmp three.png got3
'

test_expect_success 'to a group chat room: uploaded, then joined, sent and left' '
	prosody_log_mark &&
	as alice send --room ops@rooms.example.test --file two.txt "for the room" &&
	test "$(grep -c "Received\[c2s\]: <message[^>]*type=.groupchat." "$PROSODY_LOG")" -ge 2
'

head -c 2000000 /dev/urandom >big.bin

before=$(uploaded)
test_expect_code 65 'a file over the service limit: refused before uploading' '
	as alice send --file two.txt --file big.bin bob@example.test "not sent"
'

test_expect_success '... nothing was sent, nor uploaded' '
	test_grep "big.bin: 2000000 bytes, more than the upload service takes (1049088 bytes)" "$TEST_TMP/stderr" &&
	test "$(stored_count)" = 4 &&
	test "$(uploaded)" = "$before"
'

test_expect_code 65 'a missing file: refused before connecting' '
	XMPCTL_PASSWORD=x xmpctl --server 127.0.0.1:1 -j alice@example.test \
		send --file no-such-file bob@example.test
'

test_expect_success '... says which and why' '
	test_grep "cannot read no-such-file: No such file or directory" "$TEST_TMP/stderr"
'

if [ "$(id -u)" != 0 ]; then
	printf 'secret\n' >unreadable.txt && chmod 000 unreadable.txt
	test_expect_code 65 'an unreadable file: refused before connecting' '
		XMPCTL_PASSWORD=x xmpctl --server 127.0.0.1:1 -j alice@example.test \
			send --file unreadable.txt bob@example.test
	'
else
	test_skip 'an unreadable file: refused before connecting' 'root reads every file'
fi

test_expect_code 65 'a directory: refused before connecting' '
	XMPCTL_PASSWORD=x xmpctl --server 127.0.0.1:1 -j alice@example.test \
		send --file . bob@example.test
'

test_expect_code 64 '--file with --lines: a usage error' '
	as alice send --lines --file two.txt bob@example.test </dev/null
'

test_expect_code 64 '--allow-http-upload without --file: a usage error' '
	as alice send --allow-http-upload bob@example.test hi
'

test_expect_success 'on a terminal, stderr shows the progress: percentage and bytes' '
	XMPCTL_PASSWORD=$ALICE_PASS "$PY" "$TESTS_SRCDIR/integration/ptyrun.py" "" \
		"$XMPCTL" --server "127.0.0.1:$PROSODY_PORT" --cafile "$TEST_CA" \
		-j alice@example.test send --file one.bin bob@example.test >tty.out &&
	test_grep "uploading one.bin: 100% (200000 of 200000 bytes)" tty.out
'

test_expect_success '... and none when stderr is not a terminal' '
	as alice send --file two.txt bob@example.test 2>notty.err &&
	test_must_be_empty notty.err
'

# ---- through the session holder -----------------------------------------------------

XDG_RUNTIME_DIR=$(mktemp -d /tmp/xmpctl-upload.XXXXXX) || bail_out 'mktemp'
export XDG_RUNTIME_DIR
test_atexit 'rm -rf "$XDG_RUNTIME_DIR"'
HSTATUS=$XDG_RUNTIME_DIR/xmpctl/alice@example.test.status
test_atexit '[ -s "$XDG_RUNTIME_DIR/xmpctl/alice@example.test.lock" ] && kill "$(cat "$XDG_RUNTIME_DIR/xmpctl/alice@example.test.lock")" 2>/dev/null'

test_expect_success 'through the session holder: the service found and the file sent over its session' '
	XMPCTL_TEST_TIMEOUT=600 bg_start holder alice session start --foreground &&
	wait_for "grep -q \"^state *connected\" \"$HSTATUS\"" 30 "the holder" &&
	logins=$(grep -c "Authenticated as alice@example.test" "$PROSODY_LOG") &&
	as alice -v send --file two.txt bob@example.test 2>err-held &&
	test_grep "<header name=.Authorization.>\[redacted\]</header>" err-held &&
	test_grep ! "Bearer" err-held &&
	test "$(grep -c "Authenticated as alice@example.test" "$PROSODY_LOG")" = "$logins" &&
	messages | tail -n 1 | cut -f2 >url-held &&
	fetch "$(cat url-held)" got-held && cmp two.txt got-held &&
	as alice session stop
'

# ---- through a proxy: the upload takes it too ------------------------------------

if command -v tinyproxy >/dev/null 2>&1; then
	HTTP=$(free_ports 1)
	printf '%s\n' "Port $HTTP" "Listen 127.0.0.1" "Allow 127.0.0.1" \
		"ConnectPort $PROSODY_PORT" "ConnectPort $PROSODY_HTTPS_PORT" \
		"LogLevel Info" >tinyproxy.conf
	[ "$(id -u)" = 0 ] && printf 'User nobody\nGroup nogroup\n' >>tinyproxy.conf
	sh -c 'echo $$ >tinyproxy.pid && exec tinyproxy -d -c "$0"' \
		"$PWD/tinyproxy.conf" >tinyproxy.log 2>&1 &
	wait_for 'test -s tinyproxy.pid' 20 tinyproxy
	test_atexit 'kill "$(cat tinyproxy.pid)" 2>/dev/null'
	wait_for "\"$PY\" -c 'import socket; socket.create_connection((\"127.0.0.1\", $HTTP), 1)' 2>/dev/null" \
		20 'tinyproxy to listen'
	test_expect_success 'through an HTTP CONNECT proxy: the PUT goes through it as the session does' '
		as alice --proxy "http://127.0.0.1:$HTTP" send --file two.txt bob@example.test &&
		test_grep "localhost:$PROSODY_HTTPS_PORT" tinyproxy.log &&
		test_grep "127.0.0.1:$PROSODY_PORT" tinyproxy.log &&
		messages | tail -n 1 | cut -f1 >url-proxy &&
		fetch "$(cat url-proxy)" got-proxy && cmp two.txt got-proxy
	'
else
	test_skip 'through an HTTP CONNECT proxy' 'no tinyproxy'
fi

# ---- a URL whose host the certificate does not name ------------------------------

PROSODY_UPLOAD_HOST=127.0.0.1
unset PROSODY_MUC
prosody_start wrongname || bail_out 'cannot start Prosody with URLs on 127.0.0.1'
STORE=$PROSODY_DIR/data/example%2etest/offline

test_expect_code 79 'the certificate is checked against the URL host, not the XMPP domain' '
	as alice send --file two.txt bob@example.test "not sent"
'

test_expect_success '... says so, and nothing was sent' '
	test_grep "two.txt not uploaded: upload to 127.0.0.1:$PROSODY_HTTPS_PORT: cannot verify certificate for 127.0.0.1" "$TEST_TMP/stderr" &&
	test "$(stored_count)" = 0
'
unset PROSODY_UPLOAD_HOST

# ---- a server without the upload service --------------------------------------

PROSODY_UPLOAD=no
prosody_start plain || bail_out 'cannot start Prosody without an upload service'
STORE=$PROSODY_DIR/data/example%2etest/offline

test_expect_code 69 'no upload service: a clear error' '
	as alice send --file two.txt bob@example.test "not sent either"
'

test_expect_success '... says so, and nothing was sent' '
	test_grep "example.test offers no HTTP upload service (XEP-0363): nothing sent" "$TEST_TMP/stderr" &&
	test "$(stored_count)" = 0
'

test_done
