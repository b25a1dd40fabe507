/* SPDX-License-Identifier: Apache-2.0 */
/* The request trace's recorder, shared by trace.c (recording, packing) and trace_json.c. */
#ifndef S3DLIO_STATS_TRACE_INT_H
#define S3DLIO_STATS_TRACE_INT_H

#include <stdint.h>
#include "s3dlio/trace.h"

/* One request; its key is keys[key_at .. key_at + key_len) of the recorder's arena. */
struct trace_span {
    uint64_t start_ns, first_byte_ns, end_ns; /* CLOCK_MONOTONIC of the recording rank */
    uint64_t off, len, bytes;
    uint32_t key_at, key_len;
    int32_t status, rc, part, attempt;
    uint8_t op;   /* index into s3dlio_trace_op_name */
    uint8_t data; /* a data request */
};

struct trace_phase {
    char name[S3DLIO_TRACE_PHASE_NAME];
    uint64_t start_ns, end_ns;
};

/* Recent keys, found by content: an object's parts and retries store its key once. */
#define TRACE_KEY_CACHE 1024
struct trace_key_slot {
    uint32_t at, len;
    uint32_t hash;
    uint32_t used;
};

struct s3dlio_trace {
    int rank;
    char host[64];
    int64_t offset_ns;        /* own clock + offset_ns = rank 0's clock */
    uint64_t offset_error_ns;
    struct trace_span *spans; /* max_spans reserved at creation */
    size_t nspans, max_spans;
    char *keys;               /* key_cap reserved at creation */
    size_t key_used, key_cap;
    struct trace_phase phases[S3DLIO_TRACE_MAX_PHASES];
    size_t nphases;
    uint64_t dropped_spans, dropped_phases;
    struct trace_key_slot cache[TRACE_KEY_CACHE];
};

/* The name of op index i as the span said it ("GET", "UploadPart"...); "other" if unknown. */
const char *s3dlio_trace_op_name(unsigned i);

#endif
