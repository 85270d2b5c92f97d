/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cmd_roster.c - the contact list (RFC 6121 §2): list it, add a contact
 * (keeping what the roster already says of it), set one (name and groups
 * replaced) or remove one.  Every change is an iq set the server answers;
 * the command exits 0 only with that answer.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define NS_ROSTER "jabber:iq:roster"
#define ROSTER_MAX_GROUPS 64

enum roster_action { R_LIST, R_ADD, R_SET, R_REMOVE };

enum { OPT_NAME = 'n', OPT_GROUP = 'g' };

static const struct opt_def roster_opts[] = {
    {"name", OPT_NAME, "NAME", "add, set: the contact's name", ARG_TEXT},
    {"group", OPT_GROUP, "GROUP", "add, set: a group (repeat for more)",
     ARG_TEXT},
};
const struct opt_list roster_options = {
    roster_opts, sizeof roster_opts / sizeof roster_opts[0]
};

struct roster_op {
    struct op op;
    enum roster_action action;
    char *jid, *name;
    char *groups[ROSTER_MAX_GROUPS];
    size_t ngroups;
    unsigned req;
    int have_req;
    struct outcome out; /* refused, unanswered, or in doubt */
};

/* ---- what a roster item says ----------------------------------------------- */

static int item_send_set(struct roster_op *r, const struct xmp_node *old);

static void on_error(struct roster_op *r, const struct xmp_node *reply)
{
    char why[512];

    xmp_error_describe(reply, why, sizeof why);
    cli_error("roster %s: error from the server: %s",
              r->action == R_LIST     ? "list"
              : r->action == R_REMOVE ? "remove"
                                      : r->jid,
              why);
    outcome_add(&r->out, ITEM_BOUNCED, 1);
    op_done(&r->op, status_roster(&r->out));
}

static const struct xmp_node *find_item(const struct xmp_node *query,
                                        const char *jid)
{
    const struct xmp_node *it;
    struct xmp_jid want, have;
    int same;

    if (xmp_jid_parse(jid, &want, NULL) != XMP_OK)
        return NULL;
    for (it = xmp_node_first(query); it; it = xmp_node_next(it)) {
        const char *j = xmp_node_attr(it, "jid");

        if (strcmp(xmp_node_name(it), "item") != 0 || !j ||
            xmp_jid_parse(j, &have, NULL) != XMP_OK)
            continue;
        same = xmp_jid_equal(&want, &have);
        xmp_jid_clear(&have);
        if (same)
            break;
    }
    xmp_jid_clear(&want);
    return it;
}

static void on_reply(struct xmp_session *s, const struct xmp_node *reply,
                     const struct xmp_error *e, void *ud)
{
    struct roster_op *r = ud;
    const struct xmp_node *q, *it;

    (void)s;
    r->have_req = 0;
    if (r->op.done)
        return;
    if (!reply) {
        if (e->code == XMP_ETIMEOUT) {
            cli_error("roster: %s", e->msg);
            outcome_add(&r->out, ITEM_TIMED_OUT, 1);
            op_done(&r->op, status_roster(&r->out));
        }
        return; /* the session ended: the driver says how */
    }
    if (strcmp(xmp_node_attr(reply, "type"), "result") != 0) {
        on_error(r, reply);
        return;
    }
    q = xmp_node_child(reply, NS_ROSTER, "query");
    if (r->action == R_LIST) {
        for (it = q ? xmp_node_first(q) : NULL; it; it = xmp_node_next(it))
            if (strcmp(xmp_node_name(it), "item") == 0 &&
                out_roster_item(r->op.c, it) < 0) {
                op_done(&r->op, EXIT_IOERR);
                return;
            }
        op_done(&r->op, EXIT_OK);
    } else if (r->action == R_ADD) {
        /* the roster as it was: now the change, keeping what is there */
        r->action = R_SET;
        if (item_send_set(r, q ? find_item(q, r->jid) : NULL) != 0)
            op_done(&r->op, cli_session_status(r->op.c));
    } else {
        op_done(&r->op, EXIT_OK); /* the server took the change */
    }
}

static int send_query(struct roster_op *r, struct xmp_node *iq)
{
    if (xmp_session_send_iq(r->op.c->session, iq, 0, on_reply, r,
                            &r->req) != XMP_OK) {
        xmp_node_free(iq);
        return -1;
    }
    r->have_req = 1;
    xmp_node_free(iq);
    return 0;
}

static struct xmp_node *new_query(const char *type, struct xmp_node **query)
{
    struct xmp_node *iq = xmp_node_new("jabber:client", "iq", NULL);

    if (!iq || xmp_node_set_attr(iq, "type", type, NULL) != XMP_OK ||
        !(*query = xmp_node_add_child(iq, NS_ROSTER, "query", NULL))) {
        xmp_node_free(iq);
        return NULL;
    }
    return iq;
}

/* An iq set with our item: for add, what 'old' says (name, groups) where
 * the command line says nothing, and every group of both. */
static int item_send_set(struct roster_op *r, const struct xmp_node *old)
{
    struct xmp_node *q, *it, *g, *iq = new_query("set", &q);
    const struct xmp_node *og;
    const char *name = r->name;
    size_t i;
    int fail;

    if (!iq)
        return -1;
    fail = !(it = xmp_node_add_child(q, NS_ROSTER, "item", NULL)) ||
           xmp_node_set_attr(it, "jid", r->jid, NULL) != XMP_OK;
    if (!fail && r->action == R_REMOVE) {
        fail = xmp_node_set_attr(it, "subscription", "remove", NULL) !=
               XMP_OK;
        return fail ? (xmp_node_free(iq), -1) : send_query(r, iq);
    }
    if (!name && old)
        name = xmp_node_attr(old, "name");
    if (!fail && name)
        fail = xmp_node_set_attr(it, "name", name, NULL) != XMP_OK;
    for (i = 0; !fail && i < r->ngroups; i++)
        fail = !(g = xmp_node_add_child(it, NS_ROSTER, "group", NULL)) ||
               xmp_node_add_text(g, r->groups[i], strlen(r->groups[i]),
                                 NULL) != XMP_OK;
    for (og = old ? xmp_node_first(old) : NULL; !fail && og;
         og = xmp_node_next(og)) {
        char *t;
        int dup = 0;

        if (strcmp(xmp_node_name(og), "group") != 0)
            continue;
        if (!(t = xmp_node_text(og))) {
            fail = 1;
            break;
        }
        for (i = 0; i < r->ngroups && !dup; i++)
            dup = strcmp(r->groups[i], t) == 0;
        if (!dup && *t)
            fail = !(g = xmp_node_add_child(it, NS_ROSTER, "group", NULL)) ||
                   xmp_node_add_text(g, t, strlen(t), NULL) != XMP_OK;
        free(t);
    }
    if (fail) {
        xmp_node_free(iq);
        return -1;
    }
    return send_query(r, iq);
}

/* ---- the operation ------------------------------------------------------- */

static int roster_start(struct op *op)
{
    struct roster_op *r = (struct roster_op *)op;
    struct xmp_node *q, *iq;
    int rc;

    if (r->action == R_LIST || r->action == R_ADD) {
        if (!(iq = new_query("get", &q)))
            return EXIT_OSERR;
        rc = send_query(r, iq);
    } else {
        rc = item_send_set(r, NULL);
    }
    if (rc != 0) {
        cli_error("%s", xmp_session_error(op->c->session)->msg);
        return cli_exit_status(xmp_session_error(op->c->session)->code);
    }
    return 0;
}

static void roster_interrupt(struct op *op, int sig)
{
    cli_error("interrupted before the server answered");
    op_done(op, EXIT_SIGNAL_BASE + sig);
}

/* The session ended before the answer: a change may or may not have
 * been made. */
static void roster_session_end(struct op *op)
{
    struct roster_op *r = (struct roster_op *)op;

    if (r->action != R_LIST) {
        cli_error("roster: no answer from the server before the session "
                  "ended: the change may or may not have been made");
        outcome_add(&r->out, ITEM_UNCONFIRMED, 1);
        op_done(op, status_roster(&r->out));
    }
}

static void roster_free(struct op *op)
{
    struct roster_op *r = (struct roster_op *)op;
    size_t i;

    if (r->have_req && op->c && op->c->session)
        xmp_iq_cancel(op->c->session, r->req);
    free(r->jid);
    free(r->name);
    for (i = 0; i < r->ngroups; i++)
        free(r->groups[i]);
    free(r);
}

static const struct op_class roster_class = {
    .name = "roster",
    .start = roster_start,
    .interrupt = roster_interrupt,
    .session_end = roster_session_end,
    .free = roster_free,
};

/* ---- the command line ----------------------------------------------------- */

/* A name or group: text an XML attribute or element can carry. */
static int check_text(const char *what, const char *s)
{
    struct xmp_error err;

    if (!*s) {
        cli_error("roster: empty %s", what);
        return EXIT_DATA;
    }
    if (xmp_xml_check_text(s, strlen(s), &err) != XMP_OK) {
        cli_error("roster: %s: %s", what, err.msg);
        return EXIT_DATA;
    }
    return 0;
}

static int set_roster(void *ud, int id, const char *arg)
{
    struct roster_op *r = ud;
    size_t i;
    int rc;

    if ((rc = check_text(id == OPT_NAME ? "--name" : "--group", arg)))
        return rc;
    if (id == OPT_NAME) {
        free(r->name);
        return (r->name = strdup(arg)) ? 0 : EXIT_OSERR;
    }
    for (i = 0; i < r->ngroups; i++)
        if (strcmp(r->groups[i], arg) == 0)
            return 0;
    if (r->ngroups == ROSTER_MAX_GROUPS) {
        cli_error("roster: more than %d groups", ROSTER_MAX_GROUPS);
        return EXIT_USAGE;
    }
    return (r->groups[r->ngroups++] = strdup(arg)) ? 0 : EXIT_OSERR;
}

int cmd_roster(struct cli *c, int argc, char **argv, struct op **out)
{
    static const char *const actions[] = { "list", "add", "set", "remove" };
    struct roster_op *r = calloc(1, sizeof *r);
    struct xmp_error err;
    struct xmp_jid j;
    int rc, next, n;
    size_t i;

    if (!r)
        return EXIT_OSERR;
    r->op.cls = &roster_class;
    r->op.fd = -1;
    r->op.deadline = -1;
    if ((rc = cli_parse_cmd(&c->o, "roster", argc, argv, &next, set_roster,
                            r)))
        goto fail;
    n = argc - next;
    for (i = 0; n > 0 && i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(argv[next], actions[i]) == 0)
            break;
    rc = EXIT_USAGE;
    if (n > 0 && i == sizeof actions / sizeof actions[0]) {
        cli_error("roster: unknown action '%s' (list, add, set or remove)",
                  argv[next]);
        goto fail;
    }
    /* "roster add JID --name N", "roster list --format json": the
     * parser took the options wherever they were */
    r->action = n > 0 ? (enum roster_action)i : R_LIST;
    if (r->action == R_LIST ? n > 1 : n != 2) {
        cli_error("usage: xmpctl roster [list | add JID | set JID | "
                  "remove JID] [--name NAME] [--group GROUP]...");
        goto fail;
    }
    if ((r->action == R_LIST || r->action == R_REMOVE) &&
        (r->name || r->ngroups)) {
        cli_error("roster: --name and --group go with add and set");
        goto fail;
    }
    if (r->action != R_LIST) {
        if (xmp_jid_parse(argv[next + 1], &j, &err) != XMP_OK) {
            cli_error("roster: %s", err.msg);
            rc = cli_exit_status(err.code);
            goto fail;
        }
        n = j.resource != NULL;
        xmp_jid_clear(&j);
        if (n) {
            cli_error("roster: %s: a contact is a bare JID, without "
                      "/resource (RFC 6121 §2.1.2.2)", argv[next + 1]);
            rc = EXIT_DATA;
            goto fail;
        }
        if (!(r->jid = strdup(argv[next + 1]))) {
            rc = EXIT_OSERR;
            goto fail;
        }
    }
    *out = &r->op;
    return EXIT_OK;
fail:
    roster_free(&r->op);
    return rc;
}
