/* SPDX-License-Identifier: Apache-2.0 */
/* Capped growable buffer (see buf.h). */
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

static enum s3dlio_rc grow(struct s3dlio_buf *b, size_t extra)
{
    if (b->toobig)
        return S3DLIO_E_LIMIT;
    if (extra > b->max || b->len > b->max - extra) {
        s3dlio_buf_release(b);
        b->toobig = true;
        return S3DLIO_E_LIMIT;
    }
    size_t need = b->len + extra + 1;
    if (need > b->alloc) {
        size_t cap = b->alloc ? b->alloc : 64;
        while (cap < need)
            cap *= 2;
        if (cap > b->max + 1)
            cap = b->max + 1;
        b->data = s3dlio_xrealloc(b->data, cap);
        b->alloc = cap;
    }
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_buf_add(struct s3dlio_buf *b, const void *p, size_t n)
{
    enum s3dlio_rc rc = grow(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_buf_adds(struct s3dlio_buf *b, const char *s)
{
    return s3dlio_buf_add(b, s, strlen(s));
}

enum s3dlio_rc s3dlio_buf_addc(struct s3dlio_buf *b, char c)
{
    return s3dlio_buf_add(b, &c, 1);
}

enum s3dlio_rc s3dlio_buf_vaddf(struct s3dlio_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return S3DLIO_E_INTERNAL;
    enum s3dlio_rc rc = grow(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_buf_addf(struct s3dlio_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum s3dlio_rc rc = s3dlio_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

const char *s3dlio_buf_str(const struct s3dlio_buf *b)
{
    return b->data ? b->data : "";
}

void s3dlio_buf_reset(struct s3dlio_buf *b)
{
    b->len = 0;
    b->toobig = false;
    if (b->data)
        b->data[0] = '\0';
}

char *s3dlio_buf_detach(struct s3dlio_buf *b)
{
    char *s = b->data ? b->data : s3dlio_xstrdup("");
    b->data = NULL;
    b->len = b->alloc = 0;
    return s;
}

void s3dlio_buf_release(struct s3dlio_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
    b->toobig = false;
}
