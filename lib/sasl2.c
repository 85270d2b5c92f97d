/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sasl2.c - XEP-0388 Extensible SASL Profile ("SASL2") around the SASL
 * mechanisms of sasl.c: one <authenticate/> that carries the initial
 * response, who we are (<user-agent/>), the resource binding and the
 * stream management of XEP-0386 Bind2, and XEP-0484 FAST: a token the
 * server issues, used next time by an HT-* mechanism
 * (draft-schmaus-kitten-sasl-ht, ht.c) instead of the password.
 *
 * negotiate.c chooses the mechanism and moves the state; this file
 * writes the elements and reads the answers' contents.  The token is a
 * credential: never in a trace, wiped when it goes.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ht.h"
#include "session_int.h"

/* A token longer than this, or not printable ASCII, is not taken. */
#define TOKEN_MAX 1024
/* A token this close to its expiry is not offered. */
#define TOKEN_MARGIN_S 60

static void wipe_free(char *p)
{
    if (p) {
        explicit_bzero(p, strlen(p));
        free(p);
    }
}

static int token_clean(const char *t)
{
    size_t n = strlen(t);

    if (!n || n > TOKEN_MAX)
        return 0;
    for (; *t; t++)
        if (*t < 0x21 || *t > 0x7e)
            return 0;
    return 1;
}

static void forget_token(struct xmp_session *s)
{
    wipe_free(s->a2.token);
    free(s->a2.token_mech);
    s->a2.token = s->a2.token_mech = NULL;
    s->a2.token_expiry = 0;
}

enum xmp_err sasl2_init(struct xmp_session *s)
{
    const struct xmp_fast_token *t = s->o.fast;

    s->o.fast = NULL; /* borrowed: not kept */
    if (!t || !t->token || !t->mech || !ht_cb_type(t->mech) ||
        !token_clean(t->token))
        return XMP_OK;
    if (!(s->a2.token = strdup(t->token)) ||
        !(s->a2.token_mech = strdup(t->mech))) {
        forget_token(s);
        return XMP_ENOMEM;
    }
    s->a2.token_expiry = t->expiry;
    return XMP_OK;
}

void sasl2_reset(struct xmp_session *s)
{
    free(s->a2.mechs);
    free(s->a2.fast_mechs);
    free(s->a2.bind2);
    free(s->a2.sasl1);
    s->a2.mechs = s->a2.fast_mechs = s->a2.bind2 = s->a2.sasl1 = NULL;
    s->a2.offered = s->a2.active = s->a2.piped = s->a2.bind = 0;
    s->a2.sm_asked = s->a2.success_seen = 0;
    s->a2.sm_inline = s->a2.resume_inline = s->a2.features_due = 0;
    s->a2.ht = s->a2.requested = NULL;
    explicit_bzero(s->a2.cb, sizeof s->a2.cb);
    s->a2.cb_len = 0;
    s->a2.early = 0;
    s->a2.bound = 0;
}

void sasl2_free(struct xmp_session *s)
{
    sasl2_reset(s);
    forget_token(s);
}

static int listed(const char *list, const char *word)
{
    size_t n = strlen(word);
    const char *p = list;

    while (list && (p = strstr(p, word))) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
            return 1;
        p += n;
    }
    return 0;
}

/* The texts of el's children ns:name (or, for name "feature", their var
 * attributes), space-separated; "" for none. */
static char *words(const struct xmp_node *el, const char *ns,
                   const char *name)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz0123456789-_:./";
    const struct xmp_node *c;
    struct buf b = BUF_INIT;
    char *t;
    int var = strcmp(name, "feature") == 0;

    if (buf_puts(&b, "") < 0)
        return NULL;
    for (c = xmp_node_first(el); c; c = xmp_node_next(c)) {
        if (!node_is(c, ns, name))
            continue;
        t = var ? (xmp_node_attr(c, "var") ? strdup(xmp_node_attr(c, "var"))
                                           : NULL)
                : xmp_node_text(c);
        /* only what can be written back as one word */
        if (t && *t && strspn(t, ok) == strlen(t) && !listed(b.data, t))
            buf_printf(&b, "%s%s", b.len ? " " : "", t);
        free(t);
    }
    return buf_take(&b);
}

int sasl2_note_features(struct xmp_session *s, const struct xmp_node *f)
{
    const struct xmp_node *a, *in, *c;
    const struct hints *h = &s->hints.given;

    free(s->a2.mechs);
    free(s->a2.fast_mechs);
    free(s->a2.bind2);
    free(s->a2.sasl1);
    s->a2.mechs = s->a2.fast_mechs = s->a2.bind2 = s->a2.sasl1 = NULL;
    s->a2.offered = s->a2.sm_inline = 0;
    if (s->o.no_sasl2 || s->cfg.local || !stream_is_tls(&s->st))
        return 0;
    if (!f) {
        if (!h->sasl2)
            return 0;
        if (!(s->a2.mechs = strdup(h->sasl2)) ||
            (h->fast && !(s->a2.fast_mechs = strdup(h->fast))) ||
            (h->bind2 && !(s->a2.bind2 = strdup(h->bind2))))
            goto nomem;
        s->a2.sm_inline = h->sasl2_sm;
        s->a2.offered = 1;
        return 1;
    }
    if (!(a = xmp_node_child(f, NS_SASL2, "authentication")))
        return 0;
    if (!(s->a2.mechs = words(a, NS_SASL2, "mechanism")))
        goto nomem;
    if ((c = xmp_node_child(f, NS_SASL, "mechanisms")) &&
        !(s->a2.sasl1 = words(c, NS_SASL, "mechanism")))
        goto nomem;
    if ((in = xmp_node_child(a, NS_SASL2, "inline"))) {
        s->a2.sm_inline = xmp_node_child(in, NS_SM, "sm") != NULL;
        if ((c = xmp_node_child(in, NS_FAST, "fast")) &&
            !(s->a2.fast_mechs = words(c, NS_FAST, "mechanism")))
            goto nomem;
        if ((c = xmp_node_child(in, NS_BIND2, "bind"))) {
            c = xmp_node_child(c, NS_BIND2, "inline");
            if (!(s->a2.bind2 = c ? words(c, NS_BIND2, "feature")
                                  : strdup("")))
                goto nomem;
        }
    }
    s->a2.offered = 1;
    return 1;
nomem:
    session_fail(s, XMP_ENOMEM, "out of memory");
    return -1;
}

/* TLS we may give a token (or a token's proof) to: verified for the
 * domain, never with verification off. */
static int tls_trusted(const struct xmp_session *s)
{
    return stream_is_tls(&s->st) && s->neg.tlsinfo.verified &&
           !s->o.insecure;
}

/* The binding data mech's token needs on this connection: 1 with cb set,
 * 0 when it cannot be had. */
static int ht_binding(struct xmp_session *s, const char *mech,
                      unsigned char *cb, size_t *cb_len)
{
    const char *type = ht_cb_type(mech);
    int tls13 = strcmp(s->neg.tlsinfo.version, "TLSv1.3") == 0;
    struct xmp_error e;

    *cb_len = 0;
    if (!type)
        return 0;
    if (!*type) /* -NONE: replayable by whoever breaks TLS */
        return s->o.fast_unbound && !s->o.require_cb;
    /* tls-unique of a resumed TLS 1.2 handshake is taken wrongly by some
     * servers, and TLS 1.3 has none */
    if (strcmp(type, "tls-unique") == 0 &&
        (tls13 || s->neg.tlsinfo.resumed))
        return 0;
    return stream_channel_binding(&s->st, type, cb, cb_len, &e) == XMP_OK;
}

int sasl2_token_usable(struct xmp_session *s)
{
    unsigned char cb[TLS_CB_MAX];
    size_t n;
    int ok;

    if (!s->a2.token || !s->a2.offered || !tls_trusted(s) ||
        !s->cfg.user_agent || s->cfg.mech_opt || s->a2.refused ||
        !listed(s->a2.fast_mechs, s->a2.token_mech))
        return 0;
    if (s->a2.token_expiry &&
        (int64_t)time(NULL) + TOKEN_MARGIN_S >= s->a2.token_expiry) {
        session_trace(s, XMP_TRACE_INFO, "the FAST token has expired");
        return 0;
    }
    ok = ht_binding(s, s->a2.token_mech, cb, &n);
    explicit_bzero(cb, sizeof cb);
    return ok;
}

/* A UUID, as XEP-0388 §2.3 asks for the user agent's id: nothing else
 * goes into the element. */
static int uuid_like(const char *id)
{
    size_t i;

    if (!id || strlen(id) != 36)
        return 0;
    for (i = 0; i < 36; i++)
        if ((i == 8 || i == 13 || i == 18 || i == 23)
                ? id[i] != '-'
                : !isxdigit((unsigned char)id[i]))
            return 0;
    return 1;
}

/* XML character data of t into b, escaped: 0, or -1 (out of memory). */
static int put_text(struct buf *b, const char *t)
{
    int bad = 0;

    for (; *t; t++)
        switch (*t) {
        case '<': bad |= buf_puts(b, "&lt;"); break;
        case '>': bad |= buf_puts(b, "&gt;"); break;
        case '&': bad |= buf_puts(b, "&amp;"); break;
        case '\'': bad |= buf_puts(b, "&apos;"); break;
        case '"': bad |= buf_puts(b, "&quot;"); break;
        default: bad |= buf_append(b, t, 1);
        }
    return bad ? -1 : 0;
}

/* What follows the initial response in <authenticate/>: who we are,
 * Bind2, FAST.  Into b (twice: x and the trace's t get the same). */
static enum xmp_err extras(struct xmp_session *s, struct buf *b)
{
    const char *sw = s->cfg.software ? s->cfg.software : "xmpctl";
    const char *tag = sw;
    const char *tok_mech;
    int tls13 = strcmp(s->neg.tlsinfo.version, "TLSv1.3") == 0;
    int bad = 0; /* a piece that could not be added: nothing is sent */

    if (uuid_like(s->cfg.user_agent)) {
        bad |= buf_printf(b, "<user-agent id='%s'><software>",
                          s->cfg.user_agent);
        bad |= put_text(b, sw);
        bad |= buf_puts(b, "</software></user-agent>");
    }
    s->a2.bind = s->a2.sm_asked = 0;
    /* Bind2 binds a resource; resuming (XEP-0198) takes an old one over
     * instead, after the features that follow <success/>; invalidating a
     * token binds nothing. */
    if (s->a2.bind2 && !s->sm.resuming && !s->o.fast_invalidate &&
        !s->cfg.resource) {
        s->a2.bind = 1;
        bad |= buf_puts(b, "<bind xmlns='" NS_BIND2 "'><tag>");
        bad |= put_text(b, tag);
        bad |= buf_puts(b, "</tag>");
        if ((s->a2.sm_asked = listed(s->a2.bind2, NS_SM)) &&
            sm_enable_inline(s, b) != XMP_OK)
            return s->err.code;
        if (s->o.carbons && listed(s->a2.bind2, NS_CARBONS))
            bad |= buf_puts(b, "<enable xmlns='" NS_CARBONS "'/>");
        if (s->o.csi_inactive && listed(s->a2.bind2, NS_CSI))
            bad |= buf_puts(b, "<inactive xmlns='" NS_CSI "'/>");
        bad |= buf_puts(b, "</bind>");
    }
    /* XEP-0198 resumption of a lost connection, inside (Bind2's place) */
    s->a2.resume_inline = s->sm.resuming && s->a2.sm_inline &&
                          sm_resume_inline(s, b);
    s->a2.requested = NULL;
    if (s->a2.ht) {
        bad |= buf_printf(b, "<fast xmlns='" NS_FAST "'%s/>",
                          s->o.fast_invalidate ? " invalidate='true'" : "");
    } else if (s->o.fast_request && !s->o.fast_invalidate &&
               s->a2.fast_mechs && tls_trusted(s) &&
               uuid_like(s->cfg.user_agent) &&
               (tok_mech = ht_best(s->a2.fast_mechs, tls13,
                                   s->neg.tlsinfo.ems,
                                   s->neg.tlsinfo.resumed,
                                   s->neg.tlsinfo.chain_len > 0,
                                   s->neg.cb_offered,
                                   s->o.fast_unbound && !s->o.require_cb))) {
        s->a2.requested = tok_mech;
        bad |= buf_printf(b, "<request-token xmlns='" NS_FAST
                             "' mechanism='%s'/>", tok_mech);
    }
    return bad ? session_fail(s, XMP_ENOMEM, "out of memory") : XMP_OK;
}

static enum xmp_err send_authenticate(struct xmp_session *s,
                                      const char *mech, const char *initial)
{
    struct buf x = BUF_INIT, t = BUF_INIT, more = BUF_INIT;
    enum xmp_err r;
    int bad = 0;

    if (extras(s, &more) != XMP_OK) {
        buf_free(&more);
        return s->err.code;
    }
    bad |= buf_printf(&x, "<authenticate xmlns='" NS_SASL2
                          "' mechanism='%s'>", mech);
    bad |= buf_printf(&t, "<authenticate xmlns='" NS_SASL2
                          "' mechanism='%s'>", mech);
    if (initial) {
        /* XEP-0388 §2.3: an empty response is "=", as in RFC 6120 */
        bad |= buf_printf(&x, "<initial-response>%s</initial-response>",
                          *initial ? initial : "=");
        bad |= buf_puts(&t,
                        "<initial-response>[redacted]</initial-response>");
    }
    bad |= buf_printf(&x, "%s</authenticate>", more.data ? more.data : "");
    bad |= buf_printf(&t, "%s</authenticate>", more.data ? more.data : "");
    if (bad)
        buf_free(&t); /* so that session_send_secret fails */
    buf_free(&more);
    if ((r = session_send_secret(s, &x, &t)) == XMP_OK)
        s->a2.active = 1;
    return r;
}

enum xmp_err sasl2_start(struct xmp_session *s, const char *mech,
                         const char *initial)
{
    s->a2.ht = NULL;
    return send_authenticate(s, mech, initial);
}

/* The static name of an HT mechanism (the token's copy goes when the
 * server replaces the token, and the info keeps pointing at the name). */
static const char *ht_static(const char *mech)
{
    static const char *const names[] = {
        "HT-SHA-256-EXPR", "HT-SHA-256-UNIQ", "HT-SHA-256-ENDP",
        "HT-SHA-256-NONE",
    };
    size_t i;

    for (i = 0; mech && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(mech, names[i]) == 0)
            return names[i];
    return NULL;
}

enum xmp_err sasl2_start_ht(struct xmp_session *s)
{
    struct xmp_error e;
    char *init = NULL;
    enum xmp_err r;

    if (!(s->a2.ht = ht_static(s->a2.token_mech)))
        return session_fail(s, XMP_EAUTH, "no such FAST mechanism");
    if (!ht_binding(s, s->a2.ht, s->a2.cb, &s->a2.cb_len))
        return session_fail(s, XMP_EAUTH, "cannot compute the channel "
                            "binding of %s", s->a2.ht);
    if (ht_initial(s->jid.local, s->a2.token, s->a2.cb, s->a2.cb_len, &init,
                   &e) != XMP_OK)
        return session_fail_with(s, &e);
    session_trace(s, XMP_TRACE_INFO, "SASL2 mechanism %s (FAST token%s)",
                  s->a2.ht, s->o.fast_invalidate ? ", to invalidate it" : "");
    r = send_authenticate(s, s->a2.ht, init);
    wipe_free(init);
    return r;
}

enum xmp_err sasl2_response(struct xmp_session *s, const char *b64)
{
    struct buf x = BUF_INIT, t = BUF_INIT;

    if (buf_printf(&x, "<response xmlns='" NS_SASL2 "'>%s</response>",
                   b64) < 0 ||
        buf_puts(&t, "<response xmlns='" NS_SASL2 "'>[redacted]</response>") <
            0)
        buf_free(&t); /* so that session_send_secret fails */
    return session_send_secret(s, &x, &t);
}

char *sasl2_additional(const struct xmp_node *el)
{
    const struct xmp_node *a = xmp_node_child(el, NS_SASL2,
                                              "additional-data");

    return a ? xmp_node_text(a) : NULL;
}

/* XEP-0082 date and time, UTC or with an offset, fractions ignored:
 * seconds since 1970, or 0 when it is not one. */
static int64_t parse_time(const char *v)
{
    struct tm tm;
    const char *p;
    int64_t t;
    int oh = 0, om = 0, sign = 0;

    memset(&tm, 0, sizeof tm);
    if (!v || !(p = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm)))
        return 0;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (*p == 'Z')
        p++;
    else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
             isdigit((unsigned char)p[2]) && p[3] == ':' &&
             isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
        sign = *p == '-' ? -1 : 1;
        oh = (p[1] - '0') * 10 + (p[2] - '0');
        om = (p[4] - '0') * 10 + (p[5] - '0');
        p += 6;
    } else {
        return 0;
    }
    if (*p || (t = (int64_t)timegm(&tm)) <= 0)
        return 0;
    return t - sign * (oh * 3600 + om * 60);
}

/* <token/> of <success/>: the one to use next time. */
static void take_token(struct xmp_session *s, const struct xmp_node *tok)
{
    const char *v = xmp_node_attr(tok, "token");
    const char *mech = s->a2.requested ? s->a2.requested : s->a2.ht;
    struct xmp_fast_token t;
    char *copy, *mcopy;

    if (!mech || !v || !token_clean(v)) {
        session_trace(s, XMP_TRACE_INFO, "ignoring a FAST token %s",
                      mech ? "that cannot be stored" : "not asked for");
        return;
    }
    if (!(copy = strdup(v)) || !(mcopy = strdup(mech))) {
        free(copy);
        return;
    }
    forget_token(s);
    s->a2.token = copy;
    s->a2.token_mech = mcopy;
    s->a2.token_expiry = parse_time(xmp_node_attr(tok, "expiry"));
    s->a2.new_mech = s->a2.requested ? s->a2.requested : s->a2.ht;
    s->a2.new_expiry = s->a2.token_expiry;
    session_trace(s, XMP_TRACE_INFO, "FAST token %s for %s", 
                  s->a2.requested ? "issued" : "renewed", mech);
    if (s->o.on_fast) {
        t.mech = s->a2.token_mech;
        t.token = s->a2.token;
        t.expiry = s->a2.token_expiry;
        s->o.on_fast(s->o.on_fast_ud, &t);
    }
}

enum xmp_err sasl2_success(struct xmp_session *s, const struct xmp_node *el)
{
    const struct xmp_node *id, *id2, *b, *tok;
    char *jid = NULL, *jid2 = NULL;
    enum xmp_err r;

    if (s->a2.ht) {
        char *add = sasl2_additional(el);
        int ok = add && ht_verify(s->a2.token, s->a2.cb, s->a2.cb_len, add);

        wipe_free(add);
        explicit_bzero(s->a2.cb, sizeof s->a2.cb);
        if (!ok)
            return session_fail(s, XMP_EAUTH,
                                "server %s did not prove that it holds the "
                                "FAST token (%s)",
                                s->jid.domain, s->a2.ht);
        s->a2.used = s->a2.ht;
    }
    /* XEP-0388 §2.6.1 names it authorization-identifier; early texts of
     * it and of XEP-0386 say -identity: either, not two that differ */
    id = xmp_node_child(el, NS_SASL2, "authorization-identifier");
    id2 = xmp_node_child(el, NS_SASL2, "authorization-identity");
    if ((id && !(jid = xmp_node_text(id))) ||
        (id2 && !(jid2 = xmp_node_text(id2)))) {
        r = session_fail(s, XMP_ENOMEM, "out of memory");
        goto done;
    }
    if (jid && jid2 && strcmp(jid, jid2) != 0) {
        r = session_fail(s, XMP_EPROTO, "server says we are both %s and %s",
                         jid, jid2);
        goto done;
    }
    if (!jid) {
        jid = jid2;
        jid2 = NULL;
    }
    b = xmp_node_child(el, NS_BIND2, "bound");
    if (b && !s->a2.bind) {
        r = session_fail(s, XMP_EPROTO, "server bound a resource it was not "
                         "asked to bind");
        goto done;
    }
    s->a2.bound = b != NULL;
    if (jid && (r = session_check_bound(s, jid, s->a2.bound,
                                        "authorized us as")) != XMP_OK)
        goto done;
    if (s->a2.bound && !jid) {
        r = session_fail(s, XMP_EPROTO, "server bound a resource without "
                         "saying which");
        goto done;
    }
    if (s->a2.bound) {
        free(s->neg.bound);
        s->neg.bound = jid;
        jid = NULL;
    }
    if ((tok = xmp_node_child(el, NS_FAST, "token")) && !s->o.fast_invalidate)
        take_token(s, tok);
    if (s->o.fast_invalidate && s->a2.ht) {
        forget_token(s);
        if (s->o.on_fast)
            s->o.on_fast(s->o.on_fast_ud, NULL);
    }
    r = XMP_OK;
done:
    free(jid);
    free(jid2);
    return r;
}

enum xmp_err sasl2_bound_sm(struct xmp_session *s,
                            const struct xmp_node *success)
{
    const struct xmp_node *b = xmp_node_child(success, NS_BIND2, "bound");
    const struct xmp_node *c;

    if (!b)
        return XMP_OK;
    for (c = xmp_node_first(b); c; c = xmp_node_next(c))
        if (strcmp(xmp_node_ns(c), NS_SM) == 0 &&
            (strcmp(xmp_node_name(c), "enabled") == 0 ||
             strcmp(xmp_node_name(c), "failed") == 0))
            return sm_element(s, c);
    /* asked for, not answered */
    if (s->sm.state == SM_ENABLING) {
        session_trace(s, XMP_TRACE_INFO, "stream management was not "
                      "enabled with the binding: acknowledgement by ping");
        sm_inline_off(s);
    }
    return XMP_OK;
}

int sasl2_token_refused(struct xmp_session *s, const struct xmp_node *el)
{
    char why[512];

    xmp_error_describe(el, why, sizeof why);
    s->a2.refused = 1;
    explicit_bzero(s->a2.cb, sizeof s->a2.cb);
    session_trace(s, XMP_TRACE_INFO, "the FAST token was refused (%s)", why);
    forget_token(s);
    if (s->o.on_fast)
        s->o.on_fast(s->o.on_fast_ud, NULL);
    s->a2.ht = NULL;
    sm_inline_off(s);
    if (s->o.fast_invalidate) {
        session_fail(s, XMP_EAUTH, "the server refused the FAST token of %s "
                     "(%s); it is forgotten here", s->bare, why);
        return 0;
    }
    return 1;
}

enum xmp_err sasl2_continue(struct xmp_session *s, const struct xmp_node *el)
{
    const struct xmp_node *t = xmp_node_child(el, NS_SASL2, "tasks");
    char *list = t ? words(t, NS_SASL2, "task") : NULL;

    /* XEP-0388 §2.6.3: say no, then go */
    stream_abort(&s->st, "<abort xmlns='" NS_SASL2 "'/>");
    session_fail(s, XMP_EAUTH, "server %s asks for task%s %s after "
                 "authentication, which xmpctl does not do",
                 s->jid.domain, list && strchr(list, ' ') ? "s" : "",
                 list && *list ? list : "(none named)");
    free(list);
    return s->err.code;
}

void sasl2_may_pipeline(struct xmp_session *s)
{
    if (!s->o.pipeline || !s->a2.active || !s->a2.bind ||
        s->sm.state != SM_ENABLING || !tls_trusted(s) || s->a2.early ||
        s->o.fast_invalidate)
        return;
    s->a2.early = 1;
    s->a2.early_seq = s->out.sent_seq;
    session_trace(s, XMP_TRACE_INFO, "stanzas may go before the server "
                  "confirms authentication");
}

void sasl2_early_end(struct xmp_session *s, int in_doubt)
{
    if (!s->a2.early)
        return;
    s->a2.early = 0;
    s->a2.pipelined = (unsigned)(s->out.sent_seq - s->a2.early_seq);
    if (in_doubt)
        s->a2.early_unconfirmed = s->a2.pipelined;
}
