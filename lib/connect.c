/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/*
 * connect.c - the connector (net.h): names resolved off-thread
 * (resolver.c), staggered non-blocking connects (RFC 8305 §5), and one
 * deadline for all of it.
 *
 * The caller sees one descriptor: an epoll set (Linux-only, as this
 * project is) holding the resolver's socket and every attempt's socket,
 * level-triggered, so it stays readable while a step has work to do.
 * Inside a step, a poll() over the few attempts in flight says which of
 * them finished.
 *
 * Through a proxy (proxy.c), each attempt is a connection to the proxy
 * and then its handshake, stepped here under the same deadline; the
 * attempt counts as connected only once the tunnel is open.  The names
 * the proxy resolves (socks5h, http, .onion) are never looked up here.
 */
#include "net.h"
#include "proxy.h"
#include "resolver.h"

#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Sockets connecting at once; past this, wait for one to end.  With the
 * 250 ms stagger that is 4 s of silent servers. */
#define NET_MAX_ATTEMPTS 16
/* Room for "[" address "]:" port, scope id included. */
#define ADDR_TEXT_MAX (NI_MAXHOST + 16)
#define ERRTEXT_MAX 128
#define DRAIN_BUF 64

/* An address to try, with the target it belongs to; through a proxy,
 * with the proxy address to reach it by, and maybe no address at all
 * (byname: the proxy gets the target's name). */
struct candidate {
    size_t target;
    struct net_addr a;
    int byname;
    size_t pa;
};

struct attempt {
    int fd;
    size_t cand;
    int tunnel;          /* connected to the proxy: its handshake runs */
    struct proxy_hs hs;
};

enum conn_state { CONN_WORKING, CONN_CONNECTED, CONN_FAILED };

struct net_connector {
    char label[NET_HOST_MAX]; /* what we connect to, for messages */
    int budget_ms, delay_ms;
    int64_t deadline;         /* for all of it */
    int64_t next_start;       /* when the next attempt may start */
    int ep;                   /* the caller's descriptor: epoll */
    int rfd;                  /* the resolver's socket; -1 at its end */
    struct resolver *res;

    struct net_target *targets; /* NULL until the SRV answer */
    size_t ntargets;
    size_t nlooked;             /* targets whose addresses we took */
    int resolved_any;

    struct candidate *cand;     /* in the order to try them */
    size_t ncand, capcand, next;

    struct attempt att[NET_MAX_ATTEMPTS];
    size_t natt;

    size_t started, servers;    /* attempts started; targets they cover */
    size_t last_cand;           /* the attempt started last, or SIZE_MAX */
    char last_text[XMP_ERRMSG_MAX]; /* what became of it */

    enum conn_state state;
    size_t winner;              /* target index */
    char address[ADDR_TEXT_MAX];
    struct xmp_error last_connect; /* most recent connect failure */
    struct xmp_error last_resolve; /* most recent name failure */
    struct xmp_error failure;      /* once failed: why */

    int proxied;
    struct net_proxy proxy;
    struct net_addr *paddr;     /* the proxy's addresses */
    size_t npaddr;
};

/* ---- creation and teardown ----------------------------------------------- */

static enum xmp_err take_results(struct net_connector *c,
                                 struct xmp_error *err);
static enum xmp_err fail(struct net_connector *c, const struct xmp_error *e,
                         struct xmp_error *err);

static int add_candidates(struct net_connector *c, size_t target,
                          const struct net_addr *a, size_t n);

/* Through a proxy: its addresses (a name is looked up at once: it is
 * meant to be "localhost" or one of /etc/hosts) and, for targets the
 * proxy resolves, one candidate per target and proxy address. */
static enum xmp_err proxy_prepare(struct net_connector *c,
                                  const struct net_proxy *p,
                                  const struct net_target *targets, size_t n,
                                  int byname, struct xmp_error *err)
{
    struct net_target pt;
    struct net_addr none;
    enum xmp_err rc;
    size_t k;

    c->proxied = 1;
    c->proxy = *p;
    memset(&pt, 0, sizeof pt);
    memcpy(pt.host, p->host, sizeof pt.host);
    pt.port = p->port;
    rc = net_addresses(&pt, 1, &c->paddr, &c->npaddr, err);
    if (rc == XMP_AGAIN)
        rc = net_addresses(&pt, 0, &c->paddr, &c->npaddr, err);
    if (rc != XMP_OK)
        return rc;
    if (!byname)
        return XMP_OK;
    if (!(c->targets = malloc(n * sizeof *targets)))
        return xmp_error_set(err, XMP_ENOMEM,
                             "out of memory preparing to connect");
    memcpy(c->targets, targets, n * sizeof *targets);
    c->ntargets = c->nlooked = n;
    memset(&none, 0, sizeof none);
    for (k = 0; k < n; k++)
        if (add_candidates(c, k, &none, 1) < 0)
            return xmp_error_set(err, XMP_ENOMEM,
                                 "out of memory preparing to connect");
    for (k = 0; k < c->ncand; k++)
        c->cand[k].byname = 1;
    c->resolved_any = 1;
    return XMP_OK;
}

static enum xmp_err connector_start(struct net_connector **out,
                                    const char *domain,
                                    const struct net_dns_server *dns,
                                    const struct net_target *targets,
                                    size_t n, const struct net_proxy *proxy,
                                    int byname, int budget_ms,
                                    struct xmp_error *err)
{
    struct net_connector *c;
    struct epoll_event ev;
    char etext[ERRTEXT_MAX];
    struct xmp_error e;
    enum xmp_err rc;
    int sv[2];

    if (budget_ms <= 0)
        return xmp_error_set(err, XMP_EUSAGE, "invalid connect timeout %d ms",
                             budget_ms);
    if (!(c = calloc(1, sizeof *c)))
        return xmp_error_set(err, XMP_ENOMEM,
                             "out of memory preparing to connect");
    snprintf(c->label, sizeof c->label, "%s", domain ? domain
                                                     : targets[0].host);
    c->budget_ms = budget_ms;
    c->delay_ms = NET_ATTEMPT_DELAY_MS;
    c->deadline = xmp_now_ms() + budget_ms;
    c->ep = c->rfd = -1;
    c->last_cand = SIZE_MAX;
    xmp_error_clear(&c->last_connect);
    xmp_error_clear(&c->last_resolve);
    xmp_error_clear(&c->failure);
    if (proxy && (rc = proxy_prepare(c, proxy, targets, n, byname, err)) !=
                     XMP_OK) {
        net_connector_free(c);
        return rc;
    }
    if ((c->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        rc = xmp_error_set(err, XMP_ESYS, "cannot prepare to connect: %s",
                           net_errno_text(errno, etext, sizeof etext));
        net_connector_free(c);
        return rc;
    }
    if (proxy && byname) {
        /* nothing to look up: the proxy resolves the names */
        *out = c;
        return XMP_OK;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   sv) < 0) {
        rc = xmp_error_set(err, XMP_ESYS, "cannot prepare to connect: %s",
                           net_errno_text(errno, etext, sizeof etext));
        net_connector_free(c);
        return rc;
    }
    c->rfd = sv[0];
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = c->rfd;
    if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->rfd, &ev) < 0) {
        close(sv[1]);
        rc = xmp_error_set(err, XMP_ESYS, "cannot prepare to connect: %s",
                           net_errno_text(errno, etext, sizeof etext));
        net_connector_free(c);
        return rc;
    }
    xmp_error_clear(&e);
    if (resolver_start(&c->res, domain, dns, targets, n, sv[1], &e) !=
        XMP_OK) {
        if (err)
            *err = e;
        net_connector_free(c);
        return e.code;
    }
    /* Address literals are known at once: a first step can start. */
    xmp_error_clear(&e);
    if (take_results(c, &e) != XMP_OK)
        fail(c, &e, NULL); /* the first step reports it */
    *out = c;
    return XMP_OK;
}

enum xmp_err net_connector_new(struct net_connector **out,
                               const struct net_target *targets, size_t n,
                               int budget_ms, struct xmp_error *err)
{
    if (!out)
        return xmp_error_set(err, XMP_EUSAGE, "no connector to fill");
    *out = NULL;
    if (!targets || n == 0)
        return xmp_error_set(err, XMP_EUSAGE, "no server to connect to");
    return connector_start(out, NULL, NULL, targets, n, NULL, 0, budget_ms,
                           err);
}

enum xmp_err net_connector_srv(struct net_connector **out,
                               const char *domain, int budget_ms,
                               struct xmp_error *err)
{
    struct net_dns_server dns;
    enum xmp_err rc;

    if (!out)
        return xmp_error_set(err, XMP_EUSAGE, "no connector to fill");
    *out = NULL;
    if (!domain || !*domain)
        return xmp_error_set(err, XMP_EUSAGE, "no domain to look up");
    if ((rc = net_dns_server_from_env(&dns, err)) != XMP_OK)
        return rc;
    return connector_start(out, domain, &dns, NULL, 0, NULL, 0, budget_ms,
                           err);
}

enum xmp_err net_connector_proxy(struct net_connector **out,
                                 const struct net_proxy *proxy,
                                 const char *domain,
                                 const struct net_target *targets, size_t n,
                                 int byname, int budget_ms,
                                 struct xmp_error *err)
{
    struct net_dns_server dns;
    enum xmp_err rc;

    if (!out || !proxy)
        return xmp_error_set(err, XMP_EUSAGE, "no connector to fill");
    *out = NULL;
    if (domain) {
        if (byname || !*domain)
            return xmp_error_set(err, XMP_EUSAGE, "no domain to look up");
        if ((rc = net_dns_server_from_env(&dns, err)) != XMP_OK)
            return rc;
        return connector_start(out, domain, &dns, NULL, 0, proxy, 0,
                               budget_ms, err);
    }
    if (!targets || n == 0)
        return xmp_error_set(err, XMP_EUSAGE, "no server to connect to");
    return connector_start(out, NULL, NULL, targets, n, proxy, byname,
                           budget_ms, err);
}

void net_connector_set_attempt_delay(struct net_connector *c, int ms)
{
    if (c && ms > 0)
        c->delay_ms = ms;
}

static void unwatch(struct net_connector *c, int fd)
{
    /* explicit: a forked child holding a copy would keep it watched */
    epoll_ctl(c->ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
}

static void drop_attempt(struct net_connector *c, size_t i)
{
    proxy_hs_clear(&c->att[i].hs);
    unwatch(c, c->att[i].fd);
    c->att[i] = c->att[--c->natt];
}

/* Stop everything but the winner (if any): attempts, the lookup. */
static void wind_down(struct net_connector *c)
{
    while (c->natt > 0)
        drop_attempt(c, c->natt - 1);
    /* abandon first: the thread must not be left writing to nobody */
    resolver_free(c->res);
    c->res = NULL;
    if (c->rfd >= 0)
        unwatch(c, c->rfd);
    c->rfd = -1;
}

void net_connector_free(struct net_connector *c)
{
    if (!c)
        return;
    wind_down(c);
    if (c->ep >= 0)
        close(c->ep);
    free(c->cand);
    free(c->targets);
    free(c->paddr);
    explicit_bzero(&c->proxy, sizeof c->proxy);
    free(c);
}

/* ---- what the resolver found --------------------------------------------- */

/* Read the wake-ups; at end of file the resolver is done writing. */
static void drain(struct net_connector *c)
{
    char buf[DRAIN_BUF];
    ssize_t got;

    while (c->rfd >= 0) {
        got = read(c->rfd, buf, sizeof buf);
        if (got > 0)
            continue;
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        unwatch(c, c->rfd); /* end of file, or an error: nothing to wait for */
        c->rfd = -1;
    }
}

static int add_candidates(struct net_connector *c, size_t target,
                          const struct net_addr *a, size_t n)
{
    size_t i, k, np = c->proxied ? c->npaddr : 1;

    if (c->ncand + n * np > c->capcand) {
        size_t cap = c->capcand ? c->capcand : 8;
        struct candidate *p;

        while (cap < c->ncand + n * np)
            cap *= 2;
        if (!(p = realloc(c->cand, cap * sizeof *p)))
            return -1;
        c->cand = p;
        c->capcand = cap;
    }
    for (i = 0; i < n; i++)
        for (k = 0; k < np; k++) {
            memset(&c->cand[c->ncand], 0, sizeof c->cand[c->ncand]);
            c->cand[c->ncand].target = target;
            c->cand[c->ncand].a = a[i];
            c->cand[c->ncand].pa = k;
            c->ncand++;
        }
    return 0;
}

/* Take what the resolver has published, in order.  XMP_OK, or an error
 * that ends the attempt (the SRV lookup's, or no memory). */
static enum xmp_err take_results(struct net_connector *c,
                                 struct xmp_error *err)
{
    struct xmp_error e;
    enum xmp_err rc;

    if (!c->res)
        return XMP_OK;
    if (!c->targets) {
        xmp_error_clear(&e);
        rc = resolver_targets(c->res, &c->targets, &c->ntargets, &e);
        if (rc == XMP_AGAIN)
            return XMP_OK;
        if (rc != XMP_OK) {
            if (err)
                *err = e;
            return rc;
        }
    }
    while (c->nlooked < c->ntargets) {
        struct net_addr *a = NULL;
        size_t n = 0;

        xmp_error_clear(&e);
        rc = resolver_addresses(c->res, c->nlooked, &a, &n, &e);
        if (rc == XMP_AGAIN)
            break;
        if (rc == XMP_OK) {
            int bad = add_candidates(c, c->nlooked, a, n);

            free(a);
            if (bad)
                return xmp_error_set(err, XMP_ENOMEM,
                                     "out of memory preparing to connect");
            c->resolved_any = 1;
        } else if (rc == XMP_ENOMEM || rc == XMP_EUSAGE) {
            if (err)
                *err = e;
            return rc;
        } else {
            c->last_resolve = e;
        }
        c->nlooked++;
    }
    return XMP_OK;
}

/* Every address has been tried and has failed, and no more will come. */
static int all_tried(const struct net_connector *c)
{
    return c->natt == 0 && c->next == c->ncand && c->targets &&
           c->nlooked == c->ntargets;
}

/* ---- attempts ------------------------------------------------------------ */

/* "xmpp.example.org port 5222 (192.0.2.1)", then tail ("no answer");
 * cut short if it must be. */
static void describe(const struct net_connector *c, size_t cand,
                     const char *tail, char *buf, size_t len)
{
    const struct candidate *k = &c->cand[cand];
    char host[NI_MAXHOST];

    if (c->proxied) {
        /* two host names and an address: built whole, then cut short */
        char tmp[2 * NET_HOST_MAX + NI_MAXHOST + 64];
        size_t n;

        if (k->byname)
            snprintf(tmp, sizeof tmp, "%s port %u via proxy %s port %u: %s",
                     c->targets[k->target].host,
                     (unsigned)c->targets[k->target].port, c->proxy.host,
                     (unsigned)c->proxy.port, tail);
        else
            snprintf(tmp, sizeof tmp, "%s port %u (%s) via proxy %s port %u: %s",
                     c->targets[k->target].host,
                     (unsigned)c->targets[k->target].port,
                     net_addr_text(&k->a, host, sizeof host), c->proxy.host,
                     (unsigned)c->proxy.port, tail);
        n = strlen(tmp);
        if (len == 0)
            return;
        if (n >= len)
            n = len - 1;
        memcpy(buf, tmp, n);
        buf[n] = '\0';
        return;
    }
    if (snprintf(buf, len, "%s port %u (%s): %s", c->targets[k->target].host,
                 (unsigned)c->targets[k->target].port,
                 net_addr_text(&k->a, host, sizeof host), tail) >= (int)len)
        return; /* a message cut short still names the host first */
}

static void attempt_failed(struct net_connector *c, size_t cand, int e)
{
    char what[XMP_ERRMSG_MAX], etext[ERRTEXT_MAX];

    describe(c, cand, net_errno_text(e, etext, sizeof etext), what,
             sizeof what);
    if (c->proxied) {
        char host[NI_MAXHOST];

        xmp_error_set(&c->last_connect, XMP_EUNREACH,
                      "cannot connect to proxy %s port %u (%s): %s",
                      c->proxy.host, (unsigned)c->proxy.port,
                      net_addr_text(&c->paddr[c->cand[cand].pa], host,
                                    sizeof host),
                      net_errno_text(e, etext, sizeof etext));
    } else {
        xmp_error_set(&c->last_connect, XMP_EUNREACH, "cannot connect to %s",
                      what);
    }
    if (cand == c->last_cand)
        memcpy(c->last_text, what, sizeof c->last_text);
    /* RFC 8305 §5: a failure starts the next attempt at once */
    c->next_start = xmp_now_ms();
}

/* The proxy's handshake failed: e says how. */
static void tunnel_failed(struct net_connector *c, size_t cand,
                          const struct xmp_error *e)
{
    c->last_connect = *e;
    if (cand == c->last_cand)
        snprintf(c->last_text, sizeof c->last_text, "%s", e->msg);
    c->next_start = xmp_now_ms();
}

static enum xmp_err connected(struct net_connector *c, int fd, size_t cand,
                              int *out)
{
    const struct candidate *k = &c->cand[cand];
    char host[NI_MAXHOST], phost[NI_MAXHOST];

    if (k->byname)
        snprintf(host, sizeof host, "%s", c->targets[k->target].host);
    else
        net_addr_text(&k->a, host, sizeof host);
    if (c->proxied) {
        net_addr_text(&c->paddr[k->pa], phost, sizeof phost);
        /* a name too long for it is cut short: the text is for people */
        if (snprintf(c->address, sizeof c->address,
                     "%s%s%s:%u via proxy %s%s%s:%u",
                     strchr(host, ':') ? "[" : "", host,
                     strchr(host, ':') ? "]" : "",
                     (unsigned)c->targets[k->target].port,
                     strchr(phost, ':') ? "[" : "", phost,
                     strchr(phost, ':') ? "]" : "",
                     (unsigned)c->proxy.port) >= (int)sizeof c->address)
            c->address[sizeof c->address - 1] = '\0';
    } else if (strchr(host, ':'))
        snprintf(c->address, sizeof c->address, "[%s]:%u", host,
                 (unsigned)c->targets[k->target].port);
    else
        snprintf(c->address, sizeof c->address, "%s:%u", host,
                 (unsigned)c->targets[k->target].port);
    c->winner = k->target;
    c->state = CONN_CONNECTED;
    *out = fd;
    wind_down(c); /* the losers, and the lookups still running */
    return XMP_OK;
}

/* Start a connect to the next candidate.  XMP_OK: connected at once (*fd
 * set); XMP_AGAIN: in progress or failed (recorded); else no memory or
 * descriptors for epoll. */
static enum xmp_err start_attempt(struct net_connector *c, int *fd,
                                  struct xmp_error *err)
{
    size_t cand = c->next++;
    const struct candidate *k = &c->cand[cand];
    const struct net_addr *dst;
    struct epoll_event ev;
    char etext[ERRTEXT_MAX];
    int s, r;

    c->started++;
    if (c->last_cand == SIZE_MAX ||
        c->cand[c->last_cand].target != k->target)
        c->servers++;
    c->last_cand = cand;
    describe(c, cand, "no answer", c->last_text, sizeof c->last_text);

    dst = c->proxied ? &c->paddr[k->pa] : &k->a;
    s = socket(dst->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
               0);
    if (s < 0) {
        attempt_failed(c, cand, errno);
        return XMP_AGAIN;
    }
    /* A flight is often several writes (a TLS handshake's records, a
     * stream header and what goes with it): Nagle would hold the later
     * ones for the peer's delayed ACK of the first, some 40 ms each. */
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
    r = connect(s, (const struct sockaddr *)&dst->ss, dst->len);
    if (r == 0 && !c->proxied)
        return connected(c, s, cand, fd);
    /* EINTR: the connect goes on in the background, like EINPROGRESS;
     * connected to a proxy, its handshake is next (the socket is
     * writable at once) */
    if (r < 0 && errno != EINPROGRESS && errno != EINTR) {
        attempt_failed(c, cand, errno);
        close(s);
        return XMP_AGAIN;
    }
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLOUT;
    ev.data.fd = s;
    if (epoll_ctl(c->ep, EPOLL_CTL_ADD, s, &ev) < 0) {
        close(s);
        return xmp_error_set(err, XMP_ESYS, "cannot watch a connection: %s",
                             net_errno_text(errno, etext, sizeof etext));
    }
    memset(&c->att[c->natt], 0, sizeof c->att[c->natt]);
    c->att[c->natt].fd = s;
    c->att[c->natt].cand = cand;
    c->natt++;
    c->next_start = xmp_now_ms() + c->delay_ms;
    return XMP_AGAIN;
}

/* Watch attempt i for what it waits for: its connect, or its proxy's
 * handshake (to read, and to write while it has bytes to send). */
static short attempt_events(const struct attempt *a)
{
    if (!a->tunnel)
        return POLLOUT;
    return (short)(POLLIN | (proxy_hs_writing(&a->hs) ? POLLOUT : 0));
}

/* Step the proxy's handshake on attempt i: XMP_OK when the tunnel is
 * open (*fd set), XMP_AGAIN otherwise (a failure recorded and closed),
 * else an error of epoll's. */
static enum xmp_err step_tunnel(struct net_connector *c, size_t i, int *fd,
                                struct xmp_error *err)
{
    struct attempt *a = &c->att[i];
    const struct candidate *k = &c->cand[a->cand];
    const struct net_target *t = &c->targets[k->target];
    struct epoll_event ev;
    char etext[ERRTEXT_MAX];
    struct xmp_error e;
    enum xmp_err rc;

    xmp_error_clear(&e);
    if (!a->tunnel) {
        a->tunnel = 1;
        if (proxy_hs_begin(&a->hs, &c->proxy, t->host,
                           k->byname ? NULL : &k->a, t->port, &e) != XMP_OK) {
            tunnel_failed(c, a->cand, &e);
            drop_attempt(c, i);
            return XMP_AGAIN;
        }
    }
    rc = proxy_hs_step(&a->hs, a->fd, &e);
    if (rc == XMP_OK) {
        int s = a->fd;
        size_t cand = a->cand;

        proxy_hs_clear(&a->hs);
        epoll_ctl(c->ep, EPOLL_CTL_DEL, s, NULL);
        c->att[i] = c->att[--c->natt];
        return connected(c, s, cand, fd);
    }
    if (rc != XMP_AGAIN) {
        tunnel_failed(c, a->cand, &e);
        drop_attempt(c, i);
        return XMP_AGAIN;
    }
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | (proxy_hs_writing(&a->hs) ? EPOLLOUT : 0);
    ev.data.fd = a->fd;
    if (epoll_ctl(c->ep, EPOLL_CTL_MOD, a->fd, &ev) < 0)
        return xmp_error_set(err, XMP_ESYS, "cannot watch a connection: %s",
                             net_errno_text(errno, etext, sizeof etext));
    return XMP_AGAIN;
}

/* Look at the attempts in flight: XMP_OK when one connected (*fd set),
 * XMP_AGAIN otherwise (failures recorded and closed), else an error of
 * epoll's. */
static enum xmp_err check_attempts(struct net_connector *c, int *fd,
                                   struct xmp_error *err)
{
    struct pollfd p[NET_MAX_ATTEMPTS];
    size_t i, n = c->natt;
    enum xmp_err rc;

    if (n == 0)
        return XMP_AGAIN;
    for (i = 0; i < n; i++) {
        p[i].fd = c->att[i].fd;
        p[i].events = attempt_events(&c->att[i]);
        p[i].revents = 0;
    }
    if (poll(p, (nfds_t)n, 0) <= 0)
        return XMP_AGAIN;
    /* from the end, so that dropping one leaves the others in place */
    for (i = n; i-- > 0;) {
        int soerr = 0;
        socklen_t len = sizeof soerr;

        if (!p[i].revents)
            continue;
        if (c->att[i].tunnel) {
            if ((rc = step_tunnel(c, i, fd, err)) != XMP_AGAIN)
                return rc;
            continue;
        }
        /* writable or in error: SO_ERROR tells which */
        if (getsockopt(c->att[i].fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
            soerr = errno;
        if (soerr == 0 && c->proxied) {
            if ((rc = step_tunnel(c, i, fd, err)) != XMP_AGAIN)
                return rc;
            continue;
        }
        if (soerr == 0) {
            int s = c->att[i].fd;
            size_t cand = c->att[i].cand;

            epoll_ctl(c->ep, EPOLL_CTL_DEL, s, NULL);
            c->att[i] = c->att[--c->natt];
            return connected(c, s, cand, fd);
        }
        attempt_failed(c, c->att[i].cand, soerr);
        drop_attempt(c, i);
    }
    return XMP_AGAIN;
}

/* ---- ending -------------------------------------------------------------- */

static enum xmp_err fail(struct net_connector *c, const struct xmp_error *e,
                         struct xmp_error *err)
{
    c->failure = *e;
    c->state = CONN_FAILED;
    wind_down(c);
    if (err)
        *err = *e;
    return e->code;
}

/* "1 s", "1.5 s", "300 ms" */
static const char *duration(int ms, char *buf, size_t len)
{
    if (ms % 1000 == 0)
        snprintf(buf, len, "%d s", ms / 1000);
    else if (ms > 1000 && ms % 100 == 0)
        snprintf(buf, len, "%d.%d s", ms / 1000, ms % 1000 / 100);
    else
        snprintf(buf, len, "%d ms", ms);
    return buf;
}

/* The budget ran out: say what was tried, and what is still unanswered. */
static enum xmp_err out_of_time(struct net_connector *c,
                                struct xmp_error *err)
{
    char within[32], asking[NS_MAXDNAME], servers[64];
    struct xmp_error e;

    duration(c->budget_ms, within, sizeof within);
    asking[0] = '\0';
    if (c->res)
        resolver_asking(c->res, asking, sizeof asking);
    if (c->started == 0) {
        if (asking[0])
            xmp_error_set(&e, XMP_ETIMEOUT,
                          "no answer from DNS for %s within %s", asking,
                          within);
        else
            xmp_error_set(&e, XMP_ETIMEOUT,
                          "cannot connect to %s within %s: no address found",
                          c->label, within);
        return fail(c, &e, err);
    }
    if (c->servers == c->ntargets)
        snprintf(servers, sizeof servers, "%zu server%s", c->servers,
                 c->servers == 1 ? "" : "s");
    else
        snprintf(servers, sizeof servers, "%zu of %zu servers", c->servers,
                 c->ntargets);
    xmp_error_set(&e, XMP_ETIMEOUT,
                  "cannot connect to %s within %s: tried %zu address%s at "
                  "%s; last: %s%s%s",
                  c->label, within, c->started, c->started == 1 ? "" : "es",
                  servers, c->last_text,
                  asking[0] ? "; no answer yet from DNS for " : "", asking);
    return fail(c, &e, err);
}

/* Everything was tried before the deadline: the most telling failure. */
static enum xmp_err all_failed(struct net_connector *c, struct xmp_error *err)
{
    struct xmp_error e;

    if (c->resolved_any)
        e = c->last_connect;
    else
        e = c->last_resolve;
    if (e.code == XMP_OK)
        xmp_error_set(&e, XMP_EUNREACH, "no address to connect to");
    return fail(c, &e, err);
}

/* ---- the step ------------------------------------------------------------ */

enum xmp_err net_connector_step(struct net_connector *c, int *fd,
                                struct xmp_error *err)
{
    struct xmp_error e;
    enum xmp_err rc;

    if (!c || !fd)
        return xmp_error_set(err, XMP_EUSAGE, "no connector to step");
    *fd = -1;
    if (c->state == CONN_CONNECTED)
        return xmp_error_set(err, XMP_EUSAGE,
                             "connector already handed over its socket");
    if (c->state == CONN_FAILED) {
        if (err)
            *err = c->failure;
        return c->failure.code;
    }

    drain(c);
    xmp_error_clear(&e);
    if ((rc = take_results(c, &e)) != XMP_OK)
        return fail(c, &e, err);
    xmp_error_clear(&e);
    rc = check_attempts(c, fd, &e);
    if (rc == XMP_OK)
        return XMP_OK;
    if (rc != XMP_AGAIN)
        return fail(c, &e, err);
    if (xmp_now_ms() >= c->deadline)
        return all_tried(c) ? all_failed(c, err) : out_of_time(c, err);
    /* RFC 8305 §5: the next address when the last attempt failed, or has
     * had its Connection Attempt Delay without an answer */
    while (c->next < c->ncand && c->natt < NET_MAX_ATTEMPTS &&
           (c->natt == 0 || xmp_now_ms() >= c->next_start)) {
        xmp_error_clear(&e);
        rc = start_attempt(c, fd, &e);
        if (rc == XMP_OK)
            return XMP_OK;
        if (rc != XMP_AGAIN)
            return fail(c, &e, err);
    }
    if (all_tried(c))
        return all_failed(c, err);
    return XMP_AGAIN;
}

int net_connector_fd(const struct net_connector *c)
{
    return c && c->state == CONN_WORKING ? c->ep : -1;
}

int64_t net_connector_deadline(const struct net_connector *c)
{
    if (!c || c->state != CONN_WORKING)
        return -1;
    if (c->next < c->ncand && c->natt > 0 && c->natt < NET_MAX_ATTEMPTS &&
        c->next_start < c->deadline)
        return c->next_start;
    return c->deadline;
}

int net_connector_pending(const struct net_connector *c)
{
    /* a failure not yet reported is work for the next step, too */
    return c && ((c->state == CONN_WORKING && c->next < c->ncand &&
                  c->natt == 0) ||
                 c->state == CONN_FAILED);
}

const struct net_target *net_connector_target(const struct net_connector *c)
{
    return c && c->state == CONN_CONNECTED ? &c->targets[c->winner] : NULL;
}

const char *net_connector_address(const struct net_connector *c)
{
    return c && c->state == CONN_CONNECTED ? c->address : NULL;
}
