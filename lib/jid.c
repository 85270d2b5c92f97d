/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * jid.c - JIDs (RFC 7622).
 *
 * Without a PRECIS library we apply the structural rules and the
 * characters RFC 7622 forbids outright; the server applies the full
 * profiles.  That is enough to refuse what would break a stanza or be
 * certain to bounce, which is what a command line needs.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "utf8.h"
#include "xmp.h"

/* RFC 7622 §3.1: each part is 1 to 1023 octets. */
#define JID_PART_MAX 1023

static int is_space_or_control(uint32_t c)
{
    return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x20 ||
           c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
           c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
           c == 0x3000 || c == 0xfeff;
}

/* Unicode's 66 noncharacters: U+FDD0..U+FDEF and the last two code
 * points of every plane.  RFC 8264 disallows them in both PRECIS classes
 * (PrecisIgnorableProperties), so no server accepts them in a JID. */
static int is_noncharacter(uint32_t c)
{
    return (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe;
}

/* kind: 'l' localpart, 'd' domainpart, 'r' resourcepart */
static enum xmp_err check_part(const char *s, size_t n, int kind,
                               const char *whole, struct xmp_error *err)
{
    static const char *names[] = {"localpart", "domainpart", "resourcepart"};
    const char *name = names[kind == 'l' ? 0 : kind == 'd' ? 1 : 2];
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, len;
    uint32_t c;

    if (n == 0)
        return xmp_error_set(err, XMP_EDATA, "invalid JID '%s': empty %s",
                             whole, name);
    if (n > JID_PART_MAX)
        return xmp_error_set(err, XMP_EDATA,
                             "invalid JID: %s longer than %d bytes", name,
                             JID_PART_MAX);
    while (i < n) {
        if (utf8_next(p + i, n - i, &c, &len) != U8_OK)
            return xmp_error_set(err, XMP_EDATA,
                                 "invalid JID: %s is not valid UTF-8", name);
        /* It must fit in a stanza: a JID is an attribute value. */
        if (!utf8_xml_char(c))
            return xmp_error_set(err, XMP_EDATA,
                                 "invalid JID: %s holds U+%04" PRIX32
                                 ", which XML does not allow",
                                 name, c);
        if (is_noncharacter(c))
            return xmp_error_set(err, XMP_EDATA,
                                 "invalid JID: %s holds U+%04" PRIX32
                                 ", a Unicode noncharacter",
                                 name, c);
        /* Controls never; spaces only in the resource (OpaqueString). */
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ||
            (kind != 'r' && is_space_or_control(c)))
            return xmp_error_set(err, XMP_EDATA,
                                 "invalid JID '%s': %s holds a space or "
                                 "control character",
                                 whole, name);
        /* RFC 7622 §3.3.1: these are never allowed in a localpart. */
        if (kind == 'l' && c < 0x80 && strchr("\"&'/:<>@", (int)c))
            return xmp_error_set(err, XMP_EDATA,
                                 "invalid JID '%s': '%c' not allowed in the "
                                 "localpart",
                                 whole, (int)c);
        if (kind == 'd' && c < 0x80 && strchr("\"&'/:<>@\\,;", (int)c) &&
            !(c == ':' && s[0] == '['))
            return xmp_error_set(err, XMP_EDATA,
                                 "invalid JID '%s': '%c' not allowed in the "
                                 "domainpart",
                                 whole, (int)c);
        i += len;
    }
    return XMP_OK;
}

static enum xmp_err check_domain(char *d, const char *whole,
                                 struct xmp_error *err)
{
    size_t n = strlen(d), label = 0, i;
    enum xmp_err r;

    /* RFC 7622 §3.2: a trailing dot is stripped before comparison. */
    if (n > 1 && d[n - 1] == '.')
        d[--n] = '\0';
    if ((r = check_part(d, n, 'd', whole, err)) != XMP_OK)
        return r;
    if (d[0] == '[') {
        /* IPv6 literal (RFC 3986 IP-literal). */
        if (d[n - 1] != ']' || n < 4 ||
            strspn(d + 1, "0123456789abcdefABCDEF:.") != n - 2)
            return xmp_error_set(err, XMP_EDATA,
                                 "invalid JID '%s': bad IPv6 literal", whole);
        return XMP_OK;
    }
    for (i = 0; i <= n; i++) {
        if (i == n || d[i] == '.') {
            if (label == 0 || label > 63)
                return xmp_error_set(err, XMP_EDATA,
                                     "invalid JID '%s': bad domain label",
                                     whole);
            if (d[i - 1] == '-' || d[i - label] == '-')
                return xmp_error_set(err, XMP_EDATA,
                                     "invalid JID '%s': domain label starts "
                                     "or ends with '-'",
                                     whole);
            label = 0;
            continue;
        }
        label++;
        if (d[i] >= 'A' && d[i] <= 'Z')
            d[i] = (char)(d[i] - 'A' + 'a');
        else if ((unsigned char)d[i] < 0x80 && d[i] != '-' &&
                 !(d[i] >= 'a' && d[i] <= 'z') && !(d[i] >= '0' && d[i] <= '9'))
            return xmp_error_set(err, XMP_EDATA,
                                 "invalid JID '%s': '%c' not allowed in a "
                                 "domain name",
                                 whole, d[i]);
    }
    return XMP_OK;
}

enum xmp_err xmp_jid_parse(const char *s, struct xmp_jid *jid,
                           struct xmp_error *err)
{
    const char *slash, *at, *dstart;
    enum xmp_err r;
    struct xmp_jid j = {NULL, NULL, NULL};

    if (!s || !*s)
        return xmp_error_set(err, XMP_EDATA, "invalid JID: empty");
    /* RFC 7622 §3.1: the resource starts at the first '/', the localpart
     * ends at the first '@' before it. */
    slash = strchr(s, '/');
    at = memchr(s, '@', slash ? (size_t)(slash - s) : strlen(s));
    dstart = at ? at + 1 : s;
    if (at) {
        if ((r = check_part(s, (size_t)(at - s), 'l', s, err)) != XMP_OK)
            return r;
        if (!(j.local = strndup(s, (size_t)(at - s))))
            goto nomem;
    }
    j.domain = strndup(dstart, slash ? (size_t)(slash - dstart)
                                     : strlen(dstart));
    if (!j.domain)
        goto nomem;
    if ((r = check_domain(j.domain, s, err)) != XMP_OK) {
        xmp_jid_clear(&j);
        return r;
    }
    if (slash) {
        if ((r = check_part(slash + 1, strlen(slash + 1), 'r', s, err)) !=
            XMP_OK) {
            xmp_jid_clear(&j);
            return r;
        }
        if (!(j.resource = strdup(slash + 1)))
            goto nomem;
    }
    *jid = j;
    return XMP_OK;
nomem:
    xmp_jid_clear(&j);
    return xmp_error_set(err, XMP_ENOMEM, "out of memory");
}

void xmp_jid_clear(struct xmp_jid *jid)
{
    free(jid->local);
    free(jid->domain);
    free(jid->resource);
    jid->local = jid->domain = jid->resource = NULL;
}

char *xmp_jid_bare(const struct xmp_jid *jid)
{
    size_t n;
    char *b;

    if (!jid->local)
        return strdup(jid->domain);
    n = strlen(jid->local) + strlen(jid->domain) + 2;
    if (!(b = malloc(n)))
        return NULL;
    snprintf(b, n, "%s@%s", jid->local, jid->domain);
    return b;
}

/* Parts compare as RFC 7622 profiles would for ASCII: localpart and
 * domainpart without regard to case (the domain is already lower case
 * after xmp_jid_parse), the resource exactly. */
static int part_eq(const char *a, const char *b, int fold)
{
    if (!a || !b)
        return a == b;
    return fold ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

int xmp_jid_equal(const struct xmp_jid *a, const struct xmp_jid *b)
{
    return part_eq(a->local, b->local, 1) &&
           part_eq(a->domain, b->domain, 1) &&
           part_eq(a->resource, b->resource, 0);
}

int xmp_jid_match(const struct xmp_jid *pattern, const struct xmp_jid *jid)
{
    if (!part_eq(pattern->local, jid->local, 1) ||
        !part_eq(pattern->domain, jid->domain, 1))
        return 0;
    return !pattern->resource || part_eq(pattern->resource, jid->resource, 0);
}
