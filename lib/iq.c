/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * iq.c - requests and their answers (RFC 6120 §8.2.3): ids, the sender a
 * reply must come from, a deadline per request that fails the request and
 * not the session.  The acknowledgement barrier and the keepalive are
 * requests of our own, pings to the server (XEP-0199).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "session_int.h"

enum request_kind {
    REQ_CALLER,    /* xmp_session_send_iq */
    REQ_ACK,       /* xmp_session_request_ack */
    REQ_KEEPALIVE
};

struct request {
    struct request *next;
    enum request_kind kind;
    unsigned handle;
    char *id;
    struct xmp_jid to;   /* to.domain NULL: no 'to' */
    int64_t deadline;
    int timeout_ms;
    uint64_t seq;        /* the request's own number: what it vouches for */
    xmp_iq_fn cb;
    void *ud;
};

static void request_free(struct request *r)
{
    free(r->id);
    xmp_jid_clear(&r->to);
    free(r);
}

void iq_free_all(struct xmp_session *s)
{
    struct request *r, *next;

    for (r = s->rq.requests; r; r = next) {
        next = r->next;
        request_free(r);
    }
    s->rq.requests = NULL;
    s->rq.nrequests = 0;
}

/* Keep the list in deadline order; equal deadlines in sending order. */
static void insert(struct xmp_session *s, struct request *r)
{
    struct request **pp = &s->rq.requests;

    while (*pp && (*pp)->deadline <= r->deadline)
        pp = &(*pp)->next;
    r->next = *pp;
    *pp = r;
    if (r->kind == REQ_CALLER)
        s->rq.nrequests++;
}

static void unlink_req(struct xmp_session *s, struct request *r)
{
    struct request **pp;

    for (pp = &s->rq.requests; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            if (r->kind == REQ_CALLER)
                s->rq.nrequests--;
            return;
        }
    }
}

/* Send iq (an id is added when it has none) and remember it. */
static enum xmp_err send_request(struct xmp_session *s, struct xmp_node *iq,
                                 enum request_kind kind, int timeout_ms,
                                 struct request **out)
{
    const char *to = xmp_node_attr(iq, "to"), *id = xmp_node_attr(iq, "id");
    struct request *r;
    struct xmp_error e;
    char *fresh = NULL;

    /* before <success/> only while stanzas may go ahead (pipelining):
     * the answer comes once we are ready */
    if (s->state != ST_READY && !s->a2.early)
        return session_refuse(s, XMP_EUSAGE, "session is not ready");
    if (!(r = calloc(1, sizeof *r)))
        return session_fail(s, XMP_ENOMEM, "out of memory");
    if (to && xmp_jid_parse(to, &r->to, &e) != XMP_OK) {
        request_free(r);
        return session_refuse(s, XMP_EDATA, "request not sent: %s", e.msg);
    }
    if (!id) {
        if (!(fresh = xmp_session_new_id(s)) ||
            xmp_node_set_attr(iq, "id", fresh, &e) != XMP_OK) {
            free(fresh);
            request_free(r);
            return session_fail(s, XMP_ENOMEM, "out of memory");
        }
        free(fresh);
        id = xmp_node_attr(iq, "id");
    }
    if (!(r->id = strdup(id))) {
        request_free(r);
        return session_fail(s, XMP_ENOMEM, "out of memory");
    }
    if (xmp_session_send(s, iq, &r->seq) != XMP_OK) {
        request_free(r);
        return s->err.code;
    }
    r->kind = kind;
    r->handle = ++s->rq.request_ids;
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : s->o.timeout_ms;
    r->deadline = xmp_now_ms() + r->timeout_ms;
    insert(s, r);
    *out = r;
    return XMP_OK;
}

enum xmp_err xmp_session_send_iq(struct xmp_session *s, struct xmp_node *iq,
                                 int timeout_ms, xmp_iq_fn cb, void *ud,
                                 unsigned *handle)
{
    const char *type = xmp_node_attr(iq, "type");
    struct request *r;
    enum xmp_err rc;

    if (!node_is(iq, NS_CLIENT, "iq") || !type ||
        (strcmp(type, "get") != 0 && strcmp(type, "set") != 0))
        return session_refuse(s, XMP_EUSAGE,
                              "only an iq get or set is a request");
    if ((rc = send_request(s, iq, REQ_CALLER, timeout_ms, &r)) != XMP_OK)
        return rc;
    r->cb = cb;
    r->ud = ud;
    if (handle)
        *handle = r->handle;
    return XMP_OK;
}

enum xmp_err xmp_iq_cancel(struct xmp_session *s, unsigned handle)
{
    struct request *r;

    for (r = s->rq.requests; r; r = r->next) {
        if (r->kind == REQ_CALLER && r->handle == handle) {
            unlink_req(s, r);
            request_free(r);
            return XMP_OK;
        }
    }
    return XMP_EUSAGE;
}

size_t xmp_session_requests(const struct xmp_session *s)
{
    return s->rq.nrequests;
}

/* RFC 6120 §8.1.2.1 and §10.1.4: the answer to a request sent to X comes
 * from X; to a request without 'to' or to our own bare JID, the server
 * answers for our account: from our bare JID, our domain or no 'from'. */
static int from_ok(const struct xmp_session *s, const struct request *r,
                   const char *from)
{
    struct xmp_jid f;
    int ok;

    if (!r->to.domain || (r->to.local && session_is_self(s, &r->to))) {
        if (!from)
            return 1;
        if (xmp_jid_parse(from, &f, NULL) != XMP_OK)
            return 0;
        ok = session_is_self(s, &f);
        xmp_jid_clear(&f);
        return ok;
    }
    if (!from || xmp_jid_parse(from, &f, NULL) != XMP_OK)
        return 0;
    ok = xmp_jid_equal(&f, &r->to);
    xmp_jid_clear(&f);
    return ok;
}

static void call(struct xmp_session *s, struct request *r,
                 const struct xmp_node *reply, const struct xmp_error *e);

int iq_take_reply(struct xmp_session *s, const struct xmp_node *st)
{
    const char *type = xmp_node_attr(st, "type"), *id = xmp_node_attr(st, "id");
    const char *from = xmp_node_attr(st, "from");
    struct request *r;
    int same_id = 0;

    if (!node_is(st, NS_CLIENT, "iq") || !type || !id ||
        (strcmp(type, "result") != 0 && strcmp(type, "error") != 0))
        return 0;
    for (r = s->rq.requests; r; r = r->next) {
        if (strcmp(r->id, id) != 0)
            continue;
        same_id = 1;
        /* Ids are the caller's to choose: another request may share it. */
        if (!from_ok(s, r, from))
            continue;
        unlink_req(s, r);
        call(s, r, st, NULL);
        request_free(r);
        return 1;
    }
    if (same_id)
        session_trace(s, XMP_TRACE_INFO,
                      "ignoring a reply to request %s from %s: the request "
                      "went elsewhere",
                      id, from ? from : "(no from)");
    return 0;
}

/* ---- acknowledgement ------------------------------------------------ */

static struct xmp_node *server_ping(struct xmp_session *s)
{
    struct xmp_node *iq = xmp_node_new(NS_CLIENT, "iq", NULL);

    if (!iq || xmp_node_set_attr(iq, "type", "get", NULL) != XMP_OK ||
        xmp_node_set_attr(iq, "to", s->jid.domain, NULL) != XMP_OK ||
        !xmp_node_add_child(iq, NS_PING, "ping", NULL)) {
        xmp_node_free(iq);
        return NULL;
    }
    return iq;
}

enum xmp_err xmp_session_request_ack(struct xmp_session *s)
{
    struct xmp_node *iq;
    struct request *r;
    enum xmp_err rc;

    /* before <success/>, only behind an inline <enable/> (pipelining) */
    if (s->state != ST_READY &&
        !(s->a2.early && s->sm.state == SM_ENABLING))
        return session_refuse(s, XMP_EUSAGE, "session is not ready");
    session_ack_error(s, NULL);
    if (s->out.acked_seq == s->out.sent_seq)
        return XMP_OK;
    if (s->sm.state != SM_OFF)
        return sm_request_ack(s);
    if (s->rq.ack_pending) {
        /* The outstanding ping went out before the newer stanzas; ask
         * again as soon as it is answered. */
        if (s->out.sent_seq > s->rq.ack_req_seq)
            s->rq.ack_again = 1;
        return XMP_OK;
    }
    /* XEP-0199 ping to our server: its answer, whatever its type, comes
     * after the server has handled every stanza sent before it, since it
     * handles a session's stanzas in order (RFC 6120 §10.1). */
    if (!(iq = server_ping(s)))
        return session_fail(s, XMP_ENOMEM, "out of memory");
    rc = send_request(s, iq, REQ_ACK, 0, &r);
    xmp_node_free(iq);
    if (rc != XMP_OK)
        return rc;
    s->rq.ack_pending = 1;
    s->rq.ack_req_seq = r->seq;
    return XMP_OK;
}

uint64_t xmp_session_acked(const struct xmp_session *s)
{
    return s->out.acked_seq;
}

const struct xmp_error *xmp_session_ack_error(const struct xmp_session *s)
{
    return s->out.ack_err.code != XMP_OK ? &s->out.ack_err : NULL;
}

static void ack_done(struct xmp_session *s, const struct request *r,
                     const struct xmp_error *e)
{
    s->rq.ack_pending = 0;
    if (e) {
        s->rq.ack_again = 0;
        session_ack_error(s, e);
        return;
    }
    /* The ping's own number counts too: it was answered. */
    session_acked(s, r->seq);
    if (s->rq.ack_again && s->state == ST_READY) {
        s->rq.ack_again = 0;
        xmp_session_request_ack(s);
    }
}

/* ---- keepalive ------------------------------------------------------- */

void xmp_session_set_keepalive(struct xmp_session *s, int interval_ms,
                               int timeout_ms)
{
    s->rq.keepalive_ms = interval_ms > 0 ? interval_ms : 0;
    s->rq.keepalive_timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

static int64_t keepalive_due(const struct xmp_session *s)
{
    if (!s->rq.keepalive_ms || s->rq.keepalive_pending || s->state != ST_READY)
        return -1;
    return s->st.last_in + s->rq.keepalive_ms;
}

static void keepalive_send(struct xmp_session *s)
{
    struct xmp_node *iq = server_ping(s);
    struct request *r;

    if (!iq) {
        session_fail(s, XMP_ENOMEM, "out of memory");
        return;
    }
    session_trace(s, XMP_TRACE_INFO, "nothing heard for %d s: keepalive ping",
                  (s->rq.keepalive_ms + 999) / 1000);
    if (send_request(s, iq, REQ_KEEPALIVE, s->rq.keepalive_timeout_ms, &r) ==
        XMP_OK)
        s->rq.keepalive_pending = 1;
    xmp_node_free(iq);
}

/* ---- answers, timeouts, the end ------------------------------------- */

static void call(struct xmp_session *s, struct request *r,
                 const struct xmp_node *reply, const struct xmp_error *e)
{
    int wait_ms;

    switch (r->kind) {
    case REQ_CALLER:
        /* Answered by our server, in order (RFC 6120 §10.1), like the
         * acknowledgement ping: it vouches for what went before, which
         * matters when our close is out and no ping can follow. */
        if (!e && (!r->to.domain ||
                   (!r->to.local && !r->to.resource &&
                    strcasecmp(r->to.domain, s->jid.domain) == 0)))
            session_acked(s, r->seq);
        if (r->cb) {
            s->in_callback++;
            r->cb(s, reply, e, r->ud);
            s->in_callback--;
        }
        break;
    case REQ_ACK:
        ack_done(s, r, e);
        break;
    case REQ_KEEPALIVE:
        s->rq.keepalive_pending = 0;
        /* Answered in order, like the acknowledgement ping. */
        if (!e)
            session_acked(s, r->seq);
        /* Any answer shows the server is there; silence means it is not,
         * or cannot reach us: the connection is dead either way. */
        if (e && e->code == XMP_ETIMEOUT) {
            wait_ms = s->rq.keepalive_timeout_ms ? s->rq.keepalive_timeout_ms
                                                 : s->o.timeout_ms;
            session_fail(s, XMP_EUNREACH,
                         "connection to %s lost: no answer to a keepalive "
                         "ping in %d s",
                         s->jid.domain, (wait_ms + 999) / 1000);
        }
        break;
    }
}

int64_t iq_deadline(const struct xmp_session *s)
{
    int64_t d = s->rq.requests ? s->rq.requests->deadline : -1, k;

    k = keepalive_due(s);
    if (k >= 0 && (d < 0 || k < d))
        d = k;
    k = sm_deadline(s);
    if (k >= 0 && (d < 0 || k < d))
        d = k;
    return d;
}

void iq_timers(struct xmp_session *s, int64_t now)
{
    struct xmp_error e;
    struct request *r;
    int64_t k;

    while ((r = s->rq.requests) && r->deadline <= now &&
           (s->state == ST_READY || s->state == ST_CLOSING)) {
        unlink_req(s, r);
        session_trace(s, XMP_TRACE_INFO, "no answer to request %s in time",
                      r->id);
        xmp_error_set(&e, XMP_ETIMEOUT,
                      "no answer to request %s from %s%s%s within %d s",
                      r->id, r->to.local ? r->to.local : "",
                      r->to.local ? "@" : "",
                      r->to.domain ? r->to.domain : s->jid.domain,
                      (int)((r->timeout_ms + 999) / 1000));
        call(s, r, NULL, &e);
        request_free(r);
    }
    if (s->state == ST_READY || s->state == ST_CLOSING)
        sm_timers(s, now);
    k = keepalive_due(s);
    if (k >= 0 && now >= k)
        keepalive_send(s);
}

void iq_fail_all(struct xmp_session *s)
{
    struct xmp_error e;
    struct request *r;

    if (s->state == ST_FAILED)
        e = s->err;
    else
        xmp_error_set(&e, XMP_EUNREACH,
                      "the session with %s ended before the answer",
                      s->jid.domain);
    while ((r = s->rq.requests)) {
        unlink_req(s, r);
        call(s, r, NULL, &e);
        request_free(r);
    }
}
