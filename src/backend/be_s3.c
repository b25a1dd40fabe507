/* SPDX-License-Identifier: Apache-2.0 */
/* The s3:// backend: the ops table over the S3 client (one curl multi per backend). */
#include <inttypes.h>
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

/* What one in-flight object request needs besides the s3dlio_req. */
struct s3_inflight {
    struct s3dlio_s3_call call;
    struct s3dlio_req *req;
    char range[64];
    char part[16];
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
    return s3dlio_s3_list_v2(st(be)->client, be->root.bucket, req, page, err);
}

static enum s3dlio_rc s3_stat(struct s3dlio_backend *be, const char *key, struct s3dlio_object *out,
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

static void object_done(struct s3dlio_s3_call *call, void *ud)
{
    struct s3_inflight *f = ud;
    struct s3dlio_req *req = f->req;
    req->http_status = (int)call->status;
    req->bytes = call->body_bytes;
    req->object_size = call->total_size;
    req->t_first_byte_ns = call->t_first_byte_ns;
    req->t_total_ns = call->t_total_ns;
    snprintf(req->etag, sizeof(req->etag), "%s", call->etag);
    enum s3dlio_rc rc = call->rc;
    uint64_t want = expected_bytes(req, call);
    if (!rc && req->op == S3DLIO_REQ_GET && req->bytes != want) {
        /* a connection closed early can look like success to HTTP/1.1 without a length */
        char target[1024];
        s3dlio_s3_target(call->bucket, call->key, target, sizeof(target));
        rc = s3dlio_error_set(&call->err, S3DLIO_E_INTEGRITY, "get", target,
                              "got %" PRIu64 " bytes, expected %" PRIu64, req->bytes, want);
    }
    if (rc)
        req->err = call->err;
    s3dlio_s3_call_release(call);
    req->priv = NULL;
    free(f);
    if (req->done)
        req->done(req, rc, req->done_ud);
}

static void setup_get(struct s3_inflight *f, struct s3dlio_req *req)
{
    struct s3dlio_s3_call *call = &f->call;
    call->method = "GET";
    call->op = "get";
    call->sink = req->sink;
    call->sink_ud = req->sink_ud;
    call->sink_offset = req->offset;
    if (req->offset || req->length != S3DLIO_LEN_TO_END) {
        if (req->length == S3DLIO_LEN_TO_END)
            snprintf(f->range, sizeof(f->range), "bytes=%" PRIu64 "-", req->offset);
        else
            snprintf(f->range, sizeof(f->range), "bytes=%" PRIu64 "-%" PRIu64, req->offset,
                     req->offset + req->length - 1);
        call->headers[call->nheaders++] = (struct s3dlio_kv){"Range", f->range};
    }
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

static enum s3dlio_rc s3_submit(struct s3dlio_backend *be, struct s3dlio_req *req)
{
    struct s3_inflight *f = s3dlio_xcalloc(1, sizeof(*f));
    f->req = req;
    f->call.bucket = be->root.bucket;
    f->call.key = req->key;
    f->call.done = object_done;
    f->call.done_ud = f;
    if (req->op == S3DLIO_REQ_GET && req->length == 0) {
        /* a zero-length range cannot be expressed in HTTP: nothing to fetch */
        struct s3_state *s = st(be);
        free(f);
        req->bytes = 0;
        s3dlio_xgrow((void **)&s->ready, sizeof(*s->ready), s->nready + 1, &s->ready_alloc);
        s->ready[s->nready++] = req;
        return S3DLIO_OK;
    }
    if (req->op == S3DLIO_REQ_GET)
        setup_get(f, req);
    else
        setup_put(f, req);
    req->priv = f;
    enum s3dlio_rc rc = s3dlio_s3_call_start(st(be)->client, &f->call);
    if (rc) {
        req->err = f->call.err;
        s3dlio_s3_call_release(&f->call);
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

static enum s3dlio_rc s3_mpu_create(struct s3dlio_backend *be, const char *key, char **upload_id,
                                    struct s3dlio_error *err)
{
    return s3dlio_s3_mpu_create(st(be)->client, be->root.bucket, key, upload_id, err);
}

static enum s3dlio_rc s3_mpu_complete(struct s3dlio_backend *be, const char *key,
                                      const char *upload_id, const struct s3dlio_part *parts,
                                      size_t nparts, struct s3dlio_error *err)
{
    return s3dlio_s3_mpu_complete(st(be)->client, be->root.bucket, key, upload_id, parts, nparts, err);
}

static enum s3dlio_rc s3_mpu_abort(struct s3dlio_backend *be, const char *key, const char *upload_id,
                                   struct s3dlio_error *err)
{
    return s3dlio_s3_mpu_abort(st(be)->client, be->root.bucket, key, upload_id, err);
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
    .mpu_create = s3_mpu_create,
    .mpu_complete = s3_mpu_complete,
    .mpu_abort = s3_mpu_abort,
    .bucket_create = s3_bucket_create,
    .bucket_delete = s3_bucket_delete,
    .bucket_head = s3_bucket_head,
};
