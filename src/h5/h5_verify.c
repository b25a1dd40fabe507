/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3dlio_h5_verify: the structure of a stage file (what the reader trusts when it serves a
 * key) and then every object's bytes against its CRC-32C.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "h5/h5_reader_int.h"
#include "util/alloc.h"
#include "util/crc32c.h"

#define READ_PIECE (4u << 20)

struct span {
    uint64_t off, len, row;
};

static int by_offset(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Two objects sharing a byte (empty objects share none). */
static enum s3dlio_rc check_overlaps(struct s3dlio_h5 *h, struct span *s, uint64_t n,
                                     struct s3dlio_error *err)
{
    qsort(s, n, sizeof(*s), by_offset);
    uint64_t end = 0, end_row = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (!s[i].len)
            continue;
        if (s[i].off < end)
            return s3dlio_error_set(err, S3DLIO_E_PARSE, "h5", h->path,
                                    "index rows %" PRIu64 " and %" PRIu64 " overlap in /data",
                                    end_row, s[i].row);
        end = s[i].off + s[i].len;
        end_row = s[i].row;
    }
    return S3DLIO_OK;
}

/* Keys strictly sorted, each object inside /data, sizes adding up to `bytes`, no overlaps. */
static enum s3dlio_rc check_structure(struct s3dlio_h5 *h, struct s3dlio_error *err)
{
    struct span *s = s3dlio_xcalloc(h->count ? h->count : 1, sizeof(*s));
    char *prev = s3dlio_xcalloc(1, h->rt.key_w + 1);
    uint64_t sum = 0;
    enum s3dlio_rc rc = S3DLIO_OK;
    struct s3dlio_h5_entry e;
    for (uint64_t i = 0; !rc && i < h->count; i++) {
        if ((rc = s3dlio_h5r_row(h, i, &e, err)))
            break;
        if (i && strcmp(prev, e.key) >= 0)
            rc = s3dlio_error_set(err, S3DLIO_E_PARSE, "h5", h->path,
                                  "index row %" PRIu64 " ('%s') is not after '%s': keys must be "
                                  "sorted and unique",
                                  i, e.key, prev);
        else if (e.offset > h->data_len || e.size > h->data_len - e.offset)
            rc = s3dlio_error_set(err, S3DLIO_E_PARSE, "h5", h->path,
                                  "index row %" PRIu64 " ('%s') lies outside /data", i, e.key);
        else if (sum + e.size < sum)
            rc = s3dlio_error_set(err, S3DLIO_E_PARSE, "h5", h->path, "object sizes overflow");
        sum += e.size;
        s[i] = (struct span){ e.offset, e.size, i };
        memcpy(prev, e.key, strlen(e.key) + 1);
    }
    if (!rc && sum != h->bytes)
        rc = s3dlio_error_set(err, S3DLIO_E_PARSE, "h5", h->path,
                              "object sizes add up to %" PRIu64 " bytes, the 'bytes' attribute "
                              "says %" PRIu64,
                              sum, h->bytes);
    if (!rc)
        rc = check_overlaps(h, s, h->count, err);
    free(prev);
    free(s);
    return rc;
}

/* Entry e's CRC-32C, read READ_PIECE bytes at a time into buf. */
static enum s3dlio_rc object_crc(struct s3dlio_h5 *h, const struct s3dlio_h5_entry *e,
                                 unsigned char *buf, uint32_t *crc, struct s3dlio_error *err)
{
    *crc = 0;
    for (uint64_t at = 0; at < e->size;) {
        uint64_t n = e->size - at < READ_PIECE ? e->size - at : READ_PIECE;
        enum s3dlio_rc rc = s3dlio_h5_read(h, e, at, buf, n, err);
        if (rc)
            return rc;
        *crc = s3dlio_crc32c(*crc, buf, n);
        at += n;
    }
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_h5_verify(struct s3dlio_h5 *h, struct s3dlio_h5_verify_result *r,
                                struct s3dlio_error *err)
{
    memset(r, 0, sizeof(*r));
    enum s3dlio_rc rc = check_structure(h, err);
    unsigned char *buf = rc ? NULL : s3dlio_xmalloc(READ_PIECE);
    uint32_t first_want = 0, first_got = 0;
    struct s3dlio_h5_entry e;
    for (uint64_t i = 0; !rc && i < h->count; i++) {
        uint32_t crc;
        if ((rc = s3dlio_h5r_row(h, i, &e, err)) || (rc = object_crc(h, &e, buf, &crc, err)))
            break;
        r->objects++;
        r->bytes += e.size;
        if (crc == e.crc32c)
            continue;
        if (!r->bad++) {
            snprintf(r->first_bad, sizeof(r->first_bad), "%s", e.key);
            first_want = e.crc32c;
            first_got = crc;
        }
    }
    free(buf);
    if (!rc && r->bad)
        rc = s3dlio_error_set(err, S3DLIO_E_INTEGRITY, "h5 verify", h->path,
                              "%" PRIu64 " of %" PRIu64 " objects do not match their CRC-32C; "
                              "first '%s': index 0x%08" PRIx32 ", data 0x%08" PRIx32,
                              r->bad, r->objects, r->first_bad, first_want, first_got);
    return rc;
}
