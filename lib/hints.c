/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hints.c - the hints blob (hints.h):
 *
 *     xmpctl-hints 2
 *     domain example.org
 *     trust -
 *     anchors HEX
 *     context -
 *     pin sha256//BASE64
 *     saved 1767225600
 *     expires 1798761600
 *     mechs SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN
 *     cb tls-unique tls-exporter
 *     sasl2 SCRAM-SHA-256-PLUS SCRAM-SHA-256
 *     fast HT-SHA-256-EXPR HT-SHA-256-UNIQ
 *     bind2 urn:xmpp:sm:3 urn:xmpp:carbons:2
 *     sasl2-sm
 *     tls HEX
 *     tls-bound
 *
 * Unknown keys are skipped, so that a newer writer does not cost an
 * older reader more than what it cannot use.  Version 1 also held the
 * SCRAM key derived from the password and wrote TLS 1.2 sessions to disk:
 * it is not read (hints_decode fails), and the caller deletes such files.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hints.h"

#define HINTS_MAGIC "xmpctl-hints 2"
/* a blob bigger than this is not ours */
#define HINTS_MAX (64 * 1024)

void hints_clear(struct hints *h)
{
    free(h->domain);
    free(h->trust);
    free(h->anchors);
    free(h->context);
    free(h->pin);
    free(h->mechs);
    free(h->cb);
    free(h->sasl2);
    free(h->fast);
    free(h->bind2);
    if (h->tls)
        explicit_bzero(h->tls, h->tls_len);
    free(h->tls);
    memset(h, 0, sizeof *h);
}

/* What a value may hold: printable ASCII, no line break; a word (no
 * space) unless spaced. */
static int clean(const char *v, int spaced)
{
    for (; *v; v++)
        if (*v < 0x21 || *v > 0x7e)
            if (!(spaced && *v == ' '))
                return 0;
    return 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int unhex(const char *v, unsigned char **out, size_t *len)
{
    size_t n = strlen(v), i;
    unsigned char *b;

    if (!n || n % 2 || !(b = malloc(n / 2)))
        return -1;
    for (i = 0; i < n / 2; i++) {
        int hi = hexval((unsigned char)v[2 * i]),
            lo = hexval((unsigned char)v[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            free(b);
            return -1;
        }
        b[i] = (unsigned char)(hi << 4 | lo);
    }
    *out = b;
    *len = n / 2;
    return 0;
}

static int set(char **field, const char *v, int spaced)
{
    if (*field || !clean(v, spaced))
        return -1; /* twice, or not what we write */
    return (*field = strdup(v)) ? 0 : -1;
}

/* A time: seconds since 1970. */
static int set_time(int64_t *field, const char *v)
{
    char *end;
    long long t;

    errno = 0;
    t = strtoll(v, &end, 10);
    if (errno || end == v || *end || t < 0)
        return -1;
    *field = t;
    return 0;
}

static int line(struct hints *h, char *l)
{
    char *v = strchr(l, ' ');

    if (v)
        *v++ = '\0';
    else
        v = l + strlen(l);
    if (strcmp(l, "domain") == 0)
        return set(&h->domain, v, 0);
    if (strcmp(l, "trust") == 0)
        return set(&h->trust, v, 0);
    if (strcmp(l, "anchors") == 0)
        return set(&h->anchors, v, 0);
    if (strcmp(l, "context") == 0)
        return set(&h->context, v, 0);
    if (strcmp(l, "pin") == 0)
        return set(&h->pin, v, 0);
    if (strcmp(l, "mechs") == 0)
        return set(&h->mechs, v, 1);
    if (strcmp(l, "cb") == 0)
        return set(&h->cb, v, 1);
    if (strcmp(l, "sasl2") == 0)
        return set(&h->sasl2, v, 1);
    if (strcmp(l, "fast") == 0)
        return set(&h->fast, v, 1);
    if (strcmp(l, "bind2") == 0)
        return set(&h->bind2, v, 1);
    if (strcmp(l, "saved") == 0)
        return set_time(&h->saved, v);
    if (strcmp(l, "expires") == 0)
        return set_time(&h->expires, v);
    if (strcmp(l, "sasl2-sm") == 0) {
        h->sasl2_sm = 1;
        return 0;
    }
    if (strcmp(l, "tls-bound") == 0) {
        h->tls_bound = 1;
        return 0;
    }
    if (strcmp(l, "tls") == 0)
        return h->tls ? -1 : unhex(v, &h->tls, &h->tls_len);
    return 0;
}

int hints_decode(const void *blob, size_t len, struct hints *h)
{
    char *copy, *l, *next;
    size_t m = strlen(HINTS_MAGIC);
    int rc = 0;

    memset(h, 0, sizeof *h);
    if (!blob || len <= m || len > HINTS_MAX ||
        memcmp(blob, HINTS_MAGIC "\n", m + 1) != 0 ||
        memchr(blob, '\0', len))
        return -1;
    if (!(copy = malloc(len + 1)))
        return -1;
    memcpy(copy, blob, len);
    copy[len] = '\0';
    for (l = copy + m + 1; *l && rc == 0; l = next) {
        if (!(next = strchr(l, '\n'))) {
            rc = -1; /* cut off */
            break;
        }
        *next++ = '\0';
        rc = line(h, l);
    }
    explicit_bzero(copy, len);
    free(copy);
    if (rc == 0 && (!h->domain || !h->trust || !h->anchors || !h->context ||
                    !h->pin || !h->saved || !h->expires))
        rc = -1;
    if (rc != 0)
        hints_clear(h);
    return rc;
}

static int put(struct buf *b, const char *key, const char *v, int spaced)
{
    if (!v)
        return 0;
    if (!clean(v, spaced))
        return -1;
    return buf_printf(b, "%s %s\n", key, v) < 0 ? -1 : 0;
}

int hints_encode(const struct hints *h, struct buf *b)
{
    size_t i;

    if (buf_printf(b, HINTS_MAGIC "\n") < 0 ||
        put(b, "domain", h->domain, 0) || put(b, "trust", h->trust, 0) ||
        put(b, "anchors", h->anchors, 0) ||
        put(b, "context", h->context, 0) || put(b, "pin", h->pin, 0) ||
        buf_printf(b, "saved %lld\n", (long long)h->saved) < 0 ||
        buf_printf(b, "expires %lld\n", (long long)h->expires) < 0 ||
        put(b, "mechs", h->mechs, 1) || put(b, "cb", h->cb, 1) ||
        put(b, "sasl2", h->sasl2, 1) || put(b, "fast", h->fast, 1) ||
        put(b, "bind2", h->bind2, 1) ||
        (h->sasl2_sm && buf_puts(b, "sasl2-sm\n") < 0))
        return -1;
    if (h->tls) {
        if (buf_puts(b, "tls ") < 0)
            return -1;
        for (i = 0; i < h->tls_len; i++)
            if (buf_printf(b, "%02x", h->tls[i]) < 0)
                return -1;
        if (buf_puts(b, "\n") < 0 ||
            (h->tls_bound && buf_puts(b, "tls-bound\n") < 0))
            return -1;
    }
    return 0;
}
