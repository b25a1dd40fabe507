/* SPDX-License-Identifier: Apache-2.0 */
/* Which failures are worth another attempt, and how long to wait before it. */
#ifndef S3DLIO_UTIL_RETRY_H
#define S3DLIO_UTIL_RETRY_H

#include <stdbool.h>
#include <stdint.h>
#include "s3dlio/error.h"

/*
 * Transient: connection errors, timeouts and stalls, short bodies, and the HTTP statuses
 * servers use for overload and gateway trouble (500, 502, 503, 504, 429). Any other 4xx,
 * and local I/O errors, fail at once: retrying cannot change their outcome.
 */
bool s3dlio_retry_is_transient(const struct s3dlio_error *err);

/* True for 503 and 429: the server asks us to slow down. */
bool s3dlio_retry_is_throttle(const struct s3dlio_error *err);

/*
 * Backoff before attempt `attempt` (1 = first retry) with full jitter: uniform in
 * [0, min(cap_ms, base_ms * 2^(attempt-1))], from the caller's RNG state (xorshift64*).
 */
uint64_t s3dlio_retry_backoff_ms(uint64_t *rng, int attempt, uint64_t base_ms, uint64_t cap_ms);

#endif
