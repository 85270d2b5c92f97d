/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cmd_raw.c - send XML elements as they are: from the arguments, or from
 * stdin as a stream of top-level elements, each sent as soon as its end
 * tag has arrived.  Each element is checked first (well-formed, within
 * the limits, JIDs valid); a broken one is reported with its position and
 * neither it nor anything after it is sent.  Then raw waits for the
 * answer to every iq get/set it sent and for the server's acknowledgement
 * of the rest, prints the answers, and closes.  With --stay it prints
 * everything that arrives until stdin ends or a signal comes.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Bytes read from stdin at a time. */
#define RAW_READ_CHUNK 16384
/* --all-or-nothing holds the whole input before sending any of it. */
#define RAW_MAX_INPUT (16 * 1024 * 1024)
/* Messages whose bounces we recognise: the last this many with an id. */
#define RAW_BOUNCE_TRACK 256

enum { OPT_ALL_OR_NOTHING = 256, OPT_STAY };

static const struct opt_def raw_opts[] = {
    {"all-or-nothing", OPT_ALL_OR_NOTHING, NULL,
     "send nothing unless every element is well-formed", ARG_NONE},
    {"stay", OPT_STAY, NULL,
     "then print every stanza that arrives, until stdin ends or a signal",
     ARG_NONE},
};
const struct opt_list raw_options = {
    raw_opts, sizeof raw_opts / sizeof raw_opts[0]
};

struct sent_msg {
    char *id;
    struct xmp_jid to; /* to.domain NULL: no 'to' */
};

/* An iq get/set waiting for its answer; the operation cancels what is
 * left when it is freed, so no callback outlives it. */
struct raw_req {
    struct raw_req *prev, *next;
    struct raw_op *r;
    unsigned handle;
};

struct raw_op {
    struct op op;
    int stay, all_or_nothing;

    /* input */
    int from_stdin;             /* elements come from stdin as we go */
    struct xmp_parser *parser;
    int input_over;             /* no more elements will come */
    int check_failed;           /* an element was refused (and reported) */
    int watch_eof;              /* --stay with arguments: stdin ends it */
    struct xmp_node **queue;    /* parsed before connecting, to send */
    size_t nqueue, qnext, qcap;
    unsigned long elements;     /* counted for messages */

    /* what was sent, and what came of it */
    uint64_t last_seq;          /* the last stanza the ack must cover */
    int ack_asked;
    struct sent_msg sent[RAW_BOUNCE_TRACK];
    size_t nsent;
    unsigned handlers[2];
    int nhandlers;
    struct raw_req *reqs;       /* waiting for answers */
    int lost;                   /* a request ended with the session */
    struct outcome out;         /* its first failure decides */
};

/* ---- checking and sending ---------------------------------------------- */

static int is_stanza(const struct xmp_node *n)
{
    const char *name = xmp_node_name(n);

    return strcmp(xmp_node_ns(n), "jabber:client") == 0 &&
           (strcmp(name, "message") == 0 || strcmp(name, "presence") == 0 ||
            strcmp(name, "iq") == 0);
}

/* What is wrong with an element before it may be sent, or NULL. */
static const char *check(const struct xmp_node *n, char *why, size_t len)
{
    static const char *const attrs[] = { "to", "from" };
    struct xmp_error err;
    struct xmp_jid j;
    const char *v, *type;
    size_t i;

    if (!is_stanza(n))
        return NULL;
    for (i = 0; i < 2; i++) {
        if (!(v = xmp_node_attr(n, attrs[i])))
            continue;
        if (xmp_jid_parse(v, &j, &err) != XMP_OK) {
            snprintf(why, len, "<%s> with an invalid '%s': %s",
                     xmp_node_name(n), attrs[i], err.msg);
            return why;
        }
        xmp_jid_clear(&j);
    }
    type = xmp_node_attr(n, "type");
    if (strcmp(xmp_node_name(n), "iq") == 0 &&
        (!type || (strcmp(type, "get") && strcmp(type, "set") &&
                   strcmp(type, "result") && strcmp(type, "error")))) {
        snprintf(why, len, "<iq> needs a type of get, set, result or error "
                           "(RFC 6120 §8.2.3)");
        return why;
    }
    return NULL;
}

static void remember_message(struct raw_op *r, const struct xmp_node *m)
{
    const char *id = xmp_node_attr(m, "id"), *to = xmp_node_attr(m, "to");
    struct sent_msg *s = &r->sent[r->nsent++ % RAW_BOUNCE_TRACK];

    free(s->id);
    xmp_jid_clear(&s->to);
    s->id = id ? strdup(id) : NULL;
    if (to)
        xmp_jid_parse(to, &s->to, NULL);
}

static void req_unlink(struct raw_req *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        q->r->reqs = q->next;
    if (q->next)
        q->next->prev = q->prev;
}

static void on_reply(struct xmp_session *s, const struct xmp_node *reply,
                     const struct xmp_error *e, void *ud)
{
    struct raw_req *q = ud;
    struct raw_op *r = q->r;
    char why[512];

    (void)s;
    req_unlink(q);
    free(q);
    if (r->op.done)
        return;
    if (!reply) {
        if (e->code == XMP_ETIMEOUT) {
            cli_error("%s", e->msg);
            outcome_add(&r->out, ITEM_TIMED_OUT, 1);
        } else {
            r->lost = 1; /* the session ended; the driver says how */
        }
        return;
    }
    if (out_stanza(r->op.c, reply) < 0) {
        op_done(&r->op, EXIT_IOERR);
        return;
    }
    if (strcmp(xmp_node_attr(reply, "type"), "error") == 0) {
        xmp_error_describe(reply, why, sizeof why);
        cli_error("iq %s: error from %s: %s", xmp_node_attr(reply, "id"),
                  xmp_node_attr(reply, "from") ? xmp_node_attr(reply, "from")
                                               : "the server",
                  why);
        outcome_add(&r->out, ITEM_BOUNCED, 1);
    }
}

static int send_request(struct raw_op *r, struct xmp_node *n)
{
    struct raw_req *q = calloc(1, sizeof *q);

    if (!q)
        return XMP_ENOMEM;
    q->r = r;
    if (xmp_session_send_iq(r->op.c->session, n, 0, on_reply, q,
                            &q->handle) != XMP_OK) {
        free(q);
        return xmp_session_error(r->op.c->session)->code;
    }
    q->next = r->reqs;
    if (r->reqs)
        r->reqs->prev = q;
    r->reqs = q;
    return XMP_OK;
}

/* Send one checked element. */
static int send_one(struct raw_op *r, struct xmp_node *n)
{
    struct xmp_session *s = r->op.c->session;
    const char *type = xmp_node_attr(n, "type");
    uint64_t seq = 0;
    enum xmp_err e;

    if (is_stanza(n) && strcmp(xmp_node_name(n), "iq") == 0 &&
        (strcmp(type, "get") == 0 || strcmp(type, "set") == 0)) {
        e = send_request(r, n);
    } else {
        e = xmp_session_send(s, n, &seq);
        if (seq)
            r->last_seq = seq;
        if (e == XMP_OK && strcmp(xmp_node_name(n), "message") == 0)
            remember_message(r, n);
    }
    if (e != XMP_OK) {
        cli_error("%s", e == XMP_ENOMEM ? "out of memory"
                                        : xmp_session_error(s)->msg);
        return -1;
    }
    return 0;
}

/* An element from stdin, complete: check it and send it at once. */
static enum xmp_err on_element(void *ud, struct xmp_node *n)
{
    struct raw_op *r = ud;
    char why[600];

    r->elements++;
    if (check(n, why, sizeof why)) {
        cli_error("stdin: element %lu: %s; it and what follows were not "
                  "sent",
                  r->elements, why);
        xmp_node_free(n);
        outcome_local(&r->out, EXIT_DATA);
        r->check_failed = 1;
        return XMP_EDATA;
    }
    if (send_one(r, n) < 0) {
        xmp_node_free(n);
        return XMP_EIO;
    }
    xmp_node_free(n);
    return XMP_OK;
}

/* ---- input before connecting ------------------------------------------- */

static enum xmp_err queue_element(void *ud, struct xmp_node *n)
{
    struct raw_op *r = ud;
    struct xmp_node **q;

    if (r->nqueue == r->qcap) {
        r->qcap = r->qcap ? 2 * r->qcap : 16;
        if (!(q = reallocarray(r->queue, r->qcap, sizeof *q))) {
            xmp_node_free(n);
            return XMP_ENOMEM;
        }
        r->queue = q;
    }
    r->queue[r->nqueue++] = n;
    return XMP_OK;
}

/* Parse one input (an argument, or all of stdin) into the queue; what
 * names it in messages is 'what'.  Returns 0 or an exit status, having
 * reported the problem. */
static int parse_into_queue(struct raw_op *r, const char *what,
                            const char *buf, size_t len)
{
    struct xmp_parser *p = xmp_parser_new(queue_element, r);
    struct xmp_error err;
    enum xmp_err e;
    size_t before = r->nqueue, i;
    char why[600];

    if (!p)
        return EXIT_OSERR;
    xmp_error_clear(&err);
    e = xmp_parser_feed(p, buf, len, &err);
    if (e == XMP_OK)
        e = xmp_parser_end(p, &err);
    xmp_parser_free(p);
    if (e == XMP_ENOMEM)
        return EXIT_OSERR;
    if (e != XMP_OK) {
        cli_error("%s: %s; it and what follows were not sent", what,
                  err.msg);
        return EXIT_DATA;
    }
    for (i = before; i < r->nqueue; i++) {
        if (check(r->queue[i], why, sizeof why)) {
            cli_error("%s: element %zu: %s; it and what follows were not "
                      "sent",
                      what, i - before + 1, why);
            while (r->nqueue > i)
                xmp_node_free(r->queue[--r->nqueue]);
            return EXIT_DATA;
        }
    }
    return 0;
}

static int slurp_stdin(struct raw_op *r)
{
    char *b;
    size_t n;
    int rc = cli_read_stdin(RAW_MAX_INPUT, &b, &n);

    if (rc < 0) {
        cli_error("stdin: more than %d bytes (RAW_MAX_INPUT) with "
                  "--all-or-nothing; nothing was sent",
                  RAW_MAX_INPUT);
        return EXIT_DATA;
    }
    if (rc)
        return rc;
    rc = parse_into_queue(r, "stdin", b, n);
    free(b);
    return rc;
}

/* ---- the operation ----------------------------------------------------- */

static int print_stanza(struct xmp_session *s, const struct xmp_node *st,
                        void *ud)
{
    struct raw_op *r = ud;

    (void)s;
    if (!r->op.done && out_stanza(r->op.c, st) < 0)
        op_done(&r->op, EXIT_IOERR);
    return XMP_PASS;
}

/* A message error answering one of ours, from its recipient or the
 * recipient's server. */
static int watch_bounce(struct xmp_session *s, const struct xmp_node *st,
                        void *ud)
{
    struct raw_op *r = ud;
    const char *id = xmp_node_attr(st, "id"), *from = xmp_node_attr(st, "from");
    char why[512];
    size_t i;
    int ours = 0;

    (void)s;
    for (i = 0; i < RAW_BOUNCE_TRACK && i < r->nsent && !ours; i++)
        ours = cli_is_bounce(st, r->sent[i].id, &r->sent[i].to);
    if (r->op.done || !ours)
        return XMP_PASS;
    if (!r->stay && out_stanza(r->op.c, st) < 0) {
        op_done(&r->op, EXIT_IOERR);
        return XMP_PASS;
    }
    xmp_error_describe(st, why, sizeof why);
    cli_error("message %s to %s bounced: %s", id, from, why);
    outcome_add(&r->out, ITEM_BOUNCED, 1);
    return XMP_PASS;
}

static int raw_start(struct op *op)
{
    struct raw_op *r = (struct raw_op *)op;
    struct xmp_session *s = op->c->session;
    struct xmp_match errors = { "message", "error", NULL, NULL };

    if (xmp_handler_add(s, &errors, XMP_PRIO_OBSERVE + 1, watch_bounce, r,
                        &r->handlers[r->nhandlers]) == XMP_OK)
        r->nhandlers++;
    if (r->stay) {
        op->shows_incoming = 1;
        if (xmp_handler_add(s, NULL, XMP_PRIO_OBSERVE, print_stanza, r,
                            &r->handlers[r->nhandlers]) == XMP_OK)
            r->nhandlers++;
    }
    if (r->from_stdin && !(r->parser = xmp_parser_new(on_element, r)))
        return EXIT_OSERR;
    return 0;
}

static void read_input(struct raw_op *r)
{
    char buf[RAW_READ_CHUNK];
    struct xmp_error err;
    enum xmp_err e;
    ssize_t n;

    n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n < 0) {
        cli_error("cannot read stdin: %s", strerror(errno));
        outcome_local(&r->out, EXIT_IOERR);
        r->input_over = 1;
        return;
    }
    xmp_error_clear(&err);
    e = n ? xmp_parser_feed(r->parser, buf, (size_t)n, &err)
          : xmp_parser_end(r->parser, &err);
    if (n == 0)
        r->input_over = 1;
    if (e == XMP_OK)
        return;
    r->input_over = 1;
    if (e == XMP_EDATA && !r->check_failed) {
        /* a broken element; the ones before it went out */
        cli_error("stdin: %s; it and what follows were not sent", err.msg);
        outcome_local(&r->out, EXIT_DATA);
    } else if (e == XMP_ENOMEM) {
        cli_error("out of memory");
        outcome_local(&r->out, EXIT_OSERR);
    }
    /* else a callback stopped the parse, and said why */
    if (e == XMP_EIO)
        op_done(&r->op, cli_exit_status(xmp_session_error(
                            r->op.c->session)->code));
}

static void raw_io(struct op *op, short revents)
{
    struct raw_op *r = (struct raw_op *)op;
    char buf[4096];
    ssize_t n;

    (void)revents;
    if (r->from_stdin && !r->input_over) {
        read_input(r);
        return;
    }
    /* --stay after the arguments: only the end of stdin matters */
    n = read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) {
        op_done(op, status_raw(&r->out));
    } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
        cli_error("cannot read stdin: %s", strerror(errno));
        outcome_local(&r->out, EXIT_IOERR);
        op_done(op, status_raw(&r->out));
    }
}

/* Before each poll: send what waits, decide what to wait for, and see
 * whether everything has been answered. */
static void raw_prepare(struct op *op)
{
    struct raw_op *r = (struct raw_op *)op;
    struct xmp_session *s = op->c->session;
    const struct xmp_error *ae;

    while (r->qnext < r->nqueue && xmp_session_writable(s) && !op->done) {
        struct xmp_node *n = r->queue[r->qnext];

        r->queue[r->qnext++] = NULL;
        if (send_one(r, n) < 0) {
            xmp_node_free(n);
            op_done(op, cli_exit_status(xmp_session_error(s)->code));
            return;
        }
        xmp_node_free(n);
    }
    if (r->qnext < r->nqueue)
        return;
    op->fd = -1;
    op->events = 0;
    if (r->from_stdin && !r->input_over) {
        op->fd = STDIN_FILENO;
        /* the queue drains first: a fast producer waits for the server */
        op->events = xmp_session_writable(s) ? POLLIN : 0;
        return;
    }
    if (r->last_seq && !r->ack_asked) {
        r->ack_asked = 1;
        if (xmp_session_request_ack(s) != XMP_OK)
            return; /* the session failed; the driver says so */
    }
    if (xmp_session_requests(s))
        return;
    if (r->last_seq && xmp_session_acked(s) < r->last_seq) {
        if (!(ae = xmp_session_ack_error(s)))
            return;
        cli_error("not acknowledged by the server: %s", ae->msg);
        outcome_add(&r->out, ITEM_UNCONFIRMED, 1);
    }
    if (r->watch_eof) {
        op->fd = STDIN_FILENO;
        op->events = POLLIN;
        return;
    }
    if (r->stay && !r->from_stdin)
        return; /* until a signal */
    op_done(op, status_raw(&r->out));
}

static void raw_interrupt(struct op *op, int sig)
{
    struct raw_op *r = (struct raw_op *)op;

    if (r->stay) {
        op_done(op, status_raw(&r->out));
        return;
    }
    cli_error("interrupted");
    op_done(op, EXIT_SIGNAL_BASE + sig);
}

/* The session ended under us.  Stanzas not yet answered or acknowledged
 * may or may not have been handled: not delivered, as send says. */
static void raw_session_end(struct op *op)
{
    struct raw_op *r = (struct raw_op *)op;
    struct xmp_session *s = op->c->session;
    const struct xmp_error *e = xmp_session_error(s);

    if (r->out.first) {
        op_session_failed(op);
        op->status = status_raw(&r->out);
    } else if (r->lost || (r->last_seq && xmp_session_acked(s) < r->last_seq)) {
        cli_error("not acknowledged by the server: %s",
                  e->msg[0] ? e->msg : "the session ended");
        outcome_add(&r->out, ITEM_UNCONFIRMED, 1);
        op_done(op, status_raw(&r->out));
    } else if ((r->from_stdin && !r->input_over) || r->qnext < r->nqueue) {
        op_session_failed(op); /* input is left that was never sent */
    } else if (!r->stay) {
        op_done(op, EXIT_OK); /* everything was answered before the end */
    }
    /* else --stay was meant to go on: the driver reports the end */
}

static void raw_free(struct op *op)
{
    struct raw_op *r = (struct raw_op *)op;
    size_t i;

    for (i = 0; op->c && op->c->session && i < (size_t)r->nhandlers; i++)
        xmp_handler_remove(op->c->session, r->handlers[i]);
    while (r->reqs) {
        struct raw_req *q = r->reqs;

        req_unlink(q);
        if (op->c && op->c->session)
            xmp_iq_cancel(op->c->session, q->handle);
        free(q);
    }
    for (i = r->qnext; i < r->nqueue; i++)
        xmp_node_free(r->queue[i]);
    free(r->queue);
    for (i = 0; i < RAW_BOUNCE_TRACK; i++) {
        free(r->sent[i].id);
        xmp_jid_clear(&r->sent[i].to);
    }
    xmp_parser_free(r->parser);
    free(r);
}

static const struct op_class raw_class = {
    .name = "raw",
    .start = raw_start,
    .prepare = raw_prepare,
    .io = raw_io,
    .interrupt = raw_interrupt,
    .session_end = raw_session_end,
    .free = raw_free,
};

static int set_raw(void *ud, int id, const char *arg)
{
    struct raw_op *r = ud;

    (void)arg;
    if (id == OPT_ALL_OR_NOTHING)
        r->all_or_nothing = 1;
    else if (id == OPT_STAY)
        r->stay = r->op.stays = 1; /* its row: the keepalive */
    return 0;
}

int cmd_raw(struct cli *c, int argc, char **argv, struct op **out)
{
    struct raw_op *r = calloc(1, sizeof *r);
    char what[32];
    int rc = 0, next, i;

    if (!r)
        return EXIT_OSERR;
    r->op.cls = &raw_class;
    r->op.fd = -1;
    r->op.deadline = -1;
    if ((rc = cli_parse_cmd(&c->o, "raw", argc, argv, &next, set_raw, r)))
        goto fail;
    if (next < argc) {
        for (i = next; i < argc && !rc; i++) {
            snprintf(what, sizeof what, "argument %d", i - next + 1);
            rc = parse_into_queue(r, what, argv[i], strlen(argv[i]));
        }
        r->watch_eof = r->stay && cli_stdin_watchable(c);
    } else if (c->interactive) {
        cli_error("raw: type the XML at the prompt, or give it as "
                  "arguments");
        rc = EXIT_USAGE;
        goto fail;
    } else if (r->all_or_nothing) {
        rc = slurp_stdin(r);
    } else {
        r->from_stdin = 1;
    }
    /* A broken element: the ones before it are sent, unless all or
     * nothing was asked for, or there are none. */
    if (rc && (r->all_or_nothing || rc != EXIT_DATA || r->nqueue == 0))
        goto fail;
    if (rc)
        outcome_local(&r->out, rc);
    *out = &r->op;
    return EXIT_OK;
fail:
    raw_free(&r->op);
    return rc;
}
