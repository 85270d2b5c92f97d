/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tlsfake.h - see tlsfake.c. */
#ifndef XMP_TLSFAKE_H
#define XMP_TLSFAKE_H

/* Non-zero once the fake, not the real backend, has started "TLS". */
int tlsfake_used(void);

#endif
