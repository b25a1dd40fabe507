/* SPDX-License-Identifier: Apache-2.0 */
/* Job lists of the recursive commands (see plan.h). */
#include "s3dlio/plan.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"
#include "xfer/datagen.h"

void s3dlio_plan_release(struct s3dlio_plan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->nstrings; i++)
        free(plan->strings[i]);
    free(plan->strings);
    s3dlio_xfer_jobs_release(plan->jobs, plan->n);
    free(plan->jobs);
    memset(plan, 0, sizeof(*plan));
}

static char *own(struct s3dlio_plan *plan, char *s)
{
    s3dlio_xgrow((void **)&plan->strings, sizeof(*plan->strings), plan->nstrings + 1,
                 &plan->strings_alloc);
    plan->strings[plan->nstrings++] = s;
    return s;
}

static struct s3dlio_xfer_job *add_job(struct s3dlio_plan *plan, enum s3dlio_xfer_dir dir,
                                       const char *key, uint64_t size)
{
    s3dlio_xgrow((void **)&plan->jobs, sizeof(*plan->jobs), plan->n + 1, &plan->alloc);
    struct s3dlio_xfer_job *j = &plan->jobs[plan->n++];
    memset(j, 0, sizeof(*j));
    j->dir = dir;
    j->key = own(plan, s3dlio_xstrdup(key));
    j->size = size;
    return j;
}

/* Every '/'-separated segment is a plain name: no "", ".", "..". */
static bool safe_relative(const char *rel)
{
    if (!*rel || rel[0] == '/')
        return false;
    for (const char *seg = rel; seg;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        seg = end ? end + 1 : NULL;
    }
    return true;
}

char *s3dlio_plan_dest_path(const char *dest_dir, const char *prefix, const char *key)
{
    /* "data/train/" and "data/tr" both keep what follows "data/" */
    const char *slash = prefix ? strrchr(prefix, '/') : NULL;
    size_t strip = slash ? (size_t)(slash - prefix) + 1 : 0;
    if (strncmp(key, prefix ? prefix : "", strip))
        strip = 0;
    const char *rel = key + strip;
    if (!safe_relative(rel))
        return NULL;
    size_t n = strlen(dest_dir) + strlen(rel) + 2;
    char *out = s3dlio_xmalloc(n);
    snprintf(out, n, "%s%s%s", dest_dir, dest_dir[0] && dest_dir[strlen(dest_dir) - 1] == '/' ? "" : "/",
             rel);
    return out;
}

static const struct s3dlio_object *sort_items;

static int cmp_idx(const void *a, const void *b)
{
    return strcmp(sort_items[*(const size_t *)a].key, sort_items[*(const size_t *)b].key);
}

void s3dlio_plan_dir_conflicts(const struct s3dlio_objlist *list, bool *conflict)
{
    size_t n = list->n;
    const struct s3dlio_object *items = list->items;
    size_t *idx = s3dlio_xcalloc(n ? n : 1, sizeof(*idx));
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
        conflict[i] = false;
    }
    /* byte order, as S3 lists; qsort has no context argument, and this runs on one thread */
    sort_items = items;
    qsort(idx, n, sizeof(*idx), cmp_idx);
    sort_items = NULL;
    for (size_t i = 0; i < n; i++) {
        /* the keys below "K/" sort after K, maybe after others ("K-x" < "K/"): search */
        const char *k = items[idx[i]].key;
        size_t kn = strlen(k), lo = i + 1, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const char *m = items[idx[mid]].key;
            int c = strncmp(m, k, kn);
            if (c < 0 || (c == 0 && (unsigned char)m[kn] < '/'))
                lo = mid + 1;
            else
                hi = mid;
        }
        /* "K/" itself is only a folder marker (skipped); the first key below it sorts
         * first, so at most two entries need a look */
        bool below = false;
        for (size_t j = lo; j < n && j < lo + 2 && !below; j++) {
            const char *m = items[idx[j]].key;
            if (strncmp(m, k, kn) || m[kn] != '/')
                break;
            below = m[kn + 1] != '\0';
        }
        conflict[idx[i]] = kn && k[kn - 1] != '/' && below;
    }
    free(idx);
}

static void plan_dest(struct s3dlio_plan *plan, struct s3dlio_xfer_job *j, const char *prefix,
                      const char *dest_dir, bool conflict, struct s3dlio_plan_counts *c)
{
    char *path = s3dlio_plan_dest_path(dest_dir, prefix, j->key);
    struct s3dlio_error e = {0};
    if (!path) {
        s3dlio_error_set(&e, S3DLIO_E_USAGE, "get", j->key,
                         "key cannot be a file name under '%s' (absolute, or a '.', '..' or empty "
                         "segment)", dest_dir);
        s3dlio_xfer_job_fail(j, &e);
        c->unsafe++;
        return;
    }
    if (conflict) {
        s3dlio_error_set(&e, S3DLIO_E_USAGE, "get", j->key,
                         "key is also the directory of other keys ('%s/...'): it cannot be a file "
                         "under '%s'", j->key, dest_dir);
        s3dlio_xfer_job_fail(j, &e);
        c->conflicts++;
        free(path);
        return;
    }
    j->local = S3DLIO_LOCAL_FILE;
    j->path = own(plan, path);
    /* below the directory the user named, no link is followed */
    j->path_root = strlen(dest_dir);
}

void s3dlio_plan_get(struct s3dlio_plan *plan, const struct s3dlio_objlist *list, const char *prefix,
                     const char *dest_dir, const struct s3dlio_gen *gen, const bool *conflict,
                     struct s3dlio_plan_counts *counts)
{
    struct s3dlio_plan_counts local = {0}, *c = counts ? counts : &local;
    bool *computed = NULL;
    if (dest_dir && !conflict) {
        computed = s3dlio_xcalloc(list->n ? list->n : 1, sizeof(*computed));
        s3dlio_plan_dir_conflicts(list, computed);
    }
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < list->n; i++) {
        const struct s3dlio_object *obj = &list->items[i];
        size_t kn = strlen(obj->key);
        if (kn && obj->key[kn - 1] == '/') {
            c->markers++; /* a "folder": no data of its own */
            continue;
        }
        struct s3dlio_xfer_job *j = add_job(plan, S3DLIO_XFER_GET, obj->key, obj->size);
        j->local = gen ? S3DLIO_LOCAL_GENERATOR : S3DLIO_LOCAL_DISCARD;
        j->gen = gen;
        const char *etag = s3dlio_object_etag(obj);
        if (etag[0])
            j->etag = own(plan, s3dlio_xstrdup(etag));
        if (dest_dir)
            plan_dest(plan, j, prefix, dest_dir,
                      conflict ? conflict[i] : computed[i], c);
    }
    free(computed);
}

void s3dlio_plan_put_files(struct s3dlio_plan *plan, const struct s3dlio_objlist *files,
                           const char *local_root, const char *prefix)
{
    for (size_t i = 0; i < files->n; i++) {
        const struct s3dlio_object *f = &files->items[i];
        const char *rel = f->key;
        size_t kn = strlen(prefix) + strlen(rel) + 1, pn = strlen(local_root) + strlen(rel) + 2;
        char *key = s3dlio_xmalloc(kn), *path = s3dlio_xmalloc(pn);
        snprintf(key, kn, "%s%s", prefix, rel);
        snprintf(path, pn, "%s/%s", local_root, rel);
        struct s3dlio_xfer_job *j = add_job(plan, S3DLIO_XFER_PUT, key, f->size);
        free(key);
        j->local = S3DLIO_LOCAL_FILE;
        j->path = own(plan, path);
    }
}

/* prefix + rel, owned by the plan */
static char *own_join(struct s3dlio_plan *plan, const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = s3dlio_xmalloc(n);
    snprintf(s, n, "%s%s%s", a, b, c);
    return own(plan, s);
}

void s3dlio_plan_copy(struct s3dlio_plan *plan, const struct s3dlio_objlist *list,
                      const char *src_bucket, const char *src_root, const char *dst_root)
{
    for (size_t i = 0; i < list->n; i++) {
        const struct s3dlio_object *obj = &list->items[i];
        struct s3dlio_xfer_job *j = add_job(plan, S3DLIO_XFER_COPY, "", obj->size);
        j->key = own_join(plan, dst_root, obj->key, "");
        char *src = own_join(plan, src_bucket, "/", src_root);
        j->copy_source = own_join(plan, src, obj->key, "");
        const char *etag = s3dlio_object_etag(obj);
        if (etag[0])
            j->etag = own(plan, s3dlio_xstrdup(etag));
    }
}

void s3dlio_plan_generate(struct s3dlio_plan *plan, const struct s3dlio_gen *gen, uint64_t first,
                          uint64_t count, uint64_t min_size, uint64_t max_size, const char *prefix)
{
    char key[1200];
    for (uint64_t i = first; i < first + count; i++) {
        snprintf(key, sizeof(key), "%sobj-%08" PRIu64 ".bin", prefix, i);
        uint64_t size = s3dlio_gen_object_size(gen->seed, i, min_size, max_size);
        struct s3dlio_xfer_job *j = add_job(plan, S3DLIO_XFER_PUT, key, size);
        j->local = S3DLIO_LOCAL_GENERATOR;
        j->gen = gen;
    }
}

void s3dlio_plan_put_generated(struct s3dlio_plan *plan, const struct s3dlio_objlist *objects,
                               const struct s3dlio_gen *gen)
{
    for (size_t i = 0; i < objects->n; i++) {
        struct s3dlio_xfer_job *j =
            add_job(plan, S3DLIO_XFER_PUT, objects->items[i].key, objects->items[i].size);
        j->local = S3DLIO_LOCAL_GENERATOR;
        j->gen = gen;
    }
}
