#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Fuzz with clang's libFuzzer: every target (or the ones named) for
# SECONDS each, starting from the seed corpus in tests/fuzz/corpus/.
#
#   tests/fuzz/run.sh SECONDS [TARGET...]      e.g. run.sh 30, run.sh 3600 xml
#
# Needs a configured tree (./configure has run: its config.h and library
# flags are used) and clang with libFuzzer (Debian: clang,
# libclang-rt-14-dev).  The targets are built with -fsanitize=fuzzer,
# address,undefined straight from the sources into a directory of their
# own, so the tree's build is left alone; which sources each target needs
# comes from Makefile.am.
#
# Environment: FUZZ_DIR, the build and work directory (default: a new one
# under $TMPDIR, kept when a target fails); FUZZ_JOBS, targets fuzzed at
# once (default 2); BUILDDIR, the
# configured tree (default: the source tree); CLANG (default: clang).
#
# Exit status 0 when no target failed; 1 when one crashed, leaked, hung
# or broke a property: its report and a reproducer are printed, and
# `tests/fuzz/fuzz_TARGET FILE` (built by make check) replays the file.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
builddir=$(cd "${BUILDDIR:-$src}" && pwd)
clang=${CLANG:-clang}

usage() {
    echo "usage: $0 SECONDS [TARGET...]" >&2
    exit 64
}
case "${1:-}" in
'' | *[!0-9]*) usage ;;
esac
secs=$1
shift

if [ ! -f "$builddir/config.h" ] || [ ! -f "$builddir/Makefile" ]; then
    echo "fuzz: no configured tree in $builddir: run ./configure first" >&2
    exit 2
fi
if ! command -v "$clang" >/dev/null; then
    echo "fuzz: $clang not found (Debian: apt-get install clang" \
         "libclang-rt-14-dev, or ./bootstrap --deps)" >&2
    exit 2
fi

# A variable of Makefile.am (continuation lines joined), or of the
# configured Makefile.
am_var() {
    awk -v name="$1" '
        { line = $0 }
        joining { buf = buf " " line }
        !joining && $1 == name && $2 == "=" { buf = line; joining = 1 }
        joining && !/\\$/ { print buf; exit }
        joining { sub(/\\$/, "", buf) }
    ' "$2" | sed 's/^[^=]*= *//; s/\\//g; s/[[:space:]][[:space:]]*/ /g'
}

all=$(am_var fuzz_tests "$src/Makefile.am" | tr ' ' '\n' |
      sed -n 's|^tests/fuzz/fuzz_||p')
targets=${*:-$all}
for t in $targets; do
    case " $(echo $all) " in
    *" $t "*) ;;
    *) echo "fuzz: no target '$t' (targets: $(echo $all))" >&2; exit 64 ;;
    esac
done

out=${FUZZ_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/xmpctl-fuzz.XXXXXX")}
mkdir -p "$out/obj" || exit 2
jobs=${FUZZ_JOBS:-2}

mk() { am_var "$1" "$builddir/Makefile"; }
libs="$(mk EXPAT_LIBS) $(mk GSASL_LIBS) $(mk OMEMO_LIBS) $(mk MBEDTLS_LIBS)
      $(mk RESOLV_LIBS) $(mk PTHREAD_LIBS)"
cflags="-std=c11 -g -O1 -DHAVE_CONFIG_H -DXML_DTD=1 -I$builddir -I$src/lib
        $(mk EXPAT_CFLAGS) $(mk GSASL_CFLAGS) $(mk OMEMO_CFLAGS)
        -fsanitize=fuzzer-no-link,address,undefined
        -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

# ---- build ------------------------------------------------------------
start=$(date +%s)
# one object per source file, the library's and the targets' alike
sources=$(for t in $targets; do
              am_var "tests_fuzz_fuzz_${t}_SOURCES" "$src/Makefile.am"
          done
          am_var lib_libxmp_a_SOURCES "$src/Makefile.am")
sources=$(echo $sources | tr ' ' '\n' | grep '\.c$' | grep -v driver.c |
          sort -u)
obj() { echo "$out/obj/$(echo "$1" | tr / _ | sed 's/\.c$/.o/')"; }
export clang cflags src out
if ! for f in $sources; do echo "$f $(obj "$f")"; done |
     xargs -P "$jobs" -L 1 sh -c \
         '$clang $cflags -c "$src/$0" -o "$1" || exit 255' \
         > "$out/build.log" 2>&1; then
    cat "$out/build.log"
    echo "fuzz: build failed" >&2
    exit 2
fi
libobjs=$(for f in $(am_var lib_libxmp_a_SOURCES "$src/Makefile.am"); do
              case $f in *.c) obj "$f" ;; esac
          done)
rm -f "$out/libxmp.a"
ar cr "$out/libxmp.a" $libobjs || exit 2
for t in $targets; do
    objs=$(for f in $(am_var "tests_fuzz_fuzz_${t}_SOURCES" "$src/Makefile.am"); do
               case $f in *driver.c | *.h) ;; *.c) obj "$f" ;; esac
           done)
    # shellcheck disable=SC2086
    if ! $clang $cflags -fsanitize=fuzzer $objs "$out/libxmp.a" $libs \
             -o "$out/fuzz_$t" >> "$out/build.log" 2>&1; then
        cat "$out/build.log"
        echo "fuzz: cannot link fuzz_$t" >&2
        exit 2
    fi
done
echo "fuzz: built $(echo $targets | wc -w) targets in" \
     "$(( $(date +%s) - start )) s in $out"

# ---- fuzz -------------------------------------------------------------
# The XML and session targets read streams: let inputs grow.
max_len() {
    case $1 in
    xml | parse | session) echo 65536 ;;
    *) echo 4096 ;;
    esac
}

fuzz_one() {
    t=$1
    mkdir -p "$out/corpus/$t" "$out/crash/$t"
    # new inputs go to the work corpus; the seeds are only read
    "$out/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$(max_len "$t")" -print_final_stats=1 \
        -artifact_prefix="$out/crash/$t/" \
        "$out/corpus/$t" "$src/tests/fuzz/corpus/$t" > "$out/$t.log" 2>&1
    echo $? > "$out/$t.status"
}

start=$(date +%s)
running=0
for t in $targets; do
    fuzz_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

failed=0
for t in $targets; do
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
    cov=$(grep -o 'cov: [0-9]*' "$out/$t.log" | tail -n 1)
    if [ "$(cat "$out/$t.status")" = 0 ]; then
        echo "fuzz: $t: ok, ${runs:-?} runs, ${cov:-cov: ?}"
        continue
    fi
    failed=1
    echo "===== fuzz: $t FAILED; its report:"
    grep -v '^#[0-9]\|^INFO:\|^ *NEW_FUNC\|^MS:' "$out/$t.log" | tail -n 80
    for f in "$out/crash/$t"/*; do
        [ -f "$f" ] || continue
        echo "----- reproducer $f ($(wc -c < "$f") bytes), base64:"
        base64 "$f" | head -n 200
        echo "----- to replay: base64 -d > input <<EOF ... EOF;" \
             "tests/fuzz/fuzz_$t input (make check build) or" \
             "$out/fuzz_$t input"
    done
done
echo "fuzz: fuzzed $(echo $targets | wc -w) targets for ${secs} s each in" \
     "$(( $(date +%s) - start )) s ($jobs at once)"
if [ "$failed" = 0 ] && [ -z "${FUZZ_DIR:-}" ]; then
    rm -rf "$out"
fi
exit "$failed"
