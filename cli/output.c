/* SPDX-License-Identifier: GPL-3.0-or-later */
/* output.c - messages and the trace. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

static void nothing_on_screen(void)
{
}

void (*cli_before_output)(void) = nothing_on_screen;
const char *cli_command_name;

/*
 * What a terminal must not be given: C0 controls but tab, DEL, C1
 * controls, the line and paragraph separators, and the Unicode format
 * characters (general category Cf) that are invisible or reorder text:
 * bidi marks, embeddings, overrides and isolates; zero-width space,
 * word joiner and the invisible operators; the byte order mark; the soft
 * hyphen (most terminals draw nothing for it); the deprecated format
 * characters, interlinear annotation, Mongolian vowel separator,
 * Egyptian hieroglyph, shorthand and musical format controls, and the
 * tag characters.  Let through, being needed for text to read right:
 * zero-width non-joiner and joiner (U+200C, U+200D: Persian and Indic
 * spelling, emoji sequences) and the visible Cf signs that begin a
 * number or mark an abbreviation (U+0600..U+0605, U+06DD, U+070F,
 * U+0890, U+0891, U+08E2, U+110BD, U+110CD).
 */
int cli_unsafe_cp(uint32_t c)
{
    if (c < 0x20)
        return c != '\t';
    if (c < 0x7f)
        return 0;
    if (c < 0xa0)
        return 1; /* DEL, C1 */
    if (c < 0x2000)
        return c == 0xad || c == 0x61c || c == 0x180e;
    if (c < 0x2070)
        return (c >= 0x200b && c <= 0x200f && c != 0x200c && c != 0x200d) ||
               (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f);
    if (c < 0x10000)
        return c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb);
    return (c >= 0x13430 && c <= 0x1343f) ||
           (c >= 0x1bca0 && c <= 0x1bca3) ||
           (c >= 0x1d173 && c <= 0x1d17a) || (c >= 0xe0000 && c <= 0xe007f);
}

void cli_print_sanitized(FILE *f, const char *s, size_t len)
{
    size_t i = 0, n;
    uint32_t cp;

    while (i < len) {
        n = xmp_utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            /* not UTF-8: show the byte, never pass it on */
            fprintf(f, "\\x%02x", (unsigned char)s[i]);
            i++;
            continue;
        }
        if (cp == '\n')
            fputs("\\n", f);
        else if (cp == '\r')
            fputs("\\r", f);
        else if (cli_unsafe_cp(cp) && cp < 0x80)
            fprintf(f, "\\x%02x", (unsigned)cp);
        else if (cli_unsafe_cp(cp) && cp < 0x10000)
            fprintf(f, "\\u%04x", (unsigned)cp);
        else if (cli_unsafe_cp(cp))
            fprintf(f, "\\U%08x", (unsigned)cp);
        else
            fwrite(s + i, 1, n, f);
        i += n;
    }
}

__attribute__((format(printf, 2, 0))) static void
vmsg(const char *prefix, const char *fmt, va_list ap)
{
    char buf[2048];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);

    if (n < 0)
        return;
    cli_before_output();
    fputs("xmpctl: ", stderr);
    /* "send: ..." once: many messages of a command already begin so */
    if (cli_command_name &&
        !(strncmp(buf, cli_command_name, strlen(cli_command_name)) == 0 &&
          buf[strlen(cli_command_name)] == ':')) {
        fputs(cli_command_name, stderr);
        fputs(": ", stderr);
    }
    fputs(prefix, stderr);
    cli_print_sanitized(stderr, buf, strlen(buf));
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmsg("", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmsg("warning: ", fmt, ap);
    va_end(ap);
}

/* The '>' that ends the tag at p ('<') before end, quoted attribute
 * values skipped; NULL if there is none. */
static const char *tag_end(const char *p, const char *end)
{
    char quote = 0;

    for (; p < end; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '>') {
            return p;
        }
    }
    return NULL;
}

/* Is the tag at p ('<', its end at gt) a start tag named name? */
static int start_tag(const char *p, const char *gt, const char *name)
{
    size_t n = strlen(name);

    return (size_t)(gt - p) > n && strncmp(p + 1, name, n) == 0 &&
           (p[1 + n] == ' ' || p[1 + n] == '>' || p[1 + n] == '/');
}

/* In the tag from p to gt, the value of the attribute name (its first
 * character after the opening quote in *v, its length in *vlen): 1, or
 * 0 when the tag has none.  Quoted values are skipped as a whole: a
 * value may look like an attribute. */
static int attr_value(const char *p, const char *gt, const char *name,
                      const char **v, size_t *vlen)
{
    static const char ws[] = " \t\r\n";
    size_t n = strlen(name);
    const char *q = p + 1, *close;

    while (q < gt) {
        if (*q == '\'' || *q == '"') {
            if (!(close = memchr(q + 1, *q, (size_t)(gt - q - 1))))
                return 0;
            q = close + 1;
            continue;
        }
        if (!strchr(ws, q[-1]) || (size_t)(gt - q) <= n ||
            strncmp(q, name, n) != 0) {
            q++;
            continue;
        }
        /* name, white space, '=', white space, the quote */
        for (close = q + n; close < gt && strchr(ws, *close);)
            close++;
        if (close >= gt || *close != '=') {
            q++;
            continue;
        }
        for (close++; close < gt && strchr(ws, *close);)
            close++;
        if (close >= gt || (*close != '\'' && *close != '"')) {
            q++;
            continue;
        }
        *v = close + 1;
        if (!(close = memchr(*v, *close, (size_t)(gt - *v))))
            return 0;
        *vlen = (size_t)(close - *v);
        return 1;
    }
    return 0;
}

/* The start tag from p to gt names a header whose value is a
 * credential: Authorization or Cookie (XEP-0363 §5). */
static int secret_header(const char *p, const char *gt)
{
    const char *v;
    size_t vlen;

    return attr_value(p, gt, "name", &v, &vlen) &&
           ((vlen == 13 && strncasecmp(v, "Authorization", 13) == 0) ||
            (vlen == 6 && strncasecmp(v, "Cookie", 6) == 0));
}

void cli_redact(const char *p, size_t len,
                void (*emit)(void *ud, const char *s, size_t len), void *ud)
{
    const char *end = p + len, *gt, *close, *until;
    int secret_field = 0;

    while (p < end) {
        if (*p != '<' || !(gt = tag_end(p, end))) {
            const char *lt = memchr(p + 1, '<', (size_t)(end - p - 1));

            if (*p == '<')
                lt = NULL; /* an unfinished tag: the rest as it is */
            emit(ud, p, (size_t)((lt ? lt : end) - p));
            p = lt ? lt : end;
            continue;
        }
        until = NULL;
        if (start_tag(p, gt, "field") && gt[-1] != '/')
            secret_field =
                memmem(p, (size_t)(gt - p), "text-private", 12) ||
                memmem(p, (size_t)(gt - p), "password", 8) ||
                memmem(p, (size_t)(gt - p), "secret", 6);
        else if ((size_t)(end - p) >= 8 && strncmp(p, "</field>", 8) == 0)
            secret_field = 0;
        else if (gt[-1] != '/' && start_tag(p, gt, "password"))
            until = "</password>";
        else if (gt[-1] != '/' && secret_field && start_tag(p, gt, "value"))
            until = "</value>";
        /* XEP-0388 SASL2: the SASL data, the FAST token's proof */
        else if (gt[-1] != '/' && start_tag(p, gt, "initial-response"))
            until = "</initial-response>";
        else if (gt[-1] != '/' && start_tag(p, gt, "additional-data"))
            until = "</additional-data>";
        /* XEP-0363: an upload slot's credentials for the PUT */
        else if (gt[-1] != '/' && start_tag(p, gt, "header") &&
                 secret_header(p, gt))
            until = "</header>";
        /* XEP-0484: a token the server issues */
        if (start_tag(p, gt, "token")) {
            const char *v;
            size_t vlen;

            if (attr_value(p, gt, "token", &v, &vlen) && vlen > 0) {
                emit(ud, p, (size_t)(v - p));
                emit(ud, "[redacted]", 10);
                p = v + vlen;
            }
        }
        emit(ud, p, (size_t)(gt + 1 - p));
        p = gt + 1;
        if (until && (close = memmem(p, (size_t)(end - p), until,
                                     strlen(until))) &&
            close > p) {
            emit(ud, "[redacted]", 10);
            p = close;
        }
    }
}

static void to_stderr(void *ud, const char *s, size_t len)
{
    (void)ud;
    cli_print_sanitized(stderr, s, len);
}

void cli_trace(void *ud, enum xmp_trace_dir dir, const char *text,
               size_t len)
{
    static const char *const marks[] = {"<< ", ">> ", "-- "};
    const struct cli *c = ud;

    if (c && c->record)
        c->record(c, dir, text, len);
    if (c && !c->o.verbose)
        return;
    cli_before_output();

    fputs("xmpctl: ", stderr);
    if (c && c->label) {
        cli_print_sanitized(stderr, c->label, strlen(c->label));
        fputs(": ", stderr);
    }
    fputs(marks[dir], stderr);
    /* A room password (XEP-0045 §7.2.6) travels in our join presence, a
     * room secret in a configuration form: the trace shows that one was
     * sent, never what. */
    if (dir == XMP_TRACE_INFO)
        cli_print_sanitized(stderr, text, len);
    else
        cli_redact(text, len, to_stderr, NULL);
    fputc('\n', stderr);
}

void cli_kv_line(const char *key, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    printf("%-13s", key);
    cli_print_sanitized(stdout, buf, strlen(buf));
    putchar('\n');
}
