/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPI coordination: rank 0 lists and partitions, the assignment reaches every rank in one
 * broadcast of a packed key/size/owner table, each rank runs its own transfer engine on its
 * shard, and per-rank statistics are gathered into one report on rank 0. Functions take the
 * communicator, so tests can pass MPI_COMM_SELF or a split communicator.
 */
#ifndef S3DLIO_COORD_H
#define S3DLIO_COORD_H

#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>
#include "s3dlio/backend.h"
#include "s3dlio/config.h"
#include "s3dlio/lifecycle.h"
#include "s3dlio/partition.h"
#include "s3dlio/stats.h"
#include "s3dlio/sync.h"
#include "s3dlio/xfer.h"

enum s3dlio_dest_kind {
    S3DLIO_DEST_MEM = 0, /* one arena per rank, objects at known offsets */
    S3DLIO_DEST_DIR,     /* files mirroring the keys under a directory */
    S3DLIO_DEST_NULL,    /* read and discard */
    S3DLIO_DEST_H5,      /* one shared parallel HDF5 file (README "HDF5 destination and reader") */
};

/* Parse "mem", "dir:PATH", "null", "h5:PATH". */
enum s3dlio_rc s3dlio_dest_parse(const char *s, enum s3dlio_dest_kind *kind, const char **path);

/* What the ranks do with the table rank 0 makes. */
enum s3dlio_job_kind {
    S3DLIO_JOB_GET = 0, /* stage / get --recursive: list uri, GET each object */
    S3DLIO_JOB_PUT_DIR, /* put --recursive: list local_dir, PUT each file under uri */
    S3DLIO_JOB_PUT_GEN, /* put --generate: gen_count generated objects under uri */
};

struct s3dlio_stage_opts {
    enum s3dlio_job_kind kind;
    const char *command;            /* for the report: "stage", "get", "put" */
    const char *uri;
    const char *local_dir;          /* PUT_DIR: absolute path, the same on every rank */
    bool follow_symlinks;           /* PUT_DIR: enter symbolic links to directories */
    const struct s3dlio_gen *gen;   /* PUT_GEN */
    uint64_t gen_count, gen_min, gen_max;
    const struct s3dlio_gen *verify_gen; /* GET to null: check the generator's pattern */
    enum s3dlio_dest_kind dest;
    const char *dest_path;          /* DIR, H5 */
    enum s3dlio_partition_mode partition;
    bool shuffle;
    uint64_t shuffle_seed;
    bool steal;                     /* dynamic balancing from a shared counter */
    uint64_t steal_chunk;           /* objects per stolen chunk (0: automatic) */
    uint64_t max_memory;            /* MEM: per-rank cap in bytes (0: none); with steal a rank
                                       stops taking chunks that would pass it */
    const char *report_path;        /* NULL: profiles/<run_id>/report.json */
    const char *trace_path;         /* a Chrome trace of every request (include/s3dlio/trace.h);
                                       NULL: none. Its directory must exist. */
    const char *run_id;             /* NULL: generated, agreed by all ranks */
    int progress;                   /* 0 none, 1 periodic lines, 2 live bar */
    int profile_hz;                 /* CPU samples per second (--profile-cpu); 0: none */
    bool profile_per_rank;          /* flamegraphs with a root frame per rank */
    bool list_serial;               /* GET: rank 0 lists alone (--list-parallel off) */
    const char *list_dump;          /* GET: rank 0 writes the listing here, one "key TAB size TAB
                                       etag" line per object, before folder markers are dropped
                                       (NULL: not) */
    bool list_only;                 /* GET: list (and dump), then stop: nothing moved, no report */
    struct s3dlio_xfer_opts xfer;
};

/*
 * What a rank holds after a MEM stage: the objects it fetched, each whole. With static
 * partitioning they lie in one block; with --steal in one block per chunk the rank took,
 * so a rank holds its share, never the dataset. Objects that failed are not listed.
 */
struct s3dlio_shard {
    size_t n;
    char **keys;                    /* heap */
    uint64_t *sizes;
    unsigned char **data;           /* data[i]: object i's sizes[i] bytes, inside a block */
    unsigned char **blocks;         /* heap allocations holding the data */
    size_t nblocks;
    uint64_t bytes;                 /* sum of the blocks' sizes */
};
void s3dlio_shard_release(struct s3dlio_shard *s);

struct s3dlio_stage_result {
    struct s3dlio_shard shard;      /* MEM only */
    uint64_t listed;                /* objects in the job's table (every rank gets it) */
    double list_s;                  /* rank 0: seconds the listing took (the report's list_s) */
    uint64_t objects, failures;     /* over all ranks (every rank gets them); listed minus
                                       both were not done (interrupted, or left by --steal) */
    bool interrupted;               /* some rank was stopped by opts->xfer.cancel */
    bool listing_cut;               /* ... while listing: nothing was transferred, no report */
    char report_file[1024];         /* rank 0: where the JSON went */
    char first_failure[512];        /* rank 0: the first failed object's error ("" none) */
    /* rank 0, once the report is built: its headline figures, for a caller that runs several
     * jobs and reports on them together (bench lifecycle) */
    struct s3dlio_stage_summary {
        double wall_s, MBps;        /* MBps NAN when the run was too short to give a rate */
        double rank_MBps_min, rank_MBps_median, rank_MBps_max;
        double ttfb_ms_p50, ttfb_ms_p99, total_ms_p50, total_ms_p99;
        uint64_t bytes, requests, retries;
        double cpu_s;
    } summary;
};

/*
 * List every object under uri's prefix (recursively) into out on rank 0, as one
 * ListObjectsV2 walk would: the same entries in the same (UTF-8 byte) order, with their
 * sizes, mtimes and ETags. With parallel and more than one rank, rank 0 cuts the key space
 * into pieces (common prefixes, descending while there are too few; start-after ranges in a
 * level of more than a page) and the ranks list them at once; otherwise rank 0 lists alone.
 * out is appended to on rank 0 only (caller releases it). Collective; every rank returns the
 * same rc, with the failing rank's message in err. A merge that is not strictly in key
 * order (a bug, or a server that answers start-after wrongly) fails with S3DLIO_E_INTERNAL.
 */
enum s3dlio_rc s3dlio_coord_list(MPI_Comm comm, const struct s3dlio_config *cfg,
                                 const struct s3dlio_uri *uri, bool parallel,
                                 struct s3dlio_objlist *out, struct s3dlio_error *err);

/*
 * Stage opts->uri onto every rank of comm (or, by opts->kind, upload a directory or a
 * generated dataset from every rank). Collective: every rank calls it with the same
 * options. Rank 0 prints the report table to `out` (NULL: none) and writes the JSON.
 * opts->run_id must be a plain name (not empty, no '/', not "." or "..", no control
 * characters, under 64 bytes): otherwise S3DLIO_E_USAGE on every rank before anything is
 * listed or written.
 * Returns S3DLIO_OK on every rank when every object arrived; a per-object failure gives
 * S3DLIO_E_S3 (or the failure's rc) on every rank after the report; a failure that stops
 * the job (listing, memory cap, destination) returns its rc on every rank with err set
 * to the failing rank's message on rank 0; a cancelled run (opts->xfer.cancel) returns
 * S3DLIO_E_ABORTED on every rank after cleaning up and writing the report.
 */
enum s3dlio_rc s3dlio_coord_stage(MPI_Comm comm, const struct s3dlio_config *cfg,
                                  const struct s3dlio_stage_opts *opts, FILE *out,
                                  struct s3dlio_stage_result *res, struct s3dlio_error *err);

/*
 * bench lifecycle (include/s3dlio/lifecycle.h) on every rank of comm. Collective; every rank
 * returns the same rc. Rank 0 prints the table to out (NULL: none) and writes the JSON report
 * (schema "s3dlio-mpi/lifecycle", docs/lifecycle-schema.json). A failed phase ends the run
 * after the cleanup, with that phase's error (err on rank 0).
 */
enum s3dlio_rc s3dlio_bench_lifecycle(MPI_Comm comm, const struct s3dlio_config *cfg,
                                      const struct s3dlio_lifecycle_opts *o, FILE *out,
                                      struct s3dlio_lifecycle_result *res, struct s3dlio_error *err);

/* ---- sync: one-way, any two URIs (README "sync") ---- */

struct s3dlio_sync_opts {
    const char *src, *dst;            /* URIs; each names a prefix (a '/' is implied) */
    enum s3dlio_sync_compare compare;
    bool delete_extra;                /* --delete: remove what DST has and SRC has not, after
                                         every copy succeeded (never when one failed) */
    bool dry_run;                     /* print the plan on rank 0's `out`, change nothing */
    struct s3dlio_stage_opts job;     /* report, trace, run id, progress, CPU profile, engine
                                         options; kind, uri and dest are set by the sync */
    const struct s3dlio_config *src_cfg; /* the source's connection (another endpoint, region
                                            or account); NULL: the destination's */
    bool no_server_copy;              /* s3 to s3: relay even on one endpoint */
    uint64_t relay_memory;            /* relay: bytes of objects in memory at once per rank;
                                         larger objects are piped (0: 256 MiB) */
};

struct s3dlio_sync_result {
    struct s3dlio_stage_result job;   /* objects copied and failed, the report file */
    uint64_t to_copy, copy_bytes;     /* the plan (every rank gets it) */
    uint64_t to_delete, same;
    uint64_t deleted;                 /* extras removed (--delete) */
    bool etag_size_only;              /* --compare etag with a file:// side: by size instead */
    bool server_side;                 /* s3 to s3: CopyObject / UploadPartCopy, no data moved
                                         through the client */
    bool relayed;                     /* s3 to s3 across endpoints (or no_server_copy): GET
                                         from the source into PUT to the destination */
};

/*
 * Make DST hold what SRC holds. Rank 0 lists both sides at once (the destination on a second
 * thread), computes the difference (s3dlio_sync_diff), partitions the copies by size and
 * broadcasts them; every rank copies its share; rank 0 prints and writes the report as
 * s3dlio_coord_stage does, then, with delete_extra and no failure, deletes the extras.
 * Collective; every rank returns the same rc. A dry run lists and diffs only: no report,
 * nothing written anywhere.
 */
enum s3dlio_rc s3dlio_coord_sync(MPI_Comm comm, const struct s3dlio_config *cfg,
                                 const struct s3dlio_sync_opts *opts, FILE *out,
                                 struct s3dlio_sync_result *res, struct s3dlio_error *err);

#endif
