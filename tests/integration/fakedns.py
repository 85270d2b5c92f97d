#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A DNS server on 127.0.0.1 that answers SRV queries from a fixed table,
for tests that exercise SRV lookups (RFC 2782) without the network.

usage: fakedns.py PORTFILE NAME=PRIO:WEIGHT:PORT:TARGET ...
       fakedns.py PORTFILE --silent

Listens on a free UDP port (written to PORTFILE), answers each SRV query
for a NAME in the table with its records, anything else with NXDOMAIN.
With --silent it reads every query and never answers: a DNS server that
has gone quiet.  Every query read is written to PORTFILE.queries ("TYPE
NAME" a line), so that a test can tell that none came.  Runs until killed.
"""
import os
import socket
import struct
import sys


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def main():
    portfile = sys.argv[1]
    silent = sys.argv[2:] == ["--silent"]
    table = {}
    for spec in [] if silent else sys.argv[2:]:
        name, _, rec = spec.partition("=")
        prio, weight, port, target = rec.split(":", 3)
        table.setdefault(name.lower().rstrip("."), []).append(
            (int(prio), int(weight), int(port), target))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    with open(portfile + ".tmp", "w") as f:
        f.write(str(sock.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    log = open(portfile + ".queries", "a", buffering=1)
    while True:
        query, peer = sock.recvfrom(512)
        if len(query) < 12:
            log.write("malformed\n")
            continue
        qid = query[:2]
        # the question: labels, then type and class
        i, labels = 12, []
        while i < len(query) and query[i]:
            labels.append(query[i + 1:i + 1 + query[i]].decode(errors="replace"))
            i += 1 + query[i]
        question = query[12:i + 5]
        qtype = struct.unpack(">H", query[i + 1:i + 3])[0] if i + 3 <= len(query) else 0
        name = ".".join(labels).lower()
        log.write("%d %s\n" % (qtype, name))
        if silent:
            continue
        records = table.get(name, []) if qtype == 33 else []
        rcode = 0 if name in table else 3
        flags = 0x8400 | rcode  # response, authoritative
        answer = b""
        for prio, weight, port, target in records:
            rdata = struct.pack(">HHH", prio, weight, port) + encode_name(target)
            answer += (b"\xc0\x0c" + struct.pack(">HHIH", 33, 1, 60, len(rdata))
                       + rdata)
        header = qid + struct.pack(">HHHHH", flags, 1, len(records), 0, 0)
        sock.sendto(header + question + answer, peer)


if __name__ == "__main__":
    main()
