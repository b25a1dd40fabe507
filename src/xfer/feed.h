/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A job feed: the engine's jobs made chunk by chunk while it runs, instead of one job (376
 * bytes, plus its key and path) per object held from planning to the end. The caller plans
 * rows [first, first + count) of its table into a fresh s3dlio_plan with the usual planners
 * (s3dlio_plan_get, _put_files, _put_generated, _copy); the feed hands that plan to the
 * engine through its refill callback, counts the engine's on_job_done per chunk and frees a
 * chunk's plan once all its jobs are done. What stays is a count of successes and, for each
 * failure, one compact record (rc, key and the formatted error) in one growing arena.
 *
 * Memory: a chunk lives from its refill until its last job ends, so at most one chunk is
 * being handed out and, behind it, only chunks that still have an object in progress: live
 * chunks <= objects in flight + 1, whatever the number of rows.
 */
#ifndef S3DLIO_XFER_FEED_H
#define S3DLIO_XFER_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "s3dlio/plan.h"
#include "s3dlio/xfer.h"

/*
 * Rows per chunk: its jobs are ~0.4 MB plus their strings, small beside the transfer buffers,
 * and one planning call (a fresh objlist and plan) is spread over a thousand objects. A
 * slow object holds its whole chunk, so smaller chunks would bound the worst case (one slow
 * object per chunk, up to the in-flight count) lower, larger ones amortise nothing more.
 */
#define S3DLIO_FEED_CHUNK_ROWS 1024

/*
 * Plan rows [first, first + count) into plan (zeroed; the feed owns and releases it). Jobs
 * come in row order; a row may make no job (a folder marker) or a refused one (rc set).
 */
typedef void s3dlio_feed_plan_fn(void *ud, size_t first, size_t count, struct s3dlio_plan *plan);
/*
 * Optional, for callers that need more than counts (an index of what landed where): a job
 * finished; seq is its place among all jobs planned (0, 1, ...). Called on the loop's thread
 * before the job is freed, and, for jobs a run left unfinished, from s3dlio_feed_finish
 * with started false.
 */
typedef void s3dlio_feed_job_fn(void *ud, const struct s3dlio_xfer_job *job, uint64_t seq,
                                bool started);

/*
 * Optional: the rows this process takes, a span at a time (--steal: the chunks a shared
 * counter gives it). Returns false when there are no more. Without it the feed takes all rows
 * [0, rows) in order.
 */
typedef bool s3dlio_feed_span_fn(void *ud, size_t *first, size_t *count);

/* One failed job, kept after its chunk is gone. */
struct s3dlio_feed_failure {
    uint64_t seq;        /* its place among all jobs planned */
    enum s3dlio_rc rc;
    size_t key;          /* offsets into s3dlio_feed.text of NUL-terminated strings: */
    size_t message;      /* the key, and the error as s3dlio_error_format writes it */
};

struct feed_chunk;

struct s3dlio_feed {
    /* set by s3dlio_feed_init */
    size_t rows, chunk_rows;
    s3dlio_feed_plan_fn *plan;
    void *plan_ud;
    s3dlio_feed_job_fn *on_job; /* optional, set by the caller */
    void *job_ud;
    s3dlio_feed_span_fn *next_span; /* optional, set by s3dlio_feed_spans */
    void *span_ud;
    /* results */
    uint64_t planned;     /* jobs made so far */
    uint64_t succeeded;
    uint64_t failed;      /* failures, refused jobs included (every one has a record) */
    uint64_t not_started; /* after s3dlio_feed_finish: jobs the run never finished (a cancel,
                             a broken loop), and those of rows it never reached */
    struct s3dlio_feed_failure *failures; /* in planning order after s3dlio_feed_finish */
    size_t nfailures;
    char *text;           /* the failures' strings */
    size_t peak_live;     /* most chunks alive at once */
    /* private */
    size_t next_row, span_end; /* the rows being planned: [next_row, span_end) */
    size_t failures_alloc, text_len, text_alloc;
    struct feed_chunk *live; /* chunks handed out, not yet all done; newest first */
    size_t nlive;
};

/* Feed rows [0, rows) in chunks of chunk_rows (0: S3DLIO_FEED_CHUNK_ROWS) planned by plan. */
void s3dlio_feed_init(struct s3dlio_feed *f, size_t rows, size_t chunk_rows,
                      s3dlio_feed_plan_fn *plan, void *plan_ud);

/*
 * Take rows span by span from next (after s3dlio_feed_init, before the run): each span is
 * planned in chunks of chunk_rows, and a span once taken is this process's to account for.
 */
void s3dlio_feed_spans(struct s3dlio_feed *f, s3dlio_feed_span_fn *next, void *ud);

/*
 * Point o's refill and on_job_done at f (any earlier ones are replaced); then run with
 * s3dlio_xfer_run(be, NULL, 0, o, st). f must outlive the run.
 */
void s3dlio_feed_attach(struct s3dlio_feed *f, struct s3dlio_xfer_opts *o);

/*
 * After the run: chunks still alive are harvested (jobs that failed before starting are
 * failures, the others not started), rows never reached are planned and counted the same
 * way (with spans: those of the span taken last; spans never taken are someone else's), and
 * the failures are put in planning order. Then planned = succeeded + failed + not_started.
 */
void s3dlio_feed_finish(struct s3dlio_feed *f);

/* The key and message of failure i. */
const char *s3dlio_feed_failure_key(const struct s3dlio_feed *f, size_t i);
const char *s3dlio_feed_failure_message(const struct s3dlio_feed *f, size_t i);

/* Free everything; f is zeroed (a second call is a no-op). */
void s3dlio_feed_release(struct s3dlio_feed *f);

#endif
