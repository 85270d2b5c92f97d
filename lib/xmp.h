/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xmp.h - the public interface of the xmpctl protocol layer.
 *
 * This is the only header cli/ includes.  The library never prints,
 * never exits and never reads argv; it keeps no global state, so several
 * sessions can live in one process and one poll() loop.
 *
 * Error contract: every function that can fail returns an enum xmp_err.
 * When it is not XMP_OK and the function takes a struct xmp_error *, that
 * struct holds the same code and a one-line description in our words
 * (lower case, no trailing period).  The server's own words (a <failure/>
 * condition, a <text/>) are quoted inside that message, never mixed up
 * with it.
 *
 * Ownership: a returned "char *" is the caller's to free(); a returned
 * "const char *" is borrowed and lives as long as the object it came from.
 */
#ifndef XMP_H
#define XMP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ---------------------------------------------------------- */

enum xmp_err {
    XMP_OK = 0,
    XMP_EUSAGE,    /* the caller asked for something impossible */
    XMP_EDATA,     /* bad input data: JID, XML, UTF-8 */
    XMP_ENOHOST,   /* DNS: the domain or server host does not exist */
    XMP_ETEMP,     /* temporary failure (DNS try-again and the like) */
    XMP_EUNREACH,  /* no address answered, or the connection was lost */
    XMP_ETLS,      /* TLS handshake or certificate verification failed */
    XMP_EAUTH,     /* the server rejected our credentials */
    XMP_EPROTO,    /* protocol violation or stream error */
    XMP_EREMOTE,   /* the server answered a stanza with an error */
    XMP_ETIMEOUT,  /* a deadline passed */
    XMP_ENOTSENT,  /* a stanza was not acknowledged by the server */
    XMP_EIO,       /* local I/O (files, commands) */
    XMP_ENOMEM,
    XMP_ESYS,      /* the system refused a resource: descriptors, a
                      thread, poll */
    XMP_AGAIN      /* not an error: the operation needs more I/O */
};

#define XMP_ERRMSG_MAX 512

struct xmp_error {
    enum xmp_err code;
    char msg[XMP_ERRMSG_MAX];
};

/* Set err (if not NULL) to code and a printf-style message; returns code. */
enum xmp_err xmp_error_set(struct xmp_error *err, enum xmp_err code,
                           const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void xmp_error_clear(struct xmp_error *err);
/* A short fixed name for an error code ("tls", "authentication"...). */
const char *xmp_err_name(enum xmp_err code);

/* Monotonic clock in milliseconds; deadlines below are on this clock. */
int64_t xmp_now_ms(void);

/* ---- JIDs (RFC 7622) ------------------------------------------------- */

struct xmp_jid {
    char *local;    /* NULL when absent */
    char *domain;   /* never NULL after a successful parse */
    char *resource; /* NULL when absent */
};

/* Parse and check s; on success fill jid (free with xmp_jid_clear). */
enum xmp_err xmp_jid_parse(const char *s, struct xmp_jid *jid,
                           struct xmp_error *err);
void xmp_jid_clear(struct xmp_jid *jid);
/* "local@domain" or "domain"; caller frees. */
char *xmp_jid_bare(const struct xmp_jid *jid);
/* The same JID: localparts and domainparts compare without regard to
 * ASCII case, resources exactly. */
int xmp_jid_equal(const struct xmp_jid *a, const struct xmp_jid *b);
/* pattern is jid, or pattern is a bare JID and jid one of its full JIDs. */
int xmp_jid_match(const struct xmp_jid *pattern, const struct xmp_jid *jid);

/* ---- XML element trees ---------------------------------------------- */

/*
 * One element of a stanza, with its attributes and its children (elements
 * and text, in document order).  Names are stored without a prefix: an
 * element has a namespace URI (may be "" for none) and a local name.
 * Attribute names are plain local names, "xml:lang" style for the XML
 * namespace, or "URI local" (one space) for any other namespace.
 *
 * Every setter validates its input: text and attribute values must be
 * valid UTF-8 holding only characters XML 1.0 allows, names must be
 * well-formed.  A tree built through this API therefore always
 * serializes to well-formed XML.
 */
struct xmp_node;

/* New element; caller owns it (free with xmp_node_free).  NULL on ENOMEM
 * or when ns/name are invalid (then err says which). */
struct xmp_node *xmp_node_new(const char *ns, const char *name,
                              struct xmp_error *err);
void xmp_node_free(struct xmp_node *n);
/* New child element appended to parent; parent owns it. */
struct xmp_node *xmp_node_add_child(struct xmp_node *parent, const char *ns,
                                    const char *name, struct xmp_error *err);
/* Append an existing tree (parent takes ownership).  XMP_EUSAGE when child
 * already has a parent or is parent or one of its ancestors. */
enum xmp_err xmp_node_append(struct xmp_node *parent, struct xmp_node *child);
/* Append text (copied). */
enum xmp_err xmp_node_add_text(struct xmp_node *n, const char *text,
                               size_t len, struct xmp_error *err);
/* Set or replace an attribute (copied). */
enum xmp_err xmp_node_set_attr(struct xmp_node *n, const char *name,
                               const char *value, struct xmp_error *err);

const char *xmp_node_ns(const struct xmp_node *n);
const char *xmp_node_name(const struct xmp_node *n);
/* Borrowed attribute value or NULL. */
const char *xmp_node_attr(const struct xmp_node *n, const char *name);
/* Attribute by index: returns 0 past the end. */
int xmp_node_attr_at(const struct xmp_node *n, size_t i, const char **name,
                     const char **value);
/* First child element with this ns (NULL = any) and name (NULL = any). */
struct xmp_node *xmp_node_child(const struct xmp_node *n, const char *ns,
                                const char *name);
/* Iterate child elements (text is skipped). */
struct xmp_node *xmp_node_first(const struct xmp_node *n);
struct xmp_node *xmp_node_next(const struct xmp_node *n);
/* All text directly inside n, concatenated; caller frees; "" if none. */
char *xmp_node_text(const struct xmp_node *n);
/* Serialize.  parent_ns is the default namespace in scope where the
 * element will be written ("jabber:client" for a stanza in a client
 * stream); an xmlns attribute is written only where it differs.
 * Caller frees; NULL only on ENOMEM. */
char *xmp_node_to_string(const struct xmp_node *n, const char *parent_ns);
/* The same on one line: line feeds in text become "&#10;". */
char *xmp_node_to_line(const struct xmp_node *n, const char *parent_ns);

/* ---- XML from callers (what a person typed or piped in) ---------------- */

/*
 * A parser for a sequence of top-level elements, with any whitespace
 * between them, under the same rules and limits as the server's stream:
 * no DTD, processing instruction or undeclared entity (RFC 6120 §11.1);
 * comments, a notation for people, are dropped (never sent on); the
 * depth, size, attribute and memory limits; UTF-8 holding
 * only XML 1.0 characters.  The default namespace is "jabber:client".
 * Each complete element goes to fn at once, as its end tag is read; fn
 * owns the tree and returns XMP_OK to go on, anything else to stop the
 * parse (feed then returns that code).  Errors name the position, counted
 * in the caller's input from line 1, column 1: "line 3, column 7: not
 * well-formed (invalid token)".  After an error the parser is dead.
 */
typedef enum xmp_err (*xmp_element_fn)(void *ud, struct xmp_node *el);
struct xmp_parser;

/* NULL on ENOMEM. */
struct xmp_parser *xmp_parser_new(xmp_element_fn fn, void *ud);
void xmp_parser_free(struct xmp_parser *p);
enum xmp_err xmp_parser_feed(struct xmp_parser *p, const char *buf,
                             size_t len, struct xmp_error *err);
/* End of input: XMP_EDATA when it ends inside an element. */
enum xmp_err xmp_parser_end(struct xmp_parser *p, struct xmp_error *err);
/* Non-zero while an element has begun and not ended (for a continuation
 * prompt). */
int xmp_parser_inside(const struct xmp_parser *p);
/* Exactly one element from s[0..len) (surrounding whitespace allowed).
 * Caller frees; NULL with err set (XMP_EDATA) otherwise. */
struct xmp_node *xmp_node_parse(const char *s, size_t len,
                                struct xmp_error *err);

/* Describe an error as "condition (text)": the <error/> child of a stanza,
 * or a <stream:error/> or SASL <failure/> itself.  Always fills buf. */
void xmp_error_describe(const struct xmp_node *n, char *buf, size_t len);

/* Check that s[0..len) is UTF-8 holding only characters XML 1.0 allows.
 * Returns XMP_OK or XMP_EDATA with err naming the offending byte offset. */
enum xmp_err xmp_xml_check_text(const char *s, size_t len,
                                struct xmp_error *err);
/* Decode one UTF-8 sequence at s[0..len): its length (1-4) with *cp set,
 * or 0 when it is not strictly valid (RFC 3629) or len is 0. */
size_t xmp_utf8_decode(const char *s, size_t len, uint32_t *cp);

/* ---- sessions --------------------------------------------------------- */

/* Where a session is in its life (RFC 6120 order). */
enum xmp_phase {
    XMP_PHASE_IDLE,
    XMP_PHASE_CONNECTING,
    XMP_PHASE_NEGOTIATING, /* stream, STARTTLS, SASL, bind */
    XMP_PHASE_READY,
    XMP_PHASE_CLOSING,
    XMP_PHASE_CLOSED,      /* closed politely */
    XMP_PHASE_FAILED       /* see xmp_session_error */
};

/* Direction of a trace line. */
enum xmp_trace_dir { XMP_TRACE_IN, XMP_TRACE_OUT, XMP_TRACE_INFO };

/* The SASL mechanisms xmp_session_opts.mech may name, strongest first:
 * the i-th (a static string), or NULL past the last. */
const char *xmp_sasl_mech(size_t i);

/* Fill buf (size len) with the password, NUL-terminated; return XMP_OK or
 * an error (err filled).  Called once, only when a mechanism needs it. */
typedef enum xmp_err (*xmp_password_fn)(void *ud, char *buf, size_t len,
                                        struct xmp_error *err);
/* XEP-0484 FAST: a token the server issued for this account and client
 * (opts.user_agent_id), and the HT mechanism it is bound to
 * ("HT-SHA-256-EXPR"...).  The token is a revocable credential: keep it
 * as privately as a password. */
struct xmp_fast_token {
    const char *mech;
    const char *token;
    int64_t expiry;       /* seconds since the epoch; 0: not said */
};
/* News of the token (opts.on_fast), inside xmp_session_step, before the
 * session is ready: t is a new one (the first, or the server's rotation:
 * it replaces the old at once), or NULL when the one in opts.fast must be
 * forgotten (the server refused it, or the session invalidated it). */
typedef void (*xmp_fast_fn)(void *ud, const struct xmp_fast_token *t);

/* Trace output.  Text is already redacted: no password and no SASL
 * payload ever reaches this callback. */
typedef void (*xmp_trace_fn)(void *ud, enum xmp_trace_dir dir,
                             const char *text, size_t len);

struct xmp_trust;

/* Called once the TLS handshake has finished and the pins matched,
 * before anything goes over the encrypted stream: domain is the XMPP
 * domain, key_type "RSA" or "EC", pin the key's "sha256//BASE64".
 * Anything but XMP_OK (err filled) fails the session with that error. */
typedef enum xmp_err (*xmp_key_fn)(void *ud, const char *domain,
                                   const char *key_type, const char *pin,
                                   struct xmp_error *err);

/* A server the DNS names for a domain (RFC 6120 §3.2.1, XEP-0368). */
struct xmp_srv_target {
    char host[256];
    unsigned port, priority, weight;
    int direct_tls;        /* from _xmpps-client._tcp */
    const char *found_by;  /* "SRV _xmpps-client._tcp", "SRV
                              _xmpp-client._tcp", "fallback" (no record) */
};
/* Look up both kinds of SRV records of domain (blocks for as long as DNS
 * takes), in the order a session would try them; never for a .onion
 * domain (XMP_EUSAGE).  *out is the caller's
 * to free, *n entries. */
enum xmp_err xmp_srv_targets(const char *domain, struct xmp_srv_target **out,
                             size_t *n, struct xmp_error *err);

/* The same for servers (a probe of a server, XMP_PROBE_SERVER): the
 * _xmpps-server._tcp and _xmpp-server._tcp records, found_by naming
 * them, or the domain on port 5269 ("fallback"). */
enum xmp_err xmp_srv_targets_s2s(const char *domain,
                                 struct xmp_srv_target **out, size_t *n,
                                 struct xmp_error *err);

/* Is url a valid xmp_session_opts.proxy: socks5h://, socks5:// or
 * http:// and [USER[:PASSWORD]@]HOST[:PORT] (port 1080 by default)?
 * XMP_OK, setting *has_password (may be NULL) when it holds one, or
 * XMP_EUSAGE saying what is wrong (never quoting the password). */
enum xmp_err xmp_proxy_check(const char *url, int *has_password,
                             struct xmp_error *err);

/* Is pins a valid value for xmp_session_opts.pin?  XMP_OK, or XMP_EUSAGE
 * naming the bad entry. */
enum xmp_err xmp_pins_check(const char *pins, struct xmp_error *err);

/* Non-zero when this build speaks TLS 1.3 (xmp_session_opts.tls_min 13):
 * it depends on the TLS library it was built with. */
int xmp_tls_has_13(void);
/* That library and its version, "mbedTLS 3.6.6" (a static string). */
const char *xmp_tls_library(void);
/* Non-zero when this build can offer TLS version v (10 for TLS 1.0 ...
 * 13) in a probe (xmp_session_opts.probe_tls_version). */
int xmp_tls_can_probe(int v);
/* The IANA ids of the cipher suites this build can offer alone with TLS
 * version v (10 ... 13) in a probe (xmp_session_opts.probe_tls_suite),
 * at most max of them, the TLS library's preferred first; how many. */
size_t xmp_tls_probe_suites(int v, int *ids, size_t max);
/* The TLS library's name of suite id ("TLS-ECDHE-RSA-WITH-AES-128-GCM-
 * SHA256"), or NULL when it does not know it. */
const char *xmp_tls_suite_name(int id);

struct xmp_session_opts {
    const char *jid;      /* required: local@domain[/resource] */
    const char *resource; /* NULL: the one in jid, else the server's choice */
    const char *server;   /* NULL: DNS SRV; else HOST, HOST:PORT, [V6]:PORT */
    int direct_tls;       /* with server: connect with TLS at once (XEP-0368) */
    /* NULL: connect directly; else a proxy URL (xmp_proxy_check):
     * socks5h:// and http:// get names, never looked up here (no SRV
     * lookup: the domain on port 5222, or server); socks5:// gets
     * addresses looked up here, SRV first.  A .onion domain or server
     * is only ever reached through a proxy, and by name: without one
     * the session fails with XMP_EUSAGE.  Connect failures through the
     * proxy, its refusal and a rejected proxy password are
     * XMP_EUNREACH; the timeout covers the proxy's handshake. */
    const char *proxy;
    const char *cafile;   /* NULL: the system bundle; unused with trust */
    /* Trust anchors loaded once by xmp_trust_new and shared by the
     * sessions of a process (it must outlive them); NULL: the session
     * loads cafile itself at the TLS handshake. */
    struct xmp_trust *trust;
    int insecure;         /* skip certificate verification (lab use only) */
    /* The oldest TLS version accepted: 0 or 12 for TLS 1.2, 13 for TLS
     * 1.3 alone (only where xmp_tls_has_13(); else xmp_session_new fails
     * with XMP_EUSAGE, as for any other value).  A server that offers no
     * version accepted fails the handshake (XMP_ETLS). */
    int tls_min;
    /* Public-key pins, "sha256//BASE64" separated by ';' (the SHA-256 of
     * the server's DER SubjectPublicKeyInfo, as curl's --pinnedpubkey):
     * the key must match one, in addition to the certificate checks.  A
     * mismatch fails with XMP_ETLS right after the TLS handshake.  NULL:
     * no pin. */
    const char *pin;
    xmp_key_fn check_key; /* NULL: none */
    void *check_key_ud;
    /* A client certificate and its key (PEM files, key unencrypted),
     * presented in TLS; with them, SASL EXTERNAL (RFC 6120 §6.3.4,
     * XEP-0178) is used when the server offers it.  NULL: none. */
    const char *client_cert, *client_key;
    const char *mech;     /* NULL: strongest offered; else force this one */
    /* Fail (XMP_EAUTH) unless a channel-binding mechanism (SCRAM-*-PLUS)
     * is used: for an account that used one before (XMP_CB_USED), or
     * used tls-exporter (XMP_CB_USED_EXPORTER: then a TLS 1.3 login binds
     * with it even where the server lists no types).  One exception: on
     * TLS 1.3, a server that offers -PLUS but lists no types (XEP-0440)
     * for an account that never used tls-exporter is logged in to
     * without a binding, as TLS 1.3 has no tls-unique (RFC 9266), the
     * only type such servers (ejabberd 23.01) know.  0: no requirement. */
    int require_cb;
    /* How long to wait: for a connection, from xmp_session_start until
     * one exists (DNS and every connect attempt included); for each
     * negotiation step; for the answer to each request
     * (xmp_session_send_iq can say otherwise); and for the server to take
     * bytes we queued.  0: 30 s. */
    int timeout_ms;
    /* Ready and nothing heard from the server for this long: ping it
     * (XEP-0199); no answer within timeout_ms is a dead connection.
     * 0: never.  See xmp_session_set_keepalive. */
    int keepalive_ms;
    /* With stream management (XEP-0198), ask the server to keep the
     * session for a while when the connection is lost (resume='true'),
     * and resume it then (§5): a connection lost while ready does not
     * fail the session; it connects again (within timeout_ms of the
     * loss, pausing between attempts), authenticates (the password
     * callback is called again), resumes, and sends again the stanzas
     * the server had not acknowledged.  Meanwhile the phase is
     * CONNECTING or NEGOTIATING, xmp_session_writable is 0 and the
     * handlers and requests stay.  When the server refuses, or no
     * attempt succeeds in time, the session fails (XMP_EUNREACH) and
     * xmp_session_acked says what was confirmed.  Copies of the
     * unacknowledged stanzas are kept for this (see
     * xmp_session_writable). */
    int resume;
    /* What an earlier session with this domain learnt (xmp_session_hints),
     * to save round trips; NULL: none.  Used only for the same domain,
     * the same trust anchors (their content, not only the file name),
     * the same hints_context, and, once TLS stands, the same verified
     * server key; a TLS session in them only until the certificate it was
     * verified with expires.  A stale or damaged blob costs at most one
     * round trip; it never decides whether a login succeeds. */
    const void *hints;
    size_t hints_len;
    /* Whatever else the caller's trust in the server depends on (pins it
     * asks for, its record of known keys): hints made under another
     * context are not used.  NULL: none. */
    const char *hints_context;
    xmp_password_fn password;
    void *password_ud;
    xmp_trace_fn trace;
    void *trace_ud;
    /* Connect to this AF_UNIX socket (a local session holder, see struct
     * xmp_peer) instead of the server.  That link is trusted as the
     * socket's permissions and the peer credentials (SO_PEERCRED) of
     * both ends make it: the holder must run as our own user (else the
     * start fails, XMP_EAUTH); no STARTTLS and no SASL are asked for or
     * attempted, the password callback is never called, the stream goes
     * straight to resource binding and stream management.  The close
     * sends no unavailable presence: presence belongs to the holder.
     * NULL: the network, as above. */
    const char *local_socket;
    /* XEP-0388 SASL2, with XEP-0386 Bind2 (the resource, stream
     * management and the features below enabled inside authentication),
     * where the server offers it; 1: never (SASL as RFC 6120 has it, then
     * resource binding).  Mechanisms are chosen as for SASL. */
    int no_sasl2;
    /* The installation's stable id (a UUID, XEP-0388 <user-agent id>);
     * NULL: none, and then no FAST.  software names the client (NULL:
     * "xmpctl"); Bind2 asks for a resource starting with it, or with
     * opts.resource when given. */
    const char *user_agent_id, *software;
    int carbons;          /* Bind2: enable XEP-0280 carbons */
    int csi_inactive;     /* Bind2: start XEP-0352 inactive */
    /* FAST (XEP-0484), over TLS verified for the domain only.  fast: a
     * token from an earlier session (copied), used before the password
     * when the server offers its mechanism and this connection can
     * compute its channel binding; a refused one falls back to the
     * password once (and on_fast hears NULL).  fast_request: ask for a
     * token on a login with the password.  fast_unbound: allow
     * HT-*-NONE (no channel binding).  fast_invalidate: authenticate
     * with the token and ask the server to invalidate it (no resource is
     * bound; the session closes at once, XMP_OK, when it is done; a
     * login without the token goes on as any other). */
    const struct xmp_fast_token *fast;
    int fast_request, fast_unbound, fast_invalidate;
    xmp_fast_fn on_fast;
    void *on_fast_ud;
    /* Pipelining (XEP-0509): stanzas may be queued before the server has
     * confirmed authentication, so that they travel with it.  Only over
     * TLS verified for the domain, only when the session can enable
     * stream management inline, and only on a stream whose features are
     * known (this stream's own, or hints that fit with a token for the
     * login).  xmp_session_writable says when; a stanza queued then is
     * confirmed only by the server's acknowledgement, and if the
     * authentication then fails or does not verify,
     * xmp_session_get_info's early_unconfirmed counts the stanzas that
     * may have reached the server. */
    int pipeline;
    /* Inspect a server without logging in (a report on a domain, which
     * needs what the server shows before anyone authenticates):
     * XMP_PROBE_CLIENT opens a client stream, XMP_PROBE_SERVER a
     * server-to-server one (jabber:server, RFC 6120 §4.7, declaring the
     * dialback namespace of XEP-0220) with probe_from as its 'from'
     * (NULL: none) and needs server.  The session negotiates TLS, notes
     * the features of the TLS stream (or of the plaintext one when it
     * offers no STARTTLS) and closes politely: phase CLOSED, nothing
     * authenticated, no password asked for; jid may be a bare domain.
     * The library speaks server-to-server for this and nothing else.
     * 0: a login. */
    int probe;
    const char *probe_from;
    /* With probe: offer only this TLS version (10 for TLS 1.0 ... 13),
     * with the suites that exist for it, to learn whether the server
     * still (or already) accepts it; xmp_tls_can_probe says which this
     * build can offer.  0: the usual policy. */
    int probe_tls_version;
    /* With probe: offer only this cipher suite (its IANA id, one of
     * xmp_tls_probe_suites), and close as soon as the handshake ends
     * (phase CLOSED, tls_version set: accepted) without a stream over
     * TLS.  0: the usual suites and a whole probe. */
    int probe_tls_suite;
};
#define XMP_PROBE_CLIENT 1
#define XMP_PROBE_SERVER 2

/* One certificate of the chain the server sent, leaf first. */
#define XMP_CHAIN_MAX 8
struct xmp_cert_info {
    char subject[256];
    char issuer[256];
    char not_before[32];     /* "YYYY-MM-DD HH:MM:SS UTC" */
    char not_after[32];
    int64_t not_after_epoch; /* the same, in seconds since 1970 */
    char key_type[16];       /* "RSA", "EC" */
    unsigned key_bits;
    char sig_alg[32];        /* "RSA with SHA-256" */
    int sig_weak;            /* signed with MD5 or SHA-1 */
};

/* What a person debugging a server wants to know about a session. */
struct xmp_session_info {
    const char *domain;      /* the XMPP domain: what the certificate is for */
    const char *bound_jid;   /* full JID after bind */
    const char *host;        /* the host connected to */
    const char *address;     /* numeric address and port */
    unsigned port;
    const char *found_by;    /* "SRV _xmpp-client._tcp", "--server",
                                "fallback" */
    int direct_tls;          /* 1: XEP-0368 direct TLS; 0: STARTTLS */
    const char *tls_version; /* "TLSv1.2" */
    const char *tls_cipher;
    const char *cert_subject;
    const char *cert_issuer;
    const char *cert_not_after; /* "YYYY-MM-DD HH:MM:SS UTC" */
    int cert_verified;       /* 0 only with insecure */
    const char *cert_pin;    /* "sha256//BASE64" of the server's key */
    const char *cert_key;    /* "RSA", "EC" */
    unsigned cert_key_bits;
    const char *cert_sig_alg; /* "RSA with SHA-256" */
    const struct xmp_cert_info *chain; /* as the server sent it */
    size_t chain_len;
    /* <stream:features/> in short names: of the plaintext stream (NULL
     * with direct TLS), of the TLS stream before authentication; the
     * mechanisms offered in plaintext ("" for none) */
    const char *features_before_tls;
    const char *features_before_auth;
    const char *sasl_offered_before_tls;
    const char *sasl_mech;
    const char *sasl_cb;     /* "tls-unique", "tls-exporter"; NULL: none */
    int sasl_ssdp;           /* the server's XEP-0474 hash was verified */
    const char *features;    /* space-separated features offered after auth */
    const char *sasl_offered; /* space-separated mechanisms offered */
    int sm;                  /* 1: stream management (XEP-0198) answers
                                xmp_session_request_ack (enabled, or
                                being enabled) */
    int sm_resumable;        /* the server agreed to resumption */
    unsigned resumed;        /* times the session was resumed */
    int tls_resumed;         /* TLS resumed the session of the hints */
    int hints_features;      /* <auth/> went out on the hints' features */
    int sasl2;               /* authenticated with XEP-0388 SASL2 */
    int bind2;               /* bound inline with XEP-0386 Bind2 */
    const char *fast_mech;   /* logged in with a FAST token, by this
                                mechanism; NULL: not */
    const char *fast_new;    /* a token was issued, for this mechanism
                                (a first one, or a rotation); NULL: none */
    int64_t fast_expiry;     /* ... expiring then (0: not said) */
    int fast_refused;        /* the token was refused: the password was
                                used */
    unsigned pipelined;      /* stanzas sent before authentication was
                                confirmed */
    unsigned early_unconfirmed; /* ... of which may have reached the
                                server though authentication then failed */
    const char *cert_verify_msg; /* why not verified ("" when it is) */
    int starttls_required;   /* the plaintext features mark <starttls/>
                                <required/> */
    int probed;              /* a probe got as far as it goes: the
                                features of the last stream are known */
};

struct xmp_session;

/* Trust anchors: the CA certificates in cafile (NULL: the system
 * bundle), parsed once.  Fails with XMP_ETLS when nothing usable can be
 * loaded.  Give it to every session of the process (opts.trust) and free
 * it after the last of them. */
enum xmp_err xmp_trust_new(const char *cafile, struct xmp_trust **out,
                           struct xmp_error *err);
void xmp_trust_free(struct xmp_trust *trust);

/* Create a session (no I/O yet).  NULL on error (err says why). */
struct xmp_session *xmp_session_new(const struct xmp_session_opts *opts,
                                    struct xmp_error *err);
void xmp_session_free(struct xmp_session *s);

/* Start connecting; never waits for DNS or the network.  Names are looked
 * up on a thread the session starts (it never calls back into the caller
 * and is left to end on its own when the session is freed first); the
 * connects, and all that follows, happen in xmp_session_step. */
enum xmp_err xmp_session_start(struct xmp_session *s);

/* Event-loop interface: poll xmp_session_fd for xmp_session_events
 * (POLLIN/POLLOUT bits) until xmp_session_deadline (xmp_now_ms clock,
 * -1 for none), then call xmp_session_step, which does all work that is
 * ready and returns XMP_AGAIN, XMP_OK (phase is CLOSED) or an error
 * (phase is FAILED).  xmp_session_step must be called at once, without
 * polling, while xmp_session_pending says so (bytes buffered inside the
 * TLS layer are invisible to poll).  Ask for the fd and events again
 * before each poll: while connecting, the fd is an epoll descriptor
 * (Linux) over the name lookup and every connection attempt, polled for
 * POLLIN; once connected, it is the connection's socket. */
int xmp_session_fd(const struct xmp_session *s);
short xmp_session_events(const struct xmp_session *s);
int64_t xmp_session_deadline(const struct xmp_session *s);
int xmp_session_pending(const struct xmp_session *s);
enum xmp_err xmp_session_step(struct xmp_session *s);

enum xmp_phase xmp_session_phase(const struct xmp_session *s);
const struct xmp_error *xmp_session_error(const struct xmp_session *s);
void xmp_session_get_info(const struct xmp_session *s,
                          struct xmp_session_info *info);
/* Once authenticated: the hints for a later session with this domain
 * (opts.hints), *len bytes, valid until the next call or
 * xmp_session_free; NULL when there are none (never without a verified
 * certificate).  They hold no password and nothing derived from one.
 * XMP_HINTS_DISK: only what may be kept on disk and read by others
 * without harm (the features the server offered); XMP_HINTS_MEMORY:
 * also the TLS session, whose TLS 1.2 state holds the master secret
 * (it decrypts recorded traffic), for a later session of this process
 * only: keep it as privately as the password.  XMP_HINTS_TICKET: the
 * features and a TLS 1.3 ticket (RFC 8446 §4.6.1), NULL when the
 * session has none (TLS 1.2, or the server sent none).  The ticket is
 * forward-secret: it resumes only with a fresh (EC)DHE exchange
 * (psk_dhe_ke) and decrypts no recorded traffic, so it may be kept on
 * disk; but whoever reads it can pose as the server to one resumption
 * until it expires: keep it like a token, readable by its owner only. */
#define XMP_CB_USED 1
#define XMP_CB_USED_EXPORTER 2
#define XMP_HINTS_DISK 0
#define XMP_HINTS_MEMORY 1
#define XMP_HINTS_TICKET 2
const void *xmp_session_hints(struct xmp_session *s, int keep, size_t *len);
/* Is blob hints this version of the library can use (1), or something
 * else: another version's, damaged (0)? */
int xmp_hints_current(const void *blob, size_t len);

/* Queue a stanza (borrowed; serialized at once).  Only when READY, or
 * while xmp_session_writable says so during negotiation (opts.pipeline).
 * *seq (may be NULL) receives its sequence number, counted from 1; only
 * message, presence and iq are counted (RFC 6120 §8), other elements
 * are sent as they are and get 0.  A queue grown past its hard limit
 * fails the session (XMP_ETEMP): callers that send much look at
 * xmp_session_writable first. */
enum xmp_err xmp_session_send(struct xmp_session *s,
                              const struct xmp_node *stanza, uint64_t *seq);
/* Non-zero while ready (or, with opts.pipeline, while stanzas may go
 * ahead of the server's answer to authentication) and the outgoing
 * queue is short enough to add to (below XMP_SESSION_WRITABLE bytes; with opts.resume, also while
 * the copies kept for resending are below 1 MiB: ask for
 * acknowledgement).  A caller with much to send stops reading its own
 * input while this is 0; the loop's next steps drain the queue. */
#define XMP_SESSION_WRITABLE (64 * 1024)
int xmp_session_writable(const struct xmp_session *s);
/* Bytes queued and not yet taken by the connection. */
size_t xmp_session_queued(const struct xmp_session *s);

/* Ask the server to acknowledge everything sent so far.  Acknowledgement
 * arrives asynchronously; see xmp_session_acked.  When the server offers
 * stream management (XEP-0198), the session enables it as it becomes
 * ready and the server's <a h=.../> acknowledges (an h above what was
 * sent fails the session, XMP_EPROTO); otherwise, or when the server
 * refuses it, a ping to the server does (XEP-0199), answered after every
 * stanza sent before it. */
enum xmp_err xmp_session_request_ack(struct xmp_session *s);
/* Highest sequence number the server has acknowledged. */
uint64_t xmp_session_acked(const struct xmp_session *s);
/* Why the last acknowledgement request failed (no answer within the
 * timeout), or NULL; a new request clears it.  The session stays up. */
const struct xmp_error *xmp_session_ack_error(const struct xmp_session *s);

/* Keepalive: see xmp_session_opts.keepalive_ms; timeout_ms <= 0 keeps the
 * session's timeout.  Takes effect at once. */
void xmp_session_set_keepalive(struct xmp_session *s, int interval_ms,
                               int timeout_ms);

/* ---- requests (iq, RFC 6120 §8.2.3) --------------------------------- */

/*
 * The answer to a request: reply is the <iq type='result'/> or
 * <iq type='error'/> (borrowed for the call), or NULL when none came, and
 * then err says why: XMP_ETIMEOUT after the request's timeout (the
 * session stays up), or the session's own error when it failed or closed
 * first.  Called exactly once per request, from xmp_session_step, unless
 * the request was cancelled or the session freed.
 */
typedef void (*xmp_iq_fn)(struct xmp_session *s, const struct xmp_node *reply,
                          const struct xmp_error *err, void *ud);

/*
 * Send an iq get or set and track its answer.  iq gets an id when it has
 * none (read it back with xmp_node_attr).  A reply counts only with the
 * same id and from the entity asked (RFC 6120 §8.1.2.1, §10.1.4): for a
 * request to X, from X; for one without 'to' or to our own bare JID,
 * from our bare JID, our domain or with no 'from'.  Anything else with
 * that id is ignored (the trace says so) and goes to the handlers like
 * any stanza.  timeout_ms <= 0: the session's timeout.  *handle (may be
 * NULL) identifies the request for xmp_iq_cancel.
 */
enum xmp_err xmp_session_send_iq(struct xmp_session *s, struct xmp_node *iq,
                                 int timeout_ms, xmp_iq_fn cb, void *ud,
                                 unsigned *handle);
/* Forget a request: its callback will not be called.  XMP_EUSAGE when no
 * such request is outstanding. */
enum xmp_err xmp_iq_cancel(struct xmp_session *s, unsigned handle);
/* Requests sent with xmp_session_send_iq and not yet answered. */
size_t xmp_session_requests(const struct xmp_session *s);

/* ---- handlers ---------------------------------------------------------- */

/*
 * Stanzas arriving while ready go to handlers.  The order:
 *   1. a reply to a request of xmp_session_send_iq goes to its callback
 *      and no further;
 *   2. the handlers whose match fits, highest priority first and, within
 *      one priority, in the order they were added; the first to return
 *      XMP_HANDLED ends the walk;
 *   3. an iq get or set no handler claimed is answered by the library:
 *      a ping (XEP-0199) with a result, anything else with
 *      service-unavailable (RFC 6120 §8.4).
 * A roster push (an iq set of jabber:iq:roster, RFC 6121 §2.1.6) counts
 * only from our own account (no 'from', or our bare JID): when no
 * handler claims it, the library answers it with a result.
 * One from anyone else reaches no handler, is answered with
 * service-unavailable and noted in the trace.
 * A handler that only watches (prints, counts) returns XMP_PASS and
 * registers at XMP_PRIO_OBSERVE so that it sees stanzas before anything
 * claims them.
 *
 * Inside a handler or an xmp_iq_fn the caller may send, send requests,
 * cancel them, add and remove handlers (a handler added now first sees
 * the next stanza; one removed now sees no more) and close the session.
 * It must not call xmp_session_step, xmp_session_run or xmp_session_free:
 * those return XMP_EUSAGE (free does nothing and fails the session).
 */
#define XMP_PASS 0
#define XMP_HANDLED 1
#define XMP_PRIO_OBSERVE 100
#define XMP_PRIO_DEFAULT 0

struct xmp_match {
    const char *name; /* element name ("message"...); NULL: any */
    /* The type attribute; a message without one matches "normal", a
     * presence without one "available" (RFC 6121 §5.2.2, §4.7.1).  NULL:
     * any. */
    const char *type;
    const char *ns;   /* namespace of the first child element; NULL: any */
    /* The sender: a bare JID matches it and all its resources, a full JID
     * only itself; a stanza without 'from' comes from our own bare JID
     * (RFC 6120 §8.1.2.1).  NULL: any. */
    const char *from;
};

/* The stanza is borrowed for the call.  Return XMP_HANDLED or XMP_PASS. */
typedef int (*xmp_handler_fn)(struct xmp_session *s,
                              const struct xmp_node *stanza, void *ud);

/* Add a handler (the match strings are copied; m may be NULL to match
 * everything).  XMP_EDATA when m->from is not a JID.  *id (may be NULL)
 * is for xmp_handler_remove. */
enum xmp_err xmp_handler_add(struct xmp_session *s, const struct xmp_match *m,
                             int priority, xmp_handler_fn fn, void *ud,
                             unsigned *id);
/* XMP_EUSAGE when no such handler exists. */
enum xmp_err xmp_handler_remove(struct xmp_session *s, unsigned id);
/* A fresh id for a stanza ("xmp" + counter + random). Caller frees. */
char *xmp_session_new_id(struct xmp_session *s);

/* Begin the polite close (RFC 6120 §4.4): unavailable presence if any was
 * sent, </stream:stream>, then wait (bounded) for the server's close. */
enum xmp_err xmp_session_close(struct xmp_session *s);

/* ---- the server side of a local link ----------------------------------- */

/*
 * A session holder (one real session shared by local clients) serves
 * each client that connected to its AF_UNIX socket with a peer: the
 * server side of an XMPP client stream without TLS or SASL.  The peer
 * answers the client's header with features offering only resource
 * binding and stream management (XEP-0198), binds the client to the
 * holder's own full JID whatever resource it asks for, counts the
 * client's stanzas and hands each to the stanza callback.  The client's
 * <r/> goes to the ack callback; the holder answers it with xmp_peer_ack
 * once the real server has acknowledged what the client sent.  Input
 * has the limits of a client stream; bad XML, anything but binding
 * before bind, or a client that does not read fails the peer with a
 * stream error.  Authentication is the holder's business (the socket's
 * permissions, SO_PEERCRED): the peer trusts whoever reached it.
 */
struct xmp_peer;

struct xmp_peer_cb {
    /* One stanza (message, presence, iq) from the bound client; borrowed
     * for the call, the callee may change it.  h counts it (XEP-0198). */
    void (*stanza)(void *ud, struct xmp_peer *p, struct xmp_node *st,
                   uint32_t h);
    /* The client's <r/>: it has sent h stanzas. */
    void (*ack_request)(void *ud, struct xmp_peer *p, uint32_t h);
};

/* Serve the connected non-blocking socket fd (owned from now on; still
 * the caller's when this fails, NULL with err set), as bound_jid (a
 * full JID).  To refuse a client, xmp_peer_close it at
 * once: it gets our header and the stream error. */
struct xmp_peer *xmp_peer_new(int fd, const char *bound_jid,
                              const struct xmp_peer_cb *cb, void *ud,
                              int timeout_ms, struct xmp_error *err);
void xmp_peer_free(struct xmp_peer *p);
int xmp_peer_fd(const struct xmp_peer *p);
short xmp_peer_events(const struct xmp_peer *p);
int64_t xmp_peer_deadline(const struct xmp_peer *p);
int xmp_peer_pending(const struct xmp_peer *p);
/* XMP_AGAIN while it runs; XMP_OK once closed (both ends); an error when
 * it failed (xmp_peer_error says why).  Free it then. */
enum xmp_err xmp_peer_step(struct xmp_peer *p);
const struct xmp_error *xmp_peer_error(const struct xmp_peer *p);
/* Bound and not closing: stanzas may go to it. */
int xmp_peer_ready(const struct xmp_peer *p);
/* Ready, and the client has enabled stream management: it has acted on
 * its binding (an xmpctl command has begun its work). */
int xmp_peer_sm(const struct xmp_peer *p);
/* Deliver a stanza (borrowed; serialized at once). */
enum xmp_err xmp_peer_send(struct xmp_peer *p, const struct xmp_node *st);
/* <a h='h'/>: the first h stanzas of the client are acknowledged. */
enum xmp_err xmp_peer_ack(struct xmp_peer *p, uint32_t h);
/* End the client's stream: with a stream error of this condition (RFC
 * 6120 §4.9.3) and text (may be NULL), or politely (condition NULL). */
void xmp_peer_close(struct xmp_peer *p, const char *condition,
                    const char *text);

/* ---- HTTP uploads (XEP-0363) ------------------------------------------- */

/*
 * One HTTP/1.1 PUT of a file to the URL of an upload slot, driven like a
 * session: poll xmp_http_fd for xmp_http_events until xmp_http_deadline,
 * then xmp_http_step (at once while xmp_http_pending), until it returns
 * XMP_OK (the server answered 2xx after the whole body) or an error
 * (xmp_http_error says why).  It connects as a session with the same
 * proxy would, over the same TLS policy and trust anchors; the
 * certificate must be valid for the URL's host (the SNI too): the
 * session's pins are not checked here.  The body is read from the file
 * through a fixed buffer (64 KiB), so memory does not grow with it.
 * Errors: an http:// URL without allow_http (XMP_ETLS), the connection
 * (as a session's: XMP_EUNREACH, XMP_ENOHOST, XMP_ETLS...), an answer
 * of 3xx ("redirect refused") or anything but 2xx (XMP_EREMOTE, the
 * status named), an answer that is not HTTP or whose head passes 16 KiB
 * (XMP_EPROTO), the file unreadable or shorter than size (XMP_EIO), no
 * progress for timeout_ms (XMP_ETIMEOUT).
 */
struct xmp_http_header {
    const char *name, *value;
};

struct xmp_http_opts {
    const char *url;       /* the slot's PUT URL, https:// */
    /* The slot's headers: only Authorization, Cookie and Expires are
     * sent (XEP-0363 §5), the others ignored; a value holding a line
     * break or another control character fails with XMP_EPROTO. */
    const struct xmp_http_header *headers;
    size_t nheaders;
    int file;              /* read from its current offset; not owned */
    uint64_t size;         /* Content-Length: bytes read from file */
    const char *content_type; /* NULL: application/octet-stream */
    const char *cafile;    /* as xmp_session_opts */
    struct xmp_trust *trust;
    int insecure;
    int tls_min;           /* as xmp_session_opts: 13 for TLS 1.3 only */
    const char *proxy;
    int allow_http;        /* an http:// URL is allowed (no TLS at all) */
    int timeout_ms;        /* to connect, and then without progress;
                              0: 30 s */
    xmp_trace_fn trace;    /* never sees the header values */
    void *trace_ud;
};

struct xmp_http;

/* Start (connecting needs no DNS wait here, as for a session).  NULL
 * with err set when the request cannot be made. */
struct xmp_http *xmp_http_new(const struct xmp_http_opts *opts,
                              struct xmp_error *err);
void xmp_http_free(struct xmp_http *h);
int xmp_http_fd(const struct xmp_http *h);
short xmp_http_events(const struct xmp_http *h);
int64_t xmp_http_deadline(const struct xmp_http *h);
int xmp_http_pending(const struct xmp_http *h);
enum xmp_err xmp_http_step(struct xmp_http *h);
const struct xmp_error *xmp_http_error(const struct xmp_http *h);
/* Body bytes the connection has taken so far. */
uint64_t xmp_http_sent(const struct xmp_http *h);
/* The answer's status once one came (0 before). */
int xmp_http_status(const struct xmp_http *h);

/* Blocking convenience on top of step: poll until done(ud) returns true,
 * the session is CLOSED or FAILED, or timeout_ms passes (-1: the session's
 * own deadlines only).  Returns XMP_OK when done() became true. */
enum xmp_err xmp_session_run(struct xmp_session *s, int (*done)(void *ud),
                             void *ud, int timeout_ms);

/* ---- OMEMO end-to-end encryption (XEP-0384) ------------------------------ */

/*
 * One OMEMO device of our account: its identity key, device id, signed
 * pre-key and one-time pre-keys, and its sessions with other devices, in
 * both namespaces: eu.siacs.conversations.axolotl (what deployed clients
 * speak) and urn:xmpp:omemo:2.  One identity key and one device id serve
 * both.  The double ratchet is libomemo-c's; the payload layers (AES-GCM
 * for axolotl, XEP-0420 envelope sealed with HKDF, AES-CBC and HMAC for
 * omemo:2) and the XML are ours.  No PEP, no network: the caller
 * publishes what xmp_omemo_bundle_xml and xmp_omemo_devicelist_xml build
 * and hands over what it fetched.
 *
 * Storage is the caller's, through named blobs: the library never
 * touches the file system.  Names are made of [a-z0-9.-] only (a JID
 * appears as 32 hex digits of its SHA-256), shorter than
 * XMP_OMEMO_NAME_MAX bytes, so a store may use them as file names.
 * Every call that changes state writes it before it returns.
 */
#define XMP_OMEMO_NAME_MAX 64

struct xmp_omemo_store {
    void *ud;
    /* XMP_OK with *data (the caller frees it) and *len, or with *data
     * NULL when there is no such blob; any other code is a failure. */
    enum xmp_err (*get)(void *ud, const char *name, unsigned char **data,
                        size_t *len);
    /* Replace the blob as a whole. */
    enum xmp_err (*put)(void *ud, const char *name, const unsigned char *data,
                        size_t len);
    /* XMP_OK also when there was none. */
    enum xmp_err (*del)(void *ud, const char *name);
    /* Call each(arg, name) for every blob whose name begins with prefix,
     * in any order; each must not change the store. */
    enum xmp_err (*list)(void *ud, const char *prefix,
                         void (*each)(void *arg, const char *name),
                         void *arg);
};

enum xmp_omemo_ns {
    XMP_OMEMO_AXOLOTL = 1, /* eu.siacs.conversations.axolotl */
    XMP_OMEMO_V2 = 2       /* urn:xmpp:omemo:2 */
};
#define XMP_OMEMO_NS_AXOLOTL "eu.siacs.conversations.axolotl"
#define XMP_OMEMO_NS_V2 "urn:xmpp:omemo:2"
/* The namespace of an element's URI, or 0. */
enum xmp_omemo_ns xmp_omemo_ns_of(const char *uri);

/* How far a contact's device is trusted.  With blind trust (the default)
 * a device seen for the first time is XMP_OMEMO_BLIND and used at once;
 * with manual trust it is XMP_OMEMO_UNDECIDED until the caller sets it. */
enum xmp_omemo_trust {
    XMP_OMEMO_UNDECIDED = 0,
    XMP_OMEMO_BLIND,      /* trusted on first use, never verified */
    XMP_OMEMO_VERIFIED,   /* the user compared the fingerprint */
    XMP_OMEMO_DISTRUSTED  /* the user refused it */
};
/* "undecided", "blind", "verified", "distrusted" (static). */
const char *xmp_omemo_trust_name(enum xmp_omemo_trust t);

/* Why a message or a device was refused (XMP_OMEMO_OK: it was not). */
enum xmp_omemo_why {
    XMP_OMEMO_OK = 0,
    XMP_OMEMO_MALFORMED,   /* not a valid element, bundle, key or payload */
    XMP_OMEMO_NOT_FOR_US,  /* no key element for our device */
    XMP_OMEMO_NO_SESSION,  /* a message, not a key exchange, from a device
                              we have no session with (or a bundle is
                              needed to start one) */
    XMP_OMEMO_REPLAY,      /* a key element decrypted before */
    XMP_OMEMO_TAMPERED,    /* an authentication tag or MAC did not verify */
    XMP_OMEMO_CHANGED,     /* the device's identity key is not the one we
                              know: refused until the caller forgets it */
    XMP_OMEMO_UNTRUSTED,   /* distrusted, or undecided under manual trust */
    XMP_OMEMO_FORGED       /* omemo:2: the envelope names another sender */
};
/* A short description, "replayed message" (static). */
const char *xmp_omemo_why_name(enum xmp_omemo_why why);

#define XMP_OMEMO_TRUST_MANUAL 1 /* xmp_omemo_new flags */

struct xmp_omemo;

/* Open our device in store (borrowed: it must outlive om), creating it on
 * first use: identity key, a device id in 1..2^31-1, a signed pre-key and
 * 100 pre-keys.  own_jid is our bare JID (omemo:2 envelopes name it).
 * flags: 0 or XMP_OMEMO_TRUST_MANUAL. */
enum xmp_err xmp_omemo_new(const struct xmp_omemo_store *store,
                           const char *own_jid, unsigned flags,
                           struct xmp_omemo **out, struct xmp_error *err);
void xmp_omemo_free(struct xmp_omemo *om);
uint32_t xmp_omemo_device_id(const struct xmp_omemo *om);

/* 64 hex digits in 8 groups of 8, and a NUL */
#define XMP_OMEMO_FPR_MAX 72
/* Our identity key as other clients print fingerprints: the Curve25519
 * public key in lower-case hex, groups of 8 digits separated by spaces. */
void xmp_omemo_fingerprint(const struct xmp_omemo *om,
                           char out[XMP_OMEMO_FPR_MAX]);

/* Our bundle (identity key, signed pre-key and its signature, the
 * pre-keys) as the <bundle/> element of ns, to publish. */
struct xmp_node *xmp_omemo_bundle_xml(struct xmp_omemo *om,
                                      enum xmp_omemo_ns ns,
                                      struct xmp_error *err);
/* A device list: <list/> (axolotl) or <devices/> (omemo:2). */
struct xmp_node *xmp_omemo_devicelist_xml(enum xmp_omemo_ns ns,
                                          const uint32_t *ids, size_t n,
                                          struct xmp_error *err);
/* Read a device list element of either namespace: *ids (caller frees)
 * and *n; *ns says which.  Invalid ids are skipped; XMP_EDATA when the
 * element is not a device list. */
enum xmp_err xmp_omemo_parse_devicelist(const struct xmp_node *list,
                                        enum xmp_omemo_ns *ns,
                                        uint32_t **ids, size_t *n,
                                        struct xmp_error *err);

/* One recipient device of xmp_omemo_encrypt. */
struct xmp_omemo_rcpt {
    const char *jid;               /* bare JID */
    uint32_t device;
    const struct xmp_node *bundle; /* its <bundle/>, needed only when we
                                      have no session with it yet */
    enum xmp_omemo_why why;        /* out: why this device was refused */
};

/* Non-zero when we hold a session with jid's device in ns. */
int xmp_omemo_has_session(struct xmp_omemo *om, enum xmp_omemo_ns ns,
                          const char *jid, uint32_t device);

/* Encrypt text (UTF-8; NULL for an empty key-transport message) for
 * every device in to[0..n), building sessions from bundles where needed:
 * *out is the <encrypted/> element of ns.  All or nothing: when any
 * device is refused (its why set: a bad bundle, a changed identity key,
 * distrusted, or undecided under manual trust) nothing is built and the
 * call fails with XMP_EDATA naming it; the caller may drop that device
 * and call again. */
enum xmp_err xmp_omemo_encrypt(struct xmp_omemo *om, enum xmp_omemo_ns ns,
                               const char *text, struct xmp_omemo_rcpt *to,
                               size_t n, struct xmp_node **out,
                               struct xmp_error *err);

struct xmp_omemo_msg {
    enum xmp_omemo_ns ns;
    uint32_t device;             /* the sender's device */
    char *text;                  /* NULL for a key-transport message */
    enum xmp_omemo_trust trust;  /* of the sender's device */
    char fingerprint[XMP_OMEMO_FPR_MAX]; /* its identity key */
    int key_exchange;            /* it started a session */
    /* one of our pre-keys was used up: publish the bundle again (it
     * holds a fresh one already); may be set on a refusal too, when the
     * key exchange went through and the payload did not */
    int republish;
    enum xmp_omemo_why why;      /* why it was refused */
};

/* Decrypt enc, an <encrypted/> of either namespace, from the bare JID
 * from (the stanza's sender; a full JID is cut to the bare one).
 * XMP_OK with msg filled (clear it with xmp_omemo_msg_clear), or
 * XMP_EDATA with msg->why saying why it was refused; XMP_EIO when the
 * store failed.  A distrusted device is refused; an undecided one (under
 * manual trust) is decrypted and msg->trust says so: whether to show its
 * text is the caller's decision.  A key-transport message (no payload)
 * succeeds with text NULL: nothing to show. */
enum xmp_err xmp_omemo_decrypt(struct xmp_omemo *om, const char *from,
                               const struct xmp_node *enc,
                               struct xmp_omemo_msg *msg,
                               struct xmp_error *err);
void xmp_omemo_msg_clear(struct xmp_omemo_msg *msg);

/* A contact's device as we know it: XMP_OK with *trust and fpr, or
 * XMP_EDATA when we have never seen its identity key. */
enum xmp_err xmp_omemo_device_trust(struct xmp_omemo *om, const char *jid,
                                    uint32_t device,
                                    enum xmp_omemo_trust *trust,
                                    char fpr[XMP_OMEMO_FPR_MAX],
                                    struct xmp_error *err);
/* Set a known device's trust (XMP_OMEMO_VERIFIED, XMP_OMEMO_DISTRUSTED,
 * ...): XMP_EDATA when it is not known. */
enum xmp_err xmp_omemo_set_trust(struct xmp_omemo *om, const char *jid,
                                 uint32_t device, enum xmp_omemo_trust trust,
                                 struct xmp_error *err);
/* Forget a contact's device: its identity key, trust and sessions, so
 * that a new identity key (XMP_OMEMO_CHANGED) is accepted next time. */
enum xmp_err xmp_omemo_forget(struct xmp_omemo *om, const char *jid,
                              uint32_t device, struct xmp_error *err);

/* A device whose identity key we know. */
struct xmp_omemo_device {
    char *jid;
    uint32_t device;
    enum xmp_omemo_trust trust;
    char fingerprint[XMP_OMEMO_FPR_MAX];
};
/* Every device we know, of jid or (jid NULL) of everyone: *out (free
 * with xmp_omemo_devices_free) and *n, sorted by JID and device. */
enum xmp_err xmp_omemo_known_devices(struct xmp_omemo *om, const char *jid,
                                     struct xmp_omemo_device **out,
                                     size_t *n, struct xmp_error *err);
void xmp_omemo_devices_free(struct xmp_omemo_device *v, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* XMP_H */
