/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One-way sync: what must be copied from a source listing to a destination listing, and
 * what is extra at the destination. Pure functions of two listings (no I/O, no MPI), so the
 * single rule every sync follows is unit-tested alone; src/coord/sync.c lists, copies and
 * deletes by it.
 */
#ifndef S3DLIO_SYNC_H
#define S3DLIO_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include "s3dlio/backend.h"

/* When an object present on both sides is copied again (--compare). */
enum s3dlio_sync_compare {
    S3DLIO_SYNC_SIZE = 0, /* sizes differ (default) */
    S3DLIO_SYNC_ETAG,     /* ... or ETags differ: meaningful only between two S3 sides */
    S3DLIO_SYNC_MTIME,    /* ... or the source is newer than the destination (aws s3 sync,
                             rclone --update) */
};

/* Parse "size", "etag", "mtime"; S3DLIO_E_USAGE otherwise. */
enum s3dlio_rc s3dlio_sync_compare_parse(const char *s, enum s3dlio_sync_compare *out);
const char *s3dlio_sync_compare_name(enum s3dlio_sync_compare c);

/*
 * The root of one side as a key prefix: key with a '/' appended unless it is empty or ends
 * in one, so "data" syncs "data/..." and never "database/...". Caller frees.
 */
char *s3dlio_sync_root(const char *key);

/* The difference of two listings. Keys are relative to each side's root. */
struct s3dlio_sync_diff {
    struct s3dlio_objlist copy; /* source objects to copy, in key (byte) order, with the
                                   source's size, mtime and ETag */
    size_t *copy_src;           /* copy.items[i] is src->items[copy_src[i]] */
    struct s3dlio_objlist del;  /* destination objects the source does not have, in key order */
    uint64_t copy_bytes;
    size_t missing;             /* copies of objects the destination does not have */
    size_t differ;              /* copies of objects that compared different */
    size_t same;                /* on both sides and equal: left alone */
    size_t src_markers, dst_markers; /* keys ending in '/' (folder markers): skipped both ways */
    size_t size_only;           /* pairs compared by size only: a side had no ETag (etag) or
                                   no time (mtime) */
    size_t outside;             /* listed keys not below their side's root: ignored */
};

/*
 * Merge the two listings (any order; sorted here) into out (zeroed first). src_root and
 * dst_root are prefixes as s3dlio_sync_root makes them; a key's part below its root is what
 * the two sides are matched on. Folder markers are neither copied nor deleted. Release with
 * s3dlio_sync_diff_release.
 */
void s3dlio_sync_diff(const struct s3dlio_objlist *src, const char *src_root,
                      const struct s3dlio_objlist *dst, const char *dst_root,
                      enum s3dlio_sync_compare cmp, struct s3dlio_sync_diff *out);
void s3dlio_sync_diff_release(struct s3dlio_sync_diff *d);

#endif
