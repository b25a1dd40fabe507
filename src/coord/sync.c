/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sync: rank 0 lists both sides at once and computes what to copy and delete
 * (s3dlio_sync_diff); the copies travel in the packed table of a stage and run on every rank
 * through the engine (GET into files, PUT from files, server-side copies on one endpoint, or
 * GET into PUT through bounded memory across endpoints: s3dlio_xfer_relay); rank 0 reports as
 * stage does and then, only when every copy succeeded, deletes the extras.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "coord/coord_int.h"
#include "util/alloc.h"
#include "util/atomic_file.h"
#include "util/log.h"
#include "util/printable.h"

/* How the copies move, by the schemes of the two sides. */
enum sync_mode {
    SYNC_GET, /* to file://: GET from the source into files (file to file too) */
    SYNC_PUT, /* file:// to s3://: PUT from files */
    SYNC_COPY, /* s3:// to s3:// (one endpoint): CopyObject / UploadPartCopy on the server */
    SYNC_RELAY, /* s3:// to s3:// across endpoints: GET from the source into PUT (relay.c) */
};

#define RELAY_MEMORY_DEFAULT (256ull << 20)

struct sync_sides {
    struct s3dlio_uri src, dst;
    char *src_root, *dst_root; /* keys with a trailing '/' (s3dlio_sync_root) */
    enum sync_mode mode;
};

static void sides_release(struct sync_sides *s)
{
    s3dlio_uri_release(&s->src);
    s3dlio_uri_release(&s->dst);
    free(s->src_root);
    free(s->dst_root);
    memset(s, 0, sizeof(*s));
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Can the destination's server read the source (one endpoint, one account)? */
static bool one_server(const struct s3dlio_config *dst, const struct s3dlio_config *src)
{
    return same_text(dst->endpoint, src->endpoint) && same_text(dst->region, src->region) &&
           same_text(dst->access_key, src->access_key);
}

static enum s3dlio_rc sides_parse(const struct s3dlio_config *cfg, const struct s3dlio_sync_opts *o,
                                  struct sync_sides *s, struct s3dlio_error *err)
{
    enum s3dlio_rc rc = s3dlio_uri_parse(&s->src, o->src, err);
    if (!rc)
        rc = s3dlio_uri_parse(&s->dst, o->dst, err);
    if (rc)
        return rc;
    s->src_root = s3dlio_sync_root(s->src.key);
    s->dst_root = s3dlio_sync_root(s->dst.key);
    bool src_s3 = !strcmp(s->src.scheme, "s3"), dst_s3 = !strcmp(s->dst.scheme, "s3");
    s->mode = src_s3 && dst_s3 ? SYNC_COPY : dst_s3 ? SYNC_PUT : SYNC_GET;
    if (s->mode == SYNC_COPY &&
        (o->no_server_copy || (o->src_cfg && !one_server(cfg, o->src_cfg))))
        s->mode = SYNC_RELAY;
    /* one tree inside the other would copy into what it is listing, or delete its source */
    if (src_s3 == dst_s3 && !strcmp(s->src.bucket, s->dst.bucket) &&
        (!strncmp(s->src_root, s->dst_root, strlen(s->src_root)) ||
         !strncmp(s->dst_root, s->src_root, strlen(s->dst_root))))
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "sync", o->dst,
                                "source and destination overlap ('%s')", o->src);
    return S3DLIO_OK;
}

/* ---- rank 0: both listings, at once ------------------------------------------------------- */

struct lister {
    const struct s3dlio_config *cfg;
    const struct s3dlio_uri *uri;
    const char *root;
    struct s3dlio_objlist list;
    struct s3dlio_error err;
    enum s3dlio_rc rc;
};

/* Runs on its own thread: its own backend (curl handles are not shared), no MPI. */
static void *list_side(void *ud)
{
    struct lister *l = ud;
    struct s3dlio_backend *be = NULL;
    l->rc = s3dlio_backend_new(l->uri, l->cfg, &be, &l->err);
    if (!l->rc)
        l->rc = s3dlio_backend_list_all(be, l->root, NULL, 1000, &l->list, &l->err);
    s3dlio_backend_free(be);
    return NULL;
}

static bool *copy_conflicts(const struct s3dlio_sync_diff *d, const struct s3dlio_objlist *srcl);

/*
 * A directory that is not there lists as empty, like an S3 prefix: as a source, a typo would
 * then make --delete empty the destination. It must exist.
 */
static enum s3dlio_rc check_source_dir(const struct s3dlio_sync_opts *o, const struct sync_sides *s,
                                       struct s3dlio_error *err)
{
    size_t n = strlen(s->src_root);
    char *path = s3dlio_xmalloc(n + 2);
    snprintf(path, n + 2, "/%s", s->src_root);
    struct stat st;
    bool dir = !stat(path, &st) && S_ISDIR(st.st_mode);
    free(path);
    return dir ? S3DLIO_OK
               : s3dlio_error_set(err, S3DLIO_E_NOT_FOUND, "sync", o->src, "no such directory");
}

/* Rank 0 alone: both sides at once, the destination on a second thread. */
static enum s3dlio_rc list_both_here(const struct s3dlio_config *cfg, const struct s3dlio_sync_opts *o,
                                     const struct sync_sides *s, struct s3dlio_objlist *srcl,
                                     struct s3dlio_objlist *dstl, struct s3dlio_error *err)
{
    struct lister src = {.cfg = o->src_cfg ? o->src_cfg : cfg, .uri = &s->src, .root = s->src_root};
    struct lister dst = {.cfg = cfg, .uri = &s->dst, .root = s->dst_root};
    pthread_t t;
    bool threaded = !pthread_create(&t, NULL, list_side, &dst);
    list_side(&src);
    if (threaded)
        pthread_join(t, NULL);
    else /* no thread to be had: one after the other, the same result */
        list_side(&dst);
    *srcl = src.list;
    *dstl = dst.list;
    enum s3dlio_rc rc = src.rc ? src.rc : dst.rc;
    if (rc && err)
        *err = src.rc ? src.err : dst.err;
    return rc;
}

/*
 * Every rank: one side after the other, each cut into pieces the ranks list at once (as stage's
 * listing), merged on rank 0. A side's root, not its URI's key: "s3://b/data" lists "data/".
 */
static enum s3dlio_rc list_both_parallel(MPI_Comm comm, const struct s3dlio_config *cfg,
                                         const struct s3dlio_sync_opts *o, const struct sync_sides *s,
                                         struct s3dlio_objlist *srcl, struct s3dlio_objlist *dstl,
                                         struct s3dlio_error *err)
{
    struct s3dlio_uri src = s->src, dst = s->dst;
    src.key = (char *)s->src_root;
    dst.key = (char *)s->dst_root;
    enum s3dlio_rc rc = s3dlio_coord_list(comm, o->src_cfg ? o->src_cfg : cfg, &src, true, srcl, err);
    if (!rc)
        rc = s3dlio_coord_list(comm, cfg, &dst, true, dstl, err);
    return rc;
}

/* Rank 0: the difference into d and, for copies into files, their directory conflicts (heap). */
static enum s3dlio_rc diff_lists(const struct s3dlio_sync_opts *o, const struct sync_sides *s,
                                 const struct s3dlio_objlist *srcl, const struct s3dlio_objlist *dstl,
                                 struct s3dlio_sync_diff *d, bool **conflict,
                                 struct s3dlio_sync_result *res, double list_s, struct s3dlio_error *err)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    if (!srcl->n && !strcmp(s->src.scheme, "file"))
        rc = check_source_dir(o, s, err);
    enum s3dlio_sync_compare cmp = o->compare;
    /* a file's ETag is made from its inode and time: never equal to an S3 one */
    if (cmp == S3DLIO_SYNC_ETAG && (strcmp(s->src.scheme, "s3") || strcmp(s->dst.scheme, "s3"))) {
        cmp = S3DLIO_SYNC_SIZE;
        res->etag_size_only = true;
    }
    if (!rc) {
        s3dlio_sync_diff(srcl, s->src_root, dstl, s->dst_root, cmp, d);
        /* a property of the whole source, not only of what is left to copy */
        if (s->mode == SYNC_GET)
            *conflict = copy_conflicts(d, srcl);
        S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_COORD,
                   "listed %zu and %zu objects in %.3f s: %zu to copy, %zu to delete, %zu the same",
                   srcl->n, dstl->n, list_s, d->copy.n, d->del.n, d->same);
    }
    return rc;
}

/* --dry-run: one line per action, then the totals. */
static void print_plan(FILE *out, const struct s3dlio_sync_opts *o, const struct s3dlio_sync_diff *d)
{
    char shown[2048];
    if (!out)
        return;
    for (size_t i = 0; i < d->copy.n; i++)
        fprintf(out, "copy %s (%" PRIu64 " bytes)\n",
                s3dlio_printable(d->copy.items[i].key, shown, sizeof(shown), true),
                d->copy.items[i].size);
    for (size_t i = 0; o->delete_extra && i < d->del.n; i++)
        fprintf(out, "delete %s\n", s3dlio_printable(d->del.items[i].key, shown, sizeof(shown), true));
    fprintf(out, "sync: dry run: %zu to copy (%" PRIu64 " bytes), %zu to delete%s, %zu unchanged; "
                 "nothing was changed\n",
            d->copy.n, d->copy_bytes, o->delete_extra ? d->del.n : 0,
            !o->delete_extra && d->del.n ? " (extras kept: no --delete)" : "", d->same);
}

/* ---- the copies as a table, and each rank's jobs ------------------------------------------ */

/* Copies into files: a key that another source key uses as a directory cannot be a file. */
static bool *copy_conflicts(const struct s3dlio_sync_diff *d, const struct s3dlio_objlist *srcl)
{
    bool *all = s3dlio_xcalloc(srcl->n ? srcl->n : 1, sizeof(*all));
    bool *mine = s3dlio_xcalloc(d->copy.n ? d->copy.n : 1, sizeof(*mine));
    s3dlio_plan_dir_conflicts(srcl, all);
    for (size_t i = 0; i < d->copy.n; i++)
        mine[i] = all[d->copy_src[i]];
    free(all);
    return mine;
}

static void build_jobs(const struct s3dlio_table *t, const struct sync_sides *s, int rank,
                       struct s3dlio_rank_work *w)
{
    struct s3dlio_objlist mine = {0};
    bool *conflict = s3dlio_xcalloc(t->n ? t->n : 1, sizeof(*conflict));
    size_t rn = strlen(s->src_root);
    for (size_t i = 0; i < t->n; i++) {
        if (t->owner[i] != rank)
            continue;
        conflict[mine.n] = s3dlio_table_conflict(t, i);
        if (s->mode != SYNC_GET) {
            s3dlio_objlist_add(&mine, t->keys[i], s3dlio_table_size(t, i), -1, s3dlio_table_etag(t, i));
            continue;
        }
        size_t kn = strlen(t->keys[i]);
        char *key = s3dlio_xmalloc(rn + kn + 1);
        memcpy(key, s->src_root, rn);
        memcpy(key + rn, t->keys[i], kn + 1);
        s3dlio_objlist_add(&mine, key, s3dlio_table_size(t, i), -1, s3dlio_table_etag(t, i));
        free(key);
    }
    size_t dn = strlen(s->dst_root), sn = strlen(s->src_root);
    char *dir = s3dlio_xmalloc((dn > sn ? dn : sn) + 2);
    if (s->mode == SYNC_COPY || s->mode == SYNC_RELAY) {
        s3dlio_plan_copy(&w->plan, &mine, s->src.bucket, s->src_root, s->dst_root);
    } else if (s->mode == SYNC_PUT) { /* the files are under "/<source root>" */
        snprintf(dir, sn + 2, "/%.*s", (int)(sn ? sn - 1 : 0), s->src_root);
        s3dlio_plan_put_files(&w->plan, &mine, dir, s->dst_root);
    } else {
        snprintf(dir, dn + 2, "/%s", s->dst_root);
        s3dlio_plan_get(&w->plan, &mine, s->src_root, dir, NULL, conflict, NULL);
    }
    free(dir);
    free(conflict);
    s3dlio_objlist_release(&mine);
    w->taken = s3dlio_xcalloc(w->plan.n ? w->plan.n : 1, sizeof(*w->taken));
}

/* ---- the collective ----------------------------------------------------------------------- */

/* Rank 0 lists and diffs (a dry run prints and stops there); every rank gets its copies. */
static enum s3dlio_rc plan_sync(MPI_Comm comm, const struct s3dlio_config *cfg,
                                const struct s3dlio_sync_opts *o, const struct sync_sides *s,
                                struct s3dlio_sync_diff *d, struct s3dlio_table *table,
                                struct s3dlio_rank_work *w, FILE *out, struct s3dlio_sync_result *res,
                                double *list_s, struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    enum s3dlio_rc rc = S3DLIO_OK;
    int *owner = NULL;
    bool *conflict = NULL;
    s3dlio_observe_phase(w->obs, S3DLIO_PHASE_LIST);
    struct s3dlio_objlist srcl = {0}, dstl = {0};
    double t0 = MPI_Wtime();
    if (nranks > 1 && !o->job.list_serial)
        rc = list_both_parallel(comm, cfg, o, s, &srcl, &dstl, err);
    else if (rank == 0)
        rc = list_both_here(cfg, o, s, &srcl, &dstl, err);
    *list_s = MPI_Wtime() - t0;
    if (!rc && rank == 0)
        rc = diff_lists(o, s, &srcl, &dstl, d, &conflict, res, *list_s, err);
    s3dlio_objlist_release(&srcl);
    s3dlio_objlist_release(&dstl);
    if ((rc = s3dlio_coord_agree(comm, rc, err))) {
        free(conflict);
        return rc;
    }
    uint64_t plan[5] = {d->copy.n, d->copy_bytes, d->del.n, d->same, res->etag_size_only};
    MPI_Bcast(plan, 5, MPI_UINT64_T, 0, comm);
    res->to_copy = plan[0];
    res->copy_bytes = plan[1];
    res->to_delete = plan[2];
    res->same = plan[3];
    res->etag_size_only = plan[4] != 0;
    if (o->dry_run) {
        if (rank == 0)
            print_plan(out, o, d);
        free(conflict);
        return S3DLIO_OK;
    }
    s3dlio_observe_phase(w->obs, S3DLIO_PHASE_PARTITION);
    if (rank == 0)
        owner = s3dlio_coord_partition_list(&d->copy, S3DLIO_PART_SIZE, NULL, nranks);
    rc = s3dlio_table_scatter(comm, &d->copy, owner, conflict, table, err);
    if (!rc)
        build_jobs(table, s, rank, w);
    free(owner);
    free(conflict);
    return s3dlio_coord_agree(comm, rc, err);
}

/* Rank 0, after every copy succeeded: the extras go, in DeleteObjects batches (unlink for
 * file://). Returns how many went in *deleted. */
static enum s3dlio_rc delete_extras(const struct s3dlio_config *cfg, const struct sync_sides *s,
                                    const struct s3dlio_sync_diff *d, uint64_t *deleted,
                                    struct s3dlio_error *err)
{
    struct s3dlio_backend *be = NULL;
    size_t rn = strlen(s->dst_root), nfailed = 0;
    char **keys = s3dlio_xcalloc(d->del.n ? d->del.n : 1, sizeof(*keys));
    for (size_t i = 0; i < d->del.n; i++) {
        size_t kn = strlen(d->del.items[i].key);
        keys[i] = s3dlio_xmalloc(rn + kn + 1);
        memcpy(keys[i], s->dst_root, rn);
        memcpy(keys[i] + rn, d->del.items[i].key, kn + 1);
    }
    enum s3dlio_rc rc = s3dlio_backend_new(&s->dst, cfg, &be, err);
    if (!rc)
        rc = s3dlio_backend_remove_many(be, (const char *const *)keys, d->del.n, &nfailed, err);
    *deleted = rc && !nfailed ? 0 : d->del.n - nfailed;
    s3dlio_backend_free(be);
    for (size_t i = 0; i < d->del.n; i++)
        free(keys[i]);
    free(keys);
    return rc;
}

static void fill_identity(struct s3dlio_report *r, const struct s3dlio_sync_opts *o, double list_s,
                          const struct s3dlio_sync_diff *d, uint64_t listed)
{
    snprintf(r->command, sizeof(r->command), "sync");
    snprintf(r->source, sizeof(r->source), "%s", o->src);
    snprintf(r->destination, sizeof(r->destination), "%s", o->dst);
    snprintf(r->partition, sizeof(r->partition), "%s", s3dlio_partition_mode_name(S3DLIO_PART_SIZE));
    r->list_s = list_s;
    r->folder_markers = d->src_markers;
    r->listed = listed;
}

/* The job as run_shard and the report see it: a GET into files or a PUT from files. */
static struct s3dlio_stage_opts job_opts(const struct s3dlio_sync_opts *o, const struct sync_sides *s)
{
    struct s3dlio_stage_opts j = o->job;
    j.kind = s->mode == SYNC_GET ? S3DLIO_JOB_GET : S3DLIO_JOB_PUT_DIR;
    j.command = "sync";
    j.uri = o->src;
    j.dest = S3DLIO_DEST_DIR;
    j.steal = false;
    return j;
}

/* Copies done, the report written: with --delete and nothing failed, the extras go. */
static enum s3dlio_rc finish_deletes(MPI_Comm comm, const struct s3dlio_config *cfg,
                                     const struct s3dlio_sync_opts *o, const struct sync_sides *s,
                                     const struct s3dlio_sync_diff *d, enum s3dlio_rc rc,
                                     struct s3dlio_sync_result *res, struct s3dlio_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (rc || !o->delete_extra || !res->to_delete)
        return rc; /* every rank has the same rc and counts: the same branch */
    if (rank == 0)
        rc = delete_extras(cfg, s, d, &res->deleted, err);
    MPI_Bcast(&res->deleted, 1, MPI_UINT64_T, 0, comm);
    return s3dlio_coord_agree(comm, rc, err);
}

enum s3dlio_rc s3dlio_coord_sync(MPI_Comm comm, const struct s3dlio_config *cfg,
                                 const struct s3dlio_sync_opts *o, FILE *out,
                                 struct s3dlio_sync_result *res, struct s3dlio_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    memset(res, 0, sizeof(*res));
    struct sync_sides sides = {0};
    struct s3dlio_sync_diff diff = {0};
    struct s3dlio_table table = {0};
    struct s3dlio_observe obs;
    struct s3dlio_rank_work w = {.shard = &res->job.shard, .obs = &obs};
    struct s3dlio_rank_stats *rs = s3dlio_xcalloc(1, sizeof(*rs));
    struct s3dlio_report report = {0};
    struct s3dlio_error local = {0};
    struct s3dlio_atomic_file rfile = S3DLIO_ATOMIC_FILE_INIT;
    double list_s = 0;
    enum s3dlio_rc rc = s3dlio_coord_agree(comm, sides_parse(cfg, o, &sides, &local), &local);
    struct s3dlio_stage_opts jo = job_opts(o, &sides);
    memset(&obs, 0, sizeof(obs));
    if (!rc)
        rc = s3dlio_coord_agree(comm, s3dlio_coord_check_run_id(&jo, &local), &local);
    if (!rc && !o->dry_run) /* --trace: before listing, so the listing is in it */
        rc = s3dlio_coord_trace_begin(comm, &jo, &w.trace, &local);
    if (!rc && !o->dry_run)
        rc = s3dlio_observe_begin(comm, &jo, &obs, &local);
    obs.trace = &w.trace;
    obs.transfer = sides.mode == SYNC_GET ? S3DLIO_PHASE_DOWNLOAD : S3DLIO_PHASE_UPLOAD;
    res->server_side = sides.mode == SYNC_COPY;
    res->relayed = sides.mode == SYNC_RELAY;
    if (sides.mode == SYNC_RELAY) {
        w.relay_src = &sides.src;
        w.relay_cfg = o->src_cfg ? o->src_cfg : cfg;
        w.relay_memory = o->relay_memory ? o->relay_memory : RELAY_MEMORY_DEFAULT;
    }
    if (!rc)
        rc = plan_sync(comm, cfg, o, &sides, &diff, &table, &w, out, res, &list_s, &local);
    if (rc == S3DLIO_E_ABORTED) /* the config's cancel stopped a listing; agreed, so on every rank */
        res->job.interrupted = res->job.listing_cut = true;
    if (rc || o->dry_run)
        goto out;
    res->job.listed = table.listed;
    s3dlio_coord_make_run_id(comm, &jo, report.run_id);
    snprintf(w.trace.run_id, sizeof(w.trace.run_id), "%s", report.run_id);
    if (rank == 0)
        rc = s3dlio_coord_open_report(&jo, report.run_id, &rfile, res->job.report_file,
                                      sizeof(res->job.report_file), &local);
    if ((rc = s3dlio_coord_agree(comm, rc, &local)))
        goto out;
    rs->rank = rank;
    gethostname(rs->host, sizeof(rs->host) - 1);
    rs->concurrency = sides.mode == SYNC_GET ? jo.xfer.get_concurrency : jo.xfer.put_concurrency;
    struct s3dlio_error run_err = {0};
    /* copies run on the destination's backend and move no bytes through this process: the
     * progress has nothing to count for them; a relay counts what it PUT */
    const struct s3dlio_config *run_cfg = sides.mode == SYNC_GET && o->src_cfg ? o->src_cfg : cfg;
    enum s3dlio_rc run_rc = s3dlio_coord_run_shard(
        comm, run_cfg, &jo, sides.mode == SYNC_GET ? &sides.src : &sides.dst, &w, rs,
        sides.mode == SYNC_COPY ? 0 : table.total_bytes, &run_err);
    rs->peak_rss_kib = s3dlio_peak_rss_kib();
    rc = s3dlio_coord_gather_job(comm, &jo, &obs, rs, &w, &rfile, &res->job, &report, &local);
    if (rank == 0) {
        fill_identity(&report, o, list_s, &diff, table.listed);
        s3dlio_report_build(&report);
        if (out)
            s3dlio_report_print_table(&report, out);
        if (!rc)
            rc = s3dlio_coord_write_report(&report, &rfile, "sync", &local);
    }
    rc = s3dlio_coord_outcome(comm, rc, run_rc, &res->job, &local, &run_err);
    rc = finish_deletes(comm, cfg, o, &sides, &diff, rc, res, &local);
out:
    s3dlio_observe_release(&obs);
    s3dlio_atomic_discard(&rfile);
    s3dlio_coord_trace_release(&w.trace);
    if (rc && err)
        *err = local;
    free(report.ranks);
    s3dlio_failed_keys_free(report.failed, report.nfailed);
    free(rs);
    free(w.taken);
    s3dlio_plan_release(&w.plan);
    s3dlio_table_release(&table);
    s3dlio_sync_diff_release(&diff);
    sides_release(&sides);
    return rc;
}
