/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sasl.h - SASL for XMPP (RFC 6120 §6) over GNU SASL.
 *
 * We rank mechanisms ourselves (gsasl_client_suggest_mechanism prefers
 * GSSAPI and ignores whether channel-binding data exists): the strongest
 * the server offers wins, PLAIN only inside TLS.
 */
#ifndef XMP_SASL_H
#define XMP_SASL_H

#include "xmp.h"

/* Longest password we accept from a password source. */
#define SASL_PASSWORD_MAX 1024

/* Most SCRAM iterations a server may ask for: servers use 4096 to some
 * hundred thousand; a million costs well under a second here. */
#define SASL_SCRAM_ITER_MAX 1000000

/* What protects the stream, for sasl_choose's tls. */
#define SASL_TLS_NONE 0
#define SASL_TLS_ENCRYPTED 1 /* TLS, certificate not verified */
#define SASL_TLS_VERIFIED 2

/* Choose a mechanism from the n names the server offered.  forced (may
 * be NULL) must be offered and known.  tls: SASL_TLS_*; PLAIN is chosen
 * by itself only over verified TLS, and when forced over any TLS.  cb:
 * channel-binding data can be had, so -PLUS may be chosen.  Returns a
 * static string, or NULL with err set (XMP_EAUTH). */
const char *sasl_choose(const char *const *offered, size_t n, int tls,
                        int cb, const char *forced, struct xmp_error *err);
/* Non-zero for a channel-binding mechanism (SCRAM-*-PLUS). */
int sasl_mech_is_plus(const char *mech);

struct sasl;

/* Start mech for authid (the JID's localpart, RFC 6120 §6.3.8; for
 * EXTERNAL the authzid, "" for none).  The
 * password is asked from pw (only if the mechanism needs it) and wiped
 * from our buffers once handed to GNU SASL.  *initial receives the
 * base64 initial response to put in <auth/> ("=" for an empty one, RFC
 * 6120 §6.4.2); caller frees.  cb_type (a static string, or NULL) and
 * its cb_len bytes of data are given to a -PLUS mechanism only. */
enum xmp_err sasl_start(struct sasl **out, const char *mech,
                        const char *authid, xmp_password_fn pw, void *pw_ud,
                        const char *cb_type, const unsigned char *cb,
                        size_t cb_len, char **initial, struct xmp_error *err);
/* Answer a <challenge/> (base64 text, may be "" or "="): *reply receives
 * the base64 <response/> text; caller frees. */
enum xmp_err sasl_challenge(struct sasl *s, const char *in, char **reply,
                            struct xmp_error *err);
/* Check a <success/> (payload may be ""): XMP_OK only when the mechanism
 * finished and, for SCRAM, the server proved it knows our password
 * (mutual authentication, RFC 5802 §5.1 "v="). */
enum xmp_err sasl_success(struct sasl *s, const char *in,
                          struct xmp_error *err);
void sasl_free(struct sasl *s);

#endif
