/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * session_io.c - driving a session: the step function, what to poll for
 * and until when, and the blocking convenience loop on top of step.
 *
 * Deadlines: while connecting, the connector's (the next staggered
 * attempt, or the end of the connection budget, DNS included); while
 * negotiating, the time since our last request; while ready, each
 * request's own (which fails only that request) and the keepalive; while
 * closing, a bounded wait for the peer's close.  In every state, bytes we
 * queued that the peer does not take within the timeout end the session:
 * a peer that stops reading cannot hold us, and the queue cannot grow
 * without end.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>

#include "session_int.h"

static void finish_close(struct xmp_session *s)
{
    stream_shutdown(&s->st);
    s->state = ST_CLOSED;
    session_trace(s, XMP_TRACE_INFO, "closed");
}

static enum xmp_err step_connect(struct xmp_session *s)
{
    struct xmp_error e;
    enum xmp_err r;
    int fd = -1;

    r = net_connector_step(s->conn, &fd, &e);
    if (r == XMP_AGAIN)
        return XMP_AGAIN;
    if (r != XMP_OK)
        return session_fail_with(s, &e);
    s->target = *net_connector_target(s->conn);
    snprintf(s->address, sizeof s->address, "%s",
             net_connector_address(s->conn));
    net_connector_free(s->conn);
    s->conn = NULL;
    if (stream_attach(&s->st, fd, s->target.host, &e) != XMP_OK)
        return session_fail_with(s, &e);
    s->wait_since = xmp_now_ms();
    return session_connected(s);
}

static enum xmp_err step_handshake(struct xmp_session *s)
{
    struct xmp_error e;
    enum xmp_err r;

    r = stream_handshake(&s->st, &e);
    if (r == XMP_AGAIN)
        return XMP_AGAIN;
    if (r != XMP_OK)
        return session_fail_with(s, &e);
    s->wait_since = xmp_now_ms();
    if (s->o.probe && s->o.probe_tls_suite) {
        /* the suite was accepted: that is all such a probe asks */
        stream_tls_info(&s->st, &s->neg.tlsinfo);
        session_trace(s, XMP_TRACE_INFO, "%s %s accepted: closing",
                      s->neg.tlsinfo.version, s->neg.tlsinfo.cipher);
        finish_close(s);
        return XMP_OK;
    }
    return session_tls_ready(s);
}

static enum xmp_err step_stream(struct xmp_session *s)
{
    struct xmp_error e;

    xmp_error_clear(&e);
    if (stream_io(&s->st, &e) != XMP_OK) {
        if (s->state == ST_FAILED) /* a callback's failure comes first */
            return s->err.code;
        if (e.code == XMP_EPROTO)
            return session_fail(s, XMP_EPROTO, "bad XML from %s: %s",
                                s->jid.domain,
                                e.msg[0] ? e.msg : "rejected");
        return session_fail_with(s, &e);
    }
    if (s->state == ST_FAILED || s->state == ST_CLOSED)
        return s->err.code;
    if (s->st.paused)
        return session_restart(s);
    if (s->st.peer_closed || s->st.eof) {
        if (s->state == ST_CLOSING) {
            finish_close(s);
            return XMP_OK;
        }
        if (s->st.peer_closed)
            return session_fail(s, XMP_EUNREACH,
                                "server %s closed the stream",
                                s->jid.domain);
        return session_fail(s, XMP_EUNREACH, "connection closed by %s",
                            s->target.host);
    }
    return XMP_OK;
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
    case ST_WAIT_RESUME:
        return "the session's resumption";
    default:
        return "the server";
    }
}

/* When the peer must have taken our queued bytes, -1 if none wait. */
static int64_t write_deadline(const struct xmp_session *s)
{
    if (!stream_queued(&s->st) || !stream_connected(&s->st))
        return -1;
    return s->st.out_since + s->o.timeout_ms;
}

static int64_t earliest(int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

/* RFC 6120 §4.4: how long we wait for the peer's close. */
static int close_wait(const struct xmp_session *s)
{
    return s->o.timeout_ms < SESSION_CLOSE_WAIT_MS ? s->o.timeout_ms
                                                   : SESSION_CLOSE_WAIT_MS;
}

int64_t xmp_session_deadline(const struct xmp_session *s)
{
    switch (s->state) {
    case ST_IDLE:
    case ST_CLOSED:
    case ST_FAILED:
        return -1;
    case ST_CONNECTING:
        return net_connector_deadline(s->conn);
    case ST_RESUME_WAIT:
        return s->sm.resume_at;
    case ST_CLOSING:
        return earliest(s->close_started + close_wait(s), iq_deadline(s));
    case ST_READY:
        return earliest(iq_deadline(s), write_deadline(s));
    default:
        return earliest(s->wait_since + s->o.timeout_ms, write_deadline(s));
    }
}

int xmp_session_fd(const struct xmp_session *s)
{
    if (s->state == ST_CONNECTING)
        return net_connector_fd(s->conn);
    return stream_fd(&s->st);
}

short xmp_session_events(const struct xmp_session *s)
{
    switch (s->state) {
    case ST_IDLE:
    case ST_CLOSED:
    case ST_FAILED:
    case ST_RESUME_WAIT:
        return 0;
    case ST_CONNECTING:
        return POLLIN; /* the connector's fd is an epoll set */
    default:
        return stream_events(&s->st);
    }
}

int xmp_session_pending(const struct xmp_session *s)
{
    /* Addresses known and no attempt running: step starts one. */
    if (s->state == ST_CONNECTING)
        return net_connector_pending(s->conn);
    if (s->state < ST_WAIT_FEATURES || s->state > ST_CLOSING ||
        s->state == ST_RESUME_WAIT)
        return 0;
    return stream_pending(&s->st);
}

/* The clocks, after the I/O of a step. */
static void check_time(struct xmp_session *s)
{
    int64_t now = xmp_now_ms(), wd;

    if (s->state == ST_READY || s->state == ST_CLOSING)
        iq_timers(s, now);
    if (s->state == ST_FAILED || s->state == ST_CLOSED ||
        s->state == ST_CONNECTING || s->state == ST_RESUME_WAIT)
        return;
    wd = write_deadline(s);
    if (wd >= 0 && now >= wd) {
        session_fail(s, XMP_ETIMEOUT,
                     "timed out after %d s: %s has not taken the %zu bytes "
                     "we sent",
                     (s->o.timeout_ms + 999) / 1000, s->jid.domain,
                     stream_queued(&s->st));
        return;
    }
    if (s->state == ST_CLOSING) {
        if (now >= s->close_started + close_wait(s)) {
            session_trace(s, XMP_TRACE_INFO,
                          "server did not close its stream; closing anyway");
            finish_close(s);
        }
        return;
    }
    if (s->state != ST_READY && now >= s->wait_since + s->o.timeout_ms)
        session_fail(s, XMP_ETIMEOUT,
                     "timed out after %d s waiting for %s from %s",
                     (s->o.timeout_ms + 999) / 1000, waiting_for(s),
                     s->jid.domain);
}

enum xmp_err xmp_session_step(struct xmp_session *s)
{
    int rounds;

    if (s->in_callback)
        return XMP_EUSAGE;
    /* A few rounds, so that a state change (connected, handshake done,
     * STARTTLS accepted) is acted on without another trip through poll. */
    for (rounds = 0; rounds < 4; rounds++) {
        enum session_state before = s->state;
        int early = s->a2.early;

        switch (s->state) {
        case ST_IDLE:
            return xmp_error_set(&s->err, XMP_EUSAGE,
                                 "session not started");
        case ST_CLOSED:
        case ST_FAILED:
            break;
        case ST_CONNECTING:
            step_connect(s);
            break;
        case ST_RESUME_WAIT:
            if (xmp_now_ms() >= s->sm.resume_at)
                session_reconnect(s);
            break;
        case ST_TLS_HANDSHAKE:
            step_handshake(s);
            break;
        default:
            step_stream(s);
            /* a probe has seen what it came for (negotiate.c) */
            if (s->neg.probe_close) {
                s->neg.probe_close = 0;
                xmp_session_close(s);
            }
            break;
        }
        /* XEP-0509: stanzas may now go ahead of authentication: back
         * to the caller before anything more is read, so that its
         * stanzas join what is queued */
        if (s->state == before || (!early && s->a2.early))
            break;
    }
    check_time(s);
    /* XEP-0198 §5: a lost connection under a resumable session is not
     * the end of it. */
    if (s->state == ST_FAILED && sm_resume_after_failure(s))
        return XMP_AGAIN;
    if (s->state == ST_FAILED || s->state == ST_CLOSED) {
        /* Every request learns how it ended; the callbacks may look at
         * the session, which is still whole. */
        iq_fail_all(s);
        return s->state == ST_FAILED ? s->err.code : XMP_OK;
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

    if (s->in_callback)
        return XMP_EUSAGE;
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
            dl = earliest(xmp_session_deadline(s), end);
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
                return session_fail(s, XMP_ESYS, "poll: %s", strerror(errno));
            if (rc == 0 && end >= 0 && xmp_now_ms() >= end &&
                (xmp_session_deadline(s) < 0 ||
                 xmp_session_deadline(s) > xmp_now_ms()))
                return XMP_ETIMEOUT;
        }
        xmp_session_step(s);
    }
}
