/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/*
 * node.c - element trees (struct xmp_node, xmp.h): building them with
 * every input checked, looking things up, and writing them out.
 *
 * Children of an element are a singly linked list in document order;
 * a text child is a node without a name.  Consecutive text is merged
 * into one text node, so expat's many small character-data calls cost
 * amortized linear time.
 */
#include "xmp.h"
#include "buf.h"
#include "utf8.h"
#include "xml.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Namespaces in XML 1.0 §3: these two are bound to the prefixes "xml"
 * and "xmlns" and may never be a default namespace. */
#define NS_XML "http://www.w3.org/XML/1998/namespace"
#define NS_XMLNS "http://www.w3.org/2000/xmlns/"

/* The prefix written for the namespace of an attribute name. */
#define ATTR_PREFIX "ns"

struct attr {
    char *name;  /* "local", "xml:local" or "URI local" */
    char *value;
};

struct xmp_node {
    struct xmp_node *next; /* next sibling */
    struct xmp_node *parent; /* NULL for a tree's root */
    char *ns;              /* "" for no namespace */
    char *name;            /* NULL: this is a text node */
    struct attr *attrs;
    size_t nattrs, attrs_cap;
    struct xmp_node *first, *last; /* children */
    struct buf text;               /* text nodes only */
};

/* ---- names ----------------------------------------------------------- */

/* XML 1.0 (fifth edition) §2.3 [4] NameStartChar, without the colon
 * (Namespaces in XML 1.0 §3 [4] NCName). */
static int name_start_char(uint32_t c)
{
    return (c >= 'A' && c <= 'Z') || c == '_' || (c >= 'a' && c <= 'z') ||
           (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) ||
           (c >= 0xF8 && c <= 0x2FF) || (c >= 0x370 && c <= 0x37D) ||
           (c >= 0x37F && c <= 0x1FFF) || (c >= 0x200C && c <= 0x200D) ||
           (c >= 0x2070 && c <= 0x218F) || (c >= 0x2C00 && c <= 0x2FEF) ||
           (c >= 0x3001 && c <= 0xD7FF) || (c >= 0xF900 && c <= 0xFDCF) ||
           (c >= 0xFDF0 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0xEFFFF);
}

/* XML 1.0 (fifth edition) §2.3 [4a] NameChar, without the colon. */
static int name_char(uint32_t c)
{
    return name_start_char(c) || c == '-' || c == '.' ||
           (c >= '0' && c <= '9') || c == 0xB7 ||
           (c >= 0x300 && c <= 0x36F) || (c >= 0x203F && c <= 0x2040);
}

/* Check that s[0..len) is an NCName; what says whose name it is. */
static enum xmp_err check_ncname(const char *s, size_t len, const char *what,
                                 struct xmp_error *err)
{
    const unsigned char *p = (const unsigned char *)s;
    struct xmp_error why;
    enum utf8_status st;
    size_t i = 0, n;
    uint32_t cp;

    if (len == 0)
        return xmp_error_set(err, XMP_EDATA, "invalid %s name: empty", what);
    while (i < len) {
        st = utf8_next(p + i, len - i, &cp, &n);
        if (st != U8_OK) {
            utf8_error(&why, st, i, cp);
            return xmp_error_set(err, XMP_EDATA, "invalid %s name: %s", what,
                                 why.msg);
        }
        if (i == 0 ? !name_start_char(cp) : !name_char(cp))
            return xmp_error_set(err, XMP_EDATA,
                                 "invalid %s name: character U+%04" PRIX32
                                 " not allowed at byte %zu", what, cp, i);
        i += n;
    }
    return XMP_OK;
}

/* A namespace name: any XML text, but no space (it would be ambiguous in
 * the "URI local" form) and neither reserved namespace. */
static enum xmp_err check_ns(const char *ns, size_t len, struct xmp_error *err)
{
    struct xmp_error why;

    if (xmp_xml_check_text(ns, len, &why) != XMP_OK)
        return xmp_error_set(err, XMP_EDATA, "invalid namespace: %s",
                             why.msg);
    if (memchr(ns, ' ', len))
        return xmp_error_set(err, XMP_EDATA,
                             "invalid namespace: contains a space");
    if ((len == strlen(NS_XML) && memcmp(ns, NS_XML, len) == 0) ||
        (len == strlen(NS_XMLNS) && memcmp(ns, NS_XMLNS, len) == 0))
        return xmp_error_set(err, XMP_EDATA,
                             "invalid namespace: %.*s is reserved "
                             "(Namespaces in XML 1.0 §3)", (int)len, ns);
    return XMP_OK;
}

/*
 * Check an attribute name and return it in its stored form, which is
 * the same except that "NS_XML local" becomes "xml:local".  *out is the
 * caller's to free.
 */
static enum xmp_err attr_name_norm(const char *name, char **out,
                                   struct xmp_error *err)
{
    const char *sp = strchr(name, ' ');
    enum xmp_err rc;
    size_t len;

    *out = NULL;
    if (sp) {
        len = (size_t)(sp - name);
        if (len == 0)
            return xmp_error_set(err, XMP_EDATA,
                                 "invalid attribute name: empty namespace");
        rc = check_ncname(sp + 1, strlen(sp + 1), "attribute", err);
        if (rc != XMP_OK)
            return rc;
        if (len == strlen(NS_XML) && memcmp(name, NS_XML, len) == 0) {
            len = strlen(sp + 1);
            *out = malloc(len + 5);
            if (!*out)
                return xmp_error_set(err, XMP_ENOMEM, "out of memory");
            memcpy(*out, "xml:", 4);
            memcpy(*out + 4, sp + 1, len + 1);
            return XMP_OK;
        }
        rc = check_ns(name, len, err);
        if (rc != XMP_OK)
            return rc;
    } else if (strncmp(name, "xml:", 4) == 0) {
        rc = check_ncname(name + 4, strlen(name + 4), "attribute", err);
        if (rc != XMP_OK)
            return rc;
    } else {
        rc = check_ncname(name, strlen(name), "attribute", err);
        if (rc != XMP_OK)
            return rc;
        /* Namespace declarations follow from the tree's namespaces. */
        if (strcmp(name, "xmlns") == 0)
            return xmp_error_set(err, XMP_EDATA,
                                 "invalid attribute name: xmlns is reserved");
    }
    *out = strdup(name);
    if (!*out)
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    return XMP_OK;
}

/* Does the stored attribute name equal name as a caller may spell it? */
static int attr_name_eq(const char *stored, const char *name)
{
    if (strncmp(name, NS_XML " ", sizeof NS_XML) == 0)
        return strncmp(stored, "xml:", 4) == 0 &&
               strcmp(stored + 4, name + sizeof NS_XML) == 0;
    return strcmp(stored, name) == 0;
}

/* ---- building ---------------------------------------------------------- */

static void node_free_one(struct xmp_node *n)
{
    size_t i;

    for (i = 0; i < n->nattrs; i++) {
        free(n->attrs[i].name);
        free(n->attrs[i].value);
    }
    free(n->attrs);
    free(n->ns);
    free(n->name);
    buf_free(&n->text);
    free(n);
}

/* Iterative, so that freeing never depends on the depth of the tree. */
void xmp_node_free(struct xmp_node *n)
{
    struct xmp_node *cur, *next;

    if (!n)
        return;
    cur = n->first;
    node_free_one(n);
    while (cur) {
        if (cur->first) {
            /* Splice the children in right after cur. */
            cur->last->next = cur->next;
            cur->next = cur->first;
        }
        next = cur->next;
        node_free_one(cur);
        cur = next;
    }
}

struct xmp_node *xmp_node_new(const char *ns, const char *name,
                              struct xmp_error *err)
{
    struct xmp_node *n;

    if (!ns)
        ns = "";
    if (!name) {
        xmp_error_set(err, XMP_EDATA, "invalid element name: missing");
        return NULL;
    }
    if (check_ns(ns, strlen(ns), err) != XMP_OK ||
        check_ncname(name, strlen(name), "element", err) != XMP_OK)
        return NULL;
    n = calloc(1, sizeof *n);
    if (!n)
        goto nomem;
    n->ns = strdup(ns);
    n->name = strdup(name);
    if (!n->ns || !n->name)
        goto nomem;
    return n;

nomem:
    if (n)
        node_free_one(n);
    xmp_error_set(err, XMP_ENOMEM, "out of memory");
    return NULL;
}

static void append_child(struct xmp_node *parent, struct xmp_node *child)
{
    child->next = NULL;
    child->parent = parent;
    if (parent->last)
        parent->last->next = child;
    else
        parent->first = child;
    parent->last = child;
}

struct xmp_node *xmp_node_add_child(struct xmp_node *parent, const char *ns,
                                    const char *name, struct xmp_error *err)
{
    struct xmp_node *n;

    if (!parent || !parent->name) {
        xmp_error_set(err, XMP_EUSAGE, "no parent element");
        return NULL;
    }
    n = xmp_node_new(ns, name, err);
    if (n)
        append_child(parent, n);
    return n;
}

enum xmp_err xmp_node_append(struct xmp_node *parent, struct xmp_node *child)
{
    const struct xmp_node *a;

    /* Only a root may be adopted, and never by its own descendant: a
     * node in two places would be freed twice, a cycle never ends. */
    if (!parent || !child || !parent->name || !child->name || child->parent)
        return XMP_EUSAGE;
    for (a = parent; a; a = a->parent)
        if (a == child)
            return XMP_EUSAGE;
    append_child(parent, child);
    return XMP_OK;
}

/* What malloc(n) takes from the heap: glibc's chunk (an 8-byte header,
 * 16-byte alignment, 32 bytes at least); a fair model of others. */
static size_t alloc_cost(size_t n)
{
    n = (n + 8 + 15) & ~(size_t)15;
    return n < 32 ? 32 : n;
}

size_t node_mem(const struct xmp_node *n)
{
    size_t m, i;

    if (!n)
        return 0;
    m = alloc_cost(sizeof *n);
    if (n->ns)
        m += alloc_cost(strlen(n->ns) + 1);
    if (n->name)
        m += alloc_cost(strlen(n->name) + 1);
    if (n->attrs)
        m += alloc_cost(n->attrs_cap * sizeof *n->attrs);
    for (i = 0; i < n->nattrs; i++)
        m += alloc_cost(strlen(n->attrs[i].name) + 1) +
             alloc_cost(strlen(n->attrs[i].value) + 1);
    if (n->text.data)
        m += alloc_cost(n->text.cap);
    return m;
}

size_t node_mem_last_text(const struct xmp_node *parent)
{
    return parent && parent->last && !parent->last->name
               ? node_mem(parent->last)
               : 0;
}

enum xmp_err xmp_node_add_text(struct xmp_node *n, const char *text,
                               size_t len, struct xmp_error *err)
{
    struct xmp_node *t;
    enum xmp_err rc;

    if (!n || !n->name || (!text && len))
        return xmp_error_set(err, XMP_EUSAGE, "no element to add text to");
    rc = xmp_xml_check_text(text, len, err);
    if (rc != XMP_OK || len == 0)
        return rc;
    if (n->last && !n->last->name) {
        if (buf_append(&n->last->text, text, len) < 0)
            return xmp_error_set(err, XMP_ENOMEM, "out of memory");
        return XMP_OK;
    }
    t = calloc(1, sizeof *t);
    if (!t || buf_append(&t->text, text, len) < 0) {
        free(t);
        return xmp_error_set(err, XMP_ENOMEM, "out of memory");
    }
    append_child(n, t);
    return XMP_OK;
}

enum xmp_err xmp_node_set_attr(struct xmp_node *n, const char *name,
                               const char *value, struct xmp_error *err)
{
    struct attr *a;
    char *norm = NULL, *val = NULL;
    enum xmp_err rc;
    size_t i, cap;

    if (!n || !n->name || !name || !value)
        return xmp_error_set(err, XMP_EUSAGE, "no attribute to set");
    rc = attr_name_norm(name, &norm, err);
    if (rc != XMP_OK)
        goto out;
    rc = xmp_xml_check_text(value, strlen(value), err);
    if (rc != XMP_OK)
        goto out;
    val = strdup(value);
    if (!val) {
        rc = xmp_error_set(err, XMP_ENOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < n->nattrs; i++) {
        if (strcmp(n->attrs[i].name, norm) == 0) {
            free(n->attrs[i].value);
            n->attrs[i].value = val;
            val = NULL;
            goto out;
        }
    }
    if (n->nattrs == n->attrs_cap) {
        cap = n->attrs_cap ? n->attrs_cap * 2 : 4;
        a = reallocarray(n->attrs, cap, sizeof *a);
        if (!a) {
            rc = xmp_error_set(err, XMP_ENOMEM, "out of memory");
            goto out;
        }
        n->attrs = a;
        n->attrs_cap = cap;
    }
    n->attrs[n->nattrs].name = norm;
    n->attrs[n->nattrs].value = val;
    n->nattrs++;
    norm = val = NULL;

out:
    free(norm);
    free(val);
    return rc;
}

/* ---- queries ------------------------------------------------------------ */

const char *xmp_node_ns(const struct xmp_node *n)
{
    return n ? n->ns : NULL;
}

const char *xmp_node_name(const struct xmp_node *n)
{
    return n ? n->name : NULL;
}

const char *xmp_node_attr(const struct xmp_node *n, const char *name)
{
    size_t i;

    if (!n || !name)
        return NULL;
    for (i = 0; i < n->nattrs; i++)
        if (attr_name_eq(n->attrs[i].name, name))
            return n->attrs[i].value;
    return NULL;
}

int xmp_node_attr_at(const struct xmp_node *n, size_t i, const char **name,
                     const char **value)
{
    if (!n || i >= n->nattrs)
        return 0;
    if (name)
        *name = n->attrs[i].name;
    if (value)
        *value = n->attrs[i].value;
    return 1;
}

static struct xmp_node *skip_text(struct xmp_node *c)
{
    while (c && !c->name)
        c = c->next;
    return c;
}

struct xmp_node *xmp_node_first(const struct xmp_node *n)
{
    return n ? skip_text(n->first) : NULL;
}

struct xmp_node *xmp_node_next(const struct xmp_node *n)
{
    return n ? skip_text(n->next) : NULL;
}

struct xmp_node *xmp_node_child(const struct xmp_node *n, const char *ns,
                                const char *name)
{
    struct xmp_node *c;

    for (c = xmp_node_first(n); c; c = xmp_node_next(c))
        if ((!ns || strcmp(c->ns, ns) == 0) &&
            (!name || strcmp(c->name, name) == 0))
            return c;
    return NULL;
}

char *xmp_node_text(const struct xmp_node *n)
{
    struct buf b = BUF_INIT;
    const struct xmp_node *c;

    for (c = n ? n->first : NULL; c; c = c->next) {
        if (!c->name && buf_append(&b, c->text.data, c->text.len) < 0) {
            buf_free(&b);
            return NULL;
        }
    }
    return buf_take(&b);
}

/* ---- writing -------------------------------------------------------- */

enum xmp_err xml_escape(struct buf *out, const char *s, size_t len, int mode,
                        struct xmp_error *err)
{
    int attr = mode == XML_ESC_ATTR;
    size_t i, run = 0, orig = out->len;
    const char *rep;
    enum xmp_err rc;

    rc = xmp_xml_check_text(s, len, err);
    if (rc != XMP_OK || len == 0)
        return rc;
    for (i = 0; i < len; i++) {
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        /* ">" only matters in text, where "]]>" is not allowed. */
        case '>': rep = attr ? NULL : "&gt;"; break;
        case '\'': rep = attr ? "&apos;" : NULL; break;
        case '"': rep = attr ? "&quot;" : NULL; break;
        /* XML 1.0 §3.3.3: attribute values have their whitespace
         * normalized, so keep it as character references. */
        case '\t': rep = attr ? "&#9;" : NULL; break;
        case '\n': rep = mode != XML_ESC_TEXT ? "&#10;" : NULL; break;
        /* XML 1.0 §2.11: a literal CR would become LF. */
        case '\r': rep = "&#13;"; break;
        default: rep = NULL; break;
        }
        if (!rep)
            continue;
        if (buf_append(out, s + run, i - run) < 0 || buf_puts(out, rep) < 0)
            goto nomem;
        run = i + 1;
    }
    if (buf_append(out, s + run, len - run) < 0)
        goto nomem;
    return XMP_OK;

nomem:
    out->len = orig;
    if (out->data)
        out->data[orig] = '\0';
    return xmp_error_set(err, XMP_ENOMEM, "out of memory");
}


/* The namespace part of a "URI local" attribute name, or NULL. */
static const char *attr_uri(const char *name, size_t *len)
{
    const char *sp = strchr(name, ' ');

    if (!sp)
        return NULL;
    *len = (size_t)(sp - name);
    return name;
}

/*
 * Write the attributes of n.  A "URI local" name gets a prefix declared
 * on this element: ns1 for the first namespace, ns2 for the next, and
 * an attribute in a namespace already seen reuses its prefix.  pfx holds
 * the prefix number of each attribute.
 */
static int write_attrs(struct buf *b, const struct xmp_node *n, unsigned *pfx)
{
    const char *uri, *uj;
    size_t i, j, len, lj;
    unsigned next = 1;

    for (i = 0; i < n->nattrs; i++) {
        const struct attr *a = &n->attrs[i];

        uri = attr_uri(a->name, &len);
        if (!uri) {
            if (buf_printf(b, " %s='", a->name) < 0)
                return -1;
        } else {
            pfx[i] = 0;
            for (j = 0; j < i && !pfx[i]; j++) {
                uj = attr_uri(n->attrs[j].name, &lj);
                if (uj && lj == len && memcmp(uj, uri, len) == 0)
                    pfx[i] = pfx[j];
            }
            if (!pfx[i]) {
                pfx[i] = next++;
                if (buf_printf(b, " xmlns:" ATTR_PREFIX "%u='", pfx[i]) < 0 ||
                    xml_escape(b, uri, len, XML_ESC_ATTR, NULL) != XMP_OK ||
                    buf_puts(b, "'") < 0)
                    return -1;
            }
            if (buf_printf(b, " " ATTR_PREFIX "%u:%s='", pfx[i],
                           a->name + len + 1) < 0)
                return -1;
        }
        if (xml_escape(b, a->value, strlen(a->value), XML_ESC_ATTR, NULL) !=
                XMP_OK ||
            buf_puts(b, "'") < 0)
            return -1;
    }
    return 0;
}

/* Recursive: trees from the network are at most XML_MAX_DEPTH deep. */
static int write_node(struct buf *b, const struct xmp_node *n,
                      const char *scope_ns, int text_mode)
{
    const struct xmp_node *c;
    unsigned *pfx = NULL;
    int rc = -1;

    if (!n->name)
        return xml_escape(b, n->text.data, n->text.len, text_mode, NULL) ==
                       XMP_OK
                   ? 0 : -1;
    if (n->nattrs) {
        pfx = calloc(n->nattrs, sizeof *pfx);
        if (!pfx)
            goto out;
    }
    if (buf_printf(b, "<%s", n->name) < 0)
        goto out;
    /* Namespaces in XML 1.0 §6.2: declare the default only where it
     * changes. */
    if (strcmp(n->ns, scope_ns) != 0) {
        if (buf_puts(b, " xmlns='") < 0 ||
            xml_escape(b, n->ns, strlen(n->ns), XML_ESC_ATTR, NULL) != XMP_OK ||
            buf_puts(b, "'") < 0)
            goto out;
    }
    if (write_attrs(b, n, pfx) < 0)
        goto out;
    if (!n->first) {
        rc = buf_puts(b, "/>");
        goto out;
    }
    if (buf_puts(b, ">") < 0)
        goto out;
    for (c = n->first; c; c = c->next)
        if (write_node(b, c, n->ns, text_mode) < 0)
            goto out;
    rc = buf_printf(b, "</%s>", n->name);

out:
    free(pfx);
    return rc;
}

static char *serialize(const struct xmp_node *n, const char *parent_ns,
                       int text_mode)
{
    struct buf b = BUF_INIT;

    if (!n || !n->name)
        return NULL;
    if (write_node(&b, n, parent_ns ? parent_ns : "", text_mode) < 0) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b);
}

char *xmp_node_to_string(const struct xmp_node *n, const char *parent_ns)
{
    return serialize(n, parent_ns, XML_ESC_TEXT);
}

char *xmp_node_to_line(const struct xmp_node *n, const char *parent_ns)
{
    return serialize(n, parent_ns, XML_ESC_LINE);
}
