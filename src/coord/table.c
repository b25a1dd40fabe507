/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The listing and its partition travel in one broadcast of a packed table:
 * [n][sizes n x u64][owners n x i32][dir conflicts n x bool, padded to 8][keys, NUL-separated]
 * [ETags, NUL-separated]. No per-object messages.
 */
#include <stdlib.h>
#include <string.h>
#include "coord/coord_int.h"
#include "util/alloc.h"

void s3dlio_table_release(struct s3dlio_table *t)
{
    if (!t)
        return;
    free(t->keys);
    free(t->etags);
    free(t->blob);
    memset(t, 0, sizeof(*t));
}

static uint64_t pad8(uint64_t n)
{
    return (n + 7) & ~(uint64_t)7;
}

/* the conflicts travel as bytes */
_Static_assert(sizeof(bool) == 1, "bool is one byte");

static char *pack(const struct s3dlio_objlist *list, const int *owner, const bool *dir_conflict,
                  uint64_t *len)
{
    uint64_t strings = 0, n = list->n;
    for (size_t i = 0; i < list->n; i++)
        strings += strlen(list->items[i].key) + 1 + strlen(list->items[i].etag) + 1;
    *len = 8 + n * 8 + n * 4 + pad8(n) + strings;
    char *blob = s3dlio_xcalloc(1, *len), *p = blob;
    memcpy(p, &n, 8);
    p += 8;
    for (size_t i = 0; i < list->n; i++, p += 8)
        memcpy(p, &list->items[i].size, 8);
    for (size_t i = 0; i < list->n; i++, p += 4) {
        int32_t o = owner[i];
        memcpy(p, &o, 4);
    }
    if (dir_conflict)
        memcpy(p, dir_conflict, n);
    p += pad8(n);
    for (size_t i = 0; i < list->n; i++) {
        size_t k = strlen(list->items[i].key) + 1;
        memcpy(p, list->items[i].key, k);
        p += k;
    }
    for (size_t i = 0; i < list->n; i++) {
        size_t k = strlen(list->items[i].etag) + 1;
        memcpy(p, list->items[i].etag, k);
        p += k;
    }
    return blob;
}

static void unpack(struct s3dlio_table *t)
{
    char *p = t->blob;
    uint64_t n;
    memcpy(&n, p, 8);
    t->n = (size_t)n;
    /* the blob is 8-byte aligned from malloc and the arrays start at 8: aligned access */
    t->sizes = (uint64_t *)(void *)(p + 8);
    t->owner = (int *)(void *)(p + 8 + n * 8);
    t->dir_conflict = (bool *)(p + 8 + n * 12);
    t->keys = s3dlio_xcalloc(t->n ? t->n : 1, sizeof(*t->keys));
    t->etags = s3dlio_xcalloc(t->n ? t->n : 1, sizeof(*t->etags));
    const char *k = p + 8 + n * 12 + pad8(n);
    t->total_bytes = 0;
    for (size_t i = 0; i < t->n; i++) {
        t->keys[i] = k;
        k += strlen(k) + 1;
        t->total_bytes += t->sizes[i];
    }
    for (size_t i = 0; i < t->n; i++) {
        t->etags[i] = k;
        k += strlen(k) + 1;
    }
}

enum s3dlio_rc s3dlio_table_bcast(MPI_Comm comm, const struct s3dlio_objlist *list, const int *owner,
                                  const bool *dir_conflict, struct s3dlio_table *t,
                                  struct s3dlio_error *err)
{
    int rank;
    uint64_t len = 0;
    MPI_Comm_rank(comm, &rank);
    memset(t, 0, sizeof(*t));
    if (rank == 0)
        t->blob = pack(list, owner, dir_conflict, &len);
    MPI_Bcast(&len, 1, MPI_UINT64_T, 0, comm);
    if (rank != 0)
        t->blob = s3dlio_xmalloc(len ? len : 1);
    /* MPI counts are int: send a large table in pieces of at most 1 GiB */
    for (uint64_t at = 0; at < len;) {
        int piece = (int)(len - at < (1u << 30) ? len - at : (1u << 30));
        if (MPI_Bcast(t->blob + at, piece, MPI_BYTE, 0, comm) != MPI_SUCCESS)
            return s3dlio_error_set(err, S3DLIO_E_INTERNAL, "stage", "MPI_Bcast",
                                    "broadcast of the listing failed");
        at += (uint64_t)piece;
    }
    unpack(t);
    return S3DLIO_OK;
}
