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

/* What planning a GET left out or refused. */
struct s3dlio_plan_counts {
    size_t markers;   /* keys ending in '/' (folder markers of consoles and Hadoop): skipped */
    size_t unsafe;    /* keys that cannot be a safe file name: refused (failed jobs) */
    size_t conflicts; /* keys that are also a prefix of other keys: refused (failed jobs) */
    size_t skipped;   /* put --recursive: local entries that are not regular files, left out */
};

/*
 * Mark, for each object of list (any order), whether another key has it as a directory
 * ("a/b" when "a/b/c" exists): such a key cannot be a file under a destination directory.
 * conflict has list->n entries.
 */
void s3dlio_plan_dir_conflicts(const struct s3dlio_objlist *list, bool *conflict);

/*
 * GET every listed object: into dest_dir (NULL: discard; gen non-NULL: verify against the
 * generator and discard). Each job is pinned to the ETag listed. Keys ending in '/' are
 * folder markers and get no job. With a dest_dir, keys that cannot be a safe path, or that
 * another key uses as a directory, fail at once with err set in their job (rc
 * S3DLIO_E_USAGE). conflict (NULL: computed over list) marks the latter, for callers that
 * hold only part of a listing. counts may be NULL.
 */
void s3dlio_plan_get(struct s3dlio_plan *plan, const struct s3dlio_objlist *list, const char *prefix,
                     const char *dest_dir, const struct s3dlio_gen *gen, const bool *conflict,
                     struct s3dlio_plan_counts *counts);

/* PUT every file of a local listing (keys relative to local_root) under key prefix. */
void s3dlio_plan_put_files(struct s3dlio_plan *plan, const struct s3dlio_objlist *files,
                           const char *local_root, const char *prefix);

/*
 * Server-side COPY of every listed object (keys relative to src_root) from bucket
 * src_bucket to the same relative key under dst_root, pinned to the ETag listed.
 */
void s3dlio_plan_copy(struct s3dlio_plan *plan, const struct s3dlio_objlist *list,
                      const char *src_bucket, const char *src_root, const char *dst_root);

/* PUT `count` generated objects "<prefix>obj-<index>.bin", sizes uniform in [min, max]. */
void s3dlio_plan_generate(struct s3dlio_plan *plan, const struct s3dlio_gen *gen, uint64_t first,
                          uint64_t count, uint64_t min_size, uint64_t max_size, const char *prefix);

/* PUT generated objects of the given keys and sizes (a shard of a generated dataset). */
void s3dlio_plan_put_generated(struct s3dlio_plan *plan, const struct s3dlio_objlist *objects,
                               const struct s3dlio_gen *gen);

#endif
