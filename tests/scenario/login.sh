#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# login.sh - "xmpctl login" against each server of the matrix: what it
# prints, the trace, and every password source.
#
# What differs between the servers: ejabberd (SCRAM-stored passwords) also
# offers X-OAUTH2, which xmpctl must pass over; the mechanism and the
# channel binding depend on the server and the TLS version (server.sh:
# LOGIN_MECH, LOGIN_CB).

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"

needs
server_start || bail_out "cannot start $XMPCTL_TEST_SERVER"

XMPCTL_PASSWORD=$ALICE_PASS
export XMPCTL_PASSWORD

test_expect_success 'login succeeds and prints the bound JID' '
	alice login >out 2>err &&
	test_grep "^jid  *alice@example\.test/." out
'

test_expect_success 'login output is "key  value" lines, values at column 14' '
	test -s out &&
	awk "
		length(\$0) < 14 || substr(\$0, 1, 13) !~ /^[a-z]+ +\$/ ||
		substr(\$0, 14, 1) == \" \" { print \"bad line \" NR \": \" \$0; bad = 1 }
		END { exit bad }
	" out
'

test_expect_success 'login reports the address it connected to' '
	test_grep "^address  *127\.0\.0\.1:$SERVER_PORT\$" out &&
	test_grep "^server  *127\.0\.0\.1 port $SERVER_PORT (--server)\$" out
'

test_expect_success "login reports $TLS_VERSION negotiated with STARTTLS" '
	test_grep "^tls  *$TLS_VERSION $TLS_SUITES.*(STARTTLS)\$" out
'

test_expect_success 'login reports the certificate as verified for example.test' '
	test_grep "^certificate  *CN=example\.test; .*verified for example\.test\$" out &&
	test_grep "^certificate .*issuer CN=xmpctl test CA;" out
'

test_expect_success "$LOGIN_MECH is preferred over PLAIN, binding: $LOGIN_CB" '
	test_grep "^sasl  *$LOGIN_MECH (offered: .*PLAIN.*)\$" out &&
	test_grep "^binding  *$LOGIN_CB" out
'

if server_is ejabberd; then
test_expect_success 'X-OAUTH2, which ejabberd offers too, is passed over' '
	test_grep "^sasl .*offered: .*X-OAUTH2" out
'
fi

# SASL2 binds inside authentication (XEP-0386): no bind feature follows
if server_has bind2; then
test_expect_success 'login reports the post-authentication stream features' '
	test_grep "^features  *[a-z]" out &&
	test_grep ! "^features  *.*bind" out
'
else
test_expect_success 'login reports the post-authentication stream features' '
	test_grep "^features  *.*bind" out
'
fi

test_expect_success 'nothing on stderr after a successful login' '
	test_must_be_empty err
'

test_expect_success '-r asks for a resource and gets exactly it' '
	alice -r probe login >out-r &&
	test_grep "^jid  *alice@example\.test/probe\$" out-r
'

test_expect_success '--resource= does the same' '
	alice --resource=probe2 login >out-r2 &&
	test_grep "^jid  *alice@example\.test/probe2\$" out-r2
'

test_expect_success 'a resource in the JID is asked for' '
	xmpctl --server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" \
		-j alice@example.test/fromjid login >out-jr &&
	test_grep "^jid  *alice@example\.test/fromjid\$" out-jr
'

test_expect_success '--direct-tls connects with TLS from the first byte' '
	xmpctl --server "127.0.0.1:$SERVER_TLS_PORT" --direct-tls \
		--cafile "$TEST_CA" -j alice@example.test login >out-d &&
	test_grep "^tls  *$TLS_VERSION $TLS_SUITES.*(direct TLS)\$" out-d &&
	test_grep "^certificate .*verified for example\.test\$" out-d &&
	test_grep "^jid  *alice@example\.test/." out-d
'

test_expect_success 'login as JSON: one object with the same fields' '
	alice --format json login >out.json &&
	test "$(wc -l <out.json)" = 1 &&
	"$PYTHON" -c "
import json, sys
o = json.load(open(sys.argv[1]))
assert o[\"kind\"] == \"login\", o
assert o[\"jid\"].startswith(\"alice@example.test/\"), o
assert o[\"tls_mode\"] == \"starttls\", o
assert o[\"cert_verified_for\"] == \"example.test\", o
assert o[\"tls_version\"] == sys.argv[3], o
assert o[\"sasl\"] == sys.argv[4], o
assert \"PLAIN\" in o[\"sasl_offered\"].split(), o
if sys.argv[2] == \"ejabberd\":
    assert \"X-OAUTH2\" in o[\"sasl_offered\"].split(), o
" out.json "$SERVER_FAMILY" "$TLS_VERSION" "$LOGIN_MECH"
'

test_expect_success '-v writes an XML trace to stderr, stdout unchanged' '
	alice -v login >out-v 2>trace &&
	test_grep "^jid  *alice@example\.test/." out-v &&
	test_grep "^xmpctl: >> " trace &&
	test_grep "^xmpctl: << " trace &&
	test_grep "urn:ietf:params:xml:ns:xmpp-tls" trace &&
	test_grep "urn:ietf:params:xml:ns:xmpp-bind\|urn:xmpp:bind:0" trace
'

test_expect_success 'the trace shows <auth> with its payload redacted' '
	test_grep "^xmpctl: >> <$AUTH_EL .*\[redacted" trace
'

test_expect_success 'every SASL element in the trace is redacted' '
	grep -E "<(auth|authenticate|challenge|response|success)[ >]" trace >sasl-lines &&
	test -s sasl-lines &&
	test_grep ! -v ">\[redacted\]</" sasl-lines
'

test_expect_success 'the trace does not contain the password' '
	test_grep "<$AUTH_EL " trace &&
	test_grep ! -F "$ALICE_PASS" trace
'

test_expect_success 'the trace does not contain the SCRAM client-first message' '
	# "biws" is base64 of the GS2 header "n,,", "cD10bHMtdW5pcXVlLC" of
	# "p=tls-unique,", "cD10bHMtZXhwb3J0ZXIs" of "p=tls-exporter,"
	test_grep "<$AUTH_EL " trace &&
	test_grep ! -F biws trace &&
	test_grep ! -F cD10bHMtdW5pcXVlLC trace &&
	test_grep ! -F cD10bHMtZXhwb3J0ZXIs trace
'

# ---- password sources ---------------------------------------------------------
# A wrong $XMPCTL_PASSWORD proves that the source under test wins over it.

test_expect_success '--password-file reads the first line of the file' '
	printf "%s\n" "$ALICE_PASS" >pwfile &&
	chmod 600 pwfile &&
	XMPCTL_PASSWORD=wrong-password alice --password-file pwfile login >out-pf &&
	test_grep "^jid  *alice@example\.test/." out-pf
'

test_expect_success '--password-file= ignores lines after the first' '
	printf "%s\nsecond line\n" "$ALICE_PASS" >pwfile2 &&
	chmod 600 pwfile2 &&
	XMPCTL_PASSWORD=wrong-password alice --password-file="$TEST_TMP/pwfile2" login >out-pf2 &&
	test_grep "^jid  *alice@example\.test/." out-pf2
'

test_expect_code 74 'an unreadable --password-file exits 74' '
	alice --password-file "$TEST_TMP/no-such-file" login
'

test_expect_success '--password-command uses the first line of its output' '
	XMPCTL_PASSWORD=wrong-password \
		alice --password-command "printf %s\\\\n $ALICE_PASS" login >out-pc &&
	test_grep "^jid  *alice@example\.test/." out-pc
'

test_expect_success '--password-command runs with /bin/sh -c' '
	XMPCTL_PASSWORD=wrong-password \
		alice --password-command "cat pwfile | head -n 1" login >out-pc2 &&
	test_grep "^jid  *alice@example\.test/." out-pc2
'

test_expect_success 'a failing --password-command exits 74' '
	expect_exit 74 alice --password-command false login 2>err-pc &&
	test_grep "^xmpctl: " err-pc
'

test_expect_success 'a --password-command killed by a signal exits 74' '
	expect_exit 74 alice --password-command "kill -TERM \$\$" login 2>err-sig &&
	test_grep "^xmpctl: password command killed by signal 15 " err-sig
'

# gone PID: the process has ended (a zombie nobody reaps counts as ended)
gone() {
	! kill -0 "$1" 2>/dev/null ||
		grep -q "^State:[[:space:]]*Z" "/proc/$1/status" 2>/dev/null
}

test_expect_success 'a silent --password-command is stopped at --timeout (75)' '
	expect_exit 75 alice --timeout 1 --password-command \
		"sleep 100 & echo \$! >sleeper.pid; wait" login 2>err-slow &&
	test_grep "^xmpctl: password command gave no password within 1 s\$" err-slow
'

test_expect_success '... and what it started is killed with it' '
	sleeper=$(cat sleeper.pid) &&
	test -n "$sleeper" &&
	wait_for "gone $sleeper"
'

test_expect_success 'a --password-command that prints but does not exit is stopped (75)' '
	expect_exit 75 alice --timeout 1 --password-command \
		"head -n 1 pwfile; exec sleep 100" login 2>err-noexit &&
	test_grep "^xmpctl: password command did not finish within 1 s\$" err-noexit
'

test_expect_success 'a --password-command reads end of input at once, not our stdin' '
	rm -f stdin-fifo && mkfifo stdin-fifo &&
	exec 3<>stdin-fifo &&
	{ expect_exit 74 alice --timeout 10 --password-command cat login \
		<&3 3>&- 2>err-cat; rc=$?; exec 3>&-; test $rc = 0; } &&
	test_grep "^xmpctl: password command printed no password\$" err-cat
'

test_expect_success 'the password command does not see $XMPCTL_PASSWORD' '
	rm -f seen-env &&
	alice --password-command \
		"echo \"\${XMPCTL_PASSWORD-unset}\" >seen-env; head -n 1 pwfile" \
		login >out-env &&
	test_grep "^jid  *alice@example\.test/." out-env &&
	echo unset >expect-env &&
	test_cmp expect-env seen-env
'

test_expect_success 'signals ignored where xmpctl started are default in the command' '
	rm -f sigs &&
	( trap "" PIPE HUP USR1
	  alice --password-command \
		"head -n 1 pwfile && exec grep \"^Sig[BI]\" /proc/self/status >sigs" \
		login >out-sigs ) &&
	test_grep "^jid  *alice@example\.test/." out-sigs &&
	test_grep "^SigBlk:[[:space:]]*0*\$" sigs &&
	ignored=$(sed -n "s/^SigIgn:[[:space:]]*//p" sigs) &&
	test -n "$ignored" &&
	# 32 and 33 belong to the C library, which lets nobody change them
	# (under make they arrive ignored)
	test $((0x$ignored & ~0x180000000)) -eq 0 || {
		say "ignored signals in the command: $ignored"
		false
	}
'

# ptyrun [--after TEXT] LINE ARGS...: xmpctl on a terminal of its own,
# LINE typed into it (see ptyrun.py)
ptyrun() {
	_after=
	if [ "$1" = --after ]; then
		_after=$2
		shift 2
	fi
	_line=$1
	shift
	# shellcheck disable=SC2086 # TEST_WRAPPER is a command line
	timeout -k 5 "$XMPCTL_TEST_TIMEOUT" "$PYTHON" \
		"$TESTS_SRCDIR/integration/ptyrun.py" ${_after:+--after "$_after"} \
		"$_line" $TEST_WRAPPER "$XMPCTL" "$@"
}

test_expect_success 'a --password-command may ask on the terminal' '
	ptyrun --after "pw: " "$ALICE_PASS" --server "127.0.0.1:$SERVER_PORT" \
		--cafile "$TEST_CA" -j alice@example.test --timeout 10 \
		--password-command "stty -echo </dev/tty && printf \"pw: \" >/dev/tty && IFS= read -r p </dev/tty && echo >/dev/tty && echo \"\$p\"" \
		login >out-pty &&
	test_grep "^jid  *alice@example\.test/." out-pty
'

test_expect_success 'without any other source the password is asked on the terminal' '
	(unset XMPCTL_PASSWORD
	 ptyrun --after "Password for " "$ALICE_PASS" \
		--server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" \
		--no-fast -j alice@example.test login >out-tty) &&
	test_grep "^Password for alice@example\.test: " out-tty &&
	test_grep "^jid  *alice@example\.test/." out-tty &&
	test_grep ! -F "$ALICE_PASS" out-tty
'

test_expect_success 'a wrong $XMPCTL_PASSWORD fails to authenticate (77)' '
	XMPCTL_PASSWORD=wrong-password expect_exit 77 alice login 2>err-wrong &&
	test_grep "^xmpctl: authentication failed as alice@example\.test" err-wrong &&
	test_grep "not-authorized" err-wrong
'

test_expect_success 'an account that does not exist fails the same way (77)' '
	XMPCTL_PASSWORD=x expect_exit 77 xmpctl --server "127.0.0.1:$SERVER_PORT" \
		--cafile "$TEST_CA" -j nobody@example.test login
'

test_expect_success 'bob and carol can log in too' '
	as bob login >out-bob &&
	test_grep "^jid  *bob@example\.test/." out-bob &&
	as carol login >out-carol &&
	test_grep "^jid  *carol@example\.test/." out-carol
'

# ---- configuration file ---------------------------------------------------------

test_expect_success 'an account section of a config file selected with -a' '
	cat >config <<-EOF &&
	# test configuration
	[other]
	jid = carol@example.test
	server = 127.0.0.1:1

	[work]
	jid = alice@example.test
	server = 127.0.0.1:$SERVER_PORT
	cafile = $TEST_CA
	resource = fromconfig
	password_command = cat $TEST_TMP/pwfile
	EOF
	XMPCTL_PASSWORD=wrong-password xmpctl -c config -a work login >out-c &&
	test_grep "^jid  *alice@example\.test/fromconfig\$" out-c
'

test_expect_success '--config= and --account= do the same' '
	XMPCTL_PASSWORD=wrong-password \
		xmpctl --config="$TEST_TMP/config" --account=work login >out-c2 &&
	test_grep "^jid  *alice@example\.test/fromconfig\$" out-c2
'

test_expect_success 'without -a the first section is used' '
	cat >config-first <<-EOF &&
	[work]
	jid = alice@example.test
	server = 127.0.0.1:$SERVER_PORT
	cafile = $TEST_CA
	password_command = cat $TEST_TMP/pwfile

	[other]
	jid = carol@example.test
	server = 127.0.0.1:1
	EOF
	xmpctl -c config-first login >out-c3 &&
	test_grep "^jid  *alice@example\.test/." out-c3
'

test_expect_success 'command-line options override the config file' '
	cat >config-override <<-EOF &&
	[work]
	jid = alice@example.test
	server = 127.0.0.1:$SERVER_PORT
	cafile = $OTHER_CA
	resource = fromconfig
	EOF
	xmpctl -c config-override --cafile "$TEST_CA" -r fromcli login >out-c4 &&
	test_grep "^jid  *alice@example\.test/fromcli\$" out-c4
'

test_expect_success 'the default config file is $XDG_CONFIG_HOME/xmpctl/config' '
	mkdir -p "$XDG_CONFIG_HOME/xmpctl" &&
	sed "s/^resource = .*/resource = xdg/" config >"$XDG_CONFIG_HOME/xmpctl/config" &&
	xmpctl -a work login >out-xdg &&
	rm -f "$XDG_CONFIG_HOME/xmpctl/config" &&
	test_grep "^jid  *alice@example\.test/xdg\$" out-xdg
'

cat >config-pw <<EOF
[work]
jid = alice@example.test
server = 127.0.0.1:$SERVER_PORT
cafile = $TEST_CA
password = $ALICE_PASS
EOF

test_expect_success 'a password in a config file others can read is refused (78)' '
	chmod 644 config-pw &&
	XMPCTL_PASSWORD=wrong-password expect_exit 78 xmpctl -c config-pw login 2>err-pw &&
	test_grep -F "config-pw" err-pw
'

test_expect_success 'a password in a group-readable config file is refused (78)' '
	chmod 640 config-pw &&
	XMPCTL_PASSWORD=wrong-password expect_exit 78 xmpctl -c config-pw login
'

test_expect_success 'a password in a private config file is used' '
	chmod 600 config-pw &&
	XMPCTL_PASSWORD=wrong-password xmpctl -c config-pw login >out-pw &&
	test_grep "^jid  *alice@example\.test/." out-pw
'

test_expect_success '"insecure" in the config file is refused (78)' '
	cat >config-insecure <<-EOF &&
	[work]
	jid = alice@example.test
	server = 127.0.0.1:$SERVER_PORT
	cafile = $TEST_CA
	insecure = true
	EOF
	expect_exit 78 xmpctl -c config-insecure login 2>err-ins &&
	test_grep -F "config-insecure" err-ins
'

test_expect_success 'an unknown key is refused (78), naming the file and line' '
	cat >config-unknown <<-EOF &&
	[work]
	jid = alice@example.test
	colour = blue
	server = 127.0.0.1:$SERVER_PORT
	EOF
	expect_exit 78 xmpctl -c config-unknown login 2>err-unk &&
	test_grep -F "config-unknown" err-unk &&
	test_grep -E "(^|[^0-9])3([^0-9]|\$)" err-unk
'

test_expect_code 78 'a config line that is not "key = value" is refused (78)' '
	printf "[work]\njid alice@example.test\n" >config-syntax &&
	xmpctl -c config-syntax login
'

test_expect_success 'with -j, the section with that jid is used, not the first' '
	cat >config-byjid <<-EOF &&
	[carol]
	jid = carol@example.test
	password_command = false

	[alice]
	jid = alice@example.test
	server = 127.0.0.1:$SERVER_PORT
	cafile = $TEST_CA
	resource = byjid
	password_command = cat $TEST_TMP/pwfile
	EOF
	xmpctl -c config-byjid -j alice@example.test login >out-byjid &&
	test_grep "^jid  *alice@example\.test/byjid\$" out-byjid
'

test_expect_success 'with -j, that account'"'"'s section (and password command) is used' '
	XMPCTL_PASSWORD=$CAROL_PASS expect_exit 74 xmpctl -c config-byjid \
		-j carol@example.test --server "127.0.0.1:$SERVER_PORT" \
		--cafile "$TEST_CA" login 2>err-carol &&
	test_grep "password command failed" err-carol
'

test_expect_success 'with -j and no matching section, no section is used' '
	XMPCTL_PASSWORD=$BOB_PASS xmpctl -c config-byjid -j bob@example.test \
		--server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" login >out-nosec &&
	test_grep "^jid  *bob@example\.test/." out-nosec &&
	test_grep ! "byjid" out-nosec
'

test_expect_success 'a config file others can change is refused (78)' '
	cp config-first config-gw &&
	chmod 664 config-gw &&
	expect_exit 78 xmpctl -c config-gw login 2>err-gw &&
	test_grep "can be changed by other users" err-gw &&
	chmod 600 config-gw &&
	xmpctl -c config-gw login >/dev/null
'

test_expect_success 'a password longer than any password buffer is refused (74)' '
	head -c 3000 /dev/zero | tr "\\0" x >pw-long &&
	chmod 600 pw-long &&
	expect_exit 74 xmpctl --password-file pw-long -j alice@example.test \
		--server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" login 2>err-long &&
	test_grep "too long" err-long
'

test_done
