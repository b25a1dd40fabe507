/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi put: one file, a directory tree, or a generated dataset. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "app.h"
#include "commands.h"
#include "xfer/datagen.h"
#include "s3dlio/coord.h"
#include "backend/file_tree.h"
#include "xfer_cli.h"

static const struct cmd_help help = {
    "[--recursive | --generate --count N] [options] [SRC] URI",
    "Upload the local file SRC to URI; if URI ends in '/', SRC's file name is appended.\n"
    "SRC '-' uploads standard input to the key URI names, in one process (not under mpirun):\n"
    "its length need not be known; memory stays about (--put-concurrency + 1) x --part-size.\n"
    "With --recursive, SRC is a directory and every file below it goes under the prefix\n"
    "URI (relative paths become keys). With --generate, no SRC: --count objects named\n"
    "<prefix>obj-NNNNNNNN.bin with sizes uniform in [--min-size, --max-size] are generated\n"
    "from --seed (deterministic; get --verify-pattern checks them). Large objects go as\n"
    "multipart uploads in parallel parts; a failed one is aborted, so no partial object\n"
    "appears.",
};

struct put_args {
    bool recursive, generate, follow_symlinks;
    uint64_t count, min_size, max_size, seed, dedup, compress;
};

static bool is_stdin(const char *src)
{
    return !strcmp(src, "-");
}

static char *object_key(const struct s3dlio_uri *uri, const char *src)
{
    if (!s3dlio_uri_is_prefix(uri))
        return strdup(uri->key);
    const char *base = strrchr(src, '/');
    base = base ? base + 1 : src;
    char *key = NULL;
    if (asprintf(&key, "%s%s", uri->key, base) < 0)
        return NULL;
    return key;
}

/* One file through the engine: parallel multipart parts, retries, --verify, progress. */
static int put_one(struct app *app, struct s3dlio_backend *be, const struct s3dlio_uri *uri,
                   const char *src, const char *text, struct xfer_cli *xc)
{
    struct s3dlio_error err = {0};
    struct s3dlio_plan plan = {0};
    struct s3dlio_xfer_stats st;
    struct stat sb;
    char *key = object_key(uri, src);
    char full[2048];
    int code;
    if (!key || !key[0]) {
        s3dlio_error_set(&err, S3DLIO_E_USAGE, "put", text, "URI names no object key");
        code = app_fail(app, &err);
    } else if (is_stdin(src) && s3dlio_uri_is_prefix(uri)) {
        s3dlio_error_set(&err, S3DLIO_E_USAGE, "put", text,
                         "standard input has no file name: the URI must name the object key");
        code = app_fail(app, &err);
    } else if (!is_stdin(src) && !stat(src, &sb) && S_ISDIR(sb.st_mode)) {
        s3dlio_error_set(&err, S3DLIO_E_USAGE, "put", src,
                         "is a directory (use --recursive to upload a tree)");
        code = app_fail(app, &err);
    } else {
        struct s3dlio_xfer_job job = {.dir = S3DLIO_XFER_PUT, .key = key,
                                      .size = S3DLIO_SIZE_UNKNOWN, .local = S3DLIO_LOCAL_FILE,
                                      .path = src};
        if (is_stdin(src)) {
            job.local = S3DLIO_LOCAL_STREAM;
            job.fd = STDIN_FILENO;
        }
        plan.jobs = &job;
        plan.n = 1;
        xc->single = true;
        code = xfer_cli_run(app, xc, be, &plan, "put", NULL, &st);
        if (!code && !app->flags.quiet)
            fprintf(stderr, "%s: put %s -> %s (%" PRIu64 " bytes)\n", app->prog, src,
                    s3dlio_uri_join(uri, key, full, sizeof(full)), job.bytes);
        s3dlio_xfer_jobs_release(&job, 1);
    }
    free(key);
    return code;
}

/* A recursive PUT's table: the files of a tree, or the generated objects, a chunk at a time. */
struct put_rows {
    const struct put_args *a;
    const struct s3dlio_gen *gen;
    const struct s3dlio_objlist *files; /* NULL: --generate */
    const char *root, *prefix;
};

static void plan_put_rows(void *ud, size_t first, size_t count, struct s3dlio_plan *plan)
{
    struct put_rows *p = ud;
    if (!p->files) {
        s3dlio_plan_generate(plan, p->gen, first, count, p->a->min_size, p->a->max_size, p->prefix);
        return;
    }
    /* a view of the listing's rows: planning only reads them, so none is copied */
    const struct s3dlio_objlist chunk = {.items = p->files->items + first, .n = count};
    s3dlio_plan_put_files(plan, &chunk, p->root, p->prefix);
}

/*
 * The local directory tree to upload: its regular files (and, with --follow-symlinks, those
 * below links to directories); every entry left out is said. abs gets its real path.
 */
static int list_dir(struct app *app, const char *dir, bool follow, char abs[PATH_MAX],
                    struct s3dlio_tree *tree, size_t *skipped)
{
    struct s3dlio_error err = {0};
    struct stat sb;
    if (!realpath(dir, abs) || stat(abs, &sb) || !S_ISDIR(sb.st_mode)) {
        s3dlio_error_set(&err, S3DLIO_E_USAGE, "put", dir, "not a directory");
        return app_fail(app, &err);
    }
    if (s3dlio_tree_list(abs, follow, tree, &err))
        return app_fail(app, &err);
    s3dlio_tree_warn_skipped(tree, abs);
    *skipped = tree->nskipped;
    return EXIT_OK;
}

static int put_many(struct app *app, struct s3dlio_backend *be, const struct s3dlio_uri *uri,
                    const char *src, const struct put_args *a, struct xfer_cli *xc)
{
    struct s3dlio_xfer_stats st;
    struct s3dlio_gen gen = {a->seed, (unsigned)a->dedup, (unsigned)a->compress};
    struct s3dlio_plan_counts counts = {0};
    struct s3dlio_tree tree = {0};
    struct s3dlio_feed feed;
    char abs[PATH_MAX];
    if (!s3dlio_uri_is_prefix(uri))
        return app_usage_error(app, "URI must be a prefix ending in '/' (or a bucket)");
    struct put_rows rows = {.a = a, .gen = &gen, .prefix = uri->key, .root = abs};
    uint64_t total = 0;
    size_t n = a->count;
    if (a->generate) {
        for (uint64_t i = 0; i < a->count; i++) /* progress total: sizes are a function of i */
            total += s3dlio_gen_object_size(gen.seed, i, a->min_size, a->max_size);
    } else {
        int code = list_dir(app, src, a->follow_symlinks, abs, &tree, &counts.skipped);
        if (code)
            return code;
        rows.files = &tree.files;
        n = tree.files.n;
        for (size_t i = 0; i < n; i++)
            total += tree.files.items[i].size;
    }
    s3dlio_feed_init(&feed, n, 0, plan_put_rows, &rows);
    int code = xfer_cli_run_feed(app, xc, be, &feed, total, "put", &counts, &st);
    s3dlio_feed_release(&feed);
    s3dlio_tree_release(&tree);
    return code;
}

static int check_args(struct app *app, const struct put_args *a, int npos)
{
    if (a->generate && a->recursive)
        return app_usage_error(app, "--generate and --recursive exclude each other");
    if (a->generate && npos != 1)
        return app_usage_error(app, "--generate takes only the destination URI");
    if (!a->generate && npos != 2)
        return app_usage_error(app, "expected SRC and URI (see '%s put --help')", app->prog);
    if (a->generate && (!a->count || a->min_size > a->max_size))
        return app_usage_error(app, "--generate needs --count N > 0 and --min-size <= --max-size");
    if (!a->dedup || !a->compress)
        return app_usage_error(app, "--dedup-factor and --compress-factor are at least 1");
    return 0;
}

/* Under mpirun: rank 0 lists the directory (a shared file system) or plans the generated
 * set; each rank uploads its share. */
static int put_distributed(struct app *app, const struct s3dlio_uri *uri, const char *target,
                           const char *src, const struct put_args *a, const struct xfer_cli *xc)
{
    char abs[PATH_MAX];
    struct s3dlio_gen gen = {a->seed, (unsigned)a->dedup, (unsigned)a->compress};
    struct s3dlio_stage_opts o = {.kind = a->generate ? S3DLIO_JOB_PUT_GEN : S3DLIO_JOB_PUT_DIR,
                                  .command = "put", .uri = target, .xfer = xc->o, .gen = &gen,
                                  .gen_count = a->count, .gen_min = a->min_size,
                                  .gen_max = a->max_size, .dest = S3DLIO_DEST_NULL};
    xfer_cli_stage_opts(xc, &o);
    if (!s3dlio_uri_is_prefix(uri))
        return app_usage_error(app, "URI must be a prefix ending in '/' (or a bucket)");
    if (!a->generate) {
        struct stat sb;
        if (!realpath(src, abs) || stat(abs, &sb) || !S_ISDIR(sb.st_mode))
            return app_usage_error(app, "'%s' is not a directory", src);
        o.local_dir = abs;
        o.follow_symlinks = a->follow_symlinks;
    }
    return run_distributed(app, &o);
}

int cmd_put(int argc, char **argv, struct app *app)
{
    struct put_args a = {.min_size = 2u << 20, .max_size = 8u << 20, .seed = 42, .dedup = 1,
                         .compress = 1};
    struct xfer_cli xc;
    struct opt xopts[XFER_CLI_NOPTS], all[XFER_CLI_NOPTS + 12];
    int npos = 0;
    const struct opt own[] = {
        {"recursive", 'r', OPT_FLAG, &a.recursive, NULL, "SRC is a directory: upload its tree"},
        {"follow-symlinks", 0, OPT_FLAG, &a.follow_symlinks, NULL,
         "--recursive: enter symbolic links to directories (default: skip them, said)"},
        {"generate", 0, OPT_FLAG, &a.generate, NULL, "upload generated data instead of files"},
        {"count", 0, OPT_SIZE, &a.count, "N", "objects to generate"},
        {"min-size", 0, OPT_SIZE, &a.min_size, "SIZE", "smallest generated object (2MiB)"},
        {"max-size", 0, OPT_SIZE, &a.max_size, "SIZE", "largest generated object (8MiB)"},
        {"seed", 0, OPT_SIZE, &a.seed, "N", "generator seed (42)"},
        {"dedup-factor", 0, OPT_SIZE, &a.dedup, "N", "1 in N generated blocks unique (1)"},
        {"compress-factor", 0, OPT_SIZE, &a.compress, "N", "generated data compresses N:1 (1)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    xfer_cli_init(&xc, xopts);
    opts_concat(all, sizeof(all) / sizeof(all[0]), own, xopts);
    int r = app_parse(app, "put", argc, argv, all, &help, &npos);
    if (r)
        return app_parse_exit(r);
    if ((r = check_args(app, &a, npos)) || (r = xfer_cli_apply(&xc, app)))
        return r;
    const char *target = argv[npos - 1];
    struct s3dlio_uri uri;
    struct s3dlio_backend *be = NULL;
    if ((r = app_open(app, target, &uri, &be)))
        return r;
    r = xfer_cli_refuse_job_opts(&xc, app);
    if (r)
        ; /* said */
    else if (app->mpi && (a.generate || a.recursive))
        r = put_distributed(app, &uri, target, argv[0], &a, &xc);
    else if (app->mpi && is_stdin(argv[0]))
        r = app_usage_error(app, "standard input ('-') is read by one process: run 'put -' "
                                 "without mpirun");
    else if (app->mpi)
        r = app_usage_error(app, "under mpirun only --recursive and --generate spread over ranks");
    else if (a.generate || a.recursive)
        r = put_many(app, be, &uri, argv[0], &a, &xc);
    else
        r = put_one(app, be, &uri, argv[0], target, &xc);
    s3dlio_backend_free(be);
    s3dlio_uri_release(&uri);
    return r;
}
