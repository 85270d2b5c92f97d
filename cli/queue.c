/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * queue.c - messages kept for later: what `send --queue` could not hand
 * to the server, and what a flush takes out again in order.
 *
 *     $XDG_STATE_HOME/xmpctl/queue/ID          (~/.local/state)
 *     $XDG_STATE_HOME/xmpctl/queue/failed/ID   set aside, with the reason
 *
 * One file per message, written whole (private.c: 0700/0600, a new file
 * renamed over), named by the time it was queued (to the nanosecond) and 8
 * random hex digits, so that names sort in the order of queueing.  The file holds a header
 * of "key value" lines (values with '%', CR and LF %-escaped), an empty
 * line, and the text as it was given:
 *
 *     xmpctl-queue 1
 *     account alice@example.org
 *     queued 2026-12-07T23:40:00Z
 *     type chat
 *     to ops@example.org 5c1f0e2a9b7d4e31    (the recipient, the id)
 *
 * The id is the message's id and its XEP-0359 origin-id, the same on
 * every attempt: a recipient that saw an earlier attempt can tell.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define QUEUE_MAGIC "xmpctl-queue 1"
/* the text is at most SEND_MAX_TEXT; a header and a thousand
 * recipients fit beside it */
#define QUEUE_FILE_MAX (1024 * 1024)
#define QUEUE_MAX_TO 1024

int cli_queue_dir(char *dir, size_t len, int failed)
{
    const char *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");
    const char *sub = failed ? "/failed" : "";
    size_t n;

    if (x && x[0] == '/')
        n = (size_t)snprintf(dir, len, "%s/xmpctl/queue%s", x, sub);
    else if (h && h[0] == '/')
        n = (size_t)snprintf(dir, len, "%s/.local/state/xmpctl/queue%s", h,
                             sub);
    else
        return -1;
    return n < len ? 0 : -1;
}

void cli_queue_clear(struct queued *q)
{
    size_t i;

    free(q->account);
    free(q->type);
    free(q->subject);
    free(q->thread);
    free(q->reason);
    for (i = 0; i < q->nto; i++) {
        free(q->to[i].jid);
        free(q->to[i].id);
    }
    free(q->to);
    free(q->text);
    memset(q, 0, sizeof *q);
}

int cli_queue_add_to(struct queued *q, const char *jid, const char *id)
{
    struct queued_to *t;

    if (q->nto >= QUEUE_MAX_TO ||
        !(t = reallocarray(q->to, q->nto + 1, sizeof *t)))
        return -1;
    q->to = t;
    t += q->nto;
    t->jid = strdup(jid);
    t->id = strdup(id);
    if (!t->jid || !t->id) {
        free(t->jid);
        free(t->id);
        return -1;
    }
    q->nto++;
    return 0;
}

/* ---- the file ----------------------------------------------------------- */

struct buf {
    char *p;
    size_t len, cap;
    int failed;
};

static void put(struct buf *b, const char *s, size_t n)
{
    char *g;

    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;

        while (cap < b->len + n + 1)
            cap *= 2;
        if (!(g = realloc(b->p, cap))) {
            b->failed = 1;
            return;
        }
        b->p = g;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put_s(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* a value, %-escaped: '%', CR and LF */
static void put_value(struct buf *b, const char *s)
{
    char e[4];

    for (; *s; s++) {
        if (*s == '%' || *s == '\r' || *s == '\n') {
            snprintf(e, sizeof e, "%%%02X", (unsigned char)*s);
            put(b, e, 3);
        } else {
            put(b, s, 1);
        }
    }
}

static void put_field(struct buf *b, const char *key, const char *value)
{
    if (!value)
        return;
    put_s(b, key);
    put_s(b, " ");
    put_value(b, value);
    put_s(b, "\n");
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

/* a value of the file, unescaped in place; -1 when malformed */
static int unescape(char *s)
{
    char *o = s;

    for (; *s; s++) {
        if (*s == '%') {
            int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);

            if (lo < 0)
                return -1;
            *o++ = (char)(hi * 16 + lo);
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return 0;
}

static int new_name(char *name, size_t len)
{
    unsigned char r[4];
    char when[32];
    struct timespec now;
    struct tm tm;

    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r ||
        clock_gettime(CLOCK_REALTIME, &now) < 0)
        return -1;
    strftime(when, sizeof when, "%Y%m%dT%H%M%S", gmtime_r(&now.tv_sec, &tm));
    return (size_t)snprintf(name, len, "%s.%09ldZ-%02x%02x%02x%02x", when,
                            now.tv_nsec, r[0], r[1], r[2], r[3]) < len
               ? 0
               : -1;
}

/* Is name one of ours (not ".new.*", not "failed", nothing with a
 * slash)?  YYYYMMDDTHHMMSS.NNNNNNNNNZ-XXXXXXXX */
int cli_queue_is_name(const char *name)
{
    size_t i;

    if (strlen(name) != 35 || name[8] != 'T' || name[15] != '.' ||
        name[25] != 'Z' || name[26] != '-')
        return 0;
    for (i = 0; i < 35; i++)
        if (i != 8 && i != 15 && i != 25 && i != 26 &&
            !(name[i] >= '0' && name[i] <= '9') &&
            !(i > 26 && name[i] >= 'a' && name[i] <= 'f'))
            return 0;
    return 1;
}

int cli_queue_write(struct queued *q, int failed)
{
    char dir[4096], path[4200], when[32];
    struct buf b = { 0 };
    struct tm tm;
    size_t i;
    int rc;

    if (!q->name[0] && new_name(q->name, sizeof q->name) < 0)
        return -1;
    if (!q->queued)
        q->queued = time(NULL);
    if (cli_queue_dir(dir, sizeof dir, failed) < 0) {
        cli_warn("no $XDG_STATE_HOME or $HOME: nowhere to queue messages");
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", dir, q->name);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ",
             gmtime_r(&q->queued, &tm));
    put_s(&b, QUEUE_MAGIC "\n");
    put_field(&b, "account", q->account);
    put_field(&b, "queued", when);
    put_field(&b, "type", q->type);
    put_field(&b, "subject", q->subject);
    put_field(&b, "thread", q->thread);
    put_field(&b, "failed", failed ? q->reason : NULL);
    for (i = 0; i < q->nto; i++) {
        put_s(&b, "to ");
        put_value(&b, q->to[i].jid);
        put_s(&b, " ");
        put_value(&b, q->to[i].id);
        put_s(&b, "\n");
    }
    put_s(&b, "\n");
    put(&b, q->text ? q->text : "", q->len);
    if (b.failed) {
        free(b.p);
        cli_warn("out of memory");
        return -1;
    }
    rc = cli_private_write(dir, path, b.p, b.len, "the queued message");
    free(b.p);
    return rc;
}

static int set(char **field, const char *v)
{
    free(*field);
    return (*field = strdup(v)) ? 0 : -1;
}

/* Parse a file's bytes (NUL-terminated by cli_private_read's caller). */
static int parse(char *p, size_t len, struct queued *q)
{
    char *end = p + len, *nl, *v, *sp;
    struct tm tm;

    if (!(nl = memchr(p, '\n', len)) || (size_t)(nl - p) != strlen(QUEUE_MAGIC) ||
        memcmp(p, QUEUE_MAGIC, (size_t)(nl - p)) != 0)
        return -1;
    for (p = nl + 1; p < end && *p != '\n'; p = nl + 1) {
        if (!(nl = memchr(p, '\n', (size_t)(end - p))))
            return -1;
        *nl = '\0';
        if (!(v = strchr(p, ' ')))
            return -1;
        *v++ = '\0';
        if (strcmp(p, "to") == 0) {
            if (!(sp = strchr(v, ' ')))
                return -1;
            *sp++ = '\0';
            if (unescape(v) < 0 || unescape(sp) < 0 ||
                cli_queue_add_to(q, v, sp) < 0)
                return -1;
            continue;
        }
        if (unescape(v) < 0)
            return -1;
        if (strcmp(p, "account") == 0) {
            if (set(&q->account, v) < 0)
                return -1;
        } else if (strcmp(p, "queued") == 0) {
            memset(&tm, 0, sizeof tm);
            if (!strptime(v, "%Y-%m-%dT%H:%M:%SZ", &tm))
                return -1;
            q->queued = timegm(&tm);
        } else if (strcmp(p, "type") == 0) {
            if (set(&q->type, v) < 0)
                return -1;
        } else if (strcmp(p, "subject") == 0) {
            if (set(&q->subject, v) < 0)
                return -1;
        } else if (strcmp(p, "thread") == 0) {
            if (set(&q->thread, v) < 0)
                return -1;
        } else if (strcmp(p, "failed") == 0) {
            if (set(&q->reason, v) < 0)
                return -1;
        }
        /* other keys: of a later version, left alone */
    }
    if (p >= end || !q->account || !q->nto)
        return -1;
    p++;
    q->len = (size_t)(end - p);
    if (!(q->text = malloc(q->len + 1)))
        return -1;
    memcpy(q->text, p, q->len);
    q->text[q->len] = '\0';
    return 0;
}

int cli_queue_read(const char *name, int failed, struct queued *q)
{
    char dir[4096], path[4200];
    unsigned char *b;
    char *t;
    size_t len;
    int rc;

    memset(q, 0, sizeof *q);
    if (!cli_queue_is_name(name) ||
        cli_queue_dir(dir, sizeof dir, failed) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(b = cli_private_read(dir, path, "the queued message", 1,
                               QUEUE_FILE_MAX, &len)))
        return -1;
    if (!(t = malloc(len + 1))) {
        cli_private_free(b, len);
        return -1;
    }
    memcpy(t, b, len);
    t[len] = '\0';
    cli_private_free(b, len);
    rc = parse(t, len, q);
    free(t);
    if (rc < 0) {
        cli_warn("ignoring %s: not a queued message this version reads",
                 path);
        cli_queue_clear(q);
        return -1;
    }
    snprintf(q->name, sizeof q->name, "%s", name);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cli_queue_names(int failed, char ***names, size_t *n)
{
    char dir[4096], **v = NULL, **g;
    struct dirent *e;
    size_t k = 0;
    DIR *d;

    *names = NULL;
    *n = 0;
    if (cli_queue_dir(dir, sizeof dir, failed) < 0)
        return 0;
    if (!(d = opendir(dir)))
        return errno == ENOENT ? 0 : -1;
    while ((e = readdir(d))) {
        if (!cli_queue_is_name(e->d_name))
            continue;
        if (!(g = reallocarray(v, k + 1, sizeof *v)) ||
            !(g[k] = strdup(e->d_name))) {
            if (g)
                v = g;
            closedir(d);
            cli_queue_names_free(v, k);
            return -1;
        }
        v = g;
        k++;
    }
    closedir(d);
    if (k)
        qsort(v, k, sizeof *v, by_name);
    *names = v;
    *n = k;
    return 0;
}

void cli_queue_names_free(char **names, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int cli_queue_remove(const char *name, int failed)
{
    char dir[4096], path[4200];

    if (!cli_queue_is_name(name) ||
        cli_queue_dir(dir, sizeof dir, failed) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (unlink(path) < 0) {
        if (errno != ENOENT)
            cli_warn("cannot remove %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The account's entries in the queue changed since *stamp (its
 * directory's mtime): 1, and *stamp updated. */
int cli_queue_changed(struct timespec *stamp)
{
    char dir[4096];
    struct stat st;

    if (cli_queue_dir(dir, sizeof dir, 0) < 0 || stat(dir, &st) < 0)
        return 0;
    if (st.st_mtim.tv_sec == stamp->tv_sec &&
        st.st_mtim.tv_nsec == stamp->tv_nsec)
        return 0;
    *stamp = st.st_mtim;
    return 1;
}
