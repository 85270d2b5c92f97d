/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_xml.c - the stream reader on untrusted bytes.
 *
 * The input is fed after a stream header, split into chunks at points
 * chosen by its first byte.  Every tree the reader yields must serialize,
 * and the serialization must read back to the same serialization (the
 * writer never produces what the reader refuses).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "xml.h"

static const char header[] =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

struct ctx {
    char *last; /* serialization of the last tree read */
};

static int on_start(void *ud, const char *ns, const char *name,
                    const char **attrs)
{
    (void)name; (void)ns; (void)ud; (void)attrs;

    return 0;
}

static int on_element(void *ud, struct xmp_node *el)
{
    struct ctx *c = ud;

    free(c->last);
    c->last = xmp_node_to_string(el, "jabber:client");
    xmp_node_free(el);
    return 0;
}

static void on_end(void *ud)
{
    (void)ud;
}

static const struct xml_reader_cb cb = {on_start, on_element, on_end};

static void roundtrip(const char *xml)
{
    struct ctx c = {NULL};
    struct xml_reader *r = xml_reader_new(&cb, &c);
    struct xmp_error err;
    size_t used;

    if (!r)
        return;
    if (xml_reader_feed(r, header, sizeof header - 1, &used, &err) ||
        xml_reader_feed(r, xml, strlen(xml), &used, &err) != XMP_OK) {
        fprintf(stderr, "serialization does not read back: %s\n%s\n",
                err.msg, xml);
        abort();
    }
    if (!c.last || strcmp(c.last, xml) != 0) {
        fprintf(stderr, "round trip changed the tree:\n%s\n%s\n", xml,
                c.last ? c.last : "(nothing)");
        abort();
    }
    free(c.last);
    xml_reader_free(r);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct ctx c = {NULL};
    struct xml_reader *r;
    struct xmp_error err;
    size_t used, off = 0, step;
    char *copy;

    if (size < 1)
        return 0;
    step = (size_t)(data[0] % 16) + 1;
    data++;
    size--;
    if (!(r = xml_reader_new(&cb, &c)))
        return 0;
    if (xml_reader_feed(r, header, sizeof header - 1, &used, &err) != XMP_OK)
        abort();
    while (off < size) {
        size_t n = size - off < step ? size - off : step;

        if (xml_reader_feed(r, (const char *)data + off, n, &used, &err) !=
            XMP_OK)
            break;
        off += n;
        if (c.last) {
            copy = c.last;
            c.last = NULL;
            roundtrip(copy);
            free(copy);
        }
    }
    free(c.last);
    xml_reader_free(r);
    return 0;
}
