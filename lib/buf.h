/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buf.h - a growable byte buffer, always NUL-terminated. */
#ifndef XMP_BUF_H
#define XMP_BUF_H

#include <stddef.h>

struct buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

/* Each returns 0 on success, -1 on ENOMEM (the buffer is left as it was). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes. */
void buf_consume(struct buf *b, size_t n);
/* Hand the contents to the caller (NUL-terminated, never NULL unless
 * ENOMEM) and reset b. */
char *buf_take(struct buf *b);
void buf_free(struct buf *b);

#endif
