/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * script_match.c - does a received stanza match the one a script
 * expects, and if not, how do they differ.  The rules are those of
 * xmpctl-script(1), MATCHING: names and namespaces equal; the expected
 * attributes there with equal values ({scansion:any} and
 * {scansion:capture:NAME}: any value); text equal after trimming (none
 * expected: any, unless strict); each expected child matched by its own
 * received child, in any order; scansion:strict='true' forbids anything
 * more.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"

/* Above this many lines on either side, the diff shows both whole. */
#define SCRIPT_DIFF_MAX_LINES 2000

/* ---- a growing buffer ------------------------------------------------------ */

void sbuf_add(struct sbuf *b, const char *s, size_t len)
{
    char *t;
    size_t cap;

    if (b->failed)
        return;
    if (b->len + len + 1 > b->cap) {
        cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        if (!(t = realloc(b->text, cap))) {
            b->failed = 1;
            return;
        }
        b->text = t;
        b->cap = cap;
    }
    memcpy(b->text + b->len, s, len);
    b->len += len;
    b->text[b->len] = '\0';
}

void sbuf_puts(struct sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    char small[512], *big;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        sbuf_add(b, small, (size_t)n);
        return;
    }
    if (!(big = malloc((size_t)n + 1))) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sbuf_add(b, big, (size_t)n);
    free(big);
}

void sbuf_free(struct sbuf *b)
{
    free(b->text);
    memset(b, 0, sizeof *b);
}

/* ---- matching ------------------------------------------------------------ */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The element's own text without surrounding whitespace (XML's four
 * blanks); caller frees. */
static char *trimmed_text(const struct xmp_node *n)
{
    char *t = xmp_node_text(n), *p;
    size_t len;

    if (!t)
        return NULL;
    for (p = t; is_space(*p); p++)
        ;
    len = strlen(p);
    while (len && is_space(p[len - 1]))
        len--;
    memmove(t, p, len);
    t[len] = '\0';
    return t;
}

static int is_control_attr(const char *name)
{
    size_t n = strlen(SCRIPT_NS);

    return strncmp(name, SCRIPT_NS, n) == 0 && name[n] == ' ';
}

/* An attribute's name as a person writes it. */
static void attr_name(struct sbuf *b, const char *name)
{
    const char *sp = strrchr(name, ' ');

    if (!sp)
        sbuf_puts(b, name);
    else if (is_control_attr(name))
        sbuf_printf(b, "scansion:%s", sp + 1);
    else
        sbuf_printf(b, "{%.*s}%s", (int)(sp - name), name, sp + 1);
}

/* scansion:strict on e, else what its parent had. */
static int strict_of(const struct xmp_node *e, int inherited)
{
    const char *v = xmp_node_attr(e, SCRIPT_NS " strict");

    if (!v)
        return inherited;
    return strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

/* "{scansion:capture:NAME}": *name, *nlen set. */
static int capture_of(const char *v, const char **name, size_t *nlen)
{
    size_t n = strlen(SCRIPT_CAPTURE), len = strlen(v);

    if (len <= n + 1 || strncmp(v, SCRIPT_CAPTURE, n) != 0 || v[len - 1] != '}')
        return 0;
    *name = v + n;
    *nlen = len - n - 1;
    return 1;
}

/* An expected attribute value that any received one matches. */
static int any_value(const char *v)
{
    const char *name;
    size_t nlen;

    return strcmp(v, SCRIPT_ANY) == 0 || capture_of(v, &name, &nlen);
}

static int same_name(const struct xmp_node *a, const struct xmp_node *b)
{
    return strcmp(xmp_node_name(a), xmp_node_name(b)) == 0 &&
           strcmp(xmp_node_ns(a), xmp_node_ns(b)) == 0;
}

static int match_el(const struct xmp_node *exp, const struct xmp_node *got,
                    int strict_in, const char *path, struct sbuf *why);

static size_t count_children(const struct xmp_node *n)
{
    const struct xmp_node *c;
    size_t k = 0;

    for (c = xmp_node_first(n); c; c = xmp_node_next(c))
        k++;
    return k;
}

static int match_children(const struct xmp_node *exp,
                          const struct xmp_node *got, int strict,
                          const char *here, struct sbuf *why)
{
    size_t ngot = count_children(got), i;
    unsigned char *used = calloc(ngot + 1, 1);
    const struct xmp_node *ec, *gc, *best;
    int d = 0;

    if (!used) {
        if (why)
            sbuf_puts(why, "out of memory\n");
        return 1;
    }
    for (ec = xmp_node_first(exp); ec; ec = xmp_node_next(ec)) {
        best = NULL;
        for (gc = xmp_node_first(got), i = 0; gc;
             gc = xmp_node_next(gc), i++) {
            if (used[i])
                continue;
            if (match_el(ec, gc, strict, here, NULL) == 0)
                break;
            if (!best && same_name(ec, gc))
                best = gc;
        }
        if (gc) {
            used[i] = 1;
            continue;
        }
        d++;
        if (!why)
            continue;
        if (best) /* the likeliest counterpart says what differs */
            match_el(ec, best, strict, here, why);
        else
            sbuf_printf(why, "%s: no <%s xmlns='%s'> received\n", here,
                        xmp_node_name(ec), xmp_node_ns(ec));
    }
    if (strict)
        for (gc = xmp_node_first(got), i = 0; gc;
             gc = xmp_node_next(gc), i++) {
            if (used[i])
                continue;
            d++;
            if (why)
                sbuf_printf(why, "%s: <%s xmlns='%s'> received, not "
                                 "expected (strict)\n",
                            here, xmp_node_name(gc), xmp_node_ns(gc));
        }
    free(used);
    return d;
}

static int match_el(const struct xmp_node *exp, const struct xmp_node *got,
                    int strict_in, const char *path, struct sbuf *why)
{
    int strict = strict_of(exp, strict_in), d = 0;
    const char *name, *ev, *gv;
    char here[512], *et, *gt;
    size_t i;

    snprintf(here, sizeof here, "%s/%s", path, xmp_node_name(exp));
    if (!same_name(exp, got)) {
        if (why)
            sbuf_printf(why, "%s: <%s xmlns='%s'> expected, got <%s "
                             "xmlns='%s'>\n",
                        path[0] ? path : "/", xmp_node_name(exp),
                        xmp_node_ns(exp), xmp_node_name(got),
                        xmp_node_ns(got));
        return 1;
    }
    for (i = 0; xmp_node_attr_at(exp, i, &name, &ev); i++) {
        if (is_control_attr(name))
            continue;
        gv = xmp_node_attr(got, name);
        if (gv && (any_value(ev) || strcmp(ev, gv) == 0))
            continue;
        d++;
        if (!why)
            continue;
        sbuf_printf(why, "%s: attribute ", here);
        attr_name(why, name);
        if (gv)
            sbuf_printf(why, ": '%s' expected, got '%s'\n", ev, gv);
        else
            sbuf_printf(why, " missing ('%s' expected)\n", ev);
    }
    if (strict)
        for (i = 0; xmp_node_attr_at(got, i, &name, &gv); i++) {
            if (xmp_node_attr(exp, name))
                continue;
            d++;
            if (!why)
                continue;
            sbuf_printf(why, "%s: attribute ", here);
            attr_name(why, name);
            sbuf_printf(why, "='%s' received, not expected (strict)\n", gv);
        }
    et = trimmed_text(exp);
    gt = trimmed_text(got);
    if (!et || !gt) {
        d++;
        if (why)
            sbuf_puts(why, "out of memory\n");
    } else if (!*et && !strict) {
        /* no text expected outside strict: any text will do */
    } else if (strcmp(et, SCRIPT_ANY) != 0 && strcmp(et, gt) != 0) {
        d++;
        if (why)
            sbuf_printf(why, "%s: text '%s' expected, got '%s'\n", here, et,
                        gt);
    }
    free(et);
    free(gt);
    return d + match_children(exp, got, strict, here, why);
}

int script_match(const struct xmp_node *expected, const struct xmp_node *got,
                 struct sbuf *why)
{
    return match_el(expected, got, 0, "", why);
}

/* The captures of exp in got, which match; the children paired as
 * match_children pairs them. */
/* ---- captures: the values {scansion:capture:NAME} took ---------------- */

int script_vars_set(struct script_vars *v, const char *name, size_t nlen,
                    const char *value)
{
    long at = script_vars_find(v, name, nlen);
    char **t, *val = NULL;

    if (value && !(val = strdup(value)))
        return -1;
    if (at >= 0) {
        free(v->value[at]);
        v->value[at] = val;
        return 0;
    }
    if (!(t = realloc(v->name, (v->n + 1) * sizeof *t)))
        goto fail;
    v->name = t;
    if (!(t = realloc(v->value, (v->n + 1) * sizeof *t)))
        goto fail;
    v->value = t;
    if (!(v->name[v->n] = strndup(name, nlen)))
        goto fail;
    v->value[v->n++] = val;
    return 0;
fail:
    free(val);
    return -1;
}

long script_vars_find(const struct script_vars *v, const char *name,
                      size_t nlen)
{
    size_t i;

    for (i = 0; v && i < v->n; i++)
        if (strlen(v->name[i]) == nlen && memcmp(v->name[i], name, nlen) == 0)
            return (long)i;
    return -1;
}

void script_vars_free(struct script_vars *v)
{
    size_t i;

    for (i = 0; i < v->n; i++) {
        free(v->name[i]);
        free(v->value[i]);
    }
    free(v->name);
    free(v->value);
    memset(v, 0, sizeof *v);
}

static int capture_el(const struct xmp_node *exp, const struct xmp_node *got,
                      int strict_in, struct script_vars *vars)
{
    int strict = strict_of(exp, strict_in);
    size_t ngot = count_children(got), i, nlen;
    const struct xmp_node *ec, *gc;
    const char *name, *ev, *gv, *cap;
    unsigned char *used;
    int rc = 0;

    for (i = 0; xmp_node_attr_at(exp, i, &name, &ev); i++)
        if (capture_of(ev, &cap, &nlen) && (gv = xmp_node_attr(got, name)) &&
            script_vars_set(vars, cap, nlen, gv) < 0)
            return -1;
    if (!xmp_node_first(exp))
        return 0;
    if (!(used = calloc(ngot + 1, 1)))
        return -1;
    for (ec = xmp_node_first(exp); ec && rc == 0; ec = xmp_node_next(ec)) {
        for (gc = xmp_node_first(got), i = 0; gc;
             gc = xmp_node_next(gc), i++)
            if (!used[i] && match_el(ec, gc, strict, "", NULL) == 0)
                break;
        if (!gc)
            continue;
        used[i] = 1;
        rc = capture_el(ec, gc, strict, vars);
    }
    free(used);
    return rc;
}

int script_capture(const struct xmp_node *expected,
                   const struct xmp_node *got, struct script_vars *vars)
{
    return capture_el(expected, got, 0, vars);
}

/* ---- pretty printing -------------------------------------------------------- */

static void escaped(struct sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': sbuf_puts(b, "&amp;"); break;
        case '<': sbuf_puts(b, "&lt;"); break;
        case '>': sbuf_puts(b, "&gt;"); break;
        case '\'': sbuf_puts(b, "&apos;"); break;
        default: sbuf_add(b, s, 1);
        }
    }
}

struct attr {
    const char *name, *value;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct attr *)a)->name,
                  ((const struct attr *)b)->name);
}

static void indent(struct sbuf *b, int depth)
{
    int i;

    for (i = 0; i < depth; i++)
        sbuf_puts(b, "  ");
}

static void pretty(const struct xmp_node *n, const char *parent_ns,
                   int depth, struct sbuf *out)
{
    struct attr *a;
    const struct xmp_node *c;
    const char *name, *value;
    char *text = trimmed_text(n);
    size_t na = 0, i;

    for (na = 0; xmp_node_attr_at(n, na, &name, &value); na++)
        ;
    indent(out, depth);
    sbuf_printf(out, "<%s", xmp_node_name(n));
    if (strcmp(xmp_node_ns(n), parent_ns) != 0) {
        sbuf_puts(out, " xmlns='");
        escaped(out, xmp_node_ns(n));
        sbuf_puts(out, "'");
    }
    if (na && (a = calloc(na, sizeof *a))) {
        for (i = 0; i < na; i++)
            xmp_node_attr_at(n, i, &a[i].name, &a[i].value);
        qsort(a, na, sizeof *a, by_name);
        for (i = 0; i < na; i++) {
            sbuf_puts(out, " ");
            attr_name(out, a[i].name);
            sbuf_puts(out, "='");
            escaped(out, a[i].value);
            sbuf_puts(out, "'");
        }
        free(a);
    } else if (na) {
        out->failed = 1;
    }
    c = xmp_node_first(n);
    if (!c && (!text || !*text)) {
        sbuf_puts(out, "/>\n");
    } else if (!c) {
        sbuf_puts(out, ">");
        escaped(out, text);
        sbuf_printf(out, "</%s>\n", xmp_node_name(n));
    } else {
        sbuf_puts(out, ">\n");
        if (text && *text) {
            indent(out, depth + 1);
            escaped(out, text);
            sbuf_puts(out, "\n");
        }
        for (; c; c = xmp_node_next(c))
            pretty(c, xmp_node_ns(n), depth + 1, out);
        indent(out, depth);
        sbuf_printf(out, "</%s>\n", xmp_node_name(n));
    }
    free(text);
}

void script_pretty(const struct xmp_node *n, struct sbuf *out)
{
    pretty(n, "jabber:client", 0, out);
}

/* ---- the diff ---------------------------------------------------------------- */

struct lines {
    const char **p;
    size_t *len, n;
};

static int split(const char *s, struct lines *l)
{
    const char *nl;
    size_t k = 0, n = 0;

    for (nl = s; *nl; nl++)
        n += *nl == '\n';
    n++;
    l->p = calloc(n, sizeof *l->p);
    l->len = calloc(n, sizeof *l->len);
    if (!l->p || !l->len)
        return -1;
    while (*s) {
        nl = strchr(s, '\n');
        l->p[k] = s;
        l->len[k] = nl ? (size_t)(nl - s) : strlen(s);
        k++;
        s = nl ? nl + 1 : s + strlen(s);
    }
    l->n = k;
    return 0;
}

static int same_line(const struct lines *a, size_t i, const struct lines *b,
                     size_t j)
{
    return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

static void put_line(struct sbuf *out, const char *mark, const char *p,
                     size_t len)
{
    sbuf_puts(out, mark);
    sbuf_add(out, p, len);
    sbuf_puts(out, "\n");
}

void script_diff(const char *a, const char *b, struct sbuf *out)
{
    struct lines la = { NULL, NULL, 0 }, lb = { NULL, NULL, 0 };
    unsigned *t = NULL;
    size_t i, j, w;

    if (split(a, &la) < 0 || split(b, &lb) < 0 ||
        la.n > SCRIPT_DIFF_MAX_LINES || lb.n > SCRIPT_DIFF_MAX_LINES ||
        !(t = calloc((la.n + 1) * (lb.n + 1), sizeof *t))) {
        for (i = 0; i < la.n; i++)
            put_line(out, "- ", la.p[i], la.len[i]);
        for (j = 0; j < lb.n; j++)
            put_line(out, "+ ", lb.p[j], lb.len[j]);
        goto out;
    }
    /* t[i][j]: the longest common subsequence of a[i..] and b[j..] */
    w = lb.n + 1;
    for (i = la.n; i-- > 0;)
        for (j = lb.n; j-- > 0;)
            t[i * w + j] = same_line(&la, i, &lb, j)
                               ? t[(i + 1) * w + j + 1] + 1
                           : t[(i + 1) * w + j] > t[i * w + j + 1]
                               ? t[(i + 1) * w + j]
                               : t[i * w + j + 1];
    i = j = 0;
    while (i < la.n || j < lb.n) {
        if (i < la.n && j < lb.n && same_line(&la, i, &lb, j)) {
            put_line(out, "  ", la.p[i], la.len[i]);
            i++, j++;
        } else if (i < la.n &&
                   (j == lb.n || t[(i + 1) * w + j] >= t[i * w + j + 1])) {
            put_line(out, "- ", la.p[i], la.len[i]);
            i++;
        } else {
            put_line(out, "+ ", lb.p[j], lb.len[j]);
            j++;
        }
    }
out:
    free(t);
    free(la.p);
    free(la.len);
    free(lb.p);
    free(lb.len);
}
