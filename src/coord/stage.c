/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stage: rank 0 lists and partitions, one broadcast carries the table (keys, sizes, ETags,
 * owners), every rank pulls its shard with its own engine (or, with --steal, takes chunks
 * from a shared counter), and the per-rank statistics and failed keys are gathered into one
 * report on rank 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "backend/file_tree.h"
#include "coord/coord_int.h"
#include "s3dlio/plan.h"
#include "util/alloc.h"
#include "util/atomic_file.h"
#include "util/log.h"
#include "util/printable.h"
#include "util/retry.h"
#include "xfer/datagen.h"

#define MAX_FAILED_PER_RANK 100

/*
 * Room for any one-line error: every string field of struct s3dlio_error once, plus the
 * words, numbers and result-code name (under 40 bytes) s3dlio_error_format puts around them.
 * Sized from the struct, so a field that grows grows this too.
 */
#define ERR_FIELD(f) sizeof(((struct s3dlio_error *)0)->f)
#define ERROR_TEXT_MAX                                                                             \
    (ERR_FIELD(op) + ERR_FIELD(target) + ERR_FIELD(s3_code) + ERR_FIELD(request_id) +              \
     ERR_FIELD(message) + 128)
#define RUN_ID_MAX sizeof(((struct s3dlio_report *)0)->run_id)

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
            free(list->items[i].key);
            dropped++;
            continue;
        }
        list->items[kept++] = list->items[i];
    }
    list->n = kept;
    return dropped;
}

static enum s3dlio_rc list_source(const struct s3dlio_config *cfg, const struct s3dlio_stage_opts *o,
                                  struct s3dlio_uri *uri, struct s3dlio_objlist *list,
                                  double *list_s, uint64_t *markers, struct s3dlio_error *err)
{
    struct s3dlio_backend *be = NULL;
    double t0 = MPI_Wtime();
    enum s3dlio_rc rc = S3DLIO_OK;
    if (o->kind == S3DLIO_JOB_PUT_DIR) {
        rc = list_local(o, list, err);
    } else if (o->kind == S3DLIO_JOB_PUT_GEN) {
        list_generated(o, uri, list);
    } else {
        rc = s3dlio_backend_new(uri, cfg, &be, err);
        if (!rc)
            rc = s3dlio_backend_list_all(be, uri->key, NULL, 1000, list, err);
        s3dlio_backend_free(be);
        if (!rc)
            *markers = drop_markers(list);
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

struct rank_work {
    struct s3dlio_plan plan;       /* jobs and the strings they point to */
    struct s3dlio_shard *shard;
    bool *taken;                   /* plan.n flags: jobs this rank ran */
    bool mem_full;                 /* --steal: this rank reached --max-memory */
};

/* PUT jobs: files under local_dir (table keys are relative paths) or generated objects. */
static void plan_put(const struct s3dlio_objlist *mine, const struct s3dlio_stage_opts *o,
                     const struct s3dlio_uri *uri, struct s3dlio_plan *plan)
{
    if (o->kind == S3DLIO_JOB_PUT_DIR)
        s3dlio_plan_put_files(plan, mine, o->local_dir, uri->key);
    else
        s3dlio_plan_put_generated(plan, mine, o->gen);
}

static enum s3dlio_rc build_jobs(const struct s3dlio_table *t, const struct s3dlio_stage_opts *o,
                                 const struct s3dlio_uri *uri, int rank, struct rank_work *w,
                                 bool *capped, struct s3dlio_error *err)
{
    struct s3dlio_objlist mine = {0};
    bool *conflict = s3dlio_xcalloc(t->n ? t->n : 1, sizeof(*conflict));
    size_t count = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!o->steal && t->owner[i] != rank)
            continue;
        conflict[mine.n] = t->dir_conflict[i];
        s3dlio_objlist_add(&mine, t->keys[i], t->sizes[i], -1, t->etags[i]);
        count++;
        bytes += t->sizes[i];
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
static void index_shard(struct rank_work *w)
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

/* ---- running ------------------------------------------------------------------------------ */

static void on_tick(void *ud, const struct s3dlio_xfer_stats *st)
{
    s3dlio_progress_update(ud, st->bytes);
}

static void add_stats(struct s3dlio_rank_stats *rs, const struct s3dlio_xfer_stats *st)
{
    rs->objects = st->objects;
    rs->failures = st->failures;
    rs->bytes = st->bytes;
    rs->requests = st->requests;
    rs->retries = st->retries;
    rs->throttled = st->throttled;
    rs->server_errors = st->server_errors;
    rs->max_inflight = st->max_inflight;
    rs->changed = st->changed;
    rs->restarted = st->restarted;
    rs->verified = st->verified;
    rs->not_verifiable = st->not_verifiable;
    rs->aborted_uploads = st->aborted_uploads;
    rs->backoff_ms = st->backoff_ms;
    rs->limit_min = st->limit_min;
    rs->limit_decreases = st->limit_decreases;
    rs->nlimit_samples = st->nlimit_samples;
    memcpy(rs->limit_samples, st->limit_samples, sizeof(rs->limit_samples));
    rs->interrupted = st->interrupted;
}

static enum s3dlio_rc run_jobs(MPI_Comm comm, struct s3dlio_backend *be, struct rank_work *w,
                               const struct s3dlio_stage_opts *o, struct s3dlio_xfer_opts *xo,
                               struct s3dlio_xfer_stats *st, struct s3dlio_error *err)
{
    if (!o->steal) {
        for (size_t i = 0; i < w->plan.n; i++)
            w->taken[i] = true;
        return s3dlio_xfer_run(be, w->plan.jobs, w->plan.n, xo, st);
    }
    struct s3dlio_steal_work sw = {
        .jobs = w->plan.jobs, .n = w->plan.n, .taken = w->taken, .chunk = o->steal_chunk,
        .mem = o->kind == S3DLIO_JOB_GET && o->dest == S3DLIO_DEST_MEM,
        .max_memory = o->max_memory, .shard = w->shard, .uri = o->uri,
    };
    enum s3dlio_rc rc = s3dlio_coord_steal(comm, be, &sw, xo, st, err);
    w->mem_full = sw.memory_full;
    return rc;
}

static enum s3dlio_rc run_shard(MPI_Comm comm, const struct s3dlio_config *cfg,
                                const struct s3dlio_stage_opts *o, const struct s3dlio_uri *uri,
                                struct rank_work *w, struct s3dlio_rank_stats *rs,
                                const struct s3dlio_table *t, struct s3dlio_error *err)
{
    struct s3dlio_backend *be = NULL;
    struct s3dlio_progress prog;
    struct s3dlio_xfer_opts xo = o->xfer;
    struct s3dlio_xfer_stats st;
    int rank, mode = o->progress;
    MPI_Comm_rank(comm, &rank);
    MPI_Bcast(&mode, 1, MPI_INT, 0, comm); /* rank 0's terminal decides, for all */
    enum s3dlio_rc rc = s3dlio_backend_new(uri, cfg, &be, err);
    rc = s3dlio_coord_agree(comm, rc, err);
    if (rc)
        return rc;
    xo.tick = on_tick;
    xo.tick_ud = &prog;
    xo.ttfb_hist = &rs->ttfb;
    xo.total_hist = &rs->total;
    if (!xo.jitter_seed) /* every rank its own backoff: throttled ranks must not retry together */
        xo.jitter_seed = s3dlio_retry_seed((uint64_t)rank, (uint64_t)getpid(),
                                           (uint64_t)(MPI_Wtime() * 1e9));
    s3dlio_progress_init(&prog, comm, t->total_bytes, mode);
    double c_user0, c_sys0, c_user1, c_sys1;
    s3dlio_cpu_times(&c_user0, &c_sys0);
    /* all ranks start together, so the slowest rank's own elapsed time is the job's wall time
     * and no rank's clock has to be compared with another's (they differ across nodes) */
    MPI_Barrier(comm);
    double t0 = MPI_Wtime();
    rc = run_jobs(comm, be, w, o, &xo, &st, err);
    double t1 = MPI_Wtime();
    s3dlio_cpu_times(&c_user1, &c_sys1);
    add_stats(rs, &st);
    s3dlio_progress_update(&prog, st.bytes);
    s3dlio_progress_finish(&prog);
    rs->wall_s = t1 - t0;
    rs->cpu_user_s = c_user1 - c_user0;
    rs->cpu_sys_s = c_sys1 - c_sys0;
    s3dlio_backend_free(be);
    return rc;
}

/* ---- gathering ---------------------------------------------------------------------------- */

/*
 * This rank's failed objects as "key\0error\0" pairs, whole however long: at most
 * MAX_FAILED_PER_RANK pairs and budget bytes (whole pairs only), so rank 0's int
 * displacements cannot overflow. Returns the heap buffer (NULL when empty) and its length.
 */
static char *pack_failed(const struct rank_work *w, size_t budget, int *len)
{
    char *buf = NULL, error[ERROR_TEXT_MAX];
    size_t used = 0, count = 0;
    for (size_t i = 0; i < w->plan.n && count < MAX_FAILED_PER_RANK; i++) {
        const struct s3dlio_xfer_job *j = &w->plan.jobs[i];
        if (!j->rc)
            continue;
        s3dlio_error_format(&j->err, error, sizeof(error));
        size_t klen = strlen(j->key) + 1, elen = strlen(error) + 1;
        if (used + klen + elen > budget)
            break;
        buf = s3dlio_xrealloc(buf, used + klen + elen);
        memcpy(buf + used, j->key, klen);
        memcpy(buf + used + klen, error, elen);
        used += klen + elen;
        count++;
    }
    *len = (int)used;
    return buf;
}

/*
 * Rank 0: all[0..total) holds each rank's "key\0error\0" pairs (pack_failed), rank i's at
 * displs[i] for lens[i] bytes; they become r->failed entries of rank i.
 */
static void unpack_failed(const char *all, size_t total, const int *lens, const int *displs,
                          int nranks, struct s3dlio_report *r)
{
    size_t nuls = 0;
    for (size_t i = 0; i < total; i++)
        nuls += all[i] == '\0';
    r->failed = s3dlio_xcalloc(nuls / 2 + 1, sizeof(*r->failed));
    r->nfailed = 0;
    for (int rank = 0; rank < nranks; rank++) {
        for (const char *p = all + displs[rank], *end = p + lens[rank]; p < end;) {
            struct s3dlio_failed_key *f = &r->failed[r->nfailed++];
            f->rank = rank;
            f->key = s3dlio_xstrdup(p);
            p += strlen(p) + 1;
            f->error = s3dlio_xstrdup(p);
            p += strlen(p) + 1;
        }
    }
}

/* Every rank's failed keys to rank 0, in rank order. Collective. */
static void gather_failed(MPI_Comm comm, const struct rank_work *w, struct s3dlio_report *r)
{
    int rank, nranks, len = 0;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    char *mine = pack_failed(w, (size_t)INT_MAX / (size_t)nranks, &len), *all = NULL;
    int *lens = NULL, *displs = NULL;
    if (rank == 0) {
        lens = s3dlio_xcalloc((size_t)nranks, sizeof(*lens));
        displs = s3dlio_xcalloc((size_t)nranks, sizeof(*displs));
    }
    MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, comm);
    size_t total = 0;
    for (int i = 0; rank == 0 && i < nranks; i++) {
        displs[i] = (int)total;
        total += (size_t)lens[i];
    }
    if (rank == 0)
        all = s3dlio_xmalloc(total ? total : 1);
    MPI_Gatherv(mine, len, MPI_BYTE, all, lens, displs, MPI_BYTE, 0, comm);
    if (rank == 0)
        unpack_failed(all, total, lens, displs, nranks, r);
    free(mine);
    free(all);
    free(lens);
    free(displs);
}

static void gather_report(MPI_Comm comm, const struct s3dlio_rank_stats *mine,
                          const struct rank_work *w, struct s3dlio_report *r)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    if (rank == 0)
        r->ranks = s3dlio_xcalloc((size_t)nranks, sizeof(*r->ranks));
    MPI_Gather(mine, (int)sizeof(*mine), MPI_BYTE, r->ranks, (int)sizeof(*mine), MPI_BYTE, 0, comm);
    gather_failed(comm, w, r);
    r->nranks = nranks;
}

/* ---- the report file ---------------------------------------------------------------------- */

/*
 * Rank 0 opens the report before any transfer, as a temporary file beside its final name:
 * an unwritable destination fails the job before it moves a byte, and a job that dies
 * leaves no half-written report.
 */
static enum s3dlio_rc open_report(const struct s3dlio_stage_opts *o, const char *run_id,
                                  struct s3dlio_atomic_file *f, char *path, size_t pathlen,
                                  struct s3dlio_error *err)
{
    if (o->report_path)
        snprintf(path, pathlen, "%s", o->report_path);
    else
        snprintf(path, pathlen, "profiles/%s/report.json", run_id);
    const char *slash = strrchr(path, '/');
    enum s3dlio_rc rc = s3dlio_atomic_open_or_device(f, path, slash ? (size_t)(slash - path) + 1 : 0,
                                                     o->command ? o->command : "stage", err);
    if (rc && err)
        snprintf(err->message + strlen(err->message),
                 sizeof(err->message) - strlen(err->message), " (the report; see --report)");
    return rc;
}

static enum s3dlio_rc write_report(const struct s3dlio_report *r, struct s3dlio_atomic_file *f,
                                   const char *op, struct s3dlio_error *err)
{
    int fd = dup(f->fd);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    enum s3dlio_rc rc = fp ? s3dlio_report_write_json(r, fp) : S3DLIO_E_IO;
    if (fp && fclose(fp) && !rc)
        rc = S3DLIO_E_IO;
    else if (!fp && fd >= 0)
        close(fd);
    if (rc) {
        s3dlio_error_set(err, rc, op, f->path, "writing the report failed: %s", strerror(errno));
        s3dlio_atomic_discard(f);
        return rc;
    }
    return s3dlio_atomic_commit(f, false, op, err);
}

/*
 * A run id names a directory under profiles/: a path in it ("../x", "a/b", ".", "..") would
 * put the report elsewhere, a control character would garble the table and the logs, and a
 * long one would be cut. The library checks it itself rather than trust its callers.
 */
static enum s3dlio_rc check_run_id(const struct s3dlio_stage_opts *o, struct s3dlio_error *err)
{
    const char *id = o->run_id, *why = NULL;
    char too_long[48];
    if (!id)
        return S3DLIO_OK;
    snprintf(too_long, sizeof(too_long), "it is longer than %zu bytes", RUN_ID_MAX - 1);
    if (!id[0])
        why = "it is empty";
    else if (strchr(id, '/'))
        why = "it contains '/'";
    else if (!strcmp(id, ".") || !strcmp(id, ".."))
        why = "'.' and '..' are directories";
    else if (strlen(id) >= RUN_ID_MAX)
        why = too_long;
    for (const char *p = id; !why && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            why = "it contains a control character";
    if (!why)
        return S3DLIO_OK;
    char shown[256];
    return s3dlio_error_set(err, S3DLIO_E_USAGE, o->command ? o->command : "stage", o->uri,
                            "--run-id '%s' is not a name for profiles/<run-id>/: %s",
                            s3dlio_printable(id, shown, sizeof(shown), true), why);
}

static void make_run_id(MPI_Comm comm, const struct s3dlio_stage_opts *o, char out[RUN_ID_MAX])
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (o->run_id) {
        snprintf(out, RUN_ID_MAX, "%s", o->run_id);
    } else if (rank == 0) {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, RUN_ID_MAX, "stage-%Y%m%dT%H%M%SZ", &tm);
        size_t n = strlen(out);
        snprintf(out + n, RUN_ID_MAX - n, "-%ld", (long)getpid());
    }
    MPI_Bcast(out, (int)RUN_ID_MAX, MPI_CHAR, 0, comm);
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

/* Rank 0 lists and partitions; every rank gets the table and builds its jobs. Collective. */
static enum s3dlio_rc plan_job(MPI_Comm comm, const struct s3dlio_config *cfg,
                               const struct s3dlio_stage_opts *o, struct s3dlio_uri *uri,
                               struct s3dlio_table *table, struct rank_work *w, double *list_s,
                               uint64_t *markers, bool *capped, struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    struct s3dlio_objlist list = {0};
    int *owner = NULL;
    bool *conflict = NULL;
    enum s3dlio_rc rc = s3dlio_uri_parse(uri, o->uri, err);
    if (!rc && rank == 0)
        rc = list_source(cfg, o, uri, &list, list_s, markers, err);
    if (!(rc = s3dlio_coord_agree(comm, rc, err))) {
        if (rank == 0) {
            owner = partition_list(&list, o, nranks);
            conflict = dir_conflicts(&list, o);
        }
        rc = s3dlio_table_bcast(comm, &list, owner, conflict, table, err);
        if (!rc)
            rc = build_jobs(table, o, uri, rank, w, capped, err);
        /* MEM, static partition: the shard in one block (--steal adds one per chunk taken) */
        if (!rc && o->kind == S3DLIO_JOB_GET && o->dest == S3DLIO_DEST_MEM && !o->steal)
            s3dlio_shard_add_block(w->shard, w->plan.jobs, w->plan.n);
        rc = s3dlio_coord_agree(comm, rc, err);
    }
    s3dlio_objlist_release(&list);
    free(owner);
    free(conflict);
    return rc;
}

/* Counts every rank needs (the caller's result), summed. */
static void sum_outcome(MPI_Comm comm, const struct s3dlio_rank_stats *rs,
                        struct s3dlio_stage_result *res)
{
    uint64_t mine[3] = {rs->objects, rs->failures, rs->interrupted}, all[3] = {0, 0, 0};
    MPI_Allreduce(mine, all, 3, MPI_UINT64_T, MPI_SUM, comm);
    res->objects = all[0];
    res->failures = all[1];
    res->interrupted = all[2] > 0;
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
    struct rank_work w = {.shard = &res->shard};
    struct s3dlio_rank_stats *rs = s3dlio_xcalloc(1, sizeof(*rs));
    struct s3dlio_report report = {0};
    struct s3dlio_error local = {0};
    struct s3dlio_atomic_file rfile = S3DLIO_ATOMIC_FILE_INIT;
    double list_s = 0;
    uint64_t markers = 0;
    bool capped = false;
    enum s3dlio_rc rc = s3dlio_coord_agree(comm, check_run_id(o, &local), &local);
    if (!rc)
        rc = plan_job(comm, cfg, o, &uri, &table, &w, &list_s, &markers, &capped, &local);
    if (rc)
        goto out;
    res->listed = table.n;
    make_run_id(comm, o, report.run_id);
    if (rank == 0)
        rc = open_report(o, report.run_id, &rfile, res->report_file, sizeof(res->report_file), &local);
    if ((rc = s3dlio_coord_agree(comm, rc, &local)))
        goto out;
    rs->rank = rank;
    gethostname(rs->host, sizeof(rs->host) - 1);
    rs->concurrency = o->kind == S3DLIO_JOB_GET ? o->xfer.get_concurrency : o->xfer.put_concurrency;
    struct s3dlio_error run_err = {0};
    enum s3dlio_rc run_rc = run_shard(comm, cfg, o, &uri, &w, rs, &table, &run_err);
    if (o->kind == S3DLIO_JOB_GET && o->dest == S3DLIO_DEST_MEM)
        index_shard(&w);
    rs->peak_rss_kib = s3dlio_peak_rss_kib();
    rs->memory_capped = capped || w.mem_full;
    gather_report(comm, rs, &w, &report);
    sum_outcome(comm, rs, res);
    if (rank == 0) {
        fill_identity(&report, o, list_s);
        report.folder_markers = markers;
        report.listed = table.n;
        s3dlio_report_build(&report);
        if (out)
            s3dlio_report_print_table(&report, out);
        rc = write_report(&report, &rfile, report.command, &local);
    }
    rc = s3dlio_coord_agree(comm, rc, &local);
    if (res->interrupted) {
        rc = rc ? rc : S3DLIO_E_ABORTED;
        goto out;
    }
    /* a loop failure without failed objects (the event loop itself broke, or --steal left
     * chunks nobody had room for) is agreed too; every rank calls the agreement */
    enum s3dlio_rc loop_rc =
        s3dlio_coord_agree(comm, !rc && !res->failures ? run_rc : S3DLIO_OK, &run_err);
    if (!rc && res->failures)
        rc = run_rc ? run_rc : S3DLIO_E_S3;
    if (!rc && loop_rc) {
        rc = loop_rc;
        local = run_err;
    }
out:
    s3dlio_atomic_discard(&rfile);
    if (rc && err)
        *err = local;
    free(report.ranks);
    s3dlio_failed_keys_free(report.failed, report.nfailed);
    free(rs);
    free(w.taken);
    s3dlio_plan_release(&w.plan);
    s3dlio_table_release(&table);
    s3dlio_uri_release(&uri);
    return rc;
}
