#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A man in the middle that holds a valid certificate for the domain.

usage: cbrelay.py MODE PORTFILE SERVER_PORT CERT KEY CAFILE

Listens on 127.0.0.1 (a free port, written to PORTFILE) and relays one
connection to the XMPP server on 127.0.0.1:SERVER_PORT.  Plaintext is
passed on until the server's <proceed/>; then it ends TLS from the client
itself (with CERT and KEY, a certificate the client trusts) and opens its
own TLS to the server (verified with CAFILE): two TLS connections, so
each side sees other channel-binding data.  MODE says what it does to
the server's bytes inside TLS:
    pass     nothing
    strip    removes the -PLUS mechanisms from <mechanisms/>
    ssdp     adds a XEP-0474 "h" attribute (a wrong one) to the first
             SASL challenge
"""
import base64
import os
import re
import select
import socket
import ssl
import sys
import threading

PLUS = re.compile(rb"<mechanism>SCRAM-SHA-(1|256)-PLUS</mechanism>")
CHALLENGE = re.compile(rb"(<challenge[^>]*>)([A-Za-z0-9+/=]+)(</challenge>)")


def tamper(mode, data, state):
    if mode == "strip":
        return PLUS.sub(b"", data)
    if mode == "ssdp" and not state.get("done"):
        m = CHALLENGE.search(data)
        if m:
            state["done"] = True
            first = base64.b64decode(m.group(2)) + b",h=AAAAAAAAAAAAAAAAAAAAAAAAAAA="
            return (data[:m.start()] + m.group(1) + base64.b64encode(first) +
                    m.group(3) + data[m.end():])
    return data


def send_all(dst, data):
    view = memoryview(data)
    while view:
        try:
            n = dst.send(view)
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
            select.select([dst], [dst], [], 30)
            continue
        view = view[n:]


def pump(tclient, tserver, fn):
    """Relay both ways in one thread: an OpenSSL connection must not be
    read in one thread while another writes to it."""
    route = {tclient: (tserver, None), tserver: (tclient, fn)}
    for s in route:
        s.setblocking(False)
    try:
        while True:
            ready = [s for s in route if s.pending()]
            if not ready:
                ready = select.select(list(route), [], [], 30)[0]
                if not ready:
                    return
            for s in ready:
                try:
                    data = s.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError,
                        BlockingIOError):
                    continue
                if not data:
                    return
                dst, f = route[s]
                send_all(dst, f(data) if f else data)
    except (OSError, ssl.SSLError):
        pass
    finally:
        for s in route:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def until(src, dst, mark):
    seen = b""
    while mark not in seen:
        data = src.recv(65536)
        if not data:
            return False
        seen += data
        dst.sendall(data)
    return True


def main():
    mode, portfile, server_port, cert, key, cafile = sys.argv[1:7]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    # rename: the port file appears complete or not at all
    os.rename(portfile + ".tmp", portfile)
    srv.settimeout(30)
    client, _ = srv.accept()
    client.settimeout(30)
    server = socket.create_connection(("127.0.0.1", int(server_port)), 30)
    # plaintext, both ways: the client's side up to its <starttls/>, the
    # server's up to its <proceed/>; the next bytes are TLS, ours
    up = threading.Thread(target=until, args=(client, server, b"<starttls"))
    up.start()
    ok = until(server, client, b"<proceed")
    up.join()
    if not ok:
        return
    to_client = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    to_client.load_cert_chain(cert, key)
    tclient = to_client.wrap_socket(client, server_side=True)
    to_server = ssl.create_default_context(cafile=cafile)
    # the TLS version the client has: the server offers and lists the
    # bindings of that version (Prosody: tls-unique only on TLS 1.2,
    # tls-exporter only on TLS 1.3)
    v = {"TLSv1.2": ssl.TLSVersion.TLSv1_2,
         "TLSv1.3": ssl.TLSVersion.TLSv1_3}[tclient.version()]
    to_server.minimum_version = to_server.maximum_version = v
    tserver = to_server.wrap_socket(server, server_hostname="example.test")
    state = {}
    pump(tclient, tserver, lambda d: tamper(mode, d, state))


if __name__ == "__main__":
    main()
