/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * status.h - outcomes and their exit statuses.  A command records what
 * became of what it sent (and how its session or holder ended) in an
 * outcome; one pure function per command turns that into the exit
 * status of the table in xmpctl(1).  Only status.c names the statuses
 * that report outcomes.
 */
#ifndef XMPCTL_STATUS_H
#define XMPCTL_STATUS_H

#include <stdint.h>

#include "xmp.h"

/* What became of one item an operation sent or waited for: a message, a
 * stanza, a request, a change, a room's join, a step of a script. */
enum item_state {
    ITEM_NONE,        /* nothing yet (as outcome.first: nothing failed) */
    ITEM_ACKED,       /* the server acknowledged it */
    ITEM_BOUNCED,     /* an error came back: a bounce, a refused join or
                         request, an iq answered with an error */
    ITEM_UNCONFIRMED, /* sent, and neither acknowledged nor answered
                         before the acknowledgement or the session
                         failed: it may or may not have arrived */
    ITEM_TIMED_OUT,   /* no answer, or no matching stanza, in time */
    ITEM_NO_RECEIPT,  /* acknowledged, but no delivery receipt came */
    ITEM_SKIPPED,     /* refused before it was sent (send --lines) */
    ITEM_UNEXPECTED,  /* a stanza came where none was expected (script) */
    ITEM_NOCRYPT,     /* encryption was asked for and is not possible:
                         not sent (send --encrypt) */
    ITEM_LOCAL,       /* a local failure (outcome.local) */
    ITEM_STATES
};

/* What a session holder was found doing (session start|stop|status). */
enum holder_state {
    HOLDER_UNKNOWN,
    HOLDER_ABSENT,    /* none runs (or its directory is not ours) */
    HOLDER_RUNNING,   /* one runs already, where one was to start */
    HOLDER_STUCK,     /* it was asked to stop and did not in time */
    HOLDER_DIR_UNSAFE /* its directory cannot be made private */
};

struct outcome {
    uint64_t n[ITEM_STATES]; /* items in each state */
    enum item_state first;   /* the state of the first item that failed;
                                ITEM_NONE while none */
    int local;               /* the exit status of a local failure (bad
                                input, I/O, memory), 0: none */
    int ended;               /* the session ended under the operation */
    enum holder_state holder;
};

/* Count one item in state (and note it as the first failure). */
void outcome_add(struct outcome *o, enum item_state state, uint64_t n);
/* A local failure with its exit status, if nothing failed before. */
void outcome_local(struct outcome *o, int status);

/* The status of a protocol layer error code. */
int cli_exit_status(enum xmp_err code);
/* A session ended: with an error (failed) of code, or closed by the
 * server (failed 0): 69 whichever way it went away unless the error
 * says otherwise. */
int status_session_end(int failed, enum xmp_err code);

/* One function per command: the exit status of an outcome. */
int status_send(const struct outcome *o);
int status_raw(const struct outcome *o);
int status_listen(const struct outcome *o);
int status_presence(const struct outcome *o);
int status_roster(const struct outcome *o);
int status_pubsub(const struct outcome *o);
int status_script(const struct outcome *o);
int status_session(const struct outcome *o);

#endif
