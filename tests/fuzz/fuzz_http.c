/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_http.c - the upload client's parsers on untrusted bytes: the
 * response head an upload server sends, and (the same bytes as a string)
 * the PUT URL a slot gives.  A complete head ends inside the input, its
 * status is 200-599, its reason printable; the input cut one byte
 * before the head's end is not a complete head; a parsed
 * URL's path holds no byte a request line cannot carry.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct http_response r;
    struct http_url u;
    struct xmp_error err;
    const char *b = (const char *)data;
    char *s;
    size_t i, n;
    int rc;

    memset(&r, 0, sizeof r);
    rc = http_response_parse(b, size, &r);
    if (rc == 1) {
        if (r.headlen == 0 || r.headlen > size || r.status < 200 ||
            r.status > 599)
            abort();
        for (i = 0; r.reason[i]; i++)
            if (r.reason[i] < ' ' || r.reason[i] > '~')
                abort();
        /* one byte short of the head: not complete yet */
        n = r.headlen;
        memset(&r, 0, sizeof r);
        if (http_response_parse(b, n - 1, &r) == 1)
            abort();
    } else if (rc != 0 && rc != -1) {
        abort();
    }
    if (!(s = malloc(size + 1)))
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (http_url_parse(s, &u, &err) == XMP_OK) {
        if (!u.path || u.path[0] != '/' || !u.host[0] || u.port == 0)
            abort();
        for (i = 0; u.path[i]; i++)
            if ((unsigned char)u.path[i] <= ' ' ||
                (unsigned char)u.path[i] >= 0x7f)
                abort();
        http_url_clear(&u);
    }
    free(s);
    return 0;
}
