/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pictures of a run (src/stats/folded.c, flamegraph.c, timeline_svg.c, svg_util.c): folded
 * stacks merged across ranks, the flamegraph SVG drawn from them, and the throughput timeline
 * SVG. Pure functions over memory and a FILE: no MPI, no curl, so they are unit-tested alone.
 * Every SVG is self-contained (no external script, font or stylesheet) and deterministic:
 * the same input writes the same bytes.
 */
#ifndef S3DLIO_STATS_RENDER_H
#define S3DLIO_STATS_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "s3dlio/error.h"

/* ---- folded stacks ---------------------------------------------------------------------- */

/*
 * Folded stacks: "frame;frame;leaf count\n" lines, as FlameGraph, speedscope and inferno read
 * them. The fields are read by the renderers; change them only through the functions below.
 */
struct s3dlio_folded_stack {
    char *stack; /* frames joined by ';', NUL-terminated (it may hold other NULs: use len) */
    size_t len;
    uint64_t count; /* saturates at UINT64_MAX */
};

struct s3dlio_folded {
    struct s3dlio_folded_stack *stacks; /* in order of first appearance */
    size_t n, alloc;
    size_t *slots; /* open-addressing index: 0 empty, else 1 + index into stacks */
    size_t nslots; /* a power of two, kept at least twice n */
    uint64_t total;
};

/* An empty set; caller frees with s3dlio_folded_free. */
struct s3dlio_folded *s3dlio_folded_new(void);
/* NULL allowed. */
void s3dlio_folded_free(struct s3dlio_folded *f);
/*
 * Add every line of text[0..len): identical stacks sum. root != NULL: that frame is put in
 * front of every stack (e.g. "rank 3"); it may itself be several frames ("node07;rank 3") but
 * no empty one and no '\n' (else S3DLIO_E_USAGE). Blank lines are skipped and a trailing '\r'
 * is dropped. A malformed line (no count, count not a positive integer below 2^64, empty
 * stack, empty frame) fails with S3DLIO_E_PARSE naming the line number, and nothing of that
 * text is added. Frames may contain any byte but ';' and '\n' (spaces included: the count is
 * after the LAST space or tab).
 */
enum s3dlio_rc s3dlio_folded_add_text(struct s3dlio_folded *f, const char *text, size_t len,
                                      const char *root, struct s3dlio_error *err);
/* One stack (NUL-terminated, not checked: the caller built it); count 0 adds nothing. */
void s3dlio_folded_add(struct s3dlio_folded *f, const char *stack, uint64_t count);
/* The same with an explicit length, for stacks that hold NUL bytes. */
void s3dlio_folded_add_n(struct s3dlio_folded *f, const char *stack, size_t len, uint64_t count);
/* Every stack of from added to into (ranks merged on rank 0). */
void s3dlio_folded_merge(struct s3dlio_folded *into, const struct s3dlio_folded *from);
/* Sum of counts (saturating). */
uint64_t s3dlio_folded_total(const struct s3dlio_folded *f);
/* Distinct stacks. */
size_t s3dlio_folded_count(const struct s3dlio_folded *f);
/* The set as folded text, stacks sorted bytewise (deterministic); caller frees, *len set. */
char *s3dlio_folded_text(const struct s3dlio_folded *f, size_t *len);

/* ---- flamegraph ------------------------------------------------------------------------- */

struct s3dlio_flame_opts {
    const char *title; /* e.g. "download: 4 ranks, 1234 samples at 100 Hz"; NULL: "Flame Graph" */
    const char *subtitle; /* optional second line; the total sample count follows it */
    int width;            /* px; 0: 1200 (below 200 is raised to 200) */
};

/*
 * A self-contained interactive flamegraph SVG of f (o may be NULL), root at the bottom like
 * FlameGraph: hover titles "name (N samples, P%)", click to zoom, Ctrl-F/"Search" to highlight.
 * Frames narrower than 0.1 px are not drawn (their samples still count in their parents).
 * Write errors on out: S3DLIO_E_IO.
 */
enum s3dlio_rc s3dlio_flamegraph_svg(const struct s3dlio_folded *f,
                                     const struct s3dlio_flame_opts *o, FILE *out,
                                     struct s3dlio_error *err);

/* ---- throughput timeline ---------------------------------------------------------------- */

struct s3dlio_timeline_phase {
    const char *name;
    double start_s, end_s;
};

struct s3dlio_timeline_chart {
    /* NULL: "Throughput" */
    const char *title;
    /* width of one bucket in seconds (0.1 normally), 1e-9 to 1e6 */
    double bucket_s;
    size_t nbuckets;
    /* one per rank */
    int nseries;
    /* nseries x nbuckets, row-major: series r bucket b at [r*nbuckets+b] */
    const uint64_t *bytes;
    /* nseries labels, e.g. "rank 0 (node07)"; NULL (or a NULL entry): "rank <r>" */
    const char *const *labels;
    /* shaded, labelled bands; may overlap the axis ends */
    const struct s3dlio_timeline_phase *phases;
    size_t nphases;
};

/*
 * Throughput over time: the aggregate (sum of series) bold, one thinner line per series, in
 * MB/s (1e6 bytes / s), x in seconds from 0; phases as labelled bands; peak and mean aggregate
 * MB/s in the subtitle. When one rank's lines would use under a sixth of the aggregate's height
 * (many ranks), they get a panel and axis of their own below it. No bucket or no series: a
 * valid SVG saying "no data". A bad chart (bucket_s out of range, nseries < 0, bytes NULL with
 * data, over 2^40 buckets): S3DLIO_E_USAGE. Write errors on out: S3DLIO_E_IO.
 */
enum s3dlio_rc s3dlio_timeline_svg(const struct s3dlio_timeline_chart *c, FILE *out,
                                   struct s3dlio_error *err);

/* ---- bench sync: rounds x ranks (rounds_svg.c) ------------------------------------------ */

struct s3dlio_rounds_report; /* include/s3dlio/rounds_report.h */

/*
 * The bench sync picture of a built report: a heatmap of rounds (rows) by ranks (columns),
 * each cell coloured by the rank's time over the round's fastest (1x to 2x and beyond; grey:
 * no objects that round), the round's slowest rank framed, failed objects marked, every
 * figure in the cell's hover title; beside it the slowest rank's time per round as bars with
 * the median and fastest ranks' times marked. No round: a valid SVG saying so. A report
 * that was not built: S3DLIO_E_USAGE. Write errors on out: S3DLIO_E_IO.
 */
enum s3dlio_rc s3dlio_rounds_svg(const struct s3dlio_rounds_report *r, FILE *out,
                                 struct s3dlio_error *err);

/* ---- shared by the SVG writers (svg_util.c) --------------------------------------------- */

/* Characters of s[0..len) once each invalid UTF-8 byte counts as one U+FFFD. */
size_t s3dlio_svg_chars(const char *s, size_t len);
/*
 * Write s[0..len) as XML text or attribute content: & < > " ' escaped; invalid UTF-8 bytes and
 * characters XML forbids (controls, U+FFFE, U+FFFF) written as U+FFFD, so any bytes make a
 * well-formed document. At most max_chars (>= 2) characters; a longer text is cut to max_chars - 2
 * and ".." appended (max_chars SIZE_MAX: all of it).
 */
void s3dlio_svg_escape(FILE *out, const char *s, size_t len, size_t max_chars);
/* The same for a NUL-terminated string (NULL writes nothing). */
void s3dlio_svg_escapes(FILE *out, const char *s);
/* s3dlio_svg_escape of a printf-formatted text (cut past 1023 bytes). */
void s3dlio_svg_escapef(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* n with thousands separators ("1,234,567") into buf (at least 27 bytes). Returns buf. */
char *s3dlio_svg_thousands(uint64_t n, char *buf, size_t len);
/*
 * The opening of a chart: the SVG element (width x height), the style every chart shares (fonts,
 * title, subtitle, "no data", grid, frame), then the chart's own CSS rules and a white ground.
 */
void s3dlio_svg_chart_open(FILE *out, int width, int height, const char *own_css);
/* A "nice" tick step (1, 2 or 5 x 10^k) so that [0, span] has about `ticks` intervals. */
double s3dlio_svg_nice_step(double span, int ticks);
/* Decimals that print every multiple of step exactly enough (0 for steps >= 1). */
int s3dlio_svg_step_decimals(double step);
/* S3DLIO_OK, or S3DLIO_E_IO naming op when flushing out fails or it has its error flag set. */
enum s3dlio_rc s3dlio_svg_finish(FILE *out, const char *op, struct s3dlio_error *err);

#endif
