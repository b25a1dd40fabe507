/* SPDX-License-Identifier: Apache-2.0 */
/* Object lists and listing pages: 24-byte rows whose strings live in the list's arena. */
#include <stdlib.h>
#include <string.h>
#include "s3dlio/backend.h"
#include "backend/strarena.h"
#include "util/alloc.h"

/* Every empty string of every list, and the empty key with no ETag after it. */
static const char empty[2] = {0, 0};

static const char *keep(struct s3dlio_objlist *l, const char *s, size_t n)
{
    return n ? s3dlio_strarena_add(&l->strings, s, n) : empty;
}

/* A row's key with its ETag behind it: one string pair, so the row needs no ETag pointer. */
static const char *keep_row(struct s3dlio_objlist *l, const char *key, size_t n, const char *etag,
                            size_t m)
{
    return n || m ? s3dlio_strarena_add2(&l->strings, key, n, etag ? etag : "", m) : empty;
}

void s3dlio_objlist_add(struct s3dlio_objlist *l, const char *key, uint64_t size, int64_t mtime,
                        const char *etag)
{
    size_t en = etag ? strlen(etag) : 0;
    /* ETags arrive quoted in headers and XML; store them bare */
    if (en >= 2 && etag[0] == '"' && etag[en - 1] == '"') {
        etag++;
        en -= 2;
    }
    if (en > S3DLIO_ETAG_MAX)
        en = S3DLIO_ETAG_MAX;
    s3dlio_xgrow((void **)&l->items, sizeof(*l->items), l->n + 1, &l->alloc);
    l->items[l->n++] = (struct s3dlio_object){
        .key = keep_row(l, key, strlen(key), etag, en), .size = size, .mtime = mtime};
}

void s3dlio_objlist_add_prefix(struct s3dlio_objlist *l, const char *prefix)
{
    s3dlio_xgrow((void **)&l->prefixes, sizeof(*l->prefixes), l->nprefixes + 1, &l->prefixes_alloc);
    l->prefixes[l->nprefixes++] = keep(l, prefix, strlen(prefix));
}

/* A string of a moved row that sat in src's partly filled block: copy it into dst. */
static void rehome(struct s3dlio_objlist *dst, const struct s3dlio_strarena *partial,
                   const char **s)
{
    if (s3dlio_strarena_holds(partial, *s))
        *s = keep(dst, *s, strlen(*s));
}

static void rehome_row(struct s3dlio_objlist *dst, const struct s3dlio_strarena *partial,
                       struct s3dlio_object *o)
{
    if (s3dlio_strarena_holds(partial, o->key)) {
        const char *etag = s3dlio_object_etag(o);
        o->key = keep_row(dst, o->key, strlen(o->key), etag, strlen(etag));
    }
}

void s3dlio_objlist_splice(struct s3dlio_objlist *dst, struct s3dlio_objlist *src)
{
    size_t n0 = dst->n, p0 = dst->nprefixes;
    s3dlio_xgrow((void **)&dst->items, sizeof(*dst->items), dst->n + src->n, &dst->alloc);
    if (src->n)
        memcpy(dst->items + dst->n, src->items, src->n * sizeof(*src->items));
    dst->n += src->n;
    s3dlio_xgrow((void **)&dst->prefixes, sizeof(*dst->prefixes), dst->nprefixes + src->nprefixes,
                 &dst->prefixes_alloc);
    if (src->nprefixes)
        memcpy(dst->prefixes + dst->nprefixes, src->prefixes, src->nprefixes * sizeof(char *));
    dst->nprefixes += src->nprefixes;
    struct s3dlio_strarena partial;
    s3dlio_strarena_take(&dst->strings, &src->strings, &partial);
    if (partial.fill) {
        for (size_t i = n0; i < dst->n; i++)
            rehome_row(dst, &partial, &dst->items[i]);
        for (size_t i = p0; i < dst->nprefixes; i++)
            rehome(dst, &partial, &dst->prefixes[i]);
        s3dlio_strarena_release(&partial);
    }
    s3dlio_objlist_release(src);
}

size_t s3dlio_objlist_string_bytes(const struct s3dlio_objlist *l)
{
    return s3dlio_strarena_bytes(&l->strings);
}

void s3dlio_objlist_release(struct s3dlio_objlist *l)
{
    if (!l)
        return;
    free(l->items);
    free(l->prefixes);
    s3dlio_strarena_release(&l->strings);
    memset(l, 0, sizeof(*l));
}

void s3dlio_list_page_release(struct s3dlio_list_page *p)
{
    if (!p)
        return;
    s3dlio_objlist_release(&p->list);
    free(p->next_token);
    p->next_token = NULL;
    p->truncated = false;
}
