/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3dlio-bench-prof: what one CPU sample of --profile-cpu costs. The same CPU-bound work (a
 * 22-frame-deep recursion around an arithmetic loop) runs with and without the sampler,
 * alternating, and the best of --runs of each is compared: the difference over the samples
 * taken is the cost of one sample (timer signal, unwinding from the signal context, ring
 * write), and at a rate of N Hz the share of a core is N x that. A benchmark, not a test.
 *
 *   s3dlio-bench-prof [HZ (1000)] [RUNS (5)]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "s3dlio/profile.h"

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static uint64_t leaf(uint64_t x)
{
    for (int i = 0; i < 1000; i++)
        x = x * 6364136223846793005ull + 1;
    return x;
}

__attribute__((noinline)) static uint64_t nest(uint64_t x, int depth)
{
    uint64_t r = depth ? nest(x, depth - 1) : leaf(x);
    __asm__ volatile("" : "+r"(r)); /* no tail call: every level keeps its frame */
    return r + 1;
}

static uint64_t sink; /* the work's result, so that it cannot be left out */

static double work(long n)
{
    double t0 = cpu_seconds();
    for (long i = 0; i < n; i++)
        sink += nest((uint64_t)i, 20);
    return cpu_seconds() - t0;
}

int main(int argc, char **argv)
{
    int hz = argc > 1 ? atoi(argv[1]) : 1000, runs = argc > 2 ? atoi(argv[2]) : 5;
    long n = 2000000;
    double plain = 1e9, sampled = 1e9;
    uint64_t samples = 0;
    struct s3dlio_error err = {0};
    for (int r = 0; r < runs; r++) {
        double a = work(n);
        if (a < plain)
            plain = a;
        if (s3dlio_prof_start(hz, &err)) {
            fprintf(stderr, "s3dlio-bench-prof: %s\n", err.message);
            return 1;
        }
        double b = work(n);
        s3dlio_prof_stop();
        struct s3dlio_prof_counts c;
        s3dlio_prof_counts(&c);
        s3dlio_prof_reset();
        if (b < sampled) {
            sampled = b;
            samples = c.samples;
        }
    }
    double per = samples ? (sampled - plain) / (double)samples : 0;
    printf("work %.3f s plain, %.3f s sampled (%llu samples, asked %d Hz): %.1f us per sample; "
           "at 100 Hz %.2f%% of a core\n",
           plain, sampled, (unsigned long long)samples, hz, per * 1e6, per * 100 * 100);
    return sink == 1; /* never: the sums are not 1 */
}
