/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * parse.c - XML from callers (typed at a prompt, given as arguments,
 * piped in): the stream reader in fragment mode, so the same rules and
 * limits apply as to what a server sends.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "xml.h"
#include "xmp.h"

struct xmp_parser {
    struct xml_reader *rd;
    xmp_element_fn fn;
    void *ud;
    enum xmp_err stop; /* what fn returned when it stopped the parse */
};

static int on_element(void *ud, struct xmp_node *el)
{
    struct xmp_parser *p = ud;
    enum xmp_err r = p->fn(p->ud, el);

    if (r == XMP_OK)
        return 0;
    p->stop = r;
    return -1;
}

struct xmp_parser *xmp_parser_new(xmp_element_fn fn, void *ud)
{
    static const struct xml_reader_cb cb = { NULL, on_element, NULL };
    struct xmp_parser *p = calloc(1, sizeof *p);

    if (!p)
        return NULL;
    p->fn = fn;
    p->ud = ud;
    if (!(p->rd = xml_reader_new(&cb, p)) ||
        xml_reader_fragment(p->rd, NULL) != XMP_OK) {
        xmp_parser_free(p);
        return NULL;
    }
    return p;
}

void xmp_parser_free(struct xmp_parser *p)
{
    if (!p)
        return;
    xml_reader_free(p->rd);
    free(p);
}

/* The reader calls bad XML a protocol error; from a caller it is bad
 * input data. */
static enum xmp_err as_data(enum xmp_err r, struct xmp_error *err)
{
    if (r == XMP_EPROTO && err)
        err->code = XMP_EDATA;
    return r == XMP_EPROTO ? XMP_EDATA : r;
}

enum xmp_err xmp_parser_feed(struct xmp_parser *p, const char *buf,
                             size_t len, struct xmp_error *err)
{
    enum xmp_err r;
    size_t used;

    if (p->stop != XMP_OK)
        return xmp_error_set(err, p->stop, "parse stopped by its callback");
    r = xml_reader_feed(p->rd, buf, len, &used, err);
    if (r != XMP_OK && p->stop != XMP_OK)
        return xmp_error_set(err, p->stop, "parse stopped by its callback");
    return as_data(r, err);
}

enum xmp_err xmp_parser_end(struct xmp_parser *p, struct xmp_error *err)
{
    if (p->stop != XMP_OK)
        return xmp_error_set(err, p->stop, "parse stopped by its callback");
    return as_data(xml_reader_end(p->rd, err), err);
}

int xmp_parser_inside(const struct xmp_parser *p)
{
    return xml_reader_inside(p->rd);
}

struct one {
    struct xmp_node *el;
    int extra;
};

static enum xmp_err keep_one(void *ud, struct xmp_node *el)
{
    struct one *o = ud;

    if (o->el) {
        o->extra = 1;
        xmp_node_free(el);
        return XMP_EDATA;
    }
    o->el = el;
    return XMP_OK;
}

struct xmp_node *xmp_node_parse(const char *s, size_t len,
                                struct xmp_error *err)
{
    struct one o = { NULL, 0 };
    struct xmp_parser *p = xmp_parser_new(keep_one, &o);
    enum xmp_err r;

    if (!p) {
        xmp_error_set(err, XMP_ENOMEM, "out of memory");
        return NULL;
    }
    r = xmp_parser_feed(p, s, len, err);
    if (r == XMP_OK)
        r = xmp_parser_end(p, err);
    xmp_parser_free(p);
    if (o.extra)
        xmp_error_set(err, XMP_EDATA, "more than one element");
    else if (r == XMP_OK && !o.el)
        r = xmp_error_set(err, XMP_EDATA, "no element");
    if (r != XMP_OK || o.extra) {
        xmp_node_free(o.el);
        return NULL;
    }
    return o.el;
}
