/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_hints.c - the hints blob (lib/hints.c): what is written is read
 * back, and anything damaged, cut off, foreign or of version 1 (which
 * held the SCRAM salted password) is refused whole. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "hints.h"
#include "tap.h"

static const unsigned char tls[] = {0x00, 0x01, 0xfe, 0xff, 0x7f};

static void fill(struct hints *h)
{
    memset(h, 0, sizeof *h);
    h->domain = "example.test";
    h->trust = "/tmp/ca.pem";
    h->anchors = "0a1b";
    h->context = "-";
    h->pin = "sha256//AAAA";
    h->saved = 1767225600;
    h->expires = 1798761600;
    h->mechs = "SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN";
    h->cb = "";
    h->tls = (unsigned char *)tls;
    h->tls_len = sizeof tls;
    h->tls_bound = 1;
}

static int decodes(const char *text)
{
    struct hints h;
    int rc = hints_decode(text, strlen(text), &h);

    hints_clear(&h);
    return rc == 0;
}

int main(void)
{
    struct hints in, out;
    struct buf b = BUF_INIT;

    fill(&in);
    ok(hints_encode(&in, &b) == 0, "encoded");
    ok(hints_decode(b.data, b.len, &out) == 0, "decoded");
    is_str(out.domain, "example.test", "domain");
    is_str(out.trust, "/tmp/ca.pem", "trust");
    is_str(out.anchors, "0a1b", "anchors");
    is_str(out.context, "-", "context");
    is_str(out.pin, "sha256//AAAA", "pin");
    ok(out.saved == 1767225600, "saved");
    ok(out.expires == 1798761600, "expires");
    is_str(out.mechs, "SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN", "mechanisms");
    is_str(out.cb, "", "an empty channel-binding list stays a list");
    ok(out.tls_len == sizeof tls && memcmp(out.tls, tls, sizeof tls) == 0,
       "TLS session bytes");
    ok(out.tls_bound, "the TLS session's login was bound");
    hints_clear(&out);

    /* no cb line: the server sent no list */
    buf_free(&b);
    in.cb = NULL;
    in.tls = NULL;
    ok(hints_encode(&in, &b) == 0 && hints_decode(b.data, b.len, &out) == 0,
       "without list or session");
    ok(!out.cb && !out.tls, "... they stay absent");
    ok(!out.tls_bound, "... and no session is no bound session");
    ok(!out.sasl2 && !out.fast && !out.bind2, "... and no SASL2 was offered");
    hints_clear(&out);

    /* SASL2 (XEP-0388): its mechanisms, FAST's, Bind2's inline features,
     * where "" (Bind2 with nothing inline) differs from absent */
    buf_free(&b);
    in.sasl2 = "SCRAM-SHA-256-PLUS SCRAM-SHA-256";
    in.fast = "HT-SHA-256-EXPR HT-SHA-256-NONE";
    in.bind2 = "";
    ok(hints_encode(&in, &b) == 0 && hints_decode(b.data, b.len, &out) == 0,
       "with SASL2, FAST and Bind2");
    is_str(out.sasl2, "SCRAM-SHA-256-PLUS SCRAM-SHA-256", "SASL2 mechanisms");
    is_str(out.fast, "HT-SHA-256-EXPR HT-SHA-256-NONE", "FAST mechanisms");
    is_str(out.bind2, "", "Bind2 with nothing inline stays Bind2");
    hints_clear(&out);
    in.sasl2 = in.fast = in.bind2 = NULL;
    ok(decodes("xmpctl-hints 2\ndomain d\ntrust -\nanchors a\ncontext -\n"
               "pin p\nsaved 1\nexpires 2\nbind2 urn:xmpp:sm:3\nbind2 x\n")
           == 0,
       "a key given twice is damage");

    /* cut off in the middle of a line */
    ok(hints_decode(b.data, b.len - 3, &out) != 0, "a cut-off blob is refused");
    ok(!out.domain, "... and leaves nothing behind");
    buf_free(&b);

    /* a value we would never write cannot go into the blob */
    fill(&in);
    in.trust = "/tmp/a\nb";
    ok(hints_encode(&in, &b) != 0, "a line break in a value is not written");
    buf_free(&b);

#define H2 "xmpctl-hints 2\ndomain a\ntrust -\nanchors 00\ncontext -\npin p\n"
    ok(!decodes(""), "empty");
    /* version 1 held the SCRAM salted password: never read again */
    ok(!decodes("xmpctl-hints 1\ndomain a\ntrust -\npin p\nsaved 1\n"
                "scram SCRAM-SHA-1 4096 c2FsdA== 00ff\n"),
       "version 1");
    ok(decodes(H2 "saved 1\nexpires 2\n"), "the least that is enough");
    ok(decodes(H2 "saved 1\nexpires 2\nnew x\n"), "an unknown key is skipped");
    ok(!decodes(H2 "expires 2\n"), "no time saved");
    ok(!decodes(H2 "saved 1\n"), "no end of validity");
    ok(!decodes("xmpctl-hints 2\ndomain a\ntrust -\ncontext -\npin p\n"
                "saved 1\nexpires 2\n"),
       "no anchors");
    ok(!decodes("xmpctl-hints 2\ndomain a\ntrust -\nanchors 00\npin p\n"
                "saved 1\nexpires 2\n"),
       "no context");
    ok(!decodes(H2 "domain b\nsaved 1\nexpires 2\n"), "a key twice");
    ok(!decodes(H2 "saved 1\nexpires 2\ntls 0g\n"),
       "a TLS session that is not hex");
    ok(!decodes(H2 "saved 1\nexpires 2\ntls 012\n"),
       "an odd number of hex digits");
    ok(!decodes(H2 "saved -5\nexpires 2\n"), "a negative time");
    ok(!decodes("xmpctl-hints 2\ndomain a b\ntrust -\nanchors 00\n"
                "context -\npin p\nsaved 1\nexpires 2\n"),
       "a domain with a space");
    return tap_done();
}
