/* SPDX-License-Identifier: Apache-2.0 */
/* The /index row type and HDF5 error-stack silencing (see h5_layout.h). */
#include "h5/h5_layout.h"

#include <stdint.h>

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static hid_t string_type(size_t width)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return t;
    if (H5Tset_size(t, width) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

/* members in the documented order; offsets given by the caller */
static hid_t compound(size_t size, const size_t off[6], hid_t key, hid_t etag, hid_t u64, hid_t u32,
                      hid_t i32)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, size);
    if (t < 0)
        return t;
    if (H5Tinsert(t, "key", off[0], key) < 0 || H5Tinsert(t, "offset", off[1], u64) < 0 ||
        H5Tinsert(t, "size", off[2], u64) < 0 || H5Tinsert(t, "etag", off[3], etag) < 0 ||
        H5Tinsert(t, "crc32c", off[4], u32) < 0 || H5Tinsert(t, "rank", off[5], i32) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

int s3dlio_h5_rowtype_make(struct h5_rowtype *t, size_t key_w, size_t etag_w)
{
    t->mem = t->file = H5I_INVALID_HID;
    t->key_w = key_w ? key_w : 1;
    t->etag_w = etag_w ? etag_w : 1;
    /* memory: strings first, then the numbers on 8-byte boundaries */
    t->off_key = 0;
    t->off_etag = t->key_w;
    t->off_offset = align8(t->key_w + t->etag_w);
    t->off_size = t->off_offset + 8;
    t->off_crc = t->off_size + 8;
    t->off_rank = t->off_crc + 4;
    t->size = t->off_rank + 4;
    hid_t key = string_type(t->key_w), etag = string_type(t->etag_w);
    if (key >= 0 && etag >= 0) {
        const size_t mem_off[6] = { t->off_key,  t->off_offset, t->off_size,
                                    t->off_etag, t->off_crc,    t->off_rank };
        t->mem = compound(t->size, mem_off, key, etag, H5T_NATIVE_UINT64, H5T_NATIVE_UINT32,
                          H5T_NATIVE_INT32);
        size_t k = t->key_w, e = t->etag_w;
        const size_t file_off[6] = { 0, k, k + 8, k + 16, k + 16 + e, k + 20 + e };
        t->file =
            compound(k + e + 24, file_off, key, etag, H5T_STD_U64LE, H5T_STD_U32LE, H5T_STD_I32LE);
    }
    if (key >= 0)
        H5Tclose(key);
    if (etag >= 0)
        H5Tclose(etag);
    if (t->mem < 0 || t->file < 0) {
        s3dlio_h5_rowtype_release(t);
        return -1;
    }
    return 0;
}

void s3dlio_h5_rowtype_release(struct h5_rowtype *t)
{
    if (t->mem > 0)
        H5Tclose(t->mem);
    if (t->file > 0)
        H5Tclose(t->file);
    t->mem = t->file = H5I_INVALID_HID;
}

void s3dlio_h5_quiet_begin(struct h5_quiet *q)
{
    H5Eget_auto2(H5E_DEFAULT, &q->fn, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void s3dlio_h5_quiet_end(const struct h5_quiet *q)
{
    H5Eset_auto2(H5E_DEFAULT, q->fn, q->data);
}
