/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deterministic synthetic data for benchmarks and tests. Every byte is a pure function of
 * (seed, key, offset), so any range of any object can be generated on its own (parallel
 * ranged PUT parts) and a GET can be verified without a stored checksum. Optional
 * dedup and compress factors shape the data as s3dlio's generator does.
 */
#ifndef S3DLIO_XFER_DATAGEN_H
#define S3DLIO_XFER_DATAGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Block granularity of dedup and compression (and of the self-describing header). */
#define S3DLIO_GEN_BLOCK 4096u

struct s3dlio_gen {
    uint64_t seed;
    unsigned dedup_factor;    /* 1 (default, 0 also means 1): every block unique;
                                 N: about 1 in N blocks unique across the dataset */
    unsigned compress_factor; /* 1 (default, 0 also means 1): incompressible;
                                 N: compresses about N:1 (zstd/gzip) */
};

/* Size of object `index` of a dataset: uniform in [min, max], deterministic from seed. */
uint64_t s3dlio_gen_object_size(uint64_t seed, uint64_t index, uint64_t min, uint64_t max);

/* Fill buf with bytes [offset, offset+len) of object `key`. Any alignment. */
void s3dlio_gen_fill(const struct s3dlio_gen *g, const char *key, uint64_t offset, void *buf,
                     size_t len);

/*
 * Check that buf holds bytes [offset, offset+len) of object `key`. On mismatch returns false
 * and sets *bad_offset (may be NULL) to the object offset of the first wrong byte.
 */
bool s3dlio_gen_verify(const struct s3dlio_gen *g, const char *key, uint64_t offset, const void *buf,
                       size_t len, uint64_t *bad_offset);

#endif
