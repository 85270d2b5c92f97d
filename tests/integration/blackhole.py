#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Listeners on 127.0.0.1 that never answer a connect, for tests of
connection timeouts without the network.

usage: blackhole.py PORTFILE N

Opens N listening TCP sockets whose accept queues are full: loopback then
drops further SYNs, so a connect to them neither succeeds nor fails (a
socket that is bound but not listening would answer with a reset).  Writes
their ports, one per line, to PORTFILE and runs until killed.
"""
import os
import select
import socket
import sys

PROBE_S = 0.2   # a connect that has not completed by then is stuck
FILLERS = 16    # connects per listener before giving up


def blackhole():
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    port = lst.getsockname()[1]
    keep = [lst]
    for _ in range(FILLERS):
        s = socket.socket()
        s.setblocking(False)
        keep.append(s)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        if not select.select([], [s], [], PROBE_S)[1]:
            return port, keep
    sys.exit("blackhole.py: cannot fill an accept queue on 127.0.0.1")


def main():
    portfile, n = sys.argv[1], int(sys.argv[2])
    keep, ports = [], []
    for _ in range(n):
        port, socks = blackhole()
        ports.append(port)
        keep.extend(socks)
    with open(portfile + ".tmp", "w") as f:
        f.write("".join("%d\n" % p for p in ports))
    os.rename(portfile + ".tmp", portfile)
    while True:
        select.select([], [], [])


if __name__ == "__main__":
    main()
