# SPDX-License-Identifier: GPL-3.0-or-later
# zcomplete.zsh - what zsh's completion offers for a command line.
#
#   zsh -f zcomplete.zsh DIR|FILE LINE
#
# Starts an interactive zsh on a pseudo-terminal (zsh/zpty) with DIR in
# front of $fpath and compinit run (or compinit run, then FILE sourced), types LINE and a TAB, and prints the
# words the completion functions offered for the cursor position, one a
# line.  compadd is wrapped to record them; the calls that only compute
# matches into arrays (-O, -A, -D) are left alone.  The end of the
# completion is seen as a marker the shell prints from comppostfuncs,
# spelled so that the echo of its definition does not contain it.
zmodload zsh/zpty || exit 2
[[ $# -eq 2 ]] || { print -u2 "usage: zcomplete.zsh DIR|FILE LINE"; exit 2 }
dir=${1:A}
line=$2
out=$(mktemp) || exit 2
trap 'rm -f -- $out; zpty -d zc 2>/dev/null' EXIT

zpty zc zsh -f -i || exit 2
if [[ -f $dir ]]; then
  # a script to source after compinit, as from a build tree
  zpty -w zc "autoload -Uz compinit; compinit -u -D; source ${(q)dir}"
else
  zpty -w zc "fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -D"
fi
zpty -w zc "zc_out=${(q)out}"
zpty -w zc 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "$@"
    return
  fi
  local -a zc_hits
  builtin compadd -O zc_hits "$@"
  (( $#zc_hits )) && print -rl -- $zc_hits >>$zc_out
  builtin compadd "$@"
}'
zpty -w zc 'zc_done() { print -r -- "@@${(U):-zc done}@@" }'
zpty -w zc 'comppostfuncs=(zc_done)'
zpty -n -w zc "$line"$'\t'
zpty -r zc seen '*@@ZC DONE@@*' || exit 2
sort -u -- $out
