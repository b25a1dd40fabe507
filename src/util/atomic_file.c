/* SPDX-License-Identifier: Apache-2.0 */
/* Destination files written atomically, beneath their root without following links. */
#include "util/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/alloc.h"

/* Bytes of the final name kept in a temporary name, so it stays under NAME_MAX (255). */
#define TMP_BASE_MAX 200

/* Process-wide: two writers of one process must not pick the same temporary name. */
static atomic_ulong tmp_counter;

/* mkdir -p of the root the user named (links allowed: it is theirs). */
static int make_root(char *dir)
{
    struct stat st;
    if (!*dir || !stat(dir, &st))
        return 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int r = mkdir(dir, 0777);
        *p = '/';
        if (r && errno != EEXIST)
            return -1;
    }
    return mkdir(dir, 0777) && errno != EEXIST ? -1 : 0;
}

static int open_root(const char *path, size_t root_len, struct s3dlio_error *err, const char *op,
                     const char *full)
{
    char *root = s3dlio_xstrndup(path, root_len);
    while (root_len > 1 && root[root_len - 1] == '/')
        root[--root_len] = '\0';
    int fd = -1;
    if (make_root(root) == 0)
        fd = open(*root ? root : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        s3dlio_error_sys(err, op, *root ? root : full, errno, "cannot open the destination directory");
    free(root);
    return fd;
}

/* Why a directory below the root could not be entered, in the user's terms. */
static enum s3dlio_rc walk_fail(struct s3dlio_error *err, const char *op, const char *full,
                                size_t upto, int e)
{
    char *sub = s3dlio_xstrndup(full, upto);
    enum s3dlio_rc rc;
    if (e == ELOOP)
        rc = s3dlio_error_set(err, S3DLIO_E_IO, op, full, "'%s' is a symbolic link: refusing to "
                              "write through it (it may lead outside the destination)", sub);
    else if (e == ENOTDIR || e == EEXIST)
        rc = s3dlio_error_set(err, S3DLIO_E_IO, op, full, "'%s' is a file, so nothing can be "
                              "written below it (a key is both an object and a prefix?)", sub);
    else if (e == ENAMETOOLONG)
        rc = s3dlio_error_set(err, S3DLIO_E_IO, op, full, "a name in '%s' is too long for the "
                              "file system", sub);
    else
        rc = s3dlio_error_set(err, S3DLIO_E_IO, op, full, "cannot create directory '%s': %s", sub,
                              strerror(e));
    if (err)
        err->sys_errno = e;
    free(sub);
    return rc;
}

/* Enter (creating as needed) each directory of rel's dirname below dirfd; no links. */
static enum s3dlio_rc walk(int *dirfd, const char *full, size_t rel_at, const char *op,
                           struct s3dlio_error *err)
{
    const char *rel = full + rel_at;
    for (const char *slash; (slash = strchr(rel, '/'));) {
        size_t n = (size_t)(slash - rel);
        if (n) {
            char *comp = s3dlio_xstrndup(rel, n);
            int e = 0, fd;
            struct stat st;
            if (mkdirat(*dirfd, comp, 0777) && errno != EEXIST)
                e = errno;
            fd = e ? -1 : openat(*dirfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0 && !e)
                e = errno;
            /* a link gives ELOOP or ENOTDIR depending on the kernel: ask what it is */
            if (fd < 0 && (e == ENOTDIR || e == ELOOP) &&
                !fstatat(*dirfd, comp, &st, AT_SYMLINK_NOFOLLOW))
                e = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
            free(comp);
            if (fd < 0)
                return walk_fail(err, op, full, (size_t)(slash - full), e);
            close(*dirfd);
            *dirfd = fd;
        }
        rel = slash + 1;
    }
    return S3DLIO_OK;
}

static enum s3dlio_rc check_name(int dirfd, const char *name, const char *op, const char *full,
                                 struct s3dlio_error *err)
{
    long max = fpathconf(dirfd, _PC_NAME_MAX);
    if (max <= 0)
        max = NAME_MAX;
    if (!*name)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, op, full, "no file name (ends with '/')");
    if (strlen(name) > (size_t)max)
        return s3dlio_error_set(err, S3DLIO_E_IO, op, full, "file name of %zu bytes is longer "
                                "than the file system allows (%ld)", strlen(name), max);
    return S3DLIO_OK;
}

/*
 * A rename replaces whatever has the name: over /dev/null or a FIFO it would put a regular
 * file where a device was (as root, for every user of the machine). Only regular files,
 * links and names not there yet may be replaced; the rename refuses directories itself.
 */
static enum s3dlio_rc check_replaceable(int dirfd, const char *name, const char *op,
                                        const char *full, struct s3dlio_error *err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
        return S3DLIO_OK;
    if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode))
        return S3DLIO_OK;
    return s3dlio_error_set(err, S3DLIO_E_USAGE, op, full, "is a %s: refusing to replace it with "
                            "a file", S_ISFIFO(st.st_mode) ? "FIFO" : S_ISSOCK(st.st_mode)
                            ? "socket" : "device");
}

static enum s3dlio_rc create_tmp(struct s3dlio_atomic_file *f, const char *op,
                                 struct s3dlio_error *err)
{
    size_t cap = TMP_BASE_MAX + sizeof(S3DLIO_TMP_TAG) + 48;
    for (int tries = 0; tries < 100; tries++) {
        unsigned long n = atomic_fetch_add(&tmp_counter, 1);
        f->tmp = s3dlio_xmalloc(cap);
        snprintf(f->tmp, cap, ".%.*s" S3DLIO_TMP_TAG "%ld.%lu", TMP_BASE_MAX, f->name,
                 (long)getpid(), n);
        /* read-write: --verify reads back parts that landed ahead of its in-order hash */
        f->fd = openat(f->dirfd, f->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (f->fd >= 0)
            return S3DLIO_OK;
        int e = errno;
        free(f->tmp);
        f->tmp = NULL;
        if (e != EEXIST)
            return s3dlio_error_sys(err, op, f->path, e, "cannot create a temporary file");
    }
    return s3dlio_error_sys(err, op, f->path, EEXIST, "no free temporary file name");
}

static void release(struct s3dlio_atomic_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    if (f->dirfd >= 0)
        close(f->dirfd);
    free(f->path);
    free(f->name);
    free(f->tmp);
    *f = (struct s3dlio_atomic_file)S3DLIO_ATOMIC_FILE_INIT;
}

enum s3dlio_rc s3dlio_atomic_open(struct s3dlio_atomic_file *f, const char *path, size_t root_len,
                                  const char *op, struct s3dlio_error *err)
{
    *f = (struct s3dlio_atomic_file)S3DLIO_ATOMIC_FILE_INIT;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    /* the root is a directory, never the file itself; 0: the whole directory part */
    if (!root_len || (size_t)(base - path) < root_len)
        root_len = (size_t)(base - path);
    f->path = s3dlio_xstrdup(path);
    f->name = s3dlio_xstrdup(base);
    f->dirfd = open_root(path, root_len, err, op, path);
    enum s3dlio_rc rc = f->dirfd < 0 ? S3DLIO_E_IO : S3DLIO_OK;
    if (!rc)
        rc = walk(&f->dirfd, f->path, root_len, op, err);
    if (!rc)
        rc = check_name(f->dirfd, f->name, op, path, err);
    if (!rc)
        rc = check_replaceable(f->dirfd, f->name, op, path, err);
    if (!rc)
        rc = create_tmp(f, op, err);
    if (rc)
        release(f);
    return rc;
}

enum s3dlio_rc s3dlio_atomic_open_or_device(struct s3dlio_atomic_file *f, const char *path,
                                            size_t root_len, const char *op,
                                            struct s3dlio_error *err)
{
    struct stat st;
    if (stat(path, &st) || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)))
        return s3dlio_atomic_open(f, path, root_len, op, err);
    *f = (struct s3dlio_atomic_file)S3DLIO_ATOMIC_FILE_INIT;
    f->fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    int flags = f->fd < 0 ? -1 : fcntl(f->fd, F_GETFL);
    if (flags < 0 || fcntl(f->fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        enum s3dlio_rc rc = s3dlio_error_sys(err, op, path, errno, "cannot open");
        release(f);
        return rc;
    }
    f->path = s3dlio_xstrdup(path);
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_atomic_commit(struct s3dlio_atomic_file *f, bool sync, const char *op,
                                    struct s3dlio_error *err)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    if (sync && f->tmp && fsync(f->fd)) /* a device in place: nothing to make durable */
        rc = s3dlio_error_sys(err, op, f->path, errno, "fsync failed");
    /* close reports delayed write errors (NFS, quotas): only then is the data known written */
    int r = close(f->fd);
    f->fd = -1;
    if (!rc && r)
        rc = s3dlio_error_sys(err, op, f->path, errno, "close failed");
    if (!rc && f->tmp && renameat(f->dirfd, f->tmp, f->dirfd, f->name)) {
        int e = errno;
        if (e == EISDIR || e == ENOTEMPTY || e == EEXIST)
            rc = s3dlio_error_set(err, S3DLIO_E_IO, op, f->path, "'%s' is a directory (another "
                                  "key has it as a prefix)", f->path);
        else
            rc = s3dlio_error_sys(err, op, f->path, e, "rename failed");
    }
    if (!rc && f->tmp) {
        free(f->tmp);
        f->tmp = NULL;
        /* the new name is durable only once its directory is */
        if (sync && fsync(f->dirfd))
            rc = s3dlio_error_sys(err, op, f->path, errno, "fsync of the directory failed");
    }
    s3dlio_atomic_discard(f);
    return rc;
}

void s3dlio_atomic_discard(struct s3dlio_atomic_file *f)
{
    if (f->tmp && f->dirfd >= 0)
        unlinkat(f->dirfd, f->tmp, 0);
    release(f);
}

char *s3dlio_atomic_keep(struct s3dlio_atomic_file *f)
{
    char *tmp = NULL;
    if (f->tmp) {
        const char *slash = strrchr(f->path, '/');
        size_t dir = slash ? (size_t)(slash - f->path) + 1 : 0, n = dir + strlen(f->tmp) + 1;
        tmp = malloc(n);
        if (tmp)
            snprintf(tmp, n, "%.*s%s", (int)dir, f->path, f->tmp);
        free(f->tmp);
        f->tmp = NULL; /* kept: release must not remove it */
    }
    release(f);
    return tmp;
}
