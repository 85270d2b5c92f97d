/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * script.h - scansion scripts: the parser (script_parse.c) and the
 * matcher (script_match.c) that cmd_script.c runs.  xmpctl-script(1)
 * describes the format and the matching rules.
 */
#ifndef XMPCTL_SCRIPT_H
#define XMPCTL_SCRIPT_H

#include <stddef.h>

#include "xmp.h"

/* The namespace the parser binds the prefix "scansion" to, so that
 * scansion:strict needs no declaration in a script (scansion's own
 * scripts declare none). */
#define SCRIPT_NS "https://matthewwild.co.uk/projects/scansion"
#define SCRIPT_ANY "{scansion:any}"

enum script_action {
    SCRIPT_CONNECTS,
    SCRIPT_DISCONNECTS,
    SCRIPT_SENDS,
    SCRIPT_RECEIVES,
    SCRIPT_RECEIVES_NOTHING
};

struct script_client {
    /* password NULL: from the password sources, as for every command;
     * jid NULL: the account's of --account, --jid or the config file,
     * filled in before the script runs */
    char *name, *jid, *password, *resource;
    int line;
};

struct script_step {
    enum script_action action;
    size_t client; /* index into clients */
    int line;      /* of the action */
    char *xml;     /* sends, receives: the XML block, variables unresolved */
    int xml_line;  /* its first line */
};

struct script {
    char *file; /* as named to the user ("-" for stdin is "stdin") */
    char *title;
    struct script_client *clients;
    size_t nclients;
    struct script_step *steps;
    size_t nsteps;
};

/* The name of an action as the script writes it ("receives: nothing"). */
const char *script_action_name(enum script_action a);

/*
 * Parse a whole script from text[0..len).  Returns 0 with *s filled
 * (free with script_free), or -1 with err holding "LINE: what is wrong"
 * (never a password) and *s empty.  Every XML block is checked to be one
 * well-formed element, every variable to name a client, and every step to
 * use a client that is connected at that point.
 */
int script_parse(const char *file, const char *text, size_t len,
                 struct script *s, char *err, size_t errlen);
void script_free(struct script *s);

/*
 * The element of a step's XML block, its variables replaced:
 * ${NAME's JID} by the client's bare JID and ${NAME's full JID} by
 * full[i] (NULL: a stand-in, for checking before connecting).  Returns
 * the element (borrowed from *holder, which the caller frees with
 * xmp_node_free), or NULL with err "LINE: what is wrong".
 */
const struct xmp_node *script_element(const struct script *s,
                                      const struct script_step *st,
                                      const char *const *full,
                                      struct xmp_node **holder, char *err,
                                      size_t errlen);

/* ---- matching (script_match.c) ------------------------------------------ */

/* A growing text buffer; text is NUL-terminated (NULL while empty). */
struct sbuf {
    char *text;
    size_t len, cap;
    int failed; /* out of memory: the text is cut short */
};
void sbuf_add(struct sbuf *b, const char *s, size_t len);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sbuf_free(struct sbuf *b);

/* Does got match expected (xmpctl-script(1), MATCHING)?  Returns the
 * number of differences found (0: it matches); when why is not NULL, one
 * line per difference goes there, each naming where it is. */
int script_match(const struct xmp_node *expected, const struct xmp_node *got,
                 struct sbuf *why);

/* An element as indented lines, one element per line, attributes sorted,
 * so that two of them compare line by line. */
void script_pretty(const struct xmp_node *n, struct sbuf *out);

/* A line diff of two texts (LCS): lines of a prefixed "- ", of b "+ ",
 * common ones "  ". */
void script_diff(const char *a, const char *b, struct sbuf *out);

/* ---- output (script_report.c) -------------------------------------------- */

enum script_result { SCRIPT_PASS, SCRIPT_FAIL, SCRIPT_SKIP };

/* Why a step failed. */
struct script_failure {
    int status;
    struct sbuf msg;      /* one line */
    struct sbuf expected; /* pretty-printed */
    struct sbuf diff, why;
    char **received;      /* pretty-printed, nreceived of them */
    char **received_line; /* the same on one line each, for JSON */
    size_t nreceived;
    size_t closest;       /* index of the one diffed */
    char *expected_line;
};
void script_failure_free(struct script_failure *f);

/* Where the output is: the format, and the script running. */
struct script_report {
    int json, tap;
    size_t tap_n; /* steps numbered so far, over all scripts */
    const struct script *s;
};

/* A step's line (and, for a failure, what follows it); a script's summary.
 * Written to stdout, flushed; 0, or -1 when it cannot be (reported). */
int script_report_step(struct script_report *o, const struct script_step *st,
                       int result, const struct script_failure *f);
int script_report_summary(struct script_report *o, size_t passed,
                          size_t failed, size_t skipped, int fail_line);

#endif
