/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The relay (src/xfer/relay.c) without a server: how objects are batched within the memory
 * budget, how the counters of several engine runs add up, and relays between two file://
 * trees, through memory and through the pipe, byte for byte; a source that fails (missing,
 * outside the source's bucket) fails its object alone and leaves nothing at the destination.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "s3dlio/xfer.h"
#include "xfer_fixture.h"

struct batch_case {
    const char *name;
    uint64_t sizes[6];
    size_t n;
    uint64_t budget;
    size_t want;
};

static const struct batch_case batch_cases[] = {
    {"nothing", {0}, 0, 10, 0},
    {"all fit", {3, 3, 4}, 3, 10, 3},
    {"exactly the budget", {5, 5, 1}, 3, 10, 2},
    {"the first alone is too large", {11, 1}, 2, 10, 0},
    {"stops at the first that does not fit", {4, 7, 1}, 3, 10, 1},
    {"empty objects take no room", {0, 0, 10, 0}, 4, 10, 4},
    {"no overflow near the top", {UINT64_MAX - 1, 1, 1}, 3, UINT64_MAX, 2},
};

static void test_batch(void)
{
    for (size_t i = 0; i < sizeof(batch_cases) / sizeof(batch_cases[0]); i++) {
        const struct batch_case *c = &batch_cases[i];
        size_t got = s3dlio_relay_batch(c->sizes, c->n, c->budget);
        if (got != c->want)
            fprintf(stderr, "  batch '%s': got %zu, want %zu\n", c->name, got, c->want);
        CHECK(got == c->want, c->name);
    }
}

static void test_stats_add(void)
{
    struct s3dlio_xfer_stats a = {0}, b = {0};
    a.requests = 3, a.retries = 1, a.max_inflight = 4, a.limit_min = 8, a.t_start_ns = 100;
    a.t_end_ns = 200, a.objects = 2, a.bytes = 50, a.verified = 1, a.nlimit_samples = 1;
    b.requests = 5, b.retries = 2, b.max_inflight = 2, b.limit_min = 3, b.t_start_ns = 50;
    b.t_end_ns = 150, b.objects = 7, b.bytes = 70, b.aborted_uploads = 1, b.interrupted = true;
    b.nlimit_samples = 2;
    s3dlio_xfer_stats_add(&a, &b);
    CHECK_INT(a.requests, 8, "requests add");
    CHECK_INT(a.retries, 3, "retries add");
    CHECK_INT(a.max_inflight, 4, "the highest in flight");
    CHECK_INT(a.limit_min, 3, "the lowest limit");
    CHECK_INT(a.t_start_ns, 50, "the earliest start");
    CHECK_INT(a.t_end_ns, 200, "the latest end");
    CHECK_INT(a.aborted_uploads, 1, "aborted uploads add");
    CHECK_INT(a.verified, 1, "verified adds");
    CHECK_INT(a.nlimit_samples, 3, "limit samples appended");
    CHECK(a.interrupted, "interrupted is kept");
    CHECK_INT(a.objects, 2, "objects are the caller's");
    CHECK_INT(a.bytes, 50, "bytes are the caller's");
    struct s3dlio_xfer_stats z = {0};
    s3dlio_xfer_stats_add(&z, &a);
    CHECK_INT(z.limit_min, 3, "a first run's limit is taken, not the zero");
}

/* ---- relays between two file:// trees ---------------------------------------------------- */

static char root[256];

static void write_file(const char *rel, uint64_t size, unsigned seed)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    srand(seed);
    for (uint64_t i = 0; i < size; i++)
        fputc(rand() & 0xff, f);
    fclose(f);
}

static bool same_files(const char *a, const char *b)
{
    char pa[1024], pb[1024];
    snprintf(pa, sizeof(pa), "%s/%s", root, a);
    snprintf(pb, sizeof(pb), "%s/%s", root, b);
    FILE *fa = fopen(pa, "r"), *fb = fopen(pb, "r");
    bool same = fa && fb;
    for (int ca = 0, cb = 0; same && ca != EOF; same = ca == cb) {
        ca = fgetc(fa);
        cb = fgetc(fb);
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static bool exists(const char *rel)
{
    char p[1024];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    return !stat(p, &st);
}

#define NREL 7
static const char *names[NREL] = {"empty", "one", "small", "mid", "big", "missing-big", "missing"};
static const uint64_t sizes[NREL] = {0, 1, 5000, 3u << 20, (9u << 20) + 5, 6u << 20, 100};

static void test_file_relay(void)
{
    char src[NREL][600], dst[NREL][600], rel[700];
    struct s3dlio_xfer_job jobs[NREL + 1];
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    struct s3dlio_backend *be = xfer_fixture_backend(root); /* one tree, two roles */
    struct s3dlio_backend *be2 = xfer_fixture_backend(root);
    const char *key_root = root + 1; /* file:// keys are paths without their first '/' */
    snprintf(rel, sizeof(rel), "%s/s", root);
    mkdir(rel, 0700);
    snprintf(rel, sizeof(rel), "%s/d", root);
    mkdir(rel, 0700);
    uint64_t total = 0;
    for (int i = 0; i < NREL; i++) {
        snprintf(rel, sizeof(rel), "s/%s", names[i]);
        if (strncmp(names[i], "missing", 7)) {
            write_file(rel, sizes[i], (unsigned)i + 1);
            total += sizes[i];
        }
        snprintf(src[i], sizeof(src[i]), "/%s/s/%s", key_root, names[i]);
        snprintf(dst[i], sizeof(dst[i]), "%s/d/%s", key_root, names[i]);
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_COPY, .key = dst[i],
                                           .copy_source = src[i], .size = sizes[i]};
    }
    /* a source that is not in the source's bucket ("", for file://) */
    jobs[NREL] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_COPY, .key = dst[0],
                                          .copy_source = "elsewhere/k", .size = 1};
    xfer_fixture_opts(&o);
    o.multipart_threshold = 64u << 20; /* file:// has no multipart upload: one PUT per stream */
    enum s3dlio_rc rc = s3dlio_xfer_relay(be, be2, jobs, NREL + 1, 4u << 20, &o, &st);
    CHECK(rc != S3DLIO_OK, "a relay with failed objects fails");
    for (int i = 0; i < 5; i++) {
        char a[700], b[700];
        snprintf(a, sizeof(a), "s/%s", names[i]);
        snprintf(b, sizeof(b), "d/%s", names[i]);
        CHECK(jobs[i].rc == S3DLIO_OK, names[i]);
        CHECK(same_files(a, b), "relayed byte for byte");
        CHECK(jobs[i].bytes == sizes[i], "bytes are the object's");
    }
    CHECK_INT(jobs[5].rc, S3DLIO_E_NOT_FOUND, "a missing piped source fails its object");
    CHECK(jobs[5].err && strstr(jobs[5].err->target, "s/missing-big") != NULL, "the error names the source key");
    CHECK(!exists("d/missing-big"), "a failed piped object leaves nothing");
    CHECK_INT(jobs[6].rc, S3DLIO_E_NOT_FOUND, "a missing source in a batch fails its object");
    CHECK(!exists("d/missing"), "a failed batched object leaves nothing");
    CHECK_INT(jobs[NREL].rc, S3DLIO_E_USAGE, "a source outside the source's bucket is refused");
    CHECK_INT(st.objects, 5, "objects relayed");
    CHECK_INT(st.failures, 3, "objects failed");
    CHECK_INT(st.bytes, total, "bytes counted once");
    CHECK(st.requests >= 2 * 5, "requests of both sides");
    CHECK(!st.interrupted, "not interrupted");
    for (int i = 0; i < NREL; i++) {
        snprintf(rel, sizeof(rel), "%s/s/%s", root, names[i]);
        unlink(rel);
        snprintf(rel, sizeof(rel), "%s/d/%s", root, names[i]);
        unlink(rel);
    }
    snprintf(rel, sizeof(rel), "%s/s", root);
    rmdir(rel);
    snprintf(rel, sizeof(rel), "%s/d", root);
    rmdir(rel);
    s3dlio_xfer_jobs_release(jobs, NREL + 1);
    s3dlio_backend_free(be);
    s3dlio_backend_free(be2);
}

int main(void)
{
    test_batch();
    test_stats_add();
    if (!check_tmpdir(root, sizeof(root), "test_relay"))
        return 2;
    test_file_relay();
    rmdir(root);
    TEST_DONE();
}
