/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/stats/timeline_svg.c: the SVG parses as XML (xmllint); one polyline per rank plus the
 * aggregate; the subtitle's peak and mean are the busiest bucket's and the whole run's MB/s as
 * computed here from the bytes; phases by name (escaped); nice tick values; 0 and 1 buckets,
 * 64 ranks ("+N more ranks"), 20,000 buckets (simplified, spikes kept); bad charts and write
 * errors.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "render_check.h"
#include "stats/render.h"

static char *render(const struct s3dlio_timeline_chart *c, enum s3dlio_rc *rc)
{
    struct svg_capture cap;
    struct s3dlio_error err = { 0 };
    *rc = s3dlio_timeline_svg(c, svg_begin(&cap), &err);
    return svg_take(&cap);
}

/* A rank's bytes per bucket: ramps, a plateau, a stall, ranks offset from each other. */
static uint64_t *make_bytes(int nseries, size_t nbuckets, uint64_t seed)
{
    uint64_t *v = malloc((size_t)nseries * nbuckets * sizeof(*v) + 1);
    for (int r = 0; r < nseries; r++)
        for (size_t b = 0; b < nbuckets; b++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t ramp = nbuckets / 10 ? nbuckets / 10 : 1;
            uint64_t base = b < ramp ? 40000000 * b / ramp : 40000000 - 100000 * (uint64_t)r;
            if (r == 1 && b > nbuckets / 2 && b < nbuckets / 2 + 5)
                base = 0; /* a stall */
            v[(size_t)r * nbuckets + b] = base + (seed >> 40) % 3000000;
        }
    return v;
}

/* The number after `key` in the element with id, e.g. "peak " in the subtitle. */
static double number_after(const char *svg, const char *id, const char *key)
{
    const char *p = strstr(svg, id);
    p = p ? strstr(p, key) : NULL;
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

/* Points of the n-th polyline (0-based) into xs/ys (up to max); returns how many. */
static size_t polyline(const char *svg, size_t n, double *xs, double *ys, size_t max)
{
    const char *p = svg;
    for (size_t i = 0; p && i <= n; i++)
        if ((p = strstr(p, "<polyline")) != NULL && i < n)
            p++;
    p = p ? strstr(p, "points=\"") : NULL;
    if (!p)
        return 0;
    p += 8;
    size_t k = 0;
    double x, y;
    int used;
    while (k < max && sscanf(p, "%lf,%lf %n", &x, &y, &used) == 2) {
        xs[k] = x, ys[k++] = y;
        p += used;
    }
    return k;
}

static double min_of(const double *v, size_t n)
{
    double m = INFINITY;
    for (size_t i = 0; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

/* Values of every <text class="cls"> in order; returns how many. */
static size_t ticks(const char *svg, const char *cls, double *v, size_t max)
{
    char key[64];
    snprintf(key, sizeof(key), "class=\"%s\"", cls);
    size_t n = 0;
    for (const char *p = svg; n < max && (p = strstr(p, key)) != NULL; p++) {
        const char *gt = strchr(p, '>');
        v[n++] = strtod(gt + 1, NULL);
    }
    return n;
}

/* Steps between ticks equal, of 1, 2 or 5 x 10^k, from 0. */
static bool nice(const double *v, size_t n)
{
    if (n < 2 || v[0] != 0)
        return false;
    double step = v[1] - v[0], m = step / pow(10, floor(log10(step)));
    bool ok = fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6;
    for (size_t i = 1; i < n; i++)
        ok = ok && fabs(v[i] - v[i - 1] - step) < 1e-6 * step + 1e-9;
    return ok;
}

static void test_basic(void)
{
    enum {
        NS = 4,
        NB = 80,
    };
    uint64_t *bytes = make_bytes(NS, NB, 1);
    static const char *const labels[NS] = { "rank 0 (node07)", "rank 1 (node07)", "rank 2 (node08)",
                                            "rank 3 (node08)" };
    static const struct s3dlio_timeline_phase phases[] = {
        { "list", -1.0, 0.6 }, /* starts before the axis */
        { "download", 0.6, 7.2 },
        { "verify & fsync", 7.2, 99.0 }, /* ends after it */
        { "outside", 20.0, 30.0 },       /* nothing of it on the axis */
    };
    struct s3dlio_timeline_chart c = { .title = "stage s3://bucket/data: 4 ranks",
                                       .bucket_s = 0.1,
                                       .nbuckets = NB,
                                       .nseries = NS,
                                       .bytes = bytes,
                                       .labels = labels,
                                       .phases = phases,
                                       .nphases = NELEM(phases) };
    enum s3dlio_rc rc;
    char *svg = render(&c, &rc);
    CHECK_INT(rc, S3DLIO_OK, "render");
    CHECK(xml_wellformed(svg, "timeline-basic"), "well-formed");
    CHECK_INT(count_of(svg, "<polyline"), NS + 1, "one polyline per rank plus the aggregate");
    CHECK_INT(count_of(svg, "<polyline class=\"agg\""), 1, "one aggregate line");
    for (int r = 0; r < NS; r++)
        CHECK(strstr(svg, labels[r]) != NULL, labels[r]);

    /* peak and mean from the bytes, independently of the renderer */
    uint64_t best = 0, sum = 0;
    for (size_t b = 0; b < NB; b++) {
        uint64_t agg = 0;
        for (int r = 0; r < NS; r++)
            agg += bytes[(size_t)r * NB + b];
        best = agg > best ? agg : best;
        sum += agg;
    }
    double want_peak = (double)best / 0.1 / 1e6, want_mean = (double)sum / (NB * 0.1) / 1e6;
    double peak = number_after(svg, "id=\"subtitle\"", "peak ");
    double mean = number_after(svg, "id=\"subtitle\"", "mean ");
    if (!(fabs(peak - want_peak) <= 0.051))
        fprintf(stderr, "  peak got %.3f, want %.3f\n", peak, want_peak);
    CHECK(fabs(peak - want_peak) <= 0.051, "subtitle peak = busiest bucket's MB/s");
    CHECK(fabs(mean - want_mean) <= 0.051, "subtitle mean = all bytes over the run");

    CHECK(strstr(svg, "<title>list: ") != NULL, "phase list");
    CHECK(strstr(svg, "<title>download: ") != NULL, "phase download");
    CHECK(strstr(svg, "<title>verify &amp; fsync: ") != NULL, "phase name escaped");
    CHECK(strstr(svg, "outside") == NULL, "a phase off the axis is not drawn");
    CHECK(strstr(svg, ">seconds</text>") && strstr(svg, ">MB/s</text>"), "axis names");
    CHECK_INT(count_of(svg, "class=\"frame\""), 1, "4 ranks share the aggregate's axis");

    double v[64];
    size_t ny = ticks(svg, "ytick", v, 64);
    CHECK(ny >= 3 && ny <= 12 && nice(v, ny), "y ticks are nice numbers from 0");
    CHECK(v[ny - 1] >= want_peak, "y axis reaches the peak");
    size_t nx = ticks(svg, "xtick", v, 64);
    CHECK(nx >= 3 && nx <= 12 && nice(v, nx), "x ticks are nice numbers from 0");
    CHECK(v[nx - 1] <= NB * 0.1 + 1e-9, "x ticks within the run");

    /* the aggregate's highest point is the peak marker */
    double xs[256], ys[256];
    size_t n = polyline(svg, NS, xs, ys, 256);
    CHECK_INT(n, NB, "a point per bucket");
    double cy = number_after(svg, "<circle", "cy=\"");
    CHECK(fabs(min_of(ys, n) - cy) < 0.11, "the peak marker sits on the aggregate's top");

    char *again = render(&c, &rc);
    CHECK(!strcmp(svg, again), "same chart, same bytes");
    free(again);
    free(svg);
    free(bytes);
}

static void test_edges(void)
{
    struct s3dlio_timeline_chart c = { .title = "empty", .bucket_s = 0.1 };
    enum s3dlio_rc rc;
    char *svg = render(&c, &rc);
    CHECK_INT(rc, S3DLIO_OK, "0 buckets renders");
    CHECK(xml_wellformed(svg, "timeline-empty"), "0 buckets well-formed");
    CHECK(strstr(svg, "no data") != NULL, "0 buckets says no data");
    CHECK_INT(count_of(svg, "<polyline"), 0, "0 buckets: no lines");
    free(svg);

    uint64_t one[2] = { 25000000, 5000000 }; /* 2 ranks x 1 bucket */
    c = (struct s3dlio_timeline_chart){
        .bucket_s = 0.1, .nbuckets = 1, .nseries = 2, .bytes = one
    };
    svg = render(&c, &rc);
    CHECK_INT(rc, S3DLIO_OK, "1 bucket renders");
    CHECK(xml_wellformed(svg, "timeline-one"), "1 bucket well-formed");
    CHECK_INT(count_of(svg, "<polyline"), 3, "1 bucket: 2 ranks + aggregate");
    double xs[8], ys[8];
    for (size_t i = 0; i < 3; i++)
        CHECK_INT(polyline(svg, i, xs, ys, 8), 2, "1 bucket: a line across the bucket");
    CHECK(fabs(number_after(svg, "id=\"subtitle\"", "peak ") - 300.0) < 0.051, "1 bucket peak");
    CHECK(strstr(svg, "rank 0") && strstr(svg, "rank 1"), "default labels");
    free(svg);

    /* all zero: a flat line at 0, still an axis */
    uint64_t zero[3] = { 0 };
    c = (struct s3dlio_timeline_chart){ .bucket_s = 1, .nbuckets = 3, .nseries = 1, .bytes = zero };
    svg = render(&c, &rc);
    CHECK(rc == S3DLIO_OK && xml_wellformed(svg, "timeline-zero"), "all zero");
    CHECK(fabs(number_after(svg, "id=\"subtitle\"", "peak ")) < 1e-9, "all zero peak 0");
    free(svg);

    struct s3dlio_error err = { 0 };
    c = (struct s3dlio_timeline_chart){ .bucket_s = 0, .nbuckets = 1, .nseries = 1, .bytes = one };
    CHECK_INT(s3dlio_timeline_svg(&c, stdout, &err), S3DLIO_E_USAGE, "bucket_s 0");
    c.bucket_s = 0.1, c.bytes = NULL;
    CHECK_INT(s3dlio_timeline_svg(&c, stdout, &err), S3DLIO_E_USAGE, "no bytes");
    c.bytes = one, c.bucket_s = 1e-12;
    CHECK_INT(s3dlio_timeline_svg(&c, stdout, &err), S3DLIO_E_USAGE, "bucket_s below 1 ns");
    c.bucket_s = NAN;
    CHECK_INT(s3dlio_timeline_svg(&c, stdout, &err), S3DLIO_E_USAGE, "bucket_s NaN");
    c.bucket_s = 0.1, c.nseries = -1;
    CHECK_INT(s3dlio_timeline_svg(&c, stdout, NULL), S3DLIO_E_USAGE, "negative series");

    FILE *full = full_device();
    if (full) {
        c.nseries = 2;
        CHECK_INT(s3dlio_timeline_svg(&c, full, &err), S3DLIO_E_IO, "write error is E_IO");
        fclose(full);
    }
}

static void test_many_series(void)
{
    enum {
        NS = 64,
        NB = 300,
    };
    uint64_t *bytes = make_bytes(NS, NB, 2);
    char *labels[NS];
    for (int r = 0; r < NS; r++)
        if (asprintf(&labels[r], "rank %d (node%02d)", r, r / 8) < 0)
            labels[r] = NULL;
    static const struct s3dlio_timeline_phase phases[] = { { "list", 0, 0.3 },
                                                           { "download", 0.3, 30 } };
    struct s3dlio_timeline_chart c = { .title = "64 ranks",
                                       .bucket_s = 0.1,
                                       .nbuckets = NB,
                                       .nseries = NS,
                                       .bytes = bytes,
                                       .labels = (const char *const *)labels,
                                       .phases = phases,
                                       .nphases = NELEM(phases) };
    enum s3dlio_rc rc;
    char *svg = render(&c, &rc);
    CHECK_INT(rc, S3DLIO_OK, "64 ranks render");
    CHECK(xml_wellformed(svg, "timeline-64"), "64 ranks well-formed");
    CHECK_INT(count_of(svg, "<polyline"), NS + 1, "64 ranks: 65 lines");
    /* every rank's line names it for hovering */
    size_t titled = 0;
    for (int r = 0; r < NS; r++) {
        char t[64];
        snprintf(t, sizeof(t), "<title>%s</title></polyline>", labels[r]);
        titled += strstr(svg, t) != NULL;
    }
    CHECK_INT(titled, NS, "each rank's line has its label as title");
    const char *leg = strstr(svg, "<g class=\"legend\">");
    int more = 0;
    const char *m = leg ? strstr(leg, ">+") : NULL;
    CHECK(m && sscanf(m, ">+%d more ranks", &more) == 1, "+N more ranks");
    size_t entries = leg ? count_of(leg, "<line ") : 0;
    CHECK(entries >= 2 && entries <= 14, "legend of about a dozen entries");
    CHECK_INT((size_t)more + entries - 1, NS, "legend ranks + N more = all ranks");
    /* 64 ranks would be a line along the x axis under the aggregate: they get their own axis */
    CHECK_INT(count_of(svg, "class=\"frame\""), 2, "ranks in a panel of their own");
    CHECK(strstr(svg, ">MB/s per rank</text>") != NULL, "the ranks' axis is named");
    CHECK(strstr(svg, ">list</text>") != NULL, "a narrow phase keeps its whole name");
    free(svg);
    free(bytes);
    for (int r = 0; r < NS; r++)
        free(labels[r]);
}

/* 20,000 buckets: lines simplified to a few points per pixel, and a one-bucket spike kept. */
static void test_long_run(void)
{
    enum {
        NS = 8,
        NB = 20000,
        SPIKE = 12345,
    };
    uint64_t *bytes = make_bytes(NS, NB, 3);
    bytes[3 * (size_t)NB + SPIKE] = 2000000000; /* rank 3: 20 GB/s for 0.1 s */
    struct s3dlio_timeline_chart c = {
        .bucket_s = 0.1, .nbuckets = NB, .nseries = NS, .bytes = bytes
    };
    enum s3dlio_rc rc;
    char *svg = render(&c, &rc);
    CHECK_INT(rc, S3DLIO_OK, "20k buckets render");
    CHECK(xml_wellformed(svg, "timeline-long"), "20k buckets well-formed");
    static double xs[NB], ys[NB];
    size_t worst = 0;
    for (size_t i = 0; i <= NS; i++) {
        size_t n = polyline(svg, i, xs, ys, NB);
        worst = n > worst ? n : worst;
    }
    CHECK(worst > 100 && worst <= 2 * 1200, "lines simplified to at most 2 points per pixel");
    size_t na = polyline(svg, NS, xs, ys, NB);
    double agg_top = min_of(ys, na), cy = number_after(svg, "<circle", "cy=\"");
    CHECK(fabs(agg_top - cy) < 0.11, "the aggregate keeps its peak");
    size_t n3 = polyline(svg, 3, xs, ys, NB);
    double peak = number_after(svg, "id=\"subtitle\"", "peak ");
    uint64_t want = 0;
    for (int r = 0; r < NS; r++)
        want += bytes[(size_t)r * NB + SPIKE];
    /* heights above the x axis (the plot frame's bottom edge) in the ratio of the bytes */
    double fy = number_after(svg, "class=\"frame\"", "y=\""),
           fh = number_after(svg, "class=\"frame\"", "height=\"");
    double ratio = (fy + fh - min_of(ys, n3)) / (fy + fh - agg_top);
    CHECK(fabs(ratio - 2e9 / (double)want) < 0.01, "rank 3's one-bucket spike survives");
    CHECK(fabs(peak - (double)want / 0.1 / 1e6) <= 0.051, "peak of the spike bucket");
    free(svg);
    free(bytes);
}

int main(void)
{
    test_basic();
    test_edges();
    test_many_series();
    test_long_run();
    TEST_DONE();
}
