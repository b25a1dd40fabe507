/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi bench sync: the multi-node synchronisation benchmark (mpirun -n N ... URI). */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "app.h"
#include "commands.h"
#include "s3dlio/bench.h"
#include "util/log.h"
#include "xfer_cli.h"

static const struct cmd_help help = {
    "[--rounds N] [--shuffle] [--seed S] [--write] [--report PATH] [--run-id ID]\n"
    "       [engine options] URI",
    "In each round every rank leaves a barrier together and reads its share of the objects\n"
    "under URI (GET, bytes discarded), as a training step waits for its slowest reader; with\n"
    "--write it PUTs generated data of the same sizes under URI/bench-sync-<run-id>/, removed\n"
    "at the end. Each rank times itself from the barrier to its last byte. Per round: every\n"
    "rank's time, slowest/fastest and slowest/median, the barrier skew and the MB/s the slowest\n"
    "rank allows; over rounds: percentiles and the ranks slowest most often. Shares are\n"
    "balanced by bytes and the same every round, or with --shuffle dealt anew each round from\n"
    "the listing shuffled with seed S + round - 1 (an epoch order), which tells slow ranks from\n"
    "slow objects. Table on stdout, JSON in profiles/<run-id>/bench-sync.json (or --report),\n"
    "the picture beside it (bench-sync.svg). Under mpirun every rank takes part; without it,\n"
    "one rank.",
};

struct sync_args {
    int rounds;
    bool shuffle, write;
    uint64_t seed;
    const char *run_id;
};

/* The engine table's options that record MPI jobs through stage's machinery. */
static int refuse_unsupported(struct app *app, const struct xfer_cli *xc)
{
    if (xc->trace)
        return app_usage_error(app,
                               "--trace is not supported here (stage --trace records requests)");
    if (xc->profile_cpu)
        return app_usage_error(app, "--profile-cpu is not supported here (use it with stage)");
    return 0;
}

/* What the run said, on rank 0: the failure in one line, or an interrupt, or the report. */
static void say_outcome(struct app *app, enum s3dlio_rc rc,
                        const struct s3dlio_bench_sync_result *res, const struct s3dlio_error *err,
                        const struct s3dlio_bench_sync_opts *o)
{
    if (res->interrupted)
        fprintf(stderr,
                "%s: bench sync: interrupted after %d of %d rounds (the report has the "
                "rounds that ended)%s\n",
                app->prog, res->rounds_done, o->rounds,
                !o->write           ? ""
                : res->scratch_left ? "; the scratch prefix was NOT removed"
                                    : "; the scratch prefix was removed");
    else if (rc)
        app_fail(app, err);
    if (!app->flags.quiet && res->report_file[0] && (!rc || res->failures || res->interrupted))
        fprintf(stderr, "%s: report written to %s\n", app->prog, res->report_file);
}

int bench_sync_main(int argc, char **argv, struct app *app)
{
    struct sync_args a = { .rounds = 5, .seed = 42 };
    struct s3dlio_bench_sync_opts o = { 0 };
    struct xfer_cli xc;
    struct opt xopts[XFER_CLI_NOPTS], all[XFER_CLI_NOPTS + 8];
    int npos = 0, rank = 0;
    const struct opt own[] = {
        { "rounds", 0, OPT_INT, &a.rounds, "N", "rounds, each after a barrier (5)" },
        { "shuffle", 0, OPT_FLAG, &a.shuffle, NULL,
          "deal the objects anew each round (epoch order)" },
        { "seed", 0, OPT_SIZE, &a.seed, "S",
          "--shuffle: round r uses S + r - 1; --write: the data (42)" },
        { "write", 0, OPT_FLAG, &a.write, NULL, "PUT generated data of the listed sizes instead" },
        { "run-id", 0, OPT_STRING, &a.run_id, "ID", "name of the run (profiles/<ID>/)" },
        { NULL, 0, OPT_END, NULL, NULL, NULL },
    };
    xfer_cli_init(&xc, xopts);
    opts_concat(all, sizeof(all) / sizeof(all[0]), own, xopts);
    int r = app_parse(app, "bench sync", argc, argv, all, &help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos != 1)
        return app_usage_error(app, "expected one URI (see '%s bench sync --help')", app->prog);
    if (a.rounds < 1 || a.rounds > S3DLIO_BENCH_SYNC_MAX_ROUNDS)
        return app_usage_error(app, "--rounds must be 1..%d, not %d", S3DLIO_BENCH_SYNC_MAX_ROUNDS,
                               a.rounds);
    if ((r = xfer_cli_apply(&xc, app)) || (r = refuse_unsupported(app, &xc)) ||
        (r = app_check_uri(app, argv[0])))
        return r;
    o = (struct s3dlio_bench_sync_opts){
        .uri = argv[0],
        .rounds = a.rounds,
        .shuffle = a.shuffle,
        .seed = a.seed,
        .write = a.write,
        .report_path = xc.report,
        .run_id = a.run_id,
        .progress = !app->flags.quiet,
        .xfer = xc.o,
    };
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    s3dlio_log_set_rank(rank);
    /* mpirun forwards SIGINT/SIGTERM to every rank: each stops its round, the scratch goes */
    xfer_cli_catch_signals(&o.xfer.cancel);
    struct s3dlio_bench_sync_result res;
    struct s3dlio_error err = { 0 };
    FILE *table = rank == 0 && !app->flags.quiet ? stdout : NULL;
    enum s3dlio_rc rc = s3dlio_coord_bench_sync(MPI_COMM_WORLD, &app->cfg, &o, table, &res, &err);
    if (rank == 0)
        say_outcome(app, rc, &res, &err, &o);
    if (res.interrupted)
        return 128 + (xfer_cli_signal() ? xfer_cli_signal() : SIGTERM);
    return rc ? (rc == S3DLIO_E_USAGE ? EXIT_USAGE : EXIT_FAILED) : EXIT_OK;
}
