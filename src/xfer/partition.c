/* SPDX-License-Identifier: Apache-2.0 */
/* Deterministic partitioning of a listing over ranks (see partition.h). */
#include "s3dlio/partition.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

static const char *const names[] = {"size", "count", "contiguous"};

enum s3dlio_rc s3dlio_partition_mode_parse(const char *s, enum s3dlio_partition_mode *out)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, names[i])) {
            *out = (enum s3dlio_partition_mode)i;
            return S3DLIO_OK;
        }
    return S3DLIO_E_USAGE;
}

const char *s3dlio_partition_mode_name(enum s3dlio_partition_mode m)
{
    return (unsigned)m < 3 ? names[m] : "unknown";
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void s3dlio_shuffle(size_t *order, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(splitmix(&s) % i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

/* The i-th object visited: order[i], or i when order is NULL (listing order). */
static size_t visit(const size_t *order, size_t i)
{
    return order ? order[i] : i;
}

/* ---- LPT: a min-heap of (bytes, objects, rank) ------------------------------------------- */

/* Objects break ties of bytes: empty objects still cost a request each, so they are spread. */
struct slot {
    uint64_t bytes;
    uint64_t objects;
    int rank;
};

static int slot_less(const struct slot *a, const struct slot *b)
{
    if (a->bytes != b->bytes)
        return a->bytes < b->bytes;
    if (a->objects != b->objects)
        return a->objects < b->objects;
    return a->rank < b->rank;
}

static void sift_down(struct slot *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && slot_less(&h[l], &h[m]))
            m = l;
        if (r < n && slot_less(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        struct slot t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/*
 * LPT's visit: (size, position) pairs sorted by size descending, ties by position, in place
 * (qsort has no context argument, and glibc's allocates a copy of the array: rank 0
 * partitions whole listings). An introsort: quicksort, insertion sort on short runs, and a
 * heapsort where the quicksort goes too deep.
 */
struct by_size {
    uint64_t size;
    size_t pos;
};

static bool before(const struct by_size *a, const struct by_size *b)
{
    return a->size != b->size ? a->size > b->size : a->pos < b->pos;
}

static void swap(struct by_size *a, struct by_size *b)
{
    struct by_size t = *a;
    *a = *b;
    *b = t;
}

static void heap_sift(struct by_size *v, size_t i, size_t n)
{
    for (;;) { /* the root is the pair that comes last: popped to the end, the run sorts */
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && before(&v[m], &v[l]))
            m = l;
        if (r < n && before(&v[m], &v[r]))
            m = r;
        if (m == i)
            return;
        swap(&v[i], &v[m]);
        i = m;
    }
}

static void heap_sort(struct by_size *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        heap_sift(v, i, n);
    for (size_t end = n; end > 1; end--) {
        swap(&v[0], &v[end - 1]);
        heap_sift(v, 0, end - 1);
    }
}

static void intro_sort(struct by_size *v, size_t n, int depth)
{
    while (n > 16) {
        if (depth-- == 0) {
            heap_sort(v, n);
            return;
        }
        /* median of three to the front, then a Hoare partition around it */
        size_t mid = n / 2;
        if (before(&v[mid], &v[0]))
            swap(&v[mid], &v[0]);
        if (before(&v[n - 1], &v[0]))
            swap(&v[n - 1], &v[0]);
        if (before(&v[n - 1], &v[mid]))
            swap(&v[n - 1], &v[mid]);
        swap(&v[0], &v[mid]);
        struct by_size pivot = v[0];
        size_t i = 0, j = n;
        for (;;) {
            while (before(&v[++i], &pivot) && i < n - 1)
                ;
            while (before(&pivot, &v[--j]))
                ;
            if (i >= j)
                break;
            swap(&v[i], &v[j]);
        }
        swap(&v[0], &v[j]);
        /* the smaller side by recursion, the larger by the loop: the stack stays shallow */
        if (j < n - j - 1) {
            intro_sort(v, j, depth);
            v += j + 1;
            n -= j + 1;
        } else {
            intro_sort(v + j + 1, n - j - 1, depth);
            n = j;
        }
    }
    for (size_t i = 1; i < n; i++) /* insertion sort of the short run */
        for (size_t k = i; k > 0 && before(&v[k], &v[k - 1]); k--)
            swap(&v[k], &v[k - 1]);
}

static void lpt(const uint64_t *sizes, const size_t *order, size_t n, int nranks, int *owner)
{
    struct by_size *v = s3dlio_xcalloc(n ? n : 1, sizeof(*v));
    struct slot *heap = s3dlio_xcalloc((size_t)nranks, sizeof(*heap));
    int depth = 2;
    for (size_t k = n; k > 1; k >>= 1)
        depth += 2;
    for (size_t i = 0; i < n; i++)
        v[i] = (struct by_size){sizes[visit(order, i)], i};
    intro_sort(v, n, depth);
    for (int r = 0; r < nranks; r++)
        heap[r] = (struct slot){0, 0, r}; /* all zero: already a valid heap in rank order */
    for (size_t i = 0; i < n; i++) {
        owner[visit(order, v[i].pos)] = heap[0].rank;
        heap[0].bytes += v[i].size;
        heap[0].objects++;
        sift_down(heap, (size_t)nranks, 0);
    }
    free(heap);
    free(v);
}

static void contiguous(const uint64_t *sizes, const size_t *order, size_t n, int nranks, int *owner)
{
    uint64_t total = 0, seen = 0;
    for (size_t i = 0; i < n; i++)
        total += sizes[visit(order, i)];
    for (size_t i = 0; i < n; i++) {
        /* the rank whose equal share of the bytes holds this object's midpoint */
        uint64_t mid = seen + sizes[visit(order, i)] / 2;
        int r = total ? (int)((__uint128_t)mid * (unsigned)nranks / total) : (int)(i * (size_t)nranks / n);
        owner[visit(order, i)] = r < nranks ? r : nranks - 1;
        seen += sizes[visit(order, i)];
    }
}

void s3dlio_partition(enum s3dlio_partition_mode mode, const uint64_t *sizes, const size_t *order,
                      size_t n, int nranks, int *owner, uint64_t *rank_bytes)
{
    if (nranks < 1)
        nranks = 1;
    if (mode == S3DLIO_PART_SIZE)
        lpt(sizes, order, n, nranks, owner);
    else if (mode == S3DLIO_PART_CONTIGUOUS)
        contiguous(sizes, order, n, nranks, owner);
    else
        for (size_t i = 0; i < n; i++)
            owner[visit(order, i)] = (int)(i % (size_t)nranks);
    if (!rank_bytes)
        return;
    memset(rank_bytes, 0, (size_t)nranks * sizeof(*rank_bytes));
    for (size_t i = 0; i < n; i++)
        rank_bytes[owner[i]] += sizes[i];
}
