/* SPDX-License-Identifier: Apache-2.0 */
/* The job feed: chunks planned on demand through the engine's refill, freed as they finish. */
#include "xfer/feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "s3dlio/error.h"
#include "util/alloc.h"

/*
 * Room for any formatted error, whole: every string field of struct s3dlio_error once, plus
 * the words and numbers s3dlio_error_format puts around them (as src/coord/run.c sizes it).
 */
#define ERR_FIELD(f) sizeof(((struct s3dlio_error *)0)->f)
#define MESSAGE_MAX                                                                                \
    (ERR_FIELD(op) + ERR_FIELD(target) + ERR_FIELD(s3_code) + ERR_FIELD(request_id) +              \
     ERR_FIELD(message) + 128)

struct feed_chunk {
    struct feed_chunk *next;
    struct s3dlio_plan plan;
    uint64_t first_seq;      /* seq of plan.jobs[0] */
    unsigned char *reported; /* per job: the engine is done with it */
    size_t done;
};

void s3dlio_feed_init(struct s3dlio_feed *f, size_t rows, size_t chunk_rows,
                      s3dlio_feed_plan_fn *plan, void *plan_ud)
{
    memset(f, 0, sizeof(*f));
    f->rows = rows;
    f->chunk_rows = chunk_rows ? chunk_rows : S3DLIO_FEED_CHUNK_ROWS;
    f->plan = plan;
    f->plan_ud = plan_ud;
    f->span_end = rows;
}

void s3dlio_feed_spans(struct s3dlio_feed *f, s3dlio_feed_span_fn *next, void *ud)
{
    f->next_span = next;
    f->span_ud = ud;
    f->next_row = f->span_end = 0; /* the first span is asked for when rows are due */
}

/* Whether rows are left to plan: the current span's, or a new span's when it is used up. */
static bool rows_left(struct s3dlio_feed *f)
{
    if (f->next_row < f->span_end)
        return true;
    size_t first, count;
    if (!f->next_span || !f->next_span(f->span_ud, &first, &count))
        return false;
    f->next_row = first;
    f->span_end = first + count <= f->rows ? first + count : f->rows;
    return f->next_row < f->span_end;
}

static size_t add_text(struct s3dlio_feed *f, const char *s)
{
    size_t n = strlen(s) + 1, at = f->text_len;
    s3dlio_xgrow((void **)&f->text, 1, at + n, &f->text_alloc);
    memcpy(f->text + at, s, n);
    f->text_len += n;
    return at;
}

static void keep_failure(struct s3dlio_feed *f, const struct s3dlio_xfer_job *job, uint64_t seq)
{
    char message[MESSAGE_MAX];
    if (job->err)
        s3dlio_error_format(job->err, message, sizeof(message));
    else /* every failure the engine or a planner sets has an error; a caller's may not */
        snprintf(message, sizeof(message), "%s", s3dlio_rc_str(job->rc));
    s3dlio_xgrow((void **)&f->failures, sizeof(*f->failures), f->nfailures + 1, &f->failures_alloc);
    struct s3dlio_feed_failure *r = &f->failures[f->nfailures++];
    r->seq = seq;
    r->rc = job->rc;
    r->key = add_text(f, job->key ? job->key : "");
    r->message = add_text(f, message);
    f->failed++;
}

/* The job's outcome is final (started: the engine reported it; else it never ran). */
static void harvest(struct s3dlio_feed *f, struct feed_chunk *c, size_t i, bool started)
{
    const struct s3dlio_xfer_job *job = &c->plan.jobs[i];
    uint64_t seq = c->first_seq + i;
    if (f->on_job)
        f->on_job(f->job_ud, job, seq, started);
    if (job->rc) /* failed, or refused before the run (those fail whether it started them) */
        keep_failure(f, job, seq);
    else if (started)
        f->succeeded++;
    else
        f->not_started++;
}

static void chunk_free(struct feed_chunk *c)
{
    s3dlio_plan_release(&c->plan);
    free(c->reported);
    free(c);
}

/* The next chunk with at least one job, or NULL when the rows are all planned. */
static struct feed_chunk *plan_next(struct s3dlio_feed *f)
{
    while (rows_left(f)) {
        size_t count = f->span_end - f->next_row;
        if (count > f->chunk_rows)
            count = f->chunk_rows;
        struct feed_chunk *c = s3dlio_xcalloc(1, sizeof(*c));
        f->plan(f->plan_ud, f->next_row, count, &c->plan);
        f->next_row += count;
        c->first_seq = f->planned;
        f->planned += c->plan.n;
        if (c->plan.n) {
            c->reported = s3dlio_xcalloc(c->plan.n, 1);
            return c;
        }
        chunk_free(c); /* only folder markers: nothing to run */
    }
    return NULL;
}

static size_t refill(void *ud, struct s3dlio_xfer_job **jobs)
{
    struct s3dlio_feed *f = ud;
    struct feed_chunk *c = plan_next(f);
    if (!c)
        return 0;
    c->next = f->live;
    f->live = c;
    if (++f->nlive > f->peak_live)
        f->peak_live = f->nlive;
    *jobs = c->plan.jobs;
    return c->plan.n;
}

/* The live chunk job belongs to, and the link that points at it. */
static struct feed_chunk **chunk_of(struct s3dlio_feed *f, const struct s3dlio_xfer_job *job)
{
    uintptr_t p = (uintptr_t)job;
    for (struct feed_chunk **l = &f->live; *l; l = &(*l)->next) {
        uintptr_t lo = (uintptr_t)(*l)->plan.jobs;
        if (p >= lo && p < lo + (*l)->plan.n * sizeof(*job))
            return l;
    }
    return NULL;
}

static void job_done(void *ud, struct s3dlio_xfer_job *job)
{
    struct s3dlio_feed *f = ud;
    struct feed_chunk **l = chunk_of(f, job);
    if (!l)
        return; /* not one of ours: the caller ran other jobs with these options */
    struct feed_chunk *c = *l;
    size_t i = (size_t)(job - c->plan.jobs);
    if (c->reported[i])
        return;
    c->reported[i] = 1;
    harvest(f, c, i, true);
    if (++c->done < c->plan.n)
        return;
    *l = c->next;
    f->nlive--;
    chunk_free(c);
}

void s3dlio_feed_attach(struct s3dlio_feed *f, struct s3dlio_xfer_opts *o)
{
    o->refill = refill;
    o->refill_ud = f;
    o->on_job_done = job_done;
    o->job_done_ud = f;
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const struct s3dlio_feed_failure *)a)->seq;
    uint64_t y = ((const struct s3dlio_feed_failure *)b)->seq;
    return (x > y) - (x < y);
}

void s3dlio_feed_finish(struct s3dlio_feed *f)
{
    /* oldest first, so that on_job sees jobs in planning order */
    struct feed_chunk *old = NULL;
    while (f->live) {
        struct feed_chunk *c = f->live;
        f->live = c->next;
        c->next = old;
        old = c;
    }
    for (struct feed_chunk *c = old, *next; c; c = next) {
        next = c->next;
        for (size_t i = 0; i < c->plan.n; i++)
            if (!c->reported[i])
                harvest(f, c, i, false);
        chunk_free(c);
    }
    f->nlive = 0;
    /* rows the run never reached: how many objects that left undone, which were refused
     * (with spans, only the last one taken: nothing new is taken now) */
    f->next_span = NULL;
    for (struct feed_chunk *c; (c = plan_next(f));) {
        for (size_t i = 0; i < c->plan.n; i++)
            harvest(f, c, i, false);
        chunk_free(c);
    }
    /* chunks finish out of order: a report lists failures as they were planned */
    if (f->nfailures)
        qsort(f->failures, f->nfailures, sizeof(*f->failures), by_seq);
}

const char *s3dlio_feed_failure_key(const struct s3dlio_feed *f, size_t i)
{
    return f->text + f->failures[i].key;
}

const char *s3dlio_feed_failure_message(const struct s3dlio_feed *f, size_t i)
{
    return f->text + f->failures[i].message;
}

void s3dlio_feed_release(struct s3dlio_feed *f)
{
    if (!f)
        return;
    for (struct feed_chunk *c = f->live, *next; c; c = next) {
        next = c->next;
        chunk_free(c);
    }
    free(f->failures);
    free(f->text);
    memset(f, 0, sizeof(*f));
}
