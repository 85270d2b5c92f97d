/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_printer.c - the printer (cli/printer.c): a record in each format
 * of --format, the escaping of strings in JSON (quotes, control
 * characters, bidi controls, tag characters), the character references
 * of the xml form and the sanitizing of the text lines. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cli/cli.h"
#include "tap.h"

/* What out_print writes to stdout, as a string (caller frees); *rc its
 * return value. */
static char *printed(enum out_format format, const struct out_record *r,
                     int *rc)
{
    FILE *tmp = tmpfile();
    char *buf = NULL;
    off_t len;
    int saved;

    if (!tmp)
        return NULL;
    fflush(stdout);
    saved = dup(STDOUT_FILENO);
    dup2(fileno(tmp), STDOUT_FILENO);
    *rc = out_print(format, r);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    len = lseek(fileno(tmp), 0, SEEK_CUR);
    if (len >= 0 && (buf = calloc(1, (size_t)len + 1)) &&
        pread(fileno(tmp), buf, (size_t)len, 0) != (ssize_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(tmp);
    return buf;
}

static void is_printed(enum out_format format, const struct out_record *r,
                       const char *want, const char *name)
{
    int rc = -2;
    char *got = printed(format, r, &rc);

    is_str(got, want, "%s", name);
    free(got);
    is_int(rc, 0, "%s: out_print returns 0", name);
}

static void test_formats(void)
{
    static const char *const groups[] = { "friends", "work" };
    struct out_record r, sub, subs[2];

    out_begin(&r);
    out_str(&r, "kind", "example");
    out_str(&r, "absent", NULL);
    out_int(&r, "port", 5222);
    out_int(&r, "days_left", -3);
    out_bool(&r, "verified", 1);
    out_bool(&r, "resumed", 7 == 8);
    out_list(&r, "groups", groups, 2);
    out_list(&r, "none", NULL, 0);
    out_begin(&sub);
    out_str(&sub, "condition", "item-not-found");
    out_object(&r, "error", &sub);
    out_begin(&subs[0]);
    out_str(&subs[0], "subject", "a");
    out_begin(&subs[1]);
    out_objects(&r, "chain", subs, 2);
    out_line(&r, "server", "%s port %u (%s)", "xmpp.example", 5222u, "SRV");
    out_line(&r, "certificate", "%s", "CN=example");
    is_printed(FORMAT_JSON, &r,
               "{\"kind\":\"example\",\"port\":5222,\"days_left\":-3,"
               "\"verified\":true,\"resumed\":false,"
               "\"groups\":[\"friends\",\"work\"],\"none\":[],"
               "\"error\":{\"condition\":\"item-not-found\"},"
               "\"chain\":[{\"subject\":\"a\"},{}]}\n",
               "json: the fields in order, typed, one line; NULL left out");
    is_printed(FORMAT_TEXT, &r,
               "server       xmpp.example port 5222 (SRV)\n"
               "certificate  CN=example\n",
               "text: the lines, keys aligned");
    is_printed(FORMAT_XML, &r,
               "server       xmpp.example port 5222 (SRV)\n"
               "certificate  CN=example\n",
               "xml: the lines, as text");

    out_begin(&r);
    out_line(&r, "srv", "none");
    is_printed(FORMAT_JSON, &r, "", "json: a record of lines only prints "
               "nothing");
    is_printed(FORMAT_TEXT, &r, "srv          none\n",
               "text: ... and its lines in text");
    out_begin(&r);
    out_str(&r, "kind", "warning");
    is_printed(FORMAT_TEXT, &r, "", "text: a record of fields only prints "
               "nothing");
}

static void test_json_escaping(void)
{
    struct out_record r;

    out_begin(&r);
    out_str(&r, "q\"k", "say \"hi\" \\ back");
    out_str(&r, "ws", "a\nb\rc\td");
    out_str(&r, "c0", "\x01\x1b[31m\x7f");
    out_str(&r, "c1", "\xc2\x85");
    out_str(&r, "bidi", "\xe2\x80\xae" "evil");
    out_str(&r, "tag", "\xf3\xa0\x81\x81");
    out_str(&r, "utf8", "caf\xc3\xa9 \xe2\x82\xac");
    is_printed(FORMAT_JSON, &r,
               "{\"q\\\"k\":\"say \\\"hi\\\" \\\\ back\","
               "\"ws\":\"a\\nb\\rc\\td\","
               "\"c0\":\"\\u0001\\u001b[31m\\u007f\","
               "\"c1\":\"\\u0085\","
               "\"bidi\":\"\\u202eevil\","
               "\"tag\":\"\\udb40\\udc41\","
               "\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac\"}\n",
               "json: quotes, backslashes, control characters, bidi "
               "controls and tag characters escaped; other UTF-8 as is");
    r.cr_as_control = 1;
    is_printed(FORMAT_JSON, &r,
               "{\"q\\\"k\":\"say \\\"hi\\\" \\\\ back\","
               "\"ws\":\"a\\nb\\u000dc\\td\","
               "\"c0\":\"\\u0001\\u001b[31m\\u007f\","
               "\"c1\":\"\\u0085\","
               "\"bidi\":\"\\u202eevil\","
               "\"tag\":\"\\udb40\\udc41\","
               "\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac\"}\n",
               "json: cr_as_control writes a carriage return as \\u000d");
}

static void test_text_sanitized(void)
{
    struct out_record r;

    out_begin(&r);
    out_line(&r, "jid", "%s", "a\x1b[2Jb\nc");
    is_printed(FORMAT_TEXT, &r, "jid          a\\x1b[2Jb\\nc\n",
               "text: a value's control characters made visible");
}

static void test_element(void)
{
    struct out_record r;

    out_begin(&r);
    out_str(&r, "kind", "message");
    r.text = "alice@example.test: hi\x1b[2J\xe2\x80\xae";
    r.xml = "<message><body>hi\x1b[2J\xe2\x80\xae &amp; \xc3\xa9</body>"
            "</message>";
    out_line(&r, "note", "%s", "after");
    is_printed(FORMAT_XML, &r,
               "<message><body>hi&#x1B;[2J&#x202E; &amp; \xc3\xa9</body>"
               "</message>\n",
               "xml: the element alone, a terminal's controls as character "
               "references");
    is_printed(FORMAT_TEXT, &r,
               "alice@example.test: hi\\x1b[2J\\u202e\n"
               "note         after\n",
               "text: the record's own line made safe, then its lines");
    is_printed(FORMAT_JSON, &r, "{\"kind\":\"message\"}\n",
               "json: neither of them");
    r.xml = NULL;
    is_printed(FORMAT_XML, &r,
               "alice@example.test: hi\\x1b[2J\\u202e\n"
               "note         after\n",
               "xml: a record without an element as text");
}

static void test_overflow(void)
{
    struct out_record r;
    char *got;
    int i, rc = 0;

    out_begin(&r);
    for (i = 0; i <= OUT_MAX_FIELDS; i++)
        out_int(&r, "n", i);
    got = printed(FORMAT_JSON, &r, &rc);
    is_int(rc, -1, "a record with more fields than it holds is refused");
    is_str(got, "", "... and nothing of it is printed");
    free(got);
}

int main(void)
{
    test_formats();
    test_json_escaping();
    test_text_sanitized();
    test_element();
    test_overflow();
    return tap_done();
}
