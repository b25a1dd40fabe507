/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3dlio_table_scatter: each rank receives exactly the rows it owns, in listing order, with
 * sizes, ETags and directory conflicts as rank 0 had them, plus the whole listing's count and
 * bytes; in one Scatterv and in many small rounds (the path a table past 2 GiB takes), and
 * with a rank that owns nothing. The broadcast, plain and into a node's shared window, gives
 * every row (one machine: the window's leaders broadcast has a single leader here).
 *   table_scatter          (under mpirun, any number of ranks)
 */
#include <mpi.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "coord/coord_int.h"
#include "mpi_expect.h"

static int rank;

/* Object i of the listing every rank can rebuild: keys of varied length, some ETags empty. */
static void object(size_t i, char *key, size_t klen, char *etag, size_t elen, uint64_t *size)
{
    snprintf(key, klen, "data/%0*zu-%zu", (int)(i % 37), i, i * 7919 % 1000);
    if (i % 5 == 0)
        etag[0] = '\0';
    else
        snprintf(etag, elen, "%016zx", i * 2654435761u); /* as stored: unquoted */
    *size = (uint64_t)i * 1000003u % 65536u;
}

/* Owners skip the last rank (it owns nothing) when there is more than one. */
static int owner_of(size_t i, int nranks)
{
    int usable = nranks > 1 ? nranks - 1 : 1;
    return (int)((i * 31 + i / 3) % (size_t)usable);
}

static void check(const struct s3dlio_table *t, size_t n, int nranks, bool share, bool conflicts,
                  const char *what)
{
    char key[128], etag[64];
    uint64_t size, bytes = 0;
    size_t row = 0;
    for (size_t i = 0; i < n; i++) {
        object(i, key, sizeof(key), etag, sizeof(etag), &size);
        bytes += size;
        int owner = owner_of(i, nranks);
        if (share && owner != rank)
            continue;
        if (row >= t->n) {
            EXPECT(0, "%s: only %zu rows, object %zu missing", what, t->n, i);
            return;
        }
        EXPECT(!strcmp(t->keys[row], key), "%s: row %zu key '%s', want '%s'", what, row,
               t->keys[row], key);
        EXPECT(!strcmp(s3dlio_table_etag(t, row), etag), "%s: row %zu etag '%s', want '%s'", what, row,
               s3dlio_table_etag(t, row), etag);
        EXPECT(t->sizes[row] == size, "%s: row %zu size %" PRIu64 ", want %" PRIu64, what, row,
               t->sizes[row], size);
        EXPECT(t->owner[row] == owner, "%s: row %zu owner %d, want %d", what, row, t->owner[row],
               owner);
        EXPECT(t->dir_conflict[row] == (conflicts && i % 7 == 3), "%s: row %zu conflict %d", what, row,
               (int)t->dir_conflict[row]);
        row++;
    }
    EXPECT(row == t->n, "%s: %zu rows, want %zu", what, t->n, row);
    EXPECT(t->listed == n, "%s: listed %zu, want %zu", what, t->listed, n);
    EXPECT(t->total_bytes == bytes, "%s: total %" PRIu64 ", want %" PRIu64, what, t->total_bytes,
           bytes);
    EXPECT(t->share_only == share, "%s: share_only %d", what, (int)t->share_only);
}

int main(int argc, char **argv)
{
    int nranks;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    static const struct {
        const char *name;
        size_t n;
        uint64_t round_bytes; /* 0: the default (one Scatterv) */
        bool no_conflicts;    /* the caller passes none: every flag must read false */
    } cases[] = {
        {"empty listing", 0, 0, false},
        {"one object", 1, 0, false},
        {"one scatterv", 2000, 0, false},
        {"no conflicts given", 2000, 0, true},
        {"rounds of 64 bytes", 500, 64, false},
        {"rounds of 1 byte", 40, 1, false},
        {"rounds of 4099 bytes", 3000, 4099, false},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t n = cases[c].n;
        struct s3dlio_objlist list = {0};
        int *owner = calloc(n ? n : 1, sizeof(*owner));
        bool *conflict = calloc(n ? n : 1, sizeof(*conflict));
        if (rank == 0)
            for (size_t i = 0; i < n; i++) {
                char key[128], etag[64];
                uint64_t size;
                object(i, key, sizeof(key), etag, sizeof(etag), &size);
                s3dlio_objlist_add(&list, key, size, -1, etag);
                owner[i] = owner_of(i, nranks);
                conflict[i] = i % 7 == 3;
            }
        struct s3dlio_table t = {0};
        struct s3dlio_error err = {0};
        const bool *given = cases[c].no_conflicts ? NULL : conflict;
        bool want = !cases[c].no_conflicts;
        enum s3dlio_rc rc =
            cases[c].round_bytes
                ? s3dlio_table_scatter_rounds(MPI_COMM_WORLD, &list, owner, given,
                                              cases[c].round_bytes, &t, &err)
                : s3dlio_table_scatter(MPI_COMM_WORLD, &list, owner, given, &t, &err);
        EXPECT(rc == S3DLIO_OK, "%s: scatter rc %d: %s", cases[c].name, (int)rc, err.message);
        if (!rc)
            check(&t, n, nranks, true, want, cases[c].name);
        s3dlio_table_release(&t);
        rc = s3dlio_table_bcast(MPI_COMM_WORLD, &list, owner, given, &t, &err);
        EXPECT(rc == S3DLIO_OK, "%s: bcast rc %d", cases[c].name, (int)rc);
        if (!rc)
            check(&t, n, nranks, false, want, cases[c].name);
        s3dlio_table_release(&t);
        rc = s3dlio_table_bcast_shared(MPI_COMM_WORLD, &list, owner, given, &t, &err);
        EXPECT(rc == S3DLIO_OK, "%s: shared rc %d: %s", cases[c].name, (int)rc, err.message);
        if (!rc) {
            check(&t, n, nranks, false, want, cases[c].name);
            EXPECT(t.shared, "%s: not in a shared window", cases[c].name);
        }
        s3dlio_table_release(&t);
        s3dlio_objlist_release(&list);
        free(owner);
        free(conflict);
    }
    int all_failed = 0;
    MPI_Allreduce(&failed, &all_failed, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("table_scatter: %d checks on rank 0, %d failed over %d ranks\n", passed, all_failed,
               nranks);
    MPI_Finalize();
    return all_failed ? 1 : 0;
}
