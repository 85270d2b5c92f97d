/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_jid.c - JID parsing (RFC 7622), table-driven. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>

#include "tap.h"
#include "xmp.h"

static const struct {
    const char *in, *local, *domain, *resource, *bare;
} good[] = {
    {"example.org", NULL, "example.org", NULL, "example.org"},
    {"alice@example.org", "alice", "example.org", NULL, "alice@example.org"},
    {"alice@example.org/laptop", "alice", "example.org", "laptop",
     "alice@example.org"},
    {"alice@Example.ORG", "alice", "example.org", NULL, "alice@example.org"},
    {"alice@example.org.", "alice", "example.org", NULL, "alice@example.org"},
    {"example.org/res@with/slash", NULL, "example.org", "res@with/slash",
     "example.org"},
    {"a@b/r with spaces", "a", "b", "r with spaces", "a@b"},
    {"juliet@[::1]/x", "juliet", "[::1]", "x", "juliet@[::1]"},
    {"\xc3\xa9l\xc3\xa8ve@example.org", "\xc3\xa9l\xc3\xa8ve", "example.org",
     NULL, "\xc3\xa9l\xc3\xa8ve@example.org"},
    {"room@conf.example.org/nick\xe2\x9c\x93", "room", "conf.example.org",
     "nick\xe2\x9c\x93", "room@conf.example.org"},
};

static const struct {
    const char *in, *why;
} bad[] = {
    {"", "empty"},
    {"@example.org", "empty localpart"},
    {"alice@", "empty domainpart"},
    {"alice@example.org/", "empty resourcepart"},
    {"bad@@jid", "second @ in domain"},
    {"al ice@example.org", "space in localpart"},
    {"al\"ice@example.org", "quote in localpart"},
    {"a<b@example.org", "< in localpart"},
    {"alice@exa mple.org", "space in domain"},
    {"alice@-example.org", "label starts with -"},
    {"alice@example..org", "empty label"},
    {"alice@ex_ample.org", "underscore in domain"},
    {"alice@example.org/a\x01" "b", "control in resource"},
    {"\xff@example.org", "invalid UTF-8 in localpart"},
    {"alice@\xc0\xaf" "example.org", "overlong UTF-8 in domain"},
    {"alice@[::1", "unterminated IPv6 literal"},
    {"not a jid@", "space and empty domain"},
    {"alice@example.org/x\xef\xbf\xbe", "U+FFFE in resource"},
    {"al\xef\xbf\xbfice@example.org", "U+FFFF in localpart"},
    /* RFC 8264: noncharacters are disallowed in every PRECIS class */
    {"alice@example.org/\xef\xb7\x90", "U+FDD0 in resource"},
    {"alice@example.org/\xef\xb7\xaf", "U+FDEF in resource"},
    {"\xf0\x9f\xbf\xbe" "alice@example.org", "U+1FFFE in localpart"},
    {"alice@example.org/\xf4\x8f\xbf\xbf", "U+10FFFF in resource"},
    {"alice@ex\xef\xb7\x90.org", "U+FDD0 in domain"},
};

int main(void)
{
    size_t i;
    struct xmp_jid j;
    struct xmp_error err;
    char *b;
    char longpart[1100];

    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        enum xmp_err r = xmp_jid_parse(good[i].in, &j, &err);
        is_int(r, XMP_OK, "parse '%s'", good[i].in);
        if (r != XMP_OK) {
            diag("error: %s", err.msg);
            continue;
        }
        is_str(j.local, good[i].local, "localpart of '%s'", good[i].in);
        is_str(j.domain, good[i].domain, "domainpart of '%s'", good[i].in);
        is_str(j.resource, good[i].resource, "resourcepart of '%s'",
               good[i].in);
        b = xmp_jid_bare(&j);
        is_str(b, good[i].bare, "bare JID of '%s'", good[i].in);
        free(b);
        xmp_jid_clear(&j);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum xmp_err r = xmp_jid_parse(bad[i].in, &j, &err);
        is_int(r, XMP_EDATA, "refuse %s", bad[i].why);
        if (r == XMP_OK)
            xmp_jid_clear(&j);
        else
            ok(strncmp(err.msg, "invalid JID", 11) == 0,
               "message for %s names the problem: %s", bad[i].why, err.msg);
    }
    memset(longpart, 'a', 1024);
    memcpy(longpart + 1024, "@example.org", 13);
    is_int(xmp_jid_parse(longpart, &j, &err), XMP_EDATA,
           "refuse a 1024-byte localpart");
    longpart[1023] = '\0';
    memset(longpart, 'a', 1023);
    memcpy(longpart + 1023, "@example.org", 13);
    is_int(xmp_jid_parse(longpart, &j, &err), XMP_OK,
           "accept a 1023-byte localpart");
    xmp_jid_clear(&j);
    return tap_done();
}
