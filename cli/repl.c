/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * repl.c - the prompt: a driver of the same operations as the one-shot
 * main, with GNU readline's callback interface in the same poll() loop
 * as the session.
 *
 * A line starting with '<' is XML, gathered over as many lines as the
 * element needs and then sent by a raw operation; a line starting with
 * '/' is a command of the prompt itself; anything else is a command with
 * exactly the command-line grammar ("send bob@example.org 'hi there'").
 * Lines typed while the session connects or an operation runs wait their
 * turn; the prompt names the running command, and /jobs lists it and
 * the lines waiting.  What arrives is printed above the prompt, and the
 * line being typed is drawn again below it.  Ctrl-C cancels the running
 * operation (and what was typed ahead), or the connect under way, or
 * clears the line; Ctrl-D and /quit close politely.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli.h"

#define REPL_HISTORY_MAX 1000
#define REPL_ARGS_MAX 64
/* XML being typed: as much as one stanza may be. */
#define REPL_XML_MAX (256 * 1024)
#define REPL_ROSTER_MAX 4096

enum item_kind { ITEM_LINE, ITEM_XML };

struct item {
    enum item_kind kind;
    char *text;
};

struct repl {
    struct cli *c;

    /* lines waiting for the session or the running operation */
    struct item *q;
    size_t qhead, qlen, qcap;

    /* XML being typed over several lines */
    char *xml;
    size_t xlen;
    struct xmp_parser *xp;
    unsigned long xml_elements;

    int installed;     /* readline owns stdin */
    int shown;         /* the prompt is on the screen */
    char prompt[320];
    int quitting;
    int ready_seen;    /* this session reached READY (printer set up) */
    int ever_ready;    /* some session did: a failure is not the end */
    int end_reported;
    unsigned printer;
    enum out_format format; /* the prompt's, restored after each command */

    char **roster;     /* JIDs for completion, fetched once */
    size_t nroster;
    int roster_asked;

    char *histfile;
    int status;

    /* the running operation: its line as typed, its command's name
     * (before its messages and in the prompt), when it started */
    char *running;
    char running_name[32];
    int64_t running_since;
};

static struct repl R;

/* ---- the screen ----------------------------------------------------------- */

static void hide_prompt(void)
{
    if (!R.shown)
        return;
    rl_clear_visible_line();
    fflush(rl_outstream);
    R.shown = 0;
}

static void show_prompt(void)
{
    if (R.shown || !R.installed)
        return;
    fflush(stdout);
    rl_on_new_line();
    rl_redisplay();
    R.shown = 1;
}

static void set_prompt(void)
{
    char p[sizeof R.prompt];
    struct xmp_session_info i;
    const char *slash;
    struct xmp_session *s = R.c->session;

    if (R.xlen) {
        snprintf(p, sizeof p, "...> ");
    } else if (s && xmp_session_phase(s) == XMP_PHASE_READY) {
        xmp_session_get_info(s, &i);
        slash = i.bound_jid ? strchr(i.bound_jid, '/') : NULL;
        /* "alice@example.org [send]> " while a command runs */
        snprintf(p, sizeof p, "%.*s%s%s%s> ",
                 slash ? (int)(slash - i.bound_jid) : 200,
                 i.bound_jid ? i.bound_jid : "xmpctl",
                 R.running ? " [" : "", R.running ? R.running_name : "",
                 R.running ? "]" : "");
    } else if (s && !cli_session_over(s)) {
        snprintf(p, sizeof p, "(connecting)> ");
    } else {
        snprintf(p, sizeof p, "(offline)> ");
    }
    if (strcmp(p, R.prompt) == 0)
        return;
    memcpy(R.prompt, p, sizeof p);
    if (R.installed) {
        hide_prompt();
        rl_set_prompt(R.prompt);
    }
}

__attribute__((format(printf, 1, 2))) static void note(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    hide_prompt();
    fputs("xmpctl: ", stderr);
    cli_print_sanitized(stderr, buf, strlen(buf));
    fputc('\n', stderr);
}

/* ---- history --------------------------------------------------------------- */

/* $XDG_STATE_HOME/xmpctl/history, made private; NULL when there is no
 * place for it (then history lasts as long as the prompt). */
static char *history_path(void)
{
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[4096], *path;
    size_t n;
    int fd;

    if (state && state[0] == '/')
        snprintf(dir, sizeof dir, "%s", state);
    else if (home && home[0] == '/')
        snprintf(dir, sizeof dir, "%s/.local/state", home);
    else
        return NULL;
    /* mkdir -p, private where we create */
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;

            *p = '\0';
            if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return NULL;
            *p = saved;
            if (!saved)
                break;
        }
    }
    n = strlen(dir);
    if (n + sizeof "/xmpctl/history" > sizeof dir)
        return NULL;
    memcpy(dir + n, "/xmpctl", sizeof "/xmpctl");
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return NULL;
    memcpy(dir + n + strlen("/xmpctl"), "/history", sizeof "/history");
    fd = open(dir, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
              0600);
    if (fd < 0)
        return NULL;
    /* what was typed may name people and servers: nobody else's */
    if (fchmod(fd, 0600) < 0) {
        close(fd);
        return NULL;
    }
    close(fd);
    path = strdup(dir);
    return path;
}

/* A line, or XML typed over several lines as one entry with its line
 * breaks.  The file marks where each entry begins (readline's "#" and
 * the time, as bash does with HISTTIMEFORMAT), so that an entry of
 * several lines is read back whole. */
static void remember(const char *line)
{
    /* as in bash's ignorespace: a leading blank keeps a line out */
    if (!line[0] || line[0] == ' ' || line[0] == '\t')
        return;
    add_history(line);
    if (R.histfile)
        append_history(1, R.histfile);
}

/* The history file, read; one written before entries were marked is
 * written again, marked, so that its lines stay entries of their own
 * once entries of several lines follow them. */
static void read_histfile(void)
{
    char first[3] = "";
    FILE *f;

    history_comment_char = '#';
    history_write_timestamps = 1;
    if (!R.histfile)
        return;
    read_history(R.histfile);
    if (!(f = fopen(R.histfile, "re")))
        return;
    if (!fgets(first, sizeof first, f))
        first[0] = '\0';
    fclose(f);
    if (first[0] && (first[0] != '#' || !isdigit((unsigned char)first[1])) &&
        history_length)
        write_history(R.histfile);
}

/* The file cut to the last REPL_HISTORY_MAX entries, other shells'
 * included: read again (the list is stifled) and written whole.
 * history_truncate_file() counts lines, and would cut an entry of
 * several lines from the line that marks its beginning. */
static void keep_last_entries(void)
{
    clear_history();
    if (read_history(R.histfile) == 0)
        write_history(R.histfile);
}

/* ---- the queue ------------------------------------------------------------ */

static int enqueue(enum item_kind kind, const char *text, size_t len)
{
    struct item *q;
    char *t;

    if (R.qhead + R.qlen == R.qcap) {
        if (R.qhead) {
            memmove(R.q, R.q + R.qhead, R.qlen * sizeof *R.q);
            R.qhead = 0;
        } else {
            size_t cap = R.qcap ? 2 * R.qcap : 16;

            if (!(q = reallocarray(R.q, cap, sizeof *q)))
                return -1;
            R.q = q;
            R.qcap = cap;
        }
    }
    if (!(t = strndup(text, len)))
        return -1;
    R.q[R.qhead + R.qlen].kind = kind;
    R.q[R.qhead + R.qlen].text = t;
    R.qlen++;
    return 0;
}

static void drop_queue(void)
{
    while (R.qlen) {
        free(R.q[R.qhead].text);
        R.qhead++;
        R.qlen--;
    }
    R.qhead = 0;
}

/* ---- XML typed over several lines ---------------------------------------- */

static enum xmp_err count_element(void *ud, struct xmp_node *n)
{
    (void)ud;
    xmp_node_free(n);
    R.xml_elements++;
    return XMP_OK;
}

static void xml_reset(void)
{
    xmp_parser_free(R.xp);
    R.xp = NULL;
    free(R.xml);
    R.xml = NULL;
    R.xlen = 0;
    R.xml_elements = 0;
}

/* The XML typed so far, as one entry of history (without the last line
 * break). */
static void xml_remember(void)
{
    R.xml[R.xlen - 1] = '\0';
    remember(R.xml);
    R.xml[R.xlen - 1] = '\n';
}

/* One more line of XML: once every element is complete, the whole text
 * waits its turn to go out (the raw operation checks and sends it); a
 * line of comments alone sends nothing. */
static void xml_line(const char *line)
{
    size_t len = strlen(line);
    struct xmp_error err;
    char *x;

    if (!R.xp && !(R.xp = xmp_parser_new(count_element, NULL))) {
        cli_error("out of memory");
        return;
    }
    if (R.xlen + len + 1 > REPL_XML_MAX) {
        cli_error("XML longer than %d bytes: discarded, nothing was sent",
                  REPL_XML_MAX);
        xml_reset();
        return;
    }
    if (!(x = realloc(R.xml, R.xlen + len + 2))) {
        cli_error("out of memory");
        xml_reset();
        return;
    }
    R.xml = x;
    memcpy(R.xml + R.xlen, line, len);
    R.xml[R.xlen + len] = '\n';
    R.xlen += len + 1;
    R.xml[R.xlen] = '\0';
    xmp_error_clear(&err);
    if (xmp_parser_feed(R.xp, line, len, &err) != XMP_OK ||
        xmp_parser_feed(R.xp, "\n", 1, &err) != XMP_OK) {
        cli_error("%s; nothing was sent", err.msg);
        xml_remember();
        xml_reset();
        return;
    }
    if (xmp_parser_inside(R.xp))
        return; /* more to come: the prompt says "...>" */
    /* whole: one entry of history, however many lines it took */
    xml_remember();
    if (R.xml_elements && enqueue(ITEM_XML, R.xml, R.xlen) < 0)
        cli_error("out of memory");
    xml_reset();
}

/* ---- reading lines ---------------------------------------------------------- */

static void quit(int status);
static void remove_handler(void);
static int jobs_line(const char *line);
static void jobs(void);

static void one_line(const char *line)
{
    const char *p = line;

    while (*p == ' ' || *p == '\t')
        p++;
    if (R.xlen || *p == '<') {
        xml_line(line);
        return;
    }
    if (!*p)
        return;
    remember(line);
    if (jobs_line(p)) { /* what runs and waits, now: never in the queue */
        jobs();
        return;
    }
    if (enqueue(ITEM_LINE, p, strlen(p)) < 0)
        cli_error("out of memory");
}

/* readline's line handler.  A bracketed paste can bring several lines
 * at once; each counts on its own. */
static void on_line(char *line)
{
    char *nl, *p;

    R.shown = 0; /* readline has moved past the prompt */
    if (!line) {
        fputc('\n', rl_outstream);
        quit(EXIT_OK);
        return;
    }
    /* each line, or each element, goes to the history as it is read */
    for (p = line; (nl = strchr(p, '\n')); p = nl + 1) {
        *nl = '\0';
        one_line(p);
    }
    one_line(p);
    free(line);
    set_prompt();
}

/* ---- the session ------------------------------------------------------------ */

static int completable(const char *jid);
static void roster_add(const char *jid);
static int roster_del(const char *jid);

/* Presence of a full JID: it is offered for completion while it is
 * available. */
static void seen_presence(const struct xmp_node *st)
{
    const char *from = xmp_node_attr(st, "from"),
               *type = xmp_node_attr(st, "type");

    if (!from || !strchr(from, '/'))
        return;
    if (!type)
        roster_add(from);
    else if (strcmp(type, "unavailable") == 0)
        roster_del(from);
}

/* A roster push (RFC 6121 §2.1.6; only our own account's reach here):
 * completion follows it, and in the text format each item is one line
 * ("roster: JID added (none)") instead of the stanza, unless show is 0.
 * Returns non-zero when it was shown so. */
static int roster_push(struct cli *c, const struct xmp_node *st, int show)
{
    const struct xmp_node *q, *it;
    const char *type = xmp_node_attr(st, "type"), *jid, *sub, *ask;
    int text = show && c->o.format == FORMAT_TEXT, removed, had;

    if (strcmp(xmp_node_name(st), "iq") != 0 || !type ||
        strcmp(type, "set") != 0 ||
        !(q = xmp_node_child(st, "jabber:iq:roster", "query")))
        return 0;
    if (text)
        cli_before_output();
    for (it = xmp_node_first(q); it; it = xmp_node_next(it)) {
        if (strcmp(xmp_node_name(it), "item") != 0 ||
            !(jid = xmp_node_attr(it, "jid")))
            continue;
        sub = xmp_node_attr(it, "subscription");
        ask = xmp_node_attr(it, "ask");
        removed = sub && strcmp(sub, "remove") == 0;
        had = roster_del(jid);
        if (!removed)
            roster_add(jid);
        if (!text)
            continue;
        fputs("roster: ", stdout);
        cli_print_sanitized(stdout, jid, strlen(jid));
        if (removed) {
            fputs(" removed\n", stdout);
            continue;
        }
        fputs(had ? " updated (" : " added (", stdout);
        cli_print_sanitized(stdout, sub ? sub : "none",
                            strlen(sub ? sub : "none"));
        fputs(ask && strcmp(ask, "subscribe") == 0 ? ", asked)\n" : ")\n",
              stdout);
    }
    if (text)
        fflush(stdout);
    return text;
}

static int print_incoming(struct xmp_session *s, const struct xmp_node *st,
                          void *ud)
{
    struct cli *c = ud;
    /* a listen (or raw --stay) running shows them itself */
    int show = !(c->op && !c->op->done && c->op->shows_incoming);

    (void)s;
    if (strcmp(xmp_node_name(st), "presence") == 0)
        seen_presence(st);
    /* completion follows a roster push even when it is not shown here */
    if (!roster_push(c, st, show) && show)
        out_stanza(c, st);
    return XMP_PASS;
}

/* A JID from the server goes onto the line being typed as it is: only a
 * valid one, with nothing a terminal would act on. */
static int completable(const char *jid)
{
    struct xmp_jid j;
    size_t i = 0, n, len = strlen(jid);
    uint32_t cp;

    if (xmp_jid_parse(jid, &j, NULL) != XMP_OK)
        return 0;
    xmp_jid_clear(&j);
    for (; i < len; i += n)
        if (!(n = xmp_utf8_decode(jid + i, len - i, &cp)) ||
            cli_unsafe_cp(cp) || cp == ' ')
            return 0;
    return 1;
}

/* Where jid is in the sorted list, or would go; *found says which. */
static size_t roster_find(const char *jid, int *found)
{
    size_t lo = 0, hi = R.nroster, mid;
    int d;

    *found = 0;
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if ((d = strcmp(jid, R.roster[mid])) == 0) {
            *found = 1;
            return mid;
        }
        if (d < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* One more JID to complete, kept sorted, each once. */
static void roster_add(const char *jid)
{
    size_t i;
    int found;
    char **r, *copy;

    if (R.nroster >= REPL_ROSTER_MAX || !completable(jid))
        return;
    i = roster_find(jid, &found);
    if (found || !(copy = strdup(jid)))
        return;
    if (!(r = reallocarray(R.roster, R.nroster + 1, sizeof *r))) {
        free(copy);
        return;
    }
    R.roster = r;
    memmove(R.roster + i + 1, R.roster + i,
            (R.nroster - i) * sizeof *R.roster);
    R.roster[i] = copy;
    R.nroster++;
}

/* A JID no longer to complete; non-zero when it was there. */
static int roster_del(const char *jid)
{
    size_t i;
    int found;

    i = roster_find(jid, &found);
    if (!found)
        return 0;
    free(R.roster[i]);
    memmove(R.roster + i, R.roster + i + 1,
            (R.nroster - i - 1) * sizeof *R.roster);
    R.nroster--;
    return 1;
}

static void on_roster(struct xmp_session *s, const struct xmp_node *reply,
                      const struct xmp_error *e, void *ud)
{
    const struct xmp_node *q, *it;
    const char *jid;

    (void)s;
    (void)e;
    (void)ud;
    if (!reply || !(q = xmp_node_child(reply, "jabber:iq:roster", "query")))
        return;
    /* pushes and presence may have come first: added to what they
     * brought */
    for (it = xmp_node_first(q); it; it = xmp_node_next(it))
        if (strcmp(xmp_node_name(it), "item") == 0 &&
            (jid = xmp_node_attr(it, "jid")))
            roster_add(jid);
}

/* The session has just become ready: the work after the login of the
 * shell's row (it stays connected: the keepalive; initial presence, so
 * that messages to the bare JID reach this resource too; the roster,
 * once, for completing JIDs). */
static void on_ready(struct cli *c)
{
    const struct cmd_needs *n = &cli_command("shell")->needs;
    struct xmp_session *s = c->session;
    struct xmp_session_info i;
    struct cli_ready_args a;

    R.ready_seen = R.ever_ready = 1;
    R.end_reported = 0;
    cli_logged_in(c, n);
    xmp_session_get_info(s, &i);
    note("logged in as %s (type /help for help)", i.bound_jid);
    xmp_handler_add(s, NULL, XMP_PRIO_OBSERVE, print_incoming, c, &R.printer);
    memset(&a, 0, sizeof a);
    a.no_presence = c->no_presence;
    a.replay = 1; /* through a session holder: contacts' presence */
    if (!R.roster_asked)
        a.roster = on_roster;
    R.roster_asked = 1;
    cli_ready(c, n, &a);
    set_prompt();
}

static void reconnect(struct cli *c)
{
    int rc;

    if (c->op) {
        op_done(c->op, EXIT_SIGNAL_BASE + SIGINT);
        c->op->cls->free(c->op);
        c->op = NULL;
        cli_command_name = NULL;
        free(R.running);
        R.running = NULL;
    }
    R.ready_seen = 0;
    R.end_reported = 0;
    if ((rc = cli_session_open(c)) != EXIT_OK)
        R.status = rc;
    set_prompt();
}

/* ---- commands of the prompt ---------------------------------------------- */

static void help(void)
{
    size_t i;

    hide_prompt();
    printf("Commands (as on the command line; 'COMMAND --help' for "
           "options):\n");
    for (i = 0; i < cli_ncommands; i++)
        if (cli_commands[i].needs.prompt == PROMPT_RUNS &&
            !(cli_commands[i].flags & CMD_HIDDEN))
            printf("  %-8s %s\n", cli_commands[i].name,
                   cli_commands[i].summary);
    printf("A line starting with '<' is XML, sent once the element is "
           "complete.\n"
           "  /help              this text (help, too)\n"
           "  /quit              close the session and leave (quit, exit, or "
           "Ctrl-D)\n"
           "  /trace on|off      show the XML going in and out\n"
           "  /format FORMAT     print stanzas as text, json or xml\n"
           "  /reconnect         connect again (after a lost connection)\n"
           "  /jobs              the running command and the lines waiting "
           "(jobs, too)\n"
           "Ctrl-C cancels the connect, or the running command and the lines "
           "typed\nahead, or clears the line.\n");
    fflush(stdout);
}

/* "/jobs" or "jobs", blanks after it: answered at once, even while a
 * command runs (line has no blanks in front). */
static int jobs_line(const char *line)
{
    const char *p;

    if (strncmp(line, "/jobs", 5) == 0)
        p = line + 5;
    else if (strncmp(line, "jobs", 4) == 0)
        p = line + 4;
    else
        return 0;
    return p[strspn(p, " \t")] == '\0';
}

/* A line of /jobs: the text as typed, cut after 200 bytes. */
static void job_text(const char *text)
{
    size_t n = strlen(text);

    if (n > 200) {
        n = 200;
        while (n && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--; /* not inside a UTF-8 sequence */
    }
    cli_print_sanitized(stdout, text, n);
    fputs(n < strlen(text) ? "...\n" : "\n", stdout);
}

/* The running command and how long it has run, then the lines waiting
 * behind it (or for the login), in order. */
static void jobs(void)
{
    size_t i;

    hide_prompt();
    if (!R.running && !R.qlen)
        printf("no running commands\n");
    if (R.running) {
        printf("running (%lld s): ",
               (long long)((xmp_now_ms() - R.running_since) / 1000));
        job_text(R.running);
    }
    for (i = 0; i < R.qlen; i++) {
        fputs("queued: ", stdout);
        job_text(R.q[R.qhead + i].text);
    }
    fflush(stdout);
}

static void slash(char **argv, int argc)
{
    const char *cmd = argv[0];

    if (strcmp(cmd, "/help") == 0) {
        help();
    } else if (strcmp(cmd, "/jobs") == 0) {
        if (argc == 1)
            jobs();
        else
            cli_error("usage: /jobs");
    } else if (strcmp(cmd, "/quit") == 0 || strcmp(cmd, "/exit") == 0) {
        quit(EXIT_OK);
    } else if (strcmp(cmd, "/trace") == 0) {
        if (argc == 2 && strcmp(argv[1], "on") == 0)
            R.c->o.verbose = 1;
        else if (argc == 2 && strcmp(argv[1], "off") == 0)
            R.c->o.verbose = 0;
        else if (argc == 1)
            note("trace is %s", R.c->o.verbose ? "on" : "off");
        else
            cli_error("usage: /trace on|off");
    } else if (strcmp(cmd, "/format") == 0) {
        if (argc == 2 && strcmp(argv[1], "text") == 0)
            R.format = FORMAT_TEXT;
        else if (argc == 2 && strcmp(argv[1], "json") == 0)
            R.format = FORMAT_JSON;
        else if (argc == 2 && strcmp(argv[1], "xml") == 0)
            R.format = FORMAT_XML;
        else
            cli_error("usage: /format text|json|xml");
        R.c->o.format = R.format;
    } else if (strcmp(cmd, "/reconnect") == 0) {
        reconnect(R.c);
    } else {
        cli_error("unknown command '%s' (/help lists them)", cmd);
    }
}

/*
 * Split a line into words as a shell would, without expansions: blanks
 * separate, '...' keeps everything, "..." keeps everything but \" \\ \$
 * \` (escaped), and a backslash outside quotes escapes the next
 * character.  Returns the number of words, or -1 (reported).
 */
static int split(const char *line, char *buf, char **argv, int max)
{
    const char *p = line;
    char *o = buf;
    int argc = 0;

    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        if (argc == max) {
            cli_error("more than %d words on one line", max);
            return -1;
        }
        argv[argc++] = o;
        while (*p && *p != ' ' && *p != '\t') {
            if (*p == '\'') {
                for (p++; *p && *p != '\''; p++)
                    *o++ = *p;
                if (!*p) {
                    cli_error("unterminated ' quote");
                    return -1;
                }
                p++;
            } else if (*p == '"') {
                for (p++; *p && *p != '"'; p++) {
                    if (*p == '\\' && p[1] == 'n') {
                        *o++ = '\n'; /* a line break, typed */
                        p++;
                        continue;
                    }
                    if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
                        p++;
                    *o++ = *p;
                }
                if (!*p) {
                    cli_error("unterminated \" quote");
                    return -1;
                }
                p++;
            } else if (*p == '\\' && p[1]) {
                *o++ = p[1] == 'n' ? '\n' : p[1];
                p += 2;
            } else {
                *o++ = *p++;
            }
        }
        *o++ = '\0';
    }
    argv[argc] = NULL;
    return argc;
}

/* Start an operation the way main does, on the open session, with the
 * work after the login its row asks for; typed is its line, for /jobs. */
static void start_op(struct cli *c, const struct command *cmd, struct op *op,
                     const char *typed)
{
    int rc;

    if (!c->session || xmp_session_phase(c->session) != XMP_PHASE_READY) {
        cli_command_name = NULL; /* the shell's own error */
        cli_error("not connected (type /reconnect)");
        op->c = c;
        op->cls->free(op);
        c->o.format = R.format;
        return;
    }
    op->c = c;
    c->op = op;
    free(R.running);
    R.running = strdup(typed); /* NULL: no mark, no line in /jobs */
    R.running_since = xmp_now_ms();
    if ((rc = op->cls->start(op)) != 0 ||
        (!op->done && (rc = cli_op_ready(op, &cmd->needs)) != 0))
        op_done(op, rc);
    set_prompt();
}

static void run_command(struct cli *c, char **argv, int argc,
                        const char *typed)
{
    const struct command *cmd = cli_command(argv[0]);
    struct op *op = NULL;
    int rc;

    if (!cmd) {
        cli_error("unknown command '%s' (type /help)", argv[0]);
        return;
    }
    if (cmd->needs.prompt == PROMPT_IS) {
        cli_error("already in the shell");
        return;
    }
    /* from here until it ends, its messages carry its name */
    snprintf(R.running_name, sizeof R.running_name, "%s", cmd->name);
    cli_command_name = R.running_name;
    /* the command's --format lasts as long as the command */
    rc = cmd->fn(c, argc, argv, &op);
    fflush(stdout);
    if (rc || !op) {
        c->o.format = R.format;
        cli_command_name = NULL;
        return;
    }
    start_op(c, cmd, op, typed);
}

/* help, quit, exit and jobs mean /help, /quit, /exit and /jobs when
 * typed alone: no command has those names. */
static int bare_word(const char *w)
{
    return strcmp(w, "help") == 0 || strcmp(w, "quit") == 0 ||
           strcmp(w, "exit") == 0 || strcmp(w, "jobs") == 0;
}

/* A line that is only a bare word of bare_word(), blanks around it. */
static int bare_line(const char *line)
{
    char w[8];
    size_t n;

    line += strspn(line, " \t");
    n = strcspn(line, " \t");
    if (n >= sizeof w || line[n + strspn(line + n, " \t")])
        return 0;
    memcpy(w, line, n);
    w[n] = '\0';
    return bare_word(w);
}

static void run_item(struct item *it)
{
    struct cli *c = R.c;
    char *argv[REPL_ARGS_MAX + 1], *buf;
    int argc;

    hide_prompt();
    if (it->kind == ITEM_XML) {
        char *av[] = { "raw", it->text, NULL };

        run_command(c, av, 2, it->text);
        return;
    }
    if (!(buf = malloc(strlen(it->text) + 1))) {
        cli_error("out of memory");
        return;
    }
    argc = split(it->text, buf, argv, REPL_ARGS_MAX);
    if (argc > 0 && argv[0][0] == '/')
        slash(argv, argc);
    else if (argc == 1 && bare_word(argv[0])) {
        char name[16], *av[] = { name, NULL };

        snprintf(name, sizeof name, "/%s", argv[0]);
        slash(av, 1);
    }
    else if (argc > 0)
        run_command(c, argv, argc, it->text);
    free(buf);
}

/* The operation has finished: say how, unless it already said. */
static void finish_op(struct cli *c)
{
    struct op *op = c->op;

    if (op->status != EXIT_OK)
        note("%s: exit status %d", R.running_name, op->status);
    c->op = NULL;
    op->cls->free(op);
    c->o.format = R.format;
    cli_command_name = NULL;
    free(R.running);
    R.running = NULL;
    set_prompt();
}

/* What waits may run now: an operation needs the session ready (or
 * over, to say it is not); a command of the prompt runs at once. */
static int may_run(const struct item *it)
{
    struct xmp_session *s = R.c->session;

    if (it->kind == ITEM_LINE && (it->text[0] == '/' || bare_line(it->text)))
        return 1;
    return !s || cli_session_over(s) ||
           xmp_session_phase(s) == XMP_PHASE_READY;
}

/* ---- leaving ---------------------------------------------------------------- */

static void quit(int status)
{
    struct cli *c = R.c;

    if (R.quitting)
        return;
    R.quitting = 1;
    R.status = status;
    drop_queue();
    if (R.installed) {
        remove_handler();
        R.shown = 0;
    }
    if (c->op && !c->op->done) {
        if (c->op->cls->interrupt)
            c->op->cls->interrupt(c->op, SIGINT);
        op_done(c->op, EXIT_SIGNAL_BASE + SIGINT);
    }
    /* RFC 6120 §4.4 once logged in; before that, nobody to say goodbye
     * to but a server still negotiating */
    if (c->session && xmp_session_phase(c->session) == XMP_PHASE_READY) {
        xmp_session_close(c->session);
    } else {
        xmp_session_free(c->session);
        c->session = NULL;
    }
}

/* Ctrl-Z: give the terminal back as it was, stop, and take it again. */
static void suspend(void)
{
    hide_prompt();
    if (R.installed) {
        rl_cleanup_after_signal();
        rl_deprep_terminal(); /* keep_terminal() did not */
    }
    signal(SIGTSTP, SIG_DFL);
    raise(SIGTSTP);
    /* continued */
    cli_catch_signal(SIGTSTP);
    if (R.installed) {
        rl_reset_after_signal();
        rl_resize_terminal();
    }
    R.shown = 0;
}

/* The line as it was, "^C", and a new line for the next prompt. */
static void interrupted_line(void)
{
    rl_point = rl_end;
    rl_redisplay();
    fputs("^C", rl_outstream);
    rl_crlf();
    fflush(rl_outstream);
    R.shown = 0;
}

/* Ctrl-C: the lines waiting their turn go, and the shell says so. */
static void drop_typed_ahead(void)
{
    if (R.qlen)
        note("dropped %zu line%s typed ahead", R.qlen,
             R.qlen == 1 ? "" : "s");
    drop_queue();
}

static void on_signal(int sig)
{
    struct cli *c = R.c;

    if (sig != SIGINT) {
        quit(EXIT_SIGNAL_BASE + sig);
        return;
    }
    if (R.quitting) {
        /* a second Ctrl-C: stop waiting for the server's goodbye */
        xmp_session_free(c->session);
        c->session = NULL;
        return;
    }
    if (c->op && !c->op->done) {
        hide_prompt();
        if (c->op->cls->interrupt)
            c->op->cls->interrupt(c->op, sig);
        op_done(c->op, EXIT_SIGNAL_BASE + sig);
        /* as a shell's ^C does, what was typed ahead goes with it; the
         * line being typed stays */
        drop_typed_ahead();
        return;
    }
    /* no operation: forget the line, the XML and what was typed ahead,
     * the connect under way, and whatever readline was in the middle of
     * (a search, a numeric argument, half a key sequence); that may draw
     * the line again */
    if (R.shown && !RL_ISSTATE(RL_STATE_ISEARCH | RL_STATE_NSEARCH))
        interrupted_line();
    if (R.installed) {
        rl_free_line_state();
        rl_callback_sigcleanup();
    }
    if (R.shown) /* a search drew its own line back */
        interrupted_line();
    rl_replace_line("", 1);
    rl_point = rl_end = 0;
    xml_reset();
    drop_typed_ahead();
    /* connecting (or connecting again): give up, and say how to retry */
    if (c->session && !cli_session_over(c->session) &&
        xmp_session_phase(c->session) != XMP_PHASE_READY) {
        xmp_session_free(c->session);
        c->session = NULL;
        R.ready_seen = 0;
        note("connect cancelled; /reconnect connects again");
    }
    set_prompt();
}

/* ---- completion ----------------------------------------------------------- */

static const char *const slash_words[] = { "/help", "/jobs", "/quit", "/trace",
                                           "/format", "/reconnect", NULL };
static const char *const xml_names[] = {
    "<message", "<presence", "<iq", "<body", "<subject", "<thread",
    "<query", "<show", "<status", "<priority", "<ping", "<error", NULL };
static const char *const xml_ns[] = {
    "jabber:iq:roster", "jabber:iq:version", "jabber:iq:private",
    "jabber:iq:register", "jabber:iq:last", "urn:xmpp:ping", "urn:xmpp:time",
    "urn:xmpp:carbons:2", "urn:xmpp:mam:2", "urn:xmpp:blocking",
    "vcard-temp", "http://jabber.org/protocol/disco#info",
    "http://jabber.org/protocol/disco#items",
    "http://jabber.org/protocol/commands",
    "http://jabber.org/protocol/muc", NULL };

/* The words the generator offers, prefix-matched against text. */
static const char **cands;
static size_t ncands, candcap;
static const char *cand_prefix = ""; /* kept in front of each match */

static void cand_add(const char *w)
{
    const char **n;

    if (ncands + 1 >= candcap) {
        size_t cap = candcap ? 2 * candcap : 64;

        if (!(n = reallocarray(cands, cap, sizeof *n)))
            return;
        cands = n;
        candcap = cap;
    }
    cands[ncands++] = w;
}

static void cand_list(const char *const *l)
{
    for (; *l; l++)
        cand_add(*l);
}

static void cand_opts(const struct opt_def *t, size_t n, char *store,
                      size_t len)
{
    size_t i, used = 0;

    for (i = 0; i < n && used < len; i++) {
        int w = snprintf(store + used, len - used, "--%s", t[i].name);

        if (w < 0 || (size_t)w >= len - used)
            break;
        cand_add(store + used);
        used += (size_t)w + 1;
    }
}

static char *generator(const char *text, int state)
{
    static size_t i, plen, tlen;
    char *m;

    if (!state) {
        i = 0;
        plen = strlen(cand_prefix);
        tlen = strlen(text);
    }
    while (i < ncands) {
        const char *w = cands[i++];

        if (tlen < plen || strncmp(w, text + plen, tlen - plen) != 0)
            continue;
        if (!(m = malloc(plen + strlen(w) + 1)))
            return NULL;
        memcpy(m, cand_prefix, plen);
        memcpy(m + plen, w, strlen(w) + 1);
        return m;
    }
    return NULL;
}

/* The word before the one being completed, in buf. */
static const char *word_before(int start, char *buf, size_t len)
{
    int e = start, b;

    while (e > 0 && (rl_line_buffer[e - 1] == ' ' ||
                     rl_line_buffer[e - 1] == '\t'))
        e--;
    b = e;
    while (b > 0 && rl_line_buffer[b - 1] != ' ' &&
           rl_line_buffer[b - 1] != '\t')
        b--;
    snprintf(buf, len, "%.*s", e - b, rl_line_buffer + b);
    return buf;
}

static char **complete(const char *text, int start, int end)
{
    static char optstore[4096];
    static const char *const onoff[] = { "on", "off", NULL };
    char first[64], prev[64];
    const char *p = rl_line_buffer;
    const struct command *cmd;
    size_t i;

    (void)end;
    rl_attempted_completion_over = 1; /* never file names */
    ncands = 0;
    cand_prefix = "";
    while (*p == ' ' || *p == '\t')
        p++;
    if (R.xlen || *p == '<') {
        const char *q = strstr(text, "xmlns=");

        if (q == text && (text[6] == '\'' || text[6] == '"')) {
            cand_prefix = text[6] == '\'' ? "xmlns='" : "xmlns=\"";
            cand_list(xml_ns);
        } else if (text[0] == '<') {
            cand_list(xml_names);
        } else {
            static const char *const attrs[] = { "to=", "type=", "id=",
                                                 "xmlns=", NULL };
            cand_list(attrs);
        }
        rl_completion_append_character = '\0';
        return rl_completion_matches(text, generator);
    }
    rl_completion_append_character = ' ';
    if (p - rl_line_buffer >= start) {
        for (i = 0; i < cli_ncommands; i++)
            if (cli_commands[i].needs.prompt == PROMPT_RUNS &&
                !(cli_commands[i].flags & CMD_HIDDEN))
                cand_add(cli_commands[i].name);
        cand_list(slash_words);
        return rl_completion_matches(text, generator);
    }
    snprintf(first, sizeof first, "%.*s", (int)strcspn(p, " \t"), p);
    word_before(start, prev, sizeof prev);
    if (strcmp(first, "/format") == 0 || strcmp(prev, "--format") == 0 ||
        strcmp(prev, "-f") == 0) {
        cand_list(cli_formats);
    } else if (strcmp(first, "listen") == 0 &&
               (strcmp(prev, "--type") == 0 || strcmp(prev, "-T") == 0)) {
        cand_list(listen_types);
    } else if (strcmp(first, "/trace") == 0) {
        cand_list(onoff);
    } else if (text[0] == '-' && (cmd = cli_command(first))) {
        if (cmd->opts)
            cand_opts(cmd->opts->opts, cmd->opts->n, optstore,
                      sizeof optstore);
        cand_add("--format");
        cand_add("--help");
    } else if (strcmp(first, "presence") == 0 && strcmp(prev, first) == 0) {
        cand_list(presence_shows);
    } else if (strcmp(first, "roster") == 0 && strcmp(prev, first) == 0) {
        static const char *const actions[] = { "list", "add", "set",
                                               "remove", NULL };
        cand_list(actions);
    } else if (cli_command(first)) {
        for (i = 0; i < R.nroster; i++)
            cand_add(R.roster[i]);
    }
    return rl_completion_matches(text, generator);
}

/* ---- the loop --------------------------------------------------------------- */

/* readline gives the terminal back (cooked, echoing) each time a line is
 * done and takes it again when the line's handler returns.  Keys typed in
 * between would be echoed by the terminal itself and then drawn again by
 * readline.  Here the session runs on while a line is handled, so the
 * terminal stays readline's from install() until the handler is removed,
 * which gives it back itself (remove_handler()). */
static void keep_terminal(void)
{
}

static void remove_handler(void)
{
    rl_callback_handler_remove();
    rl_deprep_terminal();
    R.installed = 0;
}

static void install(void)
{
    rl_readline_name = "xmpctl";
    rl_deprep_term_function = keep_terminal;
    rl_catch_signals = 0;  /* ours come through the signal pipe */
    rl_catch_sigwinch = 0;
    /* no setenv(LINES, COLUMNS): a resolver thread may be in getenv */
    rl_change_environment = 0;
    /* stanzas may go to a file; the prompt stays on the terminal */
    if (!isatty(STDOUT_FILENO))
        rl_outstream = stderr;
    rl_attempted_completion_function = complete;
    rl_completer_word_break_characters = (char *)" \t";
    rl_completer_quote_characters = (char *)"";
    using_history();
    stifle_history(REPL_HISTORY_MAX);
    R.histfile = history_path();
    read_histfile();
    set_prompt();
    rl_callback_handler_install(R.prompt, on_line);
    R.installed = 1;
    R.shown = 1;
}

static void uninstall(void)
{
    size_t i;

    if (R.installed)
        remove_handler();
    rl_deprep_term_function = rl_deprep_terminal;
    if (R.histfile)
        keep_last_entries();
    free(R.histfile);
    clear_history();
    drop_queue();
    free(R.q);
    xml_reset();
    for (i = 0; i < R.nroster; i++)
        free(R.roster[i]);
    free(R.roster);
    free(cands);
    cands = NULL;
    ncands = candcap = 0;
}

static void screen_hook(void)
{
    hide_prompt();
}

/* The session's state, after each turn. */
static int watch_session(struct cli *c)
{
    struct xmp_session *s = c->session;

    if (!s)
        return 0;
    if (!R.ready_seen && xmp_session_phase(s) == XMP_PHASE_READY)
        on_ready(c);
    if (cli_session_over(s) && !R.end_reported && !R.quitting) {
        R.end_reported = 1;
        R.status = cli_session_status(c);
        if (!R.ever_ready)
            return -1; /* could not log in: the shell ends here */
        note("the session has ended; /reconnect connects again");
        set_prompt();
    }
    return 0;
}

/* shell --record FILE, from the option parser to the shell's start */
static char *record_path;

/* The shell proper; cli_repl keeps the recording around it. */
static int repl(struct cli *c);

int cli_repl(struct cli *c)
{
    char *path = record_path;
    int rc;

    record_path = NULL;
    if (path && isatty(STDIN_FILENO) &&
        (rc = script_record_start(c, path)) != EXIT_OK) {
        free(path);
        return rc;
    }
    free(path);
    rc = repl(c);
    script_record_end(c);
    return rc;
}

/* What waits, in order, while nothing runs; then the prompt, over the
 * terminal's input. */
static enum cli_turn shell_before(struct cli_driver *d, struct cli_poll *lp)
{
    static struct pollfd in;
    struct cli *c = d->cs[0];

    if (c->op && c->op->done)
        finish_op(c);
    if (watch_session(c) < 0)
        return CLI_DONE;
    if (R.quitting && cli_session_over(c->session))
        return CLI_DONE;
    if (!c->op && R.qlen && !R.quitting && may_run(&R.q[R.qhead])) {
        struct item it = R.q[R.qhead];

        R.qhead++;
        R.qlen--;
        run_item(&it);
        free(it.text);
        return CLI_AGAIN;
    }
    show_prompt();
    in.fd = STDIN_FILENO;
    in.events = POLLIN;
    in.revents = 0;
    lp->extra = &in;
    lp->nextra = R.installed ? 1 : 0;
    return CLI_POLL;
}

static enum cli_turn shell_after(struct cli_driver *d, struct cli_poll *lp)
{
    (void)d;
    if (R.installed && (lp->extra->revents & (POLLIN | POLLHUP | POLLERR))) {
        /* what the typing says (an XML error, /jobs) is the shell's */
        const char *name = cli_command_name;

        cli_command_name = NULL;
        rl_callback_read_char();
        cli_command_name = name;
        if (R.installed)
            R.shown = 1;
    }
    if (lp->winch && R.installed)
        rl_resize_terminal();
    if (lp->stop)
        suspend();
    if (lp->sig)
        on_signal(lp->sig);
    lp->sig = 0;
    return CLI_POLL;
}

static int repl(struct cli *c)
{
    void (*saved_hook)(void) = cli_before_output;
    struct cli_driver d;
    int rc;

    if (!isatty(STDIN_FILENO)) {
        cli_error("shell: stdin is not a terminal (pipe stanzas to "
                  "'xmpctl raw' instead)");
        return EXIT_USAGE;
    }
    memset(&R, 0, sizeof R);
    R.c = c;
    R.format = c->o.format;
    c->interactive = 1;
    if ((rc = cli_session_open(c)) != EXIT_OK)
        return rc;
    if ((rc = cli_signals()) != 0 || (rc = cli_catch_signal(SIGWINCH)) != 0 ||
        (rc = cli_catch_signal(SIGTSTP)) != 0 ||
        (rc = cli_catch_signal(SIGQUIT)) != 0)
        return rc;
    cli_before_output = screen_hook;
    install();
    memset(&d, 0, sizeof d);
    d.cs = &c;
    d.n = 1;
    d.before = shell_before;
    d.after = shell_after;
    if (cli_drive(&d) < 0)
        R.status = EXIT_OSERR;
    hide_prompt();
    cli_before_output = saved_hook;
    uninstall();
    if (c->op) {
        c->op->cls->free(c->op);
        c->op = NULL;
    }
    cli_command_name = NULL;
    free(R.running);
    R.running = NULL;
    fflush(stdout);
    return R.status;
}

enum { OPT_NO_PRESENCE = 256, OPT_RECORD };

static const struct opt_def shell_opts[] = {
    {"no-presence", OPT_NO_PRESENCE, NULL,
     "do not send initial presence (messages to the bare JID then go "
     "elsewhere)", ARG_NONE},
    {"record", OPT_RECORD, "FILE", "write the session to FILE as a script "
                                   "for 'xmpctl script'",
     ARG_FILE},
};

const struct opt_list shell_options = {
    shell_opts, sizeof shell_opts / sizeof shell_opts[0]
};

static int set_shell(void *ud, int id, const char *arg)
{
    struct cli *c = ud;

    if (id == OPT_RECORD) {
        free(record_path);
        return (record_path = strdup(arg)) ? 0 : EXIT_OSERR;
    }
    if (id != OPT_NO_PRESENCE)
        return EXIT_SOFTWARE;
    c->no_presence = 1;
    return 0;
}

int cmd_shell(struct cli *c, int argc, char **argv, struct op **op)
{
    int rc, next;

    *op = NULL;
    if ((rc = cli_parse_cmd(&c->o, "shell", argc, argv, &next, set_shell,
                            c)))
        return rc;
    if (next < argc) {
        cli_error("shell takes no arguments, got '%s'", argv[next]);
        return EXIT_USAGE;
    }
    c->interactive = 1;
    return EXIT_OK;
}
