/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one storage interface: an ops table per URI scheme (s3, file). Everything that
 * moves objects goes through it; nothing above src/backend touches libcurl or the file
 * system for objects.
 */
#ifndef S3DLIO_BACKEND_H
#define S3DLIO_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "s3dlio/config.h"
#include "s3dlio/error.h"
#include "s3dlio/uri.h"

/*
 * One object of a listing: 24 bytes, because rank 0 holds a row per object of the dataset.
 * key points into the strings of the list that holds the row (its arena), where the ETag
 * follows the key's NUL (s3dlio_object_etag), valid until that list is released or spliced
 * into another: the spliced rows are fixed up, but a key pointer kept aside may then
 * dangle. A row copied out of the list must not outlive it.
 */
struct s3dlio_object {
    const char *key;
    uint64_t size;
    int64_t mtime;    /* seconds since the epoch, -1 unknown */
};
_Static_assert(sizeof(struct s3dlio_object) <= 24, "a listing row is at most 24 bytes");

/* The row's ETag: without quotes, at most S3DLIO_ETAG_MAX bytes; "" unknown. */
static inline const char *s3dlio_object_etag(const struct s3dlio_object *o)
{
    return o->key + strlen(o->key) + 1;
}

/*
 * The longest ETag kept: the request's etag[80] holds no more, and a listed ETag must compare
 * equal to the one a HEAD or GET of the same object answers.
 */
#define S3DLIO_ETAG_MAX 79

/* What a stat tells of one object (no key: the caller named it). */
struct s3dlio_stat {
    uint64_t size;
    int64_t mtime;                   /* seconds since the epoch, -1 unknown */
    char etag[S3DLIO_ETAG_MAX + 1];  /* without quotes, "" unknown */
};

/*
 * The strings of a list, in blocks that never move (src/backend/strarena.c), so a row's
 * pointers stay valid while the list grows. Private to the objlist functions.
 */
struct s3dlio_strblock;
struct s3dlio_strarena {
    struct s3dlio_strblock *fill; /* new strings go here; the list's other blocks follow it */
};

/*
 * A growable list of objects plus the CommonPrefixes of a delimited listing. The list owns
 * every string its rows and prefixes point to. Dropping rows (compacting items, lowering n)
 * is allowed and frees nothing: the strings go when the list is released.
 */
struct s3dlio_objlist {
    struct s3dlio_object *items;
    size_t n, alloc;
    const char **prefixes;
    size_t nprefixes, prefixes_alloc;
    struct s3dlio_strarena strings;
};

/* Append a row; key and etag are copied into the list (etag NULL or "": unknown, no bytes). */
void s3dlio_objlist_add(struct s3dlio_objlist *l, const char *key, uint64_t size, int64_t mtime,
                        const char *etag);
void s3dlio_objlist_add_prefix(struct s3dlio_objlist *l, const char *prefix);
/*
 * Move every entry of src to the end of dst; src is left empty (released). The strings move
 * with their blocks, not copied, except those in src's last, partly filled block, which are
 * copied into dst's free space (at most one block's worth) so that splicing page after page
 * does not leave a half-empty block per page.
 */
void s3dlio_objlist_splice(struct s3dlio_objlist *dst, struct s3dlio_objlist *src);
/* Bytes of string blocks the list holds (for tests and benchmarks). */
size_t s3dlio_objlist_string_bytes(const struct s3dlio_objlist *l);
/* Free the rows, prefixes and strings; accepts a zeroed or released list. */
void s3dlio_objlist_release(struct s3dlio_objlist *l);

/* One page of a listing (ListObjectsV2 semantics for every backend). */
struct s3dlio_list_req {
    const char *prefix;       /* NULL or "" lists everything */
    const char *delimiter;    /* NULL: recursive; "/": one level, directories as prefixes */
    int max_keys;             /* page size, 1..1000; 0 means 1000 */
    const char *continuation; /* token from the previous page, NULL for the first */
    const char *start_after;  /* first page only: keys strictly after this one (NULL: all);
                                 ignored with a continuation, which already says where */
};
struct s3dlio_list_page {
    struct s3dlio_objlist list; /* entries of this page, in S3 (UTF-8 byte) order */
    char *next_token;           /* heap; NULL when the listing is complete */
    bool truncated;
};
void s3dlio_list_page_release(struct s3dlio_list_page *p);

/*
 * Data callbacks of an asynchronous object request. A sink receives bytes at their
 * offset in the object, so ranged parts land at their final place with no staging copy.
 * A source fills buf with up to len bytes starting at offset (relative to the body start)
 * and sets *got; fewer bytes than asked only at the end of the body.
 */
typedef enum s3dlio_rc s3dlio_sink_fn(void *ud, uint64_t offset, const void *data, size_t len);
typedef enum s3dlio_rc s3dlio_source_fn(void *ud, uint64_t offset, void *buf, size_t len, size_t *got);

struct s3dlio_req;
/* Called once per submitted request from inside progress(), with req->err filled on failure. */
typedef void s3dlio_req_done_fn(struct s3dlio_req *req, enum s3dlio_rc rc, void *ud);

/*
 * Every request the transfer engine makes, data and control alike, is asynchronous, so a
 * throttled control call is retried by the engine like a data request and never stalls the
 * other transfers of the loop.
 */
enum s3dlio_req_op {
    S3DLIO_REQ_GET,
    S3DLIO_REQ_PUT,
    S3DLIO_REQ_PUT_PART,     /* UploadPart of a multipart upload */
    S3DLIO_REQ_HEAD,         /* object metadata (part_number > 0: that part's, when supported) */
    S3DLIO_REQ_MPU_CREATE,   /* CreateMultipartUpload: the id arrives in upload_id_out */
    S3DLIO_REQ_MPU_COMPLETE, /* CompleteMultipartUpload of parts[0..nparts) */
    S3DLIO_REQ_MPU_ABORT,    /* AbortMultipartUpload */
    S3DLIO_REQ_COPY,         /* CopyObject: copy_source to key on the server, no data moved
                                through the client; the new ETag arrives in etag */
    S3DLIO_REQ_COPY_PART,    /* UploadPartCopy: bytes [offset, offset + length) of
                                copy_source as part part_number of upload_id */
};

#define S3DLIO_LEN_TO_END UINT64_MAX
#define S3DLIO_SIZE_UNKNOWN UINT64_MAX

/* One completed part of a multipart upload. */
struct s3dlio_part {
    int number;
    char etag[80];
};

/*
 * A request. The caller owns it and everything it points to until `done` ran. Inputs are
 * set before submit; results are filled by the backend.
 *
 * Pinned reads: a GET or HEAD with if_match fails with S3DLIO_E_CHANGED when the object no
 * longer has that ETag (HTTP 412, or a response whose ETag differs), and a GET with
 * size_pinned fails the same way when the object's size is not expect_size. A ranged GET must be
 * answered with 206 and exactly the range asked for. These checks run before the first
 * body byte reaches the sink, so a changed object never lands a byte.
 */
struct s3dlio_req {
    /* inputs */
    enum s3dlio_req_op op;
    const char *key;
    const char *bucket;          /* HEAD: another bucket of the same endpoint (a copy's
                                    source); NULL: the backend's */
    uint64_t offset;             /* GET: first byte wanted */
    uint64_t length;             /* GET: bytes wanted or S3DLIO_LEN_TO_END; PUT: body size */
    const char *if_match;        /* GET/HEAD: required ETag (without quotes), NULL: any */
    bool size_pinned;            /* GET: the object must have expect_size bytes */
    uint64_t expect_size;
    s3dlio_sink_fn *sink;        /* GET */
    void *sink_ud;
    s3dlio_source_fn *source;    /* PUT, PUT_PART */
    void *source_ud;
    const char *upload_id;       /* PUT_PART, MPU_COMPLETE, MPU_ABORT */
    int part_number;             /* PUT_PART, 1..10000; HEAD: 0 or the part asked about */
    const struct s3dlio_part *parts; /* MPU_COMPLETE, in part order */
    size_t nparts;
    uint64_t meta_part_size;     /* MPU_CREATE: recorded with the object (0: not), so that
                                    --verify can later recompute its composite ETag */
    const char *copy_source;     /* COPY, COPY_PART: "bucket/key" of the source, raw (the
                                    backend encodes it); if_match pins its version */
    const char *content_md5;     /* optional base64 MD5 of the body (PUT) */
    const char *payload_sha256;  /* optional hex SHA-256 of the body, computed by the caller
                                    while reading it, so the backend needs no second pass */
    s3dlio_req_done_fn *done;
    void *done_ud;
    /* results */
    int http_status;
    uint64_t bytes;              /* body bytes moved */
    uint64_t object_size;        /* GET: total from Content-Range/Length; HEAD: the object's */
    char etag[80];               /* without quotes; MPU_COMPLETE: the new object's (may be "") */
    char *upload_id_out;         /* MPU_CREATE: heap, the caller frees it */
    int parts_count;             /* HEAD: x-amz-mp-parts-count, 0 unknown */
    uint64_t part_length;        /* HEAD with part_number: that part's size when the server
                                    answered for the part (206), else 0 */
    uint64_t meta_part_size_out; /* HEAD: the part size recorded at upload (0 unknown) */
    bool etag_not_md5;           /* HEAD/GET: encrypted with SSE-KMS or SSE-C: the ETag is not
                                    an MD5 of the data */
    uint64_t t_first_byte_ns;    /* from submit to the first response byte */
    uint64_t t_total_ns;         /* from submit to done */
    struct s3dlio_error err;
    /* backend private */
    void *priv;
};

struct s3dlio_backend;

/*
 * Per-scheme operations. Optional ones may be NULL; the s3dlio_backend_* wrappers then
 * return S3DLIO_E_UNSUPPORTED. Every op returns an rc and fills err; none exits.
 */
struct s3dlio_backend_ops {
    const char *scheme;
    enum s3dlio_rc (*open)(struct s3dlio_backend *be, const struct s3dlio_config *cfg,
                           struct s3dlio_error *err);
    void (*close)(struct s3dlio_backend *be);
    enum s3dlio_rc (*list)(struct s3dlio_backend *be, const struct s3dlio_list_req *req,
                           struct s3dlio_list_page *page, struct s3dlio_error *err);
    enum s3dlio_rc (*stat)(struct s3dlio_backend *be, const char *key, struct s3dlio_stat *out,
                           struct s3dlio_error *err);
    enum s3dlio_rc (*remove)(struct s3dlio_backend *be, const char *key, struct s3dlio_error *err);
    /* Delete up to 1000 keys; per-key failures go to errs[i] (rc set), *nfailed counts them. */
    enum s3dlio_rc (*remove_batch)(struct s3dlio_backend *be, const char *const *keys, size_t n,
                                   struct s3dlio_error *errs, size_t *nfailed,
                                   struct s3dlio_error *err);
    /* Queue req; it completes (done callback) inside a later progress call. */
    enum s3dlio_rc (*submit)(struct s3dlio_backend *be, struct s3dlio_req *req);
    /* Drive in-flight requests for at most timeout_ms; *inflight is what is left. */
    enum s3dlio_rc (*progress)(struct s3dlio_backend *be, int timeout_ms, size_t *inflight);
    /* Stop every request in flight at once; each one's done runs (rc S3DLIO_E_ABORTED)
     * before this returns or in the next progress call. A backend whose progress can fail
     * must have it: that is how the engine takes its requests back and cleans up. */
    void (*cancel_all)(struct s3dlio_backend *be);
    /* Optional: cancel_all but for requests that create or abort a multipart upload, which
     * go on to their answer, so an interrupted run learns every upload it made and aborts it
     * (cancelled, a CreateMultipartUpload's upload would be left on the server, unknown). */
    void (*cancel_transfers)(struct s3dlio_backend *be);
    bool multipart;          /* MPU_CREATE / PUT_PART / MPU_COMPLETE / MPU_ABORT work */
    bool server_copy;        /* COPY / COPY_PART work (between buckets of one endpoint) */
    enum s3dlio_rc (*bucket_create)(struct s3dlio_backend *be, struct s3dlio_error *err);
    enum s3dlio_rc (*bucket_delete)(struct s3dlio_backend *be, struct s3dlio_error *err);
    enum s3dlio_rc (*bucket_head)(struct s3dlio_backend *be, struct s3dlio_error *err);
};

/* An open backend bound to one bucket (s3) or to the file-system root (file). */
struct s3dlio_backend {
    const struct s3dlio_backend_ops *ops;
    struct s3dlio_uri root;  /* scheme and bucket; key unused */
    void *state;             /* backend private */
    const volatile sig_atomic_t *cancel; /* the config's: listings stop once it is set */
};

extern const struct s3dlio_backend_ops s3dlio_backend_s3;
extern const struct s3dlio_backend_ops s3dlio_backend_file;

/* The ops table for a scheme ("s3", "file"), or NULL. */
const struct s3dlio_backend_ops *s3dlio_backend_for_scheme(const char *scheme);

/*
 * Open the backend for uri's scheme and bucket. cfg is borrowed and must outlive the
 * backend (the file backend ignores it). Caller frees with s3dlio_backend_free().
 */
enum s3dlio_rc s3dlio_backend_new(const struct s3dlio_uri *uri, const struct s3dlio_config *cfg,
                                  struct s3dlio_backend **out, struct s3dlio_error *err);
void s3dlio_backend_free(struct s3dlio_backend *be);

/* Wrappers that check optional ops. */
enum s3dlio_rc s3dlio_backend_list(struct s3dlio_backend *be, const struct s3dlio_list_req *req,
                                   struct s3dlio_list_page *page, struct s3dlio_error *err);
enum s3dlio_rc s3dlio_backend_stat(struct s3dlio_backend *be, const char *key,
                                   struct s3dlio_stat *out, struct s3dlio_error *err);
enum s3dlio_rc s3dlio_backend_remove(struct s3dlio_backend *be, const char *key,
                                     struct s3dlio_error *err);
enum s3dlio_rc s3dlio_backend_submit(struct s3dlio_backend *be, struct s3dlio_req *req);
enum s3dlio_rc s3dlio_backend_progress(struct s3dlio_backend *be, int timeout_ms, size_t *inflight);
enum s3dlio_rc s3dlio_backend_bucket_create(struct s3dlio_backend *be, struct s3dlio_error *err);
enum s3dlio_rc s3dlio_backend_bucket_delete(struct s3dlio_backend *be, struct s3dlio_error *err);
enum s3dlio_rc s3dlio_backend_bucket_head(struct s3dlio_backend *be, struct s3dlio_error *err);
bool s3dlio_backend_has_multipart(const struct s3dlio_backend *be);
bool s3dlio_backend_has_server_copy(const struct s3dlio_backend *be);

/*
 * The pages of one listing in order. The continuation is checked: a token the server
 * hands out twice is refused (S3DLIO_E_PARSE) instead of listing in a loop forever.
 */
struct s3dlio_list_pager {
    const char *prefix, *delimiter; /* borrowed */
    const char *start_after;        /* borrowed; NULL: from the first key (set after init) */
    int page_size;
    char *token;       /* for the next page */
    uint64_t *seen;    /* hashes of the tokens handed out so far */
    size_t nseen, seen_alloc, pages;
    bool done;
};
void s3dlio_list_pager_init(struct s3dlio_list_pager *p, const char *prefix, const char *delimiter,
                            int page_size);
/* Release page and fill it with the next one; *more is false (and page empty) at the end. */
enum s3dlio_rc s3dlio_list_pager_next(struct s3dlio_backend *be, struct s3dlio_list_pager *p,
                                      struct s3dlio_list_page *page, bool *more,
                                      struct s3dlio_error *err);
void s3dlio_list_pager_release(struct s3dlio_list_pager *p);

/*
 * List every object under prefix, following continuation tokens (a listing of any length).
 * delimiter as in s3dlio_list_req. Entries are appended to out.
 */
enum s3dlio_rc s3dlio_backend_list_all(struct s3dlio_backend *be, const char *prefix,
                                       const char *delimiter, int page_size,
                                       struct s3dlio_objlist *out, struct s3dlio_error *err);

/*
 * Delete keys in batches of up to 1000 (DeleteObjects for s3). Per-key failures are
 * counted in *nfailed and the first one is copied to err; rc is S3DLIO_OK only if all went.
 */
enum s3dlio_rc s3dlio_backend_remove_many(struct s3dlio_backend *be, const char *const *keys,
                                          size_t n, size_t *nfailed, struct s3dlio_error *err);

/*
 * Submit req and drive the backend until it is done (one attempt, no retries: the
 * transfer engine retries). Returns the request's rc with detail in req->err. For tests
 * and simple tools; data moves through s3dlio_xfer_run.
 */
enum s3dlio_rc s3dlio_backend_run(struct s3dlio_backend *be, struct s3dlio_req *req);

/* Stop everything in flight (see cancel_all); a no-op for backends without requests in flight. */
void s3dlio_backend_cancel_all(struct s3dlio_backend *be);
/* Stop what moves data, let upload creations and aborts finish (cancel_all without it). */
void s3dlio_backend_cancel_transfers(struct s3dlio_backend *be);

#endif
