/* SPDX-License-Identifier: GPL-3.0-or-later */
/* input.c - reading what a command is given on stdin, whole. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_read_stdin(size_t max, char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap), *nb;
    ssize_t got;

    *out = NULL;
    *len = 0;
    if (!b)
        return EXIT_OSERR;
    for (;;) {
        if (n == cap) {
            /* One byte past max tells "too long" from "exactly max". */
            if (cap > max) {
                free(b);
                return -1;
            }
            if (!(nb = realloc(b, cap * 2))) {
                free(b);
                return EXIT_OSERR;
            }
            b = nb;
            cap *= 2;
        }
        got = read(STDIN_FILENO, b + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            cli_error("cannot read stdin: %s", strerror(errno));
            free(b);
            return EXIT_IOERR;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n > max) {
        free(b);
        return -1;
    }
    *out = b;
    *len = n;
    return EXIT_OK;
}
