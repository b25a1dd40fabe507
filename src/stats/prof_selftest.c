/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench profile-selftest: a short CPU-bound run under the sampler, drawn as a flamegraph, so a
 * site can see that sampling, unwinding and symbol lookup work on its nodes before it trusts
 * the profile of a real run. The work is three kinds of hashing in functions of known names;
 * the test fails when the samples do not name them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "s3dlio/profile.h"
#include "stats/render.h"
#include "util/atomic_file.h"
#include "util/crc32c.h"
#include "util/digest.h"

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The frames the flamegraph must show; noinline so that each keeps its own frame. */
__attribute__((noinline)) static void selftest_sha256(const unsigned char *buf, size_t len)
{
    char hex[65];
    s3dlio_sha256_hex(buf, len, hex);
}

__attribute__((noinline)) static void selftest_md5(const unsigned char *buf, size_t len)
{
    struct s3dlio_md5 h;
    char hex[33], b64[25];
    s3dlio_md5_init(&h);
    s3dlio_md5_update(&h, buf, len);
    s3dlio_md5_final(&h, hex, b64);
}

__attribute__((noinline)) static uint32_t selftest_crc32c(const unsigned char *buf, size_t len)
{
    /* not a tail call, which would leave no frame of its own */
    uint32_t crc = s3dlio_crc32c(0, buf, len);
    __asm__ volatile("" : "+r"(crc));
    return crc;
}

static const char *const selftest_frames[] = {"selftest_sha256", "selftest_md5", "selftest_crc32c"};

/* Busy for `seconds` of CPU, about half in SHA-256, a third in MD5, the rest in CRC-32C. */
__attribute__((noinline)) static void selftest_work(double seconds)
{
    static unsigned char buf[1 << 16];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 131u + 7u);
    volatile uint32_t sink = 0;
    double until = cpu_seconds() + seconds;
    while (cpu_seconds() < until) {
        for (int i = 0; i < 3; i++)
            selftest_sha256(buf, sizeof(buf));
        for (int i = 0; i < 3; i++)
            selftest_md5(buf, sizeof(buf));
        for (int i = 0; i < 20; i++)
            sink += selftest_crc32c(buf, sizeof(buf));
    }
    (void)sink;
}

static enum s3dlio_rc write_svg(const struct s3dlio_folded *f, const char *path, int hz,
                                struct s3dlio_error *err)
{
    struct s3dlio_atomic_file af = S3DLIO_ATOMIC_FILE_INIT;
    const char *slash = strrchr(path, '/');
    enum s3dlio_rc rc = s3dlio_atomic_open(&af, path, slash ? (size_t)(slash - path) + 1 : 0,
                                           "profile-selftest", err);
    if (rc)
        return rc;
    FILE *fp = fdopen(af.fd, "w");
    if (!fp) {
        s3dlio_atomic_discard(&af);
        return s3dlio_error_set(err, S3DLIO_E_IO, "profile-selftest", path, "%s", strerror(errno));
    }
    af.fd = -1;
    char title[160];
    snprintf(title, sizeof(title), "profile self-test: %llu CPU samples at %d Hz",
             (unsigned long long)s3dlio_folded_total(f), hz);
    struct s3dlio_flame_opts o = {.title = title,
                                  .subtitle = "hashing in selftest_sha256, selftest_md5, selftest_crc32c"};
    rc = s3dlio_flamegraph_svg(f, &o, fp, err);
    if (fflush(fp) && !rc)
        rc = s3dlio_error_set(err, S3DLIO_E_IO, "profile-selftest", path, "writing failed: %s",
                              strerror(errno));
    af.fd = dup(fileno(fp));
    fclose(fp);
    if (rc) {
        s3dlio_atomic_discard(&af);
        return rc;
    }
    return s3dlio_atomic_commit(&af, false, "profile-selftest", err);
}

enum s3dlio_rc s3dlio_prof_selftest(int hz, double seconds, const char *svg_path,
                                    struct s3dlio_prof_selftest_result *res, struct s3dlio_error *err)
{
    memset(res, 0, sizeof(*res));
    enum s3dlio_rc rc = s3dlio_prof_start(hz, err);
    if (rc)
        return rc;
    s3dlio_prof_phase(S3DLIO_PHASE_SELFTEST);
    selftest_work(seconds);
    s3dlio_prof_phase(S3DLIO_PHASE_SETUP);
    s3dlio_prof_stop();
    struct s3dlio_prof_counts c;
    s3dlio_prof_counts(&c);
    size_t len = 0;
    char *text = s3dlio_prof_folded(S3DLIO_PHASE_SELFTEST, &len);
    struct s3dlio_folded *f = s3dlio_folded_new();
    if (text)
        rc = s3dlio_folded_add_text(f, text, len, NULL, err);
    res->samples = c.per_phase[S3DLIO_PHASE_SELFTEST];
    res->dropped = c.dropped;
    for (size_t i = 0; text && i < sizeof(selftest_frames) / sizeof(selftest_frames[0]); i++)
        res->frames_found += strstr(text, selftest_frames[i]) != NULL;
    res->frames_expected = (int)(sizeof(selftest_frames) / sizeof(selftest_frames[0]));
    if (!rc && svg_path)
        rc = write_svg(f, svg_path, hz, err);
    if (!rc && !res->samples)
        rc = s3dlio_error_set(err, S3DLIO_E_INTEGRITY, "profile-selftest", "",
                              "no CPU samples in %.1f s of CPU at %d Hz: the CPU-time timer or "
                              "SIGPROF does not reach this process", seconds, hz);
    else if (!rc && res->frames_found < res->frames_expected)
        rc = s3dlio_error_set(err, S3DLIO_E_INTEGRITY, "profile-selftest", "",
                              "%llu samples, but only %d of the %d known functions are named in "
                              "them: stacks are not unwound or symbols not found",
                              (unsigned long long)res->samples, res->frames_found, res->frames_expected);
    free(text);
    s3dlio_folded_free(f);
    s3dlio_prof_reset();
    return rc;
}
