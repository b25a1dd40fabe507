/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3dlio_crc32c_combine: the CRC-32C of A||B from the CRCs of A and B, against s3dlio_crc32c of
 * the concatenation, at split points around the word and block sizes of both implementations;
 * several pieces combined in offset order, as the HDF5 sink does.
 */
#include <stdint.h>
#include "../unit/check.h"
#include "util/crc32c.h"

#define LEN (3 * 4096 * 2 + 77) /* past the SSE4.2 path's three-stream blocks */

static unsigned char data[LEN];

static void fill(uint64_t seed)
{
    for (size_t i = 0; i < LEN; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        data[i] = (unsigned char)(seed >> 56);
    }
}

int main(void)
{
    static const struct {
        const char *name;
        size_t split;
    } cases[] = {
        { "empty A", 0 },
        { "one byte A", 1 },
        { "7", 7 },
        { "8", 8 },
        { "9", 9 },
        { "4095", 4095 },
        { "4096", 4096 },
        { "block x3", 3 * 4096 },
        { "block x3 + 1", 3 * 4096 + 1 },
        { "middle", LEN / 2 },
        { "empty B", LEN },
        { "B one byte", LEN - 1 },
    };
    fill(42);
    uint32_t whole = s3dlio_crc32c(0, data, LEN);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t s = cases[c].split;
        uint32_t a = s3dlio_crc32c(0, data, s), b = s3dlio_crc32c(0, data + s, LEN - s);
        CHECK_INT(s3dlio_crc32c_combine(a, b, LEN - s), whole, cases[c].name);
        /* the portable tables give the same pieces */
        uint32_t a_sw = s3dlio_crc32c_sw(0, data, s), b_sw = s3dlio_crc32c_sw(0, data + s, LEN - s);
        CHECK_INT(s3dlio_crc32c_combine(a_sw, b_sw, LEN - s), whole, cases[c].name);
    }
    /* RFC 3720 vector "123456789" = 0xe3069283, from "1234" and "56789" */
    uint32_t x = s3dlio_crc32c(0, "1234", 4), y = s3dlio_crc32c(0, "56789", 5);
    CHECK_INT(s3dlio_crc32c_combine(x, y, 5), 0xe3069283u, "RFC 3720 check value");
    /* many pieces of uneven sizes, combined left to right */
    for (uint64_t seed = 1; seed <= 20; seed++) {
        fill(seed);
        uint32_t want = s3dlio_crc32c(0, data, LEN), got = 0;
        size_t at = 0, step = 1 + (size_t)(seed * 977 % 5000);
        while (at < LEN) {
            size_t n = LEN - at < step ? LEN - at : step;
            got = s3dlio_crc32c_combine(got, s3dlio_crc32c(0, data + at, n), n);
            at += n;
            step = step * 3 % 7919 + 1;
        }
        CHECK_INT(got, want, "pieces left to right");
    }
    /* a CRC continued over zeros equals the combination with their CRC */
    static unsigned char zeros[1 << 16];
    uint32_t z = s3dlio_crc32c(0, zeros, sizeof(zeros));
    uint32_t viaz = s3dlio_crc32c_combine(0x12345678u, z, sizeof(zeros));
    CHECK_INT(viaz, s3dlio_crc32c(0x12345678u, zeros, sizeof(zeros)), "continue over zeros");
    TEST_DONE();
}
