/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deterministic synthetic data (see datagen.h). libc only.
 *
 * An object is cut into blocks of S3DLIO_GEN_BLOCK (4096) bytes at offsets 0, 4096, ...
 * Block b carries the content of its source block src(b) (src(b) == b unless dedup > 1;
 * see source_block), and the content of source block s of object `key` is, integers
 * little-endian on every host:
 *
 *   bytes  0..3    magic "s3dg"
 *          4..7    s, the source block index (u32: 5 TiB / 4 KiB < 2^32)
 *          8..15   hash of the key (FNV-1a 64 with a splitmix64 finaliser)
 *         16..23   seed
 *         24..R-1  pseudo-random: u64 word w (bytes 8w..8w+7) = wymix(block_key(s) + w * WY_P0)
 *          R..4095 zeros
 *
 * The header is there for people: a hex dump of a corrupt region shows which key, seed and
 * block the bytes should have come from (a duplicate names its source, not its own offset).
 * R is 4096 with compress 1, and ceil(4096 / N) rounded up to 8 with compress N, so each
 * block compresses about N:1: the random part does not compress, the zeros vanish.
 * A partial last block is the prefix of the full block.
 *
 * The random words are counter-based (each a pure function of the block key and its
 * index) rather than a stepped PRNG state: no serial dependency from word to word, so the
 * CPU overlaps the multiplies: one per 8 bytes, 5-9 GB/s per core at -O2 on the dev VM.
 */
#include "xfer/datagen.h"

#include <string.h>

#define BLOCK     S3DLIO_GEN_BLOCK
#define HDR_BYTES 24u
#define GOLDEN    0x9e3779b97f4a7c15ull /* 2^64 / phi: odd, spreads counters over 64 bits */
/* Copies of a dedup source block sit at least this many blocks after it (see source_block). */
#define DEDUP_GAP_BLOCKS 16u
/* Decorrelates the object-size stream from the data stream of the same seed. */
#define SIZE_SALT 0x5349a3e5c0ffee11ull

/* What one call needs, worked out once: the key is hashed here, not per block. */
struct gen_ctx {
    uint64_t seed;
    uint64_t key_hash;
    unsigned dedup;    /* >= 1 */
    size_t rand_bytes; /* R above: header + random part, multiple of 8, <= BLOCK */
};

/* splitmix64 finaliser: a bijective 64-bit mixer with full avalanche. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/*
 * wyrand's output function (Wang Yi, public domain): the 128-bit product of the counter
 * and an xor-ed copy of it, folded to 64 bits. One multiply per 8 bytes where splitmix64
 * takes two (and runs at half the speed); with the counter stepped by WY_P0 this is
 * exactly wyrand's stream, which passes BigCrush and PractRand.
 */
#define WY_P0 0xa0761d6478bd642full
#define WY_P1 0xe7037ed1a0b428dbull
static uint64_t wymix(uint64_t s)
{
#ifdef __SIZEOF_INT128__
    __uint128_t t = (__uint128_t)s * (s ^ WY_P1);
    return (uint64_t)(t >> 64) ^ (uint64_t)t;
#else
    uint64_t a = s, b = s ^ WY_P1;
    uint64_t ah = a >> 32, al = (uint32_t)a, bh = b >> 32, bl = (uint32_t)b;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    uint64_t lo = (mid << 32) | (uint32_t)ll;
    uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return hi ^ lo;
#endif
}

static uint64_t hash_key(const char *key)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)(key ? key : ""); *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return mix64(h);
}

/* Little-endian on every host, so data written on one machine verifies on any other. */
static void put_le64(unsigned char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8); /* one store: a byte loop is not merged by gcc -O2 */
}

static void put_le32(unsigned char *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, 4);
}

static size_t rand_bytes_for(unsigned compress)
{
    if (compress <= 1)
        return BLOCK;
    size_t r = (BLOCK + compress - 1) / compress;
    r = (r + 7) & ~(size_t)7;
    /* past compress ~170 the header alone is the floor: the ratio saturates there */
    return r < HDR_BYTES ? HDR_BYTES : r;
}

static void ctx_init(struct gen_ctx *c, const struct s3dlio_gen *g, const char *key)
{
    c->seed = g->seed;
    c->key_hash = hash_key(key);
    c->dedup = g->dedup_factor > 1 ? g->dedup_factor : 1;
    c->rand_bytes = rand_bytes_for(g->compress_factor);
}

/*
 * Dedup layout. Blocks go in groups of N: the first block of group g is unique (it is its
 * own source), block j > 0 of group g repeats the first block of group g - j * stride,
 * with stride = ceil(16 / N) groups. So an object of n full blocks holds exactly ceil(n/N)
 * distinct blocks, whatever n, while copies sit at least 16 blocks (64 KiB) after their
 * source: beyond deflate's 32 KiB window and per-chunk compressors of 64 KiB or less, so
 * dedup is not also seen as compression (zstd's MiB-sized window does see it, as it would
 * any in-object duplication). Early blocks that have no group that far back repeat block 0.
 *
 * Limits: duplicates never cross objects (the key is in every block), so over a dataset
 * blocks / distinct = sum(n) / sum(ceil(n/N) + 1 if the object ends in a partial block).
 * Each object is within 10% of N once n >= 20 N (640 KiB for N = 8); a 2 MiB object is
 * within 3%. An object of fewer than N blocks dedups less (one block: not at all).
 */
static uint64_t source_block(uint64_t b, unsigned n)
{
    if (n <= 1)
        return b;
    uint64_t g = b / n, j = b % n;
    uint64_t back = j * ((DEDUP_GAP_BLOCKS + n - 1) / n);
    return g >= back ? (g - back) * n : 0;
}

static uint64_t block_key(const struct gen_ctx *c, uint64_t src)
{
    return mix64(c->key_hash ^ mix64(c->seed + (src + 1) * GOLDEN));
}

/* The whole content of block b into dst[BLOCK]. */
static void fill_block(const struct gen_ctx *c, uint64_t b, unsigned char *dst)
{
    uint64_t src = source_block(b, c->dedup);
    uint64_t k = block_key(c, src);
    memcpy(dst, "s3dg", 4);
    put_le32(dst + 4, (uint32_t)src);
    put_le64(dst + 8, c->key_hash);
    put_le64(dst + 16, c->seed);
    /* a local bound: dst is char, so through c it would be reloaded after every store */
    size_t end = c->rand_bytes;
    uint64_t ctr = k + (HDR_BYTES / 8) * WY_P0; /* word w holds wymix(k + w * WY_P0) */
    for (size_t i = HDR_BYTES; i < end; i += 8, ctr += WY_P0)
        put_le64(dst + i, wymix(ctr));
    memset(dst + end, 0, BLOCK - end);
}

uint64_t s3dlio_gen_object_size(uint64_t seed, uint64_t index, uint64_t min, uint64_t max)
{
    if (max <= min)
        return min;
    uint64_t span = max - min + 1; /* 0 when [min, max] is all of uint64 */
    uint64_t r = mix64(mix64(seed ^ SIZE_SALT) + (index + 1) * GOLDEN);
    /* modulo bias is span / 2^64: invisible for any real size range */
    return span ? min + r % span : r;
}

void s3dlio_gen_fill(const struct s3dlio_gen *g, const char *key, uint64_t offset, void *buf,
                     size_t len)
{
    struct gen_ctx c;
    unsigned char *out = buf;
    ctx_init(&c, g, key);
    while (len) {
        uint64_t b = offset / BLOCK;
        size_t in = (size_t)(offset % BLOCK);
        size_t n = BLOCK - in < len ? BLOCK - in : len;
        if (n == BLOCK) {
            fill_block(&c, b, out);
        } else {
            /* a partial block: build it whole, keep the slice (first and last block only) */
            unsigned char tmp[BLOCK];
            fill_block(&c, b, tmp);
            memcpy(out, tmp + in, n);
        }
        out += n;
        offset += n;
        len -= n;
    }
}

bool s3dlio_gen_verify(const struct s3dlio_gen *g, const char *key, uint64_t offset,
                       const void *buf, size_t len, uint64_t *bad_offset)
{
    struct gen_ctx c;
    const unsigned char *p = buf;
    unsigned char want[BLOCK]; /* one block at a time: bounded stack, no heap */
    ctx_init(&c, g, key);
    while (len) {
        uint64_t b = offset / BLOCK;
        size_t in = (size_t)(offset % BLOCK);
        size_t n = BLOCK - in < len ? BLOCK - in : len;
        fill_block(&c, b, want);
        if (memcmp(want + in, p, n)) {
            size_t i = 0;
            while (want[in + i] == p[i])
                i++;
            if (bad_offset)
                *bad_offset = offset + i;
            return false;
        }
        p += n;
        offset += n;
        len -= n;
    }
    return true;
}
