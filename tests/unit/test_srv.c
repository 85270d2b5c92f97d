/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/*
 * test_srv.c - RFC 2782 ordering, --server parsing, and SRV lookups
 * against a fake DNS server on loopback (test_connect.c covers the
 * connector).
 *
 * Nothing leaves loopback: the SRV queries go to a child process through
 * the XMPCTL_DNS_SERVER hook.
 */
#include "net.h"
#include "tap.h"
#include "fakedns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define ORDER_TEXT_MAX 256
#define SCRIPT_MAX 16

/* ---- helpers for the ordering tests -------------------------------------- */

struct script {
    const unsigned *vals;
    size_t n, i;
    unsigned bounds[SCRIPT_MAX];
    size_t nbounds;
};

static unsigned scripted(void *ud, unsigned bound)
{
    struct script *s = ud;

    if (s->nbounds < SCRIPT_MAX)
        s->bounds[s->nbounds++] = bound;
    return s->i < s->n ? s->vals[s->i++] : 0;
}

static unsigned too_big(void *ud, unsigned bound)
{
    (void)ud;

    return bound + 1000;
}

static void mk(struct net_target *t, const char *host, unsigned prio,
               unsigned weight, int direct_tls)
{
    memset(t, 0, sizeof *t);
    snprintf(t->host, sizeof t->host, "%s", host);
    t->port = (uint16_t)(direct_tls ? 5223 : 5222);
    t->priority = (uint16_t)prio;
    t->weight = (uint16_t)weight;
    t->direct_tls = direct_tls;
}

static const char *hosts(const struct net_target *t, size_t n, char *buf,
                         size_t len)
{
    size_t i, used = 0;

    buf[0] = '\0';
    for (i = 0; i < n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? " " : "",
                         t[i].host);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

static void test_order(void)
{
    struct net_target t[4];
    char b[ORDER_TEXT_MAX];
    int first_heavy = 0, i;

    {
        static const unsigned v[] = { 0 };
        struct script s = { v, 1, 0, { 0 }, 0 };

        mk(&t[0], "c", 30, 0, 0);
        mk(&t[1], "a", 10, 0, 0);
        mk(&t[2], "b", 20, 0, 0);
        net_srv_order(t, 3, scripted, &s);
        is_str(hosts(t, 3, b, sizeof b), "a b c", "priority: ascending");
        is_int(s.nbounds, 0, "priority: singleton groups draw nothing");
    }
    {
        /* running sums a=10 b=30 c=60: 35 picks c; then a=10 b=30: 10
         * picks a */
        static const unsigned v[] = { 35, 10 };
        struct script s = { v, 2, 0, { 0 }, 0 };

        mk(&t[0], "a", 10, 10, 0);
        mk(&t[1], "b", 10, 20, 0);
        mk(&t[2], "c", 10, 30, 0);
        net_srv_order(t, 3, scripted, &s);
        is_str(hosts(t, 3, b, sizeof b), "c a b", "weights: scripted order");
        is_int(s.nbounds, 2, "weights: two draws for three entries");
        is_int(s.bounds[0], 60, "weights: first draw over the full sum");
        is_int(s.bounds[1], 30, "weights: second draw over what is left");
    }
    {
        static const unsigned v[] = { 11, 0 };
        struct script s = { v, 2, 0, { 0 }, 0 };

        mk(&t[0], "a", 10, 10, 0);
        mk(&t[1], "b", 10, 20, 0);
        mk(&t[2], "c", 10, 30, 0);
        net_srv_order(t, 3, scripted, &s);
        is_str(hosts(t, 3, b, sizeof b), "b a c",
               "weights: 11 falls to the second running sum");
    }
    {
        /* RFC 2782: weight 0 first, so a draw of 0 picks it */
        static const unsigned v[] = { 0, 6 };
        struct script s = { v, 2, 0, { 0 }, 0 };

        mk(&t[0], "x", 10, 5, 0);
        mk(&t[1], "z", 10, 0, 0);
        mk(&t[2], "y", 10, 5, 0);
        net_srv_order(t, 3, scripted, &s);
        is_str(hosts(t, 3, b, sizeof b), "z y x", "weight 0: drawn by 0");
        is_int(s.bounds[0], 10, "weight 0: adds nothing to the sum");
    }
    {
        static const unsigned v[] = { 1, 0 };
        struct script s = { v, 2, 0, { 0 }, 0 };

        mk(&t[0], "x", 10, 5, 0);
        mk(&t[1], "z", 10, 0, 0);
        mk(&t[2], "y", 10, 5, 0);
        net_srv_order(t, 3, scripted, &s);
        is_str(hosts(t, 3, b, sizeof b), "x z y",
               "weight 0: stays in front of what is left");
        is_int(s.bounds[1], 5, "weight 0: second sum without x");
    }
    {
        static const unsigned v[] = { 0, 0 };
        struct script s = { v, 2, 0, { 0 }, 0 };

        mk(&t[0], "p", 10, 0, 0);
        mk(&t[1], "q", 10, 0, 0);
        mk(&t[2], "r", 10, 0, 0);
        net_srv_order(t, 3, scripted, &s);
        is_str(hosts(t, 3, b, sizeof b), "p q r",
               "all weight 0: order kept");
        is_int(s.bounds[0], 0, "all weight 0: draw in [0, 0]");
    }
    {
        struct script s = { NULL, 0, 0, { 0 }, 0 };

        mk(&t[0], "only", 10, 7, 0);
        net_srv_order(t, 1, scripted, &s);
        is_str(t[0].host, "only", "single entry: unchanged");
        is_int(s.nbounds, 0, "single entry: no draw");
        net_srv_order(t, 0, scripted, &s);
        net_srv_order(NULL, 3, scripted, &s);
        ok(1, "empty and NULL lists are no-ops");
    }
    {
        /* XEP-0368 at equal priority: direct TLS first, whatever the
         * weights; each kind by weight among itself */
        static const unsigned v1[] = { 1 };
        static const unsigned v2[] = { 2, 4 };
        struct script s1 = { v1, 1, 0, { 0 }, 0 };
        struct script s2 = { v2, 2, 0, { 0 }, 0 };

        mk(&t[0], "plain", 5, 3, 0);
        mk(&t[1], "tls", 5, 1, 1);
        mk(&t[2], "later", 9, 100, 1);
        net_srv_order(t, 3, scripted, &s1);
        is_str(hosts(t, 3, b, sizeof b), "tls plain later",
               "equal priority: direct TLS first");
        is_int(s1.nbounds, 0, "equal priority: one of each kind, no draw");
        is_int(t[0].direct_tls, 1, "equal priority: flag moves along");
        is_int(t[0].port, 5223, "equal priority: port moves along");
        mk(&t[0], "plain", 5, 3, 0);
        mk(&t[1], "tls1", 5, 1, 1);
        mk(&t[2], "plain2", 5, 3, 0);
        mk(&t[3], "tls2", 5, 2, 1);
        net_srv_order(t, 4, scripted, &s2);
        is_str(hosts(t, 4, b, sizeof b), "tls2 tls1 plain2 plain",
               "equal priority: by weight within each kind");
        is_int(s2.bounds[0], 3, "equal priority: direct TLS drawn alone");
        is_int(s2.bounds[1], 6, "equal priority: STARTTLS drawn alone");
    }
    {
        mk(&t[0], "a", 10, 1, 0);
        mk(&t[1], "b", 10, 1, 0);
        net_srv_order(t, 2, too_big, NULL);
        is_str(hosts(t, 2, b, sizeof b), "b a",
               "out-of-range draw: clamped to the last entry");
    }
    /* default source: with draws in [0, 4] over running sums 1 and 4 the
     * weight 3 entry comes first 3 times in 5 (RFC 2782 as written) */
    for (i = 0; i < 4000; i++) {
        mk(&t[0], "light", 10, 1, 0);
        mk(&t[1], "heavy", 10, 3, 0);
        mk(&t[2], "first", 1, 0, 0);
        net_srv_order(t, 3, NULL, NULL);
        if (strcmp(t[0].host, "first") != 0)
            break;
        first_heavy += strcmp(t[1].host, "heavy") == 0;
    }
    is_int(i, 4000, "default source: priority always respected");
    ok(first_heavy > 2200 && first_heavy < 2600,
       "default source: weight 3 first in %d of 4000 (about 2400)",
       first_heavy);
}

/* ---- --server ------------------------------------------------------------ */

static void parse_ok(const char *s, const char *host, unsigned port)
{
    struct net_target t;
    struct xmp_error err;
    enum xmp_err r;

    xmp_error_clear(&err);
    r = net_parse_server(s, &t, &err);
    is_int(r, XMP_OK, "parse '%s': ok", s);
    is_str(t.host, host, "parse '%s': host", s);
    is_int(t.port, port, "parse '%s': port", s);
    is_str(t.found_by, "--server", "parse '%s': found by", s);
}

static void parse_bad(const char *s, const char *msg)
{
    struct net_target t;
    struct xmp_error err;
    enum xmp_err r;

    xmp_error_clear(&err);
    r = net_parse_server(s, &t, &err);
    is_int(r, XMP_EUSAGE, "parse '%s': usage error", s ? s : "NULL");
    is_int(err.code, XMP_EUSAGE, "parse '%s': err.code", s ? s : "NULL");
    is_str(err.msg, msg, "parse '%s': message", s ? s : "NULL");
}

static void test_parse_server(void)
{
    parse_ok("xmpp.example.org", "xmpp.example.org", 5222);
    parse_ok("xmpp.example.org:5223", "xmpp.example.org", 5223);
    parse_ok("127.0.0.1:1", "127.0.0.1", 1);
    parse_ok("h:65535", "h", 65535);
    parse_ok("[::1]:5223", "::1", 5223);
    parse_ok("[::1]", "::1", 5222);
    parse_ok("[fe80::1%eth0]:5222", "fe80::1%eth0", 5222);
    /* a bare IPv6 address is all host: the port needs brackets */
    parse_ok("::1", "::1", 5222);
    parse_ok("2001:db8::1:5222", "2001:db8::1:5222", 5222);

    parse_bad("x:0", "invalid --server value 'x:0': bad port");
    parse_bad("x:65536", "invalid --server value 'x:65536': bad port");
    parse_bad("x:99999", "invalid --server value 'x:99999': bad port");
    parse_bad("x:abc", "invalid --server value 'x:abc': bad port");
    parse_bad("x:", "invalid --server value 'x:': bad port");
    parse_bad("x:+5", "invalid --server value 'x:+5': bad port");
    parse_bad("x: 5", "invalid --server value 'x: 5': bad port");
    parse_bad("[::1]:0", "invalid --server value '[::1]:0': bad port");
    parse_bad("", "invalid --server value '': empty");
    parse_bad(NULL, "invalid --server value '': empty");
    parse_bad(":5222", "invalid --server value ':5222': missing host");
    parse_bad("[::1", "invalid --server value '[::1': "
                      "missing ']' after the IPv6 address");
    parse_bad("[::1]x", "invalid --server value '[::1]x': "
                        "unexpected text after ']'");
    parse_bad("[]:5222", "invalid --server value '[]:5222': missing host");
    parse_bad("[example.org]:5222", "invalid --server value "
                                    "'[example.org]:5222': not an IPv6 "
                                    "address inside [ ]");
    parse_bad("a:b:c", "invalid --server value 'a:b:c': write an IPv6 "
                       "address as [ADDRESS] or [ADDRESS]:PORT");
    parse_bad("juliet@example.org", "invalid --server value "
                                    "'juliet@example.org': bad host name");
    parse_bad("a b", "invalid --server value 'a b': bad host name");
}

/* ---- SRV lookups against the fake DNS server ----------------------------- */

static const struct fake_name fake_zone[] = {
    { "_xmpp-client._tcp.multi.test", 0, 2,
      { { 20, 0, 5222, "b.multi.test" }, { 10, 0, 5269, "a.multi.test" } },
      0 },
    { "_xmpps-client._tcp.multi.test", 0, 1,
      { { 15, 0, 5223, "tls.multi.test" } }, 0 },
    { "_xmpp-client._tcp.dot.test", 0, 1, { { 0, 0, 0, "." } }, 0 },
    { "_xmpp-client._tcp.fail.test", 2, 0, { { 0 } }, 0 },
    { "_xmpps-client._tcp.fail.test", 2, 0, { { 0 } }, 0 },
    { "_xmpp-client._tcp.nodata.test", 0, 0, { { 0 } }, 0 },
    { "_xmpps-client._tcp.nodata.test", 0, 1,
      { { 5, 0, 5223, "secure.nodata.test" } }, 0 },
    { "_xmpps-client._tcp.dottls.test", 0, 1, { { 0, 0, 0, "." } }, 0 },
    { "_xmpp-client._tcp.dotboth.test", 0, 1, { { 0, 0, 0, "." } }, 0 },
    { "_xmpps-client._tcp.dotboth.test", 0, 1,
      { { 3, 0, 5223, "direct.dotboth.test" } }, 0 },
};

static void test_resolve(uint16_t dns_port)
{
    struct net_target *t = NULL;
    struct xmp_error err;
    char env[64];
    size_t n = 0;
    enum xmp_err r;

    snprintf(env, sizeof env, "127.0.0.1:%u", (unsigned)dns_port);
    setenv("XMPCTL_DNS_SERVER", env, 1);

    r = net_resolve("multi.test", &t, &n, &err);
    is_int(r, XMP_OK, "resolve multi.test: ok");
    is_int(n, 3, "resolve multi.test: three records");
    if (r == XMP_OK && n == 3) {
        is_str(t[0].host, "a.multi.test", "multi.test: priority 10 first");
        is_int(t[0].port, 5269, "multi.test: its port");
        is_int(t[0].priority, 10, "multi.test: its priority");
        is_int(t[0].direct_tls, 0, "multi.test: STARTTLS");
        is_str(t[0].found_by, "SRV _xmpp-client._tcp",
               "multi.test: found by");
        is_str(t[1].host, "tls.multi.test", "multi.test: direct TLS next");
        is_int(t[1].port, 5223, "multi.test: direct TLS port");
        is_int(t[1].direct_tls, 1, "multi.test: direct TLS flag");
        is_str(t[1].found_by, "SRV _xmpps-client._tcp",
               "multi.test: direct TLS found by");
        is_str(t[2].host, "b.multi.test", "multi.test: priority 20 last");
        is_int(t[2].port, 5222, "multi.test: its port");
    }
    free(t);
    t = NULL;

    r = net_resolve("nx.test", &t, &n, &err);
    is_int(r, XMP_OK, "resolve nx.test: ok");
    is_int(n, 1, "nx.test: one fallback target");
    if (r == XMP_OK && n == 1) {
        is_str(t[0].host, "nx.test", "nx.test: the domain itself");
        is_int(t[0].port, 5222, "nx.test: port 5222");
        is_int(t[0].direct_tls, 0, "nx.test: STARTTLS");
        is_str(t[0].found_by, "fallback", "nx.test: found by fallback");
    }
    free(t);
    t = NULL;

    r = net_resolve("nodata.test", &t, &n, &err);
    is_int(r, XMP_OK, "resolve nodata.test: ok");
    is_int(n, 1, "nodata.test: only the direct TLS record");
    if (r == XMP_OK && n == 1) {
        is_str(t[0].host, "secure.nodata.test", "nodata.test: host");
        is_int(t[0].direct_tls, 1, "nodata.test: direct TLS");
    }
    free(t);
    t = NULL;

    xmp_error_clear(&err);
    r = net_resolve("dot.test", &t, &n, &err);
    is_int(r, XMP_ENOHOST, "resolve dot.test: no host");
    is_str(err.msg, "xmpp service decidedly not available at dot.test "
                    "(SRV target \".\")", "dot.test: message");
    ok(t == NULL && n == 0, "dot.test: nothing returned");

    r = net_resolve("dottls.test", &t, &n, &err);
    is_int(r, XMP_OK, "dottls.test: no direct TLS, so the fallback");
    if (r == XMP_OK && n == 1)
        is_str(t[0].found_by, "fallback", "dottls.test: found by fallback");
    else
        ok(0, "dottls.test: one target");
    free(t);
    t = NULL;

    r = net_resolve("dotboth.test", &t, &n, &err);
    is_int(r, XMP_OK, "dotboth.test: direct TLS still offered");
    if (r == XMP_OK && n == 1)
        is_str(t[0].host, "direct.dotboth.test", "dotboth.test: host");
    else
        ok(0, "dotboth.test: one target");
    free(t);
    t = NULL;

    xmp_error_clear(&err);
    r = net_resolve("fail.test", &t, &n, &err);
    is_int(r, XMP_ETEMP, "resolve fail.test: temporary failure");
    ok(strstr(err.msg, "_xmpp-client._tcp.fail.test") != NULL,
       "fail.test: message names the query: %s", err.msg);

    r = net_resolve(NULL, &t, &n, &err);
    is_int(r, XMP_EUSAGE, "resolve NULL: usage");

    setenv("XMPCTL_DNS_SERVER", "bogus", 1);
    xmp_error_clear(&err);
    r = net_resolve("multi.test", &t, &n, &err);
    is_int(r, XMP_EUSAGE, "bad XMPCTL_DNS_SERVER: usage error");
    is_str(err.msg, "invalid XMPCTL_DNS_SERVER value 'bogus': "
                    "expected IPV4:PORT", "bad XMPCTL_DNS_SERVER: message");
    setenv("XMPCTL_DNS_SERVER", env, 1);
}

int main(void)
{
    uint16_t dns_port = 0;
    pid_t dns;
    int status = 0;

    /* start the fake DNS server before anything is allocated */
    dns = start_dns(&dns_port, fake_zone,
                    sizeof fake_zone / sizeof fake_zone[0]);

    test_order();
    test_parse_server();
    ok(dns > 0, "fake DNS server on 127.0.0.1 port %u", (unsigned)dns_port);
    if (dns > 0)
        test_resolve(dns_port);

    if (dns > 0) {
        kill(dns, SIGTERM);
        waitpid(dns, &status, 0);
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "fake DNS server stopped cleanly");
    }
    return tap_done();
}
