/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * commands.c - the command table: each command's name, its parser, its
 * synopsis and options.  Every driver looks commands up here: the
 * command line (main.c), the shell (repl.c), --help and the shell
 * completion (opts.c, completion.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "cli.h"

const struct command cli_commands[] = {
    {"login", cmd_login, "",
     "connect, authenticate and print what was negotiated",
     &login_options, 0},
    {"send", cmd_send, "JID... [TEXT] | --room ROOM@SERVICE [TEXT]",
     "send a message to each JID, or to a group chat room (TEXT from "
     "stdin when absent)",
     &send_options, 0},
    {"raw", cmd_raw, "[STANZA...]",
     "send XML stanzas (from stdin when none are given) and print the "
     "replies",
     &raw_options, 0},
    {"listen", cmd_listen, "",
     "stay connected and print incoming messages",
     &listen_options, 0},
    {"presence", cmd_presence, "[SHOW]",
     "set our presence, manage subscriptions, list contacts' presence",
     &presence_options, 0},
    {"roster", cmd_roster, "[list | add JID | set JID | remove JID]",
     "list or change the contact list",
     &roster_options, 0},
    {"script", cmd_script, "[FILE...]",
     "run scansion scripts: conversations between several accounts",
     &script_options, 0},
    {"shell", cmd_shell, "",
     "log in, then read commands and XML from the terminal (the default "
     "on a terminal)",
     &shell_options, 0},
    {"session", cmd_session, "start [SHOW] | stop | status",
     "hold a session in the background that other commands go through",
     &session_options, 0},
    {"completion", cmd_completion, "bash|zsh",
     "print the shell completion script for bash or zsh",
     NULL, CMD_HIDDEN},
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
