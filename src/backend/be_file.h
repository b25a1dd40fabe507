/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Directory helpers of the file:// backend. The file backend has no buckets (its bucket
 * ops are NULL), so the CLI's `mb file:///dir` and `rb file:///dir` call these instead.
 * Keys are paths relative to '/', as everywhere in the file backend: "data/x" is /data/x.
 */
#ifndef S3DLIO_BACKEND_BE_FILE_H
#define S3DLIO_BACKEND_BE_FILE_H

#include "s3dlio/error.h"

/*
 * Create the directory /<key> and any missing parents (mkdir -p). An existing directory
 * is success. A component that exists but is not a directory fails with S3DLIO_E_IO,
 * message "not a directory", target naming that component; other failures are
 * S3DLIO_E_IO with errno and strerror. op is "mkdir".
 */
enum s3dlio_rc s3dlio_file_mkdir(const char *key, struct s3dlio_error *err);

/*
 * Remove the empty directory /<key> (rmdir; never recursive). Missing: S3DLIO_E_NOT_FOUND;
 * not empty or not a directory: S3DLIO_E_IO naming the path. op is "rmdir".
 */
enum s3dlio_rc s3dlio_file_rmdir(const char *key, struct s3dlio_error *err);

#endif
