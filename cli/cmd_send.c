/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cmd_send.c - send messages, to one or more recipients or to a group
 * chat room, and say so only once the server has acknowledged them.
 *
 * Everything that can be wrong with the input is checked before we
 * connect, so a bad message never leaves half-sent.  With --lines the
 * input is a stream instead: each line is checked as it comes, and the
 * memory used stays the same however long the stream runs.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli.h"

/* Servers commonly cap stanzas at 256 KiB (Prosody's c2s default); stay
 * under it with room for the envelope. */
#define SEND_MAX_TEXT (200 * 1024)
/* --lines: messages sent and not yet acknowledged, at most.  Input is
 * not read while this many wait, which bounds both our memory and what
 * a lost connection can leave in doubt. */
#define SEND_UNACKED_MAX 4096
/* --lines: ask for an acknowledgement after this many messages even
 * when the input never pauses. */
#define SEND_ACK_EVERY (SEND_UNACKED_MAX / 4)

#define NS_MUC "http://jabber.org/protocol/muc"
#define NS_MUC_USER "http://jabber.org/protocol/muc#user"
#define NS_RECEIPTS "urn:xmpp:receipts"
#define NS_SID "urn:xmpp:sid:0"
#define NS_OOB "jabber:x:oob"
#define NS_EME "urn:xmpp:eme:0"
#define NS_HINTS "urn:xmpp:hints"
/* what a client without OMEMO shows instead (XEP-0384 §5.4): no more */
#define OMEMO_FALLBACK "This message is encrypted with OMEMO (XEP-0384)."

enum { OPT_MESSAGE = 'm', OPT_TYPE = 'T', OPT_SUBJECT = 'S',
       OPT_THREAD = 256, OPT_ROOM, OPT_NICK, OPT_ROOM_PASSWORD_FILE,
       OPT_ROOM_PASSWORD_COMMAND, OPT_LINES, OPT_RECEIPT, OPT_QUEUE,
       OPT_NO_QUEUE, OPT_FILE, OPT_ALLOW_HTTP_UPLOAD, OPT_ENCRYPT };

static const struct opt_def send_opts[] = {
    {"message", OPT_MESSAGE, "TEXT", "the text (all operands are then "
                                     "recipients; '-': standard input)",
     ARG_TEXT},
    {"type", OPT_TYPE, "TYPE", "chat (default), normal or headline",
     ARG_TEXT},
    {"subject", OPT_SUBJECT, "TEXT", "a subject", ARG_TEXT},
    {"thread", OPT_THREAD, "ID", "the thread the message belongs to",
     ARG_TEXT},
    {"room", OPT_ROOM, "ROOM@SERVICE", "join this group chat room, send "
                               "there and leave (XEP-0045)",
     ARG_TEXT},
    {"nick", OPT_NICK, "NICK", "with --room: our nickname (default: the "
                               "account's localpart)",
     ARG_TEXT},
    {"room-password-file", OPT_ROOM_PASSWORD_FILE, "FILE",
     "the room password is the first line of FILE", ARG_FILE},
    {"room-password-command", OPT_ROOM_PASSWORD_COMMAND, "CMD",
     "the room password is the first line CMD prints", ARG_TEXT},
    {"lines", OPT_LINES, NULL, "one message per line of stdin, as lines "
                               "arrive, until end of input",
     ARG_NONE},
    {"receipt", OPT_RECEIPT, NULL, "ask for a delivery receipt "
                                   "(XEP-0184) and wait for it",
     ARG_NONE},
    {"queue", OPT_QUEUE, NULL, "when the server cannot be reached, keep the "
                               "message for later (xmpctl queue) and exit "
                               "75",
     ARG_NONE},
    {"no-queue", OPT_NO_QUEUE, NULL, "never keep it for later (over the "
                                     "config file's queue = yes)",
     ARG_NONE},
    {"file", OPT_FILE, "PATH", "upload this file (XEP-0363) and send its "
                               "URL, after TEXT if any; repeatable",
     ARG_FILE},
    {"allow-http-upload", OPT_ALLOW_HTTP_UPLOAD, NULL,
     "with --file: upload over plain http when the server's slot says "
     "http://",
     ARG_NONE},
    {"encrypt", OPT_ENCRYPT, "omemo", "encrypt end to end (XEP-0384 OMEMO) "
                                      "or send nothing",
     ARG_TEXT},
};
const struct opt_list send_options = {
    send_opts, sizeof send_opts / sizeof send_opts[0]
};

static const char *const send_types[] = { "chat", "normal", "headline",
                                          NULL };

struct rcpt {
    char *to;
    struct xmp_jid jid;
    char *id;      /* of the message to it (one message mode) */
    uint64_t seq;
    int bounced, receipt;
};

enum stage { ST_JOINING, ST_SENDING, ST_ACK, ST_RECEIPT, ST_UPLOADING,
             ST_ENCRYPTING };

/* --encrypt=omemo: our device, the devices fetched, the element sent */
struct send_crypt {
    struct cli_omemo *o;
    struct cli_pep *pep;
    int fetching_bundles;   /* the second round of requests */
    enum xmp_omemo_ns ns;
    char *enc;              /* the <encrypted/> element, serialized */
};

/* --lines: the stream of input lines and what waits for the server */
struct send_lines {
    char *id_base; /* message ids are id_base-N */
    char *buf;
    size_t blen;
    int eof, idle, discarding;
    uint64_t line_no, sent;
    uint64_t ring[SEND_UNACKED_MAX]; /* seqs of unacknowledged messages */
    size_t rhead, rcount;
    uint64_t requested;
};

/* --room: the room, how we join it, and where we stand */
struct send_room {
    char *room, *nick;
    char *room_pw_file, *room_pw_cmd;
    struct cli_secret room_pw;
    char *occupant; /* ROOM@SERVICE/NICK we join as */
    char *self;     /* what the room said we are (leave from there) */
    int joined, left;
};

struct send_op {
    struct op op; /* first: the driver sees only this */
    /* options */
    char *message, *subject, *thread;
    const char *type;
    int lines, receipt, from_stdin;
    int queue; /* --queue 1, --no-queue -1, 0: the config file's */
    /* --file: uploaded before anything is sent; then TEXT (if any) and
     * one message per file, each recipient's last message with the id
     * r->id and the others r->id-N */
    struct upload *up;
    int allow_http;
    struct send_room mr;
    /* recipients: the JIDs, or the room */
    struct rcpt *r;
    size_t nr;
    char *text;
    size_t len;
    unsigned handler;
    int have_handler;
    enum stage stage;
    uint64_t last_seq;
    /* what became of the messages (the join's refusal or silence
     * included): the outcome the exit status comes from */
    struct outcome out;
    /* the bounce barrier: see send_barrier() */
    unsigned ping;
    int pinging;
    struct send_lines ln;
    int encrypt;
    struct send_crypt cr;
};

static int is_status(const struct xmp_node *x, const char *code)
{
    const struct xmp_node *n;
    const char *c;

    for (n = xmp_node_first(x); n; n = xmp_node_next(n))
        if (strcmp(xmp_node_name(n), "status") == 0 &&
            (c = xmp_node_attr(n, "code")) && strcmp(c, code) == 0)
            return 1;
    return 0;
}

/* Is st from the room (any occupant, or the room itself)? */
static int from_room(const struct send_op *so, const struct xmp_node *st)
{
    const char *from = xmp_node_attr(st, "from");
    const struct xmp_jid *room = &so->r[0].jid;
    const struct xmp_jid bare = { room->local, room->domain, NULL };
    struct xmp_jid f;
    int ours;

    if (!from || xmp_jid_parse(from, &f, NULL) != XMP_OK)
        return 0;
    ours = xmp_jid_match(&bare, &f);
    xmp_jid_clear(&f);
    return ours;
}

static void leave_room(struct send_op *so)
{
    struct xmp_session *s = so->op.c->session;
    struct xmp_node *p;

    if (!so->mr.room || so->mr.left || !so->mr.occupant ||
        xmp_session_phase(s) != XMP_PHASE_READY)
        return;
    so->mr.left = 1;
    /* XEP-0045 §7.14: unavailable presence to the occupant JID. */
    if ((p = xmp_node_new("jabber:client", "presence", NULL)) &&
        xmp_node_set_attr(p, "to", so->mr.self ? so->mr.self : so->mr.occupant,
                          NULL) == XMP_OK &&
        xmp_node_set_attr(p, "type", "unavailable", NULL) == XMP_OK)
        xmp_session_send(s, p, NULL);
    xmp_node_free(p);
}

static void finish(struct send_op *so, int status)
{
    leave_room(so);
    op_done(&so->op, status);
}

/* The server did not vouch for what was sent: the messages it has not
 * acknowledged are in doubt, and at least the one the acknowledgement
 * was asked for. */
static void unconfirmed(struct send_op *so)
{
    uint64_t acked = xmp_session_acked(so->op.c->session), n = 0;
    size_t i;

    if (so->lines)
        n = so->ln.rcount;
    else
        for (i = 0; i < so->nr; i++)
            n += acked < so->r[i].seq;
    outcome_add(&so->out, ITEM_UNCONFIRMED, n ? n : 1);
}

/* Does this send keep what the server could not take for later? */
static int queueing(const struct send_op *so)
{
    return !so->mr.room && !so->lines && !so->receipt && !so->up &&
           !so->encrypt && (so->queue > 0 || (so->queue == 0 && so->op.c->o.queue));
}

static struct xmp_node *build(const struct send_op *so, const char *to,
                              const char *id, const char *text, size_t len,
                              int oob, int last, struct xmp_error *err)
{
    struct xmp_node *m = xmp_node_new("jabber:client", "message", err), *b;

    if (!m)
        return NULL;
    if (xmp_node_set_attr(m, "to", to, err) ||
        xmp_node_set_attr(m, "type", so->mr.room ? "groupchat" : so->type,
                          err) ||
        xmp_node_set_attr(m, "id", id, err))
        goto fail;
    if (so->subject &&
        (!(b = xmp_node_add_child(m, "jabber:client", "subject", err)) ||
         xmp_node_add_text(b, so->subject, strlen(so->subject), err)))
        goto fail;
    if (so->cr.enc) {
        /* the text is only inside <encrypted/>; the body says so */
        text = OMEMO_FALLBACK;
        len = strlen(text);
    }
    if (!(b = xmp_node_add_child(m, "jabber:client", "body", err)) ||
        xmp_node_add_text(b, text, len, err))
        goto fail;
    if (so->cr.enc &&
        (!(b = xmp_node_parse(so->cr.enc, strlen(so->cr.enc), err)) ||
         xmp_node_append(m, b) != XMP_OK ||
         !(b = xmp_node_add_child(m, NS_EME, "encryption", err)) ||
         xmp_node_set_attr(b, "namespace",
                           so->cr.ns == XMP_OMEMO_V2 ? XMP_OMEMO_NS_V2
                                                     : XMP_OMEMO_NS_AXOLOTL,
                           err) ||
         xmp_node_set_attr(b, "name", "OMEMO", err) ||
         !xmp_node_add_child(m, NS_HINTS, "store", err)))
        goto fail;
    if (so->thread &&
        (!(b = xmp_node_add_child(m, "jabber:client", "thread", err)) ||
         xmp_node_add_text(b, so->thread, strlen(so->thread), err)))
        goto fail;
    if (so->receipt && last &&
        !xmp_node_add_child(m, NS_RECEIPTS, "request", err))
        goto fail;
    /* XEP-0066: the URL as out-of-band data too, so that clients show
     * the file inline (the body is the same URL, for the others) */
    if (oob &&
        (!(b = xmp_node_add_child(m, NS_OOB, "x", err)) ||
         !(b = xmp_node_add_child(b, NS_OOB, "url", err)) ||
         xmp_node_add_text(b, text, len, err)))
        goto fail;
    /* XEP-0359: the id of a message that may be queued and sent again,
     * for the recipient to tell the attempts apart from new messages */
    if (queueing(so) &&
        (!(b = xmp_node_add_child(m, NS_SID, "origin-id", err)) ||
         xmp_node_set_attr(b, "id", id, err)))
        goto fail;
    return m;
fail:
    xmp_node_free(m);
    return NULL;
}

/* Send one message (a URL with out-of-band data when oob; the last to
 * its recipient, which asks for the receipt, when last); 0, or -1 with
 * the operation done. */
static int send_one_of(struct send_op *so, const char *to, const char *id,
                       const char *text, size_t len, int oob, int last,
                       uint64_t *seq)
{
    struct xmp_session *s = so->op.c->session;
    struct xmp_node *msg;
    struct xmp_error err;

    if (!(msg = build(so, to, id, text, len, oob, last, &err))) {
        cli_error("%s", err.msg);
        finish(so, cli_exit_status(err.code));
        return -1;
    }
    if (xmp_session_send(s, msg, seq) != XMP_OK) {
        xmp_node_free(msg);
        op_session_failed(&so->op);
        return -1;
    }
    xmp_node_free(msg);
    return 0;
}

/* Send one message; 0, or -1 with the operation done. */
static int send_one(struct send_op *so, const char *to, const char *id,
                    const char *text, size_t len, uint64_t *seq)
{
    return send_one_of(so, to, id, text, len, 0, 1, seq);
}

static int send_barrier(struct send_op *so);

/* --file: the text (if any), then each file's URL, in that order; all
 * uploaded by now.  0, or -1 with the operation done. */
static int send_files(struct send_op *so, struct rcpt *r)
{
    size_t k, n = cli_upload_count(so->up), total = n + (so->text != NULL);
    size_t m = 0;
    char id[160];
    const char *url;

    if (so->text) {
        m++;
        snprintf(id, sizeof id, "%s-%zu", r->id, m);
        if (send_one_of(so, r->to, m == total ? r->id : id, so->text,
                        so->len, 0, m == total, &r->seq) < 0)
            return -1;
    }
    for (k = 0; k < n; k++) {
        url = cli_upload_url(so->up, k);
        m++;
        snprintf(id, sizeof id, "%s-%zu", r->id, m);
        if (send_one_of(so, r->to, m == total ? r->id : id, url,
                        strlen(url), 1, m == total, &r->seq) < 0)
            return -1;
    }
    return 0;
}

static void send_all(struct send_op *so)
{
    struct xmp_session *s = so->op.c->session;
    size_t i;

    so->stage = ST_SENDING;
    if (so->lines) {
        if (!(so->ln.id_base = xmp_session_new_id(s))) {
            finish(so, EXIT_OSERR);
            return;
        }
        so->op.fd = STDIN_FILENO;
        so->op.events = POLLIN;
        return;
    }
    for (i = 0; i < so->nr; i++) {
        if (!(so->r[i].id = xmp_session_new_id(s))) {
            finish(so, EXIT_OSERR);
            return;
        }
        if (so->up) {
            if (send_files(so, &so->r[i]) < 0)
                return;
        } else if (send_one(so, so->r[i].to, so->r[i].id, so->text, so->len,
                            &so->r[i].seq) < 0) {
            return;
        }
        so->last_seq = so->r[i].seq;
    }
    if (xmp_session_request_ack(s) != XMP_OK || send_barrier(so) < 0) {
        op_session_failed(&so->op);
        return;
    }
    /* The close waits for the answer: a server may end the stream on
     * our </stream:stream> before it answers what came before it
     * (ejabberd does, without stream management), and the messages
     * would stay unconfirmed. */
    so->stage = ST_ACK;
}

/* ---- what arrives ---------------------------------------------------- */

static void on_join_presence(struct send_op *so, const struct xmp_node *st)
{
    const char *type = xmp_node_attr(st, "type");
    const struct xmp_node *x = xmp_node_child(st, NS_MUC_USER, "x");
    char cond[512];

    if (!from_room(so, st))
        return;
    if (type && strcmp(type, "error") == 0) {
        xmp_error_describe(st, cond, sizeof cond);
        cli_error("cannot join %s: %s", so->mr.room, cond);
        so->mr.left = 1; /* never in */
        outcome_add(&so->out, ITEM_BOUNCED, 1);
        op_done(&so->op, status_send(&so->out));
        return;
    }
    /* XEP-0045 §7.2.2: the presence about ourselves carries status 110. */
    if (type || !x || !is_status(x, "110"))
        return;
    free(so->mr.self);
    so->mr.self = strdup(xmp_node_attr(st, "from"));
    so->mr.joined = 1;
    so->op.deadline = -1;
    send_all(so);
}

/* A bounce of --lines: its id is id_base-N. */
static int lines_bounce(struct send_op *so, const struct xmp_node *st,
                        const char **line)
{
    const char *id = xmp_node_attr(st, "id");
    size_t n = strlen(so->ln.id_base);
    size_t i;

    if (!id || strncmp(id, so->ln.id_base, n) != 0 || id[n] != '-')
        return -1;
    for (i = 0; i < so->nr; i++)
        if (cli_is_bounce(st, id, &so->r[i].jid)) {
            *line = id + n + 1;
            return (int)i;
        }
    return -1;
}

/* Of one of our messages to r: its id, or (--file) its id-N. */
static int is_bounce_of(const struct xmp_node *st, const struct rcpt *r)
{
    const char *sid = xmp_node_attr(st, "id");
    size_t n = r->id ? strlen(r->id) : 0;

    if (sid && n && strncmp(sid, r->id, n) == 0 && sid[n] == '-' &&
        sid[n + 1])
        return cli_is_bounce(st, sid, &r->jid);
    return cli_is_bounce(st, r->id, &r->jid);
}

static void on_message_error(struct send_op *so, const struct xmp_node *st)
{
    char cond[512], note[256];
    const char *line;
    const char *from = xmp_node_attr(st, "from");
    size_t i;
    int k;

    xmp_error_describe(st, cond, sizeof cond);
    if (so->lines && so->ln.id_base) {
        if ((k = lines_bounce(so, st, &line)) >= 0) {
            cli_error("line %s to %s bounced: %s", line, so->r[k].to, cond);
            outcome_add(&so->out, ITEM_BOUNCED, 1);
            return;
        }
    } else {
        for (i = 0; i < so->nr; i++)
            if (!so->r[i].bounced && is_bounce_of(st, &so->r[i])) {
                cli_error("message to %s bounced: %s", so->r[i].to, cond);
                so->r[i].bounced = 1;
                outcome_add(&so->out, ITEM_BOUNCED, 1);
                return;
            }
    }
    /* Anyone may send an error with an id of ours: only the recipient
     * or its domain speaks for the message. */
    snprintf(note, sizeof note, "ignored an error from %s that does not "
             "come from a recipient or its domain",
             from ? from : "(no sender)");
    cli_trace(so->op.c, XMP_TRACE_INFO, note, strlen(note));
}

static void on_receipt(struct send_op *so, const struct xmp_node *st)
{
    const struct xmp_node *rc = xmp_node_child(st, NS_RECEIPTS, "received");
    const char *id = rc ? xmp_node_attr(rc, "id") : NULL;
    const char *from = xmp_node_attr(st, "from");
    struct xmp_jid f;
    size_t i;

    if (!id || !from || xmp_jid_parse(from, &f, NULL) != XMP_OK)
        return;
    for (i = 0; i < so->nr; i++) {
        const struct xmp_jid bare = { so->r[i].jid.local,
                                      so->r[i].jid.domain, NULL };

        /* XEP-0184 §5: only the recipient can say it received it. */
        if (so->r[i].id && strcmp(id, so->r[i].id) == 0 &&
            (so->r[i].jid.resource ? xmp_jid_equal(&so->r[i].jid, &f)
                                   : xmp_jid_match(&bare, &f)))
            so->r[i].receipt = 1;
    }
    xmp_jid_clear(&f);
}

static int watch(struct xmp_session *s, const struct xmp_node *st, void *ud)
{
    struct send_op *so = ud;
    const char *name = xmp_node_name(st), *type = xmp_node_attr(st, "type");

    (void)s;
    if (so->op.done)
        return XMP_PASS;
    if (strcmp(name, "presence") == 0 && so->stage == ST_JOINING)
        on_join_presence(so, st);
    else if (strcmp(name, "message") == 0 && type &&
             strcmp(type, "error") == 0)
        on_message_error(so, st);
    else if (strcmp(name, "message") == 0 && so->receipt)
        on_receipt(so, st);
    return XMP_PASS;
}

/* ---- --lines --------------------------------------------------------- */

static int blank(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t')
            return 0;
    return 1;
}

/* One line of input (without its newline): 0, or -1 with the operation
 * done. */
static int send_line(struct send_op *so, const char *p, size_t n)
{
    char id[128];
    struct xmp_error err;
    uint64_t seq;
    size_t i;

    so->ln.line_no++;
    if (n && p[n - 1] == '\r')
        n--;
    if (blank(p, n))
        return 0;
    if (xmp_xml_check_text(p, n, &err) != XMP_OK) {
        cli_warn("line %llu skipped: %s", (unsigned long long)so->ln.line_no,
                 err.msg);
        outcome_add(&so->out, ITEM_SKIPPED, 1);
        return 0;
    }
    snprintf(id, sizeof id, "%s-%llu", so->ln.id_base,
             (unsigned long long)so->ln.line_no);
    for (i = 0; i < so->nr; i++) {
        if (send_one(so, so->r[i].to, id, p, n, &seq) < 0)
            return -1;
        so->ln.ring[(so->ln.rhead + so->ln.rcount) % SEND_UNACKED_MAX] = seq;
        so->ln.rcount++;
        so->ln.sent++;
        so->last_seq = seq;
    }
    return 0;
}

static int can_send(const struct send_op *so)
{
    return xmp_session_writable(so->op.c->session) &&
           so->ln.rcount + so->nr <= SEND_UNACKED_MAX;
}

/* Send the complete lines in the buffer while the session takes more. */
static void drain_lines(struct send_op *so)
{
    char *nl;
    size_t used = 0, n;

    while (!so->op.done && can_send(so) && used < so->ln.blen &&
           (nl = memchr(so->ln.buf + used, '\n', so->ln.blen - used))) {
        n = (size_t)(nl - (so->ln.buf + used));
        if (so->ln.discarding)
            so->ln.discarding = 0; /* the end of an overlong line */
        else if (send_line(so, so->ln.buf + used, n) < 0)
            return;
        used += n + 1;
    }
    if (used) {
        memmove(so->ln.buf, so->ln.buf + used, so->ln.blen - used);
        so->ln.blen -= used;
    }
    if (so->op.done)
        return;
    if (so->ln.blen == SEND_MAX_TEXT + 1) {
        /* No newline in a full buffer: too long to be one message. */
        if (!so->ln.discarding) {
            so->ln.line_no++;
            cli_warn("line %llu skipped: longer than %d bytes",
                     (unsigned long long)so->ln.line_no, SEND_MAX_TEXT);
            outcome_add(&so->out, ITEM_SKIPPED, 1);
        }
        so->ln.discarding = 1;
        so->ln.blen = 0;
    }
    /* The last line may lack its newline. */
    if (so->ln.eof && so->ln.blen && can_send(so) && !memchr(so->ln.buf, '\n',
                                                       so->ln.blen)) {
        if (!so->ln.discarding && send_line(so, so->ln.buf, so->ln.blen) < 0)
            return;
        so->ln.blen = 0;
    }
}

static void lines_io(struct op *op, short revents)
{
    struct send_op *so = (struct send_op *)op;
    struct pollfd p = { STDIN_FILENO, POLLIN, 0 };
    ssize_t got;

    (void)revents;
    got = read(STDIN_FILENO, so->ln.buf + so->ln.blen, SEND_MAX_TEXT + 1 - so->ln.blen);
    if (got < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (got < 0) {
        cli_error("cannot read stdin: %s", strerror(errno));
        finish(so, EXIT_IOERR);
        return;
    }
    if (got == 0)
        so->ln.eof = 1;
    so->ln.blen += (size_t)got;
    drain_lines(so);
    /* Nothing more to read at once: a pause in the input, the moment to
     * ask the server what it has. */
    so->ln.idle = so->ln.eof || (poll(&p, 1, 0) == 0);
}

static void lines_report(struct send_op *so, const char *why)
{
    cli_error("%s: the server confirmed %llu of %llu messages",
              why, (unsigned long long)so->out.n[ITEM_ACKED],
              (unsigned long long)so->ln.sent);
}

static void lines_prepare(struct send_op *so)
{
    struct xmp_session *s = so->op.c->session;
    uint64_t acked = xmp_session_acked(s);
    const struct xmp_error *e;

    while (so->ln.rcount && so->ln.ring[so->ln.rhead] <= acked) {
        so->ln.rhead = (so->ln.rhead + 1) % SEND_UNACKED_MAX;
        so->ln.rcount--;
        outcome_add(&so->out, ITEM_ACKED, 1);
    }
    /* Resuming a lost connection: nothing is read or asked until the
     * session is back. */
    if (xmp_session_phase(s) != XMP_PHASE_READY) {
        so->op.events = 0;
        return;
    }
    if ((e = xmp_session_ack_error(s))) {
        lines_report(so, e->msg);
        unconfirmed(so);
        finish(so, status_send(&so->out));
        return;
    }
    drain_lines(so);
    if (so->op.done)
        return;
    if (so->last_seq > so->ln.requested &&
        (so->ln.idle || so->ln.eof || !can_send(so) ||
         so->ln.rcount >= SEND_ACK_EVERY)) {
        if (xmp_session_request_ack(s) != XMP_OK) {
            op_session_failed(&so->op);
            return;
        }
        so->ln.requested = so->last_seq;
    }
    if (so->ln.eof && !so->ln.blen && !so->ln.rcount) {
        finish(so, status_send(&so->out));
        return;
    }
    /* Read on only when what was read has gone out and the server keeps
     * up: the input waits in its pipe, not in our memory. */
    so->op.fd = so->ln.eof ? -1 : STDIN_FILENO;
    so->op.events = !so->ln.eof && can_send(so) &&
                            !memchr(so->ln.buf, '\n', so->ln.blen)
                        ? POLLIN
                        : 0;
}

/* ---- the operation ---------------------------------------------------- */

/* ---- --encrypt=omemo ------------------------------------------------------ */

/* Encryption is not possible: nothing is sent, and the status says so. */
static void no_crypt(struct send_op *so)
{
    outcome_add(&so->out, ITEM_NOCRYPT, 1);
    finish(so, status_send(&so->out));
}

static void crypt_drop(struct send_op *so)
{
    cli_pep_free(so->cr.pep);
    so->cr.pep = NULL;
}

/* Each of the devices to encrypt for: every device of every recipient
 * in ns, and our own others.  *n of them in *out (caller frees). */
static int crypt_devices(struct send_op *so, struct xmp_omemo_rcpt **out,
                         size_t *n)
{
    const struct cli_pep_devs *d;
    struct xmp_omemo_rcpt *v = NULL, *nv;
    uint32_t self = xmp_omemo_device_id(so->cr.o->om);
    size_t i, k, m = 0;
    enum xmp_omemo_ns ns = so->cr.ns;
    int own_rcpt = 0;

    for (i = 0; i < so->nr; i++)
        own_rcpt |= strcmp(so->r[i].to, so->cr.o->jid) == 0;
    for (i = 0; i <= so->nr; i++) {
        const char *jid = i < so->nr ? so->r[i].to : so->cr.o->jid;

        if (!(d = cli_pep_devices(so->cr.pep, jid)) ||
            (i == so->nr && own_rcpt))
            continue;
        for (k = 0; k < d->n[ns]; k++) {
            if (strcmp(jid, so->cr.o->jid) == 0 && d->ids[ns][k] == self)
                continue;
            if (!(nv = realloc(v, (m + 1) * sizeof *v))) {
                free(v);
                return -1;
            }
            v = nv;
            memset(&v[m], 0, sizeof v[m]);
            v[m].jid = d->jid;
            v[m].device = d->ids[ns][k];
            m++;
        }
    }
    *out = v;
    *n = m;
    return 0;
}

/* The bundles are in: encrypt once for every device, then send. */
static void crypt_encrypt(struct send_op *so)
{
    struct xmp_omemo_rcpt *v = NULL;
    struct xmp_node *enc = NULL;
    struct xmp_error err;
    size_t n = 0, i;
    enum xmp_err rc;

    if (cli_pep_error(so->cr.pep)) {
        cli_error("send: not encrypted, nothing sent: %s",
                  cli_pep_error(so->cr.pep));
        no_crypt(so);
        return;
    }
    if (crypt_devices(so, &v, &n) < 0) {
        finish(so, EXIT_OSERR);
        return;
    }
    for (i = 0; i < n; i++)
        if (!xmp_omemo_has_session(so->cr.o->om, so->cr.ns, v[i].jid,
                                   v[i].device))
            v[i].bundle = cli_pep_bundle(so->cr.pep, v[i].jid, so->cr.ns,
                                         v[i].device);
    rc = xmp_omemo_encrypt(so->cr.o->om, so->cr.ns, so->text, v, n, &enc,
                           &err);
    if (rc != XMP_OK) {
        for (i = 0; i < n; i++)
            if (v[i].why != XMP_OMEMO_OK)
                cli_error("send: not encrypted, nothing sent: %s device "
                          "%" PRIu32 ": %s", v[i].jid, v[i].device,
                          xmp_omemo_why_name(v[i].why));
        if (rc == XMP_EDATA) {
            if (i == n)
                cli_error("send: not encrypted, nothing sent: %s", err.msg);
            free(v);
            no_crypt(so);
        } else {
            cli_error("send: %s", err.msg);
            free(v);
            finish(so, cli_exit_status(rc));
        }
        return;
    }
    free(v);
    so->cr.enc = xmp_node_to_string(enc, "jabber:client");
    xmp_node_free(enc);
    crypt_drop(so);
    if (!so->cr.enc) {
        finish(so, EXIT_OSERR);
        return;
    }
    send_all(so);
}

/* The device lists are in: choose the namespace (urn:xmpp:omemo:2 when
 * every recipient lists a device there, else the one deployed clients
 * speak), publish our device there if it is not listed yet, and fetch
 * the bundles of the devices we have no session with. */
static void crypt_lists(struct send_op *so)
{
    const struct cli_pep_devs *d, *own;
    struct cli_pep *p = so->cr.pep;
    uint32_t self = xmp_omemo_device_id(so->cr.o->om);
    struct xmp_omemo_rcpt *v = NULL;
    size_t i, n = 0;
    int ok = 1;

    if (cli_pep_error(p)) {
        cli_error("send: not encrypted, nothing sent: %s", cli_pep_error(p));
        no_crypt(so);
        return;
    }
    so->cr.ns = XMP_OMEMO_V2;
    for (i = 0; i < so->nr; i++)
        if (!(d = cli_pep_devices(p, so->r[i].to)) || !d->n[XMP_OMEMO_V2])
            so->cr.ns = XMP_OMEMO_AXOLOTL;
    for (i = 0; i < so->nr; i++)
        if (!(d = cli_pep_devices(p, so->r[i].to)) || !d->n[so->cr.ns]) {
            cli_error("send: not encrypted, nothing sent: %s has no OMEMO "
                      "device (that we may see)", so->r[i].to);
            ok = 0;
        }
    if (!ok) {
        no_crypt(so);
        return;
    }
    so->cr.fetching_bundles = 1;
    own = cli_pep_devices(p, so->cr.o->jid);
    for (i = 0; own && i < own->n[so->cr.ns] && own->ids[so->cr.ns][i] != self;
         i++)
        ;
    /* python-omemo and others decrypt only from a device whose bundle
     * they can fetch: ours must be out before our first message */
    if ((!own || i == own->n[so->cr.ns]) && cli_pep_publish(p, so->cr.ns) < 0)
        ok = 0;
    if (ok && crypt_devices(so, &v, &n) < 0)
        ok = 0;
    for (i = 0; ok && i < n; i++)
        if (!xmp_omemo_has_session(so->cr.o->om, so->cr.ns, v[i].jid,
                                   v[i].device) &&
            cli_pep_fetch_bundle(p, v[i].jid, so->cr.ns, v[i].device) < 0)
            ok = 0;
    free(v);
    if (!ok) {
        crypt_drop(so);
        op_session_failed(&so->op);
        return;
    }
    if (!cli_pep_pending(p))
        crypt_encrypt(so);
}

static void on_pep_done(void *ud)
{
    struct send_op *so = ud;

    if (so->cr.fetching_bundles)
        crypt_encrypt(so);
    else
        crypt_lists(so);
}

/* Our device (made on first use), then everyone's device lists. */
static int crypt_start(struct send_op *so)
{
    struct op *op = &so->op;
    int rc;
    size_t i;

    so->stage = ST_ENCRYPTING;
    if (!so->cr.o && (rc = cli_omemo_open(op->c->o.jid, &so->cr.o)) != EXIT_OK)
        return rc;
    so->cr.fetching_bundles = 0;
    if (!(so->cr.pep = cli_pep_new(op->c->session, so->cr.o, on_pep_done, so)))
        return EXIT_OSERR;
    for (i = 0; i < so->nr; i++)
        if (cli_pep_fetch_lists(so->cr.pep, so->r[i].to) < 0)
            return EXIT_OSERR;
    if (cli_pep_fetch_lists(so->cr.pep, so->cr.o->jid) < 0)
        return EXIT_OSERR;
    return 0;
}

/* What comes once the files (if any) are uploaded: join the room, or
 * send. */
static int send_go(struct send_op *so)
{
    struct op *op = &so->op;
    struct xmp_session *s = op->c->session;
    struct xmp_session_info info;
    struct xmp_node *p, *x, *h, *pw;
    struct xmp_jid me;
    const char *nick = so->mr.nick;
    int timeout_s = op->c->o.timeout_s ? op->c->o.timeout_s
                                       : CLI_DEFAULT_TIMEOUT_S;
    int rc = EXIT_OK;
    size_t n;

    op->fd = -1;
    op->events = 0;
    op->deadline = -1;
    if (so->encrypt)
        return crypt_start(so);
    if (!so->mr.room) {
        send_all(so);
        return 0;
    }
    /* XEP-0045 §7.2: presence to ROOM@SERVICE/NICK; the default nick is
     * our localpart (or resource, for a JID without one). */
    xmp_session_get_info(s, &info);
    memset(&me, 0, sizeof me);
    if (!nick && info.bound_jid &&
        xmp_jid_parse(info.bound_jid, &me, NULL) == XMP_OK)
        nick = me.local ? me.local : me.resource;
    if (!nick) {
        xmp_jid_clear(&me);
        cli_error("no nickname for %s: give --nick", so->mr.room);
        return EXIT_USAGE;
    }
    n = strlen(so->mr.room) + strlen(nick) + 2;
    if ((so->mr.occupant = malloc(n)))
        snprintf(so->mr.occupant, n, "%s/%s", so->mr.room, nick);
    xmp_jid_clear(&me);
    if (!so->mr.occupant)
        return EXIT_OSERR;
    if (!(p = xmp_node_new("jabber:client", "presence", NULL)))
        return EXIT_OSERR;
    if (xmp_node_set_attr(p, "to", so->mr.occupant, NULL) != XMP_OK ||
        !(x = xmp_node_add_child(p, NS_MUC, "x", NULL)) ||
        !(h = xmp_node_add_child(x, NS_MUC, "history", NULL)) ||
        xmp_node_set_attr(h, "maxstanzas", "0", NULL) != XMP_OK ||
        (so->mr.room_pw.pw &&
         (!(pw = xmp_node_add_child(x, NS_MUC, "password", NULL)) ||
          xmp_node_add_text(pw, so->mr.room_pw.pw, so->mr.room_pw.len, NULL) !=
              XMP_OK))) {
        xmp_node_free(p);
        return EXIT_OSERR;
    }
    so->stage = ST_JOINING;
    if (xmp_session_send(s, p, NULL) != XMP_OK) {
        cli_error("%s", xmp_session_error(s)->msg);
        rc = cli_exit_status(xmp_session_error(s)->code);
    }
    xmp_node_free(p);
    cli_secret_wipe(&so->mr.room_pw);
    op->deadline = xmp_now_ms() + (int64_t)timeout_s * 1000;
    return rc;
}

static int send_start(struct op *op)
{
    struct send_op *so = (struct send_op *)op;
    struct xmp_session *s = op->c->session;

    if (xmp_handler_add(s, NULL, XMP_PRIO_OBSERVE, watch, so,
                        &so->handler) != XMP_OK)
        return EXIT_OSERR;
    so->have_handler = 1;
    if (so->up) {
        /* nothing is sent unless every file is uploaded */
        so->stage = ST_UPLOADING;
        return cli_upload_start(so->up, op->c);
    }
    return send_go(so);
}

/* Before each poll while uploading: go on once every file is up. */
static void upload_prepare(struct send_op *so)
{
    struct op *op = &so->op;
    int status, rc;

    if (cli_upload_done(so->up, &status)) {
        if (status != EXIT_OK) {
            finish(so, status);
            return;
        }
        if ((rc = send_go(so)) != 0)
            finish(so, rc);
        return;
    }
    cli_upload_prepare(so->up, &op->fd, &op->events, &op->deadline);
}

static int all_receipts(const struct send_op *so)
{
    size_t i;

    for (i = 0; i < so->nr; i++)
        if (!so->r[i].receipt && !so->r[i].bounced)
            return 0;
    return 1;
}

/* The answer to the barrier ping, whatever it is (an error, or none in
 * time, included): the messages were acknowledged by then or not, and
 * that decides. */
static void on_barrier(struct xmp_session *s, const struct xmp_node *reply,
                       const struct xmp_error *e, void *ud)
{
    struct send_op *so = ud;

    (void)s;
    (void)reply;
    (void)e;
    so->pinging = 0;
}

/* With stream management the server acknowledges a message as soon as it
 * has taken it, which can be before the bounce of a recipient that does
 * not exist (ejabberd acknowledges first).  A ping sent right behind the
 * acknowledgement request is answered after what the messages caused, as
 * the ping barrier without stream management is: waiting for both costs
 * no round trip, and a bounce still decides the exit status.  --lines
 * runs for days and counts confirmations, not bounces: no barrier. */
static int send_barrier(struct send_op *so)
{
    struct xmp_session *s = so->op.c->session;
    struct xmp_session_info info;
    struct xmp_node *iq;
    enum xmp_err r;

    xmp_session_get_info(s, &info);
    if (!info.sm)
        return 0; /* the acknowledgement is a ping already */
    if (!(iq = xmp_node_new("jabber:client", "iq", NULL)) ||
        xmp_node_set_attr(iq, "type", "get", NULL) != XMP_OK ||
        !xmp_node_add_child(iq, "urn:xmpp:ping", "ping", NULL)) {
        xmp_node_free(iq);
        return -1;
    }
    r = xmp_session_send_iq(s, iq, 0, on_barrier, so, &so->ping);
    xmp_node_free(iq);
    if (r != XMP_OK)
        return -1;
    so->pinging = 1;
    return 0;
}

/* Before each poll: has the server answered for the messages yet? */
static void send_check(struct op *op)
{
    struct send_op *so = (struct send_op *)op;
    struct xmp_session *s = op->c->session;
    const struct xmp_error *e;
    int timeout_s = op->c->o.timeout_s ? op->c->o.timeout_s
                                       : CLI_DEFAULT_TIMEOUT_S;
    size_t i;

    if (so->stage == ST_SENDING && so->lines) {
        lines_prepare(so);
        return;
    }
    if (so->stage == ST_UPLOADING) {
        upload_prepare(so);
        return;
    }
    if (so->stage == ST_ACK) {
        if (xmp_session_acked(s) >= so->last_seq && !so->pinging) {
            if (so->receipt && so->out.n[ITEM_BOUNCED] < so->nr) {
                so->stage = ST_RECEIPT;
                op->deadline = xmp_now_ms() + (int64_t)timeout_s * 1000;
            } else {
                finish(so, status_send(&so->out));
                return;
            }
        } else if ((e = xmp_session_ack_error(s))) {
            for (i = 0; i < so->nr; i++)
                if (xmp_session_acked(s) < so->r[i].seq)
                    cli_error("message to %s not acknowledged by the "
                              "server: %s", so->r[i].to, e->msg);
            unconfirmed(so);
            finish(so, status_send(&so->out));
            return;
        }
    }
    if (so->stage == ST_RECEIPT && all_receipts(so))
        finish(so, status_send(&so->out));
}

static void send_timer(struct op *op)
{
    struct send_op *so = (struct send_op *)op;
    int timeout_s = op->c->o.timeout_s ? op->c->o.timeout_s
                                       : CLI_DEFAULT_TIMEOUT_S;
    size_t i;

    if (so->stage == ST_UPLOADING) {
        cli_upload_step(so->up);
    } else if (so->stage == ST_JOINING) {
        cli_error("cannot join %s: no answer within %d s", so->mr.room,
                  timeout_s);
        outcome_add(&so->out, ITEM_TIMED_OUT, 1);
        finish(so, status_send(&so->out));
    } else if (so->stage == ST_RECEIPT) {
        for (i = 0; i < so->nr; i++)
            if (!so->r[i].receipt && !so->r[i].bounced) {
                cli_error("no receipt from %s within %d s", so->r[i].to,
                          timeout_s);
                outcome_add(&so->out, ITEM_NO_RECEIPT, 1);
            }
        finish(so, status_send(&so->out));
    }
}

static void send_io(struct op *op, short revents)
{
    struct send_op *so = (struct send_op *)op;

    if (so->lines && so->stage == ST_SENDING)
        lines_io(op, revents);
    else if (so->stage == ST_UPLOADING)
        cli_upload_step(so->up);
}

/* The session's end with nothing of ours in doubt: its own status, as
 * cli_session_status gives it (69 when the server went away). */
static int ended_status(struct xmp_session *s)
{
    return status_session_end(xmp_session_phase(s) == XMP_PHASE_FAILED,
                              xmp_session_error(s)->code);
}

/* Messages that went with the login (XEP-0509 pipelining), and the
 * login failed: 1 when that is said and done. */
static int early_lost(struct send_op *so, const char *why)
{
    struct xmp_session *s = so->op.c->session;
    struct xmp_session_info info;
    size_t i;

    xmp_session_get_info(s, &info);
    if (so->lines || !info.pipelined || info.bound_jid)
        return 0;
    if (info.early_unconfirmed) {
        /* the server said yes, but could not prove it was the server:
         * whoever it was has the messages */
        for (i = 0; i < so->nr; i++)
            cli_error("message to %s: %s; it went with the login and may "
                      "have reached the server", so->r[i].to, why);
        outcome_add(&so->out, ITEM_UNCONFIRMED, so->nr);
        op_done(&so->op, ended_status(s));
        return 1;
    }
    /* refused with the login: nothing was taken.  A refused token is
     * tried once more with the password, without going early. */
    if (info.fast_refused) {
        so->op.again = 1;
        op_done(&so->op, EXIT_OK);
        return 1;
    }
    cli_error("%s", why);
    op_done(&so->op, ended_status(s));
    return 1;
}

/* The messages left us, but nobody vouched for them. */
static void send_lost(struct op *op)
{
    struct send_op *so = (struct send_op *)op;
    struct xmp_session *s = op->c->session;
    const struct xmp_error *e = xmp_session_error(s);
    const char *why = e->msg[0] ? e->msg : "the session ended";
    size_t i;

    if (early_lost(so, why))
        return;

    if (so->lines && so->stage == ST_SENDING) {
        while (so->ln.rcount && so->ln.ring[so->ln.rhead] <= xmp_session_acked(s)) {
            so->ln.rhead = (so->ln.rhead + 1) % SEND_UNACKED_MAX;
            so->ln.rcount--;
            outcome_add(&so->out, ITEM_ACKED, 1);
        }
        if (so->ln.eof && !so->ln.blen && !so->ln.rcount) {
            op_done(op, status_send(&so->out));
            return;
        }
        lines_report(so, why);
        /* every message sent was confirmed: the rest were never sent */
        if (!so->ln.rcount) {
            op_done(op, ended_status(s));
            return;
        }
        outcome_add(&so->out, ITEM_UNCONFIRMED, so->ln.rcount);
        op_done(op, status_send(&so->out));
        return;
    }
    send_check(op);
    if (op->done)
        return;
    if (so->stage == ST_UPLOADING) {
        /* no message has gone out: nothing is in doubt */
        cli_error("upload not finished, nothing sent: %s", why);
        op_done(op, ended_status(s));
        return;
    }
    if (so->stage == ST_ENCRYPTING) {
        /* no message has gone out: nothing is in doubt */
        crypt_drop(so);
        cli_error("not encrypted, nothing sent: %s", why);
        op_done(op, ended_status(s));
        return;
    }
    if (so->stage == ST_JOINING) {
        /* no message has gone out: nothing is in doubt */
        cli_error("cannot join %s: %s", so->mr.room, why);
        op_done(op, ended_status(s));
        return;
    }
    so->out.ended = 1;
    if (so->stage == ST_RECEIPT) {
        cli_error("the session ended before every receipt came: %s", why);
        for (i = 0; i < so->nr; i++)
            if (!so->r[i].receipt && !so->r[i].bounced)
                outcome_add(&so->out, ITEM_NO_RECEIPT, 1);
        op_done(op, status_send(&so->out));
        return;
    }
    for (i = 0; i < so->nr; i++)
        if (xmp_session_acked(s) < so->r[i].seq)
            cli_error("message to %s not acknowledged by the server: %s",
                      so->r[i].to, why);
    unconfirmed(so);
    op_done(op, status_send(&so->out));
}

static void send_interrupt(struct op *op, int sig)
{
    struct send_op *so = (struct send_op *)op;

    if (so->lines)
        lines_report(so, "interrupted");
    else if (so->stage == ST_UPLOADING) {
        cli_upload_stop(so->up);
        cli_error("interrupted while uploading: nothing sent");
    }
    else if (so->stage == ST_ENCRYPTING)
        cli_error("interrupted while encrypting: nothing sent");
    else if (so->stage == ST_RECEIPT)
        cli_error("interrupted while waiting for receipts");
    else
        cli_error("interrupted before the server acknowledged the "
                  "message%s", so->nr > 1 ? "s" : "");
    finish(so, EXIT_SIGNAL_BASE + sig);
}

static void send_free(struct op *op)
{
    struct send_op *so = (struct send_op *)op;
    size_t i;

    if (so->have_handler && op->c && op->c->session)
        xmp_handler_remove(op->c->session, so->handler);
    if (so->pinging && op->c && op->c->session)
        xmp_iq_cancel(op->c->session, so->ping);
    if (op->c && op->c->session)
        crypt_drop(so);
    cli_omemo_close(so->cr.o);
    free(so->cr.enc);
    for (i = 0; i < so->nr; i++) {
        xmp_jid_clear(&so->r[i].jid);
        free(so->r[i].to);
        free(so->r[i].id);
    }
    free(so->r);
    cli_secret_wipe(&so->mr.room_pw);
    free(so->message);
    free(so->subject);
    free(so->thread);
    free(so->mr.room);
    free(so->mr.nick);
    free(so->mr.room_pw_file);
    free(so->mr.room_pw_cmd);
    free(so->mr.occupant);
    free(so->mr.self);
    free(so->ln.id_base);
    free(so->ln.buf);
    free(so->text);
    cli_upload_free(so->up);
    free(so);
}

/* Once acknowledged, a failed goodbye does not unsend the message: it
 * is reported, but the status stays 0. */
static void send_restart(struct op *op)
{
    struct send_op *so = (struct send_op *)op;
    size_t i;

    /* the handler and the ping went with the old session */
    so->have_handler = so->pinging = 0;
    so->stage = ST_JOINING;
    so->last_seq = 0;
    memset(&so->out, 0, sizeof so->out);
    for (i = 0; i < so->nr; i++) {
        free(so->r[i].id);
        so->r[i].id = NULL;
        so->r[i].seq = 0;
        so->r[i].bounced = so->r[i].receipt = 0;
    }
}

/* ---- the queue (send --queue) ------------------------------------------- */

/* A status of a failure the next attempt may not meet: the server or its
 * address out of reach, no answer in time, no acknowledgement. */
static int temporary(int status)
{
    return status == EXIT_NOHOST || status == EXIT_UNAVAILABLE ||
           status == EXIT_TEMPFAIL || status == EXIT_NOTSENT;
}

static char *random_id(void)
{
    unsigned char r[12];
    char *id = malloc(2 * sizeof r + 1);
    size_t i;

    if (!id || getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        free(id);
        return NULL;
    }
    for (i = 0; i < sizeof r; i++)
        snprintf(id + 2 * i, 3, "%02x", r[i]);
    return id;
}

/* The run ends with status: what the server has not acknowledged (nor
 * refused) goes to the queue, under the id it was sent with, and the
 * status is 75.  Authentication, TLS and input failures never queue. */
static int send_unsent(struct op *op, int status)
{
    struct send_op *so = (struct send_op *)op;
    struct xmp_session *s = op->c->session;
    uint64_t acked = s ? xmp_session_acked(s) : 0;
    struct queued q;
    size_t i;
    int ok = 1, queued;

    if (!queueing(so) || !temporary(status))
        return status;
    memset(&q, 0, sizeof q);
    for (i = 0; i < so->nr && ok; i++) {
        struct rcpt *r = &so->r[i];

        if (r->bounced || (r->id && r->seq && acked >= r->seq))
            continue;
        if (!r->id && !(r->id = random_id()))
            ok = 0;
        else
            ok = cli_queue_add_to(&q, r->to, r->id) == 0;
    }
    if (ok && q.nto) {
        ok = (q.account = cli_private_name(op->c->o.jid)) &&
             (q.type = strdup(so->type)) &&
             (!so->subject || (q.subject = strdup(so->subject))) &&
             (!so->thread || (q.thread = strdup(so->thread))) &&
             (q.text = malloc(so->len + 1));
        if (ok) {
            memcpy(q.text, so->text, so->len);
            q.text[so->len] = '\0';
            q.len = so->len;
            ok = cli_queue_write(&q, 0) == 0;
        }
        if (ok)
            cli_warn("send: queued as %s for %zu recipient%s; 'xmpctl queue "
                     "flush' or the session holder sends it",
                     q.name, q.nto, q.nto == 1 ? "" : "s");
        else
            cli_error("send: the message could not be queued either");
    }
    queued = ok && q.nto;
    cli_queue_clear(&q);
    return queued ? EXIT_TEMPFAIL : status;
}

static const struct op_class send_class = {
    .name = "send",
    .start = send_start,
    .prepare = send_check,
    .io = send_io,
    .timer = send_timer,
    .interrupt = send_interrupt,
    .session_end = send_lost,
    .restart = send_restart,
    .unsent = send_unsent,
    .free = send_free,
};

/* ---- the command line -------------------------------------------------- */

static int set_str(char **dst, const char *v)
{
    free(*dst);
    return (*dst = strdup(v)) ? 0 : EXIT_OSERR;
}

static int set_send(void *ud, int id, const char *arg)
{
    struct send_op *so = ud;
    size_t i;

    switch (id) {
    case OPT_MESSAGE: return set_str(&so->message, arg);
    case OPT_SUBJECT: return set_str(&so->subject, arg);
    case OPT_THREAD: return set_str(&so->thread, arg);
    case OPT_ROOM: return set_str(&so->mr.room, arg);
    case OPT_NICK: return set_str(&so->mr.nick, arg);
    case OPT_ROOM_PASSWORD_FILE: return set_str(&so->mr.room_pw_file, arg);
    case OPT_ROOM_PASSWORD_COMMAND: return set_str(&so->mr.room_pw_cmd, arg);
    case OPT_LINES: so->lines = 1; return 0;
    case OPT_RECEIPT: so->receipt = 1; return 0;
    case OPT_QUEUE: so->queue = 1; return 0;
    case OPT_NO_QUEUE: so->queue = -1; return 0;
    case OPT_ALLOW_HTTP_UPLOAD: so->allow_http = 1; return 0;
    case OPT_ENCRYPT:
        if (strcmp(arg, "omemo") != 0) {
            cli_error("send: invalid --encrypt value '%s': expected omemo",
                      arg);
            return EXIT_USAGE;
        }
        so->encrypt = 1;
        return 0;
    case OPT_FILE:
        if (!so->up && !(so->up = cli_upload_new()))
            return EXIT_OSERR;
        return cli_upload_add(so->up, arg);
    case OPT_TYPE:
        for (i = 0; send_types[i]; i++)
            if (strcmp(arg, send_types[i]) == 0) {
                so->type = send_types[i];
                return 0;
            }
        cli_error("send: invalid --type value '%s': expected chat, normal "
                  "or headline", arg);
        return EXIT_USAGE;
    }
    return EXIT_SOFTWARE;
}

static int add_rcpt(struct send_op *so, const char *jid)
{
    struct xmp_error err;
    struct rcpt *r = &so->r[so->nr];

    if (xmp_jid_parse(jid, &r->jid, &err) != XMP_OK) {
        cli_error("%s", err.msg);
        return cli_exit_status(err.code);
    }
    so->nr++;
    return (r->to = strdup(jid)) ? 0 : EXIT_OSERR;
}

/* The text: checked whole before anything connects. */
static int check_text(struct send_op *so, const char *what)
{
    struct xmp_error err;
    size_t i;

    if (so->len == 0) {
        cli_error("empty message: nothing sent");
        return EXIT_DATA;
    }
    for (i = 0; i < so->len && memchr(" \t\r\n", so->text[i], 4); i++)
        ;
    if (i == so->len) {
        cli_error("message of white space only: nothing sent");
        return EXIT_DATA;
    }
    if (so->len > SEND_MAX_TEXT) {
        cli_error("message longer than %d bytes (SEND_MAX_TEXT)",
                  SEND_MAX_TEXT);
        return EXIT_DATA;
    }
    if (xmp_xml_check_text(so->text, so->len, &err) != XMP_OK) {
        cli_error("message not sent: %s%s", what, err.msg);
        return EXIT_DATA;
    }
    return 0;
}

static int check_field(const char *opt, const char *v)
{
    struct xmp_error err;

    if (v && xmp_xml_check_text(v, strlen(v), &err) != XMP_OK) {
        cli_error("message not sent: %s: %s", opt, err.msg);
        return EXIT_DATA;
    }
    return 0;
}

static int parse_args(struct cli *c, struct send_op *so, int argc,
                      char **argv)
{
    int rc, argi, njid, i;
    const char *text = NULL;

    if ((rc = cli_parse_cmd(&c->o, "send", argc, argv, &argi, set_send,
                            so)))
        return rc;
    njid = argc - argi;
    /* Which operands are recipients: with --message, --lines or --room
     * the text comes from elsewhere, so all are (--room takes none);
     * else the last of several is the TEXT, as in "send JID TEXT". */
    if (so->mr.room) {
        if (so->message || so->lines ? njid > 0 : njid > 1) {
            cli_error("send: --room takes no recipients (usage: xmpctl send "
                      "--room ROOM@SERVICE [TEXT])");
            return EXIT_USAGE;
        }
        if (njid == 1 && !so->message && !so->lines)
            text = argv[argc - 1];
        njid = 0;
    } else if (!so->message && !so->lines && njid >= 2) {
        text = argv[argc - 1];
        njid--;
    } else if (njid == 0) {
        cli_error("usage: xmpctl send JID... [TEXT] [--file PATH...] (or "
                  "--room ROOM@SERVICE)");
        return EXIT_USAGE;
    }
    if (so->lines && so->message) {
        cli_error("send: --lines reads its messages from stdin: no "
                  "--message");
        return EXIT_USAGE;
    }
    if (so->lines && so->receipt) {
        cli_error("send: --receipt waits for each message; not with "
                  "--lines");
        return EXIT_USAGE;
    }
    if (so->mr.room && (so->receipt || so->type)) {
        cli_error("send: with --room, messages are of type groupchat and "
                  "no receipt is asked for");
        return EXIT_USAGE;
    }
    if (!so->mr.room && (so->mr.nick || so->mr.room_pw_file || so->mr.room_pw_cmd)) {
        cli_error("send: --nick and the room password options need --room");
        return EXIT_USAGE;
    }
    if (so->queue > 0 && (so->mr.room || so->lines || so->receipt)) {
        cli_error("send: --queue keeps plain messages to JIDs: not with "
                  "--room, --lines or --receipt");
        return EXIT_USAGE;
    }
    if (so->up && (so->lines || so->queue > 0)) {
        cli_error("send: --file uploads before it sends: not with --lines "
                  "or --queue");
        return EXIT_USAGE;
    }
    if (so->encrypt && (so->mr.room || so->lines || so->up ||
                        so->queue > 0 || so->subject)) {
        cli_error("send: --encrypt=omemo sends one text to JIDs: not with "
                  "--room, --lines, --file, --queue or --subject");
        return EXIT_USAGE;
    }
    if (so->allow_http && !so->up) {
        cli_error("send: --allow-http-upload goes with --file");
        return EXIT_USAGE;
    }
    if (so->up && so->allow_http)
        cli_upload_allow_http(so->up);
    if (so->mr.room_pw_file && so->mr.room_pw_cmd) {
        cli_error("send: give --room-password-file or "
                  "--room-password-command, not both");
        return EXIT_USAGE;
    }
    if (!so->type)
        so->type = "chat";
    if (so->message && strcmp(so->message, "-") != 0)
        text = so->message;
    if ((rc = check_field("--subject", so->subject)) ||
        (rc = check_field("--thread", so->thread)) ||
        (so->mr.nick && (rc = check_field("--nick", so->mr.nick))))
        return rc;
    if (!(so->r = calloc(so->mr.room ? 1 : (size_t)njid, sizeof *so->r)))
        return EXIT_OSERR;
    if (so->mr.room) {
        if ((rc = add_rcpt(so, so->mr.room)))
            return rc;
        if (!so->r[0].jid.local || so->r[0].jid.resource) {
            cli_error("send: --room wants ROOM@SERVICE, not '%s'", so->mr.room);
            return EXIT_DATA;
        }
    }
    for (i = 0; i < njid; i++) {
        if ((rc = add_rcpt(so, argv[argi + i])))
            return rc;
        if (so->encrypt && (so->r[i].jid.resource || !so->r[i].jid.local)) {
            cli_error("send: --encrypt=omemo writes to accounts: '%s' is "
                      "not a bare JID (user@domain)", so->r[i].to);
            return EXIT_USAGE;
        }
    }
    if (so->lines) {
        if (c->interactive) {
            cli_error("send: --lines reads stdin, which the prompt owns");
            return EXIT_USAGE;
        }
        if (!(so->ln.buf = malloc(SEND_MAX_TEXT + 1)))
            return EXIT_OSERR;
        /* its row: the keepalive, and a lost connection resumed when it
         * can be */
        so->op.stays = 1;
    } else if (text) {
        so->len = strlen(text);
        if (!(so->text = strdup(text)))
            return EXIT_OSERR;
        if ((rc = check_text(so, "")))
            return rc;
    } else if (so->up && !so->message) {
        /* the files alone: no text, nothing read from stdin */
    } else if (c->interactive) {
        cli_error("send: give the TEXT too (quoted when it has spaces)");
        return EXIT_USAGE;
    } else {
        if ((rc = cli_read_stdin(SEND_MAX_TEXT, &so->text, &so->len)) !=
            EXIT_OK) {
            if (rc < 0) {
                cli_error("message longer than %d bytes (SEND_MAX_TEXT)",
                          SEND_MAX_TEXT);
                rc = EXIT_DATA;
            }
            return rc;
        }
        /* "echo text | xmpctl send" should not send the newline echo
         * adds. */
        while (so->len && (so->text[so->len - 1] == '\n' ||
                           so->text[so->len - 1] == '\r'))
            so->len--;
        if ((rc = check_text(so, "")))
            return rc;
    }
    if (so->mr.room)
        return cli_room_password_obtain(
            so->mr.room_pw_file, so->mr.room_pw_cmd,
            (c->o.timeout_s ? c->o.timeout_s : CLI_DEFAULT_TIMEOUT_S) * 1000,
            &so->mr.room_pw);
    /* messages to JIDs need nothing of the login but its success: they
     * may travel with it (a room needs our nick, --lines reads on) */
    so->op.early = !so->lines && !so->up && !so->encrypt;
    return 0;
}

int cmd_send(struct cli *c, int argc, char **argv, struct op **out)
{
    struct send_op *so;
    int rc;

    if (!(so = calloc(1, sizeof *so)))
        return EXIT_OSERR;
    so->op.cls = &send_class;
    so->op.fd = -1;
    so->op.deadline = -1;
    if ((rc = parse_args(c, so, argc, argv)) != 0) {
        send_free(&so->op);
        return rc;
    }
    *out = &so->op;
    return EXIT_OK;
}
