# SPDX-License-Identifier: GPL-3.0-or-later
# common.sh - what the benchmark scripts share (POSIX sh, sourced):
#
#   bench_args DEFAULT "$@"   RUNS from -n RUNS (a positive number), else
#                             DEFAULT; anything else is a usage error (64)
#   die MESSAGE...            "SCRIPT: MESSAGE" on stderr, exit 1
#   median FILE COLUMN        the median of a column of numbers, over the
#                             lines whose 4th column (an exit status) is 0
#   bench_xmpctl              XMPCTL made absolute (default ./xmpctl), and
#                             it and /usr/bin/time there, else die
#   bench_prosody_home        BASE, a temporary directory removed at exit
#                             with every Prosody started under it
#                             (integration/prosody.sh sourced), and
#                             HOME and the XDG directories in it: the
#                             clients read nothing of the user's
#   xmpctl_send BIN PORT TEXT [OPTION...]
#   go_sendxmpp_send BIN PORT TEXT [OPTION...]
#                             that client sends TEXT to bob@example.test as
#                             alice ($ALICE_PASS) through 127.0.0.1:PORT,
#                             under $RUN (a command prefix, or empty) within
#                             $RUN_TIMEOUT s; xmpctl verifies the server
#                             against $TEST_CA, go-sendxmpp cannot (-n) and
#                             takes the text on stdin

die() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

bench_args() {
	RUNS=$1
	shift
	OPTIND=1
	while getopts n:h _ba_opt; do
		case $_ba_opt in
		n) RUNS=$OPTARG ;;
		*) echo "usage: $0 [-n RUNS]" >&2; exit 64 ;;
		esac
	done
	shift $((OPTIND - 1))
	if [ $# != 0 ]; then
		echo "usage: $0 [-n RUNS]" >&2
		exit 64
	fi
	case $RUNS in
	''|*[!0-9]*|0) die "-n wants a positive number, not '$RUNS'" ;;
	esac
}

bench_xmpctl() {
	XMPCTL=${XMPCTL:-./xmpctl}
	case $XMPCTL in
	/*) ;;
	*) XMPCTL=$(pwd)/$XMPCTL ;;
	esac
	[ -x "$XMPCTL" ] || die "no xmpctl binary at $XMPCTL (build it, or set XMPCTL)"
	[ -x /usr/bin/time ] || die '/usr/bin/time is needed (Debian package time)'
}

bench_prosody_home() {
	BASE=$(mktemp -d "${TMPDIR:-/tmp}/xmpctl-bench.XXXXXX") ||
		die 'cannot make a temporary directory'
	PROSODY_BASEDIR=$BASE/prosody
	. "$srcdir/integration/poll.sh"
	. "$srcdir/integration/prosody.sh"
	trap 'rc=$?; bench_cleanup; exit $rc' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
	prosody_require || exit 1
	mkdir -p "$BASE/home" "$BASE/out" || exit 1
	HOME=$BASE/home
	XDG_CONFIG_HOME=$BASE/home/.config
	XDG_DATA_HOME=$BASE/home/.local/share
	XDG_CACHE_HOME=$BASE/home/.cache
	export HOME XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME
	unset XMPCTL_PASSWORD XMPCTL_DNS_SERVER ALL_PROXY all_proxy
	LC_ALL=C
	export LC_ALL
}

# what bench_prosody_home leaves at exit; BENCH_PIDS: more to end
bench_cleanup() {
	for _bc in ${BENCH_PIDS:-}; do
		kill "$_bc" 2>/dev/null
	done
	prosody_stop_all
	rm -rf "$BASE"
}

median() {
	awk -v k="$2" '$4 == 0 { n++; v[n] = $k }
		END {
			if (!n) { print "-"; exit }
			for (i = 2; i <= n; i++) {
				x = v[i]
				for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]
				v[j + 1] = x
			}
			m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			printf "%.0f\n", m
		}' "$1"
}

xmpctl_send() {
	_xs_bin=$1 _xs_port=$2 _xs_text=$3
	shift 3
	# shellcheck disable=SC2086 # RUN is a command prefix
	XMPCTL_PASSWORD=$ALICE_PASS $RUN timeout -k 5 "$RUN_TIMEOUT" \
		"$_xs_bin" --server "127.0.0.1:$_xs_port" "$@" --cafile "$TEST_CA" \
		-j alice@example.test send bob@example.test "$_xs_text" </dev/null
}

go_sendxmpp_send() {
	_gs_bin=$1 _gs_port=$2 _gs_text=$3
	shift 3
	# shellcheck disable=SC2086 # RUN is a command prefix
	printf '%s\n' "$_gs_text" | $RUN timeout -k 5 "$RUN_TIMEOUT" \
		"$_gs_bin" -n "$@" -j "127.0.0.1:$_gs_port" \
		-u alice@example.test -p "$ALICE_PASS" bob@example.test
}
