/* SPDX-License-Identifier: Apache-2.0 */
#include "stats/json_util.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct json_object *s3dlio_json_num(double d, int decimals)
{
    char text[64];
    if (!isfinite(d))
        return NULL;
    snprintf(text, sizeof(text), "%.*f", decimals, d);
    return json_object_new_double_s(d, text);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if it is not one (RFC 3629). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t min, cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, min = 0x80, cp = s[0] & 0x1f;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3, min = 0x800, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, min = 0x10000, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    /* overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8 */
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return len;
}

static bool utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0, k; i < n; i += k)
        if (!(k = utf8_seq((const unsigned char *)s + i, n - i)))
            return false;
    return true;
}

struct json_object *s3dlio_json_text(const char *s, size_t len)
{
    static const char replacement[] = "\xef\xbf\xbd";
    size_t n = len == SIZE_MAX ? strlen(s) : strnlen(s, len);
    if (utf8_valid(s, n))
        return json_object_new_string_len(s, (int)n);
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0, k; i < n; i += k) {
        if ((k = utf8_seq((const unsigned char *)s + i, n - i))) {
            memcpy(out + o, s + i, k);
            o += k;
        } else {
            memcpy(out + o, replacement, 3);
            o += 3;
            k = 1;
        }
    }
    struct json_object *j = json_object_new_string_len(out, (int)o);
    free(out);
    return j;
}

void s3dlio_json_add_key(struct json_object *o, const char *key)
{
    size_t n = strlen(key);
    json_object_object_add(o, "key", s3dlio_json_text(key, n));
    if (utf8_valid(key, n))
        return;
    char *hex = malloc(n * 2 + 1);
    if (!hex)
        return;
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)key[i]);
    json_object_object_add(o, "key_hex", json_object_new_string_len(hex, (int)(n * 2)));
    free(hex);
}

enum s3dlio_rc s3dlio_json_write(struct json_object *o, FILE *out)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    const char *text = json_object_to_json_string_ext(
        o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!text)
        rc = S3DLIO_E_INTERNAL;
    else if (fputs(text, out) == EOF || fputc('\n', out) == EOF || fflush(out) == EOF)
        rc = S3DLIO_E_IO;
    json_object_put(o);
    return rc;
}
