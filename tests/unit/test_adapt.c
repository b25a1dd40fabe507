/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The adaptive in-flight target (src/xfer/adapt.c) against synthetic servers: each answers a
 * request in lat0 when nothing queues and completes at most `cap` requests per second, so by
 * Little's law a target T gives min(T / lat0, cap) requests/s at max(lat0, T / cap) latency.
 * Deterministic noise of +-5% stands in for a shared machine.
 */
#include "check.h"
#include "xfer/adapt.h"

struct server {
    double lat0_ms;      /* latency with nothing queued */
    double cap;          /* requests per second at most */
    double req_bytes;    /* payload per request */
};

static struct s3dlio_adapt_sample measure(const struct server *sv, int target, int i)
{
    double rate = target / (sv->lat0_ms / 1e3);
    if (rate > sv->cap)
        rate = sv->cap;
    double noise = i % 2 ? 1.05 : 0.95;
    double secs = 0.2;
    uint64_t completed = (uint64_t)(rate * noise * secs);
    return (struct s3dlio_adapt_sample){
        .secs = secs, .completed = completed, .bytes = (uint64_t)(completed * sv->req_bytes),
        .latency_ms = target / rate * 1e3, .mean_inflight = target,
    };
}

/* Run n intervals from a's state; the highest target seen goes to *max (may be NULL). */
static void run(struct s3dlio_adapt *a, const struct server *sv, int n, int *max)
{
    for (int i = 0; i < n; i++) {
        struct s3dlio_adapt_sample s = measure(sv, a->target, i);
        int t = s3dlio_adapt_step(a, &s);
        if (max && t > *max)
            *max = t;
    }
}

/* Real S3 from afar: 25 ms per request, the client could do 6000/s: the knee is at 150. */
static void grows_when_latency_bound(void)
{
    struct server sv = {25, 6000, 10000};
    struct s3dlio_adapt a;
    s3dlio_adapt_init(&a, 32, 200);
    int max = 0;
    run(&a, &sv, 60, &max);
    CHECK(max > 150, "latency-bound: probes past the knee");
    CHECK(max <= 200, "latency-bound: never above the ceiling");
    /* settled at the last target that paid: at or past the knee, where latency starts to
     * climb (a probe that doubles it must gain 15%) */
    int settled = a.target;
    CHECK(settled >= 128 && settled <= 200, "latency-bound: settles at the knee");
    int stays = 0;
    for (int i = 0; i < 40; i++) {
        struct s3dlio_adapt_sample s = measure(&sv, a.target, i);
        stays += s3dlio_adapt_step(&a, &s) == settled;
    }
    CHECK(stays >= 30, "latency-bound: stays at the plateau, probing now and then");
}

/* A local server, busy from the start: 2 ms alone, 1000 requests/s at most. */
static void stops_at_a_plateau(void)
{
    struct server sv = {2, 1000, 10000};
    struct s3dlio_adapt a;
    s3dlio_adapt_init(&a, 32, 200);
    int max = 0, above = 0;
    for (int i = 0; i < 60; i++) {
        struct s3dlio_adapt_sample s = measure(&sv, a.target, i);
        int t = s3dlio_adapt_step(&a, &s);
        above += t > 32;
        if (t > max)
            max = t;
    }
    CHECK_INT(a.target, 32, "server-bound: back at the start");
    CHECK_INT(max, 64, "server-bound: one step of probe at a time");
    CHECK(above <= 60 / 8, "server-bound: probes are rare");
}

/* Large objects: few requests, bytes/s is the signal; a 2 GB/s link full at 16 requests. */
static void large_objects_do_not_grow(void)
{
    struct server sv = {40, 400, 8 << 20}; /* 8 MiB parts: 400/s is 3.4 GB/s */
    struct s3dlio_adapt a;
    s3dlio_adapt_init(&a, 32, 200);
    int max = 0;
    run(&a, &sv, 40, &max);
    CHECK_INT(a.target, 32, "bandwidth-bound: stays at the default");
    CHECK(max <= 64, "bandwidth-bound: never more than a probe above it");
}

static void shrinks_when_latency_climbs(void)
{
    struct server fast = {25, 6000, 10000}, slow = {25, 1500, 10000};
    struct s3dlio_adapt a;
    s3dlio_adapt_init(&a, 32, 200);
    run(&a, &fast, 40, NULL);
    int grown = a.target;
    CHECK(grown > 100, "latency climb: grown first");
    /* the server slows down under the same load: latency x4 at the same target */
    struct s3dlio_adapt_sample s = measure(&slow, a.target, 0);
    CHECK(s.latency_ms > 90, "latency climb: the model's latency climbed");
    int moved = 0;
    for (int i = 0; i < 60 && !moved; i++) {
        s = measure(&slow, a.target, i);
        s3dlio_adapt_step(&a, &s);
        moved = a.last == S3DLIO_ADAPT_SHRINK;
    }
    CHECK(moved, "latency climb: shrinks");
    CHECK(a.target < grown, "latency climb: below where it was");
    /* later probes find no gain: it stays down (the knee of the slower server is 37) */
    int max = 0;
    run(&a, &slow, 200, &max);
    CHECK(a.target <= grown * 3 / 4, "latency climb: stays down");
    CHECK(max < grown, "latency climb: probes stay below where it was");
    CHECK(a.target >= 32, "latency climb: never below the floor");
}

static void throttle_halves(void)
{
    struct server sv = {25, 6000, 10000};
    struct s3dlio_adapt a;
    s3dlio_adapt_init(&a, 32, 200);
    run(&a, &sv, 40, NULL);
    int before = a.target;
    struct s3dlio_adapt_sample s = measure(&sv, a.target, 0);
    s.throttled = true;
    int t = s3dlio_adapt_step(&a, &s);
    CHECK_INT(t, before / 2 < 32 ? 32 : before / 2, "throttle: halved");
    CHECK_INT(a.last, S3DLIO_ADAPT_THROTTLE, "throttle: says why");
    /* at the floor a throttle cannot cut further: the engine's AIMD does the rest */
    s3dlio_adapt_init(&a, 32, 200);
    CHECK_INT(s3dlio_adapt_step(&a, &s), 32, "throttle: not below the floor");
}

static void bounds_and_pinning(void)
{
    struct server sv = {25, 1e9, 10000}; /* never saturates */
    struct s3dlio_adapt a;
    s3dlio_adapt_init(&a, 32, 100);
    int max = 0;
    run(&a, &sv, 40, &max);
    CHECK_INT(max, 100, "ceiling: reached and not passed");
    CHECK_INT(a.target, 100, "ceiling: stays there");
    /* a ceiling under the start pins it (the caller's way to say: no adaptation) */
    s3dlio_adapt_init(&a, 8, 4);
    max = 0;
    run(&a, &sv, 40, &max);
    CHECK_INT(max, 8, "pinned: never moves");
    s3dlio_adapt_init(&a, 0, 0);
    CHECK_INT(a.target, 1, "start below 1: 1");
}

/* The work ran out, or a backoff emptied the pipe: the interval says nothing about the target. */
static void idle_intervals_say_nothing(void)
{
    struct server sv = {25, 6000, 10000};
    struct s3dlio_adapt a;
    s3dlio_adapt_init(&a, 32, 200);
    for (int i = 0; i < 20; i++) {
        struct s3dlio_adapt_sample s = measure(&sv, a.target, i);
        s.mean_inflight = a.target / 2.0;
        CHECK_INT(s3dlio_adapt_step(&a, &s), 32, "idle: no move");
    }
    struct s3dlio_adapt_sample none = {.secs = 0.2};
    CHECK_INT(s3dlio_adapt_step(&a, &none), 32, "no completions: no move");
}

int main(void)
{
    grows_when_latency_bound();
    stops_at_a_plateau();
    large_objects_do_not_grow();
    shrinks_when_latency_climbs();
    throttle_halves();
    bounds_and_pinning();
    idle_intervals_say_nothing();
    printf("test_adapt: %d checks, %d failed\n", check_count, check_failures);
    return check_failures ? 1 : 0;
}
