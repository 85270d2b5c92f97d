/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * session.c - a session's life as the public API sees it: creation,
 * start, what it knows, sending, acknowledgement, the polite close
 * (RFC 6120 §4.4); and the helpers the other session files share.
 *
 * The negotiation state machine is in negotiate.c, transport I/O and
 * the poll interface in session_io.c.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "session_int.h"

enum xmp_err session_fail(struct xmp_session *s, enum xmp_err code,
                          const char *fmt, ...)
{
    va_list ap;

    if (s->state == ST_FAILED)
        return s->err.code;
    s->err.code = code;
    va_start(ap, fmt);
    vsnprintf(s->err.msg, sizeof s->err.msg, fmt, ap);
    va_end(ap);
    s->state = ST_FAILED;
    session_io_shutdown(s);
    return code;
}

/* Keep an error a lower layer already described. */
enum xmp_err session_fail_with(struct xmp_session *s, const struct xmp_error *e)
{
    return session_fail(s, e->code, "%s", e->msg);
}

void session_trace(struct xmp_session *s, enum xmp_trace_dir dir,
                   const char *fmt, ...)
{
    va_list ap;
    struct buf b = BUF_INIT;
    int n;

    if (!s->o.trace)
        return;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_append(&b, "", 0) < 0 ||
        buf_printf(&b, "%*s", n, "") < 0) {
        buf_free(&b);
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b.data, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->o.trace(s->o.trace_ud, dir, b.data, b.len);
    buf_free(&b);
}

/* ---- sending -------------------------------------------------------- */

enum xmp_err session_send_raw(struct xmp_session *s, const char *xml,
                             const char *trace_text)
{
    if (buf_puts(&s->out, xml) < 0)
        return session_fail(s, XMP_ENOMEM, "out of memory");
    if (s->o.trace)
        s->o.trace(s->o.trace_ud, XMP_TRACE_OUT,
                   trace_text ? trace_text : xml,
                   strlen(trace_text ? trace_text : xml));
    s->last_progress = xmp_now_ms();
    return XMP_OK;
}

enum xmp_err session_send_node(struct xmp_session *s, const struct xmp_node *n)
{
    char *x = xmp_node_to_string(n, NS_CLIENT);
    enum xmp_err r;

    if (!x)
        return session_fail(s, XMP_ENOMEM, "out of memory");
    r = session_send_raw(s, x, NULL);
    free(x);
    return r;
}

/* RFC 6120 §4.7: open (or reopen) our stream.  'from' only once the
 * stream is encrypted, so the JID does not travel in the clear. */
char *xmp_session_new_id(struct xmp_session *s)
{
    char id[48];

    snprintf(id, sizeof id, "%s-%u", s->id_prefix, ++s->id_counter);
    return strdup(id);
}

/* ---- negotiation ---------------------------------------------------- */

/* Short names for the features a person debugging a server cares about:
 * "bind", "session", "sm:3", "csi:0"; anything else by its element name. */
static char *dup_opt(const char *p, int *bad)
{
    char *d;

    if (!p)
        return NULL;
    if (!(d = strdup(p)))
        *bad = 1;
    return d;
}

struct xmp_session *xmp_session_new(const struct xmp_session_opts *opts,
                                    struct xmp_error *err)
{
    struct xmp_session *s;
    unsigned char rnd[4];
    int bad = 0;

    if (!opts->jid) {
        xmp_error_set(err, XMP_EUSAGE, "no JID given");
        return NULL;
    }
    if (!(s = calloc(1, sizeof *s))) {
        xmp_error_set(err, XMP_ENOMEM, "out of memory");
        return NULL;
    }
    s->fd = -1;
    s->o = *opts;
    if (xmp_jid_parse(opts->jid, &s->jid, err) != XMP_OK) {
        free(s);
        return NULL;
    }
    if (!s->jid.local) {
        xmp_error_set(err, XMP_EDATA,
                      "invalid account JID '%s': no localpart", opts->jid);
        goto fail;
    }
    s->resource = dup_opt(opts->resource ? opts->resource : s->jid.resource,
                          &bad);
    s->server = dup_opt(opts->server, &bad);
    s->cafile = dup_opt(opts->cafile, &bad);
    s->mech_opt = dup_opt(opts->mech, &bad);
    /* The caller's strings may go away: only our copies are used. */
    s->o.jid = s->o.resource = s->o.server = s->o.cafile = s->o.mech = NULL;
    s->bare = xmp_jid_bare(&s->jid);
    if (bad || !s->bare) {
        xmp_error_set(err, XMP_ENOMEM, "out of memory");
        goto fail;
    }
    if (s->resource && (!*s->resource ||
                        xmp_xml_check_text(s->resource, strlen(s->resource),
                                           err) != XMP_OK)) {
        xmp_error_set(err, XMP_EDATA, "invalid resource '%s'", s->resource);
        goto fail;
    }
    if (s->o.timeout_ms <= 0)
        s->o.timeout_ms = SESSION_DEFAULT_TIMEOUT_MS;
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        memset(rnd, 0, sizeof rnd);
    snprintf(s->id_prefix, sizeof s->id_prefix, "xmp%02x%02x%02x%02x", rnd[0],
             rnd[1], rnd[2], rnd[3]);
    s->state = ST_IDLE;
    return s;
fail:
    xmp_session_free(s);
    return NULL;
}

void xmp_session_free(struct xmp_session *s)
{
    if (!s)
        return;
    session_io_shutdown(s);
    xml_reader_free(s->rd);
    net_connector_free(s->conn);
    sasl_free(s->sasl);
    buf_free(&s->out);
    buf_free(&s->in_left);
    xmp_jid_clear(&s->jid);
    free(s->targets);
    free(s->bare);
    free(s->resource);
    free(s->server);
    free(s->cafile);
    free(s->mech_opt);
    free(s->features);
    free(s->sasl_offered);
    free(s->bound);
    free(s->pending_id);
    free(s);
}

enum xmp_err xmp_session_start(struct xmp_session *s)
{
    static const struct xml_reader_cb cb = {session_on_stream_start,
                                            session_on_element,
                                            session_on_stream_end};
    struct xmp_error e;

    if (s->state != ST_IDLE)
        return xmp_error_set(&s->err, XMP_EUSAGE, "session already started");
    if (!(s->rd = xml_reader_new(&cb, s)))
        return session_fail(s, XMP_ENOMEM, "out of memory");
    if (s->server) {
        if (!(s->targets = calloc(1, sizeof *s->targets)))
            return session_fail(s, XMP_ENOMEM, "out of memory");
        if (net_parse_server(s->server, s->targets, &e) != XMP_OK)
            return session_fail_with(s, &e);
        s->targets[0].direct_tls = s->o.direct_tls;
        s->ntargets = 1;
    } else if (net_resolve(s->jid.domain, &s->targets, &s->ntargets, &e) !=
               XMP_OK) {
        return session_fail_with(s, &e);
    }
    if (net_connector_new(&s->conn, s->targets, s->ntargets, s->o.timeout_ms,
                          &e) != XMP_OK)
        return session_fail_with(s, &e);
    s->state = ST_CONNECTING;
    s->last_progress = xmp_now_ms();
    return XMP_OK;
}

enum xmp_phase xmp_session_phase(const struct xmp_session *s)
{
    switch (s->state) {
    case ST_IDLE:
        return XMP_PHASE_IDLE;
    case ST_CONNECTING:
        return XMP_PHASE_CONNECTING;
    case ST_READY:
        return XMP_PHASE_READY;
    case ST_CLOSING:
        return XMP_PHASE_CLOSING;
    case ST_CLOSED:
        return XMP_PHASE_CLOSED;
    case ST_FAILED:
        return XMP_PHASE_FAILED;
    default:
        return XMP_PHASE_NEGOTIATING;
    }
}

const struct xmp_error *xmp_session_error(const struct xmp_session *s)
{
    return &s->err;
}

void xmp_session_get_info(const struct xmp_session *s,
                          struct xmp_session_info *i)
{
    memset(i, 0, sizeof *i);
    i->domain = s->jid.domain;
    i->bound_jid = s->bound;
    i->host = s->target.host[0] ? s->target.host : NULL;
    i->address = s->address[0] ? s->address : NULL;
    i->port = s->target.port;
    i->found_by = s->target.found_by;
    i->direct_tls = s->target.direct_tls;
    if (s->tlsinfo.version[0]) {
        i->tls_version = s->tlsinfo.version;
        i->tls_cipher = s->tlsinfo.cipher;
        i->cert_subject = s->tlsinfo.subject;
        i->cert_issuer = s->tlsinfo.issuer;
        i->cert_not_after = s->tlsinfo.not_after;
        i->cert_verified = s->tlsinfo.verified;
    }
    i->sasl_mech = s->authenticated ? s->mech : NULL;
    i->features = s->features;
    i->sasl_offered = s->sasl_offered;
}

enum xmp_err xmp_session_send(struct xmp_session *s,
                              const struct xmp_node *stanza, uint64_t *seq)
{
    if (s->state != ST_READY)
        return xmp_error_set(&s->err, XMP_EUSAGE, "session is not ready");
    if (session_send_node(s, stanza) != XMP_OK)
        return s->err.code;
    if (node_is(stanza, NS_CLIENT, "presence") && !xmp_node_attr(stanza, "type"))
        s->sent_presence = 1;
    s->sent_seq++;
    if (seq)
        *seq = s->sent_seq;
    return XMP_OK;
}

enum xmp_err xmp_session_request_ack(struct xmp_session *s)
{
    char *id;
    struct buf b = BUF_INIT;
    enum xmp_err r;

    if (s->state != ST_READY)
        return xmp_error_set(&s->err, XMP_EUSAGE, "session is not ready");
    if (s->acked_seq == s->sent_seq)
        return XMP_OK;
    if (s->ack_pending) {
        /* The outstanding ping went out before the newer stanzas; ask
         * again as soon as it is answered. */
        if (s->sent_seq > s->ack_req_seq)
            s->ack_again = 1;
        return XMP_OK;
    }
    /* XEP-0199 ping to our server: its answer, whatever its type, comes
     * after the server has handled every stanza sent before it. */
    if (!(id = xmp_session_new_id(s)) ||
        buf_printf(&b, "<iq type='get' id='%s' to='%s'><ping xmlns='" NS_PING
                       "'/></iq>",
                   id, s->jid.domain) < 0) {
        free(id);
        buf_free(&b);
        return session_fail(s, XMP_ENOMEM, "out of memory");
    }
    snprintf(s->ack_id, sizeof s->ack_id, "%s", id);
    free(id);
    r = session_send_raw(s, b.data, NULL);
    buf_free(&b);
    s->ack_pending = 1;
    s->ack_req_seq = s->sent_seq;
    s->ack_sent = xmp_now_ms();
    return r;
}

uint64_t xmp_session_acked(const struct xmp_session *s)
{
    return s->acked_seq;
}

enum xmp_err xmp_session_close(struct xmp_session *s)
{
    switch (s->state) {
    case ST_CLOSING:
    case ST_CLOSED:
    case ST_FAILED:
        return XMP_OK;
    case ST_IDLE:
    case ST_CONNECTING:
    case ST_TLS_HANDSHAKE:
        session_io_shutdown(s);
        s->state = ST_CLOSED;
        return XMP_OK;
    default:
        break;
    }
    /* RFC 6121 §4.5.1: say goodbye to contacts if we said hello. */
    if (s->state == ST_READY && s->sent_presence &&
        session_send_raw(s, "<presence type='unavailable'/>", NULL) != XMP_OK)
        return s->err.code;
    if (session_send_raw(s, "</stream:stream>", NULL) != XMP_OK)
        return s->err.code;
    s->stream_open = 0;
    s->state = ST_CLOSING;
    s->close_started = xmp_now_ms();
    return XMP_OK;
}
