/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * net.h - finding and connecting to an XMPP server: DNS SRV
 * (RFC 6120 §3.2, RFC 2782, XEP-0368), A/AAAA fallback, and a
 * non-blocking connect that tries one address after another.
 */
#ifndef XMP_NET_H
#define XMP_NET_H

#include <stddef.h>
#include <stdint.h>

#include "xmp.h"

#define NET_HOST_MAX 256
#define NET_DEFAULT_PORT 5222
#define NET_MAX_TARGETS 32 /* SRV records kept per domain */

struct net_target {
    char host[NET_HOST_MAX];
    uint16_t port;
    uint16_t priority;
    uint16_t weight;
    int direct_tls; /* 1: from _xmpps-client._tcp, talk TLS at once */
    const char *found_by; /* static string: "SRV _xmpps-client._tcp",
                             "SRV _xmpp-client._tcp", "fallback", "--server" */
};

/* Random source for the weighted order; returns a value in [0, bound]. */
typedef unsigned (*net_rand_fn)(void *ud, unsigned bound);

/* Order records as RFC 2782 says: ascending priority; within a priority,
 * repeated weighted random choice (weight 0 records first in the running
 * sum, as the RFC asks).  XEP-0368: when a direct-TLS and a STARTTLS
 * record share a priority, they compete by weight alike.  rnd may be NULL
 * for the default (random) source.  Pure: unit-tested. */
void net_srv_order(struct net_target *t, size_t n, net_rand_fn rnd, void *ud);

/* Look up _xmpps-client._tcp.DOMAIN and _xmpp-client._tcp.DOMAIN
 * (res_nquery; blocks), merge and order them.  No record at all: one
 * fallback target DOMAIN:5222 (STARTTLS).  A single record with target
 * "." means the service is decidedly not offered: XMP_ENOHOST.
 * *out is malloc'd (caller frees) with *n entries. */
enum xmp_err net_resolve(const char *domain, struct net_target **out,
                         size_t *n, struct xmp_error *err);

/* Parse a --server value: HOST, HOST:PORT, [IPV6] or [IPV6]:PORT.
 * Port defaults to 5222.  found_by is "--server". */
enum xmp_err net_parse_server(const char *s, struct net_target *t,
                              struct xmp_error *err);

/*
 * Connect to the targets in order, each host's addresses in turn
 * (getaddrinfo AF_UNSPEC, IPv6 and IPv4 interleaved), each attempt a
 * non-blocking connect bounded by attempt_ms.  Event-loop use:
 *
 *   net_connector_new(&c, targets, n, attempt_ms, &err);
 *   loop: r = net_connector_step(c, &fd, &err);
 *         XMP_OK    -> fd is connected and now the caller's
 *         XMP_AGAIN -> poll net_connector_fd(c) for POLLOUT until
 *                      net_connector_deadline(c), then step again
 *         else      -> every address failed; err names the last failure
 */
struct net_connector;

enum xmp_err net_connector_new(struct net_connector **out,
                               const struct net_target *targets, size_t n,
                               int attempt_ms, struct xmp_error *err);
enum xmp_err net_connector_step(struct net_connector *c, int *fd,
                                struct xmp_error *err);
int net_connector_fd(const struct net_connector *c);
int64_t net_connector_deadline(const struct net_connector *c);
/* After XMP_OK: the target that answered, and its numeric address
 * ("127.0.0.1:5222", "[::1]:5222"). */
const struct net_target *net_connector_target(const struct net_connector *c);
const char *net_connector_address(const struct net_connector *c);
void net_connector_free(struct net_connector *c);

#endif
