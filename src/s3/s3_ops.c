/* SPDX-License-Identifier: Apache-2.0 */
/* S3 operations other than object data: listing, HEAD, delete, buckets, multipart control. */
#include "s3/s3_ops.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "s3/xml.h"
#include "util/alloc.h"

static void add_query(struct s3dlio_s3_call *call, const char *name, const char *value)
{
    call->query[call->nquery++] = (struct s3dlio_kv){name, value};
}

static void add_header(struct s3dlio_s3_call *call, const char *name, const char *value)
{
    call->headers[call->nheaders++] = (struct s3dlio_kv){name, value};
}

static void init_call(struct s3dlio_s3_call *call, const char *op, const char *method,
                      const char *bucket, const char *key)
{
    memset(call, 0, sizeof(*call));
    call->op = op;
    call->method = method;
    call->bucket = bucket;
    call->key = key;
}

/* Name the operation and target in an error the parser filled. */
static enum s3dlio_rc parse_failed(struct s3dlio_error *err, enum s3dlio_rc rc,
                                   const struct s3dlio_s3_call *call)
{
    char target[S3DLIO_ERROR_TARGET_MAX];
    s3dlio_s3_target(call->bucket, call->target_key ? call->target_key : call->key, target,
                     sizeof(target));
    if (err) {
        snprintf(err->op, sizeof(err->op), "%s", call->op);
        snprintf(err->target, sizeof(err->target), "%s", target);
        err->http_status = (int)call->status;
        if (!err->request_id[0])
            snprintf(err->request_id, sizeof(err->request_id), "%s", call->request_id);
    }
    return rc;
}

enum s3dlio_rc s3dlio_s3_list_v2(struct s3dlio_s3_client *c, const char *bucket,
                                 const struct s3dlio_list_req *req, const volatile sig_atomic_t *stop,
                                 struct s3dlio_list_page *page, struct s3dlio_error *err)
{
    struct s3dlio_s3_call call;
    char max_keys[16];
    init_call(&call, "list", "GET", bucket, NULL);
    call.target_key = req->prefix;
    call.stop = stop;
    add_query(&call, "list-type", "2");
    /* url encoding lets keys with characters XML 1.0 cannot carry come through intact */
    add_query(&call, "encoding-type", "url");
    snprintf(max_keys, sizeof(max_keys), "%d", req->max_keys > 0 ? req->max_keys : 1000);
    add_query(&call, "max-keys", max_keys);
    if (req->prefix && *req->prefix)
        add_query(&call, "prefix", req->prefix);
    if (req->delimiter && *req->delimiter)
        add_query(&call, "delimiter", req->delimiter);
    if (req->continuation && *req->continuation)
        add_query(&call, "continuation-token", req->continuation);
    else if (req->start_after && *req->start_after)
        add_query(&call, "start-after", req->start_after);
    enum s3dlio_rc rc = s3dlio_s3_call_perform(c, &call, err);
    if (!rc) {
        rc = s3dlio_xml_parse_list_v2(call.resp_body.data, call.resp_body.len, page, err);
        if (rc)
            parse_failed(err, rc, &call);
    }
    s3dlio_s3_call_release(&call);
    return rc;
}

void s3dlio_s3_prepare_head(struct s3dlio_s3_call *call, const char *bucket, const char *key,
                            const char *part_number)
{
    init_call(call, "stat", "HEAD", bucket, key);
    if (part_number)
        add_query(call, "partNumber", part_number);
}

/*
 * A HEAD refused with 403 has no body, so no reason: an unknown access key, a wrong secret
 * and a missing permission all look alike. A one-byte GET of the same key is checked the
 * same way and its answer names the cause (InvalidAccessKeyId, SignatureDoesNotMatch,
 * AccessDenied); the HEAD's error takes that code, message and request id.
 */
static void name_forbidden(struct s3dlio_s3_client *c, const char *bucket, const char *key,
                           struct s3dlio_error *err)
{
    struct s3dlio_s3_call probe;
    struct s3dlio_error perr = {0};
    init_call(&probe, "stat", "GET", bucket, key);
    add_header(&probe, "Range", "bytes=0-0");
    if (s3dlio_s3_call_perform(c, &probe, &perr) && perr.s3_code[0]) {
        snprintf(err->s3_code, sizeof(err->s3_code), "%s", perr.s3_code);
        snprintf(err->message, sizeof(err->message), "%s", perr.message);
        snprintf(err->request_id, sizeof(err->request_id), "%s", perr.request_id);
        err->rc = perr.rc;
    }
    s3dlio_s3_call_release(&probe);
}

enum s3dlio_rc s3dlio_s3_head_object(struct s3dlio_s3_client *c, const char *bucket, const char *key,
                                     struct s3dlio_stat *out, struct s3dlio_error *err)
{
    struct s3dlio_s3_call call;
    s3dlio_s3_prepare_head(&call, bucket, key, NULL);
    enum s3dlio_rc rc = s3dlio_s3_call_perform(c, &call, err);
    if (rc == S3DLIO_E_NOT_FOUND && err && !err->s3_code[0]) {
        /* HEAD has no body: tell a missing key from a missing bucket with one more HEAD */
        struct s3dlio_error berr = {0};
        s3dlio_error_name_missing(err, s3dlio_s3_bucket_head(c, bucket, &berr) == S3DLIO_E_NOT_FOUND);
    }
    if (rc && err && err->http_status == 403 && !err->s3_code[0])
        name_forbidden(c, bucket, key, err);
    if (!rc) {
        memset(out, 0, sizeof(*out));
        out->size = call.content_length;
        out->mtime = call.last_modified;
        snprintf(out->etag, sizeof(out->etag), "%s", call.etag);
    }
    s3dlio_s3_call_release(&call);
    return rc;
}

enum s3dlio_rc s3dlio_s3_delete_object(struct s3dlio_s3_client *c, const char *bucket,
                                       const char *key, struct s3dlio_error *err)
{
    struct s3dlio_s3_call call;
    init_call(&call, "delete", "DELETE", bucket, key);
    enum s3dlio_rc rc = s3dlio_s3_call_perform(c, &call, err);
    s3dlio_s3_call_release(&call);
    return rc;
}

/* Map the DeleteResult's per-key errors back to the caller's key order. */
static void record_failures(const char *bucket, const char *const *keys, size_t n,
                            const struct s3dlio_delete_failure *f, size_t nf,
                            struct s3dlio_error *errs, size_t *nfailed)
{
    for (size_t i = 0; i < nf; i++) {
        for (size_t k = 0; k < n; k++) {
            if (strcmp(keys[k], f[i].key) || (errs && errs[k].rc))
                continue;
            if (errs) {
                char target[S3DLIO_ERROR_TARGET_MAX];
                s3dlio_s3_target(bucket, keys[k], target, sizeof(target));
                s3dlio_error_set(&errs[k], S3DLIO_E_S3, "delete", target, "%s", f[i].message);
                snprintf(errs[k].s3_code, sizeof(errs[k].s3_code), "%s", f[i].code);
            }
            break;
        }
    }
    *nfailed = nf;
}

static enum s3dlio_rc delete_batch(struct s3dlio_s3_client *c, const char *bucket,
                                   const char *const *keys, size_t n, struct s3dlio_error *errs,
                                   size_t *nfailed, struct s3dlio_error *err)
{
    struct s3dlio_buf body = S3DLIO_BUF_INIT(64u << 20);
    struct s3dlio_s3_call call;
    struct s3dlio_delete_failure *fail = NULL;
    size_t nfail = 0, ndeleted = 0;
    char md5[25];
    *nfailed = 0;
    init_call(&call, "delete", "POST", bucket, NULL);
    enum s3dlio_rc rc = s3dlio_xml_build_delete(&body, keys, n, true);
    if (rc) {
        s3dlio_error_set(err, rc, "delete", bucket, "cannot build DeleteObjects body (a key holds "
                                                    "characters XML cannot carry)");
        goto out;
    }
    /* DeleteObjects requires an integrity header */
    s3dlio_md5_base64(body.data, body.len, md5);
    add_query(&call, "delete", "");
    add_header(&call, "Content-MD5", md5);
    call.body = body.data;
    call.body_len = body.len;
    rc = s3dlio_s3_call_perform(c, &call, err);
    if (!rc) {
        rc = s3dlio_xml_parse_delete_result(call.resp_body.data, call.resp_body.len, &fail, &nfail,
                                            &ndeleted, err);
        if (rc)
            parse_failed(err, rc, &call);
    }
    if (!rc)
        record_failures(bucket, keys, n, fail, nfail, errs, nfailed);
out:
    s3dlio_delete_failures_free(fail, nfail);
    s3dlio_s3_call_release(&call);
    s3dlio_buf_release(&body);
    return rc;
}

enum s3dlio_rc s3dlio_s3_delete_objects(struct s3dlio_s3_client *c, const char *bucket,
                                        const char *const *keys, size_t n, struct s3dlio_error *errs,
                                        size_t *nfailed, struct s3dlio_error *err)
{
    /* a key with characters XML 1.0 cannot carry (a control character) cannot be named in a
     * DeleteObjects body: it goes alone, as a DeleteObject with the key in the URL */
    const char **batch = s3dlio_xcalloc(n + 1, sizeof(*batch));
    size_t *where = s3dlio_xcalloc(n + 1, sizeof(*where));
    struct s3dlio_error *berrs = s3dlio_xcalloc(n + 1, sizeof(*berrs));
    size_t nb = 0, nf = 0, bf = 0;
    enum s3dlio_rc rc = S3DLIO_OK;
    for (size_t i = 0; i < n; i++) {
        if (s3dlio_xml_can_carry(keys[i])) {
            where[nb] = i;
            batch[nb++] = keys[i];
            continue;
        }
        struct s3dlio_error one = {0};
        if (s3dlio_s3_delete_object(c, bucket, keys[i], &one)) {
            nf++;
            if (errs)
                errs[i] = one;
        }
    }
    if (nb)
        rc = delete_batch(c, bucket, batch, nb, berrs, &bf, err);
    for (size_t j = 0; !rc && errs && j < nb; j++)
        if (berrs[j].rc)
            errs[where[j]] = berrs[j];
    *nfailed = nf + (rc ? 0 : bf);
    free(batch);
    free(where);
    free(berrs);
    return rc;
}

enum s3dlio_rc s3dlio_s3_bucket_create(struct s3dlio_s3_client *c, const char *bucket,
                                       const char *region, struct s3dlio_error *err)
{
    struct s3dlio_s3_call call;
    struct s3dlio_buf body = S3DLIO_BUF_INIT(4096);
    init_call(&call, "make-bucket", "PUT", bucket, NULL);
    /* us-east-1 is the one region that takes no LocationConstraint */
    if (region && *region && strcmp(region, "us-east-1")) {
        s3dlio_buf_addf(&body,
                        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                        "<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
                        region);
        call.body = body.data;
        call.body_len = body.len;
    }
    enum s3dlio_rc rc = s3dlio_s3_call_perform(c, &call, err);
    s3dlio_s3_call_release(&call);
    s3dlio_buf_release(&body);
    return rc;
}

enum s3dlio_rc s3dlio_s3_bucket_delete(struct s3dlio_s3_client *c, const char *bucket,
                                       struct s3dlio_error *err)
{
    struct s3dlio_s3_call call;
    init_call(&call, "remove-bucket", "DELETE", bucket, NULL);
    enum s3dlio_rc rc = s3dlio_s3_call_perform(c, &call, err);
    s3dlio_s3_call_release(&call);
    return rc;
}

enum s3dlio_rc s3dlio_s3_bucket_head(struct s3dlio_s3_client *c, const char *bucket,
                                     struct s3dlio_error *err)
{
    struct s3dlio_s3_call call;
    init_call(&call, "head-bucket", "HEAD", bucket, NULL);
    enum s3dlio_rc rc = s3dlio_s3_call_perform(c, &call, err);
    if (rc == S3DLIO_E_NOT_FOUND && err && !err->s3_code[0]) {
        snprintf(err->s3_code, sizeof(err->s3_code), "NoSuchBucket");
        snprintf(err->message, sizeof(err->message), "The specified bucket does not exist");
    }
    s3dlio_s3_call_release(&call);
    return rc;
}

void s3dlio_s3_prepare_mpu_create(struct s3dlio_s3_call *call, const char *bucket, const char *key,
                                  const char *meta_part_size)
{
    init_call(call, "put", "POST", bucket, key);
    add_query(call, "uploads", "");
    if (meta_part_size)
        add_header(call, "x-amz-meta-s3dlio-part-size", meta_part_size);
}

enum s3dlio_rc s3dlio_s3_parse_mpu_create(struct s3dlio_s3_call *call, char **upload_id,
                                          struct s3dlio_error *err)
{
    enum s3dlio_rc rc = s3dlio_xml_parse_initiate_mpu(call->resp_body.data, call->resp_body.len,
                                                      upload_id, err);
    return rc ? parse_failed(err, rc, call) : S3DLIO_OK;
}

enum s3dlio_rc s3dlio_s3_prepare_mpu_complete(struct s3dlio_s3_call *call, const char *bucket,
                                              const char *key, const char *upload_id,
                                              const struct s3dlio_part *parts, size_t nparts,
                                              struct s3dlio_buf *body, struct s3dlio_error *err)
{
    init_call(call, "put", "POST", bucket, key);
    add_query(call, "uploadId", upload_id);
    enum s3dlio_rc rc = s3dlio_xml_build_complete_mpu(body, parts, nparts);
    if (rc)
        return s3dlio_error_set(err, rc, "put", key, "cannot build CompleteMultipartUpload body");
    call->body = body->data;
    call->body_len = body->len;
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_s3_parse_mpu_complete(struct s3dlio_s3_call *call, char etag[80],
                                            struct s3dlio_error *err)
{
    /* S3 may answer 200 and still fail: the body then is an <Error> */
    enum s3dlio_rc rc = s3dlio_xml_parse_complete_mpu(call->resp_body.data, call->resp_body.len,
                                                      etag, err);
    return rc ? parse_failed(err, rc, call) : S3DLIO_OK;
}

void s3dlio_s3_prepare_mpu_abort(struct s3dlio_s3_call *call, const char *bucket, const char *key,
                                 const char *upload_id)
{
    init_call(call, "abort-upload", "DELETE", bucket, key);
    add_query(call, "uploadId", upload_id);
}

void s3dlio_s3_prepare_copy(struct s3dlio_s3_call *call, const char *bucket, const char *key,
                            const char *copy_source, const char *if_match, const char *range,
                            const char *part_number, const char *upload_id)
{
    init_call(call, "copy", "PUT", bucket, key);
    add_header(call, "x-amz-copy-source", copy_source);
    /* the source's version as listed: a 412 when it changed since, never a mix */
    if (if_match)
        add_header(call, "x-amz-copy-source-if-match", if_match);
    if (upload_id) {
        add_header(call, "x-amz-copy-source-range", range);
        add_query(call, "partNumber", part_number);
        add_query(call, "uploadId", upload_id);
    }
}

enum s3dlio_rc s3dlio_s3_parse_copy(struct s3dlio_s3_call *call, bool part, char etag[80],
                                    struct s3dlio_error *err)
{
    enum s3dlio_rc rc = s3dlio_xml_parse_copy_result(call->resp_body.data, call->resp_body.len,
                                                     part ? "CopyPartResult" : "CopyObjectResult",
                                                     etag, err);
    return rc ? parse_failed(err, rc, call) : S3DLIO_OK;
}
