# SPDX-License-Identifier: GPL-3.0-or-later
# common.sh - what the benchmark scripts share (POSIX sh, sourced):
#
#   bench_args DEFAULT "$@"   RUNS from -n RUNS (a positive number), else
#                             DEFAULT; anything else is a usage error (64)
#   die MESSAGE...            "SCRIPT: MESSAGE" on stderr, exit 1
#   median FILE COLUMN        the median of a column of numbers, over the
#                             lines whose 4th column (an exit status) is 0
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
