/* SPDX-License-Identifier: Apache-2.0 */
/* Internal pieces of the coordination layer. */
#ifndef S3DLIO_COORD_INT_H
#define S3DLIO_COORD_INT_H

#include <mpi.h>
#include "s3dlio/backend.h"
#include "s3dlio/coord.h"
#include "s3dlio/stats.h"

/* The listing as every rank sees it after the broadcast. */
struct s3dlio_table {
    size_t n;
    uint64_t *sizes;
    int *owner;
    bool *dir_conflict;  /* another key has this one as its directory (a GET to dir: fails it) */
    const char **keys;   /* point into blob */
    const char **etags;  /* ... as listed, "" unknown */
    char *blob;          /* the packed broadcast buffer */
    uint64_t total_bytes;
};
void s3dlio_table_release(struct s3dlio_table *t);

/*
 * Rank 0 packs list (sizes, ETags, owners, directory conflicts, keys) and broadcasts it; the
 * other ranks unpack. owner and dir_conflict (NULL: none) are rank 0's only. Collective.
 */
enum s3dlio_rc s3dlio_table_bcast(MPI_Comm comm, const struct s3dlio_objlist *list, const int *owner,
                                  const bool *dir_conflict, struct s3dlio_table *t,
                                  struct s3dlio_error *err);

/*
 * Agree on failure: every rank passes its rc; all learn whether any failed, and the first
 * failing rank's error (with "rank R (host): " prepended) reaches every rank's err. Returns
 * the first failing rank's rc, or S3DLIO_OK. Collective.
 */
enum s3dlio_rc s3dlio_coord_agree(MPI_Comm comm, enum s3dlio_rc rc, struct s3dlio_error *err);

/* What --steal works on: the whole job list, of which each rank takes chunks. */
struct s3dlio_steal_work {
    struct s3dlio_xfer_job *jobs;  /* every object, in listing order */
    size_t n;
    bool *taken;                   /* n flags: this rank took the job */
    uint64_t chunk;                /* objects per chunk (0: about n / (8 x ranks)) */
    bool mem;                      /* --to mem: memory per chunk taken, into shard */
    uint64_t max_memory;           /* 0: none */
    struct s3dlio_shard *shard;    /* blocks are added here */
    const char *uri;               /* for messages */
    bool memory_full;              /* out: this rank stopped taking chunks at --max-memory */
};

/*
 * MEM: one block for jobs[0..n), each job's `mem` pointing at its place in it; the block
 * joins sh->blocks. Returns its bytes.
 */
uint64_t s3dlio_shard_add_block(struct s3dlio_shard *sh, struct s3dlio_xfer_job *jobs, size_t n);

/*
 * Run one engine on the chunks this rank takes (collective: window and barriers). Rank 0
 * returns S3DLIO_E_LIMIT when chunks were left because no rank had room for them.
 */
enum s3dlio_rc s3dlio_coord_steal(MPI_Comm comm, struct s3dlio_backend *be,
                                  struct s3dlio_steal_work *w, struct s3dlio_xfer_opts *xo,
                                  struct s3dlio_xfer_stats *st, struct s3dlio_error *err);

/* Live progress: a counter window on rank 0 that every rank adds its bytes to. */
struct s3dlio_progress {
    MPI_Win win;
    uint64_t *counter;     /* rank 0's window memory */
    uint64_t reported;     /* what this rank has added so far */
    struct s3dlio_progress_line line; /* rank 0's display */
    int mode;              /* S3DLIO_PROGRESS_* */
    int rank;
    bool active;
};
void s3dlio_progress_init(struct s3dlio_progress *p, MPI_Comm comm, uint64_t total, int mode);
/* Add this rank's bytes (absolute, monotonic) and, on rank 0, print. */
void s3dlio_progress_update(struct s3dlio_progress *p, uint64_t bytes_done);
void s3dlio_progress_finish(struct s3dlio_progress *p);

#endif
