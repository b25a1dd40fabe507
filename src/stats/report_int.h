/* SPDX-License-Identifier: Apache-2.0 */
/* What the report's builder, table and JSON printers share (src/stats/report*.c). */
#ifndef S3DLIO_STATS_REPORT_INT_H
#define S3DLIO_STATS_REPORT_INT_H

#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "s3dlio/stats.h"

#define S3DLIO_REP_MAX_STRAGGLERS 7 /* stragglers[8] keeps room for the -1 terminator */
#define S3DLIO_REP_GIB 1073741824.0
#define S3DLIO_REP_MIB 1048576.0

/* A rank's wall time from the common barrier to its own end. */
double s3dlio_rep_rank_wall(const struct s3dlio_rank_stats *rs);
/* Whether a rate over wall_s seconds means anything (see S3DLIO_RATE_MIN_WALL_S). */
bool s3dlio_rep_rate_measurable(double wall_s);
/* NAN when the rank's time is too short for a rate. */
double s3dlio_rep_rank_MBps(const struct s3dlio_rank_stats *rs);
/* Fraction of one core the rank used; NAN when its time is too short to tell. */
double s3dlio_rep_rank_cpu_share(const struct s3dlio_rank_stats *rs);
/* Median wall time of the ranks that moved bytes (all ranks when none did). */
double s3dlio_rep_median_wall(const struct s3dlio_report *r);
/*
 * s shortened to at most max bytes for display: head and tail around "...", cut on UTF-8
 * character boundaries. out has room for max + 1 bytes.
 */
const char *s3dlio_rep_shorten(const char *s, size_t max, char *out, size_t outlen);

/* One "  label         value" line of a table (the run report's, bench sync's). */
void s3dlio_rep_row(FILE *out, const char *label, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline double s3dlio_rep_ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static inline double s3dlio_rep_hist_mean_ms(const struct s3dlio_hist *h)
{
    return h->n ? (double)h->sum_ns / (double)h->n / 1e6 : 0;
}

#endif
