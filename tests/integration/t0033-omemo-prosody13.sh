#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0033-omemo-prosody13.sh - t0032-omemo.sh against Prosody 13 (the one
# tests/lab.sh fetches; skipped without it): its PEP, publish-options and
# offline storage.
OMEMO_SERVER=prosody13
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/t0032-omemo.sh"
