/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks of the MPI test programs: counted per rank, and a failed one says which rank saw it
 * (EXPECT uses the variable `rank` of the scope it is written in).
 */
#ifndef S3DLIO_TESTS_MPI_EXPECT_H
#define S3DLIO_TESTS_MPI_EXPECT_H

#include <stdio.h>

static int failed, passed;

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            failed++;                                                                              \
            fprintf(stderr, "[r%d] FAIL: ", rank);                                                 \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

#endif
