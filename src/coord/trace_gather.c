/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A collective job's request trace: the ranks' clocks put on rank 0's, every rank's recorder
 * gathered to rank 0 and written there as one Chrome trace file (--trace PATH).
 *
 * Why measure offsets rather than trust the clocks: CLOCK_MONOTONIC counts from each node's
 * boot, so two nodes' readings differ by hours; MPI_Wtime is no better unless the library
 * says MPI_WTIME_IS_GLOBAL, which few do. Requests last milliseconds, so an offset good to a
 * round trip (microseconds on a cluster network) lines them up well enough to read.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "coord/coord_int.h"
#include "coord/trace_int.h"
#include "util/alloc.h"
#include "util/log.h"

#define CLOCK_ROUNDS 8  /* round trips per rank; the fastest is kept */
#define CLOCK_TAG    7411

/* ---- clocks ------------------------------------------------------------------------------- */

/* Rank 0's side with rank r: the offset of the fastest of CLOCK_ROUNDS round trips. */
static void ping(MPI_Comm comm, int r, int64_t *offset, uint64_t *error)
{
    uint64_t best = UINT64_MAX;
    for (int k = 0; k < CLOCK_ROUNDS; k++) {
        uint64_t theirs = 0, t0 = s3dlio_trace_now_ns();
        MPI_Send(NULL, 0, MPI_BYTE, r, CLOCK_TAG, comm);
        MPI_Recv(&theirs, 1, MPI_UINT64_T, r, CLOCK_TAG, comm, MPI_STATUS_IGNORE);
        uint64_t t1 = s3dlio_trace_now_ns();
        if (t1 - t0 >= best)
            continue;
        /* their reading was taken about halfway through the round trip */
        best = t1 - t0;
        *offset = (int64_t)(t0 + best / 2) - (int64_t)theirs;
        *error = (best + 1) / 2;
    }
}

void s3dlio_coord_clock_offset(MPI_Comm comm, int64_t *offset_ns, uint64_t *error_ns)
{
    int rank, nranks;
    MPI_Comm own; /* a communicator of its own: no message of the caller's can match ours */
    MPI_Comm_dup(comm, &own);
    MPI_Comm_rank(own, &rank);
    MPI_Comm_size(own, &nranks);
    int64_t *offs = NULL;
    uint64_t *errs = NULL, error = 0;
    if (rank == 0) {
        offs = s3dlio_xcalloc((size_t)nranks, sizeof(*offs));
        errs = s3dlio_xcalloc((size_t)nranks, sizeof(*errs));
        for (int r = 1; r < nranks; r++)
            ping(own, r, &offs[r], &errs[r]);
    } else {
        for (int k = 0; k < CLOCK_ROUNDS; k++) {
            MPI_Recv(NULL, 0, MPI_BYTE, 0, CLOCK_TAG, own, MPI_STATUS_IGNORE);
            uint64_t now = s3dlio_trace_now_ns();
            MPI_Send(&now, 1, MPI_UINT64_T, 0, CLOCK_TAG, own);
        }
    }
    MPI_Scatter(offs, 1, MPI_INT64_T, offset_ns, 1, MPI_INT64_T, 0, own);
    MPI_Scatter(errs, 1, MPI_UINT64_T, &error, 1, MPI_UINT64_T, 0, own);
    if (error_ns)
        *error_ns = error;
    free(offs);
    free(errs);
    MPI_Comm_free(&own);
}

/* ---- the file ----------------------------------------------------------------------------- */

/*
 * Rank 0: the trace's temporary file beside PATH, before any transfer, so that a bad PATH
 * stops the job before it moves a byte and a job that dies leaves no half-written trace.
 * Unlike the report's default place, PATH is the user's own: its directory is not made up.
 */
static enum s3dlio_rc open_trace(const struct s3dlio_stage_opts *o, struct s3dlio_coord_trace *tr,
                                 struct s3dlio_error *err)
{
    const char *path = o->trace_path, *op = o->command ? o->command : "stage";
    const char *slash = strrchr(path, '/');
    char dir[4096];
    struct stat st;
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    /* an existing directory would be found only at the rename, after the transfer */
    if (!stat(path, &st) && S_ISDIR(st.st_mode))
        return s3dlio_error_set(err, S3DLIO_E_IO, op, path, "is a directory: the trace "
                                "(--trace) needs a file name");
    if (stat(dir, &st))
        return s3dlio_error_set(err, S3DLIO_E_IO, op, path, "no directory '%s' for the trace "
                                "(--trace): %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return s3dlio_error_set(err, S3DLIO_E_IO, op, path, "'%s' is not a directory, so the "
                                "trace (--trace) cannot go there", dir);
    tr->file = (struct s3dlio_atomic_file)S3DLIO_ATOMIC_FILE_INIT;
    enum s3dlio_rc rc = s3dlio_atomic_open_or_device(
        &tr->file, path, slash ? (size_t)(slash - path) + 1 : 0, op, err);
    if (rc && err)
        snprintf(err->message + strlen(err->message), sizeof(err->message) - strlen(err->message),
                 " (the trace; see --trace)");
    tr->file_open = !rc;
    return rc;
}

enum s3dlio_rc s3dlio_coord_trace_begin(MPI_Comm comm, const struct s3dlio_stage_opts *o,
                                        struct s3dlio_coord_trace *tr, struct s3dlio_error *err)
{
    if (!o->trace_path || tr->t)
        return S3DLIO_OK;
    int rank;
    MPI_Comm_rank(comm, &rank);
    enum s3dlio_rc rc = rank == 0 ? open_trace(o, tr, err) : S3DLIO_OK;
    if ((rc = s3dlio_coord_agree(comm, rc, err))) {
        s3dlio_coord_trace_release(tr);
        return rc;
    }
    int64_t offset = 0;
    uint64_t error = 0;
    char host[64] = "";
    s3dlio_coord_clock_offset(comm, &offset, &error);
    gethostname(host, sizeof(host) - 1);
    tr->t = s3dlio_trace_new(0, 0);
    s3dlio_trace_set_rank(tr->t, rank, host, offset, error);
    return S3DLIO_OK;
}

/* Rank 0: every rank's packed recorder (all, lens, displs) as JSON into the file, published. */
static enum s3dlio_rc write_trace(struct s3dlio_coord_trace *tr, const char *all, const int *lens,
                                  const int *displs, int nranks, const char *op,
                                  struct s3dlio_error *err)
{
    struct s3dlio_trace **ranks = s3dlio_xcalloc((size_t)nranks, sizeof(*ranks));
    struct s3dlio_trace_info info = {.command = op, .run_id = tr->run_id};
    struct s3dlio_error e = {0};
    enum s3dlio_rc rc = S3DLIO_OK;
    size_t n = 0;
    for (int r = 0; r < nranks && !rc; r++)
        rc = s3dlio_trace_unpack(all + displs[r], (size_t)lens[r], &ranks[n++], &e);
    int fd = rc ? -1 : dup(tr->file.fd);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!rc && !fp)
        rc = s3dlio_error_sys(&e, op, NULL, errno, "writing the trace failed");
    if (!rc)
        rc = s3dlio_trace_write_json(ranks, n, &info, fp, &e);
    if (fp && fclose(fp) && !rc)
        rc = s3dlio_error_sys(&e, op, NULL, errno, "writing the trace failed");
    else if (!fp && fd >= 0)
        close(fd);
    for (size_t i = 0; i < n; i++)
        s3dlio_trace_free(ranks[i]);
    free(ranks);
    if (rc) /* the message names the file, whatever step failed */
        return s3dlio_error_set(err, rc, op, tr->file.path, "%s (the trace; see --trace)",
                                e.message);
    tr->file_open = false;
    return s3dlio_atomic_commit(&tr->file, false, op, err);
}

enum s3dlio_rc s3dlio_coord_trace_end(MPI_Comm comm, struct s3dlio_coord_trace *tr,
                                      const char *command, struct s3dlio_error *err)
{
    if (!tr->t)
        return S3DLIO_OK;
    int rank, nranks, *lens = NULL, *displs = NULL;
    const char *op = command ? command : "stage";
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    void *mine = NULL;
    size_t len = 0, total = 0;
    /* each rank's share keeps rank 0's int counts and displacements from overflowing */
    enum s3dlio_rc rc =
        s3dlio_trace_pack(tr->t, (size_t)INT_MAX / (size_t)nranks, &mine, &len, err);
    /* known to all before rank 0 writes: a file that lacks a rank is never published */
    int bad = rc != S3DLIO_OK, any_bad = 0;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, comm);
    if (any_bad) {
        s3dlio_coord_trace_release(tr);
        return rc;
    }
    char *all = s3dlio_coord_gather_bytes(comm, mine, (int)len, &total, &lens, &displs);
    if (rank == 0)
        rc = write_trace(tr, all, lens, displs, nranks, op, err);
    free(mine);
    free(all);
    free(lens);
    free(displs);
    s3dlio_coord_trace_release(tr);
    return rc;
}

void s3dlio_coord_trace_release(struct s3dlio_coord_trace *tr)
{
    if (tr->file_open)
        s3dlio_atomic_discard(&tr->file);
    tr->file_open = false;
    s3dlio_trace_free(tr->t);
    tr->t = NULL;
}
