-- private test instance: loopback only, throwaway accounts
run_as_root = true
daemonize = false
pidfile = "/work/wt-cb/tmp/zz-probe/prosody/prosody.pid"
data_path = "/work/wt-cb/tmp/zz-probe/prosody/data"
certificates = "/work/wt-cb/tmp/zz-probe/prosody/certs"
log = { debug = "/work/wt-cb/tmp/zz-probe/prosody/prosody.log" }

interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { 51403 }
c2s_direct_tls_ports = { 49695 }
c2s_require_encryption = true
-- a stream or SASL step that never comes must not keep the test waiting
c2s_timeout = 30


modules_enabled = {
	"roster"; "saslauth"; "tls"; "disco"; "ping"; "time"; "version";
	"carbons"; "private"; "vcard_legacy"; "blocklist"; "csi_simple";
}
modules_disabled = { "s2s"; "http"; "bosh"; "websocket"; "admin_telnet"; "admin_shell"; }
authentication = "internal_hashed"
storage = "internal"
allow_registration = false

-- the certificate for STARTTLS (per host) and for direct TLS (global and SNI)
ssl = { certificate = "/work/wt-cb/tmp/zz-probe/prosody/certs/server.pem"; key = "/work/wt-cb/tmp/zz-probe/prosody/certs/server.key"; }
c2s_direct_tls_ssl = { certificate = "/work/wt-cb/tmp/zz-probe/prosody/certs/server.pem"; key = "/work/wt-cb/tmp/zz-probe/prosody/certs/server.key"; }

VirtualHost "example.test"
	ssl = { certificate = "/work/wt-cb/tmp/zz-probe/prosody/certs/server.pem"; key = "/work/wt-cb/tmp/zz-probe/prosody/certs/server.key"; }
	c2s_direct_tls_ssl = { certificate = "/work/wt-cb/tmp/zz-probe/prosody/certs/server.pem"; key = "/work/wt-cb/tmp/zz-probe/prosody/certs/server.key"; }

