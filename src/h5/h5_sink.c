/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's sink for `stage --to h5:`: GET bytes arrive at object offsets, ranges of one
 * object in any order. They are gathered in a bounded set of write-combining buffers (one
 * per stream of contiguous bytes, i.e. per request in flight) and go to /data as one
 * independent H5Dwrite per full buffer, so the file sees few large writes; each write call's
 * CRC-32C is taken on arrival and the runs are combined in offset order at the close.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "h5/h5_layout.h"
#include "h5/h5_writer_int.h"
#include "util/alloc.h"
#include "util/crc32c.h"

/* Write len bytes at /data offset at. Returns 0 or -1 with err set. */
static int write_data(struct s3dlio_h5_writer *w, const char *key, uint64_t at, const void *buf,
                      size_t len, struct s3dlio_error *err)
{
    hsize_t start = at, count = len;
    struct h5_quiet q;
    s3dlio_h5_quiet_begin(&q);
    hid_t fspace = H5Dget_space(w->data), mspace = H5Screate_simple(1, &count, NULL);
    herr_t st = fspace < 0 || mspace < 0
                    ? -1
                    : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL);
    if (st >= 0)
        st = H5Dwrite(w->data, H5T_NATIVE_UCHAR, mspace, fspace, H5P_DEFAULT, buf);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (mspace >= 0)
        H5Sclose(mspace);
    s3dlio_h5_quiet_end(&q);
    if (st >= 0)
        return 0;
    w->io_failed = true;
    s3dlio_error_set(err, S3DLIO_E_IO, "stage", key,
                     "HDF5 write of %zu bytes at /data offset %" PRIu64 " of '%s' failed", len, at,
                     w->tmp);
    return -1;
}

static const char *row_key(const struct h5w_row *r)
{
    return r->w->spec->keys[r - r->w->rows];
}

static int flush_slot(struct s3dlio_h5_writer *w, struct h5w_slot *s, struct s3dlio_error *err)
{
    int st = 0;
    if (s->row && s->len)
        st = write_data(w, row_key(s->row), s->row->base + s->off, s->buf, s->len, err);
    s->row = NULL;
    s->len = 0;
    return st;
}

int s3dlio_h5w_flush_all(struct s3dlio_h5_writer *w, struct s3dlio_error *err)
{
    int st = 0;
    for (size_t i = 0; i < w->nslots; i++)
        if (flush_slot(w, &w->slots[i], err))
            st = -1;
    return st;
}

void s3dlio_h5w_sink_release(struct s3dlio_h5_writer *w)
{
    for (size_t i = 0; w->slots && i < w->nslots; i++)
        free(w->slots[i].buf);
    free(w->slots);
    w->slots = NULL;
    for (size_t i = 0; w->rows && i < w->spec->n; i++)
        free(w->rows[i].pieces);
}

/* ---- CRC-32C of pieces -------------------------------------------------------------------- */

static void drop_piece(struct h5w_row *r, size_t i)
{
    r->pieces[i] = r->pieces[--r->npieces];
}

/*
 * Where bytes [off, off + len) go in the CRC runs: *before is the run they continue (its CRC
 * is extended as they are copied: the common case, a request's body arriving in order), or
 * SIZE_MAX; *after the run they precede. Returns false when the CRC is not kept (bytes seen
 * twice: the engine restarted the object at the same offsets, so it is read back at close).
 */
static bool find_runs(struct h5w_row *r, uint64_t off, uint64_t len, size_t *before, size_t *after)
{
    *before = *after = SIZE_MAX;
    if (r->reread || !len)
        return false;
    for (size_t i = 0; i < r->npieces; i++) {
        const struct h5w_piece *p = &r->pieces[i];
        if (p->off + p->len == off)
            *before = i;
        else if (p->off == off + len)
            *after = i;
        else if (p->off < off + len && off < p->off + p->len) {
            r->reread = true;
            r->npieces = 0;
            return false;
        }
    }
    return true;
}

/*
 * Record [off, off + len) with crc: the CRC of its bytes continued from before's (when it
 * continues a run) or from 0. Runs that meet are combined (a GF(2) matrix product, far
 * dearer per call than the CRC of a piece, so only for runs that arrived out of order).
 */
static void add_piece(struct h5w_row *r, uint64_t off, uint64_t len, uint32_t crc, size_t before,
                      size_t after)
{
    if (before != SIZE_MAX) {
        struct h5w_piece *p = &r->pieces[before];
        p->crc = crc;
        p->len += len;
        if (after != SIZE_MAX) {
            struct h5w_piece *q = &r->pieces[after];
            p->crc = s3dlio_crc32c_combine(p->crc, q->crc, q->len);
            p->len += q->len;
            drop_piece(r, after);
        }
    } else if (after != SIZE_MAX) {
        struct h5w_piece *q = &r->pieces[after];
        q->crc = s3dlio_crc32c_combine(crc, q->crc, q->len);
        q->off = off;
        q->len += len;
    } else {
        if (r->npieces == r->cap) {
            r->cap = r->cap ? 2 * r->cap : 4;
            r->pieces = s3dlio_xrealloc(r->pieces, r->cap * sizeof(*r->pieces));
        }
        r->pieces[r->npieces++] = (struct h5w_piece){ off, len, crc };
    }
}

/* The object's CRC read back from the file, slot_size bytes at a time. */
static int reread_crc(struct s3dlio_h5_writer *w, struct h5w_row *r, struct s3dlio_error *err)
{
    unsigned char *buf = s3dlio_xmalloc(w->slot_size);
    uint32_t crc = 0;
    int st = 0;
    struct h5_quiet q;
    s3dlio_h5_quiet_begin(&q);
    for (uint64_t at = 0; at < r->size && !st;) {
        hsize_t start = r->base + at,
                count = r->size - at < w->slot_size ? r->size - at : w->slot_size;
        hid_t fspace = H5Dget_space(w->data), mspace = H5Screate_simple(1, &count, NULL);
        if (fspace < 0 || mspace < 0 ||
            H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
            H5Dread(w->data, H5T_NATIVE_UCHAR, mspace, fspace, H5P_DEFAULT, buf) < 0)
            st = -1;
        else
            crc = s3dlio_crc32c(crc, buf, count);
        if (fspace >= 0)
            H5Sclose(fspace);
        if (mspace >= 0)
            H5Sclose(mspace);
        at += count;
    }
    s3dlio_h5_quiet_end(&q);
    free(buf);
    if (st)
        return s3dlio_error_set(err, S3DLIO_E_IO, "stage", row_key(r),
                                "HDF5 read back from '%s' for the CRC-32C failed", w->tmp),
               -1;
    r->crc = crc;
    return 0;
}

/* ---- write-combining slots ---------------------------------------------------------------- */

/* The slot this row's bytes at off continue, or NULL. */
static struct h5w_slot *continuing(struct s3dlio_h5_writer *w, struct h5w_row *r, uint64_t off)
{
    for (size_t i = 0; i < w->nslots; i++) {
        struct h5w_slot *s = &w->slots[i];
        if (s->row == r && s->off + s->len == off)
            return s;
    }
    return NULL;
}

/* A free slot, or the least recently used one emptied into the file. */
static struct h5w_slot *take_slot(struct s3dlio_h5_writer *w, struct s3dlio_error *err)
{
    struct h5w_slot *lru = &w->slots[0];
    for (size_t i = 0; i < w->nslots; i++) {
        struct h5w_slot *s = &w->slots[i];
        if (!s->row) {
            lru = s;
            break;
        }
        if (s->used < lru->used)
            lru = s;
    }
    if (flush_slot(w, lru, err))
        return NULL;
    if (!lru->buf)
        lru->buf = s3dlio_xmalloc(w->slot_size);
    return lru;
}

static enum s3dlio_rc sink_write(void *ud, const struct s3dlio_xfer_job *job, uint64_t offset,
                                 const void *data, size_t len, struct s3dlio_error *err)
{
    struct h5w_row *r = ud;
    struct s3dlio_h5_writer *w = r->w;
    const unsigned char *p = data;
    if (offset > r->size || len > r->size - offset)
        return s3dlio_error_set(err, S3DLIO_E_INTERNAL, "stage", job->key,
                                "%zu bytes at offset %" PRIu64 " lie past the object's %" PRIu64,
                                len, offset, r->size);
    size_t before, after;
    bool keep = find_runs(r, offset, len, &before, &after);
    uint64_t start = offset, total = len;
    uint32_t crc = keep && before != SIZE_MAX ? r->pieces[before].crc : 0;
    /* bytes of a restarted object supersede what a slot still holds for the same offsets:
     * that goes first, so the newer bytes land last */
    for (size_t i = 0; i < w->nslots; i++) {
        struct h5w_slot *o = &w->slots[i];
        if (o->row == r && o->off < offset + len && offset < o->off + o->len &&
            flush_slot(w, o, err))
            return S3DLIO_E_IO;
    }
    struct h5w_slot *s = continuing(w, r, offset);
    /* a run of at least a slot with nothing pending before it needs no copy */
    if (!s && len >= w->slot_size) {
        if (keep)
            add_piece(r, start, total, s3dlio_crc32c(crc, p, len), before, after);
        return write_data(w, job->key, r->base + offset, p, len, err) ? S3DLIO_E_IO : S3DLIO_OK;
    }
    while (len) {
        if (!s || s->len == w->slot_size) {
            if (s && flush_slot(w, s, err))
                return S3DLIO_E_IO;
            if (!(s = take_slot(w, err)))
                return S3DLIO_E_IO;
            s->row = r;
            s->off = offset;
        }
        size_t n = w->slot_size - s->len < len ? w->slot_size - s->len : len;
        /* the CRC taken while copying: the bytes are read once */
        if (keep)
            crc = s3dlio_crc32c_copy(crc, s->buf + s->len, p, n);
        else
            memcpy(s->buf + s->len, p, n);
        s->len += n;
        s->used = ++w->clock;
        p += n;
        offset += n;
        len -= n;
    }
    if (keep)
        add_piece(r, start, total, crc, before, after);
    if (s->len == w->slot_size && flush_slot(w, s, err))
        return S3DLIO_E_IO;
    return S3DLIO_OK;
}

static enum s3dlio_rc sink_close(void *ud, const struct s3dlio_xfer_job *job, bool complete,
                                 struct s3dlio_error *err)
{
    struct h5w_row *r = ud;
    struct s3dlio_h5_writer *w = r->w;
    int st = 0;
    (void)job;
    for (size_t i = 0; i < w->nslots; i++) {
        struct h5w_slot *s = &w->slots[i];
        if (s->row != r)
            continue;
        if (complete)
            st |= flush_slot(w, s, err);
        s->row = NULL; /* a failed object's bytes are never written: the run fails anyway */
        s->len = 0;
    }
    if (!complete || st) {
        r->npieces = 0;
        return st ? S3DLIO_E_IO : S3DLIO_OK;
    }
    bool whole = r->npieces == 1 && r->pieces[0].off == 0 && r->pieces[0].len == r->size;
    if (!r->size)
        r->crc = 0;
    else if (whole && !r->reread)
        r->crc = r->pieces[0].crc;
    else if (reread_crc(w, r, err))
        return S3DLIO_E_IO;
    r->npieces = 0;
    r->done = true;
    return S3DLIO_OK;
}

const struct s3dlio_xfer_sink s3dlio_h5_sink = { .write = sink_write, .close = sink_close };

void *s3dlio_h5_writer_ud(struct s3dlio_h5_writer *w, size_t i)
{
    return &w->rows[i];
}
