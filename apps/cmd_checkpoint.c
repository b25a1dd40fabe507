/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3dlio-mpi checkpoint save|restore|list|delete: checkpoints through S3 at any world size
 * (include/s3dlio/checkpoint.h). save and restore are MPI jobs with stage's report; list and
 * delete run on rank 0.
 */
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app.h"
#include "commands.h"
#include "s3dlio/checkpoint.h"
#include "util/log.h"
#include "util/units.h"
#include "xfer_cli.h"

static const struct cmd_help save_help = {
    "--name NAME [--keep-last K] [--follow-symlinks] [--run-id ID] [engine options] SRC URI",
    "Save SRC (a file, or a directory of files, at the same path on every rank) as checkpoint\n"
    "NAME under the prefix URI: every large file becomes one object through a multipart upload\n"
    "whose parts all ranks send; small files are spread whole over the ranks. The manifest\n"
    "(sizes, ETags, a CRC-32C per part) is written when every object is complete, then the\n"
    "latest pointer. --keep-last K then deletes all but the K newest complete checkpoints.",
};

static const struct cmd_help restore_help = {
    "[--name NAME|latest] --to dir:PATH|mem [--run-id ID] [engine options] URI",
    "Restore checkpoint NAME (default: the latest) from the prefix URI onto the ranks of this\n"
    "job, whatever the number that saved it: the parts are partitioned over the ranks, each\n"
    "GET is pinned to the manifest's ETag and each part's CRC-32C is checked. dir:PATH writes\n"
    "the files under PATH (a file system every rank shares), each replacing what was there only\n"
    "when the whole checkpoint arrived; mem keeps each rank's parts in memory (a benchmark).",
};

static const struct cmd_help list_help = {
    "URI",
    "List the checkpoints under the prefix URI: name, complete or incomplete (a save that did\n"
    "not finish), files, bytes, when it was made and by how many ranks; '*' marks the latest.",
};

static const struct cmd_help delete_help = {
    "URI NAME | --keep-last K URI",
    "Delete checkpoint NAME (never the latest), or with --keep-last K every complete checkpoint\n"
    "but the K newest and the latest.",
};

static const struct cmd_help top_help = {
    "save|restore|list|delete [options] ...",
    "Checkpoints through S3: 'checkpoint <subcommand> --help' for each.",
};

/* Report, progress and the exit code of a save or restore, as run_distributed does for stage. */
static int finish_job(const struct app *app, const char *what, enum s3dlio_rc rc,
                      const struct s3dlio_stage_result *res, const struct s3dlio_error *err)
{
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0 && res->interrupted)
        fprintf(stderr, "%s: %s: interrupted: nothing was published (no manifest, no file "
                        "replaced)\n", app->prog, what);
    else if (rank == 0 && rc && err->rc)
        app_fail(app, err);
    if (rank == 0 && !app->flags.quiet && res->report_file[0] && res->listed)
        fprintf(stderr, "%s: report written to %s\n", app->prog, res->report_file);
    if (res->interrupted)
        return 128 + (xfer_cli_signal() ? xfer_cli_signal() : SIGTERM);
    return rc ? (rc == S3DLIO_E_USAGE ? EXIT_USAGE : EXIT_FAILED) : EXIT_OK;
}

static void run_opts(struct app *app, struct xfer_cli *xc, const char *run_id,
                     struct s3dlio_stage_opts *run)
{
    memset(run, 0, sizeof(*run));
    run->xfer = xc->o;
    xfer_cli_stage_opts(xc, run);
    run->run_id = run_id;
    run->progress = app->flags.quiet ? 0 : isatty(STDERR_FILENO) ? 2 : 1;
    xfer_cli_catch_signals(&run->xfer.cancel);
}

/* A directory for every rank: relative paths are taken from the (shared) working directory. */
static char *absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        return NULL;
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", cwd, path);
    return p;
}

static int do_save(int argc, char **argv, struct app *app)
{
    struct xfer_cli xc;
    struct opt xopts[XFER_CLI_NOPTS], all[XFER_CLI_NOPTS + 8];
    const char *name = NULL, *run_id = NULL;
    int keep = 0, npos = 0;
    bool follow = false;
    const struct opt own[] = {
        {"name", 0, OPT_STRING, &name, "NAME", "the checkpoint's name (required)"},
        {"keep-last", 0, OPT_INT, &keep, "K", "afterwards keep only the K newest complete ones"},
        {"follow-symlinks", 0, OPT_FLAG, &follow, NULL, "enter symbolic links to directories"},
        {"run-id", 0, OPT_STRING, &run_id, "ID", "name of the run (profiles/<ID>/)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    xfer_cli_init(&xc, xopts);
    opts_concat(all, sizeof(all) / sizeof(all[0]), own, xopts);
    int r = app_parse(app, "checkpoint save", argc, argv, all, &save_help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos != 2)
        return app_usage_error(app, "expected SRC and URI (see '%s checkpoint save --help')",
                               app->prog);
    if (!name)
        return app_usage_error(app, "--name NAME is required");
    if (keep < 0)
        return app_usage_error(app, "--keep-last must be at least 1, not %d", keep);
    if ((r = xfer_cli_apply(&xc, app)) || (r = app_check_uri(app, argv[1])))
        return r;
    struct s3dlio_ckpt_save_opts o = {.uri = argv[1], .name = name, .follow_symlinks = follow,
                                      .keep_last = keep};
    char *src = absolute(argv[0]);
    if (!src)
        return app_usage_error(app, "cannot make '%s' an absolute path", argv[0]);
    o.src = src;
    run_opts(app, &xc, run_id, &o.run);
    struct s3dlio_stage_result res;
    struct s3dlio_error err = {0};
    FILE *table = app->rank == 0 && !app->flags.quiet ? stdout : NULL;
    enum s3dlio_rc rc = s3dlio_ckpt_save(MPI_COMM_WORLD, &app->cfg, &o, table, &res, &err);
    if (!rc && app->rank == 0 && !app->flags.quiet)
        fprintf(stderr, "%s: checkpoint '%s' saved (%" PRIu64 " transfers)\n", app->prog, name,
                res.objects);
    free(src);
    return finish_job(app, "checkpoint save", rc, &res, &err);
}

static int do_restore(int argc, char **argv, struct app *app)
{
    struct xfer_cli xc;
    struct opt xopts[XFER_CLI_NOPTS], all[XFER_CLI_NOPTS + 8];
    const char *name = NULL, *to = NULL, *run_id = NULL;
    int npos = 0;
    const struct opt own[] = {
        {"name", 0, OPT_STRING, &name, "NAME", "the checkpoint (default: latest)"},
        {"to", 0, OPT_STRING, &to, "DEST", "dir:PATH or mem (required)"},
        {"run-id", 0, OPT_STRING, &run_id, "ID", "name of the run (profiles/<ID>/)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    xfer_cli_init(&xc, xopts);
    opts_concat(all, sizeof(all) / sizeof(all[0]), own, xopts);
    int r = app_parse(app, "checkpoint restore", argc, argv, all, &restore_help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos != 1)
        return app_usage_error(app, "expected one URI (see '%s checkpoint restore --help')",
                               app->prog);
    if ((r = app_check_uri(app, argv[0])))
        return r;
    struct s3dlio_ckpt_restore_opts o = {.uri = argv[0], .name = name};
    char *dir = NULL;
    if (to && !strcmp(to, "mem"))
        o.dest = S3DLIO_CKPT_TO_MEM;
    else if (to && !strncmp(to, "dir:", 4) && to[4])
        o.dest = S3DLIO_CKPT_TO_DIR;
    else
        return app_usage_error(app, "--to must be dir:PATH or mem%s%s%s", to ? ", not '" : "",
                               to ? to : "", to ? "'" : "");
    if ((r = xfer_cli_apply(&xc, app)))
        return r;
    if (o.dest == S3DLIO_CKPT_TO_DIR && !(dir = absolute(to + 4)))
        return app_usage_error(app, "cannot make '%s' an absolute path", to + 4);
    o.dest_path = dir;
    run_opts(app, &xc, run_id, &o.run);
    struct s3dlio_stage_result res;
    struct s3dlio_ckpt_restored got;
    struct s3dlio_error err = {0};
    FILE *table = app->rank == 0 && !app->flags.quiet ? stdout : NULL;
    enum s3dlio_rc rc = s3dlio_ckpt_restore(MPI_COMM_WORLD, &app->cfg, &o, table, &res, &got, &err);
    if (!rc && app->rank == 0 && !app->flags.quiet)
        fprintf(stderr, "%s: checkpoint '%s' restored: %zu files to %s\n", app->prog,
                got.manifest.name, got.manifest.nfiles, dir ? dir : "memory");
    s3dlio_ckpt_restored_release(&got);
    free(dir);
    return finish_job(app, "checkpoint restore", rc, &res, &err);
}

static void print_list(const struct s3dlio_ckpt_info *c, size_t n)
{
    printf("%-1s %-30s %-10s %8s %14s %-20s %5s\n", "", "NAME", "STATE", "FILES", "BYTES",
           "CREATED", "RANKS");
    for (size_t i = 0; i < n; i++) {
        char ranks[16] = "-";
        if (c[i].world_size)
            snprintf(ranks, sizeof(ranks), "%d", c[i].world_size);
        printf("%-1s %-30s %-10s %8" PRIu64 " %14" PRIu64 " %-20s %5s\n", c[i].latest ? "*" : "",
               c[i].name, c[i].complete ? "complete" : "incomplete", c[i].files, c[i].bytes,
               c[i].created[0] ? c[i].created : "-", ranks);
    }
}

static int do_list(int argc, char **argv, struct app *app)
{
    int npos = 0;
    const struct opt own[] = {{NULL, 0, OPT_END, NULL, NULL, NULL}};
    int r = app_parse(app, "checkpoint list", argc, argv, own, &list_help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos != 1)
        return app_usage_error(app, "expected one URI");
    struct s3dlio_ckpt_info *all = NULL;
    size_t n = 0;
    char latest[S3DLIO_CKPT_NAME_MAX + 1];
    struct s3dlio_error err = {0};
    if (s3dlio_ckpt_list(&app->cfg, argv[0], &all, &n, latest, &err))
        return app_fail(app, &err);
    print_list(all, n);
    free(all);
    return EXIT_OK;
}

static int do_delete(int argc, char **argv, struct app *app)
{
    int npos = 0, keep = 0;
    const struct opt own[] = {
        {"keep-last", 0, OPT_INT, &keep, "K", "delete all but the K newest complete checkpoints"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    int r = app_parse(app, "checkpoint delete", argc, argv, own, &delete_help, &npos);
    if (r)
        return app_parse_exit(r);
    struct s3dlio_error err = {0};
    if (keep) {
        if (npos != 1 || keep < 1)
            return app_usage_error(app, "--keep-last K (K >= 1) takes one URI and no name");
        size_t deleted = 0;
        if (s3dlio_ckpt_prune(&app->cfg, argv[0], keep, &deleted, &err))
            return app_fail(app, &err);
        if (!app->flags.quiet)
            fprintf(stderr, "%s: %zu checkpoints deleted\n", app->prog, deleted);
        return EXIT_OK;
    }
    if (npos != 2)
        return app_usage_error(app, "expected URI and NAME (see '%s checkpoint delete --help')",
                               app->prog);
    if (s3dlio_ckpt_delete(&app->cfg, argv[0], argv[1], &err))
        return app_fail(app, &err);
    if (!app->flags.quiet)
        fprintf(stderr, "%s: checkpoint '%s' deleted\n", app->prog, argv[1]);
    return EXIT_OK;
}

int cmd_checkpoint(int argc, char **argv, struct app *app)
{
    int at = app_find_subcommand(app, argc, argv);
    const char *sub = at ? argv[at] : argc > 1 ? argv[1] : "";
    int (*fn)(int, char **, struct app *) = NULL;
    if (!strcmp(sub, "save"))
        fn = do_save;
    else if (!strcmp(sub, "restore"))
        fn = do_restore;
    else if (!strcmp(sub, "list"))
        fn = do_list;
    else if (!strcmp(sub, "delete"))
        fn = do_delete;
    if (!fn && (!strcmp(sub, "--help") || !strcmp(sub, "-h"))) {
        if (!app->usage_silent)
            printf("usage: %s checkpoint %s\n\n%s\n", app->prog, top_help.synopsis,
                   top_help.description);
        return EXIT_OK;
    }
    if (!fn)
        return app_usage_error(app, "expected save, restore, list or delete%s%s%s",
                               sub[0] ? ", not '" : "", sub, sub[0] ? "'" : "");
    app_subcommand_first(argv, at);
    /* list and delete are small: rank 0 does them */
    if (fn == do_list || fn == do_delete)
        return app_on_rank0(fn, argc - 1, argv + 1, app);
    return fn(argc - 1, argv + 1, app);
}
