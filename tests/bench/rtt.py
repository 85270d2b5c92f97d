# SPDX-License-Identifier: GPL-3.0-or-later
# rtt.py - helpers of send.sh (not a test).
#
#   rtt.py proxy PORT-FILE STATS-FILE TARGET-PORT DELAY-MS
#       A TCP proxy on 127.0.0.1 (its port written to PORT-FILE) to
#       127.0.0.1:TARGET-PORT that holds every chunk DELAY-MS in each
#       direction (so a round trip costs 2 * DELAY-MS) and, after each
#       connection, appends "c2s-bytes s2c-bytes round-trips" to STATS-FILE.
#       A round trip is counted each time the client sends after data from
#       the server has reached it; the TCP handshake is not delayed, and a
#       final wait for the server's closing reply is not counted.
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


async def proxy(port_file, stats_file, target, delay):
    async def conn(cr, cw):
        try:
            sr, sw = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            cw.close()
            return
        st = {"c2s": 0, "s2c": 0, "rtts": 0, "last": None}
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
        with open(stats_file, "a") as f:
            f.write("%d %d %d\n" % (st["c2s"], st["s2c"], st["rtts"]))

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
