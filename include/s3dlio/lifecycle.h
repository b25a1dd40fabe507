/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The large-scale lifecycle benchmark (bench lifecycle, s3dlio's headline test, distributed):
 * create a bucket, upload a generated dataset from every rank, list it, download it checking
 * every byte against the generator, delete every object in DeleteObjects batches from every
 * rank, delete the bucket. Each phase is timed between barriers; with profile_hz the CPU
 * samples of all phases go into one profile with a flamegraph per phase, the upload and
 * download ones also under s3dlio's names (large_scale_upload_profile.svg, ...).
 *
 * Safety: the objects go under a prefix of their own (s3dlio-lifecycle-<run-id>/), a bucket
 * that already holds objects is refused unless allow_nonempty, a bucket that existed before
 * is never deleted, and whatever phase fails (or a signal stops the run), what was uploaded is
 * deleted again unless keep.
 */
#ifndef S3DLIO_LIFECYCLE_H
#define S3DLIO_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "s3dlio/stats.h"
#include "s3dlio/xfer.h"

struct s3dlio_lifecycle_opts {
    const char *bucket_uri;      /* s3://BUCKET */
    uint64_t total_bytes;        /* the dataset: objects are added until their sizes reach it */
    uint64_t min_size, max_size; /* object sizes, uniform in [min, max] */
    uint64_t seed;               /* the generator's: sizes and contents */
    bool keep;                   /* leave the objects (and a bucket made here) */
    bool allow_nonempty;         /* run in a bucket that holds objects (beside them) */
    const char *run_id;          /* NULL: generated */
    const char *report_path;     /* NULL: profiles/<run-id>/lifecycle.json */
    int profile_hz;              /* CPU samples per second; 0: none */
    bool profile_per_rank;
    int progress;                /* 0 none, 1 lines, 2 bar (per transfer phase) */
    struct s3dlio_xfer_opts xfer;/* put/get concurrency: 16 and 32 as s3dlio by default */
};

enum s3dlio_lifecycle_phase {
    S3DLIO_LC_CREATE,
    S3DLIO_LC_UPLOAD,
    S3DLIO_LC_LIST,
    S3DLIO_LC_DOWNLOAD,
    S3DLIO_LC_DELETE,
    S3DLIO_LC_DELETE_BUCKET,
    S3DLIO_LC_PHASES
};

struct s3dlio_lifecycle_result {
    bool ran[S3DLIO_LC_PHASES];
    double seconds[S3DLIO_LC_PHASES];
    uint64_t objects, bytes;     /* the dataset */
    uint64_t deleted;            /* objects deleted (by the phase or the cleanup) */
    bool bucket_created, bucket_deleted, cleaned_up;
    char report_file[1024];      /* rank 0 */
};

/* Its name in the table and JSON: "create bucket", "upload", ... */
const char *s3dlio_lifecycle_phase_name(enum s3dlio_lifecycle_phase p);

/* One transfer phase's headline figures (from its stage report). */
struct s3dlio_lifecycle_transfer {
    double MBps, rank_MBps_min, rank_MBps_median, rank_MBps_max; /* NAN: too short */
    double ttfb_ms_p50, ttfb_ms_p99, total_ms_p50, total_ms_p99;
    uint64_t requests, retries;
    double cpu_s;
    char report[1024];           /* its stage report */
};

/* What rank 0 reports. */
struct s3dlio_lifecycle_report {
    char run_id[64];
    char bucket_uri[512], prefix[128];
    int nranks, put_concurrency, get_concurrency, max_connections;
    uint64_t min_size, max_size, seed;
    struct s3dlio_lifecycle_result res;
    struct s3dlio_lifecycle_transfer upload, download;
    const char *failed_phase;    /* NULL: none */
    char error[1024];            /* the failure, one line ("" none) */
    bool interrupted;
    const struct s3dlio_report_file *files; /* pictures, borrowed */
    size_t nfiles;
};

/* The table (like s3dlio's results table) and the JSON. */
void s3dlio_lifecycle_print_table(const struct s3dlio_lifecycle_report *r, FILE *out);
enum s3dlio_rc s3dlio_lifecycle_write_json(const struct s3dlio_lifecycle_report *r, FILE *out);

#endif
