/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ht.h - the arithmetic of the HT-SHA-256-* SASL mechanisms (the Hashed
 * Token mechanism, draft-schmaus-kitten-sasl-ht-09) that XEP-0484 (FAST)
 * logs in with: the client's initial response, the check of the server's
 * proof, and which of the four channel-binding variants a connection can
 * use.  Pure functions: no session state, no I/O.
 */
#ifndef XMP_HT_H
#define XMP_HT_H

#include <stddef.h>

#include "xmp.h"

/* HMAC-SHA-256 output, the proof in either direction */
#define HT_PROOF_LEN 32

/* The channel-binding type (tls_channel_binding's type) of mechanism
 * mech: "HT-SHA-256-EXPR" "tls-exporter", "-UNIQ" "tls-unique", "-ENDP"
 * "tls-server-end-point", "-NONE" "" (no binding); NULL for any other
 * name (names are case-sensitive).  A static string. */
const char *ht_cb_type(const char *mech);

/* The initial response for authcid (the JID's localpart) holding token
 * (the token attribute exactly as the server sent it) over cb_len bytes
 * of channel-binding data cb (none for -NONE): the base64 of
 * authcid || 0x00 || HMAC-SHA-256(token, "Initiator" || cb).  XMP_OK with
 * *b64 (the caller wipes and frees it), or XMP_EUSAGE (NULL argument, a
 * NUL-less authcid is required), XMP_ENOMEM, XMP_EAUTH (no HMAC). */
enum xmp_err ht_initial(const char *authcid, const char *token,
                        const unsigned char *cb, size_t cb_len, char **b64,
                        struct xmp_error *e);

/* 1 when additional_b64 (the <additional-data> of the server's success)
 * decodes to exactly HMAC-SHA-256(token, "Responder" || cb), compared in
 * constant time; 0 otherwise: NULL, not base64, another length, another
 * value. */
int ht_verify(const char *token, const unsigned char *cb, size_t cb_len,
              const char *additional_b64);

/* The mechanism to use (or to request a token for) among offered
 * (space-separated names, as <fast> lists them), strongest binding
 * first: -EXPR on TLS 1.3 (tls13), or on TLS 1.2 with the extended master
 * secret (ems) when cb_offered (the XEP-0440 types, space-separated; NULL:
 * no list) names tls-exporter; -UNIQ on TLS 1.2 with ems and a full
 * handshake (not resumed); -ENDP when the server's certificate can be
 * hashed (have_endp); -NONE only with allow_none.  A static string, or
 * NULL when none of them fits. */
const char *ht_best(const char *offered, int tls13, int ems, int resumed,
                    int have_endp, const char *cb_offered, int allow_none);

#endif
