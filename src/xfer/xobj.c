/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One object's life in the transfer engine. A GET: a HEAD when its size is unknown (and,
 * for --verify of a multipart object, one for its part layout), then its ranges, every one
 * pinned to the version listed; when one of them finds the object changed, the others
 * drain, a HEAD tells what is there now, and the object fails as changed (or, with
 * --on-change restart, is fetched whole again, once). A PUT: single, or CreateMultipartUpload,
 * parts in parallel, CompleteMultipartUpload, and an abort when anything failed; from a stream
 * of unknown length, the same with parts made as the input arrives.
 * Nothing half-done is ever left looking complete: files are renamed into place only when
 * whole and checked, uploads are completed only when every part arrived.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "s3dlio/stats.h"
#include "util/alloc.h"
#include "util/crc32c.h"
#include "util/log.h"
#include "xfer/engine_int.h"

#define MIB (1ull << 20)

uint64_t s3dlio_xfer_part_size(uint64_t part_size, uint64_t size)
{
    uint64_t ps = part_size ? part_size : 8 * MIB;
    if (ps > S3DLIO_MAX_PART_SIZE)
        ps = S3DLIO_MAX_PART_SIZE;
    if (size && (size - 1) / ps + 1 > S3DLIO_MAX_PARTS) {
        /* more than 10,000 parts is refused by S3: the smallest whole-MiB part that fits */
        uint64_t need = (size - 1) / S3DLIO_MAX_PARTS + 1;
        ps = (need + MIB - 1) / MIB * MIB;
    }
    return ps;
}

static const char *op_name(const struct xobj *o)
{
    return o->job->dir == S3DLIO_XFER_GET ? "get" : o->job->dir == S3DLIO_XFER_COPY ? "copy" : "put";
}

/* job failed (job->rc, job->err set): its message names the object, the run keeps its rc */
static void job_failed(struct xfer *x, struct s3dlio_xfer_job *job)
{
    /* errors the engine itself raised name the key: the user wants the object's URI */
    if (!strcmp(job->err->target, job->key))
        s3dlio_uri_join(&x->be->root, job->key, job->err->target, sizeof(job->err->target));
    if (!x->first_rc)
        x->first_rc = job->rc;
}

/* The engine lets go of job: last, since the callee may free it. */
static void job_done(struct xfer *x, struct s3dlio_xfer_job *job)
{
    if (x->o->on_job_done)
        x->o->on_job_done(x->o->job_done_ud, job);
}

void xobj_fail(struct xfer *x, struct xobj *o, const struct s3dlio_error *err)
{
    struct s3dlio_xfer_job *job = o->job;
    if (o->failed)
        return; /* the first failure is the one reported */
    o->failed = true;
    s3dlio_xfer_job_fail(job, err);
    job_failed(x, job);
}

/* "... (after N attempts)" on the final error of a request that was retried. */
static void note_attempts(const struct xreq *r, struct s3dlio_error *err)
{
    if (!r->attempt)
        return;
    size_t n = strlen(err->message);
    double secs = r->first_fail_ns ? (double)(xfer_now_ns() - r->first_fail_ns) / 1e9 : 0;
    if (secs >= 1)
        snprintf(err->message + n, sizeof(err->message) - n, "%s(after %d attempts in %.0f s)",
                 n ? " " : "", r->attempt + 1, secs);
    else
        snprintf(err->message + n, sizeof(err->message) - n, "%s(after %d attempts)",
                 n ? " " : "", r->attempt + 1);
}

void xobj_ctl_start(struct xfer *x, struct xobj *o, enum xstep step)
{
    struct xreq *r = &o->ctl;
    memset(r, 0, sizeof(*r));
    r->x = x;
    r->o = o;
    r->step = step;
    xq_push_front(&x->ready, r); /* an object's next step goes before new work */
}

/* ---- parts -------------------------------------------------------------------------------- */

/* The bytes of the object this job moves: a range of it, or all of it. */
static uint64_t span_start(const struct xobj *o)
{
    return o->job->range_len ? o->job->range_off : 0;
}

static uint64_t span_len(const struct xobj *o)
{
    return o->job->range_len ? o->job->range_len : o->size;
}

/* The number of the first part: 1, or where this rank's share of a shared upload starts. */
static int first_part(const struct xobj *o)
{
    return o->job->upload_id ? o->job->part_first : 1;
}

static void make_parts(struct xfer *x, struct xobj *o, bool multi, uint64_t ps)
{
    uint64_t base = span_start(o), span = span_len(o);
    o->nparts = multi ? (size_t)((span + ps - 1) / ps) : 1;
    if (!o->nparts)
        o->nparts = 1;
    o->parts = s3dlio_xcalloc(o->nparts, sizeof(*o->parts));
    for (size_t i = 0; i < o->nparts; i++) {
        struct xreq *r = &o->parts[i];
        r->x = x;
        r->o = o;
        r->step = STEP_DATA;
        r->off = base + (multi ? i * ps : 0);
        r->len = multi ? (span - i * ps < ps ? span - i * ps : ps) : span;
        r->whole = !multi && !o->job->range_len;
        r->number = multi && o->job->dir != S3DLIO_XFER_GET ? first_part(o) + (int)i : 0;
        xq_push(&x->ready, r);
    }
    o->outstanding = o->nparts;
}

static void finish_object(struct xfer *x, struct xobj *o);

static void free_parts(struct xfer *x, struct xobj *o)
{
    for (size_t i = 0; i < o->nparts; i++) {
        xfer_pool_put(x, &o->parts[i]);
        s3dlio_md5_release(&o->parts[i].md5);
    }
    free(o->parts);
    o->parts = NULL;
    o->nparts = 0;
}

static void split_get(struct xfer *x, struct xobj *o)
{
    const struct s3dlio_xfer_opts *opt = x->o;
    /* the destination is made only now, when there is something to put in it: a key that
     * turned out missing leaves no empty file or directory behind */
    if (!o->local_open) {
        struct s3dlio_error e = {0};
        if (s3dlio_local_open(&o->local, o->job, &o->size, &e)) {
            xobj_fail(x, o, &e);
            finish_object(x, o);
            return;
        }
        o->local_open = true;
    }
    if (o->size == S3DLIO_SIZE_UNKNOWN || o->job->local == S3DLIO_LOCAL_STREAM)
        make_parts(x, o, false, 0);
    else if (o->vmode == V_PARTS) /* ranges = the upload's parts, each hashed as it streams */
        make_parts(x, o, true, o->layout_part);
    else if (o->vmode == V_WHOLE && !s3dlio_local_can_reread(&o->local))
        make_parts(x, o, false, 0); /* one stream: the MD5 needs the bytes in order */
    else
        make_parts(x, o, span_len(o) > opt->range_threshold,
                   s3dlio_xfer_part_size(opt->part_size, span_len(o)));
}

static enum s3dlio_rc data_sink(void *ud, uint64_t offset, const void *data, size_t len)
{
    struct xreq *r = ud;
    struct xobj *o = r->o;
    if (o->size != S3DLIO_SIZE_UNKNOWN && offset + len > o->size)
        return s3dlio_error_set(&r->sink_err, S3DLIO_E_INTEGRITY, "get", o->job->key,
                                "object is larger than its listed size %" PRIu64, o->size);
    /* never into another range's bytes, whatever the answer claimed */
    if (!r->whole && offset + len > r->off + r->len)
        return s3dlio_error_set(&r->sink_err, S3DLIO_E_INTEGRITY, "get", o->job->key,
                                "more bytes than the range %" PRIu64 "-%" PRIu64 " asked for",
                                r->off, r->off + r->len - 1);
    enum s3dlio_rc rc = s3dlio_local_write(&o->local, offset, data, len, &r->sink_err);
    if (rc)
        return rc;
    xverify_data(r->x, r, offset, data, len);
    r->done += len;
    return S3DLIO_OK;
}

static enum s3dlio_rc data_source(void *ud, uint64_t offset, void *buf, size_t len, size_t *got)
{
    struct xreq *r = ud;
    if (r->buf) {
        size_t n = offset < r->len ? (size_t)(r->len - offset) : 0;
        *got = n < len ? n : len;
        memcpy(buf, r->buf + offset, *got);
        return S3DLIO_OK;
    }
    return s3dlio_local_read(&r->o->local, r->off + offset, buf, len, got, &r->sink_err);
}

/* Fill a PUT part's buffer once, hashing as it is read: no second pass over the data. */
static enum s3dlio_rc fill_buffer(struct xfer *x, struct xreq *r)
{
    struct s3dlio_sha256 sha;
    struct s3dlio_md5 md5;
    enum s3dlio_rc rc = S3DLIO_OK;
    uint64_t at = 0;
    uint32_t crc = 0;
    xfer_pool_get(x, r, (size_t)r->len);
    if (x->o->hash_payload)
        s3dlio_sha256_init(&sha);
    if (x->o->verify)
        s3dlio_md5_init(&md5);
    while (!rc && at < r->len) {
        size_t chunk = r->len - at < MIB ? (size_t)(r->len - at) : MIB, got = 0;
        rc = s3dlio_local_read(&r->o->local, r->off + at, r->buf + at, chunk, &got, &r->sink_err);
        if (!rc && got != chunk)
            rc = s3dlio_error_set(&r->sink_err, S3DLIO_E_IO, "put", r->o->job->key,
                                  "source ended early (changed while uploading?)");
        if (!rc && x->o->hash_payload)
            s3dlio_sha256_update(&sha, r->buf + at, got);
        if (!rc && x->o->verify)
            s3dlio_md5_update(&md5, r->buf + at, got);
        /* each chunk while it is in cache, like the hashes: no second pass over the part */
        if (!rc && r->o->job->part_crc32c)
            crc = s3dlio_crc32c(crc, r->buf + at, got);
        at += got;
    }
    char hex[33];
    if (!rc && r->o->job->part_crc32c)
        r->o->job->part_crc32c[r->number ? r->number - first_part(r->o) : 0] = crc;
    if (x->o->hash_payload)
        s3dlio_sha256_final_hex(&sha, r->sha256);
    if (x->o->verify)
        s3dlio_md5_final(&md5, hex, r->md5_b64);
    return rc;
}

static void setup_get(struct xreq *r)
{
    struct s3dlio_req *q = &r->req;
    struct xobj *o = r->o;
    q->op = S3DLIO_REQ_GET;
    q->offset = r->off + r->done;
    /* a whole object on the first try is a plain GET: no Range header for small objects */
    if (r->whole && (r->done == 0 || o->size == S3DLIO_SIZE_UNKNOWN))
        q->length = S3DLIO_LEN_TO_END;
    else
        q->length = r->len - r->done;
    q->if_match = o->etag[0] ? o->etag : NULL;
    q->size_pinned = o->size != S3DLIO_SIZE_UNKNOWN;
    q->expect_size = o->size;
    q->sink = data_sink;
    q->sink_ud = r;
}

static enum s3dlio_rc setup_put(struct xfer *x, struct xreq *r)
{
    struct s3dlio_req *q = &r->req;
    enum s3dlio_rc rc = S3DLIO_OK;
    q->op = r->number ? S3DLIO_REQ_PUT_PART : S3DLIO_REQ_PUT;
    q->length = r->len;
    q->source = data_source;
    q->source_ud = r;
    q->upload_id = r->o->upload_id;
    q->part_number = r->number;
    if ((x->o->verify || x->o->hash_payload || r->o->job->part_crc32c) && !r->buf)
        rc = fill_buffer(x, r);
    q->content_md5 = x->o->verify && r->md5_b64[0] ? r->md5_b64 : NULL;
    q->payload_sha256 = x->o->hash_payload && r->sha256[0] ? r->sha256 : NULL;
    return rc;
}

/* Server-side: the whole source, or one range of it as a part; pinned to the ETag listed. */
static void setup_copy(struct xreq *r)
{
    struct s3dlio_req *q = &r->req;
    const struct s3dlio_xfer_job *job = r->o->job;
    q->op = r->number ? S3DLIO_REQ_COPY_PART : S3DLIO_REQ_COPY;
    q->copy_source = job->copy_source;
    q->if_match = job->etag && job->etag[0] ? job->etag : NULL;
    q->offset = r->off;
    q->length = r->len;
    q->upload_id = r->o->upload_id;
    q->part_number = r->number;
}

static void setup_complete(struct xobj *o, struct s3dlio_req *q)
{
    if (!o->mpu_parts) {
        o->mpu_parts = s3dlio_xcalloc(o->nparts, sizeof(*o->mpu_parts));
        for (size_t i = 0; i < o->nparts; i++) {
            o->mpu_parts[i].number = o->parts[i].number;
            memcpy(o->mpu_parts[i].etag, o->parts[i].req.etag, sizeof(o->mpu_parts[i].etag));
        }
        o->mpu_n = o->nparts;
    } /* else a stream's: its parts were recorded as they succeeded */
    q->op = S3DLIO_REQ_MPU_COMPLETE;
    q->upload_id = o->upload_id;
    q->parts = o->mpu_parts;
    q->nparts = o->mpu_n;
}

enum s3dlio_rc xobj_setup(struct xfer *x, struct xreq *r)
{
    struct s3dlio_req *q = &r->req;
    struct xobj *o = r->o;
    memset(q, 0, sizeof(*q));
    q->key = o->job->key;
    switch (r->step) {
    case STEP_DATA:
        if (o->job->dir == S3DLIO_XFER_GET) {
            setup_get(r);
            return S3DLIO_OK;
        }
        if (o->job->dir == S3DLIO_XFER_COPY) {
            setup_copy(r);
            return S3DLIO_OK;
        }
        return setup_put(x, r);
    case STEP_LAYOUT:
        q->part_number = 1;
        /* fall through */
    case STEP_HEAD:
        q->if_match = o->etag[0] ? o->etag : NULL;
        /* fall through */
    case STEP_RECHECK:
    case STEP_CONFIRM:
        q->op = S3DLIO_REQ_HEAD;
        return S3DLIO_OK;
    case STEP_SOURCE:
        q->op = S3DLIO_REQ_HEAD;
        q->bucket = o->source_bucket;
        q->key = o->job->copy_source + strlen(o->source_bucket) + 1;
        q->if_match = o->etag;
        return S3DLIO_OK;
    case STEP_CREATE:
        q->op = S3DLIO_REQ_MPU_CREATE;
        q->meta_part_size =
            o->slot_size ? o->slot_size : s3dlio_xfer_part_size(x->o->part_size, o->size);
        return S3DLIO_OK;
    case STEP_COMPLETE:
        setup_complete(o, q);
        return S3DLIO_OK;
    case STEP_ABORT:
        q->op = S3DLIO_REQ_MPU_ABORT;
        q->upload_id = o->upload_id;
        return S3DLIO_OK;
    }
    return S3DLIO_E_INTERNAL;
}

/* ---- starting ----------------------------------------------------------------------------- */

/* GET: with size and ETag known, the layout HEAD (--verify of a multipart object) or the parts. */
static void plan_get(struct xfer *x, struct xobj *o, const struct s3dlio_req *head)
{
    xverify_plan(x, o, head);
    if (xverify_needs_layout(x, o))
        xobj_ctl_start(x, o, STEP_LAYOUT);
    else
        split_get(x, o);
}

static enum s3dlio_rc check_job(const struct xobj *o, struct s3dlio_error *err)
{
    const struct s3dlio_xfer_job *job = o->job;
    if (job->dir == S3DLIO_XFER_GET && job->local == S3DLIO_LOCAL_MEMORY &&
        job->size == S3DLIO_SIZE_UNKNOWN)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "get", job->key,
                                "a memory destination needs the object's size");
    /* a file that changed since it was listed would upload other bytes than were planned */
    if (job->dir == S3DLIO_XFER_PUT && job->local == S3DLIO_LOCAL_FILE &&
        job->size != S3DLIO_SIZE_UNKNOWN && o->size != job->size)
        return s3dlio_error_set(err, S3DLIO_E_CHANGED, "put", job->path,
                                "the file has %" PRIu64 " bytes, %" PRIu64 " when it was listed "
                                "(changed while uploading?)", o->size, job->size);
    if (job->range_len && (o->size == S3DLIO_SIZE_UNKNOWN || job->range_off > o->size ||
                           job->range_len > o->size - job->range_off))
        return s3dlio_error_set(err, S3DLIO_E_USAGE, op_name(o), job->key,
                                "range %" PRIu64 "+%" PRIu64 " is not within its %" PRIu64 " bytes",
                                job->range_off, job->range_len, o->size);
    if (job->upload_id && (job->dir != S3DLIO_XFER_PUT || !job->range_len ||
                           !job->upload_part_size || job->part_first < 1 ||
                           job->local == S3DLIO_LOCAL_STREAM))
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "put", job->key,
                                "a share of an upload needs its range, part size and first part");
    if (job->dir == S3DLIO_XFER_COPY && (!job->copy_source || o->size == S3DLIO_SIZE_UNKNOWN ||
                                         job->upload_id))
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "copy", job->key,
                                "a copy needs its source and the source's size");
    if (job->dir != S3DLIO_XFER_GET && o->size != S3DLIO_SIZE_UNKNOWN &&
        o->size > S3DLIO_MAX_OBJECT_SIZE)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "put", job->key,
                                "%" PRIu64 " bytes exceed S3's object size limit of 5 TiB", o->size);
    return S3DLIO_OK;
}

/* CopyObject up to its 5 GiB limit (or copy_threshold); above, a multipart copy. */
static void start_copy(struct xfer *x, struct xobj *o)
{
    uint64_t limit = x->o->copy_threshold && x->o->copy_threshold < S3DLIO_MAX_PART_SIZE
                         ? x->o->copy_threshold
                         : S3DLIO_MAX_PART_SIZE;
    if (!s3dlio_backend_has_server_copy(x->be)) {
        struct s3dlio_error err = {0};
        s3dlio_error_set(&err, S3DLIO_E_UNSUPPORTED, "copy", o->job->key,
                         "the '%s' backend cannot copy on the server", x->be->ops->scheme);
        xobj_fail(x, o, &err);
        finish_object(x, o);
    } else if (o->size > limit) {
        xobj_ctl_start(x, o, STEP_CREATE);
    } else {
        make_parts(x, o, false, 0);
    }
}

/*
 * A copy pinned to the listed ETag asks the server to refuse a source that changed
 * (x-amz-copy-source-if-match), but some servers ignore the condition (RGW up to at least
 * 16.2, Ceph tracker 40808): a source rewritten meanwhile is copied anyway, and a multipart
 * copy's parts may then come from two versions. So the source is asked again once the data
 * is copied, before a multipart copy completes, and after a single copy whose new ETag is not
 * the listed one (an encrypted source's may differ unchanged). One HEAD for each multipart
 * copy; none for a single copy of an unchanged, unencrypted source.
 */
static bool source_unconfirmed(const struct xobj *o)
{
    if (o->job->dir != S3DLIO_XFER_COPY || o->failed || !o->etag[0] || !o->source_bucket[0])
        return false;
    return o->upload_id ? true : strcmp(o->job->etag_out, o->etag) != 0;
}

static void note_source_bucket(struct xobj *o)
{
    const char *src = o->job->copy_source, *slash = src ? strchr(src, '/') : NULL;
    size_t n = slash ? (size_t)(slash - src) : 0;
    if (n && n < sizeof(o->source_bucket)) {
        memcpy(o->source_bucket, src, n);
        o->source_bucket[n] = '\0';
    }
}

void xobj_start(struct xfer *x, struct s3dlio_xfer_job *job)
{
    if (job->rc) { /* refused by whoever planned it (e.g. an unsafe file name) */
        job_failed(x, job);
        x->st->failures++;
        job_done(x, job);
        return;
    }
    struct xobj *o = s3dlio_xcalloc(1, sizeof(*o));
    o->job = job;
    o->size = job->size;
    snprintf(o->etag, sizeof(o->etag), "%s", job->etag ? job->etag : "");
    x->active++;
    s3dlio_local_init(&o->local, job);
    enum s3dlio_rc rc = S3DLIO_OK;
    struct s3dlio_error e = {0};
    if (job->dir == S3DLIO_XFER_PUT) { /* a GET opens its destination when data is due */
        rc = s3dlio_local_open(&o->local, job, &o->size, &e);
        o->local_open = !rc;
    }
    if (!rc)
        rc = check_job(o, &e);
    if (rc) {
        if (!e.rc)
            s3dlio_error_set(&e, rc, op_name(o), job->key, "%s", s3dlio_rc_str(rc));
        xobj_fail(x, o, &e);
        finish_object(x, o); /* nothing was queued: removes what local_open created */
        return;
    }
    if (job->dir == S3DLIO_XFER_PUT && job->local == S3DLIO_LOCAL_STREAM) {
        xstream_start(x, o);
        return;
    }
    /* progress counts bytes through the client: a copy has none */
    if (o->size != S3DLIO_SIZE_UNKNOWN && job->dir != S3DLIO_XFER_COPY)
        x->st->bytes_expected += span_len(o);
    if (job->upload_id) {
        o->upload_id = s3dlio_xstrdup(job->upload_id);
        make_parts(x, o, true, job->upload_part_size);
    } else if (job->dir == S3DLIO_XFER_GET) {
        if (o->size == S3DLIO_SIZE_UNKNOWN && job->local != S3DLIO_LOCAL_STREAM)
            xobj_ctl_start(x, o, STEP_HEAD);
        else
            plan_get(x, o, NULL);
    } else if (job->dir == S3DLIO_XFER_COPY) {
        note_source_bucket(o);
        start_copy(x, o);
    } else if (o->size > x->o->multipart_threshold && s3dlio_backend_has_multipart(x->be)) {
        xobj_ctl_start(x, o, STEP_CREATE);
    } else {
        make_parts(x, o, false, 0);
    }
}

/* ---- finishing ---------------------------------------------------------------------------- */

static void finish_object(struct xfer *x, struct xobj *o)
{
    struct s3dlio_xfer_job *job = o->job;
    struct s3dlio_error err = {0};
    if (o->reading) /* failed while its input was read (CreateMultipartUpload refused) */
        xstream_reading_done(x, o);
    if (!o->failed && job->dir == S3DLIO_XFER_GET && xverify_finish(x, o, &err))
        xobj_fail(x, o, &err);
    if (s3dlio_local_close(&o->local, !o->failed, x->o->fsync, &err))
        xobj_fail(x, o, &err);
    if (o->failed) {
        x->st->failures++;
        if (job->rc == S3DLIO_E_CHANGED)
            x->st->changed++;
    } else {
        x->st->objects++;
    }
    free_parts(x, o);
    xverify_reset(o);
    free(o->mpu_parts);
    free(o->upload_id);
    free(o);
    x->active--;
    job_done(x, job);
}

void xobj_settled(struct xfer *x, struct xobj *o)
{
    if (o->job->dir == S3DLIO_XFER_GET) {
        if (o->changed)
            xobj_ctl_start(x, o, STEP_RECHECK);
        else
            finish_object(x, o);
    } else if (source_unconfirmed(o)) {
        xobj_ctl_start(x, o, STEP_SOURCE);
    } else if (o->upload_id && !o->job->upload_id) { /* a shared upload is its owner's */
        xobj_ctl_start(x, o, o->failed ? STEP_ABORT : STEP_COMPLETE);
    } else {
        finish_object(x, o);
    }
}

static void retire(struct xfer *x, struct xreq *r)
{
    struct xobj *o = r->o;
    xfer_pool_put(x, r);
    if (--o->outstanding == 0 && !o->reading) /* a stream settles when its input has ended */
        xobj_settled(x, o);
}

static void note_change(struct xobj *o, const struct s3dlio_error *err)
{
    if (o->changed)
        return;
    o->changed = true;
    o->change_err = *err;
}

/* A new version is there (RECHECK): fetch it whole again, once (--on-change restart). */
static bool restart(struct xfer *x, struct xobj *o, const struct s3dlio_req *head)
{
    struct s3dlio_xfer_job *job = o->job;
    if (x->o->on_change != S3DLIO_ON_CHANGE_RESTART || o->restarted || o->failed ||
        x->cancelling || job->local == S3DLIO_LOCAL_STREAM || !strcmp(head->etag, o->etag))
        return false;
    if (job->local == S3DLIO_LOCAL_MEMORY && head->object_size != job->size)
        return false; /* its place in memory was sized by the listing */
    struct s3dlio_error err = {0};
    if (s3dlio_local_restart(&o->local, &err)) {
        xobj_fail(x, o, &err);
        return false;
    }
    S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_XFER, "'%s' changed (ETag '%s' -> '%s'): fetching it again",
               job->key, o->etag, head->etag);
    x->st->restarted++;
    x->st->bytes -= job->bytes;
    x->st->bytes_expected += head->object_size - o->size;
    job->bytes = 0;
    o->restarted = true;
    o->changed = false;
    o->size = head->object_size;
    snprintf(o->etag, sizeof(o->etag), "%s", head->etag);
    free_parts(x, o);
    xverify_reset(o);
    plan_get(x, o, head);
    return true;
}

/*
 * RECHECK answered: say what changed, or restart. head is what is there now; NULL when the
 * HEAD failed (gone: with a 404).
 */
static void rechecked(struct xfer *x, struct xobj *o, const struct s3dlio_req *head, bool gone,
                      const struct s3dlio_error *why)
{
    struct s3dlio_error err = o->change_err;
    if (head && restart(x, o, head))
        return;
    err.rc = S3DLIO_E_CHANGED;
    char listed[160];
    if (o->size != S3DLIO_SIZE_UNKNOWN)
        snprintf(listed, sizeof(listed), "ETag '%s', %" PRIu64 " bytes", o->etag, o->size);
    else
        snprintf(listed, sizeof(listed), "ETag '%s'", o->etag);
    if (gone)
        snprintf(err.message, sizeof(err.message), "deleted during the transfer (was %s)", listed);
    else if (head && (strcmp(head->etag, o->etag) || head->object_size != o->size))
        snprintf(err.message, sizeof(err.message), "was %s, now ETag '%s', %" PRIu64 " bytes",
                 listed, head->etag, head->object_size);
    else if (!head && why) {
        size_t n = strlen(err.message);
        snprintf(err.message + n, sizeof(err.message) - n, " (what is there now is unknown: %.200s)",
                 why->message);
    }
    /* else: the same version is there, so an answer itself was wrong (a Range ignored, a
     * short range): its message stands */
    xobj_fail(x, o, &err);
    finish_object(x, o);
}

/* ---- completions -------------------------------------------------------------------------- */

static void count_failure(struct xfer *x, const struct s3dlio_error *err)
{
    if (s3dlio_retry_is_throttle(err))
        x->st->throttled++;
    else if (err->http_status >= 500)
        x->st->server_errors++;
}

/* The first answer (HEAD or GET) pins what the listing did not give: ETag, size. */
static void pin_version(struct xfer *x, struct xobj *o, const char *etag, uint64_t size)
{
    if (!o->etag[0] && etag[0])
        snprintf(o->etag, sizeof(o->etag), "%s", etag);
    if (o->size == S3DLIO_SIZE_UNKNOWN && size != S3DLIO_SIZE_UNKNOWN) {
        o->size = size;
        x->st->bytes_expected += size;
    }
}

static void data_done(struct xfer *x, struct xreq *r)
{
    struct xobj *o = r->o;
    struct s3dlio_req *q = &r->req;
    struct s3dlio_error err = r->sink_err.rc ? r->sink_err : q->err;
    enum s3dlio_rc rc = r->rc;
    bool get = o->job->dir == S3DLIO_XFER_GET;
    /* a streamed GET's answer pins its version (no Content-Length: size still unknown) */
    if (get && q->http_status >= 200 && q->http_status <= 299)
        pin_version(x, o, q->etag, q->object_size ? q->object_size : S3DLIO_SIZE_UNKNOWN);
    if (!rc) {
        r->complete = true; /* verify's catch-up reads past it */
        if (get && (rc = xverify_part_done(x, r, &err)))
            r->complete = false;
    }
    /* payload counted on success: none for a copy, which moved nothing through the client */
    uint64_t moved = get ? r->done : o->job->dir == S3DLIO_XFER_COPY ? 0 : r->len;
    xfer_span(x, r, rc, rc ? q->bytes : moved);
    if (rc) {
        if (!err.rc)
            s3dlio_error_set(&err, rc, op_name(o), o->job->key, "%s", s3dlio_rc_str(rc));
        count_failure(x, &err);
        xfer_limit_failure(x, r, &err);
        /* a local write or read failure will not go away by asking the server again */
        if (r->sink_err.rc && r->sink_err.rc != S3DLIO_E_INTEGRITY)
            r->fatal = true;
        if (err.rc == S3DLIO_E_CHANGED && get) { /* a copy's source changed: it fails */
            note_change(o, &err);
        } else if (xfer_retry(x, r, &err)) {
            return;
        } else {
            note_attempts(r, &err);
            xobj_fail(x, o, &err);
        }
        retire(x, r);
        return;
    }
    xfer_limit_success(x);
    if (o->slot_size && r->number)
        xstream_part_done(o, r);
    if (!get && o->job->parts_out && r->number) {
        struct s3dlio_part *p = &o->job->parts_out[r->number - first_part(o)];
        p->number = r->number;
        memcpy(p->etag, q->etag, sizeof(p->etag));
    }
    if (!get && !r->number)
        memcpy(o->job->etag_out, q->etag, sizeof(o->job->etag_out));
    x->st->bytes += moved;
    o->job->bytes += moved;
    x->st->ttfb_ns_sum += q->t_first_byte_ns;
    if (x->o->ttfb_hist)
        s3dlio_hist_add(x->o->ttfb_hist, q->t_first_byte_ns);
    if (x->o->total_hist)
        s3dlio_hist_add(x->o->total_hist, q->t_total_ns);
    retire(x, r);
}

static bool no_such_upload(const struct s3dlio_error *err)
{
    return !strcmp(err->s3_code, "NoSuchUpload") || err->http_status == 404;
}

/*
 * A Complete retried after a lost answer may find the upload gone because the first one
 * worked: the object is then there with the composite ETag of our parts.
 */
static bool upload_landed(const struct xobj *o, const struct s3dlio_req *head)
{
    char want[48];
    struct s3dlio_md5 md5;
    bool ok = o->mpu_parts != NULL;
    s3dlio_md5_init(&md5);
    for (size_t i = 0; i < o->mpu_n && ok; i++) {
        const char *e = o->mpu_parts[i].etag;
        unsigned char b[16];
        ok = strlen(e) == 32 && s3dlio_hex_decode(e, b, 16);
        if (ok)
            s3dlio_md5_update(&md5, b, 16);
    }
    if (!ok) { /* part ETags that are not MD5s: the part count and size must do */
        s3dlio_md5_release(&md5);
        snprintf(want, sizeof(want), "-%zu", o->mpu_n);
        size_t n = strlen(head->etag), w = strlen(want);
        return head->object_size == o->size && n > w && !strcmp(head->etag + n - w, want);
    }
    s3dlio_md5_final_composite(&md5, o->mpu_n, want);
    return want[0] && !strcmp(head->etag, want) && head->object_size == o->size;
}

static void abort_failed(struct xobj *o, const struct s3dlio_error *err)
{
    if (!o->job->err) /* an abort not after a failure: the object fails with this error */
        s3dlio_xfer_job_fail(o->job, err);
    struct s3dlio_error *je = o->job->err;
    size_t n = strlen(je->message);
    snprintf(je->message + n, sizeof(je->message) - n,
             "%s(and the multipart upload could not be aborted: %s; it stays on the server, "
             "billed, until removed)", n ? " " : "", err->message);
}

/*
 * A HEAD's 404 has no body to say what is missing: the key, or the whole bucket (a typo in a
 * single `get`). One bucket HEAD tells; it runs on this error path only.
 */
static void name_missing(struct xfer *x, struct xobj *o, struct s3dlio_error *err)
{
    snprintf(err->op, sizeof(err->op), "%s", op_name(o));
    if (err->rc != S3DLIO_E_NOT_FOUND || err->s3_code[0])
        return;
    struct s3dlio_error berr = {0};
    s3dlio_error_name_missing(err, s3dlio_backend_bucket_head(x->be, &berr) == S3DLIO_E_NOT_FOUND);
}

/*
 * STEP_SOURCE failed: the source changed or went (or could not be asked). A multipart copy is
 * aborted, its parts possibly from two versions; a single copy stays, one whole version of the
 * source, but not the one listed: the object fails either way.
 */
static void source_failed(struct xfer *x, struct xobj *o, struct s3dlio_error *err)
{
    if (err->rc == S3DLIO_E_CHANGED || err->rc == S3DLIO_E_NOT_FOUND) {
        char why[sizeof(err->message)];
        snprintf(why, sizeof(why), "%s", err->message);
        err->rc = S3DLIO_E_CHANGED;
        if (o->upload_id)
            snprintf(err->message, sizeof(err->message), "the source '%s' changed during the "
                     "copy (%.300s), which the server did not refuse: its parts may mix two "
                     "versions, so the upload is aborted", o->job->copy_source, why);
        else
            snprintf(err->message, sizeof(err->message), "the source '%s' changed during the "
                     "copy (%.300s), which the server did not refuse: the copy (ETag '%s') is "
                     "another version than the one listed", o->job->copy_source, why,
                     o->job->etag_out);
    }
    snprintf(err->target, sizeof(err->target), "%s", o->job->key);
    snprintf(err->op, sizeof(err->op), "copy");
    xobj_fail(x, o, err);
    if (o->upload_id && !o->job->upload_id)
        xobj_ctl_start(x, o, STEP_ABORT);
    else
        finish_object(x, o);
}

/* A control call failed for good. */
static void ctl_failed(struct xfer *x, struct xreq *r, struct s3dlio_error *err)
{
    struct xobj *o = r->o;
    note_attempts(r, err);
    switch (r->step) {
    case STEP_COMPLETE:
        xobj_fail(x, o, err);
        xobj_ctl_start(x, o, STEP_ABORT);
        return;
    case STEP_ABORT:
        abort_failed(o, err);
        finish_object(x, o);
        return;
    case STEP_RECHECK:
        rechecked(x, o, NULL, err->rc == S3DLIO_E_NOT_FOUND, err);
        return;
    case STEP_CONFIRM:
        xobj_fail(x, o, &o->change_err); /* the Complete's NoSuchUpload */
        finish_object(x, o);
        return;
    case STEP_SOURCE:
        source_failed(x, o, err);
        return;
    case STEP_HEAD:
        name_missing(x, o, err);
        /* fall through */
    default:
        xobj_fail(x, o, err);
        finish_object(x, o);
        return;
    }
}

static void ctl_succeeded(struct xfer *x, struct xreq *r)
{
    struct xobj *o = r->o;
    /* a copy: the next step reuses o->ctl, and with it r->req */
    struct s3dlio_req head = r->req, *q = &head;
    r->req.upload_id_out = NULL;
    switch (r->step) {
    case STEP_HEAD:
        pin_version(x, o, q->etag, q->object_size);
        plan_get(x, o, q);
        return;
    case STEP_LAYOUT:
        xverify_layout(x, o, q);
        split_get(x, o);
        return;
    case STEP_RECHECK:
        rechecked(x, o, q, false, NULL);
        return;
    case STEP_CREATE:
        o->upload_id = q->upload_id_out;
        if (o->slot_size)
            xstream_created(x, o);
        else
            make_parts(x, o, true, s3dlio_xfer_part_size(x->o->part_size, o->size));
        return;
    case STEP_CONFIRM:
        if (!upload_landed(o, q)) {
            xobj_fail(x, o, &o->change_err);
        } else {
            S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_XFER, "'%s': the completed upload is there "
                       "(ETag '%s'), though its answer was lost", o->job->key, q->etag);
        }
        finish_object(x, o);
        return;
    case STEP_COMPLETE:
        memcpy(o->job->etag_out, q->etag, sizeof(o->job->etag_out));
        finish_object(x, o);
        return;
    case STEP_SOURCE: /* the version listed is still there (the backend checked the answer) */
        if (o->upload_id && !o->job->upload_id)
            xobj_ctl_start(x, o, STEP_COMPLETE);
        else
            finish_object(x, o);
        return;
    case STEP_ABORT:
        x->st->aborted_uploads++;
        /* fall through */
    default:
        finish_object(x, o);
        return;
    }
}

static void ctl_done(struct xfer *x, struct xreq *r)
{
    struct xobj *o = r->o;
    struct s3dlio_error err = r->req.err;
    xfer_span(x, r, r->rc, 0); /* before the next step reuses r */
    if (!r->rc) {
        xfer_limit_success(x);
        ctl_succeeded(x, r);
        return;
    }
    if (!err.rc)
        s3dlio_error_set(&err, r->rc, op_name(o), o->job->key, "%s", s3dlio_rc_str(r->rc));
    count_failure(x, &err);
    xfer_limit_failure(x, r, &err);
    if (r->step == STEP_COMPLETE && r->attempt > 0 && no_such_upload(&err)) {
        o->change_err = err; /* kept for the message if the upload did not land */
        xobj_ctl_start(x, o, STEP_CONFIRM);
        return;
    }
    if ((r->step == STEP_HEAD || r->step == STEP_LAYOUT) && err.rc == S3DLIO_E_CHANGED) {
        note_change(o, &err);
        xobj_ctl_start(x, o, STEP_RECHECK);
        return;
    }
    if (xfer_retry(x, r, &err))
        return;
    if (r->step == STEP_LAYOUT && !x->cancelling) {
        /* a server without partNumber support: the layout is guessed instead */
        xverify_layout(x, o, NULL);
        split_get(x, o);
        return;
    }
    ctl_failed(x, r, &err);
}

void xobj_completed(struct xfer *x, struct xreq *r)
{
    if (r->step == STEP_DATA)
        data_done(x, r);
    else
        ctl_done(x, r);
}

void xobj_abandon(struct xfer *x, struct xreq *r, bool interrupted)
{
    struct s3dlio_error err = {0};
    s3dlio_error_set(&err, S3DLIO_E_ABORTED, op_name(r->o), r->o->job->key,
                     interrupted ? "interrupted" : "abandoned");
    if (r->step != STEP_DATA) {
        ctl_failed(x, r, &err);
        return;
    }
    if (interrupted)
        xobj_fail(x, r->o, &err);
    retire(x, r);
}
