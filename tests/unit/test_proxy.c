/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_proxy.c - proxies (lib/proxy.c): URLs, the SOCKS5 and HTTP answer
 * parsers on byte vectors, and the handshakes over a socket pair whose
 * other end plays the proxy byte for byte (RFC 1928, RFC 1929, HTTP
 * CONNECT with Basic credentials). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy.h"
#include "tap.h"

static void test_urls(void)
{
    struct net_proxy p;
    struct xmp_error e;

    is_int(net_proxy_parse("socks5h://127.0.0.1:9050", &p, &e), XMP_OK,
           "socks5h with a port");
    is_int(p.kind, NET_PROXY_SOCKS5H, "... kind");
    is_str(p.host, "127.0.0.1", "... host");
    is_int(p.port, 9050, "... port");
    is_int(p.auth, 0, "... no credentials");

    is_int(net_proxy_parse("socks5://proxy.example/", &p, &e), XMP_OK,
           "socks5 without a port, a trailing slash");
    is_int(p.kind, NET_PROXY_SOCKS5, "... kind");
    is_int(p.port, 1080, "... port 1080 by default");

    is_int(net_proxy_parse("HTTP://[::1]:3128", &p, &e), XMP_OK,
           "http, IPv6 in brackets, scheme in capitals");
    is_int(p.kind, NET_PROXY_HTTP, "... kind");
    is_str(p.host, "::1", "... host");
    is_int(p.port, 3128, "... port");
    is_int(net_proxy_parse("http://[::1]", &p, &e), XMP_OK, "[::1] alone");
    is_int(p.port, 1080, "... port 1080 by default");

    is_int(net_proxy_parse("socks5h://us%40er:p%3Ass@w@h:1", &p, &e), XMP_OK,
           "credentials, escaped and not, the last @ ends them");
    is_int(p.auth, 1, "... auth");
    is_str(p.user, "us@er", "... user decoded");
    is_str(p.pass, "p:ss@w", "... password decoded");
    is_str(p.host, "h", "... host");

    is_int(net_proxy_parse("socks4://h:1", &p, &e), XMP_EUSAGE,
           "socks4 refused");
    is_int(net_proxy_parse("h:1080", &p, &e), XMP_EUSAGE, "no scheme refused");
    is_int(net_proxy_parse("socks5h://", &p, &e), XMP_EUSAGE, "no host");
    is_int(net_proxy_parse("socks5h://h:99999", &p, &e), XMP_EUSAGE,
           "bad port");
    is_int(net_proxy_parse("socks5h://h:1/path", &p, &e), XMP_EUSAGE,
           "a path");
    is_int(net_proxy_parse("socks5h://u:%zz@h", &p, &e), XMP_EUSAGE,
           "a bad escape");
    ok(!strstr(e.msg, "%zz"), "... the password is not quoted: %s", e.msg);
    is_int(net_proxy_parse("socks5h://u:%00@h", &p, &e), XMP_EUSAGE,
           "an escaped NUL");

    ok(net_is_onion("abc.onion") && net_is_onion("x.ABC.Onion.") &&
           !net_is_onion("onion") && !net_is_onion("example.org"),
       ".onion names");
    net_proxy_parse("socks5://h", &p, &e);
    ok(!net_proxy_by_name(&p, "example.org") &&
           net_proxy_by_name(&p, "x.onion"),
       "socks5: addresses, but .onion by name");
    net_proxy_parse("http://h", &p, &e);
    ok(net_proxy_by_name(&p, "example.org"), "http: names");
}

static void test_parsers(void)
{
    static const unsigned char v4[] = {5, 0, 0, 1, 127, 0, 0, 1, 0x14, 0x66};
    static const unsigned char v6[] = {5, 0, 0, 4, 0};
    static const unsigned char name[] = {5, 0, 0, 3, 9};
    static const unsigned char badver[] = {4, 0, 0, 1, 0};
    static const unsigned char badtype[] = {5, 0, 0, 2, 0};
    const char *h200 = "HTTP/1.1 200 Connection established\r\n"
                       "Proxy-agent: x\r\n\r\nEXTRA";
    const char *h403 = "HTTP/1.0 403 Access\x1b[1mdenied\r\n\r\n";
    const char *hnone = "HTTP/1.1 407\r\n\r\n";
    char reason[64];
    size_t len = 0;
    int status = 0;

    is_int(proxy_socks5_reply_len(v4, 4), 0, "SOCKS5: 4 bytes: not known");
    is_int(proxy_socks5_reply_len(v4, sizeof v4), 10, "IPv4 reply: 10");
    is_int(proxy_socks5_reply_len(v6, 5), 22, "IPv6 reply: 22");
    is_int(proxy_socks5_reply_len(name, 5), 4 + 1 + 9 + 2, "name reply");
    is_int(proxy_socks5_reply_len(badver, 5), -1, "version 4: malformed");
    is_int(proxy_socks5_reply_len(badtype, 5), -1, "type 2: malformed");
    is_str(proxy_socks5_reply_text(5), "connection refused", "reply 5");
    is_str(proxy_socks5_reply_text(200), "unknown error", "reply 200");

    is_int(proxy_http_head((const unsigned char *)h200, 20, &status, reason,
                           sizeof reason, &len),
           0, "HTTP: a head cut short needs more");
    is_int(proxy_http_head((const unsigned char *)h200, strlen(h200),
                           &status, reason, sizeof reason, &len),
           1, "HTTP 200: complete");
    is_int(status, 200, "... status");
    is_str(reason, "Connection established", "... reason");
    is_int((int)len, (int)(strlen(h200) - 5), "... the head, not past it");
    is_int(proxy_http_head((const unsigned char *)h403, strlen(h403),
                           &status, reason, sizeof reason, &len),
           1, "HTTP 403");
    is_int(status, 403, "... status");
    is_str(reason, "Access?[1mdenied", "... control bytes replaced");
    is_int(proxy_http_head((const unsigned char *)hnone, strlen(hnone),
                           &status, reason, sizeof reason, &len),
           1, "HTTP 407 without a reason");
    is_str(reason, "", "... empty reason");
    is_int(proxy_http_head((const unsigned char *)"SSH-2.0-x\r\n\r\n", 13,
                           &status, reason, sizeof reason, &len),
           -1, "not HTTP");
}

/* Read exactly n bytes from fd into b (the proxy's side, blocking). */
static int get(int fd, unsigned char *b, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);

        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Write n bytes to fd (the proxy's side); a short write fails a test. */
static void put(int fd, const void *b, size_t n)
{
    if (write(fd, b, n) != (ssize_t)n)
        ok(0, "write to the socket pair");
}

/* Step the handshake until it needs the peer or ends. */
static enum xmp_err run(struct proxy_hs *h, int fd, struct xmp_error *e)
{
    return proxy_hs_step(h, fd, e);
}

static void test_socks(void)
{
    static const unsigned char greet_auth[] = {5, 2, 0, 2};
    static const unsigned char greet[] = {5, 1, 0};
    static const unsigned char connect_name[] = {
        5, 1, 0, 3, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0x14, 0x66};
    static const unsigned char connect_v4[] = {5, 1, 0, 1, 192, 0, 2, 1,
                                               0x14, 0x66};
    static const unsigned char ok_reply[] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    static const unsigned char refused[] = {5, 5, 0, 1, 0, 0, 0, 0, 0, 0};
    struct net_proxy p;
    struct proxy_hs h;
    struct xmp_error e;
    struct net_addr a;
    struct sockaddr_in *sin = (struct sockaddr_in *)&a.ss;
    unsigned char b[64];
    int sv[2];

    /* by name, with credentials */
    net_proxy_parse("socks5h://bob:pw@127.0.0.1:1080", &p, &e);
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    is_int(proxy_hs_begin(&h, &p, "localhost", NULL, 5222, &e), XMP_OK,
           "begin by name");
    is_int(run(&h, sv[0], &e), XMP_AGAIN, "greeting sent");
    ok(get(sv[1], b, 4) == 0 && !memcmp(b, greet_auth, 4),
       "greeting offers no auth and user/password");
    put(sv[1], "\x05\x02", 2);
    is_int(run(&h, sv[0], &e), XMP_AGAIN, "user/password chosen");
    ok(get(sv[1], b, 8) == 0 && !memcmp(b, "\x01\x03" "bob" "\x02" "pw", 8),
       "RFC 1929 request");
    put(sv[1], "\x01\x00", 2);
    is_int(run(&h, sv[0], &e), XMP_AGAIN, "accepted");
    ok(get(sv[1], b, sizeof connect_name) == 0 &&
           !memcmp(b, connect_name, sizeof connect_name),
       "CONNECT with the name (ATYP 3)");
    put(sv[1], ok_reply, 5);
    is_int(run(&h, sv[0], &e), XMP_AGAIN, "half a reply: more");
    put(sv[1], ok_reply + 5, sizeof ok_reply - 5);
    put(sv[1], "<stream", 7);
    is_int(run(&h, sv[0], &e), XMP_OK, "tunnel open");
    ok(read(sv[0], b, sizeof b) == 7, "not a byte past the reply read");
    close(sv[0]);
    close(sv[1]);

    /* by address, refused */
    net_proxy_parse("socks5://127.0.0.1:1080", &p, &e);
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    memset(&a, 0, sizeof a);
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);
    a.len = sizeof *sin;
    proxy_hs_begin(&h, &p, "xmpp.example", &a, 5222, &e);
    run(&h, sv[0], &e);
    ok(get(sv[1], b, 3) == 0 && !memcmp(b, greet, 3), "greeting: no auth");
    put(sv[1], "\x05\x00", 2);
    run(&h, sv[0], &e);
    ok(get(sv[1], b, sizeof connect_v4) == 0 &&
           !memcmp(b, connect_v4, sizeof connect_v4),
       "CONNECT with the address (ATYP 1)");
    put(sv[1], refused, sizeof refused);
    is_int(run(&h, sv[0], &e), XMP_EUNREACH, "refused");
    is_str(e.msg,
           "proxy 127.0.0.1 port 1080 refused to connect to xmpp.example "
           "port 5222: connection refused (SOCKS reply 5)",
           "... named");
    close(sv[0]);
    close(sv[1]);

    /* credentials wanted, none given; credentials rejected */
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    proxy_hs_begin(&h, &p, "x", NULL, 1, &e);
    run(&h, sv[0], &e);
    get(sv[1], b, 3);
    put(sv[1], "\x05\xff", 2);
    is_int(run(&h, sv[0], &e), XMP_EUNREACH, "no acceptable method");
    is_str(e.msg, "proxy 127.0.0.1 port 1080 requires a user name and "
                  "password", "... said so");
    close(sv[0]);
    close(sv[1]);
    net_proxy_parse("socks5://u:wrong@127.0.0.1", &p, &e);
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    proxy_hs_begin(&h, &p, "x", NULL, 1, &e);
    run(&h, sv[0], &e);
    get(sv[1], b, 4);
    put(sv[1], "\x05\x02", 2);
    run(&h, sv[0], &e);
    get(sv[1], b, 9);
    put(sv[1], "\x01\x01", 2);
    is_int(run(&h, sv[0], &e), XMP_EUNREACH, "credentials rejected");
    is_str(e.msg, "proxy 127.0.0.1 port 1080 rejected the user name and "
                  "password", "... said so");
    close(sv[0]);
    /* the proxy gone */
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    proxy_hs_begin(&h, &p, "x", NULL, 1, &e);
    run(&h, sv[0], &e);
    get(sv[1], b, 4);
    close(sv[1]);
    is_int(run(&h, sv[0], &e), XMP_EUNREACH, "proxy closed");
    is_str(e.msg, "proxy 127.0.0.1 port 1080 closed the connection",
           "... said so");
    close(sv[0]);
}

static void test_http(void)
{
    static const char want[] = "CONNECT localhost:5222 HTTP/1.1\r\n"
                               "Host: localhost:5222\r\n"
                               "Proxy-Authorization: Basic Ym9iOnB3\r\n\r\n";
    static const char want6[] = "CONNECT [::1]:5223 HTTP/1.1\r\n"
                                "Host: [::1]:5223\r\n\r\n";
    static const char yes[] = "HTTP/1.1 200 OK\r\n\r\n";
    static const char no[] = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                             "Content-Length: 0\r\n\r\n";
    struct net_proxy p;
    struct proxy_hs h;
    struct xmp_error e;
    unsigned char b[256];
    int sv[2];

    net_proxy_parse("http://bob:pw@proxy.example:3128", &p, &e);
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    proxy_hs_begin(&h, &p, "localhost", NULL, 5222, &e);
    is_int(run(&h, sv[0], &e), XMP_AGAIN, "CONNECT sent");
    ok(get(sv[1], b, strlen(want)) == 0 && !memcmp(b, want, strlen(want)),
       "CONNECT request with Basic credentials");
    put(sv[1], yes, 10);
    is_int(run(&h, sv[0], &e), XMP_AGAIN, "a head cut short: more");
    put(sv[1], yes + 10, strlen(yes) - 10);
    put(sv[1], "\x16\x03", 2);
    is_int(run(&h, sv[0], &e), XMP_OK, "200: tunnel open");
    ok(read(sv[0], b, sizeof b) == 2, "not a byte past the head read");
    close(sv[0]);
    close(sv[1]);

    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    proxy_hs_begin(&h, &p, "::1", NULL, 5223, &e);
    run(&h, sv[0], &e);
    put(sv[1], no, strlen(no));
    is_int(run(&h, sv[0], &e), XMP_EUNREACH, "407");
    is_str(e.msg, "proxy proxy.example port 3128 rejected the user name and "
                  "password (HTTP 407 Proxy Authentication Required)",
           "... said so");
    close(sv[0]);
    close(sv[1]);

    net_proxy_parse("http://proxy.example:3128", &p, &e);
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    proxy_hs_begin(&h, &p, "::1", NULL, 5223, &e);
    run(&h, sv[0], &e);
    ok(get(sv[1], b, strlen(want6)) == 0 && !memcmp(b, want6, strlen(want6)),
       "CONNECT to an IPv6 address: in brackets, no credentials");
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    test_urls();
    test_parsers();
    test_socks();
    test_http();
    return tap_done();
}
