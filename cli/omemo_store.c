/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * omemo_store.c - where the account's OMEMO device lives:
 *
 *     $XDG_DATA_HOME/xmpctl/omemo/alice@example.org/   (~/.local/share)
 *
 * one file per blob of the protocol layer's store (struct
 * xmp_omemo_store: the identity key, the pre-keys, the sessions, the
 * contacts' identity keys and trust), named as the layer names it.  They
 * are secrets: kept as private.c keeps everything (directory 0700, files
 * 0600, written whole and renamed), and a file others may read or change
 * is not used.  Nothing of them goes to the trace or the command line.
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

/* the largest blob: a session with many skipped message keys stays far
 * below */
#define OMEMO_BLOB_MAX (1024 * 1024)
#define WHAT "the OMEMO store"

struct omemo_dir {
    char dir[4096];
};

/* Blob names are the layer's: [a-z0-9.-], no leading dot. */
static int good_name(const char *name)
{
    size_t i;

    if (!name[0] || name[0] == '.' || strlen(name) >= XMP_OMEMO_NAME_MAX)
        return 0;
    for (i = 0; name[i]; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') ||
              (name[i] >= '0' && name[i] <= '9') || name[i] == '.' ||
              name[i] == '-'))
            return 0;
    return 1;
}

static int blob_path(const struct omemo_dir *d, const char *name,
                     char *path, size_t len)
{
    return good_name(name) &&
           (size_t)snprintf(path, len, "%s/%s", d->dir, name) < len;
}

static enum xmp_err st_get(void *ud, const char *name, unsigned char **data,
                           size_t *len)
{
    struct omemo_dir *d = ud;
    char path[4200];
    struct stat st;
    unsigned char *b;

    *data = NULL;
    *len = 0;
    if (!blob_path(d, name, path, sizeof path))
        return XMP_EUSAGE;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? XMP_OK : XMP_EIO;
    if (S_ISREG(st.st_mode) && st.st_size == 0) {
        /* an empty blob is a blob */
        return (*data = malloc(1)) ? XMP_OK : XMP_ENOMEM;
    }
    if (!(b = cli_private_read(d->dir, path, WHAT, 1, OMEMO_BLOB_MAX, len)))
        return XMP_EIO;
    *data = b;
    return XMP_OK;
}

static enum xmp_err st_put(void *ud, const char *name,
                           const unsigned char *data, size_t len)
{
    struct omemo_dir *d = ud;
    char path[4200];

    if (!blob_path(d, name, path, sizeof path))
        return XMP_EUSAGE;
    return cli_private_write(d->dir, path, data, len, WHAT) == 0 ? XMP_OK
                                                                  : XMP_EIO;
}

static enum xmp_err st_del(void *ud, const char *name)
{
    struct omemo_dir *d = ud;
    char path[4200];
    struct stat st;

    if (!blob_path(d, name, path, sizeof path))
        return XMP_EUSAGE;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? XMP_OK : XMP_EIO;
    cli_private_shred(path, WHAT);
    return lstat(path, &st) < 0 && errno == ENOENT ? XMP_OK : XMP_EIO;
}

static enum xmp_err st_list(void *ud, const char *prefix,
                            void (*each)(void *arg, const char *name),
                            void *arg)
{
    struct omemo_dir *d = ud;
    size_t plen = strlen(prefix);
    struct dirent *e;
    DIR *dir;

    if (!(dir = opendir(d->dir)))
        return errno == ENOENT ? XMP_OK : XMP_EIO;
    while ((e = readdir(dir)))
        if (good_name(e->d_name) && strncmp(e->d_name, prefix, plen) == 0)
            each(arg, e->d_name);
    closedir(dir);
    return XMP_OK;
}

int cli_omemo_store_open(const char *jid, struct xmp_omemo_store *st)
{
    struct omemo_dir *d;
    char *bare = cli_private_name(jid);
    size_t n;
    struct stat sb;

    memset(st, 0, sizeof *st);
    if (!bare || !(d = calloc(1, sizeof *d))) {
        free(bare);
        return -1;
    }
    if (cli_data_dir(d->dir, sizeof d->dir, 0) < 0 ||
        (n = strlen(d->dir)) + strlen("/omemo/") + strlen(bare) >=
            sizeof d->dir) {
        cli_error("no place for %s: set XDG_DATA_HOME or HOME", WHAT);
        goto fail;
    }
    snprintf(d->dir + n, sizeof d->dir - n, "/omemo/%s", bare);
    if (cli_private_mkdir(d->dir) < 0)
        goto fail;
    if (stat(d->dir, &sb) < 0 || !cli_private_owned(&sb) ||
        (sb.st_mode & (S_IRWXG | S_IRWXO))) {
        cli_error("%s %s is open to others: run 'chmod 700 %s'", WHAT, d->dir,
                  d->dir);
        goto fail;
    }
    free(bare);
    st->ud = d;
    st->get = st_get;
    st->put = st_put;
    st->del = st_del;
    st->list = st_list;
    return 0;
fail:
    free(bare);
    free(d);
    return -1;
}

void cli_omemo_store_close(struct xmp_omemo_store *st)
{
    free(st->ud);
    memset(st, 0, sizeof *st);
}

int cli_omemo_open(const char *jid, struct cli_omemo **out)
{
    struct cli_omemo *o;
    struct xmp_error err;

    *out = NULL;
    if (!(o = calloc(1, sizeof *o)) || !(o->jid = cli_private_name(jid))) {
        free(o);
        return EXIT_OSERR;
    }
    if (cli_omemo_store_open(o->jid, &o->st) < 0) {
        cli_omemo_close(o);
        return EXIT_IOERR;
    }
    if (xmp_omemo_new(&o->st, o->jid, 0, &o->om, &err) != XMP_OK) {
        cli_error("cannot open the OMEMO device of %s: %s", o->jid, err.msg);
        cli_omemo_close(o);
        return cli_exit_status(err.code);
    }
    *out = o;
    return EXIT_OK;
}

void cli_omemo_close(struct cli_omemo *o)
{
    if (!o)
        return;
    xmp_omemo_free(o->om);
    cli_omemo_store_close(&o->st);
    free(o->jid);
    free(o);
}
