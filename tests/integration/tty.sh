# SPDX-License-Identifier: GPL-3.0-or-later
# tty.sh - the program under test in a terminal: tmux, driven from a test
# script (POSIX sh, sourced after lib.sh).
#
#   tty_require                    skip the script unless tmux exists
#   tty_start NAME CMD             run the shell command line CMD in a new
#                                  120x40 terminal called NAME, in $TEST_TMP;
#                                  its exit status goes to NAME.rc when it ends
#   tty_type NAME TEXT             type TEXT as it is (no Enter)
#   tty_keys NAME KEY...           press keys by tmux's names: Enter, C-c,
#                                  C-d, C-u, Up, Tab, ...
#   tty_screen NAME                print what the terminal shows
#   tty_line NAME                  print the line the cursor is on
#   tty_cursor NAME                print the cursor's column and line,
#                                  from 0
#   tty_wait NAME ERE [SECONDS [WHAT]]
#                                  wait until a line of the screen matches
#                                  the extended regular expression ERE
#   tty_wait_line NAME ERE [SECONDS [WHAT]]
#                                  the same for the cursor's line
#   tty_kill NAME                  end everything in the terminal and close it
#
# Each terminal has a tmux server of its own, on a socket under $TEST_TMP
# (never the user's server), started with this script's environment and a
# configuration of its own (never the user's).  Every terminal still open
# when the script exits is killed, server and processes.  A failing test
# shows the screens of the open terminals.

TTY_DIR=$TEST_TMP/tty
# sun_path holds 108 bytes: a deep build directory gets a short socket
# directory of its own
if [ "${#TTY_DIR}" -gt 80 ]; then
	TTY_SOCKDIR=$(mktemp -d "${TMPDIR:-/tmp}/xmpctl-tty.XXXXXX") ||
		bail_out 'cannot create a directory for the tmux sockets'
	test_atexit 'rm -rf "$TTY_SOCKDIR"'
else
	TTY_SOCKDIR=$TTY_DIR
fi
mkdir -p "$TTY_DIR" "$TTY_SOCKDIR" || bail_out "cannot create $TTY_DIR"
_tty_names=

# tmux's settings, read as the server starts (before the program does):
# the screen stays once the program has ended, to be looked at; no status
# line; the terminal type is fixed
cat >"$TTY_DIR/tmux.conf" <<'EOF' || bail_out "cannot write $TTY_DIR/tmux.conf"
set-option -g remain-on-exit on
set-option -g status off
set-option -g default-terminal screen
EOF

tty_require() {
	command -v tmux >/dev/null 2>&1 || skip_all 'tmux not found'
}

_tty() { # _tty NAME TMUX-ARGS...: tmux on the socket of terminal NAME
	_tn=$1
	shift
	tmux -S "$TTY_SOCKDIR/$_tn.sock" "$@"
}

tty_start() {
	rm -f "$TEST_TMP/$1.rc"
	# The terminal's Ctrl-C goes to its whole foreground process group,
	# this wrapper included (an interactive shell would have given the
	# program a group of its own): the wrapper ignores it, to stay and
	# write the exit status.  The program sets its own handler.
	printf '%s\n' \
		"cd \"\$TEST_TMP\" || exit 1" \
		"trap '' INT" \
		"$2" \
		"echo \$? >\"\$TEST_TMP/$1.rc\"" >"$TTY_DIR/$1.cmd" || return 1
	_tty "$1" -f "$TTY_DIR/tmux.conf" new-session -d -s "$1" -x 120 -y 40 \
		"sh '$TTY_DIR/$1.cmd'" || return 1
	_tty_names="$_tty_names $1"
	_tty "$1" display-message -p -t "$1" '#{pane_pid}' >"$TTY_DIR/$1.pid"
}

tty_type() {
	_tty "$1" send-keys -t "$1" -l -- "$2"
}

tty_keys() {
	_tk=$1
	shift
	_tty "$_tk" send-keys -t "$_tk" "$@"
}

# (-J joins the lines the terminal wrapped; it and -N keep the blanks at
# the end of lines, as a prompt ends with one)
tty_screen() {
	_tty "$1" capture-pane -p -J -t "$1"
}

tty_line() {
	_tl_y=$(_tty "$1" display-message -p -t "$1" '#{cursor_y}') &&
	_tty "$1" capture-pane -p -N -t "$1" -S "$_tl_y" -E "$_tl_y"
}

tty_cursor() {
	_tty "$1" display-message -p -t "$1" '#{cursor_x} #{cursor_y}'
}

# _tty_wait NAME CAPTURE ERE SECONDS DESCRIPTION: CAPTURE is tty_screen
# or tty_line
_tty_wait() {
	_tw_name=$1 _tw_cap=$2 _tw_re=$3
	if poll_until '$_tw_cap "$_tw_name" | grep -Eq -- "$_tw_re"' "$4"; then
		return 0
	fi
	say "timed out after $4 s waiting for ${5:-/$3/} in terminal $1; it shows:"
	tty_screen "$1" | _tty_show >>"$TEST_TMP/.diag"
	return 1
}

tty_wait() {
	_tty_wait "$1" tty_screen "$2" "${3:-$TEST_WAIT_TIMEOUT}" "${4:-}"
}

tty_wait_line() {
	_tty_wait "$1" tty_line "$2" "${3:-$TEST_WAIT_TIMEOUT}" "${4:-}"
}

# the screen for diagnostics: blank lines at the end dropped, each line
# between bars so that blanks show
_tty_show() {
	awk '{ l[NR] = $0 } /[^ ]/ { n = NR } END { for (i = 1; i <= n; i++) print l[i] }' |
		_sanitize | sed 's/.*/  |&|/'
}

tty_kill() {
	[ -S "$TTY_SOCKDIR/$1.sock" ] || return 0
	_tk_pid=$(cat "$TTY_DIR/$1.pid" 2>/dev/null)
	# tmux makes the first process of a terminal the leader of its
	# process group, which holds everything started in it
	if [ -n "$_tk_pid" ] && kill -0 "-$_tk_pid" 2>/dev/null; then
		kill -TERM "-$_tk_pid" 2>/dev/null
		poll_until "! kill -0 -$_tk_pid" 5 ||
			kill -KILL "-$_tk_pid" 2>/dev/null
	fi
	_tty "$1" kill-server 2>/dev/null
	rm -f "$TTY_SOCKDIR/$1.sock"
	_tty_names=$(printf '%s\n' $_tty_names | grep -vx "$1" | tr '\n' ' ')
	return 0
}

_tty_kill_all() {
	for _tka in $_tty_names; do
		tty_kill "$_tka"
	done
}

_tty_show_all() {
	for _tsa in $_tty_names; do
		[ -S "$TTY_SOCKDIR/$_tsa.sock" ] || continue
		echo "terminal $_tsa shows:"
		tty_screen "$_tsa" | _tty_show
	done
}

test_atexit _tty_kill_all
test_on_failure _tty_show_all
