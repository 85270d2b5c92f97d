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

/* Describe an error as "condition (text)": the <error/> child of a stanza,
 * or a <stream:error/> or SASL <failure/> itself.  Always fills buf. */
void xmp_error_describe(const struct xmp_node *n, char *buf, size_t len);

/* Check that s[0..len) is UTF-8 holding only characters XML 1.0 allows.
 * Returns XMP_OK or XMP_EDATA with err naming the offending byte offset. */
enum xmp_err xmp_xml_check_text(const char *s, size_t len,
                                struct xmp_error *err);

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

/* Fill buf (size len) with the password, NUL-terminated; return XMP_OK or
 * an error (err filled).  Called once, only when a mechanism needs it. */
typedef enum xmp_err (*xmp_password_fn)(void *ud, char *buf, size_t len,
                                        struct xmp_error *err);
/* Trace output.  Text is already redacted: no password and no SASL
 * payload ever reaches this callback. */
typedef void (*xmp_trace_fn)(void *ud, enum xmp_trace_dir dir,
                             const char *text, size_t len);
/* A stanza arrived while ready.  The tree is borrowed for the call. */
typedef void (*xmp_stanza_fn)(void *ud, const struct xmp_node *stanza);

struct xmp_session_opts {
    const char *jid;      /* required: local@domain[/resource] */
    const char *resource; /* NULL: the one in jid, else the server's choice */
    const char *server;   /* NULL: DNS SRV; else HOST, HOST:PORT, [V6]:PORT */
    int direct_tls;       /* with server: connect with TLS at once (XEP-0368) */
    const char *cafile;   /* NULL: the system bundle */
    int insecure;         /* skip certificate verification (lab use only) */
    const char *mech;     /* NULL: strongest offered; else force this one */
    int timeout_ms;       /* per step deadline (connect, each round trip) */
    xmp_password_fn password;
    void *password_ud;
    xmp_trace_fn trace;
    void *trace_ud;
    xmp_stanza_fn on_stanza;
    void *stanza_ud;
};

/* What a person debugging a server wants to know about a session. */
struct xmp_session_info {
    const char *domain;      /* the XMPP domain: what the certificate is for */
    const char *bound_jid;   /* full JID after bind */
    const char *host;        /* the host connected to */
    const char *address;     /* numeric address and port */
    unsigned port;
    const char *found_by;    /* "SRV _xmpp-client._tcp", "--server", "fallback" */
    int direct_tls;          /* 1: XEP-0368 direct TLS; 0: STARTTLS */
    const char *tls_version; /* "TLSv1.2" */
    const char *tls_cipher;
    const char *cert_subject;
    const char *cert_issuer;
    const char *cert_not_after; /* "YYYY-MM-DD HH:MM:SS UTC" */
    int cert_verified;       /* 0 only with insecure */
    const char *sasl_mech;
    const char *features;    /* space-separated features offered after auth */
    const char *sasl_offered; /* space-separated mechanisms offered */
};

struct xmp_session;

/* Create a session (no I/O yet).  NULL on error (err says why). */
struct xmp_session *xmp_session_new(const struct xmp_session_opts *opts,
                                    struct xmp_error *err);
void xmp_session_free(struct xmp_session *s);

/* Start connecting: resolves the domain (this blocks for DNS) and starts a
 * non-blocking connect.  Then drive the session with xmp_session_step. */
enum xmp_err xmp_session_start(struct xmp_session *s);

/* Event-loop interface: poll xmp_session_fd for xmp_session_events
 * (POLLIN/POLLOUT bits) until xmp_session_deadline (xmp_now_ms clock,
 * -1 for none), then call xmp_session_step, which does all work that is
 * ready and returns XMP_AGAIN, XMP_OK (phase is CLOSED) or an error
 * (phase is FAILED).  xmp_session_step must be called at once, without
 * polling, while xmp_session_pending says so (bytes buffered inside the
 * TLS layer are invisible to poll). */
int xmp_session_fd(const struct xmp_session *s);
short xmp_session_events(const struct xmp_session *s);
int64_t xmp_session_deadline(const struct xmp_session *s);
int xmp_session_pending(const struct xmp_session *s);
enum xmp_err xmp_session_step(struct xmp_session *s);

enum xmp_phase xmp_session_phase(const struct xmp_session *s);
const struct xmp_error *xmp_session_error(const struct xmp_session *s);
void xmp_session_get_info(const struct xmp_session *s,
                          struct xmp_session_info *info);

/* Queue a stanza (borrowed; serialized at once).  Only when READY.
 * *seq (may be NULL) receives its sequence number, counted from 1. */
enum xmp_err xmp_session_send(struct xmp_session *s,
                              const struct xmp_node *stanza, uint64_t *seq);
/* Ask the server to acknowledge everything sent so far.  Acknowledgement
 * arrives asynchronously; see xmp_session_acked. */
enum xmp_err xmp_session_request_ack(struct xmp_session *s);
/* Highest sequence number the server has acknowledged. */
uint64_t xmp_session_acked(const struct xmp_session *s);
/* A fresh id for a stanza ("xmp" + counter + random). Caller frees. */
char *xmp_session_new_id(struct xmp_session *s);

/* Begin the polite close (RFC 6120 §4.4): unavailable presence if any was
 * sent, </stream:stream>, then wait (bounded) for the server's close. */
enum xmp_err xmp_session_close(struct xmp_session *s);

/* Blocking convenience on top of step: poll until done(ud) returns true,
 * the session is CLOSED or FAILED, or timeout_ms passes (-1: the session's
 * own deadlines only).  Returns XMP_OK when done() became true. */
enum xmp_err xmp_session_run(struct xmp_session *s, int (*done)(void *ud),
                             void *ud, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* XMP_H */
