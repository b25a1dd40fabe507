/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the HDF5 file `stage --to h5:PATH` writes (layout "s3dlio-mpi/h5-stage" version 1,
 * README "HDF5 destination and reader"): every object's bytes in one uint8 dataset /data and
 * one row per object in /index, sorted by key, with its offset, size, ETag, CRC-32C and the
 * rank it was assigned to. Serial HDF5: no MPI needed to call any of this.
 *
 * Files are input, not trusted: anything that is not a complete file of this layout is
 * refused with an error naming the path and what is wrong, never a crash. One reader is
 * used from one thread at a time.
 */
#ifndef S3DLIO_H5_H
#define S3DLIO_H5_H

#include <stdbool.h>
#include <stdint.h>
#include "s3dlio/error.h"

#define S3DLIO_H5_FORMAT  "s3dlio-mpi/h5-stage"
#define S3DLIO_H5_VERSION 1

struct s3dlio_h5;

/* One object as /index lists it. */
struct s3dlio_h5_entry {
    const char *key;  /* borrowed from the reader: valid until its next call */
    const char *etag; /* ditto; "" when the listing had none */
    uint64_t offset;  /* of its first byte in /data */
    uint64_t size;
    uint32_t crc32c; /* of its bytes */
    int32_t rank;    /* the rank it was assigned to */
};

/*
 * Open path and check it: an HDF5 file whose root says format S3DLIO_H5_FORMAT, version
 * S3DLIO_H5_VERSION and complete = 1 (a file without it is refused as incomplete), with a
 * 1-D uint8 /data and an /index of as many rows as the `objects` attribute says. *out is the
 * reader (caller frees with s3dlio_h5_close). Errors: S3DLIO_E_NOT_FOUND (no such file),
 * S3DLIO_E_PARSE (not HDF5, another format or version, incomplete, a malformed dataset).
 */
enum s3dlio_rc s3dlio_h5_open(const char *path, struct s3dlio_h5 **out, struct s3dlio_error *err);

/* Close and free (NULL is fine). */
void s3dlio_h5_close(struct s3dlio_h5 *h);

/* Objects in the file. */
uint64_t s3dlio_h5_count(const struct s3dlio_h5 *h);
/* Bytes of all objects, as the `bytes` attribute says. */
uint64_t s3dlio_h5_bytes(const struct s3dlio_h5 *h);
/* The root attribute `source` (the URI staged), "" if absent; borrowed. */
const char *s3dlio_h5_source(const struct s3dlio_h5 *h);

/* Entry i (0 <= i < count) in key order. Rows are read in blocks, memory stays bounded. */
enum s3dlio_rc s3dlio_h5_entry(struct s3dlio_h5 *h, uint64_t i, struct s3dlio_h5_entry *e,
                               struct s3dlio_error *err);

/* Find key (binary search over the sorted index). S3DLIO_E_NOT_FOUND naming it if absent. */
enum s3dlio_rc s3dlio_h5_find(struct s3dlio_h5 *h, const char *key, struct s3dlio_h5_entry *e,
                              struct s3dlio_error *err);

/*
 * Read len bytes at offset within entry e (offset + len <= e->size, else S3DLIO_E_USAGE)
 * into buf. An entry that points outside /data fails with S3DLIO_E_PARSE.
 */
enum s3dlio_rc s3dlio_h5_read(struct s3dlio_h5 *h, const struct s3dlio_h5_entry *e, uint64_t offset,
                              void *buf, uint64_t len, struct s3dlio_error *err);

struct s3dlio_h5_verify_result {
    uint64_t objects, bytes; /* checked */
    uint64_t bad;            /* objects whose bytes do not match their CRC-32C */
    char first_bad[1280];    /* the first of them in key order ("" none) */
};

/*
 * Check the structure (keys strictly sorted, every object within /data, no two overlapping,
 * sizes adding up to `bytes`; a failure is S3DLIO_E_PARSE naming the row) and then every
 * object's CRC-32C (S3DLIO_E_INTEGRITY naming the first bad key; r counts them all). Reads
 * the data in 4 MiB pieces; holds 24 bytes per object for the overlap check.
 */
enum s3dlio_rc s3dlio_h5_verify(struct s3dlio_h5 *h, struct s3dlio_h5_verify_result *r,
                                struct s3dlio_error *err);

#endif
