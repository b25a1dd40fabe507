/* SPDX-License-Identifier: Apache-2.0 */
/* The difference of two listings for sync (see sync.h): sort both, one merge pass. */
#include "s3dlio/sync.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

enum s3dlio_rc s3dlio_sync_compare_parse(const char *s, enum s3dlio_sync_compare *out)
{
    if (!strcmp(s, "size"))
        *out = S3DLIO_SYNC_SIZE;
    else if (!strcmp(s, "etag"))
        *out = S3DLIO_SYNC_ETAG;
    else if (!strcmp(s, "mtime"))
        *out = S3DLIO_SYNC_MTIME;
    else
        return S3DLIO_E_USAGE;
    return S3DLIO_OK;
}

const char *s3dlio_sync_compare_name(enum s3dlio_sync_compare c)
{
    return c == S3DLIO_SYNC_ETAG ? "etag" : c == S3DLIO_SYNC_MTIME ? "mtime" : "size";
}

char *s3dlio_sync_root(const char *key)
{
    size_t n = strlen(key);
    char *out = s3dlio_xmalloc(n + 2);
    memcpy(out, key, n + 1);
    if (n && key[n - 1] != '/') {
        out[n] = '/';
        out[n + 1] = '\0';
    }
    return out;
}

void s3dlio_sync_diff_release(struct s3dlio_sync_diff *d)
{
    if (!d)
        return;
    s3dlio_objlist_release(&d->copy);
    s3dlio_objlist_release(&d->del);
    free(d->copy_src);
    memset(d, 0, sizeof(*d));
}

/* One side's entry: its key below the root, and where it is in the listing. */
struct entry {
    const char *rel;
    size_t idx;
};

static int cmp_entry(const void *a, const void *b)
{
    /* strcmp compares as unsigned char: S3's UTF-8 byte order */
    return strcmp(((const struct entry *)a)->rel, ((const struct entry *)b)->rel);
}

/* The objects of list below root, markers counted and left out, sorted by relative key. */
static struct entry *side(const struct s3dlio_objlist *list, const char *root, size_t *n,
                          size_t *markers, size_t *outside)
{
    size_t rn = strlen(root);
    struct entry *e = s3dlio_xcalloc(list->n ? list->n : 1, sizeof(*e));
    *n = 0;
    for (size_t i = 0; i < list->n; i++) {
        const char *k = list->items[i].key;
        size_t kn = strlen(k);
        if (strncmp(k, root, rn) || kn == rn) { /* the root itself is no object below it */
            (*outside)++;
            continue;
        }
        if (k[kn - 1] == '/') {
            (*markers)++;
            continue;
        }
        e[(*n)++] = (struct entry){k + rn, i};
    }
    qsort(e, *n, sizeof(*e), cmp_entry);
    return e;
}

/* Both sides have the key: copy again? */
static bool differs(const struct s3dlio_object *s, const struct s3dlio_object *d,
                    enum s3dlio_sync_compare cmp, size_t *size_only)
{
    if (s->size != d->size)
        return true;
    if (cmp == S3DLIO_SYNC_ETAG) {
        const char *se = s3dlio_object_etag(s), *de = s3dlio_object_etag(d);
        if (!se[0] || !de[0]) {
            (*size_only)++;
            return false;
        }
        return strcmp(se, de) != 0;
    }
    if (cmp == S3DLIO_SYNC_MTIME) {
        if (s->mtime < 0 || d->mtime < 0) {
            (*size_only)++;
            return false;
        }
        return s->mtime > d->mtime;
    }
    return false;
}

static void add_copy(struct s3dlio_sync_diff *out, const struct s3dlio_objlist *src,
                     const struct entry *e, size_t *alloc)
{
    const struct s3dlio_object *o = &src->items[e->idx];
    s3dlio_xgrow((void **)&out->copy_src, sizeof(*out->copy_src), out->copy.n + 1, alloc);
    out->copy_src[out->copy.n] = e->idx;
    s3dlio_objlist_add(&out->copy, e->rel, o->size, o->mtime, s3dlio_object_etag(o));
    out->copy_bytes += o->size;
}

static void add_delete(struct s3dlio_sync_diff *out, const struct s3dlio_objlist *dst,
                       const struct entry *e)
{
    const struct s3dlio_object *o = &dst->items[e->idx];
    s3dlio_objlist_add(&out->del, e->rel, o->size, o->mtime, s3dlio_object_etag(o));
}

void s3dlio_sync_diff(const struct s3dlio_objlist *src, const char *src_root,
                      const struct s3dlio_objlist *dst, const char *dst_root,
                      enum s3dlio_sync_compare cmp, struct s3dlio_sync_diff *out)
{
    size_t ns = 0, nd = 0, i = 0, j = 0, alloc = 0;
    memset(out, 0, sizeof(*out));
    struct entry *s = side(src, src_root, &ns, &out->src_markers, &out->outside);
    struct entry *d = side(dst, dst_root, &nd, &out->dst_markers, &out->outside);
    while (i < ns || j < nd) {
        int c = i == ns ? 1 : j == nd ? -1 : strcmp(s[i].rel, d[j].rel);
        if (c < 0) {
            add_copy(out, src, &s[i++], &alloc);
            out->missing++;
        } else if (c > 0) {
            add_delete(out, dst, &d[j++]);
        } else {
            if (differs(&src->items[s[i].idx], &dst->items[d[j].idx], cmp, &out->size_only)) {
                add_copy(out, src, &s[i], &alloc);
                out->differ++;
            } else {
                out->same++;
            }
            i++;
            j++;
        }
    }
    free(s);
    free(d);
}
