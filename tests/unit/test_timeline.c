/* SPDX-License-Identifier: Apache-2.0 */
/* Bytes per interval: placement, merging when full, coarsening to another rank's width. */
#include "check.h"
#include "s3dlio/stats.h"

#define MS 1000000ull

int main(void)
{
    struct s3dlio_timeline t;
    s3dlio_timeline_init(&t, 1000 * MS, 100 * MS, 8);
    s3dlio_timeline_add(&t, 1000 * MS, 5);      /* at the origin */
    s3dlio_timeline_add(&t, 500 * MS, 1);       /* before it: the first interval */
    s3dlio_timeline_add(&t, 1099 * MS, 2);
    s3dlio_timeline_add(&t, 1100 * MS, 7);      /* the second interval starts here */
    s3dlio_timeline_add(&t, 1750 * MS, 11);
    CHECK_INT(t.n, 8, "intervals up to the last note");
    CHECK_INT(t.bytes[0], 8, "first interval");
    CHECK_INT(t.bytes[1], 7, "second");
    CHECK_INT(t.bytes[7], 11, "eighth");
    CHECK_INT(t.bucket_ns, 100 * MS, "width unchanged");

    /* past the end: pairs merge and the width doubles, no byte lost */
    s3dlio_timeline_add(&t, 1800 * MS, 100);
    CHECK_INT(t.bucket_ns, 200 * MS, "doubled");
    CHECK_INT(t.bytes[0], 15, "0-200 ms");
    CHECK_INT(t.bytes[3], 11, "600-800 ms");
    CHECK_INT(t.bytes[4], 100, "800-1000 ms");
    CHECK_INT(t.n, 5, "intervals after merging");
    uint64_t sum = 0;
    for (size_t i = 0; i < t.cap; i++)
        sum += t.bytes[i];
    CHECK_INT(sum, 8 + 7 + 11 + 100, "every byte kept");

    /* far past: several doublings at once */
    s3dlio_timeline_add(&t, 1000 * MS + 10000 * MS, 1);
    CHECK(t.bucket_ns >= 10000 * MS / 8, "wide enough for 10 s in 8 intervals");
    CHECK_INT(t.bytes[t.n - 1], 1, "the late note in the last interval");

    s3dlio_timeline_coarsen(&t, t.bucket_ns * 4);
    sum = 0;
    for (size_t i = 0; i < t.n; i++)
        sum += t.bytes[i];
    CHECK_INT(sum, 8 + 7 + 11 + 100 + 1, "coarsening keeps every byte");
    s3dlio_timeline_release(&t);

    /* a span is spread over the intervals it covers, in proportion, with no byte lost */
    s3dlio_timeline_init(&t, 0, 100 * MS, 64);
    s3dlio_timeline_add_span(&t, 50 * MS, 250 * MS, 1000);
    CHECK_INT(t.bytes[0], 250, "a quarter in 0-100 ms");
    CHECK_INT(t.bytes[1], 500, "half in 100-200 ms");
    CHECK_INT(t.bytes[2], 250, "a quarter in 200-300 ms");
    CHECK_INT(t.n, 3, "three intervals");
    s3dlio_timeline_add_span(&t, 0, 300 * MS, 7); /* 7 over 3 intervals: rounding */
    CHECK_INT(t.bytes[0] + t.bytes[1] + t.bytes[2], 1007, "rounding loses nothing");
    s3dlio_timeline_add_span(&t, 500 * MS, 500 * MS, 9); /* empty span: at its time */
    CHECK_INT(t.bytes[5], 9, "an empty span lands at its time");
    s3dlio_timeline_add_span(&t, 0, 10000 * MS, 640); /* past the end: merged first */
    CHECK_INT(t.bucket_ns, 200 * MS, "doubled for a long span");
    sum = 0;
    for (size_t i = 0; i < t.cap; i++)
        sum += t.bytes[i];
    CHECK_INT(sum, 1007 + 9 + 640, "every byte kept");
    s3dlio_timeline_release(&t);
    TEST_DONE();
}
