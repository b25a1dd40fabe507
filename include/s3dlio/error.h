/* SPDX-License-Identifier: Apache-2.0 */
/* Result codes and error detail shared by the whole library. */
#ifndef S3DLIO_ERROR_H
#define S3DLIO_ERROR_H

#include <stdbool.h>
#include <stddef.h>

/*
 * One enum for the whole library, returned by value; 0 is success.
 * Append only: values are part of the ABI and may appear in reports.
 */
enum s3dlio_rc {
    S3DLIO_OK = 0,
    S3DLIO_E_USAGE,       /* bad argument or option from the caller */
    S3DLIO_E_URI,         /* malformed URI or unknown scheme */
    S3DLIO_E_CONFIG,      /* missing or invalid configuration (credentials, region...) */
    S3DLIO_E_CONNECT,     /* could not reach the endpoint (refused, DNS, TLS) */
    S3DLIO_E_TIMEOUT,     /* transfer stalled or timed out */
    S3DLIO_E_HTTP,        /* HTTP error without an S3 error body */
    S3DLIO_E_S3,          /* S3 error response (code, message, request id in detail) */
    S3DLIO_E_NOT_FOUND,   /* bucket, key or path does not exist */
    S3DLIO_E_IO,          /* local file system error (errno in detail) */
    S3DLIO_E_PARSE,       /* malformed or truncated response body */
    S3DLIO_E_LIMIT,       /* a configured cap (buffer, memory) would be exceeded */
    S3DLIO_E_INTEGRITY,   /* data did not match its checksum, size or pattern */
    S3DLIO_E_UNSUPPORTED, /* the backend does not implement the operation */
    S3DLIO_E_INTERNAL,    /* unexpected library failure (curl setup, OpenSSL) */
    S3DLIO_E_ABORTED,     /* cancelled by the caller */
    S3DLIO_E_CHANGED,     /* the object changed between listing and transfer (ETag or size) */
    S3DLIO_E_MISMATCH,    /* the data is not what the caller said it would be (a generated
                             pattern): asking again returns the same bytes, so never retried */
};

/* Room for a URI with a key of S3's maximum length (1024 bytes) and its bucket. */
#define S3DLIO_ERROR_TARGET_MAX 1280

/*
 * Detail of a failure, filled by the callee that detected it and passed up untouched.
 * All strings are NUL-terminated and may be empty. Never holds a secret.
 */
struct s3dlio_error {
    enum s3dlio_rc rc;
    int http_status;     /* 0 when no HTTP response was received */
    int sys_errno;       /* 0 unless a system call failed */
    int curl_code;       /* CURLcode, 0 when none */
    int no_connection;   /* 1: no connection could be made (refused, DNS, TLS handshake), so
                            nothing reached the server; overload may be the cause */
    char op[24];         /* "get", "put", "list", "stat", "delete", "create-bucket", ... */
    char target[S3DLIO_ERROR_TARGET_MAX]; /* URI or key the operation was about */
    char s3_code[64];    /* S3 <Code>, e.g. "NoSuchKey" */
    char request_id[128];/* x-amz-request-id or <RequestId> */
    char message[512];   /* human detail: S3 <Message>, strerror, curl error text */
};

/* Name of a result code, e.g. "S3DLIO_E_S3" -> "s3 error". Never NULL. */
const char *s3dlio_rc_str(enum s3dlio_rc rc);

/* Clear every field of err (NULL allowed). */
void s3dlio_error_clear(struct s3dlio_error *err);

/*
 * Record a failure in err (NULL allowed) and return rc, so callers can write
 * `return s3dlio_error_set(err, S3DLIO_E_IO, "put", key, "%s", strerror(errno));`
 * A message already present is replaced.
 */
enum s3dlio_rc s3dlio_error_set(struct s3dlio_error *err, enum s3dlio_rc rc, const char *op,
                                const char *target, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A failed system call: S3DLIO_E_IO, "<what>: <strerror(e)>", sys_errno e. Returns the rc. */
enum s3dlio_rc s3dlio_error_sys(struct s3dlio_error *err, const char *op, const char *target, int e,
                                const char *what);

/*
 * A 404 without a body (HEAD) says nothing of what is missing: name it, NoSuchBucket or
 * NoSuchKey with S3's own message, once the caller has asked the bucket.
 */
void s3dlio_error_name_missing(struct s3dlio_error *err, bool bucket_missing);

/*
 * Format the one-line message for the user, without program name:
 *   get 's3://b/k': NoSuchKey (HTTP 404, request id 4B2A...): The specified key does not exist
 * Returns out.
 */
char *s3dlio_error_format(const struct s3dlio_error *err, char *out, size_t outlen);

#endif
