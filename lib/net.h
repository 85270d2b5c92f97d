/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * net.h - finding and connecting to an XMPP server: DNS SRV
 * (RFC 6120 §3.2, RFC 2782, XEP-0368), A/AAAA fallback, and staggered
 * non-blocking connects (RFC 8305) under one deadline.
 *
 *   net.c       SRV lookup and ordering, each host's addresses, --server
 *               (the lookups block: they run on the resolver thread)
 *   resolver.c  the resolver thread (resolver.h, private to this layer)
 *   connect.c   the connector the session drives from its step function
 *   proxy.c     SOCKS5 and HTTP CONNECT proxies (proxy.h)
 */
#ifndef XMP_NET_H
#define XMP_NET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

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

/* Where SRV queries go: the system's servers, or the test hook's. */
struct net_dns_server {
    int set; /* 0: /etc/resolv.conf */
    struct sockaddr_in addr;
};

/* Where the SRV queries go.  The library itself (dns_nohook.c) always
 * leaves d->set 0: /etc/resolv.conf.  Test programs link dns_hook.c
 * instead, which reads the XMPCTL_DNS_SERVER test hook (IPV4[:PORT];
 * unset or empty leaves d->set 0; XMP_EUSAGE for a value that is not an
 * address), so the installed program never honours it. */
enum xmp_err net_dns_server_from_env(struct net_dns_server *d,
                                     struct xmp_error *err);
/* Parse IPV4[:PORT] into d; -1 if it is not an address. */
int net_dns_server_parse(const char *v, struct net_dns_server *d);

/* Told the name about to be asked of DNS, before each query; returns
 * non-zero to abandon the lookup. */
typedef int (*net_asking_fn)(void *ud, const char *name);

/* Look up _xmpps-client._tcp.DOMAIN and _xmpp-client._tcp.DOMAIN
 * (res_nquery, sent to dns when it is set; blocks), merge and order them.
 * No record at all: one fallback target DOMAIN:5222 (STARTTLS).  A single
 * record with target "." means the service is decidedly not offered:
 * XMP_ENOHOST.  asking may be NULL.  *out is malloc'd (caller frees) with
 * *n entries. */
enum xmp_err net_srv_lookup(const char *domain,
                            const struct net_dns_server *dns,
                            net_asking_fn asking, void *ud,
                            struct net_target **out, size_t *n,
                            struct xmp_error *err);

/* The same, with the SRV queries sent where XMPCTL_DNS_SERVER says. */
enum xmp_err net_resolve(const char *domain, struct net_target **out,
                         size_t *n, struct xmp_error *err);
/* The same for servers: _xmpps-server._tcp and _xmpp-server._tcp, the
 * domain on 5269 when there are none. */
enum xmp_err net_resolve_s2s(const char *domain, struct net_target **out,
                             size_t *n, struct xmp_error *err);

/* One address to connect to. */
struct net_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

/* The addresses of t->host, port t->port (getaddrinfo AF_UNSPEC, IPv6 and
 * IPv4 interleaved, RFC 8305 §4).  Blocks while DNS answers, unless
 * numeric_only: then a host that is not an address literal gives
 * XMP_AGAIN at once.  Failures: XMP_ENOHOST, XMP_ETEMP, XMP_ENOMEM.
 * *out is malloc'd (caller frees) with *n > 0 entries. */
enum xmp_err net_addresses(const struct net_target *t, int numeric_only,
                           struct net_addr **out, size_t *n,
                           struct xmp_error *err);

/* The numeric address ("127.0.0.1", "::1") in buf; returns buf. */
const char *net_addr_text(const struct net_addr *a, char *buf, size_t len);

/* strerror, first letter in lower case ("connection refused"); returns a
 * string that lives in buf or is static. */
const char *net_errno_text(int e, char *buf, size_t len);

/* Parse a --server value: HOST, HOST:PORT, [IPV6] or [IPV6]:PORT.
 * Port defaults to 5222.  found_by is "--server". */
enum xmp_err net_parse_server(const char *s, struct net_target *t,
                              struct xmp_error *err);

/*
 * The connector: from a domain (SRV first) or a list of targets to one
 * connected socket, within budget_ms of its creation, DNS included.
 *
 * Names are resolved on a thread of the connector's own (resolver.c),
 * which reports each result as it comes: the SRV answer, then each
 * target's addresses in RFC 2782 order; so the first target's addresses
 * are tried while later ones are still being looked up.  Targets that are
 * address literals need no thread.
 *
 * Addresses are tried in order (RFC 8305 §5): one non-blocking connect is
 * started; if it has not finished within the Connection Attempt Delay
 * (250 ms) the next starts beside it, and a failure starts the next at
 * once; the first to connect wins and the others are closed.
 *
 * Event-loop use:
 *
 *   net_connector_srv(&c, domain, budget_ms, &err);   or _new(targets)
 *   loop: r = net_connector_step(c, &fd, &err);
 *         XMP_OK    -> fd is connected and now the caller's
 *         XMP_AGAIN -> poll net_connector_fd(c) for POLLIN until
 *                      net_connector_deadline(c) (at once while
 *                      net_connector_pending(c)), then step again
 *         else      -> failed; err says why: XMP_ETIMEOUT when the
 *                      budget ran out ("no answer from DNS for NAME
 *                      within 1 s", "cannot connect to DOMAIN within
 *                      1 s: tried ..."), else the SRV lookup's error or
 *                      the last failure (XMP_EUNREACH, XMP_ENOHOST...)
 *
 * net_connector_fd is an epoll descriptor (Linux-only, which this project
 * is) holding the resolver's notification socket and every attempt's
 * socket: readable when a step has something to do.
 */
struct net_connector;

/* Connect to targets[0..n) (copied). */
enum xmp_err net_connector_new(struct net_connector **out,
                               const struct net_target *targets, size_t n,
                               int budget_ms, struct xmp_error *err);
/* Look up domain's SRV records (the XMPCTL_DNS_SERVER hook is read here)
 * and connect to what they name. */
enum xmp_err net_connector_srv(struct net_connector **out,
                               const char *domain, int budget_ms,
                               struct xmp_error *err);
/* Through a proxy (proxy.h; copied): with domain, its SRV records and
 * their addresses looked up here as net_connector_srv does (socks5);
 * else targets[0..n), by name when byname (the proxy resolves them: no
 * DNS query from here), else by their addresses looked up here.  The
 * proxy's own host is looked up at once when it is a name. */
struct net_proxy;
enum xmp_err net_connector_proxy(struct net_connector **out,
                                 const struct net_proxy *proxy,
                                 const char *domain,
                                 const struct net_target *targets, size_t n,
                                 int byname, int budget_ms,
                                 struct xmp_error *err);
enum xmp_err net_connector_step(struct net_connector *c, int *fd,
                                struct xmp_error *err);
int net_connector_fd(const struct net_connector *c);
int64_t net_connector_deadline(const struct net_connector *c);
/* Non-zero when a step has work to do now, without polling. */
int net_connector_pending(const struct net_connector *c);
/* RFC 8305 §8: the Connection Attempt Delay, NET_ATTEMPT_DELAY_MS unless
 * set (tests make it long to show what starts an attempt). */
#define NET_ATTEMPT_DELAY_MS 250
void net_connector_set_attempt_delay(struct net_connector *c, int ms);
/* After XMP_OK: the target that answered, and its numeric address
 * ("127.0.0.1:5222", "[::1]:5222"). */
const struct net_target *net_connector_target(const struct net_connector *c);
const char *net_connector_address(const struct net_connector *c);
/* Never waits: a resolver thread still inside a DNS query is left to
 * finish on its own and clean up after itself. */
void net_connector_free(struct net_connector *c);

#endif
