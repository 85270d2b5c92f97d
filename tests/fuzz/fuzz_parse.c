/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_parse.c - the parser for XML from callers (what raw reads) on
 * untrusted bytes.
 *
 * The input is fed in chunks whose size its first byte chooses.  Every
 * element delivered must serialize, both ways (as it is and on one
 * line), and each serialization must parse back, alone, to the same
 * serialization: what the writer produces the reader accepts, and the
 * one-line form holds no line break.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "xmp.h"

static void same_after_reparse(const char *xml, const char *want)
{
    struct xmp_error err;
    struct xmp_node *n = xmp_node_parse(xml, strlen(xml), &err);
    char *again;

    if (!n) {
        fprintf(stderr, "serialization does not parse back: %s\n%s\n",
                err.msg, xml);
        abort();
    }
    again = xmp_node_to_string(n, "jabber:client");
    if (!again || strcmp(again, want) != 0) {
        fprintf(stderr, "round trip changed the tree:\n%s\n%s\n", want,
                again ? again : "(nothing)");
        abort();
    }
    free(again);
    xmp_node_free(n);
}

static enum xmp_err on_element(void *ud, struct xmp_node *el)
{
    char *s = xmp_node_to_string(el, "jabber:client");
    char *line = xmp_node_to_line(el, "jabber:client");

    (void)ud;
    if (!s || !line)
        abort();
    if (strchr(line, '\n')) {
        fprintf(stderr, "a line break in the one-line form:\n%s\n", line);
        abort();
    }
    same_after_reparse(s, s);
    same_after_reparse(line, s);
    free(s);
    free(line);
    xmp_node_free(el);
    return XMP_OK;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct xmp_parser *p;
    struct xmp_error err;
    size_t off = 0, step;

    if (size < 1)
        return 0;
    step = (size_t)(data[0] % 32) + 1;
    data++;
    size--;
    if (!(p = xmp_parser_new(on_element, NULL)))
        return 0;
    while (off < size) {
        size_t n = size - off < step ? size - off : step;

        if (xmp_parser_feed(p, (const char *)data + off, n, &err) != XMP_OK)
            break;
        off += n;
    }
    if (off == size)
        xmp_parser_end(p, &err);
    xmp_parser_free(p);
    return 0;
}
