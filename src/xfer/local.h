/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The local side of a transfer: where GET bytes land (memory in place, a file by pwrite at
 * the object offset, a stream in order, the generator's verifier, nowhere) and where PUT
 * bytes come from. Files of GETs are written through util/atomic_file: a temporary name,
 * renamed only when complete.
 */
#ifndef S3DLIO_XFER_LOCAL_H
#define S3DLIO_XFER_LOCAL_H

#include <stdint.h>
#include "s3dlio/xfer.h"
#include "util/atomic_file.h"

/* Per-object local state. */
struct s3dlio_local {
    const struct s3dlio_xfer_job *job;
    int fd;                        /* PUT from a file; -1 when none */
    struct s3dlio_atomic_file out; /* GET to a file */
    uint64_t streamed;             /* STREAM: bytes written (GET) or read (PUT) so far */
    bool sink_closed;              /* SINK: its close was called (once per object) */
};

/* A local side with nothing open yet (local_close on it is a no-op). */
void s3dlio_local_init(struct s3dlio_local *l, const struct s3dlio_xfer_job *job);

/*
 * Prepare the local side of job: GET to file creates the parent directories and the
 * temporary file; PUT from file opens it and sets *size. Fills err on failure.
 */
enum s3dlio_rc s3dlio_local_open(struct s3dlio_local *l, const struct s3dlio_xfer_job *job,
                                 uint64_t *size, struct s3dlio_error *err);

/* GET bytes at an object offset. */
enum s3dlio_rc s3dlio_local_write(struct s3dlio_local *l, uint64_t offset, const void *data,
                                  size_t len, struct s3dlio_error *err);

/* PUT bytes from an object offset; *got may be short only at the end of the data. */
enum s3dlio_rc s3dlio_local_read(struct s3dlio_local *l, uint64_t offset, void *buf, size_t len,
                                 size_t *got, struct s3dlio_error *err);

/*
 * PUT from a stream: read at most len bytes the stream has ready, without waiting for more
 * (*got 0 when none are). *eof is set when the input has ended. A signal makes it return
 * with nothing rather than fail.
 */
enum s3dlio_rc s3dlio_local_pull(struct s3dlio_local *l, void *buf, size_t len, size_t *got,
                                 bool *eof, struct s3dlio_error *err);

/* Wait at most timeout_ms for a PUT stream to have input (or its end, or an error). */
void s3dlio_local_wait_input(const struct s3dlio_local *l, int timeout_ms);

/* Can GET bytes already written be read back (memory, file, generator)? */
bool s3dlio_local_can_reread(const struct s3dlio_local *l);

/* Read back len GET bytes written at offset (for hashing parts that landed out of order). */
enum s3dlio_rc s3dlio_local_reread(struct s3dlio_local *l, uint64_t offset, void *buf, size_t len,
                                   struct s3dlio_error *err);

/* A GET starts over (--on-change restart): forget what was written. */
enum s3dlio_rc s3dlio_local_restart(struct s3dlio_local *l, struct s3dlio_error *err);

/*
 * Finish: a complete GET file is renamed into place (after an fsync when sync); otherwise
 * the temporary file goes.
 */
enum s3dlio_rc s3dlio_local_close(struct s3dlio_local *l, bool complete, bool sync,
                                  struct s3dlio_error *err);

#endif
