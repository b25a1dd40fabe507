/* SPDX-License-Identifier: Apache-2.0 */
/* The logger: the only global state of the library, set once by the program. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int s3dlio_log_levels[S3DLIO_SUB_COUNT] = {
    S3DLIO_LOG_WARN, S3DLIO_LOG_WARN, S3DLIO_LOG_WARN, S3DLIO_LOG_WARN,
    S3DLIO_LOG_WARN, S3DLIO_LOG_WARN, S3DLIO_LOG_WARN,
};

static const char *const sub_names[S3DLIO_SUB_COUNT] = {"s3",    "sigv4", "xfer", "coord",
                                                        "stats", "h5",    "cli"};
static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};
static int log_rank = -1;
static void (*log_sink)(const char *line, void *ud);
static void *log_sink_ud;

static int level_from(const char *s, size_t n)
{
    for (int i = 0; i <= S3DLIO_LOG_TRACE; i++)
        if (strlen(level_names[i]) == n && !strncmp(s, level_names[i], n))
            return i;
    return -1;
}

int s3dlio_log_configure(const char *spec)
{
    int bad = 0;
    while (spec && *spec) {
        const char *end = strchr(spec, ',');
        size_t len = end ? (size_t)(end - spec) : strlen(spec);
        const char *colon = memchr(spec, ':', len);
        int lvl = colon ? level_from(colon + 1, len - (size_t)(colon + 1 - spec)) : -1;
        size_t nlen = colon ? (size_t)(colon - spec) : 0;
        int hit = 0;
        for (int i = 0; lvl >= 0 && i < S3DLIO_SUB_COUNT; i++)
            if ((nlen == 3 && !strncmp(spec, "all", 3)) ||
                (strlen(sub_names[i]) == nlen && !strncmp(spec, sub_names[i], nlen))) {
                s3dlio_log_levels[i] = lvl;
                hit = 1;
            }
        bad |= !hit;
        spec = end ? end + 1 : NULL;
    }
    return bad ? -1 : 0;
}

void s3dlio_log_raise(int n)
{
    for (int i = 0; i < S3DLIO_SUB_COUNT; i++) {
        s3dlio_log_levels[i] += n;
        if (s3dlio_log_levels[i] > S3DLIO_LOG_TRACE)
            s3dlio_log_levels[i] = S3DLIO_LOG_TRACE;
    }
}

void s3dlio_log_set_rank(int rank)
{
    log_rank = rank;
}

void s3dlio_log_set_sink(void (*sink)(const char *line, void *ud), void *ud)
{
    log_sink = sink;
    log_sink_ud = ud;
}

void s3dlio_log_write(enum s3dlio_log_level lvl, enum s3dlio_log_subsys sub, const char *fmt, ...)
{
    char line[2048];
    int n = 0;
    if (log_rank >= 0)
        n = snprintf(line, sizeof(line), "[r%d] ", log_rank);
    n += snprintf(line + n, sizeof(line) - (size_t)n, "%s %s: ", sub_names[sub], level_names[lvl]);
    va_list ap;
    va_start(ap, fmt);
    if ((size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (log_sink) {
        log_sink(line, log_sink_ud);
        return;
    }
    fprintf(stderr, "%s\n", line);
}
