/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging: one macro, level checked before any formatting, a subsystem tag.
 * Levels per subsystem come from S3DLIO_LOG ("xfer:trace,s3:debug", "all:debug") and -v.
 * Output goes to stderr prefixed "[r<rank>]" once the rank is known. Never log a secret.
 */
#ifndef S3DLIO_UTIL_LOG_H
#define S3DLIO_UTIL_LOG_H

enum s3dlio_log_level {
    S3DLIO_LOG_ERROR = 0,
    S3DLIO_LOG_WARN,
    S3DLIO_LOG_INFO,
    S3DLIO_LOG_DEBUG,
    S3DLIO_LOG_TRACE,
};

enum s3dlio_log_subsys {
    S3DLIO_SUB_S3 = 0,
    S3DLIO_SUB_SIGV4,
    S3DLIO_SUB_XFER,
    S3DLIO_SUB_COORD,
    S3DLIO_SUB_STATS,
    S3DLIO_SUB_H5,
    S3DLIO_SUB_CLI,
    S3DLIO_SUB_COUNT
};

extern int s3dlio_log_levels[S3DLIO_SUB_COUNT];

/* Parse a spec like "all:info,s3:trace"; unknown names are ignored. Returns 0 if all parsed. */
int s3dlio_log_configure(const char *spec);
/* Raise every subsystem by n levels (the -v flag). */
void s3dlio_log_raise(int n);
/* Set the rank shown in the prefix; -1 hides it. */
void s3dlio_log_set_rank(int rank);
/* Redirect output (tests); NULL restores stderr. */
void s3dlio_log_set_sink(void (*sink)(const char *line, void *ud), void *ud);

void s3dlio_log_write(enum s3dlio_log_level lvl, enum s3dlio_log_subsys sub, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define S3DLIO_LOG(lvl, sub, ...)                                                                  \
    do {                                                                                           \
        if ((int)(lvl) <= s3dlio_log_levels[(sub)])                                                \
            s3dlio_log_write((lvl), (sub), __VA_ARGS__);                                           \
    } while (0)

#endif
