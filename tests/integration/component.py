#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""An external component (XEP-0114) that never answers: whatever is sent
to its domain is received and ignored.

usage: component.py PORT DOMAIN SECRET LOG

Connects to 127.0.0.1:PORT, opens a jabber:component:accept stream for
DOMAIN, authenticates with the handshake (XEP-0114 §3: hex SHA-1 of the
stream id followed by SECRET), then writes everything it receives to
LOG.  Once the server has accepted the handshake, the line "ready" is
written to LOG first.  Ends when the server closes the connection.
"""
import hashlib
import re
import socket
import sys

# how long the handshake may take, in seconds
HANDSHAKE_TIMEOUT_S = 20


def main():
    port, domain, secret, log = int(sys.argv[1]), sys.argv[2], \
        sys.argv[3], sys.argv[4]
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(HANDSHAKE_TIMEOUT_S)
    sock.sendall((
        "<?xml version='1.0'?><stream:stream"
        " xmlns='jabber:component:accept'"
        " xmlns:stream='http://etherx.jabber.org/streams'"
        " to='%s'>" % domain).encode())
    got = b""
    while not re.search(rb"<stream:stream[^>]*>", got):
        data = sock.recv(4096)
        if not data:
            sys.exit("component.py: the server closed the stream: %r" % got)
        got += data
    header = re.search(rb"<stream:stream[^>]*>", got).group(0)
    sid = re.search(rb"""\sid=['"]([^'"]*)['"]""", header).group(1)
    digest = hashlib.sha1(sid + secret.encode()).hexdigest()
    sock.sendall(("<handshake>%s</handshake>" % digest).encode())
    while not re.search(rb"<handshake\s*/>|<handshake>\s*</handshake>", got):
        data = sock.recv(4096)
        got += data
        if not data or b"<stream:error" in got:
            sys.exit("component.py: handshake refused: %r" % got)
    sock.settimeout(None)
    with open(log, "ab", buffering=0) as out:
        out.write(b"ready\n")
        while True:
            data = sock.recv(65536)
            if not data:
                break
            out.write(data)


if __name__ == "__main__":
    main()
