/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_sasl.c - the SASL glue (lib/sasl.c) fed arbitrary <challenge/>
 * and <success/> data, with a fixed password.
 *
 * A GNU SASL server session with the same password plays the honest
 * server, so that the fuzzer can follow a real exchange as far as it
 * likes and then deviate: each step sends the honest server's message,
 * that message with some bytes overwritten, bytes of the input
 * (base64-encoded here), or bytes of the input as they are (not base64).
 *
 * Input: a byte choosing the mechanism (PLAIN, SCRAM-SHA-1,
 * SCRAM-SHA-256), then steps [op][len][len bytes]:
 *   op bit 0:    <success/> (else <challenge/>), which ends the exchange;
 *   op bits 1-2: 0 the honest message, 1 the honest message with the
 *                bytes written over it from offset bytes[0], 2 the bytes
 *                base64-encoded, 3 the bytes as text.
 *
 * Properties: SCRAM success is accepted only when the client has seen
 * the honest server's final message, which proves the server knows the
 * password (RFC 5802 §5.1); an honest exchange succeeds; and no answer
 * of the client holds the password in the clear, except PLAIN's
 * initial response.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include <gsasl.h>

#include "fuzz.h"
#include "sasl.h"

#define PASSWORD "fuzz-Pa55word"
#define AUTHID "alice"
/* Low, so an exchange costs little; the client does not insist on
 * RFC 5802's 4096 (the server chooses). */
#define SERVER_ITER "16"
#define STEPS_MAX 16
/* A challenge after the mechanism has finished is a protocol error
 * (PLAIN would answer with the credentials again), and a server-first
 * message naming more SCRAM iterations than sasl.c allows is refused
 * before the key derivation, which would hold the step for hours. */
#define COSTLY_ITERATIONS ((unsigned long)SASL_SCRAM_ITER_MAX)

static enum xmp_err password(void *ud, char *buf, size_t len,
                             struct xmp_error *err)
{
    (void)ud; (void)err;
    snprintf(buf, len, "%s", PASSWORD);
    return XMP_OK;
}

static int server_cb(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
    (void)ctx;
    switch (prop) {
    case GSASL_PASSWORD:
        return gsasl_property_set(sess, prop, PASSWORD);
    case GSASL_SCRAM_ITER:
        return gsasl_property_set(sess, prop, SERVER_ITER);
    case GSASL_SCRAM_SALT:
        return gsasl_property_set(sess, prop, "c2FsdHNhbHQ=");
    case GSASL_VALIDATE_SIMPLE: {
        const char *pw = gsasl_property_fast(sess, GSASL_PASSWORD);

        return pw && strcmp(pw, PASSWORD) == 0 ? GSASL_OK
                                               : GSASL_AUTHENTICATION_ERROR;
    }
    default:
        return GSASL_NO_CALLBACK;
    }
}

/* The decoded text of a base64 answer holds the password? */
static int leaks(const char *b64)
{
    char *plain = NULL;
    size_t len = 0;
    int found;

    if (strcmp(b64, "=") == 0)
        return 0;
    if (gsasl_base64_from(b64, strlen(b64), &plain, &len) != GSASL_OK)
        return 0;
    found = memmem(plain, len, PASSWORD, strlen(PASSWORD)) != NULL;
    free(plain);
    return found;
}

/* A SCRAM message naming more than COSTLY_ITERATIONS iterations? */
static int costly(const char *b64text)
{
    char *plain = NULL, *i;
    size_t len = 0;
    unsigned long n = 0;
    int found = 0;

    if (gsasl_base64_from(b64text, strlen(b64text), &plain, &len) !=
            GSASL_OK ||
        !plain)
        return 0;
    for (i = plain; i + 2 <= plain + len; i++) {
        if (i[0] != 'i' || i[1] != '=' || (i > plain && i[-1] != ','))
            continue;
        for (i += 2, n = 0; i < plain + len && *i >= '0' && *i <= '9'; i++)
            if ((n = n * 10 + (unsigned long)(*i - '0')) > COSTLY_ITERATIONS)
                found = 1;
        break;
    }
    free(plain);
    return found;
}

static char *b64(const char *p, size_t len)
{
    char *out = NULL;
    size_t olen;

    if (len == 0)
        return strdup("=");
    if (gsasl_base64_to(p, len, &out, &olen) != GSASL_OK)
        return NULL;
    return out;
}

/* The message a step sends, as <challenge/> or <success/> text. */
static char *message(int how, const char *honest, const unsigned char *d,
                     size_t n)
{
    char *plain = NULL, *out;
    size_t len = 0, off;

    switch (how) {
    case 0:
        return strdup(honest ? honest : "=");
    case 1:
        if (honest && strcmp(honest, "=") != 0 &&
            gsasl_base64_from(honest, strlen(honest), &plain, &len) !=
                GSASL_OK)
            abort();
        if (n == 0 || len == 0) {
            free(plain);
            return strdup(honest ? honest : "=");
        }
        off = d[0] % len;
        d++;
        n--;
        if (n > len - off)
            n = len - off;
        memcpy(plain + off, d, n);
        out = b64(plain, len);
        free(plain);
        return out;
    case 2:
        return b64((const char *)d, n);
    default:
        if (!(out = malloc(n + 1)))
            return NULL;
        memcpy(out, d, n);
        out[n] = '\0'; /* text nodes hold no NUL */
        return out;
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static const char *const mechs[] = {"PLAIN", "SCRAM-SHA-1",
                                        "SCRAM-SHA-256"};
    struct sasl *s = NULL;
    struct xmp_error err;
    Gsasl *sctx = NULL;
    Gsasl_session *ss = NULL;
    char *initial = NULL, *honest = NULL, *text = NULL, *reply = NULL;
    const char *mech;
    /* the honest server's last message, as the client saw it or not */
    char *final = NULL;
    int server_done = 0, saw_final = 0, all_honest = 1, steps = 0, rc;
    int echoed = 0; /* the server sent the password itself */
    size_t off = 1;

    if (size < 1)
        return 0;
    mech = mechs[data[0] % 3];
    if (sasl_start(&s, mech, AUTHID, password, NULL, NULL, NULL, 0, &initial,
                   &err) != XMP_OK) {
        fprintf(stderr, "cannot start %s: %s\n", mech, err.msg);
        abort();
    }
    if (strcmp(mech, "PLAIN") != 0 && leaks(initial))
        abort();
    if (gsasl_init(&sctx) != GSASL_OK)
        goto out;
    gsasl_callback_set(sctx, server_cb);
    if (gsasl_server_start(sctx, mech, &ss) != GSASL_OK)
        goto out;
    rc = gsasl_step64(ss, strcmp(initial, "=") ? initial : "", &honest);
    if (rc == GSASL_OK) {
        server_done = 1;
        final = strdup(honest ? honest : "");
    } else if (rc != GSASL_NEEDS_MORE) {
        fprintf(stderr, "the honest server refused %s: %s\n", mech,
                gsasl_strerror(rc));
        abort();
    }

    while (off + 2 <= size && steps++ < STEPS_MAX) {
        int op = data[off], success = op & 1, how = (op >> 1) & 3;
        size_t n = data[off + 1];

        off += 2;
        if (n > size - off)
            n = size - off;
        free(text);
        if (!(text = message(how, honest, data + off, n)))
            goto out;
        off += n;
        if (how != 0 && !(honest && strcmp(text, honest) == 0))
            all_honest = 0;
        if (server_done && final &&
            strcmp(text, *final ? final : "=") == 0)
            saw_final = 1;

        if (success) {
            rc = sasl_success(s, text, &err);
            if (rc == XMP_OK && strcmp(mech, "PLAIN") != 0 && !saw_final) {
                fprintf(stderr, "%s success accepted without the server's "
                        "proof\n", mech);
                abort();
            }
            if (rc != XMP_OK && all_honest && server_done) {
                fprintf(stderr, "an honest %s exchange failed: %s\n", mech,
                        err.msg);
                abort();
            }
            goto out;
        }
        rc = sasl_challenge(s, text, &reply, &err);
        if (rc == XMP_OK && strncmp(mech, "SCRAM-", 6) == 0 && costly(text)) {
            fprintf(stderr, "%s took a costly iteration count\n", mech);
            abort();
        }
        if (rc != XMP_OK)
            goto out; /* the session fails here */
        /* SCRAM echoes the server's nonce: only a password the server
         * never sent is ours */
        if (leaks(text) || memmem(text, strlen(text), PASSWORD,
                                  strlen(PASSWORD)))
            echoed = 1;
        if (!echoed && leaks(reply)) {
            fprintf(stderr, "%s answered a challenge with the password\n",
                    mech);
            abort();
        }
        /* the honest server hears the answer to its own message only */
        free(honest);
        honest = NULL;
        if (!server_done && all_honest) {
            rc = gsasl_step64(ss, strcmp(reply, "=") ? reply : "", &honest);
            if (rc == GSASL_OK) {
                server_done = 1;
                free(final);
                final = strdup(honest ? honest : "");
            } else if (rc != GSASL_NEEDS_MORE) {
                fprintf(stderr, "the honest server refused the client's "
                        "answer: %s\n", gsasl_strerror(rc));
                abort();
            }
        }
        explicit_bzero(reply, strlen(reply));
        free(reply);
        reply = NULL;
    }
out:
    free(reply);
    free(text);
    free(honest);
    free(final);
    free(initial);
    if (ss)
        gsasl_finish(ss);
    if (sctx)
        gsasl_done(sctx);
    sasl_free(s);
    return 0;
}
