/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The adaptive in-flight target (see adapt.h): hill climbing on throughput, with latency as
 * the brake. A probe doubles the target; the next interval judges it: kept if the
 * throughput rose by a margin and latency stayed near its uncongested value, else undone,
 * and the next probe waits some intervals. Between probes, latency that climbs well above
 * its base at the same target (the server slowing under our load) shrinks the target.
 *
 * Throughput is bytes/s when the requests carry payload, so large objects are judged on
 * what matters for them; requests/s otherwise (control calls, empty objects). For small
 * objects the two move together.
 */
#include "xfer/adapt.h"

/* A probe doubles the target: latency-bound, throughput doubles too, a gain no noise of a
 * shared machine hides (steps of 1.5x gained +16% through the fault proxy on a loaded
 * 2-core machine, lost in the noise); and 32 reaches 200 in three probes. */
#define GROW_FACTOR 2.0
/* A probe is kept only if throughput rose at least this much (noise between intervals on the
 * loaded development machine: about 5%) ... */
#define RATE_GAIN 0.15
/* ... and latency stayed under base x this (more than that is queueing, not parallelism). */
#define LAT_PROBE_MAX 1.6
/* Between probes: latency above base x this at the same target means we overload the server. */
#define LAT_SHRINK 2.0
#define SHRINK_FACTOR 0.75
/* The base latency is the lowest seen, forgotten by this factor per interval, so a server that
 * became slower for good (not because of us) becomes the new normal within some seconds. */
#define BASE_AGING 1.02
/* Intervals to wait after a probe that did not pay, or a cut, before probing again. */
#define HOLD_INTERVALS 8
/* An interval with fewer in flight than this share of the target was not limited by it. */
#define BUSY_SHARE 0.75

void s3dlio_adapt_init(struct s3dlio_adapt *a, int start, int ceiling)
{
    *a = (struct s3dlio_adapt){0};
    a->floor = start < 1 ? 1 : start;
    a->ceiling = ceiling < a->floor ? a->floor : ceiling;
    a->target = a->floor;
}

static int clamp(const struct s3dlio_adapt *a, int t)
{
    return t < a->floor ? a->floor : t > a->ceiling ? a->ceiling : t;
}

static double rate_of(const struct s3dlio_adapt_sample *s)
{
    double n = s->bytes ? (double)s->bytes : (double)s->completed;
    return s->secs > 0 ? n / s->secs : 0;
}

static int move(struct s3dlio_adapt *a, enum s3dlio_adapt_move why, int to)
{
    a->last = why;
    a->target = clamp(a, to);
    return a->target;
}

/* The interval after a probe: keep it (and probe further) or go back. */
static int judge_probe(struct s3dlio_adapt *a, double rate, double lat)
{
    bool paid = rate >= a->probe_rate * (1 + RATE_GAIN) && lat <= a->base_latency_ms * LAT_PROBE_MAX;
    a->probe_rate = 0;
    if (!paid) {
        a->hold = HOLD_INTERVALS;
        return move(a, S3DLIO_ADAPT_BACK, a->probe_from);
    }
    if (a->target >= a->ceiling)
        return move(a, S3DLIO_ADAPT_HOLD, a->target);
    a->probe_rate = rate;
    a->probe_from = a->target;
    return move(a, S3DLIO_ADAPT_GROW, (int)(a->target * GROW_FACTOR + 0.5));
}

int s3dlio_adapt_step(struct s3dlio_adapt *a, const struct s3dlio_adapt_sample *s)
{
    if (s->throttled) {
        /* the engine's AIMD already halved what is sent; forget the growth too, for a while */
        a->probe_rate = 0;
        a->hold = 2 * HOLD_INTERVALS;
        return move(a, S3DLIO_ADAPT_THROTTLE, a->target / 2);
    }
    if (!s->completed || s->secs <= 0 || s->mean_inflight < BUSY_SHARE * a->target)
        return move(a, S3DLIO_ADAPT_HOLD, a->target);
    double rate = rate_of(s), lat = s->latency_ms;
    if (a->base_latency_ms <= 0 || lat < a->base_latency_ms)
        a->base_latency_ms = lat;
    if (a->probe_rate > 0) {
        int t = judge_probe(a, rate, lat);
        a->base_latency_ms *= BASE_AGING;
        return t;
    }
    a->base_latency_ms *= BASE_AGING;
    if (lat > a->base_latency_ms * LAT_SHRINK && a->target > a->floor) {
        a->hold = HOLD_INTERVALS;
        return move(a, S3DLIO_ADAPT_SHRINK, (int)(a->target * SHRINK_FACTOR));
    }
    if (a->hold > 0 || a->target >= a->ceiling) {
        if (a->hold > 0)
            a->hold--;
        return move(a, S3DLIO_ADAPT_HOLD, a->target);
    }
    a->probe_rate = rate;
    a->probe_from = a->target;
    return move(a, S3DLIO_ADAPT_GROW, (int)(a->target * GROW_FACTOR + 0.5));
}
