/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli.h - what the files of the xmpctl command share.  cli/ sees the
 * protocol layer only through xmp.h. */
#ifndef XMPCTL_CLI_H
#define XMPCTL_CLI_H

#include <stdio.h>

#include "xmp.h"

/* Exit statuses: sysexits.h where it has a category, our own above 78
 * where it has none.  One table, documented in xmpctl(1). */
enum {
    EXIT_OK = 0,
    EXIT_USAGE = 64,       /* EX_USAGE */
    EXIT_DATA = 65,        /* EX_DATAERR */
    EXIT_NOHOST = 68,      /* EX_NOHOST */
    EXIT_UNAVAILABLE = 69, /* EX_UNAVAILABLE */
    EXIT_SOFTWARE = 70,    /* EX_SOFTWARE */
    EXIT_OSERR = 71,       /* EX_OSERR */
    EXIT_IOERR = 74,       /* EX_IOERR */
    EXIT_TEMPFAIL = 75,    /* EX_TEMPFAIL */
    EXIT_PROTOCOL = 76,    /* EX_PROTOCOL */
    EXIT_NOPERM = 77,      /* EX_NOPERM: authentication failed */
    EXIT_CONFIG = 78,      /* EX_CONFIG */
    EXIT_TLS = 79,
    EXIT_REMOTE = 80,
    EXIT_NOTSENT = 81
};

/* Pseudo exit status from the option parser: print help/version, exit 0. */
#define EXIT_HELP (-1)
#define EXIT_VERSION (-2)

#define CLI_DEFAULT_TIMEOUT_S 30

/* Everything the options and the config file can set. */
struct cli_opts {
    char *jid, *account, *config, *resource, *server, *cafile, *mech;
    char *password_file, *password_command;
    char *cfg_password_command, *cfg_password; /* from the config file */
    int direct_tls, insecure, verbose, timeout_s;
};

struct cli {
    struct cli_opts o;
    struct xmp_session *session;
};

/* opts.c */
int cli_parse_global(struct cli_opts *o, int argc, char **argv, int *next);
void cli_usage(FILE *f);
void cli_opts_free(struct cli_opts *o);

/* config.c: fill unset fields of o from the config file. */
int cli_load_config(struct cli_opts *o);

/* password.c: the xmp_password_fn over our password sources. */
enum xmp_err cli_password(void *ud, char *buf, size_t len,
                          struct xmp_error *err);

/* output.c */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copy s to f, making control characters visible (a hostile server must
 * never reach the terminal with escape sequences). */
void cli_print_sanitized(FILE *f, const char *s, size_t len);
void cli_trace(void *ud, enum xmp_trace_dir dir, const char *text,
               size_t len);
int cli_exit_status(enum xmp_err code);

/* main.c: open the session (once) and run it until ready. */
int cli_session_open(struct cli *c);
/* Close politely and wait (bounded); returns an exit status. */
int cli_session_close(struct cli *c);
/* Report a session failure and return its exit status. */
int cli_session_failed(struct cli *c);

/* commands */
int cmd_login(struct cli *c, int argc, char **argv);
int cmd_send(struct cli *c, int argc, char **argv);

#endif
