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
/* An attribute value "{scansion:capture:NAME}" matches any value and
 * keeps it as ${NAME} for the steps that follow. */
#define SCRIPT_CAPTURE "{scansion:capture:"

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

/* Variables of {scansion:capture:NAME}: value[i] of name[i] (a value
 * NULL: the name is known, its value not yet, when checking). */
struct script_vars {
    char **name, **value;
    size_t n;
};
/* Set (or add) a variable; 0, or -1 out of memory. */
int script_vars_set(struct script_vars *v, const char *name, size_t nlen,
                    const char *value);
/* Its index, or -1. */
long script_vars_find(const struct script_vars *v, const char *name,
                      size_t nlen);
void script_vars_free(struct script_vars *v);

/* The name of an action as the script writes it ("receives: nothing"). */
const char *script_action_name(enum script_action a);

/*
 * Parse a whole script from text[0..len).  Returns 0 with *s filled
 * (free with script_free), or -1 with err holding "LINE: what is wrong"
 * (never a password) and *s empty.  Every XML block is checked to be
 * well-formed (one element to receive, one or more to send), and every
 * variable to name a client or a capture of an earlier step.  Whether a
 * client is connected is left to the run.
 */
int script_parse(const char *file, const char *text, size_t len,
                 struct script *s, char *err, size_t errlen);
void script_free(struct script *s);

/*
 * The element of a step's XML block, its variables replaced:
 * ${NAME's JID} by the client's bare JID, ${NAME's full JID} by full[i]
 * (full NULL: a stand-in, for checking before connecting; full[i] NULL:
 * the client has not connected, its jid and resource of the header) and
 * ${NAME} by the value captured in vars (may be NULL).  Returns the
 * element (borrowed from *holder, which the caller frees with
 * xmp_node_free; the elements of a sends: block that holds several
 * follow it, xmp_node_next), or NULL with err "LINE: what is wrong".
 */
const struct xmp_node *script_element(const struct script *s,
                                      const struct script_step *st,
                                      const char *const *full,
                                      const struct script_vars *vars,
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

/* After script_match found them to match: the values of the attributes
 * of got that expected captures ({scansion:capture:NAME}), set in vars.
 * 0, or -1 out of memory. */
int script_capture(const struct xmp_node *expected,
                   const struct xmp_node *got, struct script_vars *vars);

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

/* A step's line (and, for a failure, what follows it; for a step that
 * passed, f may hold a note in its msg); a script's summary.
 * Written to stdout, flushed; 0, or -1 when it cannot be (reported). */
int script_report_step(struct script_report *o, const struct script_step *st,
                       int result, const struct script_failure *f);
int script_report_summary(struct script_report *o, size_t passed,
                          size_t failed, size_t skipped, int fail_line);

#endif
