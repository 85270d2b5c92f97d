/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_xml.c - the stream reader on untrusted bytes.
 *
 * Input: a flags byte, a seed byte, then the stream.
 *   flags bit 0: the input brings its own stream header (else a fixed
 *                one goes first), so the header path is fuzzed too;
 *   flags bit 1: the rest is a list of runs [count-hi][count-lo][len]
 *                [len bytes], each repeated count + 1 times (up to
 *                STREAM_MAX bytes in all), so that a small input can
 *                reach the size and memory limits;
 *   seed:        chooses the chunk sizes the bytes are fed in (1 byte to
 *                past the reader's 64 KiB slice).
 * After <proceed/> (STARTTLS) or <success/> (SASL) the reader pauses, as
 * the session asks it to; the rest is fed to the reset reader as a new
 * stream, as the stream layer does at a restart (RFC 6120 §4.3.3).
 *
 * Every tree the reader yields must serialize, and the serialization must
 * read back to the same serialization (the writer never produces what the
 * reader refuses).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "xml.h"

/* Past XML_MAX_STANZA_BYTES, so the size limit is reachable. */
#define STREAM_MAX (XML_MAX_STANZA_BYTES + XML_MAX_STANZA_BYTES / 2)
#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"

static const char header[] =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

struct ctx {
    char *last;  /* serialization of the last tree read */
    int restarts; /* pause after restart elements */
};

static int on_start(void *ud, const char *ns, const char *name,
                    const char **attrs)
{
    size_t i;

    (void)ud;
    if (!ns || !name)
        abort();
    /* expat hands over name/value pairs, NULL-terminated */
    for (i = 0; attrs[i]; i += 2)
        if (!attrs[i + 1])
            abort();
    return 0;
}

static int on_element(void *ud, struct xmp_node *el)
{
    struct ctx *c = ud;
    int restart = c->restarts &&
                  ((strcmp(xmp_node_ns(el), NS_TLS) == 0 &&
                    strcmp(xmp_node_name(el), "proceed") == 0) ||
                   (strcmp(xmp_node_ns(el), NS_SASL) == 0 &&
                    strcmp(xmp_node_name(el), "success") == 0));

    free(c->last);
    c->last = xmp_node_to_string(el, "jabber:client");
    xmp_node_free(el);
    return restart;
}

static void on_end(void *ud)
{
    (void)ud;
}

static const struct xml_reader_cb cb = {on_start, on_element, on_end};

static void roundtrip(const char *xml)
{
    struct ctx c = {NULL, 0};
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

/* The stream the input describes, in a fresh buffer of *len bytes. */
static char *expand(const unsigned char *d, size_t size, int runs,
                    size_t *len)
{
    char *out;
    size_t off = 0, used = 0;

    if (!runs) {
        if (!(out = malloc(size ? size : 1)))
            return NULL;
        memcpy(out, d, size);
        *len = size;
        return out;
    }
    if (!(out = malloc(STREAM_MAX)))
        return NULL;
    while (off + 3 <= size) {
        size_t count = ((size_t)d[off] << 8 | d[off + 1]) + 1;
        size_t n = d[off + 2], k;

        off += 3;
        if (n > size - off)
            n = size - off;
        for (k = 0; k < count && n && used + n <= STREAM_MAX; k++) {
            memcpy(out + used, d + off, n);
            used += n;
        }
        off += n;
    }
    *len = used;
    return out;
}

/* Chunk sizes: small ones split every token somewhere, large ones cross
 * the reader's internal slices. */
static size_t next_step(uint32_t *rng, size_t left, size_t len)
{
    static const size_t big[] = {64, 1000, 4096, 65536, 65537, 200000};
    size_t n;
    int small;

    *rng ^= *rng << 13;
    *rng ^= *rng >> 17;
    *rng ^= *rng << 5;
    /* mostly small chunks, but not a million of them for a long stream */
    small = len <= 65536 ? (*rng >> 8) % 4 != 0 : (*rng >> 8) % 256 == 0;
    n = small ? (*rng >> 16) % 16 + 1 : big[(*rng >> 16) % 6];
    return n < left ? n : left;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct ctx c = {NULL, 1};
    struct xml_reader *r;
    struct xmp_error err;
    size_t used, off = 0, len, n;
    uint32_t rng;
    int own_header;
    char *stream, *copy;

    if (size < 2)
        return 0;
    own_header = data[0] & 1;
    rng = 0x9e3779b9u ^ data[1];
    if (!(stream = expand(data + 2, size - 2, data[0] & 2, &len)))
        return 0;
    if (!(r = xml_reader_new(&cb, &c))) {
        free(stream);
        return 0;
    }
    if (!own_header &&
        xml_reader_feed(r, header, sizeof header - 1, &used, &err) != XMP_OK)
        abort();
    while (off < len) {
        n = next_step(&rng, len - off, len);
        if (xml_reader_feed(r, stream + off, n, &used, &err) != XMP_OK)
            break;
        if (used > n)
            abort();
        if (c.last) {
            copy = c.last;
            c.last = NULL;
            roundtrip(copy);
            free(copy);
        }
        if (xml_reader_paused(r)) {
            /* a restart: the rest belongs to a new stream */
            if (xml_reader_reset(r) != XMP_OK)
                break;
            n = used;
        }
        off += n;
    }
    free(c.last);
    xml_reader_free(r);
    free(stream);
    return 0;
}
