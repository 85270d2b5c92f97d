/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sasl.c - mechanism choice and the GNU SASL glue. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsasl.h>

#include "sasl.h"

/* Strongest first: channel binding (RFC 5802 -PLUS) beats any hash,
 * since it also proves no one sits between us and the server. */
static const struct {
    const char *name;
    int needs_tls;
    int plus; /* needs channel-binding data */
} sasl_ranking[] = {
    {"SCRAM-SHA-256-PLUS", 0, 1},
    {"SCRAM-SHA-1-PLUS", 0, 1},
    {"SCRAM-SHA-256", 0, 0},
    {"SCRAM-SHA-1", 0, 0},
    {"PLAIN", 1, 0}, /* the password in the clear: only inside TLS */
};

#define SASL_NMECHS (sizeof sasl_ranking / sizeof sasl_ranking[0])

const char *xmp_sasl_mech(size_t i)
{
    return i < SASL_NMECHS ? sasl_ranking[i].name : NULL;
}

struct sasl {
    Gsasl *ctx;
    Gsasl_session *sess;
    const char *mech;
    char *authid;
    xmp_password_fn pw;
    void *pw_ud;
    struct xmp_error pw_err; /* why the password source failed */
    int pw_failed;
    const char *cb_type; /* "tls-unique", "tls-exporter" or NULL */
    char *cb_b64;        /* its data, base64 */
    int finished; /* the mechanism has checked everything it needs */
};

static int offered_has(const char *const *offered, size_t n, const char *m)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(offered[i], m) == 0)
            return 1;
    return 0;
}

static void join_offered(char *buf, size_t len, const char *const *offered,
                         size_t n)
{
    size_t i, used = 0;

    buf[0] = '\0';
    for (i = 0; i < n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? " " : "",
                         offered[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

const char *sasl_choose(const char *const *offered, size_t n, int tls,
                        int cb, const char *forced, struct xmp_error *err)
{
    char list[256];
    size_t i;

    join_offered(list, sizeof list, offered, n);
    if (forced) {
        for (i = 0; i < SASL_NMECHS; i++)
            if (strcasecmp(forced, sasl_ranking[i].name) == 0)
                break;
        if (i == SASL_NMECHS) {
            xmp_error_set(err, XMP_EUSAGE,
                          "unsupported SASL mechanism '%s' (supported: "
                          "SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS "
                          "SCRAM-SHA-256 SCRAM-SHA-1 PLAIN)",
                          forced);
            return NULL;
        }
        if (!offered_has(offered, n, sasl_ranking[i].name)) {
            xmp_error_set(err, XMP_EAUTH,
                          "server does not offer SASL mechanism %s "
                          "(offered: %s)",
                          sasl_ranking[i].name, n ? list : "none");
            return NULL;
        }
        if (sasl_ranking[i].needs_tls && tls < SASL_TLS_ENCRYPTED) {
            xmp_error_set(err, XMP_EAUTH,
                          "refusing %s without TLS", sasl_ranking[i].name);
            return NULL;
        }
        if (sasl_ranking[i].plus && !cb) {
            xmp_error_set(err, XMP_EAUTH,
                          "cannot use %s: this TLS connection offers no "
                          "safe channel binding",
                          sasl_ranking[i].name);
            return NULL;
        }
        return sasl_ranking[i].name;
    }
    for (i = 0; i < SASL_NMECHS; i++) {
        /* the password in the clear only to a server we verified */
        if (sasl_ranking[i].needs_tls && tls < SASL_TLS_VERIFIED)
            continue;
        if (sasl_ranking[i].plus && !cb)
            continue;
        if (offered_has(offered, n, sasl_ranking[i].name))
            return sasl_ranking[i].name;
    }
    if (tls == SASL_TLS_ENCRYPTED && offered_has(offered, n, "PLAIN"))
        xmp_error_set(err, XMP_EAUTH,
                      "no acceptable SASL mechanism (offered: %s); PLAIN "
                      "over TLS that is not verified (--insecure) only with "
                      "--mech PLAIN",
                      list);
    else
        xmp_error_set(err, XMP_EAUTH,
                      "no acceptable SASL mechanism (offered: %s)",
                      n ? list : "none");
    return NULL;
}

int sasl_mech_is_plus(const char *mech)
{
    size_t len = mech ? strlen(mech) : 0;

    return len > 5 && strcmp(mech + len - 5, "-PLUS") == 0;
}

static int sasl_cb(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
    struct sasl *s = gsasl_session_hook_get(sess);
    char pw[SASL_PASSWORD_MAX + 1];
    int rc;

    (void)ctx;

    if (!s)
        return GSASL_NO_CALLBACK;
    switch (prop) {
    case GSASL_AUTHID:
        return gsasl_property_set(sess, prop, s->authid);
    case GSASL_AUTHZID:
        /* EXTERNAL takes only an authzid (XEP-0178 §3): sasl_start's
         * authid, none when it is "" (the certificate's own identity) */
        if (strcmp(s->mech, "EXTERNAL") == 0 && *s->authid)
            return gsasl_property_set(sess, prop, s->authid);
        return GSASL_NO_CALLBACK;
    case GSASL_PASSWORD:
        if (!s->pw) {
            s->pw_failed = 1;
            xmp_error_set(&s->pw_err, XMP_EUSAGE, "no password source");
            return GSASL_NO_PASSWORD;
        }
        pw[0] = '\0';
        if (s->pw(s->pw_ud, pw, sizeof pw, &s->pw_err) != XMP_OK) {
            s->pw_failed = 1;
            explicit_bzero(pw, sizeof pw);
            return GSASL_NO_PASSWORD;
        }
        rc = gsasl_property_set(sess, prop, pw);
        explicit_bzero(pw, sizeof pw);
        return rc;
    case GSASL_CB_TLS_UNIQUE:
    case GSASL_CB_TLS_EXPORTER:
        /* GNU SASL 2.2.0 breaks non-PLUS SCRAM when channel-binding data
         * is available (it sets gs2 flag 'y' with a cbname), and it takes
         * the exporter whenever it exists: hand over exactly the one type
         * chosen, and only to a -PLUS mechanism. */
        if (!s->cb_type || !s->cb_b64 || !sasl_mech_is_plus(s->mech) ||
            strcmp(s->cb_type, prop == GSASL_CB_TLS_UNIQUE
                                   ? "tls-unique"
                                   : "tls-exporter") != 0)
            return GSASL_NO_CALLBACK;
        return gsasl_property_set(sess, prop, s->cb_b64);
    default:
        /* No authzid (RFC 6120 §6.3.8): the server derives it. */
        return GSASL_NO_CALLBACK;
    }
}

/* Wipe, then free, a string GNU SASL handed us. */
static void wipe_free(char *p, size_t n)
{
    if (p) {
        explicit_bzero(p, n);
        free(p);
    }
}

/* gsasl_finish frees its copies of the password without wiping them:
 * wipe the ones the API lets us reach first.  What the mechanisms keep
 * in their own state (SCRAM's keys, SASLprep's copy) is out of reach;
 * the manual says so. */
static void wipe_properties(Gsasl_session *sess)
{
    static const Gsasl_property secret[] = {
        GSASL_PASSWORD, GSASL_SCRAM_SALTED_PASSWORD,
        GSASL_SCRAM_SERVERKEY, GSASL_SCRAM_STOREDKEY,
    };
    size_t i;

    for (i = 0; i < sizeof secret / sizeof secret[0]; i++) {
        char *v = (char *)gsasl_property_fast(sess, secret[i]);

        if (v)
            explicit_bzero(v, strlen(v));
    }
}

void sasl_free(struct sasl *s)
{
    if (!s)
        return;
    if (s->sess) {
        wipe_properties(s->sess);
        gsasl_finish(s->sess);
    }
    if (s->ctx)
        gsasl_done(s->ctx);
    free(s->authid);
    free(s->cb_b64);
    free(s);
}

/* RFC 6120 §6.4.2: an empty payload travels as "=". */
static const char *from_xmpp_b64(const char *in)
{
    return (!in || strcmp(in, "=") == 0) ? "" : in;
}

/* gsasl_step64, but every buffer that may hold the password (PLAIN's
 * message, SCRAM's proof) is wiped before it is freed. */
static int step64(Gsasl_session *sess, const char *in, char **out)
{
    char *raw_in = NULL, *raw_out = NULL;
    size_t in_len = 0, out_len = 0;
    int rc;

    *out = NULL;
    if (*in && (rc = gsasl_base64_from(in, strlen(in), &raw_in, &in_len)) !=
                   GSASL_OK)
        return rc;
    rc = gsasl_step(sess, raw_in, in_len, &raw_out, &out_len);
    wipe_free(raw_in, in_len);
    if ((rc == GSASL_OK || rc == GSASL_NEEDS_MORE) && raw_out) {
        int r2 = gsasl_base64_to(raw_out, out_len, out, NULL);

        if (r2 != GSASL_OK)
            rc = r2;
    }
    wipe_free(raw_out, out_len);
    return rc;
}

static enum xmp_err step(struct sasl *s, const char *in, char **out,
                         int *done, struct xmp_error *err)
{
    char *o = NULL;
    int rc;

    rc = step64(s->sess, from_xmpp_b64(in), &o);
    if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
        wipe_free(o, o ? strlen(o) : 0);
        if (s->pw_failed)
            return xmp_error_set(err, s->pw_err.code, "%s", s->pw_err.msg);
        if (rc == GSASL_BASE64_ERROR)
            return xmp_error_set(err, XMP_EPROTO,
                                 "server sent invalid base64 in SASL %s",
                                 s->mech);
        return xmp_error_set(err, XMP_EAUTH, "SASL %s failed: %s", s->mech,
                             gsasl_strerror(rc));
    }
    *done = rc == GSASL_OK;
    if (*done)
        s->finished = 1;
    if (out) {
        if (!o || !*o) {
            free(o);
            o = strdup("=");
        }
        if (!o)
            return xmp_error_set(err, XMP_ENOMEM, "out of memory");
        *out = o;
    } else {
        wipe_free(o, o ? strlen(o) : 0);
    }
    return XMP_OK;
}

enum xmp_err sasl_start(struct sasl **out, const char *mech,
                        const char *authid, xmp_password_fn pw, void *pw_ud,
                        const char *cb_type, const unsigned char *cb,
                        size_t cb_len, char **initial, struct xmp_error *err)
{
    struct sasl *s;
    int rc, done;
    enum xmp_err r;

    *out = NULL;
    *initial = NULL;
    if (!(s = calloc(1, sizeof *s)) || !(s->authid = strdup(authid))) {
        free(s);
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    }
    s->mech = mech;
    s->pw = pw;
    s->pw_ud = pw_ud;
    if (cb_type && sasl_mech_is_plus(mech)) {
        s->cb_type = cb_type;
        if (gsasl_base64_to((const char *)cb, cb_len, &s->cb_b64, NULL) !=
            GSASL_OK) {
            r = xmp_error_set(err, XMP_ENOMEM, "out of memory");
            goto fail;
        }
    }
    if ((rc = gsasl_init(&s->ctx)) != GSASL_OK) {
        r = xmp_error_set(err, XMP_EAUTH, "cannot start GNU SASL: %s",
                          gsasl_strerror(rc));
        goto fail;
    }
    gsasl_callback_set(s->ctx, sasl_cb);
    if ((rc = gsasl_client_start(s->ctx, mech, &s->sess)) != GSASL_OK) {
        r = xmp_error_set(err, XMP_EAUTH, "cannot start SASL %s: %s", mech,
                          gsasl_strerror(rc));
        goto fail;
    }
    gsasl_session_hook_set(s->sess, s);
    if ((r = step(s, NULL, initial, &done, err)) != XMP_OK)
        goto fail;
    *out = s;
    return XMP_OK;
fail:
    sasl_free(s);
    return r;
}

/* The iteration count of a SCRAM server-first-message (RFC 5802 §5.1
 * "i="), 0 when there is none; counts past SASL_SCRAM_ITER_MAX come back
 * as SASL_SCRAM_ITER_MAX + 1. */
static unsigned long scram_iterations(const char *b64)
{
    char *raw = NULL;
    size_t len = 0, k;
    unsigned long n = 0;

    if (!*b64 || gsasl_base64_from(b64, strlen(b64), &raw, &len) !=
                     GSASL_OK || !raw)
        return 0;
    for (k = 0; k + 2 <= len; k++) {
        if (raw[k] != 'i' || raw[k + 1] != '=' || (k && raw[k - 1] != ','))
            continue;
        for (k += 2; k < len && raw[k] >= '0' && raw[k] <= '9'; k++)
            if ((n = n * 10 + (unsigned long)(raw[k] - '0')) >
                SASL_SCRAM_ITER_MAX) {
                n = SASL_SCRAM_ITER_MAX + 1;
                break;
            }
        break;
    }
    free(raw);
    return n;
}

enum xmp_err sasl_challenge(struct sasl *s, const char *in, char **reply,
                            struct xmp_error *err)
{
    int done;

    *reply = NULL;
    /* Once the mechanism has finished (PLAIN after its initial
     * response, SCRAM after checking the server's proof) there is
     * nothing left to answer: asking again would only make GNU SASL send
     * the credentials again. */
    if (s->finished)
        return xmp_error_set(err, XMP_EPROTO,
                             "server sent a SASL challenge after %s had "
                             "finished",
                             s->mech);
    /* The key derivation runs inside this step, where no timeout and no
     * signal reaches it: a server naming billions of iterations would
     * hold us for hours. */
    if (strncmp(s->mech, "SCRAM-", 6) == 0 &&
        scram_iterations(from_xmpp_b64(in)) > SASL_SCRAM_ITER_MAX)
        return xmp_error_set(err, XMP_EPROTO,
                             "server asks for more than %d SCRAM "
                             "iterations",
                             SASL_SCRAM_ITER_MAX);
    return step(s, in, reply, &done, err);
}

enum xmp_err sasl_success(struct sasl *s, const char *in,
                          struct xmp_error *err)
{
    struct xmp_error why;
    int done = 0;

    /* PLAIN is finished after its initial response; SCRAM needs the
     * server's final message ("v=...") checked here. */
    if (strcmp(s->mech, "PLAIN") == 0)
        return XMP_OK;
    /* RFC 6120 §6.3.10: the server may have sent its final SCRAM message
     * in a <challenge/>; then <success/> carries nothing more. */
    if (s->finished) {
        if (*from_xmpp_b64(in))
            return xmp_error_set(err, XMP_EAUTH,
                                 "server sent SASL %s data after the "
                                 "exchange was complete",
                                 s->mech);
        return XMP_OK;
    }
    if (step(s, in, NULL, &done, &why) != XMP_OK)
        return xmp_error_set(err, XMP_EAUTH,
                             "server claimed SASL success but failed to "
                             "prove it knows the password (%s)",
                             why.msg);
    if (!done)
        return xmp_error_set(err, XMP_EAUTH,
                             "server claimed SASL success before %s "
                             "finished",
                             s->mech);
    return XMP_OK;
}
