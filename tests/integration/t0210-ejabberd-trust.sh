#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0210-ejabberd-trust.sh - tests/integration/trust.sh against a private ejabberd: the password
# decides every login whatever the cache holds, and no file under $HOME
# holds anything that logs in as the password does.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
XMPCTL_TEST_SERVER=ejabberd
. "$TESTS_SRCDIR/integration/server.sh"
. "$TESTS_SRCDIR/integration/trust.sh"
test_done
