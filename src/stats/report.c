/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The run report: derived figures and the verdict computed once from the gathered rank stats
 * (s3dlio_report_build), then printed from that one struct as a table for people and as JSON
 * for scripts (the hpc/ior src/ior-output.c arrangement: one result, several printers).
 */
#include "s3dlio/stats.h"

#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

#define GIB                1073741824.0
#define MIB                1048576.0
#define MAX_STRAGGLERS     7    /* stragglers[8] keeps room for the -1 terminator */
#define STRAGGLER_RATIO    1.20 /* slower than the median by more than 20%... */
#define STRAGGLER_MIN_S    0.5  /* ...and by more than half a second */
#define THROTTLE_FRACTION  0.01 /* 503/429 + 5xx above 1% of requests */
#define IMBALANCE_LIMIT    1.25 /* slowest / fastest rank wall */
#define IMBALANCE_MIN_S    0.5  /* ... and the slowest at least this much over the median */
#define CPU_SATURATED      0.85 /* of one core: the event loop is single-threaded */
#define LITTLE_FRACTION    0.70 /* L below 70% of configured in flight: concurrency-bound */
#define TABLE_FAILED_MAX   20   /* failed keys listed in the table (JSON lists all) */
#define TABLE_PER_RANK_MAX 16   /* per-rank table only for small jobs */

/* ---- per-rank figures --------------------------------------------------------------- */

/* A rank's wall time: its own wall_s, or t_end - t_start when the caller left wall_s 0. */
static double rank_wall(const struct s3dlio_rank_stats *rs)
{
    if (rs->wall_s > 0)
        return rs->wall_s;
    return rs->t_end_ns > rs->t_start_ns ? (double)(rs->t_end_ns - rs->t_start_ns) / 1e9 : 0;
}

static double rank_MBps(const struct s3dlio_rank_stats *rs)
{
    double wall = rank_wall(rs);
    return wall > 0 ? (double)rs->bytes / wall / 1e6 : 0;
}

/* Fraction of one core the rank used; 0 when it has no wall time. */
static double rank_cpu_share(const struct s3dlio_rank_stats *rs)
{
    double wall = rank_wall(rs);
    return wall > 0 ? (rs->cpu_user_s + rs->cpu_sys_s) / wall : 0;
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
static double median_wall(const struct s3dlio_report *r)
{
    double *v = s3dlio_xmalloc((size_t)r->nranks * sizeof(*v));
    size_t n = 0;
    for (int i = 0; i < r->nranks; i++)
        if (r->ranks[i].bytes > 0)
            v[n++] = rank_wall(&r->ranks[i]);
    if (n == 0)
        for (int i = 0; i < r->nranks; i++)
            v[n++] = rank_wall(&r->ranks[i]);
    double m = median_of(v, n);
    free(v);
    return m;
}

/* Index of the rank with the longest wall time (the first on ties); 0 when there are none. */
static int slowest_rank(const struct s3dlio_report *r)
{
    int slow = 0;
    for (int i = 1; i < r->nranks; i++)
        if (rank_wall(&r->ranks[i]) > rank_wall(&r->ranks[slow]))
            slow = i;
    return slow;
}

/* ---- s3dlio_report_build -------------------------------------------------------------- */

static void reset_derived(struct s3dlio_report *r)
{
    r->wall_s = 0;
    r->objects = r->failures = r->bytes = r->requests = 0;
    r->retries = r->throttled = r->server_errors = 0;
    r->changed = r->restarted = r->verified = r->not_verifiable = r->aborted_uploads = 0;
    r->backoff_s = 0;
    r->limit_min = 0;
    r->limit_decreases = 0;
    r->interrupted = false;
    r->throughput_MBps = r->rank_MBps_min = r->rank_MBps_median = r->rank_MBps_max = 0;
    r->imbalance_bytes = r->imbalance_time = 1.0;
    r->cpu_s = r->cpu_s_per_GiB = 0;
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
        r->interrupted |= rs->interrupted;
        r->cpu_s += rs->cpu_user_s + rs->cpu_sys_s;
        s3dlio_hist_merge(&r->ttfb, &rs->ttfb);
        s3dlio_hist_merge(&r->total, &rs->total);
    }
    r->cpu_s_per_GiB = r->bytes ? r->cpu_s / ((double)r->bytes / GIB) : 0;
}

/*
 * Aggregate wall time from the earliest start to the latest end (hpc/ior ReduceIterResults:
 * MIN of starts, MAX of ends), not a mean of rank times, so waiting on the slowest rank
 * counts. coord passes start/end already aligned across nodes.
 */
static void span_ranks(struct s3dlio_report *r)
{
    uint64_t start = r->ranks[0].t_start_ns, end = r->ranks[0].t_end_ns;
    for (int i = 1; i < r->nranks; i++) {
        if (r->ranks[i].t_start_ns < start)
            start = r->ranks[i].t_start_ns;
        if (r->ranks[i].t_end_ns > end)
            end = r->ranks[i].t_end_ns;
    }
    r->wall_s = end > start ? (double)(end - start) / 1e9 : 0;
    r->throughput_MBps = r->wall_s > 0 ? (double)r->bytes / r->wall_s / 1e6 : 0;
}

static void spread_ranks(struct s3dlio_report *r)
{
    double *rate = s3dlio_xmalloc((size_t)r->nranks * sizeof(*rate));
    double max_bytes = 0, max_wall = 0, min_wall = 0;
    for (int i = 0; i < r->nranks; i++) {
        const struct s3dlio_rank_stats *rs = &r->ranks[i];
        double wall = rank_wall(rs);
        rate[i] = rank_MBps(rs);
        if ((double)rs->bytes > max_bytes)
            max_bytes = (double)rs->bytes;
        if (wall > max_wall)
            max_wall = wall;
        /* a rank with nothing to do finishes at once: it says nothing about balance */
        if (rs->bytes > 0 && wall > 0 && (min_wall == 0 || wall < min_wall))
            min_wall = wall;
    }
    r->rank_MBps_median = median_of(rate, (size_t)r->nranks); /* sorts rate */
    r->rank_MBps_min = rate[0];
    r->rank_MBps_max = rate[r->nranks - 1];
    free(rate);
    double mean_bytes = (double)r->bytes / r->nranks;
    r->imbalance_bytes = mean_bytes > 0 ? max_bytes / mean_bytes : 1.0;
    r->imbalance_time = min_wall > 0 ? max_wall / min_wall : 1.0;
}

static int cmp_slower(const void *a, const void *b, void *ctx)
{
    const struct s3dlio_rank_stats *ranks = ctx;
    int i = *(const int *)a, j = *(const int *)b;
    double wi = rank_wall(&ranks[i]), wj = rank_wall(&ranks[j]);
    if (wi != wj)
        return wi < wj ? 1 : -1;
    return (i > j) - (i < j);
}

static void find_stragglers(struct s3dlio_report *r)
{
    double median = median_wall(r);
    int *idx = s3dlio_xmalloc((size_t)r->nranks * sizeof(*idx));
    int n = 0;
    for (int i = 0; i < r->nranks; i++) {
        double wall = rank_wall(&r->ranks[i]);
        if (wall > median * STRAGGLER_RATIO && wall - median > STRAGGLER_MIN_S)
            idx[n++] = i;
    }
    qsort_r(idx, (size_t)n, sizeof(*idx), cmp_slower, r->ranks);
    for (int k = 0; k < n && k < MAX_STRAGGLERS; k++)
        r->stragglers[k] = r->ranks[idx[k]].rank;
    free(idx);
}

/* ---- the verdict ----------------------------------------------------------------------- */

/*
 * Each cause writes its sentence into out and returns whether it holds. They are tried in
 * order of how directly they explain a slow run; the first that holds is the verdict.
 */
typedef bool verdict_cause_fn(const struct s3dlio_report *r, char *out, size_t len);

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
    if (r->imbalance_time <= IMBALANCE_LIMIT)
        return false;
    const struct s3dlio_rank_stats *slow = &r->ranks[slowest_rank(r)];
    /* a quarter second of start-up jitter is no imbalance worth a user's attention */
    if (rank_wall(slow) - median_wall(r) < IMBALANCE_MIN_S)
        return false;
    snprintf(out, len,
             "imbalance: slowest rank %d (%.*s) took %.2f s vs median %.2f s; "
             "bytes max/mean %.2f",
             slow->rank, (int)sizeof(slow->host), slow->host, rank_wall(slow), median_wall(r),
             r->imbalance_bytes);
    return true;
}

static bool cause_cpu(const struct s3dlio_report *r, char *out, size_t len)
{
    int busy = 0;
    for (int i = 1; i < r->nranks; i++)
        if (rank_cpu_share(&r->ranks[i]) > rank_cpu_share(&r->ranks[busy]))
            busy = i;
    const struct s3dlio_rank_stats *rs = &r->ranks[busy];
    if (rank_cpu_share(rs) <= CPU_SATURATED)
        return false;
    snprintf(out, len,
             "rank CPU saturated: rank %d used %.0f%% of a core (user %.2f s + sys %.2f s in "
             "%.2f s)",
             rs->rank, 100 * rank_cpu_share(rs), rs->cpu_user_s, rs->cpu_sys_s, rank_wall(rs));
    return true;
}

static verdict_cause_fn *const causes[] = {
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
    double lambda = (double)r->requests / r->wall_s;
    double w_s = (double)r->total.sum_ns / (double)r->total.n / 1e9;
    double l = lambda * w_s;
    long long configured = 0;
    for (int i = 0; i < r->nranks; i++)
        configured += r->ranks[i].concurrency;
    if (l < LITTLE_FRACTION * (double)configured)
        snprintf(out, len,
                 "concurrency-bound: Little's law gives L = lambda*W = %.1f in flight of %lld "
                 "configured (%.1f req/s x %.2f ms); more requests in flight or lower latency "
                 "would raise throughput",
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

void s3dlio_report_build(struct s3dlio_report *r)
{
    reset_derived(r);
    if (r->nranks <= 0 || !r->ranks) {
        r->nranks = 0;
        verdict_little(r, r->verdict, sizeof(r->verdict));
        return;
    }
    sum_ranks(r);
    span_ranks(r);
    spread_ranks(r);
    find_stragglers(r);
    build_verdict(r);
}

/* ---- the table ------------------------------------------------------------------------- */

/* One "  label       value" line of the table. */
static void row(FILE *out, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void row(FILE *out, const char *label, const char *fmt, ...)
{
    va_list ap;
    fprintf(out, "  %-14s", label);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static double hist_mean_ms(const struct s3dlio_hist *h)
{
    return h->n ? (double)h->sum_ns / (double)h->n / 1e6 : 0;
}

static void table_latency(const struct s3dlio_report *r, FILE *out)
{
    static const struct {
        const char *label;
        size_t offset;
    } hists[] = {
        { "  ttfb", offsetof(struct s3dlio_report, ttfb) },
        { "  total", offsetof(struct s3dlio_report, total) },
    };
    row(out, "latency ms", "%9s %9s %9s %9s %9s %9s %10s", "p50", "p90", "p99", "p99.9", "max",
        "mean", "count");
    for (size_t i = 0; i < sizeof(hists) / sizeof(hists[0]); i++) {
        const struct s3dlio_hist *h =
            (const struct s3dlio_hist *)((const char *)r + hists[i].offset);
        row(out, hists[i].label, "%9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %10llu",
            ms(s3dlio_hist_quantile(h, 0.50)), ms(s3dlio_hist_quantile(h, 0.90)),
            ms(s3dlio_hist_quantile(h, 0.99)), ms(s3dlio_hist_quantile(h, 0.999)), ms(h->max_ns),
            hist_mean_ms(h), (unsigned long long)h->n);
    }
}

static void table_header(const struct s3dlio_report *r, FILE *out)
{
    fprintf(out, "s3dlio-mpi%s%.*s report%s%.*s\n", r->command[0] ? " " : "",
            (int)sizeof(r->command), r->command, r->run_id[0] ? ", run " : "",
            (int)sizeof(r->run_id), r->run_id);
    row(out, "source", "%.*s", (int)sizeof(r->source), r->source);
    row(out, "destination", "%.*s", (int)sizeof(r->destination), r->destination);
    row(out, "ranks", "%d, partition %.*s", r->nranks, (int)sizeof(r->partition),
        r->partition[0] ? r->partition : "-");
}

static void table_totals(const struct s3dlio_report *r, FILE *out)
{
    row(out, "objects", "%llu (%llu failed)", (unsigned long long)r->objects,
        (unsigned long long)r->failures);
    row(out, "bytes", "%.2f GiB (%llu B)", (double)r->bytes / GIB, (unsigned long long)r->bytes);
    row(out, "wall", "%.3f s", r->wall_s);
    row(out, "throughput", "%.1f MB/s aggregate", r->throughput_MBps);
    row(out, "rank MB/s", "min %.1f, median %.1f, max %.1f", r->rank_MBps_min, r->rank_MBps_median,
        r->rank_MBps_max);
    row(out, "imbalance", "time %.2f (max/min wall), bytes %.2f (max/mean)", r->imbalance_time,
        r->imbalance_bytes);
    row(out, "listing", "%.3f s (rank 0, once)", r->list_s);
    row(out, "requests", "%llu (%llu retries)", (unsigned long long)r->requests,
        (unsigned long long)r->retries);
    row(out, "throttled/5xx", "%llu / %llu", (unsigned long long)r->throttled,
        (unsigned long long)r->server_errors);
    if (r->limit_decreases)
        row(out, "in flight", "limit cut %llu times (throttled or refused), lowest %u; %.1f s of "
            "backoff over ranks", (unsigned long long)r->limit_decreases, (unsigned)r->limit_min,
            r->backoff_s);
    if (r->changed || r->restarted)
        row(out, "changed", "%llu objects changed during the transfer (%llu fetched again)",
            (unsigned long long)r->changed, (unsigned long long)r->restarted);
    if (r->verified || r->not_verifiable)
        row(out, "verified", "%llu objects against their ETag, %llu not verifiable",
            (unsigned long long)r->verified, (unsigned long long)r->not_verifiable);
    if (r->folder_markers)
        row(out, "skipped", "%llu folder markers (keys ending in '/')",
            (unsigned long long)r->folder_markers);
    if (r->aborted_uploads)
        row(out, "aborted", "%llu unfinished multipart uploads aborted on the server",
            (unsigned long long)r->aborted_uploads);
    if (r->interrupted)
        row(out, "INTERRUPTED", "stopped by a signal: the counts above are what was done");
    table_latency(r, out);
    row(out, "cpu", "%.2f s user+sys, %.3f s/GiB", r->cpu_s, r->cpu_s_per_GiB);
}

static void table_failed(const struct s3dlio_report *r, FILE *out)
{
    if (r->nfailed == 0)
        return;
    row(out, "failed keys", "%zu%s", r->nfailed,
        r->nfailed > TABLE_FAILED_MAX ? " (first 20; all in the JSON report)" : "");
    for (size_t i = 0; i < r->nfailed && i < TABLE_FAILED_MAX; i++) {
        const struct s3dlio_failed_key *f = &r->failed[i];
        fprintf(out, "    rank %d '%.*s': %.*s\n", f->rank, (int)sizeof(f->key), f->key,
                (int)sizeof(f->error), f->error);
    }
}

static const struct s3dlio_rank_stats *rank_by_id(const struct s3dlio_report *r, int rank)
{
    for (int i = 0; i < r->nranks; i++)
        if (r->ranks[i].rank == rank)
            return &r->ranks[i];
    return NULL;
}

static void table_stragglers(const struct s3dlio_report *r, FILE *out)
{
    if (r->stragglers[0] < 0)
        return;
    double median = median_wall(r);
    for (int k = 0; k < MAX_STRAGGLERS && r->stragglers[k] >= 0; k++) {
        const struct s3dlio_rank_stats *rs = rank_by_id(r, r->stragglers[k]);
        if (!rs)
            continue;
        row(out, k ? "" : "stragglers", "rank %d (%.*s) %.2f s vs median %.2f s", rs->rank,
            (int)sizeof(rs->host), rs->host, rank_wall(rs), median);
    }
}

static void table_per_rank(const struct s3dlio_report *r, FILE *out)
{
    if (r->nranks <= 0 || r->nranks > TABLE_PER_RANK_MAX)
        return;
    fprintf(out, "  %5s %-20s %9s %11s %9s %9s %6s %8s\n", "rank", "host", "objects", "MiB", "s",
            "MB/s", "CPU%", "retries");
    for (int i = 0; i < r->nranks; i++) {
        const struct s3dlio_rank_stats *rs = &r->ranks[i];
        fprintf(out, "  %5d %-20.*s %9llu %11.1f %9.3f %9.1f %6.1f %8llu\n", rs->rank,
                (int)sizeof(rs->host), rs->host, (unsigned long long)rs->objects,
                (double)rs->bytes / MIB, rank_wall(rs), rank_MBps(rs), 100 * rank_cpu_share(rs),
                (unsigned long long)rs->retries);
    }
}

void s3dlio_report_print_table(const struct s3dlio_report *r, FILE *out)
{
    table_header(r, out);
    table_totals(r, out);
    table_failed(r, out);
    table_stragglers(r, out);
    table_per_rank(r, out);
    row(out, "verdict", "%.*s", (int)sizeof(r->verdict), r->verdict);
}

/* ---- JSON ------------------------------------------------------------------------------ */

/* A fixed-size char field as a JSON string, safe even if the sender left no NUL in it. */
static struct json_object *jstr(const char *s, size_t size)
{
    return json_object_new_string_len(s, (int)strnlen(s, size));
}
#define JSTR(field) jstr((field), sizeof(field))

/*
 * A number with a fixed count of decimals, instead of json-c's 17 significant digits.
 * NaN and infinity have no JSON form: they become null, which the schema rejects, so a
 * division that went wrong shows up in the schema test rather than in a consumer.
 */
static struct json_object *jnum(double d, int decimals)
{
    char text[64];
    if (!isfinite(d))
        return NULL;
    snprintf(text, sizeof(text), "%.*f", decimals, d);
    return json_object_new_double_s(d, text);
}

static struct json_object *jlatency(const struct s3dlio_hist *h)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "p50", jnum(ms(s3dlio_hist_quantile(h, 0.50)), 3));
    json_object_object_add(o, "p90", jnum(ms(s3dlio_hist_quantile(h, 0.90)), 3));
    json_object_object_add(o, "p99", jnum(ms(s3dlio_hist_quantile(h, 0.99)), 3));
    json_object_object_add(o, "p999", jnum(ms(s3dlio_hist_quantile(h, 0.999)), 3));
    json_object_object_add(o, "max", jnum(ms(h->max_ns), 3));
    json_object_object_add(o, "mean", jnum(hist_mean_ms(h), 3));
    json_object_object_add(o, "count", json_object_new_uint64(h->n));
    return o;
}

static struct json_object *jtotals(const struct s3dlio_report *r)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "objects", json_object_new_uint64(r->objects));
    json_object_object_add(o, "failures", json_object_new_uint64(r->failures));
    json_object_object_add(o, "bytes", json_object_new_uint64(r->bytes));
    json_object_object_add(o, "requests", json_object_new_uint64(r->requests));
    json_object_object_add(o, "retries", json_object_new_uint64(r->retries));
    json_object_object_add(o, "throttled", json_object_new_uint64(r->throttled));
    json_object_object_add(o, "server_errors", json_object_new_uint64(r->server_errors));
    json_object_object_add(o, "changed", json_object_new_uint64(r->changed));
    json_object_object_add(o, "restarted", json_object_new_uint64(r->restarted));
    json_object_object_add(o, "verified", json_object_new_uint64(r->verified));
    json_object_object_add(o, "not_verifiable", json_object_new_uint64(r->not_verifiable));
    json_object_object_add(o, "folder_markers", json_object_new_uint64(r->folder_markers));
    json_object_object_add(o, "aborted_uploads", json_object_new_uint64(r->aborted_uploads));
    json_object_object_add(o, "backoff_s", jnum(r->backoff_s, 3));
    return o;
}

static struct json_object *jlimit(const struct s3dlio_rank_stats *rs)
{
    struct json_object *o = json_object_new_object(), *t = json_object_new_array();
    json_object_object_add(o, "configured", json_object_new_int(rs->concurrency));
    json_object_object_add(o, "min", json_object_new_uint64(rs->limit_min));
    json_object_object_add(o, "decreases", json_object_new_uint64(rs->limit_decreases));
    for (uint32_t i = 0; i < rs->nlimit_samples && i < S3DLIO_LIMIT_SAMPLES; i++) {
        struct json_object *pt = json_object_new_array();
        json_object_array_add(pt, jnum((double)rs->limit_samples[i].t_ms / 1e3, 3));
        json_object_array_add(pt, json_object_new_uint64(rs->limit_samples[i].limit));
        json_object_array_add(t, pt);
    }
    json_object_object_add(o, "timeline", t);
    return o;
}

static struct json_object *jthroughput(const struct s3dlio_report *r)
{
    struct json_object *o = json_object_new_object(), *rank = json_object_new_object();
    json_object_object_add(rank, "min", jnum(r->rank_MBps_min, 3));
    json_object_object_add(rank, "median", jnum(r->rank_MBps_median, 3));
    json_object_object_add(rank, "max", jnum(r->rank_MBps_max, 3));
    json_object_object_add(o, "aggregate_MBps", jnum(r->throughput_MBps, 3));
    json_object_object_add(o, "rank_MBps", rank);
    return o;
}

static struct json_object *jrank(const struct s3dlio_rank_stats *rs)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "rank", json_object_new_int(rs->rank));
    json_object_object_add(o, "host", JSTR(rs->host));
    json_object_object_add(o, "objects", json_object_new_uint64(rs->objects));
    json_object_object_add(o, "failures", json_object_new_uint64(rs->failures));
    json_object_object_add(o, "bytes", json_object_new_uint64(rs->bytes));
    json_object_object_add(o, "requests", json_object_new_uint64(rs->requests));
    json_object_object_add(o, "retries", json_object_new_uint64(rs->retries));
    json_object_object_add(o, "throttled", json_object_new_uint64(rs->throttled));
    json_object_object_add(o, "server_errors", json_object_new_uint64(rs->server_errors));
    json_object_object_add(o, "wall_s", jnum(rank_wall(rs), 6));
    json_object_object_add(o, "MBps", jnum(rank_MBps(rs), 3));
    json_object_object_add(o, "cpu_user_s", jnum(rs->cpu_user_s, 6));
    json_object_object_add(o, "cpu_sys_s", jnum(rs->cpu_sys_s, 6));
    json_object_object_add(o, "cpu_pct", jnum(100 * rank_cpu_share(rs), 1));
    json_object_object_add(o, "max_inflight", json_object_new_uint64(rs->max_inflight));
    json_object_object_add(o, "concurrency", json_object_new_int(rs->concurrency));
    json_object_object_add(o, "peak_rss_kib", json_object_new_uint64(rs->peak_rss_kib));
    json_object_object_add(o, "memory_capped", json_object_new_boolean(rs->memory_capped));
    json_object_object_add(o, "changed", json_object_new_uint64(rs->changed));
    json_object_object_add(o, "backoff_s", jnum((double)rs->backoff_ms / 1e3, 3));
    json_object_object_add(o, "inflight_limit", jlimit(rs));
    json_object_object_add(o, "interrupted", json_object_new_boolean(rs->interrupted));
    json_object_object_add(o, "total_ms_p50", jnum(ms(s3dlio_hist_quantile(&rs->total, 0.5)), 3));
    json_object_object_add(o, "total_ms_p99", jnum(ms(s3dlio_hist_quantile(&rs->total, 0.99)), 3));
    return o;
}

static struct json_object *jfailed(const struct s3dlio_failed_key *f)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "key", JSTR(f->key));
    json_object_object_add(o, "rank", json_object_new_int(f->rank));
    json_object_object_add(o, "error", JSTR(f->error));
    return o;
}

static void add_lists(struct json_object *o, const struct s3dlio_report *r)
{
    struct json_object *ranks = json_object_new_array(), *failed = json_object_new_array();
    struct json_object *stragglers = json_object_new_array();
    for (int i = 0; i < r->nranks; i++)
        json_object_array_add(ranks, jrank(&r->ranks[i]));
    for (size_t i = 0; i < r->nfailed; i++)
        json_object_array_add(failed, jfailed(&r->failed[i]));
    for (int k = 0; k < MAX_STRAGGLERS && r->stragglers[k] >= 0; k++)
        json_object_array_add(stragglers, json_object_new_int(r->stragglers[k]));
    json_object_object_add(o, "per_rank", ranks);
    json_object_object_add(o, "failed", failed);
    json_object_object_add(o, "stragglers", stragglers);
}

static struct json_object *jreport(const struct s3dlio_report *r)
{
    struct json_object *o = json_object_new_object(), *lat = json_object_new_object();
    struct json_object *imb = json_object_new_object(), *cpu = json_object_new_object();
    json_object_object_add(o, "schema", json_object_new_string("s3dlio-mpi/report"));
    json_object_object_add(o, "version", json_object_new_int(1));
    json_object_object_add(o, "run_id", JSTR(r->run_id));
    json_object_object_add(o, "command", JSTR(r->command));
    json_object_object_add(o, "source", JSTR(r->source));
    json_object_object_add(o, "destination", JSTR(r->destination));
    json_object_object_add(o, "partition", JSTR(r->partition));
    json_object_object_add(o, "ranks", json_object_new_int(r->nranks));
    json_object_object_add(o, "totals", jtotals(r));
    json_object_object_add(o, "throughput", jthroughput(r));
    json_object_object_add(imb, "bytes", jnum(r->imbalance_bytes, 4));
    json_object_object_add(imb, "time", jnum(r->imbalance_time, 4));
    json_object_object_add(o, "imbalance", imb);
    json_object_object_add(lat, "ttfb", jlatency(&r->ttfb));
    json_object_object_add(lat, "total", jlatency(&r->total));
    json_object_object_add(o, "latency_ms", lat);
    json_object_object_add(cpu, "cpu_s", jnum(r->cpu_s, 6));
    json_object_object_add(cpu, "cpu_s_per_GiB", jnum(r->cpu_s_per_GiB, 6));
    json_object_object_add(o, "cpu", cpu);
    json_object_object_add(o, "list_s", jnum(r->list_s, 6));
    json_object_object_add(o, "wall_s", jnum(r->wall_s, 6));
    json_object_object_add(o, "interrupted", json_object_new_boolean(r->interrupted));
    add_lists(o, r);
    json_object_object_add(o, "verdict", JSTR(r->verdict));
    return o;
}

enum s3dlio_rc s3dlio_report_write_json(const struct s3dlio_report *r, FILE *out)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    struct json_object *o = jreport(r);
    const char *text = json_object_to_json_string_ext(
        o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!text)
        rc = S3DLIO_E_INTERNAL;
    else if (fputs(text, out) == EOF || fputc('\n', out) == EOF || fflush(out) == EOF)
        rc = S3DLIO_E_IO;
    json_object_put(o);
    return rc;
}
