/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The s3:// backend: the ops table over the S3 client (one curl multi per backend). Every
 * request of the transfer engine, data or control, runs asynchronously here; pinned GETs
 * are checked before their first body byte (see s3dlio_req in backend.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "s3/s3_client.h"
#include "s3/s3_ops.h"
#include "s3dlio/backend.h"
#include "util/alloc.h"

/* Connections per backend when the configuration does not say (--max-connections). */
#define S3_DEFAULT_MAX_CONNECTIONS 200

struct s3_state {
    struct s3dlio_s3_client *client;
    const struct s3dlio_config *cfg;
    /* requests finished without I/O (empty ranges), reported by the next progress call */
    struct s3dlio_req **ready;
    size_t nready, ready_alloc;
};

/* What one in-flight request needs besides the s3dlio_req. */
struct s3_inflight {
    struct s3dlio_s3_call call;
    struct s3dlio_req *req;
    struct s3dlio_buf body; /* CompleteMultipartUpload XML */
    char range[64];
    char part[16];
    char meta[24];
    char if_match[84];
    struct s3dlio_buf copy_source; /* CopyObject / UploadPartCopy: "/bucket/key", encoded */
};

static struct s3_state *st(struct s3dlio_backend *be)
{
    return be->state;
}

static enum s3dlio_rc s3_open(struct s3dlio_backend *be, const struct s3dlio_config *cfg,
                              struct s3dlio_error *err)
{
    enum s3dlio_rc rc = s3dlio_config_validate(cfg, err);
    if (rc)
        return rc;
    struct s3_state *s = s3dlio_xcalloc(1, sizeof(*s));
    s->cfg = cfg;
    rc = s3dlio_s3_client_new(cfg, cfg->max_connections > 0 ? cfg->max_connections
                                                             : S3_DEFAULT_MAX_CONNECTIONS,
                              &s->client, err);
    if (rc) {
        free(s);
        return rc;
    }
    be->state = s;
    return S3DLIO_OK;
}

static void s3_close(struct s3dlio_backend *be)
{
    struct s3_state *s = st(be);
    if (!s)
        return;
    s3dlio_s3_client_free(s->client);
    free(s->ready);
    free(s);
    be->state = NULL;
}

static enum s3dlio_rc s3_list(struct s3dlio_backend *be, const struct s3dlio_list_req *req,
                              struct s3dlio_list_page *page, struct s3dlio_error *err)
{
    return s3dlio_s3_list_v2(st(be)->client, be->root.bucket, req, be->cancel, page, err);
}

static enum s3dlio_rc s3_stat(struct s3dlio_backend *be, const char *key, struct s3dlio_stat *out,
                              struct s3dlio_error *err)
{
    return s3dlio_s3_head_object(st(be)->client, be->root.bucket, key, out, err);
}

static enum s3dlio_rc s3_remove(struct s3dlio_backend *be, const char *key, struct s3dlio_error *err)
{
    return s3dlio_s3_delete_object(st(be)->client, be->root.bucket, key, err);
}

static enum s3dlio_rc s3_remove_batch(struct s3dlio_backend *be, const char *const *keys, size_t n,
                                      struct s3dlio_error *errs, size_t *nfailed,
                                      struct s3dlio_error *err)
{
    return s3dlio_s3_delete_objects(st(be)->client, be->root.bucket, keys, n, errs, nfailed, err);
}

/* ---- checks of a GET's answer, before any of its bytes land ----------------------------- */

static enum s3dlio_rc changed(struct s3dlio_s3_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum s3dlio_rc changed(struct s3dlio_s3_call *call, const char *fmt, ...)
{
    char target[S3DLIO_ERROR_TARGET_MAX], msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s3dlio_s3_target(call->bucket, call->key, target, sizeof(target));
    s3dlio_error_set(&call->err, S3DLIO_E_CHANGED, "get", target, "%s", msg);
    call->err.http_status = (int)call->status;
    snprintf(call->err.request_id, sizeof(call->err.request_id), "%s", call->request_id);
    return S3DLIO_E_CHANGED;
}

static bool is_ranged(const struct s3dlio_req *req)
{
    return req->offset || req->length != S3DLIO_LEN_TO_END;
}

/*
 * A pinned HEAD of the object (no part): the answer must name the version pinned, as a GET's
 * must, for a server that ignores If-Match on HEAD (the copy source's check relies on it).
 * A part's HEAD is left alone: what ETag it names is the server's choice.
 */
static enum s3dlio_rc check_head(struct s3dlio_s3_call *call, void *ud)
{
    const struct s3dlio_req *req = ((struct s3_inflight *)ud)->req;
    if (call->etag[0] && strcmp(call->etag, req->if_match))
        return changed(call, "ETag is now '%s', not '%s' as listed", call->etag, req->if_match);
    return S3DLIO_OK;
}

/*
 * The answer must be the version pinned (ETag, size) and exactly the bytes asked for: a
 * server that ignores If-Match or Range would otherwise mix versions or misplace bytes.
 */
static enum s3dlio_rc check_get(struct s3dlio_s3_call *call, void *ud)
{
    const struct s3dlio_req *req = ((struct s3_inflight *)ud)->req;
    uint64_t total = call->total_size;
    bool ranged = is_ranged(req);
    /* no ETag at all proves nothing either way; the size and range checks still apply */
    if (req->if_match && *req->if_match && call->etag[0] && strcmp(call->etag, req->if_match))
        return changed(call, "ETag is now '%s', not '%s' as listed", call->etag, req->if_match);
    if (ranged && (call->status != 206 || !call->has_range))
        return changed(call, "HTTP %ld to a ranged GET of bytes %" PRIu64 "-: the server ignored "
                             "the Range header", call->status, req->offset);
    if (!ranged && call->status != 200)
        return changed(call, "HTTP %ld to a whole-object GET", call->status);
    if (req->size_pinned && total != req->expect_size)
        return changed(call, "size is now %" PRIu64 " bytes, listed as %" PRIu64, total,
                       req->expect_size);
    if (!ranged)
        return S3DLIO_OK;
    uint64_t want_last = req->length == S3DLIO_LEN_TO_END || req->offset + req->length > total
                             ? total - 1
                             : req->offset + req->length - 1;
    if (call->range_first != req->offset || call->range_last != want_last)
        return changed(call, "asked for bytes %" PRIu64 "-%" PRIu64 ", the server sent %" PRIu64
                             "-%" PRIu64, req->offset, want_last, call->range_first,
                       call->range_last);
    /* a body longer than its range would spill into the bytes of the next range (no
     * Content-Length, as with chunked encoding, leaves it to the byte count at the end) */
    if (call->content_length && call->content_length != call->range_last - call->range_first + 1)
        return changed(call, "Content-Length %" PRIu64 " for bytes %" PRIu64 "-%" PRIu64,
                       call->content_length, call->range_first, call->range_last);
    return S3DLIO_OK;
}

/* ---- completions ---------------------------------------------------------------------------- */

/* Body bytes a GET must deliver: the range asked for, cut at the object's end as S3 does. */
static uint64_t expected_bytes(const struct s3dlio_req *req, const struct s3dlio_s3_call *call)
{
    uint64_t total = call->total_size;
    if (req->length == S3DLIO_LEN_TO_END)
        return total > req->offset ? total - req->offset : req->bytes; /* unknown: trust it */
    if (total && req->offset + req->length > total)
        return total > req->offset ? total - req->offset : 0;
    return req->length;
}

/* A 412 to a pinned request: the version listed is gone. */
static void precondition_failed(struct s3dlio_req *req, struct s3dlio_s3_call *call)
{
    call->err.rc = S3DLIO_E_CHANGED;
    if (!call->err.s3_code[0]) /* a HEAD's 412 has no body to name it */
        snprintf(call->err.s3_code, sizeof(call->err.s3_code), "PreconditionFailed");
    snprintf(call->err.message, sizeof(call->err.message),
             "the object no longer has ETag '%s' (If-Match failed)", req->if_match);
}

static enum s3dlio_rc finish_get(struct s3dlio_req *req, struct s3dlio_s3_call *call,
                                 enum s3dlio_rc rc)
{
    if (rc)
        return rc;
    uint64_t want = expected_bytes(req, call);
    if (req->bytes == want)
        return S3DLIO_OK;
    /* a connection closed early can look like success to HTTP/1.1 without a length */
    char target[S3DLIO_ERROR_TARGET_MAX];
    s3dlio_s3_target(call->bucket, call->key, target, sizeof(target));
    return s3dlio_error_set(&call->err, S3DLIO_E_INTEGRITY, "get", target,
                            "got %" PRIu64 " bytes, expected %" PRIu64, req->bytes, want);
}

static void finish_head(struct s3dlio_req *req, const struct s3dlio_s3_call *call)
{
    req->parts_count = call->parts_count;
    req->meta_part_size_out = call->meta_part_size;
    req->etag_not_md5 = call->sse_opaque_etag;
    /* a server that knows partNumber answers 206 with that part's size and the total */
    if (req->part_number && call->status == 206 && call->has_range) {
        req->part_length = call->content_length;
        req->object_size = call->total_size;
    } else {
        req->object_size = call->content_length;
    }
}

static void request_done(struct s3dlio_s3_call *call, void *ud)
{
    struct s3_inflight *f = ud;
    struct s3dlio_req *req = f->req;
    enum s3dlio_rc rc = call->rc;
    req->http_status = (int)call->status;
    req->bytes = call->body_bytes;
    req->object_size = call->total_size;
    req->t_first_byte_ns = call->t_first_byte_ns;
    req->t_total_ns = call->t_total_ns;
    req->etag_not_md5 = call->sse_opaque_etag;
    snprintf(req->etag, sizeof(req->etag), "%s", call->etag);
    if (call->status == 412 && req->if_match)
        precondition_failed(req, call), rc = S3DLIO_E_CHANGED;
    switch (req->op) {
    case S3DLIO_REQ_GET:
        rc = finish_get(req, call, rc);
        break;
    case S3DLIO_REQ_HEAD:
        if (!rc)
            finish_head(req, call);
        break;
    case S3DLIO_REQ_MPU_CREATE:
        if (!rc)
            rc = s3dlio_s3_parse_mpu_create(call, &req->upload_id_out, &call->err);
        break;
    case S3DLIO_REQ_MPU_COMPLETE:
        if (!rc)
            rc = s3dlio_s3_parse_mpu_complete(call, req->etag, &call->err);
        break;
    case S3DLIO_REQ_COPY:
    case S3DLIO_REQ_COPY_PART:
        /* the header's ETag, if any, is not the new object's: the body's is */
        if (!rc)
            rc = s3dlio_s3_parse_copy(call, req->op == S3DLIO_REQ_COPY_PART, req->etag, &call->err);
        else
            req->etag[0] = '\0';
        break;
    default:
        break;
    }
    if (rc)
        req->err = call->err;
    s3dlio_s3_call_release(call);
    s3dlio_buf_release(&f->body);
    s3dlio_buf_release(&f->copy_source);
    req->priv = NULL;
    free(f);
    if (req->done)
        req->done(req, rc, req->done_ud);
}

/* ---- building requests ----------------------------------------------------------------------- */

static void pin(struct s3_inflight *f, const struct s3dlio_req *req)
{
    if (!req->if_match || !*req->if_match)
        return;
    snprintf(f->if_match, sizeof(f->if_match), "\"%s\"", req->if_match);
    f->call.headers[f->call.nheaders++] = (struct s3dlio_kv){"If-Match", f->if_match};
}

static void setup_get(struct s3_inflight *f, struct s3dlio_req *req)
{
    struct s3dlio_s3_call *call = &f->call;
    call->method = "GET";
    call->op = "get";
    call->sink = req->sink;
    call->sink_ud = req->sink_ud;
    call->sink_offset = req->offset;
    call->check = check_get;
    call->check_ud = f;
    if (is_ranged(req)) {
        if (req->length == S3DLIO_LEN_TO_END)
            snprintf(f->range, sizeof(f->range), "bytes=%" PRIu64 "-", req->offset);
        else
            snprintf(f->range, sizeof(f->range), "bytes=%" PRIu64 "-%" PRIu64, req->offset,
                     req->offset + req->length - 1);
        call->headers[call->nheaders++] = (struct s3dlio_kv){"Range", f->range};
    }
    pin(f, req);
}

static void setup_put(struct s3_inflight *f, struct s3dlio_req *req)
{
    struct s3dlio_s3_call *call = &f->call;
    call->method = "PUT";
    call->op = "put";
    call->source = req->source;
    call->source_ud = req->source_ud;
    call->body_len = req->length;
    call->payload_sha256 = req->payload_sha256;
    if (req->content_md5)
        call->headers[call->nheaders++] = (struct s3dlio_kv){"Content-MD5", req->content_md5};
    if (req->op == S3DLIO_REQ_PUT_PART) {
        snprintf(f->part, sizeof(f->part), "%d", req->part_number);
        call->query[call->nquery++] = (struct s3dlio_kv){"partNumber", f->part};
        call->query[call->nquery++] = (struct s3dlio_kv){"uploadId", req->upload_id};
    }
}

/* CopyObject or UploadPartCopy: the source, encoded as the header wants, pinned to its ETag. */
static enum s3dlio_rc setup_copy(struct s3_inflight *f, struct s3dlio_req *req, const char *bucket)
{
    bool part = req->op == S3DLIO_REQ_COPY_PART;
    f->copy_source = (struct s3dlio_buf)S3DLIO_BUF_INIT(8192);
    enum s3dlio_rc rc = s3dlio_buf_addf(&f->copy_source, "/");
    if (!rc && req->copy_source)
        rc = s3dlio_uri_encode(&f->copy_source, req->copy_source, true);
    if (rc || !req->copy_source)
        return s3dlio_error_set(&req->err, rc ? rc : S3DLIO_E_USAGE, "copy", req->key,
                                "no copy source, or one too long to name");
    if (req->if_match && *req->if_match)
        snprintf(f->if_match, sizeof(f->if_match), "\"%s\"", req->if_match);
    if (part) {
        snprintf(f->range, sizeof(f->range), "bytes=%" PRIu64 "-%" PRIu64, req->offset,
                 req->offset + req->length - 1);
        snprintf(f->part, sizeof(f->part), "%d", req->part_number);
    }
    s3dlio_s3_prepare_copy(&f->call, bucket, req->key, f->copy_source.data,
                           f->if_match[0] ? f->if_match : NULL, part ? f->range : NULL,
                           part ? f->part : NULL, part ? req->upload_id : NULL);
    return S3DLIO_OK;
}

/* Fill f->call for req (on a zeroed call); non-OK, with req->err set, if it cannot be built. */
static enum s3dlio_rc setup(struct s3_inflight *f, struct s3dlio_req *req, const char *bucket)
{
    switch (req->op) {
    case S3DLIO_REQ_GET:
        setup_get(f, req);
        return S3DLIO_OK;
    case S3DLIO_REQ_PUT:
    case S3DLIO_REQ_PUT_PART:
        setup_put(f, req);
        return S3DLIO_OK;
    case S3DLIO_REQ_HEAD:
        if (req->part_number)
            snprintf(f->part, sizeof(f->part), "%d", req->part_number);
        s3dlio_s3_prepare_head(&f->call, bucket, req->key, req->part_number ? f->part : NULL);
        pin(f, req);
        if (req->if_match && *req->if_match && !req->part_number) {
            f->call.check = check_head;
            f->call.check_ud = f;
        }
        return S3DLIO_OK;
    case S3DLIO_REQ_MPU_CREATE:
        if (req->meta_part_size)
            snprintf(f->meta, sizeof(f->meta), "%" PRIu64, req->meta_part_size);
        s3dlio_s3_prepare_mpu_create(&f->call, bucket, req->key, req->meta_part_size ? f->meta : NULL);
        f->call.finish_on_cancel = true; /* its upload id is what an abort needs */
        return S3DLIO_OK;
    case S3DLIO_REQ_MPU_COMPLETE:
        f->body = (struct s3dlio_buf)S3DLIO_BUF_INIT(16u << 20);
        return s3dlio_s3_prepare_mpu_complete(&f->call, bucket, req->key, req->upload_id,
                                              req->parts, req->nparts, &f->body, &req->err);
    case S3DLIO_REQ_MPU_ABORT:
        s3dlio_s3_prepare_mpu_abort(&f->call, bucket, req->key, req->upload_id);
        f->call.finish_on_cancel = true;
        return S3DLIO_OK;
    case S3DLIO_REQ_COPY:
    case S3DLIO_REQ_COPY_PART:
        return setup_copy(f, req, bucket);
    }
    return s3dlio_error_set(&req->err, S3DLIO_E_USAGE, "submit", req->key,
                            "unknown request type %d", (int)req->op);
}

static void queue_ready(struct s3_state *s, struct s3dlio_req *req)
{
    s3dlio_xgrow((void **)&s->ready, sizeof(*s->ready), s->nready + 1, &s->ready_alloc);
    s->ready[s->nready++] = req;
}

static enum s3dlio_rc s3_submit(struct s3dlio_backend *be, struct s3dlio_req *req)
{
    req->bytes = 0;
    req->upload_id_out = NULL;
    if (req->op == S3DLIO_REQ_GET && req->length == 0) {
        /* a zero-length range cannot be expressed in HTTP: nothing to fetch */
        queue_ready(st(be), req);
        return S3DLIO_OK;
    }
    struct s3_inflight *f = s3dlio_xcalloc(1, sizeof(*f));
    f->req = req;
    const char *bucket = req->bucket ? req->bucket : be->root.bucket;
    enum s3dlio_rc rc = setup(f, req, bucket);
    f->call.bucket = bucket;
    f->call.key = req->key;
    f->call.done = request_done;
    f->call.done_ud = f;
    req->priv = f;
    if (!rc)
        rc = s3dlio_s3_call_start(st(be)->client, &f->call);
    if (rc) {
        if (f->call.err.rc)
            req->err = f->call.err;
        s3dlio_s3_call_release(&f->call);
        s3dlio_buf_release(&f->body);
        s3dlio_buf_release(&f->copy_source);
        req->priv = NULL;
        free(f);
    }
    return rc;
}

static enum s3dlio_rc s3_progress(struct s3dlio_backend *be, int timeout_ms, size_t *inflight)
{
    struct s3_state *s = st(be);
    /* detach first: a done callback may submit again */
    size_t n = s->nready;
    struct s3dlio_req **ready = s->ready;
    s->ready = NULL;
    s->nready = s->ready_alloc = 0;
    for (size_t i = 0; i < n; i++)
        if (ready[i]->done)
            ready[i]->done(ready[i], S3DLIO_OK, ready[i]->done_ud);
    free(ready);
    enum s3dlio_rc rc = s3dlio_s3_client_progress(s->client, n ? 0 : timeout_ms, inflight);
    if (inflight)
        *inflight += s->nready;
    return rc;
}

static void s3_cancel_all(struct s3dlio_backend *be)
{
    s3dlio_s3_client_cancel_all(st(be)->client);
}

static void s3_cancel_transfers(struct s3dlio_backend *be)
{
    s3dlio_s3_client_cancel_transfers(st(be)->client);
}

static enum s3dlio_rc s3_bucket_create(struct s3dlio_backend *be, struct s3dlio_error *err)
{
    return s3dlio_s3_bucket_create(st(be)->client, be->root.bucket, st(be)->cfg->region, err);
}

static enum s3dlio_rc s3_bucket_delete(struct s3dlio_backend *be, struct s3dlio_error *err)
{
    return s3dlio_s3_bucket_delete(st(be)->client, be->root.bucket, err);
}

static enum s3dlio_rc s3_bucket_head(struct s3dlio_backend *be, struct s3dlio_error *err)
{
    return s3dlio_s3_bucket_head(st(be)->client, be->root.bucket, err);
}

const struct s3dlio_backend_ops s3dlio_backend_s3 = {
    .scheme = "s3",
    .open = s3_open,
    .close = s3_close,
    .list = s3_list,
    .stat = s3_stat,
    .remove = s3_remove,
    .remove_batch = s3_remove_batch,
    .submit = s3_submit,
    .progress = s3_progress,
    .cancel_all = s3_cancel_all,
    .cancel_transfers = s3_cancel_transfers,
    .multipart = true,
    .server_copy = true,
    .bucket_create = s3_bucket_create,
    .bucket_delete = s3_bucket_delete,
    .bucket_head = s3_bucket_head,
};
