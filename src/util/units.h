/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of sizes ("8MiB", "8M", "4096") and durations ("500ms", "30s", "2m"); timestamps. */
#ifndef S3DLIO_UTIL_UNITS_H
#define S3DLIO_UTIL_UNITS_H

#include <stdint.h>
#include "s3dlio/error.h"

/* K/M/G/T and KiB/MiB/GiB/TiB are powers of 1024, KB/MB/GB/TB powers of 1000. */
enum s3dlio_rc s3dlio_parse_size(const char *s, uint64_t *out);
/* Plain numbers are seconds. Result in milliseconds. */
enum s3dlio_rc s3dlio_parse_duration_ms(const char *s, uint64_t *out);
/* Strict non-negative integer (no sign, no trailing garbage). */
enum s3dlio_rc s3dlio_parse_u64(const char *s, uint64_t *out);

/* Now in UTC as ISO 8601 ("2026-12-02T04:16:40Z"): what manifests and files record as created. */
void s3dlio_utc_now_iso(char out[32]);

#endif
