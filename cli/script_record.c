/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * script_record.c - shell --record: the session written down as a
 * scansion script that "xmpctl script" replays.  Every stanza the session
 * sends becomes a "sends:", every one it receives a "receives:"; the
 * account's own JIDs become variables, so that the replay works whatever
 * resource the server chooses then.  The script holds no password: the
 * replay takes the account's from its section of the config file or the
 * password sources, and a room's password, or any other secret a stanza
 * carries, is written as [redacted].  The file is created readable by its
 * owner only.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "script.h"

/* ids of stanzas we sent that a received one may carry back */
#define RECORD_MAX_IDS 1024

struct record {
    FILE *f;
    char *path, *name, *bare;
    char *ids[RECORD_MAX_IDS];
    size_t nids;
    int connected, failed;
};

static int sent_id(const struct record *r, const char *id)
{
    size_t i;

    for (i = 0; i < r->nids && i < RECORD_MAX_IDS; i++)
        if (r->ids[i] && strcmp(r->ids[i], id) == 0)
            return 1;
    return 0;
}

/* text with our full JID and bare JID replaced by variables */
static void with_variables(const struct record *r, const char *full,
                           const char *text, struct sbuf *out)
{
    size_t fl = full ? strlen(full) : 0, bl = strlen(r->bare);

    while (*text) {
        if (fl && strncmp(text, full, fl) == 0) {
            sbuf_printf(out, "${%s's full JID}", r->name);
            text += fl;
        } else if (strncmp(text, r->bare, bl) == 0) {
            sbuf_printf(out, "${%s's JID}", r->name);
            text += bl;
        } else {
            sbuf_add(out, text, 1);
            text++;
        }
    }
}

static void to_sbuf(void *ud, const char *s, size_t len)
{
    sbuf_add(ud, s, len);
}

static void write_step(struct record *r, const char *action,
                       const char *text)
{
    if (r->failed)
        return;
    if (fprintf(r->f, "%s %s\n", r->name, action) < 0 ||
        (text && fprintf(r->f, "\t%s\n", text) < 0) ||
        fputc('\n', r->f) == EOF || fflush(r->f) != 0) {
        r->failed = 1;
        cli_error("shell: --record: cannot write %s: %s", r->path,
                  strerror(errno));
    }
}

static void on_trace(const struct cli *c, enum xmp_trace_dir dir,
                     const char *text, size_t len)
{
    struct record *r = c->record_state;
    struct xmp_session_info info;
    struct sbuf b = { NULL, 0, 0, 0 }, safe = { NULL, 0, 0, 0 };
    struct xmp_node *n;
    const char *name, *id;
    char *line;

    if (!r || !c->session)
        return;
    if (xmp_session_phase(c->session) != XMP_PHASE_READY) {
        if (r->connected && cli_session_over(c->session)) {
            write_step(r, "disconnects", NULL);
            r->connected = 0;
        }
        return;
    }
    if (dir == XMP_TRACE_INFO)
        return;
    /* stanzas only: not stream management, not the stream's own */
    if (!(n = xmp_node_parse(text, len, NULL)))
        return;
    name = xmp_node_name(n);
    if (strcmp(xmp_node_ns(n), "jabber:client") != 0 ||
        (strcmp(name, "message") && strcmp(name, "presence") &&
         strcmp(name, "iq"))) {
        xmp_node_free(n);
        return;
    }
    if (!r->connected) {
        write_step(r, "connects", NULL);
        r->connected = 1;
    }
    id = xmp_node_attr(n, "id");
    if (dir == XMP_TRACE_OUT && id) {
        char **slot = &r->ids[r->nids++ % RECORD_MAX_IDS];

        free(*slot);
        *slot = strdup(id);
    } else if /* an id the server made up will differ in the replay */ (dir == XMP_TRACE_IN && id && !sent_id(r, id))
        xmp_node_set_attr(n, "id", SCRIPT_ANY, NULL);
    xmp_session_get_info(c->session, &info);
    if ((line = xmp_node_to_line(n, "jabber:client"))) {
        cli_redact(line, strlen(line), to_sbuf, &safe);
        if (!safe.failed)
            with_variables(r, info.bound_jid, safe.text, &b);
        if (!safe.failed && !b.failed)
            write_step(r, dir == XMP_TRACE_OUT ? "sends:" : "receives:",
                       b.text);
        if (safe.text)
            explicit_bzero(safe.text, safe.len);
        explicit_bzero(line, strlen(line)); /* it may hold a password */
    }
    free(line);
    sbuf_free(&safe);
    sbuf_free(&b);
    xmp_node_free(n);
}

int script_record_start(struct cli *c, const char *path)
{
    struct record *r = calloc(1, sizeof *r);
    struct xmp_jid j;
    struct xmp_error err;
    struct stat st;
    char *resource;
    int fd = -1, want_resource;

    if (!r) {
        cli_error("out of memory");
        return EXIT_OSERR;
    }
    if (xmp_jid_parse(c->o.jid ? c->o.jid : "", &j, &err) != XMP_OK) {
        free(r);
        return EXIT_OK; /* no account: cli_session_open says so */
    }
    r->bare = xmp_jid_bare(&j);
    r->name = strdup(j.local ? j.local : j.domain);
    /* the resource asked for, by --resource or in the JID: the replay
     * asks for it too */
    want_resource = c->o.resource || j.resource;
    resource = c->o.resource ? strdup(c->o.resource)
               : j.resource  ? strdup(j.resource)
                             : NULL;
    xmp_jid_clear(&j);
    r->path = strdup(path);
    if (!r->bare || !r->name || !r->path || (want_resource && !resource)) {
        cli_error("out of memory");
        goto fail;
    }
    /* readable by its owner only, as the history: the session's
     * messages are in it; a file that was there is made so too */
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
            0 ||
        fstat(fd, &st) != 0 || (S_ISREG(st.st_mode) && fchmod(fd, 0600)) ||
        !(r->f = fdopen(fd, "w"))) {
        cli_error("shell: --record: cannot create %s: %s", path,
                  strerror(errno));
        if (fd >= 0)
            close(fd);
        free(resource);
        free(r->bare);
        free(r->name);
        free(r->path);
        free(r);
        return EXIT_IOERR;
    }
    if (fprintf(r->f, "# Recorded by xmpctl shell --record\n"
                      "# No password: xmpctl script takes it from the "
                      "account's section of the\n# config file or the "
                      "password sources;\n# a room's password or another "
                      "secret in a stanza is [redacted].\n\n"
                      "[Client] %s\n\tjid: %s\n%s%s%s\n-----\n\n",
                r->name, r->bare, resource ? "\tresource: " : "",
                resource ? resource : "", resource ? "\n" : "") < 0 ||
        fflush(r->f) != 0) {
        cli_error("shell: --record: cannot write %s: %s", path,
                  strerror(errno));
        fclose(r->f);
        goto fail;
    }
    free(resource);
    c->record = on_trace;
    c->record_state = r;
    return EXIT_OK;
fail:
    free(resource);
    free(r->bare);
    free(r->name);
    free(r->path);
    free(r);
    return EXIT_OSERR;
}

void script_record_end(struct cli *c)
{
    struct record *r = c->record_state;
    size_t i;

    if (!r)
        return;
    if (r->connected)
        write_step(r, "disconnects", NULL);
    if (fclose(r->f) != 0 && !r->failed)
        cli_error("shell: --record: cannot write %s: %s", r->path,
                  strerror(errno));
    for (i = 0; i < RECORD_MAX_IDS; i++)
        free(r->ids[i]);
    free(r->bare);
    free(r->name);
    free(r->path);
    free(r);
    c->record = NULL;
    c->record_state = NULL;
}
