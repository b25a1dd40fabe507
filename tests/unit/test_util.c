/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of src/util: capped buffer, URI parsing, units, error messages, redaction. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "s3/s3_client.h"
#include "util/crc32c.h"
#include "util/printable.h"
#include "s3dlio/error.h"
#include "s3dlio/uri.h"
#include "util/buf.h"
#include "util/units.h"

static void test_buf(void)
{
    struct s3dlio_buf b = S3DLIO_BUF_INIT(8);
    CHECK_INT(s3dlio_buf_adds(&b, "abc"), S3DLIO_OK, "buf add");
    CHECK_INT(s3dlio_buf_addf(&b, "%d%s", 12, "de"), S3DLIO_OK, "buf addf");
    CHECK_STR(s3dlio_buf_str(&b), "abc12de", "buf content");
    CHECK_INT(s3dlio_buf_adds(&b, "xy"), S3DLIO_E_LIMIT, "buf over cap");
    CHECK(b.data == NULL && b.toobig, "buf freed itself past the cap");
    CHECK_INT(s3dlio_buf_adds(&b, "x"), S3DLIO_E_LIMIT, "buf stays failed");
    s3dlio_buf_release(&b);
    s3dlio_buf_release(&b); /* second release is a no-op */
    CHECK_STR(s3dlio_buf_str(&b), "", "released buf is empty");
}

static const struct uri_case {
    const char *name, *text;
    enum s3dlio_rc rc;
    const char *scheme, *bucket, *key, *msg;
} uri_cases[] = {
    {"s3 bucket only", "s3://bucket", S3DLIO_OK, "s3", "bucket", "", NULL},
    {"s3 prefix", "s3://bucket/a/b/", S3DLIO_OK, "s3", "bucket", "a/b/", NULL},
    {"s3 key with spaces", "s3://b-1.x/my key+=%.bin", S3DLIO_OK, "s3", "b-1.x", "my key+=%.bin", NULL},
    {"file abs", "file:///data/set/", S3DLIO_OK, "file", "", "data/set/", NULL},
    {"file localhost", "file://localhost/tmp/x", S3DLIO_OK, "file", "", "tmp/x", NULL},
    {"file relative", "file://data/x", S3DLIO_E_URI, NULL, NULL, NULL, "absolute path"},
    {"unknown scheme", "gs://bucket/x", S3DLIO_E_URI, NULL, NULL, NULL, "unknown scheme 'gs'"},
    {"no scheme", "bucket/key", S3DLIO_E_URI, NULL, NULL, NULL, "not a URI"},
    {"empty bucket", "s3:///key", S3DLIO_E_URI, NULL, NULL, NULL, "missing bucket"},
    {"short bucket", "s3://ab/key", S3DLIO_E_URI, NULL, NULL, NULL, "3 to 63"},
    {"bad bucket char", "s3://bu?ket/key", S3DLIO_E_URI, NULL, NULL, NULL, "may only hold"},
    {"bucket edge char", "s3://-bucket/k", S3DLIO_E_URI, NULL, NULL, NULL, "start and end"},
};

static void test_uri(void)
{
    for (size_t i = 0; i < sizeof(uri_cases) / sizeof(uri_cases[0]); i++) {
        const struct uri_case *c = &uri_cases[i];
        struct s3dlio_uri u;
        struct s3dlio_error e = {0};
        enum s3dlio_rc rc = s3dlio_uri_parse(&u, c->text, &e);
        CHECK_INT(rc, c->rc, c->name);
        if (!rc) {
            CHECK_STR(u.scheme, c->scheme, c->name);
            CHECK_STR(u.bucket, c->bucket, c->name);
            CHECK_STR(u.key, c->key, c->name);
        } else {
            CHECK(strstr(e.message, c->msg) != NULL, c->name);
            CHECK_STR(e.target, c->text, c->name);
        }
        s3dlio_uri_release(&u);
    }
}

static const struct unit_case {
    const char *name, *text;
    int is_duration;
    enum s3dlio_rc rc;
    uint64_t want;
} unit_cases[] = {
    {"bytes", "4096", 0, S3DLIO_OK, 4096},
    {"MiB", "8MiB", 0, S3DLIO_OK, 8u << 20},
    {"M", "8M", 0, S3DLIO_OK, 8u << 20},
    {"MB", "8MB", 0, S3DLIO_OK, 8000000},
    {"GiB lower", "1gib", 0, S3DLIO_OK, 1u << 30},
    {"garbage", "8Mx", 0, S3DLIO_E_USAGE, 0},
    {"negative", "-1", 0, S3DLIO_E_USAGE, 0},
    {"overflow", "99999999999999999999", 0, S3DLIO_E_USAGE, 0},
    {"size overflow unit", "20000000000T", 0, S3DLIO_E_USAGE, 0},
    {"ms", "500ms", 1, S3DLIO_OK, 500},
    {"s", "30s", 1, S3DLIO_OK, 30000},
    {"plain seconds", "2", 1, S3DLIO_OK, 2000},
    {"minutes", "2m", 1, S3DLIO_OK, 120000},
    {"bad duration", "5 s", 1, S3DLIO_E_USAGE, 0},
};

static void test_units(void)
{
    for (size_t i = 0; i < sizeof(unit_cases) / sizeof(unit_cases[0]); i++) {
        const struct unit_case *c = &unit_cases[i];
        uint64_t v = 0;
        enum s3dlio_rc rc = c->is_duration ? s3dlio_parse_duration_ms(c->text, &v)
                                           : s3dlio_parse_size(c->text, &v);
        CHECK_INT(rc, c->rc, c->name);
        if (!rc)
            CHECK_INT(v, c->want, c->name);
    }
}

static void test_error_format(void)
{
    struct s3dlio_error e = {0};
    char line[2048];
    s3dlio_error_set(&e, S3DLIO_E_NOT_FOUND, "get", "s3://b/k", "The specified key does not exist");
    e.http_status = 404;
    strcpy(e.s3_code, "NoSuchKey");
    strcpy(e.request_id, "tx000-abc");
    CHECK_STR(s3dlio_error_format(&e, line, sizeof(line)),
              "get 's3://b/k': NoSuchKey (HTTP 404, request id tx000-abc): The specified key does "
              "not exist",
              "full S3 error");
    s3dlio_error_clear(&e);
    s3dlio_error_set(&e, S3DLIO_E_CONNECT, "ls", "s3://b/", "endpoint 'http://127.0.0.1:1':\nrefused");
    CHECK_STR(s3dlio_error_format(&e, line, sizeof(line)),
              "ls 's3://b/': connection failed: endpoint 'http://127.0.0.1:1': refused",
              "transport error on one line");
    s3dlio_error_clear(&e);
    s3dlio_error_set(&e, S3DLIO_E_HTTP, "get", "s3://b/k", NULL);
    e.http_status = 502;
    CHECK_STR(s3dlio_error_format(&e, line, sizeof(line)), "get 's3://b/k': HTTP 502", "bare HTTP status");
}

static void test_redaction(void)
{
    char out[512];
    const char *auth = "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/s3/"
                       "aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef\r\n";
    s3dlio_s3_redact_header(auth, strlen(auth), out, sizeof(out));
    CHECK(strstr(out, "0123456789abcdef") == NULL, "signature removed");
    CHECK(strstr(out, "Credential=AKID/20250101") != NULL, "credential scope kept");
    const char *tok = "X-Amz-Security-Token: SECRETTOKEN\r\n";
    s3dlio_s3_redact_header(tok, strlen(tok), out, sizeof(out));
    CHECK(strstr(out, "SECRETTOKEN") == NULL, "token removed");
    const char *plain = "Host: 127.0.0.1:9000\r\n";
    s3dlio_s3_redact_header(plain, strlen(plain), out, sizeof(out));
    CHECK_STR(out, "Host: 127.0.0.1:9000", "plain header kept");
}

/* Keys with escape sequences must not reach a terminal raw, and must stay one line. */
static void test_printable(void)
{
    char out[64];
    CHECK_STR(s3dlio_printable("a\033[31mred\nb", out, sizeof(out), true), "a\\x1b[31mred\\x0ab",
              "ESC and newline escaped");
    CHECK_STR(s3dlio_printable("dir\\file\x7f", out, sizeof(out), true), "dir\\\\file\\x7f",
              "backslash doubled, DEL escaped");
    CHECK_STR(s3dlio_printable("dir\\file", out, sizeof(out), false), "dir\\file",
              "backslash kept in error lines");
    CHECK_STR(s3dlio_printable("caf\xc3\xa9 ok", out, sizeof(out), true), "caf\xc3\xa9 ok",
              "UTF-8 untouched");
    CHECK_STR(s3dlio_printable("ab\x01", out, 6, true), "ab", "a cut never splits an escape");
}

/* RFC 3720 B.4 and the classic check value; the CPU's path equals the tables; pieces = whole */
static void test_crc32c(void)
{
    unsigned char b[32];
    CHECK_INT(s3dlio_crc32c(0, "123456789", 9), 0xE3069283u, "check value");
    CHECK_INT(s3dlio_crc32c(0, "", 0), 0, "empty");
    memset(b, 0, sizeof(b));
    CHECK_INT(s3dlio_crc32c(0, b, 32), 0x8A9136AAu, "32 zeros");
    memset(b, 0xff, sizeof(b));
    CHECK_INT(s3dlio_crc32c(0, b, 32), 0x62A8AB43u, "32 0xff");
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)i;
    CHECK_INT(s3dlio_crc32c(0, b, 32), 0x46DD794Eu, "0..31");
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)(31 - i);
    CHECK_INT(s3dlio_crc32c(0, b, 32), 0x113FDB5Cu, "31..0");

    /* past the three-stream rounds (3 x 4096 bytes), at every alignment */
    size_t n = 3 * 3 * 4096 + 123;
    unsigned char *big = malloc(n + 8);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n + 8; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        big[i] = (unsigned char)x;
    }
    int differ = 0, split = 0, copied = 0;
    unsigned char *dst = malloc(n + 8);
    static const size_t lens[] = {0, 1, 7, 8, 9, 4095, 12288, 12289, 24576 + 5, 3 * 3 * 4096 + 123};
    for (size_t off = 0; off < 8; off++)
        for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
            uint32_t hw = s3dlio_crc32c(0, big + off, lens[k]);
            differ += hw != s3dlio_crc32c_sw(0, big + off, lens[k]);
            size_t cut = lens[k] / 3;
            split += hw != s3dlio_crc32c(s3dlio_crc32c(0, big + off, cut), big + off + cut,
                                         lens[k] - cut);
            /* the copying form: same CRC, same bytes, nothing written past them */
            memset(dst, 0xa5, n + 8);
            uint32_t c = s3dlio_crc32c_copy(0, dst + (7 - off), big + off, cut);
            c = s3dlio_crc32c_copy(c, dst + (7 - off) + cut, big + off + cut, lens[k] - cut);
            copied += c != hw || memcmp(dst + (7 - off), big + off, lens[k]) ||
                      (lens[k] + (7 - off) < n + 8 && dst[lens[k] + (7 - off)] != 0xa5);
        }
    CHECK_INT(differ, 0, "the CPU's CRC equals the tables' at every length and alignment");
    CHECK_INT(split, 0, "a CRC continued over pieces equals the CRC of the whole");
    CHECK_INT(copied, 0, "s3dlio_crc32c_copy copies exactly and gives the same CRC");
    free(dst);
    free(big);
}

int main(void)
{
    test_crc32c();
    test_printable();
    test_buf();
    test_uri();
    test_units();
    test_error_format();
    test_redaction();
    TEST_DONE();
}
