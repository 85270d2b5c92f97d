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
    hang            read and discard until the client closes
    close           close the connection
"""
import os
import socket
import sys

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
                got = got[got.index(arg.encode()) + len(arg.encode()):]
            elif op == "send":
                conn.sendall(arg.encode())
            elif op == "repeat":
                count, _, text = arg.partition(" ")
                conn.sendall(text.encode() * int(count))
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
    except (socket.timeout, ConnectionError):
        pass
    finally:
        log.close()


if __name__ == "__main__":
    main()
