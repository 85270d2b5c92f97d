/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/*
 * xml.c - the reader for one XMPP stream (libexpat) and the escaping
 * writer.
 *
 * The stream is one endless XML document: depth 1 is <stream:stream>,
 * and every element at depth 2 is built into a tree and handed over
 * when its end tag arrives.  Everything RFC 6120 §11.1 forbids is
 * refused, and the size of what we buffer for the peer is bounded.
 */
#include "xml.h"
#include "buf.h"

#include <expat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes handed to expat per XML_Parse call.  The stanza size limit is
 * checked between calls, so this bounds how far past the limit expat's
 * buffer can grow while it waits for the end of a huge start tag. */
#define FEED_SLICE (64 * 1024)

/* Billion laughs protection (expat 2.4+).  A DTD is refused outright
 * (RFC 6120 §11.1), so no entity can ever be declared; this is a second
 * line of defence, stricter than expat's defaults (100x from 8 MiB). */
#define BL_MAX_AMPLIFICATION 50.0f
#define BL_ACTIVATION_BYTES (1024ULL * 1024)

/* Between a namespace URI and a local name in the names expat hands us. */
#define NS_SEP ' '

enum reader_state {
    RD_OK,
    RD_PAUSED, /* an element callback asked to stop right after it */
    RD_FAILED  /* dead until xml_reader_reset */
};

struct xml_reader {
    XML_Parser p;
    struct xml_reader_cb cb;
    void *ud;
    enum reader_state state;
    int in_feed;  /* inside XML_Parse: no feed or reset from a callback */
    int stopped;  /* a handler stopped expat: ignore any later events */
    int started;  /* the stream header was read */
    int ended;    /* </stream:stream> was read */
    int cb_failed;
    int depth;    /* open elements; 1 is the stream header */
    /* open[0] is the stanza being built, open[i] the element i levels
     * inside it; open[0] is owned here until it is handed over. */
    struct xmp_node *open[XML_MAX_DEPTH];
    /* Offsets over the stream, counted from the parser's creation. */
    long long fed;          /* bytes handed to this parser */
    long long stanza_start; /* where the current stanza's start tag began */
    long long idle_mark;    /* just past the last event outside stanzas */
    long long pause_at;     /* just past the element that paused */
    size_t stanza_mem;      /* what the current stanza's tree holds */
    struct xmp_error fail;  /* why the reader failed */
    /* Fragment mode (caller XML): a wrapper element of wrap_len bytes on
     * line 1 stands in for the stream header; positions in messages are
     * the caller's own. */
    int fragment;
    size_t wrap_len;
    /* What expat holds back unparsed after the last event is only
     * whitespace (a trailing CR waits for a possible LF). */
    int held_space;
};

/* ---- failing from a handler -------------------------------------------- */

/* Where expat is, as the caller counts: lines and columns from 1, and
 * on line 1 of a fragment without our wrapper. */
static void position(const struct xml_reader *r, unsigned long long *line,
                     unsigned long long *col)
{
    *line = (unsigned long long)XML_GetCurrentLineNumber(r->p);
    *col = (unsigned long long)XML_GetCurrentColumnNumber(r->p) + 1;
    if (r->fragment && *line == 1 && *col > r->wrap_len)
        *col -= r->wrap_len;
}

/* Record why and stop expat for good; XML_Parse then returns
 * XML_ERROR_ABORTED and feed reports this reason instead.  Caller XML
 * gets the position first. */
__attribute__((format(printf, 3, 4))) static void
fail(struct xml_reader *r, enum xmp_err code, const char *fmt, ...)
{
    unsigned long long line, col;
    va_list ap;
    int n = 0;

    r->fail.code = code;
    if (r->fragment && code != XMP_ENOMEM) {
        position(r, &line, &col);
        n = snprintf(r->fail.msg, sizeof r->fail.msg,
                     "line %llu, column %llu: ", line, col);
        if (n < 0 || (size_t)n >= sizeof r->fail.msg)
            n = 0;
    }
    va_start(ap, fmt);
    vsnprintf(r->fail.msg + n, sizeof r->fail.msg - (size_t)n, fmt, ap);
    va_end(ap);
    r->stopped = 1;
    XML_StopParser(r->p, XML_FALSE);
}

/* A node setter failed: bad data from the peer is a protocol error. */
static void fail_node(struct xml_reader *r, const struct xmp_error *e)
{
    if (e->code == XMP_ENOMEM)
        fail(r, XMP_ENOMEM, "out of memory");
    else
        fail(r, XMP_EPROTO, "%s", e->msg);
}

static void restricted(struct xml_reader *r, const char *what)
{
    fail(r, XMP_EPROTO, "restricted XML: %s not allowed (RFC 6120 §11.1)",
         what);
}

/* Stream offset just past the event being reported. */
static long long event_end(XML_Parser p)
{
    XML_Index i = XML_GetCurrentByteIndex(p);

    return i < 0 ? 0 : (long long)i + XML_GetCurrentByteCount(p);
}

/* Fail when the stanza being built has grown past the limit. */
static int check_stanza_size(struct xml_reader *r, long long end)
{
    if (end - r->stanza_start <= XML_MAX_STANZA_BYTES)
        return 0;
    fail(r, XMP_EPROTO, "stanza larger than %d bytes (XML_MAX_STANZA_BYTES)",
         XML_MAX_STANZA_BYTES);
    return -1;
}

/* Count n more bytes against the stanza's memory budget. */
static int charge(struct xml_reader *r, size_t n)
{
    r->stanza_mem += n;
    if (r->stanza_mem <= XML_MAX_STANZA_MEMORY)
        return 0;
    fail(r, XMP_EPROTO, "stanza needs more than %d bytes of memory "
         "(XML_MAX_STANZA_MEMORY)", XML_MAX_STANZA_MEMORY);
    return -1;
}

/*
 * Split expat's "URI local" (or "local") into a fresh copy of the URI,
 * "" when there is none, and the local part.  NULL on ENOMEM.
 */
static char *split_name(const char *name, const char **local)
{
    const char *sep = strrchr(name, NS_SEP);
    size_t len = sep ? (size_t)(sep - name) : 0;
    char *ns = malloc(len + 1);

    if (!ns)
        return NULL;
    memcpy(ns, name, len);
    ns[len] = '\0';
    *local = sep ? sep + 1 : name;
    return ns;
}

/* ---- expat handlers ---------------------------------------------------- */

static void XMLCALL on_start(void *ud, const XML_Char *name,
                             const XML_Char **atts)
{
    struct xml_reader *r = ud;
    struct xmp_error e = { XMP_OK, "" };
    struct xmp_node *n;
    const char *local;
    char *ns = NULL;
    size_t i, natts;

    if (r->stopped)
        return;
    for (natts = 0; atts[2 * natts]; natts++)
        ;
    if (natts > XML_MAX_ATTRS) {
        fail(r, XMP_EPROTO, "element with more than %d attributes "
             "(XML_MAX_ATTRS)", XML_MAX_ATTRS);
        return;
    }
    /* The stanza is level 1 of nesting, so its depth in the stream is
     * one more than its level. */
    if (r->depth > XML_MAX_DEPTH) {
        fail(r, XMP_EPROTO, "elements nested more than %d levels deep in "
             "a stanza (XML_MAX_DEPTH)", XML_MAX_DEPTH);
        return;
    }
    ns = split_name(name, &local);
    if (!ns) {
        fail(r, XMP_ENOMEM, "out of memory");
        return;
    }

    if (r->depth == 0) {
        r->depth = 1;
        r->started = 1;
        r->idle_mark = event_end(r->p);
        if (r->cb.stream_start &&
            r->cb.stream_start(r->ud, ns, local, atts) != 0) {
            r->cb_failed = 1;
            fail(r, XMP_EPROTO, "stream rejected by handler");
        }
        goto out;
    }

    if (r->depth == 1) {
        r->stanza_start = XML_GetCurrentByteIndex(r->p);
        r->stanza_mem = 0;
    }
    if (check_stanza_size(r, event_end(r->p)) < 0)
        goto out;
    if (r->depth == 1)
        n = xmp_node_new(ns, local, &e);
    else
        n = xmp_node_add_child(r->open[r->depth - 2], ns, local, &e);
    if (!n) {
        fail_node(r, &e);
        goto out;
    }
    r->open[r->depth - 1] = n;
    r->depth++;
    for (i = 0; i < natts; i++) {
        if (xmp_node_set_attr(n, atts[2 * i], atts[2 * i + 1], &e) !=
            XMP_OK) {
            fail_node(r, &e);
            goto out;
        }
    }
    /* What was allocated, not what was on the wire: an empty element
     * with many short attributes takes ten times its bytes.  The stanza
     * size bounds what one element can add before this check. */
    charge(r, node_mem(n));

out:
    free(ns);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct xml_reader *r = ud;
    struct xmp_node *el;
    long long end;
    int rc;

    if (r->stopped)
        return;
    end = event_end(r->p);
    if (r->depth == 1 && r->fragment) {
        fail(r, XMP_EPROTO, "end tag </%s> without a start tag",
             strrchr(name, NS_SEP) ? strrchr(name, NS_SEP) + 1 : name);
        return;
    }
    if (r->depth == 1) {
        r->depth = 0;
        r->ended = 1;
        r->idle_mark = end;
        if (r->cb.stream_end)
            r->cb.stream_end(r->ud);
        return;
    }
    r->depth--;
    if (r->depth > 1)
        return;

    /* A stanza is complete. */
    el = r->open[0];
    r->open[0] = NULL;
    if (check_stanza_size(r, end) < 0) {
        xmp_node_free(el);
        return;
    }
    r->idle_mark = end;
    if (!r->cb.element) {
        xmp_node_free(el);
        return;
    }
    rc = r->cb.element(r->ud, el);
    if (rc == 0)
        return;
    if (rc == 1) {
        /* Suspend right here; expat leaves the rest of the buffer
         * unparsed, and the caller restarts with a fresh parser. */
        r->pause_at = end;
        r->stopped = 1;
        if (XML_StopParser(r->p, XML_TRUE) != XML_STATUS_OK)
            fail(r, XMP_EPROTO, "cannot pause the XML parser: %s",
                 XML_ErrorString(XML_GetErrorCode(r->p)));
        return;
    }
    r->cb_failed = 1;
    fail(r, XMP_EPROTO, "stream rejected by handler");
}

static int all_space(const char *s, int len)
{
    int i;

    /* XML 1.0 §2.3 [3] S */
    for (i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return 0;
    return 1;
}

static void XMLCALL on_chars(void *ud, const XML_Char *s, int len)
{
    struct xml_reader *r = ud;
    struct xmp_error e = { XMP_OK, "" };

    if (r->stopped)
        return;
    if (r->depth >= 2) {
        struct xmp_node *p = r->open[r->depth - 2];
        size_t before = node_mem_last_text(p);

        if (check_stanza_size(r, event_end(r->p)) < 0)
            return;
        if (xmp_node_add_text(p, s, (size_t)len, &e) != XMP_OK) {
            fail_node(r, &e);
            return;
        }
        /* the text buffer's growth, or a new text node */
        charge(r, node_mem_last_text(p) - before);
        return;
    }
    /* Whitespace between stanzas is a keepalive (RFC 6120 §4.6.1). */
    if (!all_space(s, len)) {
        fail(r, XMP_EPROTO, r->fragment ? "text outside any element"
                                        : "text outside any stanza in the "
                                          "stream");
        return;
    }
    r->idle_mark = event_end(r->p);
}

static void XMLCALL on_ns_decl(void *ud, const XML_Char *prefix,
                               const XML_Char *uri)
{
    struct xml_reader *r = ud;

    (void)prefix;

    if (!r->stopped && uri && strlen(uri) > XML_MAX_NS_URI)
        fail(r, XMP_EPROTO, "namespace name longer than %d bytes "
             "(XML_MAX_NS_URI)", XML_MAX_NS_URI);
}

/* RFC 6120 §11.6: UTF-8 only.  The parser is created for UTF-8, which
 * overrides the declaration, so a different claim is refused rather
 * than silently ignored. */
static void XMLCALL on_xml_decl(void *ud, const XML_Char *version,
                                const XML_Char *encoding, int standalone)
{
    struct xml_reader *r = ud;

    (void)version; (void)standalone;

    if (r->stopped || !encoding || strcasecmp(encoding, "UTF-8") == 0)
        return;
    fail(r, XMP_EPROTO, "unsupported encoding '%.40s' (RFC 6120 §11.6: "
         "UTF-8 only)", encoding);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *doctype_name,
                               const XML_Char *sysid, const XML_Char *pubid,
                               int has_internal_subset)
{
    struct xml_reader *r = ud;

    (void)doctype_name; (void)pubid; (void)sysid; (void)has_internal_subset;

    if (!r->stopped)
        restricted(r, "document type declaration");
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *entity_name,
                                   int is_parameter_entity,
                                   const XML_Char *value, int value_length,
                                   const XML_Char *base,
                                   const XML_Char *system_id,
                                   const XML_Char *public_id,
                                   const XML_Char *notation_name)
{
    struct xml_reader *r = ud;

    (void)entity_name; (void)is_parameter_entity; (void)value;
    (void)value_length; (void)base; (void)system_id; (void)public_id;
    (void)notation_name;

    if (!r->stopped)
        restricted(r, "entity declaration");
}

static void XMLCALL on_pi(void *ud, const XML_Char *target,
                          const XML_Char *data)
{
    struct xml_reader *r = ud;

    (void)target; (void)data;

    if (!r->stopped)
        restricted(r, "processing instruction");
}

/* A comment in caller XML is dropped, as a notation for people; from
 * the peer it is refused. */
static void XMLCALL on_comment(void *ud, const XML_Char *data)
{
    struct xml_reader *r = ud;

    (void)data;

    if (r->stopped)
        return;
    if (!r->fragment) {
        restricted(r, "comment");
        return;
    }
    if (r->depth < 2)
        r->idle_mark = event_end(r->p);
}

static void XMLCALL on_skipped_entity(void *ud, const XML_Char *entity_name,
                                      int is_parameter_entity)
{
    struct xml_reader *r = ud;

    (void)entity_name; (void)is_parameter_entity;

    if (!r->stopped)
        restricted(r, "reference to an undeclared entity");
}

/* ---- the reader ------------------------------------------------------- */

static XML_Parser parser_new(struct xml_reader *r)
{
    XML_Parser p = XML_ParserCreateNS("UTF-8", NS_SEP);

    if (!p)
        return NULL;
    XML_SetUserData(p, r);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_chars);
    XML_SetXmlDeclHandler(p, on_xml_decl);
    XML_SetStartNamespaceDeclHandler(p, on_ns_decl);
    /* RFC 6120 §11.1: no DTD, entity declaration, processing
     * instruction or comment; never load anything external. */
    XML_SetStartDoctypeDeclHandler(p, on_doctype);
    XML_SetEntityDeclHandler(p, on_entity_decl);
    XML_SetProcessingInstructionHandler(p, on_pi);
    XML_SetCommentHandler(p, on_comment);
    XML_SetSkippedEntityHandler(p, on_skipped_entity);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
#ifdef HAVE_XML_SETREPARSEDEFERRALENABLED
    /* Deferral holds back a stanza split across reads until unrelated
     * traffic arrives; a live stream must see each one at once. */
    XML_SetReparseDeferralEnabled(p, XML_FALSE);
#endif
#if defined(HAVE_XML_SETBILLIONLAUGHSATTACKPROTECTIONMAXIMUMAMPLIFICATION) && \
    defined(XML_DTD)
    XML_SetBillionLaughsAttackProtectionMaximumAmplification(
        p, BL_MAX_AMPLIFICATION);
    XML_SetBillionLaughsAttackProtectionActivationThreshold(
        p, BL_ACTIVATION_BYTES);
#endif
    return p;
}

/* Forget the parser and everything built from it. */
static void reader_clear(struct xml_reader *r)
{
    if (r->p)
        XML_ParserFree(r->p);
    xmp_node_free(r->open[0]);
    r->p = NULL;
    memset(r->open, 0, sizeof r->open);
    r->state = RD_OK;
    r->stopped = r->started = r->ended = r->cb_failed = r->held_space = 0;
    r->depth = 0;
    r->fed = r->stanza_start = r->idle_mark = r->pause_at = 0;
    xmp_error_clear(&r->fail);
}

struct xml_reader *xml_reader_new(const struct xml_reader_cb *cb, void *ud)
{
    struct xml_reader *r = calloc(1, sizeof *r);

    if (!r)
        return NULL;
    if (cb)
        r->cb = *cb;
    r->ud = ud;
    r->p = parser_new(r);
    if (!r->p) {
        free(r);
        return NULL;
    }
    return r;
}

void xml_reader_free(struct xml_reader *r)
{
    if (!r)
        return;
    reader_clear(r);
    free(r);
}

enum xmp_err xml_reader_reset(struct xml_reader *r)
{
    XML_Parser p;

    /* expat must not be reset from inside its own handlers. */
    if (!r || r->in_feed)
        return XMP_EUSAGE;
    p = parser_new(r);
    if (!p)
        return XMP_ENOMEM;
    reader_clear(r);
    r->p = p;
    return XMP_OK;
}

/* XML_Parse failed: say why, preferring the reason a handler recorded. */
static enum xmp_err parse_error(struct xml_reader *r, struct xmp_error *err)
{
    enum XML_Error code = XML_GetErrorCode(r->p);

    if (r->cb_failed) {
        /* The callback owns the message; supply one only if it did
         * not. */
        if (err && err->msg[0] == '\0')
            xmp_error_set(err, XMP_EPROTO, "stream rejected by handler");
        if (err)
            xmp_error_set(&r->fail, XMP_EPROTO, "%s", err->msg);
        return XMP_EPROTO;
    }
    if (r->fail.code != XMP_OK)
        return xmp_error_set(err, r->fail.code, "%s", r->fail.msg);
    if (code == XML_ERROR_NO_MEMORY) {
        xmp_error_set(&r->fail, XMP_ENOMEM, "out of memory");
    } else if (r->ended) {
        xmp_error_set(&r->fail, XMP_EPROTO,
                      "data after the end of the stream: %s",
                      XML_ErrorString(code));
    } else {
        unsigned long long line, col;

        position(r, &line, &col);
        if (r->fragment)
            xmp_error_set(&r->fail, XMP_EPROTO, "line %llu, column %llu: %s",
                          line, col, XML_ErrorString(code));
        else
            xmp_error_set(&r->fail, XMP_EPROTO,
                          "malformed XML at line %llu column %llu: %s", line,
                          col, XML_ErrorString(code));
    }
    return xmp_error_set(err, r->fail.code, "%s", r->fail.msg);
}

/* Between slices: bound what expat buffers for an unfinished token. */
static enum xmp_err check_pending(struct xml_reader *r)
{
    long long base = r->depth >= 2 ? r->stanza_start : r->idle_mark;

    if (r->fed - base <= XML_MAX_STANZA_BYTES)
        return XMP_OK;
    return xmp_error_set(&r->fail, XMP_EPROTO,
                         "%s larger than %d bytes (XML_MAX_STANZA_BYTES)",
                         !r->started ? "stream header"
                         : r->ended  ? "data after the end of the stream"
                                     : "stanza",
                         XML_MAX_STANZA_BYTES);
}

enum xmp_err xml_reader_feed(struct xml_reader *r, const char *buf,
                             size_t len, size_t *used, struct xmp_error *err)
{
    long long start;
    enum XML_Status st;
    enum xmp_err rc = XMP_OK;
    size_t off = 0, n, dummy;

    if (!used)
        used = &dummy;
    *used = 0;
    if (!r || (!buf && len))
        return xmp_error_set(err, XMP_EUSAGE, "nothing to feed");
    if (r->in_feed)
        return xmp_error_set(err, XMP_EUSAGE,
                             "the XML reader was fed from its own callback");
    if (r->state == RD_FAILED)
        return xmp_error_set(err, r->fail.code, "%s", r->fail.msg);
    if (len == 0)
        return XMP_OK;
    if (r->state == RD_PAUSED)
        return xmp_error_set(err, XMP_EUSAGE,
                             "the XML reader paused after an element; "
                             "reset it before feeding more");

    /* Callbacks may write into err; an empty message afterwards means
     * they did not. */
    xmp_error_clear(err);
    start = r->fed;
    r->in_feed = 1;
    while (off < len) {
        n = len - off < FEED_SLICE ? len - off : FEED_SLICE;
        r->fed += (long long)n;
        st = XML_Parse(r->p, buf + off, (int)n, XML_FALSE);
        off += n;
        if (st == XML_STATUS_ERROR) {
            rc = parse_error(r, err);
            goto out;
        }
        if (st == XML_STATUS_SUSPENDED) {
            r->state = RD_PAUSED;
            *used = (size_t)(r->pause_at - start);
            goto out;
        }
        rc = check_pending(r);
        if (rc != XMP_OK) {
            xmp_error_set(err, rc, "%s", r->fail.msg);
            goto out;
        }
    }
    *used = len;
    {
        long long held = r->fed - r->idle_mark;

        r->held_space = r->depth < 2 && held > 0 && (size_t)held <= len &&
                        all_space(buf + len - (size_t)held, (int)held);
    }

out:
    if (rc != XMP_OK)
        r->state = RD_FAILED;
    r->in_feed = 0;
    return rc;
}

int xml_reader_paused(const struct xml_reader *r)
{
    return r && r->state == RD_PAUSED;
}

/* The wrapper that stands in for a stream header around caller XML; it
 * is on line 1, so only columns on that line need correcting. */
#define FRAGMENT_WRAPPER "<xmpctl xmlns='jabber:client'>"

enum xmp_err xml_reader_fragment(struct xml_reader *r, struct xmp_error *err)
{
    size_t used;

    r->fragment = 1;
    r->wrap_len = sizeof FRAGMENT_WRAPPER - 1;
    return xml_reader_feed(r, FRAGMENT_WRAPPER, r->wrap_len, &used, err);
}

int xml_reader_inside(const struct xml_reader *r)
{
    /* In an element, or in the middle of a token expat holds back. */
    return r && (r->depth >= 2 || (r->fed > r->idle_mark && !r->held_space));
}

enum xmp_err xml_reader_end(struct xml_reader *r, struct xmp_error *err)
{
    unsigned long long line, col;

    if (r->state == RD_FAILED)
        return xmp_error_set(err, r->fail.code, "%s", r->fail.msg);
    if (!xml_reader_inside(r))
        return XMP_OK;
    /* Where expat stopped: the end of the input, or where a token it
     * could not finish begins. */
    position(r, &line, &col);
    r->state = RD_FAILED;
    if (r->depth >= 2)
        xmp_error_set(&r->fail, XMP_EPROTO,
                      "line %llu, column %llu: input ends inside <%s>", line,
                      col, xmp_node_name(r->open[0]));
    else
        xmp_error_set(&r->fail, XMP_EPROTO,
                      "line %llu, column %llu: unfinished tag at the end of "
                      "input", line, col);
    return xmp_error_set(err, r->fail.code, "%s", r->fail.msg);
}
