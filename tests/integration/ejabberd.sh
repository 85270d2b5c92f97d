# SPDX-License-Identifier: GPL-3.0-or-later
# ejabberd.sh - a private ejabberd on 127.0.0.1 for the integration tests
# (POSIX sh, sourced), the second real server beside prosody.sh.
#
#   ejabberd_require          skip the script unless ejabberd, ejabberdctl,
#                             erl, openssl and python3 exist
#   ejabberd_start [NAME]     start an instance, with the accounts alice, bob
#                             and carol @example.test
#   ejabberd_stop [NAME]      stop it (the last one started by default)
#   alice ARGS...             (in tests) xmpctl as alice@example.test
#   as USER ARGS...           (in tests) xmpctl as USER@example.test
#                             against the instance started last
#
# EJABBERDCTL_BIN and EJABBERD_APP (its ebin/ejabberd.app) name another
# ejabberd than the system's (tests/lab.sh's).
#
# ejabberd_start exports, for the instance it started last:
#   EJABBERD_DIR       its directory (config, spool, logs, cookie)
#   EJABBERD_PORT      c2s port (STARTTLS required) on 127.0.0.1
#   EJABBERD_TLS_PORT  direct TLS (XEP-0368) port on 127.0.0.1
#   EJABBERD_LOG       its main log file
#   EJABBERD_NODE      its Erlang node name
# and, as prosody.sh (pki.sh): ALICE_PASS BOB_PASS CAROL_PASS, TEST_CA
# (which signed its certificate for example.test) and OTHER_CA.
# EJABBERD_SCRAM_HASH (e.g. sha256, ejabberd 24.12) names the hash its
# accounts are stored with, and so the SCRAM mechanism it offers.
# EJABBERD_STREAM_MGMT=no at ejabberd_start leaves out mod_stream_mgmt
# (XEP-0198), which is otherwise on, as in ejabberd's own default config.
# EJABBERD_FAST=yes at ejabberd_start (ejabberd 24.12) loads mod_auth_fast
# (XEP-0484 FAST tokens inside SASL2, which ejabberd 24.12 offers only to
# a stream header with from=; it has no option to turn SASL2 off);
# EJABBERD_FAST_LIFETIME (seconds, token_lifetime) is how long a token
# lives, EJABBERD_FAST_REFRESH (seconds, token_refresh_age) the age after
# which a login with it gets a new one.
# EJABBERD_PUBSUB=yes at ejabberd_start loads mod_pubsub: PEP on the
# accounts (XEP-0163) and the service pubsub.example.test, where local
# accounts may create nodes.
#
# EJABBERD_S2S=yes at ejabberd_start enables server-to-server (off by
# default): a listener on a port of its own on 127.0.0.1, STARTTLS
# required, dialback (mod_s2s_dialback); it exports
#   EJABBERD_S2S_PORT  that port
#
# With EJABBERD_CLIENT_CA set (a CA file), the STARTTLS port asks clients
# for a certificate signed by it and offers SASL EXTERNAL.
#
# How the Debian package (23.01) is driven here, as root and beside a
# system ejabberd that may or may not run:
# - ejabberdctl takes --config-dir, --ctl-config, --logs, --spool and
#   --node; everything else comes from the ctl config file, which it
#   sources as shell after deciding how to run the VM.  Run as root, it
#   would switch to the "ejabberd" user (su), who cannot read our files:
#   our ctl config sets EXEC_CMD=as_current_user, so the node runs as the
#   caller, like the private Prosody.
# - ERL_DIST_PORT gives the node a fixed distribution port of its own and
#   makes ejabberdctl pass -start_epmd false: no epmd is started or asked,
#   so a shared epmd (or the system node's) is never touched.  The
#   distribution listens on 127.0.0.1 only, and its cookie is a random one
#   in $EJABBERD_DIR/.erlang.cookie (HOME is pointed there), never on a
#   command line.
# - The node name is unique per script and instance, the ports are free
#   ones: the system service (node ejabberd@localhost, ports 5222...) is
#   neither disturbed nor needed.
# - "foreground" keeps the VM a child of ejabberdctl; ejabberd writes its
#   OS PID to EJABBERD_PID_PATH, and stopping sends that PID SIGTERM
#   (Erlang's orderly init:stop), then waits for it.
#
# Every instance is stopped when the script exits, even on failure or signal.
# Files go under $EJABBERD_BASEDIR (default: $TEST_TMP, as set by lib.sh).

: "${EJABBERDCTL_BIN:=ejabberdctl}"
: "${EJABBERD_START_TIMEOUT:=30}"
: "${EJABBERD_LOGLEVEL:=info}"
_ejabberd_names=

. "${TESTS_SRCDIR:-$srcdir}/integration/pki.sh"

ejabberd_require() {
	# Under a wrapper (make distcheck's valgrind) the ejabberd scripts
	# would run xmpctl's code again, already checked there against
	# Prosody; what they are for, another server's behaviour, the first
	# run has seen.  XMPCTL_EJABBERD_WRAPPED=1 runs them anyway.
	if [ -n "${TEST_WRAPPER:-}" ] && [ -z "${XMPCTL_EJABBERD_WRAPPED:-}" ] &&
		command -v skip_all >/dev/null 2>&1; then
		skip_all "ejabberd runs are skipped under a wrapper (set XMPCTL_EJABBERD_WRAPPED=1 to run them)"
	fi
	for _er_cmd in "$EJABBERDCTL_BIN" erl openssl "$_pki_python" ejabberd; do
		if [ "$_er_cmd" = ejabberd ]; then
			# the package installs no "ejabberd" command, but an
			# Erlang application
			_er_cmd='ejabberd (its Erlang application)'
			for _er_app in ${EJABBERD_APP:-/usr/lib/*/ejabberd-*/ebin/ejabberd.app \
				/usr/lib/ejabberd*/ebin/ejabberd.app}; do
				[ -f "$_er_app" ] && continue 2
			done
		elif command -v "$_er_cmd" >/dev/null 2>&1; then
			continue
		fi
		if command -v skip_all >/dev/null 2>&1; then
			skip_all "$_er_cmd not found"
		fi
		echo "ejabberd.sh: $_er_cmd not found" >&2
		return 1
	done
}

_ejabberd_base() {
	if [ -z "${EJABBERD_BASEDIR:-}" ]; then
		EJABBERD_BASEDIR=${TEST_TMP:-$(mktemp -d "${TMPDIR:-/tmp}/xmpctl-ejabberd.XXXXXX")}
	fi
	mkdir -p "$EJABBERD_BASEDIR" && EJABBERD_BASEDIR=$(cd "$EJABBERD_BASEDIR" && pwd)
}

_ejabberd_var() {
	printf '%s' "$1" | tr -c 'A-Za-z0-9_' _
}

# _ejabberdctl ARGS...: ejabberdctl for the instance in $EJABBERD_DIR.
_ejabberdctl() {
	HOME=$EJABBERD_DIR "$EJABBERDCTL_BIN" \
		--config-dir "$EJABBERD_DIR" \
		--ctl-config "$EJABBERD_DIR/ejabberdctl.cfg" \
		--logs "$EJABBERD_DIR/logs" --spool "$EJABBERD_DIR/spool" \
		--node "$EJABBERD_NODE" "$@"
}

# _ejabberd_config DIST_PORT: write the configuration of the instance in
# $EJABBERD_DIR.
_ejabberd_config() {
	cat >"$EJABBERD_DIR/ejabberdctl.cfg" <<EOF
# private test instance (sourced by ejabberdctl): run as the caller
EXEC_CMD=as_current_user
ERL_DIST_PORT=$1
ERL_OPTIONS="-kernel inet_dist_use_interface {127,0,0,1} -env ERL_CRASH_DUMP_BYTES 0"
EJABBERD_PID_PATH=$EJABBERD_DIR/ejabberd.pid
CONTRIB_MODULES_PATH=$EJABBERD_DIR/contrib
CONTRIB_MODULES_CONF_DIR=$EJABBERD_DIR/contrib/conf
EOF
	# ejabberdctl points ERL_INETRC here: resolve "localhost" (the node's
	# host) from the hosts file, no DNS
	printf '%s\n' '{lookup, [file, native]}.' \
		'{host, {127,0,0,1}, ["localhost"]}.' >"$EJABBERD_DIR/inetrc"
	_ec_verify= _ec_cafile= _ec_fast=
	if [ "${EJABBERD_FAST:-no}" = yes ]; then
		_ec_fast='  mod_auth_fast:'
		[ -z "${EJABBERD_FAST_LIFETIME:-}" ] ||
			_ec_fast="$_ec_fast
    token_lifetime: $EJABBERD_FAST_LIFETIME"
		[ -z "${EJABBERD_FAST_REFRESH:-}" ] ||
			_ec_fast="$_ec_fast
    token_refresh_age: $EJABBERD_FAST_REFRESH"
		[ "$_ec_fast" != '  mod_auth_fast:' ] || _ec_fast='  mod_auth_fast: {}'
	fi
	if [ -n "${EJABBERD_CLIENT_CA:-}" ]; then
		_ec_verify='    tls_verify: true'
		_ec_cafile="c2s_cafile: \"$EJABBERD_CLIENT_CA\""
	fi
	_ec_s2s_listen='' _ec_s2s='s2s_access: none' _ec_s2s_rule='deny' _ec_s2s_mod=''
	if [ "${EJABBERD_S2S:-no}" = yes ]; then
		_ec_s2s_listen="  -
    port: $EJABBERD_S2S_PORT
    ip: \"127.0.0.1\"
    module: ejabberd_s2s_in"
		_ec_s2s='s2s_use_starttls: required
s2s_protocol_options: TLS_OPTIONS
s2s_access: s2s'
		_ec_s2s_rule='allow'
		_ec_s2s_mod='  mod_s2s_dialback: {}'
	fi
	cat >"$EJABBERD_DIR/ejabberd.yml" <<EOF
# private test instance: loopback only, throwaway accounts
$_ec_cafile
hosts:
  - example.test
loglevel: $EJABBERD_LOGLEVEL
log_rotate_count: 0
certfiles:
  - "$EJABBERD_DIR/certs/server.pem"
  - "$EJABBERD_DIR/certs/server.key"
  - "$TEST_CA"
# as the Debian package's own configuration: TLS 1.2 or later
define_macro:
  TLS_OPTIONS:
    - "no_sslv3"
    - "no_tlsv1"
    - "no_tlsv1_1"
    - "cipher_server_preference"
    - "no_compression"
c2s_protocol_options: TLS_OPTIONS
listen:
  -
    port: $EJABBERD_PORT
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls_required: true
$_ec_verify
  -
    port: $EJABBERD_TLS_PORT
    ip: "127.0.0.1"
    module: ejabberd_c2s
    tls: true
$_ec_s2s_listen
# SCRAM stored: offers PLAIN, SCRAM-SHA-1, SCRAM-SHA-1-PLUS and X-OAUTH2
auth_method: internal
auth_password_format: scram
$([ -z "${EJABBERD_SCRAM_HASH:-}" ] || echo "auth_scram_hash: $EJABBERD_SCRAM_HASH")
# no s2s unless asked for: other domains get forbidden ("Access denied by
# service policy")
$_ec_s2s
acl:
  local:
    user_regexp: ""
access_rules:
  c2s:
    allow: all
  local:
    allow: local
  s2s:
    $_ec_s2s_rule: all
api_permissions:
  "console commands":
    from:
      - ejabberd_ctl
    who: all
    what: "*"
modules:
  mod_roster: {}
  mod_offline: {}
  mod_ping: {}
  mod_disco: {}
  mod_version: {}
  mod_carboncopy: {}
  mod_blocking: {}
  mod_privacy: {}
  mod_private: {}
  mod_vcard: {}
$([ "${EJABBERD_STREAM_MGMT:-yes}" = no ] || echo '  mod_stream_mgmt: {}')
  mod_time: {}
$_ec_s2s_mod
$_ec_fast
$([ "${EJABBERD_PUBSUB:-no}" = yes ] || exit 0
printf '%s\n' '  mod_caps: {}' '  mod_pubsub:' '    hosts:' \
	'      - pubsub.example.test' '    access_createnode: local' \
	'    plugins:' '      - flat' '      - pep')
EOF
}

# _ejabberd_register: create alice, bob and carol (in parallel; each
# ejabberdctl run is a short-lived Erlang node of its own, which may, rarely,
# pick a name another one has: such a run is tried again).
_ejabberd_register() {
	_er_pids=
	for _er_user in alice:$ALICE_PASS bob:$BOB_PASS carol:$CAROL_PASS; do
		_er_name=${_er_user%%:*}
		( _ejabberdctl register "$_er_name" example.test "${_er_user#*:}" \
			>"$EJABBERD_DIR/register.$_er_name.log" 2>&1 </dev/null ||
		  _ejabberdctl register "$_er_name" example.test "${_er_user#*:}" \
			>>"$EJABBERD_DIR/register.$_er_name.log" 2>&1 </dev/null ||
		  grep -q 'already registered' "$EJABBERD_DIR/register.$_er_name.log" ) &
		_er_pids="$_er_pids $!"
	done
	_er_rc=0
	for _er_pid in $_er_pids; do
		wait "$_er_pid" || _er_rc=1
	done
	if [ "$_er_rc" != 0 ]; then
		echo "ejabberd_start: ejabberdctl register failed:" >&2
		cat "$EJABBERD_DIR"/register.*.log >&2
	fi
	return "$_er_rc"
}

# _ejabberd_grep PATTERN: PATTERN (fixed string) is in the instance's logs.
_ejabberd_grep() {
	grep -qF -- "$1" "$EJABBERD_LOG" "$EJABBERD_DIR/stdout.log" 2>/dev/null
}

# _ejabberd_run NAME: start the configured instance and wait until both
# listeners are up.  Returns 2 if a port was taken meanwhile.
_ejabberd_run() {
	rm -rf "$EJABBERD_DIR/spool" "$EJABBERD_DIR/logs" &&
	mkdir -p "$EJABBERD_DIR/spool" "$EJABBERD_DIR/logs" || return 1
	: >"$EJABBERD_LOG"
	rm -f "$EJABBERD_DIR/ejabberd.pid"
	# a simple command, not a function, so that $! is ejabberdctl itself
	HOME=$EJABBERD_DIR "$EJABBERDCTL_BIN" \
		--config-dir "$EJABBERD_DIR" \
		--ctl-config "$EJABBERD_DIR/ejabberdctl.cfg" \
		--logs "$EJABBERD_DIR/logs" --spool "$EJABBERD_DIR/spool" \
		--node "$EJABBERD_NODE" foreground \
		>"$EJABBERD_DIR/stdout.log" 2>&1 </dev/null &
	_en_pid=$!
	_ejabberd_names="$1 $_ejabberd_names"
	eval "_ejabberd_pid_$(_ejabberd_var "$1")=$_en_pid"
	eval "_ejabberd_dir_$(_ejabberd_var "$1")=\$EJABBERD_DIR"
	eval "_ejabberd_node_$(_ejabberd_var "$1")=\$EJABBERD_NODE"

	_en_limit=$(( $(date +%s) + EJABBERD_START_TIMEOUT ))
	until _ejabberd_grep "Start accepting TCP connections at 127.0.0.1:$EJABBERD_PORT for ejabberd_c2s" &&
	      _ejabberd_grep "Start accepting TLS connections at 127.0.0.1:$EJABBERD_TLS_PORT for ejabberd_c2s" &&
	      { [ "${EJABBERD_S2S:-no}" != yes ] ||
	        _ejabberd_grep "Start accepting TCP connections at 127.0.0.1:$EJABBERD_S2S_PORT for ejabberd_s2s_in"; }
	do
		if grep -qiE 'eaddrinuse|address already in use' \
			"$EJABBERD_LOG" "$EJABBERD_DIR/stdout.log" 2>/dev/null; then
			ejabberd_stop "$1"
			return 2
		fi
		if ! kill -0 "$_en_pid" 2>/dev/null; then
			echo "ejabberd_start: ejabberd ($1) exited during start-up:" >&2
			ejabberd_log_tail "$1" >&2
			ejabberd_stop "$1"
			return 1
		fi
		if [ "$(date +%s)" -ge "$_en_limit" ]; then
			echo "ejabberd_start: ejabberd ($1) not ready after $EJABBERD_START_TIMEOUT s:" >&2
			ejabberd_log_tail "$1" >&2
			ejabberd_stop "$1"
			return 1
		fi
		sleep 0.05 # the polling interval of a wait bounded above
	done
	return 0
}

# ejabberd_start [NAME]
ejabberd_start() {
	_es_name=${1:-ejabberd}
	_ejabberd_base || return 1
	pki_make "$EJABBERD_BASEDIR/pki" || return 1
	test_passwords || return 1

	EJABBERD_DIR=$EJABBERD_BASEDIR/$_es_name
	EJABBERD_LOG=$EJABBERD_DIR/logs/ejabberd.log
	# unique per script (PID) and instance; "localhost" as the host name
	# works without DNS (see inetrc)
	EJABBERD_NODE="xmpctl-$$-$(_ejabberd_var "$_es_name")@localhost"
	rm -rf "$EJABBERD_DIR" &&
	mkdir -p "$EJABBERD_DIR/certs" &&
	chmod 700 "$EJABBERD_DIR" &&
	cp "$PKI_DIR/example.test.pem" "$EJABBERD_DIR/certs/server.pem" &&
	cp "$PKI_DIR/example.test.key" "$EJABBERD_DIR/certs/server.key" &&
	(umask 077 && random_secret >"$EJABBERD_DIR/.erlang.cookie") &&
	chmod 400 "$EJABBERD_DIR/.erlang.cookie" || return 1

	# The kernel picks free ports; should another process take one before
	# ejabberd binds it, try again with new ones.
	_es_try=1
	while :; do
		# shellcheck disable=SC2046
		set -- $(free_ports 4)
		EJABBERD_PORT=${1:-}
		EJABBERD_TLS_PORT=${2:-}
		_es_dist=${3:-}
		EJABBERD_S2S_PORT=${4:-}
		if [ -z "$EJABBERD_PORT" ] || [ -z "$EJABBERD_TLS_PORT" ] ||
		   [ -z "$_es_dist" ]; then
			echo "ejabberd_start: cannot find free ports" >&2
			return 1
		fi
		_ejabberd_config "$_es_dist" || return 1
		_ejabberd_run "$_es_name"
		case $? in
		0) break ;;
		2) if [ "$_es_try" -ge 3 ]; then
			echo "ejabberd_start: ports taken three times in a row" >&2
			return 1
		   fi ;;
		*) return 1 ;;
		esac
		_es_try=$((_es_try + 1))
	done
	# accounts live in the node's database: register once it runs
	_ejabberd_register || return 1
	export EJABBERD_DIR EJABBERD_PORT EJABBERD_TLS_PORT EJABBERD_LOG \
		EJABBERD_NODE
	[ "${EJABBERD_S2S:-no}" = yes ] && export EJABBERD_S2S_PORT
	return 0
}

# _ejabberd_is_vm PID NODE: PID is the VM of the node NODE (its command
# line names the node, which is unique to this script and instance).
_ejabberd_is_vm() {
	[ -n "$1" ] && [ -r "/proc/$1/cmdline" ] &&
		tr '\000' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qxF -- "$2"
}

# _ejabberd_child PID NODE: the child of PID (ejabberdctl) that is the VM of
# NODE, if any.
_ejabberd_child() {
	for _ec_stat in /proc/[0-9]*/stat; do
		# field 4 of stat is the parent; the name (2) has no spaces here
		read -r _ec_pid _ec_comm _ec_state _ec_ppid _ec_rest \
			2>/dev/null <"$_ec_stat" || continue
		if [ "$_ec_ppid" = "$1" ] && _ejabberd_is_vm "$_ec_pid" "$2"; then
			echo "$_ec_pid"
			return 0
		fi
	done
	return 1
}

# ejabberd_stop [NAME]: stop an instance started by ejabberd_start and wait
# for it.  Only the VM that ejabberdctl started for it is signalled.
ejabberd_stop() {
	_est_name=${1:-${_ejabberd_names%% *}}
	[ -n "$_est_name" ] || return 0
	_est_var=$(_ejabberd_var "$_est_name")
	eval "_est_ctl=\${_ejabberd_pid_$_est_var:-}"
	eval "_est_dir=\${_ejabberd_dir_$_est_var:-}"
	_ejabberd_names=$(printf '%s\n' $_ejabberd_names | grep -vx "$_est_name" | tr '\n' ' ')
	[ -n "$_est_ctl" ] || return 0
	eval "_ejabberd_pid_$_est_var="
	eval "_est_node=\${_ejabberd_node_$_est_var:-}"
	# the VM's PID as ejabberd wrote it (checked: it must be our node's);
	# else, if it has not been written yet, ejabberdctl's child
	_est_vm=
	[ -s "$_est_dir/ejabberd.pid" ] && _est_vm=$(cat "$_est_dir/ejabberd.pid")
	_ejabberd_is_vm "$_est_vm" "$_est_node" ||
		_est_vm=$(_ejabberd_child "$_est_ctl" "$_est_node")
	if [ -n "$_est_vm" ]; then
		kill -TERM "$_est_vm" 2>/dev/null
		# SIGTERM is init:stop(): the node closes its sessions and the
		# database; insist after 10 s
		_est_n=0
		while kill -0 "$_est_vm" 2>/dev/null &&
		      ! grep -q '^State:[[:space:]]*Z' "/proc/$_est_vm/status" 2>/dev/null
		do
			_est_n=$((_est_n + 1))
			if [ "$_est_n" -gt 200 ]; then
				kill -9 "$_est_vm" 2>/dev/null
				break
			fi
			sleep 0.05 # polling for its end, at most 200 times
		done
	fi
	# ejabberdctl returns once its VM has; without a VM, it is stopped
	# itself
	[ -n "$_est_vm" ] || kill "$_est_ctl" 2>/dev/null
	wait "$_est_ctl" 2>/dev/null
	return 0
}

ejabberd_stop_all() {
	while [ -n "$(printf '%s' "$_ejabberd_names" | tr -d ' ')" ]; do
		ejabberd_stop "${_ejabberd_names%% *}"
	done
}

# ejabberd_log_tail [NAME [LINES]]: the end of an instance's log, for
# diagnostics: only what was logged since ejabberd_log_mark, if it was called.
ejabberd_log_tail() {
	_elt_name=${1:-${_ejabberd_names%% *}}
	_elt_dir=$EJABBERD_BASEDIR/$_elt_name
	_elt_log=$_elt_dir/logs/ejabberd.log
	[ -f "$_elt_log" ] || return 0
	eval "_elt_from=\${_ejabberd_mark_$(_ejabberd_var "$_elt_name"):-0}"
	_elt_new=$(tail -c +"$((_elt_from + 1))" "$_elt_log" |
		tail -n "${2:-25}" | cut -c1-300 | sed 's/^/  /')
	echo "ejabberd ($_elt_name) log since the test began, at most ${2:-25} lines ($_elt_log):"
	printf '%s\n' "${_elt_new:-  (nothing)}"
	if [ -s "$_elt_dir/stdout.log" ]; then
		echo "ejabberd ($_elt_name) stdout/stderr:"
		tail -n 10 "$_elt_dir/stdout.log" | cut -c1-300 | sed 's/^/  /'
	fi
}

# ejabberd_log_mark: remember where the logs end now.
ejabberd_log_mark() {
	for _elm in $_ejabberd_names; do
		_elm_size=$(wc -c <"$EJABBERD_BASEDIR/$_elm/logs/ejabberd.log" 2>/dev/null) ||
			_elm_size=0
		eval "_ejabberd_mark_$(_ejabberd_var "$_elm")=$_elm_size"
	done
}

_ejabberd_log_tails() {
	for _elts in $_ejabberd_names; do
		ejabberd_log_tail "$_elts"
	done
}

if command -v test_atexit >/dev/null 2>&1; then
	test_atexit ejabberd_stop_all
	test_on_begin ejabberd_log_mark
	test_on_failure _ejabberd_log_tails
else
	trap 'ejabberd_stop_all' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
fi

# alice ARGS...: xmpctl (lib.sh's wrapper) as alice@example.test against the
# instance started last, trusting the test CA.
alice() {
	xmpctl --server "127.0.0.1:$EJABBERD_PORT" --cafile "$TEST_CA" \
		-j alice@example.test "$@"
}

# as USER ARGS...: the same, as USER@example.test (alice, bob or carol) with
# that user's password.
as() {
	_as_user=$1
	shift
	eval "_as_pass=\$$(echo "$_as_user" | tr a-z A-Z)_PASS"
	XMPCTL_PASSWORD=$_as_pass xmpctl --server "127.0.0.1:$EJABBERD_PORT" \
		--cafile "$TEST_CA" -j "$_as_user@example.test" "$@"
}
