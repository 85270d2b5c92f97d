/* SPDX-License-Identifier: GPL-3.0-or-later */
/* utf8.c - strict UTF-8 decoding and XML 1.0 character checks. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <inttypes.h>

#include "utf8.h"

enum utf8_status utf8_next(const unsigned char *s, size_t len, uint32_t *cp,
                           size_t *n)
{
    static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
    unsigned char c = s[0];
    size_t i, need;
    uint32_t v;

    *cp = 0;
    if (c < 0x80) {
        *cp = c;
        *n = 1;
        return U8_OK;
    }
    if (c < 0xC0)
        return U8_BAD;
    if (c < 0xE0) {
        need = 2;
        v = c & 0x1F;
    } else if (c < 0xF0) {
        need = 3;
        v = c & 0x0F;
    } else if (c < 0xF8) {
        need = 4;
        v = c & 0x07;
    } else {
        return U8_BAD;
    }
    for (i = 1; i < need; i++) {
        if (i >= len)
            return U8_TRUNCATED;
        if ((s[i] & 0xC0) != 0x80)
            return U8_BAD;
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    if (v < min_cp[need])
        return U8_OVERLONG;
    if (v >= 0xD800 && v <= 0xDFFF)
        return U8_SURROGATE;
    if (v > 0x10FFFF)
        return U8_RANGE;
    *n = need;
    return U8_OK;
}

enum xmp_err utf8_error(struct xmp_error *err, enum utf8_status st,
                        size_t at, uint32_t cp)
{
    switch (st) {
    case U8_TRUNCATED:
        return xmp_error_set(err, XMP_EDATA,
                             "invalid UTF-8 at byte %zu (truncated sequence)",
                             at);
    case U8_OVERLONG:
        return xmp_error_set(err, XMP_EDATA,
                             "invalid UTF-8 at byte %zu (overlong form)", at);
    case U8_SURROGATE:
        return xmp_error_set(err, XMP_EDATA,
                             "invalid UTF-8 at byte %zu (surrogate U+%04"
                             PRIX32 ")", at, cp);
    case U8_RANGE:
        return xmp_error_set(err, XMP_EDATA,
                             "invalid UTF-8 at byte %zu (beyond U+10FFFF)", at);
    default:
        return xmp_error_set(err, XMP_EDATA, "invalid UTF-8 at byte %zu", at);
    }
}

int utf8_xml_char(uint32_t c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

size_t xmp_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
    size_t n = 0;
    uint32_t c;

    if (!s || len == 0 ||
        utf8_next((const unsigned char *)s, len, &c, &n) != U8_OK)
        return 0;
    if (cp)
        *cp = c;
    return n;
}

enum xmp_err xmp_xml_check_text(const char *s, size_t len,
                                struct xmp_error *err)
{
    const unsigned char *p = (const unsigned char *)s;
    enum utf8_status st;
    size_t i = 0, n;
    uint32_t cp;

    while (i < len) {
        if (p[i] >= 0x20 && p[i] < 0x80) {
            i++;
            continue;
        }
        st = utf8_next(p + i, len - i, &cp, &n);
        if (st != U8_OK)
            return utf8_error(err, st, i, cp);
        if (!utf8_xml_char(cp))
            return xmp_error_set(err, XMP_EDATA,
                                 "character U+%04" PRIX32
                                 " not allowed in XML at byte %zu", cp, i);
        i += n;
    }
    return XMP_OK;
}
