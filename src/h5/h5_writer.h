/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parallel HDF5 writer behind `stage --to h5:PATH`: one shared file, created under a
 * temporary name beside PATH by every rank of a communicator, filled through the transfer
 * engine's sink (struct s3dlio_xfer_sink) and renamed to PATH only when every rank agreed
 * that every object arrived; otherwise closed and deleted.
 *
 * Memory: GET bytes are gathered in at most `nslots` write-combining buffers of `slot_size`
 * bytes (allocated on first use) and each full, interrupted or finished run of bytes goes to
 * /data as one independent H5Dwrite, so a rank holds nslots x slot_size bytes of data
 * whatever its shard; plus about 64 bytes per object of the table (every rank has the table
 * anyway) and, on rank 0 while the index is written, 4096 rows at a time.
 */
#ifndef S3DLIO_H5_WRITER_H
#define S3DLIO_H5_WRITER_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "s3dlio/error.h"
#include "s3dlio/xfer.h"

#define S3DLIO_H5_SLOT_SIZE (4u << 20) /* bytes per write-combining buffer */

/* What goes in the file: the same on every rank. Arrays are borrowed for the writer's life. */
struct s3dlio_h5_spec {
    const char *path;    /* the final name; its directory must exist */
    const char *tmp_tag; /* the temporary file is "<path>.s3dlio-tmp-<tmp_tag>" */
    const char *source;  /* the `source` attribute */
    size_t n;            /* objects, in table order */
    const char *const *keys;
    const uint64_t *sizes;
    const char *const *etags; /* NULL entries or "": unknown */
    bool etag_follows_key;    /* etags unused: each key is followed by its ETag (a packed
                                 table's rows: key, NUL, ETag, NUL) */
    const int *owner;         /* the rank each object was assigned to: it lays out /data */
    size_t nslots;            /* write-combining buffers (at least 1) */
    size_t slot_size;         /* bytes each (0: S3DLIO_H5_SLOT_SIZE) */
};

struct s3dlio_h5_writer;

/*
 * Create the temporary file with /data (contiguous, allocated, never filled: each rank's
 * objects in one extent, rank 0's first, in table order), /index and the root attributes
 * but `complete`. Collective; the outcome is agreed, so every rank returns the same rc
 * (S3DLIO_E_USAGE when the directory of path does not exist or path is a directory).
 */
enum s3dlio_rc s3dlio_h5_writer_open(MPI_Comm comm, const struct s3dlio_h5_spec *spec,
                                     struct s3dlio_h5_writer **out, struct s3dlio_error *err);

/* The sink every job of the writer uses, and the sink_ud of object i (table order). */
extern const struct s3dlio_xfer_sink s3dlio_h5_sink;
void *s3dlio_h5_writer_ud(struct s3dlio_h5_writer *w, size_t i);

/*
 * Finish, collectively, and free w (NULL: returns rc). rc is this rank's outcome: when every
 * rank passes S3DLIO_OK and every object was written exactly once, rank 0 writes /index
 * (sorted by key, CRC-32C of each object gathered from whoever fetched it), then
 * `complete` = 1 is written, the file is closed and rank 0 renames it to path. On any
 * failure the file is closed and deleted and an existing file at path is left as it was.
 * Returns the agreed rc (rc itself if it was set), err naming what failed.
 */
enum s3dlio_rc s3dlio_h5_writer_finish(MPI_Comm comm, struct s3dlio_h5_writer *w, enum s3dlio_rc rc,
                                       struct s3dlio_error *err);

#endif
