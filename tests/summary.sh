#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# summary.sh [BUILDDIR] - one line totalling the test results of the last
# "make check": "42 passed, 1 failed, 3 skipped".
#
# Reads the ":test-result:" lines of automake's *.trs files under BUILDDIR
# (default: the current directory).  PASS and XFAIL count as passed; FAIL,
# XPASS and ERROR as failed; SKIP as skipped.

dir=${1:-.}
if [ ! -d "$dir" ]; then
	echo "summary.sh: no such directory: $dir" >&2
fi

find "$dir" -name '*.trs' -type f -exec cat {} + 2>/dev/null |
awk '
	$1 == ":test-result:" {
		if ($2 == "PASS" || $2 == "XFAIL") passed++
		else if ($2 == "FAIL" || $2 == "XPASS" || $2 == "ERROR") failed++
		else if ($2 == "SKIP") skipped++
	}
	END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }
'
exit 0
