/* SPDX-License-Identifier: Apache-2.0 */
/*
 * checkpoint save: rank 0 lists the source and creates one multipart upload per large
 * file; one broadcast carries the file table; every rank uploads its contiguous run of
 * parts (and its small files whole), computing each part's CRC-32C from the bytes it sends;
 * rank 0 gathers the part ETags and checksums, completes the uploads, writes the manifest
 * and only then the latest pointer. Any failure aborts the uploads and writes no manifest.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "backend/file_tree.h"
#include "ckpt/ckpt_int.h"
#include "coord/coord_int.h"
#include "util/alloc.h"
#include "util/units.h"
#include "util/log.h"

/* One file of the checkpoint, the same on every rank after the broadcast. */
struct save_file {
    char *path;               /* relative to the source root */
    char *key;
    char *local;              /* absolute path to read */
    char *upload_id;          /* large files: the shared upload; "" otherwise */
    uint64_t size, part_size;
    size_t nparts;            /* manifest parts */
};

struct save_table {
    struct save_file *files;
    size_t n;
    uint64_t bytes;
};

/* What a rank reports back per part (large files) or per file (small ones). */
struct part_record {
    uint32_t file;
    uint32_t part;            /* 0-based part; WHOLE_FILE: a small file's object */
    uint32_t crc;
    uint32_t has_crc;
    char etag[80];
};
#define WHOLE_FILE UINT32_MAX

static void table_release(struct save_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->files[i].path);
        free(t->files[i].key);
        free(t->files[i].local);
        free(t->files[i].upload_id);
    }
    free(t->files);
    memset(t, 0, sizeof(*t));
}

static bool is_large(const struct save_file *f)
{
    return f->upload_id && f->upload_id[0];
}

/* ---- rank 0: the source, the table, the uploads ------------------------------------------- */

static char *join(const char *a, const char *sep, const char *b)
{
    size_t n = strlen(a) + strlen(sep) + strlen(b) + 1;
    char *s = s3dlio_xmalloc(n);
    snprintf(s, n, "%s%s%s", a, sep, b);
    return s;
}

static void add_file(struct save_table *t, const struct s3dlio_ckpt_save_opts *o,
                     const struct ckpt_place *p, const char *rel, const char *local, uint64_t size,
                     uint64_t part_size)
{
    t->files = s3dlio_xrealloc(t->files, (t->n + 1) * sizeof(*t->files));
    struct save_file *f = &t->files[t->n++];
    memset(f, 0, sizeof(*f));
    f->path = s3dlio_xstrdup(rel);
    char *files_rel = join("files/", "", rel);
    f->key = ckpt_key(p, o->name, files_rel);
    free(files_rel);
    f->local = s3dlio_xstrdup(local);
    f->size = size;
    f->part_size = s3dlio_xfer_part_size(part_size, size);
    f->nparts = s3dlio_manifest_nparts(size, f->part_size);
    f->upload_id = s3dlio_xstrdup("");
    t->bytes += size;
}

static enum s3dlio_rc list_source(const struct s3dlio_ckpt_save_opts *o, const struct ckpt_place *p,
                                  struct save_table *t, struct s3dlio_error *err)
{
    struct stat sb;
    if (stat(o->src, &sb))
        return s3dlio_error_sys(err, "checkpoint save", o->src, errno, "cannot read the source");
    uint64_t ps = o->run.xfer.part_size;
    if (S_ISREG(sb.st_mode)) {
        const char *base = strrchr(o->src, '/');
        add_file(t, o, p, base ? base + 1 : o->src, o->src, (uint64_t)sb.st_size, ps);
        return S3DLIO_OK;
    }
    if (!S_ISDIR(sb.st_mode))
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "checkpoint save", o->src,
                                "not a regular file or a directory");
    struct s3dlio_tree tree;
    enum s3dlio_rc rc = s3dlio_tree_list(o->src, o->follow_symlinks, &tree, err);
    if (rc)
        return rc;
    s3dlio_tree_warn_skipped(&tree, o->src);
    for (size_t i = 0; i < tree.files.n; i++) {
        char *local = join(o->src, "/", tree.files.items[i].key);
        add_file(t, o, p, tree.files.items[i].key, local, tree.files.items[i].size, ps);
        free(local);
    }
    s3dlio_tree_release(&tree);
    if (!t->n)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "checkpoint save", o->src,
                                "no regular files to save");
    return S3DLIO_OK;
}

/* A complete checkpoint of that name is never overwritten. */
static enum s3dlio_rc check_new(struct s3dlio_backend *be, const struct ckpt_place *p,
                                const char *name, struct s3dlio_error *err)
{
    char *text = NULL, where[1400];
    size_t len = 0;
    struct s3dlio_error merr = {0};
    enum s3dlio_rc rc = ckpt_fetch_manifest(be, p, name, &text, &len, &merr);
    free(text);
    if (rc == S3DLIO_E_NOT_FOUND)
        return S3DLIO_OK;
    if (rc) {
        *err = merr;
        return rc;
    }
    ckpt_uri_of(p, name, where, sizeof(where));
    return s3dlio_error_set(err, S3DLIO_E_USAGE, "checkpoint save", where,
                            "a checkpoint of that name exists; choose another name or delete it");
}

static void abort_uploads(struct s3dlio_backend *be, struct save_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (is_large(&t->files[i]))
            ckpt_mpu_abort(be, t->files[i].key, t->files[i].upload_id);
}

/* Large files (more than one part, on a backend with multipart uploads) get their upload. */
static enum s3dlio_rc create_uploads(struct s3dlio_backend *be, struct save_table *t,
                                     struct s3dlio_error *err)
{
    if (!s3dlio_backend_has_multipart(be))
        return S3DLIO_OK; /* file://: every file goes whole */
    for (size_t i = 0; i < t->n; i++) {
        struct save_file *f = &t->files[i];
        if (f->nparts < 2)
            continue;
        char *id = NULL;
        enum s3dlio_rc rc = ckpt_mpu_create(be, f->key, f->part_size, &id, err);
        if (rc)
            return rc;
        free(f->upload_id);
        f->upload_id = id;
    }
    return S3DLIO_OK;
}

/* ---- the table's broadcast ---------------------------------------------------------------- */

struct packer {
    char *buf;
    size_t len, alloc;
};

static void pack(struct packer *p, const void *data, size_t n)
{
    s3dlio_xgrow((void **)&p->buf, 1, p->len + n, &p->alloc);
    memcpy(p->buf + p->len, data, n);
    p->len += n;
}

static void pack_str(struct packer *p, const char *s)
{
    pack(p, s, strlen(s) + 1);
}

static const char *unpack(const char **at, const char *end, size_t n)
{
    const char *here = *at;
    if ((size_t)(end - here) < n)
        return NULL;
    *at += n;
    return here;
}

static char *unpack_str(const char **at, const char *end)
{
    const char *nul = memchr(*at, '\0', (size_t)(end - *at));
    if (!nul)
        return NULL;
    char *s = s3dlio_xstrdup(*at);
    *at = nul + 1;
    return s;
}

static enum s3dlio_rc bcast_table(MPI_Comm comm, struct save_table *t, struct s3dlio_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    struct packer p = {0};
    uint64_t len = 0;
    if (rank == 0) {
        uint64_t n = t->n;
        pack(&p, &n, sizeof(n));
        for (size_t i = 0; i < t->n; i++) {
            const struct save_file *f = &t->files[i];
            pack(&p, &f->size, sizeof(f->size));
            pack(&p, &f->part_size, sizeof(f->part_size));
            pack_str(&p, f->path);
            pack_str(&p, f->key);
            pack_str(&p, f->local);
            pack_str(&p, f->upload_id);
        }
        len = p.len;
    }
    MPI_Bcast(&len, 1, MPI_UINT64_T, 0, comm);
    if (rank != 0)
        p.buf = s3dlio_xmalloc(len ? len : 1);
    /* MPI counts are int: a table of millions of files goes in pieces of at most 1 GiB */
    for (uint64_t at = 0; at < len;) {
        int piece = (int)(len - at < (1u << 30) ? len - at : (1u << 30));
        if (MPI_Bcast(p.buf + at, piece, MPI_BYTE, 0, comm) != MPI_SUCCESS) {
            free(p.buf);
            return s3dlio_error_set(err, S3DLIO_E_INTERNAL, "checkpoint save", "MPI_Bcast",
                                    "broadcast of the file table failed");
        }
        at += (uint64_t)piece;
    }
    if (rank != 0) {
        const char *at = p.buf, *end = p.buf + len, *v;
        uint64_t n = 0;
        if ((v = unpack(&at, end, sizeof(n))))
            memcpy(&n, v, sizeof(n));
        t->files = s3dlio_xcalloc(n ? n : 1, sizeof(*t->files));
        for (t->n = 0; t->n < n; t->n++) {
            struct save_file *f = &t->files[t->n];
            if (!(v = unpack(&at, end, sizeof(f->size))))
                break;
            memcpy(&f->size, v, sizeof(f->size));
            if (!(v = unpack(&at, end, sizeof(f->part_size))))
                break;
            memcpy(&f->part_size, v, sizeof(f->part_size));
            f->path = unpack_str(&at, end);
            f->key = unpack_str(&at, end);
            f->local = unpack_str(&at, end);
            f->upload_id = unpack_str(&at, end);
            if (!f->path || !f->key || !f->local || !f->upload_id)
                break;
            f->nparts = s3dlio_manifest_nparts(f->size, f->part_size);
            t->bytes += f->size;
        }
    }
    free(p.buf);
    return S3DLIO_OK;
}

/* ---- each rank: its transfers ------------------------------------------------------------- */

/* A unit of work: a part of a large file, or a small file whole. */
struct unit {
    size_t file;
    size_t part;              /* large files */
    uint64_t bytes;
};

static struct unit *make_units(const struct save_table *t, size_t *n)
{
    size_t count = 0;
    for (size_t i = 0; i < t->n; i++)
        count += is_large(&t->files[i]) ? t->files[i].nparts : 1;
    struct unit *u = s3dlio_xcalloc(count ? count : 1, sizeof(*u));
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct save_file *f = &t->files[i];
        if (!is_large(f)) {
            u[k++] = (struct unit){i, 0, f->size};
            continue;
        }
        for (size_t p = 0; p < f->nparts; p++) {
            uint64_t off = p * f->part_size;
            u[k++] = (struct unit){i, p, f->size - off < f->part_size ? f->size - off : f->part_size};
        }
    }
    *n = count;
    return u;
}

/* This rank's share: jobs, and where their checksums and ETags land. */
struct share {
    struct s3dlio_xfer_job *jobs;
    size_t njobs;
    uint32_t **crcs;          /* per job */
    struct s3dlio_part **parts; /* per job (large files) */
    size_t *file;             /* per job: the file */
    size_t *first_part;       /* per job: 0-based */
    size_t *count;            /* per job: parts covered */
};

static void share_release(struct share *s)
{
    for (size_t i = 0; i < s->njobs; i++) {
        free(s->crcs[i]);
        free(s->parts[i]);
    }
    free(s->crcs);
    free(s->parts);
    free(s->file);
    free(s->first_part);
    free(s->count);
    /* jobs belong to the plan */
    memset(s, 0, sizeof(*s));
}

static void add_job(struct share *s, const struct save_table *t, size_t file, size_t p0, size_t p1)
{
    size_t i = s->njobs++;
    s->jobs = s3dlio_xrealloc(s->jobs, s->njobs * sizeof(*s->jobs));
    s->crcs = s3dlio_xrealloc(s->crcs, s->njobs * sizeof(*s->crcs));
    s->parts = s3dlio_xrealloc(s->parts, s->njobs * sizeof(*s->parts));
    s->file = s3dlio_xrealloc(s->file, s->njobs * sizeof(*s->file));
    s->first_part = s3dlio_xrealloc(s->first_part, s->njobs * sizeof(*s->first_part));
    s->count = s3dlio_xrealloc(s->count, s->njobs * sizeof(*s->count));
    const struct save_file *f = &t->files[file];
    struct s3dlio_xfer_job *j = &s->jobs[i];
    memset(j, 0, sizeof(*j));
    j->dir = S3DLIO_XFER_PUT;
    j->key = f->key;
    j->local = S3DLIO_LOCAL_FILE;
    j->path = f->local;
    j->size = f->size;
    j->fd = -1;
    size_t nparts = is_large(f) ? p1 - p0 : f->nparts;
    s->crcs[i] = s3dlio_xcalloc(nparts ? nparts : 1, sizeof(uint32_t));
    s->parts[i] = NULL;
    s->file[i] = file;
    s->first_part[i] = p0;
    s->count[i] = nparts;
    if (nparts)
        j->part_crc32c = s->crcs[i];
    if (is_large(f)) {
        s->parts[i] = s3dlio_xcalloc(nparts, sizeof(struct s3dlio_part));
        j->upload_id = f->upload_id;
        j->part_first = (int)p0 + 1;
        j->upload_part_size = f->part_size;
        j->range_off = p0 * f->part_size;
        uint64_t end = p1 * f->part_size;
        j->range_len = (end < f->size ? end : f->size) - j->range_off;
        j->parts_out = s->parts[i];
    }
}

/* The jobs of this rank: for each file, the run of its units this rank owns. */
static void plan_share(const struct save_table *t, int rank, int nranks, struct share *s,
                       uint64_t *listed)
{
    size_t nunits = 0;
    struct unit *u = make_units(t, &nunits);
    uint64_t *bytes = s3dlio_xcalloc(nunits ? nunits : 1, sizeof(*bytes));
    int *owner = s3dlio_xcalloc(nunits ? nunits : 1, sizeof(*owner));
    for (size_t i = 0; i < nunits; i++)
        bytes[i] = u[i].bytes;
    ckpt_assign(bytes, nunits, nranks, owner);
    *listed = 0;
    for (size_t i = 0; i < nunits;) {
        size_t j = i + 1; /* a run: same file, same owner */
        while (j < nunits && u[j].file == u[i].file && owner[j] == owner[i])
            j++;
        (*listed)++;
        if (owner[i] == rank)
            add_job(s, t, u[i].file, u[i].part, u[j - 1].part + 1);
        i = j;
    }
    free(u);
    free(bytes);
    free(owner);
}

/* ---- after the uploads: records to rank 0 -------------------------------------------------- */

static struct part_record *my_records(const struct share *s, size_t *n)
{
    size_t count = 0;
    for (size_t i = 0; i < s->njobs; i++)
        count += s->parts[i] ? s->count[i] : 1 + s->count[i];
    struct part_record *r = s3dlio_xcalloc(count ? count : 1, sizeof(*r));
    size_t k = 0;
    for (size_t i = 0; i < s->njobs; i++) {
        const struct s3dlio_xfer_job *j = &s->jobs[i];
        if (!s->parts[i]) { /* a small file: its object's ETag, and its part's checksum */
            r[k] = (struct part_record){.file = (uint32_t)s->file[i], .part = WHOLE_FILE};
            memcpy(r[k++].etag, j->etag_out, sizeof(r->etag));
        }
        for (size_t p = 0; p < s->count[i]; p++) {
            r[k] = (struct part_record){.file = (uint32_t)s->file[i],
                                        .part = (uint32_t)(s->first_part[i] + p),
                                        .crc = s->crcs[i][p], .has_crc = 1};
            if (s->parts[i])
                memcpy(r[k].etag, s->parts[i][p].etag, sizeof(r->etag));
            k++;
        }
    }
    *n = count;
    return r;
}

static struct part_record *gather_records(MPI_Comm comm, const struct share *s, size_t *total)
{
    size_t n = 0, bytes = 0;
    struct part_record *mine = my_records(s, &n);
    struct part_record *all = (struct part_record *)s3dlio_coord_gather_bytes(
        comm, mine, (int)(n * sizeof(*mine)), &bytes, NULL, NULL);
    free(mine);
    *total = bytes / sizeof(*all);
    return all;
}

/* ---- rank 0: complete, manifest, latest ---------------------------------------------------- */

static enum s3dlio_rc build_manifest(struct s3dlio_backend *be, const struct s3dlio_ckpt_save_opts *o,
                                     struct save_table *t, const struct part_record *rec,
                                     size_t nrec, int nranks, struct s3dlio_ckpt_manifest *m,
                                     struct s3dlio_error *err)
{
    memset(m, 0, sizeof(*m));
    m->version = S3DLIO_MANIFEST_VERSION;
    snprintf(m->name, sizeof(m->name), "%s", o->name);
    s3dlio_utc_now_iso(m->created);
    m->world_size = nranks;
    m->nfiles = t->n;
    m->files = s3dlio_xcalloc(t->n ? t->n : 1, sizeof(*m->files));
    struct s3dlio_part **parts = s3dlio_xcalloc(t->n ? t->n : 1, sizeof(*parts));
    size_t **seen = s3dlio_xcalloc(t->n ? t->n : 1, sizeof(*seen));
    for (size_t i = 0; i < t->n; i++) {
        struct s3dlio_ckpt_file *mf = &m->files[i];
        mf->path = s3dlio_xstrdup(t->files[i].path);
        mf->key = s3dlio_xstrdup(t->files[i].key);
        mf->size = t->files[i].size;
        mf->part_size = t->files[i].part_size;
        mf->nparts = t->files[i].nparts;
        mf->crc32c = s3dlio_xcalloc(mf->nparts ? mf->nparts : 1, sizeof(uint32_t));
        parts[i] = s3dlio_xcalloc(mf->nparts ? mf->nparts : 1, sizeof(**parts));
        seen[i] = s3dlio_xcalloc(mf->nparts + 1, sizeof(**seen));
    }
    for (size_t k = 0; k < nrec; k++) {
        const struct part_record *r = &rec[k];
        if (r->file >= t->n)
            continue;
        struct s3dlio_ckpt_file *mf = &m->files[r->file];
        if (r->part == WHOLE_FILE) {
            memcpy(mf->etag, r->etag, sizeof(mf->etag));
            seen[r->file][mf->nparts]++;
        } else if (r->part < mf->nparts) {
            mf->crc32c[r->part] = r->crc;
            parts[r->file][r->part].number = (int)r->part + 1;
            memcpy(parts[r->file][r->part].etag, r->etag, sizeof(r->etag));
            seen[r->file][r->part]++;
        }
    }
    enum s3dlio_rc rc = S3DLIO_OK;
    for (size_t i = 0; !rc && i < t->n; i++) {
        struct save_file *f = &t->files[i];
        struct s3dlio_ckpt_file *mf = &m->files[i];
        for (size_t p = 0; !rc && p < mf->nparts; p++)
            if (seen[i][p] != 1)
                rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "checkpoint save", f->key,
                                      "part %zu was reported %zu times", p + 1, seen[i][p]);
        if (!rc && is_large(f)) {
            rc = ckpt_mpu_complete(be, f->key, f->upload_id, parts[i], mf->nparts, f->size,
                                   mf->etag, err);
            if (!rc)
                f->upload_id[0] = '\0'; /* an object now: nothing left to abort */
        }
        /* the ETag is what a restore pins its GETs to; RGW's Complete answers without one */
        if (!rc && !mf->etag[0])
            rc = ckpt_head_etag(be, f->key, f->size, mf->etag, err);
    }
    for (size_t i = 0; i < t->n; i++) {
        free(parts[i]);
        free(seen[i]);
    }
    free(parts);
    free(seen);
    return rc;
}

static enum s3dlio_rc publish(struct s3dlio_backend *be, const struct ckpt_place *p,
                              const struct s3dlio_ckpt_manifest *m, struct s3dlio_error *err)
{
    char *text = NULL;
    enum s3dlio_rc rc = s3dlio_manifest_write(m, &text, err);
    char *key = ckpt_key(p, m->name, "manifest.json"), *latest = ckpt_latest_key(p);
    if (!rc)
        rc = ckpt_put_small(be, key, text, strlen(text), err);
    /* only a checkpoint whose manifest is stored may become latest */
    if (!rc)
        rc = ckpt_put_small(be, latest, m->name, strlen(m->name), err);
    free(text);
    free(key);
    free(latest);
    return rc;
}

/* Rank 0, after every rank's transfers succeeded: complete, manifest, latest, prune. */
static enum s3dlio_rc finish_save(struct s3dlio_backend *be, const struct s3dlio_config *cfg,
                                  const struct s3dlio_ckpt_save_opts *o, const struct ckpt_place *p,
                                  struct save_table *t, const struct part_record *rec, size_t nrec,
                                  int nranks, struct s3dlio_error *err)
{
    struct s3dlio_ckpt_manifest m;
    enum s3dlio_rc rc = build_manifest(be, o, t, rec, nrec, nranks, &m, err);
    if (!rc)
        rc = publish(be, p, &m, err);
    s3dlio_manifest_release(&m);
    size_t pruned = 0;
    if (!rc && o->keep_last > 0 && (rc = s3dlio_ckpt_prune(cfg, o->uri, o->keep_last, &pruned, err)))
        snprintf(err->message + strlen(err->message), sizeof(err->message) - strlen(err->message),
                 " (the checkpoint was saved; pruning older ones failed)");
    if (pruned)
        S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_COORD, "--keep-last %d: %zu older checkpoints deleted",
                   o->keep_last, pruned);
    return rc;
}

/* Rank 0: the checkpoint may be made (name, place, not already there), the source listed,
 * the uploads created. */
static enum s3dlio_rc prepare(const struct s3dlio_ckpt_save_opts *o, const struct ckpt_place *p,
                              struct s3dlio_backend *be, struct save_table *t,
                              struct s3dlio_error *err)
{
    enum s3dlio_rc rc = check_new(be, p, o->name, err);
    if (!rc)
        rc = list_source(o, p, t, err);
    if (!rc)
        rc = create_uploads(be, t, err);
    return rc;
}

enum s3dlio_rc s3dlio_ckpt_save(MPI_Comm comm, const struct s3dlio_config *cfg,
                                const struct s3dlio_ckpt_save_opts *opts, FILE *out,
                                struct s3dlio_stage_result *res, struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    memset(res, 0, sizeof(*res));
    struct ckpt_place place;
    struct save_table table = {0};
    struct share share = {0};
    struct s3dlio_backend *be = NULL;
    struct s3dlio_error local = {0};
    struct s3dlio_rank_work w = {0};
    struct part_record *rec = NULL;
    size_t nrec = 0;
    enum s3dlio_rc rc = ckpt_check_name(opts->name, "checkpoint save", &local);
    if (!rc)
        rc = ckpt_place_parse(opts->uri, "checkpoint save", &place, &local);
    else
        memset(&place, 0, sizeof(place));
    if (!rc && rank == 0 && (rc = s3dlio_backend_new(&place.uri, cfg, &be, &local)) == S3DLIO_OK)
        rc = prepare(opts, &place, be, &table, &local);
    if ((rc = s3dlio_coord_agree(comm, rc, &local)))
        goto out;
    if ((rc = s3dlio_coord_agree(comm, bcast_table(comm, &table, &local), &local)))
        goto out;
    struct ckpt_identity id = {.command = "checkpoint save", .total_bytes = table.bytes};
    snprintf(id.source, sizeof(id.source), "%s", opts->src);
    ckpt_uri_of(&place, opts->name, id.destination, sizeof(id.destination));
    plan_share(&table, rank, nranks, &share, &id.listed);
    w.plan.jobs = share.jobs;
    w.plan.n = share.njobs;
    w.taken = s3dlio_xcalloc(share.njobs ? share.njobs : 1, sizeof(*w.taken));
    struct s3dlio_stage_opts run = opts->run;
    run.kind = S3DLIO_JOB_PUT_DIR;
    run.command = "checkpoint save";
    run.uri = opts->uri;
    run.steal = false;
    rc = ckpt_run_and_report(comm, cfg, &run, &place.uri, &w, &id, out, res, &local);
    rec = gather_records(comm, &share, &nrec);
    if (rank == 0 && !rc)
        rc = finish_save(be, cfg, opts, &place, &table, rec, nrec, nranks, &local);
    rc = s3dlio_coord_agree(comm, rc, &local);
out:
    if (rc && be) /* rank 0: whatever failed, no upload is left open */
        abort_uploads(be, &table);
    if (rc && err)
        *err = local;
    free(rec);
    free(w.taken);
    share_release(&share);
    s3dlio_plan_release(&w.plan);
    table_release(&table);
    s3dlio_backend_free(be);
    ckpt_place_release(&place);
    return rc;
}
