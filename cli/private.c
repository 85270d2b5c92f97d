/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * private.c - the files xmpctl keeps for its user alone: the login cache
 * (cache.c), the TLS ticket (cache.c), the FAST token and the user-agent
 * id (fast.c).  One way for all of them: directories made 0700 as
 * needed, files 0600, written whole (a new file, synced, renamed over
 * the old one), and a file or directory that others may change (or, for
 * a secret, read) is not used: a warning says so and how to fix it.  A
 * file that must go is overwritten before it is unlinked.
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

char *cli_private_name(const char *jid)
{
    struct xmp_jid j;
    char *bare, *p;

    if (!jid || xmp_jid_parse(jid, &j, NULL) != XMP_OK)
        return NULL;
    bare = xmp_jid_bare(&j);
    xmp_jid_clear(&j);
    if (bare && (bare[0] == '.' || strchr(bare, '/'))) {
        free(bare);
        return NULL;
    }
    for (p = bare; p && *p; p++)
        *p = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
    return bare;
}

int cli_private_owned(const struct stat *st)
{
    return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

int cli_private_mkdir(char *dir)
{
    /* mkdir -p, the ones we make private */
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;

            *p = '\0';
            if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                cli_warn("cannot make %s: %s", dir, strerror(errno));
                *p = saved;
                return -1;
            }
            *p = saved;
            if (!saved)
                break;
        }
    }
    return 0;
}

void cli_private_shred(const char *path, const char *what)
{
    char zero[4096] = {0};
    struct stat st;
    off_t left;
    int fd;

    if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            st.st_uid == geteuid()) {
            for (left = st.st_size; left > 0;) {
                ssize_t w = write(fd, zero, left < (off_t)sizeof zero
                                                ? (size_t)left
                                                : sizeof zero);
                if (w <= 0)
                    break;
                left -= w;
            }
            (void)fsync(fd);
        }
        close(fd);
    }
    if (unlink(path) < 0 && errno != ENOENT)
        cli_warn("cannot remove %s %s: %s", what, path, strerror(errno));
}

unsigned char *cli_private_slurp(int fd, struct stat *st, size_t max,
                                 size_t *len)
{
    unsigned char *b;
    ssize_t n;

    *len = 0;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_size <= 0 ||
        (size_t)st->st_size > max || !(b = malloc((size_t)st->st_size)))
        return NULL;
    n = read(fd, b, (size_t)st->st_size);
    if (n != (ssize_t)st->st_size) {
        explicit_bzero(b, (size_t)st->st_size);
        free(b);
        return NULL;
    }
    *len = (size_t)n;
    return b;
}

void cli_private_free(void *b, size_t len)
{
    if (b)
        explicit_bzero(b, len);
    free(b);
}

unsigned char *cli_private_read(const char *dir, const char *path,
                                const char *what, int secret, size_t max,
                                size_t *len)
{
    struct stat st, dst;
    unsigned char *b;
    int fd;

    *len = 0;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        if (errno != ENOENT)
            cli_warn("cannot read %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        stat(dir, &dst) < 0) {
        close(fd);
        return NULL;
    }
    if (!cli_private_owned(&st) || !cli_private_owned(&dst) ||
        (secret && (st.st_mode & (S_IRGRP | S_IROTH)))) {
        cli_warn("ignoring %s %s: others may %s it; run "
                 "'chmod 700 %s; chmod 600 %s'",
                 what, path,
                 cli_private_owned(&st) && cli_private_owned(&dst)
                     ? "read"
                     : "change",
                 dir, path);
        close(fd);
        return NULL;
    }
    b = cli_private_slurp(fd, &st, max, len);
    close(fd);
    return b;
}

int cli_private_write(char *dir, const char *path, const void *buf,
                      size_t len, const char *what)
{
    char tmp[4700];
    int fd, ok;

    if (cli_private_mkdir(dir) < 0)
        return -1;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.new.XXXXXX", dir) >=
        sizeof tmp) {
        cli_warn("cannot write %s in %s: %s", what, dir,
                 strerror(ENAMETOOLONG));
        return -1;
    }
    if ((fd = mkstemp(tmp)) < 0) {
        cli_warn("cannot write %s in %s: %s", what, dir, strerror(errno));
        return -1;
    }
    ok = fchmod(fd, 0600) == 0 && write(fd, buf, len) == (ssize_t)len &&
         fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) < 0) {
        cli_warn("cannot write %s %s: %s", what, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
