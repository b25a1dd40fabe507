/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transfer engine: one event loop per process keeps up to N object requests in flight
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
 * Completion callbacks only queue the finished part; all decisions (retry, next part,
 * finishing an object) are taken in the loop, so synchronous backend calls made from the
 * loop (HEAD, multipart create/complete) may safely drive other transfers meanwhile.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "s3/sigv4.h"
#include "s3dlio/stats.h"
#include "s3dlio/xfer.h"
#include "util/alloc.h"
#include "util/log.h"
#include "xfer/local.h"
#include "util/retry.h"

#define MAX_PARTS 10000 /* the S3 multipart limit */

struct xobj;

/* One request's worth of an object: a byte range (GET) or a part (PUT). */
struct xpart {
    struct xfer *x;
    struct xobj *o;
    struct xpart *next;      /* in one of the engine's queues */
    uint64_t off, len;       /* range in the object; len unknown for whole GETs of unknown size */
    uint64_t done;           /* GET bytes already delivered: a retry resumes after them */
    int number;              /* multipart part number, 0 for single requests */
    int attempt;             /* retries so far */
    uint64_t not_before_ns;  /* backoff */
    bool whole;              /* the whole object in one request */
    bool fatal;              /* failed in a way a retry cannot fix (local I/O, bad data) */
    enum s3dlio_rc rc;       /* of the last completion */
    struct s3dlio_req req;
    struct s3dlio_error sink_err;
    unsigned char *buf;      /* buffered PUT body (hashing on), filled once */
    size_t buf_cap;
    char md5_b64[25];
    char sha256[65];
    struct s3dlio_md5 md5;   /* GET --verify of a whole single-part object */
    bool md5_on;
};

struct xobj {
    struct s3dlio_xfer_job *job;
    struct s3dlio_local local;
    uint64_t size;
    struct xpart *parts;
    size_t nparts, ndone, outstanding;
    bool failed;
    char *upload_id;
};

struct queue {
    struct xpart *head, *tail;
};

struct xfer {
    struct s3dlio_backend *be;
    const struct s3dlio_xfer_opts *o;
    struct s3dlio_xfer_stats *st;
    struct s3dlio_xfer_job *jobs;
    size_t njobs, next_job;
    size_t active;           /* objects started and not yet finished */
    int inflight;
    struct queue ready, delayed, completed;
    uint64_t start_ns, next_token_ns;
    uint64_t rng;
    enum s3dlio_rc first_rc;
    unsigned char **free_bufs; /* bounded buffer pool: at most one buffer per request in flight */
    size_t *free_caps, nfree, free_alloc;
};

static void sleep_ms(int ms);

static uint64_t now_ns(void)
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
    o->retries = 5;
    o->retry_base_ms = 100;
    o->retry_cap_ms = 10000;
    o->ramp_ms = 100;
    o->jitter_seed = 0x5eed;
}

/* ---- queues and the buffer pool ---------------------------------------------------------- */

static void push(struct queue *q, struct xpart *p)
{
    p->next = NULL;
    if (q->tail)
        q->tail->next = p;
    else
        q->head = p;
    q->tail = p;
}

static struct xpart *pop(struct queue *q)
{
    struct xpart *p = q->head;
    if (p) {
        q->head = p->next;
        if (!q->head)
            q->tail = NULL;
        p->next = NULL;
    }
    return p;
}

static void pool_get(struct xfer *x, struct xpart *p, size_t len)
{
    for (size_t i = 0; i < x->nfree; i++) {
        if (x->free_caps[i] < len)
            continue;
        p->buf = x->free_bufs[i];
        p->buf_cap = x->free_caps[i];
        x->free_bufs[i] = x->free_bufs[--x->nfree];
        x->free_caps[i] = x->free_caps[x->nfree];
        return;
    }
    p->buf_cap = len ? len : 1;
    p->buf = s3dlio_xmalloc(p->buf_cap);
}

static void pool_put(struct xfer *x, struct xpart *p)
{
    if (!p->buf)
        return;
    size_t alloc = x->free_alloc;
    s3dlio_xgrow((void **)&x->free_bufs, sizeof(*x->free_bufs), x->nfree + 1, &x->free_alloc);
    s3dlio_xgrow((void **)&x->free_caps, sizeof(*x->free_caps), x->nfree + 1, &alloc);
    x->free_bufs[x->nfree] = p->buf;
    x->free_caps[x->nfree++] = p->buf_cap;
    p->buf = NULL;
    p->buf_cap = 0;
}

static void pool_release(struct xfer *x)
{
    for (size_t i = 0; i < x->nfree; i++)
        free(x->free_bufs[i]);
    free(x->free_bufs);
    free(x->free_caps);
}

/* ---- data callbacks ---------------------------------------------------------------------- */

static enum s3dlio_rc part_sink(void *ud, uint64_t offset, const void *data, size_t len)
{
    struct xpart *p = ud;
    struct xobj *o = p->o;
    if (o->size != S3DLIO_SIZE_UNKNOWN && offset + len > o->size)
        return s3dlio_error_set(&p->sink_err, S3DLIO_E_INTEGRITY, "get", o->job->key,
                                "object is larger than its listed size %" PRIu64, o->size);
    enum s3dlio_rc rc = s3dlio_local_write(&o->local, offset, data, len, &p->sink_err);
    if (rc)
        return rc;
    if (p->md5_on)
        s3dlio_md5_update(&p->md5, data, len);
    p->done += len;
    return S3DLIO_OK;
}

static enum s3dlio_rc part_source(void *ud, uint64_t offset, void *buf, size_t len, size_t *got)
{
    struct xpart *p = ud;
    if (p->buf) {
        size_t n = offset < p->len ? (size_t)(p->len - offset) : 0;
        *got = n < len ? n : len;
        memcpy(buf, p->buf + offset, *got);
        return S3DLIO_OK;
    }
    return s3dlio_local_read(&p->o->local, p->off + offset, buf, len, got, &p->sink_err);
}

static void part_done(struct s3dlio_req *req, enum s3dlio_rc rc, void *ud)
{
    (void)req;
    struct xpart *p = ud;
    p->rc = rc;
    push(&p->x->completed, p);
}

/* ---- starting objects --------------------------------------------------------------------- */

static uint64_t part_size_for(const struct s3dlio_xfer_opts *o, uint64_t size)
{
    uint64_t ps = o->part_size ? o->part_size : 8u << 20;
    /* more than 10000 parts is refused by S3: grow the part, in whole MiB */
    if ((size + ps - 1) / ps > MAX_PARTS)
        ps = ((size / MAX_PARTS) | ((1u << 20) - 1)) + 1;
    return ps;
}

static void split(struct xfer *x, struct xobj *o, bool multi)
{
    uint64_t ps = part_size_for(x->o, o->size);
    o->nparts = multi ? (size_t)((o->size + ps - 1) / ps) : 1;
    o->parts = s3dlio_xcalloc(o->nparts, sizeof(*o->parts));
    for (size_t i = 0; i < o->nparts; i++) {
        struct xpart *p = &o->parts[i];
        p->x = x;
        p->o = o;
        p->off = multi ? i * ps : 0;
        p->len = multi ? (o->size - p->off < ps ? o->size - p->off : ps) : o->size;
        p->whole = !multi;
        p->number = multi && o->job->dir == S3DLIO_XFER_PUT ? (int)i + 1 : 0;
        push(&x->ready, p);
    }
    o->outstanding = o->nparts;
}

static enum s3dlio_rc resolve_get_size(struct xfer *x, struct xobj *o)
{
    struct s3dlio_xfer_job *job = o->job;
    if (job->size != S3DLIO_SIZE_UNKNOWN || job->local != S3DLIO_LOCAL_MEMORY)
        return S3DLIO_OK;
    /* memory needs the size up front; files and sinks can take an unsized whole GET */
    struct s3dlio_object obj = {0};
    enum s3dlio_rc rc = s3dlio_backend_stat(x->be, job->key, &obj, &job->err);
    free(obj.key);
    if (!rc)
        o->size = obj.size;
    return rc;
}

static void record_failure(struct xfer *x, struct xobj *o, const struct s3dlio_error *err);
static void finish_object(struct xfer *x, struct xobj *o);

static enum s3dlio_rc start_object(struct xfer *x, struct s3dlio_xfer_job *job)
{
    if (job->rc) { /* refused by whoever planned it (e.g. an unsafe file name) */
        x->st->failures++;
        if (!x->first_rc)
            x->first_rc = job->rc;
        return job->rc;
    }
    struct xobj *o = s3dlio_xcalloc(1, sizeof(*o));
    o->job = job;
    o->size = job->size;
    x->active++;
    enum s3dlio_rc rc = s3dlio_local_open(&o->local, job, &o->size, &job->err);
    if (!rc && job->dir == S3DLIO_XFER_GET)
        rc = resolve_get_size(x, o);
    bool multi = false;
    if (!rc && job->dir == S3DLIO_XFER_GET)
        multi = o->size != S3DLIO_SIZE_UNKNOWN && o->size > x->o->range_threshold;
    if (!rc && job->dir == S3DLIO_XFER_PUT && o->size > x->o->multipart_threshold &&
        s3dlio_backend_has_multipart(x->be)) {
        multi = true;
        rc = x->be->ops->mpu_create(x->be, job->key, &o->upload_id, &job->err);
    }
    if (rc) {
        if (!job->err.rc)
            s3dlio_error_set(&job->err, rc, job->dir == S3DLIO_XFER_GET ? "get" : "put", job->key,
                             "%s", s3dlio_rc_str(rc));
        record_failure(x, o, &job->err);
        finish_object(x, o); /* nothing was queued: removes what local_open created */
        return rc;
    }
    split(x, o, multi);
    return S3DLIO_OK;
}

/* ---- finishing objects -------------------------------------------------------------------- */

static void record_failure(struct xfer *x, struct xobj *o, const struct s3dlio_error *err)
{
    struct s3dlio_xfer_job *job = o->job;
    if (!o->failed) {
        o->failed = true;
        job->err = *err;
        job->rc = err->rc ? err->rc : S3DLIO_E_INTERNAL;
    }
    if (!x->first_rc)
        x->first_rc = job->rc;
}

static enum s3dlio_rc complete_multipart(struct xfer *x, struct xobj *o)
{
    struct s3dlio_part *parts = s3dlio_xcalloc(o->nparts, sizeof(*parts));
    for (size_t i = 0; i < o->nparts; i++) {
        parts[i].number = o->parts[i].number;
        memcpy(parts[i].etag, o->parts[i].req.etag, sizeof(parts[i].etag));
    }
    enum s3dlio_rc rc =
        x->be->ops->mpu_complete(x->be, o->job->key, o->upload_id, parts, o->nparts, &o->job->err);
    free(parts);
    return rc;
}

static void finish_object(struct xfer *x, struct xobj *o)
{
    struct s3dlio_xfer_job *job = o->job;
    struct s3dlio_error err = {0};
    enum s3dlio_rc rc = S3DLIO_OK;
    if (!o->failed && o->upload_id)
        rc = complete_multipart(x, o);
    if (rc)
        record_failure(x, o, &job->err);
    rc = s3dlio_local_close(&o->local, !o->failed, &err);
    if (rc)
        record_failure(x, o, &err);
    if (o->failed && o->upload_id) {
        /* parts of a failed upload would stay on the server, invisible and billed */
        struct s3dlio_error ignore = {0};
        x->be->ops->mpu_abort(x->be, job->key, o->upload_id, &ignore);
    }
    if (o->failed)
        x->st->failures++;
    else
        x->st->objects++;
    for (size_t i = 0; i < o->nparts; i++) {
        pool_put(x, &o->parts[i]);
        s3dlio_md5_release(&o->parts[i].md5);
    }
    free(o->parts);
    free(o->upload_id);
    free(o);
    x->active--;
}

/* A part left the engine (done, dropped or failed for good). */
static void part_retired(struct xfer *x, struct xpart *p)
{
    struct xobj *o = p->o;
    pool_put(x, p);
    if (--o->outstanding == 0)
        finish_object(x, o);
}

/* ---- submitting --------------------------------------------------------------------------- */

/* Fill a PUT part's buffer once, hashing as it is read: no second pass over the data. */
static enum s3dlio_rc fill_buffer(struct xfer *x, struct xpart *p)
{
    struct s3dlio_sha256 sha;
    struct s3dlio_md5 md5;
    enum s3dlio_rc rc = S3DLIO_OK;
    uint64_t at = 0;
    pool_get(x, p, (size_t)p->len);
    if (x->o->hash_payload)
        s3dlio_sha256_init(&sha);
    if (x->o->verify)
        s3dlio_md5_init(&md5);
    while (!rc && at < p->len) {
        size_t chunk = p->len - at < (1u << 20) ? (size_t)(p->len - at) : (1u << 20), got = 0;
        rc = s3dlio_local_read(&p->o->local, p->off + at, p->buf + at, chunk, &got, &p->sink_err);
        if (!rc && got != chunk)
            rc = s3dlio_error_set(&p->sink_err, S3DLIO_E_IO, "put", p->o->job->key,
                                  "source ended early (changed while uploading?)");
        if (!rc && x->o->hash_payload)
            s3dlio_sha256_update(&sha, p->buf + at, got);
        if (!rc && x->o->verify)
            s3dlio_md5_update(&md5, p->buf + at, got);
        at += got;
    }
    char hex[33];
    if (x->o->hash_payload)
        s3dlio_sha256_final_hex(&sha, p->sha256);
    if (x->o->verify)
        s3dlio_md5_final(&md5, hex, p->md5_b64);
    return rc;
}

static void setup_get(struct xfer *x, struct xpart *p)
{
    struct s3dlio_req *r = &p->req;
    r->op = S3DLIO_REQ_GET;
    r->offset = p->off + p->done;
    /* a whole object on the first try is a plain GET: no Range header for small objects */
    r->length = p->whole && p->done == 0 ? S3DLIO_LEN_TO_END : p->len - p->done;
    r->sink = part_sink;
    r->sink_ud = p;
    if (x->o->verify && p->whole && p->done == 0 && p->attempt == 0 && !p->md5_on) {
        s3dlio_md5_init(&p->md5);
        p->md5_on = true;
    }
}

static enum s3dlio_rc setup_put(struct xfer *x, struct xpart *p)
{
    struct s3dlio_req *r = &p->req;
    enum s3dlio_rc rc = S3DLIO_OK;
    r->op = p->number ? S3DLIO_REQ_PUT_PART : S3DLIO_REQ_PUT;
    r->length = p->len;
    r->source = part_source;
    r->source_ud = p;
    r->upload_id = p->o->upload_id;
    r->part_number = p->number;
    if ((x->o->verify || x->o->hash_payload) && !p->buf)
        rc = fill_buffer(x, p);
    r->content_md5 = x->o->verify && p->md5_b64[0] ? p->md5_b64 : NULL;
    r->payload_sha256 = x->o->hash_payload && p->sha256[0] ? p->sha256 : NULL;
    return rc;
}

static void submit_part(struct xfer *x, struct xpart *p)
{
    struct s3dlio_req *r = &p->req;
    memset(r, 0, sizeof(*r));
    s3dlio_error_clear(&p->sink_err);
    r->key = p->o->job->key;
    r->done = part_done;
    r->done_ud = p;
    enum s3dlio_rc rc = S3DLIO_OK;
    if (p->o->job->dir == S3DLIO_XFER_GET)
        setup_get(x, p);
    else
        rc = setup_put(x, p);
    if (x->o->test_delay_ms)
        sleep_ms((int)x->o->test_delay_ms);
    x->inflight++;
    x->st->requests++;
    p->o->job->requests++;
    if (x->inflight > 0 && (uint64_t)x->inflight > x->st->max_inflight)
        x->st->max_inflight = (uint64_t)x->inflight;
    if (!rc)
        rc = s3dlio_backend_submit(x->be, r);
    if (rc) {
        /* refused before any I/O: report it like a completion, through the same path */
        p->rc = rc;
        if (!r->err.rc)
            r->err = p->sink_err.rc ? p->sink_err : r->err;
        if (!r->err.rc)
            s3dlio_error_set(&r->err, rc, "xfer", r->key, "request could not be started");
        push(&x->completed, p);
    }
}

/* ---- completions -------------------------------------------------------------------------- */

static bool etag_matches(struct xpart *p)
{
    char hex[33], b64[25];
    s3dlio_md5_final(&p->md5, hex, b64);
    p->md5_on = false;
    const char *etag = p->req.etag;
    /* only single-part ETags are an MD5 of the body; "<md5>-N" is not checkable */
    if (strlen(etag) != 32 || strchr(etag, '-'))
        return true;
    return !hex[0] || !strcmp(hex, etag);
}

static void retry_or_fail(struct xfer *x, struct xpart *p, struct s3dlio_error *err)
{
    struct s3dlio_xfer_job *job = p->o->job;
    if (s3dlio_retry_is_throttle(err))
        x->st->throttled++;
    else if (err->http_status >= 500)
        x->st->server_errors++;
    if (!p->o->failed && !p->fatal && s3dlio_retry_is_transient(err) && p->attempt < x->o->retries) {
        p->attempt++;
        job->retries++;
        x->st->retries++;
        if (p->md5_on) { /* a resumed body cannot be checked as a whole any more */
            s3dlio_md5_release(&p->md5);
            p->md5_on = false;
        }
        uint64_t ms = s3dlio_retry_backoff_ms(&x->rng, p->attempt, x->o->retry_base_ms,
                                              x->o->retry_cap_ms);
        p->not_before_ns = now_ns() + ms * 1000000ull;
        S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_XFER, "retry %d of '%s' at %" PRIu64 " in %" PRIu64
                   " ms: %s", p->attempt, job->key, p->off + p->done, ms, err->message);
        push(&x->delayed, p);
        return;
    }
    if (p->attempt && !p->o->failed) {
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof(err->message) - n, "%s(after %d attempts)", n ? " " : "",
                 p->attempt + 1);
    }
    record_failure(x, p->o, err);
    part_retired(x, p);
}

static void handle_completion(struct xfer *x, struct xpart *p)
{
    struct s3dlio_req *r = &p->req;
    struct xobj *o = p->o;
    x->inflight--;
    struct s3dlio_error err = p->sink_err.rc ? p->sink_err : r->err;
    enum s3dlio_rc rc = p->rc;
    if (!rc && o->job->dir == S3DLIO_XFER_GET && p->md5_on && !etag_matches(p)) {
        rc = s3dlio_error_set(&err, S3DLIO_E_INTEGRITY, "get", o->job->key,
                              "MD5 of the body differs from ETag %s", r->etag);
        p->fatal = true; /* the server stores what it sent: asking again gives the same */
    }
    if (rc) {
        if (!err.rc)
            s3dlio_error_set(&err, rc, o->job->dir == S3DLIO_XFER_GET ? "get" : "put",
                             o->job->key, "%s", s3dlio_rc_str(rc));
        /* a local write or read failure will not go away by asking the server again */
        if (p->sink_err.rc && p->sink_err.rc != S3DLIO_E_INTEGRITY)
            p->fatal = true;
        retry_or_fail(x, p, &err);
        return;
    }
    uint64_t moved = o->job->dir == S3DLIO_XFER_GET ? p->done : p->len;
    x->st->bytes += moved;
    o->job->bytes += moved;
    x->st->ttfb_ns_sum += r->t_first_byte_ns;
    if (x->o->ttfb_hist)
        s3dlio_hist_add(x->o->ttfb_hist, r->t_first_byte_ns);
    if (x->o->total_hist)
        s3dlio_hist_add(x->o->total_hist, r->t_total_ns);
    o->ndone++;
    part_retired(x, p);
}

/* ---- the loop ----------------------------------------------------------------------------- */

static int limit_now(const struct xfer *x, enum s3dlio_xfer_dir dir, uint64_t now)
{
    int conc = dir == S3DLIO_XFER_GET ? x->o->get_concurrency : x->o->put_concurrency;
    if (conc < 1)
        conc = 1;
    uint64_t ramp = x->o->ramp_ms * 1000000ull;
    /* open connections gradually: thousands of ranks connecting in one millisecond is a
     * known way to knock over an endpoint */
    if (ramp && now - x->start_ns < ramp) {
        int n = 1 + (int)((uint64_t)conc * (now - x->start_ns) / ramp);
        if (n < conc)
            conc = n;
    }
    return conc;
}

/* The next part to send: a delayed one whose time came, else a ready one, else a new object. */
static struct xpart *next_part(struct xfer *x, uint64_t now)
{
    struct xpart **pp = &x->delayed.head, *prev = NULL;
    for (struct xpart *p = *pp; p; prev = p, p = p->next) {
        if (p->not_before_ns > now)
            continue;
        if (prev)
            prev->next = p->next;
        else
            x->delayed.head = p->next;
        if (x->delayed.tail == p)
            x->delayed.tail = prev;
        p->next = NULL;
        return p;
    }
    while (!x->ready.head && x->next_job < x->njobs)
        start_object(x, &x->jobs[x->next_job++]);
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

static void fill(struct xfer *x)
{
    uint64_t now = now_ns();
    for (;;) {
        struct xpart *p = x->ready.head;
        enum s3dlio_xfer_dir dir = p ? p->o->job->dir
                                     : (x->next_job < x->njobs ? x->jobs[x->next_job].dir
                                                               : S3DLIO_XFER_GET);
        if (x->inflight >= limit_now(x, dir, now) || !rate_allows(x, now))
            break;
        p = next_part(x, now);
        if (!p)
            break;
        if (p->o->failed) { /* another part of this object already failed for good */
            part_retired(x, p);
            continue;
        }
        rate_take(x, now);
        submit_part(x, p);
    }
}

static int wait_ms(const struct xfer *x)
{
    uint64_t now = now_ns(), next = UINT64_MAX;
    for (const struct xpart *p = x->delayed.head; p; p = p->next)
        if (p->not_before_ns < next)
            next = p->not_before_ns;
    if (x->o->max_request_rate > 0 && x->next_token_ns > now && x->next_token_ns < next)
        next = x->next_token_ns;
    if (x->o->ramp_ms && now - x->start_ns < x->o->ramp_ms * 1000000ull)
        next = now + 1000000ull;
    if (next == UINT64_MAX)
        return 100;
    return next <= now ? 0 : (int)((next - now) / 1000000ull) + 1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool work_left(const struct xfer *x)
{
    return x->active || x->next_job < x->njobs;
}

enum s3dlio_rc s3dlio_xfer_run(struct s3dlio_backend *be, struct s3dlio_xfer_job *jobs, size_t n,
                               const struct s3dlio_xfer_opts *opts, struct s3dlio_xfer_stats *stats)
{
    struct s3dlio_xfer_stats local_stats;
    struct xfer x = {.be = be, .o = opts, .st = stats ? stats : &local_stats, .jobs = jobs,
                     .njobs = n, .rng = opts->jitter_seed};
    memset(x.st, 0, sizeof(*x.st));
    uint64_t next_tick = 0;
    x.start_ns = x.st->t_start_ns = now_ns();
    enum s3dlio_rc rc = S3DLIO_OK;
    while (!rc && work_left(&x)) {
        fill(&x);
        int ms = wait_ms(&x);
        if (x.inflight) {
            size_t left = 0;
            rc = s3dlio_backend_progress(be, ms, &left);
        } else if (!x.completed.head && x.delayed.head) {
            sleep_ms(ms);
        }
        for (struct xpart *p; (p = pop(&x.completed));)
            handle_completion(&x, p);
        if (opts->tick && now_ns() >= next_tick) {
            opts->tick(opts->tick_ud, x.st);
            next_tick = now_ns() + (opts->tick_ms ? opts->tick_ms : 250) * 1000000ull;
        }
    }
    x.st->t_end_ns = now_ns();
    pool_release(&x);
    if (rc)
        return rc;
    return x.first_rc;
}
