#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# trust.sh - the password decides every login, whatever the cache holds;
# nothing that logs in as the password does is left on disk, against each
# server of the matrix.
#
# After one good login has filled the cache, a wrong password from each
# source (--password-file, $XMPCTL_PASSWORD, --password-command) and in
# each driver (send, shell, script, session start) fails with 77 and
# delivers nothing; the right one still logs in.  Then the files under
# $HOME are searched for the password, the SCRAM salted password and the
# ClientKey, computed from the salt and iteration count the server sent.

. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_SRCDIR/integration/server.sh"
. "$TESTS_SRCDIR/integration/tty.sh"

needs
tty_require
server_start >/dev/null 2>&1 || bail_out "cannot start $XMPCTL_TEST_SERVER"

# the session holder's directory: private to this script
XDG_RUNTIME_DIR=$TEST_TMP/run
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
export XDG_RUNTIME_DIR
# one cache for every run (lib.sh gives each its own otherwise)
XMPCTL_TEST_CACHE=$HOME/.cache
XDG_CACHE_HOME=$XMPCTL_TEST_CACHE
export XMPCTL_TEST_CACHE XDG_CACHE_HOME
CACHED=$XDG_CACHE_HOME/xmpctl/alice@example.test
WRONG=not-$ALICE_PASS

# wrong ARGS...: alice with the wrong password from $XMPCTL_PASSWORD
wrong() {
	XMPCTL_PASSWORD=$WRONG xmpctl --server "127.0.0.1:$SERVER_PORT" \
		--cafile "$TEST_CA" -j alice@example.test "$@"
}

# bob_online: bob's listen has seen his own presence come back
bob_online() {
	json_get bob.out 'o.get("from") or ""' | grep -q "^bob@example.test/"
}

# bob listens from the start: whatever reaches him is in bob.out
test_expect_success 'bob listens' '
	bg_start bob bob --format json listen --all &&
	wait_for bob_online 20 "bob online"
'

test_expect_success 'a good login fills the cache' '
	as alice login >good.out &&
	test -s "$CACHED" &&
	as alice login >good2.out &&
	test_grep "^cache  *features remembered" good2.out
'

test_expect_success 'wrong password from $XMPCTL_PASSWORD: 77, nothing sent' '
	expect_exit 77 wrong send bob@example.test "wrong-env" 2>err-env &&
	test_grep "authentication failed as alice@example.test" err-env
'

test_expect_success 'wrong password from --password-file: 77' '
	printf "%s\n" "$WRONG" >pwfile && chmod 600 pwfile &&
	expect_exit 77 xmpctl --server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" \
		-j alice@example.test --password-file pwfile \
		send bob@example.test "wrong-file" 2>err-file &&
	test_grep "authentication failed" err-file
'

test_expect_success 'wrong password from --password-command: 77' '
	expect_exit 77 xmpctl --server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" \
		-j alice@example.test --password-command "cat pwfile" \
		send bob@example.test "wrong-command" 2>err-command &&
	test_grep "authentication failed" err-command
'

test_expect_success 'the cache was there all along, and the right password still works' '
	test -s "$CACHED" &&
	as alice -v send bob@example.test "right" 2>err-right &&
	test_grep "authenticating on the features" err-right &&
	wait_for "grep -q right bob.out" 20 "the right message at bob"
'

# (run outside lib.sh's wrapper, which clears the FAST tokens: --no-fast,
# as a token is a credential of its own that a password does not override)
test_expect_success 'shell: a wrong password ends it with 77, never logged in' '
	tty_start sh "XMPCTL_PASSWORD=\"$WRONG\" $TEST_WRAPPER \"\$XMPCTL\" --no-fast -j alice@example.test --server 127.0.0.1:$SERVER_PORT --cafile \"\$TEST_CA\" shell 2>sh.err" &&
	wait_for "test -s sh.rc" 30 "the shell to end" &&
	test "$(cat sh.rc)" = 77 &&
	test_grep "authentication failed" sh.err &&
	test_grep ! "logged in as" sh.err
'

test_expect_success 'script: a wrong password in the script fails the connect with 77' '
	cat >wrong.scs <<-EOF &&
	# a wrong password
	[Client] Alice
	 jid: alice@example.test
	 password: $WRONG

	---------

	Alice connects

	Alice sends:
	 <message to="bob@example.test" type="chat"><body>wrong-script</body></message>
	EOF
	expect_exit 77 xmpctl --server "127.0.0.1:$SERVER_PORT" --cafile "$TEST_CA" \
		script wrong.scs >script.out 2>script.err &&
	test_grep "authentication failed" script.out script.err
'

test_expect_success 'session start: a wrong password is 77 and leaves no session' '
	expect_exit 77 wrong session start 2>err-start &&
	test_grep "authentication failed" err-start &&
	expect_exit 69 as alice session status >/dev/null 2>&1
'

test_expect_success 'none of the wrong ones reached bob' '
	as alice send bob@example.test "sentinel" &&
	wait_for "grep -q sentinel bob.out" 20 "the sentinel at bob" &&
	test_grep ! "wrong-" bob.out
'

test_expect_success 'a session held and stopped, a send through it' '
	as alice session start >start.out &&
	as alice send bob@example.test "held" &&
	as alice session stop
'

# What SCRAM derives from the password: whoever has it logs in as alice.
# The salt and iteration count come from the server's first challenge
# (scramsalt.py asks for one).
test_expect_success 'no file under $HOME holds the password, the salted password or ClientKey' '
	$PYTHON "$TESTS_SRCDIR/integration/scramsalt.py" "$SERVER_PORT" \
		"$TEST_CA" alice example.test "$SCRAM" >scram.salt &&
	ALICE_PASS=$ALICE_PASS $PYTHON - "$HOME" scram.salt "$SCRAM" <<-"EOF"
	import base64, hashlib, hmac, os, sys
	pw = os.environ["ALICE_PASS"].encode()
	salt, iters = open(sys.argv[2]).read().split()
	h = "sha256" if sys.argv[3] == "SCRAM-SHA-256" else "sha1"
	salted = hashlib.pbkdf2_hmac(h, pw, base64.b64decode(salt),
	                             int(iters))
	ckey = hmac.new(salted, b"Client Key", h).digest()
	needles = [pw]
	for v in (salted, ckey):
	    needles += [v, v.hex().encode(), v.hex().upper().encode(),
	                base64.b64encode(v)]
	bad = 0
	for top, dirs, files in os.walk(sys.argv[1]):
	    for f in files:
	        p = os.path.join(top, f)
	        if os.path.islink(p) or not os.path.isfile(p):
	            continue
	        data = open(p, "rb").read()
	        for n in needles:
	            if n in data:
	                print("found in", p)
	                bad = 1
	sys.exit(bad)
	EOF
'

test_expect_success 'bob ends' '
	bg_stop bob
'

test_done
