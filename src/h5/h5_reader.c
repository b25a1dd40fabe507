/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reader of `stage --to h5:` files (include/s3dlio/h5.h): opening and checking one,
 * entries in key order read a block at a time, lookup by key, bytes of an entry. Files
 * are untrusted input: every attribute and dataset is checked for kind and size before use.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "h5/h5_reader_int.h"
#include "util/alloc.h"

#define ATTR_STRING_MAX 4096  /* longest string attribute read (the source URI) */
#define KEY_WIDTH_MAX   65536 /* widest key and ETag members accepted */
#define ETAG_WIDTH_MAX  4096

static enum s3dlio_rc bad(struct s3dlio_error *err, const char *path, const char *fmt,
                          const char *a)
{
    return s3dlio_error_set(err, S3DLIO_E_PARSE, "h5", path, fmt, a);
}

/* ---- attributes --------------------------------------------------------------------------- */

/* A scalar string attribute (fixed or variable length) into a heap string; NULL if absent
 * or not a string. */
static char *attr_string(hid_t loc, const char *name)
{
    if (H5Aexists(loc, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT), t = a < 0 ? -1 : H5Aget_type(a);
    hid_t sp = a < 0 ? -1 : H5Aget_space(a), mt = -1;
    char *out = NULL;
    if (t >= 0 && sp >= 0 && H5Tget_class(t) == H5T_STRING &&
        H5Sget_simple_extent_npoints(sp) == 1) {
        if (H5Tis_variable_str(t) > 0) {
            char *v = NULL;
            mt = H5Tcopy(H5T_C_S1);
            /* HDF5 converts no strings between character sets: read it in the file's */
            if (mt >= 0 && H5Tset_size(mt, H5T_VARIABLE) >= 0 &&
                H5Tset_cset(mt, H5Tget_cset(t)) >= 0 && H5Aread(a, mt, &v) >= 0 && v) {
                out = strlen(v) < ATTR_STRING_MAX ? s3dlio_xstrdup(v) : NULL;
                H5free_memory(v);
            }
        } else {
            size_t n = H5Tget_size(t);
            mt = n && n < ATTR_STRING_MAX ? H5Tcopy(H5T_C_S1) : -1;
            out = mt >= 0 ? s3dlio_xcalloc(1, n + 1) : NULL;
            if (out && (H5Tset_size(mt, n) < 0 || H5Tset_cset(mt, H5Tget_cset(t)) < 0 ||
                        H5Aread(a, mt, out) < 0)) {
                free(out);
                out = NULL;
            }
        }
    }
    if (mt >= 0)
        H5Tclose(mt);
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return out;
}

/* A scalar integer attribute; -1 if absent or not an integer. */
static int attr_u64(hid_t loc, const char *name, uint64_t *v)
{
    if (H5Aexists(loc, name) <= 0)
        return -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT), t = a < 0 ? -1 : H5Aget_type(a);
    hid_t sp = a < 0 ? -1 : H5Aget_space(a);
    int st = t >= 0 && sp >= 0 && H5Tget_class(t) == H5T_INTEGER &&
                     H5Sget_simple_extent_npoints(sp) == 1 && H5Aread(a, H5T_NATIVE_UINT64, v) >= 0
                 ? 0
                 : -1;
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return st;
}

/* format, version, complete, objects, bytes, source */
static enum s3dlio_rc check_root(struct s3dlio_h5 *h, struct s3dlio_error *err)
{
    char *format = attr_string(h->file, H5L_ATTR_FORMAT);
    uint64_t version = 0, complete = 0;
    enum s3dlio_rc rc = S3DLIO_OK;
    if (!format)
        rc = bad(err, h->path, "no '%s' string attribute: not a file of `stage --to h5:`",
                 H5L_ATTR_FORMAT);
    else if (strcmp(format, S3DLIO_H5_FORMAT))
        rc = s3dlio_error_set(err, S3DLIO_E_PARSE, "h5", h->path, "format is '%s', not '%s'",
                              format, S3DLIO_H5_FORMAT);
    else if (attr_u64(h->file, H5L_ATTR_VERSION, &version) || version != S3DLIO_H5_VERSION)
        rc = s3dlio_error_set(err, S3DLIO_E_PARSE, "h5", h->path,
                              "layout version %" PRIu64 " (this reader knows %d)", version,
                              S3DLIO_H5_VERSION);
    else if (attr_u64(h->file, H5L_ATTR_COMPLETE, &complete) || complete != 1)
        rc = bad(err, h->path,
                 "incomplete: no '%s' = 1 attribute (the stage that wrote it did not "
                 "finish)",
                 H5L_ATTR_COMPLETE);
    else if (attr_u64(h->file, H5L_ATTR_OBJECTS, &h->count) ||
             attr_u64(h->file, H5L_ATTR_BYTES, &h->bytes))
        rc = bad(err, h->path, "no integer '%s' or 'bytes' attribute", H5L_ATTR_OBJECTS);
    free(format);
    if (!rc && !(h->source = attr_string(h->file, H5L_ATTR_SOURCE)))
        h->source = s3dlio_xstrdup("");
    return rc;
}

/* ---- datasets ----------------------------------------------------------------------------- */

/* The elements of a 1-D dataset, or -1. */
static int extent_1d(hid_t d, uint64_t *n)
{
    hid_t sp = H5Dget_space(d);
    hsize_t dim = 0;
    int st = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 &&
                     H5Sget_simple_extent_dims(sp, &dim, NULL) == 1
                 ? 0
                 : -1;
    if (sp >= 0)
        H5Sclose(sp);
    *n = dim;
    return st;
}

static enum s3dlio_rc open_data(struct s3dlio_h5 *h, struct s3dlio_error *err)
{
    if (H5Lexists(h->file, H5L_DATA, H5P_DEFAULT) <= 0 ||
        (h->data = H5Dopen2(h->file, H5L_DATA, H5P_DEFAULT)) < 0)
        return bad(err, h->path, "no dataset '/%s'", H5L_DATA);
    hid_t t = H5Dget_type(h->data);
    bool bytes = t >= 0 && H5Tget_class(t) == H5T_INTEGER && H5Tget_size(t) == 1;
    if (t >= 0)
        H5Tclose(t);
    if (!bytes || extent_1d(h->data, &h->data_len))
        return bad(err, h->path, "'/%s' is not a 1-D dataset of bytes", H5L_DATA);
    return S3DLIO_OK;
}

/* The width of string member name of compound t, 0 if it has no such fixed-length string. */
static size_t string_member(hid_t t, const char *name, size_t max)
{
    int i = H5Tget_member_index(t, name);
    hid_t m = i < 0 ? -1 : H5Tget_member_type(t, (unsigned)i);
    size_t w = 0;
    if (m >= 0 && H5Tget_class(m) == H5T_STRING && H5Tis_variable_str(m) == 0)
        w = H5Tget_size(m);
    if (m >= 0)
        H5Tclose(m);
    return w <= max ? w : 0;
}

static bool int_member(hid_t t, const char *name)
{
    int i = H5Tget_member_index(t, name);
    hid_t m = i < 0 ? -1 : H5Tget_member_type(t, (unsigned)i);
    bool ok = m >= 0 && H5Tget_class(m) == H5T_INTEGER;
    if (m >= 0)
        H5Tclose(m);
    return ok;
}

static enum s3dlio_rc open_index(struct s3dlio_h5 *h, struct s3dlio_error *err)
{
    if (H5Lexists(h->file, H5L_INDEX, H5P_DEFAULT) <= 0 ||
        (h->index = H5Dopen2(h->file, H5L_INDEX, H5P_DEFAULT)) < 0)
        return bad(err, h->path, "no dataset '/%s'", H5L_INDEX);
    hid_t t = H5Dget_type(h->index);
    size_t kw = 0, ew = 0;
    bool ints = false;
    if (t >= 0 && H5Tget_class(t) == H5T_COMPOUND) {
        kw = string_member(t, "key", KEY_WIDTH_MAX);
        ew = string_member(t, "etag", ETAG_WIDTH_MAX);
        ints = int_member(t, "offset") && int_member(t, "size") && int_member(t, "crc32c") &&
               int_member(t, "rank");
    }
    if (t >= 0)
        H5Tclose(t);
    uint64_t rows = 0;
    if (!kw || !ew || !ints || extent_1d(h->index, &rows))
        return bad(err, h->path,
                   "'/%s' is not a 1-D table of key, offset, size, etag, crc32c, rank", H5L_INDEX);
    if (rows != h->count)
        return s3dlio_error_set(err, S3DLIO_E_PARSE, "h5", h->path,
                                "truncated index: /%s has %" PRIu64
                                " rows, the '%s' attribute says "
                                "%" PRIu64,
                                H5L_INDEX, rows, H5L_ATTR_OBJECTS, h->count);
    if (s3dlio_h5_rowtype_make(&h->rt, kw, ew))
        return s3dlio_error_set(err, S3DLIO_E_INTERNAL, "h5", h->path, "HDF5 type setup failed");
    h->block = s3dlio_xmalloc(H5R_BLOCK * h->rt.size);
    h->key = s3dlio_xmalloc(kw + 1);
    h->etag = s3dlio_xmalloc(ew + 1);
    return S3DLIO_OK;
}

/* stat first: a missing file and a directory get their own words, not HDF5's */
static enum s3dlio_rc check_file(const char *path, struct s3dlio_error *err)
{
    struct stat st;
    if (stat(path, &st))
        return errno == ENOENT
                   ? s3dlio_error_set(err, S3DLIO_E_NOT_FOUND, "h5", path, "no such file")
                   : s3dlio_error_sys(err, "h5", path, errno, "stat");
    if (!S_ISREG(st.st_mode))
        return bad(err, path, "%s", "not a regular file");
    if (H5Fis_hdf5(path) <= 0)
        return bad(err, path, "%s", "not an HDF5 file");
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_h5_open(const char *path, struct s3dlio_h5 **out, struct s3dlio_error *err)
{
    struct s3dlio_h5 *h = s3dlio_xcalloc(1, sizeof(*h));
    h->path = s3dlio_xstrdup(path);
    h->file = h->data = h->index = H5I_INVALID_HID;
    h->rt.mem = h->rt.file = H5I_INVALID_HID;
    struct h5_quiet q;
    s3dlio_h5_quiet_begin(&q);
    enum s3dlio_rc rc = check_file(path, err);
    if (!rc && (h->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
        rc = bad(err, path, "%s", "HDF5 cannot open it (damaged, or locked by a writer)");
    if (!rc)
        rc = check_root(h, err);
    if (!rc)
        rc = open_data(h, err);
    if (!rc)
        rc = open_index(h, err);
    s3dlio_h5_quiet_end(&q);
    if (rc) {
        s3dlio_h5_close(h);
        h = NULL;
    }
    *out = h;
    return rc;
}

void s3dlio_h5_close(struct s3dlio_h5 *h)
{
    if (!h)
        return;
    struct h5_quiet q;
    s3dlio_h5_quiet_begin(&q);
    s3dlio_h5_rowtype_release(&h->rt);
    if (h->index > 0)
        H5Dclose(h->index);
    if (h->data > 0)
        H5Dclose(h->data);
    if (h->file > 0)
        H5Fclose(h->file);
    s3dlio_h5_quiet_end(&q);
    free(h->path);
    free(h->source);
    free(h->block);
    free(h->key);
    free(h->etag);
    free(h);
}

uint64_t s3dlio_h5_count(const struct s3dlio_h5 *h)
{
    return h->count;
}

uint64_t s3dlio_h5_bytes(const struct s3dlio_h5 *h)
{
    return h->bytes;
}

const char *s3dlio_h5_source(const struct s3dlio_h5 *h)
{
    return h->source;
}

/* ---- entries ------------------------------------------------------------------------------ */

static enum s3dlio_rc load_block(struct s3dlio_h5 *h, uint64_t i, struct s3dlio_error *err)
{
    uint64_t first = i - i % H5R_BLOCK;
    hsize_t start = first, count = h->count - first < H5R_BLOCK ? h->count - first : H5R_BLOCK;
    struct h5_quiet q;
    s3dlio_h5_quiet_begin(&q);
    hid_t fspace = H5Dget_space(h->index), mspace = H5Screate_simple(1, &count, NULL);
    herr_t st = fspace < 0 || mspace < 0
                    ? -1
                    : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL);
    if (st >= 0)
        st = H5Dread(h->index, h->rt.mem, mspace, fspace, H5P_DEFAULT, h->block);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (mspace >= 0)
        H5Sclose(mspace);
    s3dlio_h5_quiet_end(&q);
    if (st < 0) {
        h->block_n = 0;
        return s3dlio_error_set(err, S3DLIO_E_PARSE, "h5", h->path,
                                "cannot read /index rows %" PRIu64 "..%" PRIu64, first,
                                first + (uint64_t)count - 1);
    }
    h->block_first = first;
    h->block_n = count;
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_h5r_row(struct s3dlio_h5 *h, uint64_t i, struct s3dlio_h5_entry *e,
                              struct s3dlio_error *err)
{
    if (i >= h->count)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "h5", h->path, "entry %" PRIu64 " of %" PRIu64,
                                i, h->count);
    enum s3dlio_rc rc = S3DLIO_OK;
    if (!h->block_n || i < h->block_first || i >= h->block_first + h->block_n)
        rc = load_block(h, i, err);
    if (rc)
        return rc;
    const unsigned char *row = h->block + (i - h->block_first) * h->rt.size;
    size_t kn = strnlen((const char *)row + h->rt.off_key, h->rt.key_w);
    size_t en = strnlen((const char *)row + h->rt.off_etag, h->rt.etag_w);
    memcpy(h->key, row + h->rt.off_key, kn);
    h->key[kn] = '\0';
    memcpy(h->etag, row + h->rt.off_etag, en);
    h->etag[en] = '\0';
    e->key = h->key;
    e->etag = h->etag;
    memcpy(&e->offset, row + h->rt.off_offset, 8);
    memcpy(&e->size, row + h->rt.off_size, 8);
    memcpy(&e->crc32c, row + h->rt.off_crc, 4);
    memcpy(&e->rank, row + h->rt.off_rank, 4);
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_h5_entry(struct s3dlio_h5 *h, uint64_t i, struct s3dlio_h5_entry *e,
                               struct s3dlio_error *err)
{
    return s3dlio_h5r_row(h, i, e, err);
}

enum s3dlio_rc s3dlio_h5_find(struct s3dlio_h5 *h, const char *key, struct s3dlio_h5_entry *e,
                              struct s3dlio_error *err)
{
    uint64_t lo = 0, hi = h->count;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        enum s3dlio_rc rc = s3dlio_h5r_row(h, mid, e, err);
        if (rc)
            return rc;
        int c = strcmp(key, e->key);
        if (!c)
            return S3DLIO_OK;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return s3dlio_error_set(err, S3DLIO_E_NOT_FOUND, "h5", h->path, "no key '%s' in the index",
                            key);
}

enum s3dlio_rc s3dlio_h5_read(struct s3dlio_h5 *h, const struct s3dlio_h5_entry *e, uint64_t offset,
                              void *buf, uint64_t len, struct s3dlio_error *err)
{
    if (offset > e->size || len > e->size - offset)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "h5", h->path,
                                "bytes %" PRIu64 "+%" PRIu64 " lie outside '%s' (%" PRIu64
                                " bytes)",
                                offset, len, e->key, e->size);
    if (e->offset > h->data_len || e->size > h->data_len - e->offset)
        return s3dlio_error_set(err, S3DLIO_E_PARSE, "h5", h->path,
                                "'%s' lies outside /data (offset %" PRIu64 ", %" PRIu64
                                " bytes of %" PRIu64 ")",
                                e->key, e->offset, e->size, h->data_len);
    if (!len)
        return S3DLIO_OK;
    hsize_t start = e->offset + offset, count = len;
    struct h5_quiet q;
    s3dlio_h5_quiet_begin(&q);
    hid_t fspace = H5Dget_space(h->data), mspace = H5Screate_simple(1, &count, NULL);
    herr_t st = fspace < 0 || mspace < 0
                    ? -1
                    : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL);
    if (st >= 0)
        st = H5Dread(h->data, H5T_NATIVE_UCHAR, mspace, fspace, H5P_DEFAULT, buf);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (mspace >= 0)
        H5Sclose(mspace);
    s3dlio_h5_quiet_end(&q);
    if (st < 0)
        return s3dlio_error_set(err, S3DLIO_E_IO, "h5", h->path,
                                "HDF5 read of '%s' bytes %" PRIu64 "+%" PRIu64 " failed", e->key,
                                offset, len);
    return S3DLIO_OK;
}
