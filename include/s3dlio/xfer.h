/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transfer engine: one event loop per process moving a list of objects between a
 * backend and local memory, files, a discard sink or the data generator, with bounded
 * concurrency, ranged GETs and multipart PUTs for large objects, retries with backoff, and
 * memory bounded by configuration. No MPI here: the coordination layer hands it a shard.
 */
#ifndef S3DLIO_XFER_H
#define S3DLIO_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "s3dlio/backend.h"

#define S3DLIO_SIZE_UNKNOWN UINT64_MAX

struct s3dlio_gen;
struct s3dlio_hist;
struct s3dlio_xfer_stats;

struct s3dlio_xfer_opts {
    int get_concurrency;          /* GET requests in flight (default 32) */
    int put_concurrency;          /* PUT requests in flight (default 16) */
    uint64_t range_threshold;     /* GETs of larger objects are split into ranged parts (4 MiB) */
    uint64_t part_size;           /* ranged GET and multipart PUT part size (8 MiB) */
    uint64_t multipart_threshold; /* PUTs of larger objects go multipart (16 MiB) */
    int retries;                  /* attempts after the first, for retryable failures (5) */
    uint64_t retry_base_ms;       /* backoff: full jitter over base * 2^attempt ... (100) */
    uint64_t retry_cap_ms;        /* ... capped here (10000) */
    uint64_t ramp_ms;             /* in-flight limit grows from 1 to the full value (100) */
    double max_request_rate;      /* requests per second started, 0 = unlimited */
    bool verify;                  /* PUT: Content-MD5; GET: MD5 against single-part ETags */
    bool hash_payload;            /* SigV4 payload hash (SHA-256) computed while reading */
    uint64_t jitter_seed;         /* seeds the backoff jitter (tests pin it) */
    /* called from the loop about every tick_ms with the stats so far (progress reports);
     * it runs on the loop's thread between transfers, so it may make MPI calls */
    void (*tick)(void *ud, const struct s3dlio_xfer_stats *st);
    void *tick_ud;
    uint64_t tick_ms;
    uint64_t test_delay_ms;       /* sleep before each request: tests slow one rank on purpose */
    struct s3dlio_hist *ttfb_hist;  /* optional: every successful request's time to first */
    struct s3dlio_hist *total_hist; /* byte and total time are added here */
};

/* Fill o with the documented defaults. */
void s3dlio_xfer_opts_default(struct s3dlio_xfer_opts *o);

enum s3dlio_xfer_dir { S3DLIO_XFER_GET, S3DLIO_XFER_PUT };

/* The local side of a transfer. */
enum s3dlio_xfer_local {
    S3DLIO_LOCAL_DISCARD,   /* GET only: bytes are counted and dropped */
    S3DLIO_LOCAL_MEMORY,    /* `mem`, `size` bytes: GETs land in place, PUTs read from it */
    S3DLIO_LOCAL_FILE,      /* `path`: GETs go to a temp file renamed when complete */
    S3DLIO_LOCAL_GENERATOR, /* PUT: data from `gen`; GET: verified against `gen`, dropped */
};

/*
 * One object to move. Inputs are borrowed and must outlive s3dlio_xfer_run; results are
 * filled by it.
 */
struct s3dlio_xfer_job {
    enum s3dlio_xfer_dir dir;
    const char *key;
    uint64_t size;                 /* S3DLIO_SIZE_UNKNOWN: GET asks (HEAD) when it must */
    enum s3dlio_xfer_local local;
    void *mem;
    const char *path;
    const struct s3dlio_gen *gen;
    /* results (zero them before the run) */
    enum s3dlio_rc rc;
    struct s3dlio_error err;       /* the final failure: key, status, S3 code, request id */
    uint64_t bytes;                /* payload bytes moved, counting retried ranges once */
    int requests;
    int retries;
};

struct s3dlio_xfer_stats {
    uint64_t objects;      /* completed successfully */
    uint64_t failures;     /* objects that failed after retries */
    uint64_t bytes;
    uint64_t requests;     /* object data requests started, retries included */
    uint64_t retries;
    uint64_t throttled;    /* 503 SlowDown and 429 answers */
    uint64_t server_errors;/* other 5xx answers */
    uint64_t t_start_ns, t_end_ns; /* CLOCK_MONOTONIC */
    uint64_t ttfb_ns_sum;  /* sum over successful requests, for the mean */
    uint64_t max_inflight;
};

/*
 * Move every job; a job that arrives with rc set is not run and counts as failed. stats is
 * zeroed at the start. Returns S3DLIO_OK when all succeeded, else the rc of the first failed job
 * (every job's own rc and err are set; failed objects leave nothing behind that looks
 * complete: temp files are removed, multipart uploads aborted). stats may be NULL.
 */
enum s3dlio_rc s3dlio_xfer_run(struct s3dlio_backend *be, struct s3dlio_xfer_job *jobs, size_t n,
                               const struct s3dlio_xfer_opts *opts, struct s3dlio_xfer_stats *stats);

#endif
