/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli.h - what the files of the xmpctl command share.  cli/ sees the
 * protocol layer only through xmp.h. */
#ifndef XMPCTL_CLI_H
#define XMPCTL_CLI_H

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "xmp.h"

/* Exit statuses: sysexits.h where it has a category, our own above 78
 * where it has none.  One table, documented in xmpctl(1). */
enum {
    EXIT_OK = 0,
    /* check: a requirement of --require or --min-days is not met (the
     * CRITICAL of a Nagios-style check) */
    EXIT_CHECK_UNMET = 2,
    EXIT_USAGE = 64,       /* EX_USAGE */
    EXIT_DATA = 65,        /* EX_DATAERR */
    EXIT_NOHOST = 68,      /* EX_NOHOST */
    EXIT_UNAVAILABLE = 69, /* EX_UNAVAILABLE */
    EXIT_SOFTWARE = 70,    /* EX_SOFTWARE */
    EXIT_OSERR = 71,       /* EX_OSERR */
    EXIT_IOERR = 74,       /* EX_IOERR */
    EXIT_TEMPFAIL = 75,    /* EX_TEMPFAIL */
    EXIT_PROTOCOL = 76,    /* EX_PROTOCOL */
    EXIT_NOPERM = 77,      /* EX_NOPERM: authentication failed */
    EXIT_CONFIG = 78,      /* EX_CONFIG */
    EXIT_TLS = 79,
    EXIT_REMOTE = 80,
    EXIT_NOTSENT = 81,
    EXIT_NORECEIPT = 82,
    EXIT_SCRIPT = 83, /* a step of a script was not as expected */
    EXIT_NOCRYPT = 84, /* encryption asked for and not possible */
    /* 128 + N: ended by signal N before the command could finish */
    EXIT_SIGNAL_BASE = 128
};

/* Outcomes and the one mapping from them to those statuses. */
#include "status.h"

/* Pseudo exit status from the option parsers: help or version printed
 * (or to print), exit 0. */
#define EXIT_HELP (-1)
#define EXIT_VERSION (-2)

#define CLI_DEFAULT_TIMEOUT_S 30
#define CLI_DEFAULT_KEEPALIVE_S 60

enum out_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_XML };

/* Everything the global options and the config file can set. */
struct cli_opts {
    char *jid, *account, *config, *resource, *server, *cafile, *mech;
    char *password_file, *password_command;
    char *pin, *client_cert, *client_key;
    char *cfg_password_command, *cfg_password; /* from the config file */
    char *proxy;     /* --proxy, proxy =, $ALL_PROXY: may hold a password */
    int direct_tls, insecure, verbose, timeout_s, tofu;
    int allow_downgrade;
    int no_cache;    /* --no-cache, cache = no */
    int no_session;  /* --no-session: never through a session holder */
    int keepalive_s; /* -1: the default */
    int tls_min;     /* --tls-min, tls_min: 12 or 13; 0: not given */
    int no_sasl2;     /* --no-sasl2, sasl2 = no */
    int no_fast;      /* --no-fast, fast = no: no token used or asked for */
    int fast_unbound; /* --fast-unbound, fast_unbound = yes */
    int queue;        /* queue = yes: send keeps what it cannot send */
    int no_omemo;     /* omemo = no: listen makes and publishes no
                         OMEMO device */
    enum out_format format;
};

/* A password held in memory.  pw is NUL-terminated and len its length;
 * pw NULL: none.  Whoever holds one drops it with cli_secret_wipe. */
struct cli_secret {
    char *pw;
    size_t len;
};

/* An account's FAST token (XEP-0484) as fast.c keeps it: mech and token
 * printable ASCII; t points into them once loaded (cli_fast_load).  Held
 * like a password: cli_fast_clear wipes it. */
#define CLI_FAST_TOKEN_MAX 1024
struct cli_fast {
    char mech[64];
    char token[CLI_FAST_TOKEN_MAX + 1];
    int64_t expiry, saved; /* seconds since the epoch; expiry 0: unknown */
    struct xmp_fast_token t; /* points into the above once loaded */
};

struct op;

/* A client: one account's session and the operation running on it. */
struct cli {
    struct cli_opts o;
    struct xmp_session *session;
    struct xmp_trust *trust; /* loaded once, shared by every session */
    struct op *op;           /* running on session, or NULL */
    struct cli_secret secret; /* the password, from before connecting */
    /* the hints of this client's last login, with its TLS session, for
     * its next session (cache.c); held like a secret */
    struct cli_secret hints_mem;
    int interactive;         /* stdin belongs to the prompt */
    int no_presence;         /* shell --no-presence */
    int warned_insecure;
    int pipeline;            /* this run's operation may go early */
    const char *label;       /* names the client in the trace, or NULL */
    /* shell --record: sees every trace line (script_record.c) */
    void (*record)(const struct cli *c, enum xmp_trace_dir dir,
                   const char *text, size_t len);
    void *record_state;
    int check;               /* login --check: main runs cli_check */
    int resume;              /* resume the session after a lost
                                connection (XEP-0198): set from the
                                command's row (cli_needs_apply) */
    int attached;            /* the session goes through the account's
                                session holder */
    /* the account's FAST token for the session being opened (fast.c),
     * wiped once the session has its copy */
    struct cli_fast fast;
    int fast_invalidate;     /* login --fast-invalidate */
    int csi_inactive;        /* the session starts inactive (XEP-0352) */
    /* session start|stop|status: main runs it instead of an operation */
    int (*run)(struct cli *c);
};

/* ---- options (opts.c) ---------------------------------------------- */

/* What an option's argument is: the shell completion offers its values. */
enum opt_arg {
    ARG_NONE,    /* the option takes no argument */
    ARG_TEXT,    /* anything: nothing to offer */
    ARG_FILE,    /* a file name */
    ARG_FORMAT,  /* one of cli_formats */
    ARG_MECH,    /* a SASL mechanism the protocol layer knows */
    ARG_ACCOUNT, /* a section of the config file */
    ARG_MSGTYPE  /* one of listen_types */
};

/* One option: the table drives the parser, the help text and the shell
 * completion alike. */
struct opt_def {
    const char *name;  /* long name */
    int id;            /* its short letter, or a number >= 256 */
    const char *arg;   /* its name in the help; NULL: takes no argument */
    const char *help;
    enum opt_arg kind; /* ARG_NONE exactly when arg is NULL */
};

/* A table of options and its length. */
struct opt_list {
    const struct opt_def *opts;
    size_t n;
};

/* The global options, and the ones every command takes (--help and
 * --format) besides its own. */
extern const struct opt_list cli_global_options, cli_common_options;
/* The values of --format, in the order of enum out_format, and of
 * listen --type (cmd_listen.c); NULL-terminated. */
extern const char *const cli_formats[], *const listen_types[];
/* The SHOW of presence (cmd_presence.c); NULL-terminated. */
extern const char *const presence_shows[];

int cli_parse_global(struct cli_opts *o, int argc, char **argv, int *next);
void cli_usage(FILE *f);
void cli_opts_free(struct cli_opts *o);
/* Parse a command's options (argv[0] is the command): before, between
 * or after the operands, until "--", which ends them; argv is reordered
 * in place, the operands last, in their order.  The options are the
 * command's own (its row of cli_commands) and the common ones; --format sets
 * o->format.  set() is called per option of the command's own and
 * returns 0 or an exit status (set may be NULL for a command without).
 * Returns 0 (operands from *next), an exit status, or EXIT_HELP after
 * printing the command's help to stdout. */
int cli_parse_cmd(struct cli_opts *o, const char *cmd, int argc, char **argv,
                  int *next, int (*set)(void *ud, int id, const char *arg),
                  void *ud);
/* Strict numbers for options: a whole number in [min, max], else a
 * usage error naming the option. */
int cli_number(const char *opt, const char *arg, long min, long max,
               long *out);

/* config.c: fill unset fields of o from the config file. */
int cli_load_config(struct cli_opts *o);
/* A value of --tls-min and tls_min: 12 for "1.2", 13 for "1.3"; -2 for
 * "1.3" on a build without TLS 1.3 (xmp_tls_has_13), -1 for anything
 * else. */
int cli_tls_version(const char *arg);
/* config.c: may only its owner (or root) change the file at path?  0, or
 * EXIT_CONFIG after saying why.  secret: nobody else may read it either. */
int cli_check_owner(const char *path, int secret);

/* known.c: the xmp_key_fn of --tofu (ud unused): the first key seen for a
 * domain is recorded in $XDG_DATA_HOME/xmpctl/known_servers, a later
 * different one refused (XMP_ETLS). */
enum xmp_err cli_known_key(void *ud, const char *domain, const char *key_type,
                           const char *pin, struct xmp_error *err);

/* downgrade.c: *yes when account jid once logged in with channel binding
 * (XMP_CB_USED, or XMP_CB_USED_EXPORTER for tls-exporter; an exit status
 * when the record cannot be trusted); remember that it used type (a
 * warning when that fails); remember it when the session of c used one. */
int cli_cb_remembered(const char *jid, int *yes);
int cli_cb_remember(const char *jid, const char *type);
void cli_cb_note_login(struct cli *c);
/* downgrade.c: $XDG_DATA_HOME/xmpctl (else ~/.local/share/xmpctl) into
 * dir, the home of what xmpctl keeps for good; with create, made (0700
 * where we make it).  -1 when there is no such place. */
int cli_data_dir(char *dir, size_t len, int create);
/* known.c: the keys known_servers records for domain, one "TYPE PIN"
 * a line in file order ("" for none); NULL when the file cannot be read.
 * Caller frees. */
char *cli_known_entries(const char *domain);
/* cache.c: the account's hints (xmp_session_hints) for the next
 * session: this client's own from its last login, else the account's
 * TLS 1.3 ticket file's, else the cache file's; NULL when there are none
 * or they may not be used (warned); free with cli_cache_free.  After a
 * login, keep the new ones (a TLS 1.2 session in memory only, a TLS 1.3
 * ticket in the data home).  cli_cache_context: what else the trust in
 * the server depends on (xmp_session_opts.hints_context; caller frees).
 * cli_cache_forget: wipe what c holds in memory. */
void *cli_cache_load(const struct cli *c, size_t *len);
void cli_cache_free(void *blob, size_t len);
void cli_cache_note_login(struct cli *c);
char *cli_cache_context(const struct cli *c);
void cli_cache_forget(struct cli *c);

/* private.c: the files kept for the user alone (cache, TLS ticket, FAST
 * token, user-agent id).  what names a file in warnings ("the cache").
 * cli_private_name: an account's file name, its bare JID in lower case
 * (caller frees; NULL when jid has none).  cli_private_owned: st is ours
 * and nobody else may write it.  cli_private_mkdir: mkdir -p, 0700 (0,
 * or -1 warned).  cli_private_read: the file at path in dir, if it and
 * dir are ours and nobody else may change them (nor read it, if
 * secret), at most max bytes: its bytes and *len (free with
 * cli_private_free), or NULL (warned, but for a missing file).
 * cli_private_slurp: the regular file open at fd, of at most max bytes,
 * *st as fstat leaves it.  cli_private_write: len bytes to path, whole
 * (0600, a new file synced and renamed over the old; dir made first):
 * 0, or -1 warned.  cli_private_shred: overwrite, then unlink (a warning
 * when it stays). */
struct stat;
char *cli_private_name(const char *jid);
int cli_private_owned(const struct stat *st);
int cli_private_mkdir(char *dir);
unsigned char *cli_private_read(const char *dir, const char *path,
                                const char *what, int secret, size_t max,
                                size_t *len);
unsigned char *cli_private_slurp(int fd, struct stat *st, size_t max,
                                 size_t *len);
void cli_private_free(void *b, size_t len);
int cli_private_write(char *dir, const char *path, const void *buf,
                      size_t len, const char *what);
void cli_private_shred(const char *path, const char *what);

/* fast.c: the account's XEP-0484 token, in
 * $XDG_DATA_HOME/xmpctl/fast/ACCOUNT (private.c's rules).
 * cli_fast_load: 0 with *f filled when there is one that can be used
 * (not expired, with a minute to spare; an expired or damaged one is
 * shredded, and --verbose says so: verbose), else -1 with *f empty.
 * cli_fast_clear: wipe *f.  cli_fast_on_token: the xmp_fast_fn of a
 * session (ud: the account's JID, borrowed for the session's life): a
 * token is saved over the old one (one that may not be kept is not, and
 * a warning says so), NULL shreds the file.  cli_fast_forget: shred the
 * account's file; 1 when there was one, else 0.
 * cli_user_agent_id: the installation's id (a UUID, XEP-0388
 * <user-agent id>), from $XDG_DATA_HOME/xmpctl/user-agent, made once;
 * NULL (warned) when it cannot be read or made. */
int cli_fast_load(const char *jid, int verbose, struct cli_fast *f);
void cli_fast_clear(struct cli_fast *f);
void cli_fast_on_token(void *ud, const struct xmp_fast_token *t);
int cli_fast_forget(const char *jid);
const char *cli_user_agent_id(void);
/* The user-agent id this process logs in to the account with: the
 * installation's, or that of another slot while other processes hold
 * it (fast.c); NULL: none to be had. */
const char *cli_fast_user_agent(const char *jid);

/* ---- the password (password.c) ------------------------------------------ */

/* The longest password we take, in bytes: what the protocol layer's
 * buffer holds (it hands the password callback 1024 bytes and a NUL). */
#define CLI_PASSWORD_MAX 1024


/* Overwrite and free the password (s or s->pw may be NULL). */
void cli_secret_wipe(struct cli_secret *s);

/* Move $XMPCTL_PASSWORD out of the environment into private memory (the
 * environment's copy is overwritten); call first thing, before any thread
 * or child process exists.  cli_password_drop_env wipes the copy. */
void cli_password_take_env(void);
void cli_password_drop_env(void);

/*
 * Get the password from the first source that is there (PASSWORD SOURCES
 * in xmpctl(1)), before connecting.  A password command gets timeout_ms
 * and is killed, with its process group, when it passes.  Returns EXIT_OK
 * with *s filled (s need not be initialised; the caller wipes it), or an
 * exit status after reporting one line with cli_error (*s empty).
 * Blocks: only the terminal prompt waits without a deadline, for a person
 * typing.
 */
int cli_password_obtain(const struct cli_opts *o, int timeout_ms,
                        struct cli_secret *s);

/* The password of a group chat room (send --room): from file, else
 * command, else $XMPCTL_ROOM_PASSWORD; none of them: EXIT_OK with s->pw
 * NULL.  Never the account's sources: the two are separate secrets.
 * Returns EXIT_OK or an exit status (reported). */
int cli_room_password_obtain(const char *file, const char *command,
                             int timeout_ms, struct cli_secret *s);

/* xmp_password_fn copying an obtained password: ud is a const struct
 * cli_secret *, borrowed and left as it was (wipe it when the session
 * no longer needs it). */
enum xmp_err cli_password_from(void *ud, char *buf, size_t len,
                               struct xmp_error *err);

/* xmp_password_fn that asks the sources itself, from inside the SASL
 * step (ud: the struct cli_opts; its --timeout bounds a command). */
enum xmp_err cli_password(void *ud, char *buf, size_t len,
                          struct xmp_error *err);

/* ---- messages and output (output.c, format.c) ------------------------- */

/* Called before anything is written to stdout or stderr: the prompt
 * takes itself off the screen there (and puts itself back later). */
extern void (*cli_before_output)(void);

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* While not NULL (the shell's running command), cli_error and cli_warn
 * write "xmpctl: NAME: ..." (once: not before a message that begins with
 * "NAME:" already). */
extern const char *cli_command_name;
/* Copy s to f, making control characters and the bidi controls visible:
 * what a server sends must never drive the terminal. */
void cli_print_sanitized(FILE *f, const char *s, size_t len);
/* "key          value" on stdout, as login and login --check print; the
 * value (certificate names, mechanisms, features) may come from the
 * server and is sanitized. */
void cli_kv_line(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Code points a terminal must not see raw: C0 (but tab), DEL, C1, the
 * bidi embedding and isolate controls, the line and paragraph
 * separators. */
int cli_unsafe_cp(uint32_t cp);
void cli_trace(void *ud, enum xmp_trace_dir dir, const char *text,
               size_t len);
/* XML text (len bytes) to emit in pieces, its secrets as [redacted]: the
 * text of every <password/> (a room's, XEP-0045 §7.2.6; an account's in
 * XEP-0077 registration) and the values of a data form field that is
 * private (XEP-0004 text-private) or whose var names a password or a
 * secret (muc#roomconfig_roomsecret, XEP-0045 §10.2); the text of
 * SASL2's <initial-response/> and <additional-data/> (XEP-0388) and the
 * token attribute of a FAST <token/> (XEP-0484); the value of an upload
 * slot's Authorization or Cookie <header/> (XEP-0363). */
void cli_redact(const char *text, size_t len,
                void (*emit)(void *ud, const char *s, size_t len), void *ud);

/* Print a stanza that arrived, one line in the chosen format, flushed.
 * Returns 0, or -1 when stdout cannot be written (reported). */
int out_stanza(const struct cli *c, const struct xmp_node *st);
/* A message that arrived end-to-end encrypted: decrypted (text; NULL
 * fields are left out), or refused (refused says why, and no body shows,
 * the fallback's neither). */
struct out_e2e {
    const char *encryption; /* "OMEMO" */
    uint32_t device;        /* the sender's */
    const char *fingerprint, *trust;
    const char *text;
    const char *refused;
};
int out_stanza_e2e(const struct cli *c, const struct xmp_node *st,
                   const struct out_e2e *e);
/* Print a roster item (RFC 6121 §2.1.2): text, a JSON object with its
 * groups as an array, or the <item/> itself.  0 or -1 as above. */
int out_roster_item(const struct cli *c, const struct xmp_node *item);
/* Does st carry a PubSub event notification (XEP-0060 §4.3)? */
int cli_is_pubsub_event(const struct xmp_node *st);

/* ---- the printer (printer.c) ------------------------------------------ */

/* A record to print: fields for JSON, a line and aligned lines for
 * text, an element for xml.  The strings it points to must live until
 * out_print. */
#define OUT_MAX_FIELDS 28
#define OUT_MAX_LINES 16
enum out_type { OUT_STR, OUT_INT, OUT_BOOL, OUT_LIST, OUT_OBJECT,
                OUT_OBJECTS };
struct out_record;
struct out_field {
    const char *key;
    enum out_type type;
    const char *s;                 /* OUT_STR */
    long long n;                   /* OUT_INT, OUT_BOOL */
    const char *const *list;       /* OUT_LIST: len strings */
    const struct out_record *sub;  /* OUT_OBJECT (len 1), OUT_OBJECTS */
    size_t len;
};
struct out_line {
    const char *key;
    char value[1024];
};
struct out_record {
    struct out_field f[OUT_MAX_FIELDS];
    size_t n;
    struct out_line line[OUT_MAX_LINES];
    size_t nlines;
    /* text: a line of its own form (a stanza's), before the lines */
    const char *text;
    /* xml: the element the record is about, on one line */
    const char *xml;
    /* a carriage return in a JSON string as \u000d, not \r */
    int cr_as_control;
    int overflow;
};

/* An empty record. */
void out_begin(struct out_record *r);
/* Fields, in the order given; a NULL string leaves its field out. */
void out_str(struct out_record *r, const char *key, const char *value);
void out_int(struct out_record *r, const char *key, long long value);
void out_bool(struct out_record *r, const char *key, int value);
void out_list(struct out_record *r, const char *key,
              const char *const *list, size_t len);
void out_object(struct out_record *r, const char *key,
                const struct out_record *sub);
void out_objects(struct out_record *r, const char *key,
                 const struct out_record *subs, size_t len);
/* A "key          value" line of the text form; the value is sanitized
 * when printed. */
void out_line(struct out_record *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Print r in format: its fields as one line of JSON (nothing when it
 * has none), its xml line (when it has one), or its text and lines.  Not flushed.  0, or -1 when stdout has an
 * error (not reported) or r overflowed (reported). */
int out_print(enum out_format format, const struct out_record *r);

/* pubsub_out.c: what pubsub prints, each record flushed (0, or -1
 * reported), and the forms it sends.  pubsub_print: r in format.
 * pubsub_print_item: an <item/> of node at service, its id and payload.
 * pubsub_print_form: the fields of a data form x (NULL: none).
 * pubsub_print_attrs: el as a record of kind, its attributes keys (node,
 * when el has none, from the caller).  pubsub_print_children: each
 * child name of parent so, its node from parent.  pubsub_describe:
 * "condition, pubsub-condition feature (text)" of an error reply.
 * pubsub_add_form: a submitted form of form_type with the fields of kv
 * (a key given more than once: one field, its values in order) under
 * parent: 0, or -1 (out of memory). */
struct pubsub_kv {
    char *key, *value; /* KEY=VALUE split at the first '=' */
};
int pubsub_print(enum out_format format, const struct out_record *r);
int pubsub_print_item(enum out_format format, const char *service,
                      const char *node, const struct xmp_node *item);
int pubsub_print_form(enum out_format format, const struct xmp_node *x);
int pubsub_print_attrs(enum out_format format, const char *service,
                       const char *kind, const struct xmp_node *el,
                       const char *const *keys, size_t nkeys,
                       const char *node);
int pubsub_print_children(enum out_format format, const char *service,
                          const struct xmp_node *parent, const char *name,
                          const char *kind, const char *const *keys,
                          size_t nkeys);
void pubsub_describe(const struct xmp_node *reply, char *buf, size_t len);
int pubsub_add_form(struct xmp_node *parent, const char *form_type,
                    const struct pubsub_kv *kv, size_t n);

/* input.c: all of stdin, at most max bytes: EXIT_OK with *out (caller
 * frees) and *len, -1 when there is more (nothing kept), or an exit
 * status (reported). */
int cli_read_stdin(size_t max, char **out, size_t *len);

/* stanza.c: is st (a message error) the bounce of our message 'id' sent
 * to 'to'?  Only from the recipient (any resource of its bare JID) or
 * the recipient's domain: anyone else may send errors with our ids. */
int cli_is_bounce(const struct xmp_node *st, const char *id,
                  const struct xmp_jid *to);

/* ---- send --file (upload.c): XEP-0363 HTTP File Upload ------------------ */

struct upload;

struct upload *cli_upload_new(void);
void cli_upload_free(struct upload *u);
/* Before connecting: open path and note its size, name and content
 * type.  EXIT_OK, or EXIT_DATA (said) when it cannot be read or is not a
 * regular file. */
int cli_upload_add(struct upload *u, const char *path);
void cli_upload_allow_http(struct upload *u);
size_t cli_upload_count(const struct upload *u);
/* The session is ready: find the service, then upload each file in
 * turn.  0 or an exit status. */
int cli_upload_start(struct upload *u, struct cli *c);
/* What to poll for the transfer, if one runs (fd -1: none). */
void cli_upload_prepare(struct upload *u, int *fd, short *events,
                        int64_t *deadline);
void cli_upload_step(struct upload *u);
/* Non-zero when it has ended: every file uploaded (*status EXIT_OK), or
 * one failed (*status its exit status, said) and no other is tried. */
int cli_upload_done(const struct upload *u, int *status);
/* Interrupted: end the progress line, if one stands. */
void cli_upload_stop(struct upload *u);
/* The GET URL of the i-th file, once uploaded. */
const char *cli_upload_url(const struct upload *u, size_t i);

/* ---- OMEMO (omemo_store.c, omemo_pep.c) -------------------------------- */

/* omemo_store.c: st over $XDG_DATA_HOME/xmpctl/omemo/ACCOUNT/ (private.c's
 * rules); 0, or -1 said.  cli_omemo_store_close frees what open made. */
int cli_omemo_store_open(const char *jid, struct xmp_omemo_store *st);
void cli_omemo_store_close(struct xmp_omemo_store *st);

/* The account's OMEMO device over its store. */
struct cli_omemo {
    struct xmp_omemo_store st;
    struct xmp_omemo *om;
    char *jid; /* our bare JID */
};
/* Open (creating it on first use) the device of account jid: EXIT_OK
 * with *out, or an exit status (said).  close takes NULL too. */
int cli_omemo_open(const char *jid, struct cli_omemo **out);
void cli_omemo_close(struct cli_omemo *o);

/* omemo_pep.c: PEP requests about OMEMO devices on a ready session, as
 * a batch: done(ud) is called once every request of the batch has been
 * answered (or timed out), from inside the last answer's callback; it
 * may add requests to the batch, or free it.  cli_pep_error is the
 * first failure, said in one line ("cannot fetch ...: why"), or NULL. */
struct cli_pep;
/* a JID's device lists, by namespace (index XMP_OMEMO_AXOLOTL or
 * XMP_OMEMO_V2); listed[ns] 0: no such list (item-not-found) */
struct cli_pep_devs {
    char *jid;
    int listed[3];
    uint32_t *ids[3];
    size_t n[3];
};
struct cli_pep *cli_pep_new(struct xmp_session *s, struct cli_omemo *o,
                            void (*done)(void *ud), void *ud);
void cli_pep_free(struct cli_pep *p);
/* Fetch jid's device lists in both namespaces.  0, or -1 (out of
 * memory, or the session would not send). */
int cli_pep_fetch_lists(struct cli_pep *p, const char *jid);
/* Fetch the bundle of jid's device in ns. */
int cli_pep_fetch_bundle(struct cli_pep *p, const char *jid,
                         enum xmp_omemo_ns ns, uint32_t device);
/* Publish our bundle, then our device in ns's device list (merged into
 * the list there), both open to anyone (pubsub#access_model); a node
 * another client made with other settings is configured and the item
 * published again. */
int cli_pep_publish(struct cli_pep *p, enum xmp_omemo_ns ns);
/* Publish our bundle in ns again (a pre-key was used up): at once, in
 * one request, so that it goes out before a session that ends now. */
int cli_pep_publish_bundle(struct cli_pep *p, enum xmp_omemo_ns ns);
size_t cli_pep_pending(const struct cli_pep *p);
const char *cli_pep_error(const struct cli_pep *p);
/* What was fetched: NULL when not (yet). */
const struct cli_pep_devs *cli_pep_devices(const struct cli_pep *p,
                                           const char *jid);
const struct xmp_node *cli_pep_bundle(const struct cli_pep *p,
                                      const char *jid, enum xmp_omemo_ns ns,
                                      uint32_t device);

/* ---- operations -------------------------------------------------------- */

/*
 * An operation is a command running on an open session.  It never loops:
 * a driver (the one-shot command, the shell) drives the loop (cli_drive)
 * over its sessions, decides what signals mean, and calls the operation
 * back.  An operation ends by calling op_done.
 */
struct op;

struct op_class {
    const char *name;
    /* The session is ready: register handlers, send.  Returns 0 or an
     * exit status (the operation is then done). */
    int (*start)(struct op *op);
    /* Before each poll: set fd/events/deadline from the current state. */
    void (*prepare)(struct op *op);
    void (*io)(struct op *op, short revents); /* op->fd is ready */
    void (*timer)(struct op *op);             /* op->deadline passed */
    void (*interrupt)(struct op *op, int sig); /* SIGINT, SIGTERM, SIGHUP */
    /* The session closed or failed under a running operation. */
    void (*session_end)(struct op *op);
    /* Forget what the last attempt did (op->again): the driver runs it
     * once more on a new session.  NULL: never asked. */
    void (*restart)(struct op *op);
    /* The run ends with status (a one-shot command's, before free):
     * keep what was not delivered for later and return the status to
     * exit with.  NULL: status stands. */
    int (*unsent)(struct op *op, int status);
    void (*free)(struct op *op);
    /* Whether a failed polite close changes a zero status. */
    int close_matters;
};

struct op {
    const struct op_class *cls;
    struct cli *c;
    int done, status;
    int fd;           /* another descriptor to watch (stdin), -1: none */
    short events;
    int64_t deadline; /* the operation's own, -1: none */
    int shows_incoming; /* prints what arrives itself (the prompt won't) */
    /* what this run asks of the row's needs (struct cmd_needs), set by
     * the command's parser: it stays connected (raw --stay, send
     * --lines); no initial presence (--no-presence) */
    int stays, no_presence;
    /* it shows contacts' presence: through a session holder, the
     * presence the holder has seen is said to it (CLI_HOLDER_NS) */
    int hears_presence;
    /* it may start before the server confirms the login (XEP-0509
     * pipelining): it sends and waits for acknowledgement, and needs
     * nothing of the session's identity */
    int early;
    /* what went early was refused with the login, before the server
     * took any of it: run once more, after a plain login */
    int again;
};

/* Finish the operation with an exit status (the first call counts). */
void op_done(struct op *op, int status);
/* Report the session's failure and finish with its exit status. */
void op_session_failed(struct op *op);

/* ---- the loop (loop.c) ----------------------------------------------- */

/* Catch SIGINT, SIGTERM and SIGHUP (cli_signals), or one more signal,
 * into the process's signal pipe. */
int cli_signals(void);
int cli_catch_signal(int sig);
/* Create and start c's session (replacing one that ended); connecting
 * goes on in the loop.  Returns 0 or an exit status (reported). */
int cli_session_open(struct cli *c);
/* Report why c's session ended and return the exit status for it. */
int cli_session_status(struct cli *c);
/* Closed or failed (or none)? */
int cli_session_over(const struct xmp_session *s);
/* Before each poll: tell c's running operation that its session ended,
 * or let it prepare.  The driver then checks what it waits for. */
void cli_settle(struct cli *c);

#define CLI_POLL_EXTRA_MAX 64
struct cli_poll {
    struct pollfd *extra; /* the driver's own descriptors; revents set */
    size_t nextra;
    int64_t deadline;     /* the driver's own (xmp_now_ms), -1: none */
    int sig;              /* out: a signal caught (SIGTERM or SIGHUP
                             before SIGINT), 0: none */
    int winch, stop;      /* out: SIGWINCH, SIGTSTP caught (when asked
                             for with cli_catch_signal) */
};
/* One turn: poll the sessions of cs[0..n), their running operations'
 * descriptors, the signal pipe and lp->extra until something is ready
 * or a deadline passes, then step the sessions and give the operations
 * their input and timers.  Signals are only reported (lp->sig): what
 * they mean is the driver's decision.  Returns 0, or -1 when poll
 * failed (reported). */
int cli_poll(struct cli *const *cs, size_t n, struct cli_poll *lp);

/* What a driver's hook says: poll (the hook may have set the turn's
 * extra descriptors and deadline in lp), turn again at once without
 * polling, or the drive is over. */
enum cli_turn { CLI_POLL, CLI_AGAIN, CLI_DONE };

/* A driver of the loop: which clients it polls, and what it does around
 * each turn.  Everything a driver needs besides is behind ud. */
struct cli_driver {
    struct cli **cs; /* the clients, cs[0..n); before may change both */
    size_t n;
    /* After the clients' operations are settled (cli_settle), before
     * each poll: is the drive over, and what does this turn wait for? */
    enum cli_turn (*before)(struct cli_driver *d, struct cli_poll *lp);
    /* After each poll (NULL: nothing to do): lp says what came.  A
     * signal left in lp->sig ends the drive. */
    enum cli_turn (*after)(struct cli_driver *d, struct cli_poll *lp);
    void *ud;
    int signals; /* catch SIGINT, SIGTERM and SIGHUP before the first
                    turn (cli_signals) */
};
/* The program's one loop: turn until a hook says CLI_DONE (0), or a
 * signal came that no hook took (its number), or the loop failed (-1,
 * reported). */
int cli_drive(struct cli_driver *d);

struct command;
/* The one-shot driver: open the session cmd's row asks for, run op on
 * it, close politely; returns the exit status and frees op. */
int cli_run(struct cli *c, const struct command *cmd, struct op *op);
/* Is stdin worth watching for end of input?  Not when it is /dev/null
 * or closed, nor when the prompt owns it: a command started that way
 * runs until its other ends. */
int cli_stdin_watchable(const struct cli *c);
/* The prompt (repl.c): log in, then read commands and XML from the
 * terminal until /quit or end of input.  Returns the exit status. */
int cli_repl(struct cli *c);
/* script_record.c: shell --record FILE; start once the account is known
 * (returns 0 or an exit status, reported), end when the shell ends. */
int script_record_start(struct cli *c, const char *path);
void script_record_end(struct cli *c);
/* login --check (check.c): log in to every server of the domain in turn
 * and report on each.  Returns the exit status. */
int cli_check(struct cli *c);
/* Whole days from now until ci expires (negative once it has). */
long long cli_cert_days_left(const struct xmp_cert_info *ci, time_t now);
/* The certificates of i into r: an object each in chain (i->chain_len
 * records, the caller's, living until out_print) and a "chain" line
 * each. */
void cli_check_chain(struct out_record *r, struct out_record *chain,
                     const struct xmp_session_info *i, time_t now);
/* check.c: the check's one-session driver (0, the number of a signal
 * that came, or -1 reported), and two turns for it: until c's session
 * is ready or over; until it is over or the int64_t deadline in d->ud
 * (ms, xmp_now_ms) passes. */
int cli_check_drive(struct cli *c,
                    enum cli_turn (*before)(struct cli_driver *,
                                            struct cli_poll *),
                    void *ud);
enum cli_turn cli_check_until_ready(struct cli_driver *d, struct cli_poll *lp);
enum cli_turn cli_check_until_closed(struct cli_driver *d,
                                     struct cli_poll *lp);
/* stanza.c: is word one of the space-separated words of list (NULL:
 * none)? */
int cli_word_listed(const char *list, const char *word);
/* compliance.c: log in as c's account, and report which requirements
 * of XEP-0479 (2023) for a server domain announces through disco and
 * the stream features (direct_tls: a direct TLS port answered).
 * Returns the exit status. */
int cli_check_compliance(struct cli *c, const char *domain, int direct_tls);

/* ---- commands ------------------------------------------------------------ */

/*
 * What a command needs around its session: data in its row of
 * cli_commands.  The drivers open the session it asks for (or none) and
 * call cli_ready (ready.c) once the session is ready, which does the
 * work after the login that the row names, the same way for every
 * driver: the one-shot command, a command at the prompt, the prompt
 * itself and the session holder.
 */
enum cmd_session {
    CMD_SESSION_NONE, /* none */
    CMD_SESSION_OWN,  /* logs in itself, never through a session holder */
    CMD_SESSION_ANY   /* its own, or through the account's session holder */
};
enum cmd_prompt {
    PROMPT_RUNS,    /* at the prompt as on the command line */
    PROMPT_REFUSES, /* refuses to run at the prompt: the command checks
                       c->interactive and says why in its own words */
    PROMPT_IS       /* the prompt itself */
};
enum cmd_presence {
    PRESENCE_NONE,    /* none after the login */
    PRESENCE_INITIAL, /* initial presence (RFC 6121 §4.2) after the
                         login, unless --no-presence */
    PRESENCE_OWN      /* its own, which it builds (session start's SHOW);
                         cli_ready sends the one it is given */
};
enum cmd_keepalive {
    KEEPALIVE_NONE,     /* in and out: no ping */
    KEEPALIVE_IF_STAYS, /* when this run stays connected (op->stays):
                           --keepalive, CLI_DEFAULT_KEEPALIVE_S when not
                           given, 0: none */
    KEEPALIVE_ON,       /* the same, always */
    KEEPALIVE_FORCED    /* always, and 0 means the default too: a held
                           session must notice a loss */
};
enum cmd_resume {
    RESUME_NONE,
    RESUME_IF_STAYS, /* a lost connection is resumed (XEP-0198) when this
                        run stays connected */
    RESUME_ON        /* always */
};
enum cmd_roster {
    ROSTER_NONE,
    ROSTER_BEFORE_PRESENCE, /* asked before the presence: answered
                               before the contacts' presence comes */
    ROSTER_AFTER_PRESENCE
};
struct cmd_needs {
    enum cmd_session session;
    enum cmd_prompt prompt;
    enum cmd_presence presence;
    /* what it sends may change our presence; through a session holder,
     * the held one: its initial presence is sent there too.  Without
     * it, a command borrows the held presence: through a holder it
     * sends no initial presence (listen, the shell) */
    int sets_presence;
    enum cmd_keepalive keepalive;
    enum cmd_resume resume;
    enum cmd_roster roster;
    /* logs in again after a loss (the prompt's /reconnect, the holder):
     * the password stays in memory for that */
    int relogin;
};

/* Each parses its arguments and checks its input (before anything
 * connects), then hands back an operation, or NULL with an exit status
 * (EXIT_HELP: help printed). */
typedef int (*cli_command_fn)(struct cli *c, int argc, char **argv,
                              struct op **op);
struct command {
    const char *name;
    cli_command_fn fn;
    const char *args;    /* synopsis of its arguments; "a|b": one of */
    const char *summary; /* one line */
    const struct opt_list *opts; /* its own options; NULL: none */
    unsigned flags;              /* CMD_* */
    struct cmd_needs needs;
};
/* Left out of the command list of --help (documented in xmpctl(1)). */
#define CMD_HIDDEN 1u

/* ---- after the login (ready.c) ------------------------------------------- */

/* Before the session is opened: what the row asks of it (a session of
 * its own; resumption), for a run that stays connected or not. */
void cli_needs_apply(struct cli *c, const struct cmd_needs *n, int stays);
/* The login succeeded: the password is wiped (unless a resumption or a
 * new login may need it again) and the login noted (downgrade.c,
 * cache.c). */
void cli_logged_in(struct cli *c, const struct cmd_needs *n);

/* What one call of cli_ready is given beyond the row. */
struct cli_ready_args {
    int stays;       /* this run stays connected (op->stays) */
    int no_presence; /* --no-presence */
    /* through a session holder, instead of an initial presence: ask for
     * the contacts' presence and the subscription requests it keeps
     * (the command shows them) */
    int replay;
    /* PRESENCE_OWN: the presence to send (borrowed); NULL: none now */
    const struct xmp_node *presence;
    uint64_t presence_seq; /* out: its number (xmp_session_send) */
    /* the roster's answer (the row's ROSTER_*); NULL: not asked now */
    xmp_iq_fn roster;
    void *roster_ud;
    int roster_failed; /* out: the request could not be sent */
};
/* The session of c has become ready for a command of needs n: set the
 * keepalive, send the presence and ask for the roster, in the order
 * the row says.  Returns 0; EXIT_OSERR (out of memory, nothing said);
 * or -1 when the session did not take a stanza (xmp_session_error says
 * why; nothing said). */
int cli_ready(struct cli *c, const struct cmd_needs *n,
              struct cli_ready_args *a);
/* An operation has started on a ready session (op->stays and
 * op->no_presence say what this run asks): cli_ready for it.  Returns 0
 * or an exit status (reported). */
int cli_op_ready(struct op *op, const struct cmd_needs *n);

/* queue.c: messages kept for later (send --queue), one file each under
 * $XDG_STATE_HOME/xmpctl/queue/, set aside ones under failed/.  A
 * recipient's id is its message's id and XEP-0359 origin-id. */
struct queued_to {
    char *jid, *id;
};
struct queued {
    char name[40]; /* the file's: YYYYMMDDTHHMMSS.NNNNNNNNNZ-8 hex; "" until
                      written */
    char *account; /* the bare JID it is sent from */
    time_t queued;
    char *type, *subject, *thread; /* NULL: none */
    struct queued_to *to;
    size_t nto;
    char *text;
    size_t len;
    char *reason; /* set aside: why */
};
/* The directory (failed: its failed/); -1 when there is no place. */
int cli_queue_dir(char *dir, size_t len, int failed);
int cli_queue_is_name(const char *name);
/* Add a recipient; -1 when out of memory or too many. */
int cli_queue_add_to(struct queued *q, const char *jid, const char *id);
/* Write q whole (named and timed now unless it has a name), in failed/
 * with its reason when failed: 0, or -1 warned. */
int cli_queue_write(struct queued *q, int failed);
/* Read an entry: 0, or -1 (gone, not ours to trust, or unreadable:
 * warned but for gone). */
int cli_queue_read(const char *name, int failed, struct queued *q);
void cli_queue_clear(struct queued *q);
/* The entries' names in the order of queueing (caller frees with
 * cli_queue_names_free): 0, or -1. */
int cli_queue_names(int failed, char ***names, size_t *n);
void cli_queue_names_free(char **names, size_t n);
/* 0, or -1 (gone: quietly). */
int cli_queue_remove(const char *name, int failed);
/* Has the queue's directory changed since *stamp?  1 (and *stamp set). */
int cli_queue_changed(struct timespec *stamp);

/* queue_flush.c: send an account's queued messages on a ready session,
 * in order, an entry at a time; what the server answered for goes, what
 * bounced for good is set aside, the rest stays.  report (may be NULL)
 * hears of each recipient as it is settled. */
enum qflush_result { QFLUSH_SENT, QFLUSH_FAILED, QFLUSH_KEPT };
typedef void (*qflush_report_fn)(void *ud, const char *name, const char *to,
                                 enum qflush_result r, const char *why);
struct qflush_counts {
    size_t sent, aside, left, untried;
};
struct qflush;
/* NULL when another flush holds the queue (*busy set) or on failure
 * (warned). */
struct qflush *qflush_new(struct xmp_session *s, const char *account,
                          qflush_report_fn fn, void *ud, int *busy);
/* Go on as far as the server's answers allow: 0 working, 1 done, -1
 * stopped (the session is no longer ready, or an acknowledgement did not
 * come). */
int qflush_step(struct qflush *f);
void qflush_counts(const struct qflush *f, struct qflush_counts *n);
void qflush_free(struct qflush *f);

/* commands.c: the command table */
extern const struct command cli_commands[];
extern const size_t cli_ncommands;
const struct command *cli_command(const char *name);

int cmd_login(struct cli *c, int argc, char **argv, struct op **op);
int cmd_send(struct cli *c, int argc, char **argv, struct op **op);
int cmd_check(struct cli *c, int argc, char **argv, struct op **op);
int cmd_raw(struct cli *c, int argc, char **argv, struct op **op);
int cmd_listen(struct cli *c, int argc, char **argv, struct op **op);
int cmd_roster(struct cli *c, int argc, char **argv, struct op **op);
int cmd_pubsub(struct cli *c, int argc, char **argv, struct op **op);
int cmd_presence(struct cli *c, int argc, char **argv, struct op **op);
int cmd_queue(struct cli *c, int argc, char **argv, struct op **op);
/* script drives its own clients and hands back no operation: it returns
 * the exit status of the scripts it ran. */
int cmd_script(struct cli *c, int argc, char **argv, struct op **op);
/* shell hands back no operation: it sets c->interactive, and main runs
 * cli_repl instead of an operation. */
int cmd_shell(struct cli *c, int argc, char **argv, struct op **op);
/* completion.c: prints a script, hands back no operation */
int cmd_completion(struct cli *c, int argc, char **argv, struct op **op);
/* cmd_session.c: session start|stop|status hands back no operation: it
 * sets c->run, which main runs once the config is read. */
int cmd_session(struct cli *c, int argc, char **argv, struct op **op);

/* The namespace of the requests only a session holder answers, never
 * the server: <iq type='get'><replay xmlns=CLI_HOLDER_NS/></iq>, with no
 * 'to', is answered by what an initial presence would have brought from
 * the server (what the holder has seen of contacts' presence, and the
 * subscription requests nobody answered), then by its result. */
#define CLI_HOLDER_NS "xmpctl:holder"

/* holder_paths.c: the session holder's paths for the account of o (the
 * directory made and checked when make_dir): 0, or an exit status
 * (reported unless quiet). */
struct holder_paths {
    char dir[128], sock[320], lock[320], status[320], log[320];
};
int holder_paths(const struct cli_opts *o, int make_dir, int quiet,
                 struct holder_paths *hp);
/* Does the holder at hp run with the options of o that decide the
 * server and how it is verified (--server, --cafile, --pin, --insecure,
 * --mech, ...)?  1: yes; 0: no, and *differs names the first that
 * differs (NULL: the holder has written no status yet). */
int holder_same_params(const struct cli_opts *o, const struct holder_paths *hp,
                       const char **differs);
/* The lines of those options, as the holder writes them at the end of
 * its status file (at most HOLDER_PARAMS_MAX bytes with the NUL). */
#define HOLDER_PARAMS_MAX 16384
void holder_params(const struct cli_opts *o, char *buf, size_t len);
/* From the login on, what the server sends is the holder's; then the
 * work after the login of session start's row n (cli_ready): the roster
 * before our presence (which the server answers with our contacts'),
 * presence (its number in *seq).  Returns as cli_ready.  holder_done:
 * what is left of it when start ends. */
int holder_watch(struct cli *c, const struct holder_paths *hp,
                 const struct cmd_needs *n, const struct xmp_node *presence,
                 uint64_t *seq);
void holder_done(void);
/* Run the holder on c (logged in and present, by session start): the
 * loop on listen_fd, the socket at hp->sock, until SIGTERM or stop;
 * presence_xml is the presence start sent, to send again after a
 * reconnect.  Returns the exit status. */
int holder_run(struct cli *c, int listen_fd, const struct holder_paths *hp,
               const char *presence_xml);

/* The commands' own options, for their rows of cli_commands. */
extern const struct opt_list raw_options, listen_options, shell_options,
    roster_options, presence_options, script_options, login_options,
    session_options;
extern const struct opt_list queue_options;
extern const struct opt_list send_options;
extern const struct opt_list check_options;
extern const struct opt_list pubsub_options;

#endif
