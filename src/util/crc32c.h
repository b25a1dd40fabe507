/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CRC-32C (Castagnoli, the iSCSI / S3 x-amz-checksum-crc32c polynomial): the fast checksum
 * of checkpoint parts. The SSE4.2 instruction where the CPU has it, slicing-by-8 tables
 * elsewhere; both give the same values.
 */
#ifndef S3DLIO_UTIL_CRC32C_H
#define S3DLIO_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * The CRC-32C of data, continuing from crc: start with 0, and pass the previous result to
 * checksum a stream in pieces (the result equals one call over the whole).
 */
uint32_t s3dlio_crc32c(uint32_t crc, const void *data, size_t len);

/* s3dlio_crc32c of src while copying it to dst, in one pass (dst and src must not overlap). */
uint32_t s3dlio_crc32c_copy(uint32_t crc, void *dst, const void *src, size_t len);

/*
 * The CRC-32C of A||B from crc_a = CRC of A, crc_b = CRC of B (each started from 0) and
 * len_b = |B|: pieces checksummed out of order combine in offset order.
 */
uint32_t s3dlio_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

/* The portable form alone (tests compare it with the one the CPU runs). */
uint32_t s3dlio_crc32c_sw(uint32_t crc, const void *data, size_t len);

#endif
