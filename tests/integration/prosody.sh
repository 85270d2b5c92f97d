# SPDX-License-Identifier: GPL-3.0-or-later
# prosody.sh - a private Prosody on 127.0.0.1 for the integration tests and
# the demo (POSIX sh, sourced).
#
#   prosody_require                  skip the script unless prosody and openssl exist
#   prosody_start [NAME [VARIANT]]   start an instance; VARIANT is "good" (default)
#                                    or "wrong-name" (serves a certificate for
#                                    wrong.test as example.test)
#   prosody_stop [NAME]              stop it (the last one started by default)
#   alice ARGS...                    (in tests) xmpctl as alice@example.test
#   as USER ARGS...                  (in tests) xmpctl as USER@example.test
#                                    against the instance started last
#
# prosody_start exports, for the instance it started last:
#   PROSODY_DIR       its directory (config, data, log, pid file)
#   PROSODY_PORT      c2s port (STARTTLS) on 127.0.0.1
#   PROSODY_TLS_PORT  direct TLS (XEP-0368) port on 127.0.0.1
#   PROSODY_LOG       its log file (debug level)
# and, when PROSODY_COMPONENT names a domain (e.g. blackhole.example.test),
# an external component (XEP-0114) of that name may connect to it:
#   PROSODY_COMPONENT_PORT    the component port on 127.0.0.1
#   PROSODY_COMPONENT_SECRET  the component's shared secret (hex)
# and, when PROSODY_MUC names a domain (e.g. rooms.example.test), a group
# chat service (XEP-0045, Prosody's muc component) of that name;
# PROSODY_MODULES, when set at prosody_start, names further modules to
# load (e.g. "smacks": XEP-0198 stream management, off by default so that
# the other tests see a server without it).
# PROSODY_PASSWORD_HASH (e.g. SHA-256, Prosody 13) names the hash its
# accounts are stored with, and so the SCRAM mechanism it offers.
# PROSODY_UPLOAD=yes at prosody_start adds XEP-0363 HTTP File Upload: the
# component upload.example.test (mod_http_file_share) serving HTTPS on
# 127.0.0.1 with URLs on localhost (certificate for both, from pki.sh),
# files of at most PROSODY_UPLOAD_LIMIT bytes (default 1 MiB and 512
# bytes), Prosody's defaults otherwise (PROSODY_UPLOAD_HOST, e.g.
# 127.0.0.1, puts another host in its URLs); it exports
#   PROSODY_HTTPS_PORT        that HTTPS port
# PROSODY_S2S=yes at prosody_start enables server-to-server (off by
# default): STARTTLS required, dialback (XEP-0220), on a port of its own on
# 127.0.0.1; it exports
#   PROSODY_S2S_PORT          that port
# PROSODY_PUBSUB=yes at prosody_start adds PubSub (XEP-0060): PEP on the
# accounts (mod_pep, XEP-0163) and the service pubsub.example.test
# (mod_pubsub), where alice is an admin, and so may create nodes.
# PROSODY_TLS_TICKETS=yes at prosody_start turns on TLS session tickets
# (RFC 5077), which Prosody leaves off by default.
# PROSODY_SASL2=yes at prosody_start (Prosody 13 with prosody-modules)
# loads SASL2 (XEP-0388), Bind2 (XEP-0386) and, unless PROSODY_FAST=no,
# FAST (XEP-0484: mod_sasl2_fast, which offers it only to a stream header
# with from=), and, when "smacks" is among the modules, stream management
# inside SASL2 (mod_sasl2_sm).  PROSODY_FAST_TTL (seconds,
# sasl2_fast_token_ttl) is how long a token lives, PROSODY_FAST_ROTATE
# (seconds, sasl2_fast_token_min_ttl) the age after which a login with it
# gets a new one.
# and, shared by all instances of one script:
#   ALICE_PASS BOB_PASS CAROL_PASS   throwaway passwords of alice, bob and carol
#                                    @example.test
#   TEST_CA           the CA ("xmpctl test CA") that signed the server certificates
#   OTHER_CA          an unrelated CA that signed nothing the servers use
#
# Every instance is stopped when the script exits, even on failure or signal.
# Files go under $PROSODY_BASEDIR (default: $TEST_TMP, as set by lib.sh).

: "${PROSODY_BIN:=prosody}"
: "${PROSODYCTL_BIN:=prosodyctl}"
: "${PROSODY_START_TIMEOUT:=20}"
_prosody_names=
_prosody_python=python3
[ -x /usr/bin/python3 ] && _prosody_python=/usr/bin/python3

# (the tests set TESTS_SRCDIR, the demo and the benchmark srcdir: both
# name the tests/ directory)
. "${TESTS_SRCDIR:-$srcdir}/integration/pki.sh"

prosody_require() {
	for _pr_cmd in "$PROSODY_BIN" "$PROSODYCTL_BIN" openssl "$_prosody_python"; do
		if ! command -v "$_pr_cmd" >/dev/null 2>&1; then
			if command -v skip_all >/dev/null 2>&1; then
				skip_all "$_pr_cmd not found"
			fi
			echo "prosody.sh: $_pr_cmd not found" >&2
			return 1
		fi
	done
}

_prosody_base() {
	if [ -z "${PROSODY_BASEDIR:-}" ]; then
		PROSODY_BASEDIR=${TEST_TMP:-$(mktemp -d "${TMPDIR:-/tmp}/xmpctl-prosody.XXXXXX")}
	fi
	mkdir -p "$PROSODY_BASEDIR" && PROSODY_BASEDIR=$(cd "$PROSODY_BASEDIR" && pwd)
}

# The certificates (pki.sh) are made once per script and shared by its
# instances.
_prosody_pki() {
	pki_make "$PROSODY_BASEDIR/pki" || return 1
	_pki=$PKI_DIR
}

_prosody_ports() {
	free_ports "$@"
}

# _prosody_config: write the configuration of the instance in $PROSODY_DIR.
_prosody_config() {
	_pc_tickets=
	[ "${PROSODY_TLS_TICKETS:-}" = yes ] && _pc_tickets=' options = { no_ticket = false };'
	_pc_ssl="{ certificate = \"$PROSODY_DIR/certs/server.pem\"; key = \"$PROSODY_DIR/certs/server.key\";$_pc_tickets }"
	_pc_ports='' _pc_component=''
	if [ -n "${PROSODY_COMPONENT:-}" ]; then
		_pc_ports="-- XEP-0114: external components, on loopback too
component_ports = { $PROSODY_COMPONENT_PORT }
component_interfaces = { \"127.0.0.1\" }"
		_pc_component="
Component \"$PROSODY_COMPONENT\"
	component_secret = \"$PROSODY_COMPONENT_SECRET\""
	fi
	_pc_sasl2='' _pc_fast=''
	if [ "${PROSODY_SASL2:-no}" = yes ]; then
		_pc_sasl2='sasl2 sasl2_bind2'
		[ "${PROSODY_FAST:-yes}" = no ] || _pc_sasl2="$_pc_sasl2 sasl2_fast"
		case " ${PROSODY_MODULES:-} " in
		*" smacks "*) _pc_sasl2="$_pc_sasl2 sasl2_sm" ;;
		esac
		[ -z "${PROSODY_FAST_TTL:-}" ] ||
			_pc_fast="sasl2_fast_token_ttl = $PROSODY_FAST_TTL"
		[ -z "${PROSODY_FAST_ROTATE:-}" ] ||
			_pc_fast="$_pc_fast
sasl2_fast_token_min_ttl = $PROSODY_FAST_ROTATE"
	fi
	_pc_upload='' _pc_http='"http";'
	if [ "${PROSODY_UPLOAD:-no}" = yes ]; then
		_pc_http=''
		_pc_upload="
Component \"upload.example.test\" \"http_file_share\"
	http_host = \"${PROSODY_UPLOAD_HOST:-localhost}\"
	http_file_share_size_limit = ${PROSODY_UPLOAD_LIMIT:-1049088}"
		_pc_ports="$_pc_ports
-- XEP-0363: HTTPS on loopback only, no plain HTTP
http_ports = { }
https_ports = { $PROSODY_HTTPS_PORT }
https_interfaces = { \"127.0.0.1\" }
https_ssl = { certificate = \"$PROSODY_DIR/certs/upload.pem\"; key = \"$PROSODY_DIR/certs/upload.key\"; }"
	fi
	_pc_s2s='"s2s";' _pc_s2s_mods=''
	if [ "${PROSODY_S2S:-no}" = yes ]; then
		_pc_s2s='' _pc_s2s_mods='dialback'
		_pc_ports="$_pc_ports
-- server-to-server on loopback: TLS required, dialback accepted
s2s_ports = { $PROSODY_S2S_PORT }
s2s_require_encryption = true
s2s_secure_auth = false
s2s_timeout = 30"
	fi
	_pc_pubsub='' _pc_pep=''
	if [ "${PROSODY_PUBSUB:-no}" = yes ]; then
		_pc_pep=pep
		_pc_pubsub="
Component \"pubsub.example.test\" \"pubsub\"
	admins = { \"alice@example.test\" }"
	fi
	_pc_muc=''
	if [ -n "${PROSODY_MUC:-}" ]; then
		_pc_muc="
Component \"$PROSODY_MUC\" \"muc\"
	ssl = $_pc_ssl"
	fi
	cat >"$PROSODY_DIR/prosody.cfg.lua" <<EOF
-- private test instance: loopback only, throwaway accounts
run_as_root = true
daemonize = false
pidfile = "$PROSODY_DIR/prosody.pid"
data_path = "$PROSODY_DIR/data"
certificates = "$PROSODY_DIR/certs"
log = { debug = "$PROSODY_LOG" }

interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { $PROSODY_PORT }
c2s_direct_tls_ports = { $PROSODY_TLS_PORT }
c2s_require_encryption = true
-- a stream or SASL step that never comes must not keep the test waiting
c2s_timeout = 30
$_pc_ports

modules_enabled = {
	"roster"; "saslauth"; "tls"; "disco"; "ping"; "time"; "version";
	"carbons"; "private"; "vcard_legacy"; "blocklist"; "csi_simple";
$(for _pc_m in ${PROSODY_MODULES:-} $_pc_sasl2 $_pc_s2s_mods $_pc_pep; do printf '\t"%s";\n' "$_pc_m"; done)
}
$_pc_fast
modules_disabled = { $_pc_s2s $_pc_http "bosh"; "websocket"; "admin_telnet"; "admin_shell"; }
authentication = "internal_hashed"
$([ -z "${PROSODY_PASSWORD_HASH:-}" ] || echo "password_hash = \"$PROSODY_PASSWORD_HASH\"")
storage = "internal"
allow_registration = false

-- the certificate for STARTTLS (per host) and for direct TLS (global and SNI)
ssl = $_pc_ssl
c2s_direct_tls_ssl = $_pc_ssl

VirtualHost "example.test"
	ssl = $_pc_ssl
	c2s_direct_tls_ssl = $_pc_ssl
$_pc_component
$_pc_muc
$_pc_upload
$_pc_pubsub
EOF
}

# _prosody_register: create alice, bob and carol (in parallel; accounts are
# plain data files, so this works whether or not the server runs).
_prosody_register() {
	_pr_pids=
	for _pr_user in alice:$ALICE_PASS bob:$BOB_PASS carol:$CAROL_PASS; do
		"$PROSODYCTL_BIN" --config "$PROSODY_DIR/prosody.cfg.lua" register \
			"${_pr_user%%:*}" example.test "${_pr_user#*:}" \
			>>"$PROSODY_DIR/prosodyctl.log" 2>&1 </dev/null &
		_pr_pids="$_pr_pids $!"
	done
	_pr_rc=0
	for _pr_pid in $_pr_pids; do
		wait "$_pr_pid" || _pr_rc=1
	done
	if [ "$_pr_rc" != 0 ]; then
		echo "prosody_start: prosodyctl register failed:" >&2
		cat "$PROSODY_DIR/prosodyctl.log" >&2
	fi
	return "$_pr_rc"
}

# _prosody_run NAME: start the configured instance and wait until both
# listeners are up.  Returns 2 if a port was taken meanwhile.
_prosody_run() {
	: >"$PROSODY_LOG"
	"$PROSODY_BIN" -F --config "$PROSODY_DIR/prosody.cfg.lua" \
		>"$PROSODY_DIR/stdout.log" 2>&1 </dev/null &
	_pn_pid=$!
	echo "$_pn_pid" >"$PROSODY_DIR/pid"
	_prosody_names="$1 $_prosody_names"
	eval "_prosody_pid_$(_prosody_var "$1")=$_pn_pid"

	_pn_limit=$(( $(date +%s) + PROSODY_START_TIMEOUT ))
	until grep -q "Activated service 'c2s' on \[127.0.0.1\]:$PROSODY_PORT" "$PROSODY_LOG" &&
	      grep -q "Activated service 'c2s_direct_tls' on \[127.0.0.1\]:$PROSODY_TLS_PORT" "$PROSODY_LOG" &&
	      { [ -z "${PROSODY_COMPONENT:-}" ] ||
	        grep -q "Activated service 'component' on \[127.0.0.1\]:$PROSODY_COMPONENT_PORT" "$PROSODY_LOG"; } &&
	      { [ "${PROSODY_S2S:-no}" != yes ] ||
	        grep -q "Activated service 's2s' on \[127.0.0.1\]:$PROSODY_S2S_PORT" "$PROSODY_LOG"; } &&
	      { [ "${PROSODY_UPLOAD:-no}" != yes ] ||
	        grep -q "Activated service 'https' on \[127.0.0.1\]:$PROSODY_HTTPS_PORT" "$PROSODY_LOG"; }
	do
		if grep -q "Failed to open server port" "$PROSODY_LOG"; then
			prosody_stop "$1"
			return 2
		fi
		if grep -q "	error	" "$PROSODY_LOG"; then
			echo "prosody_start: prosody ($1) reports an error:" >&2
			prosody_log_tail "$1" >&2
			return 1
		fi
		if ! kill -0 "$_pn_pid" 2>/dev/null; then
			echo "prosody_start: prosody ($1) exited during start-up:" >&2
			prosody_log_tail "$1" >&2
			return 1
		fi
		if [ "$(date +%s)" -ge "$_pn_limit" ]; then
			echo "prosody_start: prosody ($1) not ready after $PROSODY_START_TIMEOUT s:" >&2
			prosody_log_tail "$1" >&2
			return 1
		fi
		sleep 0.05
	done
	return 0
}

# prosody_start [NAME [VARIANT]]
prosody_start() {
	_ps_name=${1:-prosody}
	_ps_variant=${2:-good}
	_prosody_base || return 1
	_prosody_pki || return 1
	case $_ps_variant in
	good) _ps_cert=example.test ;;
	wrong-name) _ps_cert=wrong.test ;;
	*) echo "prosody_start: unknown variant $_ps_variant" >&2; return 1 ;;
	esac
	# All instances of a script have the same passwords.
	if [ -z "${_prosody_have_passwords:-}" ]; then
		test_passwords || return 1
		PROSODY_COMPONENT_SECRET=$(random_secret)
		export PROSODY_COMPONENT_SECRET
		_prosody_have_passwords=1
	fi

	PROSODY_DIR=$PROSODY_BASEDIR/$_ps_name
	PROSODY_LOG=$PROSODY_DIR/prosody.log
	rm -rf "$PROSODY_DIR" &&
	mkdir -p "$PROSODY_DIR/data" "$PROSODY_DIR/certs" &&
	chmod 700 "$PROSODY_DIR" &&
	cp "$_pki/$_ps_cert.pem" "$PROSODY_DIR/certs/server.pem" &&
	cp "$_pki/$_ps_cert.key" "$PROSODY_DIR/certs/server.key" &&
	cp "$_pki/upload.pem" "$_pki/upload.key" "$PROSODY_DIR/certs/" || return 1

	# The kernel picks free ports; should another process take one before
	# Prosody binds it, try again with new ones.
	_ps_try=1
	while :; do
		# shellcheck disable=SC2046
		set -- $(_prosody_ports 5)
		PROSODY_PORT=${1:-}
		PROSODY_TLS_PORT=${2:-}
		PROSODY_COMPONENT_PORT=${3:-}
		PROSODY_HTTPS_PORT=${4:-}
		PROSODY_S2S_PORT=${5:-}
		if [ -z "$PROSODY_PORT" ] || [ -z "$PROSODY_TLS_PORT" ] ||
		   [ -z "$PROSODY_COMPONENT_PORT" ]; then
			echo "prosody_start: cannot find free ports" >&2
			return 1
		fi
		_prosody_config || return 1
		if [ "$_ps_try" = 1 ]; then
			_prosody_register || return 1
		fi
		_prosody_run "$_ps_name"
		case $? in
		0) break ;;
		2) if [ "$_ps_try" -ge 3 ]; then
			echo "prosody_start: ports taken three times in a row" >&2
			return 1
		   fi ;;
		*) return 1 ;;
		esac
		_ps_try=$((_ps_try + 1))
	done
	export PROSODY_DIR PROSODY_PORT PROSODY_TLS_PORT PROSODY_LOG
	[ -n "${PROSODY_COMPONENT:-}" ] && export PROSODY_COMPONENT_PORT
	[ "${PROSODY_UPLOAD:-no}" = yes ] && export PROSODY_HTTPS_PORT
	[ "${PROSODY_S2S:-no}" = yes ] && export PROSODY_S2S_PORT
	return 0
}

_prosody_var() {
	printf '%s' "$1" | tr -c 'A-Za-z0-9_' _
}

# prosody_stop [NAME]: stop an instance started by prosody_start and wait for it.
prosody_stop() {
	_pst_name=${1:-${_prosody_names%% *}}
	[ -n "$_pst_name" ] || return 0
	eval "_pst_pid=\${_prosody_pid_$(_prosody_var "$_pst_name"):-}"
	_prosody_names=$(printf '%s\n' $_prosody_names | grep -vx "$_pst_name" | tr '\n' ' ')
	[ -n "$_pst_pid" ] || return 0
	eval "_prosody_pid_$(_prosody_var "$_pst_name")="
	kill "$_pst_pid" 2>/dev/null || return 0
	# Prosody closes its sessions and exits on SIGTERM; insist after 5 s.
	_pst_n=0
	while kill -0 "$_pst_pid" 2>/dev/null; do
		_pst_n=$((_pst_n + 1))
		if [ "$_pst_n" -gt 100 ]; then
			kill -9 "$_pst_pid" 2>/dev/null
			break
		fi
		sleep 0.05
	done
	wait "$_pst_pid" 2>/dev/null
	return 0
}

prosody_stop_all() {
	while [ -n "$(printf '%s' "$_prosody_names" | tr -d ' ')" ]; do
		prosody_stop "${_prosody_names%% *}"
	done
}

# prosody_log_tail [NAME [LINES]]: the end of an instance's log, for
# diagnostics: only what was logged since prosody_log_mark, if it was called.
prosody_log_tail() {
	_plt_name=${1:-${_prosody_names%% *}}
	_plt_dir=$PROSODY_BASEDIR/$_plt_name
	[ -f "$_plt_dir/prosody.log" ] || return 0
	eval "_plt_from=\${_prosody_mark_$(_prosody_var "$_plt_name"):-0}"
	_plt_new=$(tail -c +"$((_plt_from + 1))" "$_plt_dir/prosody.log" |
		tail -n "${2:-25}" | cut -c1-300 | sed 's/^/  /')
	echo "prosody ($_plt_name) log since the test began, at most ${2:-25} lines ($_plt_dir/prosody.log):"
	printf '%s\n' "${_plt_new:-  (nothing)}"
	if [ -s "$_plt_dir/stdout.log" ]; then
		echo "prosody ($_plt_name) stdout/stderr:"
		tail -n 10 "$_plt_dir/stdout.log" | sed 's/^/  /'
	fi
}

# prosody_log_mark: remember where the logs end now.
prosody_log_mark() {
	for _plm in $_prosody_names; do
		_plm_size=$(wc -c <"$PROSODY_BASEDIR/$_plm/prosody.log" 2>/dev/null) ||
			_plm_size=0
		eval "_prosody_mark_$(_prosody_var "$_plm")=$_plm_size"
	done
}

_prosody_log_tails() {
	for _plts in $_prosody_names; do
		prosody_log_tail "$_plts"
	done
}

if command -v test_atexit >/dev/null 2>&1; then
	test_atexit prosody_stop_all
	test_on_begin prosody_log_mark
	test_on_failure _prosody_log_tails
else
	trap 'prosody_stop_all' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
fi

# alice ARGS...: xmpctl (lib.sh's wrapper) as alice@example.test against the
# instance started last, trusting the test CA.
alice() {
	xmpctl --server "127.0.0.1:$PROSODY_PORT" --cafile "$TEST_CA" \
		-j alice@example.test "$@"
}

# as USER ARGS...: the same, as USER@example.test (alice, bob or carol) with
# that user's password.
as() {
	_as_user=$1
	shift
	eval "_as_pass=\$$(echo "$_as_user" | tr a-z A-Z)_PASS"
	XMPCTL_PASSWORD=$_as_pass xmpctl --server "127.0.0.1:$PROSODY_PORT" \
		--cafile "$TEST_CA" -j "$_as_user@example.test" "$@"
}
