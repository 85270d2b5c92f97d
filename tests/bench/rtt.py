# SPDX-License-Identifier: GPL-3.0-or-later
# rtt.py - helpers of send.sh (not a test).
#
#   rtt.py proxy PORT-FILE STATS-FILE TARGET-PORT DELAY-MS [FLIGHT-FILE]
#       A TCP proxy on 127.0.0.1 (its port written to PORT-FILE) to
#       127.0.0.1:TARGET-PORT that holds every chunk DELAY-MS in each
#       direction (so a round trip costs 2 * DELAY-MS) and, after each
#       connection, appends "c2s-bytes s2c-bytes round-trips tls resumed
#       all-round-trips" to STATS-FILE.  A round trip is counted each time
#       the client sends after data from the server has reached it, except
#       for a last flight that holds nothing but a TLS alert (the client's
#       close_notify after the server's closing </stream:stream>: a round
#       trip no stanza waited for); all-round-trips counts that too.  The TCP
#       handshake is not delayed.  tls is the version the ServerHello chose (1.2, 1.3, or -
#       when none was seen), resumed is "yes" when the server took up the
#       client's session (a TLS 1.3 pre-shared key, or on TLS 1.2 the session
#       ID the client offered) and "no" otherwise; both are read from the
#       plaintext hellos, after STARTTLS's <proceed/> or from the first byte.
#       With FLIGHT-FILE, it also appends each connection's flight log
#       there: a line "== c2s-bytes s2c-bytes round-trips tls resumed", then
#       one line per chunk, in the order the client saw them: milliseconds
#       since the connection, "C>" (read from the client) or "<S" (handed
#       to the client), its size, what it holds (the TLS records that begin
#       in it, type and length: hs handshake, ccs, alert, app application
#       data, or the start of plain XML before TLS) and, on a client chunk
#       that began a round trip, "RT n" (or "close" where that round trip
#       is not counted: the client's close_notify).
#
#   rtt.py run OUT-FILE COMMAND...
#       Runs COMMAND under time(1) and appends "wall-ms cpu-ms peak-rss-KiB exit-status"
#       to OUT-FILE (CPU is user + system of COMMAND and its children).
import asyncio
import os
import subprocess
import sys
import time


def run(out, argv):
    # CPU and peak RSS from time(1): a child forked from here starts with
    # this interpreter's memory, which wait4 would count until the exec
    res = out + ".time"
    t0 = time.monotonic()
    rc = subprocess.call(["/usr/bin/time", "-f", "%U %S %M", "-o", res] + argv)
    wall = (time.monotonic() - t0) * 1000
    try:
        with open(res) as f:
            u, s, rss = f.read().split()[-3:]
        os.unlink(res)
    except (OSError, ValueError):
        u, s, rss = "0", "0", "0"
    with open(out, "a") as f:
        f.write("%.1f %.0f %s %d\n" % (wall, (float(u) + float(s)) * 1000,
                                        rss, rc))
    return rc


def hello(buf, kind):
    """The first TLS handshake message of type kind (1: ClientHello,
    2: ServerHello) in buf, as (session_id, {extension type: data}), or None.
    The hello must lie in the first handshake record, as every client and
    server here sends it."""
    i = 0
    while True:
        i = buf.find(b"\x16\x03", i)
        if i < 0 or i + 9 > len(buf):
            return None
        n = int.from_bytes(buf[i + 3:i + 5], "big")
        if buf[i + 2] in (1, 3) and buf[i + 5] == kind and i + 5 + n <= len(buf):
            break
        i += 1
    b = buf[i + 9:i + 5 + n]  # after the handshake header: the hello body
    try:
        p = 2 + 32  # legacy_version, random
        sid = b[p + 1:p + 1 + b[p]]
        p += 1 + b[p]
        if kind == 1:
            p += 2 + int.from_bytes(b[p:p + 2], "big")  # cipher suites
            p += 1 + b[p]  # compression methods
        else:
            p += 2 + 1  # the chosen suite and compression
        exts = {}
        end = p + 2 + int.from_bytes(b[p:p + 2], "big") if p < len(b) else p
        p += 2
        while p + 4 <= end:
            t = int.from_bytes(b[p:p + 2], "big")
            m = int.from_bytes(b[p + 2:p + 4], "big")
            exts[t] = b[p + 4:p + 4 + m]
            p += 4 + m
        return sid, exts
    except IndexError:
        return None


def tls_of(c2s, s2c):
    """("1.2" or "1.3" or "-", "yes" or "no" or "-"): what the hellos say."""
    ch, sh = hello(c2s, 1), hello(s2c, 2)
    if sh is None:
        return "-", "-"
    sid, exts = sh
    if exts.get(0x2B) == b"\x03\x04":  # supported_versions: TLS 1.3
        return "1.3", "yes" if 0x29 in exts else "no"  # pre_shared_key
    resumed = ch is not None and len(sid) > 0 and sid == ch[0]
    return "1.2", "yes" if resumed else "no"


class Records:
    """What each chunk of one direction holds: the TLS records that begin
    in it (TLS from the first chunk that starts with a handshake record), or
    the start of its plain XML before that."""

    NAMES = {20: "ccs", 21: "alert", 22: "hs", 23: "app"}

    def __init__(self):
        self.tls = False
        self.need = 0  # bytes of the current record still to come
        self.hdr = b""  # a record header split between chunks

    def feed(self, data):
        if not self.tls:
            if data[:2] != b"\x16\x03":
                text = data[:60].decode("utf-8", "replace")
                return "xml " + "".join(c if c.isprintable() else "." for c in text)
            self.tls = True
        out = []
        i = min(self.need, len(data))
        self.need -= i
        if i:
            out.append("(+%d)" % i)
        while i < len(data):
            take = min(5 - len(self.hdr), len(data) - i)
            self.hdr += data[i:i + take]
            i += take
            if len(self.hdr) < 5:
                break
            n = int.from_bytes(self.hdr[3:5], "big")
            out.append("%s%d" % (self.NAMES.get(self.hdr[0], "?%d" % self.hdr[0]), n))
            self.hdr = b""
            take = min(n, len(data) - i)
            i += take
            self.need = n - take
        return " ".join(out)


def closing(tail):
    """Whether the client's chunks in tail (its last flight, with any server
    chunks after it) hold nothing but one TLS alert: a close_notify, which
    TLS 1.3 sends as application data of at most 32 bytes (2 bytes, the
    type, a 16-byte tag, padding), less than the shortest closing XMPP
    (</stream:stream>: 16 bytes, 33 and up)."""
    recs = " ".join(what for _, d, n, what, _ in tail
                    if d == "C>" and n).split()
    if len(recs) != 1:
        return False
    r = recs[0]
    return r.startswith("alert") or (r.startswith("app") and r[3:].isdigit()
                                     and int(r[3:]) <= 32)


async def proxy(port_file, stats_file, target, delay, flight_file=None):
    async def conn(cr, cw):
        try:
            sr, sw = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            cw.close()
            return
        st = {"c2s": 0, "s2c": 0, "rtts": 0, "last": None, "last_s": -1}
        rt_at = []  # where in flights each round trip began
        # the start of each direction, where the TLS hellos are
        head = {True: bytearray(), False: bytearray()}
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        flights = []  # (ms, direction, bytes, records, round trip)
        recs = {True: Records(), False: Records()}

        async def pump(r, w, up):
            q = asyncio.Queue()

            async def writer():
                while True:
                    due, data = await q.get()
                    now = loop.time()
                    if due > now:
                        await asyncio.sleep(due - now)
                    if data is None:
                        try:
                            w.write_eof()
                        except (OSError, RuntimeError):
                            pass
                        return
                    if not up:
                        st["last"] = "s"  # reached the client
                        flights.append(((now if due <= now else due) - t0,
                                        "<S", len(data), recs[False].feed(data), ""))
                        st["last_s"] = len(flights) - 1
                    try:
                        w.write(data)
                        await w.drain()
                    except (OSError, RuntimeError):
                        pass

            wt = asyncio.create_task(writer())
            while True:
                try:
                    data = await r.read(65536)
                except OSError:
                    data = b""
                if data and len(head[up]) < 65536:
                    head[up] += data[:65536 - len(head[up])]
                if up and data:
                    st["c2s"] += len(data)
                    rt = ""
                    if st["last"] == "s":
                        st["rtts"] += 1
                        rt = "RT %d" % st["rtts"]
                    st["last"] = "c"
                    flights.append((loop.time() - t0, "C>", len(data),
                                    recs[True].feed(data), rt))
                    if rt:
                        rt_at.append(len(flights) - 1)
                elif up:
                    flights.append((loop.time() - t0, "C>", 0, "EOF", ""))
                elif data:
                    st["s2c"] += len(data)
                q.put_nowait((loop.time() + delay, data or None))
                if not data:
                    break
            await wt

        await asyncio.gather(pump(cr, sw, True), pump(sr, cw, False))
        cw.close()
        sw.close()
        tls, resumed = tls_of(bytes(head[True]), bytes(head[False]))
        # not counted: a last client flight that is only its close_notify
        rtts = st["rtts"]
        if rt_at and closing(flights[rt_at[-1]:]):
            rtts -= 1
            ms, d, n, what, rt = flights[rt_at[-1]]
            flights[rt_at[-1]] = (ms, d, n, what, "close")
        line = "%d %d %d %s %s %d\n" % (st["c2s"], st["s2c"], rtts, tls, resumed,
                                        st["rtts"])
        # the flight log first: a reader waits for the stats line
        if flight_file:
            with open(flight_file, "a") as f:
                f.write("== " + line)
                for ms, d, n, what, rt in flights:
                    f.write("%8.1f %s %6d  %-5s %s\n" % (ms * 1000, d, n, rt, what))
        with open(stats_file, "a") as f:
            f.write(line)

    srv = await asyncio.start_server(conn, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(port_file + ".tmp", port_file)
    async with srv:
        await srv.serve_forever()


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "run":
        sys.exit(0 if run(sys.argv[2], sys.argv[3:]) >= 0 else 1)
    if len(sys.argv) in (6, 7) and sys.argv[1] == "proxy":
        asyncio.run(proxy(sys.argv[2], sys.argv[3], int(sys.argv[4]),
                          int(sys.argv[5]) / 1000.0,
                          sys.argv[6] if len(sys.argv) == 7 else None))
    sys.stderr.write("usage: rtt.py proxy PORT-FILE STATS-FILE TARGET DELAY-MS"
                     " [FLIGHT-FILE] | run OUT-FILE COMMAND...\n")
    sys.exit(64)


if __name__ == "__main__":
    main()
