/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --steal: dynamic balancing. Every rank knows the whole job list; chunks of it are taken in
 * order from a counter in rank 0's window, so a rank that finishes early simply takes more.
 * The chunks feed one running engine through its refill callback: the loop asks for the
 * next chunk while it still has requests in flight, so it never drains and ramps up again
 * between chunks. Their jobs are planned when taken (a job feed over the table's rows), except
 * with --to mem, whose chunks are laid out in memory from jobs planned before the run. With --to mem a rank allocates memory per chunk it takes, and with
 * --max-memory it stops taking chunks that would not fit (the counter read and advanced under
 * a lock: a chunk is taken whole by one rank or left for another), so a rank holds its share
 * only.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "coord/coord_int.h"
#include "util/alloc.h"
#include "util/log.h"

struct steal {
    MPI_Win win;
    uint64_t *counter;        /* rank 0's window memory: the next chunk to take */
    struct s3dlio_steal_work *w;
    uint64_t chunk, nchunks;
    uint64_t max_memory;      /* 0: none */
    uint64_t held;            /* bytes of memory this rank holds */
    bool mem, full;
};

static uint64_t chunk_bytes(const struct steal *s, uint64_t k)
{
    uint64_t first = k * s->chunk, bytes = 0;
    for (uint64_t i = first; i < first + s->chunk && i < s->w->n; i++)
        bytes += s->w->jobs[i].size;
    return bytes;
}

/*
 * Under --max-memory: take the next chunk only if it fits. Read and advance the counter
 * under rank 0's exclusive lock (a compare-and-swap would do, but Open MPI 4.1's shared-
 * memory emulation of it crashed here); chunks are taken rarely, so the lock costs nothing.
 */
static uint64_t take_if_fits(struct steal *s)
{
    uint64_t k = 0;
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, s->win);
    MPI_Get(&k, 1, MPI_UINT64_T, 0, 0, 1, MPI_UINT64_T, s->win);
    MPI_Win_flush(0, s->win);
    if (k < s->nchunks && s->held + chunk_bytes(s, k) <= s->max_memory) {
        uint64_t next = k + 1;
        MPI_Put(&next, 1, MPI_UINT64_T, 0, 0, 1, MPI_UINT64_T, s->win);
    } else if (k < s->nchunks) {
        s->full = true; /* leave it to a rank with room */
        S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_COORD, "holding %" PRIu64 " bytes: chunk %" PRIu64
                   " would pass --max-memory %" PRIu64 "; taking no more", s->held, k,
                   s->max_memory);
        k = s->nchunks;
    }
    MPI_Win_unlock(0, s->win);
    return k;
}

static uint64_t counter_now(struct steal *s)
{
    uint64_t k = 0;
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, s->win);
    MPI_Get(&k, 1, MPI_UINT64_T, 0, 0, 1, MPI_UINT64_T, s->win);
    MPI_Win_unlock(0, s->win);
    return k;
}

static uint64_t take_next(struct steal *s)
{
    uint64_t one = 1, k = 0;
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, s->win);
    MPI_Fetch_and_op(&one, &k, MPI_UINT64_T, 0, 0, MPI_SUM, s->win);
    MPI_Win_unlock(0, s->win);
    return k;
}

/* The next chunk for this rank, or nchunks when there is none (or none that fits). */
static uint64_t next_chunk(struct steal *s)
{
    if (s->full)
        return s->nchunks;
    uint64_t k = s->max_memory ? take_if_fits(s) : take_next(s);
    return k < s->nchunks ? k : s->nchunks;
}

/* With a feed: the rows of the next chunk this rank takes. */
static bool next_span(void *ud, size_t *first, size_t *count)
{
    struct steal *s = ud;
    uint64_t k = next_chunk(s);
    if (k >= s->nchunks)
        return false;
    *first = (size_t)(k * s->chunk);
    *count = (size_t)(s->w->n - *first < s->chunk ? s->w->n - *first : s->chunk);
    return true;
}

static size_t refill(void *ud, struct s3dlio_xfer_job **jobs)
{
    struct steal *s = ud;
    uint64_t k = next_chunk(s);
    if (k >= s->nchunks)
        return 0;
    uint64_t first = k * s->chunk;
    size_t n = (size_t)(s->w->n - first < s->chunk ? s->w->n - first : s->chunk);
    *jobs = s->w->jobs + first;
    for (size_t i = 0; i < n; i++)
        s->w->taken[first + i] = true;
    if (s->mem)
        s->held += s3dlio_shard_add_block(s->w->shard, *jobs, n);
    return n;
}

enum s3dlio_rc s3dlio_coord_steal(MPI_Comm comm, struct s3dlio_backend *be,
                                  struct s3dlio_steal_work *w, struct s3dlio_xfer_opts *xo,
                                  struct s3dlio_xfer_stats *st, struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    struct steal s = {.w = w, .mem = w->mem, .max_memory = w->mem ? w->max_memory : 0};
    s.chunk = w->chunk ? w->chunk : w->n / ((uint64_t)nranks * 8) + 1;
    s.nchunks = (w->n + s.chunk - 1) / s.chunk;
    MPI_Win_allocate(rank == 0 ? (MPI_Aint)sizeof(uint64_t) : 0, sizeof(uint64_t), MPI_INFO_NULL,
                     comm, &s.counter, &s.win);
    if (rank == 0) {
        MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, s.win);
        *s.counter = 0;
        MPI_Win_unlock(0, s.win);
    }
    MPI_Barrier(comm);
    if (w->feed) { /* jobs are planned per chunk taken, and freed as they finish */
        s3dlio_feed_spans(w->feed, next_span, &s);
        s3dlio_feed_attach(w->feed, xo);
    } else {
        xo->refill = refill;
        xo->refill_ud = &s;
    }
    enum s3dlio_rc rc = s3dlio_xfer_run(be, NULL, 0, xo, st);
    if (w->feed)
        s3dlio_feed_finish(w->feed);
    xo->refill = NULL;
    xo->on_job_done = NULL;
    w->memory_full = s.full;
    MPI_Barrier(comm); /* every rank is done taking: the counter is final */
    uint64_t left = rank == 0 ? counter_now(&s) : 0;
    MPI_Win_free(&s.win);
    /* chunks no rank had room for: rank 0 names them (the job fails, agreed by the caller) */
    if (rank == 0 && left < s.nchunks && !rc && s.max_memory) {
        uint64_t objects = w->n - left * s.chunk, bytes = 0;
        for (uint64_t k = left; k < s.nchunks; k++)
            bytes += chunk_bytes(&s, k);
        rc = s3dlio_error_set(err, S3DLIO_E_LIMIT, "stage", w->uri,
                              "%" PRIu64 " objects (%" PRIu64 " bytes) not staged: every rank "
                              "reached --max-memory %" PRIu64, objects, bytes, w->max_memory);
    }
    return rc;
}
