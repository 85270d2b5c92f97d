/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * transport.c - one interface over a plain socket and over TLS.  Each
 * kind is a table of operations; the socket, its name and the write
 * bookkeeping TLS needs are shared.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport.h"

struct transport_ops {
    enum xmp_err (*read)(struct transport *t, void *buf, size_t len,
                         size_t *n, struct xmp_error *err);
    enum xmp_err (*write)(struct transport *t, const void *buf, size_t len,
                          size_t *n, struct xmp_error *err);
    int (*pending)(const struct transport *t);
    void (*goodbye)(struct transport *t, const char *last, size_t len);
};

struct transport {
    const struct transport_ops *ops;
    int fd;
    char *peer;
    struct tls *tls;         /* NULL while plain */
    int handshaking;         /* TLS started, handshake not finished */
    size_t inflight;         /* TLS: length offered to a write that said
                                AGAIN; mbedTLS wants it offered again */
    int read_wants_write;    /* TLS: the last read needs the socket
                                writable before it can go on */
    size_t plain_in;         /* bytes read before TLS, if any */
    unsigned port;           /* the peer's TCP port; 0: a Unix socket */
};

/* The peer's TCP port; 0 for a Unix socket, or when not known (as after
 * a reset). */
static unsigned peer_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

/* ---- plain ----------------------------------------------------------- */

static enum xmp_err lost(struct transport *t, struct xmp_error *err)
{
    return xmp_error_set(err, XMP_EUNREACH, "connection to %s lost: %s",
                         t->peer, strerror(errno));
}

/* A TLS record (RFC 8446 §5.1): an alert (21) or a handshake (22) in
 * version 3.x; no XML document can begin with these bytes. */
static int tls_record(const unsigned char *p, size_t n)
{
    return (p[0] == 0x15 || p[0] == 0x16) && (n < 2 || p[1] == 0x03) &&
           (n < 3 || p[2] <= 0x04);
}

/* A port that expects TLS at once (XEP-0368) answers our stream header
 * with a TLS alert, or drops the connection without a word. */
static enum xmp_err plain_first(struct transport *t, const void *buf,
                                size_t got, int reset, struct xmp_error *err)
{
    unsigned port = t->port;

    if (!port)
        return XMP_OK;
    if (got && tls_record(buf, got))
        return xmp_error_set(err, XMP_ETLS,
                             "%s port %u answered with TLS, not XMPP: it "
                             "expects TLS at once; use --direct-tls",
                             t->peer, port);
    if (!got)
        return xmp_error_set(err, XMP_EUNREACH,
                             "connection to %s port %u %s before an answer: "
                             "it may expect TLS at once; try --direct-tls",
                             t->peer, port,
                             reset ? "reset" : "closed");
    return XMP_OK;
}

static enum xmp_err plain_read(struct transport *t, void *buf, size_t len,
                               size_t *n, struct xmp_error *err)
{
    enum xmp_err r;
    ssize_t got;

    for (;;) {
        got = recv(t->fd, buf, len, 0);
        if (got >= 0) {
            if (!t->plain_in &&
                (r = plain_first(t, buf, (size_t)got, 0, err)) != XMP_OK)
                return r;
            t->plain_in += (size_t)got;
            *n = (size_t)got;
            return XMP_OK;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return XMP_AGAIN;
        if (errno == ECONNRESET && !t->plain_in &&
            (r = plain_first(t, buf, 0, 1, err)) != XMP_OK)
            return r;
        if (errno != EINTR)
            return lost(t, err);
    }
}

static enum xmp_err plain_write(struct transport *t, const void *buf,
                                size_t len, size_t *n, struct xmp_error *err)
{
    ssize_t w;

    for (;;) {
        w = send(t->fd, buf, len, MSG_NOSIGNAL);
        if (w >= 0) {
            *n = (size_t)w;
            return w > 0 ? XMP_OK : XMP_AGAIN;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return XMP_AGAIN;
        if (errno != EINTR)
            return lost(t, err);
    }
}

static int plain_pending(const struct transport *t)
{
    (void)t;
    return 0;
}

static void plain_goodbye(struct transport *t, const char *last, size_t len)
{
    if (len)
        (void)!send(t->fd, last, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static const struct transport_ops plain_ops = {
    plain_read, plain_write, plain_pending, plain_goodbye
};

/* ---- TLS ------------------------------------------------------------- */

static enum xmp_err tls_t_read(struct transport *t, void *buf, size_t len,
                               size_t *n, struct xmp_error *err)
{
    enum xmp_err r = tls_read(t->tls, buf, len, n, err);

    t->read_wants_write = r == XMP_AGAIN && tls_want(t->tls) == TLS_WANT_WRITE;
    return r;
}

static enum xmp_err tls_t_write(struct transport *t, const void *buf,
                                size_t len, size_t *n, struct xmp_error *err)
{
    enum xmp_err r;

    /* ssl.h: after WANT_WRITE, call again with the same data. */
    if (t->inflight && t->inflight <= len)
        len = t->inflight;
    r = tls_write(t->tls, buf, len, n, err);
    t->inflight = r == XMP_AGAIN ? len : 0;
    return r;
}

static int tls_t_pending(const struct transport *t)
{
    return tls_pending(t->tls);
}

static void tls_t_goodbye(struct transport *t, const char *last, size_t len)
{
    size_t n;

    /* Only when nothing half-written sits in the record layer. */
    if (len && !t->inflight)
        tls_write(t->tls, last, len, &n, NULL);
    tls_close_notify(t->tls);
}

static const struct transport_ops tls_ops = {
    tls_t_read, tls_t_write, tls_t_pending, tls_t_goodbye
};

/* ---- the interface ---------------------------------------------------- */

enum xmp_err transport_new(struct transport **out, int fd, const char *peer,
                           struct xmp_error *err)
{
    struct transport *t = calloc(1, sizeof *t);

    *out = NULL;
    if (!t || !(t->peer = strdup(peer ? peer : "the server"))) {
        free(t);
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    }
    t->ops = &plain_ops;
    t->fd = fd;
    t->port = peer_port(fd);
    *out = t;
    return XMP_OK;
}

void transport_free(struct transport *t, const char *last, size_t len)
{
    if (!t)
        return;
    if (!t->handshaking)
        t->ops->goodbye(t, last, last ? len : 0);
    tls_free(t->tls);
    if (t->fd >= 0)
        close(t->fd);
    free(t->peer);
    free(t);
}

enum xmp_err transport_start_tls(struct transport *t,
                                 const struct tls_params *p,
                                 struct xmp_error *err)
{
    enum xmp_err r;

    if (t->tls)
        return xmp_error_set(err, XMP_EPROTO, "TLS started twice with %s",
                             t->peer);
    if ((r = tls_new(&t->tls, t->fd, p, err)) != XMP_OK)
        return r;
    t->ops = &tls_ops;
    t->handshaking = 1;
    return XMP_OK;
}

enum xmp_err transport_handshake(struct transport *t, struct xmp_error *err)
{
    enum xmp_err r;

    if (!t->handshaking)
        return XMP_OK;
    r = tls_handshake(t->tls, err);
    if (r == XMP_OK)
        t->handshaking = 0;
    else if (r != XMP_AGAIN && tls_got_xml(t->tls) && t->port)
        /* a STARTTLS port answers a ClientHello with a stream error */
        return xmp_error_set(err, XMP_ETLS,
                             "%s port %u answered in plain XML: it expects "
                             "STARTTLS; leave out --direct-tls",
                             t->peer, t->port);
    return r;
}

void transport_tls_info(const struct transport *t, struct tls_info *info)
{
    memset(info, 0, sizeof *info);
    if (t && t->tls && !t->handshaking)
        tls_get_info(t->tls, info);
}

int transport_is_tls(const struct transport *t)
{
    return t && t->tls;
}

enum xmp_err transport_tls_session(const struct transport *t,
                                   unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!t || !t->tls || t->handshaking)
        return XMP_ETLS;
    return tls_session_save(t->tls, out, len);
}

enum xmp_err transport_channel_binding(const struct transport *t,
                                       const char *type, unsigned char *out,
                                       size_t *len, struct xmp_error *err)
{
    *len = 0;
    if (!t || !t->tls || t->handshaking)
        return xmp_error_set(err, XMP_ETLS, "no TLS to bind to");
    return tls_channel_binding(t->tls, type, out, len, err);
}

enum xmp_err transport_read(struct transport *t, void *buf, size_t len,
                            size_t *n, struct xmp_error *err)
{
    *n = 0;
    if (t->handshaking)
        return xmp_error_set(err, XMP_EUSAGE,
                             "read from %s before the TLS handshake ended",
                             t->peer);
    return t->ops->read(t, buf, len, n, err);
}

enum xmp_err transport_write(struct transport *t, const void *buf,
                             size_t len, size_t *n, struct xmp_error *err)
{
    *n = 0;
    if (t->handshaking)
        return xmp_error_set(err, XMP_EUSAGE,
                             "write to %s before the TLS handshake ended",
                             t->peer);
    if (len == 0)
        return XMP_OK;
    return t->ops->write(t, buf, len, n, err);
}

int transport_fd(const struct transport *t)
{
    return t ? t->fd : -1;
}

short transport_events(const struct transport *t, int want_read,
                       int have_output)
{
    if (t->handshaking)
        return tls_want(t->tls) == TLS_WANT_WRITE ? POLLOUT : POLLIN;
    return (short)((want_read ? POLLIN : 0) |
                   (have_output || t->read_wants_write ? POLLOUT : 0));
}

int transport_pending(const struct transport *t)
{
    return t && !t->handshaking && t->ops->pending(t);
}
