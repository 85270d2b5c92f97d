/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/*
 * omemo.c - OMEMO (XEP-0384) for one device of ours, in the namespaces
 * eu.siacs.conversations.axolotl (0.3) and urn:xmpp:omemo:2 (0.8).
 *
 * libomemo-c does the double ratchet and X3DH for both: its version 3
 * (CIPHERTEXT_CURRENT_VERSION) is the axolotl wire format, its version 4
 * (CIPHERTEXT_OMEMO_VERSION) that of omemo:2.  What it leaves to us:
 *   - its cryptography, through tls.h (the crypto provider below);
 *   - its stores, over the caller's named blobs (struct xmp_omemo_store);
 *   - the payload: axolotl seals the text with AES-128-GCM and hands
 *     key||tag (32 bytes) to the ratchet; omemo:2 seals an XEP-0420
 *     envelope with keys from HKDF-SHA-256(key, 32 zero bytes, "OMEMO
 *     Payload") -> AES-256 key | HMAC key | IV, AES-256-CBC and a
 *     truncated HMAC-SHA-256, and hands key||mac (48 bytes) over;
 *   - the XML of bundles, device lists and <encrypted/>.
 *
 * The blobs (JIDs appear as the first 32 hex digits of their SHA-256):
 *   identity            publen, our public key, our private key
 *   device              our device id, decimal
 *   prekey.ID spk.ID    serialized one-time and signed pre-keys
 *   prekey-next         the id the next fresh pre-key gets
 *   session.V.HASH.DEV  a session (V: 3 axolotl, 4 omemo:2)
 *   trust.HASH.DEV      trust state, key length, identity key, the JID
 * libomemo-c sees a contact's device as the address ("V.JID", DEV).
 */
#include "xmp.h"
#include "tls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsasl.h>

#include <curve.h>
#include <key_helper.h>
#include <protocol.h>
#include <ratchet.h>
#include <session_builder.h>
#include <session_cipher.h>
#include <session_pre_key.h>
#include <signal_protocol.h>

#define NS_SCE "urn:xmpp:sce:1"
#define PREKEY_COUNT 100
#define SPK_ID 1
#define DEVICE_MAX 0x7fffffffu
/* the largest decoded key element or payload we take */
#define WIRE_MAX (256 * 1024)

struct xmp_omemo {
    const struct xmp_omemo_store *st;
    char *jid;
    unsigned flags;
    uint32_t device;
    struct tls_rng *rng;
    signal_context *ctx;
    signal_protocol_store_context *sc;
    unsigned char ik[33]; /* our public identity key, serialized */
    int prekey_used;      /* a pre-key was removed during this call */
    int store_failed;     /* a store callback failed during this call */
    char store_msg[256];
    char log[256];        /* libomemo-c's last warning or error */
};

enum xmp_omemo_ns xmp_omemo_ns_of(const char *uri)
{
    if (uri && strcmp(uri, XMP_OMEMO_NS_AXOLOTL) == 0)
        return XMP_OMEMO_AXOLOTL;
    if (uri && strcmp(uri, XMP_OMEMO_NS_V2) == 0)
        return XMP_OMEMO_V2;
    return 0;
}

static const char *ns_uri(enum xmp_omemo_ns ns)
{
    return ns == XMP_OMEMO_V2 ? XMP_OMEMO_NS_V2 : XMP_OMEMO_NS_AXOLOTL;
}

static uint32_t ns_version(enum xmp_omemo_ns ns)
{
    return ns == XMP_OMEMO_V2 ? 4 : 3;
}

const char *xmp_omemo_trust_name(enum xmp_omemo_trust t)
{
    switch (t) {
    case XMP_OMEMO_UNDECIDED: return "undecided";
    case XMP_OMEMO_BLIND: return "blind";
    case XMP_OMEMO_VERIFIED: return "verified";
    case XMP_OMEMO_DISTRUSTED: return "distrusted";
    }
    return "unknown";
}

const char *xmp_omemo_why_name(enum xmp_omemo_why why)
{
    switch (why) {
    case XMP_OMEMO_OK: return "ok";
    case XMP_OMEMO_MALFORMED: return "malformed";
    case XMP_OMEMO_NOT_FOR_US: return "not encrypted for this device";
    case XMP_OMEMO_NO_SESSION: return "no session with that device";
    case XMP_OMEMO_REPLAY: return "replayed message";
    case XMP_OMEMO_TAMPERED: return "tampered with (authentication failed)";
    case XMP_OMEMO_CHANGED: return "identity key changed";
    case XMP_OMEMO_UNTRUSTED: return "device not trusted";
    case XMP_OMEMO_FORGED: return "envelope names another sender";
    }
    return "unknown";
}

/* ---- small helpers ------------------------------------------------------ */

static int parse_device(const char *s, uint32_t *out)
{
    unsigned long v = 0;

    if (!s || !*s || strlen(s) > 10)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned long)(*s - '0');
    }
    if (v == 0 || v > DEVICE_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* The first 32 hex digits of SHA-256(s[0..len)). */
static void jid_hash(const char *s, size_t len, char out[33])
{
    unsigned char d[TLS_DIGEST_MAX];
    static const char hex[] = "0123456789abcdef";

    memset(d, 0, sizeof d);
    tls_digest(1, s, len, d);
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[32] = '\0';
}

static void name_of(char *buf, size_t size, const char *kind,
                    const char *jid, size_t jlen, long dev)
{
    char h[33];

    jid_hash(jid, jlen, h);
    snprintf(buf, size, "%s.%s.%ld", kind, h, dev);
}

/* base64 of n bytes; NULL on ENOMEM */
static char *b64(const void *d, size_t n)
{
    char *s = NULL;

    if (gsasl_base64_to(d, n, &s, NULL) != GSASL_OK)
        return NULL;
    return s;
}

/* The bytes of the base64 text inside n (whitespace ignored), at most
 * max of them; NULL when there is none or it is not base64. */
static unsigned char *unb64(const struct xmp_node *n, size_t max,
                            size_t *len)
{
    char *t, *w, *raw = NULL;
    const char *r;
    size_t rlen = 0;

    if (!n || !(t = xmp_node_text(n)))
        return NULL;
    for (r = t, w = t; *r; r++)
        if (*r != ' ' && *r != '\t' && *r != '\r' && *r != '\n')
            *w++ = *r;
    *w = '\0';
    if (!*t || strlen(t) > max / 3 * 4 + 4 ||
        gsasl_base64_from(t, strlen(t), &raw, &rlen) != GSASL_OK ||
        rlen == 0 || rlen > max) {
        free(t);
        free(raw);
        return NULL;
    }
    free(t);
    *len = rlen;
    return (unsigned char *)raw;
}

static int add_b64_child(struct xmp_node *parent, const char *ns,
                         const char *name, const void *d, size_t n,
                         struct xmp_node **child)
{
    struct xmp_node *c = xmp_node_add_child(parent, ns, name, NULL);
    char *s = b64(d, n);
    int ok = c && s && xmp_node_add_text(c, s, strlen(s), NULL) == XMP_OK;

    free(s);
    if (child)
        *child = c;
    return ok ? 0 : -1;
}

static int set_num_attr(struct xmp_node *n, const char *name, uint32_t v)
{
    char num[16];

    snprintf(num, sizeof num, "%lu", (unsigned long)v);
    return n && xmp_node_set_attr(n, name, num, NULL) == XMP_OK ? 0 : -1;
}

static void fpr_hex(const unsigned char *k, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (size_t i = 0; i < len && i < 32; i++) {
        if (i && i % 4 == 0)
            out[o++] = ' ';
        out[o++] = hex[k[i] >> 4];
        out[o++] = hex[k[i] & 15];
    }
    out[o] = '\0';
}

/* The fingerprint of a serialized identity key (0x05 and the Curve25519
 * key, as libomemo-c hands them to the identity store). */
static void fpr_of(const unsigned char *k, size_t len,
                   char out[XMP_OMEMO_FPR_MAX])
{
    if (len == 33 && k[0] == 0x05)
        fpr_hex(k + 1, 32, out);
    else
        fpr_hex(k, len, out);
}

/* ---- the store, as libomemo-c's callbacks ------------------------------- */

static void store_fail(struct xmp_omemo *om, const char *what,
                       const char *name)
{
    if (!om->store_failed)
        snprintf(om->store_msg, sizeof om->store_msg,
                 "cannot %s OMEMO state %s", what, name);
    om->store_failed = 1;
}

/* 1 found, 0 not found, -1 failed */
static int blob_get(struct xmp_omemo *om, const char *name,
                    unsigned char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (om->st->get(om->st->ud, name, data, len) != XMP_OK) {
        store_fail(om, "read", name);
        return -1;
    }
    return *data != NULL;
}

static int blob_put(struct xmp_omemo *om, const char *name, const void *data,
                    size_t len)
{
    if (om->st->put(om->st->ud, name, data, len) != XMP_OK) {
        store_fail(om, "write", name);
        return -1;
    }
    return 0;
}

static int blob_del(struct xmp_omemo *om, const char *name)
{
    if (om->st->del(om->st->ud, name) != XMP_OK) {
        store_fail(om, "remove", name);
        return -1;
    }
    return 0;
}

struct names {
    char **v;
    size_t n, cap;
    int failed;
};

static void names_add(void *arg, const char *name)
{
    struct names *l = arg;
    char **nv;

    if (l->failed)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        if (!(nv = realloc(l->v, cap * sizeof *nv))) {
            l->failed = 1;
            return;
        }
        l->v = nv;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(name)))
        l->failed = 1;
    else
        l->n++;
}

static void names_free(struct names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int blob_list(struct xmp_omemo *om, const char *prefix,
                     struct names *l)
{
    memset(l, 0, sizeof *l);
    if (om->st->list(om->st->ud, prefix, names_add, l) != XMP_OK ||
        l->failed) {
        names_free(l);
        store_fail(om, "list", prefix);
        return -1;
    }
    return 0;
}

/* "session.V.HASH.DEV" of an address "V.JID" */
static int session_name(char *buf, size_t size,
                        const signal_protocol_address *a)
{
    char kind[16];

    if (a->name_len < 3 || a->name[1] != '.')
        return -1;
    snprintf(kind, sizeof kind, "session.%c", a->name[0]);
    name_of(buf, size, kind, a->name + 2, a->name_len - 2, a->device_id);
    return 0;
}

static int trust_name(char *buf, size_t size,
                      const signal_protocol_address *a)
{
    if (a->name_len < 3 || a->name[1] != '.')
        return -1;
    name_of(buf, size, "trust", a->name + 2, a->name_len - 2, a->device_id);
    return 0;
}

static int s_load(signal_buffer **record, signal_buffer **user,
                  const signal_protocol_address *a, void *ud)
{
    struct xmp_omemo *om = ud;
    char name[XMP_OMEMO_NAME_MAX];
    unsigned char *d;
    size_t len;
    int r;

    (void)user;
    if (session_name(name, sizeof name, a) < 0)
        return SG_ERR_INVAL;
    if ((r = blob_get(om, name, &d, &len)) <= 0)
        return r < 0 ? SG_ERR_UNKNOWN : 0;
    *record = signal_buffer_create(d, len);
    free(d);
    return *record ? 1 : SG_ERR_NOMEM;
}

static int s_subdevices(signal_int_list **sessions, const char *jname,
                        size_t jlen, void *ud)
{
    struct xmp_omemo *om = ud;
    signal_protocol_address a = { jname, jlen, 0 };
    char prefix[XMP_OMEMO_NAME_MAX];
    struct names l;
    uint32_t dev;
    size_t pl;

    if (session_name(prefix, sizeof prefix, &a) < 0)
        return SG_ERR_INVAL;
    pl = strlen(prefix) - 1; /* up to and with the dot before "0" */
    prefix[pl] = '\0';
    if (blob_list(om, prefix, &l) < 0)
        return SG_ERR_UNKNOWN;
    if (!(*sessions = signal_int_list_alloc())) {
        names_free(&l);
        return SG_ERR_NOMEM;
    }
    for (size_t i = 0; i < l.n; i++)
        if (parse_device(l.v[i] + pl, &dev) == 0)
            signal_int_list_push_back(*sessions, (int)dev);
    names_free(&l);
    return (int)signal_int_list_size(*sessions);
}

static int s_store(const signal_protocol_address *a, uint8_t *rec,
                   size_t len, uint8_t *user, size_t ulen, void *ud)
{
    char name[XMP_OMEMO_NAME_MAX];

    (void)user;
    (void)ulen;
    if (session_name(name, sizeof name, a) < 0)
        return SG_ERR_INVAL;
    return blob_put(ud, name, rec, len) < 0 ? SG_ERR_UNKNOWN : 0;
}

static int s_contains(const signal_protocol_address *a, void *ud)
{
    char name[XMP_OMEMO_NAME_MAX];
    unsigned char *d;
    size_t len;
    int r;

    if (session_name(name, sizeof name, a) < 0)
        return 0;
    r = blob_get(ud, name, &d, &len);
    free(d);
    return r < 0 ? SG_ERR_UNKNOWN : r;
}

static int s_delete(const signal_protocol_address *a, void *ud)
{
    char name[XMP_OMEMO_NAME_MAX];
    int had = s_contains(a, ud);

    if (session_name(name, sizeof name, a) < 0)
        return 0;
    if (blob_del(ud, name) < 0)
        return SG_ERR_UNKNOWN;
    return had > 0;
}

static int s_delete_all(const char *jname, size_t jlen, void *ud)
{
    struct xmp_omemo *om = ud;
    signal_protocol_address a = { jname, jlen, 0 };
    char prefix[XMP_OMEMO_NAME_MAX];
    struct names l;
    int n = 0;

    if (session_name(prefix, sizeof prefix, &a) < 0)
        return SG_ERR_INVAL;
    prefix[strlen(prefix) - 1] = '\0';
    if (blob_list(om, prefix, &l) < 0)
        return SG_ERR_UNKNOWN;
    for (size_t i = 0; i < l.n; i++)
        if (blob_del(om, l.v[i]) == 0)
            n++;
    names_free(&l);
    return n;
}

static int key_load(struct xmp_omemo *om, const char *kind,
                    signal_buffer **rec, uint32_t id)
{
    char name[64];
    unsigned char *d;
    size_t len;
    int r;

    snprintf(name, sizeof name, "%s.%lu", kind, (unsigned long)id);
    if ((r = blob_get(om, name, &d, &len)) <= 0)
        return r < 0 ? SG_ERR_UNKNOWN : SG_ERR_INVALID_KEY_ID;
    *rec = signal_buffer_create(d, len);
    free(d);
    return *rec ? SG_SUCCESS : SG_ERR_NOMEM;
}

static int key_store(struct xmp_omemo *om, const char *kind, uint32_t id,
                     const uint8_t *rec, size_t len)
{
    char name[64];

    snprintf(name, sizeof name, "%s.%lu", kind, (unsigned long)id);
    return blob_put(om, name, rec, len) < 0 ? SG_ERR_UNKNOWN : 0;
}

static int key_contains(struct xmp_omemo *om, const char *kind, uint32_t id)
{
    signal_buffer *b = NULL;
    int r = key_load(om, kind, &b, id);

    signal_buffer_free(b);
    return r == SG_SUCCESS ? 1 : r == SG_ERR_INVALID_KEY_ID ? 0 : r;
}

static int key_remove(struct xmp_omemo *om, const char *kind, uint32_t id)
{
    char name[64];

    snprintf(name, sizeof name, "%s.%lu", kind, (unsigned long)id);
    return blob_del(om, name) < 0 ? SG_ERR_UNKNOWN : 0;
}

static int pk_load(signal_buffer **r, uint32_t id, void *ud)
{
    return key_load(ud, "prekey", r, id);
}
static int pk_store(uint32_t id, uint8_t *r, size_t l, void *ud)
{
    return key_store(ud, "prekey", id, r, l);
}
static int pk_contains(uint32_t id, void *ud)
{
    return key_contains(ud, "prekey", id);
}
static int pk_remove(uint32_t id, void *ud)
{
    ((struct xmp_omemo *)ud)->prekey_used = 1;
    return key_remove(ud, "prekey", id);
}
static int spk_load(signal_buffer **r, uint32_t id, void *ud)
{
    return key_load(ud, "spk", r, id);
}
static int spk_store(uint32_t id, uint8_t *r, size_t l, void *ud)
{
    return key_store(ud, "spk", id, r, l);
}
static int spk_contains(uint32_t id, void *ud)
{
    return key_contains(ud, "spk", id);
}
static int spk_remove(uint32_t id, void *ud)
{
    return key_remove(ud, "spk", id);
}

static int id_pair(signal_buffer **pub, signal_buffer **priv, void *ud)
{
    struct xmp_omemo *om = ud;
    unsigned char *d;
    size_t len;
    int r;

    if ((r = blob_get(om, "identity", &d, &len)) <= 0)
        return SG_ERR_UNKNOWN;
    if (len < 2 || d[0] == 0 || (size_t)d[0] + 1 >= len) {
        free(d);
        return SG_ERR_UNKNOWN;
    }
    *pub = signal_buffer_create(d + 1, d[0]);
    *priv = signal_buffer_create(d + 1 + d[0], len - 1 - d[0]);
    free(d);
    return *pub && *priv ? 0 : SG_ERR_NOMEM;
}

static int id_regid(void *ud, uint32_t *regid)
{
    *regid = ((struct xmp_omemo *)ud)->device;
    return 0;
}

/* A trust record: state, key length, key, JID. */
struct trust_rec {
    enum xmp_omemo_trust state;
    unsigned char key[64];
    size_t keylen;
};

/* 1 found, 0 none, -1 failed */
static int trust_load(struct xmp_omemo *om, const char *name,
                      struct trust_rec *t)
{
    unsigned char *d;
    size_t len;
    int r;

    memset(t, 0, sizeof *t);
    if ((r = blob_get(om, name, &d, &len)) <= 0)
        return r;
    if (len < 2 || d[1] > sizeof t->key || (size_t)d[1] + 2 > len ||
        d[0] > XMP_OMEMO_DISTRUSTED) {
        free(d);
        store_fail(om, "read (damaged)", name);
        return -1;
    }
    t->state = (enum xmp_omemo_trust)d[0];
    t->keylen = d[1];
    memcpy(t->key, d + 2, t->keylen);
    free(d);
    return 1;
}

static int trust_save(struct xmp_omemo *om, const char *name,
                      const struct trust_rec *t, const char *jid,
                      size_t jlen)
{
    unsigned char *d = malloc(2 + t->keylen + jlen);
    int r;

    if (!d)
        return -1;
    d[0] = (unsigned char)t->state;
    d[1] = (unsigned char)t->keylen;
    memcpy(d + 2, t->key, t->keylen);
    memcpy(d + 2 + t->keylen, jid, jlen);
    r = blob_put(om, name, d, 2 + t->keylen + jlen);
    free(d);
    return r;
}

static int id_save(const signal_protocol_address *a, uint8_t *key,
                   size_t len, void *ud)
{
    struct xmp_omemo *om = ud;
    char name[XMP_OMEMO_NAME_MAX];
    struct trust_rec t;
    int r;

    if (trust_name(name, sizeof name, a) < 0)
        return SG_ERR_INVAL;
    if (!key)
        return blob_del(om, name) < 0 ? SG_ERR_UNKNOWN : 0;
    if (len > sizeof t.key)
        return SG_ERR_INVAL;
    if ((r = trust_load(om, name, &t)) < 0)
        return SG_ERR_UNKNOWN;
    if (r == 1 && t.keylen == len && memcmp(t.key, key, len) == 0)
        return 0; /* known: keep its state */
    t.state = om->flags & XMP_OMEMO_TRUST_MANUAL ? XMP_OMEMO_UNDECIDED
                                                 : XMP_OMEMO_BLIND;
    t.keylen = len;
    memcpy(t.key, key, len);
    return trust_save(om, name, &t, a->name + 2, a->name_len - 2) < 0
               ? SG_ERR_UNKNOWN : 0;
}

/* Unknown devices pass (the caller checks the state it gets); a known
 * device passes with the key we know and unless it is distrusted. */
static int id_trusted(const signal_protocol_address *a, uint8_t *key,
                      size_t len, void *ud)
{
    struct xmp_omemo *om = ud;
    char name[XMP_OMEMO_NAME_MAX];
    struct trust_rec t;
    int r;

    if (trust_name(name, sizeof name, a) < 0)
        return SG_ERR_INVAL;
    if ((r = trust_load(om, name, &t)) <= 0)
        return r < 0 ? SG_ERR_UNKNOWN : 1;
    return t.keylen == len && memcmp(t.key, key, len) == 0 &&
           t.state != XMP_OMEMO_DISTRUSTED;
}

/* ---- libomemo-c's cryptography over tls.h -------------------------------- */

static int cb_random(uint8_t *data, size_t len, void *ud)
{
    return tls_rng_bytes(((struct xmp_omemo *)ud)->rng, data, len) == 0
               ? 0 : SG_ERR_UNKNOWN;
}

static int md_init(void **ctx, enum tls_md_kind kind, const uint8_t *key,
                   size_t klen)
{
    return (*ctx = tls_md_new(kind, key, klen)) ? 0 : SG_ERR_NOMEM;
}

static int cb_hmac_init(void **ctx, const uint8_t *key, size_t klen, void *ud)
{
    (void)ud;
    return md_init(ctx, TLS_MD_HMAC_SHA256, key, klen);
}

static int cb_sha512_init(void **ctx, void *ud)
{
    (void)ud;
    return md_init(ctx, TLS_MD_SHA512, NULL, 0);
}

static int cb_md_update(void *ctx, const uint8_t *data, size_t len, void *ud)
{
    (void)ud;
    return tls_md_update(ctx, data, len) == 0 ? 0 : SG_ERR_UNKNOWN;
}

static int cb_md_final(void *ctx, signal_buffer **out, void *ud)
{
    unsigned char d[64];
    size_t n = tls_md_final(ctx, d);

    (void)ud;
    if (n == 0)
        return SG_ERR_UNKNOWN;
    *out = signal_buffer_create(d, n);
    return *out ? 0 : SG_ERR_NOMEM;
}

static void cb_md_cleanup(void *ctx, void *ud)
{
    (void)ud;
    tls_md_free(ctx);
}

static int aes(int encrypt, signal_buffer **out, int cipher,
               const uint8_t *key, size_t klen, const uint8_t *iv,
               size_t ivlen, const uint8_t *in, size_t len)
{
    unsigned char *buf;
    size_t n = 0;
    int r;

    if (ivlen != 16)
        return SG_ERR_INVAL;
    if (!(buf = malloc(len + 16)))
        return SG_ERR_NOMEM;
    if (cipher == SG_CIPHER_AES_CBC_PKCS5)
        r = tls_aes_cbc(encrypt, key, klen, iv, in, len, buf, &n);
    else if (cipher == SG_CIPHER_AES_CTR_NOPADDING)
        r = tls_aes_ctr(key, klen, iv, in, len, buf), n = len;
    else
        r = -1;
    if (r == 0)
        *out = signal_buffer_create(buf, n);
    free(buf);
    if (r != 0)
        return SG_ERR_UNKNOWN;
    return *out ? 0 : SG_ERR_NOMEM;
}

static int cb_encrypt(signal_buffer **out, int cipher, const uint8_t *key,
                      size_t klen, const uint8_t *iv, size_t ivlen,
                      const uint8_t *in, size_t len, void *ud)
{
    (void)ud;
    return aes(1, out, cipher, key, klen, iv, ivlen, in, len);
}

static int cb_decrypt(signal_buffer **out, int cipher, const uint8_t *key,
                      size_t klen, const uint8_t *iv, size_t ivlen,
                      const uint8_t *in, size_t len, void *ud)
{
    (void)ud;
    return aes(0, out, cipher, key, klen, iv, ivlen, in, len);
}

static void cb_log(int level, const char *msg, size_t len, void *ud)
{
    struct xmp_omemo *om = ud;

    if (level <= SG_LOG_WARNING)
        snprintf(om->log, sizeof om->log, "%.*s", (int)len, msg);
}

/* ---- our device ------------------------------------------------------------ */

/* Store count fresh pre-keys from the id prekey-next on. */
static int add_prekeys(struct xmp_omemo *om, unsigned count)
{
    signal_protocol_key_helper_pre_key_list_node *head = NULL, *n;
    unsigned char *d;
    size_t len;
    unsigned long next = 1;
    char num[16];
    int r;

    if ((r = blob_get(om, "prekey-next", &d, &len)) < 0)
        return -1;
    if (r == 1) {
        char tmp[16];
        snprintf(tmp, sizeof tmp, "%.*s", (int)(len < 15 ? len : 15),
                 (const char *)d);
        next = strtoul(tmp, NULL, 10);
        free(d);
        if (next == 0 || next >= PRE_KEY_MEDIUM_MAX_VALUE)
            next = 1;
    }
    if (signal_protocol_key_helper_generate_pre_keys(&head, (unsigned)next,
                                                     count, om->ctx) < 0)
        return -1;
    for (n = head; n; n = signal_protocol_key_helper_key_list_next(n))
        if (signal_protocol_pre_key_store_key(
                om->sc, signal_protocol_key_helper_key_list_element(n)) < 0) {
            signal_protocol_key_helper_key_list_free(head);
            return -1;
        }
    signal_protocol_key_helper_key_list_free(head);
    next += count;
    if (next >= PRE_KEY_MEDIUM_MAX_VALUE)
        next = 1;
    snprintf(num, sizeof num, "%lu", next);
    return blob_put(om, "prekey-next", num, strlen(num));
}

static enum xmp_err create_device(struct xmp_omemo *om, struct xmp_error *err)
{
    ratchet_identity_key_pair *ik = NULL;
    session_signed_pre_key *spk = NULL;
    signal_buffer *pub = NULL, *priv = NULL, *spkb = NULL;
    unsigned char *rec = NULL;
    char num[16];
    size_t pl, rl;
    enum xmp_err rc = XMP_ENOMEM;

    if (signal_protocol_key_helper_generate_identity_key_pair(&ik, om->ctx) <
            0 ||
        ec_public_key_serialize(&pub,
                                ratchet_identity_key_pair_get_public(ik)) < 0 ||
        ec_private_key_serialize(&priv,
                                 ratchet_identity_key_pair_get_private(ik)) <
            0 ||
        signal_protocol_key_helper_generate_registration_id(&om->device, 1,
                                                            om->ctx) < 0 ||
        signal_protocol_key_helper_generate_signed_pre_key(
            &spk, ik, SPK_ID, (uint64_t)time(NULL) * 1000, om->ctx) < 0 ||
        session_signed_pre_key_serialize(&spkb, spk) < 0)
        goto out;
    if (om->device == 0 || om->device > DEVICE_MAX)
        om->device = (om->device & DEVICE_MAX) | 1;
    pl = signal_buffer_len(pub);
    rl = 1 + pl + signal_buffer_len(priv);
    if (pl > 255 || !(rec = malloc(rl)))
        goto out;
    rec[0] = (unsigned char)pl;
    memcpy(rec + 1, signal_buffer_data(pub), pl);
    memcpy(rec + 1 + pl, signal_buffer_data(priv), signal_buffer_len(priv));
    snprintf(num, sizeof num, "%lu", (unsigned long)om->device);
    /* the identity last: until it is written, nothing counts */
    rc = XMP_EIO;
    if (blob_put(om, "spk.1", signal_buffer_data(spkb),
                 signal_buffer_len(spkb)) < 0 ||
        blob_del(om, "prekey-next") < 0 || add_prekeys(om, PREKEY_COUNT) < 0 ||
        blob_put(om, "device", num, strlen(num)) < 0 ||
        blob_put(om, "identity", rec, rl) < 0)
        goto out;
    rc = XMP_OK;
out:
    if (rc != XMP_OK)
        xmp_error_set(err, rc, "%s", om->store_failed ? om->store_msg
                                     : "cannot create an OMEMO device");
    free(rec);
    signal_buffer_bzero_free(pub);
    signal_buffer_bzero_free(priv);
    signal_buffer_bzero_free(spkb);
    SIGNAL_UNREF(spk);
    SIGNAL_UNREF(ik);
    return rc;
}

enum xmp_err xmp_omemo_new(const struct xmp_omemo_store *store,
                           const char *own_jid, unsigned flags,
                           struct xmp_omemo **out, struct xmp_error *err)
{
    struct xmp_omemo *om;
    struct xmp_jid j;
    unsigned char *d = NULL;
    size_t len;
    enum xmp_err rc;
    int r;

    *out = NULL;
    if (!store || !store->get || !store->put || !store->del || !store->list)
        return xmp_error_set(err, XMP_EUSAGE, "an OMEMO store needs get, "
                             "put, del and list");
    if (xmp_jid_parse(own_jid, &j, err) != XMP_OK)
        return XMP_EUSAGE;
    if (!j.local || j.resource) {
        xmp_jid_clear(&j);
        return xmp_error_set(err, XMP_EUSAGE, "not a bare JID: %s", own_jid);
    }
    xmp_jid_clear(&j);
    if (!(om = calloc(1, sizeof *om)) || !(om->jid = strdup(own_jid))) {
        free(om);
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    }
    om->st = store;
    om->flags = flags;
    if (!(om->rng = tls_rng_new())) {
        rc = xmp_error_set(err, XMP_ESYS, "cannot seed a random generator");
        goto fail;
    }
    {
        signal_crypto_provider cp = {
            .random_func = cb_random,
            .hmac_sha256_init_func = cb_hmac_init,
            .hmac_sha256_update_func = cb_md_update,
            .hmac_sha256_final_func = cb_md_final,
            .hmac_sha256_cleanup_func = cb_md_cleanup,
            .sha512_digest_init_func = cb_sha512_init,
            .sha512_digest_update_func = cb_md_update,
            .sha512_digest_final_func = cb_md_final,
            .sha512_digest_cleanup_func = cb_md_cleanup,
            .encrypt_func = cb_encrypt,
            .decrypt_func = cb_decrypt,
            .user_data = om,
        };
        signal_protocol_session_store ss = {
            s_load, s_subdevices, s_store, s_contains, s_delete,
            s_delete_all, NULL, om };
        signal_protocol_pre_key_store ps = {
            pk_load, pk_store, pk_contains, pk_remove, NULL, om };
        signal_protocol_signed_pre_key_store sps = {
            spk_load, spk_store, spk_contains, spk_remove, NULL, om };
        signal_protocol_identity_key_store is = {
            id_pair, id_regid, id_save, id_trusted, NULL, om };

        if (signal_context_create(&om->ctx, om) < 0 ||
            signal_context_set_crypto_provider(om->ctx, &cp) < 0 ||
            signal_context_set_log_function(om->ctx, cb_log) < 0 ||
            signal_protocol_store_context_create(&om->sc, om->ctx) < 0 ||
            signal_protocol_store_context_set_session_store(om->sc, &ss) <
                0 ||
            signal_protocol_store_context_set_pre_key_store(om->sc, &ps) <
                0 ||
            signal_protocol_store_context_set_signed_pre_key_store(om->sc,
                                                                   &sps) <
                0 ||
            signal_protocol_store_context_set_identity_key_store(om->sc,
                                                                 &is) < 0) {
            rc = xmp_error_set(err, XMP_ENOMEM, "cannot set up libomemo-c");
            goto fail;
        }
    }
    if ((r = blob_get(om, "identity", &d, &len)) < 0) {
        rc = xmp_error_set(err, XMP_EIO, "%s", om->store_msg);
        goto fail;
    }
    free(d);
    d = NULL;
    if (r == 0 && (rc = create_device(om, err)) != XMP_OK)
        goto fail;
    if (blob_get(om, "device", &d, &len) <= 0) {
        rc = xmp_error_set(err, XMP_EIO, "%s", om->store_failed
                           ? om->store_msg : "OMEMO state has no device id");
        goto fail;
    }
    {
        char num[16];
        snprintf(num, sizeof num, "%.*s", (int)(len < 15 ? len : 15),
                 (const char *)d);
        if (parse_device(num, &om->device) < 0) {
            rc = xmp_error_set(err, XMP_EIO, "OMEMO state: bad device id");
            goto fail;
        }
    }
    {
        ratchet_identity_key_pair *ik = NULL;
        signal_buffer *pub = NULL;
        if (signal_protocol_identity_get_key_pair(om->sc, &ik) < 0 ||
            ec_public_key_serialize(
                &pub, ratchet_identity_key_pair_get_public(ik)) < 0 ||
            signal_buffer_len(pub) != sizeof om->ik) {
            signal_buffer_free(pub);
            SIGNAL_UNREF(ik);
            rc = xmp_error_set(err, XMP_EIO, "OMEMO state: bad identity key");
            goto fail;
        }
        memcpy(om->ik, signal_buffer_data(pub), sizeof om->ik);
        signal_buffer_free(pub);
        SIGNAL_UNREF(ik);
    }
    free(d);
    *out = om;
    return XMP_OK;
fail:
    free(d);
    xmp_omemo_free(om);
    return rc;
}

void xmp_omemo_free(struct xmp_omemo *om)
{
    if (!om)
        return;
    if (om->sc)
        signal_protocol_store_context_destroy(om->sc);
    if (om->ctx)
        signal_context_destroy(om->ctx);
    tls_rng_free(om->rng);
    free(om->jid);
    free(om);
}

uint32_t xmp_omemo_device_id(const struct xmp_omemo *om)
{
    return om->device;
}

void xmp_omemo_fingerprint(const struct xmp_omemo *om,
                           char out[XMP_OMEMO_FPR_MAX])
{
    fpr_of(om->ik, sizeof om->ik, out);
}

static void call_start(struct xmp_omemo *om)
{
    om->prekey_used = 0;
    om->store_failed = 0;
    om->store_msg[0] = '\0';
    om->log[0] = '\0';
}

/* ---- bundles and device lists ------------------------------------------- */

/* the key as a bundle of ns carries it */
static signal_buffer *key_bytes(enum xmp_omemo_ns ns, const ec_public_key *k,
                                int identity)
{
    signal_buffer *b = NULL;

    if (ns == XMP_OMEMO_V2 && identity)
        return ec_public_key_get_ed(k); /* omemo:2: the Ed25519 form */
    if (ns == XMP_OMEMO_V2)
        return ec_public_key_serialize_omemo(&b, k) < 0 ? NULL : b;
    return ec_public_key_serialize(&b, k) < 0 ? NULL : b;
}

static int add_key_child(struct xmp_node *parent, enum xmp_omemo_ns ns,
                         const char *name, const ec_public_key *k,
                         int identity, struct xmp_node **child)
{
    signal_buffer *b = key_bytes(ns, k, identity);
    int r;

    if (!b)
        return -1;
    r = add_b64_child(parent, ns_uri(ns), name, signal_buffer_data(b),
                      signal_buffer_len(b), child);
    signal_buffer_free(b);
    return r;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

struct xmp_node *xmp_omemo_bundle_xml(struct xmp_omemo *om,
                                      enum xmp_omemo_ns ns,
                                      struct xmp_error *err)
{
    ratchet_identity_key_pair *ik = NULL;
    session_signed_pre_key *spk = NULL;
    struct xmp_node *b = NULL, *c, *pks;
    struct names l = { 0 };
    uint32_t *ids = NULL;
    size_t nids = 0;
    const char *u = ns_uri(ns);
    const uint8_t *sig;
    size_t siglen;
    int v2 = ns == XMP_OMEMO_V2, ok = 0;

    call_start(om);
    if (ns != XMP_OMEMO_AXOLOTL && ns != XMP_OMEMO_V2) {
        xmp_error_set(err, XMP_EUSAGE, "no such OMEMO namespace");
        return NULL;
    }
    if (signal_protocol_identity_get_key_pair(om->sc, &ik) < 0 ||
        signal_protocol_signed_pre_key_load_key(om->sc, &spk, SPK_ID) < 0 ||
        blob_list(om, "prekey.", &l) < 0)
        goto out;
    if (!(ids = calloc(l.n + 1, sizeof *ids)))
        goto out;
    for (size_t i = 0; i < l.n; i++)
        if (parse_device(l.v[i] + 7, &ids[nids]) == 0)
            nids++;
    qsort(ids, nids, sizeof *ids, cmp_u32);
    sig = v2 ? session_signed_pre_key_get_signature_omemo(spk)
             : session_signed_pre_key_get_signature(spk);
    siglen = v2 ? session_signed_pre_key_get_signature_omemo_len(spk)
                : session_signed_pre_key_get_signature_len(spk);
    if (!(b = xmp_node_new(u, "bundle", NULL)) ||
        add_key_child(b, ns, v2 ? "spk" : "signedPreKeyPublic",
                      ec_key_pair_get_public(
                          session_signed_pre_key_get_key_pair(spk)),
                      0, &c) < 0 ||
        set_num_attr(c, v2 ? "id" : "signedPreKeyId", SPK_ID) < 0 ||
        add_b64_child(b, u, v2 ? "spks" : "signedPreKeySignature", sig,
                      siglen, NULL) < 0 ||
        add_key_child(b, ns, v2 ? "ik" : "identityKey",
                      ratchet_identity_key_pair_get_public(ik), 1, NULL) < 0 ||
        !(pks = xmp_node_add_child(b, u, "prekeys", NULL)))
        goto out;
    for (size_t i = 0; i < nids; i++) {
        session_pre_key *pk = NULL;
        if (signal_protocol_pre_key_load_key(om->sc, &pk, ids[i]) < 0)
            goto out;
        if (add_key_child(pks, ns, v2 ? "pk" : "preKeyPublic",
                          ec_key_pair_get_public(
                              session_pre_key_get_key_pair(pk)),
                          0, &c) < 0 ||
            set_num_attr(c, v2 ? "id" : "preKeyId", ids[i]) < 0) {
            SIGNAL_UNREF(pk);
            goto out;
        }
        SIGNAL_UNREF(pk);
    }
    ok = 1;
out:
    if (!ok) {
        xmp_error_set(err, om->store_failed ? XMP_EIO : XMP_ENOMEM, "%s",
                      om->store_failed ? om->store_msg
                                       : "cannot build the OMEMO bundle");
        xmp_node_free(b);
        b = NULL;
    }
    free(ids);
    names_free(&l);
    SIGNAL_UNREF(spk);
    SIGNAL_UNREF(ik);
    return b;
}

struct xmp_node *xmp_omemo_devicelist_xml(enum xmp_omemo_ns ns,
                                          const uint32_t *ids, size_t n,
                                          struct xmp_error *err)
{
    struct xmp_node *l;

    if (ns != XMP_OMEMO_AXOLOTL && ns != XMP_OMEMO_V2) {
        xmp_error_set(err, XMP_EUSAGE, "no such OMEMO namespace");
        return NULL;
    }
    l = xmp_node_new(ns_uri(ns), ns == XMP_OMEMO_V2 ? "devices" : "list",
                     err);
    for (size_t i = 0; l && i < n; i++) {
        if (ids[i] == 0 || ids[i] > DEVICE_MAX) {
            xmp_node_free(l);
            xmp_error_set(err, XMP_EUSAGE, "not a device id: %lu",
                          (unsigned long)ids[i]);
            return NULL;
        }
        if (set_num_attr(xmp_node_add_child(l, ns_uri(ns), "device", NULL),
                         "id", ids[i]) < 0) {
            xmp_node_free(l);
            xmp_error_set(err, XMP_ENOMEM, "out of memory");
            return NULL;
        }
    }
    return l;
}

enum xmp_err xmp_omemo_parse_devicelist(const struct xmp_node *list,
                                        enum xmp_omemo_ns *ns,
                                        uint32_t **ids, size_t *n,
                                        struct xmp_error *err)
{
    enum xmp_omemo_ns which = xmp_omemo_ns_of(xmp_node_ns(list));
    const struct xmp_node *c;
    size_t cap = 0, k = 0;
    uint32_t *v = NULL, id;

    *ids = NULL;
    *n = 0;
    if (!which ||
        strcmp(xmp_node_name(list),
               which == XMP_OMEMO_V2 ? "devices" : "list") != 0)
        return xmp_error_set(err, XMP_EDATA, "not an OMEMO device list: "
                             "<%s xmlns='%s'>", xmp_node_name(list),
                             xmp_node_ns(list));
    for (c = xmp_node_first(list); c; c = xmp_node_next(c)) {
        size_t j;
        if (strcmp(xmp_node_ns(c), ns_uri(which)) != 0 ||
            strcmp(xmp_node_name(c), "device") != 0 ||
            parse_device(xmp_node_attr(c, "id"), &id) < 0)
            continue;
        for (j = 0; j < k && v[j] != id; j++)
            ;
        if (j < k)
            continue; /* listed twice */
        if (k == cap) {
            uint32_t *nv;
            cap = cap ? cap * 2 : 8;
            if (!(nv = realloc(v, cap * sizeof *v))) {
                free(v);
                return xmp_error_set(err, XMP_ENOMEM, "out of memory");
            }
            v = nv;
        }
        v[k++] = id;
    }
    *ns = which;
    *ids = v;
    *n = k;
    return XMP_OK;
}

/* A session_pre_key_bundle from a <bundle/> of ns, with one of its
 * pre-keys at random.  NULL when it is not a valid bundle. */
static session_pre_key_bundle *parse_bundle(struct xmp_omemo *om,
                                            enum xmp_omemo_ns ns,
                                            const struct xmp_node *b,
                                            uint32_t device)
{
    const char *u = ns_uri(ns);
    int v2 = ns == XMP_OMEMO_V2;
    const struct xmp_node *spkn, *pks, *c, *pick = NULL;
    unsigned char *ikb = NULL, *spkb = NULL, *sig = NULL, *pkb = NULL;
    size_t ikl, spkl, sigl, pkl;
    ec_public_key *ik = NULL, *spk = NULL, *pk = NULL;
    session_pre_key_bundle *bundle = NULL;
    uint32_t spk_id, pk_id = 0, count = 0;

    if (!b || strcmp(xmp_node_ns(b), u) != 0 ||
        strcmp(xmp_node_name(b), "bundle") != 0)
        return NULL;
    spkn = xmp_node_child(b, u, v2 ? "spk" : "signedPreKeyPublic");
    pks = xmp_node_child(b, u, "prekeys");
    if (!spkn || !pks ||
        parse_device(xmp_node_attr(spkn, v2 ? "id" : "signedPreKeyId"),
                     &spk_id) < 0)
        return NULL;
    /* a pre-key at random: reservoir sampling over the valid ids */
    for (c = xmp_node_first(pks); c; c = xmp_node_next(c)) {
        uint32_t id, r = 0;
        if (strcmp(xmp_node_ns(c), u) != 0 ||
            strcmp(xmp_node_name(c), v2 ? "pk" : "preKeyPublic") != 0 ||
            parse_device(xmp_node_attr(c, v2 ? "id" : "preKeyId"), &id) < 0)
            continue;
        count++;
        if (tls_rng_bytes(om->rng, &r, sizeof r) == 0 && r % count == 0) {
            pick = c;
            pk_id = id;
        }
    }
    if (!pick ||
        !(ikb = unb64(xmp_node_child(b, u, v2 ? "ik" : "identityKey"), 64,
                      &ikl)) ||
        !(spkb = unb64(spkn, 64, &spkl)) ||
        !(sig = unb64(xmp_node_child(b, u, v2 ? "spks"
                                            : "signedPreKeySignature"),
                      128, &sigl)) ||
        !(pkb = unb64(pick, 64, &pkl)))
        goto out;
    if (v2) {
        if (ikl != 32 || spkl != 32 || pkl != 32 ||
            curve_decode_point_ed(&ik, ikb, ikl, om->ctx) < 0 ||
            curve_decode_point_mont(&spk, spkb, spkl, om->ctx) < 0 ||
            curve_decode_point_mont(&pk, pkb, pkl, om->ctx) < 0)
            goto out;
    } else if (curve_decode_point(&ik, ikb, ikl, om->ctx) < 0 ||
               curve_decode_point(&spk, spkb, spkl, om->ctx) < 0 ||
               curve_decode_point(&pk, pkb, pkl, om->ctx) < 0) {
        goto out;
    }
    if (sigl != 64 ||
        session_pre_key_bundle_create(&bundle, device, (int)device, pk_id,
                                      pk, spk_id, spk, sig, sigl, ik) < 0)
        bundle = NULL;
out:
    free(ikb);
    free(spkb);
    free(sig);
    free(pkb);
    SIGNAL_UNREF(ik);
    SIGNAL_UNREF(spk);
    SIGNAL_UNREF(pk);
    return bundle;
}

/* ---- sessions and trust --------------------------------------------------- */

/* The libomemo-c address of jid's device in ns: "V.JID". */
static char *addr_name(enum xmp_omemo_ns ns, const char *jid)
{
    size_t n = strlen(jid);
    char *s = malloc(n + 3);

    if (!s)
        return NULL;
    s[0] = ns == XMP_OMEMO_V2 ? '4' : '3';
    s[1] = '.';
    memcpy(s + 2, jid, n + 1);
    return s;
}

int xmp_omemo_has_session(struct xmp_omemo *om, enum xmp_omemo_ns ns,
                          const char *jid, uint32_t device)
{
    char *name = addr_name(ns, jid);
    signal_protocol_address a;
    int r;

    if (!name)
        return 0;
    a.name = name;
    a.name_len = strlen(name);
    a.device_id = (int32_t)device;
    call_start(om);
    r = signal_protocol_session_contains_session(om->sc, &a);
    free(name);
    return r == 1;
}

static int device_trust(struct xmp_omemo *om, const char *jid,
                        uint32_t device, struct trust_rec *t)
{
    char name[XMP_OMEMO_NAME_MAX];

    name_of(name, sizeof name, "trust", jid, strlen(jid), device);
    return trust_load(om, name, t);
}

enum xmp_err xmp_omemo_device_trust(struct xmp_omemo *om, const char *jid,
                                    uint32_t device,
                                    enum xmp_omemo_trust *trust,
                                    char fpr[XMP_OMEMO_FPR_MAX],
                                    struct xmp_error *err)
{
    struct trust_rec t;
    int r;

    call_start(om);
    if ((r = device_trust(om, jid, device, &t)) < 0)
        return xmp_error_set(err, XMP_EIO, "%s", om->store_msg);
    if (r == 0)
        return xmp_error_set(err, XMP_EDATA, "unknown OMEMO device %s/%lu",
                             jid, (unsigned long)device);
    if (trust)
        *trust = t.state;
    if (fpr)
        fpr_of(t.key, t.keylen, fpr);
    return XMP_OK;
}

enum xmp_err xmp_omemo_set_trust(struct xmp_omemo *om, const char *jid,
                                 uint32_t device, enum xmp_omemo_trust trust,
                                 struct xmp_error *err)
{
    char name[XMP_OMEMO_NAME_MAX];
    struct trust_rec t;
    int r;

    call_start(om);
    if (trust > XMP_OMEMO_DISTRUSTED)
        return xmp_error_set(err, XMP_EUSAGE, "no such trust state");
    name_of(name, sizeof name, "trust", jid, strlen(jid), device);
    if ((r = trust_load(om, name, &t)) < 0)
        return xmp_error_set(err, XMP_EIO, "%s", om->store_msg);
    if (r == 0)
        return xmp_error_set(err, XMP_EDATA, "unknown OMEMO device %s/%lu",
                             jid, (unsigned long)device);
    t.state = trust;
    if (trust_save(om, name, &t, jid, strlen(jid)) < 0)
        return xmp_error_set(err, XMP_EIO, "%s", om->store_msg);
    return XMP_OK;
}

enum xmp_err xmp_omemo_forget(struct xmp_omemo *om, const char *jid,
                              uint32_t device, struct xmp_error *err)
{
    char name[XMP_OMEMO_NAME_MAX];
    size_t n = strlen(jid);

    call_start(om);
    name_of(name, sizeof name, "trust", jid, n, device);
    blob_del(om, name);
    name_of(name, sizeof name, "session.3", jid, n, device);
    blob_del(om, name);
    name_of(name, sizeof name, "session.4", jid, n, device);
    blob_del(om, name);
    if (om->store_failed)
        return xmp_error_set(err, XMP_EIO, "%s", om->store_msg);
    return XMP_OK;
}

static int cmp_device(const void *a, const void *b)
{
    const struct xmp_omemo_device *x = a, *y = b;
    int c = strcmp(x->jid, y->jid);

    return c ? c : x->device < y->device ? -1 : x->device > y->device;
}

void xmp_omemo_devices_free(struct xmp_omemo_device *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].jid);
    free(v);
}

enum xmp_err xmp_omemo_known_devices(struct xmp_omemo *om, const char *jid,
                                     struct xmp_omemo_device **out,
                                     size_t *n, struct xmp_error *err)
{
    char prefix[XMP_OMEMO_NAME_MAX], h[33];
    struct xmp_omemo_device *v = NULL;
    struct names l;
    size_t k = 0;

    *out = NULL;
    *n = 0;
    call_start(om);
    if (jid) {
        jid_hash(jid, strlen(jid), h);
        snprintf(prefix, sizeof prefix, "trust.%s.", h);
    } else {
        snprintf(prefix, sizeof prefix, "trust.");
    }
    if (blob_list(om, prefix, &l) < 0)
        return xmp_error_set(err, XMP_EIO, "%s", om->store_msg);
    if (l.n && !(v = calloc(l.n, sizeof *v))) {
        names_free(&l);
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < l.n; i++) {
        const char *dot = strrchr(l.v[i], '.');
        unsigned char *d;
        size_t len;
        uint32_t dev;

        /* "trust." HASH "." DEV, and the JID after the key in the blob */
        if (!dot || dot - l.v[i] != 6 + 32 || parse_device(dot + 1, &dev) < 0)
            continue;
        if (blob_get(om, l.v[i], &d, &len) < 0)
            break;
        if (!d)
            continue;
        if (len >= 2 && d[0] <= XMP_OMEMO_DISTRUSTED &&
            (size_t)d[1] + 2 < len &&
            (v[k].jid = strndup((const char *)d + 2 + d[1],
                                len - 2 - d[1]))) {
            v[k].device = dev;
            v[k].trust = (enum xmp_omemo_trust)d[0];
            fpr_of(d + 2, d[1], v[k].fingerprint);
            k++;
        }
        free(d);
    }
    names_free(&l);
    if (om->store_failed) {
        xmp_omemo_devices_free(v, k);
        return xmp_error_set(err, XMP_EIO, "%s", om->store_msg);
    }
    if (k)
        qsort(v, k, sizeof *v, cmp_device);
    *out = v;
    *n = k;
    return XMP_OK;
}

/* ---- payloads ---------------------------------------------------------- */

static const unsigned char zero_salt[32];

/* omemo:2: the 80 bytes of keys from the 32-byte key */
static int v2_keys(const unsigned char key[32], unsigned char okm[80])
{
    return tls_hkdf_sha256(zero_salt, sizeof zero_salt, key, 32,
                           "OMEMO Payload", 13, okm, 80);
}

/* XEP-0420 envelope for text, from us. */
static char *v2_envelope(struct xmp_omemo *om, const char *text)
{
    struct xmp_node *env, *body;
    unsigned char r[32];
    char pad[33];
    size_t padlen;
    char *s = NULL;

    if (tls_rng_bytes(om->rng, r, sizeof r) < 0)
        return NULL;
    /* 1 to 32 characters of padding, so the length says less */
    padlen = 1 + r[0] % 32;
    for (size_t i = 0; i < padlen; i++)
        pad[i] = (char)('a' + r[i] % 26);
    pad[padlen] = '\0';
    if ((env = xmp_node_new(NS_SCE, "envelope", NULL)) &&
        (body = xmp_node_add_child(
             xmp_node_add_child(env, NS_SCE, "content", NULL),
             "jabber:client", "body", NULL)) &&
        xmp_node_add_text(body, text, strlen(text), NULL) == XMP_OK &&
        xmp_node_add_text(xmp_node_add_child(env, NS_SCE, "rpad", NULL), pad,
                          padlen, NULL) == XMP_OK &&
        xmp_node_set_attr(xmp_node_add_child(env, NS_SCE, "from", NULL),
                          "jid", om->jid, NULL) == XMP_OK)
        s = xmp_node_to_string(env, "");
    xmp_node_free(env);
    return s;
}

/* Seal text: the key material for the ratchet (*kml bytes into km), the
 * payload (*ct, *ctl; NULL for key transport) and for axolotl the iv. */
static enum xmp_err seal(struct xmp_omemo *om, enum xmp_omemo_ns ns,
                         const char *text, unsigned char km[48], size_t *kml,
                         unsigned char iv[12], unsigned char **ct,
                         size_t *ctl, struct xmp_error *err)
{
    *ct = NULL;
    *ctl = 0;
    if (ns == XMP_OMEMO_AXOLOTL) {
        size_t n = text ? strlen(text) : 0;
        *kml = 32;
        if (tls_rng_bytes(om->rng, km, 32) < 0 ||
            tls_rng_bytes(om->rng, iv, 12) < 0)
            return xmp_error_set(err, XMP_ESYS, "no random bytes");
        if (!text)
            return XMP_OK;
        if (!(*ct = malloc(n ? n : 1)))
            return xmp_error_set(err, XMP_ENOMEM, "out of memory");
        if (tls_aes_gcm_seal(km, 16, iv, 12, text, n, *ct, km + 16) < 0) {
            free(*ct);
            *ct = NULL;
            return xmp_error_set(err, XMP_ESYS, "cannot encrypt (AES-GCM)");
        }
        *ctl = n;
        return XMP_OK;
    } else {
        unsigned char okm[80], mac[32];
        char *env;
        size_t n;

        *kml = 48;
        if (tls_rng_bytes(om->rng, km, 48) < 0)
            return xmp_error_set(err, XMP_ESYS, "no random bytes");
        if (!text)
            return XMP_OK;
        if (!(env = v2_envelope(om, text)))
            return xmp_error_set(err, XMP_ENOMEM, "out of memory");
        n = strlen(env);
        if (!(*ct = malloc(n + 16))) {
            free(env);
            return xmp_error_set(err, XMP_ENOMEM, "out of memory");
        }
        if (v2_keys(km, okm) < 0 ||
            tls_aes_cbc(1, okm, 32, okm + 64, env, n, *ct, ctl) < 0 ||
            tls_hmac_sha256(okm + 32, 32, *ct, *ctl, mac) != 32) {
            free(env);
            free(*ct);
            *ct = NULL;
            return xmp_error_set(err, XMP_ESYS, "cannot encrypt (AES-CBC)");
        }
        memcpy(km + 32, mac, 16);
        free(env);
        return XMP_OK;
    }
}

/* ---- encrypt ---------------------------------------------------------------- */

static enum xmp_omemo_why sg_why(struct xmp_omemo *om, int r,
                                 const char *jid, uint32_t device)
{
    struct trust_rec t;

    switch (r) {
    case SG_ERR_DUPLICATE_MESSAGE: return XMP_OMEMO_REPLAY;
    case SG_ERR_NO_SESSION:
    case SG_ERR_INVALID_KEY_ID: return XMP_OMEMO_NO_SESSION;
    case SG_ERR_INVALID_MAC:
    case SG_ERR_INVALID_MESSAGE: return XMP_OMEMO_TAMPERED;
    case SG_ERR_UNTRUSTED_IDENTITY:
        if (device_trust(om, jid, device, &t) == 1 &&
            t.state == XMP_OMEMO_DISTRUSTED)
            return XMP_OMEMO_UNTRUSTED;
        return XMP_OMEMO_CHANGED;
    default: return XMP_OMEMO_MALFORMED;
    }
}

/* Make sure of a session with the recipient's device: why not. */
static enum xmp_omemo_why prepare(struct xmp_omemo *om, enum xmp_omemo_ns ns,
                                  struct xmp_omemo_rcpt *rc)
{
    signal_protocol_address a;
    session_pre_key_bundle *bundle;
    session_builder *sb = NULL;
    struct trust_rec t;
    char *name;
    int r;

    if (!rc->jid || rc->device == 0 || rc->device > DEVICE_MAX)
        return XMP_OMEMO_MALFORMED;
    if (!(name = addr_name(ns, rc->jid)))
        return XMP_OMEMO_MALFORMED;
    a.name = name;
    a.name_len = strlen(name);
    a.device_id = (int32_t)rc->device;
    r = signal_protocol_session_contains_session(om->sc, &a);
    if (r != 1) {
        if (!rc->bundle) {
            free(name);
            return XMP_OMEMO_NO_SESSION;
        }
        if (!(bundle = parse_bundle(om, ns, rc->bundle, rc->device))) {
            free(name);
            return XMP_OMEMO_MALFORMED;
        }
        r = session_builder_create(&sb, om->sc, &a, om->ctx);
        if (r == 0) {
            session_builder_set_version(sb, ns_version(ns));
            r = session_builder_process_pre_key_bundle(sb, bundle);
        }
        session_builder_free(sb);
        SIGNAL_UNREF(bundle);
        if (r < 0) {
            free(name);
            return r == SG_ERR_INVALID_KEY ? XMP_OMEMO_MALFORMED
                                           : sg_why(om, r, rc->jid,
                                                    rc->device);
        }
    }
    free(name);
    if (device_trust(om, rc->jid, rc->device, &t) != 1)
        return XMP_OMEMO_NO_SESSION;
    if (t.state == XMP_OMEMO_DISTRUSTED ||
        (t.state == XMP_OMEMO_UNDECIDED &&
         (om->flags & XMP_OMEMO_TRUST_MANUAL)))
        return XMP_OMEMO_UNTRUSTED;
    return XMP_OMEMO_OK;
}

/* The <keys jid=J/> of an omemo:2 header, made on first use. */
static struct xmp_node *keys_for(struct xmp_node *header, const char *jid)
{
    struct xmp_node *k;

    for (k = xmp_node_first(header); k; k = xmp_node_next(k)) {
        const char *j = xmp_node_attr(k, "jid");
        if (strcmp(xmp_node_name(k), "keys") == 0 && j &&
            strcmp(j, jid) == 0)
            return k;
    }
    k = xmp_node_add_child(header, XMP_OMEMO_NS_V2, "keys", NULL);
    if (k && xmp_node_set_attr(k, "jid", jid, NULL) != XMP_OK)
        return NULL;
    return k;
}

enum xmp_err xmp_omemo_encrypt(struct xmp_omemo *om, enum xmp_omemo_ns ns,
                               const char *text, struct xmp_omemo_rcpt *to,
                               size_t n, struct xmp_node **out,
                               struct xmp_error *err)
{
    struct xmp_node *enc = NULL, *header;
    unsigned char km[48], iv[12], *ct = NULL;
    size_t kml = 0, ctl = 0, bad = n;
    const char *u = ns_uri(ns);
    enum xmp_err rc;

    *out = NULL;
    call_start(om);
    if (ns != XMP_OMEMO_AXOLOTL && ns != XMP_OMEMO_V2)
        return xmp_error_set(err, XMP_EUSAGE, "no such OMEMO namespace");
    if (n == 0)
        return xmp_error_set(err, XMP_EUSAGE, "no OMEMO device to "
                             "encrypt for");
    if (text && xmp_xml_check_text(text, strlen(text), err) != XMP_OK)
        return XMP_EDATA;
    for (size_t i = 0; i < n; i++) {
        to[i].why = prepare(om, ns, &to[i]);
        if (to[i].why != XMP_OMEMO_OK && bad == n)
            bad = i;
    }
    if (om->store_failed)
        return xmp_error_set(err, XMP_EIO, "%s", om->store_msg);
    if (bad < n)
        return xmp_error_set(err, XMP_EDATA, "cannot encrypt for %s device "
                             "%lu: %s", to[bad].jid ? to[bad].jid : "?",
                             (unsigned long)to[bad].device,
                             xmp_omemo_why_name(to[bad].why));
    if ((rc = seal(om, ns, text, km, &kml, iv, &ct, &ctl, err)) != XMP_OK)
        return rc;
    rc = xmp_error_set(err, XMP_ENOMEM, "out of memory");
    if (!(enc = xmp_node_new(u, "encrypted", NULL)) ||
        !(header = xmp_node_add_child(enc, u, "header", NULL)) ||
        set_num_attr(header, "sid", om->device) < 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        signal_protocol_address a;
        session_cipher *c = NULL;
        ciphertext_message *m = NULL;
        struct xmp_node *parent = header, *key;
        char *name = addr_name(ns, to[i].jid);
        int r, kex;

        if (!name)
            goto fail;
        a.name = name;
        a.name_len = strlen(name);
        a.device_id = (int32_t)to[i].device;
        r = session_cipher_create(&c, om->sc, &a, om->ctx);
        if (r == 0) {
            session_cipher_set_version(c, ns_version(ns));
            r = session_cipher_encrypt(c, km, kml, &m);
        }
        session_cipher_free(c);
        free(name);
        if (r < 0) {
            to[i].why = sg_why(om, r, to[i].jid, to[i].device);
            rc = xmp_error_set(err, om->store_failed ? XMP_EIO : XMP_EDATA,
                               "cannot encrypt for %s device %lu: %s",
                               to[i].jid, (unsigned long)to[i].device,
                               om->store_failed ? om->store_msg
                               : xmp_omemo_why_name(to[i].why));
            goto fail;
        }
        kex = ciphertext_message_get_type(m) == CIPHERTEXT_PREKEY_TYPE;
        if (ns == XMP_OMEMO_V2 && !(parent = keys_for(header, to[i].jid))) {
            SIGNAL_UNREF(m);
            goto fail;
        }
        r = add_b64_child(parent, u, "key",
                          signal_buffer_data(ciphertext_message_get_serialized(m)),
                          signal_buffer_len(ciphertext_message_get_serialized(m)),
                          &key);
        SIGNAL_UNREF(m);
        if (r < 0 || set_num_attr(key, "rid", to[i].device) < 0 ||
            (kex && xmp_node_set_attr(key, ns == XMP_OMEMO_V2 ? "kex"
                                      : "prekey", "true", NULL) != XMP_OK))
            goto fail;
    }
    if ((ns == XMP_OMEMO_AXOLOTL &&
         add_b64_child(header, u, "iv", iv, 12, NULL) < 0) ||
        (ct && add_b64_child(enc, u, "payload", ct, ctl, NULL) < 0))
        goto fail;
    free(ct);
    xmp_error_clear(err);
    *out = enc;
    return XMP_OK;
fail:
    free(ct);
    xmp_node_free(enc);
    return rc;
}

/* ---- decrypt ---------------------------------------------------------------- */

void xmp_omemo_msg_clear(struct xmp_omemo_msg *msg)
{
    if (msg) {
        free(msg->text);
        memset(msg, 0, sizeof *msg);
    }
}

static int is_true(const char *v)
{
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* Our <key/> in the header, or NULL. */
static const struct xmp_node *our_key(const struct xmp_omemo *om,
                                      enum xmp_omemo_ns ns,
                                      const struct xmp_node *header)
{
    const char *u = ns_uri(ns);
    const struct xmp_node *c, *k;
    uint32_t rid;

    for (c = xmp_node_first(header); c; c = xmp_node_next(c)) {
        if (strcmp(xmp_node_ns(c), u) != 0)
            continue;
        if (ns == XMP_OMEMO_AXOLOTL) {
            if (strcmp(xmp_node_name(c), "key") == 0 &&
                parse_device(xmp_node_attr(c, "rid"), &rid) == 0 &&
                rid == om->device)
                return c;
            continue;
        }
        if (strcmp(xmp_node_name(c), "keys") != 0)
            continue;
        for (k = xmp_node_first(c); k; k = xmp_node_next(k))
            if (strcmp(xmp_node_ns(k), u) == 0 &&
                strcmp(xmp_node_name(k), "key") == 0 &&
                parse_device(xmp_node_attr(k, "rid"), &rid) == 0 &&
                rid == om->device)
                return k;
    }
    return NULL;
}

static int ratchet_decrypt(struct xmp_omemo *om, enum xmp_omemo_ns ns,
                           const signal_protocol_address *a, int kex,
                           const unsigned char *w, size_t wl,
                           signal_buffer **km)
{
    session_cipher *c = NULL;
    int r = session_cipher_create(&c, om->sc, a, om->ctx);
    int v2 = ns == XMP_OMEMO_V2;

    if (r < 0)
        return r;
    session_cipher_set_version(c, ns_version(ns));
    if (kex) {
        pre_key_signal_message *m = NULL;
        r = v2 ? pre_key_signal_message_deserialize_omemo(
                     &m, w, wl, (uint32_t)a->device_id, om->ctx)
               : pre_key_signal_message_deserialize(&m, w, wl, om->ctx);
        if (r == 0)
            r = session_cipher_decrypt_pre_key_signal_message(c, m, NULL, km);
        else
            r = SG_ERR_INVALID_PROTO_BUF;
        SIGNAL_UNREF(m);
    } else {
        signal_message *m = NULL;
        r = v2 ? signal_message_deserialize_omemo(&m, w, wl, om->ctx)
               : signal_message_deserialize(&m, w, wl, om->ctx);
        if (r == 0)
            r = session_cipher_decrypt_signal_message(c, m, NULL, km);
        else
            r = SG_ERR_INVALID_PROTO_BUF;
        SIGNAL_UNREF(m);
    }
    session_cipher_free(c);
    return r;
}

/* axolotl: AES-128-GCM with key||tag from the ratchet (or the older
 * 16-byte key with the tag after the payload). */
static enum xmp_omemo_why open_axolotl(const struct xmp_node *enc,
                                       const unsigned char *km, size_t kml,
                                       char **text)
{
    const struct xmp_node *header = xmp_node_child(enc, XMP_OMEMO_NS_AXOLOTL,
                                                   "header");
    unsigned char *iv = NULL, *ct = NULL;
    const unsigned char *tag;
    size_t ivl = 0, ctl = 0;
    enum xmp_omemo_why why = XMP_OMEMO_MALFORMED;

    if (!(iv = unb64(xmp_node_child(header, XMP_OMEMO_NS_AXOLOTL, "iv"), 16,
                     &ivl)) ||
        (ivl != 12 && ivl != 16) ||
        !(ct = unb64(xmp_node_child(enc, XMP_OMEMO_NS_AXOLOTL, "payload"),
                     WIRE_MAX, &ctl)))
        goto out;
    if (kml == 32) {
        tag = km + 16;
    } else if (kml == 16 && ctl > 16) {
        ctl -= 16;
        tag = ct + ctl;
    } else {
        goto out;
    }
    if (!(*text = calloc(1, ctl + 1)))
        goto out;
    if (tls_aes_gcm_open(km, 16, iv, ivl, ct, ctl, tag,
                         (unsigned char *)*text) < 0) {
        why = XMP_OMEMO_TAMPERED;
        free(*text);
        *text = NULL;
        goto out;
    }
    if (memchr(*text, '\0', ctl)) { /* text, not bytes */
        free(*text);
        *text = NULL;
        goto out;
    }
    why = XMP_OMEMO_OK;
out:
    free(iv);
    free(ct);
    return why;
}

/* omemo:2: HMAC first, then AES-256-CBC, then the envelope. */
static enum xmp_omemo_why open_v2(const struct xmp_node *enc,
                                  const char *from_bare,
                                  const unsigned char *km, size_t kml,
                                  char **text)
{
    unsigned char okm[80], mac[32], diff = 0, *ct = NULL, *pt = NULL;
    size_t ctl = 0, ptl = 0;
    struct xmp_node *env = NULL;
    const struct xmp_node *body, *fromn;
    struct xmp_jid a, b;
    enum xmp_omemo_why why = XMP_OMEMO_MALFORMED;

    if (kml != 48 ||
        !(ct = unb64(xmp_node_child(enc, XMP_OMEMO_NS_V2, "payload"),
                     WIRE_MAX, &ctl)) ||
        ctl % 16 != 0 || v2_keys(km, okm) < 0 ||
        tls_hmac_sha256(okm + 32, 32, ct, ctl, mac) != 32)
        goto out;
    for (int i = 0; i < 16; i++)
        diff |= mac[i] ^ km[32 + i];
    if (diff) {
        why = XMP_OMEMO_TAMPERED;
        goto out;
    }
    if (!(pt = malloc(ctl + 16)))
        goto out;
    if (tls_aes_cbc(0, okm, 32, okm + 64, ct, ctl, pt, &ptl) < 0) {
        why = XMP_OMEMO_TAMPERED;
        goto out;
    }
    if (!(env = xmp_node_parse((const char *)pt, ptl, NULL)) ||
        strcmp(xmp_node_ns(env), NS_SCE) != 0 ||
        strcmp(xmp_node_name(env), "envelope") != 0)
        goto out;
    fromn = xmp_node_child(env, NS_SCE, "from");
    if (!fromn || !xmp_node_attr(fromn, "jid") ||
        xmp_jid_parse(xmp_node_attr(fromn, "jid"), &a, NULL) != XMP_OK) {
        why = XMP_OMEMO_FORGED;
        goto out;
    }
    if (xmp_jid_parse(from_bare, &b, NULL) != XMP_OK) {
        xmp_jid_clear(&a);
        goto out;
    }
    free(a.resource);
    a.resource = NULL;
    diff = !xmp_jid_equal(&a, &b);
    xmp_jid_clear(&a);
    xmp_jid_clear(&b);
    if (diff) {
        why = XMP_OMEMO_FORGED;
        goto out;
    }
    body = xmp_node_child(xmp_node_child(env, NS_SCE, "content"),
                          "jabber:client", "body");
    *text = body ? xmp_node_text(body) : strdup("");
    why = *text ? XMP_OMEMO_OK : XMP_OMEMO_MALFORMED;
out:
    xmp_node_free(env);
    free(ct);
    free(pt);
    return why;
}

enum xmp_err xmp_omemo_decrypt(struct xmp_omemo *om, const char *from,
                               const struct xmp_node *enc,
                               struct xmp_omemo_msg *msg,
                               struct xmp_error *err)
{
    enum xmp_omemo_ns ns = xmp_omemo_ns_of(xmp_node_ns(enc));
    const struct xmp_node *header, *key;
    signal_protocol_address a;
    signal_buffer *km = NULL;
    unsigned char *w = NULL;
    struct trust_rec t;
    struct xmp_jid fj;
    char *bare = NULL, *name = NULL;
    size_t wl;
    enum xmp_err rc;
    int r;

    memset(msg, 0, sizeof *msg);
    call_start(om);
    msg->why = XMP_OMEMO_MALFORMED;
    msg->ns = ns;
    if (!ns || strcmp(xmp_node_name(enc), "encrypted") != 0 ||
        !(header = xmp_node_child(enc, ns_uri(ns), "header")) ||
        parse_device(xmp_node_attr(header, "sid"), &msg->device) < 0) {
        rc = xmp_error_set(err, XMP_EDATA, "not an OMEMO message");
        goto out;
    }
    if (!from || xmp_jid_parse(from, &fj, NULL) != XMP_OK) {
        rc = xmp_error_set(err, XMP_EDATA, "OMEMO message from a bad JID");
        goto out;
    }
    bare = xmp_jid_bare(&fj);
    xmp_jid_clear(&fj);
    if (!bare || !(name = addr_name(ns, bare))) {
        rc = xmp_error_set(err, XMP_ENOMEM, "out of memory");
        goto out;
    }
    if (!(key = our_key(om, ns, header))) {
        msg->why = XMP_OMEMO_NOT_FOR_US;
        goto named;
    }
    msg->key_exchange = is_true(xmp_node_attr(key, ns == XMP_OMEMO_V2
                                              ? "kex" : "prekey"));
    if (!(w = unb64(key, 4096, &wl)))
        goto named;
    /* a distrusted device's messages do not move the ratchet */
    if ((r = device_trust(om, bare, msg->device, &t)) < 0)
        goto store;
    if (r == 1 && t.state == XMP_OMEMO_DISTRUSTED) {
        msg->why = XMP_OMEMO_UNTRUSTED;
        goto named;
    }
    a.name = name;
    a.name_len = strlen(name);
    a.device_id = (int32_t)msg->device;
    r = ratchet_decrypt(om, ns, &a, msg->key_exchange, w, wl, &km);
    if (om->store_failed)
        goto store;
    if (r < 0) {
        msg->why = sg_why(om, r, bare, msg->device);
        goto named;
    }
    if (om->prekey_used) {
        /* a fresh pre-key in place of the one used up */
        if (add_prekeys(om, 1) < 0)
            goto store;
        msg->republish = 1;
    }
    if (xmp_node_child(enc, ns_uri(ns), "payload")) {
        msg->why = ns == XMP_OMEMO_V2
                       ? open_v2(enc, bare, signal_buffer_data(km),
                                 signal_buffer_len(km), &msg->text)
                       : open_axolotl(enc, signal_buffer_data(km),
                                      signal_buffer_len(km), &msg->text);
        if (msg->why == XMP_OMEMO_OK && msg->text &&
            xmp_xml_check_text(msg->text, strlen(msg->text), NULL) !=
                XMP_OK)
            msg->why = XMP_OMEMO_MALFORMED;
        if (msg->why != XMP_OMEMO_OK)
            goto named;
    }
    msg->why = XMP_OMEMO_OK;
    if ((r = device_trust(om, bare, msg->device, &t)) < 0)
        goto store;
    if (r == 1) {
        msg->trust = t.state;
        fpr_of(t.key, t.keylen, msg->fingerprint);
    }
    rc = XMP_OK;
    goto out;
named:
    xmp_error_set(err, XMP_EDATA, "OMEMO message from %s device %lu: %s",
                  bare, (unsigned long)msg->device,
                  xmp_omemo_why_name(msg->why));
    rc = XMP_EDATA;
    goto out;
store:
    rc = xmp_error_set(err, XMP_EIO, "%s", om->store_msg);
out:
    if (rc != XMP_OK) {
        free(msg->text);
        msg->text = NULL;
    }
    signal_buffer_bzero_free(km);
    free(w);
    free(bare);
    free(name);
    return rc;
}
