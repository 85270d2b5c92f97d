/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * config.c - the config file: INI-style account sections.
 *
 *   [alice]
 *   jid = alice@example.org
 *   password_command = pass show xmpp/alice
 *
 * Which section: --account NAME; else, with --jid, the section whose jid
 * is that JID; else the first section.  --account NAME with a --jid that
 * is not NAME's own jid is refused, so one account's password is never
 * tried on another.  Command-line options win over the file.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Longest line we accept in the config file. */
#define CONFIG_LINE_MAX 4096

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static char *default_path(void)
{
    const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
    char *p = NULL;
    size_t n;

    if (x && *x) {
        n = strlen(x) + sizeof "/xmpctl/config";
        if ((p = malloc(n)))
            snprintf(p, n, "%s/xmpctl/config", x);
    } else if (h && *h) {
        n = strlen(h) + sizeof "/.config/xmpctl/config";
        if ((p = malloc(n)))
            snprintf(p, n, "%s/.config/xmpctl/config", h);
    }
    return p;
}

/* Compare a config jid with the --jid value, ignoring any resource. */
static int same_account(const char *a, const char *b)
{
    size_t la = strcspn(a, "/"), lb = strcspn(b, "/");

    return la == lb && strncasecmp(a, b, la) == 0;
}

struct section {
    char name[128];
    int line;
};

static int set_if_unset(char **dst, const char *v)
{
    if (*dst)
        return 0;
    if (!(*dst = strdup(v))) {
        cli_error("out of memory");
        return EXIT_OSERR;
    }
    return 0;
}

int cli_tls_version(const char *arg)
{
    if (strcmp(arg, "1.2") == 0)
        return 12;
    if (strcmp(arg, "1.3") == 0)
        return xmp_tls_has_13() ? 13 : -2;
    return -1;
}

/* tls_min (a valid value), unless --tls-min was given. */
static int set_tls_min(struct cli_opts *o, const char *path, int n,
                       const char *v)
{
    if (o->tls_min)
        return 0;
    if ((o->tls_min = cli_tls_version(v)) < 0) {
        o->tls_min = 0;
        cli_error("%s:%d: tls_min 1.3: this build of xmpctl has no TLS 1.3 "
                  "(%s)",
                  path, n, xmp_tls_library());
        return EXIT_CONFIG;
    }
    return 0;
}

/* A proxy line: a valid URL, and one with a password only in a file
 * others cannot read (the value is never quoted: it may hold one). */
static int check_proxy(const char *path, int n, const struct stat *st,
                       const char *v)
{
    struct xmp_error err;
    int password;

    if (xmp_proxy_check(v, &password, &err) != XMP_OK) {
        cli_error("%s:%d: %s", path, n, err.msg);
        return EXIT_CONFIG;
    }
    if (password && (st->st_mode & (S_IRWXG | S_IRWXO))) {
        cli_error("%s holds a proxy password and others can read it; run "
                  "'chmod 600 %s'",
                  path, path);
        return EXIT_CONFIG;
    }
    return 0;
}

/* Pass 1 picks the section, pass 2 reads it. */
static int parse(FILE *f, const char *path, const struct stat *st,
                 struct cli_opts *o, const char *want, int apply,
                 char *picked, size_t picked_len)
{
    char line[CONFIG_LINE_MAX], cur[128] = "", *l, *k, *v, *eq;
    int n = 0, rc = 0, in_wanted = 0, nsections = 0;
    /* --jid as given, not as a jid line of this section sets it */
    const char *given_jid = o->jid;

    rewind(f);
    for (;;) {
        /* The file may hold a password: leave no line behind. */
        explicit_bzero(line, sizeof line);
        if (rc != 0 || !fgets(line, sizeof line, f))
            break;
        n++;
        if (!strchr(line, '\n') && !feof(f)) {
            cli_error("%s:%d: line longer than %d bytes", path, n,
                      CONFIG_LINE_MAX - 2);
            rc = EXIT_CONFIG;
            break;
        }
        l = trim(line);
        if (!*l || *l == '#')
            continue;
        if (*l == '[') {
            char *e = strchr(l, ']');

            /* Malformed lines are not echoed: one may hold a password,
             * and errors end up in logs and mail. */
            if (!e || e[1] || e == l + 1 || (size_t)(e - l) >= sizeof cur) {
                cli_error("%s:%d: bad section header", path, n);
                rc = EXIT_CONFIG;
                break;
            }
            *e = '\0';
            snprintf(cur, sizeof cur, "%s", trim(l + 1));
            nsections++;
            in_wanted = want && strcmp(cur, want) == 0;
            if (in_wanted && apply)
                snprintf(picked, picked_len, "%s", cur);
            continue;
        }
        if (!(eq = strchr(l, '='))) {
            cli_error("%s:%d: expected 'key = value'", path, n);
            rc = EXIT_CONFIG;
            break;
        }
        *eq = '\0';
        k = trim(l);
        v = trim(eq + 1);
        if (!*cur) {
            cli_error("%s:%d: '%s' outside an account section", path, n, k);
            rc = EXIT_CONFIG;
            break;
        }
        if (strcmp(k, "insecure") == 0) {
            cli_error("%s:%d: 'insecure' is not allowed in the config file; "
                      "use --insecure on the command line, for lab use only",
                      path, n);
            rc = EXIT_CONFIG;
            break;
        }
        if (strcmp(k, "password") == 0 &&
            (st->st_mode & (S_IRWXG | S_IRWXO))) {
            cli_error("%s holds a password and others can read it; run "
                      "'chmod 600 %s'",
                      path, path);
            rc = EXIT_CONFIG;
            break;
        }
        if (strcmp(k, "jid") && strcmp(k, "server") && strcmp(k, "cafile") &&
            strcmp(k, "resource") && strcmp(k, "password_command") &&
            strcmp(k, "password") && strcmp(k, "pin") &&
            strcmp(k, "client_cert") && strcmp(k, "client_key") &&
            strcmp(k, "allow_downgrade") && strcmp(k, "cache") &&
            strcmp(k, "tls_min") && strcmp(k, "sasl2") &&
            strcmp(k, "fast") && strcmp(k, "fast_unbound") &&
            strcmp(k, "proxy") && strcmp(k, "queue") && strcmp(k, "omemo")) {
            cli_error("%s:%d: unknown key '%s'", path, n, k);
            rc = EXIT_CONFIG;
            break;
        }
        if ((strcmp(k, "allow_downgrade") == 0 || strcmp(k, "cache") == 0 ||
             strcmp(k, "sasl2") == 0 || strcmp(k, "fast") == 0 ||
             strcmp(k, "fast_unbound") == 0 || strcmp(k, "queue") == 0 ||
             strcmp(k, "omemo") == 0) &&
            strcmp(v, "yes") && strcmp(v, "no")) {
            cli_error("%s:%d: '%s' is 'yes' or 'no', not '%s'", path, n, k,
                      v);
            rc = EXIT_CONFIG;
            break;
        }
        if (strcmp(k, "proxy") == 0 &&
            (rc = check_proxy(path, n, st, v)) != 0)
            break;
        if (strcmp(k, "tls_min") == 0 && cli_tls_version(v) == -1) {
            cli_error("%s:%d: 'tls_min' is '1.2' or '1.3', not '%s'", path, n,
                      v);
            rc = EXIT_CONFIG;
            break;
        }
        if (!apply) {
            /* Choosing: by --jid, or the first section. */
            if (!*picked && ((!o->jid && nsections == 1) ||
                             (o->jid && strcmp(k, "jid") == 0 &&
                              same_account(v, o->jid))))
                snprintf(picked, picked_len, "%s", cur);
            continue;
        }
        if (!in_wanted)
            continue;
        /* -a NAME -j OTHER: NAME's settings are not OTHER's.  (Picked by
         * --jid alone, a section may still hold another jid line: the
         * given one stands.) */
        if (strcmp(k, "jid") == 0 && o->account && given_jid &&
            !same_account(v, given_jid)) {
            cli_error("%s:%d: account '%s' is %s, not %s: give --account "
                      "or --jid, not both",
                      path, n, cur, v, given_jid);
            rc = EXIT_USAGE;
            break;
        } else if (strcmp(k, "jid") == 0)
            rc = set_if_unset(&o->jid, v);
        else if (strcmp(k, "server") == 0)
            rc = set_if_unset(&o->server, v);
        else if (strcmp(k, "cafile") == 0)
            rc = set_if_unset(&o->cafile, v);
        else if (strcmp(k, "resource") == 0)
            rc = set_if_unset(&o->resource, v);
        else if (strcmp(k, "pin") == 0)
            rc = set_if_unset(&o->pin, v);
        else if (strcmp(k, "client_cert") == 0)
            rc = set_if_unset(&o->client_cert, v);
        else if (strcmp(k, "client_key") == 0)
            rc = set_if_unset(&o->client_key, v);
        else if (strcmp(k, "password_command") == 0)
            rc = set_if_unset(&o->cfg_password_command, v);
        else if (strcmp(k, "allow_downgrade") == 0)
            o->allow_downgrade |= strcmp(v, "yes") == 0;
        else if (strcmp(k, "cache") == 0)
            o->no_cache |= strcmp(v, "no") == 0;
        else if (strcmp(k, "sasl2") == 0)
            o->no_sasl2 |= strcmp(v, "no") == 0;
        else if (strcmp(k, "fast") == 0)
            o->no_fast |= strcmp(v, "no") == 0;
        else if (strcmp(k, "fast_unbound") == 0)
            o->fast_unbound |= strcmp(v, "yes") == 0;
        else if (strcmp(k, "queue") == 0)
            o->queue |= strcmp(v, "yes") == 0;
        else if (strcmp(k, "omemo") == 0)
            o->no_omemo |= strcmp(v, "no") == 0;
        else if (strcmp(k, "tls_min") == 0)
            rc = set_tls_min(o, path, n, v);
        else if (strcmp(k, "proxy") == 0)
            rc = set_if_unset(&o->proxy, v);
        else
            rc = set_if_unset(&o->cfg_password, v);
    }
    explicit_bzero(line, sizeof line);
    if (rc == 0 && ferror(f)) {
        cli_error("cannot read %s: %s", path, strerror(errno));
        return EXIT_IOERR;
    }
    return rc;
}

/* The end of a refusal: the chmod to run where one can help (a regular
 * file or a directory of ours), else what is wrong with the file. */
static const char *fix_for(const struct stat *st, const char *mode,
                           const char *path, char *buf, size_t len)
{
    mode_t k = st->st_mode & S_IFMT;

    if ((k == S_IFREG || k == S_IFDIR) && st->st_uid == geteuid())
        snprintf(buf, len, "run 'chmod %s %s'", mode, path);
    else if (k == S_IFREG || k == S_IFDIR)
        snprintf(buf, len, "%s belongs to another user", path);
    else
        snprintf(buf, len, "%s is %s, not a regular file", path,
                 k == S_IFCHR   ? "a character device"
                 : k == S_IFBLK ? "a block device"
                 : k == S_IFIFO ? "a FIFO"
                 : k == S_IFSOCK ? "a socket"
                                 : "no regular file");
    return buf;
}

/* Like ssh: a file that decides which commands run or which CA is
 * trusted may be changed only by its owner (us or root). */
static int others_can_change(const struct stat *st)
{
    return (st->st_uid != geteuid() && st->st_uid != 0) ||
           (st->st_mode & (S_IWGRP | S_IWOTH));
}

/* The files the options name get the config file's checks.  A file that
 * is missing is left to whoever opens it, which says so. */
static int check_files(const struct cli_opts *o)
{
    struct stat st;
    char fix[4200];

    if (o->cafile && stat(o->cafile, &st) == 0 && others_can_change(&st)) {
        cli_error("CA file %s can be changed by other users; refusing to "
                  "use it (%s)",
                  o->cafile, fix_for(&st, "go-w", o->cafile, fix, sizeof fix));
        return EXIT_CONFIG;
    }
    if (o->password_file && stat(o->password_file, &st) == 0) {
        if (others_can_change(&st)) {
            cli_error("password file %s can be changed by other users; "
                      "refusing to use it (%s)",
                      o->password_file,
                      fix_for(&st, "go-w", o->password_file, fix,
                              sizeof fix));
            return EXIT_CONFIG;
        }
        if (st.st_mode & (S_IRWXG | S_IRWXO)) {
            cli_error("password file %s can be read by others; %s",
                      o->password_file,
                      fix_for(&st, "600", o->password_file, fix,
                              sizeof fix));
            return EXIT_CONFIG;
        }
    }
    return 0;
}

int cli_check_owner(const char *path, int secret)
{
    struct stat st;
    char fix[4200];

    if (stat(path, &st) < 0) {
        cli_error("cannot use %s: %s", path, strerror(errno));
        return EXIT_CONFIG;
    }
    /* as for the config file: whoever can change it decides for us */
    if ((st.st_uid != geteuid() && st.st_uid != 0) ||
        (st.st_mode & (S_IWGRP | S_IWOTH))) {
        cli_error("%s can be changed by other users; refusing to use it "
                  "(%s)",
                  path, fix_for(&st, "go-w", path, fix, sizeof fix));
        return EXIT_CONFIG;
    }
    if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        cli_error("%s holds a private key and others can read it; %s",
                  path, fix_for(&st, "600", path, fix, sizeof fix));
        return EXIT_CONFIG;
    }
    return 0;
}

static int load_config(struct cli_opts *o);

/* Is host in $NO_PROXY ($no_proxy): a comma-separated list of host
 * names, or "*" for every host? */
static int no_proxy_for(const char *host, size_t hlen)
{
    const char *v = getenv("no_proxy");
    char *list, *tok, *save = NULL;
    int hit = 0;

    if (!v || !*v)
        v = getenv("NO_PROXY");
    if (!v || !*v || !(list = strdup(v)))
        return 0;
    for (tok = strtok_r(list, ", \t", &save); tok && !hit;
         tok = strtok_r(NULL, ", \t", &save))
        hit = strcmp(tok, "*") == 0 ||
              (strlen(tok) == hlen && strncasecmp(tok, host, hlen) == 0);
    free(list);
    return hit;
}

/* No --proxy and no proxy line: $all_proxy or $ALL_PROXY, as curl reads
 * them, unless $NO_PROXY names the host connected to (--server's, else
 * the JID's domain). */
static int proxy_from_env(struct cli_opts *o)
{
    const char *v = getenv("all_proxy"), *host = NULL, *at;
    struct xmp_error err;
    size_t hlen = 0;

    if (!v || !*v)
        v = getenv("ALL_PROXY");
    if (o->proxy || !v || !*v)
        return 0;
    if (o->server) {
        host = o->server[0] == '[' ? o->server + 1 : o->server;
        hlen = strcspn(host, o->server[0] == '[' ? "]" : ":");
    } else if (o->jid && (at = strchr(o->jid, '@'))) {
        host = at + 1;
        hlen = strcspn(host, "/");
    }
    if (host && no_proxy_for(host, hlen))
        return 0;
    if (xmp_proxy_check(v, NULL, &err) != XMP_OK) {
        cli_error("ALL_PROXY: %s", err.msg);
        return EXIT_CONFIG;
    }
    return set_if_unset(&o->proxy, v);
}

int cli_load_config(struct cli_opts *o)
{
    int rc = load_config(o);

    if (!rc)
        rc = proxy_from_env(o);
    return rc ? rc : check_files(o);
}

static int load_config(struct cli_opts *o)
{
    char *path = o->config ? o->config : default_path();
    char picked[128] = "";
    const char *want;
    struct stat st;
    FILE *f;
    int rc = 0;

    if (!path)
        return o->account ? (cli_error("no config file to find account "
                                       "'%s' in",
                                       o->account),
                             EXIT_CONFIG)
                          : 0;
    if (!(f = fopen(path, "r"))) {
        /* Only a file that was asked for must exist. */
        if (errno == ENOENT && !o->config && !o->account)
            goto done;
        cli_error("cannot open config file %s: %s", path, strerror(errno));
        rc = EXIT_CONFIG;
        goto done;
    }
    /* Unbuffered, so no copy of a password line stays in a stdio
     * buffer; the file is small. */
    setvbuf(f, NULL, _IONBF, 0);
    if (fstat(fileno(f), &st) < 0) {
        cli_error("cannot stat %s: %s", path, strerror(errno));
        rc = EXIT_CONFIG;
        goto close;
    }
    if (others_can_change(&st)) {
        cli_error("%s can be changed by other users; refusing to use it "
                  "(run 'chmod go-w %s')",
                  path, path);
        rc = EXIT_CONFIG;
        goto close;
    }
    want = o->account;
    if (!want) {
        if ((rc = parse(f, path, &st, o, NULL, 0, picked, sizeof picked)))
            goto close;
        want = picked;
    }
    if (!*want)
        goto close;
    {
        char found[128] = "";

        rc = parse(f, path, &st, o, want, 1, found, sizeof found);
        if (rc == 0 && !*found) {
            cli_error("no account '%s' in %s", want, path);
            rc = EXIT_CONFIG;
        }
    }
close:
    fclose(f);
done:
    if (path != o->config)
        free(path);
    return rc;
}
