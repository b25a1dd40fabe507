/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stage: the ranks list, rank 0 partitions, and each rank gets its rows of the table (keys,
 * sizes, ETags): a GET's parallel listing is dealt from where it was listed (deal.c), a
 * single listing is scattered by rank 0, and where every rank needs the whole table (--steal,
 * --to h5) it is held once per node in a shared-memory window. Every rank pulls its shard
 * with its own engine (or, with --steal, takes chunks from a shared counter), and the
 * per-rank statistics and failed keys are gathered into one report on rank 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backend/file_tree.h"
#include "coord/coord_int.h"
#include "h5/h5_stage.h"
#include "s3dlio/plan.h"
#include "util/alloc.h"
#include "util/atomic_file.h"
#include "util/log.h"
#include "xfer/datagen.h"


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
    } else if (!strncmp(s, "h5:", 3) && s[3]) {
        *kind = S3DLIO_DEST_H5;
        *path = s + 3;
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
    for (size_t i = 0; i < s->nblocks; i++)
        free(s->blocks[i]);
    free(s->keys);
    free(s->sizes);
    free(s->data);
    free(s->blocks);
    memset(s, 0, sizeof(*s));
}

uint64_t s3dlio_shard_add_block(struct s3dlio_shard *sh, struct s3dlio_xfer_job *jobs, size_t n)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += jobs[i].size;
    unsigned char *block = s3dlio_xmalloc(bytes ? bytes : 1);
    /* one more pointer per block: blocks are few (one per chunk taken) */
    sh->blocks = s3dlio_xrealloc(sh->blocks, (sh->nblocks + 1) * sizeof(*sh->blocks));
    sh->blocks[sh->nblocks++] = block;
    sh->bytes += bytes;
    for (size_t i = 0, at = 0; i < n; i++) {
        jobs[i].local = S3DLIO_LOCAL_MEMORY;
        jobs[i].mem = block + at;
        at += jobs[i].size;
    }
    return bytes;
}

/* ---- rank 0: list and partition ----------------------------------------------------------- */

/* put --recursive: the regular files below the root, keys relative to it; every entry left
 * out is said once, here on rank 0, with why */
static enum s3dlio_rc list_local(const struct s3dlio_stage_opts *o, struct s3dlio_objlist *list,
                                 struct s3dlio_error *err)
{
    struct s3dlio_tree tree;
    enum s3dlio_rc rc = s3dlio_tree_list(o->local_dir, o->follow_symlinks, &tree, err);
    if (rc)
        return rc;
    s3dlio_tree_warn_skipped(&tree, o->local_dir);
    s3dlio_objlist_splice(list, &tree.files);
    s3dlio_tree_release(&tree);
    return S3DLIO_OK;
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

/* Keys ending in '/' are folder markers (consoles, Hadoop): no data, not partitioned. */
static size_t drop_markers(struct s3dlio_objlist *list)
{
    size_t kept = 0, dropped = 0;
    for (size_t i = 0; i < list->n; i++) {
        size_t n = strlen(list->items[i].key);
        if (n && list->items[i].key[n - 1] == '/') {
            dropped++;
            continue;
        }
        list->items[kept++] = list->items[i];
    }
    list->n = kept;
    return dropped;
}

/* --list-dump: the listing as listed, one line per object, for comparing listings */
static enum s3dlio_rc dump_list(const char *path, const struct s3dlio_objlist *list,
                                struct s3dlio_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return s3dlio_error_sys(err, "list-dump", path, errno, "open");
    for (size_t i = 0; i < list->n; i++)
        fprintf(f, "%s\t%" PRIu64 "\t%s\n", list->items[i].key, list->items[i].size,
                s3dlio_object_etag(&list->items[i]));
    if (fclose(f))
        return s3dlio_error_sys(err, "list-dump", path, errno, "write");
    return S3DLIO_OK;
}

/* Collective for GET (the ranks may list in parallel), rank 0's alone otherwise. */
static enum s3dlio_rc list_source(MPI_Comm comm, int rank, const struct s3dlio_config *cfg,
                                  const struct s3dlio_stage_opts *o, struct s3dlio_uri *uri,
                                  struct s3dlio_objlist *list, double *list_s, uint64_t *markers,
                                  struct s3dlio_error *err)
{
    double t0 = MPI_Wtime();
    enum s3dlio_rc rc = S3DLIO_OK;
    if (o->kind == S3DLIO_JOB_GET) {
        rc = s3dlio_coord_list(comm, cfg, uri, !o->list_serial, list, err);
        if (!rc && rank == 0 && o->list_dump)
            rc = dump_list(o->list_dump, list, err);
        if (!rc && rank == 0)
            *markers = drop_markers(list);
    } else if (rank == 0 && o->kind == S3DLIO_JOB_PUT_DIR) {
        rc = list_local(o, list, err);
    } else if (rank == 0) {
        list_generated(o, uri, list);
    }
    *list_s = MPI_Wtime() - t0;
    if (!rc && rank == 0)
        S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_COORD, "listed %zu objects in %.3f s under '%s'",
                   list->n, *list_s, o->uri);
    return rc;
}

/*
 * GET under a static partition, listed in parallel: the listing goes from the ranks that
 * listed it to the ranks that own it (s3dlio_table_deal), never whole on one rank. The
 * single lister, --list-dump (the listing in one file) and whole tables keep it on rank 0.
 */
static bool dealt(const struct s3dlio_stage_opts *o, int nranks, bool whole)
{
    return o->kind == S3DLIO_JOB_GET && !o->list_serial && !o->list_dump && nranks > 1 && !whole;
}

static enum s3dlio_rc list_spread(MPI_Comm comm, int rank, const struct s3dlio_config *cfg,
                                  const struct s3dlio_uri *uri, struct s3dlio_spread *sp,
                                  double *list_s, uint64_t *markers, struct s3dlio_error *err)
{
    double t0 = MPI_Wtime();
    enum s3dlio_rc rc = s3dlio_coord_list_spread(comm, cfg, uri, sp, err);
    MPI_Reduce(&sp->markers, markers, 1, MPI_UINT64_T, MPI_SUM, 0, comm);
    if (rank != 0)
        *markers = 0;
    *list_s = MPI_Wtime() - t0;
    return rc;
}

/* See coord_int.h. */
int *s3dlio_coord_partition_sizes(const uint64_t *sizes, size_t n, enum s3dlio_partition_mode mode,
                                  const uint64_t *shuffle_seed, int nranks)
{
    size_t *order = NULL; /* listing order, unless shuffled: no array */
    if (shuffle_seed) {
        order = s3dlio_xcalloc(n ? n : 1, sizeof(*order));
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        s3dlio_shuffle(order, n, *shuffle_seed);
    }
    int *owner = s3dlio_xcalloc(n ? n : 1, sizeof(*owner));
    s3dlio_partition(mode, sizes, order, n, nranks, owner, NULL);
    free(order);
    return owner;
}

/* See coord_int.h. */
int *s3dlio_coord_partition_list(const struct s3dlio_objlist *list, enum s3dlio_partition_mode mode,
                                 const uint64_t *shuffle_seed, int nranks)
{
    uint64_t *sizes = s3dlio_xcalloc(list->n ? list->n : 1, sizeof(*sizes));
    for (size_t i = 0; i < list->n; i++)
        sizes[i] = list->items[i].size;
    int *owner = s3dlio_coord_partition_sizes(sizes, list->n, mode, shuffle_seed, nranks);
    free(sizes);
    return owner;
}

/* A key another key uses as a directory cannot be a file: found once, over the whole listing. */
static bool *dir_conflicts(const struct s3dlio_objlist *list, const struct s3dlio_stage_opts *o)
{
    if (o->kind != S3DLIO_JOB_GET || o->dest != S3DLIO_DEST_DIR || !list->n)
        return NULL;
    bool *conflict = s3dlio_xcalloc(list->n, sizeof(*conflict));
    s3dlio_plan_dir_conflicts(list, conflict);
    return conflict;
}

/* ---- each rank: jobs for its shard -------------------------------------------------------- */

/* PUT jobs: files under local_dir (table keys are relative paths) or generated objects. */
static void plan_put(const struct s3dlio_objlist *mine, const struct s3dlio_stage_opts *o,
                     const struct s3dlio_uri *uri, struct s3dlio_plan *plan)
{
    if (o->kind == S3DLIO_JOB_PUT_DIR)
        s3dlio_plan_put_files(plan, mine, o->local_dir, uri->key);
    else
        s3dlio_plan_put_generated(plan, mine, o->gen);
}

/*
 * The static partition's jobs, made chunk by chunk while they run (src/xfer/feed.h): a rank
 * keeps its rows of the table, not a job per object (with --steal: the chunks it takes). GET
 * into dir: or null: and PUT; --to mem (its shard is laid out from the jobs) and --to h5 (the
 * file's layout) plan at once.
 */
struct stage_feed {
    struct s3dlio_feed feed;
    const struct s3dlio_table *t; /* scattered: the rank's rows; --steal: every row */
    const struct s3dlio_stage_opts *o;
    const struct s3dlio_uri *uri;
};

static bool feeds(const struct s3dlio_stage_opts *o)
{
    return o->kind != S3DLIO_JOB_GET || o->dest == S3DLIO_DEST_DIR || o->dest == S3DLIO_DEST_NULL;
}

static void plan_rows(void *ud, size_t first, size_t count, struct s3dlio_plan *plan)
{
    struct stage_feed *sf = ud;
    const struct s3dlio_table *t = sf->t;
    const struct s3dlio_stage_opts *o = sf->o;
    struct s3dlio_objlist chunk = {0};
    bool *conflict = s3dlio_xcalloc(count ? count : 1, sizeof(*conflict));
    for (size_t r = 0; r < count; r++) {
        size_t i = first + r;
        conflict[r] = s3dlio_table_conflict(t, i);
        s3dlio_objlist_add(&chunk, t->keys[i], s3dlio_table_size(t, i), -1, s3dlio_table_etag(t, i));
    }
    if (o->kind != S3DLIO_JOB_GET)
        plan_put(&chunk, o, sf->uri, plan);
    else
        s3dlio_plan_get(plan, &chunk, sf->uri->key, o->dest == S3DLIO_DEST_DIR ? o->dest_path : NULL,
                        o->dest == S3DLIO_DEST_NULL ? o->verify_gen : NULL, conflict, NULL);
    s3dlio_objlist_release(&chunk);
    free(conflict);
}

/* A static partition's table is scattered (share_only): every row of it is this rank's. */
static void feed_jobs(const struct s3dlio_table *t, const struct s3dlio_stage_opts *o,
                      const struct s3dlio_uri *uri, struct stage_feed *sf, struct s3dlio_rank_work *w)
{
    *sf = (struct stage_feed){.t = t, .o = o, .uri = uri};
    s3dlio_feed_init(&sf->feed, t->n, 0, plan_rows, sf);
    w->feed = &sf->feed;
}

static enum s3dlio_rc build_jobs(const struct s3dlio_table *t, const struct s3dlio_stage_opts *o,
                                 const struct s3dlio_uri *uri, int rank, struct s3dlio_rank_work *w,
                                 struct stage_feed *sf, bool *capped, struct s3dlio_error *err)
{
    if (feeds(o)) {
        feed_jobs(t, o, uri, sf, w);
        return S3DLIO_OK;
    }
    struct s3dlio_objlist mine = {0};
    bool *conflict = s3dlio_xcalloc(t->n ? t->n : 1, sizeof(*conflict));
    size_t count = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!o->steal && !t->share_only && t->owner[i] != rank)
            continue;
        conflict[mine.n] = s3dlio_table_conflict(t, i);
        s3dlio_objlist_add(&mine, t->keys[i], s3dlio_table_size(t, i), -1, s3dlio_table_etag(t, i));
        count++;
        bytes += s3dlio_table_size(t, i);
    }
    enum s3dlio_rc rc = S3DLIO_OK;
    if (o->kind != S3DLIO_JOB_GET) {
        plan_put(&mine, o, uri, &w->plan);
    } else if (o->dest == S3DLIO_DEST_MEM && o->max_memory && bytes > o->max_memory && !o->steal) {
        *capped = true;
        rc = s3dlio_error_set(err, S3DLIO_E_LIMIT, "stage", o->uri,
                              "shard of %zu objects, %" PRIu64 " bytes, exceeds --max-memory %" PRIu64
                              " bytes", count, bytes, o->max_memory);
    } else {
        s3dlio_plan_get(&w->plan, &mine, uri->key, o->dest == S3DLIO_DEST_DIR ? o->dest_path : NULL,
                        o->dest == S3DLIO_DEST_NULL ? o->verify_gen : NULL, conflict, NULL);
    }
    s3dlio_objlist_release(&mine);
    free(conflict);
    w->taken = s3dlio_xcalloc(w->plan.n ? w->plan.n : 1, sizeof(*w->taken));
    return rc;
}

/* The shard lists what this rank holds: the objects it took that arrived whole. */
static void index_shard(struct s3dlio_rank_work *w)
{
    struct s3dlio_shard *s = w->shard;
    size_t n = 0;
    for (size_t i = 0; i < w->plan.n; i++)
        n += w->taken[i] && !w->plan.jobs[i].rc && w->plan.jobs[i].mem;
    s->keys = s3dlio_xcalloc(n ? n : 1, sizeof(*s->keys));
    s->sizes = s3dlio_xcalloc(n ? n : 1, sizeof(*s->sizes));
    s->data = s3dlio_xcalloc(n ? n : 1, sizeof(*s->data));
    for (size_t i = 0; i < w->plan.n; i++) {
        const struct s3dlio_xfer_job *j = &w->plan.jobs[i];
        if (!w->taken[i] || j->rc || !j->mem)
            continue;
        s->keys[s->n] = s3dlio_xstrdup(j->key);
        s->sizes[s->n] = j->size;
        s->data[s->n++] = j->mem;
    }
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
    } else if (o->dest == S3DLIO_DEST_DIR || o->dest == S3DLIO_DEST_H5)
        snprintf(r->destination, sizeof(r->destination), "%s:%s",
                 o->dest == S3DLIO_DEST_DIR ? "dir" : "h5", o->dest_path);
    else
        snprintf(r->destination, sizeof(r->destination), "%s",
                 o->dest == S3DLIO_DEST_MEM ? "mem" : "null");
    snprintf(r->partition, sizeof(r->partition), "%s",
             o->steal ? "steal" : s3dlio_partition_mode_name(o->partition));
    r->list_s = list_s;
}

static void summarize(const struct s3dlio_report *r, struct s3dlio_stage_summary *s)
{
    *s = (struct s3dlio_stage_summary){
        .wall_s = r->wall_s, .MBps = r->throughput_MBps, .rank_MBps_min = r->rank_MBps_min,
        .rank_MBps_median = r->rank_MBps_median, .rank_MBps_max = r->rank_MBps_max,
        .ttfb_ms_p50 = (double)s3dlio_hist_quantile(&r->ttfb, 0.5) / 1e6,
        .ttfb_ms_p99 = (double)s3dlio_hist_quantile(&r->ttfb, 0.99) / 1e6,
        .total_ms_p50 = (double)s3dlio_hist_quantile(&r->total, 0.5) / 1e6,
        .total_ms_p99 = (double)s3dlio_hist_quantile(&r->total, 0.99) / 1e6,
        .bytes = r->bytes, .requests = r->requests, .retries = r->retries, .cpu_s = r->cpu_s};
}

/* Rank 0 lists and partitions; every rank gets its rows of the table and builds its jobs. Collective. */
static enum s3dlio_rc plan_job(MPI_Comm comm, const struct s3dlio_config *cfg,
                               const struct s3dlio_stage_opts *o, struct s3dlio_uri *uri,
                               struct s3dlio_table *table, struct s3dlio_rank_work *w,
                               struct stage_feed *sf, double *list_s, uint64_t *markers, bool *capped,
                               struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    struct s3dlio_objlist list = {0};
    struct s3dlio_spread spread = {0};
    int *owner = NULL;
    bool *conflict = NULL;
    /* --steal takes chunks of the whole list; the HDF5 file lays out every object */
    bool whole = o->steal || (o->kind == S3DLIO_JOB_GET && o->dest == S3DLIO_DEST_H5);
    bool deal = dealt(o, nranks, whole);
    enum s3dlio_rc rc = s3dlio_uri_parse(uri, o->uri, err);
    s3dlio_observe_phase(w->obs, S3DLIO_PHASE_LIST);
    if (!rc)
        rc = deal ? list_spread(comm, rank, cfg, uri, &spread, list_s, markers, err)
                  : list_source(comm, rank, cfg, o, uri, &list, list_s, markers, err);
    if (!(rc = s3dlio_coord_agree(comm, rc, err))) {
        s3dlio_observe_phase(w->obs, S3DLIO_PHASE_PARTITION);
        if (rank == 0 && !deal) {
            owner = s3dlio_coord_partition_list(&list, o->partition, o->shuffle ? &o->shuffle_seed : NULL,
                                                nranks);
            conflict = dir_conflicts(&list, o);
        }
        const struct s3dlio_deal how = {
            .mode = o->partition, .shuffle_seed = o->shuffle ? &o->shuffle_seed : NULL,
            .dir_conflicts = o->dest == S3DLIO_DEST_DIR};
        rc = deal    ? s3dlio_table_deal(comm, &spread, &how, table, err)
             : whole ? s3dlio_table_bcast_shared(comm, &list, owner, conflict, table, err)
                     : s3dlio_table_scatter(comm, &list, owner, conflict, table, err);
        if (!rc && deal && rank == 0)
            S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_COORD, "listed %zu objects in %.3f s under '%s'",
                       table->listed, *list_s, o->uri);
        if (!rc)
            rc = build_jobs(table, o, uri, rank, w, sf, capped, err);
        /* MEM, static partition: the shard in one block (--steal adds one per chunk taken) */
        if (!rc && o->kind == S3DLIO_JOB_GET && o->dest == S3DLIO_DEST_MEM && !o->steal)
            s3dlio_shard_add_block(w->shard, w->plan.jobs, w->plan.n);
        rc = s3dlio_coord_agree(comm, rc, err);
    }
    s3dlio_objlist_release(&list);
    s3dlio_spread_release(&spread);
    free(owner);
    free(conflict);
    return rc;
}

enum s3dlio_rc s3dlio_coord_stage(MPI_Comm comm, const struct s3dlio_config *cfg,
                                  const struct s3dlio_stage_opts *o, FILE *out,
                                  struct s3dlio_stage_result *res, struct s3dlio_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    memset(res, 0, sizeof(*res));
    struct s3dlio_uri uri = {0};
    struct s3dlio_table table = {0};
    struct s3dlio_observe obs;
    struct s3dlio_rank_work w = {.shard = &res->shard, .obs = &obs};
    struct stage_feed sf = {0};
    struct s3dlio_rank_stats *rs = s3dlio_xcalloc(1, sizeof(*rs));
    struct s3dlio_report report = {0};
    struct s3dlio_error local = {0};
    struct s3dlio_atomic_file rfile = S3DLIO_ATOMIC_FILE_INIT;
    struct s3dlio_h5_spec h5spec;
    struct s3dlio_h5_writer *h5 = NULL;
    double list_s = 0;
    uint64_t markers = 0;
    bool capped = false;
    enum s3dlio_rc rc = s3dlio_coord_agree(comm, s3dlio_coord_check_run_id(o, &local), &local);
    if (!rc) /* --trace: before listing, so a bad PATH costs no listing and list is recorded */
        rc = s3dlio_coord_trace_begin(comm, o, &w.trace, &local);
    if (!rc)
        rc = s3dlio_observe_begin(comm, o, &obs, &local);
    else
        memset(&obs, 0, sizeof(obs));
    obs.trace = &w.trace;
    obs.transfer = o->kind != S3DLIO_JOB_GET    ? S3DLIO_PHASE_UPLOAD
                   : o->dest == S3DLIO_DEST_H5 ? S3DLIO_PHASE_H5_WRITE
                                               : S3DLIO_PHASE_DOWNLOAD;
    if (!rc)
        rc = plan_job(comm, cfg, o, &uri, &table, &w, &sf, &list_s, &markers, &capped, &local);
    if (rc == S3DLIO_E_ABORTED) /* cfg->cancel stopped the listing; agreed, so on every rank */
        res->interrupted = res->listing_cut = true;
    if (rc)
        goto out;
    res->listed = table.listed;
    res->list_s = list_s;
    if (o->list_only)
        goto out;
    s3dlio_coord_make_run_id(comm, o, report.run_id);
    snprintf(w.trace.run_id, sizeof(w.trace.run_id), "%s", report.run_id); /* --trace names it */
    if (rank == 0)
        rc = s3dlio_coord_open_report(o, report.run_id, &rfile, res->report_file, sizeof(res->report_file), &local);
    if ((rc = s3dlio_coord_agree(comm, rc, &local)))
        goto out;
    if (o->kind == S3DLIO_JOB_GET && o->dest == S3DLIO_DEST_H5 &&
        (rc = s3dlio_h5_stage_open(comm, o, &table, report.run_id, &w, &h5spec, &h5, &local)))
        goto out;
    rs->rank = rank;
    gethostname(rs->host, sizeof(rs->host) - 1);
    rs->concurrency = o->kind == S3DLIO_JOB_GET ? o->xfer.get_concurrency : o->xfer.put_concurrency;
    struct s3dlio_error run_err = {0};
    enum s3dlio_rc run_rc = s3dlio_coord_run_shard(comm, cfg, o, &uri, &w, rs, table.total_bytes, &run_err);
    if (o->kind == S3DLIO_JOB_GET && o->dest == S3DLIO_DEST_MEM)
        index_shard(&w);
    rs->peak_rss_kib = s3dlio_peak_rss_kib();
    rs->memory_capped = capped || w.mem_full;
    rc = s3dlio_coord_gather_job(comm, o, &obs, rs, &w, &rfile, res, &report, &local);
    if (rank == 0) {
        fill_identity(&report, o, list_s);
        report.folder_markers = markers;
        report.listed = table.listed;
        s3dlio_report_build(&report);
        summarize(&report, &res->summary);
        if (report.nfailed)
            snprintf(res->first_failure, sizeof(res->first_failure), "%s", report.failed[0].error);
        if (out)
            s3dlio_report_print_table(&report, out);
        if (!rc)
            rc = s3dlio_coord_write_report(&report, &rfile, report.command, &local);
    }
    rc = s3dlio_coord_outcome(comm, rc, run_rc, res, &local, &run_err);
out:
    s3dlio_observe_release(&obs);
    /* every rank arrives here in the same state: the file is published or deleted together */
    rc = s3dlio_h5_writer_finish(comm, h5, rc, &local);
    s3dlio_atomic_discard(&rfile);
    s3dlio_coord_trace_release(&w.trace); /* ended by run_shard unless the job stopped before */
    if (rc && err)
        *err = local;
    free(report.ranks);
    s3dlio_failed_keys_free(report.failed, report.nfailed);
    free(rs);
    free(w.taken);
    s3dlio_plan_release(&w.plan);
    s3dlio_feed_release(&sf.feed);
    s3dlio_table_release(&table);
    s3dlio_uri_release(&uri);
    return rc;
}
