/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's cost per request (see micro_engine.h). The backend here keeps what was
 * submitted and answers all of it in the next progress call: 200, the body in one piece,
 * the ETag asked for, which is what the engine sees of a fast server minus the sockets.
 */
#include "micro_engine.h"

#include <stdio.h>
#include <string.h>
#include "s3/sigv4.h"
#include "s3dlio/xfer.h"
#include "util/alloc.h"
#include "util/buf.h"

#define NOBJ 2000
#define OBJ_BYTES 8192
#define MAX_QUEUED 1024
/* 2015-08-30T12:36:00Z, as micro.c: a fixed time, no clock in the signature */
#define SIGN_TIME 1440938160

struct null_be {
    struct s3dlio_req *queued[MAX_QUEUED];
    size_t n;
    bool sign;
    struct s3dlio_buf auth;
};

static const unsigned char zeros[OBJ_BYTES];

/* What the S3 backend does per request before it is sent (its headers: host, date, hash). */
static void sign_req(struct null_be *nb, const struct s3dlio_req *req)
{
    char date[17], path[256];
    s3dlio_sigv4_amz_date(SIGN_TIME, date);
    snprintf(path, sizeof(path), "/bench/%s", req->key);
    const struct s3dlio_kv headers[] = {
        {"host", "rgw.example.org:7480"},
        {"x-amz-date", date},
        {"x-amz-content-sha256", S3DLIO_UNSIGNED_PAYLOAD},
    };
    struct s3dlio_sigv4_input in = {
        .method = "GET", .path = path, .headers = headers, .nheaders = 3,
        .payload_hash = S3DLIO_UNSIGNED_PAYLOAD, .access_key = "AKIDEXAMPLE",
        .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", .region = "us-east-1",
        .service = "s3", .now = SIGN_TIME,
    };
    s3dlio_buf_reset(&nb->auth);
    s3dlio_sigv4_authorization(&nb->auth, &in);
}

static enum s3dlio_rc null_submit(struct s3dlio_backend *be, struct s3dlio_req *req)
{
    struct null_be *nb = be->state;
    if (nb->n == MAX_QUEUED || req->op != S3DLIO_REQ_GET)
        return S3DLIO_E_UNSUPPORTED;
    if (nb->sign)
        sign_req(nb, req);
    nb->queued[nb->n++] = req;
    return S3DLIO_OK;
}

static void answer(struct s3dlio_req *req, enum s3dlio_rc rc)
{
    uint64_t len = req->length < OBJ_BYTES ? req->length : OBJ_BYTES;
    if (!rc) {
        req->http_status = 200;
        req->object_size = OBJ_BYTES;
        snprintf(req->etag, sizeof(req->etag), "%s", req->if_match ? req->if_match : "e");
        rc = req->sink ? req->sink(req->sink_ud, req->offset, zeros, (size_t)len) : S3DLIO_OK;
        req->bytes = len;
    }
    req->done(req, rc, req->done_ud);
}

static enum s3dlio_rc null_progress(struct s3dlio_backend *be, int timeout_ms, size_t *inflight)
{
    (void)timeout_ms;
    struct null_be *nb = be->state;
    size_t n = nb->n;
    nb->n = 0;
    /* answers may submit nothing here (the engine refills after progress returns) */
    for (size_t i = 0; i < n; i++)
        answer(nb->queued[i], S3DLIO_OK);
    if (inflight)
        *inflight = nb->n;
    return S3DLIO_OK;
}

static void null_cancel_all(struct s3dlio_backend *be)
{
    struct null_be *nb = be->state;
    size_t n = nb->n;
    nb->n = 0;
    for (size_t i = 0; i < n; i++)
        answer(nb->queued[i], S3DLIO_E_ABORTED);
}

static const struct s3dlio_backend_ops null_ops = {
    .scheme = "null", .submit = null_submit, .progress = null_progress,
    .cancel_all = null_cancel_all,
};

double micro_engine_gets(bool sign)
{
    static struct s3dlio_xfer_job jobs[NOBJ];
    static char keys[NOBJ][32];
    struct null_be nb = {.sign = sign, .auth = S3DLIO_BUF_INIT(16 * 1024)};
    struct s3dlio_backend be = {.ops = &null_ops, .state = &nb};
    for (size_t i = 0; i < NOBJ; i++) {
        snprintf(keys[i], sizeof(keys[i]), "small/obj-%06zu", i);
        jobs[i] = (struct s3dlio_xfer_job){
            .dir = S3DLIO_XFER_GET, .key = keys[i], .size = OBJ_BYTES, .etag = "e",
            .local = S3DLIO_LOCAL_DISCARD,
        };
    }
    struct s3dlio_xfer_opts o;
    s3dlio_xfer_opts_default(&o);
    /* as the command line runs it: adaptive from 32, up to 200 */
    o.adapt_get = true;
    o.max_concurrency = 200;
    o.ramp_ms = 0;
    struct s3dlio_xfer_stats st;
    enum s3dlio_rc rc = s3dlio_xfer_run(&be, jobs, NOBJ, &o, &st);
    s3dlio_buf_release(&nb.auth);
    return rc || st.objects != NOBJ ? 0 : (double)st.requests;
}
