/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test_ops.c - the operation model and the loop engine (cli/loop.c): two
 * clients, each a session with an operation running on it, in one loop;
 * the test plays both servers from the other ends of socketpairs, as
 * descriptors of its own in the same loop.  Operations get their
 * session's end, their descriptor's input and their timer; signals are
 * reported to the driver, not acted on.  cli_drive turns as its hooks
 * say.  cli_ready does the work after the login that a row's needs say.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../cli/cli.h"
#include "session_int.h"
#include "tap.h"

#define WAIT_MS 10000

/* ---- an operation: ping the server, finish with the answer ------------- */

struct ping_op {
    struct op op;
    int answered, ended, io_calls, timer_calls;
    const char *to;
};

static void on_pong(struct xmp_session *s, const struct xmp_node *reply,
                    const struct xmp_error *e, void *ud)
{
    struct ping_op *p = ud;

    (void)s;
    (void)e;
    if (!reply)
        return;
    p->answered = 1;
    op_done(&p->op, strcmp(xmp_node_attr(reply, "type"), "result") == 0
                        ? EXIT_OK
                        : EXIT_REMOTE);
}

static int ping_start(struct op *op)
{
    struct ping_op *p = (struct ping_op *)op;
    char xml[128];
    struct xmp_node *iq;

    snprintf(xml, sizeof xml,
             "<iq type='get' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>",
             p->to);
    if (!(iq = xmp_node_parse(xml, strlen(xml), NULL)))
        return EXIT_SOFTWARE;
    if (xmp_session_send_iq(op->c->session, iq, 0, on_pong, p, NULL) !=
        XMP_OK) {
        xmp_node_free(iq);
        return EXIT_SOFTWARE;
    }
    xmp_node_free(iq);
    return 0;
}

static void ping_io(struct op *op, short revents)
{
    struct ping_op *p = (struct ping_op *)op;
    char b[16];

    (void)revents;
    p->io_calls++;
    if (read(op->fd, b, sizeof b) == 0)
        op->events = 0;
}

static void ping_timer(struct op *op)
{
    struct ping_op *p = (struct ping_op *)op;

    p->timer_calls++;
    op->deadline = -1;
}

static void ping_session_end(struct op *op)
{
    struct ping_op *p = (struct ping_op *)op;

    p->ended = 1;
    op_done(op, EXIT_NOTSENT);
}

static void ping_free(struct op *op)
{
    (void)op;
}

static const struct op_class ping_class = {
    .name = "ping",
    .start = ping_start,
    .io = ping_io,
    .timer = ping_timer,
    .session_end = ping_session_end,
    .free = ping_free,
};

/* ---- two clients, their servers played by the test -------------------- */

struct side {
    struct cli c;
    struct ping_op p;
    int peer; /* the server's end */
    char got[8192];
    size_t len;
    int answered;
};

static int side_init(struct side *sd, const char *jid, const char *full)
{
    struct xmp_session_opts o;
    struct xmp_error err;
    int sv[2];

    memset(sd, 0, sizeof *sd);
    memset(&o, 0, sizeof o);
    o.jid = jid;
    o.timeout_ms = WAIT_MS;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
        return -1;
    sd->peer = sv[1];
    if (!(sd->c.session = xmp_session_new(&o, &err)) ||
        session_adopt(sd->c.session, sv[0], full) != XMP_OK)
        return -1;
    sd->p.op.cls = &ping_class;
    sd->p.op.c = &sd->c;
    sd->p.op.fd = -1;
    sd->p.op.deadline = -1;
    sd->p.to = strchr(jid, '@') + 1;
    sd->c.op = &sd->p.op;
    return 0;
}

/* The server: answer the ping once it has arrived. */
static void serve(struct side *sd, short revents)
{
    const char *id, *end;
    char reply[256];
    ssize_t n;

    if (!(revents & POLLIN))
        return;
    n = read(sd->peer, sd->got + sd->len, sizeof sd->got - 1 - sd->len);
    if (n <= 0)
        return;
    sd->len += (size_t)n;
    sd->got[sd->len] = '\0';
    if (sd->answered || !strstr(sd->got, "urn:xmpp:ping") ||
        !(id = strstr(sd->got, "id='")))
        return;
    id += 4;
    if (!(end = strchr(id, '\'')))
        return;
    snprintf(reply, sizeof reply, "<iq type='result' from='%s' id='%.*s'/>",
             sd->p.to, (int)(end - id), id);
    if (write(sd->peer, reply, strlen(reply)) == (ssize_t)strlen(reply))
        sd->answered = 1;
}

/* Turns of the loop until cond() or the bound. */
static int run(struct side *a, struct side *b, int (*cond)(void *), void *ud,
               int *sig)
{
    struct cli *cs[2] = { &a->c, &b->c };
    struct pollfd peers[2];
    struct cli_poll lp;
    int64_t until = xmp_now_ms() + WAIT_MS;

    while (xmp_now_ms() < until) {
        cli_settle(&a->c);
        cli_settle(&b->c);
        if (cond(ud))
            return 1;
        peers[0].fd = a->peer;
        peers[1].fd = b->peer;
        peers[0].events = peers[1].events = POLLIN;
        memset(&lp, 0, sizeof lp);
        lp.extra = peers;
        lp.nextra = 2;
        lp.deadline = until;
        if (cli_poll(cs, 2, &lp) < 0)
            return 0;
        if (lp.sig && sig)
            *sig = lp.sig;
        serve(a, peers[0].revents);
        serve(b, peers[1].revents);
    }
    return cond(ud);
}

static int both_done(void *ud)
{
    struct side **s = ud;

    return s[0]->p.op.done && s[1]->p.op.done;
}

struct io_wait {
    struct side *sd;
    int sig;
};

static int io_seen(void *ud)
{
    struct io_wait *w = ud;

    return w->sd->p.io_calls > 0 && w->sd->p.timer_calls > 0 && w->sig;
}

/* ---- cli_drive: the hooks decide; a signal nobody takes ends it ------ */

struct counting {
    int befores, afters, again, take_sig;
};

static enum cli_turn count_before(struct cli_driver *d, struct cli_poll *lp)
{
    struct counting *k = d->ud;

    k->befores++;
    if (k->again-- > 0)
        return CLI_AGAIN;
    if (k->afters && !k->take_sig)
        return CLI_DONE;
    lp->deadline = xmp_now_ms() + (k->take_sig ? WAIT_MS : 0);
    return CLI_POLL;
}

static enum cli_turn count_after(struct cli_driver *d, struct cli_poll *lp)
{
    struct counting *k = d->ud;

    k->afters++;
    if (k->take_sig && lp->sig) {
        lp->sig = 0;
        return CLI_DONE;
    }
    return CLI_POLL;
}

static void drive_tests(void)
{
    struct counting k;
    struct cli_driver d;

    memset(&k, 0, sizeof k);
    memset(&d, 0, sizeof d);
    k.again = 2;
    d.before = count_before;
    d.after = count_after;
    d.ud = &k;
    ok(cli_drive(&d) == 0 && k.befores == 4 && k.afters == 1,
       "cli_drive: CLI_AGAIN turns without polling, CLI_DONE ends with 0");
    memset(&k, 0, sizeof k);
    d.after = NULL;
    d.signals = 1;
    raise(SIGTERM);
    ok(cli_drive(&d) == SIGTERM, "cli_drive: a signal no hook takes ends "
                                 "it with the signal's number");
    memset(&k, 0, sizeof k);
    k.take_sig = 1;
    d.after = count_after;
    raise(SIGHUP);
    ok(cli_drive(&d) == 0 && k.afters == 1,
       "cli_drive: a hook that takes the signal decides the end");
}

static void side_free(struct side *sd)
{
    xmp_session_free(sd->c.session);
    if (sd->peer >= 0)
        close(sd->peer);
}

/* ---- cli_ready: the work after the login, as a row's needs say ------- */

static const struct cmd_needs listen_row = {
    .session = CMD_SESSION_ANY, .presence = PRESENCE_INITIAL,
    .sets_presence = 1, .keepalive = KEEPALIVE_ON
};
/* a row whose command may not change the held presence */
static const struct cmd_needs keeps_held_row = {
    .session = CMD_SESSION_ANY, .presence = PRESENCE_INITIAL,
    .keepalive = KEEPALIVE_ON
};
static const struct cmd_needs send_row = {
    .session = CMD_SESSION_ANY, .keepalive = KEEPALIVE_IF_STAYS,
    .resume = RESUME_IF_STAYS
};
static const struct cmd_needs shell_row = {
    .session = CMD_SESSION_ANY, .prompt = PROMPT_IS,
    .presence = PRESENCE_INITIAL, .sets_presence = 1,
    .keepalive = KEEPALIVE_ON, .roster = ROSTER_AFTER_PRESENCE, .relogin = 1
};
static const struct cmd_needs holder_row = {
    .session = CMD_SESSION_OWN, .prompt = PROMPT_REFUSES,
    .presence = PRESENCE_OWN, .sets_presence = 1,
    .keepalive = KEEPALIVE_FORCED, .resume = RESUME_ON,
    .roster = ROSTER_BEFORE_PRESENCE, .relogin = 1
};

static void roster_answer(struct xmp_session *s, const struct xmp_node *reply,
                          const struct xmp_error *e, void *ud)
{
    (void)s;
    (void)reply;
    (void)e;
    (void)ud;
}

/* What the session has written to the server's end, after some steps. */
static const char *written(struct side *sd)
{
    ssize_t n;
    int i;

    for (i = 0; i < 20; i++) {
        xmp_session_step(sd->c.session);
        while ((n = read(sd->peer, sd->got + sd->len,
                         sizeof sd->got - 1 - sd->len)) > 0)
            sd->len += (size_t)n;
    }
    sd->got[sd->len] = '\0';
    return sd->got;
}

/* A fresh ready session, --keepalive as keepalive_s (-1: not given). */
static struct side *ready_side(struct side *sd, int keepalive_s)
{
    side_init(sd, "alice@example.test", "alice@example.test/a");
    sd->c.op = NULL;
    sd->c.o.keepalive_s = keepalive_s;
    sd->c.o.no_cache = 1;
    return sd;
}

static void ready_tests(void)
{
    static const char away[] = "<presence><show>away</show></presence>";
    struct cli_ready_args a;
    struct xmp_node *p;
    struct side sd;
    const char *w, *iq, *pr;

    ready_side(&sd, -1);
    memset(&a, 0, sizeof a);
    ok(cli_ready(&sd.c, &listen_row, &a) == 0 &&
           sd.c.session->rq.keepalive_ms == CLI_DEFAULT_KEEPALIVE_S * 1000,
       "cli_ready: a command that stays gets the default keepalive");
    ok(strstr(written(&sd), "<presence/>") != NULL,
       "cli_ready: ... and its initial presence");
    side_free(&sd);

    ready_side(&sd, 5);
    memset(&a, 0, sizeof a);
    a.no_presence = 1;
    ok(cli_ready(&sd.c, &listen_row, &a) == 0 &&
           sd.c.session->rq.keepalive_ms == 5000 &&
           !strstr(written(&sd), "<presence"),
       "cli_ready: --keepalive 5 and --no-presence: no presence");
    side_free(&sd);

    ready_side(&sd, -1);
    sd.c.attached = 1;
    memset(&a, 0, sizeof a);
    ok(cli_ready(&sd.c, &keeps_held_row, &a) == 0 &&
           !strstr(written(&sd), "<presence"),
       "cli_ready: through a session holder, a row that may not change "
       "the held presence sends none");
    memset(&a, 0, sizeof a);
    ok(cli_ready(&sd.c, &listen_row, &a) == 0 &&
           strstr(written(&sd), "<presence/>"),
       "cli_ready: one that may sends it there too");
    side_free(&sd);

    ready_side(&sd, 0);
    memset(&a, 0, sizeof a);
    ok(cli_ready(&sd.c, &listen_row, &a) == 0 &&
           sd.c.session->rq.keepalive_ms == 0,
       "cli_ready: --keepalive 0 turns the keepalive off");
    side_free(&sd);

    ready_side(&sd, -1);
    memset(&a, 0, sizeof a);
    ok(cli_ready(&sd.c, &send_row, &a) == 0 &&
           sd.c.session->rq.keepalive_ms == 0 && !strstr(written(&sd), "<"),
       "cli_ready: a run that does not stay: no keepalive, nothing sent");
    a.stays = 1;
    ok(cli_ready(&sd.c, &send_row, &a) == 0 &&
           sd.c.session->rq.keepalive_ms == CLI_DEFAULT_KEEPALIVE_S * 1000,
       "cli_ready: one that stays (send --lines): the keepalive");
    cli_needs_apply(&sd.c, &send_row, 1);
    ok(sd.c.resume && !sd.c.o.no_session,
       "cli_needs_apply: ... resumption, through a holder or not");
    cli_needs_apply(&sd.c, &send_row, 0);
    ok(!sd.c.resume, "cli_needs_apply: without --lines no resumption");
    side_free(&sd);

    ready_side(&sd, 0);
    memset(&a, 0, sizeof a);
    a.roster = roster_answer;
    p = xmp_node_parse(away, sizeof away - 1, NULL);
    a.presence = p;
    ok(cli_ready(&sd.c, &holder_row, &a) == 0 && !a.roster_failed &&
           sd.c.session->rq.keepalive_ms == CLI_DEFAULT_KEEPALIVE_S * 1000,
       "cli_ready: a held session keeps the keepalive even with "
       "--keepalive 0");
    w = written(&sd);
    iq = strstr(w, "jabber:iq:roster");
    pr = strstr(w, "<presence><show>away</show></presence>");
    ok(iq && pr && iq < pr,
       "cli_ready: the holder's row: the roster, then the presence given");
    xmp_node_free(p);
    memset(&a, 0, sizeof a);
    sd.len = 0;
    ok(cli_ready(&sd.c, &holder_row, &a) == 0 &&
           !strstr(written(&sd), "<"),
       "cli_ready: ... neither when not given (a resumed session)");
    cli_needs_apply(&sd.c, &holder_row, 0);
    ok(sd.c.resume && sd.c.o.no_session,
       "cli_needs_apply: the holder's own session, resumed");
    side_free(&sd);

    ready_side(&sd, -1);
    memset(&a, 0, sizeof a);
    a.roster = roster_answer;
    ok(cli_ready(&sd.c, &shell_row, &a) == 0, "cli_ready: the shell's row");
    w = written(&sd);
    iq = strstr(w, "jabber:iq:roster");
    pr = strstr(w, "<presence/>");
    ok(iq && pr && pr < iq,
       "cli_ready: ... initial presence, then the roster");
    sd.c.secret.pw = strdup("secret");
    cli_logged_in(&sd.c, &shell_row);
    ok(sd.c.secret.pw != NULL,
       "cli_logged_in: the prompt keeps the password for /reconnect");
    cli_logged_in(&sd.c, &listen_row);
    ok(sd.c.secret.pw == NULL,
       "cli_logged_in: a one-shot command without resumption wipes it");
    side_free(&sd);
}

int main(void)
{
    struct side a, b;
    struct side *both[2] = { &a, &b };
    struct io_wait w;
    int fds[2];

    /* two operations on two sessions, one loop */
    ok(side_init(&a, "alice@example.test", "alice@example.test/a") == 0 &&
           side_init(&b, "bob@other.test", "bob@other.test/b") == 0,
       "two clients on socketpairs");
    ok(ping_start(&a.p.op) == 0 && ping_start(&b.p.op) == 0,
       "each starts its operation");
    ok(run(&a, &b, both_done, both, NULL), "both finish in one loop");
    ok(a.p.answered && a.p.op.status == EXIT_OK, "alice's has its answer");
    ok(b.p.answered && b.p.op.status == EXIT_OK, "bob's has its answer");
    ok(strstr(a.got, "to='example.test'") && strstr(b.got, "to='other.test'"),
       "each went to its own server");
    side_free(&a);
    side_free(&b);

    /* the session of one ends under its operation; the other goes on */
    side_init(&a, "alice@example.test", "alice@example.test/a");
    side_init(&b, "bob@other.test", "bob@other.test/b");
    ping_start(&a.p.op);
    ping_start(&b.p.op);
    close(a.peer);
    a.peer = -1;
    ok(run(&a, &b, both_done, both, NULL), "both operations end");
    ok(a.p.ended && a.p.op.status == EXIT_NOTSENT,
       "a lost session is reported to its operation (not delivered)");
    ok(b.p.answered && b.p.op.status == EXIT_OK && !b.p.ended,
       "the other session's operation is not disturbed");
    side_free(&a);
    side_free(&b);

    /* an operation's descriptor and timer; a signal goes to the driver */
    side_init(&a, "alice@example.test", "alice@example.test/a");
    side_init(&b, "bob@other.test", "bob@other.test/b");
    ok(pipe(fds) == 0 && cli_signals() == 0, "a pipe and the signal pipe");
    a.p.op.fd = fds[0];
    a.p.op.events = POLLIN;
    a.p.op.deadline = xmp_now_ms() + 50;
    if (write(fds[1], "x", 1) != 1)
        fds[1] = -1;
    raise(SIGINT);
    w.sd = &a;
    w.sig = 0;
    {
        struct cli *cs[2] = { &a.c, &b.c };
        struct pollfd none[1];
        struct cli_poll lp;
        int64_t until = xmp_now_ms() + WAIT_MS;

        while (!io_seen(&w) && xmp_now_ms() < until) {
            memset(&lp, 0, sizeof lp);
            lp.extra = none;
            lp.nextra = 0;
            lp.deadline = until;
            if (cli_poll(cs, 2, &lp) < 0)
                break;
            if (lp.sig)
                w.sig = lp.sig;
        }
    }
    ok(a.p.io_calls >= 1, "the operation's descriptor was read");
    ok(a.p.timer_calls == 1, "its timer fired once");
    ok(w.sig == SIGINT, "SIGINT was reported to the driver");
    ok(!a.p.op.done, "... and did not end the operation by itself");
    close(fds[0]);
    close(fds[1]);
    side_free(&a);
    side_free(&b);

    drive_tests();
    ready_tests();
    return tap_done();
}
