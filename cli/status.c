/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * status.c - from outcomes to exit statuses: the table of EXIT STATUS in
 * xmpctl(1), and which status counts when several things went wrong.
 * Nothing here does anything: each function looks at an outcome and
 * says its status.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "cli.h"
#include "status.h"

void outcome_add(struct outcome *o, enum item_state state, uint64_t n)
{
    if (!n)
        return;
    o->n[state] += n;
    if (!o->first && state != ITEM_ACKED)
        o->first = state;
}

void outcome_local(struct outcome *o, int status)
{
    if (o->first)
        return;
    o->first = ITEM_LOCAL;
    o->local = status;
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

int status_session_end(int failed, enum xmp_err code)
{
    return failed ? cli_exit_status(code) : EXIT_UNAVAILABLE;
}

/*
 * send: encryption that was not possible (84: nothing was sent) first;
 * then a message in doubt (81); then, when
 * the session ended while receipts were awaited, the receipts (82);
 * then a bounce or a refused join (80), a join without an answer (75),
 * receipts that did not come in time (82), lines skipped (65).
 */
int status_send(const struct outcome *o)
{
    if (o->first == ITEM_LOCAL)
        return o->local;
    if (o->n[ITEM_NOCRYPT])
        return EXIT_NOCRYPT;
    if (o->n[ITEM_UNCONFIRMED])
        return EXIT_NOTSENT;
    if (o->ended && o->n[ITEM_NO_RECEIPT])
        return EXIT_NORECEIPT;
    if (o->n[ITEM_BOUNCED])
        return EXIT_REMOTE;
    if (o->n[ITEM_TIMED_OUT])
        return EXIT_TEMPFAIL;
    if (o->n[ITEM_NO_RECEIPT])
        return EXIT_NORECEIPT;
    if (o->n[ITEM_SKIPPED])
        return EXIT_DATA;
    return EXIT_OK;
}

/* raw goes on after a failure and reports the first one. */
int status_raw(const struct outcome *o)
{
    switch (o->first) {
    case ITEM_LOCAL: return o->local;
    case ITEM_BOUNCED: return EXIT_REMOTE;
    case ITEM_TIMED_OUT: return EXIT_TEMPFAIL;
    case ITEM_UNCONFIRMED: return EXIT_NOTSENT;
    default: return EXIT_OK;
    }
}

/* listen: 0 at its normal end, 75 at its own --timeout. */
int status_listen(const struct outcome *o)
{
    if (o->first == ITEM_LOCAL)
        return o->local;
    return o->n[ITEM_TIMED_OUT] ? EXIT_TEMPFAIL : EXIT_OK;
}

/* presence: a bounce (80) before a presence in doubt (81). */
int status_presence(const struct outcome *o)
{
    if (o->first == ITEM_LOCAL)
        return o->local;
    if (o->n[ITEM_BOUNCED])
        return EXIT_REMOTE;
    if (o->n[ITEM_UNCONFIRMED])
        return EXIT_NOTSENT;
    return EXIT_OK;
}

/* roster: refused (80), no answer in time (75), a change in doubt (81). */
int status_roster(const struct outcome *o)
{
    if (o->first == ITEM_LOCAL)
        return o->local;
    if (o->n[ITEM_BOUNCED])
        return EXIT_REMOTE;
    if (o->n[ITEM_TIMED_OUT])
        return EXIT_TEMPFAIL;
    if (o->n[ITEM_UNCONFIRMED])
        return EXIT_NOTSENT;
    return EXIT_OK;
}

/* pubsub: as roster, a request the service answers. */
int status_pubsub(const struct outcome *o)
{
    return status_roster(o);
}

/* script: a step not as expected (83); a session that ended is the
 * session's status (status_session_end). */
int status_script(const struct outcome *o)
{
    if (o->first == ITEM_LOCAL)
        return o->local;
    if (o->n[ITEM_TIMED_OUT] || o->n[ITEM_UNEXPECTED])
        return EXIT_SCRIPT;
    return EXIT_OK;
}

/* session start|stop|status, and the holder's directory. */
int status_session(const struct outcome *o)
{
    if (o->first == ITEM_LOCAL)
        return o->local;
    if (o->n[ITEM_UNCONFIRMED])
        return EXIT_NOTSENT;
    switch (o->holder) {
    case HOLDER_ABSENT: return EXIT_UNAVAILABLE;
    case HOLDER_RUNNING: return EXIT_TEMPFAIL;
    case HOLDER_STUCK: return EXIT_TEMPFAIL;
    case HOLDER_DIR_UNSAFE: return EXIT_NOPERM;
    case HOLDER_UNKNOWN: break;
    }
    return EXIT_OK;
}
