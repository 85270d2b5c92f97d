/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * script_parse.c - read a scansion script whole, before anything
 * connects: the header of [Client] blocks up to a line of dashes, then
 * one action per paragraph, the XML of sends: and receives: indented
 * below it.  Every error names its line; none quotes a password.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"

#define SCRIPT_MAX_CLIENTS 16 /* what one loop polls (LOOP_MAX_CLIENTS) */

static const char *const action_names[] = {
    "connects", "disconnects", "sends:", "receives:", "receives: nothing"
};

const char *script_action_name(enum script_action a)
{
    return action_names[a];
}

struct line {
    const char *p;
    size_t len;
};

struct pstate {
    struct script *s;
    char *err;
    size_t errlen;
    size_t steps_cap; /* s->steps has room for this many */
    struct script_vars captured; /* by the steps so far, values NULL */
};

__attribute__((format(printf, 3, 4))) static int fail(struct pstate *ps,
                                                      int line,
                                                      const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(ps->err, ps->errlen, "%d: ", line);

    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < ps->errlen)
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copy of p[0..len) with surrounding blanks removed; NULL on ENOMEM. */
static char *trimmed(const char *p, size_t len)
{
    char *r;

    while (len && is_space(*p))
        p++, len--;
    while (len && is_space(p[len - 1]))
        len--;
    if (!(r = malloc(len + 1)))
        return NULL;
    memcpy(r, p, len);
    r[len] = '\0';
    return r;
}

static int blank(const struct line *l)
{
    size_t i;

    for (i = 0; i < l->len; i++)
        if (!is_space(l->p[i]))
            return 0;
    return 1;
}

/* A comment: a line beginning with '#', or with "//" or "--" followed by
 * a blank or the end of the line (scansion's three kinds).  Not "---",
 * the line that ends the header. */
static int comment(const struct line *l)
{
    if (l->len && l->p[0] == '#')
        return 1;
    if (l->len < 2 || !((l->p[0] == '/' && l->p[1] == '/') ||
                        (l->p[0] == '-' && l->p[1] == '-')))
        return 0;
    return l->len == 2 || l->p[2] == ' ' || l->p[2] == '\t' ||
           l->p[2] == '\r';
}

static int indented(const struct line *l)
{
    return l->len && (l->p[0] == ' ' || l->p[0] == '\t');
}

/* The action that p[0..len) names, or -1: "connects", "disconnects",
 * "sends", "receives" (the colon after the last two may be left out, as
 * scansion allows) and "receives: nothing"; trailing blanks ignored. */
static int action_of(const char *p, size_t len)
{
    static const char *const words[] = { "connects", "disconnects", "sends",
                                         "receives" };
    size_t i, n;

    while (len && is_space(p[len - 1]))
        len--;
    for (i = 0; i < sizeof words / sizeof words[0]; i++) {
        n = strlen(words[i]);
        if (len >= n && memcmp(p, words[i], n) == 0)
            break;
    }
    if (i == sizeof words / sizeof words[0])
        return -1;
    p += n;
    len -= n;
    if (len == 0)
        return (int)i;
    if (i < SCRIPT_SENDS)
        return -1;
    if (*p == ':')
        p++, len--;
    if (len == 0)
        return (int)i;
    if (i != SCRIPT_RECEIVES || !is_space(*p))
        return -1;
    while (len && is_space(*p))
        p++, len--;
    return len == 7 && memcmp(p, "nothing", 7) == 0 ? SCRIPT_RECEIVES_NOTHING
                                                     : -1;
}

static int dashes(const struct line *l)
{
    size_t i, n = 0;

    for (i = 0; i < l->len && !is_space(l->p[i]); i++)
        if (l->p[i] != '-')
            return 0;
    n = i;
    for (; i < l->len; i++)
        if (!is_space(l->p[i]))
            return 0;
    return n >= 3;
}

static int add_client(struct pstate *ps, const char *name, size_t nlen,
                      int line)
{
    struct script *s = ps->s;
    struct script_client *c;
    size_t i;
    char *n = trimmed(name, nlen);

    if (!n)
        return fail(ps, line, "out of memory");
    if (!*n) {
        free(n);
        return fail(ps, line, "[Client] without a name");
    }
    for (i = 0; i < s->nclients; i++)
        if (strcmp(s->clients[i].name, n) == 0) {
            fail(ps, line, "a second client named '%s' (the first on line "
                           "%d)",
                 n, s->clients[i].line);
            free(n);
            return -1;
        }
    if (s->nclients == SCRIPT_MAX_CLIENTS) {
        free(n);
        return fail(ps, line, "more than %d clients (SCRIPT_MAX_CLIENTS)",
                    SCRIPT_MAX_CLIENTS);
    }
    c = realloc(s->clients, (s->nclients + 1) * sizeof *c);
    if (!c) {
        free(n);
        return fail(ps, line, "out of memory");
    }
    s->clients = c;
    c = &s->clients[s->nclients++];
    memset(c, 0, sizeof *c);
    c->name = n;
    c->line = line;
    return 0;
}

/* "key: value" inside a [Client] block. */
static int client_key(struct pstate *ps, const struct line *l, int line)
{
    struct script_client *c = &ps->s->clients[ps->s->nclients - 1];
    const char *colon = memchr(l->p, ':', l->len);
    char *key, **slot;
    int rc = 0;

    if (!colon)
        return fail(ps, line, "expected 'key: value' in the block of "
                              "client '%s'",
                    c->name);
    if (!(key = trimmed(l->p, (size_t)(colon - l->p))))
        return fail(ps, line, "out of memory");
    if (strcmp(key, "jid") == 0)
        slot = &c->jid;
    else if (strcmp(key, "password") == 0)
        slot = &c->password;
    else if (strcmp(key, "resource") == 0)
        slot = &c->resource;
    else
        slot = NULL;
    if (!slot)
        rc = fail(ps, line, "unknown key '%s' for client '%s' (jid, "
                            "password, resource)",
                  key, c->name);
    else if (*slot)
        rc = fail(ps, line, "a second '%s' for client '%s'", key, c->name);
    else if (!(*slot = trimmed(colon + 1,
                               l->len - (size_t)(colon + 1 - l->p))))
        rc = fail(ps, line, "out of memory");
    free(key);
    return rc;
}

static int check_client(struct pstate *ps, const struct script_client *c)
{
    struct xmp_error e;
    struct xmp_jid j;
    int has_res;

    if (!c->jid) /* its account's, found before connecting */
        return 0;
    if (!*c->jid)
        return fail(ps, c->line, "client '%s' has an empty jid", c->name);
    if (xmp_jid_parse(c->jid, &j, &e) != XMP_OK)
        return fail(ps, c->line, "client '%s': invalid jid: %s", c->name,
                    e.msg);
    has_res = j.resource != NULL;
    xmp_jid_clear(&j);
    if (has_res && c->resource)
        return fail(ps, c->line, "client '%s': a resource both in its jid "
                                 "and as 'resource'",
                    c->name);
    return 0;
}

/* The client whose name (followed by a space) begins the line: the
 * longest, so that "Juliet's phone" wins over "Juliet". */
static int client_at(const struct script *s, const struct line *l,
                     size_t *which)
{
    size_t i, best = 0, n;
    int found = 0;

    for (i = 0; i < s->nclients; i++) {
        n = strlen(s->clients[i].name);
        if (n < l->len && l->p[n] == ' ' &&
            memcmp(l->p, s->clients[i].name, n) == 0 &&
            (!found || n > best)) {
            best = n;
            *which = i;
            found = 1;
        }
    }
    return found;
}

static int add_step(struct pstate *ps, enum script_action a, size_t client,
                    int line)
{
    struct script *s = ps->s;
    struct script_step *st;
    size_t cap;

    if (s->nsteps == ps->steps_cap) {
        cap = ps->steps_cap ? 2 * ps->steps_cap : 64;
        if (!(st = realloc(s->steps, cap * sizeof *st)))
            return fail(ps, line, "out of memory");
        s->steps = st;
        ps->steps_cap = cap;
    }
    st = &s->steps[s->nsteps++];
    memset(st, 0, sizeof *st);
    st->action = a;
    st->client = client;
    st->line = line;
    return 0;
}

/* The lines of text, a CR before a newline dropped; NULL: out of
 * memory. */
static struct line *split_lines(const char *text, size_t len, size_t *n)
{
    const char *p = text, *end = text + len, *nl;
    size_t maxlines = 1;
    struct line *lines;

    *n = 0;
    /* the lines are counted first: one allocation for all */
    for (nl = text; (nl = memchr(nl, '\n', (size_t)(end - nl))); nl++)
        maxlines++;
    if (!(lines = malloc(maxlines * sizeof *lines)))
        return NULL;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        lines[*n].p = p;
        lines[*n].len = (size_t)((nl ? nl : end) - p);
        if (lines[*n].len && p[lines[*n].len - 1] == '\r')
            lines[*n].len--;
        (*n)++;
        p = nl ? nl + 1 : end;
    }
    return lines;
}

/* One line of the header (not blank): a [Client] block, its keys, a
 * comment, or the dashes that end the header (*in_header = 0).  Returns
 * 0, or -1 (said). */
static int header_line(struct pstate *ps, const struct line *l, int ln,
                       int *in_client, int *in_header)
{
    struct script *s = ps->s;
    size_t j;

    if (*in_client && indented(l))
        return client_key(ps, l, ln);
    if (comment(l)) {
        size_t skip = l->p[0] == '#' ? 1 : 2;

        if (!s->title && s->nclients == 0 &&
            !(s->title = trimmed(l->p + skip, l->len - skip)))
            return fail(ps, ln, "out of memory");
        return 0;
    }
    if (l->len > 8 && memcmp(l->p, "[Client]", 8) == 0) {
        if (add_client(ps, l->p + 8, l->len - 8, ln) < 0)
            return -1;
        *in_client = 1;
        return 0;
    }
    if (l->p[0] == '[')
        return fail(ps, ln, "unknown block: only [Client] NAME may be "
                            "declared");
    if (!dashes(l))
        return fail(ps, ln, "expected '[Client] NAME', a comment or the "
                            "line of dashes that ends the header");
    for (j = 0; j < s->nclients; j++)
        if (check_client(ps, &s->clients[j]) < 0)
            return -1;
    *in_header = 0;
    return 0;
}

/* The names that st's XML captures, known to the steps after it. */
static int note_captures(struct pstate *ps, const struct script_step *st)
{
    const char *p = st->xml, *q, *end;
    size_t n = strlen(SCRIPT_CAPTURE);

    while ((q = strstr(p, SCRIPT_CAPTURE))) {
        q += n;
        if (!(end = strchr(q, '}')))
            break;
        if (end > q && script_vars_find(&ps->captured, q,
                                        (size_t)(end - q)) < 0 &&
            script_vars_set(&ps->captured, q, (size_t)(end - q), NULL) < 0)
            return fail(ps, st->xml_line, "out of memory");
        p = end + 1;
    }
    return 0;
}

/* The XML of the sends: or receives: step st on line i: the indented
 * lines below it, as written (indentation and all: columns stay true),
 * checked.  *last: its last line.  Returns 0, or -1 (said). */
static int step_xml(struct pstate *ps, struct script_step *st,
                    const struct line *lines, size_t nlines, size_t i,
                    size_t *last)
{
    size_t first = i + 1, j, n;
    struct xmp_node *holder;

    *last = i;
    for (j = i + 1; j < nlines && (blank(&lines[j]) || indented(&lines[j]));
         j++)
        if (!blank(&lines[j]))
            *last = j;
    if (*last == i)
        return fail(ps, (int)i + 1, "%s needs the XML of a stanza, indented "
                                    "on the lines below",
                    action_names[st->action]);
    st->xml_line = (int)first + 1;
    n = (size_t)(lines[*last].p + lines[*last].len - lines[first].p);
    if (!(st->xml = malloc(n + 1)))
        return fail(ps, (int)i + 1, "out of memory");
    memcpy(st->xml, lines[first].p, n);
    st->xml[n] = '\0';
    if (!script_element(ps->s, st, NULL, &ps->captured, &holder, ps->err,
                        ps->errlen))
        return -1; /* err says where */
    xmp_node_free(holder);
    return st->action == SCRIPT_RECEIVES ? note_captures(ps, st) : 0;
}

int script_parse(const char *file, const char *text, size_t len,
                 struct script *s, char *err, size_t errlen)
{
    struct pstate ps = { s, err, errlen, 0, { NULL, NULL, 0 } };
    struct line *lines = NULL;
    size_t nlines = 0, i, at, client;
    int in_header = 1, in_client = 0, rc = -1, a;

    memset(s, 0, sizeof *s);
    if (memchr(text, '\0', len))
        return fail(&ps, 1, "the script holds a NUL byte");
    if (!(s->file = strdup(file)))
        return fail(&ps, 1, "out of memory");
    if (!(lines = split_lines(text, len, &nlines))) {
        fail(&ps, 1, "out of memory");
        goto out;
    }
    for (i = 0; i < nlines; i++) {
        const struct line *l = &lines[i];
        int ln = (int)i + 1;

        if (blank(l))
            continue;
        if (in_header) {
            if (header_line(&ps, l, ln, &in_client, &in_header) < 0)
                goto out;
            continue;
        }
        if (comment(l))
            continue;
        if (indented(l)) {
            fail(&ps, ln, "indented line outside the XML of a sends: or "
                          "receives:");
            goto out;
        }
        if (!client_at(s, l, &client)) {
            fail(&ps, ln, "expected an action: a line beginning with the "
                          "name of a client");
            goto out;
        }
        at = strlen(s->clients[client].name) + 1;
        if ((a = action_of(l->p + at, l->len - at)) < 0) {
            fail(&ps, ln, "unknown action for '%s': expected connects, "
                          "disconnects, sends:, receives: or receives: "
                          "nothing",
                 s->clients[client].name);
            goto out;
        }
        /* whether the client is connected here is the run's to say:
         * scansion's own scripts disconnect a client twice */
        if (add_step(&ps, (enum script_action)a, client, ln) < 0)
            goto out;
        if (a == SCRIPT_SENDS || a == SCRIPT_RECEIVES) {
            if (step_xml(&ps, &s->steps[s->nsteps - 1], lines, nlines, i,
                         &i) < 0)
                goto out;
        } else if (i + 1 < nlines && indented(&lines[i + 1]) &&
                   !blank(&lines[i + 1])) {
            fail(&ps, ln + 1, "%s takes no XML", action_names[a]);
            goto out;
        }
    }
    if (in_header) {
        fail(&ps, (int)nlines, "the header has no end: a line of dashes "
                               "must follow the [Client] blocks");
        goto out;
    }
    if (s->nsteps == 0) {
        fail(&ps, (int)nlines, "the script has no actions");
        goto out;
    }
    rc = 0;
    goto done;
out:
    script_free(s);
done:
    script_vars_free(&ps.captured);
    free(lines);
    return rc;
}

void script_free(struct script *s)
{
    size_t i;

    for (i = 0; i < s->nclients; i++) {
        struct script_client *c = &s->clients[i];

        free(c->name);
        free(c->jid);
        if (c->password) {
            explicit_bzero(c->password, strlen(c->password));
            free(c->password);
        }
        free(c->resource);
    }
    for (i = 0; i < s->nsteps; i++)
        free(s->steps[i].xml);
    free(s->clients);
    free(s->steps);
    free(s->file);
    free(s->title);
    memset(s, 0, sizeof *s);
}

/* ---- variables and the element --------------------------------------------- */

/* Append v escaped for XML: the same text in an attribute quoted either
 * way and in character data. */
static void add_escaped(struct sbuf *b, const char *v)
{
    for (; *v; v++) {
        switch (*v) {
        case '&': sbuf_puts(b, "&amp;"); break;
        case '<': sbuf_puts(b, "&lt;"); break;
        case '>': sbuf_puts(b, "&gt;"); break;
        case '"': sbuf_puts(b, "&quot;"); break;
        case '\'': sbuf_puts(b, "&apos;"); break;
        default: sbuf_add(b, v, 1);
        }
    }
}

static int ends_with(const char *s, size_t len, const char *suffix,
                     size_t *stem)
{
    size_t n = strlen(suffix);

    if (len < n || memcmp(s + len - n, suffix, n) != 0)
        return 0;
    *stem = len - n;
    return 1;
}

/* The bare JID of a client: its jid without a resource. */
static char *bare_of(const char *jid)
{
    struct xmp_jid j;
    char *b;

    if (xmp_jid_parse(jid, &j, NULL) != XMP_OK)
        return NULL;
    b = xmp_jid_bare(&j);
    xmp_jid_clear(&j);
    return b;
}

/* Remove the whitespace between tags that spans lines: the script's
 * indentation is layout, not content, and is not sent.  (Line numbers no
 * longer hold after this: it is done only once the script was checked.) */
static void drop_indentation(struct sbuf *b)
{
    size_t i, j, k = 0;
    int nl;

    for (i = 0; i < b->len; i++) {
        b->text[k++] = b->text[i];
        if (b->text[i] != '>')
            continue;
        for (j = i + 1, nl = 0; j < b->len && is_space(b->text[j]); j++)
            nl |= b->text[j] == '\n';
        if (nl && j < b->len && b->text[j] == '<')
            i = j - 1;
    }
    b->len = k;
    b->text[k] = '\0';
}

const struct xmp_node *script_element(const struct script *s,
                                      const struct script_step *st,
                                      const char *const *full,
                                      const struct script_vars *vars,
                                      struct xmp_node **holder, char *err,
                                      size_t errlen)
{
    struct sbuf b = { NULL, 0, 0, 0 };
    const char *p = st->xml, *q, *close;
    const struct xmp_node *el = NULL, *kid;
    struct xmp_error e;
    char *text;
    int line = st->xml_line;

    *holder = NULL;
    /* The wrapper binds the scansion prefix.  The block begins on the
     * wrapper's line, the parser's line 1: its line N is the script's
     * line N + xml_line - 1 (no padding with newlines, which made
     * reading a long script quadratic). */
    sbuf_puts(&b, "<scansion xmlns:scansion='" SCRIPT_NS "'>");
    while ((q = strstr(p, "${"))) {
        size_t n, stem, k, ci = s->nclients;
        int is_full = 0;
        long vi;

        for (close = p; close < q; close++)
            if (*close == '\n')
                line++;
        sbuf_add(&b, p, (size_t)(q - p));
        if (!(close = strchr(q, '}'))) {
            snprintf(err, errlen, "%d: '${' without its '}'", line);
            goto fail;
        }
        n = (size_t)(close - q - 2);
        if (ends_with(q + 2, n, "'s full JID", &stem))
            is_full = 1;
        else if (!ends_with(q + 2, n, "'s JID", &stem))
            stem = (size_t)-1;
        for (k = 0; stem != (size_t)-1 && k < s->nclients; k++)
            if (strlen(s->clients[k].name) == stem &&
                memcmp(s->clients[k].name, q + 2, stem) == 0)
                ci = k;
        if (ci == s->nclients && (vi = script_vars_find(vars, q + 2, n)) >= 0) {
            /* captured by an earlier step; a stand-in when checking */
            add_escaped(&b, vars->value[vi] ? vars->value[vi] : "captured");
        } else if (ci == s->nclients) {
            snprintf(err, errlen, "%d: unknown variable '%.*s': expected "
                                  "${NAME's JID} or ${NAME's full JID} "
                                  "with NAME a client, or ${NAME} captured "
                                  "by an earlier step",
                     line, (int)(n + 3 < 200 ? n + 3 : 200), q);
            goto fail;
        } else if (is_full && full && full[ci]) {
            add_escaped(&b, full[ci]);
        } else if (is_full && full) {
            /* not connected yet: the header's jid, with its resource */
            const struct script_client *c = &s->clients[ci];
            char *res = c->jid ? strchr(c->jid, '/') : NULL;

            if (!c->jid || (!res && !c->resource)) {
                snprintf(err, errlen, "%d: %s has no full JID before it "
                                      "connects (no resource in the header)",
                         line, c->name);
                goto fail;
            }
            add_escaped(&b, c->jid);
            if (!res) {
                sbuf_puts(&b, "/");
                add_escaped(&b, c->resource);
            }
        } else {
            /* no jid yet, when checking: a stand-in will do */
            char *bare = s->clients[ci].jid ? bare_of(s->clients[ci].jid)
                                            : strdup("account@example.invalid");

            if (!bare) {
                b.failed = 1;
            } else {
                add_escaped(&b, bare);
                free(bare);
            }
            if (is_full) /* before connecting: any resource will do */
                sbuf_puts(&b, "/resource");
        }
        p = close + 1;
    }
    sbuf_puts(&b, p);
    sbuf_puts(&b, "</scansion>");
    if (full && !b.failed)
        drop_indentation(&b);
    if (b.failed) {
        snprintf(err, errlen, "%d: out of memory", st->xml_line);
        goto fail;
    }
    if (!(*holder = xmp_node_parse(b.text, b.len, &e))) {
        const char *m = e.msg;
        char *endp;
        unsigned long l = 0;

        /* "line N, column M: why" from the parser: N is the script's */
        if (strncmp(m, "line ", 5) == 0) {
            errno = 0;
            l = strtoul(m + 5, &endp, 10);
            if (errno || strncmp(endp, ", ", 2) != 0)
                l = 0;
        }
        if (l) /* the line is ours now: keep "column M: why" */
            snprintf(err, errlen, "%lu: %s %s %s",
                     l + (unsigned long)st->xml_line - 1,
                     s->clients[st->client].name, action_names[st->action],
                     endp + 2);
        else
            snprintf(err, errlen, "%d: %s %s %s", st->xml_line,
                     s->clients[st->client].name, action_names[st->action],
                     m);
        goto fail;
    }
    kid = xmp_node_first(*holder);
    text = xmp_node_text(*holder);
    if (!kid || (xmp_node_next(kid) && st->action != SCRIPT_SENDS) || !text ||
        text[strspn(text, " \t\r\n")]) {
        snprintf(err, errlen, "%d: %s %s needs %s, and no text around it",
                 st->xml_line, s->clients[st->client].name,
                 action_names[st->action],
                 st->action == SCRIPT_SENDS ? "one element or more"
                                            : "exactly one element");
        free(text);
        goto fail;
    }
    free(text);
    el = kid;
    sbuf_free(&b);
    return el;
fail:
    sbuf_free(&b);
    xmp_node_free(*holder);
    *holder = NULL;
    return NULL;
}
