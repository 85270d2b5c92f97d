/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hints.h - what one session with a server learnt that saves the next
 * one round trips (xmp_session_opts.hints, xmp_session_hints): the
 * mechanisms and channel-binding types offered after TLS and, kept in
 * memory only, the TLS session.  A versioned text blob, one "key value"
 * line each; the library only encodes and decodes it, the caller keeps
 * it.  Nothing in it decides whether a login is right: it holds no
 * password, nothing derived from one, and it is used only for the same
 * server identity (domain, trust anchors, verified key, the caller's
 * context).
 */
#ifndef XMP_HINTS_H
#define XMP_HINTS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* how long features and the TLS session are trusted to be current */
#define HINTS_MAX_AGE_S (7 * 24 * 3600)

struct hints {
    char *domain;
    char *trust;       /* the CA file the server was verified with, "-":
                          the system bundle */
    char *anchors;     /* tls_trust_id of those anchors */
    char *context;     /* the caller's (opts.hints_context), "-": none */
    char *pin;         /* the verified server key, "sha256//..." */
    int64_t saved;     /* seconds since 1970 */
    int64_t expires;   /* the server certificate's end of validity */
    char *mechs;       /* space-separated, NULL: unknown */
    char *cb;          /* XEP-0440 types, space-separated; NULL: no list */
    unsigned char *tls; /* tls_session_save */
    size_t tls_len;
    int tls_bound;     /* the login on that TLS session proved it with
                          channel binding (or a client certificate) */
    /* XEP-0388 SASL2, as the features offered it (NULL: not offered):
     * its mechanisms, the FAST mechanisms (NULL: no FAST), and what Bind2
     * may enable inline (NULL: no Bind2; "" nothing) */
    char *sasl2, *fast, *bind2;
    int sasl2_sm;      /* XEP-0198 resumption inside SASL2 offered */
};

/* 0, or -1 (h cleared) when the blob is damaged or of another version. */
int hints_decode(const void *blob, size_t len, struct hints *h);
/* 0, or -1 (out of memory, or a value that cannot be stored). */
int hints_encode(const struct hints *h, struct buf *out);
void hints_clear(struct hints *h);

#endif
