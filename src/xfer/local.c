/* SPDX-License-Identifier: Apache-2.0 */
/* Local sinks and sources of the transfer engine (see local.h). */
#include "xfer/local.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/alloc.h"
#include "xfer/datagen.h"

static enum s3dlio_rc sys_error(struct s3dlio_error *err, const char *op, const char *path,
                                const char *what)
{
    int e = errno;
    enum s3dlio_rc rc = s3dlio_error_set(err, S3DLIO_E_IO, op, path, "%s: %s", what, strerror(e));
    if (err)
        err->sys_errno = e;
    return rc;
}

int s3dlio_local_make_parents(const char *path)
{
    char *dir = s3dlio_xstrdup(path);
    int rc = 0;
    for (char *p = dir + 1; *p && !rc; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) && errno != EEXIST)
            rc = -1;
        *p = '/';
    }
    free(dir);
    return rc;
}

static enum s3dlio_rc open_get_file(struct s3dlio_local *l, const char *path, struct s3dlio_error *err)
{
    static unsigned counter;
    size_t n = strlen(path) + 64;
    l->tmp = s3dlio_xmalloc(n);
    snprintf(l->tmp, n, "%s.s3dlio-tmp.%ld.%u", path, (long)getpid(), counter++);
    if (s3dlio_local_make_parents(path))
        return sys_error(err, "get", path, "cannot create directory");
    l->fd = open(l->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (l->fd < 0)
        return sys_error(err, "get", path, "cannot create");
    return S3DLIO_OK;
}

static enum s3dlio_rc open_put_file(struct s3dlio_local *l, const char *path, uint64_t *size,
                                    struct s3dlio_error *err)
{
    struct stat sb;
    l->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (l->fd < 0)
        return sys_error(err, "put", path, "cannot open");
    if (fstat(l->fd, &sb))
        return sys_error(err, "put", path, "cannot stat");
    if (!S_ISREG(sb.st_mode))
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "put", path, "not a regular file");
    *size = (uint64_t)sb.st_size;
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_local_open(struct s3dlio_local *l, const struct s3dlio_xfer_job *job,
                                 uint64_t *size, struct s3dlio_error *err)
{
    memset(l, 0, sizeof(*l));
    l->job = job;
    l->fd = -1;
    if (job->local == S3DLIO_LOCAL_FILE)
        return job->dir == S3DLIO_XFER_GET ? open_get_file(l, job->path, err)
                                           : open_put_file(l, job->path, size, err);
    if (job->local == S3DLIO_LOCAL_MEMORY && (!job->mem && job->size))
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "xfer", job->key, "no memory region given");
    if (job->local == S3DLIO_LOCAL_GENERATOR && !job->gen)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "xfer", job->key, "no generator given");
    if (job->dir == S3DLIO_XFER_PUT && job->local == S3DLIO_LOCAL_DISCARD)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "put", job->key, "nothing to upload from");
    if (job->dir == S3DLIO_XFER_PUT && job->size == S3DLIO_SIZE_UNKNOWN)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "put", job->key, "size not given");
    return S3DLIO_OK;
}

static enum s3dlio_rc write_file(struct s3dlio_local *l, uint64_t offset, const char *p, size_t len,
                                 struct s3dlio_error *err)
{
    while (len) {
        ssize_t w = pwrite(l->fd, p, len, (off_t)offset);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return sys_error(err, "get", l->job->path, "write failed");
        p += w;
        len -= (size_t)w;
        offset += (uint64_t)w;
    }
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_local_write(struct s3dlio_local *l, uint64_t offset, const void *data,
                                  size_t len, struct s3dlio_error *err)
{
    const struct s3dlio_xfer_job *job = l->job;
    uint64_t bad = 0;
    switch (job->local) {
    case S3DLIO_LOCAL_MEMORY:
        memcpy((char *)job->mem + offset, data, len);
        return S3DLIO_OK;
    case S3DLIO_LOCAL_FILE:
        return write_file(l, offset, data, len, err);
    case S3DLIO_LOCAL_GENERATOR:
        if (s3dlio_gen_verify(job->gen, job->key, offset, data, len, &bad))
            return S3DLIO_OK;
        return s3dlio_error_set(err, S3DLIO_E_INTEGRITY, "get", job->key,
                                "data differs from the generated pattern at offset %" PRIu64, bad);
    case S3DLIO_LOCAL_DISCARD:
        break;
    }
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_local_read(struct s3dlio_local *l, uint64_t offset, void *buf, size_t len,
                                 size_t *got, struct s3dlio_error *err)
{
    const struct s3dlio_xfer_job *job = l->job;
    uint64_t avail = offset < job->size ? job->size - offset : 0;
    ssize_t r;
    *got = 0;
    switch (job->local) {
    case S3DLIO_LOCAL_MEMORY:
        *got = avail < len ? (size_t)avail : len;
        memcpy(buf, (const char *)job->mem + offset, *got);
        return S3DLIO_OK;
    case S3DLIO_LOCAL_GENERATOR:
        *got = avail < len ? (size_t)avail : len;
        s3dlio_gen_fill(job->gen, job->key, offset, buf, *got);
        return S3DLIO_OK;
    case S3DLIO_LOCAL_FILE:
        do
            r = pread(l->fd, buf, len, (off_t)offset);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return sys_error(err, "put", job->path, "read failed");
        *got = (size_t)r;
        return S3DLIO_OK;
    case S3DLIO_LOCAL_DISCARD:
        break;
    }
    return S3DLIO_E_USAGE;
}

enum s3dlio_rc s3dlio_local_close(struct s3dlio_local *l, bool complete, struct s3dlio_error *err)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    bool get_file = l->job && l->job->dir == S3DLIO_XFER_GET && l->tmp;
    if (l->fd >= 0 && close(l->fd) && complete && get_file)
        rc = sys_error(err, "get", l->job->path, "close failed");
    l->fd = -1;
    if (get_file && complete && !rc && rename(l->tmp, l->job->path))
        rc = sys_error(err, "get", l->job->path, "rename failed");
    if (get_file && (!complete || rc))
        unlink(l->tmp); /* a failed object must not look complete, nor linger half-written */
    free(l->tmp);
    l->tmp = NULL;
    return rc;
}
