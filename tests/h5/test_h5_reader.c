/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reader of `stage --to h5:` files on files made here with the HDF5 C API: a good one
 * (entries, find, read, verify), and every kind of bad input refused with its own message,
 * never a crash: no file, not HDF5, no or another format, another version, no `complete`,
 * a truncated index, no /data, unsorted keys, overlapping or outlying objects, a flipped byte.
 */
#include <hdf5.h>
#include <stdint.h>
#include "../unit/check.h"
#include "h5/h5_layout.h"
#include "s3dlio/h5.h"
#include "util/crc32c.h"

struct obj {
    const char *key;
    uint64_t offset, size;
};

/* How to spoil the file. */
struct spec {
    const char *format; /* NULL: no attribute */
    uint64_t version;
    int complete;          /* -1: no attribute */
    int64_t objects_delta; /* objects attribute = rows + this */
    bool no_data;
    int flip_at;            /* -1: none; else /data byte to change after the CRCs were taken */
    const struct obj *objs; /* index rows as written (in this order) */
    size_t n;
};

static const unsigned char DATA[] = "hello"
                                    "xyz"
                                    "tail";
#define DATA_LEN (sizeof(DATA) - 1)

static void attr_u64(hid_t f, const char *name, uint64_t v)
{
    hid_t sp = H5Screate(H5S_SCALAR),
          a = H5Acreate2(f, name, H5T_STD_U64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_UINT64, &v);
    H5Aclose(a);
    H5Sclose(sp);
}

static void attr_str(hid_t f, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, strlen(v));
    hid_t a = H5Acreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, v);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

static void write_index(hid_t f, const struct spec *s)
{
    struct h5_rowtype rt;
    s3dlio_h5_rowtype_make(&rt, 16, 8);
    hsize_t n = s->n;
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(f, "index", rt.file, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    unsigned char *rows = calloc(s->n + 1, rt.size);
    for (size_t i = 0; i < s->n; i++) {
        unsigned char *r = rows + i * rt.size;
        const struct obj *o = &s->objs[i];
        uint32_t crc =
            o->offset + o->size <= DATA_LEN ? s3dlio_crc32c(0, DATA + o->offset, o->size) : 0;
        int32_t rank = (int32_t)i;
        memcpy(r + rt.off_key, o->key, strlen(o->key));
        memcpy(r + rt.off_etag, "etag", 4);
        memcpy(r + rt.off_offset, &o->offset, 8);
        memcpy(r + rt.off_size, &o->size, 8);
        memcpy(r + rt.off_crc, &crc, 4);
        memcpy(r + rt.off_rank, &rank, 4);
    }
    if (s->n)
        H5Dwrite(d, rt.mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows);
    free(rows);
    H5Dclose(d);
    H5Sclose(sp);
    s3dlio_h5_rowtype_release(&rt);
}

static void make_file(const char *path, const struct spec *s)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (!s->no_data) {
        unsigned char data[DATA_LEN];
        memcpy(data, DATA, DATA_LEN);
        if (s->flip_at >= 0)
            data[s->flip_at] ^= 0x40;
        hsize_t n = DATA_LEN;
        hid_t sp = H5Screate_simple(1, &n, NULL);
        hid_t d = H5Dcreate2(f, "data", H5T_STD_U8LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(d, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
        H5Dclose(d);
        H5Sclose(sp);
    }
    write_index(f, s);
    if (s->format)
        attr_str(f, "format", s->format);
    attr_u64(f, "version", s->version);
    uint64_t bytes = 0;
    for (size_t i = 0; i < s->n; i++)
        bytes += s->objs[i].size;
    attr_u64(f, "objects", (uint64_t)((int64_t)s->n + s->objects_delta));
    attr_u64(f, "bytes", bytes);
    if (s->complete >= 0)
        attr_u64(f, "complete", (uint64_t)s->complete);
    H5Fclose(f);
}

static const struct obj GOOD[] = { { "a", 0, 5 }, { "b c/\xc3\xbc", 5, 0 }, { "z", 5, 3 } };
static const struct obj UNSORTED[] = { { "b", 0, 5 }, { "a", 5, 3 } };
static const struct obj OVERLAP[] = { { "a", 0, 5 }, { "b", 4, 3 } };
static const struct obj OUTSIDE[] = { { "a", 0, 5 }, { "b", 10, 30 } };

static struct spec good(void)
{
    return (struct spec){
        .format = S3DLIO_H5_FORMAT, .version = 1, .complete = 1, .flip_at = -1, .objs = GOOD, .n = 3
    };
}

/* open fails with rc and a message containing want */
static void refused(const char *dir, const char *name, const struct spec *s, enum s3dlio_rc rc,
                    const char *want)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.h5", dir, name);
    if (s)
        make_file(path, s);
    struct s3dlio_h5 *h = (void *)1;
    struct s3dlio_error err = { 0 };
    CHECK_INT(s3dlio_h5_open(path, &h, &err), rc, name);
    CHECK(h == NULL, name);
    CHECK(strstr(err.message, want) != NULL, name);
    CHECK_STR(err.target, path, name);
    if (!strstr(err.message, want))
        fprintf(stderr, "  [%s] message: %s\n", name, err.message);
}

/* opens, and verify fails with rc and a message containing want */
static void verify_fails(const char *dir, const char *name, const struct spec *s, enum s3dlio_rc rc,
                         const char *want)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.h5", dir, name);
    make_file(path, s);
    struct s3dlio_h5 *h = NULL;
    struct s3dlio_error err = { 0 };
    struct s3dlio_h5_verify_result r;
    CHECK_INT(s3dlio_h5_open(path, &h, &err), S3DLIO_OK, name);
    if (!h)
        return;
    CHECK_INT(s3dlio_h5_verify(h, &r, &err), rc, name);
    CHECK(strstr(err.message, want) != NULL, name);
    if (!strstr(err.message, want))
        fprintf(stderr, "  [%s] message: %s\n", name, err.message);
    s3dlio_h5_close(h);
}

static void good_file(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/good.h5", dir);
    const struct spec s = good();
    make_file(path, &s);
    struct s3dlio_h5 *h = NULL;
    struct s3dlio_error err = { 0 };
    struct s3dlio_h5_entry e;
    CHECK_INT(s3dlio_h5_open(path, &h, &err), S3DLIO_OK, "good: open");
    if (!h)
        return;
    CHECK_INT(s3dlio_h5_count(h), 3, "good: count");
    CHECK_INT(s3dlio_h5_bytes(h), 8, "good: bytes");
    CHECK_INT(s3dlio_h5_entry(h, 1, &e, &err), S3DLIO_OK, "good: entry 1");
    CHECK_STR(e.key, "b c/\xc3\xbc", "good: entry 1 key");
    CHECK_STR(e.etag, "etag", "good: entry 1 etag");
    CHECK_INT(s3dlio_h5_entry(h, 3, &e, &err), S3DLIO_E_USAGE, "good: entry past the end");
    CHECK_INT(s3dlio_h5_find(h, "z", &e, &err), S3DLIO_OK, "good: find z");
    CHECK_INT(e.offset, 5, "good: z offset");
    CHECK_INT(e.rank, 2, "good: z rank");
    char buf[8] = "";
    CHECK_INT(s3dlio_h5_read(h, &e, 1, buf, 2, &err), S3DLIO_OK, "good: read z");
    CHECK_STR(buf, "yz", "good: z bytes 1..2");
    CHECK_INT(s3dlio_h5_read(h, &e, 2, buf, 2, &err), S3DLIO_E_USAGE, "good: read past z");
    CHECK_INT(s3dlio_h5_find(h, "b", &e, &err), S3DLIO_E_NOT_FOUND, "good: find b");
    CHECK(strstr(err.message, "'b'") != NULL, "good: the missing key named");
    struct s3dlio_h5_verify_result r;
    CHECK_INT(s3dlio_h5_verify(h, &r, &err), S3DLIO_OK, "good: verify");
    CHECK_INT(r.objects, 3, "good: verified objects");
    CHECK_INT(r.bytes, 8, "good: verified bytes");
    s3dlio_h5_close(h);
}

int main(void)
{
    char dir[256];
    if (!check_tmpdir(dir, sizeof(dir), "h5-reader"))
        return 1;
    good_file(dir);
    refused(dir, "missing", NULL, S3DLIO_E_NOT_FOUND, "no such file");
    char text[512];
    snprintf(text, sizeof(text), "%s/text.h5", dir);
    FILE *t = fopen(text, "w");
    fputs("not HDF5 at all\n", t);
    fclose(t);
    refused(dir, "text", NULL, S3DLIO_E_PARSE, "not an HDF5 file");
    struct spec no_format = good();
    no_format.format = NULL;
    refused(dir, "no-format", &no_format, S3DLIO_E_PARSE, "no 'format'");
    struct spec other = good();
    other.format = "someone/else";
    refused(dir, "other-format", &other, S3DLIO_E_PARSE, "format is 'someone/else'");
    struct spec v2 = good();
    v2.version = 2;
    refused(dir, "version2", &v2, S3DLIO_E_PARSE, "layout version 2");
    struct spec incomplete = good();
    incomplete.complete = -1;
    refused(dir, "incomplete", &incomplete, S3DLIO_E_PARSE, "incomplete");
    struct spec zero = good();
    zero.complete = 0;
    refused(dir, "complete0", &zero, S3DLIO_E_PARSE, "incomplete");
    struct spec truncated = good();
    truncated.objects_delta = 2;
    refused(dir, "truncated", &truncated, S3DLIO_E_PARSE, "truncated index");
    struct spec no_data = good();
    no_data.no_data = true;
    refused(dir, "no-data", &no_data, S3DLIO_E_PARSE, "no dataset '/data'");

    struct spec flipped = good();
    flipped.flip_at = 6;
    verify_fails(dir, "flipped", &flipped, S3DLIO_E_INTEGRITY, "1 of 3 objects do not match");
    verify_fails(dir, "flipped-name", &flipped, S3DLIO_E_INTEGRITY, "first 'z'");
    struct spec unsorted = good();
    unsorted.objs = UNSORTED;
    unsorted.n = 2;
    verify_fails(dir, "unsorted", &unsorted, S3DLIO_E_PARSE, "keys must be sorted");
    struct spec overlap = good();
    overlap.objs = OVERLAP;
    overlap.n = 2;
    verify_fails(dir, "overlap", &overlap, S3DLIO_E_PARSE, "overlap");
    struct spec outside = good();
    outside.objs = OUTSIDE;
    outside.n = 2;
    verify_fails(dir, "outside", &outside, S3DLIO_E_PARSE, "outside /data");
    check_rmtree(dir);
    TEST_DONE();
}
