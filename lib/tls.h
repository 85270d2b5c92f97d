/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tls.h - TLS over a connected non-blocking socket.  The rest of the
 * library never names the backend (tls_mbedtls.c).
 *
 * Policy, not options: TLS 1.2 or newer (or 1.3 only, when asked and the
 * backend has it), ECDHE + AEAD suites only, no
 * renegotiation, the chain verified against the system bundle or a CA
 * file, and the identity checked against the XMPP domain (RFC 6125,
 * RFC 7590), never against the host we happened to connect to.  The only
 * way around verification is the explicit insecure flag.
 */
#ifndef XMP_TLS_H
#define XMP_TLS_H

#include <stddef.h>

#include "xmp.h"

#define TLS_SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* What a call needs before it can make progress. */
enum tls_want { TLS_WANT_NOTHING = 0, TLS_WANT_READ = 1, TLS_WANT_WRITE = 2 };

struct tls_params {
    const char *domain; /* SNI and reference identity: the XMPP domain
                           (or, for an upload, the URL's host); required */
    const char *cafile; /* NULL: TLS_SYSTEM_CA_BUNDLE; unused with trust */
    struct xmp_trust *trust; /* anchors loaded once (xmp_trust_new), or
                                NULL to load cafile for this handshake */
    int insecure;       /* do not fail on verification errors */
    int alpn_xmpp;      /* offer ALPN "xmpp-client" (XEP-0368 direct TLS) */
    int min_tls13;      /* refuse TLS 1.2: TLS 1.3 or nothing (XMP_EUSAGE
                           from tls_new when !tls_has_13()) */
    /* "sha256//BASE64[;sha256//BASE64...]" (curl's --pinnedpubkey): the
     * server's key must be one of these, checked as the handshake ends
     * and in addition to the chain (NULL: no pin) */
    const char *pins;
    const char *client_cert; /* PEM files presented to the server, or NULL */
    const char *client_key;
    /* a session of tls_session_save to resume (RFC 5077 ticket or session
     * id, RFC 8446 §4.6.1 ticket), or NULL; one the server refuses costs
     * a full handshake */
    const unsigned char *session;
    size_t session_len;
    /* the pin ("sha256//...") of the key that session's certificate was
     * verified with: a TLS 1.3 resumption sends no certificate, and
     * tls_info.pin is then this one (chain_len 0) */
    const char *session_pin;
    /* 10, 11, 12 or 13: hold the handshake to that one TLS version
     * (tls_probe_version), for a probe that reports what a server
     * accepts; 0: the policy above */
    int probe_version;
    /* an IANA cipher suite id: offer that suite alone
     * (tls_probe_suite); 0: the policy's */
    int probe_suite;
};

/* Non-zero when the backend speaks TLS 1.3. */
int tls_has_13(void);
/* The backend and its version, "mbedTLS 3.6.6" (static). */
const char *tls_library(void);

/* "sha256//" and the base64 of a SHA-256 digest, and a NUL */
#define TLS_PIN_MAX 53

struct tls_info {
    char version[16];      /* "TLSv1.2", "TLSv1.3" */
    char cipher[80];       /* IANA-style name from the backend */
    char subject[256];     /* certificate subject, one line */
    char issuer[256];
    char not_after[32];    /* "YYYY-MM-DD HH:MM:SS UTC" */
    int verified;          /* 1 when the chain and name checked out */
    int ems;               /* extended master secret in use (RFC 7627),
                              or TLS 1.3, whose key schedule binds the
                              handshake as it does */
    int resumed;           /* an abbreviated handshake resumed a session */
    char verify_msg[256];  /* why not, when verified == 0 */
    char pin[TLS_PIN_MAX]; /* "sha256//BASE64" of the server's key (SPKI) */
    char key_type[16];     /* "RSA", "EC" */
    unsigned key_bits;
    char sig_alg[32];      /* of the server's certificate, "RSA-SHA256" */
    int client_cert;       /* we presented a certificate */
    /* the XMPP addresses (id-on-xmppAddr, RFC 6120 §13.7.1.4) our own
     * certificate claims, space-separated, "" if none */
    char client_jids[256];
    struct xmp_cert_info chain[XMP_CHAIN_MAX]; /* the server's, leaf first */
    size_t chain_len;
};

struct tls;

/* Set up TLS on fd (not owned; the caller closes it).  Loads the trust
 * anchors; fails with XMP_ETLS if they cannot be loaded or domain is
 * missing. */
enum xmp_err tls_new(struct tls **out, int fd, const struct tls_params *p,
                     struct xmp_error *err);
void tls_free(struct tls *t);

/* Drive the handshake: XMP_OK when done, XMP_AGAIN (see tls_want), or
 * XMP_ETLS with a message naming the reason, e.g. "cannot verify
 * certificate for example.org: the certificate's name does not match
 * (certificate names: other.example)". */
enum xmp_err tls_handshake(struct tls *t, struct xmp_error *err);
/* Non-zero when the server's first byte was '<': plain XML, not TLS. */
int tls_got_xml(const struct tls *t);
/* After XMP_AGAIN from any call: what to poll for. */
enum tls_want tls_want(const struct tls *t);

/* Read up to len bytes: XMP_OK with *n > 0, XMP_OK with *n == 0 on a clean
 * close (close_notify or EOF), XMP_AGAIN, or XMP_EUNREACH/XMP_ETLS. */
enum xmp_err tls_read(struct tls *t, void *buf, size_t len, size_t *n,
                      struct xmp_error *err);
/* Write up to len bytes: XMP_OK with *n > 0 bytes taken, XMP_AGAIN (call
 * again later with the same bytes), or an error. */
enum xmp_err tls_write(struct tls *t, const void *buf, size_t len, size_t *n,
                       struct xmp_error *err);
/* Non-zero when decrypted bytes wait inside the backend (poll won't see). */
int tls_pending(const struct tls *t);
/* Send close_notify (best effort, never blocks). */
void tls_close_notify(struct tls *t);
/* Check that pins is a valid pin list: XMP_OK or XMP_EUSAGE naming the
 * bad entry. */
enum xmp_err tls_pins_check(const char *pins, struct xmp_error *err);
/* Facts about the finished handshake. */
void tls_get_info(const struct tls *t, struct tls_info *info);

/* The finished handshake's session, for tls_params.session: XMP_OK with
 * *out (caller frees; it holds the master secret) or XMP_ETLS when there
 * is nothing worth keeping (not verified, no extended master secret). */
enum xmp_err tls_session_save(const struct tls *t, unsigned char **out,
                              size_t *len);

/* Longest channel-binding value we produce (tls-server-end-point of a
 * certificate signed with SHA-512). */
#define TLS_CB_MAX 64
/* Channel-binding data of the finished handshake for type "tls-unique"
 * (RFC 5929 §3; TLS 1.2 only), "tls-exporter" (RFC 9266) or
 * "tls-server-end-point" (RFC 5929 §4.1) into out (TLS_CB_MAX bytes):
 * XMP_OK with *len set, or XMP_ETLS.  The first two fail, always, when
 * the extended master secret (RFC 7627) was not negotiated; the last
 * hashes the server's certificate and needs none, but fails after a
 * TLS 1.3 resumption, which sends no certificate. */
enum xmp_err tls_channel_binding(const struct tls *t, const char *type,
                                 unsigned char *out, size_t *len,
                                 struct xmp_error *err);

/* What the anchors of trust (xmp_trust_new) are, as a hex string that
 * changes whenever any of them does; NULL for none. */
const char *tls_trust_id(const struct xmp_trust *trust);

/* Largest digest tls_digest writes. */
#define TLS_DIGEST_MAX 64
/* The backend's SHA-256 (sha256 non-zero) or SHA-1 of len bytes at in,
 * into out: its length, 0 on failure. */
size_t tls_digest(int sha256, const void *in, size_t len, unsigned char *out);
/* HMAC-SHA-256 (RFC 2104) of mlen bytes at msg under the klen-byte key,
 * into out: 32, or 0 on failure. */
size_t tls_hmac_sha256(const void *key, size_t klen, const void *msg,
                       size_t mlen, unsigned char out[32]);

/* ---- primitives for message-layer encryption (lib/omemo.c) ------------ */

/* A random generator seeded from the system's entropy (CTR-DRBG). */
struct tls_rng;
/* NULL when it cannot be seeded or on ENOMEM. */
struct tls_rng *tls_rng_new(void);
void tls_rng_free(struct tls_rng *r);
/* Fill buf with len random bytes: 0, or -1 on failure. */
int tls_rng_bytes(struct tls_rng *r, void *buf, size_t len);

/* An incremental digest: SHA-512, or HMAC-SHA-256 under a key. */
enum tls_md_kind { TLS_MD_SHA512, TLS_MD_HMAC_SHA256 };
struct tls_md;
/* key is ignored for TLS_MD_SHA512.  NULL on failure. */
struct tls_md *tls_md_new(enum tls_md_kind kind, const void *key,
                          size_t klen);
/* 0, or -1 on failure. */
int tls_md_update(struct tls_md *m, const void *in, size_t len);
/* The digest into out (64 or 32 bytes): its length, 0 on failure.  The
 * context starts again (same key), ready for new input. */
size_t tls_md_final(struct tls_md *m, unsigned char *out);
void tls_md_free(struct tls_md *m);

/* AES-CBC with PKCS#7 padding, key of 16, 24 or 32 bytes, 16-byte iv.
 * out has room for len + 16 bytes; *outlen is set.  0, or -1 on failure
 * (a bad key length, bad padding on decryption). */
int tls_aes_cbc(int encrypt, const unsigned char *key, size_t klen,
                const unsigned char iv[16], const void *in, size_t len,
                unsigned char *out, size_t *outlen);
/* AES-CTR (encryption and decryption alike): len bytes into out. */
int tls_aes_ctr(const unsigned char *key, size_t klen,
                const unsigned char iv[16], const void *in, size_t len,
                unsigned char *out);
/* AES-GCM without additional data: len bytes into out and the 16-byte
 * tag; open checks the tag first and fails (-1) when it differs. */
int tls_aes_gcm_seal(const unsigned char *key, size_t klen,
                     const unsigned char *iv, size_t ivlen, const void *in,
                     size_t len, unsigned char *out, unsigned char tag[16]);
int tls_aes_gcm_open(const unsigned char *key, size_t klen,
                     const unsigned char *iv, size_t ivlen, const void *in,
                     size_t len, const unsigned char tag[16],
                     unsigned char *out);
/* HKDF-SHA-256 (RFC 5869): outlen bytes of keying material.  0 or -1. */
int tls_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm,
                    size_t ikmlen, const void *info, size_t infolen,
                    unsigned char *out, size_t outlen);

/* Non-zero when this build can offer TLS version v (10 for TLS 1.0 ...
 * 13 for TLS 1.3) to a server, for tls_probe_version. */
int tls_can_probe(int v);
/* Offer the one TLS version v and nothing else (tls_new, for
 * tls_params.probe_version, before the context is set up), to learn
 * whether the server accepts it (a report on a server; such a handshake
 * carries nothing).  Every version gets all the backend's suites, not
 * the policy's ECDHE + AEAD ones: the question is the version (the
 * suites are tls_probe_suite's).  XMP_EUSAGE when !tls_can_probe(v). */
enum xmp_err tls_probe_version(struct tls *t, int v, struct xmp_error *err);
/* The IANA ids of the cipher suites this build can offer alone with
 * TLS version v (10 ... 13), in the backend's order of preference, at
 * most max of them; how many. */
size_t tls_probe_suites(int v, int *ids, size_t max);
/* The backend's name of suite id ("TLS-RSA-WITH-AES-128-CBC-SHA"), or
 * NULL when it does not know it. */
const char *tls_suite_name(int id);
/* After tls_probe_version (tls_new, for tls_params.probe_suite): offer
 * the one cipher suite id and nothing else, to learn whether the server
 * accepts it.  XMP_EUSAGE when the backend does not know id. */
enum xmp_err tls_probe_suite(struct tls *t, int id, struct xmp_error *err);

#endif
