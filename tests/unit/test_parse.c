/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test_parse.c - XML from callers (xmp_parser_*, xmp_node_parse): each
 * element delivered as soon as it is complete, the default namespace,
 * the stream's rules and limits (comments dropped, a notation for
 * people), and errors that name the line and
 * column in the caller's own input.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "xml.h"
#include "xmp.h"

struct got {
    int n;
    struct buf text; /* each element serialized, one per line */
    int stop_at;     /* stop the parse at this element (0: never) */
};

static enum xmp_err collect(void *ud, struct xmp_node *el)
{
    struct got *g = ud;
    char *s = xmp_node_to_string(el, "jabber:client");

    g->n++;
    buf_puts(&g->text, s ? s : "(null)");
    buf_puts(&g->text, "\n");
    free(s);
    xmp_node_free(el);
    return g->stop_at && g->n == g->stop_at ? XMP_ENOTSENT : XMP_OK;
}

/* Parse s in one go, then end; returns the status, err filled. */
static enum xmp_err parse_all(const char *s, size_t len, struct got *g,
                              struct xmp_error *err)
{
    struct xmp_parser *p = xmp_parser_new(collect, g);
    enum xmp_err r;

    xmp_error_clear(err);
    r = xmp_parser_feed(p, s, len, err);
    if (r == XMP_OK)
        r = xmp_parser_end(p, err);
    xmp_parser_free(p);
    return r;
}

static void test_sequence(void)
{
    static const char in[] =
        "\n  <message to='bob@example.test'><body>hi &amp; bye</body>"
        "</message>\n\t<iq type='get' id='1'><query xmlns="
        "'http://jabber.org/protocol/disco#info'/></iq>  "
        "<presence/><r xmlns='urn:xmpp:sm:3'/>\n";
    struct got g = { 0, BUF_INIT, 0 };
    struct xmp_error e;

    is_int(parse_all(in, strlen(in), &g, &e), XMP_OK, "a sequence parses");
    is_int(g.n, 4, "four elements");
    is_str(g.text.data,
           "<message to='bob@example.test'><body>hi &amp; bye</body>"
           "</message>\n"
           "<iq type='get' id='1'><query xmlns='http://jabber.org/protocol/"
           "disco#info'/></iq>\n"
           "<presence/>\n"
           "<r xmlns='urn:xmpp:sm:3'/>\n",
           "in order, in jabber:client unless they say otherwise");
    buf_free(&g.text);
}

static void test_bytewise(void)
{
    static const char in[] = "<message><body>one</body></message>"
                             "<message><body>two</body></message>";
    struct got g = { 0, BUF_INIT, 0 };
    struct xmp_parser *p = xmp_parser_new(collect, &g);
    const char *end1 = strstr(in, "</message>") + strlen("</message>");
    struct xmp_error e;
    size_t i;
    int early = 0, late = 0, inside_ok = 1;

    for (i = 0; in[i]; i++) {
        xmp_parser_feed(p, in + i, 1, &e);
        if (in + i + 1 < end1 && g.n != 0)
            early = 1;
        if (in + i + 1 == end1 && g.n != 1)
            late = 1;
        /* From its first byte to its last, an element is under way. */
        if (in + i + 1 < end1 && !xmp_parser_inside(p))
            inside_ok = 0;
    }
    ok(!early, "no element before its end tag is complete");
    ok(!late, "an element is delivered with the last byte of its end tag");
    ok(inside_ok, "the parser says it is inside an element meanwhile");
    ok(!xmp_parser_inside(p), "... and not after the last one");
    xmp_parser_feed(p, "\n  \n", 4, &e);
    ok(!xmp_parser_inside(p), "... nor after whitespace");
    xmp_parser_feed(p, "\r", 1, &e);
    ok(!xmp_parser_inside(p), "... nor after a CR expat holds back");
    xmp_parser_feed(p, "<presence", 9, &e);
    ok(xmp_parser_inside(p), "half a start tag is under way");
    is_int(g.n, 2, "both elements");
    xmp_parser_free(p);
    buf_free(&g.text);
}

static void test_errors(void)
{
    static const struct {
        const char *in;
        const char *msg;
        int before; /* elements delivered before the error */
    } t[] = {
        { "<a></b>", "line 1, column 6: mismatched tag", 0 },
        { "<a>\n  <b></a>", "line 2, column 8: mismatched tag", 0 },
        { "<?pi x?>", "line 1, column 1: restricted XML: processing "
          "instruction not allowed (RFC 6120 §11.1)", 0 },
        { "hello", "line 1, column 1: text outside any element", 0 },
        { "  <m/> x", "line 1, column 7: text outside any element", 1 },
        { "<p:a/>", "line 1, column 1: unbound prefix", 0 },
        { "</xmpctl>", "line 1, column 1: end tag </xmpctl> without a start "
          "tag", 0 },
        { "<message><body>", "line 1, column 16: input ends inside "
          "<message>", 0 },
        { "<a/>\n<b>\xff</b>", "line 2, column 4: not well-formed (invalid "
          "token)", 1 },
        { "<a>\xed\xa0\x80</a>", "line 1, column 4: not well-formed "
          "(invalid token)", 0 },
        { "<a>\x01</a>", "line 1, column 4: not well-formed (invalid "
          "token)", 0 },
        { "<a x='1' x='2'/>", "line 1, column 10: duplicate attribute", 0 },
        { "<m>&amp;&bogus;</m>", "line 1, column 9: undefined entity", 0 },
        { "<!DOCTYPE x>", "line 1, column 3: not well-formed (invalid "
          "token)", 0 },
    };
    struct got g;
    struct xmp_error e;
    size_t i;

    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        memset(&g, 0, sizeof g);
        is_int(parse_all(t[i].in, strlen(t[i].in), &g, &e), XMP_EDATA,
               "error %zu is bad input data", i);
        is_str(e.msg, t[i].msg, "error %zu names its place", i);
        is_int(g.n, t[i].before, "error %zu: the elements before it came "
                                 "through", i);
        buf_free(&g.text);
    }
}

/* A comment is a note for people: dropped between elements and inside
 * one, the text around it joined; never under way once it ends. */
static void test_comments(void)
{
    static const char in[] =
        "<!-- first -->\n<message to='bob@example.test'><!-- a note -->"
        "<body>one<!-- between -->two</body></message>\n<!-- last -->";
    struct got g = { 0, BUF_INIT, 0 };
    struct xmp_parser *p;
    struct xmp_node *n;
    struct xmp_error e;

    is_int(parse_all(in, strlen(in), &g, &e), XMP_OK,
           "comments between and inside elements are accepted");
    is_int(g.n, 1, "one element");
    is_str(g.text.data, "<message to='bob@example.test'><body>onetwo</body>"
                        "</message>\n",
           "... without them");
    buf_free(&g.text);

    g.n = 0;
    p = xmp_parser_new(collect, &g);
    xmp_parser_feed(p, "<!-- alone -->\n", 15, &e);
    ok(!xmp_parser_inside(p), "a comment alone is not an element under way");
    xmp_parser_feed(p, "<!-- half", 9, &e);
    ok(xmp_parser_inside(p), "half a comment is");
    xmp_parser_free(p);
    is_int(g.n, 0, "no element from comments");
    buf_free(&g.text);

    n = xmp_node_parse("<presence/><!-- c -->", 21, &e);
    ok(n != NULL, "xmp_node_parse: a comment after the element");
    xmp_node_free(n);
    is_int(parse_all("<a><!-- x", 9, &g, &e), XMP_EDATA,
           "an unfinished comment is refused");
    buf_free(&g.text);
}

static void test_limits(void)
{
    struct buf b = BUF_INIT;
    struct got g = { 0, BUF_INIT, 0 };
    struct xmp_error e;
    int i;

    for (i = 0; i < XML_MAX_DEPTH + 1; i++)
        buf_puts(&b, "<d>");
    is_int(parse_all(b.data, b.len, &g, &e), XMP_EDATA, "too deep");
    ok(strstr(e.msg, "XML_MAX_DEPTH") && strncmp(e.msg, "line 1, column ",
                                                  15) == 0,
       "names the limit and the place: %s", e.msg);
    buf_free(&b);

    buf_puts(&b, "<a");
    for (i = 0; i < XML_MAX_ATTRS + 1; i++)
        buf_printf(&b, " a%d='x'", i);
    buf_puts(&b, "/>");
    is_int(parse_all(b.data, b.len, &g, &e), XMP_EDATA, "too many attributes");
    ok(strstr(e.msg, "XML_MAX_ATTRS") != NULL, "%s", e.msg);
    buf_free(&b);

    buf_puts(&b, "<ok/><m><body>");
    for (i = 0; i < XML_MAX_STANZA_BYTES / 64 + 1; i++)
        buf_puts(&b, "0123456789012345678901234567890123456789012345678901"
                     "234567890123");
    buf_puts(&b, "</body></m>");
    g.n = 0;
    is_int(parse_all(b.data, b.len, &g, &e), XMP_EDATA, "too large");
    ok(strstr(e.msg, "XML_MAX_STANZA_BYTES") != NULL, "%s", e.msg);
    is_int(g.n, 1, "the element before it came through");
    buf_free(&b);
    buf_free(&g.text);
}

static void test_stop_and_one(void)
{
    static const char in[] = "<a/><b/><c/>";
    struct got g = { 0, BUF_INIT, 2 };
    struct xmp_node *n;
    struct xmp_error e;

    is_int(parse_all(in, strlen(in), &g, &e), XMP_ENOTSENT,
           "a callback's code stops the parse and comes back");
    is_int(g.n, 2, "nothing after it is delivered");
    buf_free(&g.text);

    n = xmp_node_parse(" <iq type='get'/>\n", 18, &e);
    ok(n && strcmp(xmp_node_name(n), "iq") == 0 &&
       strcmp(xmp_node_ns(n), "jabber:client") == 0,
       "xmp_node_parse: one element");
    xmp_node_free(n);
    ok(!xmp_node_parse("<a/><b/>", 8, &e), "two elements are refused");
    is_str(e.msg, "more than one element", "... saying so");
    ok(!xmp_node_parse("   ", 3, &e), "no element is refused");
    is_str(e.msg, "no element", "... saying so");
    n = xmp_node_parse("<presence/>\r", 12, &e);
    ok(n != NULL, "a trailing CR is whitespace like any other");
    xmp_node_free(n);
    ok(!xmp_node_parse("<a>", 3, &e), "an unfinished one is refused");
    is_int(e.code, XMP_EDATA, "as bad input data");
}

int main(void)
{
    test_sequence();
    test_bytewise();
    test_errors();
    test_comments();
    test_limits();
    test_stop_and_one();
    return tap_done();
}
