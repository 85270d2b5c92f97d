/* SPDX-License-Identifier: GPL-3.0-or-later */
/* stanza.c - what the commands need to know about stanzas they get. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "cli.h"

int cli_is_bounce(const struct xmp_node *st, const char *id,
                  const struct xmp_jid *to)
{
    const char *sid = xmp_node_attr(st, "id"), *from = xmp_node_attr(st, "from");
    struct xmp_jid f;
    const struct xmp_jid bare = { to->local, to->domain, NULL };
    const struct xmp_jid dom = { NULL, to->domain, NULL };
    int ours;

    if (!id || !to->domain || !sid || strcmp(sid, id) != 0 || !from ||
        xmp_jid_parse(from, &f, NULL) != XMP_OK)
        return 0;
    ours = xmp_jid_match(&bare, &f) || xmp_jid_equal(&dom, &f);
    xmp_jid_clear(&f);
    return ours;
}

int cli_word_listed(const char *list, const char *word)
{
    size_t n = strlen(word);
    const char *p = list;

    if (!list)
        return 0;
    while ((p = strstr(p, word))) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}
