/* SPDX-License-Identifier: Apache-2.0 */
/* A checkpoint's transfers run and reported the way stage runs and reports a shard. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ckpt/ckpt_int.h"
#include "coord/coord_int.h"
#include "s3dlio/partition.h"
#include "util/alloc.h"

void ckpt_assign(const uint64_t *bytes, size_t n, int nranks, int *owner)
{
    size_t *order = s3dlio_xcalloc(n ? n : 1, sizeof(*order));
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    s3dlio_partition(S3DLIO_PART_CONTIGUOUS, bytes, order, n, nranks, owner, NULL);
    free(order);
}

enum s3dlio_rc ckpt_run_and_report(MPI_Comm comm, const struct s3dlio_config *cfg,
                                   const struct s3dlio_stage_opts *o, const struct s3dlio_uri *uri,
                                   struct s3dlio_rank_work *w, const struct ckpt_identity *id,
                                   FILE *out, struct s3dlio_stage_result *res,
                                   struct s3dlio_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    struct s3dlio_report report = {0};
    struct s3dlio_atomic_file rfile = S3DLIO_ATOMIC_FILE_INIT;
    struct s3dlio_rank_stats *rs = s3dlio_xcalloc(1, sizeof(*rs));
    struct s3dlio_error local = {0}, run_err = {0};
    struct s3dlio_observe obs = {0};
    res->listed = id->listed;
    enum s3dlio_rc rc = s3dlio_coord_agree(comm, s3dlio_coord_check_run_id(o, &local), &local);
    if (!rc)
        rc = s3dlio_observe_begin(comm, o, &obs, &local);
    if (rc)
        goto out;
    obs.transfer = o->kind == S3DLIO_JOB_GET ? S3DLIO_PHASE_CKPT_RESTORE : S3DLIO_PHASE_CKPT_SAVE;
    w->obs = &obs;
    obs.trace = &w->trace;
    s3dlio_coord_make_run_id(comm, o, report.run_id);
    snprintf(w->trace.run_id, sizeof(w->trace.run_id), "%s", report.run_id); /* --trace names it */
    if (rank == 0)
        rc = s3dlio_coord_open_report(o, report.run_id, &rfile, res->report_file,
                                      sizeof(res->report_file), &local);
    if ((rc = s3dlio_coord_agree(comm, rc, &local)))
        goto out;
    if ((rc = s3dlio_coord_trace_begin(comm, o, &w->trace, &local))) /* --trace */
        goto out;
    rs->rank = rank;
    gethostname(rs->host, sizeof(rs->host) - 1);
    rs->concurrency = o->kind == S3DLIO_JOB_GET ? o->xfer.get_concurrency : o->xfer.put_concurrency;
    enum s3dlio_rc run_rc =
        s3dlio_coord_run_shard(comm, cfg, o, uri, w, rs, id->total_bytes, &run_err);
    rs->peak_rss_kib = s3dlio_peak_rss_kib();
    rc = s3dlio_coord_gather_job(comm, o, &obs, rs, w, &rfile, res, &report, &local);
    if (rank == 0) {
        snprintf(report.command, sizeof(report.command), "%s", id->command);
        snprintf(report.source, sizeof(report.source), "%s", id->source);
        snprintf(report.destination, sizeof(report.destination), "%s", id->destination);
        snprintf(report.partition, sizeof(report.partition), "bytes");
        report.listed = id->listed;
        s3dlio_report_build(&report);
        if (out)
            s3dlio_report_print_table(&report, out);
        if (!rc)
            rc = s3dlio_coord_write_report(&report, &rfile, id->command, &local);
    }
    rc = s3dlio_coord_outcome(comm, rc, run_rc, res, &local, &run_err);
    if (rc && rc != S3DLIO_E_ABORTED && res->failures && report.nfailed)
        /* rank 0: the first failure, so the caller can say it in one line */
        s3dlio_error_set(&local, rc, id->command, "",
                         "%" PRIu64 " of %" PRIu64 " transfers failed; first: %s", res->failures,
                         id->listed, report.failed[0].error);
out:
    w->obs = NULL;
    s3dlio_observe_release(&obs);
    s3dlio_atomic_discard(&rfile);
    s3dlio_coord_trace_release(&w->trace); /* ended by run_shard unless the job stopped before */
    if (rc && err)
        *err = local;
    free(report.ranks);
    s3dlio_failed_keys_free(report.failed, report.nfailed);
    free(rs);
    return rc;
}
