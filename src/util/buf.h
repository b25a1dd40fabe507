/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable byte buffer with a hard cap. Past the cap the buffer frees itself and every
 * later add returns S3DLIO_E_LIMIT, so a hostile response cannot grow memory unbounded.
 * The content is always NUL-terminated (the NUL is not counted in len).
 */
#ifndef S3DLIO_UTIL_BUF_H
#define S3DLIO_UTIL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include "s3dlio/error.h"

struct s3dlio_buf {
    char *data;   /* NULL until the first add */
    size_t len;
    size_t alloc;
    size_t max;   /* cap in bytes, excluding the NUL */
    bool toobig;  /* the cap was hit: data freed, adds fail */
};

#define S3DLIO_BUF_INIT(maxbytes) { NULL, 0, 0, (maxbytes), false }

enum s3dlio_rc s3dlio_buf_add(struct s3dlio_buf *b, const void *p, size_t n);
enum s3dlio_rc s3dlio_buf_adds(struct s3dlio_buf *b, const char *s);
enum s3dlio_rc s3dlio_buf_addc(struct s3dlio_buf *b, char c);
enum s3dlio_rc s3dlio_buf_addf(struct s3dlio_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum s3dlio_rc s3dlio_buf_vaddf(struct s3dlio_buf *b, const char *fmt, va_list ap);
/* The content, "" when empty (never NULL). */
const char *s3dlio_buf_str(const struct s3dlio_buf *b);
/* Drop the content but keep the allocation and cap. */
void s3dlio_buf_reset(struct s3dlio_buf *b);
/* Take the heap string (caller frees); the buffer is left empty. Never NULL. */
char *s3dlio_buf_detach(struct s3dlio_buf *b);
/* Free the content; the cap is kept so the buffer can be reused. */
void s3dlio_buf_release(struct s3dlio_buf *b);

#endif
