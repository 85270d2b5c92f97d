# SPDX-License-Identifier: GPL-3.0-or-later
# args.sh - how every benchmark script starts (POSIX sh, sourced):
#
#   bench_args DEFAULT "$@"   RUNS from -n RUNS (a positive number), else
#                             DEFAULT; anything else is a usage error (64)
#   die MESSAGE...            "SCRIPT: MESSAGE" on stderr, exit 1

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
