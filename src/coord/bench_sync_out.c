/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench sync around its rounds (bench_sync.c): the report's place taken before any round,
 * hosts and failed keys gathered to rank 0, the scratch prefix of a write benchmark removed,
 * and rank 0's table, picture and JSON at the end.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "coord/bench_sync_int.h"
#include "stats/render.h"
#include "util/alloc.h"
#include "util/log.h"

#define FAILED_PER_RANK 20   /* failed keys a rank sends per round (the run stops after it) */
#define FAILED_MAX      1000 /* kept in the report */
#define ERROR_TEXT      2048

/* ---- the report's place ------------------------------------------------------------------- */

/* The directory part of path is the user's: created if missing, links allowed in it. */
static size_t root_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) + 1 : 0;
}

enum s3dlio_rc s3dlio_bench_sync_open_report(struct bsync *b, struct s3dlio_bench_sync_result *res,
                                             struct s3dlio_error *err)
{
    if (b->o->report_path)
        snprintf(b->report_path, sizeof(b->report_path), "%s", b->o->report_path);
    else
        snprintf(b->report_path, sizeof(b->report_path), "profiles/%s/bench-sync.json", b->run_id);
    enum s3dlio_rc rc = s3dlio_atomic_open_or_device(&b->rfile, b->report_path,
                                                     root_len(b->report_path), "bench sync", err);
    if (rc && err)
        snprintf(err->message + strlen(err->message), sizeof(err->message) - strlen(err->message),
                 " (the report; see --report)");
    if (!rc)
        snprintf(res->report_file, sizeof(res->report_file), "%s", b->report_path);
    return rc;
}

/* ---- gathering ---------------------------------------------------------------------------- */

void s3dlio_bench_sync_gather_hosts(struct bsync *b)
{
    char host[64] = "";
    gethostname(host, sizeof(host) - 1);
    if (b->rank == 0)
        b->hosts = s3dlio_xcalloc((size_t)b->nranks, sizeof(*b->hosts));
    MPI_Gather(host, (int)sizeof(host), MPI_CHAR, b->hosts, (int)sizeof(host), MPI_CHAR, 0,
               b->comm);
}

static void add_failed(struct bsync *b, int round, int rank, const char *key, const char *error)
{
    if (b->nfailed >= FAILED_MAX)
        return;
    b->failed = s3dlio_xrealloc(b->failed, (b->nfailed + 1) * sizeof(*b->failed));
    b->failed[b->nfailed++] = (struct s3dlio_sync_failure){
        .round = round,
        .rank = rank,
        .key = s3dlio_xstrdup(key),
        .error = s3dlio_xstrdup(error),
    };
}

void s3dlio_bench_sync_gather_failed(struct bsync *b, int r, const struct s3dlio_plan *plan)
{
    int len = 0, *lens = NULL, *displs = NULL;
    size_t total = 0;
    char *mine = s3dlio_coord_pack_failed(plan, FAILED_PER_RANK, (size_t)INT_MAX / (size_t)b->nranks, &len);
    char *all = s3dlio_coord_gather_bytes(b->comm, mine, len, &total, &lens, &displs);
    for (int k = 0; b->rank == 0 && k < b->nranks; k++) {
        for (const char *p = all + displs[k], *end = p + lens[k]; p < end;) {
            const char *key = p, *error = p + strlen(p) + 1;
            add_failed(b, r + 1, k, key, error);
            p = error + strlen(error) + 1;
        }
    }
    free(mine);
    free(all);
    free(lens);
    free(displs);
}

/* ---- the scratch prefix ------------------------------------------------------------------- */

/* Everything under the scratch prefix, listed rather than recalled: an upload a cancel cut
 * short, or one of a rank that failed, is removed too. */
static enum s3dlio_rc remove_scratch(struct bsync *b, struct s3dlio_error *err)
{
    struct s3dlio_objlist list = { 0 };
    enum s3dlio_rc rc = s3dlio_backend_list_all(b->be, b->scratch_key, NULL, 1000, &list, err);
    if (!rc && list.n) {
        const char **keys = s3dlio_xcalloc(list.n, sizeof(*keys));
        size_t nfailed = 0;
        for (size_t i = 0; i < list.n; i++)
            keys[i] = list.items[i].key;
        rc = s3dlio_backend_remove_many(b->be, keys, list.n, &nfailed, err);
        free(keys);
    }
    if (!rc)
        S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_COORD,
                   "bench sync: removed %zu scratch objects "
                   "under '%s'",
                   list.n, b->scratch_uri);
    else if (err)
        snprintf(err->message + strlen(err->message), sizeof(err->message) - strlen(err->message),
                 " (the scratch prefix '%s' was not removed)", b->scratch_uri);
    s3dlio_objlist_release(&list);
    return rc;
}

enum s3dlio_rc s3dlio_bench_sync_clean(struct bsync *b, struct s3dlio_error *err)
{
    enum s3dlio_rc rc = b->rank == 0 ? remove_scratch(b, err) : S3DLIO_OK;
    rc = s3dlio_coord_agree(b->comm, rc, err);
    b->scratch_left = rc != S3DLIO_OK;
    return rc;
}

/* ---- rank 0: table, picture, JSON --------------------------------------------------------- */

static void fill(const struct bsync *b, struct s3dlio_rounds_report *r)
{
    snprintf(r->run_id, sizeof(r->run_id), "%s", b->run_id);
    snprintf(r->source, sizeof(r->source), "%s", b->o->uri);
    if (b->o->write)
        snprintf(r->scratch, sizeof(r->scratch), "%s", b->scratch_uri);
    r->write = b->o->write;
    r->shuffle = b->o->shuffle;
    r->seed = b->o->seed;
    r->nranks = b->nranks;
    r->rounds_asked = b->o->rounds;
    r->nrounds = b->rounds_done;
    r->listed = b->table.listed;
    r->dataset_bytes = b->table.total_bytes;
    r->list_s = b->list_s;
    r->hosts = b->hosts;
    r->samples = b->samples;
    r->failed = b->failed;
    r->nfailed = b->nfailed;
    r->interrupted = b->interrupted;
    r->scratch_left = b->scratch_left;
}

/* "<dir>/<stem>.svg" beside the report ("x/bench-sync.json" -> "x/bench-sync.svg"). */
static void picture_path(const char *report, char *out, size_t len)
{
    const char *slash = strrchr(report, '/'), *dot = strrchr(report, '.');
    size_t stem = dot && (!slash || dot > slash + 1) ? (size_t)(dot - report) : strlen(report);
    snprintf(out, len, "%.*s.svg", (int)stem, report);
}

/* Written like the report: under a temporary name, renamed when complete. */
static enum s3dlio_rc write_picture(const struct s3dlio_rounds_report *r, const char *path,
                                    struct s3dlio_error *err)
{
    struct s3dlio_atomic_file f = S3DLIO_ATOMIC_FILE_INIT;
    enum s3dlio_rc rc = s3dlio_atomic_open(&f, path, root_len(path), "bench sync", err);
    if (rc)
        return rc;
    int fd = dup(f.fd);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!fp) {
        rc = s3dlio_error_sys(err, "bench sync", path, errno, "fdopen");
        if (fd >= 0)
            close(fd);
    } else {
        rc = s3dlio_rounds_svg(r, fp, err);
        if (fclose(fp) && !rc)
            rc = s3dlio_error_sys(err, "bench sync", path, errno, "write");
    }
    if (rc) {
        s3dlio_atomic_discard(&f);
        return rc;
    }
    return s3dlio_atomic_commit(&f, false, "bench sync", err);
}

static enum s3dlio_rc put_json(const void *r, FILE *out)
{
    return s3dlio_rounds_report_write_json(r, out);
}

static enum s3dlio_rc write_json(const struct s3dlio_rounds_report *r, struct s3dlio_atomic_file *f,
                                 struct s3dlio_error *err)
{
    return s3dlio_coord_write_atomic(f, "bench sync", put_json, r, err);
}

enum s3dlio_rc s3dlio_bench_sync_report(struct bsync *b, FILE *out,
                                        struct s3dlio_bench_sync_result *res,
                                        struct s3dlio_error *err)
{
    struct s3dlio_rounds_report r = { 0 };
    enum s3dlio_rc rc = S3DLIO_OK;
    fill(b, &r);
    s3dlio_rounds_report_build(&r);
    if (b->rfile.tmp) { /* a file, not a device: the picture goes beside it */
        char path[sizeof(r.files[0].path)];
        picture_path(b->report_path, path, sizeof(path));
        rc = write_picture(&r, path, err);
        if (!rc) {
            snprintf(r.files[0].kind, sizeof(r.files[0].kind), "picture");
            snprintf(r.files[0].path, sizeof(r.files[0].path), "%s", path);
            snprintf(res->picture_file, sizeof(res->picture_file), "%s", path);
            r.nfiles = 1;
        }
    }
    if (out)
        s3dlio_rounds_report_print_table(&r, out);
    enum s3dlio_rc jrc = write_json(&r, &b->rfile, rc ? NULL : err);
    s3dlio_rounds_report_release(&r);
    return rc ? rc : jrc;
}
