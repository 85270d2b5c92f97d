# SPDX-License-Identifier: GPL-3.0-or-later
# server.sh - the private test server chosen by XMPCTL_TEST_SERVER
# (POSIX sh, sourced after lib.sh), so that one scenario runs against each
# server of the matrix (tests/scenario/, run as tests/matrix/NAME-SERVER.sh).
#
#   XMPCTL_TEST_SERVER   prosody (default), ejabberd (the system's), or
#                        prosody13, ejabberd24: Prosody 13 and ejabberd
#                        24.12 as tests/lab.sh fetched them into
#                        XMPCTL_LAB_DIR (default as there); a script
#                        skips, saying why, where lab.sh has not got them
#   needs CAP...         skip the script unless that server can run here and
#                        has every capability named (see below)
#   server_has CAP       the server has that capability
#   server_is FAMILY     the server is of that family (prosody, ejabberd):
#                        for what only one server's software does or writes
#   server_require       skip the script unless that server can run
#   server_start         start it (prosody_start or ejabberd_start, for
#                        the lab's servers too)
#   server_stop          stop it
#   server_log_has TEXT  its log holds TEXT (a fixed string); the two
#                        servers log different things, so a test asks only
#                        for what the server it runs against writes
#   alice, as            as in prosody.sh and ejabberd.sh
#
# SERVER_CLIENT_CA (a CA file), set before server_start, makes a server that
# has sasl-external ask clients for a certificate signed by it.
#
# server_start sets and exports, whichever the server:
#   SERVER_PORT SERVER_TLS_PORT SERVER_LOG   as PROSODY_* or EJABBERD_*
#   SERVER_SOFTWARE      the name it gives in disco#info: Prosody, ejabberd
# and, as both do: ALICE_PASS BOB_PASS CAROL_PASS TEST_CA OTHER_CA.
#
# Capabilities (what a scenario may need, on top of RFC 6120 and 6121):
#   sm             stream management with resumption (XEP-0198); Prosody
#                  loads mod_smacks for a scenario that needs it
#   cb             a SCRAM -PLUS login with a channel binding (LOGIN_MECH,
#                  LOGIN_CB below), on the TLS version the build has
#   ssdp           SCRAM downgrade protection (XEP-0474): the server's
#                  hash of its offer in the SCRAM challenge
#   sasl-external  a client certificate logs in with SASL EXTERNAL
#                  (XEP-0178); Debian's Prosody 0.12 needs a community
#                  module for it
#   stream-limits  the stream features announce the server's limits
#                  (XEP-0478, <limits xmlns='urn:xmpp:stream-limits:0'>),
#                  before TLS too: Prosody 13
#   sasl2          SASL2 (XEP-0388) after TLS, to a stream header with
#                  from= (ejabberd 24.12 offers it only then)
#   bind2          Bind2 (XEP-0386) inside SASL2, with carbons, CSI and
#                  stream management enabled inline
#   fast           FAST tokens (XEP-0484, HT-SHA-256-*) inside SASL2;
#                  Prosody 13 offers them only to a header with from=
#   pubsub         PubSub (XEP-0060): PEP on the accounts (XEP-0163) and
#                  the service pubsub.example.test, where alice may
#                  create nodes; loaded for a scenario that needs it
#   sm-sasl2       stream management resumed inside SASL2 (<resume/> in
#                  <authenticate>, <sm xmlns='urn:xmpp:sm:3'/> in
#                  <inline>): Prosody 13 (mod_sasl2_sm, which needs
#                  mod_smacks, loaded for a scenario that needs it)
#
# Knobs, set before server_start (and honoured by server_has and needs):
#   SERVER_SASL2=no      a server without SASL2 (and so without Bind2 and
#                        FAST): Prosody 13 without its sasl2 modules;
#                        ejabberd 24.12 cannot turn SASL2 off, so a script
#                        that sets it before needs is skipped there
#   SERVER_FAST=no       SASL2 and Bind2 without FAST (a server restarted
#                        with SERVER_FAST=no has dropped FAST between runs)
#   SERVER_FAST_TTL=S    FAST tokens live S seconds (Prosody
#                        sasl2_fast_token_ttl, ejabberd token_lifetime)
#   SERVER_FAST_ROTATE=S a FAST login with a token older than S seconds
#                        gets a new one (Prosody sasl2_fast_token_min_ttl,
#                        ejabberd token_refresh_age)
#
# A capability not listed here is a mistake in the scenario, not one that
# no server has: needs stops the script (Bail out!) rather than skip it
# everywhere.
#
# A server of the matrix is one entry here (its family, start functions
# and capabilities) and one line of matrix_tests in Makefile.am.

: "${XMPCTL_TEST_SERVER:=prosody}"
# (lib.sh sets XMPCTL_LAB_DIR, from the real user's cache)

# _server_lab NAME: skip the script unless tests/lab.sh got NAME
# (prosody13, ejabberd24), with its reason if it said one
_server_lab() {
	[ -s "$XMPCTL_LAB_DIR/$1/version" ] && return 0
	if [ -s "$XMPCTL_LAB_DIR/$1/failed" ]; then
		skip_all "$1: tests/lab.sh could not get it: $(head -n 1 "$XMPCTL_LAB_DIR/$1/failed")"
	fi
	skip_all "$1: not in $XMPCTL_LAB_DIR (run tests/lab.sh to fetch it)"
}

case $XMPCTL_TEST_SERVER in
prosody)
	. "$TESTS_SRCDIR/integration/prosody.sh"
	SERVER_FAMILY=prosody
	SERVER_SOFTWARE=Prosody
	SERVER_CAPS='sm pubsub' ;;
ejabberd)
	. "$TESTS_SRCDIR/integration/ejabberd.sh"
	SERVER_FAMILY=ejabberd
	SERVER_SOFTWARE=ejabberd
	SERVER_CAPS='sm sasl-external pubsub' ;;
prosody13)
	PROSODY_BIN=$XMPCTL_LAB_DIR/prosody13/bin/prosody
	PROSODYCTL_BIN=$XMPCTL_LAB_DIR/prosody13/bin/prosodyctl
	. "$TESTS_SRCDIR/integration/prosody.sh"
	prosody13_require() { _server_lab prosody13 && prosody_require; }
	prosody13_start() { prosody_start "$@"; }
	prosody13_stop() { prosody_stop "$@"; }
	prosody13_log_tail() { prosody_log_tail "$@"; }
	PROSODY_PASSWORD_HASH=SHA-256
	export PROSODY_PASSWORD_HASH
	SERVER_FAMILY=prosody
	SERVER_SOFTWARE=Prosody
	SERVER_CAPS='sm stream-limits sasl2 bind2 fast sm-sasl2 pubsub' ;;
ejabberd24)
	EJABBERDCTL_BIN=$XMPCTL_LAB_DIR/ejabberd24/bin/ejabberdctl
	# its own Erlang/OTP, whether or not the system has one
	PATH=$XMPCTL_LAB_DIR/ejabberd24/usr/lib/erlang/bin:$PATH
	EJABBERD_APP=$(ls "$XMPCTL_LAB_DIR"/ejabberd24/usr/lib/*/ejabberd-24.*/ebin/ejabberd.app 2>/dev/null | head -n 1)
	. "$TESTS_SRCDIR/integration/ejabberd.sh"
	ejabberd24_require() { _server_lab ejabberd24 && ejabberd_require; }
	ejabberd24_start() { ejabberd_start "$@"; }
	ejabberd24_stop() { ejabberd_stop "$@"; }
	ejabberd24_log_tail() { ejabberd_log_tail "$@"; }
	EJABBERD_SCRAM_HASH=sha256
	export EJABBERD_SCRAM_HASH
	SERVER_FAMILY=ejabberd
	SERVER_SOFTWARE=ejabberd
	SERVER_CAPS='sm sasl-external ssdp sasl2 bind2 fast sm-sasl2 pubsub' ;;
*)
	bail_out "XMPCTL_TEST_SERVER: unknown server '$XMPCTL_TEST_SERVER' (prosody, ejabberd, prosody13 or ejabberd24)" ;;
esac
export XMPCTL_TEST_SERVER SERVER_SOFTWARE
SERVER_KNOWN_CAPS='sm cb sasl-external stream-limits ssdp sasl2 bind2 fast sm-sasl2 pubsub'

# The TLS version the build negotiates with every server (all offer
# TLS 1.3; XMPCTL_TEST_TLS, from configure, is the newest the build has),
# the start of its suites' names, the SCRAM mechanism of the accounts
# (SCRAM: Prosody 13 and ejabberd 24.12 store them with SHA-256), and
# what a login with it binds to (LOGIN_MECH, LOGIN_CB):
#   TLS 1.2: tls-unique, or tls-exporter where the server lists it
#     (XEP-0440: ejabberd 24.12);
#   TLS 1.3: tls-exporter (RFC 9266) where the server offers a -PLUS
#     mechanism (Prosody 13, ejabberd 24.12); nothing on Prosody 0.12 and
#     ejabberd 23.01, which offer none there (tls-unique does not exist
#     on TLS 1.3): those have no cb then.
TLS_VERSION=TLSv${XMPCTL_TEST_TLS:-1.2}
case $XMPCTL_TEST_SERVER in
prosody13|ejabberd24) SCRAM=SCRAM-SHA-256 ;;
*) SCRAM=SCRAM-SHA-1 ;;
esac
LOGIN_MECH=$SCRAM-PLUS
if [ "$TLS_VERSION" = TLSv1.2 ]; then
	TLS_SUITES=TLS-ECDHE-
	LOGIN_CB=tls-unique
	[ "$XMPCTL_TEST_SERVER" = ejabberd24 ] && LOGIN_CB=tls-exporter
else
	TLS_SUITES=TLS1-3-
	LOGIN_CB=tls-exporter
	case $XMPCTL_TEST_SERVER in
	prosody|ejabberd) LOGIN_MECH=$SCRAM LOGIN_CB=none ;;
	esac
fi
[ "$LOGIN_CB" = none ] || SERVER_CAPS="$SERVER_CAPS cb"

server_has() {
	case $1 in
	sasl2|bind2|fast|sm-sasl2)
		[ "${SERVER_SASL2:-yes}" = no ] && return 1 ;;
	esac
	[ "$1" = fast ] && [ "${SERVER_FAST:-yes}" = no ] && return 1
	case " $SERVER_CAPS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

server_is() {
	[ "$SERVER_FAMILY" = "$1" ]
}

# The element a login's SASL goes in: XEP-0388's <authenticate/> where the
# server offers SASL2, RFC 6120's <auth/> elsewhere (a script that sets
# SERVER_SASL2=no sets AUTH_EL=auth itself).
if server_has sasl2; then AUTH_EL=authenticate; else AUTH_EL=auth; fi

needs() {
	server_require
	for _nd_cap; do
		case " $SERVER_KNOWN_CAPS " in
		*" $_nd_cap "*) ;;
		*) bail_out "needs: unknown capability '$_nd_cap' ($SERVER_KNOWN_CAPS)" ;;
		esac
		server_has "$_nd_cap" ||
			skip_all "$XMPCTL_TEST_SERVER has no $_nd_cap (over $TLS_VERSION)"
		if { [ "$_nd_cap" = sm ] || [ "$_nd_cap" = sm-sasl2 ]; } &&
		   server_is prosody; then
			case " ${PROSODY_MODULES:-} " in
			*" smacks "*) ;;
			*) PROSODY_MODULES="${PROSODY_MODULES:+$PROSODY_MODULES }smacks" ;;
			esac
		fi
		if [ "$_nd_cap" = pubsub ]; then
			PROSODY_PUBSUB=yes EJABBERD_PUBSUB=yes
			export PROSODY_PUBSUB EJABBERD_PUBSUB
		fi
	done
}

server_require() {
	"${XMPCTL_TEST_SERVER}_require"
	if [ "${SERVER_SASL2:-yes}" = no ] && [ "$XMPCTL_TEST_SERVER" = ejabberd24 ]; then
		skip_all "ejabberd 24.12 cannot turn SASL2 off (SERVER_SASL2=no)"
	fi
}

server_start() {
	if [ -n "${SERVER_CLIENT_CA:-}" ] && server_is ejabberd; then
		EJABBERD_CLIENT_CA=$SERVER_CLIENT_CA
		export EJABBERD_CLIENT_CA
	fi
	# SASL2 and FAST on the servers that have them, and the knobs
	case $XMPCTL_TEST_SERVER in
	prosody13)
		PROSODY_SASL2=${SERVER_SASL2:-yes}
		PROSODY_FAST=${SERVER_FAST:-yes}
		PROSODY_FAST_TTL=${SERVER_FAST_TTL:-}
		PROSODY_FAST_ROTATE=${SERVER_FAST_ROTATE:-}
		export PROSODY_SASL2 PROSODY_FAST PROSODY_FAST_TTL PROSODY_FAST_ROTATE ;;
	ejabberd24)
		[ "${SERVER_SASL2:-yes}" = no ] &&
			bail_out "ejabberd 24.12 cannot turn SASL2 off (SERVER_SASL2=no): set it before needs"
		EJABBERD_FAST=${SERVER_FAST:-yes}
		EJABBERD_FAST_LIFETIME=${SERVER_FAST_TTL:-}
		EJABBERD_FAST_REFRESH=${SERVER_FAST_ROTATE:-}
		export EJABBERD_FAST EJABBERD_FAST_LIFETIME EJABBERD_FAST_REFRESH ;;
	esac
	"${XMPCTL_TEST_SERVER}_start" "$@" || return 1
	case $SERVER_FAMILY in
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
	"${XMPCTL_TEST_SERVER}_stop" "$@"
}

server_log_has() {
	grep -qF -- "$1" "$SERVER_LOG"
}
