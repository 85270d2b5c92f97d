/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * holder.c - the session holder: a fourth driver of the loop, holding one
 * account's session while commands of the same user run through it.
 * Each command connects to the holder's unix socket; the protocol layer
 * serves it as a peer (the server side of a client stream, xmp.h), and
 * the holder relays: the command's stanzas go up the held session, and
 * what the server sends comes down to the commands it concerns.
 *
 * Trust: only the directory's mode (0700) and the peer's uid
 * (SO_PEERCRED) keep others out; the link carries no password and no
 * TLS.  Acknowledgement stays end to end: a command's <r/> is answered
 * only once the server has acknowledged every stanza of that command
 * sent before it, so "sent" still means "the server has it".
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* One slot of the poll set is the listening socket. */
#define HOLDER_MAX_PEERS (CLI_POLL_EXTRA_MAX - 1)
/* Reconnection: from 1 s, doubling, to 60 s, each +/- 25 %. */
#define HOLDER_BACKOFF_MIN_MS 1000
#define HOLDER_BACKOFF_MAX_MS 60000

/* ---- where: the directory, the socket, the lock -------------------------- */

static int name_escape(const char *jid, char *out, size_t len)
{
    struct xmp_jid j;
    char *bare, *p;
    size_t n = 0;

    if (!jid || xmp_jid_parse(jid, &j, NULL) != XMP_OK)
        return -1;
    bare = xmp_jid_bare(&j);
    xmp_jid_clear(&j);
    if (!bare)
        return -1;
    for (p = bare; *p && n + 4 < len; p++) {
        unsigned char ch = (unsigned char)*p;

        if ((ch >= 'A' && ch <= 'Z'))
            out[n++] = (char)(ch - 'A' + 'a'); /* one holder per account */
        else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 ch == '@' || ch == '.' || ch == '_' || ch == '-')
            out[n++] = (char)ch;
        else
            n += (size_t)snprintf(out + n, len - n, "%%%02X", ch);
    }
    out[n] = '\0';
    n = *p ? (size_t)-1 : n;
    free(bare);
    return n == (size_t)-1 ? -1 : 0;
}

/* The directory must be ours and writable by nobody else: whoever can
 * write it can put a socket of their own where commands look. */
static int dir_ok(const char *dir, int quiet)
{
    struct stat st;

    if (lstat(dir, &st) < 0) {
        if (!quiet)
            cli_error("cannot use %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
        (st.st_mode & 022)) {
        if (!quiet)
            cli_error("refusing to use %s: not a directory of ours that "
                      "only we can write",
                      dir);
        return -1;
    }
    return 0;
}

int holder_paths(const struct cli_opts *o, int make_dir, int quiet,
                 struct holder_paths *hp)
{
    const char *rt = getenv("XDG_RUNTIME_DIR");
    char name[160];
    int n;

    if (!o->jid) {
        if (!quiet)
            cli_error("no account: use --jid JID or an account in the "
                      "config file");
        return EXIT_USAGE;
    }
    if (name_escape(o->jid, name, sizeof name) < 0) {
        if (!quiet)
            cli_error("invalid account JID '%s'", o->jid);
        return EXIT_USAGE;
    }
    if (rt && *rt)
        n = snprintf(hp->dir, sizeof hp->dir, "%s/xmpctl", rt);
    else
        n = snprintf(hp->dir, sizeof hp->dir, "/tmp/xmpctl-%lu",
                     (unsigned long)getuid());
    /* sun_path holds 108 bytes */
    if (n < 0 || (size_t)n + strlen(name) + 8 >=
                     sizeof ((struct sockaddr_un *)0)->sun_path) {
        if (!quiet)
            cli_error("the session socket's path would be too long: %s/%s",
                      hp->dir, name);
        return EXIT_USAGE;
    }
    snprintf(hp->sock, sizeof hp->sock, "%s/%s.sock", hp->dir, name);
    snprintf(hp->lock, sizeof hp->lock, "%s/%s.lock", hp->dir, name);
    snprintf(hp->status, sizeof hp->status, "%s/%s.status", hp->dir, name);
    snprintf(hp->log, sizeof hp->log, "%s/%s.log", hp->dir, name);
    if (make_dir && mkdir(hp->dir, 0700) < 0 && errno != EEXIST) {
        if (!quiet)
            cli_error("cannot create %s: %s", hp->dir, strerror(errno));
        return EXIT_OSERR;
    }
    return dir_ok(hp->dir, quiet) < 0 ? (make_dir ? EXIT_NOPERM
                                                  : EXIT_UNAVAILABLE)
                                      : 0;
}

/* ---- the holder ------------------------------------------------------------ */

struct holder;

struct slot {
    struct holder *h;
    struct xmp_peer *p;
    uint64_t last_seq; /* the held session's number of its latest stanza */
    int r_pending;     /* an <r/> waits for the server */
    uint32_t r_h;
    uint64_t r_seq;
    int presence_sent; /* its initial presence went up */
};

/* An iq of a client on its way: its answer goes back to it alone. */
struct iqmap {
    char *ours, *theirs;
    struct slot *s;
    struct iqmap *next;
};

/* The latest presence of each contact (full JID), serialized: what a
 * command's initial presence would have brought it from the server. */
struct seen {
    char *from, *xml;
    struct seen *next;
};

struct holder {
    struct cli *c;
    struct seen *seen;
    int lfd;
    const struct holder_paths *hp;
    struct slot *slots[HOLDER_MAX_PEERS];
    size_t n;
    struct iqmap *iqs;
    unsigned iq_counter;
    char *presence;   /* the held presence, serialized; NULL: none */
    int up;           /* the held session is ready and relayed */
    time_t since;     /* when it last became ready */
    int64_t retry_at; /* when to reconnect, -1: not waiting */
    int backoff_ms;
    int stop;
    int said;         /* the held presence is already out */
    unsigned resumed; /* resumptions of the held session seen */
    struct xmp_session *watched; /* the session on_server is added to */
    size_t attached;  /* the clients the status file counts */
};

/* Clients at work: bound, and past their first step (stream management
 * enabled), so that a command counted here sees what comes next. */
static size_t count_attached(const struct holder *h)
{
    size_t i, n = 0;

    for (i = 0; i < h->n; i++)
        n += xmp_peer_sm(h->slots[i]->p) != 0;
    return n;
}

/* The holder's log: its own file next to the socket (a detached holder
 * has no stderr), and stderr. */
static FILE *log_file;

static void hlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void hlog(const char *fmt, ...)
{
    char when[32], msg[640];
    time_t now = time(NULL);
    struct tm tm;
    va_list ap;

    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime_r(&now, &tm));
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "xmpctl: session: %s %s\n", when, msg);
    fflush(stderr);
    if (log_file) {
        fprintf(log_file, "%s %s\n", when, msg);
        fflush(log_file);
    }
}

/* "away (backup running)" from the held presence. */
static void describe_presence(const char *xml, char *buf, size_t len)
{
    struct xmp_node *n, *show, *status;
    char *s = NULL, *t = NULL;

    snprintf(buf, len, "%s", xml ? "available" : "none");
    if (!xml || !(n = xmp_node_parse(xml, strlen(xml), NULL)))
        return;
    show = xmp_node_child(n, "jabber:client", "show");
    status = xmp_node_child(n, "jabber:client", "status");
    if (show)
        s = xmp_node_text(show);
    if (status)
        t = xmp_node_text(status);
    snprintf(buf, len, "%s%s%s%s", s && *s ? s : "available",
             t && *t ? " (" : "", t && *t ? t : "", t && *t ? ")" : "");
    free(s);
    free(t);
    xmp_node_free(n);
}

/* The status file that 'session status' prints: written whole, then
 * renamed over the old one. */
static void write_status(struct holder *h)
{
    struct xmp_session_info i;
    char tmp[340], since[32], pres[300];
    struct tm tm;
    FILE *f;
    int fd;

    snprintf(tmp, sizeof tmp, "%s.new", h->hp->status);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
              0600);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        if (fd >= 0)
            close(fd);
        return;
    }
    memset(&i, 0, sizeof i);
    if (h->c->session)
        xmp_session_get_info(h->c->session, &i);
    strftime(since, sizeof since, "%Y-%m-%d %H:%M:%S UTC",
             gmtime_r(&h->since, &tm));
    describe_presence(h->presence, pres, sizeof pres);
    fprintf(f, "pid          %ld\n", (long)getpid());
    fprintf(f, "state        %s\n", h->up ? "connected" : "reconnecting");
    fprintf(f, "jid          %s\n",
            h->up && i.bound_jid ? i.bound_jid : h->c->o.jid);
    fprintf(f, "since        %s\n", since);
    h->attached = count_attached(h);
    fprintf(f, "clients      %zu\n", h->attached);
    fprintf(f, "presence     %s\n", pres);
    if (fclose(f) == 0)
        rename(tmp, h->hp->status);
    else
        unlink(tmp);
}

static void forget_iqs(struct holder *h, struct slot *s)
{
    struct iqmap **pp = &h->iqs, *m;

    while ((m = *pp)) {
        if (!s || m->s == s) {
            *pp = m->next;
            free(m->ours);
            free(m->theirs);
            free(m);
        } else {
            pp = &m->next;
        }
    }
}

static void forget_seen(struct holder *h)
{
    struct seen *s;

    while ((s = h->seen)) {
        h->seen = s->next;
        free(s->from);
        free(s->xml);
        free(s);
    }
}

/* Available or unavailable presence from the server: keep the latest
 * per sender. */
static void note_seen(struct holder *h, const struct xmp_node *st)
{
    const char *from = xmp_node_attr(st, "from");
    const char *type = xmp_node_attr(st, "type");
    struct seen **pp, *s;

    if (!from || (type && strcmp(type, "unavailable") != 0))
        return;
    for (pp = &h->seen; (s = *pp); pp = &s->next)
        if (strcmp(s->from, from) == 0)
            break;
    if (s) {
        *pp = s->next;
        free(s->from);
        free(s->xml);
        free(s);
    }
    if (type || !(s = calloc(1, sizeof *s)))
        return;
    if (!(s->from = strdup(from)) ||
        !(s->xml = xmp_node_to_string(st, "jabber:client"))) {
        free(s->from);
        free(s);
        return;
    }
    s->next = h->seen;
    h->seen = s;
}

/* A command's initial presence: the server answers it with our
 * contacts' presence only once per session (RFC 6121 §4.2.2), so the
 * holder says what it has seen. */
static void replay_seen(struct holder *h, struct xmp_peer *p)
{
    struct seen *s;
    struct xmp_node *n;

    for (s = h->seen; s; s = s->next)
        if ((n = xmp_node_parse(s->xml, strlen(s->xml), NULL))) {
            xmp_peer_send(p, n);
            xmp_node_free(n);
        }
}

static void broadcast(struct holder *h, const struct xmp_node *st)
{
    size_t i;

    for (i = 0; i < h->n; i++)
        if (xmp_peer_ready(h->slots[i]->p))
            xmp_peer_send(h->slots[i]->p, st);
}

/* A copy of a borrowed tree, to change. */
static struct xmp_node *node_copy(const struct xmp_node *n)
{
    char *x = xmp_node_to_string(n, "jabber:client");
    struct xmp_node *c = x ? xmp_node_parse(x, strlen(x), NULL) : NULL;

    free(x);
    return c;
}

/* What the server sends: messages, presence and roster pushes to every
 * client; answers to a client's iq to that client; the rest (pings,
 * disco) stays with the holder's protocol layer, which answers it. */
static int on_server(struct xmp_session *s, const struct xmp_node *st,
                     void *ud)
{
    struct holder *h = ud;
    const char *name = xmp_node_name(st), *type = xmp_node_attr(st, "type");
    const char *id = xmp_node_attr(st, "id");
    struct iqmap **pp, *m;

    (void)s;
    if (strcmp(name, "message") == 0 || strcmp(name, "presence") == 0) {
        if (name[0] == 'p')
            note_seen(h, st);
        broadcast(h, st);
        return XMP_PASS;
    }
    if (strcmp(name, "iq") != 0 || !type)
        return XMP_PASS;
    if (strcmp(type, "set") == 0 &&
        xmp_node_child(st, "jabber:iq:roster", "query")) {
        broadcast(h, st); /* the library checks the sender and answers */
        return XMP_PASS;
    }
    if ((strcmp(type, "result") != 0 && strcmp(type, "error") != 0) || !id)
        return XMP_PASS;
    for (pp = &h->iqs; (m = *pp); pp = &m->next) {
        struct xmp_node *c;

        if (strcmp(m->ours, id) != 0)
            continue;
        *pp = m->next;
        if (xmp_peer_ready(m->s->p) && (c = node_copy(st))) {
            if (xmp_node_set_attr(c, "id", m->theirs, NULL) == XMP_OK)
                xmp_peer_send(m->s->p, c);
            xmp_node_free(c);
        }
        free(m->ours);
        free(m->theirs);
        free(m);
        return XMP_HANDLED;
    }
    return XMP_PASS;
}

static const char *const down_text =
    "the session holder has lost its connection to the server";

/* A client's stanza goes up as it is, but for the id of an iq request
 * (ours, so that clients cannot collide) and nothing is kept for later:
 * while the server is away a client is told so at once. */
static void on_peer_stanza(void *ud, struct xmp_peer *p, struct xmp_node *st,
                           uint32_t hh)
{
    struct slot *sl = ud;
    struct holder *h = sl->h;
    const char *name = xmp_node_name(st), *type = xmp_node_attr(st, "type");
    uint64_t seq = 0;
    char id[32];

    (void)hh;
    if (!h->up) {
        xmp_peer_close(p, "remote-connection-failed", down_text);
        return;
    }
    if (strcmp(name, "iq") == 0 && type &&
        (strcmp(type, "get") == 0 || strcmp(type, "set") == 0)) {
        struct iqmap *m = calloc(1, sizeof *m);
        const char *theirs = xmp_node_attr(st, "id");

        snprintf(id, sizeof id, "xmpctl-held-%u", ++h->iq_counter);
        if (!m || !(m->ours = strdup(id)) ||
            !(m->theirs = strdup(theirs ? theirs : "")) ||
            xmp_node_set_attr(st, "id", id, NULL) != XMP_OK) {
            if (m) {
                free(m->ours);
                free(m->theirs);
            }
            free(m);
            xmp_peer_close(p, "resource-constraint", NULL);
            return;
        }
        m->s = sl;
        m->next = h->iqs;
        h->iqs = m;
    } else if (strcmp(name, "iq") == 0 && !xmp_node_attr(st, "to")) {
        /* a client answering a roster push the holder's layer already
         * answered */
        return;
    } else if (strcmp(name, "presence") == 0 && !xmp_node_attr(st, "to") &&
               (!type || strcmp(type, "unavailable") == 0)) {
        free(h->presence);
        h->presence = type ? NULL : xmp_node_to_string(st, "jabber:client");
        write_status(h);
    }
    if (xmp_session_send(h->c->session, st, &seq) != XMP_OK) {
        xmp_peer_close(p, "remote-connection-failed", down_text);
        return;
    }
    if (seq)
        sl->last_seq = seq;
    if (strcmp(name, "presence") == 0 && !type && !xmp_node_attr(st, "to") &&
        !sl->presence_sent) {
        sl->presence_sent = 1;
        replay_seen(h, p);
    }
}

static void on_peer_r(void *ud, struct xmp_peer *p, uint32_t hh)
{
    struct slot *sl = ud;
    struct holder *h = sl->h;

    (void)p;
    sl->r_pending = 1;
    sl->r_h = hh;
    sl->r_seq = sl->last_seq;
    if (h->up && xmp_session_acked(h->c->session) < sl->r_seq)
        xmp_session_request_ack(h->c->session);
}

static const struct xmp_peer_cb peer_cb = { on_peer_stanza, on_peer_r };

/* Answer every <r/> the server has caught up with. */
static void answer_acks(struct holder *h)
{
    uint64_t acked;
    size_t i;

    if (!h->up)
        return;
    acked = xmp_session_acked(h->c->session);
    for (i = 0; i < h->n; i++) {
        struct slot *sl = h->slots[i];

        if (sl->r_pending && acked >= sl->r_seq) {
            sl->r_pending = 0;
            xmp_peer_ack(sl->p, sl->r_h);
        }
    }
}

static void drop_slot(struct holder *h, size_t i)
{
    struct slot *sl = h->slots[i];

    forget_iqs(h, sl);
    xmp_peer_free(sl->p);
    free(sl);
    h->slots[i] = h->slots[--h->n];
}

static void accept_peers(struct holder *h)
{
    struct xmp_session_info info;
    struct xmp_error err;
    struct ucred cr;
    socklen_t len;
    struct slot *sl;
    int fd;

    while ((fd = accept4(h->lfd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        len = sizeof cr;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
            cr.uid != getuid()) {
            hlog("refused a client of uid %ld (pid %ld): not our user",
                 len == sizeof cr ? (long)cr.uid : -1L,
                 len == sizeof cr ? (long)cr.pid : -1L);
            close(fd);
            continue;
        }
        if (h->n >= HOLDER_MAX_PEERS) {
            hlog("refused a client: %d clients already", HOLDER_MAX_PEERS);
            close(fd);
            continue;
        }
        memset(&info, 0, sizeof info);
        if (h->up)
            xmp_session_get_info(h->c->session, &info);
        if (!(sl = calloc(1, sizeof *sl)) ||
            !(sl->p = xmp_peer_new(fd, info.bound_jid ? info.bound_jid
                                                      : h->c->o.jid,
                                   &peer_cb, sl,
                                   (h->c->o.timeout_s
                                        ? h->c->o.timeout_s
                                        : CLI_DEFAULT_TIMEOUT_S) * 1000,
                                   &err))) {
            free(sl);
            close(fd);
            continue;
        }
        sl->h = h;
        /* while the server is away, a new client hears so at once */
        if (!h->up)
            xmp_peer_close(sl->p, "remote-connection-failed", down_text);
        h->slots[h->n++] = sl;
    }
}

/* The held session became ready (the first time, or after a reconnect):
 * relay, keep it alive, and say again what presence we hold. */
static void became_ready(struct holder *h)
{
    struct cli *c = h->c;
    int ka = c->o.keepalive_s >= 0 ? c->o.keepalive_s
                                   : CLI_DEFAULT_KEEPALIVE_S;
    struct xmp_session_info info;
    struct xmp_node *n;

    h->up = 1;
    h->since = time(NULL);
    h->backoff_ms = HOLDER_BACKOFF_MIN_MS;
    h->retry_at = -1;
    if (h->watched != c->session)
        xmp_handler_add(c->session, NULL, XMP_PRIO_OBSERVE, on_server, h,
                        NULL);
    h->watched = c->session;
    if (ka == 0)
        ka = CLI_DEFAULT_KEEPALIVE_S; /* a held session must notice a loss */
    xmp_session_set_keepalive(c->session, ka * 1000, 0);
    xmp_session_get_info(c->session, &info);
    /* a resumed session kept its presence on the server */
    if (info.resumed != h->resumed) {
        h->resumed = info.resumed;
        hlog("session resumed as %s",
             info.bound_jid ? info.bound_jid : c->o.jid);
        write_status(h);
        return;
    }
    if (h->presence && !h->said &&
        (n = xmp_node_parse(h->presence, strlen(h->presence), NULL))) {
        xmp_session_send(c->session, n, NULL);
        xmp_node_free(n);
    }
    hlog("connected as %s", info.bound_jid ? info.bound_jid : c->o.jid);
    write_status(h);
}

/* The server is away: every client is told, no request waits. */
static void went_down(struct holder *h)
{
    size_t i;

    h->up = 0;
    h->since = time(NULL);
    for (i = 0; i < h->n; i++)
        xmp_peer_close(h->slots[i]->p, "remote-connection-failed",
                       down_text);
    forget_iqs(h, NULL);
}

/* The held session is being resumed (XEP-0198) after a lost connection:
 * the clients are told, as for a loss, but the session and what the
 * holder has seen of the server stay. */
static void resuming(struct holder *h)
{
    went_down(h);
    hlog("lost the connection; resuming the session");
    write_status(h);
}

static void lost(struct holder *h)
{
    const struct xmp_error *e =
        h->c->session ? xmp_session_error(h->c->session) : NULL;
    unsigned r = 0;
    double jitter;
    int delay;

    went_down(h);
    forget_seen(h); /* the server says it all again after the reconnect */
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (unsigned)getpid();
    jitter = 0.75 + 0.5 * ((double)r / (double)UINT32_MAX);
    delay = (int)(h->backoff_ms * jitter);
    h->retry_at = xmp_now_ms() + delay;
    hlog("lost the server (%s); reconnecting in %d ms",
         e && e->msg[0] ? e->msg : "closed", delay);
    h->backoff_ms = h->backoff_ms * 2 > HOLDER_BACKOFF_MAX_MS
                        ? HOLDER_BACKOFF_MAX_MS
                        : h->backoff_ms * 2;
    write_status(h);
}

/* The one place the held session comes back.  A new login for now;
 * resumption (XEP-0198) of the lost one belongs here. */
static void holder_reconnect(struct holder *h)
{
    h->retry_at = -1;
    h->watched = NULL; /* a new session, maybe at the old one's address */
    h->resumed = 0;
    hlog("reconnecting");
    /* a failure here is seen as a session over: the next backoff */
    cli_session_open(h->c);
}

static int64_t earliest(int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

/* SIGTERM or 'session stop': the clients are told, the server hears
 * unavailable and our close (xmp_session_close), bounded. */
static void shut_down(struct holder *h)
{
    struct cli *c = h->c;
    struct cli_poll lp;
    size_t i;
    int64_t end = xmp_now_ms() + 10000;

    for (i = 0; i < h->n; i++)
        xmp_peer_close(h->slots[i]->p, "system-shutdown", NULL);
    for (i = 0; i < h->n; i++)
        xmp_peer_step(h->slots[i]->p);
    if (c->session && !cli_session_over(c->session))
        xmp_session_close(c->session);
    while (c->session && !cli_session_over(c->session) &&
           xmp_now_ms() < end) {
        memset(&lp, 0, sizeof lp);
        lp.deadline = end;
        if (cli_poll(&c, 1, &lp) < 0)
            break;
    }
    hlog("stopped");
}

/* One holder per process. */
static struct holder the_holder;

void holder_watch(struct cli *c)
{
    struct holder *h = &the_holder;

    h->c = c;
    xmp_handler_add(c->session, NULL, XMP_PRIO_OBSERVE, on_server, h, NULL);
    h->watched = c->session;
}

void holder_done(void)
{
    forget_seen(&the_holder);
}

int holder_run(struct cli *c, int listen_fd, const struct holder_paths *hp,
               const char *presence_xml)
{
    struct pollfd fds[CLI_POLL_EXTRA_MAX];
    struct holder *h = &the_holder; /* holder_watch may have begun */
    struct cli_poll lp;
    size_t i;

    h->c = c;
    h->lfd = listen_fd;
    h->hp = hp;
    h->retry_at = -1;
    h->backoff_ms = HOLDER_BACKOFF_MIN_MS;
    if (presence_xml && !(h->presence = strdup(presence_xml))) {
        cli_error("out of memory");
        return EXIT_OSERR;
    }
    if (cli_signals() != 0) {
        free(h->presence);
        return EXIT_OSERR;
    }
    {
        int fd = open(hp->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
                                   O_NOFOLLOW,
                      0600);

        if (fd >= 0 && !(log_file = fdopen(fd, "a")))
            close(fd);
    }
    h->said = 1; /* the start has set it */
    became_ready(h);
    h->said = 0;
    while (!h->stop) {
        int64_t dl;

        if (h->up && cli_session_over(c->session))
            lost(h);
        else if (h->up &&
                 xmp_session_phase(c->session) != XMP_PHASE_READY)
            resuming(h);
        if (!h->up && c->session &&
            xmp_session_phase(c->session) == XMP_PHASE_READY)
            became_ready(h);
        if (!h->up && h->retry_at >= 0 && xmp_now_ms() >= h->retry_at)
            holder_reconnect(h);
        if (!h->up && h->retry_at < 0 && cli_session_over(c->session))
            lost(h); /* the new attempt failed too */
        answer_acks(h);
        dl = h->retry_at;
        fds[0].fd = listen_fd;
        fds[0].events = POLLIN;
        for (i = 0; i < h->n; i++) {
            struct xmp_peer *p = h->slots[i]->p;

            fds[i + 1].fd = xmp_peer_fd(p);
            fds[i + 1].events = xmp_peer_events(p);
            dl = earliest(dl, xmp_peer_deadline(p));
            if (xmp_peer_pending(p))
                dl = xmp_now_ms();
        }
        memset(&lp, 0, sizeof lp);
        lp.extra = fds;
        lp.nextra = h->n + 1;
        lp.deadline = dl;
        if (cli_poll(&c, 1, &lp) < 0)
            break;
        if (lp.sig) {
            hlog("signal %d: closing", lp.sig);
            break;
        }
        if (fds[0].revents)
            accept_peers(h);
        for (i = h->n; i-- > 0;) {
            /* fds[i + 1] still describes slot i: accept only appends */
            struct xmp_peer *p = h->slots[i]->p;
            enum xmp_err r;

            if (i + 1 < lp.nextra && !fds[i + 1].revents &&
                !xmp_peer_pending(p) &&
                (xmp_peer_deadline(p) < 0 ||
                 xmp_peer_deadline(p) > xmp_now_ms()))
                continue;
            r = xmp_peer_step(p);
            if (r == XMP_AGAIN)
                continue;
            if (r != XMP_OK && xmp_peer_error(p)->code != XMP_EUNREACH)
                hlog("dropped a client: %s", xmp_peer_error(p)->msg);
            drop_slot(h, i);
        }
        answer_acks(h);
        if (count_attached(h) != h->attached)
            write_status(h);
    }
    shut_down(h);
    for (i = h->n; i-- > 0;)
        drop_slot(h, i);
    forget_iqs(h, NULL);
    forget_seen(h);
    free(h->presence);
    if (log_file)
        fclose(log_file);
    log_file = NULL;
    return EXIT_OK;
}
