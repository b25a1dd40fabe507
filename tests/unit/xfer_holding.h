/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A file:// backend that holds the requests it is given and runs one per progress call, so an
 * engine test has requests in flight when it breaks or cancels the loop; and a cancel_all that
 * ends the held ones as aborted, as the S3 backend does. Tests put these into a copy of
 * s3dlio_backend_file's ops.
 */
#ifndef S3DLIO_TESTS_XFER_HOLDING_H
#define S3DLIO_TESTS_XFER_HOLDING_H

#include <signal.h>
#include <string.h>
#include "s3dlio/s3dlio.h"
#include "s3dlio/xfer.h"

static struct {
    struct s3dlio_req *req[256];
    int n;
} holding;

static inline enum s3dlio_rc holding_submit(struct s3dlio_backend *be, struct s3dlio_req *req)
{
    (void)be;
    if (holding.n == (int)(sizeof(holding.req) / sizeof(holding.req[0])))
        return s3dlio_error_set(&req->err, S3DLIO_E_INTERNAL, "get", req->key, "test: too many held");
    holding.req[holding.n++] = req;
    return S3DLIO_OK;
}

/* The oldest held request goes to the file backend; the others wait, counted as in flight. */
static inline enum s3dlio_rc holding_run_one(struct s3dlio_backend *be, int timeout_ms, size_t *inflight)
{
    (void)timeout_ms;
    if (holding.n) {
        struct s3dlio_req *r = holding.req[0];
        memmove(holding.req, holding.req + 1, sizeof(holding.req[0]) * (size_t)--holding.n);
        s3dlio_backend_file.submit(be, r);
    }
    enum s3dlio_rc rc = s3dlio_backend_file.progress(be, 0, inflight);
    if (inflight)
        *inflight += (size_t)holding.n;
    return rc;
}

static inline void holding_abort_all(struct s3dlio_backend *be)
{
    (void)be;
    int n = holding.n;
    holding.n = 0;
    for (int i = 0; i < n; i++) {
        s3dlio_error_set(&holding.req[i]->err, S3DLIO_E_ABORTED, "get", holding.req[i]->key, "cancelled");
        holding.req[i]->done(holding.req[i], S3DLIO_E_ABORTED, holding.req[i]->done_ud);
    }
}

/* be (a file backend) holds its requests from now on, run by progress (holding_run_one, ...). */
static inline void holding_install(struct s3dlio_backend *be, struct s3dlio_backend_ops *ops,
                                   enum s3dlio_rc (*progress)(struct s3dlio_backend *, int, size_t *))
{
    *ops = s3dlio_backend_file;
    ops->submit = holding_submit;
    ops->progress = progress;
    ops->cancel_all = holding_abort_all;
    be->ops = ops;
    holding.n = 0;
}

/*
 * Cancel tests: holding_run_one that sets holding_cancel at its holding_cancel_at-th call, so
 * a run is stopped with requests in flight. holding_cancel_arm(n) resets all of it.
 */
static struct {
    int calls, at;
} holding_cancel_after;
static volatile sig_atomic_t holding_cancel;

static inline void holding_cancel_arm(int at)
{
    holding.n = 0;
    holding_cancel_after.calls = 0;
    holding_cancel_after.at = at;
    holding_cancel = 0;
}

static inline enum s3dlio_rc holding_cancelling_progress(struct s3dlio_backend *be, int timeout_ms,
                                                         size_t *inflight)
{
    if (++holding_cancel_after.calls == holding_cancel_after.at)
        holding_cancel = 1;
    return holding_run_one(be, timeout_ms, inflight);
}

#endif
