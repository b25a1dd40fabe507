/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Run statistics: mergeable latency histograms, per-rank figures, and the reduced report
 * (table and JSON from one struct) with a verdict on what limited the run. No MPI here:
 * coord gathers the per-rank structs and calls s3dlio_report_build on rank 0.
 */
#ifndef S3DLIO_STATS_H
#define S3DLIO_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "s3dlio/error.h"

/*
 * Log-linear histogram of durations in nanoseconds: 2^k decades split into 16 linear
 * sub-buckets (relative error < 6.25%), from 1 us to ~1.2 hours; values below the first
 * bucket count in bucket 0, above the last in the last. Fixed size and layout, so histograms
 * of all ranks merge by adding counts (MPI_Reduce with MPI_SUM over the counts array).
 */
#define S3DLIO_HIST_SUB 16
#define S3DLIO_HIST_DECADES 32
#define S3DLIO_HIST_BUCKETS (S3DLIO_HIST_SUB * S3DLIO_HIST_DECADES)

struct s3dlio_hist {
    uint64_t counts[S3DLIO_HIST_BUCKETS];
    uint64_t n;
    uint64_t max_ns;
    uint64_t sum_ns;
};

void s3dlio_hist_add(struct s3dlio_hist *h, uint64_t ns);
void s3dlio_hist_merge(struct s3dlio_hist *into, const struct s3dlio_hist *from);
/* Value at quantile q in [0,1] (upper edge of its bucket, capped by max); 0 when empty. */
uint64_t s3dlio_hist_quantile(const struct s3dlio_hist *h, double q);
/* Bucket index of a value, and the upper edge in ns of a bucket (exposed for tests). */
size_t s3dlio_hist_bucket(uint64_t ns);
uint64_t s3dlio_hist_bucket_upper(size_t bucket);

/* The effective in-flight limit at a time, when it changed (the adaptive target moves it,
 * throttling halves it). */
#define S3DLIO_LIMIT_SAMPLES 64
struct s3dlio_limit_sample {
    uint32_t t_ms;                   /* since the transfer started */
    uint32_t limit;
};

/* What one rank did. Plain data: gathered with MPI_Gather as bytes. */
struct s3dlio_rank_stats {
    int rank;
    char host[64];
    uint64_t objects, failures, bytes, requests, retries, throttled, server_errors;
    uint64_t changed, restarted;     /* objects that changed during the transfer / refetched */
    uint64_t verified, not_verifiable; /* --verify outcomes */
    uint64_t aborted_uploads;        /* multipart uploads aborted on the server */
    uint64_t backoff_ms;             /* sum of the backoff delays drawn */
    uint32_t limit_min, limit_max;   /* effective in-flight limit: lowest, highest reached */
    uint32_t limit_decreases;        /* times throttling halved it */
    bool limit_adaptive;             /* the target adapted (--get/--put-concurrency not given) */
    uint32_t nlimit_samples;
    struct s3dlio_limit_sample limit_samples[S3DLIO_LIMIT_SAMPLES];
    bool interrupted;                /* SIGINT/SIGTERM stopped this rank's transfers */
    double wall_s;                   /* this rank's own elapsed time over its transfer phase */
    double cpu_user_s, cpu_sys_s;    /* getrusage over the transfer phase */
    uint64_t max_inflight;           /* requests in flight at most */
    int concurrency;                 /* configured requests in flight */
    uint64_t peak_rss_kib;
    bool memory_capped;              /* --max-memory refused the shard */
    struct s3dlio_hist ttfb;         /* time to first byte per request */
    struct s3dlio_hist total;        /* total time per request */
    uint64_t prof_samples, prof_dropped; /* --profile-cpu: CPU samples kept, lost */
};

/* One failed object, for the report: key and error whole (S3 keys reach 1024 bytes). */
struct s3dlio_failed_key {
    char *key;       /* heap */
    char *error;     /* heap: the one-line error (s3dlio_error_format) */
    int rank;
};
/* Free the strings of keys[0..n) and the array itself (NULL allowed). */
void s3dlio_failed_keys_free(struct s3dlio_failed_key *keys, size_t n);

/*
 * Rates need enough measurement behind them: getrusage counts CPU time in coarse steps and a
 * run of a few milliseconds is mostly start-up, so a rate over less than S3DLIO_RATE_MIN_WALL_S
 * of wall time (or, per byte, over less than S3DLIO_RATE_MIN_BYTES) is not a number: the
 * report holds NAN for it, the table prints "n/a" or "-", the JSON null.
 */
#define S3DLIO_RATE_MIN_WALL_S 0.1
#define S3DLIO_RATE_MIN_BYTES  1048576

/* A file written beside the report: a flamegraph, its folded stacks, a timeline, a trace. */
struct s3dlio_report_file {
    char kind[16];           /* "flamegraph", "folded", "timeline", "trace" */
    char phase[24];          /* flamegraph/folded: the phase; else "" */
    char path[1024];
    uint64_t samples;        /* flamegraph/folded: CPU samples in it, over all ranks */
};

/* The whole run as rank 0 reports it. */
struct s3dlio_report {
    char run_id[64];
    char command[32];        /* "stage", "get", "put" */
    char source[512];        /* URI */
    char destination[512];   /* "mem", "dir:PATH", "null", URI */
    char partition[32];      /* "size", "count", "contiguous", "steal" */
    int nranks;
    uint64_t listed;         /* objects in the job's table (set by the caller) */
    double list_s;           /* rank 0's listing time, paid once */
    /*
     * The slowest rank's own elapsed time. Ranks leave a barrier together right before the
     * transfers, so this is the job's transfer time; their clocks are never compared, as
     * MPI_Wtime / CLOCK_MONOTONIC of different nodes have unrelated origins.
     */
    double wall_s;
    uint64_t objects, failures, bytes, requests, retries, throttled, server_errors;
    uint64_t changed, restarted, verified, not_verifiable, aborted_uploads;
    uint64_t folder_markers; /* keys ending in '/' skipped (set by the caller) */
    double backoff_s;        /* over ranks */
    uint32_t limit_min;      /* lowest effective in-flight limit of any rank */
    uint32_t limit_max;      /* highest of any rank */
    bool limit_adaptive;     /* some rank's target adapted */
    uint64_t limit_decreases;/* times throttling halved a rank's limit, over ranks */
    bool interrupted;        /* some rank was stopped by a signal */
    double throughput_MBps;  /* bytes / wall_s / 1e6; NAN: wall_s under S3DLIO_RATE_MIN_WALL_S */
    double rank_MBps_min, rank_MBps_median, rank_MBps_max; /* over ranks with a rate; NAN: none */
    double imbalance_bytes;  /* max / mean bytes per rank */
    double imbalance_time;   /* max / min wall per rank */
    double cpu_s;            /* user + sys over ranks */
    double cpu_s_per_GiB;    /* NAN: wall_s or bytes under the S3DLIO_RATE_MIN_* */
    struct s3dlio_hist ttfb, total; /* merged */
    struct s3dlio_rank_stats *ranks; /* nranks entries (borrowed from the caller) */
    struct s3dlio_failed_key *failed; /* borrowed; in rank order */
    size_t nfailed;
    int stragglers[8];       /* ranks named as stragglers, -1 terminated */
    int profile_hz;          /* --profile-cpu (0: not sampled) */
    uint64_t prof_samples, prof_dropped; /* over ranks */
    const struct s3dlio_report_file *files; /* borrowed: pictures and traces written */
    size_t nfiles;
    char verdict[512];       /* one line: what limited the run, with the numbers */
};

/*
 * Fill the derived fields of r (totals, throughput, per-rank spread, imbalance, merged
 * histograms, stragglers, verdict) from r->ranks[0..nranks). The caller set the identity
 * fields, ranks, failed keys, listed and list_s. Failed objects lead the verdict; ranks that
 * made no request are never blamed (no CPU verdict, not a straggler or the slowest rank).
 */
void s3dlio_report_build(struct s3dlio_report *r);

/* The human table (like s3dlio's performance table). */
void s3dlio_report_print_table(const struct s3dlio_report *r, FILE *out);

/* JSON, schema "s3dlio-mpi/report" version 1 (docs/report-schema.json). */
enum s3dlio_rc s3dlio_report_write_json(const struct s3dlio_report *r, FILE *out);

/* Progress display: none, plain lines (not a terminal), a live bar (a terminal). */
enum { S3DLIO_PROGRESS_NONE = 0, S3DLIO_PROGRESS_LINES = 1, S3DLIO_PROGRESS_BAR = 2 };
struct s3dlio_progress_line {
    int mode;
    uint64_t total;     /* bytes expected (0: unknown) */
    FILE *out;
    double t0, last, every;
    bool shown;
};
/* Start a display on out (NULL: stderr); mode S3DLIO_PROGRESS_*. */
void s3dlio_progress_line_init(struct s3dlio_progress_line *p, int mode, uint64_t total, FILE *out);
/* Whether a line or bar update is due now. */
bool s3dlio_progress_line_due(const struct s3dlio_progress_line *p);
/* Show done bytes if an update is due (cheap to call often). */
void s3dlio_progress_line_show(struct s3dlio_progress_line *p, uint64_t done);
/* The last update (a bar ends its line). */
void s3dlio_progress_line_finish(struct s3dlio_progress_line *p, uint64_t done);

/*
 * Bytes moved per interval of time, for the throughput picture. Memory is fixed at init:
 * when a run outlasts cap intervals, neighbours merge and the interval doubles, so a long
 * run keeps its whole history at a coarser grain.
 */
struct s3dlio_timeline {
    uint64_t t0_ns;          /* origin, CLOCK_MONOTONIC */
    uint64_t bucket_ns;      /* width of one interval */
    uint64_t *bytes;         /* bytes[i]: moved in [t0 + i*bucket_ns, t0 + (i+1)*bucket_ns) */
    size_t n, cap;           /* intervals used (up to the last with a note), held */
};
void s3dlio_timeline_init(struct s3dlio_timeline *t, uint64_t t0_ns, uint64_t bucket_ns, size_t cap);
/* Count bytes moved by now_ns (before t0_ns: in the first interval). */
void s3dlio_timeline_add(struct s3dlio_timeline *t, uint64_t now_ns, uint64_t bytes);
/*
 * Count bytes moved over [from_ns, to_ns), spread in proportion to time: bytes known only
 * when a request completes were received over the time before it.
 */
void s3dlio_timeline_add_span(struct s3dlio_timeline *t, uint64_t from_ns, uint64_t to_ns, uint64_t bytes);
/* Merge intervals until bucket_ns is the given multiple of it (a power of two). */
void s3dlio_timeline_coarsen(struct s3dlio_timeline *t, uint64_t bucket_ns);
void s3dlio_timeline_release(struct s3dlio_timeline *t);

/* CPU time of this process so far (getrusage), for rank stats. */
void s3dlio_cpu_times(double *user_s, double *sys_s);
/* Peak RSS of this process in KiB. */
uint64_t s3dlio_peak_rss_kib(void);

#endif
