/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Minimal table-driven test helpers: each failed CHECK prints file:line, the case name and
 * got-vs-want, and the program exits non-zero at the end (TEST_DONE) if any failed.
 */
#ifndef S3DLIO_TEST_CHECK_H
#define S3DLIO_TEST_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond, name)                                                                          \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(cond)) {                                                                             \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: [%s] check failed: %s\n", __FILE__, __LINE__, (name), #cond);  \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want, name)                                                                 \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        check_count++;                                                                             \
        if (!g_ || !w_ || strcmp(g_, w_)) {                                                        \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: [%s]\n  got:  \"%s\"\n  want: \"%s\"\n", __FILE__, __LINE__,   \
                    (name), g_ ? g_ : "(null)", w_ ? w_ : "(null)");                               \
        }                                                                                          \
    } while (0)

#define CHECK_INT(got, want, name)                                                                 \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        check_count++;                                                                             \
        if (g_ != w_) {                                                                            \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: [%s] got %lld, want %lld\n", __FILE__, __LINE__, (name), g_,   \
                    w_);                                                                           \
        }                                                                                          \
    } while (0)

/* A fresh directory ${TMPDIR:-/tmp}/s3dlio-<tag>-XXXXXX, its path into root[n]. */
static inline bool check_tmpdir(char *root, size_t n, const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, n, "%s/s3dlio-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
    return mkdtemp(root) != NULL;
}

/* Remove dir and everything below it. */
static inline void check_rmtree(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd))
        fprintf(stderr, "could not remove %s\n", dir);
}

/* True when no temporary file of s3dlio's ("*s3dlio-tmp*") is anywhere below dir. */
static inline bool check_no_tmp_files(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "test -z \"$(find '%s' -name '*s3dlio-tmp*')\"", dir);
    return system(cmd) == 0;
}

/* Ends main(): prints the plain closing line and returns the exit code. */
#define TEST_DONE()                                                                                \
    do {                                                                                           \
        printf("%d passed, %d failed\n", check_count - check_failures, check_failures);            \
        return check_failures ? 1 : 0;                                                             \
    } while (0)

#endif
