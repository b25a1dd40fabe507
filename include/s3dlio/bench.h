/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmarks over MPI. bench sync: the multi-node synchronisation benchmark. In each round
 * every rank leaves a barrier together and reads (or writes) its share of a dataset, as a
 * training step waits for its slowest reader; the report (include/s3dlio/rounds_report.h) says
 * per round how long each rank took, how far apart they were and what the slowest allowed.
 */
#ifndef S3DLIO_BENCH_H
#define S3DLIO_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "s3dlio/coord.h"
#include "s3dlio/rounds_report.h"

struct s3dlio_bench_sync_opts {
    const char *uri;              /* the dataset: every object under this prefix */
    int rounds;                   /* 1..S3DLIO_BENCH_SYNC_MAX_ROUNDS */
    bool shuffle;                 /* a new assignment each round: the listing shuffled with
                                     seed + round - 1 and dealt round-robin (an epoch order);
                                     else balanced by bytes, the same every round */
    uint64_t seed;                /* also the generator's seed with write */
    bool write;                   /* PUT generated data of the listed sizes under the scratch
                                     prefix <prefix>bench-sync-<run-id>/, removed at the end */
    const char *report_path;      /* NULL: profiles/<run-id>/bench-sync.json */
    const char *run_id;           /* NULL: generated, agreed by all ranks */
    bool progress;                /* rank 0 says each round in one line on stderr */
    struct s3dlio_xfer_opts xfer; /* the engine's options; xfer.cancel stops the benchmark */
};

#define S3DLIO_BENCH_SYNC_MAX_ROUNDS 100000

struct s3dlio_bench_sync_result {
    uint64_t listed; /* objects in the dataset */
    int rounds_done;
    uint64_t failures;       /* failed objects over all rounds and ranks */
    bool interrupted;        /* xfer.cancel stopped it */
    bool scratch_left;       /* write: the scratch prefix could not be removed */
    char report_file[1024];  /* rank 0: where the JSON went ("" none) */
    char picture_file[1024]; /* rank 0: the SVG beside it ("" none) */
};

/*
 * Run bench sync over comm. Collective: every rank calls it with the same options. Rank 0
 * lists the prefix once (keys ending in '/' and earlier runs' scratch prefixes
 * <prefix>bench-sync-*, left by a killed run, are not part of the dataset), one broadcast
 * carries the listing, and every rank computes each round's assignment itself. Each rank
 * times itself only: from leaving the round's barrier to its last byte, and its wait in the
 * barrier; no two ranks' clocks are compared. Rank 0 prints the table to out (NULL: none),
 * and writes the JSON (schema s3dlio-mpi/bench-sync, docs/bench-sync-schema.json) and, when
 * the report is a file, the picture beside it (<report stem>.svg).
 * Returns S3DLIO_OK on every rank when every object of every round moved. A failed object
 * ends the benchmark after its round: the report is written and every rank returns the
 * failure's rc with err (on rank 0) naming the first failing rank's key and error. A failure
 * before the rounds (listing, an empty dataset, the report's place) returns its rc with the
 * failing rank's message; a cancel returns S3DLIO_E_ABORTED after the report. With write
 * the scratch prefix is removed whatever happened; if that fails, S3DLIO_E_S3 (or its rc)
 * unless something failed before, and res->scratch_left.
 */
enum s3dlio_rc s3dlio_coord_bench_sync(MPI_Comm comm, const struct s3dlio_config *cfg,
                                       const struct s3dlio_bench_sync_opts *o, FILE *out,
                                       struct s3dlio_bench_sync_result *res,
                                       struct s3dlio_error *err);

#endif
