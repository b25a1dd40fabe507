/* SPDX-License-Identifier: Apache-2.0 */
/* What bench_sync.c (the rounds) and bench_sync_out.c (gathering, report, scratch) share. */
#ifndef S3DLIO_COORD_BENCH_SYNC_INT_H
#define S3DLIO_COORD_BENCH_SYNC_INT_H

#include "coord/coord_int.h"
#include "s3dlio/bench.h"
#include "util/atomic_file.h"
#include "xfer/datagen.h"

/* One run of bench sync, on one rank. */
struct bsync {
    MPI_Comm comm;
    int rank, nranks;
    const struct s3dlio_bench_sync_opts *o;
    struct s3dlio_uri uri;
    struct s3dlio_backend *be; /* this rank's, for every round */
    struct s3dlio_table table; /* the dataset: whole (--shuffle) or this rank's share */
    double list_s;
    char run_id[RUN_ID_MAX];
    char scratch_root[1100]; /* key prefix of every run's scratch: "<prefix>bench-sync-" */
    char scratch_key[1200];  /* this run's: "<scratch_root><run-id>/" */
    char scratch_uri[1400];
    struct s3dlio_gen gen; /* write: the data */
    int *owner;            /* table.n: the round's owner of each object */
    size_t *order;         /* table.n: the round's order of the listing */
    int rounds_done;
    uint64_t failures;
    bool interrupted;
    bool scratch_left;
    /* rank 0 */
    struct s3dlio_sync_sample *samples; /* rounds x nranks */
    char (*hosts)[64];
    struct s3dlio_sync_failure *failed;
    size_t nfailed;
    struct s3dlio_atomic_file rfile;
    char report_path[1024];
};

/* Rank 0: the report opened before any round (profiles/<run-id>/bench-sync.json or --report). */
enum s3dlio_rc s3dlio_bench_sync_open_report(struct bsync *b, struct s3dlio_bench_sync_result *res,
                                             struct s3dlio_error *err);
/* Every rank's host name to rank 0's b->hosts. Collective. */
void s3dlio_bench_sync_gather_hosts(struct bsync *b);
/* The failed objects of round r (this rank's in plan) to rank 0's b->failed. Collective. */
void s3dlio_bench_sync_gather_failed(struct bsync *b, int r, const struct s3dlio_plan *plan);
/* write: rank 0 removes every object under this run's scratch prefix; agreed rc. Collective. */
enum s3dlio_rc s3dlio_bench_sync_clean(struct bsync *b, struct s3dlio_error *err);
/* Rank 0: the report built, printed to out (NULL: not), the picture and the JSON written. */
enum s3dlio_rc s3dlio_bench_sync_report(struct bsync *b, FILE *out,
                                        struct s3dlio_bench_sync_result *res,
                                        struct s3dlio_error *err);

#endif
