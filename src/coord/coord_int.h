/* SPDX-License-Identifier: Apache-2.0 */
/* Internal pieces of the coordination layer. */
#ifndef S3DLIO_COORD_INT_H
#define S3DLIO_COORD_INT_H

#include <mpi.h>
#include "s3dlio/backend.h"
#include "s3dlio/coord.h"

/* The listing as every rank sees it after the broadcast. */
struct s3dlio_table {
    size_t n;
    uint64_t *sizes;
    int *owner;
    const char **keys;   /* point into blob */
    char *blob;          /* the packed broadcast buffer */
    uint64_t total_bytes;
};
void s3dlio_table_release(struct s3dlio_table *t);

/*
 * Rank 0 packs list (sizes, owners, keys) and broadcasts it; the other ranks unpack.
 * owner (rank 0 only) is the partition. Collective.
 */
enum s3dlio_rc s3dlio_table_bcast(MPI_Comm comm, const struct s3dlio_objlist *list, const int *owner,
                                  struct s3dlio_table *t, struct s3dlio_error *err);

/*
 * Agree on failure: every rank passes its rc; all learn whether any failed, and the first
 * failing rank's error (with "rank R (host): " prepended) reaches every rank's err. Returns
 * the first failing rank's rc, or S3DLIO_OK. Collective.
 */
enum s3dlio_rc s3dlio_coord_agree(MPI_Comm comm, enum s3dlio_rc rc, struct s3dlio_error *err);

/* Live progress: a counter window on rank 0 that every rank adds its bytes to. */
struct s3dlio_progress {
    MPI_Win win;
    uint64_t *counter;     /* rank 0's window memory */
    uint64_t reported;     /* what this rank has added so far */
    uint64_t total;
    double t0;
    double last_print;
    double line_s;         /* seconds between plain progress lines */
    int mode;              /* 0 none, 1 lines, 2 bar */
    int rank;
    bool active;
};
void s3dlio_progress_init(struct s3dlio_progress *p, MPI_Comm comm, uint64_t total, int mode);
/* Add this rank's bytes (absolute, monotonic) and, on rank 0, print. */
void s3dlio_progress_update(struct s3dlio_progress *p, uint64_t bytes_done);
void s3dlio_progress_finish(struct s3dlio_progress *p);

#endif
