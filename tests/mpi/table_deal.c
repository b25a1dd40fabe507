/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3dlio_table_deal against the merged path it replaces: for a real listing, every rank's
 * table dealt from the spread listing (no rank holding the whole listing) must be the table
 * the merged listing gives through the scatter: the same rows in the same order, with the
 * same sizes, ETags and directory conflicts, the same count and bytes of the whole listing,
 * and the same folder markers left out. Checked for every partition mode, shuffled too.
 *   table_deal URI [MIN_CONFLICTS]   (under mpirun; MIN_CONFLICTS: the listing has at least
 *                                     that many keys used as directories, so the check bites)
 */
#include <mpi.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "coord/coord_int.h"
#include "s3dlio/s3dlio.h"
#include "mpi_expect.h"

static int rank;

/* What stage's merged path does: list, drop folder markers, partition and scatter. */
static enum s3dlio_rc merged(const struct s3dlio_config *cfg, const struct s3dlio_uri *uri,
                             const struct s3dlio_deal *d, int nranks, struct s3dlio_table *t,
                             uint64_t *markers, uint64_t *conflicts, struct s3dlio_error *err)
{
    struct s3dlio_objlist list = {0};
    enum s3dlio_rc rc = s3dlio_coord_list(MPI_COMM_WORLD, cfg, uri, true, &list, err);
    int *owner = NULL;
    bool *conflict = NULL;
    *markers = *conflicts = 0;
    if (!rc && rank == 0) {
        size_t kept = 0;
        for (size_t i = 0; i < list.n; i++) {
            size_t n = strlen(list.items[i].key);
            if (n && list.items[i].key[n - 1] == '/')
                (*markers)++;
            else
                list.items[kept++] = list.items[i];
        }
        list.n = kept;
        owner = s3dlio_coord_partition_list(&list, d->mode, d->shuffle_seed, nranks);
        conflict = calloc(list.n + 1, sizeof(*conflict));
        s3dlio_plan_dir_conflicts(&list, conflict);
        for (size_t i = 0; i < list.n; i++)
            *conflicts += conflict[i];
    }
    if (!rc)
        rc = s3dlio_table_scatter(MPI_COMM_WORLD, &list, owner, conflict, t, err);
    s3dlio_objlist_release(&list);
    free(owner);
    free(conflict);
    return rc;
}

static void compare(const struct s3dlio_table *want, const struct s3dlio_table *got, const char *what)
{
    EXPECT(got->n == want->n, "%s: %zu rows, want %zu", what, got->n, want->n);
    EXPECT(got->listed == want->listed, "%s: listed %zu, want %zu", what, got->listed, want->listed);
    EXPECT(got->total_bytes == want->total_bytes, "%s: %" PRIu64 " bytes, want %" PRIu64, what,
           got->total_bytes, want->total_bytes);
    EXPECT(got->share_only, "%s: not marked as this rank's share", what);
    size_t bad = 0;
    for (size_t i = 0; i < got->n && i < want->n && bad < 5; i++) {
        uint64_t size = s3dlio_table_size(got, i);
        bool conflict = s3dlio_table_conflict(got, i);
        bool same = !strcmp(got->keys[i], want->keys[i]) &&
                    !strcmp(s3dlio_table_etag(got, i), s3dlio_table_etag(want, i)) &&
                    size == want->sizes[i] && conflict == want->dir_conflict[i];
        EXPECT(same, "%s: row %zu is '%s' %" PRIu64 " '%s' conflict %d, want '%s' %" PRIu64
               " '%s' conflict %d", what, i, got->keys[i], size, s3dlio_table_etag(got, i),
               (int)conflict, want->keys[i], want->sizes[i], s3dlio_table_etag(want, i),
               (int)want->dir_conflict[i]);
        bad += !same;
    }
}

int main(int argc, char **argv)
{
    int nranks, provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (argc < 2) {
        if (rank == 0)
            fprintf(stderr, "usage: table_deal URI [MIN_CONFLICTS]\n");
        MPI_Finalize();
        return 2;
    }
    uint64_t min_conflicts = argc > 2 ? strtoull(argv[2], NULL, 10) : 0;
    struct s3dlio_config cfg = {0};
    struct s3dlio_error err = {0};
    struct s3dlio_uri uri = {0};
    if (s3dlio_global_init(&err) || s3dlio_config_load(&cfg, NULL, &err) ||
        s3dlio_uri_parse(&uri, argv[1], &err)) {
        fprintf(stderr, "setup: %s\n", err.message);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    static const uint64_t seed = 7;
    static const struct {
        const char *name;
        enum s3dlio_partition_mode mode;
        bool shuffle;
    } cases[] = {{"size", S3DLIO_PART_SIZE, false},
                 {"count", S3DLIO_PART_COUNT, false},
                 {"contiguous", S3DLIO_PART_CONTIGUOUS, false},
                 {"count shuffled", S3DLIO_PART_COUNT, true},
                 {"size shuffled", S3DLIO_PART_SIZE, true}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct s3dlio_deal d = {.mode = cases[c].mode,
                                      .shuffle_seed = cases[c].shuffle ? &seed : NULL,
                                      .dir_conflicts = true};
        struct s3dlio_table want = {0}, got = {0};
        struct s3dlio_spread spread = {0};
        uint64_t markers = 0, spread_markers = 0, conflicts = 0;
        enum s3dlio_rc rc = merged(&cfg, &uri, &d, nranks, &want, &markers, &conflicts, &err);
        EXPECT(rc == S3DLIO_OK, "%s: merged path: %s", cases[c].name, err.message);
        rc = s3dlio_coord_list_spread(MPI_COMM_WORLD, &cfg, &uri, &spread, &err);
        EXPECT(rc == S3DLIO_OK, "%s: spread listing: %s", cases[c].name, err.message);
        MPI_Reduce(&spread.markers, &spread_markers, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
        rc = s3dlio_table_deal(MPI_COMM_WORLD, &spread, &d, &got, &err);
        EXPECT(rc == S3DLIO_OK, "%s: deal: %s", cases[c].name, err.message);
        EXPECT(spread.nunits == 0, "%s: the deal left the spread listing in place", cases[c].name);
        compare(&want, &got, cases[c].name);
        if (rank == 0) {
            EXPECT(spread_markers == markers, "%s: %" PRIu64 " folder markers left out, want %" PRIu64,
                   cases[c].name, spread_markers, markers);
            EXPECT(conflicts >= min_conflicts, "%s: %" PRIu64 " keys used as directories, want at "
                   "least %" PRIu64 " (the listing does not test them)", cases[c].name, conflicts,
                   min_conflicts);
            if (c == 0)
                printf("%s: %zu objects, %" PRIu64 " folder markers, %" PRIu64
                       " keys used as directories\n", argv[1], got.listed, markers, conflicts);
        }
        s3dlio_table_release(&want);
        s3dlio_table_release(&got);
    }
    int all_failed = 0, all_passed = 0;
    MPI_Reduce(&failed, &all_failed, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&passed, &all_passed, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0)
        printf("table_deal at -n %d: %d checks passed, %d failed\n", nranks, all_passed, all_failed);
    MPI_Bcast(&all_failed, 1, MPI_INT, 0, MPI_COMM_WORLD);
    s3dlio_uri_release(&uri);
    s3dlio_config_release(&cfg);
    s3dlio_global_cleanup();
    MPI_Finalize();
    return all_failed ? 1 : 0;
}
