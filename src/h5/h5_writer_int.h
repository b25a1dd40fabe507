/* SPDX-License-Identifier: Apache-2.0 */
/* The writer's state, shared by its file side (h5_writer.c) and its sink (h5_sink.c). */
#ifndef S3DLIO_H5_WRITER_INT_H
#define S3DLIO_H5_WRITER_INT_H

#include <hdf5.h>
#include "h5/h5_writer.h"

/* A run of an object's bytes already checksummed: [off, off + len) with CRC-32C crc. */
struct h5w_piece {
    uint64_t off, len;
    uint32_t crc;
};

struct s3dlio_h5_writer;

struct h5w_row {
    struct s3dlio_h5_writer *w;
    uint64_t base; /* of the object's first byte in /data */
    uint64_t size;
    struct h5w_piece *pieces; /* disjoint runs, merged as they meet: one per range in flight */
    size_t npieces, cap;
    uint32_t crc; /* when done */
    bool reread;  /* bytes came twice (the object restarted): the CRC is read
                     back from the file at close instead */
    bool done;    /* closed complete on this rank */
};

/* A write-combining buffer: bytes [off, off + len) of row's object, not yet in the file. */
struct h5w_slot {
    unsigned char *buf;  /* slot_size bytes, allocated on first use */
    struct h5w_row *row; /* NULL: free */
    uint64_t off;
    size_t len;
    uint64_t used; /* last use, for eviction */
};

struct s3dlio_h5_writer {
    int rank, nranks;
    hid_t file, data, index;
    char *path, *tmp;
    const struct s3dlio_h5_spec *spec;
    struct h5w_row *rows; /* spec->n */
    struct h5w_slot *slots;
    size_t nslots, slot_size;
    uint64_t clock; /* counts slot uses */
    uint64_t total; /* bytes of /data */
    size_t key_w, etag_w;
    bool io_failed; /* a write failed (maybe while flushing another object's slot) */
};

/* Write every slot still holding bytes (0, or -1 after a failed write, err set). */
int s3dlio_h5w_flush_all(struct s3dlio_h5_writer *w, struct s3dlio_error *err);
/* Free the slots' buffers and the rows' pieces. */
void s3dlio_h5w_sink_release(struct s3dlio_h5_writer *w);

#endif
