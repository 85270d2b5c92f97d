/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tlsfake.c - a TLS layer that is no TLS: lib/tls.h over the bare
 * socket, so that a test can drive the session past STARTTLS from the
 * other end of a socketpair, through every state that only exists over
 * TLS.  The handshake succeeds at once and the "certificate" verifies.
 *
 * The definitions are weak: should the library come to need a TLS
 * function this file lacks, the real backend is linked instead and
 * tlsfake_used() tells the test so, rather than the link failing on
 * twice-defined names.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tls.h"
#include "tlsfake.h"

#define WEAK __attribute__((weak))

struct tls {
    int fd;
};

static int used;

int tlsfake_used(void)
{
    return used;
}

WEAK enum xmp_err tls_new(struct tls **out, int fd, const struct tls_params *p,
                          struct xmp_error *err)
{
    (void)p;
    used = 1;
    if (!(*out = calloc(1, sizeof **out)))
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    (*out)->fd = fd;
    return XMP_OK;
}

WEAK void tls_free(struct tls *t)
{
    free(t);
}

WEAK enum xmp_err tls_handshake(struct tls *t, struct xmp_error *err)
{
    (void)t; (void)err;
    return XMP_OK;
}

WEAK int tls_got_xml(const struct tls *t)
{
    (void)t;
    return 0;
}

WEAK enum tls_want tls_want(const struct tls *t)
{
    (void)t;
    return TLS_WANT_READ;
}

WEAK enum xmp_err tls_read(struct tls *t, void *buf, size_t len, size_t *n,
                           struct xmp_error *err)
{
    ssize_t got = recv(t->fd, buf, len, 0);

    *n = 0;
    if (got >= 0) {
        *n = (size_t)got;
        return XMP_OK;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return XMP_AGAIN;
    return xmp_error_set(err, XMP_EUNREACH, "fake TLS: %s", strerror(errno));
}

WEAK enum xmp_err tls_write(struct tls *t, const void *buf, size_t len,
                            size_t *n, struct xmp_error *err)
{
    ssize_t w = send(t->fd, buf, len, MSG_NOSIGNAL);

    *n = 0;
    if (w > 0) {
        *n = (size_t)w;
        return XMP_OK;
    }
    if (w == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return XMP_AGAIN;
    return xmp_error_set(err, XMP_EUNREACH, "fake TLS: %s", strerror(errno));
}

WEAK int tls_pending(const struct tls *t)
{
    (void)t;
    return 0;
}

WEAK void tls_close_notify(struct tls *t)
{
    (void)t;
}

WEAK void tls_get_info(const struct tls *t, struct tls_info *info)
{
    (void)t;
    memset(info, 0, sizeof *info);
    snprintf(info->version, sizeof info->version, "TLSv1.3");
    snprintf(info->cipher, sizeof info->cipher, "none (test)");
    snprintf(info->subject, sizeof info->subject, "CN=example.test");
    info->verified = 1;
}

/* Nothing to resume: there was no handshake. */
WEAK enum xmp_err tls_session_save(const struct tls *t, unsigned char **out,
                                   size_t *len)
{
    (void)t;
    *out = NULL;
    *len = 0;
    return XMP_ETLS;
}

WEAK enum xmp_err tls_pins_check(const char *pins, struct xmp_error *err)
{
    (void)pins;
    (void)err;
    return XMP_OK;
}

WEAK int tls_has_13(void)
{
    return 0;
}

WEAK const char *tls_library(void)
{
    return "no TLS (tlsfake)";
}

/* No extended master secret here (tls_get_info says so), hence no
 * channel binding: the -PLUS mechanisms are never chosen. */
WEAK enum xmp_err tls_channel_binding(const struct tls *t, const char *type,
                                      unsigned char *out, size_t *len,
                                      struct xmp_error *err)
{
    (void)t;
    (void)out;
    *len = 0;
    return xmp_error_set(err, XMP_ETLS, "fake TLS: no %s", type);
}

/* No digest either: a XEP-0474 check fails, as with a backend that
 * cannot hash. */
WEAK const char *tls_trust_id(const struct xmp_trust *trust)
{
    (void)trust;
    return NULL;
}

WEAK size_t tls_digest(int sha256, const void *in, size_t len,
                       unsigned char *out)
{
    (void)sha256;
    (void)in;
    (void)len;
    (void)out;
    return 0;
}

/* No HMAC: a FAST token's proof cannot be made (ht.c fails cleanly). */
WEAK size_t tls_hmac_sha256(const void *key, size_t klen, const void *msg,
                            size_t mlen, unsigned char out[32])
{
    (void)key;
    (void)klen;
    (void)msg;
    (void)mlen;
    (void)out;
    return 0;
}

/* No version to hold a probe to: a probe that asks for one is refused
 * as a build that cannot offer it. */
WEAK int tls_can_probe(int v)
{
    (void)v;
    return 0;
}

WEAK enum xmp_err tls_probe_version(struct tls *t, int v,
                                    struct xmp_error *err)
{
    (void)t;
    return xmp_error_set(err, XMP_EUSAGE, "this build cannot offer TLS "
                         "%d.%d", v / 10, v % 10);
}

/* No suite to probe either. */
WEAK size_t tls_probe_suites(int v, int *ids, size_t max)
{
    (void)v; (void)ids; (void)max;
    return 0;
}

WEAK const char *tls_suite_name(int id)
{
    (void)id;
    return NULL;
}

WEAK enum xmp_err tls_probe_suite(struct tls *t, int id,
                                  struct xmp_error *err)
{
    (void)t;
    return xmp_error_set(err, XMP_EUSAGE, "no cipher suite %d here", id);
}
