/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_peer.c - the local link: a session with local_socket against an
 * xmp_peer on the other end of a unix socket, in one process: binding to
 * the holder's JID, no TLS or SASL, stanzas both ways, <r/> answered
 * only when the peer's owner says so, and a refusal. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tap.h"
#include "xmp.h"

#define HELD "alice@example.test/held"

static struct {
    int stanzas, acks;
    uint32_t last_h, r_h;
    char body[64];
    int got_message;
} T;

static void on_stanza(void *ud, struct xmp_peer *p, struct xmp_node *st,
                      uint32_t h)
{
    struct xmp_node *b = xmp_node_child(st, "jabber:client", "body");
    char *t = b ? xmp_node_text(b) : NULL;

    (void)ud;
    (void)p;
    T.stanzas++;
    T.last_h = h;
    if (t)
        snprintf(T.body, sizeof T.body, "%s", t);
    free(t);
}

static void on_r(void *ud, struct xmp_peer *p, uint32_t h)
{
    (void)ud;
    (void)p;
    T.acks++;
    T.r_h = h;
}

static int on_message(struct xmp_session *s, const struct xmp_node *st,
                      void *ud)
{
    (void)s;
    (void)st;
    (void)ud;
    T.got_message++;
    return XMP_HANDLED;
}

/* Step both ends until cond() or 200 turns. */
static int run(struct xmp_session *s, struct xmp_peer *p, int (*cond)(void *),
               void *ud)
{
    int i;

    for (i = 0; i < 200; i++) {
        struct pollfd f[2];
        nfds_t n = 0;

        if (cond(ud))
            return 1;
        if (xmp_session_fd(s) >= 0 && xmp_session_events(s)) {
            f[n].fd = xmp_session_fd(s);
            f[n++].events = xmp_session_events(s);
        }
        if (p && xmp_peer_fd(p) >= 0) {
            f[n].fd = xmp_peer_fd(p);
            f[n++].events = xmp_peer_events(p);
        }
        poll(f, n, 20);
        if (xmp_session_phase(s) != XMP_PHASE_FAILED &&
            xmp_session_phase(s) != XMP_PHASE_CLOSED)
            xmp_session_step(s);
        if (p)
            xmp_peer_step(p);
    }
    return cond(ud);
}

static int is_ready(void *ud)
{
    return xmp_session_phase(ud) == XMP_PHASE_READY;
}

static int is_over(void *ud)
{
    return xmp_session_phase(ud) == XMP_PHASE_FAILED ||
           xmp_session_phase(ud) == XMP_PHASE_CLOSED;
}

static int two_stanzas(void *ud)
{
    (void)ud;
    return T.stanzas >= 2 && T.acks >= 1;
}

static int acked2(void *ud)
{
    return xmp_session_acked(ud) >= 2;
}

static int message_in(void *ud)
{
    (void)ud;
    return T.got_message > 0;
}

static enum xmp_err no_password(void *ud, char *buf, size_t len,
                                struct xmp_error *e)
{
    (void)ud;
    (void)buf;
    (void)len;
    return xmp_error_set(e, XMP_EAUTH, "the password was asked for");
}

static struct xmp_session *client(const char *path)
{
    struct xmp_session_opts o;
    struct xmp_error e;
    struct xmp_session *s;

    memset(&o, 0, sizeof o);
    o.jid = "alice@example.test/mine";
    o.local_socket = path;
    o.password = no_password;
    o.timeout_ms = 5000;
    s = xmp_session_new(&o, &e);
    if (s && xmp_session_start(s) != XMP_OK)
        diag("start: %s", xmp_session_error(s)->msg);
    return s;
}

int main(void)
{
    static const struct xmp_peer_cb cb = { on_stanza, on_r };
    char dir[] = "/tmp/xmpctl-peer.XXXXXX", path[128];
    struct sockaddr_un sa;
    struct xmp_session *s;
    struct xmp_peer *p;
    struct xmp_session_info info;
    struct xmp_node *m, *b;
    struct xmp_error e;
    int lfd, fd;

    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/s", dir);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(lfd, 4) < 0)
        return 1;

    /* ---- a session through the peer ---- */
    s = client(path);
    ok(s != NULL, "a session with local_socket starts");
    fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    p = xmp_peer_new(fd, HELD, &cb, NULL, 5000, &e);
    ok(p != NULL, "a peer serves the accepted socket");
    ok(run(s, p, is_ready, s), "ready without TLS, SASL or a password");
    xmp_session_get_info(s, &info);
    is_str(info.bound_jid, HELD, "bound to the holder's JID, not ours");
    ok(info.tls_version == NULL, "no TLS on the link");
    ok(info.sm, "stream management offered and enabled");
    ok(xmp_peer_ready(p), "the peer is ready");

    m = xmp_node_new("jabber:client", "message", NULL);
    xmp_node_set_attr(m, "to", "bob@example.test", NULL);
    b = xmp_node_add_child(m, "jabber:client", "body", NULL);
    xmp_node_add_text(b, "hi", 2, NULL);
    xmp_session_send(s, m, NULL);
    xmp_session_send(s, m, NULL);
    xmp_session_request_ack(s);
    ok(run(s, p, two_stanzas, NULL), "two stanzas and an <r/> reach the "
                                     "peer's owner");
    is_int(T.last_h, 2, "the second is counted as h 2");
    is_int(T.r_h, 2, "<r/> after both: h 2");
    is_str(T.body, "hi", "the stanza arrives whole");
    is_int(xmp_session_acked(s), 0, "nothing acknowledged before the owner "
                                    "says so");
    ok(xmp_peer_ack(p, 2) == XMP_OK, "the owner acknowledges");
    ok(run(s, p, acked2, s), "the session sees its stanzas acknowledged");

    xmp_handler_add(s, NULL, XMP_PRIO_DEFAULT, on_message, NULL, NULL);
    xmp_node_set_attr(m, "from", "bob@example.test/x", NULL);
    xmp_node_set_attr(m, "to", HELD, NULL);
    ok(xmp_peer_send(p, m) == XMP_OK, "the peer delivers a stanza");
    ok(run(s, p, message_in, NULL), "the session's handler gets it");
    xmp_node_free(m);

    xmp_peer_close(p, "remote-connection-failed", "gone");
    ok(run(s, p, is_over, s), "a stream error ends the session");
    is_int(xmp_session_error(s)->code, XMP_EUNREACH,
           "remote-connection-failed from a holder: unreachable");
    xmp_session_free(s);
    xmp_peer_free(p);

    /* ---- refused before the header ---- */
    s = client(path);
    fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    p = xmp_peer_new(fd, HELD, &cb, NULL, 5000, &e);
    xmp_peer_close(p, "remote-connection-failed", "down");
    ok(run(s, p, is_over, s), "a refused client ends");
    is_int(xmp_session_error(s)->code, XMP_EUNREACH, "as unreachable");
    ok(strstr(xmp_session_error(s)->msg, "down") != NULL,
       "with the holder's words: %s", xmp_session_error(s)->msg);
    xmp_session_free(s);
    xmp_peer_free(p);

    close(lfd);
    unlink(path);
    rmdir(dir);
    return tap_done();
}
