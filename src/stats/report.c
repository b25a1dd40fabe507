/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The run report: derived figures and the verdict computed once from the gathered rank stats
 * (s3dlio_report_build), then printed from that one struct as a table for people
 * (report_table.c) and as JSON for scripts (report_json.c): the hpc/ior src/ior-output.c
 * arrangement, one result, several printers.
 */
#include "s3dlio/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "stats/report_int.h"
#include "util/alloc.h"

#define STRAGGLER_RATIO    1.20 /* slower than the median by more than 20%... */
#define STRAGGLER_MIN_S    0.5  /* ...and by more than half a second */
#define THROTTLE_FRACTION  0.01 /* 503/429 + 5xx above 1% of requests */
#define IMBALANCE_LIMIT    1.25 /* slowest / fastest rank wall */
#define IMBALANCE_MIN_S    0.5  /* ... and the slowest at least this much over the median */
#define CPU_SATURATED      0.85 /* of one core: the event loop is single-threaded */
#define LITTLE_FRACTION    0.70 /* L below 70% of configured in flight: concurrency-bound */
#define VERDICT_ERROR_MAX  240  /* the first error in the verdict; room left for a second cause */

/* ---- per-rank figures --------------------------------------------------------------- */

double s3dlio_rep_rank_wall(const struct s3dlio_rank_stats *rs)
{
    return rs->wall_s > 0 ? rs->wall_s : 0;
}

/* Whether a rate over wall_s seconds means anything (see S3DLIO_RATE_MIN_WALL_S). */
bool s3dlio_rep_rate_measurable(double wall_s)
{
    return wall_s >= S3DLIO_RATE_MIN_WALL_S;
}

/*
 * A rank that made no request had nothing to do (more ranks than objects): its microseconds
 * of wall time say nothing about speed or CPU, so it is never the one a verdict names.
 */
static bool rank_worked(const struct s3dlio_rank_stats *rs)
{
    return rs->requests > 0 || rs->bytes > 0;
}

/* NAN when the rank's time is too short for a rate. */
double s3dlio_rep_rank_MBps(const struct s3dlio_rank_stats *rs)
{
    double wall = s3dlio_rep_rank_wall(rs);
    return s3dlio_rep_rate_measurable(wall) ? (double)rs->bytes / wall / 1e6 : NAN;
}

/* Fraction of one core the rank used; NAN when its time is too short to tell. */
double s3dlio_rep_rank_cpu_share(const struct s3dlio_rank_stats *rs)
{
    double wall = s3dlio_rep_rank_wall(rs);
    return s3dlio_rep_rate_measurable(wall) ? (rs->cpu_user_s + rs->cpu_sys_s) / wall : NAN;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n), sorting v; 0 when n is 0. */
static double median_of(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Median wall time of the ranks that moved bytes. Idle ranks (more ranks than objects) would
 * pull the median toward 0 and make every working rank look slow; when no rank moved a byte,
 * all ranks count.
 */
double s3dlio_rep_median_wall(const struct s3dlio_report *r)
{
    double *v = s3dlio_xmalloc((size_t)r->nranks * sizeof(*v));
    size_t n = 0;
    for (int i = 0; i < r->nranks; i++)
        if (r->ranks[i].bytes > 0)
            v[n++] = s3dlio_rep_rank_wall(&r->ranks[i]);
    if (n == 0)
        for (int i = 0; i < r->nranks; i++)
            v[n++] = s3dlio_rep_rank_wall(&r->ranks[i]);
    double m = median_of(v, n);
    free(v);
    return m;
}

/* Index of the working rank with the longest wall time (the first on ties); -1: none worked. */
static int slowest_rank(const struct s3dlio_report *r)
{
    int slow = -1;
    for (int i = 0; i < r->nranks; i++)
        if (rank_worked(&r->ranks[i]) &&
            (slow < 0 || s3dlio_rep_rank_wall(&r->ranks[i]) > s3dlio_rep_rank_wall(&r->ranks[slow])))
            slow = i;
    return slow;
}

/*
 * s shortened to at most max bytes for display: its head and tail around "...", cut on
 * UTF-8 character boundaries (a key may be any UTF-8), so a long key keeps both its start and
 * the S3 code at the end of an error. out has room for max + 1 bytes.
 */
const char *s3dlio_rep_shorten(const char *s, size_t max, char *out, size_t outlen)
{
    size_t n = strlen(s);
    if (n <= max || max < 8 || outlen <= max) {
        snprintf(out, outlen, "%s", s);
        return out;
    }
    size_t head = (max - 3) / 2, tail = n - (max - 3 - head);
    while (head > 0 && ((unsigned char)s[head] & 0xC0) == 0x80)
        head--;
    while (tail < n && ((unsigned char)s[tail] & 0xC0) == 0x80)
        tail++;
    snprintf(out, outlen, "%.*s...%s", (int)head, s, s + tail);
    return out;
}

/* ---- s3dlio_report_build -------------------------------------------------------------- */

/* Rates start unknown (NAN): a report with no ranks has none. */
static void reset_derived(struct s3dlio_report *r)
{
    r->wall_s = 0;
    r->objects = r->failures = r->bytes = r->requests = 0;
    r->retries = r->throttled = r->server_errors = 0;
    r->changed = r->restarted = r->verified = r->not_verifiable = r->aborted_uploads = 0;
    r->backoff_s = 0;
    r->limit_min = r->limit_max = 0;
    r->limit_adaptive = false;
    r->limit_decreases = 0;
    r->interrupted = false;
    r->throughput_MBps = r->rank_MBps_min = r->rank_MBps_median = r->rank_MBps_max = NAN;
    r->imbalance_bytes = r->imbalance_time = 1.0;
    r->cpu_s = 0;
    r->cpu_s_per_GiB = NAN;
    r->prof_samples = r->prof_dropped = 0;
    memset(&r->ttfb, 0, sizeof(r->ttfb));
    memset(&r->total, 0, sizeof(r->total));
    for (size_t i = 0; i < sizeof(r->stragglers) / sizeof(r->stragglers[0]); i++)
        r->stragglers[i] = -1;
    r->verdict[0] = '\0';
}

static void sum_ranks(struct s3dlio_report *r)
{
    for (int i = 0; i < r->nranks; i++) {
        const struct s3dlio_rank_stats *rs = &r->ranks[i];
        r->objects += rs->objects;
        r->failures += rs->failures;
        r->bytes += rs->bytes;
        r->requests += rs->requests;
        r->retries += rs->retries;
        r->throttled += rs->throttled;
        r->server_errors += rs->server_errors;
        r->changed += rs->changed;
        r->restarted += rs->restarted;
        r->verified += rs->verified;
        r->not_verifiable += rs->not_verifiable;
        r->aborted_uploads += rs->aborted_uploads;
        r->backoff_s += (double)rs->backoff_ms / 1e3;
        r->limit_decreases += rs->limit_decreases;
        if (i == 0 || rs->limit_min < r->limit_min)
            r->limit_min = rs->limit_min;
        if (rs->limit_max > r->limit_max)
            r->limit_max = rs->limit_max;
        r->limit_adaptive |= rs->limit_adaptive;
        r->interrupted |= rs->interrupted;
        r->cpu_s += rs->cpu_user_s + rs->cpu_sys_s;
        r->prof_samples += rs->prof_samples;
        r->prof_dropped += rs->prof_dropped;
        s3dlio_hist_merge(&r->ttfb, &rs->ttfb);
        s3dlio_hist_merge(&r->total, &rs->total);
    }
}

/*
 * The job's wall time is the slowest rank's own elapsed time, not a mean, so waiting on the
 * slowest rank counts. Every rank times itself from the barrier they all leave together
 * (coord, run_shard); no two ranks' clocks are compared, because MPI_Wtime and
 * CLOCK_MONOTONIC of different nodes have unrelated origins: "latest end - earliest start"
 * over them measures launch and clock skew as much as the transfer.
 */
static void job_rates(struct s3dlio_report *r)
{
    for (int i = 0; i < r->nranks; i++)
        if (s3dlio_rep_rank_wall(&r->ranks[i]) > r->wall_s)
            r->wall_s = s3dlio_rep_rank_wall(&r->ranks[i]);
    if (!s3dlio_rep_rate_measurable(r->wall_s))
        return;
    r->throughput_MBps = (double)r->bytes / r->wall_s / 1e6;
    if (r->bytes >= S3DLIO_RATE_MIN_BYTES)
        r->cpu_s_per_GiB = r->cpu_s / ((double)r->bytes / S3DLIO_REP_GIB);
}

/* Rank rates over the ranks that have one (too short a rank has none). */
static void spread_ranks(struct s3dlio_report *r)
{
    double *rate = s3dlio_xmalloc((size_t)r->nranks * sizeof(*rate));
    double max_bytes = 0, max_wall = 0, min_wall = 0;
    size_t nrated = 0;
    for (int i = 0; i < r->nranks; i++) {
        const struct s3dlio_rank_stats *rs = &r->ranks[i];
        double wall = s3dlio_rep_rank_wall(rs);
        double mbps = s3dlio_rep_rank_MBps(rs);
        if (!isnan(mbps))
            rate[nrated++] = mbps;
        if ((double)rs->bytes > max_bytes)
            max_bytes = (double)rs->bytes;
        /* a rank with nothing to do finishes at once, or waits (--steal): either way it says
         * nothing about balance */
        if (rs->bytes == 0 || wall <= 0)
            continue;
        if (wall > max_wall)
            max_wall = wall;
        if (min_wall == 0 || wall < min_wall)
            min_wall = wall;
    }
    if (nrated) {
        r->rank_MBps_median = median_of(rate, nrated); /* sorts rate */
        r->rank_MBps_min = rate[0];
        r->rank_MBps_max = rate[nrated - 1];
    }
    free(rate);
    double mean_bytes = (double)r->bytes / r->nranks;
    r->imbalance_bytes = mean_bytes > 0 ? max_bytes / mean_bytes : 1.0;
    r->imbalance_time = min_wall > 0 ? max_wall / min_wall : 1.0;
}

static int cmp_slower(const void *a, const void *b, void *ctx)
{
    const struct s3dlio_rank_stats *ranks = ctx;
    int i = *(const int *)a, j = *(const int *)b;
    double wi = s3dlio_rep_rank_wall(&ranks[i]), wj = s3dlio_rep_rank_wall(&ranks[j]);
    if (wi != wj)
        return wi < wj ? 1 : -1;
    return (i > j) - (i < j);
}

static void find_stragglers(struct s3dlio_report *r)
{
    double median = s3dlio_rep_median_wall(r);
    int *idx = s3dlio_xmalloc((size_t)r->nranks * sizeof(*idx));
    int n = 0;
    for (int i = 0; i < r->nranks; i++) {
        double wall = s3dlio_rep_rank_wall(&r->ranks[i]);
        if (rank_worked(&r->ranks[i]) && wall > median * STRAGGLER_RATIO &&
            wall - median > STRAGGLER_MIN_S)
            idx[n++] = i;
    }
    qsort_r(idx, (size_t)n, sizeof(*idx), cmp_slower, r->ranks);
    for (int k = 0; k < n && k < S3DLIO_REP_MAX_STRAGGLERS; k++)
        r->stragglers[k] = r->ranks[idx[k]].rank;
    free(idx);
}

/* ---- the verdict ----------------------------------------------------------------------- */

/*
 * Each cause writes its sentence into out and returns whether it holds. They are tried in
 * order of how directly they explain a slow run; the first that holds is the verdict.
 */
typedef bool verdict_cause_fn(const struct s3dlio_report *r, char *out, size_t len);

/*
 * Objects that failed come first: after an outage every other figure (few requests in flight,
 * a short wall time) is a consequence, and naming it "concurrency-bound" would send the user
 * tuning the wrong thing.
 */
static bool cause_failures(const struct s3dlio_report *r, char *out, size_t len)
{
    if (r->failures == 0)
        return false;
    uint64_t of = r->listed ? r->listed : r->objects + r->failures;
    int n = snprintf(out, len, "failures: %llu of %llu objects failed",
                     (unsigned long long)r->failures, (unsigned long long)of);
    if (r->nfailed && r->failed[0].error && n > 0 && (size_t)n < len) {
        char first[VERDICT_ERROR_MAX + 1];
        snprintf(out + n, len - (size_t)n, " (first: %s)",
                 s3dlio_rep_shorten(r->failed[0].error, VERDICT_ERROR_MAX, first, sizeof(first)));
    }
    return true;
}

static bool cause_memory_cap(const struct s3dlio_report *r, char *out, size_t len)
{
    int first = -1, capped = 0;
    uint64_t rss = 0;
    for (int i = 0; i < r->nranks; i++) {
        if (!r->ranks[i].memory_capped)
            continue;
        if (first < 0)
            first = i;
        capped++;
        if (r->ranks[i].peak_rss_kib > rss)
            rss = r->ranks[i].peak_rss_kib;
    }
    if (first < 0)
        return false;
    snprintf(out, len,
             "memory cap: rank %d's shard does not fit --max-memory (%d of %d ranks capped, "
             "peak RSS %.1f MiB); raise --max-memory or use more ranks",
             r->ranks[first].rank, capped, r->nranks, (double)rss / 1024);
    return true;
}

static bool cause_throttling(const struct s3dlio_report *r, char *out, size_t len)
{
    uint64_t bad = r->throttled + r->server_errors;
    if (bad == 0 || (double)bad <= THROTTLE_FRACTION * (double)r->requests)
        return false;
    int n = snprintf(out, len,
                     "server throttling: %llu 503/429 and %llu 5xx answers out of %llu requests "
                     "(%.1f%%, %llu retries)",
                     (unsigned long long)r->throttled, (unsigned long long)r->server_errors,
                     (unsigned long long)r->requests,
                     r->requests ? 100.0 * (double)bad / (double)r->requests : 100.0,
                     (unsigned long long)r->retries);
    if (r->limit_decreases && n > 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, "; ranks cut their in-flight limit %llu times, to %u "
                 "at the lowest", (unsigned long long)r->limit_decreases, (unsigned)r->limit_min);
    return true;
}

static bool cause_imbalance(const struct s3dlio_report *r, char *out, size_t len)
{
    int slowest = slowest_rank(r);
    if (r->imbalance_time <= IMBALANCE_LIMIT || slowest < 0)
        return false;
    const struct s3dlio_rank_stats *slow = &r->ranks[slowest];
    double median = s3dlio_rep_median_wall(r);
    /* a quarter second of start-up jitter is no imbalance worth a user's attention */
    if (s3dlio_rep_rank_wall(slow) - median < IMBALANCE_MIN_S)
        return false;
    snprintf(out, len,
             "imbalance: slowest rank %d (%.*s) took %.2f s vs median %.2f s; "
             "bytes max/mean %.2f",
             slow->rank, (int)sizeof(slow->host), slow->host, s3dlio_rep_rank_wall(slow), median,
             r->imbalance_bytes);
    return true;
}

/* Only ranks that worked, and long enough for their CPU share to be measured, are judged. */
static bool cause_cpu(const struct s3dlio_report *r, char *out, size_t len)
{
    int busy = -1;
    for (int i = 0; i < r->nranks; i++) {
        double share = s3dlio_rep_rank_cpu_share(&r->ranks[i]);
        if (rank_worked(&r->ranks[i]) && !isnan(share) &&
            (busy < 0 || share > s3dlio_rep_rank_cpu_share(&r->ranks[busy])))
            busy = i;
    }
    if (busy < 0 || s3dlio_rep_rank_cpu_share(&r->ranks[busy]) <= CPU_SATURATED)
        return false;
    const struct s3dlio_rank_stats *rs = &r->ranks[busy];
    snprintf(out, len,
             "rank CPU saturated: rank %d used %.0f%% of a core (user %.2f s + sys %.2f s in "
             "%.2f s)",
             rs->rank, 100 * s3dlio_rep_rank_cpu_share(rs), rs->cpu_user_s, rs->cpu_sys_s, s3dlio_rep_rank_wall(rs));
    return true;
}

static verdict_cause_fn *const causes[] = {
    cause_failures,
    cause_memory_cap,
    cause_throttling,
    cause_imbalance,
    cause_cpu,
};
#define NCAUSES (sizeof(causes) / sizeof(causes[0]))

/*
 * No named cause: Little's law, L = lambda * W, gives the mean number of requests in flight
 * from the achieved request rate and the mean request latency. Well below what was configured,
 * the client did not keep the pipe full; near it, the server or the network set the pace.
 */
static void verdict_little(const struct s3dlio_report *r, char *out, size_t len)
{
    if (r->requests == 0 || r->total.n == 0 || r->wall_s <= 0) {
        snprintf(out, len, "idle: %llu requests completed in %.2f s, nothing to judge",
                 (unsigned long long)r->requests, r->wall_s);
        return;
    }
    if (!s3dlio_rep_rate_measurable(r->wall_s)) {
        snprintf(out, len,
                 "too short to judge: %llu requests completed in %.3f s (rates need %.1f s "
                 "or more)",
                 (unsigned long long)r->requests, r->wall_s, S3DLIO_RATE_MIN_WALL_S);
        return;
    }
    double lambda = (double)r->requests / r->wall_s;
    double w_s = (double)r->total.sum_ns / (double)r->total.n / 1e9;
    double l = lambda * w_s;
    long long configured = 0; /* a rank without work could not use its requests in flight */
    for (int i = 0; i < r->nranks; i++)
        if (rank_worked(&r->ranks[i]))
            configured += r->ranks[i].concurrency;
    if (l < LITTLE_FRACTION * (double)configured)
        snprintf(out, len,
                 "concurrency-bound: Little's law gives L = lambda*W = %.1f in flight of %lld "
                 "configured (%.1f req/s x %.2f ms); more requests in flight or lower latency "
                 "would raise throughput",
                 l, configured, lambda, w_s * 1e3);
    else if (r->bytes == 0) /* server-side copies: requests, no payload through the client */
        snprintf(out, len,
                 "server-bound: Little's law gives L = lambda*W = %.1f in flight, near the %lld "
                 "configured (%.1f req/s x %.2f ms); no payload passed through this client, so "
                 "the server's request rate is the limit",
                 l, configured, lambda, w_s * 1e3);
    else
        snprintf(out, len,
                 "bandwidth-bound: Little's law gives L = lambda*W = %.1f in flight, near the "
                 "%lld configured (%.1f req/s x %.2f ms); the server or network is the limit at "
                 "%.1f MB/s",
                 l, configured, lambda, w_s * 1e3, r->throughput_MBps);
}

/* Index of the first cause from `from` on that holds (its sentence in out), or NCAUSES. */
static size_t next_cause(const struct s3dlio_report *r, size_t from, char *out, size_t len)
{
    for (size_t i = from; i < NCAUSES; i++)
        if (causes[i](r, out, len))
            return i;
    return NCAUSES;
}

/*
 * The first cause that holds is the verdict; the next one that also holds is named after it.
 * Little's law is only the fallback: throttling or imbalance lower L themselves, so
 * "concurrency-bound" next to them would be an echo, not a second cause.
 */
static void build_verdict(struct s3dlio_report *r)
{
    char second[sizeof(r->verdict)];
    size_t i = next_cause(r, 0, r->verdict, sizeof(r->verdict));
    if (i == NCAUSES) {
        verdict_little(r, r->verdict, sizeof(r->verdict));
        return;
    }
    if (next_cause(r, i + 1, second, sizeof(second)) < NCAUSES) {
        size_t used = strlen(r->verdict);
        /* both sentences fit in practice; past the field a truncated tail beats a lost head */
        snprintf(r->verdict + used, sizeof(r->verdict) - used, "; also %s", second);
    }
}

void s3dlio_failed_keys_free(struct s3dlio_failed_key *keys, size_t n)
{
    if (!keys)
        return;
    for (size_t i = 0; i < n; i++) {
        free(keys[i].key);
        free(keys[i].error);
    }
    free(keys);
}

void s3dlio_report_build(struct s3dlio_report *r)
{
    reset_derived(r);
    if (r->nranks <= 0 || !r->ranks) {
        r->nranks = 0;
        verdict_little(r, r->verdict, sizeof(r->verdict));
        return;
    }
    sum_ranks(r);
    job_rates(r);
    spread_ranks(r);
    find_stragglers(r);
    build_verdict(r);
}
