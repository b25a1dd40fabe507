/* SPDX-License-Identifier: Apache-2.0 */
/*
 * checkpoint list, delete and --keep-last: what is under a prefix, read from the manifests
 * and the latest pointer. The latest checkpoint is never deleted; a deletion removes the
 * manifest first, so a checkpoint interrupted while being deleted shows as incomplete and
 * is never restored with files missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ckpt/ckpt_int.h"
#include "util/alloc.h"

static enum s3dlio_rc open_place(const struct s3dlio_config *cfg, const char *uri, const char *op,
                                 struct ckpt_place *p, struct s3dlio_backend **be,
                                 struct s3dlio_error *err)
{
    enum s3dlio_rc rc = ckpt_place_parse(uri, op, p, err);
    if (!rc)
        rc = s3dlio_backend_new(&p->uri, cfg, be, err);
    return rc;
}

/* name's manifest read into info (complete), or what is stored under it (incomplete). */
static enum s3dlio_rc describe(struct s3dlio_backend *be, const struct ckpt_place *p,
                               struct s3dlio_ckpt_info *info, struct s3dlio_error *err)
{
    char *text = NULL;
    size_t len = 0;
    struct s3dlio_error merr = {0};
    enum s3dlio_rc rc = ckpt_fetch_manifest(be, p, info->name, &text, &len, &merr);
    if (!rc) {
        struct s3dlio_ckpt_manifest m;
        rc = s3dlio_manifest_parse(text, len, &m, err);
        free(text);
        if (rc)
            return rc;
        info->complete = true;
        info->files = m.nfiles;
        info->world_size = m.world_size;
        snprintf(info->created, sizeof(info->created), "%s", m.created);
        for (size_t i = 0; i < m.nfiles; i++)
            info->bytes += m.files[i].size;
        s3dlio_manifest_release(&m);
        return S3DLIO_OK;
    }
    if (rc != S3DLIO_E_NOT_FOUND) {
        *err = merr;
        return rc;
    }
    struct s3dlio_objlist objs = {0};
    rc = ckpt_list_objects(be, p, info->name, &objs, err);
    for (size_t i = 0; !rc && i < objs.n; i++)
        info->bytes += objs.items[i].size;
    info->files = objs.n;
    s3dlio_objlist_release(&objs);
    return rc;
}

static enum s3dlio_rc list_at(struct s3dlio_backend *be, const struct ckpt_place *p,
                              struct s3dlio_ckpt_info **out, size_t *n,
                              char latest[S3DLIO_CKPT_NAME_MAX + 1], struct s3dlio_error *err)
{
    struct s3dlio_objlist top = {0};
    *out = NULL;
    *n = 0;
    enum s3dlio_rc rc = ckpt_read_latest(be, p, latest, err);
    if (!rc)
        rc = s3dlio_backend_list_all(be, p->prefix, "/", 1000, &top, err);
    struct s3dlio_ckpt_info *all = s3dlio_xcalloc(top.nprefixes ? top.nprefixes : 1, sizeof(*all));
    size_t count = 0;
    size_t plen = strlen(p->prefix);
    for (size_t i = 0; !rc && i < top.nprefixes; i++) {
        const char *name = top.prefixes[i] + plen; /* "NAME/" */
        size_t len = strlen(name);
        if (len < 2 || len - 1 > S3DLIO_CKPT_NAME_MAX)
            continue;
        struct s3dlio_ckpt_info *c = &all[count];
        memcpy(c->name, name, len - 1);
        c->name[len - 1] = '\0';
        if (s3dlio_ckpt_name_problem(c->name)) {
            memset(c, 0, sizeof(*c));
            continue;
        }
        c->latest = !strcmp(c->name, latest);
        rc = describe(be, p, c, err);
        count++;
    }
    s3dlio_objlist_release(&top);
    if (rc) {
        free(all);
        return rc;
    }
    *out = all;
    *n = count;
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_ckpt_list(const struct s3dlio_config *cfg, const char *uri,
                                struct s3dlio_ckpt_info **out, size_t *n,
                                char latest_name[S3DLIO_CKPT_NAME_MAX + 1],
                                struct s3dlio_error *err)
{
    struct ckpt_place p;
    struct s3dlio_backend *be = NULL;
    enum s3dlio_rc rc = open_place(cfg, uri, "checkpoint list", &p, &be, err);
    if (!rc)
        rc = list_at(be, &p, out, n, latest_name, err);
    s3dlio_backend_free(be);
    ckpt_place_release(&p);
    return rc;
}

/* Delete one checkpoint: the manifest first, then its files. */
static enum s3dlio_rc delete_at(struct s3dlio_backend *be, const struct ckpt_place *p,
                                const char *name, struct s3dlio_error *err)
{
    char *manifest = ckpt_key(p, name, "manifest.json");
    enum s3dlio_rc rc = s3dlio_backend_remove(be, manifest, err);
    if (rc == S3DLIO_E_NOT_FOUND)
        rc = S3DLIO_OK; /* already incomplete */
    free(manifest);
    struct s3dlio_objlist objs = {0};
    if (!rc)
        rc = ckpt_list_objects(be, p, name, &objs, err);
    const char **keys = s3dlio_xcalloc(objs.n ? objs.n : 1, sizeof(*keys));
    for (size_t i = 0; i < objs.n; i++)
        keys[i] = objs.items[i].key;
    size_t failed = 0;
    if (!rc && objs.n)
        rc = s3dlio_backend_remove_many(be, keys, objs.n, &failed, err);
    free(keys);
    s3dlio_objlist_release(&objs);
    return rc;
}

enum s3dlio_rc s3dlio_ckpt_delete(const struct s3dlio_config *cfg, const char *uri,
                                  const char *name, struct s3dlio_error *err)
{
    struct ckpt_place p;
    struct s3dlio_backend *be = NULL;
    char latest[S3DLIO_CKPT_NAME_MAX + 1], where[1400];
    enum s3dlio_rc rc = ckpt_check_name(name, "checkpoint delete", err);
    if (!rc)
        rc = open_place(cfg, uri, "checkpoint delete", &p, &be, err);
    else
        memset(&p, 0, sizeof(p));
    if (!rc)
        rc = ckpt_read_latest(be, &p, latest, err);
    if (!rc) {
        ckpt_uri_of(&p, name, where, sizeof(where));
        struct s3dlio_objlist objs = {0};
        rc = ckpt_list_objects(be, &p, name, &objs, err);
        if (!rc && !strcmp(latest, name))
            rc = s3dlio_error_set(err, S3DLIO_E_USAGE, "checkpoint delete", where,
                                  "it is the latest checkpoint; save a newer one first");
        else if (!rc && !objs.n)
            rc = s3dlio_error_set(err, S3DLIO_E_NOT_FOUND, "checkpoint delete", where,
                                  "no such checkpoint (see 'checkpoint list')");
        s3dlio_objlist_release(&objs);
    }
    if (!rc)
        rc = delete_at(be, &p, name, err);
    s3dlio_backend_free(be);
    ckpt_place_release(&p);
    return rc;
}

/* Newest first: by creation time (ISO 8601 sorts as text), then by name. */
static int newest_first(const void *a, const void *b)
{
    const struct s3dlio_ckpt_info *x = a, *y = b;
    int c = strcmp(y->created, x->created);
    return c ? c : strcmp(y->name, x->name);
}

enum s3dlio_rc s3dlio_ckpt_prune(const struct s3dlio_config *cfg, const char *uri, int keep,
                                 size_t *deleted, struct s3dlio_error *err)
{
    struct ckpt_place p;
    struct s3dlio_backend *be = NULL;
    struct s3dlio_ckpt_info *all = NULL;
    size_t n = 0;
    char latest[S3DLIO_CKPT_NAME_MAX + 1];
    *deleted = 0;
    if (keep < 1)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "checkpoint", uri,
                                "--keep-last must be at least 1");
    enum s3dlio_rc rc = open_place(cfg, uri, "checkpoint prune", &p, &be, err);
    if (!rc)
        rc = list_at(be, &p, &all, &n, latest, err);
    if (!rc)
        qsort(all, n, sizeof(*all), newest_first);
    int kept = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        if (!all[i].complete)
            continue;
        if (kept < keep || all[i].latest) {
            kept++;
            continue;
        }
        rc = delete_at(be, &p, all[i].name, err);
        *deleted += !rc;
    }
    free(all);
    s3dlio_backend_free(be);
    ckpt_place_release(&p);
    return rc;
}
