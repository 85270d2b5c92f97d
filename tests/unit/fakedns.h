/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fakedns.h - a fake DNS server for the unit tests (header-only): a child
 * process on 127.0.0.1 that answers SRV queries from a table, NXDOMAIN
 * for any other name, and may answer late.  Queries reach it through the
 * XMPCTL_DNS_SERVER hook, so nothing leaves loopback.
 */
#ifndef XMP_FAKEDNS_H
#define XMP_FAKEDNS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define CHILD_LIFETIME_S 60   /* the fake server dies by itself after this */
#define CHILD_POLL_MS 100
#define DNS_MSG_MAX 512       /* RFC 1035 §4.2.1: plain UDP */
#define DNS_HEADER_LEN 12
#define DNS_TTL 300

struct fake_srv {
    unsigned prio, weight, port;
    const char *target; /* "." for the root */
};

struct fake_name {
    const char *qname;
    int rcode; /* RFC 1035 §4.1.1: 0 ok, 2 SERVFAIL, 3 NXDOMAIN */
    size_t n;
    struct fake_srv rr[3];
    int delay_ms; /* answer this late (the server is busy meanwhile) */
};

static const struct fake_name *fake_names;
static size_t fake_nnames;

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

/* Encode name at out, compressing against a suffix of the question name
 * (RFC 1035 §4.1.4), which is how real servers answer. */
static size_t put_name(unsigned char *out, const char *name,
                       const char *qname, size_t qoff)
{
    size_t used = 0;

    if (strcmp(name, ".") == 0) {
        out[0] = 0;
        return 1;
    }
    while (*name) {
        const char *q = qname, *dot;
        size_t off = qoff, len;

        /* is the rest of name a suffix of qname at a label boundary? */
        while (*q) {
            if (strcasecmp(q, name) == 0) {
                put16(out + used, 0xC000u | (unsigned)off);
                return used + 2;
            }
            dot = strchr(q, '.');
            len = dot ? (size_t)(dot - q) : strlen(q);
            off += len + 1;
            q += len + (dot ? 1 : 0);
        }
        dot = strchr(name, '.');
        len = dot ? (size_t)(dot - name) : strlen(name);
        out[used++] = (unsigned char)len;
        memcpy(out + used, name, len);
        used += len;
        name += len + (dot ? 1 : 0);
    }
    out[used++] = 0;
    return used;
}

static ssize_t fake_answer(const unsigned char *q, size_t qlen,
                           unsigned char *r, size_t rmax)
{
    char qname[256];
    size_t off = DNS_HEADER_LEN, nl = 0, qend, used, i;
    const struct fake_name *z = NULL;
    unsigned ancount = 0;

    if (qlen < DNS_HEADER_LEN + 5 || q[4] != 0 || q[5] != 1)
        return -1;
    while (off < qlen && q[off] != 0) {
        size_t len = q[off];

        if (len > 63 || off + 1 + len >= qlen || nl + len + 2 > sizeof qname)
            return -1;
        if (nl)
            qname[nl++] = '.';
        memcpy(qname + nl, q + off + 1, len);
        nl += len;
        off += 1 + len;
    }
    qname[nl] = '\0';
    qend = off + 1 + 4;
    if (qend > qlen || qend > rmax)
        return -1;
    for (i = 0; i < fake_nnames; i++)
        if (strcasecmp(fake_names[i].qname, qname) == 0)
            z = &fake_names[i];
    if (z && z->delay_ms > 0)
        poll(NULL, 0, z->delay_ms);

    memcpy(r, q, qend);
    r[2] = (unsigned char)(0x80 | (q[2] & 0x79) | 0x04); /* QR, AA, RD */
    r[3] = (unsigned char)(0x80 | (z ? z->rcode : 3));   /* RA, rcode */
    put16(r + 6, 0);
    put16(r + 8, 0);
    put16(r + 10, 0);
    used = qend;
    for (i = 0; z && i < z->n; i++) {
        const struct fake_srv *s = &z->rr[i];
        size_t rdstart;

        if (used + 2 + 10 + 6 + 256 > rmax)
            return -1;
        put16(r + used, 0xC000u | DNS_HEADER_LEN); /* owner: qname */
        put16(r + used + 2, 33);                   /* SRV */
        put16(r + used + 4, 1);                    /* IN */
        put16(r + used + 6, 0);
        put16(r + used + 8, DNS_TTL);
        rdstart = used + 12;
        put16(r + rdstart, s->prio);
        put16(r + rdstart + 2, s->weight);
        put16(r + rdstart + 4, s->port);
        used = rdstart + 6;
        used += put_name(r + used, s->target, qname, DNS_HEADER_LEN);
        put16(r + rdstart - 2, (unsigned)(used - rdstart));
        ancount++;
    }
    put16(r + 6, ancount);
    return (ssize_t)used;
}

static volatile sig_atomic_t child_stop;

static void on_term(int sig)
{
    (void)sig;

    child_stop = 1;
}

static void dns_server(int fd)
{
    struct sigaction sa;
    unsigned char q[DNS_MSG_MAX], r[DNS_MSG_MAX];

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    alarm(CHILD_LIFETIME_S);
    while (!child_stop) {
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        struct pollfd pfd = { fd, POLLIN, 0 };
        ssize_t n, m;

        if (poll(&pfd, 1, CHILD_POLL_MS) <= 0)
            continue;
        n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &flen);
        if (n < 0)
            continue;
        m = fake_answer(q, (size_t)n, r, sizeof r);
        if (m > 0)
            sendto(fd, r, (size_t)m, 0, (struct sockaddr *)&from, flen);
    }
    close(fd);
    _exit(0);
}

/* Fork a fake DNS server on a free UDP port of 127.0.0.1 that answers
 * from names[0..n) (read by the child, so they must be filled before).
 * Stop it with SIGTERM; it exits by itself after CHILD_LIFETIME_S. */
static pid_t start_dns(uint16_t *port, const struct fake_name *names,
                       size_t n)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    pid_t pid;

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    fake_names = names;
    fake_nnames = n;
    fflush(stdout);
    pid = fork();
    if (pid == 0)
        dns_server(fd);
    close(fd);
    return pid;
}

#endif
