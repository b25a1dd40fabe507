/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packed listing rows (src/coord/rowpack.c), the form a listing takes between ranks: rows come
 * back as added (size, key, ETag, flag), in order; no row straddles two chunks (each chunk is
 * whole rows, so it travels and is freed on its own); a pack of one small row takes a small
 * chunk (rank 0 keeps one pack per key it met finding the pieces: tens of thousands), the
 * next ones are 1 MiB; a row larger than a chunk gets one of its own; a chunk cut short is
 * refused.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "check.h"
#include "coord/rowpack.h"

static void key_of(size_t i, char *key, size_t n)
{
    snprintf(key, n, "train/shard-%04zu/%0*zu.jpg", i / 1000, (int)(i % 50), i);
}

/* every seventh row without an ETag: a row's empty string must come back empty */
static void etag_of(size_t i, char *out, size_t n)
{
    if (i % 7)
        snprintf(out, n, "%032zx", i);
    else
        out[0] = '\0';
}

static void test_round_trip(void)
{
    struct s3dlio_rowpack p = {0};
    char key[128], etag[40];
    const size_t n = 60000;
    for (size_t i = 0; i < n; i++) {
        key_of(i, key, sizeof(key));
        etag_of(i, etag, sizeof(etag));
        s3dlio_rowpack_add(&p, key, etag, i * 31);
    }
    CHECK_INT(p.rows, n, "rows counted");
    CHECK(p.n > 2, "several chunks");
    size_t i = 0, bad = 0, in_chunks = 0;
    for (size_t c = 0; c < p.n; c++) {
        CHECK(p.len[c] <= ((uint64_t)1 << 20), "a chunk is at most 1 MiB");
        in_chunks += s3dlio_rowpack_count(p.chunk[c], p.len[c]);
    }
    CHECK_INT(in_chunks, n, "every chunk holds whole rows, and all of them");
    struct s3dlio_rowpack_at at;
    for (bool more = s3dlio_rowpack_first(&p, &at); more; more = s3dlio_rowpack_next(&at), i++) {
        key_of(i, key, sizeof(key));
        etag_of(i, etag, sizeof(etag));
        bad += strcmp(s3dlio_row_key(at.row), key) || strcmp(s3dlio_row_etag(at.row), etag) ||
               s3dlio_row_size(at.row) != i * 31 || at.row[8];
    }
    CHECK_INT(i, n, "every row walked");
    CHECK_INT(bad, 0, "rows as added");
    /* a copy of a row, flag and all */
    struct s3dlio_rowpack q = {0};
    s3dlio_rowpack_first(&p, &at);
    at.row[8] = 1;
    s3dlio_rowpack_add_row(&q, at.row);
    CHECK(s3dlio_rowpack_first(&q, &at) && at.row[8] == 1 && !strcmp(s3dlio_row_key(at.row), "train/shard-0000/0.jpg"),
          "add_row copies the row");
    s3dlio_rowpack_release(&q);
    s3dlio_rowpack_release(&p);
    CHECK(!p.n && !p.rows && !p.chunk, "released");
}

static void test_small_and_large(void)
{
    struct s3dlio_rowpack p = {0};
    s3dlio_rowpack_add(&p, "lvl/d00", "abc", 5);
    CHECK_INT(p.n, 1, "one chunk");
    CHECK(p.len[0] + p.room <= 4096, "one small row: a small chunk, not 1 MiB");
    /* a key longer than a chunk: a chunk of its own, whole */
    size_t big = (2u << 20) + 3;
    char *key = malloc(big + 1);
    memset(key, 'k', big);
    key[big] = '\0';
    s3dlio_rowpack_add(&p, key, "", 1);
    s3dlio_rowpack_add(&p, "z", "", 2);
    CHECK_INT(p.rows, 3, "three rows");
    size_t total = 0;
    for (size_t c = 0; c < p.n; c++)
        total += s3dlio_rowpack_count(p.chunk[c], p.len[c]);
    CHECK_INT(total, 3, "the long row whole in one chunk");
    struct s3dlio_rowpack_at at;
    s3dlio_rowpack_first(&p, &at);
    s3dlio_rowpack_next(&at);
    CHECK(strlen(s3dlio_row_key(at.row)) == big, "the long key intact");
    free(key);
    s3dlio_rowpack_release(&p);
}

static void test_damaged_chunk(void)
{
    struct s3dlio_rowpack p = {0};
    s3dlio_rowpack_add(&p, "a/b", "e1", 1);
    s3dlio_rowpack_add(&p, "a/c", "e2", 2);
    uint64_t len = p.len[0];
    CHECK_INT(s3dlio_rowpack_count(p.chunk[0], len), 2, "whole chunk");
    CHECK(s3dlio_rowpack_count(p.chunk[0], len - 1) == SIZE_MAX, "cut in the last ETag: refused");
    CHECK(s3dlio_rowpack_count(p.chunk[0], 5) == SIZE_MAX, "cut in the size: refused");
    CHECK_INT(s3dlio_rowpack_count(p.chunk[0], 0), 0, "empty chunk: no rows");
    s3dlio_rowpack_release(&p);
}

int main(void)
{
    test_round_trip();
    test_small_and_large();
    test_damaged_chunk();
    TEST_DONE();
}
