/* SPDX-License-Identifier: GPL-3.0-or-later */
/* session_int.h - what session.c and session_io.c share.  Private. */
#ifndef XMP_SESSION_INT_H
#define XMP_SESSION_INT_H

#include <stdarg.h>
#include <stdio.h>

#include "buf.h"
#include "net.h"
#include "sasl.h"
#include "tls.h"
#include "xml.h"
#include "xmp.h"

#define SESSION_DEFAULT_TIMEOUT_MS 30000
/* RFC 6120 §4.4: wait for the peer's </stream:stream>, but not forever. */
#define SESSION_CLOSE_WAIT_MS 5000
/* Mechanisms we look at in one <mechanisms/> list. */
#define SESSION_MAX_MECHS 32
/* Bytes read from the transport per call. */
#define SESSION_READ_CHUNK 16384

enum session_state {
    ST_IDLE,
    ST_CONNECTING,
    ST_TLS_HANDSHAKE,
    ST_WAIT_FEATURES, /* our header is out; waiting for header + features */
    ST_WAIT_PROCEED,  /* <starttls/> is out */
    ST_WAIT_SASL,     /* <auth/> or <response/> is out */
    ST_WAIT_BIND,
    ST_WAIT_SESSION,
    ST_READY,
    ST_CLOSING,
    ST_CLOSED,
    ST_FAILED
};

enum session_restart { RESTART_NONE, RESTART_TLS, RESTART_STREAM };

#define NS_CLIENT "jabber:client"
#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_PING "urn:xmpp:ping"

#include <string.h>

static inline int node_is(const struct xmp_node *n, const char *ns,
                          const char *name)
{
    return strcmp(xmp_node_ns(n), ns) == 0 &&
           strcmp(xmp_node_name(n), name) == 0;
}

struct xmp_session {
    struct xmp_session_opts o; /* callbacks and flags; its strings are not
                                  kept (see the owned copies below) */
    struct xmp_jid jid;
    char *bare;
    char *resource, *server, *cafile, *mech_opt;
    enum session_state state;
    struct xmp_error err;

    /* net */
    struct net_target *targets;
    size_t ntargets;
    struct net_connector *conn;
    int fd;
    struct net_target target;
    char address[64];

    /* tls */
    struct tls *tls;
    struct tls_info tlsinfo;
    size_t tls_inflight; /* bytes offered to a TLS write that said AGAIN */
    int read_wants_write;

    /* xml */
    struct xml_reader *rd;
    struct buf out;
    struct buf in_left;
    enum session_restart restart;
    int stream_open; /* our header is out, our </stream:stream> is not */
    int peer_closed;

    /* negotiation */
    struct sasl *sasl;
    const char *mech;
    char *sasl_offered;
    char *features;
    int authenticated;
    int session_required;
    char *pending_id;
    char *bound;

    /* ready */
    uint64_t sent_seq, acked_seq, ack_req_seq;
    int ack_pending;
    int ack_again;   /* stanzas were sent after the outstanding ping */
    int64_t ack_sent;
    char ack_id[48];
    int sent_presence;
    char id_prefix[16];
    unsigned id_counter;

    int64_t last_progress;
    int64_t close_started;
};

enum xmp_err session_fail(struct xmp_session *s, enum xmp_err code,
                          const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void session_trace(struct xmp_session *s, enum xmp_trace_dir dir,
                   const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Keep an error a lower layer already described. */
enum xmp_err session_fail_with(struct xmp_session *s,
                               const struct xmp_error *e);
/* Queue bytes (trace_text, if not NULL, is what the trace shows). */
enum xmp_err session_send_raw(struct xmp_session *s, const char *xml,
                              const char *trace_text);
enum xmp_err session_send_node(struct xmp_session *s,
                               const struct xmp_node *n);

/* session.c: events from the I/O side */
int session_on_element(void *ud, struct xmp_node *el);
int session_on_stream_start(void *ud, const char *ns, const char *name,
                            const char **attrs);
void session_on_stream_end(void *ud);
enum xmp_err session_connected(struct xmp_session *s);
enum xmp_err session_tls_ready(struct xmp_session *s);
enum xmp_err session_restart_stream(struct xmp_session *s);

/* session_io.c */
enum xmp_err session_io_start_tls(struct xmp_session *s);
void session_io_shutdown(struct xmp_session *s);

#endif
