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

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Servers commonly cap stanzas at 256 KiB (Prosody's c2s default); stay
 * under it with room for the envelope. */
#define SEND_MAX_TEXT (200 * 1024)

struct send_state {
    struct cli *c;
    const char *id;
    uint64_t seq;
    char bounce[512];
    int bounced;
};

static int read_stdin(char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap), *nb;
    ssize_t r;

    if (!b)
        return EXIT_OSERR;
    for (;;) {
        if (n == cap) {
            if (cap > SEND_MAX_TEXT) {
                free(b);
                cli_error("message longer than %d bytes (SEND_MAX_TEXT)",
                          SEND_MAX_TEXT);
                return EXIT_DATA;
            }
            if (!(nb = realloc(b, cap * 2))) {
                free(b);
                return EXIT_OSERR;
            }
            b = nb;
            cap *= 2;
        }
        r = read(STDIN_FILENO, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            cli_error("cannot read the message from stdin: %s",
                      strerror(errno));
            free(b);
            return EXIT_IOERR;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *out = b;
    *len = n;
    return EXIT_OK;
}

/* A <message type='error'/> answering ours: the server bounced it. */
static int watch_bounce(struct xmp_session *ses, const struct xmp_node *st,
                        void *ud)
{
    struct send_state *s = ud;
    const char *type = xmp_node_attr(st, "type");
    const char *id = xmp_node_attr(st, "id");

    if (strcmp(xmp_node_name(st), "message") != 0 || !type ||
        strcmp(type, "error") != 0 || !id || strcmp(id, s->id) != 0)
        return XMP_PASS;
    (void)ses;
    xmp_error_describe(st, s->bounce, sizeof s->bounce);
    s->bounced = 1;
    return XMP_PASS;
}

static int acked_or_bounced(void *ud)
{
    struct send_state *s = ud;

    return s->bounced || xmp_session_acked(s->c->session) >= s->seq ||
           xmp_session_ack_error(s->c->session);
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

int cmd_send(struct cli *c, int argc, char **argv)
{
    struct send_state st;
    struct xmp_jid to;
    struct xmp_error err;
    struct xmp_node *msg = NULL;
    char *text = NULL, *id = NULL;
    size_t len;
    int rc, argi = 1;
    enum xmp_err r;

    memset(&st, 0, sizeof st);
    memset(&to, 0, sizeof to);
    if (argi < argc && (strcmp(argv[argi], "--help") == 0 ||
                        strcmp(argv[argi], "-h") == 0)) {
        cli_usage(stdout);
        return EXIT_OK;
    }
    if (argi < argc && strcmp(argv[argi], "--") == 0)
        argi++;
    if (argi >= argc || argc - argi > 2) {
        cli_error("usage: xmpctl send JID [TEXT]");
        return EXIT_USAGE;
    }
    if (argv[argi][0] == '-' && argv[argi][1]) {
        cli_error("send: unknown option '%s'", argv[argi]);
        return EXIT_USAGE;
    }
    if (xmp_jid_parse(argv[argi], &to, &err) != XMP_OK) {
        cli_error("%s", err.msg);
        return cli_exit_status(err.code);
    }
    if (argi + 1 < argc) {
        len = strlen(argv[argi + 1]);
        if (!(text = strdup(argv[argi + 1]))) {
            rc = EXIT_OSERR;
            goto done;
        }
    } else if ((rc = read_stdin(&text, &len)) != EXIT_OK) {
        goto done;
    }
    /* "echo text | xmpctl send" should not send the newline echo adds. */
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    if (len == 0) {
        cli_error("empty message: nothing sent");
        rc = EXIT_DATA;
        goto done;
    }
    if (len > SEND_MAX_TEXT) {
        cli_error("message longer than %d bytes (SEND_MAX_TEXT)",
                  SEND_MAX_TEXT);
        rc = EXIT_DATA;
        goto done;
    }
    if (xmp_xml_check_text(text, len, &err) != XMP_OK) {
        cli_error("message not sent: %s", err.msg);
        rc = EXIT_DATA;
        goto done;
    }
    if ((rc = cli_session_open(c)) != EXIT_OK)
        goto done;
    if (!(id = xmp_session_new_id(c->session))) {
        rc = EXIT_OSERR;
        goto done;
    }
    if (!(msg = build(argv[argi], id, text, len, &err))) {
        cli_error("%s", err.msg);
        rc = cli_exit_status(err.code);
        goto done;
    }
    st.c = c;
    st.id = id;
    xmp_handler_add(c->session, NULL, XMP_PRIO_OBSERVE, watch_bounce, &st,
                    NULL);
    if (xmp_session_send(c->session, msg, &st.seq) != XMP_OK ||
        xmp_session_request_ack(c->session) != XMP_OK) {
        rc = cli_session_failed(c);
        goto done;
    }
    r = xmp_session_run(c->session, acked_or_bounced, &st, -1);
    if (r == XMP_OK && !st.bounced && xmp_session_ack_error(c->session))
        r = XMP_ETIMEOUT;
    if (r != XMP_OK) {
        /* The message left us, but nobody vouched for it. */
        const struct xmp_error *e = xmp_session_error(c->session);

        if (xmp_session_ack_error(c->session))
            e = xmp_session_ack_error(c->session);
        cli_error("message to %s not acknowledged by the server: %s",
                  argv[argi], e->msg[0] ? e->msg : xmp_err_name(r));
        rc = EXIT_NOTSENT;
        goto done;
    }
    if (st.bounced) {
        cli_error("message to %s bounced: %s", argv[argi], st.bounce);
        cli_session_close(c);
        rc = EXIT_REMOTE;
        goto done;
    }
    /* Once acknowledged, a failed goodbye does not unsend the message:
     * it is reported, but the status stays 0. */
    cli_session_close(c);
    rc = EXIT_OK;
done:
    xmp_node_free(msg);
    free(id);
    free(text);
    xmp_jid_clear(&to);
    return rc;
}
