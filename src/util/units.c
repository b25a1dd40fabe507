/* SPDX-License-Identifier: Apache-2.0 */
/* Size and duration parsing for options and config. */
#include "util/units.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct unit {
    const char *name;
    uint64_t mult;
};

static enum s3dlio_rc parse_with(const char *s, const struct unit *units, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return S3DLIO_E_USAGE;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return S3DLIO_E_USAGE;
    for (const struct unit *u = units; u->name; u++) {
        if (strcasecmp(end, u->name))
            continue;
        if (u->mult && v > UINT64_MAX / u->mult)
            return S3DLIO_E_USAGE;
        *out = (uint64_t)v * u->mult;
        return S3DLIO_OK;
    }
    return S3DLIO_E_USAGE;
}

enum s3dlio_rc s3dlio_parse_size(const char *s, uint64_t *out)
{
    static const struct unit units[] = {
        {"", 1},          {"b", 1},
        {"k", 1ull << 10}, {"kib", 1ull << 10}, {"kb", 1000ull},
        {"m", 1ull << 20}, {"mib", 1ull << 20}, {"mb", 1000000ull},
        {"g", 1ull << 30}, {"gib", 1ull << 30}, {"gb", 1000000000ull},
        {"t", 1ull << 40}, {"tib", 1ull << 40}, {"tb", 1000000000000ull},
        {NULL, 0},
    };
    return parse_with(s, units, out);
}

enum s3dlio_rc s3dlio_parse_duration_ms(const char *s, uint64_t *out)
{
    static const struct unit units[] = {
        {"", 1000}, {"s", 1000}, {"ms", 1}, {"m", 60000}, {"min", 60000}, {"h", 3600000}, {NULL, 0},
    };
    return parse_with(s, units, out);
}

enum s3dlio_rc s3dlio_parse_u64(const char *s, uint64_t *out)
{
    static const struct unit units[] = {{"", 1}, {NULL, 0}};
    return parse_with(s, units, out);
}

void s3dlio_utc_now_iso(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
