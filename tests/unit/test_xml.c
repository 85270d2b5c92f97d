/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/* test_xml.c - element trees, the escaping writer and the stream reader. */
#include "buf.h"
#include "xml.h"
#include "xmp.h"

#include "tap.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#define NS_CLIENT "jabber:client"
#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"

#define HEADER                                                               \
    "<?xml version='1.0'?>"                                                  \
    "<stream:stream xmlns='jabber:client' "                                  \
    "xmlns:stream='http://etherx.jabber.org/streams' id='s1' "               \
    "from='example.org' version='1.0' xml:lang='en'>"

#define PROCEED "<proceed xmlns='" NS_TLS "'/>"
/* The rest of a <success/> whose first bytes were "<suc". */
#define SUCCESS_TAIL "cess xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
#define FILLER "<message><body>filler</body></message>"

/* ---- escaping and character checks -------------------------------------- */

static char *escaped(const char *s, int attr)
{
    struct buf b = BUF_INIT;

    if (xml_escape(&b, s, strlen(s), attr, NULL) != XMP_OK) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b);
}

static void test_escape(void)
{
    struct buf b = BUF_INIT;
    char *s;

    s = escaped("a<b>&c'\"\r\n\td", 0);
    is_str(s, "a&lt;b&gt;&amp;c'\"&#13;\n\td", "text escaping");
    free(s);
    s = escaped("a<b>&c'\"\r\n\td", 1);
    is_str(s, "a&lt;b>&amp;c&apos;&quot;&#13;&#10;&#9;d",
           "attribute escaping");
    free(s);
    s = escaped("", 1);
    is_str(s, "", "empty string escapes to nothing");
    free(s);
    s = escaped("]]>", 0);
    is_str(s, "]]&gt;", "]]> cannot appear in text");
    free(s);

    buf_puts(&b, "keep:");
    is_int(xml_escape(&b, "x&y", 3, 0, NULL), XMP_OK, "escape appends");
    is_str(b.data, "keep:x&amp;y", "escape keeps what was there");
    buf_free(&b);
}

struct bad_text {
    const char *s;
    size_t len;
    const char *what;
    const char *msg;
};

static void test_forbidden(void)
{
    static const struct bad_text bad[] = {
        { "a\0b", 3, "U+0000",
          "character U+0000 not allowed in XML at byte 1" },
        { "abc\x01", 4, "U+0001",
          "character U+0001 not allowed in XML at byte 3" },
        { "\xEF\xBF\xBE", 3, "U+FFFE",
          "character U+FFFE not allowed in XML at byte 0" },
        { "x\xEF\xBF\xBF", 4, "U+FFFF",
          "character U+FFFF not allowed in XML at byte 1" },
        { "\xED\xA0\x80", 3, "lone surrogate",
          "invalid UTF-8 at byte 0 (surrogate U+D800)" },
        { "a\xC0\xAF", 3, "overlong C0 AF",
          "invalid UTF-8 at byte 1 (overlong form)" },
        { "\xE0\x80\xAF", 3, "overlong E0 80 AF",
          "invalid UTF-8 at byte 0 (overlong form)" },
        { "ab\xE2\x82", 4, "truncated sequence",
          "invalid UTF-8 at byte 2 (truncated sequence)" },
        { "\xE2(\xA1", 3, "bad continuation byte",
          "invalid UTF-8 at byte 0" },
        { "\x80", 1, "stray continuation byte", "invalid UTF-8 at byte 0" },
        { "\xF4\x90\x80\x80", 4, "beyond U+10FFFF",
          "invalid UTF-8 at byte 0 (beyond U+10FFFF)" },
        { "\xFF", 1, "byte FF", "invalid UTF-8 at byte 0" },
        { "\x1B[31m", 5, "escape sequence",
          "character U+001B not allowed in XML at byte 0" },
    };
    struct xmp_error err;
    struct xmp_node *n;
    char *val, *s;
    size_t i;

    n = xmp_node_new(NS_CLIENT, "body", NULL);
    ok(n != NULL, "element for the refusal tests");
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct buf b = BUF_INIT;

        buf_puts(&b, "keep");
        xmp_error_clear(&err);
        is_int(xmp_xml_check_text(bad[i].s, bad[i].len, &err), XMP_EDATA,
               "check refuses %s", bad[i].what);
        is_int(err.code, XMP_EDATA, "error code for %s", bad[i].what);
        is_str(err.msg, bad[i].msg, "message for %s", bad[i].what);
        is_int(xml_escape(&b, bad[i].s, bad[i].len, 0, NULL), XMP_EDATA,
               "text escape refuses %s", bad[i].what);
        is_int(xml_escape(&b, bad[i].s, bad[i].len, 1, NULL), XMP_EDATA,
               "attribute escape refuses %s", bad[i].what);
        ok(b.len == 4 && strcmp(b.data, "keep") == 0,
           "nothing appended for %s", bad[i].what);
        is_int(xmp_node_add_text(n, bad[i].s, bad[i].len, NULL), XMP_EDATA,
               "add_text refuses %s", bad[i].what);
        buf_free(&b);

        /* As an attribute value (which is NUL-terminated). */
        val = strndup(bad[i].s, bad[i].len);
        if (val && strlen(val) == bad[i].len)
            is_int(xmp_node_set_attr(n, "a", val, NULL), XMP_EDATA,
                   "set_attr refuses %s", bad[i].what);
        free(val);
    }
    s = xmp_node_to_string(n, NS_CLIENT);
    is_str(s, "<body/>", "refused input left the element empty");
    free(s);
    xmp_node_free(n);
}

static void test_allowed(void)
{
    static const char *good[] = {
        "tab\there", "new\nline", "cr\rhere",
        "\xF4\x8F\xBF\xBF",  /* U+10FFFF */
        "\xEE\x80\x80",      /* U+E000 */
        "\xED\x9F\xBF",      /* U+D7FF */
        "\xEF\xBF\xBD",      /* U+FFFD */
        "\xF0\x9F\x98\x80",  /* U+1F600 */
        "caf\xC3\xA9",       /* U+00E9 */
        "",
    };
    struct xmp_error err;
    struct xmp_node *n;
    char *t;
    size_t i;
    struct buf want = BUF_INIT;

    n = xmp_node_new(NS_CLIENT, "body", NULL);
    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        xmp_error_clear(&err);
        is_int(xmp_xml_check_text(good[i], strlen(good[i]), &err), XMP_OK,
               "allowed text %zu", i);
        is_int(xmp_node_add_text(n, good[i], strlen(good[i]), &err), XMP_OK,
               "add_text takes text %zu", i);
        is_int(xmp_node_set_attr(n, "a", good[i], &err), XMP_OK,
               "set_attr takes text %zu", i);
        buf_puts(&want, good[i]);
    }
    t = xmp_node_text(n);
    is_str(t, want.data, "text is kept byte for byte");
    free(t);
    buf_free(&want);
    xmp_node_free(n);
}

/* ---- trees ------------------------------------------------------------- */

static void test_names(void)
{
    struct xmp_error err;
    struct xmp_node *n;

    xmp_error_clear(&err);
    ok(!xmp_node_new(NS_CLIENT, "a:b", &err) && err.code == XMP_EDATA,
       "element name with a colon refused");
    ok(!xmp_node_new(NS_CLIENT, "1x", &err) && err.code == XMP_EDATA,
       "element name starting with a digit refused");
    ok(!xmp_node_new(NS_CLIENT, "", &err) && err.code == XMP_EDATA,
       "empty element name refused");
    ok(!xmp_node_new(NS_CLIENT, "a b", &err) && err.code == XMP_EDATA,
       "element name with a space refused");
    ok(!xmp_node_new("urn:a b", "x", &err) && err.code == XMP_EDATA,
       "namespace with a space refused");
    ok(!xmp_node_new("http://www.w3.org/2000/xmlns/", "x", &err) &&
           err.code == XMP_EDATA,
       "xmlns namespace refused for an element");
    ok(!xmp_node_new("urn:\x01", "x", &err) && err.code == XMP_EDATA,
       "namespace with a control character refused");

    n = xmp_node_new("", "x", &err);
    ok(n != NULL, "no namespace and a plain name are fine");
    is_int(xmp_node_set_attr(n, "foo:bar", "1", &err), XMP_EDATA,
           "prefixed attribute name refused");
    is_int(xmp_node_set_attr(n, "xmlns", "urn:x", &err), XMP_EDATA,
           "xmlns attribute refused");
    is_int(xmp_node_set_attr(n, "xmlns:p", "urn:x", &err), XMP_EDATA,
           "xmlns:p attribute refused");
    is_int(xmp_node_set_attr(n, " local", "1", &err), XMP_EDATA,
           "empty attribute namespace refused");
    is_int(xmp_node_set_attr(n, "urn:x a b", "1", &err), XMP_EDATA,
           "two spaces in an attribute name refused");
    is_int(xmp_node_set_attr(n, "urn:x ", "1", &err), XMP_EDATA,
           "empty namespaced local name refused");
    is_int(xmp_node_set_attr(n, "\xC3\xA9l\xC3\xA9ment", "1", &err), XMP_OK,
           "non-ASCII attribute name accepted");
    is_int(xmp_node_set_attr(n, "a-b.c_d", "1", &err), XMP_OK,
           "name characters accepted");
    is_int(xmp_node_append(n, n), XMP_EUSAGE, "an element is not its child");
    xmp_node_free(n);
}

static void test_tree(void)
{
    struct xmp_error err;
    struct xmp_node *m, *c, *x, *y;
    const char *name, *value;
    char *s;

    xmp_error_clear(&err);
    m = xmp_node_new(NS_CLIENT, "message", &err);
    ok(m != NULL, "new message");
    is_int(xmp_node_set_attr(m, "to", "juliet@example.com", &err), XMP_OK,
           "set to");
    is_int(xmp_node_set_attr(m, "type", "normal", &err), XMP_OK, "set type");
    is_int(xmp_node_set_attr(m, "xml:lang", "en", &err), XMP_OK,
           "set xml:lang");
    is_int(xmp_node_set_attr(m, "urn:x:a key", "v&'", &err), XMP_OK,
           "set a namespaced attribute");
    is_int(xmp_node_set_attr(m, "type", "chat", &err), XMP_OK,
           "replace type");
    c = xmp_node_add_child(m, NS_CLIENT, "body", &err);
    is_int(xmp_node_add_text(c, "hi <there> ", 11, &err), XMP_OK, "text 1");
    is_int(xmp_node_add_text(c, "& \r", 3, &err), XMP_OK, "text 2");
    ok(xmp_node_add_child(m, "urn:xmpp:receipts", "request", &err) != NULL,
       "child in another namespace");
    x = xmp_node_new("urn:x:c", "x", &err);
    y = xmp_node_add_child(x, "urn:x:c", "y", &err);
    is_int(xmp_node_set_attr(y, "urn:x:a k2", "2", &err), XMP_OK,
           "namespaced attribute on a grandchild");
    is_int(xmp_node_set_attr(y, "urn:x:b k3", "3", &err), XMP_OK,
           "attribute in a second namespace");
    is_int(xmp_node_set_attr(y, "urn:x:a k4", "4", &err), XMP_OK,
           "attribute in the first namespace again");
    is_int(xmp_node_append(m, x), XMP_OK, "append a tree");
    is_int(xmp_node_append(m, x), XMP_EUSAGE,
           "a node that has a parent cannot be appended again");
    is_int(xmp_node_append(y, m), XMP_EUSAGE,
           "an ancestor cannot become its descendant's child");

    s = xmp_node_to_string(m, NS_CLIENT);
    is_str(s,
           "<message to='juliet@example.com' type='chat' xml:lang='en' "
           "xmlns:ns1='urn:x:a' ns1:key='v&amp;&apos;'>"
           "<body>hi &lt;there&gt; &amp; &#13;</body>"
           "<request xmlns='urn:xmpp:receipts'/>"
           "<x xmlns='urn:x:c'><y xmlns:ns1='urn:x:a' ns1:k2='2' "
           "xmlns:ns2='urn:x:b' ns2:k3='3' ns1:k4='4'/></x>"
           "</message>",
           "serialized in the parent's namespace");
    free(s);
    s = xmp_node_to_string(c, "");
    is_str(s, "<body xmlns='jabber:client'>hi &lt;there&gt; &amp; &#13;"
              "</body>",
           "serialized where another namespace is in scope");
    free(s);
    s = xmp_node_to_string(c, NULL);
    is_str(s, "<body xmlns='jabber:client'>hi &lt;there&gt; &amp; &#13;"
              "</body>",
           "NULL parent namespace means none");
    free(s);

    x = xmp_node_new("", "plain", &err);
    xmp_node_add_child(x, NS_CLIENT, "inner", &err);
    xmp_node_add_child(xmp_node_first(x), "", "back", &err);
    s = xmp_node_to_string(x, NS_CLIENT);
    is_str(s, "<plain xmlns=''><inner xmlns='jabber:client'>"
              "<back xmlns=''/></inner></plain>",
           "the empty namespace is declared where it differs");
    free(s);
    xmp_node_free(x);

    is_str(xmp_node_ns(m), NS_CLIENT, "ns");
    is_str(xmp_node_name(m), "message", "name");
    is_str(xmp_node_attr(m, "type"), "chat", "replaced attribute value");
    is_str(xmp_node_attr(m, "xml:lang"), "en", "xml:lang lookup");
    is_str(xmp_node_attr(m, "http://www.w3.org/XML/1998/namespace lang"), "en",
           "xml:lang looked up by its namespace");
    is_str(xmp_node_attr(m, "urn:x:a key"), "v&'", "namespaced lookup");
    ok(xmp_node_attr(m, "key") == NULL, "local part alone does not match");
    ok(xmp_node_attr_at(m, 1, &name, &value) && strcmp(name, "type") == 0 &&
           strcmp(value, "chat") == 0,
       "replacing keeps the attribute's place");
    ok(xmp_node_attr_at(m, 3, &name, &value) &&
           strcmp(name, "urn:x:a key") == 0,
       "attribute 3 by index");
    ok(!xmp_node_attr_at(m, 4, &name, &value), "no attribute 4");

    c = xmp_node_first(m);
    is_str(xmp_node_name(c), "body", "first child");
    s = xmp_node_text(c);
    is_str(s, "hi <there> & \r", "text is concatenated");
    free(s);
    s = xmp_node_text(m);
    is_str(s, "", "no text is \"\"");
    free(s);
    c = xmp_node_next(c);
    is_str(xmp_node_name(c), "request", "second child");
    c = xmp_node_next(c);
    is_str(xmp_node_name(c), "x", "third child");
    ok(xmp_node_next(c) == NULL, "no fourth child");
    ok(xmp_node_child(m, "urn:x:c", NULL) == c, "child by namespace");
    ok(xmp_node_child(m, NULL, "request") != NULL, "child by name");
    ok(xmp_node_child(m, NS_CLIENT, "request") == NULL,
       "child by the wrong namespace");
    ok(xmp_node_first(xmp_node_child(m, NULL, "body")) == NULL,
       "text children are skipped");

    /* xml:lang given by its namespace is stored as xml:lang */
    is_int(xmp_node_set_attr(m, "http://www.w3.org/XML/1998/namespace lang",
                             "fr", &err), XMP_OK, "set xml:lang by namespace");
    is_str(xmp_node_attr(m, "xml:lang"), "fr", "it replaced xml:lang");
    xmp_node_free(m);
}

/* ---- the reader ------------------------------------------------------ */

struct rec {
    struct buf out;          /* each element serialized, then "\n" */
    struct xmp_node *last;   /* the latest element */
    int starts, ends, elements;
    char start_ns[128], start_name[64];
    struct buf attrs;        /* the stream header's "name=value;" */
    const char *pause_name;  /* pause after an element with this name */
    int fail_element;        /* return -1 from element */
    int fail_start;          /* return non-zero from stream_start */
    struct xmp_error *err;   /* when set, a failing callback writes here */
};

static int rec_start(void *ud, const char *ns, const char *name,
                     const char **attrs)
{
    struct rec *r = ud;
    size_t i;

    r->starts++;
    snprintf(r->start_ns, sizeof r->start_ns, "%s", ns);
    snprintf(r->start_name, sizeof r->start_name, "%s", name);
    buf_free(&r->attrs);
    for (i = 0; attrs[i]; i += 2)
        buf_printf(&r->attrs, "%s=%s;", attrs[i], attrs[i + 1]);
    return r->fail_start;
}

static int rec_element(void *ud, struct xmp_node *el)
{
    struct rec *r = ud;
    char *s = xmp_node_to_string(el, NS_CLIENT);

    r->elements++;
    buf_puts(&r->out, s ? s : "(null)");
    buf_puts(&r->out, "\n");
    free(s);
    xmp_node_free(r->last);
    r->last = el;
    if (r->fail_element) {
        if (r->err)
            xmp_error_set(r->err, XMP_EPROTO, "handler says no");
        return -1;
    }
    if (r->pause_name && strcmp(xmp_node_name(el), r->pause_name) == 0)
        return 1;
    return 0;
}

static void rec_end(void *ud)
{
    struct rec *r = ud;

    r->ends++;
}

static const struct xml_reader_cb rec_cb = { rec_start, rec_element, rec_end };

static void rec_free(struct rec *r)
{
    buf_free(&r->out);
    buf_free(&r->attrs);
    xmp_node_free(r->last);
    memset(r, 0, sizeof *r);
}

/* Feed s whole; returns the result, *used and err. */
static enum xmp_err feed_str(struct xml_reader *xr, const char *s,
                             size_t *used, struct xmp_error *err)
{
    size_t dummy;

    return xml_reader_feed(xr, s, strlen(s), used ? used : &dummy, err);
}

/* Feed s to a fresh reader; return the result code (err filled). */
static enum xmp_err parse_all(const char *s, size_t len, struct rec *r,
                              struct xmp_error *err)
{
    struct xml_reader *xr = xml_reader_new(&rec_cb, r);
    enum xmp_err rc;
    size_t used = 0;

    xmp_error_clear(err);
    rc = xml_reader_feed(xr, s, len, &used, err);
    xml_reader_free(xr);
    return rc;
}

/* The heap in use, from the allocator itself (glibc's mallinfo2), or -1
 * where it cannot tell: under AddressSanitizer or valgrind, whose own
 * allocators it does not see. */
static long long heap_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return -1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return -1;
#endif
#endif
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
    {
        const char *pre = getenv("LD_PRELOAD");
        struct mallinfo2 mi;

        /* valgrind's allocator keeps its own accounts */
        if (pre && strstr(pre, "vgpreload"))
            return -1;
        mi = mallinfo2();

        return mi.uordblks ? (long long)mi.uordblks : -1;
    }
#else
    return -1;
#endif
}

/* Feed s in 4 KiB pieces to a fresh reader; *peak receives the most heap
 * in use above what it was before (-1 where it cannot be measured). */
static enum xmp_err parse_measured(const char *s, size_t len, struct rec *r,
                                   long long *peak, struct xmp_error *err)
{
    struct xml_reader *xr = xml_reader_new(&rec_cb, r);
    long long base = heap_in_use(), now;
    enum xmp_err rc = XMP_OK;
    size_t off = 0, used, n;

    *peak = base < 0 ? -1 : 0;
    xmp_error_clear(err);
    while (off < len && rc == XMP_OK) {
        n = len - off < 4096 ? len - off : 4096;
        rc = xml_reader_feed(xr, s + off, n, &used, err);
        off += n;
        now = heap_in_use();
        if (base >= 0 && now - base > *peak)
            *peak = now - base;
    }
    xml_reader_free(xr);
    return rc;
}

static void test_reader_basic(void)
{
    static const char doc[] =
        HEADER " \n"
        "<message to='a@b' id='1' xml:lang='de'><body>hello &amp; "
        "bye</body><x xmlns='urn:x' xmlns:p='urn:p' p:at='v'/></message>"
        "\n\t \r\n"
        "<presence/>  ";
    struct rec whole = { 0 }, bytes = { 0 };
    struct xmp_error err;
    struct xml_reader *xr;
    size_t i, used;
    enum xmp_err rc = XMP_OK;
    const char *name;

    xmp_error_clear(&err);
    xr = xml_reader_new(&rec_cb, &whole);
    ok(xr != NULL, "reader");
    is_int(feed_str(xr, doc, &used, &err), XMP_OK, "one chunk parses");
    is_int(used, strlen(doc), "all bytes used");
    is_int(whole.starts, 1, "one stream header");
    is_str(whole.start_ns, XML_NS_STREAM, "header namespace");
    is_str(whole.start_name, "stream", "header name");
    is_str(whole.attrs.data,
           "id=s1;from=example.org;version=1.0;"
           "http://www.w3.org/XML/1998/namespace lang=en;",
           "header attributes");
    is_int(whole.elements, 2, "two stanzas, keepalives ignored");
    is_str(whole.out.data,
           "<message to='a@b' id='1' xml:lang='de'><body>hello &amp; "
           "bye</body><x xmlns='urn:x' xmlns:ns1='urn:p' ns1:at='v'/>"
           "</message>\n<presence/>\n",
           "the stanzas as trees");
    is_str(xmp_node_ns(whole.last), NS_CLIENT, "stanza namespace");
    is_int(whole.ends, 0, "no stream end yet");
    is_int(feed_str(xr, "</stream:stream>", &used, &err), XMP_OK,
           "stream end parses");
    is_int(whole.ends, 1, "stream end reported");
    is_int(xml_reader_feed(xr, "", 0, &used, &err), XMP_OK,
           "feeding nothing after the end is fine");
    is_int(feed_str(xr, " \n", &used, &err), XMP_OK,
           "whitespace after the end is fine");
    is_int(feed_str(xr, "<message/>", &used, &err), XMP_EPROTO,
           "an element after the end is an error");
    ok(strstr(err.msg, "after the end of the stream") != NULL,
       "message: %s", err.msg);
    is_int(feed_str(xr, " ", &used, &err), XMP_EPROTO,
           "the reader stays failed");
    xml_reader_free(xr);

    xr = xml_reader_new(&rec_cb, &bytes);
    for (i = 0; doc[i] && rc == XMP_OK; i++) {
        rc = xml_reader_feed(xr, doc + i, 1, &used, &err);
        if (used != 1)
            rc = XMP_EUSAGE;
    }
    is_int(rc, XMP_OK, "one byte at a time parses");
    is_str(bytes.out.data, whole.out.data, "one byte at a time, same trees");
    is_str(bytes.attrs.data, whole.attrs.data, "same header attributes");
    xml_reader_free(xr);

    /* Attributes as the tree stores them. */
    ok(xmp_node_attr_at(xmp_node_child(bytes.last, NULL, NULL), 0, &name,
                        NULL) == 0,
       "presence has no attributes");
    rec_free(&bytes);
    xr = xml_reader_new(&rec_cb, &bytes);
    feed_str(xr, HEADER "<message xml:lang='de' xmlns:p='urn:p' p:a='1'/>",
             &used, &err);
    ok(xmp_node_attr_at(bytes.last, 0, &name, NULL) &&
           strcmp(name, "xml:lang") == 0,
       "xml:lang arrives as xml:lang");
    ok(xmp_node_attr_at(bytes.last, 1, &name, NULL) &&
           strcmp(name, "urn:p a") == 0,
       "a namespaced attribute arrives as \"URI local\"");
    is_str(xmp_node_attr(bytes.last, "urn:p a"), "1", "and its value");
    xml_reader_free(xr);

    rec_free(&whole);
    rec_free(&bytes);
}

static void test_reader_text(void)
{
    struct rec r = { 0 };
    struct xmp_error err;
    struct xml_reader *xr;
    size_t used;
    char *t;
    static const char utf[] =
        HEADER "<message><body>\xC3\xA9\xF0\x9F\x98\x80</body></message>";
    size_t split = strlen(utf) - strlen("\x98\x80</body></message>");

    xmp_error_clear(&err);
    xr = xml_reader_new(&rec_cb, &r);
    is_int(feed_str(xr, HEADER "<message><body><![CDATA[<b>&amp;</b>]]>"
                               "&lt;&#x1F600;</body></message>",
                    &used, &err), XMP_OK, "CDATA parses");
    t = xmp_node_text(xmp_node_first(r.last));
    is_str(t, "<b>&amp;</b><\xF0\x9F\x98\x80", "CDATA arrives as text");
    free(t);
    xml_reader_free(xr);
    rec_free(&r);

    xr = xml_reader_new(&rec_cb, &r);
    is_int(xml_reader_feed(xr, utf, split, &used, &err), XMP_OK,
           "first half of a split character");
    is_int(r.elements, 0, "nothing yet");
    is_int(xml_reader_feed(xr, utf + split, strlen(utf) - split, &used, &err),
           XMP_OK, "second half");
    is_int(r.elements, 1, "the stanza arrived");
    t = xmp_node_text(xmp_node_first(r.last));
    is_str(t, "\xC3\xA9\xF0\x9F\x98\x80", "the split character is intact");
    free(t);
    xml_reader_free(xr);
    rec_free(&r);

    /* With reparse deferral on, expat would sit on this start tag: a
     * feed that completes no token makes it wait for twice the data. */
    xr = xml_reader_new(&rec_cb, &r);
    is_int(feed_str(xr, HEADER, &used, &err), XMP_OK, "header");
    is_int(feed_str(xr, "<presence ", &used, &err), XMP_OK,
           "half a start tag");
    is_int(r.elements, 0, "nothing yet");
    is_int(feed_str(xr, "/>", &used, &err), XMP_OK, "the rest of it");
    is_int(r.elements, 1, "delivered at once");
    xml_reader_free(xr);
    rec_free(&r);

    is_int(parse_all(HEADER "hello", strlen(HEADER "hello"), &r, &err),
           XMP_EPROTO, "text directly in the stream refused");
    ok(strstr(err.msg, "text outside") != NULL, "message: %s", err.msg);
    rec_free(&r);

    is_int(parse_all(HEADER "<message><body>\xC3(</body></message>",
                     strlen(HEADER) + 31, &r, &err),
           XMP_EPROTO, "invalid UTF-8 in a stanza refused");
    is_int(r.elements, 0, "and not delivered");
    rec_free(&r);

    is_int(parse_all("<?xml version='1.0' encoding='ISO-8859-1'?>"
                     "<stream:stream xmlns:stream='" XML_NS_STREAM "'>",
                     strlen("<?xml version='1.0' encoding='ISO-8859-1'?>"
                            "<stream:stream xmlns:stream='" XML_NS_STREAM
                            "'>"),
                     &r, &err),
           XMP_EPROTO, "an encoding other than UTF-8 refused");
    ok(strstr(err.msg, "encoding") != NULL, "message: %s", err.msg);
    rec_free(&r);

    is_int(parse_all("<?xml version='1.0' encoding='utf-8'?>"
                     "<stream:stream xmlns:stream='" XML_NS_STREAM "'>",
                     strlen("<?xml version='1.0' encoding='utf-8'?>"
                            "<stream:stream xmlns:stream='" XML_NS_STREAM
                            "'>"),
                     &r, &err),
           XMP_OK, "encoding='utf-8' is fine");
    rec_free(&r);
}

static void test_reader_pause(void)
{
    struct rec r = { 0 };
    struct xmp_error err;
    struct xml_reader *xr;
    size_t used = 0, start, nfill;
    struct buf b = BUF_INIT;

    xmp_error_clear(&err);
    r.pause_name = "proceed";
    xr = xml_reader_new(&rec_cb, &r);
    is_int(feed_str(xr, HEADER PROCEED "JUNK", &used, &err), XMP_OK,
           "pause in the first chunk");
    is_int(used, strlen(HEADER PROCEED), "used ends right after />");
    is_int(r.elements, 1, "proceed delivered");
    is_int(feed_str(xr, "more", &used, &err), XMP_EUSAGE,
           "feeding a paused reader is refused");
    is_int(xml_reader_reset(xr), XMP_OK, "reset");
    is_int(feed_str(xr, HEADER, &used, &err), XMP_OK,
           "a new stream with an XML declaration parses");
    is_int(r.starts, 2, "second stream header");
    is_int(feed_str(xr, "<features/> ", &used, &err), XMP_OK,
           "data after the header");
    is_int(feed_str(xr, "<a/>" PROCEED "<junk-after-proceed/>", &used, &err),
           XMP_OK, "pause in a later chunk");
    is_int(used, strlen("<a/>" PROCEED),
           "used counts from the start of this chunk");
    is_int(r.elements, 4, "features, a and proceed delivered, junk not");
    is_str(xmp_node_name(r.last), "proceed", "the last one is proceed");
    xml_reader_free(xr);
    rec_free(&r);

    /* Pause after an element split across feeds, then again with the
     * pause in a later slice of a chunk larger than the reader feeds
     * expat at once. */
    r.pause_name = "success";
    xr = xml_reader_new(&rec_cb, &r);
    feed_str(xr, HEADER "<suc", &used, &err);
    buf_puts(&b, SUCCESS_TAIL);
    while (b.len < 100000)
        buf_puts(&b, FILLER);
    buf_puts(&b, "<success/>LEFT");
    is_int(xml_reader_feed(xr, b.data, b.len, &used, &err), XMP_OK,
           "pause before many stanzas");
    is_int(r.elements, 1, "paused after the first success");
    is_int(used, strlen(SUCCESS_TAIL),
           "used ends right after the split element");
    is_int(xml_reader_reset(xr), XMP_OK, "reset");
    is_int(feed_str(xr, "<?xml version='1.0'?><stream:stream xmlns='"
                        NS_CLIENT "' xmlns:stream='" XML_NS_STREAM "'>",
                    &used, &err), XMP_OK, "restart");
    xml_reader_free(xr);
    rec_free(&r);

    r.pause_name = "success";
    xr = xml_reader_new(&rec_cb, &r);
    start = strlen(SUCCESS_TAIL);
    feed_str(xr, HEADER, &used, &err);
    is_int(xml_reader_feed(xr, b.data + start, b.len - start, &used, &err),
           XMP_OK, "a chunk larger than one parser slice");
    is_int(used, b.len - start - strlen("LEFT"),
           "paused in a later slice, used is right");
    nfill = (b.len - start - strlen("<success/>LEFT")) / strlen(FILLER);
    is_int(r.elements, nfill + 1, "every stanza before the pause delivered");
    xml_reader_free(xr);
    rec_free(&r);
    buf_free(&b);
}

static void test_reader_restricted(void)
{
    static const struct {
        const char *doc, *what, *msg;
    } bad[] = {
        { "<?xml version='1.0'?><!DOCTYPE stream:stream>"
          "<stream:stream xmlns:stream='" XML_NS_STREAM "'>",
          "DOCTYPE", "document type declaration" },
        { "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
          "<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
          "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]>"
          "<lolz>&lol3;</lolz>",
          "billion laughs", "restricted XML" },
        { HEADER "<?foo bar?>", "processing instruction",
          "processing instruction" },
        { HEADER "<message><?foo bar?></message>",
          "processing instruction in a stanza", "processing instruction" },
        { HEADER "<!-- hi -->", "comment", "comment not allowed" },
        { HEADER "<message><body><!-- hi --></body></message>",
          "comment in a stanza", "comment" },
        { "<!-- hi -->" HEADER, "comment before the header", "comment" },
    };
    struct rec r = { 0 };
    struct xmp_error err;
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        is_int(parse_all(bad[i].doc, strlen(bad[i].doc), &r, &err),
               XMP_EPROTO, "%s refused", bad[i].what);
        ok(strstr(err.msg, "restricted XML") &&
               strstr(err.msg, bad[i].msg),
           "%s: %s", bad[i].what, err.msg);
        is_int(r.elements, 0, "%s: nothing delivered", bad[i].what);
        rec_free(&r);
    }
}

static void test_reader_malformed(void)
{
    static const struct {
        const char *doc, *what;
    } bad[] = {
        { HEADER "<message><body></message>", "mismatched tag" },
        { HEADER "<foo:bar/>", "unbound prefix" },
        { HEADER "<message a='1' a='2'/>", "duplicate attribute" },
        { HEADER "<message>&nbsp;</message>", "undefined entity" },
        { HEADER "<message>&#0;</message>", "character reference to NUL" },
        { HEADER "<message>\x01</message>", "control character" },
        { HEADER "<message xmlns:p=''/>", "undeclared prefix" },
        { "junk" HEADER, "text before the header" },
        { HEADER "</stream:stream><message/>", "element after the end" },
    };
    struct rec r = { 0 };
    struct xmp_error err;
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        is_int(parse_all(bad[i].doc, strlen(bad[i].doc), &r, &err),
               XMP_EPROTO, "%s refused", bad[i].what);
        ok(err.code == XMP_EPROTO && err.msg[0], "%s: %s", bad[i].what,
           err.msg);
        is_int(r.elements, 0, "%s: nothing delivered", bad[i].what);
        rec_free(&r);
    }
    parse_all(HEADER "\n<message><body></message>",
              strlen(HEADER "\n<message><body></message>"), &r, &err);
    ok(strstr(err.msg, "malformed XML at line 2 column 18: mismatched tag"),
       "malformed message: %s", err.msg);
    rec_free(&r);
}

/* HEADER, then depth nested <a> elements as one stanza. */
static enum xmp_err nested(int depth, struct rec *r, struct xmp_error *err)
{
    struct buf b = BUF_INIT;
    enum xmp_err rc;
    int i;

    buf_puts(&b, HEADER);
    for (i = 0; i < depth; i++)
        buf_puts(&b, "<a>");
    for (i = 0; i < depth; i++)
        buf_puts(&b, "</a>");
    rc = parse_all(b.data, b.len, r, err);
    buf_free(&b);
    return rc;
}

/* HEADER, then one stanza with n attributes. */
static enum xmp_err many_attrs(int n, struct rec *r, struct xmp_error *err)
{
    struct buf b = BUF_INIT;
    enum xmp_err rc;
    int i;

    buf_puts(&b, HEADER "<message");
    for (i = 0; i < n; i++)
        buf_printf(&b, " a%d='%d'", i, i);
    buf_puts(&b, "/>");
    rc = parse_all(b.data, b.len, r, err);
    buf_free(&b);
    return rc;
}

/* HEADER, then a stanza of exactly size bytes, fed in one chunk or in
 * 1000-byte pieces. */
static enum xmp_err sized(size_t size, int pieces, struct rec *r,
                          struct xmp_error *err)
{
    static const char stag[] = "<message><body>";
    static const char etag[] = "</body></message>";
    struct buf b = BUF_INIT;
    struct xml_reader *xr;
    enum xmp_err rc = XMP_OK;
    size_t used, off, n;

    buf_puts(&b, HEADER);
    buf_puts(&b, stag);
    while (b.len < strlen(HEADER) + size - strlen(etag))
        buf_append(&b, "x", 1);
    buf_puts(&b, etag);
    xr = xml_reader_new(&rec_cb, r);
    xmp_error_clear(err);
    for (off = 0; off < b.len && rc == XMP_OK; off += n) {
        n = pieces ? 1000 : b.len;
        if (n > b.len - off)
            n = b.len - off;
        rc = xml_reader_feed(xr, b.data + off, n, &used, err);
    }
    xml_reader_free(xr);
    buf_free(&b);
    return rc;
}

static void test_reader_limits(void)
{
    struct rec r = { 0 };
    struct xmp_error err;
    struct buf b = BUF_INIT;

    is_int(nested(XML_MAX_DEPTH, &r, &err), XMP_OK, "depth 64 is fine");
    is_int(r.elements, 1, "and delivered");
    rec_free(&r);
    is_int(nested(XML_MAX_DEPTH + 1, &r, &err), XMP_EPROTO,
           "depth 65 refused");
    ok(strstr(err.msg, "XML_MAX_DEPTH") != NULL, "message: %s", err.msg);
    is_int(r.elements, 0, "and not delivered");
    rec_free(&r);

    is_int(many_attrs(XML_MAX_ATTRS, &r, &err), XMP_OK, "64 attributes");
    is_int(r.elements, 1, "delivered");
    rec_free(&r);
    is_int(many_attrs(XML_MAX_ATTRS + 1, &r, &err), XMP_EPROTO,
           "65 attributes refused");
    ok(strstr(err.msg, "XML_MAX_ATTRS") != NULL, "message: %s", err.msg);
    rec_free(&r);

    is_int(sized(XML_MAX_STANZA_BYTES, 0, &r, &err), XMP_OK,
           "a stanza of exactly the limit");
    is_int(r.elements, 1, "delivered");
    rec_free(&r);
    is_int(sized(XML_MAX_STANZA_BYTES + 1, 0, &r, &err), XMP_EPROTO,
           "one byte more is refused");
    is_str(err.msg, "stanza larger than 1048576 bytes (XML_MAX_STANZA_BYTES)",
           "message");
    is_int(r.elements, 0, "not delivered");
    rec_free(&r);
    is_int(sized(XML_MAX_STANZA_BYTES, 1, &r, &err), XMP_OK,
           "the limit in pieces");
    rec_free(&r);
    is_int(sized(XML_MAX_STANZA_BYTES + 1, 1, &r, &err), XMP_EPROTO,
           "one more in pieces is refused");
    rec_free(&r);

    /* A start tag that never ends, so expat reports nothing. */
    buf_puts(&b, HEADER "<message a='");
    while (b.len < 2 * XML_MAX_STANZA_BYTES)
        buf_puts(&b, "xxxxxxxxxxxxxxxx");
    is_int(parse_all(b.data, b.len, &r, &err), XMP_EPROTO,
           "an endless start tag is refused");
    ok(strstr(err.msg, "XML_MAX_STANZA_BYTES") != NULL, "message: %s",
       err.msg);
    rec_free(&r);
    buf_free(&b);

    buf_puts(&b, "<stream:stream a='");
    while (b.len < 2 * XML_MAX_STANZA_BYTES)
        buf_puts(&b, "xxxxxxxxxxxxxxxx");
    is_int(parse_all(b.data, b.len, &r, &err), XMP_EPROTO,
           "an endless stream header is refused");
    ok(strstr(err.msg, "stream header larger") != NULL, "message: %s",
       err.msg);
    rec_free(&r);
    buf_free(&b);

    /* A namespace URI is kept by every element in its scope: bounded. */
    buf_puts(&b, HEADER "<m xmlns='urn:");
    while (b.len < sizeof HEADER + XML_MAX_NS_URI + 16)
        buf_puts(&b, "x");
    buf_puts(&b, "'/>");
    is_int(parse_all(b.data, b.len, &r, &err), XMP_EPROTO,
           "a namespace name over XML_MAX_NS_URI is refused");
    ok(strstr(err.msg, "XML_MAX_NS_URI") != NULL, "message: %s", err.msg);
    rec_free(&r);
    buf_free(&b);

    /* Under the size limit on the wire, but each child repeats a 1000-byte
     * namespace in memory: the memory budget stops it. */
    buf_puts(&b, HEADER "<m xmlns='urn:");
    while (b.len < sizeof HEADER + 1000)
        buf_puts(&b, "y");
    buf_puts(&b, "'>");
    while (b.len < XML_MAX_STANZA_BYTES / 2)
        buf_puts(&b, "<a/>");
    buf_puts(&b, "</m>");
    is_int(parse_all(b.data, b.len, &r, &err), XMP_EPROTO,
           "a stanza that would take too much memory is refused");
    ok(strstr(err.msg, "XML_MAX_STANZA_MEMORY") != NULL, "message: %s",
       err.msg);
    rec_free(&r);
    buf_free(&b);

    /* Empty elements with 64 short attributes each: 1 MB on the wire
     * would be about 14 MB of tree.  The budget counts what is allocated
     * (nodes, names, attribute arrays and strings), so it stops the
     * stanza, and the heap never holds much more than the budget. */
    {
        long long peak;
        int i;

        buf_puts(&b, HEADER "<m>");
        while (b.len < XML_MAX_STANZA_BYTES - 1024) {
            buf_puts(&b, "<e");
            for (i = 0; i < XML_MAX_ATTRS; i++)
                buf_printf(&b, " a%d=''", i);
            buf_puts(&b, "/>");
        }
        buf_puts(&b, "</m>");
        is_int(parse_measured(b.data, b.len, &r, &peak, &err), XMP_EPROTO,
               "1 MB of empty elements with %d attributes each is refused",
               XML_MAX_ATTRS);
        ok(strstr(err.msg, "XML_MAX_STANZA_MEMORY") != NULL, "message: %s",
           err.msg);
        if (peak < 0)
            ok(1, "# SKIP heap use cannot be measured here");
        else
            ok(peak <= XML_MAX_STANZA_MEMORY + XML_MAX_STANZA_MEMORY / 8,
               "the heap held at most the budget and an eighth: %lld bytes",
               peak);
        rec_free(&r);
        buf_free(&b);

        /* Empty elements without attributes cost more than ten times
         * their bytes as well. */
        buf_puts(&b, HEADER "<m>");
        while (b.len < XML_MAX_STANZA_BYTES - 1024)
            buf_puts(&b, "<e/>");
        buf_puts(&b, "</m>");
        is_int(parse_measured(b.data, b.len, &r, &peak, &err), XMP_EPROTO,
               "1 MB of empty elements is refused");
        if (peak < 0)
            ok(1, "# SKIP heap use cannot be measured here");
        else
            ok(peak <= XML_MAX_STANZA_MEMORY + XML_MAX_STANZA_MEMORY / 8,
               "the heap held at most the budget and an eighth: %lld bytes",
               peak);
        rec_free(&r);
        buf_free(&b);

        /* A roster of 6000 contacts (some 650 KB) still fits. */
        buf_puts(&b, HEADER "<iq type='set' id='p'><query "
                            "xmlns='jabber:iq:roster'>");
        for (i = 0; i < 6000; i++)
            buf_printf(&b, "<item jid='contact%d@example.org' name='Contact "
                           "number %d' subscription='both'><group>Friends"
                           "</group></item>",
                       i, i);
        buf_puts(&b, "</query></iq>");
        is_int(parse_measured(b.data, b.len, &r, &peak, &err), XMP_OK,
               "a roster of %d contacts (%zu bytes) is accepted", i, b.len);
        if (err.code != XMP_OK)
            diag("error: %s", err.msg);
        rec_free(&r);
        buf_free(&b);
    }

    /* Keepalives and small stanzas add up to far more than the limit. */
    buf_puts(&b, HEADER);
    while (b.len < 3 * XML_MAX_STANZA_BYTES)
        buf_puts(&b, "  <presence/>\n ");
    is_int(parse_all(b.data, b.len, &r, &err), XMP_OK,
           "many small stanzas are fine");
    ok(r.elements > 100000, "all delivered (%d)", r.elements);
    rec_free(&r);
    buf_free(&b);
}

static void test_reader_callbacks(void)
{
    struct rec r = { 0 };
    struct xmp_error err;
    struct xml_reader *xr;
    size_t used;

    r.fail_element = 1;
    is_int(parse_all(HEADER "<message/>", strlen(HEADER "<message/>"), &r,
                     &err), XMP_EPROTO, "element callback fails");
    is_str(err.msg, "stream rejected by handler", "default message");
    rec_free(&r);

    r.fail_element = 1;
    r.err = &err;
    snprintf(err.msg, sizeof err.msg, "stale");
    xr = xml_reader_new(&rec_cb, &r);
    is_int(feed_str(xr, HEADER "<message/><presence/>", &used, &err),
           XMP_EPROTO, "element callback fails with its own message");
    is_str(err.msg, "handler says no", "the callback's message is kept");
    is_int(r.elements, 1, "nothing after the failure");
    is_int(feed_str(xr, "<presence/>", &used, &err), XMP_EPROTO,
           "the reader stays dead");
    is_str(err.msg, "handler says no", "with the same message");
    is_int(xml_reader_reset(xr), XMP_OK, "reset");
    r.fail_element = 0;
    is_int(feed_str(xr, HEADER "<presence/>", &used, &err), XMP_OK,
           "alive again after reset");
    is_int(r.elements, 2, "and delivering");
    xml_reader_free(xr);
    rec_free(&r);

    r.fail_start = 1;
    is_int(parse_all(HEADER, strlen(HEADER), &r, &err), XMP_EPROTO,
           "stream_start callback fails");
    is_str(err.msg, "stream rejected by handler", "its message");
    rec_free(&r);

    /* No callbacks at all: trees are freed by the reader. */
    xr = xml_reader_new(NULL, NULL);
    is_int(feed_str(xr, HEADER "<message><body>x</body></message>"
                    "</stream:stream>", &used, &err), XMP_OK,
           "a reader without callbacks");
    xml_reader_free(xr);

    /* An unfinished stanza is freed with the reader. */
    xr = xml_reader_new(&rec_cb, &r);
    is_int(feed_str(xr, HEADER "<message><body>x</body><a><b>", &used, &err),
           XMP_OK, "half a stanza");
    is_int(xml_reader_reset(xr), XMP_OK, "reset drops it");
    feed_str(xr, HEADER "<message><body>", &used, &err);
    xml_reader_free(xr);
    rec_free(&r);
}

int main(void)
{
    test_escape();
    test_forbidden();
    test_allowed();
    test_names();
    test_tree();
    test_reader_basic();
    test_reader_text();
    test_reader_pause();
    test_reader_restricted();
    test_reader_malformed();
    test_reader_limits();
    test_reader_callbacks();
    return tap_done();
}
