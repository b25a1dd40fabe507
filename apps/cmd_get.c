/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi get: one object to a file or stdout, or a whole prefix through the engine. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "app.h"
#include "commands.h"
#include "util/alloc.h"
#include "xfer/datagen.h"
#include "s3dlio/coord.h"
#include "xfer_cli.h"

static const struct cmd_help help = {
    "[--recursive | --keys-from FILE] [options] URI DEST",
    "Download the object URI to DEST: a file, a directory (the key's last component is\n"
    "used as the name), or '-' for stdout, through the same engine as --recursive: large\n"
    "objects in parallel ranges, every range pinned to the version first seen (If-Match),\n"
    "retries, --verify. Files are written under a temporary name and renamed when\n"
    "complete, so a failed or interrupted download never leaves a partial DEST behind.\n"
    "With --recursive, every object under the prefix URI goes to the directory DEST\n"
    "(keys below the prefix become relative paths) or to 'null:' (read and discard, for\n"
    "benchmarks), through the concurrent transfer engine. --keys-from reads the keys (one\n"
    "per line, relative to the bucket) from FILE instead of listing.",
};

struct get_args {
    bool recursive, verify_pattern;
    const char *keys_from;
    uint64_t seed, dedup, compress;
};

/*
 * DEST, or DEST/<last component of key> when DEST is a directory or ends in '/'. Caller
 * frees. NULL (err set) when DEST names a directory that is not there.
 */
static char *dest_path(const char *dest, const char *key, struct s3dlio_error *err)
{
    struct stat sb;
    size_t n = strlen(dest);
    bool dir = !stat(dest, &sb) && S_ISDIR(sb.st_mode);
    if (!dir && n && dest[n - 1] == '/') {
        s3dlio_error_set(err, S3DLIO_E_USAGE, "get", dest, "no such directory");
        return NULL;
    }
    if (!dir)
        return strdup(dest);
    const char *base = strrchr(key, '/');
    base = base ? base + 1 : key;
    char *out = NULL;
    /* "g2/" and "g2" both give "g2/name", never "g2//name" */
    if (asprintf(&out, "%.*s/%s", (int)(n > 1 && dest[n - 1] == '/' ? n - 1 : n), dest, base) < 0)
        return NULL;
    return out;
}

/*
 * DEST that is a device or a FIFO (/dev/null, a named pipe) is written in place, in order,
 * as stdout is: renaming a finished file over it would replace the device. -1: not one;
 * -2: one that cannot be opened (errno set).
 */
static int open_device(const char *dest)
{
    struct stat sb;
    if (stat(dest, &sb) || !(S_ISCHR(sb.st_mode) || S_ISFIFO(sb.st_mode)))
        return -1;
    int fd = open(dest, O_WRONLY | O_CLOEXEC);
    return fd < 0 ? -2 : fd;
}

/* One object through the engine: pinned, ranged, retried, verified like the rest. */
static int get_one(struct app *app, struct s3dlio_backend *be, const struct s3dlio_uri *uri,
                   const char *text, const char *dest, struct xfer_cli *xc)
{
    struct s3dlio_error err = {0};
    struct s3dlio_plan plan = {0};
    struct s3dlio_xfer_stats st;
    char *path = NULL;
    if (s3dlio_uri_is_prefix(uri)) {
        s3dlio_error_set(&err, S3DLIO_E_USAGE, "get", text,
                         "URI names a prefix, not an object (use --recursive)");
        return app_fail(app, &err);
    }
    bool to_stdout = !strcmp(dest, "-");
    int fd = to_stdout ? STDOUT_FILENO : open_device(dest);
    if (fd == -2) {
        s3dlio_error_sys(&err, "get", dest, errno, "cannot open");
        return app_fail(app, &err);
    }
    if (fd < 0 && !(path = dest_path(dest, uri->key, &err)))
        return app_fail(app, &err);
    struct s3dlio_xfer_job job = {.dir = S3DLIO_XFER_GET, .key = uri->key,
                                  .size = S3DLIO_SIZE_UNKNOWN, .fd = fd};
    job.local = fd >= 0 ? S3DLIO_LOCAL_STREAM : S3DLIO_LOCAL_FILE;
    job.path = path;
    if (path) { /* the directory part is the user's to name, links and all */
        const char *slash = strrchr(path, '/');
        job.path_root = slash ? (size_t)(slash - path) + 1 : 0;
    }
    plan.jobs = &job;
    plan.n = 1;
    xc->single = true;
    int code = xfer_cli_run(app, xc, be, &plan, "get", NULL, &st);
    if (fd >= 0 && fd != STDOUT_FILENO)
        close(fd);
    if (!code && !app->flags.quiet && !to_stdout)
        fprintf(stderr, "%s: got %s -> %s (%" PRIu64 " bytes%s)\n", app->prog, text, path ? path : dest, job.bytes,
                job.verified == S3DLIO_VERIFY_OK ? ", MD5 verified"
                : job.verified == S3DLIO_VERIFY_UNVERIFIABLE ? ", not verifiable" : "");
    s3dlio_xfer_jobs_release(&job, 1);
    free(path);
    return code;
}

/* Keys from a file, one per line; sizes unknown (whole GETs). */
static enum s3dlio_rc read_keys(const char *file, struct s3dlio_objlist *out, struct s3dlio_error *err)
{
    FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
    if (!f)
        return s3dlio_error_set(err, S3DLIO_E_IO, "get", file, "cannot open: %s", strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n)
            s3dlio_objlist_add(out, line, S3DLIO_SIZE_UNKNOWN, -1, NULL);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return S3DLIO_OK;
}

/* A recursive GET's table: the listing, planned a chunk of rows at a time. */
struct get_rows {
    const struct s3dlio_objlist *list;
    const char *prefix, *dest_dir;    /* dest_dir NULL: discard */
    const struct s3dlio_gen *gen;     /* --verify-pattern */
    const bool *conflict;             /* over the whole listing (dest_dir only) */
    struct s3dlio_plan_counts counts; /* summed over the chunks */
};

static void plan_get_rows(void *ud, size_t first, size_t count, struct s3dlio_plan *plan)
{
    struct get_rows *g = ud;
    /* a view of the listing's rows: planning only reads them, so none is copied */
    const struct s3dlio_objlist chunk = {.items = g->list->items + first, .n = count};
    struct s3dlio_plan_counts c = {0};
    s3dlio_plan_get(plan, &chunk, g->prefix, g->dest_dir, g->gen,
                    g->conflict ? g->conflict + first : NULL, &c);
    g->counts.markers += c.markers;
    g->counts.unsafe += c.unsafe;
    g->counts.conflicts += c.conflicts;
}

static uint64_t listed_bytes(const struct s3dlio_objlist *list)
{
    uint64_t total = 0;
    for (size_t i = 0; i < list->n; i++)
        if (list->items[i].size != S3DLIO_SIZE_UNKNOWN)
            total += list->items[i].size;
    return total;
}

static int get_many(struct app *app, struct s3dlio_backend *be, const struct s3dlio_uri *uri,
                    const char *dest, const struct get_args *a, struct xfer_cli *xc)
{
    struct s3dlio_error err = {0};
    struct s3dlio_objlist list = {0};
    struct s3dlio_xfer_stats st = {0};
    struct s3dlio_gen gen = {a->seed, (unsigned)a->dedup, (unsigned)a->compress};
    struct s3dlio_feed feed;
    bool discard = !strcmp(dest, "null:");
    xfer_cli_catch_signals(&xc->o.cancel); /* from the listing on: it can take minutes */
    be->cancel = xc->o.cancel;
    enum s3dlio_rc rc = a->keys_from ? read_keys(a->keys_from, &list, &err)
                                     : s3dlio_backend_list_all(be, uri->key, NULL, 1000, &list, &err);
    if (rc == S3DLIO_E_ABORTED && xfer_cli_signal()) {
        s3dlio_objlist_release(&list);
        return xfer_cli_listing_interrupted(app, "get");
    }
    if (rc)
        return app_fail(app, &err);
    if (a->verify_pattern && !discard) {
        s3dlio_objlist_release(&list);
        return app_usage_error(app, "--verify-pattern checks and drops the data: DEST must be null:");
    }
    struct get_rows rows = {.list = &list, .prefix = uri->key, .dest_dir = discard ? NULL : dest,
                            .gen = a->verify_pattern ? &gen : NULL};
    bool *conflict = NULL;
    if (!discard) { /* a key that is another's directory: known only over the whole listing */
        conflict = s3dlio_xcalloc(list.n ? list.n : 1, sizeof(*conflict));
        s3dlio_plan_dir_conflicts(&list, conflict);
        rows.conflict = conflict;
    }
    s3dlio_feed_init(&feed, list.n, 0, plan_get_rows, &rows);
    int code = xfer_cli_run_feed(app, xc, be, &feed, listed_bytes(&list), "get", &rows.counts, &st);
    s3dlio_feed_release(&feed);
    free(conflict);
    s3dlio_objlist_release(&list);
    return code;
}

/* Under mpirun: rank 0 lists, the ranks share the objects (as stage does). */
static int get_distributed(struct app *app, const char *uri, const char *dest,
                           const struct get_args *a, const struct xfer_cli *xc)
{
    struct s3dlio_stage_opts o = {.kind = S3DLIO_JOB_GET, .command = "get", .uri = uri,
                                  .xfer = xc->o};
    xfer_cli_stage_opts(xc, &o);
    struct s3dlio_gen gen = {a->seed, (unsigned)a->dedup, (unsigned)a->compress};
    if (a->keys_from)
        return app_usage_error(app, "--keys-from is not supported under mpirun");
    o.dest = strcmp(dest, "null:") ? S3DLIO_DEST_DIR : S3DLIO_DEST_NULL;
    o.dest_path = o.dest == S3DLIO_DEST_DIR ? dest : NULL;
    if (a->verify_pattern && o.dest != S3DLIO_DEST_NULL)
        return app_usage_error(app, "--verify-pattern checks and drops the data: DEST must be null:");
    o.verify_gen = a->verify_pattern ? &gen : NULL;
    return run_distributed(app, &o);
}

int cmd_get(int argc, char **argv, struct app *app)
{
    struct get_args a = {.seed = 42, .dedup = 1, .compress = 1};
    struct xfer_cli xc;
    struct opt xopts[XFER_CLI_NOPTS], all[XFER_CLI_NOPTS + 8];
    int npos = 0;
    const struct opt own[] = {
        {"recursive", 'r', OPT_FLAG, &a.recursive, NULL, "every object under the prefix URI"},
        {"keys-from", 0, OPT_STRING, &a.keys_from, "FILE", "GET these keys (one per line)"},
        {"verify-pattern", 0, OPT_FLAG, &a.verify_pattern, NULL,
         "check data written by put --generate (same --seed and factors); DEST null:"},
        {"seed", 0, OPT_SIZE, &a.seed, "N", "generator seed for --verify-pattern (42)"},
        {"dedup-factor", 0, OPT_SIZE, &a.dedup, "N", "generator dedup factor (1)"},
        {"compress-factor", 0, OPT_SIZE, &a.compress, "N", "generator compress factor (1)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    xfer_cli_init(&xc, xopts);
    opts_concat(all, sizeof(all) / sizeof(all[0]), own, xopts);
    int r = app_parse(app, "get", argc, argv, all, &help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos != 2)
        return app_usage_error(app, "expected URI and DEST (see '%s get --help')", app->prog);
    if ((r = xfer_cli_apply(&xc, app)))
        return r;
    struct s3dlio_uri uri;
    struct s3dlio_backend *be = NULL;
    if ((r = app_open(app, argv[0], &uri, &be)))
        return r;
    r = xfer_cli_refuse_job_opts(&xc, app);
    if (r)
        ; /* said */
    else if (app->mpi && !a.recursive)
        r = app_usage_error(app, "under mpirun only --recursive spreads over ranks");
    else if (app->mpi)
        r = get_distributed(app, argv[0], argv[1], &a, &xc);
    else if (a.recursive || a.keys_from)
        r = get_many(app, be, &uri, argv[1], &a, &xc);
    else
        r = get_one(app, be, &uri, argv[0], argv[1], &xc);
    s3dlio_backend_free(be);
    s3dlio_uri_release(&uri);
    return r;
}
