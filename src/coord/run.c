/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every collective job of the coordination layer shares once its jobs are planned:
 * running this rank's engine (or --steal) with progress and timing, gathering the per-rank
 * statistics and failed keys to rank 0, and the report file around it. stage and the
 * checkpoint commands build their jobs differently and run and report them the same way.
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
#include "util/alloc.h"
#include "util/atomic_file.h"
#include "util/log.h"
#include "util/printable.h"
#include "util/retry.h"

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

/* ---- running ------------------------------------------------------------------------------ */

struct tick_ctx {
    struct s3dlio_progress *prog;
    struct s3dlio_observe *obs;
};

static void on_tick(void *ud, const struct s3dlio_xfer_stats *st)
{
    struct tick_ctx *t = ud;
    s3dlio_progress_update(t->prog, st->bytes);
    s3dlio_observe_bytes(t->obs, st->bytes);
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
    rs->limit_max = st->limit_max;
    rs->limit_adaptive = st->limit_adaptive;
    rs->limit_decreases = st->limit_decreases;
    rs->nlimit_samples = st->nlimit_samples;
    memcpy(rs->limit_samples, st->limit_samples, sizeof(rs->limit_samples));
    rs->interrupted = st->interrupted;
}

/* The jobs relayed from another endpoint into be: the source gets a backend of its own. */
static enum s3dlio_rc run_relay(struct s3dlio_backend *be, struct s3dlio_rank_work *w,
                                struct s3dlio_xfer_opts *xo, struct s3dlio_xfer_stats *st,
                                struct s3dlio_error *err)
{
    struct s3dlio_backend *src = NULL;
    memset(st, 0, sizeof(*st));
    enum s3dlio_rc rc = s3dlio_backend_new(w->relay_src, w->relay_cfg, &src, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < w->plan.n; i++)
        w->taken[i] = true;
    rc = s3dlio_xfer_relay(src, be, w->plan.jobs, w->plan.n, w->relay_memory, xo, st);
    s3dlio_backend_free(src);
    return rc;
}

static enum s3dlio_rc run_jobs(MPI_Comm comm, struct s3dlio_backend *be, struct s3dlio_rank_work *w,
                               const struct s3dlio_stage_opts *o, struct s3dlio_xfer_opts *xo,
                               struct s3dlio_xfer_stats *st, struct s3dlio_error *err)
{
    if (w->relay_src)
        return run_relay(be, w, xo, st, err);
    if (w->feed && !o->steal) {
        s3dlio_feed_attach(w->feed, xo);
        enum s3dlio_rc rc = s3dlio_xfer_run(be, NULL, 0, xo, st);
        s3dlio_feed_finish(w->feed);
        S3DLIO_LOG(S3DLIO_LOG_DEBUG, S3DLIO_SUB_COORD, "job feed: %" PRIu64 " jobs, at most %zu "
                   "chunks alive", w->feed->planned, w->feed->peak_live);
        return rc;
    }
    if (!o->steal) {
        for (size_t i = 0; i < w->plan.n; i++)
            w->taken[i] = true;
        return s3dlio_xfer_run(be, w->plan.jobs, w->plan.n, xo, st);
    }
    struct s3dlio_steal_work sw = {
        .jobs = w->feed ? NULL : w->plan.jobs, .feed = w->feed,
        .n = w->feed ? w->feed->rows : w->plan.n, .taken = w->taken, .chunk = o->steal_chunk,
        .mem = o->kind == S3DLIO_JOB_GET && o->dest == S3DLIO_DEST_MEM,
        .max_memory = o->max_memory, .shard = w->shard, .uri = o->uri,
    };
    enum s3dlio_rc rc = s3dlio_coord_steal(comm, be, &sw, xo, st, err);
    w->mem_full = sw.memory_full;
    return rc;
}

enum s3dlio_rc s3dlio_coord_run_shard(MPI_Comm comm, const struct s3dlio_config *cfg,
                                const struct s3dlio_stage_opts *o, const struct s3dlio_uri *uri,
                                struct s3dlio_rank_work *w, struct s3dlio_rank_stats *rs,
                                uint64_t total_bytes, struct s3dlio_error *err)
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
    if (w->trace.t) { /* --trace: begun by the job (stage, checkpoint), ended below */
        xo.on_span = s3dlio_trace_on_span;
        xo.span_ud = w->trace.t;
    }
    struct tick_ctx tick = {.prog = &prog, .obs = w->obs};
    xo.tick = on_tick;
    xo.tick_ud = &tick;
    if (w->obs)
        xo.tick_ms = 100; /* the throughput picture's interval */
    xo.ttfb_hist = &rs->ttfb;
    xo.total_hist = &rs->total;
    if (!xo.jitter_seed) /* every rank its own backoff: throttled ranks must not retry together */
        xo.jitter_seed = s3dlio_retry_seed((uint64_t)rank, (uint64_t)getpid(),
                                           (uint64_t)(MPI_Wtime() * 1e9));
    s3dlio_progress_init(&prog, comm, total_bytes, mode);
    double c_user0, c_sys0, c_user1, c_sys1;
    s3dlio_cpu_times(&c_user0, &c_sys0);
    /* all ranks start together, so the slowest rank's own elapsed time is the job's wall time
     * and no rank's clock has to be compared with another's (they differ across nodes) */
    MPI_Barrier(comm);
    if (w->obs) {
        s3dlio_observe_phase(w->obs, w->obs->transfer);
        s3dlio_observe_run_started(w->obs);
    }
    double t0 = MPI_Wtime();
    uint64_t trace_t0 = s3dlio_trace_now_ns();
    rc = run_jobs(comm, be, w, o, &xo, &st, err);
    s3dlio_trace_add_phase(w->trace.t,
                           w->obs ? s3dlio_phase_name(w->obs->transfer)
                           : o->kind == S3DLIO_JOB_GET ? "download" : "upload",
                           trace_t0, s3dlio_trace_now_ns());
    double t1 = MPI_Wtime();
    s3dlio_observe_bytes(w->obs, st.bytes);
    s3dlio_cpu_times(&c_user1, &c_sys1);
    add_stats(rs, &st);
    s3dlio_progress_update(&prog, st.bytes);
    s3dlio_progress_finish(&prog);
    rs->wall_s = t1 - t0;
    rs->cpu_user_s = c_user1 - c_user0;
    rs->cpu_sys_s = c_sys1 - c_sys0;
    s3dlio_backend_free(be);
    /* the trace is written whatever the transfer did: a failed run is the one to look at. Its
     * failure is this rank's, agreed by the caller with the run's (s3dlio_coord_outcome) */
    struct s3dlio_error terr = {0};
    enum s3dlio_rc trc = s3dlio_coord_trace_end(comm, &w->trace, o->command, &terr);
    if (trc && !rc && err)
        *err = terr;
    else if (trc) /* the run's own failure is the one reported: this one is logged */
        S3DLIO_LOG(S3DLIO_LOG_ERROR, S3DLIO_SUB_COORD, "%s", terr.message);
    return rc ? rc : trc;
}

/* ---- gathering ---------------------------------------------------------------------------- */

/* One "key\0error\0" pair onto buf, if it fits within budget bytes. */
static bool pack_pair(char **buf, size_t *used, size_t budget, const char *key, const char *error)
{
    size_t klen = strlen(key) + 1, elen = strlen(error) + 1;
    if (*used + klen + elen > budget)
        return false;
    *buf = s3dlio_xrealloc(*buf, *used + klen + elen);
    memcpy(*buf + *used, key, klen);
    memcpy(*buf + *used + klen, error, elen);
    *used += klen + elen;
    return true;
}

/* See coord_int.h. */
char *s3dlio_coord_pack_failed(const struct s3dlio_plan *plan, size_t max_keys, size_t budget, int *len)
{
    char *buf = NULL, error[ERROR_TEXT_MAX];
    size_t used = 0, count = 0;
    for (size_t i = 0; i < plan->n && count < max_keys; i++) {
        const struct s3dlio_xfer_job *j = &plan->jobs[i];
        if (!j->rc)
            continue;
        if (j->err)
            s3dlio_error_format(j->err, error, sizeof(error));
        else
            snprintf(error, sizeof(error), "%s", s3dlio_rc_str(j->rc));
        if (!pack_pair(&buf, &used, budget, j->key, error))
            break;
        count++;
    }
    *len = (int)used;
    return buf;
}

/* As s3dlio_coord_pack_failed, from the failures a job feed kept (in planning order). */
static char *pack_failed_feed(const struct s3dlio_feed *f, size_t max_keys, size_t budget, int *len)
{
    char *buf = NULL;
    size_t used = 0;
    for (size_t i = 0; i < f->nfailures && i < max_keys; i++)
        if (!pack_pair(&buf, &used, budget, s3dlio_feed_failure_key(f, i),
                       s3dlio_feed_failure_message(f, i)))
            break;
    *len = (int)used;
    return buf;
}

/*
 * Rank 0: all[0..total) holds each rank's "key\0error\0" pairs (s3dlio_coord_pack_failed), rank i's at
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

int s3dlio_coord_send_bytes(MPI_Comm comm, int to, const char *buf, uint64_t len, uint64_t piece)
{
    int ok = MPI_Send(&len, 1, MPI_UINT64_T, to, 0, comm);
    for (uint64_t at = 0; ok == MPI_SUCCESS && at < len; at += piece)
        ok = MPI_Send(buf + at, (int)(len - at < piece ? len - at : piece), MPI_BYTE, to, 0, comm);
    return ok;
}

int s3dlio_coord_recv_bytes(MPI_Comm comm, int from, char **buf, uint64_t *len, uint64_t piece)
{
    int ok = MPI_Recv(len, 1, MPI_UINT64_T, from, 0, comm, MPI_STATUS_IGNORE);
    *buf = s3dlio_xmalloc(ok == MPI_SUCCESS && *len ? *len : 1);
    for (uint64_t at = 0; ok == MPI_SUCCESS && at < *len; at += piece)
        ok = MPI_Recv(*buf + at, (int)(*len - at < piece ? *len - at : piece), MPI_BYTE, from, 0,
                      comm, MPI_STATUS_IGNORE);
    return ok;
}

char *s3dlio_coord_gather_bytes(MPI_Comm comm, const void *mine, int len, size_t *total, int **lens,
                                int **displs)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    int *l = NULL, *d = NULL;
    char *all = NULL;
    if (rank == 0) {
        l = s3dlio_xcalloc((size_t)nranks, sizeof(*l));
        d = s3dlio_xcalloc((size_t)nranks, sizeof(*d));
    }
    MPI_Gather(&len, 1, MPI_INT, l, 1, MPI_INT, 0, comm);
    *total = 0;
    for (int i = 0; rank == 0 && i < nranks; i++) {
        d[i] = (int)*total; /* the callers keep the sum under INT_MAX */
        *total += (size_t)l[i];
    }
    if (rank == 0)
        all = s3dlio_xmalloc(*total ? *total : 1);
    MPI_Gatherv(mine, len, MPI_BYTE, all, l, d, MPI_BYTE, 0, comm);
    if (lens)
        *lens = l;
    else
        free(l);
    if (displs)
        *displs = d;
    else
        free(d);
    return all;
}

/* Every rank's failed keys to rank 0, in rank order. Collective. */
static void gather_failed(MPI_Comm comm, const struct s3dlio_rank_work *w, struct s3dlio_report *r)
{
    int rank, nranks, len = 0, *lens = NULL, *displs = NULL;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    size_t budget = (size_t)INT_MAX / (size_t)nranks;
    char *mine = w->feed ? pack_failed_feed(w->feed, MAX_FAILED_PER_RANK, budget, &len)
                         : s3dlio_coord_pack_failed(&w->plan, MAX_FAILED_PER_RANK, budget, &len);
    size_t total = 0;
    char *all = s3dlio_coord_gather_bytes(comm, mine, len, &total, &lens, &displs);
    if (rank == 0)
        unpack_failed(all, total, lens, displs, nranks, r);
    free(mine);
    free(all);
    free(lens);
    free(displs);
}

void s3dlio_coord_gather_report(MPI_Comm comm, const struct s3dlio_rank_stats *mine,
                          const struct s3dlio_rank_work *w, struct s3dlio_report *r)
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

enum s3dlio_rc s3dlio_coord_gather_job(MPI_Comm comm, const struct s3dlio_stage_opts *o,
                                       struct s3dlio_observe *obs, struct s3dlio_rank_stats *rs,
                                       const struct s3dlio_rank_work *w,
                                       const struct s3dlio_atomic_file *rfile,
                                       struct s3dlio_stage_result *res, struct s3dlio_report *r,
                                       struct s3dlio_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    char pictures[1024];
    s3dlio_observe_stop(obs, rs);
    s3dlio_coord_gather_report(comm, rs, w, r);
    s3dlio_coord_sum_outcome(comm, rs, res);
    const char *dir = rank == 0 ? s3dlio_coord_pictures_dir(o, r->run_id, rfile, res->report_file,
                                                            pictures, sizeof(pictures))
                                : NULL;
    enum s3dlio_rc rc = s3dlio_observe_finish(comm, obs, r->run_id, dir, err);
    if (rank == 0) {
        r->files = obs->files;
        r->nfiles = obs->nfiles;
        r->profile_hz = o->profile_hz;
    }
    return rc;
}

/* ---- the report file ---------------------------------------------------------------------- */

/*
 * Rank 0 opens the report before any transfer, as a temporary file beside its final name:
 * an unwritable destination fails the job before it moves a byte, and a job that dies
 * leaves no half-written report.
 */
enum s3dlio_rc s3dlio_coord_open_report(const struct s3dlio_stage_opts *o, const char *run_id,
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

enum s3dlio_rc s3dlio_coord_write_atomic(struct s3dlio_atomic_file *f, const char *op,
                                         s3dlio_coord_writer_fn *write, const void *what,
                                         struct s3dlio_error *err)
{
    int fd = dup(f->fd);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    enum s3dlio_rc rc = fp ? write(what, fp) : S3DLIO_E_IO;
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

static enum s3dlio_rc put_report(const void *r, FILE *out)
{
    return s3dlio_report_write_json(r, out);
}

enum s3dlio_rc s3dlio_coord_write_report(const struct s3dlio_report *r, struct s3dlio_atomic_file *f,
                                         const char *op, struct s3dlio_error *err)
{
    return s3dlio_coord_write_atomic(f, op, put_report, r, err);
}

/*
 * A run id names a directory under profiles/: a path in it ("../x", "a/b", ".", "..") would
 * put the report elsewhere, a control character would garble the table and the logs, and a
 * long one would be cut. The library checks it itself rather than trust its callers.
 */
enum s3dlio_rc s3dlio_coord_check_run_id(const struct s3dlio_stage_opts *o, struct s3dlio_error *err)
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

void s3dlio_coord_make_run_id(MPI_Comm comm, const struct s3dlio_stage_opts *o, char out[RUN_ID_MAX])
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (o->run_id) {
        snprintf(out, RUN_ID_MAX, "%s", o->run_id);
    } else if (rank == 0) {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        /* "checkpoint save" names its runs checkpoint-save-... */
        snprintf(out, RUN_ID_MAX, "%s-", o->command ? o->command : "stage");
        for (char *p = out; *p; p++)
            if (*p == ' ')
                *p = '-';
        size_t n = strlen(out);
        strftime(out + n, RUN_ID_MAX - n, "%Y%m%dT%H%M%SZ", &tm);
        n = strlen(out);
        snprintf(out + n, RUN_ID_MAX - n, "-%ld", (long)getpid());
    }
    MPI_Bcast(out, (int)RUN_ID_MAX, MPI_CHAR, 0, comm);
}

const char *s3dlio_coord_pictures_dir(const struct s3dlio_stage_opts *o, const char *run_id,
                                      const struct s3dlio_atomic_file *report, const char *report_path,
                                      char *buf, size_t len)
{
    const char *slash = strrchr(report_path, '/');
    if (report->tmp) /* a file: the pictures go beside it */
        snprintf(buf, len, "%.*s", slash ? (int)(slash - report_path) : 1, slash ? report_path : ".");
    else if (o->profile_hz) /* a device: only the flamegraphs asked for, at the default place */
        snprintf(buf, len, "profiles/%s", run_id);
    else
        return NULL;
    if (!buf[0]) /* "/report.json" */
        snprintf(buf, len, "/");
    return buf;
}

/* Counts every rank needs (the caller's result), summed. */
void s3dlio_coord_sum_outcome(MPI_Comm comm, const struct s3dlio_rank_stats *rs,
                        struct s3dlio_stage_result *res)
{
    uint64_t mine[3] = {rs->objects, rs->failures, rs->interrupted}, all[3] = {0, 0, 0};
    MPI_Allreduce(mine, all, 3, MPI_UINT64_T, MPI_SUM, comm);
    res->objects = all[0];
    res->failures = all[1];
    res->interrupted = all[2] > 0;
}

enum s3dlio_rc s3dlio_coord_outcome(MPI_Comm comm, enum s3dlio_rc rc, enum s3dlio_rc run_rc,
                                    const struct s3dlio_stage_result *res,
                                    struct s3dlio_error *local, const struct s3dlio_error *run_err)
{
    rc = s3dlio_coord_agree(comm, rc, local);
    if (res->interrupted)
        return rc ? rc : S3DLIO_E_ABORTED;
    /* a loop failure without failed objects (the event loop itself broke, or --steal left
     * chunks nobody had room for) is agreed too; every rank calls the agreement */
    struct s3dlio_error loop_err = *run_err;
    enum s3dlio_rc loop_rc =
        s3dlio_coord_agree(comm, !rc && !res->failures ? run_rc : S3DLIO_OK, &loop_err);
    /* the kind of the failures, whichever rank had them (a checksum is not a network error),
     * so that every rank returns the same */
    int mine = (int)run_rc, worst = 0;
    MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, comm);
    if (!rc && res->failures)
        rc = worst ? (enum s3dlio_rc)worst : S3DLIO_E_S3;
    if (!rc && loop_rc) {
        rc = loop_rc;
        *local = loop_err;
    }
    return rc;
}
