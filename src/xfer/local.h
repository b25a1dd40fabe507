/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The local side of a transfer: where GET bytes land (memory in place, a file by pwrite at
 * the object offset, the generator's verifier, nowhere) and where PUT bytes come from.
 * Files of GETs are written under a temporary name and renamed only when complete.
 */
#ifndef S3DLIO_XFER_LOCAL_H
#define S3DLIO_XFER_LOCAL_H

#include <stdint.h>
#include "s3dlio/xfer.h"

/* Per-object local state. */
struct s3dlio_local {
    const struct s3dlio_xfer_job *job;
    int fd;      /* -1 when none */
    char *tmp;   /* GET to file: the temporary path */
};

/*
 * Prepare the local side of job: GET to file creates the parent directories and the
 * temporary file; PUT from file opens it and sets *size. Fills err on failure.
 */
enum s3dlio_rc s3dlio_local_open(struct s3dlio_local *l, const struct s3dlio_xfer_job *job,
                                 uint64_t *size, struct s3dlio_error *err);

/* mkdir -p of the directory part of path; 0 on success, -1 with errno. */
int s3dlio_local_make_parents(const char *path);

/* GET bytes at an object offset. */
enum s3dlio_rc s3dlio_local_write(struct s3dlio_local *l, uint64_t offset, const void *data,
                                  size_t len, struct s3dlio_error *err);

/* PUT bytes from an object offset; *got may be short only at the end of the data. */
enum s3dlio_rc s3dlio_local_read(struct s3dlio_local *l, uint64_t offset, void *buf, size_t len,
                                 size_t *got, struct s3dlio_error *err);

/* Finish: a complete GET file is renamed into place; otherwise the temporary file goes. */
enum s3dlio_rc s3dlio_local_close(struct s3dlio_local *l, bool complete, struct s3dlio_error *err);

#endif
