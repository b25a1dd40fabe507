/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The listing and its partition travel as a packed table:
 * [n][sizes n x u64][owners n x i32][dir conflicts n x bool, padded to 8][per row: key, NUL,
 * ETag, NUL] (a row's ETag follows its key, as in an object list, so no pointer finds it). No per-object messages. Broadcast whole when every rank needs every
 * row (--steal, HDF5's shared file); otherwise dealt, each rank receiving the packed rows it
 * owns, so a rank's memory follows its share rather than the listing.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "coord/coord_int.h"
#include "util/alloc.h"

void s3dlio_table_release(struct s3dlio_table *t)
{
    if (!t)
        return;
    free(t->keys);
    if (t->parts) { /* dealt: the keys point into the parts */
        for (size_t r = 0; r < t->nparts; r++)
            free(t->parts[r]);
        free(t->parts);
    }
    if (t->shared)
        MPI_Win_free(&t->win); /* the node's ranks release it together; it owns the blob */
    else
        free(t->blob);
    memset(t, 0, sizeof(*t));
}

static uint64_t pad8(uint64_t n)
{
    return (n + 7) & ~(uint64_t)7;
}

/* the conflicts travel as bytes */
_Static_assert(sizeof(bool) == 1, "bool is one byte");

/* Bytes of the packed rows rows[0..n) of list (rows NULL: all of it, in order). */
static uint64_t packed_len(const struct s3dlio_objlist *list, const size_t *rows, size_t n)
{
    uint64_t strings = 0;
    for (size_t j = 0; j < n; j++) {
        const struct s3dlio_object *it = &list->items[rows ? rows[j] : j];
        strings += strlen(it->key) + 1 + strlen(s3dlio_object_etag(it)) + 1;
    }
    return 8 + (uint64_t)n * 8 + (uint64_t)n * 4 + pad8(n) + strings;
}

/* Pack rows rows[0..n) of list at blob (packed_len bytes). */
static void pack_into(char *blob, const struct s3dlio_objlist *list, const size_t *rows, size_t n,
                      const int *owner, const bool *dir_conflict)
{
    char *p = blob;
    uint64_t n64 = n;
    memcpy(p, &n64, 8);
    p += 8;
    for (size_t j = 0; j < n; j++, p += 8)
        memcpy(p, &list->items[rows ? rows[j] : j].size, 8);
    for (size_t j = 0; j < n; j++, p += 4) {
        int32_t o = owner[rows ? rows[j] : j];
        memcpy(p, &o, 4);
    }
    memset(p, 0, pad8(n)); /* no conflicts, and the padding: a shared window is not zeroed */
    if (dir_conflict)
        for (size_t j = 0; j < n; j++)
            p[j] = (char)dir_conflict[rows ? rows[j] : j];
    p += pad8(n);
    for (size_t j = 0; j < n; j++) {
        const struct s3dlio_object *o = &list->items[rows ? rows[j] : j];
        const char *etag = s3dlio_object_etag(o);
        size_t k = strlen(o->key) + 1, e = strlen(etag) + 1;
        memcpy(p, o->key, k);
        memcpy(p + k, etag, e);
        p += k + e;
    }
}

static char *pack(const struct s3dlio_objlist *list, const int *owner, const bool *dir_conflict,
                  uint64_t *len)
{
    *len = packed_len(list, NULL, list->n);
    char *blob = s3dlio_xcalloc(1, *len);
    pack_into(blob, list, NULL, list->n, owner, dir_conflict);
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
    const char *k = p + 8 + n * 12 + pad8(n);
    t->total_bytes = 0;
    for (size_t i = 0; i < t->n; i++) {
        t->keys[i] = k;
        k += strlen(k) + 1;
        k += strlen(k) + 1; /* its ETag */
        t->total_bytes += t->sizes[i];
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
    t->listed = t->n;
    t->received_bytes = rank == 0 ? 0 : len;
    return S3DLIO_OK;
}

/* Bytes [0, len) of blob from rank 0 of comm to all of it, in pieces MPI's int counts hold. */
static int bcast_bytes(MPI_Comm comm, char *blob, uint64_t len)
{
    for (uint64_t at = 0; at < len;) {
        int piece = (int)(len - at < (1u << 30) ? len - at : (1u << 30));
        int ok = MPI_Bcast(blob + at, piece, MPI_BYTE, 0, comm);
        if (ok != MPI_SUCCESS)
            return ok;
        at += (uint64_t)piece;
    }
    return MPI_SUCCESS;
}

/*
 * The ranks of comm that share this one's memory. S3DLIO_RANKS_PER_NODE (tests) cuts them
 * into nodes of that many ranks, so one machine runs the broadcast between node leaders that
 * several nodes need (each such node still shares memory, being on the same machine).
 */
static void split_node(MPI_Comm comm, int rank, MPI_Comm *node)
{
    const char *per = getenv("S3DLIO_RANKS_PER_NODE");
    char *end = NULL;
    long k = per ? strtol(per, &end, 10) : 0;
    if (k < 1 || k > INT_MAX || *end) { /* unset, or not a count: the machine is the node */
        MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, node);
        return;
    }
    MPI_Comm shared;
    int shared_rank;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &shared);
    MPI_Comm_rank(shared, &shared_rank);
    MPI_Comm_split(shared, shared_rank / (int)k, rank, node);
    MPI_Comm_free(&shared);
}

enum s3dlio_rc s3dlio_table_bcast_shared(MPI_Comm comm, const struct s3dlio_objlist *list,
                                         const int *owner, const bool *dir_conflict,
                                         struct s3dlio_table *t, struct s3dlio_error *err)
{
    int rank, node_rank;
    MPI_Comm node, leaders;
    uint64_t len = 0;
    MPI_Comm_rank(comm, &rank);
    memset(t, 0, sizeof(*t));
    if (rank == 0)
        len = packed_len(list, NULL, list->n);
    MPI_Bcast(&len, 1, MPI_UINT64_T, 0, comm);
    /* keyed by rank: comm's rank 0 leads its node and is rank 0 of the leaders */
    split_node(comm, rank, &node);
    MPI_Comm_rank(node, &node_rank);
    MPI_Comm_split(comm, node_rank == 0 ? 0 : MPI_UNDEFINED, rank, &leaders);
    char *base = NULL;
    int ok = MPI_Win_allocate_shared(node_rank == 0 ? (MPI_Aint)(len ? len : 1) : 0, 1,
                                     MPI_INFO_NULL, node, &base, &t->win);
    if (ok == MPI_SUCCESS && node_rank != 0) {
        MPI_Aint size;
        int unit;
        ok = MPI_Win_shared_query(t->win, 0, &size, &unit, &base);
    }
    if (ok == MPI_SUCCESS) {
        t->shared = true;
        MPI_Win_lock_all(MPI_MODE_NOCHECK, t->win);
        if (rank == 0) /* packed in place: rank 0 holds no second copy */
            pack_into(base, list, NULL, list->n, owner, dir_conflict);
        if (node_rank == 0)
            ok = bcast_bytes(leaders, base, len);
        /* the leader's writes, then everyone on the node may read them */
        MPI_Win_sync(t->win);
        MPI_Barrier(node);
        MPI_Win_sync(t->win);
        MPI_Win_unlock_all(t->win);
    }
    if (leaders != MPI_COMM_NULL)
        MPI_Comm_free(&leaders);
    MPI_Comm_free(&node);
    if (ok != MPI_SUCCESS)
        return s3dlio_error_set(err, S3DLIO_E_INTERNAL, "stage", "MPI_Win_allocate_shared",
                                "sharing the listing on the node failed");
    /* unpack reads the arrays in place: they must be 8-byte aligned like malloc's */
    if ((uintptr_t)base % 8)
        return s3dlio_error_set(err, S3DLIO_E_INTERNAL, "stage", "MPI_Win_allocate_shared",
                                "the shared listing is not 8-byte aligned");
    t->blob = base;
    unpack(t);
    t->listed = t->n;
    t->received_bytes = node_rank == 0 && rank != 0 ? len : 0;
    return S3DLIO_OK;
}

/*
 * Rank 0: the rows of each rank, in listing order (a counting sort by owner), at rows +
 * first[r], count[r] of them.
 */
static size_t *rows_by_owner(const int *owner, size_t n, int nranks, size_t *first, size_t *count)
{
    size_t *rows = s3dlio_xcalloc(n ? n : 1, sizeof(*rows));
    memset(count, 0, (size_t)nranks * sizeof(*count));
    for (size_t i = 0; i < n; i++)
        count[owner[i]]++;
    size_t at = 0;
    for (int r = 0; r < nranks; r++) {
        first[r] = at;
        at += count[r];
    }
    size_t *fill = s3dlio_xcalloc((size_t)nranks, sizeof(*fill));
    for (size_t i = 0; i < n; i++)
        rows[first[owner[i]] + fill[owner[i]]++] = i;
    free(fill);
    return rows;
}

/*
 * Rank 0 packs one rank's share at a time and sends it before packing the next, so beside
 * its listing it holds one packed share (not every rank's at once, which doubled its memory
 * for the length of the scatter); its own share it packs straight into its table. Messages
 * are of at most piece bytes: MPI counts are int, whatever the size of a share.
 */
static int deal_shares(MPI_Comm comm, int nranks, const struct s3dlio_objlist *list,
                       const int *owner, const bool *dir_conflict, uint64_t piece, char **mine,
                       uint64_t *mylen)
{
    size_t *first = s3dlio_xcalloc((size_t)nranks, sizeof(*first));
    size_t *count = s3dlio_xcalloc((size_t)nranks, sizeof(*count));
    size_t *rows = rows_by_owner(owner, list->n, nranks, first, count);
    int ok = MPI_SUCCESS;
    for (int r = 0; r < nranks && ok == MPI_SUCCESS; r++) {
        uint64_t len = packed_len(list, rows + first[r], count[r]);
        char *buf = s3dlio_xmalloc(len ? len : 1);
        pack_into(buf, list, rows + first[r], count[r], owner, dir_conflict);
        if (r == 0) {
            *mine = buf;
            *mylen = len;
            continue;
        }
        ok = s3dlio_coord_send_bytes(comm, r, buf, len, piece);
        free(buf);
    }
    free(rows);
    free(first);
    free(count);
    return ok;
}

enum s3dlio_rc s3dlio_table_scatter_rounds(MPI_Comm comm, const struct s3dlio_objlist *list,
                                           const int *owner, const bool *dir_conflict,
                                           uint64_t piece_bytes, struct s3dlio_table *t,
                                           struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    memset(t, 0, sizeof(*t));
    uint64_t piece = piece_bytes ? piece_bytes : 1, mylen = 0;
    if (piece > INT_MAX)
        piece = INT_MAX;
    /* what only the whole listing knows, for the report and the progress line */
    uint64_t whole[2] = {0, 0};
    if (rank == 0) {
        whole[0] = list->n;
        for (size_t i = 0; i < list->n; i++)
            whole[1] += list->items[i].size;
    }
    MPI_Bcast(whole, 2, MPI_UINT64_T, 0, comm);
    int ok = rank == 0 ? deal_shares(comm, nranks, list, owner, dir_conflict, piece, &t->blob, &mylen)
                       : s3dlio_coord_recv_bytes(comm, 0, &t->blob, &mylen, piece);
    if (ok != MPI_SUCCESS)
        return s3dlio_error_set(err, S3DLIO_E_INTERNAL, "stage", "MPI_Send",
                                "scatter of the listing failed");
    unpack(t);
    t->listed = (size_t)whole[0];
    t->total_bytes = whole[1];
    t->share_only = true;
    t->received_bytes = rank == 0 ? 0 : mylen;
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_table_scatter(MPI_Comm comm, const struct s3dlio_objlist *list,
                                    const int *owner, const bool *dir_conflict,
                                    struct s3dlio_table *t, struct s3dlio_error *err)
{
    return s3dlio_table_scatter_rounds(comm, list, owner, dir_conflict, (uint64_t)1 << 30, t, err);
}
