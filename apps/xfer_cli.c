/* SPDX-License-Identifier: Apache-2.0 */
/* Engine options shared by the data-moving commands, and running the engine for them. */
#include "xfer_cli.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "util/log.h"

/* --get-concurrency / --put-concurrency not given (a parsed value is never negative) */
#define UNSET (-1)

/* Set by the handler only: the run reads them after the engine returned. */
static volatile sig_atomic_t cancel_count;
static volatile sig_atomic_t last_signal;

static void on_signal(int sig)
{
    last_signal = sig;
    cancel_count++;
}

void xfer_cli_catch_signals(volatile sig_atomic_t **flag)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: a blocked poll returns at once and the loop sees the flag */
    int sigs[] = {SIGINT, SIGTERM};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction old;
        /* a signal ignored by whoever started us (nohup, a shell's background job) stays so */
        if (!sigaction(sigs[i], NULL, &old) && old.sa_handler == SIG_IGN)
            continue;
        sigaction(sigs[i], &sa, NULL);
    }
    *flag = &cancel_count;
}

int xfer_cli_signal(void)
{
    return last_signal;
}

int xfer_cli_listing_interrupted(const struct app *app, const char *verb)
{
    fprintf(stderr, "%s: %s: interrupted while listing: nothing was transferred\n", app->prog, verb);
    /* under mpirun a rank the signal did not reach stops too, as if it had */
    return 128 + (last_signal ? last_signal : SIGTERM);
}

void xfer_cli_init(struct xfer_cli *c, struct opt out[XFER_CLI_NOPTS])
{
    memset(c, 0, sizeof(*c));
    s3dlio_xfer_opts_default(&c->o);
    /* unset until parsed: a value the user gives pins the target, none lets it adapt */
    c->o.get_concurrency = c->o.put_concurrency = UNSET;
    c->range_threshold = c->o.range_threshold;
    c->part_size = c->o.part_size;
    c->multipart_threshold = c->o.multipart_threshold;
    c->ramp_ms = c->o.ramp_ms;
    c->max_connections = 200;
    c->on_change = "fail";
    c->list_parallel = "on";
    const struct opt t[XFER_CLI_NOPTS] = {
        {"get-concurrency", 0, OPT_INT, &c->o.get_concurrency, "N",
         "GET requests in flight, pinned (unset: adaptive from 32 up to --max-connections)"},
        {"put-concurrency", 0, OPT_INT, &c->o.put_concurrency, "N",
         "PUT requests in flight, pinned (unset: adaptive from 16 up to --max-connections)"},
        {"max-connections", 0, OPT_INT, &c->max_connections, "N",
         "HTTP connections kept; an adaptive target stays within it (200)"},
        {"range-threshold", 0, OPT_SIZE, &c->range_threshold, "SIZE",
         "GET larger objects as parallel ranges (4MiB)"},
        {"part-size", 0, OPT_SIZE, &c->part_size, "SIZE",
         "range and multipart part size, 5MiB..5GiB (8MiB; grown past 10,000 parts)"},
        {"multipart-threshold", 0, OPT_SIZE, &c->multipart_threshold, "SIZE",
         "PUT larger objects as multipart uploads (16MiB)"},
        {"ramp-up", 0, OPT_DURATION, &c->ramp_ms, "TIME",
         "grow requests in flight from 1 over TIME (100ms)"},
        {"max-request-rate", 0, OPT_INT, &c->max_request_rate, "N",
         "start at most N requests per second (0: no limit)"},
        {"verify", 0, OPT_FLAG, &c->o.verify, NULL,
         "PUT with Content-MD5; check every GET's data against its ETag"},
        {"on-change", 0, OPT_STRING, &c->on_change, "WHAT",
         "an object changed since listing: fail (default) or restart (once)"},
        {"fsync", 0, OPT_FLAG, &c->o.fsync, NULL, "fsync each downloaded file before its rename"},
        {"report", 0, OPT_STRING, &c->report, "PATH",
         "the job's JSON report (profiles/<run-id>/report.json); get and put: under mpirun only"},
        {"profile-cpu", 0, OPT_FLAG, &c->profile_cpu, NULL,
         "sample CPU stacks: a flamegraph per phase beside the report (get, put: under mpirun)"},
        {"profile-hz", 0, OPT_INT, &c->profile_hz, "N",
         "CPU samples per second with --profile-cpu (100; at most 1000)"},
        {"profile-per-rank", 0, OPT_FLAG, &c->profile_per_rank, NULL,
         "flamegraphs with a root frame per rank (implies --profile-cpu)"},
        {"trace", 0, OPT_STRING, &c->trace, "PATH",
         "under mpirun: every request as a Chrome trace (Perfetto, chrome://tracing)"},
        {"list-parallel", 0, OPT_STRING, &c->list_parallel, "on|off",
         "under mpirun: the ranks list pieces of the prefix at once (on)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    memcpy(out, t, sizeof(t));
}

/* The in-flight target of a direction the user did not pin adapts (src/xfer/adapt.h): it
 * starts at the default and grows while that pays, within --max-connections. */
static void adapt_unpinned(struct xfer_cli *c)
{
    struct s3dlio_xfer_opts def;
    s3dlio_xfer_opts_default(&def);
    c->o.adapt_get = c->o.get_concurrency == UNSET;
    c->o.adapt_put = c->o.put_concurrency == UNSET;
    /* never above --max-connections, even at the start */
    int cap = c->max_connections > 0 ? c->max_connections : 1;
    if (c->o.adapt_get)
        c->o.get_concurrency = def.get_concurrency < cap ? def.get_concurrency : cap;
    if (c->o.adapt_put)
        c->o.put_concurrency = def.put_concurrency < cap ? def.put_concurrency : cap;
    c->o.max_concurrency = c->max_connections;
}

int xfer_cli_apply(struct xfer_cli *c, struct app *app)
{
    adapt_unpinned(c);
    if (c->o.get_concurrency < 1 || c->o.put_concurrency < 1 || c->max_connections < 1)
        return app_usage_error(app, "concurrency and connections must be at least 1");
    if (c->part_size < (5u << 20))
        return app_usage_error(app, "--part-size must be at least 5MiB (the S3 minimum)");
    if (c->part_size > S3DLIO_MAX_PART_SIZE)
        return app_usage_error(app, "--part-size must be at most 5GiB (the S3 maximum)");
    if (!strcmp(c->on_change, "fail"))
        c->o.on_change = S3DLIO_ON_CHANGE_FAIL;
    else if (!strcmp(c->on_change, "restart"))
        c->o.on_change = S3DLIO_ON_CHANGE_RESTART;
    else
        return app_usage_error(app, "--on-change must be 'fail' or 'restart', not '%s'", c->on_change);
    c->o.range_threshold = c->range_threshold;
    c->o.part_size = c->part_size;
    c->o.multipart_threshold = c->multipart_threshold;
    /* retries and time limits are common options: the configuration holds them */
    c->o.retries = app->cfg.retries;
    c->o.retry_time_ms = (uint64_t)app->cfg.retry_time_ms;
    c->o.retry_base_ms = (uint64_t)app->cfg.retry_base_ms;
    c->o.retry_cap_ms = (uint64_t)app->cfg.retry_cap_ms;
    c->o.ramp_ms = c->ramp_ms;
    c->o.max_request_rate = c->max_request_rate;
    c->o.hash_payload = app->cfg.payload_signing == S3DLIO_PAYLOAD_FULL;
    app->cfg.max_connections = c->max_connections;
    if (strcmp(c->list_parallel, "on") && strcmp(c->list_parallel, "off"))
        return app_usage_error(app, "--list-parallel must be 'on' or 'off', not '%s'",
                               c->list_parallel);
    if (c->profile_hz || c->profile_per_rank)
        c->profile_cpu = true;
    if (c->profile_cpu && !c->profile_hz)
        c->profile_hz = S3DLIO_PROF_HZ_DEFAULT;
    if (c->profile_cpu && (c->profile_hz < 1 || c->profile_hz > S3DLIO_PROF_HZ_MAX))
        return app_usage_error(app, "--profile-hz must be 1..%d, not %d", S3DLIO_PROF_HZ_MAX,
                               c->profile_hz);
    if (c->profile_cpu && !s3dlio_prof_compiled())
        return app_usage_error(app, "--profile-cpu: this build has no CPU sampler "
                                    "(configured with -DS3DLIO_PROFILING=OFF)");
    return 0;
}

void xfer_cli_stage_opts(const struct xfer_cli *c, struct s3dlio_stage_opts *o)
{
    o->report_path = c->report;
    o->trace_path = c->trace;
    o->profile_hz = c->profile_cpu ? c->profile_hz : 0;
    o->profile_per_rank = c->profile_per_rank;
    o->list_serial = !strcmp(c->list_parallel, "off");
}

int xfer_cli_refuse_job_opts(const struct xfer_cli *c, struct app *app)
{
    const char *opt = c->report ? "--report" : c->trace ? "--trace" : c->profile_cpu ? "--profile-cpu" : NULL;
    if (!opt || app->mpi)
        return 0;
    return app_usage_error(app, "%s is for jobs: run the command under mpirun (-n 1 for one "
                                "process), or use stage", opt);
}

static void on_tick(void *ud, const struct s3dlio_xfer_stats *st)
{
    struct s3dlio_progress_line *line = ud;
    if (st->streams_reading) /* standard input: its length is known only at its end */
        line->total = 0;
    else if (st->bytes_expected > line->total) /* sizes learned on the way (HEAD) */
        line->total = st->bytes_expected;
    s3dlio_progress_line_show(line, st->bytes);
}

static uint64_t known_bytes(const struct s3dlio_plan *plan)
{
    uint64_t total = 0;
    for (size_t i = 0; i < plan->n; i++)
        if (plan->jobs[i].size != S3DLIO_SIZE_UNKNOWN)
            total += plan->jobs[i].size;
    return total;
}

static void summary(const char *verb, size_t listed, const struct s3dlio_plan_counts *counts,
                    const struct s3dlio_xfer_stats *st)
{
    double secs = (double)(st->t_end_ns - st->t_start_ns) / 1e9;
    char extra[256] = "";
    size_t n = 0;
#define ADD(...) n += (size_t)snprintf(extra + n, n < sizeof(extra) ? sizeof(extra) - n : 0, __VA_ARGS__)
    if (st->changed)
        ADD(", %" PRIu64 " changed during the transfer", st->changed);
    if (st->restarted)
        ADD(", %" PRIu64 " fetched again after a change", st->restarted);
    if (st->verified || st->not_verifiable)
        ADD(", %" PRIu64 " verified, %" PRIu64 " not verifiable", st->verified, st->not_verifiable);
    if (counts && counts->markers)
        ADD(", %zu folder markers skipped", counts->markers);
    if (counts && counts->skipped)
        ADD(", %zu entries skipped (not regular files; see the warnings)", counts->skipped);
    if (st->limit_decreases)
        ADD(", throttled: in-flight limit down to %" PRIu32, st->limit_min);
#undef ADD
    /* what was asked, what was done, what failed: a count of successes alone hides the rest */
    char objects[96];
    if (st->objects == listed)
        snprintf(objects, sizeof(objects), "%" PRIu64 " objects", st->objects);
    else
        snprintf(objects, sizeof(objects), "%" PRIu64 " of %zu objects done (%" PRIu64 " failed)",
                 st->objects, listed, st->failures);
    fprintf(stderr, "%s: %s, %" PRIu64 " bytes in %.2f s, %.1f MB/s, %" PRIu64 " retries%s%s\n",
            verb, objects, st->bytes, secs, secs > 0 ? (double)st->bytes / 1e6 / secs : 0.0,
            st->retries, extra, st->failures ? ", FAILED" : "");
}

/* What an interrupted run did and did not do, so nobody mistakes it for complete. */
static void interrupted(const struct app *app, const char *verb, size_t listed, uint64_t failed_other,
                        const struct s3dlio_xfer_stats *st)
{
    fprintf(stderr, "%s: %s: interrupted: %" PRIu64 " of %zu objects complete (%" PRIu64
                    " bytes), %" PRIu64 " failed, the rest not done; nothing partial was kept%s\n",
            app->prog, verb, st->objects, listed, st->bytes, failed_other,
            st->aborted_uploads ? ", unfinished multipart uploads aborted" : "");
}

/* The engine with progress and Ctrl-C handling; jobs from jobs[0..n) or c->o.refill. */
static enum s3dlio_rc run_engine(struct app *app, struct xfer_cli *c, struct s3dlio_backend *be,
                                 struct s3dlio_xfer_job *jobs, size_t n, uint64_t total_bytes,
                                 struct s3dlio_xfer_stats *st)
{
    struct s3dlio_progress_line line;
    int mode = app->flags.quiet ? S3DLIO_PROGRESS_NONE
               : isatty(STDERR_FILENO) ? S3DLIO_PROGRESS_BAR
                                       : S3DLIO_PROGRESS_LINES;
    s3dlio_progress_line_init(&line, mode, total_bytes, stderr);
    c->o.tick = on_tick;
    c->o.tick_ud = &line;
    xfer_cli_catch_signals(&c->o.cancel);
    enum s3dlio_rc rc = s3dlio_xfer_run(be, jobs, n, &c->o, st);
    s3dlio_progress_line_finish(&line, st->bytes);
    c->o.tick = NULL; /* line lived on this stack */
    c->o.tick_ud = NULL;
    return rc;
}

/* The exit code of a run that was not interrupted, once its failures were said. */
static int run_end(struct app *app, const char *verb, enum s3dlio_rc rc, size_t failed, size_t shown)
{
    if (failed > shown)
        fprintf(stderr, "%s: ... and %zu more failed objects\n", app->prog, failed - shown);
    if (rc && !failed) { /* the loop itself broke */
        struct s3dlio_error err = {0};
        s3dlio_error_set(&err, rc, verb, NULL, "the transfer stopped: %s", s3dlio_rc_str(rc));
        app_fail(app, &err);
    }
    return rc || failed ? EXIT_FAILED : EXIT_OK;
}

int xfer_cli_run(struct app *app, struct xfer_cli *c, struct s3dlio_backend *be,
                 struct s3dlio_plan *plan, const char *verb, const struct s3dlio_plan_counts *counts,
                 struct s3dlio_xfer_stats *st)
{
    enum s3dlio_rc rc = run_engine(app, c, be, plan->jobs, plan->n, known_bytes(plan), st);
    if (st->interrupted) {
        uint64_t failed_other = 0;
        for (size_t i = 0; i < plan->n; i++)
            if (plan->jobs[i].rc && plan->jobs[i].rc != S3DLIO_E_ABORTED)
                failed_other++;
        interrupted(app, verb, plan->n, failed_other, st);
        return 128 + xfer_cli_signal();
    }
    if (!app->flags.quiet && !c->single)
        summary(verb, plan->n, counts, st);
    size_t shown = 0, failed = 0;
    for (size_t i = 0; i < plan->n; i++) {
        if (!plan->jobs[i].rc)
            continue;
        if (++failed <= 20 && plan->jobs[i].err)
            app_fail(app, plan->jobs[i].err), shown++;
    }
    return run_end(app, verb, rc, failed, shown);
}

int xfer_cli_run_feed(struct app *app, struct xfer_cli *c, struct s3dlio_backend *be,
                      struct s3dlio_feed *feed, uint64_t total_bytes, const char *verb,
                      const struct s3dlio_plan_counts *counts, struct s3dlio_xfer_stats *st)
{
    s3dlio_feed_attach(feed, &c->o);
    enum s3dlio_rc rc = run_engine(app, c, be, NULL, 0, total_bytes, st);
    c->o.refill = NULL;
    c->o.on_job_done = NULL;
    s3dlio_feed_finish(feed);
    S3DLIO_LOG(S3DLIO_LOG_DEBUG, S3DLIO_SUB_XFER, "job feed: %" PRIu64 " jobs, at most %zu chunks alive",
               feed->planned, feed->peak_live);
    if (st->interrupted) {
        uint64_t failed_other = 0;
        for (size_t i = 0; i < feed->nfailures; i++)
            failed_other += feed->failures[i].rc != S3DLIO_E_ABORTED;
        interrupted(app, verb, (size_t)feed->planned, failed_other, st);
        return 128 + xfer_cli_signal();
    }
    if (!app->flags.quiet)
        summary(verb, (size_t)feed->planned, counts, st);
    size_t shown = 0;
    for (; shown < feed->nfailures && shown < 20; shown++)
        app_fail_text(app, feed->failures[shown].rc, s3dlio_feed_failure_message(feed, shown));
    return run_end(app, verb, rc, feed->nfailures, shown);
}
