/* SPDX-License-Identifier: Apache-2.0 */
/* The S3 operations, each one synchronous call (object data goes through s3_client calls). */
#ifndef S3DLIO_S3_OPS_H
#define S3DLIO_S3_OPS_H

#include "s3/s3_client.h"

/* One page; stop as s3dlio_s3_call's (NULL: none). */
enum s3dlio_rc s3dlio_s3_list_v2(struct s3dlio_s3_client *c, const char *bucket,
                                 const struct s3dlio_list_req *req, const volatile sig_atomic_t *stop,
                                 struct s3dlio_list_page *page, struct s3dlio_error *err);
enum s3dlio_rc s3dlio_s3_head_object(struct s3dlio_s3_client *c, const char *bucket, const char *key,
                                     struct s3dlio_stat *out, struct s3dlio_error *err);
enum s3dlio_rc s3dlio_s3_delete_object(struct s3dlio_s3_client *c, const char *bucket,
                                       const char *key, struct s3dlio_error *err);
/* DeleteObjects of up to 1000 keys; per-key failures into errs[i], counted in *nfailed. */
enum s3dlio_rc s3dlio_s3_delete_objects(struct s3dlio_s3_client *c, const char *bucket,
                                        const char *const *keys, size_t n, struct s3dlio_error *errs,
                                        size_t *nfailed, struct s3dlio_error *err);
enum s3dlio_rc s3dlio_s3_bucket_create(struct s3dlio_s3_client *c, const char *bucket,
                                       const char *region, struct s3dlio_error *err);
enum s3dlio_rc s3dlio_s3_bucket_delete(struct s3dlio_s3_client *c, const char *bucket,
                                       struct s3dlio_error *err);
enum s3dlio_rc s3dlio_s3_bucket_head(struct s3dlio_s3_client *c, const char *bucket,
                                     struct s3dlio_error *err);

/*
 * The control operations the transfer engine runs asynchronously, split in two halves:
 * prepare fills a zeroed call (and, for Complete, its XML body, which must outlive the
 * call); parse reads the finished call's response (be_s3.c runs them in between). HEAD
 * has a synchronous form above, for `stat`.
 */
void s3dlio_s3_prepare_head(struct s3dlio_s3_call *call, const char *bucket, const char *key,
                            const char *part_number);
void s3dlio_s3_prepare_mpu_create(struct s3dlio_s3_call *call, const char *bucket, const char *key,
                                  const char *meta_part_size);
enum s3dlio_rc s3dlio_s3_parse_mpu_create(struct s3dlio_s3_call *call, char **upload_id,
                                          struct s3dlio_error *err);
enum s3dlio_rc s3dlio_s3_prepare_mpu_complete(struct s3dlio_s3_call *call, const char *bucket,
                                              const char *key, const char *upload_id,
                                              const struct s3dlio_part *parts, size_t nparts,
                                              struct s3dlio_buf *body, struct s3dlio_error *err);
enum s3dlio_rc s3dlio_s3_parse_mpu_complete(struct s3dlio_s3_call *call, char etag[80],
                                            struct s3dlio_error *err);
/*
 * CopyObject (upload_id NULL) or UploadPartCopy of the source named by copy_source, the
 * x-amz-copy-source value already encoded ("/bucket/key"); range "bytes=a-b" for a part,
 * if_match a quoted ETag or NULL. The strings must outlive the call.
 */
void s3dlio_s3_prepare_copy(struct s3dlio_s3_call *call, const char *bucket, const char *key,
                            const char *copy_source, const char *if_match, const char *range,
                            const char *part_number, const char *upload_id);
/* The copy's answer: the new object's (or part's) ETag; an <Error> in a 200 fails it. */
enum s3dlio_rc s3dlio_s3_parse_copy(struct s3dlio_s3_call *call, bool part, char etag[80],
                                    struct s3dlio_error *err);
void s3dlio_s3_prepare_mpu_abort(struct s3dlio_s3_call *call, const char *bucket, const char *key,
                                 const char *upload_id);

#endif
