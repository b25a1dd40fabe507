/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of user-given URIs (s3://bucket/key, file:///abs/path). */
#include "s3dlio/uri.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

/*
 * S3 bucket rules (length 3-63, lower-case letters, digits, '.', '-', starting and ending
 * with a letter or digit). Underscores and upper case are allowed by some non-AWS servers
 * for legacy buckets, so we only reject what can never be a valid host or path segment.
 */
static const char *bucket_problem(const char *b, size_t n)
{
    if (n == 0)
        return "missing bucket name";
    if (n < 3 || n > 63)
        return "bucket name must be 3 to 63 characters";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (!(isalnum(c) || c == '.' || c == '-' || c == '_'))
            return "bucket name may only hold letters, digits, '.', '-' and '_'";
    }
    if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
        return "bucket name must start and end with a letter or digit";
    return NULL;
}

static enum s3dlio_rc parse_s3(struct s3dlio_uri *uri, const char *rest, const char *text,
                               struct s3dlio_error *err)
{
    const char *slash = strchr(rest, '/');
    size_t blen = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *why = bucket_problem(rest, blen);
    if (why)
        return s3dlio_error_set(err, S3DLIO_E_URI, "parse", text, "%s", why);
    memcpy(uri->bucket, rest, blen);
    uri->bucket[blen] = '\0';
    uri->key = s3dlio_xstrdup(slash ? slash + 1 : "");
    return S3DLIO_OK;
}

static enum s3dlio_rc parse_file(struct s3dlio_uri *uri, const char *rest, const char *text,
                                 struct s3dlio_error *err)
{
    /* file:///abs/path has an empty authority; file://localhost/abs is also accepted */
    if (!strncmp(rest, "localhost/", 10))
        rest += 9;
    if (rest[0] != '/')
        return s3dlio_error_set(err, S3DLIO_E_URI, "parse", text,
                                "file URI needs an absolute path (file:///dir/...)");
    while (rest[0] == '/')
        rest++;
    uri->key = s3dlio_xstrdup(rest);
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_uri_parse(struct s3dlio_uri *uri, const char *text, struct s3dlio_error *err)
{
    memset(uri, 0, sizeof(*uri));
    const char *sep = text ? strstr(text, "://") : NULL;
    if (!sep)
        return s3dlio_error_set(err, S3DLIO_E_URI, "parse", text ? text : "",
                                "not a URI (expected s3://bucket/key or file:///path)");
    size_t slen = (size_t)(sep - text);
    if (slen == 2 && !strncmp(text, "s3", 2)) {
        memcpy(uri->scheme, "s3", 3);
        return parse_s3(uri, sep + 3, text, err);
    }
    if (slen == 4 && !strncmp(text, "file", 4)) {
        memcpy(uri->scheme, "file", 5);
        return parse_file(uri, sep + 3, text, err);
    }
    return s3dlio_error_set(err, S3DLIO_E_URI, "parse", text,
                            "unknown scheme '%.*s' (supported: s3, file)", (int)(slen > 32 ? 32 : slen),
                            text);
}

void s3dlio_uri_release(struct s3dlio_uri *uri)
{
    if (!uri)
        return;
    free(uri->key);
    uri->key = NULL;
}

bool s3dlio_uri_is_prefix(const struct s3dlio_uri *uri)
{
    size_t n = uri->key ? strlen(uri->key) : 0;
    return n == 0 || uri->key[n - 1] == '/';
}

char *s3dlio_uri_join(const struct s3dlio_uri *base, const char *key, char *out, size_t outlen)
{
    if (!strcmp(base->scheme, "file"))
        snprintf(out, outlen, "file:///%s", key);
    else
        snprintf(out, outlen, "%s://%s/%s", base->scheme, base->bucket, key);
    return out;
}
