# SPDX-License-Identifier: GPL-3.0-or-later
# pki.sh - what the private test servers share (POSIX sh, sourced by
# prosody.sh and ejabberd.sh): a test CA and its certificates, free ports
# on 127.0.0.1, throwaway secrets and the accounts' passwords.
#
#   pki_make DIR       make (once per DIR) the CA and certificates below,
#                      export TEST_CA and OTHER_CA, set PKI_DIR=DIR
#   free_ports [N]     print N (default 2) distinct free TCP ports on 127.0.0.1
#   random_secret      print a fresh random secret (hex only: safe unquoted
#                      in configuration files and command lines)
#   test_passwords     set and export ALICE_PASS BOB_PASS CAROL_PASS, once
#                      per script (every server of a script shares them)
#
# In PKI_DIR: ca.pem/ca.key ("xmpctl test CA"), other-ca.pem/.key ("xmpctl
# other CA", signed nothing), example.test.pem/.key and wrong.test.pem/.key
# (server certificates signed by the test CA), upload.pem/.key (for
# upload.example.test and localhost: the HTTPS side of the upload
# service), all valid 2 days.

_pki_python=python3
[ -x /usr/bin/python3 ] && _pki_python=/usr/bin/python3

# _pki_cert DIR NAME CN [SAN]: a key and a certificate for CN (SAN DNS:CN,
# and SAN, e.g. DNS:localhost), signed by the test CA, valid 2 days.
_pki_cert() {
	openssl req -new -newkey rsa:2048 -nodes -keyout "$1/$2.key" \
		-subj "/CN=$3" -out "$1/$2.csr" 2>/dev/null &&
	printf '%s\n' \
		"subjectAltName = DNS:$3${4:+, $4}" \
		"basicConstraints = critical, CA:FALSE" \
		"keyUsage = critical, digitalSignature, keyEncipherment" \
		"extendedKeyUsage = serverAuth" \
		"subjectKeyIdentifier = hash" \
		"authorityKeyIdentifier = keyid" >"$1/$2.ext" &&
	openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 2 -sha256 \
		-extfile "$1/$2.ext" -out "$1/$2.pem" 2>/dev/null
}

# _pki_ca DIR NAME CN: a self-signed CA certificate and key.
_pki_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/$2.key" -out "$1/$2.pem" -days 2 -sha256 -subj "/CN=$3" \
		-addext 'basicConstraints = critical, CA:TRUE' \
		-addext 'keyUsage = critical, keyCertSign, cRLSign' 2>/dev/null
}

# pki_make DIR: the certificates are made once per DIR (one per script) and
# shared by every server the script starts.
pki_make() {
	PKI_DIR=$1
	if [ ! -f "$PKI_DIR/done" ]; then
		rm -rf "$PKI_DIR" && mkdir -p "$PKI_DIR" && chmod 700 "$PKI_DIR" ||
			return 1
		# the four keys are independent: make them in parallel
		_pki_ca "$PKI_DIR" ca 'xmpctl test CA' || return 1
		_pki_ca "$PKI_DIR" other-ca 'xmpctl other CA' &
		_pki_p1=$!
		_pki_cert "$PKI_DIR" example.test example.test &
		_pki_p2=$!
		_pki_cert "$PKI_DIR" wrong.test wrong.test &
		_pki_p3=$!
		_pki_cert "$PKI_DIR" upload upload.example.test DNS:localhost &
		_pki_p4=$!
		wait "$_pki_p1" && wait "$_pki_p2" && wait "$_pki_p3" &&
		wait "$_pki_p4" || {
			echo "pki.sh: cannot make the test certificates" >&2
			return 1
		}
		: >"$PKI_DIR/done"
	fi
	TEST_CA=$PKI_DIR/ca.pem
	OTHER_CA=$PKI_DIR/other-ca.pem
	export TEST_CA OTHER_CA
}

# free_ports [N]: N distinct free TCP ports on 127.0.0.1 (the kernel picks
# them; the caller retries should another process take one meanwhile).
free_ports() {
	"$_pki_python" -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
' "${1:-2}"
}

random_secret() {
	openssl rand -hex 12
}

test_passwords() {
	[ -n "${_pki_have_passwords:-}" ] && return 0
	ALICE_PASS=$(random_secret) &&
	BOB_PASS=$(random_secret) &&
	CAROL_PASS=$(random_secret) || return 1
	export ALICE_PASS BOB_PASS CAROL_PASS
	_pki_have_passwords=1
}
