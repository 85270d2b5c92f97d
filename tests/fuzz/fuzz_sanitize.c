/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_sanitize.c - the terminal sanitizer (cli/output.c) on arbitrary
 * bytes, as a hostile server would send them.
 *
 * What comes out must be valid UTF-8 (checked by a decoder of its own,
 * not the library's) holding no C0 control but tab, no DEL, no C1
 * control (U+0080..U+009F), no line separator and no invisible or
 * bidirectional format character (bidi marks, embeddings, overrides and
 * isolates, zero-width space, word joiner, byte order mark, soft hyphen,
 * tag characters...; zero-width joiner and non-joiner pass): newline
 * and carriage return come out as the two characters "\n" and "\r".
 * Printable text must pass unchanged.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/cli.h"
#include "fuzz.h"

/* RFC 3629, strictly: the length of the sequence at s, 0 if invalid. */
static size_t decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    size_t n, i;
    uint32_t c, min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2, c = s[0] & 0x1f, min = 0x80;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3, c = s[0] & 0x0f, min = 0x800;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* Written apart from cli_unsafe_cp, list by list. */
static int forbidden(uint32_t c)
{
    static const uint32_t format[][2] = {
        {0x00ad, 0x00ad},   /* soft hyphen */
        {0x061c, 0x061c},   /* Arabic letter mark */
        {0x180e, 0x180e},   /* Mongolian vowel separator */
        {0x200b, 0x200b},   /* zero-width space */
        {0x200e, 0x200f},   /* left-to-right, right-to-left mark */
        {0x2028, 0x2029},   /* line, paragraph separator */
        {0x202a, 0x202e},   /* embeddings, overrides */
        {0x2060, 0x2064},   /* word joiner, invisible operators */
        {0x2066, 0x2069},   /* isolates */
        {0x206a, 0x206f},   /* deprecated format characters */
        {0xfeff, 0xfeff},   /* byte order mark */
        {0xfff9, 0xfffb},   /* interlinear annotation */
        {0x13430, 0x1343f}, /* Egyptian hieroglyph format controls */
        {0x1bca0, 0x1bca3}, /* shorthand format controls */
        {0x1d173, 0x1d17a}, /* musical symbol format controls */
        {0xe0000, 0xe007f}, /* the tags block: language tag, tag
                               characters and the unassigned between */
    };
    size_t i;

    if ((c < 0x20 && c != '\t') || c == 0x7f || (c >= 0x80 && c <= 0x9f))
        return 1;
    for (i = 0; i < sizeof format / sizeof format[0]; i++)
        if (c >= format[i][0] && c <= format[i][1])
            return 1;
    return 0;
}

static void fail(const char *why, const unsigned char *in, size_t inlen,
                 size_t at)
{
    size_t i;

    fprintf(stderr, "%s at output byte %zu; input:", why, at);
    for (i = 0; i < inlen; i++)
        fprintf(stderr, " %02x", in[i]);
    fputc('\n', stderr);
    abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *out = NULL;
    size_t outlen = 0, i, n;
    uint32_t cp;
    int printable = 1;
    FILE *f = open_memstream(&out, &outlen);

    if (!f)
        return 0;
    cli_print_sanitized(f, (const char *)data, size);
    fclose(f);
    for (i = 0; i < outlen; i += n) {
        if (!(n = decode((const unsigned char *)out + i, outlen - i, &cp)))
            fail("invalid UTF-8", data, size, i);
        if (forbidden(cp))
            fail("control character", data, size, i);
    }
    /* Text that needs no escaping, and no backslash (which escapes
     * introduce), must come out as it went in. */
    for (i = 0; i < size && printable; i += n) {
        if (!(n = decode(data + i, size - i, &cp)) || forbidden(cp) ||
            cp == '\n' || cp == '\r' || cp == '\\')
            printable = 0;
    }
    if (printable && (outlen != size || memcmp(out, data, size) != 0))
        fail("printable text changed", data, size, 0);
    free(out);
    return 0;
}
