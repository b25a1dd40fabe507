/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Partitioning a listing over ranks. Pure and deterministic: the same listing, mode, rank
 * count and seed always give the same assignment, on any rank (rank 0 computes it; tests
 * recompute it).
 */
#ifndef S3DLIO_PARTITION_H
#define S3DLIO_PARTITION_H

#include <stddef.h>
#include <stdint.h>
#include "s3dlio/error.h"

enum s3dlio_partition_mode {
    S3DLIO_PART_SIZE = 0,   /* greedy longest-processing-time by bytes (default) */
    S3DLIO_PART_COUNT,      /* round-robin by object */
    S3DLIO_PART_CONTIGUOUS, /* key order kept: consecutive runs of about equal bytes */
};

/* Parse "size", "count", "contiguous". */
enum s3dlio_rc s3dlio_partition_mode_parse(const char *s, enum s3dlio_partition_mode *out);
const char *s3dlio_partition_mode_name(enum s3dlio_partition_mode m);

/*
 * Permute order[0..n) (initialised by the caller, usually 0..n-1) with a Fisher-Yates
 * shuffle seeded by seed: a reproducible per-epoch order.
 */
void s3dlio_shuffle(size_t *order, size_t n, uint64_t seed);

/*
 * Assign each object (sizes[i], visited in `order`; NULL: in index order) to a rank:
 * owner[i] in [0, nranks). LPT visits by size descending (ties by position in the visit) and
 * gives each object to the rank with the fewest bytes so far (ties: the fewest objects, then
 * the lowest rank, so empty objects are spread too). Returns per-rank byte totals in
 * rank_bytes (nranks entries; may be NULL).
 */
void s3dlio_partition(enum s3dlio_partition_mode mode, const uint64_t *sizes, const size_t *order,
                      size_t n, int nranks, int *owner, uint64_t *rank_bytes);

#endif
