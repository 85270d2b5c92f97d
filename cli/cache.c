/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cache.c - what a login learnt that makes the next one faster
 * (xmp_session_hints), for each account:
 *
 *     $XDG_CACHE_HOME/xmpctl/alice@example.org      (default ~/.cache)
 *     $XDG_DATA_HOME/xmpctl/tls/alice@example.org   (~/.local/share)
 *
 * The cache holds only what may be lost or read without harm: the
 * features the server offered, for the same server identity.  The TLS
 * 1.3 ticket of the last login (with those features) is kept in the data
 * home, beside the other things xmpctl keeps for its user: it decrypts
 * no traffic (resumption always adds a fresh key exchange), but lets
 * whoever reads it pose as the server to one resumption until the
 * server lets it expire, so it is a secret of its owner's.  A TLS 1.2
 * session (its state decrypts recorded traffic) is kept in memory only,
 * for the next session of this process (the shell, the session holder,
 * a resumption); nothing derived from the password is kept anywhere.
 * Directories are 0700, files 0600, written whole and renamed into
 * place, and a file or directory others may change is not read (a
 * warning says so).  Cache files an earlier version wrote (which held a
 * key derived from the password and TLS sessions) are overwritten and
 * deleted on the first run that finds them.  Losing either costs only
 * time: a full handshake, a round trip.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* a file this big is not ours */
#define CACHE_SIZE_MAX (64 * 1024)
/* in the directory: its files were checked by this version */
#define CACHE_FORMAT_FILE ".format"
#define CACHE_FORMAT "2\n"

/* The account's file name: its bare JID in lower case (RFC 7622:
 * neither part holds a '/'); caller frees; NULL when there is none. */
static char *account_file(const struct cli *c)
{
    return cli_private_name(c->o.jid);
}

/* "$XDG_CACHE_HOME/xmpctl" (default ~/.cache/xmpctl) into dir, and the
 * account's file into path; -1 when there is no home or no account. */
static int cache_paths(const struct cli *c, char *dir, size_t dlen,
                       char *path, size_t plen)
{
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    char *bare = account_file(c);
    int n;

    if (!bare)
        return -1;
    if (x && x[0] == '/')
        n = snprintf(dir, dlen, "%s/xmpctl", x);
    else if (h && h[0] == '/')
        n = snprintf(dir, dlen, "%s/.cache/xmpctl", h);
    else
        n = -1;
    if (n < 0 || (size_t)n >= dlen ||
        (size_t)snprintf(path, plen, "%s/%s", dir, bare) >= plen) {
        free(bare);
        return -1;
    }
    free(bare);
    return 0;
}

/* "$XDG_DATA_HOME/xmpctl/tls" into dir, and the account's ticket file
 * into path; -1 when there is no such place. */
static int ticket_paths(const struct cli *c, char *dir, size_t dlen,
                        char *path, size_t plen)
{
    char *bare = account_file(c);
    int ok;

    ok = bare && cli_data_dir(dir, dlen, 0) == 0 &&
         strlen(dir) + sizeof "/tls" <= dlen;
    if (ok) {
        memcpy(dir + strlen(dir), "/tls", sizeof "/tls");
        ok = (size_t)snprintf(path, plen, "%s/%s", dir, bare) < plen;
    }
    free(bare);
    return ok ? 0 : -1;
}

/* Once per directory: every file in it that this version cannot use
 * (an earlier version's, with a key derived from the password and TLS
 * sessions in it) is overwritten and deleted; then a mark says it was
 * done. */
static void cache_sweep(const char *dir)
{
    char path[4600];
    struct dirent *e;
    struct stat st;
    DIR *d;
    int fd;

    if (snprintf(path, sizeof path, "%s/" CACHE_FORMAT_FILE, dir) >=
            (int)sizeof path ||
        (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) ||
        !(d = opendir(dir)))
        return;
    while ((e = readdir(d))) {
        unsigned char *b;
        size_t len;

        memset(&st, 0, sizeof st);
        if (e->d_name[0] == '.' ||
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >=
                (int)sizeof path ||
            (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
                                 O_NONBLOCK)) < 0)
            continue;
        b = cli_private_slurp(fd, &st, CACHE_SIZE_MAX, &len);
        close(fd);
        if (S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
            !xmp_hints_current(b, len))
            cli_private_shred(path, "the outdated cache");
        cli_cache_free(b, len);
    }
    closedir(d);
    snprintf(path, sizeof path, "%s/" CACHE_FORMAT_FILE, dir);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >=
        0) {
        (void)!write(fd, CACHE_FORMAT, strlen(CACHE_FORMAT));
        close(fd);
    }
}

/* The hints file at path in dir, if it is ours and nobody else may
 * change it (nor, if secret, read it): its bytes (free with
 * cli_cache_free) and *len, or NULL.  A file of an earlier version, or
 * damaged, is removed.  what names it in warnings. */
static unsigned char *read_hints(const char *dir, const char *path,
                                 const char *what, int secret, size_t *len)
{
    unsigned char *b;

    b = cli_private_read(dir, path, what, secret, CACHE_SIZE_MAX, len);
    if (b && !xmp_hints_current(b, *len)) {
        /* an earlier version's, or damaged: gone, not just unused */
        cli_cache_free(b, *len);
        *len = 0;
        cli_private_shred(path, what);
        return NULL;
    }
    return b;
}

void *cli_cache_load(const struct cli *c, size_t *len)
{
    char dir[4096], path[4600];
    unsigned char *b;

    *len = 0;
    if (c->o.no_cache || c->o.insecure)
        return NULL;
    /* this process's own last login: the TLS session too */
    if (c->hints_mem.pw) {
        if (!(b = malloc(c->hints_mem.len)))
            return NULL;
        memcpy(b, c->hints_mem.pw, c->hints_mem.len);
        *len = c->hints_mem.len;
        return b;
    }
    /* the last login's TLS 1.3 ticket, with its features */
    if (ticket_paths(c, dir, sizeof dir, path, sizeof path) == 0 &&
        (b = read_hints(dir, path, "the TLS ticket", 1, len)))
        return b;
    if (cache_paths(c, dir, sizeof dir, path, sizeof path) < 0)
        return NULL;
    b = read_hints(dir, path, "the cache", 0, len);
    cache_sweep(dir);
    return b;
}

void cli_cache_free(void *blob, size_t len)
{
    cli_private_free(blob, len);
}

/* The trust in the server that the command line and the files add to
 * what the library checks itself (xmp_session_opts.hints_context): the
 * pins asked for, the keys known for the domain (--tofu), the client
 * certificate.  Hints made under another context are not used.  Caller
 * frees; NULL when there is none to give (out of memory). */
char *cli_cache_context(const struct cli *c)
{
    char *known = NULL, *ctx;
    struct xmp_jid j;

    if (c->o.tofu && c->o.jid && xmp_jid_parse(c->o.jid, &j, NULL) == XMP_OK) {
        known = cli_known_entries(j.domain);
        xmp_jid_clear(&j);
    }

    if (asprintf(&ctx, "pin %s\ntofu %s\nclient-cert %s\n",
                 c->o.pin ? c->o.pin : "-",
                 c->o.tofu ? (known ? known : "?") : "off",
                 c->o.client_cert ? c->o.client_cert : "-") < 0)
        ctx = NULL;
    free(known);
    return ctx;
}

void cli_cache_forget(struct cli *c)
{
    cli_secret_wipe(&c->hints_mem);
}

void cli_cache_note_login(struct cli *c)
{
    char dir[4096], path[4600];
    const void *h;
    size_t len;

    if (!c->session || c->o.no_cache || c->o.insecure)
        return;
    /* in memory, with the TLS session, for this process only */
    cli_secret_wipe(&c->hints_mem);
    if ((h = xmp_session_hints(c->session, XMP_HINTS_MEMORY, &len)) &&
        (c->hints_mem.pw = malloc(len))) {
        memcpy(c->hints_mem.pw, h, len);
        c->hints_mem.len = len;
    }
    /* the TLS 1.3 ticket, or none: an older one would only cost a
     * handshake, but it is a secret nobody needs any more */
    if (ticket_paths(c, dir, sizeof dir, path, sizeof path) == 0) {
        if ((h = xmp_session_hints(c->session, XMP_HINTS_TICKET, &len)))
            (void)cli_private_write(dir, path, h, len, "the TLS ticket");
        else if (access(path, F_OK) == 0)
            cli_private_shred(path, "the TLS ticket");
    }
    if (!(h = xmp_session_hints(c->session, XMP_HINTS_DISK, &len)) ||
        cache_paths(c, dir, sizeof dir, path, sizeof path) < 0)
        return;
    (void)cli_private_write(dir, path, h, len, "the cache");
    cache_sweep(dir);
}
