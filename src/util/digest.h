/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 and MD5, one-shot and streaming (OpenSSL EVP underneath). */
#ifndef S3DLIO_UTIL_DIGEST_H
#define S3DLIO_UTIL_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

/* Lower-case hex of n bytes into out[2n + 1]. */
void s3dlio_hex_encode(const unsigned char *p, size_t n, char *out);
/* The first 2n characters of hex (either case) into out[n]; false if one is not a hex digit. */
bool s3dlio_hex_decode(const char *hex, unsigned char *out, size_t n);

/* Lower-case hex SHA-256 of data into out[65]. */
void s3dlio_sha256_hex(const void *data, size_t len, char out[65]);

/* Streaming SHA-256 for bodies hashed while they are read (no second pass). */
struct s3dlio_sha256 {
    void *md_ctx; /* EVP_MD_CTX */
};
void s3dlio_sha256_init(struct s3dlio_sha256 *h);
void s3dlio_sha256_update(struct s3dlio_sha256 *h, const void *data, size_t len);
void s3dlio_sha256_final_hex(struct s3dlio_sha256 *h, char out[65]); /* also releases */

/* Free a hash abandoned before final (NULL-safe, idempotent). */
void s3dlio_sha256_release(struct s3dlio_sha256 *h);

/* Streaming MD5 (Content-MD5 of PUTs, ETag checks of GETs). */
struct s3dlio_md5 {
    void *md_ctx; /* EVP_MD_CTX; NULL after a failure or release */
};
void s3dlio_md5_init(struct s3dlio_md5 *h);
void s3dlio_md5_update(struct s3dlio_md5 *h, const void *data, size_t len);
/* Lower-case hex into hex[33] and base64 into b64[25] ("" on failure); also releases. */
void s3dlio_md5_final(struct s3dlio_md5 *h, char hex[33], char b64[25]);
void s3dlio_md5_release(struct s3dlio_md5 *h);

/* Base64 of the MD5 of data into out[25] (Content-MD5). */
void s3dlio_md5_base64(const void *data, size_t len, char out[25]);

/* The 16 raw bytes (composite ETags are an MD5 over part MD5s); *ok false on failure. */
void s3dlio_md5_final_raw(struct s3dlio_md5 *h, unsigned char out[16], bool *ok);

/*
 * h has hashed the raw MD5s of nparts parts in order: S3's ETag of that multipart upload,
 * "<hex MD5>-<nparts>", into out[48] ("" on failure); also releases.
 */
void s3dlio_md5_final_composite(struct s3dlio_md5 *h, size_t nparts, char out[48]);

#endif
