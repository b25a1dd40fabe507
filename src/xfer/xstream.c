/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PUT from a stream of unknown length (a pipe, stdin): the input is read as it arrives into
 * part buffers that cycle through the slots of o->parts. There are enough slots to hold the
 * multipart threshold, so input that ends within it goes as one PUT (its size known by then),
 * and one more than the parts allowed in flight, so memory stays slots x part size whatever
 * the length. Longer input becomes a multipart upload whose parts go as they fill.
 *
 * A pipe cannot be read twice: a part's buffer is given back only when the part succeeded
 * (a retry resends it) or the object failed. Whatever fails (a part, the input, the 10,000
 * part limit, a cancel) stops the reading and the upload is aborted like a file's.
 *
 * The loop never blocks on the input: it reads only what is ready (xstream_pump) and, while
 * waiting for more, polls the stream between turns (xstream_input).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "util/alloc.h"
#include "xfer/engine_int.h"

#define MIB (1ull << 20)
/* Read per turn of the loop at most, so that it keeps driving the requests in flight. */
#define PUMP_BUDGET (4 * MIB)

/* Input longer than this goes multipart; capped at the largest single PUT S3 accepts. */
static uint64_t threshold(const struct xfer *x)
{
    uint64_t t = x->o->multipart_threshold;
    return t < S3DLIO_MAX_PART_SIZE ? t : S3DLIO_MAX_PART_SIZE;
}

void xstream_start(struct xfer *x, struct xobj *o)
{
    uint64_t ps = s3dlio_xfer_part_size(x->o->part_size, 0);
    size_t flight = (size_t)(x->o->put_concurrency > 1 ? x->o->put_concurrency : 1) + 1;
    size_t below = (size_t)(threshold(x) / ps) + 1; /* threshold + 1 bytes decide */
    o->slot_size = ps;
    o->nparts = flight > below ? flight : below;
    o->parts = s3dlio_xcalloc(o->nparts, sizeof(*o->parts));
    o->reading = true;
    x->stream = o;
    x->st->streams_reading++;
}

void xstream_reading_done(struct xfer *x, struct xobj *o)
{
    o->reading = false;
    x->stream = NULL;
    x->st->streams_reading--;
}

/* A free slot for the next part, with an empty buffer; NULL when every one is busy. */
static struct xreq *take_slot(struct xfer *x, struct xobj *o)
{
    for (size_t i = 0; i < o->nparts; i++) {
        struct xreq *r = &o->parts[i];
        if (r->buf)
            continue;
        memset(r, 0, sizeof(*r));
        r->x = x;
        r->o = o;
        r->step = STEP_DATA;
        r->number = ++o->made;
        r->off = (uint64_t)(r->number - 1) * o->slot_size; /* for the messages */
        xfer_pool_get(x, r, (size_t)o->slot_size);
        o->outstanding++;
        return r;
    }
    return NULL;
}

static void release_slot(struct xfer *x, struct xobj *o, struct xreq *r)
{
    xfer_pool_put(x, r);
    r->held = false;
    o->outstanding--;
}

static struct xreq *slot_of(struct xobj *o, int number)
{
    for (size_t i = 0; i < o->nparts; i++)
        if (o->parts[i].buf && o->parts[i].number == number)
            return &o->parts[i];
    return NULL;
}

/* A part's bytes are all there: hashed once (a retry resends the same bytes), then sent. */
static void queue_part(struct xfer *x, struct xreq *r)
{
    r->held = false;
    if (x->o->hash_payload)
        s3dlio_sha256_hex(r->buf, (size_t)r->len, r->sha256);
    if (x->o->verify)
        s3dlio_md5_base64(r->buf, (size_t)r->len, r->md5_b64);
    xq_push(&x->ready, r);
}

static void part_filled(struct xfer *x, struct xobj *o)
{
    struct xreq *r = o->filling;
    o->filling = NULL;
    if (o->upload_id)
        queue_part(x, r);
    else
        r->held = true; /* undecided yet, or the upload is being created */
}

static bool creating(const struct xobj *o)
{
    return o->multi && !o->upload_id;
}

/* The object failed or the run stops: parts not sent are dropped, those sent drain. */
static void stop_reading(struct xfer *x, struct xobj *o)
{
    xstream_reading_done(x, o);
    for (size_t i = 0; i < o->nparts; i++)
        if (&o->parts[i] == o->filling || o->parts[i].held)
            release_slot(x, o, &o->parts[i]);
    o->filling = NULL;
    /* a CreateMultipartUpload in flight still holds o: its answer settles it */
    if (!o->outstanding && !creating(o))
        xobj_settled(x, o);
}

static void stream_failed(struct xfer *x, struct xobj *o, const struct s3dlio_error *err)
{
    xobj_fail(x, o, err);
    stop_reading(x, o);
}

/* The input ended within the threshold: one PUT of all of it, gathered in one buffer. */
static void single_put(struct xfer *x, struct xobj *o)
{
    struct xreq *first = slot_of(o, 1), all = {0};
    if (o->made > 1) {
        uint64_t at = 0;
        xfer_pool_get(x, &all, (size_t)o->size);
        for (int n = 1; n <= o->made; n++) {
            struct xreq *r = slot_of(o, n);
            memcpy(all.buf + at, r->buf, (size_t)r->len);
            at += r->len;
            if (r != first)
                release_slot(x, o, r);
        }
        xfer_pool_put(x, first);
        first->buf = all.buf;
        first->buf_cap = all.buf_cap;
    }
    first->len = o->size;
    first->off = 0;
    first->number = 0;
    queue_part(x, first);
}

static void input_ended(struct xfer *x, struct xobj *o)
{
    struct xreq *last = o->filling;
    xstream_reading_done(x, o);
    o->size = o->local.streamed;
    if (!o->multi) {
        o->filling = NULL;
        single_put(x, o);
        return;
    }
    if (last->len) {
        part_filled(x, o);
    } else { /* the input ended on a part boundary */
        release_slot(x, o, last);
        o->filling = NULL;
        o->made--;
    }
    if (!o->outstanding && !creating(o))
        xobj_settled(x, o);
}

/* More input arrived into r: still within S3's limits? Enough to make the upload multipart? */
static bool grew(struct xfer *x, struct xobj *o, const struct xreq *r)
{
    struct s3dlio_error err = {0};
    uint64_t n = o->local.streamed;
    if (r->number > S3DLIO_MAX_PARTS)
        s3dlio_error_set(&err, S3DLIO_E_LIMIT, "put", o->job->key,
                         "the input is longer than S3's limit of %d parts of %.4g MiB: "
                         "use a larger --part-size", S3DLIO_MAX_PARTS,
                         (double)o->slot_size / (double)MIB);
    else if (n > S3DLIO_MAX_OBJECT_SIZE)
        s3dlio_error_set(&err, S3DLIO_E_LIMIT, "put", o->job->key,
                         "the input is longer than S3's object size limit of 5 TiB");
    else if (!o->multi && n > threshold(x) && !s3dlio_backend_has_multipart(x->be))
        s3dlio_error_set(&err, S3DLIO_E_UNSUPPORTED, "put", o->job->key,
                         "the input is longer than the multipart threshold (%" PRIu64
                         " bytes) and %s:// has no multipart upload", threshold(x),
                         x->be->root.scheme);
    if (err.rc) {
        stream_failed(x, o, &err);
        return false;
    }
    if (!o->multi && n > threshold(x)) {
        o->multi = true;
        xobj_ctl_start(x, o, STEP_CREATE);
    }
    return true;
}

void xstream_pump(struct xfer *x)
{
    struct xobj *o = x->stream;
    uint64_t budget = PUMP_BUDGET;
    if (o && (o->failed || x->cancelling)) {
        struct s3dlio_error err = {0};
        s3dlio_error_set(&err, S3DLIO_E_ABORTED, "put", o->job->key, "interrupted");
        stream_failed(x, o, &err); /* a failure already there is the one kept */
        return;
    }
    while (o && budget && (o->filling || (o->filling = take_slot(x, o)))) {
        struct xreq *r = o->filling;
        struct s3dlio_error err = {0};
        uint64_t room = o->slot_size - r->len;
        size_t got = 0;
        bool eof = false;
        if (s3dlio_local_pull(&o->local, r->buf + r->len, (size_t)(room < budget ? room : budget),
                              &got, &eof, &err)) {
            stream_failed(x, o, &err);
            return;
        }
        r->len += got;
        budget -= got;
        x->st->bytes_expected += got; /* the total, as far as it is known */
        if (got && !grew(x, o, r))
            return;
        if (eof) {
            input_ended(x, o);
            return;
        }
        if (!got)
            return;
        if (r->len == o->slot_size)
            part_filled(x, o);
    }
}

struct s3dlio_local *xstream_input(struct xfer *x)
{
    struct xobj *o = x->stream;
    if (!o || x->cancelling)
        return NULL;
    if (o->filling)
        return &o->local;
    for (size_t i = 0; i < o->nparts; i++)
        if (!o->parts[i].buf)
            return &o->local;
    return NULL; /* every buffer is busy: a part's completion makes room */
}

void xstream_created(struct xfer *x, struct xobj *o)
{
    for (int n = 1; n <= o->made; n++) {
        struct xreq *r = slot_of(o, n);
        if (r && r->held)
            queue_part(x, r);
    }
    if (!o->outstanding && !o->reading) /* it failed while the upload was being created */
        xobj_settled(x, o);
}

void xstream_part_done(struct xobj *o, const struct xreq *r)
{
    size_t i = (size_t)r->number - 1;
    s3dlio_xgrow((void **)&o->mpu_parts, sizeof(*o->mpu_parts), i + 1, &o->mpu_alloc);
    o->mpu_parts[i].number = r->number;
    memcpy(o->mpu_parts[i].etag, r->req.etag, sizeof(o->mpu_parts[i].etag));
    if (i + 1 > o->mpu_n)
        o->mpu_n = i + 1;
}
