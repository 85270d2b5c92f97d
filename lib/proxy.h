/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * proxy.h - reaching the server through a proxy: SOCKS5 (RFC 1928, with
 * RFC 1929 user name and password) and HTTP CONNECT (RFC 9110 §9.3.6,
 * Basic authentication).  Private to the net layer: connect.c runs the
 * handshake on a connected, non-blocking socket from its own step.
 */
#ifndef XMP_PROXY_H
#define XMP_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"

enum net_proxy_kind {
    NET_PROXY_SOCKS5,  /* names resolved here, addresses to the proxy */
    NET_PROXY_SOCKS5H, /* names to the proxy: no DNS query from here */
    NET_PROXY_HTTP     /* CONNECT HOST:PORT; the proxy resolves names */
};

#define NET_PROXY_CRED_MAX 256 /* RFC 1929: 255 bytes each, and a NUL */

struct net_proxy {
    enum net_proxy_kind kind;
    char host[NET_HOST_MAX];
    uint16_t port;
    int auth; /* user and pass are set */
    char user[NET_PROXY_CRED_MAX], pass[NET_PROXY_CRED_MAX];
};

/* Parse SCHEME://[USER[:PASSWORD]@]HOST[:PORT][/] with SCHEME socks5h,
 * socks5 or http; HOST a name, an IPv4 address or [IPV6]; the port 1080
 * unless given (curl's default); USER and PASSWORD percent-decoded.
 * XMP_EUSAGE naming what is wrong (never the password). */
enum xmp_err net_proxy_parse(const char *url, struct net_proxy *p,
                             struct xmp_error *err);

/* Non-zero when the proxy gets names rather than addresses: socks5h,
 * http, and every .onion name whatever the scheme. */
int net_proxy_by_name(const struct net_proxy *p, const char *host);

/* Non-zero when host is a Tor onion service name (ends in ".onion"). */
int net_is_onion(const char *host);

/* ---- the handshake -------------------------------------------------------- */

#define PROXY_OUT_MAX 1024
#define PROXY_IN_MAX 1024

struct proxy_hs {
    const struct net_proxy *p;
    int state;
    char dest[NET_HOST_MAX + 8]; /* "host port 5222", for messages */
    unsigned char out[PROXY_OUT_MAX];
    size_t outlen, outpos;
    unsigned char in[PROXY_IN_MAX];
    size_t inlen, want; /* bytes read, bytes this step needs */
    /* the CONNECT request, kept until the method is agreed */
    unsigned char req[NET_HOST_MAX + 8];
    size_t reqlen;
};

/* Prepare the handshake to host:port (by name: host is sent as it is; by
 * address: addr is) over a socket to p.  XMP_EUSAGE when the name is
 * too long for the protocol. */
enum xmp_err proxy_hs_begin(struct proxy_hs *h, const struct net_proxy *p,
                            const char *host, const struct net_addr *addr,
                            uint16_t port, struct xmp_error *err);
/* Write and read what the socket takes: XMP_OK when the tunnel is open
 * (not a byte past the proxy's answer read), XMP_AGAIN for more I/O
 * (poll for POLLIN, and POLLOUT while proxy_hs_writing), else
 * XMP_EUNREACH with a one-line reason: the proxy closed, refused (its
 * SOCKS reply code or HTTP status named), or rejected the credentials. */
enum xmp_err proxy_hs_step(struct proxy_hs *h, int fd, struct xmp_error *err);
int proxy_hs_writing(const struct proxy_hs *h);
/* Wipe what holds credentials. */
void proxy_hs_clear(struct proxy_hs *h);

/* ---- parsers, pure (unit-tested) ---------------------------------------- */

/* The length of a SOCKS5 reply (RFC 1928 §6) whose first n bytes are b:
 * its full length once known (n >= 5), 0 when more bytes are needed to
 * know it, -1 when it is malformed (version, address type). */
int proxy_socks5_reply_len(const unsigned char *b, size_t n);
/* The text of a SOCKS5 reply code ("connection refused"). */
const char *proxy_socks5_reply_text(unsigned code);
/* An HTTP response head in b[0..n): 1 with *status and the reason phrase
 * (printable ASCII only, cut to len) when the head ends in b (*headlen
 * its length, blank line included), 0 when more is needed, -1 when it is
 * not an HTTP/1.x status line. */
int proxy_http_head(const unsigned char *b, size_t n, int *status,
                    char *reason, size_t len, size_t *headlen);

#endif
