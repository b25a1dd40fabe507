/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request trace as Chrome trace event JSON (the "JSON Object Format" of the Trace Event
 * Format document), read by Perfetto and chrome://tracing.
 *
 * Written by hand, streamed, rather than built as a json-c tree: a trace of many ranks holds
 * millions of events, and a tree of them would cost several times the recorders' memory on
 * rank 0. What json-c would have given for free is done here: every string is escaped, and
 * bytes that are not UTF-8 (S3 keys may hold any byte) never reach the file raw.
 */
#include "s3dlio/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "stats/trace_int.h"
#include "util/alloc.h"

/* ---- strings ------------------------------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence at s (n bytes left), 0 if there is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0; /* a continuation byte, an overlong lead (c0, c1) or past U+10FFFF */
    if (c == 0xe0)
        lo = 0xa0; /* overlong */
    else if (c == 0xed)
        hi = 0x9f; /* UTF-16 surrogates */
    else if (c == 0xf0)
        lo = 0x90; /* overlong */
    else if (c == 0xf4)
        hi = 0x8f; /* past U+10FFFF */
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/*
 * s[0..n) as a JSON string: quotes, backslashes and control bytes escaped, each byte that is
 * not part of well-formed UTF-8 replaced by U+FFFD. Returns false when one was replaced.
 */
static bool put_string(FILE *fp, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    bool whole = true;
    fputc('"', fp);
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(u + i, n - i);
        if (!len) {
            fputs("\\ufffd", fp);
            whole = false;
            i++;
        } else if (u[i] == '"' || u[i] == '\\') {
            fputc('\\', fp);
            fputc(u[i++], fp);
        } else if (u[i] < 0x20) {
            fprintf(fp, "\\u%04x", u[i++]);
        } else {
            fwrite(u + i, 1, len, fp);
            i += len;
        }
    }
    fputc('"', fp);
    return whole;
}

static void put_cstring(FILE *fp, const char *s)
{
    put_string(fp, s ? s : "", s ? strlen(s) : 0);
}

static void put_hex(FILE *fp, const char *s, size_t n)
{
    fputc('"', fp);
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "%02x", (unsigned char)s[i]);
    fputc('"', fp);
}

/* Microseconds with the nanoseconds as decimals: exact, no floating point on the way. */
static void put_us(FILE *fp, uint64_t ns)
{
    fprintf(fp, "%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

/* ---- time --------------------------------------------------------------------------------- */

/* t's own clock at ns, on rank 0's clock. */
static int64_t aligned(const struct s3dlio_trace *t, uint64_t ns)
{
    return (int64_t)ns + t->offset_ns;
}

/* The earliest aligned time of any phase or span: ts 0 of the trace. */
static int64_t earliest(struct s3dlio_trace *const *ranks, size_t n)
{
    int64_t base = INT64_MAX;
    for (size_t r = 0; r < n; r++) {
        const struct s3dlio_trace *t = ranks[r];
        for (size_t i = 0; i < t->nphases; i++)
            if (aligned(t, t->phases[i].start_ns) < base)
                base = aligned(t, t->phases[i].start_ns);
        for (size_t i = 0; i < t->nspans; i++)
            if (aligned(t, t->spans[i].start_ns) < base)
                base = aligned(t, t->spans[i].start_ns);
    }
    return base == INT64_MAX ? 0 : base;
}

/* ts (from base) and dur of an event of t from start to end, own clock. */
static void put_when(FILE *fp, const struct s3dlio_trace *t, int64_t base, uint64_t start,
                     uint64_t end)
{
    int64_t rel = aligned(t, start) - base;
    fputs(",\"ts\":", fp);
    put_us(fp, rel > 0 ? (uint64_t)rel : 0);
    fputs(",\"dur\":", fp);
    put_us(fp, end > start ? end - start : 0);
}

/* ---- events ------------------------------------------------------------------------------- */

/* Separates events: a comma before all but the first. */
static void next_event(FILE *fp, bool *first)
{
    fputs(*first ? "\n" : ",\n", fp);
    *first = false;
}

static void put_meta(FILE *fp, bool *first, const char *what, int pid, size_t tid, const char *key,
                     const char *text, long long number)
{
    next_event(fp, first);
    fprintf(fp, "{\"name\":\"%s\",\"ph\":\"M\",\"pid\":%d,\"tid\":%zu,\"args\":{\"%s\":", what,
            pid, tid, key);
    if (text)
        put_cstring(fp, text);
    else
        fprintf(fp, "%lld", number);
    fputs("}}", fp);
}

static void put_phases(FILE *fp, bool *first, const struct s3dlio_trace *t, int64_t base)
{
    for (size_t i = 0; i < t->nphases; i++) {
        const struct trace_phase *p = &t->phases[i];
        next_event(fp, first);
        fputs("{\"name\":", fp);
        put_cstring(fp, p->name);
        fprintf(fp, ",\"cat\":\"phase\",\"ph\":\"X\",\"pid\":%d,\"tid\":0", t->rank);
        put_when(fp, t, base, p->start_ns, p->end_ns);
        fputs("}", fp);
    }
}

/* "first-last" of the bytes asked for (inclusive, as in an HTTP Range), "first-" to the end. */
static void put_range(FILE *fp, const struct trace_span *s)
{
    if (s->len == S3DLIO_LEN_TO_END)
        fprintf(fp, "\"%" PRIu64 "-\"", s->off);
    else if (s->len)
        fprintf(fp, "\"%" PRIu64 "-%" PRIu64 "\"", s->off, s->off + s->len - 1);
    else
        fputs("\"\"", fp);
}

static void put_span(FILE *fp, bool *first, const struct s3dlio_trace *t, int64_t base,
                     const struct trace_span *s, size_t lane)
{
    const char *key = t->keys + s->key_at;
    next_event(fp, first);
    fprintf(fp, "{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":%d,\"tid\":%zu",
            s3dlio_trace_op_name(s->op), s->data ? "data" : "control", t->rank, lane + 1);
    put_when(fp, t, base, s->start_ns, s->end_ns);
    fputs(",\"args\":{\"key\":", fp);
    if (!put_string(fp, key, s->key_len)) {
        fputs(",\"key_hex\":", fp); /* the key whole, for a key that is not UTF-8 */
        put_hex(fp, key, s->key_len);
    }
    if (s->data) {
        fputs(",\"range\":", fp);
        put_range(fp, s);
    }
    fprintf(fp, ",\"bytes\":%" PRIu64 ",\"status\":%d,\"ttfb_ms\":", s->bytes, (int)s->status);
    if (s->first_byte_ns >= s->start_ns && s->first_byte_ns)
        fprintf(fp, "%.3f", (double)(s->first_byte_ns - s->start_ns) / 1e6);
    else
        fputs("null", fp);
    fprintf(fp, ",\"attempt\":%d,\"rc\":\"%s\"", (int)s->attempt,
            s3dlio_rc_str((enum s3dlio_rc)s->rc));
    if (s->part)
        fprintf(fp, ",\"part\":%d", (int)s->part);
    fputs("}}", fp);
}

/* A span's place in start order. */
struct order {
    uint64_t start, end;
    size_t i;
};

static int by_start(const void *a, const void *b)
{
    const struct order *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * t's requests, in start order, each on the lowest lane free at its start (a lane is free
 * once its last event ended: touching is not overlapping). Returns the lanes used.
 */
static size_t put_spans(FILE *fp, bool *first, const struct s3dlio_trace *t, int64_t base)
{
    struct order *ord = s3dlio_xmalloc((t->nspans ? t->nspans : 1) * sizeof(*ord));
    uint64_t *lane_end = NULL;
    size_t nlanes = 0, lanes_alloc = 0;
    for (size_t i = 0; i < t->nspans; i++)
        ord[i] = (struct order){t->spans[i].start_ns, t->spans[i].end_ns, i};
    qsort(ord, t->nspans, sizeof(*ord), by_start);
    for (size_t k = 0; k < t->nspans; k++) {
        size_t lane = 0;
        while (lane < nlanes && lane_end[lane] > ord[k].start)
            lane++;
        if (lane == nlanes)
            s3dlio_xgrow((void **)&lane_end, sizeof(*lane_end), ++nlanes, &lanes_alloc);
        lane_end[lane] = ord[k].end;
        put_span(fp, first, t, base, &t->spans[ord[k].i], lane);
    }
    free(ord);
    free(lane_end);
    return nlanes;
}

static void put_rank(FILE *fp, bool *first, const struct s3dlio_trace *t, int64_t base)
{
    char name[96];
    snprintf(name, sizeof(name), "rank %d (%s)", t->rank, t->host[0] ? t->host : "?");
    put_meta(fp, first, "process_name", t->rank, 0, "name", name, 0);
    put_meta(fp, first, "process_sort_index", t->rank, 0, "sort_index", NULL, t->rank);
    put_meta(fp, first, "thread_name", t->rank, 0, "name", "phases", 0);
    put_phases(fp, first, t, base);
    size_t lanes = put_spans(fp, first, t, base);
    for (size_t l = 1; l <= lanes; l++) {
        snprintf(name, sizeof(name), "requests %zu", l);
        put_meta(fp, first, "thread_name", t->rank, l, "name", name, 0);
    }
}

/* ---- the file ----------------------------------------------------------------------------- */

static void put_rank_array(FILE *fp, const char *name, struct s3dlio_trace *const *ranks, size_t n,
                           int what)
{
    fprintf(fp, ",\n\"%s\":[", name);
    for (size_t r = 0; r < n; r++) {
        const struct s3dlio_trace *t = ranks[r];
        if (r)
            fputc(',', fp);
        if (what == 0)
            fprintf(fp, "%" PRId64, t->offset_ns);
        else if (what == 1)
            fprintf(fp, "%" PRIu64, t->offset_error_ns);
        else
            fprintf(fp, "%" PRIu64, t->dropped_spans);
    }
    fputc(']', fp);
}

static void put_other(FILE *fp, struct s3dlio_trace *const *ranks, size_t n,
                      const struct s3dlio_trace_info *info)
{
    uint64_t spans = 0, dropped = 0, dropped_phases = 0;
    for (size_t r = 0; r < n; r++) {
        spans += ranks[r]->nspans;
        dropped += ranks[r]->dropped_spans;
        dropped_phases += ranks[r]->dropped_phases;
    }
    fputs("\"otherData\":{\"schema\":\"s3dlio-mpi/trace\",\"version\":1,\n\"command\":", fp);
    put_cstring(fp, info && info->command ? info->command : "");
    fputs(",\"run_id\":", fp);
    put_cstring(fp, info && info->run_id ? info->run_id : "");
    fprintf(fp, ",\n\"ranks\":%zu,\"spans\":%" PRIu64 ",\"dropped_spans\":%" PRIu64
                ",\"dropped_phases\":%" PRIu64,
            n, spans, dropped, dropped_phases);
    fputs(",\n\"clock\":\"each rank's CLOCK_MONOTONIC plus its offset to rank 0's, measured at "
          "the start by the fastest of a few round trips; ts 0 is the earliest event\"",
          fp);
    put_rank_array(fp, "clock_offset_ns", ranks, n, 0);
    put_rank_array(fp, "clock_error_ns", ranks, n, 1);
    put_rank_array(fp, "dropped_spans_by_rank", ranks, n, 2);
    fputs("}", fp);
}

enum s3dlio_rc s3dlio_trace_write_json(struct s3dlio_trace *const *ranks, size_t n,
                                       const struct s3dlio_trace_info *info, FILE *fp,
                                       struct s3dlio_error *err)
{
    int64_t base = earliest(ranks, n);
    bool first = true;
    errno = 0;
    fputs("{\"traceEvents\":[", fp);
    for (size_t r = 0; r < n; r++)
        put_rank(fp, &first, ranks[r], base);
    fputs("\n],\n\"displayTimeUnit\":\"ms\",\n", fp);
    put_other(fp, ranks, n, info);
    fputs("}\n", fp);
    if (fflush(fp) || ferror(fp))
        return s3dlio_error_set(err, S3DLIO_E_IO, "trace", NULL, "writing the trace failed: %s",
                                strerror(errno ? errno : EIO));
    return S3DLIO_OK;
}
