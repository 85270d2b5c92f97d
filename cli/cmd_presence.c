/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cmd_presence.c - presence (RFC 6121 §4) and subscriptions (§3): tell
 * contacts how we are (or one entity, with --to), ask for, grant, refuse
 * and cancel subscriptions, list the requests waiting (--pending) and the
 * presence of contacts (--show).  What it sends counts once the server
 * has acknowledged it.  A one-shot session ends with unavailable
 * presence: a change lasts as long as the command.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PRESENCE_MAX_SUBS 64
#define PRESENCE_DEFAULT_WAIT_S 2

enum { OPT_STATUS = 's', OPT_PRIORITY = 'p', OPT_TO = 't', OPT_WAIT = 'w',
       OPT_SUBSCRIBE = 256, OPT_UNSUBSCRIBE, OPT_APPROVE, OPT_DENY,
       OPT_CANCEL, OPT_PENDING, OPT_SHOW };

/* The values of SHOW: RFC 6121 §4.7.2.1, plus available and
 * unavailable. */
const char *const presence_shows[] = { "available", "away", "chat", "dnd",
                                       "xa", "unavailable", NULL };

static const struct opt_def presence_opts[] = {
    {"status", OPT_STATUS, "TEXT", "a status message", ARG_TEXT},
    {"priority", OPT_PRIORITY, "N", "priority, -128 to 127", ARG_TEXT},
    {"to", OPT_TO, "JID", "directed presence to JID only", ARG_TEXT},
    {"subscribe", OPT_SUBSCRIBE, "JID", "ask to see JID's presence",
     ARG_TEXT},
    {"unsubscribe", OPT_UNSUBSCRIBE, "JID", "stop seeing JID's presence",
     ARG_TEXT},
    {"approve", OPT_APPROVE, "JID", "let JID see our presence (grant its "
                                    "request)",
     ARG_TEXT},
    {"deny", OPT_DENY, "JID", "refuse JID's request", ARG_TEXT},
    {"cancel", OPT_CANCEL, "JID", "no longer let JID see our presence",
     ARG_TEXT},
    {"pending", OPT_PENDING, NULL, "list the subscription requests waiting",
     ARG_NONE},
    {"show", OPT_SHOW, NULL, "list the presence of contacts", ARG_NONE},
    {"wait", OPT_WAIT, "SECONDS", "with --show, --pending: how long to "
                                  "listen (default 2)",
     ARG_TEXT},
};
const struct opt_list presence_options = {
    presence_opts, sizeof presence_opts / sizeof presence_opts[0]
};

struct sub {
    const char *type; /* subscribe, unsubscribe, subscribed, unsubscribed */
    char *jid;
};

struct presence_op {
    struct op op;
    const char *show; /* one of presence_shows, NULL: none given */
    char *status, *to;
    long priority, wait_s;
    int have_priority, pending, query, have_wait;
    struct sub subs[PRESENCE_MAX_SUBS];
    size_t nsubs;

    int borrow;     /* through a session holder, asking only: no
                       presence of ours, the holder says what it has */
    uint64_t seq;   /* the last stanza the ack must cover */
    int listening;  /* acknowledged; now the wait */
    unsigned handlers[2];
    int nhandlers;
    char bounce[600];
    struct outcome out; /* bounced, or in doubt */
};

/* ---- what arrives ------------------------------------------------------- */

static int sent_to(const struct presence_op *p, const char *from)
{
    struct xmp_jid f, t;
    size_t i;
    int same = 0;

    if (!from || xmp_jid_parse(from, &f, NULL) != XMP_OK)
        return 0;
    for (i = 0; i <= p->nsubs && !same; i++) {
        const char *to = i < p->nsubs ? p->subs[i].jid : p->to;

        if (!to || xmp_jid_parse(to, &t, NULL) != XMP_OK)
            continue;
        same = xmp_jid_match(&t, &f);
        xmp_jid_clear(&t);
    }
    xmp_jid_clear(&f);
    return same;
}

static int on_presence(struct xmp_session *s, const struct xmp_node *st,
                       void *ud)
{
    struct presence_op *p = ud;
    const char *type = xmp_node_attr(st, "type"),
               *from = xmp_node_attr(st, "from");
    struct xmp_session_info i;
    int show;

    if (p->op.done)
        return XMP_PASS;
    if (type && strcmp(type, "error") == 0) {
        /* one of ours bounced */
        if (!p->out.n[ITEM_BOUNCED] && sent_to(p, from)) {
            xmp_error_describe(st, p->bounce, sizeof p->bounce);
            outcome_add(&p->out, ITEM_BOUNCED, 1);
        }
        return XMP_PASS;
    }
    xmp_session_get_info(s, &i);
    if (p->pending && type && strcmp(type, "subscribe") == 0)
        show = 1;
    else if (p->query && (!type || strcmp(type, "unavailable") == 0))
        show = !from || !i.bound_jid || strcmp(from, i.bound_jid) != 0;
    else
        show = 0;
    if (show && out_stanza(p->op.c, st) < 0)
        op_done(&p->op, EXIT_IOERR);
    return XMP_PASS;
}

/* ---- sending ----------------------------------------------------------- */

static struct xmp_node *build(const struct presence_op *p, const char *to,
                              const char *type, int ours)
{
    struct xmp_node *n = xmp_node_new("jabber:client", "presence", NULL),
                    *c;
    char prio[8];
    int fail;

    if (!n)
        return NULL;
    fail = (to && xmp_node_set_attr(n, "to", to, NULL) != XMP_OK) ||
           (type && xmp_node_set_attr(n, "type", type, NULL) != XMP_OK);
    /* RFC 6121 §4.7.2: show, status and priority are about us */
    if (!fail && ours && p->show && strcmp(p->show, "available") != 0 &&
        strcmp(p->show, "unavailable") != 0)
        fail = !(c = xmp_node_add_child(n, "jabber:client", "show", NULL)) ||
               xmp_node_add_text(c, p->show, strlen(p->show), NULL) != XMP_OK;
    if (!fail && ours && p->status)
        fail = !(c = xmp_node_add_child(n, "jabber:client", "status", NULL)) ||
               xmp_node_add_text(c, p->status, strlen(p->status), NULL) !=
                   XMP_OK;
    if (!fail && ours && p->have_priority) {
        snprintf(prio, sizeof prio, "%ld", p->priority);
        fail = !(c = xmp_node_add_child(n, "jabber:client", "priority",
                                        NULL)) ||
               xmp_node_add_text(c, prio, strlen(prio), NULL) != XMP_OK;
    }
    if (fail) {
        xmp_node_free(n);
        return NULL;
    }
    return n;
}

static int send_one(struct presence_op *p, struct xmp_node *n)
{
    struct xmp_session *s = p->op.c->session;
    uint64_t seq = 0;
    enum xmp_err e;

    if (!n) {
        cli_error("out of memory");
        return EXIT_OSERR;
    }
    e = xmp_session_send(s, n, &seq);
    xmp_node_free(n);
    if (e != XMP_OK) {
        cli_error("%s", xmp_session_error(s)->msg);
        return cli_exit_status(xmp_session_error(s)->code);
    }
    p->seq = seq;
    return 0;
}

/* The holder has said all it keeps (CLI_HOLDER_NS); an error means a
 * holder that does not know the request: it had nothing to say. */
static void on_replay(struct xmp_session *s, const struct xmp_node *reply,
                      const struct xmp_error *err, void *ud)
{
    struct presence_op *p = ud;

    (void)s; (void)reply; (void)err;
    if (!p->op.done && !p->have_wait)
        op_done(&p->op, EXIT_OK);
}

/* Through a session holder, what our initial presence would bring from
 * the server, without changing the presence it holds. */
static int ask_replay(struct presence_op *p)
{
    struct xmp_session *s = p->op.c->session;
    struct xmp_node *iq = xmp_node_new("jabber:client", "iq", NULL);
    enum xmp_err e = XMP_ENOMEM;

    if (iq && xmp_node_set_attr(iq, "type", "get", NULL) == XMP_OK &&
        xmp_node_add_child(iq, CLI_HOLDER_NS, "replay", NULL))
        e = xmp_session_send_iq(s, iq, 0, on_replay, p, NULL);
    xmp_node_free(iq);
    if (e == XMP_ENOMEM) {
        cli_error("out of memory");
        return EXIT_OSERR;
    }
    if (e != XMP_OK) {
        cli_error("%s", xmp_session_error(s)->msg);
        return cli_exit_status(xmp_session_error(s)->code);
    }
    return 0;
}

static int presence_start(struct op *op)
{
    struct presence_op *p = (struct presence_op *)op;
    struct xmp_session *s = op->c->session;
    struct xmp_match m = { "presence", NULL, NULL, NULL };
    size_t i;
    int rc;

    if (xmp_handler_add(s, &m, XMP_PRIO_OBSERVE, on_presence, p,
                        &p->handlers[p->nhandlers]) == XMP_OK)
        p->nhandlers++;
    if (p->query || p->pending)
        op->shows_incoming = 1;
    for (i = 0; i < p->nsubs; i++)
        if ((rc = send_one(p, build(p, p->subs[i].jid, p->subs[i].type, 0))))
            return rc;
    /* through a session holder, listing what others sent changes
     * nothing of the held presence */
    p->borrow = op->c->attached && (p->query || p->pending) && !p->show &&
                !p->status && !p->have_priority && !p->to && p->nsubs == 0;
    if (p->borrow && (rc = ask_replay(p)))
        return rc;
    /* our own presence: asked for, needed to hear others, or the
     * default of a bare "xmpctl presence" */
    if (!p->borrow &&
        (p->show || p->status || p->have_priority || p->to || p->query ||
         p->pending || p->nsubs == 0)) {
        const char *type = p->show && strcmp(p->show, "unavailable") == 0
                               ? "unavailable"
                               : NULL;

        if ((rc = send_one(p, build(p, p->to, type, 1))))
            return rc;
    }
    if (xmp_session_request_ack(s) != XMP_OK) {
        cli_error("%s", xmp_session_error(s)->msg);
        return cli_exit_status(xmp_session_error(s)->code);
    }
    return 0;
}

static void presence_check(struct op *op)
{
    struct presence_op *p = (struct presence_op *)op;
    struct xmp_session *s = op->c->session;
    const struct xmp_error *e;

    if (p->out.n[ITEM_BOUNCED]) {
        cli_error("presence: error from the server: %s", p->bounce);
        op_done(op, status_presence(&p->out));
    } else if (p->listening) {
        return;
    } else if (xmp_session_acked(s) >= p->seq) {
        if (!p->query && !p->pending) {
            op_done(op, EXIT_OK);
            return;
        }
        /* what the server had for us came before its answer; what
         * contacts answer takes the wait */
        p->listening = 1;
        op->deadline = xmp_now_ms() +
                       (p->have_wait ? p->wait_s : PRESENCE_DEFAULT_WAIT_S) *
                           1000;
    } else if ((e = xmp_session_ack_error(s))) {
        cli_error("presence not acknowledged by the server: %s", e->msg);
        outcome_add(&p->out, ITEM_UNCONFIRMED, 1);
        op_done(op, status_presence(&p->out));
    }
}

static void presence_timer(struct op *op)
{
    op_done(op, EXIT_OK);
}

static void presence_lost(struct op *op)
{
    struct presence_op *p = (struct presence_op *)op;
    const struct xmp_error *e = xmp_session_error(op->c->session);

    presence_check(op);
    if (op->done)
        return;
    if (p->listening) {
        op_session_failed(op);
        return;
    }
    cli_error("presence not acknowledged by the server: %s",
              e->msg[0] ? e->msg : "the session ended");
    outcome_add(&p->out, ITEM_UNCONFIRMED, 1);
    op_done(op, status_presence(&p->out));
}

static void presence_interrupt(struct op *op, int sig)
{
    struct presence_op *p = (struct presence_op *)op;

    if (p->listening) {
        op_done(op, EXIT_OK); /* listening is what a signal ends */
        return;
    }
    cli_error("interrupted before the server acknowledged the presence");
    op_done(op, EXIT_SIGNAL_BASE + sig);
}

static void presence_free(struct op *op)
{
    struct presence_op *p = (struct presence_op *)op;
    size_t i;

    for (i = 0; op->c && op->c->session && i < (size_t)p->nhandlers; i++)
        xmp_handler_remove(op->c->session, p->handlers[i]);
    for (i = 0; i < p->nsubs; i++)
        free(p->subs[i].jid);
    free(p->status);
    free(p->to);
    free(p);
}

static const struct op_class presence_class = {
    .name = "presence",
    .start = presence_start,
    .prepare = presence_check,
    .timer = presence_timer,
    .interrupt = presence_interrupt,
    .session_end = presence_lost,
    .free = presence_free,
};

/* ---- the command line ---------------------------------------------------- */

static int jid_arg(const char *opt, const char *arg, char **out)
{
    struct xmp_error err;
    struct xmp_jid j;

    if (xmp_jid_parse(arg, &j, &err) != XMP_OK) {
        cli_error("presence: %s: %s", opt, err.msg);
        return EXIT_DATA;
    }
    xmp_jid_clear(&j);
    return (*out = strdup(arg)) ? 0 : EXIT_OSERR;
}

static int set_presence(void *ud, int id, const char *arg)
{
    /* RFC 6121 §3: the presence types each option sends */
    static const struct { int id; const char *opt, *type; } subs[] = {
        { OPT_SUBSCRIBE, "--subscribe", "subscribe" },
        { OPT_UNSUBSCRIBE, "--unsubscribe", "unsubscribe" },
        { OPT_APPROVE, "--approve", "subscribed" },
        { OPT_DENY, "--deny", "unsubscribed" },
        { OPT_CANCEL, "--cancel", "unsubscribed" },
    };
    struct presence_op *p = ud;
    struct xmp_error err;
    size_t i;

    switch (id) {
    case OPT_STATUS:
        if (xmp_xml_check_text(arg, strlen(arg), &err) != XMP_OK) {
            cli_error("presence: --status: %s", err.msg);
            return EXIT_DATA;
        }
        free(p->status);
        return (p->status = strdup(arg)) ? 0 : EXIT_OSERR;
    case OPT_PRIORITY:
        p->have_priority = 1;
        return cli_number("--priority", arg, -128, 127, &p->priority);
    case OPT_TO:
        free(p->to);
        p->to = NULL;
        return jid_arg("--to", arg, &p->to);
    case OPT_WAIT:
        p->have_wait = 1;
        return cli_number("--wait", arg, 0, 86400, &p->wait_s);
    case OPT_PENDING:
        p->pending = 1;
        return 0;
    case OPT_SHOW:
        p->query = 1;
        return 0;
    }
    for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (subs[i].id != id)
            continue;
        if (p->nsubs == PRESENCE_MAX_SUBS) {
            cli_error("presence: more than %d subscription changes",
                      PRESENCE_MAX_SUBS);
            return EXIT_USAGE;
        }
        p->subs[p->nsubs].type = subs[i].type;
        if (jid_arg(subs[i].opt, arg, &p->subs[p->nsubs].jid))
            return EXIT_DATA;
        p->nsubs++;
        return 0;
    }
    return EXIT_SOFTWARE;
}

int cmd_presence(struct cli *c, int argc, char **argv, struct op **out)
{
    struct presence_op *p = calloc(1, sizeof *p);
    int rc, next;
    size_t i;

    if (!p)
        return EXIT_OSERR;
    p->op.cls = &presence_class;
    p->op.fd = -1;
    p->op.deadline = -1;
    if ((rc = cli_parse_cmd(&c->o, "presence", argc, argv, &next,
                            set_presence, p)))
        goto fail;
    /* "presence away -s lunch": the options may follow SHOW too */
    rc = EXIT_USAGE;
    if (argc - next > 1) {
        cli_error("usage: xmpctl presence [SHOW] [OPTIONS]");
        goto fail;
    }
    if (next < argc) {
        for (i = 0; presence_shows[i]; i++)
            if (strcmp(argv[next], presence_shows[i]) == 0)
                p->show = presence_shows[i];
        if (!p->show) {
            cli_error("presence: unknown SHOW '%s': expected available, "
                      "away, chat, dnd, xa or unavailable",
                      argv[next]);
            goto fail;
        }
    }
    if ((p->query || p->pending) &&
        (p->to || (p->show && strcmp(p->show, "unavailable") == 0))) {
        cli_error("presence: --show and --pending need to be available to "
                  "everyone (no --to, not unavailable)");
        goto fail;
    }
    if (p->have_wait && !p->query && !p->pending) {
        cli_error("presence: --wait goes with --show or --pending");
        goto fail;
    }
    *out = &p->op;
    return EXIT_OK;
fail:
    presence_free(&p->op);
    return rc;
}
