/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Partitioning (src/xfer/partition.c), which rank 0 runs over whole listings: every object
 * gets exactly one rank; LPT balances bytes and, on ties, objects (a listing of empty
 * objects is spread, not given to rank 0); count is round robin in the visit; contiguous
 * keeps the key order in runs of about equal bytes; a NULL visit order is the index order;
 * a shuffle is reproducible from its seed; and the byte totals add up.
 */
#include <stdint.h>
#include <stdlib.h>
#include "check.h"
#include "s3dlio/partition.h"

#define N 1000

static uint64_t sizes[N];
static size_t order[N];
static int owner[N], owner2[N];

static void identity(void)
{
    for (size_t i = 0; i < N; i++)
        order[i] = i;
}

static void counts(const int *o, size_t n, int nranks, uint64_t *objects, uint64_t *bytes)
{
    for (int r = 0; r < nranks; r++)
        objects[r] = bytes[r] = 0;
    for (size_t i = 0; i < n; i++) {
        objects[o[i]]++;
        bytes[o[i]] += sizes[i];
    }
}

static void test_lpt_balances_bytes(void)
{
    uint64_t total = 0, objects[7], bytes[7], rank_bytes[7], largest = 0;
    for (size_t i = 0; i < N; i++) {
        sizes[i] = (uint64_t)(i * 7919 % 1000 + 1) * 1024;
        total += sizes[i];
        largest = sizes[i] > largest ? sizes[i] : largest;
    }
    identity();
    s3dlio_partition(S3DLIO_PART_SIZE, sizes, order, N, 7, owner, rank_bytes);
    counts(owner, N, 7, objects, bytes);
    uint64_t lo = UINT64_MAX, hi = 0, sum = 0;
    for (int r = 0; r < 7; r++) {
        CHECK_INT(rank_bytes[r], bytes[r], "lpt: rank_bytes is what each rank got");
        lo = bytes[r] < lo ? bytes[r] : lo;
        hi = bytes[r] > hi ? bytes[r] : hi;
        sum += bytes[r];
    }
    CHECK_INT(sum, total, "lpt: every byte once");
    CHECK(hi - lo <= largest, "lpt: ranks within one object's bytes of each other");
    s3dlio_partition(S3DLIO_PART_SIZE, sizes, NULL, N, 7, owner2, NULL);
    CHECK(!memcmp(owner, owner2, sizeof(owner)), "lpt: NULL order is the index order");
}

static void test_lpt_spreads_empty_objects(void)
{
    uint64_t objects[4], bytes[4];
    for (size_t i = 0; i < N; i++)
        sizes[i] = 0;
    s3dlio_partition(S3DLIO_PART_SIZE, sizes, NULL, N, 4, owner, NULL);
    counts(owner, N, 4, objects, bytes);
    for (int r = 0; r < 4; r++)
        CHECK_INT(objects[r], N / 4, "lpt: empty objects spread evenly");
    /* equal sizes: the same, round robin in the visit */
    for (size_t i = 0; i < N; i++)
        sizes[i] = 4096;
    s3dlio_partition(S3DLIO_PART_SIZE, sizes, NULL, N, 3, owner, NULL);
    counts(owner, N, 3, objects, bytes);
    CHECK(objects[0] == 334 && objects[1] == 333 && objects[2] == 333, "lpt: equal sizes spread");
    CHECK(owner[0] == 0 && owner[1] == 1 && owner[2] == 2 && owner[3] == 0,
          "lpt: ties in visit order, lowest rank first");
}

static void test_count_and_shuffle(void)
{
    for (size_t i = 0; i < N; i++)
        sizes[i] = i;
    identity();
    s3dlio_partition(S3DLIO_PART_COUNT, sizes, order, N, 3, owner, NULL);
    int rr = 1;
    for (size_t i = 0; i < N; i++)
        rr &= owner[i] == (int)(i % 3);
    CHECK(rr, "count: round robin in listing order");
    identity();
    s3dlio_shuffle(order, N, 42);
    s3dlio_partition(S3DLIO_PART_COUNT, sizes, order, N, 3, owner, NULL);
    int follows = 1, moved = 0;
    for (size_t i = 0; i < N; i++) {
        follows &= owner[order[i]] == (int)(i % 3);
        moved += order[i] != i;
    }
    CHECK(follows, "count: round robin in the shuffled visit");
    CHECK(moved > N / 2, "shuffle: most objects move");
    size_t again[N];
    for (size_t i = 0; i < N; i++)
        again[i] = i;
    s3dlio_shuffle(again, N, 42);
    CHECK(!memcmp(order, again, sizeof(again)), "shuffle: the same seed, the same order");
    for (size_t i = 0; i < N; i++)
        again[i] = i;
    s3dlio_shuffle(again, N, 43);
    CHECK(memcmp(order, again, sizeof(again)), "shuffle: another seed, another order");
}

static void test_contiguous(void)
{
    uint64_t objects[5], bytes[5], total = 0;
    for (size_t i = 0; i < N; i++) {
        sizes[i] = (uint64_t)(i % 10 + 1) * 100;
        total += sizes[i];
    }
    s3dlio_partition(S3DLIO_PART_CONTIGUOUS, sizes, NULL, N, 5, owner, NULL);
    int runs = 1;
    for (size_t i = 1; i < N; i++)
        runs &= owner[i] == owner[i - 1] || owner[i] == owner[i - 1] + 1;
    CHECK(runs && owner[0] == 0 && owner[N - 1] == 4, "contiguous: runs in key order");
    counts(owner, N, 5, objects, bytes);
    for (int r = 0; r < 5; r++)
        CHECK(bytes[r] + 1000 >= total / 5 && bytes[r] <= total / 5 + 1000,
              "contiguous: about equal bytes");
    for (size_t i = 0; i < N; i++)
        sizes[i] = 0;
    s3dlio_partition(S3DLIO_PART_CONTIGUOUS, sizes, NULL, N, 4, owner, NULL);
    counts(owner, N, 4, objects, bytes);
    CHECK(objects[0] == 250 && objects[3] == 250, "contiguous: empty objects by count");
}

/* LPT as written down: visit by size descending (ties: visit order), each to the rank with the
 * fewest bytes, then the fewest objects, then the lowest number. */
struct ref_item {
    uint64_t size;
    size_t pos;
};

static int ref_cmp(const void *a, const void *b)
{
    const struct ref_item *x = a, *y = b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void ref_lpt(const uint64_t *sz, const size_t *ord, size_t n, int nranks, int *out)
{
    struct ref_item *v = calloc(n + 1, sizeof(*v));
    uint64_t bytes[16] = {0}, objects[16] = {0};
    for (size_t i = 0; i < n; i++)
        v[i] = (struct ref_item){sz[ord ? ord[i] : i], i};
    qsort(v, n, sizeof(*v), ref_cmp);
    for (size_t i = 0; i < n; i++) {
        int best = 0;
        for (int r = 1; r < nranks; r++)
            if (bytes[r] < bytes[best] || (bytes[r] == bytes[best] && objects[r] < objects[best]))
                best = r;
        out[ord ? ord[v[i].pos] : v[i].pos] = best;
        bytes[best] += v[i].size;
        objects[best]++;
    }
    free(v);
}

/* The in-place sort against qsort: sizes with many ties, sorted runs and reversed runs (the
 * cases that send a quicksort deep), shuffled visits. */
static void test_lpt_matches_reference(void)
{
    uint64_t x = 12345;
    for (int round = 0; round < 40; round++) {
        size_t n = (size_t)(round * 97 % N) + 1;
        int nranks = round % 7 + 1;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            sizes[i] = round % 4 == 0   ? x % 5                 /* many ties */
                       : round % 4 == 1 ? i                     /* ascending */
                       : round % 4 == 2 ? (uint64_t)(n - i) * 3 /* descending */
                                        : x % 100000;
        }
        identity();
        if (round % 3 == 0)
            s3dlio_shuffle(order, n, (uint64_t)round);
        s3dlio_partition(S3DLIO_PART_SIZE, sizes, order, n, nranks, owner, NULL);
        ref_lpt(sizes, order, n, nranks, owner2);
        CHECK(!memcmp(owner, owner2, n * sizeof(*owner)), "lpt: as written down");
    }
}

int main(void)
{
    test_lpt_matches_reference();
    test_lpt_balances_bytes();
    test_lpt_spreads_empty_objects();
    test_count_and_shuffle();
    test_contiguous();
    TEST_DONE();
}
