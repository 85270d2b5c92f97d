/* SPDX-License-Identifier: GPL-3.0-or-later */
/* stanza.c - helpers over stanzas that every layer above xml can use. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmp.h"

void xmp_error_describe(const struct xmp_node *n, char *buf, size_t len)
{
    const struct xmp_node *e = xmp_node_child(n, NULL, "error"), *c;
    const char *cond = NULL;
    char *text = NULL;

    /* A stanza carries <error/>; <stream:error/> and SASL <failure/> are
     * the error themselves (RFC 6120 §4.9, §6.5, §8.3). */
    if (!e)
        e = n;
    for (c = xmp_node_first(e); c; c = xmp_node_next(c)) {
        if (strcmp(xmp_node_name(c), "text") == 0) {
            if (!text)
                text = xmp_node_text(c);
        } else if (!cond) {
            cond = xmp_node_name(c);
        }
    }
    snprintf(buf, len, "%s%s%s%s", cond ? cond : "undefined-condition",
             text && *text ? " (" : "", text && *text ? text : "",
             text && *text ? ")" : "");
    free(text);
}
