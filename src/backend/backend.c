/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The backend registry, the wrappers that check optional ops, and whole-object helpers
 * (full listing, batched delete, file-descriptor GET/PUT) built on submit/progress.
 */
#include "s3dlio/backend.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "s3/s3_client.h"
#include "s3dlio/s3dlio.h"
#include "util/alloc.h"

static const struct s3dlio_backend_ops *const registry[] = {
    &s3dlio_backend_s3,
    &s3dlio_backend_file,
};

const struct s3dlio_backend_ops *s3dlio_backend_for_scheme(const char *scheme)
{
    for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
        if (!strcmp(registry[i]->scheme, scheme))
            return registry[i];
    return NULL;
}

enum s3dlio_rc s3dlio_global_init(struct s3dlio_error *err)
{
    return s3dlio_s3_global_init(err);
}

void s3dlio_global_cleanup(void)
{
    s3dlio_s3_global_cleanup();
}

enum s3dlio_rc s3dlio_backend_new(const struct s3dlio_uri *uri, const struct s3dlio_config *cfg,
                                  struct s3dlio_backend **out, struct s3dlio_error *err)
{
    const struct s3dlio_backend_ops *ops = s3dlio_backend_for_scheme(uri->scheme);
    if (!ops)
        return s3dlio_error_set(err, S3DLIO_E_URI, "open", uri->scheme, "unknown scheme");
    struct s3dlio_backend *be = s3dlio_xcalloc(1, sizeof(*be));
    be->ops = ops;
    memcpy(be->root.scheme, uri->scheme, sizeof(be->root.scheme));
    memcpy(be->root.bucket, uri->bucket, sizeof(be->root.bucket));
    be->root.key = s3dlio_xstrdup("");
    enum s3dlio_rc rc = ops->open ? ops->open(be, cfg, err) : S3DLIO_OK;
    if (rc) {
        s3dlio_uri_release(&be->root);
        free(be);
        return rc;
    }
    *out = be;
    return S3DLIO_OK;
}

void s3dlio_backend_free(struct s3dlio_backend *be)
{
    if (!be)
        return;
    if (be->ops->close)
        be->ops->close(be);
    s3dlio_uri_release(&be->root);
    free(be);
}

static enum s3dlio_rc unsupported(struct s3dlio_backend *be, const char *op, struct s3dlio_error *err)
{
    return s3dlio_error_set(err, S3DLIO_E_UNSUPPORTED, op, be->ops->scheme,
                            "not supported by the %s backend", be->ops->scheme);
}

enum s3dlio_rc s3dlio_backend_list(struct s3dlio_backend *be, const struct s3dlio_list_req *req,
                                   struct s3dlio_list_page *page, struct s3dlio_error *err)
{
    return be->ops->list ? be->ops->list(be, req, page, err) : unsupported(be, "list", err);
}

enum s3dlio_rc s3dlio_backend_stat(struct s3dlio_backend *be, const char *key,
                                   struct s3dlio_object *out, struct s3dlio_error *err)
{
    return be->ops->stat ? be->ops->stat(be, key, out, err) : unsupported(be, "stat", err);
}

enum s3dlio_rc s3dlio_backend_remove(struct s3dlio_backend *be, const char *key,
                                     struct s3dlio_error *err)
{
    return be->ops->remove ? be->ops->remove(be, key, err) : unsupported(be, "delete", err);
}

enum s3dlio_rc s3dlio_backend_submit(struct s3dlio_backend *be, struct s3dlio_req *req)
{
    if (!be->ops->submit)
        return unsupported(be, "submit", &req->err);
    return be->ops->submit(be, req);
}

enum s3dlio_rc s3dlio_backend_progress(struct s3dlio_backend *be, int timeout_ms, size_t *inflight)
{
    if (!be->ops->progress)
        return S3DLIO_E_UNSUPPORTED;
    return be->ops->progress(be, timeout_ms, inflight);
}

enum s3dlio_rc s3dlio_backend_bucket_create(struct s3dlio_backend *be, struct s3dlio_error *err)
{
    return be->ops->bucket_create ? be->ops->bucket_create(be, err)
                                  : unsupported(be, "make-bucket", err);
}

enum s3dlio_rc s3dlio_backend_bucket_delete(struct s3dlio_backend *be, struct s3dlio_error *err)
{
    return be->ops->bucket_delete ? be->ops->bucket_delete(be, err)
                                  : unsupported(be, "remove-bucket", err);
}

enum s3dlio_rc s3dlio_backend_bucket_head(struct s3dlio_backend *be, struct s3dlio_error *err)
{
    return be->ops->bucket_head ? be->ops->bucket_head(be, err) : unsupported(be, "head-bucket", err);
}

bool s3dlio_backend_has_multipart(const struct s3dlio_backend *be)
{
    return be->ops->mpu_create && be->ops->mpu_complete && be->ops->mpu_abort;
}

enum s3dlio_rc s3dlio_backend_list_all(struct s3dlio_backend *be, const char *prefix,
                                       const char *delimiter, int page_size,
                                       struct s3dlio_objlist *out, struct s3dlio_error *err)
{
    struct s3dlio_list_page page = {0};
    char *token = NULL;
    enum s3dlio_rc rc;
    do {
        struct s3dlio_list_req req = {.prefix = prefix, .delimiter = delimiter,
                                      .max_keys = page_size, .continuation = token};
        rc = s3dlio_backend_list(be, &req, &page, err);
        free(token);
        token = NULL;
        if (rc)
            break;
        s3dlio_objlist_splice(out, &page.list);
        token = page.truncated ? page.next_token : NULL;
        page.next_token = page.truncated ? NULL : page.next_token;
        s3dlio_list_page_release(&page);
    } while (token);
    s3dlio_list_page_release(&page);
    return rc;
}

enum s3dlio_rc s3dlio_backend_remove_many(struct s3dlio_backend *be, const char *const *keys,
                                          size_t n, size_t *nfailed, struct s3dlio_error *err)
{
    enum { BATCH = 1000 }; /* the DeleteObjects maximum */
    struct s3dlio_error *errs = s3dlio_xcalloc(BATCH, sizeof(*errs));
    enum s3dlio_rc rc = S3DLIO_OK;
    *nfailed = 0;
    for (size_t at = 0; at < n && !rc; at += BATCH) {
        size_t cnt = n - at < BATCH ? n - at : BATCH, nf = 0;
        memset(errs, 0, cnt * sizeof(*errs));
        if (be->ops->remove_batch) {
            rc = be->ops->remove_batch(be, keys + at, cnt, errs, &nf, err);
        } else {
            for (size_t i = 0; i < cnt; i++)
                nf += s3dlio_backend_remove(be, keys[at + i], &errs[i]) != S3DLIO_OK;
        }
        for (size_t i = 0; i < cnt && nf; i++)
            if (errs[i].rc && !*nfailed && err)
                *err = errs[i];
        *nfailed += nf;
    }
    free(errs);
    if (!rc && *nfailed)
        rc = err && err->rc ? err->rc : S3DLIO_E_S3;
    return rc;
}

struct run_state {
    bool done;
    enum s3dlio_rc rc;
};

static void run_done(struct s3dlio_req *req, enum s3dlio_rc rc, void *ud)
{
    (void)req;
    struct run_state *s = ud;
    s->done = true;
    s->rc = rc;
}

enum s3dlio_rc s3dlio_backend_run(struct s3dlio_backend *be, struct s3dlio_req *req)
{
    struct run_state s = {0};
    req->done = run_done;
    req->done_ud = &s;
    enum s3dlio_rc rc = s3dlio_backend_submit(be, req);
    while (!rc && !s.done)
        rc = s3dlio_backend_progress(be, 1000, NULL);
    return rc ? rc : s.rc;
}

/* ---- file-descriptor sinks and sources --------------------------------------------------- */

static enum s3dlio_rc fd_sink(void *ud, uint64_t offset, const void *data, size_t len)
{
    int fd = *(int *)ud;
    (void)offset; /* whole-object GETs arrive in order; pipes (stdout) cannot seek */
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return S3DLIO_E_IO;
        p += w;
        len -= (size_t)w;
    }
    return S3DLIO_OK;
}

struct fd_source {
    int fd;
    uint64_t base; /* file offset of the body's first byte */
};

static enum s3dlio_rc fd_source_read(void *ud, uint64_t offset, void *buf, size_t len, size_t *got)
{
    struct fd_source *s = ud;
    ssize_t r;
    do
        r = pread(s->fd, buf, len, (off_t)(s->base + offset));
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return S3DLIO_E_IO;
    *got = (size_t)r;
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_backend_get_to_fd(struct s3dlio_backend *be, const char *key, int fd,
                                        uint64_t *bytes, struct s3dlio_error *err)
{
    struct s3dlio_req req = {.op = S3DLIO_REQ_GET, .key = key, .length = S3DLIO_LEN_TO_END,
                             .sink = fd_sink, .sink_ud = &fd};
    enum s3dlio_rc rc = s3dlio_backend_run(be, &req);
    if (rc && err)
        *err = req.err.rc ? req.err : *err;
    if (rc && err && !err->rc)
        s3dlio_error_set(err, rc, "get", key, "%s", s3dlio_rc_str(rc));
    if (rc == S3DLIO_E_IO && err && !err->message[0])
        s3dlio_error_set(err, rc, "get", key, "writing the destination failed: %s", strerror(errno));
    if (bytes)
        *bytes = req.bytes;
    return rc;
}

static enum s3dlio_rc put_single(struct s3dlio_backend *be, const char *key, int fd, uint64_t size,
                                 struct s3dlio_error *err)
{
    struct fd_source src = {.fd = fd};
    struct s3dlio_req req = {.op = S3DLIO_REQ_PUT, .key = key, .length = size,
                             .source = fd_source_read, .source_ud = &src};
    enum s3dlio_rc rc = s3dlio_backend_run(be, &req);
    if (rc && err)
        *err = req.err;
    return rc;
}

/* Upload parts one after another; the transfer engine runs them in parallel. */
static enum s3dlio_rc put_parts(struct s3dlio_backend *be, const char *key, int fd, uint64_t size,
                                uint64_t part_size, const char *upload_id, struct s3dlio_part *parts,
                                struct s3dlio_error *err)
{
    size_t nparts = (size_t)((size + part_size - 1) / part_size);
    for (size_t i = 0; i < nparts; i++) {
        uint64_t off = (uint64_t)i * part_size;
        struct fd_source src = {.fd = fd, .base = off};
        struct s3dlio_req req = {.op = S3DLIO_REQ_PUT_PART, .key = key,
                                 .length = size - off < part_size ? size - off : part_size,
                                 .source = fd_source_read, .source_ud = &src,
                                 .upload_id = upload_id, .part_number = (int)i + 1};
        enum s3dlio_rc rc = s3dlio_backend_run(be, &req);
        if (rc) {
            if (err)
                *err = req.err;
            return rc;
        }
        parts[i].number = (int)i + 1;
        snprintf(parts[i].etag, sizeof(parts[i].etag), "%s", req.etag);
    }
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_backend_put_from_fd(struct s3dlio_backend *be, const char *key, int fd,
                                          uint64_t size, uint64_t mp_threshold, uint64_t part_size,
                                          struct s3dlio_error *err)
{
    if (!s3dlio_backend_has_multipart(be) || size <= mp_threshold || !part_size)
        return put_single(be, key, fd, size, err);
    if ((size + part_size - 1) / part_size > 10000)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "put", key,
                                "%" PRIu64 " bytes need more than 10000 parts of %" PRIu64
                                " bytes: raise the part size", size, part_size);
    char *upload_id = NULL;
    enum s3dlio_rc rc = be->ops->mpu_create(be, key, &upload_id, err);
    if (rc)
        return rc;
    size_t nparts = (size_t)((size + part_size - 1) / part_size);
    struct s3dlio_part *parts = s3dlio_xcalloc(nparts, sizeof(*parts));
    rc = put_parts(be, key, fd, size, part_size, upload_id, parts, err);
    if (!rc)
        rc = be->ops->mpu_complete(be, key, upload_id, parts, nparts, err);
    if (rc) {
        /* never leave a half-uploaded object's parts billed and invisible on the server */
        struct s3dlio_error ignore = {0};
        be->ops->mpu_abort(be, key, upload_id, &ignore);
    }
    free(parts);
    free(upload_id);
    return rc;
}
