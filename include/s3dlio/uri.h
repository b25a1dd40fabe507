/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of the URIs users give: s3://bucket/key-or-prefix and file:///path. */
#ifndef S3DLIO_URI_H
#define S3DLIO_URI_H

#include <stdbool.h>
#include "s3dlio/error.h"

/*
 * A parsed URI. For s3, `bucket` is the bucket and `key` the rest after the first '/'
 * (may be empty). For file, `bucket` is empty and `key` is the absolute path without its
 * leading '/', so "file:///data/x" has key "data/x": the file backend is an object store
 * rooted at '/', and keys are paths relative to it.
 */
struct s3dlio_uri {
    char scheme[8];    /* "s3" or "file" */
    char bucket[64];   /* S3 bucket names are at most 63 bytes */
    char *key;         /* heap; "" when absent */
};

/*
 * Parse text into uri. Rejects unknown schemes, missing bucket, invalid bucket names,
 * relative file paths. On failure err names the URI and what was wrong.
 * Caller releases with s3dlio_uri_release().
 */
enum s3dlio_rc s3dlio_uri_parse(struct s3dlio_uri *uri, const char *text, struct s3dlio_error *err);

/* Free what parse allocated; accepts a zeroed or already released struct. */
void s3dlio_uri_release(struct s3dlio_uri *uri);

/* True if the key is empty or ends with '/', i.e. the URI names a prefix. */
bool s3dlio_uri_is_prefix(const struct s3dlio_uri *uri);

/* Write "scheme://bucket/key" for key into out (truncated to outlen). Returns out. */
char *s3dlio_uri_join(const struct s3dlio_uri *base, const char *key, char *out, size_t outlen);

#endif
