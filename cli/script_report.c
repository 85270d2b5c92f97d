/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * script_report.c - what "xmpctl script" prints: a line per step and per
 * script, as text for people, TAP for a test harness or JSON for
 * programs, with what was expected and what came when a step failed.
 * Text from a script or a server is made safe for the terminal.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "script.h"

/* Print r as a JSON line, flushed: 0, or -1 (reported).  Its strings
 * are escaped as the script's JSON always had them: a carriage return as
 * \u000d, like the other control characters. */
static int report_json(struct out_record *r)
{
    int rc;

    r->cr_as_control = 1;
    cli_before_output();
    rc = out_print(FORMAT_JSON, r);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write output: %s", strerror(errno));
        rc = -1;
    }
    return rc;
}

/* Write b to stdout line by line, flushed, made safe for a terminal:
 * names and stanzas come from a script and a server.  0, or -1 when it
 * cannot be written (reported). */
static int report_write_safe(struct sbuf *b)
{
    const char *p = b->text, *nl;
    int rc = 0;

    cli_before_output();
    while (p && *p) {
        nl = strchr(p, '\n');
        cli_print_sanitized(stdout, p, nl ? (size_t)(nl - p) : strlen(p));
        putchar('\n');
        p = nl ? nl + 1 : p + strlen(p);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write output: %s", strerror(errno));
        rc = -1;
    }
    sbuf_free(b);
    return rc;
}

/* Lines of text, each prefixed (for the text and TAP outputs), made
 * safe for a terminal. */
static void add_lines(struct sbuf *b, const char *prefix, const char *text)
{
    const char *nl;
    size_t len, i;

    while (text && *text) {
        nl = strchr(text, '\n');
        len = nl ? (size_t)(nl - text) : strlen(text);
        sbuf_puts(b, prefix);
        for (i = 0; i < len; i++) {
            unsigned char ch = (unsigned char)text[i];

            if (ch < 0x20 && ch != '\t')
                sbuf_printf(b, "\\x%02x", ch);
            else
                sbuf_add(b, text + i, 1);
        }
        sbuf_puts(b, "\n");
        text = nl ? nl + 1 : text + len;
    }
}

/* Text on one line of the text and TAP outputs: a newline or another
 * control character from a server or a script comes out escaped, so it
 * can neither begin a line of its own (a forged "ok 2") nor end the
 * "# " of a TAP diagnostic; in a TAP description, '#' too, which TAP
 * would take for a directive. */
static void add_inline(struct sbuf *b, const char *text, int tap_desc)
{
    unsigned char ch;

    for (; text && *text; text++) {
        ch = (unsigned char)*text;
        if (ch == '\n')
            sbuf_puts(b, "\\n");
        else if (ch == '\r')
            sbuf_puts(b, "\\r");
        else if (ch < 0x20 && ch != '\t')
            sbuf_printf(b, "\\x%02x", ch);
        else if (ch == '#' && tap_desc)
            sbuf_puts(b, "\\#");
        else
            sbuf_add(b, text, 1);
    }
}

static const char *const result_name[] = { "pass", "fail", "skip" };

int script_report_step(struct script_report *o, const struct script_step *st,
                       int result, const struct script_failure *f)
{
    const char *name = o->s->clients[st->client].name;
    const char *action = script_action_name(st->action);
    struct sbuf b = { NULL, 0, 0, 0 };
    char what[300];
    size_t i;

    snprintf(what, sizeof what, "%s %s", name, action);
    if (o->json) {
        struct out_record r;

        out_begin(&r);
        out_str(&r, "file", o->s->file);
        out_int(&r, "line", st->line);
        out_str(&r, "client", name);
        out_str(&r, "action", action);
        out_str(&r, "result", result_name[result]);
        if (f && result == SCRIPT_PASS) {
            out_str(&r, "note", f->msg.text ? f->msg.text : "");
        } else if (f) {
            out_int(&r, "status", f->status);
            out_str(&r, "error", f->msg.text ? f->msg.text : "");
            out_str(&r, "expected", f->expected_line);
            if (f->nreceived || f->expected.text)
                out_list(&r, "received",
                         (const char *const *)f->received_line,
                         f->nreceived);
            out_str(&r, "differences", f->why.text);
            out_str(&r, "diff", f->diff.text);
        }
        return report_json(&r);
    }
    if (o->tap) {
        sbuf_printf(&b, "%s %zu - ", result == SCRIPT_FAIL ? "not ok" : "ok",
                    ++o->tap_n);
        add_inline(&b, o->s->file, 1);
        sbuf_printf(&b, ":%d ", st->line);
        add_inline(&b, what, 1);
        if (result == SCRIPT_SKIP)
            sbuf_puts(&b, " # SKIP an earlier step failed");
        sbuf_puts(&b, "\n");
    } else {
        sbuf_printf(&b, "%-4s  ",
                    result == SCRIPT_FAIL ? "FAIL" : result_name[result]);
        add_inline(&b, o->s->file, 0);
        sbuf_printf(&b, ":%d  ", st->line);
        add_inline(&b, what, 0);
        sbuf_puts(&b, "\n");
    }
    if (f) {
        const char *pfx = o->tap ? "#   " : "      ";
        char head[64];

        /* the message may quote the server (a stream error's text) */
        sbuf_puts(&b, pfx);
        add_inline(&b, name, 0);
        sbuf_puts(&b, " ");
        add_inline(&b, f->msg.text ? f->msg.text : "failed", 0);
        sbuf_puts(&b, "\n");
        if (st->action == SCRIPT_RECEIVES_NOTHING) {
            sbuf_printf(&b, "%sexpected: nothing; received:\n", pfx);
            for (i = 0; i < f->nreceived; i++) {
                sbuf_printf(&b, "%s  %zu:\n", pfx, i + 1);
                add_lines(&b, o->tap ? "#     " : "        ",
                          f->received[i]);
            }
        } else if (f->expected.text) {
            snprintf(head, sizeof head, "%sexpected (line %d):\n", pfx,
                     st->xml_line);
            sbuf_puts(&b, head);
            add_lines(&b, o->tap ? "#     " : "        ", f->expected.text);
            sbuf_printf(&b, "%sreceived while waiting: %zu stanza%s\n", pfx,
                        f->nreceived, f->nreceived == 1 ? "" : "s");
            for (i = 0; i < f->nreceived; i++) {
                sbuf_printf(&b, "%s  %zu:\n", pfx, i + 1);
                add_lines(&b, o->tap ? "#     " : "        ",
                          f->received[i]);
            }
        }
        if (f->why.text) {
            sbuf_printf(&b, "%sdifferences from received stanza %zu:\n",
                        pfx, f->closest + 1);
            add_lines(&b, o->tap ? "#     " : "        ", f->why.text);
        }
        if (f->diff.text) {
            sbuf_printf(&b, "%sdiff (- expected, + received stanza %zu):\n",
                        pfx, f->closest + 1);
            add_lines(&b, o->tap ? "#     " : "        ", f->diff.text);
        }
    }
    return report_write_safe(&b);
}

int script_report_summary(struct script_report *o, size_t passed, size_t failed,
                          size_t skipped, int fail_line)
{
    struct sbuf b = { NULL, 0, 0, 0 };
    size_t n = passed + failed + skipped;

    if (o->json) {
        struct out_record r;

        out_begin(&r);
        out_str(&r, "file", o->s->file);
        out_str(&r, "result", failed ? "fail" : "pass");
        out_int(&r, "steps", (long long)n);
        out_int(&r, "passed", (long long)passed);
        out_int(&r, "failed", (long long)failed);
        out_int(&r, "skipped", (long long)skipped);
        if (failed)
            out_int(&r, "failed_line", fail_line);
        return report_json(&r);
    }
    if (o->tap)
        sbuf_puts(&b, "# ");
    add_inline(&b, o->s->file, 0);
    if (failed)
        sbuf_printf(&b, ": FAILED at line %d: %zu passed, %zu failed, "
                        "%zu skipped of %zu steps\n",
                    fail_line, passed, failed, skipped, n);
    else
        sbuf_printf(&b, ": passed: %zu steps\n", n);
    return report_write_safe(&b);
}

void script_failure_free(struct script_failure *f)
{
    size_t i;

    for (i = 0; i < f->nreceived; i++) {
        free(f->received[i]);
        free(f->received_line[i]);
    }
    free(f->received);
    free(f->received_line);
    free(f->expected_line);
    sbuf_free(&f->msg);
    sbuf_free(&f->expected);
    sbuf_free(&f->diff);
    sbuf_free(&f->why);
    memset(f, 0, sizeof *f);
}

