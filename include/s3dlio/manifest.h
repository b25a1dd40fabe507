/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The manifest of a checkpoint saved to S3 (NAME/manifest.json): which files it holds, as
 * which objects, with a CRC-32C per part so a restore checks every byte it writes. Written
 * only after every object is complete, so a manifest's presence means a whole checkpoint.
 * A manifest comes from a bucket: parsing trusts nothing in it (paths cannot leave the
 * restore directory, part tables must add up), and refuses what it cannot prove.
 *
 * JSON, "format": "s3dlio-mpi/checkpoint", "version": 1:
 *   { "format", "version", "name", "created" (UTC, ISO 8601), "world_size",
 *     "files": [ { "path", "key", "size", "part_size", "etag", "crc32c": ["8 hex", ...] } ] }
 * Part i of a file covers bytes [i * part_size, min(size, (i + 1) * part_size)); a file of
 * 0 bytes has no part.
 */
#ifndef S3DLIO_MANIFEST_H
#define S3DLIO_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include "s3dlio/error.h"

#define S3DLIO_MANIFEST_FORMAT "s3dlio-mpi/checkpoint"
#define S3DLIO_MANIFEST_VERSION 1

struct s3dlio_ckpt_file {
    char *path;          /* relative to the checkpoint's root: "model.h5", "rank-0003/opt.pt" */
    char *key;           /* the object's key in the bucket */
    uint64_t size;
    uint64_t part_size;  /* bytes per part (the last may be shorter) */
    char etag[80];       /* the object's ETag, unquoted: restores pin their GETs to it */
    uint32_t *crc32c;    /* nparts checksums */
    size_t nparts;
};

struct s3dlio_ckpt_manifest {
    int version;
    char name[256];
    char created[32];
    int world_size;      /* ranks that saved it (a restore may use any number) */
    struct s3dlio_ckpt_file *files;
    size_t nfiles;
};

/* Parts of a file of `size` bytes in parts of `part_size` (0 for an empty file). */
size_t s3dlio_manifest_nparts(uint64_t size, uint64_t part_size);

/* The manifest as JSON text (heap, NUL-terminated) in *out. Checks it as parsing would. */
enum s3dlio_rc s3dlio_manifest_write(const struct s3dlio_ckpt_manifest *m, char **out,
                                     struct s3dlio_error *err);

/* Parse and check text[0..len); on failure *m is empty and err names the field at fault. */
enum s3dlio_rc s3dlio_manifest_parse(const char *text, size_t len, struct s3dlio_ckpt_manifest *m,
                                     struct s3dlio_error *err);

void s3dlio_manifest_release(struct s3dlio_ckpt_manifest *m);

#endif
