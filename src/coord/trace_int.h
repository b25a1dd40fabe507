/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request trace of a collective job (--trace PATH, include/s3dlio/trace.h): each rank's
 * recorder, the clock offsets that put the ranks on one timeline, and the gather to rank 0,
 * which writes the file (trace_gather.c).
 */
#ifndef S3DLIO_COORD_TRACE_INT_H
#define S3DLIO_COORD_TRACE_INT_H

#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>
#include "s3dlio/coord.h"
#include "s3dlio/trace.h"
#include "util/atomic_file.h"

/* A job's trace on one rank. Zeroed: none begun. */
struct s3dlio_coord_trace {
    struct s3dlio_trace *t;          /* this rank's recorder; NULL: no trace (asked) */
    bool file_open;                  /* rank 0: file holds the trace's temporary file */
    struct s3dlio_atomic_file file;
    char run_id[64];                 /* the report's, named in the trace ("": not known) */
};

/*
 * Every rank's CLOCK_MONOTONIC offset to rank 0's (rank 0's clock = own + *offset_ns), NTP
 * style: rank 0 exchanges a few round trips with each rank in turn and keeps the fastest,
 * whose half is the error bound (*error_ns, may be NULL). About ranks x 8 round trips of
 * latency on rank 0 (8 ms for 1000 ranks at 1 us). Collective.
 */
void s3dlio_coord_clock_offset(MPI_Comm comm, int64_t *offset_ns, uint64_t *error_ns);

/*
 * With o->trace_path set: rank 0 opens the trace file (a temporary file beside PATH, whose
 * directory must exist), the failure agreed on every rank (err: one line naming PATH); each
 * rank makes its recorder and measures its clock offset. Nothing without o->trace_path or
 * when tr is begun already. A job begins it before its first phase (stage before listing,
 * so that list and partition can be recorded into tr->t); s3dlio_coord_run_shard records
 * the transfer and ends it. Collective.
 */
enum s3dlio_rc s3dlio_coord_trace_begin(MPI_Comm comm, const struct s3dlio_stage_opts *o,
                                        struct s3dlio_coord_trace *tr, struct s3dlio_error *err);

/*
 * Gather every rank's recorder to rank 0 (each sends at most INT_MAX / ranks bytes: spans past
 * that are dropped and counted) and publish the file under PATH. A failure is returned by the
 * rank that had it (err naming PATH), not agreed: the caller agrees on it with the job's other
 * failures (s3dlio_coord_outcome), so that its message is prefixed with the rank once. tr is
 * released. Nothing when no trace was begun. Collective.
 */
enum s3dlio_rc s3dlio_coord_trace_end(MPI_Comm comm, struct s3dlio_coord_trace *tr,
                                      const char *command, struct s3dlio_error *err);

/* Drop the recorder and the unpublished file (idempotent; accepts a zeroed tr). */
void s3dlio_coord_trace_release(struct s3dlio_coord_trace *tr);

#endif
