/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * printer.c - how a record looks in each format of --format.  A caller
 * describes what it reports as a record: typed fields (string, integer,
 * boolean, list of strings, object, list of objects) for programs, and
 * the aligned "key          value" lines people read.  out_print renders
 * it:
 *
 *   json  the fields as one JSON object on one line (JSON Lines); every
 *         string escaped so that the line is valid JSON and holds nothing
 *         a terminal would act on
 *   text  its line of free form, if it has one, and its aligned lines,
 *         made safe for a terminal
 *   xml   its element on one line (a stanza, a roster item), characters
 *         a terminal would act on as character references; a record
 *         without one as text
 *
 * A record with lines only says nothing to a program.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- json ------------------------------------------------------------ */

static void json_quote(const char *s, int cr_as_control)
{
    size_t i = 0, len = strlen(s), n;
    uint32_t cp;

    putchar('"');
    while (i < len) {
        n = xmp_utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            fputs("\\ufffd", stdout); /* never happens with parsed XML */
            i++;
            continue;
        }
        if (cp == '"')
            fputs("\\\"", stdout);
        else if (cp == '\\')
            fputs("\\\\", stdout);
        else if (cp == '\n')
            fputs("\\n", stdout);
        else if (cp == '\r' && !cr_as_control)
            fputs("\\r", stdout);
        else if (cp == '\t')
            fputs("\\t", stdout);
        else if (cli_unsafe_cp(cp) && cp < 0x10000)
            printf("\\u%04x", (unsigned)cp);
        else if (cli_unsafe_cp(cp)) /* a tag character: a surrogate pair */
            printf("\\u%04x\\u%04x", 0xd800 + ((cp - 0x10000) >> 10),
                   0xdc00 + ((cp - 0x10000) & 0x3ff));
        else
            fwrite(s + i, 1, n, stdout);
        i += n;
    }
    putchar('"');
}

static void json_object(const struct out_record *r);

static void json_value(const struct out_record *r, const struct out_field *f)
{
    size_t k;

    switch (f->type) {
    case OUT_STR:
        json_quote(f->s, r->cr_as_control);
        break;
    case OUT_INT:
        printf("%lld", f->n);
        break;
    case OUT_BOOL:
        fputs(f->n ? "true" : "false", stdout);
        break;
    case OUT_LIST:
        putchar('[');
        for (k = 0; k < f->len; k++) {
            if (k)
                putchar(',');
            json_quote(f->list[k], r->cr_as_control);
        }
        putchar(']');
        break;
    case OUT_OBJECT:
        json_object(f->sub);
        break;
    case OUT_OBJECTS:
        putchar('[');
        for (k = 0; k < f->len; k++) {
            if (k)
                putchar(',');
            json_object(&f->sub[k]);
        }
        putchar(']');
        break;
    }
}

static void json_object(const struct out_record *r)
{
    size_t k;

    putchar('{');
    for (k = 0; k < r->n; k++) {
        if (k)
            putchar(',');
        json_quote(r->f[k].key, r->cr_as_control);
        putchar(':');
        json_value(r, &r->f[k]);
    }
    putchar('}');
}

/* ---- xml ------------------------------------------------------------- */

/* Equal XML, but nothing a terminal would act on: such code points as
 * character references. */
static void xml_line(const char *xml)
{
    size_t i = 0, len = strlen(xml), n;
    uint32_t cp;

    while (i < len) {
        n = xmp_utf8_decode(xml + i, len - i, &cp);
        if (n && cli_unsafe_cp(cp))
            printf("&#x%X;", (unsigned)cp);
        else
            fwrite(xml + i, 1, n ? n : 1, stdout);
        i += n ? n : 1;
    }
}

/* ---- building -------------------------------------------------------- */

void out_begin(struct out_record *r)
{
    memset(r, 0, sizeof *r);
}

static struct out_field *field(struct out_record *r, const char *key,
                               enum out_type type)
{
    struct out_field *f;

    if (r->n == OUT_MAX_FIELDS) {
        r->overflow = 1;
        return NULL;
    }
    f = &r->f[r->n++];
    memset(f, 0, sizeof *f);
    f->key = key;
    f->type = type;
    return f;
}

void out_str(struct out_record *r, const char *key, const char *value)
{
    struct out_field *f;

    if (value && (f = field(r, key, OUT_STR)))
        f->s = value;
}

void out_int(struct out_record *r, const char *key, long long value)
{
    struct out_field *f = field(r, key, OUT_INT);

    if (f)
        f->n = value;
}

void out_bool(struct out_record *r, const char *key, int value)
{
    struct out_field *f = field(r, key, OUT_BOOL);

    if (f)
        f->n = !!value;
}

void out_list(struct out_record *r, const char *key,
              const char *const *list, size_t len)
{
    struct out_field *f = field(r, key, OUT_LIST);

    if (f) {
        f->list = list;
        f->len = len;
    }
}

void out_object(struct out_record *r, const char *key,
                const struct out_record *sub)
{
    struct out_field *f = field(r, key, OUT_OBJECT);

    if (f) {
        f->sub = sub;
        f->len = 1;
    }
}

void out_objects(struct out_record *r, const char *key,
                 const struct out_record *subs, size_t len)
{
    struct out_field *f = field(r, key, OUT_OBJECTS);

    if (f) {
        f->sub = subs;
        f->len = len;
    }
}

void out_line(struct out_record *r, const char *key, const char *fmt, ...)
{
    struct out_line *l;
    va_list ap;

    if (r->nlines == OUT_MAX_LINES) {
        r->overflow = 1;
        return;
    }
    l = &r->line[r->nlines++];
    l->key = key;
    va_start(ap, fmt);
    vsnprintf(l->value, sizeof l->value, fmt, ap);
    va_end(ap);
}

/* ---- printing -------------------------------------------------------- */

int out_print(enum out_format format, const struct out_record *r)
{
    size_t k;

    if (r->overflow) {
        /* a caller describing more than a record holds */
        cli_error("internal error: a record too large to print");
        return -1;
    }
    if (format == FORMAT_JSON) {
        if (r->n) {
            json_object(r);
            putchar('\n');
        }
    } else if (format == FORMAT_XML && r->xml) {
        xml_line(r->xml);
        putchar('\n');
    } else {
        if (r->text) {
            cli_print_sanitized(stdout, r->text, strlen(r->text));
            putchar('\n');
        }
        for (k = 0; k < r->nlines; k++)
            cli_kv_line(r->line[k].key, "%s", r->line[k].value);
    }
    return ferror(stdout) ? -1 : 0;
}
