/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job-wide progress on rank 0 without collectives during the transfer: every rank adds its
 * new bytes to a counter in rank 0's window with MPI_Accumulate under a shared passive lock
 * (at most 4 times a second), and rank 0 reads it in its own loop and shows it with the
 * progress display every command uses (src/stats/progress_line.c).
 */
#include <string.h>
#include "coord/coord_int.h"

void s3dlio_progress_init(struct s3dlio_progress *p, MPI_Comm comm, uint64_t total, int mode)
{
    memset(p, 0, sizeof(*p));
    MPI_Comm_rank(comm, &p->rank);
    p->mode = mode;
    s3dlio_progress_line_init(&p->line, p->rank == 0 ? mode : S3DLIO_PROGRESS_NONE, total, NULL);
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

void s3dlio_progress_update(struct s3dlio_progress *p, uint64_t bytes_done)
{
    if (!p->active)
        return;
    uint64_t delta = bytes_done - p->reported;
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, p->win);
    if (delta)
        MPI_Accumulate(&delta, 1, MPI_UINT64_T, 0, 0, 1, MPI_UINT64_T, MPI_SUM, p->win);
    MPI_Win_unlock(0, p->win);
    p->reported = bytes_done;
    if (p->rank != 0 || !s3dlio_progress_line_due(&p->line))
        return;
    uint64_t done = 0;
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, p->win);
    MPI_Get(&done, 1, MPI_UINT64_T, 0, 0, 1, MPI_UINT64_T, p->win);
    MPI_Win_unlock(0, p->win);
    s3dlio_progress_line_show(&p->line, done);
}

void s3dlio_progress_finish(struct s3dlio_progress *p)
{
    if (!p->active)
        return;
    MPI_Win_fence(0, p->win); /* collective: every rank's accumulates are complete */
    if (p->rank == 0)
        s3dlio_progress_line_finish(&p->line, *p->counter);
    MPI_Win_free(&p->win);
    p->active = false;
}
