/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The adaptive in-flight target: how many requests the engine keeps in flight when the user
 * did not pin --get-concurrency / --put-concurrency. A pure function of per-interval
 * measurements (no clock, no I/O), so synthetic latency/throughput curves test it.
 *
 * The model is Little's law: in flight = throughput x latency. While the server answers each
 * request in about the same time however many are open (latency-bound: real S3's tens of ms
 * to first byte, the loop idle), more in flight is more throughput, and the target grows.
 * Once the server (or the network, or our CPU) is the limit, more in flight only queues:
 * throughput stays flat and latency climbs, so the target stops growing and goes back.
 */
#ifndef S3DLIO_XFER_ADAPT_H
#define S3DLIO_XFER_ADAPT_H

#include <stdbool.h>
#include <stdint.h>

/* What one measuring interval saw. */
struct s3dlio_adapt_sample {
    double secs;           /* length of the interval */
    uint64_t completed;    /* requests that ended successfully in it */
    uint64_t bytes;        /* their payload bytes */
    double latency_ms;     /* their mean time from submit to end */
    double mean_inflight;  /* requests in flight, averaged over the completions */
    bool throttled;        /* the server asked us to slow down (503, 429, refused) */
};

/* Why the target last moved (for logs and tests). */
enum s3dlio_adapt_move {
    S3DLIO_ADAPT_HOLD,     /* unchanged */
    S3DLIO_ADAPT_GROW,     /* a probe: more in flight, judged on the next interval */
    S3DLIO_ADAPT_BACK,     /* the probe did not pay: back to where it was */
    S3DLIO_ADAPT_SHRINK,   /* latency climbed at the same target */
    S3DLIO_ADAPT_THROTTLE, /* the server throttled: halved */
};

struct s3dlio_adapt {
    int floor, ceiling;    /* bounds of the target (the default and --max-connections) */
    int target;
    double base_latency_ms;/* the latency when nothing queues: lowest seen, slowly forgotten */
    double probe_rate;     /* throughput just before the pending probe; 0: none pending */
    int probe_from;        /* target before the pending probe */
    int hold;              /* intervals to wait before probing again */
    enum s3dlio_adapt_move last;
};

/* Start at `start`, move within [start, ceiling] (ceiling below start: pinned at start). */
void s3dlio_adapt_init(struct s3dlio_adapt *a, int start, int ceiling);

/* One interval's measurements: returns the new target. An interval in which fewer requests
 * were in flight than the target (the work ran out, a backoff) says nothing about it and
 * leaves everything as it was, unless it was throttled. */
int s3dlio_adapt_step(struct s3dlio_adapt *a, const struct s3dlio_adapt_sample *s);

#endif
