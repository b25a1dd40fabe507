/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The S3 HTTP client: one curl multi handle per client, every request signed with SigV4.
 * A call is one HTTP exchange; it runs asynchronously (start + progress) or synchronously
 * (perform). Only the event-loop thread may touch a client.
 */
#ifndef S3DLIO_S3_CLIENT_H
#define S3DLIO_S3_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include "s3/sigv4.h"
#include "s3dlio/backend.h"
#include "s3dlio/config.h"
#include "util/buf.h"

struct s3dlio_s3_client;
struct s3dlio_s3_call;

typedef void s3dlio_s3_call_done_fn(struct s3dlio_s3_call *call, void *ud);
/*
 * Called once, when a 2xx response's headers are complete and before the first body byte
 * goes to the sink (or at the end, for a response without a body). A non-OK return, with
 * call->err filled, aborts the transfer: no byte of a response that fails it reaches the sink.
 */
typedef enum s3dlio_rc s3dlio_s3_check_fn(struct s3dlio_s3_call *call, void *ud);

#define S3DLIO_S3_MAX_QUERY 8
#define S3DLIO_S3_MAX_HEADERS 8

/*
 * One request and its response. The caller owns the struct and what it points to until
 * done ran (async) or perform returned. Zero-initialise, then set the inputs.
 */
struct s3dlio_s3_call {
    /* request */
    const char *op;                 /* for messages: "get", "list", ... */
    const char *method;             /* "GET", "PUT", "POST", "DELETE", "HEAD" */
    const char *bucket;             /* "" for the service */
    const char *key;                /* NULL or "" for bucket-level requests */
    const char *target_key;         /* shown in messages instead of key (a listing's prefix) */
    struct s3dlio_kv query[S3DLIO_S3_MAX_QUERY];
    size_t nquery;
    struct s3dlio_kv headers[S3DLIO_S3_MAX_HEADERS]; /* extra headers, e.g. Range */
    size_t nheaders;
    const void *body;               /* in-memory request body, or NULL */
    size_t body_len;
    /* a stop of everything but such calls lets this one finish: it makes something (a
     * multipart upload) or undoes it, and only its answer says what to clean up */
    bool finish_on_cancel;
    /* synchronous calls: once *stop is non-zero (a signal handler's flag) the call is given up
     * with S3DLIO_E_ABORTED, retries and backoff included. For a listing, never a cleanup. */
    const volatile sig_atomic_t *stop;
    s3dlio_source_fn *source;       /* streaming request body (PUT), length body_len */
    const char *payload_sha256;     /* hex SHA-256 of the body if the caller has it */
    void *source_ud;
    s3dlio_sink_fn *sink;           /* 2xx response body; NULL: kept in resp_body */
    void *sink_ud;
    uint64_t sink_offset;           /* object offset of the first body byte (ranged GET) */
    s3dlio_s3_check_fn *check;      /* optional, see s3dlio_s3_check_fn */
    void *check_ud;
    s3dlio_s3_call_done_fn *done;   /* async only */
    void *done_ud;
    /* response */
    long status;
    char etag[80];
    char request_id[128];
    uint64_t content_length;
    uint64_t total_size;            /* from Content-Range "bytes a-b/total", else content_length */
    bool has_range;                 /* a Content-Range "bytes a-b/total" was received */
    uint64_t range_first, range_last; /* its a and b */
    int parts_count;                /* x-amz-mp-parts-count */
    uint64_t meta_part_size;        /* x-amz-meta-s3dlio-part-size */
    bool sse_opaque_etag;           /* SSE-KMS / SSE-C: the ETag is not an MD5 of the data */
    int64_t last_modified;
    uint64_t body_bytes;            /* body bytes delivered to sink or resp_body */
    uint64_t t_first_byte_ns;
    uint64_t t_total_ns;
    struct s3dlio_buf resp_body;    /* non-2xx bodies, and 2xx when sink is NULL (capped) */
    enum s3dlio_rc rc;              /* S3DLIO_OK when status is 2xx and the transfer completed */
    struct s3dlio_error err;        /* filled when rc != OK */
    /* private */
    void *priv;
};

/* Create a client for cfg (borrowed; must outlive the client). */
enum s3dlio_rc s3dlio_s3_client_new(const struct s3dlio_config *cfg, int max_connections,
                                    struct s3dlio_s3_client **out, struct s3dlio_error *err);
void s3dlio_s3_client_free(struct s3dlio_s3_client *c);

/* Start call asynchronously; its done callback runs inside a later progress. */
enum s3dlio_rc s3dlio_s3_call_start(struct s3dlio_s3_client *c, struct s3dlio_s3_call *call);
/* Drive transfers for at most timeout_ms; *inflight is what is left. */
enum s3dlio_rc s3dlio_s3_client_progress(struct s3dlio_s3_client *c, int timeout_ms, size_t *inflight);
/* Stop every call in flight; each one's done runs now with rc S3DLIO_E_ABORTED. */
void s3dlio_s3_client_cancel_all(struct s3dlio_s3_client *c);
/* The same, but calls marked finish_on_cancel go on to their answer. */
void s3dlio_s3_client_cancel_transfers(struct s3dlio_s3_client *c);
/*
 * Run call to completion, retrying transient failures by the configuration's policy
 * (retries, retry_time_ms, backoff): meant for calls made outside the transfer engine's
 * loop (listing, stat, delete), where sleeping holds up nothing else. Returns call->rc and
 * copies call->err into err.
 */
enum s3dlio_rc s3dlio_s3_call_perform(struct s3dlio_s3_client *c, struct s3dlio_s3_call *call,
                                      struct s3dlio_error *err);
/* Free what a finished call holds (response body). */
void s3dlio_s3_call_release(struct s3dlio_s3_call *call);

/* "s3://bucket/key" for messages. */
void s3dlio_s3_target(const char *bucket, const char *key, char *out, size_t outlen);

/* Process-wide curl initialisation. */
enum s3dlio_rc s3dlio_s3_global_init(struct s3dlio_error *err);
void s3dlio_s3_global_cleanup(void);

/*
 * Copy a header line for logging with secrets replaced: Authorization keeps only the
 * credential scope, X-Amz-Security-Token is replaced by "<redacted>".
 */
void s3dlio_s3_redact_header(const char *line, size_t len, char *out, size_t outlen);

#endif
