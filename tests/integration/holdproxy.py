#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A TCP relay on 127.0.0.1 whose test decides when connections go through
and when they break, by creating files.

usage: holdproxy.py PORTFILE TARGET-PORT RELEASE-FILE DROP-FILE

Listens on a free port (written to PORTFILE).  A connection is accepted at
once but held, nothing read and nothing relayed, until RELEASE-FILE exists;
from then on it is relayed to 127.0.0.1:TARGET-PORT, both ways.  When
DROP-FILE appears, every open connection is closed on both sides and the
file is removed (new connections are relayed as before).  What happens is
written to stdout, a line per event ("accepted 1", "relayed 1",
"dropped 1", "closed 1").  Runs until killed.
"""
import os
import select
import socket
import sys

# how often the trigger files are looked at, in seconds
POLL_S = 0.05


def say(text):
    print(text, flush=True)


def main():
    portfile, target, release, drop = sys.argv[1], int(sys.argv[2]), \
        sys.argv[3], sys.argv[4]
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(lsock.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)

    held = []      # (number, client socket) waiting for RELEASE-FILE
    peer = {}      # socket -> the socket at the other end of its relay
    number = {}    # socket -> connection number, for the log
    count = 0
    while True:
        if held and os.path.exists(release):
            for n, client in held:
                server = socket.create_connection(("127.0.0.1", target))
                peer[client], peer[server] = server, client
                number[client] = number[server] = n
                say("relayed %d" % n)
            held = []
        if os.path.exists(drop):
            for n in sorted(set(number.values())):
                say("dropped %d" % n)
            for s in list(peer):
                s.close()
            peer.clear()
            number.clear()
            for _, client in held:
                client.close()
            held = []
            os.unlink(drop)
        readable, _, _ = select.select([lsock] + list(peer), [], [], POLL_S)
        for s in readable:
            if s is lsock:
                client, _ = lsock.accept()
                count += 1
                held.append((count, client))
                say("accepted %d" % count)
                continue
            if s not in peer:
                continue  # closed with its peer in this round
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            other = peer[s]
            if data:
                try:
                    other.sendall(data)
                    continue
                except OSError:
                    pass
            say("closed %d" % number[s])
            for x in (s, other):
                x.close()
                del peer[x]
                del number[x]


if __name__ == "__main__":
    main()
