#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# upload.sh - the memory an upload takes: xmpctl send --file of 1, 20 and
# 100 MiB to a private Prosody's upload service (mod_http_file_share) on
# 127.0.0.1, each file's wall time and the client's peak RSS from
# /usr/bin/time -v, printed as a table.  Not part of "make check", and not
# a timed test: what it shows is that the peak RSS stays flat whatever the
# size, the body going out through a fixed 64 KiB buffer.
#
# Usage: tests/bench/upload.sh              (SIZES="1 20 100", in MiB)
#
# xmpctl comes from $XMPCTL, else ./xmpctl; build it without
# --enable-sanitizers, whose shadow memory would hide what is measured.
# Each file is fetched back from its URL and compared with what was sent.

srcdir=$(cd "$(dirname "$0")/.." && pwd)
. "$srcdir/bench/common.sh"
bench_args 1 "$@"

bench_xmpctl
: "${SIZES:=1 20 100}"
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3

bench_prosody_home

# room for the largest file, and Prosody's daily quota (ten times it)
_max=0
for _s in $SIZES; do
	[ "$_s" -gt "$_max" ] && _max=$_s
done
PROSODY_UPLOAD=yes
PROSODY_UPLOAD_LIMIT=$(( (_max + 1) * 1048576 ))
prosody_start bench || die 'Prosody did not start'

printf '%-10s %10s %14s %8s\n' 'size' 'wall (s)' 'peak RSS (KiB)' 'status'
for size in $SIZES; do
	f=$BASE/out/file-$size.bin
	head -c $((size * 1048576)) /dev/urandom >"$f" || die "cannot make $f"
	XMPCTL_PASSWORD=$ALICE_PASS /usr/bin/time -v -o "$BASE/out/time" \
		"$XMPCTL" --server "127.0.0.1:$PROSODY_PORT" --cafile "$TEST_CA" \
		-j alice@example.test send --file "$f" bob@example.test \
		>"$BASE/out/stdout" 2>"$BASE/out/stderr" </dev/null
	rc=$?
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$BASE/out/time" |
		awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }')
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$BASE/out/time")
	if [ "$rc" = 0 ]; then
		# the URL bob got, fetched back and compared
		url=$(grep -o "https://localhost:$PROSODY_HTTPS_PORT/[^\"<]*/file-$size.bin" \
			"$PROSODY_DIR/data/example%2etest/offline/bob.list" | tail -n 1)
		"$PYTHON" -c '
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[3])
with urllib.request.urlopen(sys.argv[1], context=ctx, timeout=60) as r, open(sys.argv[2], "rb") as f:
    while True:
        a, b = r.read(1 << 20), f.read(1 << 20)
        if a != b:
            sys.exit(1)
        if not a:
            break
' "$url" "$f" "$TEST_CA" || rc=mismatch
	fi
	printf '%-10s %10s %14s %8s\n' "$size MiB" "$wall" "$rss" "$rc"
	[ "$rc" = 0 ] || sed 's/^/  /' "$BASE/out/stderr" >&2
	rm -f "$f"
done
