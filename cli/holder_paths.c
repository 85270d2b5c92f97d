/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * holder_paths.c - where an account's session holder lives (its
 * directory, socket, lock, status and log) and what its session was
 * opened with: what a command needs to find a holder and decide whether
 * to go through it, without the holder itself (holder.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"

/* ---- where: the directory, the socket, the lock -------------------------- */

static int name_escape(const char *jid, char *out, size_t len)
{
    struct xmp_jid j;
    char *bare, *p;
    size_t n = 0;

    if (!jid || xmp_jid_parse(jid, &j, NULL) != XMP_OK)
        return -1;
    bare = xmp_jid_bare(&j);
    xmp_jid_clear(&j);
    if (!bare)
        return -1;
    for (p = bare; *p && n + 4 < len; p++) {
        unsigned char ch = (unsigned char)*p;

        if ((ch >= 'A' && ch <= 'Z'))
            out[n++] = (char)(ch - 'A' + 'a'); /* one holder per account */
        else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 ch == '@' || ch == '.' || ch == '_' || ch == '-')
            out[n++] = (char)ch;
        else
            n += (size_t)snprintf(out + n, len - n, "%%%02X", ch);
    }
    out[n] = '\0';
    n = *p ? (size_t)-1 : n;
    free(bare);
    return n == (size_t)-1 ? -1 : 0;
}

/* The directory must be ours and open to nobody else: whoever can
 * write it can put a socket of their own where commands look, and
 * whoever can read it learns which accounts hold a session. */
static int dir_ok(const char *dir, int quiet)
{
    struct stat st;

    if (lstat(dir, &st) < 0) {
        if (!quiet)
            cli_error("cannot use %s: %s", dir, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode) && st.st_uid != getuid()) {
        /* in /tmp anyone may have made it first */
        if (!quiet)
            cli_error("refusing to use %s: it belongs to uid %lu, not to "
                      "us (another user may have made it to block or "
                      "watch our sessions); set XDG_RUNTIME_DIR to a "
                      "directory of ours",
                      dir, (unsigned long)st.st_uid);
        return -1;
    }
    if (!S_ISDIR(st.st_mode) || (st.st_mode & 077)) {
        if (!quiet)
            cli_error("refusing to use %s: not a directory of ours that "
                      "only we can use (mode 700)",
                      dir);
        return -1;
    }
    return 0;
}

/* The base of the holder's directory (XDG Base Directory): an absolute
 * $XDG_RUNTIME_DIR (a relative one is invalid and ignored: the holder
 * changes directory); else /run/user/UID when it is ours with mode 700,
 * which is what a login shell's XDG_RUNTIME_DIR names, so that a cron
 * job (which has none) finds the session a login started; else /tmp,
 * in a directory of our uid. */
static int runtime_dir(char *buf, size_t len)
{
    const char *rt = getenv("XDG_RUNTIME_DIR");
    char run[64];
    struct stat st;

    if (rt && rt[0] == '/')
        return snprintf(buf, len, "%s/xmpctl", rt);
    snprintf(run, sizeof run, "/run/user/%lu", (unsigned long)getuid());
    if (lstat(run, &st) == 0 && S_ISDIR(st.st_mode) &&
        st.st_uid == getuid() && !(st.st_mode & 077))
        return snprintf(buf, len, "%s/xmpctl", run);
    return snprintf(buf, len, "/tmp/xmpctl-%lu", (unsigned long)getuid());
}

int holder_paths(const struct cli_opts *o, int make_dir, int quiet,
                 struct holder_paths *hp)
{
    char name[160];
    int n;

    if (!o->jid) {
        if (!quiet)
            cli_error("no account: use --jid JID or an account in the "
                      "config file");
        return EXIT_USAGE;
    }
    if (name_escape(o->jid, name, sizeof name) < 0) {
        if (!quiet)
            cli_error("invalid account JID '%s'", o->jid);
        return EXIT_USAGE;
    }
    n = runtime_dir(hp->dir, sizeof hp->dir);
    /* sun_path holds 108 bytes */
    if (n < 0 || (size_t)n >= sizeof hp->dir ||
        (size_t)n + strlen(name) + 8 >=
            sizeof ((struct sockaddr_un *)0)->sun_path) {
        if (!quiet)
            cli_error("the session socket's path would be too long: %s/%s",
                      hp->dir, name);
        return EXIT_USAGE;
    }
    snprintf(hp->sock, sizeof hp->sock, "%s/%s.sock", hp->dir, name);
    snprintf(hp->lock, sizeof hp->lock, "%s/%s.lock", hp->dir, name);
    snprintf(hp->status, sizeof hp->status, "%s/%s.status", hp->dir, name);
    snprintf(hp->log, sizeof hp->log, "%s/%s.log", hp->dir, name);
    if (make_dir && mkdir(hp->dir, 0700) < 0 && errno != EEXIST) {
        if (!quiet)
            cli_error("cannot create %s: %s", hp->dir, strerror(errno));
        return EXIT_OSERR;
    }
    return dir_ok(hp->dir, quiet) < 0
               ? status_session(&(struct outcome){
                     .holder = make_dir ? HOLDER_DIR_UNSAFE : HOLDER_ABSENT })
               : 0;
}

/* ---- what the held session was opened with ---------------------------- */

/* The options that decide where the held session goes and what vouches
 * for the server.  The holder writes them at the end of its status file
 * (it is the authority on what it runs with); a command goes through it
 * only when its own are the same, else it connects itself.  File names
 * are made absolute: the holder's and the command's directories differ. */
static const char *const param_keys[] = {
    "server", "direct-tls", "cafile", "verify", "pin", "mech",
    "client-cert", "client-key", "tofu", "downgrade", "tls-min", "proxy",
    NULL
};

/* The proxy URL without its password (the status file is not secret):
 * scheme://[user@]host:port. */
static const char *proxy_shown(const char *url, char *buf, size_t len)
{
    const char *auth, *at, *colon, *end;

    if (!url)
        return NULL;
    if (!(auth = strstr(url, "://")))
        return url;
    auth += 3;
    end = auth + strcspn(auth, "/?#");
    for (at = NULL, colon = auth; colon < end; colon++)
        if (*colon == '@')
            at = colon;
    if (!at)
        return url;
    colon = memchr(auth, ':', (size_t)(at - auth));
    snprintf(buf, len, "%.*s%.*s%s", (int)(auth - url), url,
             (int)((colon ? colon : at) - auth), auth, at);
    return buf;
}

static void param_line(char *buf, size_t len, size_t *at, const char *key,
                       const char *v, int path)
{
    char abs[PATH_MAX];
    const unsigned char *p;
    int n;

    if (path && v && realpath(v, abs))
        v = abs;
    n = snprintf(buf + *at, len - *at, "%-13s", key);
    *at += n > 0 && (size_t)n < len - *at ? (size_t)n : 0;
    /* control bytes and the backslash as \xNN: distinct values stay
     * distinct on one line */
    for (p = (const unsigned char *)(v ? v : "-"); *p && *at + 5 < len; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            *at += (size_t)snprintf(buf + *at, len - *at, "\\x%02x", *p);
        else
            buf[(*at)++] = (char)*p;
    }
    if (*at + 1 < len)
        buf[(*at)++] = '\n';
    buf[*at] = '\0';
}

void holder_params(const struct cli_opts *o, char *buf, size_t len)
{
    char shown[512];
    size_t at = 0;

    buf[0] = '\0';
    param_line(buf, len, &at, param_keys[0], o->server, 0);
    param_line(buf, len, &at, param_keys[1], o->direct_tls ? "yes" : "no", 0);
    param_line(buf, len, &at, param_keys[2], o->cafile, 1);
    param_line(buf, len, &at, param_keys[3],
               o->insecure ? "NO (--insecure)" : "yes", 0);
    param_line(buf, len, &at, param_keys[4], o->pin, 0);
    param_line(buf, len, &at, param_keys[5], o->mech, 0);
    param_line(buf, len, &at, param_keys[6], o->client_cert, 1);
    param_line(buf, len, &at, param_keys[7], o->client_key, 1);
    param_line(buf, len, &at, param_keys[8], o->tofu ? "yes" : "no", 0);
    param_line(buf, len, &at, param_keys[9],
               o->allow_downgrade ? "allowed" : "refused", 0);
    param_line(buf, len, &at, param_keys[10],
               o->tls_min == 13 ? "1.3" : "1.2", 0);
    param_line(buf, len, &at, param_keys[11],
               proxy_shown(o->proxy, shown, sizeof shown), 0);
}

int holder_same_params(const struct cli_opts *o, const struct holder_paths *hp,
                       const char **differs)
{
    char *mine = malloc(HOLDER_PARAMS_MAX);
    char *file = malloc(2 * HOLDER_PARAMS_MAX);
    size_t n = 0, ml, i;
    char *line;
    ssize_t r;
    int fd, same = 0;

    *differs = NULL; /* no status file: the holder is starting */
    if (!mine || !file)
        goto out;
    holder_params(o, mine, HOLDER_PARAMS_MAX);
    ml = strlen(mine);
    if ((fd = open(hp->status, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        goto out; /* none yet: the holder is starting */
    while (n < 2 * HOLDER_PARAMS_MAX - 1 &&
           (r = read(fd, file + n, 2 * HOLDER_PARAMS_MAX - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    file[n] = '\0';
    /* the block ends the file, whole lines */
    same = n >= ml && memcmp(file + n - ml, mine, ml) == 0 &&
           (n == ml || file[n - ml - 1] == '\n') && ml + 1 < HOLDER_PARAMS_MAX;
    if (same)
        goto out;
    *differs = "status";
    /* which one, for the message: the first of our lines it lacks */
    for (i = 0, line = mine; param_keys[i] && line; i++) {
        char *end = strchr(line, '\n'), *at;
        int found = 0;

        if (!end)
            break;
        *end = '\0';
        for (at = file; !found && (at = strstr(at, line)); at++)
            found = (at == file || at[-1] == '\n') &&
                    at[strlen(line)] == '\n';
        if (!found) {
            *differs = param_keys[i];
            break;
        }
        line = end + 1;
    }
out:
    free(mine);
    free(file);
    return same;
}
