/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * loop.c - the one-shot driver: open the session, run one operation on
 * it in a single poll() loop over the session, the operation's own
 * descriptor (stdin) and a signal pipe, then close politely.  Operations
 * never loop themselves; a prompt or a background session can drive the
 * same operations with loops of their own.
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

static int sig_wfd = -1;

static void on_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    int saved = errno;

    (void)!write(sig_wfd, &b, 1);
    errno = saved;
}

int cli_signals(struct cli *c)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa;
    int p[2];
    size_t i;

    if (c->sigfd >= 0)
        return 0;
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
        cli_error("cannot set up signal handling: %s", strerror(errno));
        return EXIT_OSERR;
    }
    sig_wfd = p[1];
    c->sigfd = p[0];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    return 0;
}

int cli_stdin_watchable(void)
{
    struct stat in, null;

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
    const struct xmp_error *e = xmp_session_error(op->c->session);

    if (xmp_session_phase(op->c->session) == XMP_PHASE_FAILED) {
        cli_error("%s", e->msg[0] ? e->msg : xmp_err_name(e->code));
        op_done(op, cli_exit_status(e->code));
    } else {
        cli_error("the server closed the session");
        op_done(op, EXIT_UNAVAILABLE);
    }
}

static int session_over(const struct xmp_session *s)
{
    enum xmp_phase ph = xmp_session_phase(s);

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

enum until { UNTIL_READY, UNTIL_OP_DONE, UNTIL_CLOSED };

static int reached(const struct cli *c, const struct op *op, enum until u)
{
    switch (u) {
    case UNTIL_READY:
        return xmp_session_phase(c->session) == XMP_PHASE_READY;
    case UNTIL_OP_DONE:
        return op->done;
    default:
        return session_over(c->session);
    }
}

/*
 * The loop.  Returns 0 when 'until' holds, the signal number when a
 * signal came that no running operation takes, or -1 when the session
 * ended first (a running operation has been told).
 */
static int drive(struct cli *c, struct op *op, enum until u)
{
    struct xmp_session *s = c->session;
    struct pollfd p[3];
    int running, n, rc, sig = 0;
    int64_t now, dl;
    unsigned char b;

    for (;;) {
        running = op && !op->done;
        /* The operation learns of the session's end before anything
         * else: what it has not seen answered was not. */
        if (running && session_over(s)) {
            if (op->cls->session_end)
                op->cls->session_end(op);
            if (!op->done)
                op_session_failed(op);
            return -1;
        }
        if (running && op->cls->prepare)
            op->cls->prepare(op);
        if (reached(c, op, u))
            return 0;
        if (session_over(s))
            return -1;
        now = xmp_now_ms();
        dl = xmp_session_deadline(s);
        if (running && op->deadline >= 0 && (dl < 0 || op->deadline < dl))
            dl = op->deadline;
        n = 0;
        p[n].fd = xmp_session_fd(s);
        p[n].events = xmp_session_events(s);
        n++;
        if (c->sigfd >= 0) {
            p[n].fd = c->sigfd;
            p[n].events = POLLIN;
            n++;
        }
        if (running && op->fd >= 0 && op->events) {
            p[n].fd = op->fd;
            p[n].events = op->events;
            n++;
        }
        rc = poll(p, (nfds_t)n,
                  xmp_session_pending(s) ? 0 : poll_wait(dl, now));
        if (rc < 0 && errno != EINTR) {
            cli_error("poll: %s", strerror(errno));
            if (running)
                op_done(op, EXIT_OSERR);
            return -1;
        }
        if (c->sigfd >= 0 && rc > 0 && (p[1].revents & POLLIN)) {
            while (read(c->sigfd, &b, 1) == 1)
                sig = b;
            if (running && op->cls->interrupt)
                op->cls->interrupt(op, sig);
            else
                return sig;
        }
        /* The signal may have finished the operation. */
        if (running && !op->done && op->fd >= 0 && op->events && rc > 0 &&
            p[n - 1].revents)
            op->cls->io(op, p[n - 1].revents);
        xmp_session_step(s);
        running = op && !op->done;
        if (running && op->deadline >= 0 && xmp_now_ms() >= op->deadline)
            op->cls->timer(op);
    }
}

static int session_open(struct cli *c)
{
    struct xmp_session_opts so;
    struct xmp_error err;
    const struct xmp_error *e;

    if (!c->o.jid) {
        cli_error("no account: use --jid JID or an account in the config "
                  "file");
        return EXIT_USAGE;
    }
    if (c->o.direct_tls && !c->o.server) {
        cli_error("--direct-tls needs --server (DNS SRV records say "
                  "themselves which port speaks TLS)");
        return EXIT_USAGE;
    }
    if (c->o.insecure)
        cli_warn("--insecure: the server certificate is NOT verified; "
                 "anyone on the path can read and change this session");
    memset(&so, 0, sizeof so);
    so.jid = c->o.jid;
    so.resource = c->o.resource;
    so.server = c->o.server;
    so.direct_tls = c->o.direct_tls;
    so.cafile = c->o.cafile;
    so.insecure = c->o.insecure;
    so.mech = c->o.mech;
    so.timeout_ms = (c->o.timeout_s ? c->o.timeout_s : CLI_DEFAULT_TIMEOUT_S) *
                    1000;
    so.password = cli_password;
    so.password_ud = &c->o;
    so.trace = c->o.verbose ? cli_trace : NULL;
    if (!(c->session = xmp_session_new(&so, &err))) {
        cli_error("%s", err.msg);
        return cli_exit_status(err.code);
    }
    if (xmp_session_start(c->session) == XMP_OK &&
        drive(c, NULL, UNTIL_READY) == 0)
        return EXIT_OK;
    e = xmp_session_error(c->session);
    cli_error("%s", e->msg[0] ? e->msg : xmp_err_name(e->code));
    return cli_exit_status(e->code);
}

/* RFC 6120 §4.4: our close, then (bounded) the server's.  A signal here
 * gives up waiting. */
static int session_close(struct cli *c)
{
    const struct xmp_error *e = xmp_session_error(c->session);

    if (session_over(c->session))
        return xmp_session_phase(c->session) == XMP_PHASE_CLOSED
                   ? EXIT_OK
                   : cli_exit_status(e->code);
    if (xmp_session_close(c->session) == XMP_OK &&
        drive(c, NULL, UNTIL_CLOSED) > 0)
        return EXIT_OK; /* interrupted: xmp_session_free says goodbye */
    if (xmp_session_phase(c->session) == XMP_PHASE_CLOSED)
        return EXIT_OK;
    cli_error("%s", e->msg[0] ? e->msg : xmp_err_name(e->code));
    return cli_exit_status(e->code);
}

int cli_run(struct cli *c, struct op *op)
{
    int rc, status;

    op->c = c;
    if ((rc = session_open(c)) != EXIT_OK) {
        op->cls->free(op);
        return rc;
    }
    if ((rc = cli_signals(c)) != 0 || (rc = op->cls->start(op)) != 0)
        op_done(op, rc);
    if (!op->done && (rc = drive(c, op, UNTIL_OP_DONE)) > 0)
        op_done(op, EXIT_SIGNAL_BASE + rc);
    status = op->status;
    rc = session_close(c);
    if (rc != EXIT_OK && status == EXIT_OK && op->cls->close_matters)
        status = rc;
    op->cls->free(op);
    return status;
}
