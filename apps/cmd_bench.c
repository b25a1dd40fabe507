/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi bench: benchmarks and checks of a site's setup. */
#include <stdio.h>
#include <string.h>
#include "app.h"
#include "commands.h"
#include "s3dlio/profile.h"

static const struct cmd_help top_help = {
    "profile-selftest [options]",
    "Benchmarks and self-checks.\n"
    "  profile-selftest  sample a short CPU-bound run and draw its flamegraph\n"
    "                    (profiles/simple_test_profile.svg): checks that --profile-cpu works here\n"
    "  sync URI          every rank reads (or --write) its share in rounds after a barrier:\n"
    "                    per-round spread, skew, the slowest ranks (see 'bench sync --help')",
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

int cmd_bench(int argc, char **argv, struct app *app)
{
    int at = app_find_subcommand(app, argc, argv);
    const char *sub = at ? argv[at] : argc > 1 ? argv[1] : "";
    int (*fn)(int, char **, struct app *) = NULL;
    if (!strcmp(sub, "sync") && at) { /* every rank takes part, not rank 0 alone */
        app_subcommand_first(argv, at);
        return bench_sync_main(argc - 1, argv + 1, app);
    }
    if (!strcmp(sub, "profile-selftest"))
        fn = do_profile_selftest;
    if (!fn && (!strcmp(sub, "--help") || !strcmp(sub, "-h"))) {
        if (!app->usage_silent)
            printf("usage: %s bench %s\n\n%s\n", app->prog, top_help.synopsis, top_help.description);
        return EXIT_OK;
    }
    if (!fn)
        return app_usage_error(app, "expected profile-selftest%s%s%s", sub[0] ? ", not '" : "", sub,
                               sub[0] ? "'" : "");
    app_subcommand_first(argv, at);
    /* one process's CPU is the subject: under mpirun rank 0 runs it */
    return app_on_rank0(fn, argc - 1, argv + 1, app);
}
