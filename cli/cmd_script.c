/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cmd_script.c - run scansion scripts: every client of a script is a
 * session of this process, all of them in one loop (loop.c's engine),
 * and the script's actions run in order.  Every script is parsed before
 * anything connects, and every client's account is found in the config
 * file, as for every command.  A step that receives waits only until a
 * stanza matches or --wait passes; "receives: nothing" waits the whole
 * --wait.
 * The first step that fails ends its script: what was expected and what
 * came are printed, every client closes politely, and the next script
 * runs.  xmpctl-script(1) is the reference.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "script.h"

/* The longest script we read: a test script is far shorter. */
#define SCRIPT_MAX_BYTES (4 * 1024 * 1024)
/* How long a step that receives waits, by default: enough for a server on
 * the same machine or network, short enough that "receives: nothing"
 * keeps a suite fast. */
#define SCRIPT_DEFAULT_WAIT_MS 3000
/* Stanzas a client keeps for the steps that will look at them. */
#define SCRIPT_MAX_QUEUE 1000

enum { OPT_WAIT = 'w', OPT_TAP = 256 };

static const struct opt_def script_opts[] = {
    {"wait", OPT_WAIT, "SECONDS", "how long to wait for each stanza "
                                  "(default 3, fractions allowed)",
     ARG_TEXT},
    {"tap", OPT_TAP, NULL, "print the steps as TAP (Test Anything Protocol)",
     ARG_NONE},
};
const struct opt_list script_options = {
    script_opts, sizeof script_opts / sizeof script_opts[0]
};

/* One client of the running script. */
struct sclient {
    struct cli c;
    const struct script_client *sc;
    struct xmp_node *q[SCRIPT_MAX_QUEUE]; /* received, not yet consumed */
    size_t nq;
    unsigned long dropped; /* past SCRIPT_MAX_QUEUE */
    unsigned handler;
    char *full; /* the JID bound at the last connect */
    struct xmp_trust *own_trust; /* its account's CA file's, or NULL */
};

struct runner {
    struct cli *top; /* the global options and the shared trust */
    long wait_ms;
    struct script *scripts;
    size_t nscripts;
    struct script_report out;
    int sig;      /* caught: every script stops */
    int warned_insecure; /* --insecure said once, whichever client first */

    /* the script running */
    const struct script *s;
    /* its clients whose jid is their account's, not the script's (one
     * bit each, SCRIPT_MAX_CLIENTS of them) */
    unsigned found;
    struct sclient *cl;
    struct script_vars vars; /* captured by its steps so far */
};

/* ---- clients ---------------------------------------------------------------- */

/* Every stanza goes to the script: claimed here, so that the library
 * answers nothing on a client's behalf (the script may expect an iq and
 * answer it itself). */
static int on_stanza(struct xmp_session *s, const struct xmp_node *st,
                     void *ud)
{
    struct sclient *sc = ud;
    struct xmp_error err;
    struct xmp_node *copy;
    char *xml;

    (void)s;
    if (sc->nq == SCRIPT_MAX_QUEUE) {
        sc->dropped++;
        return XMP_HANDLED;
    }
    /* the stanza is borrowed for the call; the script looks later */
    if (!(xml = xmp_node_to_string(st, "jabber:client")))
        return XMP_HANDLED;
    copy = xmp_node_parse(xml, strlen(xml), &err);
    free(xml);
    if (copy)
        sc->q[sc->nq++] = copy;
    return XMP_HANDLED;
}

static void drop_queue(struct sclient *sc, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        xmp_node_free(sc->q[i]);
    memmove(sc->q, sc->q + n, (sc->nq - n) * sizeof sc->q[0]);
    sc->nq -= n;
}

static int session_ready(const struct sclient *sc)
{
    return sc->c.session &&
           xmp_session_phase(sc->c.session) == XMP_PHASE_READY;
}

/* What a step waits for, looked at before each turn: 1 when it holds. */
typedef int (*script_until)(struct runner *r, void *arg);

struct script_wait {
    struct runner *r;
    script_until until;
    void *arg;
    int64_t deadline;
    struct cli *cs[16];
};

static enum cli_turn script_before(struct cli_driver *d, struct cli_poll *lp)
{
    struct script_wait *w = d->ud;
    struct runner *r = w->r;
    size_t i, n = 0;

    if (w->until(r, w->arg))
        return CLI_DONE;
    for (i = 0; i < r->s->nclients && n < 16; i++)
        if (r->cl[i].c.session)
            w->cs[n++] = &r->cl[i].c;
    d->n = n;
    lp->deadline = w->deadline;
    return CLI_POLL;
}

/*
 * Turn the loop over every client's session until 'until' holds, each
 * poll bounded by deadline (-1: the sessions' own).  -1 when the loop
 * failed or a signal came (r->sig).
 */
static int script_drive(struct runner *r, int64_t deadline,
                        script_until until, void *arg)
{
    struct script_wait w;
    struct cli_driver d;
    int rc;

    memset(&w, 0, sizeof w);
    w.r = r;
    w.until = until;
    w.arg = arg;
    w.deadline = deadline;
    memset(&d, 0, sizeof d);
    d.cs = w.cs;
    d.before = script_before;
    d.ud = &w;
    if ((rc = cli_drive(&d)) > 0)
        r->sig = rc;
    return rc == 0 ? 0 : -1;
}

/* Why sc's session is over, in f (after 'what'); the exit status for
 * it. */
static int session_failure(struct sclient *sc, struct script_failure *f,
                           const char *what)
{
    const struct xmp_error *e =
        sc->c.session ? xmp_session_error(sc->c.session) : NULL;

    if (!sc->c.session ||
        xmp_session_phase(sc->c.session) != XMP_PHASE_FAILED) {
        sbuf_printf(&f->msg, "%s: the server closed the session", what);
        return f->status = status_session_end(0, XMP_OK);
    }
    sbuf_printf(&f->msg, "%s: %s", what,
                e->msg[0] ? e->msg : xmp_err_name(e->code));
    return f->status = status_session_end(1, e->code);
}

static int interrupted(struct runner *r, struct script_failure *f)
{
    if (r->sig)
        sbuf_printf(&f->msg, "was interrupted by signal %d", r->sig);
    else
        sbuf_puts(&f->msg, "was stopped: the loop failed");
    return f->status = r->sig ? EXIT_SIGNAL_BASE + r->sig : EXIT_OSERR;
}

static void client_init(struct runner *r, struct sclient *sc,
                        const struct script_client *def)
{
    memset(sc, 0, sizeof *sc);
    sc->sc = def;
    sc->c.label = def->name;
    sc->c.trust = r->top->trust;
}

static int copy_opt(char **dst, const char *src)
{
    return !src || (*dst = strdup(src)) ? 0 : -1;
}

/*
 * The options of the client def, in o (free with cli_opts_free): the
 * global options that apply to every client, then its account's section
 * of the config file, as for every command.  A client with a jid takes
 * the section whose jid it is, if any; a client without one takes the
 * account of --account or --jid, or else the file's first.  Returns 0,
 * or the exit status (said).
 */
static int client_opts(struct runner *r, const struct script_client *def,
                       struct cli_opts *o)
{
    const struct cli_opts *g = &r->top->o;
    int named = def->jid && !(r->found & 1u << (def - r->s->clients)), rc;

    memset(o, 0, sizeof *o);
    o->direct_tls = g->direct_tls;
    o->insecure = g->insecure;
    o->tls_min = g->tls_min;
    o->no_sasl2 = g->no_sasl2;
    o->no_fast = g->no_fast;
    o->fast_unbound = g->fast_unbound;
    o->verbose = g->verbose;
    o->timeout_s = g->timeout_s;
    o->format = g->format;
    if (copy_opt(&o->jid, named ? def->jid : g->jid) < 0 ||
        copy_opt(&o->account, named ? NULL : g->account) < 0 ||
        copy_opt(&o->config, g->config) < 0 ||
        copy_opt(&o->server, g->server) < 0 ||
        copy_opt(&o->proxy, g->proxy) < 0 ||
        copy_opt(&o->cafile, g->cafile) < 0 ||
        copy_opt(&o->mech, g->mech) < 0 ||
        copy_opt(&o->password_file, g->password_file) < 0 ||
        copy_opt(&o->password_command, g->password_command) < 0) {
        cli_error("out of memory");
        rc = EXIT_OSERR;
        goto fail;
    }
    if ((rc = cli_load_config(o)))
        goto fail;
    if (!o->jid) {
        cli_error("%s: client '%s' has no jid, and no account gives one "
                  "(--account, --jid or the config file)",
                  r->s ? r->s->file : "script", def->name);
        rc = EXIT_USAGE;
        goto fail;
    }
    /* the script says which resource, or the server chooses */
    free(o->resource);
    o->resource = NULL;
    if (copy_opt(&o->resource, def->resource) < 0) {
        cli_error("out of memory");
        rc = EXIT_OSERR;
        goto fail;
    }
    o->keepalive_s = 0;
    return 0;
fail:
    cli_opts_free(o);
    return rc;
}

/* Every client's account, found before anything connects (fill 0);
 * once more when the script runs (fill 1), when a client without a jid
 * takes its account's for the script's variables.  Returns 0, or the
 * exit status (said). */
static int find_accounts(struct runner *r, struct script *s, int fill)
{
    struct cli_opts o;
    size_t i;
    int rc = 0;

    r->s = s;
    r->found = 0;
    for (i = 0; i < s->nclients; i++) {
        struct script_client *def = &s->clients[i];

        if ((rc = client_opts(r, def, &o)))
            break;
        if (fill && !def->jid) {
            if (!(def->jid = strdup(o.jid))) {
                cli_error("out of memory");
                rc = EXIT_OSERR;
            }
            r->found |= 1u << i;
        }
        cli_opts_free(&o);
        if (rc)
            break;
    }
    r->s = NULL;
    return rc;
}

static int ready_or_over(struct runner *r, void *arg)
{
    struct sclient *sc = arg;

    (void)r;
    return session_ready(sc) || cli_session_over(sc->c.session);
}

static int do_connect(struct runner *r, struct sclient *sc,
                      struct script_failure *f)
{
    const struct cli_opts *g = &r->top->o;
    struct xmp_session_info info;
    int rc;

    if (sc->c.session && !cli_session_over(sc->c.session)) {
        sbuf_puts(&f->msg, "connects, but is connected already");
        return f->status = EXIT_DATA;
    }
    cli_opts_free(&sc->c.o);
    if ((rc = client_opts(r, sc->sc, &sc->c.o))) {
        sbuf_puts(&f->msg, "cannot connect (see above)");
        return f->status = rc;
    }
    if (copy_opt(&sc->c.secret.pw, sc->sc->password) < 0) {
        sbuf_puts(&f->msg, "cannot connect: out of memory");
        return f->status = EXIT_OSERR;
    }
    /* a CA file of the account's own has trust anchors of its own */
    sc->c.trust = !sc->c.o.cafile || (g->cafile &&
                                      strcmp(sc->c.o.cafile, g->cafile) == 0)
                      ? r->top->trust
                      : sc->own_trust;
    /* without one in the script, cli_session_open asks the sources */
    sc->c.secret.len = sc->c.secret.pw ? strlen(sc->c.secret.pw) : 0;
    xmp_session_free(sc->c.session);
    sc->c.session = NULL;
    sc->c.warned_insecure = r->warned_insecure;
    /* a script's accounts log in themselves (its row) */
    cli_needs_apply(&sc->c, &cli_command("script")->needs, 0);
    rc = cli_session_open(&sc->c);
    if (sc->c.trust != r->top->trust)
        sc->own_trust = sc->c.trust; /* made there, kept for a reconnect */
    r->warned_insecure |= sc->c.warned_insecure;
    if (rc != EXIT_OK) {
        cli_secret_wipe(&sc->c.secret);
        sbuf_puts(&f->msg, "cannot connect (see above)");
        return f->status = rc;
    }
    if (xmp_handler_add(sc->c.session, NULL, XMP_PRIO_DEFAULT, on_stanza, sc,
                        &sc->handler) != XMP_OK) {
        cli_secret_wipe(&sc->c.secret);
        sbuf_puts(&f->msg, "cannot connect: out of memory");
        return f->status = EXIT_OSERR;
    }
    if (script_drive(r, -1, ready_or_over, sc) < 0) {
        cli_secret_wipe(&sc->c.secret);
        return interrupted(r, f);
    }
    if (!session_ready(sc)) {
        cli_secret_wipe(&sc->c.secret);
        return session_failure(sc, f, "cannot connect");
    }
    /* authenticated: the password has done its work */
    cli_secret_wipe(&sc->c.secret);
    xmp_session_get_info(sc->c.session, &info);
    free(sc->full);
    if (!(sc->full = strdup(info.bound_jid ? info.bound_jid : sc->sc->jid))) {
        sbuf_puts(&f->msg, "cannot connect: out of memory");
        return f->status = EXIT_OSERR;
    }
    return 0;
}

static int all_over(struct runner *r, void *arg)
{
    size_t i;
    int waiting = 0;

    (void)arg;
    for (i = 0; i < r->s->nclients; i++)
        waiting |= r->cl[i].c.session &&
                   !cli_session_over(r->cl[i].c.session);
    return !waiting;
}

/* RFC 6120 §4.4 for each client still connected; the wait is bounded by
 * each session's own timeout, and a signal ends it. */
static void close_all(struct runner *r)
{
    size_t i;

    for (i = 0; i < r->s->nclients; i++)
        if (r->cl[i].c.session && !cli_session_over(r->cl[i].c.session))
            xmp_session_close(r->cl[i].c.session);
    /* after a signal too: a second one ends the wait */
    script_drive(r, -1, all_over, NULL);
}

static int over(struct runner *r, void *arg)
{
    const struct sclient *sc = arg;

    (void)r;
    return cli_session_over(sc->c.session);
}

/* A step that needs sc connected: 0 when it is, else the failure. */
static int not_connected(struct sclient *sc, struct script_failure *f)
{
    if (sc->c.session)
        return 0;
    sbuf_puts(&f->msg, "is not connected here");
    return f->status = EXIT_DATA;
}

/* Disconnecting a client that is not connected passes, as in scansion:
 * the step's note says why there was nothing to close (f->msg, with
 * status 0). */
static int do_disconnect(struct runner *r, struct sclient *sc,
                         struct script_failure *f)
{
    const struct xmp_error *e;

    if (!sc->c.session) {
        sbuf_puts(&f->msg, "was not connected");
        return 0;
    }
    if (cli_session_over(sc->c.session)) {
        e = xmp_session_phase(sc->c.session) == XMP_PHASE_FAILED
                ? xmp_session_error(sc->c.session)
                : NULL;
        if (e)
            sbuf_printf(&f->msg, "was disconnected already: %s",
                        e->msg[0] ? e->msg : xmp_err_name(e->code));
        else
            sbuf_puts(&f->msg, "was disconnected already: the server "
                               "closed the session");
        xmp_session_free(sc->c.session);
        sc->c.session = NULL;
        drop_queue(sc, sc->nq);
        return 0;
    }
    xmp_session_close(sc->c.session);
    if (script_drive(r, -1, over, sc) < 0)
        return interrupted(r, f);
    /* the server's stream error may cross our closing */
    if (xmp_session_phase(sc->c.session) != XMP_PHASE_CLOSED &&
        (e = xmp_session_error(sc->c.session)))
        sbuf_printf(&f->msg, "was disconnected by the server: %s",
                    e->msg[0] ? e->msg : xmp_err_name(e->code));
    xmp_session_free(sc->c.session);
    sc->c.session = NULL;
    drop_queue(sc, sc->nq);
    return 0;
}

static const struct xmp_node *element(struct runner *r,
                                      const struct script_step *st,
                                      struct xmp_node **holder,
                                      struct script_failure *f)
{
    const char *full[16];
    const struct xmp_node *el;
    char err[600];
    size_t i;

    for (i = 0; i < r->s->nclients && i < 16; i++)
        full[i] = r->cl[i].full;
    if (!(el = script_element(r->s, st, full, &r->vars, holder, err,
                              sizeof err))) {
        /* the JID a server bound does not fit where it is used */
        sbuf_printf(&f->msg, "cannot build the stanza: line %s", err);
        f->status = EXIT_DATA;
    }
    return el;
}

struct ack_wait {
    struct sclient *sc;
    uint64_t seq;
};

static int acked(struct runner *r, void *arg)
{
    const struct ack_wait *w = arg;
    struct xmp_session *s = w->sc->c.session;

    (void)r;
    return cli_session_over(s) || xmp_session_acked(s) >= w->seq ||
           xmp_session_ack_error(s);
}

/*
 * Send the elements of the step in order.  With confirm, wait until the
 * server has taken them (XEP-0198 acknowledgement, or else the answer to
 * a ping, which comes after every stanza sent before it): the next step
 * from another client must not overtake them, and a server handles each
 * connection on its own.
 */
static int do_send(struct runner *r, const struct script_step *st,
                   struct sclient *sc, int confirm, struct script_failure *f)
{
    struct xmp_node *holder;
    const struct xmp_node *el;
    struct ack_wait w = { sc, 0 };
    const struct xmp_error *e;
    uint64_t seq;
    int rc;

    if ((rc = not_connected(sc, f)))
        return rc;
    if (!(el = element(r, st, &holder, f)))
        return f->status;
    for (; el; el = xmp_node_next(el)) {
        if (!session_ready(sc) ||
            xmp_session_send(sc->c.session, el, &seq) != XMP_OK) {
            xmp_node_free(holder);
            return session_failure(sc, f, "has no session");
        }
        if (seq > w.seq)
            w.seq = seq;
    }
    xmp_node_free(holder);
    if (!confirm || !w.seq)
        return 0;
    if (xmp_session_request_ack(sc->c.session) != XMP_OK)
        return session_failure(sc, f, "has no session");
    if (script_drive(r, -1, acked, &w) < 0)
        return interrupted(r, f);
    if (cli_session_over(sc->c.session))
        return session_failure(sc, f, "has no session");
    if (xmp_session_acked(sc->c.session) < w.seq &&
        (e = xmp_session_ack_error(sc->c.session))) {
        sbuf_printf(&f->msg, "sent, but the server did not confirm it: %s",
                    e->msg[0] ? e->msg : xmp_err_name(e->code));
        return f->status = status_session_end(1, e->code);
    }
    return 0;
}

/* What was expected and what came instead, for the report. */
static void explain(struct sclient *sc, const struct xmp_node *el,
                    struct script_failure *f)
{
    struct sbuf closest = { NULL, 0, 0, 0 };
    int best = -1, d;
    size_t i;

    script_pretty(el, &f->expected);
    f->expected_line = xmp_node_to_line(el, "jabber:client");
    f->received = calloc(sc->nq + 1, sizeof *f->received);
    f->received_line = calloc(sc->nq + 1, sizeof *f->received_line);
    if (!f->received || !f->received_line)
        return;
    for (i = 0; i < sc->nq; i++) {
        struct sbuf p = { NULL, 0, 0, 0 };

        script_pretty(sc->q[i], &p);
        f->received[i] = p.text;
        f->received_line[i] = xmp_node_to_line(sc->q[i], "jabber:client");
        f->nreceived++;
        d = script_match(el, sc->q[i], NULL);
        if (best < 0 || d < best) {
            best = d;
            f->closest = i;
        }
    }
    if (sc->nq == 0)
        return;
    script_match(el, sc->q[f->closest], &f->why);
    script_pretty(sc->q[f->closest], &closest);
    script_diff(f->expected.text ? f->expected.text : "",
                closest.text ? closest.text : "", &f->diff);
    sbuf_free(&closest);
}

/* How a step that receives (or receives nothing) ended its wait. */
enum got { GOT_NONE, GOT_MATCH, GOT_STANZAS, GOT_OVER, GOT_TIME };

struct receive_wait {
    struct sclient *sc;
    const struct xmp_node *el; /* NULL: nothing is expected */
    int64_t deadline;
    size_t checked;
    enum got got;
    int nomem; /* a capture could not be kept */
};

static int received(struct runner *r, void *arg)
{
    struct receive_wait *w = arg;
    struct sclient *sc = w->sc;
    size_t i;

    if (!w->el && sc->nq) {
        w->got = GOT_STANZAS;
        return 1;
    }
    for (i = w->checked; w->el && i < sc->nq; i++)
        if (script_match(w->el, sc->q[i], NULL) == 0) {
            /* {scansion:capture:NAME}: kept for the steps after it */
            if (script_capture(w->el, sc->q[i], &r->vars) < 0)
                w->nomem = 1;
            /* the ones before it are passed over (the trace shows them) */
            drop_queue(sc, i + 1);
            w->got = GOT_MATCH;
            return 1;
        }
    w->checked = sc->nq;
    if (cli_session_over(sc->c.session))
        w->got = GOT_OVER;
    else if (xmp_now_ms() >= w->deadline)
        w->got = GOT_TIME;
    return w->got != GOT_NONE;
}

static int do_receive(struct runner *r, const struct script_step *st,
                      struct sclient *sc, struct script_failure *f)
{
    struct xmp_node *holder;
    struct receive_wait w;
    int rc = 0;

    memset(&w, 0, sizeof w);
    w.sc = sc;
    w.deadline = xmp_now_ms() + r->wait_ms;
    if ((rc = not_connected(sc, f)))
        return rc;
    if (!(w.el = element(r, st, &holder, f)))
        return f->status;
    if (script_drive(r, w.deadline, received, &w) < 0) {
        rc = interrupted(r, f);
    } else if (w.nomem) {
        sbuf_puts(&f->msg, "cannot keep a capture: out of memory");
        rc = f->status = EXIT_OSERR;
    } else if (w.got == GOT_OVER) {
        rc = session_failure(sc, f, "has no session");
        explain(sc, w.el, f);
    } else if (w.got == GOT_TIME) {
        sbuf_printf(&f->msg, "received no stanza that matches within "
                             "%ld ms (%zu received)",
                    r->wait_ms, sc->nq);
        if (sc->dropped)
            sbuf_printf(&f->msg, "; %lu more not kept "
                                 "(SCRIPT_MAX_QUEUE)",
                        sc->dropped);
        rc = f->status = status_script(
            &(struct outcome){ .n[ITEM_TIMED_OUT] = 1 });
        explain(sc, w.el, f);
    }
    xmp_node_free(holder);
    return rc;
}

static int do_nothing(struct runner *r, struct sclient *sc,
                      struct script_failure *f)
{
    struct receive_wait w;
    size_t i;
    int rc;

    if ((rc = not_connected(sc, f)))
        return rc;
    memset(&w, 0, sizeof w);
    w.sc = sc;
    w.deadline = xmp_now_ms() + r->wait_ms;
    if (script_drive(r, w.deadline, received, &w) < 0)
        return interrupted(r, f);
    if (w.got == GOT_OVER)
        return session_failure(sc, f, "has no session");
    if (w.got != GOT_STANZAS)
        return 0;
    sbuf_printf(&f->msg, "received %zu stanza%s, nothing was expected",
                sc->nq, sc->nq == 1 ? "" : "s");
    f->received = calloc(sc->nq + 1, sizeof *f->received);
    f->received_line = calloc(sc->nq + 1, sizeof *f->received_line);
    for (i = 0; f->received && f->received_line && i < sc->nq; i++) {
        struct sbuf p = { NULL, 0, 0, 0 };

        script_pretty(sc->q[i], &p);
        f->received[i] = p.text;
        f->received_line[i] = xmp_node_to_line(sc->q[i], "jabber:client");
        f->nreceived++;
    }
    return f->status = status_script(
        &(struct outcome){ .n[ITEM_UNEXPECTED] = 1 });
}

/* Run one script; its exit status. */
static int run_script(struct runner *r, const struct script *s)
{
    struct sclient *cl = calloc(s->nclients, sizeof *cl);
    struct script_failure f;
    size_t i, passed = 0, failed = 0, skipped = 0;
    int status = EXIT_OK, fail_line = 0, out_rc = 0;

    if (!cl) {
        cli_error("out of memory");
        return EXIT_OSERR;
    }
    r->s = s;
    r->cl = cl;
    r->out.s = s;
    r->out.json = r->top->o.format == FORMAT_JSON;
    for (i = 0; i < s->nclients; i++)
        client_init(r, &cl[i], &s->clients[i]);
    memset(&f, 0, sizeof f);
    for (i = 0; i < s->nsteps; i++) {
        const struct script_step *st = &s->steps[i];
        struct sclient *sc = &cl[st->client];
        int rc = 0;

        if (status || r->sig) {
            skipped++;
            out_rc |= script_report_step(&r->out, st, SCRIPT_SKIP, NULL);
            continue;
        }
        switch (st->action) {
        case SCRIPT_CONNECTS: rc = do_connect(r, sc, &f); break;
        case SCRIPT_DISCONNECTS: rc = do_disconnect(r, sc, &f); break;
        case SCRIPT_SENDS:
            /* several sends of one client keep their order by
             * themselves */
            rc = do_send(r, st, sc,
                         !(i + 1 < s->nsteps &&
                           s->steps[i + 1].action == SCRIPT_SENDS &&
                           s->steps[i + 1].client == st->client),
                         &f);
            break;
        case SCRIPT_RECEIVES: rc = do_receive(r, st, sc, &f); break;
        case SCRIPT_RECEIVES_NOTHING: rc = do_nothing(r, sc, &f); break;
        }
        if (rc == 0) {
            passed++;
            out_rc |= script_report_step(&r->out, st, SCRIPT_PASS,
                                         f.msg.text ? &f : NULL);
            script_failure_free(&f);
            continue;
        }
        failed++;
        status = rc;
        fail_line = st->line;
        cli_error("%s:%d: %s %s", s->file, st->line,
                  s->clients[st->client].name,
                  f.msg.text ? f.msg.text : "failed");
        out_rc |= script_report_step(&r->out, st, SCRIPT_FAIL, &f);
        script_failure_free(&f);
    }
    close_all(r);
    out_rc |= script_report_summary(&r->out, passed, failed, skipped,
                                    fail_line);
    for (i = 0; i < s->nclients; i++) {
        drop_queue(&cl[i], cl[i].nq);
        xmp_session_free(cl[i].c.session);
        cl[i].c.trust = NULL; /* the process's, freed by main */
        xmp_trust_free(cl[i].own_trust);
        cli_secret_wipe(&cl[i].c.secret);
        cli_cache_forget(&cl[i].c);
        cli_opts_free(&cl[i].c.o);
        free(cl[i].full);
    }
    free(cl);
    script_vars_free(&r->vars);
    r->s = NULL;
    r->cl = NULL;
    if (out_rc && !status)
        status = EXIT_IOERR;
    return status;
}

/* ---- the command ------------------------------------------------------------ */

static int read_file(const char *path, char **out, size_t *len)
{
    char *buf = NULL, *t;
    size_t n = 0, cap = 0;
    ssize_t got;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        cli_error("script: cannot open %s: %s", path, strerror(errno));
        return EXIT_IOERR;
    }
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 8192;
            if (cap > SCRIPT_MAX_BYTES + 1)
                cap = SCRIPT_MAX_BYTES + 1;
            if (!(t = realloc(buf, cap + 1))) {
                free(buf);
                close(fd);
                cli_error("out of memory");
                return EXIT_OSERR;
            }
            buf = t;
        }
        got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
        if (n > SCRIPT_MAX_BYTES)
            break;
    }
    close(fd);
    if (got < 0) {
        cli_error("script: cannot read %s: %s", path, strerror(errno));
        free(buf);
        return EXIT_IOERR;
    }
    if (n > SCRIPT_MAX_BYTES) {
        cli_error("script: %s: more than %d bytes (SCRIPT_MAX_BYTES)", path,
                  SCRIPT_MAX_BYTES);
        free(buf);
        return EXIT_DATA;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

static int load(struct runner *r, const char *path)
{
    struct script *s;
    char *text = NULL, err[700];
    size_t len = 0;
    int rc, from_stdin = strcmp(path, "-") == 0;

    if (from_stdin)
        rc = cli_read_stdin(SCRIPT_MAX_BYTES, &text, &len);
    else
        rc = read_file(path, &text, &len);
    if (rc < 0) {
        cli_error("script: stdin: more than %d bytes (SCRIPT_MAX_BYTES)",
                  SCRIPT_MAX_BYTES);
        return EXIT_DATA;
    }
    if (rc)
        return rc;
    if (!(s = realloc(r->scripts, (r->nscripts + 1) * sizeof *s))) {
        free(text);
        cli_error("out of memory");
        return EXIT_OSERR;
    }
    r->scripts = s;
    s = &r->scripts[r->nscripts];
    if (script_parse(from_stdin ? "stdin" : path, text, len, s, err,
                     sizeof err) < 0) {
        cli_error("%s:%s", from_stdin ? "stdin" : path, err);
        explicit_bzero(text, len); /* it holds passwords */
        free(text);
        return EXIT_DATA;
    }
    explicit_bzero(text, len);
    free(text);
    r->nscripts++;
    return 0;
}

static int set_script(void *ud, int id, const char *arg)
{
    struct runner *r = ud;
    char *end;
    double v;

    if (id == OPT_TAP) {
        r->out.tap = 1;
        return 0;
    }
    errno = 0;
    v = strtod(arg, &end);
    if (errno || end == arg || *end || !(v >= 0.01 && v <= 3600)) {
        cli_error("invalid --wait value '%s': expected seconds from 0.01 "
                  "to 3600",
                  arg);
        return EXIT_USAGE;
    }
    r->wait_ms = (long)(v * 1000 + 0.5);
    return 0;
}

/* --account names an account of the config file, with --jid its own,
 * whether or not a client takes it. */
static int check_account(const struct cli_opts *g)
{
    struct cli_opts o;
    int rc;

    memset(&o, 0, sizeof o);
    if (copy_opt(&o.account, g->account) < 0 ||
        copy_opt(&o.jid, g->jid) < 0 || copy_opt(&o.config, g->config) < 0) {
        cli_error("out of memory");
        rc = EXIT_OSERR;
    } else {
        rc = cli_load_config(&o);
    }
    cli_opts_free(&o);
    return rc;
}

int cmd_script(struct cli *c, int argc, char **argv, struct op **op)
{
    struct runner r;
    struct xmp_error err;
    int rc, next, i, status = EXIT_OK;
    size_t k;

    (void)op;
    memset(&r, 0, sizeof r);
    r.top = c;
    r.wait_ms = SCRIPT_DEFAULT_WAIT_MS;
    if ((rc = cli_parse_cmd(&c->o, "script", argc, argv, &next, set_script,
                            &r)))
        return rc;
    if (c->interactive) {
        cli_error("script: run it from the command line: its clients are "
                  "accounts of their own");
        return EXIT_USAGE;
    }
    if (c->o.format == FORMAT_XML) {
        cli_error("script: --format xml is not supported (text or json)");
        return EXIT_USAGE;
    }
    if (r.out.tap && c->o.format == FORMAT_JSON) {
        cli_error("script: --tap and --format json exclude each other");
        return EXIT_USAGE;
    }
    /* Every script is read and checked before anything connects. */
    if (next >= argc)
        rc = load(&r, "-");
    for (i = next; i < argc && !rc; i++)
        rc = load(&r, argv[i]);
    if (!rc && c->o.account)
        rc = check_account(&c->o);
    for (k = 0; k < r.nscripts && !rc; k++)
        rc = find_accounts(&r, &r.scripts[k], 0);
    if (!rc && !c->trust && xmp_trust_new(c->o.cafile, &c->trust, &err) !=
                                XMP_OK) {
        cli_error("%s", err.msg);
        rc = cli_exit_status(err.code);
    }
    if (!rc && (rc = cli_signals()) == 0) {
        if (r.out.tap) {
            size_t n = 0;

            for (k = 0; k < r.nscripts; k++)
                n += r.scripts[k].nsteps;
            printf("1..%zu\n", n);
        }
        for (k = 0; k < r.nscripts && !r.sig; k++) {
            int st = find_accounts(&r, &r.scripts[k], 1);

            if (!st)
                st = run_script(&r, &r.scripts[k]);

            if (st && !status)
                status = st;
        }
        if (r.sig)
            status = EXIT_SIGNAL_BASE + r.sig;
        rc = status;
    }
    for (k = 0; k < r.nscripts; k++)
        script_free(&r.scripts[k]);
    free(r.scripts);
    return rc;
}
