/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where a checkpoint's objects live, and the small requests made outside the transfer
 * engine (manifest, latest pointer, multipart upload control), retried as the engine
 * retries: transient failures with backoff, connection failures for the retry time.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ckpt/ckpt_int.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/printable.h"
#include "util/retry.h"

const char *s3dlio_ckpt_name_problem(const char *name)
{
    if (!name || !name[0])
        return "it is empty";
    if (strchr(name, '/'))
        return "it contains '/'";
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return "'.' and '..' are not names";
    if (!strcmp(name, S3DLIO_CKPT_LATEST))
        return "'latest' names the pointer to the newest checkpoint";
    if (strlen(name) > S3DLIO_CKPT_NAME_MAX)
        return "it is longer than 200 bytes";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return "it contains a control character";
    return NULL;
}

enum s3dlio_rc ckpt_check_name(const char *name, const char *op, struct s3dlio_error *err)
{
    const char *why = s3dlio_ckpt_name_problem(name);
    char shown[256];
    if (!why)
        return S3DLIO_OK;
    return s3dlio_error_set(err, S3DLIO_E_USAGE, op, name ? s3dlio_printable(name, shown, sizeof(shown), true) : "",
                            "not a checkpoint name: %s", why);
}

enum s3dlio_rc ckpt_place_parse(const char *uri, const char *op, struct ckpt_place *p,
                                struct s3dlio_error *err)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->text, sizeof(p->text), "%s", uri ? uri : "");
    enum s3dlio_rc rc = s3dlio_uri_parse(&p->uri, uri ? uri : "", err);
    if (rc)
        return rc;
    /* "s3://b/ckpts" and "s3://b/ckpts/" are the same place: checkpoints are directories */
    size_t n = strlen(p->uri.key);
    p->prefix = s3dlio_xmalloc(n + 2);
    snprintf(p->prefix, n + 2, "%s%s", p->uri.key, n && p->uri.key[n - 1] != '/' ? "/" : "");
    (void)op;
    return S3DLIO_OK;
}

void ckpt_place_release(struct ckpt_place *p)
{
    s3dlio_uri_release(&p->uri);
    free(p->prefix);
    p->prefix = NULL;
}

char *ckpt_key(const struct ckpt_place *p, const char *name, const char *rest)
{
    size_t n = strlen(p->prefix) + strlen(name) + strlen(rest) + 2;
    char *k = s3dlio_xmalloc(n);
    snprintf(k, n, "%s%s/%s", p->prefix, name, rest);
    return k;
}

char *ckpt_latest_key(const struct ckpt_place *p)
{
    size_t n = strlen(p->prefix) + sizeof(S3DLIO_CKPT_LATEST);
    char *k = s3dlio_xmalloc(n);
    snprintf(k, n, "%s%s", p->prefix, S3DLIO_CKPT_LATEST);
    return k;
}

void ckpt_uri_of(const struct ckpt_place *p, const char *name, char *out, size_t outlen)
{
    if (!strcmp(p->uri.scheme, "file"))
        snprintf(out, outlen, "file://%s%s/", p->prefix, name);
    else
        snprintf(out, outlen, "%s://%s/%s%s/", p->uri.scheme, p->uri.bucket, p->prefix, name);
}

/* ---- requests with retries ---------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct membuf {
    char *data;
    size_t len, max;
    const void *src;          /* PUT */
    struct s3dlio_error *err;
};

/* Run req (from tmpl) until it succeeds or the retry policy gives up; req holds the last. */
static enum s3dlio_rc run_retried(struct s3dlio_backend *be, const struct s3dlio_req *tmpl,
                                  struct s3dlio_req *req, struct membuf *buf)
{
    const struct s3dlio_retry_policy pol = S3DLIO_RETRY_POLICY_DEFAULT;
    uint64_t rng = s3dlio_retry_seed((uint64_t)getpid(), 0, now_ns()), first_fail = 0;
    for (int attempt = 0;; attempt++) {
        *req = *tmpl;
        if (buf)
            buf->len = 0; /* a GET retried starts over */
        uint64_t t0 = now_ns();
        enum s3dlio_rc rc = s3dlio_backend_run(be, req);
        if (!rc)
            return rc;
        if (!req->err.rc)
            s3dlio_error_set(&req->err, rc, "checkpoint", tmpl->key, "%s", s3dlio_rc_str(rc));
        if (!first_fail)
            first_fail = s3dlio_retry_budget_start(&req->err, t0, now_ns());
        if (!s3dlio_retry_allowed(&pol, &req->err, attempt + 1, (now_ns() - first_fail) / 1000000))
            return rc;
        uint64_t ms = s3dlio_retry_backoff_ms(&rng, attempt + 1, pol.base_ms, pol.cap_ms);
        S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_XFER, "'%s': %s; retrying in %" PRIu64 " ms",
                   tmpl->key, req->err.message, ms);
        usleep((useconds_t)(ms * 1000));
    }
}

static enum s3dlio_rc mem_sink(void *ud, uint64_t offset, const void *data, size_t len)
{
    struct membuf *b = ud;
    if (offset != b->len || b->len + len > b->max)
        return s3dlio_error_set(b->err, S3DLIO_E_LIMIT, "get", "", "larger than %zu bytes", b->max);
    b->data = s3dlio_xrealloc(b->data, b->len + len + 1);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return S3DLIO_OK;
}

static enum s3dlio_rc mem_source(void *ud, uint64_t offset, void *buf, size_t len, size_t *got)
{
    struct membuf *b = ud;
    size_t n = offset < b->len ? b->len - (size_t)offset : 0;
    *got = n < len ? n : len;
    memcpy(buf, (const char *)b->src + offset, *got);
    return S3DLIO_OK;
}

enum s3dlio_rc ckpt_get_small(struct s3dlio_backend *be, const char *key, size_t max, char **data,
                              size_t *len, struct s3dlio_error *err)
{
    struct s3dlio_error sink_err = {0};
    struct membuf b = {.max = max, .err = &sink_err};
    struct s3dlio_req tmpl = {.op = S3DLIO_REQ_GET, .key = key, .length = S3DLIO_LEN_TO_END,
                              .sink = mem_sink, .sink_ud = &b},
                      req;
    enum s3dlio_rc rc = run_retried(be, &tmpl, &req, &b);
    if (rc) {
        free(b.data);
        *err = sink_err.rc ? sink_err : req.err;
        snprintf(err->target, sizeof(err->target), "%s", key);
        return rc;
    }
    if (!b.data)
        b.data = s3dlio_xcalloc(1, 1);
    *data = b.data;
    *len = b.len;
    return S3DLIO_OK;
}

enum s3dlio_rc ckpt_put_small(struct s3dlio_backend *be, const char *key, const void *data,
                              size_t len, struct s3dlio_error *err)
{
    struct membuf b = {.src = data, .len = len};
    struct s3dlio_req tmpl = {.op = S3DLIO_REQ_PUT, .key = key, .length = len,
                              .source = mem_source, .source_ud = &b},
                      req;
    enum s3dlio_rc rc = run_retried(be, &tmpl, &req, NULL);
    if (rc)
        *err = req.err;
    return rc;
}

enum s3dlio_rc ckpt_mpu_create(struct s3dlio_backend *be, const char *key, uint64_t part_size,
                               char **upload_id, struct s3dlio_error *err)
{
    struct s3dlio_req tmpl = {.op = S3DLIO_REQ_MPU_CREATE, .key = key, .meta_part_size = part_size},
                      req;
    enum s3dlio_rc rc = run_retried(be, &tmpl, &req, NULL);
    if (rc) {
        *err = req.err;
        return rc;
    }
    *upload_id = req.upload_id_out;
    return S3DLIO_OK;
}

/*
 * A Complete whose answer was lost and whose retry meets NoSuchUpload may have succeeded:
 * the object is there with the size of the file and a multipart ETag.
 */
static bool completed_anyway(struct s3dlio_backend *be, const char *key, uint64_t size,
                             char etag[80])
{
    struct s3dlio_req req = {.op = S3DLIO_REQ_HEAD, .key = key};
    if (s3dlio_backend_run(be, &req) || req.object_size != size || !strchr(req.etag, '-'))
        return false;
    memcpy(etag, req.etag, 80);
    return true;
}

enum s3dlio_rc ckpt_head_etag(struct s3dlio_backend *be, const char *key, uint64_t size,
                              char etag[80], struct s3dlio_error *err)
{
    struct s3dlio_req tmpl = {.op = S3DLIO_REQ_HEAD, .key = key}, req;
    enum s3dlio_rc rc = run_retried(be, &tmpl, &req, NULL);
    if (rc) {
        *err = req.err;
        return rc;
    }
    /* what was just written, or someone wrote over it since: then nothing can be pinned */
    if (req.object_size != size || !req.etag[0])
        return s3dlio_error_set(err, S3DLIO_E_CHANGED, "checkpoint save", key,
                                "the object has %" PRIu64 " bytes and ETag '%s' just after it was "
                                "written with %" PRIu64, req.object_size, req.etag, size);
    memcpy(etag, req.etag, 80);
    return S3DLIO_OK;
}

enum s3dlio_rc ckpt_mpu_complete(struct s3dlio_backend *be, const char *key, const char *upload_id,
                                 const struct s3dlio_part *parts, size_t n, uint64_t size,
                                 char etag[80], struct s3dlio_error *err)
{
    struct s3dlio_req tmpl = {.op = S3DLIO_REQ_MPU_COMPLETE, .key = key, .upload_id = upload_id,
                              .parts = parts, .nparts = n},
                      req;
    enum s3dlio_rc rc = run_retried(be, &tmpl, &req, NULL);
    if (!rc) {
        memcpy(etag, req.etag, 80);
        return S3DLIO_OK;
    }
    if (!strcmp(req.err.s3_code, "NoSuchUpload") && completed_anyway(be, key, size, etag))
        return S3DLIO_OK;
    *err = req.err;
    return rc;
}

void ckpt_mpu_abort(struct s3dlio_backend *be, const char *key, const char *upload_id)
{
    struct s3dlio_req tmpl = {.op = S3DLIO_REQ_MPU_ABORT, .key = key, .upload_id = upload_id}, req;
    if (run_retried(be, &tmpl, &req, NULL))
        S3DLIO_LOG(S3DLIO_LOG_WARN, S3DLIO_SUB_XFER,
                   "'%s': the multipart upload could not be aborted (%s); its parts stay until a "
                   "bucket lifecycle rule removes them", key, req.err.message);
}

/* ---- pointer, manifest, listing ----------------------------------------------------------- */

enum s3dlio_rc ckpt_read_latest(struct s3dlio_backend *be, const struct ckpt_place *p,
                                char name[S3DLIO_CKPT_NAME_MAX + 1], struct s3dlio_error *err)
{
    char *key = ckpt_latest_key(p), *text = NULL;
    size_t len = 0;
    name[0] = '\0';
    enum s3dlio_rc rc = ckpt_get_small(be, key, S3DLIO_CKPT_NAME_MAX + 64, &text, &len, err);
    if (rc == S3DLIO_E_NOT_FOUND) {
        rc = S3DLIO_OK;
        *err = (struct s3dlio_error){0}; /* no pointer is an answer, not an error to pass on */
    } else if (!rc) {
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
            text[--len] = '\0';
        if (s3dlio_ckpt_name_problem(text))
            rc = s3dlio_error_set(err, S3DLIO_E_PARSE, "checkpoint", key,
                                  "the latest pointer does not hold a checkpoint name");
        else
            snprintf(name, S3DLIO_CKPT_NAME_MAX + 1, "%s", text);
    }
    free(text);
    free(key);
    return rc;
}

enum s3dlio_rc ckpt_list_objects(struct s3dlio_backend *be, const struct ckpt_place *p,
                                 const char *name, struct s3dlio_objlist *out,
                                 struct s3dlio_error *err)
{
    char *prefix = ckpt_key(p, name, "");
    enum s3dlio_rc rc = s3dlio_backend_list_all(be, prefix, NULL, 1000, out, err);
    free(prefix);
    return rc;
}

enum s3dlio_rc ckpt_fetch_manifest(struct s3dlio_backend *be, const struct ckpt_place *p,
                                   const char *name, char **text, size_t *len,
                                   struct s3dlio_error *err)
{
    char *key = ckpt_key(p, name, "manifest.json"), where[1400];
    enum s3dlio_rc rc = ckpt_get_small(be, key, CKPT_MANIFEST_MAX, text, len, err);
    free(key);
    if (rc != S3DLIO_E_NOT_FOUND)
        return rc;
    struct s3dlio_objlist objs = {0};
    struct s3dlio_error lerr = {0};
    bool some = !ckpt_list_objects(be, p, name, &objs, &lerr) && objs.n > 0;
    s3dlio_objlist_release(&objs);
    ckpt_uri_of(p, name, where, sizeof(where));
    *err = (struct s3dlio_error){0}; /* not the GET's 404: what it means */
    return s3dlio_error_set(err, S3DLIO_E_NOT_FOUND, "checkpoint", where,
                            some ? "incomplete: it has no manifest.json (its save did not finish)"
                                 : "no such checkpoint (see 'checkpoint list')");
}
