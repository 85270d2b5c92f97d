/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * negotiate.c - the negotiation state machine (RFC 6120 §4-§7): stream
 * open, STARTTLS, SASL, resource binding, optional legacy session; then
 * "ready", where stanzas go to the caller.  One explicit state and one
 * switch per event (session_on_element), so the state can be logged,
 * printed and tested.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ht.h"
#include "session_int.h"
#include "ssdp.h"

/* RFC 6120 §4.7: open (or reopen) our stream; 'from' only once the
 * stream is encrypted, so the JID does not travel in the clear.  TLS is
 * mandatory, so <starttls/> goes with the plaintext header: waiting for
 * the features first would cost a round trip and change nothing, as a
 * server that does not offer it is refused either way (on_features). */
static enum xmp_err send_header(struct xmp_session *s)
{
    struct xmp_error e;
    int tls = stream_is_tls(&s->st);
    const char *from = tls ? s->bare : NULL;

    /* a probe says who it is only as far as the caller asks: a server
     * stream's 'from' names a domain, which may be anyone's */
    if (s->o.probe)
        from = s->o.probe == XMP_PROBE_SERVER ? s->cfg.probe_from : NULL;
    if (stream_open(&s->st, s->jid.domain, from, &e) != XMP_OK)
        return session_fail_with(s, &e);
    s->state = ST_WAIT_FEATURES;
    s->neg.piped_starttls = 0;
    /* a probe waits for the features: whether STARTTLS is offered at
     * all is what it reports */
    if (tls || s->o.probe)
        return XMP_OK;
    s->neg.piped_starttls = 1;
    return session_send_raw(s, "<starttls xmlns='" NS_TLS "'/>", NULL);
}

/* SASL elements carry secrets (or material to attack them): the trace
 * shows neither them nor their size (PLAIN's size gives away the
 * password's length). */
static enum xmp_err send_sasl(struct xmp_session *s, const char *name,
                              const char *mech, const char *b64)
{
    struct buf x = BUF_INIT, t = BUF_INIT;
    const char *m = mech ? "' mechanism='" : "";

    if (buf_printf(&x, "<%s xmlns='" NS_SASL "%s%s'>%s</%s>", name, m,
                   mech ? mech : "", b64, name) < 0 ||
        buf_printf(&t, "<%s xmlns='" NS_SASL "%s%s'>[redacted]</%s>", name,
                   m, mech ? mech : "", name) < 0)
        buf_free(&t); /* so that session_send_secret fails */
    return session_send_secret(s, &x, &t);
}

/* XEP-0178 §3: with a client certificate naming exactly our account,
 * EXTERNAL goes without an authzid ("="); otherwise it asks for our bare
 * JID explicitly. */
static const char *external_authzid(const struct xmp_session *s)
{
    struct xmp_jid j;
    int same;

    if (strchr(s->neg.tlsinfo.client_jids, ',') ||
        xmp_jid_parse(s->neg.tlsinfo.client_jids, &j, NULL) != XMP_OK)
        return s->bare;
    same = !j.resource && xmp_jid_equal(&j, &s->jid);
    xmp_jid_clear(&j);
    return same ? "" : s->bare;
}

/* With a client certificate in TLS, EXTERNAL first when offered (or
 * when asked for); NULL: leave the choice to sasl_choose. */
static const char *choose_external(struct xmp_session *s,
                                   const char *const *offered, size_t n,
                                   int cb, struct xmp_error *e)
{
    int forced = s->cfg.mech_opt &&
                 strcasecmp(s->cfg.mech_opt, "EXTERNAL") == 0;
    size_t i;

    if (forced && !s->neg.tlsinfo.client_cert) {
        xmp_error_set(e, XMP_EUSAGE,
                      "SASL EXTERNAL needs a client certificate");
        return NULL;
    }
    if (!s->neg.tlsinfo.client_cert || (s->cfg.mech_opt && !forced))
        return NULL;
    /* EXTERNAL proves who we are, not who the server is: an account that
     * used channel binding keeps it where it is offered */
    for (i = 0; s->o.require_cb && !forced && cb && i < n; i++)
        if (sasl_mech_is_plus(offered[i]))
            return NULL;
    for (i = 0; i < n; i++)
        if (strcmp(offered[i], "EXTERNAL") == 0)
            return "EXTERNAL";
    if (forced)
        xmp_error_set(e, XMP_EAUTH,
                      "server does not offer SASL mechanism EXTERNAL "
                      "(offered: %s)",
                      n ? s->neg.sasl_offered : "none");
    return NULL;
}

/* XEP-0440: the channel-binding types the server lists, space-separated,
 * into s->neg.cb_offered (NULL when it sends no list). */
static enum xmp_err note_cb_types(struct xmp_session *s,
                                  const struct xmp_node *f)
{
    const struct xmp_node *l = xmp_node_child(f, NS_SASL_CB,
                                              "sasl-channel-binding");
    const struct xmp_node *c;
    struct buf b = BUF_INIT;
    const char *type;

    free(s->neg.cb_offered);
    s->neg.cb_offered = NULL;
    if (!l)
        return XMP_OK;
    for (c = xmp_node_first(l); c; c = xmp_node_next(c)) {
        if (!node_is(c, NS_SASL_CB, "channel-binding") ||
            !(type = xmp_node_attr(c, "type")))
            continue;
        if (buf_printf(&b, "%s%s", b.len ? " " : "", type) < 0) {
            buf_free(&b);
            return session_fail(s, XMP_ENOMEM, "out of memory");
        }
    }
    if (!(s->neg.cb_offered = b.len ? buf_take(&b) : strdup(""))) {
        buf_free(&b);
        return session_fail(s, XMP_ENOMEM, "out of memory");
    }
    return XMP_OK;
}

static int cb_listed(const char *list, const char *type)
{
    size_t n = strlen(type);
    const char *p = list;

    while ((p = strstr(p, type))) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
            return 1;
        p += n;
    }
    return 0;
}

/* Which channel binding to use: only with the extended master secret
 * (RFC 7627; the TLS layer refuses otherwise), by the server's XEP-0440
 * list when there is one, else tls-unique (RFC 6120's default, and all
 * that TLS 1.2 servers without a list implement).  tls-server-end-point
 * is missing: GNU SASL cannot send it. */
static const char *choose_cb(const struct xmp_session *s)
{
    /* TLS 1.3 has no tls-unique: tls-exporter is its binding (RFC 9266
     * §3), also for a resumed session, whose key schedule is fresh */
    int tls13 = strcmp(s->neg.tlsinfo.version, "TLSv1.3") == 0;

    if (!stream_is_tls(&s->st) || !s->neg.tlsinfo.ems)
        return NULL;
    /* without a list, only where this account used tls-exporter
     * before: servers that list nothing (ejabberd 23.01) offer -PLUS on
     * TLS 1.3 but know only tls-unique, which TLS 1.3 has not */
    if (tls13)
        return (s->neg.cb_offered &&
                cb_listed(s->neg.cb_offered, "tls-exporter")) ||
                       (!s->neg.cb_offered &&
                        s->o.require_cb == XMP_CB_USED_EXPORTER)
                   ? "tls-exporter"
                   : NULL;
    /* tls-unique of a resumed handshake is the server's Finished (RFC
     * 5929 §3.1), which servers get wrong (Prosody 0.12 takes the
     * client's): none then, unless tls-exporter is listed.  The resumed
     * session continues one whose login checked the binding. */
    if (s->neg.tlsinfo.resumed)
        return s->neg.cb_offered && cb_listed(s->neg.cb_offered, "tls-exporter")
                   ? "tls-exporter"
                   : NULL;
    if (!s->neg.cb_offered)
        return "tls-unique";
    if (cb_listed(s->neg.cb_offered, "tls-exporter"))
        return "tls-exporter";
    if (cb_listed(s->neg.cb_offered, "tls-unique"))
        return "tls-unique";
    return NULL;
}

/* TLS 1.3, -PLUS offered, no channel-binding types listed, and an
 * account that never used tls-exporter: the server's binding (tls-unique,
 * all a server without a list knows) does not exist on TLS 1.3, so going
 * without is no sign of a man in the middle (xmp_session_opts.require_cb). */
static int cb_unknowable(const struct xmp_session *s,
                         const char *const *offered, size_t n)
{
    size_t i;

    if (strcmp(s->neg.tlsinfo.version, "TLSv1.3") != 0 || s->neg.cb_offered ||
        s->o.require_cb == XMP_CB_USED_EXPORTER)
        return 0;
    for (i = 0; i < n; i++)
        if (sasl_mech_is_plus(offered[i]))
            return 1;
    return 0;
}

/* The hints of an earlier session are for this one: same trust
 * anchors, verified, recent (the domain was checked at xmp_session_new). */
static int hints_fit(const struct xmp_session *s)
{
    int64_t now = (int64_t)time(NULL);
    const char *anchors = tls_trust_id(s->o.trust);

    return s->hints.given.domain && !s->o.insecure && anchors &&
           strcmp(s->hints.given.trust,
                  s->cfg.cafile ? s->cfg.cafile : "-") == 0 &&
           strcmp(s->hints.given.anchors, anchors) == 0 &&
           strcmp(s->hints.given.context, s->hints.context) == 0 &&
           s->hints.given.saved <= now + 300 &&
           now - s->hints.given.saved < HINTS_MAX_AGE_S;
}

/* The TLS session of the hints may be offered: they fit, the key it was
 * verified with is one the pins allow, its certificate is still valid,
 * and an account that uses channel binding resumes only a session whose
 * login was bound (a resumed one goes without, choose_cb). */
static int hints_tls_fit(const struct xmp_session *s)
{
    size_t n;
    const char *p;
    int pinned = !s->cfg.pin;

    if (!hints_fit(s) || !s->hints.given.tls)
        return 0;
    n = strlen(s->hints.given.pin);
    for (p = s->cfg.pin; p && !pinned && (p = strstr(p, s->hints.given.pin));
         p += n)
        pinned = (p == s->cfg.pin || p[-1] == ';') && (p[n] == ';' || !p[n]);
    return pinned &&
           (int64_t)time(NULL) < s->hints.given.expires &&
           (!s->o.require_cb || s->hints.given.tls_bound);
}

/* Features as the hints (or, after a stale guess, the server) listed
 * them: mechanisms, and the XEP-0440 list when there was one.  Names
 * that are not plain tokens are left out. */
static struct xmp_node *listed_features(const char *mechs, const char *cb)
{
    static const char token[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "abcdefghijklmnopqrstuvwxyz0123456789-_";
    struct buf b = BUF_INIT;
    struct xmp_node *f = NULL;
    char *copy = NULL, *w, *save = NULL;
    int pass;

    buf_printf(&b, "<features xmlns='" XML_NS_STREAM "'>");
    for (pass = 0; pass < 2; pass++) {
        const char *list = pass ? cb : mechs;

        if (!list)
            continue;
        buf_printf(&b, pass ? "<sasl-channel-binding xmlns='" NS_SASL_CB "'>"
                            : "<mechanisms xmlns='" NS_SASL "'>");
        free(copy);
        if (!(copy = strdup(list)))
            goto done;
        for (w = strtok_r(copy, " ", &save); w;
             w = strtok_r(NULL, " ", &save))
            if (strspn(w, token) == strlen(w))
                buf_printf(&b, pass ? "<channel-binding type='%s'/>"
                                    : "<mechanism>%s</mechanism>", w);
        buf_printf(&b, pass ? "</sasl-channel-binding>" : "</mechanisms>");
    }
    if (buf_printf(&b, "</features>") >= 0)
        f = xmp_node_parse(b.data, b.len, NULL);
done:
    free(copy);
    buf_free(&b);
    return f;
}

/* The password source failed (e): after a refused FAST token there is
 * no other way in, and the login failed as a refused password does. */
static enum xmp_err fail_password(struct xmp_session *s,
                                  struct xmp_error *e)
{
    char why[sizeof e->msg];

    if (!s->a2.refused || e->code != XMP_EUSAGE)
        return session_fail_with(s, e);
    snprintf(why, sizeof why, "%s", e->msg);
    return session_fail(s, XMP_EAUTH, "the server refused the FAST token of "
                        "%s, and there is no password to log in with (%s)",
                        s->bare, why);
}

static enum xmp_err start_auth(struct xmp_session *s,
                               const struct xmp_node *f,
                               const struct xmp_node *mechs);

/* <auth/> on the features the hints remember, sent with the stream
 * header instead of after the features; on_features checks them. */
static enum xmp_err start_hinted_auth(struct xmp_session *s)
{
    struct xmp_node *f = listed_features(s->a2.offered
                                             ? s->a2.mechs
                                             : s->hints.given.mechs,
                                         s->hints.given.cb);
    enum xmp_err r;

    if (!f)
        return session_fail(s, XMP_ENOMEM, "out of memory");
    s->neg.piping_auth = 1;
    r = start_auth(s, f, xmp_node_child(f, NS_SASL, "mechanisms"));
    s->neg.piping_auth = 0;
    xmp_node_free(f);
    if (r == XMP_OK && s->state == ST_WAIT_SASL) {
        s->neg.piped_auth = 1;
        s->state = ST_WAIT_FEATURES;
    } else if (r == XMP_OK) {
        session_trace(s, XMP_TRACE_INFO, "waiting for the features of this "
                      "stream before authenticating");
    }
    return r;
}

/* The <mechanism/> names of <mechanisms/>, space-separated, as
 * neg.sasl_offered keeps them ("" for none); NULL when out of memory. */
static char *mechanism_list(const struct xmp_node *mechs)
{
    const struct xmp_node *m;
    struct buf list = BUF_INIT;
    char *t, *out;

    for (m = xmp_node_first(mechs); m; m = xmp_node_next(m)) {
        if (!node_is(m, NS_SASL, "mechanism"))
            continue;
        if (!(t = xmp_node_text(m)))
            break;
        buf_printf(&list, "%s%s", list.len ? " " : "", t);
        free(t);
    }
    out = list.len ? buf_take(&list) : strdup("");
    buf_free(&list);
    return out;
}

/* The real features after a hinted <auth/>: they decide what XEP-0474
 * checks and what is remembered.  A mechanism (or binding type) they no
 * longer list will be refused: then start again on them. */
static enum xmp_err check_hinted_auth(struct xmp_session *s,
                                      const struct xmp_node *f,
                                      const struct xmp_node *mechs)
{
    s->neg.piped_auth = 0;
    free(s->neg.sasl_offered);
    s->neg.sasl_offered = mechanism_list(mechs);
    if (!s->neg.sasl_offered || note_cb_types(s, f) != XMP_OK)
        return session_fail(s, XMP_ENOMEM, "out of memory");
    s->state = ST_WAIT_SASL;
    if (cb_listed(s->neg.sasl_offered, s->neg.mech) &&
        (!s->neg.cb_type || !s->neg.cb_offered ||
         cb_listed(s->neg.cb_offered, s->neg.cb_type))) {
        s->neg.hints_features = 1;
        return XMP_OK;
    }
    s->neg.auth_stale = 1;
    session_trace(s, XMP_TRACE_INFO,
                  "the remembered features are out of date (offered now: "
                  "%s): expecting a refusal",
                  s->neg.sasl_offered[0] ? s->neg.sasl_offered : "none");
    return XMP_OK;
}

static enum xmp_err start_auth(struct xmp_session *s,
                               const struct xmp_node *f,
                               const struct xmp_node *mechs)
{
    const char *offered[SESSION_MAX_MECHS];
    char *texts[SESSION_MAX_MECHS];
    const struct xmp_node *m;
    struct buf list = BUF_INIT;
    struct xmp_error e;
    size_t n = 0, i, cb_len = 0;
    unsigned char cb[TLS_CB_MAX];
    const char *cb_type;
    char *init = NULL;
    enum xmp_err r = XMP_OK;
    int tls;

    for (m = xmp_node_first(mechs); m && n < SESSION_MAX_MECHS;
         m = xmp_node_next(m)) {
        if (!node_is(m, NS_SASL, "mechanism"))
            continue;
        if (!(texts[n] = xmp_node_text(m))) {
            r = session_fail(s, XMP_ENOMEM, "out of memory");
            goto done;
        }
        offered[n] = texts[n];
        buf_printf(&list, "%s%s", n ? " " : "", texts[n]);
        n++;
    }
    free(s->neg.sasl_offered);
    s->neg.sasl_offered = buf_take(&list);
    if ((r = note_cb_types(s, f)) != XMP_OK)
        goto done;
    cb_type = choose_cb(s);
    if (cb_type &&
        stream_channel_binding(&s->st, cb_type, cb, &cb_len, &e) !=
            XMP_OK)
        cb_type = NULL;
    tls = !stream_is_tls(&s->st)    ? SASL_TLS_NONE
          : s->neg.tlsinfo.verified ? SASL_TLS_VERIFIED
                                    : SASL_TLS_ENCRYPTED;
    xmp_error_clear(&e);
    s->neg.mech = choose_external(s, offered, n, cb_type != NULL, &e);
    if (!s->neg.mech && e.code == XMP_OK)
        s->neg.mech = sasl_choose(offered, n, tls, cb_type != NULL,
                                  s->cfg.mech_opt,
                              &e);
    /* On remembered features, anything but a SCRAM client-first message
     * (or EXTERNAL's authorization identity) waits for this stream's own
     * features: a PLAIN password is never sent on a guess, and features
     * that changed are judged as the server offers them now. */
    if (s->neg.piping_auth &&
        (!s->neg.mech || (strncmp(s->neg.mech, "SCRAM-", 6) != 0 &&
                          strcmp(s->neg.mech, "EXTERNAL") != 0) ||
         (s->o.require_cb && !sasl_mech_is_plus(s->neg.mech)))) {
        s->neg.mech = NULL;
        goto done;
    }
    if (!s->neg.mech) {
        r = session_fail_with(s, &e);
        goto done;
    }
    /* An account that used channel binding before does not quietly go
     * without it: that is what a man in the middle would arrange.  A
     * mechanism the caller named is the caller's choice, not the offer's;
     * EXTERNAL proves our key, but not the server's, so it counts only
     * when named; a resumed TLS session continues one whose login was
     * bound (choose_cb). */
    if (s->o.require_cb && !s->cfg.mech_opt &&
        !sasl_mech_is_plus(s->neg.mech) &&
        !s->neg.tlsinfo.resumed && !cb_unknowable(s, offered, n)) {
        r = session_fail(s, XMP_EAUTH,
                         "refusing to authenticate as %s without channel "
                         "binding, which it used before (offered: %s%s%s); "
                         "someone may be in the middle (--allow-downgrade "
                         "to accept)",
                         s->bare,
                         s->neg.sasl_offered && s->neg.sasl_offered[0]
                             ? s->neg.sasl_offered
                             : "none",
                         s->neg.tlsinfo.ems ? ""
                                            : "; no extended master secret",
                         cb_type || !s->neg.cb_offered ? ""
                                                       : "; no usable channel-"
                                                         "binding type listed");
        goto done;
    }
    if (s->o.require_cb && !s->cfg.mech_opt &&
        !sasl_mech_is_plus(s->neg.mech) && !s->neg.tlsinfo.resumed)
        session_trace(s, XMP_TRACE_INFO, "no channel binding: the server "
                      "lists no types (XEP-0440), and tls-unique does not "
                      "exist on TLS 1.3");
    if (!sasl_mech_is_plus(s->neg.mech))
        cb_type = NULL;
    s->neg.cb_type = cb_type;
    s->neg.ssdp_pending = strncmp(s->neg.mech, "SCRAM-", 6) == 0;
    session_trace(s, XMP_TRACE_INFO, "SASL mechanism %s%s%s (offered: %s)",
                  s->neg.mech, cb_type ? ", channel binding " : "",
                  cb_type ? cb_type : "", s->neg.sasl_offered);
    r = sasl_start(&s->neg.sasl, s->neg.mech,
                   strcmp(s->neg.mech, "EXTERNAL") == 0 ? external_authzid(s)
                                                        : s->jid.local,
                   s->o.password, s->o.password_ud, cb_type, cb, cb_len,
                   &init, &e);
    explicit_bzero(cb, sizeof cb);
    if (r != XMP_OK) {
        r = fail_password(s, &e);
        goto done;
    }
    if (s->a2.offered)
        r = sasl2_start(s, s->neg.mech, init);
    else
        r = send_sasl(s, "auth", s->neg.mech, init);
    if (r == XMP_OK)
        s->state = ST_WAIT_SASL;
done:
    for (i = 0; i < n; i++)
        free(texts[i]);
    if (init) {
        explicit_bzero(init, strlen(init));
        free(init);
    }
    return r;
}

/* RFC 6120 §7: bind the requested resource, or let the server choose. */
static enum xmp_err start_bind(struct xmp_session *s)
{
    struct xmp_node *iq = NULL, *bind, *res;
    struct xmp_error e;
    enum xmp_err r = XMP_ENOMEM;
    char *id = xmp_session_new_id(s);

    xmp_error_clear(&e);

    if (!id || !(iq = xmp_node_new(NS_CLIENT, "iq", &e)) ||
        xmp_node_set_attr(iq, "type", "set", &e) ||
        xmp_node_set_attr(iq, "id", id, &e) ||
        !(bind = xmp_node_add_child(iq, NS_BIND, "bind", &e)))
        goto done;
    if (s->cfg.resource) {
        if (!(res = xmp_node_add_child(bind, NS_BIND, "resource", &e)) ||
            xmp_node_add_text(res, s->cfg.resource, strlen(s->cfg.resource),
                              &e))
            goto done;
    }
    free(s->neg.pending_id);
    s->neg.pending_id = id;
    id = NULL;
    if ((r = session_send_node(s, iq)) == XMP_OK)
        s->state = ST_WAIT_BIND;
    else
        r = XMP_AGAIN; /* already failed: keep that error */
done:
    if (r == XMP_ENOMEM)
        r = session_fail(s, e.code ? e.code : XMP_ENOMEM, "%s",
                         e.code ? e.msg : "out of memory");
    else if (r == XMP_AGAIN)
        r = s->err.code;
    free(id);
    xmp_node_free(iq);
    return r;
}

static enum xmp_err start_legacy_session(struct xmp_session *s)
{
    struct buf b = BUF_INIT;
    enum xmp_err r;
    char *id = xmp_session_new_id(s);

    if (!id || buf_printf(&b, "<iq type='set' id='%s'><session xmlns='"
                              NS_SESSION "'/></iq>", id) < 0) {
        free(id);
        buf_free(&b);
        return session_fail(s, XMP_ENOMEM, "out of memory");
    }
    free(s->neg.pending_id);
    s->neg.pending_id = id;
    r = session_send_raw(s, b.data, NULL);
    buf_free(&b);
    if (r == XMP_OK)
        s->state = ST_WAIT_SESSION;
    return r;
}

/* Bound (and the legacy session, if any, established).  Stream
 * management is asked for now, and its answer not awaited: stanzas sent
 * meanwhile are counted from the <enable/> (sm.c). */
static enum xmp_err become_ready(struct xmp_session *s)
{
    sasl2_early_end(s, 0);
    s->state = ST_READY;
    session_trace(s, XMP_TRACE_INFO, "ready as %s", s->neg.bound);
    return sm_enable(s);
}

/* What each stage offered, for a person checking the server: the
 * plaintext stream (and its mechanisms, which should be none), the TLS
 * stream before authentication. */
static enum xmp_err keep_features(struct xmp_session *s,
                                  const struct xmp_node *f)
{
    const struct xmp_node *c;

    if (s->neg.authenticated)
        return XMP_OK;
    if (stream_is_tls(&s->st)) {
        free(s->neg.feat_preauth);
        return (s->neg.feat_preauth = strdup(s->st.features)) ? XMP_OK
                                                              : XMP_ENOMEM;
    }
    free(s->neg.feat_plain);
    if (!(s->neg.feat_plain = strdup(s->st.features)))
        return XMP_ENOMEM;
    free(s->neg.mechs_plain);
    s->neg.mechs_plain = (c = xmp_node_child(f, NS_SASL, "mechanisms"))
                             ? mechanism_list(c)
                             : strdup("");
    return s->neg.mechs_plain ? XMP_OK : XMP_ENOMEM;
}

/* The FAST token, on features seen (or remembered, piped). */
static enum xmp_err start_ht(struct xmp_session *s, int piped)
{
    if (sasl2_start_ht(s) != XMP_OK)
        return s->err.code;
    /* what was offered, for the info and the hints */
    free(s->neg.sasl_offered);
    if (!(s->neg.sasl_offered = strdup(s->a2.mechs ? s->a2.mechs : "")))
        return session_fail(s, XMP_ENOMEM, "out of memory");
    s->neg.mech = s->a2.ht;
    s->neg.cb_type = *ht_cb_type(s->a2.ht) ? ht_cb_type(s->a2.ht) : NULL;
    s->a2.piped = piped;
    s->state = piped ? ST_WAIT_FEATURES : ST_WAIT_SASL;
    sasl2_may_pipeline(s);
    return XMP_OK;
}

/* The features before authentication: SASL2 where offered (XEP-0388),
 * else SASL; a FAST token before the password. */
static enum xmp_err on_auth_features(struct xmp_session *s,
                                     const struct xmp_node *f)
{
    const struct xmp_node *c;
    struct xmp_node *listed = NULL;
    int piped = s->neg.piped_auth || s->a2.piped, two;
    enum xmp_err r;

    if ((two = sasl2_note_features(s, f)) < 0)
        return s->err.code;
    if (piped && s->a2.active && !two)
        return session_fail(s, XMP_EAUTH,
                            "server %s no longer offers SASL2 (XEP-0388), "
                            "which authentication was begun with",
                            s->jid.domain);
    /* what a piped <auth/> of SASL (not SASL2) is judged by */
    if (piped && !s->a2.active) {
        two = 0;
        s->a2.offered = 0;
    }
    if (two) {
        if (!(listed = listed_features(s->a2.mechs, NULL)))
            return session_fail(s, XMP_ENOMEM, "out of memory");
        c = xmp_node_child(listed, NS_SASL, "mechanisms");
    } else if (!(c = xmp_node_child(f, NS_SASL, "mechanisms"))) {
        return session_fail(s, XMP_EPROTO, "server offers no SASL mechanisms");
    }
    if (s->a2.piped && s->a2.ht) {
        /* the token went with the header: these features judge it */
        s->a2.piped = 0;
        s->state = ST_WAIT_SASL;
        r = note_cb_types(s, f);
        if (r == XMP_OK && !sasl2_token_usable(s)) {
            s->neg.auth_stale = 1;
            session_trace(s, XMP_TRACE_INFO, "the remembered features are "
                          "out of date (FAST now: %s): expecting a refusal",
                          s->a2.fast_mechs ? s->a2.fast_mechs : "none");
        } else if (r == XMP_OK) {
            s->neg.hints_features = 1;
        }
    } else if (s->neg.piped_auth) {
        r = check_hinted_auth(s, f, c);
    } else if (two && sasl2_token_usable(s)) {
        if ((r = note_cb_types(s, f)) == XMP_OK)
            r = start_ht(s, 0);
    } else {
        r = start_auth(s, f, c);
    }
    xmp_node_free(listed);
    return r;
}

/* The probe's end (opts.probe): the features of this stream noted,
 * the mechanisms of the TLS stream too, then the polite close. */
static enum xmp_err probe_done(struct xmp_session *s,
                               const struct xmp_node *f)
{
    const struct xmp_node *c;

    if (stream_is_tls(&s->st) &&
        (c = xmp_node_child(f, NS_SASL, "mechanisms"))) {
        free(s->neg.sasl_offered);
        if (!(s->neg.sasl_offered = mechanism_list(c)))
            return session_fail(s, XMP_ENOMEM, "out of memory");
    }
    s->neg.probed = 1;
    session_trace(s, XMP_TRACE_INFO, "probe of %s done: closing",
                  s->jid.domain);
    /* the step closes it (session_io.c): calls go down, not back up */
    s->neg.probe_close = 1;
    return XMP_OK;
}

static enum xmp_err on_features(struct xmp_session *s,
                                const struct xmp_node *f)
{
    const struct xmp_node *c;

    if (stream_note_features(&s->st, f) != XMP_OK ||
        keep_features(s, f) != XMP_OK)
        return session_fail(s, XMP_ENOMEM, "out of memory");
    if (!stream_is_tls(&s->st) && (c = xmp_node_child(f, NS_TLS, "starttls")))
        s->neg.tls_required = xmp_node_child(c, NS_TLS, "required") != NULL;
    if (s->o.probe && !s->neg.authenticated &&
        (stream_is_tls(&s->st) || !xmp_node_child(f, NS_TLS, "starttls")))
        return probe_done(s, f);

    if (!stream_is_tls(&s->st) && !s->cfg.local) {
        /* RFC 6120 §5.3.1: no STARTTLS, no session.  Never fall back to
         * plaintext: the credentials would travel in the clear. */
        if (!xmp_node_child(f, NS_TLS, "starttls"))
            return session_fail(s, XMP_ETLS,
                                "server %s does not offer STARTTLS; refusing "
                                "to continue without TLS",
                                s->jid.domain);
        s->state = ST_WAIT_PROCEED;
        if (s->neg.piped_starttls)
            return XMP_OK;
        return session_send_raw(s, "<starttls xmlns='" NS_TLS "'/>", NULL);
    }
    if (!s->neg.authenticated)
        return on_auth_features(s, f);
    if (s->sm.resuming)
        return sm_resume(s, f);
    if (s->a2.bound) {
        /* XEP-0386: bound inside authentication */
        sm_note_features(s, f);
        if (become_ready(s) != XMP_OK)
            return s->err.code;
        /* Bind2 refused stream management (or could not ask for it):
         * what was asked to be acknowledged is asked by ping */
        if (s->sm.state == SM_OFF && s->a2.sm_asked &&
            s->out.acked_seq < s->out.sent_seq)
            return s->hooks->ack(s);
        return XMP_OK;
    }
    if (!xmp_node_child(f, NS_BIND, "bind"))
        return session_fail(s, XMP_EPROTO,
                            "server does not offer resource binding%s",
                            s->neg.piped_bind ? " (asked for it already)" : "");
    /* RFC 6121 appendix E / draft-cridland-xmpp-session: the legacy
     * session is needed only when not marked <optional/>. */
    c = xmp_node_child(f, NS_SESSION, "session");
    s->neg.session_required = c && !xmp_node_child(c, NULL, "optional");
    sm_note_features(s, f);
    if (s->neg.piped_bind) {
        s->state = ST_WAIT_BIND;
        return XMP_OK;
    }
    return start_bind(s);
}

static enum xmp_err on_sasl(struct xmp_session *s, const struct xmp_node *el)
{
    struct xmp_error e;
    char *text = xmp_node_text(el), *reply = NULL;
    enum xmp_err r;

    if (!text)
        return session_fail(s, XMP_ENOMEM, "out of memory");
    if (strcmp(xmp_node_name(el), "challenge") == 0) {
        r = XMP_OK;
        /* XEP-0474: the server-first-message may vouch for the offer we
         * chose from; check it before answering with our proof. */
        if (s->neg.ssdp_pending) {
            s->neg.ssdp_pending = 0;
            /* under SASL2 the hash covers the SASL list beside it
             * (ejabberd 24.12; Prosody 13 sends none) */
            r = ssdp_check(s->neg.mech, text,
                           s->a2.active && s->a2.sasl1 ? s->a2.sasl1
                                                       : s->neg.sasl_offered,
                           s->neg.cb_offered, &s->neg.ssdp_checked, &e);
            if (s->neg.ssdp_checked)
                session_trace(s, XMP_TRACE_INFO,
                              "downgrade protection (XEP-0474) verified");
        }
        if (r == XMP_OK)
            r = sasl_challenge(s->neg.sasl, text, &reply, &e);
        if (r != XMP_OK)
            r = fail_password(s, &e);
        else if (!s->a2.active)
            r = send_sasl(s, "response", NULL, reply);
        else if ((r = sasl2_response(s, reply)) == XMP_OK &&
                 strncmp(s->neg.mech, "SCRAM-", 6) == 0)
            /* SCRAM's client-final: the last word before <success/> */
            sasl2_may_pipeline(s);
    } else if (strcmp(xmp_node_name(el), "success") == 0) {
        r = sasl_success(s->neg.sasl, text, &e);
        if (r == XMP_OK) {
            s->neg.authenticated = 1;
            /* Drop the mechanism state, and the password GNU SASL holds,
             * as soon as it is no longer needed. */
            sasl_free(s->neg.sasl);
            s->neg.sasl = NULL;
            /* RFC 6120 §6.4.6: restart the stream right after
             * </success>; what follows belongs to the new stream. */
            s->neg.restart = RESTART_STREAM;
        } else {
            r = session_fail_with(s, &e);
        }
    } else if (strcmp(xmp_node_name(el), "failure") == 0 && s->neg.auth_stale) {
        /* the refusal of a hinted <auth/>: the one round trip a changed
         * server costs */
        struct xmp_node *f = listed_features(s->neg.sasl_offered,
                                             s->neg.cb_offered);

        s->neg.auth_stale = 0;
        sasl_free(s->neg.sasl);
        s->neg.sasl = NULL;
        r = f ? start_auth(s, f, xmp_node_child(f, NS_SASL, "mechanisms"))
              : session_fail(s, XMP_ENOMEM, "out of memory");
        xmp_node_free(f);
    } else if (strcmp(xmp_node_name(el), "failure") == 0) {
        char why[512];

        xmp_error_describe(el, why, sizeof why);
        r = session_fail(s, XMP_EAUTH, "authentication failed as %s (%s): %s",
                         s->bare, s->neg.mech, why);
    } else {
        r = session_fail(s, XMP_EPROTO, "unexpected SASL element <%s/>",
                         xmp_node_name(el));
    }
    if (reply) {
        explicit_bzero(reply, strlen(reply));
        free(reply);
    }
    explicit_bzero(text, strlen(text));
    free(text);
    return r;
}

/* Start again with the password on this stream (SASL2 allows it after
 * a <failure/>), on the features it offered. */
static enum xmp_err restart_auth(struct xmp_session *s)
{
    struct xmp_node *f = listed_features(s->a2.active ? s->a2.mechs
                                                      : s->neg.sasl_offered,
                                         s->neg.cb_offered);
    enum xmp_err r;

    sasl_free(s->neg.sasl);
    s->neg.sasl = NULL;
    s->neg.mech = NULL;
    s->neg.cb_type = NULL;
    r = f ? start_auth(s, f, xmp_node_child(f, NS_SASL, "mechanisms"))
          : session_fail(s, XMP_ENOMEM, "out of memory");
    xmp_node_free(f);
    return r;
}

/* XEP-0388 §2.6: the answers to <authenticate/>. */
static enum xmp_err on_sasl2(struct xmp_session *s, const struct xmp_node *el)
{
    const struct xmp_node *c;
    const char *name = xmp_node_name(el);
    struct xmp_error e;
    char *add, why[512];
    enum xmp_err r;
    /* stanzas went after our last word: the server may not take another
     * attempt on this stream (the caller tries again) */
    int went_ahead = s->a2.early && (s->out.sent_seq > s->a2.early_seq ||
                                     s->sm.r_pending);

    if (strcmp(name, "challenge") == 0 && !s->a2.ht)
        return on_sasl(s, el);
    if (strcmp(name, "success") == 0) {
        s->a2.success_seen = 1;
        if (!s->a2.ht) {
            add = sasl2_additional(el);
            r = sasl_success(s->neg.sasl, add ? add : "", &e);
            if (add) {
                explicit_bzero(add, strlen(add));
                free(add);
            }
            if (r != XMP_OK)
                return session_fail_with(s, &e);
        }
        if (sasl2_success(s, el) != XMP_OK)
            return s->err.code;
        s->neg.authenticated = 1;
        sasl_free(s->neg.sasl);
        s->neg.sasl = NULL;
        if (s->o.fast_invalidate && s->a2.used) {
            /* XEP-0484 §3.6: done; nothing else is wanted of it */
            sm_no_resume(s);
            if (stream_close(&s->st, &e) != XMP_OK)
                return session_fail_with(s, &e);
            s->state = ST_CLOSING;
            s->close_started = xmp_now_ms();
            return XMP_OK;
        }
        /* resumed inside (or refused): sm.c takes it as an answer to
         * <resume/>; the features that follow are for the info */
        if (s->a2.resume_inline)
            for (c = xmp_node_first(el); c; c = xmp_node_next(c))
                if (node_is(c, NS_SM, "resumed") ||
                    node_is(c, NS_SM, "failed")) {
                    s->state = ST_WAIT_RESUME;
                    s->a2.features_due = 1;
                    return sm_element(s, c);
                }
        /* XEP-0388 §2.6.1: no stream restart; the features follow, in
         * the same flight: ready once they are here (or, without
         * Bind2, bind then; or resume, on them) */
        s->state = ST_WAIT_FEATURES;
        return sasl2_bound_sm(s, el);
    }
    if (strcmp(name, "failure") == 0 && s->neg.auth_stale && !went_ahead) {
        s->neg.auth_stale = 0;
        if (s->a2.ht && !sasl2_token_refused(s, el))
            return s->err.code;
        return restart_auth(s);
    }
    if (strcmp(name, "failure") == 0 && s->a2.ht) {
        if (!sasl2_token_refused(s, el))
            return s->err.code;
        if (went_ahead)
            return session_fail(s, XMP_EAUTH, "server %s refused the FAST "
                                "token of %s; nothing sent with it was "
                                "delivered", s->jid.domain, s->bare);
        return restart_auth(s);
    }
    if (strcmp(name, "failure") == 0) {
        sm_inline_off(s);
        xmp_error_describe(el, why, sizeof why);
        return session_fail(s, XMP_EAUTH, "authentication failed as %s (%s): "
                            "%s", s->bare, s->neg.mech ? s->neg.mech : "?",
                            why);
    }
    if (strcmp(name, "continue") == 0)
        return sasl2_continue(s, el);
    return session_fail(s, XMP_EPROTO, "unexpected SASL2 element <%s/>",
                        name);
}

static enum xmp_err on_bind_result(struct xmp_session *s,
                                   const struct xmp_node *iq)
{
    const char *type = xmp_node_attr(iq, "type");
    const struct xmp_node *b, *j;
    char why[256], *text;

    if (type && strcmp(type, "error") == 0) {
        xmp_error_describe(iq, why, sizeof why);
        return session_fail(s, XMP_EREMOTE, "resource binding failed: %s",
                            why);
    }
    if (!type || strcmp(type, "result") != 0 ||
        !(b = xmp_node_child(iq, NS_BIND, "bind")) ||
        !(j = xmp_node_child(b, NS_BIND, "jid")))
        return session_fail(s, XMP_EPROTO,
                            "server answered resource binding without a JID");
    if (!(text = xmp_node_text(j)))
        return session_fail(s, XMP_ENOMEM, "out of memory");
    if (session_check_bound(s, text, 1, "bound") != XMP_OK) {
        free(text);
        return s->err.code;
    }
    free(s->neg.bound);
    s->neg.bound = text;
    if (s->neg.session_required)
        return start_legacy_session(s);
    return become_ready(s);
}

/* RFC 6120 §4.9.3: the conditions by which a server ends a stream it
 * cannot or will not serve any longer, for no fault of the stream: it
 * goes away or is unavailable, as when the connection is lost.  The
 * others say that a side broke the protocol or a rule. */
static int server_going_away(const struct xmp_node *el)
{
    static const char *const away[] = {
        "connection-timeout", "host-gone", "internal-server-error",
        "remote-connection-failed", "reset", "resource-constraint",
        "see-other-host", "system-shutdown",
    };
    const struct xmp_node *c;
    size_t i;

    /* the condition is the first child that is not a <text/>, as
     * xmp_error_describe names it */
    for (c = xmp_node_first(el); c; c = xmp_node_next(c))
        if (strcmp(xmp_node_name(c), "text") != 0)
            break;
    if (!c || strcmp(xmp_node_ns(c), NS_STREAMS) != 0)
        return 0;
    for (i = 0; i < sizeof away / sizeof away[0]; i++)
        if (strcmp(xmp_node_name(c), away[i]) == 0)
            return 1;
    return 0;
}

static enum xmp_err on_stream_error(struct xmp_session *s,
                                    const struct xmp_node *el)
{
    char why[512];

    xmp_error_describe(el, why, sizeof why);
    /* A holder that has lost the server is unreachable, not broken. */
    if (s->cfg.local &&
        xmp_node_child(el, NS_STREAMS, "remote-connection-failed"))
        return session_fail(s, XMP_EUNREACH, "session holder %s: %s",
                            s->cfg.local, why);
    /* 'session stop': the holder, not the server, went away */
    if (s->cfg.local && xmp_node_child(el, NS_STREAMS, "system-shutdown")) {
        sm_no_resume(s);
        return session_fail(s, XMP_EUNREACH,
                            "the background session was stopped");
    }
    if (server_going_away(el)) {
        sm_no_resume(s); /* ended on purpose: not resumed */
        return session_fail(s, XMP_EUNREACH, "stream error from %s%s: %s",
                            s->cfg.local ? "session holder " : "server",
                            s->cfg.local ? s->cfg.local : "", why);
    }
    if (s->cfg.local)
        return session_fail(s, XMP_EPROTO,
                            "stream error from session holder %s: %s",
                            s->cfg.local, why);
    return session_fail(s, XMP_EPROTO, "stream error from server: %s", why);
}

/* <success/> or <continue/> of SASL2 for the trace: the authorization
 * identifier and <bound/> as they are; the additional data (the
 * mechanism's last message), a challenge and a token's value hidden. */
static void trace_sasl2(struct xmp_session *s, const struct xmp_node *el)
{
    struct buf b = BUF_INIT;
    const struct xmp_node *c;
    const char *name = xmp_node_name(el);
    char *x;

    buf_printf(&b, "<%s xmlns='" NS_SASL2 "'>", name);
    if (strcmp(name, "success") != 0 && strcmp(name, "continue") != 0)
        buf_puts(&b, "[redacted]");
    else
        for (c = xmp_node_first(el); c; c = xmp_node_next(c)) {
            if (node_is(c, NS_SASL2, "additional-data")) {
                buf_puts(&b, "<additional-data>[redacted]</additional-data>");
            } else if (node_is(c, NS_FAST, "token")) {
                buf_printf(&b, "<token xmlns='" NS_FAST "' token='[redacted]'"
                               " expiry='%s'/>",
                           xmp_node_attr(c, "expiry") &&
                                   !strpbrk(xmp_node_attr(c, "expiry"),
                                            "<>&'\"")
                               ? xmp_node_attr(c, "expiry")
                               : "");
            } else if ((x = xmp_node_to_string(c, NS_SASL2))) {
                buf_puts(&b, x);
                free(x);
            }
        }
    if (buf_printf(&b, "</%s>", name) >= 0)
        s->o.trace(s->o.trace_ud, XMP_TRACE_IN, b.data, b.len);
    buf_free(&b);
}

static void trace_in(struct xmp_session *s, const struct xmp_node *el)
{
    char *x;

    if (!s->o.trace)
        return;
    /* SASL2: what the server says of us stays, its proof and a token
     * go */
    if (strcmp(xmp_node_ns(el), NS_SASL2) == 0 &&
        strcmp(xmp_node_name(el), "failure") != 0) {
        trace_sasl2(s, el);
        return;
    }
    if (strcmp(xmp_node_ns(el), NS_SASL) == 0 &&
        strcmp(xmp_node_name(el), "failure") != 0 &&
        strcmp(xmp_node_name(el), "mechanisms") != 0) {
        session_trace(s, XMP_TRACE_IN,
                      "<%s xmlns='" NS_SASL "'>[redacted]</%s>",
                      xmp_node_name(el), xmp_node_name(el));
        return;
    }
    if ((x = xmp_node_to_string(el, NS_CLIENT))) {
        s->o.trace(s->o.trace_ud, XMP_TRACE_IN, x, strlen(x));
        free(x);
    }
}

/* The reader's element callback: one complete top-level element. */
int session_on_element(void *ud, struct xmp_node *el)
{
    struct xmp_session *s = ud;
    enum xmp_err r = XMP_OK;
    enum session_state before = s->state;
    const char *id;

    /* A handler may have failed the session: nothing more is read. */
    if (s->state == ST_FAILED) {
        xmp_node_free(el);
        return -1;
    }
    /* ... or closed it at once (xmp_session_close on a peer that does
     * not read): what follows in this buffer is for no one. */
    if (s->state == ST_CLOSED) {
        xmp_node_free(el);
        return 1;
    }
    trace_in(s, el);
    if (node_is(el, XML_NS_STREAM, "error")) {
        on_stream_error(s, el);
        xmp_node_free(el);
        return -1;
    }
    switch (s->state) {
    case ST_WAIT_FEATURES:
        if (node_is(el, XML_NS_STREAM, "features"))
            r = on_features(s, el);
        else if (s->a2.bound && strcmp(xmp_node_ns(el), NS_SM) == 0)
            r = sm_element(s, el); /* bound by SASL2, features to come */
        else
            r = session_fail(s, XMP_EPROTO,
                             "expected stream features, got <%s/>",
                             xmp_node_name(el));
        break;
    case ST_WAIT_PROCEED:
        if (node_is(el, NS_TLS, "proceed"))
            s->neg.restart = RESTART_TLS;
        else
            r = session_fail(s, XMP_ETLS, "server refused STARTTLS (<%s/>)",
                             xmp_node_name(el));
        break;
    case ST_WAIT_SASL:
        if (s->a2.active && strcmp(xmp_node_ns(el), NS_SASL2) == 0)
            r = on_sasl2(s, el);
        else if (!s->a2.active && strcmp(xmp_node_ns(el), NS_SASL) == 0)
            r = on_sasl(s, el);
        else
            r = session_fail(s, XMP_EPROTO,
                             "expected a SASL answer, got <%s/>",
                             xmp_node_name(el));
        break;
    case ST_WAIT_BIND:
    case ST_WAIT_SESSION:
        id = xmp_node_attr(el, "id");
        if (node_is(el, NS_CLIENT, "iq") && id && s->neg.pending_id &&
            strcmp(id, s->neg.pending_id) == 0) {
            if (s->state == ST_WAIT_BIND) {
                r = on_bind_result(s, el);
            } else if (xmp_node_attr(el, "type") &&
                       strcmp(xmp_node_attr(el, "type"), "result") == 0) {
                r = become_ready(s);
            } else {
                char why[256];

                xmp_error_describe(el, why, sizeof why);
                r = session_fail(s, XMP_EREMOTE,
                                 "session establishment failed: %s", why);
            }
        }
        /* Anything else before we are ready is not for us yet. */
        break;
    case ST_WAIT_RESUME:
        if (strcmp(xmp_node_ns(el), NS_SM) == 0)
            r = sm_element(s, el);
        break;
    case ST_READY:
    case ST_CLOSING:
        if (s->a2.features_due && node_is(el, XML_NS_STREAM, "features")) {
            /* after a resumption inside SASL2: what it offers now */
            s->a2.features_due = 0;
            if (stream_note_features(&s->st, el) != XMP_OK)
                r = session_fail(s, XMP_ENOMEM, "out of memory");
            break;
        }
        if (strcmp(xmp_node_ns(el), NS_SM) == 0) {
            r = sm_element(s, el);
            break;
        }
        r = session_dispatch(s, el);
        /* XEP-0198 §4: handled, whatever the handlers made of it. */
        sm_count_in(s, el);
        break;
    default:
        r = session_fail(s, XMP_EPROTO, "unexpected <%s/>",
                         xmp_node_name(el));
        break;
    }
    xmp_node_free(el);
    if (r != XMP_OK && r != XMP_AGAIN)
        return -1;
    /* A wait is measured from our last request, not from whatever the
     * server sends meanwhile; an awaited answer starts a new wait. */
    if (s->state != before)
        s->wait_since = xmp_now_ms();
    return s->neg.restart ? 1 : 0;
}

int session_on_stream_start(void *ud, const char *ns, const char *name,
                            const char **attrs)
{
    struct xmp_session *s = ud;
    const char *version = NULL, *id = NULL, *from = NULL;
    size_t i;

    for (i = 0; attrs[i]; i += 2) {
        if (strcmp(attrs[i], "version") == 0)
            version = attrs[i + 1];
        else if (strcmp(attrs[i], "id") == 0)
            id = attrs[i + 1];
        else if (strcmp(attrs[i], "from") == 0)
            from = attrs[i + 1];
    }
    session_trace(s, XMP_TRACE_IN, "<stream:stream from='%s' id='%s' "
                                   "version='%s'>",
                  from ? from : "", id ? id : "", version ? version : "");
    if (strcmp(ns, XML_NS_STREAM) != 0 || strcmp(name, "stream") != 0) {
        session_fail(s, XMP_EPROTO, "server did not open an XMPP stream");
        return -1;
    }
    /* RFC 6120 §4.7.5: no version means pre-1.0, without TLS or SASL. */
    if (!version || strtol(version, NULL, 10) < 1) {
        session_fail(s, XMP_EPROTO, "server does not speak XMPP 1.0");
        return -1;
    }
    return 0;
}

void session_on_stream_end(void *ud)
{
    struct xmp_session *s = ud;

    /* The stream notes it; step_stream acts on it. */
    session_trace(s, XMP_TRACE_IN, "</stream:stream>");
}

/* Called by the I/O code when the TLS handshake has finished. */
enum xmp_err session_tls_ready(struct xmp_session *s)
{
    struct xmp_error e;
    int two;

    stream_tls_info(&s->st, &s->neg.tlsinfo);
    session_trace(s, XMP_TRACE_INFO, "%s %s, certificate %s%s%s, key %s",
                  s->neg.tlsinfo.version, s->neg.tlsinfo.cipher,
                  s->neg.tlsinfo.subject,
                  s->neg.tlsinfo.verified ? ", verified for "
                                          : ", NOT verified: ",
                  s->neg.tlsinfo.verified ? s->jid.domain
                                          : s->neg.tlsinfo.verify_msg,
                  s->neg.tlsinfo.pin);
    /* the caller's own key check (trust on first use) comes before
     * anything is said over the new channel */
    if (s->o.check_key) {
        xmp_error_clear(&e);
        if (s->o.check_key(s->o.check_key_ud, s->jid.domain,
                           s->neg.tlsinfo.key_type, s->neg.tlsinfo.pin,
                           &e) != XMP_OK) {
            if (e.code == XMP_OK)
                xmp_error_set(&e, XMP_ETLS, "the server key of %s was "
                              "refused", s->jid.domain);
            return session_fail_with(s, &e);
        }
    }
    /* RFC 6120 §5.4.3.3: a fresh stream over TLS; with fresh hints for
     * this very key, <auth/> right behind it. */
    if (send_header(s) != XMP_OK)
        return s->err.code;
    if (s->neg.tlsinfo.resumed)
        session_trace(s, XMP_TRACE_INFO, "TLS session resumed");
    if (!hints_fit(s) || s->cfg.mech_opt || !s->neg.tlsinfo.verified ||
        strcmp(s->hints.given.pin, s->neg.tlsinfo.pin) != 0)
        return XMP_OK;
    if ((two = sasl2_note_features(s, NULL)) < 0)
        return s->err.code;
    if (!s->hints.given.mechs && !two)
        return XMP_OK;
    session_trace(s, XMP_TRACE_INFO, "authenticating on the features of %s "
                  "remembered from an earlier session",
                  s->jid.domain);
    /* XEP-0509: the token with the stream header, and what the caller
     * sends right behind it */
    if (two && sasl2_token_usable(s)) {
        free(s->neg.cb_offered);
        s->neg.cb_offered = NULL;
        if (s->hints.given.cb && !(s->neg.cb_offered =
                                       strdup(s->hints.given.cb)))
            return session_fail(s, XMP_ENOMEM, "out of memory");
        return start_ht(s, 1);
    }
    return start_hinted_auth(s);
}

static enum xmp_err start_tls(struct xmp_session *s)
{
    struct tls_params p;
    struct xmp_error e;

    memset(&p, 0, sizeof p);
    p.domain = s->jid.domain;
    p.cafile = s->cfg.cafile;
    p.trust = s->o.trust;
    p.insecure = s->o.insecure;
    /* "xmpp-client" is the wrong name on a server's port (XEP-0368
     * §3: "xmpp-server"): a server probe offers none */
    p.alpn_xmpp = s->target.direct_tls && s->o.probe != XMP_PROBE_SERVER;
    p.min_tls13 = s->o.tls_min == 13;
    p.pins = s->cfg.pin;
    p.client_cert = s->cfg.client_cert;
    p.client_key = s->cfg.client_key;
    p.probe_version = s->o.probe ? s->o.probe_tls_version : 0;
    p.probe_suite = s->o.probe ? s->o.probe_tls_suite : 0;
    if (hints_tls_fit(s)) {
        p.session = s->hints.given.tls;
        p.session_len = s->hints.given.tls_len;
        p.session_pin = s->hints.given.pin;
    }
    if (stream_queued(&s->st))
        return session_fail(s, XMP_EPROTO,
                            "unsent plaintext left at the TLS handshake");
    if (stream_start_tls(&s->st, &p, &e) != XMP_OK)
        return session_fail_with(s, &e);
    s->state = ST_TLS_HANDSHAKE;
    s->wait_since = xmp_now_ms();
    return XMP_OK;
}

enum xmp_err session_restart(struct xmp_session *s)
{
    enum session_restart kind = s->neg.restart;

    s->neg.restart = RESTART_NONE;
    switch (kind) {
    case RESTART_TLS:
        /* RFC 6120 §5.4.3.3: after <proceed/> the next bytes are the TLS
         * handshake; plaintext here is an injection. */
        if (s->st.left.len)
            return session_fail(s, XMP_EPROTO,
                                "server sent %zu bytes of plaintext after "
                                "<proceed/>",
                                s->st.left.len);
        stream_unpause(&s->st);
        return start_tls(s);
    case RESTART_STREAM:
        /* RFC 6120 §6.4.6: what follows <success/> is the new stream.
         * Every server binds a resource (RFC 6120 §7.1), so the bind
         * goes with the header; its answer comes after the features,
         * which on_features still checks.  A stream that could resume
         * an earlier one (XEP-0198) waits for the features instead. */
        s->neg.piped_bind = 0;
        if (send_header(s) != XMP_OK)
            return s->err.code;
        if (s->sm.id)
            return XMP_OK;
        if (start_bind(s) != XMP_OK)
            return s->err.code;
        s->neg.piped_bind = 1;
        s->state = ST_WAIT_FEATURES;
        return XMP_OK;
    default:
        return session_fail(s, XMP_EPROTO, "stream paused for no reason");
    }
}

/* Everything the last connection negotiated goes. */
void negotiate_reset(struct xmp_session *s)
{
    sasl_free(s->neg.sasl);
    s->neg.sasl = NULL;
    s->neg.mech = NULL;
    s->neg.cb_type = NULL;
    s->neg.ssdp_pending = s->neg.ssdp_checked = 0;
    s->neg.authenticated = 0;
    s->neg.session_required = 0;
    s->neg.piped_starttls = s->neg.piped_bind = s->neg.piped_auth = 0;
    s->neg.auth_stale = 0;
    s->neg.hints_features = 0;
    s->neg.tls_required = s->neg.probed = s->neg.probe_close = 0;
    s->neg.restart = RESTART_NONE;
    sasl2_reset(s);
    memset(&s->neg.tlsinfo, 0, sizeof s->neg.tlsinfo);
    free(s->neg.sasl_offered);
    free(s->neg.feat_plain);
    free(s->neg.feat_preauth);
    free(s->neg.mechs_plain);
    free(s->neg.cb_offered);
    free(s->neg.pending_id);
    s->neg.sasl_offered = s->neg.feat_plain = s->neg.feat_preauth = NULL;
    s->neg.mechs_plain = s->neg.cb_offered = s->neg.pending_id = NULL;
}

void negotiate_free(struct xmp_session *s)
{
    negotiate_reset(s);
    free(s->neg.bound);
    s->neg.bound = NULL;
}

void negotiate_trusted(struct xmp_session *s)
{
    s->neg.authenticated = 1;
}

enum xmp_err negotiate_adopt(struct xmp_session *s, const char *bound)
{
    if (!(s->neg.bound = strdup(bound)))
        return XMP_ENOMEM;
    s->neg.authenticated = 1;
    return XMP_OK;
}

/* Called by the I/O code once a TCP connection stands. */
enum xmp_err session_connected(struct xmp_session *s)
{
    session_trace(s, XMP_TRACE_INFO, "connected to %s port %u (%s) [%s]",
                  s->target.host, s->target.port, s->address,
                  s->target.found_by);
    if (s->target.direct_tls)
        return start_tls(s);
    return send_header(s);
}
