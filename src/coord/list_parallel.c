/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parallel listing: rank 0 cuts the key space under a prefix into disjoint pieces (common
 * prefixes of a delimited listing, descending while there are too few; ranges between
 * start-after points where a level is too big to list by delimiter), the ranks list the
 * pieces at once and rank 0 puts the results back together in key order. The result is the
 * single listing's, entry for entry: a listing that lost or doubled a key would lose or
 * double data, so the merge checks the order and refuses anything else.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "coord/coord_int.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/log.h"

#define PAGE 1000
/* pieces wanted per rank: enough that an uneven piece does not hold up the job */
#define PIECES_PER_RANK 8
/* delimited listings rank 0 may make while looking for pieces (each one round trip) */
#define DESCEND_MAX 64
/* start-after points cut into one big level at most */
#define SPLITS_MAX 512

/*
 * One unit of the listing, ordered among the others by its lower bound. A literal holds keys
 * rank 0 has listed already; a piece lists every key under prefix that is after `after`
 * (NULL: from the first) and not after `last` (NULL: to the end).
 */
enum unit_kind { UNIT_LITERAL, UNIT_PREFIX, UNIT_RANGE };

struct unit {
    enum unit_kind kind;
    char *bound;                /* literal: its key; prefix: the prefix; range: after */
    char *prefix, *after, *last;
    struct s3dlio_objlist list; /* the result, on rank 0 */
    bool expanded;              /* prefix: replaced by the units of its level */
};

struct plan {
    struct unit *u;
    size_t n, alloc;
};

static char *dup_or_null(const char *s)
{
    return s ? s3dlio_xstrdup(s) : NULL;
}

static struct unit *plan_add(struct plan *p, enum unit_kind kind, const char *bound,
                             const char *prefix, const char *after, const char *last)
{
    s3dlio_xgrow((void **)&p->u, sizeof(*p->u), p->n + 1, &p->alloc);
    struct unit *u = &p->u[p->n++];
    memset(u, 0, sizeof(*u));
    u->kind = kind;
    u->bound = s3dlio_xstrdup(bound);
    u->prefix = dup_or_null(prefix);
    u->after = dup_or_null(after);
    u->last = dup_or_null(last);
    return u;
}

static void unit_release(struct unit *u)
{
    free(u->bound);
    free(u->prefix);
    free(u->after);
    free(u->last);
    s3dlio_objlist_release(&u->list);
    memset(u, 0, sizeof(*u));
}

static void plan_release(struct plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        unit_release(&p->u[i]);
    free(p->u);
    memset(p, 0, sizeof(*p));
}

static size_t plan_pieces(const struct plan *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += p->u[i].kind != UNIT_LITERAL && !p->u[i].expanded;
    return n;
}

/* ---- rank 0: finding the pieces ----------------------------------------------------------- */

static int cmp_byte(const void *a, const void *b)
{
    return (int)*(const unsigned char *)a - (int)*(const unsigned char *)b;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Start-after points above `last`, the last key of a first page under prefix: `last` cut
 * after each of its characters past the prefix and continued by a character that occurs in
 * the page's keys and is greater than the one there. The points only steer the balance:
 * any sorted set of them cuts (last, end) into pieces that are disjoint and cover it.
 */
static size_t split_points(const struct s3dlio_objlist *page, const char *prefix, const char *last,
                           char ***out)
{
    unsigned char seen[256] = {0}, alpha[256];
    size_t na = 0, lp = strlen(prefix), ll = strlen(last), n = 0, alloc = 0;
    char **pts = NULL;
    for (size_t i = 0; i < page->n; i++)
        for (const unsigned char *c = (const unsigned char *)page->items[i].key + lp; *c; c++)
            seen[*c] = 1;
    for (int c = 1; c < 256; c++)
        if (seen[c])
            alpha[na++] = (unsigned char)c;
    qsort(alpha, na, 1, cmp_byte);
    for (size_t i = lp; i < ll; i++) {
        for (size_t a = 0; a < na; a++) {
            if (alpha[a] <= (unsigned char)last[i])
                continue;
            s3dlio_xgrow((void **)&pts, sizeof(*pts), n + 1, &alloc);
            pts[n] = s3dlio_xmalloc(i + 2);
            memcpy(pts[n], last, i);
            pts[n][i] = (char)alpha[a];
            pts[n][i + 1] = '\0';
            n++;
        }
    }
    if (n)
        qsort(pts, n, sizeof(*pts), cmp_str);
    *out = pts;
    return n;
}

/*
 * A level with more entries than one page: its first page of keys (listed recursively, so
 * complete up to its last key) is kept, the rest is cut at start-after points into ranges.
 */
static enum s3dlio_rc split_flat(struct s3dlio_backend *be, struct plan *p, const char *prefix,
                                 size_t want, struct s3dlio_error *err)
{
    struct s3dlio_list_req req = {.prefix = prefix, .max_keys = PAGE};
    struct s3dlio_list_page page = {0};
    enum s3dlio_rc rc = s3dlio_backend_list(be, &req, &page, err);
    if (rc || !page.list.n) {
        s3dlio_list_page_release(&page);
        return rc;
    }
    const char *last = page.list.items[page.list.n - 1].key;
    size_t lit = p->n; /* by index: adding units moves them */
    plan_add(p, UNIT_LITERAL, page.list.items[0].key, NULL, NULL, NULL);
    if (!page.truncated) { /* it shrank since the delimited listing: nothing more to cut */
        s3dlio_objlist_splice(&p->u[lit].list, &page.list);
        s3dlio_list_page_release(&page);
        return S3DLIO_OK;
    }
    char **pts = NULL;
    size_t npts = split_points(&page.list, prefix, last, &pts);
    /* an even subset when there are more than wanted: empty pieces cost a request each */
    size_t keep = npts < want ? npts : want, prev = (size_t)-1;
    const char *after = last;
    for (size_t k = 0; k < keep; k++) {
        size_t i = (k + 1) * npts / (keep + 1);
        if (i == prev || i >= npts)
            continue;
        prev = i;
        plan_add(p, UNIT_RANGE, after, prefix, after, pts[i]);
        after = pts[i];
    }
    plan_add(p, UNIT_RANGE, after, prefix, after, NULL);
    for (size_t i = 0; i < npts; i++)
        free(pts[i]);
    free(pts);
    s3dlio_objlist_splice(&p->u[lit].list, &page.list);
    s3dlio_list_page_release(&page);
    return S3DLIO_OK;
}

/*
 * Replace the prefix unit at index i by its level: direct keys as literals, common prefixes
 * as prefix pieces; a level of more than a page is cut by split_flat instead.
 */
static enum s3dlio_rc expand(struct s3dlio_backend *be, struct plan *p, size_t i, size_t want,
                             struct s3dlio_error *err)
{
    char *prefix = s3dlio_xstrdup(p->u[i].prefix);
    struct s3dlio_list_req req = {.prefix = prefix, .delimiter = "/", .max_keys = PAGE};
    struct s3dlio_list_page page = {0};
    enum s3dlio_rc rc = s3dlio_backend_list(be, &req, &page, err);
    if (!rc) {
        p->u[i].expanded = true;
        if (page.truncated) {
            rc = split_flat(be, p, prefix, want, err);
        } else {
            for (size_t k = 0; k < page.list.n; k++) {
                const struct s3dlio_object *o = &page.list.items[k];
                struct unit *u = plan_add(p, UNIT_LITERAL, o->key, NULL, NULL, NULL);
                s3dlio_objlist_add(&u->list, o->key, o->size, o->mtime, s3dlio_object_etag(o));
            }
            for (size_t k = 0; k < page.list.nprefixes; k++)
                plan_add(p, UNIT_PREFIX, page.list.prefixes[k], page.list.prefixes[k], NULL, NULL);
        }
    }
    s3dlio_list_page_release(&page);
    free(prefix);
    return rc;
}

/* Keys under a prefix sort after it; a range's keys after its bound; literals first on ties. */
static int cmp_unit(const void *a, const void *b)
{
    const struct unit *x = a, *y = b;
    int c = strcmp(x->bound, y->bound);
    if (c)
        return c;
    return (x->kind == UNIT_RANGE) - (y->kind == UNIT_RANGE);
}

/* ---- every rank: listing pieces ----------------------------------------------------------- */

/*
 * Every key of a piece, in order: all pages from `after`, stopping at the first past `last`;
 * each page (its keys past `last` dropped) goes to take, which may keep its rows.
 */
static enum s3dlio_rc list_piece(struct s3dlio_backend *be, const struct unit *u,
                                 void (*take)(void *ud, struct s3dlio_objlist *page), void *ud,
                                 struct s3dlio_error *err)
{
    struct s3dlio_list_pager pager;
    struct s3dlio_list_page page = {0};
    enum s3dlio_rc rc;
    bool more = false, past = false;
    s3dlio_list_pager_init(&pager, u->prefix, NULL, PAGE);
    pager.start_after = u->after;
    while (!past && !(rc = s3dlio_list_pager_next(be, &pager, &page, &more, err)) && more) {
        size_t keep = 0;
        while (keep < page.list.n && !(u->last && strcmp(page.list.items[keep].key, u->last) > 0))
            keep++;
        past = keep < page.list.n; /* the rest is the next piece's: this one is complete */
        page.list.n = keep;
        take(ud, &page.list);
    }
    s3dlio_list_page_release(&page);
    s3dlio_list_pager_release(&pager);
    return rc;
}

/* list_piece's take for a whole listing: the page's rows join the list. */
static void splice_page(void *list, struct s3dlio_objlist *page)
{
    s3dlio_objlist_splice(list, page);
}

/* ---- packing: pieces out to the ranks, listings back to rank 0 ---------------------------- */

static void put_str(struct s3dlio_buf *b, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) + 1 : 0; /* 0: NULL */
    s3dlio_buf_add(b, &n, sizeof(n));
    if (n)
        s3dlio_buf_add(b, s, n);
}

/* A string of the packed buffer, or NULL; *ok false (and NULL) when it runs past the end. */
static const char *get_str(const char *buf, size_t len, size_t *at, bool *ok)
{
    uint32_t n;
    if (!*ok || len - *at < sizeof(n)) {
        *ok = false;
        return NULL;
    }
    memcpy(&n, buf + *at, sizeof(n));
    *at += sizeof(n);
    if (!n)
        return NULL;
    if (len - *at < n || buf[*at + n - 1]) {
        *ok = false;
        return NULL;
    }
    const char *s = buf + *at;
    *at += n;
    return s;
}

static bool get_u64(const char *buf, size_t len, size_t *at, uint64_t *v)
{
    if (len - *at < sizeof(*v))
        return false;
    memcpy(v, buf + *at, sizeof(*v));
    *at += sizeof(*v);
    return true;
}

/* A list's rows as they travel: a count, then key, size, mtime, ETag each. */
static void put_rows(struct s3dlio_buf *b, const struct s3dlio_objlist *l)
{
    uint64_t n = l->n;
    s3dlio_buf_add(b, &n, sizeof(n));
    for (size_t k = 0; k < l->n; k++) {
        const struct s3dlio_object *o = &l->items[k];
        uint64_t mtime = (uint64_t)o->mtime;
        put_str(b, o->key);
        s3dlio_buf_add(b, &o->size, sizeof(o->size));
        s3dlio_buf_add(b, &mtime, sizeof(mtime));
        put_str(b, s3dlio_object_etag(o));
    }
}

/* put_rows' rows appended to l; false when they run past the end. */
static bool get_rows(const char *buf, size_t len, size_t *at, struct s3dlio_objlist *l)
{
    uint64_t n = 0;
    bool ok = get_u64(buf, len, at, &n);
    for (uint64_t k = 0; ok && k < n; k++) {
        uint64_t size = 0, mtime = 0;
        const char *key = get_str(buf, len, at, &ok);
        ok = ok && key && get_u64(buf, len, at, &size) && get_u64(buf, len, at, &mtime);
        const char *etag = get_str(buf, len, at, &ok);
        if (ok)
            s3dlio_objlist_add(l, key, size, (int64_t)mtime, etag);
    }
    return ok;
}

/* The pieces (or prefixes to expand) rank `rank` takes: every nranks-th, starting at its own number. */
static bool mine(size_t piece, int rank, int nranks)
{
    return piece % (size_t)nranks == (size_t)rank;
}

/* ---- finding the pieces, a level at a time over the ranks ------------------------------- */

/* A unit as expand made it, with a literal's row: kind, bounds, then its rows. */
static void put_unit(struct s3dlio_buf *b, const struct unit *u)
{
    uint8_t kind = (uint8_t)u->kind;
    s3dlio_buf_add(b, &kind, sizeof(kind));
    put_str(b, u->bound);
    put_str(b, u->prefix);
    put_str(b, u->after);
    put_str(b, u->last);
    put_rows(b, &u->list);
}

static bool get_unit(const char *buf, size_t len, size_t *at, struct plan *p)
{
    bool ok = len - *at >= 1;
    uint8_t kind = ok ? (uint8_t)buf[(*at)++] : 0;
    const char *bound = get_str(buf, len, at, &ok), *prefix = get_str(buf, len, at, &ok);
    const char *after = get_str(buf, len, at, &ok), *last = get_str(buf, len, at, &ok);
    if (!ok || !bound || kind > UNIT_RANGE)
        return false;
    return get_rows(buf, len, at, &plan_add(p, (enum unit_kind)kind, bound, prefix, after, last)->list);
}

/*
 * Expand the prefixes batch[0..n) of rank 0's plan: rank 0 names them, each rank expands
 * every nranks-th (one delimited listing each, a page or a split level), and rank 0 adds the
 * units they found. A level's listings run at once, not one after another. Collective; agreed.
 */
static enum s3dlio_rc expand_level(MPI_Comm comm, struct s3dlio_backend *be, struct plan *p,
                                   const size_t *batch, size_t n, size_t want,
                                   struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    struct s3dlio_buf names = S3DLIO_BUF_INIT((size_t)INT_MAX);
    for (size_t k = 0; rank == 0 && k < n; k++)
        put_str(&names, p->u[batch[k]].prefix);
    uint64_t len = names.len; /* at most DESCEND_MAX prefixes of S3's 1 KiB keys */
    MPI_Bcast(&len, 1, MPI_UINT64_T, 0, comm);
    char *data = rank == 0 ? names.data : s3dlio_xmalloc(len ? len : 1);
    MPI_Bcast(data, (int)len, MPI_BYTE, 0, comm);
    struct s3dlio_buf found = S3DLIO_BUF_INIT((size_t)INT_MAX);
    enum s3dlio_rc rc = S3DLIO_OK;
    bool ok = true;
    size_t at = 0;
    for (uint64_t k = 0; ok && at < len; k++) {
        const char *prefix = get_str(data, len, &at, &ok);
        ok = ok && prefix;
        if (!ok || rc || !mine(k, rank, nranks))
            continue;
        struct plan level = {0};
        plan_add(&level, UNIT_PREFIX, prefix, prefix, NULL, NULL);
        if (!(rc = expand(be, &level, 0, want, err))) {
            uint64_t units = level.n - 1;
            s3dlio_buf_add(&found, &k, sizeof(k));
            s3dlio_buf_add(&found, &units, sizeof(units));
            for (size_t i = 1; i < level.n; i++)
                put_unit(&found, &level.u[i]);
        }
        plan_release(&level);
    }
    if (!ok && !rc)
        rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "list", NULL, "bad table of prefixes");
    if (found.toobig && !rc)
        rc = s3dlio_error_set(err, S3DLIO_E_LIMIT, "list", NULL,
                              "a level of the listing passes 2 GiB");
    if (rank != 0)
        free(data);
    s3dlio_buf_release(&names);
    if ((rc = s3dlio_coord_agree(comm, rc, err))) {
        s3dlio_buf_release(&found);
        return rc;
    }
    size_t total = 0;
    char *all = s3dlio_coord_gather_bytes(comm, found.data, (int)found.len, &total, NULL, NULL);
    s3dlio_buf_release(&found);
    for (at = 0; rank == 0 && ok && at < total;) { /* plan_add may move p->u: by index */
        uint64_t k = 0, units = 0;
        ok = get_u64(all, total, &at, &k) && get_u64(all, total, &at, &units) && k < n;
        if (ok)
            p->u[batch[k]].expanded = true;
        for (uint64_t i = 0; ok && i < units; i++)
            ok = get_unit(all, total, &at, p);
    }
    free(all);
    if (!ok)
        rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "list", NULL, "a level's pieces arrived damaged");
    return s3dlio_coord_agree(comm, rc, err);
}

/*
 * Expand prefix pieces breadth first, up to one per rank at once, until there are enough
 * pieces or the budget of listings is spent; rank 0's plan ends sorted. Collective.
 */
static enum s3dlio_rc discover(MPI_Comm comm, struct s3dlio_backend *be, const char *root,
                               struct plan *p, struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    size_t want = (size_t)nranks * PIECES_PER_RANK, calls = 0, from = 0;
    size_t *batch = s3dlio_xcalloc(DESCEND_MAX, sizeof(*batch));
    if (rank == 0)
        plan_add(p, UNIT_PREFIX, root, root, NULL, NULL);
    enum s3dlio_rc rc = S3DLIO_OK;
    while (!rc) {
        uint64_t n = 0;
        size_t end = p->n;
        /* a prefix per rank at a time: one round trip each, and no more of a level cut up
         * than the pieces wanted need (each cut costs a listing, each piece at least one) */
        for (size_t i = from; rank == 0 && plan_pieces(p) < want && i < end &&
                              calls + n < DESCEND_MAX && n < (uint64_t)nranks;
             i++)
            if (p->u[i].kind == UNIT_PREFIX && !p->u[i].expanded)
                batch[n++] = i;
        MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm);
        if (!n)
            break; /* enough pieces, nothing left to descend into, or the budget spent */
        rc = expand_level(comm, be, p, batch, (size_t)n, want > SPLITS_MAX ? SPLITS_MAX : want, err);
        calls += (size_t)n;
        while (rank == 0 && from < end && (p->u[from].kind != UNIT_PREFIX || p->u[from].expanded))
            from++; /* the level's rest first, then the next level (breadth first) */
    }
    free(batch);
    /* expanded prefixes are gone: their level stands in for them */
    size_t kept = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->u[i].expanded)
            unit_release(&p->u[i]);
        else
            p->u[kept++] = p->u[i];
    }
    p->n = kept;
    if (p->n) /* the other ranks' plans are empty until bcast_pieces */
        qsort(p->u, p->n, sizeof(*p->u), cmp_unit);
    return rc;
}

/* Rank 0's pieces to every rank (prefix, after, last each). Collective; agreed rc. */
static enum s3dlio_rc bcast_pieces(MPI_Comm comm, int rank, struct plan *p, struct s3dlio_error *err)
{
    struct s3dlio_buf b = S3DLIO_BUF_INIT((size_t)INT_MAX);
    enum s3dlio_rc rc = S3DLIO_OK;
    for (size_t i = 0; rank == 0 && !rc && i < p->n; i++) {
        if (p->u[i].kind == UNIT_LITERAL)
            continue;
        put_str(&b, p->u[i].prefix);
        put_str(&b, p->u[i].after);
        put_str(&b, p->u[i].last);
        if (b.toobig)
            rc = s3dlio_error_set(err, S3DLIO_E_LIMIT, "list", p->u[i].prefix,
                                  "the table of listing pieces passes 2 GiB");
    }
    if ((rc = s3dlio_coord_agree(comm, rc, err))) {
        s3dlio_buf_release(&b);
        return rc;
    }
    uint64_t len = b.len;
    MPI_Bcast(&len, 1, MPI_UINT64_T, 0, comm);
    char *data = rank == 0 ? b.data : s3dlio_xmalloc(len ? len : 1);
    MPI_Bcast(data, (int)len, MPI_BYTE, 0, comm);
    bool ok = true;
    for (size_t at = 0; rank != 0 && ok && at < len;) {
        const char *prefix = get_str(data, len, &at, &ok);
        const char *after = get_str(data, len, &at, &ok);
        const char *last = get_str(data, len, &at, &ok);
        if (ok && prefix)
            plan_add(p, UNIT_PREFIX, prefix, prefix, after, last);
        else
            ok = false;
    }
    if (!ok)
        rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "list", NULL, "bad piece table");
    if (rank != 0)
        free(data);
    s3dlio_buf_release(&b);
    return s3dlio_coord_agree(comm, rc, err);
}

/* Freed list memory is handed back to the system every this many bytes while packing. */
#define TRIM_EVERY ((size_t)4 << 20)

/*
 * This rank's listings, piece after piece: a count, then key, size, mtime, ETag each. Each
 * piece's list is released once packed, and its memory handed back: the rank then holds about
 * one copy of what it listed (the list, or what is packed of it), not both.
 */
static void pack_lists(struct plan *p, struct s3dlio_buf *b)
{
    /* no cap: it travels in pieces (GATHER_PIECE), so its size is the memory's to limit */
    *b = (struct s3dlio_buf)S3DLIO_BUF_INIT(SIZE_MAX - 1);
    size_t released = 0; /* bytes of lists freed since memory was last handed back */
    for (size_t i = 0; i < p->n; i++) {
        struct s3dlio_objlist *l = &p->u[i].list;
        put_rows(b, l);
        released += s3dlio_objlist_string_bytes(l) + l->alloc * sizeof(*l->items);
        s3dlio_objlist_release(l);
        if (released >= TRIM_EVERY) { /* a trim walks the heap: not once per small piece */
            s3dlio_release_freed_memory();
            released = 0;
        }
    }
}

/* One rank's packed listings into the pieces it listed (rank 0's plan order). */
static bool unpack_lists(const char *buf, size_t len, struct unit **pieces, size_t npieces,
                         int from, int nranks)
{
    size_t at = 0;
    bool ok = true;
    for (size_t j = 0; ok && j < npieces; j++)
        if (mine(j, from, nranks))
            ok = get_rows(buf, len, &at, &pieces[j]->list);
    return ok && at == len;
}

/* ---- rank 0: the merge -------------------------------------------------------------------- */

/* Units in order, each one's keys in order: strictly increasing throughout, or a bug. */
static enum s3dlio_rc merge(struct plan *p, const char *uri, struct s3dlio_objlist *out,
                            struct s3dlio_error *err)
{
    const char *prev = NULL;
    for (size_t i = 0; i < p->n; i++)
        for (size_t k = 0; k < p->u[i].list.n; k++) {
            const char *key = p->u[i].list.items[k].key;
            if (prev && strcmp(prev, key) >= 0)
                return s3dlio_error_set(err, S3DLIO_E_INTERNAL, "list", uri,
                                        "parallel listing out of order: '%s' after '%s' "
                                        "(use --list-parallel off and report this)", key, prev);
            prev = key;
        }
    for (size_t i = 0; i < p->n; i++)
        s3dlio_objlist_splice(out, &p->u[i].list);
    return S3DLIO_OK;
}

/* ---- the collective ----------------------------------------------------------------------- */

/* This rank's pieces listed into their units. */
static enum s3dlio_rc list_mine(const struct s3dlio_config *cfg, const struct s3dlio_uri *uri,
                                struct unit **pieces, size_t npieces, int rank, int nranks,
                                struct s3dlio_error *err)
{
    struct s3dlio_backend *be = NULL;
    enum s3dlio_rc rc = s3dlio_backend_new(uri, cfg, &be, err);
    for (size_t j = 0; !rc && j < npieces; j++)
        if (mine(j, rank, nranks))
            rc = list_piece(be, pieces[j], splice_page, &pieces[j]->list, err);
    s3dlio_backend_free(be);
    return rc;
}

/* The pieces of p (not the literals), in order, pointing into p. */
static struct unit **piece_index(struct plan *p, size_t *n)
{
    struct unit **v = s3dlio_xcalloc(p->n ? p->n : 1, sizeof(*v));
    *n = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->u[i].kind != UNIT_LITERAL)
            v[(*n)++] = &p->u[i];
    return v;
}

/* Messages of at most 1 GiB: MPI counts are int, and a rank's listing may be larger. */
#define GATHER_PIECE ((uint64_t)1 << 30)

/* Every rank's listings to rank 0, into the pieces they came from. Collective; agreed rc. */
static enum s3dlio_rc gather_lists(MPI_Comm comm, int rank, int nranks, struct unit **pieces,
                                   size_t npieces, const char *target, struct s3dlio_error *err)
{
    struct plan own = {0};
    struct s3dlio_buf b;
    /* rank 0's share is already in place; the others' travel */
    for (size_t j = 0; rank != 0 && j < npieces; j++)
        if (mine(j, rank, nranks)) {
            s3dlio_xgrow((void **)&own.u, sizeof(*own.u), own.n + 1, &own.alloc);
            own.u[own.n++] = *pieces[j]; /* moved: pack_lists releases it */
            pieces[j]->list = (struct s3dlio_objlist){0};
        }
    pack_lists(&own, &b);
    free(own.u);
    enum s3dlio_rc rc = S3DLIO_OK;
    /* rank by rank, each unpacked and freed before the next arrives: rank 0 holds the listing
     * and one rank's packed share of it, not every rank's at once */
    int ok = MPI_SUCCESS;
    if (rank != 0)
        ok = s3dlio_coord_send_bytes(comm, 0, b.data, b.len, GATHER_PIECE);
    s3dlio_buf_release(&b);
    for (int r = 1; rank == 0 && r < nranks && ok == MPI_SUCCESS; r++) {
        char *buf = NULL;
        uint64_t len = 0;
        ok = s3dlio_coord_recv_bytes(comm, r, &buf, &len, GATHER_PIECE);
        if (ok == MPI_SUCCESS && !rc && !unpack_lists(buf, (size_t)len, pieces, npieces, r, nranks))
            rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "list", target,
                                  "rank %d's listing arrived damaged", r);
        free(buf);
    }
    if (ok != MPI_SUCCESS && !rc)
        rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "list", target,
                              "gathering the listing failed (MPI error %d)", ok);
    return s3dlio_coord_agree(comm, rc, err);
}

static enum s3dlio_rc list_single(const struct s3dlio_config *cfg, const struct s3dlio_uri *uri,
                                  struct s3dlio_objlist *out, struct s3dlio_error *err)
{
    struct s3dlio_backend *be = NULL;
    enum s3dlio_rc rc = s3dlio_backend_new(uri, cfg, &be, err);
    if (!rc)
        rc = s3dlio_backend_list_all(be, uri->key, NULL, PAGE, out, err);
    s3dlio_backend_free(be);
    return rc;
}

/* The pieces under uri's prefix, found by every rank, in rank 0's plan. Collective; agreed. */
static enum s3dlio_rc find_pieces(MPI_Comm comm, const struct s3dlio_config *cfg,
                                  const struct s3dlio_uri *uri, struct plan *p,
                                  struct s3dlio_error *err)
{
    struct s3dlio_backend *be = NULL;
    enum s3dlio_rc rc = s3dlio_coord_agree(comm, s3dlio_backend_new(uri, cfg, &be, err), err);
    if (!rc)
        rc = discover(comm, be, uri->key ? uri->key : "", p, err);
    s3dlio_backend_free(be);
    return rc;
}

/*
 * The pieces found, known to every rank (rank 0's plan also holds the literals) and indexed
 * in *pieces (freed by the caller, even on failure). Collective; agreed rc.
 */
static enum s3dlio_rc share_pieces(MPI_Comm comm, const struct s3dlio_config *cfg,
                                   const struct s3dlio_uri *uri, struct plan *p,
                                   struct unit ***pieces, size_t *npieces, struct s3dlio_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    enum s3dlio_rc rc = find_pieces(comm, cfg, uri, p, err);
    if (!rc)
        rc = bcast_pieces(comm, rank, p, err);
    *pieces = piece_index(p, npieces);
    return rc;
}

enum s3dlio_rc s3dlio_coord_list(MPI_Comm comm, const struct s3dlio_config *cfg,
                                 const struct s3dlio_uri *uri, bool parallel,
                                 struct s3dlio_objlist *out, struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    if (!parallel || nranks == 1) {
        enum s3dlio_rc rc = rank == 0 ? list_single(cfg, uri, out, err) : S3DLIO_OK;
        return s3dlio_coord_agree(comm, rc, err);
    }
    struct plan p = {0};
    char target[S3DLIO_ERROR_TARGET_MAX];
    s3dlio_uri_join(uri, uri->key ? uri->key : "", target, sizeof(target));
    size_t npieces = 0;
    struct unit **pieces = NULL;
    enum s3dlio_rc rc = share_pieces(comm, cfg, uri, &p, &pieces, &npieces, err);
    if (!rc) {
        S3DLIO_LOG(S3DLIO_LOG_DEBUG, S3DLIO_SUB_COORD, "listing '%s' in %zu pieces over %d ranks",
                   target, npieces, nranks);
        rc = s3dlio_coord_agree(comm, list_mine(cfg, uri, pieces, npieces, rank, nranks, err),
                                err);
    }
    if (!rc)
        rc = gather_lists(comm, rank, nranks, pieces, npieces, target, err);
    if (!rc && rank == 0)
        rc = merge(&p, target, out, err);
    free(pieces);
    plan_release(&p);
    return s3dlio_coord_agree(comm, rc, err);
}

/* ---- the listing left where it was listed ------------------------------------------------- */

void s3dlio_spread_release(struct s3dlio_spread *s)
{
    for (size_t u = 0; s && u < s->nunits; u++)
        s3dlio_rowpack_release(&s->units[u]);
    if (s) {
        free(s->units);
        free(s->unit_pos);
        memset(s, 0, sizeof(*s));
    }
}

/* Rows of a page (or a literal unit) into pack, folder markers counted instead. */
static void pack_rows(struct s3dlio_rowpack *pack, const struct s3dlio_objlist *l,
                      uint64_t *markers)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct s3dlio_object *o = &l->items[i];
        size_t n = strlen(o->key);
        if (n && o->key[n - 1] == '/')
            (*markers)++;
        else
            s3dlio_rowpack_add(pack, o->key, s3dlio_object_etag(o), o->size);
    }
}

/* A unit's rows join the spread (moved; an empty unit is left out: it has no rows to deal). */
static void spread_add(struct s3dlio_spread *s, struct s3dlio_rowpack *rows, uint64_t pos)
{
    if (!rows->rows) {
        s3dlio_rowpack_release(rows);
        return;
    }
    s3dlio_xgrow((void **)&s->units, sizeof(*s->units), s->nunits + 1, &s->units_alloc);
    s3dlio_xgrow((void **)&s->unit_pos, sizeof(*s->unit_pos), s->nunits + 1, &s->pos_alloc);
    s->units[s->nunits] = *rows;
    s->unit_pos[s->nunits++] = pos;
    memset(rows, 0, sizeof(*rows));
}

/* list_piece's take for a piece left where it is listed: the page packed, markers counted. */
struct packing {
    struct s3dlio_rowpack *rows;
    uint64_t *markers;
};

static void pack_page(void *ud, struct s3dlio_objlist *page)
{
    struct packing *p = ud;
    pack_rows(p->rows, page, p->markers);
}

/* Every rank learns where each piece stands among all units (literals are rank 0's only). */
static uint64_t *piece_positions(MPI_Comm comm, int rank, const struct plan *p, size_t npieces,
                                 uint64_t *total_units)
{
    uint64_t *pos = s3dlio_xcalloc(npieces ? npieces : 1, sizeof(*pos));
    for (size_t i = 0, k = 0; rank == 0 && i < p->n; i++)
        if (p->u[i].kind != UNIT_LITERAL)
            pos[k++] = i;
    *total_units = rank == 0 ? p->n : 0;
    MPI_Bcast(total_units, 1, MPI_UINT64_T, 0, comm);
    /* pieces number a few per rank (bcast_pieces sent their bounds in one int-sized message) */
    MPI_Bcast(pos, (int)npieces, MPI_UINT64_T, 0, comm);
    return pos;
}

/* This rank's units in order: rank 0's plan has every unit (literals and pieces), the
 * others' only the pieces. */
static enum s3dlio_rc list_units(const struct s3dlio_config *cfg, const struct s3dlio_uri *uri,
                                 struct plan *p, struct unit **pieces, size_t npieces,
                                 const uint64_t *pos, int rank, int nranks,
                                 struct s3dlio_spread *out, struct s3dlio_error *err)
{
    struct s3dlio_backend *be = NULL;
    enum s3dlio_rc rc = s3dlio_backend_new(uri, cfg, &be, err);
    for (size_t i = 0, k = 0; !rc && i < (rank == 0 ? p->n : npieces); i++) {
        struct unit *u = rank == 0 ? &p->u[i] : pieces[i];
        bool literal = u->kind == UNIT_LITERAL;
        size_t piece = literal ? 0 : k++;
        if (!literal && !mine(piece, rank, nranks))
            continue;
        struct s3dlio_rowpack rows = {0};
        if (literal)
            pack_rows(&rows, &u->list, &out->markers);
        else
            rc = list_piece(be, u, pack_page, &(struct packing){&rows, &out->markers}, err);
        s3dlio_objlist_release(&u->list);
        spread_add(out, &rows, rank == 0 ? i : pos[piece]);
    }
    s3dlio_backend_free(be);
    return rc;
}

enum s3dlio_rc s3dlio_coord_list_spread(MPI_Comm comm, const struct s3dlio_config *cfg,
                                        const struct s3dlio_uri *uri, struct s3dlio_spread *out,
                                        struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    memset(out, 0, sizeof(*out));
    struct plan p = {0};
    char target[S3DLIO_ERROR_TARGET_MAX];
    s3dlio_uri_join(uri, uri->key ? uri->key : "", target, sizeof(target));
    size_t npieces = 0;
    struct unit **pieces = NULL;
    enum s3dlio_rc rc = share_pieces(comm, cfg, uri, &p, &pieces, &npieces, err);
    if (!rc) {
        uint64_t *pos = piece_positions(comm, rank, &p, npieces, &out->total_units);
        S3DLIO_LOG(S3DLIO_LOG_DEBUG, S3DLIO_SUB_COORD,
                   "listing '%s' in %zu pieces over %d ranks, left where listed", target, npieces,
                   nranks);
        rc = list_units(cfg, uri, &p, pieces, npieces, pos, rank, nranks, out, err);
        rc = s3dlio_coord_agree(comm, rc, err);
        free(pos);
    }
    free(pieces);
    plan_release(&p);
    if (rc)
        s3dlio_spread_release(out);
    return rc;
}
