/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Log-linear latency histogram (see stats.h). Bucket b = decade * 16 + sub: decade k covers
 * [2^k us, 2^(k+1) us) in 16 equal sub-buckets, so a bucket is never wider than 1/16 of its
 * lower edge and reporting its top value is off by less than 6.25%.
 */
#include "s3dlio/stats.h"

#define FIRST_EDGE_NS 1000u /* decade 0 starts at 1 us */
#define LAST_BUCKET   (S3DLIO_HIST_BUCKETS - 1)

void s3dlio_hist_add(struct s3dlio_hist *h, uint64_t ns)
{
    h->counts[s3dlio_hist_bucket(ns)]++;
    h->n++;
    h->sum_ns += ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

void s3dlio_hist_merge(struct s3dlio_hist *into, const struct s3dlio_hist *from)
{
    for (size_t i = 0; i < S3DLIO_HIST_BUCKETS; i++)
        into->counts[i] += from->counts[i];
    into->n += from->n;
    into->sum_ns += from->sum_ns;
    if (from->max_ns > into->max_ns)
        into->max_ns = from->max_ns;
}

size_t s3dlio_hist_bucket(uint64_t ns)
{
    uint64_t us = ns / FIRST_EDGE_NS;
    if (us == 0)
        return 0; /* below 1 us: counted with the first bucket */
    /* floor(log2(ns / 1000)) equals floor(log2(floor(ns / 1000))) since 2^k is an integer */
    size_t decade = (size_t)(63 - __builtin_clzll(us));
    if (decade >= S3DLIO_HIST_DECADES)
        return LAST_BUCKET;
    uint64_t base = (uint64_t)FIRST_EDGE_NS << decade;
    /* no overflow: (ns - base) * 16 < 16 * base < 2^46 in the last decade */
    size_t sub = (size_t)((ns - base) * S3DLIO_HIST_SUB / base);
    return decade * S3DLIO_HIST_SUB + sub;
}

/*
 * The largest value in ns that falls in the bucket (its inclusive top). The exact edge
 * base * (17 + sub) / 16 is fractional in the first decades; the values below it, rounded up,
 * minus one, are exactly those the bucket holds.
 */
uint64_t s3dlio_hist_bucket_upper(size_t bucket)
{
    if (bucket > LAST_BUCKET)
        bucket = LAST_BUCKET;
    size_t decade = bucket / S3DLIO_HIST_SUB, sub = bucket % S3DLIO_HIST_SUB;
    uint64_t base = (uint64_t)FIRST_EDGE_NS << decade;
    uint64_t scaled = base * (S3DLIO_HIST_SUB + 1 + sub);
    return (scaled + S3DLIO_HIST_SUB - 1) / S3DLIO_HIST_SUB - 1;
}

/* The 1-based rank ceil(q * n) of the value at quantile q, within [1, n]. */
static uint64_t quantile_rank(double q, uint64_t n)
{
    if (!(q > 0)) /* also NaN */
        return 1;
    if (q >= 1.0)
        return n;
    double r = q * (double)n;
    uint64_t want = (uint64_t)r;
    if ((double)want < r)
        want++;
    return want ? want : 1;
}

uint64_t s3dlio_hist_quantile(const struct s3dlio_hist *h, double q)
{
    if (h->n == 0)
        return 0;
    uint64_t want = quantile_rank(q, h->n), seen = 0;
    size_t b = 0;
    for (; b < LAST_BUCKET; b++) {
        seen += h->counts[b];
        if (seen >= want)
            break;
    }
    /* the last bucket is open-ended (it holds everything past ~1.2 h): only max bounds it */
    if (b == LAST_BUCKET)
        return h->max_ns;
    uint64_t upper = s3dlio_hist_bucket_upper(b);
    return upper < h->max_ns ? upper : h->max_ns;
}
