/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Relay: copies between two backends that cannot copy on the server (two endpoints, two
 * accounts), as a GET from the source into a PUT to the destination, through bounded memory.
 *
 * Objects within the budget go in batches: one engine run GETs a batch into one buffer,
 * another PUTs it from there. A larger object goes through a pipe (a Unix socket pair): a
 * thread GETs it into one end while this thread PUTs from the other (a stream upload:
 * multipart, about (put_concurrency + 1) parts in memory). Each GET is pinned to the listed
 * ETag and size, so an object that arrives whole is the one listed.
 *
 * End of file means "the object is complete": only a GET that succeeded closes its end
 * cleanly. A GET that fails first puts a byte into its own end's unread queue, so closing it
 * resets the connection: the PUT's next read fails (ECONNRESET) and the stream upload fails
 * through its usual path, which aborts the upload, also one whose CreateMultipartUpload is
 * still in flight (a cancel would drop that answer and leave the upload behind). Should the
 * reset not come, a PUT of another length than the object's is removed (drop_short). A PUT
 * that fails shuts its end for reading, and the GET's next write fails (EPIPE). The caller's
 * cancel reaches both sides.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "s3dlio/xfer.h"
#include "util/alloc.h"
#include "util/log.h"

/* How often the GET thread passes the caller's cancel on to the PUT of its object. */
#define WATCH_NS 20000000L

struct relay {
    struct s3dlio_backend *src, *dst;
    const struct s3dlio_xfer_opts *o;   /* the caller's */
    struct s3dlio_xfer_stats *st;       /* the relay's, combined */
    uint64_t put_bytes;                 /* PUT bytes of the runs that ended: progress counts on */
    bool put_phase;                     /* the run ticking is a PUT (its bytes are the payload) */
    pthread_mutex_t span_lock;          /* the GET thread and this one both end requests */
};

/* ---- pure pieces ------------------------------------------------------------------------- */

size_t s3dlio_relay_batch(const uint64_t *sizes, size_t n, uint64_t budget)
{
    uint64_t used = 0;
    size_t k = 0;
    while (k < n && sizes[k] <= budget - used) {
        used += sizes[k];
        k++;
    }
    return k;
}

/* ---- callbacks shared by the runs -------------------------------------------------------- */

/* Progress counts the payload once: the bytes PUT, on top of those of earlier runs. */
static void on_tick(void *ud, const struct s3dlio_xfer_stats *run)
{
    struct relay *r = ud;
    struct s3dlio_xfer_stats *seen = s3dlio_xmalloc(sizeof(*seen));
    *seen = *r->st;
    seen->bytes = r->put_bytes + (r->put_phase ? run->bytes : 0);
    seen->bytes_expected = seen->bytes;
    r->o->tick(r->o->tick_ud, seen);
    free(seen);
}

static void on_span(void *ud, const struct s3dlio_req_span *span)
{
    struct relay *r = ud;
    pthread_mutex_lock(&r->span_lock);
    r->o->on_span(r->o->span_ud, span);
    pthread_mutex_unlock(&r->span_lock);
}

/* Options of one run: the caller's, with the relay's callbacks in between. */
static struct s3dlio_xfer_opts run_opts(struct relay *r, bool ticks)
{
    struct s3dlio_xfer_opts xo = *r->o;
    xo.refill = NULL;
    xo.tick = ticks && r->o->tick ? on_tick : NULL;
    xo.tick_ud = r;
    xo.on_span = r->o->on_span ? on_span : NULL;
    xo.span_ud = r;
    xo.on_job_done = NULL; /* its jobs are the relay's halves, not the caller's */
    return xo;
}

/* ---- one relayed object's two halves ----------------------------------------------------- */

/* The source's key of a relay job: copy_source is "<source bucket>/<key>". */
static const char *source_key(const struct relay *r, const struct s3dlio_xfer_job *j)
{
    const char *b = r->src->root.bucket;
    size_t bn = strlen(b);
    if (!j->copy_source || strncmp(j->copy_source, b, bn) || j->copy_source[bn] != '/')
        return NULL;
    return j->copy_source + bn + 1;
}

static void half_jobs(const struct relay *r, const struct s3dlio_xfer_job *j,
                      struct s3dlio_xfer_job *get, struct s3dlio_xfer_job *put)
{
    memset(get, 0, sizeof(*get));
    memset(put, 0, sizeof(*put));
    get->dir = S3DLIO_XFER_GET;
    get->key = source_key(r, j);
    get->size = j->size;
    get->etag = j->etag;
    put->dir = S3DLIO_XFER_PUT;
    put->key = j->key;
    put->size = j->size;
}

/* The relay job's outcome from its halves: the first failure is the one kept. */
static void settle(struct s3dlio_xfer_job *j, struct s3dlio_xfer_job *get,
                   struct s3dlio_xfer_job *put, bool get_first)
{
    struct s3dlio_xfer_job *bad = get_first && get->rc ? get : put->rc ? put : get;
    j->rc = bad->rc;
    if (bad->rc && bad->err) { /* the half's error becomes the job's: handed over, not copied */
        free(j->err);
        j->err = bad->err;
        bad->err = NULL;
    } else if (bad->rc) {
        s3dlio_xfer_job_fail(j, &(struct s3dlio_error){.rc = bad->rc});
        j->rc = bad->rc;
    }
    j->bytes = j->rc ? 0 : put->bytes;
    j->requests = get->requests + put->requests;
    j->retries = get->retries + put->retries;
    j->verified = get->verified;
    memcpy(j->verify_note, get->verify_note, sizeof(j->verify_note));
    memcpy(j->etag_out, put->etag_out, sizeof(j->etag_out));
}

/* Every relay job must name a source key in the source's bucket: refused before any I/O. */
static bool refuse_bad(struct relay *r, struct s3dlio_xfer_job *j)
{
    if (j->rc || source_key(r, j))
        return j->rc != S3DLIO_OK;
    struct s3dlio_error e = {0};
    s3dlio_error_set(&e, S3DLIO_E_USAGE, "copy", j->key, "the relay's source is not in bucket '%s'",
                     r->src->root.bucket);
    s3dlio_xfer_job_fail(j, &e);
    return true;
}

static bool cancelled(const struct relay *r)
{
    return r->o->cancel && *r->o->cancel;
}

/* ---- objects within the budget: GET a batch into memory, then PUT it ---------------------- */

static void run_batch(struct relay *r, struct s3dlio_xfer_job **batch, size_t n, char *mem)
{
    struct s3dlio_xfer_job *get = s3dlio_xcalloc(n, sizeof(*get));
    struct s3dlio_xfer_job *put = s3dlio_xcalloc(n, sizeof(*put));
    struct s3dlio_xfer_stats *st = s3dlio_xcalloc(1, sizeof(*st));
    struct s3dlio_xfer_opts xo = run_opts(r, true);
    uint64_t off = 0;
    size_t nput = 0;
    for (size_t i = 0; i < n; i++) {
        half_jobs(r, batch[i], &get[i], &put[i]);
        get[i].local = put[i].local = S3DLIO_LOCAL_MEMORY;
        get[i].mem = put[i].mem = mem + off;
        off += batch[i]->size;
    }
    r->put_phase = false;
    s3dlio_xfer_run(r->src, get, n, &xo, st);
    s3dlio_xfer_stats_add(r->st, st);
    /* only what arrived whole goes on, packed in front; the rest failed on its GET */
    size_t *at = s3dlio_xcalloc(n, sizeof(*at));
    for (size_t i = 0; i < n; i++) {
        if (!get[i].rc && get[i].bytes == batch[i]->size) {
            at[nput] = i;
            put[nput++] = put[i];
        } else if (!get[i].rc && !cancelled(r)) { /* never started: the run was stopped */
            struct s3dlio_error e = {0};
            s3dlio_error_set(&e, S3DLIO_E_INTEGRITY, "get", get[i].key,
                             "%" PRIu64 " bytes arrived of %" PRIu64, get[i].bytes, batch[i]->size);
            s3dlio_xfer_job_fail(&get[i], &e);
        }
    }
    if (nput && !cancelled(r)) {
        r->put_phase = true;
        s3dlio_xfer_run(r->dst, put, nput, &xo, st);
        s3dlio_xfer_stats_add(r->st, st);
        r->put_bytes += st->bytes;
    } else {
        nput = 0;
    }
    struct s3dlio_xfer_job none = {0};
    for (size_t i = 0, k = 0; i < n; i++) {
        bool put_ran = k < nput && at[k] == i;
        if (!get[i].rc && !put_ran && cancelled(r))
            continue; /* not started: keeps rc 0 and bytes 0 */
        settle(batch[i], &get[i], put_ran ? &put[k] : &none, true);
        k += put_ran;
    }
    free(at);
    free(st);
    s3dlio_xfer_jobs_release(get, n);
    s3dlio_xfer_jobs_release(put, n); /* past nput: copies made before any run, no errors */
    free(get);
    free(put);
}

/* ---- a larger object: GET into a pipe on a thread, PUT from it here ----------------------- */

struct pipe_get {
    struct relay *r;
    struct s3dlio_xfer_job job;
    struct s3dlio_xfer_stats st;
    struct s3dlio_hist ttfb, total;   /* merged into the caller's after the join */
    int wfd, rfd;                     /* the GET's end and the PUT's */
    volatile sig_atomic_t put_cancel; /* the PUT's cancel flag: the caller's, passed on */
    atomic_bool put_done;
    atomic_bool failed_first;         /* the GET failed while the PUT still ran */
};

static void *pipe_get_main(void *ud)
{
    struct pipe_get *g = ud;
    struct relay *r = g->r;
    sigset_t pipe_sig;
    sigemptyset(&pipe_sig);
    sigaddset(&pipe_sig, SIGPIPE); /* a PUT that stopped reading: EPIPE, not a dead process */
    pthread_sigmask(SIG_BLOCK, &pipe_sig, NULL);
    struct s3dlio_xfer_opts xo = run_opts(r, false); /* ticks make MPI calls: main thread only */
    xo.ttfb_hist = r->o->ttfb_hist ? &g->ttfb : NULL;
    xo.total_hist = r->o->total_hist ? &g->total : NULL;
    s3dlio_xfer_run(r->src, &g->job, 1, &xo, &g->st);
    if (!g->job.rc && g->job.bytes == g->job.size) {
        close(g->wfd); /* end of file: the object is complete */
        g->wfd = -1;
    } else {
        if (!g->job.rc) {
            struct s3dlio_error e = {0};
            s3dlio_error_set(&e, S3DLIO_E_INTEGRITY, "get", g->job.key,
                             "%" PRIu64 " bytes arrived of %" PRIu64, g->job.bytes, g->job.size);
            s3dlio_xfer_job_fail(&g->job, &e);
        }
        g->failed_first = !g->put_done;
        /* a byte the GET's end never reads: its close is then a reset, not an end of file */
        if (write(g->rfd, "!", 1) != 1)
            S3DLIO_LOG(S3DLIO_LOG_DEBUG, S3DLIO_SUB_XFER, "relay: the PUT's end is gone");
        close(g->wfd);
        g->wfd = -1;
    }
    /* until the PUT ends, a cancel of the caller's reaches it (a second one too) */
    struct timespec nap = {0, WATCH_NS};
    while (!g->put_done) {
        if (r->o->cancel && *r->o->cancel > g->put_cancel)
            g->put_cancel = *r->o->cancel;
        nanosleep(&nap, NULL);
    }
    return NULL;
}

/*
 * The PUT completed an object it should not have: its GET failed (the reset did not come), or
 * it took another length than the object's. Never left looking complete.
 */
static void drop_short(struct relay *r, struct s3dlio_xfer_job *j, uint64_t put_bytes)
{
    size_t nfailed = 0;
    if (!j->rc) {
        struct s3dlio_error e = {0};
        s3dlio_error_set(&e, S3DLIO_E_INTEGRITY, "put", j->key,
                         "%" PRIu64 " bytes uploaded of %" PRIu64 ": removed", put_bytes, j->size);
        s3dlio_xfer_job_fail(j, &e);
        j->bytes = 0;
    }
    struct s3dlio_error rm = {0};
    if (s3dlio_backend_remove_many(r->dst, &j->key, 1, &nfailed, &rm))
        S3DLIO_LOG(S3DLIO_LOG_ERROR, S3DLIO_SUB_XFER, "removing '%s': %s", j->key, rm.message);
}

static void run_piped(struct relay *r, struct s3dlio_xfer_job *j)
{
    int fds[2];
    struct pipe_get *g = s3dlio_xcalloc(1, sizeof(*g));
    struct s3dlio_xfer_job put;
    struct s3dlio_xfer_stats *st = s3dlio_xcalloc(1, sizeof(*st));
    pthread_t t;
    g->r = r;
    half_jobs(r, j, &g->job, &put);
    struct s3dlio_error e = {0};
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds)) {
        s3dlio_error_sys(&e, "copy", j->key, errno, "socketpair failed");
        s3dlio_xfer_job_fail(j, &e);
        goto out;
    }
    g->wfd = fds[1];
    g->rfd = fds[0];
    g->job.local = S3DLIO_LOCAL_STREAM;
    g->job.fd = fds[1];
    put.local = S3DLIO_LOCAL_STREAM;
    put.fd = fds[0];
    if (pthread_create(&t, NULL, pipe_get_main, g)) {
        s3dlio_error_set(&e, S3DLIO_E_INTERNAL, "copy", j->key, "no thread");
        s3dlio_xfer_job_fail(j, &e);
        close(fds[0]);
        close(fds[1]);
        goto out;
    }
    struct s3dlio_xfer_opts xo = run_opts(r, true);
    xo.cancel = &g->put_cancel;
    r->put_phase = true;
    s3dlio_xfer_run(r->dst, &put, 1, &xo, st);
    g->put_done = true;
    /* a GET still writing learns that nobody reads; the end stays open (the GET thread may
     * still write its byte into it) until the thread is joined */
    shutdown(fds[0], SHUT_RD);
    pthread_join(t, NULL);
    close(fds[0]);
    if (g->wfd >= 0)
        close(g->wfd);
    r->put_bytes += st->bytes;
    s3dlio_xfer_stats_add(r->st, st);
    s3dlio_xfer_stats_add(r->st, &g->st);
    if (r->o->ttfb_hist)
        s3dlio_hist_merge(r->o->ttfb_hist, &g->ttfb);
    if (r->o->total_hist)
        s3dlio_hist_merge(r->o->total_hist, &g->total);
    settle(j, &g->job, &put, g->failed_first);
    if (!put.rc && (j->rc || put.bytes != j->size))
        drop_short(r, j, put.bytes);
out:
    s3dlio_xfer_jobs_release(&g->job, 1);
    s3dlio_xfer_jobs_release(&put, 1);
    free(st);
    free(g);
}

/* ---- the run ----------------------------------------------------------------------------- */

/* The batches of jobs within the budget, in order, each through memory of its own size. */
static void run_small(struct relay *r, struct s3dlio_xfer_job **small, size_t n, uint64_t budget)
{
    uint64_t *sizes = s3dlio_xcalloc(n ? n : 1, sizeof(*sizes));
    uint64_t most = 0;
    for (size_t i = 0; i < n; i++)
        sizes[i] = small[i]->size;
    for (size_t i = 0; i < n;) {
        size_t k = s3dlio_relay_batch(sizes + i, n - i, budget);
        uint64_t sum = 0;
        for (size_t b = i; b < i + k; b++)
            sum += sizes[b];
        most = sum > most ? sum : most;
        i += k;
    }
    char *mem = s3dlio_xmalloc(most ? (size_t)most : 1);
    for (size_t i = 0; i < n && !cancelled(r);) {
        size_t k = s3dlio_relay_batch(sizes + i, n - i, budget);
        run_batch(r, small + i, k, mem);
        i += k;
    }
    free(mem);
    free(sizes);
}

enum s3dlio_rc s3dlio_xfer_relay(struct s3dlio_backend *src, struct s3dlio_backend *dst,
                                 struct s3dlio_xfer_job *jobs, size_t n, uint64_t memory,
                                 const struct s3dlio_xfer_opts *opts, struct s3dlio_xfer_stats *stats)
{
    struct s3dlio_xfer_stats local;
    struct relay r = {.src = src, .dst = dst, .o = opts, .st = stats ? stats : &local};
    struct s3dlio_xfer_job **small = s3dlio_xcalloc(n ? n : 1, sizeof(*small));
    struct s3dlio_xfer_job **large = s3dlio_xcalloc(n ? n : 1, sizeof(*large));
    size_t nsmall = 0, nlarge = 0;
    memset(r.st, 0, sizeof(*r.st));
    pthread_mutex_init(&r.span_lock, NULL);
    for (size_t i = 0; i < n; i++) {
        r.st->bytes_expected += jobs[i].size;
        if (refuse_bad(&r, &jobs[i]))
            continue;
        if (jobs[i].size <= memory)
            small[nsmall++] = &jobs[i];
        else
            large[nlarge++] = &jobs[i];
    }
    run_small(&r, small, nsmall, memory);
    for (size_t i = 0; i < nlarge && !cancelled(&r); i++)
        run_piped(&r, large[i]);
    enum s3dlio_rc rc = S3DLIO_OK;
    for (size_t i = 0; i < n; i++) {
        r.st->objects += !jobs[i].rc && (jobs[i].bytes || !jobs[i].size) && jobs[i].requests;
        r.st->failures += jobs[i].rc != S3DLIO_OK;
        if (jobs[i].rc && !rc)
            rc = jobs[i].rc;
    }
    r.st->bytes = r.put_bytes;
    r.st->interrupted = cancelled(&r);
    pthread_mutex_destroy(&r.span_lock);
    free(small);
    free(large);
    S3DLIO_LOG(S3DLIO_LOG_DEBUG, S3DLIO_SUB_XFER,
               "relay: %zu objects within %" PRIu64 " bytes of memory, %zu through a pipe",
               nsmall, memory, nlarge);
    return r.st->interrupted ? S3DLIO_E_ABORTED : rc;
}
