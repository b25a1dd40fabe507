/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation wrappers: the only place in the library allowed to abort. */
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "s3dlio: out of memory allocating %zu bytes\n", n);
    abort();
}

void *s3dlio_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *s3dlio_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *s3dlio_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *s3dlio_xstrdup(const char *s)
{
    return s3dlio_xstrndup(s, strlen(s));
}

char *s3dlio_xstrndup(const char *s, size_t n)
{
    char *p = s3dlio_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void s3dlio_xgrow(void **items, size_t elem, size_t need, size_t *alloc)
{
    size_t cap = *alloc;
    if (need <= cap)
        return;
    while (cap < need)
        cap = cap ? cap * 2 : 16;
    *items = s3dlio_xrealloc(*items, cap * elem);
    *alloc = cap;
}

void s3dlio_release_freed_memory(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}
