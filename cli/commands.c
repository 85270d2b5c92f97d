/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * commands.c - the command table: each command's name, its parser, its
 * synopsis and options, and what it needs around its session (struct
 * cmd_needs, which the drivers and cli_ready act on).  Every driver looks
 * commands up here: the command line (main.c), the shell (repl.c),
 * --help and the shell completion (opts.c, completion.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "cli.h"

const struct command cli_commands[] = {
    {"login", cmd_login, "",
     "connect, authenticate and print what was negotiated",
     &login_options, 0,
     /* shows what the server negotiates: never a holder's link */
     {.session = CMD_SESSION_OWN}},
    {"send", cmd_send, "JID... [TEXT] | --room ROOM@SERVICE [TEXT]",
     "send a message to each JID, or to a group chat room (TEXT from "
     "stdin when absent)",
     &send_options, 0,
     /* --lines stays connected */
     {.session = CMD_SESSION_ANY, .keepalive = KEEPALIVE_IF_STAYS,
      .resume = RESUME_IF_STAYS}},
    {"raw", cmd_raw, "[STANZA...]",
     "send XML stanzas (from stdin when none are given) and print the "
     "replies",
     &raw_options, 0,
     /* --stay stays connected; what it sends is anyone's guess */
     {.session = CMD_SESSION_ANY, .sets_presence = 1,
      .keepalive = KEEPALIVE_IF_STAYS}},
    {"listen", cmd_listen, "",
     "stay connected and print incoming messages",
     &listen_options, 0,
     /* through a session holder it borrows the held presence */
     {.session = CMD_SESSION_ANY, .presence = PRESENCE_INITIAL,
      .keepalive = KEEPALIVE_ON}},
    {"presence", cmd_presence, "[SHOW]",
     "set our presence, manage subscriptions, list contacts' presence",
     &presence_options, 0,
     /* sends its presence itself, as its operation */
     {.session = CMD_SESSION_ANY, .sets_presence = 1}},
    {"roster", cmd_roster, "[list | add JID | set JID | remove JID]",
     "list or change the contact list",
     &roster_options, 0,
     {.session = CMD_SESSION_ANY}},
    {"pubsub", cmd_pubsub, "VERB [NODE] [ARG...]",
     "publish-subscribe: nodes, items, subscriptions and affiliations "
     "(XEP-0060), on the account's own PEP service by default",
     &pubsub_options, 0,
     {.session = CMD_SESSION_ANY}},
    {"queue", cmd_queue, "list | flush | drop NAME...",
     "list, send or drop the messages send --queue kept for later",
     &queue_options, 0,
     /* flush sends as send does, through a session holder too */
     {.session = CMD_SESSION_ANY, .prompt = PROMPT_REFUSES}},
    {"script", cmd_script, "[FILE...]",
     "run scansion scripts: conversations between several accounts",
     &script_options, 0,
     /* its clients are accounts of their own, each logs in itself */
     {.session = CMD_SESSION_OWN,
      .prompt = PROMPT_REFUSES}},
    {"shell", cmd_shell, "",
     "log in, then read commands and XML from the terminal (the default "
     "on a terminal)",
     &shell_options, 0,
     /* through a session holder it borrows the held presence: only its
      * presence command changes it */
     {.session = CMD_SESSION_ANY, .prompt = PROMPT_IS,
      .presence = PRESENCE_INITIAL,
      .keepalive = KEEPALIVE_ON, .roster = ROSTER_AFTER_PRESENCE,
      .relogin = 1}},
    {"session", cmd_session, "start [SHOW] | stop | status",
     "hold a session in the background that other commands go through",
     &session_options, 0,
     /* the needs of the session start holds */
     {.session = CMD_SESSION_OWN, .prompt = PROMPT_REFUSES,
      .presence = PRESENCE_OWN, .sets_presence = 1,
      .keepalive = KEEPALIVE_FORCED, .resume = RESUME_ON,
      .roster = ROSTER_BEFORE_PRESENCE, .relogin = 1}},
    {"check", cmd_check, "DOMAIN",
     "report on a domain's servers, client and server-to-server, without "
     "logging in",
     &check_options, 0,
     /* it opens probes of its own, one per server */
     {.session = CMD_SESSION_OWN, .prompt = PROMPT_REFUSES}},
    {"completion", cmd_completion, "bash|zsh",
     "print the shell completion script for bash or zsh",
     NULL, CMD_HIDDEN, {0}},
};
const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];

const struct command *cli_command(const char *name)
{
    size_t i;

    for (i = 0; i < cli_ncommands; i++)
        if (strcmp(name, cli_commands[i].name) == 0)
            return &cli_commands[i];
    return NULL;
}
