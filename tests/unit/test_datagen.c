/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data generator (src/xfer/datagen.c): bytes are a pure function of (seed, key, offset),
 * any range equals the same slice of the whole object, the block header names its source,
 * dedup and compress shape the blocks, verify finds the first bad byte, sizes are uniform.
 * The factor ratios as zstd/gzip see them: tests/integration/it_datagen_factors.sh.
 * Usage: test_datagen [data dir, unused]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "util/alloc.h"
#include "xfer/datagen.h"

#define BLK S3DLIO_GEN_BLOCK

/* The test's own PRNG for ranges (splitmix64), fixed seed: failures replay. */
static uint64_t rng_state = 12345;
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t get_le(const unsigned char *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Whole object on the heap (caller frees). */
static unsigned char *whole(const struct s3dlio_gen *g, const char *key, size_t size)
{
    unsigned char *b = s3dlio_xmalloc(size ? size : 1);
    s3dlio_gen_fill(g, key, 0, b, size);
    return b;
}

static const struct gen_case {
    const char *name;
    uint64_t seed;
    const char *key;
    unsigned dedup, compress;
    size_t size; /* not a multiple of the block: the partial tail is covered */
} cases[] = {
    { "plain", 1, "train/shard-000123.bin", 0, 0, 9 * BLK + 123 },
    { "factor 1 spelled out", 1, "train/shard-000123.bin", 1, 1, 9 * BLK + 123 },
    { "dedup 4", 7, "a", 4, 1, 70 * BLK + 1 },
    { "dedup 3 odd", 7, "a", 3, 1, 50 * BLK + 4095 },
    { "compress 4", 2, "k", 1, 4, 12 * BLK + 7 },
    { "compress 3 odd", 2, "k", 1, 3, 12 * BLK + 77 },
    { "dedup 8 compress 2", 99, "x/y/z", 8, 2, 40 * BLK + 1000 },
    { "empty key, huge seed", UINT64_MAX, "", 2, 8, 5 * BLK },
    { "under one block", 5, "tiny", 1, 1, 100 },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct s3dlio_gen gen_of(const struct gen_case *c)
{
    struct s3dlio_gen g = { c->seed, c->dedup, c->compress };
    return g;
}

/* Same inputs, same bytes; and any range, generated alone, equals the slice of the whole. */
static void test_ranges(const struct gen_case *c)
{
    struct s3dlio_gen g = gen_of(c);
    unsigned char *all = whole(&g, c->key, c->size);
    unsigned char *again = whole(&g, c->key, c->size);
    unsigned char *part = s3dlio_xmalloc(c->size);
    CHECK(!memcmp(all, again, c->size), c->name);
    int bad = 0;
    for (int i = 0; i < 300; i++) {
        size_t off = (size_t)(rng() % c->size);
        size_t len = (size_t)(rng() % (c->size - off + 1));
        if (i % 3 == 0)
            len %= 64; /* many short, unaligned ranges too */
        s3dlio_gen_fill(&g, c->key, off, part, len);
        bad += memcmp(part, all + off, len) != 0;
    }
    CHECK_INT(bad, 0, c->name);
    /* and a whole object assembled from random pieces */
    for (size_t off = 0; off < c->size;) {
        size_t len = 1 + (size_t)(rng() % (3 * BLK));
        len = len < c->size - off ? len : c->size - off;
        s3dlio_gen_fill(&g, c->key, off, part + off, len);
        off += len;
    }
    CHECK(!memcmp(part, all, c->size), c->name);
    CHECK(s3dlio_gen_verify(&g, c->key, 0, all, c->size, NULL), c->name);
    free(all);
    free(again);
    free(part);
}

/* Every block starts "s3dg", source index, key hash, seed; a copy is identical to its source. */
static void test_headers(const struct gen_case *c)
{
    struct s3dlio_gen g = gen_of(c);
    unsigned char *all = whole(&g, c->key, c->size);
    size_t nblk = c->size / BLK, unique = 0;
    int bad = 0;
    uint64_t key_hash = nblk ? get_le(all + 8, 8) : 0;
    for (size_t b = 0; b < nblk; b++) {
        const unsigned char *p = all + b * BLK;
        uint64_t src = get_le(p + 4, 4);
        bad += memcmp(p, "s3dg", 4) != 0 || get_le(p + 16, 8) != c->seed ||
               get_le(p + 8, 8) != key_hash || src > b || memcmp(p, all + src * BLK, BLK) != 0;
        unique += src == b;
    }
    CHECK_INT(bad, 0, c->name);
    unsigned d = c->dedup > 1 ? c->dedup : 1;
    CHECK_INT(unique, (nblk + d - 1) / d, c->name); /* exactly ceil(n/N) sources */
    free(all);
}

/* compress N: each block is ceil(4096/N) (rounded up to 8) bytes of data, then zeros. */
static void test_compress_shape(void)
{
    static const struct {
        unsigned factor;
        size_t data;
    } rows[] = { { 1, 4096 }, { 2, 2048 }, { 3, 1368 }, { 4, 1024 }, { 8, 512 }, { 1000, 24 } };
    unsigned char blk[BLK];
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct s3dlio_gen g = { 3, 1, rows[i].factor };
        s3dlio_gen_fill(&g, "c", 5 * BLK, blk, BLK);
        size_t last = BLK;
        while (last > 0 && blk[last - 1] == 0)
            last--;
        /* the last data word is random: the odds that it ends in a zero byte are 1/256 */
        CHECK(last <= rows[i].data && last > rows[i].data - 8, "compress data length");
        if (!(last <= rows[i].data && last > rows[i].data - 8))
            fprintf(stderr, "  factor %u: data ends at %zu, want %zu\n", rows[i].factor, last,
                    rows[i].data);
    }
}

/* A different seed or key changes every block (no 4 KiB block in common). */
static void test_differ(void)
{
    size_t size = 64 * BLK;
    struct s3dlio_gen g1 = { 1, 0, 0 }, g2 = { 2, 0, 0 };
    unsigned char *a = whole(&g1, "key", size);
    unsigned char *b = whole(&g2, "key", size);
    unsigned char *c = whole(&g1, "kez", size);
    int same = 0;
    for (size_t i = 0; i < size / BLK; i++)
        for (size_t j = 0; j < size / BLK; j++)
            same +=
                !memcmp(a + i * BLK, b + j * BLK, BLK) || !memcmp(a + i * BLK, c + j * BLK, BLK);
    CHECK_INT(same, 0, "seed or key change: no block shared");
    /* and the data after each 24-byte header looks random: bytes roughly uniform */
    size_t hist[256] = { 0 };
    for (size_t i = 0; i < size; i++)
        hist[a[i]] += i % BLK >= 24;
    size_t lo = size, hi = 0;
    for (int v = 0; v < 256; v++) {
        lo = hist[v] < lo ? hist[v] : lo;
        hi = hist[v] > hi ? hist[v] : hi;
    }
    CHECK(lo > size / 256 * 8 / 10 && hi < size / 256 * 12 / 10, "byte histogram flat");
    free(a);
    free(b);
    free(c);
}

/* Pins the format: data written by one build must verify with the next. */
static void test_stable(void)
{
    struct s3dlio_gen g = { 42, 0, 0 };
    unsigned char b[32];
    s3dlio_gen_fill(&g, "train/shard-000123.bin", 3 * BLK, b, sizeof(b));
    char hex[65];
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    CHECK_STR(hex, "7333646703000000e70adf534ecc2cc92a000000000000007e263e40eed3c910",
              "format of block 3 (change only with a format version bump)");
}

static const struct flip_case {
    const char *name;
    uint64_t offset;
    size_t len, flip; /* flip: index in the buffer of the damaged byte */
} flips[] = {
    { "first byte", 1000, 30000, 0 },
    { "last byte", 1000, 30000, 29999 },
    { "middle, in a header", 1000, 30000, 4 * BLK - 1000 + 9 },
    { "block boundary", 0, 3 * BLK, 2 * BLK },
    { "one byte range", 77777, 1, 0 },
    { "compressed zeros", 2 * BLK, BLK, BLK - 1 },
};

static void test_verify(void)
{
    struct s3dlio_gen g = { 9, 2, 4 };
    for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
        const struct flip_case *f = &flips[i];
        unsigned char *b = s3dlio_xmalloc(f->len);
        uint64_t bad = 0;
        s3dlio_gen_fill(&g, "v", f->offset, b, f->len);
        CHECK(s3dlio_gen_verify(&g, "v", f->offset, b, f->len, &bad), f->name);
        b[f->flip] ^= 0x20;
        CHECK(!s3dlio_gen_verify(&g, "v", f->offset, b, f->len, &bad), f->name);
        CHECK_INT(bad, f->offset + f->flip, f->name);
        CHECK(!s3dlio_gen_verify(&g, "v", f->offset, b, f->len, NULL), f->name);
        free(b);
    }
    unsigned char b[100];
    struct s3dlio_gen other = { 10, 2, 4 };
    uint64_t bad = 0;
    s3dlio_gen_fill(&g, "v", 5000, b, sizeof(b));
    CHECK(!s3dlio_gen_verify(&other, "v", 5000, b, sizeof(b), &bad), "wrong seed fails");
    CHECK(bad < 5000 + 8, "wrong seed: first bytes already differ");
    CHECK(!s3dlio_gen_verify(&g, "w", 5000, b, sizeof(b), &bad), "wrong key fails");
    CHECK(!s3dlio_gen_verify(&g, "v", 5001, b, sizeof(b), &bad), "wrong offset fails");
    CHECK(s3dlio_gen_verify(&g, "v", 5000, b, 0, NULL), "empty range verifies");
}

static const struct size_case {
    const char *name;
    uint64_t min, max;
} size_cases[] = {
    { "2-8 MiB", 2u << 20, 8u << 20 },
    { "0-3", 0, 3 },
    { "1-1000000", 1, 1000000 },
    { "top of range", UINT64_MAX - 10, UINT64_MAX },
};

/* 10,000 draws stay in [min, max] and their mean is within 1% of the range's middle. */
static void test_sizes(const struct size_case *c)
{
    long double sum = 0;
    bool in_range = true, repeatable = true;
    for (uint64_t i = 0; i < 10000; i++) {
        uint64_t s = s3dlio_gen_object_size(77, i, c->min, c->max);
        in_range = in_range && s >= c->min && s <= c->max;
        repeatable = repeatable && s == s3dlio_gen_object_size(77, i, c->min, c->max);
        sum += s - c->min;
    }
    long double mid = (long double)(c->max - c->min) / 2, mean = sum / 10000;
    CHECK(in_range, c->name);
    CHECK(repeatable, c->name);
    CHECK(mean > mid * 0.99L - 0.05L && mean < mid * 1.01L + 0.05L, c->name);
    if (!(mean > mid * 0.99L - 0.05L && mean < mid * 1.01L + 0.05L))
        fprintf(stderr, "  mean offset %.1Lf, want about %.1Lf\n", mean, mid);
}

static void test_size_edges(void)
{
    size_t hist[4] = { 0 };
    for (uint64_t i = 0; i < 10000; i++)
        hist[s3dlio_gen_object_size(5, i, 0, 3)]++;
    for (int v = 0; v < 4; v++)
        CHECK(hist[v] > 2250 && hist[v] < 2750, "0-3: each value about 1 in 4");
    CHECK_INT(s3dlio_gen_object_size(5, 1, 4096, 4096), 4096, "min == max");
    CHECK_INT(s3dlio_gen_object_size(5, 1, 0, 0), 0, "0 == 0");
    uint64_t full = s3dlio_gen_object_size(5, 1, 0, UINT64_MAX);
    CHECK(full != s3dlio_gen_object_size(5, 2, 0, UINT64_MAX), "full range draws differ");
    CHECK(s3dlio_gen_object_size(5, 1, 1, 1u << 30) != s3dlio_gen_object_size(6, 1, 1, 1u << 30),
          "seed changes sizes");
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < NCASES; i++) {
        test_ranges(&cases[i]);
        test_headers(&cases[i]);
    }
    test_compress_shape();
    test_differ();
    test_stable();
    test_verify();
    for (size_t i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++)
        test_sizes(&size_cases[i]);
    test_size_edges();
    TEST_DONE();
}
