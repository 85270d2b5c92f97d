/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * utf8.h - the one strict UTF-8 decoder (RFC 3629) and the XML 1.0
 * character classes every layer checks text against.  Private.
 */
#ifndef XMP_UTF8_H
#define XMP_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "xmp.h"

enum utf8_status {
    U8_OK,
    U8_BAD,       /* stray continuation byte, bad lead or continuation */
    U8_TRUNCATED, /* the input ends inside a sequence */
    U8_OVERLONG,
    U8_SURROGATE,
    U8_RANGE      /* beyond U+10FFFF */
};

/* Decode the sequence at s[0..len), len > 0, strictly: *cp gets the code
 * point and *n its length on U8_OK; on anything else *n is untouched and
 * *cp holds what was decoded so far (for messages). */
enum utf8_status utf8_next(const unsigned char *s, size_t len, uint32_t *cp,
                           size_t *n);

/* Describe a decoding failure at byte offset 'at' as XMP_EDATA. */
enum xmp_err utf8_error(struct xmp_error *err, enum utf8_status st,
                        size_t at, uint32_t cp);

/* XML 1.0 §2.2 production [2] Char. */
int utf8_xml_char(uint32_t c);

#endif
