/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cmd_queue.c - the messages `send --queue` kept for later: list them,
 * send the account's now (flush), or drop some (queue.c has the files,
 * queue_flush.c the sending; the session holder flushes by itself
 * whenever it is connected).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_FAILED = 256 };

static const struct opt_def queue_opts[] = {
    {"failed", OPT_FAILED, NULL, "list or drop the messages set aside (a "
                                 "recipient refused them), not the queue",
     ARG_NONE},
};
const struct opt_list queue_options = {
    queue_opts, sizeof queue_opts / sizeof queue_opts[0]
};

static struct {
    int failed;
    char **drop;
    int ndrop;
} qa;

static int set_queue(void *ud, int id, const char *arg)
{
    (void)ud; (void)arg;
    if (id == OPT_FAILED) {
        qa.failed = 1;
        return 0;
    }
    return EXIT_USAGE;
}

/* ---- list ------------------------------------------------------------------ */

static int list_one(struct cli *c, const struct queued *q)
{
    const char *to[64];
    char when[32], line[400], *p = line, *end = line + sizeof line;
    struct out_record r;
    struct tm tm;
    size_t i, n = q->nto < 64 ? q->nto : 64, first;

    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ",
             gmtime_r(&q->queued, &tm));
    for (i = 0; i < n; i++)
        to[i] = q->to[i].jid;
    out_begin(&r);
    out_str(&r, "kind", "queued");
    out_str(&r, "name", q->name);
    out_str(&r, "account", q->account);
    out_str(&r, "queued", when);
    out_list(&r, "to", to, n);
    out_str(&r, "type", q->type);
    out_str(&r, "subject", q->subject);
    out_str(&r, "thread", q->thread);
    out_str(&r, "text", q->text);
    out_str(&r, "reason", q->reason);
    /* text: NAME  ACCOUNT -> TO, TO: the first line of the text */
    first = strcspn(q->text, "\n");
    p += snprintf(p, (size_t)(end - p), "%s  %s -> ", q->name, q->account);
    for (i = 0; i < q->nto && p < end; i++)
        p += snprintf(p, (size_t)(end - p), "%s%s", i ? ", " : "",
                      q->to[i].jid);
    if (p < end)
        p += snprintf(p, (size_t)(end - p), ": %.*s%s",
                      (int)(first > 80 ? 80 : first), q->text,
                      first > 80 || q->text[first] ? " ..." : "");
    if (p < end && q->reason)
        snprintf(p, (size_t)(end - p), " (%s)", q->reason);
    r.text = line;
    return out_print(c->o.format == FORMAT_XML ? FORMAT_TEXT : c->o.format,
                     &r);
}

static int queue_list(struct cli *c)
{
    struct queued q;
    char **names;
    size_t n, i;
    int rc = 0;

    if (cli_queue_names(qa.failed, &names, &n) < 0) {
        cli_error("cannot read the queue");
        return EXIT_IOERR;
    }
    for (i = 0; i < n && rc == 0; i++)
        if (cli_queue_read(names[i], qa.failed, &q) == 0) {
            rc = list_one(c, &q);
            cli_queue_clear(&q);
        }
    cli_queue_names_free(names, n);
    if (rc < 0 || fflush(stdout) != 0) {
        cli_error("cannot write output");
        return EXIT_IOERR;
    }
    return EXIT_OK;
}

/* ---- drop ------------------------------------------------------------------ */

static int queue_drop(struct cli *c)
{
    int i, rc = EXIT_OK;

    (void)c;
    for (i = 0; i < qa.ndrop; i++)
        if (cli_queue_remove(qa.drop[i], qa.failed) < 0) {
            cli_error("queue: no %smessage %s", qa.failed ? "set-aside " : "",
                      qa.drop[i]);
            rc = EXIT_DATA;
        }
    return rc;
}

/* ---- flush ----------------------------------------------------------------- */

struct flush_op {
    struct op op;
    struct qflush *f;
};

static void on_settled(void *ud, const char *name, const char *to,
                       enum qflush_result res, const char *why)
{
    struct flush_op *fo = ud;
    struct out_record r;
    char line[600];
    const char *word = res == QFLUSH_SENT     ? "sent"
                       : res == QFLUSH_FAILED ? "failed"
                                              : "kept";

    out_begin(&r);
    out_str(&r, "kind", "flushed");
    out_str(&r, "name", name);
    out_str(&r, "to", to);
    out_str(&r, "result", word);
    out_str(&r, "reason", why);
    snprintf(line, sizeof line, "%s %s to %s%s%s%s", word, name, to,
             why ? " (" : "", why ? why : "", why ? ")" : "");
    r.text = line;
    if (out_print(fo->op.c->o.format == FORMAT_XML ? FORMAT_TEXT
                                                    : fo->op.c->o.format,
                  &r) < 0 ||
        fflush(stdout) != 0)
        op_done(&fo->op, EXIT_IOERR);
}

static int flush_status(struct flush_op *fo, int step)
{
    struct qflush_counts n;

    qflush_counts(fo->f, &n);
    if (step < 0) {
        op_session_failed(&fo->op);
        return fo->op.status;
    }
    if (n.aside)
        return EXIT_REMOTE;
    if (n.left)
        return EXIT_TEMPFAIL;
    return EXIT_OK;
}

static int flush_start(struct op *op)
{
    struct flush_op *fo = (struct flush_op *)op;
    int busy;

    if (!(fo->f = qflush_new(op->c->session, op->c->o.jid, on_settled, fo,
                             &busy))) {
        if (busy) {
            cli_error("queue: another flush is sending the queue (the "
                      "session holder, or another 'queue flush')");
            return EXIT_TEMPFAIL;
        }
        cli_error("queue: cannot open the queue");
        return EXIT_IOERR;
    }
    return 0;
}

static void flush_prepare(struct op *op)
{
    struct flush_op *fo = (struct flush_op *)op;
    int r;

    if (op->done || !fo->f)
        return;
    if ((r = qflush_step(fo->f)) != 0 && !op->done)
        op_done(op, flush_status(fo, r));
}

static void flush_end(struct op *op)
{
    struct flush_op *fo = (struct flush_op *)op;

    if (!op->done)
        op_done(op, flush_status(fo, -1));
}

static void flush_free(struct op *op)
{
    struct flush_op *fo = (struct flush_op *)op;

    qflush_free(fo->f);
    free(fo);
}

static const struct op_class flush_class = {
    .name = "queue flush",
    .start = flush_start,
    .prepare = flush_prepare,
    .session_end = flush_end,
    .free = flush_free,
    .close_matters = 1,
};

int cmd_queue(struct cli *c, int argc, char **argv, struct op **op)
{
    const char *what;
    int rc, next;

    *op = NULL;
    memset(&qa, 0, sizeof qa);
    if (c->interactive) {
        cli_error("queue is not available in the shell; run it from the "
                  "command line");
        return EXIT_USAGE;
    }
    if ((rc = cli_parse_cmd(&c->o, "queue", argc, argv, &next, set_queue,
                            NULL)))
        return rc;
    if (next >= argc) {
        cli_error("usage: xmpctl queue list | flush | drop NAME...");
        return EXIT_USAGE;
    }
    what = argv[next++];
    if (strcmp(what, "drop") == 0) {
        if (next >= argc) {
            cli_error("queue: drop needs the NAME of a message (see "
                      "'xmpctl queue list')");
            return EXIT_USAGE;
        }
        qa.drop = argv + next;
        qa.ndrop = argc - next;
        for (; next < argc; next++)
            if (!cli_queue_is_name(argv[next])) {
                cli_error("queue: '%s' is no message's name (see 'xmpctl "
                          "queue list')",
                          argv[next]);
                return EXIT_USAGE;
            }
        c->run = queue_drop;
        return EXIT_OK;
    }
    if (next < argc) {
        cli_error("queue: unexpected argument '%s'", argv[next]);
        return EXIT_USAGE;
    }
    if (strcmp(what, "list") == 0) {
        c->run = queue_list;
        return EXIT_OK;
    }
    if (strcmp(what, "flush") == 0) {
        struct flush_op *fo;

        if (qa.failed) {
            cli_error("queue: --failed goes with list and drop");
            return EXIT_USAGE;
        }
        if (!(fo = calloc(1, sizeof *fo))) {
            cli_error("out of memory");
            return EXIT_OSERR;
        }
        fo->op.cls = &flush_class;
        fo->op.fd = -1;
        fo->op.deadline = -1;
        *op = &fo->op;
        return EXIT_OK;
    }
    cli_error("queue: unknown action '%s': expected list, flush or drop",
              what);
    return EXIT_USAGE;
}
