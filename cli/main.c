/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * main.c - the one-shot entry: global options, the command named on the
 * command line (commands.c), the exit status.  A command checks its
 * arguments and hands back an operation; the driver (loop.c) opens the
 * session, runs it and closes.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* With stdin, stdout or stderr closed, the next descriptor opened (the
 * server's socket) would take its number: stdin would read the server,
 * the trace would go to it.  Put /dev/null there instead. */
static int standard_fds(void)
{
    int fd;

    for (fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0)
            continue;
        if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli c;
    const struct command *cmd = NULL;
    struct op *op = NULL;
    int rc, next = 0;

    if (standard_fds() < 0)
        return EXIT_OSERR;
    cli_password_take_env();
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
        printf("%s %s\nTLS: %s\nTLS 1.3: %s\n", PACKAGE_NAME,
               PACKAGE_VERSION, xmp_tls_library(),
               xmp_tls_has_13() ? "yes" : "no");
        rc = EXIT_OK;
        goto out;
    }
    if (rc)
        goto out;
    if (next >= argc && !isatty(STDIN_FILENO)) {
        cli_error("no command given (try 'xmpctl --help'; the shell needs "
                  "a terminal)");
        rc = EXIT_USAGE;
        goto out;
    }
    if (next >= argc) {
        c.interactive = 1;
        goto config;
    }
    if (!(cmd = cli_command(argv[next]))) {
        cli_error("unknown command '%s' (try 'xmpctl --help')", argv[next]);
        rc = EXIT_USAGE;
        goto out;
    }
    /* The command checks its input first: nothing is read from the
     * config file, and nothing connects, for a command line that is
     * wrong anyway. */
    rc = cmd->fn(&c, argc - next, argv + next, &op);
    if (rc == EXIT_HELP)
        rc = EXIT_OK;
    if (rc || (!op && !c.interactive && !c.check && !c.run))
        goto out;
config:
    if ((rc = cli_load_config(&c.o))) {
        if (op) {
            op->c = &c;
            op->cls->free(op);
        }
        goto out;
    }
    rc = op       ? cli_run(&c, cmd, op)
         : c.check ? cli_check(&c)
         : c.run   ? c.run(&c)
                   : cli_repl(&c);
out:
    xmp_session_free(c.session);
    xmp_trust_free(c.trust);
    cli_secret_wipe(&c.secret);
    cli_cache_forget(&c);
    cli_password_drop_env();
    cli_opts_free(&c.o);
    if (fflush(stdout) != 0 && rc == EXIT_OK) {
        cli_error("cannot write output");
        rc = EXIT_IOERR;
    }
    return rc;
}
