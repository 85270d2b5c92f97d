/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * session_base.c - what every part of a session uses: failing and
 * refusing, the trace, sending (counted as XEP-0198 counts), ids.  It
 * calls no part: what a part must learn of it (a failure, a stanza sent)
 * goes up through the hooks the core installs (session_int.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "session_int.h"

__attribute__((format(printf, 3, 0))) static void
verror(struct xmp_error *e, enum xmp_err code, const char *fmt, va_list ap)
{
    e->code = code;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

enum xmp_err session_fail(struct xmp_session *s, enum xmp_err code,
                          const char *fmt, ...)
{
    va_list ap;

    if (s->state == ST_FAILED)
        return s->err.code;
    va_start(ap, fmt);
    verror(&s->err, code, fmt, ap);
    va_end(ap);
    s->failed_from = s->state;
    s->state = ST_FAILED;
    session_trace(s, XMP_TRACE_INFO, "failed: %s", s->err.msg);
    s->hooks->failed(s);
    /* XEP-0198 §5: a session to be resumed must not be closed; our
     * </stream:stream> would end it on the server. */
    if (s->sm.resuming || (s->failed_from == ST_READY && s->sm.id))
        stream_drop(&s->st);
    else
        stream_shutdown(&s->st);
    net_connector_free(s->conn);
    s->conn = NULL;
    return code;
}

enum xmp_err session_fail_with(struct xmp_session *s, const struct xmp_error *e)
{
    return session_fail(s, e->code, "%s", e->msg);
}

enum xmp_err session_refuse(struct xmp_session *s, enum xmp_err code,
                            const char *fmt, ...)
{
    va_list ap;

    /* Why a failed session failed matters more than what was asked of
     * it afterwards. */
    if (s->state == ST_FAILED)
        return s->err.code;
    va_start(ap, fmt);
    verror(&s->err, code, fmt, ap);
    va_end(ap);
    return code;
}

void session_trace(struct xmp_session *s, enum xmp_trace_dir dir,
                   const char *fmt, ...)
{
    char small[256], *p = small;
    va_list ap;
    int n;

    if (!s->o.trace)
        return;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof small) {
        if (!(p = malloc((size_t)n + 1)))
            return;
        va_start(ap, fmt);
        vsnprintf(p, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    s->o.trace(s->o.trace_ud, dir, p, (size_t)n);
    if (p != small)
        free(p);
}

/* ---- sending -------------------------------------------------------- */

enum xmp_err session_send_raw(struct xmp_session *s, const char *xml,
                              const char *trace_text)
{
    struct xmp_error e;

    if (stream_queue(&s->st, xml, strlen(xml), trace_text, &e) != XMP_OK)
        return session_fail_with(s, &e);
    return XMP_OK;
}

enum xmp_err session_send_counted(struct xmp_session *s, const char *xml,
                                  uint64_t *seq)
{
    if (session_send_raw(s, xml, NULL) != XMP_OK)
        return s->err.code;
    s->out.sent_seq++;
    if (seq)
        *seq = s->out.sent_seq;
    return s->hooks->sent(s, s->out.sent_seq, xml);
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

int session_is_self(const struct xmp_session *s, const struct xmp_jid *j)
{
    struct xmp_jid d = { NULL, s->jid.domain, NULL };

    return xmp_jid_equal(j, &d) ||
           (!j->resource && j->local && s->jid.local &&
            strcasecmp(j->local, s->jid.local) == 0 &&
            strcasecmp(j->domain, s->jid.domain) == 0);
}

/* ---- counting and ids ---------------------------------------------- */

void session_acked(struct xmp_session *s, uint64_t seq)
{
    if (seq > s->out.acked_seq)
        s->out.acked_seq = seq;
}

void session_ack_error(struct xmp_session *s, const struct xmp_error *e)
{
    if (e)
        s->out.ack_err = *e;
    else
        xmp_error_clear(&s->out.ack_err);
}

void session_ids_init(struct xmp_session *s)
{
    unsigned char rnd[4];

    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        memset(rnd, 0, sizeof rnd);
    snprintf(s->out.id_prefix, sizeof s->out.id_prefix,
             "xmp%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
}

char *xmp_session_new_id(struct xmp_session *s)
{
    char id[48];

    snprintf(id, sizeof id, "%s-%u", s->out.id_prefix, ++s->out.id_counter);
    return strdup(id);
}

/* RFC 6120 §8: the three stanzas; everything else is a nonza. */
static int is_stanza(const struct xmp_node *n)
{
    const char *name = xmp_node_name(n);

    return strcmp(xmp_node_ns(n), NS_CLIENT) == 0 &&
           (strcmp(name, "message") == 0 || strcmp(name, "presence") == 0 ||
            strcmp(name, "iq") == 0);
}

enum xmp_err xmp_session_send(struct xmp_session *s,
                              const struct xmp_node *stanza, uint64_t *seq)
{
    char *x;
    enum xmp_err r;

    if (seq)
        *seq = 0;
    if (s->state != ST_READY && !s->a2.early)
        return session_refuse(s, XMP_EUSAGE, "session is not ready");
    if (!is_stanza(stanza))
        return session_send_node(s, stanza);
    if (!(x = xmp_node_to_string(stanza, NS_CLIENT)))
        return session_fail(s, XMP_ENOMEM, "out of memory");
    r = session_send_counted(s, x, seq);
    free(x);
    if (r != XMP_OK)
        return r;
    /* RFC 6121 §4.2: initial presence is untyped and has no 'to'. */
    if (node_is(stanza, NS_CLIENT, "presence") &&
        !xmp_node_attr(stanza, "type") && !xmp_node_attr(stanza, "to"))
        s->out.sent_presence = 1;
    return XMP_OK;
}

enum xmp_err session_check_bound(struct xmp_session *s, const char *jid,
                                 int need_resource, const char *what)
{
    struct xmp_jid j;
    struct xmp_error e;
    char *bare;
    int same;

    if (xmp_jid_parse(jid, &j, &e) != XMP_OK)
        return session_fail(s, XMP_EPROTO, "server %s an invalid JID '%s'",
                            what, jid);
    /* RFC 6120 §7.6.2: the server may change the resource, not who we
     * are.  RFC 7622 §3.3: localparts compare case-insensitively, so
     * Alice@ and alice@ are the same account. */
    bare = xmp_jid_bare(&j);
    same = bare && strcasecmp(bare, s->bare) == 0;
    free(bare);
    if (same && need_resource && !j.resource) {
        xmp_jid_clear(&j);
        return session_fail(s, XMP_EPROTO, "server %s %s, without a "
                            "resource", what, jid);
    }
    xmp_jid_clear(&j);
    if (!same)
        return session_fail(s, XMP_EPROTO, "server %s %s, which is not %s",
                            what, jid, s->bare);
    return XMP_OK;
}

enum xmp_err session_send_secret(struct xmp_session *s, struct buf *x,
                                 struct buf *t)
{
    enum xmp_err r;

    if (!x->data || !t->data)
        r = session_fail(s, XMP_ENOMEM, "out of memory");
    else
        r = session_send_raw(s, x->data, t->data);
    if (x->data)
        explicit_bzero(x->data, x->len);
    buf_free(x);
    buf_free(t);
    return r;
}
