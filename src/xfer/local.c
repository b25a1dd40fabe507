/* SPDX-License-Identifier: Apache-2.0 */
/* Local sinks and sources of the transfer engine (see local.h). */
#include "xfer/local.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/alloc.h"
#include "xfer/datagen.h"

static enum s3dlio_rc open_put_file(struct s3dlio_local *l, const char *path, uint64_t *size,
                                    struct s3dlio_error *err)
{
    struct stat sb;
    /* O_NONBLOCK: a FIFO must not hang the open; it is refused below like any non-file */
    l->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (l->fd < 0)
        return s3dlio_error_sys(err, "put", path, errno, "cannot open");
    if (fstat(l->fd, &sb))
        return s3dlio_error_sys(err, "put", path, errno, "cannot stat");
    if (!S_ISREG(sb.st_mode))
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "put", path, "not a regular file");
    *size = (uint64_t)sb.st_size;
    return S3DLIO_OK;
}

void s3dlio_local_init(struct s3dlio_local *l, const struct s3dlio_xfer_job *job)
{
    memset(l, 0, sizeof(*l));
    l->job = job;
    l->fd = -1;
    l->out = (struct s3dlio_atomic_file)S3DLIO_ATOMIC_FILE_INIT;
}

enum s3dlio_rc s3dlio_local_open(struct s3dlio_local *l, const struct s3dlio_xfer_job *job,
                                 uint64_t *size, struct s3dlio_error *err)
{
    s3dlio_local_init(l, job);
    if (job->local == S3DLIO_LOCAL_FILE)
        return job->dir == S3DLIO_XFER_GET
                   ? s3dlio_atomic_open(&l->out, job->path, job->path_root, "get", err)
                   : open_put_file(l, job->path, size, err);
    if (job->local == S3DLIO_LOCAL_MEMORY && (!job->mem && job->size))
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "xfer", job->key, "no memory region given");
    if (job->local == S3DLIO_LOCAL_SINK && (job->dir != S3DLIO_XFER_GET || !job->sink ||
                                             !job->sink->write))
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "xfer", job->key, "no sink given for a GET");
    if (job->local == S3DLIO_LOCAL_GENERATOR && !job->gen)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "xfer", job->key, "no generator given");
    if (job->dir == S3DLIO_XFER_PUT && job->local == S3DLIO_LOCAL_DISCARD)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "put", job->key, "nothing to upload from");
    if (job->dir == S3DLIO_XFER_PUT && job->local == S3DLIO_LOCAL_STREAM && job->fd < 0)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "put", job->key, "no stream given");
    if (job->dir == S3DLIO_XFER_PUT && job->size == S3DLIO_SIZE_UNKNOWN &&
        job->local != S3DLIO_LOCAL_STREAM)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "put", job->key, "size not given");
    return S3DLIO_OK;
}

static enum s3dlio_rc write_at(int fd, uint64_t offset, const char *p, size_t len, bool positional,
                               const char *path, struct s3dlio_error *err)
{
    while (len) {
        ssize_t w = positional ? pwrite(fd, p, len, (off_t)offset) : write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return s3dlio_error_sys(err, "get", path, errno, "write failed");
        }
        p += w;
        len -= (size_t)w;
        offset += (uint64_t)w;
    }
    return S3DLIO_OK;
}

static enum s3dlio_rc write_stream(struct s3dlio_local *l, uint64_t offset, const void *data,
                                   size_t len, struct s3dlio_error *err)
{
    /* a pipe cannot seek: the engine sends a stream's bytes in order, whole-object only */
    if (offset != l->streamed)
        return s3dlio_error_set(err, S3DLIO_E_INTERNAL, "get", l->job->key,
                                "stream write at %" PRIu64 " after %" PRIu64 " bytes", offset,
                                l->streamed);
    enum s3dlio_rc rc = write_at(l->job->fd, offset, data, len, false, "-", err);
    if (!rc)
        l->streamed += len;
    return rc;
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
        return write_at(l->out.fd, offset, data, len, true, job->path, err);
    case S3DLIO_LOCAL_STREAM:
        return write_stream(l, offset, data, len, err);
    case S3DLIO_LOCAL_SINK:
        return job->sink->write(job->sink_ud, job, offset, data, len, err);
    case S3DLIO_LOCAL_GENERATOR:
        if (s3dlio_gen_verify(job->gen, job->key, offset, data, len, &bad))
            return S3DLIO_OK;
        return s3dlio_error_set(err, S3DLIO_E_MISMATCH, "get", job->key,
                                "data differs from the generated pattern at offset %" PRIu64
                                " (written with another --seed or factors?)", bad);
    case S3DLIO_LOCAL_DISCARD:
        break;
    }
    return S3DLIO_OK;
}

static enum s3dlio_rc pread_full(int fd, uint64_t offset, void *buf, size_t len, size_t *got,
                                 const char *op, const char *path, struct s3dlio_error *err)
{
    ssize_t r;
    do
        r = pread(fd, buf, len, (off_t)offset);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return s3dlio_error_sys(err, op, path, errno, "read failed");
    *got = (size_t)r;
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_local_read(struct s3dlio_local *l, uint64_t offset, void *buf, size_t len,
                                 size_t *got, struct s3dlio_error *err)
{
    const struct s3dlio_xfer_job *job = l->job;
    uint64_t avail = offset < job->size ? job->size - offset : 0;
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
        return pread_full(l->fd, offset, buf, len, got, "put", job->path, err);
    case S3DLIO_LOCAL_STREAM:
    case S3DLIO_LOCAL_DISCARD:
    case S3DLIO_LOCAL_SINK:
        break;
    }
    return S3DLIO_E_USAGE;
}

enum s3dlio_rc s3dlio_local_pull(struct s3dlio_local *l, void *buf, size_t len, size_t *got,
                                 bool *eof, struct s3dlio_error *err)
{
    struct pollfd p = {.fd = l->job->fd, .events = POLLIN};
    *got = 0;
    *eof = false;
    /* the loop must go on driving the requests in flight while the input is slow */
    if (poll(&p, 1, 0) <= 0)
        return S3DLIO_OK; /* nothing yet, or EINTR: the loop looks again */
    ssize_t r = read(l->job->fd, buf, len);
    if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return S3DLIO_OK;
    if (r < 0)
        return s3dlio_error_sys(err, "put", l->job->key, errno, "reading the input failed");
    *got = (size_t)r;
    *eof = r == 0;
    l->streamed += (uint64_t)r;
    return S3DLIO_OK;
}

void s3dlio_local_wait_input(const struct s3dlio_local *l, int timeout_ms)
{
    struct pollfd p = {.fd = l->job->fd, .events = POLLIN};
    poll(&p, 1, timeout_ms); /* readable, ended, an error or a signal: the caller reads */
}

bool s3dlio_local_can_reread(const struct s3dlio_local *l)
{
    enum s3dlio_xfer_local k = l->job->local;
    return k == S3DLIO_LOCAL_MEMORY || k == S3DLIO_LOCAL_FILE || k == S3DLIO_LOCAL_GENERATOR ||
           (k == S3DLIO_LOCAL_SINK && l->job->sink->reread);
}

enum s3dlio_rc s3dlio_local_reread(struct s3dlio_local *l, uint64_t offset, void *buf, size_t len,
                                   struct s3dlio_error *err)
{
    const struct s3dlio_xfer_job *job = l->job;
    size_t got = 0;
    enum s3dlio_rc rc = S3DLIO_OK;
    switch (job->local) {
    case S3DLIO_LOCAL_MEMORY:
        memcpy(buf, (const char *)job->mem + offset, len);
        return S3DLIO_OK;
    case S3DLIO_LOCAL_GENERATOR:
        /* the bytes received were checked equal to the pattern, so the pattern is them */
        s3dlio_gen_fill(job->gen, job->key, offset, buf, len);
        return S3DLIO_OK;
    case S3DLIO_LOCAL_FILE:
        rc = pread_full(l->out.fd, offset, buf, len, &got, "get", job->path, err);
        if (!rc && got != len)
            rc = s3dlio_error_set(err, S3DLIO_E_IO, "get", job->path,
                                  "reading back %zu bytes at %" PRIu64 " gave %zu", len, offset, got);
        return rc;
    case S3DLIO_LOCAL_SINK:
        if (job->sink->reread)
            return job->sink->reread(job->sink_ud, job, offset, buf, len, err);
        /* fall through */
    default:
        return s3dlio_error_set(err, S3DLIO_E_INTERNAL, "get", job->key, "cannot read back");
    }
}

enum s3dlio_rc s3dlio_local_restart(struct s3dlio_local *l, struct s3dlio_error *err)
{
    if (l->job->local == S3DLIO_LOCAL_FILE && l->out.fd >= 0 && ftruncate(l->out.fd, 0))
        return s3dlio_error_sys(err, "get", l->job->path, errno, "truncate failed");
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_local_close(struct s3dlio_local *l, bool complete, bool sync,
                                  struct s3dlio_error *err)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    if (l->job && l->job->local == S3DLIO_LOCAL_SINK && l->job->sink && l->job->sink->close &&
        !l->sink_closed) {
        l->sink_closed = true;
        return l->job->sink->close(l->job->sink_ud, l->job, complete, err);
    }
    /* a failed object must not look complete, nor linger half-written */
    if (complete && l->out.tmp)
        rc = s3dlio_atomic_commit(&l->out, sync, "get", err);
    else
        s3dlio_atomic_discard(&l->out);
    return rc;
}
