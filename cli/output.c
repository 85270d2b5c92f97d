/* SPDX-License-Identifier: GPL-3.0-or-later */
/* output.c - messages, the trace, and exit statuses. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <string.h>

#include "cli.h"

static void nothing_on_screen(void)
{
}

void (*cli_before_output)(void) = nothing_on_screen;

int cli_unsafe_cp(uint32_t c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f || (c >= 0x80 && c < 0xa0) ||
           (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
           c == 0x2028 || c == 0x2029;
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
        else if (cli_unsafe_cp(cp))
            fprintf(f, "\\u%04x", (unsigned)cp);
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

void cli_trace(void *ud, enum xmp_trace_dir dir, const char *text,
               size_t len)
{
    static const char *const marks[] = {"<< ", ">> ", "-- "};
    const struct cli *c = ud;
    const char *pw, *end;

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
    /* A group chat room password (XEP-0045 §7.2.6) travels in our join
     * presence: the trace shows that one was sent, never what. */
    if (dir == XMP_TRACE_OUT && (pw = memmem(text, len, "<password>", 10)) &&
        (end = memmem(pw, len - (size_t)(pw - text), "</password>", 11))) {
        cli_print_sanitized(stderr, text, (size_t)(pw - text) + 10);
        fputs("[redacted]", stderr);
        cli_print_sanitized(stderr, end, len - (size_t)(end - text));
    } else {
        cli_print_sanitized(stderr, text, len);
    }
    fputc('\n', stderr);
}

int cli_exit_status(enum xmp_err code)
{
    switch (code) {
    case XMP_OK: return EXIT_OK;
    case XMP_EUSAGE: return EXIT_USAGE;
    case XMP_EDATA: return EXIT_DATA;
    case XMP_ENOHOST: return EXIT_NOHOST;
    case XMP_ETEMP: return EXIT_TEMPFAIL;
    case XMP_EUNREACH: return EXIT_UNAVAILABLE;
    case XMP_ETLS: return EXIT_TLS;
    case XMP_EAUTH: return EXIT_NOPERM;
    case XMP_EPROTO: return EXIT_PROTOCOL;
    case XMP_EREMOTE: return EXIT_REMOTE;
    case XMP_ETIMEOUT: return EXIT_TEMPFAIL;
    case XMP_ENOTSENT: return EXIT_NOTSENT;
    case XMP_EIO: return EXIT_IOERR;
    case XMP_ENOMEM: return EXIT_OSERR;
    case XMP_ESYS: return EXIT_OSERR;
    case XMP_AGAIN: return EXIT_SOFTWARE;
    }
    return EXIT_SOFTWARE;
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
