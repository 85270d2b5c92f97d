/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * pubsub_out.c - what pubsub prints and the forms it sends: a record per
 * thing the service lists (an item, a field of a data form, an element's
 * attributes) in each format of --format; an error with its PubSub
 * condition; a submitted data form (XEP-0004) built from KEY=VALUE pairs.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define NS_PUBSUB "http://jabber.org/protocol/pubsub"
#define NS_DATA "jabber:x:data"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
/* the values of a field shown, at most */
#define FIELD_MAX_VALUES 64

/* ---- errors ------------------------------------------------------------- */

/* "condition, pubsub-condition [feature] (text)": the stanza error and
 * its application-specific condition (XEP-0060 §7, pubsub#errors). */
void pubsub_describe(const struct xmp_node *reply, char *buf, size_t len)
{
    const struct xmp_node *e = xmp_node_child(reply, NULL, "error"), *c;
    const char *cond = NULL, *app = NULL, *feature = NULL;
    char *text = NULL;

    for (c = e ? xmp_node_first(e) : NULL; c; c = xmp_node_next(c)) {
        if (strcmp(xmp_node_ns(c), NS_STANZAS) != 0) {
            if (!app) {
                app = xmp_node_name(c);
                feature = xmp_node_attr(c, "feature");
            }
        } else if (strcmp(xmp_node_name(c), "text") == 0) {
            if (!text)
                text = xmp_node_text(c);
        } else if (!cond) {
            cond = xmp_node_name(c);
        }
    }
    snprintf(buf, len, "%s%s%s%s%s%s%s%s",
             cond ? cond : "undefined-condition", app ? ", " : "",
             app ? app : "", feature ? " " : "", feature ? feature : "",
             text && *text ? " (" : "", text && *text ? text : "",
             text && *text ? ")" : "");
    free(text);
}

/* ---- printing ------------------------------------------------------------ */

int pubsub_print(enum out_format format, const struct out_record *r)
{
    cli_before_output();
    if (out_print(format, r) < 0 || fflush(stdout) != 0) {
        cli_error("cannot write output");
        return -1;
    }
    return 0;
}

/* A node's item: its id and its payload on one line. */
int pubsub_print_item(enum out_format format, const char *service,
                      const char *node, const struct xmp_node *item)
{
    const struct xmp_node *pl = xmp_node_first(item);
    const char *id = xmp_node_attr(item, "id");
    char *xml = xmp_node_to_line(item, NS_PUBSUB),
         *payload = pl ? xmp_node_to_line(pl, NS_PUBSUB) : NULL;
    char *line = NULL;
    struct out_record r;
    int rc = -1;

    if (!xml || (pl && !payload) ||
        asprintf(&line, "%s %s", id ? id : "-", payload ? payload : "-") <
            0) {
        line = NULL;
        cli_error("out of memory");
        goto out;
    }
    out_begin(&r);
    r.text = line;
    out_str(&r, "kind", "item");
    out_str(&r, "service", service);
    out_str(&r, "node", node);
    out_str(&r, "id", id);
    out_str(&r, "publisher", xmp_node_attr(item, "publisher"));
    out_str(&r, "payload", payload);
    r.xml = xml;
    rc = pubsub_print(format, &r);
out:
    free(line);
    free(payload);
    free(xml);
    return rc;
}

/* A field of a data form (XEP-0004): its var and values. */
static int print_field(enum out_format format, const struct xmp_node *f)
{
    const char *var = xmp_node_attr(f, "var"), *type = xmp_node_attr(f, "type");
    const struct xmp_node *v;
    char *values[FIELD_MAX_VALUES], *xml = xmp_node_to_line(f, NS_DATA);
    struct out_record r;
    size_t n = 0, k;
    FILE *t;
    char *line = NULL;
    size_t len = 0;
    int rc = -1;

    if (!var || (type && strcmp(type, "fixed") == 0)) {
        free(xml);
        return 0;
    }
    for (v = xmp_node_first(f); v && n < FIELD_MAX_VALUES;
         v = xmp_node_next(v))
        if (strcmp(xmp_node_name(v), "value") == 0 &&
            (values[n] = xmp_node_text(v)))
            n++;
    if (!xml || !(t = open_memstream(&line, &len))) {
        cli_error("out of memory");
        goto out;
    }
    fprintf(t, "%s", var);
    for (k = 0; k < n; k++)
        fprintf(t, "%s%s", k ? ", " : " = ", values[k]);
    if (fclose(t) != 0 || !line) {
        cli_error("out of memory");
        goto out;
    }
    out_begin(&r);
    r.text = line;
    out_str(&r, "kind", "field");
    out_str(&r, "var", var);
    out_str(&r, "type", type);
    out_str(&r, "label", xmp_node_attr(f, "label"));
    out_list(&r, "values", (const char *const *)values, n);
    r.xml = xml;
    rc = pubsub_print(format, &r);
out:
    for (k = 0; k < n; k++)
        free(values[k]);
    free(line);
    free(xml);
    return rc;
}

int pubsub_print_form(enum out_format format, const struct xmp_node *x)
{
    const struct xmp_node *f;

    for (f = x ? xmp_node_first(x) : NULL; f; f = xmp_node_next(f))
        if (strcmp(xmp_node_name(f), "field") == 0 &&
            print_field(format, f) < 0)
            return -1;
    return 0;
}

/* A record of attributes: kind, then each attribute named in keys (their
 * text form "value value ..."). */
int pubsub_print_attrs(enum out_format format, const char *service,
                       const char *kind,
                       const struct xmp_node *el, const char *const *keys,
                       size_t nkeys, const char *node)
{
    struct out_record r;
    char *xml = xmp_node_to_line(el, NULL), *line = NULL;
    size_t len = 0, i;
    FILE *t;
    int rc = -1;

    if (!xml || !(t = open_memstream(&line, &len))) {
        free(xml);
        cli_error("out of memory");
        return -1;
    }
    out_begin(&r);
    out_str(&r, "kind", kind);
    out_str(&r, "service", service);
    if (node && !xmp_node_attr(el, "node"))
        out_str(&r, "node", node);
    fputs(node && !xmp_node_attr(el, "node") ? node : "", t);
    for (i = 0; i < nkeys; i++) {
        const char *v = xmp_node_attr(el, keys[i]);

        out_str(&r, keys[i], v);
        if (v)
            fprintf(t, "%s%s", ftell(t) ? "  " : "", v);
    }
    if (fclose(t) != 0 || !line) {
        cli_error("out of memory");
        goto out;
    }
    r.text = line;
    r.xml = xml;
    rc = pubsub_print(format, &r);
out:
    free(line);
    free(xml);
    return rc;
}

int pubsub_print_children(enum out_format format, const char *service,
                          const struct xmp_node *parent,
                          const char *name, const char *kind,
                          const char *const *keys, size_t nkeys)
{
    const struct xmp_node *c;
    const char *node = parent ? xmp_node_attr(parent, "node") : NULL;

    for (c = parent ? xmp_node_first(parent) : NULL; c; c = xmp_node_next(c))
        if (strcmp(xmp_node_name(c), name) == 0 &&
            pubsub_print_attrs(format, service, kind, c, keys, nkeys,
                               node) < 0)
            return -1;
    return 0;
}

/* <x type='submit'/> of form_type with the fields of kv (a key given
 * more than once: one field, its values in order). */
int pubsub_add_form(struct xmp_node *parent, const char *form_type,
                    const struct pubsub_kv *kv, size_t n)
{
    struct xmp_node *x = xmp_node_add_child(parent, NS_DATA, "x", NULL),
                    *f, *v;
    size_t i, k;

    if (!x || xmp_node_set_attr(x, "type", "submit", NULL) != XMP_OK ||
        !(f = xmp_node_add_child(x, NS_DATA, "field", NULL)) ||
        xmp_node_set_attr(f, "var", "FORM_TYPE", NULL) != XMP_OK ||
        xmp_node_set_attr(f, "type", "hidden", NULL) != XMP_OK ||
        !(v = xmp_node_add_child(f, NS_DATA, "value", NULL)) ||
        xmp_node_add_text(v, form_type, strlen(form_type), NULL) != XMP_OK)
        return -1;
    for (i = 0; i < n; i++) {
        for (k = 0; k < i; k++)
            if (strcmp(kv[k].key, kv[i].key) == 0)
                break;
        if (k < i)
            continue; /* added with the first */
        if (!(f = xmp_node_add_child(x, NS_DATA, "field", NULL)) ||
            xmp_node_set_attr(f, "var", kv[i].key, NULL) != XMP_OK)
            return -1;
        for (k = i; k < n; k++)
            if (strcmp(kv[k].key, kv[i].key) == 0 &&
                (!(v = xmp_node_add_child(f, NS_DATA, "value", NULL)) ||
                 xmp_node_add_text(v, kv[k].value, strlen(kv[k].value),
                                   NULL) != XMP_OK))
                return -1;
    }
    return 0;
}
