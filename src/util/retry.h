/* SPDX-License-Identifier: Apache-2.0 */
/* Which failures are worth another attempt, for how long, and how long to wait before it. */
#ifndef S3DLIO_UTIL_RETRY_H
#define S3DLIO_UTIL_RETRY_H

#include <stdbool.h>
#include <stdint.h>
#include "s3dlio/error.h"

/*
 * The retry budget of one request. A failure to reach the server (refused, reset, timed
 * out) is retried until `time_ms` have passed since the request first failed, however many
 * attempts that takes, so a job outlives a server restart or a short network outage, and
 * a dead endpoint still fails in bounded time. Other transient failures (5xx, 429, short
 * bodies) get `retries` more attempts.
 */
struct s3dlio_retry_policy {
    int retries;      /* attempts after the first, for 5xx, 429, short bodies (5) */
    uint64_t time_ms; /* connection failures and timeouts: retried this long (30 s) */
    uint64_t base_ms; /* backoff: full jitter over base * 2^(attempt-1) ... (100 ms) */
    uint64_t cap_ms;  /* ... capped here (10 s) */
};
#define S3DLIO_RETRY_POLICY_DEFAULT {5, 30000, 100, 10000}

/*
 * Transient: connection errors, timeouts and stalls, short bodies, and the HTTP statuses
 * servers use for overload and gateway trouble (500, 502, 503, 504, 429). Any other 4xx,
 * a changed object and local I/O errors fail at once: retrying cannot change their outcome.
 */
bool s3dlio_retry_is_transient(const struct s3dlio_error *err);

/* True for 503 and 429: the server asks us to slow down. */
bool s3dlio_retry_is_throttle(const struct s3dlio_error *err);

/* The server could not be reached or stopped answering (S3DLIO_E_CONNECT, S3DLIO_E_TIMEOUT). */
bool s3dlio_retry_is_connection(const struct s3dlio_error *err);

/* A sign of an overloaded server: throttling, or a refused connection. Lower the load. */
bool s3dlio_retry_is_overload(const struct s3dlio_error *err);

/*
 * May the request that failed with err be tried again, as retry number `attempt` (1 = the
 * first retry), elapsed_ms after it first failed?
 */
bool s3dlio_retry_allowed(const struct s3dlio_retry_policy *p, const struct s3dlio_error *err,
                          int attempt, uint64_t elapsed_ms);

/*
 * When the time budget of a request's failures starts (ns, the caller's clock): an attempt
 * that got no answer at all (refused, or connected and never answered until the stall
 * timeout) started it when the attempt began, so a dead endpoint fails within
 * max(--retry-time, --stall-timeout), not after a whole stall plus --retry-time more.
 * Any other failure starts it now.
 */
uint64_t s3dlio_retry_budget_start(const struct s3dlio_error *err, uint64_t attempt_start_ns,
                                   uint64_t now_ns);

/*
 * Backoff before attempt `attempt` (1 = first retry) with full jitter: uniform in
 * [0, min(cap_ms, base_ms * 2^(attempt-1))], from the caller's RNG state (xorshift64*).
 */
uint64_t s3dlio_retry_backoff_ms(uint64_t *rng, int attempt, uint64_t base_ms, uint64_t cap_ms);

/*
 * The wait before the next attempt: the backoff drawn, but for a connection failure never past
 * the end of its time budget, so the last attempt comes as the budget ends and a dead endpoint
 * fails near --retry-time, not a whole backoff (up to cap_ms) later.
 */
uint64_t s3dlio_retry_wait_ms(const struct s3dlio_retry_policy *p, const struct s3dlio_error *err,
                              uint64_t backoff_ms, uint64_t elapsed_ms);

/*
 * A jitter seed that differs between processes of a job (rank, pid, clock), so ranks hit by
 * the same throttling do not draw the same delays and retry together.
 */
uint64_t s3dlio_retry_seed(uint64_t rank, uint64_t pid, uint64_t clock_ns);

#endif
