/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Digests of object data and requests (SHA-256, MD5) over OpenSSL 3 EVP. Apart from SigV4 so
 * the transfer engine can hash bodies (Content-MD5, --verify, payload hashes) without the
 * signing code.
 */
#include "util/digest.h"

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

void s3dlio_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    /* "" on failure: it can never equal a real digest, so a comparison fails safely. */
    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32) {
        out[0] = '\0';
        return;
    }
    s3dlio_hex_encode(md, 32, out);
}

void s3dlio_sha256_init(struct s3dlio_sha256 *h)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    /* NULL marks a failed hash: updates are skipped and final yields "". */
    h->md_ctx = ctx;
}

void s3dlio_sha256_update(struct s3dlio_sha256 *h, const void *data, size_t len)
{
    if (h->md_ctx && !EVP_DigestUpdate(h->md_ctx, data, len)) {
        EVP_MD_CTX_free(h->md_ctx);
        h->md_ctx = NULL;
    }
}

void s3dlio_sha256_final_hex(struct s3dlio_sha256 *h, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = '\0';
    if (h->md_ctx && EVP_DigestFinal_ex(h->md_ctx, md, &n) && n == 32)
        s3dlio_hex_encode(md, 32, out);
    EVP_MD_CTX_free(h->md_ctx);
    h->md_ctx = NULL;
}

void s3dlio_md5_base64(const void *data, size_t len, char out[25])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    /* MD5 may be unavailable (FIPS provider): "" then, and the caller can skip Content-MD5. */
    if (!EVP_Digest(data, len, md, &n, EVP_md5(), NULL) || n != 16) {
        out[0] = '\0';
        return;
    }
    EVP_EncodeBlock((unsigned char *)out, md, 16); /* 16 bytes -> 24 chars + NUL */
}

void s3dlio_md5_init(struct s3dlio_md5 *h)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && !EVP_DigestInit_ex(ctx, EVP_md5(), NULL)) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    h->md_ctx = ctx;
}

void s3dlio_md5_update(struct s3dlio_md5 *h, const void *data, size_t len)
{
    if (h->md_ctx && !EVP_DigestUpdate(h->md_ctx, data, len)) {
        EVP_MD_CTX_free(h->md_ctx);
        h->md_ctx = NULL;
    }
}

void s3dlio_md5_final(struct s3dlio_md5 *h, char hex[33], char b64[25])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    hex[0] = b64[0] = '\0';
    if (h->md_ctx && EVP_DigestFinal_ex(h->md_ctx, md, &n) && n == 16) {
        s3dlio_hex_encode(md, 16, hex);
        EVP_EncodeBlock((unsigned char *)b64, md, 16);
    }
    s3dlio_md5_release(h);
}

void s3dlio_md5_release(struct s3dlio_md5 *h)
{
    EVP_MD_CTX_free(h->md_ctx);
    h->md_ctx = NULL;
}

void s3dlio_sha256_release(struct s3dlio_sha256 *h)
{
    EVP_MD_CTX_free(h->md_ctx);
    h->md_ctx = NULL;
}

void s3dlio_md5_final_raw(struct s3dlio_md5 *h, unsigned char out[16], bool *ok)
{
    unsigned int n = 0;
    unsigned char md[EVP_MAX_MD_SIZE];
    *ok = h->md_ctx && EVP_DigestFinal_ex(h->md_ctx, md, &n) && n == 16;
    if (*ok)
        memcpy(out, md, 16);
    s3dlio_md5_release(h);
}
