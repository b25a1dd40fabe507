/* SPDX-License-Identifier: Apache-2.0 */
/* Values every JSON report writes the same way (report, bench sync, bench lifecycle). */
#ifndef S3DLIO_STATS_JSON_UTIL_H
#define S3DLIO_STATS_JSON_UTIL_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include "s3dlio/error.h"

/*
 * A number with a fixed count of decimals (json-c would print 17 significant digits). NaN and
 * infinity have no JSON form: they become null, which the schemas allow only where a rate or
 * ratio can be unmeasurable, so a division gone wrong anywhere else fails the schema test.
 */
struct json_object *s3dlio_json_num(double d, int decimals);

/*
 * Text as a JSON string. json-c copies bytes as they are, so a file name that is not UTF-8
 * (file:// keys can be any bytes) would make the whole report unreadable to a strict parser:
 * each byte that does not belong to valid UTF-8 becomes U+FFFD instead. len bounds the text
 * (a fixed field the sender may not have terminated); SIZE_MAX means up to its NUL.
 */
struct json_object *s3dlio_json_text(const char *s, size_t len);

/*
 * A key: "key" as s3dlio_json_text gives it and, only when that was not the key's exact bytes,
 * "key_hex" with every byte as two hex digits, so a failed key can always be found again.
 */
void s3dlio_json_add_key(struct json_object *o, const char *key);

/* o as indented text and a newline to out, flushed; o is released either way. */
enum s3dlio_rc s3dlio_json_write(struct json_object *o, FILE *out);

#endif
