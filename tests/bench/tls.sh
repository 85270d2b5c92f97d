#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# tls.sh - time a confirmed one-shot send over TLS 1.2 and TLS 1.3 with
# xmpctl and go-sendxmpp against Prosody 13 and ejabberd 24.12 on 127.0.0.1,
# over STARTTLS and direct TLS, first and later contact, and print a table.
# Not part of "make check".
#
# Usage: tests/bench/tls.sh [-n RUNS]      (default 5 runs per row)
#
#   XMPCTL       an xmpctl built against mbedTLS 2.28 (default ./xmpctl):
#                the TLS 1.2 rows
#   XMPCTL36     an xmpctl built against mbedTLS 3.6: the TLS 1.3 rows, and
#                TLS 1.2 rows of its own ("xmpctl 3.6") unless
#                XMPCTL36_TLS12=no; without it those rows are left out
#   GO_SENDXMPP  go-sendxmpp 0.14 (default: where tests/lab.sh puts it,
#                $XMPCTL_LAB_DIR/go-sendxmpp/usr/bin/go-sendxmpp); its rows
#                are left out, with a note, when it is missing
#   BENCH_KEEP=yes  keep the temporary directory (the runs' output, traces
#                and flight logs in its out/)
#   XMPCTL_LAB_DIR  where tests/lab.sh put Prosody 13 and ejabberd 24.12
#                (default ~/.cache/xmpctl-lab); a server it has not got is
#                left out with a note
#
# Method
#   - The servers are the integration tests' (tests/integration/server.sh:
#     prosody13, ejabberd24), started one after the other, each twice: as
#     the harness configures it (TLS 1.2 and 1.3 offered, so 1.3 is chosen
#     where the client has it) and limited to TLS 1.2 (Prosody: the ssl
#     option protocol = "tlsv1_2"; ejabberd: no_tlsv1_3 in its protocol
#     options).  A wrapper around prosody and ejabberdctl makes that change
#     to the configuration the harness wrote.  Both run with SASL2, Bind2,
#     FAST and stream management (XEP-0388, 0386, 0484, 0198), through the
#     harness's knobs: Prosody with PROSODY_MODULES (default smacks) and
#     PROSODY_SASL2=yes, which load smacks sasl2 sasl2_bind2 sasl2_fast
#     sasl2_sm (SERVER_FAST=no: no sasl2_fast), ejabberd with
#     mod_stream_mgmt and, EJABBERD_FAST=yes (SERVER_FAST=no: no),
#     mod_auth_fast.  Under the table, a line for each server start names
#     the modules its configuration loads.
#     Prosody gives out TLS session tickets (PROSODY_TLS_TICKETS=yes;
#     set it to no for Prosody as it ships, which resumes no session), so
#     that a later contact can resume a TLS session; ejabberd is as the
#     harness configures it.  Under the table, a line for each server
#     start says whether it resumed a session for openssl s_client.
#   - alice sends to bob, who stays offline: every message lands in bob's
#     offline store, where the "arrived" column looks for it.  Accounts are
#     the harness's (SCRAM, as each server stores them).
#   - A row is one client, server, TLS version, connection (STARTTLS or
#     direct TLS, XEP-0368) and contact.  Each of the RUNS runs of a row
#     pair starts with empty directories (HOME, XDG_CACHE_HOME,
#     XDG_DATA_HOME, XDG_CONFIG_HOME, XDG_RUNTIME_DIR): that send is a first
#     contact; a second send right after it with the same directories is a
#     later contact, with whatever the first one left there, as between two
#     runs of a real user: xmpctl's cache (XDG_CACHE_HOME/xmpctl: the
#     features it remembers) and data home (XDG_DATA_HOME/xmpctl: the FAST
#     token under fast/, the TLS ticket under tls/, the user-agent id),
#     go-sendxmpp's FAST token (~/.local/share/go-sendxmpp/JID/fast.bin: it
#     does not read XDG_DATA_HOME; a note under the table lists what it
#     kept).  Each pair runs once on loopback straight to the server and
#     once through tests/bench/rtt.py's proxy, which holds every chunk
#     DELAY_MS (default 25) in each direction, counts round trips (the
#     times the client sent again after data from the server had reached
#     it; the TCP handshake is not counted, nor a last flight that is only
#     the client's TLS close_notify after the server's </stream:stream>:
#     the "all" column counts that too; server data the
#     client did not wait for, such as TLS 1.3 session tickets, can add
#     one), writes a flight log of each connection, and reads the TLS
#     version and whether the session was resumed from the hellos.
#   - The delayed sends run traced (xmpctl -v, go-sendxmpp -d): the login
#     column names the mechanism they used (SCRAM or a FAST token, HT-*),
#     early and remem count xmpctl's sends that let the message go before
#     the server confirmed the login and that authenticated on the features
#     the cache remembered.  Under the table, for xmpctl 3.6 over direct
#     TLS 1.3 (the rows with a target: a confirmed message in at most 4
#     round trips on a first contact and 2 on a later one), the verdict and
#     the flight log of the row's last run.
#   - After each server start, every client sends one message that is not
#     timed, so that no timed send meets a server that has just started.
#   - Wall, CPU (user + system) and peak RSS come from rtt.py run (time(1));
#     medians over the runs that exited 0.
#   - A confirmed send: xmpctl send exits 0 once the server acknowledged the
#     message; go-sendxmpp runs as in send.sh and exits 0 once it has
#     written it.  "arrived" counts the messages of the row found in bob's
#     offline store, for both, and the ones stored twice (Prosody's list,
#     ejabberd's offline_msg table, each of which holds a message's text
#     once).
#   - Certificate checks: xmpctl verifies the server against the test CA;
#     go-sendxmpp cannot be given a CA file and runs with -n (no
#     verification).

srcdir=$(cd "$(dirname "$0")/.." && pwd)
. "$srcdir/bench/common.sh"
bench_args 5 "$@"

# abs PATH: PATH made absolute, its directory without . or ..
abs() {
	_abs_dir=$(cd "$(dirname "$1")" 2>/dev/null && pwd) || _abs_dir=$(dirname "$1")
	printf '%s/%s' "$_abs_dir" "$(basename "$1")"
}

XMPCTL=$(abs "${XMPCTL:-./xmpctl}")
[ -x "$XMPCTL" ] || die "no xmpctl binary at $XMPCTL (build it, or set XMPCTL)"
if [ -n "${XMPCTL36:-}" ]; then
	XMPCTL36=$(abs "$XMPCTL36")
	[ -x "$XMPCTL36" ] || die "no xmpctl binary at $XMPCTL36 (XMPCTL36)"
fi
date +%N | grep -q '^[0-9]' || die 'date +%N is not supported here'
command -v timeout >/dev/null 2>&1 || die 'timeout(1) is needed'
[ -x /usr/bin/time ] || die '/usr/bin/time is needed (Debian package time)'

PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
: "${RUN_TIMEOUT:=60}"
: "${DELAY_MS:=25}"
: "${DELIVERY_TIMEOUT:=10}"
# (lib.sh's default, taken before HOME changes below)
: "${XMPCTL_LAB_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/xmpctl-lab}"
export XMPCTL_LAB_DIR
GO_SENDXMPP=${GO_SENDXMPP:-$XMPCTL_LAB_DIR/go-sendxmpp/usr/bin/go-sendxmpp}
# SASL2, Bind2, FAST and stream management, as server.sh's server_start
# sets them up (this script calls prosody13_start and ejabberd24_start)
PROSODY_MODULES=${PROSODY_MODULES-smacks}
PROSODY_SASL2=yes
PROSODY_FAST=${SERVER_FAST:-yes}
EJABBERD_FAST=${SERVER_FAST:-yes}
EJABBERD_STREAM_MGMT=yes
export PROSODY_MODULES PROSODY_SASL2 PROSODY_FAST EJABBERD_FAST EJABBERD_STREAM_MGMT
unset PROSODY_FAST_TTL PROSODY_FAST_ROTATE EJABBERD_FAST_LIFETIME EJABBERD_FAST_REFRESH
: "${PROSODY_TLS_TICKETS:=yes}"
export PROSODY_TLS_TICKETS

BASE=$(mktemp -d "${TMPDIR:-/tmp}/xmpctl-bench.XXXXXX") ||
	die 'cannot make a temporary directory'
PROSODY_BASEDIR=$BASE/servers
EJABBERD_BASEDIR=$BASE/servers
TESTS_SRCDIR=$srcdir

# what server.sh needs of lib.sh: a server that cannot run here is a note
# in the table, not the end of the script
_skip_reason=
skip_all() {
	[ -n "$_skip_reason" ] || _skip_reason=$*
	return 1
}
bail_out() {
	die "$*"
}

# shellcheck source=SCRIPTDIR/../integration/poll.sh
. "$srcdir/integration/poll.sh"
# server.sh picks one server of the matrix: sourced once for each, it
# defines prosody13_* (and sources prosody.sh) and ejabberd24_* (ejabberd.sh)
# shellcheck source=SCRIPTDIR/../integration/server.sh
XMPCTL_TEST_SERVER=prosody13
. "$srcdir/integration/server.sh"
XMPCTL_TEST_SERVER=ejabberd24
. "$srcdir/integration/server.sh"
unset XMPCTL_TEST_SERVER

store_noted=
proxy_pids=
stop_proxies() {
	for p in $proxy_pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	proxy_pids=
}
cleanup() {
	stop_proxies
	prosody_stop_all
	ejabberd_stop_all
	if [ "${BENCH_KEEP:-no}" = yes ]; then
		echo "tls.sh: kept $BASE (out/: the runs' output, flight logs)" >&2
	else
		rm -rf "$BASE"
	fi
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

# Nothing may read the user's own configuration, cache or tokens.
mkdir -p "$BASE/out" "$BASE/bin" "$BASE/home" || exit 1
HOME=$BASE/home
export HOME
unset XMPCTL_PASSWORD XMPCTL_DNS_SERVER XDG_STATE_HOME XDG_CACHE_HOME \
	XDG_DATA_HOME XDG_CONFIG_HOME XDG_RUNTIME_DIR
LC_ALL=C
export LC_ALL

# ---- the servers' configuration ---------------------------------------------

# Wrappers of prosody and ejabberdctl: they edit the configuration the
# harness wrote (named on their command line) as BENCH_SERVER_TLS (1.2:
# TLS 1.2 only; else as written) and the FAST settings say, then run the
# real program in their place.
REAL_PROSODY_BIN=$PROSODY_BIN
REAL_EJABBERDCTL_BIN=$EJABBERDCTL_BIN
cat >"$BASE/bin/prosody" <<EOF
#!/bin/sh
# prosody -F --config FILE: FILE limited to TLS 1.2 if BENCH_SERVER_TLS=1.2
for a; do
	case \$prev in
	--config) cfg=\$a ;;
	esac
	prev=\$a
done
if [ "\$BENCH_SERVER_TLS" = 1.2 ] && [ -n "\$cfg" ]; then
	sed -i 's/\(key = "[^"]*";\)/\1 protocol = "tlsv1_2";/g' "\$cfg" || exit 1
fi
exec "$REAL_PROSODY_BIN" "\$@"
EOF
cat >"$BASE/bin/ejabberdctl" <<EOF
#!/bin/sh
# ejabberdctl --config-dir DIR ... foreground: DIR/ejabberd.yml limited to
# TLS 1.2 if BENCH_SERVER_TLS=1.2
for a; do
	case \$prev in
	--config-dir) dir=\$a ;;
	esac
	prev=\$a
done
if [ "\$prev" = foreground ] && [ -n "\$dir" ]; then
	if [ "\$BENCH_SERVER_TLS" = 1.2 ]; then
		sed -i 's/^\( *\)- "no_tlsv1_1"\$/&\n\1- "no_tlsv1_3"/' "\$dir/ejabberd.yml" || exit 1
		grep -q no_tlsv1_3 "\$dir/ejabberd.yml" || exit 1
	fi
fi
exec "$REAL_EJABBERDCTL_BIN" "\$@"
EOF
chmod +x "$BASE/bin/prosody" "$BASE/bin/ejabberdctl" || exit 1
PROSODY_BIN=$BASE/bin/prosody
EJABBERDCTL_BIN=$BASE/bin/ejabberdctl
export BENCH_SERVER_TLS

# server_up SERVER TLS: start SERVER (prosody13, ejabberd24), limited to
# TLS 1.2 if TLS is 1.2, and set PORT, TLS_PORT and STORE (where bob's
# offline messages are kept)
server_up() {
	BENCH_SERVER_TLS=$2
	case $1 in
	prosody13)
		prosody13_start "p13-$2" || return 1
		PORT=$PROSODY_PORT TLS_PORT=$PROSODY_TLS_PORT
		STORE=$PROSODY_DIR/data ;;
	ejabberd24)
		ejabberd24_start "e24-$2" || return 1
		PORT=$EJABBERD_PORT TLS_PORT=$EJABBERD_TLS_PORT
		# (its offline_msg table: the transaction log LATEST.LOG may
		# hold a message a second time)
		STORE=$EJABBERD_DIR/spool/offline_msg.DAT ;;
	esac
}

server_down() {
	case $1 in
	prosody13) prosody_stop ;;
	ejabberd24) ejabberd_stop ;;
	esac
}

# modules_of SERVER: the modules of SASL2, FAST and stream management the
# configuration of the server that runs now loads
modules_of() {
	case $1 in
	prosody13)
		sed -n 's/^[[:space:]]*"\(smacks\|sasl2[a-z0-9_]*\)";.*/\1/p' \
			"$PROSODY_DIR/prosody.cfg.lua" ;;
	ejabberd24)
		sed -n 's/^  \(mod_auth_fast\|mod_stream_mgmt\):.*/\1/p' \
			"$EJABBERD_DIR/ejabberd.yml" ;;
	esac | paste -sd' ' -
}

# server_about SERVER: its name and version, as tests/lab.sh recorded them
server_about() {
	head -n 1 "$XMPCTL_LAB_DIR/$1/version" 2>/dev/null
}

# ---- the clients ------------------------------------------------------------

# mbedtls_of BINARY: the mbedTLS version BINARY is linked with
mbedtls_of() {
	_mo_lib=$(ldd "$1" 2>/dev/null | awk '/libmbedtls\.so/ { print $3; exit }')
	[ -n "$_mo_lib" ] || { echo 'mbedTLS (not found by ldd)'; return; }
	_mo_dir=$(dirname "$_mo_lib")
	_mo_v=
	[ -f "$_mo_dir/pkgconfig/mbedtls.pc" ] &&
		_mo_v=$(sed -n 's/^Version: *//p' "$_mo_dir/pkgconfig/mbedtls.pc")
	[ -n "$_mo_v" ] || _mo_v=$(ldd "$1" | awk '/libmbedcrypto\.so/ { print $3; exit }' |
		xargs strings 2>/dev/null | sed -n 's/^mbed TLS \([0-9.]*\)$/\1/p' | head -n 1)
	echo "mbedTLS ${_mo_v:-(unknown version)} ($_mo_lib)"
}

# clients_for TLS: the clients of the TLS 1.2 or 1.3 rows
clients_for() {
	if [ "$1" = 1.2 ]; then
		_cf='xmpctl'
		[ -n "${XMPCTL36:-}" ] && [ "${XMPCTL36_TLS12:-yes}" != no ] &&
			_cf="$_cf xmpctl36"
	else
		_cf=
		[ -n "${XMPCTL36:-}" ] && _cf=xmpctl36
	fi
	[ -x "$GO_SENDXMPP" ] && _cf="${_cf:+$_cf }go-sendxmpp"
	echo "$_cf"
}

label_of() {
	case $1 in
	xmpctl) echo 'xmpctl 2.28' ;;
	xmpctl36) echo 'xmpctl 3.6' ;;
	*) echo "$1" ;;
	esac
}

# with_dirs DIR: a client's home, cache, data, configuration and runtime
# directories under DIR (made empty if FRESH=yes)
with_dirs() {
	[ "$FRESH" = yes ] && rm -rf "$1"
	mkdir -p "$1/home" "$1/cache" "$1/data" "$1/config" "$1/run" &&
		chmod 700 "$1/run" || exit 1
	HOME=$1/home XDG_CACHE_HOME=$1/cache XDG_DATA_HOME=$1/data
	XDG_CONFIG_HOME=$1/config XDG_RUNTIME_DIR=$1/run
	export HOME XDG_CACHE_HOME XDG_DATA_HOME XDG_CONFIG_HOME XDG_RUNTIME_DIR
}

# send_with CLIENT PORT TEXT: one send of TEXT from alice to bob through
# 127.0.0.1:PORT, over STARTTLS or (MODE=direct) direct TLS; the client's
# output goes to $BASE/out/last.  $RUN (if set) wraps the command; with
# TRACE=yes the client writes its trace there too (xmpctl -v,
# go-sendxmpp -d).
MODE=starttls TRACE=no
send_with() {
	if [ "$MODE" = direct ]; then
		_sw_x=--direct-tls _sw_g=-t
	else
		_sw_x='' _sw_g=''
	fi
	if [ "$TRACE" = yes ]; then
		_sw_x="$_sw_x -v" _sw_g="$_sw_g -d"
	fi
	case $1 in
	xmpctl|xmpctl36)
		_sw_bin=$XMPCTL
		[ "$1" = xmpctl36 ] && _sw_bin=$XMPCTL36
		# shellcheck disable=SC2086 # an optional word
		xmpctl_send "$_sw_bin" "$2" "$3" $_sw_x ;;
	go-sendxmpp)
		# shellcheck disable=SC2086
		go_sendxmpp_send "$GO_SENDXMPP" "$2" "$3" \
			--suppress-root-warning $_sw_g ;;
	esac >"$BASE/out/last" 2>&1
}

# arrived PATTERN: how many distinct texts matching PATTERN bob has got
# (Prosody's files and ejabberd's tables both hold the text as it came, the
# tables with other bytes right after it: PATTERN must say where it ends)
arrived() {
	grep -rhoaE -- "$1" "$STORE" 2>/dev/null | sort -u | wc -l | tr -d ' '
}

# copies PATTERN: how many copies of those texts bob has got (more than
# arrived says: a message stored twice; each server stores a message's
# text once: Prosody in bob's offline list, ejabberd in its offline_msg
# table)
copies() {
	grep -rhoaE -- "$1" "$STORE" 2>/dev/null | wc -l | tr -d ' '
}

# fast_store: the files go-sendxmpp keeps in the directories of with_dirs
# (its FAST token among them), for a note
fast_store() {
	_fs_root=$(dirname "$HOME")
	_fs=$(find "$_fs_root" -type f -path '*go-sendxmpp*' 2>/dev/null |
		sed "s|^$_fs_root/||" | sort | paste -sd' ' -)
	printf '%s' "${_fs:-no go-sendxmpp files}"
}

# how FILE CLIENT: how the traced send in FILE logged in and whether its
# message went ahead: "LOGIN EARLY REMEMBERED", LOGIN the SASL (or SASL2)
# mechanism ("?" when the trace does not say), EARLY yes when xmpctl let
# stanzas go before the server confirmed the login, REMEMBERED yes when it
# authenticated on the features its cache remembered (go-sendxmpp: "-")
how() {
	case $2 in
	go-sendxmpp)
		_hw_m=$(grep -oaE "<(authenticate|auth) [^>]*mechanism=['\"][A-Z0-9-]+" "$1" |
			sed 's/.*mechanism=.//' | tail -n 1)
		printf '%s - -\n' "${_hw_m:-?}" ;;
	*)
		_hw_m=$(sed -n 's/.*SASL2 mechanism \(HT-[A-Z0-9-]*\).*/\1/p' "$1" | tail -n 1)
		[ -n "$_hw_m" ] ||
			_hw_m=$(sed -n 's/.*SASL mechanism \([A-Z0-9-]*\).*/\1/p' "$1" | tail -n 1)
		_hw_e=no _hw_r=no
		grep -q 'stanzas may go before the server confirms' "$1" && _hw_e=yes
		grep -q 'authenticating on the features of .* remembered' "$1" && _hw_r=yes
		printf '%s %s %s\n' "${_hw_m:-?}" "$_hw_e" "$_hw_r" ;;
	esac
}

# why FILE: the first line of a client's complaint, for the notes.
why() {
	_why=$(grep -m1 . "$1" | tr -cd '[:print:]' | cut -c1-130)
	printf '%s' "${_why:-no output}"
}

# ---- the timed runs ---------------------------------------------------------

SALT=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
ROW='| %-11s | %-14s | %-3s | %-8s | %-7s | %5s | %7s | %-21s | %5s | %5s | %3s | %3s | %8s | %7s | %8s | %7s | %6s | %7s |\n'
: >"$BASE/out/table"
: >"$BASE/out/notes"
: >"$BASE/out/servers"
note() {
	printf '%s\n' "$*" >>"$BASE/out/notes"
}

# failed FILE: if the last run in FILE did not exit 0, keep the first such
# complaint of the row pair in $BASE/out/$id.why
failed() {
	[ -s "$BASE/out/$id.why" ] && return 0
	tail -n 1 "$1" | awk '$4 != 0 { exit 1 }' && return 0
	why "$BASE/out/last" >"$BASE/out/$id.why"
}

# cell SERVER TLS CLIENT: the RUNS pairs of one client on the server that
# runs now, for both connections; appends its four rows to the table
cell() {
	for MODE in starttls direct; do
		if [ "$MODE" = direct ]; then
			lport=$TLS_PORT dport=$ptls_port stats=$BASE/ptls.stats
		else
			lport=$PORT dport=$pstart_port stats=$BASE/pstart.stats
		fi
		id=$3-$1-$2-$MODE
		f=$BASE/out/$id
		for kind in first later; do
			: >"$f.$kind.loop"
			: >"$f.$kind.delay"
			: >"$f.$kind.rtts"
			: >"$f.$kind.how"
			: >"$f.$kind.flights"
		done
		i=1
		while [ "$i" -le "$RUNS" ]; do
			for kind in first later; do
				FRESH=no
				[ "$kind" = first ] && FRESH=yes
				with_dirs "$BASE/dirs/$id-loop"
				RUN="$PYTHON $srcdir/bench/rtt.py run $f.$kind.loop" \
					send_with "$3" "$lport" "tb-$SALT-$id-$kind-$i-loop"
				failed "$f.$kind.loop"
			done
			for kind in first later; do
				FRESH=no
				[ "$kind" = first ] && FRESH=yes
				with_dirs "$BASE/dirs/$id-delay"
				before=$(wc -l <"$stats")
				RUN="$PYTHON $srcdir/bench/rtt.py run $f.$kind.delay" TRACE=yes \
					send_with "$3" "$dport" "tb-$SALT-$id-$kind-$i-delay"
				failed "$f.$kind.delay"
				rc=$(tail -n 1 "$f.$kind.delay" | awk '{ print $4 }')
				# round trips, TLS version, resumed, exit status; login
				if poll_until '[ "$(wc -l <"$stats")" -gt "$before" ]' 10; then
					tail -n 1 "$stats" | awk -v rc="$rc" \
						'{ print $3, $4, $5, rc, $6 }' >>"$f.$kind.rtts"
					# the connection's flight log, last in the file
					awk '/^== / { b = "" } { b = b $0 "\n" } END { printf "%s", b }' \
						"${stats%.stats}.flights" >>"$f.$kind.flights"
				fi
				[ "$rc" = 0 ] && how "$BASE/out/last" "$3" >>"$f.$kind.how"
				cp "$BASE/out/last" "$f.$kind.trace"
				if [ "$kind" = later ] && [ "$3" = go-sendxmpp ] && [ -z "$store_noted" ]; then
					note "go-sendxmpp keeps (seen before a later contact): $(fast_store)"
					store_noted=yes
				fi
			done
			i=$((i + 1))
		done
		HOME=$BASE/home
		export HOME
		for kind in first later; do
			ok=$(cat "$f.$kind.loop" "$f.$kind.delay" | awk '$4 == 0' | wc -l)
			poll_until '[ "$(arrived "tb-$SALT-$id-$kind-[0-9]+-(loop|delay)")" -ge "$ok" ]' \
				"$DELIVERY_TIMEOUT"
			got=$(arrived "tb-$SALT-$id-$kind-[0-9]+-(loop|delay)")
			dup=$(($(copies "tb-$SALT-$id-$kind-[0-9]+-(loop|delay)") - got))
			arr="$got/$ok"
			[ "$dup" -gt 0 ] && arr="$arr+${dup}d"
			logins=$(awk '{ print $1 }' "$f.$kind.how" | sort | uniq -c |
				awk '{ printf "%s%s", (NR > 1 ? "," : ""), $2 }')
			early=$(awk '$2 == "yes"' "$f.$kind.how" | wc -l)
			remem=$(awk '$3 == "yes"' "$f.$kind.how" | wc -l)
			nhow=$(wc -l <"$f.$kind.how")
			if [ "$3" = go-sendxmpp ]; then
				early=- remem=-
			else
				early=$early/$nhow remem=$remem/$nhow
			fi
			rtts=$(awk '$4 == 0 { print $1 }' "$f.$kind.rtts" | sort -n |
				awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }')
			allrts=$(awk '$4 == 0 { print $5 }' "$f.$kind.rtts" | sort -n |
				awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }')
			seen=$(awk '{ print $2 }' "$f.$kind.rtts" | sort -u | paste -sd, -)
			resumed=$(awk '$3 == "yes"' "$f.$kind.rtts" | wc -l)
			conn=STARTTLS
			[ "$MODE" = direct ] && conn='direct'
			# shellcheck disable=SC2059 # the format is $ROW
			printf "$ROW" "$(label_of "$3")" "$SERVER_LABEL" "$2" \
				"$conn" "$kind" "$ok/$((2 * RUNS))" "$arr" \
				"${logins:--}" "$early" "$remem" "$rtts" "$allrts" "${seen:--}" "$resumed/$(wc -l <"$f.$kind.rtts")" \
				"$(median "$f.$kind.delay" 1)" "$(median "$f.$kind.loop" 1)" \
				"$(median "$f.$kind.loop" 2)" "$(median "$f.$kind.loop" 3)" \
				>>"$BASE/out/table"
		done
		if [ -s "$BASE/out/$id.why" ]; then
			note "$(label_of "$3"), $SERVER_LABEL, TLS $2, $MODE: a send failed: $(cat "$BASE/out/$id.why")"
		fi
	done
}

# warm_up SERVER TLS CLIENT: one send that is not timed, so that the timed
# ones do not meet a server that has just started (whether it worked, the
# rows say)
warm_up() {
	MODE=starttls FRESH=yes
	with_dirs "$BASE/dirs/warm-up"
	send_with "$3" "$PORT" "tb-$SALT-warm-up-$3-$1-$2"
	HOME=$BASE/home
	export HOME
}

# resumes PORT: whether the server on 127.0.0.1:PORT (direct TLS) takes up
# a TLS session it gave out: openssl s_client once, keeping its session, and
# once offering it; each opens and closes an XMPP stream, so that it ends
# when the server has closed
resumes() {
	_rs_stream="<?xml version='1.0'?><stream:stream to='example.test' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'></stream:stream>"
	rm -f "$BASE/probe.sess"
	printf '%s' "$_rs_stream" | timeout 10 openssl s_client -connect "127.0.0.1:$1" \
		-servername example.test -ign_eof -sess_out "$BASE/probe.sess" >/dev/null 2>&1
	if [ ! -s "$BASE/probe.sess" ]; then
		echo 'no (it gave out no session)'
	elif printf '%s' "$_rs_stream" | timeout 10 openssl s_client -connect "127.0.0.1:$1" \
		-servername example.test -ign_eof -sess_in "$BASE/probe.sess" 2>/dev/null |
		grep -q '^Reused'; then
		echo yes
	else
		echo no
	fi
}

start_proxies() {
	: >"$BASE/pstart.stats"
	: >"$BASE/ptls.stats"
	rm -f "$BASE/pstart.port" "$BASE/ptls.port"
	: >"$BASE/pstart.flights"
	: >"$BASE/ptls.flights"
	"$PYTHON" "$srcdir/bench/rtt.py" proxy "$BASE/pstart.port" "$BASE/pstart.stats" \
		"$PORT" "$DELAY_MS" "$BASE/pstart.flights" >"$BASE/pstart.log" 2>&1 &
	proxy_pids="$proxy_pids $!"
	"$PYTHON" "$srcdir/bench/rtt.py" proxy "$BASE/ptls.port" "$BASE/ptls.stats" \
		"$TLS_PORT" "$DELAY_MS" "$BASE/ptls.flights" >"$BASE/ptls.log" 2>&1 &
	proxy_pids="$proxy_pids $!"
	poll_until '[ -s "$BASE/pstart.port" ] && [ -s "$BASE/ptls.port" ]' 10 ||
		die "the delay proxy did not start: $(cat "$BASE/pstart.log" "$BASE/ptls.log")"
	pstart_port=$(cat "$BASE/pstart.port")
	ptls_port=$(cat "$BASE/ptls.port")
}

[ -x "$GO_SENDXMPP" ] ||
	note "go-sendxmpp: not at $GO_SENDXMPP (tests/lab.sh fetches it; or set GO_SENDXMPP): no rows"
[ -n "${XMPCTL36:-}" ] ||
	note "xmpctl 3.6: XMPCTL36 is not set: no TLS 1.3 rows for xmpctl"

t0=$(date +%s)
for server in prosody13 ejabberd24; do
	_skip_reason=
	if ! "${server}_require"; then
		note "$server: left out: ${_skip_reason:-cannot run here}"
		continue
	fi
	SERVER_LABEL=$(server_about "$server")
	[ -n "$SERVER_LABEL" ] || SERVER_LABEL=$server
	for tls in 1.3 1.2; do
		clients=$(clients_for "$tls")
		[ -n "$clients" ] || continue
		echo "tls.sh: $SERVER_LABEL, TLS $tls: $clients ($RUNS runs)" >&2
		if ! server_up "$server" "$tls" >"$BASE/out/server.log" 2>&1; then
			note "$SERVER_LABEL (TLS $tls): did not start: $(why "$BASE/out/server.log")"
			server_down "$server"
			continue
		fi
		note "$SERVER_LABEL, TLS $tls rows: modules: $(modules_of "$server")$([ "$server" = ejabberd24 ] && echo ' (SASL2 and Bind2 are built in)'); resumes a TLS session for openssl s_client: $(resumes "$TLS_PORT")"
		start_proxies
		for c in $clients; do
			warm_up "$server" "$tls" "$c"
			cell "$server" "$tls" "$c"
		done
		stop_proxies
		server_down "$server"
	done
done
t1=$(date +%s)

# ---- report -------------------------------------------------------------------

[ -s "$BASE/out/table" ] || die "no rows: $(cat "$BASE/out/notes")"
build_of() {
	if ldd "$1" 2>/dev/null | grep -q 'asan\|ubsan'; then
		echo 'sanitizer build (ASan/UBSan): times are inflated, use a plain build'
	else
		echo 'plain build'
	fi
}

# shellcheck disable=SC2059 # the format is $ROW
printf "$ROW" client server TLS conn contact ok arrived login early remem RTs all \
	'TLS seen' resumed 'delay ms' 'loop ms' 'CPU ms' 'RSS KiB'
printf "$ROW" | sed 's/ /-/g; s/-|-/ | /g; s/^|-/| /; s/-|$/ |/'
cat "$BASE/out/table"
echo
echo "ok: sends that exited 0, loopback and delayed runs; arrived: of those, the"
echo "  messages found in bob's offline store (+Nd: N messages stored twice);"
echo "  login: the mechanisms of the delayed sends that exited 0, from the client's"
echo "  trace (xmpctl -v, go-sendxmpp -d); early: of those, xmpctl's sends whose"
echo "  stanzas went before the server confirmed the login (\"stanzas may go before"
echo "  the server confirms authentication\"); remem: that authenticated on the"
echo "  features the cache remembered, without waiting for the server's;"
echo "  RTs: median round trips counted by the delay proxy (${DELAY_MS} ms each way)"
echo "  in the sends that exited 0, up to the client's </stream:stream> (a last flight"
echo "  that is only its TLS close_notify is not counted); all: counting it; TLS seen,"
echo "  resumed: the version the server chose and the runs it resumed a session in,"
echo "  read from the hellos by the proxy; delay ms: median wall through the proxy;"
echo "  loop ms, CPU ms (user+sys), RSS KiB: medians on loopback."
echo "first: empty HOME and XDG directories; later: right after a first send, with its"
echo "  directories kept (xmpctl: the cache with the features it remembers, and in the"
echo "  data home its FAST token, TLS ticket and user-agent id; go-sendxmpp: its FAST"
echo "  token under ~/.local/share).  $RUNS runs per row, $((t1 - t0)) s in all."
echo "TLS 1.2 rows: the server limited to TLS 1.2 (Prosody protocol = \"tlsv1_2\","
echo "  ejabberd no_tlsv1_3); TLS 1.3 rows: the server as the tests configure it."
echo "xmpctl 2.28: $XMPCTL, $(mbedtls_of "$XMPCTL"), $(build_of "$XMPCTL")"
echo "  (no TLS 1.3 there: TLS 1.2 rows only)"
if [ -n "${XMPCTL36:-}" ]; then
	echo "xmpctl 3.6: $XMPCTL36, $(mbedtls_of "$XMPCTL36"), $(build_of "$XMPCTL36")"
fi
if [ -x "$GO_SENDXMPP" ]; then
	echo "go-sendxmpp: $("$GO_SENDXMPP" --version 2>/dev/null | head -n 1), $GO_SENDXMPP;" \
		"runs without certificate verification (-n)"
fi
echo "servers: Prosody with PROSODY_MODULES=${PROSODY_MODULES:-(none)} and SASL2, ejabberd with" \
	"mod_auth_fast: $EJABBERD_FAST (the notes name the modules each start loaded)"
echo "  Prosody's TLS session tickets: PROSODY_TLS_TICKETS=$PROSODY_TLS_TICKETS (no: as Prosody ships)"
echo "machine: $(nproc) CPUs, $(uname -sr)"
echo "not measured: 0-RTT early data (off in Debian's mbedTLS 3.6 build); sendxmpp"
echo "  (send.sh has it); xmpctl 2.28 on TLS 1.3, which mbedTLS 2.28 does not have."
cat "$BASE/out/notes"

# The targets, and the flight log of the last run of each row they are for
for server in prosody13 ejabberd24; do
	for kind in first later; do
		f=$BASE/out/xmpctl36-$server-1.3-direct.$kind
		[ -s "$f.rtts" ] || continue
		budget=4
		[ "$kind" = later ] && budget=2
		rts=$(awk '$4 == 0 { print $1 }' "$f.rtts" | sort -n |
			awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }')
		verdict=missed
		[ "$rts" != - ] && [ "$rts" -le "$budget" ] && verdict=met
		echo
		echo "xmpctl 3.6, $server, direct TLS 1.3, $kind contact: median $rts round" \
			"trips, target <= $budget: $verdict; the last run's flights (ms, C> from the" \
			"client, <S to it, bytes, round trip, what the chunk holds):"
		awk '/^== / { b = "" } { b = b $0 "\n" } END { printf "%s", b }' "$f.flights"
	done
done
