/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The backend registry, the wrappers that check optional ops, and helpers built on them
 * (full listing, batched delete, one request run to completion).
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
    be->cancel = cfg ? cfg->cancel : NULL;
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
    if (be->cancel && *be->cancel) { /* a backend may not check it during the page (s3 does) */
        char target[S3DLIO_ERROR_TARGET_MAX];
        s3dlio_uri_join(&be->root, req->prefix ? req->prefix : "", target, sizeof(target));
        return s3dlio_error_set(err, S3DLIO_E_ABORTED, "list", target, "interrupted");
    }
    return be->ops->list ? be->ops->list(be, req, page, err) : unsupported(be, "list", err);
}

enum s3dlio_rc s3dlio_backend_stat(struct s3dlio_backend *be, const char *key,
                                   struct s3dlio_stat *out, struct s3dlio_error *err)
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
    return be->ops->multipart;
}

bool s3dlio_backend_has_server_copy(const struct s3dlio_backend *be)
{
    return be->ops->server_copy;
}

void s3dlio_backend_cancel_transfers(struct s3dlio_backend *be)
{
    if (be->ops->cancel_transfers)
        be->ops->cancel_transfers(be);
    else
        s3dlio_backend_cancel_all(be);
}

void s3dlio_backend_cancel_all(struct s3dlio_backend *be)
{
    if (be->ops->cancel_all)
        be->ops->cancel_all(be);
}

void s3dlio_list_pager_init(struct s3dlio_list_pager *p, const char *prefix, const char *delimiter,
                            int page_size)
{
    memset(p, 0, sizeof(*p));
    p->prefix = prefix;
    p->delimiter = delimiter;
    p->page_size = page_size;
}

void s3dlio_list_pager_release(struct s3dlio_list_pager *p)
{
    free(p->token);
    free(p->seen);
    p->token = NULL;
    p->seen = NULL;
    p->nseen = p->seen_alloc = 0;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* Remember a token; false if it was seen before in this listing. */
static bool first_sight(struct s3dlio_list_pager *p, const char *token)
{
    uint64_t h = fnv1a(token);
    for (size_t i = 0; i < p->nseen; i++)
        if (p->seen[i] == h)
            return false;
    s3dlio_xgrow((void **)&p->seen, sizeof(*p->seen), p->nseen + 1, &p->seen_alloc);
    p->seen[p->nseen++] = h;
    return true;
}

enum s3dlio_rc s3dlio_list_pager_next(struct s3dlio_backend *be, struct s3dlio_list_pager *p,
                                      struct s3dlio_list_page *page, bool *more,
                                      struct s3dlio_error *err)
{
    *more = false;
    s3dlio_list_page_release(page);
    if (p->done)
        return S3DLIO_OK;
    struct s3dlio_list_req req = {.prefix = p->prefix, .delimiter = p->delimiter,
                                  .max_keys = p->page_size, .continuation = p->token,
                                  .start_after = p->token ? NULL : p->start_after};
    enum s3dlio_rc rc = s3dlio_backend_list(be, &req, page, err);
    free(p->token);
    p->token = NULL;
    if (rc)
        return rc;
    p->pages++;
    *more = true;
    if (!page->truncated || !page->next_token || !*page->next_token) {
        p->done = true;
        return S3DLIO_OK;
    }
    /* a server that hands out a token again would have us list the same pages forever */
    if (!first_sight(p, page->next_token)) {
        char target[S3DLIO_ERROR_TARGET_MAX];
        s3dlio_list_page_release(page);
        *more = false;
        s3dlio_uri_join(&be->root, p->prefix ? p->prefix : "", target, sizeof(target));
        return s3dlio_error_set(err, S3DLIO_E_PARSE, "list", target,
                                "the server repeated a continuation token after %zu pages: "
                                "refusing to list in a loop", p->pages);
    }
    p->token = s3dlio_xstrdup(page->next_token);
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_backend_list_all(struct s3dlio_backend *be, const char *prefix,
                                       const char *delimiter, int page_size,
                                       struct s3dlio_objlist *out, struct s3dlio_error *err)
{
    struct s3dlio_list_pager pager;
    struct s3dlio_list_page page = {0};
    enum s3dlio_rc rc;
    bool more = false;
    s3dlio_list_pager_init(&pager, prefix, delimiter, page_size);
    while (!(rc = s3dlio_list_pager_next(be, &pager, &page, &more, err)) && more)
        s3dlio_objlist_splice(out, &page.list);
    s3dlio_list_page_release(&page);
    s3dlio_list_pager_release(&pager);
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
