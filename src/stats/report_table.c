/* SPDX-License-Identifier: Apache-2.0 */
/* The report as a table for people (like s3dlio's performance table). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "s3dlio/stats.h"
#include "stats/report_int.h"

#define TABLE_FAILED_MAX   20   /* failed keys listed in the table (JSON lists all) */
#define TABLE_PER_RANK_MAX 16   /* per-rank table only for small jobs */
#define TABLE_TEXT_MAX     300  /* a failed key or error in the table (JSON has them whole) */

/* ---- the table ------------------------------------------------------------------------- */

void s3dlio_rep_row(FILE *out, const char *label, const char *fmt, ...)
{
    va_list ap;
    fprintf(out, "  %-13s ", label); /* a longer label still leaves a space before its value */
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
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
    s3dlio_rep_row(out, "latency ms", "%9s %9s %9s %9s %9s %9s %10s", "p50", "p90", "p99", "p99.9", "max",
        "mean", "count");
    for (size_t i = 0; i < sizeof(hists) / sizeof(hists[0]); i++) {
        const struct s3dlio_hist *h =
            (const struct s3dlio_hist *)((const char *)r + hists[i].offset);
        s3dlio_rep_row(out, hists[i].label, "%9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %10llu",
            s3dlio_rep_ms(s3dlio_hist_quantile(h, 0.50)), s3dlio_rep_ms(s3dlio_hist_quantile(h, 0.90)),
            s3dlio_rep_ms(s3dlio_hist_quantile(h, 0.99)), s3dlio_rep_ms(s3dlio_hist_quantile(h, 0.999)), s3dlio_rep_ms(h->max_ns),
            s3dlio_rep_hist_mean_ms(h), (unsigned long long)h->n);
    }
}

static void table_header(const struct s3dlio_report *r, FILE *out)
{
    fprintf(out, "s3dlio-mpi%s%.*s report%s%.*s\n", r->command[0] ? " " : "",
            (int)sizeof(r->command), r->command, r->run_id[0] ? ", run " : "",
            (int)sizeof(r->run_id), r->run_id);
    s3dlio_rep_row(out, "source", "%.*s", (int)sizeof(r->source), r->source);
    s3dlio_rep_row(out, "destination", "%.*s", (int)sizeof(r->destination), r->destination);
    s3dlio_rep_row(out, "ranks", "%d, partition %.*s", r->nranks, (int)sizeof(r->partition),
        r->partition[0] ? r->partition : "-");
}

/* A rate as table text: the number, or "-" when it was not measurable (NAN). */
static const char *rate_text(double v, int decimals, char *buf, size_t len)
{
    if (isnan(v))
        return "-";
    snprintf(buf, len, "%.*f", decimals, v);
    return buf;
}

/* Listed, done and failed, and what was neither (interrupted, or left by --steal). */
static void table_objects(const struct s3dlio_report *r, FILE *out)
{
    uint64_t settled = r->objects + r->failures;
    char rest[48] = "";
    if (r->listed > settled)
        snprintf(rest, sizeof(rest), ", %llu not done", (unsigned long long)(r->listed - settled));
    s3dlio_rep_row(out, "objects", "%llu listed, %llu done, %llu failed%s", (unsigned long long)r->listed,
        (unsigned long long)r->objects, (unsigned long long)r->failures, rest);
}

static void table_rates(const struct s3dlio_report *r, FILE *out)
{
    if (isnan(r->throughput_MBps))
        s3dlio_rep_row(out, "throughput", "n/a (run under %.1f s)", S3DLIO_RATE_MIN_WALL_S);
    else
        s3dlio_rep_row(out, "throughput", "%.1f MB/s aggregate", r->throughput_MBps);
    if (isnan(r->rank_MBps_median))
        s3dlio_rep_row(out, "rank MB/s", "n/a (no rank ran %.1f s)", S3DLIO_RATE_MIN_WALL_S);
    else
        s3dlio_rep_row(out, "rank MB/s", "min %.1f, median %.1f, max %.1f", r->rank_MBps_min,
            r->rank_MBps_median, r->rank_MBps_max);
}

static void table_cpu(const struct s3dlio_report *r, FILE *out)
{
    if (!isnan(r->cpu_s_per_GiB))
        s3dlio_rep_row(out, "cpu", "%.2f s user+sys, %.3f s/GiB", r->cpu_s, r->cpu_s_per_GiB);
    else if (!s3dlio_rep_rate_measurable(r->wall_s))
        s3dlio_rep_row(out, "cpu", "%.2f s user+sys, s/GiB n/a (run under %.1f s)", r->cpu_s,
            S3DLIO_RATE_MIN_WALL_S);
    else
        s3dlio_rep_row(out, "cpu", "%.2f s user+sys, s/GiB n/a (under %d MiB moved)", r->cpu_s,
            (int)(S3DLIO_RATE_MIN_BYTES / S3DLIO_REP_MIB));
}

static void table_totals(const struct s3dlio_report *r, FILE *out)
{
    table_objects(r, out);
    s3dlio_rep_row(out, "bytes", "%.2f GiB (%llu B)", (double)r->bytes / S3DLIO_REP_GIB, (unsigned long long)r->bytes);
    s3dlio_rep_row(out, "wall", "%.3f s", r->wall_s);
    table_rates(r, out);
    s3dlio_rep_row(out, "imbalance", "time %.2f (max/min wall), bytes %.2f (max/mean)", r->imbalance_time,
        r->imbalance_bytes);
    s3dlio_rep_row(out, "listing", "%.3f s (rank 0, once)", r->list_s);
    s3dlio_rep_row(out, "requests", "%llu (%llu retries)", (unsigned long long)r->requests,
        (unsigned long long)r->retries);
    s3dlio_rep_row(out, "throttled/5xx", "%llu / %llu", (unsigned long long)r->throttled,
        (unsigned long long)r->server_errors);
    if (r->limit_adaptive)
        s3dlio_rep_row(out, "concurrency", "adaptive in-flight target: %u to %u (the JSON report's "
            "inflight_limit.timeline has it over time)", (unsigned)r->limit_min, (unsigned)r->limit_max);
    if (r->limit_decreases)
        s3dlio_rep_row(out, "in flight", "limit cut %llu times (throttled or refused), lowest %u; %.1f s of "
            "backoff over ranks", (unsigned long long)r->limit_decreases, (unsigned)r->limit_min,
            r->backoff_s);
    if (r->changed || r->restarted)
        s3dlio_rep_row(out, "changed", "%llu objects changed during the transfer (%llu fetched again)",
            (unsigned long long)r->changed, (unsigned long long)r->restarted);
    if (r->verified || r->not_verifiable)
        s3dlio_rep_row(out, "verified", "%llu objects against their ETag, %llu not verifiable",
            (unsigned long long)r->verified, (unsigned long long)r->not_verifiable);
    if (r->folder_markers)
        s3dlio_rep_row(out, "skipped", "%llu folder markers (keys ending in '/')",
            (unsigned long long)r->folder_markers);
    if (r->aborted_uploads)
        s3dlio_rep_row(out, "aborted", "%llu unfinished multipart uploads aborted on the server",
            (unsigned long long)r->aborted_uploads);
    if (r->interrupted)
        s3dlio_rep_row(out, "INTERRUPTED", "stopped by a signal: the counts above are what was done");
    table_latency(r, out);
    table_cpu(r, out);
}

static void table_failed(const struct s3dlio_report *r, FILE *out)
{
    if (r->nfailed == 0)
        return;
    if (r->nfailed > TABLE_FAILED_MAX)
        s3dlio_rep_row(out, "failed keys", "%zu (first %d; all in the JSON report)", r->nfailed,
            TABLE_FAILED_MAX);
    else
        s3dlio_rep_row(out, "failed keys", "%zu", r->nfailed);
    for (size_t i = 0; i < r->nfailed && i < TABLE_FAILED_MAX; i++) {
        const struct s3dlio_failed_key *f = &r->failed[i];
        char key[TABLE_TEXT_MAX + 1], error[TABLE_TEXT_MAX + 1];
        fprintf(out, "    rank %d '%s': %s\n", f->rank,
                s3dlio_rep_shorten(f->key ? f->key : "", TABLE_TEXT_MAX, key, sizeof(key)),
                s3dlio_rep_shorten(f->error ? f->error : "", TABLE_TEXT_MAX, error, sizeof(error)));
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
    double median = s3dlio_rep_median_wall(r);
    for (int k = 0; k < S3DLIO_REP_MAX_STRAGGLERS && r->stragglers[k] >= 0; k++) {
        const struct s3dlio_rank_stats *rs = rank_by_id(r, r->stragglers[k]);
        if (!rs)
            continue;
        s3dlio_rep_row(out, k ? "" : "stragglers", "rank %d (%.*s) %.2f s vs median %.2f s", rs->rank,
            (int)sizeof(rs->host), rs->host, s3dlio_rep_rank_wall(rs), median);
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
        char mbps[32], cpu[32];
        fprintf(out, "  %5d %-20.*s %9llu %11.1f %9.3f %9s %6s %8llu\n", rs->rank,
                (int)sizeof(rs->host), rs->host, (unsigned long long)rs->objects,
                (double)rs->bytes / S3DLIO_REP_MIB, s3dlio_rep_rank_wall(rs),
                rate_text(s3dlio_rep_rank_MBps(rs), 1, mbps, sizeof(mbps)),
                rate_text(100 * s3dlio_rep_rank_cpu_share(rs), 1, cpu, sizeof(cpu)),
                (unsigned long long)rs->retries);
    }
}

/* Every picture written, so the user need not look for them. */
static void table_files(const struct s3dlio_report *r, FILE *out)
{
    if (r->profile_hz)
        s3dlio_rep_row(out, "CPU samples", "%llu at %d Hz (%llu dropped)", (unsigned long long)r->prof_samples,
            r->profile_hz, (unsigned long long)r->prof_dropped);
    bool first = true;
    for (size_t i = 0; i < r->nfiles; i++) {
        const struct s3dlio_report_file *f = &r->files[i];
        if (!strcmp(f->kind, "folded"))
            continue; /* beside its .svg, same name */
        if (!strcmp(f->kind, "flamegraph"))
            s3dlio_rep_row(out, first ? "pictures" : "", "%s (%s, %llu samples; .folded beside it)", f->path,
                f->phase, (unsigned long long)f->samples);
        else
            s3dlio_rep_row(out, first ? "pictures" : "", "%s (%s)", f->path, f->kind);
        first = false;
    }
}

void s3dlio_report_print_table(const struct s3dlio_report *r, FILE *out)
{
    table_header(r, out);
    table_totals(r, out);
    table_failed(r, out);
    table_stragglers(r, out);
    table_per_rank(r, out);
    table_files(r, out);
    s3dlio_rep_row(out, "verdict", "%.*s", (int)sizeof(r->verdict), r->verdict);
}
