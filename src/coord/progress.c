/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job-wide progress on rank 0 without collectives during the transfer: every rank adds its
 * new bytes to a counter in rank 0's window with MPI_Accumulate under a shared passive lock
 * (at most 4 times a second), and rank 0 reads it in its own loop. A live bar when stderr is
 * a terminal, a plain line every 10 s otherwise, nothing with --quiet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "coord/coord_int.h"

#define LINE_EVERY_S 10.0
#define BAR_EVERY_S 0.25

/* S3DLIO_PROGRESS_SECONDS overrides the interval of plain lines (tests; slow terminals) */
static double line_interval(void)
{
    const char *s = getenv("S3DLIO_PROGRESS_SECONDS");
    double v = s ? strtod(s, NULL) : 0;
    return v > 0 ? v : LINE_EVERY_S;
}

void s3dlio_progress_init(struct s3dlio_progress *p, MPI_Comm comm, uint64_t total, int mode)
{
    memset(p, 0, sizeof(*p));
    MPI_Comm_rank(comm, &p->rank);
    p->mode = mode;
    p->total = total;
    p->t0 = MPI_Wtime();
    p->last_print = p->t0;
    p->line_s = line_interval();
    if (!mode) {
        MPI_Barrier(comm); /* keep the collective sequence the same on every rank */
        return;
    }
    MPI_Aint size = p->rank == 0 ? (MPI_Aint)sizeof(uint64_t) : 0;
    MPI_Win_allocate(size, sizeof(uint64_t), MPI_INFO_NULL, comm, &p->counter, &p->win);
    if (p->rank == 0) {
        MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, p->win);
        *p->counter = 0;
        MPI_Win_unlock(0, p->win);
    }
    MPI_Barrier(comm);
    p->active = true;
}

static void print(struct s3dlio_progress *p, uint64_t done, double now, bool final)
{
    double secs = now - p->t0, rate = secs > 0 ? (double)done / secs : 0;
    double frac = p->total ? (double)done / (double)p->total : 1.0;
    double eta = rate > 0 && p->total > done ? (double)(p->total - done) / rate : 0;
    if (p->mode == 2) {
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %5.1f%% %8.1f / %.1f MiB %8.1f MB/s ETA %4.0f s%s", bar,
                frac * 100, (double)done / 1048576, (double)p->total / 1048576, rate / 1e6, eta,
                final ? "\n" : "");
    } else {
        fprintf(stderr, "progress: %.1f%% %.1f of %.1f MiB, %.1f MB/s, ETA %.0f s\n", frac * 100,
                (double)done / 1048576, (double)p->total / 1048576, rate / 1e6, eta);
    }
    fflush(stderr);
}

void s3dlio_progress_update(struct s3dlio_progress *p, uint64_t bytes_done)
{
    if (!p->active)
        return;
    double now = MPI_Wtime();
    uint64_t delta = bytes_done - p->reported;
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, p->win);
    if (delta)
        MPI_Accumulate(&delta, 1, MPI_UINT64_T, 0, 0, 1, MPI_UINT64_T, MPI_SUM, p->win);
    MPI_Win_unlock(0, p->win);
    p->reported = bytes_done;
    if (p->rank != 0 || now - p->last_print < (p->mode == 2 ? BAR_EVERY_S : p->line_s))
        return;
    uint64_t done = 0;
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, p->win);
    MPI_Get(&done, 1, MPI_UINT64_T, 0, 0, 1, MPI_UINT64_T, p->win);
    MPI_Win_unlock(0, p->win);
    p->last_print = now;
    print(p, done, now, false);
}

void s3dlio_progress_finish(struct s3dlio_progress *p)
{
    if (!p->active)
        return;
    MPI_Win_fence(0, p->win); /* collective: every rank's accumulates are complete */
    if (p->rank == 0 && p->mode == 2)
        print(p, *p->counter, MPI_Wtime(), true);
    MPI_Win_free(&p->win);
    p->active = false;
}
