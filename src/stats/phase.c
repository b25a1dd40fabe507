/* SPDX-License-Identifier: Apache-2.0 */
/* Phase names: the files of a profile are named after them (<name>.folded, <name>.svg). */
#include "s3dlio/profile.h"

const char *s3dlio_phase_name(enum s3dlio_phase p)
{
    static const char *const names[S3DLIO_PHASE_COUNT] = {
        [S3DLIO_PHASE_SETUP] = "setup",
        [S3DLIO_PHASE_LIST] = "list",
        [S3DLIO_PHASE_PARTITION] = "partition",
        [S3DLIO_PHASE_UPLOAD] = "upload",
        [S3DLIO_PHASE_DOWNLOAD] = "download",
        [S3DLIO_PHASE_H5_WRITE] = "h5_write",
        [S3DLIO_PHASE_CKPT_SAVE] = "checkpoint_save",
        [S3DLIO_PHASE_CKPT_RESTORE] = "checkpoint_restore",
        [S3DLIO_PHASE_DELETE] = "delete",
        [S3DLIO_PHASE_REPORT] = "report",
        [S3DLIO_PHASE_SELFTEST] = "selftest",
    };
    return (unsigned)p < S3DLIO_PHASE_COUNT ? names[p] : "unknown";
}
