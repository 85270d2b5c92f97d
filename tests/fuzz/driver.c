/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * driver.c - replay fuzz inputs without libFuzzer: each file in the
 * directories (or files) named on the command line is one input; with no
 * arguments, the seed corpus $TESTS_SRCDIR/fuzz/corpus/NAME for a program
 * called fuzz_NAME.  A failing target aborts, which the TAP driver
 * reports.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int n;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long len;

    if (!f) {
        printf("not ok %d - cannot open %s\n", ++n, path);
        return;
    }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) {
        LLVMFuzzerTestOneInput(buf, (size_t)len);
        printf("ok %d - %s\n", ++n, path);
    } else {
        printf("not ok %d - cannot read %s\n", ++n, path);
    }
    free(buf);
    fclose(f);
    fflush(stdout);
}

static void run_path(const char *path)
{
    struct stat st;
    struct dirent **ents;
    char sub[4096];
    int i, count;

    if (stat(path, &st) < 0) {
        printf("not ok %d - %s does not exist\n", ++n, path);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    /* sorted, so the TAP numbering is stable */
    if ((count = scandir(path, &ents, NULL, alphasort)) < 0)
        return;
    for (i = 0; i < count; i++) {
        if (ents[i]->d_name[0] != '.') {
            snprintf(sub, sizeof sub, "%s/%s", path, ents[i]->d_name);
            run_path(sub);
        }
        free(ents[i]);
    }
    free(ents);
}

int main(int argc, char **argv)
{
    const char *src = getenv("TESTS_SRCDIR");
    const char *name = strrchr(argv[0], '/');
    char dir[4096];
    int i;

    name = name ? name + 1 : argv[0];
    if (strncmp(name, "lt-", 3) == 0)
        name += 3;
    if (strncmp(name, "fuzz_", 5) == 0)
        name += 5;
    if (argc < 2) {
        snprintf(dir, sizeof dir, "%s/fuzz/corpus/%s", src ? src : "tests",
                 name);
        run_path(dir);
    }
    for (i = 1; i < argc; i++)
        run_path(argv[i]);
    printf("1..%d\n", n);
    return 0;
}
