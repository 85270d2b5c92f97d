#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0209-ejabberd-session.sh - t0020-session.sh against ejabberd: commands
# through a session holder (session start|stop|status).
XMPCTL_TEST_SERVER=ejabberd
export XMPCTL_TEST_SERVER
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/t0020-session.sh"
