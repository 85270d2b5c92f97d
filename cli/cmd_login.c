/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cmd_login.c - connect, authenticate, bind, tell what was negotiated. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* "2027-11-23 13:00:00 UTC", as the certificate's expiry is shown;
 * "" for 0 (not said). */
static void fast_date(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;

    buf[0] = '\0';
    if (t > 0 && gmtime_r(&tt, &tm))
        strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* The fast line of the report: what became of the FAST token (XEP-0484)
 * in this login, or "" when nothing did. */
static void fast_note(const struct xmp_session_info *i, char *buf,
                      size_t len)
{
    char date[64];
    size_t n = 0;

    buf[0] = '\0';
    if (i->fast_mech)
        n += (size_t)snprintf(buf + n, len - n, "logged in with a token (%s)",
                              i->fast_mech);
    else if (i->fast_refused)
        n += (size_t)snprintf(buf + n, len - n,
                              "token refused; logged in with the password");
    if (n >= len || !i->fast_new)
        return;
    if (i->fast_mech) {
        snprintf(buf + n, len - n, "; token rotated");
        return;
    }
    fast_date(i->fast_expiry, date, sizeof date);
    snprintf(buf + n, len - n, "%stoken received (%s)%s%s", n ? "; " : "",
             i->fast_new, date[0] ? ", expires " : "", date);
}

static int report(struct op *op)
{
    struct xmp_session_info i;
    struct out_record r;
    char port[16], fast[512], expires[64];

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
    out_bool(&r, "sasl2", i.sasl2);
    out_bool(&r, "bind2", i.bind2);
    out_str(&r, "fast_mech", i.fast_mech);
    out_str(&r, "fast_token", !i.fast_new ? "none"
                              : i.fast_mech ? "rotated"
                                            : "received");
    fast_date(i.fast_new ? i.fast_expiry : 0, expires, sizeof expires);
    out_str(&r, "fast_expires", expires[0] ? expires : NULL);
    out_bool(&r, "fast_refused", i.fast_refused);
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
        out_line(&r, "sasl", "%s (offered: %s%s)", i.sasl_mech,
                 i.sasl_offered, i.sasl2 ? "; SASL2" : "");
        fast_note(&i, fast, sizeof fast);
        if (fast[0])
            out_line(&r, "fast", "%s", fast);
        out_line(&r, "binding", "%s%s", i.sasl_cb ? i.sasl_cb : "none",
                 i.sasl_ssdp ? "; downgrade protection (XEP-0474) verified"
                             : "");
        if (i.bind2)
            out_line(&r, "bind", "inline with the authentication (Bind2)");
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

/* login --fast-invalidate: one loop until the session is over, or
 * ready (the token was not invalidated). */
static enum cli_turn invalidate_before(struct cli_driver *d,
                                       struct cli_poll *lp)
{
    struct cli *c = d->cs[0];

    (void)lp;
    return cli_session_over(c->session) ||
                   xmp_session_phase(c->session) == XMP_PHASE_READY
               ? CLI_DONE
               : CLI_POLL;
}

static int drive_invalidate(struct cli *c)
{
    struct cli_driver d;
    int rc;

    memset(&d, 0, sizeof d);
    d.cs = &c;
    d.n = 1;
    d.before = invalidate_before;
    d.signals = 1;
    rc = cli_drive(&d);
    return rc < 0 ? EXIT_OSERR : rc > 0 ? EXIT_SIGNAL_BASE + rc : EXIT_OK;
}

/* login --fast-invalidate (main runs it once the config is read): log
 * in with the account's token, asking the server to invalidate it
 * (XEP-0484 §3.6), and forget it here whatever the server said.
 * Without a token there is nothing to do, and that is no failure. */
static int fast_invalidate(struct cli *c)
{
    struct out_record r;
    int rc;

    cli_needs_apply(c, &cli_command("login")->needs, 0);
    if (!c->o.jid) {
        cli_error("no account: use --jid JID or an account in the config "
                  "file");
        return EXIT_USAGE;
    }
    if (c->o.insecure) {
        cli_error("--fast-invalidate: a token is never used with "
                  "--insecure");
        return EXIT_USAGE;
    }
    if (cli_fast_load(c->o.jid, c->o.verbose, &c->fast) < 0) {
        cli_warn("no FAST token for %s: nothing to invalidate", c->o.jid);
        return EXIT_OK;
    }
    cli_fast_clear(&c->fast);
    c->fast_invalidate = 1;
    rc = cli_session_open(c);
    if (rc == EXIT_OK)
        rc = drive_invalidate(c);
    /* the token goes whether or not the server answered */
    cli_fast_forget(c->o.jid);
    if (rc != EXIT_OK)
        return rc;
    if (xmp_session_phase(c->session) == XMP_PHASE_READY) {
        /* logged in, but not with the token: it may still be valid
         * there */
        cli_error("the server did not invalidate the FAST token (the "
                  "login did not use it); removed here");
        xmp_session_close(c->session);
        return EXIT_UNAVAILABLE;
    }
    if (xmp_session_phase(c->session) == XMP_PHASE_FAILED) {
        rc = cli_session_status(c);
        cli_warn("the FAST token was removed here");
        return rc;
    }
    out_begin(&r);
    out_str(&r, "kind", "fast_invalidate");
    out_str(&r, "jid", c->o.jid);
    out_str(&r, "fast_token", "invalidated");
    out_line(&r, "fast", "token invalidated by the server; removed here");
    if (out_print(c->o.format, &r) < 0 || fflush(stdout) != 0) {
        cli_error("cannot write output");
        return EXIT_IOERR;
    }
    return EXIT_OK;
}

enum { OPT_CHECK = 256, OPT_FAST_INVALIDATE };

static const struct opt_def login_opts[] = {
    {"check", OPT_CHECK, NULL,
     "log in to every server of the domain and report on its TLS, "
     "certificates and features, with warnings", ARG_NONE},
    {"fast-invalidate", OPT_FAST_INVALIDATE, NULL,
     "log in with the account's FAST token to have the server invalidate "
     "it, and remove it here", ARG_NONE},
};

const struct opt_list login_options = {
    login_opts, sizeof login_opts / sizeof login_opts[0]
};

static int set_login(void *ud, int id, const char *arg)
{
    int *what = ud;

    (void)arg;
    if (id == OPT_CHECK)
        what[0] = 1;
    else if (id == OPT_FAST_INVALIDATE)
        what[1] = 1;
    else
        return EXIT_SOFTWARE;
    return 0;
}

int cmd_login(struct cli *c, int argc, char **argv, struct op **out)
{
    struct op *op;
    int rc, next, what[2] = {0, 0}; /* --check, --fast-invalidate */

    *out = NULL;
    if ((rc = cli_parse_cmd(&c->o, "login", argc, argv, &next, set_login,
                            what)))
        return rc;
    if (next < argc) {
        cli_error("login takes no arguments, got '%s'", argv[next]);
        return EXIT_USAGE;
    }
    if (what[0] && what[1]) {
        cli_error("login: --check and --fast-invalidate do not go together");
        return EXIT_USAGE;
    }
    if (what[1]) {
        if (c->interactive || c->session) {
            cli_error("login --fast-invalidate is not available in the "
                      "shell");
            return EXIT_USAGE;
        }
        c->run = fast_invalidate;
        return EXIT_OK;
    }
    if (what[0]) {
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
