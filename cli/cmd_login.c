/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cmd_login.c - connect, authenticate, bind, tell what was negotiated. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int report(struct op *op)
{
    struct xmp_session_info i;
    struct out_record r;
    char port[16];

    cli_before_output();
    xmp_session_get_info(op->c->session, &i);
    snprintf(port, sizeof port, "%u", i.port);
    out_begin(&r);
    out_str(&r, "kind", "login");
    out_str(&r, "jid", i.bound_jid);
    out_str(&r, "host", i.host);
    out_str(&r, "port", port);
    out_str(&r, "found_by", i.found_by);
    out_str(&r, "address", i.address);
    out_str(&r, "tls_version", i.tls_version);
    out_str(&r, "tls_cipher", i.tls_cipher);
    out_str(&r, "tls_mode", i.direct_tls ? "direct" : "starttls");
    if (i.tls_version)
        out_bool(&r, "tls_resumed", i.tls_resumed);
    out_str(&r, "cert_subject", i.cert_subject);
    out_str(&r, "cert_issuer", i.cert_issuer);
    out_str(&r, "cert_expires", i.cert_not_after);
    out_str(&r, "cert_verified_for", i.cert_verified ? i.domain : NULL);
    out_str(&r, "sasl", i.sasl_mech);
    out_str(&r, "channel_binding", i.sasl_cb ? i.sasl_cb : "none");
    out_str(&r, "sasl_offered", i.sasl_offered);
    out_str(&r, "features", i.features ? i.features : "");
    out_line(&r, "jid", "%s", i.bound_jid);
    if (!i.tls_version) {
        /* the shell's session goes through a session holder */
        out_line(&r, "server", "through the session holder");
    } else {
        out_line(&r, "server", "%s port %u (%s)", i.host, i.port,
                 i.found_by);
        out_line(&r, "address", "%s", i.address);
        out_line(&r, "tls", "%s %s (%s%s)", i.tls_version, i.tls_cipher,
                 i.direct_tls ? "direct TLS" : "STARTTLS",
                 i.tls_resumed ? ", resumed" : "");
        if (i.tls_resumed && !i.chain_len)
            /* TLS 1.3 resumption: the server proves it holds the ticket
             * of a session whose certificate was verified */
            out_line(&r, "certificate", "not sent again (TLS session "
                     "resumed); key %s; verified for %s",
                     i.cert_pin, i.domain);
        else
            out_line(&r, "certificate", "%s; issuer %s; expires %s; %s%s",
                     i.cert_subject, i.cert_issuer, i.cert_not_after,
                     i.cert_verified ? "verified for "
                                     : "NOT VERIFIED (--insecure)",
                     i.cert_verified ? i.domain : "");
        out_line(&r, "sasl", "%s (offered: %s)", i.sasl_mech,
                 i.sasl_offered);
        out_line(&r, "binding", "%s%s", i.sasl_cb ? i.sasl_cb : "none",
                 i.sasl_ssdp ? "; downgrade protection (XEP-0474) verified"
                             : "");
        out_line(&r, "features", "%s",
                 i.features && *i.features ? i.features : "none");
        out_line(&r, "cache", "%s%s%s",
                 i.tls_resumed ? "TLS session resumed; " : "",
                 i.hints_features ? "features remembered; " : "",
                 i.tls_resumed || i.hints_features ? "(--no-cache to forget)"
                                                   : "none used");
    }
    if (out_print(op->c->o.format, &r) < 0 || fflush(stdout) != 0) {
        cli_error("cannot write output");
        return EXIT_IOERR;
    }
    return EXIT_OK;
}

/* Nothing to wait for: the report is all. */
static int login_start(struct op *op)
{
    int rc = report(op);

    op_done(op, rc);
    return rc;
}

static void login_free(struct op *op)
{
    free(op);
}

static const struct op_class login_class = {
    .name = "login",
    .start = login_start,
    .free = login_free,
    /* login proves the whole session works, its close included */
    .close_matters = 1,
};

enum { OPT_CHECK = 256 };

static const struct opt_def login_opts[] = {
    {"check", OPT_CHECK, NULL,
     "log in to every server of the domain and report on its TLS, "
     "certificates and features, with warnings", ARG_NONE},
};

const struct opt_list login_options = {
    login_opts, sizeof login_opts / sizeof login_opts[0]
};

static int set_login(void *ud, int id, const char *arg)
{
    int *check = ud;

    (void)arg;
    if (id != OPT_CHECK)
        return EXIT_SOFTWARE;
    *check = 1;
    return 0;
}

int cmd_login(struct cli *c, int argc, char **argv, struct op **out)
{
    struct op *op;
    int rc, next, check = 0;

    *out = NULL;
    if ((rc = cli_parse_cmd(&c->o, "login", argc, argv, &next, set_login,
                            &check)))
        return rc;
    if (next < argc) {
        cli_error("login takes no arguments, got '%s'", argv[next]);
        return EXIT_USAGE;
    }
    if (check) {
        /* it opens sessions of its own, one per server */
        if (c->interactive || c->session) {
            cli_error("login --check is not available in the shell");
            return EXIT_USAGE;
        }
        c->check = 1;
        return EXIT_OK;
    }
    /* it shows what the server negotiates: its row asks for a session
     * of its own, never a session holder's link */
    if (!(op = calloc(1, sizeof *op)))
        return EXIT_OSERR;
    op->cls = &login_class;
    op->fd = -1;
    op->deadline = -1;
    *out = op;
    return EXIT_OK;
}
