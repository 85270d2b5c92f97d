/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * omemo_xc.c - one OMEMO device of lib/omemo.c driven from the command
 * line, its state kept in one file (memstore.h), XML in and out through
 * files: our side of t0029-omemo-interop.sh, where omemo_peer.py is the
 * other.  NS is old (eu.siacs.conversations.axolotl) or two
 * (urn:xmpp:omemo:2).
 *
 *   omemo_xc STATE JID NS bundle OUT.xml
 *       write our bundle; print our device id
 *   omemo_xc STATE JID NS devices OUT.xml
 *       write a device list naming our device
 *   omemo_xc STATE JID NS encrypt PEERJID PEERDEV BUNDLE.xml|- TEXT OUT.xml
 *       write the <encrypted/> of TEXT for the peer's device (its bundle
 *       when we have no session yet; "-": none)
 *   omemo_xc STATE JID NS decrypt FROMJID IN.xml
 *       decrypt; print DEVICE, TRUST and TEXT, tab-separated, or
 *       "key-transport"; exit 1 with the reason when refused
 *   omemo_xc STATE JID NS fingerprint
 *   omemo_xc STATE JID NS trust PEERJID PEERDEV
 *       print the trust and the fingerprint of the peer's device
 *
 * Exit status 0, 1 for a refusal, 2 for a usage or I/O error.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memstore.h"
#include "xmp.h"

static struct xmp_node *read_xml(const char *path)
{
    FILE *f = fopen(path, "rb");
    char buf[1 << 16];
    size_t n;
    struct xmp_node *x;
    struct xmp_error err;

    if (!f) {
        fprintf(stderr, "omemo_xc: cannot open %s\n", path);
        return NULL;
    }
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (!(x = xmp_node_parse(buf, n, &err)))
        fprintf(stderr, "omemo_xc: %s: %s\n", path, err.msg);
    return x;
}

static int write_xml(const char *path, const struct xmp_node *x)
{
    char *s = xmp_node_to_string(x, "");
    FILE *f = fopen(path, "wb");
    int ok = s && f && fputs(s, f) >= 0;

    if (f && fclose(f) != 0)
        ok = 0;
    free(s);
    if (!ok)
        fprintf(stderr, "omemo_xc: cannot write %s\n", path);
    return ok ? 0 : -1;
}

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    if (!*s || *end || v == 0 || v > 0x7fffffffUL)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    struct memstore ms;
    struct xmp_omemo *om = NULL;
    struct xmp_error err;
    struct xmp_node *x = NULL, *in = NULL;
    enum xmp_omemo_ns ns;
    const char *state, *cmd;
    int rc = 2;

    if (argc < 5) {
        fprintf(stderr, "usage: omemo_xc STATE JID old|two COMMAND ...\n");
        return 2;
    }
    state = argv[1];
    ns = strcmp(argv[3], "two") == 0 ? XMP_OMEMO_V2 : XMP_OMEMO_AXOLOTL;
    cmd = argv[4];
    memstore_init(&ms);
    if (memstore_load(&ms, state) < 0) {
        fprintf(stderr, "omemo_xc: cannot read %s\n", state);
        goto out;
    }
    if (xmp_omemo_new(&ms.st, argv[2], 0, &om, &err) != XMP_OK) {
        fprintf(stderr, "omemo_xc: %s\n", err.msg);
        goto out;
    }
    if (strcmp(cmd, "bundle") == 0 && argc == 6) {
        if (!(x = xmp_omemo_bundle_xml(om, ns, &err))) {
            fprintf(stderr, "omemo_xc: %s\n", err.msg);
            goto out;
        }
        if (write_xml(argv[5], x) < 0)
            goto out;
        printf("%lu\n", (unsigned long)xmp_omemo_device_id(om));
        rc = 0;
    } else if (strcmp(cmd, "devices") == 0 && argc == 6) {
        uint32_t id = xmp_omemo_device_id(om);
        if (!(x = xmp_omemo_devicelist_xml(ns, &id, 1, &err)) ||
            write_xml(argv[5], x) < 0)
            goto out;
        rc = 0;
    } else if (strcmp(cmd, "fingerprint") == 0 && argc == 5) {
        char f[XMP_OMEMO_FPR_MAX];
        xmp_omemo_fingerprint(om, f);
        printf("%s\n", f);
        rc = 0;
    } else if (strcmp(cmd, "trust") == 0 && argc == 7) {
        char f[XMP_OMEMO_FPR_MAX];
        enum xmp_omemo_trust t;
        uint32_t dev;
        if (parse_u32(argv[6], &dev) < 0 ||
            xmp_omemo_device_trust(om, argv[5], dev, &t, f, &err) !=
                XMP_OK) {
            fprintf(stderr, "omemo_xc: %s\n", err.msg);
            rc = 1;
            goto out;
        }
        printf("%s\t%s\n", xmp_omemo_trust_name(t), f);
        rc = 0;
    } else if (strcmp(cmd, "encrypt") == 0 && argc == 10) {
        struct xmp_omemo_rcpt r = { argv[5], 0, NULL, XMP_OMEMO_OK };
        if (parse_u32(argv[6], &r.device) < 0) {
            fprintf(stderr, "omemo_xc: bad device id %s\n", argv[6]);
            goto out;
        }
        if (strcmp(argv[7], "-") != 0 && !(in = read_xml(argv[7])))
            goto out;
        r.bundle = in;
        if (xmp_omemo_encrypt(om, ns, argv[8], &r, 1, &x, &err) != XMP_OK) {
            fprintf(stderr, "omemo_xc: %s\n", err.msg);
            rc = err.code == XMP_EDATA ? 1 : 2;
            goto out;
        }
        if (write_xml(argv[9], x) < 0)
            goto out;
        rc = 0;
    } else if (strcmp(cmd, "decrypt") == 0 && argc == 7) {
        struct xmp_omemo_msg m;
        if (!(in = read_xml(argv[6])))
            goto out;
        if (xmp_omemo_decrypt(om, argv[5], in, &m, &err) != XMP_OK) {
            fprintf(stderr, "omemo_xc: %s\n", err.msg);
            printf("refused\t%s\n", xmp_omemo_why_name(m.why));
            rc = err.code == XMP_EDATA ? 1 : 2;
            xmp_omemo_msg_clear(&m);
            goto out;
        }
        if (m.text)
            printf("%lu\t%s\t%s\n", (unsigned long)m.device,
                   xmp_omemo_trust_name(m.trust), m.text);
        else
            printf("key-transport\n");
        if (m.republish)
            fprintf(stderr, "omemo_xc: a pre-key was used: republish\n");
        xmp_omemo_msg_clear(&m);
        rc = 0;
    } else {
        fprintf(stderr, "omemo_xc: bad command %s\n", cmd);
        goto out;
    }
out:
    if (om && memstore_save(&ms, state) < 0) {
        fprintf(stderr, "omemo_xc: cannot write %s\n", state);
        rc = 2;
    }
    xmp_node_free(x);
    xmp_node_free(in);
    xmp_omemo_free(om);
    memstore_free(&ms);
    return rc;
}
