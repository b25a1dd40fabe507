/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file:// backend: a directory tree used as an object store rooted at '/'. Key
 * "data/x/y.bin" is the file /data/x/y.bin; directories exist only as key prefixes, so
 * empty ones are invisible. Listings follow ListObjectsV2 (UTF-8 byte order, prefix,
 * delimiter "/", continuation); PUTs are atomic (temporary file, then rename). Object
 * requests run to completion inside submit and are reported by the next progress call,
 * the contract of the S3 backend, so callers need not know which backend they drive.
 */
#include "backend/be_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include "backend/be_file_int.h"
#include "s3dlio/backend.h"
#include "util/alloc.h"
#include "util/atomic_file.h"

/* Bytes per read/write and per sink call: bounds the memory of one request. */
#define CHUNK_BYTES ((size_t)1 << 20)
/* DeleteObjects takes at most this many keys, and so does remove_batch here. */
#define MAX_KEYS_LIMIT 1000

struct file_state {
    struct s3dlio_req *head, *tail; /* completed, not yet reported; linked through priv */
    size_t nqueued;
    struct s3dlio_file_cursor *cursor; /* of the last truncated listing, or NULL */
};

/* ---- small helpers (shared with be_file_list.c through be_file_int.h) ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

char *s3dlio_file_concat3(const char *a, const char *b, const char *c)
{
    size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
    char *s = s3dlio_xmalloc(na + nb + nc + 1);
    memcpy(s, a, na);
    memcpy(s + na, b, nb);
    memcpy(s + na + nb, c, nc + 1);
    return s;
}

char *s3dlio_file_key_path(const char *key)
{
    return s3dlio_file_concat3("/", key, "");
}

bool s3dlio_file_missing(int e)
{
    /* ENOTDIR: a component of the path is a file, so nothing can exist below it */
    return e == ENOENT || e == ENOTDIR;
}

enum s3dlio_rc s3dlio_file_fail(struct s3dlio_error *err, enum s3dlio_rc rc, const char *op,
                                const char *key, int sys_errno, const char *fmt, ...)
{
    char target[S3DLIO_ERROR_TARGET_MAX];
    snprintf(target, sizeof(target), "file:///%s", key);
    s3dlio_error_set(err, rc, op, target, NULL);
    if (!err)
        return rc;
    err->sys_errno = sys_errno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return rc;
}

enum s3dlio_rc s3dlio_file_fail_errno(struct s3dlio_error *err, enum s3dlio_rc rc, const char *op,
                                      const char *key, int e)
{
    if (e == ENOTDIR)
        return s3dlio_file_fail(err, rc, op, key, e, "not a directory");
    return s3dlio_file_fail(err, rc, op, key, e, "%s", strerror(e));
}

void s3dlio_file_etag(const struct stat *st, char out[80])
{
    /* not an MD5 (so --verify says "not verifiable"), but it changes whenever the file is
     * replaced or rewritten, which is what pinning a read needs */
    snprintf(out, 80, "%" PRIx64 ".%" PRIx64 ".%" PRIx64, (uint64_t)st->st_ino,
             (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec,
             (uint64_t)st->st_size);
}

/* ---- stat, remove ---- */

/* Only regular files are objects; a directory is at most a prefix. */
static enum s3dlio_rc check_object(const struct stat *st, const char *op, const char *key,
                                   struct s3dlio_error *err)
{
    if (S_ISDIR(st->st_mode))
        return s3dlio_file_fail(err, S3DLIO_E_NOT_FOUND, op, key, EISDIR, "is a directory");
    if (!S_ISREG(st->st_mode))
        return s3dlio_file_fail(err, S3DLIO_E_NOT_FOUND, op, key, 0, "not a regular file");
    return S3DLIO_OK;
}

static enum s3dlio_rc file_stat(struct s3dlio_backend *be, const char *key,
                                struct s3dlio_stat *out, struct s3dlio_error *err)
{
    (void)be;
    char *path = s3dlio_file_key_path(key);
    struct stat st;
    int r = stat(path, &st), e = errno;
    free(path);
    if (r)
        return s3dlio_file_fail_errno(err, s3dlio_file_missing(e) ? S3DLIO_E_NOT_FOUND : S3DLIO_E_IO, "stat", key, e);
    enum s3dlio_rc rc = check_object(&st, "stat", key, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    out->size = (uint64_t)st.st_size;
    out->mtime = (int64_t)st.st_mtime;
    s3dlio_file_etag(&st, out->etag);
    return S3DLIO_OK;
}

/* Directories are left alone, even when the unlink empties them: they are not objects. */
static enum s3dlio_rc file_remove(struct s3dlio_backend *be, const char *key,
                                  struct s3dlio_error *err)
{
    (void)be;
    char *path = s3dlio_file_key_path(key);
    int r = unlink(path), e = errno;
    free(path);
    if (!r)
        return S3DLIO_OK;
    if (e == EISDIR) /* Linux; POSIX says EPERM, which stays an I/O error below */
        return s3dlio_file_fail(err, S3DLIO_E_NOT_FOUND, "delete", key, e, "is a directory");
    return s3dlio_file_fail_errno(err, s3dlio_file_missing(e) ? S3DLIO_E_NOT_FOUND : S3DLIO_E_IO, "delete", key, e);
}

static enum s3dlio_rc file_remove_batch(struct s3dlio_backend *be, const char *const *keys,
                                        size_t n, struct s3dlio_error *errs, size_t *nfailed,
                                        struct s3dlio_error *err)
{
    if (n > MAX_KEYS_LIMIT)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "delete", NULL,
                                "at most %d keys per batch, got %zu", MAX_KEYS_LIMIT, n);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        struct s3dlio_error one = { 0 };
        if (file_remove(be, keys[i], &one))
            failed++;
        if (errs)
            errs[i] = one;
    }
    if (nfailed)
        *nfailed = failed;
    return S3DLIO_OK;
}

/* ---- GET ---- */

static enum s3dlio_rc open_object(const char *key, int *fd, struct stat *st,
                                  struct s3dlio_error *err)
{
    char *path = s3dlio_file_key_path(key);
    /* O_NONBLOCK: opening a FIFO must not hang; it is refused below like any non-file */
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    int e = errno;
    free(path);
    if (*fd < 0)
        return s3dlio_file_fail_errno(err, s3dlio_file_missing(e) ? S3DLIO_E_NOT_FOUND : S3DLIO_E_IO,
                                      "get", key, e);
    enum s3dlio_rc rc = fstat(*fd, st) ? s3dlio_file_fail_errno(err, S3DLIO_E_IO, "get", key, errno)
                                       : check_object(st, "get", key, err);
    if (rc) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

/* If-Match: the file's ETag now (in req->etag) must be the one pinned, as S3 answers 412. */
static enum s3dlio_rc check_if_match(struct s3dlio_req *req, const char *op)
{
    if (!req->if_match || !*req->if_match || !strcmp(req->etag, req->if_match))
        return S3DLIO_OK;
    req->http_status = req->err.http_status = 412;
    return s3dlio_file_fail(&req->err, S3DLIO_E_CHANGED, op, req->key, 0,
                            "the file changed: ETag is now '%s', not '%s'", req->etag, req->if_match);
}

/* A pinned GET (If-Match, listed size) of a file that was replaced or rewritten since. */
static enum s3dlio_rc check_pin(struct s3dlio_req *req, const struct stat *st)
{
    enum s3dlio_rc rc = check_if_match(req, "get");
    if (rc)
        return rc;
    if (req->size_pinned && (uint64_t)st->st_size != req->expect_size)
        return s3dlio_file_fail(&req->err, S3DLIO_E_CHANGED, "get", req->key, 0,
                                "the file changed: size is now %" PRIu64 " bytes, listed as %" PRIu64,
                                (uint64_t)st->st_size, req->expect_size);
    return S3DLIO_OK;
}

/*
 * The bytes to read. As in S3, a range (any request but "whole object") must start
 * before the end, else InvalidRange/416; one running past the end is cut there, and the
 * short count is reported after the read exactly as the S3 backend reports it.
 */
static enum s3dlio_rc check_range(struct s3dlio_req *req, uint64_t size, uint64_t *want)
{
    uint64_t off = req->offset, len = req->length;
    bool ranged = off || len != S3DLIO_LEN_TO_END;
    *want = 0;
    if (len == 0)
        return S3DLIO_OK; /* nothing asked for, nothing to check: as the S3 backend */
    if (ranged && off >= size) {
        req->http_status = req->err.http_status = 416;
        snprintf(req->err.s3_code, sizeof(req->err.s3_code), "InvalidRange");
        return s3dlio_file_fail(&req->err, S3DLIO_E_USAGE, "get", req->key, 0,
                    "range not satisfiable: offset %" PRIu64 " of a %" PRIu64 "-byte object", off,
                    size);
    }
    *want = size - off < len ? size - off : len;
    return S3DLIO_OK;
}

/* pread want bytes from req->offset into the sink, one bounded buffer at a time. */
static enum s3dlio_rc read_range(int fd, struct s3dlio_req *req, uint64_t want, uint64_t t0)
{
    size_t cap = want < CHUNK_BYTES ? (size_t)want : CHUNK_BYTES;
    char *buf = s3dlio_xmalloc(cap);
    enum s3dlio_rc rc = S3DLIO_OK;
    while (!rc && req->bytes < want) {
        uint64_t left = want - req->bytes, off = req->offset + req->bytes;
        ssize_t got = pread(fd, buf, left < cap ? (size_t)left : cap, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            rc = s3dlio_file_fail_errno(&req->err, S3DLIO_E_IO, "get", req->key, errno);
        if (got <= 0)
            break; /* got == 0: the file shrank under us; the caller sees a short count */
        if (!req->bytes)
            req->t_first_byte_ns = now_ns() - t0;
        rc = req->sink(req->sink_ud, off, buf, (size_t)got);
        if (rc)
            rc = s3dlio_file_fail(&req->err, rc, "get", req->key, 0, "data sink failed: %s", s3dlio_rc_str(rc));
        else
            req->bytes += (uint64_t)got;
    }
    free(buf);
    return rc;
}

static enum s3dlio_rc run_get(struct s3dlio_req *req, uint64_t t0)
{
    int fd = -1;
    struct stat st;
    uint64_t size = 0, want = 0;
    enum s3dlio_rc rc = open_object(req->key, &fd, &st, &req->err);
    if (!rc) {
        size = (uint64_t)st.st_size;
        req->object_size = size;
        s3dlio_file_etag(&st, req->etag);
        rc = check_pin(req, &st);
    }
    if (!rc)
        rc = check_range(req, size, &want);
    if (!rc)
        rc = read_range(fd, req, want, t0);
    uint64_t expect = req->length == S3DLIO_LEN_TO_END ? size - req->offset : req->length;
    if (!rc && req->bytes != expect)
        rc = s3dlio_file_fail(&req->err, S3DLIO_E_INTEGRITY, "get", req->key, 0,
                              "got %" PRIu64 " bytes, expected %" PRIu64, req->bytes, expect);
    if (fd >= 0)
        close(fd);
    return rc;
}

static void run_head(struct s3dlio_req *req)
{
    struct s3dlio_stat obj = {0};
    if (file_stat(NULL, req->key, &obj, &req->err))
        return;
    req->object_size = obj.size;
    snprintf(req->etag, sizeof(req->etag), "%s", obj.etag);
    check_if_match(req, "stat");
}

/* ---- PUT ---- */

/* One component of mkdir -p. An existing directory, maybe made by another rank, is fine. */
static enum s3dlio_rc mkdir_one(const char *path, const char *op, struct s3dlio_error *err)
{
    struct stat st;
    if (!mkdir(path, 0777))
        return S3DLIO_OK;
    int e = errno;
    if (e == EEXIST) {
        if (!stat(path, &st) && S_ISDIR(st.st_mode))
            return S3DLIO_OK;
        e = ENOTDIR;
    }
    return s3dlio_file_fail_errno(err, S3DLIO_E_IO, op, path + 1, e);
}

/* mkdir -p of an absolute path; errors name the first component that is not a directory. */
static enum s3dlio_rc mkdir_p(const char *path, const char *op, struct s3dlio_error *err)
{
    struct stat st;
    if (!stat(path, &st) && S_ISDIR(st.st_mode))
        return S3DLIO_OK; /* the usual case costs one system call */
    char *p = s3dlio_xstrdup(path);
    size_t n = strlen(p);
    enum s3dlio_rc rc = S3DLIO_OK;
    for (size_t i = 1; i <= n && !rc; i++) {
        if ((p[i] != '/' && p[i]) || p[i - 1] == '/')
            continue; /* inside a component, or an empty one ("//", trailing '/') */
        char c = p[i];
        p[i] = '\0';
        rc = mkdir_one(p, op, err);
        p[i] = c;
    }
    free(p);
    return rc;
}

static enum s3dlio_rc write_all(int fd, const char *p, size_t n, struct s3dlio_req *req)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return s3dlio_file_fail_errno(&req->err, S3DLIO_E_IO, "put", req->key, errno);
        p += w;
        n -= (size_t)w;
    }
    return S3DLIO_OK;
}

/* Ask the source for the next ask bytes of the body; it must deliver some. */
static enum s3dlio_rc pull_chunk(struct s3dlio_req *req, char *buf, size_t ask, size_t *got)
{
    *got = 0;
    enum s3dlio_rc rc = req->source(req->source_ud, req->bytes, buf, ask, got);
    if (rc)
        return s3dlio_file_fail(&req->err, rc, "put", req->key, 0, "data source failed: %s",
                                s3dlio_rc_str(rc));
    if (*got == 0)
        return s3dlio_file_fail(&req->err, S3DLIO_E_INTEGRITY, "put", req->key, 0,
                                "body ended at byte %" PRIu64 " of %" PRIu64, req->bytes, req->length);
    if (*got > ask)
        return s3dlio_file_fail(&req->err, S3DLIO_E_INTERNAL, "put", req->key, 0,
                                "data source returned %zu bytes for a %zu-byte buffer", *got, ask);
    return S3DLIO_OK;
}

static enum s3dlio_rc write_body(int fd, struct s3dlio_req *req)
{
    size_t cap = req->length < CHUNK_BYTES ? (size_t)req->length : CHUNK_BYTES;
    char *buf = s3dlio_xmalloc(cap ? cap : 1);
    enum s3dlio_rc rc = S3DLIO_OK;
    while (!rc && req->bytes < req->length) {
        uint64_t left = req->length - req->bytes;
        size_t got, ask = left < cap ? (size_t)left : cap;
        rc = pull_chunk(req, buf, ask, &got);
        if (!rc)
            rc = write_all(fd, buf, got, req);
        if (!rc)
            req->bytes += got;
    }
    free(buf);
    return rc;
}

/*
 * Write the body to a temporary file, then rename it over the key: readers see the old
 * object or the whole new one, never a part, and a failure leaves nothing behind.
 * No fsync: an object PUT here promises atomic visibility, not durability across a
 * power loss, and syncing every object would serialise a staging job on the journal.
 * Keys are absolute paths, so the whole directory part is the user's and may hold links.
 */
static enum s3dlio_rc run_put(struct s3dlio_req *req)
{
    size_t n = strlen(req->key);
    if (!n || req->key[n - 1] == '/')
        return s3dlio_file_fail(&req->err, S3DLIO_E_USAGE, "put", req->key, 0,
                                "a file object key cannot be empty or end with '/'");
    char *path = s3dlio_file_key_path(req->key);
    size_t dir_len = (size_t)(strrchr(path, '/') - path) + 1;
    char *dir = s3dlio_xstrndup(path, dir_len);
    struct s3dlio_atomic_file f = S3DLIO_ATOMIC_FILE_INIT;
    struct s3dlio_error err = {0};
    /* made here first: its errors name the component that is not a directory */
    enum s3dlio_rc rc = mkdir_p(dir, "put", &req->err);
    free(dir);
    if (!rc && (rc = s3dlio_atomic_open(&f, path, dir_len, "put", &err)))
        s3dlio_file_fail(&req->err, rc, "put", req->key, err.sys_errno, "%s", err.message);
    if (!rc)
        rc = write_body(f.fd, req);
    if (rc) {
        s3dlio_atomic_discard(&f);
    } else if ((rc = s3dlio_atomic_commit(&f, false, "put", &err))) {
        s3dlio_file_fail(&req->err, rc, "put", req->key, err.sys_errno, "%s", err.message);
    }
    free(path);
    return rc;
}

/* ---- submit, progress ---- */

/* Requests the backend refuses outright; submit then fails and done is never called. */
static enum s3dlio_rc check_req(struct s3dlio_req *req)
{
    const char *key = req->key;
    if (!key)
        return s3dlio_error_set(&req->err, S3DLIO_E_USAGE, "submit", "", "request without a key");
    switch (req->op) {
    case S3DLIO_REQ_GET:
        if (!req->sink)
            return s3dlio_file_fail(&req->err, S3DLIO_E_USAGE, "get", key, 0, "GET without a sink");
        return S3DLIO_OK;
    case S3DLIO_REQ_PUT:
        if (req->length == S3DLIO_LEN_TO_END || (req->length && !req->source))
            return s3dlio_file_fail(&req->err, S3DLIO_E_USAGE, "put", key, 0,
                        "PUT needs a body size and a source");
        return S3DLIO_OK;
    case S3DLIO_REQ_HEAD:
        return S3DLIO_OK;
    case S3DLIO_REQ_PUT_PART:
    case S3DLIO_REQ_MPU_CREATE:
    case S3DLIO_REQ_MPU_COMPLETE:
    case S3DLIO_REQ_MPU_ABORT:
        return s3dlio_file_fail(&req->err, S3DLIO_E_UNSUPPORTED, "put", key, 0,
                                "the file backend has no multipart upload");
    case S3DLIO_REQ_COPY:
    case S3DLIO_REQ_COPY_PART:
        return s3dlio_file_fail(&req->err, S3DLIO_E_UNSUPPORTED, "copy", key, 0,
                                "the file backend has no server-side copy");
    }
    return s3dlio_file_fail(&req->err, S3DLIO_E_USAGE, "submit", key, 0, "unknown request type %d",
                (int)req->op);
}

static void reset_results(struct s3dlio_req *req)
{
    req->http_status = 0;
    req->bytes = req->object_size = 0;
    req->etag[0] = '\0';
    req->upload_id_out = NULL;
    req->t_first_byte_ns = req->t_total_ns = 0;
    s3dlio_error_clear(&req->err);
    req->priv = NULL;
}

/*
 * The work is done here, synchronously; completion is queued and reported by the next
 * progress call, so callers never see done run inside submit (with either backend they
 * may submit again from done without recursing).
 */
static enum s3dlio_rc file_submit(struct s3dlio_backend *be, struct s3dlio_req *req)
{
    struct file_state *s = be->state;
    uint64_t t0 = now_ns();
    reset_results(req);
    enum s3dlio_rc rc = check_req(req);
    if (rc)
        return rc;
    if (req->op == S3DLIO_REQ_GET)
        run_get(req, t0); /* the outcome is in req->err.rc */
    else if (req->op == S3DLIO_REQ_HEAD)
        run_head(req);
    else
        run_put(req);
    req->t_total_ns = now_ns() - t0;
    if (req->op != S3DLIO_REQ_GET || !req->bytes)
        req->t_first_byte_ns = req->t_total_ns;
    if (s->tail)
        s->tail->priv = req;
    else
        s->head = req;
    s->tail = req;
    s->nqueued++;
    return S3DLIO_OK;
}

/* Nothing waits on the disk, so timeout_ms is not needed: every queued request is done. */
static enum s3dlio_rc file_progress(struct s3dlio_backend *be, int timeout_ms, size_t *inflight)
{
    (void)timeout_ms;
    struct file_state *s = be->state;
    struct s3dlio_req *req = s->head;
    /* detach first: done may submit again, and those wait for the next call */
    s->head = s->tail = NULL;
    s->nqueued = 0;
    while (req) {
        struct s3dlio_req *next = req->priv;
        req->priv = NULL;
        if (req->done)
            req->done(req, req->err.rc, req->done_ud); /* may free req: next read before */
        req = next;
    }
    if (inflight)
        *inflight = s->nqueued;
    return S3DLIO_OK;
}

static enum s3dlio_rc file_list(struct s3dlio_backend *be, const struct s3dlio_list_req *req,
                                struct s3dlio_list_page *page, struct s3dlio_error *err)
{
    struct file_state *s = be->state;
    return s3dlio_file_list(&s->cursor, req, page, err);
}

/* ---- lifecycle ---- */

static enum s3dlio_rc file_open(struct s3dlio_backend *be, const struct s3dlio_config *cfg,
                                struct s3dlio_error *err)
{
    (void)cfg; /* nothing to connect to */
    (void)err;
    be->state = s3dlio_xcalloc(1, sizeof(struct file_state));
    return S3DLIO_OK;
}

/* Requests still queued are dropped unreported: closing with work in flight is a bug. */
static void file_close(struct s3dlio_backend *be)
{
    struct file_state *s = be->state;
    if (!s)
        return;
    s3dlio_file_cursor_free(s->cursor);
    free(s);
    be->state = NULL;
}

/* ---- directories for the CLI (be_file.h) ---- */

enum s3dlio_rc s3dlio_file_mkdir(const char *key, struct s3dlio_error *err)
{
    char *path = s3dlio_file_key_path(key);
    enum s3dlio_rc rc = mkdir_p(path, "mkdir", err);
    free(path);
    return rc;
}

enum s3dlio_rc s3dlio_file_rmdir(const char *key, struct s3dlio_error *err)
{
    char *path = s3dlio_file_key_path(key);
    int r = rmdir(path), e = errno;
    free(path);
    if (!r)
        return S3DLIO_OK;
    if (e == ENOENT)
        return s3dlio_file_fail_errno(err, S3DLIO_E_NOT_FOUND, "rmdir", key, e);
    if (e == ENOTEMPTY || e == EEXIST) /* POSIX allows either for a non-empty directory */
        return s3dlio_file_fail(err, S3DLIO_E_IO, "rmdir", key, e, "directory not empty");
    return s3dlio_file_fail_errno(err, S3DLIO_E_IO, "rmdir", key, e);
}

/* No buckets and no multipart: those ops stay NULL, and callers do single PUTs. */
const struct s3dlio_backend_ops s3dlio_backend_file = {
    .scheme = "file",
    .open = file_open,
    .close = file_close,
    .list = file_list,
    .stat = file_stat,
    .remove = file_remove,
    .remove_batch = file_remove_batch,
    .submit = file_submit,
    .progress = file_progress,
};
