/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * opts.c - the global options: one table drives the parser and --help,
 * so the two cannot drift apart (a test compares --help with the man
 * page).  The parser never exits: --help and --version come back as
 * pseudo statuses for main() to act on.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum opt_id {
    OPT_JID = 'j',
    OPT_ACCOUNT = 'a',
    OPT_CONFIG = 'c',
    OPT_RESOURCE = 'r',
    OPT_SERVER = 's',
    OPT_MECH = 'm',
    OPT_TIMEOUT = 't',
    OPT_VERBOSE = 'v',
    OPT_HELP = 'h',
    OPT_VERSION = 'V',
    OPT_DIRECT_TLS = 256,
    OPT_CAFILE,
    OPT_INSECURE,
    OPT_PASSWORD_FILE,
    OPT_PASSWORD_COMMAND
};

static const struct opt_def {
    const char *name;
    int id;
    const char *arg; /* NULL: takes no argument */
    const char *help;
} opt_table[] = {
    {"jid", OPT_JID, "JID", "account JID (local@domain[/resource])"},
    {"account", OPT_ACCOUNT, "NAME", "use account NAME of the config file"},
    {"config", OPT_CONFIG, "FILE", "config file (default: "
                                   "$XDG_CONFIG_HOME/xmpctl/config)"},
    {"resource", OPT_RESOURCE, "RES", "resource to ask for (default: the "
                                      "server's choice)"},
    {"server", OPT_SERVER, "HOST[:PORT]", "connect here instead of using DNS "
                                          "SRV records"},
    {"direct-tls", OPT_DIRECT_TLS, NULL, "with --server: TLS from the first "
                                         "byte (XEP-0368)"},
    {"cafile", OPT_CAFILE, "FILE", "trust the CA certificates in FILE"},
    {"insecure", OPT_INSECURE, NULL, "do not verify the server certificate "
                                     "(lab use only)"},
    {"mech", OPT_MECH, "MECH", "force this SASL mechanism"},
    {"timeout", OPT_TIMEOUT, "SECONDS", "give up on a network step after "
                                        "SECONDS (default 30)"},
    {"password-file", OPT_PASSWORD_FILE, "FILE", "read the password from the "
                                                 "first line of FILE"},
    {"password-command", OPT_PASSWORD_COMMAND, "CMD", "the password is the "
                                                      "first line CMD prints"},
    {"verbose", OPT_VERBOSE, NULL, "XML trace on stderr (secrets redacted)"},
    {"help", OPT_HELP, NULL, "print this help and exit"},
    {"version", OPT_VERSION, NULL, "print the version and exit"},
};

#define NOPTS (sizeof opt_table / sizeof opt_table[0])

void cli_usage(FILE *f)
{
    char left[64];
    size_t i;

    fputs("Usage: xmpctl [OPTIONS] COMMAND [ARGS...]\n"
          "\n"
          "Commands:\n"
          "  login                        connect, authenticate and print "
          "what was negotiated\n"
          "  send JID [TEXT]              send a chat message (TEXT from "
          "stdin when absent)\n"
          "\n"
          "Options:\n",
          f);
    for (i = 0; i < NOPTS; i++) {
        const struct opt_def *d = &opt_table[i];

        if (d->id < 256)
            snprintf(left, sizeof left, "-%c, --%s%s%s", d->id, d->name,
                     d->arg ? "=" : "", d->arg ? d->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", d->name,
                     d->arg ? "=" : "", d->arg ? d->arg : "");
        fprintf(f, "  %-27s  %s\n", left, d->help);
    }
    fputs("\n"
          "The password comes from --password-file, --password-command, the "
          "config file,\n"
          "$XMPCTL_PASSWORD or a prompt on the terminal; never from the "
          "command line.\n"
          "Exit status is 0 on success; xmpctl(1) lists the others.\n",
          f);
}

static int set_str(char **dst, const char *v)
{
    free(*dst);
    if (!(*dst = strdup(v))) {
        cli_error("out of memory");
        return EXIT_OSERR;
    }
    return 0;
}

int cli_parse_global(struct cli_opts *o, int argc, char **argv, int *next)
{
    struct option lopts[NOPTS + 1];
    char sopts[3 * NOPTS + 2], *p = sopts, *end;
    size_t i;
    int c, rc = 0;
    long t;

    *p++ = '+'; /* stop at the command name */
    *p++ = ':'; /* report a missing argument as ':' */
    for (i = 0; i < NOPTS; i++) {
        lopts[i].name = opt_table[i].name;
        lopts[i].has_arg = opt_table[i].arg ? required_argument : no_argument;
        lopts[i].flag = NULL;
        lopts[i].val = opt_table[i].id;
        if (opt_table[i].id < 256) {
            *p++ = (char)opt_table[i].id;
            if (opt_table[i].arg)
                *p++ = ':';
        }
    }
    *p = '\0';
    memset(&lopts[NOPTS], 0, sizeof lopts[NOPTS]);

    opterr = 0;
    optind = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
        switch (c) {
        case OPT_JID: rc = set_str(&o->jid, optarg); break;
        case OPT_ACCOUNT: rc = set_str(&o->account, optarg); break;
        case OPT_CONFIG: rc = set_str(&o->config, optarg); break;
        case OPT_RESOURCE: rc = set_str(&o->resource, optarg); break;
        case OPT_SERVER: rc = set_str(&o->server, optarg); break;
        case OPT_CAFILE: rc = set_str(&o->cafile, optarg); break;
        case OPT_MECH: rc = set_str(&o->mech, optarg); break;
        case OPT_PASSWORD_FILE: rc = set_str(&o->password_file, optarg); break;
        case OPT_PASSWORD_COMMAND:
            rc = set_str(&o->password_command, optarg);
            break;
        case OPT_DIRECT_TLS: o->direct_tls = 1; break;
        case OPT_INSECURE: o->insecure = 1; break;
        case OPT_VERBOSE: o->verbose = 1; break;
        case OPT_HELP: rc = EXIT_HELP; break;
        case OPT_VERSION: rc = EXIT_VERSION; break;
        case OPT_TIMEOUT:
            errno = 0;
            t = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || t < 1 || t > 86400) {
                cli_error("invalid --timeout value '%s': expected seconds "
                          "from 1 to 86400",
                          optarg);
                rc = EXIT_USAGE;
            } else {
                o->timeout_s = (int)t;
            }
            break;
        case ':':
            cli_error("option '%s' needs an argument", argv[optind - 1]);
            rc = EXIT_USAGE;
            break;
        default:
            if (optopt)
                cli_error("unknown option '-%c'", optopt);
            else
                cli_error("unknown option '%s'", argv[optind - 1]);
            rc = EXIT_USAGE;
            break;
        }
    }
    *next = optind;
    return rc;
}

void cli_opts_free(struct cli_opts *o)
{
    free(o->jid);
    free(o->account);
    free(o->config);
    free(o->resource);
    free(o->server);
    free(o->cafile);
    free(o->mech);
    free(o->password_file);
    free(o->password_command);
    free(o->cfg_password_command);
    if (o->cfg_password) {
        explicit_bzero(o->cfg_password, strlen(o->cfg_password));
        free(o->cfg_password);
    }
    memset(o, 0, sizeof *o);
}
