/* SPDX-License-Identifier: Apache-2.0 */
/* `stage --to h5:PATH`: the writer (h5_writer.h) set up from stage's table and jobs. */
#ifndef S3DLIO_H5_STAGE_H
#define S3DLIO_H5_STAGE_H

#include "coord/coord_int.h"
#include "h5/h5_writer.h"

/*
 * Open the writer for the table (PATH is o->dest_path; the temporary file is named after
 * run_id) and point this rank's jobs at it: every job becomes a SINK job writing its
 * object's place in /data (with --steal every rank has every job; offsets are fixed per row
 * whoever fetches it). Collective, agreed. The spec lives in *spec, which must outlive the
 * writer; *out is finished with s3dlio_h5_writer_finish.
 */
enum s3dlio_rc s3dlio_h5_stage_open(MPI_Comm comm, const struct s3dlio_stage_opts *o,
                                    const struct s3dlio_table *t, const char *run_id,
                                    struct s3dlio_rank_work *w, struct s3dlio_h5_spec *spec,
                                    struct s3dlio_h5_writer **out, struct s3dlio_error *err);

#endif
