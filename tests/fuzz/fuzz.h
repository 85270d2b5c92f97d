/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz.h - fuzz targets in libFuzzer's shape.  Built with
 * -fsanitize=fuzzer they fuzz (tests/fuzz/run.sh builds and runs them);
 * built by `make check` they are linked with driver.c and replay the seed
 * corpus under tests/fuzz/corpus/ (TAP), or the files named.
 */
#ifndef XMP_FUZZ_H
#define XMP_FUZZ_H

#include <stddef.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#endif
