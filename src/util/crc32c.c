/* SPDX-License-Identifier: Apache-2.0 */
/* CRC-32C: SSE4.2 where present, slicing-by-8 elsewhere (see crc32c.h). */
#include "util/crc32c.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define POLY 0x82f63b78u /* Castagnoli, reflected */

static uint32_t table[8][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void make_tables(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int t = 1; t < 8; t++)
            table[t][n] = (table[t - 1][n] >> 8) ^ table[0][table[t - 1][n] & 0xff];
}

uint32_t s3dlio_crc32c_sw(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    pthread_once(&tables_once, make_tables);
    crc = ~crc;
    while (len && ((uintptr_t)p & 7)) {
        crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
        len--;
    }
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8); /* little-endian hosts only: x86-64 and aarch64 as Debian runs them */
        w ^= crc;
        crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
              table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^
              table[2][(w >> 40) & 0xff] ^ table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
    }
    while (len--)
        crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

/* a(x) * b(x) mod P, reflected (bit 31 is x^0) */
static uint32_t gf_mul(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    for (int i = 0; i < 32; i++) {
        if (b & 0x80000000u)
            r ^= a;
        b <<= 1;
        a = a & 1 ? (a >> 1) ^ POLY : a >> 1;
    }
    return r;
}

/* x^(8 * n) mod P in the reflected form */
static uint32_t x_pow_8n(uint64_t n)
{
    uint32_t result = 0x80000000u, base = 0x00800000u; /* x^0, x^8 */
    while (n) {
        if (n & 1)
            result = gf_mul(result, base);
        base = gf_mul(base, base);
        n >>= 1;
    }
    return result;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>

/*
 * Three independent streams hide the instruction's 3-cycle latency (one result per cycle
 * instead of one per three). The CRC is linear: the register after A||B||C equals
 * R(C) ^ R(B) * x^(8|C|) ^ R(A) * x^(8(|B|+|C|)) mod P, with R(B), R(C) run from zero, so the
 * three registers combine by two multiplications, done by tables made once.
 */
#define BLOCK 4096 /* bytes per stream per round */

static uint32_t shift1[4][256], shift2[4][256]; /* r * x^(8 BLOCK), r * x^(16 BLOCK) mod P */
static pthread_once_t shift_once = PTHREAD_ONCE_INIT;

static void make_shift(uint32_t out[4][256], uint32_t factor)
{
    for (int byte = 0; byte < 4; byte++)
        for (uint32_t v = 0; v < 256; v++)
            out[byte][v] = gf_mul(v << (8 * byte), factor);
}

static void make_shift_tables(void)
{
    make_shift(shift1, x_pow_8n(BLOCK));
    make_shift(shift2, x_pow_8n(2 * BLOCK));
}

static uint32_t shift(const uint32_t t[4][256], uint32_t crc)
{
    return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

/*
 * The SSE4.2 loop; with dst it also stores what it reads (a copy in the same pass: the data
 * is loaded once). Inlined into its two callers, so the branches on dst fold away.
 */
__attribute__((target("sse4.2"), always_inline)) static inline uint32_t
crc_hw_loop(uint32_t crc, unsigned char *dst, const unsigned char *p, size_t len)
{
    uint64_t c0 = ~crc;
    while (len && ((uintptr_t)p & 7)) {
        if (dst)
            *dst++ = *p;
        c0 = _mm_crc32_u8((uint32_t)c0, *p++);
        len--;
    }
    if (len >= 3 * BLOCK)
        pthread_once(&shift_once, make_shift_tables);
    while (len >= 3 * BLOCK) {
        uint64_t c1 = 0, c2 = 0;
        for (size_t i = 0; i < BLOCK; i += 8) {
            uint64_t a, b, d;
            memcpy(&a, p + i, 8);
            memcpy(&b, p + BLOCK + i, 8);
            memcpy(&d, p + 2 * BLOCK + i, 8);
            if (dst) {
                memcpy(dst + i, &a, 8);
                memcpy(dst + BLOCK + i, &b, 8);
                memcpy(dst + 2 * BLOCK + i, &d, 8);
            }
            c0 = _mm_crc32_u64(c0, a);
            c1 = _mm_crc32_u64(c1, b);
            c2 = _mm_crc32_u64(c2, d);
        }
        /* c0 covered the first block: move it past the other two, c1 past the third */
        c0 = (uint32_t)c2 ^ shift(shift2, (uint32_t)c0) ^ shift(shift1, (uint32_t)c1);
        p += 3 * BLOCK;
        if (dst)
            dst += 3 * BLOCK;
        len -= 3 * BLOCK;
    }
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        if (dst) {
            memcpy(dst, &w, 8);
            dst += 8;
        }
        c0 = _mm_crc32_u64(c0, w);
    }
    while (len--) {
        if (dst)
            *dst++ = *p;
        c0 = _mm_crc32_u8((uint32_t)c0, *p++);
    }
    return ~(uint32_t)c0;
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const void *data, size_t len)
{
    return crc_hw_loop(crc, NULL, data, len);
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw_copy(uint32_t crc, void *dst,
                                                              const void *src, size_t len)
{
    return crc_hw_loop(crc, dst, src, len);
}

static bool have_sse42(void)
{
    return __builtin_cpu_supports("sse4.2");
}
#else
static uint32_t crc_hw(uint32_t crc, const void *data, size_t len)
{
    return s3dlio_crc32c_sw(crc, data, len);
}

static uint32_t crc_hw_copy(uint32_t crc, void *dst, const void *src, size_t len)
{
    memcpy(dst, src, len);
    return s3dlio_crc32c_sw(crc, src, len);
}

static bool have_sse42(void)
{
    return false;
}
#endif

uint32_t s3dlio_crc32c(uint32_t crc, const void *data, size_t len)
{
    /* __builtin_cpu_supports reads what libgcc found at start-up: a load, no state here */
    return have_sse42() ? crc_hw(crc, data, len) : s3dlio_crc32c_sw(crc, data, len);
}

uint32_t s3dlio_crc32c_copy(uint32_t crc, void *dst, const void *src, size_t len)
{
    if (have_sse42())
        return crc_hw_copy(crc, dst, src, len);
    memcpy(dst, src, len);
    return s3dlio_crc32c_sw(crc, src, len);
}

/*
 * zlib's crc32_combine for the Castagnoli polynomial: the register after A||B is the one
 * after A moved past |B| zero bytes (a multiplication by x^(8|B|) mod P) xor the one of B
 * run from zero; the pre- and post-inversions cancel in that sum, so the finished CRCs
 * combine directly. O(log len_b) multiplications.
 */
uint32_t s3dlio_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
    return gf_mul(x_pow_8n(len_b), crc_a) ^ crc_b;
}
