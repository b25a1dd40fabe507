/* SPDX-License-Identifier: Apache-2.0 */
/* `stage --to h5:PATH`: the writer set up from stage's table, its jobs pointed at it. */
#include "h5/h5_stage.h"

#include <string.h>

/* Job j of this rank is table row i: the jobs were built in table order, one per row this
 * rank owns (or every row with --steal). Returns false if they do not line up. */
static bool attach(struct s3dlio_h5_writer *hw, const struct s3dlio_table *t, bool steal, int rank,
                   struct s3dlio_rank_work *w)
{
    size_t j = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!steal && t->owner[i] != rank)
            continue;
        if (j == w->plan.n || strcmp(w->plan.jobs[j].key, t->keys[i]))
            return false;
        struct s3dlio_xfer_job *job = &w->plan.jobs[j++];
        job->local = S3DLIO_LOCAL_SINK;
        job->sink = &s3dlio_h5_sink;
        job->sink_ud = s3dlio_h5_writer_ud(hw, i);
    }
    return j == w->plan.n;
}

enum s3dlio_rc s3dlio_h5_stage_open(MPI_Comm comm, const struct s3dlio_stage_opts *o,
                                    const struct s3dlio_table *t, const char *run_id,
                                    struct s3dlio_rank_work *w, struct s3dlio_h5_spec *spec,
                                    struct s3dlio_h5_writer **out, struct s3dlio_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    *spec = (struct s3dlio_h5_spec){
        .path = o->dest_path,
        .tmp_tag = run_id,
        .source = o->uri,
        .n = t->n,
        .keys = t->keys,
        .sizes = t->sizes,
        .etag_follows_key = true, /* as the table packs them */
        .owner = t->owner,
        /* one buffer per request in flight: each is one stream of contiguous bytes */
        .nslots = o->xfer.get_concurrency > 0 ? (size_t)o->xfer.get_concurrency : 1,
    };
    enum s3dlio_rc rc = s3dlio_h5_writer_open(comm, spec, out, err);
    if (rc)
        return rc;
    if (!attach(*out, t, o->steal, rank, w))
        rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "stage", o->dest_path,
                              "the jobs of rank %d do not match the table", rank);
    rc = s3dlio_coord_agree(comm, rc, err);
    if (rc) {
        s3dlio_h5_writer_finish(comm, *out, rc, NULL);
        *out = NULL;
    }
    return rc;
}
