/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * main.c - global options, the command table, the session, the exit
 * status.  Commands are functions over a session; none of them connects
 * by itself (cli_session_open does, once), so the same functions can
 * later run behind a prompt or a background session.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct command {
    const char *name;
    int (*fn)(struct cli *c, int argc, char **argv);
} commands[] = {
    {"login", cmd_login},
    {"send", cmd_send},
};

static int session_ready(void *ud)
{
    return xmp_session_phase(ud) == XMP_PHASE_READY;
}

int cli_session_failed(struct cli *c)
{
    const struct xmp_error *e = xmp_session_error(c->session);

    cli_error("%s", e->msg[0] ? e->msg : xmp_err_name(e->code));
    return cli_exit_status(e->code);
}

int cli_session_open(struct cli *c)
{
    struct xmp_session_opts so;
    struct xmp_error err;
    enum xmp_err r;

    if (c->session)
        return EXIT_OK;
    if (!c->o.jid) {
        cli_error("no account: use --jid JID or an account in the config "
                  "file");
        return EXIT_USAGE;
    }
    if (c->o.direct_tls && !c->o.server) {
        cli_error("--direct-tls needs --server (DNS SRV records say "
                  "themselves which port speaks TLS)");
        return EXIT_USAGE;
    }
    if (c->o.insecure)
        cli_warn("--insecure: the server certificate is NOT verified; "
                 "anyone on the path can read and change this session");
    memset(&so, 0, sizeof so);
    so.jid = c->o.jid;
    so.resource = c->o.resource;
    so.server = c->o.server;
    so.direct_tls = c->o.direct_tls;
    so.cafile = c->o.cafile;
    so.insecure = c->o.insecure;
    so.mech = c->o.mech;
    so.timeout_ms = (c->o.timeout_s ? c->o.timeout_s : CLI_DEFAULT_TIMEOUT_S) *
                    1000;
    so.password = cli_password;
    so.password_ud = &c->o;
    so.trace = c->o.verbose ? cli_trace : NULL;
    if (!(c->session = xmp_session_new(&so, &err))) {
        cli_error("%s", err.msg);
        return cli_exit_status(err.code);
    }
    if (xmp_session_start(c->session) != XMP_OK)
        return cli_session_failed(c);
    r = xmp_session_run(c->session, session_ready, c->session, -1);
    if (r != XMP_OK)
        return cli_session_failed(c);
    return EXIT_OK;
}

int cli_session_close(struct cli *c)
{
    if (!c->session)
        return EXIT_OK;
    if (xmp_session_close(c->session) != XMP_OK ||
        xmp_session_run(c->session, NULL, NULL, -1) != XMP_OK)
        return cli_session_failed(c);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    struct cli c;
    const struct command *cmd = NULL;
    size_t i;
    int rc, next = 0;

    setlocale(LC_CTYPE, "");
    /* A closed pipe must not kill us silently; writes report EPIPE. */
    signal(SIGPIPE, SIG_IGN);
    memset(&c, 0, sizeof c);

    rc = cli_parse_global(&c.o, argc, argv, &next);
    if (rc == EXIT_HELP) {
        cli_usage(stdout);
        rc = EXIT_OK;
        goto out;
    }
    if (rc == EXIT_VERSION) {
        printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
        rc = EXIT_OK;
        goto out;
    }
    if (rc)
        goto out;
    if (next >= argc) {
        cli_error("no command given (try 'xmpctl --help')");
        rc = EXIT_USAGE;
        goto out;
    }
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[next], commands[i].name) == 0)
            cmd = &commands[i];
    if (!cmd) {
        cli_error("unknown command '%s' (try 'xmpctl --help')", argv[next]);
        rc = EXIT_USAGE;
        goto out;
    }
    if ((rc = cli_load_config(&c.o)))
        goto out;
    rc = cmd->fn(&c, argc - next, argv + next);
out:
    xmp_session_free(c.session);
    cli_opts_free(&c.o);
    if (fflush(stdout) != 0 && rc == EXIT_OK) {
        cli_error("cannot write output");
        rc = EXIT_IOERR;
    }
    return rc;
}
