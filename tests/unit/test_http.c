/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_http.c - the upload client's pure parts (lib/http.c): the PUT URL,
 * the headers a slot may set, and the response head on byte vectors;
 * then one PUT over a socket pair whose other end plays the server
 * (http:// allowed), to see the request bytes and the verdicts. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "tap.h"

static int parse(const char *s, struct http_response *r)
{
    memset(r, 0, sizeof *r);
    return http_response_parse(s, strlen(s), r);
}

static void test_response(void)
{
    struct http_response r;
    static const char chunked[] =
        "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: text/plain\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    static const char cont[] =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
    char *big;
    size_t i;

    is_int(parse("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", &r), 1,
           "201 with headers");
    is_int(r.status, 201, "... status");
    is_str(r.reason, "Created", "... reason");
    is_int(r.headlen, 43, "... head length");

    is_int(parse(chunked, &r), 1, "201 with a chunked body");
    is_int(r.status, 201, "... status");
    is_int(r.headlen, strlen(chunked) - strlen("5\r\nhello\r\n0\r\n\r\n"),
           "... the body is not part of the head");

    is_int(parse("HTTP/1.1 302 Found\r\nLocation: https://else/\r\n\r\n", &r),
           1, "302");
    is_int(r.status, 302, "... status");
    is_int(parse("HTTP/1.0 500 Internal Server Error\n\n", &r), 1,
           "500, HTTP/1.0, bare LF line ends");
    is_int(r.status, 500, "... status");
    is_str(r.reason, "Internal Server Error", "... reason");
    is_int(parse("HTTP/1.1 413\r\n\r\n", &r), 1, "no reason phrase");
    is_int(r.status, 413, "... status");
    is_str(r.reason, "", "... empty reason");
    is_int(parse("HTTP/1.1 200 O\x1bK\r\n\r\n", &r), 1,
           "a control character in the reason");
    is_str(r.reason, "OK", "... is dropped");

    is_int(parse(cont, &r), 1, "100 Continue, then 200");
    is_int(r.status, 200, "... the final status");
    is_int(r.headlen, strlen(cont), "... both heads");
    is_int(parse("HTTP/1.1 100 Continue\r\n\r\n", &r), 0,
           "100 alone: more is needed");

    is_int(parse("", &r), 0, "nothing yet");
    is_int(parse("HTTP/1.1 201 Cre", &r), 0, "half a status line");
    is_int(parse("HTTP/1.1 201 Created\r\nServer: x\r\n", &r), 0,
           "no blank line yet");
    is_int(parse("SSH-2.0-OpenSSH\r\n", &r), -1, "not HTTP");
    is_int(parse("<?xml ", &r), -1, "not HTTP, before a line ends");
    is_int(parse("HTTP/2 200\r\n\r\n", &r), -1, "HTTP/2 status line");
    is_int(parse("HTTP/1.1 20 OK\r\n\r\n", &r), -1, "two-digit status");
    is_int(parse("HTTP/1.1 700 What\r\n\r\n", &r), -1, "status 700");
    is_int(parse("HTTP/1.1 2000 OK\r\n\r\n", &r), -1, "four-digit status");

    /* a head that never ends: the parser wants more, the client stops
     * at HTTP_HEAD_MAX */
    big = malloc(HTTP_HEAD_MAX);
    memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
    for (i = 17; i < HTTP_HEAD_MAX; i++)
        big[i] = (i % 64 == 63) ? '\n' : 'x';
    memset(&r, 0, sizeof r);
    is_int(http_response_parse(big, HTTP_HEAD_MAX, &r), 0,
           "16 KiB of headers without an end: still incomplete");
    free(big);
}

static void test_urls(void)
{
    struct http_url u;
    struct xmp_error e;

    is_int(http_url_parse("https://upload.example.test:5281/file_share/"
                          "ab/f%20x.txt?v=1#frag", &u, &e), XMP_OK,
           "https URL with port, query and fragment");
    is_int(u.https, 1, "... https");
    is_str(u.host, "upload.example.test", "... host");
    is_int(u.port, 5281, "... port");
    is_str(u.path, "/file_share/ab/f%20x.txt?v=1", "... path without fragment");
    http_url_clear(&u);

    is_int(http_url_parse("HTTP://[::1]/a b\xc3\xa9", &u, &e), XMP_OK,
           "http, IPv6, space and UTF-8 in the path");
    is_int(u.https, 0, "... http");
    is_int(u.ipv6, 1, "... ipv6");
    is_str(u.host, "::1", "... host");
    is_int(u.port, 80, "... port 80");
    is_str(u.path, "/a%20b%C3%A9", "... encoded");
    http_url_clear(&u);

    is_int(http_url_parse("https://h", &u, &e), XMP_OK, "no path");
    is_str(u.path, "/", "... is /");
    is_int(u.port, 443, "... port 443");
    http_url_clear(&u);

    is_int(http_url_parse("ftp://h/x", &u, &e), XMP_EDATA, "ftp refused");
    is_int(http_url_parse("https://u:p@h/x", &u, &e), XMP_EDATA,
           "user information refused");
    is_int(http_url_parse("https://h:0/x", &u, &e), XMP_EDATA, "port 0");
    is_int(http_url_parse("https://h:99999/x", &u, &e), XMP_EDATA,
           "port too big");
    is_int(http_url_parse("https:///x", &u, &e), XMP_EDATA, "no host");
    is_int(http_url_parse("https://h/x\r\nHost: evil", &u, &e), XMP_EDATA,
           "CR LF in the path refused");
    is_int(http_url_parse("https://[::1/x", &u, &e), XMP_EDATA,
           "unclosed bracket");
}

static void test_headers(void)
{
    ok(http_header_allowed("Authorization"), "Authorization allowed");
    ok(http_header_allowed("cookie"), "cookie (any case) allowed");
    ok(http_header_allowed("EXPIRES"), "EXPIRES allowed");
    ok(!http_header_allowed("Host"), "Host not allowed");
    ok(!http_header_allowed("Transfer-Encoding"),
       "Transfer-Encoding not allowed");
}

/* ---- one PUT against a server played here --------------------------------- */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct put {
    char req[8192];      /* what the server got (head and body) */
    size_t reqlen;
    enum xmp_err rc;
    char msg[XMP_ERRMSG_MAX];
};

/* PUT body (len bytes, from a pipe-free temporary file) to a listener on
 * 127.0.0.1 that answers answer once the whole request is in (or at
 * once, when early). */
static void run_put(const char *body, const struct xmp_http_header *hd,
                    size_t nhd, const char *answer, int early,
                    struct put *out)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    struct xmp_http_opts o;
    struct xmp_http *h;
    struct xmp_error e;
    char url[64], tmpl[] = "/tmp/test_http.XXXXXX";
    int ls, cs = -1, fd, answered = 0;
    size_t blen = strlen(body), headlen = 0;
    ssize_t n;

    memset(out, 0, sizeof *out);
    fd = mkstemp(tmpl);
    unlink(tmpl);
    if (fd < 0 || write(fd, body, blen) != (ssize_t)blen ||
        lseek(fd, 0, SEEK_SET) != 0) {
        out->rc = XMP_EIO;
        return;
    }
    ls = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(ls, (struct sockaddr *)&a, sizeof a);
    listen(ls, 1);
    getsockname(ls, (struct sockaddr *)&a, &alen);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/up/f.txt",
             (unsigned)ntohs(a.sin_port));
    memset(&o, 0, sizeof o);
    o.url = url;
    o.headers = hd;
    o.nheaders = nhd;
    o.file = fd;
    o.size = blen;
    o.content_type = "text/plain";
    o.allow_http = 1;
    o.timeout_ms = 5000;
    if (!(h = xmp_http_new(&o, &e))) {
        out->rc = e.code;
        snprintf(out->msg, sizeof out->msg, "%s", e.msg);
        goto done;
    }
    for (;;) {
        struct pollfd p[2];
        int np = 1;

        out->rc = xmp_http_step(h);
        if (out->rc != XMP_AGAIN)
            break;
        p[0].fd = xmp_http_fd(h);
        p[0].events = xmp_http_events(h);
        p[1].fd = cs >= 0 ? cs : ls;
        p[1].events = POLLIN;
        np = 2;
        if (poll(p, (nfds_t)np, 1000) <= 0)
            continue;
        if (cs < 0 && (p[1].revents & POLLIN)) {
            cs = accept(ls, NULL, NULL);
            continue;
        }
        if (cs >= 0 && (p[1].revents & POLLIN) && !answered) {
            n = read(cs, out->req + out->reqlen,
                     sizeof out->req - 1 - out->reqlen);
            if (n > 0)
                out->reqlen += (size_t)n;
            out->req[out->reqlen] = '\0';
            if (!headlen && strstr(out->req, "\r\n\r\n"))
                headlen = (size_t)(strstr(out->req, "\r\n\r\n") -
                                   out->req) + 4;
            if (early || (headlen && out->reqlen >= headlen + blen)) {
                answered = 1;
                (void)!write(cs, answer, strlen(answer));
                if (early)
                    shutdown(cs, SHUT_RDWR);
            }
        }
    }
    snprintf(out->msg, sizeof out->msg, "%s", xmp_http_error(h)->msg);
    xmp_http_free(h);
done:
    if (cs >= 0)
        close(cs);
    close(ls);
    close(fd);
}

static void test_put(void)
{
    static const struct xmp_http_header hd[] = {
        {"Authorization", "Basic dTpw"},
        {"X-Other", "dropped"},
        {"cookie", "a=b"},
        {"Host", "evil.example"},
    };
    static const struct xmp_http_header crlf[] = {
        {"Expires", "never\r\nX-Injected: 1"},
    };
    struct put p;

    run_put("hello, world", hd, 4,
            "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 0, &p);
    is_int(p.rc, XMP_OK, "201: uploaded");
    ok(strstr(p.req, "PUT /up/f.txt HTTP/1.1\r\n") == p.req,
       "the request line");
    ok(strstr(p.req, "\r\nContent-Length: 12\r\n") != NULL,
       "Content-Length");
    ok(strstr(p.req, "\r\nContent-Type: text/plain\r\n") != NULL,
       "Content-Type");
    ok(strstr(p.req, "\r\nAuthorization: Basic dTpw\r\n") != NULL,
       "the slot's Authorization is sent");
    ok(strstr(p.req, "\r\ncookie: a=b\r\n") != NULL,
       "... and its Cookie");
    ok(strstr(p.req, "X-Other") == NULL, "another header is not");
    ok(strstr(p.req, "evil.example") == NULL, "nor a Host of the slot's");
    ok(p.reqlen >= 12 &&
       memcmp(p.req + p.reqlen - 12, "hello, world", 12) == 0,
       "the body follows the head");

    run_put("x", NULL, 0, "HTTP/1.1 302 Found\r\nLocation: /else\r\n\r\n",
            0, &p);
    is_int(p.rc, XMP_EREMOTE, "302: refused");
    ok(strstr(p.msg, "redirect refused") != NULL, "... says so: %s", p.msg);

    run_put("x", NULL, 0, "HTTP/1.1 500 Internal Server Error\r\n\r\n", 0,
            &p);
    is_int(p.rc, XMP_EREMOTE, "500: an error");
    ok(strstr(p.msg, "HTTP 500 Internal Server Error") != NULL,
       "... naming the status: %s", p.msg);

    run_put("x", NULL, 0, "HTTP/1.1 201 Created\r\nTransfer-Encoding: "
            "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 0, &p);
    is_int(p.rc, XMP_OK, "201 with a chunked body: uploaded");

    run_put("x", NULL, 0, "I am not a web server\r\n\r\n", 0, &p);
    is_int(p.rc, XMP_EPROTO, "not HTTP: a protocol error");

    {
        static char longhead[HTTP_HEAD_MAX + 64];
        size_t i;

        snprintf(longhead, sizeof longhead, "HTTP/1.1 201 Created\r\n");
        for (i = strlen(longhead); i < sizeof longhead - 1; i++)
            longhead[i] = (i % 64 == 62) ? '\r' : (i % 64 == 63) ? '\n' : 'x';
        longhead[sizeof longhead - 1] = '\0';
        run_put("x", NULL, 0, longhead, 0, &p);
        is_int(p.rc, XMP_EPROTO, "an answer head past 16 KiB: refused");
        ok(strstr(p.msg, "HTTP_HEAD_MAX") != NULL, "... says so: %s", p.msg);
    }

    run_put("x", crlf, 1, "HTTP/1.1 201 Created\r\n\r\n", 0, &p);
    is_int(p.rc, XMP_EPROTO, "a header value with CR LF: refused");
    is_int(p.reqlen, 0, "... before anything is sent");
}

/* Plain http:// only when allowed: refused before any connection. */
static void test_plain_refused(void)
{
    struct xmp_http_opts o;
    struct xmp_error e;
    struct xmp_http *h;

    memset(&o, 0, sizeof o);
    o.url = "http://127.0.0.1:1/up/f.txt";
    o.file = 0;
    o.size = 1;
    h = xmp_http_new(&o, &e);
    ok(h == NULL, "http:// without allow_http: refused");
    is_int(e.code, XMP_ETLS, "... as a TLS failure");
    ok(strstr(e.msg, "--allow-http-upload") != NULL, "... naming the way "
       "out: %s", e.msg);
    xmp_http_free(h);
    o.url = "https://u:p@127.0.0.1/x";
    h = xmp_http_new(&o, &e);
    ok(h == NULL && e.code == XMP_EPROTO,
       "a PUT URL with user information: the service's error");
    xmp_http_free(h);
}

int main(void)
{
    test_response();
    test_urls();
    test_headers();
    test_put();
    test_plain_refused();
    return tap_done();
}
