/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transfer engine: one event loop per process moving a list of objects between a
 * backend and local memory, files, a discard sink or the data generator, with bounded
 * concurrency, ranged GETs and multipart PUTs for large objects, retries with backoff, and
 * memory bounded by configuration. No MPI here: the coordination layer hands it a shard.
 *
 * Data safety: every GET of an object is pinned to the version listed (If-Match on its
 * ETag, its size, and the exact range asked for), so an object is never assembled from two
 * versions; destination files appear under their final name only when complete; a failed or
 * interrupted multipart upload is aborted.
 */
#ifndef S3DLIO_XFER_H
#define S3DLIO_XFER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "s3dlio/backend.h"
#include "s3dlio/stats.h"

struct s3dlio_gen;
struct s3dlio_xfer_stats;
struct s3dlio_xfer_job;

/* What happens to an object that changed between listing and transfer. */
enum s3dlio_on_change {
    S3DLIO_ON_CHANGE_FAIL = 0, /* it fails as "changed during transfer" (default) */
    S3DLIO_ON_CHANGE_RESTART,  /* once: HEAD the new version and transfer it whole again */
};

/*
 * Called by the loop when it has room for more objects and none are left (--steal feeds
 * chunks this way, so the loop never drains between them). Returns the number of new jobs
 * at *jobs (borrowed: each must stay valid until on_job_done reports it, or without that
 * callback until the run ends), 0 when there is no more work.
 */
typedef size_t s3dlio_xfer_refill_fn(void *ud, struct s3dlio_xfer_job **jobs);

/*
 * One request of the engine as it ended, for a request trace (--trace). Every request the
 * engine submits gives one span, data and control alike: each retry attempt, a request
 * refused before any I/O, one stopped by a cancel. So a run gives as many spans as
 * s3dlio_xfer_stats.requests (unless a backend without cancel_all fails in progress, when
 * the run stops with requests outstanding). Times are CLOCK_MONOTONIC nanoseconds of this
 * process: start when the engine submitted it, end when the loop learned it had ended.
 */
struct s3dlio_req_span {
    const char *key;          /* borrowed: valid during the callback only */
    const char *op;           /* static: "GET", "PUT", "UploadPart", "HEAD",
                                 "CreateMultipartUpload", "CompleteMultipartUpload",
                                 "AbortMultipartUpload", "CopyObject", "UploadPartCopy" */
    bool data;                /* GET, PUT or UploadPart: a request that moves payload */
    uint64_t range_off;       /* data: first byte asked for (PUT: of the source) */
    uint64_t range_len;       /* data: bytes asked for, S3DLIO_LEN_TO_END: to the end */
    int part_number;          /* UploadPart, HEAD of a part; 0 otherwise */
    /* A successful data request: the payload the report counts for it (a GET resumed after
     * a failed attempt includes what that attempt delivered, as the report does), so the
     * successful data spans of a run add up to s3dlio_xfer_stats.bytes (less the bytes of
     * objects fetched again after a change). Otherwise: the body bytes the attempt moved,
     * counted nowhere else. */
    uint64_t bytes;
    int http_status;          /* 0: no answer */
    int attempt;              /* 0: the first try */
    enum s3dlio_rc rc;        /* this attempt's outcome (a retry follows some failures) */
    uint64_t start_ns;
    uint64_t first_byte_ns;   /* 0: no response byte arrived */
    uint64_t end_ns;
};

/* Called on the loop's thread, once per request as it ends; see s3dlio_req_span. */
typedef void s3dlio_xfer_span_fn(void *ud, const struct s3dlio_req_span *span);

/*
 * Called on the loop's thread once for each job the engine is finished with: succeeded,
 * failed, refused up front (it arrived with rc set), or stopped by a cancel after it started.
 * job's results (rc, err, bytes, etag_out ...) are final, every request of it has ended, and
 * the engine never touches the job again: the callee may harvest and free it (this is how
 * a job feed keeps only the jobs in flight in memory). Jobs never started (a cancel came
 * first) are not reported; neither are those still in progress when a backend without
 * cancel_all breaks the loop (the run stops with requests outstanding). The relay
 * (s3dlio_xfer_relay) runs jobs of its own and does not call it.
 */
typedef void s3dlio_xfer_job_done_fn(void *ud, struct s3dlio_xfer_job *job);

struct s3dlio_xfer_opts {
    int get_concurrency;          /* GET requests in flight (default 32); with adapt_get the
                                     adaptive target's start and floor */
    int put_concurrency;          /* PUT (and COPY) requests in flight (default 16); likewise */
    /* The in-flight target of that direction adapts (src/xfer/adapt.h): from its concurrency
     * it grows while throughput rises and latency does not, up to max_concurrency, and goes
     * back when latency climbs or the server throttles. false (the default): pinned. */
    bool adapt_get, adapt_put;
    int max_concurrency;          /* ceiling of an adaptive target (the connection limit) */
    uint64_t range_threshold;     /* GETs of larger objects are split into ranged parts (4 MiB) */
    uint64_t part_size;           /* ranged GET and multipart PUT part size (8 MiB) */
    uint64_t multipart_threshold; /* PUTs of larger objects go multipart (16 MiB) */
    uint64_t copy_threshold;      /* COPYs of larger objects go multipart (5 GiB, S3's
                                     CopyObject limit; at most that) */
    int retries;                  /* retries of 5xx, 429 and short bodies (5) */
    uint64_t retry_time_ms;       /* connection failures keep being retried this long (30 s) */
    uint64_t retry_base_ms;       /* backoff: full jitter over base * 2^attempt ... (100) */
    uint64_t retry_cap_ms;        /* ... capped here (10000) */
    uint64_t ramp_ms;             /* in-flight limit grows from 1 to the full value (100) */
    double max_request_rate;      /* requests per second started, 0 = unlimited */
    bool verify;                  /* PUT: Content-MD5; GET: the data's MD5 against the ETag */
    bool hash_payload;            /* SigV4 payload hash (SHA-256) computed while reading */
    bool fsync;                   /* GET to files: fsync before the rename */
    enum s3dlio_on_change on_change;
    uint64_t jitter_seed;         /* seeds the backoff jitter; 0: from pid and clock */
    volatile sig_atomic_t *cancel;/* set non-zero (e.g. by a signal handler) to stop the run:
                                     in-flight requests stop, temporary files go, multipart
                                     uploads are aborted; a second increment stops waiting
                                     for the aborts */
    s3dlio_xfer_refill_fn *refill;/* optional, see s3dlio_xfer_refill_fn */
    void *refill_ud;
    /* called from the loop about every tick_ms with the stats so far (progress reports);
     * it runs on the loop's thread between transfers, so it may make MPI calls */
    void (*tick)(void *ud, const struct s3dlio_xfer_stats *st);
    void *tick_ud;
    uint64_t tick_ms;
    struct s3dlio_hist *ttfb_hist;  /* optional: every successful request's time to first */
    struct s3dlio_hist *total_hist; /* byte and total time are added here */
    s3dlio_xfer_span_fn *on_span;   /* optional: every request as it ends (a trace); NULL
                                       costs nothing */
    void *span_ud;
    s3dlio_xfer_job_done_fn *on_job_done; /* optional: every job as the engine lets go of it */
    void *job_done_ud;
};

/* Fill o with the documented defaults. */
void s3dlio_xfer_opts_default(struct s3dlio_xfer_opts *o);

/* Largest part of a multipart upload and the most parts, per S3's limits. */
#define S3DLIO_MAX_PART_SIZE (5ull << 30)
#define S3DLIO_MAX_PARTS 10000
#define S3DLIO_MAX_OBJECT_SIZE (5ull << 40)

/*
 * The part size used for an object of `size` bytes: `part_size`, grown (in whole MiB) until
 * the object fits in 10,000 parts. Objects up to S3's 5 TiB limit always fit, in parts of
 * at most 5 GiB.
 */
uint64_t s3dlio_xfer_part_size(uint64_t part_size, uint64_t size);

/*
 * COPY: a server-side copy of `copy_source` to `key` (CopyObject; above copy_threshold
 * CreateMultipartUpload + UploadPartCopy of part_size ranges + Complete, aborted on failure),
 * pinned to the source's `etag`. No local side, no payload through the client: its bytes
 * are 0 in the stats. It counts against put_concurrency.
 */
enum s3dlio_xfer_dir { S3DLIO_XFER_GET, S3DLIO_XFER_PUT, S3DLIO_XFER_COPY };

/* The local side of a transfer. */
enum s3dlio_xfer_local {
    S3DLIO_LOCAL_DISCARD,   /* GET only: bytes are counted and dropped */
    S3DLIO_LOCAL_MEMORY,    /* `mem`, `size` bytes: GETs land in place, PUTs read from it */
    S3DLIO_LOCAL_FILE,      /* `path`: GETs go to a temp file renamed when complete */
    S3DLIO_LOCAL_GENERATOR, /* PUT: data from `gen`; GET: verified against `gen`, dropped */
    S3DLIO_LOCAL_STREAM,    /* `fd`, in order (a pipe, stdout): GET writes, PUT reads; no ranges */
    S3DLIO_LOCAL_SINK,      /* GET: `sink` gets the bytes (a shared file, an HDF5 dataset) */
};

struct s3dlio_xfer_job;

/*
 * Where the GET bytes of an S3DLIO_LOCAL_SINK job go. Ranges of one object arrive in any
 * order, each byte once (again only after the object restarted, at the same offsets); all
 * calls come from the loop's thread.
 */
struct s3dlio_xfer_sink {
    enum s3dlio_rc (*write)(void *ud, const struct s3dlio_xfer_job *job, uint64_t offset,
                            const void *data, size_t len, struct s3dlio_error *err);
    /* optional: the object is finished, `complete` when every byte arrived; an error fails
     * it (a part whose checksum does not match, a flush that failed) */
    enum s3dlio_rc (*close)(void *ud, const struct s3dlio_xfer_job *job, bool complete,
                            struct s3dlio_error *err);
    /* optional: bytes already written, read back (--verify of parts out of order) */
    enum s3dlio_rc (*reread)(void *ud, const struct s3dlio_xfer_job *job, uint64_t offset,
                             void *buf, size_t len, struct s3dlio_error *err);
};

/*
 * PUT from a STREAM (size S3DLIO_SIZE_UNKNOWN): the input is read as it arrives, never
 * blocking the loop, into buffers of part_size. Input that ends within multipart_threshold
 * (at most 5 GiB) goes as one PUT; longer input as a multipart upload whose parts go as they
 * fill, at most put_concurrency at once, so memory stays about
 *   max(put_concurrency + 1, multipart_threshold / part_size + 1) x part_size
 * whatever its length (input that ends within the threshold, over several buffers, is also
 * copied once into one for its PUT). A buffer is released only when its part succeeded: a
 * retry resends it. Input longer than 10,000 parts fails (S3DLIO_E_LIMIT, naming
 * --part-size) and the upload is aborted, as on any other failure; a backend without
 * multipart uploads takes only input within the threshold. While a stream is read, later
 * jobs wait. Its fd is borrowed: read, never closed.
 */

/* How --verify judged an object. */
enum s3dlio_verify_result {
    S3DLIO_VERIFY_NONE = 0,     /* not asked, or the object failed before */
    S3DLIO_VERIFY_OK,           /* the data's MD5 (or composite MD5) equals the ETag */
    S3DLIO_VERIFY_UNVERIFIABLE, /* the ETag is not an MD5 of the data (SSE-KMS/C, unknown
                                   part layout, no ETag): reported, not an error */
};

/*
 * One object to move. Inputs are borrowed and must outlive s3dlio_xfer_run; results are
 * filled by it.
 */
struct s3dlio_xfer_job {
    enum s3dlio_xfer_dir dir;
    const char *key;
    uint64_t size;                 /* S3DLIO_SIZE_UNKNOWN: a GET asks (HEAD) first */
    const char *etag;              /* GET: the ETag listed (NULL/"": pinned by the first answer);
                                      COPY: the source's, sent as x-amz-copy-source-if-match */
    const char *copy_source;       /* COPY: "bucket/key" of the source on the same endpoint */
    enum s3dlio_xfer_local local;
    void *mem;
    const char *path;
    size_t path_root;              /* FILE GET: path[0..path_root) is the destination root the
                                      user named; below it no symbolic link is followed (0: the
                                      whole directory part is the user's) */
    int fd;                        /* STREAM (borrowed) */
    const struct s3dlio_gen *gen;
    const struct s3dlio_xfer_sink *sink; /* SINK */
    void *sink_ud;
    /* GET: only bytes [range_off, range_off + range_len) of the object (its size must be
     * known); PUT with upload_id: the bytes of the source its parts cover. 0: all. */
    uint64_t range_off, range_len;
    /* PUT: parts of a multipart upload created, completed and aborted by someone else (the
     * ranks of a distributed upload): [range_off, range_off + range_len) goes as parts of
     * upload_part_size bytes (the last may be shorter) numbered from part_first; a failed
     * part leaves the upload to its owner */
    const char *upload_id;
    int part_first;
    uint64_t upload_part_size;
    uint32_t *part_crc32c;         /* PUT, optional: CRC-32C of each part sent (with upload_id:
                                      of its parts; else of the single PUT or of each part of
                                      the engine's own multipart upload) */
    /* results (zero them before the run) */
    enum s3dlio_rc rc;
    struct s3dlio_error *err;      /* the final failure (key, status, S3 code, request id), NULL
                                      while none: out of line, so a table of millions of jobs
                                      does not carry 2 KB of error each; freed by
                                      s3dlio_xfer_jobs_release */
    uint64_t bytes;                /* payload bytes moved, counting retried ranges once */
    int requests;
    int retries;
    enum s3dlio_verify_result verified;
    char verify_note[96];          /* why an object is not verifiable */
    struct s3dlio_part *parts_out; /* PUT with upload_id, optional: number and ETag per part */
    char etag_out[80];             /* PUT: the ETag the server gave the new object ("" unknown;
                                      none with upload_id) */
};

/*
 * A job's failure: rc from err (S3DLIO_E_INTERNAL if it has none) and a copy of err, replacing
 * any earlier one. Planners use it for jobs refused before a run; the engine for the rest.
 */
void s3dlio_xfer_job_fail(struct s3dlio_xfer_job *job, const struct s3dlio_error *err);
/* Free what runs left in jobs[0..n) (their errors); the array itself stays the caller's. */
void s3dlio_xfer_jobs_release(struct s3dlio_xfer_job *jobs, size_t n);

struct s3dlio_xfer_stats {
    uint64_t objects;      /* completed successfully */
    uint64_t failures;     /* objects that failed after retries */
    uint64_t changed;      /* ... of which because they changed during the transfer */
    uint64_t restarted;    /* objects transferred again after a change (--on-change restart) */
    uint64_t verified, not_verifiable;
    uint64_t bytes;
    uint64_t bytes_expected; /* sizes of the objects started so far, as known (progress); a
                                stream's counts what was read of it so far */
    uint64_t requests;     /* requests started (data and control), retries included */
    uint64_t retries;
    uint64_t throttled;    /* 503 SlowDown and 429 answers */
    uint64_t server_errors;/* other 5xx answers */
    uint64_t backoff_ms;   /* sum of the backoff delays drawn */
    uint64_t t_start_ns, t_end_ns; /* CLOCK_MONOTONIC */
    uint64_t ttfb_ns_sum;  /* sum over successful requests, for the mean */
    uint64_t max_inflight;
    /* The effective in-flight limit: the target (adaptive or configured) under the AIMD cut of
     * throttling. configured: where it started; min, max: lowest and highest reached. */
    uint32_t limit_configured, limit_min, limit_max;
    uint32_t limit_decreases;             /* times throttling halved it */
    bool limit_adaptive;                  /* the target adapted (not pinned by the user) */
    uint32_t nlimit_samples;     /* when it changed (decimated when full) */
    struct s3dlio_limit_sample limit_samples[S3DLIO_LIMIT_SAMPLES];
    bool interrupted;      /* the run was cancelled (opts->cancel) */
    uint64_t aborted_uploads; /* multipart uploads aborted on the server */
    uint64_t streams_reading; /* streams still being read: their total length is unknown */
};

/*
 * Move every job; a job that arrives with rc set is not run and counts as failed. stats is
 * zeroed at the start. Returns S3DLIO_OK when all succeeded, S3DLIO_E_ABORTED when cancelled,
 * else the rc of the first failed job (every job's own rc and err are set; failed objects
 * leave nothing behind that looks complete: temp files are removed, multipart uploads
 * aborted). Jobs never started keep rc S3DLIO_OK and bytes 0. stats may be NULL.
 */
enum s3dlio_rc s3dlio_xfer_run(struct s3dlio_backend *be, struct s3dlio_xfer_job *jobs, size_t n,
                               const struct s3dlio_xfer_opts *opts, struct s3dlio_xfer_stats *stats);

/*
 * Relay: run COPY jobs between two backends as a GET from src into a PUT to dst, for sides
 * that cannot copy on the server (two endpoints, two accounts). A job's copy_source is
 * "<src's bucket>/<key>" (another bucket fails the job), key the destination's key, size and
 * etag as listed (the GET is pinned to them). Objects of at most `memory` bytes go in batches
 * through one buffer of at most that size (GET all, then PUT all); larger ones through a pipe
 * (a Unix socket pair), a thread GETting into it while the calling thread PUTs from it as a
 * stream (multipart, about (put_concurrency + 1) x part_size in memory). Runs one after the
 * other: at most one GET thread at a time. A job's results are those of the half
 * that failed first (its error names that side's key); bytes are the PUT's. An object that
 * fails on either side leaves nothing at dst: a stream upload is completed only after its GET
 * succeeded, and aborted otherwise (one that completed anyway, or with another length than
 * the object's, is removed).
 *
 * stats (zeroed here) combine both sides: objects, failures and bytes count each relayed
 * object once (bytes: the payload PUT), requests, retries and the other counters are the
 * sum of the GET and PUT runs. opts->tick runs on the calling thread with the bytes PUT so
 * far; opts->on_span may be called from the GET thread (never at the same time as from this
 * one). opts->cancel stops both sides. Returns as s3dlio_xfer_run.
 */
enum s3dlio_rc s3dlio_xfer_relay(struct s3dlio_backend *src, struct s3dlio_backend *dst,
                                 struct s3dlio_xfer_job *jobs, size_t n, uint64_t memory,
                                 const struct s3dlio_xfer_opts *opts, struct s3dlio_xfer_stats *stats);

/* How many of sizes[0..n), in order, fit together within budget bytes (0: sizes[0] does not). */
size_t s3dlio_relay_batch(const uint64_t *sizes, size_t n, uint64_t budget);

/*
 * Add the counters of one engine run to those of a job of several runs: sums of requests,
 * retries, throttling, verification and aborted uploads; the widest time span, the highest
 * in-flight figures and the lowest limit. objects, failures, bytes and bytes_expected are
 * left alone: what counts as one object is the caller's to say.
 */
void s3dlio_xfer_stats_add(struct s3dlio_xfer_stats *into, const struct s3dlio_xfer_stats *from);

#endif
