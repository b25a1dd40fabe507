/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file side of the parallel HDF5 writer (h5_writer.h): the temporary file, its layout,
 * the index written at the end, and the collective decision to publish or delete it.
 * Metadata calls (create, attributes, close) are collective as parallel HDF5 requires; every
 * step's outcome is agreed before the next, so no rank waits in a collective another left.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "coord/coord_int.h"
#include "h5/h5_layout.h"
#include "h5/h5_writer_int.h"
#include "util/alloc.h"
#include "util/units.h"
#include "util/log.h"

#define INDEX_BATCH 4096 /* /index rows rank 0 holds at a time */

/* ---- layout ------------------------------------------------------------------------------- */

/* Offsets in /data: each rank's objects in one extent, rank 0's first, in table order. */
static const char *spec_etag(const struct s3dlio_h5_spec *s, size_t i)
{
    if (s->etag_follows_key)
        return s->keys[i] + strlen(s->keys[i]) + 1;
    return s->etags && s->etags[i] ? s->etags[i] : "";
}

static void lay_out(struct s3dlio_h5_writer *w)
{
    const struct s3dlio_h5_spec *s = w->spec;
    uint64_t *start = s3dlio_xcalloc((size_t)w->nranks + 1, sizeof(*start));
    for (size_t i = 0; i < s->n; i++)
        start[s->owner[i] + 1] += s->sizes[i];
    for (int r = 0; r < w->nranks; r++)
        start[r + 1] += start[r];
    w->total = start[w->nranks];
    for (size_t i = 0; i < s->n; i++) {
        w->rows[i] = (struct h5w_row){ .w = w, .size = s->sizes[i], .base = start[s->owner[i]] };
        start[s->owner[i]] += s->sizes[i];
        size_t kw = strlen(s->keys[i]), ew = strlen(spec_etag(s, i));
        w->key_w = kw > w->key_w ? kw : w->key_w;
        w->etag_w = ew > w->etag_w ? ew : w->etag_w;
    }
    free(start);
}

/* Rank 0: the path is one the job can publish (its directory exists, it is no directory). */
static enum s3dlio_rc check_path(const char *path, struct s3dlio_error *err)
{
    char *dir = s3dlio_xstrdup(path), *slash = strrchr(dir, '/');
    struct stat st;
    enum s3dlio_rc rc = S3DLIO_OK;
    if (!path[0] || path[strlen(path) - 1] == '/')
        rc = s3dlio_error_set(err, S3DLIO_E_USAGE, "stage", path, "h5: needs a file name");
    else if (slash && slash != dir)
        *slash = '\0';
    else
        snprintf(dir, strlen(path) + 1, "%s", slash ? "/" : ".");
    if (!rc && (stat(dir, &st) || !S_ISDIR(st.st_mode)))
        rc = s3dlio_error_set(err, S3DLIO_E_USAGE, "stage", path, "directory '%s' does not exist",
                              dir);
    if (!rc && !stat(path, &st) && S_ISDIR(st.st_mode))
        rc = s3dlio_error_set(err, S3DLIO_E_USAGE, "stage", path, "is a directory, not a file");
    free(dir);
    return rc;
}

static herr_t attr_string(hid_t loc, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
    herr_t st = t < 0 || sp < 0 ? -1 : H5Tset_size(t, strlen(value) ? strlen(value) : 1);
    if (st >= 0)
        st = H5Tset_cset(t, H5T_CSET_UTF8);
    if (st >= 0 && (a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        st = -1;
    if (st >= 0)
        st = H5Awrite(a, t, value);
    if (a >= 0)
        H5Aclose(a);
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    return st;
}

static herr_t attr_u64(hid_t loc, const char *name, uint64_t value)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
    herr_t st = sp < 0 ? -1 : 0;
    if (st >= 0 && (a = H5Acreate2(loc, name, H5T_STD_U64LE, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        st = -1;
    if (st >= 0)
        st = H5Awrite(a, H5T_NATIVE_UINT64, &value);
    if (a >= 0)
        H5Aclose(a);
    if (sp >= 0)
        H5Sclose(sp);
    return st;
}

/* A contiguous 1-D dataset of n elements, allocated now and never filled. */
static hid_t make_dataset(hid_t file, const char *name, hid_t type, uint64_t n)
{
    hsize_t dim = n;
    hid_t sp = H5Screate_simple(1, &dim, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = H5I_INVALID_HID;
    if (sp >= 0 && dcpl >= 0 && H5Pset_layout(dcpl, H5D_CONTIGUOUS) >= 0 &&
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) >= 0 &&
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0)
        d = H5Dcreate2(file, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (sp >= 0)
        H5Sclose(sp);
    return d;
}

/* Every rank: the file, both datasets and the attributes but `complete` (collective). */
static herr_t create_file(MPI_Comm comm, struct s3dlio_h5_writer *w)
{
    const struct s3dlio_h5_spec *s = w->spec;
    char created[32] = "";
    if (w->rank == 0)
        s3dlio_utc_now_iso(created);
    MPI_Bcast(created, sizeof(created), MPI_CHAR, 0, comm); /* one time, whatever the clocks */
    struct h5_rowtype rt = { 0 };
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    herr_t st = fapl < 0 ? -1 : H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    if (st >= 0 && (w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0)
        st = -1;
    if (fapl >= 0)
        H5Pclose(fapl);
    if (st >= 0 && (w->data = make_dataset(w->file, H5L_DATA, H5T_STD_U8LE, w->total)) < 0)
        st = -1;
    if (st >= 0 && s3dlio_h5_rowtype_make(&rt, w->key_w, w->etag_w))
        st = -1;
    if (st >= 0 && (w->index = make_dataset(w->file, H5L_INDEX, rt.file, s->n)) < 0)
        st = -1;
    s3dlio_h5_rowtype_release(&rt);
    if (st >= 0)
        st = attr_string(w->file, H5L_ATTR_FORMAT, S3DLIO_H5_FORMAT);
    if (st >= 0)
        st = attr_u64(w->file, H5L_ATTR_VERSION, S3DLIO_H5_VERSION);
    if (st >= 0)
        st = attr_string(w->file, H5L_ATTR_SOURCE, s->source ? s->source : "");
    if (st >= 0)
        st = attr_string(w->file, H5L_ATTR_CREATED, created);
    if (st >= 0)
        st = attr_u64(w->file, H5L_ATTR_WORLD_SIZE, (uint64_t)w->nranks);
    if (st >= 0)
        st = attr_u64(w->file, H5L_ATTR_OBJECTS, s->n);
    if (st >= 0)
        st = attr_u64(w->file, H5L_ATTR_BYTES, w->total);
    return st;
}

/* Close what is open (collective: every rank calls it in the same state). Returns -1 if a
 * close failed, the file's above all: that is where HDF5 writes its metadata. */
static int close_file(struct s3dlio_h5_writer *w)
{
    int st = 0;
    if (w->index > 0 && H5Dclose(w->index) < 0)
        st = -1;
    if (w->data > 0 && H5Dclose(w->data) < 0)
        st = -1;
    if (w->file > 0 && H5Fclose(w->file) < 0)
        st = -1;
    w->index = w->data = w->file = H5I_INVALID_HID;
    return st;
}

static void writer_free(struct s3dlio_h5_writer *w)
{
    s3dlio_h5w_sink_release(w);
    free(w->rows);
    free(w->path);
    free(w->tmp);
    free(w);
}

enum s3dlio_rc s3dlio_h5_writer_open(MPI_Comm comm, const struct s3dlio_h5_spec *spec,
                                     struct s3dlio_h5_writer **out, struct s3dlio_error *err)
{
    struct s3dlio_h5_writer *w = s3dlio_xcalloc(1, sizeof(*w));
    MPI_Comm_rank(comm, &w->rank);
    MPI_Comm_size(comm, &w->nranks);
    w->file = w->data = w->index = H5I_INVALID_HID;
    w->spec = spec;
    w->path = s3dlio_xstrdup(spec->path);
    size_t tn = strlen(spec->path) + strlen(spec->tmp_tag) + 16;
    w->tmp = s3dlio_xmalloc(tn);
    snprintf(w->tmp, tn, "%s.s3dlio-tmp-%s", spec->path, spec->tmp_tag);
    w->rows = s3dlio_xcalloc(spec->n ? spec->n : 1, sizeof(*w->rows));
    w->nslots = spec->nslots ? spec->nslots : 1;
    w->slot_size = spec->slot_size ? spec->slot_size : S3DLIO_H5_SLOT_SIZE;
    w->slots = s3dlio_xcalloc(w->nslots, sizeof(*w->slots));
    lay_out(w);
    enum s3dlio_rc rc = w->rank == 0 ? check_path(spec->path, err) : S3DLIO_OK;
    if (!(rc = s3dlio_coord_agree(comm, rc, err))) {
        struct h5_quiet q;
        s3dlio_h5_quiet_begin(&q);
        if (create_file(comm, w) < 0)
            rc = s3dlio_error_set(err, S3DLIO_E_IO, "stage", spec->path,
                                  "cannot create the HDF5 file '%s'", w->tmp);
        s3dlio_h5_quiet_end(&q);
        rc = s3dlio_coord_agree(comm, rc, err);
    }
    if (rc) {
        /* a rank that did create it goes through the collective close with the others */
        s3dlio_h5_writer_finish(comm, w, rc, NULL);
        return rc;
    }
    S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_H5, "writing %zu objects, %" PRIu64 " bytes into '%s'",
               spec->n, w->total, w->tmp);
    *out = w;
    return S3DLIO_OK;
}

/* ---- the index ---------------------------------------------------------------------------- */

static const char *const *sort_keys; /* qsort has no context argument; rank 0, one thread */

static int by_key(const void *a, const void *b)
{
    return strcmp(sort_keys[*(const size_t *)a], sort_keys[*(const size_t *)b]);
}

static void fill_row(const struct s3dlio_h5_writer *w, const struct h5_rowtype *rt, size_t i,
                     uint32_t crc, unsigned char *row)
{
    const struct s3dlio_h5_spec *s = w->spec;
    const char *etag = spec_etag(s, i);
    int32_t owner = s->owner[i];
    memset(row, 0, rt->size);
    memcpy(row + rt->off_key, s->keys[i], strlen(s->keys[i]));
    memcpy(row + rt->off_etag, etag, strlen(etag));
    memcpy(row + rt->off_offset, &w->rows[i].base, 8);
    memcpy(row + rt->off_size, &w->rows[i].size, 8);
    memcpy(row + rt->off_crc, &crc, 4);
    memcpy(row + rt->off_rank, &owner, 4);
}

static herr_t write_rows(const struct s3dlio_h5_writer *w, hid_t mtype, uint64_t first, size_t n,
                         const void *buf)
{
    hsize_t start = first, count = n;
    hid_t fspace = H5Dget_space(w->index), mspace = H5Screate_simple(1, &count, NULL);
    herr_t st = fspace < 0 || mspace < 0
                    ? -1
                    : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL);
    if (st >= 0)
        st = H5Dwrite(w->index, mtype, mspace, fspace, H5P_DEFAULT, buf);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (mspace >= 0)
        H5Sclose(mspace);
    return st;
}

/* Rank 0: /index in key order, INDEX_BATCH rows at a time. */
static herr_t write_index(const struct s3dlio_h5_writer *w, const uint32_t *crc)
{
    size_t n = w->spec->n;
    size_t *order = s3dlio_xcalloc(n ? n : 1, sizeof(*order));
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    sort_keys = w->spec->keys;
    qsort(order, n, sizeof(*order), by_key);
    struct h5_rowtype rt = { 0 };
    herr_t st = s3dlio_h5_rowtype_make(&rt, w->key_w, w->etag_w) ? -1 : 0;
    unsigned char *buf = st < 0 ? NULL : s3dlio_xmalloc(INDEX_BATCH * rt.size);
    for (size_t at = 0; st >= 0 && at < n; at += INDEX_BATCH) {
        size_t m = n - at < INDEX_BATCH ? n - at : INDEX_BATCH;
        for (size_t j = 0; j < m; j++)
            fill_row(w, &rt, order[at + j], crc[order[at + j]], buf + j * rt.size);
        st = write_rows(w, rt.mem, at, m, buf);
    }
    free(buf);
    s3dlio_h5_rowtype_release(&rt);
    free(order);
    return st;
}

/*
 * Every object's CRC and how many ranks wrote it, summed to rank 0 (whoever fetched an
 * object, the others hold 0 for it); rank 0 checks each was written exactly once and writes
 * the index. Collective; the outcome is agreed.
 */
static enum s3dlio_rc gather_and_index(MPI_Comm comm, struct s3dlio_h5_writer *w,
                                       struct s3dlio_error *err)
{
    size_t n = w->spec->n;
    uint32_t *crc = s3dlio_xcalloc(n ? n : 1, sizeof(*crc)), *all_crc = NULL;
    int *done = s3dlio_xcalloc(n ? n : 1, sizeof(*done)), *all_done = NULL;
    for (size_t i = 0; i < n; i++) {
        crc[i] = w->rows[i].crc;
        done[i] = w->rows[i].done;
    }
    if (w->rank == 0) {
        all_crc = s3dlio_xcalloc(n ? n : 1, sizeof(*all_crc));
        all_done = s3dlio_xcalloc(n ? n : 1, sizeof(*all_done));
    }
    /* counts fit an int: the table is broadcast with int counts too */
    MPI_Reduce(crc, all_crc, (int)n, MPI_UINT32_T, MPI_BXOR, 0, comm);
    MPI_Reduce(done, all_done, (int)n, MPI_INT, MPI_SUM, 0, comm);
    enum s3dlio_rc rc = S3DLIO_OK;
    size_t missing = 0;
    for (size_t i = 0; w->rank == 0 && i < n; i++)
        missing += all_done[i] != 1;
    if (missing)
        rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "stage", w->path,
                              "%zu of %zu objects were not written exactly once", missing, n);
    else if (w->rank == 0) {
        struct h5_quiet q;
        s3dlio_h5_quiet_begin(&q);
        if (write_index(w, all_crc) < 0)
            rc = s3dlio_error_set(err, S3DLIO_E_IO, "stage", w->path,
                                  "HDF5 write of /index into '%s' failed", w->tmp);
        s3dlio_h5_quiet_end(&q);
    }
    free(crc);
    free(done);
    free(all_crc);
    free(all_done);
    return s3dlio_coord_agree(comm, rc, err);
}

/* ---- publish or delete -------------------------------------------------------------------- */

/* After every rank agreed on success: index, `complete`, close, rename. Collective. */
static enum s3dlio_rc publish(MPI_Comm comm, struct s3dlio_h5_writer *w, struct s3dlio_error *err)
{
    enum s3dlio_rc rc = gather_and_index(comm, w, err);
    if (rc)
        return rc;
    struct h5_quiet q;
    s3dlio_h5_quiet_begin(&q);
    /* last, so a file that has it is whole whatever happens after */
    herr_t st = attr_u64(w->file, H5L_ATTR_COMPLETE, 1);
    if (close_file(w) < 0)
        st = -1;
    s3dlio_h5_quiet_end(&q);
    if (st < 0)
        rc = s3dlio_error_set(err, S3DLIO_E_IO, "stage", w->path,
                              "HDF5 could not finish the file '%s'", w->tmp);
    if ((rc = s3dlio_coord_agree(comm, rc, err)))
        return rc;
    if (w->rank == 0 && rename(w->tmp, w->path))
        rc = s3dlio_error_sys(err, "stage", w->path, errno, "rename of the finished HDF5 file");
    return s3dlio_coord_agree(comm, rc, err);
}

enum s3dlio_rc s3dlio_h5_writer_finish(MPI_Comm comm, struct s3dlio_h5_writer *w, enum s3dlio_rc rc,
                                       struct s3dlio_error *err)
{
    if (!w)
        return rc;
    struct s3dlio_error local = { 0 };
    enum s3dlio_rc mine = rc;
    /* bytes still in a slot belong to objects that did not finish: their run fails anyway */
    if (!mine && w->io_failed)
        mine = s3dlio_error_set(&local, S3DLIO_E_IO, "stage", w->path,
                                "an HDF5 write into '%s' failed", w->tmp);
    enum s3dlio_rc agreed = s3dlio_coord_agree(comm, mine, &local);
    if (!agreed && w->file > 0)
        agreed = publish(comm, w, &local);
    if (agreed) {
        struct h5_quiet q;
        s3dlio_h5_quiet_begin(&q);
        close_file(w);
        s3dlio_h5_quiet_end(&q);
        MPI_Barrier(comm); /* nobody has it open any more */
        if (w->rank == 0 && unlink(w->tmp) && errno != ENOENT)
            S3DLIO_LOG(S3DLIO_LOG_WARN, S3DLIO_SUB_H5, "cannot remove '%s': %s", w->tmp,
                       strerror(errno));
    } else {
        S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_H5, "wrote '%s'", w->path);
    }
    /* the caller's own failure stays its message; a failure found here becomes it */
    if (!rc && agreed && err)
        *err = local;
    writer_free(w);
    return rc ? rc : agreed;
}
