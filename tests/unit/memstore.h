/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * memstore.h - an OMEMO store (struct xmp_omemo_store) in memory, for the
 * tests (header-only).  memstore_save and memstore_load keep it in one
 * file between runs of a test program: NAME, a space, LENGTH, a line
 * feed, then the bytes.
 */
#ifndef XMP_MEMSTORE_H
#define XMP_MEMSTORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmp.h"

struct memstore {
    struct memblob {
        char *name;
        unsigned char *data;
        size_t len;
    } *v;
    size_t n;
    int fail; /* make every call fail */
    struct xmp_omemo_store st;
};

static struct memblob *memstore_find(struct memstore *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].name, name) == 0)
            return &m->v[i];
    return NULL;
}

static inline enum xmp_err memstore_get(void *ud, const char *name,
                                 unsigned char **data, size_t *len)
{
    struct memstore *m = ud;
    struct memblob *b = memstore_find(m, name);

    *data = NULL;
    *len = 0;
    if (m->fail)
        return XMP_EIO;
    if (!b)
        return XMP_OK;
    if (!(*data = malloc(b->len ? b->len : 1)))
        return XMP_ENOMEM;
    memcpy(*data, b->data, b->len);
    *len = b->len;
    return XMP_OK;
}

static inline enum xmp_err memstore_put(void *ud, const char *name,
                                 const unsigned char *data, size_t len)
{
    struct memstore *m = ud;
    struct memblob *b = memstore_find(m, name);
    unsigned char *d;

    if (m->fail)
        return XMP_EIO;
    if (!(d = malloc(len ? len : 1)))
        return XMP_ENOMEM;
    memcpy(d, data, len);
    if (!b) {
        struct memblob *nv = realloc(m->v, (m->n + 1) * sizeof *nv);
        if (!nv) {
            free(d);
            return XMP_ENOMEM;
        }
        m->v = nv;
        b = &m->v[m->n];
        if (!(b->name = strdup(name))) {
            free(d);
            return XMP_ENOMEM;
        }
        b->data = NULL;
        m->n++;
    }
    free(b->data);
    b->data = d;
    b->len = len;
    return XMP_OK;
}

static inline enum xmp_err memstore_del(void *ud, const char *name)
{
    struct memstore *m = ud;
    struct memblob *b = memstore_find(m, name);

    if (m->fail)
        return XMP_EIO;
    if (b) {
        free(b->name);
        free(b->data);
        *b = m->v[--m->n];
    }
    return XMP_OK;
}

static inline enum xmp_err memstore_list(void *ud, const char *prefix,
                                  void (*each)(void *arg, const char *name),
                                  void *arg)
{
    struct memstore *m = ud;

    if (m->fail)
        return XMP_EIO;
    for (size_t i = 0; i < m->n; i++)
        if (strncmp(m->v[i].name, prefix, strlen(prefix)) == 0)
            each(arg, m->v[i].name);
    return XMP_OK;
}

static inline void memstore_init(struct memstore *m)
{
    memset(m, 0, sizeof *m);
    m->st.ud = m;
    m->st.get = memstore_get;
    m->st.put = memstore_put;
    m->st.del = memstore_del;
    m->st.list = memstore_list;
}

static inline void memstore_free(struct memstore *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].name);
        free(m->v[i].data);
    }
    free(m->v);
    m->v = NULL;
    m->n = 0;
}

/* How many blobs begin with prefix. */
static inline size_t memstore_count(struct memstore *m, const char *prefix)
{
    size_t k = 0;

    for (size_t i = 0; i < m->n; i++)
        if (strncmp(m->v[i].name, prefix, strlen(prefix)) == 0)
            k++;
    return k;
}

/* Remove the blobs that begin with prefix. */
static inline void memstore_drop(struct memstore *m, const char *prefix)
{
    for (size_t i = 0; i < m->n;)
        if (strncmp(m->v[i].name, prefix, strlen(prefix)) == 0)
            memstore_del(m, m->v[i].name);
        else
            i++;
}

static inline int memstore_save(struct memstore *m, const char *path)
{
    FILE *f = fopen(path, "wb");
    int ok = f != NULL;

    for (size_t i = 0; ok && i < m->n; i++)
        ok = fprintf(f, "%s %zu\n", m->v[i].name, m->v[i].len) > 0 &&
             fwrite(m->v[i].data, 1, m->v[i].len, f) == m->v[i].len;
    if (f && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* 0 (also when there is no such file yet) or -1. */
static inline int memstore_load(struct memstore *m, const char *path)
{
    FILE *f = fopen(path, "rb");
    char name[XMP_OMEMO_NAME_MAX + 1], line[XMP_OMEMO_NAME_MAX + 32];
    unsigned char *d;
    char *sp, *end;
    size_t len;

    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (!(sp = strchr(line, ' ')) || (size_t)(sp - line) > XMP_OMEMO_NAME_MAX)
            break;
        memcpy(name, line, (size_t)(sp - line));
        name[sp - line] = '\0';
        len = strtoul(sp + 1, &end, 10);
        if (*end != '\n' || !(d = malloc(len ? len : 1)))
            break;
        if (fread(d, 1, len, f) != len || memstore_put(m, name, d, len)) {
            free(d);
            break;
        }
        free(d);
    }
    len = (size_t)ferror(f) + (size_t)!feof(f);
    fclose(f);
    return len ? -1 : 0;
}

#endif
