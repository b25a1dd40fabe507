/* SPDX-License-Identifier: Apache-2.0 */
/* The local tree of an upload, with what is skipped and why (see file_tree.h). */
#define _DEFAULT_SOURCE /* d_type, DT_* (glibc) */
#include "backend/file_tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/atomic_file.h"
#include "util/log.h"
#include "util/printable.h"

/* The directories being walked, root first: a followed link back into one is a loop. */
struct ancestors {
    dev_t dev[256];
    ino_t ino[256];
    size_t n;
};

struct walk {
    bool follow;
    struct s3dlio_tree *out;
    struct ancestors up;
    struct s3dlio_error *err;
    const char *root;
};

/* A failed system call on root/rel, named as the user would find it. */
static enum s3dlio_rc fail(const struct walk *w, const char *rel, int e, const char *what)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s%s%s", w->root, rel[0] ? "/" : "", rel);
    return s3dlio_error_sys(w->err, "put", path, e, what);
}

static void skip(struct s3dlio_tree *t, const char *rel, const char *why)
{
    s3dlio_xgrow((void **)&t->skipped, sizeof(*t->skipped), t->nskipped + 1, &t->skipped_alloc);
    t->skipped[t->nskipped++] = (struct s3dlio_tree_skip){s3dlio_xstrdup(rel), why};
}

static bool is_ancestor(const struct ancestors *up, const struct stat *st)
{
    for (size_t i = 0; i < up->n; i++)
        if (up->dev[i] == st->st_dev && up->ino[i] == st->st_ino)
            return true;
    return false;
}

static const char *kind_name(mode_t m)
{
    return S_ISFIFO(m) ? "FIFO (named pipe)" : S_ISSOCK(m) ? "socket"
           : S_ISCHR(m) || S_ISBLK(m) ? "device" : "not a regular file";
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted, without "." / ".." and our temporary files. */
static int read_names(int fd, char ***names, size_t *n)
{
    DIR *d = fdopendir(fd);
    size_t alloc = 0;
    int e = 0;
    *names = NULL;
    *n = 0;
    if (!d) {
        e = errno;
        close(fd);
        return e;
    }
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            e = errno;
            break;
        }
        const char *nm = de->d_name;
        if ((nm[0] == '.' && (!nm[1] || (nm[1] == '.' && !nm[2]))) || s3dlio_is_tmp_name(nm))
            continue;
        s3dlio_xgrow((void **)names, sizeof(**names), *n + 1, &alloc);
        (*names)[(*n)++] = s3dlio_xstrdup(nm);
    }
    closedir(d);
    if (*n)
        qsort(*names, *n, sizeof(**names), cmp_names);
    return e;
}

static enum s3dlio_rc walk_dir(struct walk *w, int fd, const char *rel);

/* One entry of a directory: a file to send, a directory to enter, or a skip with reason. */
static enum s3dlio_rc visit(struct walk *w, int dfd, const char *name, const char *rel)
{
    struct stat lst, st;
    if (fstatat(dfd, name, &lst, AT_SYMLINK_NOFOLLOW))
        return errno == ENOENT ? S3DLIO_OK : fail(w, rel, errno, "stat failed");
    bool link = S_ISLNK(lst.st_mode);
    if (link && fstatat(dfd, name, &st, 0)) {
        skip(w->out, rel, errno == ELOOP ? "symbolic link loop" : "dangling symbolic link");
        return S3DLIO_OK;
    }
    if (!link)
        st = lst;
    if (S_ISREG(st.st_mode)) {
        s3dlio_objlist_add(&w->out->files, rel, (uint64_t)st.st_size, (int64_t)st.st_mtime, NULL);
        return S3DLIO_OK;
    }
    if (!S_ISDIR(st.st_mode)) {
        skip(w->out, rel, kind_name(st.st_mode));
        return S3DLIO_OK;
    }
    if (link && !w->follow) {
        skip(w->out, rel, "symbolic link to a directory (--follow-symlinks follows it)");
        return S3DLIO_OK;
    }
    if (is_ancestor(&w->up, &st)) {
        skip(w->out, rel, "symbolic link loop (a link back to a directory above it)");
        return S3DLIO_OK;
    }
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(w, rel, errno, "cannot open the directory");
    return walk_dir(w, fd, rel);
}

/* Walk the open directory fd (consumed) whose path below the root is rel ("" at the top). */
static enum s3dlio_rc walk_dir(struct walk *w, int fd, const char *rel)
{
    struct stat st;
    char **names = NULL;
    size_t n = 0;
    if (fstat(fd, &st)) {
        close(fd);
        return fail(w, rel, errno, "stat failed");
    }
    if (w->up.n == sizeof(w->up.dev) / sizeof(w->up.dev[0])) {
        close(fd);
        return s3dlio_error_set(w->err, S3DLIO_E_LIMIT, "put", rel, "directories nested too deep");
    }
    int dfd = dup(fd); /* read_names hands fd to the DIR stream; entries are looked up here */
    int e = dfd < 0 ? errno : read_names(fd, &names, &n);
    enum s3dlio_rc rc = e ? fail(w, rel, e, "cannot read the directory") : S3DLIO_OK;
    if (e && dfd < 0)
        close(fd);
    w->up.dev[w->up.n] = st.st_dev;
    w->up.ino[w->up.n++] = st.st_ino;
    for (size_t i = 0; i < n; i++) {
        if (!rc) {
            char *child = NULL;
            if (asprintf(&child, "%s%s%s", rel, rel[0] ? "/" : "", names[i]) < 0)
                child = NULL;
            rc = child ? visit(w, dfd, names[i], child)
                       : s3dlio_error_set(w->err, S3DLIO_E_INTERNAL, "put", rel, "out of memory");
            free(child);
        }
        free(names[i]);
    }
    w->up.n--;
    free(names);
    if (dfd >= 0)
        close(dfd);
    return rc;
}

enum s3dlio_rc s3dlio_tree_list(const char *root, bool follow_links, struct s3dlio_tree *out,
                                struct s3dlio_error *err)
{
    struct walk w = {.follow = follow_links, .out = out, .err = err, .root = root};
    memset(out, 0, sizeof(*out));
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return s3dlio_error_sys(err, "put", root, errno, "cannot open the directory");
    enum s3dlio_rc rc = walk_dir(&w, fd, "");
    if (rc)
        s3dlio_tree_release(out);
    return rc;
}

void s3dlio_tree_release(struct s3dlio_tree *t)
{
    s3dlio_objlist_release(&t->files);
    for (size_t i = 0; i < t->nskipped; i++)
        free(t->skipped[i].path);
    free(t->skipped);
    memset(t, 0, sizeof(*t));
}

void s3dlio_tree_warn_skipped(const struct s3dlio_tree *t, const char *root)
{
    char shown[4096];
    for (size_t i = 0; i < t->nskipped; i++)
        S3DLIO_LOG(S3DLIO_LOG_WARN, S3DLIO_SUB_XFER, "put: skipped '%s/%s': %s", root,
                   s3dlio_printable(t->skipped[i].path, shown, sizeof(shown), false),
                   t->skipped[i].why);
}
