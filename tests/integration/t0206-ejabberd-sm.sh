#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0206-ejabberd-sm.sh - t0019-sm.sh against a private ejabberd
# (mod_stream_mgmt, built in).
XMPCTL_TEST_SERVER=ejabberd
export XMPCTL_TEST_SERVER
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/t0019-sm.sh"
