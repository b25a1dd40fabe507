/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AWS Signature Version 4 for the Authorization header (see sigv4.h), in the steps AWS
 * documents: canonical request -> string to sign -> signing key -> signature -> header.
 * Plus the digests S3 requests need (SHA-256 payload hash, Content-MD5), via OpenSSL 3 EVP.
 */
#include "s3/sigv4.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "util/alloc.h"

/*
 * Cap of the scratch buffers used while signing (encoded query pairs, SignedHeaders). S3
 * refuses request headers over 8 KiB, so anything near this cap is a caller bug, not a request.
 */
#define SCRATCH_MAX (256 * 1024)

#define ALGORITHM "AWS4-HMAC-SHA256"
#define SECONDS_PER_DAY 86400LL

/* ---- time ------------------------------------------------------------------------------ */

/*
 * Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
 * Plain arithmetic instead of gmtime_r: no TZ, no locale, no POSIX feature macro, and it
 * cannot fail, so the signature stays a pure function of `now`.
 */
static void civil_from_days(long long z, long long *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Write v as exactly `width` decimal digits (v is known to fit). */
static char *put_digits(char *p, long long v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

void s3dlio_sigv4_amz_date(time_t t, char out[17])
{
    long long s = (long long)t;
    long long days = s / SECONDS_PER_DAY, rem = s % SECONDS_PER_DAY;
    if (rem < 0) {
        rem += SECONDS_PER_DAY;
        days--;
    }
    long long y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    /* Four-digit years only: the format has no room for more, so signal "" instead. */
    if (y < 0 || y > 9999) {
        out[0] = '\0';
        return;
    }
    char *p = put_digits(out, y, 4);
    p = put_digits(p, m, 2);
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, rem / 3600, 2);
    p = put_digits(p, rem / 60 % 60, 2);
    p = put_digits(p, rem % 60, 2);
    p[0] = 'Z';
    p[1] = '\0';
}

/* ---- URI encoding and the canonical query ---------------------------------------------- */

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

enum s3dlio_rc s3dlio_uri_encode(struct s3dlio_buf *out, const char *s, bool keep_slash)
{
    static const char upper[] = "0123456789ABCDEF";
    enum s3dlio_rc rc = S3DLIO_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
        if (unreserved(*p) || (keep_slash && *p == '/')) {
            rc = s3dlio_buf_addc(out, (char)*p);
        } else {
            char esc[3] = { '%', upper[*p >> 4], upper[*p & 0xf] };
            rc = s3dlio_buf_add(out, esc, sizeof(esc));
        }
    }
    return rc;
}

/* One query parameter, both halves already encoded (heap strings). */
struct qpair {
    char *key;
    char *value;
};

/* Heap copy of UriEncode(s) with '/' encoded; NULL s encodes as "". */
static enum s3dlio_rc encode_dup(const char *s, char **dst)
{
    struct s3dlio_buf b = S3DLIO_BUF_INIT(SCRATCH_MAX);
    enum s3dlio_rc rc = s3dlio_uri_encode(&b, s ? s : "", false);
    if (!rc)
        *dst = s3dlio_buf_detach(&b);
    s3dlio_buf_release(&b);
    return rc;
}

/* AWS sorts on the encoded bytes, key first, then value for repeated keys. */
static int qpair_cmp(const void *a, const void *b)
{
    const struct qpair *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

static enum s3dlio_rc join_query(struct s3dlio_buf *out, const struct qpair *pairs, size_t n)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    for (size_t i = 0; i < n && !rc; i++)
        rc = s3dlio_buf_addf(out, "%s%s=%s", i ? "&" : "", pairs[i].key, pairs[i].value);
    return rc;
}

enum s3dlio_rc s3dlio_sigv4_canonical_query(struct s3dlio_buf *out, const struct s3dlio_kv *q,
                                            size_t n)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    /* calloc: on an early failure the unfilled entries are NULL and free() skips them. */
    struct qpair *pairs = s3dlio_xcalloc(n ? n : 1, sizeof(*pairs));
    for (size_t i = 0; i < n && !rc; i++) {
        if (!q[i].name)
            rc = S3DLIO_E_USAGE;
        if (!rc)
            rc = encode_dup(q[i].name, &pairs[i].key);
        if (!rc)
            rc = encode_dup(q[i].value, &pairs[i].value);
    }
    if (!rc) {
        qsort(pairs, n, sizeof(*pairs), qpair_cmp);
        rc = join_query(out, pairs, n);
    }
    for (size_t i = 0; i < n; i++) {
        free(pairs[i].key);
        free(pairs[i].value);
    }
    free(pairs);
    return rc;
}

/* ---- canonical headers ----------------------------------------------------------------- */

/* A header prepared for sorting: lower-cased name, position kept so duplicates stay in order. */
struct chdr {
    char *name;
    const char *value;
    size_t pos;
};

static int chdr_cmp(const void *a, const void *b)
{
    const struct chdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Append v trimmed, with every inner run of whitespace folded to one space. Line breaks count
 * as whitespace, so an obsolete multi-line (folded) value signs as one line, as AWS expects.
 */
static enum s3dlio_rc add_folded(struct s3dlio_buf *out, const char *v)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    bool gap = false, started = false;
    for (; *v && !rc; v++) {
        if (is_ws(*v)) {
            gap = started;
            continue;
        }
        if (gap)
            rc = s3dlio_buf_addc(out, ' ');
        if (!rc)
            rc = s3dlio_buf_addc(out, *v);
        gap = false;
        started = true;
    }
    return rc;
}

static char *lower_dup(const char *s)
{
    char *d = s3dlio_xstrdup(s);
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return d;
}

/* "name:v1,v2\n" per distinct name, and "name;name" into signed (both appended). */
static enum s3dlio_rc add_header_lines(struct s3dlio_buf *out, struct s3dlio_buf *signed_hdrs,
                                       const struct chdr *h, size_t n)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        bool same = i && !strcmp(h[i].name, h[i - 1].name);
        bool last = i + 1 == n || strcmp(h[i].name, h[i + 1].name);
        if (same)
            rc = s3dlio_buf_addc(out, ',');
        else
            rc = s3dlio_buf_addf(out, "%s:", h[i].name);
        if (!rc)
            rc = add_folded(out, h[i].value ? h[i].value : "");
        if (!rc && last)
            rc = s3dlio_buf_addc(out, '\n');
        if (!rc && !same)
            rc = s3dlio_buf_addf(signed_hdrs, "%s%s", i ? ";" : "", h[i].name);
    }
    return rc;
}

static enum s3dlio_rc canonical_headers(struct s3dlio_buf *out, struct s3dlio_buf *signed_hdrs,
                                        const struct s3dlio_kv *hdrs, size_t n)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    struct chdr *h = s3dlio_xcalloc(n ? n : 1, sizeof(*h));
    for (size_t i = 0; i < n && !rc; i++) {
        if (!hdrs[i].name || !hdrs[i].name[0]) {
            rc = S3DLIO_E_USAGE;
            break;
        }
        h[i] = (struct chdr){ lower_dup(hdrs[i].name), hdrs[i].value, i };
    }
    if (!rc) {
        qsort(h, n, sizeof(*h), chdr_cmp);
        rc = add_header_lines(out, signed_hdrs, h, n);
    }
    for (size_t i = 0; i < n; i++)
        free(h[i].name);
    free(h);
    return rc;
}

/* ---- canonical request, string to sign ------------------------------------------------- */

static bool input_ok(const struct s3dlio_sigv4_input *in)
{
    return in && in->method && in->payload_hash && in->region && in->service &&
           (in->nquery == 0 || in->query) && (in->nheaders == 0 || in->headers);
}

enum s3dlio_rc s3dlio_sigv4_canonical_request(struct s3dlio_buf *out,
                                              struct s3dlio_buf *signed_headers,
                                              const struct s3dlio_sigv4_input *in)
{
    if (!input_ok(in))
        return S3DLIO_E_USAGE;
    struct s3dlio_buf own = S3DLIO_BUF_INIT(SCRATCH_MAX);
    struct s3dlio_buf *sh = signed_headers ? signed_headers : &own;
    size_t sh_start = sh->len;
    /* S3 signs the path as sent: one UriEncode, no dot-segment or '//' normalisation. */
    const char *path = in->path && in->path[0] ? in->path : "/";

    enum s3dlio_rc rc = s3dlio_buf_addf(out, "%s\n", in->method);
    if (!rc)
        rc = s3dlio_uri_encode(out, path, true);
    if (!rc)
        rc = s3dlio_buf_addc(out, '\n');
    if (!rc)
        rc = s3dlio_sigv4_canonical_query(out, in->query, in->nquery);
    if (!rc)
        rc = s3dlio_buf_addc(out, '\n');
    if (!rc)
        rc = canonical_headers(out, sh, in->headers, in->nheaders);
    /* The SignedHeaders line repeats what canonical_headers just appended to sh. */
    if (!rc)
        rc = s3dlio_buf_addf(out, "\n%s\n%s", s3dlio_buf_str(sh) + sh_start, in->payload_hash);
    s3dlio_buf_release(&own);
    return rc;
}

/* "<yyyymmdd>/<region>/<service>/aws4_request" */
static enum s3dlio_rc add_scope(struct s3dlio_buf *out, const char *amz_date,
                                const struct s3dlio_sigv4_input *in)
{
    return s3dlio_buf_addf(out, "%.8s/%s/%s/aws4_request", amz_date, in->region, in->service);
}

enum s3dlio_rc s3dlio_sigv4_string_to_sign(struct s3dlio_buf *out,
                                           const struct s3dlio_sigv4_input *in,
                                           const char *canonical_request)
{
    if (!input_ok(in) || !canonical_request)
        return S3DLIO_E_USAGE;
    char amz_date[17], hash[65];
    s3dlio_sigv4_amz_date(in->now, amz_date);
    if (!amz_date[0])
        return S3DLIO_E_USAGE;
    s3dlio_sha256_hex(canonical_request, strlen(canonical_request), hash);
    if (!hash[0])
        return S3DLIO_E_INTERNAL;

    enum s3dlio_rc rc = s3dlio_buf_addf(out, ALGORITHM "\n%s\n", amz_date);
    if (!rc)
        rc = add_scope(out, amz_date, in);
    if (!rc)
        rc = s3dlio_buf_addf(out, "\n%s", hash);
    return rc;
}

/* ---- signing key, signature ------------------------------------------------------------ */

/* HMAC-SHA256 of msg under key into out[32]; false only if OpenSSL fails. */
static bool hmac_sha256(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
    unsigned int len = 0;
    if (keylen > (size_t)INT_MAX)
        return false;
    return HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out,
                &len) && len == 32;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
static bool derive_key(const char *secret, const char *yyyymmdd, const char *region,
                       const char *service, unsigned char key[32])
{
    size_t n = strlen(secret) + 4;
    char *k_secret = s3dlio_xmalloc(n + 1);
    memcpy(k_secret, "AWS4", 4);
    memcpy(k_secret + 4, secret, n - 4 + 1);
    unsigned char k[32];
    bool ok = hmac_sha256(k_secret, n, yyyymmdd, k) && hmac_sha256(k, 32, region, key) &&
              hmac_sha256(key, 32, service, k) && hmac_sha256(k, 32, "aws4_request", key);
    OPENSSL_cleanse(k_secret, n);
    OPENSSL_cleanse(k, sizeof(k));
    free(k_secret);
    return ok;
}

void s3dlio_sigv4_signing_key(const char *secret_key, const char *yyyymmdd, const char *region,
                              const char *service, unsigned char key[32])
{
    /* No return value: an all-zero key makes the server reject the request, never accept it. */
    if (!secret_key || !yyyymmdd || !region || !service ||
        !derive_key(secret_key, yyyymmdd, region, service, key))
        OPENSSL_cleanse(key, 32);
}

/* Lower-case hex HMAC of the string to sign under the derived key, into sig[65]. */
static enum s3dlio_rc signature_hex(const struct s3dlio_sigv4_input *in, const char *amz_date,
                                    const char *string_to_sign, char sig[65])
{
    char yyyymmdd[9];
    unsigned char key[32], mac[32];
    memcpy(yyyymmdd, amz_date, 8);
    yyyymmdd[8] = '\0';
    bool ok = derive_key(in->secret_key, yyyymmdd, in->region, in->service, key) &&
              hmac_sha256(key, sizeof(key), string_to_sign, mac);
    OPENSSL_cleanse(key, sizeof(key));
    if (!ok)
        return S3DLIO_E_INTERNAL;
    s3dlio_hex_encode(mac, sizeof(mac), sig);
    return S3DLIO_OK;
}

/* ---- Authorization header -------------------------------------------------------------- */

static enum s3dlio_rc add_authorization(struct s3dlio_buf *auth,
                                        const struct s3dlio_sigv4_input *in, const char *amz_date,
                                        const char *signed_headers, const char *sig)
{
    enum s3dlio_rc rc = s3dlio_buf_addf(auth, ALGORITHM " Credential=%s/", in->access_key);
    if (!rc)
        rc = add_scope(auth, amz_date, in);
    if (!rc)
        rc = s3dlio_buf_addf(auth, ", SignedHeaders=%s, Signature=%s", signed_headers, sig);
    return rc;
}

enum s3dlio_rc s3dlio_sigv4_authorization(struct s3dlio_buf *auth,
                                          const struct s3dlio_sigv4_input *in)
{
    if (!input_ok(in) || !in->access_key || !in->secret_key)
        return S3DLIO_E_USAGE;
    struct s3dlio_buf creq = S3DLIO_BUF_INIT(SCRATCH_MAX);
    struct s3dlio_buf signed_hdrs = S3DLIO_BUF_INIT(SCRATCH_MAX);
    struct s3dlio_buf sts = S3DLIO_BUF_INIT(SCRATCH_MAX);
    char amz_date[17], sig[65];
    s3dlio_sigv4_amz_date(in->now, amz_date);

    enum s3dlio_rc rc = amz_date[0] ? S3DLIO_OK : S3DLIO_E_USAGE;
    if (!rc)
        rc = s3dlio_sigv4_canonical_request(&creq, &signed_hdrs, in);
    if (!rc)
        rc = s3dlio_sigv4_string_to_sign(&sts, in, s3dlio_buf_str(&creq));
    if (!rc)
        rc = signature_hex(in, amz_date, s3dlio_buf_str(&sts), sig);
    if (!rc)
        rc = add_authorization(auth, in, amz_date, s3dlio_buf_str(&signed_hdrs), sig);
    s3dlio_buf_release(&creq);
    s3dlio_buf_release(&signed_hdrs);
    s3dlio_buf_release(&sts);
    return rc;
}
