/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request trace's recorder: spans and phases into memory reserved once, and the packed
 * form in which a rank's recorder travels to rank 0. The writer is trace_json.c.
 *
 * Why fixed memory: a trace is asked for on the runs that misbehave, which are the long ones;
 * a recorder that grew with them would add its own memory problem to the one being looked
 * for. So past its caps it drops and counts, and the trace says how much it lacks.
 */
#include "s3dlio/trace.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "stats/trace_int.h"
#include "util/alloc.h"

#define PACK_MAGIC   0x54443353u /* "S3DT" */
#define PACK_VERSION 1u
/* header: magic, version, rank, host, offset, its error, drops, counts */
#define PACK_HEADER  (4 + 4 + 4 + 64 + 8 + 8 + 8 + 8 + 4 + 4 + 4)
#define PACK_PHASE   (S3DLIO_TRACE_PHASE_NAME + 8 + 8)
#define PACK_SPAN    (6 * 8 + 2 * 4 + 4 * 4 + 2)

static const char *const op_names[] = {
    "GET",  "PUT", "UploadPart", "HEAD", "CreateMultipartUpload", "CompleteMultipartUpload",
    "AbortMultipartUpload", "CopyObject", "UploadPartCopy",
};
#define NOPS (sizeof(op_names) / sizeof(op_names[0]))

const char *s3dlio_trace_op_name(unsigned i)
{
    return i < NOPS ? op_names[i] : "other";
}

static uint8_t op_index(const char *op)
{
    for (unsigned i = 0; op && i < NOPS; i++)
        if (!strcmp(op, op_names[i]))
            return (uint8_t)i;
    return (uint8_t)NOPS;
}

uint64_t s3dlio_trace_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct s3dlio_trace *s3dlio_trace_new(size_t max_spans, size_t max_key_bytes)
{
    struct s3dlio_trace *t = s3dlio_xcalloc(1, sizeof(*t));
    t->max_spans = max_spans ? max_spans : S3DLIO_TRACE_MAX_SPANS;
    if (t->max_spans > SIZE_MAX / sizeof(*t->spans))
        t->max_spans = SIZE_MAX / sizeof(*t->spans); /* the reserve's size must not wrap */
    t->key_cap = max_key_bytes ? max_key_bytes : S3DLIO_TRACE_MAX_KEY_BYTES;
    if (t->key_cap > UINT32_MAX)
        t->key_cap = UINT32_MAX; /* keys are addressed by 32-bit offsets */
    /* malloc, not calloc: untouched pages of the reserve are never committed */
    t->spans = s3dlio_xmalloc(t->max_spans * sizeof(*t->spans));
    t->keys = s3dlio_xmalloc(t->key_cap);
    return t;
}

void s3dlio_trace_free(struct s3dlio_trace *t)
{
    if (!t)
        return;
    free(t->spans);
    free(t->keys);
    free(t);
}

void s3dlio_trace_set_rank(struct s3dlio_trace *t, int rank, const char *host, int64_t offset_ns,
                           uint64_t offset_error_ns)
{
    t->rank = rank;
    snprintf(t->host, sizeof(t->host), "%s", host ? host : "");
    t->offset_ns = offset_ns;
    t->offset_error_ns = offset_error_ns;
}

static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* The key's place in the arena, stored now unless a recent span had it; false: no room. */
static bool intern_key(struct s3dlio_trace *t, const char *key, uint32_t *at, uint32_t *len)
{
    size_t n = strlen(key);
    uint32_t h = fnv1a(key, n);
    struct trace_key_slot *slot = &t->cache[h % TRACE_KEY_CACHE];
    if (slot->used && slot->hash == h && slot->len == n && !memcmp(t->keys + slot->at, key, n)) {
        *at = slot->at;
        *len = slot->len;
        return true;
    }
    if (n > t->key_cap - t->key_used)
        return false;
    memcpy(t->keys + t->key_used, key, n);
    *slot = (struct trace_key_slot){(uint32_t)t->key_used, (uint32_t)n, h, 1};
    *at = slot->at;
    *len = slot->len;
    t->key_used += n;
    return true;
}

static int32_t clamp32(int64_t v)
{
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

void s3dlio_trace_add_span(struct s3dlio_trace *t, const struct s3dlio_req_span *s)
{
    if (!t)
        return;
    uint32_t at = 0, len = 0;
    if (t->nspans == t->max_spans || !intern_key(t, s->key ? s->key : "", &at, &len)) {
        t->dropped_spans++;
        return;
    }
    t->spans[t->nspans++] = (struct trace_span){
        .start_ns = s->start_ns, .first_byte_ns = s->first_byte_ns,
        .end_ns = s->end_ns < s->start_ns ? s->start_ns : s->end_ns,
        .off = s->range_off, .len = s->range_len, .bytes = s->bytes,
        .key_at = at, .key_len = len, .status = clamp32(s->http_status), .rc = clamp32(s->rc),
        .part = clamp32(s->part_number), .attempt = clamp32(s->attempt), .op = op_index(s->op),
        .data = s->data,
    };
}

void s3dlio_trace_on_span(void *t, const struct s3dlio_req_span *span)
{
    s3dlio_trace_add_span(t, span);
}

void s3dlio_trace_add_phase(struct s3dlio_trace *t, const char *name, uint64_t start_ns,
                            uint64_t end_ns)
{
    if (!t)
        return;
    if (t->nphases == S3DLIO_TRACE_MAX_PHASES) {
        t->dropped_phases++;
        return;
    }
    struct trace_phase *p = &t->phases[t->nphases++];
    snprintf(p->name, sizeof(p->name), "%s", name ? name : "");
    p->start_ns = start_ns;
    p->end_ns = end_ns < start_ns ? start_ns : end_ns;
}

void s3dlio_trace_get_counts(const struct s3dlio_trace *t, struct s3dlio_trace_counts *c)
{
    memset(c, 0, sizeof(*c));
    if (!t)
        return;
    c->spans = t->nspans;
    c->phases = t->nphases;
    c->dropped_spans = t->dropped_spans;
    c->dropped_phases = t->dropped_phases;
    c->key_bytes = t->key_used;
}

/* ---- packed form: little-endian, fixed-size records, then the keys ------------------------ */

static unsigned char *put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static unsigned char *put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static uint32_t get32(const unsigned char **p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)(*p)[i] << (8 * i);
    *p += 4;
    return v;
}

static uint64_t get64(const unsigned char **p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)(*p)[i] << (8 * i);
    *p += 8;
    return v;
}

/* The most spans, in recorded order, that fit in room bytes with the keys they need. Keys
 * enter the arena in the order spans first use them, so a prefix of spans needs a prefix of
 * the arena. */
static size_t spans_that_fit(const struct s3dlio_trace *t, size_t room, size_t *key_bytes)
{
    size_t n = 0, keys = 0;
    for (; n < t->nspans; n++) {
        const struct trace_span *s = &t->spans[n];
        size_t end = (size_t)s->key_at + s->key_len, k = end > keys ? end : keys;
        if ((n + 1) * (size_t)PACK_SPAN + k > room)
            break;
        keys = k;
    }
    *key_bytes = keys;
    return n;
}

static unsigned char *pack_span(unsigned char *p, const struct trace_span *s)
{
    p = put64(p, s->start_ns);
    p = put64(p, s->first_byte_ns);
    p = put64(p, s->end_ns);
    p = put64(p, s->off);
    p = put64(p, s->len);
    p = put64(p, s->bytes);
    p = put32(p, s->key_at);
    p = put32(p, s->key_len);
    p = put32(p, (uint32_t)s->status);
    p = put32(p, (uint32_t)s->rc);
    p = put32(p, (uint32_t)s->part);
    p = put32(p, (uint32_t)s->attempt);
    *p++ = s->op;
    *p++ = s->data;
    return p;
}

enum s3dlio_rc s3dlio_trace_pack(const struct s3dlio_trace *t, size_t max_bytes, void **buf,
                                 size_t *len, struct s3dlio_error *err)
{
    size_t fixed = PACK_HEADER + t->nphases * PACK_PHASE, key_bytes = 0;
    *buf = NULL;
    *len = 0;
    if (max_bytes < fixed)
        return s3dlio_error_set(err, S3DLIO_E_LIMIT, "trace", NULL,
                                "rank %d: %zu bytes cannot hold a trace (%zu needed)", t->rank,
                                max_bytes, fixed);
    size_t n = spans_that_fit(t, max_bytes - fixed, &key_bytes);
    size_t total = fixed + n * PACK_SPAN + key_bytes;
    unsigned char *b = s3dlio_xmalloc(total), *p = b;
    p = put32(p, PACK_MAGIC);
    p = put32(p, PACK_VERSION);
    p = put32(p, (uint32_t)t->rank);
    memcpy(p, t->host, sizeof(t->host));
    p += sizeof(t->host);
    p = put64(p, (uint64_t)t->offset_ns);
    p = put64(p, t->offset_error_ns);
    p = put64(p, t->dropped_spans + (t->nspans - n)); /* what did not fit is dropped too */
    p = put64(p, t->dropped_phases);
    p = put32(p, (uint32_t)t->nphases);
    p = put32(p, (uint32_t)n);
    p = put32(p, (uint32_t)key_bytes);
    for (size_t i = 0; i < t->nphases; i++) {
        memcpy(p, t->phases[i].name, S3DLIO_TRACE_PHASE_NAME);
        p += S3DLIO_TRACE_PHASE_NAME;
        p = put64(p, t->phases[i].start_ns);
        p = put64(p, t->phases[i].end_ns);
    }
    for (size_t i = 0; i < n; i++)
        p = pack_span(p, &t->spans[i]);
    memcpy(p, t->keys, key_bytes);
    *buf = b;
    *len = total;
    return S3DLIO_OK;
}

static void unpack_span(const unsigned char **p, struct trace_span *s)
{
    s->start_ns = get64(p);
    s->first_byte_ns = get64(p);
    s->end_ns = get64(p);
    s->off = get64(p);
    s->len = get64(p);
    s->bytes = get64(p);
    s->key_at = get32(p);
    s->key_len = get32(p);
    s->status = (int32_t)get32(p);
    s->rc = (int32_t)get32(p);
    s->part = (int32_t)get32(p);
    s->attempt = (int32_t)get32(p);
    s->op = *(*p)++;
    s->data = *(*p)++;
}

static enum s3dlio_rc bad_pack(struct s3dlio_error *err, const char *why)
{
    return s3dlio_error_set(err, S3DLIO_E_PARSE, "trace", NULL, "packed trace: %s", why);
}

/* The header's counts, checked against the length before anything is allocated. */
static enum s3dlio_rc unpack_header(const unsigned char **p, size_t len, struct s3dlio_trace *h,
                                    size_t *nspans, size_t *key_bytes, struct s3dlio_error *err)
{
    if (len < PACK_HEADER)
        return bad_pack(err, "shorter than its header");
    if (get32(p) != PACK_MAGIC || get32(p) != PACK_VERSION)
        return bad_pack(err, "not a packed trace of this version");
    h->rank = (int)get32(p);
    memcpy(h->host, *p, sizeof(h->host));
    h->host[sizeof(h->host) - 1] = '\0';
    *p += sizeof(h->host);
    h->offset_ns = (int64_t)get64(p);
    h->offset_error_ns = get64(p);
    h->dropped_spans = get64(p);
    h->dropped_phases = get64(p);
    h->nphases = get32(p);
    *nspans = get32(p);
    *key_bytes = get32(p);
    if (h->nphases > S3DLIO_TRACE_MAX_PHASES)
        return bad_pack(err, "too many phases");
    /* each term is below 2^32 times a small record size: no overflow in size_t */
    if (len != PACK_HEADER + h->nphases * PACK_PHASE + *nspans * (size_t)PACK_SPAN + *key_bytes)
        return bad_pack(err, "its length does not match its counts");
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_trace_unpack(const void *buf, size_t len, struct s3dlio_trace **out,
                                   struct s3dlio_error *err)
{
    const unsigned char *p = buf;
    struct s3dlio_trace h = {0};
    size_t nspans = 0, key_bytes = 0;
    *out = NULL;
    enum s3dlio_rc rc = unpack_header(&p, len, &h, &nspans, &key_bytes, err);
    if (rc)
        return rc;
    struct s3dlio_trace *t = s3dlio_trace_new(nspans ? nspans : 1, key_bytes ? key_bytes : 1);
    s3dlio_trace_set_rank(t, h.rank, h.host, h.offset_ns, h.offset_error_ns);
    t->dropped_spans = h.dropped_spans;
    t->dropped_phases = h.dropped_phases;
    t->nphases = h.nphases;
    for (size_t i = 0; i < t->nphases; i++) {
        memcpy(t->phases[i].name, p, S3DLIO_TRACE_PHASE_NAME);
        t->phases[i].name[S3DLIO_TRACE_PHASE_NAME - 1] = '\0';
        p += S3DLIO_TRACE_PHASE_NAME;
        t->phases[i].start_ns = get64(&p);
        t->phases[i].end_ns = get64(&p);
    }
    for (size_t i = 0; i < nspans; i++) {
        struct trace_span *s = &t->spans[i];
        unpack_span(&p, s);
        if ((uint64_t)s->key_at + s->key_len > key_bytes) {
            s3dlio_trace_free(t);
            return bad_pack(err, "a key lies outside the key bytes");
        }
    }
    t->nspans = nspans;
    memcpy(t->keys, p, key_bytes);
    t->key_used = key_bytes;
    *out = t;
    return S3DLIO_OK;
}
