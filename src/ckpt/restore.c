/* SPDX-License-Identifier: Apache-2.0 */
/*
 * checkpoint restore: rank 0 resolves the name (or the latest pointer) and broadcasts the
 * manifest; every rank parses it, the parts are partitioned over the ranks of this job by
 * bytes, and each rank GETs its parts pinned to the manifest's ETags. Bytes land at their
 * final offsets in a temporary file per file (created by rank 0, written by every rank
 * with pwrite) or in memory; every part's CRC-32C is checked when it is complete. Only when
 * every rank agreed is an HDF5 file opened once read-only and are the files renamed into
 * place; any failure removes the temporary files.
 */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ckpt/ckpt_int.h"
#include "coord/coord_int.h"
#include "util/alloc.h"
#include "util/atomic_file.h"
#include "util/crc32c.h"

/* Where restored bytes go, shared by every part this rank fetches. */
struct restore_ctx {
    const struct s3dlio_ckpt_manifest *m;
    enum s3dlio_ckpt_dest dest;
    char **tmp;               /* TO_DIR: per file, its temporary path */
    int *fds;                 /* TO_DIR: per file, opened when a part of it first arrives */
    size_t *left;             /* TO_DIR: per file, this rank's parts of it not yet finished:
                                 at 0 its fd closes, so open files stay about the concurrency */
    bool sync;                /* --fsync: each file's data before its fd closes */
    const char *name;
};

/* One part of one file: a GET job's sink. */
struct part {
    struct restore_ctx *ctx;
    size_t file, index;
    uint64_t off, len;
    uint32_t want;            /* the manifest's CRC-32C */
    uint32_t crc;             /* of the bytes so far, while they arrive in order */
    uint64_t next;            /* the offset in-order bytes have reached */
    bool in_order;
    unsigned char *mem;       /* TO_MEM */
};

static enum s3dlio_rc part_fd(struct part *p, int *fd, struct s3dlio_error *err)
{
    struct restore_ctx *c = p->ctx;
    if (c->fds[p->file] < 0) {
        c->fds[p->file] = open(c->tmp[p->file], O_RDWR | O_CLOEXEC);
        if (c->fds[p->file] < 0)
            return s3dlio_error_sys(err, "checkpoint restore", c->tmp[p->file], errno,
                                    "cannot open (is the destination on a file system every "
                                    "rank shares?)");
    }
    *fd = c->fds[p->file];
    return S3DLIO_OK;
}

static enum s3dlio_rc sink_write(void *ud, const struct s3dlio_xfer_job *job, uint64_t offset,
                                 const void *data, size_t len, struct s3dlio_error *err)
{
    struct part *p = ud;
    (void)job;
    if (offset < p->off || offset + len > p->off + p->len)
        return s3dlio_error_set(err, S3DLIO_E_INTEGRITY, "checkpoint restore", job->key,
                                "bytes outside the part asked for");
    bool next = p->in_order && offset == p->next;
    if (!next)
        p->in_order = false; /* ranges out of order: the part is read back when whole */
    if (p->ctx->dest == S3DLIO_CKPT_TO_MEM) {
        if (next) /* copied and checksummed in one pass */
            p->crc = s3dlio_crc32c_copy(p->crc, p->mem + (offset - p->off), data, len);
        else
            memcpy(p->mem + (offset - p->off), data, len);
        p->next += next ? len : 0;
        return S3DLIO_OK;
    }
    if (next) {
        p->crc = s3dlio_crc32c(p->crc, data, len);
        p->next += len;
    }
    int fd;
    enum s3dlio_rc rc = part_fd(p, &fd, err);
    for (const char *at = data; !rc && len;) {
        ssize_t n = pwrite(fd, at, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return s3dlio_error_sys(err, "checkpoint restore", p->ctx->tmp[p->file],
                                    n < 0 ? errno : EIO, "write failed");
        at += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return rc;
}

static enum s3dlio_rc crc_read_back(struct part *p, uint32_t *crc, struct s3dlio_error *err)
{
    if (p->ctx->dest == S3DLIO_CKPT_TO_MEM) {
        *crc = s3dlio_crc32c(0, p->mem, (size_t)p->len);
        return S3DLIO_OK;
    }
    int fd;
    enum s3dlio_rc rc = part_fd(p, &fd, err);
    size_t cap = 1 << 20;
    unsigned char *buf = s3dlio_xmalloc(cap);
    *crc = 0;
    for (uint64_t at = 0; !rc && at < p->len;) {
        size_t want = p->len - at < cap ? (size_t)(p->len - at) : cap;
        ssize_t n = pread(fd, buf, want, (off_t)(p->off + at));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = s3dlio_error_sys(err, "checkpoint restore", p->ctx->tmp[p->file],
                                  n < 0 ? errno : EIO, "reading back failed");
        else
            *crc = s3dlio_crc32c(*crc, buf, (size_t)n);
        at += n > 0 ? (uint64_t)n : 0;
    }
    free(buf);
    return rc;
}

/* This rank's last part of a file finished: close it (reporting delayed write errors). */
static enum s3dlio_rc part_done(struct part *p, struct s3dlio_error *err)
{
    struct restore_ctx *c = p->ctx;
    if (c->dest != S3DLIO_CKPT_TO_DIR || --c->left[p->file] || c->fds[p->file] < 0)
        return S3DLIO_OK;
    int fd = c->fds[p->file];
    c->fds[p->file] = -1;
    enum s3dlio_rc rc = S3DLIO_OK;
    if (c->sync && fsync(fd))
        rc = s3dlio_error_sys(err, "checkpoint restore", c->tmp[p->file], errno, "fsync failed");
    if (close(fd) && !rc)
        rc = s3dlio_error_sys(err, "checkpoint restore", c->tmp[p->file], errno, "close failed");
    return rc;
}

static enum s3dlio_rc check_crc(struct part *p, const struct s3dlio_xfer_job *job,
                                struct s3dlio_error *err)
{
    uint32_t crc = p->crc;
    enum s3dlio_rc rc = S3DLIO_OK;
    if (!p->in_order || p->next != p->off + p->len)
        rc = crc_read_back(p, &crc, err);
    if (rc || crc == p->want)
        return rc;
    const struct s3dlio_ckpt_file *f = &p->ctx->m->files[p->file];
    return s3dlio_error_set(err, S3DLIO_E_INTEGRITY, "checkpoint restore", job->key,
                            "'%s' part %zu of %zu (bytes %" PRIu64 "-%" PRIu64 "): CRC-32C %08x, "
                            "the manifest says %08x", f->path, p->index + 1, f->nparts, p->off,
                            p->off + p->len - 1, crc, p->want);
}

static enum s3dlio_rc sink_close(void *ud, const struct s3dlio_xfer_job *job, bool complete,
                                 struct s3dlio_error *err)
{
    struct part *p = ud;
    enum s3dlio_rc rc = complete ? check_crc(p, job, err) : S3DLIO_OK;
    enum s3dlio_rc closed = part_done(p, rc ? NULL : err);
    return rc ? rc : closed;
}

static enum s3dlio_rc sink_reread(void *ud, const struct s3dlio_xfer_job *job, uint64_t offset,
                                  void *buf, size_t len, struct s3dlio_error *err)
{
    struct part *p = ud;
    (void)job;
    if (p->ctx->dest == S3DLIO_CKPT_TO_MEM) {
        memcpy(buf, p->mem + (offset - p->off), len);
        return S3DLIO_OK;
    }
    int fd;
    enum s3dlio_rc rc = part_fd(p, &fd, err);
    if (!rc && pread(fd, buf, len, (off_t)offset) != (ssize_t)len)
        rc = s3dlio_error_sys(err, "checkpoint restore", p->ctx->tmp[p->file], errno,
                              "reading back failed");
    return rc;
}

static const struct s3dlio_xfer_sink restore_sink = {sink_write, sink_close, sink_reread};

/* ---- the manifest ------------------------------------------------------------------------- */

/* Rank 0: the name to restore and its manifest's text. */
static enum s3dlio_rc fetch(struct s3dlio_backend *be, const struct ckpt_place *place,
                            const char *wanted, char name[S3DLIO_CKPT_NAME_MAX + 1], char **text,
                            size_t *len, struct s3dlio_error *err)
{
    enum s3dlio_rc rc;
    if (!wanted || !strcmp(wanted, S3DLIO_CKPT_LATEST)) {
        if ((rc = ckpt_read_latest(be, place, name, err)))
            return rc;
        if (!name[0])
            return s3dlio_error_set(err, S3DLIO_E_NOT_FOUND, "checkpoint restore", place->text,
                                    "no latest checkpoint here (none was saved, or none finished)");
    } else {
        if ((rc = ckpt_check_name(wanted, "checkpoint restore", err)))
            return rc;
        snprintf(name, S3DLIO_CKPT_NAME_MAX + 1, "%s", wanted);
    }
    return ckpt_fetch_manifest(be, place, name, text, len, err);
}

/* Rank 0 fetches, every rank parses the same text. Collective. */
static enum s3dlio_rc get_manifest(MPI_Comm comm, const struct s3dlio_config *cfg,
                                   const struct s3dlio_ckpt_restore_opts *o,
                                   const struct ckpt_place *place, struct s3dlio_ckpt_manifest *m,
                                   struct s3dlio_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    char name[S3DLIO_CKPT_NAME_MAX + 1] = "", *text = NULL;
    size_t len = 0;
    struct s3dlio_backend *be = NULL;
    enum s3dlio_rc rc = S3DLIO_OK;
    if (rank == 0 && !(rc = s3dlio_backend_new(&place->uri, cfg, &be, err)))
        rc = fetch(be, place, o->name, name, &text, &len, err);
    s3dlio_backend_free(be);
    if ((rc = s3dlio_coord_agree(comm, rc, err)))
        return rc;
    uint64_t n = len;
    MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm);
    if (rank != 0)
        text = s3dlio_xmalloc(n + 1);
    MPI_Bcast(text, (int)n, MPI_CHAR, 0, comm); /* at most CKPT_MANIFEST_MAX */
    MPI_Bcast(name, sizeof(name), MPI_CHAR, 0, comm);
    rc = s3dlio_manifest_parse(text, (size_t)n, m, err);
    free(text);
    if (!rc && strcmp(m->name, name)) {
        char where[1400];
        ckpt_uri_of(place, name, where, sizeof(where));
        rc = s3dlio_error_set(err, S3DLIO_E_PARSE, "checkpoint restore", where,
                              "its manifest names another checkpoint, '%s'", m->name);
        s3dlio_manifest_release(m);
    }
    return s3dlio_coord_agree(comm, rc, err);
}

/* ---- the destination files ---------------------------------------------------------------- */

static char *final_path(const char *dir, const char *rel)
{
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = s3dlio_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

/* Rank 0: a temporary file of the right size beside each final name. */
static enum s3dlio_rc create_files(const struct s3dlio_ckpt_restore_opts *o,
                                   const struct s3dlio_ckpt_manifest *m, char **tmp,
                                   struct s3dlio_error *err)
{
    for (size_t i = 0; i < m->nfiles; i++) {
        char *path = final_path(o->dest_path, m->files[i].path);
        struct s3dlio_atomic_file f = S3DLIO_ATOMIC_FILE_INIT;
        enum s3dlio_rc rc = s3dlio_atomic_open(&f, path, strlen(o->dest_path) + 1,
                                               "checkpoint restore", err);
        free(path);
        if (rc)
            return rc;
        if (ftruncate(f.fd, (off_t)m->files[i].size)) {
            rc = s3dlio_error_sys(err, "checkpoint restore", f.path, errno,
                                  "cannot make room for the file");
            s3dlio_atomic_discard(&f);
            return rc;
        }
        tmp[i] = s3dlio_atomic_keep(&f);
    }
    return S3DLIO_OK;
}

static void remove_files(char **tmp, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tmp[i])
            unlink(tmp[i]);
}

/* The tmp paths rank 0 made, on every rank. Collective. */
static void bcast_paths(MPI_Comm comm, char **tmp, size_t n)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    for (size_t i = 0; i < n; i++) {
        int len = rank == 0 ? (int)strlen(tmp[i]) + 1 : 0;
        MPI_Bcast(&len, 1, MPI_INT, 0, comm);
        if (rank != 0)
            tmp[i] = s3dlio_xmalloc((size_t)len);
        MPI_Bcast(tmp[i], len, MPI_CHAR, 0, comm);
    }
}

static enum s3dlio_rc close_files(struct restore_ctx *c, bool sync, struct s3dlio_error *err)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    for (size_t i = 0; i < c->m->nfiles; i++) {
        if (c->fds[i] < 0)
            continue;
        if (sync && fsync(c->fds[i]) && !rc)
            rc = s3dlio_error_sys(err, "checkpoint restore", c->tmp[i], errno, "fsync failed");
        /* close reports delayed write errors (NFS, quotas) */
        if (close(c->fds[i]) && !rc)
            rc = s3dlio_error_sys(err, "checkpoint restore", c->tmp[i], errno, "close failed");
        c->fds[i] = -1;
    }
    return rc;
}

/* HDF5 puts its signature at 0, 512, 1024, 2048, ... */
static bool looks_hdf5(const char *path, uint64_t size)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool yes = false;
    for (uint64_t at = 0; fd >= 0 && !yes && at + 8 <= size; at = at ? at * 2 : 512) {
        unsigned char b[8];
        yes = pread(fd, b, 8, (off_t)at) == 8 && !memcmp(b, sig, 8);
    }
    if (fd >= 0)
        close(fd);
    return yes;
}

/* Each rank opens its share of the HDF5 files once, read-only: a whole file opens. */
static enum s3dlio_rc check_hdf5(MPI_Comm comm, const struct restore_ctx *c, struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    enum s3dlio_rc rc = S3DLIO_OK;
    for (size_t i = (size_t)rank; !rc && i < c->m->nfiles; i += (size_t)nranks) {
        if (!looks_hdf5(c->tmp[i], c->m->files[i].size))
            continue;
        H5E_auto2_t fn;
        void *data;
        H5Eget_auto2(H5E_DEFAULT, &fn, &data);
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our one line says it */
        hid_t f = H5Fopen(c->tmp[i], H5F_ACC_RDONLY, H5P_DEFAULT);
        H5Eset_auto2(H5E_DEFAULT, fn, data);
        if (f < 0)
            rc = s3dlio_error_set(err, S3DLIO_E_INTEGRITY, "checkpoint restore", c->m->files[i].path,
                                  "restored with every checksum right, but HDF5 cannot open it");
        else
            H5Fclose(f);
    }
    return rc;
}

/* Rank 0: every file under its final name. */
static enum s3dlio_rc publish(const struct s3dlio_ckpt_restore_opts *o, struct restore_ctx *c,
                              bool sync, struct s3dlio_error *err)
{
    for (size_t i = 0; i < c->m->nfiles; i++) {
        char *path = final_path(o->dest_path, c->m->files[i].path);
        int r = rename(c->tmp[i], path);
        int e = errno;
        if (!r && sync) {
            char *slash = strrchr(path, '/');
            *slash = '\0';
            int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
            *slash = '/';
        }
        if (r) {
            enum s3dlio_rc rc = s3dlio_error_sys(err, "checkpoint restore", path, e, "rename failed");
            free(path);
            return rc;
        }
        free(path);
        free(c->tmp[i]);
        c->tmp[i] = NULL;
    }
    return S3DLIO_OK;
}

/* ---- the plan ----------------------------------------------------------------------------- */

struct restore_plan {
    struct part *parts;       /* every part of every file */
    size_t nparts;
    int *owner;
    uint64_t bytes;
};

static void make_parts(const struct s3dlio_ckpt_manifest *m, struct restore_ctx *c, int nranks,
                       struct restore_plan *rp)
{
    for (size_t i = 0; i < m->nfiles; i++)
        rp->nparts += m->files[i].nparts;
    rp->parts = s3dlio_xcalloc(rp->nparts ? rp->nparts : 1, sizeof(*rp->parts));
    uint64_t *bytes = s3dlio_xcalloc(rp->nparts ? rp->nparts : 1, sizeof(*bytes));
    size_t k = 0;
    for (size_t i = 0; i < m->nfiles; i++) {
        const struct s3dlio_ckpt_file *f = &m->files[i];
        for (size_t p = 0; p < f->nparts; p++, k++) {
            struct part *q = &rp->parts[k];
            q->ctx = c;
            q->file = i;
            q->index = p;
            q->off = p * f->part_size;
            q->len = f->size - q->off < f->part_size ? f->size - q->off : f->part_size;
            q->want = f->crc32c[p];
            q->next = q->off;
            q->in_order = true;
            bytes[k] = q->len;
            rp->bytes += q->len;
        }
    }
    rp->owner = s3dlio_xcalloc(rp->nparts ? rp->nparts : 1, sizeof(*rp->owner));
    ckpt_assign(bytes, rp->nparts, nranks, rp->owner);
    free(bytes);
}

/* This rank's GET jobs, one per part it owns; TO_MEM: one block for all of them. */
static void plan_jobs(struct restore_plan *rp, const struct s3dlio_ckpt_manifest *m, int rank,
                      struct s3dlio_rank_work *w, struct s3dlio_ckpt_restored *got)
{
    size_t n = 0;
    uint64_t mine = 0;
    for (size_t k = 0; k < rp->nparts; k++)
        if (rp->owner[k] == rank) {
            n++;
            mine += rp->parts[k].len;
        }
    w->plan.jobs = s3dlio_xcalloc(n ? n : 1, sizeof(*w->plan.jobs));
    w->taken = s3dlio_xcalloc(n ? n : 1, sizeof(*w->taken));
    bool mem = rp->nparts && rp->parts[0].ctx->dest == S3DLIO_CKPT_TO_MEM;
    if (mem && got) {
        got->block = s3dlio_xmalloc(mine ? mine : 1);
        got->ranges = s3dlio_xcalloc(n ? n : 1, sizeof(*got->ranges));
    }
    uint64_t at = 0;
    for (size_t k = 0; k < rp->nparts; k++) {
        struct part *q = &rp->parts[k];
        if (rp->owner[k] != rank)
            continue;
        const struct s3dlio_ckpt_file *f = &m->files[q->file];
        struct s3dlio_xfer_job *j = &w->plan.jobs[w->plan.n++];
        if (q->ctx->left)
            q->ctx->left[q->file]++;
        j->dir = S3DLIO_XFER_GET;
        j->key = f->key;
        j->size = f->size;
        j->etag = f->etag;
        j->range_off = q->off;
        j->range_len = q->len;
        j->local = S3DLIO_LOCAL_SINK;
        j->sink = &restore_sink;
        j->sink_ud = q;
        j->fd = -1;
        if (mem && got) {
            q->mem = got->block + at;
            got->ranges[got->nranges++] =
                (struct s3dlio_ckpt_range){.file = q->file, .offset = q->off, .len = q->len,
                                           .data = q->mem};
            at += q->len;
        }
    }
}

void s3dlio_ckpt_restored_release(struct s3dlio_ckpt_restored *r)
{
    if (!r)
        return;
    s3dlio_manifest_release(&r->manifest);
    free(r->ranges);
    free(r->block);
    memset(r, 0, sizeof(*r));
}

/* ---- the collective ----------------------------------------------------------------------- */

/* After the transfers: close, check, publish (TO_DIR), all agreed. Collective. */
static enum s3dlio_rc finish_dir(MPI_Comm comm, const struct s3dlio_ckpt_restore_opts *o,
                                 struct restore_ctx *c, enum s3dlio_rc rc, struct s3dlio_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    /* rc is already agreed; each later step is agreed once, so no message is prefixed twice */
    enum s3dlio_rc closed = close_files(c, o->run.xfer.fsync, err);
    if (!rc)
        rc = s3dlio_coord_agree(comm, closed, err);
    if (!rc)
        rc = s3dlio_coord_agree(comm, check_hdf5(comm, c, err), err);
    if (!rc)
        rc = s3dlio_coord_agree(comm, rank == 0 ? publish(o, c, o->run.xfer.fsync, err) : S3DLIO_OK,
                                err);
    if (rank == 0 && rc)
        remove_files(c->tmp, c->m->nfiles);
    return rc;
}

enum s3dlio_rc s3dlio_ckpt_restore(MPI_Comm comm, const struct s3dlio_config *cfg,
                                   const struct s3dlio_ckpt_restore_opts *opts, FILE *out,
                                   struct s3dlio_stage_result *res,
                                   struct s3dlio_ckpt_restored *got, struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    memset(res, 0, sizeof(*res));
    struct s3dlio_ckpt_restored mine = {0};
    if (!got)
        got = &mine;
    memset(got, 0, sizeof(*got));
    struct ckpt_place place;
    struct s3dlio_error local = {0};
    struct s3dlio_rank_work w = {0};
    struct restore_plan rp = {0};
    struct restore_ctx ctx = {.m = &got->manifest, .dest = opts->dest};
    bool dir = opts->dest == S3DLIO_CKPT_TO_DIR, made = false;
    enum s3dlio_rc rc = ckpt_place_parse(opts->uri, "checkpoint restore", &place, &local);
    if (!rc && dir && (!opts->dest_path || opts->dest_path[0] != '/'))
        rc = s3dlio_error_set(&local, S3DLIO_E_USAGE, "checkpoint restore",
                              opts->dest_path ? opts->dest_path : "",
                              "the destination must be an absolute directory path");
    if ((rc = s3dlio_coord_agree(comm, rc, &local)))
        goto out;
    if ((rc = get_manifest(comm, cfg, opts, &place, &got->manifest, &local)))
        goto out;
    size_t nf = got->manifest.nfiles;
    ctx.name = got->manifest.name;
    ctx.tmp = s3dlio_xcalloc(nf ? nf : 1, sizeof(*ctx.tmp));
    ctx.fds = s3dlio_xcalloc(nf ? nf : 1, sizeof(*ctx.fds));
    ctx.left = dir ? s3dlio_xcalloc(nf ? nf : 1, sizeof(*ctx.left)) : NULL;
    ctx.sync = opts->run.xfer.fsync;
    for (size_t i = 0; i < nf; i++)
        ctx.fds[i] = -1;
    if (dir) {
        if (rank == 0 && (rc = create_files(opts, &got->manifest, ctx.tmp, &local)))
            remove_files(ctx.tmp, nf);
        if ((rc = s3dlio_coord_agree(comm, rc, &local)))
            goto out;
        bcast_paths(comm, ctx.tmp, nf);
        made = true;
    }
    make_parts(&got->manifest, &ctx, nranks, &rp);
    plan_jobs(&rp, &got->manifest, rank, &w, got);
    struct ckpt_identity id = {.command = "checkpoint restore", .total_bytes = rp.bytes,
                               .listed = rp.nparts};
    ckpt_uri_of(&place, got->manifest.name, id.source, sizeof(id.source));
    snprintf(id.destination, sizeof(id.destination), "%s%s", dir ? "dir:" : "mem",
             dir ? opts->dest_path : "");
    struct s3dlio_stage_opts run = opts->run;
    run.kind = S3DLIO_JOB_GET;
    run.command = "checkpoint restore";
    run.uri = opts->uri;
    run.steal = false;
    run.xfer.on_change = S3DLIO_ON_CHANGE_FAIL; /* the manifest's version or nothing */
    rc = ckpt_run_and_report(comm, cfg, &run, &place.uri, &w, &id, out, res, &local);
    if (dir) {
        rc = finish_dir(comm, opts, &ctx, rc, &local);
        made = false;
    }
out:
    if (made) {
        close_files(&ctx, false, &local);
        if (rank == 0)
            remove_files(ctx.tmp, got->manifest.nfiles);
    }
    if (rc && err)
        *err = local;
    for (size_t i = 0; ctx.tmp && i < got->manifest.nfiles; i++)
        free(ctx.tmp[i]);
    free(ctx.tmp);
    free(ctx.fds);
    free(ctx.left);
    free(rp.parts);
    free(rp.owner);
    free(w.taken);
    s3dlio_plan_release(&w.plan);
    ckpt_place_release(&place);
    if (rc || got == &mine)
        s3dlio_ckpt_restored_release(got);
    return rc;
}
