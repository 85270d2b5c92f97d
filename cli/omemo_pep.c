/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * omemo_pep.c - OMEMO devices through PEP (XEP-0163, XEP-0384): our
 * device list and bundle published, contacts' fetched.
 *
 *   eu.siacs.conversations.axolotl.devicelist      item current: <list/>
 *   eu.siacs.conversations.axolotl.bundles:DEVICE  item current: <bundle/>
 *   urn:xmpp:omemo:2:devices                       item current: <devices/>
 *   urn:xmpp:omemo:2:bundles                       item DEVICE:  <bundle/>
 *
 * Everything is published with the publish-option pubsub#access_model
 * open (servers default to presence, and a contact without a presence
 * subscription could not write to us), and the omemo:2 bundles node,
 * which holds one item per device, with pubsub#max_items max.  The
 * options are preconditions: on a node made otherwise (by another
 * client) the server refuses the item with precondition-not-met; the
 * node is then configured (pubsub#owner) and the item published again,
 * once.  A device list that is not there (item-not-found), or that we
 * may not see (forbidden), is none; any other answer is a failure the
 * caller hears of.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define NS_PUBSUB "http://jabber.org/protocol/pubsub"
#define NS_PUBSUB_OWNER "http://jabber.org/protocol/pubsub#owner"
#define NS_PUBSUB_ERRORS "http://jabber.org/protocol/pubsub#errors"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_DATA "jabber:x:data"

#define AX_LIST "eu.siacs.conversations.axolotl.devicelist"
#define AX_BUNDLES "eu.siacs.conversations.axolotl.bundles:"
#define V2_LIST "urn:xmpp:omemo:2:devices"
#define V2_BUNDLES "urn:xmpp:omemo:2:bundles"

enum req_kind {
    REQ_LIST,       /* a device list */
    REQ_BUNDLE,     /* a bundle */
    REQ_OWN_LIST,   /* our own device list, before publishing */
    REQ_PUB_BUNDLE, /* publishing our bundle */
    REQ_PUB_LIST,   /* publishing our device list */
    REQ_CONFIGURE   /* opening a node, then kind again */
};

struct pep_req {
    struct cli_pep *p;
    struct pep_req *next;
    unsigned handle;
    enum req_kind kind, then; /* then: REQ_CONFIGURE's publish */
    enum xmp_omemo_ns ns;
    char *jid;
    uint32_t device;
    int retried;
    int bundle_only; /* a bundle published again: the list stands */
};

struct pep_bundle {
    char *jid;
    enum xmp_omemo_ns ns;
    uint32_t device;
    struct xmp_node *bundle;
};

struct cli_pep {
    struct xmp_session *s;
    struct cli_omemo *o;
    void (*done)(void *ud);
    void *ud;
    struct pep_req *reqs;
    size_t pending;
    struct cli_pep_devs *devs;
    size_t ndevs;
    struct pep_bundle *bundles;
    size_t nbundles;
    /* our merged device list, by namespace, while publishing */
    uint32_t *own[3];
    size_t nown[3];
    char *error;
};

static const char *list_node(enum xmp_omemo_ns ns)
{
    return ns == XMP_OMEMO_V2 ? V2_LIST : AX_LIST;
}

static void bundle_node(enum xmp_omemo_ns ns, uint32_t device, char *node,
                        size_t len)
{
    if (ns == XMP_OMEMO_V2)
        snprintf(node, len, "%s", V2_BUNDLES);
    else
        snprintf(node, len, "%s%" PRIu32, AX_BUNDLES, device);
}

static void fail(struct cli_pep *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(struct cli_pep *p, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (p->error)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    p->error = strdup(buf);
    if (!p->error)
        p->error = strdup("out of memory");
}

struct cli_pep *cli_pep_new(struct xmp_session *s, struct cli_omemo *o,
                            void (*done)(void *ud), void *ud)
{
    struct cli_pep *p = calloc(1, sizeof *p);

    if (p) {
        p->s = s;
        p->o = o;
        p->done = done;
        p->ud = ud;
    }
    return p;
}

static void req_free(struct pep_req *r)
{
    free(r->jid);
    free(r);
}

void cli_pep_free(struct cli_pep *p)
{
    struct pep_req *r, *next;
    size_t i;

    if (!p)
        return;
    for (r = p->reqs; r; r = next) {
        next = r->next;
        xmp_iq_cancel(p->s, r->handle);
        req_free(r);
    }
    for (i = 0; i < p->ndevs; i++) {
        free(p->devs[i].jid);
        free(p->devs[i].ids[XMP_OMEMO_AXOLOTL]);
        free(p->devs[i].ids[XMP_OMEMO_V2]);
    }
    free(p->devs);
    for (i = 0; i < p->nbundles; i++) {
        free(p->bundles[i].jid);
        xmp_node_free(p->bundles[i].bundle);
    }
    free(p->bundles);
    free(p->own[XMP_OMEMO_AXOLOTL]);
    free(p->own[XMP_OMEMO_V2]);
    free(p->error);
    free(p);
}

size_t cli_pep_pending(const struct cli_pep *p)
{
    return p->pending;
}

const char *cli_pep_error(const struct cli_pep *p)
{
    return p->error;
}

const struct cli_pep_devs *cli_pep_devices(const struct cli_pep *p,
                                           const char *jid)
{
    size_t i;

    for (i = 0; i < p->ndevs; i++)
        if (strcmp(p->devs[i].jid, jid) == 0)
            return &p->devs[i];
    return NULL;
}

const struct xmp_node *cli_pep_bundle(const struct cli_pep *p,
                                      const char *jid, enum xmp_omemo_ns ns,
                                      uint32_t device)
{
    size_t i;

    for (i = 0; i < p->nbundles; i++)
        if (p->bundles[i].ns == ns && p->bundles[i].device == device &&
            strcmp(p->bundles[i].jid, jid) == 0)
            return p->bundles[i].bundle;
    return NULL;
}

/* ---- requests ------------------------------------------------------------ */

static void on_reply(struct xmp_session *s, const struct xmp_node *reply,
                     const struct xmp_error *e, void *ud);

/* Send iq (freed here) for r (taken: freed here on failure). */
static int send_req(struct cli_pep *p, struct pep_req *r, struct xmp_node *iq)
{
    enum xmp_err rc;

    if (!iq) {
        req_free(r);
        return -1;
    }
    r->p = p;
    rc = xmp_session_send_iq(p->s, iq, 0, on_reply, r, &r->handle);
    xmp_node_free(iq);
    if (rc != XMP_OK) {
        req_free(r);
        return -1;
    }
    r->next = p->reqs;
    p->reqs = r;
    p->pending++;
    return 0;
}

static struct pep_req *req_new(enum req_kind kind, enum xmp_omemo_ns ns,
                               const char *jid, uint32_t device)
{
    struct pep_req *r = calloc(1, sizeof *r);

    if (r && jid && !(r->jid = strdup(jid))) {
        free(r);
        return NULL;
    }
    if (r) {
        r->kind = kind;
        r->ns = ns;
        r->device = device;
    }
    return r;
}

/* <iq type=get to=jid><pubsub><items node=node>[<item id=item/>] */
static struct xmp_node *items_get(const char *jid, const char *node,
                                  const char *item)
{
    struct xmp_node *iq = xmp_node_new("jabber:client", "iq", NULL), *x;

    if (!iq || xmp_node_set_attr(iq, "type", "get", NULL) != XMP_OK ||
        xmp_node_set_attr(iq, "to", jid, NULL) != XMP_OK ||
        !(x = xmp_node_add_child(iq, NS_PUBSUB, "pubsub", NULL)) ||
        !(x = xmp_node_add_child(x, NS_PUBSUB, "items", NULL)) ||
        xmp_node_set_attr(x, "node", node, NULL) != XMP_OK ||
        (item && (!(x = xmp_node_add_child(x, NS_PUBSUB, "item", NULL)) ||
                  xmp_node_set_attr(x, "id", item, NULL) != XMP_OK))) {
        xmp_node_free(iq);
        return NULL;
    }
    return iq;
}

/* A data form field var=value under x. */
static int field(struct xmp_node *x, const char *var, const char *type,
                 const char *value)
{
    struct xmp_node *f = xmp_node_add_child(x, NS_DATA, "field", NULL), *v;

    return f && xmp_node_set_attr(f, "var", var, NULL) == XMP_OK &&
           (!type || xmp_node_set_attr(f, "type", type, NULL) == XMP_OK) &&
           (v = xmp_node_add_child(f, NS_DATA, "value", NULL)) &&
           xmp_node_add_text(v, value, strlen(value), NULL) == XMP_OK;
}

/* The form of our nodes' settings (publish-options or node_config). */
static int settings_form(struct xmp_node *parent, const char *form_type,
                         int max_items)
{
    struct xmp_node *x = xmp_node_add_child(parent, NS_DATA, "x", NULL);

    return x && xmp_node_set_attr(x, "type", "submit", NULL) == XMP_OK &&
           field(x, "FORM_TYPE", "hidden", form_type) &&
           field(x, "pubsub#access_model", NULL, "open") &&
           (!max_items || field(x, "pubsub#max_items", NULL, "max"));
}

/* The publish of our bundle or device list in r->ns. */
static struct xmp_node *publish_iq(struct cli_pep *p, struct pep_req *r)
{
    struct xmp_node *iq, *ps, *pub, *item, *payload = NULL, *po;
    struct xmp_error err;
    uint32_t dev = xmp_omemo_device_id(p->o->om);
    char node[128], id[16];
    int bundle = r->kind == REQ_PUB_BUNDLE;

    if (bundle) {
        bundle_node(r->ns, dev, node, sizeof node);
        snprintf(id, sizeof id, "%" PRIu32, dev);
        payload = xmp_omemo_bundle_xml(p->o->om, r->ns, &err);
    } else {
        snprintf(node, sizeof node, "%s", list_node(r->ns));
        payload = xmp_omemo_devicelist_xml(r->ns, p->own[r->ns],
                                           p->nown[r->ns], &err);
    }
    if (!payload)
        return NULL;
    if (!(iq = xmp_node_new("jabber:client", "iq", NULL)) ||
        xmp_node_set_attr(iq, "type", "set", NULL) != XMP_OK ||
        !(ps = xmp_node_add_child(iq, NS_PUBSUB, "pubsub", NULL)) ||
        !(pub = xmp_node_add_child(ps, NS_PUBSUB, "publish", NULL)) ||
        xmp_node_set_attr(pub, "node", node, NULL) != XMP_OK ||
        !(item = xmp_node_add_child(pub, NS_PUBSUB, "item", NULL)) ||
        xmp_node_set_attr(item, "id",
                          bundle && r->ns == XMP_OMEMO_V2 ? id : "current",
                          NULL) != XMP_OK ||
        xmp_node_append(item, payload) != XMP_OK) {
        xmp_node_free(payload);
        xmp_node_free(iq);
        return NULL;
    }
    if (!(po = xmp_node_add_child(ps, NS_PUBSUB, "publish-options", NULL)) ||
        !settings_form(po,
                       "http://jabber.org/protocol/pubsub#publish-options",
                       bundle && r->ns == XMP_OMEMO_V2)) {
        xmp_node_free(iq);
        return NULL;
    }
    return iq;
}

/* Configure the node r's publish went to (open, and as the publish-options
 * say). */
static struct xmp_node *configure_iq(struct cli_pep *p, struct pep_req *r)
{
    struct xmp_node *iq, *x;
    char node[128];
    int bundle = r->then == REQ_PUB_BUNDLE;

    if (bundle)
        bundle_node(r->ns, xmp_omemo_device_id(p->o->om), node, sizeof node);
    else
        snprintf(node, sizeof node, "%s", list_node(r->ns));
    if (!(iq = xmp_node_new("jabber:client", "iq", NULL)) ||
        xmp_node_set_attr(iq, "type", "set", NULL) != XMP_OK ||
        !(x = xmp_node_add_child(iq, NS_PUBSUB_OWNER, "pubsub", NULL)) ||
        !(x = xmp_node_add_child(x, NS_PUBSUB_OWNER, "configure", NULL)) ||
        xmp_node_set_attr(x, "node", node, NULL) != XMP_OK ||
        !settings_form(x, "http://jabber.org/protocol/pubsub#node_config",
                       bundle && r->ns == XMP_OMEMO_V2)) {
        xmp_node_free(iq);
        return NULL;
    }
    return iq;
}

int cli_pep_fetch_lists(struct cli_pep *p, const char *jid)
{
    struct cli_pep_devs *d;
    enum xmp_omemo_ns ns;

    if (cli_pep_devices(p, jid))
        return 0;
    if (!(d = realloc(p->devs, (p->ndevs + 1) * sizeof *d)))
        return -1;
    p->devs = d;
    d = &p->devs[p->ndevs];
    memset(d, 0, sizeof *d);
    if (!(d->jid = strdup(jid)))
        return -1;
    p->ndevs++;
    for (ns = XMP_OMEMO_AXOLOTL; ns <= XMP_OMEMO_V2; ns++) {
        struct pep_req *r = req_new(REQ_LIST, ns, jid, 0);

        if (!r || send_req(p, r, items_get(jid, list_node(ns), NULL)) < 0)
            return -1;
    }
    return 0;
}

int cli_pep_fetch_bundle(struct cli_pep *p, const char *jid,
                         enum xmp_omemo_ns ns, uint32_t device)
{
    struct pep_req *r = req_new(REQ_BUNDLE, ns, jid, device);
    char node[128], id[16];

    if (!r)
        return -1;
    bundle_node(ns, device, node, sizeof node);
    snprintf(id, sizeof id, "%" PRIu32, device);
    return send_req(p, r, items_get(jid, node,
                                    ns == XMP_OMEMO_V2 ? id : NULL));
}

int cli_pep_publish_bundle(struct cli_pep *p, enum xmp_omemo_ns ns)
{
    struct pep_req *r = req_new(REQ_PUB_BUNDLE, ns, NULL, 0);

    if (!r)
        return -1;
    r->bundle_only = 1;
    return send_req(p, r, publish_iq(p, r));
}

int cli_pep_publish(struct cli_pep *p, enum xmp_omemo_ns ns)
{
    struct pep_req *r = req_new(REQ_OWN_LIST, ns, p->o->jid, 0);

    if (!r)
        return -1;
    return send_req(p, r, items_get(p->o->jid, list_node(ns), NULL));
}

/* ---- answers ------------------------------------------------------------- */

static int is_result(const struct xmp_node *reply)
{
    const char *t = reply ? xmp_node_attr(reply, "type") : NULL;

    return t && strcmp(t, "result") == 0;
}

/* Does the error of reply hold the condition ns:name? */
static int error_is(const struct xmp_node *reply, const char *ns,
                    const char *name)
{
    const struct xmp_node *e = xmp_node_child(reply, "jabber:client", "error");

    return e && xmp_node_child(e, ns, name) != NULL;
}

/* The payload of the first item of a pubsub result, or NULL. */
static const struct xmp_node *first_payload(const struct xmp_node *reply)
{
    const struct xmp_node *x = xmp_node_child(reply, NS_PUBSUB, "pubsub");

    x = x ? xmp_node_child(x, NS_PUBSUB, "items") : NULL;
    x = x ? xmp_node_child(x, NS_PUBSUB, "item") : NULL;
    return x ? xmp_node_first(x) : NULL;
}

static void why(const struct xmp_node *reply, const struct xmp_error *e,
                char *buf, size_t len)
{
    if (reply)
        xmp_error_describe(reply, buf, len);
    else
        snprintf(buf, len, "%s", e && e->msg[0] ? e->msg : "no answer");
}

static const char *ns_name(enum xmp_omemo_ns ns)
{
    return ns == XMP_OMEMO_V2 ? XMP_OMEMO_NS_V2 : XMP_OMEMO_NS_AXOLOTL;
}

static void got_list(struct cli_pep *p, struct pep_req *r,
                     const struct xmp_node *reply, const struct xmp_error *e)
{
    struct cli_pep_devs *d = (struct cli_pep_devs *)cli_pep_devices(p, r->jid);
    const struct xmp_node *list;
    enum xmp_omemo_ns got;
    struct xmp_error err;
    char buf[512];

    if (!d)
        return;
    if (!is_result(reply)) {
        /* no devices in ns; Prosody answers forbidden for a node that
         * is not there as for one only contacts may see: either way
         * there is no list we could use */
        if (reply && (error_is(reply, NS_STANZAS, "item-not-found") ||
                      error_is(reply, NS_STANZAS, "forbidden")))
            return;
        why(reply, e, buf, sizeof buf);
        fail(p, "cannot fetch the %s device list of %s: %s", ns_name(r->ns),
             r->jid, buf);
        return;
    }
    if (!(list = first_payload(reply)))
        return; /* an empty node */
    if (xmp_omemo_parse_devicelist(list, &got, &d->ids[r->ns], &d->n[r->ns],
                                   &err) != XMP_OK ||
        got != r->ns) {
        free(d->ids[r->ns]);
        d->ids[r->ns] = NULL;
        d->n[r->ns] = 0;
        fail(p, "the %s device list of %s is not valid", ns_name(r->ns),
             r->jid);
        return;
    }
    d->listed[r->ns] = 1;
}

/* A copy of n. */
static struct xmp_node *node_copy(const struct xmp_node *n)
{
    char *s = xmp_node_to_string(n, "jabber:client");
    struct xmp_node *c = s ? xmp_node_parse(s, strlen(s), NULL) : NULL;

    free(s);
    return c;
}

static void got_bundle(struct cli_pep *p, struct pep_req *r,
                       const struct xmp_node *reply, const struct xmp_error *e)
{
    const struct xmp_node *b;
    struct pep_bundle *v;
    char buf[512];

    if (!is_result(reply)) {
        why(reply, e, buf, sizeof buf);
        fail(p, "cannot fetch the %s bundle of %s device %" PRIu32 ": %s",
             ns_name(r->ns), r->jid, r->device, buf);
        return;
    }
    if (!(b = first_payload(reply)) ||
        strcmp(xmp_node_name(b), "bundle") != 0 ||
        xmp_omemo_ns_of(xmp_node_ns(b)) != r->ns) {
        fail(p, "no %s bundle for %s device %" PRIu32, ns_name(r->ns), r->jid,
             r->device);
        return;
    }
    if (!(v = realloc(p->bundles, (p->nbundles + 1) * sizeof *v))) {
        fail(p, "out of memory");
        return;
    }
    p->bundles = v;
    v = &p->bundles[p->nbundles];
    v->ns = r->ns;
    v->device = r->device;
    v->jid = strdup(r->jid);
    v->bundle = node_copy(b);
    if (!v->jid || !v->bundle) {
        free(v->jid);
        xmp_node_free(v->bundle);
        fail(p, "out of memory");
        return;
    }
    p->nbundles++;
}

/* Our device list is known: our device in it, then publish the bundle. */
static void got_own_list(struct cli_pep *p, struct pep_req *r,
                         const struct xmp_node *reply,
                         const struct xmp_error *e)
{
    const struct xmp_node *list;
    uint32_t dev = xmp_omemo_device_id(p->o->om), *ids = NULL, *v;
    enum xmp_omemo_ns got;
    size_t n = 0, i;
    struct pep_req *next;
    char buf[512];

    if (!is_result(reply) &&
        !(reply && error_is(reply, NS_STANZAS, "item-not-found"))) {
        why(reply, e, buf, sizeof buf);
        fail(p, "cannot fetch our own %s device list: %s", ns_name(r->ns), buf);
        return;
    }
    if (is_result(reply) && (list = first_payload(reply)) &&
        (xmp_omemo_parse_devicelist(list, &got, &ids, &n, NULL) != XMP_OK ||
         got != r->ns)) {
        free(ids);
        ids = NULL;
        n = 0;
    }
    for (i = 0; i < n && ids[i] != dev; i++)
        ;
    if (i == n) {
        if (!(v = realloc(ids, (n + 1) * sizeof *v))) {
            free(ids);
            fail(p, "out of memory");
            return;
        }
        ids = v;
        ids[n++] = dev;
    }
    free(p->own[r->ns]);
    p->own[r->ns] = ids;
    p->nown[r->ns] = n;
    if (!(next = req_new(REQ_PUB_BUNDLE, r->ns, NULL, 0)) ||
        send_req(p, next, publish_iq(p, next)) < 0)
        fail(p, "cannot publish our %s bundle", ns_name(r->ns));
}

/* A publish was answered: on precondition-not-met the node is configured
 * and the item published again; the bundle is followed by the list. */
static void got_publish(struct cli_pep *p, struct pep_req *r,
                        const struct xmp_node *reply,
                        const struct xmp_error *e)
{
    int bundle = r->kind == REQ_PUB_BUNDLE;
    const char *what = bundle ? "bundle" : "device list";
    struct pep_req *next;
    char buf[512];

    if (!is_result(reply)) {
        if (reply && !r->retried &&
            error_is(reply, NS_PUBSUB_ERRORS, "precondition-not-met")) {
            if (!(next = req_new(REQ_CONFIGURE, r->ns, NULL, 0))) {
                fail(p, "out of memory");
                return;
            }
            next->then = r->kind;
            next->bundle_only = r->bundle_only;
            if (send_req(p, next, configure_iq(p, next)) < 0)
                fail(p, "cannot configure our %s %s node", ns_name(r->ns),
                     what);
            return;
        }
        why(reply, e, buf, sizeof buf);
        fail(p, "cannot publish our %s %s: %s", ns_name(r->ns), what, buf);
        return;
    }
    if (bundle && !r->bundle_only &&
        (!(next = req_new(REQ_PUB_LIST, r->ns, NULL, 0)) ||
                   send_req(p, next, publish_iq(p, next)) < 0))
        fail(p, "cannot publish our %s device list", ns_name(r->ns));
}

static void got_configure(struct cli_pep *p, struct pep_req *r,
                          const struct xmp_node *reply,
                          const struct xmp_error *e)
{
    struct pep_req *next;
    char buf[512];

    if (!is_result(reply)) {
        why(reply, e, buf, sizeof buf);
        fail(p, "cannot open our %s %s node to others: %s", ns_name(r->ns),
             r->then == REQ_PUB_BUNDLE ? "bundle" : "device list", buf);
        return;
    }
    if (!(next = req_new(r->then, r->ns, NULL, 0))) {
        fail(p, "out of memory");
        return;
    }
    next->retried = 1;
    next->bundle_only = r->bundle_only;
    if (send_req(p, next, publish_iq(p, next)) < 0)
        fail(p, "cannot publish our %s %s", ns_name(r->ns),
             r->then == REQ_PUB_BUNDLE ? "bundle" : "device list");
}

static void on_reply(struct xmp_session *s, const struct xmp_node *reply,
                     const struct xmp_error *e, void *ud)
{
    struct pep_req *r = ud, **pp;
    struct cli_pep *p = r->p;

    (void)s;
    for (pp = &p->reqs; *pp && *pp != r; pp = &(*pp)->next)
        ;
    if (*pp)
        *pp = r->next;
    switch (r->kind) {
    case REQ_LIST: got_list(p, r, reply, e); break;
    case REQ_BUNDLE: got_bundle(p, r, reply, e); break;
    case REQ_OWN_LIST: got_own_list(p, r, reply, e); break;
    case REQ_PUB_BUNDLE:
    case REQ_PUB_LIST: got_publish(p, r, reply, e); break;
    case REQ_CONFIGURE: got_configure(p, r, reply, e); break;
    }
    req_free(r);
    /* last: done may free p */
    if (--p->pending == 0 && p->done)
        p->done(p->ud);
}
