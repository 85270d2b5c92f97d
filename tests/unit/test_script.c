/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_script.c - the scansion script parser, the stanza matcher and
 * the report of "xmpctl script" (cli/script_parse.c, cli/script_match.c,
 * cli/script_report.c). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cli/script.h"
#include "tap.h"

#define NS "xmlns:scansion='" SCRIPT_NS "' "

static const struct {
    const char *expected, *got;
    int match;
    const char *what;
} cases[] = {
    {"<message/>", "<message from='a@b/c' type='chat'/>", 1,
     "extra attributes are allowed"},
    {"<message type='chat'/>", "<message type='normal'/>", 0,
     "an attribute value differs"},
    {"<message type='chat'/>", "<message/>", 0, "an attribute is missing"},
    {"<message id='{scansion:any}'/>", "<message id='x1'/>", 1,
     "{scansion:any} takes any value"},
    {"<message id='{scansion:any}'/>", "<message/>", 0,
     "{scansion:any} needs the attribute"},
    {"<message><body>hi</body></message>",
     "<message><body>  hi\n</body></message>", 1,
     "text is compared trimmed"},
    {"<message><body>hi</body></message>",
     "<message><body>ho</body></message>", 0, "text differs"},
    {"<message><body>{scansion:any}</body></message>",
     "<message><body>ho</body></message>", 1, "{scansion:any} as text"},
    {"<message><body/></message>", "<message><body>x</body></message>", 1,
     "an element without text expected matches any text"},
    {"<message " NS "scansion:strict='true'><body/></message>",
     "<message><body>x</body></message>", 0,
     "strict: an empty element matches only an empty one"},
    {"<message id='{scansion:capture:mid}'/>", "<message id='x1'/>", 1,
     "{scansion:capture:NAME} takes any value"},
    {"<message id='{scansion:capture:mid}'/>", "<message/>", 0,
     "{scansion:capture:NAME} needs the attribute"},
    {"<iq><query xmlns='q'><item n='1'/><item n='2'/></query></iq>",
     "<iq><query xmlns='q'><item n='2'/><item n='1'/></query></iq>", 1,
     "children with the same name match in any order"},
    {"<message/>", "<message><body>x</body><thread>t</thread></message>", 1,
     "extra children are allowed"},
    {"<iq><query xmlns='q'><a/><b/></query></iq>",
     "<iq><query xmlns='q'><b/><c/><a/></query></iq>", 1,
     "children match in any order"},
    {"<iq><query xmlns='q'><a/><a/></query></iq>",
     "<iq><query xmlns='q'><a/></query></iq>", 0,
     "each expected child needs a received child of its own"},
    {"<iq><query xmlns='q'/></iq>", "<iq><query xmlns='r'/></iq>", 0,
     "namespaces differ"},
    {"<presence " NS "scansion:strict='true' from='a@b'/>",
     "<presence from='a@b' to='c@d'/>", 0, "strict: no extra attribute"},
    {"<presence " NS "scansion:strict='true'/>",
     "<presence><show>away</show></presence>", 0,
     "strict: no extra child"},
    {"<presence " NS "scansion:strict='true'><x " NS
     "scansion:strict='false' xmlns='x'/></presence>",
     "<presence><x xmlns='x' a='1'><y/></x></presence>", 1,
     "strict='false' inside turns it off again"},
    {"<message " NS "scansion:strict='true'><body>x</body></message>",
     "<message><body a='1'>x</body></message>", 0,
     "strict reaches the children"},
    {"<presence " NS "scansion:strict='true' type='unavailable'/>",
     "<presence type='unavailable'/>", 1,
     "strict: the scansion attribute itself is not compared"},
};

static struct xmp_node *parse(const char *s)
{
    struct xmp_error e;
    struct xmp_node *n = xmp_node_parse(s, strlen(s), &e);

    if (!n)
        diag("cannot parse %s: %s", s, e.msg);
    return n;
}

static void test_match(void)
{
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct xmp_node *e = parse(cases[i].expected), *g = parse(cases[i].got);
        struct sbuf why = { NULL, 0, 0, 0 };
        int d = e && g ? script_match(e, g, &why) : -1;

        ok(e && g && (d == 0) == cases[i].match && (d == 0) == !why.text,
           "%s", cases[i].what);
        if (why.text && cases[i].match)
            diag("%s", why.text);
        sbuf_free(&why);
        xmp_node_free(e);
        xmp_node_free(g);
    }
}

static void test_why(void)
{
    struct xmp_node *e = parse("<message><body>Goodbye</body></message>"),
                    *g = parse("<message><body>Hello</body></message>");
    struct sbuf why = { NULL, 0, 0, 0 }, pe = { NULL, 0, 0, 0 },
                pg = { NULL, 0, 0, 0 }, diff = { NULL, 0, 0, 0 };

    script_match(e, g, &why);
    is_str(why.text, "/message/body: text 'Goodbye' expected, got 'Hello'\n",
           "a difference names its path");
    script_pretty(e, &pe);
    script_pretty(g, &pg);
    script_diff(pe.text, pg.text, &diff);
    is_str(diff.text,
           "  <message>\n-   <body>Goodbye</body>\n+   <body>Hello</body>\n"
           "  </message>\n",
           "the line diff");
    sbuf_free(&why);
    sbuf_free(&pe);
    sbuf_free(&pg);
    sbuf_free(&diff);
    xmp_node_free(e);
    xmp_node_free(g);
}

static const char script_ok[] =
    "# A title\n"
    "[Client] Juliet\n"
    "\tjid: juliet@example.org\n"
    "\tpassword: pw\n"
    "\n"
    "[Client] Juliet's phone\n"
    "\tjid: juliet@example.org\n"
    "\tpassword: pw\n"
    "\tresource: mobile\n"
    "---------\n"
    "\n"
    "Juliet connects\n"
    "Juliet's phone connects\n"
    "\n"
    "Juliet sends:\n"
    "\t<message to=\"${Juliet's phone's full JID}\" from='${Juliet's JID}'>\n"
    "\t\t<body>hi</body>\n"
    "\n"
    "\t</message>\n"
    "# a comment\n"
    "Juliet's phone receives: nothing\n"
    "Juliet disconnects\n";

static void test_parse(void)
{
    static const struct {
        const char *text, *err;
    } bad[] = {
        {"[Client] A\n\tjid: a@b\n", "2: the header has no end"},
        {"[Client] A\n\tjid: a@b\n\tfoo: 1\n---\nA connects\n",
         "3: unknown key 'foo'"},
        {"[Room] A\n---\n", "1: unknown block"},
        {"[Client] A\n\tjid: a@b\n---\nA connects\nA sends:\n\t<a>\n",
         "6: A sends: "},
        {"[Client] A\n\tjid: a@b\n---\nA connects\nA receives:\n\t<a/><b/>\n",
         "6: A receives: needs exactly one element"},
        {"[Client] A\n\tjid: a@b\n---\nA connects\nA sends:\n\t<a/>x<b/>\n",
         "6: A sends: needs one element or more"},
        {"[Client] A\n\tjid: a@b\n---\nA connects\nA sends:\n\t<a x='${id}'/>\n"
         "A receives:\n\t<a x='{scansion:capture:id}'/>\n",
         "6: unknown variable '${id}'"},
        {"[Client] A\n\tjid: a@b\n---\nA connects\n#x\n-- x\n//\n--x\n",
         "8: expected an action"},
        {"[Client] A\n\tjid: a@b\n---\nA connects\n//\tx\n//x\n",
         "6: expected an action"},
        {"[Client] A\n\tjid: a@b\n---\nA connects\nA sends nothing\n",
         "5: unknown action"},
        {"[Client] A\n\tjid: a@b\n---\nA connects\nA receives:\n"
         "\t<a>\n\t\t<b>\n\t</a>\n",
         "8: A receives: column 4: mismatched tag"},
        {"[Client] A\n\tjid: a@b\n---\nA connects\nA sends:\n\t<a x='${B's JID}'/>\n",
         "6: unknown variable"},
        {"[Client] A\n\tjid: a@b\n---\nA connects\nA dances\n",
         "5: unknown action"},
        {"[Client] A\n\tjid: not a jid@@\n---\nA connects\n",
         "1: client 'A': invalid jid"},
        {"[Client] A\n\tjid: a@b\n---\nA connects\nA sends:\n",
         "5: sends: needs the XML"},
    };
    struct script s;
    const struct xmp_node *el;
    struct xmp_node *holder;
    const char *full[2] = { "juliet@example.org/x", "juliet@example.org/mobile" };
    char err[600], *xml;
    size_t i;

    ok(script_parse("t.scs", script_ok, strlen(script_ok), &s, err,
                    sizeof err) == 0,
       "a good script parses");
    is_str(s.title, "A title", "its title");
    ok(s.nclients == 2 && s.nsteps == 5, "two clients, five steps");
    ok(s.steps[2].action == SCRIPT_SENDS && s.steps[2].line == 15 &&
           s.steps[2].xml_line == 16,
       "sends: on line 15, its XML from line 16");
    ok(s.steps[3].action == SCRIPT_RECEIVES_NOTHING && s.steps[3].client == 1,
       "the longest client name wins");
    el = script_element(&s, &s.steps[2], full, NULL, &holder, err,
                        sizeof err);
    xml = el ? xmp_node_to_line(el, "jabber:client") : NULL;
    is_str(xml,
           "<message to='juliet@example.org/mobile' from='juliet@example.org'>"
           "<body>hi</body></message>",
           "variables are replaced");
    free(xml);
    xmp_node_free(holder);
    script_free(&s);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = script_parse("t.scs", bad[i].text, strlen(bad[i].text), &s,
                              err, sizeof err);

        ok(rc < 0 && strncmp(err, bad[i].err, strlen(bad[i].err)) == 0,
           "refused: %s", bad[i].err);
        if (rc == 0)
            script_free(&s);
        else if (strncmp(err, bad[i].err, strlen(bad[i].err)) != 0)
            diag("got: %s", err);
    }
}

/* Written as Prosody's own scripts are: the three kinds of comment
 * anywhere, actions without a colon, a client used before it connects
 * and disconnected twice, several elements in one sends, a capture. */
static const char script_scansion[] =
    "// A title of its own\n"
    "-- more of it\n"
    "[Client] Alice\n"
    "\tjid: alice@example.org\n"
    "\tpassword: pw\n"
    "# between the clients\n"
    "[Client] Bob\n"
    "\tjid: bob@example.org/desk\n"
    "---------\n"
    "-- after the header\n"
    "Alice connects\n"
    "Alice sends\n"
    "\t<presence to='${Bob's JID}' type='subscribed'/>\n"
    "\t<message to=\"${Bob's full JID}\"><body>1</body></message>\n"
    "// a comment\n"
    "Alice receives\n"
    "\t<iq type='result' id='{scansion:capture:id}'/>\n"
    "Alice sends:\n"
    "\t<iq type='result' id='${id}'/>\n"
    "Bob disconnects\n"
    "Alice disconnects\n"
    "Alice disconnects\n"
    "Alice receives nothing\n"
    "--\n"
    "# the end\n";

static void test_scansion(void)
{
    struct script s;
    struct script_vars vars = { NULL, NULL, 0 };
    struct xmp_node *holder, *e, *g;
    const struct xmp_node *el;
    const char *full[2] = { "alice@example.org/x", NULL };
    char err[600], *xml;
    long at;

    if (script_parse("t.scs", script_scansion, strlen(script_scansion), &s,
                     err, sizeof err) != 0) {
        ok(0, "a script as Prosody writes them parses");
        diag("%s", err);
        return;
    }
    ok(1, "a script as Prosody writes them parses");
    is_str(s.title, "A title of its own", "its title from a // comment");
    ok(s.nclients == 2 && s.nsteps == 8, "two clients, eight steps (%zu)",
       s.nsteps);
    ok(s.steps[1].action == SCRIPT_SENDS &&
           s.steps[2].action == SCRIPT_RECEIVES &&
           s.steps[7].action == SCRIPT_RECEIVES_NOTHING,
       "sends, receives and receives nothing without a colon");
    ok(s.steps[4].action == SCRIPT_DISCONNECTS && s.steps[4].client == 1 &&
           s.steps[6].action == SCRIPT_DISCONNECTS,
       "a client never connected, or disconnected, may disconnect");
    el = script_element(&s, &s.steps[1], full, NULL, &holder, err,
                        sizeof err);
    xml = el ? xmp_node_to_line(el, "jabber:client") : NULL;
    is_str(xml, "<presence to='bob@example.org' type='subscribed'/>",
           "a sends of two elements: the first, a JID from the header");
    free(xml);
    el = el ? xmp_node_next(el) : NULL;
    xml = el ? xmp_node_to_line(el, "jabber:client") : NULL;
    is_str(xml, "<message to='bob@example.org/desk'><body>1</body></message>",
           "... the second, the full JID of a client not connected");
    free(xml);
    ok(el && !xmp_node_next(el), "... and no more");
    xmp_node_free(holder);

    /* the capture: recorded by the match, used by the next step */
    el = script_element(&s, &s.steps[2], full, NULL, &holder, err,
                        sizeof err);
    g = parse("<iq type='result' id='push-7' from='example.org'/>");
    ok(el && g && script_match(el, g, NULL) == 0 &&
           script_capture(el, g, &vars) == 0,
       "a capture matches and records");
    xmp_node_free(holder);
    xmp_node_free(g);
    at = script_vars_find(&vars, "id", 2);
    is_str(at >= 0 ? vars.value[at] : NULL, "push-7", "the value captured");
    el = script_element(&s, &s.steps[3], full, &vars, &holder, err,
                        sizeof err);
    xml = el ? xmp_node_to_line(el, "jabber:client") : NULL;
    is_str(xml, "<iq type='result' id='push-7'/>",
           "${NAME} of a capture is replaced by its value");
    free(xml);
    xmp_node_free(holder);

    /* a capture inside a child found in another order */
    e = parse("<iq><query xmlns='q'><a/><b v='{scansion:capture:v}'/>"
              "</query></iq>");
    g = parse("<iq><query xmlns='q'><b v='2'/><c/><a/></query></iq>");
    ok(e && g && script_match(e, g, NULL) == 0 &&
           script_capture(e, g, &vars) == 0 &&
           (at = script_vars_find(&vars, "v", 1)) >= 0 &&
           strcmp(vars.value[at], "2") == 0,
       "a capture in a child matched out of order");
    xmp_node_free(e);
    xmp_node_free(g);
    script_vars_free(&vars);

    full[1] = NULL;
    s.clients[1].jid[strlen(s.clients[1].jid) - 5] = '\0'; /* no /desk */
    el = script_element(&s, &s.steps[1], full, NULL, &holder, err,
                        sizeof err);
    ok(!el && strstr(err, "Bob has no full JID before it connects"),
       "no full JID for a client not connected without a resource");
    xmp_node_free(holder);
    script_free(&s);
}

/* What script_report_step prints for a failed step whose message
 * quotes a server's text with newlines in it, in out (NUL-terminated). */
static void report_failure(int tap, char *out, size_t outlen)
{
    struct script_client client = { "A\nok 3 - name", NULL, NULL, NULL, 1 };
    struct script_step step = { SCRIPT_CONNECTS, 0, 5, NULL, 0 };
    struct script sc = { "t\nok 4.scs", NULL, &client, 1, &step, 1 };
    struct script_report o = { 0, tap, 0, &sc };
    struct script_failure f;
    char path[] = "/tmp/test_script.XXXXXX";
    int fd = mkstemp(path), saved = dup(1);
    ssize_t n = -1;

    memset(&f, 0, sizeof f);
    sbuf_puts(&f.msg, "connects: error from the server: bad\nok 2 - forged"
                      "\r\n# and more");
    fflush(stdout);
    if (fd >= 0 && saved >= 0 && dup2(fd, 1) == 1) {
        script_report_step(&o, &step, SCRIPT_FAIL, &f);
        script_report_summary(&o, 0, 1, 0, 5);
        fflush(stdout);
        dup2(saved, 1);
        n = pread(fd, out, outlen - 1, 0);
    }
    out[n > 0 ? n : 0] = '\0';
    if (fd >= 0)
        close(fd);
    if (saved >= 0)
        close(saved);
    unlink(path);
    script_failure_free(&f);
}

static void test_report(void)
{
    char out[4096], *line, *nl;
    int lines = 0, bad = 0;

    report_failure(1, out, sizeof out);
    for (line = out; *line; line = nl + 1) {
        if (!(nl = strchr(line, '\n')))
            break;
        *nl = '\0';
        lines++;
        if (strncmp(line, "not ok 1 - ", 11) != 0 && line[0] != '#') {
            bad++;
            printf("# a line neither the test's nor a diagnostic: %s\n",
                   line);
        }
    }
    ok(lines == 3 && !bad, "TAP: server text with newlines stays in its "
                           "diagnostic (%d lines)",
       lines);
    report_failure(0, out, sizeof out);
    ok(strstr(out, "bad\\nok 2 - forged\\r\\n# and more\n") != NULL,
       "text: the newlines of server text shown as \\n");
    ok(strstr(out, "FAIL  t\\nok 4.scs:5  A\\nok 3 - name connects\n") !=
           NULL,
       "text: the file and client names on one line");
}

int main(void)
{
    test_match();
    test_why();
    test_parse();
    test_scansion();
    test_report();
    return tap_done();
}
