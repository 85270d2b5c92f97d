/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cmd_login.c - connect, authenticate, bind, tell what was negotiated. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <string.h>

#include "cli.h"

static void line(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void line(const char *key, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    printf("%-13s", key);
    /* Certificate names, mechanisms and features come from the server. */
    cli_print_sanitized(stdout, buf, strlen(buf));
    putchar('\n');
}

int cmd_login(struct cli *c, int argc, char **argv)
{
    struct xmp_session_info i;
    int rc;

    if (argc == 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        cli_usage(stdout);
        return EXIT_OK;
    }
    if (argc > 1) {
        cli_error("login takes no arguments, got '%s'", argv[1]);
        return EXIT_USAGE;
    }
    if ((rc = cli_session_open(c)) != EXIT_OK)
        return rc;
    xmp_session_get_info(c->session, &i);
    line("jid", "%s", i.bound_jid);
    line("server", "%s port %u (%s)", i.host, i.port, i.found_by);
    line("address", "%s", i.address);
    line("tls", "%s %s (%s)", i.tls_version, i.tls_cipher,
         i.direct_tls ? "direct TLS" : "STARTTLS");
    line("certificate", "%s; issuer %s; expires %s; %s%s", i.cert_subject,
         i.cert_issuer, i.cert_not_after,
         i.cert_verified ? "verified for " : "NOT VERIFIED (--insecure)",
         i.cert_verified ? i.domain : "");
    line("sasl", "%s (offered: %s)", i.sasl_mech, i.sasl_offered);
    line("features", "%s", i.features && *i.features ? i.features : "none");
    fflush(stdout);
    return cli_session_close(c);
}
