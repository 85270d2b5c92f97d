/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * dns_hook.c - the XMPCTL_DNS_SERVER test hook: IPV4[:PORT] (e.g.
 * 127.0.0.1:5353) sends the SRV queries to that server instead of the
 * ones in /etc/resolv.conf, so the test suite can answer them from a fake
 * DNS server on loopback.
 *
 * Linked only into test programs (they list this file before the
 * library, whose dns_nohook.c is then never pulled in): the installed
 * program does not read the variable at all.  secure_getenv: never
 * honoured in a set-user-ID program either.  Read in the caller's
 * thread; the resolver thread gets the parsed address.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "net.h"

enum xmp_err net_dns_server_from_env(struct net_dns_server *d,
                                     struct xmp_error *err)
{
    const char *v = secure_getenv("XMPCTL_DNS_SERVER");

    memset(d, 0, sizeof *d);
    if (!v || !*v)
        return XMP_OK;
    if (net_dns_server_parse(v, d) < 0)
        return xmp_error_set(err, XMP_EUSAGE,
                             "invalid XMPCTL_DNS_SERVER value '%s': "
                             "expected IPV4:PORT",
                             v);
    return XMP_OK;
}
