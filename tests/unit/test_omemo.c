/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_omemo.c - OMEMO (lib/omemo.c) between devices in one process, each
 * with its store in memory: messages both ways in both namespaces, the
 * bundle and device-list XML, the fingerprint, trust, and the refusals
 * (replay, bits flipped, a changed identity key, a message for another
 * device, a forged omemo:2 sender). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <gsasl.h>

#include "memstore.h"
#include "tap.h"
#include "xmp.h"

#define ALICE "alice@example.test"
#define BOB "bob@example.test"
#define CAROL "carol@example.test"
#define TEXT "grüße ⚡ <&> \"bob\""

struct dev {
    struct memstore ms;
    struct xmp_omemo *om;
    const char *jid;
};

static int dev_open(struct dev *d, const char *jid, unsigned flags)
{
    struct xmp_error err;

    d->jid = jid;
    if (xmp_omemo_new(&d->ms.st, jid, flags, &d->om, &err) != XMP_OK) {
        diag("xmp_omemo_new %s: %s", jid, err.msg);
        return -1;
    }
    return 0;
}

static int dev_new(struct dev *d, const char *jid, unsigned flags)
{
    memstore_init(&d->ms);
    return dev_open(d, jid, flags);
}

static void dev_free(struct dev *d)
{
    xmp_omemo_free(d->om);
    memstore_free(&d->ms);
}

static const char *nsname(enum xmp_omemo_ns ns)
{
    return ns == XMP_OMEMO_V2 ? "omemo:2" : "axolotl";
}

/* from encrypts text for to's device (with to's bundle when bundle) */
static struct xmp_node *enc_for(struct dev *from, struct dev *to,
                                enum xmp_omemo_ns ns, const char *text,
                                int bundle, enum xmp_omemo_why *why)
{
    struct xmp_node *b = bundle ? xmp_omemo_bundle_xml(to->om, ns, NULL)
                                : NULL;
    struct xmp_omemo_rcpt r = { to->jid, xmp_omemo_device_id(to->om), b,
                                XMP_OMEMO_OK };
    struct xmp_node *out = NULL;
    struct xmp_error err;

    if (xmp_omemo_encrypt(from->om, ns, text, &r, 1, &out, &err) != XMP_OK)
        diag("encrypt: %s", err.msg);
    if (why)
        *why = r.why;
    xmp_node_free(b);
    return out;
}

/* decrypt: the why (XMP_OMEMO_OK on success), text into msg */
static int dec(struct dev *to, const char *from,
                              const struct xmp_node *enc,
                              struct xmp_omemo_msg *msg)
{
    struct xmp_error err;
    enum xmp_err rc = xmp_omemo_decrypt(to->om, from, enc, msg, &err);

    if (rc != XMP_OK && msg->why == XMP_OMEMO_OK)
        return -1;
    if (rc == XMP_OK && msg->why != XMP_OMEMO_OK)
        return -2;
    return (int)msg->why;
}

/* A copy of enc with bit 0 of byte at (from the end when < 0) of the
 * base64 text of the first element called name flipped. */
static struct xmp_node *flip(const struct xmp_node *enc, const char *name,
                             long at)
{
    char *s = xmp_node_to_string(enc, ""), *t = NULL, *raw = NULL,
         *b = NULL, *res;
    const struct xmp_node *n = enc, *c;
    size_t len = 0, tl;
    struct xmp_node *out = NULL;

    /* depth-first: the element or one below the header */
    if (!(c = xmp_node_child(n, NULL, name))) {
        const struct xmp_node *h = xmp_node_child(n, NULL, "header");
        c = xmp_node_child(h, NULL, name);
        if (!c && (c = xmp_node_child(h, NULL, "keys")))
            c = xmp_node_child(c, NULL, name);
    }
    if (!s || !c || !(t = xmp_node_text(c)) ||
        gsasl_base64_from(t, strlen(t), &raw, &len) != GSASL_OK || !len)
        goto out;
    raw[at < 0 ? (long)len + at : at] ^= 1;
    if (gsasl_base64_to(raw, len, &b, NULL) != GSASL_OK)
        goto out;
    if (!(res = strstr(s, t)))
        goto out;
    tl = strlen(t);
    memcpy(res, b, tl); /* the same length: same number of bytes */
    out = xmp_node_parse(s, strlen(s), NULL);
out:
    free(s);
    free(t);
    free(raw);
    free(b);
    return out;
}

static int fpr_ok(const char *f)
{
    if (strlen(f) != 71)
        return 0;
    for (int i = 0; i < 71; i++)
        if (i % 9 == 8 ? f[i] != ' '
                       : !(isdigit((unsigned char)f[i]) ||
                           (f[i] >= 'a' && f[i] <= 'f')))
            return 0;
    return 1;
}

static size_t count_children(const struct xmp_node *n, const char *name)
{
    size_t k = 0;

    for (const struct xmp_node *c = xmp_node_first(n); c;
         c = xmp_node_next(c))
        if (strcmp(xmp_node_name(c), name) == 0)
            k++;
    return k;
}

static void test_device(void)
{
    struct dev a;
    char f1[XMP_OMEMO_FPR_MAX], f2[XMP_OMEMO_FPR_MAX];
    uint32_t id;
    struct xmp_node *b;
    struct xmp_error err;
    char *ik = NULL, *raw = NULL, hex[80];
    size_t len = 0;

    if (dev_new(&a, ALICE, 0) < 0) {
        ok(0, "device created");
        return;
    }
    id = xmp_omemo_device_id(a.om);
    ok(id >= 1 && id <= 0x7fffffffu, "device id %lu in 1..2^31-1",
       (unsigned long)id);
    is_int(memstore_count(&a.ms, "prekey."), 100, "100 pre-keys stored");
    ok(memstore_count(&a.ms, "spk.1") == 1, "a signed pre-key stored");
    xmp_omemo_fingerprint(a.om, f1);
    ok(fpr_ok(f1), "fingerprint is 8 groups of 8 hex digits: %s", f1);
    /* it is the identity key of the axolotl bundle, without its 0x05 */
    b = xmp_omemo_bundle_xml(a.om, XMP_OMEMO_AXOLOTL, &err);
    if (b && (ik = xmp_node_text(xmp_node_child(
                  b, XMP_OMEMO_NS_AXOLOTL, "identityKey"))) &&
        gsasl_base64_from(ik, strlen(ik), &raw, &len) == GSASL_OK &&
        len == 33) {
        size_t o = 0;
        for (size_t i = 1; i < 33; i++) {
            if (i > 1 && (i - 1) % 4 == 0)
                hex[o++] = ' ';
            snprintf(hex + o, sizeof hex - o, "%02x", (unsigned char)raw[i]);
            o += 2;
        }
        ok(raw[0] == 0x05, "axolotl identity key is 0x05 and 32 bytes");
        is_str(f1, hex, "fingerprint is the Curve25519 identity key");
    } else {
        ok(0, "axolotl identity key is 0x05 and 32 bytes");
        ok(0, "fingerprint is the Curve25519 identity key");
    }
    free(ik);
    free(raw);
    xmp_node_free(b);
    /* opened again: the same device */
    xmp_omemo_free(a.om);
    a.om = NULL;
    ok(dev_open(&a, ALICE, 0) == 0, "opened again from its store");
    if (a.om) {
        xmp_omemo_fingerprint(a.om, f2);
        is_int(xmp_omemo_device_id(a.om), id, "same device id");
        is_str(f2, f1, "same fingerprint");
        is_int(memstore_count(&a.ms, "prekey."), 100, "no new pre-keys");
    }
    /* a store that fails: an error, not a crash */
    xmp_omemo_free(a.om);
    a.om = NULL;
    a.ms.fail = 1;
    is_int(xmp_omemo_new(&a.ms.st, ALICE, 0, &a.om, &err), XMP_EIO,
           "a failing store: XMP_EIO (%s)", err.msg);
    a.ms.fail = 0;
    is_int(xmp_omemo_new(&a.ms.st, "alice@example.test/res", 0, &a.om,
                         &err), XMP_EUSAGE, "a full JID as our own refused");
    dev_free(&a);
}

static void test_xml(enum xmp_omemo_ns ns)
{
    struct dev a;
    struct xmp_node *b, *b2, *l;
    struct xmp_error err;
    char *s = NULL, *s2 = NULL;
    uint32_t in[] = { 1, 42, 0x7fffffffu }, *ids = NULL;
    size_t n = 0;
    enum xmp_omemo_ns got = 0;
    const char *u = ns == XMP_OMEMO_V2 ? XMP_OMEMO_NS_V2
                                       : XMP_OMEMO_NS_AXOLOTL;

    if (dev_new(&a, ALICE, 0) < 0)
        return;
    b = xmp_omemo_bundle_xml(a.om, ns, &err);
    ok(b != NULL, "%s: bundle built", nsname(ns));
    if (b) {
        s = xmp_node_to_string(b, "jabber:client");
        b2 = s ? xmp_node_parse(s, strlen(s), &err) : NULL;
        s2 = b2 ? xmp_node_to_string(b2, "jabber:client") : NULL;
        is_str(s2, s, "%s: bundle reads back the same", nsname(ns));
        is_str(xmp_node_ns(b), u, "%s: bundle namespace", nsname(ns));
        is_int(count_children(xmp_node_child(b, u, "prekeys"),
                              ns == XMP_OMEMO_V2 ? "pk" : "preKeyPublic"),
               100, "%s: bundle lists 100 pre-keys", nsname(ns));
        ok(xmp_node_child(b, u, ns == XMP_OMEMO_V2 ? "ik" : "identityKey") &&
               xmp_node_child(b, u, ns == XMP_OMEMO_V2 ? "spks"
                                                       : "signedPreKeySignature"),
           "%s: identity key and signature present", nsname(ns));
        xmp_node_free(b2);
        free(s);
        free(s2);
    }
    xmp_node_free(b);

    l = xmp_omemo_devicelist_xml(ns, in, 3, &err);
    ok(l && strcmp(xmp_node_name(l), ns == XMP_OMEMO_V2 ? "devices" : "list")
                == 0,
       "%s: device list element", nsname(ns));
    if (l && xmp_omemo_parse_devicelist(l, &got, &ids, &n, &err) == XMP_OK) {
        ok(got == ns && n == 3 && ids[0] == 1 && ids[1] == 42 &&
               ids[2] == 0x7fffffffu,
           "%s: device list reads back", nsname(ns));
    } else {
        ok(0, "%s: device list reads back", nsname(ns));
    }
    free(ids);
    xmp_node_free(l);
    ok(xmp_omemo_devicelist_xml(ns, (uint32_t[]){ 0 }, 1, &err) == NULL,
       "%s: device id 0 refused", nsname(ns));
    {
        const char *x = ns == XMP_OMEMO_V2
            ? "<devices xmlns='urn:xmpp:omemo:2'><device id='7' label='x'/>"
              "<device id='0'/><device id='2147483648'/><device id='-3'/>"
              "<device id='7'/><device/><other id='9'/><device id='8'/></devices>"
            : "<list xmlns='eu.siacs.conversations.axolotl'><device id='7'/>"
              "<device id='0'/><device id='2147483648'/><device id='-3'/>"
              "<device id='7'/><device/><other id='9'/><device id='8'/></list>";
        l = xmp_node_parse(x, strlen(x), &err);
        ids = NULL;
        ok(l && xmp_omemo_parse_devicelist(l, &got, &ids, &n, &err) ==
                    XMP_OK && n == 2 && ids[0] == 7 && ids[1] == 8,
           "%s: invalid and repeated ids skipped", nsname(ns));
        free(ids);
        xmp_node_free(l);
    }
    l = xmp_node_new(u, "bundle", NULL);
    ids = NULL;
    is_int(xmp_omemo_parse_devicelist(l, &got, &ids, &n, &err), XMP_EDATA,
           "%s: a bundle is not a device list", nsname(ns));
    xmp_node_free(l);
    dev_free(&a);
}

static void test_pair(enum xmp_omemo_ns ns)
{
    struct dev a, b;
    struct xmp_node *e, *e2, *bad;
    struct xmp_omemo_msg m;
    enum xmp_omemo_why why;
    char fa[XMP_OMEMO_FPR_MAX], fb[XMP_OMEMO_FPR_MAX];
    const char *n = nsname(ns);
    const char *kexattr = ns == XMP_OMEMO_V2 ? "kex" : "prekey";
    const struct xmp_node *key;

    if (dev_new(&a, ALICE, 0) < 0 || dev_new(&b, BOB, 0) < 0)
        return;
    xmp_omemo_fingerprint(a.om, fa);
    xmp_omemo_fingerprint(b.om, fb);

    e = enc_for(&a, &b, ns, TEXT, 0, &why);
    ok(!e && why == XMP_OMEMO_NO_SESSION,
       "%s: no session and no bundle: refused, nothing built", n);
    xmp_node_free(e);

    /* alice starts: a key exchange */
    e = enc_for(&a, &b, ns, TEXT, 1, NULL);
    ok(e != NULL, "%s: alice encrypts with bob's bundle", n);
    if (!e)
        goto out;
    ok(xmp_omemo_has_session(a.om, ns, BOB, xmp_omemo_device_id(b.om)),
       "%s: alice has a session with bob now", n);
    key = xmp_node_child(xmp_node_child(e, NULL, "header"), NULL,
                         ns == XMP_OMEMO_V2 ? "keys" : "key");
    if (ns == XMP_OMEMO_V2) {
        is_str(xmp_node_attr(key, "jid"), BOB, "%s: keys grouped by jid", n);
        key = xmp_node_child(key, NULL, "key");
    }
    is_str(xmp_node_attr(key, kexattr), "true", "%s: key marked %s", n,
           kexattr);
    is_int(dec(&b, ALICE "/phone", e, &m), XMP_OMEMO_OK,
           "%s: bob decrypts alice's key exchange", n);
    is_str(m.text, TEXT, "%s: the exact text", n);
    ok(m.device == xmp_omemo_device_id(a.om) && m.key_exchange &&
           m.ns == ns,
       "%s: sender device, key exchange", n);
    ok(m.republish, "%s: a pre-key was used: republish", n);
    is_int(memstore_count(&b.ms, "prekey."), 100,
           "%s: bob holds 100 pre-keys again", n);
    is_int(m.trust, XMP_OMEMO_BLIND, "%s: blind trust by default", n);
    is_str(m.fingerprint, fa, "%s: alice's fingerprint", n);
    xmp_omemo_msg_clear(&m);

    /* the same element again */
    is_int(dec(&b, ALICE, e, &m), XMP_OMEMO_REPLAY,
           "%s: replayed key exchange refused", n);
    ok(m.text == NULL, "%s: no text from a refusal", n);
    xmp_omemo_msg_clear(&m);

    /* a second message before any answer: a key exchange again */
    e2 = enc_for(&a, &b, ns, "second", 0, NULL);
    is_int(dec(&b, ALICE, e2, &m), XMP_OMEMO_OK,
           "%s: second message before an answer", n);
    ok(m.key_exchange && !m.republish,
       "%s: still a key exchange, no pre-key used", n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e2);
    xmp_node_free(e);

    /* bob answers over the session */
    e = enc_for(&b, &a, ns, "ünïcode answer ✓", 0, NULL);
    is_int(e ? dec(&a, BOB, e, &m) : -3, XMP_OMEMO_OK,
           "%s: alice decrypts bob's answer", n);
    is_str(m.text, "ünïcode answer ✓", "%s: the exact answer", n);
    ok(!m.key_exchange && !m.republish, "%s: a plain ratchet message", n);
    is_str(m.fingerprint, fb, "%s: bob's fingerprint", n);
    xmp_omemo_msg_clear(&m);
    is_int(e ? dec(&a, BOB, e, &m) : -3, XMP_OMEMO_REPLAY,
           "%s: replayed message refused", n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e);

    /* bits flipped: key element (its MAC), payload, iv */
    e = enc_for(&a, &b, ns, "tamper me", 0, NULL);
    bad = flip(e, "key", -3);
    is_int(bad ? dec(&b, ALICE, bad, &m) : -3, XMP_OMEMO_TAMPERED,
           "%s: bit flipped in the key element's MAC refused", n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(bad);
    bad = flip(e, "key", 5);
    {
        int r = bad ? dec(&b, ALICE, bad, &m) : -3;
        ok(r > 0 && !m.text,
           "%s: bit flipped at the key element's start refused (%s)", n,
           r > 0 ? xmp_omemo_why_name((enum xmp_omemo_why)r) : "-");
    }
    xmp_omemo_msg_clear(&m);
    xmp_node_free(bad);
    bad = flip(e, "payload", 0);
    is_int(bad ? dec(&b, ALICE, bad, &m) : -3, XMP_OMEMO_TAMPERED,
           "%s: bit flipped in the payload refused", n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(bad);
    /* the tampering did not cost the message: it still decrypts...
     * except that the payload check comes after the ratchet, which has
     * moved: the unchanged copy is now a replay */
    is_int(dec(&b, ALICE, e, &m), XMP_OMEMO_REPLAY,
           "%s: the key element consumed by the tampered copy", n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e);
    if (ns == XMP_OMEMO_AXOLOTL) {
        e = enc_for(&a, &b, ns, "tamper my iv", 0, NULL);
        bad = flip(e, "iv", 0);
        is_int(bad ? dec(&b, ALICE, bad, &m) : -3, XMP_OMEMO_TAMPERED,
               "%s: bit flipped in the iv refused (GCM tag)", n);
        xmp_omemo_msg_clear(&m);
        xmp_node_free(bad);
        xmp_node_free(e);
    } else {
        /* the last block: CBC padding and HMAC both cover it */
        e = enc_for(&a, &b, ns, "tamper my last block", 0, NULL);
        bad = flip(e, "payload", -1);
        is_int(bad ? dec(&b, ALICE, bad, &m) : -3, XMP_OMEMO_TAMPERED,
               "%s: bit flipped in the payload's last block refused", n);
        xmp_omemo_msg_clear(&m);
        xmp_node_free(bad);
        xmp_node_free(e);
    }
    /* still in step after the refusals */
    e = enc_for(&a, &b, ns, "after the refusals", 0, NULL);
    is_int(e ? dec(&b, ALICE, e, &m) : -3, XMP_OMEMO_OK,
           "%s: the session survives the refusals", n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e);

    /* the wrong sender: another JID's session */
    e = enc_for(&a, &b, ns, "who sent this", 0, NULL);
    is_int(dec(&b, CAROL, e, &m), XMP_OMEMO_NO_SESSION,
           "%s: alice's message claimed by carol: no session", n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e);

    /* key transport: no payload */
    e = enc_for(&a, &b, ns, NULL, 0, NULL);
    ok(e && !xmp_node_child(e, NULL, "payload"),
       "%s: key-transport message has no payload", n);
    is_int(e ? dec(&b, ALICE, e, &m) : -3, XMP_OMEMO_OK,
           "%s: key-transport message accepted", n);
    ok(m.text == NULL, "%s: and has no text", n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e);

    /* distrusted */
    ok(xmp_omemo_set_trust(b.om, ALICE, xmp_omemo_device_id(a.om),
                           XMP_OMEMO_DISTRUSTED, NULL) == XMP_OK,
       "%s: bob distrusts alice's device", n);
    e = enc_for(&a, &b, ns, "from a distrusted device", 0, NULL);
    is_int(dec(&b, ALICE, e, &m), XMP_OMEMO_UNTRUSTED,
           "%s: message from a distrusted device refused", n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e);
    e = enc_for(&b, &a, ns, "to a distrusted device", 0, &why);
    ok(!e && why == XMP_OMEMO_UNTRUSTED,
       "%s: encrypting for a distrusted device refused", n);
    xmp_node_free(e);
    ok(xmp_omemo_set_trust(b.om, ALICE, xmp_omemo_device_id(a.om),
                           XMP_OMEMO_VERIFIED, NULL) == XMP_OK,
       "%s: bob verifies alice's device", n);
    e = enc_for(&b, &a, ns, "verified now", 0, NULL);
    is_int(e ? dec(&a, BOB, e, &m) : -3, XMP_OMEMO_OK,
           "%s: encrypting for a verified device", n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e);
    {
        enum xmp_omemo_trust t = 0;
        char f[XMP_OMEMO_FPR_MAX] = "";
        ok(xmp_omemo_device_trust(b.om, ALICE, xmp_omemo_device_id(a.om),
                                  &t, f, NULL) == XMP_OK &&
               t == XMP_OMEMO_VERIFIED && strcmp(f, fa) == 0,
           "%s: device trust reads back", n);
        is_int(xmp_omemo_device_trust(b.om, CAROL, 5, &t, f, NULL),
               XMP_EDATA, "%s: an unknown device", n);
    }
    {
        struct xmp_omemo_device *v = NULL;
        size_t k = 0;
        ok(xmp_omemo_known_devices(b.om, NULL, &v, &k, NULL) == XMP_OK &&
               k == 1 && strcmp(v[0].jid, ALICE) == 0 &&
               v[0].device == xmp_omemo_device_id(a.om) &&
               v[0].trust == XMP_OMEMO_VERIFIED &&
               strcmp(v[0].fingerprint, fa) == 0,
           "%s: bob knows one device: alice's, verified", n);
        xmp_omemo_devices_free(v, k);
        ok(xmp_omemo_known_devices(b.om, CAROL, &v, &k, NULL) == XMP_OK &&
               k == 0,
           "%s: and none of carol's", n);
        xmp_omemo_devices_free(v, k);
    }
out:
    dev_free(&a);
    dev_free(&b);
}

/* alice's message for carol only reaches bob; carol trusts manually */
static void test_others(enum xmp_omemo_ns ns)
{
    struct dev a, b, c;
    struct xmp_node *e;
    struct xmp_omemo_msg m;
    enum xmp_omemo_why why;
    const char *n = nsname(ns);

    if (dev_new(&a, ALICE, 0) < 0 || dev_new(&b, BOB, 0) < 0 ||
        dev_new(&c, CAROL, XMP_OMEMO_TRUST_MANUAL) < 0)
        return;
    e = enc_for(&a, &c, ns, "for carol", 1, NULL);
    is_int(e ? dec(&b, ALICE, e, &m) : -3, XMP_OMEMO_NOT_FOR_US,
           "%s: a key element for another device only: not for us", n);
    xmp_omemo_msg_clear(&m);
    is_int(e ? dec(&c, ALICE, e, &m) : -3, XMP_OMEMO_OK,
           "%s: manual trust: carol decrypts", n);
    is_int(m.trust, XMP_OMEMO_UNDECIDED, "%s: and sees an undecided device",
           n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e);
    e = enc_for(&c, &a, ns, "to an undecided device", 0, &why);
    ok(!e && why == XMP_OMEMO_UNTRUSTED,
       "%s: manual trust: encrypting for an undecided device refused", n);
    xmp_node_free(e);
    xmp_omemo_set_trust(c.om, ALICE, xmp_omemo_device_id(a.om),
                        XMP_OMEMO_VERIFIED, NULL);
    e = enc_for(&c, &a, ns, "to a verified device", 0, &why);
    is_int(e ? dec(&a, CAROL, e, &m) : -3, XMP_OMEMO_OK,
           "%s: manual trust: once verified, it goes", n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e);

    /* two recipients, two JIDs, one element; one bad bundle spoils all */
    {
        struct xmp_node *bb = xmp_omemo_bundle_xml(b.om, ns, NULL);
        struct xmp_omemo_rcpt r[2] = {
            { BOB, xmp_omemo_device_id(b.om), bb, 0 },
            { CAROL, xmp_omemo_device_id(c.om), NULL, 0 },
        };
        struct xmp_node *junk = xmp_node_new(
            ns == XMP_OMEMO_V2 ? XMP_OMEMO_NS_V2 : XMP_OMEMO_NS_AXOLOTL,
            "bundle", NULL);
        struct xmp_omemo_rcpt r2[2] = {
            { CAROL, xmp_omemo_device_id(c.om), NULL, 0 },
            { "dave@example.test", 77, junk, 0 },
        };
        e = NULL;
        ok(xmp_omemo_encrypt(a.om, ns, "to both", r, 2, &e, NULL) ==
               XMP_OK,
           "%s: one message for two contacts", n);
        is_int(e ? dec(&b, ALICE, e, &m) : -3, XMP_OMEMO_OK,
               "%s: bob reads it", n);
        xmp_omemo_msg_clear(&m);
        is_int(e ? dec(&c, ALICE, e, &m) : -3, XMP_OMEMO_OK,
               "%s: carol reads it", n);
        is_str(m.text, "to both", "%s: the same text", n);
        xmp_omemo_msg_clear(&m);
        xmp_node_free(e);
        e = NULL;
        ok(xmp_omemo_encrypt(a.om, ns, "x", r2, 2, &e, NULL) == XMP_EDATA &&
               !e && r2[0].why == XMP_OMEMO_OK &&
               r2[1].why == XMP_OMEMO_MALFORMED,
           "%s: an empty bundle: nothing built, that device named", n);
        xmp_node_free(junk);
        xmp_node_free(bb);
    }
    /* two devices of one contact: one <keys/> (omemo:2) with two keys */
    {
        struct dev b2;
        if (dev_new(&b2, BOB, 0) == 0) {
            struct xmp_node *bb = xmp_omemo_bundle_xml(b2.om, ns, NULL);
            struct xmp_omemo_rcpt r[2] = {
                { BOB, xmp_omemo_device_id(b.om), NULL, 0 },
                { BOB, xmp_omemo_device_id(b2.om), bb, 0 },
            };
            const struct xmp_node *h;
            e = NULL;
            ok(xmp_omemo_encrypt(a.om, ns, "to both of bob's", r, 2, &e,
                                 NULL) == XMP_OK,
               "%s: one message for two devices of bob's", n);
            h = e ? xmp_node_child(e, NULL, "header") : NULL;
            if (ns == XMP_OMEMO_V2)
                ok(h && count_children(h, "keys") == 1 &&
                       count_children(xmp_node_child(h, NULL, "keys"),
                                      "key") == 2,
                   "%s: one <keys/> for bob with two keys", n);
            else
                ok(h && count_children(h, "key") == 2,
                   "%s: two keys in the header", n);
            is_int(e ? dec(&b2, ALICE, e, &m) : -3, XMP_OMEMO_OK,
                   "%s: bob's second device reads it", n);
            is_str(m.text, "to both of bob's", "%s: the same text", n);
            xmp_omemo_msg_clear(&m);
            /* a store that fails while decrypting: an error, no text */
            b.ms.fail = 1;
            is_int(e ? (int)xmp_omemo_decrypt(b.om, ALICE, e, &m, NULL) : -3,
                   XMP_EIO, "%s: the store failing: XMP_EIO", n);
            ok(!m.text, "%s: and no text", n);
            xmp_omemo_msg_clear(&m);
            b.ms.fail = 0;
            is_int(e ? dec(&b, ALICE, e, &m) : -3, XMP_OMEMO_OK,
                   "%s: the store back: bob's first device reads it", n);
            xmp_omemo_msg_clear(&m);
            xmp_node_free(e);
            xmp_node_free(bb);
            dev_free(&b2);
        }
    }
    dev_free(&a);
    dev_free(&b);
    dev_free(&c);
}

/* bob's device id comes back with another identity key */
static void test_changed(enum xmp_omemo_ns ns)
{
    struct dev a, b, b2;
    struct xmp_node *e;
    struct xmp_omemo_msg m;
    enum xmp_omemo_why why;
    const char *n = nsname(ns);
    char num[16];
    uint32_t bid;

    if (dev_new(&a, ALICE, 0) < 0 || dev_new(&b, BOB, 0) < 0 ||
        dev_new(&b2, BOB, 0) < 0)
        return;
    bid = xmp_omemo_device_id(b.om);
    e = enc_for(&b, &a, ns, "hello", 1, NULL);
    is_int(e ? dec(&a, BOB, e, &m) : -3, XMP_OMEMO_OK,
           "%s: alice knows bob's device", n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e);
    /* b2: a new identity under bob's device id */
    xmp_omemo_free(b2.om);
    b2.om = NULL;
    snprintf(num, sizeof num, "%lu", (unsigned long)bid);
    memstore_put(&b2.ms, "device", (const unsigned char *)num, strlen(num));
    if (dev_open(&b2, BOB, 0) < 0)
        goto out;
    e = enc_for(&b2, &a, ns, "i am bob, really", 1, NULL);
    is_int(e ? dec(&a, BOB, e, &m) : -3, XMP_OMEMO_CHANGED,
           "%s: a key exchange with another identity key refused", n);
    ok(!m.text, "%s: and shows no text", n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e);
    /* alice, starting afresh from the new bundle, refuses it too */
    memstore_drop(&a.ms, "session.");
    e = enc_for(&a, &b2, ns, "to the new key", 1, &why);
    ok(!e && why == XMP_OMEMO_CHANGED,
       "%s: encrypting with a bundle whose identity key changed refused",
       n);
    xmp_node_free(e);
    /* until the device is forgotten */
    ok(xmp_omemo_forget(a.om, BOB, bid, NULL) == XMP_OK,
       "%s: alice forgets bob's device", n);
    e = enc_for(&a, &b2, ns, "to the new key", 1, &why);
    is_int(e ? dec(&b2, ALICE, e, &m) : -3, XMP_OMEMO_OK,
           "%s: the new key accepted after forgetting", n);
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e);
out:
    dev_free(&a);
    dev_free(&b);
    dev_free(&b2);
}

/* omemo:2: the envelope's <from/> must be the stanza's sender */
static void test_forged(void)
{
    struct dev a, b, mal;
    struct xmp_node *e;
    struct xmp_omemo_msg m;

    if (dev_new(&a, ALICE, 0) < 0 || dev_new(&b, BOB, 0) < 0 ||
        dev_new(&mal, "mallory@example.test", 0) < 0)
        return;
    e = enc_for(&mal, &b, XMP_OMEMO_V2, "i am alice", 1, NULL);
    is_int(e ? dec(&b, ALICE, e, &m) : -3, XMP_OMEMO_FORGED,
           "omemo:2: an envelope from mallory in alice's stanza refused");
    ok(!m.text, "omemo:2: and shows no text");
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e);
    /* axolotl has no envelope: nothing to compare */
    e = xmp_node_parse("<x xmlns='eu.siacs.conversations.axolotl'/>", 43,
                       NULL);
    is_int(dec(&b, ALICE, e, &m), XMP_OMEMO_MALFORMED,
           "not an <encrypted/>: malformed");
    xmp_omemo_msg_clear(&m);
    xmp_node_free(e);
    dev_free(&a);
    dev_free(&b);
    dev_free(&mal);
}

int main(void)
{
    enum xmp_omemo_ns ns[] = { XMP_OMEMO_AXOLOTL, XMP_OMEMO_V2 };

    test_device();
    for (int i = 0; i < 2; i++) {
        test_xml(ns[i]);
        test_pair(ns[i]);
        test_others(ns[i]);
        test_changed(ns[i]);
    }
    test_forged();
    return tap_done();
}
