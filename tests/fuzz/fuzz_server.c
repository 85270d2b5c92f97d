/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_server.c - the --server value (HOST, HOST:PORT, [IPV6],
 * [IPV6]:PORT) on arbitrary bytes.
 *
 * A value that parses names a non-empty host without blanks, control
 * characters, brackets or '/', and a port that is not 0; written back in
 * the canonical form it parses to the same target.  An address literal
 * must give its address without asking DNS.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "net.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct net_target t, again;
    struct net_addr *a = NULL;
    struct xmp_error err;
    char *s, back[NET_HOST_MAX + 16];
    size_t i, n;
    enum xmp_err r;

    if (!(s = malloc(size + 1)))
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (net_parse_server(s, &t, &err) != XMP_OK) {
        /* the message names the value and says what is wrong */
        if (!err.msg[0] || err.code != XMP_EUSAGE ||
            strncmp(err.msg, "invalid --server value '", 24) != 0)
            abort();
        free(s);
        return 0;
    }
    if (!t.host[0] || t.port == 0 || !t.found_by ||
        strcmp(t.found_by, "--server") != 0 || t.direct_tls)
        abort();
    for (i = 0; t.host[i]; i++) {
        unsigned char c = (unsigned char)t.host[i];

        if (c <= ' ' || c == 0x7f || c == '[' || c == ']' || c == '/')
            abort();
    }
    snprintf(back, sizeof back, strchr(t.host, ':') ? "[%s]:%u" : "%s:%u",
             t.host, (unsigned)t.port);
    if (net_parse_server(back, &again, &err) != XMP_OK ||
        strcmp(again.host, t.host) != 0 || again.port != t.port) {
        fprintf(stderr, "'%s' parsed to '%s', which does not read back\n", s,
                back);
        abort();
    }
    /* numeric only: never blocks on DNS */
    r = net_addresses(&t, 1, &a, &n, &err);
    if (r == XMP_OK && (!a || n == 0))
        abort();
    if (strchr(t.host, ':') && !strchr(t.host, '%') && r != XMP_OK) {
        fprintf(stderr, "IPv6 literal '%s' has no address: %s\n", t.host,
                err.msg);
        abort();
    }
    free(a);
    free(s);
    return 0;
}
