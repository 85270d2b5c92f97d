/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/*
 * net.c - finding an XMPP server: DNS SRV (RFC 6120 §3.2, RFC 2782,
 * XEP-0368) through the reentrant resolver interface (res_ninit/res_nquery
 * on a state of our own, so nothing is shared between sessions or
 * threads), each host's addresses (getaddrinfo, IPv6 and IPv4
 * interleaved), and --server values.  Everything here that asks DNS
 * blocks: resolver.c runs it on a thread of its own, and connect.c
 * connects to what it finds.
 */
#include "net.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define SRV_DIRECT_TLS_SERVICE "_xmpps-client._tcp"
#define SRV_STARTTLS_SERVICE "_xmpp-client._tcp"
#define FOUND_BY_DIRECT_TLS "SRV _xmpps-client._tcp"
#define FOUND_BY_STARTTLS "SRV _xmpp-client._tcp"
#define FOUND_BY_FALLBACK "fallback"
/* The same for servers (RFC 6120 §3.2, XEP-0368), which only a probe of
 * a server looks up. */
#define SRV_S2S_DIRECT_TLS_SERVICE "_xmpps-server._tcp"
#define SRV_S2S_STARTTLS_SERVICE "_xmpp-server._tcp"
#define FOUND_BY_S2S_DIRECT_TLS "SRV _xmpps-server._tcp"
#define FOUND_BY_S2S_STARTTLS "SRV _xmpp-server._tcp"
#define NET_S2S_DEFAULT_PORT 5269
#define FOUND_BY_SERVER "--server"

/* Room for one DNS message, UDP or TCP (RFC 1035 §4.2.2: 16-bit length). */
#define DNS_ANSWER_MAX 65536
/* SRV RDATA: priority, weight, port (RFC 2782), then the target name. */
#define SRV_FIXED_LEN 6
#define DNS_DEFAULT_PORT 53
#define PORT_MAX 65535
#define ERRTEXT_MAX 128

/* ---- small helpers ------------------------------------------------------- */

/* Copy an error text from the C library and lower-case its first letter
 * so it reads well after a colon ("connection refused"). */
static const char *lower_first(const char *s, char *buf, size_t len)
{
    snprintf(buf, len, "%s", s);
    if (buf[0] >= 'A' && buf[0] <= 'Z' && buf[1] >= 'a' && buf[1] <= 'z')
        buf[0] = (char)(buf[0] - 'A' + 'a');
    return buf;
}

const char *net_errno_text(int e, char *buf, size_t len)
{
    char tmp[ERRTEXT_MAX];

    /* GNU strerror_r: returns the text, maybe not in tmp */
    return lower_first(strerror_r(e, tmp, sizeof tmp), buf, len);
}

/* Parse a decimal port 1..65535: digits only, no sign, no blanks. */
static int parse_port(const char *s, size_t len, uint16_t *port)
{
    long v = 0;
    size_t i;

    if (len == 0 || len > 5)
        return -1;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > PORT_MAX)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

/* ---- RFC 2782 ordering --------------------------------------------------- */

/* The default random source: a splitmix64 generator seeded per call from
 * the kernel, so no process-wide state (srand) is touched. */
struct rng {
    uint64_t s;
};

static void rng_seed(struct rng *r)
{
    ssize_t got;
    int fd;

    got = getrandom(&r->s, sizeof r->s, GRND_NONBLOCK);
    if (got == (ssize_t)sizeof r->s)
        return;
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        got = read(fd, &r->s, sizeof r->s);
        close(fd);
        if (got == (ssize_t)sizeof r->s)
            return;
    }
    /* The order only spreads load; a weak seed is no security issue. */
    r->s = (uint64_t)xmp_now_ms() ^ ((uint64_t)getpid() << 32) ^
           (uint64_t)(uintptr_t)r;
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static unsigned default_rand(void *ud, unsigned bound)
{
    struct rng *r = ud;
    uint64_t range, limit, x;

    if (bound == UINT_MAX)
        return (unsigned)rng_next(r);
    range = (uint64_t)bound + 1;
    /* reject the uneven tail so every value in [0, bound] is equally
     * likely */
    limit = UINT64_MAX - UINT64_MAX % range;
    do
        x = rng_next(r);
    while (x >= limit);
    return (unsigned)(x % range);
}

/* Move t[from] to t[to] (to <= from), shifting the ones between up. */
static void move_to(struct net_target *t, size_t to, size_t from)
{
    struct net_target tmp;

    if (to == from)
        return;
    tmp = t[from];
    memmove(t + to + 1, t + to, (from - to) * sizeof *t);
    t[to] = tmp;
}

/* One priority group: RFC 2782 weighted selection. */
static void order_group(struct net_target *g, size_t m, net_rand_fn rnd,
                        void *ud)
{
    size_t k, x, zeros = 0, pick;
    uint64_t sum, run;
    unsigned bound, r;

    /* RFC 2782: weight 0 entries first, the others in their given order */
    for (k = 0; k < m; k++)
        if (g[k].weight == 0)
            move_to(g, zeros++, k);

    for (k = 0; k + 1 < m; k++) {
        sum = 0;
        for (x = k; x < m; x++)
            sum += g[x].weight;
        bound = sum > UINT_MAX ? UINT_MAX : (unsigned)sum;
        r = rnd(ud, bound);
        if (r > bound)
            r = bound; /* a sloppy source must not leave us without pick */
        /* RFC 2782: the first entry whose running sum reaches r */
        pick = m - 1;
        run = 0;
        for (x = k; x < m; x++) {
            run += g[x].weight;
            if (run >= r) {
                pick = x;
                break;
            }
        }
        /* shifting keeps the remaining weight 0 entries in front */
        move_to(g, k, pick);
    }
}

void net_srv_order(struct net_target *t, size_t n, net_rand_fn rnd, void *ud)
{
    struct rng rng;
    size_t i, j;

    if (!t || n < 2)
        return;
    if (!rnd) {
        rng_seed(&rng);
        rnd = default_rand;
        ud = &rng;
    }
    /* Insertion sort: stable, and SRV answers are short lists. */
    for (i = 1; i < n; i++) {
        for (j = i; j > 0 && t[j - 1].priority > t[i].priority; j--)
            ;
        move_to(t, j, i);
    }
    /* RFC 2782: lowest priority first, weighted random within one;
     * there, XEP-0368's direct TLS before STARTTLS, as it needs fewer
     * round trips, and weighted random within each kind. */
    for (i = 0; i < n; i = j) {
        size_t k, tls = i;

        for (j = i + 1; j < n && t[j].priority == t[i].priority; j++)
            ;
        for (k = i; k < j; k++)
            if (t[k].direct_tls)
                move_to(t, tls++, k);
        order_group(t + i, tls - i, rnd, ud);
        order_group(t + tls, j - tls, rnd, ud);
    }
}

/* ---- SRV lookup ---------------------------------------------------------- */

enum srv_outcome {
    SRV_RECORDS,   /* at least one usable record */
    SRV_NONE,      /* NXDOMAIN, no SRV data, or a server that won't say */
    SRV_REFUSED,   /* a single record with target ".": decidedly not */
    SRV_TEMP       /* no answer or server failure: try again later */
};

struct srv_list {
    struct net_target t[NET_MAX_TARGETS];
    size_t n;
};

/* Keep at most NET_MAX_TARGETS records, preferring the lowest priority
 * values, since only those can come first after ordering. */
static void srv_keep(struct srv_list *l, const struct net_target *rec)
{
    size_t i, worst = 0;

    if (l->n < NET_MAX_TARGETS) {
        l->t[l->n++] = *rec;
        return;
    }
    for (i = 1; i < l->n; i++)
        if (l->t[i].priority >= l->t[worst].priority)
            worst = i;
    if (rec->priority < l->t[worst].priority)
        l->t[worst] = *rec;
}

/* IPV4[:PORT] (port 53 by default) as a DNS server address; -1 if it is
 * not one.  For the test hook in dns_hook.c, which only test programs
 * link. */
int net_dns_server_parse(const char *v, struct net_dns_server *d)
{
    const char *colon;
    char ip[INET_ADDRSTRLEN];
    struct in_addr addr;
    uint16_t port = DNS_DEFAULT_PORT;
    size_t iplen;

    memset(d, 0, sizeof *d);
    colon = strchr(v, ':');
    iplen = colon ? (size_t)(colon - v) : strlen(v);
    if (iplen >= sizeof ip ||
        (colon && parse_port(colon + 1, strlen(colon + 1), &port) < 0))
        return -1;
    memcpy(ip, v, iplen);
    ip[iplen] = '\0';
    if (inet_pton(AF_INET, ip, &addr) != 1)
        return -1;
    d->set = 1;
    d->addr.sin_family = AF_INET;
    d->addr.sin_addr = addr;
    d->addr.sin_port = htons(port);
    return 0;
}

static void apply_dns_server(struct __res_state *rs,
                             const struct net_dns_server *d)
{
    if (!d || !d->set)
        return;
    rs->nscount = 1;
    /* a non-zero family makes glibc use nsaddr_list, not its IPv6 copy */
    rs->nsaddr_list[0] = d->addr;
}

/* Parse one SRV answer into l.  Returns SRV_RECORDS, SRV_NONE,
 * SRV_REFUSED, or -1 for a malformed message. */
static int srv_parse(const unsigned char *ans, int len, int direct_tls,
                     int s2s, struct srv_list *l)
{
    ns_msg msg;
    ns_rr rr;
    int i, count, kept = 0, dots = 0, srvs = 0;

    if (ns_initparse(ans, len, &msg) < 0)
        return -1;
    count = ns_msg_count(msg, ns_s_an);
    for (i = 0; i < count; i++) {
        struct net_target rec;
        const unsigned char *rd;
        char name[NS_MAXDNAME];
        int used;

        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
            return -1;
        /* the answer may also hold the CNAMEs that led here */
        if (ns_rr_type(rr) != ns_t_srv || ns_rr_class(rr) != ns_c_in)
            continue;
        srvs++;
        if (ns_rr_rdlen(rr) < SRV_FIXED_LEN + 1)
            return -1;
        rd = ns_rr_rdata(rr);
        used = dn_expand(ns_msg_base(msg), ns_msg_end(msg),
                         rd + SRV_FIXED_LEN, name, sizeof name);
        if (used < 0 || used > ns_rr_rdlen(rr) - SRV_FIXED_LEN)
            return -1;
        /* RFC 2782: target "." (dn_expand gives "") means "not here" */
        if (name[0] == '\0') {
            dots++;
            continue;
        }
        if (strlen(name) >= sizeof rec.host)
            continue; /* longer than any real host name */
        memset(&rec, 0, sizeof rec);
        memcpy(rec.host, name, strlen(name) + 1);
        rec.priority = (uint16_t)ns_get16(rd);
        rec.weight = (uint16_t)ns_get16(rd + 2);
        rec.port = (uint16_t)ns_get16(rd + 4);
        rec.direct_tls = direct_tls;
        if (s2s)
            rec.found_by = direct_tls ? FOUND_BY_S2S_DIRECT_TLS
                                      : FOUND_BY_S2S_STARTTLS;
        else
            rec.found_by = direct_tls ? FOUND_BY_DIRECT_TLS
                                      : FOUND_BY_STARTTLS;
        if (rec.port == 0)
            continue; /* nothing can listen there */
        srv_keep(l, &rec);
        kept++;
    }
    if (kept)
        return SRV_RECORDS;
    /* RFC 6120 §3.2.1: a single record with target "." ends SRV use */
    if (dots == 1 && srvs == 1)
        return SRV_REFUSED;
    return SRV_NONE;
}

/* Query one service name.  On SRV_TEMP or an error, why says what
 * happened. */
static enum xmp_err srv_query(struct __res_state *rs, const char *service,
                              const char *domain, int direct_tls, int s2s,
                              net_asking_fn asking, void *ud,
                              unsigned char *ans, struct srv_list *l,
                              enum srv_outcome *out, struct xmp_error *err)
{
    char qname[NS_MAXDNAME];
    char etext[ERRTEXT_MAX];
    int len, r, h, saved_errno;

    if (snprintf(qname, sizeof qname, "%s.%s", service, domain) >=
        (int)sizeof qname)
        return xmp_error_set(err, XMP_EUSAGE,
                             "domain name too long for a DNS query: %s",
                             domain);
    *out = SRV_TEMP;
    if (asking && asking(ud, qname) != 0)
        return xmp_error_set(err, XMP_ETIMEOUT, "lookup of %s abandoned",
                             qname);
    errno = 0;
    /* This blocks while DNS answers (resolv.conf's timeouts), which is
     * why it runs on the resolver thread. */
    len = res_nquery(rs, qname, ns_c_in, ns_t_srv, ans, DNS_ANSWER_MAX);
    saved_errno = errno;
    if (len < 0) {
        h = rs->res_h_errno;
        switch (h) {
        case HOST_NOT_FOUND: /* NXDOMAIN */
        case NO_DATA:        /* the name exists, no SRV there */
        case NO_RECOVERY:    /* REFUSED, FORMERR: no SRV from this server */
            *out = SRV_NONE;
            return XMP_OK;
        case TRY_AGAIN:
            *out = SRV_TEMP;
            return xmp_error_set(err, XMP_ETEMP,
                                 "DNS lookup of %s failed: no answer or "
                                 "server failure, try again later", qname);
        default:
            *out = SRV_TEMP;
            return xmp_error_set(err, XMP_ETEMP,
                                 "DNS lookup of %s failed: %s", qname,
                                 saved_errno
                                     ? net_errno_text(saved_errno, etext,
                                                      sizeof etext)
                                     : "resolver error");
        }
    }
    if (len > DNS_ANSWER_MAX)
        len = DNS_ANSWER_MAX; /* the reply was truncated to our buffer */
    r = srv_parse(ans, len, direct_tls, s2s, l);
    if (r < 0) {
        *out = SRV_TEMP;
        return xmp_error_set(err, XMP_ETEMP,
                             "DNS lookup of %s failed: malformed answer",
                             qname);
    }
    *out = (enum srv_outcome)r;
    return XMP_OK;
}

static enum xmp_err srv_lookup(const char *domain,
                               const struct net_dns_server *dns, int s2s,
                               net_asking_fn asking, void *ud,
                               struct net_target **out, size_t *n,
                               struct xmp_error *err)
{
    struct __res_state rs;
    struct srv_list *l = NULL;
    unsigned char *ans = NULL;
    struct xmp_error tls_err, tcp_err;
    enum srv_outcome tls_out = SRV_NONE, tcp_out = SRV_NONE;
    enum xmp_err rc;
    int rs_open = 0;

    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    if (!domain || !*domain || !out || !n)
        return xmp_error_set(err, XMP_EUSAGE, "no domain to look up");
    if (strlen(domain) >= NET_HOST_MAX)
        return xmp_error_set(err, XMP_EUSAGE, "domain name too long: %.64s...",
                             domain);
    xmp_error_clear(&tls_err);
    xmp_error_clear(&tcp_err);

    l = calloc(1, sizeof *l);
    ans = malloc(DNS_ANSWER_MAX);
    if (!l || !ans) {
        rc = xmp_error_set(err, XMP_ENOMEM,
                           "out of memory looking up %s", domain);
        goto out;
    }
    memset(&rs, 0, sizeof rs);
    if (res_ninit(&rs) < 0) {
        rc = xmp_error_set(err, XMP_ETEMP,
                           "cannot set up the DNS resolver to look up %s",
                           domain);
        goto out;
    }
    rs_open = 1;
    apply_dns_server(&rs, dns);

    /* XEP-0368: direct TLS records compete with STARTTLS ones */
    rc = srv_query(&rs, s2s ? SRV_S2S_DIRECT_TLS_SERVICE
                            : SRV_DIRECT_TLS_SERVICE,
                   domain, 1, s2s, asking, ud, ans, l, &tls_out, &tls_err);
    if (rc != XMP_OK && rc != XMP_ETEMP) {
        if (err)
            *err = tls_err;
        goto out;
    }
    rc = srv_query(&rs, s2s ? SRV_S2S_STARTTLS_SERVICE : SRV_STARTTLS_SERVICE,
                   domain, 0, s2s, asking, ud, ans, l, &tcp_out, &tcp_err);
    if (rc != XMP_OK && rc != XMP_ETEMP) {
        if (err)
            *err = tcp_err;
        goto out;
    }

    if (l->n > 0) {
        /* whatever else failed, these records are worth trying */
    } else if (tcp_out == SRV_REFUSED) {
        /* RFC 6120 §3.2.1: no fallback then (a "." for direct TLS alone
         * only withdraws that option, XEP-0368 §3) */
        rc = xmp_error_set(err, XMP_ENOHOST,
                           "xmpp service decidedly not available at %s "
                           "(SRV target \".\")", domain);
        goto out;
    } else if (tcp_out == SRV_TEMP) {
        /* The STARTTLS answer is the one RFC 6120 relies on; guessing
         * the fallback while it is unknown could pick the wrong host. */
        if (err)
            *err = tcp_err;
        rc = XMP_ETEMP;
        goto out;
    } else {
        /* RFC 6120 §3.2.2: no SRV records, so the domain itself on 5222
         * (a direct TLS lookup that failed only loses an option) */
        memset(&l->t[0], 0, sizeof l->t[0]);
        memcpy(l->t[0].host, domain, strlen(domain) + 1);
        l->t[0].port = s2s ? NET_S2S_DEFAULT_PORT : NET_DEFAULT_PORT;
        l->t[0].found_by = FOUND_BY_FALLBACK;
        l->n = 1;
    }

    net_srv_order(l->t, l->n, NULL, NULL);
    *out = malloc(l->n * sizeof **out);
    if (!*out) {
        rc = xmp_error_set(err, XMP_ENOMEM,
                           "out of memory looking up %s", domain);
        goto out;
    }
    memcpy(*out, l->t, l->n * sizeof **out);
    *n = l->n;
    rc = XMP_OK;
out:
    if (rs_open)
        res_nclose(&rs);
    free(ans);
    free(l);
    return rc;
}

enum xmp_err net_srv_lookup(const char *domain,
                            const struct net_dns_server *dns,
                            net_asking_fn asking, void *ud,
                            struct net_target **out, size_t *n,
                            struct xmp_error *err)
{
    return srv_lookup(domain, dns, 0, asking, ud, out, n, err);
}

enum xmp_err net_resolve_s2s(const char *domain, struct net_target **out,
                             size_t *n, struct xmp_error *err)
{
    struct net_dns_server dns;
    enum xmp_err rc;

    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    if ((rc = net_dns_server_from_env(&dns, err)) != XMP_OK)
        return rc;
    return srv_lookup(domain, &dns, 1, NULL, NULL, out, n, err);
}

enum xmp_err net_resolve(const char *domain, struct net_target **out,
                         size_t *n, struct xmp_error *err)
{
    struct net_dns_server dns;
    enum xmp_err rc;

    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    rc = net_dns_server_from_env(&dns, err);
    if (rc != XMP_OK)
        return rc;
    return net_srv_lookup(domain, &dns, NULL, NULL, out, n, err);
}

/* ---- --server ------------------------------------------------------------ */

/* Host names and IPv4 literals: letters, digits, '-', '.', '_' and any
 * non-ASCII byte (an IDN is getaddrinfo's business). */
static int host_chars_ok(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
            return 0;
    }
    return 1;
}

/* An IPv6 literal, maybe with a zone ("fe80::1%eth0"). */
static int is_ipv6(const char *s, size_t len)
{
    char tmp[INET6_ADDRSTRLEN];
    struct in6_addr a;
    const char *pct = memchr(s, '%', len);
    size_t alen = pct ? (size_t)(pct - s) : len;

    if (alen == 0 || alen >= sizeof tmp)
        return 0;
    if (pct && (pct + 1 == s + len || !host_chars_ok(pct + 1,
                                                     len - alen - 1)))
        return 0;
    memcpy(tmp, s, alen);
    tmp[alen] = '\0';
    return inet_pton(AF_INET6, tmp, &a) == 1;
}

enum xmp_err net_parse_server(const char *s, struct net_target *t,
                              struct xmp_error *err)
{
    const char *host, *port = NULL;
    size_t hlen, plen = 0;
    const char *why;

    if (!t)
        return xmp_error_set(err, XMP_EUSAGE, "no target to fill");
    memset(t, 0, sizeof *t);
    if (!s || !*s)
        return xmp_error_set(err, XMP_EUSAGE,
                             "invalid --server value '': empty");
    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (!close) {
            why = "missing ']' after the IPv6 address";
            goto bad;
        }
        host = s + 1;
        hlen = (size_t)(close - host);
        if (close[1] == ':') {
            port = close + 2;
            plen = strlen(port);
        } else if (close[1] != '\0') {
            why = "unexpected text after ']'";
            goto bad;
        }
        if (hlen == 0) {
            why = "missing host";
            goto bad;
        }
        if (!is_ipv6(host, hlen)) {
            why = "not an IPv6 address inside [ ]";
            goto bad;
        }
    } else {
        const char *colon = strchr(s, ':');

        host = s;
        hlen = strlen(s);
        if (colon && strchr(colon + 1, ':')) {
            /* several colons: a bare IPv6 address, which cannot carry a
             * port without brackets */
            if (!is_ipv6(s, hlen)) {
                why = "write an IPv6 address as [ADDRESS] or "
                      "[ADDRESS]:PORT";
                goto bad;
            }
        } else {
            if (colon) {
                hlen = (size_t)(colon - s);
                port = colon + 1;
                plen = strlen(port);
            }
            if (hlen == 0) {
                why = "missing host";
                goto bad;
            }
            if (!host_chars_ok(host, hlen)) {
                why = "bad host name";
                goto bad;
            }
        }
    }
    if (hlen >= sizeof t->host) {
        why = "host name too long";
        goto bad;
    }
    t->port = NET_DEFAULT_PORT;
    if (port && parse_port(port, plen, &t->port) < 0) {
        why = "bad port";
        goto bad;
    }
    memcpy(t->host, host, hlen);
    t->host[hlen] = '\0';
    t->found_by = FOUND_BY_SERVER;
    return XMP_OK;
bad:
    memset(t, 0, sizeof *t);
    return xmp_error_set(err, XMP_EUSAGE, "invalid --server value '%s': %s",
                         s, why);
}


/* ---- addresses ----------------------------------------------------------- */

enum xmp_err net_addresses(const struct net_target *t, int numeric_only,
                           struct net_addr **out, size_t *n,
                           struct xmp_error *err)
{
    struct addrinfo hints, *ai = NULL, *p;
    struct addrinfo **v6 = NULL, **v4 = NULL;
    struct net_addr *a = NULL;
    size_t n6 = 0, n4 = 0, i, total = 0, used = 0;
    char port[8], etext[ERRTEXT_MAX];
    enum xmp_err rc;
    int r, first_v6;

    *out = NULL;
    *n = 0;
    snprintf(port, sizeof port, "%u", (unsigned)t->port);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV |
                     (numeric_only ? AI_NUMERICHOST : 0);
    /* Without AI_NUMERICHOST this blocks while DNS answers: the resolver
     * thread's business. */
    r = getaddrinfo(t->host, port, &hints, &ai);
    if (r != 0) {
        if (numeric_only && r == EAI_NONAME)
            return XMP_AGAIN;
        if (r == EAI_MEMORY)
            return xmp_error_set(err, XMP_ENOMEM,
                                 "out of memory resolving %s", t->host);
        return xmp_error_set(err, r == EAI_AGAIN ? XMP_ETEMP : XMP_ENOHOST,
                             "cannot resolve %s: %s", t->host,
                             r == EAI_SYSTEM
                                 ? net_errno_text(errno, etext, sizeof etext)
                                 : lower_first(gai_strerror(r), etext,
                                               sizeof etext));
    }
    for (p = ai; p; p = p->ai_next)
        total++;
    v6 = calloc(total, sizeof *v6);
    v4 = calloc(total, sizeof *v4);
    a = calloc(total, sizeof *a);
    if (!v6 || !v4 || !a) {
        rc = xmp_error_set(err, XMP_ENOMEM, "out of memory resolving %s",
                           t->host);
        goto out;
    }
    for (p = ai; p; p = p->ai_next) {
        if (p->ai_addrlen > sizeof a->ss)
            continue;
        if (p->ai_family == AF_INET6)
            v6[n6++] = p;
        else
            v4[n4++] = p;
    }
    /* RFC 8305 §4: alternate families, starting with the one the
     * system's address selection put first */
    first_v6 = ai->ai_family == AF_INET6;
    for (i = 0; i < n6 || i < n4; i++) {
        struct addrinfo *pair[2];
        size_t k;

        pair[0] = first_v6 ? (i < n6 ? v6[i] : NULL) : (i < n4 ? v4[i] : NULL);
        pair[1] = first_v6 ? (i < n4 ? v4[i] : NULL) : (i < n6 ? v6[i] : NULL);
        for (k = 0; k < 2; k++) {
            if (!pair[k])
                continue;
            memcpy(&a[used].ss, pair[k]->ai_addr, pair[k]->ai_addrlen);
            a[used].len = pair[k]->ai_addrlen;
            used++;
        }
    }
    if (used == 0) {
        rc = xmp_error_set(err, XMP_ENOHOST,
                           "cannot resolve %s: no usable address", t->host);
        goto out;
    }
    *out = a;
    *n = used;
    a = NULL;
    rc = XMP_OK;
out:
    free(a);
    free(v6);
    free(v4);
    freeaddrinfo(ai);
    return rc;
}

const char *net_addr_text(const struct net_addr *a, char *buf, size_t len)
{
    if (getnameinfo((const struct sockaddr *)&a->ss, a->len, buf,
                    (socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(buf, len, "unknown address");
    return buf;
}
