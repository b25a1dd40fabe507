/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stage: rank 0 lists and partitions, one broadcast carries the table, every rank pulls its
 * shard with its own engine (or, with --steal, takes chunks from a shared counter), and the
 * per-rank statistics and failed keys are gathered into one report on rank 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "coord/coord_int.h"
#include "s3dlio/plan.h"
#include "util/alloc.h"
#include "xfer/datagen.h"
#include "util/log.h"
#include "xfer/local.h"

#define MAX_FAILED_PER_RANK 100

enum s3dlio_rc s3dlio_dest_parse(const char *s, enum s3dlio_dest_kind *kind, const char **path)
{
    *path = NULL;
    if (!strcmp(s, "mem"))
        *kind = S3DLIO_DEST_MEM;
    else if (!strcmp(s, "null"))
        *kind = S3DLIO_DEST_NULL;
    else if (!strncmp(s, "dir:", 4) && s[4]) {
        *kind = S3DLIO_DEST_DIR;
        *path = s + 4;
    } else
        return S3DLIO_E_USAGE;
    return S3DLIO_OK;
}

void s3dlio_shard_release(struct s3dlio_shard *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->keys[i]);
    free(s->keys);
    free(s->offsets);
    free(s->sizes);
    free(s->arena);
    memset(s, 0, sizeof(*s));
}

/* ---- rank 0: list and partition ----------------------------------------------------------- */

/* put --recursive: the local tree through the file backend, keys relative to the root */
static enum s3dlio_rc list_local(const char *dir, struct s3dlio_objlist *list,
                                 struct s3dlio_error *err)
{
    struct s3dlio_uri root = {0};
    struct s3dlio_backend *be = NULL;
    struct s3dlio_objlist files = {0};
    char text[1100];
    snprintf(text, sizeof(text), "file://%s/", dir);
    enum s3dlio_rc rc = s3dlio_uri_parse(&root, text, err);
    if (!rc)
        rc = s3dlio_backend_new(&root, NULL, &be, err);
    if (!rc)
        rc = s3dlio_backend_list_all(be, root.key, NULL, 1000, &files, err);
    size_t strip = strlen(root.key ? root.key : "");
    for (size_t i = 0; !rc && i < files.n; i++)
        s3dlio_objlist_add(list, files.items[i].key + strip, files.items[i].size, -1, NULL);
    s3dlio_objlist_release(&files);
    s3dlio_backend_free(be);
    s3dlio_uri_release(&root);
    return rc;
}

/* put --generate: the names and sizes a single process would use, so both agree */
static void list_generated(const struct s3dlio_stage_opts *o, const struct s3dlio_uri *uri,
                           struct s3dlio_objlist *list)
{
    struct s3dlio_plan plan = {0};
    s3dlio_plan_generate(&plan, o->gen, 0, o->gen_count, o->gen_min, o->gen_max, uri->key);
    for (size_t i = 0; i < plan.n; i++)
        s3dlio_objlist_add(list, plan.jobs[i].key, plan.jobs[i].size, -1, NULL);
    s3dlio_plan_release(&plan);
}

static enum s3dlio_rc list_source(const struct s3dlio_config *cfg, const struct s3dlio_stage_opts *o,
                                  struct s3dlio_uri *uri, struct s3dlio_objlist *list,
                                  double *list_s, struct s3dlio_error *err)
{
    struct s3dlio_backend *be = NULL;
    double t0 = MPI_Wtime();
    enum s3dlio_rc rc = S3DLIO_OK;
    if (o->kind == S3DLIO_JOB_PUT_DIR) {
        rc = list_local(o->local_dir, list, err);
    } else if (o->kind == S3DLIO_JOB_PUT_GEN) {
        list_generated(o, uri, list);
    } else {
        rc = s3dlio_backend_new(uri, cfg, &be, err);
        if (!rc)
            rc = s3dlio_backend_list_all(be, uri->key, NULL, 1000, list, err);
        s3dlio_backend_free(be);
    }
    *list_s = MPI_Wtime() - t0;
    if (!rc)
        S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_COORD, "listed %zu objects in %.3f s under '%s'",
                   list->n, *list_s, o->uri);
    return rc;
}

static int *partition_list(const struct s3dlio_objlist *list, const struct s3dlio_stage_opts *o,
                           int nranks)
{
    size_t n = list->n;
    uint64_t *sizes = s3dlio_xcalloc(n ? n : 1, sizeof(*sizes));
    size_t *order = s3dlio_xcalloc(n ? n : 1, sizeof(*order));
    int *owner = s3dlio_xcalloc(n ? n : 1, sizeof(*owner));
    for (size_t i = 0; i < n; i++) {
        sizes[i] = list->items[i].size;
        order[i] = i;
    }
    if (o->shuffle)
        s3dlio_shuffle(order, n, o->shuffle_seed);
    s3dlio_partition(o->partition, sizes, order, n, nranks, owner, NULL);
    free(sizes);
    free(order);
    return owner;
}

/* ---- each rank: jobs for its shard -------------------------------------------------------- */

struct rank_work {
    struct s3dlio_plan plan;       /* jobs and the strings they point to */
    struct s3dlio_shard *shard;
};

/* PUT jobs: files under local_dir (table keys are relative paths) or generated objects. */
static void plan_put(const struct s3dlio_objlist *mine, const struct s3dlio_stage_opts *o,
                     const struct s3dlio_uri *uri, struct s3dlio_plan *plan)
{
    if (o->kind == S3DLIO_JOB_PUT_DIR) {
        /* the planner takes file-backend keys (absolute paths without the leading '/') */
        struct s3dlio_objlist abs = {0};
        const char *root = o->local_dir[0] == '/' ? o->local_dir + 1 : o->local_dir;
        char path[4096];
        for (size_t i = 0; i < mine->n; i++) {
            snprintf(path, sizeof(path), "%s/%s", root, mine->items[i].key);
            s3dlio_objlist_add(&abs, path, mine->items[i].size, -1, NULL);
        }
        s3dlio_plan_put_files(plan, &abs, o->local_dir, uri->key);
        s3dlio_objlist_release(&abs);
        return;
    }
    s3dlio_plan_put_generated(plan, mine, o->gen);
}

static enum s3dlio_rc build_jobs(const struct s3dlio_table *t, const struct s3dlio_stage_opts *o,
                                 const struct s3dlio_uri *uri, int rank, struct rank_work *w,
                                 bool *capped, struct s3dlio_error *err)
{
    struct s3dlio_objlist mine = {0};
    size_t count = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < t->n; i++)
        if (o->steal || t->owner[i] == rank) {
            s3dlio_objlist_add(&mine, t->keys[i], t->sizes[i], -1, NULL);
            count++;
            bytes += t->sizes[i];
        }
    size_t unsafe = 0;
    enum s3dlio_rc rc = S3DLIO_OK;
    if (o->kind != S3DLIO_JOB_GET) {
        plan_put(&mine, o, uri, &w->plan);
        s3dlio_objlist_release(&mine);
        return S3DLIO_OK;
    }
    if (o->kind == S3DLIO_JOB_GET && o->dest == S3DLIO_DEST_MEM && o->max_memory &&
        bytes > o->max_memory && !o->steal) {
        *capped = true;
        rc = s3dlio_error_set(err, S3DLIO_E_LIMIT, "stage", o->uri,
                              "shard of %zu objects, %" PRIu64 " bytes, exceeds --max-memory %" PRIu64
                              " bytes", count, bytes, o->max_memory);
    }
    if (!rc)
        s3dlio_plan_get(&w->plan, &mine, uri->key, o->dest == S3DLIO_DEST_DIR ? o->dest_path : NULL,
                        o->dest == S3DLIO_DEST_NULL ? o->verify_gen : NULL, &unsafe);
    s3dlio_objlist_release(&mine);
    return rc;
}

/* MEM: one arena for the shard, each object at a known offset (checked against the cap). */
static enum s3dlio_rc setup_arena(struct rank_work *w, const struct s3dlio_stage_opts *o,
                                  bool *capped, struct s3dlio_error *err)
{
    struct s3dlio_shard *s = w->shard;
    uint64_t total = 0;
    for (size_t i = 0; i < w->plan.n; i++)
        total += w->plan.jobs[i].size;
    if (o->max_memory && total > o->max_memory) {
        *capped = true;
        return s3dlio_error_set(err, S3DLIO_E_LIMIT, "stage", o->uri,
                                "%" PRIu64 " bytes to hold exceed --max-memory %" PRIu64, total,
                                o->max_memory);
    }
    s->arena = s3dlio_xmalloc(total ? total : 1);
    s->arena_bytes = total;
    s->n = w->plan.n;
    s->keys = s3dlio_xcalloc(s->n ? s->n : 1, sizeof(*s->keys));
    s->offsets = s3dlio_xcalloc(s->n ? s->n : 1, sizeof(*s->offsets));
    s->sizes = s3dlio_xcalloc(s->n ? s->n : 1, sizeof(*s->sizes));
    uint64_t at = 0;
    for (size_t i = 0; i < w->plan.n; i++) {
        struct s3dlio_xfer_job *j = &w->plan.jobs[i];
        j->local = S3DLIO_LOCAL_MEMORY;
        j->mem = s->arena + at;
        s->keys[i] = s3dlio_xstrdup(j->key);
        s->offsets[i] = at;
        s->sizes[i] = j->size;
        at += j->size;
    }
    return S3DLIO_OK;
}

/* ---- running ------------------------------------------------------------------------------ */

struct tick_ctx {
    struct s3dlio_progress *progress;
    uint64_t base; /* bytes of earlier chunks (steal) */
};

static void on_tick(void *ud, const struct s3dlio_xfer_stats *st)
{
    struct tick_ctx *t = ud;
    s3dlio_progress_update(t->progress, t->base + st->bytes);
}

static void add_stats(struct s3dlio_rank_stats *rs, const struct s3dlio_xfer_stats *st)
{
    rs->objects += st->objects;
    rs->failures += st->failures;
    rs->bytes += st->bytes;
    rs->requests += st->requests;
    rs->retries += st->retries;
    rs->throttled += st->throttled;
    rs->server_errors += st->server_errors;
    if (st->max_inflight > rs->max_inflight)
        rs->max_inflight = st->max_inflight;
}

static enum s3dlio_rc run_static(struct s3dlio_backend *be, struct rank_work *w,
                                 struct s3dlio_xfer_opts *xo, struct s3dlio_rank_stats *rs)
{
    struct s3dlio_xfer_stats st;
    enum s3dlio_rc rc = s3dlio_xfer_run(be, w->plan.jobs, w->plan.n, xo, &st);
    add_stats(rs, &st);
    return rc;
}

/*
 * --steal: every rank holds the whole job list; chunks of it are taken in order from a
 * counter in rank 0's window with MPI_Fetch_and_op, so a rank that finishes early simply
 * takes more. Ranks never wait for each other.
 */
static enum s3dlio_rc run_steal(MPI_Comm comm, struct s3dlio_backend *be, struct rank_work *w,
                                struct s3dlio_xfer_opts *xo, struct s3dlio_rank_stats *rs,
                                uint64_t chunk, struct tick_ctx *tick)
{
    int rank, nranks;
    uint64_t *counter = NULL, one = 1, next = 0;
    MPI_Win win;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    MPI_Win_allocate(rank == 0 ? (MPI_Aint)sizeof(uint64_t) : 0, sizeof(uint64_t), MPI_INFO_NULL,
                     comm, &counter, &win);
    if (rank == 0)
        *counter = 0;
    MPI_Barrier(comm);
    if (!chunk)
        chunk = w->plan.n / ((uint64_t)nranks * 8) + 1;
    enum s3dlio_rc rc = S3DLIO_OK, r;
    for (;;) {
        MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win);
        MPI_Fetch_and_op(&one, &next, MPI_UINT64_T, 0, 0, MPI_SUM, win);
        MPI_Win_unlock(0, win);
        uint64_t first = next * chunk;
        if (first >= w->plan.n)
            break;
        uint64_t n = w->plan.n - first < chunk ? w->plan.n - first : chunk;
        struct s3dlio_xfer_stats st;
        r = s3dlio_xfer_run(be, w->plan.jobs + first, (size_t)n, xo, &st);
        if (r && !rc)
            rc = r;
        add_stats(rs, &st);
        tick->base += st.bytes;
    }
    /* jobs this rank never took keep rc 0, so collecting failures skips them */
    MPI_Barrier(comm);
    MPI_Win_free(&win);
    return rc;
}

/* ---- gathering ---------------------------------------------------------------------------- */

static void collect_failed(const struct rank_work *w, int rank, struct s3dlio_failed_key *out,
                           int *n)
{
    *n = 0;
    for (size_t i = 0; i < w->plan.n && *n < MAX_FAILED_PER_RANK; i++) {
        const struct s3dlio_xfer_job *j = &w->plan.jobs[i];
        if (!j->rc)
            continue;
        struct s3dlio_failed_key *f = &out[(*n)++];
        snprintf(f->key, sizeof(f->key), "%s", j->key);
        s3dlio_error_format(&j->err, f->error, sizeof(f->error));
        f->rank = rank;
    }
}

static void gather_report(MPI_Comm comm, const struct s3dlio_rank_stats *mine,
                          const struct rank_work *w, struct s3dlio_report *r)
{
    int rank, nranks, nf = 0;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    struct s3dlio_failed_key *myf = s3dlio_xcalloc(MAX_FAILED_PER_RANK, sizeof(*myf));
    collect_failed(w, rank, myf, &nf);
    int *counts = NULL, *displs = NULL, bytes = nf * (int)sizeof(*myf);
    if (rank == 0) {
        r->ranks = s3dlio_xcalloc((size_t)nranks, sizeof(*r->ranks));
        counts = s3dlio_xcalloc((size_t)nranks, sizeof(int));
        displs = s3dlio_xcalloc((size_t)nranks, sizeof(int));
    }
    MPI_Gather(mine, (int)sizeof(*mine), MPI_BYTE, r->ranks, (int)sizeof(*mine), MPI_BYTE, 0, comm);
    MPI_Gather(&bytes, 1, MPI_INT, counts, 1, MPI_INT, 0, comm);
    int total = 0;
    for (int i = 0; rank == 0 && i < nranks; i++) {
        displs[i] = total;
        total += counts[i];
    }
    if (rank == 0)
        r->failed = s3dlio_xcalloc((size_t)total / sizeof(*myf) + 1, sizeof(*myf));
    MPI_Gatherv(myf, bytes, MPI_BYTE, r->failed, counts, displs, MPI_BYTE, 0, comm);
    r->nfailed = rank == 0 ? (size_t)total / sizeof(*myf) : 0;
    r->nranks = nranks;
    free(myf);
    free(counts);
    free(displs);
}

/* ---- the report file ---------------------------------------------------------------------- */

static enum s3dlio_rc write_report(const struct s3dlio_report *r, const struct s3dlio_stage_opts *o,
                                   char *path, size_t pathlen, struct s3dlio_error *err)
{
    if (o->report_path) {
        snprintf(path, pathlen, "%s", o->report_path);
    } else {
        char dir[512];
        snprintf(dir, sizeof(dir), "profiles/%s", r->run_id);
        snprintf(path, pathlen, "%s/report.json", dir);
        s3dlio_local_make_parents(path);
    }
    FILE *f = fopen(path, "w");
    if (!f)
        return s3dlio_error_set(err, S3DLIO_E_IO, "stage", path, "cannot write the report: %s",
                                strerror(errno));
    enum s3dlio_rc rc = s3dlio_report_write_json(r, f);
    if (fclose(f) && !rc)
        rc = s3dlio_error_set(err, S3DLIO_E_IO, "stage", path, "writing the report failed");
    return rc;
}

static void make_run_id(MPI_Comm comm, const struct s3dlio_stage_opts *o, char out[64])
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (o->run_id) {
        snprintf(out, 64, "%s", o->run_id);
    } else if (rank == 0) {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, 64, "stage-%Y%m%dT%H%M%SZ", &tm);
        size_t n = strlen(out);
        snprintf(out + n, 64 - n, "-%ld", (long)getpid());
    }
    MPI_Bcast(out, 64, MPI_CHAR, 0, comm);
}

/* ---- the collective ----------------------------------------------------------------------- */

static void fill_identity(struct s3dlio_report *r, const struct s3dlio_stage_opts *o, double list_s)
{
    snprintf(r->command, sizeof(r->command), "%s", o->command ? o->command : "stage");
    snprintf(r->source, sizeof(r->source), "%s", o->uri);
    if (o->kind != S3DLIO_JOB_GET) {
        /* uploads: the local side is the source, the URI the destination */
        snprintf(r->destination, sizeof(r->destination), "%s", o->uri);
        if (o->kind == S3DLIO_JOB_PUT_DIR)
            snprintf(r->source, sizeof(r->source), "dir:%s", o->local_dir);
        else
            snprintf(r->source, sizeof(r->source), "generator:seed=%" PRIu64, o->gen->seed);
    } else if (o->dest == S3DLIO_DEST_DIR)
        snprintf(r->destination, sizeof(r->destination), "dir:%s", o->dest_path);
    else
        snprintf(r->destination, sizeof(r->destination), "%s",
                 o->dest == S3DLIO_DEST_MEM ? "mem" : "null");
    snprintf(r->partition, sizeof(r->partition), "%s",
             o->steal ? "steal" : s3dlio_partition_mode_name(o->partition));
    r->list_s = list_s;
}

static enum s3dlio_rc run_shard(MPI_Comm comm, const struct s3dlio_config *cfg,
                                const struct s3dlio_stage_opts *o, const struct s3dlio_uri *uri,
                                struct rank_work *w, struct s3dlio_rank_stats *rs,
                                const struct s3dlio_table *t)
{
    struct s3dlio_backend *be = NULL;
    struct s3dlio_error err = {0};
    struct s3dlio_progress prog;
    struct tick_ctx tick = {.progress = &prog};
    struct s3dlio_xfer_opts xo = o->xfer;
    int mode = o->progress;
    MPI_Bcast(&mode, 1, MPI_INT, 0, comm); /* rank 0's terminal decides, for all */
    enum s3dlio_rc rc = s3dlio_backend_new(uri, cfg, &be, &err);
    rc = s3dlio_coord_agree(comm, rc, &err);
    if (rc)
        return rc;
    xo.tick = on_tick;
    xo.tick_ud = &tick;
    xo.ttfb_hist = &rs->ttfb;
    xo.total_hist = &rs->total;
    s3dlio_progress_init(&prog, comm, t->total_bytes, mode);
    double c_user0, c_sys0, c_user1, c_sys1;
    s3dlio_cpu_times(&c_user0, &c_sys0);
    MPI_Barrier(comm);
    double t0 = MPI_Wtime();
    rc = o->steal ? run_steal(comm, be, w, &xo, rs, o->steal_chunk, &tick) : run_static(be, w, &xo, rs);
    double t1 = MPI_Wtime();
    s3dlio_cpu_times(&c_user1, &c_sys1);
    s3dlio_progress_update(&prog, tick.base + (o->steal ? 0 : rs->bytes));
    s3dlio_progress_finish(&prog);
    rs->t_start_ns = (uint64_t)(t0 * 1e9);
    rs->t_end_ns = (uint64_t)(t1 * 1e9);
    rs->wall_s = t1 - t0;
    rs->cpu_user_s = c_user1 - c_user0;
    rs->cpu_sys_s = c_sys1 - c_sys0;
    s3dlio_backend_free(be);
    return rc;
}

enum s3dlio_rc s3dlio_coord_stage(MPI_Comm comm, const struct s3dlio_config *cfg,
                                  const struct s3dlio_stage_opts *o, FILE *out,
                                  struct s3dlio_stage_result *res, struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    memset(res, 0, sizeof(*res));
    struct s3dlio_uri uri = {0};
    struct s3dlio_objlist list = {0};
    struct s3dlio_table table = {0};
    struct rank_work w = {.shard = &res->shard};
    struct s3dlio_rank_stats *rs = s3dlio_xcalloc(1, sizeof(*rs));
    struct s3dlio_report report = {0};
    struct s3dlio_error local = {0};
    double list_s = 0;
    int *owner = NULL;
    bool capped = false;
    enum s3dlio_rc rc = s3dlio_uri_parse(&uri, o->uri, &local);
    if (!rc && rank == 0)
        rc = list_source(cfg, o, &uri, &list, &list_s, &local);
    if ((rc = s3dlio_coord_agree(comm, rc, &local)))
        goto out;
    if (rank == 0)
        owner = partition_list(&list, o, nranks);
    rc = s3dlio_table_bcast(comm, &list, owner, &table, &local);
    s3dlio_objlist_release(&list);
    if (!rc)
        rc = build_jobs(&table, o, &uri, rank, &w, &capped, &local);
    if (!rc && o->kind == S3DLIO_JOB_GET && o->dest == S3DLIO_DEST_MEM)
        rc = setup_arena(&w, o, &capped, &local);
    if ((rc = s3dlio_coord_agree(comm, rc, &local)))
        goto out;
    rs->rank = rank;
    gethostname(rs->host, sizeof(rs->host) - 1);
    rs->concurrency = o->kind == S3DLIO_JOB_GET ? o->xfer.get_concurrency : o->xfer.put_concurrency;
    enum s3dlio_rc run_rc = run_shard(comm, cfg, o, &uri, &w, rs, &table);
    rs->peak_rss_kib = s3dlio_peak_rss_kib();
    rs->memory_capped = capped;
    make_run_id(comm, o, report.run_id);
    gather_report(comm, rs, &w, &report);
    uint64_t counts[2] = {rs->objects, rs->failures}, all[2] = {0, 0};
    MPI_Allreduce(counts, all, 2, MPI_UINT64_T, MPI_SUM, comm);
    res->objects = all[0];
    res->failures = all[1];
    if (rank == 0) {
        fill_identity(&report, o, list_s);
        s3dlio_report_build(&report);
        if (out)
            s3dlio_report_print_table(&report, out);
        rc = write_report(&report, o, res->report_file, sizeof(res->report_file), &local);
    }
    rc = s3dlio_coord_agree(comm, rc, &local);
    /* a loop failure without failed objects (the event loop itself broke) is agreed too;
     * every rank calls the agreement, whatever its own outcome */
    enum s3dlio_rc loop_rc = s3dlio_coord_agree(comm, !rc && !all[1] ? run_rc : S3DLIO_OK, &local);
    if (!rc && all[1])
        rc = run_rc ? run_rc : S3DLIO_E_S3;
    if (!rc)
        rc = loop_rc;
out:
    if (rc && err)
        *err = local;
    free(report.ranks);
    free(report.failed);
    free(owner);
    free(rs);
    s3dlio_plan_release(&w.plan);
    s3dlio_table_release(&table);
    s3dlio_uri_release(&uri);
    return rc;
}
