/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cache.c - what a login learnt that makes the next one faster
 * (xmp_session_hints: the server's features, its TLS session, the SCRAM
 * salted password), one file per account:
 *
 *     $XDG_CACHE_HOME/xmpctl/alice@example.org
 *
 * (default ~/.cache).  The salted password logs in to that server as the
 * password does: the directory is 0700, the files 0600, written whole
 * and renamed into place, and a file or directory others may change is
 * not read (a warning says so).  Losing the cache costs only time.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

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

/* "$XDG_CACHE_HOME/xmpctl" (default ~/.cache/xmpctl) into dir, and the
 * account's file into path; -1 when there is no home or no account. */
static int cache_paths(const struct cli *c, char *dir, size_t dlen,
                       char *path, size_t plen)
{
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    struct xmp_jid j;
    char *bare = NULL, *p;
    int n, ok;

    if (!c->o.jid || xmp_jid_parse(c->o.jid, &j, NULL) != XMP_OK)
        return -1;
    bare = xmp_jid_bare(&j);
    xmp_jid_clear(&j);
    /* RFC 7622: neither part holds a '/'; the name is the file name */
    ok = bare && bare[0] != '.' && !strchr(bare, '/');
    for (p = bare; ok && *p; p++)
        *p = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
    if (!ok) {
        free(bare);
        return -1;
    }
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

/* Ours, and nobody else may write it. */
static int private(const struct stat *st)
{
    return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

void *cli_cache_load(const struct cli *c, size_t *len)
{
    char dir[4096], path[4600];
    struct stat st, dst;
    unsigned char *b;
    ssize_t n;
    int fd;

    *len = 0;
    if (c->o.no_cache || c->o.insecure ||
        cache_paths(c, dir, sizeof dir, path, sizeof path) < 0)
        return NULL;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        if (errno != ENOENT)
            cli_warn("cannot read the cache %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        stat(dir, &dst) < 0) {
        close(fd);
        return NULL;
    }
    if (!private(&st) || !private(&dst)) {
        cli_warn("ignoring the cache %s: others may change it; run "
                 "'chmod 700 %s; chmod 600 %s'",
                 path, dir, path);
        close(fd);
        return NULL;
    }
    if (st.st_size <= 0 || st.st_size > CACHE_SIZE_MAX ||
        !(b = malloc((size_t)st.st_size))) {
        close(fd);
        return NULL;
    }
    n = read(fd, b, (size_t)st.st_size);
    close(fd);
    if (n != (ssize_t)st.st_size) {
        free(b);
        return NULL;
    }
    *len = (size_t)n;
    return b;
}

void cli_cache_free(void *blob, size_t len)
{
    if (blob)
        explicit_bzero(blob, len);
    free(blob);
}

void cli_cache_note_login(struct cli *c)
{
    char dir[4096], path[4600], tmp[4700];
    const void *h;
    size_t len;
    int fd, ok;

    if (!c->session || c->o.no_cache || c->o.insecure ||
        !(h = xmp_session_hints(c->session, &len)) ||
        cache_paths(c, dir, sizeof dir, path, sizeof path) < 0)
        return;
    /* mkdir -p, the last one private */
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;

            *p = '\0';
            if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                cli_warn("cannot make %s: %s", dir, strerror(errno));
                return;
            }
            *p = saved;
            if (!saved)
                break;
        }
    }
    snprintf(tmp, sizeof tmp, "%s/.cache.XXXXXX", dir);
    if ((fd = mkstemp(tmp)) < 0) {
        cli_warn("cannot write the cache in %s: %s", dir, strerror(errno));
        return;
    }
    ok = fchmod(fd, 0600) == 0 && write(fd, h, len) == (ssize_t)len &&
         fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) < 0) {
        cli_warn("cannot write the cache %s: %s", path, strerror(errno));
        unlink(tmp);
    }
}
