#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# check-source.sh - machine-checked rules for the source tree (TAP):
# licence headers, banned calls, and the layering seam (cli/ sees the
# protocol layer only through lib/xmp.h).
top=${TESTS_SRCDIR:-$(dirname "$0")}/..
cd "$top" || exit 1
n=0
failed=0
check() { # check DESCRIPTION OUTPUT-OF-OFFENDERS
    n=$((n + 1))
    if [ -z "$2" ]; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1"
        printf '%s\n' "$2" | sed 's/^/#   /'
        failed=1
    fi
}
sources=$(ls lib/*.c lib/*.h cli/*.c cli/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h tests/integration/*.c)

check "every C file carries an SPDX licence line" \
    "$(for f in $sources; do head -n 2 "$f" | grep -q 'SPDX-License-Identifier: GPL-3.0-or-later' || echo "$f"; done)"
check "every shell script carries an SPDX licence line" \
    "$(for f in bootstrap .ci/run tests/*.sh tests/integration/*.sh tests/scenario/*.sh tests/integration/*.zsh tests/hostile/*.sh tests/hostile/*.py tests/integration/*.py tests/bench/*.sh; do head -n 3 "$f" | grep -q 'SPDX-License-Identifier: GPL-3.0-or-later' || echo "$f"; done)"
# curl's list: unbounded or unchecked string and number handling.
check "no banned calls (strcpy strcat sprintf vsprintf gets strtok atoi atol sscanf)" \
    "$(grep -nE '(^|[^_a-z])(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|sscanf)[[:space:]]*\(' $sources | grep -v 'snprintf\|vsnprintf')"
# every header of lib/ but xmp.h is private, whatever its name
private=$(cd lib && ls *.h | grep -vx 'xmp\.h' | sed 's/\./\\./' | paste -sd'|' -)
check "cli/ includes no private lib header ($(echo "$private" | tr -d '\\' | tr '|' ' '))" \
    "$(grep -nE "#include [\"<]([^\">]*/)?($private)[\">]" cli/*.c cli/*.h)"
check "cli/ names no backend library" \
    "$(grep -nE '#include <(mbedtls|expat|gsasl)' cli/*.c cli/*.h)"
check "lib/ never prints or exits" \
    "$(grep -nE '(^|[^_a-z])(f?printf|f?puts|putchar|fputc|fwrite|perror|exit|abort)[[:space:]]*\(' lib/*.c)"
check "only tls_mbedtls.c names mbedTLS" \
    "$(grep -ln 'mbedtls' lib/*.c | grep -v tls_mbedtls.c)"
# the README's map of files: every source, test and page by its name
check "the README's map names every file" \
    "$(for f in lib/*.[ch] cli/*.[ch] man/*.1 tests/*.sh tests/*.supp \
        tests/unit/*.[ch] tests/fuzz/*.[ch] tests/fuzz/*.sh \
        tests/integration/*.sh tests/integration/*.py tests/integration/*.c \
        tests/integration/*.zsh tests/scenario/*.sh tests/hostile/*.sh \
        tests/hostile/*.py tests/bench/*; do
        [ -e "$f" ] || continue
        grep -qF "${f##*/}" README || echo "$f"; done)"
echo "1..$n"
exit $failed
