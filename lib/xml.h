/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xml.h - the XML layer: a reader for one endless XMPP stream (libexpat)
 * that yields one element tree per top-level child of <stream:stream>,
 * and the tree type shared with the public API (struct xmp_node, xmp.h).
 *
 * It knows nothing of XMPP semantics beyond "depth 1 is the stream
 * header, depth 2 elements are stanzas or nonzas".
 */
#ifndef XMP_XML_H
#define XMP_XML_H

#include <stddef.h>

#include "xmp.h"

/* Limits on what the network may send us (RFC 6120 §13.12 asks servers to
 * accept at least 10000 bytes; clients see larger roster pushes, so be
 * generous but bounded). */
#define XML_MAX_STANZA_BYTES (1024 * 1024) /* one top-level element */
#define XML_MAX_DEPTH 64                   /* nesting inside a stanza */
#define XML_MAX_ATTRS 64                   /* attributes on one element */
/* Every element keeps its namespace URI, so a long URI declared once
 * would be paid for once per child: bound the URI, and the memory one
 * stanza may take, not only its bytes on the wire.  Real namespaces are
 * well under 100 bytes. */
#define XML_MAX_NS_URI 1024
/* Counted as allocated (node_mem below), a tree takes several times its
 * bytes: a roster push about 9, empty elements with many attributes 12
 * and more.  8 MB lets through rosters of some 7000 contacts and stops
 * the inflated cases well before they reach their wire limit. */
#define XML_MAX_STANZA_MEMORY (8 * XML_MAX_STANZA_BYTES)

/* What the tree holds for node n itself (not its children): the struct,
 * its names, its attribute array and strings, its text buffer, each as
 * the heap block malloc takes for it.  The reader charges this against
 * XML_MAX_STANZA_MEMORY, so the budget bounds what is allocated, not the
 * bytes on the wire. */
size_t node_mem(const struct xmp_node *n);
/* node_mem of parent's last child if that is text, else 0. */
size_t node_mem_last_text(const struct xmp_node *parent);

#define XML_NS_STREAM "http://etherx.jabber.org/streams"

struct xml_reader;

struct xml_reader_cb {
    /* The stream header <stream:stream ...> was read.  attrs is expat's
     * NULL-terminated name/value array (namespaced names as "URI local").
     * Return 0 to go on, non-zero to fail the stream. */
    int (*stream_start)(void *ud, const char *ns, const char *name,
                        const char **attrs);
    /* One complete top-level element; ownership passes to the callee.
     * Return 0 to go on, 1 to pause right after this element (the rest
     * of the fed bytes are left unparsed, see xml_reader_feed), or -1 to
     * fail the stream (the callee has set its own error). */
    int (*element)(void *ud, struct xmp_node *el);
    /* </stream:stream> arrived. */
    void (*stream_end)(void *ud);
};

/* NULL on ENOMEM. */
struct xml_reader *xml_reader_new(const struct xml_reader_cb *cb, void *ud);
void xml_reader_free(struct xml_reader *r);

/* Start over with a fresh parser for a restarted stream (RFC 6120 §4.3.3).
 * Returns XMP_OK or XMP_ENOMEM. */
enum xmp_err xml_reader_reset(struct xml_reader *r);

/* Feed bytes.  *used receives how many bytes were consumed: all of them
 * unless an element callback asked to pause, in which case the rest
 * (starting right after that element's end tag) must be fed again after
 * xml_reader_reset or discarded.  Returns XMP_OK, or XMP_EPROTO with err
 * set for malformed XML, restricted XML (RFC 6120 §11.1: DTD, entity
 * declaration, processing instruction, comment), a limit exceeded, or
 * XMP_ENOMEM; and -1 (returned as the callback's failure, XMP_EPROTO with
 * no message change) when a callback failed. After an error the reader
 * is dead until reset. */
enum xmp_err xml_reader_feed(struct xml_reader *r, const char *buf,
                             size_t len, size_t *used, struct xmp_error *err);
/* Non-zero when an element callback paused the reader. */
int xml_reader_paused(const struct xml_reader *r);

/* Fragment mode, for XML from callers: a fresh reader is turned into one
 * that reads a sequence of top-level elements (depth 1 is an invisible
 * wrapper whose default namespace is jabber:client; no stream_start or
 * stream_end callbacks), and every error names the line and column in
 * the caller's input; comments are dropped rather than refused.  Call
 * once, before any feed. */
enum xmp_err xml_reader_fragment(struct xml_reader *r, struct xmp_error *err);
/* Inside an element that has not ended yet. */
int xml_reader_inside(const struct xml_reader *r);
/* Fragment mode, end of input: an error if it ends inside an element. */
enum xmp_err xml_reader_end(struct xml_reader *r, struct xmp_error *err);

/* The writer (in node.c, with the trees it writes).  Escape s[0..len) into
 * out: as text, as an attribute value in single quotes, or as text that
 * stays on one line (line feeds as character references).  Returns
 * XMP_OK, XMP_EDATA (invalid UTF-8 or a character XML 1.0 forbids;
 * nothing appended) or XMP_ENOMEM. */
enum xml_esc { XML_ESC_TEXT = 0, XML_ESC_ATTR = 1, XML_ESC_LINE = 2 };
struct buf;
enum xmp_err xml_escape(struct buf *out, const char *s, size_t len, int mode,
                        struct xmp_error *err);

#endif
