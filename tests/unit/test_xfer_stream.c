/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Uploads from a stream of unknown length (put -): on an in-memory multipart backend, one
 * PUT within the threshold, parts as they fill beyond it, retries resent from the part's
 * buffer, aborts on failure and cancel, the 10,000-part limit.
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

static char root[256];

/* ---- uploads from a stream, on a multipart backend in memory ---------------------------------- */

#define MEM_PARTS 10001
static struct {
    unsigned char *part[MEM_PARTS + 1], *obj; /* bodies as received (the last attempt's) */
    uint64_t part_len[MEM_PARTS + 1], obj_len;
    int puts, creates, completes, aborts, parts_in_flight, max_parts_in_flight;
    struct s3dlio_req *pending[64];
    int npending;
} mem;
/* UploadPart `part` fails `times` times with `status`; cancel is raised once part 3 is in */
static struct mem_fault {
    int part, times, status;
    volatile sig_atomic_t *cancel;
} mem_fault;

/* The body, read through the source like the S3 backend does; checked against Content-MD5. */
static enum s3dlio_rc mem_take_body(struct s3dlio_req *req, unsigned char **to, uint64_t *to_len)
{
    unsigned char *b = malloc(req->length + 1);
    char md5[25];
    size_t got = 0;
    for (uint64_t at = 0; at < req->length; at += got)
        if (req->source(req->source_ud, at, b + at, (size_t)(req->length - at), &got) || !got)
            break;
    s3dlio_md5_base64(b, (size_t)req->length, md5);
    if (req->content_md5 && strcmp(md5, req->content_md5)) {
        free(b);
        return s3dlio_error_set(&req->err, S3DLIO_E_S3, "put", req->key, "BadDigest");
    }
    free(*to);
    *to = b;
    *to_len = req->length;
    snprintf(req->etag, sizeof(req->etag), "etag-%d", req->part_number);
    return S3DLIO_OK;
}

static enum s3dlio_rc mem_complete(struct s3dlio_req *req)
{
    mem.obj_len = 0;
    for (size_t i = 0; i < req->nparts; i++) {
        char want[80];
        size_t n = i + 1;
        snprintf(want, sizeof(want), "etag-%zu", n);
        if (req->parts[i].number != (int)n || strcmp(req->parts[i].etag, want))
            return s3dlio_error_set(&req->err, S3DLIO_E_S3, "put", req->key, "InvalidPart");
        mem.obj = realloc(mem.obj, mem.obj_len + mem.part_len[n] + 1);
        memcpy(mem.obj + mem.obj_len, mem.part[n], mem.part_len[n]);
        mem.obj_len += mem.part_len[n];
    }
    mem.completes++;
    return S3DLIO_OK;
}

static enum s3dlio_rc mem_part(struct s3dlio_req *req)
{
    int n = req->part_number;
    if (n < 1 || n > MEM_PARTS)
        return s3dlio_error_set(&req->err, S3DLIO_E_S3, "put", req->key, "InvalidArgument");
    enum s3dlio_rc rc = mem_take_body(req, &mem.part[n], &mem.part_len[n]);
    if (!rc && n == mem_fault.part && mem_fault.times-- > 0) {
        rc = s3dlio_error_set(&req->err, S3DLIO_E_S3, "put", req->key, "injected");
        req->err.http_status = mem_fault.status;
    }
    if (++mem.parts_in_flight > mem.max_parts_in_flight)
        mem.max_parts_in_flight = mem.parts_in_flight;
    return rc;
}

static enum s3dlio_rc mem_submit(struct s3dlio_backend *be, struct s3dlio_req *req)
{
    (void)be;
    s3dlio_error_clear(&req->err);
    enum s3dlio_rc rc = S3DLIO_OK;
    if (req->op == S3DLIO_REQ_PUT)
        mem.puts++, rc = mem_take_body(req, &mem.obj, &mem.obj_len);
    else if (req->op == S3DLIO_REQ_PUT_PART)
        rc = mem_part(req);
    else if (req->op == S3DLIO_REQ_MPU_CREATE)
        mem.creates++, req->upload_id_out = strdup("upload-1");
    else if (req->op == S3DLIO_REQ_MPU_COMPLETE)
        rc = mem_complete(req);
    else if (req->op == S3DLIO_REQ_MPU_ABORT)
        mem.aborts++;
    else
        return S3DLIO_E_UNSUPPORTED;
    req->err.rc = rc;
    mem.pending[mem.npending++] = req; /* done from the next progress, as a real backend */
    return S3DLIO_OK;
}

static enum s3dlio_rc mem_progress(struct s3dlio_backend *be, int timeout_ms, size_t *inflight)
{
    (void)be, (void)timeout_ms;
    int n = mem.npending;
    mem.npending = 0;
    for (int i = 0; i < n; i++) {
        struct s3dlio_req *r = mem.pending[i];
        if (r->op == S3DLIO_REQ_PUT_PART && !r->err.rc && mem_fault.cancel && r->part_number == 3)
            (*mem_fault.cancel)++;
        mem.parts_in_flight -= r->op == S3DLIO_REQ_PUT_PART;
        r->done(r, r->err.rc, r->done_ud);
    }
    if (inflight)
        *inflight = (size_t)mem.npending;
    return S3DLIO_OK;
}

/* n bytes through a pipe, written by a child in pieces, so that the input comes in bursts. */
static int stream_pipe(const unsigned char *d, size_t n, pid_t *child)
{
    int p[2];
    if (pipe(p))
        return -1;
    if (!(*child = fork())) {
        close(p[0]);
        for (size_t at = 0, w = 0; at < n; at += w) {
            struct timespec ts = {0, 200000};
            w = (size_t)write(p[1], d + at, n - at < 300000 ? n - at : 300000);
            nanosleep(&ts, NULL);
        }
        _exit(0);
    }
    close(p[1]);
    return p[0];
}

/* Upload n pseudo-random bytes through a pipe (or fd's input, when fd >= 0) as key "stream";
 * S3DLIO_E_INTEGRITY when what landed is not them. */
static enum s3dlio_rc stream_put(struct s3dlio_backend *be, const struct s3dlio_xfer_opts *o,
                                 size_t n, int fd, struct s3dlio_xfer_job *job,
                                 struct s3dlio_xfer_stats *st)
{
    unsigned char *d = malloc(n + 1);
    pid_t child = 0;
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++)
        x ^= x << 13, x ^= x >> 7, x ^= x << 17, d[i] = (unsigned char)x;
    for (int i = 0; i <= MEM_PARTS; i++)
        free(mem.part[i]);
    free(mem.obj);
    memset(&mem, 0, sizeof(mem));
    mem.obj_len = UINT64_MAX;
    if (fd < 0)
        fd = stream_pipe(d, n, &child);
    s3dlio_xfer_jobs_release(job, 1); /* a run before this one may have failed it */
    *job = (struct s3dlio_xfer_job){.dir = S3DLIO_XFER_PUT, .key = "stream", .fd = fd,
                                    .size = S3DLIO_SIZE_UNKNOWN, .local = S3DLIO_LOCAL_STREAM};
    enum s3dlio_rc rc = s3dlio_xfer_run(be, job, 1, o, st);
    close(fd);
    if (child > 0)
        waitpid(child, NULL, 0);
    bool same = mem.obj_len == n && (!n || !memcmp(mem.obj, d, n));
    free(d);
    return rc ? rc : same ? S3DLIO_OK : S3DLIO_E_INTEGRITY;
}

#define MIB (1u << 20)
static const struct stream_case {
    const char *name;
    size_t size;
    uint64_t part, threshold;
    int fail_part, fail_times, fail_status;
    bool cancel;
    enum s3dlio_rc rc;
    const char *msg; /* in the error */
    int puts, creates, completes, aborts, retries;
} stream_cases[] = {
    {"within the threshold: one PUT of 3 buffers", 5 * MIB / 2, MIB, 3 * MIB, 0, 0, 0, false,
     S3DLIO_OK, NULL, 1, 0, 0, 0, 0},
    {"empty input: an empty object", 0, MIB, 3 * MIB, 0, 0, 0, false, S3DLIO_OK, NULL, 1, 0, 0, 0, 0},
    {"multipart: a part that got 503 is sent again from its buffer", 21 * MIB / 2, MIB, MIB, 3, 1,
     503, false, S3DLIO_OK, NULL, 0, 1, 1, 0, 1},
    {"a part denied: the upload is aborted", 6 * MIB, MIB, MIB, 2, 99, 403, false, S3DLIO_E_S3,
     "injected", 0, 1, 0, 1, 0},
    {"cancelled mid-way: the upload is aborted", 40 * MIB, MIB, MIB, 0, 0, 0, true,
     S3DLIO_E_ABORTED, "interrupted", 0, 1, 0, 1, 0},
    {"10,000 parts: the most S3 takes", 10000, 1, 0, 0, 0, 0, false, S3DLIO_OK, NULL, 0, 1, 1, 0, 0},
    {"10,001 parts: fails, naming the fix, and never completes", 10001, 1, 0, 0, 0, 0, false,
     S3DLIO_E_LIMIT, "use a larger --part-size", 0, 1, 0, 1, 0},
};

static void test_stream_put(void)
{
    struct s3dlio_backend *be = xfer_fixture_backend(root);
    struct s3dlio_backend_ops ops = s3dlio_backend_file;
    ops.submit = mem_submit, ops.progress = mem_progress, ops.multipart = true;
    be->ops = &ops;
    struct s3dlio_xfer_opts o;
    struct s3dlio_xfer_stats st;
    struct s3dlio_xfer_job job = {0};
    volatile sig_atomic_t cancel = 0;
    for (size_t i = 0; i < sizeof(stream_cases) / sizeof(stream_cases[0]); i++) {
        const struct stream_case *c = &stream_cases[i];
        xfer_fixture_opts(&o);
        o.part_size = c->part;
        o.multipart_threshold = c->threshold;
        o.put_concurrency = 2;
        o.verify = o.hash_payload = true;
        o.cancel = c->cancel ? &cancel : NULL;
        mem_fault = (struct mem_fault){c->fail_part, c->fail_times, c->fail_status, o.cancel};
        CHECK_INT(stream_put(be, &o, c->size, -1, &job, &st), c->rc, c->name);
        CHECK(!c->msg || (job.err && strstr(job.err->message, c->msg)), c->name);
        CHECK(mem.puts == c->puts && mem.creates == c->creates && mem.completes == c->completes &&
                  mem.aborts == c->aborts, c->name);
        CHECK_INT(st.retries, c->retries, c->name);
        CHECK(mem.max_parts_in_flight <= 2, "at most --put-concurrency parts in flight");
        CHECK(c->rc || job.bytes == c->size, "bytes counted once");
    }
    int dir = open(root, O_RDONLY | O_DIRECTORY);
    CHECK_INT(stream_put(be, &o, 0, dir, &job, &st), S3DLIO_E_IO, "unreadable input fails");
    CHECK(strstr(job.err->message, "reading the input failed") != NULL, "... saying so");
    s3dlio_xfer_jobs_release(&job, 1);
    s3dlio_backend_free(be);
}

int main(void)
{
    if (!check_tmpdir(root, sizeof(root), "xstream"))
        return 1;
    s3dlio_global_init(NULL);
    test_stream_put();
    check_rmtree(root);
    s3dlio_global_cleanup();
    TEST_DONE();
}
