/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rows of a listing packed as they travel between ranks, in chunks: per row its size (8
 * bytes), a directory-conflict flag (1), the key and its NUL, the ETag and its NUL. 11 bytes
 * plus the strings, where a listed row costs 26: a rank holding its rows packed holds close
 * to their strings alone. Rows never straddle chunks, so a chunk can travel (and be freed)
 * on its own and the rows it carries point into it.
 */
#ifndef S3DLIO_COORD_ROWPACK_H
#define S3DLIO_COORD_ROWPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct s3dlio_rowpack {
    char **chunk;
    uint64_t *len;  /* bytes used in each chunk */
    size_t n, alloc;
    uint64_t room;  /* free bytes at the end of the last chunk */
    uint64_t rows;
};

/* Append a row (conflict flag clear). */
void s3dlio_rowpack_add(struct s3dlio_rowpack *p, const char *key, const char *etag, uint64_t size);
/* Append a copy of a packed row. */
void s3dlio_rowpack_add_row(struct s3dlio_rowpack *p, const char *row);
/* Adopt a chunk of rows (malloc'd, len bytes, rows of them) as the pack's next. */
void s3dlio_rowpack_adopt(struct s3dlio_rowpack *p, char *chunk, uint64_t len, uint64_t rows);
void s3dlio_rowpack_release(struct s3dlio_rowpack *p);
/* Rows in a chunk of len bytes, or SIZE_MAX when one runs past its end. */
size_t s3dlio_rowpack_count(const char *chunk, uint64_t len);

static inline uint64_t s3dlio_row_size(const char *row)
{
    uint64_t v;
    memcpy(&v, row, 8);
    return v;
}
static inline const char *s3dlio_row_key(const char *row)
{
    return row + 9;
}
static inline const char *s3dlio_row_etag(const char *row)
{
    return row + 9 + strlen(row + 9) + 1;
}
static inline size_t s3dlio_row_len(const char *row)
{
    const char *e = s3dlio_row_etag(row);
    return (size_t)(e - row) + strlen(e) + 1;
}

/* A place in a pack: walk it with s3dlio_rowpack_first and _next. */
struct s3dlio_rowpack_at {
    const struct s3dlio_rowpack *p;
    size_t chunk;
    char *row, *end;
};
/* To the pack's first row; false when it has none. */
bool s3dlio_rowpack_first(const struct s3dlio_rowpack *p, struct s3dlio_rowpack_at *at);
/* To the next row; false past the last. */
bool s3dlio_rowpack_next(struct s3dlio_rowpack_at *at);

#endif
