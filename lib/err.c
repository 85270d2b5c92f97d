/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
/* err.c - the error value every layer hands upwards, and the clock. */
#include "xmp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum xmp_err xmp_error_set(struct xmp_error *err, enum xmp_err code,
                           const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void xmp_error_clear(struct xmp_error *err)
{
    if (err) {
        err->code = XMP_OK;
        err->msg[0] = '\0';
    }
}

const char *xmp_err_name(enum xmp_err code)
{
    switch (code) {
    case XMP_OK: return "ok";
    case XMP_EUSAGE: return "usage";
    case XMP_EDATA: return "bad input data";
    case XMP_ENOHOST: return "host not found";
    case XMP_ETEMP: return "temporary failure";
    case XMP_EUNREACH: return "unreachable";
    case XMP_ETLS: return "tls";
    case XMP_EAUTH: return "authentication";
    case XMP_EPROTO: return "protocol";
    case XMP_EREMOTE: return "remote error";
    case XMP_ETIMEOUT: return "timeout";
    case XMP_ENOTSENT: return "not delivered";
    case XMP_EIO: return "i/o";
    case XMP_ENOMEM: return "out of memory";
    case XMP_ESYS: return "system error";
    case XMP_AGAIN: return "again";
    }
    return "unknown";
}

int64_t xmp_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
