/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transfer engine alone, without a server: on the file:// backend, and on a
 * fault-injecting backend kept here that wraps it (refused requests, bodies cut mid-way,
 * 503 SlowDown, permanent 403), plus the retry policy and the planner's path safety.
 * Uploads from a stream: test_xfer_stream.c.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "s3dlio/plan.h"
#include "s3dlio/s3dlio.h"
#include "s3dlio/xfer.h"
#include "xfer/datagen.h"
#include "util/digest.h"
#include "util/retry.h"
#include "xfer_fixture.h"
#include "xfer_holding.h"

/* ---- retry policy -------------------------------------------------------------------------- */

static const struct retry_case {
    const char *name;
    enum s3dlio_rc rc;
    int status;
    bool transient;
} retry_cases[] = {
    {"connection refused", S3DLIO_E_CONNECT, 0, true},
    {"timeout/stall", S3DLIO_E_TIMEOUT, 0, true},
    {"short body", S3DLIO_E_INTEGRITY, 200, true},
    {"500", S3DLIO_E_S3, 500, true},
    {"502", S3DLIO_E_HTTP, 502, true},
    {"503 SlowDown", S3DLIO_E_S3, 503, true},
    {"504", S3DLIO_E_HTTP, 504, true},
    {"429", S3DLIO_E_S3, 429, true},
    {"403", S3DLIO_E_S3, 403, false},
    {"404", S3DLIO_E_NOT_FOUND, 404, false},
    {"400", S3DLIO_E_S3, 400, false},
    {"416", S3DLIO_E_S3, 416, false},
    {"local I/O", S3DLIO_E_IO, 0, false},
    {"usage", S3DLIO_E_USAGE, 0, false},
    {"Error inside a 200 (Complete)", S3DLIO_E_S3, 200, true},
    {"changed since listed", S3DLIO_E_CHANGED, 412, false},
    {"interrupted", S3DLIO_E_ABORTED, 0, false},
};

/* The time-based budget: connection failures outlast --retries, others do not. */
static void test_retry_budget(void)
{
    struct s3dlio_retry_policy p = {.retries = 2, .time_ms = 60000, .base_ms = 100, .cap_ms = 10000};
    struct s3dlio_error refused = {.rc = S3DLIO_E_CONNECT, .no_connection = 1};
    struct s3dlio_error slow = {.rc = S3DLIO_E_S3, .http_status = 503};
    struct s3dlio_error denied = {.rc = S3DLIO_E_S3, .http_status = 403};
    CHECK(s3dlio_retry_allowed(&p, &refused, 2, 0), "within the count");
    CHECK(s3dlio_retry_allowed(&p, &refused, 9, 59999), "a refused connection: retried for 60 s");
    CHECK(!s3dlio_retry_allowed(&p, &refused, 9, 60000), "... and not after");
    CHECK_INT((int)s3dlio_retry_wait_ms(&p, &refused, 9000, 55000), 5000,
              "a refused connection waits no longer than its budget lasts");
    CHECK_INT((int)s3dlio_retry_wait_ms(&p, &refused, 900, 55000), 900, "... and the backoff within it");
    CHECK_INT((int)s3dlio_retry_wait_ms(&p, &slow, 9000, 55000), 9000, "a 503's backoff is not cut");
    CHECK(s3dlio_retry_allowed(&p, &slow, 2, 0), "503 within the count");
    CHECK(!s3dlio_retry_allowed(&p, &slow, 3, 10), "503 past the count");
    CHECK(!s3dlio_retry_allowed(&p, &denied, 1, 0), "403 never");
    CHECK(s3dlio_retry_is_overload(&refused) && s3dlio_retry_is_overload(&slow) &&
              !s3dlio_retry_is_overload(&denied),
          "refusals and throttling lower the in-flight limit");
    struct s3dlio_error reset = {.rc = S3DLIO_E_CONNECT};
    CHECK(!s3dlio_retry_is_overload(&reset), "a reset mid-transfer is no sign of overload");
    /* seeds of processes started together differ, so their delays differ */
    uint64_t a = s3dlio_retry_seed(0, 1000, 5), b = s3dlio_retry_seed(1, 1000, 5);
    uint64_t c = s3dlio_retry_seed(0, 1001, 5), d = s3dlio_retry_seed(0, 1000, 6);
    CHECK(a != b && a != c && a != d && b != c, "seeds differ by rank, pid and clock");
    uint64_t ra = a, rb = b;
    int same = 0;
    for (int i = 0; i < 8; i++)
        same += s3dlio_retry_backoff_ms(&ra, 5, 100, 10000) == s3dlio_retry_backoff_ms(&rb, 5, 100, 10000);
    CHECK(same < 8, "two ranks draw different delays");
}

/* Part sizes that fit S3's limits: at most 10,000 parts of at most 5 GiB. */
static void test_part_sizes(void)
{
    static const struct {
        const char *name;
        uint64_t part, size, want;
    } cases[] = {
        {"small object keeps the part size", 8u << 20, 100u << 20, 8u << 20},
        {"78 GiB still fits in 8 MiB parts", 8u << 20, 78ull << 30, 8u << 20},
        {"80 GiB grows to 9 MiB", 8u << 20, 80ull << 30, 9u << 20},
        {"1 TiB grows to 105 MiB", 8u << 20, 1ull << 40, 105u << 20},
        {"5 TiB grows to 525 MiB", 8u << 20, 5ull << 40, 525u << 20},
        {"a part size above 5 GiB is capped", 6ull << 30, 1ull << 30, 5ull << 30},
        {"empty object", 8u << 20, 0, 8u << 20},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t ps = s3dlio_xfer_part_size(cases[i].part, cases[i].size);
        CHECK_INT(ps, cases[i].want, cases[i].name);
        CHECK(ps <= S3DLIO_MAX_PART_SIZE, "at most 5 GiB");
        CHECK(!cases[i].size || (cases[i].size + ps - 1) / ps <= S3DLIO_MAX_PARTS, "at most 10,000 parts");
        CHECK(ps % (1u << 20) == 0, "whole MiB");
    }
}

/* Folder markers are skipped; a key that is also a directory is refused, by name. */
static void test_plan_markers_conflicts(void)
{
    struct s3dlio_objlist l = {0};
    const char *ks[] = {"p/a", "p/a-x", "p/a/b", "p/a/c/d", "p/dir/", "p/dir/x", "p/e", "p/e/"};
    for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++)
        s3dlio_objlist_add(&l, ks[i], 1, -1, "00000000000000000000000000000000");
    struct s3dlio_plan plan = {0};
    struct s3dlio_plan_counts c;
    s3dlio_plan_get(&plan, &l, "p/", "/dest", NULL, NULL, &c);
    CHECK_INT(c.markers, 2, "two folder markers skipped");
    CHECK_INT(plan.n, 6, "the others planned");
    CHECK_INT(c.conflicts, 1, "one key is also a directory");
    int refused = 0;
    for (size_t i = 0; i < plan.n; i++) {
        if (!plan.jobs[i].rc)
            continue;
        refused++;
        CHECK_STR(plan.jobs[i].key, "p/a", "the refused key is the one that is also a directory");
        CHECK(strstr(plan.jobs[i].err->message, "directory of other keys") != NULL, "and says why");
    }
    CHECK_INT(refused, 1, "only that key refused ('p/e' has only a marker below it)");
    CHECK_STR(plan.jobs[0].etag, "00000000000000000000000000000000", "jobs are pinned to the ETag");
    s3dlio_plan_release(&plan);
    s3dlio_objlist_release(&l);
}

static void test_retry_policy(void)
{
    for (size_t i = 0; i < sizeof(retry_cases) / sizeof(retry_cases[0]); i++) {
        struct s3dlio_error e = {.rc = retry_cases[i].rc, .http_status = retry_cases[i].status};
        CHECK_INT(s3dlio_retry_is_transient(&e), retry_cases[i].transient, retry_cases[i].name);
    }
    uint64_t rng = 7, max_seen = 0;
    for (int attempt = 1; attempt <= 12; attempt++) {
        uint64_t ceiling = 100ull << (attempt - 1);
        if (ceiling > 10000)
            ceiling = 10000;
        for (int k = 0; k < 200; k++) {
            uint64_t ms = s3dlio_retry_backoff_ms(&rng, attempt, 100, 10000);
            CHECK(ms <= ceiling, "backoff within [0, min(cap, base*2^n)]");
            if (ms > max_seen)
                max_seen = ms;
        }
    }
    CHECK(max_seen > 5000, "jitter reaches near the cap");
}

/* ---- planner ------------------------------------------------------------------------------- */

static const struct dest_case {
    const char *name, *prefix, *key, *want;
} dest_cases[] = {
    {"under prefix", "data/train/", "data/train/a/b.bin", "/d/a/b.bin"},
    {"partial prefix keeps the name", "data/tr", "data/train/x", "/d/train/x"},
    {"no prefix", "", "k", "/d/k"},
    {"dot-dot refused", "p/", "p/../etc/passwd", NULL},
    {"dot refused", "p/", "p/./x", NULL},
    {"empty segment refused", "p/", "p/a//b", NULL},
    {"directory marker refused", "p/", "p/dir/", NULL},
    {"absolute refused", "", "/etc/passwd", NULL},
};

static void test_plan_paths(void)
{
    for (size_t i = 0; i < sizeof(dest_cases) / sizeof(dest_cases[0]); i++) {
        const struct dest_case *c = &dest_cases[i];
        char *got = s3dlio_plan_dest_path("/d", c->prefix, c->key);
        if (c->want)
            CHECK_STR(got, c->want, c->name);
        else
            CHECK(got == NULL, c->name);
        free(got);
    }
}

/* ---- a fault-injecting backend over file:// -------------------------------------------------- */

enum fault { F_NONE, F_REFUSE, F_CUT, F_SLOWDOWN, F_FORBIDDEN };

struct faulty {
    enum fault kind;
    int every;        /* every Nth object request */
    int count;        /* requests seen */
    int injected;
    uint64_t resumed_at_nonzero; /* GETs that started past the part's first byte */
};
static struct faulty fx;

struct cut {
    struct s3dlio_req inner;
    struct s3dlio_req *outer;
};

static void cut_done(struct s3dlio_req *inner, enum s3dlio_rc rc, void *ud)
{
    struct cut *c = ud;
    struct s3dlio_req *outer = c->outer;
    outer->bytes = inner->bytes;
    outer->http_status = 200;
    (void)rc;
    /* the connection "died" after half the body had arrived */
    s3dlio_error_set(&outer->err, S3DLIO_E_CONNECT, "get", outer->key, "connection reset by peer");
    free(c);
    outer->done(outer, S3DLIO_E_CONNECT, outer->done_ud);
}

static void fail_now(struct s3dlio_req *req, enum s3dlio_rc rc, int status, const char *code)
{
    s3dlio_error_set(&req->err, rc, "get", req->key, "injected");
    req->err.http_status = req->http_status = status;
    snprintf(req->err.s3_code, sizeof(req->err.s3_code), "%s", code);
    snprintf(req->err.request_id, sizeof(req->err.request_id), "fault-%d", fx.count);
}

/* Completions of injected failures are reported from the next progress call, as a real
 * backend would. */
static struct s3dlio_req *pending[64];
static int npending;

/*
 * A fault hits each 1 MiB part at most once (unless every == 1: always), so whether a part
 * succeeds within its retries does not depend on how requests interleave.
 */
static struct {
    const char *key;
    uint64_t part;
} hit[1024];
static int nhit;

static bool hit_before(const struct s3dlio_req *req)
{
    for (int i = 0; i < nhit; i++)
        if (hit[i].key == req->key && hit[i].part == req->offset >> 20)
            return true;
    return false;
}

static enum s3dlio_rc faulty_submit(struct s3dlio_backend *be, struct s3dlio_req *req)
{
    bool fresh = fx.every == 1 || !hit_before(req);
    if (fresh)
        fx.count++;
    bool due = fx.kind != F_NONE && fresh && fx.count % fx.every == 0;
    if (due && fx.every != 1 && nhit < 1024) {
        hit[nhit].key = req->key;
        hit[nhit++].part = req->offset >> 20;
    }
    if (req->op == S3DLIO_REQ_GET && req->offset % (1u << 20))
        fx.resumed_at_nonzero++;
    if (!due || (fx.kind == F_CUT && (req->op != S3DLIO_REQ_GET || req->length < 2 ||
                                      req->length == S3DLIO_LEN_TO_END)))
        return s3dlio_backend_file.submit(be, req);
    fx.injected++;
    if (fx.kind == F_CUT) {
        struct cut *c = calloc(1, sizeof(*c));
        c->outer = req;
        c->inner = *req;
        c->inner.length = req->length / 2;
        c->inner.done = cut_done;
        c->inner.done_ud = c;
        return s3dlio_backend_file.submit(be, &c->inner);
    }
    if (fx.kind == F_REFUSE)
        fail_now(req, S3DLIO_E_CONNECT, 0, "");
    else if (fx.kind == F_SLOWDOWN)
        fail_now(req, S3DLIO_E_S3, 503, "SlowDown");
    else
        fail_now(req, S3DLIO_E_S3, 403, "AccessDenied");
    pending[npending++] = req;
    return S3DLIO_OK;
}

static enum s3dlio_rc faulty_progress(struct s3dlio_backend *be, int timeout_ms, size_t *inflight)
{
    int n = npending;
    npending = 0;
    for (int i = 0; i < n; i++)
        pending[i]->done(pending[i], pending[i]->err.rc, pending[i]->done_ud);
    enum s3dlio_rc rc = s3dlio_backend_file.progress(be, timeout_ms, inflight);
    if (inflight)
        *inflight += (size_t)npending;
    return rc;
}

/* ---- engine on file:// ---------------------------------------------------------------------- */

#define NOBJ 24
static char root[256];
static char keys[NOBJ][300];
static uint64_t sizes[NOBJ];

static void put_dataset(struct s3dlio_backend *be, const struct s3dlio_gen *gen)
{
    struct s3dlio_xfer_job jobs[NOBJ] = {0};
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    xfer_fixture_opts(&o);
    for (int i = 0; i < NOBJ; i++) {
        snprintf(keys[i], sizeof(keys[i]), "%s/set/obj-%02d", root + 1, i);
        sizes[i] = s3dlio_gen_object_size(gen->seed, (uint64_t)i, 0, 3u << 20);
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_PUT, .key = keys[i], .size = sizes[i],
                                           .local = S3DLIO_LOCAL_GENERATOR, .gen = gen};
    }
    CHECK_INT(s3dlio_xfer_run(be, jobs, NOBJ, &o, &st), S3DLIO_OK, "put generated set to file://");
    CHECK_INT(st.objects, NOBJ, "all objects written");
}

/* GET the set into memory and check every byte; returns the stats. */
static enum s3dlio_rc get_all(struct s3dlio_backend *be, const struct s3dlio_gen *gen,
                              struct s3dlio_xfer_stats *st, struct s3dlio_xfer_job *jobs, int retries)
{
    struct s3dlio_xfer_opts o;
    xfer_fixture_opts(&o);
    o.retries = retries;
    unsigned char *mem[NOBJ];
    s3dlio_xfer_jobs_release(jobs, NOBJ); /* a run before this one may have failed some */
    for (int i = 0; i < NOBJ; i++) {
        mem[i] = malloc(sizes[i] + 1);
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_GET, .key = keys[i], .size = sizes[i],
                                           .local = S3DLIO_LOCAL_MEMORY, .mem = mem[i]};
    }
    enum s3dlio_rc rc = s3dlio_xfer_run(be, jobs, NOBJ, &o, st);
    int bad = 0;
    for (int i = 0; i < NOBJ; i++) {
        if (!jobs[i].rc && !s3dlio_gen_verify(gen, keys[i], 0, mem[i], (size_t)sizes[i], NULL))
            bad++;
        free(mem[i]);
    }
    CHECK_INT(bad, 0, "bytes as generated");
    return rc;
}

static void test_engine_faults(void)
{
    struct s3dlio_gen gen = {.seed = 99};
    struct s3dlio_xfer_job jobs[NOBJ] = {0};
    struct s3dlio_xfer_stats st;
    struct s3dlio_backend *be = xfer_fixture_backend(root);
    put_dataset(be, &gen);

    CHECK_INT(get_all(be, &gen, &st, jobs, 5), S3DLIO_OK, "clean GET");
    CHECK_INT(st.retries, 0, "clean GET: no retries");

    struct s3dlio_backend_ops ops = s3dlio_backend_file;
    ops.submit = faulty_submit;
    ops.progress = faulty_progress;
    be->ops = &ops;

    nhit = 0;
    fx = (struct faulty){.kind = F_CUT, .every = 3};
    CHECK_INT(get_all(be, &gen, &st, jobs, 5), S3DLIO_OK, "bodies cut mid-way");
    CHECK(fx.injected > 0 && st.retries == (uint64_t)fx.injected, "each cut retried once");
    CHECK(fx.resumed_at_nonzero > 0, "retries resume after the last byte received");

    nhit = 0;
    fx = (struct faulty){.kind = F_REFUSE, .every = 4};
    CHECK_INT(get_all(be, &gen, &st, jobs, 5), S3DLIO_OK, "refused connections");
    CHECK_INT(st.retries, fx.injected, "each refusal retried");

    nhit = 0;
    fx = (struct faulty){.kind = F_SLOWDOWN, .every = 2};
    CHECK_INT(get_all(be, &gen, &st, jobs, 5), S3DLIO_OK, "503 SlowDown");
    CHECK_INT(st.throttled, fx.injected, "throttling counted");

    nhit = 0;
    fx = (struct faulty){.kind = F_SLOWDOWN, .every = 1};
    CHECK_INT(get_all(be, &gen, &st, jobs, 2), S3DLIO_E_S3, "SlowDown forever fails");
    CHECK_INT(st.failures, NOBJ, "every object failed");
    CHECK_STR(jobs[0].err->s3_code, "SlowDown", "final failure keeps the S3 code");
    CHECK_INT(jobs[0].err->http_status, 503, "final failure keeps the status");
    CHECK(strstr(jobs[0].err->message, "(after 3 attempts)") != NULL, "attempts are counted");
    CHECK(jobs[0].err->request_id[0] != '\0', "final failure keeps the request id");

    fx = (struct faulty){.kind = F_FORBIDDEN, .every = 5};
    CHECK_INT(get_all(be, &gen, &st, jobs, 5), S3DLIO_E_S3, "403 fails at once");
    CHECK_INT(st.retries, 0, "403 is not retried");
    CHECK(st.failures > 0 && st.objects + st.failures == NOBJ, "the other objects complete");
    s3dlio_xfer_jobs_release(jobs, NOBJ);
    s3dlio_backend_free(be);
}

/* Submission times and requests in flight at each submission, to check pacing. */
static uint64_t submit_ns[256];
static int submit_inflight[256];
static int nsubmit, inflight_now;

struct wrapped {
    s3dlio_req_done_fn *done;
    void *ud;
};
static struct wrapped wraps[256];

static void timing_done(struct s3dlio_req *req, enum s3dlio_rc rc, void *ud)
{
    struct wrapped *w = ud;
    inflight_now--;
    req->done = w->done;
    req->done_ud = w->ud;
    w->done(req, rc, w->ud);
}

static enum s3dlio_rc timing_submit(struct s3dlio_backend *be, struct s3dlio_req *req)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (nsubmit >= 256)
        return s3dlio_backend_file.submit(be, req);
    wraps[nsubmit] = (struct wrapped){req->done, req->done_ud};
    req->done = timing_done;
    req->done_ud = &wraps[nsubmit];
    submit_inflight[nsubmit] = ++inflight_now;
    submit_ns[nsubmit++] = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    return s3dlio_backend_file.submit(be, req);
}

/*
 * --max-request-rate and --ramp-up: only lower bounds on time are asserted (the engine may
 * never start requests faster than asked; a slow machine can only make the gaps longer).
 */
static void test_engine_pacing(void)
{
    struct s3dlio_xfer_job jobs[NOBJ] = {0};
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    struct s3dlio_backend *be = xfer_fixture_backend(root);
    struct s3dlio_backend_ops ops = s3dlio_backend_file;
    ops.submit = timing_submit;
    be->ops = &ops;
    xfer_fixture_opts(&o);
    o.range_threshold = 64u << 20; /* one request per object */
    o.max_request_rate = 50;       /* one every 20 ms */
    for (int i = 0; i < NOBJ; i++)
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_GET, .key = keys[i],
                                           .size = sizes[i], .local = S3DLIO_LOCAL_DISCARD};
    nsubmit = inflight_now = 0;
    CHECK_INT(s3dlio_xfer_run(be, jobs, NOBJ, &o, &st), S3DLIO_OK, "paced run");
    CHECK_INT(nsubmit, NOBJ, "one request per object");
    int too_close = 0;
    for (int i = 1; i < nsubmit; i++)
        too_close += submit_ns[i] - submit_ns[i - 1] < 19000000ull; /* 1 ms of clock slack */
    CHECK_INT(too_close, 0, "requests start at most max-request-rate per second");

    o.max_request_rate = 0;
    o.ramp_ms = 200;
    o.get_concurrency = 32;
    nsubmit = inflight_now = 0;
    CHECK_INT(s3dlio_xfer_run(be, jobs, NOBJ, &o, &st), S3DLIO_OK, "ramped run");
    /* within the ramp at most 1 + 32 * elapsed / 200 ms requests may be in flight (+1 for
     * the engine's clock starting a moment before the first submission) */
    int over = 0;
    for (int i = 0; i < nsubmit; i++) {
        uint64_t since = submit_ns[i] - submit_ns[0];
        if (since < 200000000ull && (uint64_t)submit_inflight[i] > 2 + 32 * since / 200000000ull)
            over++;
    }
    CHECK_INT(over, 0, "in-flight limit ramps up instead of opening all at once");
    s3dlio_xfer_jobs_release(jobs, NOBJ);
    s3dlio_backend_free(be);
}

/* GET to files: a failed object leaves no file, complete ones are renamed into place. */
static void test_engine_files(void)
{
    struct s3dlio_backend *be = xfer_fixture_backend(root);
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    char paths[2][400];
    xfer_fixture_opts(&o);
    snprintf(paths[0], sizeof(paths[0]), "%s/out/a/one", root);
    snprintf(paths[1], sizeof(paths[1]), "%s/out/b/two", root);
    struct s3dlio_xfer_job jobs[2] = {
        {.dir = S3DLIO_XFER_GET, .key = keys[3], .size = sizes[3], .local = S3DLIO_LOCAL_FILE,
         .path = paths[0]},
        {.dir = S3DLIO_XFER_GET, .key = "no/such/key", .size = 100, .local = S3DLIO_LOCAL_FILE,
         .path = paths[1]},
    };
    CHECK(s3dlio_xfer_run(be, jobs, 2, &o, &st) != S3DLIO_OK, "one of two fails");
    struct stat sb;
    CHECK(stat(paths[0], &sb) == 0 && (uint64_t)sb.st_size == sizes[3], "complete file in place");
    CHECK(stat(paths[1], &sb) != 0, "failed object left no file");
    char dir[420], cmd[500];
    snprintf(dir, sizeof(dir), "%s/out/b", root);
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s' 2>/dev/null)\"", dir);
    CHECK(system(cmd) == 0, "no temporary file left behind");
    s3dlio_xfer_jobs_release(jobs, 2);
    s3dlio_backend_free(be);
}

/* ---- a backend whose event loop breaks ------------------------------------------------------ */

/*
 * GETs are held (not run) until progress, which fails on its 3rd call; cancel_all then
 * reports every held request as aborted, as the S3 backend does. The engine must clean up
 * as on an interruption: no temporary file left, and the run says what broke.
 */
static int nprogress;

static enum s3dlio_rc breaking_progress(struct s3dlio_backend *be, int timeout_ms, size_t *inflight)
{
    if (++nprogress == 3) {
        if (inflight)
            *inflight = (size_t)holding.n;
        return S3DLIO_E_INTERNAL;
    }
    return holding_run_one(be, timeout_ms, inflight);
}

static void test_engine_broken_loop(void)
{
    struct s3dlio_backend *be = xfer_fixture_backend(root);
    struct s3dlio_backend_ops ops;
    holding_install(be, &ops, breaking_progress);
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    struct s3dlio_xfer_job jobs[6] = {0};
    char paths[6][400];
    xfer_fixture_opts(&o);
    o.range_threshold = 64u << 20; /* one request per object */
    for (int i = 0; i < 6; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/broken/%d", root, i);
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_GET, .key = keys[i], .size = sizes[i],
                                           .local = S3DLIO_LOCAL_FILE, .path = paths[i]};
    }
    holding.n = nprogress = 0;
    CHECK_INT(s3dlio_xfer_run(be, jobs, 6, &o, &st), S3DLIO_E_INTERNAL, "a broken loop says so");
    CHECK(st.objects >= 1 && st.objects < 6, "some objects completed before it broke");
    int whole = 0;
    struct stat sb;
    for (int i = 0; i < 6; i++)
        whole += !jobs[i].rc && !stat(paths[i], &sb) && (uint64_t)sb.st_size == sizes[i];
    CHECK_INT(whole, (int)st.objects, "the completed ones are in place, whole");
    char broken[300];
    snprintf(broken, sizeof(broken), "%s/broken", root);
    CHECK(check_no_tmp_files(broken), "no temporary file left behind");
    s3dlio_xfer_jobs_release(jobs, 6);
    s3dlio_backend_free(be);
}

/* ---- --steal's refill: chunks feed one running loop ------------------------------------------ */

#define CHUNK 3
static struct s3dlio_xfer_job *chunk_jobs;
static size_t chunk_next, chunk_total;
static int refills, refills_in_flight;

static size_t next_chunk(void *ud, struct s3dlio_xfer_job **jobs)
{
    (void)ud;
    refills++;
    if (chunk_next >= chunk_total)
        return 0;
    refills_in_flight += chunk_next > 0 && holding.n > 0;
    size_t n = chunk_total - chunk_next < CHUNK ? chunk_total - chunk_next : CHUNK;
    *jobs = chunk_jobs + chunk_next;
    chunk_next += n;
    return n;
}

static void test_engine_refill(void)
{
    struct s3dlio_backend *be = xfer_fixture_backend(root);
    struct s3dlio_backend_ops ops;
    holding_install(be, &ops, holding_run_one); /* requests stay in flight a while */
    struct s3dlio_gen gen = {.seed = 99}; /* put_dataset's */
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    struct s3dlio_xfer_job jobs[NOBJ] = {0};
    xfer_fixture_opts(&o);
    o.range_threshold = 64u << 20; /* one request per object */
    o.refill = next_chunk;
    for (int i = 0; i < NOBJ; i++)
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_GET, .key = keys[i], .size = sizes[i],
                                           .local = S3DLIO_LOCAL_GENERATOR, .gen = &gen};
    chunk_jobs = jobs;
    chunk_total = NOBJ;
    chunk_next = 0;
    refills = refills_in_flight = holding.n = 0;
    CHECK_INT(s3dlio_xfer_run(be, NULL, 0, &o, &st), S3DLIO_OK, "every chunk through one run");
    CHECK_INT(st.objects, NOBJ, "every object of every chunk, checked against the generator");
    int chunks = (NOBJ + CHUNK - 1) / CHUNK;
    CHECK_INT(refills, chunks + 1, "asked for chunks until there were none");
    CHECK_INT(refills_in_flight, chunks - 1,
              "each later chunk was asked for with requests in flight: the loop never drained");
    s3dlio_xfer_jobs_release(jobs, NOBJ);
    s3dlio_backend_free(be);
}

int main(void)
{
    if (!check_tmpdir(root, sizeof(root), "xfer"))
        return 1;
    s3dlio_global_init(NULL);
    test_retry_policy();
    test_retry_budget();
    test_part_sizes();
    test_plan_paths();
    test_plan_markers_conflicts();
    test_engine_faults();
    test_engine_files();
    test_engine_broken_loop();
    test_engine_refill();
    test_engine_pacing();
    check_rmtree(root);
    s3dlio_global_cleanup();
    TEST_DONE();
}
