/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * password.c - where the password comes from, first match wins:
 * --password-file, --password-command, the account's password_command,
 * the account's password, $XMPCTL_PASSWORD, a prompt on /dev/tty.
 * Never argv.  A driver obtains it before connecting
 * (cli_password_obtain) and hands the protocol layer a copy through
 * cli_password_from; cli_password asks the sources from inside the SASL
 * step instead.
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
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

/* Output of a password command read per poll() wake-up, so that one
 * printing without end still meets its deadline. */
#define PWCMD_READ_BURST 65536

/* ---- the first line ------------------------------------------------------- */

/* The first line of what a source gives, fed as it arrives: what follows
 * the first newline (or NUL) is dropped, and a line longer than
 * CLI_PASSWORD_MAX is an error, never a silently shortened password. */
struct first_line {
    char buf[CLI_PASSWORD_MAX + 2]; /* the password, a CR, the NUL */
    size_t n;
    int complete; /* its end was seen: the rest is dropped */
    int too_long;
};

static void line_feed(struct first_line *l, const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n && !l->complete && !l->too_long; i++) {
        if (p[i] == '\n' || p[i] == '\0')
            l->complete = 1;
        else if (l->n == sizeof l->buf - 1)
            l->too_long = 1;
        else
            l->buf[l->n++] = p[i];
    }
}

static enum xmp_err secret_set(struct cli_secret *s, const char *pw,
                               size_t len, struct xmp_error *err)
{
    if (!(s->pw = malloc(len + 1)))
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    memcpy(s->pw, pw, len);
    s->pw[len] = '\0';
    s->len = len;
    return XMP_OK;
}

/* The password from the line (a CR before the newline dropped), or why
 * there is none: 'empty' says it.  The line is wiped either way. */
static enum xmp_err line_take(struct first_line *l, const char *what,
                              const char *empty, struct cli_secret *s,
                              struct xmp_error *err)
{
    enum xmp_err r;

    if (l->n && l->buf[l->n - 1] == '\r')
        l->n--;
    if (l->too_long || l->n > CLI_PASSWORD_MAX)
        r = xmp_error_set(err, XMP_EIO,
                          "password from %s is too long (more than %d "
                          "bytes)",
                          what, CLI_PASSWORD_MAX);
    else if (l->n == 0)
        r = xmp_error_set(err, XMP_EIO, "%s", empty);
    else
        r = secret_set(s, l->buf, l->n, err);
    explicit_bzero(l, sizeof *l);
    return r;
}

/* (Not SIGTSTP: a stopped prompt keeps echo off, and the shell that
 * stopped it restores its own terminal modes meanwhile.) */
static const int prompt_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NPROMPT_SIGS (sizeof prompt_sigs / sizeof prompt_sigs[0])
static volatile sig_atomic_t prompt_signal;

/* Only noted: the read returns EINTR (no SA_RESTART). */
static void on_prompt_signal(int sig)
{
    prompt_signal = sig;
}

/* Blocking reads until the end of the first line or of the input. */
static enum xmp_err read_line(int fd, const char *what, struct first_line *l,
                              struct xmp_error *err)
{
    char tmp[256];
    ssize_t r;

    while (!l->complete && !l->too_long) {
        r = read(fd, tmp, sizeof tmp);
        if (r < 0 && errno == EINTR && prompt_signal)
            break; /* the prompt was interrupted */
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return xmp_error_set(err, XMP_EIO, "cannot read %s: %s", what,
                                 strerror(errno));
        if (r == 0)
            break;
        line_feed(l, tmp, (size_t)r);
    }
    explicit_bzero(tmp, sizeof tmp);
    return XMP_OK;
}

/* ---- a file, the terminal ------------------------------------------------ */

static enum xmp_err from_file(const char *path, struct cli_secret *s,
                              struct xmp_error *err)
{
    struct first_line l;
    char what[512], empty[600];
    enum xmp_err r;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return xmp_error_set(err, XMP_EIO, "cannot open password file %s: %s",
                             path, strerror(errno));
    memset(&l, 0, sizeof l);
    snprintf(what, sizeof what, "password file %s", path);
    snprintf(empty, sizeof empty, "empty password from %s", what);
    r = read_line(fd, what, &l, err);
    close(fd);
    if (r == XMP_OK)
        return line_take(&l, what, empty, s, err);
    explicit_bzero(&l, sizeof l);
    return r;
}

/* Blocking is right here: a person is typing. */
static enum xmp_err from_tty(const char *jid, struct cli_secret *s,
                             struct xmp_error *err)
{
    struct sigaction sa, saved[NPROMPT_SIGS];
    size_t i;
    struct termios old, quiet;
    struct first_line l;
    char prompt[512];
    enum xmp_err r;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return xmp_error_set(err, XMP_EUSAGE,
                             "no password: use --password-file, "
                             "--password-command, a config file, "
                             "XMPCTL_PASSWORD or run on a terminal");
    if (tcgetattr(fd, &old) < 0) {
        close(fd);
        return xmp_error_set(err, XMP_EIO, "cannot prompt for a password: %s",
                             strerror(errno));
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
    quiet.c_lflag |= ICANON;
    if (jid)
        snprintf(prompt, sizeof prompt, "Password for %s: ", jid);
    else
        snprintf(prompt, sizeof prompt, "Password: ");
    /* A signal while echo is off must not leave the terminal so: catch
     * them for the time of the prompt, restore, then let them act. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prompt_signal;
    sigemptyset(&sa.sa_mask);
    prompt_signal = 0;
    for (i = 0; i < NPROMPT_SIGS; i++)
        sigaction(prompt_sigs[i], &sa, &saved[i]);
    /* Echo off before the prompt shows: what is typed after it counts. */
    tcsetattr(fd, TCSAFLUSH, &quiet);
    (void)!write(fd, prompt, strlen(prompt));
    memset(&l, 0, sizeof l);
    r = read_line(fd, "the terminal", &l, err);
    tcsetattr(fd, TCSAFLUSH, &old);
    (void)!write(fd, "\n", 1);
    close(fd);
    for (i = 0; i < NPROMPT_SIGS; i++)
        sigaction(prompt_sigs[i], &saved[i], NULL);
    if (prompt_signal) {
        explicit_bzero(&l, sizeof l);
        raise(prompt_signal);
        return xmp_error_set(err, XMP_EUSAGE, "no password: interrupted");
    }
    if (r == XMP_OK)
        return line_take(&l, "the terminal", "empty password from the "
                         "terminal", s, err);
    explicit_bzero(&l, sizeof l);
    return r;
}

/* ---- a command ------------------------------------------------------------ */

/*
 * The command runs with /bin/sh -c in a process group of its own, so that
 * at its deadline everything it started dies with it.  It gets /dev/null
 * as stdin, our stderr, an environment without XMPCTL_PASSWORD, default
 * signal dispositions and an empty signal mask (whatever started us may
 * have ignored SIGPIPE, SIGINT or SIGHUP, and we ignore SIGPIPE
 * ourselves).  Its stdout is read through a pipe with poll() against
 * the deadline; its exit status counts (msmtp's passwordeval ignores it,
 * so a failing command reads as an empty password there).
 */

static int chld_wfd = -1;

/* SIGCHLD only wakes the poll below. */
static void on_sigchld(int sig)
{
    int saved = errno;

    (void)sig;
    (void)!write(chld_wfd, "", 1);
    errno = saved;
}

/* The environment, minus XMPCTL_PASSWORD and XMPCTL_ROOM_PASSWORD; the
 * strings are borrowed. */
static char **env_without_password(void)
{
    static const char var[] = "XMPCTL_PASSWORD=",
                      room[] = "XMPCTL_ROOM_PASSWORD=";
    size_t n = 0, i, j = 0;
    char **env;

    while (environ && environ[n])
        n++;
    if (!(env = calloc(n + 1, sizeof *env)))
        return NULL;
    for (i = 0; i < n; i++)
        if (strncmp(environ[i], var, sizeof var - 1) != 0 &&
            strncmp(environ[i], room, sizeof room - 1) != 0)
            env[j++] = environ[i];
    return env;
}

/* The terminal, when we run in its foreground: the command's process
 * group gets it while the command runs, or a command that asks on it
 * (read </dev/tty, for one) would be stopped by SIGTTIN. */
static int foreground_tty(void)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);

    if (fd >= 0 && tcgetpgrp(fd) == getpgrp())
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

static int move_fd(int from, int to)
{
    if (from == to)
        return fcntl(to, F_SETFD, 0); /* keep it across exec */
    return dup2(from, to) < 0 ? -1 : 0;
}

/* In the child, every signal blocked: only async-signal-safe calls. */
static void exec_command(const char *cmd, char **env, int in, int out,
                         int tty)
{
    char *argv[] = { "sh", "-c", (char *)cmd, NULL };
    struct sigaction dfl;
    sigset_t none;
    int sig;

    setpgid(0, 0);
    if (tty >= 0)
        tcsetpgrp(tty, getpid()); /* allowed: SIGTTOU is blocked */
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL); /* fails harmlessly for KILL, STOP */
    if (move_fd(in, STDIN_FILENO) < 0 || move_fd(out, STDOUT_FILENO) < 0)
        _exit(127);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve("/bin/sh", argv, env);
    _exit(127);
}

/* Read what the pipe holds now, at most PWCMD_READ_BURST bytes: 1 at
 * its end, 0 when it would block (or the burst is used), -1 on error. */
static int read_available(int fd, struct first_line *l)
{
    char tmp[512];
    size_t total = 0;
    ssize_t r;
    int rc = 0;

    while (total < PWCMD_READ_BURST) {
        r = read(fd, tmp, sizeof tmp);
        if (r > 0) {
            line_feed(l, tmp, (size_t)r);
            total += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            rc = 1;
        else if (errno != EAGAIN && errno != EWOULDBLOCK)
            rc = -1;
        break;
    }
    explicit_bzero(tmp, sizeof tmp);
    return rc;
}

struct pwcmd {
    pid_t pid;
    int out;  /* read end of its stdout (owned), -1 once done with it */
    int chld; /* read end of the SIGCHLD pipe (borrowed) */
    int exited, status;
    int timed_out, io_errno;
    struct first_line line;
};

/* Wait for the command's output and its exit, until the deadline. */
static void pwcmd_wait(struct pwcmd *c, int64_t deadline)
{
    struct pollfd p[2];
    char drain[64];
    int64_t now;
    nfds_t n;
    int rc;

    while (!c->exited || c->out >= 0) {
        /* The exit first: what it wrote before is in the pipe by then. */
        while (read(c->chld, drain, sizeof drain) > 0)
            ;
        if (!c->exited && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
            c->exited = 1;
        if (c->out >= 0) {
            rc = read_available(c->out, &c->line);
            if (rc < 0) {
                c->io_errno = errno;
                return;
            }
            /* Past its exit, whatever it left running may hold the pipe
             * open: what is not there now does not count. */
            if (rc > 0 || c->exited) {
                close(c->out);
                c->out = -1;
            }
        }
        if (c->line.too_long || (c->exited && c->out < 0))
            return;
        if ((now = xmp_now_ms()) >= deadline) {
            c->timed_out = 1;
            return;
        }
        n = 0;
        if (c->out >= 0) {
            p[n].fd = c->out;
            p[n++].events = POLLIN;
        }
        p[n].fd = c->chld;
        p[n++].events = POLLIN;
        if (poll(p, n, deadline - now > INT_MAX ? INT_MAX
                                                : (int)(deadline - now)) < 0 &&
            errno != EINTR) {
            c->io_errno = errno;
            return;
        }
    }
}

/* What came of it: the password, or one line saying why not. */
static enum xmp_err pwcmd_result(struct pwcmd *c, int timeout_ms,
                                 struct cli_secret *s, struct xmp_error *err)
{
    int secs = (timeout_ms + 999) / 1000;

    if (c->line.too_long)
        return line_take(&c->line, "the password command", "", s, err);
    if (c->io_errno)
        return xmp_error_set(err, XMP_EIO, "cannot read the password "
                             "command's output: %s", strerror(c->io_errno));
    if (c->timed_out && !c->line.n && !c->line.complete)
        return xmp_error_set(err, XMP_ETIMEOUT, "password command gave no "
                             "password within %d s", secs);
    if (c->timed_out)
        return xmp_error_set(err, XMP_ETIMEOUT, "password command did not "
                             "finish within %d s", secs);
    if (WIFSIGNALED(c->status))
        return xmp_error_set(err, XMP_EIO, "password command killed by "
                             "signal %d (%s)", WTERMSIG(c->status),
                             strsignal(WTERMSIG(c->status)));
    if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0)
        return xmp_error_set(err, XMP_EIO, "password command failed with "
                             "exit status %d", WEXITSTATUS(c->status));
    return line_take(&c->line, "the password command",
                     "password command printed no password", s, err);
}

static enum xmp_err from_command(const char *cmd, int timeout_ms,
                                 struct cli_secret *s, struct xmp_error *err)
{
    struct pwcmd c;
    struct sigaction sa, old_chld;
    sigset_t all, old_mask, ttou;
    int out[2] = { -1, -1 }, chld[2] = { -1, -1 }, null = -1, tty = -1, i;
    int64_t deadline = xmp_now_ms() + timeout_ms;
    char **env;
    enum xmp_err r;

    memset(&c, 0, sizeof c);
    c.out = c.chld = -1;
    if (!(env = env_without_password()))
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(chld, O_CLOEXEC | O_NONBLOCK) < 0 ||
        (null = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        r = xmp_error_set(err, XMP_EIO, "cannot run password command: %s",
                          strerror(errno));
        goto out;
    }
    /* Our own SIGCHLD handler for the run: with SIGCHLD ignored (which
     * survives exec), the child would be reaped unseen. */
    chld_wfd = chld[1];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, &old_chld);
    tty = foreground_tty();
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old_mask);
    c.pid = fork();
    if (c.pid == 0)
        exec_command(cmd, env, null, out[1], tty);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (c.pid < 0) {
        r = xmp_error_set(err, XMP_EIO, "cannot run password command: %s",
                          strerror(errno));
        goto restore;
    }
    setpgid(c.pid, c.pid); /* as the child does; whichever runs first */
    close(out[1]);
    out[1] = -1;
    c.out = out[0];
    out[0] = -1;
    c.chld = chld[0]; /* borrowed */
    fcntl(c.out, F_SETFL, fcntl(c.out, F_GETFL) | O_NONBLOCK);

    pwcmd_wait(&c, deadline);
    if (!c.exited) {
        kill(-c.pid, SIGKILL); /* the whole group: what it started, too */
        while (waitpid(c.pid, &c.status, 0) < 0 && errno == EINTR)
            ;
    }
    r = pwcmd_result(&c, timeout_ms, s, err);

restore:
    if (tty >= 0) {
        /* Take the terminal back; from the background that needs
         * SIGTTOU blocked. */
        sigemptyset(&ttou);
        sigaddset(&ttou, SIGTTOU);
        sigprocmask(SIG_BLOCK, &ttou, &old_mask);
        tcsetpgrp(tty, getpgrp());
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        close(tty);
    }
    sigaction(SIGCHLD, &old_chld, NULL);
    chld_wfd = -1;
out:
    if (c.out >= 0)
        close(c.out);
    if (null >= 0)
        close(null);
    for (i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (chld[i] >= 0)
            close(chld[i]);
    }
    explicit_bzero(&c.line, sizeof c.line);
    free(env);
    return r;
}

/* ---- the sources, in order ------------------------------------------------ */

/* $XMPCTL_PASSWORD and $XMPCTL_ROOM_PASSWORD, moved out of the
 * environment at start-up (before any thread or child exists), so that
 * nothing we start inherits them and /proc/PID/environ no longer shows
 * them. */
static char *env_password, *env_room_password;

static void take_var(const char *name, char **store)
{
    char *v = getenv(name), *entry;
    size_t n;

    if (!v)
        return;
    *store = strdup(v);
    /* the whole "NAME=value" string: not even the name stays behind */
    entry = v - (strlen(name) + 1);
    n = strlen(entry);
    unsetenv(name);
    explicit_bzero(entry, n);
}

void cli_password_take_env(void)
{
    take_var("XMPCTL_PASSWORD", &env_password);
    take_var("XMPCTL_ROOM_PASSWORD", &env_room_password);
}

static void drop(char **p)
{
    if (*p) {
        explicit_bzero(*p, strlen(*p));
        free(*p);
    }
    *p = NULL;
}

void cli_password_drop_env(void)
{
    drop(&env_password);
    drop(&env_room_password);
}

static enum xmp_err get_password(const struct cli_opts *o, int timeout_ms,
                                 struct cli_secret *s, struct xmp_error *err)
{
    const char *env = env_password;

    if (o->password_file)
        return from_file(o->password_file, s, err);
    if (o->password_command)
        return from_command(o->password_command, timeout_ms, s, err);
    if (o->cfg_password_command)
        return from_command(o->cfg_password_command, timeout_ms, s, err);
    if (o->cfg_password || env) {
        const char *p = o->cfg_password ? o->cfg_password : env;
        size_t len = strlen(p);

        if (len > CLI_PASSWORD_MAX)
            return xmp_error_set(err, XMP_EIO,
                                 "password is too long (more than %d bytes)",
                                 CLI_PASSWORD_MAX);
        if (!len)
            return xmp_error_set(err, XMP_EIO, "empty password from %s",
                                 o->cfg_password ? "the config file"
                                                 : "XMPCTL_PASSWORD");
        return secret_set(s, p, len, err);
    }
    return from_tty(o->jid, s, err);
}

int cli_password_obtain(const struct cli_opts *o, int timeout_ms,
                        struct cli_secret *s)
{
    struct xmp_error err;
    enum xmp_err r;

    memset(s, 0, sizeof *s);
    if ((r = get_password(o, timeout_ms, s, &err)) == XMP_OK)
        return EXIT_OK;
    cli_error("%s", err.msg);
    return cli_exit_status(r);
}

int cli_room_password_obtain(const char *file, const char *command,
                             int timeout_ms, struct cli_secret *s)
{
    const char *env = env_room_password;
    struct xmp_error err;
    enum xmp_err r = XMP_OK;

    memset(s, 0, sizeof *s);
    if (file)
        r = from_file(file, s, &err);
    else if (command)
        r = from_command(command, timeout_ms, s, &err);
    else if (env && strlen(env) > CLI_PASSWORD_MAX)
        r = xmp_error_set(&err, XMP_EIO, "XMPCTL_ROOM_PASSWORD is too long "
                          "(more than %d bytes)", CLI_PASSWORD_MAX);
    else if (env && *env)
        r = secret_set(s, env, strlen(env), &err);
    if (r == XMP_OK)
        return EXIT_OK;
    cli_error("room password: %s", err.msg);
    return cli_exit_status(r);
}

enum xmp_err cli_password_from(void *ud, char *buf, size_t len,
                               struct xmp_error *err)
{
    const struct cli_secret *s = ud;

    if (!s || !s->pw)
        return xmp_error_set(err, XMP_EUSAGE, "no password was obtained");
    if (s->len >= len)
        return xmp_error_set(err, XMP_EIO,
                             "password is too long (more than %zu bytes)",
                             len ? len - 1 : 0);
    memcpy(buf, s->pw, s->len + 1);
    return XMP_OK;
}

enum xmp_err cli_password(void *ud, char *buf, size_t len,
                          struct xmp_error *err)
{
    const struct cli_opts *o = ud;
    struct cli_secret s = { NULL, 0 };
    int timeout_s = o->timeout_s ? o->timeout_s : CLI_DEFAULT_TIMEOUT_S;
    enum xmp_err r;

    if ((r = get_password(o, timeout_s * 1000, &s, err)) == XMP_OK)
        r = cli_password_from(&s, buf, len, err);
    cli_secret_wipe(&s);
    return r;
}

void cli_secret_wipe(struct cli_secret *s)
{
    if (!s)
        return;
    if (s->pw) {
        explicit_bzero(s->pw, s->len);
        free(s->pw);
    }
    s->pw = NULL;
    s->len = 0;
}
