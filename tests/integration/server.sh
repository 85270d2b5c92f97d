# SPDX-License-Identifier: GPL-3.0-or-later
# server.sh - the private test server chosen by XMPCTL_TEST_SERVER
# (POSIX sh, sourced after lib.sh), so that one test runs against either.
#
#   XMPCTL_TEST_SERVER   prosody (default) or ejabberd
#   server_require       skip the script unless that server can run
#   server_start         start it (prosody_start or ejabberd_start)
#   server_stop          stop it
#   server_log_has TEXT  its log holds TEXT (a fixed string); the two
#                        servers log different things, so a test asks only
#                        for what the server it runs against writes
#   alice, as            as in prosody.sh and ejabberd.sh
#
# server_start sets and exports, whichever the server:
#   SERVER_PORT SERVER_TLS_PORT SERVER_LOG   as PROSODY_* or EJABBERD_*
#   SERVER_SOFTWARE      the name it gives in disco#info: Prosody, ejabberd
# and, as both do: ALICE_PASS BOB_PASS CAROL_PASS TEST_CA OTHER_CA.

: "${XMPCTL_TEST_SERVER:=prosody}"
case $XMPCTL_TEST_SERVER in
prosody)
	. "$TESTS_SRCDIR/integration/prosody.sh"
	SERVER_SOFTWARE=Prosody ;;
ejabberd)
	. "$TESTS_SRCDIR/integration/ejabberd.sh"
	SERVER_SOFTWARE=ejabberd ;;
*)
	bail_out "XMPCTL_TEST_SERVER: unknown server '$XMPCTL_TEST_SERVER' (prosody or ejabberd)" ;;
esac
export XMPCTL_TEST_SERVER SERVER_SOFTWARE

server_require() {
	"${XMPCTL_TEST_SERVER}_require"
}

server_start() {
	"${XMPCTL_TEST_SERVER}_start" || return 1
	case $XMPCTL_TEST_SERVER in
	prosody)
		SERVER_PORT=$PROSODY_PORT
		SERVER_TLS_PORT=$PROSODY_TLS_PORT
		SERVER_LOG=$PROSODY_LOG ;;
	ejabberd)
		SERVER_PORT=$EJABBERD_PORT
		SERVER_TLS_PORT=$EJABBERD_TLS_PORT
		SERVER_LOG=$EJABBERD_LOG ;;
	esac
	export SERVER_PORT SERVER_TLS_PORT SERVER_LOG
}

server_stop() {
	"${XMPCTL_TEST_SERVER}_stop"
}

server_log_has() {
	grep -qF -- "$1" "$SERVER_LOG"
}
