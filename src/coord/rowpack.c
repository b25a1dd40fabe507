/* SPDX-License-Identifier: Apache-2.0 */
/* Packed listing rows in chunks (see rowpack.h). */
#include "coord/rowpack.h"

#include <stdlib.h>
#include "util/alloc.h"

/* Chunks this big travel in one message and free memory in steps small beside a share. A
 * pack's first chunk is small: rank 0 holds a pack per key it met finding the pieces (up to
 * tens of thousands, most of one row), and a 1 MiB mapping each would pass the system's
 * limit on mappings. (Chunks doubling from there cost ~14 bytes a row in heap the trims
 * could not hand back: straight to 1 MiB.) */
#define CHUNK ((uint64_t)1 << 20)
#define FIRST_CHUNK ((uint64_t)4 << 10)

static void push(struct s3dlio_rowpack *p, char *chunk, uint64_t len, uint64_t room)
{
    if (p->n == p->alloc) {
        p->alloc = p->alloc ? 2 * p->alloc : 4;
        p->chunk = s3dlio_xrealloc(p->chunk, p->alloc * sizeof(*p->chunk));
        p->len = s3dlio_xrealloc(p->len, p->alloc * sizeof(*p->len));
    }
    p->chunk[p->n] = chunk;
    p->len[p->n++] = len;
    p->room = room;
}

/* Room for need bytes at the end of the last chunk: a new chunk (malloc'd, untouched, so its
 * pages are only counted once rows are written into them) when there is not. */
static char *room_for(struct s3dlio_rowpack *p, uint64_t need)
{
    if (!p->n || p->room < need) {
        uint64_t cap = p->n ? CHUNK : FIRST_CHUNK;
        cap = cap > need ? cap : need;
        push(p, s3dlio_xmalloc(cap), 0, cap);
    }
    char *at = p->chunk[p->n - 1] + p->len[p->n - 1];
    p->len[p->n - 1] += need;
    p->room -= need;
    p->rows++;
    return at;
}

void s3dlio_rowpack_add(struct s3dlio_rowpack *p, const char *key, const char *etag, uint64_t size)
{
    size_t k = strlen(key) + 1, e = strlen(etag) + 1;
    char *at = room_for(p, 9 + k + e);
    memcpy(at, &size, 8);
    at[8] = 0;
    memcpy(at + 9, key, k);
    memcpy(at + 9 + k, etag, e);
}

void s3dlio_rowpack_add_row(struct s3dlio_rowpack *p, const char *row)
{
    size_t n = s3dlio_row_len(row);
    memcpy(room_for(p, n), row, n);
}

void s3dlio_rowpack_adopt(struct s3dlio_rowpack *p, char *chunk, uint64_t len, uint64_t rows)
{
    push(p, chunk, len, 0);
    p->rows += rows;
}

void s3dlio_rowpack_release(struct s3dlio_rowpack *p)
{
    for (size_t c = 0; c < p->n; c++)
        free(p->chunk[c]);
    free(p->chunk);
    free(p->len);
    memset(p, 0, sizeof(*p));
}

size_t s3dlio_rowpack_count(const char *chunk, uint64_t len)
{
    size_t n = 0;
    for (uint64_t at = 0; at < len; n++) {
        const char *k = len - at > 9 ? memchr(chunk + at + 9, '\0', len - at - 9) : NULL;
        const char *e = k ? memchr(k + 1, '\0', (size_t)(chunk + len - (k + 1))) : NULL;
        if (!e)
            return SIZE_MAX;
        at = (uint64_t)(e + 1 - chunk);
    }
    return n;
}

/* To the first row at or after chunk c; false when there is none. */
static bool seek(struct s3dlio_rowpack_at *at, size_t c)
{
    while (c < at->p->n && !at->p->len[c])
        c++;
    if (c >= at->p->n)
        return false;
    at->chunk = c;
    at->row = at->p->chunk[c];
    at->end = at->row + at->p->len[c];
    return true;
}

bool s3dlio_rowpack_first(const struct s3dlio_rowpack *p, struct s3dlio_rowpack_at *at)
{
    at->p = p;
    return seek(at, 0);
}

bool s3dlio_rowpack_next(struct s3dlio_rowpack_at *at)
{
    at->row += s3dlio_row_len(at->row);
    return at->row < at->end || seek(at, at->chunk + 1);
}
