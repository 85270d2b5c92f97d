/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * handler.c - what happens to a stanza that arrives while ready: a reply
 * to one of our requests goes to its callback; then the handlers, by
 * priority and age, until one claims it; an iq get or set nobody claimed
 * gets an answer from us (RFC 6120 §8.2.3: every request gets one).
 *
 * Handlers may be added and removed from inside handlers: a handler
 * removed during a walk is only marked, and freed when the walk is over;
 * one added during a walk has an id above every id the walk started
 * with, and is skipped.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "session_int.h"

struct handler {
    struct handler *next;
    unsigned id;
    int prio;
    char *name, *type, *ns; /* NULL: any */
    struct xmp_jid from;    /* from.domain NULL: any */
    xmp_handler_fn fn;
    void *ud;
    int removed;
};

static void handler_free(struct handler *h)
{
    free(h->name);
    free(h->type);
    free(h->ns);
    xmp_jid_clear(&h->from);
    free(h);
}

void handlers_free(struct xmp_session *s)
{
    struct handler *h, *next;

    for (h = s->hd.handlers; h; h = next) {
        next = h->next;
        handler_free(h);
    }
    s->hd.handlers = NULL;
}

static int dup_field(char **dst, const char *src)
{
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

enum xmp_err xmp_handler_add(struct xmp_session *s, const struct xmp_match *m,
                             int priority, xmp_handler_fn fn, void *ud,
                             unsigned *id)
{
    struct handler *h, **pp;
    struct xmp_error e;

    if (!fn)
        return session_refuse(s, XMP_EUSAGE, "handler without a function");
    if (!(h = calloc(1, sizeof *h)))
        return XMP_ENOMEM;
    if (m && (dup_field(&h->name, m->name) < 0 ||
              dup_field(&h->type, m->type) < 0 ||
              dup_field(&h->ns, m->ns) < 0)) {
        handler_free(h);
        return XMP_ENOMEM;
    }
    if (m && m->from && xmp_jid_parse(m->from, &h->from, &e) != XMP_OK) {
        handler_free(h);
        return e.code;
    }
    h->prio = priority;
    h->fn = fn;
    h->ud = ud;
    h->id = ++s->hd.handler_ids;
    /* After every handler of the same or a higher priority. */
    for (pp = &s->hd.handlers; *pp && (*pp)->prio >= priority;
         pp = &(*pp)->next)
        ;
    h->next = *pp;
    *pp = h;
    if (id)
        *id = h->id;
    return XMP_OK;
}

static void unlink_removed(struct xmp_session *s)
{
    struct handler **pp = &s->hd.handlers, *h;

    while ((h = *pp)) {
        if (h->removed) {
            *pp = h->next;
            handler_free(h);
        } else {
            pp = &h->next;
        }
    }
    s->hd.handlers_removed = 0;
}

enum xmp_err xmp_handler_remove(struct xmp_session *s, unsigned id)
{
    struct handler *h;

    for (h = s->hd.handlers; h; h = h->next) {
        if (h->id != id || h->removed)
            continue;
        h->removed = 1;
        if (s->hd.dispatching)
            s->hd.handlers_removed = 1;
        else
            unlink_removed(s);
        return XMP_OK;
    }
    return XMP_EUSAGE;
}

/* ---- matching ------------------------------------------------------- */

/* What a stanza is matched on, worked out once per stanza. */
struct facts {
    const char *name, *type, *ns;
    struct xmp_jid from;
    int from_ok; /* from parsed (or absent, so ours) */
};

static void facts_get(struct xmp_session *s, const struct xmp_node *st,
                      struct facts *f)
{
    const char *from = xmp_node_attr(st, "from");
    const struct xmp_node *child = xmp_node_first(st);

    memset(f, 0, sizeof *f);
    f->name = xmp_node_name(st);
    f->type = xmp_node_attr(st, "type");
    if (!f->type && strcmp(f->name, "message") == 0)
        f->type = "normal";
    else if (!f->type && strcmp(f->name, "presence") == 0)
        f->type = "available";
    f->ns = child ? xmp_node_ns(child) : NULL;
    /* RFC 6120 §8.1.2.1: no 'from' means from our account. */
    if (!from)
        f->from_ok = xmp_jid_parse(s->bare, &f->from, NULL) == XMP_OK;
    else
        f->from_ok = xmp_jid_parse(from, &f->from, NULL) == XMP_OK;
}

static int matches(const struct handler *h, const struct facts *f)
{
    if (h->name && strcmp(h->name, f->name) != 0)
        return 0;
    if (h->type && (!f->type || strcmp(h->type, f->type) != 0))
        return 0;
    if (h->ns && (!f->ns || strcmp(h->ns, f->ns) != 0))
        return 0;
    if (h->from.domain && (!f->from_ok || !xmp_jid_match(&h->from, &f->from)))
        return 0;
    return 1;
}

/* ---- answering what nobody claimed ---------------------------------- */

/* RFC 6120 §8.2.3: a result for a ping (XEP-0199 §4) and for a roster
 * push from our own account (ok), an error for the rest (§8.4:
 * service-unavailable, the answer that reveals nothing). */
static enum xmp_err answer_iq(struct xmp_session *s, const struct xmp_node *iq,
                              int ok)
{
    const char *id = xmp_node_attr(iq, "id"), *from = xmp_node_attr(iq, "from");
    struct xmp_node *r, *e;
    struct xmp_error err;
    enum xmp_err rc;
    char *x = NULL;

    /* RFC 6120 §4.4: nothing may follow our </stream:stream>. */
    if (!s->st.open)
        return XMP_OK;
    if (!(r = xmp_node_new(NS_CLIENT, "iq", &err)))
        return session_fail(s, XMP_ENOMEM, "out of memory");
    rc = xmp_node_set_attr(r, "id", id ? id : "", &err);
    if (!rc && from)
        rc = xmp_node_set_attr(r, "to", from, &err);
    if (!rc && (ok || xmp_node_child(iq, NS_PING, "ping"))) {
        rc = xmp_node_set_attr(r, "type", "result", &err);
    } else if (!rc) {
        rc = xmp_node_set_attr(r, "type", "error", &err);
        if (!rc && (!(e = xmp_node_add_child(r, NS_CLIENT, "error", &err)) ||
                    xmp_node_set_attr(e, "type", "cancel", &err) ||
                    !xmp_node_add_child(e, NS_STANZAS, "service-unavailable",
                                        &err)))
            rc = XMP_ENOMEM;
    }
    /* An answer is a stanza the server counts (XEP-0198 §4) like any. */
    if (!rc && !(x = xmp_node_to_string(r, NS_CLIENT)))
        rc = XMP_ENOMEM;
    if (rc)
        rc = session_fail(s, XMP_ENOMEM, "out of memory");
    else
        rc = session_send_counted(s, x, NULL);
    free(x);
    xmp_node_free(r);
    return rc;
}

/* From our own account: no 'from', or exactly our bare JID. */
static int own_account(const struct xmp_session *s, const struct xmp_node *st,
                       const struct facts *f)
{
    struct xmp_jid me;
    int own;

    if (!xmp_node_attr(st, "from"))
        return 1;
    if (!f->from_ok || f->from.resource ||
        xmp_jid_parse(s->bare, &me, NULL) != XMP_OK)
        return 0;
    own = xmp_jid_equal(&me, &f->from);
    xmp_jid_clear(&me);
    return own;
}

enum xmp_err session_dispatch(struct xmp_session *s, const struct xmp_node *st)
{
    struct handler *h;
    struct facts f;
    unsigned last_id = s->hd.handler_ids;
    int claimed = 0, push;

    if (iq_take_reply(s, st))
        return s->state == ST_FAILED ? s->err.code : XMP_OK;
    facts_get(s, st, &f);
    /* RFC 6121 §2.1.6: only our own account pushes roster changes.  One
     * from anyone else (the roster-push spoofing of many clients) goes
     * to no handler and is refused. */
    push = node_is(st, NS_CLIENT, "iq") && f.type &&
           strcmp(f.type, "set") == 0 && f.ns && strcmp(f.ns, NS_ROSTER) == 0;
    if (push && !own_account(s, st, &f)) {
        session_trace(s, XMP_TRACE_INFO,
                      "refused a roster push from %s: only the account's own "
                      "server may push (RFC 6121 §2.1.6)",
                      xmp_node_attr(st, "from"));
        xmp_jid_clear(&f.from);
        return answer_iq(s, st, 0);
    }
    s->hd.dispatching++;
    for (h = s->hd.handlers; h && !claimed && s->state != ST_FAILED;
         h = h->next) {
        if (h->removed || h->id > last_id || !matches(h, &f))
            continue;
        s->in_callback++;
        claimed = h->fn(s, st, h->ud) == XMP_HANDLED;
        s->in_callback--;
    }
    s->hd.dispatching--;
    xmp_jid_clear(&f.from);
    if (!s->hd.dispatching && s->hd.handlers_removed)
        unlink_removed(s);
    if (s->state == ST_FAILED)
        return s->err.code;
    /* A genuine push nobody answered is acknowledged (§2.1.6). */
    if (push && !claimed)
        return answer_iq(s, st, 1);
    if (!claimed && node_is(st, NS_CLIENT, "iq") && f.type &&
        (strcmp(f.type, "get") == 0 || strcmp(f.type, "set") == 0))
        return answer_iq(s, st, 0);
    return XMP_OK;
}
