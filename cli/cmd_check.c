/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cmd_check.c - "check DOMAIN": a report on a domain's servers for the
 * people who run them, without an account.  The client side: every
 * _xmpps-client/_xmpp-client target (or --server) probed as a client
 * sees it before logging in: the features before and after TLS, the
 * SASL offer, the TLS version and suite, the certificate chain and
 * whether it is valid for the domain.  The server side: every
 * _xmpps-server/_xmpp-server target (or --s2s-server) probed with a
 * jabber:server stream: STARTTLS offered or required, the certificate
 * as served to servers, dialback (XEP-0220) offered, SASL EXTERNAL
 * after TLS.  Nothing is authenticated; each probe ends with a polite
 * close.  With an account (--jid, --account) the report goes on with
 * what "login --check" shows (check.c).  A verdict per side, and an
 * exit status a monitoring check can act on (--require, --min-days).
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

/* Waiting for the server's close after the features is a courtesy,
 * bounded like login --check's. */
#define CHECK_PROBE_CLOSE_MS 5000

enum { SIDE_CLIENT, SIDE_SERVER, SIDES };

/* The TLS versions probed one handshake each, oldest first: TLS 1.0 and
 * 1.1 (RFC 8996 deprecates them) only where the TLS library was built
 * with them. */
#define CHECK_VERSIONS 4
static const char *const version_names[CHECK_VERSIONS] = {
    "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"
};

/* The keys of the JSON "suites" object, in the order of the above. */
static const char *const version_keys[CHECK_VERSIONS] = {
    "TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"
};

/* The cipher suites probed one handshake each, for every TLS version a
 * target accepted: those xmp_tls_probe_suites lists, at most this many
 * per version. */
#define CHECK_SUITES_MAX 40

/* What makes a suite weak (RFC 7525 §4.2, RFC 9325 §4.1). */
#define WEAK_NO_FS 1     /* static RSA key exchange */
#define WEAK_CBC 2       /* MAC-then-encrypt */
#define WEAK_3DES 4
#define WEAK_RC4 8
#define WEAK_NULL 16
#define WEAK_EXPORT 32
static const char *const weak_names[] = {
    "no forward secrecy", "CBC", "3DES", "RC4", "NULL cipher", "export",
    NULL
};

/* The suites a target accepted, by version. */
struct suites {
    int ids[CHECK_VERSIONS][CHECK_SUITES_MAX];
    size_t n[CHECK_VERSIONS];
    int probed;      /* the suites were probed at all */
};

static const char *const side_name[SIDES] = {"client", "server"};

/* What --require can ask for, in the order of the bits. */
#define REQ_TLS13 1
#define REQ_DIALBACK 2
#define REQ_VERIFIED 4
static const char *const require_names[] = {"tls1.3", "dialback", "verified",
                                            NULL};

struct check_args {
    char *domain;
    char *server, *s2s_server, *from;
    unsigned require;
    long min_days;   /* -1: none */
    int login;       /* an account was named: login --check after */
    int no_suites;   /* --no-suites */
};

/* One command per process (main runs it through c->run, which takes
 * only the client): its arguments live here between the parse and the
 * run. */
static struct check_args args = {NULL, NULL, NULL, NULL, 0, -1, 0, 0};

/* A side's verdict: "good", "weak" with reasons, "fail" when no target
 * answered; unmet requirements apart. */
struct side {
    int asked;       /* the side is part of the report */
    int direct_ok;   /* a direct TLS target answered */
    size_t tried, probed;
    struct xmp_error first_err; /* the first target's failure */
    char reasons[1024];  /* "; "-separated */
    char unmet[1024];
};

static void note(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;

    if (used + 3 >= len)
        return;
    if (used) {
        memcpy(buf + used, "; ", 3);
        used += 2;
    }
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

static const char *or_none(const char *s)
{
    return s && *s ? s : "none";
}

/* "a, b, c" of the n names, or "none". */
static const char *joined(const char *const *names, size_t n, char *buf,
                          size_t len)
{
    size_t k;

    snprintf(buf, len, "%s", n ? "" : "none");
    for (k = 0; k < n; k++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
                 k ? ", " : "", names[k]);
    return buf;
}

/* The WEAK_ bits of the suite the TLS library calls name
 * ("TLS-RSA-WITH-AES-128-CBC-SHA"; TLS 1.3's "TLS1-3-AES-128-GCM-SHA256"
 * have no key exchange of their own and are all ephemeral). */
static unsigned suite_weakness(const char *name)
{
    const char *with = strstr(name, "-WITH-");
    unsigned w = 0;

    if (with && strncmp(name, "TLS-", 4) == 0 &&
        strncmp(name + 4, "ECDHE-", 6) != 0 &&
        strncmp(name + 4, "DHE-", 4) != 0)
        w |= WEAK_NO_FS;
    if (strstr(name, "-CBC-"))
        w |= WEAK_CBC;
    if (strstr(name, "3DES"))
        w |= WEAK_3DES;
    if (strstr(name, "RC4"))
        w |= WEAK_RC4;
    if (strstr(name, "-NULL-"))
        w |= WEAK_NULL;
    if (strstr(name, "EXPORT"))
        w |= WEAK_EXPORT;
    return w;
}

/* "no forward secrecy, CBC" of the WEAK_ bits w. */
static const char *weakness_text(unsigned w, char *buf, size_t len)
{
    size_t k;

    buf[0] = '\0';
    for (k = 0; weak_names[k]; k++)
        if (w & (1u << k))
            snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
                     buf[0] ? ", " : "", weak_names[k]);
    return buf;
}

/* ---- one probe ---------------------------------------------------------- */

static enum cli_turn probe_before(struct cli_driver *d, struct cli_poll *lp)
{
    (void)lp;
    return cli_session_over(d->cs[0]->session) ? CLI_DONE : CLI_POLL;
}

/* What the target's probe says of the side's verdict and requirements. */
static void judge(const struct xmp_session_info *i,
                  const struct xmp_srv_target *t, int side, time_t now,
                  struct side *sd)
{
    const char *where = t->host;

    if (!i->direct_tls && !i->starttls_required && i->features_before_tls)
        note(sd->reasons, sizeof sd->reasons, "%s port %u: STARTTLS is %s",
             where, t->port,
             cli_word_listed(i->features_before_tls, "tls") ? "not required"
                                                   : "not offered");
    if (!i->tls_version)
        return;
    if (!i->cert_verified)
        note(sd->reasons, sizeof sd->reasons,
             "%s port %u: certificate not valid for %s (%s)", where, t->port,
             i->domain, or_none(i->cert_verify_msg));
    if (i->sasl_offered_before_tls && *i->sasl_offered_before_tls)
        note(sd->reasons, sizeof sd->reasons,
             "%s port %u: SASL offered before TLS (%s)", where, t->port,
             i->sasl_offered_before_tls);
    if ((args.require & REQ_TLS13) && strcmp(i->tls_version, "TLSv1.3") != 0)
        note(sd->unmet, sizeof sd->unmet, "%s port %u: %s, not TLS 1.3",
             where, t->port, i->tls_version);
    if ((args.require & REQ_VERIFIED) && !i->cert_verified)
        note(sd->unmet, sizeof sd->unmet,
             "%s port %u: certificate not verified", where, t->port);
    if (side == SIDE_SERVER && (args.require & REQ_DIALBACK) &&
        !cli_word_listed(i->features_before_auth, "dialback"))
        note(sd->unmet, sizeof sd->unmet, "%s port %u: no dialback offered",
             where, t->port);
    if (args.min_days >= 0 && i->chain_len &&
        cli_cert_days_left(&i->chain[0], now) < args.min_days)
        note(sd->unmet, sizeof sd->unmet,
             "%s port %u: certificate expires in %lld days (--min-days %ld)",
             where, t->port, cli_cert_days_left(&i->chain[0], now),
             args.min_days);
}

static void report(enum out_format format, const struct xmp_session_info *i,
                   const struct xmp_srv_target *t, int side, time_t now,
                   const char *error, const char *const *said,
                   const struct suites *su)
{
    const char *names[CHECK_VERSIONS][CHECK_SUITES_MAX];
    const char *weak[CHECK_VERSIONS * CHECK_SUITES_MAX];
    struct out_record bysuite, line;
    size_t nweak = 0, v;
    char why[128];
    const char *acc[CHECK_VERSIONS], *ref[CHECK_VERSIONS],
        *not[CHECK_VERSIONS];
    size_t na = 0, nr = 0, nn = 0, k;
    char buf[3][64];
    struct out_record r, *chain = NULL;
    const char *starttls;
    int s2s = side == SIDE_SERVER;

    out_begin(&r);
    out_str(&r, "kind", s2s ? "s2s" : "c2s");
    out_str(&r, "host", t->host);
    out_int(&r, "port", t->port);
    out_str(&r, "found_by", t->found_by);
    out_str(&r, "tls_mode", t->direct_tls ? "direct" : "starttls");
    out_line(&r, s2s ? "server" : "client", "%s port %u (%s, %s)", t->host,
             t->port, t->found_by, t->direct_tls ? "direct TLS" : "STARTTLS");
    out_str(&r, "address", i->address);
    if (i->address)
        out_line(&r, "address", "%s", i->address);
    if (!t->direct_tls && i->features_before_tls) {
        starttls = !cli_word_listed(i->features_before_tls, "tls") ? "no"
                   : i->starttls_required                 ? "required"
                                                          : "offered";
        out_str(&r, "features_before_tls", i->features_before_tls);
        out_str(&r, "sasl_offered_before_tls", i->sasl_offered_before_tls);
        out_str(&r, "starttls", starttls);
        out_line(&r, "plaintext", "features: %s; mechanisms: %s",
                 or_none(i->features_before_tls),
                 or_none(i->sasl_offered_before_tls));
        out_line(&r, "starttls", "%s", starttls);
    }
    if (i->tls_version) {
        out_str(&r, "tls_version", i->tls_version);
        out_str(&r, "tls_cipher", i->tls_cipher);
        out_line(&r, "tls", "%s %s", i->tls_version, i->tls_cipher);
        if (i->chain_len && (chain = calloc(i->chain_len, sizeof *chain)))
            cli_check_chain(&r, chain, i, now);
        out_bool(&r, "verified", i->cert_verified);
        if (!i->cert_verified)
            out_str(&r, "verify_error", i->cert_verify_msg);
        out_line(&r, "verified", "%s%s",
                 i->cert_verified ? "for " : "NO: ",
                 i->cert_verified ? i->domain : or_none(i->cert_verify_msg));
        if (i->probed || i->features_before_auth) {
            out_str(&r, "features_after_tls", i->features_before_auth);
            out_str(&r, "sasl_offered", i->sasl_offered);
            out_line(&r, "features", "after TLS: %s",
                     or_none(i->features_before_auth));
            out_line(&r, "sasl", "offered: %s", or_none(i->sasl_offered));
        }
    }
    if (said) {
        for (k = 0; k < CHECK_VERSIONS; k++) {
            if (strcmp(said[k], "accepted") == 0)
                acc[na++] = version_names[k];
            else if (strcmp(said[k], "refused") == 0)
                ref[nr++] = version_names[k];
            else
                not[nn++] = version_names[k];
        }
        out_list(&r, "tls_accepted", acc, na);
        out_list(&r, "tls_refused", ref, nr);
        out_list(&r, "tls_not_probed", not, nn);
        out_line(&r, "versions", "accepted: %s",
                 joined(acc, na, buf[0], sizeof buf[0]));
        out_line(&r, "versions", "refused: %s",
                 joined(ref, nr, buf[1], sizeof buf[1]));
        if (nn)
            out_line(&r, "versions", "not probed: %s",
                     joined(not, nn, buf[2], sizeof buf[2]));
    }
    if (su && su->probed) {
        out_begin(&bysuite);
        for (v = 0; v < CHECK_VERSIONS; v++) {
            if (strcmp(said[v], "accepted") != 0)
                continue;
            for (k = 0; k < su->n[v]; k++) {
                names[v][k] = xmp_tls_suite_name(su->ids[v][k]);
                if (suite_weakness(names[v][k]))
                    weak[nweak++] = names[v][k];
            }
            out_list(&bysuite, version_keys[v], names[v], su->n[v]);
        }
        out_object(&r, "suites", &bysuite);
        out_list(&r, "weak_suites", weak, nweak);
    }
    if (s2s && i->probed) {
        /* XEP-0220 §2.4: the features of either stream may carry it */
        int db = cli_word_listed(i->features_before_auth, "dialback") ||
                 cli_word_listed(i->features_before_tls, "dialback");
        int ext = cli_word_listed(i->sasl_offered, "EXTERNAL");

        out_bool(&r, "dialback", db);
        out_bool(&r, "sasl_external", ext);
        out_line(&r, "dialback", "%s", db ? "offered" : "not offered");
        out_line(&r, "external", "%s", ext ? "offered" : "not offered");
    }
    out_str(&r, "error", error);
    if (error)
        out_line(&r, "error", "%s", error);
    out_print(format, &r);
    free(chain);
    /* the suites, one line each: too many for the record's lines */
    for (v = 0; su && su->probed && v < CHECK_VERSIONS; v++) {
        if (strcmp(said[v], "accepted") != 0)
            continue;
        for (k = 0; k < su->n[v]; k++) {
            out_begin(&line);
            weakness_text(suite_weakness(names[v][k]), why, sizeof why);
            out_line(&line, "suite", "%s %s%s%s%s", version_names[v],
                     names[v][k], why[0] ? " (weak: " : "", why,
                     why[0] ? ")" : "");
            out_print(format, &line);
        }
        if (!su->n[v]) {
            out_begin(&line);
            out_line(&line, "suite", "%s none of this build's",
                     version_names[v]);
            out_print(format, &line);
        }
    }
}

/* Probe t as side in c->session, until it is over; tls_version: 0, or
 * the one TLS version to offer; suite: 0, or the one cipher suite.  0, 128+N for a signal, or -1 when the
 * probe could not even be set up (reported). */
static int open_probe(struct cli *c, const struct xmp_srv_target *t,
                      int side, int tls_version, int suite)
{
    struct xmp_session_opts so;
    struct xmp_error err;
    struct cli_driver d;
    char server[300];
    int sig, rc = 0;

    snprintf(server, sizeof server,
             strchr(t->host, ':') ? "[%s]:%u" : "%s:%u", t->host, t->port);
    memset(&so, 0, sizeof so);
    so.jid = args.domain;
    so.server = server;
    so.direct_tls = t->direct_tls;
    so.proxy = c->o.proxy;
    so.trust = c->trust;
    /* the handshake goes on past a certificate that does not verify:
     * what is wrong with it is what the report is for */
    so.insecure = 1;
    so.timeout_ms = (c->o.timeout_s ? c->o.timeout_s
                                    : CLI_DEFAULT_TIMEOUT_S) * 1000;
    so.probe = side == SIDE_SERVER ? XMP_PROBE_SERVER : XMP_PROBE_CLIENT;
    so.probe_from = args.from;
    so.probe_tls_version = tls_version;
    so.probe_tls_suite = suite;
    so.trace = c->o.verbose ? cli_trace : NULL;
    so.trace_ud = c;
    if (!(c->session = xmp_session_new(&so, &err))) {
        cli_error("%s", err.msg);
        return -1;
    }
    if (xmp_session_start(c->session) == XMP_OK) {
        memset(&d, 0, sizeof d);
        d.cs = &c;
        d.n = 1;
        d.before = probe_before;
        d.signals = 1;
        if ((sig = cli_drive(&d)) > 0)
            rc = EXIT_SIGNAL_BASE + sig;
    }
    return rc;
}

/* The cipher suites this build can offer with TLS version v, one
 * handshake each, closed as soon as it ends: those t accepts go to
 * su's list k.  0, or 128+N, or -1 as open_probe. */
static int probe_suites(struct cli *c, const struct xmp_srv_target *t,
                        int side, size_t k, int v, struct suites *su)
{
    int ids[CHECK_SUITES_MAX];
    struct xmp_session_info i;
    size_t n, j;
    int rc;

    n = xmp_tls_probe_suites(v, ids, CHECK_SUITES_MAX);
    su->probed = 1;
    for (j = 0; j < n; j++) {
        if ((rc = open_probe(c, t, side, v, ids[j])) != 0) {
            xmp_session_free(c->session);
            c->session = NULL;
            return rc;
        }
        xmp_session_get_info(c->session, &i);
        if (i.tls_version)
            su->ids[k][su->n[k]++] = ids[j];
        xmp_session_free(c->session);
        c->session = NULL;
    }
    return 0;
}

/* The TLS versions this build can offer, one handshake each: which t
 * accepts (its handshake finished), refuses (it failed as TLS), or
 * could not be asked (anything else, or not in this build); with su,
 * the suites of each version accepted.  0, or 128+N, or -1 as
 * open_probe. */
static int probe_versions(struct cli *c, const struct xmp_srv_target *t,
                          int side, const char **said, struct suites *su)
{
    static const int versions[] = {10, 11, 12, 13};
    struct xmp_session_info i;
    size_t k;
    int rc;

    for (k = 0; k < sizeof versions / sizeof versions[0]; k++) {
        said[k] = "not probed";
        if (!xmp_tls_can_probe(versions[k]))
            continue;
        if ((rc = open_probe(c, t, side, versions[k], 0)) != 0) {
            xmp_session_free(c->session);
            c->session = NULL;
            return rc;
        }
        xmp_session_get_info(c->session, &i);
        if (i.tls_version)
            said[k] = "accepted";
        else if (xmp_session_error(c->session)->code == XMP_ETLS)
            said[k] = "refused";
        else
            said[k] = "unknown";
        xmp_session_free(c->session);
        c->session = NULL;
        if (su && strcmp(said[k], "accepted") == 0 &&
            (rc = probe_suites(c, t, side, k, versions[k], su)) != 0)
            return rc;
    }
    return 0;
}

/* Probe t as side; report it; note what it says in sd.  0, 128+N for a
 * signal, or -1 when the probe could not even be set up (reported). */
static int probe(struct cli *c, const struct xmp_srv_target *t, int side,
                 time_t now, struct side *sd)
{
    struct xmp_session *first;
    struct xmp_session_info i;
    const char *said[CHECK_VERSIONS] = {NULL, NULL, NULL, NULL};
    const char *error = NULL;
    struct suites su;
    unsigned weak = 0;
    char why[128];
    int rc;
    size_t k, j;

    memset(&su, 0, sizeof su);
    sd->tried++;
    if ((rc = open_probe(c, t, side, 0, 0)) != 0)
        goto out;
    xmp_session_get_info(c->session, &i);
    /* what TLS showed counts even when XMPP failed after it */
    if (i.probed || i.tls_version)
        judge(&i, t, side, now, sd);
    if (i.probed) {
        sd->probed++;
        sd->direct_ok |= t->direct_tls;
    } else {
        error = xmp_session_error(c->session)->code
                    ? xmp_session_error(c->session)->msg
                    : "closed by the server before its features";
        if (!sd->first_err.code) {
            sd->first_err = *xmp_session_error(c->session);
            if (!sd->first_err.code)
                xmp_error_set(&sd->first_err, XMP_EUNREACH, "%s port %u: %s",
                              t->host, t->port, error);
        }
    }
    /* the versions, where a TLS handshake was reached at all (one that
     * failed may have failed on the version); the first session's info
     * stays valid meanwhile */
    if (i.tls_version || xmp_session_error(c->session)->code == XMP_ETLS) {
        first = c->session;
        c->session = NULL;
        rc = probe_versions(c, t, side, said, args.no_suites ? NULL : &su);
        c->session = first;
        if (rc)
            goto out;
        for (k = 0; k < 2; k++)
            if (strcmp(said[k], "accepted") == 0)
                note(sd->reasons, sizeof sd->reasons,
                     "%s port %u: %s is still accepted", t->host, t->port,
                     version_names[k]);
        for (k = 0; k < CHECK_VERSIONS; k++)
            for (j = 0; j < su.n[k]; j++)
                weak |= suite_weakness(xmp_tls_suite_name(su.ids[k][j]));
        if (weak)
            note(sd->reasons, sizeof sd->reasons,
                 "%s port %u: weak cipher suites accepted (%s)", t->host,
                 t->port, weakness_text(weak, why, sizeof why));
    }
    cli_before_output();
    report(c->o.format, &i, t, side, now, error, said[0] ? said : NULL,
           said[0] ? &su : NULL);
out:
    xmp_session_free(c->session);
    c->session = NULL;
    return rc;
}

/* ---- a side ---------------------------------------------------------------- */

static void srv_lines(enum out_format format, const char *domain,
                      const struct xmp_srv_target *t, size_t n,
                      const char *const services[2])
{
    struct out_record rec;
    size_t k, s;
    int any;

    for (s = 0; s < 2; s++) {
        any = 0;
        for (k = 0; k < n; k++) {
            if (strcmp(t[k].found_by + 4, services[s]) != 0)
                continue;
            any = 1;
            out_begin(&rec);
            out_str(&rec, "kind", "srv");
            out_str(&rec, "service", services[s]);
            out_str(&rec, "host", t[k].host);
            out_int(&rec, "port", t[k].port);
            out_int(&rec, "priority", t[k].priority);
            out_int(&rec, "weight", t[k].weight);
            out_line(&rec, "srv", "%s.%s: %s port %u (priority %u, "
                     "weight %u)", services[s], domain, t[k].host,
                     t[k].port, t[k].priority, t[k].weight);
            out_print(format, &rec);
        }
        if (!any) {
            /* nothing for a program: the absence of srv records */
            out_begin(&rec);
            out_line(&rec, "srv", "%s.%s: none", services[s], domain);
            out_print(format, &rec);
        }
    }
}

/* Probe every target of side: from --server/--s2s-server, or the DNS.
 * 0, or 128+N after a signal, or an exit status when nothing could be
 * set up (reported). */
static int check_side(struct cli *c, int side, time_t now, struct side *sd)
{
    static const char *const c2s[2] = {"_xmpps-client._tcp",
                                        "_xmpp-client._tcp"};
    static const char *const s2s[2] = {"_xmpps-server._tcp",
                                        "_xmpp-server._tcp"};
    const char *given = side == SIDE_SERVER ? args.s2s_server : args.server;
    struct xmp_srv_target *t = NULL, one;
    struct xmp_error err;
    size_t n = 0, k;
    int rc = 0, r;
    const char *colon;
    long port;

    sd->asked = 1;
    if (given) {
        memset(&one, 0, sizeof one);
        colon = strrchr(given, ':');
        if (!colon || colon == given ||
            cli_number(side == SIDE_SERVER ? "--s2s-server" : "--server",
                       colon + 1, 1, 65535, &port) != 0)
            return EXIT_USAGE; /* checked when parsed */
        if (given[0] == '[' && colon[-1] == ']')
            snprintf(one.host, sizeof one.host, "%.*s",
                     (int)(colon - given - 2), given + 1);
        else
            snprintf(one.host, sizeof one.host, "%.*s",
                     (int)(colon - given), given);
        one.port = (unsigned)port;
        one.direct_tls = c->o.direct_tls;
        one.found_by = side == SIDE_SERVER ? "--s2s-server" : "--server";
        t = &one;
        n = 1;
    } else {
        if ((side == SIDE_SERVER
                 ? xmp_srv_targets_s2s(args.domain, &t, &n, &err)
                 : xmp_srv_targets(args.domain, &t, &n, &err)) != XMP_OK) {
            cli_error("%s", err.msg);
            sd->first_err = err;
            return 0;
        }
        srv_lines(c->o.format, args.domain, t, n,
                  side == SIDE_SERVER ? s2s : c2s);
    }
    for (k = 0; k < n; k++) {
        if ((r = probe(c, &t[k], side, now, sd)) < 0) {
            rc = EXIT_OSERR;
            break;
        }
        if (r > 0) {
            rc = r;
            break;
        }
    }
    if (t != &one)
        free(t);
    return rc;
}

/* The verdict line of a side; its exit status: 0, EXIT_CHECK_UNMET, or
 * the status of the first failure when no target answered. */
static int verdict(enum out_format format, int side, const struct side *sd)
{
    struct out_record r;
    const char *v;
    int rc = EXIT_OK;

    if (!sd->probed) {
        v = "fail";
        rc = sd->first_err.code ? cli_exit_status(sd->first_err.code)
                                : EXIT_UNAVAILABLE;
    } else if (sd->reasons[0] || sd->probed < sd->tried) {
        v = "weak";
    } else {
        v = "good";
    }
    if (rc == EXIT_OK && sd->unmet[0])
        rc = EXIT_CHECK_UNMET;
    out_begin(&r);
    out_str(&r, "kind", "verdict");
    out_str(&r, "side", side_name[side]);
    out_str(&r, "verdict", v);
    out_int(&r, "targets", (long long)sd->tried);
    out_int(&r, "answered", (long long)sd->probed);
    out_str(&r, "reasons", sd->reasons[0] ? sd->reasons : NULL);
    out_str(&r, "unmet", sd->unmet[0] ? sd->unmet : NULL);
    out_str(&r, "error", sd->probed ? NULL : sd->first_err.msg);
    out_line(&r, "verdict", "%s side: %s (%zu of %zu targets answered)",
             side_name[side], v, sd->probed, sd->tried);
    if (sd->reasons[0])
        out_line(&r, "because", "%s", sd->reasons);
    if (!sd->probed && sd->first_err.code)
        out_line(&r, "because", "%s", sd->first_err.msg);
    if (sd->unmet[0])
        out_line(&r, "unmet", "%s", sd->unmet);
    out_print(format, &r);
    return rc;
}

static int run_check(struct cli *c)
{
    struct side sd[SIDES];
    struct xmp_error err;
    time_t now = time(NULL);
    int rc = EXIT_OK, r, k, aimed = args.server || args.s2s_server;

    memset(sd, 0, sizeof sd);
    if (!c->trust && xmp_trust_new(c->o.cafile, &c->trust, &err) != XMP_OK) {
        cli_error("%s", err.msg);
        rc = cli_exit_status(err.code);
        goto out;
    }
    /* aimed at a machine: only the sides named; else both, by DNS */
    for (k = 0; k < SIDES && !rc; k++) {
        if (aimed && !(k == SIDE_SERVER ? args.s2s_server : args.server))
            continue;
        rc = check_side(c, k, now, &sd[k]);
    }
    if (rc)
        goto out;
    for (k = 0; k < SIDES; k++) {
        if (!sd[k].asked)
            continue;
        r = verdict(c->o.format, k, &sd[k]);
        /* a side that failed outweighs an unmet requirement */
        if (r && (!rc || rc == EXIT_CHECK_UNMET))
            rc = r;
    }
    if (fflush(stdout) != 0) {
        cli_error("cannot write output");
        rc = EXIT_IOERR;
        goto out;
    }
    if (args.login && c->o.jid) {
        /* the account's view: login --check on the same servers */
        if (args.server) {
            free(c->o.server);
            if (!(c->o.server = strdup(args.server))) {
                rc = EXIT_OSERR;
                goto out;
            }
        }
        c->check = 1;
        r = cli_check(c);
        if (r && (!rc || rc == EXIT_CHECK_UNMET))
            rc = r;
        /* what the server announces, held against XEP-0479 */
        if (!r) {
            r = cli_check_compliance(c, args.domain,
                                     sd[SIDE_CLIENT].direct_ok);
            if (r && (!rc || rc == EXIT_CHECK_UNMET))
                rc = r;
        }
    }
out:
    free(args.domain);
    free(args.server);
    free(args.s2s_server);
    free(args.from);
    memset(&args, 0, sizeof args);
    return rc;
}

/* ---- the command line ------------------------------------------------------ */

enum { OPT_SERVER = 256, OPT_S2S_SERVER, OPT_FROM, OPT_REQUIRE,
       OPT_MIN_DAYS, OPT_NO_SUITES };

static const struct opt_def check_opts[] = {
    {"server", OPT_SERVER, "HOST:PORT",
     "probe this client port instead of the DNS's (only the sides named "
     "are checked)", ARG_TEXT},
    {"s2s-server", OPT_S2S_SERVER, "HOST:PORT",
     "probe this server-to-server port instead of the DNS's", ARG_TEXT},
    {"from", OPT_FROM, "DOMAIN",
     "the 'from' of the server-to-server stream (default: none)", ARG_TEXT},
    {"require", OPT_REQUIRE, "WHAT",
     "exit 2 unless every target meets it: tls1.3, dialback, verified "
     "(repeatable)", ARG_TEXT},
    {"min-days", OPT_MIN_DAYS, "N",
     "exit 2 when a certificate expires in fewer than N days", ARG_TEXT},
    {"no-suites", OPT_NO_SUITES, NULL,
     "do not probe the cipher suites one by one (a faster check)",
     ARG_NONE},
};

const struct opt_list check_options = {
    check_opts, sizeof check_opts / sizeof check_opts[0]
};

/* HOST:PORT or [V6]:PORT, a port in 1-65535. */
static int host_port(const char *opt, const char *arg)
{
    const char *colon = strrchr(arg, ':');
    long port;

    if (!colon || colon == arg || (arg[0] == '[' && colon[-1] != ']')) {
        cli_error("check: %s wants HOST:PORT, got '%s'", opt, arg);
        return EXIT_USAGE;
    }
    return cli_number(opt, colon + 1, 1, 65535, &port);
}

static int set_check(void *ud, int id, const char *arg)
{
    struct check_args *a = ud;
    char **slot = NULL;
    size_t k;
    long n;
    int rc;

    switch (id) {
    case OPT_SERVER:
        slot = &a->server;
        break;
    case OPT_S2S_SERVER:
        slot = &a->s2s_server;
        break;
    case OPT_FROM:
        slot = &a->from;
        break;
    case OPT_REQUIRE:
        for (k = 0; require_names[k]; k++)
            if (strcmp(arg, require_names[k]) == 0) {
                a->require |= 1u << k;
                return 0;
            }
        cli_error("check: --require wants tls1.3, dialback or verified, "
                  "got '%s'", arg);
        return EXIT_USAGE;
    case OPT_NO_SUITES:
        a->no_suites = 1;
        return 0;
    case OPT_MIN_DAYS:
        if ((rc = cli_number("--min-days", arg, 0, 36500, &n)))
            return rc;
        a->min_days = n;
        return 0;
    default:
        return EXIT_SOFTWARE;
    }
    if ((id == OPT_SERVER || id == OPT_S2S_SERVER) &&
        (rc = host_port(id == OPT_SERVER ? "--server" : "--s2s-server",
                        arg)))
        return rc;
    free(*slot);
    return (*slot = strdup(arg)) ? 0 : EXIT_OSERR;
}

int cmd_check(struct cli *c, int argc, char **argv, struct op **out)
{
    struct xmp_jid jid;
    struct xmp_error err;
    int rc, next;

    *out = NULL;
    if (c->interactive || c->session) {
        cli_error("check is not available in the shell");
        return EXIT_USAGE;
    }
    memset(&args, 0, sizeof args);
    args.min_days = -1;
    if ((rc = cli_parse_cmd(&c->o, "check", argc, argv, &next, set_check,
                            &args)))
        goto fail;
    if (next + 1 != argc) {
        cli_error(next >= argc ? "check: no domain given"
                               : "check takes one domain, got '%s' too",
                  next < argc ? argv[next + 1] : "");
        rc = EXIT_USAGE;
        goto fail;
    }
    if (xmp_jid_parse(argv[next], &jid, &err) != XMP_OK) {
        cli_error("check: %s", err.msg);
        rc = EXIT_USAGE;
        goto fail;
    }
    rc = jid.local || jid.resource;
    xmp_jid_clear(&jid);
    if (rc) {
        cli_error("check: '%s' is not a domain", argv[next]);
        rc = EXIT_USAGE;
        goto fail;
    }
    if (!(args.domain = strdup(argv[next]))) {
        rc = EXIT_OSERR;
        goto fail;
    }
    /* only an account named here: the config's default is not asked for */
    args.login = c->o.jid || c->o.account;
    c->run = run_check;
    return EXIT_OK;
fail:
    free(args.server);
    free(args.s2s_server);
    free(args.from);
    memset(&args, 0, sizeof args);
    return rc;
}
