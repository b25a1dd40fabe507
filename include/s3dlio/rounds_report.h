/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The report of `bench sync` (include/s3dlio/bench.h): every rank's time per round, and what
 * follows from it per round (spread, barrier skew, the throughput the slowest rank allows)
 * and across rounds (percentiles, the ranks and hosts that are slowest most often). Plain
 * data and pure functions, no MPI: coord gathers the samples, rank 0 builds, prints and
 * writes the report; tests build one by hand.
 */
#ifndef S3DLIO_ROUNDS_REPORT_H
#define S3DLIO_ROUNDS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "s3dlio/error.h"

/* One rank in one round, measured on that rank's own clock only. */
struct s3dlio_sync_sample {
    double seconds; /* from leaving the round's barrier to its last byte */
    double wait_s;  /* from arriving at the barrier to leaving it */
    uint64_t bytes, objects, failures;
    uint64_t assignment; /* hash of the set of keys the rank was given (s3dlio_sync_key_hash
                            summed): equal sets give equal values, in any order */
};

/* What one round comes to (s3dlio_rounds_report_build). */
struct s3dlio_sync_round {
    double slowest_s, fastest_s, median_s; /* fastest and median over ranks that had objects */
    int slowest_rank, fastest_rank;        /* ties: the lowest rank; -1 when no rank had work */
    double spread_max_min;                 /* slowest / fastest; NAN when fastest took 0 s */
    double spread_max_median;              /* slowest / median; NAN likewise */
    double skew_s;                         /* max - min of the ranks' barrier waits */
    uint64_t bytes, objects, failures;
    double MBps; /* bytes / slowest_s / 1e6; NAN when slowest_s is 0 */
};

/* p50 / p90 / max of one figure over rounds (linear interpolation between closest ranks). */
struct s3dlio_sync_pct {
    double p50, p90, max;
};

/* A failed object of one round. */
struct s3dlio_sync_failure {
    int round, rank; /* round from 1 */
    char *key;       /* heap */
    char *error;     /* heap: the one-line error */
};

/* A file written beside the report. */
struct s3dlio_sync_file {
    char kind[16]; /* "picture" */
    char path[1024];
};

struct s3dlio_rounds_report {
    /* set by the caller */
    char run_id[64];
    char source[1024];  /* the URI listed */
    char scratch[1400]; /* --write: the URI prefix written and removed; "" for reads */
    bool write;
    bool shuffle;
    uint64_t seed;
    int nranks;
    int rounds_asked;
    int nrounds; /* rounds that ran (fewer after a failure or an interrupt) */
    uint64_t listed, dataset_bytes;
    double list_s;                      /* rank 0's listing, once */
    char (*hosts)[64];                  /* nranks host names (borrowed) */
    struct s3dlio_sync_sample *samples; /* nrounds x nranks, round-major (borrowed) */
    struct s3dlio_sync_failure *failed; /* borrowed */
    size_t nfailed;
    bool interrupted;
    bool scratch_left; /* --write: the scratch prefix could not be removed */
    struct s3dlio_sync_file files[2];
    size_t nfiles;
    /* filled by s3dlio_rounds_report_build */
    struct s3dlio_sync_round *rounds; /* nrounds (heap) */
    struct s3dlio_sync_pct round_s, spread_max_min, spread_max_median, skew_s;
    double mean_MBps;      /* mean of the rounds' MBps */
    double sustained_MBps; /* all rounds' bytes / the sum of their slowest times */
    int *slowest_count;    /* nranks (heap): rounds in which each rank was the slowest */
};

/* The assignment hash of one key: FNV-1a, 64 bits (docs/bench-sync-schema.json). */
uint64_t s3dlio_sync_key_hash(const char *key);

/* The sample of rank `rank` in round index `i` (from 0). */
static inline struct s3dlio_sync_sample *s3dlio_sync_at(const struct s3dlio_rounds_report *r, int i,
                                                        int rank)
{
    return &r->samples[(size_t)i * (size_t)r->nranks + (size_t)rank];
}

/* Fill the derived fields from the samples; may be called again after they change. */
void s3dlio_rounds_report_build(struct s3dlio_rounds_report *r);
/*
 * The ranks that were the slowest in at least one round, most often first (ties: lowest
 * rank), into out (nranks entries); returns how many.
 */
size_t s3dlio_sync_slowest_ranks(const struct s3dlio_rounds_report *r, int *out);
/* Free what build allocated (not the borrowed arrays). */
void s3dlio_rounds_report_release(struct s3dlio_rounds_report *r);

/* The table for people. */
void s3dlio_rounds_report_print_table(const struct s3dlio_rounds_report *r, FILE *out);

/* JSON, schema "s3dlio-mpi/bench-sync" version 1 (docs/bench-sync-schema.json). */
enum s3dlio_rc s3dlio_rounds_report_write_json(const struct s3dlio_rounds_report *r, FILE *out);

#endif
