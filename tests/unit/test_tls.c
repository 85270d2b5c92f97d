/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/*
 * test_tls.c - the TLS layer against an mbedTLS server in a child
 * process on 127.0.0.1, with a CA and certificates made by the openssl
 * command in a temporary directory.
 *
 * The child serves several listening sockets, one certificate (or
 * protocol setting) each, one connection at a time.  It understands a few
 * requests: "alpn?" (answers the negotiated ALPN protocol or "none"),
 * "unique?" (its tls-unique, RFC 5929 §3: the client's Finished, in hex),
 * "exporter?" (its tls-exporter, RFC 9266, in hex; "none" on 2.28),
 * "quit" (close_notify), "reset" (abortive close, RST), anything else is
 * echoed.  Built on mbedTLS 3.6 the server speaks TLS 1.3 (but the
 * TLS 1.2 one), and reads its tls-unique from a private field: the test's
 * independent witness of what the client rebuilds from public API.
 */
#include "tls.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#if MBEDTLS_VERSION_NUMBER >= 0x03060000
#include <psa/crypto.h>
#define TLS13 1
#else
#define TLS13 0
#endif
#ifndef MBEDTLS_PRIVATE
#define MBEDTLS_PRIVATE(member) member
#endif

#define CHILD_LIFETIME_S 120  /* the server dies by itself after this */
#define CHILD_POLL_MS 100
#define SERVER_IO_TIMEOUT_S 10
#define CLIENT_LIMIT_MS 10000
#define CLIENT_POLL_MS 100
#define LISTEN_BACKLOG 8
#define MSG_MAX 256
#define PATH_LEN 512
#define DIR_LEN 256

/* what the good server negotiates with us */
#if TLS13
#define GOOD_VERSION "TLSv1.3"
#else
#define GOOD_VERSION "TLSv1.2"
#endif
#define TICKET_LIFETIME_S 3600

#define CA_NAME "xmpctl test CA"
#define OTHER_CA_NAME "xmpctl other CA"

/* the certificates made at start, relative to the temporary directory */
static const char *const files[] = {
    "ca.key", "ca.crt", "other.key", "other.crt",
    "good.key", "good.csr", "good.crt", "good.der", "good.endp",
    "wrong.key", "wrong.csr", "wrong.crt",
    "old.key", "old.csr", "old.crt",
    "junk.pem",
};

static char dir[DIR_LEN];
/* tls-server-end-point of good.crt (RFC 5929 §4.1: signed with
 * ecdsa-with-SHA256, so its SHA-256), as the openssl command computes it:
 * openssl x509 -outform DER | openssl dgst -sha256 -binary */
static unsigned char good_endp[32];

/* A few results stay valid at once: enough for one command line. */
#define PATH_RING 8

static const char *path(const char *name)
{
    static char buf[PATH_RING][PATH_LEN];
    static int i;

    i = (i + 1) % PATH_RING;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

/* Run a command without a shell; its output goes to /dev/null. */
static int run(const char *const argv[])
{
    int status;
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int make_ca(const char *key, const char *crt, const char *cn)
{
    char subj[MSG_MAX];
    const char *argv[] = {
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:P-256", "-nodes", "-keyout", path(key), "-out",
        path(crt), "-subj", subj, "-days", "30", NULL
    };

    snprintf(subj, sizeof subj, "/CN=%s", cn);
    return run(argv);
}

static int make_leaf(const char *stem, const char *cn, const char *san,
                     const char *days)
{
    char key[64], csr[64], crt[64], subj[MSG_MAX], ext[MSG_MAX];
    const char *req[] = {
        "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:P-256", "-nodes", "-keyout", NULL, "-out", NULL,
        "-subj", subj, "-addext", ext, NULL
    };
    const char *sign[] = {
        "openssl", "x509", "-req", "-in", NULL, "-CA", NULL, "-CAkey", NULL,
        "-set_serial", "2", "-days", days, "-copy_extensions", "copyall",
        "-out", NULL, NULL
    };

    snprintf(key, sizeof key, "%s.key", stem);
    snprintf(csr, sizeof csr, "%s.csr", stem);
    snprintf(crt, sizeof crt, "%s.crt", stem);
    snprintf(subj, sizeof subj, "/CN=%s", cn);
    snprintf(ext, sizeof ext, "subjectAltName=%s", san);
    req[9] = path(key);
    req[11] = path(csr);
    sign[4] = path(csr);
    sign[6] = path("ca.crt");
    sign[8] = path("ca.key");
    sign[16] = path(crt);
    if (run(req) != 0)
        return -1;
    return run(sign);
}

/* good_endp from good.crt, by the openssl command */
static int good_end_point(void)
{
    const char *der[] = {
        "openssl", "x509", "-in", path("good.crt"), "-outform", "DER",
        "-out", path("good.der"), NULL
    };
    const char *dgst[] = {
        "openssl", "dgst", "-sha256", "-binary", "-out", path("good.endp"),
        path("good.der"), NULL
    };
    FILE *f;
    size_t n;

    if (run(der) != 0 || run(dgst) != 0 ||
        !(f = fopen(path("good.endp"), "r")))
        return -1;
    n = fread(good_endp, 1, sizeof good_endp, f);
    fclose(f);
    return n == sizeof good_endp ? 0 : -1;
}

static int make_certs(void)
{
    FILE *f;

    if (make_ca("ca.key", "ca.crt", CA_NAME) != 0 ||
        make_ca("other.key", "other.crt", OTHER_CA_NAME) != 0 ||
        make_leaf("good", "example.test",
                  "DNS:example.test,DNS:*.example.test", "30") != 0 ||
        good_end_point() != 0 ||
        make_leaf("wrong", "wrong.test", "DNS:wrong.test", "30") != 0 ||
        /* not after one day before now: already expired */
        make_leaf("old", "example.test", "DNS:example.test", "-1") != 0)
        return -1;
    f = fopen(path("junk.pem"), "w");
    if (!f)
        return -1;
    fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
          "-----END CERTIFICATE-----\n", f);
    return fclose(f);
}

static void remove_certs(void)
{
    size_t i;

    for (i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(path(files[i]));
    rmdir(dir);
}

/* ---- the server child ---------------------------------------------------- */

enum srv_kind {
    SRV_GOOD, SRV_WRONG, SRV_OLD, SRV_TLS11, SRV_TLS12, SRV_COUNT
};

struct srv {
    int lfd;
    uint16_t port;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
};

static struct srv servers[SRV_COUNT];
static volatile sig_atomic_t child_stop;
static const char *srv_alpn[] = { "xmpp-client", NULL };
#if TLS13
static const int cbc_only[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, 0
};
#endif

static void on_term(int sig)
{
    (void)sig;

    child_stop = 1;
}

static int srv_send(void *ctx, const unsigned char *b, size_t n)
{
    ssize_t r = send(*(int *)ctx, b, n, MSG_NOSIGNAL);

    return r < 0 ? MBEDTLS_ERR_NET_SEND_FAILED : (int)r;
}

static int srv_recv(void *ctx, unsigned char *b, size_t n)
{
    ssize_t r = recv(*(int *)ctx, b, n, 0);

    return r < 0 ? MBEDTLS_ERR_NET_RECV_FAILED : (int)r;
}

static int srv_write(mbedtls_ssl_context *ssl, const char *s)
{
    size_t off = 0, len = strlen(s);

    while (off < len) {
        int r = mbedtls_ssl_write(ssl, (const unsigned char *)s + off,
                                  len - off);
        if (r <= 0)
            return -1;
        off += (size_t)r;
    }
    return 0;
}

static void serve(struct srv *s, int cfd)
{
    mbedtls_ssl_context ssl;
    struct timeval tv = { SERVER_IO_TIMEOUT_S, 0 };
    char buf[MSG_MAX] = "";
    int r;

    setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    mbedtls_ssl_init(&ssl);
    if (mbedtls_ssl_setup(&ssl, &s->conf) != 0)
        goto out;
    mbedtls_ssl_set_bio(&ssl, &cfd, srv_send, srv_recv, NULL);
    if (mbedtls_ssl_handshake(&ssl) != 0)
        goto out;
    while (!child_stop) {
        r = mbedtls_ssl_read(&ssl, (unsigned char *)buf, sizeof buf - 1);
        if (r <= 0)
            break;
        buf[r] = '\0';
        if (strcmp(buf, "alpn?") == 0) {
            const char *p = mbedtls_ssl_get_alpn_protocol(&ssl);

            if (srv_write(&ssl, p ? p : "none") < 0)
                break;
        } else if (strcmp(buf, "unique?") == 0) {
            char hex[2 * sizeof ssl.MBEDTLS_PRIVATE(peer_verify_data) + 1] =
                "";
            size_t i;

            for (i = 0; i < ssl.MBEDTLS_PRIVATE(verify_data_len); i++)
                snprintf(hex + 2 * i, 3, "%02x",
                         (unsigned char)ssl.MBEDTLS_PRIVATE(
                             peer_verify_data)[i]);
            if (srv_write(&ssl, hex) < 0)
                break;
        } else if (strcmp(buf, "exporter?") == 0) {
            char hex[2 * 32 + 1] = "none";
#if TLS13
            static const char label[] = "EXPORTER-Channel-Binding";
            unsigned char x[32];
            size_t i;

            /* RFC 9266 §2: empty context, present */
            if (mbedtls_ssl_export_keying_material(
                    &ssl, x, sizeof x, label, sizeof label - 1,
                    (const unsigned char *)"", 0, 1) == 0)
                for (i = 0; i < sizeof x; i++)
                    snprintf(hex + 2 * i, 3, "%02x", x[i]);
#endif
            if (srv_write(&ssl, hex) < 0)
                break;
        } else if (strcmp(buf, "quit") == 0) {
            mbedtls_ssl_close_notify(&ssl);
            break;
        } else if (strcmp(buf, "reset") == 0) {
            /* linger 0: close sends RST instead of FIN */
            struct linger lg = { 1, 0 };

            setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            break;
        } else if (srv_write(&ssl, buf) < 0) {
            break;
        }
    }
out:
    mbedtls_ssl_free(&ssl);
    close(cfd);
}

static void server_main(void)
{
    struct sigaction sa;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_ticket_context tickets;
    static const char *const crt[SRV_COUNT] = { "good.crt", "wrong.crt",
                                                "old.crt", "good.crt",
                                                "good.crt" };
    static const char *const key[SRV_COUNT] = { "good.key", "wrong.key",
                                                "old.key", "good.key",
                                                "good.key" };
    int i, code = 1;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    alarm(CHILD_LIFETIME_S);

    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ssl_ticket_init(&tickets);
    for (i = 0; i < SRV_COUNT; i++) {
        mbedtls_ssl_config_init(&servers[i].conf);
        mbedtls_x509_crt_init(&servers[i].crt);
        mbedtls_pk_init(&servers[i].key);
    }
#if TLS13
    if (psa_crypto_init() != PSA_SUCCESS)
        goto out;
#endif
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                              NULL, 0) != 0 ||
        mbedtls_ssl_ticket_setup(&tickets, mbedtls_ctr_drbg_random, &drbg,
                                 MBEDTLS_CIPHER_AES_256_GCM,
                                 TICKET_LIFETIME_S) != 0)
        goto out;
    for (i = 0; i < SRV_COUNT; i++) {
        struct srv *s = &servers[i];

        if (mbedtls_x509_crt_parse_file(&s->crt, path(crt[i])) != 0 ||
#if TLS13
            mbedtls_pk_parse_keyfile(&s->key, path(key[i]), NULL,
                                     mbedtls_ctr_drbg_random, &drbg) != 0 ||
#else
            mbedtls_pk_parse_keyfile(&s->key, path(key[i]), NULL) != 0 ||
#endif
            mbedtls_ssl_config_defaults(&s->conf, MBEDTLS_SSL_IS_SERVER,
                                        MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT) != 0 ||
            mbedtls_ssl_conf_own_cert(&s->conf, &s->crt, &s->key) != 0 ||
            mbedtls_ssl_conf_alpn_protocols(&s->conf, srv_alpn) != 0)
            goto out;
        mbedtls_ssl_conf_rng(&s->conf, mbedtls_ctr_drbg_random, &drbg);
        /* tickets (RFC 5077, RFC 8446 §4.6.1) for the resumption test */
        mbedtls_ssl_conf_session_tickets_cb(&s->conf, mbedtls_ssl_ticket_write,
                                            mbedtls_ssl_ticket_parse,
                                            &tickets);
#if TLS13
        /* 3.6 has nothing older than TLS 1.2 to offer: its "TLS 1.1"
         * server refuses with an alert as that one does, for want of a
         * common suite */
        if (i == SRV_TLS12 || i == SRV_TLS11)
            mbedtls_ssl_conf_max_tls_version(&s->conf,
                                             MBEDTLS_SSL_VERSION_TLS1_2);
        if (i == SRV_TLS11)
            mbedtls_ssl_conf_ciphersuites(&s->conf, cbc_only);
#else
        if (i == SRV_TLS11)
            mbedtls_ssl_conf_max_version(&s->conf,
                                         MBEDTLS_SSL_MAJOR_VERSION_3,
                                         MBEDTLS_SSL_MINOR_VERSION_2);
#endif
    }
    while (!child_stop) {
        struct pollfd pfd[SRV_COUNT];

        for (i = 0; i < SRV_COUNT; i++) {
            pfd[i].fd = servers[i].lfd;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
        }
        if (poll(pfd, SRV_COUNT, CHILD_POLL_MS) <= 0)
            continue;
        for (i = 0; i < SRV_COUNT; i++) {
            if (pfd[i].revents & POLLIN) {
                int cfd = accept(servers[i].lfd, NULL, NULL);

                if (cfd >= 0)
                    serve(&servers[i], cfd);
            }
        }
    }
    code = 0;
out:
    for (i = 0; i < SRV_COUNT; i++) {
        mbedtls_ssl_config_free(&servers[i].conf);
        mbedtls_x509_crt_free(&servers[i].crt);
        mbedtls_pk_free(&servers[i].key);
        close(servers[i].lfd);
    }
    mbedtls_ssl_ticket_free(&tickets);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    _exit(code);
}

static pid_t start_server(void)
{
    int i;
    pid_t pid;

    for (i = 0; i < SRV_COUNT; i++) {
        struct sockaddr_in a;
        socklen_t alen = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
            listen(fd, LISTEN_BACKLOG) < 0 ||
            getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
            return -1;
        servers[i].lfd = fd;
        servers[i].port = ntohs(a.sin_port);
    }
    fflush(stdout);
    pid = fork();
    if (pid == 0)
        server_main();
    for (i = 0; i < SRV_COUNT; i++)
        close(servers[i].lfd);
    return pid;
}

/* ---- the client side ----------------------------------------------------- */

static int dial(enum srv_kind k)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(servers[k].port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void wait_want(struct tls *t, int fd)
{
    struct pollfd pfd;

    pfd.fd = fd;
    pfd.events = tls_want(t) == TLS_WANT_WRITE ? POLLOUT : POLLIN;
    pfd.revents = 0;
    poll(&pfd, 1, CLIENT_POLL_MS);
}

static enum xmp_err handshake(struct tls *t, int fd, struct xmp_error *err)
{
    int64_t limit = xmp_now_ms() + CLIENT_LIMIT_MS;
    enum xmp_err r;

    while ((r = tls_handshake(t, err)) == XMP_AGAIN) {
        if (xmp_now_ms() > limit)
            return XMP_ETIMEOUT;
        wait_want(t, fd);
    }
    return r;
}

static enum xmp_err send_str(struct tls *t, int fd, const char *s,
                             struct xmp_error *err)
{
    int64_t limit = xmp_now_ms() + CLIENT_LIMIT_MS;
    size_t off = 0, len = strlen(s), n;
    enum xmp_err r;

    while (off < len) {
        r = tls_write(t, s + off, len - off, &n, err);
        if (r == XMP_AGAIN) {
            if (xmp_now_ms() > limit)
                return XMP_ETIMEOUT;
            wait_want(t, fd);
            continue;
        }
        if (r != XMP_OK)
            return r;
        off += n;
    }
    return XMP_OK;
}

/* One read that waits for data; buf is NUL-terminated. */
static enum xmp_err recv_some(struct tls *t, int fd, char *buf, size_t len,
                              size_t *n, struct xmp_error *err)
{
    int64_t limit = xmp_now_ms() + CLIENT_LIMIT_MS;
    enum xmp_err r;

    buf[0] = '\0';
    while ((r = tls_read(t, buf, len - 1, n, err)) == XMP_AGAIN) {
        if (xmp_now_ms() > limit)
            return XMP_ETIMEOUT;
        wait_want(t, fd);
    }
    if (r == XMP_OK)
        buf[*n] = '\0';
    return r;
}

static const unsigned char *next_session; /* for the next attempt */
static size_t next_session_len;

/* Connect to a server kind and try the handshake. */
static enum xmp_err attempt(enum srv_kind k, const char *domain,
                            const char *cafile, int insecure, int alpn,
                            struct tls **out, int *fdp,
                            struct xmp_error *err)
{
    struct tls_params p;
    enum xmp_err r;
    int fd = dial(k);

    *out = NULL;
    *fdp = fd;
    if (fd < 0)
        return xmp_error_set(err, XMP_EUNREACH, "test: cannot dial");
    memset(&p, 0, sizeof p);
    p.domain = domain;
    p.cafile = cafile;
    p.insecure = insecure;
    p.alpn_xmpp = alpn;
    p.session = next_session;
    p.session_len = next_session_len;
    next_session = NULL;
    next_session_len = 0;
    r = tls_new(out, fd, &p, err);
    if (r != XMP_OK)
        return r;
    return handshake(*out, fd, err);
}

static void finish(struct tls *t, int fd)
{
    tls_free(t);
    if (fd >= 0)
        close(fd);
}

static void hex_of(const unsigned char *b, size_t n, char *hex)
{
    size_t i;

    hex[0] = '\0';
    for (i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
}

/* tls-server-end-point (RFC 5929 §4.1): the hash of the server's
 * certificate, whatever the handshake; but a resumed TLS 1.3 session has
 * no certificate to hash. */
static void check_end_point(struct tls *t, const char *what)
{
    struct xmp_error err;
    struct tls_info info;
    unsigned char cb[TLS_CB_MAX];
    char hex[2 * TLS_CB_MAX + 1], want[2 * sizeof good_endp + 1];
    size_t cb_len = 0;
    enum xmp_err r;

    xmp_error_clear(&err);
    tls_get_info(t, &info);
    r = tls_channel_binding(t, "tls-server-end-point", cb, &cb_len, &err);
    if (strcmp(info.version, "TLSv1.3") == 0 && info.resumed) {
        is_int(r, XMP_ETLS, "%s: no tls-server-end-point without a "
               "certificate", what);
        ok(strstr(err.msg, "resumed a TLS 1.3 session") != NULL,
           "%s: the message says why (%s)", what, err.msg);
        return;
    }
    is_int(r, XMP_OK, "%s: tls-server-end-point available", what);
    is_int((int)cb_len, 32, "%s: tls-server-end-point is SHA-256 (32 "
           "bytes)", what);
    hex_of(cb, cb_len, hex);
    hex_of(good_endp, sizeof good_endp, want);
    is_str(hex, want, "%s: tls-server-end-point is the certificate's "
           "SHA-256, as openssl computes it", what);
}

/* Channel binding as the version allows (RFC 9266): tls-unique and
 * tls-exporter on TLS 1.2, tls-exporter alone on TLS 1.3; each the same
 * value the server computes. */
static void check_bindings(struct tls *t, int fd, const char *what)
{
    struct xmp_error err;
    struct tls_info info;
    unsigned char cb[TLS_CB_MAX];
    char hex[2 * TLS_CB_MAX + 1], buf[MSG_MAX] = "";
    size_t cb_len = 0, n;
    enum xmp_err r;

    tls_get_info(t, &info);
    /* the server enables the extended master secret by default */
    is_int(info.ems, 1, "%s: extended master secret (or TLS 1.3)", what);
    if (strcmp(info.version, "TLSv1.3") == 0) {
        is_int(tls_channel_binding(t, "tls-unique", cb, &cb_len, &err),
               XMP_ETLS, "%s: no tls-unique on TLS 1.3", what);
        is_str(err.msg, "tls-unique does not exist in TLS 1.3 (RFC 9266 "
               "§1)", "%s: the message says why", what);
    } else {
        is_int(tls_channel_binding(t, "tls-unique", cb, &cb_len, &err),
               XMP_OK, "%s: tls-unique available", what);
        is_int((int)cb_len, 12, "%s: tls-unique is 12 bytes (TLS 1.2)",
               what);
        hex_of(cb, cb_len, hex);
        r = send_str(t, fd, "unique?", &err);
        if (r == XMP_OK)
            r = recv_some(t, fd, buf, sizeof buf, &n, &err);
        is_str(buf, hex, "%s: the server's tls-unique is ours", what);
    }
    is_int(tls_channel_binding(t, "tls-exporter", cb, &cb_len, &err),
           XMP_OK, "%s: tls-exporter available", what);
    is_int((int)cb_len, 32, "%s: tls-exporter is 32 bytes", what);
    hex_of(cb, cb_len, hex);
    r = send_str(t, fd, "exporter?", &err);
    if (r == XMP_OK)
        r = recv_some(t, fd, buf, sizeof buf, &n, &err);
    if (strcmp(buf, "none") == 0)
        ok(1, "# SKIP %s: the server cannot export keys", what);
    else
        is_str(buf, hex, "%s: the server's tls-exporter is ours", what);
    check_end_point(t, what);
}

static void test_good(void)
{
    struct xmp_error err;
    struct tls_info info;
    struct tls *t;
    char buf[MSG_MAX] = "";
    size_t n = 0, n2 = 0;
    enum xmp_err r;
    int fd;

    xmp_error_clear(&err);
    r = attempt(SRV_GOOD, "example.test", path("ca.crt"), 0, 1, &t, &fd,
                &err);
    is_int(r, XMP_OK, "good: handshake ok");
    if (r != XMP_OK) {
        diag("%s", err.msg);
        finish(t, fd);
        return;
    }
    tls_get_info(t, &info);
    is_str(info.version, GOOD_VERSION, "good: version");
    ok((TLS13 ? strncmp(info.cipher, "TLS1-3-", 7)
              : strncmp(info.cipher, "TLS-ECDHE-", 10)) == 0 &&
       (strstr(info.cipher, "GCM") || strstr(info.cipher, "CHACHA20")),
       "good: ECDHE AEAD cipher (%s)", info.cipher);
    is_str(info.subject, "CN=example.test", "good: subject");
    is_str(info.issuer, "CN=" CA_NAME, "good: issuer");
    ok(strlen(info.not_after) == 23 && info.not_after[4] == '-' &&
       info.not_after[10] == ' ' &&
       strcmp(info.not_after + 19, " UTC") == 0,
       "good: not after '%s'", info.not_after);
    is_int(info.verified, 1, "good: verified");
    is_str(info.verify_msg, "", "good: no verify message");

    r = send_str(t, fd, "alpn?", &err);
    if (r == XMP_OK)
        r = recv_some(t, fd, buf, sizeof buf, &n, &err);
    is_int(r, XMP_OK, "good: alpn round trip");
    is_str(buf, "xmpp-client", "good: ALPN xmpp-client negotiated");

    check_bindings(t, fd, "good");

    r = send_str(t, fd, "hello", &err);
    if (r == XMP_OK)
        r = recv_some(t, fd, buf, sizeof buf, &n, &err);
    is_int(r, XMP_OK, "good: echo round trip");
    is_str(buf, "hello", "good: echo");

    /* bytes left inside the TLS layer are invisible to poll() */
    r = send_str(t, fd, "0123456789", &err);
    if (r == XMP_OK)
        r = recv_some(t, fd, buf, 5, &n, &err);
    is_str(buf, "0123", "good: partial read");
    ok(tls_pending(t), "good: the rest is pending");
    r = tls_read(t, buf, sizeof buf - 1, &n2, &err);
    is_int(r, XMP_OK, "good: pending bytes read without polling");
    buf[r == XMP_OK ? n2 : 0] = '\0';
    is_str(buf, "456789", "good: the rest");
    ok(!tls_pending(t), "good: nothing pending after that");

    r = send_str(t, fd, "quit", &err);
    if (r == XMP_OK)
        r = recv_some(t, fd, buf, sizeof buf, &n, &err);
    is_int(r, XMP_OK, "good: close_notify is a clean close");
    is_int(n, 0, "good: zero bytes at the close");
    r = tls_read(t, buf, sizeof buf, &n, &err);
    ok(r == XMP_OK && n == 0, "good: closed stays closed");
    tls_close_notify(t);
    finish(t, fd);
}

static void test_variants(void)
{
    struct xmp_error err;
    struct tls_info info;
    struct tls *t;
    char buf[MSG_MAX] = "";
    size_t n = 0;
    enum xmp_err r;
    int fd;

    /* a wildcard name, no ALPN offered */
    r = attempt(SRV_GOOD, "muc.example.test", path("ca.crt"), 0, 0, &t, &fd,
                &err);
    is_int(r, XMP_OK, "wildcard: handshake ok");
    if (r == XMP_OK) {
        r = send_str(t, fd, "alpn?", &err);
        if (r == XMP_OK)
            r = recv_some(t, fd, buf, sizeof buf, &n, &err);
        is_str(buf, "none", "no ALPN offered: none negotiated");
        /* an abortive close on the far side: the connection is lost */
        r = send_str(t, fd, "reset", &err);
        if (r == XMP_OK)
            r = recv_some(t, fd, buf, sizeof buf, &n, &err);
        is_int(r, XMP_EUNREACH, "reset: unreachable");
        is_str(err.msg, "connection to muc.example.test lost: connection "
                        "reset by peer", "reset: message");
        r = tls_read(t, buf, sizeof buf, &n, &err);
        is_int(r, XMP_EUNREACH, "reset: the failure sticks");
    } else {
        diag("%s", err.msg);
    }
    finish(t, fd);

    /* the certificate is for another name */
    xmp_error_clear(&err);
    r = attempt(SRV_WRONG, "example.test", path("ca.crt"), 0, 0, &t, &fd,
                &err);
    is_int(r, XMP_ETLS, "name mismatch: tls error");
    is_str(err.msg, "cannot verify certificate for example.test: the "
                    "certificate's name does not match (certificate "
                    "names: wrong.test)", "name mismatch: message");
    r = tls_handshake(t, &err);
    is_int(r, XMP_ETLS, "name mismatch: the failure sticks");
    finish(t, fd);

    /* signed by a CA we do not trust */
    xmp_error_clear(&err);
    r = attempt(SRV_GOOD, "example.test", path("other.crt"), 0, 0, &t, &fd,
                &err);
    is_int(r, XMP_ETLS, "untrusted: tls error");
    is_str(err.msg, "cannot verify certificate for example.test: not "
                    "signed by a trusted CA (issuer: CN=" CA_NAME ")",
           "untrusted: message");
    finish(t, fd);

    /* the same with insecure: connected, but marked unverified */
    r = attempt(SRV_GOOD, "example.test", path("other.crt"), 1, 0, &t, &fd,
                &err);
    is_int(r, XMP_OK, "insecure: handshake ok");
    tls_get_info(t, &info);
    is_int(info.verified, 0, "insecure: not verified");
    is_str(info.verify_msg, "not signed by a trusted CA (issuer: CN=" CA_NAME
                            ")", "insecure: why");
    is_str(info.version, GOOD_VERSION, "insecure: version still known");
    if (r == XMP_OK)
        r = send_str(t, fd, "quit", &err);
    if (r == XMP_OK)
        recv_some(t, fd, buf, sizeof buf, &n, &err);
    finish(t, fd);

    /* insecure also lets a name mismatch through, and says so */
    r = attempt(SRV_WRONG, "example.test", path("ca.crt"), 1, 0, &t, &fd,
                &err);
    is_int(r, XMP_OK, "insecure mismatch: handshake ok");
    tls_get_info(t, &info);
    is_str(info.verify_msg, "the certificate's name does not match "
                            "(certificate names: wrong.test)",
           "insecure mismatch: why");
    finish(t, fd);

    /* expired */
    xmp_error_clear(&err);
    r = attempt(SRV_OLD, "example.test", path("ca.crt"), 0, 0, &t, &fd,
                &err);
    is_int(r, XMP_ETLS, "expired: tls error");
    {
        static const char pre[] = "cannot verify certificate for "
                                  "example.test: the certificate expired on ";
        size_t len = strlen(err.msg);

        /* the date is "YYYY-MM-DD HH:MM:SS UTC", 23 characters */
        ok(strncmp(err.msg, pre, sizeof pre - 1) == 0 &&
           len == sizeof pre - 1 + 23 && strcmp(err.msg + len - 4, " UTC") == 0,
           "expired: message with the date: %s", err.msg);
    }
    finish(t, fd);

    /* the system bundle loads, and does not know our test CA */
    if (access(TLS_SYSTEM_CA_BUNDLE, R_OK) == 0) {
        xmp_error_clear(&err);
        r = attempt(SRV_GOOD, "example.test", NULL, 0, 0, &t, &fd, &err);
        is_int(r, XMP_ETLS, "system bundle: tls error");
        ok(strstr(err.msg, "not signed by a trusted CA") != NULL,
           "system bundle: untrusted: %s", err.msg);
        finish(t, fd);
    } else {
        ok(1, "# SKIP no %s", TLS_SYSTEM_CA_BUNDLE);
        ok(1, "# SKIP no %s", TLS_SYSTEM_CA_BUNDLE);
    }

    /* a server stuck at TLS 1.1 (on 3.6: one without our suites); its
     * alert is read at the BIO, and on 2.28 the version of its record */
    xmp_error_clear(&err);
    r = attempt(SRV_TLS11, "example.test", path("ca.crt"), 0, 0, &t, &fd,
                &err);
    is_int(r, XMP_ETLS, "TLS 1.1 server: refused");
#if TLS13
    is_str(err.msg, "TLS handshake with example.test failed: the server "
           "sent a fatal alert: handshake_failure (40)",
           "TLS 1.1 server: the alert is named");
#else
    is_str(err.msg, "TLS handshake with example.test failed: the server "
           "does not offer TLS 1.2: it answered in TLS 1.1 with a fatal "
           "alert: handshake_failure (40)",
           "TLS 1.1 server: the version and the alert are named");
#endif
    finish(t, fd);
}

/* A server that stops at TLS 1.2: what the client finds out about the
 * handshake from public API alone (extended master secret, tls-unique
 * rebuilt on 3.6). */
static void test_tls12(void)
{
    struct xmp_error err;
    struct tls_info info;
    struct tls *t;
    enum xmp_err r;
    int fd;

    xmp_error_clear(&err);
    r = attempt(SRV_TLS12, "example.test", path("ca.crt"), 0, 0, &t, &fd,
                &err);
    is_int(r, XMP_OK, "tls12: handshake ok");
    if (r != XMP_OK) {
        diag("%s", err.msg);
        finish(t, fd);
        return;
    }
    tls_get_info(t, &info);
    is_str(info.version, "TLSv1.2", "tls12: version");
    ok(strncmp(info.cipher, "TLS-ECDHE-", 10) == 0,
       "tls12: ECDHE cipher (%s)", info.cipher);
    is_int(info.resumed, 0, "tls12: a full handshake");
    check_bindings(t, fd, "tls12");
    finish(t, fd);
}

/* A session saved after a handshake resumes on the next connection:
 * TLS 1.2 by its ticket and session id, TLS 1.3 by the ticket that
 * arrives after the handshake (kept while reading). */
static void test_resume(enum srv_kind k, const char *what)
{
    struct xmp_error err;
    struct tls_info info;
    struct tls *t;
    unsigned char *sess = NULL;
    size_t len = 0, n;
    char buf[MSG_MAX] = "";
    enum xmp_err r;
    int fd;

    xmp_error_clear(&err);
    r = attempt(k, "example.test", path("ca.crt"), 0, 0, &t, &fd, &err);
    if (r == XMP_OK)
        r = send_str(t, fd, "hello", &err);
    if (r == XMP_OK)
        r = recv_some(t, fd, buf, sizeof buf, &n, &err);
    is_str(buf, "hello", "%s: first connection echoes", what);
    is_int(tls_session_save(t, &sess, &len), XMP_OK,
           "%s: a session to keep", what);
    finish(t, fd);
    if (!sess) {
        diag("%s", err.msg);
        return;
    }
    next_session = sess;
    next_session_len = len;
    r = attempt(k, "example.test", path("ca.crt"), 0, 0, &t, &fd, &err);
    is_int(r, XMP_OK, "%s: second handshake ok", what);
    tls_get_info(t, &info);
    is_int(info.resumed, 1, "%s: resumed", what);
    is_int(info.verified, 1, "%s: still verified", what);
    if (r == XMP_OK) {
        r = send_str(t, fd, "again", &err);
        if (r == XMP_OK)
            r = recv_some(t, fd, buf, sizeof buf, &n, &err);
        is_str(buf, "again", "%s: resumed connection echoes", what);
        if (strcmp(info.version, "TLSv1.3") == 0)
            check_bindings(t, fd, what);
        else
            check_end_point(t, what);
    }
    finish(t, fd);
    free(sess);
}

static void test_setup_errors(void)
{
    struct tls_params p;
    struct xmp_error err;
    struct tls *t = NULL;
    char buf[16], want[PATH_LEN + 64];
    size_t n;
    enum xmp_err r;

    memset(&p, 0, sizeof p);
    p.cafile = path("ca.crt");
    xmp_error_clear(&err);
    r = tls_new(&t, 0, &p, &err);
    is_int(r, XMP_ETLS, "no domain: tls error");
    is_str(err.msg, "no domain to verify the server certificate against",
           "no domain: message");
    ok(t == NULL, "no domain: no handle");
    p.domain = "";
    r = tls_new(&t, 0, &p, &err);
    is_int(r, XMP_ETLS, "empty domain: tls error");
    r = tls_new(&t, 0, NULL, &err);
    is_int(r, XMP_ETLS, "no params: tls error");

    p.domain = "example.test";
    p.cafile = path("missing.crt");
    r = tls_new(&t, 0, &p, &err);
    is_int(r, XMP_ETLS, "missing CA file: tls error");
    snprintf(want, sizeof want, "cannot load CA certificates from %s: no "
             "such file or directory", path("missing.crt"));
    is_str(err.msg, want, "missing CA file: message");

    p.cafile = path("junk.pem");
    r = tls_new(&t, 0, &p, &err);
    is_int(r, XMP_ETLS, "junk CA file: tls error");
    snprintf(want, sizeof want, "cannot load CA certificates from %s: ",
             path("junk.pem"));
    ok(strncmp(err.msg, want, strlen(want)) == 0,
       "junk CA file: message: %s", err.msg);

    /* before the handshake, reads and writes are misuse */
    p.cafile = path("ca.crt");
    r = tls_new(&t, 0, &p, &err);
    is_int(r, XMP_OK, "tls_new on a descriptor: ok");
    if (r == XMP_OK) {
        r = tls_read(t, buf, sizeof buf, &n, &err);
        is_int(r, XMP_EUSAGE, "read before the handshake: usage");
        r = tls_write(t, "x", 1, &n, &err);
        is_int(r, XMP_EUSAGE, "write before the handshake: usage");
        ok(!tls_pending(t), "nothing pending before the handshake");
        is_int(tls_want(t), TLS_WANT_NOTHING, "nothing wanted yet");
    }
    tls_free(t);
    tls_free(NULL);
}

/* --pin syntax: "sha256//" and 44 base64 characters, ';' between pins */
static void test_pins(void)
{
    static const struct {
        const char *pins;
        enum xmp_err want;
    } cases[] = {
        {"sha256//wkn3qRas+zhr+QpiwYeEoRYp3qWf3+XOY5lZJdnEAII=", XMP_OK},
        {"sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;"
         "sha256//wkn3qRas+zhr+QpiwYeEoRYp3qWf3+XOY5lZJdnEAII=", XMP_OK},
        {"", XMP_EUSAGE},
        {"sha256//", XMP_EUSAGE},
        {"sha256//short", XMP_EUSAGE},
        {"sha1//wkn3qRas+zhr+QpiwYeEoRYp3qWf3+XOY5lZJdnEAII=", XMP_EUSAGE},
        {"wkn3qRas+zhr+QpiwYeEoRYp3qWf3+XOY5lZJdnEAII=", XMP_EUSAGE},
        /* 44 characters, but not base64 */
        {"sha256//wkn3qRas+zhr+QpiwYeEoRYp3qWf3+XOY5lZJdnEAI!=", XMP_EUSAGE},
        {"sha256//wkn3qRas+zhr+QpiwYeEoRYp3qWf3+XOY5lZJdnEAII=;", XMP_EUSAGE},
        {"sha256//wkn3qRas+zhr+QpiwYeEoRYp3qWf3+XOY5lZJdnEAII= ", XMP_EUSAGE},
    };
    struct xmp_error err;
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xmp_error_clear(&err);
        is_int(tls_pins_check(cases[i].pins, &err), cases[i].want,
               "pins '%s'", cases[i].pins);
    }
    tls_pins_check("sha256//short", &err);
    is_str(err.msg, "invalid pin 'sha256//short': expected sha256// and the "
           "base64 of a SHA-256 digest (44 characters)",
           "a bad pin is named in the message");
}

/* The primitives of message-layer encryption against known answers
 * (RFC 5869 test case 1, FIPS 180-2 "abc", the GCM paper's test case 2)
 * and against each other. */
static int unhex(const char *h, unsigned char *out)
{
    int n = 0;

    for (; h[0] && h[1]; h += 2, n++) {
        unsigned v = 0;
        for (int i = 0; i < 2; i++)
            v = v * 16 + (unsigned)(h[i] <= '9' ? h[i] - '0' : h[i] - 'a' + 10);
        out[n] = (unsigned char)v;
    }
    return n;
}

static void test_primitives(void)
{
    unsigned char ikm[22], salt[13], info[10], okm[42], want[64];
    unsigned char d[64], d2[64], key[16] = { 0 }, iv[16] = { 0 };
    unsigned char pt[16] = { 0 }, ct[32], tag[16], back[32];
    unsigned char r1[32], r2[32];
    struct tls_md *m;
    struct tls_rng *rng;
    size_t n = 0;

    memset(ikm, 0x0b, sizeof ikm);
    for (int i = 0; i < 13; i++)
        salt[i] = (unsigned char)i;
    for (int i = 0; i < 10; i++)
        info[i] = (unsigned char)(0xf0 + i);
    unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
          "34007208d5b887185865", want);
    ok(tls_hkdf_sha256(salt, 13, ikm, 22, info, 10, okm, 42) == 0 &&
           memcmp(okm, want, 42) == 0,
       "HKDF-SHA-256: RFC 5869 test case 1");

    unhex("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
          "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
          want);
    m = tls_md_new(TLS_MD_SHA512, NULL, 0);
    ok(m && tls_md_update(m, "ab", 2) == 0 && tls_md_update(m, "c", 1) == 0 &&
           tls_md_final(m, d) == 64 && memcmp(d, want, 64) == 0,
       "SHA-512 step by step: abc");
    ok(m && tls_md_update(m, "abc", 3) == 0 && tls_md_final(m, d) == 64 &&
           memcmp(d, want, 64) == 0,
       "SHA-512: final starts the context again");
    tls_md_free(m);
    m = tls_md_new(TLS_MD_HMAC_SHA256, "key", 3);
    ok(m && tls_md_update(m, "hello ", 6) == 0 &&
           tls_md_update(m, "world", 5) == 0 && tls_md_final(m, d) == 32 &&
           tls_hmac_sha256("key", 3, "hello world", 11, d2) == 32 &&
           memcmp(d, d2, 32) == 0,
       "HMAC-SHA-256 step by step is the one-shot one");
    ok(m && tls_md_update(m, "hello world", 11) == 0 &&
           tls_md_final(m, d) == 32 && memcmp(d, d2, 32) == 0,
       "HMAC-SHA-256: final starts again under the same key");
    tls_md_free(m);

    unhex("0388dace60b6a392f328c2b971b2fe78", want);
    unhex("ab6e47d42cec13bdf53a67b21257bddf", want + 16);
    ok(tls_aes_gcm_seal(key, 16, iv, 12, pt, 16, ct, tag) == 0 &&
           memcmp(ct, want, 16) == 0 && memcmp(tag, want + 16, 16) == 0,
       "AES-128-GCM: test case 2");
    ok(tls_aes_gcm_open(key, 16, iv, 12, ct, 16, tag, back) == 0 &&
           memcmp(back, pt, 16) == 0,
       "AES-128-GCM opens what it sealed");
    tag[15] ^= 1;
    ok(tls_aes_gcm_open(key, 16, iv, 12, ct, 16, tag, back) != 0,
       "AES-128-GCM: a flipped tag bit is refused");

    ok(tls_aes_cbc(1, key, 16, iv, "0123456789", 10, ct, &n) == 0 && n == 16 &&
           tls_aes_cbc(0, key, 16, iv, ct, 16, back, &n) == 0 && n == 10 &&
           memcmp(back, "0123456789", 10) == 0,
       "AES-CBC with PKCS#7 padding: there and back");
    key[0] ^= 1;
    ok(tls_aes_cbc(0, key, 16, iv, ct, 16, back, &n) != 0 || n != 10 ||
           memcmp(back, "0123456789", 10) != 0,
       "AES-CBC: another key does not give the text back");
    ok(tls_aes_cbc(1, key, 15, iv, "x", 1, ct, &n) != 0,
       "AES-CBC: a 15-byte key is refused");
    ok(tls_aes_ctr(key, 32 - 16, iv, "counter mode", 12, ct) == 0 &&
           tls_aes_ctr(key, 16, iv, ct, 12, back) == 0 &&
           memcmp(back, "counter mode", 12) == 0,
       "AES-CTR: there and back");

    rng = tls_rng_new();
    ok(rng && tls_rng_bytes(rng, r1, 32) == 0 &&
           tls_rng_bytes(rng, r2, 32) == 0 && memcmp(r1, r2, 32) != 0,
       "random generator: two draws differ");
    tls_rng_free(rng);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    const char *const probe[] = { "openssl", "version", NULL };
    int status = 0;
    pid_t pid;

    snprintf(dir, sizeof dir, "%s/xmpctl-tls-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (run(probe) != 0) {
        printf("1..0 # SKIP the openssl command is not available\n");
        return 0;
    }
    if (!mkdtemp(dir)) {
        printf("Bail out! cannot make a temporary directory: %s\n",
               strerror(errno));
        return 1;
    }
    if (make_certs() != 0) {
        remove_certs();
        printf("Bail out! openssl could not make the test certificates\n");
        return 1;
    }
    test_pins();
    test_primitives();
    pid = start_server();
    ok(pid > 0, "TLS server started");
    if (pid > 0) {
        test_good();
        test_variants();
        test_tls12();
        test_resume(SRV_GOOD, "resume " GOOD_VERSION);
        test_resume(SRV_TLS12, "resume TLSv1.2");
        test_setup_errors();
        kill(pid, SIGTERM);
        waitpid(pid, &status, 0);
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "TLS server stopped cleanly");
    }
    remove_certs();
    return tap_done();
}
