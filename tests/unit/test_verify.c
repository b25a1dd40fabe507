/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --verify, pinned reads and --on-change of the engine, against an S3-like layer over the
 * file backend. The layer gives what S3 gives and file:// does not: MD5 ETags (single-part)
 * or composite ones (multipart, 1 MiB parts), HEAD ?partNumber=1 answered for the part, and
 * If-Match against those ETags. It runs GETs late and in reverse order, so ranges land out of
 * order; it can flip a byte of a body, cut a body, or "overwrite" an object between requests.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "xfer_fixture.h"
#include "s3dlio/s3dlio.h"
#include "s3dlio/xfer.h"
#include "util/digest.h"
#include "xfer/datagen.h"

#define NOBJ 16
#define MIB (1u << 20)

static char root[256];
static char keys[NOBJ][300];
static uint64_t sizes[NOBJ];
static char etags[NOBJ][48];
static const struct s3dlio_gen gen = {.seed = 4242};

/* ---- the emulated server ------------------------------------------------------------------- */

static struct {
    bool multipart;       /* composite ETags */
    bool answer_parts;    /* HEAD ?partNumber=1 tells the part size */
    int flip_every;       /* flip a byte of every Nth GET body */
    int cut_every;        /* cut every Nth GET body in half (connection reset) */
    int change_at;        /* from the Nth GET on, object 0 has another ETag (0: never) */
    bool sse_kms;         /* object 0 answers as encrypted with SSE-KMS (ETag not an MD5) */
    int spill_every;      /* every Nth ranged GET sends junk past the end of its range */
    int gets, heads, flipped, cut, spilled;
    struct s3dlio_req *queued[512];
    int nqueued;
    struct s3dlio_req *answered[64];
    int nanswered;
} em;

static int index_of(const char *key)
{
    for (int i = 0; i < NOBJ; i++)
        if (!strcmp(keys[i], key))
            return i;
    return -1;
}

static const char *etag_now(int i)
{
    return i == 0 && em.change_at && em.gets >= em.change_at ? "ffffffffffffffffffffffffffffffff"
                                                               : etags[i];
}

struct emu_req {
    struct s3dlio_req inner;
    struct s3dlio_req *outer;
    bool flip, cut, spill;
};

#define SPILL_BYTES 4096

static enum s3dlio_rc emu_sink(void *ud, uint64_t off, const void *data, size_t len)
{
    struct emu_req *e = ud;
    if (e->flip && len) {
        unsigned char *copy = malloc(len);
        memcpy(copy, data, len);
        copy[len / 2] ^= 1;
        e->flip = false;
        enum s3dlio_rc rc = e->outer->sink(e->outer->sink_ud, off, copy, len);
        free(copy);
        return rc;
    }
    return e->outer->sink(e->outer->sink_ud, off, data, len);
}

static void emu_done(struct s3dlio_req *inner, enum s3dlio_rc rc, void *ud)
{
    struct emu_req *e = ud;
    struct s3dlio_req *outer = e->outer;
    int i = index_of(outer->key);
    outer->bytes = inner->bytes;
    outer->object_size = inner->object_size;
    outer->http_status = outer->offset || outer->length != S3DLIO_LEN_TO_END ? 206 : 200;
    snprintf(outer->etag, sizeof(outer->etag), "%s", etag_now(i));
    outer->etag_not_md5 = em.sse_kms && i == 0;
    if (rc)
        outer->err = inner->err;
    if (!rc && e->cut) {
        rc = s3dlio_error_set(&outer->err, S3DLIO_E_CONNECT, "get", outer->key, "reset by peer");
    }
    if (!rc && e->spill) { /* a body that runs on past its range, into the next one's bytes */
        unsigned char junk[SPILL_BYTES];
        memset(junk, 0xAA, sizeof(junk));
        rc = outer->sink(outer->sink_ud, outer->offset + outer->bytes, junk, sizeof(junk));
        if (!rc)
            outer->bytes += sizeof(junk);
    }
    free(e);
    outer->done(outer, rc, outer->done_ud);
}

static void run_get(struct s3dlio_backend *be, struct s3dlio_req *outer)
{
    int i = index_of(outer->key);
    em.gets++;
    if (outer->if_match && strcmp(outer->if_match, etag_now(i))) {
        s3dlio_error_set(&outer->err, S3DLIO_E_CHANGED, "get", outer->key, "precondition failed");
        outer->http_status = outer->err.http_status = 412;
        outer->done(outer, S3DLIO_E_CHANGED, outer->done_ud);
        return;
    }
    struct emu_req *e = calloc(1, sizeof(*e));
    e->outer = outer;
    e->inner = *outer;
    e->inner.if_match = NULL;
    e->inner.size_pinned = false;
    e->inner.sink = emu_sink;
    e->inner.sink_ud = e;
    e->inner.done = emu_done;
    e->inner.done_ud = e;
    e->flip = em.flip_every && em.gets % em.flip_every == 0;
    em.flipped += e->flip;
    uint64_t want = outer->length == S3DLIO_LEN_TO_END ? sizes[i] - outer->offset : outer->length;
    e->spill = em.spill_every && em.gets % em.spill_every == 0 && outer->length &&
               outer->length != S3DLIO_LEN_TO_END &&
               outer->offset + outer->length + SPILL_BYTES <= sizes[i];
    em.spilled += e->spill;
    if (em.cut_every && em.gets % em.cut_every == 0 && want >= 2) {
        e->cut = true;
        e->inner.length = want / 2;
        em.cut++;
    }
    s3dlio_backend_file.submit(be, &e->inner);
}

static void answer_head(struct s3dlio_req *req)
{
    int i = index_of(req->key);
    em.heads++;
    req->object_size = sizes[i];
    snprintf(req->etag, sizeof(req->etag), "%s", etag_now(i));
    req->http_status = 200;
    if (req->part_number == 1 && em.multipart && em.answer_parts && sizes[i]) {
        req->part_length = sizes[i] < MIB ? sizes[i] : MIB;
        req->parts_count = (int)((sizes[i] + MIB - 1) / MIB);
        req->http_status = 206;
    }
    em.answered[em.nanswered++] = req;
}

static enum s3dlio_rc emu_submit(struct s3dlio_backend *be, struct s3dlio_req *req)
{
    if (req->op == S3DLIO_REQ_HEAD) {
        answer_head(req);
        return S3DLIO_OK;
    }
    if (req->op != S3DLIO_REQ_GET)
        return s3dlio_backend_file.submit(be, req);
    em.queued[em.nqueued++] = req; /* run later, last first */
    return S3DLIO_OK;
}

static enum s3dlio_rc emu_progress(struct s3dlio_backend *be, int timeout_ms, size_t *inflight)
{
    int nh = em.nanswered, nq = em.nqueued;
    struct s3dlio_req *heads[64], *gets[512];
    memcpy(heads, em.answered, sizeof(*heads) * (size_t)nh);
    memcpy(gets, em.queued, sizeof(*gets) * (size_t)nq);
    em.nanswered = em.nqueued = 0;
    for (int i = 0; i < nh; i++)
        heads[i]->done(heads[i], S3DLIO_OK, heads[i]->done_ud);
    for (int i = nq - 1; i >= 0; i--)
        run_get(be, gets[i]);
    enum s3dlio_rc rc = s3dlio_backend_file.progress(be, timeout_ms, inflight);
    if (inflight)
        *inflight += (size_t)(em.nanswered + em.nqueued);
    return rc;
}

/* ---- the data set and its ETags ------------------------------------------------------------- */

static void compute_etags(bool multipart)
{
    for (int i = 0; i < NOBJ; i++) {
        unsigned char *d = malloc(sizes[i] + 1);
        s3dlio_gen_fill(&gen, keys[i], 0, d, (size_t)sizes[i]);
        char hex[33], b64[25];
        struct s3dlio_md5 m;
        if (!multipart || !sizes[i]) {
            s3dlio_md5_init(&m);
            s3dlio_md5_update(&m, d, (size_t)sizes[i]);
            s3dlio_md5_final(&m, hex, b64);
            snprintf(etags[i], sizeof(etags[i]), "%s", hex);
        } else {
            struct s3dlio_md5 all;
            unsigned char raw[16];
            bool ok;
            int n = 0;
            s3dlio_md5_init(&all);
            for (uint64_t at = 0; at < sizes[i]; at += MIB, n++) {
                size_t len = sizes[i] - at < MIB ? (size_t)(sizes[i] - at) : MIB;
                s3dlio_md5_init(&m);
                s3dlio_md5_update(&m, d + at, len);
                s3dlio_md5_final_raw(&m, raw, &ok);
                s3dlio_md5_update(&all, raw, 16);
            }
            s3dlio_md5_final(&all, hex, b64);
            snprintf(etags[i], sizeof(etags[i]), "%s-%d", hex, n);
        }
        free(d);
    }
}

static struct s3dlio_backend *open_backend(struct s3dlio_backend_ops *ops)
{
    struct s3dlio_backend *be = xfer_fixture_backend(root);
    if (ops && be) {
        *ops = s3dlio_backend_file;
        ops->submit = emu_submit;
        ops->progress = emu_progress;
        be->ops = ops;
    }
    return be;
}

static void opts(struct s3dlio_xfer_opts *o)
{
    s3dlio_xfer_opts_default(o);
    o->range_threshold = MIB;
    o->part_size = MIB; /* several ranges per object */
    o->retry_base_ms = 1;
    o->retry_cap_ms = 2;
    o->ramp_ms = 0;
    o->get_concurrency = 8;
    o->verify = true;
}

static void put_dataset(void)
{
    struct s3dlio_backend *be = open_backend(NULL);
    struct s3dlio_xfer_job jobs[NOBJ] = {0};
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    opts(&o);
    o.verify = false;
    for (int i = 0; i < NOBJ; i++) {
        snprintf(keys[i], sizeof(keys[i]), "%s/v/obj-%02d", root + 1, i);
        /* 0 B, under 1 MiB, exactly 1 MiB, and a few MiB with a short last part */
        sizes[i] = i == 0 ? 3 * MIB + 17 : i == 1 ? 0 : i == 2 ? MIB
                 : s3dlio_gen_object_size(gen.seed, (uint64_t)i, 1, 4u * MIB);
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_PUT, .key = keys[i], .size = sizes[i],
                                           .local = S3DLIO_LOCAL_GENERATOR, .gen = &gen};
    }
    CHECK_INT(s3dlio_xfer_run(be, jobs, NOBJ, &o, &st), S3DLIO_OK, "put the data set");
    s3dlio_xfer_jobs_release(jobs, NOBJ);
    s3dlio_backend_free(be);
}

/* Run a GET of every object into kind; returns the run's rc. mem must hold NOBJ slots. */
static enum s3dlio_rc get_all(enum s3dlio_xfer_local kind, struct s3dlio_xfer_opts *o,
                              struct s3dlio_xfer_job *jobs, struct s3dlio_xfer_stats *st,
                              unsigned char **mem, char (*paths)[400])
{
    struct s3dlio_backend_ops ops;
    struct s3dlio_backend *be = open_backend(&ops);
    static int run;
    run++; /* fresh paths: what a run leaves behind is its own */
    s3dlio_xfer_jobs_release(jobs, NOBJ); /* a run before this one may have failed some */
    for (int i = 0; i < NOBJ; i++) {
        jobs[i] = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_GET, .key = keys[i], .size = sizes[i],
                                           .etag = etags[i], .local = kind};
        if (kind == S3DLIO_LOCAL_MEMORY)
            jobs[i].mem = mem[i] = malloc(sizes[i] + 1);
        if (kind == S3DLIO_LOCAL_FILE) {
            snprintf(paths[i], sizeof(paths[i]), "%s/out%d/%d", root, run, i);
            jobs[i].path = paths[i];
        }
    }
    em.gets = em.heads = em.flipped = em.cut = em.spilled = 0;
    enum s3dlio_rc rc = s3dlio_xfer_run(be, jobs, NOBJ, o, st);
    s3dlio_backend_free(be);
    return rc;
}

static void free_mem(unsigned char **mem)
{
    for (int i = 0; i < NOBJ; i++)
        free(mem[i]);
}

static int right_bytes(const struct s3dlio_xfer_job *jobs, unsigned char **mem)
{
    int good = 0;
    for (int i = 0; i < NOBJ; i++)
        good += !jobs[i].rc && s3dlio_gen_verify(&gen, keys[i], 0, mem[i], (size_t)sizes[i], NULL);
    return good;
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void test_single_part(void)
{
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_job jobs[NOBJ] = {0};
    struct s3dlio_xfer_stats st;
    unsigned char *mem[NOBJ];
    char paths[NOBJ][400];
    compute_etags(false);
    memset(&em, 0, sizeof(em));
    opts(&o);

    CHECK_INT(get_all(S3DLIO_LOCAL_MEMORY, &o, jobs, &st, mem, paths), S3DLIO_OK,
              "ranges landing out of order, into memory");
    CHECK_INT(st.verified, NOBJ, "every object verified, whatever its size");
    CHECK_INT(right_bytes(jobs, mem), NOBJ, "and every byte right");
    CHECK(em.gets > NOBJ, "large objects came in several ranges");
    free_mem(mem);

    CHECK_INT(get_all(S3DLIO_LOCAL_FILE, &o, jobs, &st, mem, paths), S3DLIO_OK, "into files");
    CHECK_INT(st.verified, NOBJ, "files: verified, reading back what landed ahead");

    CHECK_INT(get_all(S3DLIO_LOCAL_DISCARD, &o, jobs, &st, mem, paths), S3DLIO_OK, "discarded");
    CHECK_INT(st.verified, NOBJ, "discarded data verified too");
    CHECK_INT(em.gets, NOBJ, "nothing to read back: one stream per object");

    em.flip_every = 5;
    CHECK_INT(get_all(S3DLIO_LOCAL_MEMORY, &o, jobs, &st, mem, paths), S3DLIO_E_INTEGRITY,
              "a flipped byte is caught");
    CHECK(em.flipped > 0 && st.failures == (uint64_t)em.flipped, "each corrupted object fails");
    int named = 0;
    for (int i = 0; i < NOBJ; i++)
        named += jobs[i].rc == S3DLIO_E_INTEGRITY && strstr(jobs[i].err->message, "MD5") &&
                 strstr(jobs[i].err->message, etags[i]);
    CHECK_INT(named, em.flipped, "the failure names the MD5 and the ETag");
    free_mem(mem);

    em.flip_every = 5;
    CHECK_INT(get_all(S3DLIO_LOCAL_FILE, &o, jobs, &st, mem, paths), S3DLIO_E_INTEGRITY,
              "a flipped byte is caught in files");
    struct stat sb;
    int left = 0;
    for (int i = 0; i < NOBJ; i++)
        left += jobs[i].rc && !stat(paths[i], &sb);
    CHECK_INT(left, 0, "no file at the destination of a corrupted object");
    em.flip_every = 0;

    em.cut_every = 3;
    CHECK_INT(get_all(S3DLIO_LOCAL_MEMORY, &o, jobs, &st, mem, paths), S3DLIO_OK,
              "bodies cut and resumed");
    CHECK(em.cut > 0 && st.retries >= (uint64_t)em.cut, "cuts were retried");
    CHECK_INT(st.verified, NOBJ, "a resumed range keeps the check");
    em.cut_every = 0;
    free_mem(mem);

    /* SSE-KMS: the ETag is not an MD5; the object is not verifiable, never "corrupt" */
    em.sse_kms = true;
    em.flip_every = 0;
    CHECK_INT(get_all(S3DLIO_LOCAL_MEMORY, &o, jobs, &st, mem, paths), S3DLIO_OK, "SSE-KMS object");
    CHECK_INT(st.not_verifiable, 1, "reported as not verifiable");
    CHECK_INT(jobs[0].verified, S3DLIO_VERIFY_UNVERIFIABLE, "that object");
    CHECK(strstr(jobs[0].verify_note, "SSE-KMS") != NULL, "saying why");
    em.sse_kms = false;
    free_mem(mem);
}

static void test_multipart(void)
{
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_job jobs[NOBJ] = {0};
    struct s3dlio_xfer_stats st;
    unsigned char *mem[NOBJ];
    char paths[NOBJ][400];
    compute_etags(true);
    memset(&em, 0, sizeof(em));
    opts(&o);
    o.range_threshold = 64 * MIB; /* the part layout, not the threshold, decides the ranges */

    em.answer_parts = em.multipart = true;
    CHECK_INT(get_all(S3DLIO_LOCAL_DISCARD, &o, jobs, &st, mem, paths), S3DLIO_OK,
              "multipart: layout from the server");
    CHECK_INT(st.verified, NOBJ, "composite ETags verified");
    CHECK(em.heads > 0, "the part layout was asked for");

    em.flip_every = 4;
    CHECK_INT(get_all(S3DLIO_LOCAL_MEMORY, &o, jobs, &st, mem, paths), S3DLIO_E_INTEGRITY,
              "multipart: a flipped byte is caught");
    CHECK(em.flipped > 0 && st.failures == (uint64_t)em.flipped, "each corrupted object fails");
    free_mem(mem);

    em.answer_parts = false; /* a server without partNumber: the layout is guessed */
    em.flip_every = 0;
    CHECK_INT(get_all(S3DLIO_LOCAL_MEMORY, &o, jobs, &st, mem, paths), S3DLIO_OK,
              "multipart: guessed layout");
    CHECK_INT(st.verified, NOBJ, "the guess matched");
    CHECK_INT(right_bytes(jobs, mem), NOBJ, "every byte right");
    free_mem(mem);

    em.flip_every = 4;
    CHECK_INT(get_all(S3DLIO_LOCAL_MEMORY, &o, jobs, &st, mem, paths), S3DLIO_OK,
              "a mismatch under a guessed layout is no failure");
    CHECK(em.flipped > 0 && st.not_verifiable == (uint64_t)em.flipped,
          "... it is reported as not verifiable");
    em.flip_every = 0;
    free_mem(mem);
}

static void test_changed(void)
{
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_job jobs[NOBJ] = {0};
    struct s3dlio_xfer_stats st;
    unsigned char *mem[NOBJ];
    char paths[NOBJ][400];
    compute_etags(false);
    memset(&em, 0, sizeof(em));
    opts(&o);
    o.verify = false;
    o.get_concurrency = 2;

    /* object 0 (3 MiB + 17: four ranges) changes after its first range was fetched */
    em.change_at = 2;
    CHECK_INT(get_all(S3DLIO_LOCAL_FILE, &o, jobs, &st, mem, paths), S3DLIO_E_CHANGED,
              "an object that changes mid-transfer fails");
    CHECK_INT(jobs[0].rc, S3DLIO_E_CHANGED, "as changed");
    CHECK(strstr(jobs[0].err->message, etags[0]) && strstr(jobs[0].err->message, "ffffffff"),
          "naming the old and the new ETag");
    CHECK_INT(st.changed, 1, "counted as changed");
    CHECK_INT(st.objects, NOBJ - 1, "the others complete");
    struct stat sb;
    CHECK(stat(paths[0], &sb) != 0, "no file at its destination");
    CHECK_INT(st.retries, 0, "never retried into a mix of versions");
    em.change_at = 0;
    s3dlio_xfer_jobs_release(jobs, NOBJ);
}

/* A broken answer that runs past its range must not overwrite the next range's bytes. */
static void test_spill(void)
{
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_job jobs[NOBJ] = {0};
    struct s3dlio_xfer_stats st;
    unsigned char *mem[NOBJ];
    char paths[NOBJ][400];
    compute_etags(false);
    memset(&em, 0, sizeof(em));
    opts(&o);
    o.verify = false; /* the bytes themselves are checked below */

    em.spill_every = 2;
    CHECK_INT(get_all(S3DLIO_LOCAL_MEMORY, &o, jobs, &st, mem, paths), S3DLIO_OK,
              "answers running past their range");
    CHECK(em.spilled > 0, "some answers ran past their range");
    CHECK(st.retries >= (uint64_t)em.spilled, "each was refused and its range finished again");
    CHECK_INT(right_bytes(jobs, mem), NOBJ, "every byte right: nothing landed beyond its range");
    em.spill_every = 0;
    free_mem(mem);
}

int main(void)
{
    if (!check_tmpdir(root, sizeof(root), "verify"))
        return 1;
    s3dlio_global_init(NULL);
    put_dataset();
    test_single_part();
    test_multipart();
    test_changed();
    test_spill();
    check_rmtree(root);
    s3dlio_global_cleanup();
    TEST_DONE();
}
