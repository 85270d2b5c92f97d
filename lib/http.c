/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * http.c - one HTTP/1.1 PUT, for XEP-0363 HTTP File Upload.
 *
 * Why not libcurl: the upload must meet the same policy as the XMPP
 * connection, and two libraries cannot share one.  Over our own TLS
 * layer (tls.h) it gets the same trust anchors (--cafile or the system
 * bundle), the same protocol versions and suites, the same refusal to
 * go on unverified unless insecure was asked for the session too; over
 * our own connector (net.h) it goes through the same proxy, with the
 * same rule that names the proxy resolves are never looked up here and
 * that an .onion host is reached through a proxy only.  libcurl would
 * bring a second TLS library, a second proxy parser (and its own
 * reading of ALL_PROXY), and its redirects and authentication schemes,
 * none of which an upload needs.
 *
 * What is needed is small: one request, PUT with Content-Length, the
 * body streamed from a file through a fixed buffer, then the status
 * line and the headers of the answer (bounded); the body of the answer
 * is never read.  Non-blocking throughout, driven by the caller's poll()
 * as a session is, so the session keeps being served meanwhile.
 *
 * Identity: the certificate is checked against the host of the PUT URL
 * (SNI set to it), not against the XMPP domain; public-key pins are the
 * XMPP server's and do not apply here.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "proxy.h"
#include "tls.h"

/* ---- URLs -------------------------------------------------------------- */

void http_url_clear(struct http_url *u)
{
    free(u->path);
    u->path = NULL;
}

enum xmp_err http_url_parse(const char *url, struct http_url *u,
                            struct xmp_error *err)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *p, *h, *he, *pe;
    size_t hl, i, n = 0;
    unsigned long port;
    char *end;

    memset(u, 0, sizeof *u);
    if (strncasecmp(url, "https://", 8) == 0) {
        u->https = 1;
        p = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else {
        return xmp_error_set(err, XMP_EDATA,
                             "not an http:// or https:// URL");
    }
    pe = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(pe - p)))
        return xmp_error_set(err, XMP_EDATA, "URL with user information");
    if (*p == '[') {
        h = p + 1;
        if (!(he = memchr(h, ']', (size_t)(pe - h))))
            return xmp_error_set(err, XMP_EDATA, "URL with an unclosed [");
        u->ipv6 = 1;
        p = he + 1;
    } else {
        h = p;
        he = p + strcspn(p, ":/?#");
        p = he;
    }
    hl = (size_t)(he - h);
    if (hl == 0 || hl >= sizeof u->host)
        return xmp_error_set(err, XMP_EDATA, "URL without a valid host");
    for (i = 0; i < hl; i++)
        if ((unsigned char)h[i] <= ' ' || (unsigned char)h[i] >= 0x7f ||
            strchr("\\%<>\"", h[i]))
            return xmp_error_set(err, XMP_EDATA,
                                 "URL with a bad byte in its host");
    memcpy(u->host, h, hl);
    u->host[hl] = '\0';
    u->port = u->https ? 443 : 80;
    if (*p == ':') {
        errno = 0;
        port = strtoul(p + 1, &end, 10);
        if (end == p + 1 || end != pe || errno || port == 0 || port > 65535)
            return xmp_error_set(err, XMP_EDATA, "URL with a bad port");
        u->port = (uint16_t)port;
        p = end;
    } else if (p != pe) {
        return xmp_error_set(err, XMP_EDATA, "URL with a bad host");
    }
    /* the path and query, up to the fragment; three bytes per byte at
     * most, and a "/" */
    pe = p + strcspn(p, "#");
    if (!(u->path = malloc(3 * (size_t)(pe - p) + 2)))
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    if (*p != '/')
        u->path[n++] = '/';
    for (; p < pe; p++) {
        unsigned char c = (unsigned char)*p;

        if (c < 0x20 || c == 0x7f) {
            http_url_clear(u);
            return xmp_error_set(err, XMP_EDATA,
                                 "URL with a control character");
        }
        if (c == ' ' || c >= 0x80) {
            u->path[n++] = '%';
            u->path[n++] = hex[c >> 4];
            u->path[n++] = hex[c & 15];
        } else {
            u->path[n++] = (char)c;
        }
    }
    u->path[n] = '\0';
    return XMP_OK;
}

int http_header_allowed(const char *name)
{
    return strcasecmp(name, "Authorization") == 0 ||
           strcasecmp(name, "Cookie") == 0 ||
           strcasecmp(name, "Expires") == 0;
}

/* ---- the response --------------------------------------------------------- */

/* The next line of b[0..n) from *pos: its length without the line end,
 * *pos moved past it; -1 when it has not ended yet. */
static long next_line(const char *b, size_t n, size_t *pos)
{
    const char *nl = memchr(b + *pos, '\n', n - *pos);
    size_t len;

    if (!nl)
        return -1;
    len = (size_t)(nl - (b + *pos));
    *pos += len + 1;
    if (len && nl[-1] == '\r')
        len--;
    return (long)len;
}

int http_response_parse(const char *b, size_t n, struct http_response *r)
{
    size_t pos = 0, start, i, k;
    long len;
    int status;

    for (;;) {
        start = pos;
        if ((len = next_line(b, n, &pos)) < 0) {
            /* an incomplete status line can still be told apart */
            if (n - start >= 5 && memcmp(b + start, "HTTP/", 5) != 0)
                return -1;
            return 0;
        }
        /* RFC 9112 §4: HTTP/1.x SP 3DIGIT [SP reason] */
        if (len < 12 || memcmp(b + start, "HTTP/1.", 7) != 0 ||
            b[start + 7] < '0' || b[start + 7] > '9' ||
            b[start + 8] != ' ' || b[start + 9] < '1' || b[start + 9] > '5' ||
            b[start + 10] < '0' || b[start + 10] > '9' ||
            b[start + 11] < '0' || b[start + 11] > '9' ||
            (len > 12 && b[start + 12] != ' '))
            return -1;
        status = (b[start + 9] - '0') * 100 + (b[start + 10] - '0') * 10 +
                 (b[start + 11] - '0');
        r->status = status;
        for (i = start + 13, k = 0;
             i < start + (size_t)len && k + 1 < sizeof r->reason; i++)
            if (b[i] >= ' ' && b[i] < 0x7f)
                r->reason[k++] = b[i];
        r->reason[k] = '\0';
        /* the headers, up to the empty line */
        while ((len = next_line(b, n, &pos)) > 0)
            ;
        if (len < 0)
            return 0;
        if (status >= 200) {
            r->headlen = pos;
            return 1;
        }
        /* 1xx: an interim answer, the final one follows */
    }
}

/* ---- the client ----------------------------------------------------------- */

enum http_state {
    HS_CONNECTING,
    HS_HANDSHAKE,
    HS_SENDING,  /* the request head, then the body */
    HS_READING,  /* the response head */
    HS_DONE,
    HS_FAILED
};

struct xmp_http {
    enum http_state state;
    struct http_url url;
    char *hostport;               /* "host:port", for messages */
    struct net_connector *conn;
    int sock;
    struct tls *tls;
    char *cafile;                 /* the session's trust: cafile or trust */
    struct xmp_trust *trust;
    int insecure, min13;
    int tls_want;                 /* TLS_WANT_* after the last AGAIN */
    int timeout_ms;
    int64_t last;                 /* the last progress */
    int file;                     /* the body's source, not owned */
    uint64_t size, sent, read;    /* body bytes: total, sent, read */
    char *out;                    /* request head, then body chunks */
    size_t outlen, outpos;
    int head_sent;
    char in[HTTP_HEAD_MAX];
    size_t inlen;
    struct http_response resp;
    xmp_trace_fn trace;
    void *trace_ud;
    struct xmp_error err;
};

static void http_trace(struct xmp_http *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void http_trace(struct xmp_http *h, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;

    if (!h->trace)
        return;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    h->trace(h->trace_ud, XMP_TRACE_INFO, line,
             (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static enum xmp_err http_fail(struct xmp_http *h, enum xmp_err code,
                              const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum xmp_err http_fail(struct xmp_http *h, enum xmp_err code,
                              const char *fmt, ...)
{
    char msg[XMP_ERRMSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    xmp_error_set(&h->err, code, "%s", msg);
    h->state = HS_FAILED;
    return code;
}

static enum xmp_err http_fail_with(struct xmp_http *h,
                                   const struct xmp_error *e)
{
    return http_fail(h, e->code, "upload to %s: %s", h->hostport, e->msg);
}

/* Append to the request head; -1 when it would not fit. */
static int head_add(struct xmp_http *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int head_add(struct xmp_http *h, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(h->out + h->outlen, HTTP_REQ_MAX - h->outlen, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= HTTP_REQ_MAX - h->outlen)
        return -1;
    h->outlen += (size_t)n;
    return 0;
}

static enum xmp_err build_head(struct xmp_http *h,
                               const struct xmp_http_opts *o)
{
    size_t i;

    if (head_add(h, "PUT %s HTTP/1.1\r\n", h->url.path) < 0 ||
        head_add(h, h->url.ipv6 ? "Host: [%s]" : "Host: %s", h->url.host) <
            0 ||
        (h->url.port != (h->url.https ? 443 : 80) &&
         head_add(h, ":%u", (unsigned)h->url.port) < 0) ||
        head_add(h, "\r\nUser-Agent: xmpctl/%s\r\n"
                    "Content-Length: %" PRIu64 "\r\n"
                    "Content-Type: %s\r\n"
                    "Connection: close\r\n",
                 PACKAGE_VERSION, o->size,
                 o->content_type ? o->content_type
                                 : "application/octet-stream") < 0)
        goto long_head;
    if (o->content_type && strpbrk(o->content_type, "\r\n"))
        return xmp_error_set(&h->err, XMP_EUSAGE,
                             "content type with a line break");
    for (i = 0; i < o->nheaders; i++) {
        const struct xmp_http_header *hd = &o->headers[i];
        const char *v;

        if (!hd->name || !hd->value)
            continue;
        if (!http_header_allowed(hd->name)) {
            http_trace(h, "upload: header %.64s of the slot ignored (only "
                          "Authorization, Cookie and Expires are sent)",
                       hd->name);
            continue;
        }
        for (v = hd->value; *v; v++)
            if (*v == '\r' || *v == '\n' || (unsigned char)*v < 0x20 ||
                *v == 0x7f)
                return xmp_error_set(&h->err, XMP_EPROTO,
                                     "the upload slot's %s header holds a "
                                     "line break or a control character",
                                     hd->name);
        if (head_add(h, "%s: %s\r\n", hd->name, hd->value) < 0)
            goto long_head;
    }
    if (head_add(h, "\r\n") < 0)
        goto long_head;
    return XMP_OK;
long_head:
    return xmp_error_set(&h->err, XMP_EPROTO,
                         "the upload request would be longer than %d "
                         "bytes (HTTP_REQ_MAX)", HTTP_REQ_MAX);
}

static enum xmp_err start_connect(struct xmp_http *h,
                                  const struct xmp_http_opts *o)
{
    struct net_target t;
    struct net_proxy p;
    enum xmp_err r;

    memset(&t, 0, sizeof t);
    snprintf(t.host, sizeof t.host, "%s", h->url.host);
    t.port = h->url.port;
    t.found_by = "upload URL";
    if (!o->proxy) {
        if (net_is_onion(t.host))
            return xmp_error_set(&h->err, XMP_EUSAGE,
                                 "%s is an onion service: it is reached "
                                 "only through a proxy", t.host);
        return net_connector_new(&h->conn, &t, 1, h->timeout_ms, &h->err);
    }
    if ((r = net_proxy_parse(o->proxy, &p, &h->err)) != XMP_OK)
        return r;
    r = net_connector_proxy(&h->conn, &p, NULL, &t, 1,
                            net_proxy_by_name(&p, t.host), h->timeout_ms,
                            &h->err);
    explicit_bzero(&p, sizeof p);
    return r;
}

struct xmp_http *xmp_http_new(const struct xmp_http_opts *o,
                              struct xmp_error *err)
{
    struct xmp_http *h = NULL;
    enum xmp_err r;
    size_t n;

    if (!o || !o->url || o->file < 0) {
        xmp_error_set(err, XMP_EUSAGE, "no URL or no file to upload");
        return NULL;
    }
    if (!(h = calloc(1, sizeof *h)) ||
        !(h->out = malloc(HTTP_BODY_BUF > HTTP_REQ_MAX ? HTTP_BODY_BUF
                                                       : HTTP_REQ_MAX))) {
        free(h);
        xmp_error_set(err, XMP_ENOMEM, "out of memory");
        return NULL;
    }
    h->sock = -1;
    h->file = o->file;
    h->size = o->size;
    h->trace = o->trace;
    h->trace_ud = o->trace_ud;
    h->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    if ((r = http_url_parse(o->url, &h->url, &h->err)) != XMP_OK) {
        xmp_error_set(err, r == XMP_ENOMEM ? r : XMP_EPROTO,
                      "the upload service gave a bad PUT URL: %s",
                      h->err.msg);
        goto fail;
    }
    n = strlen(h->url.host) + 9;
    if (!(h->hostport = malloc(n))) {
        xmp_error_set(err, XMP_ENOMEM, "out of memory");
        goto fail;
    }
    snprintf(h->hostport, n, "%s:%u", h->url.host, (unsigned)h->url.port);
    if (!h->url.https && !o->allow_http) {
        xmp_error_set(err, XMP_ETLS,
                      "the upload service wants the file over plain http "
                      "(http://%s): refused without --allow-http-upload",
                      h->hostport);
        goto fail;
    }
    if (build_head(h, o) != XMP_OK || start_connect(h, o) != XMP_OK) {
        xmp_error_set(err, h->err.code, "upload to %s: %s", h->hostport,
                      h->err.msg);
        goto fail;
    }
    h->insecure = o->insecure;
    h->min13 = o->tls_min == 13;
    if (o->tls_min != 0 && o->tls_min != 12 && o->tls_min != 13) {
        xmp_error_set(err, XMP_EUSAGE, "no TLS version %d", o->tls_min);
        goto fail;
    }
    h->trust = o->trust;
    if (o->cafile && !(h->cafile = strdup(o->cafile))) {
        xmp_error_set(err, XMP_ENOMEM, "out of memory");
        goto fail;
    }
    http_trace(h, "upload: PUT %s://%s%s (%" PRIu64 " bytes)",
               h->url.https ? "https" : "http", h->hostport, h->url.path,
               h->size);
    h->last = xmp_now_ms();
    return h;
fail:
    xmp_http_free(h);
    return NULL;
}

void xmp_http_free(struct xmp_http *h)
{
    if (!h)
        return;
    net_connector_free(h->conn);
    if (h->tls) {
        if (h->state == HS_DONE)
            tls_close_notify(h->tls);
        tls_free(h->tls);
    }
    if (h->sock >= 0)
        close(h->sock);
    http_url_clear(&h->url);
    if (h->out)
        explicit_bzero(h->out, h->outlen); /* the slot's Authorization */
    free(h->out);
    free(h->hostport);
    free(h->cafile);
    free(h);
}

/* ---- I/O over TLS or the plain socket -------------------------------------- */

static enum xmp_err io_read(struct xmp_http *h, void *buf, size_t len,
                            size_t *n)
{
    struct xmp_error e;
    enum xmp_err r;
    ssize_t got;

    if (h->tls) {
        r = tls_read(h->tls, buf, len, n, &e);
        if (r == XMP_AGAIN)
            h->tls_want = tls_want(h->tls);
        else if (r != XMP_OK)
            return http_fail_with(h, &e);
        return r;
    }
    for (;;) {
        if ((got = recv(h->sock, buf, len, 0)) >= 0) {
            *n = (size_t)got;
            return XMP_OK;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return XMP_AGAIN;
        if (errno != EINTR)
            return http_fail(h, XMP_EUNREACH,
                             "upload to %s: connection lost: %s",
                             h->hostport, strerror(errno));
    }
}

static enum xmp_err io_write(struct xmp_http *h, const void *buf, size_t len,
                             size_t *n)
{
    struct xmp_error e;
    enum xmp_err r;
    ssize_t w;

    if (h->tls) {
        r = tls_write(h->tls, buf, len, n, &e);
        if (r == XMP_AGAIN)
            h->tls_want = tls_want(h->tls);
        else if (r != XMP_OK)
            return http_fail_with(h, &e);
        return r;
    }
    for (;;) {
        if ((w = send(h->sock, buf, len, MSG_NOSIGNAL)) > 0) {
            *n = (size_t)w;
            return XMP_OK;
        }
        if (w == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
            return XMP_AGAIN;
        if (errno != EINTR)
            return http_fail(h, XMP_EUNREACH,
                             "upload to %s: connection lost: %s",
                             h->hostport, strerror(errno));
    }
}

/* ---- the steps ------------------------------------------------------------ */

static enum xmp_err step_connect(struct xmp_http *h)
{
    struct tls_params tp;
    struct xmp_error e;
    enum xmp_err r;
    int fd = -1;

    if ((r = net_connector_step(h->conn, &fd, &e)) == XMP_AGAIN)
        return r;
    if (r != XMP_OK)
        return http_fail_with(h, &e);
    http_trace(h, "upload: connected to %s (%s)", h->hostport,
               net_connector_address(h->conn));
    net_connector_free(h->conn);
    h->conn = NULL;
    h->sock = fd;
    h->last = xmp_now_ms();
    if (!h->url.https) {
        h->state = HS_SENDING;
        return XMP_AGAIN;
    }
    /* RFC 9110 §4.3.4: the certificate must be valid for the URL's
     * host, which is also the SNI; no pins (they are the XMPP
     * server's), no ALPN, no client certificate */
    memset(&tp, 0, sizeof tp);
    tp.domain = h->url.host;
    tp.cafile = h->cafile;
    tp.trust = h->trust;
    tp.insecure = h->insecure;
    tp.min_tls13 = h->min13;
    if ((r = tls_new(&h->tls, fd, &tp, &e)) != XMP_OK)
        return http_fail_with(h, &e);
    h->state = HS_HANDSHAKE;
    return XMP_AGAIN;
}

static enum xmp_err step_handshake(struct xmp_http *h)
{
    struct tls_info info;
    struct xmp_error e;
    enum xmp_err r;

    if ((r = tls_handshake(h->tls, &e)) == XMP_AGAIN) {
        h->tls_want = tls_want(h->tls);
        return r;
    }
    if (r != XMP_OK)
        return http_fail_with(h, &e);
    tls_get_info(h->tls, &info);
    http_trace(h, "upload: %s, %s, certificate %s for %s", info.version,
               info.cipher, info.verified ? "verified" : "NOT verified",
               h->url.host);
    h->tls_want = 0;
    h->last = xmp_now_ms();
    h->state = HS_SENDING;
    return XMP_AGAIN;
}

/* Read what the server answered; XMP_OK once the head is complete. */
static enum xmp_err read_answer(struct xmp_http *h)
{
    enum xmp_err r;
    size_t n;
    int p;

    for (;;) {
        if (h->inlen == sizeof h->in)
            return http_fail(h, XMP_EPROTO,
                             "upload to %s: the answer's head is longer "
                             "than %d bytes (HTTP_HEAD_MAX)",
                             h->hostport, HTTP_HEAD_MAX);
        r = io_read(h, h->in + h->inlen, sizeof h->in - h->inlen, &n);
        if (r != XMP_OK)
            return r;
        h->last = xmp_now_ms();
        h->inlen += n;
        p = http_response_parse(h->in, h->inlen, &h->resp);
        if (p < 0)
            return http_fail(h, XMP_EPROTO,
                             "upload to %s: the answer is not HTTP/1.x",
                             h->hostport);
        if (p > 0)
            return XMP_OK;
        if (n == 0)
            return http_fail(h, XMP_EUNREACH,
                             "upload to %s: the connection closed before "
                             "an answer", h->hostport);
    }
}

static enum xmp_err judge(struct xmp_http *h)
{
    int st = h->resp.status;

    http_trace(h, "upload: HTTP %d %s", st, h->resp.reason);
    if (st >= 200 && st < 300) {
        if (h->sent < h->size)
            return http_fail(h, XMP_EPROTO,
                             "upload to %s: HTTP %d before the whole file "
                             "was sent (%" PRIu64 " of %" PRIu64 " bytes)",
                             h->hostport, st, h->sent, h->size);
        h->state = HS_DONE;
        return XMP_OK;
    }
    if (st >= 300 && st < 400)
        return http_fail(h, XMP_EREMOTE,
                         "upload to %s: redirect refused (HTTP %d %s)",
                         h->hostport, st, h->resp.reason);
    return http_fail(h, XMP_EREMOTE, "upload to %s: HTTP %d %s",
                     h->hostport, st, h->resp.reason);
}

/* Refill the buffer from the file once it has gone out. */
static enum xmp_err refill(struct xmp_http *h)
{
    uint64_t left = h->size - h->read;
    size_t want = left < HTTP_BODY_BUF ? (size_t)left : HTTP_BODY_BUF;
    ssize_t got;

    do
        got = read(h->file, h->out, want);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return http_fail(h, XMP_EIO, "cannot read the file to upload: %s",
                         strerror(errno));
    if (got == 0)
        return http_fail(h, XMP_EIO, "the file to upload shrank while "
                                     "being sent (%" PRIu64 " of %" PRIu64
                                     " bytes read)",
                         h->read, h->size);
    h->read += (uint64_t)got;
    h->outlen = (size_t)got;
    h->outpos = 0;
    return XMP_OK;
}

/* Has the server said something (or closed) while we send? */
static int readable(const struct xmp_http *h)
{
    struct pollfd p = { h->sock, POLLIN, 0 };

    return (h->tls && tls_pending(h->tls)) || poll(&p, 1, 0) > 0;
}

static enum xmp_err step_send(struct xmp_http *h)
{
    enum xmp_err r;
    size_t n;

    for (;;) {
        /* the server may answer before the body is done (413, 401):
         * that answer counts, and the rest is not sent */
        if (h->head_sent && readable(h)) {
            r = read_answer(h);
            if (r == XMP_OK)
                return judge(h);
            if (r != XMP_AGAIN)
                return r;
        }
        if (h->outpos == h->outlen) {
            if (!h->head_sent) {
                h->head_sent = 1;
                explicit_bzero(h->out, h->outlen);
                h->outlen = h->outpos = 0;
            }
            if (h->read == h->size) {
                h->state = HS_READING;
                return XMP_AGAIN;
            }
            if ((r = refill(h)) != XMP_OK)
                return r;
        }
        r = io_write(h, h->out + h->outpos, h->outlen - h->outpos, &n);
        if (r != XMP_OK)
            return r;
        h->outpos += n;
        if (h->head_sent)
            h->sent += n;
        h->last = xmp_now_ms();
    }
}

enum xmp_err xmp_http_step(struct xmp_http *h)
{
    enum xmp_err r = XMP_AGAIN;

    if (!h)
        return XMP_EUSAGE;
    if (h->state == HS_CONNECTING)
        r = step_connect(h);
    if (h->state == HS_HANDSHAKE)
        r = step_handshake(h);
    if (h->state == HS_SENDING)
        r = step_send(h);
    if (h->state == HS_READING) {
        r = read_answer(h);
        if (r == XMP_OK)
            r = judge(h);
    }
    if (h->state == HS_DONE)
        return XMP_OK;
    if (h->state == HS_FAILED)
        return h->err.code;
    if (r == XMP_AGAIN && xmp_now_ms() - h->last >= h->timeout_ms &&
        h->state != HS_CONNECTING)
        return http_fail(h, XMP_ETIMEOUT,
                         "upload to %s: no progress for %d s", h->hostport,
                         h->timeout_ms / 1000);
    return XMP_AGAIN;
}

int xmp_http_fd(const struct xmp_http *h)
{
    if (h->state == HS_CONNECTING)
        return net_connector_fd(h->conn);
    return h->state == HS_DONE || h->state == HS_FAILED ? -1 : h->sock;
}

short xmp_http_events(const struct xmp_http *h)
{
    switch (h->state) {
    case HS_CONNECTING:
        return POLLIN;
    case HS_HANDSHAKE:
        return h->tls_want == TLS_WANT_WRITE ? POLLOUT : POLLIN;
    case HS_SENDING:
        if (h->tls && h->tls_want == TLS_WANT_READ)
            return POLLIN;
        return POLLOUT | POLLIN;
    case HS_READING:
        return h->tls && h->tls_want == TLS_WANT_WRITE ? POLLOUT : POLLIN;
    default:
        return 0;
    }
}

int xmp_http_pending(const struct xmp_http *h)
{
    if (h->state == HS_CONNECTING)
        return net_connector_pending(h->conn);
    return h->tls && (h->state == HS_SENDING || h->state == HS_READING) &&
           tls_pending(h->tls);
}

int64_t xmp_http_deadline(const struct xmp_http *h)
{
    if (h->state == HS_DONE || h->state == HS_FAILED)
        return -1;
    if (xmp_http_pending(h))
        return xmp_now_ms();
    if (h->state == HS_CONNECTING)
        return net_connector_deadline(h->conn);
    return h->last + h->timeout_ms;
}

const struct xmp_error *xmp_http_error(const struct xmp_http *h)
{
    return &h->err;
}

uint64_t xmp_http_sent(const struct xmp_http *h)
{
    return h->sent;
}

int xmp_http_status(const struct xmp_http *h)
{
    return h->resp.status;
}
