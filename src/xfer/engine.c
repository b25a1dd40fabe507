/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transfer engine's loop: one event loop per process keeps up to N requests in flight
 * on the backend and refills as they complete (curl/curl docs/examples/10-at-a-time.c).
 *
 * Why one loop and no worker threads: the S3 backend is one curl multi handle, which drives
 * hundreds of connections from one thread with epoll; per byte the loop only copies from
 * curl's receive buffer to the final place (memory, pwrite, or nothing). Measured on the
 * 2-core development machine (scripts/bench-peers, 2026-11-26, 1 GiB of 2-8 MB objects):
 * GET into null: 808 MiB/s at 0.46 CPU-s/GiB, i.e. the loop is busy ~36% of one core while
 * the server is the limit; against nginx (scripts/bench-ceiling) 2.56 GB/s at 0.36 CPU-s/GiB,
 * ~86% of a core. A second loop thread would add locking and take the core the server (or,
 * on a compute node, the application) needs; a rank that needs more client CPU gets it from
 * more ranks per node, which MPI already gives.
 *
 * Every request goes through the same queues, data and control alike (HEAD, multipart
 * create/complete/abort): completions only queue the finished request and all decisions
 * are taken in the loop, so a throttled control call waits its backoff like any other and
 * never stalls the rest. Under throttling (503, 429, refused connections) the in-flight
 * limit is halved, and grows back by one per success (AIMD), so a rank sheds load instead
 * of hammering a server that asked it to slow down.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "s3dlio/stats.h"
#include "util/alloc.h"
#include "util/log.h"
#include "xfer/engine_int.h"

/* After a cancel, how long aborts of multipart uploads may still run. */
#define CANCEL_GRACE_NS (10ull * 1000000000ull)
/* While a stream waits for input, the requests in flight are driven at least this often
 * (the backend's wait cannot also watch the stream) */
#define INPUT_POLL_MS 1

uint64_t xfer_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void s3dlio_xfer_opts_default(struct s3dlio_xfer_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->get_concurrency = 32;
    o->put_concurrency = 16;
    o->range_threshold = 4u << 20;
    o->part_size = 8u << 20;
    o->multipart_threshold = 16u << 20;
    o->copy_threshold = S3DLIO_MAX_PART_SIZE;
    o->retries = 5;
    o->retry_time_ms = 30000;
    o->retry_base_ms = 100;
    o->retry_cap_ms = 10000;
    o->ramp_ms = 100;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- queues and the buffer pool ---------------------------------------------------------- */

void xq_push(struct queue *q, struct xreq *r)
{
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
}

void xq_push_front(struct queue *q, struct xreq *r)
{
    r->next = q->head;
    q->head = r;
    if (!q->tail)
        q->tail = r;
}

static struct xreq *pop(struct queue *q)
{
    struct xreq *r = q->head;
    if (r) {
        q->head = r->next;
        if (!q->head)
            q->tail = NULL;
        r->next = NULL;
    }
    return r;
}

void xfer_pool_get(struct xfer *x, struct xreq *r, size_t len)
{
    for (size_t i = 0; i < x->nfree; i++) {
        if (x->free_caps[i] < len)
            continue;
        r->buf = x->free_bufs[i];
        r->buf_cap = x->free_caps[i];
        x->free_bufs[i] = x->free_bufs[--x->nfree];
        x->free_caps[i] = x->free_caps[x->nfree];
        return;
    }
    r->buf_cap = len ? len : 1;
    r->buf = s3dlio_xmalloc(r->buf_cap);
}

void xfer_pool_put(struct xfer *x, struct xreq *r)
{
    if (!r->buf)
        return;
    size_t alloc = x->free_alloc;
    s3dlio_xgrow((void **)&x->free_bufs, sizeof(*x->free_bufs), x->nfree + 1, &x->free_alloc);
    s3dlio_xgrow((void **)&x->free_caps, sizeof(*x->free_caps), x->nfree + 1, &alloc);
    x->free_bufs[x->nfree] = r->buf;
    x->free_caps[x->nfree++] = r->buf_cap;
    r->buf = NULL;
    r->buf_cap = 0;
}

static void pool_release(struct xfer *x)
{
    for (size_t i = 0; i < x->nfree; i++)
        free(x->free_bufs[i]);
    free(x->free_bufs);
    free(x->free_caps);
    free(x->scratch);
}

/* ---- the in-flight limit ------------------------------------------------------------------ */

/* Measuring intervals of the adaptive target: at least this long, and several request
 * latencies, so that each judges requests sent at the target it measures. */
#define ADAPT_MIN_INTERVAL_NS (150ull * 1000000ull)
#define ADAPT_LATENCIES 4

static int adapt_index(enum s3dlio_xfer_dir dir)
{
    return dir == S3DLIO_XFER_GET ? 0 : 1;
}

static struct xadapt *adapt_of(struct xfer *x, enum s3dlio_xfer_dir dir)
{
    return &x->adapt[adapt_index(dir)];
}

static int configured(const struct xfer *x, enum s3dlio_xfer_dir dir)
{
    const struct xadapt *a = &x->adapt[adapt_index(dir)];
    if (a->on)
        return a->ctl.target;
    int conc = dir == S3DLIO_XFER_GET ? x->o->get_concurrency : x->o->put_concurrency;
    return conc < 1 ? 1 : conc;
}

/* The highest target of the directions in use (both until one is). */
static uint32_t target_in_use(const struct xfer *x)
{
    bool any = x->adapt[0].seen || x->adapt[1].seen;
    int t = 0;
    if (!any || x->adapt[0].seen)
        t = configured(x, S3DLIO_XFER_GET);
    if (!any || x->adapt[1].seen) {
        int put = configured(x, S3DLIO_XFER_PUT);
        t = put > t ? put : t;
    }
    return (uint32_t)t;
}

/* The limit in force: that target under the throttling cut. */
static uint32_t effective(const struct xfer *x)
{
    uint32_t t = target_in_use(x);
    return x->cwnd < t ? (uint32_t)x->cwnd : t;
}

static void sample_limit(struct xfer *x)
{
    struct s3dlio_xfer_stats *st = x->st;
    uint32_t limit = effective(x);
    uint32_t t_ms = (uint32_t)((xfer_now_ns() - x->start_ns) / 1000000u);
    if (limit < st->limit_min)
        st->limit_min = limit;
    if (limit > st->limit_max)
        st->limit_max = limit;
    if (st->nlimit_samples && st->limit_samples[st->nlimit_samples - 1].limit == limit)
        return;
    if (st->nlimit_samples == S3DLIO_LIMIT_SAMPLES) {
        /* full: keep every other sample, so the timeline spans the whole run, coarser */
        for (uint32_t i = 1; i < S3DLIO_LIMIT_SAMPLES / 2; i++)
            st->limit_samples[i] = st->limit_samples[2 * i];
        st->nlimit_samples = S3DLIO_LIMIT_SAMPLES / 2;
    }
    st->limit_samples[st->nlimit_samples++] = (struct s3dlio_limit_sample){t_ms, limit};
}

void xfer_limit_success(struct xfer *x)
{
    if (x->cwnd >= x->cwnd_max)
        return;
    /* every request's success comes here: the limit in force moves only while the cut is
     * below the target, so that is all there is to check */
    bool cut = x->cwnd < target_in_use(x);
    x->cwnd += 1; /* additive increase: one more per success, so a restart is soon forgotten */
    if (x->cwnd > x->cwnd_max)
        x->cwnd = x->cwnd_max;
    if (cut)
        sample_limit(x);
}

void xfer_limit_failure(struct xfer *x, const struct xreq *r, const struct s3dlio_error *err)
{
    if (!s3dlio_retry_is_overload(err))
        return;
    /* one halving per burst: requests that started before the last cut carry no news */
    if (r->started_ns < x->last_decrease_ns)
        return;
    adapt_of(x, r->o->job->dir)->throttled = true;
    x->last_decrease_ns = xfer_now_ns();
    /* halve what is in force, not a window the target never reached */
    double in_force = effective(x);
    x->cwnd = in_force / 2 < 1 ? 1 : in_force / 2;
    x->st->limit_decreases++;
    sample_limit(x);
    S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_XFER, "server overloaded (%s): in-flight limit now %d",
               err->message, (int)x->cwnd);
}

static void adapt_reset(struct xadapt *a, uint64_t now)
{
    a->t0_ns = now;
    a->completed = a->bytes = 0;
    a->lat_sum_ms = a->inflight_sum = 0;
    a->throttled = false;
}

/* The interval of a is over: the controller moves the target. */
static void adapt_step(struct xfer *x, struct xadapt *a, uint64_t now)
{
    double n = a->completed ? (double)a->completed : 1;
    struct s3dlio_adapt_sample s = {
        .secs = (double)(now - a->t0_ns) / 1e9, .completed = a->completed, .bytes = a->bytes,
        .latency_ms = a->lat_sum_ms / n, .mean_inflight = a->inflight_sum / n,
        .throttled = a->throttled,
    };
    int before = a->ctl.target;
    int after = s3dlio_adapt_step(&a->ctl, &s);
    adapt_reset(a, now);
    if (after == before)
        return;
    S3DLIO_LOG(S3DLIO_LOG_DEBUG, S3DLIO_SUB_XFER, "in-flight target %d -> %d (%.0f req/s, "
               "%.1f MB/s, %.1f ms per request, %.0f in flight)", before, after,
               (double)s.completed / s.secs, (double)s.bytes / 1e6 / s.secs, s.latency_ms,
               s.mean_inflight);
    sample_limit(x);
}

void xfer_adapt_completed(struct xfer *x, const struct xreq *r)
{
    struct xadapt *a = adapt_of(x, r->o->job->dir);
    if (!a->on)
        return;
    uint64_t now = xfer_now_ns();
    /* the ramp-up opens connections gradually: nothing to learn from it */
    if (now - x->start_ns < x->o->ramp_ms * 1000000ull || !a->t0_ns) {
        adapt_reset(a, now);
        return;
    }
    if (!r->rc) {
        a->completed++;
        enum s3dlio_xfer_dir dir = r->o->job->dir;
        /* the backend counts bytes received: a PUT's payload is its body */
        a->bytes += dir == S3DLIO_XFER_GET                            ? r->req.bytes
                    : dir == S3DLIO_XFER_PUT && r->step == STEP_DATA ? r->req.length
                                                                      : 0;
        a->lat_sum_ms += (double)(now - r->started_ns) / 1e6;
        /* before this one leaves: what the request saw on its way out */
        a->inflight_sum += x->inflight;
    }
    uint64_t lat_ns = a->completed ? (uint64_t)(a->lat_sum_ms / (double)a->completed * 1e6) : 0;
    uint64_t span = lat_ns * ADAPT_LATENCIES;
    if (span < ADAPT_MIN_INTERVAL_NS)
        span = ADAPT_MIN_INTERVAL_NS;
    if ((now - a->t0_ns >= span && a->completed) || a->throttled)
        adapt_step(x, a, now);
}

/* A request of dir is about to go: the report's limit follows the directions in use. */
static void note_dir(struct xfer *x, enum s3dlio_xfer_dir dir)
{
    struct xadapt *a = adapt_of(x, dir);
    if (a->seen)
        return;
    bool first = !x->adapt[0].seen && !x->adapt[1].seen;
    a->seen = true;
    struct s3dlio_xfer_stats *st = x->st;
    if (first) {
        /* until now the limit was a guess over both directions (--get-concurrency 8 with an
         * adaptive PUT must not show 16): start its record over with this one */
        st->nlimit_samples = 0;
        st->limit_configured = st->limit_min = st->limit_max = effective(x);
        st->limit_adaptive = a->on;
    } else {
        st->limit_adaptive |= a->on;
    }
    sample_limit(x);
}

static int limit_now(const struct xfer *x, enum s3dlio_xfer_dir dir, uint64_t now)
{
    int conc = configured(x, dir);
    if ((int)x->cwnd < conc)
        conc = (int)x->cwnd;
    uint64_t ramp = x->o->ramp_ms * 1000000ull;
    /* open connections gradually: thousands of ranks connecting in one millisecond is a
     * known way to knock over an endpoint */
    if (ramp && now - x->start_ns < ramp) {
        int n = 1 + (int)((uint64_t)conc * (now - x->start_ns) / ramp);
        if (n < conc)
            conc = n;
    }
    return conc < 1 ? 1 : conc;
}

/* ---- retries ------------------------------------------------------------------------------ */

bool xfer_retry(struct xfer *x, struct xreq *r, struct s3dlio_error *err)
{
    struct s3dlio_xfer_job *job = r->o->job;
    uint64_t now = xfer_now_ns();
    if (!r->first_fail_ns)
        r->first_fail_ns = s3dlio_retry_budget_start(err, r->started_ns, now);
    if (r->fatal || (r->o->failed && r->step == STEP_DATA))
        return false;
    /* once cancelled, only aborts of uploads are worth another try, until the grace ends */
    if (x->cancelling && (r->step != STEP_ABORT || now >= x->cancel_deadline_ns))
        return false;
    uint64_t elapsed_ms = (now - r->first_fail_ns) / 1000000u;
    if (!s3dlio_retry_allowed(&x->retry, err, r->attempt + 1, elapsed_ms))
        return false;
    r->attempt++;
    job->retries++;
    x->st->retries++;
    uint64_t ms = s3dlio_retry_wait_ms(
        &x->retry, err, s3dlio_retry_backoff_ms(&x->rng, r->attempt, x->retry.base_ms, x->retry.cap_ms),
        elapsed_ms);
    x->st->backoff_ms += ms;
    r->not_before_ns = now + ms * 1000000ull;
    S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_XFER, "retry %d of '%s' at %" PRIu64 " in %" PRIu64
               " ms: %s", r->attempt, job->key, r->off + r->done, ms, err->message);
    xq_push(&x->delayed, r);
    return true;
}

/* ---- spans (a request trace) -------------------------------------------------------------- */

static const char *span_op(enum s3dlio_req_op op)
{
    switch (op) {
    case S3DLIO_REQ_GET:
        return "GET";
    case S3DLIO_REQ_PUT:
        return "PUT";
    case S3DLIO_REQ_PUT_PART:
        return "UploadPart";
    case S3DLIO_REQ_HEAD:
        return "HEAD";
    case S3DLIO_REQ_MPU_CREATE:
        return "CreateMultipartUpload";
    case S3DLIO_REQ_MPU_COMPLETE:
        return "CompleteMultipartUpload";
    case S3DLIO_REQ_MPU_ABORT:
        return "AbortMultipartUpload";
    case S3DLIO_REQ_COPY:
        return "CopyObject";
    case S3DLIO_REQ_COPY_PART:
        return "UploadPartCopy";
    }
    return "unknown";
}

void xfer_span(struct xfer *x, const struct xreq *r, enum s3dlio_rc rc, uint64_t bytes)
{
    if (!x->o->on_span)
        return;
    const struct s3dlio_req *q = &r->req;
    struct s3dlio_req_span s = {
        .key = q->key ? q->key : r->o->job->key, .op = span_op(q->op),
        /* a server-side copy moves no payload through the client */
        .data = r->step == STEP_DATA && r->o->job->dir != S3DLIO_XFER_COPY,
        .part_number = q->part_number, .bytes = bytes, .http_status = q->http_status,
        .attempt = r->attempt, .rc = rc, .start_ns = r->started_ns,
        /* a request refused at submit never went through req_done: it ended as it started */
        .end_ns = r->ended_ns > r->started_ns ? r->ended_ns : r->started_ns,
    };
    if (s.data) {
        /* a GET's range as asked: a retry resumes after what arrived; a PUT's, of its source */
        bool get = q->op == S3DLIO_REQ_GET;
        s.range_off = get ? q->offset : r->off;
        s.range_len = get ? q->length : r->len;
    }
    /* the backend times the first byte from its own start, a little after ours: clamped */
    if (q->t_first_byte_ns && q->http_status) {
        uint64_t fb = r->started_ns + q->t_first_byte_ns;
        s.first_byte_ns = fb < s.end_ns ? fb : s.end_ns;
    }
    x->o->on_span(x->o->span_ud, &s);
}

/* ---- submitting --------------------------------------------------------------------------- */

static void req_done(struct s3dlio_req *req, enum s3dlio_rc rc, void *ud)
{
    (void)req;
    struct xreq *r = ud;
    r->rc = rc;
    /* when it ended, not when the loop gets to it: only a trace wants it */
    if (r->x->o->on_span)
        r->ended_ns = xfer_now_ns();
    xq_push(&r->x->completed, r);
}

static void submit(struct xfer *x, struct xreq *r)
{
    struct s3dlio_req *q = &r->req;
    s3dlio_error_clear(&r->sink_err);
    enum s3dlio_rc rc = xobj_setup(x, r);
    q->done = req_done;
    q->done_ud = r;
    x->inflight++;
    note_dir(x, r->o->job->dir);
    x->st->requests++;
    r->o->job->requests++;
    r->started_ns = xfer_now_ns();
    if ((uint64_t)x->inflight > x->st->max_inflight)
        x->st->max_inflight = (uint64_t)x->inflight;
    if (!rc)
        rc = s3dlio_backend_submit(x->be, q);
    if (rc) {
        /* refused before any I/O: report it like a completion, through the same path */
        r->rc = rc;
        if (!q->err.rc && r->sink_err.rc)
            q->err = r->sink_err;
        if (!q->err.rc)
            s3dlio_error_set(&q->err, rc, "xfer", q->key, "request could not be started");
        xq_push(&x->completed, r);
    }
}

/* ---- the loop ----------------------------------------------------------------------------- */

static bool more_jobs(struct xfer *x)
{
    if (x->next_job < x->njobs)
        return true;
    if (x->no_more || !x->o->refill)
        return false;
    struct s3dlio_xfer_job *jobs = NULL;
    size_t n = x->o->refill(x->o->refill_ud, &jobs);
    if (!n) {
        x->no_more = true;
        return false;
    }
    x->jobs = jobs;
    x->njobs = n;
    x->next_job = 0;
    return true;
}

/* The next request to send: a delayed one whose time came, else a ready one, else a new object. */
static struct xreq *next_req(struct xfer *x, uint64_t now)
{
    struct xreq *prev = NULL;
    for (struct xreq *r = x->delayed.head; r; prev = r, r = r->next) {
        if (r->not_before_ns > now)
            continue;
        if (prev)
            prev->next = r->next;
        else
            x->delayed.head = r->next;
        if (x->delayed.tail == r)
            x->delayed.tail = prev;
        r->next = NULL;
        return r;
    }
    /* a stream is read once, in order: what comes after it waits until it has ended */
    while (!x->ready.head && !x->cancelling && !x->stream && more_jobs(x))
        xobj_start(x, &x->jobs[x->next_job++]);
    return pop(&x->ready);
}

static bool rate_allows(const struct xfer *x, uint64_t now)
{
    return x->o->max_request_rate <= 0 || now >= x->next_token_ns;
}

static void rate_take(struct xfer *x, uint64_t now)
{
    if (x->o->max_request_rate <= 0)
        return;
    uint64_t gap = (uint64_t)(1e9 / x->o->max_request_rate);
    /* no saved-up burst: an idle period does not license a flood afterwards */
    x->next_token_ns = (x->next_token_ns > now ? x->next_token_ns : now) + gap;
}

static enum s3dlio_xfer_dir next_dir(const struct xfer *x)
{
    if (x->ready.head)
        return x->ready.head->o->job->dir;
    return x->next_job < x->njobs ? x->jobs[x->next_job].dir : S3DLIO_XFER_GET;
}

static void fill(struct xfer *x)
{
    uint64_t now = xfer_now_ns();
    for (;;) {
        if (x->inflight >= limit_now(x, next_dir(x), now) || !rate_allows(x, now))
            break;
        struct xreq *r = next_req(x, now);
        if (!r)
            break;
        if (x->cancelling && r->step != STEP_ABORT) {
            xobj_abandon(x, r, true);
            continue;
        }
        /* another part failed for good, or found the object changed: the rest is moot */
        if (r->step == STEP_DATA && (r->o->failed || r->o->changed)) {
            xobj_abandon(x, r, false);
            continue;
        }
        rate_take(x, now);
        submit(x, r);
    }
}

static int wait_ms(const struct xfer *x)
{
    uint64_t now = xfer_now_ns(), next = UINT64_MAX;
    for (const struct xreq *r = x->delayed.head; r; r = r->next)
        if (r->not_before_ns < next)
            next = r->not_before_ns;
    if (x->o->max_request_rate > 0 && x->next_token_ns > now && x->next_token_ns < next &&
        (x->ready.head || x->next_job < x->njobs))
        next = x->next_token_ns;
    if (x->o->ramp_ms && now - x->start_ns < x->o->ramp_ms * 1000000ull)
        next = now + 1000000ull;
    if (next == UINT64_MAX)
        return 100;
    return next <= now ? 0 : (int)((next - now) / 1000000ull) + 1;
}

static bool work_left(const struct xfer *x)
{
    if (x->active)
        return true;
    if (x->cancelling)
        return false;
    return x->next_job < x->njobs || (x->o->refill && !x->no_more);
}

/*
 * Stop: every request in flight is cancelled (its done reports S3DLIO_E_ABORTED), queued
 * ones are abandoned as they come up; objects then finish through their usual failure
 * paths, which remove temporary files and abort multipart uploads.
 */
static void begin_cancel(struct xfer *x, enum s3dlio_rc why)
{
    if (!x->cancelling) {
        x->cancelling = true;
        x->st->interrupted = why == S3DLIO_E_ABORTED;
        x->cancel_deadline_ns = xfer_now_ns() + CANCEL_GRACE_NS;
        x->first_rc = why; /* the caller must learn the run was stopped, whatever failed before */
        /* backoffs still to wait out are abandoned at once; aborts of uploads keep theirs */
        for (struct xreq *r = x->delayed.head; r; r = r->next)
            if (r->step != STEP_ABORT)
                r->not_before_ns = 0;
        S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_XFER, "stopping: %zu objects in progress",
                   x->active);
        /* uploads being created or aborted go on (within the grace): an upload whose
         * creation was cut off would stay on the server with nobody knowing its id */
        s3dlio_backend_cancel_transfers(x->be);
        return;
    }
    x->cancel_deadline_ns = 0; /* asked again, or broken: stop waiting for aborts */
    s3dlio_backend_cancel_all(x->be);
}

static void check_cancel(struct xfer *x)
{
    int want = x->o->cancel ? (int)*x->o->cancel : 0;
    if (want > x->cancel_seen) {
        x->cancel_seen = want;
        begin_cancel(x, S3DLIO_E_ABORTED);
    } else if (x->cancelling && x->inflight && xfer_now_ns() >= x->cancel_deadline_ns) {
        x->cancel_deadline_ns = 0;
        s3dlio_backend_cancel_all(x->be); /* the grace for aborts is over */
    }
}

static void start(struct xfer *x, struct s3dlio_backend *be, struct s3dlio_xfer_job *jobs, size_t n,
                  const struct s3dlio_xfer_opts *opts, struct s3dlio_xfer_stats *st)
{
    memset(x, 0, sizeof(*x));
    x->be = be;
    x->o = opts;
    x->st = st;
    x->jobs = jobs;
    x->njobs = n;
    x->retry = (struct s3dlio_retry_policy){opts->retries, opts->retry_time_ms,
                                            opts->retry_base_ms ? opts->retry_base_ms : 100,
                                            opts->retry_cap_ms ? opts->retry_cap_ms : 10000};
    x->rng = opts->jitter_seed ? opts->jitter_seed
                               : s3dlio_retry_seed(0, (uint64_t)getpid(), xfer_now_ns());
    S3DLIO_LOG(S3DLIO_LOG_DEBUG, S3DLIO_SUB_XFER, "backoff jitter seed %016" PRIx64, x->rng);
    memset(st, 0, sizeof(*st));
    x->adapt[0].on = opts->adapt_get;
    x->adapt[1].on = opts->adapt_put;
    s3dlio_adapt_init(&x->adapt[0].ctl, opts->get_concurrency, opts->max_concurrency);
    /* PUT bodies read into a buffer first (--verify, --payload-signing full) hold a part each
     * while in flight: there the target stays at the configured count, so memory stays
     * put_concurrency x part size, as documented, rather than growing with the target */
    bool buffered = opts->verify || opts->hash_payload;
    s3dlio_adapt_init(&x->adapt[1].ctl, opts->put_concurrency,
                      buffered ? opts->put_concurrency : opts->max_concurrency);
    int conf = configured(x, S3DLIO_XFER_GET) > configured(x, S3DLIO_XFER_PUT)
                   ? configured(x, S3DLIO_XFER_GET)
                   : configured(x, S3DLIO_XFER_PUT);
    int top = conf;
    for (int i = 0; i < 2; i++)
        if (x->adapt[i].on && x->adapt[i].ctl.ceiling > top)
            top = x->adapt[i].ctl.ceiling;
    x->cwnd = x->cwnd_max = top;
    st->limit_configured = st->limit_min = (uint32_t)conf;
    x->start_ns = st->t_start_ns = xfer_now_ns();
    sample_limit(x);
}

enum s3dlio_rc s3dlio_xfer_run(struct s3dlio_backend *be, struct s3dlio_xfer_job *jobs, size_t n,
                               const struct s3dlio_xfer_opts *opts, struct s3dlio_xfer_stats *stats)
{
    struct s3dlio_xfer_stats local_stats;
    struct xfer x;
    start(&x, be, jobs, n, opts, stats ? stats : &local_stats);
    uint64_t next_tick = 0;
    while (work_left(&x)) {
        check_cancel(&x);
        xstream_pump(&x);
        fill(&x);
        int ms = wait_ms(&x);
        struct s3dlio_local *input = xstream_input(&x);
        if (x.inflight) {
            size_t left = 0;
            /* a stream waiting for input is polled below: its data must not wait on curl */
            enum s3dlio_rc rc = s3dlio_backend_progress(be, input ? 0 : ms, &left);
            if (rc && !be->ops->cancel_all) {
                /* requests in flight cannot be taken back from such a backend: stop here */
                x.first_rc = rc;
                break;
            }
            if (rc) { /* the event loop itself broke: clean up what can be, at once */
                begin_cancel(&x, rc);
                x.cancel_deadline_ns = 0;
            }
        } else if (!x.completed.head && ms > 0 && !input) {
            sleep_ms(ms); /* waiting for a backoff or the rate limit: nothing to drive */
        }
        if (input && !x.completed.head)
            s3dlio_local_wait_input(input, x.inflight && ms > INPUT_POLL_MS ? INPUT_POLL_MS : ms);
        for (struct xreq *r; (r = pop(&x.completed));) {
            xfer_adapt_completed(&x, r);
            x.inflight--;
            xobj_completed(&x, r);
        }
        if (opts->tick && xfer_now_ns() >= next_tick) {
            opts->tick(opts->tick_ud, x.st);
            next_tick = xfer_now_ns() + (opts->tick_ms ? opts->tick_ms : 250) * 1000000ull;
        }
    }
    x.st->t_end_ns = xfer_now_ns();
    pool_release(&x);
    return x.first_rc;
}
