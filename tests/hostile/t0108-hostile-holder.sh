#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0108-hostile-holder.sh - a session holder (session start) logged in to
# a scripted server that floods it with presence, answers a forwarded
# request with a forged result first, and ends with a stream error whose
# text would drive a terminal (a CSI, a newline): the holder keeps a bounded amount of its
# contacts' presence only, hands a command the answer from the entity it
# asked, and writes the error to its log sanitized.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/hostile/fake.sh"

fake_cert

A=alice@example.test
XDG_RUNTIME_DIR=$(mktemp -d /tmp/xmpctl-t0108.XXXXXX) || bail_out 'mktemp'
export XDG_RUNTIME_DIR
test_atexit 'rm -rf "$XDG_RUNTIME_DIR"'
SOCK=$XDG_RUNTIME_DIR/xmpctl/$A.sock
HLOG=$XDG_RUNTIME_DIR/xmpctl/$A.log
test_atexit '[ -s holder.pid ] && kill "$(cat holder.pid)" 2>/dev/null'
test_on_failure 'echo "# the holder'"'"'s log:"; diag_file "$HLOG" 20'

# holder: xmpctl with the holder's options (the same for every command,
# or it would not go through the holder)
holder() {
	XMPCTL_PASSWORD=secret-password xmpctl --timeout 10 \
		--server "127.0.0.1:$FAKE_PORT" --cafile cert.pem -j "$A" "$@"
}

{
	script_to_bind
	script_bound "$A/r"
	cat <<SCRIPT
expect jabber:iq:roster'/></iq>
send <iq type='result' id='\$ID'><query xmlns='jabber:iq:roster'><item jid='bob@example.test' subscription='both'/><item jid='carol@example.test' subscription='from'/></query></iq>
SCRIPT
	script_ack
	# twenty resources of a contact, a stranger, one we are not
	# subscribed to
	i=1
	while [ "$i" -le 20 ]; do
		echo "send <presence from='bob@example.test/r$i' to='$A/r'/>"
		i=$((i + 1))
	done
	cat <<SCRIPT
send <presence from='mallory@evil.test/x' to='$A/r'><status>planted</status></presence>
send <presence from='carol@example.test/c' to='$A/r'/>
expect urn:xmpp:ping'/></iq>
send <iq type='result' id='\$ID' from='mallory@evil.test/x'><forged xmlns='urn:test'/></iq>
send <iq type='result' id='\$ID' from='bob@example.test/x'><real xmlns='urn:test'/></iq>
expect done</body>
send <stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bad\C31m\nnews</text></stream:error></stream:stream>
close
SCRIPT
} >held.script

# a client of the holder's socket: binds, sends initial presence and a
# ping to bob, prints what comes back until the answer to the ping, then
# sends a message and closes
CLIENT_PY=client.py
cat >"$CLIENT_PY" <<'PY'
import re, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
s.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams' "
          b"to='example.test' version='1.0'>"
          b"<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>"
          b"<presence/>"
          b"<iq type='get' id='q1' to='bob@example.test/x'><ping xmlns='urn:xmpp:ping'/></iq>")
got = b""
while not re.search(rb"<iq[^>]*id='q1'.*?</iq>|<iq[^>]*id='q1'[^>]*/>", got, re.S):
    d = s.recv(65536)
    if not d:
        break
    got += d
text = got.decode("utf-8", "replace")
print("bob %d" % len(re.findall(r"<presence[^>]*from='bob@example.test/", text)))
print("mallory %d" % text.count("mallory@evil.test/x'><status"))
print("carol %d" % text.count("from='carol@example.test/c'"))
m = re.search(r"<iq[^>]*id='q1'.*?(?:</iq>|/>)", text, re.S)
print("answer " + (m.group(0) if m else "none"))
s.sendall(b"<message to='bob@example.test'><body>done</body></message></stream:stream>")
s.recv(65536)
PY

test_expect_success 'the holder logs in to the scripted server' '
	fake held &&
	_to=$XMPCTL_TEST_TIMEOUT && XMPCTL_TEST_TIMEOUT=600 &&
	{ { XMPCTL_PIDFILE=holder.pid holder session start --foreground \
		</dev/null >holder.out 2>holder.err; echo $? >holder.rc; } & } &&
	XMPCTL_TEST_TIMEOUT=$_to &&
	wait_for "grep -q started holder.out || test -s holder.rc" 30 "the holder to log in" &&
	test_grep "session for $A started" holder.out
'

test_expect_success 'a presence flood: at most 16 of one contact kept, a stranger'"'"'s and a non-subscription'"'"'s not' '
	wait_for "grep -q \"keeping no more presence\" \"$HLOG\"" 20 "the bound to act" &&
	"$PYTHON" "$CLIENT_PY" "$SOCK" >client.out &&
	test_grep -x "bob 16" client.out &&
	test_grep -x "mallory 0" client.out &&
	test_grep -x "carol 0" client.out
'

test_expect_success 'a forged answer from someone else is not the answer; ids are random' '
	test_grep "^answer .*<real xmlns=.urn:test./>" client.out &&
	test_grep ! "forged" client.out &&
	test_grep "from=.bob@example.test/x." client.out &&
	grep -o "<iq[^>]*to=.bob@example.test/x.[^>]*>" held.sent >fwd.iq &&
	grep -Eq "id=.h[0-9a-f]{32}." fwd.iq &&
	test_grep "ignored an answer to a client.s request from mallory@evil.test/x" "$HLOG"
'

test_expect_success 'the server'"'"'s error text reaches the log sanitized' '
	wait_for "grep -q \"lost the server\" \"$HLOG\"" 20 "the holder to lose the server" &&
	done_fake &&
	csi=$(printf "\302\233") &&
	! grep -q "$csi" "$HLOG" &&
	test_grep "lost the server (.*bad\\\\u009b31m\\\\nnews" "$HLOG" &&
	holder session stop &&
	wait_for "test -s holder.rc" 20 "the holder to end"
'

test_done
