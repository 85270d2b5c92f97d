/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ssdp.h - XEP-0474 SASL SCRAM Downgrade Protection: the server may put
 * a hash of what it advertised (mechanisms, XEP-0440 channel-binding
 * types) into its SCRAM server-first-message as attribute "h"; the
 * ClientProof then covers it, so a man in the middle who edited the
 * advertisement is caught before the password is used.
 */
#ifndef XMP_SSDP_H
#define XMP_SSDP_H

#include "xmp.h"

/* The base64 XEP-0474 hash for mech (SCRAM-SHA-1[-PLUS] or
 * SCRAM-SHA-256[-PLUS]) over mechs (space-separated) and cbs
 * (space-separated channel-binding types, or NULL when the server sent
 * no XEP-0440 list) into out (size len).  -1 when mech is not SCRAM or
 * on lack of memory. */
int ssdp_hash(const char *mech, const char *mechs, const char *cbs,
              char *out, size_t len);

/* Check a SCRAM server-first-message (base64, as in <challenge/>):
 * XMP_OK when it has no "h" attribute (*checked 0) or the right one
 * (*checked 1); XMP_EAUTH when "h" differs (a downgrade), XMP_EPROTO
 * when the message is not base64. */
enum xmp_err ssdp_check(const char *mech, const char *challenge_b64,
                        const char *mechs, const char *cbs, int *checked,
                        struct xmp_error *err);

#endif
