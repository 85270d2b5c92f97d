#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0006-multi.sh - two accounts in one process and one poll loop (multi.c),
# against a private Prosody.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

prosody_require
prosody_start >/dev/null 2>&1 || bail_out 'cannot start Prosody'
export ALICE_PASS BOB_PASS
# shellcheck disable=SC2086 # TEST_WRAPPER is a command line
timeout -k 5 60 $TEST_WRAPPER "$TESTS_BUILDDIR/integration/multi" \
	"127.0.0.1:$PROSODY_PORT" "$TEST_CA"
rc=$?
[ "$rc" = 0 ] || prosody_log_tail 2>/dev/null | sed 's/^/# /'
exit "$rc"
