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
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
/* A connection that did not last this long counts as a failed attempt:
 * a server that takes each resumption (or login) and drops it again
 * gets the growing pauses, not a storm of reconnections. */
#define HOLDER_STABLE_MS 30000
/* The presence kept to say again to a command's initial presence: a
 * roster of some hundreds of contacts, each on a few devices, fits; a
 * server that sends more does not make the holder grow, nor every
 * attached command drown in the replay. */
#define HOLDER_SEEN_MAX 2000
#define HOLDER_SEEN_PER_CONTACT 16
#define HOLDER_SEEN_MAX_BYTES (4 * 1024 * 1024)
/* The contacts whose presence is kept: a roster larger than this keeps
 * the presence of its first ones. */
#define HOLDER_CONTACTS_MAX 20000
/* The log is renamed to NAME.log.old beyond this size: two files of at
 * most this much, whatever a server makes the holder say. */
#define HOLDER_LOG_MAX_BYTES (256 * 1024)
/* Subscription requests kept until a client answers them: a burst of
 * requests from strangers makes the holder keep the first ones. */
#define HOLDER_ASKS_MAX 256
/* Roster pushes relayed to a client whose answers the holder's own layer
 * has given already (the latest ones, per client). */
#define HOLDER_PUSH_IDS 8

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
    char *push_ids[HOLDER_PUSH_IDS]; /* roster pushes relayed to it */
    size_t next_push;
};

/* An iq of a client on its way: its answer goes back to it alone. */
struct iqmap {
    char *ours, *theirs;
    char *to; /* where it went; NULL: no 'to' (our server, our account) */
    struct slot *s;
    struct iqmap *next;
};

/* The latest presence of each contact (full JID), serialized: what a
 * command's initial presence would have brought it from the server. */
struct seen {
    char *from, *bare, *xml;
    size_t size;
    struct seen *next;
};

/* A subscription request from the server (RFC 6121 §3.1.3) that no
 * client has answered: said again with the presence, as the server says
 * it to a new resource's initial presence. */
struct ask {
    char *bare, *xml;
    struct ask *next;
};

struct holder {
    struct cli *c;
    const struct cmd_needs *needs; /* session start's row */
    struct seen *seen;
    struct ask *asks;
    size_t nasks;
    int lfd;
    const struct holder_paths *hp;
    struct slot *slots[HOLDER_MAX_PEERS];
    size_t n;
    struct iqmap *iqs;
    size_t nseen, seen_bytes; /* bounded by HOLDER_SEEN_* */
    int seen_full;            /* said in the log that it is full */
    char **contacts;          /* the roster's bare JIDs we see */
    size_t ncontacts;
    int roster_known;         /* the roster has been answered */
    char *params;             /* what the session was opened with */
    int64_t up_ms;            /* when it last became ready (monotonic) */
    int via_resume;           /* ... by resuming the session */
    char *presence;   /* the held presence, serialized; NULL: none */
    int up;           /* the held session is ready and relayed */
    time_t since;     /* when it last became ready */
    int64_t retry_at; /* when to reconnect, -1: not waiting */
    int backoff_ms;
    int stop;
    int said;         /* the held presence is already out */
    unsigned resumed; /* resumptions of the held session seen */
    struct xmp_session *watched; /* the session on_server is added to */
    /* the queue (send --queue): flushed whenever the session is ready
     * and the queue changed, or it came up */
    struct qflush *flush;
    struct timespec qstamp;
    int flush_due;
    size_t attached;  /* the clients the status file counts */
    /* the turn's descriptors: the listening socket, then each slot's */
    struct pollfd fds[CLI_POLL_EXTRA_MAX];
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
static const char *log_path;

/* Open the log to append, first moving a file over HOLDER_LOG_MAX_BYTES
 * to NAME.log.old (replacing the one before). */
static void log_open(void)
{
    char old[340];
    struct stat st;
    int fd;

    if (log_file)
        fclose(log_file);
    log_file = NULL;
    if (!log_path)
        return;
    if (lstat(log_path, &st) == 0 && st.st_size > HOLDER_LOG_MAX_BYTES) {
        snprintf(old, sizeof old, "%s.old", log_path);
        rename(log_path, old);
    }
    fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
              0600);
    if (fd >= 0 && !(log_file = fdopen(fd, "a")))
        close(fd);
}

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
    /* what the server said is in msg: one line, nothing for a terminal */
    fprintf(stderr, "xmpctl: session: %s ", when);
    cli_print_sanitized(stderr, msg, strlen(msg));
    fputc('\n', stderr);
    fflush(stderr);
    if (log_file) {
        fprintf(log_file, "%s ", when);
        cli_print_sanitized(log_file, msg, strlen(msg));
        fputc('\n', log_file);
        fflush(log_file);
        if (ftell(log_file) > HOLDER_LOG_MAX_BYTES)
            log_open();
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
    /* last: what commands compare with their own (holder_same_params) */
    fputs(h->params ? h->params : "", f);
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
            free(m->to);
            free(m);
        } else {
            pp = &m->next;
        }
    }
}

static void seen_free(struct holder *h, struct seen *s)
{
    h->nseen--;
    h->seen_bytes -= s->size;
    free(s->from);
    free(s->bare);
    free(s->xml);
    free(s);
}

static void forget_seen(struct holder *h)
{
    struct seen *s;

    while ((s = h->seen)) {
        h->seen = s->next;
        seen_free(h, s);
    }
    h->seen_full = 0;
}

static void forget_asks(struct holder *h)
{
    struct ask *a;

    while ((a = h->asks)) {
        h->asks = a->next;
        free(a->bare);
        free(a->xml);
        free(a);
    }
    h->nasks = 0;
}

static void forget_contacts(struct holder *h)
{
    size_t i;

    for (i = 0; i < h->ncontacts; i++)
        free(h->contacts[i]);
    free(h->contacts);
    h->contacts = NULL;
    h->ncontacts = 0;
    h->roster_known = 0;
}

/* The bare JID of a JID, lower case in its domain and local part as
 * RFC 7622 compares them; NULL when it is none. */
static char *bare_of(const char *jid)
{
    struct xmp_jid j;
    char *b, *p;

    if (!jid || xmp_jid_parse(jid, &j, NULL) != XMP_OK)
        return NULL;
    b = xmp_jid_bare(&j);
    xmp_jid_clear(&j);
    for (p = b; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return b;
}

/* The request from bare is answered (or withdrawn): forget it. */
static void drop_ask(struct holder *h, const char *bare)
{
    struct ask **pp, *a;

    for (pp = &h->asks; (a = *pp); pp = &a->next)
        if (strcmp(a->bare, bare) == 0) {
            *pp = a->next;
            free(a->bare);
            free(a->xml);
            free(a);
            h->nasks--;
            return;
        }
}

/* A subscription request from the server, or its withdrawal. */
static void note_ask(struct holder *h, const struct xmp_node *st,
                     const char *type)
{
    char *bare = bare_of(xmp_node_attr(st, "from"));
    struct ask *a;

    if (!bare)
        return;
    drop_ask(h, bare);
    if (strcmp(type, "subscribe") != 0 || h->nasks >= HOLDER_ASKS_MAX ||
        !(a = calloc(1, sizeof *a)) ||
        !(a->xml = xmp_node_to_string(st, "jabber:client"))) {
        if (strcmp(type, "subscribe") == 0)
            hlog("keeping no more subscription requests (%zu kept): %s",
                 h->nasks, bare);
        free(bare);
        return;
    }
    a->bare = bare;
    a->next = h->asks;
    h->asks = a;
    h->nasks++;
}

static int is_contact(const struct holder *h, const char *bare)
{
    size_t i;

    for (i = 0; i < h->ncontacts; i++)
        if (strcmp(h->contacts[i], bare) == 0)
            return 1;
    return 0;
}

/* Our own account: presence of our other resources is ours to see. */
static int is_us(const struct holder *h, const char *bare)
{
    char *me = bare_of(h->c->o.jid);
    int us = me && strcmp(me, bare) == 0;

    free(me);
    return us;
}

/* Drop what is kept from someone who is no contact (any longer). */
static void prune_seen(struct holder *h)
{
    struct seen **pp = &h->seen, *s;

    while ((s = *pp)) {
        if (!is_contact(h, s->bare) && !is_us(h, s->bare)) {
            *pp = s->next;
            seen_free(h, s);
        } else {
            pp = &s->next;
        }
    }
}

/* An item of the roster (RFC 6121 §2.1.2): we see the presence of those
 * we are subscribed to, subscription 'to' or 'both'. */
static void note_item(struct holder *h, const struct xmp_node *item)
{
    const char *sub = xmp_node_attr(item, "subscription");
    char *bare = bare_of(xmp_node_attr(item, "jid")), **grown;
    size_t i;
    int see = sub && (strcmp(sub, "to") == 0 || strcmp(sub, "both") == 0);

    if (!bare)
        return;
    /* they see us: their request is answered, here or elsewhere */
    if (sub && (strcmp(sub, "from") == 0 || strcmp(sub, "both") == 0))
        drop_ask(h, bare);
    for (i = 0; i < h->ncontacts; i++)
        if (strcmp(h->contacts[i], bare) == 0)
            break;
    if (i < h->ncontacts && !see) {
        free(h->contacts[i]);
        h->contacts[i] = h->contacts[--h->ncontacts];
    } else if (i == h->ncontacts && see &&
               h->ncontacts < HOLDER_CONTACTS_MAX &&
               (grown = realloc(h->contacts,
                                (h->ncontacts + 1) * sizeof *grown))) {
        h->contacts = grown;
        h->contacts[h->ncontacts++] = bare;
        bare = NULL;
    }
    free(bare);
}

static void note_roster(struct holder *h, const struct xmp_node *query)
{
    const struct xmp_node *it;

    for (it = xmp_node_first(query); it; it = xmp_node_next(it))
        if (strcmp(xmp_node_name(it), "item") == 0 &&
            strcmp(xmp_node_ns(it), "jabber:iq:roster") == 0)
            note_item(h, it);
}

static void on_roster(struct xmp_session *s, const struct xmp_node *reply,
                      const struct xmp_error *err, void *ud)
{
    struct holder *h = ud;
    const struct xmp_node *q;

    (void)s;
    if (!reply && err && err->code != XMP_ETIMEOUT)
        return; /* the session went: the next login asks again */
    forget_contacts(h);
    h->roster_known = 1;
    if (reply && (q = xmp_node_child(reply, "jabber:iq:roster", "query")))
        note_roster(h, q);
    else
        hlog("no roster from the server (%s): keeping no contact's presence",
             err && err->msg[0] ? err->msg : "an error");
    prune_seen(h);
}

/* The work after a login of the held session (cli_ready, session
 * start's row): the keepalive; for a new login the roster, to know whose
 * presence to keep (the row asks for it before our presence: it is
 * answered before the contacts' presence comes); presence, when given.
 * Returns as cli_ready. */
static int ready(struct holder *h, int new_login,
                 const struct xmp_node *presence, uint64_t *seq)
{
    struct cli_ready_args a;
    int rc;

    memset(&a, 0, sizeof a);
    if (new_login) {
        forget_contacts(h);
        forget_asks(h); /* the server says them again */
        a.roster = on_roster;
        a.roster_ud = h;
    }
    a.presence = presence;
    rc = cli_ready(h->c, h->needs, &a);
    if (a.roster_failed)
        h->roster_known = 1; /* none: keep no contact's presence */
    if (seq)
        *seq = a.presence_seq;
    return rc;
}

/* Available or unavailable presence from the server: keep the latest
 * per sender, from our contacts only (anyone may send us presence),
 * bounded.  Until the roster is known, from anyone: what is not a
 * contact goes when it comes. */
static void note_seen(struct holder *h, const struct xmp_node *st)
{
    const char *from = xmp_node_attr(st, "from");
    const char *type = xmp_node_attr(st, "type");
    struct seen **pp, *s;
    size_t same = 0;
    char *bare;

    if (!from || (type && strcmp(type, "unavailable") != 0))
        return;
    for (pp = &h->seen; (s = *pp); pp = &s->next)
        if (strcmp(s->from, from) == 0)
            break;
    if (s) {
        *pp = s->next;
        seen_free(h, s);
    }
    if (type || !(bare = bare_of(from)))
        return;
    if (h->roster_known && !is_contact(h, bare) && !is_us(h, bare)) {
        free(bare);
        return;
    }
    for (s = h->seen; s; s = s->next)
        same += strcmp(s->bare, bare) == 0;
    if (!(s = calloc(1, sizeof *s)) || !(s->from = strdup(from)) ||
        !(s->xml = xmp_node_to_string(st, "jabber:client"))) {
        if (s)
            free(s->from);
        free(s);
        free(bare);
        return;
    }
    s->bare = bare;
    s->size = strlen(s->xml) + strlen(from) + strlen(bare);
    if (same >= HOLDER_SEEN_PER_CONTACT || h->nseen >= HOLDER_SEEN_MAX ||
        h->seen_bytes + s->size > HOLDER_SEEN_MAX_BYTES) {
        if (!h->seen_full)
            hlog("keeping no more presence (%zu kept, at most %d per "
                 "contact): %s",
                 h->nseen, HOLDER_SEEN_PER_CONTACT, from);
        h->seen_full = 1;
        h->nseen++; /* seen_free counts it out */
        h->seen_bytes += s->size;
        seen_free(h, s);
        return;
    }
    h->nseen++;
    h->seen_bytes += s->size;
    s->next = h->seen;
    h->seen = s;
}

/* A command's initial presence: the server answers it with our
 * contacts' presence only once per session (RFC 6121 §4.2.2), so the
 * holder says what it has seen. */
static void replay_seen(struct holder *h, struct xmp_peer *p)
{
    struct seen *s;
    struct ask *a;
    struct xmp_node *n;

    for (s = h->seen; s; s = s->next)
        if ((n = xmp_node_parse(s->xml, strlen(s->xml), NULL))) {
            xmp_peer_send(p, n);
            xmp_node_free(n);
        }
    for (a = h->asks; a; a = a->next)
        if ((n = xmp_node_parse(a->xml, strlen(a->xml), NULL))) {
            xmp_peer_send(p, n);
            xmp_node_free(n);
        }
}

/* A command that borrows the held presence asks for what an initial
 * presence would have brought it (CLI_HOLDER_NS): the replay, then the
 * answer, which says it is complete. */
static void answer_replay(struct slot *sl, const struct xmp_node *st)
{
    struct xmp_node *r = xmp_node_new("jabber:client", "iq", NULL);
    const char *id = xmp_node_attr(st, "id");

    sl->presence_sent = 1;
    replay_seen(sl->h, sl->p);
    if (r && xmp_node_set_attr(r, "type", "result", NULL) == XMP_OK &&
        (!id || xmp_node_set_attr(r, "id", id, NULL) == XMP_OK))
        xmp_peer_send(sl->p, r);
    xmp_node_free(r);
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

/* Is j our own account for the server's purposes (RFC 6120 §10.1.4):
 * our domain or our bare JID? */
static int is_self(const struct holder *h, const struct xmp_jid *j)
{
    struct xmp_jid me;
    int self;

    if (xmp_jid_parse(h->c->o.jid, &me, NULL) != XMP_OK)
        return 0;
    self = !j->resource && strcasecmp(j->domain, me.domain) == 0 &&
           (!j->local || (me.local && strcasecmp(j->local, me.local) == 0));
    xmp_jid_clear(&me);
    return self;
}

/* The rule of the library's own requests (xmp_session_send_iq): the
 * answer to a request sent to X comes from X; to a request without 'to'
 * or to our bare JID, from our bare JID, our domain or without 'from'.
 * Anyone else may send a result with a matching id. */
static int answer_from_ok(const struct holder *h, const char *to,
                          const char *from)
{
    struct xmp_jid t, f;
    int ok = 0, to_self;

    if (to && xmp_jid_parse(to, &t, NULL) != XMP_OK)
        return 0;
    to_self = !to || (t.local && is_self(h, &t));
    if (!from) {
        ok = to_self;
    } else if (xmp_jid_parse(from, &f, NULL) == XMP_OK) {
        ok = to_self ? is_self(h, &f) : xmp_jid_equal(&f, &t);
        xmp_jid_clear(&f);
    }
    if (to)
        xmp_jid_clear(&t);
    return ok;
}

/* A roster push counts from our account only (RFC 6121 §2.1.6). */
static int push_from_ok(const struct holder *h, const char *from)
{
    struct xmp_jid f;
    int ok;

    if (!from)
        return 1;
    if (xmp_jid_parse(from, &f, NULL) != XMP_OK)
        return 0;
    ok = f.local && is_self(h, &f);
    xmp_jid_clear(&f);
    return ok;
}

/* A roster push goes to every client, whose layer answers it: the
 * holder's layer has answered the server already, so the answers are
 * not relayed (note_push, on_peer_stanza). */
static void note_push(struct slot *sl, const char *id)
{
    char **at = &sl->push_ids[sl->next_push++ % HOLDER_PUSH_IDS];

    free(*at);
    *at = id ? strdup(id) : NULL;
}

static int take_push(struct slot *sl, const char *id)
{
    size_t i;

    for (i = 0; id && i < HOLDER_PUSH_IDS; i++)
        if (sl->push_ids[i] && strcmp(sl->push_ids[i], id) == 0) {
            free(sl->push_ids[i]);
            sl->push_ids[i] = NULL;
            return 1;
        }
    return 0;
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
    const char *from = xmp_node_attr(st, "from");
    const struct xmp_node *q;
    struct iqmap **pp, *m;
    size_t i;

    (void)s;
    if (strcmp(name, "message") == 0 || strcmp(name, "presence") == 0) {
        if (name[0] == 'p' && type && (strcmp(type, "subscribe") == 0 ||
                                       strcmp(type, "unsubscribe") == 0))
            note_ask(h, st, type);
        else if (name[0] == 'p')
            note_seen(h, st);
        broadcast(h, st);
        return XMP_PASS;
    }
    if (strcmp(name, "iq") != 0 || !type)
        return XMP_PASS;
    if (strcmp(type, "set") == 0 &&
        (q = xmp_node_child(st, "jabber:iq:roster", "query"))) {
        if (!push_from_ok(h, from))
            return XMP_PASS; /* the library refuses it */
        note_roster(h, q);
        prune_seen(h);
        for (i = 0; i < h->n; i++)
            if (xmp_peer_ready(h->slots[i]->p)) {
                note_push(h->slots[i], id);
                xmp_peer_send(h->slots[i]->p, st);
            }
        return XMP_PASS; /* the library answers it */
    }
    if ((strcmp(type, "result") != 0 && strcmp(type, "error") != 0) || !id)
        return XMP_PASS;
    for (pp = &h->iqs; (m = *pp); pp = &m->next) {
        struct xmp_node *c;

        if (strcmp(m->ours, id) != 0)
            continue;
        if (!answer_from_ok(h, m->to, from)) {
            hlog("ignored an answer to a client's request from %s: the "
                 "request went to %s",
                 from ? from : "(no from)", m->to ? m->to : "our server");
            return XMP_PASS;
        }
        *pp = m->next;
        if (xmp_peer_ready(m->s->p) && (c = node_copy(st))) {
            if (xmp_node_set_attr(c, "id", m->theirs, NULL) == XMP_OK)
                xmp_peer_send(m->s->p, c);
            xmp_node_free(c);
        }
        free(m->ours);
        free(m->theirs);
        free(m->to);
        free(m);
        return XMP_HANDLED;
    }
    return XMP_PASS;
}

static const char *const down_text =
    "the session holder has lost its connection to the server";

/* Ids of forwarded requests: unguessable, so that nobody else can
 * answer them first (the sender is checked too). */
static int new_id(char *id, size_t len)
{
    unsigned char r[16];
    size_t i;

    if (len < 2 * sizeof r + 2 ||
        getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    id[0] = 'h';
    for (i = 0; i < sizeof r; i++)
        snprintf(id + 1 + 2 * i, 3, "%02x", r[i]);
    return 0;
}

/* A client's stanza goes up as it is, but for the id of an iq request
 * (ours, so that clients cannot collide) and nothing is kept for later:
 * while the server is away a client is told so at once. */
static void on_peer_stanza(void *ud, struct xmp_peer *p, struct xmp_node *st,
                           uint32_t hh)
{
    struct slot *sl = ud;
    struct holder *h = sl->h;
    const char *name = xmp_node_name(st), *type = xmp_node_attr(st, "type");
    const char *to = xmp_node_attr(st, "to");
    uint64_t seq = 0;
    char id[40];

    (void)hh;
    if (!h->up) {
        xmp_peer_close(p, "remote-connection-failed", down_text);
        return;
    }
    if (strcmp(name, "iq") == 0 && !to && type &&
        strcmp(type, "get") == 0 &&
        xmp_node_child(st, CLI_HOLDER_NS, "replay")) {
        answer_replay(sl, st);
        return;
    }
    if (strcmp(name, "iq") == 0 && type &&
        (strcmp(type, "get") == 0 || strcmp(type, "set") == 0)) {
        struct iqmap *m = calloc(1, sizeof *m);
        const char *theirs = xmp_node_attr(st, "id");

        if (!m || new_id(id, sizeof id) < 0 || !(m->ours = strdup(id)) ||
            !(m->theirs = strdup(theirs ? theirs : "")) ||
            (to && !(m->to = strdup(to))) ||
            xmp_node_set_attr(st, "id", id, NULL) != XMP_OK) {
            if (m) {
                free(m->ours);
                free(m->theirs);
                free(m->to);
            }
            free(m);
            xmp_peer_close(p, "resource-constraint", NULL);
            return;
        }
        m->s = sl;
        m->next = h->iqs;
        h->iqs = m;
    } else if (strcmp(name, "iq") == 0 && !to && type &&
               strcmp(type, "result") == 0 &&
               take_push(sl, xmp_node_attr(st, "id"))) {
        /* a client answering a roster push the holder's layer already
         * answered: the server has its answer */
        return;
    } else if (strcmp(name, "presence") == 0 && to && type &&
               (strcmp(type, "subscribed") == 0 ||
                strcmp(type, "unsubscribed") == 0)) {
        char *bare = bare_of(to);

        if (bare)
            drop_ask(h, bare);
        free(bare);
    } else if (strcmp(name, "presence") == 0 && !to &&
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
    if (strcmp(name, "presence") == 0 && !type && !to &&
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
    size_t k;

    forget_iqs(h, sl);
    for (k = 0; k < HOLDER_PUSH_IDS; k++)
        free(sl->push_ids[k]);
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

/* The queue of this account, sent on the held session. */
static void flush_report(void *ud, const char *name, const char *to,
                         enum qflush_result r, const char *why)
{
    (void)ud;
    hlog("queued message %s to %s: %s%s%s%s", name, to,
         r == QFLUSH_SENT     ? "sent"
         : r == QFLUSH_FAILED ? "refused, set aside"
                              : "kept for later",
         why ? " (" : "", why ? why : "", why ? ")" : "");
}

static void flush_queue(struct holder *h)
{
    struct qflush_counts n;
    int busy, r;

    if (!h->up) {
        qflush_free(h->flush);
        h->flush = NULL;
        return;
    }
    if (!h->flush && (cli_queue_changed(&h->qstamp) || h->flush_due)) {
        h->flush_due = 0;
        if (!(h->flush = qflush_new(h->c->session, h->c->o.jid,
                                    flush_report, h, &busy))) {
            h->flush_due = 1; /* another flush: try at the next turn */
            return;
        }
    }
    if (!h->flush || (r = qflush_step(h->flush)) == 0)
        return;
    qflush_counts(h->flush, &n);
    if (n.sent || n.aside || n.left)
        hlog("queue flushed: %zu sent, %zu set aside, %zu kept%s", n.sent,
             n.aside, n.left, r < 0 ? " (the connection went)" : "");
    qflush_free(h->flush);
    h->flush = NULL;
    if (r < 0)
        h->flush_due = 1;
}

/* The held session became ready (the first time, or after a reconnect):
 * relay, keep it alive, and say again what presence we hold. */
static void became_ready(struct holder *h)
{
    struct cli *c = h->c;
    struct xmp_session_info info;
    struct xmp_node *n = NULL;
    int new_login = h->watched != c->session;

    h->up = 1;
    h->flush_due = 1;
    h->since = time(NULL);
    h->up_ms = xmp_now_ms();
    h->retry_at = -1;
    if (new_login) {
        /* a new login: a new roster too (holder_watch asked the first) */
        xmp_handler_add(c->session, NULL, XMP_PRIO_OBSERVE, on_server, h,
                        NULL);
        /* its TLS session, in memory, for the next login anew */
        cli_cache_note_login(c);
    }
    h->watched = c->session;
    xmp_session_get_info(c->session, &info);
    /* a resumed session kept its presence on the server */
    h->via_resume = info.resumed != h->resumed;
    if (!h->via_resume && h->presence && !h->said)
        n = xmp_node_parse(h->presence, strlen(h->presence), NULL);
    ready(h, new_login, n, NULL);
    xmp_node_free(n);
    if (h->via_resume) {
        h->resumed = info.resumed;
        hlog("session resumed as %s",
             info.bound_jid ? info.bound_jid : c->o.jid);
        write_status(h);
        return;
    }
    hlog("connected as %s", info.bound_jid ? info.bound_jid : c->o.jid);
    write_status(h);
}

/* The server is away: every client is told, no request waits. */
static void went_down(struct holder *h)
{
    size_t i;

    h->up = 0;
    qflush_free(h->flush); /* what it had not settled stays queued */
    h->flush = NULL;
    h->since = time(NULL);
    for (i = 0; i < h->n; i++)
        xmp_peer_close(h->slots[i]->p, "remote-connection-failed",
                       down_text);
    forget_iqs(h, NULL);
}

/* A connection that lasted is a success: the pauses start again from
 * the shortest.  One lost sooner keeps them growing. */
static int lasted(struct holder *h)
{
    if (!h->up || xmp_now_ms() - h->up_ms < HOLDER_STABLE_MS)
        return 0;
    h->backoff_ms = HOLDER_BACKOFF_MIN_MS;
    return 1;
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

    lasted(h);
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

/* The library is resuming the lost session.  A resumed session that was
 * lost again soon counts as a failure: the session is given up and the
 * next login waits for the pause, as after a failed attempt. */
static void connection_lost(struct holder *h)
{
    struct cli *c = h->c;

    if (h->via_resume && !lasted(h)) {
        hlog("the resumed session was lost again within %d s; "
             "giving it up",
             HOLDER_STABLE_MS / 1000);
        xmp_session_free(c->session);
        c->session = NULL;
        lost(h);
        return;
    }
    lasted(h);
    resuming(h);
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

/* The wait for the server's close, up to *end; signals are passed by. */
static enum cli_turn closing_before(struct cli_driver *d, struct cli_poll *lp)
{
    const int64_t *end = d->ud;
    struct cli *c = d->cs[0];

    if (!c->session || cli_session_over(c->session) || xmp_now_ms() >= *end)
        return CLI_DONE;
    lp->deadline = *end;
    return CLI_POLL;
}

static enum cli_turn closing_after(struct cli_driver *d, struct cli_poll *lp)
{
    (void)d;
    lp->sig = 0;
    return CLI_POLL;
}

/* SIGTERM or 'session stop': the clients are told, the server hears
 * unavailable and our close (xmp_session_close), bounded. */
static void shut_down(struct holder *h)
{
    struct cli *c = h->c;
    struct cli_driver d;
    size_t i;
    int64_t end = xmp_now_ms() + 10000;

    for (i = 0; i < h->n; i++)
        xmp_peer_close(h->slots[i]->p, "system-shutdown",
                       "the background session was stopped");
    for (i = 0; i < h->n; i++)
        xmp_peer_step(h->slots[i]->p);
    if (c->session && !cli_session_over(c->session))
        xmp_session_close(c->session);
    memset(&d, 0, sizeof d);
    d.cs = &c;
    d.n = 1;
    d.before = closing_before;
    d.after = closing_after;
    d.ud = &end;
    cli_drive(&d);
    hlog("stopped");
}

/* Before each turn: the held session's state, then what to wait for
 * (the listening socket, every client's stream, the reconnection). */
static enum cli_turn holder_before(struct cli_driver *d, struct cli_poll *lp)
{
    struct holder *h = d->ud;
    struct cli *c = h->c;
    int64_t dl;
    size_t i;

    if (h->stop)
        return CLI_DONE;
    if (h->up && cli_session_over(c->session))
        lost(h);
    else if (h->up && xmp_session_phase(c->session) != XMP_PHASE_READY)
        connection_lost(h);
    if (!h->up && c->session &&
        xmp_session_phase(c->session) == XMP_PHASE_READY)
        became_ready(h);
    if (!h->up && h->retry_at >= 0 && xmp_now_ms() >= h->retry_at)
        holder_reconnect(h);
    if (!h->up && h->retry_at < 0 && cli_session_over(c->session))
        lost(h); /* the new attempt failed too */
    flush_queue(h);
    answer_acks(h);
    dl = h->retry_at;
    h->fds[0].fd = h->lfd;
    h->fds[0].events = POLLIN;
    for (i = 0; i < h->n; i++) {
        struct xmp_peer *p = h->slots[i]->p;

        h->fds[i + 1].fd = xmp_peer_fd(p);
        h->fds[i + 1].events = xmp_peer_events(p);
        dl = earliest(dl, xmp_peer_deadline(p));
        if (xmp_peer_pending(p))
            dl = xmp_now_ms();
    }
    lp->extra = h->fds;
    lp->nextra = h->n + 1;
    lp->deadline = dl;
    return CLI_POLL;
}

/* After each turn: new clients, each client's stream, the acks. */
static enum cli_turn holder_after(struct cli_driver *d, struct cli_poll *lp)
{
    struct holder *h = d->ud;
    size_t i;

    if (lp->sig) {
        hlog("signal %d: closing", lp->sig);
        lp->sig = 0;
        return CLI_DONE;
    }
    if (h->fds[0].revents)
        accept_peers(h);
    for (i = h->n; i-- > 0;) {
        /* fds[i + 1] still describes slot i: accept only appends */
        struct xmp_peer *p = h->slots[i]->p;
        enum xmp_err r;

        if (i + 1 < lp->nextra && !h->fds[i + 1].revents &&
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
    return CLI_POLL;
}

/* One holder per process. */
static struct holder the_holder;

int holder_watch(struct cli *c, const struct holder_paths *hp,
                 const struct cmd_needs *n, const struct xmp_node *presence,
                 uint64_t *seq)
{
    struct holder *h = &the_holder;

    h->c = c;
    h->needs = n;
    /* from the login on: what the server sends now may be worth a line */
    log_path = hp->log;
    log_open();
    xmp_handler_add(c->session, NULL, XMP_PRIO_OBSERVE, on_server, h, NULL);
    h->watched = c->session;
    /* here, before the holder changes directory: file names resolve */
    if ((h->params = malloc(HOLDER_PARAMS_MAX)))
        holder_params(&c->o, h->params, HOLDER_PARAMS_MAX);
    return ready(h, 1, presence, seq);
}

void holder_done(void)
{
    forget_seen(&the_holder);
    forget_asks(&the_holder);
    forget_contacts(&the_holder);
    free(the_holder.params);
    the_holder.params = NULL;
    if (log_file)
        fclose(log_file);
    log_file = NULL;
    log_path = NULL;
}

int holder_run(struct cli *c, int listen_fd, const struct holder_paths *hp,
               const char *presence_xml)
{
    struct holder *h = &the_holder; /* holder_watch may have begun */
    struct cli_driver d;
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
    if (!log_file) {
        log_path = hp->log;
        log_open();
    }
    h->said = 1; /* the start has set it */
    became_ready(h);
    h->said = 0;
    memset(&d, 0, sizeof d);
    d.cs = &h->c;
    d.n = 1;
    d.before = holder_before;
    d.after = holder_after;
    d.ud = h;
    cli_drive(&d);
    qflush_free(h->flush);
    h->flush = NULL;
    shut_down(h);
    for (i = h->n; i-- > 0;)
        drop_slot(h, i);
    forget_iqs(h, NULL);
    forget_seen(h);
    forget_asks(h);
    forget_contacts(h);
    free(h->presence);
    if (log_file)
        fclose(log_file);
    log_file = NULL;
    log_path = NULL;
    return EXIT_OK;
}
