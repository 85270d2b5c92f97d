/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * ready.c - what a session does after its login, decided once from the
 * command's row of cli_commands (struct cmd_needs): a session of its own
 * or one through the session holder, resumption, the keepalive, initial
 * presence, the roster.  Every driver calls here: the one-shot command
 * (loop.c), a command at the prompt and the prompt itself (repl.c), the
 * session holder and its start (holder.c, cmd_session.c); none of them,
 * nor any command, sets these up itself.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "cli.h"

void cli_needs_apply(struct cli *c, const struct cmd_needs *n, int stays)
{
    /* a holder's link would hide what the server negotiates, or the
     * command holds the session itself */
    if (n->session == CMD_SESSION_OWN)
        c->o.no_session = 1;
    c->resume = n->resume == RESUME_ON ||
                (n->resume == RESUME_IF_STAYS && stays);
}

void cli_logged_in(struct cli *c, const struct cmd_needs *n)
{
    /* authenticated: the password has done its work, unless a lost
     * connection is to be resumed or logged in again (the server asks
     * for it again; main wipes it at the end) */
    if (!c->resume && !n->relogin)
        cli_secret_wipe(&c->secret);
    cli_cb_note_login(c);
    cli_cache_note_login(c);
}

/* The keepalive the row asks for, in ms: 0 turns it off, -1 leaves the
 * session's as it is. */
static int keepalive_ms(const struct cli *c, const struct cmd_needs *n,
                        int stays)
{
    int ka = c->o.keepalive_s;

    switch (n->keepalive) {
    case KEEPALIVE_IF_STAYS:
        if (!stays)
            return -1;
        /* fall through */
    case KEEPALIVE_ON:
        return (ka < 0 ? CLI_DEFAULT_KEEPALIVE_S : ka) * 1000;
    case KEEPALIVE_FORCED:
        return (ka > 0 ? ka : CLI_DEFAULT_KEEPALIVE_S) * 1000;
    default:
        return -1;
    }
}

/* RFC 6121 §2.1.3: the roster, for a->roster. */
static void ask_roster(struct cli *c, struct cli_ready_args *a)
{
    struct xmp_node *iq = xmp_node_new("jabber:client", "iq", NULL);

    if (!iq || xmp_node_set_attr(iq, "type", "get", NULL) != XMP_OK ||
        !xmp_node_add_child(iq, "jabber:iq:roster", "query", NULL) ||
        xmp_session_send_iq(c->session, iq, 0, a->roster, a->roster_ud,
                            NULL) != XMP_OK)
        a->roster_failed = 1;
    xmp_node_free(iq);
}

/* Through a session holder, what an initial presence would have
 * brought (CLI_HOLDER_NS); the answer needs no handling. */
static int ask_replay(struct cli *c)
{
    struct xmp_node *iq = xmp_node_new("jabber:client", "iq", NULL);
    int rc = 0;

    if (!iq)
        return EXIT_OSERR;
    if (xmp_node_set_attr(iq, "type", "get", NULL) != XMP_OK ||
        !xmp_node_add_child(iq, CLI_HOLDER_NS, "replay", NULL))
        rc = EXIT_OSERR;
    else if (xmp_session_send_iq(c->session, iq, 0, NULL, NULL, NULL) !=
             XMP_OK)
        rc = -1;
    xmp_node_free(iq);
    return rc;
}

/* The presence the row asks for: 0, EXIT_OSERR or -1 (cli_ready's). */
static int send_presence(struct cli *c, const struct cmd_needs *n,
                         struct cli_ready_args *a)
{
    const struct xmp_node *p = a->presence;
    struct xmp_node *made = NULL;
    int rc = 0;

    switch (n->presence) {
    case PRESENCE_INITIAL:
        /* RFC 6121 §4.2: so that the server routes chat messages to
         * this resource and hands over stored ones; through a session
         * holder it would become the held presence: sent only when the
         * row allows, else the holder's stays as it is */
        if (a->no_presence)
            return 0;
        if (c->attached && !n->sets_presence)
            return a->replay ? ask_replay(c) : 0;
        if (!(made = xmp_node_new("jabber:client", "presence", NULL)))
            return EXIT_OSERR;
        p = made;
        break;
    case PRESENCE_OWN:
        if (!p)
            return 0;
        break;
    default:
        return 0;
    }
    if (xmp_session_send(c->session, p, &a->presence_seq) != XMP_OK)
        rc = -1;
    xmp_node_free(made);
    return rc;
}

int cli_ready(struct cli *c, const struct cmd_needs *n,
              struct cli_ready_args *a)
{
    int ms = keepalive_ms(c, n, a->stays), rc;

    a->presence_seq = 0;
    a->roster_failed = 0;
    /* it stays connected: notice a dead peer */
    if (ms >= 0)
        xmp_session_set_keepalive(c->session, ms, 0);
    if (a->roster && n->roster == ROSTER_BEFORE_PRESENCE)
        ask_roster(c, a);
    if ((rc = send_presence(c, n, a)) != 0)
        return rc;
    if (a->roster && n->roster == ROSTER_AFTER_PRESENCE)
        ask_roster(c, a);
    return 0;
}

int cli_op_ready(struct op *op, const struct cmd_needs *n)
{
    struct cli_ready_args a;
    const struct xmp_error *e;
    int rc;

    memset(&a, 0, sizeof a);
    a.stays = op->stays;
    a.no_presence = op->no_presence;
    a.replay = op->hears_presence;
    if ((rc = cli_ready(op->c, n, &a)) >= 0)
        return rc;
    e = xmp_session_error(op->c->session);
    cli_error("%s", e->msg);
    return cli_exit_status(e->code);
}
