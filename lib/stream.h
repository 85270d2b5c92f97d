/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * stream.h - the XML stream over a transport (RFC 6120 §4): opening and
 * restarting it, closing it, the bounded outgoing queue, reading with a
 * budget, and the clocks deadlines are measured from.  It knows streams,
 * not what is negotiated on them (negotiate.c does).  Private.
 */
#ifndef XMP_STREAM_H
#define XMP_STREAM_H

#include <stdint.h>

#include "buf.h"
#include "transport.h"
#include "xml.h"
#include "xmp.h"

/* Past this many queued bytes we stop reading from the peer: a peer that
 * sends requests and never reads the answers stalls instead of making us
 * buffer without end (see also the session's write-stall deadline). */
#define STREAM_OUT_HIGH (256 * 1024)
/* A queue this long is a caller that does not look at
 * xmp_session_writable(); the stream fails rather than grow.  Room for a
 * largest stanza above STREAM_OUT_HIGH. */
#define STREAM_OUT_MAX (4 * 1024 * 1024)
/* Bytes read from the transport per call, and per stream_io call: a peer
 * that writes without pause cannot keep us from our deadlines. */
#define STREAM_READ_CHUNK 16384
#define STREAM_READ_BUDGET (16 * STREAM_READ_CHUNK)

struct stream {
    struct xml_reader_cb cb; /* where elements go */
    void *ud;
    struct transport *tp;   /* NULL until connected */
    struct xml_reader *rd;
    struct buf out;         /* bytes the transport has not taken yet */
    struct buf left;        /* bytes read past a restart point */
    xmp_trace_fn trace;
    void *trace_ud;
    int open;               /* our header is out, our close is not */
    int paused;             /* the element callback asked for a restart */
    int eof;                /* the transport reported end of input */
    int peer_closed;        /* the peer's </stream:stream> was read */
    char *features;         /* the peer's last <stream:features/>, in
                               short names (stream_note_features) */
    int64_t last_in;        /* when bytes last arrived */
    int64_t out_since;      /* when the queue last became non-empty or
                               last shrank: the write-stall clock */
    int s2s;                /* stream_open opens a jabber:server stream
                               declaring the dialback namespace (a
                               session's probe of a server, only) */
};

/* Set up (no I/O); what the peer sends goes to cb/ud (an element callback
 * returning 1 pauses the stream for a restart: see st->paused).
 * XMP_ENOMEM on failure. */
enum xmp_err stream_init(struct stream *st, const struct xml_reader_cb *cb,
                         void *ud, xmp_trace_fn trace, void *trace_ud);
/* Close the transport (best effort, never blocking) and free. */
void stream_free(struct stream *st);
/* Give up the connection at once: our close tag if it can go, no wait. */
void stream_shutdown(struct stream *st);
/* Give up the connection without a word: the stream stays open on the
 * peer's side (a session to be resumed, XEP-0198 §5). */
void stream_drop(struct stream *st);
/* The same, with a stream error (RFC 6120 §4.9) before our close tag
 * when nothing half-sent sits in front of it. */
void stream_abort(struct stream *st, const char *error_xml);

/* Give up the connection after a best-effort write of everything queued
 * (a stream error and our close tag, say), never blocking. */
void stream_hang_up(struct stream *st);

enum xmp_err stream_attach(struct stream *st, int fd, const char *peer,
                           struct xmp_error *err);
/* Non-zero while a connection is attached. */
int stream_connected(const struct stream *st);
int stream_fd(const struct stream *st);

/* What the layers above need of TLS, without reaching into the transport:
 * the upgrade (start, then drive stream_handshake until XMP_OK), whether
 * it is in use, the facts of the connection (peer identity, certificate,
 * key digest), channel-binding data and the TLS session for the hints.
 * See the transport_ functions of the same names. */
enum xmp_err stream_start_tls(struct stream *st, const struct tls_params *p,
                              struct xmp_error *err);
enum xmp_err stream_handshake(struct stream *st, struct xmp_error *err);
int stream_is_tls(const struct stream *st);
void stream_tls_info(const struct stream *st, struct tls_info *info);
enum xmp_err stream_tls_session(const struct stream *st, unsigned char **out,
                                size_t *len);
enum xmp_err stream_channel_binding(const struct stream *st, const char *type,
                                    unsigned char *out, size_t *len,
                                    struct xmp_error *err);

/* Open (or reopen after STARTTLS or SASL) our stream: a fresh parser for
 * the peer's new stream, and our header on the queue.  RFC 6120 §4.7:
 * 'from' only once the stream is encrypted (pass NULL before). */
enum xmp_err stream_open(struct stream *st, const char *to, const char *from,
                         struct xmp_error *err);
/* Queue bytes; trace_text (NULL: the bytes) is what the trace shows.
 * XMP_ETEMP when the queue would pass STREAM_OUT_MAX. */
enum xmp_err stream_queue(struct stream *st, const char *data, size_t len,
                          const char *trace_text, struct xmp_error *err);
/* Queue our </stream:stream>; nothing may follow it (RFC 6120 §4.4). */
enum xmp_err stream_close(struct stream *st, struct xmp_error *err);

/* Move bytes: flush the queue, read and parse what has arrived (at most
 * STREAM_READ_BUDGET bytes, none while the queue is over
 * STREAM_OUT_HIGH or the stream is paused), flush again.  Elements go to
 * the reader's callbacks.  XMP_OK or an error; see st->eof, st->paused. */
enum xmp_err stream_io(struct stream *st, struct xmp_error *err);

/* Go on reading after the restart point the stream paused at. */
void stream_unpause(struct stream *st);
/* Tests: as if our header were out and the peer's, header[0..len), had
 * been read. */
enum xmp_err stream_adopt(struct stream *st, const char *header, size_t len,
                          struct xmp_error *err);

/* Record what the peer's <stream:features/> offer (RFC 6120 §4.3.2). */
enum xmp_err stream_note_features(struct stream *st,
                                  const struct xmp_node *features);

short stream_events(const struct stream *st);
/* Non-zero when stream_io has work that poll() cannot announce. */
int stream_pending(const struct stream *st);
/* Bytes waiting in the queue. */
size_t stream_queued(const struct stream *st);

#endif
