/* SPDX-License-Identifier: Apache-2.0 */
/* Bytes per interval of time (include/s3dlio/stats.h). */
#include <stdlib.h>
#include <string.h>
#include "s3dlio/stats.h"
#include "util/alloc.h"

void s3dlio_timeline_init(struct s3dlio_timeline *t, uint64_t t0_ns, uint64_t bucket_ns, size_t cap)
{
    memset(t, 0, sizeof(*t));
    t->t0_ns = t0_ns;
    t->bucket_ns = bucket_ns ? bucket_ns : 100000000ull;
    t->cap = cap < 2 ? 2 : cap & ~(size_t)1; /* even, so halving keeps whole pairs */
    t->bytes = s3dlio_xcalloc(t->cap, sizeof(*t->bytes));
}

/* Pairs of intervals become one of twice the width. */
static void halve(struct s3dlio_timeline *t)
{
    size_t n = (t->n + 1) / 2;
    for (size_t i = 0; i < n; i++)
        t->bytes[i] = t->bytes[2 * i] + (2 * i + 1 < t->n ? t->bytes[2 * i + 1] : 0);
    memset(t->bytes + n, 0, (t->cap - n) * sizeof(*t->bytes));
    t->n = n;
    t->bucket_ns *= 2;
}

void s3dlio_timeline_add(struct s3dlio_timeline *t, uint64_t now_ns, uint64_t bytes)
{
    if (!t->bytes)
        return;
    uint64_t since = now_ns > t->t0_ns ? now_ns - t->t0_ns : 0;
    while (since / t->bucket_ns >= t->cap)
        halve(t);
    size_t i = (size_t)(since / t->bucket_ns);
    t->bytes[i] += bytes;
    if (i + 1 > t->n)
        t->n = i + 1;
}

void s3dlio_timeline_add_span(struct s3dlio_timeline *t, uint64_t from_ns, uint64_t to_ns, uint64_t bytes)
{
    if (!t->bytes || !bytes)
        return;
    uint64_t a = from_ns > t->t0_ns ? from_ns - t->t0_ns : 0, b = to_ns > t->t0_ns ? to_ns - t->t0_ns : 0;
    if (b <= a) {
        s3dlio_timeline_add(t, to_ns, bytes);
        return;
    }
    while (b / t->bucket_ns >= t->cap)
        halve(t);
    uint64_t given = 0;
    for (uint64_t i = a / t->bucket_ns; i * t->bucket_ns < b; i++) {
        uint64_t lo = i * t->bucket_ns > a ? i * t->bucket_ns : a;
        uint64_t hi = (i + 1) * t->bucket_ns < b ? (i + 1) * t->bucket_ns : b;
        /* the last interval takes what rounding left, so no byte is lost */
        uint64_t share = hi == b ? bytes - given
                                 : (uint64_t)((double)bytes * (double)(hi - lo) / (double)(b - a));
        if (share > bytes - given)
            share = bytes - given;
        t->bytes[i] += share;
        given += share;
        if (i + 1 > t->n)
            t->n = (size_t)i + 1;
    }
}

void s3dlio_timeline_coarsen(struct s3dlio_timeline *t, uint64_t bucket_ns)
{
    while (t->bytes && t->bucket_ns < bucket_ns)
        halve(t);
}

void s3dlio_timeline_release(struct s3dlio_timeline *t)
{
    free(t->bytes);
    memset(t, 0, sizeof(*t));
}
