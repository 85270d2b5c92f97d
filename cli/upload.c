/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * upload.c - send --file: XEP-0363 HTTP File Upload.
 *
 * The files are opened and measured before anything connects.  Once the
 * session is ready: disco#items of our domain and disco#info of each
 * item (and of the domain itself) find the service, an identity
 * store/file with the feature urn:xmpp:http:upload:0, and the largest
 * file it takes (its max-file-size field); a file larger than that is
 * refused before any is uploaded.  Then, one file after the other: a
 * slot (the file's name, size and content type), the PUT of the bytes
 * over HTTPS (lib/http.c, with the session's trust and proxy), while
 * the loop keeps serving the session.  The caller sends the messages
 * only once every file has been uploaded: all or nothing per run.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define NS_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_INFO "http://jabber.org/protocol/disco#info"
#define NS_UPLOAD "urn:xmpp:http:upload:0"
#define NS_XDATA "jabber:x:data"
/* disco#items of a domain lists its services: asking each of more than
 * this many would be a server's mistake (or a hostile one) */
#define UPLOAD_MAX_ITEMS 32
/* slot headers kept (XEP-0363 §5 allows three names) */
#define UPLOAD_MAX_HEADERS 8

enum upload_stage { UP_ITEMS, UP_INFO, UP_SLOT, UP_PUT, UP_DONE, UP_FAILED };

struct upload;

/* A service that may be the upload service, asked once (disco#info). */
struct upload_cand {
    struct upload *u;
    char *jid;
    int ok, asking;
    uint64_t max; /* its max-file-size, 0: none said */
    unsigned req;
};

struct upload_file {
    char *path, *name;
    const char *type;
    uint64_t size;
    int fd;
    char *get; /* the GET URL, once uploaded */
};

struct upload {
    struct cli *c;
    struct upload_file *f;
    size_t nf, cur;
    int allow_http;
    enum upload_stage stage;
    int status;
    char *domain;
    /* the request in flight (disco#items, a slot), if asking */
    unsigned req;
    int asking;
    /* discovery: cand[0..ncand) */
    struct upload_cand cand[UPLOAD_MAX_ITEMS + 1];
    size_t ncand, waiting;
    const char *service;
    uint64_t max;
    /* the transfer */
    struct xmp_http *http;
    char *put;
    struct xmp_http_header hd[UPLOAD_MAX_HEADERS];
    size_t nhd;
    int progress;  /* stderr is a terminal */
    int shown;     /* a progress line stands on it */
    int64_t drawn; /* when it was drawn */
};

/* ---- content types -------------------------------------------------------- */

static const struct {
    const char *ext, *type;
} types[] = {
    {"txt", "text/plain"}, {"log", "text/plain"}, {"csv", "text/csv"},
    {"html", "text/html"}, {"htm", "text/html"}, {"md", "text/markdown"},
    {"json", "application/json"}, {"xml", "application/xml"},
    {"pdf", "application/pdf"}, {"zip", "application/zip"},
    {"gz", "application/gzip"}, {"tar", "application/x-tar"},
    {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},
    {"gif", "image/gif"}, {"webp", "image/webp"}, {"svg", "image/svg+xml"},
    {"mp3", "audio/mpeg"}, {"ogg", "audio/ogg"}, {"opus", "audio/ogg"},
    {"m4a", "audio/mp4"}, {"mp4", "video/mp4"}, {"webm", "video/webm"},
};

static const char *guess_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    size_t i;

    if (dot && dot != name)
        for (i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* ---- before connecting ------------------------------------------------------ */

struct upload *cli_upload_new(void)
{
    struct upload *u = calloc(1, sizeof *u);

    if (u)
        u->status = EXIT_OK;
    return u;
}

void cli_upload_allow_http(struct upload *u)
{
    u->allow_http = 1;
}

size_t cli_upload_count(const struct upload *u)
{
    return u ? u->nf : 0;
}

int cli_upload_add(struct upload *u, const char *path)
{
    struct upload_file *f, *nf;
    struct xmp_error err;
    struct stat st;
    const char *base;
    size_t blen;

    if (!(nf = realloc(u->f, (u->nf + 1) * sizeof *u->f)))
        return EXIT_OSERR;
    u->f = nf;
    f = &u->f[u->nf];
    memset(f, 0, sizeof *f);
    f->fd = -1;
    /* the name the service sees: the last component, checked as text */
    blen = strlen(path);
    while (blen > 1 && path[blen - 1] == '/')
        blen--;
    for (base = path + blen; base > path && base[-1] != '/'; base--)
        ;
    if (!(f->path = strdup(path)) ||
        !(f->name = strndup(base, (size_t)(path + blen - base))))
        goto oom;
    u->nf++;
    if ((f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
        cli_error("send: cannot read %s: %s", path, strerror(errno));
        return EXIT_DATA;
    }
    if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        cli_error("send: %s is not a regular file", path);
        return EXIT_DATA;
    }
    if (!f->name[0] || strcmp(f->name, ".") == 0 ||
        strcmp(f->name, "..") == 0 ||
        xmp_xml_check_text(f->name, strlen(f->name), &err) != XMP_OK) {
        cli_error("send: %s: no usable file name to upload it under", path);
        return EXIT_DATA;
    }
    f->size = (uint64_t)st.st_size;
    f->type = guess_type(f->name);
    return EXIT_OK;
oom:
    free(f->path);
    free(f->name);
    return EXIT_OSERR;
}

/* Forget the requests in flight: their callbacks must not come. */
static void cancel_all(struct upload *u)
{
    size_t i;

    if (!u->c || !u->c->session)
        return;
    if (u->asking)
        xmp_iq_cancel(u->c->session, u->req);
    for (i = 0; i < u->ncand; i++)
        if (u->cand[i].asking)
            xmp_iq_cancel(u->c->session, u->cand[i].req);
    u->asking = 0;
    for (i = 0; i < u->ncand; i++)
        u->cand[i].asking = 0;
    u->waiting = 0;
}

void cli_upload_free(struct upload *u)
{
    size_t i;

    if (!u)
        return;
    cancel_all(u);
    xmp_http_free(u->http);
    for (i = 0; i < u->nf; i++) {
        if (u->f[i].fd >= 0)
            close(u->f[i].fd);
        free(u->f[i].path);
        free(u->f[i].name);
        free(u->f[i].get);
    }
    free(u->f);
    for (i = 0; i < u->ncand; i++)
        free(u->cand[i].jid);
    free(u->domain);
    for (i = 0; i < u->nhd; i++) {
        free((char *)u->hd[i].name);
        free((char *)u->hd[i].value);
    }
    free(u->put);
    free(u);
}

const char *cli_upload_url(const struct upload *u, size_t i)
{
    return i < u->nf ? u->f[i].get : NULL;
}

/* ---- progress -------------------------------------------------------------- */

static void progress(struct upload *u, int last)
{
    const struct upload_file *f = &u->f[u->cur];
    uint64_t sent = u->http ? xmp_http_sent(u->http) : f->size;
    int64_t now = xmp_now_ms();
    unsigned pct = f->size ? (unsigned)(sent * 100 / f->size) : 100;

    if (!u->progress || (!last && u->shown && now - u->drawn < 200))
        return;
    if (cli_before_output)
        cli_before_output();
    fprintf(stderr, "\rxmpctl: uploading ");
    cli_print_sanitized(stderr, f->name, strlen(f->name));
    fprintf(stderr, ": %3u%% (%" PRIu64 " of %" PRIu64 " bytes)\033[K%s",
            pct, sent, f->size, last ? "\n" : "");
    fflush(stderr);
    u->shown = !last;
    u->drawn = now;
}

/* ---- failing ------------------------------------------------------------------ */

static void fail(struct upload *u, int status)
{
    if (u->shown) {
        fputc('\n', stderr);
        u->shown = 0;
    }
    cancel_all(u);
    u->stage = UP_FAILED;
    u->status = status;
}

/* An iq came back as an error, or not at all. */
static void iq_failed(struct upload *u, const char *what,
                      const struct xmp_node *reply, const struct xmp_error *e)
{
    char cond[512];

    if (reply) {
        xmp_error_describe(reply, cond, sizeof cond);
        cli_error("send: %s: %s", what, cond);
        fail(u, EXIT_REMOTE);
        return;
    }
    cli_error("send: %s: %s", what, e && e->msg[0] ? e->msg : "no answer");
    fail(u, e ? cli_exit_status(e->code) : EXIT_TEMPFAIL);
}

static int is_result(const struct xmp_node *reply)
{
    const char *t = reply ? xmp_node_attr(reply, "type") : NULL;

    return t && strcmp(t, "result") == 0;
}

/* ---- the slot and the PUT ---------------------------------------------------- */

static void next_file(struct upload *u);

static void on_slot(struct xmp_session *s, const struct xmp_node *reply,
                    const struct xmp_error *e, void *ud);

static void ask_slot(struct upload *u)
{
    struct upload_file *f = &u->f[u->cur];
    struct xmp_session *s = u->c->session;
    struct xmp_node *iq, *rq;
    char size[32];

    snprintf(size, sizeof size, "%" PRIu64, f->size);
    u->stage = UP_SLOT;
    if (!(iq = xmp_node_new("jabber:client", "iq", NULL)) ||
        xmp_node_set_attr(iq, "type", "get", NULL) != XMP_OK ||
        xmp_node_set_attr(iq, "to", u->service, NULL) != XMP_OK ||
        !(rq = xmp_node_add_child(iq, NS_UPLOAD, "request", NULL)) ||
        xmp_node_set_attr(rq, "filename", f->name, NULL) != XMP_OK ||
        xmp_node_set_attr(rq, "size", size, NULL) != XMP_OK ||
        xmp_node_set_attr(rq, "content-type", f->type, NULL) != XMP_OK ||
        xmp_session_send_iq(s, iq, 0, on_slot, u, &u->req) != XMP_OK) {
        xmp_node_free(iq);
        fail(u, EXIT_OSERR);
        return;
    }
    xmp_node_free(iq);
    u->asking = 1;
}

/* A URL of the slot: http(s), printable, no space. */
static int good_url(const struct upload *u, const char *url)
{
    size_t i;

    if (!url || !(strncasecmp(url, "https://", 8) == 0 ||
                  (u->allow_http && strncasecmp(url, "http://", 7) == 0)))
        return 0;
    for (i = 0; url[i]; i++)
        if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
            return 0;
    return i < 4096;
}

static void on_slot(struct xmp_session *s, const struct xmp_node *reply,
                    const struct xmp_error *e, void *ud)
{
    struct upload *u = ud;
    struct upload_file *f = &u->f[u->cur];
    const struct xmp_node *slot, *put, *get, *h;
    struct xmp_http_opts o;
    struct xmp_error err;
    char what[300];
    size_t i;

    (void)s;
    u->asking = 0;
    snprintf(what, sizeof what, "no upload slot for %s", f->name);
    if (!is_result(reply)) {
        iq_failed(u, what, reply, e);
        return;
    }
    slot = xmp_node_child(reply, NS_UPLOAD, "slot");
    put = slot ? xmp_node_child(slot, NS_UPLOAD, "put") : NULL;
    get = slot ? xmp_node_child(slot, NS_UPLOAD, "get") : NULL;
    if (!put || !get || !xmp_node_attr(put, "url") ||
        !good_url(u, xmp_node_attr(get, "url"))) {
        if (put && get && xmp_node_attr(get, "url") &&
            strncasecmp(xmp_node_attr(get, "url"), "http://", 7) == 0) {
            cli_error("send: the upload service would serve %s over plain "
                      "http: refused without --allow-http-upload", f->name);
            fail(u, EXIT_TLS);
            return;
        }
        cli_error("send: %s: the upload service's answer has no usable put "
                  "and get URLs", what);
        fail(u, EXIT_PROTOCOL);
        return;
    }
    for (i = 0; i < u->nhd; i++) {
        free((char *)u->hd[i].name);
        free((char *)u->hd[i].value);
    }
    u->nhd = 0;
    for (h = xmp_node_first(put); h && u->nhd < UPLOAD_MAX_HEADERS;
         h = xmp_node_next(h)) {
        const char *name = xmp_node_attr(h, "name");

        if (strcmp(xmp_node_name(h), "header") != 0 || !name)
            continue;
        u->hd[u->nhd].name = strdup(name);
        u->hd[u->nhd].value = xmp_node_text(h);
        if (!u->hd[u->nhd].name || !u->hd[u->nhd].value) {
            free((char *)u->hd[u->nhd].name);
            free((char *)u->hd[u->nhd].value);
            fail(u, EXIT_OSERR);
            return;
        }
        u->nhd++;
    }
    free(f->get);
    if (!(f->get = strdup(xmp_node_attr(get, "url")))) {
        fail(u, EXIT_OSERR);
        return;
    }
    memset(&o, 0, sizeof o);
    o.url = xmp_node_attr(put, "url");
    o.headers = u->hd;
    o.nheaders = u->nhd;
    o.file = f->fd;
    o.size = f->size;
    o.content_type = f->type;
    o.cafile = u->c->o.cafile;
    o.trust = u->c->trust;
    o.insecure = u->c->o.insecure;
    o.tls_min = u->c->o.tls_min;
    o.proxy = u->c->o.proxy;
    o.allow_http = u->allow_http;
    o.timeout_ms = (u->c->o.timeout_s ? u->c->o.timeout_s
                                      : CLI_DEFAULT_TIMEOUT_S) * 1000;
    o.trace = u->c->o.verbose ? cli_trace : NULL;
    o.trace_ud = u->c;
    if (!(u->http = xmp_http_new(&o, &err))) {
        cli_error("send: %s: %s", f->name, err.msg);
        fail(u, cli_exit_status(err.code));
        return;
    }
    u->stage = UP_PUT;
    progress(u, 0);
}

static void next_file(struct upload *u)
{
    if (u->cur + 1 >= u->nf) {
        u->stage = UP_DONE;
        return;
    }
    u->cur++;
    ask_slot(u);
}

/* ---- discovery ------------------------------------------------------------------ */

static int has_child_attr(const struct xmp_node *q, const char *name,
                          const char *attr, const char *value,
                          const char *attr2, const char *value2)
{
    const struct xmp_node *n;
    const char *v;

    for (n = xmp_node_first(q); n; n = xmp_node_next(n))
        if (strcmp(xmp_node_name(n), name) == 0 &&
            (v = xmp_node_attr(n, attr)) && strcmp(v, value) == 0 &&
            (!attr2 ||
             ((v = xmp_node_attr(n, attr2)) && strcmp(v, value2) == 0)))
            return 1;
    return 0;
}

/* XEP-0363 §3: the form of FORM_TYPE urn:xmpp:http:upload:0 says
 * max-file-size; 0 when it says nothing usable. */
static uint64_t max_size(const struct xmp_node *q)
{
    const struct xmp_node *x, *fld, *val;
    uint64_t max = 0;

    for (x = xmp_node_first(q); x; x = xmp_node_next(x)) {
        int ours = 0;
        char *t;

        if (strcmp(xmp_node_ns(x), NS_XDATA) != 0 ||
            strcmp(xmp_node_name(x), "x") != 0)
            continue;
        for (fld = xmp_node_first(x); fld; fld = xmp_node_next(fld)) {
            const char *var = xmp_node_attr(fld, "var");

            if (!var || !(val = xmp_node_child(fld, NS_XDATA, "value")) ||
                !(t = xmp_node_text(val)))
                continue;
            if (strcmp(var, "FORM_TYPE") == 0)
                ours = strcmp(t, NS_UPLOAD) == 0;
            else if (strcmp(var, "max-file-size") == 0) {
                char *end;

                errno = 0;
                max = strtoull(t, &end, 10);
                if (end == t || *end || errno || t[0] == '-')
                    max = 0;
            }
            free(t);
        }
        if (ours)
            return max;
        max = 0;
    }
    return 0;
}

static void choose(struct upload *u)
{
    size_t i;

    char note[400];

    for (i = 0; i < u->ncand; i++)
        if (u->cand[i].ok)
            break;
    if (i == u->ncand) {
        cli_error("send: %s offers no HTTP upload service (XEP-0363): "
                  "nothing sent", u->domain);
        fail(u, EXIT_UNAVAILABLE);
        return;
    }
    u->service = u->cand[i].jid;
    u->max = u->cand[i].max;
    snprintf(note, sizeof note, "upload: the service is %s (files up to "
             "%" PRIu64 " bytes, 0: no limit said)", u->service, u->max);
    if (u->c->o.verbose)
        cli_trace(u->c, XMP_TRACE_INFO, note, strlen(note));
    /* all or nothing: no file goes up unless every one fits */
    for (i = 0; i < u->nf; i++)
        if (u->max && u->f[i].size > u->max) {
            cli_error("send: %s: %" PRIu64 " bytes, more than the upload "
                      "service takes (%" PRIu64 " bytes): nothing sent",
                      u->f[i].path, u->f[i].size, u->max);
            fail(u, EXIT_DATA);
            return;
        }
    u->cur = 0;
    ask_slot(u);
}

static void on_info(struct xmp_session *s, const struct xmp_node *reply,
                    const struct xmp_error *e, void *ud)
{
    struct upload_cand *cd = ud;
    struct upload *u = cd->u;
    const struct xmp_node *q;

    (void)s;
    (void)e;
    cd->asking = 0;
    /* a service that does not answer or refuses is not the one */
    if (is_result(reply) && (q = xmp_node_child(reply, NS_INFO, "query")) &&
        has_child_attr(q, "identity", "category", "store", "type", "file") &&
        has_child_attr(q, "feature", "var", NS_UPLOAD, NULL, NULL)) {
        cd->ok = 1;
        cd->max = max_size(q);
    }
    if (u->waiting)
        u->waiting--;
    if (!u->waiting)
        choose(u);
}

static int ask_info(struct upload *u, size_t i)
{
    struct xmp_node *iq;
    enum xmp_err r;

    if (!(iq = xmp_node_new("jabber:client", "iq", NULL)) ||
        xmp_node_set_attr(iq, "type", "get", NULL) != XMP_OK ||
        xmp_node_set_attr(iq, "to", u->cand[i].jid, NULL) != XMP_OK ||
        !xmp_node_add_child(iq, NS_INFO, "query", NULL)) {
        xmp_node_free(iq);
        return -1;
    }
    u->cand[i].u = u;
    r = xmp_session_send_iq(u->c->session, iq, 0, on_info, &u->cand[i],
                            &u->cand[i].req);
    xmp_node_free(iq);
    if (r != XMP_OK)
        return -1;
    u->cand[i].asking = 1;
    u->waiting++;
    return 0;
}

static void on_items(struct xmp_session *s, const struct xmp_node *reply,
                     const struct xmp_error *e, void *ud)
{
    struct upload *u = ud;
    const struct xmp_node *q, *it;
    size_t i;

    (void)s;
    u->asking = 0;
    if (!is_result(reply)) {
        iq_failed(u, "cannot list the services of the server", reply, e);
        return;
    }
    q = xmp_node_child(reply, NS_ITEMS, "query");
    for (it = q ? xmp_node_first(q) : NULL;
         it && u->ncand < UPLOAD_MAX_ITEMS; it = xmp_node_next(it)) {
        const char *jid = xmp_node_attr(it, "jid");
        struct xmp_jid j;

        if (strcmp(xmp_node_name(it), "item") != 0 || !jid ||
            xmp_node_attr(it, "node") ||
            xmp_jid_parse(jid, &j, NULL) != XMP_OK)
            continue;
        xmp_jid_clear(&j);
        if (!(u->cand[u->ncand].jid = strdup(jid)))
            break;
        u->ncand++;
    }
    /* the domain itself last: some servers serve uploads there */
    if (!(u->cand[u->ncand].jid = strdup(u->domain))) {
        fail(u, EXIT_OSERR);
        return;
    }
    u->ncand++;
    u->stage = UP_INFO;
    for (i = 0; i < u->ncand; i++)
        if (ask_info(u, i) < 0) {
            fail(u, EXIT_OSERR);
            return;
        }
}

int cli_upload_start(struct upload *u, struct cli *c)
{
    struct xmp_node *iq;
    struct xmp_jid me;
    enum xmp_err r;

    u->c = c;
    u->progress = isatty(STDERR_FILENO);
    u->stage = UP_ITEMS;
    if (xmp_jid_parse(c->o.jid, &me, NULL) != XMP_OK)
        return EXIT_SOFTWARE;
    u->domain = strdup(me.domain);
    xmp_jid_clear(&me);
    if (!u->domain)
        return EXIT_OSERR;
    if (!(iq = xmp_node_new("jabber:client", "iq", NULL)) ||
        xmp_node_set_attr(iq, "type", "get", NULL) != XMP_OK ||
        xmp_node_set_attr(iq, "to", u->domain, NULL) != XMP_OK ||
        !xmp_node_add_child(iq, NS_ITEMS, "query", NULL)) {
        xmp_node_free(iq);
        return EXIT_OSERR;
    }
    r = xmp_session_send_iq(c->session, iq, 0, on_items, u, &u->req);
    xmp_node_free(iq);
    if (r != XMP_OK)
        return EXIT_OSERR;
    u->asking = 1;
    return 0;
}

/* ---- driving ---------------------------------------------------------------------- */

void cli_upload_prepare(struct upload *u, int *fd, short *events,
                        int64_t *deadline)
{
    *fd = -1;
    *events = 0;
    *deadline = -1;
    if (u->stage != UP_PUT || !u->http)
        return;
    *fd = xmp_http_fd(u->http);
    *events = xmp_http_events(u->http);
    *deadline = xmp_http_deadline(u->http);
}

void cli_upload_step(struct upload *u)
{
    enum xmp_err r;

    if (u->stage != UP_PUT || !u->http)
        return;
    r = xmp_http_step(u->http);
    if (r == XMP_AGAIN) {
        progress(u, 0);
        return;
    }
    if (r != XMP_OK) {
        const struct xmp_error *e = xmp_http_error(u->http);

        if (u->shown) {
            fputc('\n', stderr);
            u->shown = 0;
        }
        cli_error("send: %s not uploaded: %s", u->f[u->cur].path, e->msg);
        fail(u, cli_exit_status(e->code));
        return;
    }
    progress(u, 1);
    xmp_http_free(u->http);
    u->http = NULL;
    next_file(u);
}

void cli_upload_stop(struct upload *u)
{
    if (u && u->shown) {
        fputc('\n', stderr);
        u->shown = 0;
    }
}

int cli_upload_done(const struct upload *u, int *status)
{
    *status = u->status;
    return u->stage == UP_DONE || u->stage == UP_FAILED;
}
