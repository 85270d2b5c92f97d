/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * session_int.h - what the session's files share.  Private.
 *
 *   session_io.c  the step function, deadlines, the poll interface
 *   session.c     the core: creation, connecting, reconnecting, closing,
 *                 freeing, what a session knows; it installs the hooks
 *   local.c       a local session holder's link instead of the network
 *   negotiate.c   the negotiation state machine (RFC 6120 §4-§7)
 *   handler.c     handlers, and the dispatch of stanzas while ready
 *   iq.c          requests and their answers, acknowledgement, keepalive
 *   sasl2.c       XEP-0388 SASL2 around the SASL mechanisms: <authenticate>
 *                 with Bind2 (XEP-0386) and FAST (XEP-0484), its answers
 *   sm.c          stream management (XEP-0198): counting, <r/> and <a/>
 *   session_base.c  what every part uses: failing, refusing, tracing,
 *                 sending, counting, ids; it calls no part
 *
 * Calls go down this list (the core calls the parts, the parts call
 * session_base.c and the stream); news goes up through the hooks.  Each
 * part of struct xmp_session is written by its own file only; the core's
 * state and error are the state machine every file moves.
 */
#ifndef XMP_SESSION_INT_H
#define XMP_SESSION_INT_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "net.h"
#include "sasl.h"
#include "stream.h"
#include "hints.h"
#include "tls.h"
#include "xml.h"
#include "xmp.h"

#define SESSION_DEFAULT_TIMEOUT_MS 30000
/* RFC 6120 §4.4: wait for the peer's </stream:stream>, but not forever. */
#define SESSION_CLOSE_WAIT_MS 5000
/* Mechanisms we look at in one <mechanisms/> list. */
#define SESSION_MAX_MECHS 32

enum session_state {
    ST_IDLE,
    ST_CONNECTING,
    ST_TLS_HANDSHAKE,
    ST_WAIT_FEATURES, /* our header is out; waiting for header + features */
    ST_WAIT_PROCEED,  /* <starttls/> is out */
    ST_WAIT_SASL,     /* <auth/> or <response/> is out */
    ST_WAIT_BIND,
    ST_WAIT_SESSION,
    ST_WAIT_RESUME,   /* XEP-0198 <resume/> is out */
    ST_RESUME_WAIT,   /* the connection was lost: the next attempt to
                         resume is due at resume_at */
    ST_READY,
    ST_CLOSING,
    ST_CLOSED,
    ST_FAILED
};

enum session_restart { RESTART_NONE, RESTART_TLS, RESTART_STREAM };

/* XEP-0198 on this stream: not in use, <enable/> sent, <enabled/> read. */
enum sm_state { SM_OFF, SM_ENABLING, SM_ON };

#define NS_CLIENT "jabber:client"
#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_PING "urn:xmpp:ping"
#define NS_ROSTER "jabber:iq:roster"
#define NS_SM "urn:xmpp:sm:3"
#define NS_STREAMS "urn:ietf:params:xml:ns:xmpp-streams"
#define NS_SASL_CB "urn:xmpp:sasl-cb:0"
#define NS_SASL2 "urn:xmpp:sasl:2"
#define NS_BIND2 "urn:xmpp:bind:0"
#define NS_FAST "urn:xmpp:fast:0"
#define NS_CARBONS "urn:xmpp:carbons:2"
#define NS_CSI "urn:xmpp:csi:0"

static inline int node_is(const struct xmp_node *n, const char *ns,
                          const char *name)
{
    return strcmp(xmp_node_ns(n), ns) == 0 &&
           strcmp(xmp_node_name(n), name) == 0;
}

struct handler;
struct request;
struct sm_kept;

/* News going up: the core (session.c) installs these, so that the files
 * below it hear of each other without calling into the files above. */
struct session_hooks {
    /* session_fail has just failed the session */
    void (*failed)(struct xmp_session *s);
    /* session_send_counted has just queued a stanza, numbered seq */
    enum xmp_err (*sent)(struct xmp_session *s, uint64_t seq,
                         const char *xml);
    /* acknowledgement is asked for again (xmp_session_request_ack) */
    enum xmp_err (*ack)(struct xmp_session *s);
    /* a new connection for the session's resumption */
    enum xmp_err (*reconnect)(struct xmp_session *s);
};

/* The parts of a session.  Each is written by the one file named with
 * it; the others read it, or ask its owner through the functions below. */

/* The options' strings, copied (session.c, at creation). */
struct session_config {
    char *resource, *server, *cafile, *mech_opt;
    char *pin, *client_cert, *client_key;
    char *local;           /* opts.local_socket: a holder's link (local.c) */
    char *proxy;           /* opts.proxy: may hold a password */
    char *user_agent, *software; /* opts.user_agent_id, opts.software */
    char *probe_from;      /* opts.probe_from */
};

/* The negotiation of the current connection (negotiate.c). */
struct session_neg {
    struct tls_info tlsinfo;
    enum session_restart restart;
    struct sasl *sasl;
    const char *mech;
    char *sasl_offered;
    char *feat_plain, *feat_preauth, *mechs_plain; /* for the info */
    char *cb_offered;     /* XEP-0440 types, space-separated; NULL: no list */
    const char *cb_type;  /* the channel binding in use, or NULL */
    int ssdp_pending;     /* the next challenge is SCRAM's server-first */
    int ssdp_checked;     /* XEP-0474 hash seen and verified */
    int authenticated;
    int session_required;
    int piped_starttls;   /* <starttls/> went out with the stream header */
    int piped_bind;       /* the bind went out with the restart header */
    int piped_auth;       /* <auth/> went out on the hints' features */
    int piping_auth;      /* start_auth is choosing on the hints' features */
    int auth_stale;       /* ... which lack the mechanism: expect a
                             <failure/>, then start again on the real
                             ones */
    int hints_features;   /* the hints' features were right */
    int tls_required;     /* the plaintext <starttls/> had <required/> */
    int probed;           /* a probe has what it came for (opts.probe) */
    int probe_close;      /* ... and the step closes the session next */
    char *pending_id;
    char *bound;
};

/* XEP-0388 SASL2 on the current connection, and the FAST token of the
 * session (sasl2.c). */
struct session_auth2 {
    /* what <authentication/> offered (or the hints said it would) */
    int offered;
    char *mechs;           /* space-separated */
    char *fast_mechs;      /* XEP-0484 <fast/>; NULL: no FAST */
    char *bind2;           /* XEP-0386 inline features; NULL: no Bind2 */
    char *sasl1;           /* the SASL <mechanisms/> beside it: what
                              XEP-0474's hash covers (ejabberd 24.12) */
    /* this login */
    int active;            /* <authenticate/> is out */
    int piped;             /* ... on the hints' features, before these */
    int bind;              /* Bind2 asked for */
    int sm_asked;          /* ... with stream management enabled in it */
    int sm_inline;         /* <sm/> in <inline/>: resumption inside */
    int resume_inline;     /* ... asked for */
    int features_due;      /* resumed inside: the features follow */
    const char *ht;        /* logging in with the token, by this HT-*;
                              NULL: by a SASL mechanism */
    unsigned char cb[TLS_CB_MAX]; /* the HT binding data, for the proof */
    size_t cb_len;
    const char *requested; /* the token mechanism asked for, or NULL */
    int early;             /* stanzas may go before <success/> */
    uint64_t early_seq;    /* sent_seq when they began to */
    unsigned pipelined, early_unconfirmed;
    int success_seen;      /* <success/> arrived (verified or not) */
    int bound;             /* <success/> carried <bound/> */
    /* the token (opts.fast, then what the server issued) */
    char *token, *token_mech;
    int64_t token_expiry;
    int refused;           /* the server refused it on this session */
    const char *new_mech;  /* for the info: a token was issued */
    int64_t new_expiry;
    const char *used;      /* for the info: logged in with it, by this */
};

/* What a connection learnt that saves the next one round trips
 * (session.c). */
struct session_hints {
    struct hints given;   /* opts.hints, decoded (all NULL: none) */
    char context[2 * 32 + 1]; /* SHA-256 of opts.hints_context in hex,
                                 "-" for none */
    struct buf out;       /* xmp_session_hints */
};

/* Counting what we send, and what is confirmed (session_base.c). */
struct session_out {
    uint64_t sent_seq, acked_seq;
    struct xmp_error ack_err;
    int sent_presence;
    char id_prefix[16];
    unsigned id_counter;
};

/* Stream management, XEP-0198 (sm.c). */
struct session_sm {
    int offered;           /* the features after authentication had <sm/> */
    enum sm_state state;
    uint64_t base;         /* sent_seq when <enable/> went out */
    uint64_t handled;      /* the server's h, unwrapped: how many of the
                              stanzas sent since <enable/> it handled */
    uint32_t in;           /* our h: stanzas handled since <enabled/> */
    int r_pending;         /* an <r/> is out and not yet covered */
    uint64_t r_seq;        /* sent_seq at the latest <r/> */
    int64_t r_deadline;
    char *id;              /* the server's id for resumption, if any */
    /* Stanzas sent and not yet acknowledged, oldest first, kept while
     * the session may be resumed (they are sent again after it). */
    struct sm_kept *kept, *kept_tail;
    size_t kept_bytes;
    /* resumption after a lost connection (XEP-0198 §5) */
    int resuming;          /* reconnecting to resume, until READY */
    int resume_refused;    /* the server said no: fail for good */
    unsigned resume_attempts, resumed;
    int64_t resume_until;  /* give up after this (xmp_now_ms) */
    int64_t resume_at;     /* ST_RESUME_WAIT: the next attempt */
    char *resume_why;      /* how the connection was lost */
};

/* Handlers (handler.c). */
struct session_handlers {
    struct handler *handlers;  /* by priority, then age */
    unsigned handler_ids;
    int dispatching;
    int handlers_removed;      /* some were removed during a dispatch */
};

/* Requests, the acknowledgement ping and the keepalive (iq.c). */
struct session_requests {
    struct request *requests;  /* in order of deadline */
    unsigned request_ids;
    size_t nrequests;          /* the caller's, not ours */
    uint64_t ack_req_seq;
    int ack_pending;
    int ack_again;   /* stanzas were sent after the outstanding ping */
    int keepalive_ms, keepalive_timeout_ms;
    int keepalive_pending;
};

/* The core (session.c, and session_io.c, which drives it): who we are,
 * the state, the connection, and the parts. */
struct xmp_session {
    struct xmp_session_opts o; /* callbacks and numbers; its strings are
                                  not kept (see cfg) */
    struct xmp_jid jid;
    char *bare;
    struct session_config cfg;
    const struct session_hooks *hooks;
    enum session_state state;
    enum session_state failed_from; /* the state session_fail left */
    struct xmp_error err;
    int64_t wait_since;    /* negotiation: when we began waiting */
    int64_t close_started;
    int in_callback;       /* inside a handler or request callback */

    /* net */
    struct net_connector *conn; /* while connecting */
    struct net_target target;
    char address[64];

    struct stream st;
    struct session_neg neg;
    struct session_auth2 a2;
    struct session_hints hints;
    struct session_out out;
    struct session_sm sm;
    struct session_handlers hd;
    struct session_requests rq;
};

/* session_base.c */
enum xmp_err session_fail(struct xmp_session *s, enum xmp_err code,
                          const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Keep an error a lower layer already described. */
enum xmp_err session_fail_with(struct xmp_session *s,
                               const struct xmp_error *e);
/* Refuse a call (the session goes on): the code and message go to the
 * session's error, unless it has failed, whose reason is kept. */
enum xmp_err session_refuse(struct xmp_session *s, enum xmp_err code,
                            const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void session_trace(struct xmp_session *s, enum xmp_trace_dir dir,
                   const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Queue bytes (trace_text, if not NULL, is what the trace shows). */
enum xmp_err session_send_raw(struct xmp_session *s, const char *xml,
                              const char *trace_text);
enum xmp_err session_send_node(struct xmp_session *s,
                               const struct xmp_node *n);
/* Queue x, which holds a secret, with t in the trace; both are freed (x
 * wiped), also when either could not be made (a buffer left empty by a
 * failed buf_printf: the session fails, out of memory). */
enum xmp_err session_send_secret(struct xmp_session *s, struct buf *x,
                                 struct buf *t);
/* Queue a stanza we send by ourselves (an answer, our unavailable
 * presence), counted as XEP-0198 counts it, like xmp_session_send's. */
enum xmp_err session_send_counted(struct xmp_session *s, const char *xml,
                                  uint64_t *seq);
/* A JID of ours: our bare JID, or our domain. */
int session_is_self(const struct xmp_session *s, const struct xmp_jid *j);
/* The server has handled every stanza up to seq (acked_seq only grows). */
void session_acked(struct xmp_session *s, uint64_t seq);
/* The outstanding acknowledgement failed with e (NULL: none failed). */
void session_ack_error(struct xmp_session *s, const struct xmp_error *e);
/* The prefix of the ids we make (xmp_session_new_id), random. */
void session_ids_init(struct xmp_session *s);

/* The JID the server says we are (bind, or SASL2's authorization
 * identifier): valid, with our bare JID (RFC 7622 §3.3: localparts
 * compare case-insensitively) and, when need_resource, a resource.
 * XMP_OK, or the session fails (XMP_EPROTO) naming what names 'what'. */
enum xmp_err session_check_bound(struct xmp_session *s, const char *jid,
                                 int need_resource, const char *what);

/* sasl2.c */
/* The token of opts.fast, copied (xmp_session_new); free at the end. */
enum xmp_err sasl2_init(struct xmp_session *s);
void sasl2_free(struct xmp_session *s);
/* What this connection's SASL2 state was: gone (a new connection). */
void sasl2_reset(struct xmp_session *s);
/* Note <authentication/> in the features f (or, f NULL, the hints'):
 * 1 when SASL2 is to be used on this stream, 0 when not, -1 when the
 * session failed. */
int sasl2_note_features(struct xmp_session *s, const struct xmp_node *f);
/* The token may be used on this connection: its mechanism is offered,
 * its channel binding can be computed, TLS is verified. */
int sasl2_token_usable(struct xmp_session *s);
/* <authenticate/> with the token (HT-*): XMP_OK, or the session failed. */
enum xmp_err sasl2_start_ht(struct xmp_session *s);
/* <authenticate/> by a SASL mechanism with its base64 initial response
 * (NULL: none). */
enum xmp_err sasl2_start(struct xmp_session *s, const char *mech,
                         const char *initial);
/* <response/> to a challenge, base64 text. */
enum xmp_err sasl2_response(struct xmp_session *s, const char *b64);
/* The additional data of <success/> or <continue/>, or NULL (caller
 * frees). */
char *sasl2_additional(const struct xmp_node *el);
/* <success/>, its proof checked by the caller (SCRAM) or here (HT): the
 * authorization identifier, <bound/> (then s->neg.bound is set), the
 * token.  XMP_OK, or the session failed. */
enum xmp_err sasl2_success(struct xmp_session *s, const struct xmp_node *el);
/* After success: <bound/>'s stream management answer. */
enum xmp_err sasl2_bound_sm(struct xmp_session *s,
                            const struct xmp_node *success);
/* A <failure/> of the token: it is forgotten; 1 when the password may
 * be tried next, 0 when not (the session failed). */
int sasl2_token_refused(struct xmp_session *s, const struct xmp_node *el);
/* <continue/>: tasks we do not do; abort, and fail. */
enum xmp_err sasl2_continue(struct xmp_session *s, const struct xmp_node *el);
/* After a client message that may be the last before <success/>:
 * allow stanzas to go ahead (opts.pipeline), when safe. */
void sasl2_may_pipeline(struct xmp_session *s);
/* The early window closes: authentication is confirmed, or failed;
 * in_doubt: after a <success/> that did not verify, so the stanzas may
 * have reached the server. */
void sasl2_early_end(struct xmp_session *s, int in_doubt);

/* session.c */
/* Start a new connection to resume the session (sm.c decides when, and
 * asks through the reconnect hook; the step calls it when it is due). */
enum xmp_err session_reconnect(struct xmp_session *s);
/* Tests: take over a connected socket as if negotiation had just bound
 * 'bound', skipping TLS and SASL, so the ready state can be driven from
 * the other end of a socketpair. */
enum xmp_err session_adopt(struct xmp_session *s, int fd, const char *bound);
/* Tests: take over a connected socket as if the connector had just made
 * it (our stream header goes out), so that the whole negotiation can be
 * driven from the other end of a socketpair. */
enum xmp_err session_adopt_connected(struct xmp_session *s, int fd);

/* local.c: connect to s->cfg.local, the stream trusted without TLS or SASL */
enum xmp_err session_start_local(struct xmp_session *s);

/* negotiate.c: events from the stream */
int session_on_element(void *ud, struct xmp_node *el);
int session_on_stream_start(void *ud, const char *ns, const char *name,
                            const char **attrs);
void session_on_stream_end(void *ud);
enum xmp_err session_connected(struct xmp_session *s);
enum xmp_err session_tls_ready(struct xmp_session *s);
/* The stream paused at a restart point: start TLS or a new stream. */
enum xmp_err session_restart(struct xmp_session *s);

/* negotiate.c: its state, started over for a new connection, and freed */
void negotiate_reset(struct xmp_session *s);
void negotiate_free(struct xmp_session *s);
/* The stream is trusted without TLS or SASL (local.c). */
void negotiate_trusted(struct xmp_session *s);
/* Tests: as if negotiation had bound 'bound' (session_adopt). */
enum xmp_err negotiate_adopt(struct xmp_session *s, const char *bound);

/* handler.c */
enum xmp_err session_dispatch(struct xmp_session *s,
                              const struct xmp_node *st);
void handlers_free(struct xmp_session *s);

/* iq.c */
/* A reply to one of our requests: consumed (1) or not ours (0). */
int iq_take_reply(struct xmp_session *s, const struct xmp_node *st);
/* Earliest request deadline or keepalive time, -1 for none. */
int64_t iq_deadline(const struct xmp_session *s);
/* Time out requests, send a due keepalive. */
void iq_timers(struct xmp_session *s, int64_t now);
/* The session ended: every request gets its callback with the error. */
void iq_fail_all(struct xmp_session *s);
void iq_free_all(struct xmp_session *s);

/* sm.c */
/* The server's 32-bit h (XEP-0198 §4: it wraps to 0 after 2^32 - 1) as a
 * count on 64 bits, given the count it last confirmed: h never goes
 * back, so it is the first value at or after 'handled' that is congruent
 * to h modulo 2^32. */
uint64_t sm_unwrap(uint64_t handled, uint32_t h);
/* Look at the features offered after authentication. */
void sm_note_features(struct xmp_session *s, const struct xmp_node *f);
/* The session just became ready: <enable/> when the server offered it. */
enum xmp_err sm_enable(struct xmp_session *s);
/* XEP-0386: <enable/> inside Bind2's <bind/>, appended to b; counting
 * starts here. */
enum xmp_err sm_enable_inline(struct xmp_session *s, struct buf *b);
/* Inline enabling was not answered (authentication failed): off. */
void sm_inline_off(struct xmp_session *s);
/* An element of NS_SM arrived while ready or closing. */
enum xmp_err sm_element(struct xmp_session *s, const struct xmp_node *el);
/* A stanza was handled: counts towards our h. */
void sm_count_in(struct xmp_session *s, const struct xmp_node *el);
/* xmp_session_request_ack while stream management is in use. */
enum xmp_err sm_request_ack(struct xmp_session *s);
/* When the outstanding <r/> times out, -1 for none; and its timer. */
int64_t sm_deadline(const struct xmp_session *s);
void sm_timers(struct xmp_session *s, int64_t now);
/* A stanza just sent as seq: keep a copy while resumption is possible. */
enum xmp_err sm_keep(struct xmp_session *s, uint64_t seq, const char *xml);
void sm_kept_free(struct xmp_session *s);
/* Free what stream management holds (the kept stanzas too). */
void sm_free(struct xmp_session *s);
/* The stream ended on purpose: the session is not to be resumed. */
void sm_no_resume(struct xmp_session *s);
/* Bytes kept for resending: xmp_session_writable holds input back
 * beyond SM_KEPT_MAX. */
#define SM_KEPT_MAX (1024 * 1024)
/* The session just failed: resume it instead (1), or let it fail (0). */
int sm_resume_after_failure(struct xmp_session *s);
/* XEP-0198 <resume/> inside SASL2's <authenticate/> (XEP-0388, as
 * XEP-0386 allows), appended to b: 1 when written. */
int sm_resume_inline(struct xmp_session *s, struct buf *b);
/* The features after authentication on a new connection: <resume/>. */
enum xmp_err sm_resume(struct xmp_session *s, const struct xmp_node *f);

#endif
