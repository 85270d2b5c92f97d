#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# multi.sh - two accounts in one process and one poll loop (multi.c),
# against each server of the matrix.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

needs
server_start >/dev/null 2>&1 || bail_out "cannot start $XMPCTL_TEST_SERVER"
export ALICE_PASS BOB_PASS
# shellcheck disable=SC2086 # TEST_WRAPPER is a command line
timeout -k 5 60 $TEST_WRAPPER "$TESTS_BUILDDIR/integration/multi" \
	"127.0.0.1:$SERVER_PORT" "$TEST_CA"
rc=$?
[ "$rc" = 0 ] || "${XMPCTL_TEST_SERVER}_log_tail" 2>/dev/null | sed 's/^/# /'
exit "$rc"
