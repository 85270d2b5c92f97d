#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0022-status.sh - every row of the EXIT STATUS table of xmpctl(1), read
# from the man page itself: each status has at least one real scenario
# that must end with it, and an error status with one line on standard
# error.  A row without a case here fails the test, and so does a case
# for a status the table does not list.
#
# The server going away (a stream error such as system-shutdown, a polite
# close, a dropped connection) ends send, raw, listen, presence, roster,
# login, script and the shell alike; a scripted fake server
# (tests/hostile/fakeserver.py) plays what a real server does rarely, and
# a private Prosody that is stopped plays a real shutdown.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/prosody.sh"
. "$TESTS_SRCDIR/hostile/fake.sh"
. "$TESTS_SRCDIR/integration/tty.sh"

MAN=$TESTS_SRCDIR/../man/xmpctl.1
prosody_require
# the one that is shut down under a running command, then the one that
# stays ("as" and "alice" talk to the one started last)
prosody_start doomed || bail_out 'cannot start Prosody'
# shellcheck disable=SC2034 # read in the test bodies
DOOMED_PORT=$PROSODY_PORT
prosody_start || bail_out 'cannot start Prosody'
fake_cert

# stdin that stays open and empty for as long as the script runs
mkfifo hold || bail_out 'cannot make a fifo'
exec 3<>hold

SHUTDOWN="<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"

# frun NAME ARGS...: xmpctl as alice against the fake server, without the
# trace: stdout NAME.out, stderr NAME.err.  What alice's logins to Prosody
# recorded (channel binding) is not for the fake server, which offers
# PLAIN only.
frun() {
	_fr=$1
	shift
	XDG_DATA_HOME=$TEST_TMP/fake-data XMPCTL_PASSWORD=secret-password xmpctl --timeout 5 \
		--server "127.0.0.1:$FAKE_PORT" --cafile cert.pem \
		-j alice@example.test "$@" >"$_fr.out" 2>"$_fr.err"
	_frc=$?
	done_fake
	return "$_frc"
}

# one_line FILE: FILE (a stderr) is one line, an xmpctl message
one_line() {
	test_grep '^xmpctl: ' "$1" || return 1
	[ "$(wc -l <"$1")" -eq 1 ] && return 0
	say "$1 has $(wc -l <"$1") lines, not one:"
	sed 's/^/  /' "$1" >>"$TEST_TMP/.diag"
	return 1
}

# status_is N NAME ARGS...: frun NAME ARGS ends with N and one line
status_is() {
	_si=$1
	shift
	expect_exit "$_si" frun "$@" && one_line "$1.err"
}

# Up to the session bound, then the server's end, by script: the
# command waits for TRIGGER (a line of the fake server's script) first.
ready() {
	script_to_bind
	script_bound alice@example.test/r
}
# away NAME END [TRIGGER...]: NAME.script that ends with END: shutdown
# (a <system-shutdown/> stream error), polite (</stream:stream>) or drop
away() {
	_an=$1
	_ae=$2
	shift 2
	{
		ready
		for _at in "$@"; do
			printf '%s\n' "$_at"
		done
		case $_ae in
		shutdown) printf 'send %s\nclose\n' "$SHUTDOWN" ;;
		polite) printf '%s\n' 'send </stream:stream>' \
			'expect </stream:stream>' close ;;
		drop) echo close ;;
		esac
	} >"$_an.script"
}

# ---- the statuses of the table ------------------------------------------------

# The tags of the .TP paragraphs of EXIT STATUS: "0", "64", ..., "128+N".
table_statuses() {
	sed -n '/^\.SH "\{0,1\}EXIT STATUS/,/^\.SH /p' "$MAN" |
		sed -n '/^\.TP/{n;p;}' |
		sed -n 's/^\.B[IR]\{0,1\} \{1,\}"\{0,1\}\([0-9][0-9]*+\{0,1\}\).*/\1/p' |
		sed 's/+$/+N/'
}

# Each case: a function status_N (status_128plusN for 128+N).
case_name() {
	echo "status_$1" | sed 's/+/plus/'
}

status_0() {
	test_expect_success '0: login to Prosody, nothing on stderr' '
		as alice login >out-0 2>err-0 &&
		test_must_be_empty err-0 &&
		test_grep "^jid  *alice@example.test/" out-0
	'
	test_expect_success '0: listen until its end of input' '
		: >empty && as alice listen <empty >out-0l 2>err-0l &&
		test_must_be_empty err-0l
	'
}

status_2() {
	test_expect_success '2: check --min-days beyond the 2-day test certificate' '
		expect_exit 2 xmpctl --cafile "$TEST_CA" check \
			--server "127.0.0.1:$PROSODY_PORT" --min-days 30 \
			example.test >out-2 &&
		test_grep "^unmet  *127\.0\.0\.1 port $PROSODY_PORT: certificate expires in " out-2
	'
}

status_64() {
	test_expect_success '64: an unknown option' '
		expect_exit 64 xmpctl --no-such-option login 2>err-64 &&
		one_line err-64
	'
}

status_65() {
	test_expect_success '65: an invalid JID, refused before connecting' '
		XMPCTL_PASSWORD=x expect_exit 65 xmpctl -j "alice@@example.test" \
			--server 127.0.0.1:1 login 2>err-65 &&
		one_line err-65
	'
}

status_68() {
	# the DNS test hook answers for example.test; nothing leaves loopback
	test_expect_success '68: the SRV record says there is no XMPP service' '
		dns "_xmpp-client._tcp.example.test=0:0:0:." &&
		(XMPCTL=${XMPCTL_TESTHOOKS:-$TESTS_BUILDDIR/integration/xmpctl-testhooks} &&
		 XMPCTL_PASSWORD=x expect_exit 68 xmpctl -j alice@example.test \
			--cafile "$TEST_CA" login 2>err-68) &&
		one_line err-68
	'
}

status_69() {
	test_expect_success '69: nothing listens at the address' '
		dead=$("$PYTHON" -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
		XMPCTL_PASSWORD=x expect_exit 69 xmpctl -j alice@example.test \
			--server "127.0.0.1:$dead" login 2>err-69 &&
		one_line err-69
	'

	# the server goes away with <system-shutdown/> under each command
	test_expect_success '69: system-shutdown during login' '
		printf "%s\n" "expect <stream:stream" "send \$HEADER$SHUTDOWN" close \
			>a-login.script &&
		fake a-login && status_is 69 a-login login &&
		test_grep "system-shutdown" a-login.err
	'
	for _end in shutdown polite drop; do
		test_expect_success "69: listen, the server goes away ($_end)" "
			away a-listen-$_end $_end 'expect <presence' &&
			fake a-listen-$_end && status_is 69 a-listen-$_end listen <hold
		"
	done
	test_expect_success '69: send --lines waiting for its input' '
		away a-lines shutdown && fake a-lines &&
		status_is 69 a-lines send --lines bob@example.test <hold
	'
	test_expect_success '69: send --lines, every message sent confirmed' '
		away a-lines1 shutdown "expect </message>" "$(script_ack)" &&
		fake a-lines1 &&
		mkfifo lines1 && exec 4<>lines1 && echo one >&4 &&
		status_is 69 a-lines1 send --lines bob@example.test <lines1 &&
		exec 4>&- &&
		test_grep "the server confirmed 1 of 1 messages" a-lines1.err
	'
	test_expect_success '69: send --room joining the room (nothing sent)' '
		away a-room shutdown "expect <presence" && fake a-room &&
		status_is 69 a-room send --room room@rooms.example.test hello &&
		test_grep "cannot join room@rooms.example.test: .*system-shutdown" a-room.err &&
		test_grep ! "<message" a-room.sent
	'
	test_expect_success '69: raw reading stanzas from its input' '
		away a-raw shutdown && fake a-raw &&
		status_is 69 a-raw raw <hold
	'
	test_expect_success '69: raw --stay, its stanza acknowledged' '
		away a-stay shutdown "expect <presence" "$(script_ack)" &&
		fake a-stay && status_is 69 a-stay raw --stay "<presence/>" <hold
	'
	test_expect_success '69: presence --show, its presence acknowledged' '
		away a-presence shutdown "expect <presence" "$(script_ack)" &&
		fake a-presence &&
		status_is 69 a-presence presence --show --wait 30
	'
	test_expect_success '69: roster list waiting for the roster' '
		away a-roster shutdown "expect jabber:iq:roster" &&
		fake a-roster && status_is 69 a-roster roster list
	'
	test_expect_success '69: script, a client waiting for a stanza' '
		printf "%s\n" "[Client] Alice" "	jid: alice@example.test" \
			"	password: secret-password" "" "-----" "" \
			"Alice connects" "" "Alice receives:" \
			"	<message type=\"chat\"/>" >a-script.scs &&
		away a-script shutdown && fake a-script &&
		expect_exit 69 frun a-script script --wait 30 a-script.scs &&
		test_grep "system-shutdown" a-script.out
	'
	# (left with Ctrl-D, the shell itself ends with 0, as xmpctl(1) says)
	if command -v tmux >/dev/null 2>&1; then
		test_expect_success '69: send --room in the shell' '
			away a-shell shutdown "expect rooms.example.test" &&
			fake a-shell &&
			tty_start sh69 "XMPCTL_PASSWORD=secret-password \
XDG_DATA_HOME=\"\$TEST_TMP/fake-data\" $TEST_WRAPPER \
\"\$XMPCTL\" -j alice@example.test --server 127.0.0.1:$FAKE_PORT \
--cafile cert.pem shell" &&
			tty_wait sh69 "^xmpctl: logged in as alice@example\.test/" 20 &&
			tty_type sh69 "send --room room@rooms.example.test hi" &&
			tty_keys sh69 Enter &&
			tty_wait sh69 "^xmpctl: send: exit status 69\$" 20 &&
			tty_wait sh69 "the session has ended" 20 &&
			tty_keys sh69 C-d &&
			wait_for "test -s sh69.rc" 20 "the shell to end" &&
			test "$(cat sh69.rc)" = 0 &&
			done_fake
		'
	else
		test_skip '69: send --room in the shell' 'tmux not found'
	fi

	# through a session holder that is stopped (xmpctl-session(1)).  (Each
	# xmpctl run of lib.sh keeps its stderr in a file named by a counter
	# that a run in the background does not advance: advanced by hand,
	# so that the holder and listen do not share one.)
	test_expect_success '69: listen through a session holder that is stopped' '
		rt=$(mktemp -d /tmp/xmpctl-t0022.XXXXXX) &&
		test_atexit "rm -rf \"$rt\"" &&
		(XDG_RUNTIME_DIR=$rt XMPCTL_TEST_TIMEOUT=600 &&
		 export XDG_RUNTIME_DIR XMPCTL_TEST_TIMEOUT &&
		 bg_start holder alice session start --foreground &&
		 wait_for "grep -q started holder.out" 30 "the holder to log in" &&
		 _xmpctl_n=$((_xmpctl_n + 1)) &&
		 bg_start held alice listen &&
		 wait_for "grep -q \"^clients  *1\" \"$rt/xmpctl/alice@example.test.status\"" \
			20 "listen to use the holder" &&
		 as alice session stop &&
		 wait_for "test -s held.rc" 20 "listen to end" &&
		 wait_for "test -s holder.rc" 20 "the holder to end") &&
		test "$(cat held.rc)" = 69 &&
		one_line held.err
	'

	# a real server shut down under listen: Prosody says system-shutdown
	test_expect_success '69: Prosody shut down under listen' '
		rm -f down.rc &&
		{ XMPCTL_PASSWORD=$ALICE_PASS XMPCTL_PIDFILE=down.pid xmpctl \
			--server "127.0.0.1:$DOOMED_PORT" --cafile "$TEST_CA" \
			-j alice@example.test listen <hold >down.out 2>down.err
		  echo $? >down.rc; } &
		wait_for "grep -q \"<presence\" \"$PROSODY_BASEDIR/doomed/prosody.log\"" \
			20 "the presence of listen" &&
		prosody_stop doomed &&
		wait_for "test -s down.rc" 20 "listen to end" &&
		test "$(cat down.rc)" = 69 &&
		one_line down.err &&
		test_grep "system-shutdown" down.err
	'
}

status_70() {
	test_skip '70: an internal error' 'only a bug in xmpctl ends with it'
}

status_71() {
	# With few file descriptors the connection cannot be prepared.  How
	# many the program needs before that depends on the build
	# (sanitizers): lower limits are tried until one ends there; a limit
	# that lets it through ends the search.  It runs without the test
	# wrapper: valgrind needs descriptors of its own.
	test_expect_success '71: too many open files to prepare a connection' '
		cat >lowfd <<-EOF &&
		#!/bin/sh
		ulimit -S -n "\$LOWFD" || exit 125
		exec "$XMPCTL" "\$@"
		EOF
		chmod +x lowfd &&
		dead=$("$PYTHON" -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
		n=4 && got= &&
		while [ "$n" -le 64 ] && [ -z "$got" ]; do
			(XMPCTL=$TEST_TMP/lowfd TEST_WRAPPER= LOWFD=$n \
			 XMPCTL_PASSWORD=x && export LOWFD XMPCTL_PASSWORD &&
			 xmpctl -j alice@example.test --server "127.0.0.1:$dead" \
				login 2>err-71)
			rc=$?
			[ "$rc" = 71 ] && got=$n
			[ "$rc" = 69 ] && break
			n=$((n + 1))
		done &&
		say "71 with ulimit -n ${got:-(none)}" &&
		test -n "$got" &&
		one_line err-71 &&
		test_grep "too many open files" err-71
	'
}

status_74() {
	test_expect_success '74: the password file cannot be read' '
		expect_exit 74 alice --password-file "$TEST_TMP/no-such-file" \
			login 2>err-74 &&
		one_line err-74
	'
}

status_75() {
	test_expect_success '75: no stream features within the --timeout' '
		printf "%s\n" "expect <stream:stream" hang >t-hang.script &&
		fake t-hang &&
		status_is 75 t-hang --timeout 1 login
	'
	test_expect_success '75: the --timeout of listen' '
		expect_exit 75 as alice listen --timeout 1 <hold 2>err-75 &&
		one_line err-75
	'
}

status_76() {
	test_expect_success '76: malformed XML from the server' '
		printf "%s\n" "expect <stream:stream" "send \$HEADER<a><b></a>" hang \
			>p-bad.script &&
		fake p-bad && status_is 76 p-bad login
	'
	test_expect_success '76: a stream error that is not the server going away (conflict)' '
		away p-conflict none "expect <presence" \
			"send <stream:error><conflict xmlns='"'"'urn:ietf:params:xml:ns:xmpp-streams'"'"'/></stream:error></stream:stream>" \
			close &&
		fake p-conflict && status_is 76 p-conflict listen <hold &&
		test_grep "stream error from server: conflict" p-conflict.err
	'
}

status_77() {
	test_expect_success '77: a wrong password' '
		XMPCTL_PASSWORD=wrong-password expect_exit 77 xmpctl \
			--server "127.0.0.1:$PROSODY_PORT" --cafile "$TEST_CA" \
			-j alice@example.test login 2>err-77 &&
		one_line err-77
	'
}

status_78() {
	test_expect_success '78: a syntax error in the configuration file' '
		printf "%s\n" "[alice" "jid = alice@example.test" >config-78 &&
		XMPCTL_PASSWORD=x expect_exit 78 xmpctl -c config-78 login 2>err-78 &&
		one_line err-78
	'
}

status_79() {
	test_expect_success '79: a certificate from a CA not trusted' '
		XMPCTL_PASSWORD=$ALICE_PASS expect_exit 79 xmpctl \
			--server "127.0.0.1:$PROSODY_PORT" --cafile "$OTHER_CA" \
			-j alice@example.test login 2>err-79 &&
		one_line err-79
	'
}

status_80() {
	test_expect_success '80: the server answers an iq of raw with an error' '
		expect_exit 80 as alice raw \
			"<iq type='"'"'get'"'"' to='"'"'example.test'"'"' id='"'"'q80'"'"'><query xmlns='"'"'urn:example:nothing'"'"'/></iq>" \
			>out-80 2>err-80 &&
		one_line err-80 &&
		test_grep "q80" err-80
	'
}

status_81() {
	test_expect_success '81: the server goes away before it acknowledged the message' '
		away n-send shutdown "expect </message>" && fake n-send &&
		status_is 81 n-send send bob@example.test "in doubt" &&
		test_grep "not acknowledged" n-send.err
	'
	test_expect_success '81: ... and send --lines, a message not confirmed' '
		away n-lines shutdown "expect </message>" && fake n-lines &&
		mkfifo lines2 && exec 4<>lines2 && echo one >&4 &&
		status_is 81 n-lines send --lines bob@example.test <lines2 &&
		exec 4>&- &&
		test_grep "the server confirmed 0 of 1 messages" n-lines.err
	'
}

status_82() {
	test_expect_success '82: an offline recipient sends no receipt' '
		expect_exit 82 as alice --timeout 1 send --receipt \
			carol@example.test "receipt?" 2>err-82 &&
		one_line err-82
	'
}

status_83() {
	test_expect_success '83: a script step that is not as expected' '
		scripted wrong &&
		expect_exit 83 xmpctl --server "127.0.0.1:$PROSODY_PORT" \
			--cafile "$TEST_CA" script --wait 1 wrong.scs >out-83 2>err-83 &&
		test_grep "^FAIL  wrong.scs:" out-83
	'
}

status_84() {
	test_expect_success '84: encryption asked for, and bob has no OMEMO device' '
		expect_exit 84 as alice send --encrypt=omemo bob@example.test \
			"secret" 2>err-84 &&
		one_line err-84 &&
		test_grep "bob@example.test has no OMEMO device" err-84
	'
}

status_128plusN() {
	test_expect_success '128+N: SIGTERM while send waits for the acknowledgement (143)' '
		{ ready; echo "expect </message>"; echo hang; } >s-term.script &&
		fake s-term && rm -f s-term.rc &&
		{ XMPCTL_PIDFILE=s-term.pid frun s-term send bob@example.test \
			"never acknowledged"; echo $? >s-term.rc; } &
		wait_for "grep -q \"</message>\" s-term.sent" 20 "the message" &&
		kill -TERM "$(cat s-term.pid)" &&
		wait_for "test -s s-term.rc" 20 "send to end" &&
		test "$(cat s-term.rc)" = 143 &&
		one_line s-term.err &&
		test_grep "interrupted" s-term.err
	'
	test_expect_success '128+N: SIGTERM while login --check waits for a target (143)' '
		{ echo "expect <stream:stream"; echo hang; } >c-term.script &&
		fake c-term && rm -f c-term.rc &&
		{ XMPCTL_PIDFILE=c-term.pid frun c-term login --check; \
			echo $? >c-term.rc; } &
		wait_for "grep -q \"<stream:stream\" c-term.sent" 20 "the header" &&
		kill -TERM "$(cat c-term.pid)" &&
		wait_for "test -s c-term.rc" 20 "the check to end" &&
		test "$(cat c-term.rc)" = 143 &&
		test_grep "^error  *interrupted by signal 15$" c-term.out
	'
}

# ---- walk the table -----------------------------------------------------------

CASES="0 64 65 68 69 70 71 74 75 76 77 78 79 80 81 82 83 84 128+N"
STATUSES=$(table_statuses)

test_expect_success 'the EXIT STATUS table of xmpctl(1) lists statuses' '
	say "table: $(echo $STATUSES)" &&
	echo "$STATUSES" | grep -qx 0 &&
	echo "$STATUSES" | grep -qx 69 &&
	echo "$STATUSES" | grep -qx "128+N"
'

test_expect_success 'every status with a case here is a row of the table' '
	missing= &&
	for s in $CASES; do
		echo "$STATUSES" | grep -qx -- "$s" || missing="$missing $s"
	done &&
	say "cases without a row in $MAN:${missing:- none}" &&
	test -z "$missing"
'

for _st in $STATUSES; do
	_fn=$(case_name "$_st")
	if command -v "$_fn" >/dev/null 2>&1; then
		"$_fn"
	else
		test_expect_success "status $_st of the table has a case" '
			say "no case for status $_st: write $_fn" && false
		'
	fi
done

test_done
