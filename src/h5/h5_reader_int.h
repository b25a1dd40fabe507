/* SPDX-License-Identifier: Apache-2.0 */
/* The reader's state, shared by h5_reader.c and h5_verify.c. */
#ifndef S3DLIO_H5_READER_INT_H
#define S3DLIO_H5_READER_INT_H

#include "h5/h5_layout.h"

#define H5R_BLOCK 1024 /* /index rows read at a time */

struct s3dlio_h5 {
    char *path;
    hid_t file, data, index;
    struct h5_rowtype rt;  /* in memory, widths as the file's */
    uint64_t count, bytes; /* /index rows (= the objects attribute), the bytes attribute */
    uint64_t data_len;     /* elements of /data */
    char *source;
    unsigned char *block; /* rows [block_first, block_first + block_n) */
    uint64_t block_first;
    size_t block_n;
    char *key, *etag; /* the current entry's strings, NUL-terminated */
};

/* Row i as an entry (loads its block). */
enum s3dlio_rc s3dlio_h5r_row(struct s3dlio_h5 *h, uint64_t i, struct s3dlio_h5_entry *e,
                              struct s3dlio_error *err);

#endif
