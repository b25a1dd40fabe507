/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --verify of GETs: every object is checked against its ETag, whatever its size.
 *
 * A single-part ETag is the MD5 of the object. Its ranges land in any order, so the MD5 is
 * taken in order: the range at the cursor is hashed as its bytes stream in, and ranges that
 * landed ahead of the cursor are read back from where they landed (memory, the temporary
 * file) when the cursor reaches them. A destination that cannot be read back (discard)
 * gets the object as one stream instead.
 *
 * A multipart ETag is the MD5 of the parts' MD5s with "-N". The object is fetched in
 * ranges equal to the upload's parts, each hashed as it streams (a retried range resumes
 * after its last byte, so the hash carries on). The part size comes from the server (HEAD
 * ?partNumber=1), from what s3dlio recorded at upload (x-amz-meta-s3dlio-part-size), or, as
 * a last resort, a guess among common part sizes; a mismatch under a guessed layout is
 * "not verifiable", never "corrupt". Objects whose ETag is not an MD5 (SSE-KMS, SSE-C,
 * other gateways) are reported as not verifiable.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "util/alloc.h"
#include "xfer/engine_int.h"

#define MIB (1ull << 20)
#define SCRATCH_BYTES MIB

/* "<32 hex digits>": an MD5 */
static bool is_md5_hex(const char *s)
{
    unsigned char raw[16];
    return strlen(s) >= 32 && s3dlio_hex_decode(s, raw, 16);
}

/* N of "<32 hex>-N", else 0. */
static int multipart_count(const char *etag)
{
    if (strlen(etag) < 34 || etag[32] != '-' || !is_md5_hex(etag))
        return 0;
    char *end = NULL;
    long n = strtol(etag + 33, &end, 10);
    return *end || n < 1 || n > S3DLIO_MAX_PARTS ? 0 : (int)n;
}

static void note(struct xobj *o, const char *why)
{
    o->vmode = V_NOTE;
    snprintf(o->job->verify_note, sizeof(o->job->verify_note), "%s", why);
}

static uint64_t parts_for(uint64_t size, uint64_t part)
{
    return part ? (size + part - 1) / part : 0;
}

void xverify_plan(struct xfer *x, struct xobj *o, const struct s3dlio_req *head)
{
    o->vmode = V_NONE;
    if (!x->o->verify || o->job->dir != S3DLIO_XFER_GET)
        return;
    if (o->job->range_len) /* an ETag speaks for the whole object; the caller checks ranges */
        return;
    const char *e = o->etag;
    if (head && head->etag_not_md5)
        return note(o, "encrypted with SSE-KMS or SSE-C: its ETag is not an MD5 of the data");
    if (!*e)
        return note(o, "the server sent no ETag");
    if (strlen(e) == 32 && is_md5_hex(e)) {
        o->vmode = V_WHOLE;
        return;
    }
    o->layout_n = multipart_count(e);
    if (!o->layout_n)
        return note(o, "its ETag is not an MD5 of the data");
    o->vmode = V_PARTS;
    if (head && head->meta_part_size_out &&
        parts_for(o->size, head->meta_part_size_out) == (uint64_t)o->layout_n)
        o->layout_part = head->meta_part_size_out; /* recorded by s3dlio at upload */
}

bool xverify_needs_layout(const struct xfer *x, const struct xobj *o)
{
    (void)x;
    return o->vmode == V_PARTS && !o->layout_part && !o->layout_asked;
}

/* Part sizes other tools use, most common first; the first that gives N parts wins. */
static uint64_t guess_part(uint64_t size, int n)
{
    if (n == 1)
        return size;
    const uint64_t common[] = {
        s3dlio_xfer_part_size(8 * MIB, size), /* s3dlio, awscli, boto3 */
        5 * MIB, 16 * MIB, 15 * MIB, 10 * MIB, 64 * MIB, 32 * MIB, 100 * MIB, 128 * MIB,
    };
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        if (parts_for(size, common[i]) == (uint64_t)n)
            return common[i];
    /* the smallest whole MiB that gives N parts */
    uint64_t least = (size + (uint64_t)n - 1) / (uint64_t)n;
    uint64_t p = (least + MIB - 1) / MIB * MIB;
    return parts_for(size, p) == (uint64_t)n ? p : 0;
}

void xverify_layout(struct xfer *x, struct xobj *o, const struct s3dlio_req *head)
{
    (void)x;
    uint64_t p = 0;
    o->layout_asked = true;
    o->layout_guessed = false;
    if (head && head->part_length &&
        (head->parts_count == 0 || head->parts_count == o->layout_n))
        p = head->part_length; /* the server answered for part 1 */
    else if (head && head->meta_part_size_out)
        p = head->meta_part_size_out;
    if (!p || parts_for(o->size, p) != (uint64_t)o->layout_n) {
        p = guess_part(o->size, o->layout_n);
        o->layout_guessed = true;
    }
    if (!p) {
        char why[96];
        snprintf(why, sizeof(why), "part layout unknown (%d parts of a %" PRIu64 "-byte object)",
                 o->layout_n, o->size);
        return note(o, why);
    }
    o->layout_part = p;
}

void xverify_data(struct xfer *x, struct xreq *r, uint64_t offset, const void *data, size_t len)
{
    (void)x;
    struct xobj *o = r->o;
    if (o->vmode == V_WHOLE && offset == o->hashed) {
        if (!o->md5_started)
            s3dlio_md5_init(&o->md5), o->md5_started = true;
        s3dlio_md5_update(&o->md5, data, len);
        o->hashed += len;
    } else if (o->vmode == V_PARTS && offset == r->off + r->md5_len) {
        if (!r->md5_started)
            s3dlio_md5_init(&r->md5), r->md5_started = true;
        s3dlio_md5_update(&r->md5, data, len);
        r->md5_len += len;
    }
}

static struct xreq *part_at(struct xobj *o, uint64_t off)
{
    if (o->nparts == 1)
        return &o->parts[0];
    size_t i = (size_t)(off / o->parts[0].len);
    return &o->parts[i < o->nparts ? i : o->nparts - 1];
}

/* Hash, in order, whatever has landed at the cursor and can be read back. */
static enum s3dlio_rc catch_up(struct xfer *x, struct xobj *o, struct s3dlio_error *err)
{
    while (o->hashed < o->size) {
        struct xreq *p = part_at(o, o->hashed);
        uint64_t avail = p->off + p->done;
        if (avail > o->hashed) {
            if (!s3dlio_local_can_reread(&o->local))
                break;
            if (!x->scratch)
                x->scratch = s3dlio_xmalloc(SCRATCH_BYTES);
            if (!o->md5_started)
                s3dlio_md5_init(&o->md5), o->md5_started = true;
            while (o->hashed < avail) {
                size_t n = avail - o->hashed < SCRATCH_BYTES ? (size_t)(avail - o->hashed) : SCRATCH_BYTES;
                enum s3dlio_rc rc = s3dlio_local_reread(&o->local, o->hashed, x->scratch, n, err);
                if (rc)
                    return rc;
                s3dlio_md5_update(&o->md5, x->scratch, n);
                o->hashed += n;
            }
        }
        if (!p->complete || o->hashed < p->off + p->len)
            break; /* that part is still streaming: its bytes are hashed as they come */
    }
    return S3DLIO_OK;
}

enum s3dlio_rc xverify_part_done(struct xfer *x, struct xreq *r, struct s3dlio_error *err)
{
    struct xobj *o = r->o;
    /* a listing does not say how an object is encrypted; its GET answer does */
    if ((o->vmode == V_WHOLE || o->vmode == V_PARTS) && r->req.etag_not_md5) {
        note(o, "encrypted with SSE-KMS or SSE-C: its ETag is not an MD5 of the data");
        return S3DLIO_OK;
    }
    if (o->vmode == V_WHOLE)
        return catch_up(x, o, err);
    if (o->vmode == V_PARTS && r->md5_started && r->md5_len == r->len) {
        s3dlio_md5_final_raw(&r->md5, r->md5_raw, &r->md5_ok);
        r->md5_started = false;
    }
    return S3DLIO_OK;
}

static enum s3dlio_rc mismatch(struct xobj *o, const char *got, struct s3dlio_error *err)
{
    return s3dlio_error_set(err, S3DLIO_E_INTEGRITY, "get", o->job->key,
                            "the data's MD5 is '%s' but its ETag is '%s': corrupted in transit "
                            "or at rest", got, o->etag);
}

static enum s3dlio_rc finish_whole(struct xfer *x, struct xobj *o, struct s3dlio_error *err)
{
    char hex[33] = "", b64[25];
    enum s3dlio_rc rc = catch_up(x, o, err);
    if (rc)
        return rc;
    if (!o->md5_started && o->size == 0)
        s3dlio_md5_init(&o->md5), o->md5_started = true; /* the MD5 of nothing */
    if (o->hashed == o->size && o->md5_started)
        s3dlio_md5_final(&o->md5, hex, b64);
    o->md5_started = false;
    if (!hex[0]) {
        note(o, "the MD5 could not be computed");
        return S3DLIO_OK;
    }
    return strcasecmp(hex, o->etag) ? mismatch(o, hex, err) : S3DLIO_OK;
}

static enum s3dlio_rc finish_parts(struct xobj *o, struct s3dlio_error *err)
{
    struct s3dlio_md5 all;
    char got[48];
    bool ok = o->nparts == (size_t)o->layout_n;
    s3dlio_md5_init(&all);
    for (size_t i = 0; ok && i < o->nparts; i++) {
        ok = o->parts[i].md5_ok;
        s3dlio_md5_update(&all, o->parts[i].md5_raw, 16);
    }
    s3dlio_md5_final_composite(&all, o->nparts, got);
    if (!ok || !got[0]) {
        note(o, "the part MD5s could not be computed");
        return S3DLIO_OK;
    }
    if (!strcasecmp(got, o->etag))
        return S3DLIO_OK;
    if (o->layout_guessed) {
        char why[96];
        snprintf(why, sizeof(why), "part size unknown (guessed %" PRIu64 " bytes, no match)",
                 o->layout_part);
        note(o, why);
        return S3DLIO_OK;
    }
    return mismatch(o, got, err);
}

enum s3dlio_rc xverify_finish(struct xfer *x, struct xobj *o, struct s3dlio_error *err)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    if (o->vmode == V_WHOLE)
        rc = finish_whole(x, o, err);
    else if (o->vmode == V_PARTS)
        rc = finish_parts(o, err);
    if (o->vmode == V_NONE || rc)
        return rc;
    if (o->vmode == V_NOTE) {
        o->job->verified = S3DLIO_VERIFY_UNVERIFIABLE;
        x->st->not_verifiable++;
    } else {
        o->job->verified = S3DLIO_VERIFY_OK;
        x->st->verified++;
    }
    return S3DLIO_OK;
}

void xverify_reset(struct xobj *o)
{
    s3dlio_md5_release(&o->md5);
    o->md5_started = false;
    o->hashed = 0;
    o->vmode = V_NONE;
    o->layout_n = 0;
    o->layout_part = 0;
    o->layout_asked = o->layout_guessed = false;
}
