/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation that cannot fail: out of memory aborts with a message (no OOM branches). */
#ifndef S3DLIO_UTIL_ALLOC_H
#define S3DLIO_UTIL_ALLOC_H

#include <stddef.h>

void *s3dlio_xmalloc(size_t n);
void *s3dlio_xcalloc(size_t nmemb, size_t size);
void *s3dlio_xrealloc(void *p, size_t n);
char *s3dlio_xstrdup(const char *s);
char *s3dlio_xstrndup(const char *s, size_t n);
/* Grow *items (each elem bytes) so that `need` fit; doubles the capacity in *alloc. */
void s3dlio_xgrow(void **items, size_t elem, size_t need, size_t *alloc);
/*
 * Hand freed heap pages back to the system now. glibc keeps what was freed below the top of
 * its heap, so a process that drops a large listing and builds something else after it would
 * otherwise count both in its peak RSS. A no-op elsewhere.
 */
void s3dlio_release_freed_memory(void);

#endif
