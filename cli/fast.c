/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fast.c - what lets the next login skip the password (XEP-0484 FAST):
 *
 *     $XDG_DATA_HOME/xmpctl/fast/alice@example.org   (~/.local/share)
 *     $XDG_DATA_HOME/xmpctl/user-agent
 *
 * The token a server issued to this installation for an account is a
 * credential: whoever holds it logs in as the account (until the server
 * lets it expire or it is invalidated), so it is kept as privately as
 * anything (private.c), in lines
 *
 *     xmpctl-fast 1
 *     mech HT-SHA-256-EXPR
 *     token TOKEN
 *     expiry SECONDS     (since the epoch; 0: not said)
 *     saved SECONDS
 *
 * The token is kept as the server sent it; one longer than
 * CLI_FAST_TOKEN_MAX or with a byte outside printable ASCII is not kept.
 * A token that has expired is overwritten and removed.  The user-agent
 * id (XEP-0388) is a random UUID made on the first login and sent on
 * every one after: the server binds its tokens to it.  It is no secret,
 * but what could change it could make the server forget our tokens.
 * Neither goes anywhere else: not to the cache, the hints, the command
 * line, the environment or a trace.
 *
 * Servers end the older of two sessions of one user agent (XEP-0386
 * §3.2: ejabberd 24.12 by the id alone, Prosody 13 by the resource Bind2
 * derives from it), so processes that run at once must not share one: a
 * cron job's send would end the background session, or another send
 * before its acknowledgement.  Each process takes a slot per account,
 * the first of CLI_FAST_SLOTS whose lock (ACCOUNT#lock, ACCOUNT#N#lock)
 * no other process holds, for as long as it runs.  Slot 0 is the
 * installation's id and the token file above; slot N an id of its own
 * (the id with N in its last digits) and the token file ACCOUNT#N.  With
 * every slot taken, the process goes without FAST and without a user
 * agent: the password, and a resource of the server's choosing.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define FAST_FILE_MAX 4096
/* a token this close to its expiry is not worth a round trip */
#define FAST_MARGIN_S 60
#define WHAT "the FAST token"
#define FAST_MECH_MAX (sizeof ((struct cli_fast *)0)->mech - 1)

#define CLI_FAST_SLOTS 8
#define SLOTS_KNOWN 16

/* The slot this process holds for each account it has asked about. */
static struct {
    char *bare;
    int slot; /* -1: every slot taken, or none to be had */
} slots[SLOTS_KNOWN];

/* The slot of account bare (see above), taken on first use: 0 to
 * CLI_FAST_SLOTS - 1, or -1. */
static int fast_slot(char *dir, const char *bare)
{
    char lock[4700];
    size_t i;
    int n, fd = -1, slot = -1;

    for (i = 0; i < SLOTS_KNOWN && slots[i].bare; i++)
        if (strcmp(slots[i].bare, bare) == 0)
            return slots[i].slot;
    if (i == SLOTS_KNOWN) /* a script with that many accounts */
        return -1;
    if (cli_private_mkdir(dir) == 0)
        for (n = 0; n < CLI_FAST_SLOTS && slot < 0; n++) {
            if (n)
                snprintf(lock, sizeof lock, "%s/%s#%d#lock", dir, bare, n);
            else
                snprintf(lock, sizeof lock, "%s/%s#lock", dir, bare);
            if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                           0600)) < 0)
                break;
            /* held until the process ends: the descriptor stays open */
            if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                slot = n;
            else
                close(fd);
        }
    if ((slots[i].bare = strdup(bare)))
        slots[i].slot = slot;
    return slot;
}

/* "$XDG_DATA_HOME/xmpctl/fast" into dir, and the file of the account's
 * slot into path; -1 when there is no such place, no account, or no
 * slot. */
static int fast_paths(const char *jid, char *dir, size_t dlen, char *path,
                      size_t plen)
{
    char *bare = cli_private_name(jid);
    int ok, slot = -1;

    ok = bare && cli_data_dir(dir, dlen, 0) == 0 &&
         strlen(dir) + sizeof "/fast" <= dlen;
    if (ok) {
        memcpy(dir + strlen(dir), "/fast", sizeof "/fast");
        ok = (slot = fast_slot(dir, bare)) >= 0;
    }
    if (ok && slot)
        ok = (size_t)snprintf(path, plen, "%s/%s#%d", dir, bare, slot) < plen;
    else if (ok)
        ok = (size_t)snprintf(path, plen, "%s/%s", dir, bare) < plen;
    free(bare);
    return ok ? 0 : -1;
}

const char *cli_fast_user_agent(const char *jid)
{
    static char id[37];
    char dir[4096], path[4600];
    const char *base = cli_user_agent_id();
    char *bare;
    int slot;

    if (!base || fast_paths(jid, dir, sizeof dir, path, sizeof path) < 0 ||
        !(bare = cli_private_name(jid)))
        return NULL;
    slot = fast_slot(dir, bare);
    free(bare);
    if (slot <= 0)
        return slot ? NULL : base;
    /* the node's last digit, plus the slot, modulo 16: another UUID of
     * the same form */
    memcpy(id, base, sizeof id);
    id[35] = "0123456789abcdef"[(strchr("0123456789abcdef", id[35]) -
                                 "0123456789abcdef" + slot) % 16];
    return id;
}

/* Printable ASCII, no space, 1 to max bytes. */
static int fast_printable(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

/* A whole number of seconds, >= 0. */
static int fast_seconds(const char *s, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0 || *s < '0' || *s > '9')
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* The file's lines into *f: 0, or -1 when they are not ours. */
static int fast_parse(char *b, size_t len, struct cli_fast *f)
{
    char *line, *next, *v;
    int first = 1, have = 0;

    for (line = b; line < b + len; line = next) {
        char *nl = memchr(line, '\n', (size_t)(b + len - line));

        if (!nl)
            return -1; /* written whole: it ends with a newline */
        *nl = '\0';
        next = nl + 1;
        if (first) {
            if (strcmp(line, "xmpctl-fast 1") != 0)
                return -1;
            first = 0;
            continue;
        }
        if (!(v = strchr(line, ' ')))
            return -1;
        *v++ = '\0';
        if (strcmp(line, "mech") == 0 &&
            fast_printable(v, FAST_MECH_MAX)) {
            memcpy(f->mech, v, strlen(v) + 1);
            have |= 1;
        } else if (strcmp(line, "token") == 0 &&
                   fast_printable(v, CLI_FAST_TOKEN_MAX)) {
            memcpy(f->token, v, strlen(v) + 1);
            have |= 2;
        } else if (strcmp(line, "expiry") == 0 &&
                   fast_seconds(v, &f->expiry) == 0) {
            have |= 4;
        } else if (strcmp(line, "saved") == 0 &&
                   fast_seconds(v, &f->saved) == 0) {
            have |= 8;
        } else {
            return -1;
        }
    }
    return have == 15 ? 0 : -1;
}

int cli_fast_load(const char *jid, int verbose, struct cli_fast *f)
{
    char dir[4096], path[4600];
    unsigned char *b;
    size_t len;
    int rc;

    memset(f, 0, sizeof *f);
    if (fast_paths(jid, dir, sizeof dir, path, sizeof path) < 0 ||
        !(b = cli_private_read(dir, path, WHAT, 1, FAST_FILE_MAX, &len)))
        return -1;
    rc = fast_parse((char *)b, len, f);
    cli_private_free(b, len);
    if (rc < 0) {
        cli_fast_clear(f);
        cli_warn("removing %s %s: it is damaged", WHAT, path);
        cli_private_shred(path, WHAT);
        return -1;
    }
    if (f->expiry && f->expiry < (int64_t)time(NULL) + FAST_MARGIN_S) {
        cli_fast_clear(f);
        if (verbose)
            cli_warn("removing %s %s: it has expired", WHAT, path);
        cli_private_shred(path, WHAT);
        return -1;
    }
    f->t.mech = f->mech;
    f->t.token = f->token;
    f->t.expiry = f->expiry;
    return 0;
}

void cli_fast_clear(struct cli_fast *f)
{
    explicit_bzero(f, sizeof *f);
}

void cli_fast_on_token(void *ud, const struct xmp_fast_token *t)
{
    const char *jid = ud;
    char dir[4096], path[4600];
    char buf[CLI_FAST_TOKEN_MAX + 256];
    int n;

    if (fast_paths(jid, dir, sizeof dir, path, sizeof path) < 0)
        return;
    if (!t) {
        cli_private_shred(path, WHAT);
        return;
    }
    if (!t->mech || !fast_printable(t->mech, FAST_MECH_MAX) || !t->token ||
        !fast_printable(t->token, CLI_FAST_TOKEN_MAX)) {
        cli_warn("not keeping the FAST token the server sent: it is "
                 "longer than %d bytes or not printable ASCII",
                 CLI_FAST_TOKEN_MAX);
        /* the old one is replaced by the server's: no use keeping it */
        cli_private_shred(path, WHAT);
        return;
    }
    n = snprintf(buf, sizeof buf,
                 "xmpctl-fast 1\nmech %s\ntoken %s\nexpiry %" PRId64
                 "\nsaved %" PRId64 "\n",
                 t->mech, t->token, t->expiry > 0 ? t->expiry : 0,
                 (int64_t)time(NULL));
    if (n > 0 && (size_t)n < sizeof buf)
        (void)cli_private_write(dir, path, buf, (size_t)n, WHAT);
    explicit_bzero(buf, sizeof buf);
}

int cli_fast_forget(const char *jid)
{
    char dir[4096], path[4600];
    struct stat st;

    if (fast_paths(jid, dir, sizeof dir, path, sizeof path) < 0 ||
        lstat(path, &st) < 0)
        return 0;
    cli_private_shred(path, WHAT);
    return 1;
}

/* xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx, lower case */
static int uuid_valid(const char *s, size_t len)
{
    size_t i;

    if (len != 36 || s[14] != '4' || !strchr("89ab", s[19]))
        return 0;
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!((s[i] >= '0' && s[i] <= '9') ||
                     (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

/* RFC 9562 §5.4: a version 4 UUID from 122 random bits; 0 or -1. */
static int uuid_make(char out[37])
{
    unsigned char r[16];
    size_t i;
    int n = 0;

    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    for (i = 0; i < 16; i++) {
        n += snprintf(out + n, 37 - (size_t)n, "%02x", r[i]);
        if (i == 3 || i == 5 || i == 7 || i == 9)
            out[n++] = '-';
    }
    out[36] = '\0';
    return 0;
}

/* The id in the file at path (in dir): 0, or -1 (warned, but for a file
 * that is not there: errno ENOENT). */
static int ua_read(const char *dir, const char *path, char id[37])
{
    unsigned char *b;
    size_t len;

    errno = 0;
    if (!(b = cli_private_read(dir, path, "the user-agent id", 0, 64,
                               &len))) {
        if (errno != ENOENT)
            errno = EINVAL;
        return -1;
    }
    if (len == 37 && b[36] == '\n' && uuid_valid((const char *)b, 36)) {
        memcpy(id, b, 36);
        id[36] = '\0';
        cli_private_free(b, len);
        return 0;
    }
    cli_private_free(b, len);
    cli_warn("ignoring the user-agent id %s: it is not a UUID; remove it "
             "to make a new one",
             path);
    errno = EINVAL;
    return -1;
}

const char *cli_user_agent_id(void)
{
    static char id[37];
    char dir[4096], path[4200], tmp[4200], line[38];
    int fd, ok;

    if (id[0])
        return id;
    if (cli_data_dir(dir, sizeof dir, 0) < 0 ||
        (size_t)snprintf(path, sizeof path, "%s/user-agent", dir) >=
            sizeof path)
        return NULL;
    if (ua_read(dir, path, id) == 0)
        return id;
    if (errno != ENOENT)
        return NULL;
    /* the first login: made whole in a file of its own, then linked
     * into place, which fails if another process was first; then its
     * id is ours */
    if (cli_private_mkdir(dir) < 0 || uuid_make(line) < 0)
        return NULL;
    line[36] = '\n';
    snprintf(tmp, sizeof tmp, "%s/.new.XXXXXX", dir);
    if ((fd = mkstemp(tmp)) < 0) {
        cli_warn("cannot write the user-agent id in %s: %s", dir,
                 strerror(errno));
        return NULL;
    }
    ok = fchmod(fd, 0600) == 0 && write(fd, line, 37) == 37 &&
         fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (ok && link(tmp, path) < 0 && errno != EEXIST)
        ok = 0;
    if (!ok)
        cli_warn("cannot write the user-agent id %s: %s", path,
                 strerror(errno));
    unlink(tmp);
    if (!ok || ua_read(dir, path, id) < 0) {
        id[0] = '\0';
        return NULL;
    }
    return id;
}
