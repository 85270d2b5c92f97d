# SPDX-License-Identifier: GPL-3.0-or-later
# fake.sh - run the scripted fake server (fakeserver.py) from a test
# (POSIX sh, sourced after lib.sh).
#
#   fake NAME       start it on NAME.script; sets FAKE_PORT
#   run NAME ARGS   xmpctl -v against it (stdout NAME.out, stderr NAME.err);
#                   what the client sent ends up in NAME.sent
#   fake_cert       a certificate for example.test: cert.pem, key.pem
# Pieces of scripts, printed to stdout:
#   script_to_bind  STARTTLS, PLAIN inside TLS, up to the client's bind
#                   request
#   script_bound JID   the bind result
#   script_ack      answer the ping of the acknowledgement barrier
#   script_goodbye  close in answer to the client's close
command -v "$PYTHON" >/dev/null 2>&1 || skip_all "python3 not found"
FAKE=$TESTS_SRCDIR/hostile/fakeserver.py
fake_pid=
# the password run gives xmpctl; test_done checks no output shows it
TEST_SECRETS="${TEST_SECRETS:-} secret-password"
test_atexit '[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null'

# fake NAME: start the fake server on script NAME.script (written by the
# test), wait until it listens, set FAKE_PORT.
fake() {
	rm -f "$1.port" "$1.sent"
	"$PYTHON" "$FAKE" "$1.script" "$1.port" "$1.sent" &
	fake_pid=$!
	wait_for "test -s $1.port" 20 "the fake server to listen" &&
	FAKE_PORT=$(cat "$1.port")
}

# done_fake: the server has served its one connection and exits by itself.
done_fake() {
	wait "$fake_pid" 2>/dev/null
	fake_pid=
}

run() { # run NAME ARGS...: xmpctl against the fake server named NAME
	_name=$1
	shift
	XMPCTL_PASSWORD=secret-password xmpctl -v --timeout 5 \
		--server "127.0.0.1:$FAKE_PORT" -j alice@example.test "$@" \
		>"$_name.out" 2>"$_name.err"
	_rc=$?
	done_fake
	return "$_rc"
}


fake_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=example.test \
		-addext subjectAltName=DNS:example.test -keyout key.pem \
		-out cert.pem >/dev/null 2>&1 ||
		bail_out 'cannot make a certificate with openssl'
}

# script_to_auth: STARTTLS, then PLAIN offered, up to the client's <auth>
script_to_auth() {
	cat <<SCRIPT
expect <stream:stream
send \$HEADER<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>
expect <starttls
starttls $TEST_TMP/cert.pem $TEST_TMP/key.pem
expect <stream:stream
send \$HEADER<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>
expect </auth>
SCRIPT
}

script_to_bind() {
	script_to_auth
	cat <<SCRIPT
send <success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>
expect <stream:stream
send \$HEADER<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>
expect </iq>
SCRIPT
}

script_bound() {
	echo "send <iq type='result' id='\$ID'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>$1</jid></bind></iq>"
}

script_ack() {
	echo "expect urn:xmpp:ping'/></iq>"
	echo "send <iq type='result' id='\$ID' from='example.test'/>"
}

script_goodbye() {
	printf '%s\n' 'expect </stream:stream>' 'send </stream:stream>' close
}
