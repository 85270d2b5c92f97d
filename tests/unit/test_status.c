/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_status.c - outcomes to exit statuses (cli/status.c): each row of
 * EXIT STATUS in xmpctl(1) that an outcome reaches, and which status
 * counts when several things went wrong. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <string.h>

#include "../../cli/cli.h"
#include "tap.h"

/* An outcome with count items in each of the states given, in order
 * (so the first one given is the first failure); ITEM_NONE ends. */
static struct outcome with(enum item_state first, ...)
{
    struct outcome o;
    enum item_state st;
    va_list ap;

    memset(&o, 0, sizeof o);
    va_start(ap, first);
    for (st = first; st != ITEM_NONE; st = (enum item_state)va_arg(ap, int))
        outcome_add(&o, st, 1);
    va_end(ap);
    return o;
}

static void test_errors(void)
{
    static const struct {
        enum xmp_err code;
        int status;
    } rows[] = {
        {XMP_OK, 0},         {XMP_EUSAGE, 64},   {XMP_EDATA, 65},
        {XMP_ENOHOST, 68},   {XMP_EUNREACH, 69}, {XMP_ESYS, 71},
        {XMP_ENOMEM, 71},    {XMP_EIO, 74},      {XMP_ETEMP, 75},
        {XMP_ETIMEOUT, 75},  {XMP_EPROTO, 76},   {XMP_EAUTH, 77},
        {XMP_ETLS, 79},      {XMP_EREMOTE, 80},  {XMP_ENOTSENT, 81},
        {XMP_AGAIN, 70},
    };
    size_t i;

    for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
        is_int(cli_exit_status(rows[i].code), rows[i].status,
               "error %s: exit status %d", xmp_err_name(rows[i].code),
               rows[i].status);
    is_int(cli_exit_status((enum xmp_err)999), 70,
           "an unknown error code is an internal error (70)");

    /* the session's end */
    is_int(status_session_end(0, XMP_OK), 69,
           "the server closed the session: 69");
    is_int(status_session_end(0, XMP_EPROTO), 69,
           "closed, not failed: 69 whatever the last code");
    is_int(status_session_end(1, XMP_EUNREACH), 69,
           "the connection was lost: 69");
    is_int(status_session_end(1, XMP_EPROTO), 76,
           "a stream error that says a side broke a rule: 76");
    is_int(status_session_end(1, XMP_EAUTH), 77, "authentication: 77");
    is_int(status_session_end(1, XMP_ETLS), 79, "TLS: 79");
    is_int(status_session_end(1, XMP_ENOHOST), 68, "no such host: 68");
    is_int(status_session_end(1, XMP_ETIMEOUT), 75, "a timeout: 75");
}

static void test_send(void)
{
    struct outcome o;

    o = with(ITEM_NONE);
    is_int(status_send(&o), 0, "send: nothing went wrong: 0");
    o = with(ITEM_ACKED, ITEM_ACKED, ITEM_NONE);
    is_int(status_send(&o), 0, "send: acknowledged: 0");
    o = with(ITEM_BOUNCED, ITEM_NONE);
    is_int(status_send(&o), 80, "send: a bounce, or a refused join: 80");
    o = with(ITEM_TIMED_OUT, ITEM_NONE);
    is_int(status_send(&o), 75, "send --room: no answer to the join: 75");
    o = with(ITEM_UNCONFIRMED, ITEM_NONE);
    is_int(status_send(&o), 81, "send: not acknowledged: 81");
    o = with(ITEM_NO_RECEIPT, ITEM_NONE);
    is_int(status_send(&o), 82, "send --receipt: no receipt in time: 82");
    o = with(ITEM_SKIPPED, ITEM_NONE);
    is_int(status_send(&o), 65, "send --lines: a line skipped: 65");
    o = with(ITEM_NOCRYPT, ITEM_NONE);
    is_int(status_send(&o), 84, "send --encrypt: not possible: 84");

    /* precedence */
    o = with(ITEM_BOUNCED, ITEM_UNCONFIRMED, ITEM_NONE);
    is_int(status_send(&o), 81, "send: a message in doubt counts before "
                                "a bounce (81)");
    o = with(ITEM_UNCONFIRMED, ITEM_BOUNCED, ITEM_SKIPPED, ITEM_NONE);
    is_int(status_send(&o), 81, "send --lines: in doubt before bounced "
                                "and skipped (81)");
    o = with(ITEM_BOUNCED, ITEM_NO_RECEIPT, ITEM_NONE);
    is_int(status_send(&o), 80, "send --receipt: at the timeout, a bounce "
                                "counts before a missing receipt (80)");
    o.ended = 1;
    is_int(status_send(&o), 82, "send --receipt: the session ended while "
                                "receipts were awaited: 82, bounce or not");
    o = with(ITEM_NO_RECEIPT, ITEM_NONE);
    o.ended = 1;
    is_int(status_send(&o), 82, "send --receipt: the session ended "
                                "before the receipt: 82");
    o = with(ITEM_UNCONFIRMED, ITEM_NONE);
    o.ended = 1;
    is_int(status_send(&o), 81, "send: the session ended before the "
                                "acknowledgement: 81");
    o = with(ITEM_BOUNCED, ITEM_NONE);
    o.ended = 1;
    is_int(status_send(&o), 80, "send: a bounce, then the session ended "
                                "with nothing in doubt: 80");
    o = with(ITEM_SKIPPED, ITEM_BOUNCED, ITEM_NONE);
    is_int(status_send(&o), 80, "send --lines: a bounce counts before a "
                                "skipped line (80)");
    o = with(ITEM_SKIPPED, ITEM_ACKED, ITEM_NONE);
    is_int(status_send(&o), 65, "send --lines: skipped, the rest "
                                "acknowledged: 65");
}

static void test_raw(void)
{
    struct outcome o;

    o = with(ITEM_NONE);
    is_int(status_raw(&o), 0, "raw: everything answered: 0");
    o = with(ITEM_ACKED, ITEM_NONE);
    is_int(status_raw(&o), 0, "raw: acknowledged: 0");
    o = with(ITEM_BOUNCED, ITEM_NONE);
    is_int(status_raw(&o), 80, "raw: an iq error or a bounce: 80");
    o = with(ITEM_TIMED_OUT, ITEM_NONE);
    is_int(status_raw(&o), 75, "raw: a request without answer: 75");
    o = with(ITEM_UNCONFIRMED, ITEM_NONE);
    is_int(status_raw(&o), 81, "raw: not acknowledged: 81");
    memset(&o, 0, sizeof o);
    outcome_local(&o, EXIT_DATA);
    is_int(status_raw(&o), 65, "raw: a broken element: 65");

    /* the first failure counts */
    o = with(ITEM_TIMED_OUT, ITEM_BOUNCED, ITEM_UNCONFIRMED, ITEM_NONE);
    is_int(status_raw(&o), 75, "raw: a timeout, then an error: 75");
    o = with(ITEM_BOUNCED, ITEM_TIMED_OUT, ITEM_NONE);
    is_int(status_raw(&o), 80, "raw: an error, then a timeout: 80");
    o = with(ITEM_UNCONFIRMED, ITEM_BOUNCED, ITEM_NONE);
    is_int(status_raw(&o), 81, "raw: in doubt, then an error: 81");
    o = with(ITEM_ACKED, ITEM_BOUNCED, ITEM_NONE);
    is_int(status_raw(&o), 80, "raw: an acknowledgement is no failure");
    memset(&o, 0, sizeof o);
    outcome_local(&o, EXIT_DATA);
    outcome_add(&o, ITEM_BOUNCED, 1);
    outcome_local(&o, EXIT_IOERR);
    is_int(status_raw(&o), 65, "raw: a broken element, then an error: 65");
    o = with(ITEM_BOUNCED, ITEM_NONE);
    outcome_local(&o, EXIT_IOERR);
    is_int(status_raw(&o), 80, "raw: an error, then stdin failed: 80");
    o = with(ITEM_NONE);
    outcome_add(&o, ITEM_BOUNCED, 0);
    is_int(status_raw(&o), 0, "raw: no item, no failure");
}

static void test_others(void)
{
    struct outcome o;

    o = with(ITEM_NONE);
    is_int(status_listen(&o), 0, "listen: its normal end: 0");
    o = with(ITEM_TIMED_OUT, ITEM_NONE);
    is_int(status_listen(&o), 75, "listen: its own --timeout: 75");
    memset(&o, 0, sizeof o);
    outcome_local(&o, EXIT_IOERR);
    is_int(status_listen(&o), 74, "listen: output cannot be written: 74");

    o = with(ITEM_NONE);
    is_int(status_presence(&o), 0, "presence: acknowledged: 0");
    o = with(ITEM_BOUNCED, ITEM_NONE);
    is_int(status_presence(&o), 80, "presence: bounced: 80");
    o = with(ITEM_UNCONFIRMED, ITEM_NONE);
    is_int(status_presence(&o), 81, "presence: not acknowledged: 81");
    o = with(ITEM_UNCONFIRMED, ITEM_BOUNCED, ITEM_NONE);
    is_int(status_presence(&o), 80, "presence: a bounce counts before "
                                    "not acknowledged (80)");

    o = with(ITEM_NONE);
    is_int(status_roster(&o), 0, "roster: answered: 0");
    o = with(ITEM_BOUNCED, ITEM_NONE);
    is_int(status_roster(&o), 80, "roster: refused by the server: 80");
    o = with(ITEM_TIMED_OUT, ITEM_NONE);
    is_int(status_roster(&o), 75, "roster: no answer in time: 75");
    o = with(ITEM_UNCONFIRMED, ITEM_NONE);
    is_int(status_roster(&o), 81, "roster: the session ended before the "
                                  "answer to a change: 81");
    o = with(ITEM_UNCONFIRMED, ITEM_TIMED_OUT, ITEM_BOUNCED, ITEM_NONE);
    is_int(status_roster(&o), 80, "roster: refused before timed out "
                                  "before in doubt");
    o = with(ITEM_UNCONFIRMED, ITEM_TIMED_OUT, ITEM_NONE);
    is_int(status_roster(&o), 75, "roster: timed out before in doubt");

    o = with(ITEM_NONE);
    is_int(status_pubsub(&o), 0, "pubsub: answered: 0");
    o = with(ITEM_BOUNCED, ITEM_NONE);
    is_int(status_pubsub(&o), 80, "pubsub: refused by the service: 80");
    o = with(ITEM_TIMED_OUT, ITEM_NONE);
    is_int(status_pubsub(&o), 75, "pubsub: no answer in time: 75");
    o = with(ITEM_UNCONFIRMED, ITEM_NONE);
    is_int(status_pubsub(&o), 81, "pubsub: the session ended before the "
                                  "answer to a change: 81");

    o = with(ITEM_NONE);
    is_int(status_script(&o), 0, "script: every step as expected: 0");
    o = with(ITEM_TIMED_OUT, ITEM_NONE);
    is_int(status_script(&o), 83, "script: no stanza matched in time: 83");
    o = with(ITEM_UNEXPECTED, ITEM_NONE);
    is_int(status_script(&o), 83, "script: a stanza where nothing was "
                                  "expected: 83");

    memset(&o, 0, sizeof o);
    is_int(status_session(&o), 0, "session: nothing went wrong: 0");
    o.holder = HOLDER_ABSENT;
    is_int(status_session(&o), 69, "session status|stop: no holder runs: 69");
    o.holder = HOLDER_RUNNING;
    is_int(status_session(&o), 75, "session start: a holder runs: 75");
    o.holder = HOLDER_STUCK;
    is_int(status_session(&o), 75, "session stop: not ended in time: 75");
    o.holder = HOLDER_DIR_UNSAFE;
    is_int(status_session(&o), 77, "session start: its directory is not "
                                   "private: 77");
    o = with(ITEM_UNCONFIRMED, ITEM_NONE);
    is_int(status_session(&o), 81, "session start: the presence not "
                                   "acknowledged: 81");
}

int main(void)
{
    test_errors();
    test_send();
    test_raw();
    test_others();
    return tap_done();
}
