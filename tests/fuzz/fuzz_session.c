/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_session.c - the session's state machine fed arbitrary server
 * bytes in each state of the negotiation.
 *
 * The session talks to us over a socketpair; STARTTLS "succeeds" through
 * a TLS layer that passes bytes as they are (tlsfake.c), so the states
 * that exist only over TLS are reached too.  A honest server's script
 * brings the session to the state the input chooses, checking that it
 * got there; then the rest of the input is what the server says, after
 * which the server hangs up.
 *
 * Input: a byte choosing where the script stops (see stages[]), a byte
 * of options (bits 0-1: the mechanism offered, PLAIN, SCRAM-SHA-1 or
 * SCRAM-SHA-256, when the script stops before <success/>; bit 2: legacy
 * session required; bits 3-7: the write size, 0 for all at once), then
 * the server's bytes.  Our request ids are fz-1, fz-2... in order.
 *
 * Properties: the session always ends when the server hangs up, makes
 * progress on every step, never shows the password (or PLAIN's message)
 * in its trace or error, and never sends credentials before TLS.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "session_int.h"
#include "tlsfake.h"

#define ME "alice@example.test"
/* With a character XML cannot carry, even as a reference (XML 1.0 §2.2),
 * so the server can never make it appear: wherever it shows, it is ours. */
#define PASSWORD "fuzz-\001-word"
/* base64 of PLAIN's message, "\0alice\0fuzz-\001-word" */
#define PLAIN_B64 "AGFsaWNlAGZ1enotAS13b3Jk"
/* More than any honest exchange needs: a session that neither reads,
 * ends nor fails in this many steps is stuck. */
#define STEPS_MAX 10000

#define HEADER                                                             \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "           \
    "xmlns:stream='http://etherx.jabber.org/streams' id='s1' "             \
    "from='example.test' version='1.0'>"

struct peer {
    struct xmp_session *s;
    int fd;      /* the server's end */
    int tls;     /* the session has started TLS */
};

static int has(const char *text, size_t len, const char *what)
{
    return memmem(text, len, what, strlen(what)) != NULL;
}

static void trace(void *ud, enum xmp_trace_dir dir, const char *text,
                  size_t len)
{
    (void)ud;
    /* Our SASL elements hold nothing of the server's: their trace must
     * not show the credentials in any form. */
    if (has(text, len, PASSWORD) ||
        (dir == XMP_TRACE_OUT && (!strncmp(text, "<auth", 5) ||
                                  !strncmp(text, "<response", 9)) &&
         has(text, len, PLAIN_B64))) {
        fprintf(stderr, "the trace shows the password: %.*s\n", (int)len,
                text);
        abort();
    }
}

static enum xmp_err password(void *ud, char *buf, size_t len,
                             struct xmp_error *err)
{
    (void)ud; (void)err;
    snprintf(buf, len, "%s", PASSWORD);
    return XMP_OK;
}

static int over(const struct peer *p)
{
    return p->s->state == ST_FAILED || p->s->state == ST_CLOSED;
}

/* Read what the session sent. */
static void drain(struct peer *p)
{
    char b[16384];
    ssize_t r;

    while ((r = read(p->fd, b, sizeof b)) > 0) {
        if (!p->tls && memmem(b, (size_t)r, PLAIN_B64, strlen(PLAIN_B64))) {
            fprintf(stderr, "credentials sent before TLS\n");
            abort();
        }
    }
    p->tls = p->s->st.tp && transport_is_tls(p->s->st.tp);
}

/* Bytes waiting for the session to read. */
static int unread(const struct peer *p)
{
    int n = 0;
    int fd = xmp_session_fd(p->s);

    if (fd < 0 || ioctl(fd, FIONREAD, &n) < 0)
        return 0;
    return n;
}

/* Step until the session has read everything and has nothing to do. */
static void settle(struct peer *p)
{
    int i;

    for (i = 0; i < STEPS_MAX; i++) {
        drain(p);
        if (over(p) || (!unread(p) && !xmp_session_pending(p->s)))
            return;
        xmp_session_step(p->s);
    }
    fprintf(stderr, "the session is stuck in state %d\n", p->s->state);
    abort();
}

static void say(struct peer *p, const char *d, size_t len, size_t chunk)
{
    size_t off = 0, n;
    ssize_t w;
    int i;

    for (i = 0; off < len && !over(p) && i < STEPS_MAX; i++) {
        n = chunk && chunk < len - off ? chunk : len - off;
        w = send(p->fd, d + off, n, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != EINTR)
            return; /* the session closed its end */
        if (w > 0)
            off += (size_t)w;
        settle(p);
    }
    if (off < len && !over(p)) {
        fprintf(stderr, "the session stopped reading in state %d\n",
                p->s->state);
        abort();
    }
}

/* The honest server's script; the session must reach each state. */
enum stage_check { IN_STATE, TLS_UP, AUTHED };
static const struct stage {
    const char *say; /* NULL: built at run time */
    enum session_state want;
    enum stage_check check;
} stages[] = {
    {HEADER, ST_WAIT_FEATURES, IN_STATE},
    {"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
     "</stream:features>", ST_WAIT_PROCEED, IN_STATE},
    {"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", ST_WAIT_FEATURES,
     TLS_UP},
    {HEADER, ST_WAIT_FEATURES, TLS_UP},
    {NULL, ST_WAIT_SASL, IN_STATE}, /* mechanisms */
    {"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", ST_WAIT_FEATURES,
     AUTHED},
    {HEADER, ST_WAIT_FEATURES, AUTHED},
    {NULL, ST_WAIT_BIND, IN_STATE}, /* bind, maybe session */
    {"<iq type='result' id='fz-1'><bind xmlns='urn:ietf:params:xml:ns:"
     "xmpp-bind'><jid>" ME "/fuzz</jid></bind></iq>", ST_READY, IN_STATE},
};
#define NSTAGES (sizeof stages / sizeof stages[0])

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static const char *const mechs[] = {"PLAIN", "SCRAM-SHA-1",
                                        "SCRAM-SHA-256", "PLAIN"};
    struct xmp_session_opts o;
    struct xmp_error err;
    struct peer p;
    char msg[512];
    size_t stop, i, chunk;
    int sv[2], session, tries;

    if (size < 2)
        return 0;
    /* one more than the stages: everything, then the legacy session */
    stop = data[0] % (NSTAGES + 2);
    session = (data[1] & 4) != 0;
    chunk = data[1] >> 3;
    memset(&o, 0, sizeof o);
    o.jid = ME;
    o.password = password;
    o.trace = trace;
    o.timeout_ms = 60000;
    memset(&p, 0, sizeof p);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
        return 0;
    p.fd = sv[1];
    if (!(p.s = xmp_session_new(&o, &err)))
        abort();
    snprintf(p.s->out.id_prefix, sizeof p.s->out.id_prefix, "fz");
    if (session_adopt_connected(p.s, sv[0]) != XMP_OK)
        abort();
    drain(&p);

    for (i = 0; i < stop && i <= NSTAGES; i++) {
        const struct stage *st = &stages[i < NSTAGES ? i : NSTAGES - 1];
        enum session_state want = st->want;
        const char *text = st->say;

        if (i == 4) {
            /* SCRAM cannot be answered from a script: PLAIN when the
             * script goes on to <success/> */
            snprintf(msg, sizeof msg,
                     "<stream:features><mechanisms xmlns='urn:ietf:params:"
                     "xml:ns:xmpp-sasl'><mechanism>%s</mechanism>"
                     "</mechanisms></stream:features>",
                     stop > 5 ? "PLAIN" : mechs[data[1] & 3]);
            text = msg;
        } else if (i == 7) {
            snprintf(msg, sizeof msg,
                     "<stream:features><bind xmlns='urn:ietf:params:xml:ns:"
                     "xmpp-bind'/>%s</stream:features>",
                     session ? "<session xmlns='urn:ietf:params:xml:ns:"
                               "xmpp-session'/>"
                             : "");
            text = msg;
        } else if (i == 8 && session) {
            want = ST_WAIT_SESSION;
        } else if (i == NSTAGES) {
            if (!session)
                break;
            text = "<iq type='result' id='fz-2'/>";
            want = ST_READY;
        }
        say(&p, text, strlen(text), 0);
        if (p.s->state != want ||
            (st->check == TLS_UP && !(p.tls && tlsfake_used())) ||
            (st->check == AUTHED && !p.s->neg.authenticated)) {
            fprintf(stderr, "the script did not reach stage %zu: state %d "
                    "(want %d)%s: %s\n", i, p.s->state, want,
                    st->check == TLS_UP && !tlsfake_used()
                        ? ", the real TLS backend is linked in"
                        : "",
                    p.s->err.msg);
            abort();
        }
    }

    say(&p, (const char *)data + 2, size - 2, chunk);
    /* the server hangs up: the session must end */
    shutdown(p.fd, SHUT_WR);
    for (tries = 0; tries < STEPS_MAX && !over(&p); tries++) {
        settle(&p);
        if (!over(&p))
            xmp_session_step(p.s);
    }
    if (!over(&p)) {
        fprintf(stderr, "the session outlived its server in state %d\n",
                p.s->state);
        abort();
    }
    trace(NULL, XMP_TRACE_INFO, p.s->err.msg, strlen(p.s->err.msg));
    xmp_session_free(p.s);
    close(p.fd);
    return 0;
}
