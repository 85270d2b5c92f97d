# SPDX-License-Identifier: GPL-3.0-or-later
# poll.sh - waiting for a condition, never for a fixed time (POSIX sh,
# sourced by lib.sh and prosody.sh, and so by the tests, the demo and the
# benchmark).

# poll_until CONDITION SECONDS: evaluate the shell code CONDITION until it
# succeeds (status 0) or SECONDS pass (status 1).  The 50 ms pause is the
# polling interval towards that deadline: what is awaited is always the
# condition itself, so a slow machine only waits longer.
poll_until() {
	_pu_limit=$(( $(date +%s) + $2 ))
	until eval "$1" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$_pu_limit" ] && return 1
		sleep 0.05
	done
	return 0
}
