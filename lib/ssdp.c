/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssdp.c - XEP-0474 downgrade protection (see ssdp.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include <gsasl.h>

#include "buf.h"
#include "ssdp.h"
#include "tls.h"

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
    unsigned char h[TLS_DIGEST_MAX];
    struct buf s = BUF_INIT;
    char *b64 = NULL;
    size_t hlen;
    int sha256, rc = -1;

    if (strncmp(mech, "SCRAM-SHA-256", 13) == 0)
        sha256 = 1;
    else if (strncmp(mech, "SCRAM-SHA-1", 11) == 0)
        sha256 = 0;
    else
        return -1;
    if (add_sorted(&s, mechs ? mechs : "") < 0)
        goto done;
    if (cbs && (buf_printf(&s, "%c", SSDP_SEP_LIST) < 0 ||
                add_sorted(&s, cbs) < 0))
        goto done;
    if (!(hlen = tls_digest(sha256, s.data ? s.data : "", s.len, h)) ||
        gsasl_base64_to((const char *)h, hlen, &b64, NULL) != GSASL_OK ||
        strlen(b64) >= len)
        goto done;
    memcpy(out, b64, strlen(b64) + 1);
    rc = 0;
done:
    free(b64);
    buf_free(&s);
    return rc;
}

enum xmp_err ssdp_check(const char *mech, const char *challenge_b64,
                        const char *mechs, const char *cbs, int *checked,
                        struct xmp_error *err)
{
    char want[TLS_DIGEST_MAX * 2], *msg = NULL, *p, *save = NULL;
    char *got = NULL;
    size_t olen = 0;
    enum xmp_err r = XMP_OK;

    *checked = 0;
    if (gsasl_base64_from(challenge_b64, strlen(challenge_b64), &msg,
                          &olen) != GSASL_OK ||
        !(p = realloc(msg, olen + 1))) {
        free(msg);
        return xmp_error_set(err, XMP_EPROTO,
                             "server sent invalid base64 in SASL %s", mech);
    }
    msg = p;
    msg[olen] = '\0';
    /* RFC 5802 §7: attr-val pairs separated by ','; values hold no ',' */
    for (p = strtok_r(msg, ",", &save); p; p = strtok_r(NULL, ",", &save))
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
