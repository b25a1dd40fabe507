/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bench sync report (include/s3dlio/rounds_report.h): per-round figures from the ranks'
 * own times, percentiles over rounds, who was slowest, and the table for people. Every
 * ratio divides by a time measured on one rank, so no two nodes' clocks are ever compared.
 */
#include "s3dlio/rounds_report.h"
#include "stats/report_int.h"

#include <math.h> /* NAN, isnan: macros; the core links no libm */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

#define TABLE_MATRIX_RANKS  16 /* the rank x round matrix only for small jobs */
#define TABLE_MATRIX_ROUNDS 12
#define TABLE_ROUNDS_MAX    50 /* per-round rows; past it the first and last ones */
#define TABLE_SLOWEST_MAX   5

uint64_t s3dlio_sync_key_hash(const char *key)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of v[0..n) sorted, NANs left out; linear between closest ranks (numpy's default). */
static double quantile(const double *sorted, size_t n, double q)
{
    if (!n)
        return NAN;
    double at = q * (double)(n - 1);
    size_t lo = (size_t)at;
    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (at - (double)lo);
}

/* p50/p90/max of a figure of every round, read at byte offset off of struct s3dlio_sync_round. */
static struct s3dlio_sync_pct percentiles(const struct s3dlio_rounds_report *r, size_t off)
{
    double *v = s3dlio_xcalloc((size_t)r->nrounds + 1, sizeof(*v));
    size_t n = 0;
    for (int i = 0; i < r->nrounds; i++) {
        double x;
        memcpy(&x, (const char *)&r->rounds[i] + off, sizeof(x));
        if (!isnan(x))
            v[n++] = x;
    }
    qsort(v, n, sizeof(*v), cmp_double);
    struct s3dlio_sync_pct p = { quantile(v, n, 0.5), quantile(v, n, 0.9), n ? v[n - 1] : NAN };
    free(v);
    return p;
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : NAN;
}

/* One round from its samples: the slowest over all ranks, the rest over ranks that had work. */
static void build_round(const struct s3dlio_rounds_report *r, int i, struct s3dlio_sync_round *o,
                        double *busy)
{
    size_t nbusy = 0;
    double wmin = INFINITY, wmax = -INFINITY;
    memset(o, 0, sizeof(*o));
    o->slowest_rank = o->fastest_rank = -1;
    o->fastest_s = NAN;
    for (int k = 0; k < r->nranks; k++) {
        const struct s3dlio_sync_sample *s = s3dlio_sync_at(r, i, k);
        o->bytes += s->bytes;
        o->objects += s->objects;
        o->failures += s->failures;
        wmin = s->wait_s < wmin ? s->wait_s : wmin;
        wmax = s->wait_s > wmax ? s->wait_s : wmax;
        if (o->slowest_rank < 0 || s->seconds > o->slowest_s) {
            o->slowest_s = s->seconds;
            o->slowest_rank = k;
        }
        if (!s->objects)
            continue;
        busy[nbusy++] = s->seconds;
        if (o->fastest_rank < 0 || s->seconds < o->fastest_s) {
            o->fastest_s = s->seconds;
            o->fastest_rank = k;
        }
    }
    qsort(busy, nbusy, sizeof(*busy), cmp_double);
    o->median_s = quantile(busy, nbusy, 0.5);
    o->spread_max_min = ratio(o->slowest_s, o->fastest_s);
    o->spread_max_median = ratio(o->slowest_s, o->median_s);
    o->skew_s = r->nranks ? wmax - wmin : 0;
    o->MBps = o->slowest_s > 0 ? (double)o->bytes / o->slowest_s / 1e6 : NAN;
}

void s3dlio_rounds_report_build(struct s3dlio_rounds_report *r)
{
    s3dlio_rounds_report_release(r);
    r->rounds = s3dlio_xcalloc((size_t)r->nrounds + 1, sizeof(*r->rounds));
    r->slowest_count = s3dlio_xcalloc((size_t)r->nranks + 1, sizeof(*r->slowest_count));
    double *busy = s3dlio_xcalloc((size_t)r->nranks + 1, sizeof(*busy));
    double bytes = 0, slowest = 0, rates = 0;
    int nrates = 0;
    for (int i = 0; i < r->nrounds; i++) {
        struct s3dlio_sync_round *o = &r->rounds[i];
        build_round(r, i, o, busy);
        if (o->slowest_rank >= 0)
            r->slowest_count[o->slowest_rank]++;
        bytes += (double)o->bytes;
        slowest += o->slowest_s;
        if (!isnan(o->MBps))
            rates += o->MBps, nrates++;
    }
    free(busy);
    r->round_s = percentiles(r, offsetof(struct s3dlio_sync_round, slowest_s));
    r->spread_max_min = percentiles(r, offsetof(struct s3dlio_sync_round, spread_max_min));
    r->spread_max_median = percentiles(r, offsetof(struct s3dlio_sync_round, spread_max_median));
    r->skew_s = percentiles(r, offsetof(struct s3dlio_sync_round, skew_s));
    r->mean_MBps = nrates ? rates / nrates : NAN;
    r->sustained_MBps = slowest > 0 ? bytes / slowest / 1e6 : NAN;
}

void s3dlio_rounds_report_release(struct s3dlio_rounds_report *r)
{
    free(r->rounds);
    free(r->slowest_count);
    r->rounds = NULL;
    r->slowest_count = NULL;
}

size_t s3dlio_sync_slowest_ranks(const struct s3dlio_rounds_report *r, int *out)
{
    size_t n = 0;
    for (int k = 0; r->slowest_count && k < r->nranks; k++)
        if (r->slowest_count[k])
            out[n++] = k;
    /* insertion sort: stable, so ties keep the lower rank first */
    for (size_t i = 1; i < n; i++) {
        int k = out[i];
        size_t j = i;
        for (; j > 0 && r->slowest_count[out[j - 1]] < r->slowest_count[k]; j--)
            out[j] = out[j - 1];
        out[j] = k;
    }
    return n;
}

/* ---- the table ------------------------------------------------------------------------- */


/* A number as table text: "-" when it is not one (NAN: no time to divide by). */
static const char *num(double v, int decimals, char *buf, size_t len)
{
    if (isnan(v))
        return "-";
    snprintf(buf, len, "%.*f", decimals, v);
    return buf;
}

static const char *host_of(const struct s3dlio_rounds_report *r, int rank)
{
    return r->hosts && rank >= 0 && rank < r->nranks ? r->hosts[rank] : "?";
}

static void table_header(const struct s3dlio_rounds_report *r, FILE *out)
{
    fprintf(out, "s3dlio-mpi bench sync report%s%.*s\n", r->run_id[0] ? ", run " : "",
            (int)sizeof(r->run_id), r->run_id);
    s3dlio_rep_row(out, "source", "%s", r->source);
    if (r->write)
        s3dlio_rep_row(out, "mode", "write: PUT of generated data under %s (removed after)", r->scratch);
    else
        s3dlio_rep_row(out, "mode", "read: GET, bytes discarded");
    if (r->shuffle)
        s3dlio_rep_row(out, "assignment", "shuffled every round (seed %llu + round - 1), %d ranks",
            (unsigned long long)r->seed, r->nranks);
    else
        s3dlio_rep_row(out, "assignment", "balanced by bytes, the same every round, %d ranks", r->nranks);
    s3dlio_rep_row(out, "dataset", "%llu objects, %.1f MB, listed in %.3f s (rank 0, once)",
        (unsigned long long)r->listed, (double)r->dataset_bytes / 1e6, r->list_s);
    s3dlio_rep_row(out, "rounds", "%d of %d%s", r->nrounds, r->rounds_asked,
        r->interrupted                 ? " (interrupted)"
        : r->nrounds < r->rounds_asked ? " (stopped by a failure)"
                                       : "");
}

static void table_round(const struct s3dlio_rounds_report *r, int i, FILE *out)
{
    const struct s3dlio_sync_round *o = &r->rounds[i];
    char a[32], b[32], c[32], d[32], e[32], failed[48] = "";
    if (o->failures)
        snprintf(failed, sizeof(failed), ", %llu failed", (unsigned long long)o->failures);
    fprintf(out, "  %5d %10.3f %10s %10s %8s %8s %9.2f %9s  %d (%s)%s\n", i + 1, o->slowest_s,
            num(o->fastest_s, 3, a, sizeof(a)), num(o->median_s, 3, b, sizeof(b)),
            num(o->spread_max_min, 2, c, sizeof(c)), num(o->spread_max_median, 2, d, sizeof(d)),
            o->skew_s * 1e3, num(o->MBps, 1, e, sizeof(e)), o->slowest_rank,
            host_of(r, o->slowest_rank), failed);
}

static void table_rounds(const struct s3dlio_rounds_report *r, FILE *out)
{
    fprintf(out, "\n  %5s %10s %10s %10s %8s %8s %9s %9s  %s\n", "round", "slowest s", "fastest s",
            "median s", "max/min", "max/med", "skew ms", "MB/s", "slowest rank");
    for (int i = 0; i < r->nrounds; i++) {
        if (r->nrounds > TABLE_ROUNDS_MAX && i == TABLE_ROUNDS_MAX / 2) {
            fprintf(out, "  %5s (%d rounds more in the JSON)\n", "...",
                    r->nrounds - TABLE_ROUNDS_MAX);
            i = r->nrounds - TABLE_ROUNDS_MAX / 2;
        }
        table_round(r, i, out);
    }
    fputc('\n', out);
}

static void pct_row(FILE *out, const char *label, const struct s3dlio_sync_pct *p, double scale,
                    int decimals)
{
    char a[32], b[32], c[32];
    s3dlio_rep_row(out, label, "p50 %s, p90 %s, max %s", num(p->p50 * scale, decimals, a, sizeof(a)),
        num(p->p90 * scale, decimals, b, sizeof(b)), num(p->max * scale, decimals, c, sizeof(c)));
}

static void table_slowest(const struct s3dlio_rounds_report *r, FILE *out)
{
    int *order = s3dlio_xcalloc((size_t)r->nranks + 1, sizeof(*order));
    size_t n = s3dlio_sync_slowest_ranks(r, order);
    fprintf(out, "  %-14s", "slowest most");
    for (size_t i = 0; i < n && i < TABLE_SLOWEST_MAX; i++)
        fprintf(out, "%srank %d (%s) %d of %d", i ? ", " : "", order[i], host_of(r, order[i]),
                r->slowest_count[order[i]], r->nrounds);
    fprintf(out, "%s\n", n > TABLE_SLOWEST_MAX ? ", ..." : n ? "" : "-");
    free(order);
}

/* Every rank's time per round, for jobs small enough to read it. */
static void table_matrix(const struct s3dlio_rounds_report *r, FILE *out)
{
    if (r->nranks > TABLE_MATRIX_RANKS || r->nrounds > TABLE_MATRIX_ROUNDS || !r->nrounds)
        return;
    fprintf(out, "\n  %-14s", "seconds");
    for (int i = 0; i < r->nrounds; i++)
        fprintf(out, " %7s%-2d", "round ", i + 1);
    fputc('\n', out);
    for (int k = 0; k < r->nranks; k++) {
        char label[32];
        snprintf(label, sizeof(label), "rank %d", k);
        fprintf(out, "  %-14s", label);
        for (int i = 0; i < r->nrounds; i++)
            fprintf(out, " %8.3f%s", s3dlio_sync_at(r, i, k)->seconds,
                    r->rounds[i].slowest_rank == k ? "*" : " ");
        fputc('\n', out);
    }
    fprintf(out, "  %-14s(* the slowest rank of the round)\n", "");
}

static void table_tail(const struct s3dlio_rounds_report *r, FILE *out)
{
    if (r->nfailed)
        s3dlio_rep_row(out, "failed", "%zu object(s), first: round %d, rank %d, '%s': %s", r->nfailed,
            r->failed[0].round, r->failed[0].rank, r->failed[0].key, r->failed[0].error);
    if (r->scratch_left)
        s3dlio_rep_row(out, "scratch", "NOT removed: %s (delete it with rm --recursive)", r->scratch);
    for (size_t i = 0; i < r->nfiles; i++)
        s3dlio_rep_row(out, i ? "" : "pictures", "%s", r->files[i].path);
}

void s3dlio_rounds_report_print_table(const struct s3dlio_rounds_report *r, FILE *out)
{
    char a[32], b[32];
    table_header(r, out);
    if (r->nrounds && r->rounds) {
        table_rounds(r, out);
        pct_row(out, "round s", &r->round_s, 1, 3);
        pct_row(out, "max/min", &r->spread_max_min, 1, 2);
        pct_row(out, "max/median", &r->spread_max_median, 1, 2);
        pct_row(out, "skew ms", &r->skew_s, 1e3, 2);
        s3dlio_rep_row(out, "throughput",
            "%s MB/s sustained (all bytes / sum of slowest times), %s MB/s "
            "mean of rounds",
            num(r->sustained_MBps, 1, a, sizeof(a)), num(r->mean_MBps, 1, b, sizeof(b)));
        table_slowest(r, out);
        table_matrix(r, out);
    }
    table_tail(r, out);
}
