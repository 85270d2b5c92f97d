/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * queue_flush.c - send an account's queued messages on a ready session,
 * in the order they were queued, one entry at a time: its messages, an
 * acknowledgement request and the bounce barrier (a ping, as send's);
 * once the server has answered for them, the entry goes.  A recipient
 * whose message bounced with an error of type cancel, modify or auth
 * (RFC 6120 §8.3.2: retrying will not help) is set aside in failed/ with
 * the reason; one of type wait stays queued.  A lost session stops the
 * flush: what the server has not acknowledged stays queued, with the
 * same id (and XEP-0359 origin-id) for the next attempt.
 *
 * One flush at a time per user (an flock on queue/.lock), so that the
 * session holder and `xmpctl queue flush` never both send an entry.
 * Used by `queue flush` (cmd_queue.c) and the session holder.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"

#define NS_SID "urn:xmpp:sid:0"

struct qflush {
    struct xmp_session *s;
    struct xmp_jid account;
    char *account_s;
    qflush_report_fn report;
    void *ud;
    int lock;
    char **names;
    size_t nnames, next;
    struct queued cur;
    int have_cur;
    uint64_t last_seq;
    int pinging;
    /* per recipient of cur: 0 sent, 1 bounced for good, 2 bounced for
     * now (type wait) */
    int *fate;
    char (*why)[256];
    unsigned handler;
    int have_handler;
    struct qflush_counts n;
    int done;
};

static void report(struct qflush *f, const char *name, const char *to,
                   enum qflush_result r, const char *why)
{
    if (f->report)
        f->report(f->ud, name, to, r, why);
}

/* RFC 6120 §8.3.2: an error of type wait may pass; the others will not. */
static int for_good(const struct xmp_node *st)
{
    const struct xmp_node *e = xmp_node_child(st, "jabber:client", "error");
    const char *type = e ? xmp_node_attr(e, "type") : NULL;

    return !type || strcmp(type, "wait") != 0;
}

static int on_bounce(struct xmp_session *s, const struct xmp_node *st,
                     void *ud)
{
    struct qflush *f = ud;
    const char *type = xmp_node_attr(st, "type");
    struct xmp_jid to;
    size_t i;

    (void)s;
    if (!f->have_cur || !type || strcmp(type, "error") != 0)
        return XMP_PASS;
    for (i = 0; i < f->cur.nto; i++) {
        if (f->fate[i] ||
            xmp_jid_parse(f->cur.to[i].jid, &to, NULL) != XMP_OK)
            continue;
        if (cli_is_bounce(st, f->cur.to[i].id, &to)) {
            f->fate[i] = for_good(st) ? 1 : 2;
            xmp_error_describe(st, f->why[i], sizeof f->why[i]);
        }
        xmp_jid_clear(&to);
    }
    return XMP_PASS;
}

static void on_barrier(struct xmp_session *s, const struct xmp_node *reply,
                       const struct xmp_error *e, void *ud)
{
    struct qflush *f = ud;

    (void)s; (void)reply; (void)e;
    f->pinging = 0;
}

static struct xmp_node *build(const struct queued *q, size_t i)
{
    struct xmp_node *m = xmp_node_new("jabber:client", "message", NULL), *b;
    int fail;

    if (!m)
        return NULL;
    fail = xmp_node_set_attr(m, "to", q->to[i].jid, NULL) ||
           xmp_node_set_attr(m, "type", q->type ? q->type : "chat", NULL) ||
           xmp_node_set_attr(m, "id", q->to[i].id, NULL);
    if (!fail && q->subject)
        fail = !(b = xmp_node_add_child(m, "jabber:client", "subject",
                                        NULL)) ||
               xmp_node_add_text(b, q->subject, strlen(q->subject), NULL);
    if (!fail)
        fail = !(b = xmp_node_add_child(m, "jabber:client", "body", NULL)) ||
               xmp_node_add_text(b, q->text, q->len, NULL);
    if (!fail && q->thread)
        fail = !(b = xmp_node_add_child(m, "jabber:client", "thread",
                                        NULL)) ||
               xmp_node_add_text(b, q->thread, strlen(q->thread), NULL);
    if (!fail)
        fail = !(b = xmp_node_add_child(m, NS_SID, "origin-id", NULL)) ||
               xmp_node_set_attr(b, "id", q->to[i].id, NULL);
    if (fail) {
        xmp_node_free(m);
        return NULL;
    }
    return m;
}

static int same_account(const struct qflush *f, const char *jid)
{
    struct xmp_jid j;
    int same;

    if (xmp_jid_parse(jid, &j, NULL) != XMP_OK)
        return 0;
    same = xmp_jid_match(&f->account, &j);
    xmp_jid_clear(&j);
    return same;
}

static void drop_cur(struct qflush *f)
{
    cli_queue_clear(&f->cur);
    free(f->fate);
    free(f->why);
    f->fate = NULL;
    f->why = NULL;
    f->have_cur = 0;
}

/* Take the next entry of the account and send it: 1 sent, 0 none left,
 * -1 the session took nothing more. */
static int send_next(struct qflush *f)
{
    struct xmp_session_info info;
    struct xmp_node *m, *iq;
    uint64_t seq = 0;
    size_t i;

    for (;;) {
        if (f->next >= f->nnames)
            return 0;
        if (cli_queue_read(f->names[f->next++], 0, &f->cur) < 0)
            continue; /* gone (dropped, or sent by an earlier flush) */
        if (same_account(f, f->cur.account))
            break;
        cli_queue_clear(&f->cur);
    }
    f->have_cur = 1;
    if (!(f->fate = calloc(f->cur.nto, sizeof *f->fate)) ||
        !(f->why = calloc(f->cur.nto, sizeof *f->why)))
        return -1;
    for (i = 0; i < f->cur.nto; i++) {
        if (!(m = build(&f->cur, i)))
            return -1;
        if (xmp_session_send(f->s, m, &seq) != XMP_OK) {
            xmp_node_free(m);
            return -1;
        }
        xmp_node_free(m);
        f->last_seq = seq;
    }
    if (xmp_session_request_ack(f->s) != XMP_OK)
        return -1;
    xmp_session_get_info(f->s, &info);
    if (info.sm) {
        iq = xmp_node_new("jabber:client", "iq", NULL);
        if (!iq || xmp_node_set_attr(iq, "type", "get", NULL) != XMP_OK ||
            !xmp_node_add_child(iq, "urn:xmpp:ping", "ping", NULL) ||
            xmp_session_send_iq(f->s, iq, 0, on_barrier, f, NULL) !=
                XMP_OK) {
            xmp_node_free(iq);
            return -1;
        }
        xmp_node_free(iq);
        f->pinging = 1;
    }
    return 1;
}

/* The server has answered for cur: each recipient sent, set aside or
 * kept; the file goes, or keeps what is left. */
static void settle(struct qflush *f)
{
    struct queued aside, kept;
    size_t i;
    int ok = 1;

    memset(&aside, 0, sizeof aside);
    memset(&kept, 0, sizeof kept);
    for (i = 0; i < f->cur.nto; i++) {
        const struct queued_to *t = &f->cur.to[i];

        if (f->fate[i] == 0) {
            f->n.sent++;
            report(f, f->cur.name, t->jid, QFLUSH_SENT, NULL);
            continue;
        }
        if (f->fate[i] == 1) {
            f->n.aside++;
            report(f, f->cur.name, t->jid, QFLUSH_FAILED, f->why[i]);
            if (!aside.nto)
                ok = (aside.reason = strdup(f->why[i])) != NULL && ok;
            ok = cli_queue_add_to(&aside, t->jid, t->id) == 0 && ok;
        } else {
            f->n.left++;
            report(f, f->cur.name, t->jid, QFLUSH_KEPT, f->why[i]);
            ok = cli_queue_add_to(&kept, t->jid, t->id) == 0 && ok;
        }
    }
    /* the same message, for the recipients it still concerns */
    for (i = 0; i < 2; i++) {
        struct queued *q = i ? &kept : &aside;

        if (!q->nto)
            continue;
        ok = ok && (q->account = strdup(f->cur.account)) &&
             (!f->cur.type || (q->type = strdup(f->cur.type))) &&
             (!f->cur.subject || (q->subject = strdup(f->cur.subject))) &&
             (!f->cur.thread || (q->thread = strdup(f->cur.thread))) &&
             (q->text = malloc(f->cur.len + 1));
        if (ok) {
            memcpy(q->text, f->cur.text, f->cur.len);
            q->len = f->cur.len;
            q->queued = f->cur.queued;
            /* kept: the same file, rewritten; set aside: under its name */
            memcpy(q->name, f->cur.name, sizeof q->name);
            ok = cli_queue_write(q, !i) == 0;
        }
    }
    if (!ok)
        cli_warn("cannot update the queued message %s", f->cur.name);
    if (ok && !kept.nto)
        cli_queue_remove(f->cur.name, 0);
    cli_queue_clear(&aside);
    cli_queue_clear(&kept);
    drop_cur(f);
}

struct qflush *qflush_new(struct xmp_session *s, const char *account,
                          qflush_report_fn fn, void *ud, int *busy)
{
    struct xmp_match m = { "message", "error", NULL, NULL };
    struct qflush *f = calloc(1, sizeof *f);
    char dir[4096], lock[4200];

    *busy = 0;
    if (!f)
        return NULL;
    f->s = s;
    f->report = fn;
    f->ud = ud;
    f->lock = -1;
    if (xmp_jid_parse(account, &f->account, NULL) != XMP_OK)
        goto fail;
    /* the bare JID: any resource of the account */
    free(f->account.resource);
    f->account.resource = NULL;
    if (cli_queue_dir(dir, sizeof dir, 0) < 0 || cli_private_mkdir(dir) < 0)
        goto fail;
    snprintf(lock, sizeof lock, "%s/.lock", dir);
    if ((f->lock = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                        0600)) < 0)
        goto fail;
    if (flock(f->lock, LOCK_EX | LOCK_NB) < 0) {
        *busy = errno == EWOULDBLOCK;
        goto fail;
    }
    /* read after the lock: what an earlier flush sent is gone */
    if (cli_queue_names(0, &f->names, &f->nnames) < 0)
        goto fail;
    if (xmp_handler_add(s, &m, XMP_PRIO_OBSERVE, on_bounce, f, &f->handler) ==
        XMP_OK)
        f->have_handler = 1;
    return f;
fail:
    qflush_free(f);
    return NULL;
}

int qflush_step(struct qflush *f)
{
    const struct xmp_error *e;
    int r;

    while (!f->done) {
        if (cli_session_over(f->s) ||
            xmp_session_phase(f->s) != XMP_PHASE_READY)
            return f->done = -1;
        if (f->have_cur) {
            if (xmp_session_acked(f->s) >= f->last_seq && !f->pinging) {
                settle(f);
                continue;
            }
            if ((e = xmp_session_ack_error(f->s)))
                return f->done = -1;
            return 0;
        }
        if ((r = send_next(f)) == 0)
            f->done = 1;
        else if (r < 0)
            return f->done = -1;
        else
            return 0;
    }
    return f->done;
}

void qflush_counts(const struct qflush *f, struct qflush_counts *n)
{
    size_t i;

    *n = f->n;
    /* not reached, or not answered for */
    n->left += f->have_cur ? f->cur.nto : 0;
    for (i = f->next; i < f->nnames; i++)
        n->untried++;
}

void qflush_free(struct qflush *f)
{
    if (!f)
        return;
    if (f->have_handler)
        xmp_handler_remove(f->s, f->handler);
    drop_cur(f);
    cli_queue_names_free(f->names, f->nnames);
    xmp_jid_clear(&f->account);
    if (f->lock >= 0)
        close(f->lock);
    free(f);
}
