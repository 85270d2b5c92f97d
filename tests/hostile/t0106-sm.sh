#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
test_done
