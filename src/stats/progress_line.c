/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The progress display shared by every command, single-process or MPI: a live bar on a
 * terminal, a plain line every 10 s otherwise (S3DLIO_PROGRESS_SECONDS changes it),
 * nothing when quiet. The MPI layer feeds it job-wide byte counts; single-process
 * commands feed it their engine's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "s3dlio/stats.h"

#define LINE_EVERY_S 10.0
#define BAR_EVERY_S 0.25

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* S3DLIO_PROGRESS_SECONDS overrides the interval of plain lines (tests; slow terminals) */
static double line_interval(void)
{
    const char *s = getenv("S3DLIO_PROGRESS_SECONDS");
    double v = s ? strtod(s, NULL) : 0;
    return v > 0 ? v : LINE_EVERY_S;
}

void s3dlio_progress_line_init(struct s3dlio_progress_line *p, int mode, uint64_t total, FILE *out)
{
    memset(p, 0, sizeof(*p));
    p->mode = mode;
    p->total = total;
    p->out = out ? out : stderr;
    p->t0 = p->last = now_s();
    p->every = mode == S3DLIO_PROGRESS_BAR ? BAR_EVERY_S : line_interval();
}

static void print(struct s3dlio_progress_line *p, uint64_t done, double now, bool final)
{
    double secs = now - p->t0, rate = secs > 0 ? (double)done / secs : 0;
    double frac = p->total ? (double)done / (double)p->total : 1.0;
    double eta = rate > 0 && p->total > done ? (double)(p->total - done) / rate : 0;
    if (!p->total) { /* a stream of unknown length: what moved, not a fraction of what */
        fprintf(p->out, p->mode == S3DLIO_PROGRESS_BAR ? "\r%.1f MiB so far, %.1f MB/s%s"
                                                       : "progress: %.1f MiB so far, %.1f MB/s%s\n",
                (double)done / 1048576, rate / 1e6,
                p->mode == S3DLIO_PROGRESS_BAR && final ? "\n" : "");
    } else if (p->mode == S3DLIO_PROGRESS_BAR) {
        char bar[31];
        int fill = frac > 1 ? 30 : (int)(frac * 30);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(p->out, "\r[%s] %5.1f%% %8.1f / %.1f MiB %8.1f MB/s ETA %4.0f s%s", bar,
                frac * 100, (double)done / 1048576, (double)p->total / 1048576, rate / 1e6, eta,
                final ? "\n" : "");
    } else {
        fprintf(p->out, "progress: %.1f%% %.1f of %.1f MiB, %.1f MB/s, ETA %.0f s\n", frac * 100,
                (double)done / 1048576, (double)p->total / 1048576, rate / 1e6, eta);
    }
    fflush(p->out);
    p->shown = true;
}

bool s3dlio_progress_line_due(const struct s3dlio_progress_line *p)
{
    return p->mode != S3DLIO_PROGRESS_NONE && now_s() - p->last >= p->every;
}

void s3dlio_progress_line_show(struct s3dlio_progress_line *p, uint64_t done)
{
    if (!s3dlio_progress_line_due(p))
        return;
    if (!p->total && !done)
        return; /* nothing known and nothing moved: a line would say nothing */
    p->last = now_s();
    print(p, done, p->last, false);
}

void s3dlio_progress_line_finish(struct s3dlio_progress_line *p, uint64_t done)
{
    /* a bar ends its line; plain lines need no closing one */
    if (p->mode == S3DLIO_PROGRESS_BAR && p->shown)
        print(p, done, now_s(), true);
}
