/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/*
 * resolver.c - name lookups on a thread of their own (see resolver.h).
 *
 * Why a thread: getaddrinfo and res_nquery block, and the library's steps
 * must not.  getaddrinfo_a cannot ask for SRV records (and runs its own
 * threads anyway); an asynchronous DNS library would be one more
 * dependency.
 *
 * Ownership: a job has two references, the owner's and the thread's, and
 * whoever drops the last one frees it, so neither ever waits for the
 * other.  Every field both sides touch after the thread starts is read
 * and written under the job's mutex; what is set before pthread_create
 * (domain, dns) is only read afterwards.  The write end of the socket
 * pair is the thread's alone: it writes one byte after each result
 * (MSG_NOSIGNAL, so an owner that has closed its end costs no SIGPIPE)
 * and closes it when it is done.
 *
 * A process may exit while the thread is still inside a DNS query.  The
 * thread then ends with it, its job still referenced from the thread's
 * own stack: leak checkers (valgrind, LeakSanitizer) count that memory as
 * reachable, not lost.
 */
#include "resolver.h"

#include <arpa/nameser.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ERRTEXT_MAX 128

enum slot_state { SLOT_WAITING, SLOT_READY, SLOT_TAKEN };

/* One target's address lookup. */
struct slot {
    enum slot_state state;
    enum xmp_err rc;
    struct xmp_error err;
    struct net_addr *addrs; /* the job's until taken */
    size_t n;
};

struct resolver {
    pthread_mutex_t lock;
    int refs;       /* the owner's and, while it runs, the thread's */
    int abandoned;  /* the owner is gone: stop at the next chance */
    int wfd;        /* the thread's; -1 once closed */
    char domain[NET_HOST_MAX]; /* "": targets were given */
    struct net_dns_server dns;

    /* published by the thread, under lock */
    int have_targets;
    enum xmp_err targets_rc;
    struct xmp_error targets_err;
    struct net_target *targets; /* never changed once published */
    size_t n;
    struct slot *slots;         /* n of them */
    char asking[NS_MAXDNAME];   /* the name DNS is being asked about */
};

static void job_free(struct resolver *r)
{
    size_t k;

    for (k = 0; r->slots && k < r->n; k++)
        free(r->slots[k].addrs);
    free(r->slots);
    free(r->targets);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static void job_unref(struct resolver *r)
{
    int last;

    pthread_mutex_lock(&r->lock);
    last = --r->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (last)
        job_free(r);
}

/* ---- the thread ---------------------------------------------------------- */

static void wake(struct resolver *r)
{
    static const char byte = 1;

    /* A full buffer already holds a wake-up; a closed peer needs none. */
    (void)send(r->wfd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static int set_asking(struct resolver *r, const char *name)
{
    int abandoned;

    pthread_mutex_lock(&r->lock);
    snprintf(r->asking, sizeof r->asking, "%s", name);
    abandoned = r->abandoned;
    pthread_mutex_unlock(&r->lock);
    return abandoned;
}

static int on_asking(void *ud, const char *name)
{
    return set_asking(ud, name);
}

static void look_up_srv(struct resolver *r)
{
    struct net_target *t = NULL;
    struct slot *slots = NULL;
    struct xmp_error e;
    enum xmp_err rc;
    size_t n = 0;

    xmp_error_clear(&e);
    rc = net_srv_lookup(r->domain, &r->dns, on_asking, r, &t, &n, &e);
    if (rc == XMP_OK && !(slots = calloc(n, sizeof *slots))) {
        free(t);
        t = NULL;
        n = 0;
        rc = xmp_error_set(&e, XMP_ENOMEM, "out of memory looking up %s",
                           r->domain);
    }
    pthread_mutex_lock(&r->lock);
    r->targets = t;
    r->n = n;
    r->slots = slots;
    r->targets_rc = rc;
    r->targets_err = e;
    r->have_targets = 1;
    r->asking[0] = '\0';
    pthread_mutex_unlock(&r->lock);
    wake(r);
}

/* The next target to look up, copied out under the lock; 0 when there is
 * none or the owner is gone. */
static int next_target(struct resolver *r, size_t k, struct net_target *t)
{
    int go;

    pthread_mutex_lock(&r->lock);
    go = !r->abandoned && r->have_targets && r->targets_rc == XMP_OK &&
         k < r->n;
    if (go) {
        *t = r->targets[k];
        snprintf(r->asking, sizeof r->asking, "%s", t->host);
    }
    pthread_mutex_unlock(&r->lock);
    return go;
}

static void *resolver_main(void *arg)
{
    struct resolver *r = arg;
    struct net_target t;
    size_t k;

    if (r->domain[0])
        look_up_srv(r);
    for (k = 0; next_target(r, k, &t); k++) {
        struct net_addr *a = NULL;
        struct xmp_error e;
        enum xmp_err rc;
        size_t n = 0;

        xmp_error_clear(&e);
        rc = net_addresses(&t, 0, &a, &n, &e);
        pthread_mutex_lock(&r->lock);
        r->slots[k].rc = rc;
        r->slots[k].err = e;
        r->slots[k].addrs = a;
        r->slots[k].n = n;
        r->slots[k].state = SLOT_READY;
        r->asking[0] = '\0';
        pthread_mutex_unlock(&r->lock);
        wake(r);
    }
    close(r->wfd);
    r->wfd = -1;
    job_unref(r);
    return NULL;
}

/* A detached thread with every signal blocked: signals are the
 * application's business, delivered to its own threads. */
static int spawn(struct resolver *r)
{
    sigset_t all, old;
    pthread_attr_t attr;
    pthread_t tid;
    int e;

    if ((e = pthread_attr_init(&attr)) != 0)
        return e;
    e = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (e == 0)
        e = pthread_create(&tid, &attr, resolver_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return e;
}

/* ---- the owner's side ---------------------------------------------------- */

/* Address literals resolve at once: fill every slot and return 1, or
 * return 0 (slots untouched) when some host needs DNS. */
static int all_literal(struct resolver *r)
{
    size_t k;

    for (k = 0; k < r->n; k++) {
        struct slot *s = &r->slots[k];

        xmp_error_clear(&s->err);
        s->rc = net_addresses(&r->targets[k], 1, &s->addrs, &s->n, &s->err);
        if (s->rc == XMP_AGAIN) {
            while (k > 0) {
                k--;
                free(r->slots[k].addrs);
            }
            memset(r->slots, 0, r->n * sizeof *r->slots);
            return 0;
        }
        s->state = SLOT_READY;
    }
    return 1;
}

enum xmp_err resolver_start(struct resolver **out, const char *domain,
                            const struct net_dns_server *dns,
                            const struct net_target *targets, size_t n,
                            int wfd, struct xmp_error *err)
{
    struct resolver *r;
    char etext[ERRTEXT_MAX];
    enum xmp_err rc;
    int e;

    *out = NULL;
    if (domain && strlen(domain) >= sizeof r->domain) {
        close(wfd);
        return xmp_error_set(err, XMP_EUSAGE, "domain name too long: %.64s...",
                             domain);
    }
    if (!(r = calloc(1, sizeof *r))) {
        close(wfd);
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    }
    if ((e = pthread_mutex_init(&r->lock, NULL)) != 0) {
        free(r);
        close(wfd);
        return xmp_error_set(err, XMP_ENOMEM, "cannot create a mutex: %s",
                             net_errno_text(e, etext, sizeof etext));
    }
    r->refs = 1;
    r->wfd = wfd;
    if (domain) {
        memcpy(r->domain, domain, strlen(domain) + 1);
        if (dns)
            r->dns = *dns;
    } else {
        r->targets = malloc(n * sizeof *targets);
        r->slots = calloc(n, sizeof *r->slots);
        if (!r->targets || !r->slots) {
            rc = xmp_error_set(err, XMP_ENOMEM, "out of memory");
            goto fail;
        }
        memcpy(r->targets, targets, n * sizeof *targets);
        r->n = n;
        r->have_targets = 1;
        r->targets_rc = XMP_OK;
        if (all_literal(r)) {
            close(r->wfd);
            r->wfd = -1;
            *out = r;
            return XMP_OK;
        }
    }
    r->refs = 2;
    if ((e = spawn(r)) != 0) {
        r->refs = 1;
        rc = xmp_error_set(err, XMP_ESYS,
                           "cannot start a thread to look up names: %s",
                           net_errno_text(e, etext, sizeof etext));
        goto fail;
    }
    *out = r;
    return XMP_OK;
fail:
    close(r->wfd);
    job_free(r);
    return rc;
}

enum xmp_err resolver_targets(struct resolver *r, struct net_target **t,
                              size_t *n, struct xmp_error *err)
{
    enum xmp_err rc = XMP_AGAIN;

    *t = NULL;
    *n = 0;
    pthread_mutex_lock(&r->lock);
    if (r->have_targets && r->targets_rc != XMP_OK) {
        rc = r->targets_rc;
        if (err)
            *err = r->targets_err;
    } else if (r->have_targets) {
        if ((*t = malloc(r->n * sizeof **t))) {
            memcpy(*t, r->targets, r->n * sizeof **t);
            *n = r->n;
            rc = XMP_OK;
        } else {
            rc = xmp_error_set(err, XMP_ENOMEM, "out of memory");
        }
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

enum xmp_err resolver_addresses(struct resolver *r, size_t k,
                                struct net_addr **a, size_t *n,
                                struct xmp_error *err)
{
    enum xmp_err rc = XMP_AGAIN;
    struct slot *s;

    *a = NULL;
    *n = 0;
    pthread_mutex_lock(&r->lock);
    if (!r->have_targets || r->targets_rc != XMP_OK) {
        /* not yet, or never: resolver_targets says which */
    } else if (k >= r->n || r->slots[k].state == SLOT_TAKEN) {
        rc = xmp_error_set(err, XMP_EUSAGE, "no address lookup %zu", k);
    } else if (r->slots[k].state == SLOT_READY) {
        s = &r->slots[k];
        rc = s->rc;
        if (rc == XMP_OK) {
            *a = s->addrs;
            *n = s->n;
            s->addrs = NULL;
        } else if (err) {
            *err = s->err;
        }
        s->state = SLOT_TAKEN;
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

void resolver_asking(struct resolver *r, char *buf, size_t len)
{
    pthread_mutex_lock(&r->lock);
    snprintf(buf, len, "%s", r->asking);
    pthread_mutex_unlock(&r->lock);
}

void resolver_free(struct resolver *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->abandoned = 1;
    pthread_mutex_unlock(&r->lock);
    job_unref(r);
}
