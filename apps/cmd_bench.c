/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi bench: benchmarks and checks of a site's setup. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app.h"
#include "commands.h"
#include "s3dlio/coord.h"
#include "s3dlio/profile.h"
#include "util/log.h"
#include "xfer_cli.h"

static const struct cmd_help top_help = {
    "lifecycle|sync|profile-selftest [options]",
    "Benchmarks and self-checks.\n"
    "  lifecycle         s3dlio's large-scale benchmark on every rank: create a bucket, upload,\n"
    "                    list, download (every byte checked), delete, delete the bucket\n"
    "  sync URI          every rank reads (or --write) its share in rounds after a barrier:\n"
    "                    per-round spread, skew, the slowest ranks (see 'bench sync --help')\n"
    "  profile-selftest  sample a short CPU-bound run and draw its flamegraph\n"
    "                    (profiles/simple_test_profile.svg): checks that --profile-cpu works here",
};

static int do_profile_selftest(int argc, char **argv, struct app *app)
{
    static const struct cmd_help help = {
        "[--profile-hz N] [--cpu-time TIME] [--output PATH]",
        "Spend TIME of CPU (2s) hashing in three known functions under the CPU sampler at N\n"
        "samples per second (100) and draw the flamegraph at PATH\n"
        "(profiles/simple_test_profile.svg). Fails when nothing was sampled or the samples do\n"
        "not name the functions that ran: --profile-cpu would then draw nothing useful here.",
    };
    int hz = S3DLIO_PROF_HZ_DEFAULT, npos = 0;
    uint64_t ms = 2000;
    const char *output = "profiles/simple_test_profile.svg";
    const struct opt opts[] = {
        {"profile-hz", 0, OPT_INT, &hz, "N", "samples per CPU-second (100; at most 1000)"},
        {"cpu-time", 0, OPT_DURATION, &ms, "TIME", "CPU time to spend, e.g. 500ms, 2s (2s)"},
        {"output", 'o', OPT_STRING, &output, "PATH", "the flamegraph (profiles/simple_test_profile.svg)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    int r = app_parse(app, "bench profile-selftest", argc, argv, opts, &help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos)
        return app_usage_error(app, "profile-selftest takes no arguments");
    if (ms < 100 || ms > 600000)
        return app_usage_error(app, "--cpu-time must be 100ms..10m");
    struct s3dlio_prof_selftest_result res;
    struct s3dlio_error err = {0};
    if (s3dlio_prof_selftest(hz, (double)ms / 1e3, output, &res, &err))
        return app_fail(app, &err);
    if (!app->flags.quiet)
        printf("profile-selftest: %llu CPU samples at %d Hz in %.1f s of CPU (%llu dropped), "
               "%d of %d known functions named\nflamegraph: %s\n",
               (unsigned long long)res.samples, hz, (double)ms / 1e3,
               (unsigned long long)res.dropped, res.frames_found, res.frames_expected, output);
    return EXIT_OK;
}

/* A size in GiB or MiB from an option, else the environment, else the default; decimals allowed. */
static int size_from(struct app *app, const char *opt, const char *env, const char *def,
                     double unit, uint64_t *out)
{
    const char *text = opt ? opt : getenv(env) && getenv(env)[0] ? getenv(env) : def;
    char *end = NULL;
    double v = strtod(text, &end);
    if (!end || end == text || *end || !(v > 0) || v * unit > 1e15)
        return app_usage_error(app, "'%s' is not a size for %s (a number above 0, e.g. 0.5)", text,
                               opt ? "its option" : env);
    *out = (uint64_t)(v * unit + 0.5);
    return 0;
}

static int do_lifecycle(int argc, char **argv, struct app *app)
{
    static const struct cmd_help help = {
        "[--size-gb G] [--min-object-mb M] [--max-object-mb M] [--keep] [--allow-nonempty] "
        "[engine options] s3://BUCKET",
        "s3dlio's large-scale lifecycle benchmark, spread over the ranks of the MPI job: create\n"
        "BUCKET, upload a generated dataset of G GiB (S3DLIO_TEST_SIZE_GB, 5) in objects of M-M\n"
        "MiB (S3DLIO_MIN_OBJECT_MB 2, S3DLIO_MAX_OBJECT_MB 8) with 16 uploads in flight per rank,\n"
        "list it, download it with 32 in flight checking every byte against the generator,\n"
        "delete every object in DeleteObjects batches, delete the bucket; each phase timed.\n"
        "Objects go under s3dlio-lifecycle-<run-id>/; a bucket holding objects is refused unless\n"
        "--allow-nonempty; a bucket that existed is never deleted; after a failure or a signal\n"
        "what was uploaded is deleted unless --keep. The table goes to stdout, the JSON to\n"
        "profiles/<run-id>/lifecycle.json (--report), the upload and download stage reports\n"
        "beside it; --profile-cpu draws a flamegraph per phase there, the transfers also as\n"
        "large_scale_upload_profile.svg and large_scale_download_profile.svg.",
    };
    const char *size_gb = NULL, *min_mb = NULL, *max_mb = NULL, *run_id = NULL;
    uint64_t seed = 42;
    bool keep = false, nonempty = false;
    struct xfer_cli xc;
    struct opt xopts[XFER_CLI_NOPTS], all[XFER_CLI_NOPTS + 10];
    const struct opt own[] = {
        {"size-gb", 0, OPT_STRING, &size_gb, "G", "dataset GiB (S3DLIO_TEST_SIZE_GB, 5)"},
        {"min-object-mb", 0, OPT_STRING, &min_mb, "M", "smallest object, MiB (S3DLIO_MIN_OBJECT_MB, 2)"},
        {"max-object-mb", 0, OPT_STRING, &max_mb, "M", "largest object, MiB (S3DLIO_MAX_OBJECT_MB, 8)"},
        {"seed", 0, OPT_SIZE, &seed, "N", "generator seed: sizes and contents (42)"},
        {"keep", 0, OPT_FLAG, &keep, NULL, "leave the objects and the bucket"},
        {"allow-nonempty", 0, OPT_FLAG, &nonempty, NULL, "run in a bucket that holds objects (beside them)"},
        {"run-id", 0, OPT_STRING, &run_id, "ID", "name of the run (profiles/<ID>/)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    xfer_cli_init(&xc, xopts);
    opts_concat(all, sizeof(all) / sizeof(all[0]), own, xopts);
    int npos = 0, r = app_parse(app, "bench lifecycle", argc, argv, all, &help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos != 1)
        return app_usage_error(app, "expected s3://BUCKET (see '%s bench lifecycle --help')", app->prog);
    if ((r = app_check_uri(app, argv[0])))
        return r;
    struct s3dlio_lifecycle_opts o = {.bucket_uri = argv[0], .seed = seed, .keep = keep,
                                      .allow_nonempty = nonempty, .run_id = run_id};
    if ((r = size_from(app, size_gb, "S3DLIO_TEST_SIZE_GB", "5", 1024.0 * 1024 * 1024, &o.total_bytes)) ||
        (r = size_from(app, min_mb, "S3DLIO_MIN_OBJECT_MB", "2", 1024.0 * 1024, &o.min_size)) ||
        (r = size_from(app, max_mb, "S3DLIO_MAX_OBJECT_MB", "8", 1024.0 * 1024, &o.max_size)) ||
        (r = xfer_cli_apply(&xc, app)))
        return r;
    if (xc.trace) /* two jobs (upload, download) would write one trace: refused, not ignored */
        return app_usage_error(app, "--trace is not supported here (stage --trace records requests)");
    if (o.min_size > o.max_size)
        return app_usage_error(app, "the smallest object (%.1f MiB) is larger than the largest (%.1f MiB)",
                               (double)o.min_size / 1048576, (double)o.max_size / 1048576);
    struct s3dlio_stage_opts so = {0};
    xfer_cli_stage_opts(&xc, &so);
    o.report_path = so.report_path;
    o.profile_hz = so.profile_hz;
    o.profile_per_rank = so.profile_per_rank;
    o.xfer = xc.o;
    o.progress = app->flags.quiet ? 0 : isatty(STDERR_FILENO) ? 2 : 1;
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    s3dlio_log_set_rank(rank);
    xfer_cli_catch_signals(&o.xfer.cancel);
    struct s3dlio_lifecycle_result res;
    struct s3dlio_error err = {0};
    FILE *table = rank == 0 && !app->flags.quiet ? stdout : NULL;
    enum s3dlio_rc rc = s3dlio_bench_lifecycle(MPI_COMM_WORLD, &app->cfg, &o, table, &res, &err);
    if (rank == 0 && rc && err.rc)
        app_fail(app, &err);
    if (rank == 0 && !app->flags.quiet && res.report_file[0] && rc != S3DLIO_E_USAGE)
        fprintf(stderr, "%s: report written to %s\n", app->prog, res.report_file);
    if (xfer_cli_signal())
        return 128 + xfer_cli_signal();
    return rc ? (rc == S3DLIO_E_USAGE ? EXIT_USAGE : EXIT_FAILED) : EXIT_OK;
}

int cmd_bench(int argc, char **argv, struct app *app)
{
    int at = app_find_subcommand(app, argc, argv);
    const char *sub = at ? argv[at] : argc > 1 ? argv[1] : "";
    int (*fn)(int, char **, struct app *) = NULL;
    if (!strcmp(sub, "sync"))
        fn = bench_sync_main;
    else if (!strcmp(sub, "profile-selftest"))
        fn = do_profile_selftest;
    else if (!strcmp(sub, "lifecycle"))
        fn = do_lifecycle;
    if (!fn && (!strcmp(sub, "--help") || !strcmp(sub, "-h"))) {
        if (!app->usage_silent)
            printf("usage: %s bench %s\n\n%s\n", app->prog, top_help.synopsis, top_help.description);
        return EXIT_OK;
    }
    if (!fn)
        return app_usage_error(app, "expected lifecycle, sync or profile-selftest%s%s%s", sub[0] ? ", not '" : "",
                               sub, sub[0] ? "'" : "");
    app_subcommand_first(argv, at);
    if (fn == do_profile_selftest) /* one process's CPU is the subject: rank 0 runs it */
        return app_on_rank0(fn, argc - 1, argv + 1, app);
    return fn(argc - 1, argv + 1, app);
}
