/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_omemo.c - the OMEMO parsers (lib/omemo.c) on untrusted XML: an
 * <encrypted/> given to our device to decrypt, a <bundle/> to build a
 * session from, a device list to read, in either namespace.  The text
 * RID in the input becomes our device id, so that key elements reach the
 * ratchet.  Properties: a decryption either succeeds with nothing to
 * refuse or fails with a reason and no text; a device list reads back
 * the same through xmp_omemo_devicelist_xml; a bundle that builds a
 * session yields an <encrypted/> naming that device.  The device lives
 * in memory across inputs; what an input changed (sessions, trust) is
 * dropped after it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "../unit/memstore.h"
#include "fuzz.h"
#include "xmp.h"

#define PEER "peer@example.test"
#define PEER_DEV 1234

static struct memstore ms;
static struct xmp_omemo *om;

static void devicelist(const struct xmp_node *x)
{
    enum xmp_omemo_ns ns;
    uint32_t *ids = NULL, *ids2 = NULL;
    size_t n = 0, n2 = 0;
    struct xmp_node *back;

    if (xmp_omemo_parse_devicelist(x, &ns, &ids, &n, NULL) != XMP_OK)
        return;
    for (size_t i = 0; i < n; i++)
        if (ids[i] == 0 || ids[i] > 0x7fffffffu)
            abort();
    back = xmp_omemo_devicelist_xml(ns, ids, n, NULL);
    if (!back || xmp_omemo_parse_devicelist(back, &ns, &ids2, &n2, NULL) !=
                     XMP_OK ||
        n2 != n || (n && memcmp(ids, ids2, n * sizeof *ids) != 0)) {
        fprintf(stderr, "device list does not read back\n");
        abort();
    }
    xmp_node_free(back);
    free(ids);
    free(ids2);
}

static void bundle(const struct xmp_node *x)
{
    enum xmp_omemo_ns ns = xmp_omemo_ns_of(xmp_node_ns(x));
    struct xmp_omemo_rcpt r = { PEER, PEER_DEV, x, XMP_OMEMO_OK };
    struct xmp_node *out = NULL;
    enum xmp_err rc;
    char *s;

    if (!ns)
        return;
    rc = xmp_omemo_encrypt(om, ns, "fuzz", &r, 1, &out, NULL);
    if ((rc == XMP_OK) != (r.why == XMP_OMEMO_OK) || (rc == XMP_OK) != !!out)
        abort();
    if (out) {
        s = xmp_node_to_string(out, "");
        if (!s || (!strstr(s, "rid='1234'") && !strstr(s, "rid=\"1234\"")))
            abort();
        free(s);
    }
    xmp_node_free(out);
}

static void encrypted(const struct xmp_node *x)
{
    struct xmp_omemo_msg m;
    enum xmp_err rc = xmp_omemo_decrypt(om, PEER "/r", x, &m, NULL);

    if ((rc == XMP_OK) != (m.why == XMP_OMEMO_OK) ||
        (rc != XMP_OK && m.text))
        abort();
    xmp_omemo_msg_clear(&m);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char id[16], *s;
    const char *name;
    struct xmp_node *x;
    size_t idlen;

    if (!om) {
        memstore_init(&ms);
        if (xmp_omemo_new(&ms.st, "me@example.test", 0, &om, NULL) !=
            XMP_OK)
            abort();
    }
    snprintf(id, sizeof id, "%lu", (unsigned long)xmp_omemo_device_id(om));
    idlen = strlen(id);
    /* RID becomes our device id (never longer than 10 digits) */
    if (!(s = malloc(size / 3 * 10 + size + 1)))
        return 0;
    for (size_t i = 0, o = 0;; ) {
        if (i + 3 <= size && memcmp(data + i, "RID", 3) == 0) {
            memcpy(s + o, id, idlen);
            o += idlen;
            i += 3;
        } else if (i < size) {
            s[o++] = (char)data[i++];
        } else {
            s[o] = '\0';
            size = o;
            break;
        }
    }
    x = xmp_node_parse(s, size, NULL);
    free(s);
    if (!x)
        return 0;
    name = xmp_node_name(x);
    if (strcmp(name, "encrypted") == 0)
        encrypted(x);
    else if (strcmp(name, "bundle") == 0)
        bundle(x);
    else
        devicelist(x);
    xmp_node_free(x);
    /* back to the device as it was */
    memstore_drop(&ms, "session.");
    memstore_drop(&ms, "trust.");
    return 0;
}
