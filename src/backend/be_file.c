/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file:// backend: a directory tree used as an object store rooted at '/'. Key
 * "data/x/y.bin" is the file /data/x/y.bin; directories exist only as key prefixes, so
 * empty ones are invisible. Listings follow ListObjectsV2 (UTF-8 byte order, prefix,
 * delimiter "/", continuation); PUTs are atomic (temporary file, then rename). Object
 * requests run to completion inside submit and are reported by the next progress call,
 * the contract of the S3 backend, so callers need not know which backend they drive.
 */
#define _DEFAULT_SOURCE /* d_type, DT_* (glibc); also implies POSIX.1-2008 */
#include "backend/be_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include "s3dlio/backend.h"
#include "util/alloc.h"

/* Bytes per read/write and per sink call: bounds the memory of one request. */
#define CHUNK_BYTES ((size_t)1 << 20)
/* ListObjectsV2 returns at most this many entries per page. */
#define MAX_KEYS_LIMIT 1000
/* Infix of in-progress PUT files: ".<basename>.s3dlio-tmp.<pid>.<counter>". */
#define TMP_TAG ".s3dlio-tmp."
/* Basename bytes kept in a temporary name, so it stays under NAME_MAX (255). */
#define TMP_BASE_MAX 200

/*
 * Process-wide, not per backend: two backends of one process may PUT the same key at
 * once and must not pick the same temporary name (O_EXCL catches what this misses).
 */
static atomic_ulong tmp_counter;

/* One listed entry: an object or, in a delimited listing, a CommonPrefix. */
struct item {
    char *key; /* heap; NULL: the walk is over */
    uint64_t size;
    int64_t mtime;
    bool is_prefix;
};

/* One directory of a listing walk, read whole and sorted. */
struct level {
    char *path;  /* "/data/x/": the directory; path + 1 is the key prefix of its entries */
    char **ents; /* sorted; directories carry a trailing '/' (see read_level) */
    size_t n, alloc, next;
};

/*
 * Where a listing stands: a stack of directories, deepest last. Kept in the backend
 * after a truncated page so the next page resumes without reading everything again.
 */
struct cursor {
    char *prefix;
    bool delimited;
    char *seek; /* continuation: only keys strictly after it are wanted */
    char *last; /* last key returned: the token that resumes this cursor */
    struct level *levels;
    size_t depth, alloc;
    struct item pending; /* read ahead to learn whether the page was truncated */
};

struct file_state {
    struct s3dlio_req *head, *tail; /* completed, not yet reported; linked through priv */
    size_t nqueued;
    struct cursor *cursor; /* of the last truncated listing, or NULL */
};

enum kind {
    KIND_SKIP,
    KIND_FILE,
    KIND_DIR
};

/* ---- small helpers ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static char *concat3(const char *a, const char *b, const char *c)
{
    size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
    char *s = s3dlio_xmalloc(na + nb + nc + 1);
    memcpy(s, a, na);
    memcpy(s + na, b, nb);
    memcpy(s + na + nb, c, nc + 1);
    return s;
}

/* The file behind a key: keys are paths relative to the root '/'. */
static char *key_path(const char *key)
{
    return concat3("/", key, "");
}

static bool missing(int e)
{
    /* ENOTDIR: a component of the path is a file, so nothing can exist below it */
    return e == ENOENT || e == ENOTDIR;
}

static bool is_tmp_name(const char *name)
{
    return name[0] == '.' && strstr(name, TMP_TAG);
}

static bool is_dot(const char *name)
{
    return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

/* Fill err naming the key as users write it, file:///<key>. Returns rc. */
static enum s3dlio_rc fail(struct s3dlio_error *err, enum s3dlio_rc rc, const char *op,
                           const char *key, int sys_errno, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static enum s3dlio_rc fail(struct s3dlio_error *err, enum s3dlio_rc rc, const char *op,
                           const char *key, int sys_errno, const char *fmt, ...)
{
    char target[1024];
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

static enum s3dlio_rc fail_errno(struct s3dlio_error *err, enum s3dlio_rc rc, const char *op,
                                 const char *key, int e)
{
    if (e == ENOTDIR)
        return fail(err, rc, op, key, e, "not a directory");
    return fail(err, rc, op, key, e, "%s", strerror(e));
}

/* ---- directory entries ---- */

static enum kind kind_of_mode(mode_t m)
{
    return S_ISREG(m) ? KIND_FILE : S_ISDIR(m) ? KIND_DIR : KIND_SKIP;
}

/*
 * What a directory entry is to the object store. Symlinks count only when they point to
 * a regular file: following a link to a directory could loop.
 */
static enum kind entry_kind(int dfd, const struct dirent *de)
{
    struct stat st;
    switch (de->d_type) {
    case DT_REG:
        return KIND_FILE;
    case DT_DIR:
        return KIND_DIR;
    case DT_LNK:
        break;
    case DT_UNKNOWN: /* file systems that do not fill d_type */
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
            return KIND_SKIP;
        if (!S_ISLNK(st.st_mode))
            return kind_of_mode(st.st_mode);
        break;
    default:
        return KIND_SKIP;
    }
    if (fstatat(dfd, de->d_name, &st, 0) || !S_ISREG(st.st_mode))
        return KIND_SKIP; /* a link to a directory or a dangling link */
    return KIND_FILE;
}

/* Compare the concatenation a + b with t, byte-wise as S3 orders keys. */
static int cmp_concat(const char *a, const char *b, const char *t)
{
    size_t na = strlen(a);
    int c = strncmp(a, t, na);
    return c ? c : strcmp(b, t + na);
}

static bool concat_is_prefix(const char *a, const char *b, const char *t)
{
    size_t na = strlen(a);
    return !strncmp(a, t, na) && !strncmp(b, t + na, strlen(b));
}

/*
 * Whether an entry can hold keys strictly after seek (the continuation token). A file
 * must itself be greater. A directory "d/" is kept when greater, or when seek lies inside
 * it (a recursive walk resumes within it); in a delimited listing "d/" equal to seek is
 * the CommonPrefix already returned.
 */
static bool after_seek(const struct cursor *cur, const char *dirkey, const char *name, bool dir)
{
    if (!cur->seek)
        return true;
    int c = cmp_concat(dirkey, name, cur->seek);
    if (c > 0)
        return true;
    if (!dir || (c == 0 && cur->delimited))
        return false;
    return concat_is_prefix(dirkey, name, cur->seek);
}

static void level_add(struct level *lv, char *name)
{
    s3dlio_xgrow((void **)&lv->ents, sizeof(*lv->ents), lv->n + 1, &lv->alloc);
    lv->ents[lv->n++] = name;
}

/*
 * Directories are stored as "name/": sorting "name/" among file names puts every key
 * below the directory where S3 byte order puts it ("a-b" < "a/..." < "a0"), which a
 * walk sorted by bare names gets wrong.
 */
static void add_entry(const struct cursor *cur, struct level *lv, int dfd, const struct dirent *de,
                      const char *leaf)
{
    const char *name = de->d_name;
    if (is_dot(name) || is_tmp_name(name) || strncmp(name, leaf, strlen(leaf)))
        return;
    enum kind k = entry_kind(dfd, de);
    if (k == KIND_SKIP)
        return;
    char *ent = concat3(name, k == KIND_DIR ? "/" : "", "");
    if (after_seek(cur, lv->path + 1, ent, k == KIND_DIR))
        level_add(lv, ent);
    else
        free(ent);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b); /* strcmp: unsigned bytes */
}

/*
 * Read lv->path whole, keeping entries that start with leaf and may follow the seek key,
 * then sort them. Only the top directory (named by the user) may be reached through a
 * symlink. Returns 0 or an errno.
 */
static int read_level(const struct cursor *cur, struct level *lv, const char *leaf, bool top)
{
    int fd = open(lv->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (top ? 0 : O_NOFOLLOW));
    if (fd < 0)
        return errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return e;
    }
    struct dirent *de;
    int e = 0;
    for (;;) {
        errno = 0; /* readdir reports errors only through errno; add_entry may set it */
        if (!(de = readdir(d))) {
            e = errno;
            break;
        }
        add_entry(cur, lv, fd, de, leaf);
    }
    closedir(d);
    if (!e && lv->n)
        qsort(lv->ents, lv->n, sizeof(*lv->ents), cmp_names);
    return e;
}

static void level_release(struct level *lv)
{
    for (size_t i = 0; i < lv->n; i++)
        free(lv->ents[i]);
    free(lv->ents);
    free(lv->path);
    memset(lv, 0, sizeof(*lv));
}

/* ---- the listing walk ---- */

static void cursor_free(struct cursor *cur)
{
    if (!cur)
        return;
    while (cur->depth)
        level_release(&cur->levels[--cur->depth]);
    free(cur->levels);
    free(cur->prefix);
    free(cur->seek);
    free(cur->last);
    free(cur->pending.key);
    free(cur);
}

/*
 * Enter the directory with key prefix dirkey ("" or ending in '/'). A directory that
 * vanished or turned into a file or link since it was listed is skipped (the walk saw
 * a snapshot); an unreadable one fails the listing rather than silently losing objects.
 */
static enum s3dlio_rc push_level(struct cursor *cur, const char *dirkey, const char *leaf, bool top,
                                 struct s3dlio_error *err)
{
    struct level lv = { .path = key_path(dirkey) };
    int e = read_level(cur, &lv, leaf, top);
    if (e) {
        level_release(&lv);
        if (e == ENOENT || (!top && (e == ENOTDIR || e == ELOOP)))
            return S3DLIO_OK; /* at the top: an unknown prefix lists nothing, as in S3 */
        return fail_errno(err, S3DLIO_E_IO, "list", dirkey, e);
    }
    s3dlio_xgrow((void **)&cur->levels, sizeof(*cur->levels), cur->depth + 1, &cur->alloc);
    cur->levels[cur->depth++] = lv;
    return S3DLIO_OK;
}

/* Start a walk at the directory holding prefix: only that subtree is ever read. */
static enum s3dlio_rc cursor_new(const char *prefix, bool delimited, const char *seek,
                                 struct cursor **out, struct s3dlio_error *err)
{
    struct cursor *cur = s3dlio_xcalloc(1, sizeof(*cur));
    cur->prefix = s3dlio_xstrdup(prefix);
    cur->delimited = delimited;
    cur->seek = seek ? s3dlio_xstrdup(seek) : NULL;
    const char *slash = strrchr(prefix, '/');
    size_t dlen = slash ? (size_t)(slash - prefix) + 1 : 0;
    char *dirkey = s3dlio_xstrndup(prefix, dlen);
    enum s3dlio_rc rc = push_level(cur, dirkey, prefix + dlen, true, err);
    free(dirkey);
    if (rc) {
        cursor_free(cur);
        cur = NULL;
    }
    *out = cur;
    return rc;
}

/* Whether a directory holds a regular file anywhere below: S3 has no empty prefixes. */
static bool has_objects(int parent, const char *name)
{
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) /* unreadable: show it, so listing inside reports why */
        return errno != ENOENT && errno != ENOTDIR && errno != ELOOP;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return true;
    }
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d))) {
        if (is_dot(de->d_name) || is_tmp_name(de->d_name))
            continue;
        enum kind k = entry_kind(fd, de);
        found = k == KIND_FILE || (k == KIND_DIR && has_objects(fd, de->d_name));
    }
    closedir(d);
    return found;
}

static void visit_file(char *key, struct item *item)
{
    char *path = key_path(key);
    struct stat st;
    bool ok = !stat(path, &st) && S_ISREG(st.st_mode); /* else gone or replaced since readdir */
    free(path);
    if (ok)
        *item = (struct item){ key, (uint64_t)st.st_size, (int64_t)st.st_mtime, false };
    else
        free(key);
}

/* Recursive: descend. Delimited: the directory is a CommonPrefix if it holds objects. */
static enum s3dlio_rc visit_dir(struct cursor *cur, char *key, struct item *item,
                                struct s3dlio_error *err)
{
    if (!cur->delimited) {
        enum s3dlio_rc rc = push_level(cur, key, "", false, err);
        free(key);
        return rc;
    }
    char *path = key_path(key);
    bool show = has_objects(AT_FDCWD, path);
    free(path);
    if (show)
        *item = (struct item){ .key = key, .mtime = -1, .is_prefix = true };
    else
        free(key);
    return S3DLIO_OK;
}

/* The next entry in S3 order, or item->key NULL at the end of the walk. */
static enum s3dlio_rc cursor_next(struct cursor *cur, struct item *item, struct s3dlio_error *err)
{
    *item = cur->pending;
    memset(&cur->pending, 0, sizeof(cur->pending));
    enum s3dlio_rc rc = S3DLIO_OK;
    while (!rc && !item->key && cur->depth) {
        struct level *lv = &cur->levels[cur->depth - 1];
        if (lv->next == lv->n) {
            level_release(lv);
            cur->depth--;
            continue;
        }
        const char *name = lv->ents[lv->next++];
        char *key = concat3(lv->path + 1, name, "");
        if (name[strlen(name) - 1] == '/')
            rc = visit_dir(cur, key, item, err); /* may grow cur->levels: lv is stale after */
        else
            visit_file(key, item);
    }
    return rc;
}

/*
 * Up to max entries into page. One more is read ahead and kept in the cursor: that is
 * how a page knows it is truncated, and it is the first entry of the next page.
 */
static enum s3dlio_rc fill_page(struct cursor *cur, int max, struct s3dlio_list_page *page,
                                struct s3dlio_error *err)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    char *last = NULL;
    struct item it;
    for (int i = 0; i < max && !rc; i++) {
        rc = cursor_next(cur, &it, err);
        if (rc || !it.key)
            break;
        if (it.is_prefix)
            s3dlio_objlist_add_prefix(&page->list, it.key);
        else
            s3dlio_objlist_add(&page->list, it.key, it.size, it.mtime, NULL);
        free(last);
        last = it.key;
    }
    if (!rc && last)
        rc = cursor_next(cur, &it, err);
    if (!rc && last && it.key) {
        cur->pending = it;
        page->truncated = true;
        page->next_token = last;
        free(cur->last);
        cur->last = s3dlio_xstrdup(last);
        last = NULL;
    }
    free(last);
    return rc;
}

/*
 * The cursor left by the previous page if this request continues it, else NULL. The
 * token stays a plain key, so a page whose cursor is gone (another listing ran in
 * between, or another process holds the token) resumes by seeking; the cached cursor
 * only saves re-reading the directories, which would make a long listing quadratic.
 * Like an S3 listing, it does not promise to show keys written while it runs.
 */
static struct cursor *take_cursor(struct file_state *s, const char *prefix, bool delimited,
                                  const char *token)
{
    struct cursor *cur = s->cursor;
    s->cursor = NULL;
    if (cur && token && cur->delimited == delimited && !strcmp(cur->prefix, prefix) &&
        !strcmp(cur->last, token))
        return cur;
    cursor_free(cur);
    return NULL;
}

static enum s3dlio_rc file_list(struct s3dlio_backend *be, const struct s3dlio_list_req *req,
                                struct s3dlio_list_page *page, struct s3dlio_error *err)
{
    struct file_state *s = be->state;
    const char *prefix = req->prefix ? req->prefix : "";
    const char *delim = req->delimiter ? req->delimiter : "";
    memset(page, 0, sizeof(*page));
    if (delim[0] && strcmp(delim, "/"))
        return fail(err, S3DLIO_E_USAGE, "list", prefix, 0,
                    "delimiter '%s' is not supported by the file backend (use '/' or none)", delim);
    int max = req->max_keys > 0 && req->max_keys < MAX_KEYS_LIMIT ? req->max_keys : MAX_KEYS_LIMIT;
    bool delimited = delim[0] != '\0';
    struct cursor *cur = take_cursor(s, prefix, delimited, req->continuation);
    enum s3dlio_rc rc = S3DLIO_OK;
    if (!cur)
        rc = cursor_new(prefix, delimited, req->continuation, &cur, err);
    if (!rc)
        rc = fill_page(cur, max, page, err);
    if (!rc && page->truncated)
        s->cursor = cur;
    else
        cursor_free(cur);
    if (rc)
        s3dlio_list_page_release(page);
    return rc;
}

/* ---- stat, remove ---- */

/* Only regular files are objects; a directory is at most a prefix. */
static enum s3dlio_rc check_object(const struct stat *st, const char *op, const char *key,
                                   struct s3dlio_error *err)
{
    if (S_ISDIR(st->st_mode))
        return fail(err, S3DLIO_E_NOT_FOUND, op, key, EISDIR, "is a directory");
    if (!S_ISREG(st->st_mode))
        return fail(err, S3DLIO_E_NOT_FOUND, op, key, 0, "not a regular file");
    return S3DLIO_OK;
}

/* out->key is left NULL: the caller holds the key, and stat has no list to own it. */
static enum s3dlio_rc file_stat(struct s3dlio_backend *be, const char *key,
                                struct s3dlio_object *out, struct s3dlio_error *err)
{
    (void)be;
    char *path = key_path(key);
    struct stat st;
    int r = stat(path, &st), e = errno;
    free(path);
    if (r)
        return fail_errno(err, missing(e) ? S3DLIO_E_NOT_FOUND : S3DLIO_E_IO, "stat", key, e);
    enum s3dlio_rc rc = check_object(&st, "stat", key, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    out->size = (uint64_t)st.st_size;
    out->mtime = (int64_t)st.st_mtime;
    return S3DLIO_OK;
}

/* Directories are left alone, even when the unlink empties them: they are not objects. */
static enum s3dlio_rc file_remove(struct s3dlio_backend *be, const char *key,
                                  struct s3dlio_error *err)
{
    (void)be;
    char *path = key_path(key);
    int r = unlink(path), e = errno;
    free(path);
    if (!r)
        return S3DLIO_OK;
    if (e == EISDIR) /* Linux; POSIX says EPERM, which stays an I/O error below */
        return fail(err, S3DLIO_E_NOT_FOUND, "delete", key, e, "is a directory");
    return fail_errno(err, missing(e) ? S3DLIO_E_NOT_FOUND : S3DLIO_E_IO, "delete", key, e);
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

static enum s3dlio_rc open_object(const char *key, int *fd, uint64_t *size,
                                  struct s3dlio_error *err)
{
    char *path = key_path(key);
    /* O_NONBLOCK: opening a FIFO must not hang; it is refused below like any non-file */
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    int e = errno;
    free(path);
    if (*fd < 0)
        return fail_errno(err, missing(e) ? S3DLIO_E_NOT_FOUND : S3DLIO_E_IO, "get", key, e);
    struct stat st;
    enum s3dlio_rc rc = fstat(*fd, &st) ? fail_errno(err, S3DLIO_E_IO, "get", key, errno)
                                        : check_object(&st, "get", key, err);
    if (rc) {
        close(*fd);
        *fd = -1;
        return rc;
    }
    *size = (uint64_t)st.st_size;
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
        return fail(&req->err, S3DLIO_E_USAGE, "get", req->key, 0,
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
            rc = fail_errno(&req->err, S3DLIO_E_IO, "get", req->key, errno);
        if (got <= 0)
            break; /* got == 0: the file shrank under us; the caller sees a short count */
        if (!req->bytes)
            req->t_first_byte_ns = now_ns() - t0;
        rc = req->sink(req->sink_ud, off, buf, (size_t)got);
        if (rc)
            rc = fail(&req->err, rc, "get", req->key, 0, "data sink failed: %s", s3dlio_rc_str(rc));
        else
            req->bytes += (uint64_t)got;
    }
    free(buf);
    return rc;
}

static enum s3dlio_rc run_get(struct s3dlio_req *req, uint64_t t0)
{
    int fd = -1;
    uint64_t size = 0, want = 0;
    enum s3dlio_rc rc = open_object(req->key, &fd, &size, &req->err);
    if (!rc) {
        req->object_size = size;
        rc = check_range(req, size, &want);
    }
    if (!rc)
        rc = read_range(fd, req, want, t0);
    uint64_t expect = req->length == S3DLIO_LEN_TO_END ? size - req->offset : req->length;
    if (!rc && req->bytes != expect)
        rc = fail(&req->err, S3DLIO_E_INTEGRITY, "get", req->key, 0,
                  "got %" PRIu64 " bytes, expected %" PRIu64, req->bytes, expect);
    if (fd >= 0)
        close(fd);
    return rc;
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
    return fail_errno(err, S3DLIO_E_IO, op, path + 1, e);
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

/*
 * Create ".<basename>.s3dlio-tmp.<pid>.<counter>" beside the final file: same directory,
 * so the rename is atomic; a name listings skip; O_EXCL so no two writers share one.
 */
static enum s3dlio_rc open_temp(const char *path, int *fd, char **tmp, struct s3dlio_req *req)
{
    const char *base = strrchr(path, '/') + 1;
    size_t cap = strlen(path) + sizeof(TMP_TAG) + 48; /* '.', pid, '.', counter */
    for (int tries = 0; tries < 100; tries++) {
        unsigned long n = atomic_fetch_add(&tmp_counter, 1);
        *tmp = s3dlio_xmalloc(cap);
        snprintf(*tmp, cap, "%.*s.%.*s" TMP_TAG "%ld.%lu", (int)(base - path), path, TMP_BASE_MAX,
                 base, (long)getpid(), n);
        *fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (*fd >= 0)
            return S3DLIO_OK;
        int e = errno;
        free(*tmp);
        *tmp = NULL;
        if (e != EEXIST)
            return fail(&req->err, S3DLIO_E_IO, "put", req->key, e,
                        "cannot create a temporary file: %s", strerror(e));
    }
    return fail(&req->err, S3DLIO_E_IO, "put", req->key, EEXIST, "no free temporary file name");
}

static enum s3dlio_rc write_all(int fd, const char *p, size_t n, struct s3dlio_req *req)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return fail_errno(&req->err, S3DLIO_E_IO, "put", req->key, errno);
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
        return fail(&req->err, rc, "put", req->key, 0, "data source failed: %s", s3dlio_rc_str(rc));
    if (*got == 0)
        return fail(&req->err, S3DLIO_E_INTEGRITY, "put", req->key, 0,
                    "body ended at byte %" PRIu64 " of %" PRIu64, req->bytes, req->length);
    if (*got > ask)
        return fail(&req->err, S3DLIO_E_INTERNAL, "put", req->key, 0,
                    "data source returned %zu bytes for a %zu-byte buffer", *got, ask);
    return S3DLIO_OK;
}

static enum s3dlio_rc write_body(int fd, struct s3dlio_req *req)
{
    size_t cap = req->length < CHUNK_BYTES ? (size_t)req->length : CHUNK_BYTES;
    char *buf = s3dlio_xmalloc(cap);
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
 */
static enum s3dlio_rc run_put(struct s3dlio_req *req)
{
    size_t n = strlen(req->key);
    if (!n || req->key[n - 1] == '/')
        return fail(&req->err, S3DLIO_E_USAGE, "put", req->key, 0,
                    "a file object key cannot be empty or end with '/'");
    char *path = key_path(req->key);
    char *dir = s3dlio_xstrndup(path, (size_t)(strrchr(path, '/') - path) + 1);
    char *tmp = NULL;
    int fd = -1;
    enum s3dlio_rc rc = mkdir_p(dir, "put", &req->err);
    if (!rc)
        rc = open_temp(path, &fd, &tmp, req);
    if (!rc)
        rc = write_body(fd, req);
    if (fd >= 0 && close(fd) && !rc)
        rc = fail_errno(&req->err, S3DLIO_E_IO, "put", req->key, errno);
    if (!rc && rename(tmp, path))
        rc = fail_errno(&req->err, S3DLIO_E_IO, "put", req->key, errno);
    if (rc && tmp)
        unlink(tmp);
    free(tmp);
    free(dir);
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
            return fail(&req->err, S3DLIO_E_USAGE, "get", key, 0, "GET without a sink");
        return S3DLIO_OK;
    case S3DLIO_REQ_PUT:
        if (req->length == S3DLIO_LEN_TO_END || (req->length && !req->source))
            return fail(&req->err, S3DLIO_E_USAGE, "put", key, 0,
                        "PUT needs a body size and a source");
        return S3DLIO_OK;
    case S3DLIO_REQ_PUT_PART:
        return fail(&req->err, S3DLIO_E_UNSUPPORTED, "put", key, 0,
                    "the file backend has no multipart upload");
    }
    return fail(&req->err, S3DLIO_E_USAGE, "submit", key, 0, "unknown request type %d",
                (int)req->op);
}

static void reset_results(struct s3dlio_req *req)
{
    req->http_status = 0;
    req->bytes = req->object_size = 0;
    req->etag[0] = '\0';
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
    cursor_free(s->cursor);
    free(s);
    be->state = NULL;
}

/* ---- directories for the CLI (be_file.h) ---- */

enum s3dlio_rc s3dlio_file_mkdir(const char *key, struct s3dlio_error *err)
{
    char *path = key_path(key);
    enum s3dlio_rc rc = mkdir_p(path, "mkdir", err);
    free(path);
    return rc;
}

enum s3dlio_rc s3dlio_file_rmdir(const char *key, struct s3dlio_error *err)
{
    char *path = key_path(key);
    int r = rmdir(path), e = errno;
    free(path);
    if (!r)
        return S3DLIO_OK;
    if (e == ENOENT)
        return fail_errno(err, S3DLIO_E_NOT_FOUND, "rmdir", key, e);
    if (e == ENOTEMPTY || e == EEXIST) /* POSIX allows either for a non-empty directory */
        return fail(err, S3DLIO_E_IO, "rmdir", key, e, "directory not empty");
    return fail_errno(err, S3DLIO_E_IO, "rmdir", key, e);
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
