/* SPDX-License-Identifier: Apache-2.0 */
/* What the fuzz targets share. */
#ifndef S3DLIO_TESTS_FUZZ_REQUIRE_H
#define S3DLIO_TESTS_FUZZ_REQUIRE_H

#include <stdio.h>
#include <stdlib.h>

/* An invariant failed: say which and crash, so libFuzzer keeps the input (NDEBUG-proof). */
#define REQUIRE(cond)                                                                    \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

#endif
