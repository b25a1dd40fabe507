/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi stage: the distributed job (mpirun -n N s3dlio-mpi stage s3://bucket/prefix). */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "app.h"
#include "commands.h"
#include "s3dlio/coord.h"
#include "util/log.h"
#include "xfer_cli.h"

static const struct cmd_help help = {
    "[--to mem|dir:PATH|null|h5:PATH] [--partition size|count|contiguous] [--shuffle SEED] [--steal]\n"
    "       [--max-memory SIZE] [--report PATH] [--trace PATH] [engine options] URI",
    "Stage every object under the prefix URI onto the ranks of the MPI job: the ranks list\n"
    "pieces of the prefix at once (--list-parallel off: rank 0 alone), rank 0 partitions\n"
    "(default: greedy by bytes), one broadcast carries the assignment, every rank\n"
    "pulls its shard with its own concurrent engine, and rank 0 prints one report (table on\n"
    "stdout, JSON in profiles/<run-id>/report.json or --report). --trace PATH writes every\n"
    "rank's requests as one Chrome trace (open it in ui.perfetto.dev); PATH's directory must\n"
    "exist. Run under mpirun/srun; one process without them is a job of one rank.",
};

/* h5:PATH is published by a rename beside PATH: its directory must be there already */
static bool h5_dir_exists(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    struct stat st;
    if (!slash)
        return true;
    snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return !stat(dir, &st) && S_ISDIR(st.st_mode);
}

struct stage_args {
    const char *to, *partition, *run_id, *list_dump;
    uint64_t shuffle_seed, max_memory, steal_chunk;
    bool shuffle_set, steal, list_only;
};

static int parse_stage(struct app *app, struct stage_args *a, struct s3dlio_stage_opts *o)
{
    if (a->list_only && strcmp(a->to, "mem") && strcmp(a->to, "null"))
        return app_usage_error(app, "--list-only moves nothing: leave out --to %s", a->to);
    if (s3dlio_dest_parse(a->to, &o->dest, &o->dest_path))
        return app_usage_error(app, "--to must be mem, dir:PATH, null or h5:PATH, not '%s'", a->to);
    if (o->dest == S3DLIO_DEST_H5 && !h5_dir_exists(o->dest_path))
        return app_usage_error(app, "--to h5:%s: its directory does not exist", o->dest_path);
    if (a->list_only) /* nothing is fetched: no shard memory either */
        o->dest = S3DLIO_DEST_NULL;
    if (s3dlio_partition_mode_parse(a->partition, &o->partition))
        return app_usage_error(app, "--partition must be size, count or contiguous, not '%s'",
                               a->partition);
    o->shuffle = a->shuffle_seed != UINT64_MAX;
    o->shuffle_seed = a->shuffle_seed;
    o->steal = a->steal;
    o->steal_chunk = a->steal_chunk;
    o->max_memory = a->max_memory;
    o->run_id = a->run_id;
    o->list_dump = a->list_dump;
    o->list_only = a->list_only;
    o->progress = app->flags.quiet ? 0 : isatty(STDERR_FILENO) ? 2 : 1;
    return 0;
}

int cmd_stage(int argc, char **argv, struct app *app)
{
    struct stage_args a = {.to = "mem", .partition = "size", .shuffle_seed = UINT64_MAX};
    struct s3dlio_stage_opts o = {0};
    struct xfer_cli xc;
    struct opt xopts[XFER_CLI_NOPTS], all[XFER_CLI_NOPTS + 12];
    int npos = 0;
    const struct opt own[] = {
        {"to", 0, OPT_STRING, &a.to, "DEST", "mem (default), dir:PATH, null or h5:PATH (one HDF5 file)"},
        {"partition", 0, OPT_STRING, &a.partition, "MODE", "size (default), count or contiguous"},
        {"shuffle", 0, OPT_SIZE, &a.shuffle_seed, "SEED", "shuffle the listing with SEED first"},
        {"steal", 0, OPT_FLAG, &a.steal, NULL, "dynamic balancing: ranks take chunks as they go"},
        {"steal-chunk", 0, OPT_SIZE, &a.steal_chunk, "N", "objects per stolen chunk (auto)"},
        {"max-memory", 0, OPT_SIZE, &a.max_memory, "SIZE", "--to mem: per-rank cap"},
        {"run-id", 0, OPT_STRING, &a.run_id, "ID", "name of the run (profiles/<ID>/)"},
        {"list-dump", 0, OPT_STRING, &a.list_dump, "PATH",
         "rank 0 writes the listing there: key, size, ETag per line"},
        {"list-only", 0, OPT_FLAG, &a.list_only, NULL, "list (and dump), move nothing, no report"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    xfer_cli_init(&xc, xopts);
    opts_concat(all, sizeof(all) / sizeof(all[0]), own, xopts);
    int r = app_parse(app, "stage", argc, argv, all, &help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos != 1)
        return app_usage_error(app, "expected one URI (see '%s stage --help')", app->prog);
    if ((r = parse_stage(app, &a, &o)) || (r = xfer_cli_apply(&xc, app)) ||
        (r = app_check_uri(app, argv[0])))
        return r;
    o.uri = argv[0];
    o.xfer = xc.o;
    xfer_cli_stage_opts(&xc, &o);
    o.command = "stage";
    return run_distributed(app, &o);
}

int run_distributed(struct app *app, struct s3dlio_stage_opts *o)
{
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    s3dlio_log_set_rank(rank);
    if (!o->progress && !app->flags.quiet)
        o->progress = isatty(STDERR_FILENO) ? 2 : 1;
    /* mpirun forwards SIGINT/SIGTERM to every rank: each stops its transfers and cleans up */
    xfer_cli_catch_signals(&o->xfer.cancel);
    app->cfg.cancel = o->xfer.cancel; /* the listing stops too */
    struct s3dlio_stage_result res;
    struct s3dlio_error err = {0};
    /* -q: no table and no progress; the JSON report is still written, errors still print */
    FILE *table = rank == 0 && !app->flags.quiet ? stdout : NULL;
    enum s3dlio_rc rc = s3dlio_coord_stage(MPI_COMM_WORLD, &app->cfg, o, table, &res, &err);
    if (rank == 0 && rc && err.rc && !res.interrupted)
        app_fail(app, &err);
    else if (rank == 0 && res.failures && !res.interrupted) /* also with -q: errors print */
        fprintf(stderr, "%s: %s: %" PRIu64 " of %" PRIu64 " objects failed; the report names each "
                        "key and its error (%s)\n",
                app->prog, o->command, res.failures, res.listed,
                res.report_file[0] ? res.report_file : "no report written");
    if (rank == 0 && !rc && o->list_only && !app->flags.quiet)
        printf("listed %" PRIu64 " objects in %.3f s\n", res.listed, res.list_s);
    if (rank == 0 && res.interrupted && res.listing_cut)
        xfer_cli_listing_interrupted(app, o->command);
    else if (rank == 0 && res.interrupted)
        fprintf(stderr, "%s: %s: interrupted: %" PRIu64 " of %" PRIu64 " objects complete, %" PRIu64
                        " failed, the rest not done; nothing partial was kept\n",
                app->prog, o->command, res.objects, res.listed, res.failures);
    if (rank == 0 && !app->flags.quiet && res.report_file[0] && (!rc || res.objects || res.failures))
        fprintf(stderr, "%s: report written to %s\n", app->prog, res.report_file);
    s3dlio_shard_release(&res.shard);
    if (res.interrupted) /* a rank that was not signalled itself exits as if terminated */
        return 128 + (xfer_cli_signal() ? xfer_cli_signal() : SIGTERM);
    return rc ? (rc == S3DLIO_E_USAGE ? EXIT_USAGE : EXIT_FAILED) : EXIT_OK;
}
