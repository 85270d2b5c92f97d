/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * opts.c - options: one table per command (and one for the global
 * options) drives both the parser and --help, so the two cannot drift
 * apart (a test compares --help with the man page).  The parsers never
 * exit: --help and --version come back as pseudo statuses.
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
    OPT_FORMAT = 'f',
    OPT_DIRECT_TLS = 256,
    OPT_CAFILE,
    OPT_INSECURE,
    OPT_PASSWORD_FILE,
    OPT_PASSWORD_COMMAND,
    OPT_KEEPALIVE,
    OPT_PIN,
    OPT_TOFU,
    OPT_CLIENT_CERT,
    OPT_CLIENT_KEY,
    OPT_ALLOW_DOWNGRADE,
    OPT_NO_CACHE,
    OPT_NO_SESSION,
    OPT_TLS_MIN,
    OPT_NO_SASL2,
    OPT_NO_FAST,
    OPT_FAST_UNBOUND,
    OPT_PROXY
};

const char *const cli_formats[] = { "text", "json", "xml", NULL };

static const struct opt_def opt_table[] = {
    {"jid", OPT_JID, "JID", "account JID (local@domain[/resource])",
     ARG_TEXT},
    {"account", OPT_ACCOUNT, "NAME", "use account NAME of the config file",
     ARG_ACCOUNT},
    {"config", OPT_CONFIG, "FILE", "config file (default: "
                                   "$XDG_CONFIG_HOME/xmpctl/config)",
     ARG_FILE},
    {"resource", OPT_RESOURCE, "RES", "resource to ask for (default: the "
                                      "server's choice)",
     ARG_TEXT},
    {"server", OPT_SERVER, "HOST[:PORT]", "connect here instead of using DNS "
                                          "SRV records",
     ARG_TEXT},
    {"direct-tls", OPT_DIRECT_TLS, NULL, "with --server: TLS from the first "
                                         "byte (XEP-0368)",
     ARG_NONE},
    {"proxy", OPT_PROXY, "URL", "connect through this proxy: socks5h://, "
                                "socks5:// or http://HOST[:PORT] (no "
                                "password here)",
     ARG_TEXT},
    {"cafile", OPT_CAFILE, "FILE", "trust the CA certificates in FILE",
     ARG_FILE},
    {"insecure", OPT_INSECURE, NULL, "do not verify the server certificate "
                                     "(lab use only)",
     ARG_NONE},
    {"pin", OPT_PIN, "PINS", "the server key must match one of PINS "
                             "(sha256//BASE64, several separated by ';')",
     ARG_TEXT},
    {"tls-min", OPT_TLS_MIN, "VERSION", "the oldest TLS version to accept: "
                                        "1.2 (default) or 1.3 (builds with "
                                        "TLS 1.3: see --version)",
     ARG_TEXT},
    {"tofu", OPT_TOFU, NULL, "record the server key on first contact, "
                             "refuse a changed one later",
     ARG_NONE},
    {"client-cert", OPT_CLIENT_CERT, "FILE", "present this certificate "
                                             "(PEM); SASL EXTERNAL when "
                                             "offered",
     ARG_FILE},
    {"client-key", OPT_CLIENT_KEY, "FILE", "the key of --client-cert (PEM)",
     ARG_FILE},
    {"mech", OPT_MECH, "MECH", "force this SASL mechanism", ARG_MECH},
    {"allow-downgrade", OPT_ALLOW_DOWNGRADE, NULL, "log in without channel "
                                                   "binding although the "
                                                   "account used it before",
     ARG_NONE},
    {"no-cache", OPT_NO_CACHE, NULL, "neither read nor write the login "
                                     "cache ($XDG_CACHE_HOME/xmpctl)",
     ARG_NONE},
    {"no-sasl2", OPT_NO_SASL2, NULL, "log in without SASL2 and Bind2 "
                                     "(XEP-0388, XEP-0386)",
     ARG_NONE},
    {"no-fast", OPT_NO_FAST, NULL, "neither use nor ask for a FAST token "
                                   "(XEP-0484)",
     ARG_NONE},
    {"fast-unbound", OPT_FAST_UNBOUND, NULL, "also FAST tokens without "
                                             "channel binding (HT-*-NONE)",
     ARG_NONE},
    {"no-session", OPT_NO_SESSION, NULL, "connect to the server even when "
                                         "a session holder runs",
     ARG_NONE},
    {"timeout", OPT_TIMEOUT, "SECONDS", "wait at most SECONDS for each "
                                        "network step and each answer "
                                        "(default 30)",
     ARG_TEXT},
    {"keepalive", OPT_KEEPALIVE, "SECONDS", "commands that stay connected "
                                            "ping a silent server after "
                                            "SECONDS (default 60, 0: never)",
     ARG_TEXT},
    {"format", OPT_FORMAT, "FORMAT", "output: text (default), json (one "
                                     "object per line) or xml",
     ARG_FORMAT},
    {"password-file", OPT_PASSWORD_FILE, "FILE", "read the password from the "
                                                 "first line of FILE",
     ARG_FILE},
    {"password-command", OPT_PASSWORD_COMMAND, "CMD", "the password is the "
                                                      "first line CMD prints",
     ARG_TEXT},
    {"verbose", OPT_VERBOSE, NULL, "XML trace on stderr (secrets redacted)",
     ARG_NONE},
    {"help", OPT_HELP, NULL, "print this help and exit", ARG_NONE},
    {"version", OPT_VERSION, NULL, "print the version and exit", ARG_NONE},
};

#define NOPTS (sizeof opt_table / sizeof opt_table[0])
const struct opt_list cli_global_options = { opt_table, NOPTS };

static void print_opts(FILE *f, const struct opt_def *t, size_t n)
{
    char left[64];
    size_t i;

    for (i = 0; i < n; i++) {
        const struct opt_def *d = &t[i];

        if (d->id < 256)
            snprintf(left, sizeof left, "-%c, --%s%s%s", d->id, d->name,
                     d->arg ? "=" : "", d->arg ? d->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", d->name,
                     d->arg ? "=" : "", d->arg ? d->arg : "");
        fprintf(f, "  %-27s  %s\n", left, d->help);
    }
}

void cli_usage(FILE *f)
{
    char left[64];
    size_t i;

    fputs("Usage: xmpctl [OPTIONS] COMMAND [ARGS...]\n\nCommands:\n", f);
    for (i = 0; i < cli_ncommands; i++) {
        if (cli_commands[i].flags & CMD_HIDDEN)
            continue;
        snprintf(left, sizeof left, "%s %s", cli_commands[i].name,
                 cli_commands[i].args);
        fprintf(f, "  %-27s  %s\n", left, cli_commands[i].summary);
    }
    fputs("\nOptions:\n", f);
    print_opts(f, opt_table, NOPTS);
    fputs("\n"
          "'xmpctl COMMAND --help' describes a command and its options.\n"
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

int cli_number(const char *opt, const char *arg, long min, long max,
               long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max) {
        cli_error("invalid %s value '%s': expected a whole number from %ld "
                  "to %ld",
                  opt, arg, min, max);
        return EXIT_USAGE;
    }
    *out = v;
    return 0;
}

/* getopt_long's tables from ours; sopts needs 3 * n + 3 bytes.  The
 * global options end at the command's name ('+'); a command's options
 * may also follow its operands, until "--" ('-': getopt hands each
 * operand over in turn, POSIXLY_CORRECT or not). */
static void getopt_tables(const struct opt_def *t, size_t n, int permute,
                          struct option *lopts, char *sopts)
{
    size_t i;

    *sopts++ = permute ? '-' : '+';
    *sopts++ = ':'; /* report a missing argument as ':' */
    for (i = 0; i < n; i++) {
        lopts[i].name = t[i].name;
        lopts[i].has_arg = t[i].arg ? required_argument : no_argument;
        lopts[i].flag = NULL;
        lopts[i].val = t[i].id;
        if (t[i].id < 256) {
            *sopts++ = (char)t[i].id;
            if (t[i].arg)
                *sopts++ = ':';
        }
    }
    *sopts = '\0';
    memset(&lopts[n], 0, sizeof lopts[n]);
}

/* argv[1..argc) reordered, in place: what is not an operand (options,
 * their arguments, "--") first, then the operands, each group in its
 * order; the index of the first operand. */
static int operands_last(int argc, char **argv, const char *operand,
                         char **tmp)
{
    int i, k = 0, first;

    for (i = 1; i < argc; i++)
        if (!operand[i])
            tmp[k++] = argv[i];
    first = k + 1;
    for (i = 1; i < argc; i++)
        if (operand[i])
            tmp[k++] = argv[i];
    memcpy(argv + 1, tmp, (size_t)k * sizeof *argv);
    return first;
}

/* Run getopt_long over argv with our table; set() takes each option.
 * With permute, the operands end up last in argv, from *next on. */
static int parse(const char *who, const struct opt_def *t, size_t n,
                 int permute, int argc, char **argv, int *next,
                 int (*set)(void *ud, int id, const char *arg), void *ud)
{
    struct option *lopts = calloc(n + 1, sizeof *lopts);
    char *sopts = malloc(3 * n + 3);
    char *operand = calloc((size_t)argc + 1, 1);
    char **tmp = calloc((size_t)argc + 1, sizeof *tmp);
    int c, i, rc = 0;

    if (!lopts || !sopts || !operand || !tmp) {
        cli_error("out of memory");
        rc = EXIT_OSERR;
        goto out;
    }
    getopt_tables(t, n, permute, lopts, sopts);
    opterr = 0;
    optind = 0; /* GNU: start afresh, whatever the last parse did */
    while (rc == 0 &&
           (c = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
        if (c == 1) {
            operand[optind - 1] = 1; /* an operand, in its turn */
        } else if (c == ':') {
            cli_error("%soption '%s' needs an argument", who,
                      argv[optind - 1]);
            rc = EXIT_USAGE;
        } else if (c == '?') {
            /* "send JID -- -TEXT": an operand may begin with '-' */
            const char *hint = permute ? " (an operand that begins with "
                                         "'-' goes after '--')"
                                       : "";

            if (optopt)
                cli_error("%sunknown option '-%c'%s", who, optopt, hint);
            else
                cli_error("%sunknown option '%s'%s", who, argv[optind - 1],
                          hint);
            rc = EXIT_USAGE;
        } else {
            rc = set(ud, c, optarg);
        }
    }
    *next = optind;
    if (rc == 0 && permute) {
        for (i = optind; i < argc; i++) /* those after "--" */
            operand[i] = 1;
        *next = operands_last(argc, argv, operand, tmp);
    }
out:
    free(lopts);
    free(sopts);
    free(operand);
    free(tmp);
    return rc;
}

static int set_format(struct cli_opts *o, const char *arg)
{
    int i;

    for (i = 0; cli_formats[i]; i++)
        if (strcmp(arg, cli_formats[i]) == 0) {
            o->format = (enum out_format)i;
            return 0;
        }
    cli_error("invalid --format value '%s': expected text, json or xml", arg);
    return EXIT_USAGE;
}

static int set_tls_min(struct cli_opts *o, const char *arg)
{
    int v = cli_tls_version(arg);

    if (v == -1) {
        cli_error("invalid --tls-min value '%s': expected 1.2 or 1.3", arg);
        return EXIT_USAGE;
    }
    if (v == -2) {
        cli_error("--tls-min 1.3: this build of xmpctl has no TLS 1.3 (%s)",
                  xmp_tls_library());
        return EXIT_USAGE;
    }
    o->tls_min = v;
    return 0;
}

/* --proxy URL: a password in it would be on every process listing. */
static int set_proxy(struct cli_opts *o, const char *arg)
{
    struct xmp_error err;
    int password;

    if (xmp_proxy_check(arg, &password, &err) != XMP_OK) {
        cli_error("--proxy: %s", err.msg);
        return EXIT_USAGE;
    }
    if (password) {
        cli_error("--proxy: a password on the command line is visible to "
                  "other users; put the proxy URL in the config file "
                  "(proxy = URL) or in ALL_PROXY");
        return EXIT_USAGE;
    }
    return set_str(&o->proxy, arg);
}

static int set_global(void *ud, int id, const char *arg)
{
    struct cli_opts *o = ud;
    long v;
    int rc;

    switch (id) {
    case OPT_JID: return set_str(&o->jid, arg);
    case OPT_ACCOUNT: return set_str(&o->account, arg);
    case OPT_CONFIG: return set_str(&o->config, arg);
    case OPT_RESOURCE: return set_str(&o->resource, arg);
    case OPT_SERVER: return set_str(&o->server, arg);
    case OPT_PROXY: return set_proxy(o, arg);
    case OPT_CAFILE: return set_str(&o->cafile, arg);
    case OPT_MECH: return set_str(&o->mech, arg);
    case OPT_PASSWORD_FILE: return set_str(&o->password_file, arg);
    case OPT_PASSWORD_COMMAND: return set_str(&o->password_command, arg);
    case OPT_PIN: return set_str(&o->pin, arg);
    case OPT_CLIENT_CERT: return set_str(&o->client_cert, arg);
    case OPT_CLIENT_KEY: return set_str(&o->client_key, arg);
    case OPT_TOFU: o->tofu = 1; return 0;
    case OPT_DIRECT_TLS: o->direct_tls = 1; return 0;
    case OPT_INSECURE: o->insecure = 1; return 0;
    case OPT_ALLOW_DOWNGRADE: o->allow_downgrade = 1; return 0;
    case OPT_NO_CACHE: o->no_cache = 1; return 0;
    case OPT_NO_SESSION: o->no_session = 1; return 0;
    case OPT_NO_SASL2: o->no_sasl2 = 1; return 0;
    case OPT_NO_FAST: o->no_fast = 1; return 0;
    case OPT_FAST_UNBOUND: o->fast_unbound = 1; return 0;
    case OPT_VERBOSE: o->verbose = 1; return 0;
    case OPT_HELP: return EXIT_HELP;
    case OPT_VERSION: return EXIT_VERSION;
    case OPT_TIMEOUT:
        if ((rc = cli_number("--timeout", arg, 1, 86400, &v)) == 0)
            o->timeout_s = (int)v;
        return rc;
    case OPT_KEEPALIVE:
        if ((rc = cli_number("--keepalive", arg, 0, 86400, &v)) == 0)
            o->keepalive_s = (int)v;
        return rc;
    case OPT_FORMAT:
        return set_format(o, arg);
    case OPT_TLS_MIN:
        return set_tls_min(o, arg);
    }
    return EXIT_SOFTWARE;
}

int cli_parse_global(struct cli_opts *o, int argc, char **argv, int *next)
{
    o->keepalive_s = -1;
    return parse("", opt_table, NOPTS, 0, argc, argv, next, set_global, o);
}

/* Every command takes these: --help, and --format (the global option,
 * also after the command: "xmpctl listen --format json"). */
static const struct opt_def common_opts[] = {
    {"format", OPT_FORMAT, "FORMAT", "output: text, json or xml (as the "
                                     "global option)",
     ARG_FORMAT},
    {"help", OPT_HELP, NULL, "print this help and exit", ARG_NONE},
};
#define NCOMMON (sizeof common_opts / sizeof common_opts[0])
const struct opt_list cli_common_options = { common_opts, NCOMMON };

struct cmd_set {
    struct cli_opts *o;
    int (*set)(void *ud, int id, const char *arg);
    void *ud;
};

static int set_cmd(void *ud, int id, const char *arg)
{
    struct cmd_set *cs = ud;

    if (id == OPT_HELP)
        return EXIT_HELP;
    if (id == OPT_FORMAT)
        return set_format(cs->o, arg);
    return cs->set ? cs->set(cs->ud, id, arg) : EXIT_SOFTWARE;
}

int cli_parse_cmd(struct cli_opts *o, const char *cmd, int argc, char **argv,
                  int *next, int (*set)(void *ud, int id, const char *arg),
                  void *ud)
{
    const struct command *c = cli_command(cmd);
    size_t n = c && c->opts ? c->opts->n : 0;
    struct opt_def *all = calloc(n + NCOMMON, sizeof *all);
    struct cmd_set cs = { o, set, ud };
    char who[64];
    size_t i;
    int rc;

    if (!c) {
        free(all);
        cli_error("no command '%s' in the command table", cmd);
        return EXIT_SOFTWARE;
    }
    if (!all) {
        cli_error("out of memory");
        return EXIT_OSERR;
    }
    for (i = 0; i < n; i++)
        all[i] = c->opts->opts[i];
    for (i = 0; i < NCOMMON; i++)
        all[n + i] = common_opts[i];
    snprintf(who, sizeof who, "%s: ", cmd);
    rc = parse(who, all, n + NCOMMON, 1, argc, argv, next, set_cmd, &cs);
    if (rc == EXIT_HELP) {
        printf("Usage: xmpctl [OPTIONS] %s %s\n\n%s\n\nOptions:\n", c->name,
               c->args, c->summary);
        print_opts(stdout, all, n + NCOMMON);
        printf("\nOptions may also follow the operands; '--' ends them (an "
               "operand that\nbegins with '-' goes after it).  Global "
               "options (before the command) are\nlisted by 'xmpctl "
               "--help'.\n");
        rc = EXIT_HELP;
    }
    free(all);
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
    free(o->pin);
    free(o->client_cert);
    free(o->client_key);
    free(o->mech);
    free(o->password_file);
    free(o->password_command);
    free(o->cfg_password_command);
    if (o->proxy) {
        explicit_bzero(o->proxy, strlen(o->proxy));
        free(o->proxy);
    }
    if (o->cfg_password) {
        explicit_bzero(o->cfg_password, strlen(o->cfg_password));
        free(o->cfg_password);
    }
    memset(o, 0, sizeof *o);
}
