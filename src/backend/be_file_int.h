/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the file:// backend's files (be_file.c, be_file_list.c). */
#ifndef S3DLIO_BACKEND_BE_FILE_INT_H
#define S3DLIO_BACKEND_BE_FILE_INT_H

#include <stdbool.h>
#include <sys/stat.h>
#include "s3dlio/backend.h"

/* a + b + c in a new heap string. */
char *s3dlio_file_concat3(const char *a, const char *b, const char *c);
/* The file behind a key: keys are paths relative to the root '/' (heap). */
char *s3dlio_file_key_path(const char *key);
/* errno values that mean "no such object". */
bool s3dlio_file_missing(int e);
/* Fill err naming the key as users write it, file:///<key>. Returns rc. */
enum s3dlio_rc s3dlio_file_fail(struct s3dlio_error *err, enum s3dlio_rc rc, const char *op,
                                const char *key, int sys_errno, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
enum s3dlio_rc s3dlio_file_fail_errno(struct s3dlio_error *err, enum s3dlio_rc rc, const char *op,
                                      const char *key, int e);
/* The ETag of a file: inode, modification time and size (changes when the file does). */
void s3dlio_file_etag(const struct stat *st, char out[80]);

/* Where a paged listing stands; kept between pages so a long listing is not quadratic. */
struct s3dlio_file_cursor;
/* One ListObjectsV2 page; *cache holds the cursor of the last truncated page (or NULL). */
enum s3dlio_rc s3dlio_file_list(struct s3dlio_file_cursor **cache, const struct s3dlio_list_req *req,
                                struct s3dlio_list_page *page, struct s3dlio_error *err);
void s3dlio_file_cursor_free(struct s3dlio_file_cursor *cur);

#endif
