/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cmd_listen.c - stay connected and print incoming messages (with --all,
 * every stanza), one flushed line each, until a signal, the end of stdin,
 * --count messages or --timeout seconds.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum { OPT_ALL = 'A', OPT_COUNT = 'n', OPT_TIMEOUT = 't', OPT_FROM = 'F',
       OPT_TYPE = 'T', OPT_NO_PRESENCE = 256 };

/* The message types of RFC 6121 §5.2.2: the values of --type. */
const char *const listen_types[] = { "chat", "groupchat", "headline",
                                     "normal", "error", NULL };

static const struct opt_def listen_opts[] = {
    {"all", OPT_ALL, NULL, "print every stanza, not only messages",
     ARG_NONE},
    {"count", OPT_COUNT, "N", "stop after N messages (with --all: stanzas)",
     ARG_TEXT},
    {"timeout", OPT_TIMEOUT, "SECONDS", "stop after SECONDS (exit status "
                                        "75)",
     ARG_TEXT},
    {"from", OPT_FROM, "JID", "only from JID (a bare JID: any of its "
                              "resources)",
     ARG_TEXT},
    {"type", OPT_TYPE, "TYPE", "only this type: chat, groupchat, headline, "
                               "normal or error",
     ARG_MSGTYPE},
    {"no-presence", OPT_NO_PRESENCE, NULL, "do not send initial presence "
                                           "(no chat messages then)",
     ARG_NONE},
};
const struct opt_list listen_options = {
    listen_opts, sizeof listen_opts / sizeof listen_opts[0]
};

struct listen_op {
    struct op op;
    int all;
    long count, timeout_s, seen;
    char *from, *type;
    unsigned handler;
    int have_handler;
    /* OMEMO: our device (NULL with omemo = no, or when it cannot be
     * opened), and the publishing under way */
    struct cli_omemo *omemo;
    struct cli_pep *pep;
};

/* ---- OMEMO ---------------------------------------------------------------- */

static void on_published(void *ud)
{
    struct listen_op *l = ud;

    /* a listen that ends (its input, --count) cuts the publishing
     * short: no news */
    if (cli_pep_error(l->pep) && !l->op.done &&
        xmp_session_phase(l->op.c->session) == XMP_PHASE_READY)
        cli_warn("listen: OMEMO: %s", cli_pep_error(l->pep));
    cli_pep_free(l->pep);
    l->pep = NULL;
}

/* Publish our device (bundle and device list) in both namespaces
 * (ns 0), or our bundle again in ns. */
static void omemo_publish(struct listen_op *l, enum xmp_omemo_ns ns)
{
    int rc;

    if (!l->pep && !(l->pep = cli_pep_new(l->op.c->session, l->omemo,
                                          on_published, l)))
        return;
    if (ns)
        rc = cli_pep_publish_bundle(l->pep, ns);
    else
        rc = cli_pep_publish(l->pep, XMP_OMEMO_AXOLOTL) < 0 ||
                     cli_pep_publish(l->pep, XMP_OMEMO_V2) < 0
                 ? -1
                 : 0;
    if (rc < 0)
        cli_warn("listen: OMEMO: cannot publish our device");
    if (!cli_pep_pending(l->pep)) {
        cli_pep_free(l->pep);
        l->pep = NULL;
    }
}

/* The <encrypted/> of st, in either namespace, or NULL. */
static const struct xmp_node *encrypted_of(const struct xmp_node *st)
{
    const struct xmp_node *e = xmp_node_child(st, XMP_OMEMO_NS_V2,
                                              "encrypted");

    return e ? e : xmp_node_child(st, XMP_OMEMO_NS_AXOLOTL, "encrypted");
}

/* Decrypt and print st: 1 when something was printed, 0 when nothing
 * was to be (a key-transport message), -1 when output failed. */
static int omemo_show(struct listen_op *l, const struct xmp_node *st,
                      const struct xmp_node *enc)
{
    const char *from = xmp_node_attr(st, "from");
    struct xmp_omemo_msg m;
    struct xmp_error err;
    struct out_e2e e;
    enum xmp_err rc;
    int shown = 1;

    memset(&m, 0, sizeof m);
    memset(&e, 0, sizeof e);
    e.encryption = "OMEMO";
    rc = from ? xmp_omemo_decrypt(l->omemo->om, from, enc, &m, &err)
              : XMP_EDATA;
    if (m.republish)
        omemo_publish(l, m.ns);
    if (rc == XMP_OK && !m.text) {
        xmp_omemo_msg_clear(&m);
        return 0; /* key transport: nothing to show */
    }
    e.device = m.device;
    if (rc == XMP_OK) {
        e.fingerprint = m.fingerprint;
        e.trust = xmp_omemo_trust_name(m.trust);
        e.text = m.text;
    } else {
        e.refused = rc == XMP_EDATA ? xmp_omemo_why_name(m.why) : err.msg;
    }
    if (out_stanza_e2e(l->op.c, st, &e) < 0)
        shown = -1;
    xmp_omemo_msg_clear(&m);
    return shown;
}

/* Without --all, a message counts when it says something: a body, a
 * subject or an error (chat states and receipts alone do not). */
static int says_something(const struct xmp_node *st)
{
    return xmp_node_child(st, "jabber:client", "body") ||
           xmp_node_child(st, "jabber:client", "subject") ||
           xmp_node_child(st, NULL, "error") || cli_is_pubsub_event(st);
}

static int on_stanza(struct xmp_session *s, const struct xmp_node *st,
                     void *ud)
{
    struct listen_op *l = ud;
    const struct xmp_node *enc;
    int shown;

    (void)s;
    if (l->op.done)
        return XMP_PASS;
    if (l->omemo && strcmp(xmp_node_name(st), "message") == 0 &&
        (enc = encrypted_of(st))) {
        if ((shown = omemo_show(l, st, enc)) < 0) {
            op_done(&l->op, EXIT_IOERR);
            return XMP_PASS;
        }
        if (shown && l->count && ++l->seen >= l->count)
            op_done(&l->op, EXIT_OK);
        return XMP_PASS;
    }
    if (!l->all && !says_something(st))
        return XMP_PASS;
    if (out_stanza(l->op.c, st) < 0) {
        op_done(&l->op, EXIT_IOERR);
        return XMP_PASS;
    }
    if (l->count && ++l->seen >= l->count)
        op_done(&l->op, EXIT_OK);
    return XMP_PASS;
}

static int listen_start(struct op *op)
{
    struct listen_op *l = (struct listen_op *)op;
    struct xmp_session *s = op->c->session;
    struct xmp_match m = { l->all ? NULL : "message", l->type, NULL,
                           l->from };

    /* the keepalive and initial presence are its row's (cli_ready) */
    if (xmp_handler_add(s, &m, XMP_PRIO_OBSERVE, on_stanza, l,
                        &l->handler) != XMP_OK)
        return EXIT_OSERR;
    l->have_handler = 1;
    op->shows_incoming = 1;
    /* the first listen makes our OMEMO device and publishes it, so that
     * others can write to us encrypted at once */
    if (!op->c->o.no_omemo && !l->omemo &&
        cli_omemo_open(op->c->o.jid, &l->omemo) == EXIT_OK)
        omemo_publish(l, 0);
    if (l->timeout_s)
        op->deadline = xmp_now_ms() + (int64_t)l->timeout_s * 1000;
    if (cli_stdin_watchable(op->c)) {
        op->fd = STDIN_FILENO;
        op->events = POLLIN;
    }
    return 0;
}

/* stdin is only watched for its end; what it carries is ignored. */
static void listen_io(struct op *op, short revents)
{
    char buf[4096];
    ssize_t n;

    (void)revents;
    n = read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) {
        op_done(op, EXIT_OK);
    } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
        cli_error("cannot read stdin: %s", strerror(errno));
        op_done(op, EXIT_IOERR);
    }
}

static void listen_timer(struct op *op)
{
    struct listen_op *l = (struct listen_op *)op;
    struct outcome out = { 0 };

    if (l->count)
        cli_error("listen: %ld of %ld messages before the timeout of %ld s",
                  l->seen, l->count, l->timeout_s);
    else
        cli_error("listen: timeout of %ld s reached", l->timeout_s);
    outcome_add(&out, ITEM_TIMED_OUT, 1);
    op_done(op, status_listen(&out));
}

/* SIGINT, SIGTERM, SIGHUP: the way a listener is meant to stop. */
static void listen_interrupt(struct op *op, int sig)
{
    (void)sig;
    op_done(op, EXIT_OK);
}

static void listen_free(struct op *op)
{
    struct listen_op *l = (struct listen_op *)op;

    if (l->have_handler && op->c && op->c->session)
        xmp_handler_remove(op->c->session, l->handler);
    if (op->c && op->c->session)
        cli_pep_free(l->pep);
    cli_omemo_close(l->omemo);
    free(l->from);
    free(l->type);
    free(l);
}

static const struct op_class listen_class = {
    .name = "listen",
    .start = listen_start,
    .io = listen_io,
    .timer = listen_timer,
    .interrupt = listen_interrupt,
    .free = listen_free,
};

static int set_listen(void *ud, int id, const char *arg)
{
    struct listen_op *l = ud;
    struct xmp_error err;
    struct xmp_jid j;
    size_t i;

    switch (id) {
    case OPT_ALL:
        l->all = 1;
        l->op.hears_presence = 1;
        return 0;
    case OPT_NO_PRESENCE:
        l->op.no_presence = 1;
        return 0;
    case OPT_COUNT:
        return cli_number("--count", arg, 1, 1000000000L, &l->count);
    case OPT_TIMEOUT:
        return cli_number("--timeout", arg, 1, 31L * 86400, &l->timeout_s);
    case OPT_FROM:
        if (xmp_jid_parse(arg, &j, &err) != XMP_OK) {
            cli_error("listen: --from: %s", err.msg);
            return EXIT_DATA;
        }
        xmp_jid_clear(&j);
        free(l->from);
        return (l->from = strdup(arg)) ? 0 : EXIT_OSERR;
    case OPT_TYPE:
        for (i = 0; listen_types[i]; i++)
            if (strcmp(arg, listen_types[i]) == 0)
                break;
        if (!listen_types[i]) {
            cli_error("invalid --type value '%s': expected chat, groupchat, "
                      "headline, normal or error",
                      arg);
            return EXIT_USAGE;
        }
        free(l->type);
        return (l->type = strdup(arg)) ? 0 : EXIT_OSERR;
    }
    return EXIT_SOFTWARE;
}

int cmd_listen(struct cli *c, int argc, char **argv, struct op **out)
{
    struct listen_op *l = calloc(1, sizeof *l);
    int rc, next;

    if (!l)
        return EXIT_OSERR;
    l->op.cls = &listen_class;
    l->op.fd = -1;
    l->op.deadline = -1;
    rc = cli_parse_cmd(&c->o, "listen", argc, argv, &next, set_listen, l);
    if (!rc && next < argc) {
        cli_error("listen takes no arguments, got '%s'", argv[next]);
        rc = EXIT_USAGE;
    }
    if (rc) {
        listen_free(&l->op);
        return rc;
    }
    *out = &l->op;
    return EXIT_OK;
}
