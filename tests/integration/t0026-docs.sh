#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0026-docs.sh - the help texts and the man pages describe the same
# program: the options each command's --help lists are those its section
# of xmpctl(1) (and its own page, where it has one) documents, both ways,
# with the same short forms, taking an argument or not; the global options
# likewise;
# the shell's /help lists the commands the shell runs and no other; and
# "session status" prints JSON when --format json asks for it.
# The options need no server; the shell (in a terminal, tmux) and the
# session holder log in to a private Prosody.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"
. "$TESTS_SRCDIR/integration/tty.sh"

MANDIR=$TESTS_SRCDIR/../man
MANPAGE=$MANDIR/xmpctl.1
# every command takes these after its name; xmpctl(1) documents them
# under OPTIONS, a command's section may repeat them
COMMON='-f, --format=
-h, --help'

# tags: the options named at the start of each line on stdin, as
# "-X, --long=" ("-X, " when there is a short form, "=" when it takes an
# argument), one a line, sorted; a bare "--long" is dropped where a
# fuller form of the same option is named too (a list of what the
# options do, besides the list of the options)
tags() {
	sed -n 's/^\(-[A-Za-z], \)\{0,1\}\(--[a-z][a-z0-9-]*\)\([= ]\{0,1\}\).*/\1\2\3/p' |
		sed 's/ $/=/' | sort -u |
		awk '{ form[NR] = $0; name = $NF; sub(/=$/, "", name); n[name]++; nm[NR] = name }
		     END { for (i = 1; i <= NR; i++)
			   if (n[nm[i]] == 1 || form[i] != nm[i]) print form[i] }' |
		sort -u
}

# help_tags [COMMAND]: the options xmpctl [COMMAND] --help lists
help_tags() {
	xmpctl ${1:+"$1"} --help |
		sed -n 's/^  \(-[A-Za-z], \)\{0,1\} *\(--[^ ]*\).*/\1\2/p' | tags
}

# man_tags FILE ERE: the options FILE documents as the tags of .TP
# paragraphs, in the .SH or .SS sections whose heading matches ERE
man_tags() {
	awk -v sec="$2" '
		/^\.S[HS] / {
			if ($0 ~ sec) ins = 1
			else if (ins) ins = 0
		}
		ins && tp { print; tp = 0; next }
		ins && /^\.TP/ { tp = 1 }
	' "$1" |
		sed -e 's/^\.B[IR]* //' -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' \
			-e 's/"//g' |
		tags
}

# compare WHAT MAN HELP: the two lists must be the same; the common
# options only need to be in the help
compare() {
	printf '%s\n' "$COMMON" | grep -vxF -f "$2" >"common-$1" || :
	grep -vxF -f "common-$1" "$3" >"help-$1.cmp" || :
	{ comm -23 "$2" help-$1.cmp | sed "s/^/only in the man page: /"
	  comm -13 "$2" help-$1.cmp | sed "s/^/only in --help: /"
	  printf '%s\n' "$COMMON" | grep -vxF -f "$3" | sed "s/^/not in --help: /"
	} | sed "s/^/$1: /" >mismatch-$1
	test_must_be_empty mismatch-$1
}

# ---- the options -------------------------------------------------------------

test_expect_success 'the global options: --help and OPTIONS of xmpctl(1) agree' '
	man_tags "$MANPAGE" "^\\.SH OPTIONS" >man-global &&
	test -s man-global &&
	help_tags >help-global &&
	compare global man-global help-global
'

# the commands: those --help lists, and those with a section of their own
# in COMMANDS (completion, which --help leaves out)
xmpctl --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p' >cmds-help
sed -n '/^\.SH COMMANDS/,/^\.SH /s/^\.SS \([a-z][a-z-]*\).*/\1/p' "$MANPAGE" |
	sort -u >cmds-man
commands=$(sort -u cmds-help cmds-man)

test_expect_success 'every command of --help has a section in COMMANDS, and back' '
	sort -u cmds-help | comm -13 - cmds-man >hidden &&
	test -s cmds-help &&
	sort -u cmds-help | comm -23 - cmds-man >no-section &&
	test_must_be_empty no-section &&
	bad= &&
	for c in $(cat hidden); do
		expect_exit 0 xmpctl "$c" --help >/dev/null || bad="$bad $c"
	done &&
	test -z "$bad"
'

for c in $commands; do
	test_expect_success "$c: its --help and its man page list the same options" '
		man_tags "$MANPAGE" "^\\.SS $c( |\$)" >man-$c &&
		if [ -f "$MANDIR/xmpctl-$c.1" ]; then
			man_tags "$MANDIR/xmpctl-$c.1" \
				"^\\.S[HS] (OPTIONS|$c)( |\$)" >>man-$c &&
			sort -u -o man-$c man-$c
		fi &&
		help_tags $c >help-$c &&
		test -s help-$c &&
		compare $c man-$c help-$c
	'
done

# ---- with a server ---------------------------------------------------------------

if ! command -v "$PROSODY_BIN" >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
	test_skip 'the shell: /help lists the commands it runs, no other' \
		'no prosody or openssl'
	test_skip 'session status --format json: one object, the keys of the text' \
		'no prosody or openssl'
	test_done
fi
# shellcheck disable=SC2034 # read by prosody_start
PROSODY_MODULES=smacks
prosody_start || bail_out 'cannot start Prosody'
XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD
XDG_RUNTIME_DIR=$(mktemp -d /tmp/xmpctl-docs.XXXXXX) || bail_out 'mktemp'
export XDG_RUNTIME_DIR
test_atexit 'rm -rf "$XDG_RUNTIME_DIR"'
test_atexit 'for l in "$XDG_RUNTIME_DIR"/xmpctl/*.lock; do [ -s "$l" ] && kill "$(cat "$l")" 2>/dev/null; done; bg_kill_all'

# ---- the shell's /help ------------------------------------------------------------

# in_shell LINE: alice's shell in a terminal: once it has logged in, LINE
# and then /trace are typed; what the terminal shows once /trace has
# answered goes to stdout (the lines are handled in turn: /trace waits
# for the command of LINE to end)
in_shell() {
	tty_start sh "$TEST_WRAPPER \"\$XMPCTL\" -j alice@example.test \
--server 127.0.0.1:$PROSODY_PORT --cafile \"\$TEST_CA\" shell" &&
	tty_wait sh "^xmpctl: logged in as " 20 "the login" &&
	tty_type sh "$1" && tty_keys sh Enter &&
	tty_type sh /trace && tty_keys sh Enter &&
	tty_wait sh "^xmpctl: trace is (on|off)" 20 "the answer to /trace" &&
	tty_screen sh
	_is_rc=$?
	tty_kill sh
	return $_is_rc
}

if command -v tmux >/dev/null 2>&1; then
test_expect_success 'the shell: /help lists the commands it runs, no other' '
	in_shell /help >shell-help.out &&
	sed -n "/^Commands (/,/^A line/s/^  \\([a-z][a-z-]*\\) .*/\\1/p" \
		shell-help.out | sort -u >shell-lists &&
	test -s shell-lists &&
	: >shell-runs &&
	bad= &&
	for c in $(cat cmds-help); do
		[ "$c" = shell ] && continue
		# each command as it ends by itself
		case $c in
		listen) line="listen --timeout 1" ;;
		*) line=$c ;;
		esac
		in_shell "$line" >"shell-$c.out" || bad="$bad $c"
		# a command the shell refuses says why: not in the shell, from
		# the command line; the others run (or say what they miss)
		grep -q "in the shell\\|from the command line" "shell-$c.out" ||
			echo "$c" >>shell-runs
	done &&
	test -z "$bad" &&
	sort -u -o shell-runs shell-runs &&
	test -s shell-runs &&
	test_cmp shell-runs shell-lists
'
else
	test_skip 'the shell: /help lists the commands it runs, no other' \
		'tmux not found'
fi

# ---- session status --format json -------------------------------------------------

test_expect_success 'session status --format json: one object, the keys of the text' '
	XMPCTL_TEST_TIMEOUT=600 bg_start holder alice session start \
		--foreground away -s "held" &&
	wait_for "grep -q started holder.out || test -s holder.rc" 30 "the holder to log in" &&
	alice session status >status.out &&
	alice session status --format json >status.json &&
	alice --format json session status >status2.json &&
	test_cmp status.json status2.json &&
	test "$(wc -l <status.json)" = 1 &&
	"$PYTHON" -c "
import json, sys
o = json.load(open(\"status.json\"))
keys = [l.split()[0] for l in open(\"status.out\")]
assert list(o) == keys, (list(o), keys)
assert isinstance(o[\"pid\"], int) and isinstance(o[\"clients\"], int), o
assert o[\"state\"] == \"connected\", o
assert o[\"presence\"] == \"away (held)\", o
assert o[\"jid\"].startswith(\"alice@example.test/\"), o
" &&
	alice session stop &&
	wait_for "test -s holder.rc" 20 "the holder to end"
'

test_done
