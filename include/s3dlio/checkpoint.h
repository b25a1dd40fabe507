/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checkpoints through S3: save a file or a directory of files from every rank of a job, and
 * restore it on any number of ranks.
 *
 * Under s3://bucket/prefix/ a checkpoint NAME is
 *   NAME/files/<path>     one plain object per file (any S3 tool can fetch it); a large file
 *                         goes as ONE multipart upload whose parts all ranks send
 *   NAME/manifest.json    written after every object is complete (see manifest.h)
 * and prefix/latest holds the name of the newest complete checkpoint, written after its
 * manifest. A save that dies midway has no manifest: it shows as incomplete and never
 * becomes latest. A restore pins every GET to the manifest's ETags and checks each part's
 * CRC-32C before anything is published under its final name.
 */
#ifndef S3DLIO_CHECKPOINT_H
#define S3DLIO_CHECKPOINT_H

#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>
#include "s3dlio/config.h"
#include "s3dlio/coord.h"
#include "s3dlio/manifest.h"

/* "latest" names the pointer, so no checkpoint may be called that. */
#define S3DLIO_CKPT_LATEST "latest"
#define S3DLIO_CKPT_NAME_MAX 200

/*
 * Is name usable as a checkpoint name (a single path segment of printable characters, not
 * "." or "..", not "latest", under S3DLIO_CKPT_NAME_MAX bytes)? NULL when it is, else why not.
 */
const char *s3dlio_ckpt_name_problem(const char *name);

struct s3dlio_ckpt_save_opts {
    const char *src;          /* a regular file or a directory, absolute, the same on every
                                 rank (a shared file system) */
    const char *uri;          /* s3://bucket/prefix/ holding the checkpoints */
    const char *name;
    bool follow_symlinks;     /* a directory SRC: enter symbolic links to directories */
    int keep_last;            /* > 0: afterwards keep only this many complete checkpoints */
    struct s3dlio_stage_opts run; /* report, run id, progress and engine options (its kind,
                                     uri and destination fields are set by the save) */
};

/*
 * Save opts->src as checkpoint opts->name. Collective. Rank 0 lists SRC, creates one
 * multipart upload per large file and broadcasts the table; each rank uploads its byte
 * ranges (parts) and its share of the small files; rank 0 completes the uploads, writes the
 * manifest and then the latest pointer. On any failure the uploads are aborted and no
 * manifest is written. An existing complete checkpoint of that name is never overwritten.
 * res and the report are as for s3dlio_coord_stage (objects are files and file parts).
 */
enum s3dlio_rc s3dlio_ckpt_save(MPI_Comm comm, const struct s3dlio_config *cfg,
                                const struct s3dlio_ckpt_save_opts *opts, FILE *out,
                                struct s3dlio_stage_result *res, struct s3dlio_error *err);

/* Where a restore puts the files. */
enum s3dlio_ckpt_dest { S3DLIO_CKPT_TO_DIR, S3DLIO_CKPT_TO_MEM };

struct s3dlio_ckpt_restore_opts {
    const char *uri;          /* s3://bucket/prefix/ */
    const char *name;         /* NULL or "latest": the latest pointer */
    enum s3dlio_ckpt_dest dest;
    const char *dest_path;    /* TO_DIR: the directory (created); files replace files there
                                 only when the whole checkpoint arrived and checked */
    struct s3dlio_stage_opts run;
};

/* One range of one file a rank holds after a restore to memory. */
struct s3dlio_ckpt_range {
    size_t file;              /* index into the manifest's files */
    uint64_t offset, len;     /* bytes of that file */
    unsigned char *data;
};

/* What a rank holds after a restore: the manifest, and with TO_MEM its ranges. */
struct s3dlio_ckpt_restored {
    struct s3dlio_ckpt_manifest manifest;
    struct s3dlio_ckpt_range *ranges; /* in file, then offset order */
    size_t nranges;
    unsigned char *block;     /* holds every range's data */
};
void s3dlio_ckpt_restored_release(struct s3dlio_ckpt_restored *r);

/*
 * Restore a checkpoint onto the ranks of comm, however many saved it: rank 0 reads the
 * manifest and broadcasts it, the parts are partitioned over the current ranks by bytes,
 * each rank GETs its parts pinned to the manifest's ETags and checks their CRC-32C. TO_DIR
 * writes each file at its final offsets into a temporary file beside it, renamed into place
 * after every rank agreed; an HDF5 file is opened read-only once before that. Collective.
 */
enum s3dlio_rc s3dlio_ckpt_restore(MPI_Comm comm, const struct s3dlio_config *cfg,
                                   const struct s3dlio_ckpt_restore_opts *opts, FILE *out,
                                   struct s3dlio_stage_result *res,
                                   struct s3dlio_ckpt_restored *got, struct s3dlio_error *err);

/* One checkpoint under a prefix, as `checkpoint list` shows it. */
struct s3dlio_ckpt_info {
    char name[S3DLIO_CKPT_NAME_MAX + 1];
    bool complete;            /* its manifest is there */
    bool latest;              /* the latest pointer names it */
    uint64_t bytes;           /* complete: the files' bytes; incomplete: what is stored */
    uint64_t files;           /* complete: from the manifest; incomplete: objects stored */
    char created[32];         /* complete: from the manifest; else "" */
    int world_size;           /* ranks that saved it (complete only) */
};

/* Every checkpoint under uri, sorted by name; *latest_name gets the pointer ("" none). */
enum s3dlio_rc s3dlio_ckpt_list(const struct s3dlio_config *cfg, const char *uri,
                                struct s3dlio_ckpt_info **out, size_t *n,
                                char latest_name[S3DLIO_CKPT_NAME_MAX + 1],
                                struct s3dlio_error *err);

/* Delete checkpoint name (its files and manifest). The latest one is refused. */
enum s3dlio_rc s3dlio_ckpt_delete(const struct s3dlio_config *cfg, const char *uri,
                                  const char *name, struct s3dlio_error *err);

/*
 * Keep the `keep` newest complete checkpoints (by their manifest's time, then name) and
 * the latest one; delete the other complete ones. Incomplete ones are left alone (a save
 * may be running). *deleted counts what went.
 */
enum s3dlio_rc s3dlio_ckpt_prune(const struct s3dlio_config *cfg, const char *uri, int keep,
                                 size_t *deleted, struct s3dlio_error *err);

#endif
