/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a collective job records about itself besides its counts: the phases it went through,
 * the bytes each rank moved per interval, and (--profile-cpu) CPU samples by phase; at the
 * end rank 0 gathers them into flamegraphs per phase and a throughput picture, and names
 * every file in the report.
 *
 * Times are each rank's own, from a barrier every rank leaves together, so the pictures never
 * compare two nodes' clocks.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "coord/coord_int.h"
#include "stats/render.h"
#include "util/alloc.h"
#include "util/atomic_file.h"
#include "util/buf.h"

#define TIMELINE_BUCKET_NS 100000000ull /* 100 ms */
#define TIMELINE_BUCKETS 36000          /* an hour at 100 ms before intervals merge */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

enum s3dlio_rc s3dlio_observe_begin(MPI_Comm comm, const struct s3dlio_stage_opts *o,
                                    struct s3dlio_observe *ob, struct s3dlio_error *err)
{
    memset(ob, 0, sizeof(*ob));
    ob->hz = o->profile_hz;
    ob->per_rank = o->profile_per_rank;
    ob->trace_path = o->trace_path;
    enum s3dlio_rc rc = S3DLIO_OK;
    if (ob->hz) {
        rc = s3dlio_prof_start(ob->hz, err);
        ob->sampling = !rc;
    }
    if ((rc = s3dlio_coord_agree(comm, rc, err))) {
        if (ob->sampling)
            s3dlio_prof_reset();
        ob->sampling = false;
        return rc;
    }
    MPI_Barrier(comm);
    ob->t0_ns = now_ns();
    s3dlio_timeline_init(&ob->timeline, ob->t0_ns, TIMELINE_BUCKET_NS, TIMELINE_BUCKETS);
    ob->current = S3DLIO_PHASE_SETUP;
    return S3DLIO_OK;
}

void s3dlio_observe_phase(struct s3dlio_observe *ob, enum s3dlio_phase p)
{
    if (!ob || !ob->timeline.bytes)
        return;
    uint64_t t = now_ns();
    if (ob->current != S3DLIO_PHASE_SETUP && ob->nphases) {
        struct s3dlio_observed_phase *done = &ob->phases[ob->nphases - 1];
        done->end_ns = t;
        /* the transfer is put in the trace by run_shard, which ends the trace */
        if (ob->trace && done->phase != ob->transfer)
            s3dlio_trace_add_phase(ob->trace->t, s3dlio_phase_name(done->phase), done->start_ns, t);
    }
    if (p != S3DLIO_PHASE_SETUP && ob->nphases < OBSERVE_MAX_PHASES)
        ob->phases[ob->nphases++] = (struct s3dlio_observed_phase){p, t, t};
    ob->current = p;
    s3dlio_prof_phase(p);
}

void s3dlio_observe_run_started(struct s3dlio_observe *ob)
{
    if (!ob)
        return;
    ob->run_bytes = 0;
    ob->last_tick_ns = now_ns();
}

void s3dlio_observe_bytes(struct s3dlio_observe *ob, uint64_t run_bytes)
{
    if (!ob || !ob->timeline.bytes)
        return;
    /* the engine counts a request's bytes when it completes: they arrived since the last tick.
     * An object fetched again after a change takes its bytes back: nothing moved then. */
    uint64_t t = now_ns();
    if (run_bytes > ob->run_bytes)
        s3dlio_timeline_add_span(&ob->timeline, ob->last_tick_ns, t, run_bytes - ob->run_bytes);
    ob->run_bytes = run_bytes;
    ob->last_tick_ns = t;
}

void s3dlio_observe_stop(struct s3dlio_observe *ob, struct s3dlio_rank_stats *rs)
{
    s3dlio_observe_phase(ob, S3DLIO_PHASE_REPORT);
    if (!ob->sampling)
        return;
    s3dlio_prof_stop();
    struct s3dlio_prof_counts c;
    s3dlio_prof_counts(&c);
    rs->prof_samples = c.samples;
    rs->prof_dropped = c.dropped;
}

/* ---- pictures ----------------------------------------------------------------------------- */

/* Adds a file to the report's list (rank 0). */
static void name_file(struct s3dlio_observe *ob, const char *kind, const char *phase,
                      const char *path, uint64_t samples)
{
    if (ob->nfiles == OBSERVE_MAX_FILES)
        return;
    struct s3dlio_report_file *f = &ob->files[ob->nfiles++];
    snprintf(f->kind, sizeof(f->kind), "%s", kind);
    snprintf(f->phase, sizeof(f->phase), "%s", phase ? phase : "");
    snprintf(f->path, sizeof(f->path), "%s", path);
    f->samples = samples;
}

typedef enum s3dlio_rc write_fn(void *ud, FILE *out, struct s3dlio_error *err);

/* dir/name written whole or not at all. */
static enum s3dlio_rc write_file(const char *dir, const char *name, write_fn *fn, void *ud,
                                 char *path, size_t pathlen, struct s3dlio_error *err)
{
    snprintf(path, pathlen, "%s/%s", dir, name);
    struct s3dlio_atomic_file f = S3DLIO_ATOMIC_FILE_INIT;
    enum s3dlio_rc rc = s3dlio_atomic_open(&f, path, strlen(dir) + 1, "report", err);
    if (rc)
        return rc;
    FILE *fp = fdopen(f.fd, "w");
    if (!fp) {
        s3dlio_atomic_discard(&f);
        return s3dlio_error_set(err, S3DLIO_E_IO, "report", path, "%s", strerror(errno));
    }
    f.fd = -1; /* fp owns it now */
    rc = fn(ud, fp, err);
    if (fflush(fp) && !rc)
        rc = s3dlio_error_set(err, S3DLIO_E_IO, "report", path, "writing failed: %s", strerror(errno));
    f.fd = dup(fileno(fp));
    fclose(fp);
    if (!rc)
        return s3dlio_atomic_commit(&f, false, "report", err);
    s3dlio_atomic_discard(&f);
    return rc;
}

struct flame_job {
    const struct s3dlio_folded *folded;
    struct s3dlio_flame_opts opts;
};

static enum s3dlio_rc put_folded(void *ud, FILE *out, struct s3dlio_error *err)
{
    size_t len = 0;
    char *text = s3dlio_folded_text(ud, &len);
    bool ok = fwrite(text, 1, len, out) == len;
    free(text);
    return ok ? S3DLIO_OK : s3dlio_error_set(err, S3DLIO_E_IO, "report", "", "%s", strerror(errno));
}

static enum s3dlio_rc put_flamegraph(void *ud, FILE *out, struct s3dlio_error *err)
{
    struct flame_job *j = ud;
    return s3dlio_flamegraph_svg(j->folded, &j->opts, out, err);
}

static enum s3dlio_rc put_timeline(void *ud, FILE *out, struct s3dlio_error *err)
{
    return s3dlio_timeline_svg(ud, out, err);
}

/*
 * Every rank's folded stacks of every phase to rank 0: per phase a 4-byte phase number, an
 * 8-byte length and the text. A rank's share is cut (whole phases) at budget bytes, so
 * rank 0's int displacements cannot overflow.
 */
static char *pack_stacks(size_t budget, int *len)
{
    struct s3dlio_buf b = S3DLIO_BUF_INIT(budget);
    for (int p = 0; p < S3DLIO_PHASE_COUNT; p++) {
        size_t n = 0;
        char *text = s3dlio_prof_folded((enum s3dlio_phase)p, &n);
        uint32_t phase = (uint32_t)p;
        uint64_t n64 = n;
        if (text && b.len + sizeof(phase) + sizeof(n64) + n <= budget) {
            s3dlio_buf_add(&b, &phase, sizeof(phase));
            s3dlio_buf_add(&b, &n64, sizeof(n64));
            s3dlio_buf_add(&b, text, n);
        }
        free(text);
    }
    *len = (int)b.len;
    return s3dlio_buf_detach(&b);
}

static enum s3dlio_rc write_flamegraphs(struct s3dlio_observe *ob, const char *dir, int nranks,
                                        const char *all, const int *lens, const int *displs,
                                        struct s3dlio_error *err)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    for (int p = 0; p < S3DLIO_PHASE_COUNT && !rc; p++) {
        struct s3dlio_folded *f = s3dlio_folded_new();
        int ranks_with = 0;
        for (int r = 0; r < nranks && !rc; r++) {
            for (const char *q = all + displs[r], *end = q + lens[r]; q < end && !rc;) {
                uint32_t phase;
                uint64_t n;
                memcpy(&phase, q, sizeof(phase));
                memcpy(&n, q + sizeof(phase), sizeof(n));
                q += sizeof(phase) + sizeof(n);
                if (phase == (uint32_t)p) {
                    char root[32];
                    snprintf(root, sizeof(root), "rank %d", r);
                    rc = s3dlio_folded_add_text(f, q, (size_t)n, ob->per_rank ? root : NULL, err);
                    ranks_with++;
                }
                q += n;
            }
        }
        uint64_t total = s3dlio_folded_total(f);
        if (!rc && total) {
            const char *name = s3dlio_phase_name((enum s3dlio_phase)p);
            char file[64], path[1024], title[256], sub[256];
            snprintf(title, sizeof(title), "%s: %" PRIu64 " CPU samples at %d Hz from %d of %d rank%s",
                     name, total, ob->hz, ranks_with, nranks, nranks == 1 ? "" : "s");
            snprintf(sub, sizeof(sub), "run %s%s", ob->run_id,
                     ob->per_rank ? ", one root frame per rank" : ", all ranks merged");
            snprintf(file, sizeof(file), "%s.folded", name);
            rc = write_file(dir, file, put_folded, f, path, sizeof(path), err);
            if (!rc)
                name_file(ob, "folded", name, path, total);
            struct flame_job j = {.folded = f, .opts = {.title = title, .subtitle = sub}};
            snprintf(file, sizeof(file), "%s.svg", name);
            if (!rc)
                rc = write_file(dir, file, put_flamegraph, &j, path, sizeof(path), err);
            if (!rc)
                name_file(ob, "flamegraph", name, path, total);
        }
        s3dlio_folded_free(f);
    }
    return rc;
}

/* Every rank's bytes per interval to rank 0, at the coarsest interval any rank reached. */
static enum s3dlio_rc write_timeline(MPI_Comm comm, struct s3dlio_observe *ob, const char *dir,
                                     struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    uint64_t width = ob->timeline.bucket_ns, coarsest = 0;
    MPI_Allreduce(&width, &coarsest, 1, MPI_UINT64_T, MPI_MAX, comm);
    s3dlio_timeline_coarsen(&ob->timeline, coarsest);
    uint64_t n = ob->timeline.n, most = 0;
    MPI_Allreduce(&n, &most, 1, MPI_UINT64_T, MPI_MAX, comm);
    uint64_t *mine = s3dlio_xcalloc(most ? most : 1, sizeof(*mine));
    memcpy(mine, ob->timeline.bytes, n * sizeof(*mine));
    uint64_t *all = rank == 0 ? s3dlio_xcalloc((size_t)nranks * (most ? most : 1), sizeof(*all)) : NULL;
    MPI_Gather(mine, (int)most, MPI_UINT64_T, all, (int)most, MPI_UINT64_T, 0, comm);
    char(*hosts)[64] = rank == 0 ? s3dlio_xcalloc((size_t)nranks, sizeof(*hosts)) : NULL;
    char host[64] = "";
    gethostname(host, sizeof(host) - 1);
    MPI_Gather(host, 64, MPI_CHAR, hosts, 64, MPI_CHAR, 0, comm);
    enum s3dlio_rc rc = S3DLIO_OK;
    if (rank == 0 && dir) {
        char **labels = s3dlio_xcalloc((size_t)nranks, sizeof(*labels));
        for (int r = 0; r < nranks; r++) {
            labels[r] = s3dlio_xmalloc(96);
            snprintf(labels[r], 96, "rank %d (%.60s)", r, hosts[r]);
        }
        struct s3dlio_timeline_phase bands[OBSERVE_MAX_PHASES];
        size_t nbands = 0;
        for (int i = 0; i < ob->nphases; i++) {
            const struct s3dlio_observed_phase *ph = &ob->phases[i];
            if (ph->phase == S3DLIO_PHASE_REPORT)
                continue;
            bands[nbands++] = (struct s3dlio_timeline_phase){
                s3dlio_phase_name(ph->phase), (double)(ph->start_ns - ob->t0_ns) / 1e9,
                (double)(ph->end_ns - ob->t0_ns) / 1e9};
        }
        char title[256], path[1024];
        snprintf(title, sizeof(title), "throughput of run %s, %d rank%s (rank 0's phases)", ob->run_id,
                 nranks, nranks == 1 ? "" : "s");
        struct s3dlio_timeline_chart chart = {
            .title = title, .bucket_s = (double)coarsest / 1e9, .nbuckets = (size_t)most,
            .nseries = nranks, .bytes = all, .labels = (const char *const *)labels,
            .phases = bands, .nphases = nbands};
        rc = write_file(dir, "throughput.svg", put_timeline, &chart, path, sizeof(path), err);
        if (!rc)
            name_file(ob, "timeline", NULL, path, 0);
        for (int r = 0; r < nranks; r++)
            free(labels[r]);
        free(labels);
    }
    free(mine);
    free(all);
    free(hosts);
    return rc;
}

enum s3dlio_rc s3dlio_observe_finish(MPI_Comm comm, struct s3dlio_observe *ob, const char *run_id,
                                     const char *dir, struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    snprintf(ob->run_id, sizeof(ob->run_id), "%s", run_id);
    /* only rank 0 knows where the report goes: every rank must take the same branches */
    int have_dir = rank == 0 && dir;
    MPI_Bcast(&have_dir, 1, MPI_INT, 0, comm);
    enum s3dlio_rc rc = S3DLIO_OK;
    if (ob->hz) {
        int len = 0, *lens = NULL, *displs = NULL;
        char *mine = pack_stacks((size_t)INT_MAX / (size_t)nranks, &len);
        size_t total = 0;
        char *all = s3dlio_coord_gather_bytes(comm, mine, len, &total, &lens, &displs);
        if (rank == 0 && have_dir)
            rc = write_flamegraphs(ob, dir, nranks, all, lens, displs, err);
        free(mine);
        free(all);
        free(lens);
        free(displs);
    }
    /* the trace was written (or not) by run_shard: listed when it is there */
    if (rank == 0 && ob->trace_path && !access(ob->trace_path, F_OK))
        name_file(ob, "trace", NULL, ob->trace_path, 0);
    if (have_dir && !ob->timeline_off) {
        struct s3dlio_error later = {0}; /* the first failure's message stands */
        enum s3dlio_rc trc = write_timeline(comm, ob, rank == 0 ? dir : NULL, rc ? &later : err);
        if (!rc)
            rc = trc;
    }
    return s3dlio_coord_agree(comm, rc, err);
}

void s3dlio_observe_release(struct s3dlio_observe *ob)
{
    if (ob->sampling)
        s3dlio_prof_reset();
    ob->sampling = false;
    s3dlio_timeline_release(&ob->timeline);
}
