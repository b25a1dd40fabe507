/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AWS Signature Version 4 for the Authorization header, split as AWS documents it:
 * canonical request -> string to sign -> signing key -> signature -> header.
 * Pure functions of their inputs (time is an argument), so the published vectors apply.
 */
#ifndef S3DLIO_S3_SIGV4_H
#define S3DLIO_S3_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "s3dlio/error.h"
#include "util/buf.h"
#include "util/digest.h"

#define S3DLIO_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define S3DLIO_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* A name/value pair: an HTTP header or a query parameter, raw (not yet encoded). */
struct s3dlio_kv {
    const char *name;
    const char *value;
};

/*
 * Append AWS UriEncode(s) to out: every byte except A-Z a-z 0-9 - . _ ~ becomes %XX
 * (upper-case hex, UTF-8 bytes one by one); '/' is kept when keep_slash (object key paths)
 * and encoded otherwise (query keys and values).
 */
enum s3dlio_rc s3dlio_uri_encode(struct s3dlio_buf *out, const char *s, bool keep_slash);

/* Inputs of one signature. All strings borrowed. */
struct s3dlio_sigv4_input {
    const char *method;               /* "GET" */
    const char *path;                 /* raw, unencoded absolute path: "/bucket/my key" */
    const struct s3dlio_kv *query;    /* raw pairs; value NULL or "" both sign as "key=" */
    size_t nquery;
    const struct s3dlio_kv *headers;  /* every header to sign, incl. host and x-amz-* */
    size_t nheaders;
    const char *payload_hash;         /* lower-case hex SHA-256 or "UNSIGNED-PAYLOAD" */
    const char *access_key;
    const char *secret_key;
    const char *region;
    const char *service;              /* "s3" */
    time_t now;                       /* signing time (UTC) */
};

/* "20150830T123600Z" for t (UTC) into out[17]. */
void s3dlio_sigv4_amz_date(time_t t, char out[17]);

/* Canonical query string: encoded pairs sorted by key then value, joined by '&'. */
enum s3dlio_rc s3dlio_sigv4_canonical_query(struct s3dlio_buf *out, const struct s3dlio_kv *q,
                                            size_t n);

/*
 * The canonical request, and (signed_headers non-NULL) the SignedHeaders list.
 * Header names are lower-cased, values trimmed with inner runs of spaces folded,
 * duplicates joined with ',' in the order given, sorted by name.
 */
enum s3dlio_rc s3dlio_sigv4_canonical_request(struct s3dlio_buf *out, struct s3dlio_buf *signed_headers,
                                              const struct s3dlio_sigv4_input *in);

/* "AWS4-HMAC-SHA256\n<amzdate>\n<date>/<region>/<service>/aws4_request\n<hex sha256(creq)>" */
enum s3dlio_rc s3dlio_sigv4_string_to_sign(struct s3dlio_buf *out, const struct s3dlio_sigv4_input *in,
                                           const char *canonical_request);

/* kSigning = HMAC chain over date, region, service, "aws4_request". */
void s3dlio_sigv4_signing_key(const char *secret_key, const char *yyyymmdd, const char *region,
                              const char *service, unsigned char key[32]);

/* Full pipeline: writes the Authorization header value into auth (without "Authorization: "). */
enum s3dlio_rc s3dlio_sigv4_authorization(struct s3dlio_buf *auth, const struct s3dlio_sigv4_input *in);

#endif
