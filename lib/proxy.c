/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/*
 * proxy.c - proxy URLs, and the SOCKS5 (RFC 1928, RFC 1929) and HTTP
 * CONNECT handshakes as a state machine over a non-blocking socket (see
 * proxy.h).  Nothing here blocks: connect.c steps it from the event loop
 * that connects, under the same deadline.
 *
 * Not a byte past the proxy's answer is read: what follows belongs to
 * the XMPP stream (or its TLS), which the transport reads itself.
 */
#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <gsasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define SOCKS_VERSION 5
#define SOCKS_AUTH_VERSION 1
#define SOCKS_NO_AUTH 0x00
#define SOCKS_USERPASS 0x02
#define SOCKS_NO_METHOD 0xff
#define SOCKS_CMD_CONNECT 1
#define SOCKS_ATYP_V4 1
#define SOCKS_ATYP_NAME 3
#define SOCKS_ATYP_V6 4
#define SOCKS_REPLY_HEAD 5 /* VER REP RSV ATYP and a first address byte */
#define PROXY_DEFAULT_PORT 1080
#define REASON_MAX 64
#define ERRTEXT_MAX 128

enum hs_state {
    HS_METHOD,   /* SOCKS5: waiting for the method the proxy chose */
    HS_AUTH,     /* SOCKS5: waiting for the RFC 1929 verdict */
    HS_CONNECT,  /* SOCKS5: waiting for the CONNECT reply */
    HS_HTTP,     /* HTTP: waiting for the response head */
    HS_DONE
};

/* ---- URLs ------------------------------------------------------------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into out (size len); -1 when it does not fit or
 * holds a bad escape or a NUL. */
static int decode(const char *s, size_t n, char *out, size_t len)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        int c = (unsigned char)s[i];

        if (c == '%') {
            int hi, lo;

            if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 ||
                (lo = hexval(s[i + 2])) < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0 || o + 1 >= len)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

enum xmp_err net_proxy_parse(const char *url, struct net_proxy *p,
                             struct xmp_error *err)
{
    const char *rest, *at, *end, *colon;
    struct net_target t;
    struct xmp_error e;
    char hostport[NET_HOST_MAX + 16];
    size_t n;

    memset(p, 0, sizeof *p);
    if (!url || !*url)
        return xmp_error_set(err, XMP_EUSAGE, "invalid proxy: empty");
    if (strncasecmp(url, "socks5h://", 10) == 0) {
        p->kind = NET_PROXY_SOCKS5H;
        rest = url + 10;
    } else if (strncasecmp(url, "socks5://", 9) == 0) {
        p->kind = NET_PROXY_SOCKS5;
        rest = url + 9;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        p->kind = NET_PROXY_HTTP;
        rest = url + 7;
    } else {
        return xmp_error_set(err, XMP_EUSAGE,
                             "invalid proxy: expected socks5h://, socks5:// "
                             "or http:// and HOST[:PORT]");
    }
    end = rest + strcspn(rest, "/?#");
    if (*end && strcmp(end, "/") != 0)
        return xmp_error_set(err, XMP_EUSAGE,
                             "invalid proxy: nothing may follow HOST:PORT");
    /* the last '@' of the authority: a password may hold one, encoded
     * or not */
    at = NULL;
    for (colon = rest; colon < end; colon++)
        if (*colon == '@')
            at = colon;
    if (at) {
        const char *sep = memchr(rest, ':', (size_t)(at - rest));
        size_t ulen = sep ? (size_t)(sep - rest) : (size_t)(at - rest);

        if (ulen == 0 || decode(rest, ulen, p->user, sizeof p->user) < 0)
            goto bad_user;
        if (sep && decode(sep + 1, (size_t)(at - sep - 1), p->pass,
                          sizeof p->pass) < 0)
            goto bad_user;
        p->auth = 1;
        rest = at + 1;
    }
    n = (size_t)(end - rest);
    if (n == 0 || n >= sizeof hostport) {
        memset(p, 0, sizeof *p);
        return xmp_error_set(err, XMP_EUSAGE, "invalid proxy: %s host",
                             n ? "too long a" : "no");
    }
    memcpy(hostport, rest, n);
    hostport[n] = '\0';
    xmp_error_clear(&e);
    if (net_parse_server(hostport, &t, &e) != XMP_OK) {
        memset(p, 0, sizeof *p);
        return xmp_error_set(err, XMP_EUSAGE, "invalid proxy host '%s'",
                             hostport);
    }
    memcpy(p->host, t.host, sizeof p->host);
    /* net_parse_server's default is XMPP's; a proxy's is 1080 */
    colon = hostport[0] == '[' ? strchr(hostport, ']') : hostport;
    p->port = colon && strchr(colon, ':') ? t.port : PROXY_DEFAULT_PORT;
    return XMP_OK;
bad_user:
    explicit_bzero(p, sizeof *p);
    return xmp_error_set(err, XMP_EUSAGE,
                         "invalid proxy: bad user name or password (at most "
                         "255 bytes each, %%XX escapes)");
}

int net_is_onion(const char *host)
{
    size_t n = host ? strlen(host) : 0;

    while (n > 0 && host[n - 1] == '.')
        n--;
    return n >= 6 && strncasecmp(host + n - 6, ".onion", 6) == 0;
}

int net_proxy_by_name(const struct net_proxy *p, const char *host)
{
    return p->kind != NET_PROXY_SOCKS5 || net_is_onion(host);
}

/* ---- parsers ---------------------------------------------------------------- */

int proxy_socks5_reply_len(const unsigned char *b, size_t n)
{
    if (n < SOCKS_REPLY_HEAD)
        return 0;
    if (b[0] != SOCKS_VERSION)
        return -1;
    switch (b[3]) {
    case SOCKS_ATYP_V4:
        return 4 + 4 + 2;
    case SOCKS_ATYP_V6:
        return 4 + 16 + 2;
    case SOCKS_ATYP_NAME:
        return 4 + 1 + b[4] + 2;
    default:
        return -1;
    }
}

const char *proxy_socks5_reply_text(unsigned code)
{
    static const char *const text[] = {
        "succeeded",
        "general SOCKS server failure",
        "connection not allowed by ruleset",
        "network unreachable",
        "host unreachable",
        "connection refused",
        "TTL expired",
        "command not supported",
        "address type not supported",
    };

    return code < sizeof text / sizeof text[0] ? text[code] : "unknown error";
}

int proxy_http_head(const unsigned char *b, size_t n, int *status,
                    char *reason, size_t len, size_t *headlen)
{
    size_t i, end = 0, r = 0;

    for (i = 3; i < n; i++)
        if (b[i - 3] == '\r' && b[i - 2] == '\n' && b[i - 1] == '\r' &&
            b[i] == '\n') {
            end = i + 1;
            break;
        }
    /* "HTTP/1.1 200 " at the least */
    if (n >= 5 && memcmp(b, "HTTP/", 5) != 0)
        return -1;
    if (!end)
        return 0;
    if (end < 12 || memcmp(b, "HTTP/1.", 7) != 0 || b[8] != ' ' ||
        b[9] < '1' || b[9] > '5' || b[10] < '0' || b[10] > '9' ||
        b[11] < '0' || b[11] > '9' || (b[12] != ' ' && b[12] != '\r'))
        return -1;
    *status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
    /* the reason phrase: printable ASCII only, for messages */
    for (i = 13; b[12] == ' ' && i < end && b[i] != '\r' && r + 1 < len; i++)
        reason[r++] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '?';
    if (len)
        reason[r] = '\0';
    *headlen = end;
    return 1;
}

/* ---- the handshake ------------------------------------------------------- */

static void add(struct proxy_hs *h, const void *data, size_t n)
{
    memcpy(h->out + h->outlen, data, n);
    h->outlen += n;
}

enum xmp_err proxy_hs_begin(struct proxy_hs *h, const struct net_proxy *p,
                            const char *host, const struct net_addr *addr,
                            uint16_t port, struct xmp_error *err)
{
    size_t hlen = strlen(host);
    struct in6_addr a6;
    struct in_addr a4;
    unsigned char *q;

    memset(h, 0, sizeof *h);
    h->p = p;
    snprintf(h->dest, sizeof h->dest, "%s port %u", host, (unsigned)port);
    if (p->kind == NET_PROXY_HTTP) {
        char cred[2 * NET_PROXY_CRED_MAX], *b64 = NULL;
        size_t b64len = 0;
        int n, v6 = strchr(host, ':') != NULL;

        n = snprintf((char *)h->out, sizeof h->out,
                     "CONNECT %s%s%s:%u HTTP/1.1\r\nHost: %s%s%s:%u\r\n",
                     v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)port,
                     v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)port);
        if (n < 0 || (size_t)n >= sizeof h->out)
            return xmp_error_set(err, XMP_EUSAGE, "host name too long: %s",
                                 host);
        h->outlen = (size_t)n;
        if (p->auth) {
            /* RFC 7617: base64 of USER:PASSWORD */
            n = snprintf(cred, sizeof cred, "%s:%s", p->user, p->pass);
            if (n < 0 || (size_t)n >= sizeof cred ||
                gsasl_base64_to(cred, (size_t)n, &b64, &b64len) != GSASL_OK ||
                h->outlen + b64len + 40 > sizeof h->out) {
                explicit_bzero(cred, sizeof cred);
                if (b64)
                    explicit_bzero(b64, b64len);
                free(b64);
                return xmp_error_set(err, XMP_EUSAGE,
                                     "proxy user name and password too long");
            }
            add(h, "Proxy-Authorization: Basic ", 27);
            add(h, b64, b64len);
            add(h, "\r\n", 2);
            explicit_bzero(cred, sizeof cred);
            explicit_bzero(b64, b64len);
            free(b64);
        }
        add(h, "\r\n", 2);
        h->state = HS_HTTP;
        return XMP_OK;
    }

    /* RFC 1928 §4: the CONNECT request, sent once a method is agreed */
    q = h->req;
    *q++ = SOCKS_VERSION;
    *q++ = SOCKS_CMD_CONNECT;
    *q++ = 0;
    if (addr && addr->ss.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const void *)&addr->ss;

        *q++ = SOCKS_ATYP_V4;
        memcpy(q, &sin->sin_addr, 4);
        q += 4;
    } else if (addr && addr->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const void *)&addr->ss;

        *q++ = SOCKS_ATYP_V6;
        memcpy(q, &sin6->sin6_addr, 16);
        q += 16;
    } else if (inet_pton(AF_INET, host, &a4) == 1) {
        *q++ = SOCKS_ATYP_V4;
        memcpy(q, &a4, 4);
        q += 4;
    } else if (inet_pton(AF_INET6, host, &a6) == 1) {
        *q++ = SOCKS_ATYP_V6;
        memcpy(q, &a6, 16);
        q += 16;
    } else {
        if (hlen > 255)
            return xmp_error_set(err, XMP_EUSAGE,
                                 "host name too long for SOCKS5: %.64s...",
                                 host);
        *q++ = SOCKS_ATYP_NAME;
        *q++ = (unsigned char)hlen;
        memcpy(q, host, hlen);
        q += hlen;
    }
    *q++ = (unsigned char)(port >> 8);
    *q++ = (unsigned char)(port & 0xff);
    h->reqlen = (size_t)(q - h->req);

    /* RFC 1928 §3: the methods we offer */
    if (p->auth)
        add(h, "\x05\x02\x00\x02", 4);
    else
        add(h, "\x05\x01\x00", 3);
    h->state = HS_METHOD;
    h->want = 2;
    return XMP_OK;
}

int proxy_hs_writing(const struct proxy_hs *h)
{
    return h->outpos < h->outlen;
}

void proxy_hs_clear(struct proxy_hs *h)
{
    explicit_bzero(h->out, sizeof h->out);
}

/* "proxy HOST port PORT" and what fmt says. */
static enum xmp_err hs_fail(struct proxy_hs *h, struct xmp_error *err,
                            const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum xmp_err hs_fail(struct proxy_hs *h, struct xmp_error *err,
                            const char *fmt, ...)
{
    char tail[XMP_ERRMSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tail, sizeof tail, fmt, ap);
    va_end(ap);
    proxy_hs_clear(h);
    h->state = HS_DONE;
    return xmp_error_set(err, XMP_EUNREACH, "proxy %s port %u%s", h->p->host,
                         (unsigned)h->p->port, tail);
}

/* The next message after a complete SOCKS5 answer in h->in. */
static enum xmp_err socks_next(struct proxy_hs *h, struct xmp_error *err)
{
    char code[96];
    int len;

    switch (h->state) {
    case HS_METHOD:
        if (h->in[0] != SOCKS_VERSION)
            return hs_fail(h, err, " is no SOCKS5 proxy");
        if (h->in[1] == SOCKS_USERPASS && h->p->auth) {
            size_t ul = strlen(h->p->user), pl = strlen(h->p->pass);
            unsigned char b;

            /* RFC 1929 §2 */
            h->outlen = h->outpos = 0;
            b = SOCKS_AUTH_VERSION;
            add(h, &b, 1);
            b = (unsigned char)ul;
            add(h, &b, 1);
            add(h, h->p->user, ul);
            b = (unsigned char)pl;
            add(h, &b, 1);
            add(h, h->p->pass, pl);
            h->state = HS_AUTH;
            h->want = 2;
            h->inlen = 0;
            return XMP_AGAIN;
        }
        if (h->in[1] != SOCKS_NO_AUTH)
            return hs_fail(h, err, "%s",
                           h->p->auth
                               ? " accepts none of our authentication methods"
                               : " requires a user name and password");
        break;
    case HS_AUTH:
        proxy_hs_clear(h);
        if (h->in[1] != 0)
            return hs_fail(h, err, " rejected the user name and password");
        break;
    case HS_CONNECT:
        len = proxy_socks5_reply_len(h->in, h->inlen);
        if (len < 0)
            return hs_fail(h, err, ": malformed SOCKS5 reply");
        if (h->want < (size_t)len) {
            h->want = (size_t)len;
            return XMP_AGAIN;
        }
        if (h->in[1] != 0) {
            snprintf(code, sizeof code, "%s (SOCKS reply %u)",
                     proxy_socks5_reply_text(h->in[1]), (unsigned)h->in[1]);
            return hs_fail(h, err, " refused to connect to %s: %s", h->dest,
                           code);
        }
        h->state = HS_DONE;
        return XMP_OK;
    default:
        break;
    }
    /* method agreed (and authenticated): the CONNECT request */
    h->outlen = h->outpos = 0;
    add(h, h->req, h->reqlen);
    h->state = HS_CONNECT;
    h->want = SOCKS_REPLY_HEAD;
    h->inlen = 0;
    return XMP_AGAIN;
}

enum xmp_err proxy_hs_step(struct proxy_hs *h, int fd, struct xmp_error *err)
{
    char etext[ERRTEXT_MAX], reason[REASON_MAX], what[REASON_MAX + 32];
    enum xmp_err rc;
    ssize_t got;

    for (;;) {
        while (h->outpos < h->outlen) {
            got = send(fd, h->out + h->outpos, h->outlen - h->outpos,
                       MSG_NOSIGNAL);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return XMP_AGAIN;
            if (got < 0)
                return hs_fail(h, err, ": %s",
                               net_errno_text(errno, etext, sizeof etext));
            h->outpos += (size_t)got;
        }
        if (h->state == HS_DONE)
            return XMP_OK;
        /* HTTP: a byte at a time, so as not to read past the head;
         * SOCKS5: what the answer still lacks */
        got = recv(fd, h->in + h->inlen,
                   h->state == HS_HTTP ? 1 : h->want - h->inlen, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return XMP_AGAIN;
        if (got < 0)
            return hs_fail(h, err, ": %s",
                           net_errno_text(errno, etext, sizeof etext));
        if (got == 0)
            return hs_fail(h, err, " closed the connection");
        h->inlen += (size_t)got;
        if (h->state == HS_HTTP) {
            int status = 0, r;
            size_t headlen = 0;

            r = proxy_http_head(h->in, h->inlen, &status, reason,
                                sizeof reason, &headlen);
            if (r < 0)
                return hs_fail(h, err, " is no HTTP proxy");
            if (r == 0 && h->inlen == sizeof h->in)
                return hs_fail(h, err, ": answer too long");
            if (r == 0)
                continue;
            snprintf(what, sizeof what, "HTTP %d%s%s", status,
                     reason[0] ? " " : "", reason);
            proxy_hs_clear(h);
            /* 407, RFC 9110 §15.5.8; some proxies (tinyproxy) say 401 */
            if (status == 407 || status == 401)
                return hs_fail(h, err, " %s (%s)",
                               h->p->auth
                                   ? "rejected the user name and password"
                                   : "requires a user name and password",
                               what);
            if (status / 100 != 2)
                return hs_fail(h, err, " refused to connect to %s: %s",
                               h->dest, what);
            h->state = HS_DONE;
            return XMP_OK;
        }
        if (h->inlen < h->want)
            continue;
        rc = socks_next(h, err);
        if (rc != XMP_AGAIN)
            return rc;
    }
}
