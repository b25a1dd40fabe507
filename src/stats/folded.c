/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Folded stacks (see render.h): a hash set of stack strings with counts, filled from the
 * "frame;frame;leaf count" text every rank's sampler writes and merged on rank 0.
 */
#include "stats/render.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

#define FIRST_SLOTS 64

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* FNV-1a: any bytes, stable across runs (the order of output never depends on it anyway). */
static size_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

struct s3dlio_folded *s3dlio_folded_new(void)
{
    struct s3dlio_folded *f = s3dlio_xcalloc(1, sizeof(*f));
    f->nslots = FIRST_SLOTS;
    f->slots = s3dlio_xcalloc(f->nslots, sizeof(*f->slots));
    return f;
}

void s3dlio_folded_free(struct s3dlio_folded *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        free(f->stacks[i].stack);
    free(f->stacks);
    free(f->slots);
    free(f);
}

/* The slot holding stack, or the empty slot where it would go. */
static size_t *find_slot(const struct s3dlio_folded *f, const char *stack, size_t len)
{
    size_t mask = f->nslots - 1, i = hash_bytes(stack, len) & mask;
    for (;; i = (i + 1) & mask) {
        size_t *slot = &f->slots[i];
        if (!*slot)
            return slot;
        const struct s3dlio_folded_stack *s = &f->stacks[*slot - 1];
        if (s->len == len && !memcmp(s->stack, stack, len))
            return slot;
    }
}

/* Double the index once it is half full, so probes stay short. */
static void rehash(struct s3dlio_folded *f)
{
    free(f->slots);
    f->nslots *= 2;
    f->slots = s3dlio_xcalloc(f->nslots, sizeof(*f->slots));
    for (size_t i = 0; i < f->n; i++)
        *find_slot(f, f->stacks[i].stack, f->stacks[i].len) = i + 1;
}

void s3dlio_folded_add_n(struct s3dlio_folded *f, const char *stack, size_t len, uint64_t count)
{
    if (!count)
        return;
    f->total = sat_add(f->total, count);
    size_t *slot = find_slot(f, stack, len);
    if (*slot) {
        struct s3dlio_folded_stack *s = &f->stacks[*slot - 1];
        s->count = sat_add(s->count, count);
        return;
    }
    s3dlio_xgrow((void **)&f->stacks, sizeof(*f->stacks), f->n + 1, &f->alloc);
    /* not xstrndup: it would stop at a NUL inside the stack */
    char *copy = s3dlio_xmalloc(len + 1);
    memcpy(copy, stack, len);
    copy[len] = '\0';
    f->stacks[f->n] = (struct s3dlio_folded_stack){ copy, len, count };
    *slot = ++f->n;
    if (f->n * 2 > f->nslots)
        rehash(f);
}

void s3dlio_folded_add(struct s3dlio_folded *f, const char *stack, uint64_t count)
{
    s3dlio_folded_add_n(f, stack, strlen(stack), count);
}

void s3dlio_folded_merge(struct s3dlio_folded *into, const struct s3dlio_folded *from)
{
    for (size_t i = 0; i < from->n; i++)
        s3dlio_folded_add_n(into, from->stacks[i].stack, from->stacks[i].len,
                            from->stacks[i].count);
}

uint64_t s3dlio_folded_total(const struct s3dlio_folded *f)
{
    return f->total;
}

size_t s3dlio_folded_count(const struct s3dlio_folded *f)
{
    return f->n;
}

/* ---- parsing ---------------------------------------------------------------------------- */

/* One line of folded text, split: stack[0..stack_len) and its count. */
struct line {
    const char *stack;
    size_t stack_len;
    uint64_t count;
};

/* Frames of s[0..len): none empty (so neither a leading, trailing nor doubled ';'). */
static bool frames_ok(const char *s, size_t len)
{
    if (!len || s[0] == ';' || s[len - 1] == ';')
        return false;
    for (size_t i = 1; i < len; i++)
        if (s[i] == ';' && s[i - 1] == ';')
            return false;
    return true;
}

/* Decimal digits only, > 0, < 2^64: FlameGraph's fractional counts are not samples. */
static bool parse_count(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (!len)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return v > 0;
}

/* Why p[0..len) is not a folded line, or NULL when it is (*l filled). */
static const char *parse_line(const char *p, size_t len, struct line *l)
{
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    size_t sep = len;
    while (sep && p[sep - 1] != ' ' && p[sep - 1] != '\t')
        sep--;
    if (!sep)
        return "no count after the stack";
    if (!parse_count(p + sep, len - sep, &l->count))
        return "count is not a positive integer";
    l->stack = p;
    l->stack_len = sep - 1; /* the separator belongs to neither; further spaces are the frame's */
    if (!l->stack_len)
        return "empty stack";
    if (!frames_ok(l->stack, l->stack_len))
        return "empty frame";
    return NULL;
}

static bool blank(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != ' ' && p[i] != '\t')
            return false;
    return true;
}

/* The line at *pos, without its "\n" or "\r\n"; *pos moves past the newline. */
static size_t next_line(const char *text, size_t len, size_t *pos, const char **start)
{
    const char *p = text + *pos, *nl = memchr(p, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - p) : len - *pos;
    *pos += n + (nl != NULL);
    *start = p;
    if (n && p[n - 1] == '\r')
        n--;
    return n;
}

/* Validate every line first, then add: a bad line leaves f as it was. */
static enum s3dlio_rc check_text(const char *text, size_t len, const char *root,
                                 struct s3dlio_error *err)
{
    size_t pos = 0, no = 0;
    while (pos < len) {
        const char *p;
        size_t n = next_line(text, len, &pos, &p);
        struct line l;
        const char *why;
        no++;
        if (!blank(p, n) && (why = parse_line(p, n, &l)) != NULL)
            return s3dlio_error_set(err, S3DLIO_E_PARSE, "folded", root ? root : "", "line %zu: %s",
                                    no, why);
    }
    return S3DLIO_OK;
}

static void add_with_root(struct s3dlio_folded *f, const char *root, size_t root_len,
                          const struct line *l, char **scratch, size_t *scratch_alloc)
{
    if (!root) {
        s3dlio_folded_add_n(f, l->stack, l->stack_len, l->count);
        return;
    }
    size_t n = root_len + 1 + l->stack_len;
    s3dlio_xgrow((void **)scratch, 1, n, scratch_alloc);
    memcpy(*scratch, root, root_len);
    (*scratch)[root_len] = ';';
    memcpy(*scratch + root_len + 1, l->stack, l->stack_len);
    s3dlio_folded_add_n(f, *scratch, n, l->count);
}

enum s3dlio_rc s3dlio_folded_add_text(struct s3dlio_folded *f, const char *text, size_t len,
                                      const char *root, struct s3dlio_error *err)
{
    size_t root_len = root ? strlen(root) : 0;
    if (root && (!frames_ok(root, root_len) || memchr(root, '\n', root_len)))
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "folded", root,
                                "root frame is empty or holds a newline or an empty frame");
    enum s3dlio_rc rc = check_text(text, len, root, err);
    if (rc)
        return rc;
    char *scratch = NULL;
    size_t scratch_alloc = 0, pos = 0;
    while (pos < len) {
        const char *p;
        size_t n = next_line(text, len, &pos, &p);
        struct line l;
        if (!blank(p, n) && !parse_line(p, n, &l))
            add_with_root(f, root, root_len, &l, &scratch, &scratch_alloc);
    }
    free(scratch);
    return S3DLIO_OK;
}

/* ---- output ----------------------------------------------------------------------------- */

static int cmp_stack(const void *a, const void *b)
{
    const struct s3dlio_folded_stack *x = *(const struct s3dlio_folded_stack *const *)a;
    const struct s3dlio_folded_stack *y = *(const struct s3dlio_folded_stack *const *)b;
    int c = memcmp(x->stack, y->stack, x->len < y->len ? x->len : y->len);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

char *s3dlio_folded_text(const struct s3dlio_folded *f, size_t *len)
{
    const struct s3dlio_folded_stack **order = s3dlio_xmalloc((f->n + 1) * sizeof(*order));
    size_t total = 1;
    for (size_t i = 0; i < f->n; i++) {
        order[i] = &f->stacks[i];
        total += f->stacks[i].len + 22; /* " " + 20 digits + "\n" */
    }
    qsort(order, f->n, sizeof(*order), cmp_stack);
    char *out = s3dlio_xmalloc(total), *p = out;
    for (size_t i = 0; i < f->n; i++) {
        memcpy(p, order[i]->stack, order[i]->len);
        p += order[i]->len;
        p += snprintf(p, 23, " %llu\n", (unsigned long long)order[i]->count);
    }
    *p = '\0';
    *len = (size_t)(p - out);
    free(order);
    return out;
}
