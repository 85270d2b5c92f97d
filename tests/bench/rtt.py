# SPDX-License-Identifier: GPL-3.0-or-later
# rtt.py - helpers of send.sh (not a test).
#
#   rtt.py proxy PORT-FILE STATS-FILE TARGET-PORT DELAY-MS
#       A TCP proxy on 127.0.0.1 (its port written to PORT-FILE) to
#       127.0.0.1:TARGET-PORT that holds every chunk DELAY-MS in each
#       direction (so a round trip costs 2 * DELAY-MS) and, after each
#       connection, appends "c2s-bytes s2c-bytes round-trips tls resumed"
#       to STATS-FILE.  A round trip is counted each time the client sends
#       after data from the server has reached it; the TCP handshake is not
#       delayed, and a final wait for the server's closing reply is not
#       counted.  tls is the version the ServerHello chose (1.2, 1.3, or -
#       when none was seen), resumed is "yes" when the server took up the
#       client's session (a TLS 1.3 pre-shared key, or on TLS 1.2 the session
#       ID the client offered) and "no" otherwise; both are read from the
#       plaintext hellos, after STARTTLS's <proceed/> or from the first byte.
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


async def proxy(port_file, stats_file, target, delay):
    async def conn(cr, cw):
        try:
            sr, sw = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            cw.close()
            return
        st = {"c2s": 0, "s2c": 0, "rtts": 0, "last": None}
        # the start of each direction, where the TLS hellos are
        head = {True: bytearray(), False: bytearray()}
        loop = asyncio.get_running_loop()

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
                    if st["last"] == "s":
                        st["rtts"] += 1
                    st["last"] = "c"
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
        with open(stats_file, "a") as f:
            f.write("%d %d %d %s %s\n" % (st["c2s"], st["s2c"], st["rtts"],
                                          tls, resumed))

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
    if len(sys.argv) == 6 and sys.argv[1] == "proxy":
        asyncio.run(proxy(sys.argv[2], sys.argv[3], int(sys.argv[4]),
                          int(sys.argv[5]) / 1000.0))
    sys.stderr.write("usage: rtt.py proxy PORT-FILE STATS-FILE TARGET DELAY-MS"
                     " | run OUT-FILE COMMAND...\n")
    sys.exit(64)


if __name__ == "__main__":
    main()
