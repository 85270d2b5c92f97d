/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * check.c - "login --check": every server the DNS names for the domain
 * (or the one of --server), each logged in to in turn, and what a
 * person running the server should know: the SRV records of both kinds,
 * the certificate chain, expiry, key and signature algorithms, the TLS
 * version and suite, the stream features at each stage, and warnings for
 * what is weak.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"

/* Certificates expiring sooner than this get a warning (what
 * certificate monitors commonly use; Let's Encrypt renews at 30 days). */
#define CHECK_EXPIRY_WARN_DAYS 14
#define CHECK_SECONDS_PER_DAY 86400
/* Waiting for the server's close after the report is a courtesy. */
#define CHECK_CLOSE_WAIT_MS 5000

static const char *const srv_services[] = {
    "SRV _xmpps-client._tcp", "SRV _xmpp-client._tcp"
};

struct warnings {
    char **text;
    size_t n;
};

static void warn_add(struct warnings *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void warn_add(struct warnings *w, const char *fmt, ...)
{
    char **t;
    char *s;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        return;
    if (!(t = realloc(w->text, (w->n + 1) * sizeof *t))) {
        free(s);
        return;
    }
    w->text = t;
    w->text[w->n++] = s;
}

static void warn_free(struct warnings *w)
{
    size_t i;

    for (i = 0; i < w->n; i++)
        free(w->text[i]);
    free(w->text);
}

static const char *or_none(const char *s)
{
    return s && *s ? s : "none";
}

/* ---- one target ------------------------------------------------------------- */

long long cli_cert_days_left(const struct xmp_cert_info *ci, time_t now)
{
    long long d = (long long)ci->not_after_epoch - (long long)now;

    return d < 0 ? -((-d + CHECK_SECONDS_PER_DAY - 1) / CHECK_SECONDS_PER_DAY)
                 : d / CHECK_SECONDS_PER_DAY;
}

/* Is word one of the space-separated words of list? */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    const char *p = list;

    while ((p = strstr(p, word))) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}

static void weak_points(const struct xmp_session_info *i, const char *where,
                        time_t now, struct warnings *w)
{
    size_t k;

    for (k = 0; k < i->chain_len; k++) {
        const struct xmp_cert_info *ci = &i->chain[k];
        long long d = cli_cert_days_left(ci, now);

        if (ci->not_after_epoch - (long long)now <
            (long long)CHECK_EXPIRY_WARN_DAYS * CHECK_SECONDS_PER_DAY)
            warn_add(w, "%s: certificate %zu (%s) %s %s (%lld days)", where,
                     k, ci->subject, d < 0 ? "expired on" : "expires on",
                     ci->not_after, d);
        if (ci->sig_weak)
            warn_add(w, "%s: certificate %zu (%s) is signed with %s, which "
                     "can be forged", where, k, ci->subject, ci->sig_alg);
    }
    if (i->sasl_offered_before_tls && *i->sasl_offered_before_tls) {
        if (has_word(i->sasl_offered_before_tls, "PLAIN"))
            warn_add(w, "%s: PLAIN is offered before TLS (a client that "
                     "takes it sends the password in the clear)", where);
        else
            warn_add(w, "%s: SASL mechanisms are offered before TLS (%s)",
                     where, i->sasl_offered_before_tls);
    }
}

void cli_check_chain(struct out_record *r, struct out_record *chain,
                     const struct xmp_session_info *i, time_t now)
{
    size_t k;

    for (k = 0; k < i->chain_len; k++) {
        const struct xmp_cert_info *ci = &i->chain[k];

        out_begin(&chain[k]);
        out_str(&chain[k], "subject", ci->subject);
        out_str(&chain[k], "issuer", ci->issuer);
        out_str(&chain[k], "not_before", ci->not_before);
        out_str(&chain[k], "not_after", ci->not_after);
        out_int(&chain[k], "days_left", cli_cert_days_left(ci, now));
        out_str(&chain[k], "key", ci->key_type);
        out_int(&chain[k], "key_bits", ci->key_bits);
        out_str(&chain[k], "signature", ci->sig_alg);
        out_line(r, "chain", "%zu: %s; issuer %s; valid %s to %s "
                 "(%lld days left); %s %u bits; signed %s",
                 k, ci->subject, ci->issuer, ci->not_before,
                 ci->not_after, cli_cert_days_left(ci, now), ci->key_type,
                 ci->key_bits, ci->sig_alg);
    }
    out_objects(r, "chain", chain, i->chain_len);
}

/* The record of one target's login: fields and lines. */
static int report(enum out_format format, const struct xmp_session_info *i,
                  const struct xmp_srv_target *t, time_t now,
                  const char *error)
{
    struct out_record r, *chain = NULL;
    int rc;

    out_begin(&r);
    out_str(&r, "kind", "target");
    out_str(&r, "host", t->host);
    if (t->port) {
        out_int(&r, "port", t->port);
        out_line(&r, "target", "%s port %u (%s, %s)", t->host, t->port,
                 t->found_by, t->direct_tls ? "direct TLS" : "STARTTLS");
    } else {
        out_line(&r, "target", "%s (%s, %s)", t->host, t->found_by,
                 t->direct_tls ? "direct TLS" : "STARTTLS");
    }
    out_str(&r, "found_by", t->found_by);
    out_str(&r, "tls_mode", t->direct_tls ? "direct" : "starttls");
    out_str(&r, "address", i->address);
    if (i->address)
        out_line(&r, "address", "%s", i->address);
    if (!t->direct_tls) {
        out_str(&r, "features_before_tls", i->features_before_tls);
        out_str(&r, "sasl_offered_before_tls", i->sasl_offered_before_tls);
        out_line(&r, "plaintext", "features: %s; mechanisms: %s",
                 or_none(i->features_before_tls),
                 or_none(i->sasl_offered_before_tls));
    }
    out_str(&r, "tls_version", i->tls_version);
    out_str(&r, "tls_cipher", i->tls_cipher);
    if (i->tls_version) {
        if (i->chain_len && !(chain = calloc(i->chain_len, sizeof *chain))) {
            cli_error("out of memory");
            return -1;
        }
        out_bool(&r, "tls_resumed", i->tls_resumed);
        out_line(&r, "tls", "%s %s%s", i->tls_version, i->tls_cipher,
                 i->tls_resumed ? " (resumed)" : "");
        cli_check_chain(&r, chain, i, now);
        out_str(&r, "pin", i->cert_pin);
        out_bool(&r, "verified", i->cert_verified);
        out_line(&r, "pin", "%s", i->cert_pin);
        out_line(&r, "verified", "%s%s",
                 i->cert_verified ? "for " : "NO (--insecure)",
                 i->cert_verified ? i->domain : "");
        out_line(&r, "features", "before authentication: %s",
                 or_none(i->features_before_auth));
        out_line(&r, "sasl", "%s (offered: %s)", or_none(i->sasl_mech),
                 or_none(i->sasl_offered));
        if (i->sasl_mech) {
            out_str(&r, "channel_binding", i->sasl_cb ? i->sasl_cb : "none");
            out_line(&r, "binding", "%s", i->sasl_cb ? i->sasl_cb : "none");
        }
        if (i->bound_jid) {
            out_line(&r, "features", "after authentication: %s",
                     or_none(i->features));
            out_line(&r, "jid", "%s", i->bound_jid);
        }
    }
    out_str(&r, "features_before_auth", i->features_before_auth);
    out_str(&r, "sasl_offered", i->sasl_offered);
    out_str(&r, "sasl", i->sasl_mech);
    if (i->bound_jid) {
        out_str(&r, "features_after_auth", i->features ? i->features : "");
        out_str(&r, "jid", i->bound_jid);
    }
    out_str(&r, "error", error);
    if (error)
        out_line(&r, "error", "%s", error);
    rc = out_print(format, &r);
    free(chain);
    return rc;
}

/* A target's login: until ready, or its end. */
enum cli_turn cli_check_until_ready(struct cli_driver *d, struct cli_poll *lp)
{
    const struct xmp_session *s = d->cs[0]->session;

    (void)lp;
    return xmp_session_phase(s) == XMP_PHASE_READY || cli_session_over(s)
               ? CLI_DONE
               : CLI_POLL;
}

/* The close after the report: until the server's, or *end. */
enum cli_turn cli_check_until_closed(struct cli_driver *d, struct cli_poll *lp)
{
    const int64_t *end = d->ud;

    if (cli_session_over(d->cs[0]->session) || xmp_now_ms() >= *end)
        return CLI_DONE;
    lp->deadline = *end;
    return CLI_POLL;
}

/* 0, the number of a signal that came, or -1 (reported). */
int cli_check_drive(struct cli *c,
                    enum cli_turn (*before)(struct cli_driver *,
                                            struct cli_poll *),
                    void *ud)
{
    struct cli_driver d;

    memset(&d, 0, sizeof d);
    d.cs = &c;
    d.n = 1;
    d.before = before;
    d.ud = ud;
    d.signals = 1;
    return cli_drive(&d);
}

/* Log in to the server c->o.server names: 0, or the exit status with
 * what went wrong in *why.  *stop: no session could even be set up
 * (reported; c->session NULL), or a signal came (128+N returned). */
static int check_login(struct cli *c, struct xmp_error *why, int *stop)
{
    struct xmp_session_info i;
    int rc, sig;

    memset(why, 0, sizeof *why);
    if ((rc = cli_session_open(c)) != EXIT_OK) {
        if (!c->session) {
            *stop = 1;
            return rc;
        }
    } else if ((sig = cli_check_drive(c, cli_check_until_ready, NULL)) > 0) {
        snprintf(why->msg, sizeof why->msg, "interrupted by signal %d", sig);
        *stop = 1;
        return EXIT_SIGNAL_BASE + sig;
    } else if (sig < 0) {
        rc = EXIT_OSERR;
    } else if (xmp_session_phase(c->session) == XMP_PHASE_CLOSED) {
        xmp_session_get_info(c->session, &i);
        return cli_exit_status(xmp_error_set(
            why, XMP_EUNREACH, "connection to %s closed", i.domain));
    } else if (xmp_session_phase(c->session) == XMP_PHASE_READY) {
        return EXIT_OK;
    } else {
        rc = cli_exit_status(xmp_session_error(c->session)->code);
    }
    *why = *xmp_session_error(c->session);
    return rc;
}

/* Log in to t, report it; the exit status of that login.  *stop: as
 * check_login's, or a signal came while closing. */
static int check_target(struct cli *c, const struct xmp_srv_target *t,
                        time_t now, struct warnings *w, int *stop)
{
    struct xmp_session_info i;
    struct xmp_error why;
    char *server = NULL, where[300];
    int64_t end;
    int rc, sig;

    /* port 0: --server as given */
    if (!t->port)
        server = strdup(t->host);
    else if (asprintf(&server, strchr(t->host, ':') ? "[%s]:%u" : "%s:%u",
                      t->host, t->port) < 0)
        server = NULL;
    if (!server)
        return EXIT_OSERR;
    free(c->o.server);
    c->o.server = server;
    c->o.direct_tls = t->direct_tls;
    if (t->port)
        snprintf(where, sizeof where, "%s port %u", t->host, t->port);
    else
        snprintf(where, sizeof where, "%s", t->host);
    if ((rc = check_login(c, &why, stop)) != EXIT_OK && !c->session)
        return rc;
    xmp_session_get_info(c->session, &i);
    cli_before_output();
    report(c->o.format, &i, t, now, rc ? why.msg : NULL);
    weak_points(&i, where, now, w);
    if (rc == EXIT_OK) {
        xmp_session_close(c->session);
        end = xmp_now_ms() + CHECK_CLOSE_WAIT_MS;
        if ((sig = cli_check_drive(c, cli_check_until_closed, &end)) > 0) {
            rc = EXIT_SIGNAL_BASE + sig;
            *stop = 1;
        }
    }
    xmp_session_free(c->session);
    c->session = NULL;
    return rc;
}

/* ---- the whole check ------------------------------------------------------ */

int cli_check(struct cli *c)
{
    struct xmp_srv_target *t = NULL, given;
    struct warnings w = { NULL, 0 };
    struct xmp_error err;
    struct xmp_jid jid;
    char *server = c->o.server ? strdup(c->o.server) : NULL;
    int given_direct = c->o.direct_tls;
    size_t n = 0, k, s;
    struct out_record rec;
    int rc = EXIT_OK, r, direct = 0, stop = 0, by_proxy = 0;
    time_t now = time(NULL);

    if (!c->o.jid) {
        cli_error("no account: use --jid JID or an account in the config "
                  "file");
        rc = EXIT_USAGE;
        goto out;
    }
    if (c->o.server && !server) {
        rc = EXIT_OSERR;
        goto out;
    }
    if (xmp_jid_parse(c->o.jid, &jid, &err) != XMP_OK) {
        cli_error("%s", err.msg);
        rc = cli_exit_status(err.code);
        goto out;
    }
    /* a proxy that looks names up (socks5h, http): no DNS query leaves
     * from here, SRV included; the domain goes to the proxy, as a
     * session's would */
    if (!server && c->o.proxy &&
        (strncasecmp(c->o.proxy, "socks5h://", 10) == 0 ||
         strncasecmp(c->o.proxy, "http://", 7) == 0)) {
        if (!(server = strdup(jid.domain))) {
            xmp_jid_clear(&jid);
            rc = EXIT_OSERR;
            goto out;
        }
        by_proxy = 1;
    }
    if (server) {
        /* the one server asked for; the DNS is not consulted */
        memset(&given, 0, sizeof given);
        snprintf(given.host, sizeof given.host, "%s", server);
        given.direct_tls = given_direct;
        given.found_by = by_proxy ? "the proxy's lookup: SRV not asked"
                                  : "--server";
        t = &given;
        n = 1;
    } else if (xmp_srv_targets(jid.domain, &t, &n, &err) != XMP_OK) {
        xmp_jid_clear(&jid);
        cli_error("%s", err.msg);
        rc = cli_exit_status(err.code);
        goto out;
    }
    if (!server) {
        for (s = 0; s < 2; s++) {
            int any = 0;

            for (k = 0; k < n; k++) {
                if (strcmp(t[k].found_by, srv_services[s]) != 0)
                    continue;
                any = 1;
                out_begin(&rec);
                out_str(&rec, "kind", "srv");
                out_str(&rec, "service", srv_services[s] + 4);
                out_str(&rec, "host", t[k].host);
                out_int(&rec, "port", t[k].port);
                out_int(&rec, "priority", t[k].priority);
                out_int(&rec, "weight", t[k].weight);
                out_line(&rec, "srv", "%s.%s: %s port %u (priority %u, "
                         "weight %u)",
                         srv_services[s] + 4, jid.domain, t[k].host,
                         t[k].port, t[k].priority, t[k].weight);
                out_print(c->o.format, &rec);
            }
            if (!any) {
                /* nothing for a program: the absence of srv lines */
                out_begin(&rec);
                out_line(&rec, "srv", "%s.%s: none", srv_services[s] + 4,
                         jid.domain);
                out_print(c->o.format, &rec);
            }
        }
        for (k = 0; k < n; k++)
            direct |= t[k].direct_tls;
        if (n && strcmp(t[0].found_by, "fallback") == 0)
            warn_add(&w, "%s has no SRV records: clients fall back to %s "
                     "port %u", jid.domain, t[0].host, t[0].port);
        else if (!direct)
            warn_add(&w, "%s has no _xmpps-client._tcp records: no direct "
                     "TLS (XEP-0368)", jid.domain);
    }
    xmp_jid_clear(&jid);
    for (k = 0; k < n && !stop; k++) {
        r = check_target(c, &t[k], now, &w, &stop);
        if ((r && !rc) || r > EXIT_SIGNAL_BASE)
            rc = r;
    }
    for (k = 0; k < w.n; k++) {
        out_begin(&rec);
        out_str(&rec, "kind", "warning");
        out_str(&rec, "text", w.text[k]);
        out_line(&rec, "warning", "%s", w.text[k]);
        out_print(c->o.format, &rec);
    }
    if (fflush(stdout) != 0) {
        cli_error("cannot write output");
        if (!rc)
            rc = EXIT_IOERR;
    }
out:
    cli_secret_wipe(&c->secret);
    if (t != &given)
        free(t);
    free(server);
    warn_free(&w);
    return rc;
}
