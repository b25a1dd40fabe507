/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dealing a spread listing (see s3dlio_table_deal in coord_int.h). Every rank holds some
 * units of the key space, packed, each a run of the whole listing's order; rank 0 learns each
 * unit's row count and the rows' sizes, places them in the whole order, partitions, and hands
 * each rank the owners of its rows. Each rank then repacks its rows by owner, freeing its
 * units as it goes, and the ranks trade the packs pairwise (shift s: send to rank + s, receive
 * from rank - s) a chunk at a time, freeing each chunk as it leaves, so a rank's memory stays
 * near one share. A rank merges what it received by key: every pack is in key order, so the
 * merge is the share in the whole listing's order, as the merged path would give it.
 *
 * Directory conflicts (a key K that other keys use as the directory K/) are found where the
 * keys are: the keys below "K/" follow K in key order, so walking a unit settles K as soon as
 * a key passes "K/...", unless the unit ends first (its last keys extend K). Those few keys
 * are asked of every rank at once.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "coord/coord_int.h"
#include "util/alloc.h"
#include "util/buf.h"

/* Messages of at most 1 GiB: MPI counts are int. */
#define PIECE ((uint64_t)1 << 30)
/* Freed memory is handed back to the system every this many bytes. */
#define TRIM_EVERY ((uint64_t)4 << 20)

/* ---- directory conflicts ------------------------------------------------------------------ */

/* Keys not yet settled while walking a unit, each a prefix of the ones above it. */
struct open_key {
    char *row;
    size_t kn; /* its key's length */
};

struct open_keys {
    struct open_key *k;
    size_t depth, alloc;
};

static void open_push(struct open_keys *o, char *row, size_t kn)
{
    s3dlio_xgrow((void **)&o->k, sizeof(*o->k), o->depth + 1, &o->alloc);
    o->k[o->depth++] = (struct open_key){row, kn};
}

/*
 * Key m comes next: the open keys it passes are settled (conflict when m is below "K/"). A
 * key that m extends with a character below '/' ("K-x", "K.x") stays open, and so does every
 * key under it (m extends them as it extends it). Folder markers ("K/" itself, no data) were
 * left out as the units were packed, so a key "K/..." here is data below K.
 */
static void settle(struct open_keys *o, const char *m)
{
    while (o->depth) {
        char *row = o->k[o->depth - 1].row;
        size_t kn = o->k[o->depth - 1].kn;
        if (!strncmp(m, s3dlio_row_key(row), kn)) {
            if ((unsigned char)m[kn] < '/')
                return;
            if (m[kn] == '/')
                row[8] = 1;
        }
        o->depth--;
    }
}

/* Keys whose unit ended before they were settled: asked of every rank. */
struct asks {
    struct s3dlio_buf text; /* each key followed by "/" and a NUL: what is asked about */
    char **row;             /* the asking row */
    size_t n, alloc;
};

static void local_conflicts(struct s3dlio_spread *s, struct asks *a)
{
    struct open_keys o = {0};
    for (size_t u = 0; u < s->nunits; u++) {
        struct s3dlio_rowpack_at at;
        o.depth = 0;
        for (bool more = s3dlio_rowpack_first(&s->units[u], &at); more;
             more = s3dlio_rowpack_next(&at)) {
            const char *m = s3dlio_row_key(at.row);
            size_t mn = strlen(m);
            settle(&o, m);
            if (mn && m[mn - 1] != '/')
                open_push(&o, at.row, mn);
        }
        for (size_t d = 0; d < o.depth; d++) {
            s3dlio_xgrow((void **)&a->row, sizeof(*a->row), a->n + 1, &a->alloc);
            a->row[a->n++] = o.k[d].row;
            s3dlio_buf_add(&a->text, s3dlio_row_key(o.k[d].row), o.k[d].kn);
            s3dlio_buf_add(&a->text, "/", 2);
        }
    }
    free(o.k);
}

struct ask {
    const char *dir; /* "K/" */
    size_t index;    /* its place among every rank's asks */
};

static int cmp_ask(const void *a, const void *b)
{
    return strcmp(((const struct ask *)a)->dir, ((const struct ask *)b)->dir);
}

/* This rank's rows in key order across its units. */
struct walk {
    const struct s3dlio_spread *s;
    size_t u;
    struct s3dlio_rowpack_at at;
};

static bool walk_next(struct walk *w)
{
    if (s3dlio_rowpack_next(&w->at))
        return true;
    while (++w->u < w->s->nunits)
        if (s3dlio_rowpack_first(&w->s->units[w->u], &w->at))
            return true;
    return false;
}

static bool walk_first(struct walk *w, const struct s3dlio_spread *s)
{
    w->s = s;
    for (w->u = 0; w->u < s->nunits; w->u++)
        if (s3dlio_rowpack_first(&s->units[w->u], &w->at))
            return true;
    return false;
}

/*
 * For each asked "K/" (nasks of them, packed in text): does this rank hold a key below it?
 * The questions sorted, one walk over the rows answers them all.
 */
static void answer(const struct s3dlio_spread *s, const char *text, size_t nasks,
                   unsigned char *yes)
{
    struct ask *q = s3dlio_xcalloc(nasks ? nasks : 1, sizeof(*q));
    const char *k = text;
    for (size_t i = 0; i < nasks; i++, k += strlen(k) + 1)
        q[i] = (struct ask){k, i};
    qsort(q, nasks, sizeof(*q), cmp_ask);
    struct walk w;
    bool more = walk_first(&w, s);
    for (size_t i = 0; i < nasks && more; i++) {
        while (more && strcmp(s3dlio_row_key(w.at.row), q[i].dir) < 0)
            more = walk_next(&w);
        /* the first key at or after "K/" is below it, or nothing is (no markers here) */
        if (more && !strncmp(s3dlio_row_key(w.at.row), q[i].dir, strlen(q[i].dir)))
            yes[q[i].index] = 1;
    }
    free(q);
}

static enum s3dlio_rc find_conflicts(MPI_Comm comm, struct s3dlio_spread *s,
                                     struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    struct asks a = {.text = S3DLIO_BUF_INIT((size_t)INT_MAX)};
    local_conflicts(s, &a);
    enum s3dlio_rc rc = S3DLIO_OK;
    if (a.text.toobig)
        rc = s3dlio_error_set(err, S3DLIO_E_LIMIT, "list", NULL,
                              "the keys to check for directory conflicts pass 2 GiB");
    /* every rank's questions, on every rank */
    int mine[2] = {(int)a.text.len, (int)a.n};
    int *all = s3dlio_xcalloc(2 * (size_t)nranks, sizeof(*all));
    int *lens = s3dlio_xcalloc((size_t)nranks, sizeof(*lens));
    int *displs = s3dlio_xcalloc((size_t)nranks, sizeof(*displs));
    if (!(rc = s3dlio_coord_agree(comm, rc, err)))
        MPI_Allgather(mine, 2, MPI_INT, all, 2, MPI_INT, comm);
    uint64_t total = 0, nasks = 0, mine_at = 0;
    for (int r = 0; !rc && r < nranks; r++) {
        lens[r] = all[2 * r];
        displs[r] = (int)(total < INT_MAX ? total : 0);
        total += (uint64_t)all[2 * r];
        if (r < rank)
            mine_at += (uint64_t)all[2 * r + 1];
        nasks += (uint64_t)all[2 * r + 1];
    }
    if (!rc && (total > INT_MAX || nasks > INT_MAX)) /* the same sums on every rank */
        rc = s3dlio_error_set(err, S3DLIO_E_LIMIT, "list", NULL,
                              "the keys to check for directory conflicts pass 2 GiB");
    if (!rc) {
        char *text = s3dlio_xmalloc(total ? total : 1);
        unsigned char *yes = s3dlio_xcalloc(nasks ? nasks : 1, 1);
        MPI_Allgatherv(a.text.data, mine[0], MPI_BYTE, text, lens, displs, MPI_BYTE, comm);
        answer(s, text, (size_t)nasks, yes);
        MPI_Allreduce(MPI_IN_PLACE, yes, (int)nasks, MPI_UNSIGNED_CHAR, MPI_MAX, comm);
        for (size_t q = 0; q < a.n; q++)
            a.row[q][8] = (char)yes[mine_at + q];
        free(text);
        free(yes);
    }
    free(all);
    free(lens);
    free(displs);
    s3dlio_buf_release(&a.text);
    free(a.row);
    return rc;
}

/* ---- rank 0: sizes in, owners out --------------------------------------------------------- */

/* This rank's units as (position, rows) pairs. */
static uint64_t *unit_pairs(const struct s3dlio_spread *s)
{
    uint64_t *p = s3dlio_xcalloc(2 * s->nunits + 1, sizeof(*p));
    for (size_t u = 0; u < s->nunits; u++) {
        p[2 * u] = s->unit_pos[u];
        p[2 * u + 1] = s->units[u].rows;
    }
    return p;
}

static size_t spread_rows(const struct s3dlio_spread *s)
{
    size_t n = 0;
    for (size_t u = 0; u < s->nunits; u++)
        n += s->units[u].rows;
    return n;
}

/* What rank 0 knows of the whole listing while it partitions. */
struct whole {
    uint64_t *pairs;  /* every rank's (unit position, rows) pairs, rank after rank */
    int *npairs, *pairs_at;
    uint64_t *first;  /* row of the whole listing where each unit starts */
    uint64_t n;
};

static bool whole_units(struct whole *w, uint64_t total_units, int nranks)
{
    uint64_t *rows = s3dlio_xcalloc(total_units + 1, sizeof(*rows));
    bool ok = true;
    for (int r = 0; r < nranks; r++)
        for (int k = 0; k < w->npairs[r]; k++) {
            const uint64_t *pr = w->pairs + 2 * (w->pairs_at[r] + k);
            if (pr[0] >= total_units || rows[pr[0]])
                ok = false; /* a unit out of range, or listed twice */
            else
                rows[pr[0]] = pr[1];
        }
    w->first = rows; /* turned into starts in place */
    uint64_t at = 0;
    for (uint64_t u = 0; u < total_units; u++) {
        uint64_t n = rows[u];
        rows[u] = at;
        at += n;
    }
    w->n = at;
    return ok;
}

/* The sizes of rank r's rows (len bytes, as it holds them) into their places in sizes; false
 * when they are not the rows its units count. */
static bool place_sizes(const struct whole *w, int r, const uint64_t *from, uint64_t len,
                        uint64_t *sizes)
{
    uint64_t rows = 0;
    for (int k = 0; k < w->npairs[r]; k++)
        rows += w->pairs[2 * (w->pairs_at[r] + k) + 1];
    if (len != rows * sizeof(*sizes))
        return false;
    for (int k = 0; k < w->npairs[r]; k++) {
        const uint64_t *pr = w->pairs + 2 * (w->pairs_at[r] + k);
        memcpy(sizes + w->first[pr[0]], from, pr[1] * sizeof(*sizes));
        from += pr[1];
    }
    return true;
}

/* Rank r's rows' owners, in the order it holds its rows. */
static int32_t *owners_of(const struct whole *w, int r, const int *owner, uint64_t *n)
{
    *n = 0;
    for (int k = 0; k < w->npairs[r]; k++)
        *n += w->pairs[2 * (w->pairs_at[r] + k) + 1];
    int32_t *o = s3dlio_xcalloc(*n ? *n : 1, sizeof(*o));
    uint64_t at = 0;
    for (int k = 0; k < w->npairs[r]; k++) {
        const uint64_t *pr = w->pairs + 2 * (w->pairs_at[r] + k);
        for (uint64_t i = 0; i < pr[1]; i++)
            o[at++] = owner[w->first[pr[0]] + i];
    }
    return o;
}

/* My rows' sizes, in the order I hold them. */
static uint64_t *my_sizes(const struct s3dlio_spread *s, size_t n)
{
    uint64_t *v = s3dlio_xcalloc(n ? n : 1, sizeof(*v));
    size_t at = 0;
    struct walk w;
    for (bool more = walk_first(&w, s); more; more = walk_next(&w))
        v[at++] = s3dlio_row_size(w.at.row);
    return v;
}

/*
 * Rank 0 partitions the whole listing from its sizes alone and sends each rank the owners of
 * the rows it holds; *mine gets this rank's. listed and bytes: the whole listing's, everywhere.
 */
static enum s3dlio_rc partition_spread(MPI_Comm comm, const struct s3dlio_spread *s,
                                       const struct s3dlio_deal *d, int32_t **mine,
                                       uint64_t *listed, uint64_t *bytes, struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    size_t nmine = spread_rows(s);
    uint64_t *pairs = unit_pairs(s);
    struct whole w = {0};
    size_t total = 0;
    w.pairs = (uint64_t *)(void *)s3dlio_coord_gather_bytes(
        comm, pairs, (int)(2 * s->nunits * sizeof(*pairs)), &total, &w.npairs, &w.pairs_at);
    free(pairs);
    enum s3dlio_rc rc = S3DLIO_OK;
    uint64_t *sizes = NULL;
    if (rank == 0) {
        for (int r = 0; r < nranks; r++) { /* gathered as bytes: into pairs */
            w.npairs[r] /= (int)(2 * sizeof(uint64_t));
            w.pairs_at[r] /= (int)(2 * sizeof(uint64_t));
        }
        if (!whole_units(&w, s->total_units, nranks))
            rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "list", NULL,
                                  "the ranks' listed pieces overlap (use --list-parallel off "
                                  "and report this)");
        sizes = s3dlio_xcalloc(w.n ? w.n : 1, sizeof(*sizes));
    }
    /* the sizes, rank by rank: rank 0 holds one rank's beside the whole array */
    uint64_t *own = my_sizes(s, nmine);
    int ok = MPI_SUCCESS;
    if (rank != 0)
        ok = s3dlio_coord_send_bytes(comm, 0, (const char *)own, nmine * sizeof(*own), PIECE);
    for (int r = 0; rank == 0 && r < nranks && ok == MPI_SUCCESS; r++) {
        char *buf = (char *)own;
        uint64_t len = nmine * sizeof(*own);
        if (r != 0)
            ok = s3dlio_coord_recv_bytes(comm, r, &buf, &len, PIECE);
        if (ok == MPI_SUCCESS && !rc && !place_sizes(&w, r, (const uint64_t *)(void *)buf, len, sizes))
            rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "list", NULL,
                                  "rank %d's sizes do not match its pieces", r);
        if (r != 0)
            free(buf);
    }
    free(own);
    int *owner = NULL;
    uint64_t sums[2] = {0, 0};
    if (rank == 0 && !rc && ok == MPI_SUCCESS) {
        for (uint64_t i = 0; i < w.n; i++)
            sums[1] += sizes[i];
        owner = s3dlio_coord_partition_sizes(sizes, (size_t)w.n, d->mode, d->shuffle_seed, nranks);
        sums[0] = w.n;
    }
    free(sizes);
    if (ok != MPI_SUCCESS && !rc)
        rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "list", NULL,
                              "gathering the listing's sizes failed (MPI error %d)", ok);
    if (!(rc = s3dlio_coord_agree(comm, rc, err))) {
        MPI_Bcast(sums, 2, MPI_UINT64_T, 0, comm);
        *listed = sums[0];
        *bytes = sums[1];
        for (int r = 0; rank == 0 && r < nranks && ok == MPI_SUCCESS; r++) {
            uint64_t n = 0;
            int32_t *o = owners_of(&w, r, owner, &n);
            if (r == 0)
                *mine = o;
            else {
                ok = s3dlio_coord_send_bytes(comm, r, (const char *)o, n * sizeof(*o), PIECE);
                free(o);
            }
        }
        uint64_t len = 0;
        if (rank != 0)
            ok = s3dlio_coord_recv_bytes(comm, 0, (char **)mine, &len, PIECE);
        if (ok == MPI_SUCCESS && rank != 0 && len != nmine * sizeof(**mine))
            rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "list", NULL,
                                  "%" PRIu64 " owners for %zu rows", len / sizeof(**mine), nmine);
        if (ok != MPI_SUCCESS && !rc)
            rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "list", NULL,
                                  "sending the owners failed (MPI error %d)", ok);
        rc = s3dlio_coord_agree(comm, rc, err);
    }
    free(owner);
    free(w.pairs);
    free(w.npairs);
    free(w.pairs_at);
    free(w.first);
    return rc;
}

/* ---- the rows to their owners ------------------------------------------------------------- */

/* One pack per owner of this rank's rows, in key order; each unit is freed once repacked. */
static void pack_by_owner(struct s3dlio_spread *s, const int32_t *owner,
                          struct s3dlio_rowpack *out)
{
    size_t row = 0;
    uint64_t released = 0;
    for (size_t u = 0; u < s->nunits; u++) {
        struct s3dlio_rowpack_at at;
        for (bool more = s3dlio_rowpack_first(&s->units[u], &at); more;
             more = s3dlio_rowpack_next(&at))
            s3dlio_rowpack_add_row(&out[owner[row++]], at.row);
        for (size_t c = 0; c < s->units[u].n; c++)
            released += s->units[u].len[c];
        s3dlio_rowpack_release(&s->units[u]);
        if (released >= TRIM_EVERY) { /* a trim walks the heap: not per small unit */
            s3dlio_release_freed_memory();
            released = 0;
        }
    }
    s3dlio_release_freed_memory();
}

/*
 * Pairwise: at shift s my pack for rank + s leaves, chunk by chunk, while rank - s's for me
 * arrives; each chunk sent is freed before the next. *damaged: a chunk arrived that does not
 * hold whole rows (dropped; the trade goes on, so no rank waits for it).
 */
static int trade(MPI_Comm comm, int rank, int nranks, struct s3dlio_rowpack *out,
                 struct s3dlio_rowpack *in, bool *damaged)
{
    int ok = MPI_SUCCESS;
    uint64_t released = 0; /* bytes sent and freed since memory was last handed back */
    in[rank] = out[rank];
    memset(&out[rank], 0, sizeof(out[rank]));
    for (int s = 1; s < nranks && ok == MPI_SUCCESS; s++) {
        int to = (rank + s) % nranks, from = (rank - s + nranks) % nranks;
        uint64_t nout = out[to].n, nin = 0;
        ok = MPI_Sendrecv(&nout, 1, MPI_UINT64_T, to, 0, &nin, 1, MPI_UINT64_T, from, 0, comm,
                          MPI_STATUS_IGNORE);
        for (uint64_t c = 0; ok == MPI_SUCCESS && (c < nout || c < nin); c++) {
            MPI_Request req[2];
            int nreq = 0;
            if (c < nout) { /* a chunk is 1 MiB or one row: an int count */
                MPI_Isend(&out[to].len[c], 1, MPI_UINT64_T, to, 0, comm, &req[nreq++]);
                MPI_Isend(out[to].chunk[c], (int)out[to].len[c], MPI_BYTE, to, 0, comm, &req[nreq++]);
            }
            if (c < nin) {
                uint64_t len = 0;
                ok = MPI_Recv(&len, 1, MPI_UINT64_T, from, 0, comm, MPI_STATUS_IGNORE);
                if (ok == MPI_SUCCESS && len > INT_MAX)
                    ok = MPI_ERR_COUNT;
                char *buf = ok == MPI_SUCCESS ? s3dlio_xmalloc(len ? len : 1) : NULL;
                if (buf)
                    ok = MPI_Recv(buf, (int)len, MPI_BYTE, from, 0, comm, MPI_STATUS_IGNORE);
                size_t rows = buf && ok == MPI_SUCCESS ? s3dlio_rowpack_count(buf, len) : SIZE_MAX;
                if (rows != SIZE_MAX) {
                    s3dlio_rowpack_adopt(&in[from], buf, len, rows);
                } else {
                    *damaged = *damaged || buf;
                    free(buf);
                }
            }
            int sent = MPI_Waitall(nreq, req, MPI_STATUSES_IGNORE);
            if (ok == MPI_SUCCESS)
                ok = sent;
            if (c < nout) {
                released += out[to].len[c];
                free(out[to].chunk[c]);
                out[to].chunk[c] = NULL;
            }
        }
        s3dlio_rowpack_release(&out[to]);
        if (released >= TRIM_EVERY) { /* a trim walks the heap: not once per rank traded with */
            s3dlio_release_freed_memory();
            released = 0;
        }
    }
    s3dlio_release_freed_memory();
    return ok;
}

/* A min-heap of the packs' next rows, by key. */
static void heap_down(struct s3dlio_rowpack_at *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && strcmp(s3dlio_row_key(h[l].row), s3dlio_row_key(h[m].row)) < 0)
            m = l;
        if (r < n && strcmp(s3dlio_row_key(h[r].row), s3dlio_row_key(h[m].row)) < 0)
            m = r;
        if (m == i)
            return;
        struct s3dlio_rowpack_at c = h[i];
        h[i] = h[m];
        h[m] = c;
        i = m;
    }
}

/* The packs, each in key order, merged into t's rows (keys point into the chunks). */
static bool merge_packs(struct s3dlio_table *t, const struct s3dlio_rowpack *in, int nranks)
{
    size_t n = 0;
    for (int r = 0; r < nranks; r++)
        n += in[r].rows;
    t->n = n;
    t->keys = s3dlio_xcalloc(n ? n : 1, sizeof(*t->keys)); /* sizes, flags: in the rows */
    struct s3dlio_rowpack_at *h = s3dlio_xcalloc((size_t)nranks, sizeof(*h));
    size_t nh = 0;
    for (int r = 0; r < nranks; r++)
        nh += s3dlio_rowpack_first(&in[r], &h[nh]);
    for (size_t i = nh / 2; i-- > 0;)
        heap_down(h, nh, i);
    bool ordered = true;
    for (size_t row = 0; row < n && nh; row++) {
        const char *key = s3dlio_row_key(h[0].row);
        if (row && strcmp(t->keys[row - 1], key) >= 0)
            ordered = false; /* a key twice: the listing's pieces overlapped */
        t->keys[row] = key;
        if (!s3dlio_rowpack_next(&h[0]))
            h[0] = h[--nh];
        heap_down(h, nh, 0);
    }
    free(h);
    return ordered;
}

/* Every chunk of in, to be freed with the table. */
static void keep_chunks(struct s3dlio_table *t, struct s3dlio_rowpack *in, int nranks)
{
    size_t n = 0;
    for (int r = 0; r < nranks; r++)
        n += in[r].n;
    t->parts = s3dlio_xcalloc(n ? n : 1, sizeof(*t->parts));
    for (int r = 0; r < nranks; r++) {
        for (size_t c = 0; c < in[r].n; c++)
            t->parts[t->nparts++] = in[r].chunk[c];
        in[r].n = 0; /* the table's now */
        s3dlio_rowpack_release(&in[r]);
    }
}

enum s3dlio_rc s3dlio_table_deal(MPI_Comm comm, struct s3dlio_spread *s, const struct s3dlio_deal *d,
                                 struct s3dlio_table *t, struct s3dlio_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    memset(t, 0, sizeof(*t));
    enum s3dlio_rc rc = d->dir_conflicts ? find_conflicts(comm, s, err) : S3DLIO_OK;
    int32_t *owner = NULL;
    uint64_t listed = 0, bytes = 0;
    if (!rc)
        rc = partition_spread(comm, s, d, &owner, &listed, &bytes, err);
    if (rc) {
        s3dlio_spread_release(s);
        return rc;
    }
    struct s3dlio_rowpack *out = s3dlio_xcalloc((size_t)nranks, sizeof(*out));
    struct s3dlio_rowpack *in = s3dlio_xcalloc((size_t)nranks, sizeof(*in));
    pack_by_owner(s, owner, out);
    s3dlio_spread_release(s);
    free(owner);
    bool damaged = false;
    int ok = trade(comm, rank, nranks, out, in, &damaged);
    for (int r = 0; r < nranks; r++) {
        s3dlio_rowpack_release(&out[r]); /* left by a failed trade */
        if (r != rank)
            for (size_t c = 0; c < in[r].n; c++)
                t->received_bytes += in[r].len[c];
    }
    free(out);
    if (ok != MPI_SUCCESS)
        rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "list", NULL,
                              "dealing the listing failed (MPI error %d)", ok);
    else if (damaged || !merge_packs(t, in, nranks))
        rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "list", NULL,
                              "the listing dealt to rank %d arrived damaged or out of order", rank);
    keep_chunks(t, in, nranks);
    free(in);
    t->listed = (size_t)listed;
    t->total_bytes = bytes;
    t->share_only = true;
    return s3dlio_coord_agree(comm, rc, err);
}
