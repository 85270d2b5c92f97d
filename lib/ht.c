/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ht.c - HT-SHA-256-* (ht.h) as draft-schmaus-kitten-sasl-ht-09 defines
 * it, the form Prosody 13 and ejabberd 24.12 accept: the messages carry
 * no prefix byte and no key/value pairs (draft-ietf-kitten-sasl-ht-02
 * adds those; servers do not speak it yet).
 *
 *   initial response  authcid || 0x00 || HMAC-SHA-256(K, "Initiator" || CB)
 *   server's proof    HMAC-SHA-256(K, "Responder" || CB)
 *
 * K is the bytes of the token as the server sent it (not base64-decoded),
 * CB the channel-binding data the mechanism's suffix names, empty for
 * -NONE.  The test vectors in tests/unit/test_ht.c pin this form.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include <gsasl.h>

#include "ht.h"
#include "tls.h"

#define HT_INITIATOR "Initiator"
#define HT_RESPONDER "Responder"
#define HT_LIST_SEP " \t\r\n"

static const struct {
    const char *mech;
    const char *cb_type;
} ht_mechs[] = {
    {"HT-SHA-256-EXPR", "tls-exporter"},
    {"HT-SHA-256-UNIQ", "tls-unique"},
    {"HT-SHA-256-ENDP", "tls-server-end-point"},
    {"HT-SHA-256-NONE", ""},
};

#define HT_NMECHS (sizeof ht_mechs / sizeof ht_mechs[0])

const char *ht_cb_type(const char *mech)
{
    size_t i;

    for (i = 0; mech && i < HT_NMECHS; i++)
        if (strcmp(mech, ht_mechs[i].mech) == 0)
            return ht_mechs[i].cb_type;
    return NULL;
}

/* HMAC-SHA-256(token, label || cb) into out: 0, or -1 (no memory, no
 * HMAC). */
static int proof(const char *token, const char *label,
                 const unsigned char *cb, size_t cb_len,
                 unsigned char out[HT_PROOF_LEN])
{
    size_t llen = strlen(label), n = llen + cb_len;
    unsigned char *msg = malloc(n);
    int r = -1;

    if (!msg)
        return -1;
    memcpy(msg, label, llen);
    if (cb_len)
        memcpy(msg + llen, cb, cb_len);
    if (tls_hmac_sha256(token, strlen(token), msg, n, out) == HT_PROOF_LEN)
        r = 0;
    explicit_bzero(msg, n);
    free(msg);
    return r;
}

enum xmp_err ht_initial(const char *authcid, const char *token,
                        const unsigned char *cb, size_t cb_len, char **b64,
                        struct xmp_error *e)
{
    unsigned char mac[HT_PROOF_LEN];
    char *raw = NULL;
    size_t alen, n = 0;
    enum xmp_err r = XMP_OK;

    if (b64)
        *b64 = NULL;
    if (!authcid || !*authcid || !token || !b64 || (cb_len && !cb))
        return xmp_error_set(e, XMP_EUSAGE,
                             "HT-SHA-256 needs a user name and a token");
    alen = strlen(authcid);
    n = alen + 1 + sizeof mac;
    if (!(raw = malloc(n))) {
        r = xmp_error_set(e, XMP_ENOMEM, "out of memory");
        goto done;
    }
    if (proof(token, HT_INITIATOR, cb, cb_len, mac) != 0) {
        r = xmp_error_set(e, XMP_EAUTH, "cannot compute the HT-SHA-256 "
                                        "initial response");
        goto done;
    }
    memcpy(raw, authcid, alen);
    raw[alen] = '\0';
    memcpy(raw + alen + 1, mac, sizeof mac);
    if (gsasl_base64_to(raw, n, b64, NULL) != GSASL_OK || !*b64) {
        *b64 = NULL;
        r = xmp_error_set(e, XMP_ENOMEM, "out of memory");
    }
done:
    explicit_bzero(mac, sizeof mac);
    if (raw)
        explicit_bzero(raw, n);
    free(raw);
    return r;
}

int ht_verify(const char *token, const unsigned char *cb, size_t cb_len,
              const char *additional_b64)
{
    unsigned char want[HT_PROOF_LEN], diff = 0;
    char *got = NULL;
    size_t len = 0, i;
    int ok = 0;

    if (!token || !additional_b64 || (cb_len && !cb) ||
        gsasl_base64_from(additional_b64, strlen(additional_b64), &got,
                          &len) != GSASL_OK)
        goto done;
    if (!got || len != sizeof want ||
        proof(token, HT_RESPONDER, cb, cb_len, want) != 0)
        goto done;
    /* constant time: every byte is looked at, whatever differs */
    for (i = 0; i < sizeof want; i++)
        diff |= (unsigned char)((unsigned char)got[i] ^ want[i]);
    ok = diff == 0;
done:
    explicit_bzero(want, sizeof want);
    if (got)
        explicit_bzero(got, len);
    free(got);
    return ok;
}

/* name is one of list's whitespace-separated words (NULL: no list). */
static int listed(const char *list, const char *name)
{
    size_t n = strlen(name), w;

    while (list && *list) {
        list += strspn(list, HT_LIST_SEP);
        w = strcspn(list, HT_LIST_SEP);
        if (w == n && strncmp(list, name, n) == 0)
            return 1;
        list += w;
    }
    return 0;
}

const char *ht_best(const char *offered, int tls13, int ems, int resumed,
                    int have_endp, const char *cb_offered, int allow_none)
{
    /* RFC 9266 §3: tls-exporter is TLS 1.3's binding; over TLS 1.2 it is
     * safe only with the extended master secret, and servers that list
     * their types must list it */
    if (listed(offered, "HT-SHA-256-EXPR") &&
        (tls13 || (ems && listed(cb_offered, "tls-exporter"))))
        return "HT-SHA-256-EXPR";
    /* RFC 5929 §3: TLS 1.2 only; a resumed handshake's is the server's
     * Finished, which servers get wrong */
    if (listed(offered, "HT-SHA-256-UNIQ") && !tls13 && ems && !resumed)
        return "HT-SHA-256-UNIQ";
    if (listed(offered, "HT-SHA-256-ENDP") && have_endp)
        return "HT-SHA-256-ENDP";
    /* replayable by whoever breaks the TLS: only when asked for */
    if (listed(offered, "HT-SHA-256-NONE") && allow_none)
        return "HT-SHA-256-NONE";
    return NULL;
}
