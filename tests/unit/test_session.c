/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test_session.c - the ready session, driven from the other end of a
 * socketpair: handler order and claims, the answer to what nobody
 * claims, requests matched by id and sender, per-request timeouts,
 * acknowledgement, keepalive, and the bounds on what a peer can make us
 * queue.  Every wait is for an event (poll on a descriptor) with a
 * bound, never a fixed sleep.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "session_int.h"
#include "tap.h"

#define ME "alice@example.test"
#define ME_FULL ME "/r"
/* Upper bound of any wait below; generous for valgrind. */
#define WAIT_MS 10000

struct peer {
    struct xmp_session *s;
    int fd;              /* our end */
    struct buf got;      /* what the session sent us */
};

static struct peer *peer_new(int timeout_ms)
{
    struct xmp_session_opts o;
    struct xmp_error err;
    struct peer *p = calloc(1, sizeof *p);
    int sv[2];

    memset(&o, 0, sizeof o);
    o.jid = ME;
    o.timeout_ms = timeout_ms;
    if (!p || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
        return NULL;
    p->s = xmp_session_new(&o, &err);
    p->fd = sv[1];
    if (!p->s || session_adopt(p->s, sv[0], ME_FULL) != XMP_OK)
        return NULL;
    return p;
}

static void peer_free(struct peer *p)
{
    xmp_session_free(p->s);
    if (p->fd >= 0)
        close(p->fd);
    buf_free(&p->got);
    free(p);
}

static void peer_write(struct peer *p, const char *xml)
{
    size_t off = 0, len = strlen(xml);
    ssize_t w;

    while (off < len) {
        w = write(p->fd, xml + off, len - off);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EINTR)
            return;
        else
            poll(&(struct pollfd){ p->fd, POLLOUT, 0 }, 1, WAIT_MS);
    }
}

/* Take what the session wrote so far into p->got. */
static void peer_drain(struct peer *p)
{
    char b[4096];
    ssize_t r;

    while ((r = read(p->fd, b, sizeof b)) > 0)
        buf_append(&p->got, b, (size_t)r);
}

/* One round of the session's loop: poll (bounded by max_ms and the
 * session's deadline), then step. */
static void turn(struct peer *p, int max_ms)
{
    struct pollfd pf;
    int64_t dl = xmp_session_deadline(p->s), now = xmp_now_ms();
    int wait = max_ms;

    if (dl >= 0 && dl - now < wait)
        wait = dl > now ? (int)(dl - now) : 0;
    if (xmp_session_pending(p->s))
        wait = 0;
    pf.fd = xmp_session_fd(p->s);
    pf.events = xmp_session_events(p->s);
    pf.revents = 0;
    if (pf.fd >= 0)
        poll(&pf, 1, wait);
    xmp_session_step(p->s);
}

/* Run the session until cond(p) holds or WAIT_MS pass. */
static int run_until(struct peer *p, int (*cond)(struct peer *))
{
    int64_t end = xmp_now_ms() + WAIT_MS;

    while (!cond(p)) {
        if (xmp_now_ms() > end)
            return 0;
        turn(p, 50);
        peer_drain(p);
    }
    return 1;
}

/* Until the session has sent something containing needle. */
static const char *needle;
static int got_needle(struct peer *p)
{
    return p->got.data && strstr(p->got.data, needle);
}
static int sent(struct peer *p, const char *what)
{
    needle = what;
    return run_until(p, got_needle);
}

/* Let the session read everything the peer wrote: the peer then sends a
 * ping and waits for our automatic answer, which comes after. */
static int synced_n;
static int sync_peer(struct peer *p)
{
    char ping[128], want[64];

    snprintf(ping, sizeof ping,
             "<iq type='get' id='sync%d' from='example.test'>"
             "<ping xmlns='urn:xmpp:ping'/></iq>", ++synced_n);
    snprintf(want, sizeof want, "id='sync%d'", synced_n);
    peer_write(p, ping);
    return sent(p, want);
}

static int is_failed(struct peer *p)
{
    return xmp_session_phase(p->s) == XMP_PHASE_FAILED;
}

/* ---- handlers ---------------------------------------------------------- */

static char order[64];

struct h {
    char mark;
    int claim;
    unsigned remove_id; /* remove this handler when called */
    int add_one;        /* add handler 'z' when called */
    int close;
};

static int h_z(struct xmp_session *s, const struct xmp_node *st, void *ud)
{
    (void)s; (void)ud;
    if (strcmp(xmp_node_name(st), "message") == 0)
        strncat(order, "z", sizeof order - strlen(order) - 1);
    return XMP_PASS;
}

static int h_rec(struct xmp_session *s, const struct xmp_node *st, void *ud)
{
    struct h *h = ud;
    char m[2] = { h->mark, 0 };

    (void)st;
    strncat(order, m, sizeof order - strlen(order) - 1);
    if (h->remove_id) {
        xmp_handler_remove(s, h->remove_id);
        h->remove_id = 0;
    }
    if (h->add_one) {
        xmp_handler_add(s, NULL, XMP_PRIO_OBSERVE + 1, h_z, NULL, NULL);
        h->add_one = 0;
    }
    if (h->close)
        xmp_session_close(s);
    return h->claim ? XMP_HANDLED : XMP_PASS;
}

static void test_order(void)
{
    struct peer *p = peer_new(5000);
    struct h a = { 'a', 0, 0, 0, 0 }, b = { 'b', 1, 0, 0, 0 },
             c = { 'c', 0, 0, 0, 0 }, o = { 'o', 0, 0, 0, 0 };
    struct xmp_match msg = { "message", NULL, NULL, NULL };
    unsigned ida, idb, idc;

    xmp_handler_add(p->s, &msg, XMP_PRIO_DEFAULT, h_rec, &a, &ida);
    xmp_handler_add(p->s, &msg, XMP_PRIO_DEFAULT, h_rec, &b, &idb);
    xmp_handler_add(p->s, &msg, XMP_PRIO_DEFAULT, h_rec, &c, &idc);
    xmp_handler_add(p->s, &msg, XMP_PRIO_OBSERVE, h_rec, &o, NULL);
    order[0] = 0;
    peer_write(p, "<message from='bob@example.test/x'><body>1</body>"
                  "</message>");
    ok(sync_peer(p), "the session read the message");
    is_str(order, "oab", "observer first, then by age; b claims, c is not "
                         "asked");

    /* a removes b and c while the walk is on: neither is called. */
    a.remove_id = idb;
    o.remove_id = idc;
    order[0] = 0;
    peer_write(p, "<message><body>2</body></message>");
    ok(sync_peer(p), "second message read");
    is_str(order, "oa", "handlers removed during the walk are skipped");
    is_int(xmp_handler_remove(p->s, idb), XMP_EUSAGE,
           "a removed handler cannot be removed again");

    /* One added during a walk sees the next stanza, not this one. */
    a.add_one = 1;
    order[0] = 0;
    peer_write(p, "<message><body>3</body></message>");
    ok(sync_peer(p), "third message read");
    is_str(order, "oa", "a handler added during the walk waits");
    order[0] = 0;
    peer_write(p, "<message><body>4</body></message>");
    ok(sync_peer(p), "fourth message read");
    is_str(order, "zoa", "... and sees the next stanza, first by priority");
    is_int(xmp_session_phase(p->s), XMP_PHASE_READY, "still ready");
    peer_free(p);
}

struct count {
    int n;
};

static int h_count(struct xmp_session *s, const struct xmp_node *st, void *ud)
{
    (void)s; (void)st;
    ((struct count *)ud)->n++;
    return XMP_PASS;
}

static void test_match(void)
{
    static const struct {
        struct xmp_match m;
        const char *what;
        int want; /* how many of the stanzas below it matches */
    } t[] = {
        { { "message", NULL, NULL, NULL }, "name message", 4 },
        { { "message", "normal", NULL, NULL }, "type normal (none given)", 2 },
        { { "message", "chat", NULL, NULL }, "type chat", 2 },
        { { NULL, "available", NULL, NULL }, "presence without type", 1 },
        { { "iq", NULL, "urn:example:q", NULL }, "first child's namespace", 1 },
        { { NULL, NULL, NULL, "bob@example.test" }, "bare JID: any resource",
          3 },
        { { NULL, NULL, NULL, "bob@example.test/x" }, "full JID: only itself",
          1 },
        { { NULL, NULL, NULL, "BOB@Example.Test" }, "JIDs compare without "
          "case", 3 },
        { { NULL, NULL, NULL, ME }, "no 'from' is our own account", 2 },
        { { "message", "chat", NULL, "bob@example.test/y" }, "all of them", 1 },
    };
    struct count c[sizeof t / sizeof t[0]];
    struct peer *p = peer_new(5000);
    size_t i;

    memset(c, 0, sizeof c);
    for (i = 0; i < sizeof t / sizeof t[0]; i++)
        is_int(xmp_handler_add(p->s, &t[i].m, XMP_PRIO_OBSERVE, h_count,
                               &c[i], NULL),
               XMP_OK, "add handler: %s", t[i].what);
    peer_write(p,
               "<message from='bob@example.test/x'><body>a</body></message>"
               "<message type='chat' from='bob@example.test/y'/>"
               "<message type='chat' from='bob@example.test'/>"
               "<message><body>from the server</body></message>"
               "<presence/>"
               "<iq type='result' id='nothing' from='carol@example.test'>"
               "<q xmlns='urn:example:q'/></iq>");
    ok(sync_peer(p), "the session read them all");
    for (i = 0; i < sizeof t / sizeof t[0]; i++)
        is_int(c[i].n, t[i].want, "matched: %s", t[i].what);
    is_int(xmp_handler_add(p->s, &(struct xmp_match){ NULL, NULL, NULL,
                                                      "bad@@jid" },
                           0, h_count, &c[0], NULL),
           XMP_EDATA, "a 'from' that is not a JID is refused");
    peer_free(p);
}

static int h_answer(struct xmp_session *s, const struct xmp_node *st,
                    void *ud)
{
    struct xmp_node *r = xmp_node_new("jabber:client", "iq", NULL);

    (void)ud;
    xmp_node_set_attr(r, "type", "result", NULL);
    xmp_node_set_attr(r, "id", xmp_node_attr(st, "id"), NULL);
    xmp_node_set_attr(r, "to", xmp_node_attr(st, "from"), NULL);
    xmp_session_send(s, r, NULL);
    xmp_node_free(r);
    return XMP_HANDLED;
}

static void test_unclaimed(void)
{
    struct peer *p = peer_new(5000);
    struct xmp_match m = { "iq", "set", "jabber:iq:roster", NULL };
    struct count watched = { 0 };

    xmp_handler_add(p->s, NULL, XMP_PRIO_OBSERVE, h_count, &watched, NULL);
    peer_write(p, "<iq type='get' id='q1' from='bob@example.test/x'>"
                  "<query xmlns='jabber:iq:version'/></iq>");
    ok(sent(p, "id='q1'"), "an unclaimed iq get is answered");
    ok(strstr(p->got.data, "<iq id='q1' to='bob@example.test/x' "
                           "type='error'><error type='cancel'>"
                           "<service-unavailable xmlns='urn:ietf:params:"
                           "xml:ns:xmpp-stanzas'/></error></iq>") != NULL,
       "with service-unavailable, to its sender");
    is_int(watched.n, 1, "an observer saw it first");

    peer_write(p, "<iq type='get' id='p1' from='example.test'>"
                  "<ping xmlns='urn:xmpp:ping'/></iq>");
    ok(sent(p, "<iq id='p1' to='example.test' type='result'/>"),
       "a ping is answered with a result");

    xmp_handler_add(p->s, &m, XMP_PRIO_DEFAULT, h_answer, NULL, NULL);
    buf_free(&p->got);
    peer_write(p, "<iq type='set' id='push1'><query xmlns='jabber:iq:"
                  "roster'><item jid='x@y'/></query></iq>");
    ok(sync_peer(p), "the push was read");
    ok(strstr(p->got.data, "<iq type='result' id='push1'/>") != NULL,
       "a claimed iq is answered by its handler");
    ok(!strstr(p->got.data, "service-unavailable"),
       "... and not by the library as well");

    buf_free(&p->got);
    peer_write(p, "<iq type='result' id='stray' from='example.test'/>"
                  "<iq type='error' id='stray2' from='example.test'/>");
    ok(sync_peer(p), "stray results read");
    ok(!strstr(p->got.data, "stray"), "results and errors are never "
                                      "answered");
    peer_free(p);
}

/* RFC 6121 §2.1.6: roster pushes only from our own account. */
static void test_roster_push(void)
{
    static const char *const foreign[] = {
        "from='mallory@evil.test'", "from='example.test'",
        "from='" ME "/other'", "from='bob@example.test'" };
    struct peer *p = peer_new(5000);
    struct xmp_match m = { "iq", "set", "jabber:iq:roster", NULL };
    struct count seen = { 0 };
    char xml[256], id[16], want[128];
    size_t i;

    xmp_handler_add(p->s, &m, XMP_PRIO_OBSERVE, h_count, &seen, NULL);
    for (i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        snprintf(id, sizeof id, "evil%zu", i);
        snprintf(xml, sizeof xml,
                 "<iq type='set' id='%s' %s><query xmlns='jabber:iq:roster'>"
                 "<item jid='mallory@evil.test' subscription='both'/>"
                 "</query></iq>", id, foreign[i]);
        buf_free(&p->got);
        peer_write(p, xml);
        ok(sent(p, id), "a push %s is answered", foreign[i]);
        snprintf(want, sizeof want, "id='%s'", id);
        ok(strstr(p->got.data, want) && strstr(p->got.data, "type='error'") &&
               strstr(p->got.data, "service-unavailable") &&
               !strstr(p->got.data, "type='result'"),
           "... with an error, never a result");
    }
    is_int(seen.n, 0, "no handler saw a foreign push");

    buf_free(&p->got);
    peer_write(p, "<iq type='set' id='own1'><query xmlns='jabber:iq:roster'>"
                  "<item jid='bob@example.test'/></query></iq>");
    ok(sent(p, "<iq id='own1' type='result'/>"),
       "a push without 'from' is answered with a result");
    buf_free(&p->got);
    peer_write(p, "<iq type='set' id='own2' from='" ME "'><query "
                  "xmlns='jabber:iq:roster'><item jid='bob@example.test'/>"
                  "</query></iq>");
    ok(sent(p, "<iq id='own2' to='" ME "' type='result'/>"),
       "so is one from our bare JID");
    is_int(seen.n, 2, "handlers saw both genuine pushes");
    peer_free(p);
}

static int h_free(struct xmp_session *s, const struct xmp_node *st, void *ud)
{
    int *rc = ud;

    (void)st;
    rc[0] = xmp_session_step(s);
    rc[1] = xmp_session_run(s, NULL, NULL, 0);
    xmp_session_free(s);
    return XMP_PASS;
}

static void test_callback_rules(void)
{
    struct peer *p = peer_new(5000);
    struct h closer = { 'x', 0, 0, 0, 1 };
    int rc[2] = { -1, -1 };

    xmp_handler_add(p->s, NULL, 0, h_rec, &closer, NULL);
    peer_write(p, "<message><body>bye</body></message>"
                  "<iq type='get' id='after-close' from='example.test'>"
                  "<query xmlns='urn:example:q'/></iq>");
    ok(sent(p, "</stream:stream>"), "closing from a handler sends our close");
    is_int(xmp_session_phase(p->s), XMP_PHASE_CLOSING, "the session closes");
    ok(!strstr(p->got.data, "after-close"),
       "nothing is answered after our </stream:stream>");
    peer_write(p, "</stream:stream>");
    ok(run_until(p, is_failed) || xmp_session_phase(p->s) ==
       XMP_PHASE_CLOSED, "the peer's close ends it");
    is_int(xmp_session_phase(p->s), XMP_PHASE_CLOSED, "closed politely");
    peer_free(p);

    p = peer_new(5000);
    xmp_handler_add(p->s, NULL, 0, h_free, rc, NULL);
    peer_write(p, "<message><body>free me</body></message>");
    ok(run_until(p, is_failed), "freeing from a handler fails the session");
    is_int(rc[0], XMP_EUSAGE, "step from a handler is refused");
    is_int(rc[1], XMP_EUSAGE, "run from a handler is refused");
    ok(strstr(xmp_session_error(p->s)->msg, "xmp_session_free") != NULL,
       "the error says why: %s", xmp_session_error(p->s)->msg);
    peer_free(p);
}

/* ---- requests ---------------------------------------------------------- */

struct answer {
    int calls;
    char type[16];
    enum xmp_err code;
};

static void on_answer(struct xmp_session *s, const struct xmp_node *reply,
                      const struct xmp_error *e, void *ud)
{
    struct answer *a = ud;

    (void)s;
    a->calls++;
    if (reply)
        snprintf(a->type, sizeof a->type, "%s", xmp_node_attr(reply, "type"));
    a->code = e ? e->code : XMP_OK;
}

static struct xmp_node *req(const char *to, const char *id)
{
    struct xmp_node *iq = xmp_node_new("jabber:client", "iq", NULL);

    xmp_node_set_attr(iq, "type", "get", NULL);
    if (to)
        xmp_node_set_attr(iq, "to", to, NULL);
    if (id)
        xmp_node_set_attr(iq, "id", id, NULL);
    xmp_node_add_child(iq, "urn:example:q", "q", NULL);
    return iq;
}

static struct answer *waiting;
static int answered(struct peer *p)
{
    (void)p;
    return waiting->calls > 0;
}

/* Send a request to 'to', have the peer answer from 'from' (NULL: no
 * from); returns whether the callback took the answer. */
static int reply_counts(const char *to, const char *from, const char *type)
{
    struct peer *p = peer_new(5000);
    struct answer a = { 0, "", XMP_OK };
    struct xmp_node *iq = req(to, NULL);
    struct xmp_match m = { "iq", type, NULL, NULL };
    struct count others = { 0 };
    char r[512];
    int taken;

    xmp_handler_add(p->s, &m, XMP_PRIO_OBSERVE, h_count, &others, NULL);
    xmp_session_send_iq(p->s, iq, 0, on_answer, &a, NULL);
    snprintf(r, sizeof r, "<iq type='%s' id='%s'%s%s%s/>", type,
             xmp_node_attr(iq, "id"), from ? " from='" : "",
             from ? from : "", from ? "'" : "");
    peer_write(p, r);
    sync_peer(p);
    taken = a.calls == 1 && strcmp(a.type, type) == 0;
    if (!taken && others.n != 1)
        taken = -1; /* neither the callback nor the handlers saw it */
    xmp_node_free(iq);
    peer_free(p);
    return taken;
}

static void test_request_sender(void)
{
    static const struct {
        const char *to, *from;
        int want;
    } t[] = {
        { "bob@example.test/x", "bob@example.test/x", 1 },
        { "bob@example.test/x", "BOB@EXAMPLE.TEST/x", 1 },
        { "bob@Example.Test", "bob@example.test", 1 },
        { "bob@example.test/x", "bob@example.test", 0 },
        { "bob@example.test/x", "bob@example.test/y", 0 },
        { "bob@example.test", "mallory@example.test", 0 },
        { "bob@example.test", NULL, 0 },
        { "example.test", "example.test", 1 },
        { "example.test", "mallory@example.test", 0 },
        { "conference.example.test", "example.test", 0 },
        { NULL, NULL, 1 },
        { NULL, ME, 1 },
        { NULL, "example.test", 1 },
        { NULL, ME_FULL, 0 },
        { NULL, "bob@example.test", 0 },
        { ME, NULL, 1 },
        { ME, "example.test", 1 },
        { ME, "mallory@example.test", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof t / sizeof t[0]; i++)
        is_int(reply_counts(t[i].to, t[i].from, i % 2 ? "result" : "error"),
               t[i].want, "request to %s, reply from %s: %s",
               t[i].to ? t[i].to : "(none)", t[i].from ? t[i].from : "(none)",
               t[i].want ? "taken" : "ignored, handlers see it");
}

static void test_request_life(void)
{
    struct peer *p = peer_new(5000);
    struct answer a = { 0, "", XMP_OK }, b = { 0, "", XMP_OK },
                  c = { 0, "", XMP_OK };
    struct xmp_node *iq = req("example.test", NULL), *iq2, *iq3;
    struct xmp_match results = { "iq", "result", NULL, NULL };
    struct count late = { 0 };
    unsigned hb;
    int64_t t0;

    is_int(xmp_session_send_iq(p->s, iq, 300, on_answer, &a, NULL), XMP_OK,
           "request sent");
    ok(xmp_node_attr(iq, "id") != NULL, "it got an id: %s",
       xmp_node_attr(iq, "id"));
    is_int(xmp_session_requests(p->s), 1, "one request outstanding");
    t0 = xmp_now_ms();
    waiting = &a;
    ok(run_until(p, answered), "its callback is called");
    is_int(a.code, XMP_ETIMEOUT, "with a timeout");
    ok(xmp_now_ms() - t0 >= 250, "not before its own deadline");
    is_int(xmp_session_phase(p->s), XMP_PHASE_READY,
           "the session stays ready");
    is_int(xmp_session_requests(p->s), 0, "nothing outstanding");

    xmp_handler_add(p->s, &results, XMP_PRIO_OBSERVE, h_count, &late, NULL);
    peer_write(p, "<iq type='result' from='example.test' id='");
    peer_write(p, xmp_node_attr(iq, "id"));
    peer_write(p, "'/>");
    ok(sync_peer(p), "a late reply is read");
    is_int(a.calls, 1, "... and does not call the callback again");
    is_int(late.n, 1, "... but goes to the handlers");

    /* A cancelled request is forgotten. */
    iq2 = req("example.test", "cancel-me");
    xmp_session_send_iq(p->s, iq2, 0, on_answer, &b, &hb);
    is_int(xmp_iq_cancel(p->s, hb), XMP_OK, "cancel");
    is_int(xmp_iq_cancel(p->s, hb), XMP_EUSAGE, "cancel twice");
    peer_write(p, "<iq type='result' from='example.test' id='cancel-me'/>");
    ok(sync_peer(p), "its reply is read");
    is_int(b.calls, 0, "a cancelled request's callback is not called");

    /* The session ends with a request outstanding. */
    iq3 = req("example.test", "never");
    xmp_session_send_iq(p->s, iq3, 0, on_answer, &c, NULL);
    close(p->fd);
    p->fd = -1;
    waiting = &c;
    ok(run_until(p, answered), "a lost connection ends the request");
    is_int(c.code, XMP_EUNREACH, "... with the session's error");
    is_int(xmp_session_phase(p->s), XMP_PHASE_FAILED, "the session failed");
    xmp_node_free(iq);
    xmp_node_free(iq2);
    xmp_node_free(iq3);
    peer_free(p);

    p = peer_new(5000);
    iq = xmp_node_new("jabber:client", "iq", NULL);
    xmp_node_set_attr(iq, "type", "result", NULL);
    is_int(xmp_session_send_iq(p->s, iq, 0, on_answer, &a, NULL), XMP_EUSAGE,
           "a result is not a request");
    xmp_node_free(iq);
    iq = req("bad@@jid", NULL);
    is_int(xmp_session_send_iq(p->s, iq, 0, on_answer, &a, NULL), XMP_EDATA,
           "a request to an invalid JID is refused");
    ok(!strstr(p->got.data ? p->got.data : "", "bad@@jid"),
       "... and not sent");
    xmp_node_free(iq);
    peer_free(p);
}

/* ---- acknowledgement and keepalive ------------------------------------- */

static uint64_t want_seq;
static int acked(struct peer *p)
{
    return xmp_session_acked(p->s) >= want_seq ||
           xmp_session_ack_error(p->s);
}

static void answer_last_ping(struct peer *p, const char *from)
{
    const char *at = strstr(p->got.data, "urn:xmpp:ping"), *id;
    char r[256];

    while (at && strstr(at + 1, "urn:xmpp:ping"))
        at = strstr(at + 1, "urn:xmpp:ping");
    /* the id comes before the payload: find the last id='...' before it */
    id = p->got.data;
    for (const char *q = p->got.data; (q = strstr(q, " id='")) && q < at; q++)
        id = q + 5;
    snprintf(r, sizeof r, "<iq type='result' id='%.*s' from='%s'/>",
             (int)strcspn(id, "'"), id, from);
    peer_write(p, r);
}

static void test_ack(void)
{
    struct peer *p = peer_new(300);
    struct xmp_node *m = xmp_node_new("jabber:client", "message", NULL);
    uint64_t seq;

    xmp_node_set_attr(m, "to", "bob@example.test", NULL);
    is_int(xmp_session_send(p->s, m, &seq), XMP_OK, "message sent");
    is_int(seq, 1, "as stanza 1");
    xmp_session_request_ack(p->s);
    ok(sent(p, "urn:xmpp:ping"), "the barrier pings the server");
    answer_last_ping(p, "mallory@example.test");
    ok(sync_peer(p), "a spoofed answer is read");
    is_int(xmp_session_acked(p->s), 0, "... and does not count");
    answer_last_ping(p, "example.test");
    want_seq = seq;
    ok(run_until(p, acked), "the server's answer acknowledges");
    ok(xmp_session_acked(p->s) >= seq, "acked %llu >= %llu",
       (unsigned long long)xmp_session_acked(p->s), (unsigned long long)seq);

    xmp_session_send(p->s, m, &seq);
    xmp_session_request_ack(p->s);
    want_seq = seq;
    ok(run_until(p, acked), "an unanswered barrier ends");
    ok(xmp_session_ack_error(p->s) != NULL, "with an ack error");
    is_int(xmp_session_ack_error(p->s)->code, XMP_ETIMEOUT, "a timeout");
    ok(xmp_session_acked(p->s) < seq, "the message is not acknowledged");
    is_int(xmp_session_phase(p->s), XMP_PHASE_READY, "the session is up");
    xmp_node_free(m);
    peer_free(p);
}

static int pinged(struct peer *p)
{
    return p->got.data && strstr(p->got.data, "urn:xmpp:ping");
}

static void test_keepalive(void)
{
    struct peer *p = peer_new(5000);

    xmp_session_set_keepalive(p->s, 200, 300);
    ok(run_until(p, pinged), "a quiet session pings the server");
    answer_last_ping(p, "example.test");
    buf_free(&p->got);
    ok(run_until(p, pinged), "answered, it pings again after another quiet "
                             "spell");
    is_int(xmp_session_phase(p->s), XMP_PHASE_READY, "and is still ready");
    ok(run_until(p, is_failed), "an unanswered ping fails the session");
    is_int(xmp_session_error(p->s)->code, XMP_EUNREACH,
           "as a lost connection: %s", xmp_session_error(p->s)->msg);
    peer_free(p);

    p = peer_new(5000);
    is_int(xmp_session_deadline(p->s), -1, "no keepalive, no deadline");
    peer_free(p);
}

/* ---- stream management (XEP-0198) -------------------------------------- */

#define P32 4294967296ULL

static void test_sm_unwrap(void)
{
    is_int(sm_unwrap(0, 0), 0, "h 0 of 0");
    is_int(sm_unwrap(0, 5), 5, "h 5 after 0");
    is_int(sm_unwrap(5, 5), 5, "the same h again");
    ok(sm_unwrap(P32 - 2, 1) == P32 + 1, "h 1 after 2^32 - 2: wrapped once");
    ok(sm_unwrap(P32 - 1, 0) == P32, "h 0 after 2^32 - 1: 2^32");
    ok(sm_unwrap(3 * P32 + 7, 9) == 3 * P32 + 9, "after three wraps");
    ok(sm_unwrap(3 * P32 + 7, 7) == 3 * P32 + 7, "unchanged after three");
    /* h never goes back: a smaller one reads as almost 2^32 ahead, which
     * no sender has sent, so it is caught as too high */
    ok(sm_unwrap(10, 9) == 10 + P32 - 1, "h going back is far ahead");
    ok(sm_unwrap(0, 4294967295U) == P32 - 1, "h 2^32 - 1 from 0 is not -1");
}

static int ack_or_fail(struct peer *p)
{
    return xmp_session_acked(p->s) >= want_seq ||
           xmp_session_ack_error(p->s) || is_failed(p);
}

static void test_sm(void)
{
    struct peer *p = peer_new(5000);
    struct xmp_node *m = xmp_node_new("jabber:client", "message", NULL);
    uint64_t seq = 0;
    int i;

    xmp_node_set_attr(m, "to", "bob@example.test", NULL);
    p->s->sm.offered = 1;
    is_int(sm_enable(p->s), XMP_OK, "<enable/> queued");
    ok(sent(p, "<enable xmlns='urn:xmpp:sm:3'/>"), "<enable/> sent");
    /* Before <enabled/>: counted all the same, and <r/> goes out. */
    xmp_session_send(p->s, m, &seq);
    xmp_session_request_ack(p->s);
    ok(sent(p, "<r xmlns='urn:xmpp:sm:3'/>"), "<r/> sent before <enabled/>");
    ok(!strstr(p->got.data, "urn:xmpp:ping"), "no ping");
    peer_write(p, "<enabled xmlns='urn:xmpp:sm:3' id='x' resume='true'/>"
                  "<a xmlns='urn:xmpp:sm:3' h='1'/>");
    want_seq = seq;
    ok(run_until(p, ack_or_fail), "acknowledged by <a/>");
    is_int(xmp_session_acked(p->s), 1, "acked 1");
    ok(p->s->sm.id && !strcmp(p->s->sm.id, "x"), "resumable id kept");

    /* Our h: two stanzas handled since <enabled/>, the nonza not. */
    peer_write(p, "<message from='bob@example.test/x'><body>a</body></message>"
                  "<presence from='bob@example.test/x'/>"
                  "<r xmlns='urn:xmpp:sm:3'/>");
    ok(sent(p, "<a xmlns='urn:xmpp:sm:3' h='2'/>"), "the server's <r/> "
                                                     "answered with h 2");

    /* As if 2^32 - 2 stanzas had been sent and acknowledged since
     * <enable/>: the next four wrap h past 2^32 - 1 to 2. */
    p->s->out.sent_seq = p->s->out.acked_seq = p->s->sm.handled = P32 - 2;
    for (i = 0; i < 4; i++)
        xmp_session_send(p->s, m, &seq);
    ok(seq == P32 + 2, "stanza 2^32 + 2 sent");
    xmp_session_request_ack(p->s);
    peer_write(p, "<a xmlns='urn:xmpp:sm:3' h='4294967295'/>");
    want_seq = P32 - 1;
    ok(run_until(p, ack_or_fail) && xmp_session_acked(p->s) == P32 - 1,
       "h 2^32 - 1: three of the four");
    peer_write(p, "<a xmlns='urn:xmpp:sm:3' h='2'/>");
    want_seq = seq;
    ok(run_until(p, ack_or_fail) && xmp_session_acked(p->s) == P32 + 2,
       "h 2, wrapped: all four");
    is_int(xmp_session_phase(p->s), XMP_PHASE_READY, "still ready");

    peer_write(p, "<a xmlns='urn:xmpp:sm:3' h='3'/>");
    ok(run_until(p, is_failed), "h 3, one more than sent: the session fails");
    is_int(xmp_session_error(p->s)->code, XMP_EPROTO, "protocol error: %s",
           xmp_session_error(p->s)->msg);
    ok(xmp_session_acked(p->s) == P32 + 2, "and the count stays");
    peer_drain(p);
    ok(p->got.data && strstr(p->got.data, "<handled-count-too-high "
                                          "xmlns='urn:xmpp:sm:3' h='3' "
                                          "send-count='2'/>"),
       "handled-count-too-high sent, with 32-bit counts");
    xmp_node_free(m);
    peer_free(p);
}

static void test_sm_silent(void)
{
    struct peer *p = peer_new(300);
    struct xmp_node *m = xmp_node_new("jabber:client", "message", NULL);
    uint64_t seq = 0;

    xmp_node_set_attr(m, "to", "bob@example.test", NULL);
    p->s->sm.offered = 1;
    p->s->o.resume = 1;
    sm_enable(p->s);
    ok(sent(p, "<enable xmlns='urn:xmpp:sm:3' resume='true'/>"),
       "resumable asked for");
    peer_write(p, "<enabled xmlns='urn:xmpp:sm:3'/>");
    xmp_session_send(p->s, m, &seq);
    xmp_session_request_ack(p->s);
    want_seq = seq;
    ok(run_until(p, ack_or_fail), "an unanswered <r/> ends");
    ok(xmp_session_ack_error(p->s) &&
       xmp_session_ack_error(p->s)->code == XMP_ETIMEOUT, "in a timeout");
    is_int(xmp_session_phase(p->s), XMP_PHASE_READY, "the session is up");
    xmp_session_request_ack(p->s);
    ok(!xmp_session_ack_error(p->s), "a new request clears the error");
    peer_write(p, "<a xmlns='urn:xmpp:sm:3' h='1'/>");
    ok(run_until(p, ack_or_fail) && xmp_session_acked(p->s) == seq,
       "a late <a/> still counts");
    xmp_node_free(m);
    peer_free(p);
}

/* ---- bounds ------------------------------------------------------------ */

static void test_output_cap(void)
{
    struct peer *p = peer_new(5000);
    struct xmp_node *m = xmp_node_new("jabber:client", "message", NULL), *b;
    static char text[32 * 1024];
    int i, writable_seen_false = 0;

    memset(text, 'x', sizeof text - 1);
    b = xmp_node_add_child(m, "jabber:client", "body", NULL);
    xmp_node_add_text(b, text, strlen(text), NULL);
    for (i = 0; i < 400 && xmp_session_phase(p->s) == XMP_PHASE_READY; i++) {
        if (!xmp_session_writable(p->s))
            writable_seen_false = 1;
        xmp_session_send(p->s, m, NULL);
        turn(p, 0);
    }
    ok(writable_seen_false, "the queue stops being writable when the peer "
                            "does not read");
    is_int(xmp_session_phase(p->s), XMP_PHASE_FAILED,
           "a caller that goes on fails the session");
    is_int(xmp_session_error(p->s)->code, XMP_ETEMP, "%s",
           xmp_session_error(p->s)->msg);
    xmp_node_free(m);
    peer_free(p);
}

static void test_flood(void)
{
    struct peer *p = peer_new(400);
    static const char ping[] = "<iq type='get' id='f' from='example.test'>"
                               "<ping xmlns='urn:xmpp:ping'/></iq>";
    char chunk[sizeof ping * 64];
    size_t max_queued = 0;
    int64_t t0 = xmp_now_ms();
    int i;

    for (i = 0; i < 64; i++)
        memcpy(chunk + i * (sizeof ping - 1), ping, sizeof ping - 1);
    chunk[64 * (sizeof ping - 1)] = 0;
    /* The peer writes pings as fast as it can and never reads. */
    while (xmp_session_phase(p->s) == XMP_PHASE_READY &&
           xmp_now_ms() - t0 < WAIT_MS) {
        (void)!write(p->fd, chunk, strlen(chunk));
        turn(p, 10);
        if (xmp_session_queued(p->s) > max_queued)
            max_queued = xmp_session_queued(p->s);
    }
    is_int(xmp_session_phase(p->s), XMP_PHASE_FAILED,
           "a peer that floods and never reads ends the session");
    is_int(xmp_session_error(p->s)->code, XMP_ETIMEOUT, "as a timeout: %s",
           xmp_session_error(p->s)->msg);
    ok(max_queued <= STREAM_OUT_HIGH + STREAM_READ_BUDGET,
       "the queue stayed bounded: at most %zu bytes", max_queued);
    peer_free(p);
}

/* Two requests may share an id; a reply from the wrong one's peer must
 * not hide the right one's. */
static void test_shared_id(void)
{
    struct peer *p = peer_new(5000);
    struct answer a = { 0, "", XMP_OK }, b = { 0, "", XMP_OK };
    struct xmp_node *qa = req("a.example.test", "q");
    struct xmp_node *qb = req("b.example.test", "q");

    xmp_session_send_iq(p->s, qa, 0, on_answer, &a, NULL);
    xmp_session_send_iq(p->s, qb, 0, on_answer, &b, NULL);
    peer_write(p, "<iq type='result' id='q' from='b.example.test'/>"
                  "<iq type='error' id='q' from='a.example.test'/>");
    ok(sync_peer(p), "both replies read");
    is_int(b.calls, 1, "the second request got its reply");
    is_str(b.type, "result", "... the result from b");
    is_int(a.calls, 1, "the first request got its own");
    is_str(a.type, "error", "... the error from a");
    xmp_node_free(qa);
    xmp_node_free(qb);
    peer_free(p);
}

/* A refused call must not hide why a session failed. */
static void test_refusal_keeps_failure(void)
{
    struct peer *p = peer_new(5000);
    struct xmp_node *m = xmp_node_new("jabber:client", "message", NULL);

    peer_write(p, "<stream:error><policy-violation xmlns='urn:ietf:params:"
                  "xml:ns:xmpp-streams'/></stream:error>");
    ok(run_until(p, is_failed), "a stream error fails the session");
    is_int(xmp_session_send(p->s, m, NULL), XMP_EPROTO,
           "a send afterwards returns the failure");
    is_int(xmp_session_request_ack(p->s), XMP_EPROTO, "so does an ack request");
    ok(strstr(xmp_session_error(p->s)->msg, "policy-violation") != NULL,
       "the reason stays: %s", xmp_session_error(p->s)->msg);
    xmp_node_free(m);
    peer_free(p);
}

/* RFC 6120 §4.9.3: a server going away is unreachable, like a lost
 * connection; any other condition is a protocol error. */
static void test_stream_error_codes(void)
{
    static const struct {
        const char *el;
        enum xmp_err code;
    } t[] = {
        { "<system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>",
          XMP_EUNREACH },
        { "<connection-timeout xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
          "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>idle</text>",
          XMP_EUNREACH },
        { "<reset xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>",
          XMP_EUNREACH },
        { "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>",
          XMP_EPROTO },
        { "<not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>",
          XMP_EPROTO },
        /* the first condition counts */
        { "<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
          "<system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>",
          XMP_EPROTO },
        /* only in the streams namespace */
        { "<system-shutdown xmlns='urn:example:other'/>", XMP_EPROTO },
    };
    char x[512];
    size_t i;

    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct peer *p = peer_new(5000);

        snprintf(x, sizeof x, "<stream:error>%s</stream:error>", t[i].el);
        peer_write(p, x);
        ok(run_until(p, is_failed), "stream error %zu fails the session", i);
        is_int(xmp_session_error(p->s)->code, t[i].code,
               "... with the code of its condition: %s",
               xmp_session_error(p->s)->msg);
        peer_free(p);
    }
}

static int h_big_then_close(struct xmp_session *s, const struct xmp_node *st,
                            void *ud)
{
    static char text[STREAM_OUT_HIGH + 1024];
    struct xmp_node *m = xmp_node_new("jabber:client", "message", NULL);
    int *n = ud;

    (void)st;
    if ((*n)++)
        return XMP_PASS;
    memset(text, 'y', sizeof text - 1);
    xmp_node_add_text(xmp_node_add_child(m, "jabber:client", "body", NULL),
                      text, strlen(text), NULL);
    xmp_session_send(s, m, NULL);
    xmp_node_free(m);
    xmp_session_close(s);
    return XMP_PASS;
}

static int is_over(struct peer *p)
{
    return xmp_session_phase(p->s) == XMP_PHASE_CLOSED ||
           xmp_session_phase(p->s) == XMP_PHASE_FAILED;
}

/* Closing from a handler while the peer is not reading ends the session
 * at once; the rest of the buffer is dropped, not an error, and requests
 * still out learn it. */
static void test_close_at_once(void)
{
    struct peer *p = peer_new(5000);
    struct answer a = { 0, "", XMP_OK };
    struct xmp_node *q = req("example.test", "pending");
    int calls = 0;

    xmp_session_send_iq(p->s, q, 0, on_answer, &a, NULL);
    xmp_handler_add(p->s, &(struct xmp_match){ "message", NULL, NULL, NULL },
                    0, h_big_then_close, &calls, NULL);
    peer_write(p, "<message><body>1</body></message>"
                  "<message><body>2</body></message>");
    ok(run_until(p, is_over), "the session ends");
    is_int(xmp_session_phase(p->s), XMP_PHASE_CLOSED, "closed, not failed");
    is_int(calls, 1, "the second message reached no handler");
    is_int(a.calls, 1, "the outstanding request was told");
    is_int(a.code, XMP_EUNREACH, "... that the session ended");
    xmp_node_free(q);
    peer_free(p);
}

int main(void)
{
    test_order();
    test_match();
    test_unclaimed();
    test_roster_push();
    test_callback_rules();
    test_request_sender();
    test_request_life();
    test_ack();
    test_keepalive();
    test_sm_unwrap();
    test_sm();
    test_sm_silent();
    test_output_cap();
    test_flood();
    test_shared_id();
    test_refusal_keeps_failure();
    test_stream_error_codes();
    test_close_at_once();
    return tap_done();
}
