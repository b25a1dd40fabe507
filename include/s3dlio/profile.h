/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CPU sampling of this process's engine thread, by phase of the run (--profile-cpu).
 *
 * A CPU-time timer of the calling thread raises SIGPROF at `hz`; the handler unwinds the
 * interrupted stack (libunwind, from the signal context, so frames inside libcurl, OpenSSL
 * and libc show) into a preallocated ring and nothing else: no allocation, no lock. A
 * second thread moves the ring into a table of distinct stacks, so a long run costs memory
 * per distinct stack, not per sample. Addresses become names only when the stacks are asked
 * for (libdw reads the symbol tables, the library's static functions included).
 *
 * Built without S3DLIO_PROFILING none of this is in the binary: s3dlio_prof_start fails
 * with S3DLIO_E_UNSUPPORTED and the rest do nothing. No MPI here; coord gathers the text.
 */
#ifndef S3DLIO_PROFILE_H
#define S3DLIO_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "s3dlio/error.h"

/* Phases of a run; samples are tagged with the one current when they were taken. */
enum s3dlio_phase {
    S3DLIO_PHASE_SETUP = 0,    /* before the first phase, and between phases */
    S3DLIO_PHASE_LIST,
    S3DLIO_PHASE_PARTITION,
    S3DLIO_PHASE_UPLOAD,
    S3DLIO_PHASE_DOWNLOAD,
    S3DLIO_PHASE_H5_WRITE,     /* stage --to h5: the download, written into the file */
    S3DLIO_PHASE_CKPT_SAVE,
    S3DLIO_PHASE_CKPT_RESTORE,
    S3DLIO_PHASE_DELETE,
    S3DLIO_PHASE_REPORT,       /* gathering, pictures, the report */
    S3DLIO_PHASE_SELFTEST,     /* bench profile-selftest */
    S3DLIO_PHASE_COUNT
};

/* "list", "download", "h5_write", "checkpoint_save", ... (file names: <name>.svg). */
const char *s3dlio_phase_name(enum s3dlio_phase p);

#define S3DLIO_PROF_HZ_DEFAULT 100
#define S3DLIO_PROF_HZ_MAX 1000 /* CPU-time timers tick with the kernel's clock */

/* Whether the sampler was compiled in (S3DLIO_PROFILING). */
bool s3dlio_prof_compiled(void);

/*
 * Start sampling the calling thread at hz samples per CPU-second (1..S3DLIO_PROF_HZ_MAX).
 * One sampler per process; S3DLIO_E_USAGE if one runs already or hz is out of range.
 */
enum s3dlio_rc s3dlio_prof_start(int hz, struct s3dlio_error *err);

/* Tag the samples from now on; cheap, async-signal-safe, a no-op when not sampling. */
void s3dlio_prof_phase(enum s3dlio_phase p);

/* Stop the timer and remove the handler; the stacks stay until s3dlio_prof_reset. */
void s3dlio_prof_stop(void);

struct s3dlio_prof_counts {
    uint64_t samples;          /* kept */
    uint64_t dropped;          /* lost: the ring was full, or the table of stacks */
    uint64_t stacks;           /* distinct stacks held */
    uint64_t per_phase[S3DLIO_PHASE_COUNT];
};
void s3dlio_prof_counts(struct s3dlio_prof_counts *c);

/*
 * The samples of phase p as folded stacks ("root;...;leaf count\n", root first), frames
 * named by function (else "module+0xoffset", else "[unknown]"). Heap text, *len set; NULL
 * with *len 0 when the phase has no samples. Call after s3dlio_prof_stop.
 */
char *s3dlio_prof_folded(enum s3dlio_phase p, size_t *len);

/* Forget the stacks and free the sampler's memory. */
void s3dlio_prof_reset(void);

/*
 * The self-test (bench profile-selftest): `seconds` of CPU in known functions, sampled at hz,
 * drawn as a flamegraph at svg_path (NULL: none). Fails (S3DLIO_E_INTEGRITY, saying which)
 * when nothing was sampled or the samples do not name the functions that ran.
 */
struct s3dlio_prof_selftest_result {
    uint64_t samples, dropped;
    int frames_found, frames_expected;
};
enum s3dlio_rc s3dlio_prof_selftest(int hz, double seconds, const char *svg_path,
                                    struct s3dlio_prof_selftest_result *res, struct s3dlio_error *err);

#endif
