/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench lifecycle (include/s3dlio/lifecycle.h): the phases run as the other collective jobs
 * do (the upload and download are stage jobs with their own reports), timed between barriers
 * by the slowest rank; one CPU profile covers them all, since the stage jobs only tag their
 * phases into the sampler started here.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "coord/coord_int.h"
#include "util/alloc.h"
#include "util/atomic_file.h"
#include "xfer/datagen.h"

#define DELETE_BATCH 1000 /* DeleteObjects takes at most 1000 keys */

const char *s3dlio_lifecycle_phase_name(enum s3dlio_lifecycle_phase p)
{
    static const char *const names[S3DLIO_LC_PHASES] = {
        "create bucket", "upload", "list", "download", "delete objects", "delete bucket"};
    return (unsigned)p < S3DLIO_LC_PHASES ? names[p] : "unknown";
}

struct lc {
    MPI_Comm comm;
    int rank, nranks;
    const struct s3dlio_config *cfg;
    const struct s3dlio_lifecycle_opts *o;
    struct s3dlio_lifecycle_result *res;
    struct s3dlio_lifecycle_report rep;
    char run_id[RUN_ID_MAX];
    char dir[1024];                  /* the report's directory: sub-reports and pictures */
    char data_uri[1024];             /* s3://BUCKET/s3dlio-lifecycle-<run-id>/ */
    struct s3dlio_uri bucket;
    struct s3dlio_objlist listed;    /* rank 0: the list phase's listing */
    uint64_t count;                  /* objects generated */
    struct s3dlio_gen gen;
    struct s3dlio_observe obs;
};

/* Barrier-to-barrier time of a phase, the slowest rank's: every rank gets it. */
static double phase_seconds(struct lc *c, double t0)
{
    double mine = MPI_Wtime() - t0, slowest = 0;
    MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, c->comm);
    return slowest;
}

/* ---- create bucket ------------------------------------------------------------------------ */

static enum s3dlio_rc create_bucket(struct lc *c, struct s3dlio_error *err)
{
    struct s3dlio_backend *be = NULL;
    enum s3dlio_rc rc = s3dlio_backend_new(&c->bucket, c->cfg, &be, err);
    if (!rc && !s3dlio_backend_bucket_head(be, err)) {
        /* it exists: ours go under a prefix of their own, but a bucket in use is refused
         * unless the user said so, as the benchmark deletes what it lists there */
        struct s3dlio_list_req req = {.max_keys = 1};
        struct s3dlio_list_page page = {0};
        rc = s3dlio_backend_list(be, &req, &page, err);
        if (!rc && page.list.n && !c->o->allow_nonempty)
            rc = s3dlio_error_set(err, S3DLIO_E_USAGE, "bench lifecycle", c->o->bucket_uri,
                                  "the bucket holds objects (e.g. '%s'): refusing to run there; "
                                  "--allow-nonempty runs beside them (under a prefix of its own, "
                                  "deleting only its own objects)", page.list.items[0].key);
        s3dlio_list_page_release(&page);
    } else if (!rc) {
        s3dlio_error_clear(err);
        rc = s3dlio_backend_bucket_create(be, err);
        c->res->bucket_created = !rc;
    }
    s3dlio_backend_free(be);
    return rc;
}

/* ---- upload and download: stage jobs ------------------------------------------------------ */

static void stage_base(struct lc *c, struct s3dlio_stage_opts *so, const char *name, char *report,
                       size_t len)
{
    memset(so, 0, sizeof(*so));
    snprintf(report, len, "%s/%s/report.json", c->dir, name);
    so->uri = c->data_uri;
    so->report_path = report;
    so->progress = c->o->progress;
    so->xfer = c->o->xfer;
    so->partition = S3DLIO_PART_SIZE;
    /* the samples go to the profile started here: the stage only tags its phases */
    so->profile_hz = 0;
}

static void take_summary(struct s3dlio_lifecycle_transfer *t, const struct s3dlio_stage_result *sr)
{
    const struct s3dlio_stage_summary *s = &sr->summary;
    *t = (struct s3dlio_lifecycle_transfer){
        .MBps = s->MBps, .rank_MBps_min = s->rank_MBps_min, .rank_MBps_median = s->rank_MBps_median,
        .rank_MBps_max = s->rank_MBps_max, .ttfb_ms_p50 = s->ttfb_ms_p50, .ttfb_ms_p99 = s->ttfb_ms_p99,
        .total_ms_p50 = s->total_ms_p50, .total_ms_p99 = s->total_ms_p99, .requests = s->requests,
        .retries = s->retries, .cpu_s = s->cpu_s};
    snprintf(t->report, sizeof(t->report), "%s", sr->report_file);
}

/* A stage job whose objects failed returns without a message: say how many, and where. */
static enum s3dlio_rc stage_failed(enum s3dlio_rc rc, const struct s3dlio_stage_result *sr,
                                   const char *phase, const char *uri, struct s3dlio_error *err)
{
    if (rc && sr->interrupted)
        s3dlio_error_set(err, rc, "bench lifecycle", uri,
                         "%s interrupted: %" PRIu64 " of %" PRIu64 " objects done (report: %s)",
                         phase, sr->objects, sr->listed, sr->report_file);
    else if (rc && !err->rc && sr->failures)
        s3dlio_error_set(err, rc, "bench lifecycle", uri,
                         "%s: %" PRIu64 " of %" PRIu64 " objects failed; first: %s (report: %s)",
                         phase, sr->failures, sr->listed, sr->first_failure, sr->report_file);
    else if (rc && !err->rc)
        s3dlio_error_set(err, rc, "bench lifecycle", uri, "%s failed (report: %s)", phase,
                         sr->report_file);
    return rc;
}

/* Run one transfer as a stage job: its summary into t, its objects done into *objects. */
static enum s3dlio_rc run_transfer(struct lc *c, const struct s3dlio_stage_opts *so, const char *phase,
                                   struct s3dlio_lifecycle_transfer *t, uint64_t *objects,
                                   struct s3dlio_error *err)
{
    struct s3dlio_stage_result sr;
    enum s3dlio_rc rc = s3dlio_coord_stage(c->comm, c->cfg, so, NULL, &sr, err);
    if (c->rank == 0)
        take_summary(t, &sr);
    c->rep.interrupted |= sr.interrupted;
    rc = stage_failed(rc, &sr, phase, c->data_uri, err);
    *objects = sr.objects;
    s3dlio_shard_release(&sr.shard);
    return rc;
}

static enum s3dlio_rc upload(struct lc *c, struct s3dlio_error *err)
{
    struct s3dlio_stage_opts so;
    char report[1100];
    uint64_t objects;
    stage_base(c, &so, "upload", report, sizeof(report));
    so.kind = S3DLIO_JOB_PUT_GEN;
    so.command = "put";
    so.gen = &c->gen;
    so.gen_count = c->count;
    so.gen_min = c->o->min_size;
    so.gen_max = c->o->max_size;
    so.dest = S3DLIO_DEST_NULL;
    const char *prefix = c->data_uri + strlen(c->o->bucket_uri);
    snprintf(c->rep.prefix, sizeof(c->rep.prefix), "%s", prefix + (*prefix == '/'));
    return run_transfer(c, &so, "upload", &c->rep.upload, &objects, err);
}

static enum s3dlio_rc download(struct lc *c, struct s3dlio_error *err)
{
    struct s3dlio_stage_opts so;
    char report[1100];
    uint64_t objects;
    stage_base(c, &so, "download", report, sizeof(report));
    so.kind = S3DLIO_JOB_GET;
    so.command = "get";
    so.dest = S3DLIO_DEST_NULL;
    so.verify_gen = &c->gen; /* every byte checked against the generator */
    enum s3dlio_rc rc = run_transfer(c, &so, "download", &c->rep.download, &objects, err);
    if (!rc && objects != c->count)
        rc = s3dlio_error_set(err, S3DLIO_E_INTEGRITY, "bench lifecycle", c->data_uri,
                              "downloaded %" PRIu64 " objects of the %" PRIu64 " uploaded",
                              objects, c->count);
    return rc;
}

/* ---- list --------------------------------------------------------------------------------- */

static enum s3dlio_rc list_data(struct lc *c, struct s3dlio_error *err)
{
    struct s3dlio_uri u = {0};
    enum s3dlio_rc rc = s3dlio_coord_agree(c->comm, s3dlio_uri_parse(&u, c->data_uri, err), err);
    if (!rc) /* the ranks list pieces of the prefix at once, as stage does (rank 0 has it all) */
        rc = s3dlio_coord_list(c->comm, c->cfg, &u, true, &c->listed, err);
    if (!rc && c->rank == 0 && c->listed.n != c->count)
        rc = s3dlio_error_set(err, S3DLIO_E_INTEGRITY, "bench lifecycle", c->data_uri,
                              "listed %zu objects of the %" PRIu64 " uploaded", c->listed.n, c->count);
    s3dlio_uri_release(&u);
    return s3dlio_coord_agree(c->comm, rc, err);
}

/* ---- delete ------------------------------------------------------------------------------- */

/* keys[0..n) in batches; *deleted counts what is gone, err the first failure. */
static enum s3dlio_rc delete_keys(struct s3dlio_backend *be, const char **keys, size_t n,
                                  uint64_t *deleted, struct s3dlio_error *err)
{
    enum s3dlio_rc first = S3DLIO_OK;
    for (size_t at = 0; at < n; at += DELETE_BATCH) {
        size_t k = n - at < DELETE_BATCH ? n - at : DELETE_BATCH, failed = 0;
        struct s3dlio_error berr = {0};
        enum s3dlio_rc rc = s3dlio_backend_remove_many(be, keys + at, k, &failed, &berr);
        if (rc && !failed)
            failed = k;
        *deleted += k - failed;
        if (rc && !first) {
            first = rc;
            *err = berr;
        }
    }
    return first;
}

/*
 * Every rank deletes a contiguous share of rank 0's listing, in DeleteObjects batches: one
 * scatter of the keys, then no rank waits for another.
 */
static enum s3dlio_rc delete_objects(struct lc *c, struct s3dlio_error *err)
{
    struct s3dlio_table t = {0};
    int *owner = NULL;
    if (c->rank == 0) {
        owner = s3dlio_xcalloc(c->listed.n ? c->listed.n : 1, sizeof(*owner));
        for (size_t i = 0; i < c->listed.n; i++)
            owner[i] = (int)(i * (size_t)c->nranks / (c->listed.n ? c->listed.n : 1));
    }
    enum s3dlio_rc rc = s3dlio_table_scatter(c->comm, &c->listed, owner, NULL, &t, err);
    free(owner);
    struct s3dlio_backend *be = NULL;
    uint64_t deleted = 0, all = 0;
    if (!rc)
        rc = s3dlio_backend_new(&c->bucket, c->cfg, &be, err);
    if (!rc) {
        const char **mine = s3dlio_xcalloc(t.n ? t.n : 1, sizeof(*mine));
        size_t n = 0;
        for (size_t i = 0; i < t.n; i++)
            if (t.owner[i] == c->rank)
                mine[n++] = t.keys[i];
        rc = delete_keys(be, mine, n, &deleted, err);
        free(mine);
    }
    s3dlio_backend_free(be);
    s3dlio_table_release(&t);
    MPI_Allreduce(&deleted, &all, 1, MPI_UINT64_T, MPI_SUM, c->comm);
    c->res->deleted += all;
    return s3dlio_coord_agree(c->comm, rc, err);
}

/*
 * After a failure or a signal: rank 0 deletes whatever is under the run's prefix (listed
 * again: the upload may have stopped anywhere) and the bucket if this run made it.
 */
static void clean_up(struct lc *c)
{
    if (c->rank != 0)
        return;
    struct s3dlio_error err = {0};
    struct s3dlio_uri u = {0};
    struct s3dlio_backend *be = NULL;
    struct s3dlio_objlist left = {0};
    enum s3dlio_rc rc = s3dlio_uri_parse(&u, c->data_uri, &err);
    if (!rc)
        rc = s3dlio_backend_new(&u, c->cfg, &be, &err);
    if (!rc)
        rc = s3dlio_backend_list_all(be, u.key, NULL, 1000, &left, &err);
    if (!rc) {
        const char **keys = s3dlio_xcalloc(left.n ? left.n : 1, sizeof(*keys));
        for (size_t i = 0; i < left.n; i++)
            keys[i] = left.items[i].key;
        rc = delete_keys(be, keys, left.n, &c->res->deleted, &err);
        free(keys);
    }
    if (!rc && c->res->bucket_created) {
        rc = s3dlio_backend_bucket_delete(be, &err);
        c->res->bucket_deleted = !rc;
    }
    c->res->cleaned_up = !rc;
    if (rc) {
        char line[1200];
        s3dlio_error_format(&err, line, sizeof(line));
        fprintf(stderr, "s3dlio-mpi: bench lifecycle: cleaning up after the failure failed: %s\n",
                line);
    }
    s3dlio_objlist_release(&left);
    s3dlio_backend_free(be);
    s3dlio_uri_release(&u);
}

/* ---- the run ------------------------------------------------------------------------------ */

/* Objects of the generator's sizes, uniform in [min, max], until they reach the target. */
static uint64_t objects_for(const struct s3dlio_lifecycle_opts *o, uint64_t *bytes)
{
    uint64_t n = 0;
    *bytes = 0;
    while (*bytes < o->total_bytes)
        *bytes += s3dlio_gen_object_size(o->seed, n++, o->min_size, o->max_size);
    return n;
}

static enum s3dlio_rc check_opts(const struct s3dlio_lifecycle_opts *o, const struct s3dlio_uri *u,
                                 struct s3dlio_error *err)
{
    const char *why = NULL;
    if (strcmp(u->scheme, "s3"))
        why = "the benchmark runs against S3 (s3://BUCKET)";
    else if (u->key[0])
        why = "name a bucket, not a prefix: the benchmark creates and deletes it";
    else if (!o->min_size || o->min_size > o->max_size)
        why = "object sizes need 0 < min <= max";
    else if (!o->total_bytes)
        why = "the dataset size must be more than 0";
    return why ? s3dlio_error_set(err, S3DLIO_E_USAGE, "bench lifecycle", o->bucket_uri, "%s", why)
               : S3DLIO_OK;
}

typedef enum s3dlio_rc phase_fn(struct lc *c, struct s3dlio_error *err);

/* Runs a phase between barriers; rank 0's err holds its failure. */
static enum s3dlio_rc run_phase(struct lc *c, enum s3dlio_lifecycle_phase p, enum s3dlio_phase tag,
                                phase_fn *fn, struct s3dlio_error *err)
{
    MPI_Barrier(c->comm);
    s3dlio_observe_phase(&c->obs, tag);
    double t0 = MPI_Wtime();
    enum s3dlio_rc rc = fn(c, err);
    c->res->seconds[p] = phase_seconds(c, t0);
    c->res->ran[p] = true;
    s3dlio_observe_phase(&c->obs, S3DLIO_PHASE_SETUP);
    if (rc)
        c->rep.failed_phase = s3dlio_lifecycle_phase_name(p);
    return rc;
}

static enum s3dlio_rc create_phase(struct lc *c, struct s3dlio_error *err)
{
    enum s3dlio_rc rc = c->rank == 0 ? create_bucket(c, err) : S3DLIO_OK;
    int made = c->res->bucket_created;
    MPI_Bcast(&made, 1, MPI_INT, 0, c->comm);
    c->res->bucket_created = made;
    return s3dlio_coord_agree(c->comm, rc, err);
}

static enum s3dlio_rc delete_bucket_phase(struct lc *c, struct s3dlio_error *err)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    if (c->rank == 0 && c->res->bucket_created) {
        struct s3dlio_backend *be = NULL;
        rc = s3dlio_backend_new(&c->bucket, c->cfg, &be, err);
        if (!rc)
            rc = s3dlio_backend_bucket_delete(be, err);
        c->res->bucket_deleted = !rc;
        s3dlio_backend_free(be);
    }
    return s3dlio_coord_agree(c->comm, rc, err);
}

/* Where the report goes (rank 0 decides, every rank needs the directory for sub-reports). */
static void place_report(struct lc *c, char *path, size_t len)
{
    if (c->o->report_path)
        snprintf(path, len, "%s", c->o->report_path);
    else
        snprintf(path, len, "profiles/%s/lifecycle.json", c->run_id);
    const char *slash = strrchr(path, '/');
    snprintf(c->dir, sizeof(c->dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (!c->dir[0])
        snprintf(c->dir, sizeof(c->dir), "/");
}

/* s3dlio's names for the transfer flamegraphs, beside ours (hard links: the same file). */
static void seed_names(struct lc *c)
{
    static const struct { const char *ours, *seed; } names[] = {
        {"upload.svg", "large_scale_upload_profile.svg"},
        {"download.svg", "large_scale_download_profile.svg"},
    };
    size_t n = c->obs.nfiles;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char from[sizeof(c->obs.files[0].path)], to[sizeof(c->obs.files[0].path)];
        if (snprintf(from, sizeof(from), "%s/%s", c->dir, names[i].ours) >= (int)sizeof(from) ||
            snprintf(to, sizeof(to), "%s/%s", c->dir, names[i].seed) >= (int)sizeof(to))
            continue; /* a directory too long to name both: the flamegraph stays as it is */
        for (size_t k = 0; k < n && c->obs.nfiles < OBSERVE_MAX_FILES; k++) {
            struct s3dlio_report_file *f = &c->obs.files[k];
            if (strcmp(f->path, from))
                continue;
            unlink(to);
            if (!link(from, to) || !symlink(names[i].ours, to)) {
                c->obs.files[c->obs.nfiles] = *f;
                memcpy(c->obs.files[c->obs.nfiles].path, to, sizeof(to));
                c->obs.nfiles++;
            }
        }
    }
}

static enum s3dlio_rc put_report(const void *r, FILE *out)
{
    return s3dlio_lifecycle_write_json(r, out);
}

static enum s3dlio_rc write_report(struct lc *c, struct s3dlio_atomic_file *f, struct s3dlio_error *err)
{
    return s3dlio_coord_write_atomic(f, "bench lifecycle", put_report, &c->rep, err);
}

enum s3dlio_rc s3dlio_bench_lifecycle(MPI_Comm comm, const struct s3dlio_config *cfg,
                                      const struct s3dlio_lifecycle_opts *o, FILE *out,
                                      struct s3dlio_lifecycle_result *res, struct s3dlio_error *err)
{
    struct lc *c = s3dlio_xcalloc(1, sizeof(*c));
    struct s3dlio_error local = {0}, fail = {0};
    struct s3dlio_atomic_file rfile = S3DLIO_ATOMIC_FILE_INIT;
    memset(res, 0, sizeof(*res));
    c->comm = comm;
    c->cfg = cfg;
    c->o = o;
    c->res = res;
    MPI_Comm_rank(comm, &c->rank);
    MPI_Comm_size(comm, &c->nranks);
    struct s3dlio_stage_opts ids = {.command = "bench lifecycle", .uri = o->bucket_uri,
                                    .run_id = o->run_id, .profile_hz = o->profile_hz,
                                    .profile_per_rank = o->profile_per_rank};
    enum s3dlio_rc rc = s3dlio_uri_parse(&c->bucket, o->bucket_uri, &local);
    if (!rc)
        rc = check_opts(o, &c->bucket, &local);
    if (!rc)
        rc = s3dlio_coord_check_run_id(&ids, &local);
    if ((rc = s3dlio_coord_agree(comm, rc, &local)))
        goto out;
    s3dlio_coord_make_run_id(comm, &ids, c->run_id);
    place_report(c, res->report_file, sizeof(res->report_file));
    snprintf(c->data_uri, sizeof(c->data_uri), "%s%ss3dlio-lifecycle-%s/", o->bucket_uri,
             o->bucket_uri[strlen(o->bucket_uri) - 1] == '/' ? "" : "/", c->run_id);
    /* the report file first: an unwritable place fails before a bucket is made */
    if (c->rank == 0)
        rc = s3dlio_atomic_open_or_device(&rfile, res->report_file, strlen(c->dir) + 1,
                                          "bench lifecycle", &local);
    if (!rc && c->rank == 0 && !rfile.tmp) /* a device: the sub-reports and pictures go here */
        snprintf(c->dir, sizeof(c->dir), "profiles/%s", c->run_id);
    MPI_Bcast(c->dir, (int)sizeof(c->dir), MPI_CHAR, 0, comm);
    if (!rc)
        rc = s3dlio_observe_begin(comm, &ids, &c->obs, &local);
    if ((rc = s3dlio_coord_agree(comm, rc, &local)))
        goto out;
    c->obs.timeline_off = true; /* the transfers draw their own, in their directories */
    c->count = objects_for(o, &res->bytes);
    c->gen = (struct s3dlio_gen){.seed = o->seed};

    bool uploaded = false;
    rc = run_phase(c, S3DLIO_LC_CREATE, S3DLIO_PHASE_SETUP, create_phase, &fail);
    if (!rc) {
        uploaded = true; /* from here on, something may be there to clean up */
        rc = run_phase(c, S3DLIO_LC_UPLOAD, S3DLIO_PHASE_UPLOAD, upload, &fail);
    }
    if (!rc)
        rc = run_phase(c, S3DLIO_LC_LIST, S3DLIO_PHASE_LIST, list_data, &fail);
    if (!rc)
        rc = run_phase(c, S3DLIO_LC_DOWNLOAD, S3DLIO_PHASE_DOWNLOAD, download, &fail);
    if (!rc && !o->keep)
        rc = run_phase(c, S3DLIO_LC_DELETE, S3DLIO_PHASE_DELETE, delete_objects, &fail);
    if (!rc && !o->keep)
        rc = run_phase(c, S3DLIO_LC_DELETE_BUCKET, S3DLIO_PHASE_SETUP, delete_bucket_phase, &fail);
    if (rc && uploaded && !o->keep)
        clean_up(c);
    if (!rc && !o->keep)
        res->cleaned_up = true;
    res->objects = c->count;
    MPI_Bcast(&res->cleaned_up, 1, MPI_C_BOOL, 0, comm);

    /* the report: every phase's time, the transfers' figures, the pictures */
    struct s3dlio_rank_stats rs = {0};
    s3dlio_observe_stop(&c->obs, &rs);
    enum s3dlio_rc prc = s3dlio_observe_finish(comm, &c->obs, c->run_id, c->rank == 0 ? c->dir : NULL,
                                               &local);
    if (c->rank == 0) {
        seed_names(c);
        struct s3dlio_lifecycle_report *r = &c->rep;
        snprintf(r->run_id, sizeof(r->run_id), "%s", c->run_id);
        snprintf(r->bucket_uri, sizeof(r->bucket_uri), "%s", o->bucket_uri);
        r->nranks = c->nranks;
        r->put_concurrency = o->xfer.put_concurrency;
        r->get_concurrency = o->xfer.get_concurrency;
        r->max_connections = cfg->max_connections;
        r->min_size = o->min_size;
        r->max_size = o->max_size;
        r->seed = o->seed;
        r->res = *res;
        r->files = c->obs.files;
        r->nfiles = c->obs.nfiles;
        if (rc)
            s3dlio_error_format(&fail, r->error, sizeof(r->error));
        if (out)
            s3dlio_lifecycle_print_table(r, out);
        enum s3dlio_rc wrc = write_report(c, &rfile, &local);
        if (!prc)
            prc = wrc;
    }
    prc = s3dlio_coord_agree(comm, prc, &local);
    if (rc)
        local = fail;
    else
        rc = prc;
out:
    s3dlio_atomic_discard(&rfile);
    if (rc && err)
        *err = local;
    s3dlio_observe_release(&c->obs);
    s3dlio_objlist_release(&c->listed);
    s3dlio_uri_release(&c->bucket);
    free(c);
    return rc;
}
