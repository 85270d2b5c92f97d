#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0203-ejabberd-presence.sh - t0012-presence.sh against a private ejabberd.
XMPCTL_TEST_SERVER=ejabberd
export XMPCTL_TEST_SERVER
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/t0012-presence.sh"
