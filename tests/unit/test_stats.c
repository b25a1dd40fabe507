/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/stats: histogram bucket layout, quantile error bounds and merging; the report's derived
 * figures, stragglers and every verdict branch on crafted ranks (failures first, idle and
 * too-short ranks never blamed); wall time from per-rank times only; rates too short to
 * measure shown as "n/a"/"-"/null; listed, done and failed objects; whole failed keys; the
 * table and the JSON (parsed back with json-c); the CPU and RSS probes.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "s3dlio/stats.h"

#define US       1000ull
#define MS       1000000ull
#define SEC      1000000000ull
#define GIB      1073741824.0
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Deterministic generator (xorshift64*), seeded per test: no clock, same values every run. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Log-uniform in [1 us, 1 h): every decade as likely as the next. */
static uint64_t rng_duration(uint64_t *s)
{
    double u = (double)(rng_next(s) >> 11) / 9007199254740992.0;
    return (uint64_t)(1e3 * pow(3.6e9, u));
}

static bool near(double got, double want, double rel)
{
    return fabs(got - want) <= rel * fabs(want) + 1e-9;
}

/* ---- histogram layout ------------------------------------------------------------------ */

static const struct hist_case {
    const char *name;
    uint64_t ns;
    size_t bucket;
    uint64_t upper; /* largest value of that bucket */
} hist_cases[] = {
    { "0 ns counts in bucket 0", 0, 0, 1062 },
    { "999 ns counts in bucket 0", 999, 0, 1062 },
    { "1 us opens decade 0", 1 * US, 0, 1062 },
    { "1062 ns top of bucket 0", 1062, 0, 1062 },
    { "1063 ns starts bucket 1", 1063, 1, 1124 },
    { "2 us opens decade 1", 2 * US, 16, 2124 },
    { "17 us: decade 4, sub 1", 17 * US, 65, 17999 },
    { "1 s: decade 19, sub 14", 1 * SEC, 318, 1015807999 },
    { "1 hour: decade 31, sub 10", 3600 * SEC, 506, 3623878655999ull },
    { "top of the last bucket", 4294967295999ull, 511, 4294967295999ull },
    { "past the range: last bucket", 4294967296000ull, 511, 4294967295999ull },
    { "UINT64_MAX: last bucket", UINT64_MAX, 511, 4294967295999ull },
};

static void test_hist_buckets(void)
{
    for (size_t i = 0; i < NELEM(hist_cases); i++) {
        const struct hist_case *c = &hist_cases[i];
        size_t b = s3dlio_hist_bucket(c->ns);
        CHECK_INT(b, c->bucket, c->name);
        CHECK_INT(s3dlio_hist_bucket_upper(b), c->upper, c->name);
    }
    /* every bucket's top belongs to it and the next value to the next bucket: no gaps */
    size_t bad = 0;
    for (size_t b = 0; b + 1 < S3DLIO_HIST_BUCKETS; b++) {
        uint64_t top = s3dlio_hist_bucket_upper(b);
        if (s3dlio_hist_bucket(top) != b || s3dlio_hist_bucket(top + 1) != b + 1)
            bad++;
    }
    CHECK_INT(bad, 0, "bucket tops are contiguous");
}

static void test_hist_relative_error(void)
{
    uint64_t seed = 0x5eed5eedull;
    size_t over = 0;
    double worst = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t v = rng_duration(&seed);
        uint64_t top = s3dlio_hist_bucket_upper(s3dlio_hist_bucket(v));
        double err = ((double)top - (double)v) / (double)v;
        if (top < v || err >= 0.0625)
            over++;
        if (err > worst)
            worst = err;
    }
    CHECK_INT(over, 0, "bucket top within 6.25% above the value");
    CHECK(worst > 0.05, "the bound is tight (some value is near it)");
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Quantiles of random values against the exact ceil(q*n)-th smallest value. */
static void test_hist_random_quantiles(void)
{
    enum {
        N = 50000
    };
    static const double qs[] = { 0.0, 0.5, 0.9, 0.99, 0.999, 1.0 };
    uint64_t *v = malloc(N * sizeof(*v)), seed = 42;
    struct s3dlio_hist h = { 0 };
    for (int i = 0; i < N; i++) {
        v[i] = rng_duration(&seed);
        s3dlio_hist_add(&h, v[i]);
    }
    qsort(v, N, sizeof(*v), cmp_u64);
    for (size_t i = 0; i < NELEM(qs); i++) {
        size_t k = (size_t)ceil(qs[i] * N);
        uint64_t exact = v[k ? k - 1 : 0], got = s3dlio_hist_quantile(&h, qs[i]);
        char name[64];
        snprintf(name, sizeof(name), "random q=%g", qs[i]);
        CHECK(got >= exact && (double)(got - exact) < 0.0625 * (double)exact, name);
    }
    CHECK_INT(s3dlio_hist_quantile(&h, 1.0), v[N - 1], "q=1 is the max");
    free(v);
}

/* Known distributions, each given as (count of values, value) pairs. */
static const struct dist_case {
    const char *name;
    int kind; /* 0: uniform 1..1000 ms, 1: constant 5 ms, 2: 900 x 1 ms + 100 x 100 ms */
    double q;
    double want_ms;
    double rel; /* tolerance; 0 means exact */
} dist_cases[] = {
    { "uniform p50", 0, 0.50, 500, 0.0625 },
    { "uniform p90", 0, 0.90, 900, 0.0625 },
    { "uniform p99", 0, 0.99, 990, 0.0625 },
    { "uniform p99.9", 0, 0.999, 999, 0.0625 },
    { "uniform max", 0, 1.0, 1000, 0 },
    { "uniform q=0 is the smallest", 0, 0.0, 1, 0.0625 },
    { "constant p50 capped by max", 1, 0.50, 5, 0 },
    { "constant p99.9 capped by max", 1, 0.999, 5, 0 },
    { "bimodal p50", 2, 0.50, 1, 0.0625 },
    { "bimodal p90 still fast", 2, 0.90, 1, 0.0625 },
    { "bimodal p91 slow", 2, 0.91, 100, 0.0625 },
    { "bimodal p90.05: ceil(900.5) = 901st value", 2, 0.9005, 100, 0 },
    { "bimodal p99", 2, 0.99, 100, 0 },
};

static void fill_dist(struct s3dlio_hist *h, int kind)
{
    memset(h, 0, sizeof(*h));
    for (uint64_t i = 1; i <= 1000; i++) {
        if (kind == 0)
            s3dlio_hist_add(h, i * MS);
        else if (kind == 1)
            s3dlio_hist_add(h, 5 * MS);
        else
            s3dlio_hist_add(h, i <= 900 ? 1 * MS : 100 * MS);
    }
}

static void test_hist_distributions(void)
{
    struct s3dlio_hist h;
    for (size_t i = 0; i < NELEM(dist_cases); i++) {
        const struct dist_case *c = &dist_cases[i];
        fill_dist(&h, c->kind);
        double got = (double)s3dlio_hist_quantile(&h, c->q) / MS;
        if (!(c->rel ? near(got, c->want_ms, c->rel) : got == c->want_ms))
            fprintf(stderr, "  [%s] got %.3f ms, want %.3f ms\n", c->name, got, c->want_ms);
        CHECK(c->rel ? near(got, c->want_ms, c->rel) : got == c->want_ms, c->name);
    }
    fill_dist(&h, 0);
    CHECK_INT(h.n, 1000, "uniform count");
    CHECK_INT(h.sum_ns, 500500 * MS, "uniform sum");
    memset(&h, 0, sizeof(h));
    CHECK_INT(s3dlio_hist_quantile(&h, 0.5), 0, "empty histogram");
}

static void test_hist_merge(void)
{
    struct s3dlio_hist all = { 0 }, part[3] = { 0 }, merged = { 0 };
    uint64_t seed = 7;
    for (int i = 0; i < 30000; i++) {
        uint64_t v = rng_duration(&seed);
        if (i % 1000 == 0)
            v = UINT64_MAX / 4; /* overflow bucket and max */
        s3dlio_hist_add(&all, v);
        s3dlio_hist_add(&part[i % 3], v);
    }
    for (int k = 0; k < 3; k++)
        s3dlio_hist_merge(&merged, &part[k]);
    CHECK(memcmp(&merged, &all, sizeof(all)) == 0, "merge equals adding all to one");
    CHECK_INT(merged.max_ns, UINT64_MAX / 4, "merge keeps the max");
    CHECK_INT(s3dlio_hist_quantile(&merged, 1.0), UINT64_MAX / 4, "last bucket reports max");
}

/* ---- report_build ---------------------------------------------------------------------- */

/* the case the figure, table and JSON tests reuse: 3 ranks x 10 s and rank 3 at 20 s */
#define IMBALANCED "imbalance: one slow rank"

/*
 * `count` ranks alike; a case lists up to four such groups, in rank order. Initialised in
 * field order: { count, wall_s, gib, cpu_s, lat_ms, throttled, server_errors, capped, idle }.
 * An idle rank made no request (more ranks than objects).
 */
struct rank_group {
    int count;
    double wall_s, gib, cpu_s, lat_ms;
    uint64_t throttled, server_errors;
    bool capped, idle;
};

static const struct report_case {
    const char *name;
    struct rank_group groups[4]; /* until count 0 */
    const char *verdict;         /* exact verdict, or NULL */
    const char *prefix;          /* verdict start, or NULL */
    const char *has;             /* verdict substring, or NULL */
    double imbalance[2];         /* time, bytes */
    int stragglers[8];           /* -1 terminated */
} report_cases[] = {
    {
        .name = "bandwidth-bound: L near configured",
        .groups = { { 4, 10, 1, 2, 75, 0, 0, false, false } },
        .verdict = "bandwidth-bound: Little's law gives L = lambda*W = 30.0 in flight, near the 32 "
                   "configured (400.0 req/s x 75.00 ms); the server or network is the limit at "
                   "429.5 MB/s",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = "server-side copies: L near configured, no payload through the client",
        .groups = { { 4, 10, 0, 2, 75, 0, 0, false, false } },
        .verdict = "server-bound: Little's law gives L = lambda*W = 30.0 in flight, near the 32 "
                   "configured (400.0 req/s x 75.00 ms); no payload passed through this client, "
                   "so the server's request rate is the limit",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = "concurrency-bound: L well below configured",
        .groups = { { 4, 10, 1, 2, 10, 0, 0, false, false } },
        .verdict = "concurrency-bound: Little's law gives L = lambda*W = 4.0 in flight of 32 "
                   "configured (400.0 req/s x 10.00 ms); more requests in flight or lower "
                   "latency would raise throughput",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = IMBALANCED,
        .groups = { { 3, 10, 1, 2, 75, 0, 0, false, false }, { 1, 20, 1, 2, 75, 0, 0, false, false } },
        .verdict = "imbalance: slowest rank 3 (node3) took 20.00 s vs median 10.00 s; bytes "
                   "max/mean 1.00",
        .imbalance = { 2.0, 1.0 },
        .stragglers = { 3, -1 },
    },
    {
        .name = "imbalance 1.25 exactly is not imbalance",
        .groups = { { 3, 10, 1, 2, 75, 0, 0, false, false }, { 1, 12.5, 1, 2, 75, 0, 0, false, false } },
        .prefix = "bandwidth-bound",
        .imbalance = { 1.25, 1.0 },
        .stragglers = { 3, -1 },
    },
    {
        .name = "server throttling above 1%",
        .groups = { { 4, 10, 1, 2, 75, 10, 3, false, false } },
        .verdict = "server throttling: 40 503/429 and 12 5xx answers out of 4000 requests (1.3%, "
                   "0 retries)",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = "1% exactly is not throttling",
        .groups = { { 4, 10, 1, 2, 75, 7, 3, false, false } },
        .prefix = "bandwidth-bound",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = "rank CPU saturated",
        .groups = { { 1, 10, 1, 2, 75, 0, 0, false, false },
                    { 1, 10, 1, 9, 75, 0, 0, false, false },
                    { 2, 10, 1, 2, 75, 0, 0, false, false } },
        .prefix = "rank CPU saturated: rank 1 used 90% of a core",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = "memory cap first, imbalance also",
        .groups = { { 2, 10, 1, 2, 75, 0, 0, false, false },
                    { 1, 0.5, 0, 0, 75, 0, 0, true, false },
                    { 1, 20, 1, 2, 75, 0, 0, false, false } },
        .prefix = "memory cap: rank 2's shard does not fit --max-memory",
        .has = "; also imbalance: slowest rank 3 (node3) took 20.00 s",
        .imbalance = { 2.0, 4.0 / 3 },
        .stragglers = { 3, -1 },
    },
    {
        .name = "throttling first, CPU also",
        .groups = { { 3, 10, 1, 2, 75, 20, 0, false, false }, { 1, 10, 1, 9.5, 75, 20, 0, false, false } },
        .prefix = "server throttling: 80 503/429",
        .has = "; also rank CPU saturated: rank 3 used 95%",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = "idle rank ignored for balance",
        .groups = { { 3, 10, 1, 2, 75, 0, 0, false, false }, { 1, 0.1, 0, 0, 75, 0, 0, false, false } },
        .prefix = "bandwidth-bound",
        .imbalance = { 1.0, 4.0 / 3 },
        .stragglers = { -1 },
    },
    {
        .name = "straggler needs 20% and 0.5 s",
        .groups = { { 6, 1, 1, 0.1, 75, 0, 0, false, false },
                    { 1, 1.45, 1, 0.1, 75, 0, 0, false, false },
                    { 1, 1.55, 1, 0.1, 75, 0, 0, false, false } },
        .prefix = "imbalance: slowest rank 7 (node7) took 1.55 s vs median 1.00 s",
        .imbalance = { 1.55, 1.0 },
        .stragglers = { 7, -1 },
    },
    {
        .name = "straggler under 20% is not one",
        .groups = { { 7, 10, 1, 2, 75, 0, 0, false, false }, { 1, 11.9, 1, 2, 75, 0, 0, false, false } },
        .prefix = "bandwidth-bound",
        .imbalance = { 1.19, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = "at most 7 stragglers, slowest first",
        .groups = { { 10, 1, 1, 0.1, 75, 0, 0, false, false },
                    { 5, 3, 1, 0.1, 75, 0, 0, false, false },
                    { 5, 5, 1, 0.1, 75, 0, 0, false, false } },
        .prefix = "imbalance: slowest rank 15 (node15) took 5.00 s vs median 2.00 s",
        .imbalance = { 5.0, 1.0 },
        .stragglers = { 15, 16, 17, 18, 19, 10, 11, -1 },
    },
    {
        .name = "idle ranks make no stragglers",
        .groups = { { 2, 10, 1, 2, 75, 0, 0, false, false }, { 3, 0.1, 0, 0, 75, 0, 0, false, false } },
        .prefix = "bandwidth-bound",
        .imbalance = { 1.0, 2.5 },
        .stragglers = { -1 },
    },
    {
        .name = "no bytes anywhere: median over all ranks",
        .groups = { { 3, 1, 0, 0.1, 75, 0, 0, false, false }, { 1, 5, 0, 0.1, 75, 0, 0, false, false } },
        .prefix = "server-bound",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { 3, -1 },
    },
    {
        /* 2.8 ms of CPU in 0.2 ms of wall: 1400% of a core, from rusage rounding alone */
        .name = "idle ranks are not blamed for CPU",
        .groups = { { 1, 10, 1, 2, 75, 0, 0, false, false },
                    { 3, 2e-4, 0, 0.0028, 0, 0, 0, false, true } },
        .prefix = "bandwidth-bound: Little's law gives L = lambda*W = 7.5 in flight, near the 8 "
                  "configured",
        .imbalance = { 1.0, 4.0 },
        .stragglers = { -1 },
    },
    {
        .name = "a rank under 0.1 s has no CPU share",
        .groups = { { 3, 10, 1, 2, 75, 0, 0, false, false },
                    { 1, 0.05, 1.0 / 1024, 0.2, 75, 0, 0, false, false } },
        .prefix = "bandwidth-bound",
        .imbalance = { 200.0, 4096.0 / 3073 },
        .stragglers = { -1 },
    },
    {
        .name = "an idle rank that waited is no straggler and not the slowest",
        .groups = { { 3, 1, 1, 0.1, 75, 0, 0, false, false }, { 1, 3, 0, 0, 0, 0, 0, false, true } },
        .prefix = "bandwidth-bound",
        .imbalance = { 1.0, 4.0 / 3 },
        .stragglers = { -1 },
    },
    {
        .name = "no ranks",
        .verdict = "idle: 0 requests completed in 0.00 s, nothing to judge",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
};

/* Ranks of a case: 1000 requests each at lat_ms (none when idle), 8 in flight configured. */
static int make_ranks(const struct report_case *c, struct s3dlio_rank_stats *ranks, int max)
{
    int n = 0;
    for (size_t g = 0; g < NELEM(c->groups) && c->groups[g].count; g++) {
        const struct rank_group *rg = &c->groups[g];
        for (int k = 0; k < rg->count && n < max; k++, n++) {
            struct s3dlio_rank_stats *rs = &ranks[n];
            memset(rs, 0, sizeof(*rs));
            rs->rank = n;
            snprintf(rs->host, sizeof(rs->host), "node%d", n);
            rs->bytes = (uint64_t)(rg->gib * GIB);
            rs->objects = rs->bytes ? 100 : 0;
            rs->requests = rg->idle ? 0 : 1000;
            rs->throttled = rg->throttled;
            rs->server_errors = rg->server_errors;
            rs->wall_s = rg->wall_s;
            rs->cpu_user_s = rg->cpu_s * 0.8;
            rs->cpu_sys_s = rg->cpu_s * 0.2;
            rs->concurrency = 8;
            rs->memory_capped = rg->capped;
            rs->peak_rss_kib = 1024 * 1024;
            for (uint64_t i = 0; i < rs->requests; i++) {
                s3dlio_hist_add(&rs->ttfb, (uint64_t)(rg->lat_ms * MS / 3));
                s3dlio_hist_add(&rs->total, (uint64_t)(rg->lat_ms * MS));
            }
        }
    }
    return n;
}

/* A case of the table by name, for the tests that reuse its ranks. */
static const struct report_case *find_case(const char *name)
{
    for (size_t i = 0; i < NELEM(report_cases); i++)
        if (!strcmp(report_cases[i].name, name))
            return &report_cases[i];
    fprintf(stderr, "test_stats: no report case '%s'\n", name);
    exit(1);
}

static void check_report_case(const struct report_case *c, const struct s3dlio_report *r)
{
    if (c->verdict)
        CHECK_STR(r->verdict, c->verdict, c->name);
    if (c->prefix && strncmp(r->verdict, c->prefix, strlen(c->prefix)))
        CHECK_STR(r->verdict, c->prefix, c->name);
    if (c->has && !strstr(r->verdict, c->has))
        CHECK_STR(r->verdict, c->has, c->name);
    CHECK(near(r->imbalance_time, c->imbalance[0], 1e-6), c->name);
    CHECK(near(r->imbalance_bytes, c->imbalance[1], 1e-6), c->name);
    for (int k = 0; k < 8; k++) {
        CHECK_INT(r->stragglers[k], c->stragglers[k], c->name);
        if (c->stragglers[k] < 0)
            break;
    }
}

static void test_report_cases(void)
{
    static struct s3dlio_rank_stats ranks[32];
    for (size_t i = 0; i < NELEM(report_cases); i++) {
        const struct report_case *c = &report_cases[i];
        struct s3dlio_report r = { 0 };
        r.nranks = make_ranks(c, ranks, (int)NELEM(ranks));
        r.ranks = ranks;
        s3dlio_report_build(&r);
        check_report_case(c, &r);
    }
}

/* The figures around the verdict, on the imbalance case (3 x 10 s + 1 x 20 s, 1 GiB each). */
static void test_report_figures(void)
{
    static struct s3dlio_rank_stats ranks[4];
    struct s3dlio_report r = { 0 };
    r.nranks = make_ranks(find_case(IMBALANCED), ranks, 4);
    r.ranks = ranks;
    ranks[1].retries = 5;
    s3dlio_report_build(&r);
    CHECK(near(r.wall_s, 20.0, 1e-9), "wall: the slowest rank's own time");
    CHECK_INT(r.bytes, 4 * (uint64_t)GIB, "bytes summed");
    CHECK_INT(r.objects, 400, "objects summed");
    CHECK_INT(r.requests, 4000, "requests summed");
    CHECK_INT(r.retries, 5, "retries summed");
    CHECK(near(r.throughput_MBps, 4 * GIB / 20 / 1e6, 1e-9), "aggregate MB/s");
    CHECK(near(r.rank_MBps_min, GIB / 20 / 1e6, 1e-9), "rank MB/s min");
    CHECK(near(r.rank_MBps_median, GIB / 10 / 1e6, 1e-9), "rank MB/s median");
    CHECK(near(r.rank_MBps_max, GIB / 10 / 1e6, 1e-9), "rank MB/s max");
    CHECK(near(r.cpu_s, 8.0, 1e-9), "cpu summed");
    CHECK(near(r.cpu_s_per_GiB, 2.0, 1e-9), "cpu per GiB");
    CHECK_INT(r.total.n, 4000, "latency merged");
    CHECK_INT(s3dlio_hist_quantile(&r.total, 0.5), 75 * MS, "merged p50 capped by max");
    s3dlio_report_build(&r); /* a second build gives the same, not double counts */
    CHECK_INT(r.bytes, 4 * (uint64_t)GIB, "build is idempotent");
    CHECK_INT(r.total.n, 4000, "build is idempotent for histograms");
}

/*
 * Wall time comes from each rank's own elapsed time only: ranks on different nodes have
 * unrelated clocks (here, as if rank 1's node booted a week before the others), so the
 * job's wall is the slowest rank's time, whatever each rank's clock read.
 */
static void test_report_wall(void)
{
    static const double walls[] = { 3.0, 7.0, 5.0 };
    struct s3dlio_rank_stats ranks[3];
    struct s3dlio_report r = { 0 };
    memset(ranks, 0, sizeof(ranks));
    for (int i = 0; i < 3; i++) {
        ranks[i].rank = i;
        ranks[i].bytes = (uint64_t)GIB;
        ranks[i].requests = 100;
        ranks[i].wall_s = walls[i];
    }
    r.nranks = 3;
    r.ranks = ranks;
    s3dlio_report_build(&r);
    CHECK(near(r.wall_s, 7.0, 1e-12), "wall is the slowest rank's own time");
    CHECK(near(r.throughput_MBps, 3 * GIB / 7.0 / 1e6, 1e-12), "throughput = bytes / that wall");
}

/* ---- printers -------------------------------------------------------------------------- */

#define NFAILED_MAX 25
static struct s3dlio_failed_key *failed_keys;

/* n failed keys (heap, as coord gathers them), replacing the previous ones. */
static struct s3dlio_failed_key *make_failed(size_t n)
{
    char text[128];
    s3dlio_failed_keys_free(failed_keys, NFAILED_MAX);
    failed_keys = calloc(NFAILED_MAX, sizeof(*failed_keys));
    for (size_t i = 0; i < n && i < NFAILED_MAX; i++) {
        snprintf(text, sizeof(text), "train/%04zu.npz", i);
        failed_keys[i].key = strdup(text);
        snprintf(text, sizeof(text), "get 's3://bucket/train/%04zu.npz': NoSuchKey (HTTP 404)", i);
        failed_keys[i].error = strdup(text);
        failed_keys[i].rank = (int)(i % 4);
    }
    return failed_keys;
}

/* A report on the case's ranks, with identity, listing time and n failed keys. */
static void sample_report(struct s3dlio_report *r, struct s3dlio_rank_stats *ranks, int max,
                          const struct report_case *c, size_t nfailed)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->run_id, sizeof(r->run_id), "test-run");
    snprintf(r->command, sizeof(r->command), "stage");
    snprintf(r->source, sizeof(r->source), "s3://bucket/train/\"quoted\"/");
    snprintf(r->destination, sizeof(r->destination), "mem");
    snprintf(r->partition, sizeof(r->partition), "size");
    r->list_s = 0.25;
    r->nranks = make_ranks(c, ranks, max);
    r->ranks = ranks;
    r->failed = make_failed(nfailed);
    r->nfailed = nfailed;
    for (int i = 0; i < r->nranks; i++)
        r->listed += ranks[i].objects;
    s3dlio_report_build(r);
}

/* The printed table as a heap string (caller frees). */
static char *table_text(const struct s3dlio_report *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    s3dlio_report_print_table(r, f);
    fclose(f);
    return text;
}

static const char *last_line(const char *text)
{
    size_t n = strlen(text);
    if (n && text[n - 1] == '\n')
        n--;
    while (n && text[n - 1] != '\n')
        n--;
    return text + n;
}

static void test_table(void)
{
    static struct s3dlio_rank_stats ranks[32];
    struct s3dlio_report r;
    sample_report(&r, ranks, 32, find_case(IMBALANCED), 25);
    char *t = table_text(&r);
    CHECK(strstr(t, "s3dlio-mpi stage report, run test-run\n") == t, "table title");
    CHECK(strstr(t, "  ranks         4, partition size\n") != NULL, "ranks row");
    CHECK(strstr(t, "  wall          20.000 s\n") != NULL, "wall row");
    CHECK(strstr(t, "failed keys   25 (first 20;") != NULL, "failed keys counted");
    CHECK(strstr(t, "rank 3 'train/0019.npz': get") != NULL, "20th failed key listed");
    CHECK(strstr(t, "train/0020.npz") == NULL, "21st failed key not listed");
    CHECK(strstr(t, "stragglers    rank 3 (node3) 20.00 s vs median 10.00 s\n") != NULL,
          "straggler named by rank and host");
    CHECK(strstr(t, "  rank host") != NULL, "per-rank table for 4 ranks");
    CHECK(strstr(t, "\n    ttfb ") != NULL, "ttfb latency row");
    CHECK(strncmp(last_line(t), "  verdict       imbalance: slowest rank 3", 41) == 0,
          "verdict is the last line");
    free(t);

    sample_report(&r, ranks, 32, find_case("at most 7 stragglers, slowest first"), 0);
    t = table_text(&r);
    CHECK(strstr(t, "  rank host") == NULL, "no per-rank table for 20 ranks");
    CHECK(strstr(t, "failed keys") == NULL, "no failed keys row without failures");
    CHECK(strstr(t, "rank 11 (node11)") != NULL, "seventh straggler listed");
    free(t);
}

/* Nulls in the JSON: a rate not measured, a NaN, or an allocation that failed. */
static int count_nulls(struct json_object *o)
{
    int n = 0;
    if (!o)
        return 1;
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v)
        {
            (void)k;
            n += count_nulls(v);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            n += count_nulls(json_object_array_get_idx(o, i));
    }
    return n;
}

/* The value at a dotted path ("a.b.c"), or NULL. */
static struct json_object *jget(struct json_object *o, const char *path)
{
    char buf[128], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = strtok_r(buf, ".", &save); p && o; p = strtok_r(NULL, ".", &save))
        if (!json_object_object_get_ex(o, p, &o))
            return NULL;
    return o;
}

/* Whether the member `key` of the object at `path` ("" the top) is there and null. */
static bool is_null_at(struct json_object *o, const char *path, const char *key)
{
    struct json_object *parent = path[0] ? jget(o, path) : o, *v = NULL;
    return parent && json_object_object_get_ex(parent, key, &v) && v == NULL;
}

/* The report's JSON parsed back (caller puts it), or NULL after a failed check. */
static struct json_object *json_of(const struct s3dlio_report *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK_INT(s3dlio_report_write_json(r, f), S3DLIO_OK, "json written");
    fclose(f);
    /* strict and UTF-8 checked, as Python's or a browser's parser would read it */
    struct json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    CHECK(o != NULL, "json parses (strict, UTF-8)");
    json_tokener_free(tok);
    free(text);
    return o;
}

static void test_json(void)
{
    static struct s3dlio_rank_stats ranks[4];
    struct s3dlio_report r;
    sample_report(&r, ranks, 4, find_case(IMBALANCED), 2);
    struct json_object *o = json_of(&r);
    if (!o)
        return;
    CHECK_STR(json_object_get_string(jget(o, "schema")), "s3dlio-mpi/report", "json schema");
    CHECK_INT(json_object_get_int(jget(o, "version")), 1, "json version");
    CHECK_STR(json_object_get_string(jget(o, "source")), "s3://bucket/train/\"quoted\"/",
              "json string escaped and parsed back");
    CHECK_INT(json_object_get_int(jget(o, "ranks")), 4, "json ranks");
    CHECK_INT(json_object_get_uint64(jget(o, "totals.bytes")), 4 * (uint64_t)GIB, "json bytes");
    CHECK(near(json_object_get_double(jget(o, "throughput.aggregate_MBps")), r.throughput_MBps,
               1e-5), /* 3 decimals in the file */
          "json aggregate MB/s");
    CHECK(near(json_object_get_double(jget(o, "latency_ms.total.p50")), 75, 1e-9), "json p50");
    CHECK_INT(json_object_get_int(jget(o, "latency_ms.ttfb.count")), 4000, "json ttfb count");
    CHECK(near(json_object_get_double(jget(o, "imbalance.time")), 2.0, 1e-9), "json imbalance");
    CHECK(near(json_object_get_double(jget(o, "wall_s")), 20.0, 1e-9), "json wall");
    CHECK_INT(json_object_array_length(jget(o, "per_rank")), 4, "json per_rank");
    struct json_object *f1 = json_object_array_get_idx(jget(o, "failed"), 1);
    CHECK_STR(json_object_get_string(jget(f1, "key")), "train/0001.npz", "json failed key");
    CHECK_INT(json_object_get_int(jget(f1, "rank")), 1, "json failed rank");
    struct json_object *st = jget(o, "stragglers");
    CHECK(st && json_object_array_length(st) == 1 &&
              json_object_get_int(json_object_array_get_idx(st, 0)) == 3,
          "json stragglers");
    CHECK_STR(json_object_get_string(jget(o, "verdict")), r.verdict, "json verdict");
    CHECK_INT(json_object_get_uint64(jget(o, "totals.listed")), 400, "json totals.listed");
    CHECK_INT(count_nulls(o), 0, "json has no null when every rate was measured");
    json_object_put(o);

    FILE *ro = fopen("/dev/null", "r"); /* a stream that refuses writes */
    if (ro) {
        CHECK_INT(s3dlio_report_write_json(&r, ro), S3DLIO_E_IO, "json write error is S3DLIO_E_IO");
        fclose(ro);
    }
}

/* ---- rates that were not measured ------------------------------------------------------- */

/* Two ranks as a run of one 4 MB object leaves them: rank 0 worked 9 ms, rank 1 had nothing. */
static void tiny_run(struct s3dlio_report *r, struct s3dlio_rank_stats *ranks)
{
    memset(r, 0, sizeof(*r));
    memset(ranks, 0, 2 * sizeof(*ranks));
    ranks[0] = (struct s3dlio_rank_stats){ .rank = 0,
                                           .objects = 1,
                                           .bytes = 4000000,
                                           .requests = 1,
                                           .wall_s = 0.009,
                                           .cpu_user_s = 0.002,
                                           .concurrency = 8 };
    s3dlio_hist_add(&ranks[0].total, 9 * MS);
    /* 2.8 ms of CPU in 0.2 ms: "1400% of a core", rusage rounding and nothing else */
    ranks[1] = (struct s3dlio_rank_stats){
        .rank = 1, .wall_s = 2e-4, .cpu_sys_s = 0.0028, .concurrency = 8
    };
    r->nranks = 2;
    r->ranks = ranks;
    r->listed = 1;
    s3dlio_report_build(r);
}

static void test_rates_unmeasured(void)
{
    struct s3dlio_rank_stats ranks[2];
    struct s3dlio_report r;
    tiny_run(&r, ranks);
    CHECK(isnan(r.throughput_MBps), "aggregate MB/s over 9 ms: not measured");
    CHECK(isnan(r.cpu_s_per_GiB), "CPU s/GiB over 9 ms: not measured");
    CHECK(isnan(r.rank_MBps_median), "no rank ran 0.1 s: no rank spread");
    CHECK_STR(r.verdict,
              "too short to judge: 1 requests completed in 0.009 s (rates need 0.1 s or "
              "more)",
              "tiny run: the verdict says it is too short");
    char *t = table_text(&r);
    CHECK(strstr(t, "  throughput    n/a (run under 0.1 s)\n") != NULL, "table: throughput n/a");
    CHECK(strstr(t, "  rank MB/s     n/a (no rank ran 0.1 s)\n") != NULL, "table: rank MB/s n/a");
    CHECK(strstr(t, "s/GiB n/a (run under 0.1 s)\n") != NULL, "table: CPU s/GiB n/a");
    CHECK(strstr(t, "1400") == NULL, "table: no 1400% CPU");
    const char *row1 = strstr(t, "\n      1 "), *end1 = row1 ? strchr(row1 + 1, '\n') : NULL;
    const char *dashes = row1 ? strstr(row1, "         -      -        0\n") : NULL;
    CHECK(dashes && dashes < end1, "table: rank 1's MB/s and CPU% are '-'");
    free(t);
    struct json_object *o = json_of(&r);
    if (o) {
        CHECK(is_null_at(o, "throughput", "aggregate_MBps"), "json: aggregate_MBps null");
        CHECK(is_null_at(o, "throughput.rank_MBps", "median"), "json: rank_MBps.median null");
        CHECK(is_null_at(o, "cpu", "cpu_s_per_GiB"), "json: cpu_s_per_GiB null");
        struct json_object *r1 = json_object_array_get_idx(jget(o, "per_rank"), 1);
        CHECK(is_null_at(r1, "", "cpu_pct"), "json: idle rank's cpu_pct null");
        CHECK(is_null_at(r1, "", "MBps"), "json: idle rank's MBps null");
        CHECK(!is_null_at(o, "", "wall_s") && !is_null_at(o, "cpu", "cpu_s"),
              "json: times themselves are numbers");
        json_object_put(o);
    }

    /* long enough, but a few KB: the time is measured, CPU per GiB of 1000 bytes is not */
    ranks[0].wall_s = 10;
    ranks[0].bytes = 1000;
    ranks[0].cpu_user_s = 4;
    s3dlio_report_build(&r);
    CHECK(!isnan(r.throughput_MBps), "10 s run: throughput measured");
    CHECK(isnan(r.cpu_s_per_GiB), "1000 bytes: CPU s/GiB not measured");
    t = table_text(&r);
    CHECK(strstr(t, "s/GiB n/a (under 1 MiB moved)\n") != NULL, "table: CPU s/GiB n/a by bytes");
    free(t);
}

/* ---- objects listed, done, failed; failures first in the verdict --------------------------- */

static void test_objects_listed(void)
{
    static struct s3dlio_rank_stats ranks[4];
    struct s3dlio_report r;
    sample_report(&r, ranks, 4, find_case("bandwidth-bound: L near configured"), 1);
    r.listed = 420;
    ranks[1].failures = 7;
    s3dlio_report_build(&r);
    char *t = table_text(&r);
    CHECK(strstr(t, "  objects       420 listed, 400 done, 7 failed, 13 not done\n") != NULL,
          "table: listed, done, failed, not done");
    free(t);
    r.listed = 407;
    t = table_text(&r);
    CHECK(strstr(t, "  objects       407 listed, 400 done, 7 failed\n") != NULL,
          "table: no 'not done' when all settled");
    free(t);
    struct json_object *o = json_of(&r);
    if (o) {
        CHECK_INT(json_object_get_uint64(jget(o, "totals.listed")), 407, "json: totals.listed");
        CHECK_INT(json_object_get_uint64(jget(o, "totals.objects")), 400, "json: totals.objects");
        CHECK_INT(json_object_get_uint64(jget(o, "totals.failures")), 7, "json: totals.failures");
        json_object_put(o);
    }
}

/* Bytes that follow a UTF-8 lead byte; -1 when it cannot lead. */
static int utf8_continuations(unsigned char lead)
{
    if (lead < 0x80)
        return 0;
    if ((lead & 0xE0) == 0xC0)
        return 1;
    if ((lead & 0xF0) == 0xE0)
        return 2;
    if ((lead & 0xF8) == 0xF0)
        return 3;
    return -1;
}

/* Whether s is well-formed UTF-8 (a shortened text must not split a character). */
static bool utf8_ok(const unsigned char *s)
{
    while (*s) {
        int more = utf8_continuations(*s);
        if (more < 0)
            return false;
        for (s++; more > 0; more--, s++)
            if ((*s & 0xC0) != 0x80)
                return false;
    }
    return true;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_verdict_failures(void)
{
    static struct s3dlio_rank_stats ranks[4];
    struct s3dlio_report r;
    /* a total outage: 78 of 78 failed; the rest of the figures read "concurrency-bound" */
    sample_report(&r, ranks, 4, find_case("concurrency-bound: L well below configured"), 1);
    for (int i = 0; i < 4; i++) {
        ranks[i].objects = 0;
        ranks[i].bytes = 0;
        ranks[i].failures = i < 2 ? 20 : 19;
    }
    r.listed = 78;
    free(failed_keys[0].error);
    failed_keys[0].error = strdup("get 's3://bucket/train/0000.npz': ServiceUnavailable (HTTP 503)"
                                  ": Service Unavailable");
    s3dlio_report_build(&r);
    CHECK_STR(r.verdict,
              "failures: 78 of 78 objects failed (first: get "
              "'s3://bucket/train/0000.npz': ServiceUnavailable (HTTP 503): Service "
              "Unavailable)",
              "outage: failures first, not concurrency-bound");

    /* some failed while throttled: failures lead, throttling follows */
    sample_report(&r, ranks, 4, find_case("server throttling above 1%"), 1);
    ranks[2].failures = 3;
    r.listed = 403;
    s3dlio_report_build(&r);
    CHECK(starts_with(r.verdict, "failures: 3 of 403 objects failed (first: get 's3://bucket/"),
          "failures before throttling");
    CHECK(strstr(r.verdict, "; also server throttling: 40 503/429") != NULL,
          "throttling named after the failures");

    /* a first error longer than the verdict: shortened in the middle, whole characters */
    char *long_error = malloc(1400);
    int n = snprintf(long_error, 1400, "get 's3://bucket/");
    for (int i = 0; i < 600; i++)
        n += snprintf(long_error + n, (size_t)(1400 - n), "\xc3\xa9"); /* é */
    snprintf(long_error + n, (size_t)(1400 - n), "': AccessDenied (HTTP 403): Access Denied");
    free(failed_keys[0].error);
    failed_keys[0].error = long_error;
    s3dlio_report_build(&r);
    CHECK(strlen(r.verdict) < sizeof(r.verdict) - 1, "long error: the verdict is not cut");
    CHECK(strstr(r.verdict, "(first: get 's3://bucket/\xc3\xa9") != NULL, "long error: head kept");
    CHECK(strstr(r.verdict, "...") != NULL, "long error: shortened in the middle");
    CHECK(strstr(r.verdict, "AccessDenied (HTTP 403): Access Denied); also server throttling") !=
              NULL,
          "long error: its tail and the next cause kept");
    CHECK(utf8_ok((const unsigned char *)r.verdict), "long error: no character split");
}

/* ---- failed keys whole -------------------------------------------------------------------- */

static void test_failed_whole(void)
{
    static struct s3dlio_rank_stats ranks[4];
    struct s3dlio_report r;
    sample_report(&r, ranks, 4, find_case(IMBALANCED), 1);
    char *key = malloc(1025), *error = malloc(2000);
    memset(key, 'k', 1024); /* S3's longest key */
    key[1024] = '\0';
    snprintf(error, 2000, "get 's3://bucket/%s': AccessDenied (HTTP 403, request id %s): %s", key,
             "tx000000000000000000001-0000000001-1001-default", "Access Denied");
    free(failed_keys[0].key);
    free(failed_keys[0].error);
    failed_keys[0].key = key;
    failed_keys[0].error = error;
    struct json_object *o = json_of(&r);
    if (o) {
        struct json_object *f0 = json_object_array_get_idx(jget(o, "failed"), 0);
        CHECK_STR(json_object_get_string(jget(f0, "key")), key, "json: 1024-byte key whole");
        CHECK_STR(json_object_get_string(jget(f0, "error")), error, "json: its error whole");
        json_object_put(o);
    }
    char *t = table_text(&r);
    const char *line = strstr(t, "    rank 0 'kkkk");
    CHECK(line != NULL && strchr(line, '\n') - line < 700, "table: the key line is shortened");
    CHECK(line != NULL && strstr(line, "Access Denied\n") != NULL, "table: the error's end kept");
    free(t);
}

/* A file:// key need not be UTF-8: the report stays valid JSON and keeps the key's bytes. */
static void test_failed_not_utf8(void)
{
    static struct s3dlio_rank_stats ranks[4];
    struct s3dlio_report r;
    sample_report(&r, ranks, 4, find_case(IMBALANCED), 1);
    free(failed_keys[0].key);
    free(failed_keys[0].error);
    /* a stray byte, a cut sequence at the end, an overlong '/' and a surrogate */
    failed_keys[0].key = strdup("bad\xffname/\xc0\xaf/\xed\xa0\x80/\xc3");
    failed_keys[0].error = strdup("put 'bad\xffname': InvalidObjectName (HTTP 400)");
    struct json_object *o = json_of(&r);
    if (o) {
        struct json_object *f0 = json_object_array_get_idx(jget(o, "failed"), 0);
        CHECK_STR(json_object_get_string(jget(f0, "key")),
                  "bad\uFFFDname/\uFFFD\uFFFD/\uFFFD\uFFFD\uFFFD/\uFFFD", "json: each stray byte shown as U+FFFD");
        CHECK_STR(json_object_get_string(jget(f0, "key_hex")), "626164ff6e616d652fc0af2feda0802fc3",
                  "json: the key's exact bytes in key_hex");
        CHECK_STR(json_object_get_string(jget(f0, "error")), "put 'bad\uFFFDname': InvalidObjectName (HTTP 400)",
                  "json: the error as UTF-8");
        struct json_object *f1 = json_object_array_get_idx(jget(o, "failed"), 1);
        CHECK(f1 == NULL || jget(f1, "key_hex") == NULL, "json: no key_hex for a UTF-8 key");
        json_object_put(o);
    }
}

/* ---- CPU and memory probes ------------------------------------------------------------- */

static void test_cpu(void)
{
    double u0, s0, u1, s1;
    s3dlio_cpu_times(&u0, &s0);
    volatile uint64_t x = 1;
    for (uint64_t i = 0; i < 20000000; i++)
        x = x * 6364136223846793005ull + i;
    s3dlio_cpu_times(&u1, &s1);
    CHECK(u0 >= 0 && s0 >= 0, "cpu times non-negative");
    CHECK(u1 + s1 >= u0 + s0, "cpu time does not go back");
    CHECK(s3dlio_peak_rss_kib() > 0, "peak RSS reported");
    s3dlio_cpu_times(NULL, NULL); /* either pointer may be NULL */
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_hist_buckets();
    test_hist_relative_error();
    test_hist_random_quantiles();
    test_hist_distributions();
    test_hist_merge();
    test_report_cases();
    test_report_figures();
    test_report_wall();
    test_table();
    test_json();
    test_rates_unmeasured();
    test_objects_listed();
    test_verdict_failures();
    test_failed_whole();
    test_failed_not_utf8();
    test_cpu();
    s3dlio_failed_keys_free(failed_keys, NFAILED_MAX);
    TEST_DONE();
}
