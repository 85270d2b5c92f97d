/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_srv.c - the SRV lookup on untrusted DNS answers.
 *
 * res_nquery is replaced (this program's definition wins over the C
 * library's) by one that answers from the input, so the whole of
 * net_srv_lookup runs on hostile replies without any network: the
 * parser, the choice between records, "." and the fallback, and the
 * ordering.
 *
 * Input: for each of the two queries (_xmpps-client._tcp first, then
 * _xmpp-client._tcp) a control byte and, for an answer, a 16-bit
 * big-endian length and that many bytes of DNS message.
 *   control % 4 == 0: an answer; 1: NXDOMAIN; 2: SERVFAIL (TRY_AGAIN);
 *   3: the answer, claiming to be longer than our buffer (truncated).
 *
 * What comes out must be sane: at least one target, none with port 0 or
 * an empty or unterminated host name, at most NET_MAX_TARGETS, sorted by
 * priority, each found by what it says.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "net.h"

static const unsigned char *in;
static size_t in_left;

int res_nquery(res_state rs, const char *dname, int class, int type,
               unsigned char *answer, int anslen)
{
    unsigned ctl;
    size_t len;

    (void)dname; (void)class; (void)type;
    if (in_left < 1) {
        rs->res_h_errno = HOST_NOT_FOUND;
        return -1;
    }
    ctl = in[0] % 4;
    in++;
    in_left--;
    if (ctl == 1 || ctl == 2) {
        rs->res_h_errno = ctl == 1 ? HOST_NOT_FOUND : TRY_AGAIN;
        return -1;
    }
    len = 0;
    if (in_left >= 2) {
        len = (size_t)in[0] << 8 | in[1];
        in += 2;
        in_left -= 2;
    }
    if (len > in_left)
        len = in_left;
    if (len > (size_t)anslen)
        len = (size_t)anslen;
    memcpy(answer, in, len);
    in += len;
    in_left -= len;
    if (ctl == 3) {
        /* glibc reports the full length of a reply it truncated */
        memset(answer + len, 0, (size_t)anslen - len);
        return anslen + 100;
    }
    return (int)len;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct net_target *t = NULL;
    struct net_dns_server dns;
    struct xmp_error err;
    size_t n = 0, i;

    in = data;
    in_left = size;
    memset(&dns, 0, sizeof dns);
    if (net_srv_lookup("example.org", &dns, NULL, NULL, &t, &n, &err) !=
        XMP_OK) {
        if (t || n || !err.msg[0])
            abort();
        return 0;
    }
    if (!t || n == 0 || n > NET_MAX_TARGETS)
        abort();
    for (i = 0; i < n; i++) {
        size_t hl = strnlen(t[i].host, sizeof t[i].host);

        if (hl == 0 || hl == sizeof t[i].host || t[i].port == 0 ||
            !t[i].found_by)
            abort();
        if (i > 0 && t[i].priority < t[i - 1].priority)
            abort();
        if (strcmp(t[i].found_by, "fallback") == 0 &&
            (n != 1 || strcmp(t[i].host, "example.org") != 0 ||
             t[i].port != NET_DEFAULT_PORT || t[i].direct_tls))
            abort();
        if (strcmp(t[i].found_by, "SRV _xmpps-client._tcp") == 0 &&
            !t[i].direct_tls)
            abort();
        if (strcmp(t[i].found_by, "SRV _xmpp-client._tcp") == 0 &&
            t[i].direct_tls)
            abort();
    }
    free(t);
    return 0;
}
