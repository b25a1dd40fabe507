/* SPDX-License-Identifier: Apache-2.0 */
/* Result code names and the one-line error message format. */
#include "s3dlio/error.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {
    [S3DLIO_OK] = "ok",
    [S3DLIO_E_USAGE] = "usage error",
    [S3DLIO_E_URI] = "invalid URI",
    [S3DLIO_E_CONFIG] = "configuration error",
    [S3DLIO_E_CONNECT] = "connection failed",
    [S3DLIO_E_TIMEOUT] = "timed out",
    [S3DLIO_E_HTTP] = "HTTP error",
    [S3DLIO_E_S3] = "S3 error",
    [S3DLIO_E_NOT_FOUND] = "not found",
    [S3DLIO_E_IO] = "I/O error",
    [S3DLIO_E_PARSE] = "malformed response",
    [S3DLIO_E_LIMIT] = "limit exceeded",
    [S3DLIO_E_INTEGRITY] = "integrity check failed",
    [S3DLIO_E_UNSUPPORTED] = "not supported",
    [S3DLIO_E_INTERNAL] = "internal error",
    [S3DLIO_E_ABORTED] = "aborted",
    [S3DLIO_E_CHANGED] = "changed during transfer",
    [S3DLIO_E_MISMATCH] = "data mismatch",
};

const char *s3dlio_rc_str(enum s3dlio_rc rc)
{
    if ((size_t)rc < sizeof(names) / sizeof(names[0]) && names[rc])
        return names[rc];
    return "unknown error";
}

void s3dlio_error_clear(struct s3dlio_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

enum s3dlio_rc s3dlio_error_set(struct s3dlio_error *err, enum s3dlio_rc rc, const char *op,
                                const char *target, const char *fmt, ...)
{
    if (!err)
        return rc;
    err->rc = rc;
    if (op)
        copy(err->op, sizeof(err->op), op);
    if (target)
        copy(err->target, sizeof(err->target), target);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return rc;
}

enum s3dlio_rc s3dlio_error_sys(struct s3dlio_error *err, const char *op, const char *target, int e,
                                const char *what)
{
    s3dlio_error_set(err, S3DLIO_E_IO, op, target, "%s: %s", what, strerror(e));
    if (err)
        err->sys_errno = e;
    return S3DLIO_E_IO;
}

void s3dlio_error_name_missing(struct s3dlio_error *err, bool bucket_missing)
{
    copy(err->s3_code, sizeof(err->s3_code), bucket_missing ? "NoSuchBucket" : "NoSuchKey");
    copy(err->message, sizeof(err->message),
         bucket_missing ? "The specified bucket does not exist" : "The specified key does not exist");
}

char *s3dlio_error_format(const struct s3dlio_error *err, char *out, size_t outlen)
{
    size_t n = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (n < outlen) {                                                                          \
            int w = snprintf(out + n, outlen - n, __VA_ARGS__);                                    \
            n += w > 0 ? (size_t)w : 0;                                                            \
        }                                                                                          \
    } while (0)
    if (!outlen)
        return out;
    out[0] = '\0';
    PUT("%s", err->op[0] ? err->op : "operation");
    if (err->target[0])
        PUT(" '%s'", err->target);
    PUT(": ");
    /* a change is named as such; the HTTP answer that showed it goes in the parentheses */
    bool changed = err->rc == S3DLIO_E_CHANGED;
    bool by_code = err->s3_code[0] && !changed;
    if (by_code)
        PUT("%s", err->s3_code);
    else if (err->http_status && !changed)
        PUT("HTTP %d", err->http_status);
    else
        PUT("%s", s3dlio_rc_str(err->rc));
    bool show_status = err->http_status && (by_code || changed);
    if (show_status || err->request_id[0]) {
        PUT(" (");
        if (show_status)
            PUT("HTTP %d", err->http_status);
        if (show_status && changed && err->s3_code[0])
            PUT(" %s", err->s3_code);
        if (err->request_id[0])
            PUT("%srequest id %s", show_status ? ", " : "", err->request_id);
        PUT(")");
    }
    if (err->message[0])
        PUT(": %s", err->message);
#undef PUT
    /* one line: a server message with newlines must not break it */
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return out;
}
