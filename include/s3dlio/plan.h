/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plans: the job lists of the recursive commands, built from a listing (get, put of a
 * directory) or from the generator's parameters (put --generate). Pure functions of their
 * inputs, so they are unit-tested and shared by the single-process and MPI commands.
 */
#ifndef S3DLIO_PLAN_H
#define S3DLIO_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "s3dlio/backend.h"
#include "s3dlio/xfer.h"

/* A job list and the strings its jobs point to. */
struct s3dlio_plan {
    struct s3dlio_xfer_job *jobs;
    size_t n;
    char **strings;     /* keys and paths owned by the plan */
    size_t nstrings, strings_alloc;
    size_t alloc;
};

void s3dlio_plan_release(struct s3dlio_plan *plan);

/*
 * The path under a destination directory for `key` listed under `prefix`: the key with the
 * prefix's directory part removed. NULL when the key would escape the directory (absolute,
 * "..", empty segments at the end) - such keys are refused, never written outside DEST.
 * Caller frees.
 */
char *s3dlio_plan_dest_path(const char *dest_dir, const char *prefix, const char *key);

/*
 * GET every listed object: into dest_dir (NULL: discard; gen non-NULL: verify against the
 * generator and discard). Objects whose key cannot be a safe path fail at once with err
 * set in their job (rc S3DLIO_E_USAGE) and are counted in *unsafe.
 */
void s3dlio_plan_get(struct s3dlio_plan *plan, const struct s3dlio_objlist *list, const char *prefix,
                     const char *dest_dir, const struct s3dlio_gen *gen, size_t *unsafe);

/* PUT every file of a local listing (keys relative to local_root) under key prefix. */
void s3dlio_plan_put_files(struct s3dlio_plan *plan, const struct s3dlio_objlist *files,
                           const char *local_root, const char *prefix);

/* PUT `count` generated objects "<prefix>obj-<index>.bin", sizes uniform in [min, max]. */
void s3dlio_plan_generate(struct s3dlio_plan *plan, const struct s3dlio_gen *gen, uint64_t first,
                          uint64_t count, uint64_t min_size, uint64_t max_size, const char *prefix);

/* PUT generated objects of the given keys and sizes (a shard of a generated dataset). */
void s3dlio_plan_put_generated(struct s3dlio_plan *plan, const struct s3dlio_objlist *objects,
                               const struct s3dlio_gen *gen);

#endif
