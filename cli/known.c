/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * known.c - trust on first use (--tofu): the server keys seen before, in
 * $XDG_DATA_HOME/xmpctl/known_servers, one per line as ssh's known_hosts
 * keeps them:
 *
 *     example.org RSA sha256//BASE64
 *
 * (the XMPP domain, the key type, the SHA-256 pin of the key's
 * SubjectPublicKeyInfo).  A domain may have several lines (one per
 * server behind it): a key matching any of them is known.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define KNOWN_FILE "known_servers"
#define KNOWN_LINE_MAX 1024
/* a file this big is not ours: refuse rather than read it into memory */
#define KNOWN_SIZE_MAX (4 * 1024 * 1024)

/* "$XDG_DATA_HOME/xmpctl" (default ~/.local/share/xmpctl); caller frees. */
static char *known_dir(void)
{
    const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char *p = NULL;

    if (x && *x == '/') {
        if (asprintf(&p, "%s/xmpctl", x) < 0)
            p = NULL;
    } else if (home && *home) {
        if (asprintf(&p, "%s/.local/share/xmpctl", home) < 0)
            p = NULL;
    }
    return p;
}

/* mkdir -p, new directories 0700: the file says whom we trust. */
static int make_dirs(char *path)
{
    char *s;

    for (s = path + 1; ; s++) {
        if (*s != '/' && *s)
            continue;
        char c = *s;

        *s = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
            *s = c;
            return -1;
        }
        *s = c;
        if (!c)
            return 0;
    }
}

/* Read the whole file (NULL with *len 0 when it does not exist).
 * Returns 0 or -1 with errno set. */
static int slurp(const char *path, char **out, size_t *len)
{
    struct stat st;
    char *b;
    FILE *f;
    size_t n;

    *out = NULL;
    *len = 0;
    if (!(f = fopen(path, "r")))
        return errno == ENOENT ? 0 : -1;
    if (fstat(fileno(f), &st) < 0) {
        fclose(f);
        return -1;
    }
    if (st.st_size > KNOWN_SIZE_MAX) {
        fclose(f);
        errno = EFBIG;
        return -1;
    }
    if (!(b = malloc((size_t)st.st_size + 1))) {
        fclose(f);
        return -1;
    }
    n = fread(b, 1, (size_t)st.st_size, f);
    if (ferror(f)) {
        free(b);
        fclose(f);
        errno = EIO;
        return -1;
    }
    fclose(f);
    b[n] = '\0';
    *out = b;
    *len = n;
    return 0;
}

/* Replace path with old[0..len) and one more line, atomically (a
 * reader sees the old file or the new one, never half of it). */
static int add_line(const char *dir, const char *path, const char *old,
                    size_t len, const char *line)
{
    char *tmp = NULL;
    FILE *f = NULL;
    int fd = -1, ok = 0;

    if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, KNOWN_FILE) < 0)
        return -1;
    if ((fd = mkstemp(tmp)) < 0)
        goto out;
    if (fchmod(fd, 0600) < 0 || !(f = fdopen(fd, "w")))
        goto out;
    fd = -1;
    if ((len && fwrite(old, 1, len, f) != len) ||
        (len && old[len - 1] != '\n' && fputc('\n', f) == EOF) ||
        fputs(line, f) == EOF || fflush(f) != 0 || fsync(fileno(f)) < 0)
        goto out;
    if (fclose(f) != 0) {
        f = NULL;
        goto out;
    }
    f = NULL;
    if (rename(tmp, path) < 0)
        goto out;
    ok = 1;
out:
    if (f)
        fclose(f);
    if (fd >= 0)
        close(fd);
    if (!ok) {
        int e = errno;

        unlink(tmp);
        errno = e;
    }
    free(tmp);
    return ok ? 0 : -1;
}

enum xmp_err cli_known_key(void *ud, const char *domain, const char *key_type,
                           const char *pin, struct xmp_error *err)
{
    char *dir = NULL, *path = NULL, *data = NULL, *line = NULL;
    char *p, *nl, known[128] = "";
    size_t len, lineno = 0, known_line = 0;
    struct stat st;
    enum xmp_err rc = XMP_OK;

    (void)ud;
    if (!pin || !*pin)
        return xmp_error_set(err, XMP_ETLS,
                             "no server key to check for %s", domain);
    if (!(dir = known_dir()))
        return xmp_error_set(err, XMP_EIO,
                             "--tofu: neither XDG_DATA_HOME nor HOME is "
                             "set");
    if (asprintf(&path, "%s/%s", dir, KNOWN_FILE) < 0) {
        path = NULL;
        rc = xmp_error_set(err, XMP_ENOMEM, "out of memory");
        goto out;
    }
    /* as for the config file: whoever can change it picks our keys */
    if (stat(path, &st) == 0 &&
        ((st.st_uid != geteuid() && st.st_uid != 0) ||
         (st.st_mode & (S_IWGRP | S_IWOTH)))) {
        rc = xmp_error_set(err, XMP_EIO,
                           "%s can be changed by other users; refusing to "
                           "use it (run 'chmod go-w %s')",
                           path, path);
        goto out;
    }
    if (slurp(path, &data, &len) < 0) {
        rc = xmp_error_set(err, XMP_EIO, "cannot read %s: %s", path,
                           strerror(errno));
        goto out;
    }
    for (p = data; p && *p; p = nl) {
        char *f1, *f2, *f3, *save = NULL;

        lineno++;
        if ((nl = strchr(p, '\n')))
            *nl++ = '\0';
        if (*p == '#')
            continue;
        f1 = strtok_r(p, " \t\r", &save);
        f2 = f1 ? strtok_r(NULL, " \t\r", &save) : NULL;
        f3 = f2 ? strtok_r(NULL, " \t\r", &save) : NULL;
        if (!f1 || strcasecmp(f1, domain) != 0)
            continue;
        if (!f3) {
            /* a two-field line: the key type left out */
            f3 = f2;
        }
        if (f3 && strcmp(f3, pin) == 0)
            goto out; /* known */
        if (!known_line && f3) {
            known_line = lineno;
            snprintf(known, sizeof known, "%s", f3);
        }
    }
    if (known_line) {
        rc = xmp_error_set(err, XMP_ETLS,
                           "the server key of %s has changed: %s line %zu "
                           "has %s, the server now shows %s; if the change "
                           "is expected, delete that line",
                           domain, path, known_line, known, pin);
        goto out;
    }
    /* first contact: remember this key */
    if (make_dirs(dir) < 0) {
        rc = xmp_error_set(err, XMP_EIO, "cannot create %s: %s", dir,
                           strerror(errno));
        goto out;
    }
    if (asprintf(&line, "%s %s %s\n", domain,
                 key_type && *key_type ? key_type : "-", pin) < 0) {
        line = NULL;
        rc = xmp_error_set(err, XMP_ENOMEM, "out of memory");
        goto out;
    }
    /* re-read: the scan above cut the lines apart */
    free(data);
    data = NULL;
    if (slurp(path, &data, &len) < 0 ||
        add_line(dir, path, data, len, line) < 0) {
        rc = xmp_error_set(err, XMP_EIO, "cannot update %s: %s", path,
                           strerror(errno));
        goto out;
    }
    cli_warn("%s: first contact, recorded its key %s in %s", domain, pin,
             path);
out:
    free(line);
    free(data);
    free(path);
    free(dir);
    return rc;
}

char *cli_known_entries(const char *domain)
{
    char *dir = NULL, *path = NULL, *data = NULL, *out = NULL, *l, *nl;
    size_t len, used = 0, dlen = strlen(domain);

    if (!(dir = known_dir()) || asprintf(&path, "%s/%s", dir, KNOWN_FILE) < 0)
        path = NULL;
    if (!path || slurp(path, &data, &len) < 0 || !(out = malloc(len + 1)))
        goto done;
    for (l = data; l && *l; l = nl) {
        if ((nl = strchr(l, '\n')))
            *nl++ = '\0';
        if (strncasecmp(l, domain, dlen) == 0 && l[dlen] == ' ') {
            size_t n = strlen(l + dlen + 1);

            memcpy(out + used, l + dlen + 1, n);
            used += n;
            out[used++] = '\n';
        }
    }
    out[used] = '\0';
done:
    free(dir);
    free(path);
    free(data);
    return out;
}

