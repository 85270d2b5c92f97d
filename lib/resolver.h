/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * resolver.h - name lookups off the caller's thread.  Private to the net
 * layer (connect.c is its one user).
 *
 * res_nquery and getaddrinfo block for as long as DNS takes (resolv.conf's
 * timeouts: seconds).  A resolver runs them on a detached thread of its
 * own: the SRV lookup if asked, then each target's addresses in order,
 * publishing each result as it comes and writing a byte to a socket the
 * owner polls.  The owner never waits for the thread: resolver_free
 * marks the job abandoned and drops the owner's reference; a thread still
 * inside a DNS query finishes it, sees the mark, and frees the job.
 */
#ifndef XMP_RESOLVER_H
#define XMP_RESOLVER_H

#include "net.h"

struct resolver;

/*
 * Start a lookup.  With domain: SRV records first (net_srv_lookup, asking
 * dns), then the addresses of what they name; without: the addresses of
 * targets[0..n) (copied).  wfd is the write end of a stream socket pair
 * whose read end the owner polls for POLLIN; the resolver owns wfd from
 * this call on, even when it fails, and closes it when nothing more will
 * come (the owner then reads end of file).  When every target is an
 * address literal no thread is started: the results are ready at once
 * and wfd is closed before this returns.
 */
enum xmp_err resolver_start(struct resolver **out, const char *domain,
                            const struct net_dns_server *dns,
                            const struct net_target *targets, size_t n,
                            int wfd, struct xmp_error *err);

/* The targets: XMP_AGAIN while the SRV lookup runs, XMP_OK with a copy in
 * *t (caller frees, *n entries), or the lookup's error. */
enum xmp_err resolver_targets(struct resolver *r, struct net_target **t,
                              size_t *n, struct xmp_error *err);

/* The addresses of target k: XMP_AGAIN while not looked up yet, XMP_OK
 * handing over *a (caller frees, *n > 0 entries; asked once per k), or
 * that lookup's error (XMP_ENOHOST, XMP_ETEMP, XMP_ENOMEM). */
enum xmp_err resolver_addresses(struct resolver *r, size_t k,
                                struct net_addr **a, size_t *n,
                                struct xmp_error *err);

/* The name DNS is being asked about now ("_xmpp-client._tcp.example.org",
 * "xmpp.example.org") into buf, "" when none. */
void resolver_asking(struct resolver *r, char *buf, size_t len);

/* Abandon the lookup; never waits for the thread. */
void resolver_free(struct resolver *r);

#endif
