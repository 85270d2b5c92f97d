/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/*
 * tls_mbedtls.c - the TLS layer (tls.h) on mbedTLS 2.28 or 3.6.
 *
 * Every struct tls owns its whole mbedTLS state (entropy, DRBG, CA chain,
 * config, context): no globals, so sessions never share anything (3.6's
 * PSA crypto core is the one exception: initialised once per process).
 * The socket is non-blocking; the BIO below turns EAGAIN into WANT_READ
 * or WANT_WRITE and the caller polls.  Only the public API of either
 * version is used: what it does not tell (extended master secret,
 * resumption, alerts, tls-unique on 3.6) comes from the plaintext
 * handshake records seen at the BIO.
 */
#include "tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/cipher.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

/* The 2.28 API, or 3.6's (private fields, new calls, TLS 1.3). */
#if MBEDTLS_VERSION_NUMBER < 0x021C0000 ||                                  \
    (MBEDTLS_VERSION_NUMBER >= 0x03000000 &&                                \
     MBEDTLS_VERSION_NUMBER < 0x03060000) ||                                \
    MBEDTLS_VERSION_NUMBER >= 0x03070000
#error "mbedTLS 2.28 or 3.6 is required"
#endif
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
#include <psa/crypto.h>
#define TLS_SHA256 mbedtls_sha256
#define TLS_ERR_VERSION MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION
#else
#define TLS_SHA256 mbedtls_sha256_ret
#define TLS_ERR_VERSION MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION
#endif
/* TLS 1.3: 3.6 built with it (Debian's is) */
#if MBEDTLS_VERSION_NUMBER >= 0x03060000 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
#define TLS_HAS_13 1
#else
#define TLS_HAS_13 0
#endif

#define DRBG_PERSONALISATION "xmpctl tls"
#define ERRTEXT_MAX 160
#define ERRCODE_TEXT_MAX 16  /* " (-0x" + 8 hex digits + ")" */
#define NAMES_MAX 160        /* certificate names quoted in a message */
#define DN_MAX 256
#define TIME_TEXT_MAX 32
#define VERIFY_TEXT_MAX 384
#define VERSION_TEXT_MAX 24  /* "TLS 1.1", "version 0xXXXX" */
#define ALERT_OFFSET_DESC 1  /* RFC 5246 §7.2: level, then description */
#define REC_HEADER 5         /* RFC 5246 §6.2.1: type, version, length */
#define REC_CCS 20           /* ChangeCipherSpec */
#define REC_ALERT 21
#define REC_HANDSHAKE 22
#define HS_CLIENT_HELLO 1
#define HS_SERVER_HELLO 2
#define EXT_EMS 0x0017            /* RFC 7627 */
#define EXT_PRE_SHARED_KEY 0x0029 /* RFC 8446 §4.2.11 */
#define EXT_SUPPORTED_VERSIONS 0x002b
#define VERSION_TLS12 0x0303      /* RFC 5246 §6.2.1, RFC 8446 §4.2.1 */
#define VERSION_TLS13 0x0304
#define TRANSCRIPT_MAX 65536 /* handshake bytes kept for tls-unique */
#define FINISHED_LEN 12      /* RFC 5246 §7.4.9 */
#define PIN_PREFIX "sha256//"
#define PIN_B64_LEN 44        /* base64 of 32 bytes, with its padding */
/* RFC 6120 §13.7.1.4: id-on-xmppAddr, 1.3.6.1.5.5.7.8.5 */
#define OID_XMPP_ADDR "\x2b\x06\x01\x05\x05\x07\x08\x05"

/* Only ECDHE (forward secrecy) with AEAD ciphers, strongest first
 * (RFC 7525 §4.2); everything else in the default list is refused. */
static const int tls_suites[] = {
#if TLS_HAS_13
    /* TLS 1.3 (RFC 8446 §9.1): without them no 1.3 handshake */
    MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
    MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
#endif
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    0
};

#if MBEDTLS_VERSION_NUMBER >= 0x03060000
/* Signature algorithms (RFC 8446 §4.2.3), PKCS#1 v1.5 before RSA-PSS:
 * 3.6 offers RSA-PSS for TLS 1.3 but refuses it in a TLS 1.2
 * ServerKeyExchange, and a TLS 1.2 server that follows our order then
 * signs with what we can check.  TLS 1.3 never uses PKCS#1 v1.5 there. */
static const uint16_t tls_sig_algs[] = {
    MBEDTLS_TLS1_3_SIG_ECDSA_SECP256R1_SHA256,
    MBEDTLS_TLS1_3_SIG_ECDSA_SECP384R1_SHA384,
    MBEDTLS_TLS1_3_SIG_ECDSA_SECP521R1_SHA512,
    MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA256,
    MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA384,
    MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA512,
    MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA256,
    MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA384,
    MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA512,
    MBEDTLS_TLS1_3_SIG_NONE
};
#endif

/* TLS records of one direction, followed at the BIO during the
 * handshake */
struct rec_scan {
    unsigned char hdr[REC_HEADER];
    size_t hdr_len;
    size_t left;           /* bytes of the current record still to come */
    size_t seen;           /* of its body so far */
};

/* XEP-0368 §3: the ALPN protocol name for direct TLS client streams */
static const char *tls_alpn[] = { "xmpp-client", NULL };

/* What the verify callback saw, for a precise message. */
struct tls_seen {
    uint32_t leaf_flags;
    uint32_t ca_flags;
    char leaf_names[NAMES_MAX];
    char leaf_valid_from[TIME_TEXT_MAX];
    char leaf_valid_to[TIME_TEXT_MAX];
    char top_issuer[DN_MAX]; /* issuer of the last certificate sent */
    int top_depth;
    char ca_bad_subject[DN_MAX]; /* first CA certificate out of date */
    char ca_bad_from[TIME_TEXT_MAX];
    char ca_bad_to[TIME_TEXT_MAX];
};

/* Channel binding (RFC 5929, RFC 9266): what the key-export callback saw
 * of the latest handshake, and the values made of it. */
struct tls_cb {
    int have_keys;
    unsigned char master[48];
    unsigned char randoms[64]; /* client random, then server random */
    mbedtls_tls_prf_types prf;
    unsigned char unique[FINISHED_LEN]; /* tls-unique, rebuilt (3.6) */
    size_t unique_len;
    unsigned char exporter[32]; /* tls-exporter of TLS 1.3 */
    int have_exporter;
};

/* Resumption: what a later connection may offer, and what this one was
 * offered. */
struct tls_resume {
    unsigned char *ticket; /* TLS 1.3: the latest ticket's session */
    size_t ticket_len;
    char session_pin[TLS_PIN_MAX]; /* the key of the session offered */
};

struct tls {
    int fd;
    int sys_errno;         /* errno of the last failed send or recv */
    char *domain;
    enum tls_want want;
    int done;              /* handshake finished */
    int closed;            /* the peer closed the stream */
    int failed;            /* the context is dead; fail holds why */
    struct xmp_error fail;
    int verified;
    char verify_msg[sizeof ((struct tls_info *)0)->verify_msg];
    char *pins;            /* what the key must match, or NULL */
    char pin[TLS_PIN_MAX]; /* the server key's own */
    int have_own;          /* own/own_key are in use */
    char own_jids[sizeof ((struct tls_info *)0)->client_jids];

    struct tls_seen seen;  /* what the verify callback saw */

    struct tls_cb cb;      /* channel binding */

    /* the plaintext handshake messages, both directions in order, until
     * the first ChangeCipherSpec of TLS 1.2 (neither version has a getter
     * for EMS or resumption; 3.6 none for the Finished either) */
    struct rec_scan scan_in, scan_out;
    unsigned char *hs;
    size_t hs_len, hs_cap;
    int hs_stop;           /* the rest is encrypted, or too long */
    int hs_overflow;
    int tls13;             /* a ServerHello chose TLS 1.3 */
    int alert;             /* a plaintext alert's description, or -1 */
    int first_in;          /* the first byte the server sent, or -1 */
    int min13;             /* TLS 1.3 or nothing */
    /* the version the server answered in: its ServerHello's, or that of
     * the record of an alert older than TLS 1.2; 0: not known */
    unsigned server_version;
    int ems;               /* extended master secret (RFC 7627), or 1.3 */
    int resumed;
    struct tls_resume resume;

    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;    /* our own anchors, without a shared trust */
    mbedtls_x509_crt *chain; /* the anchors in use: ca or the trust's */
    mbedtls_x509_crt own;   /* our certificate, for the server */
    mbedtls_pk_context own_key;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    int probe_suite[2];     /* tls_probe_suite's one suite, then 0 */
};

/* ---- text helpers -------------------------------------------------------- */

static void lower_first(char *s)
{
    if (s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'a' && s[1] <= 'z')
        s[0] = (char)(s[0] - 'A' + 'a');
}

/* mbedtls_strerror without its module prefix ("SSL - "), lower case,
 * with the code for searching. */
static const char *tls_strerror(int ret, char *buf, size_t len)
{
    char tmp[ERRTEXT_MAX - ERRCODE_TEXT_MAX];
    const char *p;

    mbedtls_strerror(ret, tmp, sizeof tmp);
    p = strstr(tmp, " - ");
    p = p ? p + 3 : tmp;
    snprintf(buf, len, "%s (-0x%04x)", p, 0u - (unsigned)ret);
    lower_first(buf);
    return buf;
}

static const char *errno_text(int e, char *buf, size_t len)
{
    char tmp[ERRTEXT_MAX];

    /* GNU strerror_r: returns the text, maybe not in tmp */
    snprintf(buf, len, "%s", strerror_r(e, tmp, sizeof tmp));
    lower_first(buf);
    return buf;
}

/* RFC 5246 §7.2, RFC 7301 §3.2: names of the alerts a server may send */
static const char *alert_name(unsigned char d)
{
    switch (d) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    }
    return "unknown alert";
}

/* Why an mbedTLS call failed, in words a person can act on. */
static const char *describe(const struct tls *t, int ret, char *buf,
                            size_t len)
{
    switch (ret) {
    case MBEDTLS_ERR_NET_SEND_FAILED:
    case MBEDTLS_ERR_NET_RECV_FAILED:
        return errno_text(t->sys_errno, buf, len);
    case MBEDTLS_ERR_SSL_CONN_EOF:
        snprintf(buf, len, "the server closed the connection");
        return buf;
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
        /* the alert as seen at the BIO: only a plaintext one (before
         * encryption started) can be named */
        if (t->alert >= 0) {
            unsigned char d = (unsigned char)t->alert;

            snprintf(buf, len, "the server sent a fatal alert: %s (%u)",
                     alert_name(d), (unsigned)d);
            return buf;
        }
        break;
    default:
        break;
    }
    return tls_strerror(ret, buf, len);
}

/* "TLS 1.1" for a protocol version (RFC 8446 §5.1 and appendix D) */
static const char *version_name(unsigned v, char *buf, size_t len)
{
    if (v >= 0x0301 && v <= VERSION_TLS13)
        snprintf(buf, len, "TLS 1.%u", v - 0x0301);
    else if (v == 0x0300)
        snprintf(buf, len, "SSL 3.0");
    else
        snprintf(buf, len, "version 0x%04x", v);
    return buf;
}

/* A handshake that failed on the version: what we asked for, and why
 * we know the server has none of it (the version it answered in, its
 * alert).  NULL when the failure is another one. */
static const char *version_failure(const struct tls *t, int ret, char *buf,
                                   size_t len)
{
    char why[ERRTEXT_MAX * 2], old[VERSION_TEXT_MAX];
    unsigned want = t->min13 ? VERSION_TLS13 : VERSION_TLS12;
    int alert = ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && t->alert >= 0;
    int chose = t->server_version && t->server_version < want;

    if (!chose && ret != TLS_ERR_VERSION &&
        !(alert && t->alert == MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION))
        return NULL;
    if (chose && alert)
        snprintf(why, sizeof why, "it answered in %s with a fatal alert: "
                 "%s (%d)",
                 version_name(t->server_version, old, sizeof old),
                 alert_name((unsigned char)t->alert), t->alert);
    else if (chose)
        snprintf(why, sizeof why, "it answered in %s",
                 version_name(t->server_version, old, sizeof old));
    else if (alert)
        snprintf(why, sizeof why, "it sent a fatal alert: %s (%d)",
                 alert_name((unsigned char)t->alert), t->alert);
    else
        describe(t, ret, why, sizeof why);
    snprintf(buf, len, "the server does not offer %s: %s%s",
             t->min13 ? "TLS 1.3 (--tls-min 1.3)"
                      : TLS_HAS_13 ? "TLS 1.2 or 1.3" : "TLS 1.2",
             why,
             !TLS_HAS_13 && !chose && alert
                 ? "; it may require TLS 1.3, which this build lacks"
                 : "");
    return buf;
}

/* "YYYY-MM-DD HH:MM:SS UTC"; X.509 times are UTC (RFC 5280 §4.1.2.5) */
static void fmt_time(const mbedtls_x509_time *tm, char *buf, size_t len)
{
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm->year,
             tm->mon, tm->day, tm->hour, tm->min, tm->sec);
}

static void dn_text(const mbedtls_x509_name *dn, char *buf, size_t len)
{
    if (mbedtls_x509_dn_gets(buf, len, dn) < 0)
        snprintf(buf, len, "(name too long)");
}

/* Append a name from the certificate, printable ASCII only: it comes
 * from the peer and ends up in a one-line message. */
static void add_name(char *buf, size_t len, const unsigned char *p,
                     size_t n)
{
    size_t used = strlen(buf), i;

    if (used && used + 2 < len) {
        buf[used++] = ',';
        buf[used++] = ' ';
    }
    for (i = 0; i < n && used + 1 < len; i++)
        buf[used++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    buf[used] = '\0';
    if (i < n && len > 4)
        memcpy(buf + len - 4, "...", 4);
}

/* The names the certificate claims: dNSName SANs, or the CN when there
 * are none (RFC 6125 §6.4.4: CN only without any SAN). */
static void cert_names(const mbedtls_x509_crt *crt, char *buf, size_t len)
{
    const mbedtls_x509_sequence *san;
    const mbedtls_x509_name *dn;

    buf[0] = '\0';
    for (san = &crt->subject_alt_names; san && san->buf.p; san = san->next)
        if (san->buf.tag ==
            (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME))
            add_name(buf, len, san->buf.p, san->buf.len);
    if (buf[0])
        return;
    for (dn = &crt->subject; dn; dn = dn->next)
        if (dn->oid.p && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &dn->oid) == 0)
            add_name(buf, len, dn->val.p, dn->val.len);
    if (!buf[0])
        snprintf(buf, len, "none");
}

/* ---- the handshake at the BIO ------------------------------------------- */

static void hs_keep(struct tls *t, const unsigned char *p, size_t n)
{
    size_t cap;
    unsigned char *b;

    if (t->hs_len + n > TRANSCRIPT_MAX) {
        t->hs_overflow = 1;
        t->hs_stop = 1;
        return;
    }
    if (t->hs_len + n > t->hs_cap) {
        cap = t->hs_cap ? t->hs_cap * 2 : 4096;
        while (cap < t->hs_len + n)
            cap *= 2;
        if (!(b = realloc(t->hs, cap))) {
            t->hs_overflow = 1;
            t->hs_stop = 1;
            return;
        }
        t->hs = b;
        t->hs_cap = cap;
    }
    memcpy(t->hs + t->hs_len, p, n);
    t->hs_len += n;
}

/* Follow the records of one direction: keep the handshake ones while
 * they are plaintext, note a plaintext alert (two bytes; an encrypted
 * one is longer).  TLS 1.2 encrypts after ChangeCipherSpec; TLS 1.3
 * sends its encrypted records as application data, and a ChangeCipher-
 * Spec there is only for middleboxes (RFC 8446 §D.4). */
static void scan(struct tls *t, struct rec_scan *sc, const unsigned char *p,
                 size_t n)
{
    size_t take;

    while (n) {
        if (sc->hdr_len < REC_HEADER) {
            take = REC_HEADER - sc->hdr_len < n ? REC_HEADER - sc->hdr_len : n;
            memcpy(sc->hdr + sc->hdr_len, p, take);
            sc->hdr_len += take;
            p += take;
            n -= take;
            if (sc->hdr_len == REC_HEADER) {
                sc->left = (size_t)sc->hdr[3] << 8 | sc->hdr[4];
                sc->seen = 0;
                if (sc->hdr[0] == REC_CCS && !t->tls13)
                    t->hs_stop = 1;
                if (sc->left == 0)
                    sc->hdr_len = 0;
            }
            continue;
        }
        take = sc->left < n ? sc->left : n;
        if (sc->hdr[0] == REC_HANDSHAKE && !t->hs_stop)
            hs_keep(t, p, take);
        if (sc == &t->scan_in && sc->hdr[0] == REC_ALERT &&
            (sc->hdr[3] << 8 | sc->hdr[4]) == 2 &&
            sc->seen <= ALERT_OFFSET_DESC &&
            sc->seen + take > ALERT_OFFSET_DESC) {
            unsigned rv = (unsigned)sc->hdr[1] << 8 | sc->hdr[2];

            t->alert = p[ALERT_OFFSET_DESC - sc->seen];
            /* a server that chose SSL 3.0 to TLS 1.1 says so in its
             * records (RFC 5246 appendix E.1) */
            if (!t->server_version && rv >= 0x0300 && rv < VERSION_TLS12)
                t->server_version = rv;
        }
        sc->seen += take;
        sc->left -= take;
        p += take;
        n -= take;
        if (sc->left == 0)
            sc->hdr_len = 0;
    }
}

static unsigned get16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest */
static const unsigned char hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
    0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
    0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c
};

/* What the hellos say (RFC 5246 §7.4.1, RFC 8446 §4.1): the version,
 * the extended master secret, and resumption (TLS 1.2: the server
 * echoes the session id we offered; TLS 1.3: it accepts our PSK). */
static void read_hellos(struct tls *t)
{
    const unsigned char *p = t->hs, *end = t->hs + t->hs_len, *m, *me;
    const unsigned char *csid = NULL;
    size_t csid_len = 0, n, sid_len, ext;
    int ems = 0, psk = 0, v13 = 0, seen = 0;

    while (end - p >= 4) {
        n = (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        if ((size_t)(end - p - 4) < n)
            break;
        m = p + 4;
        me = m + n;
        p = me;
        /* version, random, then the session id */
        if (n < 2 + 32 + 1 || (size_t)(me - m) < 35u + m[34])
            continue;
        sid_len = m[34];
        if (m[-4] == HS_CLIENT_HELLO && !csid) {
            csid = m + 35;
            csid_len = sid_len;
            continue;
        }
        if (m[-4] != HS_SERVER_HELLO)
            continue;
        if (memcmp(m + 2, hrr_random, sizeof hrr_random) == 0) {
            t->tls13 = 1; /* another ServerHello follows, in plaintext */
            continue;
        }
        seen = 1;
        ems = psk = v13 = 0;
        t->server_version = get16(m);
        /* resumed by session id (ticket or cache) */
        t->resumed = sid_len && csid && csid_len == sid_len &&
                     memcmp(csid, m + 35, sid_len) == 0;
        /* suite, compression, then the extensions' length */
        if ((size_t)(me - m) < 35 + sid_len + 2 + 1 + 2)
            continue;
        m += 35 + sid_len + 2 + 1;
        ext = get16(m);
        m += 2;
        if ((size_t)(me - m) < ext)
            continue;
        while (me - m >= 4) {
            unsigned type = get16(m);
            size_t len = get16(m + 2);

            m += 4;
            if ((size_t)(me - m) < len)
                break;
            if (type == EXT_EMS)
                ems = 1;
            else if (type == EXT_PRE_SHARED_KEY)
                psk = 1;
            else if (type == EXT_SUPPORTED_VERSIONS && len == 2 &&
                     get16(m) == 0x0304)
                v13 = 1;
            m += len;
        }
    }
    if (!seen)
        return;
    t->tls13 = v13;
    if (v13)
        t->server_version = VERSION_TLS13;
    /* TLS 1.3's key schedule binds the transcript as RFC 7627 does for
     * TLS 1.2, which is all "ems" stands for here (RFC 9266 §3) */
    t->ems = v13 || ems;
    if (v13)
        t->resumed = psk;
}

/* Once a ServerHello chose TLS 1.3 nothing more is plaintext (but a
 * second ServerHello after a HelloRetryRequest). */
static void scan_hello_done(struct tls *t)
{
    if (t->hs_stop || !t->hs_len)
        return;
    read_hellos(t);
}

/* ---- BIO ----------------------------------------------------------------- */

static int bio_send(void *ctx, const unsigned char *b, size_t n)
{
    struct tls *t = ctx;
    ssize_t r;

    if (n > INT32_MAX)
        n = INT32_MAX;
    /* MSG_NOSIGNAL: a closed peer is an error to report, not a SIGPIPE */
    r = send(t->fd, b, n, MSG_NOSIGNAL);
    if (r >= 0) {
        if (!t->done)
            scan(t, &t->scan_out, b, (size_t)r);
        return (int)r;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    t->sys_errno = errno;
    return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *b, size_t n)
{
    struct tls *t = ctx;
    ssize_t r;

    if (n > INT32_MAX)
        n = INT32_MAX;
    r = recv(t->fd, b, n, 0);
    if (r >= 0) {
        if (r > 0 && t->first_in < 0)
            t->first_in = b[0];
        if (!t->done) {
            scan(t, &t->scan_in, b, (size_t)r);
            scan_hello_done(t);
        }
        return (int)r; /* 0: EOF, mbedTLS makes it CONN_EOF */
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return MBEDTLS_ERR_SSL_WANT_READ;
    t->sys_errno = errno;
    return MBEDTLS_ERR_NET_RECV_FAILED;
}

/* ---- verification -------------------------------------------------------- */

/* Called for each certificate of the chain, the root first; records what
 * a failure message needs and leaves the verdict (flags) alone. */
static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth,
                     uint32_t *flags)
{
    struct tls *t = ctx;

    if (depth == 0) {
        t->seen.leaf_flags = *flags;
        cert_names(crt, t->seen.leaf_names, sizeof t->seen.leaf_names);
        fmt_time(&crt->valid_from, t->seen.leaf_valid_from,
                 sizeof t->seen.leaf_valid_from);
        fmt_time(&crt->valid_to, t->seen.leaf_valid_to, sizeof t->seen.leaf_valid_to);
    } else {
        t->seen.ca_flags |= *flags;
        if ((*flags & (MBEDTLS_X509_BADCERT_EXPIRED |
                       MBEDTLS_X509_BADCERT_FUTURE)) &&
            !t->seen.ca_bad_subject[0]) {
            dn_text(&crt->subject, t->seen.ca_bad_subject,
                    sizeof t->seen.ca_bad_subject);
            fmt_time(&crt->valid_from, t->seen.ca_bad_from,
                     sizeof t->seen.ca_bad_from);
            fmt_time(&crt->valid_to, t->seen.ca_bad_to, sizeof t->seen.ca_bad_to);
        }
    }
    if (depth >= t->seen.top_depth) {
        t->seen.top_depth = depth;
        dn_text(&crt->issuer, t->seen.top_issuer, sizeof t->seen.top_issuer);
    }
    return 0;
}

static void append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;

    if (used + 1 >= len)
        return;
    if (used) {
        snprintf(buf + used, len - used, "; ");
        used = strlen(buf);
    }
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

/* What is wrong with the peer's certificate, e.g. "the certificate's
 * name does not match (certificate names: other.example)". */
static void verify_text(const struct tls *t, uint32_t flags, char *buf,
                        size_t len)
{
    const uint32_t handled =
        MBEDTLS_X509_BADCERT_CN_MISMATCH | MBEDTLS_X509_BADCERT_NOT_TRUSTED |
        MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE;
    char rest[VERIFY_TEXT_MAX];
    char *line, *nl;

    buf[0] = '\0';
    if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
        append(buf, len,
               "the certificate's name does not match (certificate "
               "names: %s)", t->seen.leaf_names[0] ? t->seen.leaf_names : "unknown");
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
        append(buf, len, "not signed by a trusted CA (issuer: %s)",
               t->seen.top_issuer[0] ? t->seen.top_issuer : "unknown");
    if (t->seen.leaf_flags & MBEDTLS_X509_BADCERT_EXPIRED)
        append(buf, len, "the certificate expired on %s", t->seen.leaf_valid_to);
    if (t->seen.leaf_flags & MBEDTLS_X509_BADCERT_FUTURE)
        append(buf, len, "the certificate is not valid before %s",
               t->seen.leaf_valid_from);
    if (t->seen.ca_flags & MBEDTLS_X509_BADCERT_EXPIRED)
        append(buf, len, "the CA certificate %s expired on %s",
               t->seen.ca_bad_subject, t->seen.ca_bad_to);
    if (t->seen.ca_flags & MBEDTLS_X509_BADCERT_FUTURE)
        append(buf, len, "the CA certificate %s is not valid before %s",
               t->seen.ca_bad_subject, t->seen.ca_bad_from);
    if ((flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))
        && !((t->seen.leaf_flags | t->seen.ca_flags) &
             (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE)))
        append(buf, len, "a certificate is outside its validity period");

    /* anything else in mbedTLS's words, one reason per line there */
    if (!(flags & ~handled))
        return;
    if (mbedtls_x509_crt_verify_info(rest, sizeof rest, "",
                                     flags & ~handled) < 0)
        rest[0] = '\0';
    for (line = rest; *line; line = nl) {
        nl = strchr(line, '\n');
        if (nl)
            *nl++ = '\0';
        else
            nl = line + strlen(line);
        if (*line) {
            lower_first(line);
            append(buf, len, "%s", line);
        }
    }
    if (!buf[0])
        snprintf(buf, len, "verification failed (flags 0x%x)",
                 (unsigned)flags);
}

/* ---- pins and identities ------------------------------------------------ */

/* One entry of a pin list: "sha256//" and 44 base64 characters. */
static int pin_valid(const char *p, size_t n)
{
    unsigned char raw[64];
    size_t olen;
    size_t pre = strlen(PIN_PREFIX);

    if (n != pre + PIN_B64_LEN || strncmp(p, PIN_PREFIX, pre) != 0)
        return 0;
    return mbedtls_base64_decode(raw, sizeof raw, &olen,
                                 (const unsigned char *)p + pre,
                                 PIN_B64_LEN) == 0 &&
           olen == 32;
}

enum xmp_err tls_pins_check(const char *pins, struct xmp_error *err)
{
    const char *p = pins, *end;
    size_t n;

    if (!pins || !*pins)
        return xmp_error_set(err, XMP_EUSAGE,
                             "empty pin: expected sha256//BASE64");
    for (;;) {
        end = strchr(p, ';');
        n = end ? (size_t)(end - p) : strlen(p);
        if (!pin_valid(p, n))
            return xmp_error_set(err, XMP_EUSAGE,
                                 "invalid pin '%.*s': expected sha256// and "
                                 "the base64 of a SHA-256 digest (44 "
                                 "characters)",
                                 (int)(n > 60 ? 60 : n), p);
        if (!end)
            return XMP_OK;
        p = end + 1;
    }
}

/* curl's --pinnedpubkey form: SHA-256 of the DER SubjectPublicKeyInfo. */
static void spki_pin(const mbedtls_x509_crt *crt, char *out, size_t len)
{
    unsigned char h[32], b64[PIN_B64_LEN + 1];
    size_t olen = 0;

    out[0] = '\0';
    if (TLS_SHA256(crt->pk_raw.p, crt->pk_raw.len, h, 0) != 0 ||
        mbedtls_base64_encode(b64, sizeof b64, &olen, h, sizeof h) != 0)
        return;
    snprintf(out, len, "%s%.*s", PIN_PREFIX, (int)olen, (const char *)b64);
}

static int pin_listed(const char *pins, const char *pin)
{
    size_t n = strlen(pin);
    const char *p = pins;

    while (p) {
        if (strncmp(p, pin, n) == 0 && (p[n] == ';' || p[n] == '\0'))
            return 1;
        p = strchr(p, ';');
        if (p)
            p++;
    }
    return 0;
}

/* The id-on-xmppAddr values among the certificate's otherName SANs
 * (mbedTLS keeps them raw: OID, then [0] EXPLICIT UTF8String). */
static void xmpp_addrs(const mbedtls_x509_crt *crt, char *buf, size_t len)
{
    const mbedtls_x509_sequence *san;

    buf[0] = '\0';
    for (san = &crt->subject_alt_names; san && san->buf.p; san = san->next) {
        unsigned char *p = san->buf.p, *end = p + san->buf.len;
        size_t n;

        if (san->buf.tag != (MBEDTLS_ASN1_CONTEXT_SPECIFIC |
                             MBEDTLS_ASN1_CONSTRUCTED | 0))
            continue;
        if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_OID) != 0 ||
            n != sizeof OID_XMPP_ADDR - 1 ||
            memcmp(p, OID_XMPP_ADDR, n) != 0)
            continue;
        p += n;
        if (mbedtls_asn1_get_tag(&p, end, &n,
                                 MBEDTLS_ASN1_CONTEXT_SPECIFIC |
                                     MBEDTLS_ASN1_CONSTRUCTED | 0) != 0 ||
            mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_UTF8_STRING) != 0)
            continue;
        add_name(buf, len, p, n);
    }
}

/* ---- setup --------------------------------------------------------------- */

int tls_has_13(void)
{
    return TLS_HAS_13;
}

const char *tls_library(void)
{
    return "mbedTLS " MBEDTLS_VERSION_STRING;
}

static enum xmp_err load_cas(mbedtls_x509_crt *ca, const char *path,
                             struct xmp_error *err)
{
    char etext[ERRTEXT_MAX];
    int r;

    errno = 0;
    r = mbedtls_x509_crt_parse_file(ca, path);
    if (r == MBEDTLS_ERR_PK_FILE_IO_ERROR)
        return xmp_error_set(err, XMP_ETLS,
                             "cannot load CA certificates from %s: %s", path,
                             errno ? errno_text(errno, etext, sizeof etext)
                                   : "cannot read the file");
    if (r < 0)
        return xmp_error_set(err, XMP_ETLS,
                             "cannot load CA certificates from %s: %s", path,
                             tls_strerror(r, etext, sizeof etext));
    /* r > 0 counts certificates that did not parse: only an error when
     * nothing at all was loaded */
    if (ca->version == 0)
        return xmp_error_set(err, XMP_ETLS,
                             "cannot load CA certificates from %s: no usable "
                             "certificate in the file", path);
    return XMP_OK;
}

/* Trust anchors parsed once (the system bundle takes milliseconds to
 * parse) and lent to every handshake of the process. */
struct xmp_trust {
    mbedtls_x509_crt ca;
    char id[2 * 32 + 1]; /* tls_trust_id */
};

/* SHA-256 over the DER of every anchor, in hex: a CA file replaced at
 * the same path, or the system bundle updated, gives another id. */
static void trust_digest(struct xmp_trust *tr)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    mbedtls_md_context_t ctx;
    const mbedtls_x509_crt *c;
    unsigned char h[32];
    int ok;
    size_t i;

    mbedtls_md_init(&ctx);
    ok = md && mbedtls_md_setup(&ctx, md, 0) == 0 &&
         mbedtls_md_starts(&ctx) == 0;
    for (c = &tr->ca; ok && c && c->raw.p; c = c->next)
        ok = mbedtls_md_update(&ctx, c->raw.p, c->raw.len) == 0;
    ok = ok && mbedtls_md_finish(&ctx, h) == 0;
    mbedtls_md_free(&ctx);
    tr->id[0] = '\0';
    for (i = 0; ok && i < sizeof h; i++)
        snprintf(tr->id + 2 * i, 3, "%02x", h[i]);
}

const char *tls_trust_id(const struct xmp_trust *tr)
{
    return tr && tr->id[0] ? tr->id : NULL;
}

enum xmp_err xmp_trust_new(const char *cafile, struct xmp_trust **out,
                           struct xmp_error *err)
{
    struct xmp_trust *tr;
    enum xmp_err rc;

    if (!out)
        return xmp_error_set(err, XMP_EUSAGE, "no trust handle to fill");
    *out = NULL;
    if (!(tr = calloc(1, sizeof *tr)))
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    mbedtls_x509_crt_init(&tr->ca);
    rc = load_cas(&tr->ca, cafile ? cafile : TLS_SYSTEM_CA_BUNDLE, err);
    if (rc != XMP_OK) {
        xmp_trust_free(tr);
        return rc;
    }
    trust_digest(tr);
    *out = tr;
    return XMP_OK;
}

void xmp_trust_free(struct xmp_trust *tr)
{
    if (!tr)
        return;
    mbedtls_x509_crt_free(&tr->ca);
    free(tr);
}

/* Keep what channel binding needs: the pointers are only valid during
 * the call.  TLS 1.2's master secret; a TLS 1.3 handshake only counts
 * (its exporter comes from the library). */
static void keep_keys(struct tls *t, const unsigned char *ms,
                      const unsigned char client_random[32],
                      const unsigned char server_random[32],
                      mbedtls_tls_prf_types prf)
{
    if (ms) {
        memcpy(t->cb.master, ms, sizeof t->cb.master);
        memcpy(t->cb.randoms, client_random, 32);
        memcpy(t->cb.randoms + 32, server_random, 32);
        t->cb.prf = prf;
    }
    t->cb.have_keys = 1;
}

#if MBEDTLS_VERSION_NUMBER >= 0x03060000
static void export_keys_cb(void *ctx, mbedtls_ssl_key_export_type type,
                           const unsigned char *secret, size_t secret_len,
                           const unsigned char client_random[32],
                           const unsigned char server_random[32],
                           mbedtls_tls_prf_types prf)
{
    struct tls *t = ctx;

    if (type == MBEDTLS_SSL_KEY_EXPORT_TLS12_MASTER_SECRET &&
        secret_len == sizeof t->cb.master)
        keep_keys(t, secret, client_random, server_random, prf);
    else
        keep_keys(t, NULL, NULL, NULL, prf);
}
#else
static int export_keys_cb(void *ctx, const unsigned char *ms,
                          const unsigned char *kb, size_t maclen,
                          size_t keylen, size_t ivlen,
                          const unsigned char client_random[32],
                          const unsigned char server_random[32],
                          mbedtls_tls_prf_types prf)
{
    (void)kb;
    (void)maclen;
    (void)keylen;
    (void)ivlen;
    keep_keys(ctx, ms, client_random, server_random, prf);
    return 0;
}
#endif

/* A saved session is offered only if it came from a verified handshake
 * with the extended master secret (tls_session_save keeps no other);
 * anything else (a damaged or foreign blob) just means a full
 * handshake.  3.6 keeps the verdict and the certificate private. */
static void offer_session(struct tls *t, const unsigned char *b, size_t n)
{
    mbedtls_ssl_session s;

    mbedtls_ssl_session_init(&s);
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    /* a TLS 1.2 session would make a TLS 1.2 hello: not with min13
     * (TLS 1.3 suites are 0x13XX, RFC 8446 §B.4) */
    if (mbedtls_ssl_session_load(&s, b, n) == 0 &&
        (!t->min13 ||
         mbedtls_ssl_session_get_ciphersuite_id(&s) >> 8 == 0x13))
#else
    if (mbedtls_ssl_session_load(&s, b, n) == 0 && s.verify_result == 0 &&
        s.peer_cert)
#endif
        mbedtls_ssl_set_session(&t->ssl, &s);
    mbedtls_ssl_session_free(&s);
}

/* The session as mbedtls_ssl_session_save writes it, in a new buffer. */
static int session_blob(const mbedtls_ssl_context *ssl, unsigned char **out,
                        size_t *len)
{
    mbedtls_ssl_session s;
    unsigned char *b = NULL;
    size_t n = 0;
    int r;

    *out = NULL;
    *len = 0;
    mbedtls_ssl_session_init(&s);
    r = mbedtls_ssl_get_session(ssl, &s);
    if (r == 0 &&
        mbedtls_ssl_session_save(&s, NULL, 0, &n) ==
            MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL &&
        (b = malloc(n)) && mbedtls_ssl_session_save(&s, b, n, &n) == 0) {
        *out = b;
        *len = n;
        b = NULL;
    }
    mbedtls_ssl_session_free(&s);
    free(b);
    return *out ? 0 : -1;
}

enum xmp_err tls_session_save(const struct tls *t, unsigned char **out,
                              size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!t || !t->done || !t->verified || !t->cb.have_keys || !t->ems)
        return XMP_ETLS;
    /* TLS 1.3: the session of the latest ticket (RFC 8446 §4.6.1), got
     * as it arrived; none yet means nothing to resume with */
    if (t->tls13) {
        if (!t->resume.ticket || !(*out = malloc(t->resume.ticket_len)))
            return XMP_ETLS;
        memcpy(*out, t->resume.ticket, t->resume.ticket_len);
        *len = t->resume.ticket_len;
        return XMP_OK;
    }
    return session_blob(&t->ssl, out, len) == 0 ? XMP_OK : XMP_ETLS;
}

#if MBEDTLS_VERSION_NUMBER >= 0x03060000 &&                                 \
    defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
/* A TLS 1.3 NewSessionTicket came in: keep its session now (the library
 * wants it taken before the next call), replacing an older one. */
static void took_ticket(struct tls *t)
{
    unsigned char *b;
    size_t n;

    if (session_blob(&t->ssl, &b, &n) != 0)
        return;
    if (t->resume.ticket) {
        explicit_bzero(t->resume.ticket, t->resume.ticket_len);
        free(t->resume.ticket);
    }
    t->resume.ticket = b;
    t->resume.ticket_len = n;
}
#define IS_TICKET(t, r)                                                     \
    ((r) == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET ? took_ticket(t), 1 \
                                                          : 0)
#else
#define IS_TICKET(t, r) 0
#endif

/* The client's TLS configuration (RFC 7525, RFC 7627): TLS 1.2 or newer
 * (1.3 with min_tls13), our suites, verification against t->chain, no
 * renegotiation, ALPN for direct TLS when asked. */
static enum xmp_err conf_client(struct tls *t, const struct tls_params *p,
                                struct xmp_error *err)
{
    char etext[ERRTEXT_MAX];
    int r;

    r = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
                                    MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT);
    if (r != 0)
        return xmp_error_set(err, XMP_ETLS, "cannot configure TLS: %s",
                             tls_strerror(r, etext, sizeof etext));
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    /* TLS 1.3 preferred (the default maximum), TLS 1.2 allowed unless
     * refused */
    mbedtls_ssl_conf_min_tls_version(&t->conf,
                                     p->min_tls13
                                         ? MBEDTLS_SSL_VERSION_TLS1_3
                                         : MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_sig_algs(&t->conf, tls_sig_algs);
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_PROTO_TLS1_3)
    /* tickets of TLS 1.3 come after the handshake; told of, they are
     * kept for the next connection (tls_session_save) */
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        &t->conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#endif
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    /* a ticket resumes only with a fresh (EC)DHE exchange (psk_dhe_ke,
     * RFC 8446 §4.2.9): one read from disk decrypts no traffic */
    mbedtls_ssl_conf_tls13_key_exchange_modes(
        &t->conf, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL |
                      MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL);
#endif
#else
    /* RFC 7525 §3.1.1: nothing older than TLS 1.2 (the default would
     * allow 1.0) */
    mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
#endif
    mbedtls_ssl_conf_ciphersuites(&t->conf, tls_suites);
    /* renegotiation would change the channel binding mid-stream */
    mbedtls_ssl_conf_renegotiation(&t->conf,
                                   MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    /* insecure: finish the handshake but keep the verdict for a warning */
    mbedtls_ssl_conf_authmode(&t->conf, p->insecure
                                            ? MBEDTLS_SSL_VERIFY_OPTIONAL
                                            : MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&t->conf, t->chain, NULL);
    mbedtls_ssl_conf_verify(&t->conf, verify_cb, t);
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    /* RFC 7627 is what makes tls-unique and tls-exporter safe */
    mbedtls_ssl_conf_extended_master_secret(&t->conf,
                                            MBEDTLS_SSL_EXTENDED_MS_ENABLED);
#if MBEDTLS_VERSION_NUMBER < 0x03060000
    mbedtls_ssl_conf_export_keys_ext_cb(&t->conf, export_keys_cb, t);
#endif
    if (p->alpn_xmpp &&
        (r = mbedtls_ssl_conf_alpn_protocols(&t->conf, tls_alpn)) != 0)
        return xmp_error_set(err, XMP_ETLS, "cannot offer ALPN: %s",
                             tls_strerror(r, etext, sizeof etext));
    return XMP_OK;
}

/* The client certificate and its key (SASL EXTERNAL), when given. */
static enum xmp_err load_client_cert(struct tls *t,
                                     const struct tls_params *p,
                                     struct xmp_error *err)
{
    char etext[ERRTEXT_MAX];
    int r;

    if (!p->client_cert && !p->client_key)
        return XMP_OK;
    if (!p->client_cert || !p->client_key)
        return xmp_error_set(err, XMP_EUSAGE,
                             "a client certificate needs both its "
                             "certificate and its key file");
    r = mbedtls_x509_crt_parse_file(&t->own, p->client_cert);
    if (r != 0)
        return xmp_error_set(err, XMP_ETLS,
                             "cannot load the client certificate %s: %s",
                             p->client_cert,
                             tls_strerror(r, etext, sizeof etext));
    /* an encrypted key is not supported; 3.6 wants the RNG (blinding) */
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    r = mbedtls_pk_parse_keyfile(&t->own_key, p->client_key, NULL,
                                 mbedtls_ctr_drbg_random, &t->drbg);
#else
    r = mbedtls_pk_parse_keyfile(&t->own_key, p->client_key, NULL);
#endif
    if (r != 0)
        return xmp_error_set(err, XMP_ETLS,
                             "cannot load the client key %s: %s",
                             p->client_key,
                             tls_strerror(r, etext, sizeof etext));
    r = mbedtls_ssl_conf_own_cert(&t->conf, &t->own, &t->own_key);
    if (r != 0)
        return xmp_error_set(err, XMP_ETLS,
                             "cannot use the client certificate %s: %s",
                             p->client_cert,
                             tls_strerror(r, etext, sizeof etext));
    t->have_own = 1;
    xmpp_addrs(&t->own, t->own_jids, sizeof t->own_jids);
    return XMP_OK;
}

#if MBEDTLS_VERSION_NUMBER >= 0x03060000
static pthread_once_t psa_once = PTHREAD_ONCE_INIT;
static psa_status_t psa_status = PSA_ERROR_BAD_STATE;

static void psa_start(void)
{
    psa_status = psa_crypto_init();
}

/* TLS 1.3 in 3.6 runs on PSA crypto: initialised once per process. */
static psa_status_t tls_psa_init(void)
{
    pthread_once(&psa_once, psa_start);
    return psa_status;
}
#endif

enum xmp_err tls_new(struct tls **out, int fd, const struct tls_params *p,
                     struct xmp_error *err)
{
    struct tls *t = NULL;
    char etext[ERRTEXT_MAX];
    const char *cafile;
    enum xmp_err rc;
    int r;

    if (!out)
        return xmp_error_set(err, XMP_EUSAGE, "no TLS handle to fill");
    *out = NULL;
    /* RFC 7590 §3.1: the domain is the reference identity; without it
     * nothing could be verified (and 2.28 would skip the name check) */
    if (!p || !p->domain || !p->domain[0])
        return xmp_error_set(err, XMP_ETLS,
                             "no domain to verify the server certificate "
                             "against");
    if (fd < 0)
        return xmp_error_set(err, XMP_EUSAGE,
                             "no connection to start TLS on (fd %d)", fd);
    if (p->min_tls13 && !TLS_HAS_13)
        return xmp_error_set(err, XMP_EUSAGE, "TLS 1.3 asked for, and %s "
                             "has none", tls_library());
    cafile = p->cafile ? p->cafile : TLS_SYSTEM_CA_BUNDLE;

    t = calloc(1, sizeof *t);
    if (!t)
        return xmp_error_set(err, XMP_ENOMEM, "out of memory setting up TLS");
    t->fd = fd;
    t->alert = -1;
    t->first_in = -1;
    t->min13 = p->min_tls13;
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_x509_crt_init(&t->own);
    mbedtls_pk_init(&t->own_key);
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_ssl_init(&t->ssl);
    t->domain = strdup(p->domain);
    if (p->pins && (rc = tls_pins_check(p->pins, err)) != XMP_OK)
        goto fail;
    if (p->pins && !(t->pins = strdup(p->pins))) {
        rc = xmp_error_set(err, XMP_ENOMEM, "out of memory setting up TLS");
        goto fail;
    }
    if (!t->domain) {
        rc = xmp_error_set(err, XMP_ENOMEM, "out of memory setting up TLS");
        goto fail;
    }

#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    if (tls_psa_init() != PSA_SUCCESS) {
        rc = xmp_error_set(err, XMP_ETLS, "cannot start PSA crypto");
        goto fail;
    }
#endif
    r = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
                              (const unsigned char *)DRBG_PERSONALISATION,
                              strlen(DRBG_PERSONALISATION));
    if (r != 0) {
        rc = xmp_error_set(err, XMP_ETLS,
                           "cannot seed the TLS random generator: %s",
                           tls_strerror(r, etext, sizeof etext));
        goto fail;
    }
    if (p->trust) {
        t->chain = &p->trust->ca;
    } else {
        rc = load_cas(&t->ca, cafile, err);
        if (rc != XMP_OK)
            goto fail;
        t->chain = &t->ca;
    }

    /* a probe's version and suite before the setup: 3.6 takes the
     * versions it offers from the configuration there */
    if ((rc = conf_client(t, p, err)) != XMP_OK ||
        (rc = load_client_cert(t, p, err)) != XMP_OK ||
        (p->probe_version &&
         (rc = tls_probe_version(t, p->probe_version, err)) != XMP_OK) ||
        (p->probe_suite &&
         (rc = tls_probe_suite(t, p->probe_suite, err)) != XMP_OK))
        goto fail;

    r = mbedtls_ssl_setup(&t->ssl, &t->conf);
    if (r != 0) {
        rc = xmp_error_set(err, r == MBEDTLS_ERR_SSL_ALLOC_FAILED
                                    ? XMP_ENOMEM : XMP_ETLS,
                           "cannot set up TLS: %s",
                           tls_strerror(r, etext, sizeof etext));
        goto fail;
    }
    /* SNI and the name checked against the certificate (RFC 6125): the
     * XMPP domain, never the host we happened to connect to */
    r = mbedtls_ssl_set_hostname(&t->ssl, t->domain);
    if (r != 0) {
        rc = xmp_error_set(err, XMP_ETLS,
                           "cannot use %s as the TLS server name: %s",
                           t->domain, tls_strerror(r, etext, sizeof etext));
        goto fail;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    mbedtls_ssl_set_export_keys_cb(&t->ssl, export_keys_cb, t);
#endif
    if (p->session && p->session_len) {
        offer_session(t, p->session, p->session_len);
        if (p->session_pin &&
            strlen(p->session_pin) < sizeof t->resume.session_pin)
            memcpy(t->resume.session_pin, p->session_pin,
                   strlen(p->session_pin) + 1);
    }
    *out = t;
    return XMP_OK;
fail:
    tls_free(t);
    return rc;
}

void tls_free(struct tls *t)
{
    if (!t)
        return;
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_x509_crt_free(&t->own);
    mbedtls_pk_free(&t->own_key);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
    free(t->pins);
    explicit_bzero(t->cb.master, sizeof t->cb.master);
    if (t->hs)
        explicit_bzero(t->hs, t->hs_len);
    free(t->hs);
    if (t->resume.ticket)
        explicit_bzero(t->resume.ticket, t->resume.ticket_len);
    free(t->resume.ticket);
    free(t->domain);
    free(t);
}

/* ---- I/O ----------------------------------------------------------------- */

static enum xmp_err set_failed(struct tls *t, struct xmp_error *err,
                               enum xmp_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Remember a fatal error: the context cannot be used after it. */
static enum xmp_err set_failed(struct tls *t, struct xmp_error *err,
                               enum xmp_err code, const char *fmt, ...)
{
    va_list ap;

    t->failed = 1;
    t->want = TLS_WANT_NOTHING;
    t->fail.code = code;
    va_start(ap, fmt);
    vsnprintf(t->fail.msg, sizeof t->fail.msg, fmt, ap);
    va_end(ap);
    if (err)
        *err = t->fail;
    return code;
}

static enum xmp_err failed_again(const struct tls *t, struct xmp_error *err)
{
    if (err)
        *err = t->fail;
    return t->fail.code;
}

/* WANT_READ / WANT_WRITE: remember which, and tell the caller to poll. */
static int wants(struct tls *t, int r)
{
    if (r == MBEDTLS_ERR_SSL_WANT_READ) {
        t->want = TLS_WANT_READ;
        return 1;
    }
    if (r == MBEDTLS_ERR_SSL_WANT_WRITE) {
        t->want = TLS_WANT_WRITE;
        return 1;
    }
    return 0;
}

/* The channel-binding data of the handshake that just ended, while
 * what it needs is at hand; the transcript goes then. */
static void bindings(struct tls *t)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    static const char label[] = "EXPORTER-Channel-Binding";
    const mbedtls_md_info_t *md;
    unsigned char h[TLS_DIGEST_MAX];

    if (t->tls13) {
        /* RFC 9266 §2: 32 bytes, empty context (the same as none in
         * TLS 1.3) */
        t->cb.have_exporter =
            mbedtls_ssl_export_keying_material(
                &t->ssl, t->cb.exporter, sizeof t->cb.exporter, label,
                sizeof label - 1, (const unsigned char *)"", 0, 0) == 0;
    } else if (t->cb.have_keys && !t->resumed && !t->hs_overflow && t->hs_len) {
        /* RFC 5929 §3.1, RFC 5246 §7.4.9: the client's Finished, from
         * the master secret and the hash of every handshake message
         * before it (the PRF's hash) */
        md = mbedtls_md_info_from_type(t->cb.prf == MBEDTLS_SSL_TLS_PRF_SHA384
                                           ? MBEDTLS_MD_SHA384
                                           : MBEDTLS_MD_SHA256);
        if (md && mbedtls_md(md, t->hs, t->hs_len, h) == 0 &&
            mbedtls_ssl_tls_prf(t->cb.prf, t->cb.master, sizeof t->cb.master,
                                "client finished", h,
                                mbedtls_md_get_size(md), t->cb.unique,
                                sizeof t->cb.unique) == 0)
            t->cb.unique_len = sizeof t->cb.unique;
    }
#endif
    if (t->hs)
        explicit_bzero(t->hs, t->hs_len);
    free(t->hs);
    t->hs = NULL;
    t->hs_len = t->hs_cap = 0;
}

enum xmp_err tls_handshake(struct tls *t, struct xmp_error *err)
{
    const mbedtls_x509_crt *peer;
    char why[XMP_ERRMSG_MAX];
    uint32_t flags;
    int r;

    if (!t)
        return xmp_error_set(err, XMP_EUSAGE, "no TLS handle");
    if (t->failed)
        return failed_again(t, err);
    if (t->done)
        return XMP_OK;

    do
        r = mbedtls_ssl_handshake(&t->ssl);
    while (IS_TICKET(t, r));
    if (wants(t, r))
        return XMP_AGAIN;
    if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        flags = mbedtls_ssl_get_verify_result(&t->ssl);
        if (flags == (uint32_t)-1)
            flags = t->seen.leaf_flags | t->seen.ca_flags;
        verify_text(t, flags, why, sizeof why);
        return set_failed(t, err, XMP_ETLS,
                          "cannot verify certificate for %s: %s", t->domain,
                          why);
    }
    if (r != 0 && version_failure(t, r, why, sizeof why))
        return set_failed(t, err, XMP_ETLS, "TLS handshake with %s failed: %s",
                          t->domain, why);
    if (r != 0)
        return set_failed(t, err, XMP_ETLS, "TLS handshake with %s failed: %s",
                          t->domain, describe(t, r, why, sizeof why));

    t->want = TLS_WANT_NOTHING;
    peer = mbedtls_ssl_get_peer_cert(&t->ssl);
    if (peer)
        spki_pin(peer, t->pin, sizeof t->pin);
    else if (t->resumed)
        /* TLS 1.3 resumption: the key is the one the ticket's session
         * was verified with (the server proved it holds the ticket) */
        memcpy(t->pin, t->resume.session_pin, sizeof t->pin);
    /* the pin is checked before a single byte of the stream goes out */
    if (t->pins && (!t->pin[0] || !pin_listed(t->pins, t->pin)))
        return set_failed(t, err, XMP_ETLS,
                          "the public key of %s matches no pin (its pin "
                          "is %s)",
                          t->domain, t->pin[0] ? t->pin : "unknown");
    t->done = 1;
    bindings(t);
    flags = mbedtls_ssl_get_verify_result(&t->ssl);
    if (flags == 0) {
        t->verified = 1;
    } else {
        /* only reachable with insecure (VERIFY_OPTIONAL) */
        verify_text(t, flags, t->verify_msg, sizeof t->verify_msg);
    }
    return XMP_OK;
}

int tls_got_xml(const struct tls *t)
{
    return t && t->first_in == '<';
}

enum tls_want tls_want(const struct tls *t)
{
    return t ? t->want : TLS_WANT_NOTHING;
}

/* A failed read or write: the socket died, or TLS itself gave up. */
static enum xmp_err io_failed(struct tls *t, int r, struct xmp_error *err)
{
    char why[ERRTEXT_MAX * 2];

    describe(t, r, why, sizeof why);
    if (r == MBEDTLS_ERR_NET_SEND_FAILED || r == MBEDTLS_ERR_NET_RECV_FAILED)
        return set_failed(t, err, XMP_EUNREACH, "connection to %s lost: %s",
                          t->domain, why);
    return set_failed(t, err, XMP_ETLS, "TLS error on the connection to %s: "
                      "%s", t->domain, why);
}

enum xmp_err tls_read(struct tls *t, void *buf, size_t len, size_t *n,
                      struct xmp_error *err)
{
    int r;

    if (n)
        *n = 0;
    if (!t || !buf || !n || len == 0)
        return xmp_error_set(err, XMP_EUSAGE, "nowhere to read TLS data to");
    if (t->failed)
        return failed_again(t, err);
    if (!t->done)
        return xmp_error_set(err, XMP_EUSAGE,
                             "TLS read before the handshake with %s finished",
                             t->domain);
    if (t->closed)
        return XMP_OK;

    /* a TLS 1.3 ticket is kept, then the read goes on */
    do
        r = mbedtls_ssl_read(&t->ssl, buf, len);
    while (IS_TICKET(t, r));
    if (r > 0) {
        t->want = TLS_WANT_NOTHING;
        *n = (size_t)r;
        return XMP_OK;
    }
    if (wants(t, r))
        return XMP_AGAIN;
    /* close_notify, or EOF without it: the peer is done either way */
    if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
        r == MBEDTLS_ERR_SSL_CONN_EOF) {
        t->closed = 1;
        t->want = TLS_WANT_NOTHING;
        return XMP_OK;
    }
    return io_failed(t, r, err);
}

enum xmp_err tls_write(struct tls *t, const void *buf, size_t len, size_t *n,
                       struct xmp_error *err)
{
    int r;

    if (n)
        *n = 0;
    if (!t || (!buf && len) || !n)
        return xmp_error_set(err, XMP_EUSAGE, "nothing to write over TLS");
    if (t->failed)
        return failed_again(t, err);
    if (!t->done)
        return xmp_error_set(err, XMP_EUSAGE,
                             "TLS write before the handshake with %s "
                             "finished", t->domain);
    if (len == 0)
        return XMP_OK;

    do
        r = mbedtls_ssl_write(&t->ssl, buf, len);
    while (IS_TICKET(t, r));
    if (r > 0) {
        t->want = TLS_WANT_NOTHING;
        *n = (size_t)r;
        return XMP_OK;
    }
    if (wants(t, r))
        return XMP_AGAIN;
    return io_failed(t, r, err);
}

int tls_pending(const struct tls *t)
{
    if (!t || !t->done || t->failed)
        return 0;
    /* decrypted or still undecrypted bytes poll() cannot see */
    return mbedtls_ssl_get_bytes_avail(&t->ssl) > 0 ||
           mbedtls_ssl_check_pending(&t->ssl);
}

void tls_close_notify(struct tls *t)
{
    if (!t || !t->done || t->failed)
        return;
    /* one try: a WANT_WRITE here is dropped, the caller closes anyway */
    (void)mbedtls_ssl_close_notify(&t->ssl);
}

/* X.509 times are UTC: seconds since 1970 without the local zone */
static int64_t x509_epoch(const mbedtls_x509_time *tm)
{
    struct tm t;

    memset(&t, 0, sizeof t);
    t.tm_year = tm->year - 1900;
    t.tm_mon = tm->mon - 1;
    t.tm_mday = tm->day;
    t.tm_hour = tm->hour;
    t.tm_min = tm->min;
    t.tm_sec = tm->sec;
    return (int64_t)timegm(&t);
}

/* The certificate's signature algorithm, e.g. "RSA with SHA-256", and
 * whether its hash is broken (RFC 6194, SHAttered: SHA-1 signatures can
 * be forged). */
static void sig_alg(const mbedtls_x509_crt *c, char *buf, size_t len,
                    int *weak)
{
    mbedtls_md_type_t md;
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    mbedtls_pk_type_t pk;
    const char *desc;

    if (mbedtls_oid_get_sig_alg_desc(&c->sig_oid, &desc) == 0)
        snprintf(buf, len, "%s", desc);
    else
        snprintf(buf, len, "unknown");
    if (mbedtls_oid_get_sig_alg(&c->sig_oid, &md, &pk) != 0)
        md = MBEDTLS_MD_NONE;
#else
    if (mbedtls_x509_sig_alg_gets(buf, len, &c->sig_oid, c->sig_pk,
                                  c->sig_md, c->sig_opts) < 0)
        snprintf(buf, len, "unknown");
    md = c->sig_md;
#endif
    if (weak)
        *weak = md == MBEDTLS_MD_SHA1 || md == MBEDTLS_MD_MD5;
}

static void cert_info(const mbedtls_x509_crt *c, struct xmp_cert_info *ci)
{
    dn_text(&c->subject, ci->subject, sizeof ci->subject);
    dn_text(&c->issuer, ci->issuer, sizeof ci->issuer);
    fmt_time(&c->valid_from, ci->not_before, sizeof ci->not_before);
    fmt_time(&c->valid_to, ci->not_after, sizeof ci->not_after);
    ci->not_after_epoch = x509_epoch(&c->valid_to);
    snprintf(ci->key_type, sizeof ci->key_type, "%s",
             mbedtls_pk_get_name(&c->pk));
    ci->key_bits = (unsigned)mbedtls_pk_get_bitlen(&c->pk);
    sig_alg(c, ci->sig_alg, sizeof ci->sig_alg, &ci->sig_weak);
}

void tls_get_info(const struct tls *t, struct tls_info *info)
{
    const mbedtls_x509_crt *c;
    const mbedtls_x509_crt *peer;
    const char *s;

    if (!info)
        return;
    memset(info, 0, sizeof *info);
    if (!t || !t->done)
        return;
    s = mbedtls_ssl_get_version(&t->ssl);
    snprintf(info->version, sizeof info->version, "%s", s ? s : "");
    s = mbedtls_ssl_get_ciphersuite(&t->ssl);
    snprintf(info->cipher, sizeof info->cipher, "%s", s ? s : "");
    peer = mbedtls_ssl_get_peer_cert(&t->ssl);
    if (peer) {
        dn_text(&peer->subject, info->subject, sizeof info->subject);
        dn_text(&peer->issuer, info->issuer, sizeof info->issuer);
        fmt_time(&peer->valid_to, info->not_after, sizeof info->not_after);
        snprintf(info->key_type, sizeof info->key_type, "%s",
                 mbedtls_pk_get_name(&peer->pk));
        info->key_bits = (unsigned)mbedtls_pk_get_bitlen(&peer->pk);
        sig_alg(peer, info->sig_alg, sizeof info->sig_alg, NULL);
    }
    for (c = peer; c && c->raw.p && info->chain_len < XMP_CHAIN_MAX;
         c = c->next)
        cert_info(c, &info->chain[info->chain_len++]);
    snprintf(info->pin, sizeof info->pin, "%s", t->pin);
    info->client_cert = t->have_own;
    snprintf(info->client_jids, sizeof info->client_jids, "%s", t->own_jids);
    info->verified = t->verified;
    info->ems = t->cb.have_keys && t->ems;
    info->resumed = t->resumed;
    snprintf(info->verify_msg, sizeof info->verify_msg, "%s", t->verify_msg);
}

/* RFC 5929 §4.1 tls-server-end-point: the hash of the server's
 * certificate (DER) with its signature's hash function, SHA-256 when that
 * is MD5 or SHA-1.  It depends on the certificate only, not on the
 * handshake's secrets, so unlike the other two types it needs no extended
 * master secret: it is the same on every connection to that server. */
static enum xmp_err end_point(const struct tls *t, unsigned char *out,
                              size_t *len, struct xmp_error *err)
{
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);
    const mbedtls_md_info_t *md;
    mbedtls_md_type_t type;
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    mbedtls_pk_type_t pk;
#endif

    if (!peer || !peer->raw.p)
        return xmp_error_set(err, XMP_ETLS,
                             "no server certificate to bind to: %s "
                             "resumed a TLS 1.3 session, which sends none",
                             t->domain);
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    /* 3.6 keeps the hash of RSASSA-PSS (in its parameters) private */
    if (mbedtls_oid_get_sig_alg(&peer->sig_oid, &type, &pk) != 0 ||
        pk == MBEDTLS_PK_RSASSA_PSS)
        type = MBEDTLS_MD_NONE;
#else
    type = peer->sig_md;
#endif
    if (type == MBEDTLS_MD_MD5 || type == MBEDTLS_MD_SHA1)
        type = MBEDTLS_MD_SHA256;
    md = type == MBEDTLS_MD_NONE ? NULL : mbedtls_md_info_from_type(type);
    if (!md || mbedtls_md_get_size(md) > TLS_CB_MAX)
        return xmp_error_set(err, XMP_ETLS,
                             "no tls-server-end-point data: cannot tell "
                             "the hash of the signature on the certificate "
                             "of %s",
                             t->domain);
    if (mbedtls_md(md, peer->raw.p, peer->raw.len, out) != 0)
        return xmp_error_set(err, XMP_ETLS,
                             "cannot compute tls-server-end-point data");
    *len = mbedtls_md_get_size(md);
    return XMP_OK;
}

enum xmp_err tls_channel_binding(const struct tls *t, const char *type,
                                 unsigned char *out, size_t *len,
                                 struct xmp_error *err)
{
    unsigned char seed[66];
    int r;

    *len = 0;
    if (t && t->done && strcmp(type, "tls-server-end-point") == 0)
        return end_point(t, out, len, err);
    if (!t || !t->done || !t->cb.have_keys)
        return xmp_error_set(err, XMP_ETLS, "no TLS handshake to bind to");
    /* RFC 7627 §1, RFC 9266 §3: without the extended master secret a
     * man in the middle can make both sides see the same values */
    if (!t->ems)
        return xmp_error_set(err, XMP_ETLS,
                             "the TLS handshake with %s did not use the "
                             "extended master secret (RFC 7627): no safe "
                             "channel binding",
                             t->domain);
    if (strcmp(type, "tls-unique") == 0 && t->tls13)
        return xmp_error_set(err, XMP_ETLS,
                             "tls-unique does not exist in TLS 1.3 (RFC "
                             "9266 §1)");
    if (strcmp(type, "tls-exporter") == 0 && t->tls13) {
        if (!t->cb.have_exporter)
            return xmp_error_set(err, XMP_ETLS,
                                 "cannot compute tls-exporter data");
        memcpy(out, t->cb.exporter, sizeof t->cb.exporter);
        *len = sizeof t->cb.exporter;
        return XMP_OK;
    }
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    if (strcmp(type, "tls-unique") == 0) {
        /* rebuilt for full handshakes only: a resumed one's is the
         * server's Finished */
        if (!t->cb.unique_len)
            return xmp_error_set(err, XMP_ETLS,
                                 "no Finished message to bind to");
        memcpy(out, t->cb.unique, t->cb.unique_len);
        *len = t->cb.unique_len;
        return XMP_OK;
    }
#else
    if (strcmp(type, "tls-unique") == 0) {
        /* RFC 5929 §3.1: the first Finished of the latest handshake: the
         * client's in a full handshake, the server's in a resumed one */
        if (t->ssl.verify_data_len == 0 ||
            t->ssl.verify_data_len > TLS_CB_MAX)
            return xmp_error_set(err, XMP_ETLS,
                                 "no Finished message to bind to");
        memcpy(out, t->resumed ? t->ssl.peer_verify_data
                               : t->ssl.own_verify_data,
               t->ssl.verify_data_len);
        *len = t->ssl.verify_data_len;
        return XMP_OK;
    }
#endif
    if (strcmp(type, "tls-exporter") == 0) {
        /* RFC 9266 §2 over TLS 1.2: the RFC 5705 exporter with an empty
         * (present, zero-length) context, as servers compute it */
        memcpy(seed, t->cb.randoms, 64);
        seed[64] = 0;
        seed[65] = 0;
        r = mbedtls_ssl_tls_prf(t->cb.prf, t->cb.master, sizeof t->cb.master,
                                "EXPORTER-Channel-Binding", seed, sizeof seed,
                                out, 32);
        if (r != 0)
            return xmp_error_set(err, XMP_ETLS,
                                 "cannot compute tls-exporter data");
        *len = 32;
        return XMP_OK;
    }
    return xmp_error_set(err, XMP_ETLS, "unknown channel-binding type %s",
                         type);
}

size_t tls_digest(int sha256, const void *in, size_t len, unsigned char *out)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(
        sha256 ? MBEDTLS_MD_SHA256 : MBEDTLS_MD_SHA1);

    if (!md || mbedtls_md(md, in, len, out) != 0)
        return 0;
    return mbedtls_md_get_size(md);
}

size_t tls_hmac_sha256(const void *key, size_t klen, const void *msg,
                       size_t mlen, unsigned char out[32])
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

    if (!md || mbedtls_md_get_size(md) != 32 ||
        mbedtls_md_hmac(md, key, klen, msg, mlen, out) != 0)
        return 0;
    return 32;
}

/* ---- primitives for message-layer encryption ---------------------------- */

#define RNG_PERSONALISATION "xmpctl e2e"

struct tls_rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

struct tls_rng *tls_rng_new(void)
{
    struct tls_rng *r = calloc(1, sizeof *r);

    if (!r)
        return NULL;
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    if (tls_psa_init() != PSA_SUCCESS) {
        tls_rng_free(r);
        return NULL;
    }
#endif
    if (mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
                              (const unsigned char *)RNG_PERSONALISATION,
                              strlen(RNG_PERSONALISATION)) != 0) {
        tls_rng_free(r);
        return NULL;
    }
    return r;
}

void tls_rng_free(struct tls_rng *r)
{
    if (!r)
        return;
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
    free(r);
}

int tls_rng_bytes(struct tls_rng *r, void *buf, size_t len)
{
    unsigned char *p = buf;

    /* the DRBG hands out at most MBEDTLS_CTR_DRBG_MAX_REQUEST per call */
    while (len > 0) {
        size_t n = len < MBEDTLS_CTR_DRBG_MAX_REQUEST
                       ? len : MBEDTLS_CTR_DRBG_MAX_REQUEST;
        if (mbedtls_ctr_drbg_random(&r->drbg, p, n) != 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

struct tls_md {
    mbedtls_md_context_t ctx;
    int hmac;
};

struct tls_md *tls_md_new(enum tls_md_kind kind, const void *key,
                          size_t klen)
{
    struct tls_md *m = calloc(1, sizeof *m);
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(
        kind == TLS_MD_SHA512 ? MBEDTLS_MD_SHA512 : MBEDTLS_MD_SHA256);

    if (!m)
        return NULL;
    mbedtls_md_init(&m->ctx);
    m->hmac = kind == TLS_MD_HMAC_SHA256;
    if (!info || mbedtls_md_setup(&m->ctx, info, m->hmac) != 0 ||
        (m->hmac ? mbedtls_md_hmac_starts(&m->ctx, key, klen)
                 : mbedtls_md_starts(&m->ctx)) != 0) {
        tls_md_free(m);
        return NULL;
    }
    return m;
}

int tls_md_update(struct tls_md *m, const void *in, size_t len)
{
    return (m->hmac ? mbedtls_md_hmac_update(&m->ctx, in, len)
                    : mbedtls_md_update(&m->ctx, in, len)) == 0 ? 0 : -1;
}

size_t tls_md_final(struct tls_md *m, unsigned char *out)
{
    if (m->hmac) {
        if (mbedtls_md_hmac_finish(&m->ctx, out) != 0 ||
            mbedtls_md_hmac_reset(&m->ctx) != 0)
            return 0;
    } else if (mbedtls_md_finish(&m->ctx, out) != 0 ||
               mbedtls_md_starts(&m->ctx) != 0) {
        return 0;
    }
    return m->hmac ? 32 : 64;
}

void tls_md_free(struct tls_md *m)
{
    if (!m)
        return;
    mbedtls_md_free(&m->ctx);
    free(m);
}

static int aes_cipher(mbedtls_cipher_mode_t mode, int encrypt,
                      const unsigned char *key, size_t klen,
                      const unsigned char iv[16], const void *in,
                      size_t len, unsigned char *out, size_t *outlen)
{
    mbedtls_cipher_context_t c;
    const mbedtls_cipher_info_t *info;
    size_t n = 0, fin = 0;
    int ok;

    if (klen != 16 && klen != 24 && klen != 32)
        return -1;
    info = mbedtls_cipher_info_from_values(MBEDTLS_CIPHER_ID_AES,
                                           (int)klen * 8, mode);
    mbedtls_cipher_init(&c);
    ok = info && mbedtls_cipher_setup(&c, info) == 0 &&
         mbedtls_cipher_setkey(&c, key, (int)klen * 8,
                               encrypt ? MBEDTLS_ENCRYPT
                                       : MBEDTLS_DECRYPT) == 0 &&
         (mode != MBEDTLS_MODE_CBC ||
          mbedtls_cipher_set_padding_mode(&c, MBEDTLS_PADDING_PKCS7) == 0) &&
         mbedtls_cipher_set_iv(&c, iv, 16) == 0 &&
         mbedtls_cipher_reset(&c) == 0 &&
         mbedtls_cipher_update(&c, in, len, out, &n) == 0 &&
         mbedtls_cipher_finish(&c, out + n, &fin) == 0;
    mbedtls_cipher_free(&c);
    if (outlen)
        *outlen = n + fin;
    return ok ? 0 : -1;
}

int tls_aes_cbc(int encrypt, const unsigned char *key, size_t klen,
                const unsigned char iv[16], const void *in, size_t len,
                unsigned char *out, size_t *outlen)
{
    return aes_cipher(MBEDTLS_MODE_CBC, encrypt, key, klen, iv, in, len, out,
                      outlen);
}

int tls_aes_ctr(const unsigned char *key, size_t klen,
                const unsigned char iv[16], const void *in, size_t len,
                unsigned char *out)
{
    size_t n;

    if (aes_cipher(MBEDTLS_MODE_CTR, 1, key, klen, iv, in, len, out, &n) ||
        n != len)
        return -1;
    return 0;
}

int tls_aes_gcm_seal(const unsigned char *key, size_t klen,
                     const unsigned char *iv, size_t ivlen, const void *in,
                     size_t len, unsigned char *out, unsigned char tag[16])
{
    mbedtls_gcm_context g;
    int ok;

    mbedtls_gcm_init(&g);
    ok = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key,
                            (unsigned)klen * 8) == 0 &&
         mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, len, iv, ivlen,
                                   NULL, 0, in, out, 16, tag) == 0;
    mbedtls_gcm_free(&g);
    return ok ? 0 : -1;
}

int tls_aes_gcm_open(const unsigned char *key, size_t klen,
                     const unsigned char *iv, size_t ivlen, const void *in,
                     size_t len, const unsigned char tag[16],
                     unsigned char *out)
{
    mbedtls_gcm_context g;
    int ok;

    mbedtls_gcm_init(&g);
    ok = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key,
                            (unsigned)klen * 8) == 0 &&
         mbedtls_gcm_auth_decrypt(&g, len, iv, ivlen, NULL, 0, tag, 16, in,
                                  out) == 0;
    mbedtls_gcm_free(&g);
    return ok ? 0 : -1;
}

int tls_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm,
                    size_t ikmlen, const void *info, size_t infolen,
                    unsigned char *out, size_t outlen)
{
    return mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), salt,
                        saltlen, ikm, ikmlen, info, infolen, out,
                        outlen) == 0 ? 0 : -1;
}

int tls_can_probe(int v)
{
    switch (v) {
#if MBEDTLS_VERSION_NUMBER < 0x03000000
#if defined(MBEDTLS_SSL_PROTO_TLS1)
    case 10:
        return 1;
#endif
#if defined(MBEDTLS_SSL_PROTO_TLS1_1)
    case 11:
        return 1;
#endif
#endif
    case 12:
        return 1;
    case 13:
        return tls_has_13();
    default:
        return 0;
    }
}

enum xmp_err tls_probe_version(struct tls *t, int v, struct xmp_error *err)
{
    if (!tls_can_probe(v))
        return xmp_error_set(err, XMP_EUSAGE, "this build cannot offer TLS "
                             "%d.%d", v / 10, v % 10);
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    mbedtls_ssl_conf_min_tls_version(&t->conf,
                                     v == 13 ? MBEDTLS_SSL_VERSION_TLS1_3
                                             : MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&t->conf,
                                     v == 13 ? MBEDTLS_SSL_VERSION_TLS1_3
                                             : MBEDTLS_SSL_VERSION_TLS1_2);
#else
    {
        int minor = v == 10   ? MBEDTLS_SSL_MINOR_VERSION_1
                    : v == 11 ? MBEDTLS_SSL_MINOR_VERSION_2
                              : MBEDTLS_SSL_MINOR_VERSION_3;

        mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                     minor);
        mbedtls_ssl_conf_max_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                     minor);
    }
#endif
    /* whether the version is accepted at all, with whatever suite: the
     * policy's alone would report a server that takes only weaker ones
     * as refusing the version */
    mbedtls_ssl_conf_ciphersuites(&t->conf, mbedtls_ssl_list_ciphersuites());
    return XMP_OK;
}

/* A suite a probe can offer alone: one of version v (10 ... 13) whose
 * key exchange needs nothing but the server's certificate (no
 * pre-shared key or password is configured, so the server could not
 * complete those; static ECDH wants an ECDH certificate nobody serves)
 * and whose cipher servers deploy: no Camellia or ARIA, no CCM with
 * truncated tags.  That keeps a report to some 35 handshakes. */
static int suite_probeable(const mbedtls_ssl_ciphersuite_t *cs, int v)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    const char *name = mbedtls_ssl_ciphersuite_get_name(cs);
    int id = mbedtls_ssl_ciphersuite_get_id(cs);
    int ver = v == 13 ? MBEDTLS_SSL_VERSION_TLS1_3
                      : MBEDTLS_SSL_VERSION_TLS1_2;
#else
    const char *name = cs->name;
    int minor = v == 10   ? MBEDTLS_SSL_MINOR_VERSION_1
                : v == 11 ? MBEDTLS_SSL_MINOR_VERSION_2
                          : MBEDTLS_SSL_MINOR_VERSION_3;
#endif

    if (strstr(name, "CAMELLIA") || strstr(name, "ARIA") ||
        strstr(name, "CCM-8"))
        return 0;
#if MBEDTLS_VERSION_NUMBER >= 0x03060000
    if (v == 13 || id >> 8 == 0x13)
        return v == 13 && id >> 8 == 0x13;
    if (cs->MBEDTLS_PRIVATE(min_tls_version) > ver ||
        cs->MBEDTLS_PRIVATE(max_tls_version) < ver)
        return 0;
    switch (cs->MBEDTLS_PRIVATE(key_exchange)) {
#else
    if (v == 13 || cs->min_minor_ver > minor || cs->max_minor_ver < minor)
        return 0;
    switch (cs->key_exchange) {
#endif
    case MBEDTLS_KEY_EXCHANGE_RSA:
    case MBEDTLS_KEY_EXCHANGE_DHE_RSA:
    case MBEDTLS_KEY_EXCHANGE_ECDHE_RSA:
    case MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA:
        return 1;
    default:
        return 0;
    }
}

size_t tls_probe_suites(int v, int *ids, size_t max)
{
    const int *all = mbedtls_ssl_list_ciphersuites();
    const mbedtls_ssl_ciphersuite_t *cs;
    size_t n = 0;

    if (!tls_can_probe(v))
        return 0;
    for (; *all && n < max; all++)
        if ((cs = mbedtls_ssl_ciphersuite_from_id(*all)) &&
            suite_probeable(cs, v))
            ids[n++] = *all;
    return n;
}

const char *tls_suite_name(int id)
{
    return mbedtls_ssl_ciphersuite_from_id(id)
               ? mbedtls_ssl_get_ciphersuite_name(id)
               : NULL;
}

enum xmp_err tls_probe_suite(struct tls *t, int id, struct xmp_error *err)
{
    if (!mbedtls_ssl_ciphersuite_from_id(id))
        return xmp_error_set(err, XMP_EUSAGE, "this build cannot offer "
                             "cipher suite 0x%04x", (unsigned)id);
    t->probe_suite[0] = id;
    t->probe_suite[1] = 0;
    mbedtls_ssl_conf_ciphersuites(&t->conf, t->probe_suite);
    return XMP_OK;
}
