/* SPDX-License-Identifier: Apache-2.0 */
/*
 * on_job_done: the engine reports each job it is finished with exactly once, with its final
 * rc, only after every request of it ended, and never touches it again (the callback poisons
 * the job, as a feed that frees its chunk would); jobs a cancel kept from starting are not
 * reported. Requests are held by the backend (xfer_holding.h), so several jobs are in flight
 * and objects of several ranged parts end request by request.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "s3dlio/s3dlio.h"
#include "s3dlio/xfer.h"
#include "xfer_fixture.h"
#include "xfer_holding.h"

#define NJOB 24
#define MIB (1u << 20)

static char root[200];
static char keys[NJOB][300];
static struct s3dlio_xfer_job jobs[NJOB];

/* What the callbacks saw, per job index. */
static struct {
    int reported;         /* on_job_done calls */
    int spans;            /* requests of the job that ended */
    int spans_after_done; /* ... after it was reported: must stay 0 */
    int requests_at_done; /* job->requests when it was reported */
    int spans_at_done;
    enum s3dlio_rc rc;    /* job->rc when reported */
    char message[600];
} seen[NJOB];

static int index_of_key(const char *key)
{
    for (int i = 0; i < NJOB; i++)
        if (!strcmp(keys[i], key))
            return i;
    return -1;
}

static void on_span(void *ud, const struct s3dlio_req_span *span)
{
    (void)ud;
    int i = index_of_key(span->key);
    if (i < 0)
        return;
    seen[i].spans++;
    seen[i].spans_after_done += seen[i].reported > 0;
}

static void on_done(void *ud, struct s3dlio_xfer_job *job)
{
    (void)ud;
    long i = job - jobs;
    if (i < 0 || i >= NJOB) {
        CHECK(false, "reported job is one of the run's");
        return;
    }
    seen[i].reported++;
    seen[i].rc = job->rc;
    seen[i].requests_at_done = job->requests;
    seen[i].spans_at_done = seen[i].spans;
    if (job->err)
        snprintf(seen[i].message, sizeof(seen[i].message), "%s", job->err->message);
    /* the engine must never read it again: make any such read fail loudly */
    s3dlio_xfer_jobs_release(job, 1);
    memset(job, 0xA5, sizeof(*job));
}

static void write_file(const char *key, size_t size)
{
    char path[400];
    snprintf(path, sizeof(path), "/%s", key);
    FILE *f = fopen(path, "wb");
    for (size_t i = 0; f && i < size; i++)
        fputc((int)(i * 7 % 251), f);
    if (f)
        fclose(f);
}

/* Jobs: objects of 0 B to 3 MiB (up to 3 ranged parts), one missing, one refused up front. */
static void make_jobs(void)
{
    memset(jobs, 0, sizeof(jobs));
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < NJOB; i++) {
        size_t size = (size_t)(i % 4) * MIB + (size_t)i * 1000;
        /* the file backend's keys are paths below "/" */
        snprintf(keys[i], sizeof(keys[i]), "%s/obj-%02d", root + 1, i);
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_GET, .key = keys[i], .size = size,
                                           .local = S3DLIO_LOCAL_DISCARD};
    }
    struct s3dlio_error e = {0};
    s3dlio_error_set(&e, S3DLIO_E_USAGE, "get", keys[5], "refused by the planner");
    s3dlio_xfer_job_fail(&jobs[5], &e);
}

static struct s3dlio_backend *holding_backend(struct s3dlio_backend_ops *ops,
                                              enum s3dlio_rc (*progress)(struct s3dlio_backend *,
                                                                         int, size_t *))
{
    struct s3dlio_backend *be = xfer_fixture_backend(root);
    holding_install(be, ops, progress);
    return be;
}

static void fixture_opts(struct s3dlio_xfer_opts *o)
{
    xfer_fixture_opts(o);
    o->on_span = on_span;
    o->on_job_done = on_done;
}

/* Every job reported once, after all its requests, with the rc the run gave it. */
static void test_all_reported(void)
{
    struct s3dlio_backend_ops ops;
    struct s3dlio_backend *be = holding_backend(&ops, holding_run_one);
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    fixture_opts(&o);
    make_jobs();
    CHECK_INT(s3dlio_xfer_run(be, jobs, NJOB, &o, &st), S3DLIO_E_USAGE, "first failure: the refused job");
    int missing = 0, ok = 0;
    for (int i = 0; i < NJOB; i++) {
        char name[64];
        snprintf(name, sizeof(name), "job %d", i);
        CHECK_INT(seen[i].reported, 1, name);
        CHECK_INT(seen[i].spans_at_done, seen[i].requests_at_done, name);
        CHECK_INT(seen[i].spans_after_done, 0, name);
        missing += seen[i].rc == S3DLIO_E_NOT_FOUND;
        ok += seen[i].rc == S3DLIO_OK;
    }
    CHECK_INT(seen[5].rc, S3DLIO_E_USAGE, "the refused job is reported with its rc");
    CHECK_STR(seen[5].message, "refused by the planner", "... and its error");
    CHECK_INT(seen[5].requests_at_done, 0, "... without a request");
    CHECK_INT(missing, 1, "the missing object is reported failed");
    CHECK_INT(seen[7].rc, S3DLIO_E_NOT_FOUND, "obj-07 is the missing one");
    CHECK(seen[7].message[0] != '\0', "... with its error");
    CHECK_INT(ok, NJOB - 2, "the others succeeded");
    CHECK_INT(st.objects, (uint64_t)ok, "stats agree");
    s3dlio_backend_free(be);
}

/* Started jobs are reported (stopped ones as aborted), jobs never started are not. */
static void test_cancel(void)
{
    struct s3dlio_backend_ops ops;
    struct s3dlio_backend *be = holding_backend(&ops, holding_cancelling_progress);
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    fixture_opts(&o);
    o.get_concurrency = 4;
    o.cancel = &holding_cancel;
    holding_cancel_arm(6); /* one held request runs per call; the 6th call cancels */
    make_jobs();
    CHECK_INT(s3dlio_xfer_run(be, jobs, NJOB, &o, &st), S3DLIO_E_ABORTED, "cancel: the run stops");
    int reported = 0, aborted = 0, never = 0;
    for (int i = 0; i < NJOB; i++) {
        char name[64];
        snprintf(name, sizeof(name), "cancel: job %d", i);
        CHECK(seen[i].reported <= 1, name);
        CHECK_INT(seen[i].spans_after_done, 0, name);
        reported += seen[i].reported;
        aborted += seen[i].reported && seen[i].rc == S3DLIO_E_ABORTED;
        if (!seen[i].reported) {
            /* not poisoned: the engine never started it (job 5 came refused) */
            CHECK(jobs[i].requests == 0 && (jobs[i].rc == S3DLIO_OK || i == 5), name);
            never++;
        } else {
            CHECK_INT(seen[i].spans_at_done, seen[i].requests_at_done, name);
        }
    }
    CHECK(aborted > 0, "cancel: jobs in flight are reported as aborted");
    CHECK(never > 0, "cancel: some jobs never started, and were not reported");
    CHECK_INT((uint64_t)reported, st.objects + st.failures, "cancel: reported = finished");
    for (int i = 0; i < NJOB; i++) /* the unreported ones are still ours, unpoisoned */
        if (!seen[i].reported)
            s3dlio_xfer_jobs_release(&jobs[i], 1);
    s3dlio_backend_free(be);
}

int main(void)
{
    if (!check_tmpdir(root, sizeof(root), "xfer-done"))
        return 1;
    s3dlio_global_init(NULL);
    make_jobs();
    for (int i = 0; i < NJOB; i++)
        if (i != 7) /* obj-07 is missing */
            write_file(keys[i], (size_t)jobs[i].size);
    s3dlio_xfer_jobs_release(jobs, NJOB);
    test_all_reported();
    test_cancel();
    check_rmtree(root);
    s3dlio_global_cleanup();
    TEST_DONE();
}
