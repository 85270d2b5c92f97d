/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * downgrade.c - accounts that logged in with channel binding (SCRAM-*-PLUS)
 * once, remembered in $XDG_DATA_HOME/xmpctl/channel_binding, a line for
 * each account and binding type ("alice@example.org tls-exporter"; a line
 * of a bare JID alone, as earlier versions wrote, is a binding of a type
 * not recorded), so that a later offer without it is refused: a man in
 * the middle who holds a certificate for the domain can strip -PLUS, or
 * the list of types, from the offer, but cannot make us forget.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define CB_FILE "channel_binding"
#define CB_LINE_MAX 3072 /* a JID is at most 3071 bytes (RFC 7622 §3.1) */

int cli_data_dir(char *dir, size_t len, int create)
{
    const char *x = getenv("XDG_DATA_HOME"), *h = getenv("HOME");
    size_t n;

    if (x && x[0] == '/')
        n = (size_t)snprintf(dir, len, "%s/xmpctl", x);
    else if (h && h[0] == '/')
        n = (size_t)snprintf(dir, len, "%s/.local/share/xmpctl", h);
    else
        return -1;
    if (n >= len)
        return -1;
    if (!create)
        return 0;
    /* mkdir -p, private where we create */
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;

            *p = '\0';
            if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -1;
            *p = saved;
            if (!saved)
                break;
        }
    }
    return 0;
}

/* The bare JID of jid, as the file keeps it; NULL on error (said
 * unless quiet). */
static char *account_of(const char *jid, int quiet)
{
    struct xmp_jid j;
    struct xmp_error err;
    char *bare;

    if (xmp_jid_parse(jid, &j, &err) != XMP_OK) {
        if (!quiet)
            cli_error("%s", err.msg);
        return NULL;
    }
    bare = xmp_jid_bare(&j);
    xmp_jid_clear(&j);
    if (!bare)
        cli_error("out of memory");
    return bare;
}

/* What the open file f says of bare: 0 nothing, XMP_CB_USED, or
 * XMP_CB_USED_EXPORTER when a line names tls-exporter; with type, only
 * whether a line records exactly that type (1 or 0).  JIDs compare
 * case-insensitively: their localpart and domain do (RFC 7622). */
static int listed(FILE *f, const char *bare, const char *type)
{
    char line[CB_LINE_MAX + 2];
    size_t n, b = strlen(bare);
    int found = 0;
    const char *t;

    while (fgets(line, sizeof line, f)) {
        n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (strncasecmp(line, bare, b) != 0 ||
            (line[b] != '\0' && line[b] != ' '))
            continue;
        t = line[b] ? line + b + 1 : "";
        if (type) {
            if (strcmp(t, type) == 0)
                return 1;
            continue;
        }
        if (strcmp(t, "tls-exporter") == 0)
            found = XMP_CB_USED_EXPORTER;
        else if (!found)
            found = XMP_CB_USED;
    }
    return found;
}

int cli_cb_remembered(const char *jid, int *yes)
{
    char dir[4096], path[4200];
    struct stat st;
    char *bare;
    FILE *f;
    int rc = EXIT_OK;

    *yes = 0;
    if (cli_data_dir(dir, sizeof dir, 0) < 0)
        return EXIT_OK;
    snprintf(path, sizeof path, "%s/" CB_FILE, dir);
    if (!(f = fopen(path, "re"))) {
        if (errno == ENOENT)
            return EXIT_OK;
        cli_error("cannot read %s: %s", path, strerror(errno));
        return EXIT_CONFIG;
    }
    /* whoever may write it may make us forget */
    if (fstat(fileno(f), &st) < 0 || st.st_uid != geteuid() ||
        (st.st_mode & (S_IWGRP | S_IWOTH))) {
        cli_error("%s may be changed by others; run 'chmod 600 %s'", path,
                  path);
        fclose(f);
        return EXIT_CONFIG;
    }
    /* a bad JID is for the session to report, as always */
    if (!(bare = account_of(jid, 1))) {
        fclose(f);
        return EXIT_OK;
    }
    *yes = listed(f, bare, NULL);
    if (ferror(f)) {
        cli_error("cannot read %s: %s", path, strerror(errno));
        rc = EXIT_IOERR;
    }
    free(bare);
    fclose(f);
    return rc;
}

/* Copy the old file (if any) and add bare, into a new file renamed over
 * it: readers see the old list or the new one, never half of one. */
int cli_cb_remember(const char *jid, const char *type)
{
    char dir[4096], path[4200], tmp[4200], buf[4096];
    FILE *old, *f = NULL;
    char *bare;
    size_t n;
    int fd, ok = 1, found;

    if (cli_data_dir(dir, sizeof dir, 1) < 0) {
        cli_warn("no $XDG_DATA_HOME or $HOME: cannot remember that this "
                 "account uses channel binding");
        return EXIT_OK;
    }
    if (!(bare = account_of(jid, 0)))
        return EXIT_USAGE;
    snprintf(path, sizeof path, "%s/" CB_FILE, dir);
    if ((old = fopen(path, "re"))) {
        found = listed(old, bare, type);
        if (found) {
            fclose(old);
            free(bare);
            return EXIT_OK;
        }
        rewind(old);
    } else if (errno != ENOENT) {
        /* never replace a list we could not read with a shorter one */
        cli_warn("cannot read %s: %s", path, strerror(errno));
        free(bare);
        return EXIT_OK;
    }
    snprintf(tmp, sizeof tmp, "%s/." CB_FILE ".XXXXXX", dir);
    if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, 0600) < 0 ||
        !(f = fdopen(fd, "w"))) {
        if (fd >= 0)
            close(fd);
        ok = 0;
    }
    while (ok && old && (n = fread(buf, 1, sizeof buf, old)) > 0) {
        ok = fwrite(buf, 1, n, f) == n;
        /* a last line without its newline must not swallow ours */
        if (ok && n < sizeof buf && feof(old) && buf[n - 1] != '\n')
            ok = fputc('\n', f) != EOF;
    }
    if (ok && old && ferror(old))
        ok = 0;
    if (ok)
        ok = fprintf(f, "%s %s\n", bare, type) > 0 && fflush(f) == 0 &&
             fsync(fileno(f)) == 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (ok && rename(tmp, path) < 0)
        ok = 0;
    if (!ok) {
        cli_warn("cannot record in %s that %s uses channel binding: %s", path,
                 bare, strerror(errno));
        unlink(tmp);
    }
    if (old)
        fclose(old);
    free(bare);
    return EXIT_OK;
}

void cli_cb_note_login(struct cli *c)
{
    struct xmp_session_info i;

    if (!c->session)
        return;
    xmp_session_get_info(c->session, &i);
    if (i.sasl_cb && c->o.jid)
        cli_cb_remember(c->o.jid, i.sasl_cb);
}
