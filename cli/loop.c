/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * loop.c - the loop engine and the one-shot driver.  cli_poll polls the
 * sessions of one or more clients, their running operations' own
 * descriptors (stdin), the signal pipe and the driver's descriptors,
 * once per call, and hands each event to whom it belongs; cli_drive is
 * the program's one loop around it, turning until the driver's hooks
 * say it is over.  The one-shot driver opens the session, runs one
 * operation on it and closes politely; the shell (repl.c), script
 * (cmd_script.c), the session holder and its start (holder.c,
 * cmd_session.c) and login --check (check.c) are drivers of the same
 * loop.  Operations never loop themselves.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* The signal pipe is the process's: signals are. */
static int sig_wfd = -1, sig_rfd = -1;

static void on_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    int saved = errno;

    (void)!write(sig_wfd, &b, 1);
    errno = saved;
}

int cli_catch_signal(int sig)
{
    struct sigaction sa;
    int p[2];

    if (sig_rfd < 0) {
        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
            cli_error("cannot set up signal handling: %s", strerror(errno));
            return EXIT_OSERR;
        }
        sig_rfd = p[0];
        sig_wfd = p[1];
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(sig, &sa, NULL);
    return 0;
}

int cli_signals(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    size_t i;
    int rc;

    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if ((rc = cli_catch_signal(sigs[i])) != 0)
            return rc;
    return 0;
}

int cli_stdin_watchable(const struct cli *c)
{
    struct stat in, null;

    if (c->interactive) /* the prompt's, not the command's */
        return 0;
    if (fstat(STDIN_FILENO, &in) < 0)
        return 0;
    return !(S_ISCHR(in.st_mode) && stat("/dev/null", &null) == 0 &&
             in.st_rdev == null.st_rdev);
}

void op_done(struct op *op, int status)
{
    if (op->done)
        return;
    op->done = 1;
    op->status = status;
}

void op_session_failed(struct op *op)
{
    op_done(op, cli_session_status(op->c));
}

int cli_session_over(const struct xmp_session *s)
{
    enum xmp_phase ph;

    if (!s)
        return 1;
    ph = xmp_session_phase(s);
    return ph == XMP_PHASE_CLOSED || ph == XMP_PHASE_FAILED;
}

static int poll_wait(int64_t dl, int64_t now)
{
    if (dl < 0)
        return -1;
    if (dl <= now)
        return 0;
    return dl - now > INT_MAX ? INT_MAX : (int)(dl - now);
}

static int64_t earliest(int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

static int op_running(const struct cli *c)
{
    return c->op && !c->op->done;
}

void cli_settle(struct cli *c)
{
    struct op *op = c->op;

    if (!op_running(c))
        return;
    /* The operation learns of the session's end before anything else:
     * what it has not seen answered was not. */
    if (cli_session_over(c->session)) {
        if (op->cls->session_end)
            op->cls->session_end(op);
        if (!op->done)
            op_session_failed(op);
        return;
    }
    if (op->cls->prepare)
        op->cls->prepare(op);
}

/* Where each client's descriptors sit in the poll set. */
#define LOOP_MAX_CLIENTS 16

int cli_poll(struct cli *const *cs, size_t n, struct cli_poll *lp)
{
    struct pollfd p[2 * LOOP_MAX_CLIENTS + 1 + CLI_POLL_EXTRA_MAX];
    int sess_at[LOOP_MAX_CLIENTS], op_at[LOOP_MAX_CLIENTS];
    int pending = 0, rc, sig_at = -1;
    int64_t now = xmp_now_ms(), dl = lp->deadline;
    unsigned char b;
    size_t i, np = 0;

    lp->sig = lp->winch = lp->stop = 0;
    if (n > LOOP_MAX_CLIENTS || lp->nextra > CLI_POLL_EXTRA_MAX) {
        cli_error("too many sessions or descriptors for one loop");
        return -1;
    }
    for (i = 0; i < n; i++) {
        const struct cli *c = cs[i];

        sess_at[i] = op_at[i] = -1;
        if (c->session && !cli_session_over(c->session)) {
            sess_at[i] = (int)np;
            p[np].fd = xmp_session_fd(c->session);
            p[np].events = xmp_session_events(c->session);
            np++;
            dl = earliest(dl, xmp_session_deadline(c->session));
            pending |= xmp_session_pending(c->session);
        }
        if (op_running(c)) {
            dl = earliest(dl, c->op->deadline);
            if (c->op->fd >= 0 && c->op->events) {
                op_at[i] = (int)np;
                p[np].fd = c->op->fd;
                p[np].events = c->op->events;
                np++;
            }
        }
    }
    if (sig_rfd >= 0) {
        sig_at = (int)np;
        p[np].fd = sig_rfd;
        p[np].events = POLLIN;
        np++;
    }
    for (i = 0; i < lp->nextra; i++) {
        p[np + i] = lp->extra[i];
        p[np + i].revents = 0;
    }
    rc = poll(p, (nfds_t)(np + lp->nextra), pending ? 0 : poll_wait(dl, now));
    if (rc < 0 && errno != EINTR) {
        cli_error("poll: %s", strerror(errno));
        return -1;
    }
    if (rc < 0) {
        for (i = 0; i < np + lp->nextra; i++)
            p[i].revents = 0;
    }
    for (i = 0; i < lp->nextra; i++)
        lp->extra[i].revents = p[np + i].revents;
    /* Several signals in one turn: a window resize never hides another,
     * and an interrupt never hides a request to end. */
    if (sig_at >= 0 && (p[sig_at].revents & POLLIN))
        while (read(sig_rfd, &b, 1) == 1) {
            if (b == SIGWINCH)
                lp->winch = 1;
            else if (b == SIGTSTP)
                lp->stop = 1;
            else if (!lp->sig || lp->sig == SIGINT)
                lp->sig = b;
        }
    for (i = 0; i < n; i++) {
        struct cli *c = cs[i];

        if (op_at[i] >= 0 && p[op_at[i]].revents && op_running(c))
            c->op->cls->io(c->op, p[op_at[i]].revents);
        if (sess_at[i] >= 0 || (c->session && xmp_session_pending(c->session)))
            xmp_session_step(c->session);
        if (op_running(c) && c->op->deadline >= 0 &&
            xmp_now_ms() >= c->op->deadline && c->op->cls->timer)
            c->op->cls->timer(c->op);
    }
    return 0;
}

int cli_drive(struct cli_driver *d)
{
    struct cli_poll lp;
    enum cli_turn t;
    size_t i;

    if (d->signals && cli_signals() != 0)
        return -1;
    for (;;) {
        for (i = 0; i < d->n; i++)
            cli_settle(d->cs[i]);
        memset(&lp, 0, sizeof lp);
        lp.deadline = -1;
        if ((t = d->before(d, &lp)) == CLI_DONE)
            return 0;
        if (t == CLI_AGAIN)
            continue;
        if (cli_poll(d->cs, d->n, &lp) < 0)
            return -1;
        if (d->after && d->after(d, &lp) == CLI_DONE)
            return 0;
        if (lp.sig)
            return lp.sig;
    }
}

/* The one-shot driver: one client, one operation. */
enum until { UNTIL_READY, UNTIL_WRITABLE, UNTIL_OP_DONE, UNTIL_CLOSED };

struct one_shot {
    struct cli *c;
    enum until u;
    int over; /* the session ended before 'u' held */
};

static int reached(const struct cli *c, enum until u)
{
    switch (u) {
    case UNTIL_READY:
        return xmp_session_phase(c->session) == XMP_PHASE_READY;
    case UNTIL_WRITABLE: /* ready, or stanzas may go ahead of it */
        return xmp_session_phase(c->session) == XMP_PHASE_READY ||
               xmp_session_writable(c->session);
    case UNTIL_OP_DONE:
        return c->op->done;
    default:
        return cli_session_over(c->session);
    }
}

static enum cli_turn one_shot_before(struct cli_driver *d,
                                     struct cli_poll *lp)
{
    struct one_shot *os = d->ud;

    (void)lp;
    if (reached(os->c, os->u))
        return CLI_DONE;
    os->over = cli_session_over(os->c->session);
    return os->over ? CLI_DONE : CLI_POLL;
}

/* A signal is the running operation's to take, if it has a use for it. */
static enum cli_turn one_shot_after(struct cli_driver *d, struct cli_poll *lp)
{
    struct one_shot *os = d->ud;
    struct cli *c = os->c;

    if (lp->sig && op_running(c) && c->op->cls->interrupt) {
        c->op->cls->interrupt(c->op, lp->sig);
        lp->sig = 0;
    }
    return CLI_POLL;
}

/*
 * The one-shot loop.  Returns 0 when 'until' holds, the signal number
 * when a signal came that no running operation takes, or -1 when the
 * session ended first (a running operation has been told).
 */
static int drive(struct cli *c, enum until u)
{
    struct one_shot os = { c, u, 0 };
    struct cli_driver d;
    int rc;

    memset(&d, 0, sizeof d);
    d.cs = &c;
    d.n = 1;
    d.before = one_shot_before;
    d.after = one_shot_after;
    d.ud = &os;
    if ((rc = cli_drive(&d)) < 0 && op_running(c))
        op_done(c->op, EXIT_OSERR);
    return rc == 0 && os.over ? -1 : rc;
}

/* Through the account's session holder: no TLS, no password (the
 * holder checks who we are), and no presence of our own at the end.
 * -1 (nothing said) when no holder answers on sock: a stale socket, or
 * none at all. */
static int open_held(struct cli *c, const char *sock, int timeout_ms)
{
    struct xmp_session_opts so;
    struct xmp_error err;

    memset(&so, 0, sizeof so);
    so.jid = c->o.jid;
    so.timeout_ms = timeout_ms;
    so.local_socket = sock;
    so.trace = c->o.verbose || c->interactive ? cli_trace : NULL;
    so.trace_ud = c;
    xmp_session_free(c->session);
    if (!(c->session = xmp_session_new(&so, &err))) {
        cli_error("%s", err.msg);
        return cli_exit_status(err.code);
    }
    /* the connect to a unix socket is done at once */
    if (xmp_session_start(c->session) != XMP_OK) {
        xmp_session_free(c->session);
        c->session = NULL;
        return -1;
    }
    c->attached = 1;
    return EXIT_OK;
}

/* login --fast-invalidate: the token, never the password */
static enum xmp_err no_password(void *ud, char *buf, size_t len,
                                struct xmp_error *err)
{
    (void)ud;
    (void)buf;
    (void)len;
    return xmp_error_set(err, XMP_EAUTH,
                         "the server refused the FAST token, and "
                         "--fast-invalidate logs in with nothing else");
}

int cli_session_open(struct cli *c)
{
    struct holder_paths hp;
    int timeout_ms = (c->o.timeout_s ? c->o.timeout_s
                                     : CLI_DEFAULT_TIMEOUT_S) * 1000;
    struct xmp_session_opts so;
    struct xmp_error err;
    const char *differs;
    int rc, require_cb = 0, fast, have_token;
    void *hints;
    size_t hints_len;
    char *hints_ctx;

    c->attached = 0;
    if (!c->o.jid) {
        cli_error("no account: use --jid JID or an account in the config "
                  "file");
        return EXIT_USAGE;
    }
    /* through a holder as well: its session is just as unverified */
    if (c->o.insecure && !c->warned_insecure) {
        cli_warn("--insecure: the server certificate is NOT verified; "
                 "anyone on the path can read and change this session");
        c->warned_insecure = 1;
    }
    /* A holder of this account that answers takes the command, when it
     * went to the same server, verified the same way, as the command
     * would; one that is gone (a stale socket) is passed by silently,
     * one opened otherwise too (said with --verbose). */
    if (!c->o.no_session && !c->check &&
        holder_paths(&c->o, 0, 1, &hp) == 0 && access(hp.sock, F_OK) == 0) {
        if (!holder_same_params(&c->o, &hp, &differs)) {
            if (c->o.verbose)
                cli_warn("not through the session holder: %s%s%s; "
                         "connecting to the server",
                         differs ? "its " : "it has not written its status",
                         differs ? differs : "",
                         differs ? " is not this command's" : "");
        } else if ((rc = open_held(c, hp.sock, timeout_ms)) >= 0) {
            return rc;
        }
    }
    if (c->o.direct_tls && !c->o.server) {
        cli_error("--direct-tls needs --server (DNS SRV records say "
                  "themselves which port speaks TLS)");
        return EXIT_USAGE;
    }
    if (c->o.pin && xmp_pins_check(c->o.pin, &err) != XMP_OK) {
        cli_error("%s", err.msg);
        return EXIT_USAGE;
    }
    /* A private key others can read or change is no longer ours alone;
     * a certificate others can change lets them pick our identity. */
    if (c->o.client_cert && !c->o.client_key) {
        cli_error("--client-cert needs --client-key");
        return EXIT_USAGE;
    }
    if (c->o.client_key && !c->o.client_cert) {
        cli_error("--client-key needs --client-cert");
        return EXIT_USAGE;
    }
    if (c->o.client_cert &&
        ((rc = cli_check_owner(c->o.client_cert, 0)) != 0 ||
         (rc = cli_check_owner(c->o.client_key, 1)) != 0))
        return rc;
    /* The trust anchors, once per process. */
    if (!c->trust && xmp_trust_new(c->o.cafile, &c->trust, &err) != XMP_OK) {
        cli_error("%s", err.msg);
        return cli_exit_status(err.code);
    }
    /* Before the password: a record that cannot be trusted is reported
     * without asking for one first. */
    if (!c->o.allow_downgrade &&
        (rc = cli_cb_remembered(c->o.jid, &require_cb)) != EXIT_OK)
        return rc;
    /* FAST (XEP-0484): the account's token, over verified TLS only;
     * login --check reports on every server as a first login would.
     * --fast-invalidate uses the token even with --no-fast. */
    cli_fast_clear(&c->fast);
    fast = !c->o.insecure && !c->check &&
           (!c->o.no_fast || c->fast_invalidate);
    have_token = fast && cli_fast_load(c->o.jid, c->o.verbose, &c->fast) == 0;
    /* The password before connecting: a prompt happens before anything
     * else owns the terminal, a command runs under its own deadline, and
     * nothing blocks once the session is under way.  Kept for a
     * reconnect; the driver wipes it. */
    /* With a client certificate the password is asked for only when
     * the server does not take EXTERNAL, and with a token only when the
     * server refuses it. */
    if (!c->o.client_cert && !c->secret.pw && !have_token &&
        !c->fast_invalidate &&
        (rc = cli_password_obtain(&c->o, timeout_ms, &c->secret)) != EXIT_OK)
        return rc;
    memset(&so, 0, sizeof so);
    so.require_cb = require_cb;
    so.jid = c->o.jid;
    so.resource = c->o.resource;
    so.server = c->o.server;
    so.direct_tls = c->o.direct_tls;
    so.proxy = c->o.proxy;
    so.cafile = c->o.cafile;
    so.trust = c->trust;
    so.insecure = c->o.insecure;
    so.tls_min = c->o.tls_min;
    so.mech = c->o.mech;
    so.timeout_ms = timeout_ms;
    so.resume = c->resume;
    so.pipeline = c->pipeline;
    if (c->fast_invalidate) {
        so.password = no_password;
    } else if (c->o.client_cert || (have_token && !c->secret.pw)) {
        so.password = cli_password;
        so.password_ud = &c->o;
    } else {
        so.password = cli_password_from;
        so.password_ud = &c->secret;
    }
    so.pin = c->o.pin;
    so.check_key = c->o.tofu ? cli_known_key : NULL;
    so.client_cert = c->o.client_cert;
    so.client_key = c->o.client_key;
    so.no_sasl2 = c->o.no_sasl2;
    /* not secret, but nothing of FAST goes over unverified TLS */
    so.user_agent_id = c->o.insecure ? NULL : cli_fast_user_agent(c->o.jid);
    so.software = "xmpctl";
    so.csi_inactive = c->csi_inactive;
    so.fast = have_token ? &c->fast.t : NULL;
    so.fast_request = fast && !c->o.no_fast && !c->fast_invalidate;
    so.fast_unbound = c->o.fast_unbound;
    so.fast_invalidate = c->fast_invalidate && have_token;
    so.on_fast = fast ? cli_fast_on_token : NULL;
    so.on_fast_ud = c->o.jid;
    hints = cli_cache_load(c, &hints_len);
    so.hints = hints;
    so.hints_len = hints_len;
    so.hints_context = hints_ctx = cli_cache_context(c);
    /* the prompt turns the trace on and off as it goes */
    so.trace = c->o.verbose || c->interactive ? cli_trace : NULL;
    so.trace_ud = c;
    xmp_session_free(c->session);
    c->session = xmp_session_new(&so, &err);
    cli_cache_free(hints, hints_len);
    free(hints_ctx);
    /* the session holds its own copy of the token */
    cli_fast_clear(&c->fast);
    if (!c->session) {
        cli_error("%s", err.msg);
        return cli_exit_status(err.code);
    }
    if (xmp_session_start(c->session) != XMP_OK)
        return cli_session_status(c);
    return EXIT_OK;
}

int cli_session_status(struct cli *c)
{
    const struct xmp_error *e = xmp_session_error(c->session);

    if (xmp_session_phase(c->session) != XMP_PHASE_FAILED) {
        cli_error("the server closed the session");
        return status_session_end(0, e->code);
    }
    cli_error("%s", e->msg[0] ? e->msg : xmp_err_name(e->code));
    return status_session_end(1, e->code);
}

/* RFC 6120 §4.4: our close, then (bounded) the server's.  A signal here
 * gives up waiting. */
static int session_close(struct cli *c)
{
    const struct xmp_error *e = xmp_session_error(c->session);

    if (cli_session_over(c->session))
        return xmp_session_phase(c->session) == XMP_PHASE_CLOSED
                   ? EXIT_OK
                   : cli_exit_status(e->code);
    if (xmp_session_close(c->session) == XMP_OK &&
        drive(c, UNTIL_CLOSED) > 0)
        return EXIT_OK; /* interrupted: xmp_session_free says goodbye */
    if (xmp_session_phase(c->session) == XMP_PHASE_CLOSED)
        return EXIT_OK;
    cli_error("%s", e->msg[0] ? e->msg : xmp_err_name(e->code));
    return cli_exit_status(e->code);
}

/* The server confirmed the login (and bound us), whatever came after. */
static int cli_session_authenticated(const struct xmp_session *s)
{
    struct xmp_session_info i;

    xmp_session_get_info(s, &i);
    return i.sasl_mech && i.bound_jid;
}

/* The end of a one-shot run: what was not delivered may be kept (send
 * --queue), which may change the status. */
static int run_end(struct op *op, int status)
{
    if (op->cls->unsent)
        status = op->cls->unsent(op, status);
    op->cls->free(op);
    return status;
}

int cli_run(struct cli *c, const struct command *cmd, struct op *op)
{
    int rc, status, early, attempt;

    op->c = c;
    cli_needs_apply(c, &cmd->needs, op->stays);
    for (attempt = 0;; attempt++) {
        /* the second attempt logs in first, then sends */
        c->pipeline = op->early && !attempt;
        if ((rc = cli_session_open(c)) != EXIT_OK)
            return run_end(op, rc);
        if ((rc = drive(c, c->pipeline ? UNTIL_WRITABLE : UNTIL_READY)) !=
            0) {
            /* failed: the password has done its work */
            cli_secret_wipe(&c->secret);
            /* not over: the loop itself failed (and said so) */
            return run_end(op, cli_session_over(c->session)
                                   ? cli_session_status(c)
                                   : EXIT_OSERR);
        }
        /* pipelined: the login is noted once the server confirmed it */
        early = xmp_session_phase(c->session) != XMP_PHASE_READY;
        if (!early)
            cli_logged_in(c, &cmd->needs);
        c->op = op;
        if ((rc = cli_signals()) != 0 || (rc = op->cls->start(op)) != 0 ||
            (!op->done && (rc = cli_op_ready(op, &cmd->needs)) != 0))
            op_done(op, rc);
        if (!op->done && (rc = drive(c, UNTIL_OP_DONE)) > 0)
            op_done(op, EXIT_SIGNAL_BASE + rc);
        if (early && cli_session_authenticated(c->session))
            cli_logged_in(c, &cmd->needs);
        c->op = NULL;
        if (!op->again || attempt || !op->cls->restart)
            break;
        /* the login refused what went with it: nothing was taken */
        if (c->o.verbose)
            cli_warn("%s; logging in again before sending",
                     xmp_session_error(c->session)->msg);
        op->cls->restart(op);
        op->again = op->done = op->status = 0;
    }
    status = op->status;
    rc = session_close(c);
    if (rc != EXIT_OK && status == EXIT_OK && op->cls->close_matters)
        status = rc;
    return run_end(op, status);
}
