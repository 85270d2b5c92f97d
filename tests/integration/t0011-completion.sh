#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0011-completion.sh - the bash and zsh completion scripts the build makes
# with "xmpctl completion": the shells' completion functions are run on
# command lines, and what they offer is compared with what --help says.
# No server is needed.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"

COMPLETION_DIR=$TESTS_BUILDDIR/../completion
BASH_SCRIPT=$COMPLETION_DIR/xmpctl.bash
ZSH_SCRIPT=$COMPLETION_DIR/_xmpctl
[ -f "$BASH_SCRIPT" ] && [ -f "$ZSH_SCRIPT" ] ||
	bail_out "no completion scripts in $COMPLETION_DIR (run make first)"

# help_options [COMMAND]: the long options a --help lists, one a line, sorted
help_options() {
	xmpctl ${1:+"$1"} --help |
		sed -n 's/^  \(-[A-Za-z], \)\{0,1\} *\(--[a-z][a-z0-9-]*\).*/\2/p' |
		sort -u
}

# help_commands: the commands --help lists, and the one it leaves out
help_commands() {
	{ xmpctl --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p'
	  echo completion
	} | sort -u
}

# complete_bash WORD...: what the bash script offers when the last WORD is
# being completed, one a line, sorted
complete_bash() {
	bash --norc --noprofile -c '
		. "$1" || exit 2
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_xmpctl xmpctl "${COMP_WORDS[COMP_CWORD]}" || exit 2
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"
	' complete_bash "$BASH_SCRIPT" xmpctl "$@" | sort -u
}

# complete_zsh LINE: what zsh offers after typing LINE and a TAB, sorted
complete_zsh() {
	timeout -k 5 "$XMPCTL_TEST_TIMEOUT" zsh -f \
		"$TESTS_SRCDIR/integration/zcomplete.zsh" "$COMPLETION_DIR" "$1"
}

# words WORD...: the words, one a line, sorted (an expected answer)
words() {
	printf '%s\n' "$@" | sort -u
}

# a config file with two accounts, and two files for --cafile
printf '[work]\njid = a@example.test\n\n[ home ]\njid = b@example.test\n' >cfg
mkdir -p files && : >files/ca-one.pem && : >files/ca-two.pem

test_expect_success 'the scripts the build made are what xmpctl completion prints' '
	xmpctl completion bash >bash.out &&
	test_cmp "$BASH_SCRIPT" bash.out &&
	xmpctl completion zsh >zsh.out &&
	test_cmp "$ZSH_SCRIPT" zsh.out
'

test_expect_success 'completion without a known shell is a usage error (64)' '
	expect_exit 64 xmpctl completion 2>err-none &&
	test_grep "^xmpctl: usage: xmpctl completion bash|zsh\$" err-none &&
	expect_exit 64 xmpctl completion fish 2>err-fish &&
	test_grep "unknown shell .fish." err-fish
'

# ---- bash ----------------------------------------------------------------------

if ! command -v bash >/dev/null 2>&1; then
	test_skip 'bash completion' 'bash is not installed'
else

test_expect_success 'bash: "xmpctl --ti" completes to --timeout' '
	complete_bash --ti >got &&
	words --timeout >expect &&
	test_cmp expect got
'

test_expect_success 'bash: "xmpctl sen" completes to send' '
	complete_bash sen >got &&
	words send >expect &&
	test_cmp expect got
'

test_expect_success 'bash: the commands offered are those of --help and completion' '
	complete_bash "" >got &&
	help_commands >expect &&
	test_cmp expect got
'

test_expect_success 'bash: "xmpctl --" offers every global option of --help' '
	complete_bash -- >got &&
	help_options >expect &&
	test_cmp expect got
'

test_expect_success 'bash: "xmpctl raw --" offers every option of raw --help' '
	complete_bash -j a@example.test raw -- >got &&
	help_options raw >expect &&
	test_grep -x -e --stay expect &&
	test_cmp expect got
'

test_expect_success 'bash: after each command, its options as its --help lists them' '
	bad= &&
	for c in $(help_commands); do
		complete_bash "$c" -- >"got-$c" &&
		help_options "$c" >"expect-$c" &&
		test_cmp "expect-$c" "got-$c" || bad="$bad $c"
	done &&
	test -z "$bad"
'

test_expect_success 'bash: "xmpctl --format " offers text json xml' '
	complete_bash --format "" >got &&
	words text json xml >expect &&
	test_cmp expect got
'

test_expect_success 'bash: --format=j, with "=" split off as bash does, gives json' '
	complete_bash --format = j >got &&
	words json >expect &&
	test_cmp expect got
'

test_expect_success 'bash: -f in a bundle of short options takes the value' '
	complete_bash -vf "" >got &&
	words text json xml >expect &&
	test_cmp expect got
'

test_expect_success 'bash: --mech offers the mechanisms xmpctl knows' '
	complete_bash --mech "" >got &&
	words SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-1 \
		PLAIN >expect &&
	test_cmp expect got
'

test_expect_success 'bash: listen --type offers the message types' '
	complete_bash listen --type "" >got &&
	words chat groupchat headline normal error >expect &&
	test_cmp expect got
'

test_expect_success 'bash: --cafile completes file names' '
	complete_bash --cafile files/ca- >got &&
	words files/ca-one.pem files/ca-two.pem >expect &&
	test_cmp expect got
'

test_expect_success 'bash: --account offers the sections of the --config file' '
	complete_bash -c cfg --account "" >got &&
	words work home >expect &&
	test_cmp expect got
'

test_expect_success 'bash: a section name is offered as it is, never run' '
	printf "[\$(touch ran)]\njid = c@example.test\n" >cfg-evil &&
	complete_bash -c cfg-evil --account "" >got &&
	test_grep -F "\$(touch ran)" got &&
	! test -e ran
'

test_expect_success 'bash: completion offers the shells' '
	complete_bash completion "" >got &&
	words bash zsh >expect &&
	test_cmp expect got
'

test_expect_success 'bash: a JID after send gets nothing' '
	complete_bash send "" >got &&
	test_must_be_empty got
'

test_expect_success 'bash: after an operand, the options still; after "--", nothing' '
	complete_bash send alice@example.test --ty >got &&
	words --type >want &&
	test_cmp want got &&
	complete_bash roster add alice@example.test --na >got &&
	words --name >want &&
	test_cmp want got &&
	complete_bash send -- alice@example.test --ty >got &&
	test_must_be_empty got
'

test_expect_success 'bash: the script sourced, as from a build tree, registers xmpctl (./xmpctl too: bash falls back to the name)' '
	xmpctl completion bash >sourced.bash &&
	bash --norc --noprofile -c ". ./sourced.bash && complete -p xmpctl" >got &&
	echo "complete -F _xmpctl xmpctl" >want &&
	test_cmp want got
'

fi

# ---- zsh -----------------------------------------------------------------------

# zsh_block CONTEXT: the lines of the zsh script for CONTEXT ("" for the
# global options)
zsh_block() {
	if [ -z "$1" ]; then
		sed -n "/_arguments -C/,/->command/p" "$ZSH_SCRIPT"
	else
		sed -n "/^    ($1)\$/,/^      ;;\$/p" "$ZSH_SCRIPT"
	fi
}

test_expect_success 'zsh: the script names every option --help names, where it does' '
	bad= &&
	for c in "" $(help_commands); do
		# the specs: --name[help] and --name=[help]
		zsh_block "$c" | grep -oE -e "--[a-z][a-z0-9-]*(=|\[)" |
			sed "s/.\$//" | sort -u >"zgot-$c" &&
		help_options $c >"zexpect-$c" &&
		test -s "zexpect-$c" &&
		test_cmp "zexpect-$c" "zgot-$c" || bad="$bad ${c:-global}"
	done &&
	test -z "$bad"
'

if ! command -v zsh >/dev/null 2>&1; then
	test_skip 'zsh completion' 'zsh is not installed'
else

test_expect_success 'zsh: the script is valid zsh' '
	zsh -n "$ZSH_SCRIPT"
'

test_expect_success 'zsh: "xmpctl --ti" completes to --timeout' '
	complete_zsh "xmpctl --ti" >got &&
	words --timeout >expect &&
	test_cmp expect got
'

test_expect_success 'zsh: "xmpctl sen" completes to send' '
	complete_zsh "xmpctl sen" >got &&
	words send >expect &&
	test_cmp expect got
'

test_expect_success 'zsh: "xmpctl raw --" offers every option of raw --help' '
	complete_zsh "xmpctl raw --" >got &&
	help_options raw >expect &&
	test_cmp expect got
'

test_expect_success 'zsh: "xmpctl --format " offers text json xml' '
	complete_zsh "xmpctl --format " >got &&
	words text json xml >expect &&
	test_cmp expect got
'

test_expect_success 'zsh: listen --type offers the message types' '
	complete_zsh "xmpctl listen --type " >got &&
	words chat groupchat headline normal error >expect &&
	test_cmp expect got
'

test_expect_success 'zsh: --account offers the sections of the --config file' '
	complete_zsh "xmpctl -c $TEST_TMP/cfg --account " >got &&
	words work home >expect &&
	test_cmp expect got
'

test_expect_success 'zsh: completion offers the shells' '
	complete_zsh "xmpctl completion " >got &&
	words bash zsh >expect &&
	test_cmp expect got
'

test_expect_success 'zsh: the script sourced after compinit, as from a build tree, completes ./xmpctl' '
	xmpctl completion zsh >sourced.zsh &&
	timeout -k 5 "$XMPCTL_TEST_TIMEOUT" zsh -f \
		"$TESTS_SRCDIR/integration/zcomplete.zsh" "$TEST_TMP/sourced.zsh" \
		"./xmpctl sen" >got &&
	words send >expect &&
	test_cmp expect got
'

fi

test_done
