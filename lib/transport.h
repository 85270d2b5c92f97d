/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * transport.h - bytes to and from the server: a plain socket before
 * STARTTLS, TLS after it (or from the first byte, XEP-0368), behind one
 * interface, so the stream above never asks which.  Private.
 */
#ifndef XMP_TRANSPORT_H
#define XMP_TRANSPORT_H

#include <stddef.h>

#include "tls.h"
#include "xmp.h"

struct transport;

/* A plain transport over the connected non-blocking socket fd, which it
 * owns from now on.  peer names the other end in messages. */
enum xmp_err transport_new(struct transport **out, int fd, const char *peer,
                           struct xmp_error *err);
/* Best effort and never blocking: write last[0..len) if the peer can take
 * it now (our closing tag), say TLS goodbye, close the socket, free. */
void transport_free(struct transport *t, const char *last, size_t len);

/* Switch to TLS; drive the handshake with transport_handshake until it
 * returns XMP_OK.  Reading or writing before then is an error. */
enum xmp_err transport_start_tls(struct transport *t,
                                 const struct tls_params *p,
                                 struct xmp_error *err);
/* XMP_OK once the transport is ready for data (at once when plain),
 * XMP_AGAIN (poll for transport_events), or an error. */
enum xmp_err transport_handshake(struct transport *t, struct xmp_error *err);
/* Facts about the TLS layer; all empty when plain. */
void transport_tls_info(const struct transport *t, struct tls_info *info);
int transport_is_tls(const struct transport *t);
/* tls_session_save of the TLS layer (XMP_ETLS when plain). */
enum xmp_err transport_tls_session(const struct transport *t,
                                   unsigned char **out, size_t *len);
/* tls_channel_binding of the TLS layer (XMP_ETLS when plain). */
enum xmp_err transport_channel_binding(const struct transport *t,
                                       const char *type, unsigned char *out,
                                       size_t *len, struct xmp_error *err);

/* Read up to len bytes: XMP_OK with *n > 0, XMP_OK with *n == 0 when the
 * peer closed the connection, XMP_AGAIN, or an error. */
enum xmp_err transport_read(struct transport *t, void *buf, size_t len,
                            size_t *n, struct xmp_error *err);
/* Write a prefix of buf[0..len): XMP_OK with *n > 0 bytes taken, XMP_AGAIN,
 * or an error.  After XMP_AGAIN the next call must offer at least the
 * same bytes again (a queue that only grows at its end does). */
enum xmp_err transport_write(struct transport *t, const void *buf,
                             size_t len, size_t *n, struct xmp_error *err);

int transport_fd(const struct transport *t);
/* poll() events to wait for: reading (when want_read), and writing when
 * output waits or the layer needs it. */
short transport_events(const struct transport *t, int want_read,
                       int have_output);
/* Non-zero when bytes wait inside the layer, where poll() cannot see them. */
int transport_pending(const struct transport *t);

#endif
