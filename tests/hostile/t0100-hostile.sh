#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# t0100-hostile.sh - servers that lie, break the rules, hang or drop the
# connection.  A scripted fake server (fakeserver.py) plays each part;
# xmpctl must end with the documented status and a clear message, and
# must never send credentials to a server it has not verified.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/integration/lib.sh"

. "$TESTS_SRCDIR/hostile/fake.sh"

FEATURES_TLS="<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"

cat >nostarttls.script <<SCRIPT
expect <stream:stream
send \$HEADER<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>
hang
SCRIPT
test_expect_success 'a server without STARTTLS gets no credentials (79)' '
	fake nostarttls &&
	expect_exit 79 run nostarttls login &&
	test_grep "does not offer STARTTLS" nostarttls.err &&
	test_grep ! "<auth" nostarttls.sent &&
	test_grep ! "secret-password" nostarttls.sent
'

cat >proceedjunk.script <<SCRIPT
expect <stream:stream
send \$HEADER$FEATURES_TLS
expect <starttls
send <proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><stream:features/>
hang
SCRIPT
test_expect_success 'plaintext injected after <proceed/> ends the session (76)' '
	fake proceedjunk &&
	expect_exit 76 run proceedjunk login &&
	test_grep "plaintext after <proceed/>" proceedjunk.err
'

cat >refusetls.script <<SCRIPT
expect <stream:stream
send \$HEADER$FEATURES_TLS
expect <starttls
send <failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>
hang
SCRIPT
test_expect_success 'a refused STARTTLS is a TLS failure (79)' '
	fake refusetls &&
	expect_exit 79 run refusetls login &&
	test_grep "refused STARTTLS" refusetls.err
'

cat >streamerror.script <<SCRIPT
expect <stream:stream
send \$HEADER<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>no such host</text></stream:error></stream:stream>
hang
SCRIPT
test_expect_success 'a stream error is reported with its condition (76)' '
	fake streamerror &&
	expect_exit 76 run streamerror login &&
	test_grep "stream error from server: host-unknown (no such host)" streamerror.err
'

cat >twotexts.script <<SCRIPT
expect <stream:stream
send \$HEADER<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>one</text><text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='de'>zwei</text></stream:error>
hang
SCRIPT
test_expect_success 'a stream error with two conditions and two texts: the first of each' '
	fake twotexts &&
	expect_exit 76 run twotexts login &&
	test_grep "stream error from server: policy-violation (one)\$" twotexts.err
'

cat >escape.script <<SCRIPT
expect <stream:stream
send \$HEADER<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>\C31mred\C0m</text></stream:error></stream:stream>
hang
SCRIPT
# U+009B (CSI) is legal XML 1.0 and starts an escape sequence on a
# terminal; ESC itself is not legal XML (the next test).
test_expect_success 'control characters from the server never reach the terminal' '
	fake escape &&
	expect_exit 76 run escape login &&
	test_grep "conflict (.u009b31mred.u009b0m)" escape.err &&
	! LC_ALL=C grep -q "$(printf "\302\233")" escape.err
'

cat >esc.script <<SCRIPT
expect <stream:stream
send \$HEADER<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>\e[31m</text></stream:error>
hang
SCRIPT
test_expect_success 'ESC, which XML 1.0 forbids, is malformed XML (76)' '
	fake esc &&
	expect_exit 76 run esc login &&
	test_grep "malformed XML" esc.err &&
	! LC_ALL=C grep -q "$(printf "\033")" esc.err
'

cat >doctype.script <<SCRIPT
expect <stream:stream
send <?xml version='1.0'?><!DOCTYPE lol [<!ENTITY lol 'lol'>]><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>
hang
SCRIPT
test_expect_success 'a DTD in the stream is refused (76, RFC 6120 11.1)' '
	fake doctype &&
	expect_exit 76 run doctype login &&
	test_grep "restricted XML" doctype.err
'

cat >comment.script <<SCRIPT
expect <stream:stream
send \$HEADER<!-- hello -->$FEATURES_TLS
hang
SCRIPT
test_expect_success 'a comment in the stream is refused (76)' '
	fake comment &&
	expect_exit 76 run comment login &&
	test_grep "restricted XML" comment.err
'

cat >malformed.script <<SCRIPT
expect <stream:stream
send \$HEADER<stream:features><a></b></stream:features>
hang
SCRIPT
test_expect_success 'malformed XML ends the session (76)' '
	fake malformed &&
	expect_exit 76 run malformed login &&
	test_grep "malformed XML\\|mismatched tag" malformed.err
'

cat >huge.script <<SCRIPT
expect <stream:stream
send \$HEADER<stream:features><x xmlns='urn:example'>
repeat 1100000 a
hang
SCRIPT
test_expect_success 'an endless stanza hits the size limit (76)' '
	fake huge &&
	expect_exit 76 run huge login &&
	test_grep "XML_MAX_STANZA_BYTES" huge.err
'

cat >silent.script <<SCRIPT
expect <stream:stream
send \$HEADER
hang
SCRIPT
test_expect_success 'a server that opens the stream and goes silent: timeout (75)' '
	fake silent &&
	XMPCTL_PASSWORD=x expect_exit 75 xmpctl --timeout 2 \
		--server "127.0.0.1:$FAKE_PORT" -j alice@example.test login \
		2>silent.err &&
	done_fake &&
	test_grep "timed out after 2 s waiting for stream features" silent.err
'

cat >drop.script <<SCRIPT
expect <stream:stream
send \$HEADER
close
SCRIPT
test_expect_success 'a dropped connection during negotiation (69)' '
	fake drop &&
	expect_exit 69 run drop login &&
	test_grep "connection closed by 127.0.0.1" drop.err
'

cat >oldversion.script <<SCRIPT
expect <stream:stream
send <?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='old'>
hang
SCRIPT
test_expect_success 'a pre-XMPP-1.0 server is refused (76)' '
	fake oldversion &&
	expect_exit 76 run oldversion login &&
	test_grep "does not speak XMPP 1.0" oldversion.err
'

test_done
