/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * stream.c - the XML stream over a transport: our header and closing
 * tag, the bounded outgoing queue, and reading with a budget and with
 * backpressure.  Restart points (after <proceed/> and <success/>) are
 * honoured exactly: what arrived past one is kept for the next stream.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define STREAM_CLOSE_TAG "</stream:stream>"

/* The reader reports to us; we pass it on and note the peer's close. */
static int on_header(void *ud, const char *ns, const char *name,
                     const char **attrs)
{
    struct stream *st = ud;

    return st->cb.stream_start ? st->cb.stream_start(st->ud, ns, name, attrs)
                               : 0;
}

static int on_element(void *ud, struct xmp_node *el)
{
    struct stream *st = ud;

    if (!st->cb.element) {
        xmp_node_free(el);
        return 0;
    }
    return st->cb.element(st->ud, el);
}

static void on_end(void *ud)
{
    struct stream *st = ud;

    st->peer_closed = 1;
    if (st->cb.stream_end)
        st->cb.stream_end(st->ud);
}

enum xmp_err stream_init(struct stream *st, const struct xml_reader_cb *cb,
                         void *ud, xmp_trace_fn trace, void *trace_ud)
{
    static const struct xml_reader_cb mine = { on_header, on_element,
                                               on_end };

    memset(st, 0, sizeof *st);
    st->cb = *cb;
    st->ud = ud;
    st->trace = trace;
    st->trace_ud = trace_ud;
    if (!(st->rd = xml_reader_new(&mine, st)))
        return XMP_ENOMEM;
    return XMP_OK;
}

void stream_shutdown(struct stream *st)
{
    static const char bye[] = STREAM_CLOSE_TAG;
    int say_bye = st->open && st->out.len == 0;

    /* Close our stream so the server need not wait for a timeout
     * (RFC 6120 §4.4); only if nothing half-sent sits before it. */
    transport_free(st->tp, say_bye ? bye : NULL, say_bye ? sizeof bye - 1 : 0);
    st->tp = NULL;
    st->open = 0;
}

void stream_drop(struct stream *st)
{
    transport_free(st->tp, NULL, 0);
    st->tp = NULL;
    st->open = 0;
}

void stream_abort(struct stream *st, const char *error_xml)
{
    struct buf b = BUF_INIT;

    if (!st->open || st->out.len ||
        buf_printf(&b, "%s" STREAM_CLOSE_TAG, error_xml) < 0) {
        buf_free(&b);
        stream_shutdown(st);
        return;
    }
    if (st->trace)
        st->trace(st->trace_ud, XMP_TRACE_OUT, b.data, b.len);
    transport_free(st->tp, b.data, b.len);
    st->tp = NULL;
    st->open = 0;
    buf_free(&b);
}

void stream_hang_up(struct stream *st)
{
    transport_free(st->tp, st->out.data, st->out.len);
    st->tp = NULL;
    st->open = 0;
}

void stream_free(struct stream *st)
{
    stream_shutdown(st);
    xml_reader_free(st->rd);
    free(st->features);
    buf_free(&st->out);
    buf_free(&st->left);
    memset(st, 0, sizeof *st);
}

enum xmp_err stream_attach(struct stream *st, int fd, const char *peer,
                           struct xmp_error *err)
{
    enum xmp_err r = transport_new(&st->tp, fd, peer, err);

    if (r == XMP_OK)
        st->last_in = xmp_now_ms();
    return r;
}

int stream_connected(const struct stream *st)
{
    return st->tp != NULL;
}

int stream_fd(const struct stream *st)
{
    return transport_fd(st->tp);
}

enum xmp_err stream_start_tls(struct stream *st, const struct tls_params *p,
                              struct xmp_error *err)
{
    return transport_start_tls(st->tp, p, err);
}

enum xmp_err stream_handshake(struct stream *st, struct xmp_error *err)
{
    return transport_handshake(st->tp, err);
}

int stream_is_tls(const struct stream *st)
{
    return transport_is_tls(st->tp);
}

void stream_tls_info(const struct stream *st, struct tls_info *info)
{
    transport_tls_info(st->tp, info);
}

enum xmp_err stream_tls_session(const struct stream *st, unsigned char **out,
                                size_t *len)
{
    return transport_tls_session(st->tp, out, len);
}

enum xmp_err stream_channel_binding(const struct stream *st, const char *type,
                                    unsigned char *out, size_t *len,
                                    struct xmp_error *err)
{
    return transport_channel_binding(st->tp, type, out, len, err);
}

enum xmp_err stream_queue(struct stream *st, const char *data, size_t len,
                          const char *trace_text, struct xmp_error *err)
{
    if (len > STREAM_OUT_MAX - st->out.len)
        return xmp_error_set(err, XMP_ETEMP,
                             "more than %d bytes waiting to be sent "
                             "(STREAM_OUT_MAX): the server is not reading",
                             STREAM_OUT_MAX);
    if (!st->out.len)
        st->out_since = xmp_now_ms();
    if (buf_append(&st->out, data, len) < 0)
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    if (st->trace) {
        if (!trace_text)
            st->trace(st->trace_ud, XMP_TRACE_OUT, data, len);
        else
            st->trace(st->trace_ud, XMP_TRACE_OUT, trace_text,
                      strlen(trace_text));
    }
    return XMP_OK;
}

enum xmp_err stream_open(struct stream *st, const char *to, const char *from,
                         struct xmp_error *err)
{
    struct buf b = BUF_INIT;
    enum xmp_err r;

    if (xml_reader_reset(st->rd) != XMP_OK)
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    st->paused = 0;
    st->peer_closed = 0;
    if (buf_puts(&b, st->s2s ? "<?xml version='1.0'?><stream:stream "
                               "xmlns='jabber:server' xmlns:db='"
                               "jabber:server:dialback' xmlns:stream='"
                               XML_NS_STREAM "' to='"
                             : "<?xml version='1.0'?><stream:stream xmlns='"
                               "jabber:client' xmlns:stream='" XML_NS_STREAM
                               "' to='") < 0 ||
        xml_escape(&b, to, strlen(to), XML_ESC_ATTR, NULL) != XMP_OK ||
        (from && (buf_puts(&b, "' from='") < 0 ||
                  xml_escape(&b, from, strlen(from), XML_ESC_ATTR, NULL) !=
                      XMP_OK)) ||
        buf_puts(&b, "' version='1.0' xml:lang='en'>") < 0) {
        buf_free(&b);
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    }
    r = stream_queue(st, b.data, b.len, NULL, err);
    buf_free(&b);
    if (r == XMP_OK)
        st->open = 1;
    return r;
}

enum xmp_err stream_close(struct stream *st, struct xmp_error *err)
{
    enum xmp_err r;

    if (!st->open)
        return XMP_OK;
    r = stream_queue(st, STREAM_CLOSE_TAG, sizeof STREAM_CLOSE_TAG - 1, NULL,
                     err);
    if (r == XMP_OK)
        st->open = 0;
    return r;
}

static enum xmp_err flush(struct stream *st, struct xmp_error *err)
{
    enum xmp_err r;
    size_t n;

    while (st->out.len && st->tp) {
        r = transport_write(st->tp, st->out.data, st->out.len, &n, err);
        if (r == XMP_AGAIN)
            return XMP_OK;
        if (r != XMP_OK)
            return r;
        buf_consume(&st->out, n);
        st->out_since = xmp_now_ms();
    }
    return XMP_OK;
}

/* Feed p[0..n) to the reader; keep what lies past a restart point. */
static enum xmp_err feed(struct stream *st, const char *p, size_t n,
                         struct xmp_error *err)
{
    enum xmp_err r;
    size_t used = 0;

    r = xml_reader_feed(st->rd, p, n, &used, err);
    if (r != XMP_OK)
        return r;
    if (xml_reader_paused(st->rd)) {
        st->paused = 1;
        if (used < n && buf_append(&st->left, p + used, n - used) < 0)
            return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    }
    return XMP_OK;
}

static int may_read(const struct stream *st)
{
    return st->tp && !st->paused && !st->eof && !st->left.len &&
           st->out.len <= STREAM_OUT_HIGH;
}

static enum xmp_err read_in(struct stream *st, struct xmp_error *err)
{
    char buf[STREAM_READ_CHUNK];
    size_t n, total = 0;
    enum xmp_err r;

    /* What arrived after the last restart point belongs to this stream. */
    if (st->left.len && !st->paused) {
        struct buf b = st->left;

        st->left = (struct buf)BUF_INIT;
        r = feed(st, b.data, b.len, err);
        buf_free(&b);
        if (r != XMP_OK)
            return r;
    }
    while (may_read(st) && total < STREAM_READ_BUDGET) {
        r = transport_read(st->tp, buf, sizeof buf, &n, err);
        if (r == XMP_AGAIN)
            break;
        if (r != XMP_OK)
            return r;
        if (n == 0) {
            st->eof = 1;
            break;
        }
        total += n;
        st->last_in = xmp_now_ms();
        r = feed(st, buf, n, err);
        explicit_bzero(buf, n);
        if (r != XMP_OK)
            return r;
        if (st->peer_closed)
            break;
    }
    return XMP_OK;
}

enum xmp_err stream_io(struct stream *st, struct xmp_error *err)
{
    enum xmp_err r;

    if (!st->tp)
        return XMP_OK;
    if ((r = flush(st, err)) != XMP_OK || (r = read_in(st, err)) != XMP_OK)
        return r;
    return flush(st, err);
}

void stream_unpause(struct stream *st)
{
    st->paused = 0;
}

enum xmp_err stream_adopt(struct stream *st, const char *header, size_t len,
                          struct xmp_error *err)
{
    size_t used;

    if (xml_reader_feed(st->rd, header, len, &used, err) != XMP_OK)
        return XMP_EPROTO;
    st->open = 1;
    return XMP_OK;
}

short stream_events(const struct stream *st)
{
    if (!st->tp)
        return 0;
    return transport_events(st->tp, may_read(st), st->out.len > 0);
}

int stream_pending(const struct stream *st)
{
    if (!st->tp)
        return 0;
    if (st->left.len && !st->paused)
        return 1;
    return may_read(st) && transport_pending(st->tp);
}

size_t stream_queued(const struct stream *st)
{
    return st->out.len;
}

/* Short names for what the features offer, for a person debugging a
 * server: "bind", "session", "sm:3", "csi:0"; anything else by its
 * element name. */
enum xmp_err stream_note_features(struct stream *st, const struct xmp_node *f)
{
    struct buf b = BUF_INIT;
    const struct xmp_node *c;
    int bad = 0;

    for (c = xmp_node_first(f); c; c = xmp_node_next(c)) {
        const char *ns = xmp_node_ns(c), *name = xmp_node_name(c);

        if (b.len)
            bad |= buf_puts(&b, " ");
        if (strncmp(ns, "urn:ietf:params:xml:ns:xmpp-", 28) == 0)
            bad |= buf_puts(&b, ns + 28);
        else if (strncmp(ns, "urn:xmpp:features:", 18) == 0)
            bad |= buf_puts(&b, ns + 18);
        else if (strcmp(ns, "http://jabber.org/protocol/caps") == 0)
            bad |= buf_puts(&b, "caps");
        else if (strncmp(ns, "urn:xmpp:", 9) == 0)
            bad |= buf_puts(&b, ns + 9);
        else
            bad |= buf_puts(&b, name);
    }
    if (bad) {
        buf_free(&b);
        return XMP_ENOMEM;
    }
    free(st->features);
    st->features = buf_take(&b);
    return st->features ? XMP_OK : XMP_ENOMEM;
}
