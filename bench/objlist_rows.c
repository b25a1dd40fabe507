/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What one listed object costs rank 0: N synthetic rows ("train/shard-00042/img-00001234.jpg",
 * a 32-hex-digit ETag) added to an object list, either straight into one list (direct) or a
 * page of 1000 at a time spliced onto it, as a listing is built (pages). Prints one JSON line:
 * resident set before and after (VmRSS, KiB) and the bytes per row between the two.
 *   s3dlio-bench-objlist [N] [direct|pages]       (N defaults to 1000000)
 * Uses only add, splice and release, so the same file builds against older object lists
 * for a before/after comparison. A benchmark: it reports, it asserts nothing.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "s3dlio/backend.h"

enum { PAGE_ROWS = 1000 };

static uint64_t rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t kib = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %" SCNu64, &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static void add_row(struct s3dlio_objlist *l, size_t i, uint64_t *x)
{
    char key[64], etag[40];
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    snprintf(key, sizeof(key), "train/shard-%05zu/img-%08zu.jpg", i / 4096, i);
    snprintf(etag, sizeof(etag), "\"%016" PRIx64 "%016" PRIx64 "\"", *x, *x * 31);
    s3dlio_objlist_add(l, key, 65536 + *x % (4u << 20), 1700000000, etag);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    const char *mode = argc > 2 ? argv[2] : "direct";
    bool pages = !strcmp(mode, "pages");
    if (!n || (!pages && strcmp(mode, "direct"))) {
        fprintf(stderr, "usage: s3dlio-bench-objlist [N] [direct|pages]\n");
        return 2;
    }
    struct s3dlio_objlist list = {0};
    uint64_t x = 0x9E3779B97F4A7C15u, before = rss_kib();
    for (size_t i = 0; i < n;) {
        if (!pages) {
            add_row(&list, i++, &x);
            continue;
        }
        struct s3dlio_objlist page = {0};
        for (size_t k = 0; k < PAGE_ROWS && i < n; k++)
            add_row(&page, i++, &x);
        s3dlio_objlist_splice(&list, &page);
    }
    uint64_t after = rss_kib();
    printf("{\"rows\": %zu, \"mode\": \"%s\", \"row_struct_bytes\": %zu, \"rss_before_kib\": %" PRIu64
           ", \"rss_after_kib\": %" PRIu64 ", \"bytes_per_row\": %.1f}\n",
           n, mode, sizeof(struct s3dlio_object), before, after,
           (double)(after - before) * 1024.0 / (double)n);
    s3dlio_objlist_release(&list);
    return 0;
}
