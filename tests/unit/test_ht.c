/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_ht.c - HT-SHA-256-* (lib/ht.c): the initial response and the
 * server's proof for each channel-binding variant against values made
 * with Python's hmac and base64 (the form of
 * draft-schmaus-kitten-sasl-ht-09 that Prosody 13 and ejabberd 24.12
 * accept), proofs that must be refused, and the choice of mechanism.
 * Also the HMAC underneath (tls_hmac_sha256, RFC 4231). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht.h"
#include "tap.h"
#include "tls.h"

/* The values below come from (token, authcid, and CB bytes as here):
 *
 * python3 -c 'import hmac,hashlib,base64 as b;K=b"s3cr3t-T0ken+/="
 * cbs={"EXPR":bytes(range(32)),"UNIQ":bytes(range(0xa0,0xac)),
 * "ENDP":bytes(range(0x40,0x60)),"NONE":b""}
 * [print(m,b.b64encode(b"alice\0"+hmac.new(K,b"Initiator"+c,
 * hashlib.sha256).digest()).decode(),b.b64encode(hmac.new(K,
 * b"Responder"+c,hashlib.sha256).digest()).decode()) for m,c in cbs.items()]'
 *
 * and for the refused EXPR proofs, with r its Responder HMAC:
 * b.b64encode(r[:31]), b.b64encode(r+b"\0"), and
 * b.b64encode(r[:31]+bytes([r[31]^1])).
 */
#define TOKEN "s3cr3t-T0ken+/="
#define AUTHCID "alice"
#define CB_EXPR_LEN 32
#define CB_UNIQ_LEN 12
#define CB_ENDP_LEN 32
#define CB_MAX 32

struct vector {
    const char *mech;
    unsigned char first; /* CB is first, first + 1, ... */
    size_t cb_len;
    const char *initial;
    const char *responder;
};

static const struct vector vectors[] = {
    {"HT-SHA-256-EXPR", 0x00, CB_EXPR_LEN,
     "YWxpY2UA/jkee/Z1xAKBxB+5/hvSblENpF1ZTLAdjQZxjqmiYzU=",
     "vwAk+Oca7cBmM98TpvNqdi7FdzQA5RmtgQCyPPgKL4Y="},
    {"HT-SHA-256-UNIQ", 0xa0, CB_UNIQ_LEN,
     "YWxpY2UAe1V4Vuh9yk104lK44YXfLyZVQlxdX88ztVqmM43r1Lw=",
     "BoWTfgR4X7FU/x6COllNsfvLnU5kuUXVe6r/RzsaGJs="},
    {"HT-SHA-256-ENDP", 0x40, CB_ENDP_LEN,
     "YWxpY2UAi1JhxI9KMxsJKCrKrvr0ZYZziDY/nRozhfyXq9F7T5s=",
     "7OqL2wXpTK79WcZwCe53lvoISrSMe50B4wSfv3B1WBs="},
    {"HT-SHA-256-NONE", 0x00, 0,
     "YWxpY2UAwToFsu58S/dUwLdO9fJfhEDM8mnlGwOqGSTkVYgRX4Q=",
     "9x6GxOOfaEQMvahUR8kVnubdDQz8l07s9/Z70850BVc="},
};

#define NVECTORS (sizeof vectors / sizeof vectors[0])

static void cb_of(const struct vector *v, unsigned char *cb)
{
    size_t i;

    for (i = 0; i < v->cb_len; i++)
        cb[i] = (unsigned char)(v->first + i);
}

static void test_hmac(void)
{
    /* RFC 4231 §4.3, test case 2 */
    static const char want[] =
        "5bdcc146bf60754e6a042426089575c7"
        "5a003f089d2739839dec58b964ec3843";
    static const char msg[] = "what do ya want for nothing?";
    unsigned char out[32];
    char hex[2 * sizeof out + 1];
    size_t i;

    is_int(tls_hmac_sha256("Jefe", 4, msg, sizeof msg - 1, out), 32,
           "hmac: 32 bytes");
    for (i = 0; i < sizeof out; i++)
        snprintf(hex + 2 * i, 3, "%02x", out[i]);
    is_str(hex, want, "hmac: RFC 4231 test case 2");
}

static void test_cb_type(void)
{
    is_str(ht_cb_type("HT-SHA-256-EXPR"), "tls-exporter", "cb type: EXPR");
    is_str(ht_cb_type("HT-SHA-256-UNIQ"), "tls-unique", "cb type: UNIQ");
    is_str(ht_cb_type("HT-SHA-256-ENDP"), "tls-server-end-point",
           "cb type: ENDP");
    is_str(ht_cb_type("HT-SHA-256-NONE"), "", "cb type: NONE is empty");
    is_str(ht_cb_type("ht-sha-256-expr"), NULL,
           "cb type: names are case-sensitive");
    is_str(ht_cb_type("HT-SHA-384-NONE"), NULL, "cb type: other hashes");
    is_str(ht_cb_type("HT-SHA-256-EXPR "), NULL, "cb type: exact names");
    is_str(ht_cb_type("SCRAM-SHA-256"), NULL, "cb type: not HT");
    is_str(ht_cb_type(NULL), NULL, "cb type: NULL");
}

static void test_vectors(void)
{
    unsigned char cb[CB_MAX];
    struct xmp_error e;
    char *b64;
    size_t i;

    for (i = 0; i < NVECTORS; i++) {
        const struct vector *v = &vectors[i];

        cb_of(v, cb);
        xmp_error_clear(&e);
        b64 = NULL;
        is_int(ht_initial(AUTHCID, TOKEN, v->cb_len ? cb : NULL, v->cb_len,
                          &b64, &e),
               XMP_OK, "%s: initial response made", v->mech);
        is_str(b64, v->initial, "%s: initial response", v->mech);
        free(b64);
        is_int(ht_verify(TOKEN, v->cb_len ? cb : NULL, v->cb_len,
                         v->responder),
               1, "%s: the server's proof verifies", v->mech);
        /* the Initiator value is no Responder proof */
        is_int(ht_verify(TOKEN, cb, v->cb_len, v->initial), 0,
               "%s: our own initial response is no proof", v->mech);
        is_int(ht_verify("s3cr3t-T0ken+/", cb, v->cb_len, v->responder), 0,
               "%s: another token's proof is refused", v->mech);
    }
    /* the same proof over another binding: EXPR's CB, NONE's proof */
    cb_of(&vectors[0], cb);
    is_int(ht_verify(TOKEN, cb, CB_EXPR_LEN, vectors[3].responder), 0,
           "a proof over other channel-binding data is refused");
}

static void test_refused(void)
{
    unsigned char cb[CB_MAX];
    struct xmp_error e;
    char *b64 = (char *)"x";

    cb_of(&vectors[0], cb);
    is_int(ht_verify(TOKEN, cb, CB_EXPR_LEN,
                     "vwAk+Oca7cBmM98TpvNqdi7FdzQA5RmtgQCyPPgKL4c="),
           0, "verify: one bit wrong");
    is_int(ht_verify(TOKEN, cb, CB_EXPR_LEN,
                     "vwAk+Oca7cBmM98TpvNqdi7FdzQA5RmtgQCyPPgKLw=="),
           0, "verify: truncated to 31 bytes");
    is_int(ht_verify(TOKEN, cb, CB_EXPR_LEN,
                     "vwAk+Oca7cBmM98TpvNqdi7FdzQA5RmtgQCyPPgKL4YA"),
           0, "verify: 33 bytes, the right 32 and one more");
    is_int(ht_verify(TOKEN, cb, CB_EXPR_LEN, ""), 0, "verify: empty");
    is_int(ht_verify(TOKEN, cb, CB_EXPR_LEN, "="), 0,
           "verify: empty as XMPP writes it");
    is_int(ht_verify(TOKEN, cb, CB_EXPR_LEN,
                     "vwAk+Oca7cBmM98TpvNqdi7Fdz*A5RmtgQCyPPgKL4Y="),
           0, "verify: not base64");
    is_int(ht_verify(TOKEN, cb, CB_EXPR_LEN, NULL), 0, "verify: NULL");
    is_int(ht_verify(NULL, cb, CB_EXPR_LEN, vectors[0].responder), 0,
           "verify: no token");

    xmp_error_clear(&e);
    is_int(ht_initial(NULL, TOKEN, NULL, 0, &b64, &e), XMP_EUSAGE,
           "initial: no authcid");
    is_str(b64, NULL, "initial: nothing made");
    is_int(ht_initial("", TOKEN, NULL, 0, &b64, &e), XMP_EUSAGE,
           "initial: empty authcid");
    is_int(ht_initial(AUTHCID, NULL, NULL, 0, &b64, &e), XMP_EUSAGE,
           "initial: no token");
    is_int(ht_initial(AUTHCID, TOKEN, NULL, 4, &b64, &e), XMP_EUSAGE,
           "initial: a length without data");
}

#define PROSODY "HT-SHA-256-NONE HT-SHA-256-EXPR HT-SHA-256-UNIQ"
#define EJABBERD "HT-SHA-256-NONE HT-SHA-256-UNIQ HT-SHA-256-EXPR " \
                 "HT-SHA-256-ENDP"
#define CB_BOTH "tls-unique tls-exporter"

static void test_best(void)
{
    /* ht_best(offered, tls13, ems, resumed, have_endp, cb, allow_none) */
    is_str(ht_best(PROSODY, 1, 1, 0, 1, NULL, 1), "HT-SHA-256-EXPR",
           "best: TLS 1.3 takes EXPR, with no list of types");
    is_str(ht_best(EJABBERD, 1, 1, 1, 0, "tls-exporter", 0),
           "HT-SHA-256-EXPR", "best: TLS 1.3 resumed takes EXPR");
    is_str(ht_best(EJABBERD, 1, 1, 1, 0, NULL, 0), "HT-SHA-256-EXPR",
           "best: TLS 1.3 resumed, no list: still EXPR");
    is_str(ht_best(EJABBERD, 0, 1, 0, 1, CB_BOTH, 0), "HT-SHA-256-EXPR",
           "best: TLS 1.2, EMS, tls-exporter listed: EXPR");
    is_str(ht_best(EJABBERD, 0, 1, 1, 1, CB_BOTH, 0), "HT-SHA-256-EXPR",
           "best: TLS 1.2 resumed, tls-exporter listed: EXPR");
    is_str(ht_best(EJABBERD, 0, 1, 0, 1, "tls-unique", 0),
           "HT-SHA-256-UNIQ", "best: TLS 1.2, tls-exporter not listed: UNIQ");
    is_str(ht_best(EJABBERD, 0, 1, 0, 1, NULL, 0), "HT-SHA-256-UNIQ",
           "best: TLS 1.2, no list: UNIQ");
    is_str(ht_best(EJABBERD, 0, 1, 0, 1, "tls-exporter-x", 0),
           "HT-SHA-256-UNIQ", "best: the list is matched by whole words");
    is_str(ht_best(EJABBERD, 0, 0, 0, 1, CB_BOTH, 0), "HT-SHA-256-ENDP",
           "best: TLS 1.2 without EMS: neither EXPR nor UNIQ, ENDP");
    is_str(ht_best(EJABBERD, 0, 1, 1, 1, "tls-unique", 0),
           "HT-SHA-256-ENDP", "best: TLS 1.2 resumed: no UNIQ, ENDP");
    is_str(ht_best(EJABBERD, 0, 1, 1, 0, "tls-unique", 1),
           "HT-SHA-256-NONE", "best: resumed, no ENDP: NONE when allowed");
    is_str(ht_best(EJABBERD, 0, 1, 1, 0, "tls-unique", 0), NULL,
           "best: resumed, no ENDP, NONE not allowed: none");
    is_str(ht_best("HT-SHA-256-UNIQ HT-SHA-256-NONE", 1, 1, 0, 1, NULL, 0),
           NULL, "best: TLS 1.3 never takes UNIQ");
    is_str(ht_best("HT-SHA-256-UNIQ HT-SHA-256-NONE", 1, 1, 0, 1, NULL, 1),
           "HT-SHA-256-NONE", "best: TLS 1.3 without EXPR: NONE if allowed");
    is_str(ht_best(PROSODY, 0, 0, 0, 1, CB_BOTH, 0), NULL,
           "best: Prosody over TLS 1.2 without EMS: no ENDP offered");
    is_str(ht_best(PROSODY, 0, 0, 0, 1, CB_BOTH, 1), "HT-SHA-256-NONE",
           "best: ... but NONE when allowed");
    is_str(ht_best("HT-SHA-256-NONE", 1, 1, 0, 1, NULL, 0), NULL,
           "best: NONE alone, not allowed");
    is_str(ht_best("HT-SHA-256-NONE", 1, 1, 0, 1, NULL, 1),
           "HT-SHA-256-NONE", "best: NONE alone, allowed");
    is_str(ht_best("ht-sha-256-expr HT-SHA-256-EXPRX SCRAM-SHA-256", 1, 1,
                   0, 1, NULL, 1),
           NULL, "best: only exact names count");
    is_str(ht_best("", 1, 1, 0, 1, NULL, 1), NULL, "best: empty list");
    is_str(ht_best(NULL, 1, 1, 0, 1, NULL, 1), NULL, "best: no list");
}

int main(void)
{
    test_hmac();
    test_cb_type();
    test_vectors();
    test_refused();
    test_best();
    return tap_done();
}
