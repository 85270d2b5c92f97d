/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sm.c - stream management (XEP-0198, urn:xmpp:sm:3): enabled right after
 * the session becomes ready when the server offers it; then the server's
 * <a h=.../> is what acknowledges our stanzas, instead of the ping
 * barrier of iq.c, and its <r/> is answered with our own count.
 *
 * Counting: our stanzas from the moment <enable/> goes out (the server
 * counts from when it reads it, and it reads in order), the server's from
 * its <enabled/>.  The ready state does not wait for <enabled/>: what the
 * caller sends meanwhile is counted all the same, and an <r/> sent
 * before the answer is read after <enable/> by the server.  When the
 * server refuses (<failed/>), acknowledgement falls back to the ping.
 *
 * Resumption (XEP-0198 §5), when the caller asked for it (opts.resume)
 * and the server agreed (<enabled resume='true' id=.../>): every stanza
 * sent is kept until the server's h covers it.  When the connection is
 * lost while ready, the session does not fail: it connects again (within
 * its timeout, with growing pauses between attempts), authenticates,
 * sends <resume/> instead of binding, and on <resumed h=.../> sends again
 * what h does not cover.  The caller sees the phase go back to
 * connecting and then to ready; handlers and requests stay.  Only when
 * the server refuses, or no attempt succeeds in time, does the session
 * fail, and xmp_session_acked says what was confirmed.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "session_int.h"

struct sm_kept {
    struct sm_kept *next;
    uint64_t seq;
    size_t len;
    char xml[];
};

/* Pauses between attempts to resume: none before the first, then
 * doubling from the first to the last. */
#define RESUME_PAUSE_FIRST_MS 500
#define RESUME_PAUSE_MAX_MS 8000

uint64_t sm_unwrap(uint64_t handled, uint32_t h)
{
    /* Unsigned 32-bit subtraction is the distance modulo 2^32. */
    return handled + (uint32_t)(h - (uint32_t)handled);
}

void sm_note_features(struct xmp_session *s, const struct xmp_node *f)
{
    s->sm.offered = xmp_node_child(f, NS_SM, "sm") != NULL;
}

enum xmp_err sm_keep(struct xmp_session *s, uint64_t seq, const char *xml)
{
    size_t len;
    struct sm_kept *k;

    if (!s->o.resume || s->sm.state == SM_OFF)
        return XMP_OK;
    len = strlen(xml);
    if (!(k = malloc(sizeof *k + len + 1)))
        return session_fail(s, XMP_ENOMEM, "out of memory");
    k->next = NULL;
    k->seq = seq;
    k->len = len;
    memcpy(k->xml, xml, len + 1);
    if (s->sm.kept_tail)
        s->sm.kept_tail->next = k;
    else
        s->sm.kept = k;
    s->sm.kept_tail = k;
    s->sm.kept_bytes += len;
    return XMP_OK;
}

/* Forget what the server has confirmed. */
static void kept_drop_acked(struct xmp_session *s)
{
    struct sm_kept *k;

    while ((k = s->sm.kept) && k->seq <= s->out.acked_seq) {
        s->sm.kept = k->next;
        s->sm.kept_bytes -= k->len;
        free(k);
    }
    if (!s->sm.kept)
        s->sm.kept_tail = NULL;
}

void sm_kept_free(struct xmp_session *s)
{
    struct sm_kept *k, *next;

    for (k = s->sm.kept; k; k = next) {
        next = k->next;
        free(k);
    }
    s->sm.kept = s->sm.kept_tail = NULL;
    s->sm.kept_bytes = 0;
}

void sm_free(struct xmp_session *s)
{
    free(s->sm.id);
    free(s->sm.resume_why);
    s->sm.id = s->sm.resume_why = NULL;
    sm_kept_free(s);
}

void sm_no_resume(struct xmp_session *s)
{
    s->sm.resume_refused = 1;
}

enum xmp_err sm_enable(struct xmp_session *s)
{
    enum xmp_err r;

    if (!s->sm.offered || s->sm.state != SM_OFF)
        return XMP_OK;
    r = session_send_raw(s, s->o.resume ? "<enable xmlns='" NS_SM
                                          "' resume='true'/>"
                                        : "<enable xmlns='" NS_SM "'/>",
                         NULL);
    if (r != XMP_OK)
        return r;
    s->sm.state = SM_ENABLING;
    s->sm.base = s->out.sent_seq;
    s->sm.handled = 0;
    s->sm.in = 0;
    return XMP_OK;
}

enum xmp_err sm_enable_inline(struct xmp_session *s, struct buf *b)
{
    if (buf_printf(b, s->o.resume ? "<enable xmlns='" NS_SM
                                    "' resume='true'/>"
                                  : "<enable xmlns='" NS_SM "'/>") < 0)
        return session_fail(s, XMP_ENOMEM, "out of memory");
    s->sm.offered = 1;
    s->sm.state = SM_ENABLING;
    s->sm.base = s->out.sent_seq;
    s->sm.handled = 0;
    s->sm.in = 0;
    return XMP_OK;
}

void sm_inline_off(struct xmp_session *s)
{
    if (s->sm.state == SM_ENABLING) {
        s->sm.state = SM_OFF;
        s->sm.r_pending = 0;
    }
}

void sm_count_in(struct xmp_session *s, const struct xmp_node *el)
{
    const char *name = xmp_node_name(el);

    if (s->sm.state == SM_ON && strcmp(xmp_node_ns(el), NS_CLIENT) == 0 &&
        (strcmp(name, "message") == 0 || strcmp(name, "presence") == 0 ||
         strcmp(name, "iq") == 0))
        s->sm.in++;
}

enum xmp_err sm_request_ack(struct xmp_session *s)
{
    /* One <r/> already covers everything sent. */
    if (s->sm.r_pending && s->sm.r_seq == s->out.sent_seq)
        return XMP_OK;
    if (session_send_raw(s, "<r xmlns='" NS_SM "'/>", NULL) != XMP_OK)
        return s->err.code;
    /* The clock runs from the oldest unanswered <r/>: asking again does
     * not give a silent server more time. */
    if (!s->sm.r_pending)
        s->sm.r_deadline = xmp_now_ms() + s->o.timeout_ms;
    s->sm.r_pending = 1;
    s->sm.r_seq = s->out.sent_seq;
    return XMP_OK;
}

int64_t sm_deadline(const struct xmp_session *s)
{
    return s->sm.r_pending ? s->sm.r_deadline : -1;
}

void sm_timers(struct xmp_session *s, int64_t now)
{
    struct xmp_error e;

    if (!s->sm.r_pending || now < s->sm.r_deadline)
        return;
    s->sm.r_pending = 0;
    session_trace(s, XMP_TRACE_INFO, "no <a/> in time");
    /* Like an unanswered ping: the request fails, the session stays. */
    xmp_error_set(&e, XMP_ETIMEOUT,
                  "no acknowledgement (XEP-0198 <a/>) from %s within %d s",
                  s->jid.domain, (s->o.timeout_ms + 999) / 1000);
    session_ack_error(s, &e);
}

/* XEP-0198 §4: h is an unsigned 32-bit decimal. */
static int parse_h(const char *v, uint32_t *h)
{
    unsigned long long n;
    char *end;

    if (!v || *v < '0' || *v > '9')
        return -1;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno || *end || n > UINT32_MAX)
        return -1;
    *h = (uint32_t)n;
    return 0;
}

/* The server's h, from <a/>, <resumed/> or <failed/> (what names the
 * element in a message): how many of our stanzas it handled, never more
 * than were sent. */
static enum xmp_err take_h(struct xmp_session *s, const char *v,
                           const char *what)
{
    uint64_t sent = s->out.sent_seq - s->sm.base, handled;
    char err[256];
    uint32_t h;

    if (parse_h(v, &h) != 0)
        return session_fail(s, XMP_EPROTO,
                            "server sent %s with a bad h '%s'", what,
                            v ? v : "");
    handled = sm_unwrap(s->sm.handled, h);
    if (handled > sent) {
        /* XEP-0198 §5: the server claims stanzas we never sent; nothing
         * it acknowledges can be believed. */
        snprintf(err, sizeof err,
                 "<stream:error><undefined-condition xmlns='" NS_STREAMS
                 "'/><handled-count-too-high xmlns='" NS_SM
                 "' h='%" PRIu32 "' send-count='%" PRIu32 "'/>"
                 "</stream:error>",
                 h, (uint32_t)sent);
        stream_abort(&s->st, err);
        return session_fail(s, XMP_EPROTO,
                            "server acknowledged %" PRIu64 " stanzas but "
                            "only %" PRIu64 " were sent "
                            "(handled-count-too-high)",
                            handled, sent);
    }
    s->sm.handled = handled;
    session_acked(s, s->sm.base + handled);
    kept_drop_acked(s);
    return XMP_OK;
}

static enum xmp_err on_a(struct xmp_session *s, const struct xmp_node *el)
{
    if (take_h(s, xmp_node_attr(el, "h"), "an acknowledgement") != XMP_OK)
        return s->err.code;
    if (s->sm.r_pending) {
        if (s->out.acked_seq >= s->sm.r_seq)
            s->sm.r_pending = 0;
        else /* progress: the server is there, the rest is on its way */
            s->sm.r_deadline = xmp_now_ms() + s->o.timeout_ms;
    }
    return XMP_OK;
}

static enum xmp_err on_enabled(struct xmp_session *s,
                               const struct xmp_node *el)
{
    const char *id = xmp_node_attr(el, "id"), *res = xmp_node_attr(el, "resume");
    int resumable = id && res && (!strcmp(res, "true") || !strcmp(res, "1"));

    s->sm.state = SM_ON;
    s->sm.in = 0;
    free(s->sm.id);
    s->sm.id = NULL;
    if (resumable && !(s->sm.id = strdup(id)))
        return session_fail(s, XMP_ENOMEM, "out of memory");
    /* Nothing to resume: nothing to keep. */
    if (!s->sm.id)
        sm_kept_free(s);
    session_trace(s, XMP_TRACE_INFO,
                  "stream management enabled%s: acknowledgement by <r/> "
                  "and <a/>",
                  resumable ? " (resumable)" : "");
    return XMP_OK;
}

static enum xmp_err on_failed(struct xmp_session *s,
                              const struct xmp_node *el)
{
    char why[256];

    xmp_error_describe(el, why, sizeof why);
    s->sm.state = SM_OFF;
    sm_kept_free(s);
    session_trace(s, XMP_TRACE_INFO,
                  "server refused stream management (%s): acknowledgement "
                  "by ping",
                  why);
    /* An <r/> may have gone out behind the <enable/>: nothing will
     * answer it now, so the ping asks instead. */
    if (s->sm.r_pending) {
        s->sm.r_pending = 0;
        if (s->state == ST_READY && s->out.acked_seq < s->out.sent_seq)
            return s->hooks->ack(s);
    }
    return XMP_OK;
}

/* ---- resumption ------------------------------------------------------ */

/* Connection-level trouble only: a server that refused us, or spoke
 * nonsense, is not asked again. */
static int lost_connection(enum xmp_err code)
{
    return code == XMP_EUNREACH || code == XMP_ETIMEOUT ||
           code == XMP_ETEMP || code == XMP_ENOHOST;
}

int sm_resume_after_failure(struct xmp_session *s)
{
    int64_t now = xmp_now_ms(), pause;
    char why[XMP_ERRMSG_MAX];

    if (!s->o.resume || !s->sm.id || s->sm.resume_refused ||
        !lost_connection(s->err.code))
        goto give_up;
    if (!s->sm.resuming) {
        if (s->failed_from != ST_READY)
            return 0;
        free(s->sm.resume_why);
        if (!(s->sm.resume_why = strdup(s->err.msg)))
            return 0;
        s->sm.resuming = 1;
        s->sm.resume_attempts = 0;
        s->sm.resume_until = now + s->o.timeout_ms;
    }
    pause = 0;
    if (s->sm.resume_attempts) {
        pause = RESUME_PAUSE_FIRST_MS << (s->sm.resume_attempts < 5
                                              ? s->sm.resume_attempts - 1
                                              : 4);
        if (pause > RESUME_PAUSE_MAX_MS)
            pause = RESUME_PAUSE_MAX_MS;
    }
    if (now + pause >= s->sm.resume_until)
        goto give_up;
    s->sm.resume_attempts++;
    session_trace(s, XMP_TRACE_INFO,
                  "%s: resuming the session (attempt %u%s)",
                  s->sm.resume_attempts == 1 ? s->sm.resume_why : s->err.msg,
                  s->sm.resume_attempts, pause ? ", after a pause" : "");
    s->state = ST_RESUME_WAIT;
    s->sm.resume_at = now + pause;
    if (!pause && s->hooks->reconnect(s) != XMP_OK)
        return sm_resume_after_failure(s);
    return 1;
give_up:
    if (s->sm.resuming) {
        s->sm.resuming = 0;
        snprintf(why, sizeof why, "%s", s->err.msg);
        xmp_error_set(&s->err, XMP_EUNREACH,
                      "%s, and the session could not be resumed: %s",
                      s->sm.resume_why ? s->sm.resume_why
                                       : "connection lost",
                      why);
        session_trace(s, XMP_TRACE_INFO, "failed: %s", s->err.msg);
    }
    return 0;
}

int sm_resume_inline(struct xmp_session *s, struct buf *b)
{
    if (!s->sm.resuming || !s->sm.id ||
        xmp_xml_check_text(s->sm.id, strlen(s->sm.id), NULL) != XMP_OK ||
        strpbrk(s->sm.id, "<>&'\"") || strlen(s->sm.id) > 256)
        return 0;
    return buf_printf(b, "<resume xmlns='" NS_SM "' h='%" PRIu32
                         "' previd='%s'/>",
                      s->sm.in, s->sm.id) >= 0;
}

enum xmp_err sm_resume(struct xmp_session *s, const struct xmp_node *f)
{
    char x[512];

    if (!xmp_node_child(f, NS_SM, "sm")) {
        s->sm.resume_refused = 1;
        return session_fail(s, XMP_EUNREACH,
                            "server %s no longer offers stream management",
                            s->jid.domain);
    }
    if (xmp_xml_check_text(s->sm.id, strlen(s->sm.id), NULL) != XMP_OK ||
        strpbrk(s->sm.id, "<>&'\"") || strlen(s->sm.id) > 256) {
        s->sm.resume_refused = 1;
        return session_fail(s, XMP_EPROTO,
                            "the server's stream management id cannot be "
                            "sent back");
    }
    snprintf(x, sizeof x,
             "<resume xmlns='" NS_SM "' h='%" PRIu32 "' previd='%s'/>",
             s->sm.in, s->sm.id);
    if (session_send_raw(s, x, NULL) != XMP_OK)
        return s->err.code;
    s->state = ST_WAIT_RESUME;
    return XMP_OK;
}

static enum xmp_err on_resumed(struct xmp_session *s,
                               const struct xmp_node *el)
{
    const char *previd = xmp_node_attr(el, "previd");
    struct sm_kept *k;
    size_t n = 0;

    s->sm.resume_refused = 1; /* whatever fails now is not the network */
    if (!previd || strcmp(previd, s->sm.id) != 0)
        return session_fail(s, XMP_EPROTO,
                            "server resumed another session ('%s')",
                            previd ? previd : "");
    if (take_h(s, xmp_node_attr(el, "h"), "<resumed/>") != XMP_OK)
        return s->err.code;
    s->state = ST_READY;
    s->sm.resuming = 0;
    s->sm.resume_refused = 0;
    s->sm.resumed++;
    /* XEP-0198 §5: what the server did not handle goes again, as it was
     * (the same stanzas, already counted). */
    for (k = s->sm.kept; k; k = k->next, n++)
        if (session_send_raw(s, k->xml, NULL) != XMP_OK)
            return s->err.code;
    session_trace(s, XMP_TRACE_INFO,
                  "session resumed; %zu stanza%s sent again", n,
                  n == 1 ? "" : "s");
    /* An <r/> lost with the connection is asked again. */
    if (s->sm.r_pending || s->out.acked_seq < s->out.sent_seq) {
        s->sm.r_pending = 0;
        return sm_request_ack(s);
    }
    return XMP_OK;
}

static enum xmp_err on_resume_failed(struct xmp_session *s,
                                     const struct xmp_node *el)
{
    char why[256];

    xmp_error_describe(el, why, sizeof why);
    s->sm.resume_refused = 1;
    /* XEP-0198 1.6: <failed/> may say what the server had handled. */
    if (xmp_node_attr(el, "h") &&
        take_h(s, xmp_node_attr(el, "h"), "<failed/>") != XMP_OK)
        return s->err.code;
    return session_fail(s, XMP_EUNREACH, "server refused to resume (%s)",
                        why);
}

enum xmp_err sm_element(struct xmp_session *s, const struct xmp_node *el)
{
    const char *name = xmp_node_name(el);
    char a[64];

    if (strcmp(name, "r") == 0 && s->sm.state == SM_ON) {
        /* Not after our </stream:stream> (RFC 6120 §4.4). */
        if (!s->st.open)
            return XMP_OK;
        snprintf(a, sizeof a, "<a xmlns='" NS_SM "' h='%" PRIu32 "'/>",
                 s->sm.in);
        return session_send_raw(s, a, NULL);
    }
    if (strcmp(name, "a") == 0 && s->sm.state != SM_OFF)
        return on_a(s, el);
    if (strcmp(name, "enabled") == 0 && s->sm.state == SM_ENABLING)
        return on_enabled(s, el);
    if (strcmp(name, "failed") == 0 && s->sm.state == SM_ENABLING)
        return on_failed(s, el);
    if (strcmp(name, "resumed") == 0 && s->state == ST_WAIT_RESUME)
        return on_resumed(s, el);
    if (strcmp(name, "failed") == 0 && s->state == ST_WAIT_RESUME)
        return on_resume_failed(s, el);
    session_trace(s, XMP_TRACE_INFO,
                  "ignoring <%s/> of stream management: not expected now",
                  name);
    return XMP_OK;
}
