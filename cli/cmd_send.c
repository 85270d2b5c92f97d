/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cmd_send.c - send one chat message, and say so only once the server
 * has acknowledged it.
 *
 * Everything that can be wrong with the input is checked before we
 * connect, so a bad message never leaves half-sent.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Servers commonly cap stanzas at 256 KiB (Prosody's c2s default); stay
 * under it with room for the envelope. */
#define SEND_MAX_TEXT (200 * 1024)

struct send_op {
    struct op op; /* first: the driver sees only this */
    char *to;
    struct xmp_jid to_jid;
    char *text;
    size_t len;
    char *id;
    uint64_t seq;
    unsigned handler;
    int have_handler;
    char bounce[512];
    int bounced;
};

/* A <message type='error'/> answering ours: the message bounced. */
static int watch_bounce(struct xmp_session *s, const struct xmp_node *st,
                        void *ud)
{
    struct send_op *so = ud;

    (void)s;
    if (!so->op.done && cli_is_bounce(st, so->id, &so->to_jid)) {
        xmp_error_describe(st, so->bounce, sizeof so->bounce);
        so->bounced = 1;
    }
    return XMP_PASS;
}

static struct xmp_node *build(const char *to, const char *id,
                              const char *text, size_t len,
                              struct xmp_error *err)
{
    struct xmp_node *m = xmp_node_new("jabber:client", "message", err), *b;

    if (!m)
        return NULL;
    if (xmp_node_set_attr(m, "to", to, err) ||
        xmp_node_set_attr(m, "type", "chat", err) ||
        xmp_node_set_attr(m, "id", id, err) ||
        !(b = xmp_node_add_child(m, "jabber:client", "body", err)) ||
        xmp_node_add_text(b, text, len, err)) {
        xmp_node_free(m);
        return NULL;
    }
    return m;
}

static int send_start(struct op *op)
{
    struct send_op *so = (struct send_op *)op;
    struct xmp_session *s = op->c->session;
    struct xmp_match errors = { "message", "error", NULL, NULL };
    struct xmp_node *msg;
    struct xmp_error err;
    int rc = EXIT_OK;

    if (!(so->id = xmp_session_new_id(s)))
        return EXIT_OSERR;
    if (!(msg = build(so->to, so->id, so->text, so->len, &err))) {
        cli_error("%s", err.msg);
        return cli_exit_status(err.code);
    }
    if (xmp_handler_add(s, &errors, XMP_PRIO_OBSERVE, watch_bounce, so,
                        &so->handler) == XMP_OK)
        so->have_handler = 1;
    if (xmp_session_send(s, msg, &so->seq) != XMP_OK ||
        xmp_session_request_ack(s) != XMP_OK) {
        cli_error("%s", xmp_session_error(s)->msg);
        rc = cli_exit_status(xmp_session_error(s)->code);
    }
    xmp_node_free(msg);
    return rc;
}

/* Before each poll: has the server answered for the message yet? */
static void send_check(struct op *op)
{
    struct send_op *so = (struct send_op *)op;
    struct xmp_session *s = op->c->session;
    const struct xmp_error *e;

    if (so->bounced) {
        cli_error("message to %s bounced: %s", so->to, so->bounce);
        op_done(op, EXIT_REMOTE);
    } else if (xmp_session_acked(s) >= so->seq) {
        op_done(op, EXIT_OK);
    } else if ((e = xmp_session_ack_error(s))) {
        cli_error("message to %s not acknowledged by the server: %s",
                  so->to, e->msg);
        op_done(op, EXIT_NOTSENT);
    }
}

/* The message left us, but nobody vouched for it. */
static void send_lost(struct op *op)
{
    struct send_op *so = (struct send_op *)op;
    const struct xmp_error *e = xmp_session_error(op->c->session);

    send_check(op);
    if (op->done)
        return;
    cli_error("message to %s not acknowledged by the server: %s", so->to,
              e->msg[0] ? e->msg : "the session ended");
    op_done(op, EXIT_NOTSENT);
}

static void send_interrupt(struct op *op, int sig)
{
    struct send_op *so = (struct send_op *)op;

    cli_error("interrupted before the server acknowledged the message to %s",
              so->to);
    op_done(op, EXIT_SIGNAL_BASE + sig);
}

static void send_free(struct op *op)
{
    struct send_op *so = (struct send_op *)op;

    if (so->have_handler && op->c && op->c->session)
        xmp_handler_remove(op->c->session, so->handler);
    xmp_jid_clear(&so->to_jid);
    free(so->to);
    free(so->text);
    free(so->id);
    free(so);
}

/* Once acknowledged, a failed goodbye does not unsend the message: it
 * is reported, but the status stays 0. */
static const struct op_class send_class = {
    .name = "send",
    .start = send_start,
    .prepare = send_check,
    .interrupt = send_interrupt,
    .session_end = send_lost,
    .free = send_free,
};

int cmd_send(struct cli *c, int argc, char **argv, struct op **out)
{
    struct send_op *so;
    struct xmp_error err;
    int rc, argi;

    if ((rc = cli_parse_cmd(&c->o, "send", argc, argv, &argi, NULL,
                            NULL)))
        return rc;
    if (argi >= argc || argc - argi > 2) {
        cli_error("usage: xmpctl send JID [TEXT]");
        return EXIT_USAGE;
    }
    if (!(so = calloc(1, sizeof *so)))
        return EXIT_OSERR;
    so->op.cls = &send_class;
    so->op.fd = -1;
    so->op.deadline = -1;
    if (xmp_jid_parse(argv[argi], &so->to_jid, &err) != XMP_OK) {
        cli_error("%s", err.msg);
        rc = cli_exit_status(err.code);
        goto fail;
    }
    if (!(so->to = strdup(argv[argi]))) {
        rc = EXIT_OSERR;
        goto fail;
    }
    if (argi + 1 < argc) {
        so->len = strlen(argv[argi + 1]);
        if (!(so->text = strdup(argv[argi + 1]))) {
            rc = EXIT_OSERR;
            goto fail;
        }
    } else if (c->interactive) {
        cli_error("send: give the TEXT too (quoted when it has spaces)");
        rc = EXIT_USAGE;
        goto fail;
    } else if ((rc = cli_read_stdin(SEND_MAX_TEXT, &so->text, &so->len)) !=
               EXIT_OK) {
        if (rc < 0) {
            cli_error("message longer than %d bytes (SEND_MAX_TEXT)",
                      SEND_MAX_TEXT);
            rc = EXIT_DATA;
        }
        goto fail;
    }
    /* "echo text | xmpctl send" should not send the newline echo adds. */
    while (so->len &&
           (so->text[so->len - 1] == '\n' || so->text[so->len - 1] == '\r'))
        so->len--;
    if (so->len == 0) {
        cli_error("empty message: nothing sent");
        rc = EXIT_DATA;
        goto fail;
    }
    if (so->len > SEND_MAX_TEXT) {
        cli_error("message longer than %d bytes (SEND_MAX_TEXT)",
                  SEND_MAX_TEXT);
        rc = EXIT_DATA;
        goto fail;
    }
    if (xmp_xml_check_text(so->text, so->len, &err) != XMP_OK) {
        cli_error("message not sent: %s", err.msg);
        rc = EXIT_DATA;
        goto fail;
    }
    *out = &so->op;
    return EXIT_OK;
fail:
    send_free(&so->op);
    return rc;
}
