/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tap.h - a tiny TAP producer for the unit tests (header-only).
 *
 *   ok(cond, "name %d", i);          is_str(got, want, "name");
 *   is_int(got, want, "name");       return tap_done();
 */
#ifndef XMP_TAP_H
#define XMP_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 4, 5))) static int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    tap_n++;
    printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!cond) {
        tap_failed++;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_str(got, want, ...)                                               \
    do {                                                                     \
        const char *g_ = (got), *w_ = (want);                                \
        int c_ = (g_ == NULL && w_ == NULL) ||                               \
                 (g_ && w_ && strcmp(g_, w_) == 0);                          \
        if (!tap_ok(c_, __FILE__, __LINE__, __VA_ARGS__))                    \
            printf("#   got:      %s%s%s\n#   expected: %s%s%s\n",           \
                   g_ ? "'" : "", g_ ? g_ : "NULL", g_ ? "'" : "",           \
                   w_ ? "'" : "", w_ ? w_ : "NULL", w_ ? "'" : "");          \
    } while (0)

#define is_int(got, want, ...)                                               \
    do {                                                                     \
        long long g_ = (long long)(got), w_ = (long long)(want);             \
        if (!tap_ok(g_ == w_, __FILE__, __LINE__, __VA_ARGS__))              \
            printf("#   got:      %lld\n#   expected: %lld\n", g_, w_);      \
    } while (0)

#define diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))

static int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
