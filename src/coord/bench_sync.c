/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench sync (include/s3dlio/bench.h): rank 0 lists once, one broadcast carries the listing,
 * and then, round after round, every rank computes its share, waits in a barrier, and moves
 * it with its own engine, timing itself from the barrier's exit to its last byte. The
 * samples of a round reach rank 0 after the round, so no collective runs while ranks move
 * data, and rank 0 turns them into the report and the picture (bench_sync_out.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "coord/bench_sync_int.h"
#include "s3dlio/plan.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/retry.h"

/* ---- rank 0: the dataset ------------------------------------------------------------------ */

/* Keys ending in '/' (folder markers) and earlier runs' scratch prefixes are no dataset. */
static void drop_not_data(struct s3dlio_objlist *list, const char *scratch_root)
{
    size_t kept = 0, rootlen = strlen(scratch_root);
    for (size_t i = 0; i < list->n; i++) {
        const char *key = list->items[i].key;
        size_t n = strlen(key);
        if ((n && key[n - 1] == '/') || !strncmp(key, scratch_root, rootlen))
            continue;
        list->items[kept++] = list->items[i];
    }
    list->n = kept;
}

static enum s3dlio_rc list_dataset(struct bsync *b, struct s3dlio_objlist *list,
                                   struct s3dlio_error *err)
{
    double t0 = MPI_Wtime();
    enum s3dlio_rc rc = s3dlio_backend_list_all(b->be, b->uri.key, NULL, 1000, list, err);
    b->list_s = MPI_Wtime() - t0;
    if (rc)
        return rc;
    drop_not_data(list, b->scratch_root);
    if (!list->n)
        return s3dlio_error_set(err, S3DLIO_E_NOT_FOUND, "bench sync", b->o->uri,
                                "no objects under the prefix: nothing to benchmark");
    S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_COORD, "bench sync: %zu objects listed in %.3f s",
               list->n, b->list_s);
    return S3DLIO_OK;
}

/* ---- setup -------------------------------------------------------------------------------- */

/* "<prefix>bench-sync-" (a '/' put between when the prefix has none), and the run's own. */
static void scratch_names(struct bsync *b)
{
    const char *k = b->uri.key;
    size_t n = strlen(k);
    const char *sep = n && k[n - 1] != '/' ? "/" : "";
    snprintf(b->scratch_root, sizeof(b->scratch_root), "%s%sbench-sync-", k, sep);
    snprintf(b->scratch_key, sizeof(b->scratch_key), "%s%s/", b->scratch_root, b->run_id);
    snprintf(b->scratch_uri, sizeof(b->scratch_uri), "%s://%s/%s", b->uri.scheme, b->uri.bucket,
             b->scratch_key);
}

/* The backend every rank keeps for all rounds (connections stay warm, as in training). */
static enum s3dlio_rc open_backend(struct bsync *b, const struct s3dlio_config *cfg,
                                   struct s3dlio_error *err)
{
    enum s3dlio_rc rc = s3dlio_uri_parse(&b->uri, b->o->uri, err);
    if (!rc)
        rc = s3dlio_backend_new(&b->uri, cfg, &b->be, err);
    return s3dlio_coord_agree(b->comm, rc, err);
}

/*
 * Rank 0 lists. With --shuffle every round deals the whole listing anew, so every rank needs
 * the table (one copy per node); without, the byte-balanced assignment is the same every round and each rank
 * gets its share only. Collective.
 */
static enum s3dlio_rc share_dataset(struct bsync *b, struct s3dlio_error *err)
{
    struct s3dlio_objlist list = { 0 };
    enum s3dlio_rc rc = b->rank == 0 ? list_dataset(b, &list, err) : S3DLIO_OK;
    if (!(rc = s3dlio_coord_agree(b->comm, rc, err))) {
        /* rank 0: the assignment of every round without --shuffle (see assign); with it,
         * owners are computed per round by every rank and these are unused */
        int *owner = b->rank == 0 && !b->o->shuffle
                         ? s3dlio_coord_partition_list(&list, S3DLIO_PART_SIZE, NULL, b->nranks)
                         : s3dlio_xcalloc(list.n ? list.n : 1, sizeof(*owner));
        if (b->o->shuffle)
            rc = s3dlio_table_bcast_shared(b->comm, &list, owner, NULL, &b->table, err);
        else
            rc = s3dlio_table_scatter(b->comm, &list, owner, NULL, &b->table, err);
        free(owner);
        rc = s3dlio_coord_agree(b->comm, rc, err);
    }
    MPI_Bcast(&b->list_s, 1, MPI_DOUBLE, 0, b->comm);
    s3dlio_objlist_release(&list);
    return rc;
}

/* ---- one round ---------------------------------------------------------------------------- */

/*
 * Round r's owners: without shuffle the byte-balanced assignment (the same every round); with
 * it the listing shuffled by seed + r and dealt round-robin, as a distributed sampler deals an
 * epoch. b->order gets the order this rank runs its share in.
 */
static void assign(struct bsync *b, int r)
{
    size_t n = b->table.n;
    for (size_t i = 0; i < n; i++)
        b->order[i] = i;
    if (b->table.share_only) { /* scattered: the rows here are this rank's, every round */
        for (size_t i = 0; i < n; i++)
            b->owner[i] = b->rank;
    } else if (b->o->shuffle) {
        s3dlio_shuffle(b->order, n, b->o->seed + (uint64_t)r);
        s3dlio_partition(S3DLIO_PART_COUNT, b->table.sizes, b->order, n, b->nranks, b->owner, NULL);
    } else {
        s3dlio_partition(S3DLIO_PART_SIZE, b->table.sizes, b->order, n, b->nranks, b->owner, NULL);
    }
}

/* This rank's jobs of round r, and the hash of the set of keys it was given. */
static uint64_t plan_round(struct bsync *b, int r, struct s3dlio_plan *plan)
{
    struct s3dlio_objlist mine = { 0 };
    uint64_t hash = 0;
    size_t plen = strlen(b->uri.key);
    assign(b, r);
    for (size_t j = 0; j < b->table.n; j++) {
        size_t i = b->order[j];
        if (b->owner[i] != b->rank)
            continue;
        const char *key = b->table.keys[i];
        hash += s3dlio_sync_key_hash(key);
        if (!b->o->write) {
            s3dlio_objlist_add(&mine, key, s3dlio_table_size(&b->table, i), -1, s3dlio_table_etag(&b->table, i));
            continue;
        }
        const char *rel = key + plen;
        while (*rel == '/')
            rel++;
        size_t kn = strlen(b->scratch_key) + strlen(rel) + 1;
        char *skey = s3dlio_xmalloc(kn);
        snprintf(skey, kn, "%s%s", b->scratch_key, rel);
        s3dlio_objlist_add(&mine, skey, s3dlio_table_size(&b->table, i), -1, NULL);
        free(skey);
    }
    if (b->o->write)
        s3dlio_plan_put_generated(plan, &mine, &b->gen);
    else
        s3dlio_plan_get(plan, &mine, b->uri.key, NULL, NULL, NULL, NULL);
    s3dlio_objlist_release(&mine);
    return hash;
}

/* The round itself: the barrier, then this rank's share against its own clock. */
static void run_round(struct bsync *b, struct s3dlio_plan *plan, struct s3dlio_xfer_opts *xo,
                      struct s3dlio_xfer_stats *st, struct s3dlio_sync_sample *s)
{
    double arrived = MPI_Wtime();
    MPI_Barrier(b->comm);
    double t0 = MPI_Wtime();
    s3dlio_xfer_run(b->be, plan->jobs, plan->n, xo, st);
    double t1 = MPI_Wtime();
    s->wait_s = t0 - arrived;
    s->seconds = t1 - t0;
    s->bytes = st->bytes;
    s->objects = plan->n;
    s->failures = st->failures;
}

/* rank 0: a line per round, for runs long enough to want one */
static void say_round(const struct bsync *b, int r)
{
    double slowest = 0, fastest = -1;
    int who = 0;
    uint64_t bytes = 0;
    for (int k = 0; k < b->nranks; k++) {
        const struct s3dlio_sync_sample *s = &b->samples[(size_t)r * (size_t)b->nranks + (size_t)k];
        bytes += s->bytes;
        if (s->seconds > slowest)
            slowest = s->seconds, who = k;
        if (s->objects && (fastest < 0 || s->seconds < fastest))
            fastest = s->seconds;
    }
    fprintf(stderr,
            "bench sync: round %d/%d: slowest %.3f s (rank %d), fastest %.3f s, %.1f MB/s\n", r + 1,
            b->o->rounds, slowest, who, fastest, slowest > 0 ? (double)bytes / slowest / 1e6 : 0);
}

/*
 * One round on every rank, its samples gathered to rank 0 and, when objects failed, their
 * keys and the first failing rank's error. *stop: the benchmark ends here (agreed).
 */
static enum s3dlio_rc round_once(struct bsync *b, int r, struct s3dlio_xfer_opts *xo, bool *stop,
                                 struct s3dlio_error *err)
{
    struct s3dlio_plan plan = { 0 };
    struct s3dlio_xfer_stats st;
    struct s3dlio_sync_sample s = { 0 };
    s.assignment = plan_round(b, r, &plan);
    run_round(b, &plan, xo, &st, &s);
    struct s3dlio_sync_sample *row = b->samples ? b->samples + (size_t)r * (size_t)b->nranks : NULL;
    MPI_Gather(&s, (int)sizeof(s), MPI_BYTE, row, (int)sizeof(s), MPI_BYTE, 0, b->comm);
    uint64_t mine[2] = { st.failures, st.interrupted || (xo->cancel && *xo->cancel) }, all[2];
    MPI_Allreduce(mine, all, 2, MPI_UINT64_T, MPI_SUM, b->comm);
    b->interrupted = all[1] > 0;
    *stop = all[0] || b->interrupted;
    if (b->interrupted) { /* a round cut short measures nothing, and its aborts are no failures */
        s3dlio_plan_release(&plan);
        return S3DLIO_OK;
    }
    b->rounds_done = r + 1;
    b->failures += all[0];
    if (b->rank == 0 && b->o->progress)
        say_round(b, r);
    enum s3dlio_rc rc = S3DLIO_OK;
    if (all[0]) { /* every rank knows: all take part in naming the failures */
        s3dlio_bench_sync_gather_failed(b, r, &plan);
        struct s3dlio_error first = { 0 };
        for (size_t i = 0; i < plan.n && !rc; i++)
            if (plan.jobs[i].rc && (rc = plan.jobs[i].rc) && plan.jobs[i].err)
                first = *plan.jobs[i].err;
        rc = s3dlio_coord_agree(b->comm, rc, &first);
        if (err)
            *err = first;
    }
    s3dlio_plan_release(&plan);
    return rc;
}

static enum s3dlio_rc run_rounds(struct bsync *b, struct s3dlio_error *err)
{
    struct s3dlio_xfer_opts xo = b->o->xfer;
    if (!xo.jitter_seed) /* every rank its own backoff: throttled ranks must not retry together */
        xo.jitter_seed =
            s3dlio_retry_seed((uint64_t)b->rank, (uint64_t)getpid(), (uint64_t)(MPI_Wtime() * 1e9));
    b->owner = s3dlio_xcalloc(b->table.n, sizeof(*b->owner));
    b->order = s3dlio_xcalloc(b->table.n, sizeof(*b->order));
    enum s3dlio_rc rc = S3DLIO_OK;
    bool stop = false;
    for (int r = 0; r < b->o->rounds && !stop; r++)
        rc = round_once(b, r, &xo, &stop, err);
    return rc;
}

/* ---- the collective ----------------------------------------------------------------------- */

static enum s3dlio_rc check_opts(const struct s3dlio_bench_sync_opts *o, struct s3dlio_error *err)
{
    struct s3dlio_stage_opts so = { .command = "bench sync", .uri = o->uri, .run_id = o->run_id };
    if (o->rounds < 1 || o->rounds > S3DLIO_BENCH_SYNC_MAX_ROUNDS)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "bench sync", o->uri,
                                "rounds must be 1..%d, not %d", S3DLIO_BENCH_SYNC_MAX_ROUNDS,
                                o->rounds);
    return s3dlio_coord_check_run_id(&so, err);
}

/* Everything up to the first round: options, the run id, the backend, the dataset, the report. */
static enum s3dlio_rc set_up(struct bsync *b, const struct s3dlio_config *cfg,
                             struct s3dlio_bench_sync_result *res, struct s3dlio_error *err)
{
    struct s3dlio_stage_opts so = { .command = "bench sync",
                                    .uri = b->o->uri,
                                    .run_id = b->o->run_id };
    enum s3dlio_rc rc = s3dlio_coord_agree(b->comm, check_opts(b->o, err), err);
    if (rc)
        return rc;
    s3dlio_coord_make_run_id(b->comm, &so, b->run_id);
    if ((rc = open_backend(b, cfg, err)))
        return rc;
    scratch_names(b);
    if ((rc = share_dataset(b, err)))
        return rc;
    res->listed = b->table.listed;
    if (b->rank == 0)
        rc = s3dlio_bench_sync_open_report(b, res, err);
    if ((rc = s3dlio_coord_agree(b->comm, rc, err)))
        return rc;
    s3dlio_bench_sync_gather_hosts(b);
    b->samples = b->rank == 0
                     ? s3dlio_xcalloc((size_t)b->o->rounds * (size_t)b->nranks, sizeof(*b->samples))
                     : NULL;
    return S3DLIO_OK;
}

/* The outcome every rank returns: the rounds' failure, a cancel, the report, the scratch. */
static enum s3dlio_rc outcome(struct bsync *b, enum s3dlio_rc run_rc, enum s3dlio_rc report_rc,
                              const struct s3dlio_error *report_err, enum s3dlio_rc clean_rc,
                              const struct s3dlio_error *clean_err, struct s3dlio_error *err)
{
    if (run_rc)
        return run_rc; /* err holds it already */
    if (b->interrupted)
        return S3DLIO_E_ABORTED;
    const struct s3dlio_error *e = report_rc ? report_err : clean_err;
    if ((report_rc || clean_rc) && err)
        *err = *e;
    return report_rc ? report_rc : clean_rc;
}

static void release(struct bsync *b)
{
    s3dlio_atomic_discard(&b->rfile);
    s3dlio_backend_free(b->be);
    s3dlio_table_release(&b->table);
    s3dlio_uri_release(&b->uri);
    free(b->owner);
    free(b->order);
    free(b->samples);
    free(b->hosts);
    for (size_t i = 0; i < b->nfailed; i++) {
        free(b->failed[i].key);
        free(b->failed[i].error);
    }
    free(b->failed);
}

enum s3dlio_rc s3dlio_coord_bench_sync(MPI_Comm comm, const struct s3dlio_config *cfg,
                                       const struct s3dlio_bench_sync_opts *o, FILE *out,
                                       struct s3dlio_bench_sync_result *res,
                                       struct s3dlio_error *err)
{
    struct bsync b = { .comm = comm, .o = o, .rfile = S3DLIO_ATOMIC_FILE_INIT };
    struct s3dlio_error clean_err = { 0 }, report_err = { 0 };
    memset(res, 0, sizeof(*res));
    MPI_Comm_rank(comm, &b.rank);
    MPI_Comm_size(comm, &b.nranks);
    b.gen.seed = o->seed;
    enum s3dlio_rc rc = set_up(&b, cfg, res, err);
    if (rc)
        goto out;
    enum s3dlio_rc run_rc = run_rounds(&b, err);
    /* the scratch goes whatever happened: every rank's engine has finished (or aborted) its
     * uploads by the last round's collective */
    enum s3dlio_rc clean_rc = o->write ? s3dlio_bench_sync_clean(&b, &clean_err) : S3DLIO_OK;
    enum s3dlio_rc report_rc =
        b.rank == 0 ? s3dlio_bench_sync_report(&b, out, res, &report_err) : S3DLIO_OK;
    report_rc = s3dlio_coord_agree(comm, report_rc, &report_err);
    rc = outcome(&b, run_rc, report_rc, &report_err, clean_rc, &clean_err, err);
    res->rounds_done = b.rounds_done;
    res->failures = b.failures;
    res->interrupted = b.interrupted;
    res->scratch_left = clean_rc != S3DLIO_OK;
out:
    release(&b);
    return rc;
}
