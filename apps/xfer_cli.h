/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transfer-engine options of the commands that move data, and running the engine for them:
 * progress, Ctrl-C / SIGTERM, the summary and failure output, the exit code.
 */
#ifndef S3DLIO_APPS_XFER_CLI_H
#define S3DLIO_APPS_XFER_CLI_H

#include "app.h"
#include "s3dlio/plan.h"
#include "s3dlio/coord.h"
#include "s3dlio/profile.h"
#include "s3dlio/xfer.h"
#include "xfer/feed.h"

struct xfer_cli {
    struct s3dlio_xfer_opts o;
    uint64_t range_threshold, part_size, multipart_threshold, ramp_ms;
    int max_connections, max_request_rate;
    const char *on_change;
    const char *report; /* under mpirun: where the JSON report goes */
    const char *trace;  /* under mpirun: where the Chrome trace of the requests goes */
    const char *list_parallel; /* under mpirun: "on" (default) or "off" */
    bool profile_cpu, profile_per_rank;
    int profile_hz;
    bool single;        /* one object: the command prints its own result line */
};

#define XFER_CLI_NOPTS 20

/* Defaults, and the option entries (appended by commands to their own tables). */
void xfer_cli_init(struct xfer_cli *c, struct opt out[XFER_CLI_NOPTS]);
/* After parsing: copy values into c->o and the connection config; exit code on a bad value. */
int xfer_cli_apply(struct xfer_cli *c, struct app *app);

/* The options a collective job takes from these: report, trace, CPU profile, listing. */
void xfer_cli_stage_opts(const struct xfer_cli *c, struct s3dlio_stage_opts *o);
/*
 * Without mpirun, get and put run alone and write no job report: --report, --trace and
 * --profile-cpu there would be accepted and do nothing, so they are a usage error.
 */
int xfer_cli_refuse_job_opts(const struct xfer_cli *c, struct app *app);

/*
 * Run plan's jobs on be with progress (a bar on a terminal, lines otherwise, none with -q)
 * and SIGINT/SIGTERM handling (the run stops cleanly: temporary files removed, multipart
 * uploads aborted). Then print the summary ("get: N objects, B bytes in S s, ...") unless
 * quiet and every failed object's error (at most 20, then a count). Returns the exit code:
 * 0, 1 (something failed), or 128 + the signal when interrupted.
 */
int xfer_cli_run(struct app *app, struct xfer_cli *c, struct s3dlio_backend *be,
                 struct s3dlio_plan *plan, const char *verb, const struct s3dlio_plan_counts *counts,
                 struct s3dlio_xfer_stats *st);

/*
 * As xfer_cli_run, for jobs planned chunk by chunk by feed (s3dlio_feed_init done by the
 * caller; finished here): memory follows the objects in flight, not the listing. counts,
 * filled by the feed's planner as it goes, is read for the summary; total_bytes is the
 * progress total. An interrupted run says how many objects completed, failed and were not done.
 */
int xfer_cli_run_feed(struct app *app, struct xfer_cli *c, struct s3dlio_backend *be,
                      struct s3dlio_feed *feed, uint64_t total_bytes, const char *verb,
                      const struct s3dlio_plan_counts *counts, struct s3dlio_xfer_stats *st);

/* SIGINT/SIGTERM: count signals in *flag (the engine's cancel) instead of dying at once. */
void xfer_cli_catch_signals(volatile sig_atomic_t **flag);
/* The signal that interrupted the run (0: none). */
int xfer_cli_signal(void);
/* A listing a signal stopped: says nothing was transferred; returns the exit code (128 + it). */
int xfer_cli_listing_interrupted(const struct app *app, const char *verb);

#endif
