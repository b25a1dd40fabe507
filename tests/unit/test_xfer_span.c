/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's span hook (--trace): one span per request it submits, data and control, every
 * retry attempt, requests refused before any I/O and requests stopped by a cancel, so that
 * the spans of a run number s3dlio_xfer_stats.requests and the successful data spans add up
 * to its bytes. On file://, on a fault-injecting wrapper of it (bodies cut mid-way, requests
 * refused at submit), on a wrapper that adds multipart uploads, and on one that holds
 * requests until a cancel.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "s3dlio/s3dlio.h"
#include "s3dlio/xfer.h"
#include "xfer/datagen.h"
#include "xfer_fixture.h"
#include "xfer_holding.h"

#define NOBJ 16
static char root[256];
static char keys[NOBJ][300];
static uint64_t sizes[NOBJ];

/* ---- what the hook reported ------------------------------------------------------------------ */

#define MAX_SPANS 4096
struct seen {
    char op[32];
    char key[300];
    bool data;
    uint64_t off, len, bytes, start, first, end;
    int part, status, attempt;
    enum s3dlio_rc rc;
};
static struct seen spans[MAX_SPANS];
static size_t nspans;
static uint64_t lost; /* past MAX_SPANS: counted, so the count check still holds */

static void on_span(void *ud, const struct s3dlio_req_span *s)
{
    (*(int *)ud)++;
    if (nspans == MAX_SPANS) {
        lost++;
        return;
    }
    struct seen *v = &spans[nspans++];
    *v = (struct seen){.data = s->data, .off = s->range_off, .len = s->range_len,
                       .bytes = s->bytes, .start = s->start_ns, .first = s->first_byte_ns,
                       .end = s->end_ns, .part = s->part_number, .status = s->http_status,
                       .attempt = s->attempt, .rc = s->rc};
    snprintf(v->op, sizeof(v->op), "%s", s->op);
    snprintf(v->key, sizeof(v->key), "%s", s->key);
}

static void reset_spans(void)
{
    nspans = 0;
    lost = 0;
}

static size_t count_op(const char *op, bool ok_only)
{
    size_t n = 0;
    for (size_t i = 0; i < nspans; i++)
        n += !strcmp(spans[i].op, op) && (!ok_only || spans[i].rc == S3DLIO_OK);
    return n;
}

/* What every run must show: a span per request, bytes that add up, times in order. */
static void check_spans(const char *name, const struct s3dlio_xfer_stats *st, int calls)
{
    char what[160];
    uint64_t ok_bytes = 0, retried = 0;
    size_t bad_time = 0, bad_op = 0;
    for (size_t i = 0; i < nspans; i++) {
        const struct seen *v = &spans[i];
        if (v->data && v->rc == S3DLIO_OK)
            ok_bytes += v->bytes;
        retried += v->attempt > 0;
        bad_time += v->start == 0 || v->end < v->start ||
                    (v->first && (v->first < v->start || v->first > v->end));
        bool data_op =
            !strcmp(v->op, "GET") || !strcmp(v->op, "PUT") || !strcmp(v->op, "UploadPart");
        bad_op += data_op != v->data || !v->key[0];
    }
    snprintf(what, sizeof(what), "%s: one span per request", name);
    CHECK_INT((uint64_t)calls, st->requests, what);
    CHECK_INT(nspans + lost, (uint64_t)calls, what);
    snprintf(what, sizeof(what), "%s: successful data spans add up to the bytes", name);
    CHECK_INT(ok_bytes, st->bytes, what);
    snprintf(what, sizeof(what), "%s: a span per retry attempt", name);
    CHECK_INT(retried, st->retries, what);
    snprintf(what, sizeof(what), "%s: start <= first byte <= end", name);
    CHECK_INT(bad_time, 0, what);
    snprintf(what, sizeof(what), "%s: data flag matches the op, key set", name);
    CHECK_INT(bad_op, 0, what);
}

/* ---- a clean run on file:// --------------------------------------------------------------------
 */

static void put_dataset(struct s3dlio_backend *be, const struct s3dlio_gen *gen)
{
    struct s3dlio_xfer_job jobs[NOBJ] = {0};
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    int calls = 0;
    xfer_fixture_opts(&o);
    o.on_span = on_span;
    o.span_ud = &calls;
    for (int i = 0; i < NOBJ; i++) {
        snprintf(keys[i], sizeof(keys[i]), "%s/span/obj-%02d", root + 1, i);
        sizes[i] = s3dlio_gen_object_size(gen->seed, (uint64_t)i, 0, 3u << 20);
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_PUT, .key = keys[i], .size = sizes[i],
                                           .local = S3DLIO_LOCAL_GENERATOR, .gen = gen};
    }
    reset_spans();
    CHECK_INT(s3dlio_xfer_run(be, jobs, NOBJ, &o, &st), S3DLIO_OK, "put generated set");
    check_spans("put", &st, calls);
    CHECK_INT(count_op("PUT", true), NOBJ, "put: one PUT per object (no multipart on file://)");
}

static void test_clean(void)
{
    struct s3dlio_gen gen = {.seed = 7};
    struct s3dlio_backend *be = xfer_fixture_backend(root);
    struct s3dlio_xfer_job jobs[NOBJ + 1];
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    int calls = 0;
    put_dataset(be, &gen);
    xfer_fixture_opts(&o);
    o.on_span = on_span;
    o.span_ud = &calls;
    for (int i = 0; i < NOBJ; i++)
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_GET, .key = keys[i],
                                           .size = i % 4 ? sizes[i] : S3DLIO_SIZE_UNKNOWN,
                                           .local = S3DLIO_LOCAL_GENERATOR, .gen = &gen};
    reset_spans();
    CHECK_INT(s3dlio_xfer_run(be, jobs, NOBJ, &o, &st), S3DLIO_OK, "get the set");
    check_spans("get", &st, calls);
    CHECK_INT(count_op("HEAD", true), (NOBJ + 3) / 4,
              "get: a HEAD for each object of unknown size");
    CHECK(count_op("GET", true) > NOBJ, "get: objects over 1 MiB in several ranges");
    uint64_t want = 0;
    for (int i = 0; i < NOBJ; i++)
        want += sizes[i];
    CHECK_INT(st.bytes, want, "get: every byte (so the sum above is not trivially 0 = 0)");
    /* a ranged GET's span gives the range asked for */
    size_t ranged = 0;
    for (size_t i = 0; i < nspans; i++)
        ranged += !strcmp(spans[i].op, "GET") && spans[i].len != S3DLIO_LEN_TO_END &&
                  spans[i].len == spans[i].bytes && spans[i].len <= (1u << 20);
    CHECK(ranged > 0, "get: ranged GETs carry their range");

    /* no callback: the same run, nothing reported */
    o.on_span = NULL;
    reset_spans();
    calls = 0;
    CHECK_INT(s3dlio_xfer_run(be, jobs, NOBJ, &o, &st), S3DLIO_OK, "get without a callback");
    CHECK_INT(calls, 0, "no callback, no spans");
    s3dlio_backend_free(be);
}

/* ---- faults: bodies cut mid-way, requests refused at submit ------------------------------------
 */

static struct {
    int seen, cuts, refusals;
} fx;

struct cut {
    struct s3dlio_req inner;
    struct s3dlio_req *outer;
};

static struct s3dlio_req *pending[256];
static int npending;

static void cut_done(struct s3dlio_req *inner, enum s3dlio_rc rc, void *ud)
{
    (void)rc;
    struct cut *c = ud;
    struct s3dlio_req *outer = c->outer;
    outer->bytes = inner->bytes;
    outer->http_status = 206;
    s3dlio_error_set(&outer->err, S3DLIO_E_CONNECT, "get", outer->key, "connection reset by peer");
    free(c);
    outer->done(outer, S3DLIO_E_CONNECT, outer->done_ud);
}

/* The first try of every 3rd ranged GET is cut after half its body; of every 5th request
 * refused at once. Retries (offset past the part's start, or a request seen before) pass. */
static enum s3dlio_rc faulty_submit(struct s3dlio_backend *be, struct s3dlio_req *req)
{
    bool first_try = req->op != S3DLIO_REQ_GET || req->offset % (1u << 20) == 0;
    int n = ++fx.seen;
    if (req->op == S3DLIO_REQ_GET && first_try && n % 5 == 0 && fx.refusals < 6) {
        fx.refusals++;
        return S3DLIO_E_CONNECT;
    }
    if (req->op == S3DLIO_REQ_GET && first_try && n % 3 == 0 && req->length != S3DLIO_LEN_TO_END &&
        req->length >= 2 && fx.cuts < 8) {
        fx.cuts++;
        struct cut *c = calloc(1, sizeof(*c));
        c->outer = req;
        c->inner = *req;
        c->inner.length = req->length / 2;
        c->inner.done = cut_done;
        c->inner.done_ud = c;
        return s3dlio_backend_file.submit(be, &c->inner);
    }
    return s3dlio_backend_file.submit(be, req);
}

static void test_faults(void)
{
    struct s3dlio_gen gen = {.seed = 7};
    struct s3dlio_backend *be = xfer_fixture_backend(root);
    struct s3dlio_backend_ops ops = s3dlio_backend_file;
    ops.submit = faulty_submit;
    be->ops = &ops;
    struct s3dlio_xfer_job jobs[NOBJ] = {0};
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    int calls = 0;
    xfer_fixture_opts(&o);
    o.on_span = on_span;
    o.span_ud = &calls;
    for (int i = 0; i < NOBJ; i++)
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_GET, .key = keys[i], .size = sizes[i],
                                           .local = S3DLIO_LOCAL_GENERATOR, .gen = &gen};
    memset(&fx, 0, sizeof(fx));
    reset_spans();
    CHECK_INT(s3dlio_xfer_run(be, jobs, NOBJ, &o, &st), S3DLIO_OK, "faults: every object arrives");
    CHECK(fx.cuts > 0 && fx.refusals > 0, "faults: both kinds were injected");
    CHECK_INT(st.retries, fx.cuts + fx.refusals, "faults: each retried once");
    check_spans("faults", &st, calls);
    size_t failed = 0, refused = 0, cut = 0;
    for (size_t i = 0; i < nspans; i++) {
        failed += spans[i].rc != S3DLIO_OK;
        refused += spans[i].rc == S3DLIO_E_CONNECT && spans[i].bytes == 0 && spans[i].status == 0;
        cut += spans[i].rc == S3DLIO_E_CONNECT && spans[i].bytes > 0;
    }
    CHECK_INT(failed, fx.cuts + fx.refusals, "faults: a failed span per fault");
    CHECK_INT(refused, fx.refusals, "faults: refused at submit: no answer, no bytes");
    CHECK_INT(cut, fx.cuts, "faults: a cut body's span has the bytes that came");
    s3dlio_xfer_jobs_release(jobs, NOBJ);
    s3dlio_backend_free(be);
}

/* ---- multipart uploads: control spans
 * ------------------------------------------------------------ */

static int fail_part; /* UploadPart with this number is refused (403), 0: none */
static int mp_parts;

static void mp_fail(struct s3dlio_req *req, int status)
{
    req->http_status = req->err.http_status = status;
    s3dlio_error_set(&req->err, S3DLIO_E_S3, "put", req->key, "injected");
    snprintf(req->err.s3_code, sizeof(req->err.s3_code), "AccessDenied");
}

/* Multipart calls answered here (the part's body read and dropped); the rest by file://. */
static enum s3dlio_rc mp_submit(struct s3dlio_backend *be, struct s3dlio_req *req)
{
    static unsigned char sink[1u << 20];
    switch (req->op) {
    case S3DLIO_REQ_MPU_CREATE:
        req->upload_id_out = strdup("upload-1");
        break;
    case S3DLIO_REQ_PUT_PART: {
        size_t got = 1;
        for (uint64_t at = 0; at < req->length && got; at += got) {
            size_t want =
                req->length - at < sizeof(sink) ? (size_t)(req->length - at) : sizeof(sink);
            if (req->source(req->source_ud, at, sink, want, &got))
                break;
        }
        if (req->part_number == fail_part) {
            mp_fail(req, 403);
            break;
        }
        req->bytes = req->length;
        snprintf(req->etag, sizeof(req->etag), "0123456789abcdef0123456789abcd%02d",
                 req->part_number % 100);
        mp_parts++;
        break;
    }
    case S3DLIO_REQ_MPU_COMPLETE:
    case S3DLIO_REQ_MPU_ABORT:
        break;
    default:
        return s3dlio_backend_file.submit(be, req);
    }
    if (!req->err.rc)
        req->http_status = 200;
    pending[npending++] = req;
    return S3DLIO_OK;
}

static enum s3dlio_rc mp_progress(struct s3dlio_backend *be, int timeout_ms, size_t *inflight)
{
    int n = npending;
    struct s3dlio_req *now[256];
    memcpy(now, pending, sizeof(*now) * (size_t)n);
    npending = 0;
    for (int i = 0; i < n; i++)
        now[i]->done(now[i], now[i]->err.rc, now[i]->done_ud);
    enum s3dlio_rc rc = s3dlio_backend_file.progress(be, timeout_ms, inflight);
    if (inflight)
        *inflight += (size_t)npending;
    return rc;
}

static void test_multipart(void)
{
    struct s3dlio_gen gen = {.seed = 8};
    struct s3dlio_backend *be = xfer_fixture_backend(root);
    struct s3dlio_backend_ops ops = s3dlio_backend_file;
    ops.submit = mp_submit;
    ops.progress = mp_progress;
    ops.multipart = true;
    be->ops = &ops;
    char mkeys[3][300];
    struct s3dlio_xfer_job jobs[3] = {0};
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    int calls = 0;
    xfer_fixture_opts(&o);
    o.multipart_threshold = 1u << 20; /* 1 MiB parts (the fixture's), so 3.5 MiB is 4 parts */
    o.on_span = on_span;
    o.span_ud = &calls;
    uint64_t msizes[3] = {(7u << 20) / 2, 5u << 20, 4096};
    for (int i = 0; i < 3; i++) {
        snprintf(mkeys[i], sizeof(mkeys[i]), "%s/mp/obj-%d", root + 1, i);
        jobs[i] = (struct s3dlio_xfer_job){ .dir = S3DLIO_XFER_PUT,
                                            .key = mkeys[i],
                                            .size = msizes[i],
                                            .local = S3DLIO_LOCAL_GENERATOR,
                                            .gen = &gen };
    }
    fail_part = 0;
    mp_parts = 0;
    reset_spans();
    CHECK_INT(s3dlio_xfer_run(be, jobs, 3, &o, &st), S3DLIO_OK, "multipart: two uploads and a PUT");
    check_spans("multipart", &st, calls);
    CHECK_INT(count_op("CreateMultipartUpload", true), 2, "multipart: two creates");
    CHECK_INT(count_op("UploadPart", true), 4 + 5, "multipart: every part");
    CHECK_INT(count_op("CompleteMultipartUpload", true), 2, "multipart: two completes");
    CHECK_INT(count_op("PUT", true), 1, "multipart: the small object in one PUT");
    size_t numbered = 0;
    for (size_t i = 0; i < nspans; i++)
        numbered += !strcmp(spans[i].op, "UploadPart") && spans[i].part >= 1 && spans[i].part <= 5;
    CHECK_INT(numbered, 9, "multipart: parts carry their number");

    /* a part refused for good: the upload is aborted, and the abort is a span too */
    fail_part = 2;
    calls = 0;
    for (int i = 0; i < 3; i++)
        jobs[i].rc = S3DLIO_OK, jobs[i].bytes = 0, jobs[i].requests = jobs[i].retries = 0;
    reset_spans();
    CHECK(s3dlio_xfer_run(be, jobs, 2, &o, &st) != S3DLIO_OK, "multipart: a refused part fails");
    check_spans("multipart abort", &st, calls);
    CHECK_INT(count_op("AbortMultipartUpload", true), 2, "multipart: both uploads aborted, traced");
    CHECK_INT(count_op("CompleteMultipartUpload", false), 0, "multipart: nothing completed");
    s3dlio_xfer_jobs_release(jobs, 3);
    s3dlio_backend_free(be);
}

/* ---- a cancel: requests in flight stopped
 * ---------------------------------------------------------- */

static void test_cancel(void)
{
    struct s3dlio_gen gen = {.seed = 7};
    struct s3dlio_backend *be = xfer_fixture_backend(root);
    struct s3dlio_backend_ops ops;
    holding_install(be, &ops, holding_cancelling_progress);
    struct s3dlio_xfer_job jobs[NOBJ] = {0};
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    int calls = 0;
    xfer_fixture_opts(&o);
    o.on_span = on_span;
    o.span_ud = &calls;
    o.cancel = &holding_cancel;
    for (int i = 0; i < NOBJ; i++)
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_GET, .key = keys[i], .size = sizes[i],
                                           .local = S3DLIO_LOCAL_GENERATOR, .gen = &gen};
    holding_cancel_arm(4); /* one held request runs per call: the 4th call cancels */
    reset_spans();
    CHECK_INT(s3dlio_xfer_run(be, jobs, NOBJ, &o, &st), S3DLIO_E_ABORTED, "cancel: the run stops");
    check_spans("cancel", &st, calls);
    size_t aborted = 0;
    for (size_t i = 0; i < nspans; i++)
        aborted += spans[i].rc == S3DLIO_E_ABORTED;
    CHECK(aborted > 0, "cancel: requests in flight end as aborted spans");
    CHECK(st.requests < 40, "cancel: the run stopped early (not every request was made)");
    s3dlio_xfer_jobs_release(jobs, NOBJ);
    s3dlio_backend_free(be);
}

int main(void)
{
    if (!check_tmpdir(root, sizeof(root), "xfer-span"))
        return 1;
    s3dlio_global_init(NULL);
    test_clean();
    test_faults();
    test_multipart();
    test_cancel();
    check_rmtree(root);
    TEST_DONE();
}
