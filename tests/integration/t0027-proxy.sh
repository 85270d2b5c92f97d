#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0027-proxy.sh - reaching the server through a proxy: SOCKS5 (microsocks,
# with and without a user name and password) and HTTP CONNECT (tinyproxy),
# from --proxy, the config file and ALL_PROXY; socks5h sends names to the
# proxy, so a DNS server that never answers holds nothing up; the proxy's
# failures (closed port, refusal, wrong password, no answer) are one-line
# errors; a .onion domain is never connected to without a proxy.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

command -v microsocks >/dev/null 2>&1 || skip_all 'no microsocks'
command -v tinyproxy >/dev/null 2>&1 || skip_all 'no tinyproxy'
# The installed xmpctl has no DNS test hook: use the build that has it.
XMPCTL=${XMPCTL_TESTHOOKS:-$TESTS_BUILDDIR/integration/xmpctl-testhooks}
unset ALL_PROXY all_proxy NO_PROXY no_proxy
prosody_require
prosody_start >/dev/null 2>&1 || bail_out 'cannot start Prosody'

STORE=$PROSODY_DIR/data/example%2etest/offline
XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD
PROXY_USER=xmpctl-proxy
PROXY_PASS=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
TEST_SECRETS=$PROXY_PASS

# stored USER TEXT: USER's offline store holds a message with TEXT
stored() {
	grep -qF -- "$2" "$STORE/$1.list" 2>/dev/null
}

# free_port: a TCP port of 127.0.0.1 nobody listens on (closed again)
free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# listening PORT: something accepts connections on 127.0.0.1:PORT
listening() {
	"$PYTHON" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null
}

pids=
test_atexit 'for p in $pids; do kill "$p" 2>/dev/null; done'

# start_bg PIDNAME CMD...: CMD in the background, its PID kept for the end
# (taken from inside: $! could be a subshell's)
start_bg() {
	_sb=$1
	shift
	sh -c 'echo $$ >"$0" && exec "$@"' "$_sb" "$@" &
	wait_for "test -s $_sb" 20 "$_sb" &&
	pids="$pids $(cat "$_sb")"
}

SOCKS=$(free_port)
start_bg socks.pid microsocks -i 127.0.0.1 -p "$SOCKS" >socks.log 2>&1 ||
	bail_out 'cannot start microsocks'
SOCKS_AUTH=$(free_port)
start_bg socks-auth.pid microsocks -i 127.0.0.1 -p "$SOCKS_AUTH" \
	-u "$PROXY_USER" -P "$PROXY_PASS" >socks-auth.log 2>&1 ||
	bail_out 'cannot start microsocks with a password'
HTTP=$(free_port)
cat >tinyproxy.conf <<EOF
Port $HTTP
Listen 127.0.0.1
Allow 127.0.0.1
ConnectPort $PROSODY_PORT
ConnectPort $PROSODY_TLS_PORT
MaxClients 20
LogLevel Info
EOF
[ "$(id -u)" = 0 ] && printf 'User nobody\nGroup nogroup\n' >>tinyproxy.conf
start_bg http.pid tinyproxy -d -c "$PWD/tinyproxy.conf" >http.log 2>&1 ||
	bail_out 'cannot start tinyproxy'
HTTP_AUTH=$(free_port)
sed -e "s/^Port .*/Port $HTTP_AUTH/" tinyproxy.conf >tinyproxy-auth.conf &&
	echo "BasicAuth $PROXY_USER $PROXY_PASS" >>tinyproxy-auth.conf
start_bg http-auth.pid tinyproxy -d -c "$PWD/tinyproxy-auth.conf" \
	>http-auth.log 2>&1 || bail_out 'cannot start tinyproxy with a password'
wait_for "listening $SOCKS && listening $SOCKS_AUTH && listening $HTTP && listening $HTTP_AUTH" 20 \
	'the proxies to listen' || bail_out 'the proxies do not listen'

test_expect_success 'socks5h: login through microsocks, certificate checked for the domain' '
	alice --proxy "socks5h://127.0.0.1:$SOCKS" login >out-socks5h &&
	test_grep "^address  *127\.0\.0\.1:$PROSODY_PORT via proxy 127\.0\.0\.1:$SOCKS\$" out-socks5h &&
	test_grep "(STARTTLS)\$" out-socks5h &&
	test_grep "^certificate .*verified for example\.test\$" out-socks5h
'

test_expect_success 'socks5h: a message sent through the proxy arrives' '
	as alice --proxy "socks5h://127.0.0.1:$SOCKS" send bob@example.test \
		"through socks5h $$" &&
	wait_for "stored bob \"through socks5h $$\"" 20 "the message in bob'"'"'s store"
'

test_expect_success 'socks5: direct TLS (XEP-0368) through the proxy' '
	xmpctl --server "127.0.0.1:$PROSODY_TLS_PORT" --direct-tls \
		--cafile "$TEST_CA" -j alice@example.test \
		--proxy "socks5://127.0.0.1:$SOCKS" login >out-socks5 &&
	test_grep "^address  *127\.0\.0\.1:$PROSODY_TLS_PORT via proxy 127\.0\.0\.1:$SOCKS\$" out-socks5 &&
	test_grep "(direct TLS)\$" out-socks5
'

test_expect_success 'http: login and send through an HTTP CONNECT proxy (tinyproxy)' '
	alice --proxy "http://127.0.0.1:$HTTP" login >out-http &&
	test_grep "^address  *127\.0\.0\.1:$PROSODY_PORT via proxy 127\.0\.0\.1:$HTTP\$" out-http &&
	as alice --proxy "http://127.0.0.1:$HTTP" send bob@example.test \
		"through http $$" &&
	wait_for "stored bob \"through http $$\"" 20 "the message in bob'"'"'s store" &&
	test_grep "127\.0\.0\.1:$PROSODY_PORT" http.log
'

test_expect_success 'http: direct TLS through the CONNECT proxy' '
	xmpctl --server "127.0.0.1:$PROSODY_TLS_PORT" --direct-tls \
		--cafile "$TEST_CA" -j alice@example.test \
		--proxy "http://127.0.0.1:$HTTP" login >out-http-tls &&
	test_grep "(direct TLS)\$" out-http-tls
'

test_expect_success 'http: a port the proxy does not allow is its refusal, status named (69)' '
	closed=$(free_port) &&
	expect_exit 69 xmpctl --server "127.0.0.1:$closed" --cafile "$TEST_CA" \
		-j alice@example.test --proxy "http://127.0.0.1:$HTTP" login 2>err-http-refused &&
	test_grep "^xmpctl: proxy 127\.0\.0\.1 port $HTTP refused to connect to 127\.0\.0\.1 port $closed: HTTP 403" err-http-refused &&
	test "$(wc -l <err-http-refused)" = 1
'

# A DNS server that never answers: a query sent to it would hold the
# login until --timeout; socks5h sends none.
test_expect_success 'socks5h: a name goes to the proxy; no DNS query (silent DNS, login in time)' '
	dns --silent &&
	XMPCTL_PASSWORD=$ALICE_PASS xmpctl --server "localhost:$PROSODY_PORT" \
		--cafile "$TEST_CA" -j alice@example.test --timeout 5 \
		--proxy "socks5h://127.0.0.1:$SOCKS" login >out-byname &&
	test_grep "^address  *localhost:$PROSODY_PORT via proxy 127\.0\.0\.1:$SOCKS\$" out-byname &&
	test_grep "connected to localhost:$PROSODY_PORT\$" socks.log
'

# The same under strace: the process itself sends no DNS packet and reads
# none of the files a name lookup reads; without the proxy it does (so the
# check can fail).  The fake DNS server records what it is asked: nothing.
if command -v strace >/dev/null 2>&1 && strace -f -qq -o /dev/null true 2>/dev/null; then
	# LeakSanitizer does not run under ptrace
	NOLEAKS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	# lookups FILE: the name lookups an strace log shows
	lookups() {
		grep -E "resolv\.conf|/etc/hosts|nsswitch\.conf|htons\(53\)" "$1" || :
	}
	test_expect_success 'socks5h: no name looked up here at all (strace: no DNS packet, no hosts file), none asked of the DNS' '
		dns --silent &&
		XMPCTL_PASSWORD=$ALICE_PASS ASAN_OPTIONS=$NOLEAKS strace -f -qq -o st-proxy.txt \
			-e trace=openat,open,connect,sendto,sendmsg,sendmmsg \
			"$XMPCTL" --server "localhost:$PROSODY_PORT" --cafile "$TEST_CA" \
			-j alice@example.test --proxy "socks5h://127.0.0.1:$SOCKS" \
			login >out-strace &&
		test_grep "via proxy 127\.0\.0\.1:$SOCKS\$" out-strace &&
		lookups st-proxy.txt >looked-up &&
		test_must_be_empty looked-up &&
		test_must_be_empty dns.port.queries &&
		XMPCTL_PASSWORD=$ALICE_PASS ASAN_OPTIONS=$NOLEAKS strace -f -qq -o st-direct.txt \
			-e trace=openat,open,connect,sendto,sendmsg,sendmmsg \
			"$XMPCTL" --server "localhost:$PROSODY_PORT" --cafile "$TEST_CA" \
			-j alice@example.test login >/dev/null &&
		lookups st-direct.txt >looked-up-direct &&
		test -s looked-up-direct
	'
else
	test_skip 'socks5h: no name looked up here at all (strace: no DNS packet, no hosts file), none asked of the DNS' 'no strace, or it cannot trace here'
fi

test_expect_success 'socks5h: without --server, SRV is skipped and the domain goes to the proxy' '
	XMPCTL_PASSWORD=$ALICE_PASS expect_exit 69 xmpctl --cafile "$TEST_CA" \
		-j alice@example.test --timeout 5 -v \
		--proxy "socks5h://127.0.0.1:$SOCKS" login 2>trace-nosrv &&
	test_grep "proxy: SRV lookup skipped; connecting to example\.test:5222 through the proxy" trace-nosrv &&
	test_grep "^xmpctl: proxy 127\.0\.0\.1 port $SOCKS refused to connect to example\.test port 5222: .*(SOCKS reply [0-9]*)\$" trace-nosrv
'

test_expect_success 'socks5h: login --check without --server asks no DNS either: the domain goes to the proxy (69, not 75)' '
	dns --silent &&
	XMPCTL_PASSWORD=$ALICE_PASS expect_exit 69 xmpctl --cafile "$TEST_CA" \
		-j alice@example.test --timeout 3 \
		--proxy "socks5h://127.0.0.1:$SOCKS" login --check >out-check 2>err-check &&
	test_grep "example\.test (the proxy.s lookup: SRV not asked" out-check &&
	test_grep "refused to connect to example\.test port 5222" out-check
'

test_expect_success '... while socks5 resolves here: the silent DNS holds it to --timeout (75)' '
	XMPCTL_PASSWORD=$ALICE_PASS expect_exit 75 xmpctl --cafile "$TEST_CA" \
		-j alice@example.test --timeout 1 \
		--proxy "socks5://127.0.0.1:$SOCKS" login 2>err-local &&
	test_grep "no answer from DNS for _xmpps-client\._tcp\.example\.test" err-local
'

test_expect_success '... and takes the SRV records it finds, then connects through the proxy' '
	dns "_xmpp-client._tcp.example.test=5:0:$PROSODY_PORT:localhost" &&
	XMPCTL_PASSWORD=$ALICE_PASS xmpctl --cafile "$TEST_CA" \
		-j alice@example.test --proxy "socks5://127.0.0.1:$SOCKS" login >out-srv &&
	test_grep "^server  *localhost port $PROSODY_PORT (SRV _xmpp-client._tcp)\$" out-srv &&
	test_grep "^address  *\(127\.0\.0\.1\|\[::1\]\):$PROSODY_PORT via proxy 127\.0\.0\.1:$SOCKS\$" out-srv
'

test_expect_success 'socks5: a refused destination is the SOCKS reply code, named (69)' '
	closed=$(free_port) &&
	expect_exit 69 xmpctl --server "127.0.0.1:$closed" --cafile "$TEST_CA" \
		-j alice@example.test --proxy "socks5://127.0.0.1:$SOCKS" login 2>err-socks-refused &&
	test_grep "^xmpctl: proxy 127\.0\.0\.1 port $SOCKS refused to connect to 127\.0\.0\.1 port $closed: [a-z ]* (SOCKS reply [1-8])\$" err-socks-refused
'

test_expect_code 64 'a password in --proxy on the command line is refused (64)' '
	xmpctl -j alice@example.test \
		--proxy "socks5://$PROXY_USER:$PROXY_PASS@127.0.0.1:$SOCKS_AUTH" login
'

test_expect_success '... saying where to put it, without echoing it' '
	test_grep "^xmpctl: --proxy: a password on the command line is visible to other users" stderr &&
	! test_grep -F "$PROXY_PASS" stderr
'

mkdir -p home/.config/xmpctl
test_expect_success 'config file: the proxy user name and password (RFC 1929) are accepted' '
	printf "[alice]\njid = alice@example.test\nproxy = socks5h://%s:%s@127.0.0.1:%s\n" \
		"$PROXY_USER" "$PROXY_PASS" "$SOCKS_AUTH" >home/.config/xmpctl/config &&
	chmod 600 home/.config/xmpctl/config &&
	alice login >out-auth &&
	test_grep "via proxy 127\.0\.0\.1:$SOCKS_AUTH\$" out-auth
'

test_expect_success 'config file: a wrong proxy password is a one-line error (69)' '
	printf "[alice]\njid = alice@example.test\nproxy = socks5h://%s:wrong@127.0.0.1:%s\n" \
		"$PROXY_USER" "$SOCKS_AUTH" >home/.config/xmpctl/config &&
	expect_exit 69 alice login 2>err-auth &&
	test_grep "^xmpctl: proxy 127\.0\.0\.1 port $SOCKS_AUTH rejected the user name and password\$" err-auth &&
	test "$(wc -l <err-auth)" = 1
'

test_expect_success 'config file: a proxy password in a file others can read is refused (78)' '
	chmod 644 home/.config/xmpctl/config &&
	expect_exit 78 alice login 2>err-mode &&
	test_grep "holds a proxy password and others can read it" err-mode
'
rm -f home/.config/xmpctl/config

test_expect_success 'config file: HTTP Basic credentials for the CONNECT proxy' '
	printf "[alice]\njid = alice@example.test\nproxy = http://%s:%s@127.0.0.1:%s\n" \
		"$PROXY_USER" "$PROXY_PASS" "$HTTP_AUTH" >home/.config/xmpctl/config &&
	chmod 600 home/.config/xmpctl/config &&
	alice login >out-http-auth &&
	test_grep "via proxy 127\.0\.0\.1:$HTTP_AUTH\$" out-http-auth
'

test_expect_success '... and wrong ones: the HTTP status (tinyproxy: 401) named (69)' '
	printf "[alice]\njid = alice@example.test\nproxy = http://%s:wrong@127.0.0.1:%s\n" \
		"$PROXY_USER" "$HTTP_AUTH" >home/.config/xmpctl/config &&
	expect_exit 69 alice login 2>err-http-auth &&
	test_grep "^xmpctl: proxy 127\.0\.0\.1 port $HTTP_AUTH rejected the user name and password (HTTP 40[17] [A-Za-z ]*)\$" err-http-auth
'
rm -f home/.config/xmpctl/config

test_expect_success 'no credentials for a proxy that wants them: said so (69)' '
	expect_exit 69 alice --proxy "socks5h://127.0.0.1:$SOCKS_AUTH" login 2>err-noauth &&
	test_grep "^xmpctl: proxy 127\.0\.0\.1 port $SOCKS_AUTH requires a user name and password\$" err-noauth
'

test_expect_success 'ALL_PROXY: the proxy, credentials included, from the environment' '
	ALL_PROXY="socks5h://$PROXY_USER:$PROXY_PASS@127.0.0.1:$SOCKS_AUTH" &&
	export ALL_PROXY &&
	alice login >out-env;
	rc=$? && unset ALL_PROXY && test $rc = 0 &&
	test_grep "via proxy 127\.0\.0\.1:$SOCKS_AUTH\$" out-env
'

test_expect_success 'ALL_PROXY with a closed port: proxy unreachable (69) ...' '
	closed=$(free_port) &&
	ALL_PROXY="socks5h://127.0.0.1:$closed" && export ALL_PROXY &&
	expect_exit 69 alice login 2>err-closed;
	rc=$? && unset ALL_PROXY && test $rc = 0 &&
	test_grep "^xmpctl: cannot connect to proxy 127\.0\.0\.1 port $closed (127\.0\.0\.1): connection refused\$" err-closed
'

test_expect_success '... and NO_PROXY naming the server host bypasses it' '
	ALL_PROXY="socks5h://127.0.0.1:$closed" NO_PROXY="localhost,127.0.0.1" &&
	export ALL_PROXY NO_PROXY &&
	alice login >out-noproxy;
	rc=$? && unset ALL_PROXY NO_PROXY && test $rc = 0 &&
	test_grep "^address  *127\.0\.0\.1:$PROSODY_PORT\$" out-noproxy
'

test_expect_success 'a proxy that accepts and never answers: --timeout covers its handshake (75)' '
	"$PYTHON" -c "
import os, socket
s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(8)
open(\"silent.tmp\", \"w\").write(str(s.getsockname()[1])); os.rename(\"silent.tmp\", \"silent.port\")
held = []
while True:
    held.append(s.accept()[0])
" &
	pids="$pids $!" &&
	wait_for "test -s silent.port" 20 "the silent proxy" &&
	expect_exit 75 alice --timeout 1 --proxy "socks5h://127.0.0.1:$(cat silent.port)" login 2>err-silent &&
	test_grep "^xmpctl: cannot connect to 127\.0\.0\.1 within 1 s: .* via proxy 127\.0\.0\.1 port $(cat silent.port): no answer\$" err-silent
'

test_expect_code 64 'a .onion domain without a proxy is refused before any connection (64)' '
	XMPCTL_PASSWORD=x xmpctl -j alice@exampleexampleexample.onion login
'

test_expect_success '... saying it needs a proxy' '
	test_grep "^xmpctl: exampleexampleexample\.onion is an onion service: it is reached only through a proxy" stderr
'

test_expect_success 'login --check of a .onion domain through socks5h: by name to the proxy, no DNS (69 from the proxy)' '
	dns --silent &&
	XMPCTL_PASSWORD=x expect_exit 69 xmpctl -j alice@exampleexampleexample.onion \
		--timeout 1 --proxy "socks5h://127.0.0.1:$SOCKS" login --check >out-onion &&
	test_grep "refused to connect to exampleexampleexample\.onion port 5222" out-onion
'

# ---- a session holder's proxy is one of the options that must match ----------

XDG_RUNTIME_DIR=$(mktemp -d /tmp/xmpctl-proxy.XXXXXX) || bail_out 'mktemp'
export XDG_RUNTIME_DIR
test_atexit 'rm -rf "$XDG_RUNTIME_DIR"'
HSTATUS=$XDG_RUNTIME_DIR/xmpctl/alice@example.test.status
test_atexit '[ -s "$XDG_RUNTIME_DIR/xmpctl/alice@example.test.lock" ] && kill "$(cat "$XDG_RUNTIME_DIR/xmpctl/alice@example.test.lock")" 2>/dev/null'

test_expect_success 'a holder started without a proxy: a command given --proxy connects itself, through the proxy' '
	XMPCTL_TEST_TIMEOUT=600 bg_start holder1 alice session start --foreground &&
	wait_for "grep -q \"^state *connected\" \"$HSTATUS\"" 30 "the holder" &&
	test_grep "^proxy  *-\$" "$HSTATUS" &&
	alice -v --proxy "socks5h://127.0.0.1:$SOCKS" send bob@example.test \
		"not through the holder $$" 2>err-held &&
	test_grep "not through the session holder: its proxy is not this command" err-held &&
	test_grep "via proxy 127\.0\.0\.1" err-held &&
	alice session stop
'

test_expect_success 'a holder started with a proxy: the same --proxy goes through it, none does not' '
	XMPCTL_TEST_TIMEOUT=600 bg_start holder2 alice --proxy "socks5h://127.0.0.1:$SOCKS" \
		session start --foreground &&
	wait_for "grep -q \"^state *connected\" \"$HSTATUS\"" 30 "the holder" &&
	test_grep "^proxy  *socks5h://127\.0\.0\.1:$SOCKS\$" "$HSTATUS" &&
	alice -v --proxy "socks5h://127.0.0.1:$SOCKS" send bob@example.test "held $$" 2>err-held2 &&
	test_grep ! "not through the session holder" err-held2 &&
	alice -v send bob@example.test "not held $$" 2>err-held3 &&
	test_grep "not through the session holder: its proxy is not this command" err-held3 &&
	alice session stop
'

test_done
