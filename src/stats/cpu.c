/* SPDX-License-Identifier: Apache-2.0 */
/* CPU time and peak memory of this process, for the per-rank stats (see stats.h). */
#include "s3dlio/stats.h"

#include <sys/resource.h>
#include <sys/time.h>

static double tv_seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

void s3dlio_cpu_times(double *user_s, double *sys_s)
{
    struct rusage ru = { 0 };
    /* RUSAGE_SELF cannot fail with a valid pointer; zeros are the honest fallback anyway */
    if (getrusage(RUSAGE_SELF, &ru))
        ru = (struct rusage){ 0 };
    if (user_s)
        *user_s = tv_seconds(ru.ru_utime);
    if (sys_s)
        *sys_s = tv_seconds(ru.ru_stime);
}

uint64_t s3dlio_peak_rss_kib(void)
{
    struct rusage ru = { 0 };
    if (getrusage(RUSAGE_SELF, &ru) || ru.ru_maxrss < 0)
        return 0;
    return (uint64_t)ru.ru_maxrss; /* Linux reports ru_maxrss in KiB */
}
