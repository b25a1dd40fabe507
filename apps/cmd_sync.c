/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi sync: one-way sync of SRC into DST over the ranks of an MPI job. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app.h"
#include "commands.h"
#include "s3dlio/coord.h"
#include "util/log.h"
#include "xfer_cli.h"

static const struct cmd_help help = {
    "[--compare size|etag|mtime] [--delete] [--dry-run] [--run-id ID] [--report PATH]\n"
    "       [--source-endpoint-url URL] [--source-region R] [--source-profile NAME]\n"
    "       [--no-server-side-copy] [--relay-memory SIZE] [--trace PATH] [engine options] SRC DST",
    "Make DST hold what SRC holds (s3:// to file://, file:// to s3://, file:// to file://,\n"
    "s3:// to s3:// on the same endpoint by server-side copy: CopyObject, and above\n"
    "--copy-threshold UploadPartCopy).\n"
    "The ranks list both sides and copy what DST lacks or has differently:\n"
    "--compare size (default: missing or another size), etag (also another ETag; S3 to S3\n"
    "only) or mtime (also the source newer). The copies are shared by size over the ranks and\n"
    "reported as by stage. --delete then removes what DST has and SRC has not, only when\n"
    "every copy succeeded. --dry-run prints the plan and changes nothing. A second run right\n"
    "after the first copies nothing.\n"
    "SRC may be on another endpoint (--source-endpoint-url, --source-region) or account\n"
    "(--source-profile; else the keys are DST's). s3:// to s3:// across endpoints, or with\n"
    "--no-server-side-copy, relays: GET from SRC into PUT to DST, pinned to the listed ETag and\n"
    "size. Objects within --relay-memory go in batches through that much memory per rank,\n"
    "larger ones through a pipe as a multipart upload (about (put concurrency + 1) parts in\n"
    "memory). An object that fails on either side leaves nothing at DST.",
};

struct sync_args {
    const char *compare, *run_id;
    bool delete_extra, dry_run;
    uint64_t copy_threshold;
    const char *src_endpoint, *src_region, *src_profile;
    bool no_server_copy;
    uint64_t relay_memory;
};

/* What rank 0 says after the run, besides the report table. */
static void say_outcome(struct app *app, const struct s3dlio_sync_opts *o,
                        const struct s3dlio_sync_result *res, enum s3dlio_rc rc,
                        const struct s3dlio_error *err)
{
    const struct s3dlio_stage_result *j = &res->job;
    if (res->etag_size_only) /* also with -q: the comparison asked for did not happen */
        fprintf(stderr, "%s: sync: --compare etag: a file:// side has no S3 ETags; objects on "
                        "both sides were compared by size\n", app->prog);
    if (rc && err->rc && !j->interrupted && !j->failures)
        app_fail(app, err);
    else if (j->failures && !j->interrupted)
        fprintf(stderr, "%s: sync: %" PRIu64 " of %" PRIu64 " copies failed%s; the report names "
                        "each key and its error (%s)\n", app->prog, j->failures, j->listed,
                o->delete_extra && res->to_delete ? ", nothing was deleted" : "",
                j->report_file[0] ? j->report_file : "no report written");
    if (j->interrupted && j->listing_cut)
        xfer_cli_listing_interrupted(app, "sync");
    else if (j->interrupted)
        fprintf(stderr, "%s: sync: interrupted: %" PRIu64 " of %" PRIu64 " copies complete, "
                        "nothing deleted\n", app->prog, j->objects, j->listed);
    if (!rc && !app->flags.quiet && !o->dry_run)
        fprintf(stderr, "%s: sync: copied %" PRIu64 " objects (%" PRIu64 " bytes%s), deleted %" PRIu64
                        "%s, %" PRIu64 " unchanged; report written to %s\n",
                app->prog, j->objects, res->copy_bytes,
                res->server_side ? ", copied on the server"
                : res->relayed  ? ", relayed from the source endpoint"
                                : "", res->deleted,
                !o->delete_extra && res->to_delete ? " (extras kept: no --delete)" : "", res->same,
                j->report_file);
}

static int run_sync(struct app *app, struct s3dlio_sync_opts *o, struct s3dlio_config *src_cfg)
{
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    s3dlio_log_set_rank(rank);
    if (!app->flags.quiet)
        o->job.progress = isatty(STDERR_FILENO) ? 2 : 1;
    xfer_cli_catch_signals(&o->job.xfer.cancel);
    app->cfg.cancel = src_cfg->cancel = o->job.xfer.cancel; /* the listings stop too */
    struct s3dlio_sync_result res;
    struct s3dlio_error err = {0};
    /* the plan of a dry run is what was asked for: printed even with -q */
    FILE *out = rank == 0 && (!app->flags.quiet || o->dry_run) ? stdout : NULL;
    enum s3dlio_rc rc = s3dlio_coord_sync(MPI_COMM_WORLD, &app->cfg, o, out, &res, &err);
    if (rank == 0)
        say_outcome(app, o, &res, rc, &err);
    s3dlio_shard_release(&res.job.shard);
    if (res.job.interrupted)
        return 128 + (xfer_cli_signal() ? xfer_cli_signal() : SIGTERM);
    return rc ? (rc == S3DLIO_E_USAGE ? EXIT_USAGE : EXIT_FAILED) : EXIT_OK;
}

/* SRC's connection: DST's, with the --source-* flags on top. */
static int source_config(struct app *app, const struct sync_args *a, struct s3dlio_config *c)
{
    struct s3dlio_error err = {0};
    s3dlio_config_copy(c, &app->cfg);
    if (a->src_endpoint)
        s3dlio_config_set(&c->endpoint, a->src_endpoint);
    if (a->src_region)
        s3dlio_config_set(&c->region, a->src_region);
    if (a->src_profile && s3dlio_config_use_profile(c, a->src_profile, NULL, &err)) {
        snprintf(err.op, sizeof(err.op), "sync --source-profile");
        s3dlio_config_release(c);
        app_fail(app, &err);
        return EXIT_USAGE; /* the command line named it */
    }
    return 0;
}

int cmd_sync(int argc, char **argv, struct app *app)
{
    struct sync_args a = {.compare = "size", .copy_threshold = 5ull << 30,
                          .relay_memory = 256ull << 20};
    struct s3dlio_sync_opts o = {0};
    struct xfer_cli xc;
    struct opt xopts[XFER_CLI_NOPTS], all[XFER_CLI_NOPTS + 13];
    int npos = 0;
    const struct opt own[] = {
        {"compare", 0, OPT_STRING, &a.compare, "WHAT",
         "size (default), etag (S3 to S3) or mtime: when an object on both sides is copied again"},
        {"delete", 0, OPT_FLAG, &a.delete_extra, NULL,
         "remove what DST has and SRC has not (after every copy succeeded)"},
        {"dry-run", 0, OPT_FLAG, &a.dry_run, NULL, "print the plan, change nothing"},
        {"copy-threshold", 0, OPT_SIZE, &a.copy_threshold, "SIZE",
         "s3 to s3: copy larger objects in parts (UploadPartCopy), 5MiB..5GiB (5GiB)"},
        {"run-id", 0, OPT_STRING, &a.run_id, "ID", "name of the run (profiles/<ID>/)"},
        {"source-endpoint-url", 0, OPT_STRING, &a.src_endpoint, "URL",
         "SRC's S3 endpoint (default: DST's)"},
        {"source-region", 0, OPT_STRING, &a.src_region, "REGION", "SRC's signing region (DST's)"},
        {"source-profile", 0, OPT_STRING, &a.src_profile, "NAME",
         "SRC's credentials from this profile of ~/.aws (default: DST's keys)"},
        {"no-server-side-copy", 0, OPT_FLAG, &a.no_server_copy, NULL,
         "s3 to s3: relay through this process even on one endpoint"},
        {"relay-memory", 0, OPT_SIZE, &a.relay_memory, "SIZE",
         "relay: object bytes in memory at once per rank; larger objects are piped (256MiB)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    xfer_cli_init(&xc, xopts);
    opts_concat(all, sizeof(all) / sizeof(all[0]), own, xopts);
    int r = app_parse(app, "sync", argc, argv, all, &help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos != 2)
        return app_usage_error(app, "expected SRC and DST (see '%s sync --help')", app->prog);
    if (s3dlio_sync_compare_parse(a.compare, &o.compare))
        return app_usage_error(app, "--compare must be size, etag or mtime, not '%s'", a.compare);
    /* a part of a multipart copy is 5 MiB at least, a CopyObject 5 GiB at most */
    if (a.copy_threshold < (5u << 20) || a.copy_threshold > (5ull << 30))
        return app_usage_error(app, "--copy-threshold must be within 5MiB..5GiB");
    if ((r = xfer_cli_apply(&xc, app)))
        return r;
    xc.o.copy_threshold = a.copy_threshold;
    /* a URI that does not parse is a usage error, said once before any rank lists */
    if ((r = app_check_uri(app, argv[0])) || (r = app_check_uri(app, argv[1])))
        return r;
    if (!a.relay_memory)
        return app_usage_error(app, "--relay-memory must be above 0");
    struct s3dlio_config src_cfg = {0};
    if ((r = source_config(app, &a, &src_cfg)))
        return r;
    o.src_cfg = &src_cfg;
    o.no_server_copy = a.no_server_copy;
    o.relay_memory = a.relay_memory;
    o.src = argv[0];
    o.dst = argv[1];
    o.delete_extra = a.delete_extra;
    o.dry_run = a.dry_run;
    o.job.xfer = xc.o;
    o.job.run_id = a.run_id;
    xfer_cli_stage_opts(&xc, &o.job);
    r = run_sync(app, &o, &src_cfg);
    s3dlio_config_release(&src_cfg);
    return r;
}
