/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CPU sampler: samples land in the phase that was current, the folded stacks name this
 * program's static functions and the libraries' (OpenSSL here), their counts add up to the
 * samples taken, and no handler or timer is left once it stops.
 */
#include <openssl/evp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "check.h"
#include "s3dlio/profile.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* noinline: the frame must exist to be named */
__attribute__((noinline)) static void burn_sha256(double seconds)
{
    static unsigned char data[1 << 16];
    unsigned char md[32];
    unsigned int mdlen;
    double until = cpu_now() + seconds;
    while (cpu_now() < until)
        EVP_Digest(data, sizeof(data), md, &mdlen, EVP_sha256(), NULL);
}

__attribute__((noinline)) static uint64_t burn_loop(double seconds)
{
    volatile uint64_t x = 1;
    double until = cpu_now() + seconds;
    while (cpu_now() < until)
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x;
}

static bool handler_installed(void)
{
    struct sigaction sa;
    sigaction(SIGPROF, NULL, &sa);
    return sa.sa_handler != SIG_DFL;
}

/* Sum of the counts at the ends of the folded lines. */
static uint64_t folded_total(const char *text)
{
    uint64_t sum = 0;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        const char *sp = line;
        for (const char *p = line; p < (nl ? nl : line + strlen(line)); p++)
            if (*p == ' ')
                sp = p;
        sum += strtoull(sp + 1, NULL, 10);
        line = nl ? nl + 1 : NULL;
    }
    return sum;
}

int main(void)
{
    struct s3dlio_error err = {0};
    CHECK(!handler_installed(), "no handler before start");
    CHECK_INT(s3dlio_prof_start(0, &err), S3DLIO_E_USAGE, "hz 0 refused");
    CHECK_INT(s3dlio_prof_start(S3DLIO_PROF_HZ_MAX + 1, &err), S3DLIO_E_USAGE, "hz too high refused");
    CHECK(!handler_installed(), "a refused start installs nothing");

    CHECK_INT(s3dlio_prof_start(1000, &err), S3DLIO_OK, "start");
    CHECK(handler_installed(), "handler while sampling");
    CHECK_INT(s3dlio_prof_start(100, &err), S3DLIO_E_USAGE, "one sampler per process");
    s3dlio_prof_phase(S3DLIO_PHASE_DOWNLOAD);
    burn_sha256(0.6);
    s3dlio_prof_phase(S3DLIO_PHASE_UPLOAD);
    burn_loop(0.4);
    s3dlio_prof_phase(S3DLIO_PHASE_SETUP);
    s3dlio_prof_stop();
    CHECK(!handler_installed(), "no handler after stop");

    struct s3dlio_prof_counts c;
    s3dlio_prof_counts(&c);
    /* CPU-time timers fire at the kernel's tick at most (100-1000 Hz): 0.6 s gives >= 40 */
    CHECK(c.per_phase[S3DLIO_PHASE_DOWNLOAD] >= 40, "download samples");
    CHECK(c.per_phase[S3DLIO_PHASE_UPLOAD] >= 25, "upload samples");
    fprintf(stderr, "samples %llu (download %llu, upload %llu), dropped %llu, stacks %llu\n",
            (unsigned long long)c.samples, (unsigned long long)c.per_phase[S3DLIO_PHASE_DOWNLOAD],
            (unsigned long long)c.per_phase[S3DLIO_PHASE_UPLOAD], (unsigned long long)c.dropped,
            (unsigned long long)c.stacks);

    size_t len = 0;
    char *dl = s3dlio_prof_folded(S3DLIO_PHASE_DOWNLOAD, &len);
    CHECK(dl && len == strlen(dl), "download folded");
    CHECK_INT(folded_total(dl), c.per_phase[S3DLIO_PHASE_DOWNLOAD], "folded counts = samples");
    CHECK(dl && strstr(dl, "main;burn_sha256;"), "root first: main, then the static function");
    CHECK(dl && strstr(dl, "EVP_Digest"), "OpenSSL's frames are named");
    CHECK(dl && !strstr(dl, "burn_loop"), "no sample of another phase");
    char *ul = s3dlio_prof_folded(S3DLIO_PHASE_UPLOAD, &len);
    CHECK(ul && strstr(ul, ";burn_loop"), "upload names burn_loop");
    CHECK_INT(folded_total(ul), c.per_phase[S3DLIO_PHASE_UPLOAD], "upload counts");
    CHECK(!s3dlio_prof_folded(S3DLIO_PHASE_LIST, &len) && len == 0, "a phase without samples");
    if (getenv("TEST_PROF_SHOW"))
        fprintf(stderr, "%s", dl ? dl : "");
    free(dl);
    free(ul);

    /* a second run after reset starts from nothing */
    s3dlio_prof_reset();
    s3dlio_prof_counts(&c);
    CHECK_INT(c.samples, 0, "reset");
    CHECK_INT(s3dlio_prof_start(100, &err), S3DLIO_OK, "start again");
    burn_loop(0.1);
    s3dlio_prof_reset();
    CHECK(!handler_installed(), "reset stops it");
    TEST_DONE();
}
