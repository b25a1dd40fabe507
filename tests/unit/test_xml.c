/* SPDX-License-Identifier: Apache-2.0 */
/*
 * S3 XML parsers and builders (src/s3/xml.c). Bodies are data files in <data>/xml/:
 * AWS-documented shapes, real radosgw 16.2 bodies, and malformed or hostile documents.
 * Usage: test_xml <tests/unit/data>
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "s3/xml.h"
#include "util/alloc.h"

static const char *data_dir;

/* Whole file <data>/xml/<name> (heap, NUL-terminated); exits when missing: a test bug. */
static char *slurp(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/xml/%s", data_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    struct s3dlio_buf b = S3DLIO_BUF_INIT(1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (s3dlio_buf_add(&b, chunk, n))
            exit(2);
    fclose(f);
    *len = b.len;
    return s3dlio_buf_detach(&b);
}

enum parser {
    P_LIST,
    P_ERROR,
    P_DELETE,
    P_INITIATE,
    P_COMPLETE
};

/* Run one parser on a body and free whatever it produced; only rc and err are kept. */
static enum s3dlio_rc run(enum parser which, const char *body, size_t len, struct s3dlio_error *err)
{
    struct s3dlio_list_page page = { 0 };
    struct s3dlio_delete_failure *f = NULL;
    size_t nf = 0, nd = 0;
    char *id = NULL, etag[80];
    enum s3dlio_rc rc = S3DLIO_E_INTERNAL;
    switch (which) {
    case P_LIST:
        rc = s3dlio_xml_parse_list_v2(body, len, &page, err);
        break;
    case P_ERROR:
        rc = s3dlio_xml_parse_error(body, len, err);
        break;
    case P_DELETE:
        rc = s3dlio_xml_parse_delete_result(body, len, &f, &nf, &nd, err);
        break;
    case P_INITIATE:
        rc = s3dlio_xml_parse_initiate_mpu(body, len, &id, err);
        break;
    case P_COMPLETE:
        rc = s3dlio_xml_parse_complete_mpu(body, len, etag, err);
        break;
    }
    s3dlio_list_page_release(&page);
    s3dlio_delete_failures_free(f, nf);
    free(id);
    return rc;
}

/* ---- result codes and messages, every parser, including hostile documents ---- */

struct rc_case {
    const char *name;
    const char *file;
    enum parser parser;
    enum s3dlio_rc rc;
    const char *msg; /* substring of err.message; NULL: only "not empty" for a PARSE */
};

static const struct rc_case cases[] = {
    { "list: error root is an S3 error", "error_aws.xml", P_LIST, S3DLIO_E_S3, NULL },
    { "list: truncated mid-element", "bad_truncated_mid.xml", P_LIST, S3DLIO_E_PARSE,
      "ListObjectsV2 response: truncated or malformed XML at line 11" },
    { "list: not XML at all", "bad_not_xml.txt", P_LIST, S3DLIO_E_PARSE,
      "malformed XML at line 1" },
    { "list: JSON body", "bad_json.txt", P_LIST, S3DLIO_E_PARSE, "malformed XML" },
    { "list: empty body", "bad_empty.xml", P_LIST, S3DLIO_E_PARSE, "empty body" },
    { "list: wrong root", "bad_wrong_root.xml", P_LIST, S3DLIO_E_PARSE,
      "unexpected root element <ListAllMyBucketsResult>" },
    { "list: Size -1", "bad_size_negative.xml", P_LIST, S3DLIO_E_PARSE,
      "Size '-1' of key 'my-image.jpg' is not an unsigned integer" },
    { "list: Size 12abc", "bad_size_garbage.xml", P_LIST, S3DLIO_E_PARSE,
      "Size '12abc' of key 'my-third-image.jpg'" },
    { "list: Size 2^64", "bad_size_overflow.xml", P_LIST, S3DLIO_E_PARSE,
      "Size '18446744073709551616' of key 'big/multipart.bin'" },
    { "list: empty Size", "bad_size_empty.xml", P_LIST, S3DLIO_E_PARSE, "Size '' of key" },
    { "list: truncated without token", "bad_truncated_no_token.xml", P_LIST, S3DLIO_E_PARSE,
      "IsTruncated is true but NextContinuationToken is missing" },
    { "list: truncated with empty token", "bad_truncated_empty_token.xml", P_LIST, S3DLIO_E_PARSE,
      "NextContinuationToken is missing" },
    { "list: no IsTruncated", "bad_no_istruncated.xml", P_LIST, S3DLIO_E_PARSE,
      "missing IsTruncated" },
    { "list: IsTruncated maybe", "bad_istruncated_value.xml", P_LIST, S3DLIO_E_PARSE,
      "IsTruncated 'maybe'" },
    { "list: RFC 1123 LastModified", "bad_mtime.xml", P_LIST, S3DLIO_E_PARSE,
      "LastModified 'Mon, 12 Oct 2009 17:50:30 GMT' of key 'my-image.jpg'" },
    { "list: 2009-02-29", "bad_mtime_feb29.xml", P_LIST, S3DLIO_E_PARSE, "not an ISO 8601 time" },
    { "list: bad percent escape", "bad_percent.xml", P_LIST, S3DLIO_E_PARSE,
      "Key 'a%2' is not valid percent-encoding" },
    { "list: %00 in key", "bad_percent_nul.xml", P_LIST, S3DLIO_E_PARSE, "nul%00byte" },
    { "list: unknown EncodingType", "bad_encoding_type.xml", P_LIST, S3DLIO_E_PARSE,
      "unsupported EncodingType 'base64'" },
    { "list: markup inside Key", "bad_key_markup.xml", P_LIST, S3DLIO_E_PARSE,
      "unexpected markup inside <Key>" },
    { "list: Contents without Key", "bad_no_key.xml", P_LIST, S3DLIO_E_PARSE,
      "<Contents> without a Key" },
    { "list: CommonPrefixes without Prefix", "bad_prefix_missing.xml", P_LIST, S3DLIO_E_PARSE,
      "<CommonPrefixes> without a Prefix" },
    { "list: Contents without Size", "bad_no_size.xml", P_LIST, S3DLIO_E_PARSE,
      "key 'photos/2006/index.html' has no Size" },
    { "list: empty Key", "bad_empty_key.xml", P_LIST, S3DLIO_E_PARSE,
      "<Contents> with an empty Key" },
    { "list: nginx 502 page", "bad_html_502.html", P_LIST, S3DLIO_E_PARSE,
      "malformed XML at line" },
    { "list: XHTML 503 page", "bad_html_xhtml.html", P_LIST, S3DLIO_E_PARSE,
      "unexpected root element <html>" },
    { "list: billion laughs", "bad_billion_laughs.xml", P_LIST, S3DLIO_E_PARSE,
      "DOCTYPE declarations are not accepted" },
    { "error: external entity", "bad_xxe.xml", P_ERROR, S3DLIO_E_PARSE, "DOCTYPE" },
    { "error: no Code", "bad_error_no_code.xml", P_ERROR, S3DLIO_E_PARSE,
      "error response: <Error> without a Code" },
    { "error: a listing is not an error", "list_aws.xml", P_ERROR, S3DLIO_E_PARSE,
      "unexpected root element <ListBucketResult>, want <Error>" },
    { "error: empty body", "bad_empty.xml", P_ERROR, S3DLIO_E_PARSE, "error response: empty body" },
    { "error: html page", "bad_html_502.html", P_ERROR, S3DLIO_E_PARSE, "malformed XML" },
    { "delete: error root", "error_rgw.xml", P_DELETE, S3DLIO_E_S3, NULL },
    { "delete: Error entry without Key", "bad_delete_error_no_key.xml", P_DELETE, S3DLIO_E_PARSE,
      "DeleteObjects response: <Error> entry without a Key" },
    { "delete: Error entry without Code", "bad_delete_error_no_code.xml", P_DELETE, S3DLIO_E_PARSE,
      "<Error> entry for key 'sample2.txt' without a Code" },
    { "delete: truncated", "bad_truncated_mid.xml", P_DELETE, S3DLIO_E_PARSE, "truncated" },
    { "initiate: missing UploadId", "bad_initiate_no_uploadid.xml", P_INITIATE, S3DLIO_E_PARSE,
      "CreateMultipartUpload response: missing UploadId" },
    { "initiate: empty UploadId", "bad_initiate_empty_uploadid.xml", P_INITIATE, S3DLIO_E_PARSE,
      "missing UploadId" },
    { "initiate: error root", "error_aws.xml", P_INITIATE, S3DLIO_E_S3, NULL },
    { "initiate: billion laughs", "bad_billion_laughs.xml", P_INITIATE, S3DLIO_E_PARSE, "DOCTYPE" },
    { "complete: 200 with an Error body", "complete_error_200.xml", P_COMPLETE, S3DLIO_E_S3, NULL },
    { "complete: rgw EntityTooSmall", "complete_rgw_too_small.xml", P_COMPLETE, S3DLIO_E_S3, NULL },
    { "complete: truncated", "bad_complete_truncated.xml", P_COMPLETE, S3DLIO_E_PARSE,
      "CompleteMultipartUpload response: truncated or malformed XML at line 2" },
    { "complete: wrong root", "initiate_aws.xml", P_COMPLETE, S3DLIO_E_PARSE,
      "unexpected root element <InitiateMultipartUploadResult>" },
    { "complete: not xml", "bad_not_xml.txt", P_COMPLETE, S3DLIO_E_PARSE, "malformed XML" },
};

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct rc_case *c = &cases[i];
        struct s3dlio_error err = { 0 };
        size_t len;
        char *body = slurp(c->file, &len);
        snprintf(err.op, sizeof(err.op), "probe"); /* op is the caller's: parsers leave it */
        CHECK_INT(run(c->parser, body, len, &err), c->rc, c->name);
        CHECK_STR(err.op, "probe", c->name);
        if (c->rc == S3DLIO_E_PARSE) {
            CHECK(err.message[0] != '\0', c->name);
            CHECK_INT(err.rc, S3DLIO_E_PARSE, c->name);
        }
        if (c->rc == S3DLIO_E_S3) {
            CHECK_INT(err.rc, S3DLIO_E_S3, c->name);
            CHECK(err.s3_code[0] != '\0', c->name);
        }
        if (c->msg) /* a substring: on failure this prints the whole message against it */
            CHECK_STR(strstr(err.message, c->msg) ? c->msg : err.message, c->msg, c->name);
        if (getenv("TEST_VERBOSE"))
            printf("%-36s %s\n", c->name, err.message);
        /* the same body must also be safe with err == NULL */
        CHECK_INT(run(c->parser, body, len, NULL), c->rc, c->name);
        free(body);
    }
}

/* ---- ListObjectsV2 contents ---- */

struct want_obj {
    size_t i;
    const char *key; /* NULL ends the list */
    uint64_t size;
    int64_t mtime;
    const char *etag;
};

struct list_case {
    const char *name;
    const char *file;
    size_t n, nprefixes;
    bool truncated;
    const char *token;
    struct want_obj obj[4];
    const char *prefixes[4];
};

static const struct list_case list_cases[] = {
    { "aws example",
      "list_aws.xml",
      3,
      0,
      false,
      NULL,
      { { 0, "my-image.jpg", 434234, 1255369830, "fba9dede5f27731c9771645a39863328" },
        { 1, "my-third-image.jpg", 64994, 1255369830, "1b2cf535f27731c974343645a3985328" },
        { 2, "big/multipart.bin", UINT64_MAX, 1570902630, "3858f62230ac3c915f300c664312c11f-9" } },
      { NULL } },
    { "aws delimiter",
      "list_prefixes.xml",
      1,
      2,
      false,
      NULL,
      { { 0, "photos/2006/index.html", 1234, 1136116800, "ce1acdafcc879d7eee54cf4e97334078" } },
      { "photos/2006/February/", "photos/2006/January/" } },
    { "aws truncated",
      "list_truncated.xml",
      2,
      0,
      true,
      "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=",
      { { 1, "test.jpg", 11, 1416598805, "70ee1738b6b21e2c8a43f3a5ab0eee71" } },
      { NULL } },
    { "rgw url-encoded",
      "list_rgw_url.xml",
      4,
      3,
      false,
      NULL,
      { { 0, "a b+c.txt", 3, 1795656706, "764efa883dda1e11db47671c4a3bbd9e" },
        { 1, "amp&<lt>.txt", 3, 1795656712, "764efa883dda1e11db47671c4a3bbd9e" },
        { 3, "zero", 0, 1795656714, "d41d8cd98f00b204e9800998ecf8427e" } },
      { "dir one/", "dir+two/",
        "donn\xc3\xa9"
        "es/" } },
    { "rgw truncated, token is raw",
      "list_rgw_truncated.xml",
      2,
      0,
      true,
      "amp&<lt>.txt",
      { { 1, "amp&<lt>.txt", 3, 1795656712, "764efa883dda1e11db47671c4a3bbd9e" } },
      { NULL } },
    { "minio '+' for space, unicode",
      "list_minio_plus.xml",
      2,
      1,
      false,
      NULL,
      { { 0, "a b+c.txt", 7, 1717582272, "9b2cf535f27731c974343645a3985328" },
        { 1, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/\xf0\x9f\x93\x81", 7, 1717582272,
          "9b2cf535f27731c974343645a3985328" } },
      { "dir one/" } },
    { "empty bucket", "list_empty.xml", 0, 0, false, NULL, { { 0, NULL, 0, 0, NULL } }, { NULL } },
    { "prefixed namespace, 0 bytes, CDATA",
      "list_prefixed_ns.xml",
      2,
      0,
      false,
      NULL,
      { { 0, "dir/<zero>&.bin", 0, -1, "d41d8cd98f00b204e9800998ecf8427e" },
        { 1, "leapday", 1, 951868799, "" } },
      { NULL } },
};

static void check_list(const struct list_case *c, const struct s3dlio_list_page *pg)
{
    const struct s3dlio_objlist *l = &pg->list;
    CHECK_INT(l->n, c->n, c->name);
    CHECK_INT(l->nprefixes, c->nprefixes, c->name);
    CHECK_INT(pg->truncated, c->truncated, c->name);
    if (c->token)
        CHECK_STR(pg->next_token, c->token, c->name);
    else
        CHECK(pg->next_token == NULL, c->name);
    for (const struct want_obj *w = c->obj; w < c->obj + 4 && w->key; w++) {
        if (w->i >= l->n) {
            CHECK(w->i < l->n, c->name);
            continue;
        }
        const struct s3dlio_object *o = &l->items[w->i];
        CHECK_STR(o->key, w->key, c->name);
        CHECK_INT(o->size, w->size, c->name);
        CHECK_INT(o->mtime, w->mtime, c->name);
        CHECK_STR(s3dlio_object_etag(o), w->etag, c->name);
    }
    for (size_t i = 0; i < 4 && c->prefixes[i]; i++)
        if (i < l->nprefixes)
            CHECK_STR(l->prefixes[i], c->prefixes[i], c->name);
}

static void test_list(void)
{
    for (size_t i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
        const struct list_case *c = &list_cases[i];
        struct s3dlio_list_page pg = { 0 };
        struct s3dlio_error err = { 0 };
        size_t len;
        char *body = slurp(c->file, &len);
        CHECK_INT(s3dlio_xml_parse_list_v2(body, len, &pg, &err), S3DLIO_OK, c->name);
        CHECK_STR(err.message, "", c->name);
        check_list(c, &pg);
        s3dlio_list_page_release(&pg);
        free(body);
    }
}

/* Pages accumulate in one list; a failed page leaves it as it was; the token is replaced. */
static void test_list_pages(void)
{
    const char *name = "two pages then a bad one";
    struct s3dlio_list_page pg = { 0 };
    struct s3dlio_error err = { 0 };
    size_t l1, l2, l3;
    char *p1 = slurp("list_truncated.xml", &l1), *p2 = slurp("list_aws.xml", &l2);
    char *p3 = slurp("bad_size_negative.xml", &l3);
    CHECK_INT(s3dlio_xml_parse_list_v2(p1, l1, &pg, &err), S3DLIO_OK, name);
    CHECK(pg.truncated && pg.next_token, name);
    CHECK_INT(s3dlio_xml_parse_list_v2(p2, l2, &pg, &err), S3DLIO_OK, name);
    CHECK_INT(pg.list.n, 5, name);
    CHECK(!pg.truncated && !pg.next_token, name);
    CHECK_STR(pg.list.items[4].key, "big/multipart.bin", name);
    CHECK_INT(s3dlio_xml_parse_list_v2(p3, l3, &pg, &err), S3DLIO_E_PARSE, name);
    CHECK_INT(pg.list.n, 5, name);
    s3dlio_list_page_release(&pg);
    free(p1);
    free(p2);
    free(p3);
}

static void test_list_huge(void)
{
    const char *name = "65 MiB body refused before parsing";
    size_t len = 65u << 20;
    char *body = s3dlio_xmalloc(len);
    struct s3dlio_list_page pg = { 0 };
    struct s3dlio_error err = { 0 };
    memset(body, ' ', len);
    CHECK_INT(s3dlio_xml_parse_list_v2(body, len, &pg, &err), S3DLIO_E_PARSE, name);
    CHECK(strstr(err.message, "exceeds the 64 MiB limit") != NULL, name);
    CHECK_INT(s3dlio_xml_parse_list_v2(NULL, 0, &pg, &err), S3DLIO_E_PARSE, "NULL body");
    free(body);
}

/* ---- single values, in a generated one-object listing ---- */

struct time_case {
    const char *name;
    const char *text; /* LastModified */
    bool ok;
    int64_t want;
};

static const struct time_case time_cases[] = {
    { "Z with millis", "2009-10-12T17:50:30.000Z", true, 1255369830 },
    { "no fraction", "2009-10-12T17:50:30Z", true, 1255369830 },
    { "microseconds", "2009-10-12T17:50:30.123456Z", true, 1255369830 },
    { "+02:00", "2009-10-12T19:50:30+02:00", true, 1255369830 },
    { "-05:30", "2009-10-12T12:20:30-05:30", true, 1255369830 },
    { "no zone is UTC", "2009-10-12T17:50:30", true, 1255369830 },
    { "surrounding whitespace", "\n  2009-10-12T17:50:30Z  \n", true, 1255369830 },
    { "epoch", "1970-01-01T00:00:00Z", true, 0 },
    { "before the epoch", "1969-12-31T23:59:58Z", true, -2 },
    { "leap day 2000", "2000-02-29T00:00:00Z", true, 951782400 },
    { "leap second", "2016-12-31T23:59:60Z", true, 1483228800 },
    { "year 9999", "9999-12-31T23:59:59Z", true, 253402300799 },
    { "2100 is not leap", "2100-02-29T00:00:00Z", false, 0 },
    { "month 13", "2009-13-01T00:00:00Z", false, 0 },
    { "hour 24", "2009-10-12T24:00:00Z", false, 0 },
    { "space for T", "2009-10-12 17:50:30Z", false, 0 },
    { "dot without digits", "2009-10-12T17:50:30.Z", false, 0 },
    { "one-digit offset", "2009-10-12T17:50:30+2:00", false, 0 },
    { "trailing junk", "2009-10-12T17:50:30Zjunk", false, 0 },
    { "date only", "2009-10-12", false, 0 },
    { "empty", "", false, 0 },
};

static void test_times(void)
{
    static const char tmpl[] = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents>"
                               "<Key>k</Key><Size>1</Size><LastModified>%s</LastModified>"
                               "</Contents></ListBucketResult>";
    for (size_t i = 0; i < sizeof(time_cases) / sizeof(time_cases[0]); i++) {
        const struct time_case *c = &time_cases[i];
        struct s3dlio_list_page pg = { 0 };
        struct s3dlio_error err = { 0 };
        char body[512];
        int len = snprintf(body, sizeof(body), tmpl, c->text);
        enum s3dlio_rc rc = s3dlio_xml_parse_list_v2(body, (size_t)len, &pg, &err);
        CHECK_INT(rc, c->ok ? S3DLIO_OK : S3DLIO_E_PARSE, c->name);
        if (c->ok && pg.list.n == 1)
            CHECK_INT(pg.list.items[0].mtime, c->want, c->name);
        if (!c->ok)
            CHECK(strstr(err.message, "is not an ISO 8601 time") != NULL, c->name);
        s3dlio_list_page_release(&pg);
    }
}

struct key_case {
    const char *name;
    const char *encoded;
    const char *decoded; /* NULL: S3DLIO_E_PARSE */
};

static const struct key_case key_cases[] = {
    { "%20 and %2B (AWS, RGW)", "a%20b%2Bc", "a b+c" },
    { "'+' is a space (MinIO)", "a+b", "a b" },
    { "lowercase hex", "%c3%a9t%C3%A9", "\xc3\xa9t\xc3\xa9" },
    { "raw UTF-8 passes", "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9" },
    { "%25 is a percent sign", "100%25", "100%" },
    { "XML-escaped then encoded", "a%26amp%3B&amp;b", "a&amp;&b" },
    { "'%' at the end", "abc%", NULL },
    { "one hex digit at the end", "abc%4", NULL },
    { "not hex", "%zz", NULL },
    { "%00", "a%00b", NULL },
};

static void test_keys(void)
{
    static const char tmpl[] = "<ListBucketResult><EncodingType>url</EncodingType>"
                               "<IsTruncated>false</IsTruncated><Contents><Key>%s</Key>"
                               "<Size>1</Size></Contents><CommonPrefixes><Prefix>%s/</Prefix>"
                               "</CommonPrefixes></ListBucketResult>";
    for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
        const struct key_case *c = &key_cases[i];
        struct s3dlio_list_page pg = { 0 };
        struct s3dlio_error err = { 0 };
        char body[512], prefix[64];
        int len = snprintf(body, sizeof(body), tmpl, c->encoded, c->encoded);
        enum s3dlio_rc rc = s3dlio_xml_parse_list_v2(body, (size_t)len, &pg, &err);
        CHECK_INT(rc, c->decoded ? S3DLIO_OK : S3DLIO_E_PARSE, c->name);
        if (c->decoded && pg.list.n == 1 && pg.list.nprefixes == 1) {
            snprintf(prefix, sizeof(prefix), "%s/", c->decoded);
            CHECK_STR(pg.list.items[0].key, c->decoded, c->name);
            CHECK_STR(pg.list.prefixes[0], prefix, c->name);
        }
        if (!c->decoded)
            CHECK(strstr(err.message, "is not valid percent-encoding") != NULL, c->name);
        s3dlio_list_page_release(&pg);
    }
}

/* One element's text is capped at 64 KiB (S3 keys are at most 1 KiB). */
static void test_long_key(void)
{
    static const char head[] = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>";
    static const char tail[] = "</Key><Size>1</Size></Contents></ListBucketResult>";
    const size_t sizes[] = { 60 * 1024, 64 * 1024, 64 * 1024 + 1 };
    for (size_t i = 0; i < 3; i++) {
        struct s3dlio_buf b = S3DLIO_BUF_INIT(1 << 20);
        struct s3dlio_list_page pg = { 0 };
        struct s3dlio_error err = { 0 };
        s3dlio_buf_adds(&b, head);
        for (size_t k = 0; k < sizes[i]; k++)
            s3dlio_buf_addc(&b, 'k');
        s3dlio_buf_adds(&b, tail);
        enum s3dlio_rc rc = s3dlio_xml_parse_list_v2(b.data, b.len, &pg, &err);
        CHECK_INT(rc, sizes[i] <= 64 * 1024 ? S3DLIO_OK : S3DLIO_E_PARSE, "long key");
        if (rc)
            CHECK_STR(err.message, "ListObjectsV2 response: <Key> is longer than 65536 bytes",
                      "long key");
        else if (pg.list.n == 1)
            CHECK_INT(strlen(pg.list.items[0].key), sizes[i], "long key");
        s3dlio_list_page_release(&pg);
        s3dlio_buf_release(&b);
    }
}

/* ---- Error bodies ---- */

struct error_case {
    const char *name;
    const char *file;
    const char *header_id; /* x-amz-request-id the caller already had, or "" */
    const char *code, *message, *request_id;
};

static const struct error_case error_cases[] = {
    { "aws NoSuchKey", "error_aws.xml", "", "NoSuchKey",
      "The resource you requested does not exist", "4442587FB7D0A2F9" },
    { "body RequestId wins", "error_aws.xml", "FROMHEADER", "NoSuchKey",
      "The resource you requested does not exist", "4442587FB7D0A2F9" },
    { "rgw: empty Message", "error_rgw.xml", "", "NoSuchBucket", "",
      "tx00000aa90274591c6a6bb-006b078c15-101b-default" },
    { "HostId when nothing else", "error_hostid_only.xml", "", "AccessDenied", "Access Denied",
      "Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==" },
    { "header id kept over HostId", "error_hostid_only.xml", "FROMHEADER", "AccessDenied",
      "Access Denied", "FROMHEADER" },
    { "s3rver: no RequestId", "error_s3rver.xml", "FROMHEADER", "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check "
      "your key and signing method.",
      "FROMHEADER" },
    { "200 with Error", "complete_error_200.xml", "", "InternalError",
      "We encountered an internal error. Please try again.", "656c76696e6727732072657175657374" },
};

static void test_error(void)
{
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const struct error_case *c = &error_cases[i];
        struct s3dlio_error err = { 0 };
        size_t len;
        char *body = slurp(c->file, &len);
        err.http_status = 404;
        snprintf(err.request_id, sizeof(err.request_id), "%s", c->header_id);
        snprintf(err.message, sizeof(err.message), "stale");
        CHECK_INT(s3dlio_xml_parse_error(body, len, &err), S3DLIO_OK, c->name);
        CHECK_INT(err.rc, S3DLIO_E_S3, c->name);
        CHECK_INT(err.http_status, 404, c->name);
        CHECK_STR(err.s3_code, c->code, c->name);
        CHECK_STR(err.message, c->message, c->name);
        CHECK_STR(err.request_id, c->request_id, c->name);
        free(body);
    }
    /* an error root met by another parser fills err the same way */
    struct s3dlio_list_page pg = { 0 };
    struct s3dlio_error err = { 0 };
    size_t len;
    char *body = slurp("error_rgw.xml", &len);
    CHECK_INT(s3dlio_xml_parse_list_v2(body, len, &pg, &err), S3DLIO_E_S3, "list on rgw error");
    CHECK_STR(err.s3_code, "NoSuchBucket", "list on rgw error");
    CHECK_INT(pg.list.n, 0, "list on rgw error");
    free(body);
}

/* ---- DeleteResult, InitiateMultipartUploadResult, CompleteMultipartUploadResult ---- */

struct delete_case {
    const char *name;
    const char *file;
    size_t ndeleted, nfailures;
    const char *key, *code, *message; /* last failure, when nfailures */
};

static const struct delete_case delete_cases[] = {
    { "aws mixed", "delete_aws.xml", 2, 2, "a & b.txt", "InternalError",
      "We encountered an internal error. Please try again." },
    { "rgw all deleted", "delete_rgw.xml", 2, 0, NULL, NULL, NULL },
    { "rgw escaped keys", "delete_rgw_escaped.xml", 3, 0, NULL, NULL, NULL },
    { "quiet, nothing failed", "delete_quiet.xml", 0, 0, NULL, NULL, NULL },
};

static void test_delete(void)
{
    for (size_t i = 0; i < sizeof(delete_cases) / sizeof(delete_cases[0]); i++) {
        const struct delete_case *c = &delete_cases[i];
        struct s3dlio_delete_failure *f = (void *)1; /* must be overwritten */
        struct s3dlio_error err = { 0 };
        size_t len, nf = 99, nd = 99;
        char *body = slurp(c->file, &len);
        CHECK_INT(s3dlio_xml_parse_delete_result(body, len, &f, &nf, &nd, &err), S3DLIO_OK,
                  c->name);
        CHECK_INT(nd, c->ndeleted, c->name);
        CHECK_INT(nf, c->nfailures, c->name);
        if (c->nfailures && nf == c->nfailures) {
            CHECK_STR(f[0].key, "sample2.txt", c->name);
            CHECK_STR(f[0].code, "AccessDenied", c->name);
            CHECK_STR(f[nf - 1].key, c->key, c->name);
            CHECK_STR(f[nf - 1].code, c->code, c->name);
            CHECK_STR(f[nf - 1].message, c->message, c->name);
        } else {
            CHECK(f == NULL, c->name);
        }
        s3dlio_delete_failures_free(f, nf);
        free(body);
    }
    s3dlio_delete_failures_free(NULL, 0);
}

struct value_case {
    const char *name;
    const char *file;
    enum parser parser; /* P_INITIATE: upload id; P_COMPLETE: etag */
    const char *want;
};

static const struct value_case value_cases[] = {
    { "initiate aws", "initiate_aws.xml", P_INITIATE,
      "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA" },
    { "initiate rgw", "initiate_rgw.xml", P_INITIATE, "2~x_-em9bV5qxTB0eNGhpsWExVAP3l_bl" },
    { "complete aws", "complete_aws.xml", P_COMPLETE, "3858f62230ac3c915f300c664312c11f-9" },
    { "complete rgw: empty ETag", "complete_rgw_empty_etag.xml", P_COMPLETE, "" },
    { "complete after keep-alive spaces", "complete_keepalive.xml", P_COMPLETE,
      "17fbc0a106abbb6f381aac6e331f2a19-2" },
};

static void test_values(void)
{
    for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
        const struct value_case *c = &value_cases[i];
        struct s3dlio_error err = { 0 };
        char *id = NULL, etag[80] = "stale";
        size_t len;
        char *body = slurp(c->file, &len);
        if (c->parser == P_INITIATE) {
            CHECK_INT(s3dlio_xml_parse_initiate_mpu(body, len, &id, &err), S3DLIO_OK, c->name);
            CHECK_STR(id, c->want, c->name);
        } else {
            CHECK_INT(s3dlio_xml_parse_complete_mpu(body, len, etag, &err), S3DLIO_OK, c->name);
            CHECK_STR(etag, c->want, c->name);
        }
        free(id);
        free(body);
    }
}

/* ---- builders ---- */

#define DECL  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
#define XMLNS " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

struct delete_build_case {
    const char *name;
    const char *keys[4]; /* NULL ends */
    size_t n;            /* passed as is, to try 0 */
    bool quiet;
    enum s3dlio_rc rc;
    const char *body;
};

static const struct delete_build_case delete_builds[] = {
    { "escaping",
      { "a&b<c>d", "q\"uote's", "dir one/\xc3\xa9t\xc3\xa9+x.bin" },
      3,
      true,
      S3DLIO_OK,
      DECL "<Delete" XMLNS "><Quiet>true</Quiet>"
           "<Object><Key>a&amp;b&lt;c&gt;d</Key></Object>"
           "<Object><Key>q&quot;uote&apos;s</Key></Object>"
           "<Object><Key>dir one/\xc3\xa9t\xc3\xa9+x.bin</Key></Object></Delete>" },
    { "tab, LF and CR as references",
      { "t\tl\nc\r" },
      1,
      false,
      S3DLIO_OK,
      DECL "<Delete" XMLNS "><Object><Key>t&#9;l&#10;c&#13;</Key></Object></Delete>" },
    { "4-byte UTF-8 and DEL are fine",
      { "\xf0\x9f\x93\x81\x7f" },
      1,
      false,
      S3DLIO_OK,
      DECL "<Delete" XMLNS "><Object><Key>\xf0\x9f\x93\x81\x7f</Key></Object></Delete>" },
    { "control char refused", { "ok", "bell\x07" }, 2, true, S3DLIO_E_USAGE, NULL },
    { "ESC refused", { "\x1b[0m" }, 1, true, S3DLIO_E_USAGE, NULL },
    { "invalid UTF-8 refused", { "latin1 \xe9t\xe9" }, 1, true, S3DLIO_E_USAGE, NULL },
    { "overlong UTF-8 refused", { "\xc0\xaf" }, 1, true, S3DLIO_E_USAGE, NULL },
    { "surrogate refused", { "\xed\xa0\x80" }, 1, true, S3DLIO_E_USAGE, NULL },
    { "U+FFFE refused", { "\xef\xbf\xbe" }, 1, true, S3DLIO_E_USAGE, NULL },
    { "empty key refused", { "" }, 1, true, S3DLIO_E_USAGE, NULL },
    { "NULL key refused", { NULL }, 1, true, S3DLIO_E_USAGE, NULL },
    { "no keys refused", { NULL }, 0, true, S3DLIO_E_USAGE, NULL },
};

static void test_build_delete(void)
{
    for (size_t i = 0; i < sizeof(delete_builds) / sizeof(delete_builds[0]); i++) {
        const struct delete_build_case *c = &delete_builds[i];
        struct s3dlio_buf out = S3DLIO_BUF_INIT(1 << 20);
        CHECK_INT(s3dlio_xml_build_delete(&out, c->keys, c->n, c->quiet), c->rc, c->name);
        CHECK_STR(s3dlio_buf_str(&out), c->body ? c->body : "", c->name);
        s3dlio_buf_release(&out);
    }
    /* 1001 keys is past the DeleteObjects limit; a small cap gives LIMIT, not a crash */
    static const char *many[1001];
    for (size_t i = 0; i < 1001; i++)
        many[i] = "k";
    struct s3dlio_buf out = S3DLIO_BUF_INIT(1 << 20);
    CHECK_INT(s3dlio_xml_build_delete(&out, many, 1001, false), S3DLIO_E_USAGE, "1001 keys");
    CHECK_INT(s3dlio_xml_build_delete(&out, many, 1000, false), S3DLIO_OK, "1000 keys");
    s3dlio_buf_release(&out);
    struct s3dlio_buf small = S3DLIO_BUF_INIT(100);
    CHECK_INT(s3dlio_xml_build_delete(&small, many, 1000, false), S3DLIO_E_LIMIT, "capped buffer");
    s3dlio_buf_release(&small);
}

struct mpu_build_case {
    const char *name;
    struct s3dlio_part parts[3];
    size_t n;
    enum s3dlio_rc rc;
    const char *body;
};

static const struct mpu_build_case mpu_builds[] = {
    { "two parts",
      { { 1, "5f363e0e58a95f06cbe9bbc662c5dfb6" }, { 2, "9d3678b8bfc55617777634c421bf4584" } },
      2,
      S3DLIO_OK,
      DECL
      "<CompleteMultipartUpload" XMLNS ">"
      "<Part><PartNumber>1</PartNumber><ETag>\"5f363e0e58a95f06cbe9bbc662c5dfb6\"</ETag></Part>"
      "<Part><PartNumber>2</PartNumber><ETag>\"9d3678b8bfc55617777634c421bf4584\"</ETag></Part>"
      "</CompleteMultipartUpload>" },
    { "gaps are fine, last part 10000",
      { { 3, "a&b" }, { 10000, "c" } },
      2,
      S3DLIO_OK,
      DECL "<CompleteMultipartUpload" XMLNS ">"
           "<Part><PartNumber>3</PartNumber><ETag>\"a&amp;b\"</ETag></Part>"
           "<Part><PartNumber>10000</PartNumber><ETag>\"c\"</ETag></Part>"
           "</CompleteMultipartUpload>" },
    { "descending refused", { { 2, "a" }, { 1, "b" } }, 2, S3DLIO_E_USAGE, NULL },
    { "duplicate refused", { { 1, "a" }, { 1, "b" } }, 2, S3DLIO_E_USAGE, NULL },
    { "part 0 refused", { { 0, "a" } }, 1, S3DLIO_E_USAGE, NULL },
    { "part 10001 refused", { { 10001, "a" } }, 1, S3DLIO_E_USAGE, NULL },
    { "empty etag refused", { { 1, "" } }, 1, S3DLIO_E_USAGE, NULL },
    { "control char in etag refused", { { 1, "a\x01" } }, 1, S3DLIO_E_USAGE, NULL },
    { "no parts refused", { { 1, "a" } }, 0, S3DLIO_E_USAGE, NULL },
};

static void test_build_complete(void)
{
    for (size_t i = 0; i < sizeof(mpu_builds) / sizeof(mpu_builds[0]); i++) {
        const struct mpu_build_case *c = &mpu_builds[i];
        struct s3dlio_buf out = S3DLIO_BUF_INIT(1 << 20);
        CHECK_INT(s3dlio_xml_build_complete_mpu(&out, c->parts, c->n), c->rc, c->name);
        CHECK_STR(s3dlio_buf_str(&out), c->body ? c->body : "", c->name);
        s3dlio_buf_release(&out);
    }
    struct s3dlio_part unterminated = { 1, { 0 } };
    memset(unterminated.etag, 'e', sizeof(unterminated.etag));
    struct s3dlio_buf out = S3DLIO_BUF_INIT(1 << 20);
    CHECK_INT(s3dlio_xml_build_complete_mpu(&out, &unterminated, 1), S3DLIO_E_USAGE,
              "etag without NUL");
    s3dlio_buf_release(&out);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <tests/unit/data>\n", argv[0]);
        return 2;
    }
    data_dir = argv[1];
    test_cases();
    test_list();
    test_list_pages();
    test_list_huge();
    test_times();
    test_keys();
    test_long_key();
    test_error();
    test_delete();
    test_values();
    test_build_delete();
    test_build_complete();
    TEST_DONE();
}
