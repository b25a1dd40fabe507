/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The throughput timeline SVG (see render.h): MB/s per time bucket, the job's aggregate bold
 * over one thin line per rank, the run's phases as shaded bands. Meant to show at a glance
 * whether ranks ran together, which one straggled and which phase the time went to.
 */
#include "stats/render.h"

#include <math.h> /* isfinite: a macro; the core links no libm */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

#define WIDTH        1200
#define HEIGHT       600 /* one panel */
#define HEIGHT_SPLIT 740 /* aggregate and ranks in two panels */
#define PLOT_LEFT    84  /* room for the MB/s tick labels and the axis name */
#define PLOT_TOP     70  /* title and subtitle */
#define PLOT_BOTTOM  56  /* tick labels and "seconds" */
#define PANEL_GAP    22
#define LEGEND_W     232 /* right of the plot */
#define LEGEND_MAX   12  /* ranks named in the legend; more are "+N more ranks" */
#define LEGEND_CHARS 28  /* a rank label in the legend is cut past this */
#define PHASE_ROWS   3   /* rows of phase names before a name is left to its band's title */
#define PHASE_FONT   11
#define PHASE_CHAR   6.6 /* mean advance of PHASE_FONT px Verdana/DejaVu Sans */
#define PHASE_CHARS  40  /* a phase name is cut past this */
#define X_TICKS      10
#define Y_TICKS      6
/* ranks get a panel of their own when their lines would use less than 1/SPLIT_RATIO of the
 * aggregate's height: with 64 ranks they would be a smudge along the x axis */
#define SPLIT_RATIO 6

/* One y axis: a band of the picture and the MB/s it spans. */
struct panel {
    double py0, py1; /* top and bottom, px */
    double ymax, ystep;
    const char *label; /* the axis name */
};

/* Data space to pixels: one x axis, one or two panels (0: aggregate, 1: ranks). */
struct geom {
    double px0, px1;
    double xmax, xstep; /* seconds */
    int height;
    int npanels;
    struct panel p[2];
};

static double gx(const struct geom *g, double s)
{
    return g->px0 + (g->px1 - g->px0) * s / g->xmax;
}

static double gy(const struct panel *p, double mbps)
{
    return p->py1 - (p->py1 - p->py0) * mbps / p->ymax;
}

static double mbps(uint64_t bytes, double bucket_s)
{
    return (double)bytes / bucket_s / 1e6;
}

/* MB/s as people read it: one decimal, three significant digits below 1. */
static void fmt_rate(double v, char *buf, size_t len)
{
    snprintf(buf, len, v >= 1 || v == 0 ? "%.1f" : "%.3g", v);
}

/* ---- data ------------------------------------------------------------------------------- */

/* Sum of the series per bucket (saturating: 64 ranks cannot get near 2^64 bytes in 0.1 s). */
static uint64_t *aggregate(const struct s3dlio_timeline_chart *c)
{
    uint64_t *sum = s3dlio_xcalloc(c->nbuckets, sizeof(*sum));
    for (int r = 0; r < c->nseries; r++) {
        const uint64_t *row = c->bytes + (size_t)r * c->nbuckets;
        for (size_t b = 0; b < c->nbuckets; b++)
            sum[b] = sum[b] > UINT64_MAX - row[b] ? UINT64_MAX : sum[b] + row[b];
    }
    return sum;
}

static size_t busiest(const uint64_t *v, size_t n)
{
    size_t best = 0;
    for (size_t b = 1; b < n; b++)
        if (v[b] > v[best])
            best = b;
    return best;
}

/* The busiest bucket of any one rank. */
static uint64_t rank_peak(const struct s3dlio_timeline_chart *c)
{
    uint64_t best = 0;
    for (size_t i = 0; i < (size_t)c->nseries * c->nbuckets; i++)
        best = c->bytes[i] > best ? c->bytes[i] : best;
    return best;
}

/* A y axis from 0 to a nice tick at or above peak (headroom for phase names on top). */
static void y_scale(struct panel *p, double peak, double headroom)
{
    double want = peak > 0 ? peak * headroom : 1;
    p->ystep = s3dlio_svg_nice_step(want, Y_TICKS);
    double steps = want / p->ystep - 1e-9;
    long long k = (long long)steps; /* ceil, without libm */
    p->ymax = (double)(k + (k < steps)) * p->ystep;
}

static void layout(struct geom *g, const struct s3dlio_timeline_chart *c, double agg_peak,
                   double one_peak)
{
    bool split = c->nseries > 1 && one_peak * SPLIT_RATIO < agg_peak;
    g->npanels = split ? 2 : 1;
    g->height = split ? HEIGHT_SPLIT : HEIGHT;
    g->px0 = PLOT_LEFT;
    g->px1 = WIDTH - LEGEND_W;
    g->xmax = (double)c->nbuckets * c->bucket_s;
    g->xstep = s3dlio_svg_nice_step(g->xmax, X_TICKS);
    double top = PLOT_TOP, bottom = g->height - PLOT_BOTTOM;
    struct panel *a = &g->p[0], *r = &g->p[1];
    *a = (struct panel){ top, bottom, 0, 0, "MB/s" };
    y_scale(a, agg_peak, c->nphases ? 1.15 : 1.02);
    if (split) {
        double mid = top + (bottom - top - PANEL_GAP) * 0.55;
        *a = (struct panel){ top, mid, a->ymax, a->ystep, "aggregate MB/s" };
        *r = (struct panel){ mid + PANEL_GAP, bottom, 0, 0, "MB/s per rank" };
        y_scale(r, one_peak, 1.02);
    }
}

/* ---- drawing ---------------------------------------------------------------------------- */

static void svg_open(FILE *out, int height, const char *title)
{
    char css[640];
    snprintf(css, sizeof(css),
             ".ytick { text-anchor: end; fill: #444; }\n"
             ".xtick, .axis { text-anchor: middle; fill: #444; }\n"
             ".phase text { font-size: %dpx; fill: #333; }\n"
             ".agg { fill: none; stroke: #1b1b1b; stroke-width: 2.4; stroke-linejoin: round; }\n"
             ".s { fill: none; stroke-width: 1.3; stroke-linejoin: round; }\n"
             ".many { stroke-width: 1; stroke-opacity: 0.45; }\n"
             ".s:hover { stroke-width: 2.6; stroke-opacity: 1; }\n"
             ".key { stroke-width: 2.4; }\n",
             PHASE_FONT);
    s3dlio_svg_chart_open(out, WIDTH, height, css);
    fprintf(out, "<text id=\"title\" x=\"%d\" y=\"28\">", WIDTH / 2);
    s3dlio_svg_escapes(out, title);
    fputs("</text>\n", out);
}

static void empty_chart(FILE *out, const char *title)
{
    svg_open(out, HEIGHT, title);
    fprintf(out, "<text id=\"empty\" x=\"%d\" y=\"%d\">no data</text>\n</svg>\n", WIDTH / 2,
            HEIGHT / 2);
}

static void subtitle(FILE *out, const struct s3dlio_timeline_chart *c, const uint64_t *agg)
{
    size_t peak_b = busiest(agg, c->nbuckets);
    double sum = 0;
    for (size_t b = 0; b < c->nbuckets; b++)
        sum += (double)agg[b];
    double dur = (double)c->nbuckets * c->bucket_s;
    int d = s3dlio_svg_step_decimals(c->bucket_s);
    char peak[32], mean[32];
    fmt_rate(mbps(agg[peak_b], c->bucket_s), peak, sizeof(peak));
    fmt_rate(sum / dur / 1e6, mean, sizeof(mean));
    fprintf(out,
            "<text id=\"subtitle\" x=\"%d\" y=\"50\">peak %s MB/s at %.*f s \xC2\xB7 mean %s MB/s"
            " \xC2\xB7 %d rank%s \xC2\xB7 %.*f s</text>\n",
            WIDTH / 2, peak, d + 1, ((double)peak_b + 0.5) * c->bucket_s, mean, c->nseries,
            c->nseries == 1 ? "" : "s", d, dur);
}

static void y_axis(FILE *out, const struct panel *p)
{
    int yd = s3dlio_svg_step_decimals(p->ystep);
    for (int i = 0; i * p->ystep <= p->ymax * (1 + 1e-9); i++) {
        double v = i * p->ystep, y = gy(p, v);
        fprintf(out,
                "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                "<text class=\"ytick\" x=\"%d\" y=\"%.1f\">%.*f</text>\n",
                PLOT_LEFT - 4, y, WIDTH - LEGEND_W, y, PLOT_LEFT - 8, y + 4, yd, v);
    }
    fprintf(out, "<text class=\"axis\" transform=\"translate(22 %.1f) rotate(-90)\">%s</text>\n",
            (p->py0 + p->py1) / 2, p->label);
}

static void axes(FILE *out, const struct geom *g)
{
    int xd = s3dlio_svg_step_decimals(g->xstep);
    const struct panel *last = &g->p[g->npanels - 1];
    fputs("<g class=\"axes\">\n", out);
    for (int k = 0; k < g->npanels; k++)
        y_axis(out, &g->p[k]);
    for (int i = 0; i * g->xstep <= g->xmax * (1 + 1e-9); i++) {
        double v = i * g->xstep, x = gx(g, v);
        for (int k = 0; k < g->npanels; k++)
            fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                    x, g->p[k].py0, x, g->p[k].py1 + (k == g->npanels - 1 ? 5 : 0));
        fprintf(out, "<text class=\"xtick\" x=\"%.1f\" y=\"%.1f\">%.*f</text>\n", x, last->py1 + 20,
                xd, v);
    }
    for (int k = 0; k < g->npanels; k++)
        fprintf(out,
                "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
                g->px0, g->p[k].py0, g->px1 - g->px0, g->p[k].py1 - g->p[k].py0);
    fprintf(out, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\">seconds</text>\n</g>\n",
            (g->px0 + g->px1) / 2, last->py1 + 42);
}

/* Soft tints that stay readable under the lines; phases take them in turn. */
static const char *const phase_fill[] = { "#4e79a7", "#f28e2b", "#59a14f",
                                          "#b07aa1", "#edc948", "#76b7b2" };

/* The first row whose last name ends before x, claimed up to x + w; -1 when none. */
static int claim_row(double *row_end, double x, double w)
{
    for (int r = 0; r < PHASE_ROWS; r++) {
        if (x >= row_end[r]) {
            row_end[r] = x + w + 8;
            return r;
        }
    }
    return -1;
}

/*
 * A phase's name at the top of its band. It may run past a narrow band ("list" over 2 s of
 * 20 minutes) into a free row; when no row is free it is cut to the band, and when that
 * leaves under 3 characters the band's hover title is the only name.
 */
static void phase_label(FILE *out, const struct geom *g, const char *name, double bx, double bw,
                        double *row_end)
{
    size_t len = strlen(name), chars = s3dlio_svg_chars(name, len);
    size_t full = chars < PHASE_CHARS ? chars : PHASE_CHARS;
    double w = (double)full * PHASE_CHAR, x = bx + 4;
    if (x + w > g->px1 - 4) /* past the right edge: end at it instead */
        x = g->px1 - 4 - w > g->px0 + 4 ? g->px1 - 4 - w : g->px0 + 4;
    int row = claim_row(row_end, x, w);
    if (row < 0) {
        full = (size_t)((bw - 8) / PHASE_CHAR);
        x = bx + 4;
        row = full >= 3 ? claim_row(row_end, x, (double)full * PHASE_CHAR) : -1;
    }
    if (row < 0)
        return;
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", x, g->p[0].py0 + 14 + row * 14);
    s3dlio_svg_escape(out, name, len, full);
    fputs("</text>", out);
}

static void phase(FILE *out, const struct geom *g, const struct s3dlio_timeline_phase *p, size_t i,
                  double *row_end)
{
    double s = p->start_s > 0 ? p->start_s : 0, e = p->end_s < g->xmax ? p->end_s : g->xmax;
    if (!(e > s)) /* outside the axis, empty, or NaN */
        return;
    const char *name = p->name ? p->name : "phase";
    double x = gx(g, s), w = gx(g, e) - x;
    fprintf(out, "<g class=\"phase\"><title>");
    s3dlio_svg_escapef(out, "%s: %.2f s to %.2f s", name, p->start_s, p->end_s);
    fputs("</title>", out);
    for (int k = 0; k < g->npanels; k++)
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                "fill-opacity=\"0.13\"/>",
                x, g->p[k].py0, w, g->p[k].py1 - g->p[k].py0,
                phase_fill[i % (sizeof(phase_fill) / sizeof(*phase_fill))]);
    phase_label(out, g, name, x, w, row_end);
    fputs("</g>\n", out);
}

/* A phase's place in left-to-right order. */
struct phase_at {
    double start_s;
    size_t i;
};

static int cmp_phase(const void *a, const void *b)
{
    const struct phase_at *x = a, *y = b;
    if (x->start_s != y->start_s)
        return x->start_s < y->start_s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Left to right, so each name only has to clear the ones before it in its row. */
static void phases(FILE *out, const struct geom *g, const struct s3dlio_timeline_chart *c)
{
    struct phase_at *order = s3dlio_xmalloc((c->nphases + 1) * sizeof(*order));
    for (size_t i = 0; i < c->nphases; i++) /* a NaN start is not drawn: sort it last */
        order[i] = (struct phase_at){
            c->phases[i].start_s == c->phases[i].start_s ? c->phases[i].start_s : HUGE_VAL, i
        };
    qsort(order, c->nphases, sizeof(*order), cmp_phase);
    double row_end[PHASE_ROWS] = { 0 };
    for (size_t i = 0; i < c->nphases; i++)
        phase(out, g, &c->phases[order[i].i], order[i].i, row_end);
    free(order);
}

/*
 * Colours for up to LEGEND_MAX ranks (Tableau 10 and two more); past that, hues spread by the
 * golden angle, drawn translucent since no one tells 64 colours apart anyway.
 */
static void series_colour(int r, int nseries, char *buf, size_t len)
{
    static const char *const few[] = { "#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                       "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                                       "#9c755f", "#bab0ac", "#d37295", "#499894" };
    if (nseries <= LEGEND_MAX)
        snprintf(buf, len, "%s", few[r]);
    else
        snprintf(buf, len, "hsl(%d,62%%,45%%)", (int)(r * 137.508) % 360);
}

static void point(FILE *out, const struct geom *g, const struct panel *p, double t_s, double v)
{
    fprintf(out, "%.1f,%.1f ", gx(g, t_s), gy(p, v));
}

/*
 * One line through the bucket midpoints. With more buckets than half-pixels, each pixel column
 * keeps only its lowest and highest bucket, in time order: the line looks the same, and peaks
 * and dips (a stalled rank) survive, which averaging would smear.
 */
static void polyline_points(FILE *out, const struct geom *g, const struct panel *p,
                            const uint64_t *v, size_t n, double bucket_s)
{
    if (n == 1) { /* a lone midpoint draws nothing: span the bucket */
        point(out, g, p, 0, mbps(v[0], bucket_s));
        point(out, g, p, bucket_s, mbps(v[0], bucket_s));
        return;
    }
    size_t cols = (size_t)(g->px1 - g->px0);
    if (n <= 2 * cols) {
        for (size_t b = 0; b < n; b++)
            point(out, g, p, ((double)b + 0.5) * bucket_s, mbps(v[b], bucket_s));
        return;
    }
    for (size_t c = 0; c < cols; c++) {
        size_t b0 = n * c / cols, b1 = n * (c + 1) / cols, lo = b0, hi = b0;
        for (size_t b = b0; b < b1; b++) {
            if (v[b] < v[lo])
                lo = b;
            if (v[b] > v[hi])
                hi = b;
        }
        size_t first = lo < hi ? lo : hi, second = lo < hi ? hi : lo;
        point(out, g, p, ((double)first + 0.5) * bucket_s, mbps(v[first], bucket_s));
        if (second != first)
            point(out, g, p, ((double)second + 0.5) * bucket_s, mbps(v[second], bucket_s));
    }
}

static const char *series_label(const struct s3dlio_timeline_chart *c, int r, char *buf, size_t len)
{
    if (c->labels && c->labels[r])
        return c->labels[r];
    snprintf(buf, len, "rank %d", r);
    return buf;
}

static void clip_open(FILE *out, const struct geom *g, int k)
{
    const struct panel *p = &g->p[k];
    fprintf(out,
            "<clipPath id=\"plot%d\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
            "height=\"%.1f\"/></clipPath>\n<g clip-path=\"url(#plot%d)\">\n",
            k, g->px0, p->py0 - 2, g->px1 - g->px0, p->py1 - p->py0 + 2, k);
}

/* The ranks' lines first, so the aggregate is drawn over them when they share a panel. */
static void lines(FILE *out, const struct geom *g, const struct s3dlio_timeline_chart *c,
                  const uint64_t *agg)
{
    const struct panel *rp = &g->p[g->npanels - 1];
    clip_open(out, g, g->npanels - 1);
    for (int r = 0; r < c->nseries; r++) {
        char colour[32], buf[32];
        series_colour(r, c->nseries, colour, sizeof(colour));
        fprintf(out, "<polyline class=\"s%s\" stroke=\"%s\" points=\"",
                c->nseries > LEGEND_MAX ? " many" : "", colour);
        polyline_points(out, g, rp, c->bytes + (size_t)r * c->nbuckets, c->nbuckets, c->bucket_s);
        fputs("\"><title>", out);
        s3dlio_svg_escapes(out, series_label(c, r, buf, sizeof(buf)));
        fputs("</title></polyline>\n", out);
    }
    if (g->npanels > 1) {
        fputs("</g>\n", out);
        clip_open(out, g, 0);
    }
    fputs("<polyline class=\"agg\" points=\"", out);
    polyline_points(out, g, &g->p[0], agg, c->nbuckets, c->bucket_s);
    fputs("\"><title>aggregate</title></polyline>\n</g>\n", out);
}

/* A dot on the aggregate's busiest bucket, named on hover. */
static void peak_marker(FILE *out, const struct geom *g, const struct s3dlio_timeline_chart *c,
                        const uint64_t *agg)
{
    size_t b = busiest(agg, c->nbuckets);
    double t = ((double)b + 0.5) * c->bucket_s, v = mbps(agg[b], c->bucket_s);
    char peak[32];
    fmt_rate(v, peak, sizeof(peak));
    fprintf(out,
            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#1b1b1b\"><title>peak %s MB/s at "
            "%.*f s</title></circle>\n",
            gx(g, t), gy(&g->p[0], v), peak, s3dlio_svg_step_decimals(c->bucket_s) + 1, t);
}

static void legend_entry(FILE *out, double x, double y, const char *colour, const char *cls,
                         const char *label)
{
    fprintf(out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" class=\"%s\"/>"
            "<text x=\"%.1f\" y=\"%.1f\">",
            x, y - 4, x + 22, y - 4, colour, cls, x + 30, y);
    s3dlio_svg_escape(out, label, strlen(label), LEGEND_CHARS);
    fputs("</text>\n", out);
}

/* The aggregate, then the first ranks; past LEGEND_MAX the rest are counted, not named. */
static void legend(FILE *out, const struct geom *g, const struct s3dlio_timeline_chart *c)
{
    double x = g->px1 + 18, y = g->p[0].py0 + 12;
    fputs("<g class=\"legend\">\n", out);
    legend_entry(out, x, y, "#1b1b1b", "key", "aggregate");
    int shown = c->nseries <= LEGEND_MAX ? c->nseries : LEGEND_MAX - 1;
    for (int r = 0; r < shown; r++) {
        char colour[32], buf[32];
        series_colour(r, c->nseries, colour, sizeof(colour));
        y += 20;
        legend_entry(out, x, y, colour, "key", series_label(c, r, buf, sizeof(buf)));
    }
    if (shown < c->nseries)
        fprintf(out,
                "<text x=\"%.1f\" y=\"%.1f\">+%d more ranks</text>\n"
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#666\">"
                "(hover a line to name its rank)</text>\n",
                x + 30, y + 22, c->nseries - shown, x + 30, y + 38);
    fputs("</g>\n", out);
}

enum s3dlio_rc s3dlio_timeline_svg(const struct s3dlio_timeline_chart *c, FILE *out,
                                   struct s3dlio_error *err)
{
    const char *title = c->title ? c->title : "Throughput";
    /* 1 ns to 1e6 s: MB/s and the axis in seconds then stay finite whatever the counts */
    if (!(c->bucket_s >= 1e-9 && c->bucket_s <= 1e6) || c->nseries < 0 ||
        (c->nbuckets && c->nseries && !c->bytes) || (c->nphases && !c->phases) ||
        c->nbuckets > (size_t)1 << 40)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "timeline", title,
                                "bucket width outside 1 ns to 1e6 s, negative series count, "
                                "too many buckets or no data");
    if (!c->nbuckets || !c->nseries) {
        empty_chart(out, title);
        return s3dlio_svg_finish(out, "timeline", err);
    }
    uint64_t *agg = aggregate(c);
    struct geom g;
    layout(&g, c, mbps(agg[busiest(agg, c->nbuckets)], c->bucket_s),
           mbps(rank_peak(c), c->bucket_s));
    svg_open(out, g.height, title);
    subtitle(out, c, agg);
    axes(out, &g);
    phases(out, &g, c);
    lines(out, &g, c, agg);
    peak_marker(out, &g, c, agg);
    legend(out, &g, c);
    fputs("</svg>\n", out);
    free(agg);
    return s3dlio_svg_finish(out, "timeline", err);
}
