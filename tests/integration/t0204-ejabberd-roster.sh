#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0204-ejabberd-roster.sh - t0013-roster.sh against a private ejabberd.
XMPCTL_TEST_SERVER=ejabberd
export XMPCTL_TEST_SERVER
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/t0013-roster.sh"
