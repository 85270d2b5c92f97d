/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * peer.c - the server side of a local link (struct xmp_peer, xmp.h): a
 * client stream without TLS or SASL, as a session holder offers it to
 * the commands of the same user.  The same stream, reader and limits as
 * a client session; only the roles are swapped.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "session_int.h"

enum peer_state {
    PEER_WAIT_HEADER, /* nothing from the client yet */
    PEER_WAIT_BIND,   /* our features are out */
    PEER_READY,
    PEER_CLOSING,     /* our close is queued: flush, then done */
    PEER_CLOSED,
    PEER_FAILED
};

struct xmp_peer {
    struct stream st;
    enum peer_state state;
    struct xmp_error err;
    char *jid, *domain;
    struct xmp_peer_cb cb;
    void *ud;
    int timeout_ms;
    int64_t since;        /* negotiation: when it began */
    int sm;               /* the client enabled stream management */
    uint32_t h;           /* its stanzas counted since <enable/> */
    /* closed before its header came: the error to answer it with */
    int refuse;
    char *refuse_cond, *refuse_text;
};

static void close_with(struct xmp_peer *p, const char *condition,
                       const char *text);

static enum xmp_err send_header(struct xmp_peer *p, int features);

/* The error goes out behind whatever is queued (our header, say), best
 * effort and without waiting: the client gets told, we stop serving. */
static void peer_fail(struct xmp_peer *p, enum xmp_err code,
                      const char *condition, const char *msg)
{
    struct buf *b = &p->st.out;

    if (p->state == PEER_FAILED || p->state == PEER_CLOSED)
        return;
    xmp_error_set(&p->err, code, "%s", msg);
    p->state = PEER_FAILED;
    if (!stream_connected(&p->st))
        return;
    if (!p->st.open && p->st.out.len == 0)
        send_header(p, 0);
    if (p->st.open)
        buf_printf(b, "<stream:error><%s xmlns='" NS_STREAMS "'/>"
                      "</stream:error></stream:stream>", condition);
    stream_hang_up(&p->st);
}

static enum xmp_err queue(struct xmp_peer *p, const char *x)
{
    struct xmp_error e;

    if (stream_queue(&p->st, x, strlen(x), NULL, &e) != XMP_OK) {
        peer_fail(p, e.code, "resource-constraint", e.msg);
        return e.code;
    }
    return XMP_OK;
}

/* Our header, and at once the features (RFC 6120 §4.3.2). */
static enum xmp_err send_header(struct xmp_peer *p, int features)
{
    struct buf b = BUF_INIT;
    unsigned char rnd[8];
    enum xmp_err r;

    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        memset(rnd, 0, sizeof rnd);
    if (buf_puts(&b, "<?xml version='1.0'?><stream:stream xmlns='"
                     NS_CLIENT "' xmlns:stream='" XML_NS_STREAM
                     "' from='") < 0 ||
        xml_escape(&b, p->domain, strlen(p->domain), XML_ESC_ATTR, NULL) !=
            XMP_OK ||
        buf_printf(&b, "' id='%02x%02x%02x%02x%02x%02x%02x%02x' "
                       "version='1.0' xml:lang='en'>",
                   rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
                   rnd[7]) < 0 ||
        (features &&
         buf_puts(&b, "<stream:features><bind xmlns='" NS_BIND "'/>"
                      "<sm xmlns='" NS_SM "'/></stream:features>") < 0)) {
        buf_free(&b);
        peer_fail(p, XMP_ENOMEM, "resource-constraint", "out of memory");
        return XMP_ENOMEM;
    }
    r = queue(p, b.data);
    buf_free(&b);
    if (r == XMP_OK)
        p->st.open = 1;
    return r;
}

static int on_header(void *ud, const char *ns, const char *name,
                     const char **attrs)
{
    struct xmp_peer *p = ud;

    (void)attrs;
    if (p->state != PEER_WAIT_HEADER)
        return 0;
    if (strcmp(ns, XML_NS_STREAM) != 0 || strcmp(name, "stream") != 0) {
        send_header(p, 0);
        peer_fail(p, XMP_EPROTO, "invalid-namespace",
                  "client did not open an XMPP stream");
        return -1;
    }
    if (p->refuse) {
        /* our header, the error, our close; then we wait for the
         * client's close, so that it reads the error before it learns
         * that the link is gone */
        if (send_header(p, 0) != XMP_OK)
            return -1;
        p->state = PEER_WAIT_BIND;
        close_with(p, p->refuse_cond, p->refuse_text);
        return 0;
    }
    if (send_header(p, 1) != XMP_OK)
        return -1;
    p->state = PEER_WAIT_BIND;
    return 0;
}

/* RFC 6120 §7: whatever resource is asked for, the holder's JID. */
static void on_bind(struct xmp_peer *p, const struct xmp_node *iq)
{
    struct xmp_node *r, *b, *j;
    struct xmp_error e;
    const char *id = xmp_node_attr(iq, "id"), *type = xmp_node_attr(iq, "type");
    char *x = NULL;

    if (!id || !type || strcmp(type, "set") != 0 ||
        !xmp_node_child(iq, NS_BIND, "bind")) {
        peer_fail(p, XMP_EPROTO, "not-authorized",
                  "client sent something other than resource binding "
                  "before binding");
        return;
    }
    xmp_error_clear(&e);
    if (!(r = xmp_node_new(NS_CLIENT, "iq", &e)) ||
        xmp_node_set_attr(r, "type", "result", &e) ||
        xmp_node_set_attr(r, "id", id, &e) ||
        !(b = xmp_node_add_child(r, NS_BIND, "bind", &e)) ||
        !(j = xmp_node_add_child(b, NS_BIND, "jid", &e)) ||
        xmp_node_add_text(j, p->jid, strlen(p->jid), &e) ||
        !(x = xmp_node_to_string(r, NS_CLIENT))) {
        peer_fail(p, XMP_ENOMEM, "resource-constraint", "out of memory");
    } else if (queue(p, x) == XMP_OK) {
        p->state = PEER_READY;
    }
    free(x);
    xmp_node_free(r);
}

static void on_sm(struct xmp_peer *p, const struct xmp_node *el)
{
    const char *name = xmp_node_name(el);

    if (strcmp(name, "enable") == 0 && !p->sm) {
        /* No resumption: the link is local, and the holder's own session
         * is what survives. */
        if (queue(p, "<enabled xmlns='" NS_SM "'/>") == XMP_OK) {
            p->sm = 1;
            p->h = 0;
        }
    } else if (strcmp(name, "r") == 0 && p->sm) {
        if (p->cb.ack_request)
            p->cb.ack_request(p->ud, p, p->h);
    } else if (strcmp(name, "a") != 0) {
        peer_fail(p, XMP_EPROTO, "unsupported-stanza-type",
                  "client sent an unexpected element of stream management");
    }
}

static int on_element(void *ud, struct xmp_node *el)
{
    struct xmp_peer *p = ud;
    const char *name = xmp_node_name(el);

    if (p->state == PEER_WAIT_BIND) {
        if (node_is(el, NS_CLIENT, "iq"))
            on_bind(p, el);
        else
            peer_fail(p, XMP_EPROTO, "not-authorized",
                      "client sent a stanza before binding");
    } else if (p->state == PEER_READY) {
        if (strcmp(xmp_node_ns(el), NS_SM) == 0) {
            on_sm(p, el);
        } else if (strcmp(xmp_node_ns(el), NS_CLIENT) == 0 &&
                   (strcmp(name, "message") == 0 ||
                    strcmp(name, "presence") == 0 ||
                    strcmp(name, "iq") == 0)) {
            if (p->sm)
                p->h++;
            if (p->cb.stanza)
                p->cb.stanza(p->ud, p, el, p->h);
        } else {
            peer_fail(p, XMP_EPROTO, "unsupported-stanza-type",
                      "client sent an element that is not a stanza");
        }
    }
    xmp_node_free(el);
    return p->state == PEER_FAILED ? -1 : 0;
}

static void on_end(void *ud)
{
    (void)ud; /* the stream notes it; the step acts on it */
}

struct xmp_peer *xmp_peer_new(int fd, const char *bound_jid,
                              const struct xmp_peer_cb *cb, void *ud,
                              int timeout_ms, struct xmp_error *err)
{
    static const struct xml_reader_cb rcb = { on_header, on_element, on_end };
    struct xmp_peer *p;
    struct xmp_jid j;

    if (!bound_jid || xmp_jid_parse(bound_jid, &j, err) != XMP_OK) {
        if (bound_jid == NULL)
            xmp_error_set(err, XMP_EUSAGE, "no JID to bind clients to");
        return NULL;
    }
    if (!(p = calloc(1, sizeof *p)) || !(p->jid = strdup(bound_jid)) ||
        !(p->domain = strdup(j.domain)) ||
        stream_init(&p->st, &rcb, p, NULL, NULL) != XMP_OK) {
        xmp_jid_clear(&j);
        xmp_peer_free(p);
        xmp_error_set(err, XMP_ENOMEM, "out of memory");
        return NULL;
    }
    xmp_jid_clear(&j);
    if (stream_attach(&p->st, fd, "a local client", err) != XMP_OK) {
        xmp_peer_free(p);
        return NULL;
    }
    if (cb)
        p->cb = *cb;
    p->ud = ud;
    p->timeout_ms = timeout_ms > 0 ? timeout_ms : SESSION_DEFAULT_TIMEOUT_MS;
    p->since = xmp_now_ms();
    p->state = PEER_WAIT_HEADER;
    return p;
}

void xmp_peer_free(struct xmp_peer *p)
{
    if (!p)
        return;
    stream_free(&p->st);
    free(p->jid);
    free(p->domain);
    free(p->refuse_cond);
    free(p->refuse_text);
    free(p);
}

int xmp_peer_fd(const struct xmp_peer *p)
{
    return stream_fd(&p->st);
}

short xmp_peer_events(const struct xmp_peer *p)
{
    return stream_events(&p->st);
}

int xmp_peer_pending(const struct xmp_peer *p)
{
    return stream_pending(&p->st);
}

int64_t xmp_peer_deadline(const struct xmp_peer *p)
{
    int64_t w = -1;

    if (p->state == PEER_CLOSED || p->state == PEER_FAILED)
        return -1;
    if (stream_queued(&p->st))
        w = p->st.out_since + p->timeout_ms;
    if (p->state == PEER_WAIT_HEADER || p->state == PEER_WAIT_BIND ||
        p->state == PEER_CLOSING) {
        int64_t n = p->since + p->timeout_ms;

        if (w < 0 || n < w)
            w = n;
    }
    return w;
}

const struct xmp_error *xmp_peer_error(const struct xmp_peer *p)
{
    return &p->err;
}

int xmp_peer_ready(const struct xmp_peer *p)
{
    return p->state == PEER_READY;
}

int xmp_peer_sm(const struct xmp_peer *p)
{
    return p->state == PEER_READY && p->sm;
}

enum xmp_err xmp_peer_send(struct xmp_peer *p, const struct xmp_node *st)
{
    char *x;
    enum xmp_err r;

    if (p->state != PEER_READY)
        return XMP_EUSAGE;
    if (!(x = xmp_node_to_string(st, NS_CLIENT)))
        return XMP_ENOMEM;
    r = queue(p, x);
    free(x);
    return r;
}

enum xmp_err xmp_peer_ack(struct xmp_peer *p, uint32_t h)
{
    char a[64];

    if (p->state != PEER_READY || !p->sm)
        return XMP_EUSAGE;
    snprintf(a, sizeof a, "<a xmlns='" NS_SM "' h='%" PRIu32 "'/>", h);
    return queue(p, a);
}

static void close_with(struct xmp_peer *p, const char *condition,
                       const char *text)
{
    struct buf b = BUF_INIT;
    struct xmp_error e;

    if (condition) {
        if (buf_printf(&b, "<stream:error><%s xmlns='" NS_STREAMS "'/>",
                       condition) < 0 ||
            (text && (buf_puts(&b, "<text xmlns='" NS_STREAMS "'>") < 0 ||
                      xml_escape(&b, text, strlen(text), XML_ESC_TEXT,
                                 NULL) != XMP_OK ||
                      buf_puts(&b, "</text>") < 0)) ||
            buf_puts(&b, "</stream:error>") < 0) {
            buf_free(&b);
            peer_fail(p, XMP_ENOMEM, "resource-constraint", "out of memory");
            return;
        }
        if (queue(p, b.data) != XMP_OK) {
            buf_free(&b);
            return;
        }
        buf_free(&b);
    }
    if (stream_close(&p->st, &e) != XMP_OK) {
        peer_fail(p, e.code, "resource-constraint", e.msg);
        return;
    }
    p->state = PEER_CLOSING;
    p->since = xmp_now_ms();
}

void xmp_peer_close(struct xmp_peer *p, const char *condition,
                    const char *text)
{
    if (p->state == PEER_CLOSING || p->state == PEER_CLOSED ||
        p->state == PEER_FAILED)
        return;
    if (condition)
        xmp_error_set(&p->err, XMP_EUNREACH, "closed: %s", condition);
    if (p->state == PEER_WAIT_HEADER) {
        if (p->refuse)
            return;
        p->refuse = 1;
        if ((condition && !(p->refuse_cond = strdup(condition))) ||
            (text && !(p->refuse_text = strdup(text))))
            peer_fail(p, XMP_ENOMEM, "resource-constraint", "out of memory");
        return;
    }
    close_with(p, condition, text);
}

enum xmp_err xmp_peer_step(struct xmp_peer *p)
{
    struct xmp_error e;
    int64_t dl;

    if (p->state == PEER_CLOSED)
        return XMP_OK;
    if (p->state == PEER_FAILED)
        return p->err.code ? p->err.code : XMP_EPROTO;
    xmp_error_clear(&e);
    if (stream_io(&p->st, &e) != XMP_OK) {
        if (p->state != PEER_FAILED)
            peer_fail(p, e.code == XMP_EPROTO ? XMP_EPROTO : e.code,
                      e.code == XMP_EPROTO ? "not-well-formed"
                                           : "internal-server-error",
                      e.msg[0] ? e.msg : "bad input");
        return p->err.code;
    }
    if (p->state == PEER_FAILED)
        return p->err.code;
    if (p->st.peer_closed || p->st.eof) {
        if (p->state != PEER_CLOSING && p->state != PEER_CLOSED &&
            !p->st.eof) {
            /* the client's polite close: ours, then done */
            close_with(p, NULL, NULL);
            stream_io(&p->st, &e);
        }
        stream_shutdown(&p->st);
        p->state = PEER_CLOSED;
        return XMP_OK;
    }
    dl = xmp_peer_deadline(p);
    if (dl >= 0 && xmp_now_ms() >= dl) {
        peer_fail(p, XMP_ETIMEOUT, "connection-timeout",
                  "client did not read or did not go on in time");
        return p->err.code;
    }
    return XMP_AGAIN;
}
