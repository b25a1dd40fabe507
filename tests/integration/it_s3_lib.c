/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every S3 operation of the library against the real local server (RGW, signatures
 * checked): buckets, objects with awkward keys, 0-byte objects, a 2,500-key listing in
 * pages of 100, ranged GETs at the edges, a 20 MiB multipart upload in 5 MiB parts, abort,
 * and batch delete of 1,500 keys in two DeleteObjects requests.
 * Needs the server's environment (run through tests/integration/run-with-server).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../unit/check.h"
#include "s3dlio/s3dlio.h"

struct mem {
    unsigned char *data;
    uint64_t len;
};

static enum s3dlio_rc mem_source(void *ud, uint64_t off, void *buf, size_t len, size_t *got)
{
    struct mem *m = ud;
    size_t n = off >= m->len ? 0 : (m->len - off < len ? (size_t)(m->len - off) : len);
    memcpy(buf, m->data + off, n);
    *got = n;
    return S3DLIO_OK;
}

/* Sink into a buffer at the object offset minus base (the first byte asked for). */
struct mem_sink {
    unsigned char *data;
    uint64_t cap, base, got;
};

static enum s3dlio_rc mem_sink(void *ud, uint64_t off, const void *data, size_t len)
{
    struct mem_sink *s = ud;
    if (off < s->base || off - s->base + len > s->cap)
        return S3DLIO_E_LIMIT;
    memcpy(s->data + (off - s->base), data, len);
    s->got += len;
    return S3DLIO_OK;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)x;
    }
}

static enum s3dlio_rc put_mem(struct s3dlio_backend *be, const char *key, struct mem *m,
                              struct s3dlio_error *err)
{
    struct s3dlio_req req = {.op = S3DLIO_REQ_PUT, .key = key, .length = m->len,
                             .source = mem_source, .source_ud = m};
    enum s3dlio_rc rc = s3dlio_backend_run(be, &req);
    if (err)
        *err = req.err;
    return rc;
}

static enum s3dlio_rc get_range(struct s3dlio_backend *be, const char *key, uint64_t off,
                                uint64_t len, struct mem_sink *s, struct s3dlio_req *out)
{
    struct s3dlio_req req = {.op = S3DLIO_REQ_GET, .key = key, .offset = off, .length = len,
                             .sink = mem_sink, .sink_ud = s};
    s->base = off;
    s->got = 0;
    enum s3dlio_rc rc = s3dlio_backend_run(be, &req);
    if (out)
        *out = req;
    return rc;
}

/* ---- counting wrappers: prove the request pattern (pages, batches) ------------------------ */

static int list_calls, batch_calls;
static size_t batch_max;

static enum s3dlio_rc counting_list(struct s3dlio_backend *be, const struct s3dlio_list_req *req,
                                    struct s3dlio_list_page *page, struct s3dlio_error *err)
{
    list_calls++;
    return s3dlio_backend_s3.list(be, req, page, err);
}

static enum s3dlio_rc counting_batch(struct s3dlio_backend *be, const char *const *keys, size_t n,
                                     struct s3dlio_error *errs, size_t *nfailed,
                                     struct s3dlio_error *err)
{
    batch_calls++;
    if (n > batch_max)
        batch_max = n;
    return s3dlio_backend_s3.remove_batch(be, keys, n, errs, nfailed, err);
}

static struct s3dlio_backend_ops counting_ops;

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_buckets(const struct s3dlio_config *cfg, const char *bucket)
{
    struct s3dlio_uri u;
    struct s3dlio_backend *be = NULL;
    struct s3dlio_error e = {0};
    char text[128];
    snprintf(text, sizeof(text), "s3://%s-tmp", bucket);
    CHECK_INT(s3dlio_uri_parse(&u, text, &e), S3DLIO_OK, "bucket uri");
    CHECK_INT(s3dlio_backend_new(&u, cfg, &be, &e), S3DLIO_OK, "open");
    CHECK_INT(s3dlio_backend_bucket_head(be, &e), S3DLIO_E_NOT_FOUND, "head missing bucket");
    CHECK_STR(e.s3_code, "NoSuchBucket", "head missing bucket code");
    CHECK_INT(s3dlio_backend_bucket_create(be, &e), S3DLIO_OK, "create bucket");
    CHECK_INT(s3dlio_backend_bucket_head(be, &e), S3DLIO_OK, "head bucket");
    unsigned char one = 'x';
    struct mem m = {&one, 1};
    CHECK_INT(put_mem(be, "k", &m, &e), S3DLIO_OK, "put into new bucket");
    s3dlio_error_clear(&e);
    CHECK_INT(s3dlio_backend_bucket_delete(be, &e), S3DLIO_E_S3, "delete non-empty bucket");
    CHECK_STR(e.s3_code, "BucketNotEmpty", "BucketNotEmpty code");
    CHECK_INT(e.http_status, 409, "BucketNotEmpty status");
    CHECK_INT(s3dlio_backend_remove(be, "k", &e), S3DLIO_OK, "delete object");
    CHECK_INT(s3dlio_backend_bucket_delete(be, &e), S3DLIO_OK, "delete bucket");
    CHECK_INT(s3dlio_backend_bucket_head(be, &e), S3DLIO_E_NOT_FOUND, "bucket gone");
    s3dlio_backend_free(be);
    s3dlio_uri_release(&u);
}

static const char *const odd_keys[] = {
    "with space/and more spaces.bin",
    "unicode/\xc3\x9f-\xe6\xbc\xa2\xe5\xad\x97-\xf0\x9f\x98\x80.bin",
    "plus+equals=tilde~star*.bin",
    "percent%25and%.bin",
    "deep/a/b/c/d/e/f/g/h/i/j/k.bin",
    "dots/./x/../y.bin",
    "double//slash.bin",
    "query?amp&hash#.bin",
    "zero-bytes.bin",
};

static void test_odd_keys(struct s3dlio_backend *be)
{
    struct s3dlio_error e = {0};
    for (size_t i = 0; i < sizeof(odd_keys) / sizeof(odd_keys[0]); i++) {
        const char *key = odd_keys[i];
        size_t len = strstr(key, "zero") ? 0 : 1000 + i * 37;
        unsigned char *data = malloc(len + 1), *back = malloc(len + 1);
        fill(data, len, (unsigned)i);
        struct mem m = {data, len};
        CHECK_INT(put_mem(be, key, &m, &e), S3DLIO_OK, key);
        struct s3dlio_stat o = {0};
        CHECK_INT(s3dlio_backend_stat(be, key, &o, &e), S3DLIO_OK, key);
        CHECK_INT(o.size, len, key);
        struct mem_sink s = {back, len + 1, 0, 0};
        struct s3dlio_req r;
        CHECK_INT(get_range(be, key, 0, S3DLIO_LEN_TO_END, &s, &r), S3DLIO_OK, key);
        CHECK_INT(s.got, len, key);
        CHECK(len == 0 || memcmp(back, data, len) == 0, key);
        free(data);
        free(back);
    }
    /* every key lists back exactly as written */
    struct s3dlio_objlist all = {0};
    CHECK_INT(s3dlio_backend_list_all(be, "", NULL, 1000, &all, &e), S3DLIO_OK, "list odd keys");
    for (size_t i = 0; i < sizeof(odd_keys) / sizeof(odd_keys[0]); i++) {
        int found = 0;
        for (size_t k = 0; k < all.n; k++)
            found += !strcmp(all.items[k].key, odd_keys[i]);
        CHECK_INT(found, 1, odd_keys[i]);
    }
    s3dlio_objlist_release(&all);
}

static void test_missing_key(struct s3dlio_backend *be)
{
    unsigned char buf[16];
    struct mem_sink s = {buf, sizeof(buf), 0, 0};
    struct s3dlio_req r;
    CHECK_INT(get_range(be, "no/such/key", 0, S3DLIO_LEN_TO_END, &s, &r), S3DLIO_E_NOT_FOUND,
              "get missing key");
    CHECK_STR(r.err.s3_code, "NoSuchKey", "missing key code");
    CHECK_INT(r.err.http_status, 404, "missing key status");
    CHECK(r.err.request_id[0] != '\0', "missing key has a request id");
    CHECK(strstr(r.err.target, "no/such/key") != NULL, "missing key named");
}

static void test_ranges(struct s3dlio_backend *be)
{
    unsigned char data[1000], back[1000];
    struct s3dlio_error e = {0};
    struct s3dlio_req r;
    fill(data, sizeof(data), 77);
    struct mem m = {data, sizeof(data)};
    CHECK_INT(put_mem(be, "range/obj", &m, &e), S3DLIO_OK, "put range object");
    struct mem_sink s = {back, sizeof(back), 0, 0};
    CHECK_INT(get_range(be, "range/obj", 0, 1, &s, &r), S3DLIO_OK, "first byte");
    CHECK(s.got == 1 && back[0] == data[0], "first byte value");
    CHECK_INT(r.object_size, 1000, "size from Content-Range");
    CHECK_INT(get_range(be, "range/obj", 999, 1, &s, &r), S3DLIO_OK, "last byte");
    CHECK(s.got == 1 && back[0] == data[999], "last byte value");
    CHECK_INT(get_range(be, "range/obj", 500, S3DLIO_LEN_TO_END, &s, &r), S3DLIO_OK, "open range");
    CHECK(s.got == 500 && !memcmp(back, data + 500, 500), "open range bytes");
    CHECK_INT(get_range(be, "range/obj", 990, 100, &s, &r), S3DLIO_OK, "range across the end");
    CHECK_INT(s.got, 10, "range across the end is cut at the end");
    CHECK_INT(get_range(be, "range/obj", 1000, 10, &s, &r), S3DLIO_E_S3, "range past end");
    CHECK_INT(r.err.http_status, 416, "past end status");
    CHECK_STR(r.err.s3_code, "InvalidRange", "past end code");
}

struct bulk {
    struct s3dlio_req *reqs;
    size_t next, n, done, failed;
    struct mem body;
    char (*keys)[32];
};

static void bulk_done(struct s3dlio_req *req, enum s3dlio_rc rc, void *ud)
{
    (void)req;
    struct bulk *b = ud;
    b->done++;
    b->failed += rc != S3DLIO_OK;
}

/* PUT n small objects "<prefix>NNNNN" with up to 32 in flight. */
static void put_many(struct s3dlio_backend *be, const char *prefix, size_t n, struct bulk *b)
{
    static unsigned char byte = 'k';
    memset(b, 0, sizeof(*b));
    b->n = n;
    b->reqs = calloc(n, sizeof(*b->reqs));
    b->keys = calloc(n, sizeof(*b->keys));
    b->body = (struct mem){&byte, 1};
    size_t inflight = 0;
    while (b->done < n) {
        while (b->next < n && b->next - b->done < 32) {
            size_t i = b->next++;
            snprintf(b->keys[i], sizeof(b->keys[i]), "%s%05zu", prefix, i);
            b->reqs[i] = (struct s3dlio_req){.op = S3DLIO_REQ_PUT, .key = b->keys[i], .length = 1,
                                             .source = mem_source, .source_ud = &b->body,
                                             .done = bulk_done, .done_ud = b};
            if (s3dlio_backend_submit(be, &b->reqs[i]) != S3DLIO_OK) {
                b->done++;
                b->failed++;
            }
        }
        s3dlio_backend_progress(be, 100, &inflight);
    }
}

static void free_bulk(struct bulk *b)
{
    free(b->reqs);
    free(b->keys);
}

static void test_listing_2500(struct s3dlio_backend *be)
{
    struct bulk b;
    struct s3dlio_error e = {0};
    put_many(be, "list2500/k", 2500, &b);
    CHECK_INT(b.failed, 0, "2500 puts");
    struct s3dlio_objlist all = {0};
    list_calls = 0;
    CHECK_INT(s3dlio_backend_list_all(be, "list2500/", NULL, 100, &all, &e), S3DLIO_OK, "list 2500");
    CHECK_INT(all.n, 2500, "2500 keys listed");
    CHECK_INT(list_calls, 25, "25 pages of 100");
    int in_order = 1;
    for (size_t i = 0; i < all.n && i < 2500; i++)
        in_order &= !strcmp(all.items[i].key, b.keys[i]);
    CHECK(in_order, "every key once, in order");
    s3dlio_objlist_release(&all);
    /* one level with a delimiter: CommonPrefixes */
    CHECK_INT(s3dlio_backend_list_all(be, "", "/", 1000, &all, &e), S3DLIO_OK, "delimited list");
    int has = 0;
    for (size_t i = 0; i < all.nprefixes; i++)
        has += !strcmp(all.prefixes[i], "list2500/");
    CHECK_INT(has, 1, "CommonPrefixes has list2500/");
    s3dlio_objlist_release(&all);
    free_bulk(&b);
}

static void test_batch_delete_1500(struct s3dlio_backend *be)
{
    struct bulk b;
    struct s3dlio_error e = {0};
    put_many(be, "del1500/k", 1500, &b);
    CHECK_INT(b.failed, 0, "1500 puts");
    const char **keys = calloc(1500, sizeof(*keys));
    for (size_t i = 0; i < 1500; i++)
        keys[i] = b.keys[i];
    size_t nfailed = 99;
    batch_calls = 0;
    batch_max = 0;
    CHECK_INT(s3dlio_backend_remove_many(be, keys, 1500, &nfailed, &e), S3DLIO_OK, "delete 1500");
    CHECK_INT(nfailed, 0, "no per-key failures");
    CHECK_INT(batch_calls, 2, "two DeleteObjects batches");
    CHECK_INT(batch_max, 1000, "largest batch is 1000");
    struct s3dlio_objlist all = {0};
    CHECK_INT(s3dlio_backend_list_all(be, "del1500/", NULL, 1000, &all, &e), S3DLIO_OK, "list after");
    CHECK_INT(all.n, 0, "all 1500 gone");
    s3dlio_objlist_release(&all);
    free(keys);
    free_bulk(&b);
}

static void test_multipart_20mib(struct s3dlio_backend *be)
{
    const uint64_t size = 20u << 20, part = 5u << 20;
    struct s3dlio_error e = {0};
    unsigned char *data = malloc(size), *back = malloc(size);
    fill(data, size, 2020);
    /* the protocol steps by hand: create, two parts sent out of order, complete */
    struct s3dlio_req c = {.op = S3DLIO_REQ_MPU_CREATE, .key = "mpu/20mib.bin"};
    CHECK_INT(s3dlio_backend_run(be, &c), S3DLIO_OK, "create upload");
    struct s3dlio_part parts[4];
    for (int i = 3; i >= 0 && c.upload_id_out; i--) {
        struct mem m = {data + (size_t)i * part, part};
        struct s3dlio_req r = {.op = S3DLIO_REQ_PUT_PART, .key = "mpu/20mib.bin", .length = part,
                               .source = mem_source, .source_ud = &m, .upload_id = c.upload_id_out,
                               .part_number = i + 1};
        CHECK_INT(s3dlio_backend_run(be, &r), S3DLIO_OK, "upload part");
        parts[i].number = i + 1;
        snprintf(parts[i].etag, sizeof(parts[i].etag), "%s", r.etag);
    }
    struct s3dlio_req done = {.op = S3DLIO_REQ_MPU_COMPLETE, .key = "mpu/20mib.bin",
                              .upload_id = c.upload_id_out, .parts = parts, .nparts = 4};
    CHECK_INT(s3dlio_backend_run(be, &done), S3DLIO_OK, "complete upload");
    free(c.upload_id_out);
    struct s3dlio_stat o = {0};
    CHECK_INT(s3dlio_backend_stat(be, "mpu/20mib.bin", &o, &e), S3DLIO_OK, "stat multipart");
    CHECK_INT(o.size, size, "multipart size");
    size_t el = strlen(o.etag);
    CHECK(el > 2 && !strcmp(o.etag + el - 2, "-4"), "ETag says 4 parts");
    struct mem_sink s = {back, size, 0, 0};
    CHECK_INT(get_range(be, "mpu/20mib.bin", 0, S3DLIO_LEN_TO_END, &s, NULL), S3DLIO_OK, "get 20 MiB");
    CHECK(s.got == size && !memcmp(back, data, size), "20 MiB byte for byte");
    free(data);
    free(back);
}

static void test_multipart_abort(struct s3dlio_backend *be)
{
    struct s3dlio_error e = {0};
    struct s3dlio_req c = {.op = S3DLIO_REQ_MPU_CREATE, .key = "mpu/aborted.bin"};
    CHECK_INT(s3dlio_backend_run(be, &c), S3DLIO_OK, "create upload");
    char *upload = c.upload_id_out;
    unsigned char *p = calloc(1, 5u << 20);
    struct mem m = {p, 5u << 20};
    struct s3dlio_req r = {.op = S3DLIO_REQ_PUT_PART, .key = "mpu/aborted.bin", .length = m.len,
                           .source = mem_source, .source_ud = &m, .upload_id = upload,
                           .part_number = 1};
    CHECK_INT(s3dlio_backend_run(be, &r), S3DLIO_OK, "upload part");
    struct s3dlio_req ab = {.op = S3DLIO_REQ_MPU_ABORT, .key = "mpu/aborted.bin", .upload_id = upload};
    CHECK_INT(s3dlio_backend_run(be, &ab), S3DLIO_OK, "abort");
    /* RGW 16 answers a Complete after Abort with 500 InternalError; UploadPart is the
     * portable proof that the upload is gone */
    struct s3dlio_req r2 = r;
    r2.part_number = 2;
    CHECK_INT(s3dlio_backend_run(be, &r2), S3DLIO_E_NOT_FOUND, "upload part after abort fails");
    CHECK_STR(r2.err.s3_code, "NoSuchUpload", "NoSuchUpload code");
    struct s3dlio_stat o = {0};
    CHECK_INT(s3dlio_backend_stat(be, "mpu/aborted.bin", &o, &e), S3DLIO_E_NOT_FOUND, "no object");
    free(p);
    free(upload);
}

static void empty_bucket(struct s3dlio_backend *be)
{
    struct s3dlio_objlist all = {0};
    struct s3dlio_error e = {0};
    size_t nf = 0;
    s3dlio_backend_list_all(be, "", NULL, 1000, &all, &e);
    const char **keys = calloc(all.n + 1, sizeof(*keys));
    for (size_t i = 0; i < all.n; i++)
        keys[i] = all.items[i].key;
    if (all.n)
        CHECK_INT(s3dlio_backend_remove_many(be, keys, all.n, &nf, &e), S3DLIO_OK, "cleanup");
    free(keys);
    s3dlio_objlist_release(&all);
    CHECK_INT(s3dlio_backend_bucket_delete(be, &e), S3DLIO_OK, "cleanup bucket");
}

int main(void)
{
    struct s3dlio_config cfg = {0};
    struct s3dlio_error e = {0};
    char bucket[64], text[96];
    if (s3dlio_global_init(&e) || s3dlio_config_load(&cfg, NULL, &e)) {
        fprintf(stderr, "setup failed: %s\n", e.message);
        return 1;
    }
    snprintf(bucket, sizeof(bucket), "it-lib-%ld-%ld", (long)getpid(), (long)time(NULL) % 100000);
    test_buckets(&cfg, bucket);
    snprintf(text, sizeof(text), "s3://%s/", bucket);
    struct s3dlio_uri u;
    struct s3dlio_backend *be = NULL;
    if (s3dlio_uri_parse(&u, text, &e) || s3dlio_backend_new(&u, &cfg, &be, &e) ||
        s3dlio_backend_bucket_create(be, &e)) {
        fprintf(stderr, "cannot set up bucket %s: %s\n", bucket, e.message);
        return 1;
    }
    counting_ops = s3dlio_backend_s3;
    counting_ops.list = counting_list;
    counting_ops.remove_batch = counting_batch;
    be->ops = &counting_ops;
    test_odd_keys(be);
    test_missing_key(be);
    test_ranges(be);
    test_listing_2500(be);
    test_batch_delete_1500(be);
    test_multipart_20mib(be);
    test_multipart_abort(be);
    empty_bucket(be);
    s3dlio_backend_free(be);
    s3dlio_uri_release(&u);
    s3dlio_config_release(&cfg);
    s3dlio_global_cleanup();
    TEST_DONE();
}
