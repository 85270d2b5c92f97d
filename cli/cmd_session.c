/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cmd_session.c - session start|stop|status: a session held in the
 * background (holder.c) that the other commands of the same user go
 * through, as ssh's ControlMaster keeps a connection.
 *
 * start logs in (the password asked for as usual, before detaching),
 * sets presence, takes the account's lock and socket, and detaches (or
 * stays, --foreground).  The lock (flock) makes two starts exclusive and
 * holds the holder's pid; stop sends it SIGTERM and waits for the lock.
 * Which process to signal is what the kernel says: the holder (and the
 * start before it) also holds a record lock (fcntl) on the lock file's
 * first byte, whose owner F_GETLK names; the pid written in the file is
 * for people, and may be an old one.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

enum { OPT_STATUS = 's', OPT_PRIORITY = 'p', OPT_FOREGROUND = 256 };

static const struct opt_def session_opts[] = {
    {"status", OPT_STATUS, "TEXT", "start: a status message", ARG_TEXT},
    {"priority", OPT_PRIORITY, "N", "start: priority, -128 to 127",
     ARG_TEXT},
    {"foreground", OPT_FOREGROUND, NULL, "start: stay in the foreground "
                                         "(for a service manager)",
     ARG_NONE},
};

const struct opt_list session_options = {
    session_opts, sizeof session_opts / sizeof session_opts[0]
};

/* One command per process: its arguments wait here for main to run it. */
static struct {
    const char *show;
    char *status;
    long priority;
    int have_priority, foreground;
} sa;

static int set_session(void *ud, int id, const char *arg)
{
    struct xmp_error err;

    (void)ud;
    switch (id) {
    case OPT_STATUS:
        if (xmp_xml_check_text(arg, strlen(arg), &err) != XMP_OK) {
            cli_error("session: --status: %s", err.msg);
            return EXIT_DATA;
        }
        free(sa.status);
        return (sa.status = strdup(arg)) ? 0 : EXIT_OSERR;
    case OPT_PRIORITY:
        sa.have_priority = 1;
        return cli_number("--priority", arg, -128, 127, &sa.priority);
    case OPT_FOREGROUND:
        sa.foreground = 1;
        return 0;
    }
    return EXIT_SOFTWARE;
}

static int no_holder(const struct cli *c)
{
    cli_error("no session holder runs for %s", c->o.jid);
    return status_session(&(struct outcome){ .holder = HOLDER_ABSENT });
}

/* The lock's fd when a holder holds it (*pid read from it), else -1. */
static int running(const struct holder_paths *hp, long *pid)
{
    char buf[32];
    ssize_t n;
    int fd = open(hp->lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    *pid = 0;
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        close(fd);
        return -1;
    }
    n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    *pid = strtol(buf, NULL, 10);
    return fd;
}

/* The record lock naming the holder's process (fcntl locks belong to a
 * process: each new holder takes its own).  wait: until the process that
 * has it now (the start handing over) lets it go. */
static int own_lock(int lock_fd, int wait)
{
    struct flock fl;
    int rc;

    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 1;
    do
        rc = fcntl(lock_fd, wait ? F_SETLKW : F_SETLK, &fl);
    while (rc < 0 && errno == EINTR);
    return rc;
}

/* The process holding the record lock, 0: none (between start and
 * holder). */
static pid_t lock_owner(int fd)
{
    struct flock fl;

    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 1;
    if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
        return 0;
    return fl.l_pid;
}

static void write_pid(int lock_fd)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());

    if (ftruncate(lock_fd, 0) < 0 || pwrite(lock_fd, buf, (size_t)n, 0) < 0)
        cli_warn("cannot write the holder's pid: %s", strerror(errno));
}

static int listen_on(const char *path)
{
    struct sockaddr_un su;
    mode_t old;
    int fd, rc;

    memset(&su, 0, sizeof su);
    su.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof su.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(su.sun_path, path, strlen(path));
    /* we hold the lock: whatever is there was left by a holder that died */
    unlink(path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                     0)) < 0)
        return -1;
    old = umask(077);
    rc = bind(fd, (struct sockaddr *)&su, sizeof su);
    umask(old);
    if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* What start waits for: the login, or the server's acknowledgement of
 * our presence (up to seq); status says how it ended. */
struct start_wait {
    uint64_t seq; /* 0: the login */
    int status;
};

static enum cli_turn start_before(struct cli_driver *d, struct cli_poll *lp)
{
    struct start_wait *w = d->ud;
    struct cli *c = d->cs[0];

    (void)lp;
    if (!w->seq && xmp_session_phase(c->session) == XMP_PHASE_READY)
        return CLI_DONE;
    if (w->seq && xmp_session_acked(c->session) >= w->seq)
        return CLI_DONE;
    if (cli_session_over(c->session)) {
        w->status = cli_session_status(c);
        return CLI_DONE;
    }
    if (w->seq && xmp_session_ack_error(c->session)) {
        cli_error("%s", xmp_session_ack_error(c->session)->msg);
        w->status = status_session(
            &(struct outcome){ .n[ITEM_UNCONFIRMED] = 1 });
        return CLI_DONE;
    }
    return CLI_POLL;
}

/* Drive the session until what w waits for, or report why not. */
static int start_wait(struct cli *c, uint64_t seq)
{
    struct start_wait w = { seq, EXIT_OK };
    struct cli_driver d;
    int rc;

    memset(&d, 0, sizeof d);
    d.cs = &c;
    d.n = 1;
    d.before = start_before;
    d.ud = &w;
    d.signals = 1;
    rc = cli_drive(&d);
    return rc < 0 ? EXIT_OSERR : rc > 0 ? EXIT_SIGNAL_BASE + rc : w.status;
}

/* Our presence (RFC 6121 §4.2), sent after the roster (holder_watch)
 * and acknowledged; *xml is what the holder keeps to say again after a
 * reconnect. */
static int set_presence(struct cli *c, const struct cmd_needs *needs,
                        const struct holder_paths *hp, char **xml)
{
    struct xmp_node *n, *ch;
    char prio[8];
    uint64_t seq = 0;
    int fail;

    if (!(n = xmp_node_new("jabber:client", "presence", NULL)))
        return EXIT_OSERR;
    fail = 0;
    if (sa.show && strcmp(sa.show, "available") != 0)
        fail |= !(ch = xmp_node_add_child(n, "jabber:client", "show", NULL)) ||
                xmp_node_add_text(ch, sa.show, strlen(sa.show), NULL);
    if (!fail && sa.status)
        fail |= !(ch = xmp_node_add_child(n, "jabber:client", "status",
                                          NULL)) ||
                xmp_node_add_text(ch, sa.status, strlen(sa.status), NULL);
    if (!fail && sa.have_priority) {
        snprintf(prio, sizeof prio, "%ld", sa.priority);
        fail |= !(ch = xmp_node_add_child(n, "jabber:client", "priority",
                                          NULL)) ||
                xmp_node_add_text(ch, prio, strlen(prio), NULL);
    }
    if (fail || !(*xml = xmp_node_to_string(n, "jabber:client"))) {
        xmp_node_free(n);
        return EXIT_OSERR;
    }
    fail = holder_watch(c, hp, needs, n, &seq);
    xmp_node_free(n);
    if (fail > 0)
        return fail;
    if (fail || xmp_session_request_ack(c->session) != XMP_OK)
        return cli_session_status(c);
    return start_wait(c, seq);
}

/* Double fork: the holder is nobody's child and has no terminal.  The
 * parent says "started" with the holder's pid, then leaves without
 * touching the session the holder now owns. */
/* The processes that only hand over to the holder end with _exit:
 * what they hold is freed first (xml, status: the holder's own copies
 * live on in the child). */
static void leave(int status, char *xml, char *text)
{
    free(xml);
    free(text);
    _exit(status);
}

static int detach(int lock_fd, const char *jid, char *xml, char *text)
{
    int p[2], null;
    pid_t child, pid = 0;
    ssize_t n;

    fflush(stdout);
    fflush(stderr);
    if (pipe2(p, O_CLOEXEC) < 0 || (child = fork()) < 0) {
        cli_error("cannot detach: %s", strerror(errno));
        return EXIT_OSERR;
    }
    if (child > 0) {
        close(p[1]);
        do
            n = read(p[0], &pid, sizeof pid);
        while (n < 0 && errno == EINTR);
        waitpid(child, NULL, 0);
        if (n != (ssize_t)sizeof pid) {
            cli_error("the session holder did not start");
            leave(EXIT_OSERR, xml, text);
        }
        printf("session for %s started (pid %ld)\n", jid, (long)pid);
        leave(fflush(stdout) == 0 ? EXIT_OK : EXIT_IOERR, xml, text);
    }
    close(p[0]);
    setsid();
    if ((child = fork()) != 0)
        leave(child < 0 ? EXIT_OSERR : EXIT_OK, xml, text);
    pid = getpid();
    write_pid(lock_fd);
    if ((null = open("/dev/null", O_RDWR)) >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO)
            close(null);
    }
    (void)!write(p[1], &pid, sizeof pid);
    close(p[1]);
    /* the start's record lock goes when it exits, after the pipe */
    if (own_lock(lock_fd, 1) < 0 || chdir("/") < 0)
        return EXIT_OSERR;
    return EXIT_OK;
}

static int session_start(struct cli *c)
{
    const struct cmd_needs *needs = &cli_command("session")->needs;
    struct holder_paths hp;
    char *xml = NULL;
    long pid;
    int rc, lock_fd, lfd = -1;

    /* the holder itself talks to the server, never to a holder; a lost
     * connection is resumed (XEP-0198) where the server allows it, and
     * the holder logs in anew only when that fails */
    cli_needs_apply(c, needs, 1);
    if ((rc = holder_paths(&c->o, 1, 0, &hp)) != 0)
        return rc;
    lock_fd = open(hp.lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lock_fd < 0) {
        cli_error("cannot open %s: %s", hp.lock, strerror(errno));
        return EXIT_OSERR;
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
        close(lock_fd);
        if ((lock_fd = running(&hp, &pid)) >= 0)
            close(lock_fd);
        cli_error("a session holder for %s is already running (pid %ld)",
                  c->o.jid, pid);
        return status_session(&(struct outcome){ .holder = HOLDER_RUNNING });
    }
    /* ours from now on, before the login: stop signals the start
     * rather than a process of the pid left by the holder before */
    write_pid(lock_fd);
    if (own_lock(lock_fd, 0) < 0) {
        cli_error("cannot lock %s: %s", hp.lock, strerror(errno));
        close(lock_fd);
        return EXIT_OSERR;
    }
    if ((lfd = listen_on(hp.sock)) < 0) {
        cli_error("cannot listen on %s: %s", hp.sock, strerror(errno));
        rc = EXIT_OSERR;
        goto out;
    }
    if ((rc = cli_session_open(c)) != EXIT_OK || (rc = start_wait(c, 0)) != 0)
        goto out;
    if ((rc = set_presence(c, needs, &hp, &xml)) != EXIT_OK)
        goto out;
    cli_logged_in(c, needs);
    if (sa.foreground) {
        write_pid(lock_fd);
        printf("session for %s started (pid %ld)\n", c->o.jid,
               (long)getpid());
        if (fflush(stdout) != 0) {
            rc = EXIT_IOERR;
            goto out;
        }
    } else if ((rc = detach(lock_fd, c->o.jid, xml, sa.status)) !=
               EXIT_OK) {
        goto out;
    }
    rc = holder_run(c, lfd, &hp, xml);
out:
    if (lfd >= 0) {
        close(lfd);
        unlink(hp.sock);
    }
    unlink(hp.status);
    holder_done();
    free(xml);
    free(sa.status);
    close(lock_fd); /* the lock goes last: stop waits for it */
    return rc;
}

static int session_stop(struct cli *c)
{
    struct holder_paths hp;
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    int64_t end;
    pid_t owner = 0;
    long pid;
    int fd;

    if (holder_paths(&c->o, 0, 1, &hp) != 0 ||
        (fd = running(&hp, &pid)) < 0)
        return no_holder(c);
    end = xmp_now_ms() +
          (c->o.timeout_s ? c->o.timeout_s : CLI_DEFAULT_TIMEOUT_S) * 1000;
    /* the process that holds the record lock, never a pid read from the
     * file: while a start hands over to the holder, nobody holds it for
     * a moment */
    for (;;) {
        if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
            close(fd); /* it ended meanwhile */
            return EXIT_OK;
        }
        if ((owner = lock_owner(fd)) > 0)
            break;
        if (xmp_now_ms() >= end) {
            close(fd);
            cli_error("cannot stop the session holder: no process holds "
                      "the record lock of %s",
                      hp.lock);
            return status_session(&(struct outcome){ .holder = HOLDER_STUCK });
        }
        nanosleep(&ts, NULL);
    }
    if (kill(owner, SIGTERM) < 0) {
        cli_error("cannot stop the session holder (pid %ld): %s",
                  (long)owner, strerror(errno));
        close(fd);
        return EXIT_OSERR;
    }
    /* gone when its lock is free; it closes politely first, bounded.  A
     * start that had handed over already: its holder is told too. */
    while (flock(fd, LOCK_SH | LOCK_NB) < 0) {
        pid_t now = lock_owner(fd);

        if (now > 0 && now != owner && kill(now, SIGTERM) == 0)
            owner = now;
        if (xmp_now_ms() >= end) {
            close(fd);
            cli_error("the session holder (pid %ld) has not ended in time",
                      (long)owner);
            return status_session(&(struct outcome){ .holder = HOLDER_STUCK });
        }
        nanosleep(&ts, NULL);
    }
    close(fd);
    return EXIT_OK;
}

/* The holder's status file as one JSON object: each "key  value" line
 * a member, pid and clients as numbers. */
static int status_json(FILE *f)
{
    static char line[OUT_MAX_FIELDS][1024];
    struct out_record r;
    char *v, *end;
    long long n;
    size_t i;

    out_begin(&r);
    for (i = 0; i < OUT_MAX_FIELDS && fgets(line[i], sizeof line[i], f);
         i++) {
        line[i][strcspn(line[i], "\n")] = '\0';
        v = line[i] + strcspn(line[i], " ");
        if (*v)
            *v++ = '\0';
        v += strspn(v, " ");
        errno = 0;
        n = strtoll(v, &end, 10);
        if ((strcmp(line[i], "pid") == 0 ||
             strcmp(line[i], "clients") == 0) &&
            *v && !*end && !errno)
            out_int(&r, line[i], n);
        else
            out_str(&r, line[i], v);
    }
    return out_print(FORMAT_JSON, &r);
}

static int session_status(struct cli *c)
{
    struct out_record r;
    struct holder_paths hp;
    char line[512];
    long pid;
    FILE *f;
    int fd, rc = 0;

    if (holder_paths(&c->o, 0, 1, &hp) != 0 ||
        (fd = running(&hp, &pid)) < 0)
        return no_holder(c);
    close(fd);
    if (!(f = fopen(hp.status, "re"))) {
        /* between its lock and its first word */
        out_begin(&r);
        out_int(&r, "pid", pid);
        out_str(&r, "state", "starting");
        out_line(&r, "pid", "%ld", pid);
        out_line(&r, "state", "starting");
        rc = out_print(c->o.format, &r);
    } else if (c->o.format == FORMAT_JSON) {
        rc = status_json(f);
        fclose(f);
    } else {
        /* xml: the text, as for the other reports */
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            cli_print_sanitized(stdout, line, strlen(line));
            putchar('\n');
        }
        fclose(f);
    }
    if (rc < 0 || fflush(stdout) != 0) {
        cli_error("cannot write output");
        return EXIT_IOERR;
    }
    return EXIT_OK;
}

static int parse_session(struct cli *c, int argc, char **argv)
{
    const char *what;
    int rc, next, more;
    size_t i;

    if (c->interactive) {
        cli_error("session is not available in the shell");
        return EXIT_USAGE;
    }
    if ((rc = cli_parse_cmd(&c->o, "session", argc, argv, &next, set_session,
                            NULL)))
        return rc;
    if (next >= argc) {
        cli_error("usage: xmpctl session start [SHOW] [OPTIONS] | stop | "
                  "status");
        return EXIT_USAGE;
    }
    what = argv[next];
    /* options may follow the word, and SHOW (each stands where the
     * parser expects a command's name) */
    if ((rc = cli_parse_cmd(&c->o, "session", argc - next, argv + next,
                            &more, set_session, NULL)))
        return rc;
    next += more;
    if (strcmp(what, "start") == 0 && next < argc) {
        for (i = 0; presence_shows[i]; i++)
            if (strcmp(argv[next], presence_shows[i]) == 0)
                sa.show = presence_shows[i];
        if (!sa.show || strcmp(sa.show, "unavailable") == 0) {
            cli_error("session: unknown SHOW '%s': expected available, "
                      "away, chat, dnd or xa",
                      argv[next]);
            return EXIT_USAGE;
        }
        if ((rc = cli_parse_cmd(&c->o, "session", argc - next, argv + next,
                                &more, set_session, NULL)))
            return rc;
        next += more;
    }
    if (next < argc) {
        cli_error("session: unexpected argument '%s'", argv[next]);
        return EXIT_USAGE;
    }
    if (strcmp(what, "start") == 0)
        c->run = session_start;
    else if (strcmp(what, "stop") == 0)
        c->run = session_stop;
    else if (strcmp(what, "status") == 0)
        c->run = session_status;
    else {
        cli_error("session: unknown action '%s': expected start, stop or "
                  "status",
                  what);
        return EXIT_USAGE;
    }
    if (c->run != session_start &&
        (sa.status || sa.have_priority || sa.foreground)) {
        cli_error("session: --status, --priority and --foreground go with "
                  "start");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cmd_session(struct cli *c, int argc, char **argv, struct op **op)
{
    int rc = parse_session(c, argc, argv);

    *op = NULL;
    if (rc != EXIT_OK) {
        free(sa.status);
        sa.status = NULL;
        c->run = NULL;
    }
    return rc;
}
