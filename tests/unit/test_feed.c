/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job feed (src/xfer/feed.c): every row planned exactly once and in order, chunk by
 * chunk as the engine asks; failures kept with their key and message after their chunk is
 * freed, in planning order; only the chunks with work in flight alive while 100,000 jobs run;
 * and a cancelled run's accounting (completed + failed + not started = planned); rows taken
 * span by span (--steal) planned exactly once.
 * Requests are held by the backend (xfer_holding.h), so many are in flight at once.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "s3dlio/plan.h"
#include "s3dlio/s3dlio.h"
#include "xfer/feed.h"
#include "xfer_fixture.h"
#include "xfer_holding.h"

static char root[200];
static char present[300], missing[300]; /* keys: an empty file, and none */

/* The table: row r is a GET of `present`, except rows refused by the planner (r % 1000 == 7),
 * rows of a missing key (r % 1000 == 500) and folder markers (r % 1000 == 999, no job). */
struct table {
    size_t next_row;      /* rows must come in order, each once */
    int out_of_order;
    size_t calls;
    size_t live_plans;    /* plans made and not yet freed, as seen by job hooks */
};

static void plan_rows(void *ud, size_t first, size_t count, struct s3dlio_plan *plan)
{
    struct table *t = ud;
    t->calls++;
    t->out_of_order += first != t->next_row;
    t->next_row = first + count;
    struct s3dlio_objlist chunk = {0};
    for (size_t r = first; r < first + count; r++) {
        if (r % 1000 == 999)
            s3dlio_objlist_add(&chunk, "dir/", 0, 0, "");
        else
            s3dlio_objlist_add(&chunk, r % 1000 == 500 ? missing : present, 0, 0, "");
    }
    s3dlio_plan_get(plan, &chunk, NULL, NULL, NULL, NULL, NULL);
    s3dlio_objlist_release(&chunk);
    /* refused by the planner: the job carries its error into the run */
    size_t j = 0;
    for (size_t r = first; r < first + count; r++) {
        if (r % 1000 == 999)
            continue;
        if (r % 1000 == 7) {
            struct s3dlio_error e = {0};
            s3dlio_error_set(&e, S3DLIO_E_USAGE, "get", plan->jobs[j].key, "row %zu refused", r);
            s3dlio_xfer_job_fail(&plan->jobs[j], &e);
        }
        j++;
    }
}

/* Jobs per row range [0, rows): every row but markers makes one. */
static uint64_t jobs_of(size_t rows)
{
    return rows - rows / 1000;
}

struct hook {
    uint64_t calls, next_seq, out_of_order, started, not_started;
};

static void on_job(void *ud, const struct s3dlio_xfer_job *job, uint64_t seq, bool started)
{
    (void)job;
    struct hook *h = ud;
    h->calls++;
    if (!started) /* the jobs finish reports come in planning order */
        h->out_of_order += seq < h->next_seq;
    h->next_seq = seq + 1 > h->next_seq ? seq + 1 : h->next_seq;
    h->started += started;
    h->not_started += !started;
}

static struct s3dlio_backend *holding_backend(struct s3dlio_backend_ops *ops,
                                              enum s3dlio_rc (*progress)(struct s3dlio_backend *,
                                                                         int, size_t *))
{
    struct s3dlio_backend *be = xfer_fixture_backend(root);
    holding_install(be, ops, progress);
    return be;
}

/* 100,000 jobs through chunks of 100 with 64 in flight: at most two chunks ever alive. */
static void test_full_run(void)
{
    struct s3dlio_backend_ops ops;
    struct s3dlio_backend *be = holding_backend(&ops, holding_run_one);
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    struct table t = {0};
    struct hook h = {0};
    struct s3dlio_feed f;
    const size_t rows = 101000;
    xfer_fixture_opts(&o);
    o.get_concurrency = 64;
    s3dlio_feed_init(&f, rows, 100, plan_rows, &t);
    f.on_job = on_job;
    f.job_ud = &h;
    s3dlio_feed_attach(&f, &o);
    enum s3dlio_rc rc = s3dlio_xfer_run(be, NULL, 0, &o, &st);
    s3dlio_feed_finish(&f);
    CHECK_INT(rc, S3DLIO_E_USAGE, "run: the first failure is a refused row");
    CHECK_INT(t.out_of_order, 0, "rows planned in order, each once");
    CHECK_INT(t.next_row, rows, "every row planned");
    CHECK_INT(t.calls, rows / 100, "one planning call per chunk");
    CHECK_INT(f.planned, jobs_of(rows), "one job per row but markers");
    CHECK_INT(f.failed, 2 * 101, "refused and missing rows failed");
    CHECK_INT(f.succeeded, jobs_of(rows) - 2 * 101, "the others succeeded");
    CHECK_INT(f.not_started, 0, "nothing left undone");
    CHECK_INT(st.objects, f.succeeded, "the engine agrees on successes");
    CHECK_INT(st.failures, f.failed, "... and failures");
    CHECK(f.peak_live >= 1 && f.peak_live <= 2, "only the chunks with work in flight live");
    CHECK_INT(h.calls, f.planned, "the job hook heard of every job");
    CHECK_INT(h.started, f.planned, "... each as started");
    CHECK_INT(f.nfailures, f.failed, "a record per failure");
    int unordered = 0, refused = 0, gone = 0;
    for (size_t i = 0; i < f.nfailures; i++) {
        unordered += i && f.failures[i].seq <= f.failures[i - 1].seq;
        const char *key = s3dlio_feed_failure_key(&f, i), *msg = s3dlio_feed_failure_message(&f, i);
        if (f.failures[i].rc == S3DLIO_E_USAGE) {
            char want[64];
            /* failure i's row: refused ones are the even records, rows 7, 1007, ... */
            snprintf(want, sizeof(want), "row %zu refused", (i / 2) * 1000 + 7);
            refused += !strcmp(key, present) && strstr(msg, want) != NULL;
        } else {
            gone += f.failures[i].rc == S3DLIO_E_NOT_FOUND && !strcmp(key, missing) &&
                    strstr(msg, "obj-missing") != NULL;
        }
    }
    CHECK_INT(unordered, 0, "failures in planning order");
    CHECK_INT(refused, 101, "refused rows: key and the planner's message");
    CHECK_INT(gone, 101, "missing keys: key and the engine's message naming it");
    s3dlio_feed_release(&f);
    s3dlio_backend_free(be);
}

/* Cancelled: what completed, failed and was not done adds up to what the rows make. */
static void test_cancel(void)
{
    struct s3dlio_backend_ops ops;
    struct s3dlio_backend *be = holding_backend(&ops, holding_cancelling_progress);
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    struct table t = {0};
    struct hook h = {0};
    struct s3dlio_feed f;
    const size_t rows = 10000;
    xfer_fixture_opts(&o);
    o.get_concurrency = 16;
    o.cancel = &holding_cancel;
    holding_cancel_arm(1500);
    s3dlio_feed_init(&f, rows, 256, plan_rows, &t);
    f.on_job = on_job;
    f.job_ud = &h;
    s3dlio_feed_attach(&f, &o);
    CHECK_INT(s3dlio_xfer_run(be, NULL, 0, &o, &st), S3DLIO_E_ABORTED, "cancel: the run stops");
    CHECK(t.next_row < rows, "cancel: not every row was reached");
    s3dlio_feed_finish(&f);
    CHECK_INT(t.out_of_order, 0, "cancel: rows planned in order, each once");
    CHECK_INT(t.next_row, rows, "cancel: the rest planned for the count");
    CHECK_INT(f.planned, jobs_of(rows), "cancel: every job counted");
    CHECK_INT(f.succeeded + f.failed + f.not_started, f.planned, "cancel: the counts add up");
    CHECK_INT(f.succeeded, st.objects, "cancel: completed as the engine says");
    uint64_t aborted = 0, refused = 0;
    for (size_t i = 0; i < f.nfailures; i++) {
        aborted += f.failures[i].rc == S3DLIO_E_ABORTED;
        refused += f.failures[i].rc == S3DLIO_E_USAGE;
    }
    CHECK(aborted > 0, "cancel: objects in flight failed as interrupted");
    CHECK_INT(refused, 10, "cancel: rows refused by the planner fail, started or not");
    CHECK(f.not_started > 5000, "cancel: most were not done");
    CHECK_INT(h.calls, f.planned, "cancel: the hook heard of every job once");
    CHECK_INT(h.out_of_order, 0, "cancel: unfinished jobs reported in planning order");
    CHECK_INT(h.started, st.objects + st.failures, "cancel: the hook heard the engine's finished jobs as started");
    s3dlio_feed_release(&f);
    s3dlio_backend_free(be);
}

/* --steal's use: rows taken span by span (out of order, some never), each planned once. */
struct spans {
    size_t at, asked;
    unsigned char planned[10000]; /* times each row was planned */
};

static const size_t span_first[] = {3000, 100, 9990}, span_count[] = {500, 1000, 50};

static bool next_span(void *ud, size_t *first, size_t *count)
{
    struct spans *sp = ud;
    sp->asked++;
    if (sp->at == sizeof(span_first) / sizeof(span_first[0]))
        return false;
    *first = span_first[sp->at];
    *count = span_count[sp->at++];
    return true;
}

static void plan_span_rows(void *ud, size_t first, size_t count, struct s3dlio_plan *plan)
{
    struct spans *sp = ud;
    struct s3dlio_objlist chunk = {0};
    for (size_t r = first; r < first + count; r++) {
        sp->planned[r]++;
        s3dlio_objlist_add(&chunk, present, 0, 0, "");
    }
    s3dlio_plan_get(plan, &chunk, NULL, NULL, NULL, NULL, NULL);
    s3dlio_objlist_release(&chunk);
}

static void test_spans(void)
{
    struct s3dlio_backend_ops ops;
    struct s3dlio_backend *be = holding_backend(&ops, holding_run_one);
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    static struct spans sp;
    struct s3dlio_feed f;
    xfer_fixture_opts(&o);
    o.get_concurrency = 16;
    s3dlio_feed_init(&f, 10000, 128, plan_span_rows, &sp);
    s3dlio_feed_spans(&f, next_span, &sp);
    s3dlio_feed_attach(&f, &o);
    CHECK_INT(s3dlio_xfer_run(be, NULL, 0, &o, &st), S3DLIO_OK, "spans: the run");
    s3dlio_feed_finish(&f);
    int wrong = 0;
    for (size_t r = 0; r < 10000; r++) {
        bool in = (r >= 3000 && r < 3500) || (r >= 100 && r < 1100) || r >= 9990;
        wrong += sp.planned[r] != (in ? 1 : 0);
    }
    CHECK_INT(wrong, 0, "spans: exactly the rows of the spans taken, each once (the last cut at the end)");
    CHECK_INT(f.planned, 1510, "spans: jobs planned");
    CHECK_INT(f.succeeded, 1510, "spans: every one done");
    CHECK_INT(st.objects, 1510, "spans: as the engine counts");
    CHECK_INT(f.not_started, 0, "spans: nothing left");
    size_t asked = sp.asked;
    s3dlio_feed_release(&f);
    CHECK_INT(asked, 4, "spans: asked until there were none, and never again");
    s3dlio_backend_free(be);
}

int main(void)
{
    if (!check_tmpdir(root, sizeof(root), "feed"))
        return 1;
    s3dlio_global_init(NULL);
    /* the file backend's keys are paths below "/" */
    snprintf(present, sizeof(present), "%s/obj-present", root + 1);
    snprintf(missing, sizeof(missing), "%s/obj-missing", root + 1);
    char path[400];
    snprintf(path, sizeof(path), "/%s", present);
    FILE *fp = fopen(path, "wb");
    if (fp)
        fclose(fp);
    test_full_run();
    test_spans();
    test_cancel();
    check_rmtree(root);
    s3dlio_global_cleanup();
    TEST_DONE();
}
