/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * cmd_pubsub.c - Publish-Subscribe (XEP-0060) on a service, or on the
 * account's own PEP service (XEP-0163) without --service: nodes (create,
 * configure, delete, purge, list, info), items (publish, retract, items),
 * subscriptions and affiliations, the owner's changes to both.  Each verb
 * is one request (unsubscribe may need a second, for the subscription
 * ids); the command exits 0 only with the server's result.  What a
 * request asks is checked before connecting: a payload that is not one
 * well-formed, namespaced element is refused there (65).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define NS_PUBSUB "http://jabber.org/protocol/pubsub"
#define NS_OWNER "http://jabber.org/protocol/pubsub#owner"
#define NS_ERRORS "http://jabber.org/protocol/pubsub#errors"
#define NS_DATA "jabber:x:data"
#define NS_INFO "http://jabber.org/protocol/disco#info"
#define NS_ITEMS "http://jabber.org/protocol/disco#items"
#define FORM_CONFIG "http://jabber.org/protocol/pubsub#node_config"
#define FORM_PUBLISH "http://jabber.org/protocol/pubsub#publish-options"
#define PUBSUB_MAX_FIELDS 64
#define PUBSUB_MAX_IDS 64
#define PUBSUB_MAX_PAYLOAD (1024 * 1024)

enum verb {
    V_CREATE, V_CONFIGURE, V_DELETE, V_PURGE, V_LIST, V_INFO, V_PUBLISH,
    V_RETRACT, V_ITEMS, V_SUBSCRIBE, V_UNSUBSCRIBE, V_SUBSCRIPTIONS,
    V_AFFILIATIONS, V_NVERBS
};

/* Each verb: its name and how many operands it takes after the verb. */
static const struct {
    const char *name;
    int min, max; /* max -1: any number */
} verbs[V_NVERBS] = {
    {"create", 1, 1},        {"configure", 1, 1}, {"delete", 1, 1},
    {"purge", 1, 1},         {"list", 0, 0},      {"info", 1, 1},
    {"publish", 1, 2},       {"retract", 2, 2},   {"items", 1, -1},
    {"subscribe", 1, 1},     {"unsubscribe", 1, 1},
    {"subscriptions", 0, 1}, {"affiliations", 0, 1},
};

enum {
    OPT_SERVICE = 256, OPT_CONFIG, OPT_ACCESS, OPT_MAX_ITEMS, OPT_ID,
    OPT_OPTION, OPT_NOTIFY, OPT_MAX, OPT_SET, OPT_NODE
};

static const struct opt_def pubsub_opts[] = {
    {"service", OPT_SERVICE, "JID",
     "the PubSub service (default: the account's own PEP service)",
     ARG_TEXT},
    {"config", OPT_CONFIG, "KEY=VALUE",
     "create, configure: a field of the node configuration (repeat for "
     "more)", ARG_TEXT},
    {"access-model", OPT_ACCESS, "MODEL",
     "create, configure: pubsub#access_model (open, presence, roster, "
     "whitelist, authorize)", ARG_TEXT},
    {"max-items", OPT_MAX_ITEMS, "N",
     "create, configure: pubsub#max_items", ARG_TEXT},
    {"id", OPT_ID, "ID", "publish: the item id", ARG_TEXT},
    {"option", OPT_OPTION, "KEY=VALUE",
     "publish: a publish option, a precondition (repeat for more)",
     ARG_TEXT},
    {"notify", OPT_NOTIFY, NULL, "retract: notify the subscribers",
     ARG_NONE},
    {"max", OPT_MAX, "N", "items: at most the N newest", ARG_TEXT},
    {"set", OPT_SET, "JID=STATE",
     "affiliations, subscriptions NODE: change one (repeat for more)",
     ARG_TEXT},
    {"node", OPT_NODE, "NODE", "list: the items of a collection node",
     ARG_TEXT},
};
const struct opt_list pubsub_options = {
    pubsub_opts, sizeof pubsub_opts / sizeof pubsub_opts[0]
};

struct pubsub_op {
    struct op op;
    enum verb verb;
    char *service; /* NULL: the account's bare JID, at start */
    char *self;    /* the account's bare JID */
    char *node, *id, *list_node;
    char *payload_text;
    struct xmp_node *payload;
    struct pubsub_kv config[PUBSUB_MAX_FIELDS], options[PUBSUB_MAX_FIELDS],
        sets[PUBSUB_MAX_FIELDS];
    size_t nconfig, noptions, nsets;
    char *ids[PUBSUB_MAX_IDS];
    size_t nids;
    long max;
    int notify;
    /* unsubscribe: 0 without a subscription id; 1 asking for them (the
     * service requires one); 2 each of them in turn */
    int stage;
    unsigned req;
    int have_req;
    struct outcome out;
};

static int send_next(struct pubsub_op *p);
static int reads_only(const struct pubsub_op *p);

static void fail_reply(struct pubsub_op *p, const struct xmp_node *reply)
{
    char why[512];

    pubsub_describe(reply, why, sizeof why);
    cli_error("pubsub %s%s%s: error from %s: %s", verbs[p->verb].name,
              p->node ? " " : "", p->node ? p->node : "", p->service, why);
    outcome_add(&p->out, ITEM_BOUNCED, 1);
    op_done(&p->op, status_pubsub(&p->out));
}

/* ---- the answers ------------------------------------------------------- */

static const char *const sub_keys[] = { "node", "jid", "subscription",
                                        "subid" };
static const char *const aff_keys[] = { "node", "jid", "affiliation" };
static const char *const ident_keys[] = { "category", "type", "name" };
static const char *const feat_keys[] = { "var" };
static const char *const disco_keys[] = { "node", "name", "jid" };

/* The answer of a result: 0, or -1 (reported). */
static int on_result(struct pubsub_op *p, const struct xmp_node *reply)
{
    const struct xmp_node *ps = xmp_node_child(reply, NS_PUBSUB, "pubsub"),
                          *own = xmp_node_child(reply, NS_OWNER, "pubsub"),
                          *c, *q;
    enum out_format f = p->op.c->o.format;
    const char *sv = p->service, *v;
    struct out_record r;

    switch (p->verb) {
    case V_CREATE:
        /* an instant node (§8.1.2) is named in the answer */
        c = ps ? xmp_node_child(ps, NS_PUBSUB, "create") : NULL;
        v = c && xmp_node_attr(c, "node") ? xmp_node_attr(c, "node")
                                          : p->node;
        out_begin(&r);
        out_str(&r, "kind", "created");
        out_str(&r, "service", sv);
        out_str(&r, "node", v);
        out_line(&r, "created", "%s", v);
        return pubsub_print(f, &r);
    case V_CONFIGURE:
        if (p->nconfig)
            return 0;
        c = own ? xmp_node_child(own, NS_OWNER, "configure") : NULL;
        return pubsub_print_form(f, c ? xmp_node_child(c, NS_DATA, "x")
                                      : NULL);
    case V_PUBLISH:
        c = ps ? xmp_node_child(ps, NS_PUBSUB, "publish") : NULL;
        q = c ? xmp_node_child(c, NS_PUBSUB, "item") : NULL;
        /* the id the service gave, when we gave none */
        v = q && xmp_node_attr(q, "id") ? xmp_node_attr(q, "id") : p->id;
        out_begin(&r);
        out_str(&r, "kind", "published");
        out_str(&r, "service", sv);
        out_str(&r, "node", p->node);
        out_str(&r, "id", v);
        out_line(&r, "published", "%s", v ? v : "(no id)");
        return pubsub_print(f, &r);
    case V_ITEMS:
        c = ps ? xmp_node_child(ps, NS_PUBSUB, "items") : NULL;
        for (q = c ? xmp_node_first(c) : NULL; q; q = xmp_node_next(q))
            if (strcmp(xmp_node_name(q), "item") == 0 &&
                pubsub_print_item(f, sv, p->node, q) < 0)
                return -1;
        return 0;
    case V_SUBSCRIBE:
        c = ps ? xmp_node_child(ps, NS_PUBSUB, "subscription") : NULL;
        return c ? pubsub_print_attrs(f, sv, "subscription", c, sub_keys, 4,
                                      p->node)
                 : 0;
    case V_SUBSCRIPTIONS:
    case V_AFFILIATIONS:
        if (p->nsets)
            return 0;
        c = xmp_node_child(p->node ? own : ps,
                           p->node ? NS_OWNER : NS_PUBSUB,
                           verbs[p->verb].name);
        return p->verb == V_SUBSCRIPTIONS
                   ? pubsub_print_children(f, sv, c, "subscription",
                                           "subscription", sub_keys, 4)
                   : pubsub_print_children(f, sv, c, "affiliation",
                                           "affiliation", aff_keys, 3);
    case V_LIST:
        q = xmp_node_child(reply, NS_ITEMS, "query");
        return pubsub_print_children(f, sv, q, "item", "node", disco_keys,
                                     3);
    case V_INFO:
        q = xmp_node_child(reply, NS_INFO, "query");
        if (pubsub_print_children(f, sv, q, "identity", "identity",
                                  ident_keys, 3) < 0 ||
            pubsub_print_children(f, sv, q, "feature", "feature", feat_keys,
                                  1) < 0)
            return -1;
        for (c = q ? xmp_node_first(q) : NULL; c; c = xmp_node_next(c))
            if (strcmp(xmp_node_name(c), "x") == 0 &&
                strcmp(xmp_node_ns(c), NS_DATA) == 0 &&
                pubsub_print_form(f, c) < 0)
                return -1;
        return 0;
    default:
        return 0; /* delete, purge, retract: the result says it all */
    }
}

static void on_reply(struct xmp_session *s, const struct xmp_node *reply,
                     const struct xmp_error *e, void *ud)
{
    struct pubsub_op *p = ud;
    int rc;

    (void)s;
    p->have_req = 0;
    if (p->op.done)
        return;
    if (!reply) {
        if (e->code == XMP_ETIMEOUT) {
            cli_error("pubsub %s: %s", verbs[p->verb].name, e->msg);
            outcome_add(&p->out, ITEM_TIMED_OUT, 1);
            op_done(&p->op, status_pubsub(&p->out));
        }
        return; /* the session ended: the driver says how */
    }
    if (strcmp(xmp_node_attr(reply, "type"), "result") != 0) {
        const struct xmp_node *er = xmp_node_child(reply, NULL, "error");

        if (p->verb == V_UNSUBSCRIBE && p->stage == 0 && er &&
            xmp_node_child(er, NS_ERRORS, "subid-required")) {
            /* §6.2.3.3: ask for the ids, then end each subscription */
            p->stage = 1;
            if (send_next(p) < 0)
                op_done(&p->op, cli_session_status(p->op.c));
            return;
        }
        fail_reply(p, reply);
        return;
    }
    if (p->verb == V_UNSUBSCRIBE && p->stage == 1) {
        /* the account's subscriptions to the node, with their ids */
        const struct xmp_node *ps = xmp_node_child(reply, NS_PUBSUB,
                                                   "pubsub"),
                              *subs = ps ? xmp_node_child(ps, NS_PUBSUB,
                                                          "subscriptions")
                                         : NULL,
                              *c;

        p->stage = 2;
        for (c = subs ? xmp_node_first(subs) : NULL; c; c = xmp_node_next(c)) {
            const char *subid = xmp_node_attr(c, "subid"),
                       *node = xmp_node_attr(c, "node");

            if (strcmp(xmp_node_name(c), "subscription") != 0 || !subid ||
                (node && strcmp(node, p->node) != 0) ||
                p->nids == PUBSUB_MAX_IDS)
                continue;
            if (!(p->ids[p->nids++] = strdup(subid))) {
                op_done(&p->op, EXIT_OSERR);
                return;
            }
        }
        if (!p->nids) {
            cli_error("pubsub unsubscribe %s: the service requires a "
                      "subscription id and lists none", p->node);
            outcome_add(&p->out, ITEM_BOUNCED, 1);
            op_done(&p->op, status_pubsub(&p->out));
            return;
        }
        rc = send_next(p);
        if (rc < 0)
            op_done(&p->op, cli_session_status(p->op.c));
        return;
    }
    if (p->verb == V_UNSUBSCRIBE && p->stage == 2 && p->nids) {
        free(p->ids[--p->nids]);
        if (p->nids) {
            if (send_next(p) < 0)
                op_done(&p->op, cli_session_status(p->op.c));
            return;
        }
    }
    rc = on_result(p, reply);
    op_done(&p->op, rc < 0 ? EXIT_IOERR : EXIT_OK);
}

/* ---- the requests -------------------------------------------------------- */

static struct xmp_node *new_iq(struct pubsub_op *p, const char *type)
{
    struct xmp_node *iq = xmp_node_new("jabber:client", "iq", NULL);

    if (!iq || xmp_node_set_attr(iq, "type", type, NULL) != XMP_OK ||
        xmp_node_set_attr(iq, "to", p->service, NULL) != XMP_OK) {
        xmp_node_free(iq);
        return NULL;
    }
    return iq;
}

static struct xmp_node *add_el(struct xmp_node *parent, const char *ns,
                               const char *name, const char *node)
{
    struct xmp_node *el = xmp_node_add_child(parent, ns, name, NULL);

    if (el && node && xmp_node_set_attr(el, "node", node, NULL) != XMP_OK)
        return NULL;
    return el;
}

static int add_sets(struct pubsub_op *p, struct xmp_node *parent,
                    const char *name, const char *attr)
{
    struct xmp_node *el;
    size_t i;

    for (i = 0; i < p->nsets; i++)
        if (!(el = xmp_node_add_child(parent, NS_OWNER, name, NULL)) ||
            xmp_node_set_attr(el, "jid", p->sets[i].key, NULL) != XMP_OK ||
            xmp_node_set_attr(el, attr, p->sets[i].value, NULL) != XMP_OK)
            return -1;
    return 0;
}

/* The request of this step: 0, or -1 (out of memory or the session
 * refused it: xmp_session_error says which). */
static int build(struct pubsub_op *p, struct xmp_node **out)
{
    struct xmp_node *iq, *ps, *el, *it;
    const char *bare = p->self;
    char buf[32];
    size_t i;
    int get = reads_only(p) || (p->verb == V_UNSUBSCRIBE && p->stage == 1);

    *out = NULL;
    if (!(iq = new_iq(p, get ? "get" : "set")))
        return -1;
    switch (p->verb) {
    case V_LIST:
    case V_INFO:
        el = xmp_node_add_child(iq, p->verb == V_LIST ? NS_ITEMS : NS_INFO,
                                "query", NULL);
        if (!el || ((p->node || p->list_node) &&
                    xmp_node_set_attr(el, "node",
                                      p->node ? p->node : p->list_node,
                                      NULL) != XMP_OK))
            goto fail;
        break;
    case V_CREATE:
        if (!(ps = xmp_node_add_child(iq, NS_PUBSUB, "pubsub", NULL)) ||
            !add_el(ps, NS_PUBSUB, "create", p->node))
            goto fail;
        if (p->nconfig &&
            (!(el = xmp_node_add_child(ps, NS_PUBSUB, "configure", NULL)) ||
             pubsub_add_form(el, FORM_CONFIG, p->config, p->nconfig) < 0))
            goto fail;
        break;
    case V_CONFIGURE:
        if (!(ps = xmp_node_add_child(iq, NS_OWNER, "pubsub", NULL)) ||
            !(el = add_el(ps, NS_OWNER, "configure", p->node)) ||
            (p->nconfig && pubsub_add_form(el, FORM_CONFIG, p->config,
                                    p->nconfig) < 0))
            goto fail;
        break;
    case V_DELETE:
    case V_PURGE:
        if (!(ps = xmp_node_add_child(iq, NS_OWNER, "pubsub", NULL)) ||
            !add_el(ps, NS_OWNER, verbs[p->verb].name, p->node))
            goto fail;
        break;
    case V_PUBLISH:
        if (!(ps = xmp_node_add_child(iq, NS_PUBSUB, "pubsub", NULL)) ||
            !(el = add_el(ps, NS_PUBSUB, "publish", p->node)) ||
            !(it = xmp_node_add_child(el, NS_PUBSUB, "item", NULL)) ||
            (p->id && xmp_node_set_attr(it, "id", p->id, NULL) != XMP_OK))
            goto fail;
        if (xmp_node_append(it, p->payload) != XMP_OK)
            goto fail;
        p->payload = NULL; /* the request has it */
        if (p->noptions &&
            (!(el = xmp_node_add_child(ps, NS_PUBSUB, "publish-options",
                                       NULL)) ||
             pubsub_add_form(el, FORM_PUBLISH, p->options, p->noptions) < 0))
            goto fail;
        break;
    case V_RETRACT:
        if (!(ps = xmp_node_add_child(iq, NS_PUBSUB, "pubsub", NULL)) ||
            !(el = add_el(ps, NS_PUBSUB, "retract", p->node)) ||
            (p->notify &&
             xmp_node_set_attr(el, "notify", "true", NULL) != XMP_OK) ||
            !(it = xmp_node_add_child(el, NS_PUBSUB, "item", NULL)) ||
            xmp_node_set_attr(it, "id", p->id, NULL) != XMP_OK)
            goto fail;
        break;
    case V_ITEMS:
        if (!(ps = xmp_node_add_child(iq, NS_PUBSUB, "pubsub", NULL)) ||
            !(el = add_el(ps, NS_PUBSUB, "items", p->node)))
            goto fail;
        snprintf(buf, sizeof buf, "%ld", p->max);
        if (p->max && xmp_node_set_attr(el, "max_items", buf, NULL) != XMP_OK)
            goto fail;
        for (i = 0; i < p->nids; i++)
            if (!(it = xmp_node_add_child(el, NS_PUBSUB, "item", NULL)) ||
                xmp_node_set_attr(it, "id", p->ids[i], NULL) != XMP_OK)
                goto fail;
        break;
    case V_SUBSCRIBE:
    case V_UNSUBSCRIBE:
        if (!(ps = xmp_node_add_child(iq, NS_PUBSUB, "pubsub", NULL)))
            goto fail;
        if (p->verb == V_UNSUBSCRIBE && p->stage == 1) {
            if (!add_el(ps, NS_PUBSUB, "subscriptions", p->node))
                goto fail;
            break;
        }
        if (!(el = add_el(ps, NS_PUBSUB, verbs[p->verb].name, p->node)) ||
            xmp_node_set_attr(el, "jid", bare, NULL) != XMP_OK ||
            (p->nids && xmp_node_set_attr(el, "subid", p->ids[p->nids - 1],
                                          NULL) != XMP_OK))
            goto fail;
        break;
    case V_SUBSCRIPTIONS:
    case V_AFFILIATIONS:
        /* with a node: the owner's view of it (§8.8, §8.9); without:
         * the account's own (§5.6, §5.7) */
        if (!(ps = xmp_node_add_child(iq, p->node ? NS_OWNER : NS_PUBSUB,
                                      "pubsub", NULL)) ||
            !(el = add_el(ps, p->node ? NS_OWNER : NS_PUBSUB,
                          verbs[p->verb].name, p->node)) ||
            add_sets(p, el, p->verb == V_SUBSCRIPTIONS ? "subscription"
                                                       : "affiliation",
                     p->verb == V_SUBSCRIPTIONS ? "subscription"
                                                : "affiliation") < 0)
            goto fail;
        break;
    default:
        goto fail;
    }
    *out = iq;
    return 0;
fail:
    xmp_node_free(iq);
    return -1;
}

static int send_next(struct pubsub_op *p)
{
    struct xmp_node *iq;

    if (build(p, &iq) < 0) {
        cli_error("out of memory");
        return -1;
    }
    if (xmp_session_send_iq(p->op.c->session, iq, 0, on_reply, p,
                            &p->req) != XMP_OK) {
        cli_error("%s", xmp_session_error(p->op.c->session)->msg);
        xmp_node_free(iq);
        return -1;
    }
    p->have_req = 1;
    xmp_node_free(iq);
    return 0;
}

/* ---- the operation ------------------------------------------------------- */

static int pubsub_start(struct op *op)
{
    struct pubsub_op *p = (struct pubsub_op *)op;
    struct xmp_session_info i;
    struct xmp_jid j;

    /* the account's own PEP service: its bare JID */
    xmp_session_get_info(op->c->session, &i);
    if (!p->service) {
        if (!i.bound_jid || xmp_jid_parse(i.bound_jid, &j, NULL) != XMP_OK) {
            cli_error("pubsub: the session has no JID for the PEP service");
            return EXIT_SOFTWARE;
        }
        p->service = xmp_jid_bare(&j);
        xmp_jid_clear(&j);
        if (!p->service)
            return EXIT_OSERR;
    }
    /* subscribe and unsubscribe name the account's bare JID */
    if (i.bound_jid && xmp_jid_parse(i.bound_jid, &j, NULL) == XMP_OK) {
        p->self = xmp_jid_bare(&j);
        xmp_jid_clear(&j);
    }
    if (!p->self) {
        cli_error("pubsub: the session has no JID to subscribe");
        return EXIT_SOFTWARE;
    }
    if (send_next(p) < 0)
        return cli_session_status(op->c);
    return 0;
}

static void pubsub_interrupt(struct op *op, int sig)
{
    cli_error("interrupted before the server answered");
    op_done(op, EXIT_SIGNAL_BASE + sig);
}

/* A request that changes nothing: a node's form, its items, a list. */
static int reads_only(const struct pubsub_op *p)
{
    return p->verb == V_LIST || p->verb == V_INFO || p->verb == V_ITEMS ||
           (p->verb == V_CONFIGURE && !p->nconfig) ||
           ((p->verb == V_SUBSCRIPTIONS || p->verb == V_AFFILIATIONS) &&
            !p->nsets);
}

/* The session ended before the answer: a change may or may not have
 * been made.  A reading request ends as the session did (the driver
 * says how). */
static void pubsub_session_end(struct op *op)
{
    struct pubsub_op *p = (struct pubsub_op *)op;

    if (reads_only(p))
        return;
    cli_error("pubsub %s: no answer from the server before the session "
              "ended: the change may or may not have been made",
              verbs[p->verb].name);
    outcome_add(&p->out, ITEM_UNCONFIRMED, 1);
    op_done(op, status_pubsub(&p->out));
}

static void kv_free(struct pubsub_kv *kv, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(kv[i].key); /* value points into it */
}

static void pubsub_free(struct op *op)
{
    struct pubsub_op *p = (struct pubsub_op *)op;
    size_t i;

    if (p->have_req && op->c && op->c->session)
        xmp_iq_cancel(op->c->session, p->req);
    free(p->service);
    free(p->self);
    free(p->node);
    free(p->id);
    free(p->list_node);
    free(p->payload_text);
    xmp_node_free(p->payload);
    kv_free(p->config, p->nconfig);
    kv_free(p->options, p->noptions);
    kv_free(p->sets, p->nsets);
    for (i = 0; i < p->nids; i++)
        free(p->ids[i]);
    free(p);
}

static const struct op_class pubsub_class = {
    .name = "pubsub",
    .start = pubsub_start,
    .interrupt = pubsub_interrupt,
    .session_end = pubsub_session_end,
    .free = pubsub_free,
};

/* ---- the command line ----------------------------------------------------- */

/* Text an XML attribute or element can carry. */
static int check_text(const char *what, const char *s)
{
    struct xmp_error err;

    if (!*s) {
        cli_error("pubsub: empty %s", what);
        return EXIT_DATA;
    }
    if (xmp_xml_check_text(s, strlen(s), &err) != XMP_OK) {
        cli_error("pubsub: %s: %s", what, err.msg);
        return EXIT_DATA;
    }
    return 0;
}

static int add_kv(const char *opt, struct pubsub_kv *kv, size_t *n,
                  const char *key, const char *value)
{
    size_t klen, vlen;
    char *k;
    int rc;

    if ((rc = check_text(opt, key)) != 0 ||
        (*value && (rc = check_text(opt, value)) != 0))
        return rc;
    if (*n == PUBSUB_MAX_FIELDS) {
        cli_error("pubsub: more than %d %s", PUBSUB_MAX_FIELDS, opt);
        return EXIT_USAGE;
    }
    klen = strlen(key);
    vlen = strlen(value);
    if (!(k = malloc(klen + vlen + 2)))
        return EXIT_OSERR;
    memcpy(k, key, klen + 1);
    memcpy(k + klen + 1, value, vlen + 1);
    kv[*n].key = k;
    kv[*n].value = k + klen + 1;
    (*n)++;
    return 0;
}

static int split_kv(const char *opt, struct pubsub_kv *kv, size_t *n,
                    const char *arg)
{
    const char *eq = strchr(arg, '=');
    char *key;
    int rc;

    if (!eq || eq == arg) {
        cli_error("pubsub: %s %s: not KEY=VALUE", opt, arg);
        return EXIT_USAGE;
    }
    if (!(key = strndup(arg, (size_t)(eq - arg))))
        return EXIT_OSERR;
    rc = add_kv(opt, kv, n, key, eq + 1);
    free(key);
    return rc;
}

static int set_string(char **dst, const char *what, const char *arg)
{
    int rc;

    if ((rc = check_text(what, arg)) != 0)
        return rc;
    free(*dst);
    return (*dst = strdup(arg)) ? 0 : EXIT_OSERR;
}

static int set_pubsub(void *ud, int id, const char *arg)
{
    struct pubsub_op *p = ud;
    long n;
    int rc;

    switch (id) {
    case OPT_SERVICE:
        if ((rc = set_string(&p->service, "--service", arg)) != 0)
            return rc;
        return 0;
    case OPT_CONFIG:
        return split_kv("--config", p->config, &p->nconfig, arg);
    case OPT_ACCESS:
        if (strcmp(arg, "open") != 0 && strcmp(arg, "presence") != 0 &&
            strcmp(arg, "roster") != 0 && strcmp(arg, "whitelist") != 0 &&
            strcmp(arg, "authorize") != 0) {
            cli_error("pubsub: --access-model %s: not open, presence, "
                      "roster, whitelist or authorize", arg);
            return EXIT_USAGE;
        }
        return add_kv("--access-model", p->config, &p->nconfig,
                      "pubsub#access_model", arg);
    case OPT_MAX_ITEMS:
        if (strcmp(arg, "max") != 0 &&
            (rc = cli_number("--max-items", arg, 1, 1000000000L, &n)) != 0)
            return rc;
        return add_kv("--max-items", p->config, &p->nconfig,
                      "pubsub#max_items", arg);
    case OPT_ID:
        return set_string(&p->id, "--id", arg);
    case OPT_OPTION:
        return split_kv("--option", p->options, &p->noptions, arg);
    case OPT_NOTIFY:
        p->notify = 1;
        return 0;
    case OPT_MAX:
        return cli_number("--max", arg, 1, 1000000000L, &p->max);
    case OPT_SET:
        return split_kv("--set", p->sets, &p->nsets, arg);
    case OPT_NODE:
        return set_string(&p->list_node, "--node", arg);
    }
    return EXIT_USAGE;
}

/* The payload of publish: one element in a namespace of its own. */
static int take_payload(struct pubsub_op *p, struct cli *c, const char *arg)
{
    struct xmp_error err;
    const char *text = arg;
    size_t len;
    int rc;

    if (!arg) {
        if (c->interactive) {
            cli_error("pubsub publish: at the prompt the payload is an "
                      "argument");
            return EXIT_USAGE;
        }
        rc = cli_read_stdin(PUBSUB_MAX_PAYLOAD, &p->payload_text, &len);
        if (rc == -1) {
            cli_error("pubsub publish: the payload on stdin is longer "
                      "than %d bytes", PUBSUB_MAX_PAYLOAD);
            return EXIT_DATA;
        }
        if (rc != 0)
            return rc;
        text = p->payload_text;
    } else {
        len = strlen(arg);
    }
    if (!(p->payload = xmp_node_parse(text, len, &err))) {
        cli_error("pubsub publish: the payload: %s", err.msg);
        return EXIT_DATA;
    }
    if (strcmp(xmp_node_ns(p->payload), "jabber:client") == 0) {
        cli_error("pubsub publish: the payload <%s/> has no namespace of "
                  "its own (xmlns)", xmp_node_name(p->payload));
        return EXIT_DATA;
    }
    return 0;
}

/* What only some verbs take. */
static int verb_options(struct pubsub_op *p)
{
    const char *bad = NULL;

    if (p->nconfig && p->verb != V_CREATE && p->verb != V_CONFIGURE)
        bad = "--config, --access-model and --max-items go with create "
              "and configure";
    else if ((p->id || p->noptions) && p->verb != V_PUBLISH)
        bad = "--id and --option go with publish";
    else if (p->notify && p->verb != V_RETRACT)
        bad = "--notify goes with retract";
    else if (p->max && p->verb != V_ITEMS)
        bad = "--max goes with items";
    else if (p->list_node && p->verb != V_LIST)
        bad = "--node goes with list";
    else if (p->nsets && p->verb != V_AFFILIATIONS &&
             p->verb != V_SUBSCRIPTIONS)
        bad = "--set goes with affiliations and subscriptions";
    else if (p->nsets && !p->node)
        bad = "--set needs the NODE whose affiliations or subscriptions "
              "change";
    if (bad) {
        cli_error("pubsub: %s", bad);
        return EXIT_USAGE;
    }
    return 0;
}

static int check_sets(struct pubsub_op *p)
{
    static const char *const affs[] = { "owner", "publisher",
                                        "publish-only", "member", "none",
                                        "outcast", NULL };
    static const char *const subs[] = { "subscribed", "none", "pending",
                                        "unconfigured", NULL };
    const char *const *ok = p->verb == V_AFFILIATIONS ? affs : subs;
    struct xmp_error err;
    struct xmp_jid j;
    size_t i, k;

    for (i = 0; i < p->nsets; i++) {
        if (xmp_jid_parse(p->sets[i].key, &j, &err) != XMP_OK) {
            cli_error("pubsub: --set %s: %s", p->sets[i].key, err.msg);
            return EXIT_DATA;
        }
        xmp_jid_clear(&j);
        for (k = 0; ok[k]; k++)
            if (strcmp(ok[k], p->sets[i].value) == 0)
                break;
        if (!ok[k]) {
            cli_error("pubsub: --set %s=%s: not a%s", p->sets[i].key,
                      p->sets[i].value,
                      p->verb == V_AFFILIATIONS
                          ? "n affiliation (owner, publisher, "
                            "publish-only, member, none, outcast)"
                          : " subscription state (subscribed, none, "
                            "pending, unconfigured)");
            return EXIT_USAGE;
        }
    }
    return 0;
}

int cmd_pubsub(struct cli *c, int argc, char **argv, struct op **out)
{
    struct pubsub_op *p = calloc(1, sizeof *p);
    struct xmp_error err;
    struct xmp_jid j;
    int rc, next, n, i;
    size_t v;

    if (!p)
        return EXIT_OSERR;
    p->op.cls = &pubsub_class;
    p->op.fd = -1;
    p->op.deadline = -1;
    if ((rc = cli_parse_cmd(&c->o, "pubsub", argc, argv, &next, set_pubsub,
                            p)))
        goto fail;
    n = argc - next;
    rc = EXIT_USAGE;
    if (n == 0) {
        cli_error("usage: xmpctl pubsub VERB [NODE] ... (create, configure, "
                  "delete, purge, list, info, publish, retract, items, "
                  "subscribe, unsubscribe, subscriptions, affiliations)");
        goto fail;
    }
    for (v = 0; v < V_NVERBS; v++)
        if (strcmp(argv[next], verbs[v].name) == 0)
            break;
    if (v == V_NVERBS) {
        cli_error("pubsub: unknown verb '%s' (create, configure, delete, "
                  "purge, list, info, publish, retract, items, subscribe, "
                  "unsubscribe, subscriptions, affiliations)", argv[next]);
        goto fail;
    }
    p->verb = (enum verb)v;
    n--;
    next++;
    if (n < verbs[v].min || (verbs[v].max >= 0 && n > verbs[v].max)) {
        cli_error("pubsub %s: %s", verbs[v].name,
                  verbs[v].max == 0   ? "takes no operand"
                  : v == V_PUBLISH    ? "usage: publish NODE [PAYLOAD]"
                  : v == V_RETRACT    ? "usage: retract NODE ID"
                  : v == V_ITEMS      ? "usage: items NODE [ID...]"
                  : verbs[v].min == 0 ? "takes at most one NODE"
                                      : "takes one NODE");
        goto fail;
    }
    if (n > 0 && (rc = set_string(&p->node, "NODE", argv[next])) != 0)
        goto fail;
    if ((rc = verb_options(p)) != 0 || (rc = check_sets(p)) != 0)
        goto fail;
    if (p->service) {
        if (xmp_jid_parse(p->service, &j, &err) != XMP_OK) {
            cli_error("pubsub: --service %s: %s", p->service, err.msg);
            rc = EXIT_DATA;
            goto fail;
        }
        xmp_jid_clear(&j);
    }
    if (p->verb == V_RETRACT &&
        (rc = set_string(&p->id, "ID", argv[next + 1])) != 0)
        goto fail;
    if (p->verb == V_ITEMS)
        for (i = 1; i < n; i++) {
            if (p->nids == PUBSUB_MAX_IDS) {
                cli_error("pubsub items: more than %d ids", PUBSUB_MAX_IDS);
                rc = EXIT_USAGE;
                goto fail;
            }
            if ((rc = check_text("ID", argv[next + i])) != 0)
                goto fail;
            if (!(p->ids[p->nids++] = strdup(argv[next + i]))) {
                rc = EXIT_OSERR;
                goto fail;
            }
        }
    if (p->verb == V_PUBLISH &&
        (rc = take_payload(p, c, n > 1 ? argv[next + 1] : NULL)) != 0)
        goto fail;
    *out = &p->op;
    return EXIT_OK;
fail:
    pubsub_free(&p->op);
    return rc;
}
