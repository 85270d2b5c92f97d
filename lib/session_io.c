/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * session_io.c - moving bytes for a session: the transport (plain socket
 * before STARTTLS, TLS after), the step function, what to poll for and
 * until when, and the blocking convenience loop on top of step.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "session_int.h"

enum xmp_err session_io_start_tls(struct xmp_session *s)
{
    struct tls_params p;
    struct xmp_error e;

    memset(&p, 0, sizeof p);
    p.domain = s->jid.domain;
    p.cafile = s->cafile;
    p.insecure = s->o.insecure;
    p.alpn_xmpp = s->target.direct_tls;
    if (s->out.len)
        return session_fail(s, XMP_EPROTO,
                            "unsent plaintext left at the TLS handshake");
    if (tls_new(&s->tls, s->fd, &p, &e) != XMP_OK)
        return session_fail_with(s, &e);
    s->state = ST_TLS_HANDSHAKE;
    s->last_progress = xmp_now_ms();
    return XMP_OK;
}

void session_io_shutdown(struct xmp_session *s)
{
    static const char bye[] = "</stream:stream>";
    size_t n;

    if (s->fd >= 0) {
        /* Best effort, never blocking: close our stream so the server
         * does not wait for a timeout (RFC 6120 §4.4). */
        if (s->stream_open && s->out.len == 0) {
            if (s->tls)
                tls_write(s->tls, bye, sizeof bye - 1, &n, NULL);
            else
                (void)!send(s->fd, bye, sizeof bye - 1, MSG_NOSIGNAL);
        }
        s->stream_open = 0;
        if (s->tls)
            tls_close_notify(s->tls);
        close(s->fd);
        s->fd = -1;
    }
    tls_free(s->tls);
    s->tls = NULL;
    net_connector_free(s->conn);
    s->conn = NULL;
}

static void finish_close(struct xmp_session *s)
{
    s->stream_open = 0;
    session_io_shutdown(s);
    s->state = ST_CLOSED;
    session_trace(s, XMP_TRACE_INFO, "closed");
}

static enum xmp_err flush_out(struct xmp_session *s)
{
    struct xmp_error e;
    enum xmp_err r;
    ssize_t w;
    size_t n, len;

    while (s->out.len && s->fd >= 0) {
        if (s->tls) {
            /* mbedTLS: after WANT_WRITE, call again with the same
             * length (ssl.h); the queue only grows at its end. */
            len = s->tls_inflight ? s->tls_inflight : s->out.len;
            r = tls_write(s->tls, s->out.data, len, &n, &e);
            if (r == XMP_AGAIN) {
                s->tls_inflight = len;
                return XMP_OK;
            }
            if (r != XMP_OK)
                return session_fail_with(s, &e);
            s->tls_inflight = 0;
        } else {
            w = send(s->fd, s->out.data, s->out.len, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    return XMP_OK;
                if (errno == EINTR)
                    continue;
                return session_fail(s, XMP_EUNREACH,
                                    "connection to %s lost: %s",
                                    s->target.host, strerror(errno));
            }
            n = (size_t)w;
        }
        buf_consume(&s->out, n);
        s->last_progress = xmp_now_ms();
    }
    return XMP_OK;
}

static enum xmp_err transport_read(struct xmp_session *s, char *buf,
                                   size_t len, size_t *n)
{
    struct xmp_error e;
    enum xmp_err r;
    ssize_t got;

    s->read_wants_write = 0;
    if (s->tls) {
        r = tls_read(s->tls, buf, len, n, &e);
        if (r == XMP_AGAIN && tls_want(s->tls) == TLS_WANT_WRITE)
            s->read_wants_write = 1;
        if (r != XMP_OK && r != XMP_AGAIN)
            return session_fail_with(s, &e);
        return r;
    }
    for (;;) {
        got = recv(s->fd, buf, len, 0);
        if (got >= 0) {
            *n = (size_t)got;
            return XMP_OK;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return XMP_AGAIN;
        if (errno != EINTR)
            return session_fail(s, XMP_EUNREACH, "connection to %s lost: %s",
                                s->target.host, strerror(errno));
    }
}

static enum xmp_err feed(struct xmp_session *s, const char *p, size_t n)
{
    struct xmp_error e;
    enum xmp_err r;
    size_t used;

    while (n > 0) {
        xmp_error_clear(&e);
        used = 0;
        r = xml_reader_feed(s->rd, p, n, &used, &e);
        if (s->state == ST_FAILED)
            return s->err.code;
        if (r != XMP_OK)
            return session_fail(s, r, "bad XML from %s: %s", s->jid.domain,
                                e.msg[0] ? e.msg : "rejected");
        p += used;
        n -= used;
        if (s->restart == RESTART_TLS) {
            s->restart = RESTART_NONE;
            /* RFC 6120 §5.4.3.3: after <proceed/> the next bytes are
             * the TLS handshake; plaintext here is an injection. */
            if (n)
                return session_fail(s, XMP_EPROTO,
                                    "server sent %zu bytes of plaintext "
                                    "after <proceed/>",
                                    n);
            return session_io_start_tls(s);
        }
        if (s->restart == RESTART_STREAM) {
            s->restart = RESTART_NONE;
            if ((r = session_restart_stream(s)) != XMP_OK)
                return r;
        }
    }
    return XMP_OK;
}

static enum xmp_err read_in(struct xmp_session *s)
{
    char buf[SESSION_READ_CHUNK];
    enum xmp_err r;
    size_t n;

    for (;;) {
        if (s->state == ST_FAILED || s->state == ST_CLOSED ||
            s->state == ST_TLS_HANDSHAKE || s->fd < 0)
            return XMP_OK;
        r = transport_read(s, buf, sizeof buf, &n);
        if (r == XMP_AGAIN)
            return XMP_OK;
        if (r != XMP_OK)
            return r;
        if (n == 0) {
            if (s->state == ST_CLOSING) {
                finish_close(s);
                return XMP_OK;
            }
            s->stream_open = 0;
            return session_fail(s, XMP_EUNREACH,
                                "connection closed by %s%s", s->target.host,
                                s->peer_closed ? " after closing its stream"
                                               : "");
        }
        if ((r = feed(s, buf, n)) != XMP_OK)
            return r;
        if (s->peer_closed) {
            if (s->state == ST_CLOSING) {
                finish_close(s);
                return XMP_OK;
            }
            return session_fail(s, XMP_EUNREACH,
                                "server %s closed the stream",
                                s->jid.domain);
        }
    }
}

static const char *waiting_for(const struct xmp_session *s)
{
    switch (s->state) {
    case ST_TLS_HANDSHAKE:
        return "the TLS handshake";
    case ST_WAIT_FEATURES:
        return "stream features";
    case ST_WAIT_PROCEED:
        return "the answer to STARTTLS";
    case ST_WAIT_SASL:
        return "the SASL answer";
    case ST_WAIT_BIND:
        return "resource binding";
    case ST_WAIT_SESSION:
        return "session establishment";
    case ST_READY:
        return s->ack_pending ? "the server's acknowledgement"
                              : "the server to accept our data";
    default:
        return "the server";
    }
}

int64_t xmp_session_deadline(const struct xmp_session *s)
{
    int64_t wait;

    switch (s->state) {
    case ST_IDLE:
    case ST_CLOSED:
    case ST_FAILED:
        return -1;
    case ST_CONNECTING:
        return net_connector_deadline(s->conn);
    case ST_CLOSING:
        wait = s->o.timeout_ms < SESSION_CLOSE_WAIT_MS ? s->o.timeout_ms
                                                       : SESSION_CLOSE_WAIT_MS;
        return s->close_started + wait;
    case ST_READY:
        wait = -1;
        if (s->ack_pending)
            wait = s->ack_sent + s->o.timeout_ms;
        if (s->out.len && (wait < 0 || s->last_progress + s->o.timeout_ms < wait))
            wait = s->last_progress + s->o.timeout_ms;
        return wait;
    default:
        return s->last_progress + s->o.timeout_ms;
    }
}

int xmp_session_fd(const struct xmp_session *s)
{
    if (s->state == ST_CONNECTING)
        return net_connector_fd(s->conn);
    return s->fd;
}

short xmp_session_events(const struct xmp_session *s)
{
    switch (s->state) {
    case ST_IDLE:
    case ST_CLOSED:
    case ST_FAILED:
        return 0;
    case ST_CONNECTING:
        return POLLOUT;
    case ST_TLS_HANDSHAKE:
        return tls_want(s->tls) == TLS_WANT_WRITE ? POLLOUT : POLLIN;
    default:
        return POLLIN |
               (s->out.len || s->read_wants_write ? POLLOUT : 0);
    }
}

int xmp_session_pending(const struct xmp_session *s)
{
    /* Nothing to poll yet: the first connect attempt starts in step. */
    if (s->state == ST_CONNECTING && net_connector_fd(s->conn) < 0)
        return 1;
    return s->tls && s->state >= ST_WAIT_FEATURES && s->state <= ST_CLOSING &&
           tls_pending(s->tls);
}

static enum xmp_err step_connect(struct xmp_session *s)
{
    struct xmp_error e;
    enum xmp_err r;
    int fd = -1;
    const struct net_target *t;

    r = net_connector_step(s->conn, &fd, &e);
    if (r == XMP_AGAIN)
        return XMP_AGAIN;
    if (r != XMP_OK)
        return session_fail_with(s, &e);
    s->fd = fd;
    t = net_connector_target(s->conn);
    s->target = *t;
    snprintf(s->address, sizeof s->address, "%s",
             net_connector_address(s->conn));
    net_connector_free(s->conn);
    s->conn = NULL;
    s->last_progress = xmp_now_ms();
    return session_connected(s);
}

static enum xmp_err step_handshake(struct xmp_session *s)
{
    struct xmp_error e;
    enum xmp_err r;

    r = tls_handshake(s->tls, &e);
    if (r == XMP_AGAIN)
        return XMP_AGAIN;
    if (r != XMP_OK)
        return session_fail_with(s, &e);
    s->last_progress = xmp_now_ms();
    return session_tls_ready(s);
}

enum xmp_err xmp_session_step(struct xmp_session *s)
{
    int64_t dl;
    int rounds;

    /* A few rounds, so that a state change (connected, handshake done,
     * STARTTLS accepted) is acted on without another trip through poll. */
    for (rounds = 0; rounds < 4; rounds++) {
        enum session_state before = s->state;

        switch (s->state) {
        case ST_IDLE:
            return xmp_error_set(&s->err, XMP_EUSAGE,
                                 "session not started");
        case ST_CLOSED:
            return XMP_OK;
        case ST_FAILED:
            return s->err.code;
        case ST_CONNECTING:
            if (step_connect(s) == XMP_AGAIN)
                return XMP_AGAIN;
            break;
        case ST_TLS_HANDSHAKE:
            if (step_handshake(s) == XMP_AGAIN)
                goto check_deadline;
            break;
        default:
            if (flush_out(s) != XMP_OK || read_in(s) != XMP_OK ||
                flush_out(s) != XMP_OK)
                return s->err.code;
            break;
        }
        if (s->state == before)
            break;
    }
check_deadline:
    if (s->state == ST_FAILED)
        return s->err.code;
    if (s->state == ST_CLOSED)
        return XMP_OK;
    dl = xmp_session_deadline(s);
    if (dl >= 0 && xmp_now_ms() >= dl && s->state != ST_CONNECTING) {
        if (s->state == ST_CLOSING) {
            session_trace(s, XMP_TRACE_INFO,
                          "server did not close its stream; closing anyway");
            finish_close(s);
            return XMP_OK;
        }
        return session_fail(s, XMP_ETIMEOUT,
                            "timed out after %d s waiting for %s from %s",
                            (s->o.timeout_ms + 999) / 1000, waiting_for(s),
                            s->jid.domain);
    }
    return XMP_AGAIN;
}

enum xmp_err xmp_session_run(struct xmp_session *s, int (*done)(void *ud),
                             void *ud, int timeout_ms)
{
    int64_t end = timeout_ms >= 0 ? xmp_now_ms() + timeout_ms : -1;
    struct pollfd p;
    int64_t dl, now;
    int wait, rc;

    for (;;) {
        if (s->state == ST_FAILED)
            return s->err.code;
        if (done && done(ud))
            return XMP_OK;
        if (s->state == ST_CLOSED)
            return done ? xmp_error_set(&s->err, XMP_EUNREACH,
                                        "connection to %s closed",
                                        s->jid.domain)
                        : XMP_OK;
        if (s->state == ST_IDLE)
            return xmp_error_set(&s->err, XMP_EUSAGE, "session not started");
        if (!xmp_session_pending(s)) {
            now = xmp_now_ms();
            dl = xmp_session_deadline(s);
            if (end >= 0 && (dl < 0 || end < dl))
                dl = end;
            if (dl < 0)
                wait = -1;
            else if (dl <= now)
                wait = 0;
            else
                wait = dl - now > INT_MAX ? INT_MAX : (int)(dl - now);
            p.fd = xmp_session_fd(s);
            p.events = xmp_session_events(s);
            p.revents = 0;
            rc = poll(&p, 1, wait);
            if (rc < 0 && errno != EINTR)
                return session_fail(s, XMP_EIO, "poll: %s", strerror(errno));
            if (rc == 0 && end >= 0 && xmp_now_ms() >= end &&
                (xmp_session_deadline(s) < 0 ||
                 xmp_session_deadline(s) > xmp_now_ms()))
                return XMP_ETIMEOUT;
        }
        xmp_session_step(s);
    }
}
