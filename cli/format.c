/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * format.c - printing what arrives, in the three formats of --format:
 *
 *   text  one line per stanza for people; everything the server chose
 *         made safe for a terminal (cli_print_sanitized)
 *   json  one JSON object per line for programs (JSON Lines), valid for
 *         any input; the fields are listed in xmpctl(1)
 *   xml   the stanza itself on one line, as xmpctl raw reads it back;
 *         characters a terminal would act on as character references
 *
 * A stanza and a roster item are records of the printer (printer.c).
 * Every line is flushed at once, so pipelines react as it arrives.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "cli.h"

#define NS_CLIENT "jabber:client"
#define NS_DELAY "urn:xmpp:delay"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_PUBSUB_EVENT "http://jabber.org/protocol/pubsub#event"
/* A payload's summary on a text line: at most this many bytes. */
#define PUBSUB_SUMMARY_MAX 120

/* What a line says about a stanza; strings are owned. */
struct facts {
    const char *kind, *type, *from, *to, *id, *ns;
    char *body, *subject, *thread, *show, *status, *priority;
    const char *delay;
    const char *err_type;
    const char *err_cond;
    char *err_text;
};

static char *child_text(const struct xmp_node *n, const char *ns,
                        const char *name)
{
    const struct xmp_node *c = xmp_node_child(n, ns, name);

    return c ? xmp_node_text(c) : NULL;
}

static void facts_get(const struct xmp_node *st, struct facts *f)
{
    const struct xmp_node *c, *e, *first = xmp_node_first(st);

    memset(f, 0, sizeof *f);
    f->kind = xmp_node_name(st);
    f->type = xmp_node_attr(st, "type");
    /* RFC 6121 §5.2.2 and §4.7.1: the type a missing attribute means. */
    if (!f->type && strcmp(f->kind, "message") == 0)
        f->type = "normal";
    else if (!f->type && strcmp(f->kind, "presence") == 0)
        f->type = "available";
    f->from = xmp_node_attr(st, "from");
    f->to = xmp_node_attr(st, "to");
    f->id = xmp_node_attr(st, "id");
    if (strcmp(f->kind, "iq") == 0 && first)
        f->ns = xmp_node_ns(first);
    f->body = child_text(st, NS_CLIENT, "body");
    f->subject = child_text(st, NS_CLIENT, "subject");
    f->thread = child_text(st, NS_CLIENT, "thread");
    f->show = child_text(st, NS_CLIENT, "show");
    f->status = child_text(st, NS_CLIENT, "status");
    f->priority = child_text(st, NS_CLIENT, "priority");
    if ((c = xmp_node_child(st, NS_DELAY, "delay")))
        f->delay = xmp_node_attr(c, "stamp");
    if ((e = xmp_node_child(st, NULL, "error"))) {
        f->err_type = xmp_node_attr(e, "type");
        for (c = xmp_node_first(e); c; c = xmp_node_next(c)) {
            if (strcmp(xmp_node_name(c), "text") == 0 &&
                strcmp(xmp_node_ns(c), NS_STANZAS) == 0) {
                if (!f->err_text)
                    f->err_text = xmp_node_text(c);
            } else if (!f->err_cond && strcmp(xmp_node_ns(c),
                                              NS_STANZAS) == 0) {
                f->err_cond = xmp_node_name(c);
            }
        }
        if (!f->err_cond)
            f->err_cond = "undefined-condition";
    }
}

static void facts_free(struct facts *f)
{
    free(f->body);
    free(f->subject);
    free(f->thread);
    free(f->show);
    free(f->status);
    free(f->priority);
    free(f->err_text);
}

/* Print r in the chosen format, flushed: 0, or -1 (reported). */
static int print(const struct cli *c, const struct out_record *r)
{
    int rc = out_print(c->o.format, r);

    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write output: %s", strerror(errno));
        return -1;
    }
    return rc;
}

/* A line built in memory: open_memstream's. */
struct line {
    FILE *f;
    char *text;
    size_t len;
};

static int line_open(struct line *l)
{
    l->text = NULL;
    l->len = 0;
    if (!(l->f = open_memstream(&l->text, &l->len))) {
        cli_error("out of memory");
        return -1;
    }
    return 0;
}

/* The line, or NULL when it could not be built (reported). */
static const char *line_close(struct line *l)
{
    if (fclose(l->f) != 0 || !l->text) {
        cli_error("out of memory");
        return NULL;
    }
    return l->text;
}

/* ---- json ------------------------------------------------------------ */

static void utc_now(char *buf, size_t len)
{
    struct timeval tv;
    struct tm tm;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
}

/* The fields of a stanza's JSON line; now and err live until printed. */
static void stanza_fields(struct out_record *r, const struct xmp_node *st,
                          const struct facts *f, const char *now,
                          struct out_record *err, const char *xml)
{
    out_str(r, "kind", f->kind);
    out_str(r, "time", now);
    out_str(r, "type", f->type);
    out_str(r, "from", f->from);
    out_str(r, "to", f->to);
    out_str(r, "id", f->id);
    out_str(r, "ns", f->ns);
    out_str(r, "body", f->body);
    out_str(r, "subject", f->subject);
    out_str(r, "thread", f->thread);
    out_str(r, "show", f->show);
    out_str(r, "status", f->status);
    out_str(r, "priority", f->priority);
    out_str(r, "delay", f->delay);
    if (xmp_node_child(st, NULL, "error")) {
        out_begin(err);
        out_str(err, "condition", f->err_cond);
        out_str(err, "type", f->err_type);
        out_str(err, "text", f->err_text);
        out_object(r, "error", err);
    }
    out_str(r, "xml", xml);
}

/* ---- text ------------------------------------------------------------ */

/* The text line of a stanza, to o; the printer makes it safe for a
 * terminal. */
static void stanza_text(FILE *o, const struct facts *f, const char *xml)
{
    char stamp[32];
    time_t t = time(NULL);
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    fputs(stamp, o);
    putc(' ', o);
    fputs(f->from ? f->from : "(server)", o);
    if (f->delay)
        fprintf(o, " (sent %s)", f->delay);
    if (strcmp(f->kind, "message") == 0 && f->err_cond) {
        fprintf(o, ": error %s", f->err_cond);
        if (f->err_text)
            fprintf(o, " (%s)", f->err_text);
    } else if (strcmp(f->kind, "message") == 0 && (f->body || f->subject)) {
        fputs(": ", o);
        if (f->subject)
            fprintf(o, "[%s%s", f->subject, f->body ? "] " : "]");
        if (f->body)
            fputs(f->body, o);
    } else if (strcmp(f->kind, "presence") == 0) {
        fputs(" presence ", o);
        fputs(f->show && strcmp(f->type, "available") == 0 ? f->show
                                                           : f->type, o);
        if (f->status)
            fprintf(o, " \"%s\"", f->status);
        if (f->priority)
            fprintf(o, " (priority %s)", f->priority);
        if (f->err_cond)
            fprintf(o, " error %s", f->err_cond);
    } else {
        fprintf(o, " %s", f->kind);
        if (f->type)
            fprintf(o, " %s", f->type);
        fprintf(o, ": %s", xml);
    }
}

static int out_pubsub_event(const struct cli *c, const struct xmp_node *st);

int out_stanza(const struct cli *c, const struct xmp_node *st)
{
    struct out_record r, err;
    struct facts f;
    struct line l;
    char now[96]; /* as long as the compiler fears ints can print */
    char *xml = xmp_node_to_line(st, NS_CLIENT);
    int rc = -1;

    if (cli_is_pubsub_event(st)) {
        free(xml);
        return out_pubsub_event(c, st);
    }
    cli_before_output();
    if (!xml) {
        cli_error("out of memory");
        return -1;
    }
    facts_get(st, &f);
    if (line_open(&l) < 0)
        goto out;
    stanza_text(l.f, &f, xml);
    out_begin(&r);
    if (!(r.text = line_close(&l)))
        goto out;
    utc_now(now, sizeof now);
    stanza_fields(&r, st, &f, now, &err, xml);
    r.xml = xml;
    rc = print(c, &r);
out:
    free(l.text);
    facts_free(&f);
    free(xml);
    return rc;
}

/* ---- PubSub events (XEP-0060 §4.3, §7.1.2.1, §7.2.2.1, §8.4, §8.5) --- */

int cli_is_pubsub_event(const struct xmp_node *st)
{
    return strcmp(xmp_node_name(st), "message") == 0 &&
           xmp_node_child(st, NS_PUBSUB_EVENT, "event") != NULL;
}

/* One event of a notification: a published item, a retraction, a node
 * deleted, purged or configured, a subscription's state. */
static int pubsub_record(const struct cli *c, const struct xmp_node *st,
                         const char *node, const char *event,
                         const struct xmp_node *el, const char *now)
{
    const char *from = xmp_node_attr(st, "from"), *id = NULL,
               *delay = NULL;
    const struct xmp_node *pl = NULL, *d;
    char *payload = NULL, *xml = NULL;
    struct out_record r;
    struct line l = { NULL, NULL, 0 };
    char stamp[32];
    time_t t = time(NULL);
    struct tm tm;
    size_t cut;
    int rc = -1;

    if ((d = xmp_node_child(st, NS_DELAY, "delay")))
        delay = xmp_node_attr(d, "stamp");
    if (strcmp(event, "publish") == 0 || strcmp(event, "retract") == 0) {
        id = xmp_node_attr(el, "id");
        pl = strcmp(event, "publish") == 0 ? xmp_node_first(el) : NULL;
    }
    if ((pl && !(payload = xmp_node_to_line(pl, NS_PUBSUB_EVENT))) ||
        !(xml = xmp_node_to_line(st, NS_CLIENT))) {
        cli_error("out of memory");
        goto out;
    }
    if (line_open(&l) < 0)
        goto out;
    localtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(l.f, "%s pubsub %s@%s", stamp, node ? node : "",
            from ? from : "(server)");
    if (delay)
        fprintf(l.f, " (sent %s)", delay);
    if (strcmp(event, "publish") == 0 || strcmp(event, "retract") == 0)
        fprintf(l.f, ": item %s %s", id ? id : "(no id)",
                event[0] == 'p' ? "published" : "retracted");
    else if (strcmp(event, "subscription") == 0)
        fprintf(l.f, ": subscription %s %s",
                xmp_node_attr(el, "jid") ? xmp_node_attr(el, "jid") : "",
                xmp_node_attr(el, "subscription")
                    ? xmp_node_attr(el, "subscription") : "");
    else
        fprintf(l.f, ": node %s", strcmp(event, "delete") == 0 ? "deleted"
                                  : strcmp(event, "purge") == 0 ? "purged"
                                  : strcmp(event, "configuration") == 0
                                      ? "configured"
                                      : "event of another kind");
    if (payload) {
        /* a summary: the start of the payload, cut between characters */
        cut = strlen(payload);
        if (cut > PUBSUB_SUMMARY_MAX) {
            cut = PUBSUB_SUMMARY_MAX;
            while (cut > 0 && ((unsigned char)payload[cut] & 0xc0) == 0x80)
                cut--;
        }
        fprintf(l.f, ": %.*s%s", (int)cut, payload,
                cut < strlen(payload) ? "..." : "");
    }
    out_begin(&r);
    if (!(r.text = line_close(&l)))
        goto out;
    out_str(&r, "kind", "pubsub");
    out_str(&r, "time", now);
    out_str(&r, "from", from);
    out_str(&r, "to", xmp_node_attr(st, "to"));
    out_str(&r, "node", node);
    out_str(&r, "event", event);
    out_str(&r, "id", id);
    if (strcmp(event, "publish") == 0)
        out_str(&r, "publisher", xmp_node_attr(el, "publisher"));
    if (strcmp(event, "subscription") == 0) {
        out_str(&r, "jid", xmp_node_attr(el, "jid"));
        out_str(&r, "subscription", xmp_node_attr(el, "subscription"));
    }
    out_str(&r, "payload", payload);
    out_str(&r, "delay", delay);
    out_str(&r, "xml", xml);
    r.xml = xml;
    rc = print(c, &r);
out:
    free(l.text);
    free(payload);
    free(xml);
    return rc;
}

/* Each event of the notification a line of its own (xml: the stanza,
 * once). */
static int out_pubsub_event(const struct cli *c, const struct xmp_node *st)
{
    const struct xmp_node *ev = xmp_node_child(st, NS_PUBSUB_EVENT, "event"),
                          *e, *it;
    char now[96];
    int any = 0;

    cli_before_output();
    utc_now(now, sizeof now);
    for (e = xmp_node_first(ev); e; e = xmp_node_next(e)) {
        const char *name = xmp_node_name(e),
                   *node = xmp_node_attr(e, "node");

        if (strcmp(xmp_node_ns(e), NS_PUBSUB_EVENT) != 0)
            continue;
        if (strcmp(name, "items") == 0) {
            for (it = xmp_node_first(e); it; it = xmp_node_next(it)) {
                const char *iname = xmp_node_name(it);

                if (strcmp(iname, "item") != 0 &&
                    strcmp(iname, "retract") != 0)
                    continue;
                if (pubsub_record(c, st, node,
                                  iname[0] == 'i' ? "publish" : "retract",
                                  it, now) < 0)
                    return -1;
                any = 1;
                if (c->o.format == FORMAT_XML)
                    return 0;
            }
            continue;
        }
        if (strcmp(name, "delete") != 0 && strcmp(name, "purge") != 0 &&
            strcmp(name, "configuration") != 0 &&
            strcmp(name, "subscription") != 0)
            continue;
        if (pubsub_record(c, st, node, name, e, now) < 0)
            return -1;
        any = 1;
        if (c->o.format == FORMAT_XML)
            return 0;
    }
    /* nothing we know of inside: the stanza as any other */
    return any ? 0 : pubsub_record(c, st, NULL, "other", ev, now);
}

/* ---- roster items ------------------------------------------------------ */

/* The subscription states of RFC 6121 §2.1.2.5 ("remove" only in a
 * push, but harmless to show). */
static const char *const roster_subscriptions[] = { "none", "to", "from",
                                                    "both", "remove", NULL };

int out_roster_item(const struct cli *c, const struct xmp_node *item)
{
    const char *jid = xmp_node_attr(item, "jid"),
               *name = xmp_node_attr(item, "name"),
               *sub = xmp_node_attr(item, "subscription"),
               *ask = xmp_node_attr(item, "ask");
    const struct xmp_node *g;
    struct out_record r;
    struct line l = { NULL, NULL, 0 };
    char **groups = NULL, **more, *t, *xml = NULL;
    size_t n = 0, k;
    int rc = -1, i;

    /* RFC 6121 §2.1.2.5: no subscription attribute means none; a value
     * it does not define is shown as "unknown", never as sent */
    if (!sub)
        sub = "none";
    for (i = 0; roster_subscriptions[i]; i++)
        if (strcmp(sub, roster_subscriptions[i]) == 0)
            break;
    if (!roster_subscriptions[i]) {
        cli_warn("roster item %s: subscription '%s' is not one of RFC "
                 "6121: shown as unknown",
                 jid ? jid : "", sub);
        sub = "unknown";
    }
    /* §2.1.2.2: ask is "subscribe" or absent */
    if (ask && strcmp(ask, "subscribe") != 0) {
        cli_warn("roster item %s: ask '%s' is not 'subscribe': ignored",
                 jid ? jid : "", ask);
        ask = NULL;
    }
    cli_before_output();
    for (g = xmp_node_first(item); g; g = xmp_node_next(g)) {
        if (strcmp(xmp_node_name(g), "group") != 0 ||
            !(t = xmp_node_text(g)))
            continue;
        if (!(more = realloc(groups, (n + 1) * sizeof *groups))) {
            free(t);
            cli_error("out of memory");
            goto out;
        }
        groups = more;
        groups[n++] = t;
    }
    if (!(xml = xmp_node_to_line(item, "jabber:client"))) {
        cli_error("out of memory");
        goto out;
    }
    if (line_open(&l) < 0)
        goto out;
    fprintf(l.f, "%s  %s%s", jid ? jid : "", sub, ask ? " (asked)" : "");
    if (name)
        fprintf(l.f, "  name \"%s\"", name);
    for (k = 0; k < n; k++)
        fprintf(l.f, "%s%s", k ? ", " : "  groups ", groups[k]);
    out_begin(&r);
    if (!(r.text = line_close(&l)))
        goto out;
    out_str(&r, "kind", "roster-item");
    out_str(&r, "jid", jid ? jid : "");
    out_str(&r, "name", name);
    out_str(&r, "subscription", sub);
    out_str(&r, "ask", ask);
    out_list(&r, "groups", (const char *const *)groups, n);
    r.xml = xml;
    rc = print(c, &r);
out:
    free(l.text);
    free(xml);
    for (k = 0; k < n; k++)
        free(groups[k]);
    free(groups);
    return rc;
}

/* ---- end-to-end encrypted messages ---------------------------------------- */

int out_stanza_e2e(const struct cli *c, const struct xmp_node *st,
                   const struct out_e2e *e)
{
    struct out_record r, err;
    struct facts f;
    struct line l = { NULL, NULL, 0 };
    char now[96], mark[160], fpr[16];
    char *xml = xmp_node_to_line(st, NS_CLIENT);
    const char *plain;
    size_t n;
    int rc = -1;

    cli_before_output();
    if (!xml) {
        cli_error("out of memory");
        return -1;
    }
    facts_get(st, &f);
    /* the fallback body is no message: what shows is what was decrypted,
     * or that it could not be */
    free(f.body);
    f.body = NULL;
    /* the fingerprint's first group, as others print it */
    snprintf(fpr, sizeof fpr, "%.8s", e->fingerprint ? e->fingerprint : "");
    if (e->refused)
        snprintf(mark, sizeof mark, "[%s message refused: %s]",
                 e->encryption, e->refused);
    else
        snprintf(mark, sizeof mark, "[%s %" PRIu32 " %s\u2026 %s] ",
                 e->encryption, e->device, fpr, e->trust);
    plain = e->refused ? NULL : e->text;
    n = strlen(mark) + (plain ? strlen(plain) : 0) + 1;
    if (!(f.body = malloc(n)))
        goto out;
    snprintf(f.body, n, "%s%s", mark, plain ? plain : "");
    if (line_open(&l) < 0)
        goto out;
    stanza_text(l.f, &f, xml);
    out_begin(&r);
    if (!(r.text = line_close(&l)))
        goto out;
    free(f.body);
    f.body = plain ? strdup(plain) : NULL;
    if (plain && !f.body)
        goto out;
    utc_now(now, sizeof now);
    stanza_fields(&r, st, &f, now, &err, NULL);
    out_str(&r, "encryption", e->encryption);
    if (e->device) /* 0: not even the header could be read */
        out_int(&r, "device", e->device);
    out_str(&r, "fingerprint", e->fingerprint);
    out_str(&r, "trust", e->trust);
    out_str(&r, "refused", e->refused);
    out_str(&r, "xml", xml);
    r.xml = xml;
    rc = print(c, &r);
out:
    free(l.text);
    facts_free(&f);
    free(xml);
    return rc;
}
