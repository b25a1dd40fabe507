/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for src/s3/sigv4.c. Byte-for-byte against AWS's SigV4 suite (data/sigv4) and the
 * S3 API reference worked examples (data/sigv4-s3), plus tables for URI encoding, the
 * canonical query and headers, time formatting, digests and error paths.
 * Usage: test_sigv4 <tests/unit/data>
 */
#define _DEFAULT_SOURCE /* timegm: the test's own, independent way to read a timestamp */

#include "s3/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "check.h"

#define MAX_KV 64
#define BUF_MAX (1024 * 1024)

/* ---- reading the vector files ---------------------------------------------------------- */

/* Whole file, NUL-terminated; NULL if it cannot be read. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct s3dlio_buf b = S3DLIO_BUF_INIT(BUF_MAX);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        s3dlio_buf_add(&b, chunk, n);
    fclose(f);
    if (len)
        *len = b.len;
    return s3dlio_buf_detach(&b);
}

/* A parsed request.txt: every string points into text or into owned. */
struct request {
    char *text;
    const char *method, *path, *body;
    size_t body_len;
    struct s3dlio_kv query[MAX_KV], headers[MAX_KV];
    size_t nquery, nheaders;
    char *owned[MAX_KV];
    size_t nowned;
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* In place: the suite writes non-ASCII query keys as %XX; the signer wants raw bytes. */
static char *pct_decode(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (r[0] == '%' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
            *w++ = (char)(hexval(r[1]) * 16 + hexval(r[2]));
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return s;
}

static void parse_query(struct request *r, char *q)
{
    for (char *pair = q; pair && *pair && r->nquery < MAX_KV;) {
        char *next = strchr(pair, '&');
        if (next)
            *next++ = '\0';
        char *eq = strchr(pair, '=');
        if (eq)
            *eq++ = '\0';
        r->query[r->nquery++] = (struct s3dlio_kv){ pct_decode(pair), eq ? pct_decode(eq) : NULL };
        pair = next;
    }
}

/* "METHOD target HTTP/1.1": path and query split at '?'. */
static void parse_request_line(struct request *r, char *line)
{
    char *sp = strchr(line, ' ');
    *sp = '\0';
    r->method = line;
    char *target = sp + 1;
    *strrchr(target, ' ') = '\0';
    char *q = strchr(target, '?');
    if (q) {
        *q = '\0';
        parse_query(r, q + 1);
    }
    r->path = target;
}

/* A line starting with blanks continues the previous header's value (kept raw, with "\n"). */
static void add_header_line(struct request *r, char *line)
{
    if ((line[0] == ' ' || line[0] == '\t') && r->nheaders && r->nowned < MAX_KV) {
        struct s3dlio_kv *prev = &r->headers[r->nheaders - 1];
        size_t n = strlen(prev->value) + strlen(line) + 2;
        char *joined = malloc(n);
        snprintf(joined, n, "%s\n%s", prev->value, line);
        prev->value = r->owned[r->nowned++] = joined;
        return;
    }
    char *colon = strchr(line, ':');
    if (!colon || r->nheaders >= MAX_KV - 3) /* room for complete_headers */
        return;
    *colon = '\0';
    r->headers[r->nheaders++] = (struct s3dlio_kv){ line, colon + 1 };
}

static bool parse_request(struct request *r, const char *dir)
{
    memset(r, 0, sizeof(*r));
    size_t len;
    if (!(r->text = slurp(dir, "request.txt", &len)))
        return false;
    char *end = r->text + len, *line = r->text;
    for (int first = 1; line < end; first = 0) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (nl == line) { /* blank line: the rest is the body */
            r->body = nl + 1;
            r->body_len = (size_t)(end - r->body);
            break;
        }
        if (nl)
            *nl = '\0';
        if (first)
            parse_request_line(r, line);
        else
            add_header_line(r, line);
        line = nl ? nl + 1 : end;
    }
    return r->method != NULL;
}

static void request_free(struct request *r)
{
    for (size_t i = 0; i < r->nowned; i++)
        free(r->owned[i]);
    free(r->text);
}

static const char *header_get(const struct request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (!strcasecmp(r->headers[i].name, name))
            return r->headers[i].value + strspn(r->headers[i].value, " \t");
    return NULL;
}

/* The few context.json fields we use; strings borrowed from root. */
struct context {
    json_object *root;
    const char *access_key, *secret_key, *token, *region, *service;
    time_t now;
    bool sign_body, omit_token;
};

static const char *json_str(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static bool json_flag(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/* "2015-08-30T12:36:00Z" -> time_t, through libc rather than the code under test. */
static bool parse_timestamp(const char *s, time_t *out)
{
    struct tm tm = { 0 };
    if (!s || sscanf(s, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec) != 6)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = timegm(&tm);
    return true;
}

static bool parse_context(struct context *c, const char *dir)
{
    char path[1024];
    json_object *cred;
    memset(c, 0, sizeof(*c));
    if (snprintf(path, sizeof(path), "%s/context.json", dir) >= (int)sizeof(path) ||
        !(c->root = json_object_from_file(path)) ||
        !json_object_object_get_ex(c->root, "credentials", &cred))
        return false;
    c->access_key = json_str(cred, "access_key_id");
    c->secret_key = json_str(cred, "secret_access_key");
    c->token = json_str(cred, "token");
    c->region = json_str(c->root, "region");
    c->service = json_str(c->root, "service");
    c->sign_body = json_flag(c->root, "sign_body");
    c->omit_token = json_flag(c->root, "omit_session_token");
    return c->access_key && c->secret_key && c->region && c->service &&
           parse_timestamp(json_str(c->root, "timestamp"), &c->now);
}

/* ---- vector cases (expected values only ever come from the files) ---------------------- */

static const struct vcase {
    const char *name;
    const char *dir; /* under the data directory */
} vcases[] = {
    { "aws get-header-key-duplicate", "sigv4/get-header-key-duplicate" },
    { "aws get-header-value-multiline", "sigv4/get-header-value-multiline" },
    { "aws get-header-value-order", "sigv4/get-header-value-order" },
    { "aws get-header-value-trim", "sigv4/get-header-value-trim" },
    { "aws get-relative-relative-unnormalized", "sigv4/get-relative-relative-unnormalized" },
    { "aws get-relative-unnormalized", "sigv4/get-relative-unnormalized" },
    { "aws get-slash-dot-slash-unnormalized", "sigv4/get-slash-dot-slash-unnormalized" },
    { "aws get-slash-pointless-dot-unnormalized", "sigv4/get-slash-pointless-dot-unnormalized" },
    { "aws get-slash-unnormalized", "sigv4/get-slash-unnormalized" },
    { "aws get-slashes-unnormalized", "sigv4/get-slashes-unnormalized" },
    { "aws get-space-unnormalized", "sigv4/get-space-unnormalized" },
    { "aws get-unreserved", "sigv4/get-unreserved" },
    { "aws get-utf8", "sigv4/get-utf8" },
    { "aws get-vanilla", "sigv4/get-vanilla" },
    { "aws get-vanilla-empty-query-key", "sigv4/get-vanilla-empty-query-key" },
    { "aws get-vanilla-query", "sigv4/get-vanilla-query" },
    { "aws get-vanilla-query-order-encoded", "sigv4/get-vanilla-query-order-encoded" },
    { "aws get-vanilla-query-order-key-case", "sigv4/get-vanilla-query-order-key-case" },
    { "aws get-vanilla-query-unreserved", "sigv4/get-vanilla-query-unreserved" },
    { "aws get-vanilla-utf8-query", "sigv4/get-vanilla-utf8-query" },
    { "aws get-vanilla-with-session-token", "sigv4/get-vanilla-with-session-token" },
    { "aws post-header-key-case", "sigv4/post-header-key-case" },
    { "aws post-header-key-sort", "sigv4/post-header-key-sort" },
    { "aws post-header-value-case", "sigv4/post-header-value-case" },
    { "aws post-sts-header-before", "sigv4/post-sts-header-before" },
    { "aws post-vanilla", "sigv4/post-vanilla" },
    { "aws post-vanilla-empty-query-value", "sigv4/post-vanilla-empty-query-value" },
    { "aws post-vanilla-query", "sigv4/post-vanilla-query" },
    { "aws post-x-www-form-urlencoded", "sigv4/post-x-www-form-urlencoded" },
    { "aws post-x-www-form-urlencoded-parameters", "sigv4/post-x-www-form-urlencoded-parameters" },
    { "s3 get-object", "sigv4-s3/get-object" },
    { "s3 put-object", "sigv4-s3/put-object" },
    { "s3 get-bucket-lifecycle", "sigv4-s3/get-bucket-lifecycle" },
    { "s3 get-bucket-list-objects", "sigv4-s3/get-bucket-list-objects" },
};

/* Values the signer's caller adds to a request, kept alive for the signing input. */
struct extras {
    char amz_date[17];
    char payload_hash[65];
};

/* Add what a signing client adds when the request lacks it: date, body hash, token. */
static void complete_headers(struct request *r, const struct context *c, struct extras *x)
{
    s3dlio_sigv4_amz_date(c->now, x->amz_date);
    if (c->sign_body)
        s3dlio_sha256_hex(r->body ? r->body : "", r->body_len, x->payload_hash);
    else
        memcpy(x->payload_hash, S3DLIO_EMPTY_SHA256, sizeof(S3DLIO_EMPTY_SHA256));
    if (!header_get(r, "x-amz-date"))
        r->headers[r->nheaders++] = (struct s3dlio_kv){ "X-Amz-Date", x->amz_date };
    if (c->sign_body && !header_get(r, "x-amz-content-sha256"))
        r->headers[r->nheaders++] = (struct s3dlio_kv){ "x-amz-content-sha256", x->payload_hash };
    if (c->token && !c->omit_token)
        r->headers[r->nheaders++] = (struct s3dlio_kv){ "X-Amz-Security-Token", c->token };
}

/* The value of the "Authorization:" line of header-signed-request.txt, if the case has one. */
static char *expected_authorization(const char *dir)
{
    char *text = slurp(dir, "header-signed-request.txt", NULL);
    char *line = text ? strstr(text, "\nAuthorization:") : NULL;
    if (!line) {
        free(text);
        return NULL;
    }
    line += strlen("\nAuthorization:");
    line[strcspn(line, "\n")] = '\0';
    memmove(text, line, strlen(line) + 1);
    return text;
}

/* Signing key and signature steps alone: OpenSSL's HMAC is the independent oracle here. */
static void check_key_step(const struct vcase *vc, const struct context *c, const char *amz,
                           const char *sts, const char *want_sig)
{
    char date[9], sig[65];
    unsigned char key[32], mac[32];
    unsigned int n = 0;
    memcpy(date, amz, 8);
    date[8] = '\0';
    s3dlio_sigv4_signing_key(c->secret_key, date, c->region, c->service, key);
    HMAC(EVP_sha256(), key, 32, (const unsigned char *)sts, strlen(sts), mac, &n);
    for (unsigned int i = 0; i < 32; i++)
        snprintf(sig + 2 * i, 3, "%02x", mac[i]);
    CHECK_STR(sig, want_sig, vc->name);
}

static void check_signing(const struct vcase *vc, const struct s3dlio_sigv4_input *in,
                          const char *dir, const struct context *c, const char *amz)
{
    struct s3dlio_buf creq = S3DLIO_BUF_INIT(BUF_MAX), sh = S3DLIO_BUF_INIT(BUF_MAX);
    struct s3dlio_buf sts = S3DLIO_BUF_INIT(BUF_MAX), auth = S3DLIO_BUF_INIT(BUF_MAX);
    char *want_creq = slurp(dir, "header-canonical-request.txt", NULL);
    char *want_sts = slurp(dir, "header-string-to-sign.txt", NULL);
    char *want_sig = slurp(dir, "header-signature.txt", NULL);
    char *want_auth = expected_authorization(dir);

    CHECK_INT(s3dlio_sigv4_canonical_request(&creq, &sh, in), S3DLIO_OK, vc->name);
    CHECK_STR(s3dlio_buf_str(&creq), want_creq, vc->name);
    CHECK_INT(s3dlio_sigv4_string_to_sign(&sts, in, s3dlio_buf_str(&creq)), S3DLIO_OK, vc->name);
    CHECK_STR(s3dlio_buf_str(&sts), want_sts, vc->name);
    CHECK_INT(s3dlio_sigv4_authorization(&auth, in), S3DLIO_OK, vc->name);
    const char *sig = strstr(s3dlio_buf_str(&auth), "Signature=");
    CHECK_STR(sig ? sig + strlen("Signature=") : NULL, want_sig, vc->name);
    if (want_auth)
        CHECK_STR(s3dlio_buf_str(&auth), want_auth, vc->name);
    if (want_sts && want_sig)
        check_key_step(vc, c, amz, want_sts, want_sig);

    free(want_creq);
    free(want_sts);
    free(want_sig);
    free(want_auth);
    s3dlio_buf_release(&creq);
    s3dlio_buf_release(&sh);
    s3dlio_buf_release(&sts);
    s3dlio_buf_release(&auth);
}

static void run_vector(const struct vcase *vc, const char *datadir)
{
    char dir[1024];
    struct request r = { 0 };
    struct context c = { 0 };
    struct extras x;
    bool ok = snprintf(dir, sizeof(dir), "%s/%s", datadir, vc->dir) < (int)sizeof(dir) &&
              parse_request(&r, dir) && parse_context(&c, dir);
    CHECK(ok, vc->name);
    if (ok) {
        complete_headers(&r, &c, &x);
        /* Where the request carries the body hash (S3 examples), it must be ours. */
        const char *sent = header_get(&r, "x-amz-content-sha256");
        if (sent)
            CHECK_STR(sent, x.payload_hash, vc->name);
        struct s3dlio_sigv4_input in = {
            .method = r.method, .path = r.path, .query = r.query, .nquery = r.nquery,
            .headers = r.headers, .nheaders = r.nheaders, .payload_hash = x.payload_hash,
            .access_key = c.access_key, .secret_key = c.secret_key, .region = c.region,
            .service = c.service, .now = c.now,
        };
        check_signing(vc, &in, dir, &c, x.amz_date);
    }
    request_free(&r);
    json_object_put(c.root);
}

/* ---- tables of our own cases ----------------------------------------------------------- */

static void test_uri_encode(void)
{
    static const struct {
        const char *name, *in;
        bool keep_slash;
        const char *want;
    } cases[] = {
        { "empty", "", true, "" },
        { "unreserved", "AZaz09-._~", false, "AZaz09-._~" },
        { "space", "a b", true, "a%20b" },
        { "utf8 bytes", "\xc3\xbc\xe1\x88\xb4", false, "%C3%BC%E1%88%B4" },
        { "plus", "a+b", false, "a%2Bb" },
        { "equals", "k=v", false, "k%3Dv" },
        { "tilde kept", "~user", false, "~user" },
        { "percent", "100%", false, "100%25" },
        { "star", "a*b", false, "a%2Ab" },
        { "slash kept", "/bucket/a/b", true, "/bucket/a/b" },
        { "slash encoded", "/bucket/a/b", false, "%2Fbucket%2Fa%2Fb" },
        { "dollar in key", "/test$file.text", true, "/test%24file.text" },
        { "dots and slashes kept", "/./a/../b//", true, "/./a/../b//" },
        { "reserved", "!'()&;:@,?#[]", false, "%21%27%28%29%26%3B%3A%40%2C%3F%23%5B%5D" },
        { "control", "\t\n\x7f", false, "%09%0A%7F" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct s3dlio_buf b = S3DLIO_BUF_INIT(1024);
        CHECK_INT(s3dlio_uri_encode(&b, cases[i].in, cases[i].keep_slash), S3DLIO_OK,
                  cases[i].name);
        CHECK_STR(s3dlio_buf_str(&b), cases[i].want, cases[i].name);
        s3dlio_buf_release(&b);
    }
}

static void test_canonical_query(void)
{
    static const struct {
        const char *name;
        struct s3dlio_kv q[5];
        size_t n;
        const char *want;
    } cases[] = {
        { "none", { { NULL, NULL } }, 0, "" },
        { "null and empty value", { { "b", NULL }, { "a", "" } }, 2, "a=&b=" },
        { "repeated key by value", { { "a", "2" }, { "a", "10" }, { "a", "1" } }, 3,
          "a=1&a=10&a=2" },
        { "sorted on encoded bytes", { { "b", "" }, { "A", "" }, { "_", "" }, { "~", "" },
                                       { "%", "" } }, 5, "%25=&A=&_=&b=&~=" },
        { "value slash and space", { { "prefix", "a b/c" } }, 1, "prefix=a%20b%2Fc" },
        { "list-type v2", { { "prefix", "J" }, { "list-type", "2" }, { "max-keys", "2" } }, 3,
          "list-type=2&max-keys=2&prefix=J" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct s3dlio_buf b = S3DLIO_BUF_INIT(1024);
        CHECK_INT(s3dlio_sigv4_canonical_query(&b, cases[i].q, cases[i].n), S3DLIO_OK,
                  cases[i].name);
        CHECK_STR(s3dlio_buf_str(&b), cases[i].want, cases[i].name);
        s3dlio_buf_release(&b);
    }
}

static void test_canonical_headers(void)
{
    static const struct {
        const char *name;
        struct s3dlio_kv h[4];
        size_t n;
        const char *want_block, *want_signed;
    } cases[] = {
        { "tabs and crlf folded", { { "X-Amz-Meta-A", "\t a \t\r\n  b  " } }, 1,
          "x-amz-meta-a:a b\n", "x-amz-meta-a" },
        { "empty and blank values", { { "b", "" }, { "a", "   " } }, 2, "a:\nb:\n", "a;b" },
        { "sorted, duplicates in order",
          { { "x-b", "2" }, { "X-A", "1" }, { "x-b", " 1 " }, { "x-a", "0" } }, 4,
          "x-a:1,0\nx-b:2,1\n", "x-a;x-b" },
        { "quoted inner spaces folded", { { "h", "\"a   b\"" } }, 1, "h:\"a b\"\n", "h" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct s3dlio_sigv4_input in = { .method = "GET", .path = "", .headers = cases[i].h,
                                         .nheaders = cases[i].n,
                                         .payload_hash = S3DLIO_UNSIGNED_PAYLOAD,
                                         .region = "r", .service = "s3" };
        struct s3dlio_buf b = S3DLIO_BUF_INIT(4096), sh = S3DLIO_BUF_INIT(4096);
        struct s3dlio_buf want = S3DLIO_BUF_INIT(4096);
        s3dlio_buf_addf(&want, "GET\n/\n\n%s\n%s\n%s", cases[i].want_block, cases[i].want_signed,
                        S3DLIO_UNSIGNED_PAYLOAD);
        CHECK_INT(s3dlio_sigv4_canonical_request(&b, &sh, &in), S3DLIO_OK, cases[i].name);
        CHECK_STR(s3dlio_buf_str(&b), s3dlio_buf_str(&want), cases[i].name);
        CHECK_STR(s3dlio_buf_str(&sh), cases[i].want_signed, cases[i].name);
        s3dlio_buf_release(&b);
        s3dlio_buf_release(&sh);
        s3dlio_buf_release(&want);
    }
}

static void test_amz_date(void)
{
    static const struct {
        const char *name;
        long long t;
        const char *want;
    } cases[] = {
        { "epoch", 0, "19700101T000000Z" },
        { "before epoch", -1, "19691231T235959Z" },
        { "leap day 2000", 951868799, "20000229T235959Z" },
        { "march after leap day", 951868800, "20000301T000000Z" },
        { "leap day 2024", 1709164800, "20240229T000000Z" },
        { "last 4-digit second", 253402300799LL, "99991231T235959Z" },
        { "year 10000 refused", 253402300800LL, "" },
        { "year 0 start", -62167219200LL, "00000101T000000Z" },
        { "year -1 refused", -62167219201LL, "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[17];
        s3dlio_sigv4_amz_date((time_t)cases[i].t, out);
        CHECK_STR(out, cases[i].want, cases[i].name);
        /* Cross-check against libc, whose %Y does not pad years below 1000. */
        struct tm tm;
        char libc[32];
        time_t t = (time_t)cases[i].t;
        if (cases[i].want[0] && cases[i].want[0] != '0' && gmtime_r(&t, &tm)) {
            strftime(libc, sizeof(libc), "%Y%m%dT%H%M%SZ", &tm);
            CHECK_STR(out, libc, cases[i].name);
        }
    }
}

static void test_digests(void)
{
    static const char text[] = "The quick brown fox jumps over the lazy dog";
    char one[65], streamed[65], md5[25];
    s3dlio_sha256_hex("", 0, one);
    CHECK_STR(one, S3DLIO_EMPTY_SHA256, "sha256 of empty");
    s3dlio_sha256_hex(text, strlen(text), one);
    for (size_t split = 0; split <= strlen(text); split++) {
        struct s3dlio_sha256 h;
        s3dlio_sha256_init(&h);
        s3dlio_sha256_update(&h, text, split);
        s3dlio_sha256_update(&h, text + split, 0);
        s3dlio_sha256_update(&h, text + split, strlen(text) - split);
        s3dlio_sha256_final_hex(&h, streamed);
        CHECK_STR(streamed, one, "sha256 streamed equals one-shot");
        CHECK(h.md_ctx == NULL, "sha256 final releases");
    }
    s3dlio_md5_base64("", 0, md5);
    CHECK_STR(md5, "1B2M2Y8AsgTpgAmY7PhCfg==", "md5 of empty"); /* d41d8cd9...8427e */
    s3dlio_md5_base64(text, strlen(text), md5);
    CHECK_STR(md5, "nhB9nTcrtoJr2B01QqQZ1g==", "md5 of quick brown fox");

    /* hex both ways, and S3's multipart ETag (values from Python's hashlib) */
    char hex[33], b64[25], etag[48];
    unsigned char raw[16], back[16];
    struct s3dlio_md5 m;
    s3dlio_md5_init(&m);
    s3dlio_md5_update(&m, text, strlen(text));
    s3dlio_md5_final(&m, hex, b64);
    CHECK_STR(hex, "9e107d9d372bb6826bd81d3542a419d6", "md5 hex streamed");
    CHECK_STR(b64, "nhB9nTcrtoJr2B01QqQZ1g==", "md5 base64 streamed");
    CHECK(s3dlio_hex_decode(hex, raw, 16), "hex decodes");
    CHECK(s3dlio_hex_decode("9E107D9D372BB6826BD81D3542A419D6", back, 16) &&
              !memcmp(raw, back, 16), "upper-case hex decodes the same");
    CHECK(!s3dlio_hex_decode("9e107d9d372bb6826bd81d3542a419dg", back, 16), "a non-hex digit");
    CHECK(!s3dlio_hex_decode("9e10", back, 16), "too short (stops at the NUL)");
    struct s3dlio_md5 all;
    s3dlio_md5_init(&all);
    const char *parts[] = {"part one", "part two"};
    for (int i = 0; i < 2; i++) {
        bool ok = false;
        s3dlio_md5_init(&m);
        s3dlio_md5_update(&m, parts[i], strlen(parts[i]));
        s3dlio_md5_final_raw(&m, raw, &ok);
        CHECK(ok, "part md5");
        s3dlio_md5_update(&all, raw, 16);
    }
    s3dlio_md5_final_composite(&all, 2, etag);
    CHECK_STR(etag, "0732917abc3288784e318ac0aab1757a-2", "composite ETag of two parts");
}

/* Temporary credentials: the token is a signed header, and nothing secret leaks into auth. */
#define TOKEN_SIGNED "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
static void test_session_token(void)
{
    static const char token[] = "FwoGZXIvYXdzEXAMPLE/token+with=chars";
    static const char secret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const struct s3dlio_kv h[] = {
        { "Host", "examplebucket.s3.amazonaws.com" },
        { "x-amz-content-sha256", S3DLIO_UNSIGNED_PAYLOAD },
        { "x-amz-date", "20130524T000000Z" },
        { "X-Amz-Security-Token", token },
    };
    struct s3dlio_sigv4_input in = {
        .method = "GET", .path = "/test.txt", .headers = h, .nheaders = 4,
        .payload_hash = S3DLIO_UNSIGNED_PAYLOAD, .access_key = "AKIAIOSFODNN7EXAMPLE",
        .secret_key = secret, .region = "us-east-1", .service = "s3", .now = 1369353600,
    };
    struct s3dlio_buf creq = S3DLIO_BUF_INIT(4096), sh = S3DLIO_BUF_INIT(4096);
    struct s3dlio_buf auth = S3DLIO_BUF_INIT(4096);
    CHECK_INT(s3dlio_sigv4_canonical_request(&creq, &sh, &in), S3DLIO_OK, "token");
    CHECK_STR(s3dlio_buf_str(&sh), TOKEN_SIGNED, "token signed");
    CHECK(strstr(s3dlio_buf_str(&creq), "\nx-amz-security-token:") != NULL, "token canonical");
    CHECK_INT(s3dlio_sigv4_authorization(&auth, &in), S3DLIO_OK, "token auth");
    CHECK(strstr(s3dlio_buf_str(&auth), "SignedHeaders=" TOKEN_SIGNED ",") != NULL,
          "token in SignedHeaders");
    CHECK(strstr(s3dlio_buf_str(&auth), token) == NULL, "token value not in header");
    CHECK(strstr(s3dlio_buf_str(&auth), secret) == NULL, "secret not in header");
    s3dlio_buf_release(&creq);
    s3dlio_buf_release(&sh);
    s3dlio_buf_release(&auth);
}

static void test_errors(void)
{
    const struct s3dlio_kv host[] = { { "host", "h" } }, noname[] = { { NULL, "v" } };
    const struct s3dlio_sigv4_input ok = {
        .method = "GET", .path = "/k", .headers = host, .nheaders = 1,
        .payload_hash = S3DLIO_EMPTY_SHA256, .access_key = "AK", .secret_key = "SK",
        .region = "us-east-1", .service = "s3", .now = 0,
    };
    static const struct {
        const char *name;
        size_t cap;
        int field; /* which input field the row breaks */
        enum s3dlio_rc want;
    } cases[] = {
        { "valid", 4096, 0, S3DLIO_OK },
        { "output over its cap", 16, 0, S3DLIO_E_LIMIT },
        { "no method", 4096, 1, S3DLIO_E_USAGE },
        { "header without name", 4096, 2, S3DLIO_E_USAGE },
        { "no secret", 4096, 3, S3DLIO_E_USAGE },
        { "time beyond year 9999", 4096, 4, S3DLIO_E_USAGE },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct s3dlio_sigv4_input in = ok;
        if (cases[i].field == 1)
            in.method = NULL;
        if (cases[i].field == 2)
            in.headers = noname;
        if (cases[i].field == 3)
            in.secret_key = NULL;
        if (cases[i].field == 4)
            in.now = (time_t)253402300800LL;
        struct s3dlio_buf auth = S3DLIO_BUF_INIT(cases[i].cap);
        CHECK_INT(s3dlio_sigv4_authorization(&auth, &in), cases[i].want, cases[i].name);
        s3dlio_buf_release(&auth);
    }
    unsigned char key[32];
    s3dlio_sigv4_signing_key(NULL, "20130524", "us-east-1", "s3", key);
    unsigned char zero[32] = { 0 };
    CHECK(!memcmp(key, zero, sizeof(key)), "signing key without secret is all zero");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <tests/unit/data>\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++)
        run_vector(&vcases[i], argv[1]);
    test_uri_encode();
    test_canonical_query();
    test_canonical_headers();
    test_amz_date();
    test_digests();
    test_session_token();
    test_errors();
    TEST_DONE();
}
