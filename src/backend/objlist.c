/* SPDX-License-Identifier: Apache-2.0 */
/* Object lists and listing pages. */
#include <stdlib.h>
#include <string.h>
#include "s3dlio/backend.h"
#include "util/alloc.h"

void s3dlio_objlist_add(struct s3dlio_objlist *l, const char *key, uint64_t size, int64_t mtime,
                        const char *etag)
{
    s3dlio_xgrow((void **)&l->items, sizeof(*l->items), l->n + 1, &l->alloc);
    struct s3dlio_object *o = &l->items[l->n++];
    memset(o, 0, sizeof(*o));
    o->key = s3dlio_xstrdup(key);
    o->size = size;
    o->mtime = mtime;
    if (etag) {
        size_t n = strlen(etag);
        /* ETags arrive quoted in headers and XML; store them bare */
        if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
            etag++;
            n -= 2;
        }
        if (n >= sizeof(o->etag))
            n = sizeof(o->etag) - 1;
        memcpy(o->etag, etag, n);
        o->etag[n] = '\0';
    }
}

void s3dlio_objlist_add_prefix(struct s3dlio_objlist *l, const char *prefix)
{
    s3dlio_xgrow((void **)&l->prefixes, sizeof(*l->prefixes), l->nprefixes + 1, &l->prefixes_alloc);
    l->prefixes[l->nprefixes++] = s3dlio_xstrdup(prefix);
}

void s3dlio_objlist_splice(struct s3dlio_objlist *dst, struct s3dlio_objlist *src)
{
    s3dlio_xgrow((void **)&dst->items, sizeof(*dst->items), dst->n + src->n, &dst->alloc);
    if (src->n)
        memcpy(dst->items + dst->n, src->items, src->n * sizeof(*src->items));
    dst->n += src->n;
    s3dlio_xgrow((void **)&dst->prefixes, sizeof(*dst->prefixes), dst->nprefixes + src->nprefixes,
                 &dst->prefixes_alloc);
    if (src->nprefixes)
        memcpy(dst->prefixes + dst->nprefixes, src->prefixes, src->nprefixes * sizeof(char *));
    dst->nprefixes += src->nprefixes;
    src->n = src->nprefixes = 0; /* ownership moved: release must not free the keys */
    s3dlio_objlist_release(src);
}

void s3dlio_objlist_release(struct s3dlio_objlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].key);
    for (size_t i = 0; i < l->nprefixes; i++)
        free(l->prefixes[i]);
    free(l->items);
    free(l->prefixes);
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
