#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""scramsalt.py PORT CAFILE USER DOMAIN [MECH]: the salt (base64) and
iteration count a server's SCRAM mechanism MECH (default SCRAM-SHA-1)
gives USER, on one line.  Connects over
STARTTLS, sends a client-first message, reads the server-first message
and leaves; nothing is authenticated."""
import base64
import os
import re
import socket
import ssl
import sys

port, cafile, user, domain = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
mech = sys.argv[5] if len(sys.argv) > 5 else "SCRAM-SHA-1"
HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='%s' "
          "version='1.0'>" % domain).encode()


def read_until(sock, pattern):
    data = b""
    while not re.search(pattern, data):
        chunk = sock.recv(65536)
        if not chunk:
            sys.exit("scramsalt: connection closed before %r" % pattern)
        data += chunk
    return data


raw = socket.create_connection(("127.0.0.1", port), timeout=20)
raw.sendall(HEADER)
read_until(raw, rb"</stream:features>")
raw.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
read_until(raw, rb"<proceed")
ctx = ssl.create_default_context(cafile=cafile)
tls = ctx.wrap_socket(raw, server_hostname=domain)
tls.sendall(HEADER)
read_until(tls, rb"</stream:features>")
nonce = base64.b64encode(os.urandom(18)).decode()
first = base64.b64encode(("n,,n=%s,r=%s" % (user, nonce)).encode()).decode()
tls.sendall(("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
             "mechanism='%s'>%s</auth>" % (mech, first)).encode())
m = re.search(rb"<challenge[^>]*>([^<]+)</challenge>",
              read_until(tls, rb"</challenge>"))
fields = dict(kv.split("=", 1) for kv in
              base64.b64decode(m.group(1)).decode().split(","))
print(fields["s"], fields["i"])
tls.close()
