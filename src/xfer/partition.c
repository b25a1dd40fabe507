/* SPDX-License-Identifier: Apache-2.0 */
/* Deterministic partitioning of a listing over ranks (see partition.h). */
#include "s3dlio/partition.h"

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

/* ---- LPT: a min-heap of (bytes, rank) ---------------------------------------------------- */

struct slot {
    uint64_t bytes;
    int rank;
};

static int slot_less(const struct slot *a, const struct slot *b)
{
    return a->bytes < b->bytes || (a->bytes == b->bytes && a->rank < b->rank);
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

/* qsort has no context argument: sort indices into the sizes array through a wrapper */
struct by_size {
    uint64_t size;
    size_t pos; /* position in `order`, the tie-break that keeps the result deterministic */
    size_t index;
};

static int cmp_by_size(const void *a, const void *b)
{
    const struct by_size *x = a, *y = b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void lpt(const uint64_t *sizes, const size_t *order, size_t n, int nranks, int *owner)
{
    struct by_size *v = s3dlio_xcalloc(n ? n : 1, sizeof(*v));
    struct slot *heap = s3dlio_xcalloc((size_t)nranks, sizeof(*heap));
    for (size_t i = 0; i < n; i++)
        v[i] = (struct by_size){sizes[order[i]], i, order[i]};
    qsort(v, n, sizeof(*v), cmp_by_size);
    for (int r = 0; r < nranks; r++)
        heap[r] = (struct slot){0, r}; /* all zero: already a valid heap in rank order */
    for (size_t i = 0; i < n; i++) {
        owner[v[i].index] = heap[0].rank;
        heap[0].bytes += v[i].size;
        sift_down(heap, (size_t)nranks, 0);
    }
    free(heap);
    free(v);
}

static void contiguous(const uint64_t *sizes, const size_t *order, size_t n, int nranks, int *owner)
{
    uint64_t total = 0, seen = 0;
    for (size_t i = 0; i < n; i++)
        total += sizes[order[i]];
    for (size_t i = 0; i < n; i++) {
        /* the rank whose equal share of the bytes holds this object's midpoint */
        uint64_t mid = seen + sizes[order[i]] / 2;
        int r = total ? (int)((__uint128_t)mid * (unsigned)nranks / total) : (int)(i * (size_t)nranks / n);
        owner[order[i]] = r < nranks ? r : nranks - 1;
        seen += sizes[order[i]];
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
            owner[order[i]] = (int)(i % (size_t)nranks);
    if (!rank_bytes)
        return;
    memset(rank_bytes, 0, (size_t)nranks * sizeof(*rank_bytes));
    for (size_t i = 0; i < n; i++)
        rank_bytes[owner[i]] += sizes[i];
}
