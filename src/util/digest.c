/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Digests of object data and requests (SHA-256, MD5) over OpenSSL 3 EVP. Apart from SigV4 so
 * the transfer engine can hash bodies (Content-MD5, --verify, payload hashes) without the
 * signing code.
 */
#include "util/digest.h"

#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>

static const char hexdigits[] = "0123456789abcdef";

void s3dlio_hex_encode(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdigits[p[i] >> 4];
        out[2 * i + 1] = hexdigits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool s3dlio_hex_decode(const char *hex, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(hex[2 * i]), lo = hi < 0 ? -1 : hex_value(hex[2 * i + 1]);
        if (lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

/* ---- streaming contexts: NULL marks a failed hash (updates skipped, final gives "") ---- */

static void *ctx_new(const EVP_MD *md)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && !EVP_DigestInit_ex(ctx, md, NULL)) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static void ctx_free(void **ctx)
{
    EVP_MD_CTX_free(*ctx);
    *ctx = NULL;
}

static void ctx_update(void **ctx, const void *data, size_t len)
{
    if (*ctx && !EVP_DigestUpdate(*ctx, data, len))
        ctx_free(ctx);
}

/* The digest of want bytes into out, then free; false on failure. */
static bool ctx_final(void **ctx, unsigned char *out, unsigned int want)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    bool ok = *ctx && EVP_DigestFinal_ex(*ctx, md, &n) && n == want;
    if (ok)
        memcpy(out, md, want);
    ctx_free(ctx);
    return ok;
}

/* ---- SHA-256 ---- */

void s3dlio_sha256_init(struct s3dlio_sha256 *h)
{
    h->md_ctx = ctx_new(EVP_sha256());
}

void s3dlio_sha256_update(struct s3dlio_sha256 *h, const void *data, size_t len)
{
    ctx_update(&h->md_ctx, data, len);
}

void s3dlio_sha256_final_hex(struct s3dlio_sha256 *h, char out[65])
{
    unsigned char md[32];
    out[0] = '\0';
    if (ctx_final(&h->md_ctx, md, 32))
        s3dlio_hex_encode(md, 32, out);
}

void s3dlio_sha256_release(struct s3dlio_sha256 *h)
{
    ctx_free(&h->md_ctx);
}

/* "" on failure: it can never equal a real digest, so a comparison fails safely. */
void s3dlio_sha256_hex(const void *data, size_t len, char out[65])
{
    struct s3dlio_sha256 h;
    s3dlio_sha256_init(&h);
    s3dlio_sha256_update(&h, data, len);
    s3dlio_sha256_final_hex(&h, out);
}

/* ---- MD5 ---- */

void s3dlio_md5_init(struct s3dlio_md5 *h)
{
    h->md_ctx = ctx_new(EVP_md5());
}

void s3dlio_md5_update(struct s3dlio_md5 *h, const void *data, size_t len)
{
    ctx_update(&h->md_ctx, data, len);
}

void s3dlio_md5_final_raw(struct s3dlio_md5 *h, unsigned char out[16], bool *ok)
{
    *ok = ctx_final(&h->md_ctx, out, 16);
}

void s3dlio_md5_final(struct s3dlio_md5 *h, char hex[33], char b64[25])
{
    unsigned char md[16];
    bool ok;
    hex[0] = b64[0] = '\0';
    s3dlio_md5_final_raw(h, md, &ok);
    if (ok) {
        s3dlio_hex_encode(md, 16, hex);
        EVP_EncodeBlock((unsigned char *)b64, md, 16);
    }
}

void s3dlio_md5_final_composite(struct s3dlio_md5 *h, size_t nparts, char out[48])
{
    unsigned char md[16];
    bool ok;
    out[0] = '\0';
    s3dlio_md5_final_raw(h, md, &ok);
    if (!ok)
        return;
    s3dlio_hex_encode(md, 16, out);
    snprintf(out + 32, 16, "-%zu", nparts);
}

void s3dlio_md5_release(struct s3dlio_md5 *h)
{
    ctx_free(&h->md_ctx);
}

/* MD5 may be unavailable (FIPS provider): "" then, and the caller can skip Content-MD5. */
void s3dlio_md5_base64(const void *data, size_t len, char out[25])
{
    struct s3dlio_md5 h;
    char hex[33];
    s3dlio_md5_init(&h);
    s3dlio_md5_update(&h, data, len);
    s3dlio_md5_final(&h, hex, out);
}
