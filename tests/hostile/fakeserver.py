#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A scripted XMPP server for what a real server won't do.

usage: fakeserver.py SCRIPT PORTFILE LOGFILE

Listens on 127.0.0.1 (a free port, written to PORTFILE), serves one
connection following SCRIPT, and records every byte the client sent in
LOGFILE.  SCRIPT lines:
    expect TEXT     read until TEXT has arrived (gives up after 20 s)
    send TEXT       send TEXT ($HEADER is a stream header; \\n, \\r and
                    \\e (ESC) and \\C (U+009B, CSI)
                    escapes are expanded)
    repeat N TEXT   send TEXT N times
    flood TEXT      send TEXT over and over, never reading, until the
                    client goes away
    starttls CERT KEY [CLIENTCA]  answer <starttls/> with <proceed/> and
                    become the TLS server with this certificate and key;
                    with CLIENTCA, require a client certificate it signed
    starttls-noems CERT KEY  the same, refusing the extended master secret
                    (RFC 7627), which only TLS 1.2 has: no TLS 1.3 then
    hang            read and discard until the client closes
    close           close the connection
    reconnect       break the connection (no goodbye) and serve the next
                    one the client makes, with the steps that follow
    note TEXT       write TEXT into LOGFILE (tells the connections apart)
In TEXT, $ID is the last id='...' the client sent before the text the
latest expect step matched.
"""
import os
import re
import socket
import ssl
import sys

# OpenSSL 3's SSL_OP_NO_EXTENDED_MASTER_SECRET (Python names it not)
SSL_OP_NO_EXTENDED_MASTER_SECRET = 0x1
STREAM_HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams' "
                 "id='fake' from='example.test' version='1.0'>")


def main():
    script, portfile, logfile = sys.argv[1:4]
    steps = []
    with open(script) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            op, _, arg = line.partition(" ")
            arg = arg.replace("$HEADER", STREAM_HEADER)
            arg = arg.replace("\\n", "\n").replace("\\r", "\r")
            arg = arg.replace("\\e", "\x1b").replace("\\C", "\u009b")
            steps.append((op, arg))
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    # rename: the port file appears complete or not at all
    os.rename(portfile + ".tmp", portfile)
    srv.settimeout(30)
    conn, _ = srv.accept()
    conn.settimeout(20)
    got = b""
    last_id = ""
    log = open(logfile, "wb")
    try:
        for op, arg in steps:
            if op == "expect":
                while arg.encode() not in got:
                    data = conn.recv(65536)
                    if not data:
                        return
                    got += data
                    log.write(data)
                    log.flush()
                at = got.index(arg.encode())
                ids = re.findall(rb"\bid=['\"]([^'\"]*)['\"]", got[:at])
                if ids:
                    last_id = ids[-1].decode()
                got = got[at + len(arg.encode()):]
            elif op == "send":
                conn.sendall(arg.replace("$ID", last_id).encode())
            elif op in ("starttls", "starttls-noems"):
                cert, _, key = arg.partition(" ")
                key, _, clientca = key.partition(" ")
                conn.sendall(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
                tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                tls.load_cert_chain(cert, key)
                if clientca:
                    tls.verify_mode = ssl.CERT_REQUIRED
                    tls.load_verify_locations(clientca)
                if op == "starttls-noems":
                    tls.options |= SSL_OP_NO_EXTENDED_MASTER_SECRET
                    tls.maximum_version = ssl.TLSVersion.TLSv1_2
                    # the client's order of signature algorithms: mbedTLS
                    # 3.6 offers RSA-PSS for TLS 1.3 only and lists
                    # PKCS#1 v1.5 first for a TLS 1.2 server like this
                    tls.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
                conn = tls.wrap_socket(conn, server_side=True)
                got = b""
            elif op == "repeat":
                count, _, text = arg.partition(" ")
                conn.sendall(text.encode() * int(count))
            elif op == "flood":
                chunk = arg.encode() * max(1, 65536 // max(1, len(arg)))
                conn.settimeout(120)
                while True:
                    conn.sendall(chunk)
            elif op == "hang":
                while True:
                    data = conn.recv(65536)
                    if not data:
                        return
                    log.write(data)
                    log.flush()
            elif op == "close":
                conn.close()
                return
            elif op == "note":
                log.write(arg.encode())
                log.flush()
            elif op == "reconnect":
                conn.close()
                conn, _ = srv.accept()
                conn.settimeout(20)
                got = b""
    except (socket.timeout, ConnectionError, ssl.SSLError):
        pass
    finally:
        log.close()


if __name__ == "__main__":
    main()
