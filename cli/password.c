/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * password.c - where the password comes from, first match wins:
 * --password-file, --password-command, the account's password_command,
 * the account's password, $XMPCTL_PASSWORD, a prompt on /dev/tty.
 * Never argv.  Asked lazily, only when a SASL mechanism needs it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

/* Bytes read while looking for the end of the first line: more than any
 * password buffer, so "too long" is detected, not truncated. */
#define PASSWORD_READ_MAX 2048

/* Keep the first line of s[0..n) in buf; returns its length or -1 when it
 * does not fit. */
static long first_line(const char *s, size_t n, char *buf, size_t len)
{
    size_t l = 0;

    while (l < n && s[l] != '\n' && s[l] != '\0')
        l++;
    if (l && s[l - 1] == '\r')
        l--;
    if (l >= len)
        return -1;
    memcpy(buf, s, l);
    buf[l] = '\0';
    return (long)l;
}

static enum xmp_err read_fd_line(int fd, const char *what, char *buf,
                                 size_t len, struct xmp_error *err)
{
    char tmp[PASSWORD_READ_MAX];
    size_t got = 0;
    ssize_t r;

    /* Read until a newline, EOF or a full buffer; a first line that does
     * not fit is an error, never a silently shortened password. */
    while (got < sizeof tmp) {
        r = read(fd, tmp + got, sizeof tmp - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            explicit_bzero(tmp, sizeof tmp);
            return xmp_error_set(err, XMP_EIO, "cannot read %s: %s", what,
                                 strerror(errno));
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (memchr(tmp, '\n', got))
            break;
    }
    if (first_line(tmp, got, buf, len) < 0) {
        explicit_bzero(tmp, sizeof tmp);
        return xmp_error_set(err, XMP_EIO, "password from %s is too long",
                             what);
    }
    explicit_bzero(tmp, sizeof tmp);
    if (!*buf)
        return xmp_error_set(err, XMP_EIO, "empty password from %s", what);
    return XMP_OK;
}

static enum xmp_err from_file(const char *path, char *buf, size_t len,
                              struct xmp_error *err)
{
    char what[512];
    enum xmp_err r;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return xmp_error_set(err, XMP_EIO, "cannot open password file %s: %s",
                             path, strerror(errno));
    snprintf(what, sizeof what, "password file %s", path);
    r = read_fd_line(fd, what, buf, len, err);
    close(fd);
    return r;
}

/* Run cmd with /bin/sh -c; its exit status counts: a failing command is
 * an error, not an empty password. */
static enum xmp_err from_command(const char *cmd, char *buf, size_t len,
                                 struct xmp_error *err)
{
    int pfd[2], status;
    pid_t pid;
    enum xmp_err r;
    char drain[256];

    if (pipe2(pfd, O_CLOEXEC) < 0)
        return xmp_error_set(err, XMP_EIO, "cannot run password command: %s",
                             strerror(errno));
    if ((pid = fork()) < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return xmp_error_set(err, XMP_EIO, "cannot run password command: %s",
                             strerror(errno));
    }
    if (pid == 0) {
        dup2(pfd[1], STDOUT_FILENO);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    r = read_fd_line(pfd[0], "the password command", buf, len, err);
    /* Let the command finish writing, so it does not die of SIGPIPE. */
    while (read(pfd[0], drain, sizeof drain) > 0)
        ;
    close(pfd[0]);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            explicit_bzero(buf, len);
            return xmp_error_set(err, XMP_EIO, "password command: %s",
                                 strerror(errno));
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        explicit_bzero(buf, len);
        if (WIFEXITED(status))
            return xmp_error_set(err, XMP_EIO,
                                 "password command failed with exit status "
                                 "%d",
                                 WEXITSTATUS(status));
        return xmp_error_set(err, XMP_EIO,
                             "password command killed by signal %d",
                             WTERMSIG(status));
    }
    return r;
}

static enum xmp_err from_tty(const char *jid, char *buf, size_t len,
                             struct xmp_error *err)
{
    struct termios old, quiet;
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
    snprintf(prompt, sizeof prompt, "Password for %s: ", jid);
    (void)!write(fd, prompt, strlen(prompt));
    tcsetattr(fd, TCSAFLUSH, &quiet);
    r = read_fd_line(fd, "the terminal", buf, len, err);
    tcsetattr(fd, TCSAFLUSH, &old);
    (void)!write(fd, "\n", 1);
    close(fd);
    return r;
}

enum xmp_err cli_password(void *ud, char *buf, size_t len,
                          struct xmp_error *err)
{
    const struct cli_opts *o = ud;
    const char *env = getenv("XMPCTL_PASSWORD");

    if (o->password_file)
        return from_file(o->password_file, buf, len, err);
    if (o->password_command)
        return from_command(o->password_command, buf, len, err);
    if (o->cfg_password_command)
        return from_command(o->cfg_password_command, buf, len, err);
    if (o->cfg_password || env) {
        const char *p = o->cfg_password ? o->cfg_password : env;

        if (strlen(p) >= len)
            return xmp_error_set(err, XMP_EIO, "password is too long");
        if (!*p)
            return xmp_error_set(err, XMP_EIO, "empty password from %s",
                                 o->cfg_password ? "the config file"
                                                 : "XMPCTL_PASSWORD");
        memcpy(buf, p, strlen(p) + 1);
        return XMP_OK;
    }
    return from_tty(o->jid, buf, len, err);
}
