#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# session.sh - session start|stop|status against each server of the matrix:
# a session held in the background that the other commands of the account
# go through.  One login for many sends; presence that outlives
# the command that set it; a server restart; another uid, garbage and a
# client killed mid-request on the socket; a second start, a stale
# socket, and the polite close on stop and SIGTERM; a command with other
# server options than the holder's connects itself; only contacts'
# presence is replayed; stop never signals the process of an old pid and
# ends attached commands with 69; a resumed session lost at once backs
# off; the log is bounded; where the directory is without
# XDG_RUNTIME_DIR, or with a relative one; listen and the shell through
# the holder leave its presence as it is, a presence command changes it;
# presence --show and --pending through it list what the holder keeps
# (contacts' presence, unanswered subscription requests) and change
# nothing.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

# stream management with resumption
needs sm
server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

A=alice@example.test
B=bob@example.test

# a private runtime directory, short enough for a socket's path
XDG_RUNTIME_DIR=$(mktemp -d /tmp/xmpctl-session.XXXXXX) || bail_out 'mktemp'
export XDG_RUNTIME_DIR
test_atexit 'rm -rf "$XDG_RUNTIME_DIR"'
SOCK=$XDG_RUNTIME_DIR/xmpctl/$A.sock

leftovers() {
	for _l in "$XDG_RUNTIME_DIR"/xmpctl/*.lock; do
		[ -s "$_l" ] && kill "$(cat "$_l")" 2>/dev/null
	done
	bg_kill_all
}
test_atexit leftovers
test_on_failure 'echo "# the holder'"'"'s log:"; diag_file "$HLOG" 20'
test_on_failure leftovers

# logins of alice (or of $1) the server has seen so far
logins() {
	case $SERVER_FAMILY in
	prosody) grep -c "Authenticated as ${1:-$A}" "$SERVER_LOG" || : ;;
	*) grep -c "Accepted c2s .* authentication for ${1:-$A}" "$SERVER_LOG" || : ;;
	esac
}

# unavailable presences the server has received (Prosody logs them; the
# ejabberd of the tests logs at info level, which does not)
unavailable() {
	case $SERVER_FAMILY in
	prosody) grep -c "Received\[c2s\]: <presence.*type=.unavailable" "$SERVER_LOG" || : ;;
	*) echo 0 ;;
	esac
}
more_unavailable() {
	! server_is prosody || test "$(unavailable)" -gt "$1"
}

# holder_start NAME ARGS...: a holder of alice in the foreground, in the
# background of this script, until the line saying it started
holder_start() {
	_hs=$1
	shift
	_hs_to=$XMPCTL_TEST_TIMEOUT
	XMPCTL_TEST_TIMEOUT=600
	bg_start "$_hs" alice session start --foreground "$@"
	_hs_rc=$?
	XMPCTL_TEST_TIMEOUT=$_hs_to
	test "$_hs_rc" = 0 &&
	wait_for "grep -q started $_hs.out || test -s $_hs.rc" 30 "$_hs to log in" &&
	test_grep "session for $A started" "$_hs.out"
}

# the holder's log
HLOG=$XDG_RUNTIME_DIR/xmpctl/$A.log

# client SOCKET WHAT: a hand-made client of the socket (python): "hello"
# opens a stream and prints what comes back until the holder closes;
# "garbage" sends bytes that are not XML; "big" an element past the
# input limit; "die" binds, sends half a stanza and is killed.
CLIENT_PY=$XDG_RUNTIME_DIR/client.py
cat >"$CLIENT_PY" <<'PY'
import os, signal, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect: %s" % e.strerror)
    sys.exit(0)
hdr = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
       b"xmlns:stream='http://etherx.jabber.org/streams' "
       b"to='example.test' version='1.0'>")
what = sys.argv[2]
try:
    if what == "hello":
        s.sendall(hdr)
    elif what == "garbage":
        s.sendall(b"\x00\xff\xfe not xml at all <<<>>>")
    elif what == "big":
        s.sendall(hdr + b"<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
        s.sendall(b"<message to='bob@example.test'><body>" + b"x" * (2 * 1024 * 1024))
    elif what == "die":
        s.sendall(hdr + b"<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>"
                  b"<enable xmlns='urn:xmpp:sm:3'/><iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>"
                  b"<message to='bob@example.test'><body>half")
        os.kill(os.getpid(), signal.SIGKILL)
except OSError as e:
    print("send: %s" % e.strerror)
got = b""
shown = False
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
        if what == "hello" and b"</stream:features>" in got and not shown:
            print("features seen", flush=True)
            shown = True
except OSError as e:
    print("recv: %s" % e.strerror)
print(got.decode("utf-8", "replace"))
print("closed")
PY
chmod 0644 "$CLIENT_PY"
client() {
	"$PYTHON" "$CLIENT_PY" "$@"
}

# subscriptions both ways between alice and bob, made directly
test_expect_success 'alice and bob subscribe to each other' '
	as alice presence --subscribe "$B" &&
	as bob presence --approve "$A" --subscribe "$A" &&
	as alice presence --approve "$B"
'

test_expect_success 'status without a holder: 69' '
	expect_exit 69 as alice session status &&
	expect_exit 69 as alice session stop
'

test_expect_success 'usage errors: 64' '
	expect_exit 64 as alice session &&
	expect_exit 64 as alice session restart &&
	expect_exit 64 as alice session stop --foreground &&
	expect_exit 64 as alice session start unavailable
'

# ---- (a) ten sends, one login ---------------------------------------------------

test_expect_success 'bob listens' '
	n=$(logins "$B") &&
	XMPCTL_TEST_TIMEOUT=600 bg_start listener bob listen &&
	wait_for "test \$(logins $B) -gt $n" 20 "bob to log in"
'

test_expect_success 'start: logs in once, socket 0600 in a 0700 directory' '
	before=$(logins) &&
	holder_start holder away -s "held" &&
	wait_for "test \$(logins) -gt $before" 20 "the login in the server log" &&
	test "$(logins)" = $((before + 1)) &&
	test -S "$SOCK" &&
	test "$(stat -c %a "$SOCK")" = 600 &&
	test "$(stat -c %a "$XDG_RUNTIME_DIR/xmpctl")" = 700 &&
	as alice session status >st.out &&
	test_grep "^state *connected" st.out &&
	test_grep "^jid *$A/" st.out &&
	test_grep "^presence *away (held)" st.out
'

test_expect_success 'ten sends through the holder: no new login, all arrive' '
	before=$(logins) &&
	bad= &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		alice send "$B" "through $i" || bad="$bad $i"
	done &&
	test -z "$bad" &&
	wait_for "test \$(grep -c \"through \" listener.out) -ge 10" 20 "ten messages at bob" &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		test_grep "through $i\$" listener.out || bad="$bad $i"
	done &&
	test -z "$bad" &&
	test "$(logins)" = "$before"
'

test_expect_success '--no-session goes to the server itself' '
	before=$(logins) &&
	as alice --no-session send "$B" "direct" &&
	wait_for "test \$(logins) -gt $before" 20 "the login in the server log"
'

test_expect_success 'login asks the server itself, holder or not' '
	before=$(logins) &&
	as alice login >login.out &&
	test_grep "^tls " login.out &&
	wait_for "test \$(logins) -gt $before" 20 "the login in the server log"
'

# ---- a command's own options that pick and verify the server -----------------------


# fails NAME ARGS...: alice ARGS... fails (not 0), stderr in NAME.err
fails() {
	_f=$1
	shift
	as alice "$@" >"$_f.out" 2>"$_f.err"
	_frc=$?
	echo "exit status $_frc" >>"$_f.err"
	test "$_frc" != 0
}

test_expect_success 'options the holder was not started with: the command connects itself' '
	fails pin -v --pin "$(pin_of "$PKI_DIR/wrong.test.pem")" send "$B" "pinned" &&
	test_grep "matches no pin" pin.err &&
	test_grep "not through the session holder: its pin is not this command.s" pin.err &&
	fails cafile --cafile /nonexistent send "$B" "no cafile" &&
	test_grep "/nonexistent" cafile.err &&
	fails port --server 127.0.0.1:1 send "$B" "no server" &&
	fails mech --mech X-NONE send "$B" "no mechanism" &&
	test_grep "X-NONE" mech.err &&
	test_must_be_empty pin.out &&
	test_must_be_empty port.out
'

test_expect_success '--insecure to a verifying holder: connects itself, and warns' '
	before=$(logins) &&
	as alice --insecure send "$B" "insecure" 2>insecure.err &&
	test_grep "NOT verified" insecure.err &&
	wait_for "test \$(logins) -gt $before" 20 "the login in the server log"
'

test_expect_success 'session status shows what the holder verifies the server with' '
	as alice session status >st5.out &&
	test_grep "^server *127.0.0.1:$SERVER_PORT\$" st5.out &&
	test_grep "^cafile *$TEST_CA\$" st5.out &&
	test_grep "^verify *yes\$" st5.out
'

# ---- (b) presence outlives the command -------------------------------------------

presence_of_alice() {
	as bob --format json presence --show --wait 1 >"$1" &&
	"$PYTHON" -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    f = (o.get("from") or "").split("/", 1)
    if o["kind"] == "presence" and f[0] == sys.argv[2]:
        print("%s|%s" % (o.get("show"), o.get("status")))
' "$1" "$A"
}

test_expect_success 'presence away -s X through the holder stays after the command' '
	alice presence away -s "backup running" &&
	as alice session status >st2.out &&
	test_grep "^presence *away (backup running)" st2.out &&
	presence_of_alice p1.json >p1.lines &&
	test_grep -x "away|backup running" p1.lines
'

test_expect_success 'raw and roster through the holder: answers come back to the asker' '
	alice raw "<iq type=\"get\" id=\"mine\"><ping xmlns=\"urn:xmpp:ping\"/></iq>" >raw.out &&
	test_grep "id=.mine." raw.out &&
	alice --format json roster >roster.json &&
	test "$(roster_item roster.json "$B" "o[\"subscription\"]")" = both
'

test_expect_success 'two listens and a send at once: both listens get the message' '
	XMPCTL_TEST_TIMEOUT=600 bg_start l1 alice listen &&
	XMPCTL_TEST_TIMEOUT=600 bg_start l2 alice listen &&
	wait_for "grep -q \"^clients *2\$\" \"$XDG_RUNTIME_DIR/xmpctl/$A.status\"" 20 "two listens attached" &&
	as bob send "$A" "to both" &&
	wait_for "grep -q \"to both\" l1.out && grep -q \"to both\" l2.out" 20 "the message at both listens" &&
	bg_stop l1 && bg_stop l2
'

test_expect_success 'presence --show through the holder lists what the holder has seen' '
	alice --format json presence --show --wait 1 >shown.json &&
	json_get shown.json "o[\"kind\"] + \"|\" + o[\"from\"].split(\"/\")[0]" >shown.lines &&
	test_grep -x "presence|$B" shown.lines
'

test_expect_success 'presence from someone who is no contact is not kept for others' '
	full=$(sed -n "s/^jid *//p" "$XDG_RUNTIME_DIR/xmpctl/$A.status") &&
	case $full in "$A"/*) ;; *) false ;; esac &&
	XMPCTL_TEST_TIMEOUT=600 bg_start l4 alice --format json listen --all &&
	wait_for "grep -q \"^clients *1\$\" \"$XDG_RUNTIME_DIR/xmpctl/$A.status\"" 20 "the listen attached" &&
	XMPCTL_TEST_TIMEOUT=600 bg_start carolp carol raw --stay "<presence/>" \
		"<presence to=\"$full\"><status>planted</status></presence>" &&
	wait_for "grep -q planted l4.out" 20 "the presence at the listen" &&
	bg_stop l4 &&
	alice --format json presence --show --wait 1 >shown2.json &&
	bg_stop carolp &&
	test_grep ! planted shown2.json &&
	json_get shown2.json "o[\"kind\"] + \"|\" + o[\"from\"].split(\"/\")[0]" >shown2.lines &&
	test_grep -x "presence|$B" shown2.lines
'

test_expect_success 'an iq answer without to is relayed, not acknowledged and dropped' '
	alice raw "<iq type=\"result\" id=\"stray-answer\"/>" &&
	case $SERVER_FAMILY in
	prosody) wait_for "grep -q \"Received.c2s.: <iq.*id=.stray-answer\" \"\$SERVER_LOG\"" 20 "the answer at the server" ;;
	esac
'

# ---- (d, e) who and what may use the socket ---------------------------------------------

if id xmpctl-other >/dev/null 2>&1 || useradd -M -r -s /usr/sbin/nologin xmpctl-other 2>/dev/null; then
	OTHER=$(id -u xmpctl-other)
	OTHER_GID=$(id -g xmpctl-other)
	as_other() {
		setpriv --reuid="$OTHER" --regid="$OTHER_GID" --clear-groups "$@"
	}
	test_expect_success 'another uid: the directory keeps it out' '
		as_other "$PYTHON" -c "
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); print(\"connected\")
except OSError as e:
    print(\"refused\", e.strerror)
" "$SOCK" >o1.out &&
		test_grep "^refused" o1.out
	'
	test_expect_success 'another uid past the directory: the holder drops it (SO_PEERCRED)' '
		chmod 0711 "$XDG_RUNTIME_DIR" "$XDG_RUNTIME_DIR/xmpctl" &&
		chmod 0666 "$SOCK" &&
		as_other "$PYTHON" "$CLIENT_PY" "$SOCK" hello >o2.out 2>&1
		rc=$?
		chmod 0700 "$XDG_RUNTIME_DIR" "$XDG_RUNTIME_DIR/xmpctl" &&
		chmod 0600 "$SOCK" &&
		test "$rc" = 0 &&
		test_grep "^closed" o2.out &&
		test_grep ! "stream:features" o2.out &&
		test_grep "refused a client of uid $OTHER" "$HLOG" &&
		alice send "$B" "after the other uid"
	'
else
	test_skip 'another uid: the directory keeps it out' 'cannot create a user'
	test_skip 'another uid past the directory: the holder drops it (SO_PEERCRED)' 'cannot create a user'
fi

test_expect_success 'our own uid gets features offering bind and sm only; stop ends an attached listen with 69' '
	XMPCTL_TEST_TIMEOUT=600 bg_start l3 alice listen &&
	wait_for "grep -q \"^clients *1\$\" \"$XDG_RUNTIME_DIR/xmpctl/$A.status\"" 20 "the listen attached" &&
	client "$SOCK" hello >c1.out &
	cpid=$! &&
	wait_for "grep -q \"^features seen\" c1.out" 20 "the features" &&
	as alice session stop &&
	wait "$cpid" &&
	wait_for "test -s l3.rc" 20 "the listen to end" &&
	test "$(cat l3.rc)" = 69 &&
	test_grep -x "xmpctl: the background session was stopped" l3.err &&
	test_grep ! "stream error from server" l3.err &&
	test_grep "<bind xmlns=.urn:ietf:params:xml:ns:xmpp-bind./><sm xmlns=.urn:xmpp:sm:3./></stream:features>" c1.out &&
	test_grep "system-shutdown" c1.out &&
	test_grep -v "mechanisms\|starttls" c1.out >/dev/null
'

test_expect_success 'garbage, an oversized stanza, a client killed mid-request: the holder goes on' '
	holder_start holder2 &&
	client "$SOCK" garbage >g1.out &&
	test_grep "^closed" g1.out &&
	client "$SOCK" big >g2.out &&
	test_grep "^closed" g2.out &&
	client "$SOCK" die >g3.out 2>&1
	test_grep "dropped a client" "$HLOG" &&
	as alice session status >st3.out &&
	test_grep "^state *connected" st3.out &&
	alice send "$B" "after the garbage"
'

# ---- (c) the server goes away and comes back ---------------------------------------------

# (ejabberd's test instance starts with a fresh spool: accounts and
# rosters would not survive a restart)
if server_is prosody; then

test_expect_success 'server down: a send fails with 69, nothing reported sent' '
	alice presence xa -s "held over" &&
	prosody_stop &&
	wait_for "grep -q \"^state *reconnecting\" \"$XDG_RUNTIME_DIR/xmpctl/$A.status\"" 30 "the holder to notice" &&
	{ alice send "$B" "while down" >down.out 2>down.err; test $? = 69; } &&
	test_must_be_empty down.out &&
	test_grep "lost its connection to the server" down.err
'

test_expect_success 'server back on the same port: the holder reconnects and restores presence' '
	_prosody_run prosody &&
	wait_for "grep -q \"^state *connected\" \"$XDG_RUNTIME_DIR/xmpctl/$A.status\"" 90 "the holder to reconnect" &&
	# at most an attempt to resume (it authenticates, and the restarted
	# server has no session to resume) and one login
	test "$(logins)" -ge 1 && test "$(logins)" -le 2 &&
	presence_of_alice p2.json >p2.lines &&
	test_grep -x "xa|held over" p2.lines &&
	alice send "$B" "after the restart"
'
else
	test_skip 'server down: a send fails with 69, nothing reported sent' 'Prosody only'
	test_skip 'server back on the same port: the holder reconnects and restores presence' 'Prosody only'
fi

# ---- (f) one holder per account; stale sockets; the polite close ---------------------

test_expect_success 'a second start is refused: 75' '
	expect_exit 75 as alice session start 2>second.err &&
	test_grep "already running" second.err
'

test_expect_success 'SIGTERM: unavailable and the stream closed' '
	n=$(unavailable) &&
	bg_stop holder2 &&
	more_unavailable "$n" &&
	test ! -e "$SOCK" &&
	expect_exit 69 as alice session status
'

test_expect_success 'a stale socket is passed by, then replaced by a detached start' '
	"$PYTHON" -c "
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])
" "$SOCK" &&
	test -S "$SOCK" &&
	before=$(logins) &&
	as alice send "$B" "past the stale socket" &&
	wait_for "test \$(logins) -gt $before" 20 "the login in the server log" &&
	as alice session start >det.out &&
	test_grep "session for $A started (pid [0-9]*)" det.out &&
	as alice session status >st4.out &&
	test_grep "^state *connected" st4.out &&
	cp "$XDG_RUNTIME_DIR/xmpctl/$A.status" held.status &&
	alice send "$B" "through the detached holder"
'

test_expect_success 'stop: the holder closes politely and is gone' '
	n=$(unavailable) &&
	as alice session stop &&
	more_unavailable "$n" &&
	expect_exit 69 as alice session status &&
	expect_exit 69 as alice session stop
'

# a server that takes connections and says nothing: a start that logs in
# there waits
HANG_PY=$XDG_RUNTIME_DIR/hang.py
cat >"$HANG_PY" <<'PY'
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
conns = []
while True:
    c, _ = s.accept()
    conns.append(c)
    open(sys.argv[2], "w").close()
PY

test_expect_success 'stop while a start logs in: the start ends, not the process of an old pid' '
	lock=$XDG_RUNTIME_DIR/xmpctl/$A.lock &&
	{ sleep 300 & } &&
	victim=$! &&
	test_atexit "kill $victim 2>/dev/null" &&
	echo "$victim" >"$lock" &&
	{ "$PYTHON" "$HANG_PY" hang.port hang.accepted & } &&
	hang=$! &&
	test_atexit "kill $hang 2>/dev/null" &&
	wait_for "test -s hang.port" 20 "the silent server" &&
	{ { XMPCTL_PASSWORD=$ALICE_PASS xmpctl --server "127.0.0.1:$(cat hang.port)" \
		--cafile "$TEST_CA" --timeout 25 -j "$A" session start --foreground \
		</dev/null >hs.out 2>hs.err; echo $? >hs.rc; } & } &&
	wait_for "test -e hang.accepted" 20 "the start to connect" &&
	as alice session stop &&
	# the lock goes with the process; its status is written after that
	wait_for "test -s hs.rc" 20 "the start to end" &&
	kill -0 "$victim" &&
	kill "$victim" && kill "$hang" &&
	# the start took the signal and removed its socket
	{ test ! -e "$SOCK" || { rm -f "$SOCK"; false; }; } &&
	test "$(cat hs.rc)" = 143
'

if [ -n "${OTHER:-}" ]; then
	test_expect_success 'a socket of another uid in our directory is no holder' '
		d=$XDG_RUNTIME_DIR/xmpctl &&
		chmod 0711 "$XDG_RUNTIME_DIR" &&
		chmod 0777 "$d" &&
		{ as_other "$PYTHON" -c "
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
open(sys.argv[2], \"w\").close()
s.settimeout(20)
try:
    c, _ = s.accept()
    c.settimeout(5)
    print(\"got\", repr(c.recv(100)))
except OSError as e:
    print(\"none\", e)
" "$SOCK" "$d/ready" >fake.out 2>&1 & } &&
		fake=$! &&
		wait_for "test -e $d/ready" 20 "the other uid'"'"'s socket" &&
		chmod 0700 "$d" "$XDG_RUNTIME_DIR" &&
		# the status of a holder with our options, as if it ran there
		cp held.status "$d/$A.status" &&
		before=$(logins) &&
		as alice send "$B" "not to the other uid" &&
		wait "$fake" &&
		rm -f "$SOCK" "$d/ready" "$d/$A.status" &&
		test_grep "^got b..\$" fake.out &&
		wait_for "test \$(logins) -gt $before" 20 "the login in the server log"
	'
fi

# ---- a lost connection under the holder is resumed (XEP-0198) ------------------------
# The holder connects through a relay that breaks its connection when told
# to; the server keeps the session, so the holder resumes it instead of
# logging in anew.

# alice with the holder's options (a command with others connects
# itself; without a password, this one cannot)
alice_relay() {
	xmpctl --server "127.0.0.1:$(cat proxy.port)" --cafile "$TEST_CA" -j "$A" "$@"
}

test_expect_success 'a holder behind a relay that breaks connections; a log too large is moved aside' '
	yes "an old line of the log" | head -n 20000 >"$HLOG" &&
	relay_start "$SERVER_PORT" &&
	_hs_to=$XMPCTL_TEST_TIMEOUT && XMPCTL_TEST_TIMEOUT=600 &&
	{ XMPCTL_PASSWORD=$ALICE_PASS XMPCTL_PIDFILE=holder3.pid xmpctl --server "127.0.0.1:$(cat proxy.port)" \
		--cafile "$TEST_CA" -j "$A" session start --foreground \
		</dev/null >holder3.out 2>holder3.err
	  echo $? >holder3.rc; } &
	XMPCTL_TEST_TIMEOUT=$_hs_to &&
	wait_for "grep -q started holder3.out || test -s holder3.rc" 30 "holder3 to log in" &&
	test_grep "session for $A started" holder3.out &&
	test "$(wc -c <"$HLOG")" -lt 262144 &&
	test_grep "an old line" "$HLOG.old" &&
	test_grep ! "an old line" "$HLOG" &&
	alice_relay send "$B" "through the relay"
'

# since_drop: the holder's log since the relay broke the connection
since_drop() {
	tail -n "+$(($(cat drop.at) + 1))" "$HLOG"
}

test_expect_success 'the connection breaks: the holder resumes the session, a send then works' '
	wc -l <"$HLOG" >drop.at &&
	: >proxy.drop &&
	wait_for "grep -q \"^dropped\" proxy.log" 20 "the relay to break the connection" &&
	wait_for "since_drop | grep -q \"session resumed\"" 30 "the holder to resume" &&
	wait_for "grep -q \"^state *connected\" \"$XDG_RUNTIME_DIR/xmpctl/$A.status\"" 30 "the holder to be back" &&
	since_drop >resume.log &&
	test_grep "resuming the session" resume.log &&
	test_grep ! "reconnecting in" resume.log &&
	alice_relay send "$B" "after the resumption"
'

test_expect_success 'the resumed session is lost again at once: the holder backs off' '
	wc -l <"$HLOG" >drop.at &&
	: >proxy.drop &&
	wait_for "since_drop | grep -q \"reconnecting in\"" 20 "the holder to back off" &&
	since_drop >storm.log &&
	test_grep "lost again within" storm.log &&
	test_grep ! "session resumed" storm.log &&
	wait_for "grep -q \"^state *connected\" \"$XDG_RUNTIME_DIR/xmpctl/$A.status\"" 30 "the holder to be back" &&
	alice_relay send "$B" "after the pause" &&
	bg_stop holder3
'

# ---- where the holder's directory is ------------------------------------------------

test_expect_success 'a runtime directory others may read is refused (77)' '
	chmod 0750 "$XDG_RUNTIME_DIR/xmpctl" &&
	as alice session start >mode.out 2>mode.err
	rc=$?
	chmod 0700 "$XDG_RUNTIME_DIR/xmpctl" &&
	test "$rc" = 77 &&
	test_grep "refusing to use $XDG_RUNTIME_DIR/xmpctl: .*mode 700" mode.err
'

test_expect_success 'a relative XDG_RUNTIME_DIR is ignored' '
	mkdir -p rel &&
	XDG_RUNTIME_DIR=rel XMPCTL_PASSWORD=$ALICE_PASS xmpctl --server 127.0.0.1:1 \
		--cafile "$TEST_CA" --timeout 5 -j "$A" session start --foreground \
		>rel.out 2>rel.err
	test $? != 0 &&
	test ! -e rel/xmpctl
'

if [ -n "${OTHER:-}" ] && [ -d /run/user ] && [ ! -e "/run/user/$OTHER" ] &&
	[ ! -e "/tmp/xmpctl-$OTHER" ] && ! as_other "$XMPCTL" --version >/dev/null 2>&1; then
	# a build against a library in a private prefix (tests/lab.sh's, under
	# the builder's home) does not load for another uid
	_why="uid $OTHER cannot run $XMPCTL (a library it loads is in a directory only its owner may read)"
	test_skip '/tmp/xmpctl-UID made by another user first: refused, and said so' "$_why"
	test_skip 'a cron job (no XDG_RUNTIME_DIR) finds the holder a login started in /run/user/UID' "$_why"
elif [ -n "${OTHER:-}" ] && [ -d /run/user ] && [ ! -e "/run/user/$OTHER" ] &&
	[ ! -e "/tmp/xmpctl-$OTHER" ]; then
	cp "$TEST_CA" other-ca.pem && chmod 0644 other-ca.pem &&
	mkdir -p other-home && chown "$OTHER:$OTHER_GID" other-home
	# as_xmpctl ARGS...: xmpctl as the other uid, for alice, without a
	# runtime directory of its own unless given one in the environment
	as_xmpctl() {
		as_other env -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u XDG_CACHE_HOME \
			HOME="$TEST_TMP/other-home" XMPCTL_PASSWORD="$ALICE_PASS" "$XMPCTL" --no-cache \
			--server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_TMP/other-ca.pem" \
			-j "$A" "$@"
	}
	test_expect_success '/tmp/xmpctl-UID made by another user first: refused, and said so' '
		mkdir -m 0700 "/tmp/xmpctl-$OTHER" &&
		test_atexit "rm -rf /tmp/xmpctl-$OTHER" &&
		{ env -u XDG_RUNTIME_DIR sh -c "cd / && exec \"\$@\"" sh \
			setpriv --reuid="$OTHER" --regid="$OTHER_GID" --clear-groups \
			"$XMPCTL" -j "$A" session start >squat.out 2>squat.err
		  test $? = 77; } &&
		test_grep "/tmp/xmpctl-$OTHER: it belongs to uid 0" squat.err &&
		rm -rf "/tmp/xmpctl-$OTHER"
	'
	test_expect_success 'a cron job (no XDG_RUNTIME_DIR) finds the holder a login started in /run/user/UID' '
		mkdir -p /run/user &&
		mkdir -m 0700 "/run/user/$OTHER" &&
		chown "$OTHER:$OTHER_GID" "/run/user/$OTHER" &&
		test_atexit "kill \$(cat /run/user/$OTHER/xmpctl/$A.lock) 2>/dev/null; rm -rf /run/user/$OTHER" &&
		n0=$(logins) &&
		( cd / && XDG_RUNTIME_DIR=/run/user/$OTHER as_xmpctl session start ) >run.out 2>run.err &&
		test_grep "session for $A started" run.out &&
		test -S "/run/user/$OTHER/xmpctl/$A.sock" &&
		# the holder logs in first: wait until the server has logged that
		wait_for "test \$(logins) -gt $n0" 20 "the login of the holder in the server log" &&
		before=$(logins) &&
		( cd / && unset XDG_RUNTIME_DIR && as_xmpctl session status ) >run-st.out &&
		test_grep "^state *connected" run-st.out &&
		( cd / && unset XDG_RUNTIME_DIR && as_xmpctl send "$B" "from cron" ) &&
		test "$(logins)" = "$before" &&
		( cd / && unset XDG_RUNTIME_DIR && as_xmpctl session stop ) &&
		test ! -e "/tmp/xmpctl-$OTHER" &&
		rm -rf "/run/user/$OTHER"
	'
fi

# ---- attached commands borrow the held presence -----------------------------------

# alice_seen FILE: what bob's json listen --all in FILE saw of the
# presence of the holder's resource (the status file's jid; a session an
# earlier test left to the server is another), a line each:
# show|status|type
alice_seen() {
	"$PYTHON" -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    if o["kind"] == "presence" and o.get("from") == sys.argv[2]:
        print("%s|%s|%s" % (o.get("show"), o.get("status"), o.get("type")))
' "$1" "$HELD_JID"
}

# marked N: alice says "mark N" to bob through the holder, and bob's
# stream has it: what alice sent before it has reached bob
marked() {
	alice send "$B" "mark $1" &&
	wait_for "grep -q \"mark $1\" bobp.out" 20 "mark $1 at bob"
}

test_expect_success 'a held presence away with a status; bob sees it' '
	holder_start holder4 away -s "held over" &&
	wait_for "grep -q \"^jid *$A/\" \"$XDG_RUNTIME_DIR/xmpctl/$A.status\"" 20 "the status file" &&
	HELD_JID=$(sed -n "s/^jid *//p" "$XDG_RUNTIME_DIR/xmpctl/$A.status") &&
	case $HELD_JID in "$A"/?*) ;; *) false ;; esac &&
	XMPCTL_TEST_TIMEOUT=600 bg_start bobp bob --format json listen --all &&
	wait_for "alice_seen bobp.out | grep -q ." 20 "alice'"'"'s presence at bob" &&
	marked 1 &&
	alice_seen bobp.out >seen1 &&
	echo "away|held over|available" >expect1 &&
	test_cmp expect1 seen1
'

test_expect_success 'listen through the holder, then ended: the held presence stays, bob hears nothing of it' '
	XMPCTL_TEST_TIMEOUT=600 bg_start al1 alice listen --count 1 &&
	wait_for "grep -q \"^clients *1\$\" \"$XDG_RUNTIME_DIR/xmpctl/$A.status\"" 20 "the listen attached" &&
	as bob send "$A" "one for the listen" &&
	wait_for "test -s al1.rc" 20 "the listen to end" &&
	test "$(cat al1.rc)" = 0 &&
	test_grep "one for the listen" al1.out &&
	marked 2 &&
	alice_seen bobp.out >seen2 &&
	test_cmp expect1 seen2 &&
	as alice session status >st6.out &&
	test_grep "^presence *away (held over)" st6.out &&
	presence_of_alice p6.json >p6.lines &&
	test_grep -x "away|held over" p6.lines
'

test_expect_success 'presence dnd through the holder changes it, and it stays' '
	alice presence dnd -s "deep work" &&
	wait_for "alice_seen bobp.out | grep -q \"^dnd\"" 20 "dnd at bob" &&
	marked 3 &&
	alice_seen bobp.out >seen3 &&
	{ cat expect1 && echo "dnd|deep work|available"; } >expect3 &&
	test_cmp expect3 seen3 &&
	as alice session status >st7.out &&
	test_grep "^presence *dnd (deep work)" st7.out &&
	presence_of_alice p7.json >p7.lines &&
	test_grep -x "dnd|deep work" p7.lines
'

test_expect_success 'listen after it: dnd stays too' '
	XMPCTL_TEST_TIMEOUT=600 bg_start al2 alice listen --count 1 &&
	wait_for "grep -q \"^clients *1\$\" \"$XDG_RUNTIME_DIR/xmpctl/$A.status\"" 20 "the listen attached" &&
	as bob send "$A" "two for the listen" &&
	wait_for "test -s al2.rc" 20 "the listen to end" &&
	test "$(cat al2.rc)" = 0 &&
	marked 4 &&
	alice_seen bobp.out >seen4 &&
	test_cmp expect3 seen4 &&
	as alice session status >st8.out &&
	test_grep "^presence *dnd (deep work)" st8.out
'

if command -v tmux >/dev/null 2>&1; then
	. "$TESTS_SRCDIR/integration/tty.sh"
	test_expect_success 'the shell through the holder: no presence of its own; its presence command changes the held one' '
		tty_start sh1 "$TEST_WRAPPER \"\$XMPCTL\" -j $A --server 127.0.0.1:$SERVER_PORT --cafile \"\$TEST_CA\" shell" &&
		wait_for "grep -q \"^clients *1\$\" \"$XDG_RUNTIME_DIR/xmpctl/$A.status\"" 20 "the shell attached" &&
		tty_wait_line sh1 "^alice@example\.test> *\$" 20 "the prompt" &&
		marked 5 &&
		alice_seen bobp.out >seen5 &&
		test_cmp expect3 seen5 &&
		tty_type sh1 "presence xa -s \"from the shell\"" && tty_keys sh1 Enter &&
		wait_for "alice_seen bobp.out | grep -q \"^xa\"" 20 "xa at bob" &&
		tty_type sh1 "/quit" && tty_keys sh1 Enter &&
		wait_for "test -s \"\$TEST_TMP/sh1.rc\"" 20 "the shell to end" &&
		test "$(cat "$TEST_TMP/sh1.rc")" = 0 &&
		marked 6 &&
		alice_seen bobp.out >seen6 &&
		{ cat expect3 && echo "xa|from the shell|available"; } >expect6 &&
		test_cmp expect6 seen6 &&
		as alice session status >st9.out &&
		test_grep "^presence *xa (from the shell)" st9.out
	'
else
	test_skip 'the shell through the holder: no presence of its own; its presence command changes the held one' 'tmux not found'
fi

# what alice's holder has said so far, whichever of the tests above ran
held_now() {
	marked "$1" &&
	alice_seen bobp.out >"seen$1" &&
	tail -n 1 "seen$1"
}

test_expect_success 'presence --show through the holder lists bob, and the held presence stays' '
	held_now 7 >last7 &&
	alice --format json presence --show >show.json &&
	test_grep "\"from\":\"$B/" show.json &&
	held_now 8 >last8 &&
	test_cmp seen7 seen8 &&
	test_cmp last7 last8
'

test_expect_success 'listen --all through the holder hears the presence the holder keeps' '
	XMPCTL_TEST_TIMEOUT=600 bg_start al3 alice --format json listen --all &&
	wait_for "grep -q \"kind.:.presence.*from.:.$B/\" al3.out" 20 "bob'"'"'s presence at the listen" &&
	bg_stop al3 &&
	held_now 9 >last9 &&
	test_cmp seen8 seen9
'

test_expect_success 'a subscription request while the holder runs: presence --pending through it lists it until answered' '
	as carol presence --subscribe "$A" &&
	wait_for "alice --format json presence --pending >pend1.json && grep -q carol@example.test pend1.json" 20 "the request at the holder" &&
	test_grep "\"from\":\"carol@example.test" pend1.json &&
	test_grep "\"type\":\"subscribe\"" pend1.json &&
	alice presence --deny carol@example.test &&
	alice --format json presence --pending >pend2.json &&
	test_grep ! "carol@example.test" pend2.json &&
	held_now 10 >last10 &&
	test_cmp seen9 seen10
'

test_expect_success 'the held presence ends with the holder' '
	as alice session stop &&
	wait_for "alice_seen bobp.out | grep -q \"|unavailable\$\"" 20 "unavailable at bob" &&
	bg_stop bobp
'

test_done
