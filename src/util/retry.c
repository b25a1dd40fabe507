/* SPDX-License-Identifier: Apache-2.0 */
/* Retry policy: classification, time-based budget, and exponential backoff with full jitter. */
#include "util/retry.h"

bool s3dlio_retry_is_transient(const struct s3dlio_error *err)
{
    switch (err->rc) {
    case S3DLIO_E_CONNECT:
    case S3DLIO_E_TIMEOUT:
    case S3DLIO_E_INTEGRITY: /* a body cut short: the connection died mid-transfer */
        return true;
    case S3DLIO_E_S3:
        /* an <Error> inside a 200 (CompleteMultipartUpload, CopyObject): AWS says retry */
        if (err->http_status == 200)
            return true;
        /* fall through */
    case S3DLIO_E_HTTP:
        return err->http_status == 500 || err->http_status == 502 || err->http_status == 503 ||
               err->http_status == 504 || err->http_status == 429;
    default:
        return false;
    }
}

bool s3dlio_retry_is_throttle(const struct s3dlio_error *err)
{
    return err->http_status == 503 || err->http_status == 429;
}

bool s3dlio_retry_is_connection(const struct s3dlio_error *err)
{
    return err->rc == S3DLIO_E_CONNECT || err->rc == S3DLIO_E_TIMEOUT;
}

bool s3dlio_retry_is_overload(const struct s3dlio_error *err)
{
    return s3dlio_retry_is_throttle(err) || (err->rc == S3DLIO_E_CONNECT && err->no_connection);
}

bool s3dlio_retry_allowed(const struct s3dlio_retry_policy *p, const struct s3dlio_error *err,
                          int attempt, uint64_t elapsed_ms)
{
    if (!s3dlio_retry_is_transient(err))
        return false;
    if (s3dlio_retry_is_connection(err))
        return elapsed_ms < p->time_ms;
    return attempt <= p->retries;
}

uint64_t s3dlio_retry_wait_ms(const struct s3dlio_retry_policy *p, const struct s3dlio_error *err,
                              uint64_t backoff_ms, uint64_t elapsed_ms)
{
    if (s3dlio_retry_is_connection(err) && elapsed_ms < p->time_ms && backoff_ms > p->time_ms - elapsed_ms)
        return p->time_ms - elapsed_ms;
    return backoff_ms;
}

uint64_t s3dlio_retry_budget_start(const struct s3dlio_error *err, uint64_t attempt_start_ns,
                                   uint64_t now_ns)
{
    bool unanswered = s3dlio_retry_is_connection(err) && err->http_status == 0;
    return unanswered && attempt_start_ns && attempt_start_ns < now_ns ? attempt_start_ns : now_ns;
}

static uint64_t next(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

uint64_t s3dlio_retry_backoff_ms(uint64_t *rng, int attempt, uint64_t base_ms, uint64_t cap_ms)
{
    /* full jitter (AWS architecture blog): spreads retries of many clients hit at once */
    uint64_t ceiling = base_ms;
    for (int i = 1; i < attempt && ceiling < cap_ms; i++)
        ceiling *= 2;
    if (ceiling > cap_ms)
        ceiling = cap_ms;
    return ceiling ? next(rng) % (ceiling + 1) : 0;
}

/* splitmix64 finaliser: every input bit moves every output bit */
static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t s3dlio_retry_seed(uint64_t rank, uint64_t pid, uint64_t clock_ns)
{
    uint64_t s = mix(mix(mix(rank) ^ pid) ^ clock_ns);
    return s ? s : 1;
}
