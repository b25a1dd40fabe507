/* SPDX-License-Identifier: Apache-2.0 */
/* A job's failure, kept out of line: only failed objects carry an error. */
#include <stdlib.h>
#include "s3dlio/xfer.h"
#include "util/alloc.h"

void s3dlio_xfer_job_fail(struct s3dlio_xfer_job *job, const struct s3dlio_error *err)
{
    if (!job->err)
        job->err = s3dlio_xmalloc(sizeof(*job->err));
    if (job->err != err)
        *job->err = *err;
    job->rc = err->rc ? err->rc : S3DLIO_E_INTERNAL;
}

void s3dlio_xfer_jobs_release(struct s3dlio_xfer_job *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(jobs[i].err);
        jobs[i].err = NULL;
    }
}
