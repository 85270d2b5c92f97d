#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0021-rtt.sh - fewer round trips: direct TLS (XEP-0368) first at equal
# SRV priority, answered by a fake DNS server on loopback.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"

# The installed xmpctl has no DNS test hook: use the build that has it.
XMPCTL=${XMPCTL_TESTHOOKS:-$TESTS_BUILDDIR/integration/xmpctl-testhooks}
prosody_require
prosody_start >/dev/null 2>&1 || bail_out 'cannot start Prosody'
XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD

# by weight alone STARTTLS would come first in 65534 of 65535 draws
test_expect_success 'equal SRV priority: _xmpps-client first, whatever the weights' '
	dns "_xmpp-client._tcp.example.test=5:65534:$PROSODY_PORT:localhost" \
	    "_xmpps-client._tcp.example.test=5:1:$PROSODY_TLS_PORT:localhost" &&
	for i in 1 2 3; do
		xmpctl -j alice@example.test --cafile "$TEST_CA" login >out-srv.$i &&
		test_grep "^server  *localhost port $PROSODY_TLS_PORT (SRV _xmpps-client._tcp)\$" out-srv.$i ||
		return 1
	done
'

test_done
