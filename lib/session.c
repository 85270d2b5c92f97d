/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * session.c - the core of a session, which ties its parts together: its
 * life as the public API sees it (creation, start, reconnection, the
 * polite close of RFC 6120 §4.4, freeing), what it knows; and the hooks
 * by which the parts below hear of each other.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "proxy.h"
#include "session_int.h"

/* The hints of this session's connection replace the ones it was given,
 * for its own next connection. */
static void hints_refresh(struct xmp_session *s)
{
    struct hints fresh;
    const void *h;
    size_t len;

    if ((h = xmp_session_hints(s, XMP_HINTS_MEMORY, &len)) &&
        hints_decode(h, len, &fresh) == 0) {
        hints_clear(&s->hints.given);
        s->hints.given = fresh;
    }
}

/* session_fail's news: what this connection learnt, its TLS session too
 * (in memory), serves a resumption. */
static void after_failure(struct xmp_session *s)
{
    /* stanzas that went ahead of a <success/> that did not verify may
     * have reached the server; before any, they did not */
    sasl2_early_end(s, s->a2.success_seen);
    if (s->neg.authenticated)
        hints_refresh(s);
}

static const struct session_hooks hooks = {
    after_failure, sm_keep, xmp_session_request_ack, session_reconnect,
};

/* ---- life ------------------------------------------------------------ */

static char *dup_opt(const char *p, int *bad)
{
    char *d;

    if (!p)
        return NULL;
    if (!(d = strdup(p)))
        *bad = 1;
    return d;
}

/* The caller's context of the hints, as the blob keeps it: a digest,
 * so that any string will do and none is written out. */
static void hints_context(struct xmp_session *s, const char *ctx)
{
    unsigned char h[TLS_DIGEST_MAX];
    size_t n, i;

    memcpy(s->hints.context, "-", 2);
    if (!ctx || (n = tls_digest(1, ctx, strlen(ctx), h)) != 32)
        return;
    for (i = 0; i < n; i++)
        snprintf(s->hints.context + 2 * i, 3, "%02x", h[i]);
}

struct xmp_session *xmp_session_new(const struct xmp_session_opts *opts,
                                    struct xmp_error *err)
{
    struct xmp_session *s;
    int bad = 0;

    if (!opts->jid) {
        xmp_error_set(err, XMP_EUSAGE, "no JID given");
        return NULL;
    }
    if (!(s = calloc(1, sizeof *s))) {
        xmp_error_set(err, XMP_ENOMEM, "out of memory");
        return NULL;
    }
    s->hooks = &hooks;
    s->o = *opts;
    if (xmp_jid_parse(opts->jid, &s->jid, err) != XMP_OK) {
        free(s);
        return NULL;
    }
    if (opts->probe == XMP_PROBE_SERVER && !opts->server) {
        xmp_error_set(err, XMP_EUSAGE, "a server-to-server probe needs "
                      "the server to connect to");
        goto fail;
    }
    if (opts->probe_tls_version &&
        (!opts->probe || !tls_can_probe(opts->probe_tls_version))) {
        xmp_error_set(err, XMP_EUSAGE, "TLS version %d cannot be probed "
                      "here", opts->probe_tls_version);
        goto fail;
    }
    if (opts->probe_tls_suite &&
        (!opts->probe || !tls_suite_name(opts->probe_tls_suite))) {
        xmp_error_set(err, XMP_EUSAGE, "cipher suite 0x%04x cannot be "
                      "probed here", (unsigned)opts->probe_tls_suite);
        goto fail;
    }
    if (!s->jid.local && !opts->probe) {
        xmp_error_set(err, XMP_EDATA,
                      "invalid account JID '%s': no localpart", opts->jid);
        goto fail;
    }
    s->cfg.resource = dup_opt(opts->resource ? opts->resource
                                              : s->jid.resource,
                              &bad);
    s->cfg.server = dup_opt(opts->server, &bad);
    s->cfg.cafile = dup_opt(opts->cafile, &bad);
    s->cfg.mech_opt = dup_opt(opts->mech, &bad);
    s->cfg.pin = dup_opt(opts->pin, &bad);
    s->cfg.client_cert = dup_opt(opts->client_cert, &bad);
    s->cfg.client_key = dup_opt(opts->client_key, &bad);
    s->cfg.local = dup_opt(opts->local_socket, &bad);
    s->cfg.proxy = dup_opt(opts->proxy, &bad);
    s->cfg.user_agent = dup_opt(opts->user_agent_id, &bad);
    s->cfg.software = dup_opt(opts->software, &bad);
    s->cfg.probe_from = dup_opt(opts->probe_from, &bad);
    s->o.user_agent_id = s->o.software = NULL;
    if (sasl2_init(s) != XMP_OK)
        bad = 1;
    /* The caller's strings may go away: only our copies are used. */
    s->o.jid = s->o.resource = s->o.server = s->o.cafile = s->o.mech = NULL;
    s->o.pin = s->o.client_cert = s->o.client_key = s->o.proxy = NULL;
    s->o.probe_from = NULL;
    hints_context(s, opts->hints_context);
    /* hints for another domain, or damaged: as if there were none */
    if (opts->hints && hints_decode(opts->hints, opts->hints_len,
                                    &s->hints.given) == 0 &&
        strcasecmp(s->hints.given.domain, s->jid.domain) != 0)
        hints_clear(&s->hints.given);
    s->o.hints = NULL;
    s->o.hints_len = 0;
    s->o.hints_context = NULL;
    s->o.local_socket = NULL;
    s->bare = xmp_jid_bare(&s->jid);
    if (bad || !s->bare) {
        xmp_error_set(err, XMP_ENOMEM, "out of memory");
        goto fail;
    }
    if (s->cfg.resource &&
        (!*s->cfg.resource ||
         xmp_xml_check_text(s->cfg.resource, strlen(s->cfg.resource), err) !=
             XMP_OK)) {
        xmp_error_set(err, XMP_EDATA, "invalid resource '%s'",
                      s->cfg.resource);
        goto fail;
    }
    if (s->cfg.pin && tls_pins_check(s->cfg.pin, err) != XMP_OK)
        goto fail;
    if (s->cfg.proxy && xmp_proxy_check(s->cfg.proxy, NULL, err) != XMP_OK)
        goto fail;
    if (s->o.tls_min == 13 && !tls_has_13()) {
        xmp_error_set(err, XMP_EUSAGE, "TLS 1.3 asked for, and %s has none",
                      tls_library());
        goto fail;
    }
    if (s->o.tls_min != 0 && s->o.tls_min != 12 && s->o.tls_min != 13) {
        xmp_error_set(err, XMP_EUSAGE,
                      "no TLS version %d to accept at least (12 or 13)",
                      s->o.tls_min);
        goto fail;
    }
    if (!s->cfg.client_cert != !s->cfg.client_key) {
        xmp_error_set(err, XMP_EUSAGE,
                      "a client certificate needs both its certificate "
                      "and its key file");
        goto fail;
    }
    if (s->o.timeout_ms <= 0)
        s->o.timeout_ms = SESSION_DEFAULT_TIMEOUT_MS;
    xmp_session_set_keepalive(s, opts->keepalive_ms, 0);
    session_ids_init(s);
    s->state = ST_IDLE;
    return s;
fail:
    xmp_session_free(s);
    return NULL;
}

static enum xmp_err srv_targets(const char *domain, int s2s,
                                struct xmp_srv_target **out, size_t *n,
                                struct xmp_error *err)
{
    struct net_target *t = NULL;
    size_t i, k = 0;
    enum xmp_err r;

    *out = NULL;
    *n = 0;
    /* an onion service's name must not reach DNS */
    if (net_is_onion(domain))
        return xmp_error_set(err, XMP_EUSAGE,
                             "%s is an onion service: it has no DNS "
                             "records to look up",
                             domain);
    if ((r = s2s ? net_resolve_s2s(domain, &t, &k, err)
                 : net_resolve(domain, &t, &k, err)) != XMP_OK)
        return r;
    if (k && !(*out = calloc(k, sizeof **out))) {
        free(t);
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    }
    for (i = 0; i < k; i++) {
        snprintf((*out)[i].host, sizeof (*out)[i].host, "%s", t[i].host);
        (*out)[i].port = t[i].port;
        (*out)[i].priority = t[i].priority;
        (*out)[i].weight = t[i].weight;
        (*out)[i].direct_tls = t[i].direct_tls;
        (*out)[i].found_by = t[i].found_by;
    }
    *n = k;
    free(t);
    return XMP_OK;
}

enum xmp_err xmp_srv_targets(const char *domain, struct xmp_srv_target **out,
                             size_t *n, struct xmp_error *err)
{
    return srv_targets(domain, 0, out, n, err);
}

enum xmp_err xmp_srv_targets_s2s(const char *domain,
                                 struct xmp_srv_target **out, size_t *n,
                                 struct xmp_error *err)
{
    return srv_targets(domain, 1, out, n, err);
}

enum xmp_err xmp_proxy_check(const char *url, int *has_password,
                             struct xmp_error *err)
{
    struct net_proxy p;
    enum xmp_err rc;

    if (has_password)
        *has_password = 0;
    rc = net_proxy_parse(url, &p, err);
    explicit_bzero(&p, sizeof p);
    if (rc == XMP_OK && has_password) {
        /* a ':' in the user information, before the authority's last
         * '@' */
        const char *user = strstr(url, "://") + 3, *at = NULL, *q;

        for (q = user; *q && !strchr("/?#", *q); q++)
            if (*q == '@')
                at = q;
        *has_password = at && memchr(user, ':', (size_t)(at - user));
    }
    return rc;
}

enum xmp_err xmp_pins_check(const char *pins, struct xmp_error *err)
{
    return tls_pins_check(pins, err);
}

int xmp_tls_has_13(void)
{
    return tls_has_13();
}

const char *xmp_tls_library(void)
{
    return tls_library();
}

int xmp_tls_can_probe(int v)
{
    return tls_can_probe(v);
}

size_t xmp_tls_probe_suites(int v, int *ids, size_t max)
{
    return tls_probe_suites(v, ids, max);
}

const char *xmp_tls_suite_name(int id)
{
    return tls_suite_name(id);
}

void xmp_session_free(struct xmp_session *s)
{
    if (!s)
        return;
    if (s->in_callback) {
        /* Freeing the session under the code that called us would
         * leave it running on freed memory: refuse, visibly. */
        session_fail(s, XMP_EUSAGE,
                     "xmp_session_free called from a session callback");
        return;
    }
    stream_free(&s->st);
    net_connector_free(s->conn);
    negotiate_free(s);
    sasl2_free(s);
    handlers_free(s);
    iq_free_all(s);
    xmp_jid_clear(&s->jid);
    free(s->bare);
    free(s->cfg.resource);
    free(s->cfg.server);
    free(s->cfg.cafile);
    free(s->cfg.mech_opt);
    free(s->cfg.pin);
    free(s->cfg.client_cert);
    free(s->cfg.client_key);
    free(s->cfg.local);
    if (s->cfg.proxy)
        explicit_bzero(s->cfg.proxy, strlen(s->cfg.proxy));
    free(s->cfg.proxy);
    free(s->cfg.user_agent);
    free(s->cfg.software);
    free(s->cfg.probe_from);
    sm_free(s);
    hints_clear(&s->hints.given);
    if (s->hints.out.data)
        explicit_bzero(s->hints.out.data, s->hints.out.len);
    buf_free(&s->hints.out);
    free(s);
}

static enum xmp_err open_stream(struct xmp_session *s)
{
    static const struct xml_reader_cb cb = {session_on_stream_start,
                                            session_on_element,
                                            session_on_stream_end};

    if (stream_init(&s->st, &cb, s, s->o.trace, s->o.trace_ud) != XMP_OK)
        return session_fail(s, XMP_ENOMEM, "out of memory");
    s->st.s2s = s->o.probe == XMP_PROBE_SERVER;
    return XMP_OK;
}

/* Through the proxy: names to it when it resolves them (no SRV lookup:
 * the domain on 5222, or --server), else SRV and addresses here. */
static enum xmp_err start_proxied(struct xmp_session *s)
{
    struct net_target server;
    struct net_proxy p;
    struct xmp_error e;
    enum xmp_err r;
    int byname;

    if (net_proxy_parse(s->cfg.proxy, &p, &e) != XMP_OK)
        return session_fail_with(s, &e);
    if (s->cfg.server) {
        if (net_parse_server(s->cfg.server, &server, &e) != XMP_OK) {
            explicit_bzero(&p, sizeof p);
            return session_fail_with(s, &e);
        }
        server.direct_tls = s->o.direct_tls;
        byname = net_proxy_by_name(&p, server.host);
        r = net_connector_proxy(&s->conn, &p, NULL, &server, 1, byname,
                                s->o.timeout_ms, &e);
    } else if (net_proxy_by_name(&p, s->jid.domain)) {
        memset(&server, 0, sizeof server);
        snprintf(server.host, sizeof server.host, "%s", s->jid.domain);
        server.port = NET_DEFAULT_PORT;
        server.found_by = "fallback";
        session_trace(s, XMP_TRACE_INFO,
                      "proxy: SRV lookup skipped; connecting to %s:%u "
                      "through the proxy",
                      server.host, (unsigned)server.port);
        r = net_connector_proxy(&s->conn, &p, NULL, &server, 1, 1,
                                s->o.timeout_ms, &e);
    } else {
        r = net_connector_proxy(&s->conn, &p, s->jid.domain, NULL, 0, 0,
                                s->o.timeout_ms, &e);
    }
    explicit_bzero(&p, sizeof p);
    if (r != XMP_OK)
        return session_fail_with(s, &e);
    s->state = ST_CONNECTING;
    s->wait_since = xmp_now_ms();
    return XMP_OK;
}

/* Resolve and connect, under one deadline. */
static enum xmp_err start_connecting(struct xmp_session *s)
{
    struct net_target server;
    struct xmp_error e;
    enum xmp_err r;

    if (s->cfg.local)
        return session_start_local(s);
    if (s->cfg.proxy)
        return start_proxied(s);
    /* an onion service's name must not reach DNS, nor its address be
     * connected to other than through Tor */
    if (net_is_onion(s->jid.domain) ||
        (s->cfg.server && net_parse_server(s->cfg.server, &server, &e) ==
                              XMP_OK && net_is_onion(server.host)))
        return session_fail(s, XMP_EUSAGE,
                            "%s is an onion service: it is reached only "
                            "through a proxy (--proxy socks5h://...)",
                            net_is_onion(s->jid.domain) ? s->jid.domain
                                                        : server.host);
    /* Nothing here waits for DNS: the connector resolves names on a
     * thread of its own, and its step connects.  The timeout bounds all
     * of it, from now until a connection exists. */
    if (s->cfg.server) {
        if (net_parse_server(s->cfg.server, &server, &e) != XMP_OK)
            return session_fail_with(s, &e);
        server.direct_tls = s->o.direct_tls;
        r = net_connector_new(&s->conn, &server, 1, s->o.timeout_ms, &e);
    } else {
        r = net_connector_srv(&s->conn, s->jid.domain, s->o.timeout_ms, &e);
    }
    if (r != XMP_OK)
        return session_fail_with(s, &e);
    s->state = ST_CONNECTING;
    s->wait_since = xmp_now_ms();
    return XMP_OK;
}

enum xmp_err xmp_session_start(struct xmp_session *s)
{
    if (s->state != ST_IDLE)
        return session_refuse(s, XMP_EUSAGE, "session already started");
    if (open_stream(s) != XMP_OK)
        return s->err.code;
    return start_connecting(s);
}

/* Everything the last connection negotiated goes; who we are, what we
 * sent and counted, the handlers and the requests stay. */
enum xmp_err session_reconnect(struct xmp_session *s)
{
    stream_free(&s->st);
    net_connector_free(s->conn);
    s->conn = NULL;
    negotiate_reset(s);
    memset(&s->target, 0, sizeof s->target);
    s->address[0] = '\0';
    xmp_error_clear(&s->err);
    if (open_stream(s) != XMP_OK)
        return s->err.code;
    return start_connecting(s);
}

enum xmp_err session_adopt(struct xmp_session *s, int fd, const char *bound)
{
    static const char header[] =
        "<stream:stream xmlns='" NS_CLIENT "' xmlns:stream='" XML_NS_STREAM
        "' from='example.test' version='1.0'>";
    struct xmp_error e;

    if (s->state != ST_IDLE || open_stream(s) != XMP_OK)
        return XMP_EUSAGE;
    if (stream_attach(&s->st, fd, "the test peer", &e) != XMP_OK ||
        negotiate_adopt(s, bound) != XMP_OK ||
        stream_adopt(&s->st, header, sizeof header - 1, &e) != XMP_OK)
        return session_fail(s, XMP_ENOMEM, "cannot adopt the socket");
    s->state = ST_READY;
    return XMP_OK;
}

enum xmp_err session_adopt_connected(struct xmp_session *s, int fd)
{
    struct xmp_error e;

    if (s->state != ST_IDLE || open_stream(s) != XMP_OK)
        return XMP_EUSAGE;
    if (stream_attach(&s->st, fd, "the test peer", &e) != XMP_OK)
        return session_fail_with(s, &e);
    snprintf(s->target.host, sizeof s->target.host, "the test peer");
    s->target.port = NET_DEFAULT_PORT;
    s->target.found_by = "--server";
    s->state = ST_CONNECTING;
    s->wait_since = xmp_now_ms();
    return session_connected(s);
}

enum xmp_phase xmp_session_phase(const struct xmp_session *s)
{
    switch (s->state) {
    case ST_IDLE:
        return XMP_PHASE_IDLE;
    case ST_CONNECTING:
    case ST_RESUME_WAIT:
        return XMP_PHASE_CONNECTING;
    case ST_READY:
        return XMP_PHASE_READY;
    case ST_CLOSING:
        return XMP_PHASE_CLOSING;
    case ST_CLOSED:
        return XMP_PHASE_CLOSED;
    case ST_FAILED:
        return XMP_PHASE_FAILED;
    default:
        return XMP_PHASE_NEGOTIATING;
    }
}

const struct xmp_error *xmp_session_error(const struct xmp_session *s)
{
    return &s->err;
}

void xmp_session_get_info(const struct xmp_session *s,
                          struct xmp_session_info *i)
{
    memset(i, 0, sizeof *i);
    i->domain = s->jid.domain;
    i->bound_jid = s->neg.bound;
    i->host = s->target.host[0] ? s->target.host : NULL;
    i->address = s->address[0] ? s->address : NULL;
    i->port = s->target.port;
    i->found_by = s->target.found_by;
    i->direct_tls = s->target.direct_tls;
    if (s->neg.tlsinfo.version[0]) {
        i->tls_version = s->neg.tlsinfo.version;
        i->tls_cipher = s->neg.tlsinfo.cipher;
        i->cert_subject = s->neg.tlsinfo.subject;
        i->cert_issuer = s->neg.tlsinfo.issuer;
        i->cert_not_after = s->neg.tlsinfo.not_after;
        i->cert_verified = s->neg.tlsinfo.verified;
        i->cert_pin = s->neg.tlsinfo.pin;
        i->cert_key = s->neg.tlsinfo.key_type;
        i->cert_key_bits = s->neg.tlsinfo.key_bits;
        i->cert_sig_alg = s->neg.tlsinfo.sig_alg;
    }
    if (s->neg.tlsinfo.version[0]) {
        i->chain = s->neg.tlsinfo.chain;
        i->chain_len = s->neg.tlsinfo.chain_len;
    }
    i->features_before_tls = s->neg.feat_plain;
    i->features_before_auth = s->neg.feat_preauth;
    i->sasl_offered_before_tls = s->neg.mechs_plain;
    i->sasl_mech = s->neg.authenticated ? s->neg.mech : NULL;
    i->sasl_cb = s->neg.authenticated ? s->neg.cb_type : NULL;
    i->sasl_ssdp = s->neg.authenticated && s->neg.ssdp_checked;
    i->features = s->st.features;
    i->sasl_offered = s->neg.sasl_offered;
    i->sm = s->sm.state != SM_OFF;
    i->sm_resumable = s->sm.id != NULL;
    i->resumed = s->sm.resumed;
    i->tls_resumed = s->neg.tlsinfo.resumed;
    i->hints_features = s->neg.hints_features;
    i->sasl2 = s->neg.authenticated && s->a2.active;
    i->bind2 = s->a2.bound;
    i->fast_mech = s->a2.used;
    i->fast_new = s->a2.new_mech;
    i->fast_expiry = s->a2.new_expiry;
    i->fast_refused = s->a2.refused;
    i->pipelined = s->a2.early ? (unsigned)(s->out.sent_seq - s->a2.early_seq)
                               : s->a2.pipelined;
    i->early_unconfirmed = s->a2.early_unconfirmed;
    i->cert_verify_msg = s->neg.tlsinfo.verify_msg;
    i->starttls_required = s->neg.tls_required;
    i->probed = s->neg.probed;
}

const void *xmp_session_hints(struct xmp_session *s, int keep, size_t *len)
{
    const char *anchors = tls_trust_id(s->o.trust);
    struct hints h;
    int64_t expires;
    int rc;

    *len = 0;
    if (s->hints.out.data)
        explicit_bzero(s->hints.out.data, s->hints.out.len);
    buf_free(&s->hints.out);
    /* a TLS 1.3 resumption sends no certificate: its end of validity is
     * the one the ticket's session was verified with */
    expires = s->neg.tlsinfo.chain_len
                  ? s->neg.tlsinfo.chain[0].not_after_epoch
              : s->neg.tlsinfo.resumed ? s->hints.given.expires
                                       : 0;
    /* only what a verified server said, over TLS, with anchors we can
     * name again */
    if (!s->neg.authenticated || !stream_is_tls(&s->st) ||
        !s->neg.tlsinfo.verified || s->o.insecure || !s->neg.tlsinfo.pin[0] ||
        !anchors || expires <= 0)
        return NULL;
    memset(&h, 0, sizeof h);
    h.domain = s->jid.domain;
    h.trust = s->cfg.cafile ? s->cfg.cafile : "-";
    h.anchors = (char *)anchors;
    h.context = s->hints.context;
    h.pin = s->neg.tlsinfo.pin;
    h.saved = (int64_t)time(NULL);
    h.expires = expires;
    h.mechs = s->neg.sasl_offered;
    h.cb = s->neg.cb_offered;
    if (s->a2.offered) {
        h.sasl2 = s->a2.mechs;
        h.fast = s->a2.fast_mechs;
        h.bind2 = s->a2.bind2;
        h.sasl2_sm = s->a2.sm_inline;
    }
    /* TLS 1.2 session state holds the master secret, which decrypts the
     * recorded traffic of that session and of every one resumed from
     * it: it stays in memory.  A TLS 1.3 ticket does not (RFC 8446
     * §2.2: resumption with psk_dhe_ke, the only mode offered). */
    if (keep == XMP_HINTS_MEMORY ||
        (keep == XMP_HINTS_TICKET &&
         strcmp(s->neg.tlsinfo.version, "TLSv1.3") == 0))
        stream_tls_session(&s->st, &h.tls, &h.tls_len);
    if (keep == XMP_HINTS_TICKET && !h.tls)
        return NULL;
    /* A session resumed later skips the binding a man in the middle
     * would fail (see choose_cb): only one whose login had it counts. */
    h.tls_bound = s->neg.cb_type != NULL ||
                  (s->neg.mech && strcmp(s->neg.mech, "EXTERNAL") == 0) ||
                  (s->neg.tlsinfo.resumed && s->hints.given.tls_bound);
    rc = hints_encode(&h, &s->hints.out);
    if (h.tls) {
        explicit_bzero(h.tls, h.tls_len);
        free(h.tls);
    }
    if (rc != 0) {
        if (s->hints.out.data)
            explicit_bzero(s->hints.out.data, s->hints.out.len);
        buf_free(&s->hints.out);
        return NULL;
    }
    *len = s->hints.out.len;
    return s->hints.out.data;
}

int xmp_hints_current(const void *blob, size_t len)
{
    struct hints h;

    if (hints_decode(blob, len, &h) != 0)
        return 0;
    hints_clear(&h);
    return 1;
}


int xmp_session_writable(const struct xmp_session *s)
{
    return (s->state == ST_READY || s->a2.early) &&
           stream_queued(&s->st) < XMP_SESSION_WRITABLE &&
           s->sm.kept_bytes < SM_KEPT_MAX;
}

size_t xmp_session_queued(const struct xmp_session *s)
{
    return stream_queued(&s->st);
}

enum xmp_err xmp_session_close(struct xmp_session *s)
{
    struct xmp_error e;

    switch (s->state) {
    case ST_CLOSING:
    case ST_CLOSED:
    case ST_FAILED:
        return XMP_OK;
    case ST_IDLE:
    case ST_CONNECTING:
    case ST_TLS_HANDSHAKE:
    case ST_RESUME_WAIT:
        stream_shutdown(&s->st);
        net_connector_free(s->conn);
        s->conn = NULL;
        s->state = ST_CLOSED;
        return XMP_OK;
    default:
        break;
    }
    /* A peer that has stopped reading would not see our goodbye, and we
     * have stopped reading it: waiting for its close is pointless. */
    if (stream_queued(&s->st) > STREAM_OUT_HIGH) {
        session_trace(s, XMP_TRACE_INFO, "%s is not reading; closing without "
                      "waiting", s->jid.domain);
        stream_shutdown(&s->st);
        s->state = ST_CLOSED;
        /* No step will see this session again: requests learn now. */
        iq_fail_all(s);
        return XMP_OK;
    }
    /* RFC 6121 §4.5.1: say goodbye to contacts if we said hello; over a
     * holder's link the presence is the holder's and outlives us. */
    if (s->state == ST_READY && s->out.sent_presence && !s->cfg.local &&
        session_send_counted(s, "<presence type='unavailable'/>", NULL) !=
            XMP_OK)
        return s->err.code;
    if (stream_close(&s->st, &e) != XMP_OK)
        return session_fail_with(s, &e);
    s->state = ST_CLOSING;
    s->close_started = xmp_now_ms();
    return XMP_OK;
}
