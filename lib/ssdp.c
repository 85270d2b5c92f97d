/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssdp.c - XEP-0474 downgrade protection (see ssdp.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include "buf.h"
#include "ssdp.h"

/* Longest list we hash; a longer <mechanisms/> is not ours to judge. */
#define SSDP_MAX_ITEMS 64
#define SSDP_SEP_ITEM '\x1e'
#define SSDP_SEP_LIST '\x1f'

static int cmp_octets(const void *a, const void *b)
{
    /* XEP-0474 §4.1: "i;octet" collation (RFC 4790 §9.3); strcmp
     * compares as unsigned char */
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Append the space-separated words of list, sorted, joined by 0x1E. */
static int add_sorted(struct buf *b, const char *list)
{
    char *copy = strdup(list), *items[SSDP_MAX_ITEMS], *p, *save = NULL;
    size_t n = 0, i;
    int rc = 0;

    if (!copy)
        return -1;
    for (p = strtok_r(copy, " ", &save); p && n < SSDP_MAX_ITEMS;
         p = strtok_r(NULL, " ", &save))
        items[n++] = p;
    qsort(items, n, sizeof items[0], cmp_octets);
    for (i = 0; i < n && rc == 0; i++)
        if (buf_printf(b, "%s%s", i ? "\x1e" : "", items[i]) < 0)
            rc = -1;
    free(copy);
    return rc;
}

int ssdp_hash(const char *mech, const char *mechs, const char *cbs,
              char *out, size_t len)
{
    unsigned char h[MBEDTLS_MD_MAX_SIZE];
    const mbedtls_md_info_t *md;
    struct buf s = BUF_INIT;
    size_t olen;
    int rc = -1;

    if (strncmp(mech, "SCRAM-SHA-256", 13) == 0)
        md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    else if (strncmp(mech, "SCRAM-SHA-1", 11) == 0)
        md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
    else
        return -1;
    if (!md || add_sorted(&s, mechs ? mechs : "") < 0)
        goto done;
    if (cbs && (buf_printf(&s, "%c", SSDP_SEP_LIST) < 0 ||
                add_sorted(&s, cbs) < 0))
        goto done;
    if (mbedtls_md(md, (const unsigned char *)(s.data ? s.data : ""), s.len,
                   h) != 0 ||
        mbedtls_base64_encode((unsigned char *)out, len, &olen, h,
                              mbedtls_md_get_size(md)) != 0)
        goto done;
    rc = 0;
done:
    buf_free(&s);
    return rc;
}

enum xmp_err ssdp_check(const char *mech, const char *challenge_b64,
                        const char *mechs, const char *cbs, int *checked,
                        struct xmp_error *err)
{
    unsigned char *msg = NULL;
    char want[MBEDTLS_MD_MAX_SIZE * 2], *p, *save = NULL, *got = NULL;
    size_t in = strlen(challenge_b64), olen = 0;
    enum xmp_err r = XMP_OK;

    *checked = 0;
    if (!(msg = malloc(in + 1)))
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    if (mbedtls_base64_decode(msg, in, &olen,
                              (const unsigned char *)challenge_b64, in)) {
        free(msg);
        return xmp_error_set(err, XMP_EPROTO,
                             "server sent invalid base64 in SASL %s", mech);
    }
    msg[olen] = '\0';
    /* RFC 5802 §7: attr-val pairs separated by ','; values hold no ',' */
    for (p = strtok_r((char *)msg, ",", &save); p;
         p = strtok_r(NULL, ",", &save))
        if (p[0] == 'h' && p[1] == '=')
            got = p + 2;
    if (got) {
        if (ssdp_hash(mech, mechs, cbs, want, sizeof want) < 0)
            r = xmp_error_set(err, XMP_ENOMEM, "out of memory");
        else if (strcmp(got, want) != 0)
            r = xmp_error_set(err, XMP_EAUTH,
                              "the server's downgrade protection hash "
                              "(XEP-0474) does not match what it offered "
                              "(mechanisms: %s; channel bindings: %s): "
                              "someone changed the offer on the way",
                              mechs ? mechs : "", cbs ? cbs : "none listed");
        else
            *checked = 1;
    }
    explicit_bzero(msg, olen);
    free(msg);
    return r;
}
