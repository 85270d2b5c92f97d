/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_hints.c - the hints blob (lib/hints.c): what is written is read
 * back, and anything damaged, cut off or foreign is refused whole. */
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
    h->pin = "sha256//AAAA";
    h->saved = 1767225600;
    h->mechs = "SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN";
    h->cb = "";
    h->tls = (unsigned char *)tls;
    h->tls_len = sizeof tls;
    h->tls_bound = 1;
    h->scram_mech = "SCRAM-SHA-1";
    h->scram_iter = "4096";
    h->scram_salt = "c2FsdA==";
    h->scram_key = "00ff";
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
    is_str(out.pin, "sha256//AAAA", "pin");
    ok(out.saved == 1767225600, "saved");
    is_str(out.mechs, "SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN", "mechanisms");
    is_str(out.cb, "", "an empty channel-binding list stays a list");
    ok(out.tls_len == sizeof tls && memcmp(out.tls, tls, sizeof tls) == 0,
       "TLS session bytes");
    ok(out.tls_bound, "the TLS session's login was bound");
    is_str(out.scram_mech, "SCRAM-SHA-1", "SCRAM mechanism");
    is_str(out.scram_iter, "4096", "SCRAM iterations");
    is_str(out.scram_salt, "c2FsdA==", "SCRAM salt");
    is_str(out.scram_key, "00ff", "SCRAM key");
    hints_clear(&out);

    /* no cb line: the server sent no list */
    buf_free(&b);
    in.cb = NULL;
    in.tls = NULL;
    in.scram_mech = NULL;
    ok(hints_encode(&in, &b) == 0 && hints_decode(b.data, b.len, &out) == 0,
       "without list, session or key");
    ok(!out.cb && !out.tls && !out.scram_key, "... they stay absent");
    ok(!out.tls_bound, "... and no session is no bound session");
    hints_clear(&out);

    /* cut off in the middle of a line */
    ok(hints_decode(b.data, b.len - 3, &out) != 0, "a cut-off blob is refused");
    ok(!out.domain, "... and leaves nothing behind");
    buf_free(&b);

    /* a value we would never write cannot go into the blob */
    fill(&in);
    in.trust = "/tmp/a\nb";
    ok(hints_encode(&in, &b) != 0, "a line break in a value is not written");
    buf_free(&b);

    ok(!decodes(""), "empty");
    ok(!decodes("xmpctl-hints 2\ndomain a\ntrust -\npin p\nsaved 1\n"),
       "another version");
    ok(decodes("xmpctl-hints 1\ndomain a\ntrust -\npin p\nsaved 1\n"),
       "the least that is enough");
    ok(decodes("xmpctl-hints 1\ndomain a\ntrust -\npin p\nsaved 1\nnew x\n"),
       "an unknown key is skipped");
    ok(!decodes("xmpctl-hints 1\ndomain a\ntrust -\npin p\n"), "no time");
    ok(!decodes("xmpctl-hints 1\ndomain a\ndomain b\ntrust -\npin p\n"
                "saved 1\n"),
       "a key twice");
    ok(!decodes("xmpctl-hints 1\ndomain a\ntrust -\npin p\nsaved 1\ntls 0g\n"),
       "a TLS session that is not hex");
    ok(!decodes("xmpctl-hints 1\ndomain a\ntrust -\npin p\nsaved 1\ntls 012\n"),
       "an odd number of hex digits");
    ok(!decodes("xmpctl-hints 1\ndomain a\ntrust -\npin p\nsaved -5\n"),
       "a negative time");
    ok(!decodes("xmpctl-hints 1\ndomain a\ntrust -\npin p\nsaved 1\n"
                "scram SCRAM-SHA-1 40x6 salt 00\n"),
       "SCRAM iterations that are not a number");
    ok(!decodes("xmpctl-hints 1\ndomain a\ntrust -\npin p\nsaved 1\n"
                "scram SCRAM-SHA-1 4096 salt\n"),
       "a SCRAM line without its key");
    ok(!decodes("xmpctl-hints 1\ndomain a b\ntrust -\npin p\nsaved 1\n"),
       "a domain with a space");
    return tap_done();
}
