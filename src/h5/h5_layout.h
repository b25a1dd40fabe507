/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The on-disk layout shared by the stage writer and the reader (README "HDF5 destination and
 * reader"): names of the root attributes and datasets, and the /index row type. Keeping both
 * sides on one definition is what keeps them agreeing.
 */
#ifndef S3DLIO_H5_LAYOUT_H
#define S3DLIO_H5_LAYOUT_H

#include <hdf5.h>
#include <stddef.h>
#include "s3dlio/h5.h"

#define H5L_DATA            "data"
#define H5L_INDEX           "index"
#define H5L_ATTR_FORMAT     "format"
#define H5L_ATTR_VERSION    "version"
#define H5L_ATTR_SOURCE     "source"
#define H5L_ATTR_CREATED    "created"
#define H5L_ATTR_WORLD_SIZE "world_size"
#define H5L_ATTR_OBJECTS    "objects"
#define H5L_ATTR_BYTES      "bytes"
#define H5L_ATTR_COMPLETE   "complete"

/*
 * One /index row: key and etag are fixed-length, NUL-padded strings as wide as the longest
 * key and ETag of the file (at least 1 byte). In memory a row is `size` bytes with the
 * members at the off_* offsets (numbers naturally aligned); on disk the same members packed,
 * little-endian, in the order key, offset, size, etag, crc32c, rank.
 */
struct h5_rowtype {
    hid_t mem, file; /* H5I_INVALID_HID until made */
    size_t key_w, etag_w;
    size_t size;
    size_t off_key, off_etag, off_offset, off_size, off_crc, off_rank;
};

/* Make both types for the given widths. Returns 0, or -1 when HDF5 refused. */
int s3dlio_h5_rowtype_make(struct h5_rowtype *t, size_t key_w, size_t etag_w);
/* Close both types (accepts a zeroed or half-made struct). */
void s3dlio_h5_rowtype_release(struct h5_rowtype *t);

/* HDF5 prints its error stack on every failed call unless told not to: we say what failed. */
struct h5_quiet {
    H5E_auto2_t fn;
    void *data;
};
void s3dlio_h5_quiet_begin(struct h5_quiet *q);
void s3dlio_h5_quiet_end(const struct h5_quiet *q);

#endif
