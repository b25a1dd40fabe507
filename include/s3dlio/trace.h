/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request trace (--trace PATH, issue 10). Each rank records the spans of its requests
 * (struct s3dlio_req_span, from the engine's on_span) and the phases of its job into a
 * recorder whose memory is fixed when it is made; the recorders travel to rank 0 as packed
 * bytes and become one Chrome trace event JSON file, which Perfetto (ui.perfetto.dev) and
 * chrome://tracing show as one timeline: a process per rank, its phases on one row, its
 * requests on lanes below. No MPI here: src/coord/trace_gather.c moves the bytes and measures
 * each rank's clock offset to rank 0.
 *
 * Thread rules: a recorder is used from one thread (the engine's loop), never shared.
 */
#ifndef S3DLIO_TRACE_H
#define S3DLIO_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "s3dlio/error.h"
#include "s3dlio/xfer.h"

/*
 * Default caps of a recorder, per rank: 262,144 spans (about 20 MiB of records) and 32 MiB of
 * keys (each distinct key once: the parts and retries of an object share it). Both are
 * reserved when the recorder is made and never grown; the system commits pages only as
 * spans arrive, so a short run costs little. Past a cap, spans are dropped and counted (the
 * trace's otherData says how many), never stored in memory that grows.
 */
#define S3DLIO_TRACE_MAX_SPANS     262144u
#define S3DLIO_TRACE_MAX_KEY_BYTES (32u << 20)
#define S3DLIO_TRACE_MAX_PHASES    64u /* phases are few: list, partition, download ... */
#define S3DLIO_TRACE_PHASE_NAME    32u /* bytes of a phase name, with its NUL (longer: cut) */

struct s3dlio_trace;

/* Make a recorder holding up to max_spans spans and max_key_bytes of keys (0: the defaults).
 * Free it with s3dlio_trace_free. */
struct s3dlio_trace *s3dlio_trace_new(size_t max_spans, size_t max_key_bytes);
/* Accepts NULL. */
void s3dlio_trace_free(struct s3dlio_trace *t);

/*
 * Whose recorder it is: rank, host (copied, cut at 63 bytes), and the offset that maps this
 * rank's CLOCK_MONOTONIC onto rank 0's (aligned = own + offset_ns) with its uncertainty
 * (half the round trip it was measured with). Travels in the packed bytes.
 */
void s3dlio_trace_set_rank(struct s3dlio_trace *t, int rank, const char *host, int64_t offset_ns,
                           uint64_t offset_error_ns);

/* Record one request (t NULL: nothing). The key is copied into the recorder's arena. */
void s3dlio_trace_add_span(struct s3dlio_trace *t, const struct s3dlio_req_span *span);
/* The same as an engine callback: xo.on_span = s3dlio_trace_on_span, xo.span_ud = t. */
void s3dlio_trace_on_span(void *t, const struct s3dlio_req_span *span);
/* CLOCK_MONOTONIC now, in ns: the clock of spans and phases. */
uint64_t s3dlio_trace_now_ns(void);
/* Record a phase of the job (t NULL: nothing): name is copied; times are CLOCK_MONOTONIC ns
 * of this process, end >= start. */
void s3dlio_trace_add_phase(struct s3dlio_trace *t, const char *name, uint64_t start_ns,
                            uint64_t end_ns);

struct s3dlio_trace_counts {
    size_t spans, phases;    /* recorded */
    uint64_t dropped_spans;  /* past a cap (here, or when packed) */
    uint64_t dropped_phases;
    size_t key_bytes;        /* of the key arena in use */
};
void s3dlio_trace_get_counts(const struct s3dlio_trace *t, struct s3dlio_trace_counts *c);

/*
 * Pack t into at most max_bytes (the gather's share of each rank): the header and phases
 * always, then as many spans (in the order recorded) and their keys as fit; the rest count
 * as dropped in the packed copy. *buf is heap (caller frees), *len its size. S3DLIO_E_LIMIT
 * when not even the header and phases fit.
 */
enum s3dlio_rc s3dlio_trace_pack(const struct s3dlio_trace *t, size_t max_bytes, void **buf,
                                 size_t *len, struct s3dlio_error *err);
/*
 * A recorder from packed bytes (another rank's), checked: S3DLIO_E_PARSE when they are not a
 * whole packed recorder of this version. *out is freed with s3dlio_trace_free.
 */
enum s3dlio_rc s3dlio_trace_unpack(const void *buf, size_t len, struct s3dlio_trace **out,
                                   struct s3dlio_error *err);

/* What the trace says about the run (otherData); every field may be NULL. */
struct s3dlio_trace_info {
    const char *run_id;
    const char *command;
};

/*
 * Write ranks[0..n) (one recorder per rank, in rank order) as Chrome trace event JSON:
 *   {"traceEvents":[...], "displayTimeUnit":"ms", "otherData":{...}}
 * Per rank a process (pid = rank, named "rank N (host)"); its phases as complete ("X")
 * events on thread 0; its requests as complete events on lanes (tid 1, 2, ...) assigned
 * greedily by start time, so that no two events of a lane overlap. ts and dur are in
 * microseconds (exact to the nanosecond) from the earliest aligned time of any rank; a
 * request's args: key (a key that is not UTF-8 is shown with U+FFFD and given whole as
 * key_hex), range, bytes, status, ttfb_ms, attempt, rc, part. otherData: the schema, counts,
 * drops, and every rank's clock offset and its error. S3DLIO_E_IO when fp fails.
 */
enum s3dlio_rc s3dlio_trace_write_json(struct s3dlio_trace *const *ranks, size_t n,
                                       const struct s3dlio_trace_info *info, FILE *fp,
                                       struct s3dlio_error *err);

#endif
