/* SPDX-License-Identifier: Apache-2.0 */
/*
 * S3 XML bodies: parsers for the responses we read and builders for the requests we send.
 * Parsers never trust the body: malformed, truncated or unexpected documents give
 * S3DLIO_E_PARSE with a message naming what was missing, never a crash.
 */
#ifndef S3DLIO_S3_XML_H
#define S3DLIO_S3_XML_H

#include <stdbool.h>
#include <stddef.h>
#include "s3dlio/backend.h"
#include "s3dlio/error.h"
#include "util/buf.h"

/*
 * ListObjectsV2 result into page (entries appended to page->list, CommonPrefixes to
 * page->list.prefixes, NextContinuationToken to page->next_token, IsTruncated).
 * With <EncodingType>url</EncodingType> keys and prefixes are percent-decoded.
 * An <Error> document instead gives S3DLIO_E_S3 with the fields filled.
 */
enum s3dlio_rc s3dlio_xml_parse_list_v2(const char *body, size_t len, struct s3dlio_list_page *page,
                                        struct s3dlio_error *err);

/*
 * An <Error> body: fills err->s3_code, err->message, err->request_id (leaves other
 * fields alone; an existing request id from headers is kept when the body has none).
 * Returns S3DLIO_E_PARSE (err untouched but message) if it is not an Error document.
 */
enum s3dlio_rc s3dlio_xml_parse_error(const char *body, size_t len, struct s3dlio_error *err);

/* One <Error> entry of a DeleteResult. */
struct s3dlio_delete_failure {
    char *key;          /* heap */
    char code[64];
    char message[256];
};

/*
 * DeleteResult: the per-key <Error> entries go to *failures (heap array, caller frees each
 * key then the array with s3dlio_delete_failures_free), count in *nfailures.
 * *ndeleted counts the <Deleted> entries (0 in quiet mode).
 */
enum s3dlio_rc s3dlio_xml_parse_delete_result(const char *body, size_t len,
                                              struct s3dlio_delete_failure **failures,
                                              size_t *nfailures, size_t *ndeleted,
                                              struct s3dlio_error *err);
void s3dlio_delete_failures_free(struct s3dlio_delete_failure *f, size_t n);

/* InitiateMultipartUploadResult: *upload_id heap, caller frees. */
enum s3dlio_rc s3dlio_xml_parse_initiate_mpu(const char *body, size_t len, char **upload_id,
                                             struct s3dlio_error *err);

/*
 * CompleteMultipartUploadResult: etag without quotes into etag[80] (may be empty: RGW 16
 * sends an empty ETag). S3 can answer 200 with an <Error> body here; that gives
 * S3DLIO_E_S3 with the error fields filled.
 */
enum s3dlio_rc s3dlio_xml_parse_complete_mpu(const char *body, size_t len, char etag[80],
                                             struct s3dlio_error *err);

/*
 * The answer of a server-side copy: <CopyObjectResult> (CopyObject) or <CopyPartResult>
 * (UploadPartCopy), root named `want`; the new ETag without quotes into etag[80]. A copy may
 * fail after its 200 was sent (S3 documents it): the body is then an <Error>, which gives
 * S3DLIO_E_S3 with the error fields filled.
 */
enum s3dlio_rc s3dlio_xml_parse_copy_result(const char *body, size_t len, const char *want,
                                            char etag[80], struct s3dlio_error *err);

/* Whether s is UTF-8 made only of characters XML 1.0 can carry (its Char production). */
bool s3dlio_xml_can_carry(const char *s);

/* <Delete><Quiet>true</Quiet><Object><Key>..</Key></Object>...</Delete>, keys escaped. */
enum s3dlio_rc s3dlio_xml_build_delete(struct s3dlio_buf *out, const char *const *keys, size_t n,
                                       bool quiet);

/* <CompleteMultipartUpload><Part><PartNumber>n</PartNumber><ETag>"e"</ETag></Part>... */
enum s3dlio_rc s3dlio_xml_build_complete_mpu(struct s3dlio_buf *out, const struct s3dlio_part *parts,
                                             size_t n);

#endif
