#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0025-hints.sh - errors that name the option that fits: STARTTLS to a
# port that expects TLS at once (Prosody's direct TLS port, which drops
# the connection, and a server that answers with a TLS alert), direct TLS
# to a STARTTLS port (Prosody answers the ClientHello in plain XML), and
# permission advice with no chmod for a file that is not a regular one.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

prosody_require
prosody_start >/dev/null 2>&1 || bail_out 'cannot start Prosody'
XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD

# to PORT ARGS...: a login of alice through 127.0.0.1 PORT
to() {
	_port=$1
	shift
	xmpctl --server "127.0.0.1:$_port" --cafile "$TEST_CA" \
		-j alice@example.test --timeout 10 "$@" login
}

test_expect_success 'STARTTLS to the direct TLS port: 69, and a hint' '
	expect_exit 69 to "$PROSODY_TLS_PORT" 2>err-d &&
	test_grep -E "^xmpctl: connection to 127\.0\.0\.1 port $PROSODY_TLS_PORT (reset|closed) before an answer: it may expect TLS at once; try --direct-tls$" err-d
'

# a server that answers the stream header with a TLS alert
# (protocol_version), as TLS stacks other than OpenSSL's do
alert_pid=
alert_stop() {
	[ -n "$alert_pid" ] && kill "$alert_pid" 2>/dev/null
	return 0
}
test_atexit alert_stop
python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.recv(4096)
c.sendall(b"\x15\x03\x03\x00\x02\x02\x46")
c.close()
' >alert.port &
alert_pid=$!
wait_for 'test -s alert.port' 20 'the alert server to listen' ||
	bail_out 'the alert server does not listen'

test_expect_success 'STARTTLS to a port that answers with TLS: 79, use --direct-tls' '
	expect_exit 79 to "$(cat alert.port)" 2>err-a &&
	test_grep -Fx "xmpctl: 127.0.0.1 port $(cat alert.port) answered with TLS, not XMPP: it expects TLS at once; use --direct-tls" err-a
'

test_expect_success 'direct TLS to the STARTTLS port: 79, leave out --direct-tls' '
	expect_exit 79 to "$PROSODY_PORT" --direct-tls 2>err-s &&
	test_grep -Fx "xmpctl: 127.0.0.1 port $PROSODY_PORT answered in plain XML: it expects STARTTLS; leave out --direct-tls" err-s
'

test_expect_success '--password-file /dev/null: 78, what it is, no chmod' '
	expect_exit 78 to "$PROSODY_PORT" --password-file /dev/null 2>err-n &&
	test_grep -Fx "xmpctl: password file /dev/null can be changed by other users; refusing to use it (/dev/null is a character device, not a regular file)" err-n &&
	test_grep ! chmod err-n
'

test_expect_success '--password-file on a FIFO others may write: 78, no chmod' '
	mkfifo pw-fifo && chmod 622 pw-fifo &&
	expect_exit 78 to "$PROSODY_PORT" --password-file pw-fifo 2>err-f &&
	test_grep -Fx "xmpctl: password file pw-fifo can be changed by other users; refusing to use it (pw-fifo is a FIFO, not a regular file)" err-f &&
	test_grep ! chmod err-f
'

test_expect_success '... a regular file of ours gets the chmod to run' '
	echo secret >pw-file && chmod 644 pw-file &&
	expect_exit 78 to "$PROSODY_PORT" --password-file pw-file 2>err-r &&
	test_grep -Fx "xmpctl: password file pw-file can be read by others; run '\''chmod 600 pw-file'\''" err-r
'

test_done
