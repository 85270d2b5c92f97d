#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# lab.sh - fetch current XMPP servers, mbedTLS 3.6 and go-sendxmpp into
# private prefixes, so that the scenarios also run against the servers
# (tests/integration/server.sh: prosody13, ejabberd24), xmpctl builds
# against mbedTLS 3.6 and the benchmarks (tests/bench/) meet go-sendxmpp
# 0.14.  Nothing is installed into the system: the system's own prosody,
# ejabberd, mbedTLS and go-sendxmpp stay as they are.
#
#   tests/lab.sh [DIR]
#
# DIR (default: $XMPCTL_LAB_DIR, else ${XDG_CACHE_HOME:-~/.cache}/xmpctl-lab)
# receives, from the Debian archive that the system's apt sources name
# (bookworm-backports, and trixie for mbedTLS), with an apt state of its
# own under DIR/apt:
#   DIR/prosody13/bin/prosody, prosodyctl     Prosody 13 and prosody-modules
#   DIR/ejabberd24/bin/ejabberdctl            ejabberd 24.12 on a private
#                                             Erlang/OTP (bookworm's)
#   DIR/mbed36/usr/include, usr/lib/MULTIARCH mbedTLS 3.6 (trixie's packages,
#                                             which run on bookworm): build
#                                             with ./configure
#                                             --with-mbedtls=DIR/mbed36/usr
#   DIR/go-sendxmpp/usr/bin/go-sendxmpp       go-sendxmpp 0.14
# Only the packages of mbedTLS 3.6 are taken from trixie, by name; every
# other package resolves on bookworm (trixie is pinned at priority 50).
# Each prefix gets a file "version" once it is complete, or a file "failed"
# saying why it could not be had; the harness (which finds DIR the same
# way: give XMPCTL_LAB_DIR to both) reads both.  One prefix that cannot be
# had does not keep the others.  A second run uses a complete prefix as it
# is, without asking the archive, and reuses the .deb files in DIR/debs;
# it fetches the package lists again only when they are older than a day.
# Exit status: 0 if all four prefixes are there, 1 otherwise.
#
# Needs bash, apt-get, dpkg, awk, sed and the Debian archive keyring.
# LAB_SUITE (default bookworm-backports) names another suite to take the
# servers and go-sendxmpp from, LAB_MBED_SUITE (default trixie) the suite
# of mbedTLS 3.6.
set -u

LAB=${1:-${XMPCTL_LAB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/xmpctl-lab}}
SUITE=${LAB_SUITE:-bookworm-backports}
MBED_SUITE=${LAB_MBED_SUITE:-trixie}
MBED_PKGS="libmbedtls-dev libmbedtls21 libmbedx509-7 libmbedcrypto16"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null ||
	gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

say() { printf 'lab.sh: %s\n' "$*" >&2; }

# fail NAME REASON: NAME (prosody13, ejabberd24, mbed36, go-sendxmpp)
# cannot be had, and why
fail() {
	mkdir -p "$LAB/$1"
	printf '%s\n' "$2" >"$LAB/$1/failed"
	rm -f "$LAB/$1/version"
	say "$1: not available: $2"
	return 1
}

# The Debian mirror the system uses for bookworm (deb822 .sources or
# one-line .list files).
mirror() {
	for _f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$_f" ] || continue
		_u=$(awk 'BEGIN { RS = "" }
			/Suites:[^\n]*bookworm([ \n]|$)/ && match($0, /URIs:[^\n]*/) {
				n = split(substr($0, RSTART + 5, RLENGTH - 5), a, " ")
				for (i = 1; i <= n; i++)
					if (a[i] ~ /\/debian\/?$/) { print a[i]; exit }
			}' "$_f")
		[ -n "$_u" ] && { echo "${_u%/}"; return 0; }
	done
	for _f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$_f" ] || continue
		_u=$(awk '$1 == "deb" {
				for (i = 2; i <= NF; i++) {
					if ($i ~ /^\[/) continue
					if ($i ~ /\/debian\/?$/ && $(i + 1) == "bookworm") { print $i; exit }
					break
				}
			}' "$_f")
		[ -n "$_u" ] && { echo "${_u%/}"; return 0; }
	done
	return 1
}

APTOPTS=()
declare -A APT_BAD=()
# apt_ready SUITE...: a private apt state whose lists are at most a day
# old, with the lists of every SUITE fetched
apt_ready() {
	[ ${#APTOPTS[@]} -gt 0 ] || apt_setup || return 1
	for _s; do
		[ -n "${APT_BAD[$_s]-}" ] &&
			{ APT_WHY="apt-get update failed for $_s: ${APT_BAD[$_s]}"; return 1; }
	done
	return 0
}

apt_setup() {
	[ -n "${APT_WHY:-}" ] && return 1
	command -v apt-get >/dev/null && command -v dpkg >/dev/null || {
		APT_WHY="apt-get or dpkg not found (not a Debian system)"; return 1; }
	[ -r "$KEYRING" ] || { APT_WHY="no Debian archive keyring ($KEYRING)"; return 1; }
	mkdir -p "$LAB/apt/lists/partial" "$LAB/apt/cache/archives/partial" \
		"$LAB/apt/prefparts.d" "$LAB/debs" || { APT_WHY="cannot write $LAB"; return 1; }
	# the mirror of an existing sources.list stays; a list that lacks a
	# suite gets it, and the lists are fetched again
	_base=$(awk '$1 == "deb" { print $3; exit }' "$LAB/apt/sources.list" 2>/dev/null)
	[ -n "$_base" ] || _base=$(mirror) || {
		APT_WHY="the system's apt sources name no Debian mirror for bookworm"
		return 1; }
	_src=$(printf 'deb [signed-by=%s] %s %s main\n' \
		"$KEYRING" "$_base" bookworm "$KEYRING" "$_base" "$SUITE" \
		"$KEYRING" "$_base" "$MBED_SUITE")
	if [ "$(cat "$LAB/apt/sources.list" 2>/dev/null)" != "$_src" ]; then
		printf '%s\n' "$_src" >"$LAB/apt/sources.list"
		rm -f "$LAB/apt/updated"
	fi
	# MBED_SUITE only when asked for by name (PKG/SUITE): dependencies
	# resolve on bookworm
	printf 'Package: *\nPin: release n=%s\nPin-Priority: 50\n' "$MBED_SUITE" \
		>"$LAB/apt/preferences"
	: >"$LAB/apt/empty-status"
	APTOPTS=(-o Dir::Etc::sourcelist="$LAB/apt/sources.list"
		-o Dir::Etc::sourceparts=-
		-o Dir::State::Lists="$LAB/apt/lists"
		-o Dir::State::status="$LAB/apt/empty-status"
		-o Dir::Cache="$LAB/apt/cache"
		-o Dir::Etc::preferences="$LAB/apt/preferences"
		-o Dir::Etc::preferencesparts="$LAB/apt/prefparts.d"
		-o Debug::NoLocking=1
		-o APT::Sandbox::User="$(id -un)")
	if [ ! -f "$LAB/apt/updated" ] ||
	   [ -n "$(find "$LAB/apt/updated" -mmin +1440)" ]; then
		say "fetching the package lists of bookworm, $SUITE and $MBED_SUITE"
		# (apt-get update exits 0 when it could not fetch an index: it
		# says so in a warning.  An error or warning naming a suite
		# fails that suite, and so does a missing package list after
		# any error; errors that fail no suite so fail them all)
		apt-get "${APTOPTS[@]}" -q update >"$LAB/apt/update.log" 2>&1
		_rc=$?
		_errs=$(grep -E '^(E:|W: Failed to fetch)' "$LAB/apt/update.log")
		for _s in bookworm "$SUITE" "$MBED_SUITE"; do
			_e=$(printf '%s\n' "$_errs" | grep -E -m1 "[ /]${_s}[ /]")
			# (after one error apt may not name the other indexes
			# it could not fetch)
			[ -z "$_e" ] && [ -n "$_errs" ] &&
			! ls "$LAB/apt/lists/"*"_dists_${_s}_main_binary-"*Packages* >/dev/null 2>&1 &&
				_e="no package list ($(grep -A1 -E "^Err:.*[ /]${_s}[ /]" "$LAB/apt/update.log" |
					tail -n 1 | sed 's/^ *//'))"
			[ -n "$_e" ] && APT_BAD[$_s]=$_e
		done
		if [ ${#APT_BAD[@]} -eq 0 ] && { [ $_rc -ne 0 ] || [ -n "$_errs" ]; }; then
			APTOPTS=()
			APT_WHY="apt-get update failed: $(grep -E '^(E|W):' "$LAB/apt/update.log" | head -n 1)"
			return 1
		fi
		[ ${#APT_BAD[@]} -eq 0 ] && touch "$LAB/apt/updated"
	fi
	return 0
}

# closure PKG...: "NAME VERSION" of every package PKG needs, resolved as
# on an empty system (so that the result does not depend on this machine)
closure() {
	apt-get "${APTOPTS[@]}" -s install --no-install-recommends -t "$SUITE" "$@" 2>"$LAB/apt/resolve.log" |
		awk '/^Inst / { gsub(/[()]/, "", $3); print $2, $3 }'
}

# debver VERSION: the version as apt writes it in a file name (the epoch's
# colon as %3a)
debver() {
	printf '%s\n' "$1" | sed 's/:/%3a/'
}

# fetch SPEC...: download NAME=VERSION or NAME/SUITE into DIR/debs, unless
# there already
fetch() {
	_todo=()
	for _s; do
		_n=${_s%%[/=]*}
		case $_s in
		*=*) _v=$(debver "${_s#*=}")
		     ls "$LAB/debs/${_n}_${_v}_"*.deb >/dev/null 2>&1 && continue ;;
		*)   ls "$LAB/debs/${_n}_"*.deb >/dev/null 2>&1 && continue ;;
		esac
		_todo+=("$_s")
	done
	[ ${#_todo[@]} -eq 0 ] && return 0
	say "downloading ${#_todo[@]} packages"
	(cd "$LAB/debs" && apt-get "${APTOPTS[@]}" -q download "${_todo[@]}") \
		>"$LAB/apt/download.log" 2>&1 || {
		FETCH_WHY="apt-get download failed: $(grep -E '^(E|W):' "$LAB/apt/download.log" | head -n 2 | tr '\n' ' ')"
		return 1; }
}

# unpack PREFIX SPEC...: the packages' files under PREFIX
unpack() {
	_p=$1; shift
	for _s; do
		_n=${_s%%[/=]*}
		case $_s in
		*=*) _v=$(debver "${_s#*=}"); _deb=$(ls "$LAB/debs/${_n}_${_v}_"*.deb 2>/dev/null | head -n 1) ;;
		*)   _deb=$(ls "$LAB/debs/${_n}_"*.deb 2>/dev/null | sort -V | tail -n 1) ;;
		esac
		[ -n "$_deb" ] && dpkg -x "$_deb" "$_p" || { FETCH_WHY="cannot unpack $_n"; return 1; }
	done
}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

# Prosody 13 runs on bookworm's Lua 5.4; the Lua libraries (and the C
# libraries they need) that the system lacks go into the prefix, and the
# launchers point Lua and the dynamic linker at the prefix first.
get_prosody() {
	_pfx=$LAB/prosody13
	if [ -s "$_pfx/version" ] && [ -x "$_pfx/bin/prosody" ]; then
		say "prosody13: have $(cat "$_pfx/version")"
		return 0
	fi
	apt_ready bookworm "$SUITE" || { fail prosody13 "$APT_WHY"; return 1; }
	_want=()
	while read -r _n _v; do
		case $_n in
		prosody|prosody-modules) _want+=("$_n=$_v") ;;
		lua*|liblua*|libevent-*|libunbound*|libicu*|libssl3|libexpat1|libidn2-0|libreadline8)
			installed "$_n" || _want+=("$_n=$_v") ;;
		esac
	done < <(closure prosody prosody-modules lua5.4 lua-unbound)
	case " ${_want[*]-} " in
	*" prosody=13."*) ;;
	*) fail prosody13 "$SUITE has no Prosody 13 ($(grep -m1 -E '^E:' "$LAB/apt/resolve.log" || echo "resolved: ${_want[*]-nothing}"))"
	   return 1 ;;
	esac
	command -v lua5.4 >/dev/null || installed lua5.4 ||
		case " ${_want[*]} " in *" lua5.4="*) ;; *) fail prosody13 "no lua5.4"; return 1 ;; esac
	fetch "${_want[@]}" || { fail prosody13 "$FETCH_WHY"; return 1; }
	rm -rf "$_pfx" && mkdir -p "$_pfx/bin" || { fail prosody13 "cannot write $_pfx"; return 1; }
	unpack "$_pfx" "${_want[@]}" || { fail prosody13 "$FETCH_WHY"; return 1; }
	# the upstream launchers with the prefix's source and plugin paths;
	# the configuration directory is given with --config by the harness
	for _f in prosody prosodyctl; do
		sed -e "s#^CFG_SOURCEDIR=.*#CFG_SOURCEDIR='$_pfx/usr/lib/prosody';#" \
		    -e "s#^CFG_PLUGINDIR=.*#CFG_PLUGINDIR='$_pfx/usr/lib/prosody/modules/';#" \
		    "$_pfx/usr/bin/$_f" >"$_pfx/bin/$_f.lua" || { fail prosody13 "no $_f in the package"; return 1; }
		cat >"$_pfx/bin/$_f" <<EOF
#!/bin/sh
# $_f of Prosody 13 from $_pfx (made by tests/lab.sh)
P='$_pfx'
PATH="\$P/usr/bin:\$PATH"
LUA_PATH_5_4="\$P/usr/share/lua/5.4/?.lua;\$P/usr/share/lua/5.4/?/init.lua;;"
LUA_CPATH_5_4="\$P/usr/lib/$MA/lua/5.4/?.so;;"
LD_LIBRARY_PATH="\$P/usr/lib/$MA\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export PATH LUA_PATH_5_4 LUA_CPATH_5_4 LD_LIBRARY_PATH
exec lua5.4 "\$P/bin/$_f.lua" "\$@"
EOF
		chmod +x "$_pfx/bin/$_f"
	done
	# (as root, without run_as_root, prosodyctl would switch to the
	# prosody user, who cannot read a prefix under root's home)
	mkdir -p "$_pfx/check" &&
	printf '%s\n' 'run_as_root = true' "data_path = \"$_pfx/check\"" \
		"certificates = \"$_pfx/check\"" "pidfile = \"$_pfx/check/pid\"" \
		>"$_pfx/check/check.cfg.lua"
	_ver=$("$_pfx/bin/prosodyctl" --config "$_pfx/check/check.cfg.lua" about 2>/dev/null |
		awk '/^Prosody/ { print $2; exit }')
	case $_ver in
	13.*) ;;
	*) fail prosody13 "the unpacked Prosody does not run: $("$_pfx/bin/prosodyctl" --config "$_pfx/check/check.cfg.lua" about 2>&1 | grep -v '^[* ]*$' | head -n 3 | tr '\n' ' ')"
	   return 1 ;;
	esac
	rm -f "$_pfx/failed"
	echo "Prosody $_ver" >"$_pfx/version"
	say "prosody13: Prosody $_ver in $_pfx"
}

# ejabberd 24.12 (backports) with every erlang-* package it needs, as on an
# empty system (bookworm's OTP 25 and backports' p1 libraries), and the C
# libraries their NIFs need that the system lacks; erl and ejabberdctl are
# pointed at the prefix.
get_ejabberd() {
	_pfx=$LAB/ejabberd24
	_root=$_pfx/usr/lib/erlang
	# complete, and its erl runs on its own OTP (an erl that names the
	# system's root would load the system's older p1 libraries)
	if [ -s "$_pfx/version" ] && [ -x "$_pfx/bin/ejabberdctl" ] &&
	   grep -q "ROOTDIR=\"$_root\"\$" "$_root/bin/erl" 2>/dev/null; then
		say "ejabberd24: have $(cat "$_pfx/version")"
		return 0
	fi
	apt_ready bookworm "$SUITE" || { fail ejabberd24 "$APT_WHY"; return 1; }
	_want=()
	while read -r _n _v; do
		case $_n in
		erlang-*|ejabberd) _want+=("$_n=$_v") ;;
		libyaml-0-2|libexpat1|libodbc2|libltdl7|libssl3|zlib1g|libstdc++6|libsctp1|libgd3|libwebp7|libtiff6)
			installed "$_n" || _want+=("$_n=$_v") ;;
		esac
	done < <(closure ejabberd)
	case " ${_want[*]-} " in
	*" ejabberd=24."*) ;;
	*) fail ejabberd24 "$SUITE has no ejabberd 24 ($(grep -m1 -E '^E:' "$LAB/apt/resolve.log" || echo "resolved: ejabberd ${_want[*]-nothing}" | grep -o 'ejabberd=[^ ]*'))"
	   return 1 ;;
	esac
	fetch "${_want[@]}" || { fail ejabberd24 "$FETCH_WHY"; return 1; }
	rm -rf "$_pfx" && mkdir -p "$_pfx/bin" || { fail ejabberd24 "cannot write $_pfx"; return 1; }
	unpack "$_pfx" "${_want[@]}" || { fail ejabberd24 "$FETCH_WHY"; return 1; }
	# erl names its root in indented lines: every one of them
	sed -i "s#ROOTDIR=/usr/lib/erlang\$#ROOTDIR=\"$_root\"#" "$_root/bin/erl" "$_root"/erts-*/bin/erl &&
	! grep -q 'ROOTDIR=/usr/lib/erlang$' "$_root/bin/erl" &&
	[ -f "$_pfx/usr/sbin/ejabberdctl" ] || { fail ejabberd24 "erl cannot be pointed at its prefix, or no ejabberdctl in the packages"; return 1; }
	# ejabberdctl with the prefix's erl and ejabberd application
	sed -e "s#^ERL=.*#ERL=\"$_root/bin/erl\"#" \
	    -e "s#^ERL_LIBS=.*#ERL_LIBS='$_pfx/usr/lib/$MA'#" \
	    "$_pfx/usr/sbin/ejabberdctl" >"$_pfx/bin/ejabberdctl.sh"
	grep -q "^ERL=\"$_root/bin/erl\"" "$_pfx/bin/ejabberdctl.sh" &&
	grep -q "^ERL_LIBS='$_pfx/" "$_pfx/bin/ejabberdctl.sh" ||
		{ fail ejabberd24 "ejabberdctl names erl or ERL_LIBS in an unknown way"; return 1; }
	cat >"$_pfx/bin/ejabberdctl" <<EOF
#!/bin/sh
# ejabberdctl of ejabberd 24.12 from $_pfx (made by tests/lab.sh)
P='$_pfx'
PATH="$_root/bin:\$PATH"
ERL_LIBS="\$P/usr/lib/$MA"
LD_LIBRARY_PATH="\$P/usr/lib/$MA\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export PATH ERL_LIBS LD_LIBRARY_PATH
exec sh "\$P/bin/ejabberdctl.sh" "\$@"
EOF
	chmod +x "$_pfx/bin/ejabberdctl"
	_app=$(ls -d "$_pfx/usr/lib/$MA"/ejabberd-24.* 2>/dev/null | head -n 1)
	[ -n "$_app" ] || { fail ejabberd24 "no ejabberd 24 application in the packages"; return 1; }
	_got=$("$_root/bin/erl" -noshell -eval 'io:put_chars(code:root_dir()), halt(0).' 2>/dev/null)
	[ "$_got" = "$_root" ] ||
		{ fail ejabberd24 "the unpacked Erlang/OTP does not run from $_root (root: ${_got:-none})"; return 1; }
	rm -f "$_pfx/failed"
	echo "ejabberd ${_app##*/ejabberd-}" >"$_pfx/version"
	say "ejabberd24: ejabberd ${_app##*/ejabberd-} in $_pfx"
}

# mbedTLS 3.6 from MBED_SUITE, its packages asked for by name (they need
# nothing newer than bookworm's C library); Debian's layout, so that
# configure --with-mbedtls=DIR/mbed36/usr (or DIR/mbed36) finds the
# headers and libraries and puts the library directory into the rpath.
get_mbed() {
	_pfx=$LAB/mbed36
	_lib=$_pfx/usr/lib/$MA
	if [ -s "$_pfx/version" ] && [ -f "$_pfx/usr/include/mbedtls/ssl.h" ] &&
	   [ -f "$_lib/libmbedtls.so" ]; then
		say "mbed36: have $(cat "$_pfx/version")"
		return 0
	fi
	: >"$LAB/apt/resolve.log"
	apt_ready "$MBED_SUITE" || { fail mbed36 "$APT_WHY"; return 1; }
	# the versions MBED_SUITE has, package by package (a resolution on an
	# empty system would also take libc6 from MBED_SUITE; whether the
	# libraries run on this system's is checked once they are unpacked)
	_want=()
	for _n in $MBED_PKGS; do
		_v=$(apt-cache "${APTOPTS[@]}" show "$_n/$MBED_SUITE" 2>>"$LAB/apt/resolve.log" |
			awk '/^Version: / { print $2; exit }')
		[ -n "$_v" ] && _want+=("$_n=$_v")
	done
	case "${#_want[@]} ${_want[*]-} " in
	"4 "*"libmbedtls-dev=3.6."*) ;;
	*) fail mbed36 "$MBED_SUITE has no mbedTLS 3.6 ($(grep -m1 -E '^E:' "$LAB/apt/resolve.log" || echo "found: ${_want[*]-nothing}"))"
	   return 1 ;;
	esac
	fetch "${_want[@]}" || { fail mbed36 "$FETCH_WHY"; return 1; }
	rm -rf "$_pfx" && mkdir -p "$_pfx" || { fail mbed36 "cannot write $_pfx"; return 1; }
	unpack "$_pfx" "${_want[@]}" || { fail mbed36 "$FETCH_WHY"; return 1; }
	[ -f "$_pfx/usr/include/mbedtls/ssl.h" ] && [ -f "$_lib/libmbedtls.so" ] ||
		{ fail mbed36 "no mbedtls/ssl.h or $MA/libmbedtls.so in the packages"; return 1; }
	# the libraries load here (each other from the prefix, the rest from
	# the system)
	_miss=$(LD_LIBRARY_PATH=$_lib ldd "$_lib/libmbedtls.so" 2>&1 | grep -E 'not found|not a dynamic')
	[ -z "$_miss" ] ||
		{ fail mbed36 "the unpacked libmbedtls does not load here: $(printf '%s\n' "$_miss" | head -n 2 | tr -s '\n\t' '  ')"; return 1; }
	_ver=$(sed -n 's/^#define MBEDTLS_VERSION_STRING  *"\(.*\)"/\1/p' \
		"$_pfx/usr/include/mbedtls/build_info.h" 2>/dev/null)
	case $_ver in
	3.6.*) ;;
	*) fail mbed36 "the unpacked headers are not mbedTLS 3.6 (${_ver:-no version})"; return 1 ;;
	esac
	rm -f "$_pfx/failed"
	echo "mbedTLS $_ver" >"$_pfx/version"
	say "mbed36: mbedTLS $_ver in $_pfx (./configure --with-mbedtls=$_pfx/usr)"
}

# go-sendxmpp 0.14 from SUITE, for the benchmarks (tests/bench/); a Go
# program that needs nothing more than the C library.
get_sendxmpp() {
	_pfx=$LAB/go-sendxmpp
	if [ -s "$_pfx/version" ] && [ -x "$_pfx/usr/bin/go-sendxmpp" ]; then
		say "go-sendxmpp: have $(cat "$_pfx/version")"
		return 0
	fi
	apt_ready bookworm "$SUITE" || { fail go-sendxmpp "$APT_WHY"; return 1; }
	_want=()
	while read -r _n _v; do
		case $_n in go-sendxmpp) _want+=("$_n=$_v") ;; esac
	done < <(closure go-sendxmpp)
	case " ${_want[*]-} " in
	*" go-sendxmpp=0.14."*) ;;
	*) fail go-sendxmpp "$SUITE has no go-sendxmpp 0.14 ($(grep -m1 -E '^E:' "$LAB/apt/resolve.log" || echo "resolved: ${_want[*]-nothing}"))"
	   return 1 ;;
	esac
	fetch "${_want[@]}" || { fail go-sendxmpp "$FETCH_WHY"; return 1; }
	rm -rf "$_pfx" && mkdir -p "$_pfx" || { fail go-sendxmpp "cannot write $_pfx"; return 1; }
	unpack "$_pfx" "${_want[@]}" || { fail go-sendxmpp "$FETCH_WHY"; return 1; }
	_ver=$("$_pfx/usr/bin/go-sendxmpp" --version 2>/dev/null | awk 'NR == 1 { print $2 }')
	case $_ver in
	0.14.*) ;;
	*) fail go-sendxmpp "the unpacked go-sendxmpp does not run: $("$_pfx/usr/bin/go-sendxmpp" --version 2>&1 | head -n 2 | tr '\n' ' ')"
	   return 1 ;;
	esac
	rm -f "$_pfx/failed"
	echo "go-sendxmpp $_ver" >"$_pfx/version"
	say "go-sendxmpp: go-sendxmpp $_ver in $_pfx"
}

mkdir -p "$LAB" || { say "cannot create $LAB"; exit 1; }
LAB=$(cd "$LAB" && pwd)
rc=0
get_prosody || rc=1
get_ejabberd || rc=1
get_mbed || rc=1
get_sendxmpp || rc=1
exit $rc
