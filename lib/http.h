/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * http.h - the pure parts of the HTTP/1.1 upload client (http.c): the
 * PUT URL and the response head.  Private; unit-tested on byte vectors.
 */
#ifndef XMP_HTTP_H
#define XMP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "xmp.h"

/* A response head longer than this is refused: the status line and the
 * headers are all we read (RFC 9112 §2.3 sets no limit; 16 KiB is what
 * common servers send at most for a request's head). */
#define HTTP_HEAD_MAX (16 * 1024)
/* The request head: the slot's headers and the path must fit. */
#define HTTP_REQ_MAX (8 * 1024)
/* The body is streamed through a buffer of this size: the memory an
 * upload takes does not grow with the file. */
#define HTTP_BODY_BUF (64 * 1024)

struct http_url {
    int https;                /* 0: http:// */
    char host[NET_HOST_MAX];  /* without brackets */
    uint16_t port;
    int ipv6;                 /* host is an IPv6 literal */
    char *path;               /* from the first '/', percent-encoded;
                                 caller frees (http_url_clear) */
};

/* Parse an absolute http:// or https:// URL (RFC 3986) without user
 * information; the fragment is dropped, bytes outside printable ASCII
 * in the path are percent-encoded, control characters refused.
 * XMP_EDATA naming what is wrong. */
enum xmp_err http_url_parse(const char *url, struct http_url *u,
                            struct xmp_error *err);
void http_url_clear(struct http_url *u);

/* Is name (any case) one of the headers a slot may set (XEP-0363 §5:
 * Authorization, Cookie, Expires)? */
int http_header_allowed(const char *name);

struct http_response {
    int status;              /* the final (non-1xx) status */
    char reason[64];         /* its reason phrase, printable ASCII only */
    size_t headlen;          /* bytes of b up to the end of its head,
                                interim 1xx heads included */
};

/* The response in b[0..n): 1 when the head of the final response is
 * complete (r filled; its body, chunked or not, is none of our
 * business), 0 when more bytes are needed, -1 when it is not an HTTP/1.x
 * response.  1xx interim responses (100 Continue) are skipped.  Lines
 * may end in CRLF or LF. */
int http_response_parse(const char *b, size_t n, struct http_response *r);

#endif
