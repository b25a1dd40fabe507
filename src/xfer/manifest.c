/* SPDX-License-Identifier: Apache-2.0 */
/* Checkpoint manifests: written with json-c, parsed and checked as untrusted (manifest.h). */
#include "s3dlio/manifest.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "s3dlio/xfer.h"
#include "util/alloc.h"

#define KEY_MAX 1024
#define PATH_TEXT_MAX 4096

size_t s3dlio_manifest_nparts(uint64_t size, uint64_t part_size)
{
    if (!size || !part_size)
        return 0;
    return (size_t)((size - 1) / part_size + 1);
}

static enum s3dlio_rc bad(struct s3dlio_error *err, const char *field, const char *fmt, const char *v)
{
    return s3dlio_error_set(err, S3DLIO_E_PARSE, "manifest", field, fmt, v ? v : "");
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* A checkpoint name: one path component, printable. */
static enum s3dlio_rc check_name(const char *name, struct s3dlio_error *err)
{
    if (!name[0] || !strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/') ||
        has_control(name))
        return bad(err, "name", "'%s' is not a checkpoint name (one path component, printable)",
                   name);
    return S3DLIO_OK;
}

/*
 * A path the restore will create below its root: relative, no "." or ".." component, no
 * empty one, printable. Anything else could write outside the directory the user named.
 */
static bool safe_path(const char *p)
{
    if (!p[0] || p[0] == '/' || strlen(p) > PATH_TEXT_MAX || has_control(p))
        return false;
    for (const char *c = p; *c;) {
        const char *end = strchr(c, '/');
        size_t n = end ? (size_t)(end - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        c += n + (end ? 1 : 0);
        if (end && !*c)
            return false; /* a trailing '/' names a directory, not a file */
    }
    return true;
}

static int cmp_paths(const void *a, const void *b)
{
    return strcmp(**(char **const *)a, **(char **const *)b);
}

/* No path twice, and none that another uses as its directory ("a" and "a/b"). */
static enum s3dlio_rc check_unique(const struct s3dlio_ckpt_manifest *m, struct s3dlio_error *err)
{
    char ***v = s3dlio_xcalloc(m->nfiles ? m->nfiles : 1, sizeof(*v));
    enum s3dlio_rc rc = S3DLIO_OK;
    for (size_t i = 0; i < m->nfiles; i++)
        v[i] = &m->files[i].path;
    qsort(v, m->nfiles, sizeof(*v), cmp_paths);
    for (size_t i = 1; i < m->nfiles && !rc; i++) {
        const char *a = *v[i - 1], *b = *v[i];
        size_t n = strlen(a);
        if (!strcmp(a, b))
            rc = bad(err, "files", "path '%s' appears twice", a);
        else if (!strncmp(a, b, n) && b[n] == '/')
            rc = bad(err, "files", "path '%s' is both a file and the directory of another", a);
    }
    free(v);
    return rc;
}

static enum s3dlio_rc check_file(const struct s3dlio_ckpt_file *f, size_t i,
                                 struct s3dlio_error *err)
{
    char field[48];
    snprintf(field, sizeof(field), "files[%zu]", i);
    if (!f->path || !safe_path(f->path))
        return bad(err, field, "path '%s' could leave the restore directory (relative, no '.', "
                   "'..' or empty components, printable)", f->path);
    if (!f->key || !f->key[0] || strlen(f->key) > KEY_MAX)
        return bad(err, field, "key of '%s' is empty or longer than 1024 bytes", f->path);
    if (!f->etag[0])
        return bad(err, field, "'%s' has no ETag to pin the restore to", f->path);
    if (f->size > S3DLIO_MAX_OBJECT_SIZE || (f->size && (!f->part_size ||
                                                         f->part_size > S3DLIO_MAX_PART_SIZE)))
        return bad(err, field, "size or part size of '%s' is outside S3's limits", f->path);
    size_t want = s3dlio_manifest_nparts(f->size, f->part_size);
    if (want > S3DLIO_MAX_PARTS || f->nparts != want || (want && !f->crc32c))
        return s3dlio_error_set(err, S3DLIO_E_PARSE, "manifest", field, "'%.256s' lists %zu part "
                                "checksums, its size and part size make %zu", f->path, f->nparts,
                                want);
    return S3DLIO_OK;
}

static enum s3dlio_rc check_manifest(const struct s3dlio_ckpt_manifest *m, struct s3dlio_error *err)
{
    if (m->version != S3DLIO_MANIFEST_VERSION)
        return s3dlio_error_set(err, S3DLIO_E_PARSE, "manifest", "version",
                                "version %d is not one this build reads (%d)", m->version,
                                S3DLIO_MANIFEST_VERSION);
    enum s3dlio_rc rc = check_name(m->name, err);
    if (!rc && m->world_size < 1)
        rc = bad(err, "world_size", "world size must be at least 1%s", NULL);
    for (size_t i = 0; !rc && i < m->nfiles; i++)
        rc = check_file(&m->files[i], i, err);
    return rc ? rc : check_unique(m, err);
}

/* ---- writing ---------------------------------------------------------------------------- */

static struct json_object *jfile(const struct s3dlio_ckpt_file *f)
{
    struct json_object *o = json_object_new_object(), *crc = json_object_new_array();
    char hex[9];
    json_object_object_add(o, "path", json_object_new_string(f->path));
    json_object_object_add(o, "key", json_object_new_string(f->key));
    json_object_object_add(o, "size", json_object_new_uint64(f->size));
    json_object_object_add(o, "part_size", json_object_new_uint64(f->part_size));
    json_object_object_add(o, "etag", json_object_new_string(f->etag));
    for (size_t i = 0; i < f->nparts; i++) {
        snprintf(hex, sizeof(hex), "%08" PRIx32, f->crc32c[i]);
        json_object_array_add(crc, json_object_new_string(hex));
    }
    json_object_object_add(o, "crc32c", crc);
    return o;
}

enum s3dlio_rc s3dlio_manifest_write(const struct s3dlio_ckpt_manifest *m, char **out,
                                     struct s3dlio_error *err)
{
    *out = NULL;
    enum s3dlio_rc rc = check_manifest(m, err);
    if (rc)
        return rc;
    struct json_object *o = json_object_new_object(), *files = json_object_new_array();
    json_object_object_add(o, "format", json_object_new_string(S3DLIO_MANIFEST_FORMAT));
    json_object_object_add(o, "version", json_object_new_int(m->version));
    json_object_object_add(o, "name", json_object_new_string(m->name));
    json_object_object_add(o, "created", json_object_new_string(m->created));
    json_object_object_add(o, "world_size", json_object_new_int(m->world_size));
    for (size_t i = 0; i < m->nfiles; i++)
        json_object_array_add(files, jfile(&m->files[i]));
    json_object_object_add(o, "files", files);
    const char *text = json_object_to_json_string_ext(
        o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (text)
        *out = s3dlio_xstrdup(text);
    else
        rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "manifest", m->name, "JSON output failed");
    json_object_put(o);
    return rc;
}

/* ---- parsing ---------------------------------------------------------------------------- */

/* The member `key` of o as a string without NULs (JSON may carry \u0000), or NULL. */
static const char *get_str(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    const char *s = json_object_get_string(v);
    return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

/* The member `key` of o as a non-negative integer; false if absent or not one. */
static bool get_u64(struct json_object *o, const char *key, uint64_t *out)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return false;
    if (json_object_get_int64(v) < 0)
        return false;
    *out = json_object_get_uint64(v);
    return true;
}

static bool parse_crc(struct json_object *arr, struct s3dlio_ckpt_file *f)
{
    size_t n = json_object_array_length(arr);
    if (n > S3DLIO_MAX_PARTS)
        return false;
    f->crc32c = s3dlio_xcalloc(n ? n : 1, sizeof(*f->crc32c));
    f->nparts = n;
    for (size_t i = 0; i < n; i++) {
        struct json_object *v = json_object_array_get_idx(arr, i);
        const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        char *end = NULL;
        if (strlen(s) != 8 || strspn(s, "0123456789abcdefABCDEF") != 8)
            return false;
        f->crc32c[i] = (uint32_t)strtoul(s, &end, 16);
    }
    return true;
}

static enum s3dlio_rc parse_file(struct json_object *o, size_t i, struct s3dlio_ckpt_file *f,
                                 struct s3dlio_error *err)
{
    char field[48];
    struct json_object *crc;
    snprintf(field, sizeof(field), "files[%zu]", i);
    const char *path = json_object_is_type(o, json_type_object) ? get_str(o, "path") : NULL;
    const char *key = path ? get_str(o, "key") : NULL, *etag = key ? get_str(o, "etag") : NULL;
    if (!path || !key || !etag || strlen(etag) >= sizeof(f->etag))
        return bad(err, field, "needs the strings path, key and etag%s", NULL);
    f->path = s3dlio_xstrdup(path);
    f->key = s3dlio_xstrdup(key);
    snprintf(f->etag, sizeof(f->etag), "%s", etag);
    if (!get_u64(o, "size", &f->size) || !get_u64(o, "part_size", &f->part_size))
        return bad(err, field, "'%s' needs the integers size and part_size", path);
    if (!json_object_object_get_ex(o, "crc32c", &crc) || !json_object_is_type(crc, json_type_array) ||
        !parse_crc(crc, f))
        return bad(err, field, "'%s' needs crc32c: an array of 8-digit hex strings", path);
    return S3DLIO_OK;
}

static enum s3dlio_rc parse_top(struct json_object *o, struct s3dlio_ckpt_manifest *m,
                                struct s3dlio_error *err)
{
    const char *format = get_str(o, "format"), *name = get_str(o, "name");
    const char *created = get_str(o, "created");
    uint64_t version = 0, world = 0;
    struct json_object *files;
    if (!format || strcmp(format, S3DLIO_MANIFEST_FORMAT))
        return bad(err, "format", "not a checkpoint manifest (format '%s')", format);
    if (!get_u64(o, "version", &version) || version > 1000000)
        return bad(err, "version", "needs an integer version%s", NULL);
    m->version = (int)version;
    if (!name || strlen(name) >= sizeof(m->name) || !created || strlen(created) >= sizeof(m->created))
        return bad(err, "name", "needs the strings name and created%s", NULL);
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->created, sizeof(m->created), "%s", created);
    if (!get_u64(o, "world_size", &world) || world > 100000000)
        return bad(err, "world_size", "needs an integer world_size%s", NULL);
    m->world_size = (int)world;
    if (!json_object_object_get_ex(o, "files", &files) || !json_object_is_type(files, json_type_array))
        return bad(err, "files", "needs an array of files%s", NULL);
    size_t n = json_object_array_length(files);
    m->files = s3dlio_xcalloc(n ? n : 1, sizeof(*m->files));
    for (size_t i = 0; i < n; i++) {
        m->nfiles = i + 1; /* released up to here on failure */
        enum s3dlio_rc rc = parse_file(json_object_array_get_idx(files, i), i, &m->files[i], err);
        if (rc)
            return rc;
    }
    m->nfiles = n;
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_manifest_parse(const char *text, size_t len, struct s3dlio_ckpt_manifest *m,
                                     struct s3dlio_error *err)
{
    memset(m, 0, sizeof(*m));
    if (len > (size_t)INT32_MAX)
        return bad(err, "manifest.json", "larger than 2 GiB%s", NULL);
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    size_t end = o ? json_tokener_get_parse_end(tok) : 0;
    json_tokener_free(tok);
    while (o && end < len && strchr(" \t\r\n", text[end]))
        end++;
    enum s3dlio_rc rc;
    if (!o || end != len || !json_object_is_type(o, json_type_object))
        rc = bad(err, "manifest.json", "is not one JSON object%s", NULL);
    else
        rc = parse_top(o, m, err);
    if (!rc)
        rc = check_manifest(m, err);
    json_object_put(o);
    if (rc)
        s3dlio_manifest_release(m);
    return rc;
}

void s3dlio_manifest_release(struct s3dlio_ckpt_manifest *m)
{
    for (size_t i = 0; i < m->nfiles; i++) {
        free(m->files[i].path);
        free(m->files[i].key);
        free(m->files[i].crc32c);
    }
    free(m->files);
    memset(m, 0, sizeof(*m));
}
