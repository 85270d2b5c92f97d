/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/*
 * test_connect.c - the connector against loopback listeners: refused
 * addresses skipped at once, black-holed ones overtaken by the next
 * attempt after the Connection Attempt Delay (RFC 8305 §5), one deadline
 * for DNS and every connect, names looked up on the resolver thread
 * (SRV from a fake DNS server, "localhost" from /etc/hosts), and a
 * connector freed while its thread is still inside a DNS query.
 *
 * Only 127.0.0.1 and ::1 are ever contacted.  A "black-holed" address is
 * a listener whose accept queue is full: loopback drops the SYNs, so a
 * connect to it neither succeeds nor fails.  (A socket bound but not
 * listening answers with a reset here: refused, not silent.)
 *
 * No wait below is a fixed sleep: every loop polls descriptors towards a
 * bound; elapsed times are checked only against generous sanity bounds.
 */
#include "net.h"
#include "tap.h"
#include "fakedns.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>

#define BUDGET_MS 20000     /* plenty: these runs end long before */
#define SHORT_BUDGET_MS 1000
#define LONG_DELAY_MS 60000 /* no attempt starts by the clock */
#define DRIVE_LIMIT_MS 15000
#define SANITY_MS 5000      /* "it ended", not "it was fast" */
#define STUCK_PROBE_MS 200
#define STUCK_FILLERS 16
#define SLOW_DNS_MS 2000  /* far longer than freeing can take */
#define THREAD_END_MS 10000

/* ---- loopback helpers ---------------------------------------------------- */

static int listener(int family, int backlog, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;

        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
        listen(fd, backlog) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(family == AF_INET6
                      ? ((struct sockaddr_in6 *)&ss)->sin6_port
                      : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* A loopback port nobody listens on (bound once, then let go). */
static uint16_t closed_port(void)
{
    uint16_t port = 0;
    int fd = listener(AF_INET, 1, &port);

    if (fd >= 0)
        close(fd);
    return port;
}

/* A listener with a full accept queue: connects to it hang. */
struct blackhole {
    int lfd;
    int fill[STUCK_FILLERS];
    int nfill;
    uint16_t port;
};

static int blackhole_open(struct blackhole *b)
{
    struct sockaddr_in a;
    int stuck = 0;

    memset(b, 0, sizeof *b);
    b->lfd = listener(AF_INET, 0, &b->port);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(b->port);
    while (b->lfd >= 0 && b->nfill < STUCK_FILLERS && !stuck) {
        struct pollfd pfd;
        int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       0);

        if (s < 0)
            break;
        b->fill[b->nfill++] = s;
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0)
            continue;
        pfd.fd = s;
        pfd.events = POLLOUT;
        pfd.revents = 0;
        stuck = poll(&pfd, 1, STUCK_PROBE_MS) == 0;
    }
    return stuck ? 0 : -1;
}

static void blackhole_close(struct blackhole *b)
{
    int i;

    for (i = 0; i < b->nfill; i++)
        close(b->fill[i]);
    if (b->lfd >= 0)
        close(b->lfd);
    b->nfill = 0;
    b->lfd = -1;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void target(struct net_target *t, const char *host, uint16_t port)
{
    memset(t, 0, sizeof *t);
    snprintf(t->host, sizeof t->host, "%s", host);
    t->port = port;
    t->found_by = "--server";
}

/* ---- driving a connector the way an event loop does ---------------------- */

struct run {
    enum xmp_err r;
    int fd;
    struct xmp_error err;
    int64_t elapsed;
    int late_deadline; /* a deadline past the budget was asked for */
    int bad_fd;        /* the descriptor to poll was missing */
};

/* created: taken just before the connector was; the budget started a
 * little later, and ends no later than budget_ms after this call. */
static void drive(struct net_connector *c, int64_t created, int budget_ms,
                  struct run *out)
{
    int64_t limit = created + DRIVE_LIMIT_MS;
    int64_t latest = xmp_now_ms() + budget_ms;

    memset(out, 0, sizeof *out);
    xmp_error_clear(&out->err);
    for (;;) {
        struct pollfd pfd;
        int64_t dl, wait;

        out->r = net_connector_step(c, &out->fd, &out->err);
        if (out->r != XMP_AGAIN || xmp_now_ms() > limit)
            break;
        if (net_connector_pending(c))
            continue;
        dl = net_connector_deadline(c);
        if (dl < 0 || dl > latest)
            out->late_deadline = 1;
        wait = dl - xmp_now_ms();
        pfd.fd = net_connector_fd(c);
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (pfd.fd < 0)
            out->bad_fd = 1;
        poll(&pfd, 1, wait < 0 ? 0 : wait > DRIVE_LIMIT_MS ? DRIVE_LIMIT_MS
                                                           : (int)wait);
    }
    out->elapsed = xmp_now_ms() - created;
}

static void take(int lfd)
{
    int afd = accept(lfd, NULL, NULL);

    if (afd >= 0)
        close(afd);
}

/* Wait (bounded) until the descriptors open are back to n: resolver
 * threads close their end when they are done.  Returns the count. */
static int fds_back_to(int n)
{
    int64_t end = xmp_now_ms() + THREAD_END_MS;
    int left;

    while ((left = count_fds()) != n && xmp_now_ms() < end)
        poll(NULL, 0, 10);
    return left;
}

/* ---- tests --------------------------------------------------------------- */

static void test_arguments(void)
{
    struct net_connector *c = NULL;
    struct net_target t;
    struct xmp_error err;

    target(&t, "127.0.0.1", 5222);
    is_int(net_connector_new(&c, &t, 0, BUDGET_MS, &err), XMP_EUSAGE,
           "no targets is a usage error");
    is_int(net_connector_new(&c, &t, 1, 0, &err), XMP_EUSAGE,
           "no time at all is a usage error");
    is_int(net_connector_srv(&c, "", BUDGET_MS, &err), XMP_EUSAGE,
           "no domain is a usage error");
    ok(c == NULL, "nothing made");
}

static void test_direct(int lfd, uint16_t lport, uint16_t cport)
{
    struct net_connector *c = NULL;
    struct net_target t[2];
    struct run run;
    char want[XMP_ERRMSG_MAX];
    int64_t t0;
    int afd, l6fd;
    uint16_t l6port = 0;

    /* one live address */
    target(&t[0], "127.0.0.1", lport);
    t0 = xmp_now_ms();
    is_int(net_connector_new(&c, t, 1, BUDGET_MS, &run.err), XMP_OK,
           "live: created");
    ok(net_connector_pending(c), "live: an address literal is ready at once");
    drive(c, t0, BUDGET_MS, &run);
    is_int(run.r, XMP_OK, "live: connected");
    ok(run.fd >= 0, "live: got a socket");
    snprintf(want, sizeof want, "127.0.0.1:%u", (unsigned)lport);
    is_str(net_connector_address(c), want, "live: address");
    ok(net_connector_target(c) && net_connector_target(c)->port == lport,
       "live: target");
    is_int(net_connector_fd(c), -1, "live: nothing left to poll");
    is_int(net_connector_step(c, &afd, &run.err), XMP_EUSAGE,
           "live: stepping again is misuse");
    afd = accept(lfd, NULL, NULL);
    ok(afd >= 0, "live: the listener sees it");
    if (afd >= 0)
        close(afd);
    if (run.fd >= 0)
        close(run.fd);
    net_connector_free(c);

    /* refused */
    target(&t[0], "127.0.0.1", cport);
    t0 = xmp_now_ms();
    net_connector_new(&c, t, 1, BUDGET_MS, &run.err);
    drive(c, t0, BUDGET_MS, &run);
    is_int(run.r, XMP_EUNREACH, "refused: unreachable");
    is_int(run.err.code, XMP_EUNREACH, "refused: err.code");
    snprintf(want, sizeof want,
             "cannot connect to 127.0.0.1 port %u (127.0.0.1): "
             "connection refused", (unsigned)cport);
    is_str(run.err.msg, want, "refused: message");
    is_int(run.fd, -1, "refused: no socket");
    ok(net_connector_address(c) == NULL, "refused: no address");
    is_int(net_connector_step(c, &afd, &run.err), XMP_EUNREACH,
           "refused: the failure sticks");
    ok(run.elapsed < SANITY_MS, "refused: ended (%lld ms)",
       (long long)run.elapsed);
    net_connector_free(c);

    /* refused, then live: with no attempt ever started by the clock, only
     * the failure can have started the second */
    target(&t[0], "127.0.0.1", cport);
    target(&t[1], "127.0.0.1", lport);
    t0 = xmp_now_ms();
    net_connector_new(&c, t, 2, BUDGET_MS, &run.err);
    net_connector_set_attempt_delay(c, LONG_DELAY_MS);
    drive(c, t0, BUDGET_MS, &run);
    is_int(run.r, XMP_OK, "refused then live: a failure starts the next");
    ok(net_connector_target(c) && net_connector_target(c)->port == lport,
       "refused then live: the second target");
    ok(run.elapsed < SANITY_MS, "refused then live: ended (%lld ms)",
       (long long)run.elapsed);
    take(lfd);
    if (run.fd >= 0)
        close(run.fd);
    net_connector_free(c);

    /* IPv6 loopback, where there is one */
    l6fd = listener(AF_INET6, 8, &l6port);
    if (l6fd >= 0) {
        target(&t[0], "::1", l6port);
        t0 = xmp_now_ms();
        net_connector_new(&c, t, 1, BUDGET_MS, &run.err);
        drive(c, t0, BUDGET_MS, &run);
        is_int(run.r, XMP_OK, "::1: connected");
        snprintf(want, sizeof want, "[::1]:%u", (unsigned)l6port);
        is_str(net_connector_address(c), want, "::1: address");
        if (run.fd >= 0)
            close(run.fd);
        net_connector_free(c);
        close(l6fd);
    } else {
        ok(1, "# SKIP no IPv6 loopback");
        ok(1, "# SKIP no IPv6 loopback");
    }
}

static void test_stagger(int lfd, uint16_t lport)
{
    struct net_connector *c = NULL;
    struct net_target t[3];
    struct blackhole b1, b2;
    struct run run;
    char want[XMP_ERRMSG_MAX];
    int64_t t0, dl;
    int fds, i;

    if (blackhole_open(&b1) < 0 || blackhole_open(&b2) < 0) {
        for (i = 0; i < 16; i++)
            ok(1, "# SKIP cannot fill an accept queue here");
        goto out;
    }

    /* black-holed, then live: the second starts beside the first */
    fds = count_fds();
    target(&t[0], "127.0.0.1", b1.port);
    target(&t[1], "127.0.0.1", lport);
    t0 = xmp_now_ms();
    net_connector_new(&c, t, 2, BUDGET_MS, &run.err);
    is_int(net_connector_step(c, &run.fd, &run.err), XMP_AGAIN,
           "black-holed then live: the first attempt hangs");
    dl = net_connector_deadline(c);
    ok(dl >= 0 && dl < t0 + BUDGET_MS,
       "black-holed then live: woken before the budget ends, to stagger");
    drive(c, t0, BUDGET_MS, &run);
    is_int(run.r, XMP_OK, "black-holed then live: connected");
    ok(net_connector_target(c) && net_connector_target(c)->port == lport,
       "black-holed then live: the live one won");
    ok(!run.late_deadline, "black-holed then live: no deadline past the "
                           "budget");
    ok(!run.bad_fd, "black-holed then live: always a descriptor to poll");
    ok(run.elapsed < SANITY_MS, "black-holed then live: ended (%lld ms)",
       (long long)run.elapsed);
    take(lfd);
    if (run.fd >= 0)
        close(run.fd);
    net_connector_free(c);
    is_int(count_fds(), fds, "black-holed then live: the loser was closed");

    /* the same without the stagger: the budget runs out first */
    target(&t[0], "127.0.0.1", b1.port);
    target(&t[1], "127.0.0.1", lport);
    t0 = xmp_now_ms();
    net_connector_new(&c, t, 2, SHORT_BUDGET_MS, &run.err);
    net_connector_set_attempt_delay(c, LONG_DELAY_MS);
    drive(c, t0, SHORT_BUDGET_MS, &run);
    is_int(run.r, XMP_ETIMEOUT, "no stagger: out of time");
    snprintf(want, sizeof want,
             "cannot connect to 127.0.0.1 within 1 s: tried 1 address at "
             "1 of 2 servers; last: 127.0.0.1 port %u (127.0.0.1): no answer",
             (unsigned)b1.port);
    is_str(run.err.msg, want, "no stagger: message");
    net_connector_free(c);

    /* only black holes: one deadline for all of them */
    fds = count_fds();
    target(&t[0], "127.0.0.1", b1.port);
    target(&t[1], "127.0.0.1", b2.port);
    target(&t[2], "127.0.0.1", b1.port);
    t0 = xmp_now_ms();
    net_connector_new(&c, t, 3, SHORT_BUDGET_MS, &run.err);
    drive(c, t0, SHORT_BUDGET_MS, &run);
    is_int(run.r, XMP_ETIMEOUT, "black holes: out of time");
    is_int(run.err.code, XMP_ETIMEOUT, "black holes: err.code");
    /* how many were started within the second depends on the clock */
    ok(strncmp(run.err.msg, "cannot connect to 127.0.0.1 within 1 s: tried ",
               46) == 0 && strstr(run.err.msg, " servers; last: 127.0.0.1 "
                                              "port ") &&
           strstr(run.err.msg, "(127.0.0.1): no answer"),
       "black holes: message names what was tried: %s", run.err.msg);
    ok(run.elapsed >= SHORT_BUDGET_MS - 1,
       "black holes: not before the budget ran out");
    ok(run.elapsed < SANITY_MS, "black holes: the step loop ended "
                                "(%lld ms)", (long long)run.elapsed);
    ok(!run.late_deadline, "black holes: no deadline past the budget");
    is_int(net_connector_fd(c), -1, "black holes: nothing left to poll");
    is_int(count_fds(), fds + 1, "black holes: only the epoll set is left");
    net_connector_free(c);
out:
    blackhole_close(&b1);
    blackhole_close(&b2);
}

/* SRV records from the fake DNS server, addresses from the thread. */
static void test_srv(uint16_t dns_port, uint16_t lport)
{
    struct net_connector *c = NULL;
    struct run run;
    char env[64], want[XMP_ERRMSG_MAX];
    const struct net_target *t;
    int64_t t0;
    int fds = count_fds();

    snprintf(env, sizeof env, "127.0.0.1:%u", (unsigned)dns_port);
    setenv("XMPCTL_DNS_SERVER", env, 1);

    t0 = xmp_now_ms();
    is_int(net_connector_srv(&c, "srv.test", BUDGET_MS, &run.err), XMP_OK,
           "srv.test: created");
    ok(net_connector_fd(c) >= 0, "srv.test: a descriptor to poll while "
                                 "DNS works");
    drive(c, t0, BUDGET_MS, &run);
    is_int(run.r, XMP_OK, "srv.test: connected past a refused record");
    t = net_connector_target(c);
    is_str(t ? t->host : NULL, "localhost", "srv.test: the second record");
    is_str(t ? t->found_by : NULL, "SRV _xmpp-client._tcp",
           "srv.test: found by SRV");
    snprintf(want, sizeof want, "127.0.0.1:%u", (unsigned)lport);
    is_str(net_connector_address(c), want, "srv.test: address of localhost");
    if (run.fd >= 0)
        close(run.fd);
    net_connector_free(c);

    t0 = xmp_now_ms();
    net_connector_srv(&c, "dot.test", BUDGET_MS, &run.err);
    drive(c, t0, BUDGET_MS, &run);
    is_int(run.r, XMP_ENOHOST, "dot.test: the lookup's own error");
    is_str(run.err.msg, "xmpp service decidedly not available at dot.test "
                        "(SRV target \".\")", "dot.test: message");
    net_connector_free(c);

    setenv("XMPCTL_DNS_SERVER", "bogus", 1);
    c = NULL;
    is_int(net_connector_srv(&c, "srv.test", BUDGET_MS, &run.err),
           XMP_EUSAGE, "bad XMPCTL_DNS_SERVER: refused at once");
    ok(c == NULL, "bad XMPCTL_DNS_SERVER: nothing made");
    unsetenv("XMPCTL_DNS_SERVER");
    is_int(fds_back_to(fds), fds, "SRV lookups: every thread ended");
}

/* Freed while the thread waits for DNS: nothing waits for the thread, and
 * the thread cleans up after itself once the answer comes. */
static void test_abandon(uint16_t dns_port)
{
    struct net_connector *c = NULL;
    struct xmp_error err;
    char env[64];
    int fds, fd, left;

    snprintf(env, sizeof env, "127.0.0.1:%u", (unsigned)dns_port);
    setenv("XMPCTL_DNS_SERVER", env, 1);
    fds = count_fds();
    net_connector_srv(&c, "slow.test", BUDGET_MS, &err);
    is_int(net_connector_step(c, &fd, &err), XMP_AGAIN,
           "slow DNS: still asking");
    net_connector_free(c);
    /* had freeing waited for the thread, its end would be closed */
    left = count_fds();
    ok(left > fds, "slow DNS: freed without waiting; the thread still holds "
                   "its end (%d > %d)", left, fds);
    is_int(fds_back_to(fds), fds,
           "slow DNS: the thread ended and closed its end");
    unsetenv("XMPCTL_DNS_SERVER");
}

/* A DNS server that never answers: the budget covers DNS too.  The thread
 * is still waiting when the process exits. */
static void test_dns_silent(void)
{
    struct net_connector *c = NULL;
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    struct run run;
    char env[64];
    int64_t t0;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
        ok(0, "silent DNS: cannot bind a UDP socket");
        return;
    }
    /* bound and never read: queries go nowhere, nothing comes back */
    snprintf(env, sizeof env, "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    setenv("XMPCTL_DNS_SERVER", env, 1);
    t0 = xmp_now_ms();
    net_connector_srv(&c, "silent.test", SHORT_BUDGET_MS, &run.err);
    drive(c, t0, SHORT_BUDGET_MS, &run);
    is_int(run.r, XMP_ETIMEOUT, "silent DNS: out of time");
    is_str(run.err.msg, "no answer from DNS for _xmpps-client._tcp."
                        "silent.test within 1 s", "silent DNS: message");
    ok(run.elapsed < SANITY_MS, "silent DNS: the step loop ended (%lld ms)",
       (long long)run.elapsed);
    net_connector_free(c);
    unsetenv("XMPCTL_DNS_SERVER");
    /* fd stays open: the thread must still be waiting at exit */
}

static struct fake_name zone[3];

int main(void)
{
    uint16_t lport = 0, cport, dns_port = 0;
    pid_t dns;
    int lfd, status = 0;

    lfd = listener(AF_INET, 8, &lport);
    cport = closed_port();
    ok(lfd >= 0, "listening on 127.0.0.1 port %u", (unsigned)lport);

    /* the zone needs the ports; the child is forked before any thread */
    zone[0].qname = "_xmpp-client._tcp.srv.test";
    zone[0].n = 2;
    zone[0].rr[0] = (struct fake_srv){ 1, 0, cport, "127.0.0.1" };
    zone[0].rr[1] = (struct fake_srv){ 2, 0, lport, "localhost" };
    zone[1].qname = "_xmpp-client._tcp.dot.test";
    zone[1].n = 1;
    zone[1].rr[0] = (struct fake_srv){ 0, 0, 0, "." };
    zone[2].qname = "_xmpps-client._tcp.slow.test";
    zone[2].delay_ms = SLOW_DNS_MS;
    dns = start_dns(&dns_port, zone, sizeof zone / sizeof zone[0]);
    ok(dns > 0, "fake DNS server on 127.0.0.1 port %u", (unsigned)dns_port);

    test_arguments();
    if (lfd >= 0) {
        test_direct(lfd, lport, cport);
        test_stagger(lfd, lport);
    }
    if (dns > 0) {
        test_srv(dns_port, lport);
        test_abandon(dns_port);
        kill(dns, SIGTERM);
        waitpid(dns, &status, 0);
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "fake DNS server stopped cleanly");
    }
    test_dns_silent();
    if (lfd >= 0)
        close(lfd);
    return tap_done();
}
