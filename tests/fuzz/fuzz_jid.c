/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_jid.c - the JID parser on untrusted bytes.  A JID that parses must
 * have a bare form that parses to the same local and domain parts.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "xmp.h"

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct xmp_jid j, b;
    struct xmp_error err;
    char *s, *bare;

    if (!(s = malloc(size + 1)))
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (xmp_jid_parse(s, &j, &err) == XMP_OK) {
        if (!(bare = xmp_jid_bare(&j)))
            abort();
        if (xmp_jid_parse(bare, &b, &err) != XMP_OK ||
            !same(b.local, j.local) || !same(b.domain, j.domain) ||
            b.resource) {
            fprintf(stderr, "bare JID '%s' of '%s' does not read back\n",
                    bare, s);
            abort();
        }
        xmp_jid_clear(&b);
        free(bare);
        xmp_jid_clear(&j);
    }
    free(s);
    return 0;
}
