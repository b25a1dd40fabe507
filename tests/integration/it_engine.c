/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transfer engine against the real local server: 300 objects of mixed sizes (0 B, 1 B,
 * 4 MiB - 1, 4 MiB, 4 MiB + 1, 17 MiB) are uploaded from the generator, GET into memory
 * (every byte checked against the generator), PUT back from memory under another prefix
 * and read back again (every byte compared). Counting wrappers around the backend prove
 * the request pattern: ranged GETs exactly for objects above the range threshold, multipart
 * uploads exactly for objects above the multipart threshold.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../unit/check.h"
#include "s3dlio/plan.h"
#include "s3dlio/s3dlio.h"
#include "s3dlio/xfer.h"
#include "xfer/datagen.h"

#define NOBJ 300
#define MIB (1024u * 1024u)

static const uint64_t sizes[] = {0, 1, 4 * MIB - 1, 4 * MIB, 4 * MIB + 1, 17 * MIB};

static int ranged_gets, whole_gets, single_puts, part_puts, mpu_creates, mpu_completes;

static enum s3dlio_rc counting_submit(struct s3dlio_backend *be, struct s3dlio_req *req)
{
    switch (req->op) {
    case S3DLIO_REQ_GET:
        if (req->length == S3DLIO_LEN_TO_END && req->offset == 0)
            whole_gets++;
        else
            ranged_gets++;
        break;
    case S3DLIO_REQ_PUT:
        single_puts++;
        break;
    case S3DLIO_REQ_PUT_PART:
        part_puts++;
        break;
    case S3DLIO_REQ_MPU_CREATE:
        mpu_creates++;
        break;
    case S3DLIO_REQ_MPU_COMPLETE:
        mpu_completes++;
        break;
    default:
        break;
    }
    return s3dlio_backend_s3.submit(be, req);
}

static void reset_counts(void)
{
    ranged_gets = whole_gets = single_puts = part_puts = mpu_creates = mpu_completes = 0;
}

static uint64_t size_of(size_t i)
{
    return sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
}

static void report(const char *what, enum s3dlio_rc rc, const struct s3dlio_xfer_job *jobs, size_t n)
{
    if (!rc)
        return;
    for (size_t i = 0; i < n; i++)
        if (jobs[i].rc) {
            fprintf(stderr, "%s: first failure '%s': %s (%s, HTTP %d)\n", what, jobs[i].key,
                    jobs[i].err->message, jobs[i].err->s3_code, jobs[i].err->http_status);
            return;
        }
}

int main(void)
{
    struct s3dlio_config cfg = {0};
    struct s3dlio_error e = {0};
    struct s3dlio_xfer_opts o;
    struct s3dlio_gen gen = {.seed = 1234};
    char bucket[64], text[96], keys[NOBJ][64], back_keys[NOBJ][64];
    if (s3dlio_global_init(&e) || s3dlio_config_load(&cfg, NULL, &e)) {
        fprintf(stderr, "setup failed: %s\n", e.message);
        return 1;
    }
    snprintf(bucket, sizeof(bucket), "it-engine-%ld-%ld", (long)getpid(), (long)time(NULL) % 100000);
    snprintf(text, sizeof(text), "s3://%s/", bucket);
    struct s3dlio_uri u;
    struct s3dlio_backend *be = NULL;
    if (s3dlio_uri_parse(&u, text, &e) || s3dlio_backend_new(&u, &cfg, &be, &e) ||
        s3dlio_backend_bucket_create(be, &e)) {
        fprintf(stderr, "cannot set up bucket: %s\n", e.message);
        return 1;
    }
    struct s3dlio_backend_ops ops = s3dlio_backend_s3;
    ops.submit = counting_submit;
    be->ops = &ops;
    s3dlio_xfer_opts_default(&o);
    o.part_size = 5 * MIB;              /* 17 MiB: 4 parts either way */
    o.range_threshold = 4 * MIB;        /* 4 MiB + 1 and 17 MiB are ranged */
    o.multipart_threshold = 16 * MIB;   /* only 17 MiB goes multipart */

    /* 1. upload from the generator */
    struct s3dlio_xfer_job *jobs = calloc(NOBJ, sizeof(*jobs));
    uint64_t total = 0;
    int want_parts = 0, want_mpu = 0, want_ranged = 0, want_whole = 0;
    for (size_t i = 0; i < NOBJ; i++) {
        snprintf(keys[i], sizeof(keys[i]), "mixed/%03zu-%" PRIu64, i, size_of(i));
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_PUT, .key = keys[i],
                                           .size = size_of(i), .local = S3DLIO_LOCAL_GENERATOR,
                                           .gen = &gen};
        total += size_of(i);
        bool big = size_of(i) > o.multipart_threshold;
        want_mpu += big;
        want_parts += big ? (int)((size_of(i) + o.part_size - 1) / o.part_size) : 0;
        if (size_of(i) > o.range_threshold)
            want_ranged += (int)((size_of(i) + o.part_size - 1) / o.part_size);
        else
            want_whole++; /* a 0-byte object too: the GET proves it exists */
    }
    struct s3dlio_xfer_stats st;
    reset_counts();
    enum s3dlio_rc rc = s3dlio_xfer_run(be, jobs, NOBJ, &o, &st);
    report("put", rc, jobs, NOBJ);
    CHECK_INT(rc, S3DLIO_OK, "generated upload");
    CHECK_INT(st.objects, NOBJ, "objects uploaded");
    CHECK_INT(st.bytes, total, "bytes uploaded");
    CHECK_INT(mpu_creates, want_mpu, "multipart exactly above the threshold");
    CHECK_INT(mpu_completes, want_mpu, "every multipart upload completed");
    CHECK_INT(part_puts, want_parts, "parts uploaded");
    CHECK_INT(single_puts, NOBJ - want_mpu, "single PUTs");

    /* 2. GET everything into one arena, objects at known offsets, and check every byte */
    unsigned char *arena = malloc(total), *arena2 = malloc(total);
    uint64_t at = 0;
    for (size_t i = 0; i < NOBJ; i++) {
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_GET, .key = keys[i],
                                           .size = size_of(i), .local = S3DLIO_LOCAL_MEMORY,
                                           .mem = arena + at};
        at += size_of(i);
    }
    reset_counts();
    rc = s3dlio_xfer_run(be, jobs, NOBJ, &o, &st);
    report("get", rc, jobs, NOBJ);
    CHECK_INT(rc, S3DLIO_OK, "GET into memory");
    CHECK_INT(st.bytes, total, "bytes read");
    CHECK_INT(ranged_gets, want_ranged, "ranged GETs exactly for objects above the threshold");
    CHECK_INT(whole_gets, want_whole, "plain GETs for the rest");
    int bad = 0;
    for (size_t i = 0; i < NOBJ; i++) {
        uint64_t off = 0;
        if (!s3dlio_gen_verify(&gen, keys[i], 0, jobs[i].mem, (size_t)size_of(i), &off)) {
            if (!bad++)
                fprintf(stderr, "object %s differs at %" PRIu64 "\n", keys[i], off);
        }
    }
    CHECK_INT(bad, 0, "every byte as generated");

    /* 3. PUT back from memory with --verify (Content-MD5), GET again, compare */
    o.verify = true;
    for (size_t i = 0; i < NOBJ; i++) {
        snprintf(back_keys[i], sizeof(back_keys[i]), "back/%.58s", keys[i]);
        jobs[i].dir = S3DLIO_XFER_PUT;
        jobs[i].key = back_keys[i];
        jobs[i].rc = S3DLIO_OK;
    }
    reset_counts();
    rc = s3dlio_xfer_run(be, jobs, NOBJ, &o, &st);
    report("put back", rc, jobs, NOBJ);
    CHECK_INT(rc, S3DLIO_OK, "PUT back from memory");
    CHECK_INT(mpu_creates, want_mpu, "multipart again when putting back");
    at = 0;
    for (size_t i = 0; i < NOBJ; i++) {
        jobs[i].dir = S3DLIO_XFER_GET;
        jobs[i].mem = arena2 + at;
        jobs[i].rc = S3DLIO_OK;
        at += size_of(i);
    }
    rc = s3dlio_xfer_run(be, jobs, NOBJ, &o, &st);
    report("get back", rc, jobs, NOBJ);
    CHECK_INT(rc, S3DLIO_OK, "GET back with ETag checks");
    CHECK(memcmp(arena, arena2, total) == 0, "round trip byte for byte");

    /* 4. a missing key fails alone, named, and the others complete */
    struct s3dlio_xfer_job two[2] = {
        {.dir = S3DLIO_XFER_GET, .key = keys[1], .size = 1, .local = S3DLIO_LOCAL_DISCARD},
        {.dir = S3DLIO_XFER_GET, .key = "mixed/absent", .size = 10, .local = S3DLIO_LOCAL_DISCARD},
    };
    rc = s3dlio_xfer_run(be, two, 2, &o, &st);
    CHECK_INT(rc, S3DLIO_E_NOT_FOUND, "missing key fails the run");
    CHECK_INT(two[0].rc, S3DLIO_OK, "other object completes");
    CHECK_STR(two[1].err->s3_code, "NoSuchKey", "missing key named with its code");
    CHECK(two[1].err->request_id[0] != '\0', "missing key has a request id");
    CHECK_INT(st.retries, 0, "a 404 is not retried");
    s3dlio_xfer_jobs_release(two, 2);

    /* cleanup: everything under the bucket, then the bucket */
    struct s3dlio_objlist all = {0};
    size_t nf = 0;
    s3dlio_backend_list_all(be, "", NULL, 1000, &all, &e);
    const char **del = calloc(all.n + 1, sizeof(*del));
    for (size_t i = 0; i < all.n; i++)
        del[i] = all.items[i].key;
    s3dlio_backend_remove_many(be, del, all.n, &nf, &e);
    s3dlio_backend_bucket_delete(be, &e);
    free(del);
    s3dlio_objlist_release(&all);
    free(arena);
    free(arena2);
    free(jobs);
    s3dlio_backend_free(be);
    s3dlio_uri_release(&u);
    s3dlio_config_release(&cfg);
    s3dlio_global_cleanup();
    TEST_DONE();
}
