/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/stats: histogram bucket layout, quantile error bounds and merging; the report's derived
 * figures, stragglers and every verdict branch on crafted ranks; the table and the JSON
 * (parsed back with json-c); the CPU and RSS probes.
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
 * field order: { count, wall_s, gib, cpu_s, lat_ms, throttled, server_errors, capped }.
 */
struct rank_group {
    int count;
    double wall_s, gib, cpu_s, lat_ms;
    uint64_t throttled, server_errors;
    bool capped;
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
        .groups = { { 4, 10, 1, 2, 75, 0, 0, false } },
        .verdict = "bandwidth-bound: Little's law gives L = lambda*W = 30.0 in flight, near the 32 "
                   "configured (400.0 req/s x 75.00 ms); the server or network is the limit at "
                   "429.5 MB/s",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = "concurrency-bound: L well below configured",
        .groups = { { 4, 10, 1, 2, 10, 0, 0, false } },
        .verdict = "concurrency-bound: Little's law gives L = lambda*W = 4.0 in flight of 32 "
                   "configured (400.0 req/s x 10.00 ms); more requests in flight or lower "
                   "latency would raise throughput",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = IMBALANCED,
        .groups = { { 3, 10, 1, 2, 75, 0, 0, false }, { 1, 20, 1, 2, 75, 0, 0, false } },
        .verdict = "imbalance: slowest rank 3 (node3) took 20.00 s vs median 10.00 s; bytes "
                   "max/mean 1.00",
        .imbalance = { 2.0, 1.0 },
        .stragglers = { 3, -1 },
    },
    {
        .name = "imbalance 1.25 exactly is not imbalance",
        .groups = { { 3, 10, 1, 2, 75, 0, 0, false }, { 1, 12.5, 1, 2, 75, 0, 0, false } },
        .prefix = "bandwidth-bound",
        .imbalance = { 1.25, 1.0 },
        .stragglers = { 3, -1 },
    },
    {
        .name = "server throttling above 1%",
        .groups = { { 4, 10, 1, 2, 75, 10, 3, false } },
        .verdict = "server throttling: 40 503/429 and 12 5xx answers out of 4000 requests (1.3%, "
                   "0 retries)",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = "1% exactly is not throttling",
        .groups = { { 4, 10, 1, 2, 75, 7, 3, false } },
        .prefix = "bandwidth-bound",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = "rank CPU saturated",
        .groups = { { 1, 10, 1, 2, 75, 0, 0, false },
                    { 1, 10, 1, 9, 75, 0, 0, false },
                    { 2, 10, 1, 2, 75, 0, 0, false } },
        .prefix = "rank CPU saturated: rank 1 used 90% of a core",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = "memory cap first, imbalance also",
        .groups = { { 2, 10, 1, 2, 75, 0, 0, false },
                    { 1, 0.5, 0, 0, 75, 0, 0, true },
                    { 1, 20, 1, 2, 75, 0, 0, false } },
        .prefix = "memory cap: rank 2's shard does not fit --max-memory",
        .has = "; also imbalance: slowest rank 3 (node3) took 20.00 s",
        .imbalance = { 2.0, 4.0 / 3 },
        .stragglers = { 3, -1 },
    },
    {
        .name = "throttling first, CPU also",
        .groups = { { 3, 10, 1, 2, 75, 20, 0, false }, { 1, 10, 1, 9.5, 75, 20, 0, false } },
        .prefix = "server throttling: 80 503/429",
        .has = "; also rank CPU saturated: rank 3 used 95%",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = "idle rank ignored for balance",
        .groups = { { 3, 10, 1, 2, 75, 0, 0, false }, { 1, 0.1, 0, 0, 75, 0, 0, false } },
        .prefix = "bandwidth-bound",
        .imbalance = { 1.0, 4.0 / 3 },
        .stragglers = { -1 },
    },
    {
        .name = "straggler needs 20% and 0.5 s",
        .groups = { { 6, 1, 1, 0.1, 75, 0, 0, false },
                    { 1, 1.45, 1, 0.1, 75, 0, 0, false },
                    { 1, 1.55, 1, 0.1, 75, 0, 0, false } },
        .prefix = "imbalance: slowest rank 7 (node7) took 1.55 s vs median 1.00 s",
        .imbalance = { 1.55, 1.0 },
        .stragglers = { 7, -1 },
    },
    {
        .name = "straggler under 20% is not one",
        .groups = { { 7, 10, 1, 2, 75, 0, 0, false }, { 1, 11.9, 1, 2, 75, 0, 0, false } },
        .prefix = "bandwidth-bound",
        .imbalance = { 1.19, 1.0 },
        .stragglers = { -1 },
    },
    {
        .name = "at most 7 stragglers, slowest first",
        .groups = { { 10, 1, 1, 0.1, 75, 0, 0, false },
                    { 5, 3, 1, 0.1, 75, 0, 0, false },
                    { 5, 5, 1, 0.1, 75, 0, 0, false } },
        .prefix = "imbalance: slowest rank 15 (node15) took 5.00 s vs median 2.00 s",
        .imbalance = { 5.0, 1.0 },
        .stragglers = { 15, 16, 17, 18, 19, 10, 11, -1 },
    },
    {
        .name = "idle ranks make no stragglers",
        .groups = { { 2, 10, 1, 2, 75, 0, 0, false }, { 3, 0.1, 0, 0, 75, 0, 0, false } },
        .prefix = "bandwidth-bound",
        .imbalance = { 1.0, 2.5 },
        .stragglers = { -1 },
    },
    {
        .name = "no bytes anywhere: median over all ranks",
        .groups = { { 3, 1, 0, 0.1, 75, 0, 0, false }, { 1, 5, 0, 0.1, 75, 0, 0, false } },
        .prefix = "bandwidth-bound",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { 3, -1 },
    },
    {
        .name = "no ranks",
        .verdict = "idle: 0 requests completed in 0.00 s, nothing to judge",
        .imbalance = { 1.0, 1.0 },
        .stragglers = { -1 },
    },
};

/* Ranks of a case: 1000 requests each at lat_ms, 8 in flight configured, started together. */
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
            rs->requests = 1000;
            rs->throttled = rg->throttled;
            rs->server_errors = rg->server_errors;
            rs->t_start_ns = 5 * SEC; /* aligned by coord: comparable across ranks */
            rs->t_end_ns = rs->t_start_ns + (uint64_t)(rg->wall_s * 1e9);
            rs->wall_s = rg->wall_s;
            rs->cpu_user_s = rg->cpu_s * 0.8;
            rs->cpu_sys_s = rg->cpu_s * 0.2;
            rs->concurrency = 8;
            rs->memory_capped = rg->capped;
            rs->peak_rss_kib = 1024 * 1024;
            for (int i = 0; i < 1000; i++) {
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
    CHECK(near(r.wall_s, 20.0, 1e-9), "wall: earliest start to latest end");
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

/* ---- printers -------------------------------------------------------------------------- */

static struct s3dlio_failed_key failed_keys[25];

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
    for (size_t i = 0; i < nfailed; i++) {
        snprintf(failed_keys[i].key, sizeof(failed_keys[i].key), "train/%04zu.npz", i);
        snprintf(failed_keys[i].error, sizeof(failed_keys[i].error),
                 "get 's3://bucket/train/%04zu.npz': NoSuchKey (HTTP 404)", i);
        failed_keys[i].rank = (int)(i % 4);
    }
    r->failed = failed_keys;
    r->nfailed = nfailed;
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

/* No null anywhere: a null is a NaN or an allocation that failed. */
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

static void test_json(void)
{
    static struct s3dlio_rank_stats ranks[4];
    struct s3dlio_report r;
    sample_report(&r, ranks, 4, find_case(IMBALANCED), 2);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK_INT(s3dlio_report_write_json(&r, f), S3DLIO_OK, "json written");
    fclose(f);
    struct json_object *o = json_tokener_parse(text);
    CHECK(o != NULL, "json parses");
    if (!o) {
        free(text);
        return;
    }
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
    CHECK_INT(count_nulls(o), 0, "json has no null");
    json_object_put(o);
    free(text);

    FILE *ro = fopen("/dev/null", "r"); /* a stream that refuses writes */
    if (ro) {
        CHECK_INT(s3dlio_report_write_json(&r, ro), S3DLIO_E_IO, "json write error is S3DLIO_E_IO");
        fclose(ro);
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
    test_table();
    test_json();
    test_cpu();
    TEST_DONE();
}
