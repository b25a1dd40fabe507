/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listings of the file:// backend: a walk of the directory tree in S3 key order (UTF-8
 * bytes, directories sorted as "name/"), paged like ListObjectsV2 with a prefix, an optional
 * "/" delimiter and continuation tokens that are plain keys. Temporary files of writers in
 * progress are never listed.
 */
#define _DEFAULT_SOURCE /* d_type, DT_* (glibc); also implies POSIX.1-2008 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backend/be_file_int.h"
#include "util/alloc.h"
#include "util/atomic_file.h"

/* ListObjectsV2 returns at most this many entries per page. */
#define MAX_KEYS_LIMIT 1000

enum kind {
    KIND_SKIP,
    KIND_FILE,
    KIND_DIR
};

static bool is_dot(const char *name)
{
    return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

/* One listed entry: an object or, in a delimited listing, a CommonPrefix. */
struct item {
    char *key; /* heap; NULL: the walk is over */
    uint64_t size;
    int64_t mtime;
    char etag[80];
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
struct s3dlio_file_cursor {
    char *prefix;
    bool delimited;
    char *seek; /* continuation: only keys strictly after it are wanted */
    char *last; /* last key returned: the token that resumes this cursor */
    struct level *levels;
    size_t depth, alloc;
    struct item pending; /* read ahead to learn whether the page was truncated */
};

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
static bool after_seek(const struct s3dlio_file_cursor *cur, const char *dirkey, const char *name, bool dir)
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
static void add_entry(const struct s3dlio_file_cursor *cur, struct level *lv, int dfd, const struct dirent *de,
                      const char *leaf)
{
    const char *name = de->d_name;
    if (is_dot(name) || s3dlio_is_tmp_name(name) || strncmp(name, leaf, strlen(leaf)))
        return;
    enum kind k = entry_kind(dfd, de);
    if (k == KIND_SKIP)
        return;
    char *ent = s3dlio_file_concat3(name, k == KIND_DIR ? "/" : "", "");
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
static int read_level(const struct s3dlio_file_cursor *cur, struct level *lv, const char *leaf, bool top)
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

void s3dlio_file_cursor_free(struct s3dlio_file_cursor *cur)
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
static enum s3dlio_rc push_level(struct s3dlio_file_cursor *cur, const char *dirkey, const char *leaf, bool top,
                                 struct s3dlio_error *err)
{
    struct level lv = { .path = s3dlio_file_key_path(dirkey) };
    int e = read_level(cur, &lv, leaf, top);
    if (e) {
        level_release(&lv);
        if (e == ENOENT || (!top && (e == ENOTDIR || e == ELOOP)))
            return S3DLIO_OK; /* at the top: an unknown prefix lists nothing, as in S3 */
        return s3dlio_file_fail_errno(err, S3DLIO_E_IO, "list", dirkey, e);
    }
    s3dlio_xgrow((void **)&cur->levels, sizeof(*cur->levels), cur->depth + 1, &cur->alloc);
    cur->levels[cur->depth++] = lv;
    return S3DLIO_OK;
}

/* Start a walk at the directory holding prefix: only that subtree is ever read. */
static enum s3dlio_rc cursor_new(const char *prefix, bool delimited, const char *seek,
                                 struct s3dlio_file_cursor **out, struct s3dlio_error *err)
{
    struct s3dlio_file_cursor *cur = s3dlio_xcalloc(1, sizeof(*cur));
    cur->prefix = s3dlio_xstrdup(prefix);
    cur->delimited = delimited;
    cur->seek = seek ? s3dlio_xstrdup(seek) : NULL;
    const char *slash = strrchr(prefix, '/');
    size_t dlen = slash ? (size_t)(slash - prefix) + 1 : 0;
    char *dirkey = s3dlio_xstrndup(prefix, dlen);
    enum s3dlio_rc rc = push_level(cur, dirkey, prefix + dlen, true, err);
    free(dirkey);
    if (rc) {
        s3dlio_file_cursor_free(cur);
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
        if (is_dot(de->d_name) || s3dlio_is_tmp_name(de->d_name))
            continue;
        enum kind k = entry_kind(fd, de);
        found = k == KIND_FILE || (k == KIND_DIR && has_objects(fd, de->d_name));
    }
    closedir(d);
    return found;
}

static void visit_file(char *key, struct item *item)
{
    char *path = s3dlio_file_key_path(key);
    struct stat st;
    bool ok = !stat(path, &st) && S_ISREG(st.st_mode); /* else gone or replaced since readdir */
    free(path);
    if (ok) {
        *item = (struct item){ .key = key, .size = (uint64_t)st.st_size, .mtime = (int64_t)st.st_mtime };
        s3dlio_file_etag(&st, item->etag);
    } else {
        free(key);
    }
}

/* Recursive: descend. Delimited: the directory is a CommonPrefix if it holds objects. */
static enum s3dlio_rc visit_dir(struct s3dlio_file_cursor *cur, char *key, struct item *item,
                                struct s3dlio_error *err)
{
    if (!cur->delimited) {
        enum s3dlio_rc rc = push_level(cur, key, "", false, err);
        free(key);
        return rc;
    }
    char *path = s3dlio_file_key_path(key);
    bool show = has_objects(AT_FDCWD, path);
    free(path);
    if (show)
        *item = (struct item){ .key = key, .mtime = -1, .is_prefix = true };
    else
        free(key);
    return S3DLIO_OK;
}

/* The next entry in S3 order, or item->key NULL at the end of the walk. */
static enum s3dlio_rc cursor_next(struct s3dlio_file_cursor *cur, struct item *item, struct s3dlio_error *err)
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
        char *key = s3dlio_file_concat3(lv->path + 1, name, "");
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
static enum s3dlio_rc fill_page(struct s3dlio_file_cursor *cur, int max, struct s3dlio_list_page *page,
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
            s3dlio_objlist_add(&page->list, it.key, it.size, it.mtime, it.etag);
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
static struct s3dlio_file_cursor *take_cursor(struct s3dlio_file_cursor **cache, const char *prefix,
                                             bool delimited, const char *token)
{
    struct s3dlio_file_cursor *cur = *cache;
    *cache = NULL;
    if (cur && token && cur->delimited == delimited && !strcmp(cur->prefix, prefix) &&
        !strcmp(cur->last, token))
        return cur;
    s3dlio_file_cursor_free(cur);
    return NULL;
}

enum s3dlio_rc s3dlio_file_list(struct s3dlio_file_cursor **cache, const struct s3dlio_list_req *req,
                                struct s3dlio_list_page *page, struct s3dlio_error *err)
{
    const char *prefix = req->prefix ? req->prefix : "";
    const char *delim = req->delimiter ? req->delimiter : "";
    memset(page, 0, sizeof(*page));
    if (delim[0] && strcmp(delim, "/"))
        return s3dlio_file_fail(err, S3DLIO_E_USAGE, "list", prefix, 0,
                    "delimiter '%s' is not supported by the file backend (use '/' or none)", delim);
    int max = req->max_keys > 0 && req->max_keys < MAX_KEYS_LIMIT ? req->max_keys : MAX_KEYS_LIMIT;
    bool delimited = delim[0] != '\0';
    struct s3dlio_file_cursor *cur = take_cursor(cache, prefix, delimited, req->continuation);
    enum s3dlio_rc rc = S3DLIO_OK;
    if (!cur)
        rc = cursor_new(prefix, delimited, req->continuation ? req->continuation : req->start_after,
                        &cur, err);
    if (!rc)
        rc = fill_page(cur, max, page, err);
    if (!rc && page->truncated)
        *cache = cur;
    else
        s3dlio_file_cursor_free(cur);
    if (rc)
        s3dlio_list_page_release(page);
    return rc;
}

