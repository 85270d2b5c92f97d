/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_sasl.c - mechanism choice, and full exchanges against an
 * in-process GNU SASL server: success, a wrong password, a server that
 * cannot prove it knows the password, and a premature <success/>. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include <gsasl.h>

#include "sasl.h"
#include "ssdp.h"
#include "tap.h"

static const char *server_password = "pencil";
/* the server's tls-unique, base64 ("client finished" / "other finished") */
static const char *server_cb_b64 = "Y2xpZW50IGZpbmlzaGVk";
static const unsigned char client_cb[] = "client finished";
static const unsigned char other_cb[] = "other finished";

static int server_cb(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
    (void)ctx;

    if (prop == GSASL_PASSWORD)
        return gsasl_property_set(sess, prop, server_password);
    if (prop == GSASL_VALIDATE_SIMPLE) {
        const char *p = gsasl_property_fast(sess, GSASL_PASSWORD);
        return p && strcmp(p, server_password) == 0 ? GSASL_OK
                                                    : GSASL_AUTHENTICATION_ERROR;
    }
    if (prop == GSASL_CB_TLS_UNIQUE)
        return gsasl_property_set(sess, prop, server_cb_b64);
    return GSASL_NO_CALLBACK;
}

static enum xmp_err give_password(void *ud, char *buf, size_t len,
                                  struct xmp_error *err)
{
    (void)err;

    snprintf(buf, len, "%s", (const char *)ud);
    return XMP_OK;
}

static enum xmp_err no_password(void *ud, char *buf, size_t len,
                                struct xmp_error *err)
{
    (void)buf; (void)len; (void)ud;

    return xmp_error_set(err, XMP_EIO, "password command failed");
}

/* Run one exchange; tamper: 0 none, 1 replace the server's final message,
 * 2 claim success right after the first challenge, 3 send the final
 * message in a <challenge/> and an empty <success/> (RFC 6120 §6.3.10),
 * 4 the same but with data in <success/> as well, 5 the final message in
 * a <challenge/>, then another <challenge/>.  cb: channel-binding data
 * for a -PLUS mechanism, or NULL. */
static enum xmp_err exchange_cb(const char *mech, const char *client_pw,
                                int tamper, const unsigned char *cb,
                                struct xmp_error *err)
{
    Gsasl *srv = NULL;
    Gsasl_session *ss = NULL;
    struct sasl *c = NULL;
    char *to_srv = NULL, *to_cli = NULL;
    enum xmp_err r;
    int rc;

    gsasl_init(&srv);
    gsasl_callback_set(srv, server_cb);
    gsasl_server_start(srv, mech, &ss);
    r = sasl_start(&c, mech, "juliet", give_password, (void *)client_pw,
                   cb ? "tls-unique" : NULL, cb,
                   cb ? strlen((const char *)cb) : 0, &to_srv, err);
    while (r == XMP_OK) {
        free(to_cli);
        to_cli = NULL;
        rc = gsasl_step64(ss, strcmp(to_srv, "=") ? to_srv : "", &to_cli);
        if (rc == GSASL_OK) {
            if (tamper == 1) {
                r = sasl_success(c, "dj1BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBPQ==",
                                 err);
            } else if (tamper == 5) {
                free(to_srv);
                to_srv = NULL;
                r = sasl_challenge(c, to_cli, &to_srv, err);
                free(to_srv);
                to_srv = NULL;
                if (r == XMP_OK)
                    r = sasl_challenge(c, to_cli, &to_srv, err);
                ok(to_srv == NULL, "no reply to a challenge after the end");
            } else if (tamper == 3 || tamper == 4) {
                free(to_srv);
                to_srv = NULL;
                r = sasl_challenge(c, to_cli, &to_srv, err);
                if (r == XMP_OK)
                    r = sasl_success(c, tamper == 3 ? "=" : to_cli, err);
            } else
                r = sasl_success(c, to_cli ? to_cli : "", err);
            break;
        }
        if (rc != GSASL_NEEDS_MORE) {
            r = xmp_error_set(err, XMP_EAUTH, "server said: %s",
                              gsasl_strerror(rc));
            break;
        }
        if (tamper == 2) {
            r = sasl_success(c, "", err);
            break;
        }
        free(to_srv);
        to_srv = NULL;
        r = sasl_challenge(c, to_cli, &to_srv, err);
    }
    free(to_srv);
    free(to_cli);
    sasl_free(c);
    gsasl_finish(ss);
    gsasl_done(srv);
    return r;
}

static enum xmp_err exchange(const char *mech, const char *client_pw,
                             int tamper, struct xmp_error *err)
{
    return exchange_cb(mech, client_pw, tamper, NULL, err);
}

/* XEP-0474: GNU SASL takes a server-first-message with an "h"
 * attribute, and ssdp_check judges it. */
static void ssdp_tests(void)
{
    static const char *mechs = "SCRAM-SHA-1-PLUS SCRAM-SHA-1";
    static const char *cbs = "tls-server-end-point tls-exporter";
    struct xmp_error err;
    struct sasl *c = NULL;
    char hash[64], first[256], *init = NULL, *dec = NULL, *b64 = NULL;
    char *reply = NULL, *nonce;
    size_t len;
    int checked;

    /* the example of XEP-0474 §4.3 */
    ok(ssdp_hash("SCRAM-SHA-1-PLUS", mechs, cbs, hash, sizeof hash) == 0,
       "SSDP hash computed");
    is_str(hash, "G6k/rBLDqgOhRRaCuuatSDFkJ08=",
           "... as in XEP-0474's example (sorted, 0x1E and 0x1F)");
    is_int(sasl_start(&c, "SCRAM-SHA-1", "juliet", give_password,
                      (void *)"pencil", NULL, NULL, 0, &init, &err),
           XMP_OK, "SCRAM-SHA-1 started");
    gsasl_base64_from(init, strlen(init), &dec, &len);
    nonce = dec ? memmem(dec, len, "r=", 2) : NULL;
    snprintf(first, sizeof first, "%.*s0000,s=QSXCR+Q6sek8bf92,i=4096,h=%s",
             nonce ? (int)(len - (size_t)(nonce - dec)) : 2,
             nonce ? nonce : "r=", hash);
    gsasl_base64_to(first, strlen(first), &b64, NULL);
    is_int(ssdp_check("SCRAM-SHA-1", b64, mechs, cbs, &checked, &err),
           XMP_OK, "a matching hash passes");
    is_int(checked, 1, "... and counts as checked");
    is_int(ssdp_check("SCRAM-SHA-1", b64, "SCRAM-SHA-1", cbs, &checked,
                      &err),
           XMP_EAUTH, "a hash over another offer fails: %s", err.msg);
    is_int(ssdp_check("SCRAM-SHA-1", b64, mechs, NULL, &checked, &err),
           XMP_EAUTH, "... as does one over a channel-binding list we "
                      "did not see");
    is_int(ssdp_check("SCRAM-SHA-1", init, mechs, NULL, &checked, &err),
           XMP_OK, "no h attribute: nothing to check");
    is_int(checked, 0, "... and nothing counted");
    is_int(sasl_challenge(c, b64, &reply, &err), XMP_OK,
           "GNU SASL answers a server-first-message with h");
    free(reply);
    free(b64);
    free(dec);
    free(init);
    sasl_free(c);
}

int main(void)
{
    static const char *prosody[] = {"PLAIN", "SCRAM-SHA-1",
                                    "SCRAM-SHA-1-PLUS"};
    static const char *all[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-1",
                                "DIGEST-MD5"};
    static const char *plain_only[] = {"PLAIN"};
    static const char *weak[] = {"DIGEST-MD5", "CRAM-MD5"};
    struct xmp_error err;
    struct sasl *c;
    char *init;

    is_str(sasl_choose(prosody, 3, SASL_TLS_VERIFIED, 0,
                       NULL, &err), "SCRAM-SHA-1",
           "SCRAM-SHA-1 beats PLAIN (Prosody's offer)");
    is_str(sasl_choose(all, 4, SASL_TLS_VERIFIED, 0,
                       NULL, &err), "SCRAM-SHA-256",
           "SCRAM-SHA-256 beats SCRAM-SHA-1 and PLAIN");
    is_str(sasl_choose(plain_only, 1, SASL_TLS_VERIFIED, 0,
                       NULL, &err), "PLAIN",
           "PLAIN when it is all there is, inside TLS");
    ok(sasl_choose(plain_only, 1, SASL_TLS_NONE, 0,
                       NULL, &err) == NULL,
       "never PLAIN without TLS");
    is_int(err.code, XMP_EAUTH, "... as an authentication error");
    ok(sasl_choose(weak, 2, SASL_TLS_VERIFIED, 0,
                       NULL, &err) == NULL,
       "no acceptable mechanism among DIGEST-MD5 CRAM-MD5");
    ok(strstr(err.msg, "DIGEST-MD5 CRAM-MD5") != NULL,
       "the message lists what was offered: %s", err.msg);
    is_str(sasl_choose(all, 4, SASL_TLS_VERIFIED, 0,
                       "plain", &err), "PLAIN",
           "--mech forces PLAIN (case-insensitive)");
    ok(sasl_choose(prosody, 3, SASL_TLS_VERIFIED, 0,
                       "SCRAM-SHA-256", &err) == NULL &&
           err.code == XMP_EAUTH,
       "a forced mechanism the server does not offer fails");
    ok(sasl_choose(all, 4, SASL_TLS_VERIFIED, 0,
                       "DIGEST-MD5", &err) == NULL &&
           err.code == XMP_EUSAGE,
       "a forced mechanism we do not support is a usage error");
    ok(sasl_choose(NULL, 0, SASL_TLS_VERIFIED, 0,
                       NULL, &err) == NULL,
       "no mechanisms offered at all");
    is_str(sasl_choose(prosody, 3, SASL_TLS_VERIFIED, 1, NULL, &err),
           "SCRAM-SHA-1-PLUS", "-PLUS first when channel binding is there");
    is_str(sasl_choose(prosody, 3, SASL_TLS_VERIFIED, 0, NULL, &err),
           "SCRAM-SHA-1", "... and never without it");
    ok(sasl_choose(prosody, 3, SASL_TLS_VERIFIED, 0, "SCRAM-SHA-1-PLUS",
                   &err) == NULL && err.code == XMP_EAUTH,
       "a forced -PLUS without channel binding fails: %s", err.msg);
    ok(sasl_choose(plain_only, 1, SASL_TLS_ENCRYPTED, 0, NULL, &err) ==
           NULL && strstr(err.msg, "--mech PLAIN"),
       "no PLAIN over unverified TLS by itself: %s", err.msg);
    is_str(sasl_choose(plain_only, 1, SASL_TLS_ENCRYPTED, 0, "PLAIN", &err),
           "PLAIN", "... only when forced");
    is_int(exchange_cb("SCRAM-SHA-1-PLUS", "pencil", 0, client_cb, &err),
           XMP_OK, "SCRAM-SHA-1-PLUS with the server's tls-unique succeeds");
    ok(exchange_cb("SCRAM-SHA-1-PLUS", "pencil", 0, other_cb, &err) !=
           XMP_OK, "... and fails with other binding data");
    is_int(exchange_cb("SCRAM-SHA-1", "pencil", 0, client_cb, &err), XMP_OK,
           "binding data never reaches a non-PLUS mechanism");

    ssdp_tests();
    is_int(exchange("SCRAM-SHA-1", "pencil", 0, &err), XMP_OK,
           "SCRAM-SHA-1 exchange succeeds");
    is_int(exchange("SCRAM-SHA-256", "pencil", 0, &err), XMP_OK,
           "SCRAM-SHA-256 exchange succeeds");
    is_int(exchange("PLAIN", "pencil", 0, &err), XMP_OK,
           "PLAIN exchange succeeds");
    is_int(exchange("SCRAM-SHA-1", "wrong", 0, &err), XMP_EAUTH,
           "a wrong password fails");
    is_int(exchange("SCRAM-SHA-1", "pencil", 1, &err), XMP_EAUTH,
           "a server signature that does not verify is refused");
    ok(strstr(err.msg, "prove") != NULL, "... saying so: %s", err.msg);
    is_int(exchange("SCRAM-SHA-256", "pencil", 2, &err), XMP_EAUTH,
           "<success/> before SCRAM finished is refused");
    is_int(exchange("SCRAM-SHA-1", "pencil", 3, &err), XMP_OK,
           "the server's proof in a <challenge/>, then an empty <success/>");
    is_int(exchange("SCRAM-SHA-1", "pencil", 4, &err), XMP_EAUTH,
           "data in <success/> after the exchange finished is refused");

    is_int(exchange("SCRAM-SHA-1", "pencil", 5, &err), XMP_EPROTO,
           "a challenge after SCRAM finished is a protocol error");

    /* PLAIN is finished after its initial response: a challenge then is
     * never handed to GNU SASL, which would send the password again. */
    init = NULL;
    c = NULL;
    is_int(sasl_start(&c, "PLAIN", "juliet", give_password, (void *)"pencil",
                      NULL, NULL, 0, &init, &err),
           XMP_OK, "PLAIN starts");
    {
        char *again = NULL;

        is_int(sasl_challenge(c, "=", &again, &err), XMP_EPROTO,
               "a challenge after PLAIN's initial response is refused");
        ok(again == NULL, "... and nothing is sent back");
        ok(strstr(err.msg, "challenge after PLAIN") != NULL, "... saying so: %s",
           err.msg);
        free(again);
    }
    sasl_free(c);
    free(init);

    /* A server-first message naming billions of SCRAM iterations is
     * refused before GNU SASL derives the key, which no timeout would
     * interrupt. */
    init = NULL;
    c = NULL;
    is_int(sasl_start(&c, "SCRAM-SHA-1", "juliet", give_password,
                      (void *)"pencil", NULL, NULL, 0, &init, &err),
           XMP_OK, "SCRAM-SHA-1 starts");
    {
        char *reply = NULL, *first = NULL, *nonce, *end;
        size_t len = 0;
        char msg[256], *b64 = NULL;

        char text[256] = "";

        gsasl_base64_from(init, strlen(init), &first, &len);
        if (first && len < sizeof text)
            memcpy(text, first, len); /* not NUL-terminated */
        nonce = strstr(text, "r=");
        end = nonce ? strchr(nonce, ',') : NULL;
        snprintf(msg, sizeof msg, "%.*sserver,s=QUFBQQ==,i=4000000000",
                 nonce ? (int)(end ? end - nonce : (long)strlen(nonce)) : 2,
                 nonce ? nonce : "r=");
        gsasl_base64_to(msg, strlen(msg), &b64, NULL);
        is_int(sasl_challenge(c, b64, &reply, &err), XMP_EPROTO,
               "4000000000 SCRAM iterations are refused");
        ok(reply == NULL, "... and nothing is sent back");
        ok(strstr(err.msg, "iterations") != NULL, "... saying so: %s",
           err.msg);
        free(reply);
        free(b64);
        free(first);
    }
    sasl_free(c);
    free(init);

    /* The password source failing is reported as its own error. */
    init = NULL;
    c = NULL;
    is_int(sasl_start(&c, "PLAIN", "juliet", no_password, NULL, NULL,
                      NULL, 0, &init, &err),
           XMP_EIO, "a failing password source keeps its error category");
    is_str(err.msg, "password command failed", "... and its message");
    sasl_free(c);
    free(init);
    return tap_done();
}
