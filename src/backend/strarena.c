/* SPDX-License-Identifier: Apache-2.0 */
/* String arena of object lists: see strarena.h. */
#include "backend/strarena.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

struct s3dlio_strblock {
    struct s3dlio_strblock *next;
    size_t used, cap;
    char data[];
};

static struct s3dlio_strblock *block_new(size_t cap)
{
    struct s3dlio_strblock *b = s3dlio_xmalloc(sizeof(*b) + cap);
    b->next = NULL;
    b->used = 0;
    b->cap = cap;
    return b;
}

/*
 * Where n bytes go. A long string gets a block of its own behind the fill block, so the
 * free end of the fill block is not given up for it; anything else that does not fit
 * starts a new fill block (the old one's unused end, less than this string, is lost).
 */
static struct s3dlio_strblock *room_for(struct s3dlio_strarena *a, size_t n)
{
    struct s3dlio_strblock *f = a->fill;
    if (f && f->cap - f->used >= n)
        return f;
    if (n > S3DLIO_STRARENA_BLOCK / 4 && f) {
        struct s3dlio_strblock *b = block_new(n);
        b->next = f->next;
        f->next = b;
        return b;
    }
    struct s3dlio_strblock *b = block_new(n > S3DLIO_STRARENA_BLOCK ? n : S3DLIO_STRARENA_BLOCK);
    b->next = f;
    a->fill = b;
    return b;
}

const char *s3dlio_strarena_add(struct s3dlio_strarena *a, const char *s, size_t n)
{
    struct s3dlio_strblock *b = room_for(a, n + 1);
    char *p = b->data + b->used;
    memcpy(p, s, n);
    p[n] = '\0';
    b->used += n + 1;
    return p;
}

const char *s3dlio_strarena_add2(struct s3dlio_strarena *a, const char *s, size_t n, const char *t,
                                 size_t m)
{
    struct s3dlio_strblock *b = room_for(a, n + 1 + m + 1);
    char *p = b->data + b->used;
    memcpy(p, s, n);
    p[n] = '\0';
    memcpy(p + n + 1, t, m);
    p[n + 1 + m] = '\0';
    b->used += n + 1 + m + 1;
    return p;
}

void s3dlio_strarena_take(struct s3dlio_strarena *dst, struct s3dlio_strarena *src,
                          struct s3dlio_strarena *partial)
{
    partial->fill = NULL;
    struct s3dlio_strblock *s = src->fill;
    src->fill = NULL;
    if (!s)
        return;
    if (!dst->fill) { /* nothing to fill up: src's blocks become dst's as they are */
        dst->fill = s;
        return;
    }
    struct s3dlio_strblock *full = s->next;
    s->next = NULL;
    partial->fill = s;
    if (!full)
        return;
    /* the full blocks go behind dst's fill block, which stays where new strings go */
    struct s3dlio_strblock *last = full;
    while (last->next)
        last = last->next;
    last->next = dst->fill->next;
    dst->fill->next = full;
}

bool s3dlio_strarena_holds(const struct s3dlio_strarena *a, const char *p)
{
    /* by address as integers: comparing pointers into different objects is undefined */
    uintptr_t u = (uintptr_t)p;
    for (const struct s3dlio_strblock *b = a->fill; b; b = b->next)
        if (u - (uintptr_t)b->data < b->used)
            return true;
    return false;
}

size_t s3dlio_strarena_bytes(const struct s3dlio_strarena *a)
{
    size_t n = 0;
    for (const struct s3dlio_strblock *b = a->fill; b; b = b->next)
        n += sizeof(*b) + b->cap;
    return n;
}

void s3dlio_strarena_release(struct s3dlio_strarena *a)
{
    if (!a)
        return;
    struct s3dlio_strblock *b = a->fill;
    while (b) {
        struct s3dlio_strblock *next = b->next;
        free(b);
        b = next;
    }
    a->fill = NULL;
}
