/* SPDX-License-Identifier: Apache-2.0 */
/* Built with S3DLIO_PROFILING=OFF: no sampler, no signal handler, no timer in the binary. */
#include "s3dlio/profile.h"
#include <string.h>

bool s3dlio_prof_compiled(void)
{
    return false;
}

enum s3dlio_rc s3dlio_prof_start(int hz, struct s3dlio_error *err)
{
    (void)hz;
    return s3dlio_error_set(err, S3DLIO_E_UNSUPPORTED, "profile", "--profile-cpu",
                            "this build has no CPU sampler (configured with -DS3DLIO_PROFILING=OFF)");
}

void s3dlio_prof_phase(enum s3dlio_phase p)
{
    (void)p;
}

void s3dlio_prof_stop(void)
{
}

void s3dlio_prof_counts(struct s3dlio_prof_counts *c)
{
    memset(c, 0, sizeof(*c));
}

char *s3dlio_prof_folded(enum s3dlio_phase p, size_t *len)
{
    (void)p;
    *len = 0;
    return (void *)0;
}

void s3dlio_prof_reset(void)
{
}

enum s3dlio_rc s3dlio_prof_selftest(int hz, double seconds, const char *svg_path,
                                    struct s3dlio_prof_selftest_result *res, struct s3dlio_error *err)
{
    (void)seconds, (void)svg_path;
    memset(res, 0, sizeof(*res));
    return s3dlio_prof_start(hz, err);
}
