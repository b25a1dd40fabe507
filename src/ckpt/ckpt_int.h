/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the checkpoint commands: where a checkpoint's objects live under its prefix,
 * and the few small requests made outside the transfer engine (manifest, latest pointer,
 * multipart upload control), each retried like the engine's.
 */
#ifndef S3DLIO_CKPT_INT_H
#define S3DLIO_CKPT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <mpi.h>
#include <stdio.h>
#include "s3dlio/backend.h"
#include "s3dlio/checkpoint.h"
#include "s3dlio/uri.h"

/* The prefix holding the checkpoints: bucket and key prefix ("" or ending in '/'). */
struct ckpt_place {
    struct s3dlio_uri uri;
    char *prefix;
    char text[1200];          /* the URI as given, for messages */
};

enum s3dlio_rc ckpt_place_parse(const char *uri, const char *op, struct ckpt_place *p,
                                struct s3dlio_error *err);
void ckpt_place_release(struct ckpt_place *p);

/* Keys (heap): prefix + name + "/" + rest, and the latest pointer. */
char *ckpt_key(const struct ckpt_place *p, const char *name, const char *rest);
char *ckpt_latest_key(const struct ckpt_place *p);
/* "s3://bucket/prefix/name/" for messages and reports. */
void ckpt_uri_of(const struct ckpt_place *p, const char *name, char *out, size_t outlen);

/* Refuse a bad checkpoint name with a usage error naming it and why. */
enum s3dlio_rc ckpt_check_name(const char *name, const char *op, struct s3dlio_error *err);

/* A small object read whole into memory (heap, NUL-terminated), at most max bytes. */
enum s3dlio_rc ckpt_get_small(struct s3dlio_backend *be, const char *key, size_t max, char **data,
                              size_t *len, struct s3dlio_error *err);
enum s3dlio_rc ckpt_put_small(struct s3dlio_backend *be, const char *key, const void *data,
                              size_t len, struct s3dlio_error *err);

/* Multipart upload control for the distributed uploads (rank 0). */
enum s3dlio_rc ckpt_mpu_create(struct s3dlio_backend *be, const char *key, uint64_t part_size,
                               char **upload_id, struct s3dlio_error *err);
enum s3dlio_rc ckpt_mpu_complete(struct s3dlio_backend *be, const char *key, const char *upload_id,
                                 const struct s3dlio_part *parts, size_t n, uint64_t size,
                                 char etag[80], struct s3dlio_error *err);
/* The ETag of an object just written, when its answer did not carry one (RGW's Complete). */
enum s3dlio_rc ckpt_head_etag(struct s3dlio_backend *be, const char *key, uint64_t size,
                              char etag[80], struct s3dlio_error *err);
void ckpt_mpu_abort(struct s3dlio_backend *be, const char *key, const char *upload_id);

/* The latest pointer's name into name ("" when there is none). */
enum s3dlio_rc ckpt_read_latest(struct s3dlio_backend *be, const struct ckpt_place *p,
                                char name[S3DLIO_CKPT_NAME_MAX + 1], struct s3dlio_error *err);

/*
 * The manifest text of checkpoint name. A missing manifest is S3DLIO_E_NOT_FOUND with a
 * message saying whether the checkpoint is incomplete (objects without a manifest) or absent.
 */
enum s3dlio_rc ckpt_fetch_manifest(struct s3dlio_backend *be, const struct ckpt_place *p,
                                   const char *name, char **text, size_t *len,
                                   struct s3dlio_error *err);

/* Every object under name/, appended to out. */
enum s3dlio_rc ckpt_list_objects(struct s3dlio_backend *be, const struct ckpt_place *p,
                                 const char *name, struct s3dlio_objlist *out,
                                 struct s3dlio_error *err);

/* ---- ckpt_run.c ---- */

struct s3dlio_rank_work;

/* What the report says the job moved, from where to where. */
struct ckpt_identity {
    const char *command;      /* "checkpoint save" */
    char source[512], destination[512];
    uint64_t listed;          /* transfers over all ranks */
    uint64_t total_bytes;     /* for the progress display */
};

/*
 * Run this rank's planned transfers (w->plan) and report on them as stage does: run id,
 * report opened before anything moves, timing from a common barrier, statistics and failed
 * keys gathered to rank 0, table to out and JSON. Collective. Returns S3DLIO_OK on every
 * rank when every transfer succeeded, S3DLIO_E_ABORTED when interrupted, else the failure.
 */
enum s3dlio_rc ckpt_run_and_report(MPI_Comm comm, const struct s3dlio_config *cfg,
                                   const struct s3dlio_stage_opts *o, const struct s3dlio_uri *uri,
                                   struct s3dlio_rank_work *w, const struct ckpt_identity *id,
                                   FILE *out, struct s3dlio_stage_result *res,
                                   struct s3dlio_error *err);

/*
 * Which rank moves each of n units of the given sizes, in their order: contiguous runs of
 * about equal bytes (stage's --partition contiguous), so a rank's share of a file is one range.
 */
void ckpt_assign(const uint64_t *bytes, size_t n, int nranks, int *owner);

#define CKPT_MANIFEST_MAX (256u << 20) /* 10,000 parts of 10^5 files fit well within it */

#endif
