#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0205-ejabberd-script.sh - t0014-script.sh against a private ejabberd: the
# same scripts, so what they expect is what RFC 6120 and 6121 ask of any
# server.
XMPCTL_TEST_SERVER=ejabberd
export XMPCTL_TEST_SERVER
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/t0014-script.sh"
