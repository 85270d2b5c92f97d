/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_config.c - the config file parser (cli/config.c) on arbitrary
 * files.
 *
 * Input: a flags byte, then the file.  Flags: bit 0, the file is
 * readable by others (0644, else 0600); bit 1, --account alice; bit 2,
 * --jid bob@example.org.
 *
 * The parser must end with 0 and no message, or with EXIT_CONFIG (or an
 * I/O status, or EXIT_USAGE when --account names a section for another
 * account than --jid) and exactly one message; what it fills in is trimmed
 * text on one line; --jid, when given, is never replaced.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../cli/cli.h"
#include "fuzz.h"

static int messages;

/* The parser's only way to speak: counted, checked, not printed. */
void cli_error(const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n <= 0)
        abort();
    messages++;
}

void cli_warn(const char *fmt, ...)
{
    (void)fmt;
    messages++;
}

static void check_value(const char *v)
{
    size_t len;

    if (!v)
        return;
    len = strlen(v);
    if (len > 0 && (strchr(v, '\n') || isspace((unsigned char)v[0]) ||
                    isspace((unsigned char)v[len - 1]))) {
        fprintf(stderr, "config value not trimmed to one line: '%s'\n", v);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static char path[64];
    static int fd = -1;
    struct cli_opts o;
    int rc;

    if (size < 1)
        return 0;
    if (fd < 0) {
        const char *tmp = getenv("TMPDIR");

        snprintf(path, sizeof path, "%s/xmpctl-fuzz-config-XXXXXX",
                 tmp && strlen(tmp) < 32 ? tmp : "/tmp");
        if ((fd = mkstemp(path)) < 0)
            abort();
        /* the name is gone at once; the open descriptor keeps the file */
        if (unlink(path) < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) < 0 ||
        pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1) ||
        fchmod(fd, data[0] & 1 ? 0644 : 0600) < 0)
        abort();

    memset(&o, 0, sizeof o);
    o.config = path;
    if (data[0] & 2)
        o.account = "alice";
    if (data[0] & 4)
        o.jid = "bob@example.org";
    messages = 0;
    rc = cli_load_config(&o);
    if ((rc == 0) != (messages == 0) || messages > 1 ||
        (rc != 0 && rc != EXIT_CONFIG && rc != EXIT_OSERR &&
         rc != EXIT_IOERR &&
         !(rc == EXIT_USAGE && (data[0] & 6) == 6))) {
        fprintf(stderr, "status %d with %d messages\n", rc, messages);
        abort();
    }
    if ((data[0] & 4) && strcmp(o.jid, "bob@example.org") != 0)
        abort();
    if (!(data[0] & 4))
        check_value(o.jid);
    check_value(o.server);
    check_value(o.cafile);
    check_value(o.resource);
    check_value(o.pin);
    check_value(o.client_cert);
    check_value(o.client_key);
    check_value(o.cfg_password_command);
    check_value(o.cfg_password);
    if (!(data[0] & 4))
        free(o.jid);
    free(o.server);
    free(o.cafile);
    free(o.resource);
    free(o.pin);
    free(o.client_cert);
    free(o.client_key);
    free(o.cfg_password_command);
    free(o.cfg_password);
    return 0;
}
