/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bench sync picture (see render.h): a heatmap of rounds (rows) by ranks (columns), each
 * cell coloured by the rank's time over the round's fastest, and beside it the slowest rank's
 * time of each round as a bar with the median and fastest marked. Meant to show at a glance
 * whether one rank is slow every round (a column: a slow node or link) or the slow cells
 * move around (slow objects, contention), and how far the slowest rank holds up the others.
 */
#include "stats/render.h"

#include <math.h> /* isnan: a macro; the core links no libm */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "s3dlio/rounds_report.h"

#define WIDTH      1200
#define TOP        92  /* title, subtitle, column labels */
#define BOTTOM     118 /* the bars' axis, the colour key */
#define HEAT_LEFT  86  /* room for "round N" */
#define HEAT_W     620 /* at most; cells are whole pixels wide */
#define HEAT_H     540 /* at most, for few rounds; many rounds make the picture taller */
#define CELL_W_MAX 90
#define CELL_H_MAX 34
#define CELL_H_MIN 3
#define BARS_GAP   84 /* between the heatmap and the bars: the bars' value labels */
#define BARS_RIGHT 70
#define RATIO_TOP  2.0 /* the colour scale ends here: 2x the fastest and worse look alike */
#define X_TICKS    6

/* Pixel layout of the two panels. */
struct layout {
    double cw, ch;       /* cell size */
    double hx0, hx1, y0; /* heatmap left, right, top */
    double bx0, bx1;     /* bars left, right */
    double y1;           /* bottom of both panels */
    double smax, sstep;  /* the bars' axis, seconds */
    int height;
};

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void make_layout(struct layout *l, const struct s3dlio_rounds_report *r)
{
    /* whole pixels while they fit, so cell edges stay crisp; past HEAT_W ranks, fractions */
    l->cw = r->nranks <= HEAT_W ? clampd((double)(HEAT_W / r->nranks), 1, CELL_W_MAX)
                                : (double)HEAT_W / r->nranks;
    l->ch = clampd((double)(HEAT_H / r->nrounds), CELL_H_MIN, CELL_H_MAX);
    l->hx0 = HEAT_LEFT;
    l->hx1 = HEAT_LEFT + l->cw * r->nranks;
    l->y0 = TOP;
    l->y1 = TOP + l->ch * r->nrounds;
    l->bx0 = l->hx1 + BARS_GAP;
    l->bx1 = WIDTH - BARS_RIGHT;
    l->height = (int)l->y1 + BOTTOM;
    double peak = 0;
    for (int i = 0; i < r->nrounds; i++)
        peak = r->rounds[i].slowest_s > peak ? r->rounds[i].slowest_s : peak;
    l->sstep = s3dlio_svg_nice_step(peak > 0 ? peak : 1, X_TICKS);
    double steps = (peak > 0 ? peak : 1) / l->sstep - 1e-9;
    long long k = (long long)steps; /* ceil, without libm */
    l->smax = (double)(k + (k < steps)) * l->sstep;
}

static double bar_x(const struct layout *l, double s)
{
    return l->bx0 + (l->bx1 - l->bx0) * s / l->smax;
}

/* ---- colours ---------------------------------------------------------------------------- */

/* Yellow to dark red (ColorBrewer YlOrRd): light is as fast as the fastest, dark is late. */
static const unsigned char ramp[][3] = {
    { 255, 255, 204 }, { 254, 217, 118 }, { 253, 141, 60 }, { 227, 26, 28 }, { 128, 0, 38 },
};
#define RAMP_N (sizeof(ramp) / sizeof(ramp[0]))

/* t in [0, 1] along the ramp */
static void ramp_colour(double t, char *buf, size_t len)
{
    t = clampd(t, 0, 1) * (double)(RAMP_N - 1);
    size_t i = (size_t)t;
    if (i >= RAMP_N - 1)
        i = RAMP_N - 2;
    double f = t - (double)i;
    int c[3];
    for (int k = 0; k < 3; k++)
        c[k] = (int)(ramp[i][k] + (ramp[i + 1][k] - ramp[i][k]) * f + 0.5);
    snprintf(buf, len, "#%02x%02x%02x", c[0], c[1], c[2]);
}

static double ratio_t(double ratio)
{
    return (ratio - 1) / (RATIO_TOP - 1);
}

/* ---- drawing ---------------------------------------------------------------------------- */

static void svg_open(FILE *out, int height)
{
    s3dlio_svg_chart_open(out, WIDTH, height,
                          ".rl { text-anchor: end; fill: #444; } .cl { text-anchor: middle; fill: #444; }\n"
                          ".head { font-weight: bold; fill: #333; }\n"
                          ".v { text-anchor: middle; font-size: 11px; pointer-events: none; }\n"
                          ".v.w { fill: #fff; }\n"
                          ".bv { font-size: 11px; fill: #333; pointer-events: none; }\n"
                          ".c:hover, .bar:hover { stroke: #000; stroke-width: 1.5; }\n"
                          ".slow { fill: none; stroke: #111; stroke-width: 3; pointer-events: none; }\n"
                          ".slow.thin { stroke-width: 1.2; }\n"
                          ".slow2 { fill: none; stroke: #fff; stroke-width: 1; pointer-events: none; }\n"
                          ".fail { fill: none; stroke: #1f4fd1; stroke-width: 2; stroke-dasharray: 3 2;"
                          " pointer-events: none; }\n"
                          ".bar { fill: #8aa6c8; } .med { stroke: #111; stroke-width: 2; }\n"
                          ".fast { stroke: #555; stroke-width: 1.2; stroke-dasharray: 2 2; }\n"
                          ".tick { text-anchor: middle; fill: #444; } .key { fill: #444; font-size: 11px; }\n");
}

static void title(FILE *out, const struct s3dlio_rounds_report *r)
{
    fprintf(out, "<text id=\"title\" x=\"%d\" y=\"28\">", WIDTH / 2);
    s3dlio_svg_escapef(out, "bench sync: %s %.*s, %d rank%s \xC3\x97 %d round%s%s",
                       r->write ? "write" : "read", 200, r->source, r->nranks,
                       r->nranks == 1 ? "" : "s", r->nrounds, r->nrounds == 1 ? "" : "s",
                       r->shuffle ? ", shuffled" : "");
    fputs("</text>\n", out);
}

static void subtitle(FILE *out, const struct s3dlio_rounds_report *r)
{
    int top = -1;
    for (int k = 0; k < r->nranks; k++)
        if (r->slowest_count[k] && (top < 0 || r->slowest_count[k] > r->slowest_count[top]))
            top = k;
    char slowest[160] = "";
    if (top >= 0)
        snprintf(slowest, sizeof(slowest),
                 " \xC2\xB7 slowest most often: rank %d (%.40s), %d of %d", top,
                 r->hosts ? r->hosts[top] : "?", r->slowest_count[top], r->nrounds);
    fprintf(out, "<text id=\"subtitle\" x=\"%d\" y=\"50\">", WIDTH / 2);
    s3dlio_svg_escapef(out,
                       "round time p50 %.3f s, p90 %.3f s \xC2\xB7 max/min p50 %.2fx "
                       "\xC2\xB7 %.1f MB/s sustained%s",
                       r->round_s.p50, r->round_s.p90, r->spread_max_min.p50, r->sustained_MBps,
                       slowest);
    fputs("</text>\n", out);
}

/* Every k-th label so that labels stay `min_px` apart. */
static int label_every(double px, double min_px)
{
    int k = 1;
    while (k * px < min_px)
        k = k < 5 ? k + (k == 1 ? 1 : 3) : k * 2; /* 1, 2, 5, 10, 20... */
    return k;
}

static void heat_labels(FILE *out, const struct layout *l, const struct s3dlio_rounds_report *r)
{
    int kr = label_every(l->ch, 13), kc = label_every(l->cw, l->cw >= 44 ? 0 : 18);
    fprintf(out,
            "<text class=\"head\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
            "time / the round's fastest, per rank</text>\n",
            (l->hx0 + l->hx1) / 2, l->y0 - 24);
    for (int k = 0; k < r->nranks; k += kc)
        fprintf(out, "<text class=\"cl\" x=\"%.1f\" y=\"%.1f\">%s%d</text>\n",
                l->hx0 + (k + 0.5) * l->cw, l->y0 - 7, l->cw >= 44 ? "rank " : "", k);
    for (int i = 0; i < r->nrounds; i += kr)
        fprintf(out, "<text class=\"rl\" x=\"%.1f\" y=\"%.1f\">%s%d</text>\n", l->hx0 - 8,
                l->y0 + (i + 0.5) * l->ch + 4, l->ch >= 13 ? "round " : "", i + 1);
}

/* One cell: colour, the time in it when it fits, everything in its hover title. */
static void cell(FILE *out, const struct layout *l, const struct s3dlio_rounds_report *r, int i,
                 int k)
{
    const struct s3dlio_sync_sample *s = s3dlio_sync_at(r, i, k);
    const struct s3dlio_sync_round *d = &r->rounds[i];
    double x = l->hx0 + k * l->cw, y = l->y0 + i * l->ch;
    double rel = d->fastest_s > 0 ? s->seconds / d->fastest_s : NAN;
    char colour[16] = "#d9d9d9"; /* no objects this round: it only waited */
    if (s->objects && !isnan(rel))
        ramp_colour(ratio_t(rel), colour, sizeof(colour));
    fprintf(out,
            "<rect class=\"c\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
            "<title>",
            x, y, l->cw, l->ch, colour);
    s3dlio_svg_escapef(out, "round %d, rank %d (%.64s): %.3f s", i + 1, k,
                       r->hosts ? r->hosts[k] : "?", s->seconds);
    if (s->objects && !isnan(rel))
        s3dlio_svg_escapef(out, ", %.2fx the fastest", rel);
    s3dlio_svg_escapef(out, ", %llu objects, %.2f MB, barrier wait %.2f ms%s",
                       (unsigned long long)s->objects, (double)s->bytes / 1e6, s->wait_s * 1e3,
                       d->slowest_rank == k ? " (the slowest of the round)" : "");
    if (s->failures)
        s3dlio_svg_escapef(out, ", %llu FAILED", (unsigned long long)s->failures);
    fputs("</title></rect>\n", out);
    if (l->cw >= 44 && l->ch >= 15)
        fprintf(out, "<text class=\"v%s\" x=\"%.1f\" y=\"%.1f\">%.3f</text>\n",
                s->objects && ratio_t(rel) > 0.55 ? " w" : "", x + l->cw / 2, y + l->ch / 2 + 4,
                s->seconds);
    if (s->failures)
        fprintf(out,
                "<rect class=\"fail\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
                x + 2, y + 2, l->cw - 4 > 1 ? l->cw - 4 : 1, l->ch - 4 > 1 ? l->ch - 4 : 1);
}

static void heatmap(FILE *out, const struct layout *l, const struct s3dlio_rounds_report *r)
{
    fputs("<g class=\"heat\">\n", out);
    heat_labels(out, l, r);
    for (int i = 0; i < r->nrounds; i++)
        for (int k = 0; k < r->nranks; k++)
            cell(out, l, r, i, k);
    /* the slowest cell of each round framed, over its neighbours: black and white, so the
     * frame shows on the palest and the darkest colour alike */
    for (int i = 0; i < r->nrounds; i++) {
        int k = r->rounds[i].slowest_rank;
        double x = l->hx0 + k * l->cw, y = l->y0 + i * l->ch;
        if (k < 0 || l->cw < 4 || l->ch < 4)
            continue;
        if (l->cw < 16 || l->ch < 16) { /* a thick frame would hide a small cell's colour */
            fprintf(out,
                    "<rect class=\"slow thin\" x=\"%.1f\" y=\"%.1f\" "
                    "width=\"%.1f\" height=\"%.1f\"/>\n",
                    x + 0.6, y + 0.6, l->cw - 1.2, l->ch - 1.2);
            continue;
        }
        fprintf(out,
                "<rect class=\"slow\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
                "<rect class=\"slow2\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
                x + 1.5, y + 1.5, l->cw - 3, l->ch - 3, x + 3.5, y + 3.5, l->cw - 7, l->ch - 7);
    }
    fprintf(out,
            "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n</g>\n",
            l->hx0, l->y0, l->hx1 - l->hx0, l->y1 - l->y0);
}

static void bars_axis(FILE *out, const struct layout *l)
{
    int d = s3dlio_svg_step_decimals(l->sstep);
    fprintf(out,
            "<text class=\"head\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
            "the slowest rank's time per round</text>\n",
            (l->bx0 + l->bx1) / 2, l->y0 - 24);
    for (int i = 0; i * l->sstep <= l->smax * (1 + 1e-9); i++) {
        double x = bar_x(l, i * l->sstep);
        fprintf(out,
                "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%.*f</text>\n",
                x, l->y0, x, l->y1 + 5, x, l->y1 + 19, d, i * l->sstep);
    }
    fprintf(out,
            "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">seconds (| median rank, "
            "dashed: fastest rank)</text>\n",
            (l->bx0 + l->bx1) / 2, l->y1 + 37);
}

static void bar(FILE *out, const struct layout *l, const struct s3dlio_rounds_report *r, int i)
{
    const struct s3dlio_sync_round *d = &r->rounds[i];
    double yc = l->y0 + (i + 0.5) * l->ch, h = l->ch * 0.7 > 1 ? l->ch * 0.7 : 1;
    fprintf(out, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>",
            l->bx0, yc - h / 2, bar_x(l, d->slowest_s) - l->bx0, h);
    s3dlio_svg_escapef(out,
                       "round %d: slowest %.3f s (rank %d, %.64s), median %.3f s, fastest "
                       "%.3f s, max/min %.2fx, max/median %.2fx, barrier skew %.2f ms, %.1f MB/s, "
                       "%llu objects, %.2f MB",
                       i + 1, d->slowest_s, d->slowest_rank,
                       r->hosts && d->slowest_rank >= 0 ? r->hosts[d->slowest_rank] : "?",
                       d->median_s, d->fastest_s, d->spread_max_min, d->spread_max_median,
                       d->skew_s * 1e3, d->MBps, (unsigned long long)d->objects,
                       (double)d->bytes / 1e6);
    fputs("</title></rect>\n", out);
    if (!isnan(d->median_s))
        fprintf(out, "<line class=\"med\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                bar_x(l, d->median_s), yc - h / 2 - 1, bar_x(l, d->median_s), yc + h / 2 + 1);
    if (!isnan(d->fastest_s))
        fprintf(out, "<line class=\"fast\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                bar_x(l, d->fastest_s), yc - h / 2 - 1, bar_x(l, d->fastest_s), yc + h / 2 + 1);
    if (l->ch >= 12) /* left of the panel: the bars' ends stay free */
        fprintf(out, "<text class=\"bv\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3f s</text>",
                l->bx0 - 6, yc + 4, d->slowest_s);
    fputc('\n', out);
}

static void bars(FILE *out, const struct layout *l, const struct s3dlio_rounds_report *r)
{
    fputs("<g class=\"bars\">\n", out);
    bars_axis(out, l);
    for (int i = 0; i < r->nrounds; i++)
        bar(out, l, r, i);
    fprintf(out,
            "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n</g>\n",
            l->bx0, l->y0, l->bx1 - l->bx0, l->y1 - l->y0);
}

/* The colour scale, and what the frames and the grey mean. */
static void key(FILE *out, const struct layout *l)
{
    double x = l->hx0, y = l->y1 + 34, w = 240, h = 12;
    fputs("<g class=\"legend\">\n<defs><linearGradient id=\"ramp\">", out);
    for (size_t i = 0; i < RAMP_N; i++)
        fprintf(out, "<stop offset=\"%.2f\" stop-color=\"#%02x%02x%02x\"/>",
                (double)i / (RAMP_N - 1), ramp[i][0], ramp[i][1], ramp[i][2]);
    fprintf(out,
            "</linearGradient></defs>\n"
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"url(#ramp)\" "
            "stroke=\"#888\"/>\n",
            x, y, w, h);
    for (int i = 0; i <= 4; i++) {
        double v = 1 + (RATIO_TOP - 1) * i / 4;
        fprintf(out,
                "<text class=\"key\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s%.4gx</text>\n",
                x + w * i / 4, y + h + 14, i == 4 ? "\xE2\x89\xA5" : "", v);
    }
    fprintf(out,
            "<text class=\"key\" x=\"%.1f\" y=\"%.1f\">time / the round's fastest rank</text>\n", x,
            y - 5);
    x += w + 30;
    fprintf(
        out,
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"%.1f\" fill=\"#fd8d3c\" "
        "stroke=\"#111\" stroke-width=\"2.5\"/><text class=\"key\" x=\"%.1f\" y=\"%.1f\">"
        "the round's slowest rank</text>\n"
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"%.1f\" fill=\"#d9d9d9\"/>"
        "<text class=\"key\" x=\"%.1f\" y=\"%.1f\">no objects that round</text>\n"
        "<rect class=\"fail\" x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"%.1f\"/>"
        "<text class=\"key\" x=\"%.1f\" y=\"%.1f\">objects failed (hover a cell)</text>\n</g>\n",
        x, y - 1, h, x + 20, y + 10, x, y + 17, h, x + 20, y + 28, x, y + 35, h, x + 20, y + 46);
}

enum s3dlio_rc s3dlio_rounds_svg(const struct s3dlio_rounds_report *r, FILE *out,
                                 struct s3dlio_error *err)
{
    if (r->nranks < 0 || r->nrounds < 0 || (r->nrounds && (!r->rounds || !r->samples)))
        return s3dlio_error_set(
            err, S3DLIO_E_USAGE, "bench sync", "picture",
            "negative counts, or rounds without samples (build the report first)");
    if (!r->nrounds || !r->nranks) {
        svg_open(out, 240);
        title(out, r);
        fprintf(out, "<text id=\"empty\" x=\"%d\" y=\"120\">no rounds ran</text>\n</svg>\n",
                WIDTH / 2);
        return s3dlio_svg_finish(out, "bench sync", err);
    }
    struct layout l;
    make_layout(&l, r);
    svg_open(out, l.height);
    title(out, r);
    subtitle(out, r);
    heatmap(out, &l, r);
    bars(out, &l, r);
    key(out, &l);
    fputs("</svg>\n", out);
    return s3dlio_svg_finish(out, "bench sync", err);
}
