/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * compliance.c - what a server announces through disco, held against
 * the server columns of XEP-0479 (XMPP Compliance Suites 2023): for
 * "check DOMAIN" with an account.  Logged in, it asks disco#info of the
 * domain and of the account's bare JID (PEP, MAM, push live there),
 * disco#items of the domain and disco#info of each item (group chat,
 * upload), and reads the stream features of the login (stream
 * management, client state indication, caps).  Each requirement of the
 * Core, IM, Mobile and A/V suites for a server is then advertised,
 * lacking, or not discoverable (XEP-0114 components, which leave no
 * trace in disco).  The Web suite (BOSH, WebSocket) is not looked at.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define NS_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_INFO "http://jabber.org/protocol/disco#info"
/* the services of a domain asked about: more would be a server's
 * mistake (or a hostile one), as for uploads */
#define COMPLIANCE_MAX_ITEMS 32
/* Waiting for the server's close is a courtesy, as in check.c. */
#define COMPLIANCE_CLOSE_MS 5000

/* Where a requirement shows. */
enum where {
    W_LOGIN,    /* a login over TLS shows it */
    W_DIRECT,   /* a direct TLS client target answered */
    W_SERVER,   /* a feature of the domain's disco#info */
    W_ACCOUNT,  /* a feature (or "identity:CAT/TYPE") of the bare JID's */
    W_ITEMS,    /* a feature of one of the domain's items */
    W_STREAM,   /* a stream feature (short name) after authentication */
    W_NONE      /* nothing on the wire says it */
};

#define LVL_SERVER 1   /* the "Server" column */
#define LVL_ADVANCED 2 /* the "Advanced Server" column */

struct requirement {
    const char *suite, *feature, *spec;
    unsigned levels;
    enum where where;
    const char *var;
};

/* XEP-0479 version 0.1.0 (2023-05-04), section 2: the rows with a tick
 * in a server column. */
static const struct requirement reqs[] = {
    {"Core", "Core features", "RFC 6120", LVL_SERVER | LVL_ADVANCED,
     W_LOGIN, NULL},
    {"Core", "TLS", "RFC 7590", LVL_SERVER | LVL_ADVANCED, W_LOGIN, NULL},
    {"Core", "Direct TLS", "XEP-0368", LVL_ADVANCED, W_DIRECT, NULL},
    {"Core", "Feature discovery", "XEP-0030", LVL_SERVER | LVL_ADVANCED,
     W_SERVER, NS_INFO},
    {"Core", "Feature broadcasts", "XEP-0115", LVL_ADVANCED, W_STREAM,
     "caps"},
    {"Core", "Server extensibility", "XEP-0114", LVL_SERVER | LVL_ADVANCED,
     W_NONE, NULL},
    {"Core", "Event publishing", "XEP-0163", LVL_ADVANCED, W_ACCOUNT,
     "identity:pubsub/pep"},
    {"IM", "Core features", "RFC 6121", LVL_SERVER | LVL_ADVANCED, W_LOGIN,
     NULL},
    {"IM", "User avatar compatibility", "XEP-0398", LVL_ADVANCED, W_SERVER,
     "urn:xmpp:pep-vcard-conversion:0"},
    {"IM", "vcard-temp", "XEP-0054", LVL_SERVER | LVL_ADVANCED, W_SERVER,
     "vcard-temp"},
    {"IM", "Outbound message synchronization", "XEP-0280",
     LVL_SERVER | LVL_ADVANCED, W_SERVER, "urn:xmpp:carbons:2"},
    {"IM", "User blocking", "XEP-0191", LVL_ADVANCED, W_SERVER,
     "urn:xmpp:blocking"},
    {"IM", "Group chat", "XEP-0045", LVL_SERVER | LVL_ADVANCED, W_ITEMS,
     "http://jabber.org/protocol/muc"},
    {"IM", "Advanced group chat (bookmarks)", "XEP-0402", LVL_ADVANCED,
     W_ACCOUNT, "urn:xmpp:bookmarks:1#compat"},
    {"IM", "Private data via PubSub", "XEP-0223", LVL_ADVANCED, W_ACCOUNT,
     "http://jabber.org/protocol/pubsub#publish-options"},
    {"IM", "Private XML storage", "XEP-0049", LVL_ADVANCED, W_SERVER,
     "jabber:iq:private"},
    {"IM", "Stream management", "XEP-0198", LVL_ADVANCED, W_STREAM, "sm:3"},
    {"IM", "History storage / retrieval", "XEP-0313", LVL_ADVANCED,
     W_ACCOUNT, "urn:xmpp:mam:2"},
    {"IM", "File upload", "XEP-0363", LVL_SERVER | LVL_ADVANCED, W_ITEMS,
     "urn:xmpp:http:upload:0"},
    {"Mobile", "Stream management", "XEP-0198", LVL_SERVER | LVL_ADVANCED,
     W_STREAM, "sm:3"},
    {"Mobile", "Client state indication", "XEP-0352",
     LVL_SERVER | LVL_ADVANCED, W_STREAM, "csi:0"},
    {"Mobile", "Third-party push notifications", "XEP-0357", LVL_ADVANCED,
     W_ACCOUNT, "urn:xmpp:push:0"},
    {"A/V", "STUN/TURN server discovery", "XEP-0215",
     LVL_SERVER | LVL_ADVANCED, W_SERVER, "urn:xmpp:extdisco:2"},
};

/* What disco said, as space-separated words (features, and identities
 * as "identity:CAT/TYPE"), one list per place asked. */
struct disco {
    struct cli *c;
    char *server, *account, *items;
    int pending;
    int failed;     /* a request could not be sent */
};

static void add_words(char **list, const struct xmp_node *reply)
{
    const struct xmp_node *q, *n;
    const char *v, *cat, *type;
    char *next;

    q = reply ? xmp_node_child(reply, NS_INFO, "query") : NULL;
    for (n = q ? xmp_node_first(q) : NULL; n; n = xmp_node_next(n)) {
        next = NULL;
        if (strcmp(xmp_node_name(n), "feature") == 0 &&
            (v = xmp_node_attr(n, "var")) && !strchr(v, ' ')) {
            if (asprintf(&next, "%s %s", *list ? *list : "", v) < 0)
                next = NULL;
        } else if (strcmp(xmp_node_name(n), "identity") == 0 &&
                   (cat = xmp_node_attr(n, "category")) &&
                   (type = xmp_node_attr(n, "type")) && !strchr(cat, ' ') &&
                   !strchr(type, ' ')) {
            if (asprintf(&next, "%s identity:%s/%s", *list ? *list : "",
                         cat, type) < 0)
                next = NULL;
        }
        if (next) {
            free(*list);
            *list = next;
        }
    }
}

static int is_result(const struct xmp_node *reply)
{
    const char *t = reply ? xmp_node_attr(reply, "type") : NULL;

    return t && strcmp(t, "result") == 0;
}

struct info_ask {
    struct disco *d;
    char **into;
};

static void on_info(struct xmp_session *s, const struct xmp_node *reply,
                    const struct xmp_error *e, void *ud)
{
    struct info_ask *a = ud;

    (void)s;
    (void)e;
    if (is_result(reply))
        add_words(a->into, reply);
    a->d->pending--;
    free(a);
}

static int ask(struct disco *d, const char *to, const char *ns,
               xmp_iq_fn cb, void *ud)
{
    struct xmp_node *iq;
    enum xmp_err r;

    if (!(iq = xmp_node_new("jabber:client", "iq", NULL)) ||
        xmp_node_set_attr(iq, "type", "get", NULL) != XMP_OK ||
        xmp_node_set_attr(iq, "to", to, NULL) != XMP_OK ||
        !xmp_node_add_child(iq, ns, "query", NULL)) {
        xmp_node_free(iq);
        return -1;
    }
    r = xmp_session_send_iq(d->c->session, iq, 0, cb, ud, NULL);
    xmp_node_free(iq);
    if (r != XMP_OK)
        return -1;
    d->pending++;
    return 0;
}

static int ask_info(struct disco *d, const char *to, char **into)
{
    struct info_ask *a = malloc(sizeof *a);

    if (!a)
        return -1;
    a->d = d;
    a->into = into;
    if (ask(d, to, NS_INFO, on_info, a) < 0) {
        free(a);
        return -1;
    }
    return 0;
}

static void on_items(struct xmp_session *s, const struct xmp_node *reply,
                     const struct xmp_error *e, void *ud)
{
    struct disco *d = ud;
    const struct xmp_node *q, *it;
    const char *jid;
    size_t n = 0;

    (void)s;
    (void)e;
    d->pending--;
    q = is_result(reply) ? xmp_node_child(reply, NS_ITEMS, "query") : NULL;
    for (it = q ? xmp_node_first(q) : NULL; it && n < COMPLIANCE_MAX_ITEMS;
         it = xmp_node_next(it)) {
        if (strcmp(xmp_node_name(it), "item") != 0 ||
            !(jid = xmp_node_attr(it, "jid")) || xmp_node_attr(it, "node"))
            continue;
        if (ask_info(d, jid, &d->items) < 0)
            d->failed = 1;
        n++;
    }
}

static enum cli_turn answers_before(struct cli_driver *dr,
                                    struct cli_poll *lp)
{
    const struct disco *d = dr->ud;

    (void)lp;
    return d->pending <= 0 || cli_session_over(dr->cs[0]->session)
               ? CLI_DONE
               : CLI_POLL;
}

static const char *status_of(const struct requirement *q,
                             const struct disco *d, const char *stream,
                             int direct_tls)
{
    const char *list = NULL;

    switch (q->where) {
    case W_LOGIN:
        return "advertised";
    case W_DIRECT:
        return direct_tls ? "advertised" : "lacking";
    case W_NONE:
        return "not discoverable";
    case W_SERVER:
        list = d->server;
        break;
    case W_ACCOUNT:
        list = d->account;
        break;
    case W_ITEMS:
        list = d->items;
        break;
    case W_STREAM:
        list = stream;
        break;
    }
    return cli_word_listed(list, q->var) ? "advertised" : "lacking";
}

static const char *const level_names[] = {"Server", "Advanced Server"};

static void summary(enum out_format format, const char *const *st)
{
    static const char *const suites[] = {"Core", "IM", "Mobile", "A/V"};
    struct out_record r;
    char lacks[512];
    size_t s, k, l;

    for (s = 0; s < sizeof suites / sizeof suites[0]; s++)
        for (l = 0; l < 2; l++) {
            lacks[0] = '\0';
            for (k = 0; k < sizeof reqs / sizeof reqs[0]; k++)
                if (strcmp(reqs[k].suite, suites[s]) == 0 &&
                    (reqs[k].levels & (1u << l)) &&
                    strcmp(st[k], "lacking") == 0)
                    snprintf(lacks + strlen(lacks),
                             sizeof lacks - strlen(lacks), "%s%s",
                             lacks[0] ? ", " : "", reqs[k].spec);
            out_begin(&r);
            out_str(&r, "kind", "compliance");
            out_str(&r, "suite", suites[s]);
            out_str(&r, "level", level_names[l]);
            out_bool(&r, "met", !lacks[0]);
            out_str(&r, "lacking", lacks[0] ? lacks : NULL);
            out_line(&r, "xep-0479", "%s %s: %s%s", suites[s],
                     level_names[l], lacks[0] ? "lacks " : "met",
                     lacks);
            out_print(format, &r);
        }
}

int cli_check_compliance(struct cli *c, const char *domain, int direct_tls)
{
    struct disco d;
    struct xmp_session_info i;
    struct xmp_jid me;
    struct out_record r;
    const char *st[sizeof reqs / sizeof reqs[0]];
    char *bare = NULL;
    int64_t end;
    size_t k;
    int rc, sig;

    memset(&d, 0, sizeof d);
    d.c = c;
    if (xmp_jid_parse(c->o.jid, &me, NULL) != XMP_OK)
        return EXIT_SOFTWARE;
    bare = xmp_jid_bare(&me);
    xmp_jid_clear(&me);
    if (!bare)
        return EXIT_OSERR;
    if ((rc = cli_session_open(c)) != EXIT_OK)
        goto out;
    if ((sig = cli_check_drive(c, cli_check_until_ready, NULL)) != 0) {
        rc = sig > 0 ? EXIT_SIGNAL_BASE + sig : EXIT_OSERR;
        goto out;
    }
    if (xmp_session_phase(c->session) != XMP_PHASE_READY) {
        rc = cli_session_status(c);
        goto out;
    }
    if (ask_info(&d, domain, &d.server) < 0 ||
        ask_info(&d, bare, &d.account) < 0 ||
        ask(&d, domain, NS_ITEMS, on_items, &d) < 0) {
        rc = EXIT_OSERR;
        goto out;
    }
    if ((sig = cli_check_drive(c, answers_before, &d)) != 0) {
        rc = sig > 0 ? EXIT_SIGNAL_BASE + sig : EXIT_OSERR;
        goto out;
    }
    xmp_session_get_info(c->session, &i);
    cli_before_output();
    for (k = 0; k < sizeof reqs / sizeof reqs[0]; k++) {
        st[k] = status_of(&reqs[k], &d, i.features, direct_tls);
        out_begin(&r);
        out_str(&r, "kind", "requirement");
        out_str(&r, "suite", reqs[k].suite);
        out_str(&r, "feature", reqs[k].feature);
        out_str(&r, "spec", reqs[k].spec);
        out_str(&r, "level", reqs[k].levels & LVL_SERVER ? "Server"
                                                         : "Advanced Server");
        out_str(&r, "status", st[k]);
        out_line(&r, "xep-0479", "%s: %s (%s, %s): %s", reqs[k].suite,
                 reqs[k].feature, reqs[k].spec,
                 reqs[k].levels & LVL_SERVER ? "Server" : "Advanced Server",
                 st[k]);
        out_print(c->o.format, &r);
    }
    summary(c->o.format, st);
    xmp_session_close(c->session);
    end = xmp_now_ms() + COMPLIANCE_CLOSE_MS;
    if ((sig = cli_check_drive(c, cli_check_until_closed, &end)) > 0)
        rc = EXIT_SIGNAL_BASE + sig;
out:
    xmp_session_free(c->session);
    c->session = NULL;
    cli_secret_wipe(&c->secret);
    free(d.server);
    free(d.account);
    free(d.items);
    free(bare);
    return rc;
}
