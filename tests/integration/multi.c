/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * multi.c - two accounts in one process and one poll() loop, driven only
 * through the event interface (fd, events, deadline, step): alice sends
 * bob a message and bob's own session sees it arrive.  Proves the library
 * keeps no global state and that the caller owns the loop.
 *
 * usage: multi HOST:PORT CAFILE   (passwords in ALICE_PASS and BOB_PASS)
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/tap.h"
#include "xmp.h"

#define LOOP_LIMIT_MS 20000

struct account {
    const char *jid;
    const char *password;
    struct xmp_session *s;
    int self_presence; /* bob: the server echoed his presence */
    char *got_body;    /* bob: body of alice's message */
};

static enum xmp_err give_password(void *ud, char *buf, size_t len,
                                  struct xmp_error *err)
{
    const struct account *a = ud;

    (void)err;

    snprintf(buf, len, "%s", a->password);
    return XMP_OK;
}

static int on_stanza(struct xmp_session *s, const struct xmp_node *st,
                     void *ud)
{
    struct account *a = ud;
    const struct xmp_node *b;

    (void)s;

    if (strcmp(xmp_node_name(st), "presence") == 0 &&
        !xmp_node_attr(st, "type"))
        a->self_presence = 1;
    if (strcmp(xmp_node_name(st), "message") == 0 &&
        (b = xmp_node_child(st, NULL, "body")) && !a->got_body)
        a->got_body = xmp_node_text(b);
    return XMP_PASS;
}

/* One poll over both sessions until cond() holds or something fails. */
static int loop(struct account *acc, int n, int (*cond)(struct account *))
{
    int64_t end = xmp_now_ms() + LOOP_LIMIT_MS, dl, now;
    struct pollfd p[2];
    int i, wait;

    while (!cond(acc)) {
        now = xmp_now_ms();
        if (now >= end)
            return 0;
        wait = (int)(end - now);
        for (i = 0; i < n; i++) {
            enum xmp_phase ph = xmp_session_phase(acc[i].s);

            if (ph == XMP_PHASE_FAILED) {
                diag("%s: %s", acc[i].jid, xmp_session_error(acc[i].s)->msg);
                return 0;
            }
            if (xmp_session_pending(acc[i].s))
                wait = 0;
            dl = xmp_session_deadline(acc[i].s);
            if (dl >= 0 && dl - now < wait)
                wait = dl > now ? (int)(dl - now) : 0;
            p[i].fd = xmp_session_fd(acc[i].s);
            p[i].events = xmp_session_events(acc[i].s);
            p[i].revents = 0;
        }
        poll(p, (nfds_t)n, wait);
        for (i = 0; i < n; i++)
            xmp_session_step(acc[i].s);
    }
    return 1;
}

static int both_ready(struct account *a)
{
    return xmp_session_phase(a[0].s) == XMP_PHASE_READY &&
           xmp_session_phase(a[1].s) == XMP_PHASE_READY;
}

static int bob_available(struct account *a)
{
    return a[1].self_presence;
}

static int delivered(struct account *a)
{
    return a[1].got_body != NULL && xmp_session_acked(a[0].s) >= 1;
}

static int both_closed(struct account *a)
{
    return xmp_session_phase(a[0].s) == XMP_PHASE_CLOSED &&
           xmp_session_phase(a[1].s) == XMP_PHASE_CLOSED;
}

int main(int argc, char **argv)
{
    struct account acc[2] = {
        {"alice@example.test/multi", getenv("ALICE_PASS"), NULL, 0, NULL},
        {"bob@example.test/multi", getenv("BOB_PASS"), NULL, 0, NULL},
    };
    struct xmp_session_opts o;
    struct xmp_error err;
    struct xmp_node *pres = NULL, *msg = NULL, *body;
    uint64_t seq = 0;
    int i;

    if (argc != 3 || !acc[0].password || !acc[1].password) {
        printf("1..0 # SKIP usage: multi HOST:PORT CAFILE with ALICE_PASS "
               "and BOB_PASS set\n");
        return 0;
    }
    for (i = 0; i < 2; i++) {
        memset(&o, 0, sizeof o);
        o.jid = acc[i].jid;
        o.server = argv[1];
        o.cafile = argv[2];
        o.timeout_ms = 10000;
        o.password = give_password;
        o.password_ud = &acc[i];
        acc[i].s = xmp_session_new(&o, &err);
        ok(acc[i].s != NULL, "session for %s created", acc[i].jid);
        if (!acc[i].s)
            return tap_done();
        is_int(xmp_handler_add(acc[i].s, NULL, XMP_PRIO_DEFAULT, on_stanza,
                               &acc[i], NULL),
               XMP_OK, "a handler for %s's stanzas", acc[i].jid);
        is_int(xmp_session_start(acc[i].s), XMP_OK, "%s starts", acc[i].jid);
    }
    ok(loop(acc, 2, both_ready), "both sessions ready in one loop");

    pres = xmp_node_new("jabber:client", "presence", &err);
    is_int(xmp_session_send(acc[1].s, pres, NULL), XMP_OK,
           "bob sends available presence");
    ok(loop(acc, 2, bob_available), "the server echoes bob's presence");

    msg = xmp_node_new("jabber:client", "message", &err);
    xmp_node_set_attr(msg, "to", "bob@example.test", &err);
    xmp_node_set_attr(msg, "type", "chat", &err);
    body = xmp_node_add_child(msg, "jabber:client", "body", &err);
    xmp_node_add_text(body, "two sessions, one loop", 22, &err);
    is_int(xmp_session_send(acc[0].s, msg, &seq), XMP_OK, "alice sends");
    is_int(seq, 1, "... as her first stanza");
    is_int(xmp_session_acked(acc[0].s), 0, "not acknowledged before asking");
    is_int(xmp_session_request_ack(acc[0].s), XMP_OK, "alice asks for an ack");
    ok(loop(acc, 2, delivered), "bob receives it and alice is acknowledged");
    is_str(acc[1].got_body, "two sessions, one loop", "bob got the text");

    for (i = 0; i < 2; i++)
        xmp_session_close(acc[i].s);
    ok(loop(acc, 2, both_closed), "both sessions close politely");

    for (i = 0; i < 2; i++) {
        xmp_session_free(acc[i].s);
        free(acc[i].got_body);
    }
    xmp_node_free(pres);
    xmp_node_free(msg);
    return tap_done();
}
