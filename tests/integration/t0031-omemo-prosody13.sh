#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0031-omemo-prosody13.sh - t0030-omemo.sh against Prosody 13 (the one
# tests/lab.sh fetches; skipped without it): its PEP, publish-options and
# offline storage.
OMEMO_SERVER=prosody13
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/t0030-omemo.sh"
