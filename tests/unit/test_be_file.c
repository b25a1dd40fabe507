/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the file:// backend. They call the ops table directly (not the registry
 * in backend.c) on a temporary tree made with mkdtemp under ${TMPDIR:-/tmp}.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw, symlink */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backend/be_file.h"
#include "check.h"
#include "s3dlio/backend.h"
#include "s3dlio/uri.h"
#include "util/alloc.h"
#include "util/buf.h"

#define MIB     ((uint64_t)1 << 20)
#define BIG_LEN (3 * MIB + 5) /* more than one 1 MiB chunk, not a multiple of it */

static const struct s3dlio_backend_ops *const ops = &s3dlio_backend_file;
static struct s3dlio_backend be = { .ops = &s3dlio_backend_file };
static char root[1024];  /* the temporary directory, "/tmp/s3dlio-befile-XXXXXX" */
static const char *base; /* its key: root without the leading '/' */

/* ---- fixtures ---- */

/* base + "/" + rel, in one of a few rotating static buffers (no frees in the tests). */
static const char *key(const char *rel)
{
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof(bufs[0]), "%s/%s", base, rel);
    return b;
}

static const char *path(const char *rel)
{
    static char bufs[4][4096];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s/%s", root, rel);
    return b;
}

static const char *target(const char *rel)
{
    static char b[4200];
    snprintf(b, sizeof(b), "file:///%s", key(rel));
    return b;
}

static unsigned char pattern(uint64_t i)
{
    return (unsigned char)(i * 7 + i / 251 + 3);
}

/* mkdir -p of the parents of rel, done here so listing tests do not rely on PUT. */
static void make_parents(const char *rel)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s", path(rel));
    for (char *s = strchr(p + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(p, 0777);
        *s = '/';
    }
}

static void make_file(const char *rel, const char *data)
{
    make_parents(rel);
    FILE *f = fopen(path(rel), "wb");
    if (!f) {
        fprintf(stderr, "cannot create %s: %s\n", path(rel), strerror(errno));
        exit(1);
    }
    fputs(data, f);
    fclose(f);
}

static void make_pattern_file(const char *rel, uint64_t len)
{
    make_parents(rel);
    FILE *f = fopen(path(rel), "wb");
    for (uint64_t i = 0; f && i < len; i++)
        fputc(pattern(i), f);
    if (f)
        fclose(f);
}

static void make_dir(const char *rel)
{
    make_parents(rel);
    mkdir(path(rel), 0777);
}

static bool exists(const char *rel)
{
    struct stat st;
    return !lstat(path(rel), &st);
}

/* Names in directory rel holding the temporary-file tag. */
static int count_temp_files(const char *rel)
{
    DIR *d = opendir(path(rel));
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        n += strstr(de->d_name, ".s3dlio-tmp.") != NULL;
    if (d)
        closedir(d);
    return n;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void backend_open(struct s3dlio_backend *b)
{
    struct s3dlio_error err = { 0 };
    b->ops = ops;
    CHECK_INT(s3dlio_uri_parse(&b->root, "file:///", &err), S3DLIO_OK, "parse file:///");
    CHECK_INT(ops->open(b, NULL, &err), S3DLIO_OK, "open");
}

static void backend_close(struct s3dlio_backend *b)
{
    ops->close(b);
    s3dlio_uri_release(&b->root);
}

/* ---- listing helpers ---- */

/* A whole listing, keys and CommonPrefixes relative to base, each joined by '|'. */
struct listing {
    struct s3dlio_buf keys, prefixes;
    size_t nkeys, nprefixes, pages;
    bool page_ok; /* every page within max_keys, truncated iff a token */
    enum s3dlio_rc rc;
    struct s3dlio_error err;
};

static void join_rel(struct s3dlio_buf *b, const char *k)
{
    size_t n = strlen(base);
    if (b->len)
        s3dlio_buf_addc(b, '|');
    if (!strncmp(k, base, n) && k[n] == '/')
        s3dlio_buf_adds(b, k + n + 1);
    else
        s3dlio_buf_addf(b, "!%s", k); /* outside the tree: shows up in the diff */
}

static void take_page(struct listing *l, const struct s3dlio_list_page *p, int max)
{
    l->pages++;
    size_t n = p->list.n + p->list.nprefixes;
    bool empty_listing = n == 0 && l->pages == 1 && !p->truncated; /* the one page allowed empty */
    if (n > (size_t)max || (n == 0 && !empty_listing) || p->truncated != (p->next_token != NULL))
        l->page_ok = false;
    for (size_t i = 0; i < p->list.n; i++)
        join_rel(&l->keys, p->list.items[i].key);
    for (size_t i = 0; i < p->list.nprefixes; i++)
        join_rel(&l->prefixes, p->list.prefixes[i]);
    l->nkeys += p->list.n;
    l->nprefixes += p->list.nprefixes;
}

/*
 * List prefix base/rel page by page. fresh: a new backend for every page, so each page
 * after the first resumes from the token alone (the seek path, no cached cursor).
 */
static void list_rel(const char *rel, const char *delim, int max, bool fresh, struct listing *l)
{
    memset(l, 0, sizeof(*l));
    l->keys = (struct s3dlio_buf)S3DLIO_BUF_INIT(1 << 24);
    l->prefixes = (struct s3dlio_buf)S3DLIO_BUF_INIT(1 << 24);
    l->page_ok = true;
    char *token = NULL;
    struct s3dlio_backend b = { 0 };
    backend_open(&b);
    do {
        struct s3dlio_list_req req = { key(rel), delim, max, token, NULL };
        struct s3dlio_list_page page = { 0 };
        if (fresh) {
            backend_close(&b);
            backend_open(&b);
        }
        l->rc = ops->list(&b, &req, &page, &l->err);
        free(token);
        token = page.next_token ? s3dlio_xstrdup(page.next_token) : NULL;
        if (!l->rc)
            take_page(l, &page, max ? max : 1000);
        s3dlio_list_page_release(&page);
    } while (!l->rc && token);
    free(token);
    backend_close(&b);
}

static void listing_release(struct listing *l)
{
    s3dlio_buf_release(&l->keys);
    s3dlio_buf_release(&l->prefixes);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- object request helpers ---- */

struct sink {
    unsigned char *data; /* indexed by object offset */
    size_t cap;
    uint64_t next; /* offset the next call must start at */
    size_t max_chunk;
    int calls;
    bool ordered;
};

static enum s3dlio_rc sink_cb(void *ud, uint64_t off, const void *data, size_t len)
{
    struct sink *s = ud;
    if (off != s->next && s->calls)
        s->ordered = false;
    if (off + len > s->cap)
        return S3DLIO_E_LIMIT;
    memcpy(s->data + off, data, len);
    s->next = off + len;
    s->calls++;
    if (len > s->max_chunk)
        s->max_chunk = len;
    return S3DLIO_OK;
}

struct source {
    uint64_t fail_at; /* fail (or end, if short) when asked for bytes at or past this */
    bool short_body;  /* end early instead of failing */
    int calls;
};

static enum s3dlio_rc source_cb(void *ud, uint64_t off, void *buf, size_t len, size_t *got)
{
    struct source *s = ud;
    s->calls++;
    *got = 0;
    if (off >= s->fail_at)
        return s->short_body ? S3DLIO_OK : S3DLIO_E_ABORTED;
    if (s->short_body && len > s->fail_at - off)
        len = (size_t)(s->fail_at - off);
    for (size_t i = 0; i < len; i++)
        ((unsigned char *)buf)[i] = pattern(off + i);
    *got = len;
    return S3DLIO_OK;
}

struct done_rec {
    int calls;
    enum s3dlio_rc rc;
};

static void on_done(struct s3dlio_req *req, enum s3dlio_rc rc, void *ud)
{
    struct done_rec *d = ud;
    (void)req;
    d->calls++;
    d->rc = rc;
}

/* Submit and drive one request; checks that done fires from progress, once. */
static enum s3dlio_rc run(struct s3dlio_req *req, const char *name)
{
    struct done_rec d = { 0 };
    size_t inflight = 99;
    req->done = on_done;
    req->done_ud = &d;
    enum s3dlio_rc rc = ops->submit(&be, req);
    if (rc)
        return rc;
    CHECK_INT(d.calls, 0, name);
    CHECK_INT(ops->progress(&be, 0, &inflight), S3DLIO_OK, name);
    CHECK_INT(d.calls, 1, name);
    CHECK_INT(inflight, 0, name);
    return d.rc;
}

static enum s3dlio_rc get(const char *rel, uint64_t off, uint64_t len, struct sink *s,
                          struct s3dlio_req *req, const char *name)
{
    memset(req, 0, sizeof(*req));
    *req = (struct s3dlio_req){ .op = S3DLIO_REQ_GET,
                                .key = key(rel),
                                .offset = off,
                                .length = len,
                                .sink = sink_cb,
                                .sink_ud = s };
    return run(req, name);
}

static enum s3dlio_rc put(const char *rel, uint64_t len, struct source *src, struct s3dlio_req *req,
                          const char *name)
{
    memset(req, 0, sizeof(*req));
    *req = (struct s3dlio_req){ .op = S3DLIO_REQ_PUT,
                                .key = key(rel),
                                .length = len,
                                .source = src ? source_cb : NULL,
                                .source_ud = src };
    return run(req, name);
}

/* GET rel whole and compare it with the pattern of length len. */
static void check_pattern_object(const char *rel, uint64_t len, const char *name)
{
    struct sink s = { .data = s3dlio_xmalloc(len + 1), .cap = len, .ordered = true };
    struct s3dlio_req req;
    CHECK_INT(get(rel, 0, S3DLIO_LEN_TO_END, &s, &req, name), S3DLIO_OK, name);
    CHECK_INT(req.bytes, len, name);
    CHECK_INT(req.object_size, len, name);
    CHECK(s.ordered && s.max_chunk <= MIB, name);
    uint64_t bad = 0;
    for (uint64_t i = 0; i < len && !bad; i++)
        bad = s.data[i] != pattern(i) ? i + 1 : 0;
    CHECK_INT(bad, 0, name);
    free(s.data);
}

/* ---- listing tests ---- */

static const char *const order_keys[] = {
    "a-b", "a/b",    "a0",           "a/c/d", "a/b0", "Z",  "0",
    "-",   " space", "\xc3\xa9.bin", "a b",   "ab/c", "zz", "~tilde",
};

static void setup_order_tree(void)
{
    char rel[256];
    for (size_t i = 0; i < sizeof(order_keys) / sizeof(order_keys[0]); i++) {
        snprintf(rel, sizeof(rel), "ord/%s", order_keys[i]);
        make_file(rel, "zz-content");
    }
    make_dir("ord/empty");
    make_dir("ord/emptytree/x/y");
}

/* Recursive order must be strcmp order of full keys, whatever the directory layout. */
static void test_list_order(void)
{
    size_t n = sizeof(order_keys) / sizeof(order_keys[0]);
    const char *sorted[sizeof(order_keys) / sizeof(order_keys[0])];
    char want[1024] = "";
    memcpy(sorted, order_keys, sizeof(sorted));
    qsort(sorted, n, sizeof(sorted[0]), cmp_str);
    for (size_t i = 0; i < n; i++)
        snprintf(want + strlen(want), sizeof(want) - strlen(want), "%sord/%s", i ? "|" : "",
                 sorted[i]);
    struct listing l;
    list_rel("ord/", NULL, 0, false, &l);
    CHECK_INT(l.rc, S3DLIO_OK, "order: rc");
    CHECK_STR(s3dlio_buf_str(&l.keys), want, "order: recursive = strcmp order");
    CHECK_STR(s3dlio_buf_str(&l.prefixes), "", "order: no prefixes without delimiter");
    CHECK(l.page_ok && l.pages == 1, "order: one page");
    listing_release(&l);
    /* '-' 0x2d < '/' 0x2f < '0' 0x30: a walk sorted by bare names puts a/ before a-b */
    list_rel("ord/a", NULL, 0, false, &l);
    CHECK_STR(s3dlio_buf_str(&l.keys), "ord/a b|ord/a-b|ord/a/b|ord/a/b0|ord/a/c/d|ord/a0|ord/ab/c",
              "order: prefix not ending in '/', byte order across directories");
    listing_release(&l);
}

/* The pg/ tree in S3 order: "b-" before "b/...", "d/e/..." before "d0". */
#define PG_ALL "pg/a|pg/b-|pg/b/1|pg/b/2|pg/b/3|pg/c|pg/d/e/f|pg/d/e/g|pg/d0|pg/e"

struct list_case {
    const char *name;
    const char *prefix; /* relative to base */
    const char *delim;
    int max_keys;
    const char *keys, *prefixes;
};

static const struct list_case list_cases[] = {
    { "delimited top", "ord/", "/", 0,
      "ord/ space|ord/-|ord/0|ord/Z|ord/a b|ord/a-b|ord/a0|ord/zz|ord/~tilde|ord/\xc3\xa9.bin",
      "ord/a/|ord/ab/" },
    { "delimited, 2 per page", "ord/", "/", 2,
      "ord/ space|ord/-|ord/0|ord/Z|ord/a b|ord/a-b|ord/a0|ord/zz|ord/~tilde|ord/\xc3\xa9.bin",
      "ord/a/|ord/ab/" },
    { "delimited, partial prefix", "ord/a", "/", 0, "ord/a b|ord/a-b|ord/a0", "ord/a/|ord/ab/" },
    { "delimited, 1 per page", "ord/a", "/", 1, "ord/a b|ord/a-b|ord/a0", "ord/a/|ord/ab/" },
    { "delimited one level down", "ord/a/", "/", 0, "ord/a/b|ord/a/b0", "ord/a/c/" },
    { "file as a prefix", "ord/zz", NULL, 0, "ord/zz", "" },
    { "empty dirs are invisible", "ord/empty", NULL, 0, "", "" },
    { "empty tree, delimited", "ord/emptytree/", "/", 0, "", "" },
    { "unknown prefix", "nope/", NULL, 0, "", "" },
    { "unknown deep prefix", "nope/a/b", "/", 0, "", "" },
    { "pages of 3", "pg/", NULL, 3, PG_ALL, "" },
    { "pages of 1", "pg/", NULL, 1, PG_ALL, "" },
    { "pages of 3, delimited", "pg/", "/", 3, "pg/a|pg/b-|pg/c|pg/d0|pg/e", "pg/b/|pg/d/" },
    { "temp files skipped", "tmp/", NULL, 0, "tmp/obj", "" },
    { "temp-only dir is no prefix", "tmp/", "/", 0, "tmp/obj", "" },
    { "symlinks: files yes, dirs no", "sym/", NULL, 0, "sym/lnk|sym/real", "" },
    { "symlinks, delimited", "sym/", "/", 0, "sym/lnk|sym/real", "" },
};

static void setup_list_trees(void)
{
    static const char *const pg[] = { "a", "b/1",   "b/2",   "b/3", "b-",
                                      "c", "d/e/f", "d/e/g", "d0",  "e" };
    char rel[64];
    for (size_t i = 0; i < sizeof(pg) / sizeof(pg[0]); i++) {
        snprintf(rel, sizeof(rel), "pg/%s", pg[i]);
        make_file(rel, "x");
    }
    make_file("tmp/obj", "x");
    make_file("tmp/.obj.s3dlio-tmp.123.4", "partial");
    make_file("tmp/only/.x.s3dlio-tmp.5.6", "partial");
    make_file("sym/real", "12345");
    if (symlink("real", path("sym/lnk")) || symlink("../ord", path("sym/dirlnk")) ||
        symlink(".", path("sym/loop")) || symlink("nowhere", path("sym/dangling")))
        fprintf(stderr, "symlink: %s\n", strerror(errno));
}

/* Each case twice: with the cached cursor, and resuming from the token alone. */
static void test_list_cases(void)
{
    for (size_t i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
        const struct list_case *c = &list_cases[i];
        for (int fresh = 0; fresh < 2; fresh++) {
            struct listing l;
            list_rel(c->prefix, c->delim, c->max_keys, fresh, &l);
            CHECK_INT(l.rc, S3DLIO_OK, c->name);
            CHECK_STR(s3dlio_buf_str(&l.keys), c->keys, c->name);
            CHECK_STR(s3dlio_buf_str(&l.prefixes), c->prefixes, c->name);
            CHECK(l.page_ok, c->name);
            listing_release(&l);
        }
    }
}

/* Page shapes and explicit tokens, including tokens that were never returned. */
static void test_list_pages(void)
{
    struct listing l;
    list_rel("pg/", NULL, 3, false, &l);
    CHECK_INT(l.pages, 4, "10 keys in pages of 3: 4 pages");
    CHECK_INT(l.nkeys, 10, "10 keys in pages of 3: every key once");
    listing_release(&l);

    static const struct {
        const char *name, *token, *delim, *keys, *prefixes;
    } cases[] = {
        { "token: a returned key", "pg/b/2", NULL, "pg/b/3|pg/c|pg/d/e/f|pg/d/e/g|pg/d0|pg/e", "" },
        { "token: a directory", "pg/b/", NULL,
          "pg/b/1|pg/b/2|pg/b/3|pg/c|pg/d/e/f|pg/d/e/g|pg/d0|pg/e", "" },
        { "token: before a-b", "pg/b", NULL,
          "pg/b-|pg/b/1|pg/b/2|pg/b/3|pg/c|pg/d/e/f|pg/d/e/g|pg/d0|pg/e", "" },
        { "token: past the end", "pg/zzz", NULL, "", "" },
        { "token: a CommonPrefix", "pg/b/", "/", "pg/c|pg/d0|pg/e", "pg/d/" },
        { "token: inside a prefix", "pg/d/e/f", NULL, "pg/d/e/g|pg/d0|pg/e", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct s3dlio_backend b = { 0 };
        struct s3dlio_list_req req = { key("pg/"), cases[i].delim, 0, key(cases[i].token), NULL };
        struct s3dlio_list_page page = { 0 };
        struct s3dlio_error err = { 0 };
        backend_open(&b);
        CHECK_INT(ops->list(&b, &req, &page, &err), S3DLIO_OK, cases[i].name);
        l.keys = (struct s3dlio_buf)S3DLIO_BUF_INIT(1 << 20);
        l.prefixes = (struct s3dlio_buf)S3DLIO_BUF_INIT(1 << 20);
        l.pages = 0;
        take_page(&l, &page, 1000);
        CHECK_STR(s3dlio_buf_str(&l.keys), cases[i].keys, cases[i].name);
        CHECK_STR(s3dlio_buf_str(&l.prefixes), cases[i].prefixes, cases[i].name);
        CHECK(!page.truncated && !page.next_token, cases[i].name);
        listing_release(&l);
        s3dlio_list_page_release(&page);
        backend_close(&b);
    }
}

static void test_list_errors(void)
{
    static const struct {
        const char *name, *prefix, *delim, *target;
        enum s3dlio_rc rc;
        const char *message;
    } cases[] = {
        { "through a file, trailing /", "ord/zz/", NULL, "ord/zz/", S3DLIO_E_IO,
          "not a directory" },
        { "through a file, deeper", "ord/zz/x/y", "/", "ord/zz/x/", S3DLIO_E_IO,
          "not a directory" },
        { "delimiter other than /", "ord/", ",", "ord/", S3DLIO_E_USAGE,
          "delimiter ',' is not supported by the file backend (use '/' or none)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct s3dlio_list_req req = { key(cases[i].prefix), cases[i].delim, 0, NULL, NULL };
        struct s3dlio_list_page page = { 0 };
        struct s3dlio_error err = { 0 };
        CHECK_INT(ops->list(&be, &req, &page, &err), cases[i].rc, cases[i].name);
        CHECK_INT(err.rc, cases[i].rc, cases[i].name);
        CHECK_STR(err.op, "list", cases[i].name);
        CHECK_STR(err.target, target(cases[i].target), cases[i].name);
        CHECK_STR(err.message, cases[i].message, cases[i].name);
        CHECK(page.list.n == 0 && !page.next_token, cases[i].name);
    }
    /* the example of the brief: a prefix below /etc/passwd */
    struct s3dlio_list_req req = { "etc/passwd/", NULL, 0, NULL, NULL };
    struct s3dlio_list_page page = { 0 };
    struct s3dlio_error err = { 0 };
    if (!access("/etc/passwd", F_OK)) {
        CHECK_INT(ops->list(&be, &req, &page, &err), S3DLIO_E_IO, "ls file:///etc/passwd/");
        CHECK_STR(err.target, "file:///etc/passwd/", "ls file:///etc/passwd/");
    }
}

/* 10,000 files, flat and nested, in pages of 1000: all there, strictly increasing. */
static void test_list_big(void)
{
    enum {
        NFLAT = 5000,
        NDIRS = 50,
        PER_DIR = 100
    };
    char rel[64];
    for (int i = 0; i < NFLAT; i++) {
        snprintf(rel, sizeof(rel), "big/f%05d", i);
        make_file(rel, "");
    }
    for (int d = 0; d < NDIRS; d++)
        for (int i = 0; i < PER_DIR; i++) {
            snprintf(rel, sizeof(rel), "big/d%02d/g%03d", d, i);
            make_file(rel, "");
        }
    struct listing l;
    list_rel("big/", NULL, 1000, false, &l);
    CHECK_INT(l.rc, S3DLIO_OK, "big: rc");
    CHECK_INT(l.nkeys, NFLAT + NDIRS * PER_DIR, "big: count");
    CHECK_INT(l.pages, 10, "big: pages");
    CHECK(l.page_ok, "big: page shapes");
    /* keys are '|'-joined: split and compare neighbours */
    char *all = s3dlio_buf_detach(&l.keys), *prev = NULL, *save = all;
    size_t inversions = 0;
    for (char *p = all; p; prev = save, p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL) {
        save = p;
        char *bar = strchr(p, '|');
        if (bar)
            *bar = '\0';
        if (prev && strcmp(prev, p) >= 0)
            inversions++;
    }
    CHECK_INT(inversions, 0, "big: strictly increasing");
    CHECK(!strncmp(all, "big/d00/g000", 12), "big: d00/ sorts before f*");
    free(all);
    listing_release(&l);

    struct s3dlio_list_req req = { key("big/"), NULL, 5000, NULL, NULL };
    struct s3dlio_list_page page = { 0 };
    struct s3dlio_error err = { 0 };
    CHECK_INT(ops->list(&be, &req, &page, &err), S3DLIO_OK, "max_keys over 1000");
    CHECK_INT(page.list.n, 1000, "max_keys over 1000: capped as by S3");
    CHECK(page.truncated && page.next_token, "max_keys over 1000: truncated");
    s3dlio_list_page_release(&page);
}

/* ---- stat, GET, PUT, remove ---- */

static void test_stat(void)
{
    struct s3dlio_stat o = { 0 };
    struct s3dlio_error err = { 0 };
    CHECK_INT(ops->stat(&be, key("ord/zz"), &o, &err), S3DLIO_OK, "stat file");
    CHECK_INT(o.size, 10, "stat file: size");
    CHECK(o.mtime > 1000000000, "stat file: mtime");
    static const struct {
        const char *name, *rel, *message;
    } cases[] = {
        { "stat missing", "ord/nope", "No such file or directory" },
        { "stat through a file", "ord/zz/x", "not a directory" },
        { "stat a directory", "ord/a", "is a directory" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s3dlio_error_clear(&err);
        CHECK_INT(ops->stat(&be, key(cases[i].rel), &o, &err), S3DLIO_E_NOT_FOUND, cases[i].name);
        CHECK_STR(err.op, "stat", cases[i].name);
        CHECK_STR(err.target, target(cases[i].rel), cases[i].name);
        CHECK_STR(err.message, cases[i].message, cases[i].name);
    }
}

struct get_case {
    const char *name;
    uint64_t offset, length;
    enum s3dlio_rc rc;
    const char *data; /* bytes delivered, at the offset */
    int http_status;
};

static const struct get_case get_cases[] = {
    { "whole", 0, S3DLIO_LEN_TO_END, S3DLIO_OK, "hello world", 0 },
    { "first byte", 0, 1, S3DLIO_OK, "h", 0 },
    { "last byte", 10, 1, S3DLIO_OK, "d", 0 },
    { "middle", 2, 3, S3DLIO_OK, "llo", 0 },
    { "to the end", 6, S3DLIO_LEN_TO_END, S3DLIO_OK, "world", 0 },
    { "zero length", 3, 0, S3DLIO_OK, "", 0 },
    { "start at end", 11, 1, S3DLIO_E_USAGE, "", 416 },
    { "start at end, open range", 11, S3DLIO_LEN_TO_END, S3DLIO_E_USAGE, "", 416 },
    { "start far past end", 100, 5, S3DLIO_E_USAGE, "", 416 },
    { "runs past the end", 6, 100, S3DLIO_E_INTEGRITY, "world", 0 },
};

static void test_get_ranges(void)
{
    make_file("get/hello", "hello world");
    for (size_t i = 0; i < sizeof(get_cases) / sizeof(get_cases[0]); i++) {
        const struct get_case *c = &get_cases[i];
        unsigned char buf[64] = { 0 };
        struct sink s = { .data = buf, .cap = sizeof(buf) - 1, .next = c->offset };
        struct s3dlio_req req;
        CHECK_INT(get("get/hello", c->offset, c->length, &s, &req, c->name), c->rc, c->name);
        CHECK_INT(req.err.rc, c->rc, c->name);
        CHECK_INT(req.bytes, strlen(c->data), c->name);
        CHECK_STR(c->offset < 64 ? (char *)buf + c->offset : "", c->data, c->name);
        CHECK_INT(req.err.http_status, c->http_status, c->name);
        CHECK_INT(req.object_size, 11, c->name);
        if (c->http_status) {
            CHECK(!strncmp(req.err.message, "range not satisfiable", 21), c->name);
            CHECK_STR(req.err.s3_code, "InvalidRange", c->name);
            CHECK_STR(req.err.target, target("get/hello"), c->name);
            CHECK_STR(req.err.op, "get", c->name);
        }
    }
}

static void test_get_other(void)
{
    unsigned char buf[8];
    struct sink s = { .data = buf, .cap = sizeof(buf) };
    struct s3dlio_req req;
    CHECK_INT(get("get/nope", 0, S3DLIO_LEN_TO_END, &s, &req, "get missing"), S3DLIO_E_NOT_FOUND,
              "get missing");
    CHECK_STR(req.err.target, target("get/nope"), "get missing: target");
    CHECK_STR(req.err.op, "get", "get missing: op");
    CHECK_INT(req.err.sys_errno, ENOENT, "get missing: errno");
    CHECK_INT(get("ord/a", 0, S3DLIO_LEN_TO_END, &s, &req, "get dir"), S3DLIO_E_NOT_FOUND,
              "get a directory");
    CHECK_STR(req.err.message, "is a directory", "get a directory: message");
    make_file("get/empty", "");
    CHECK_INT(get("get/empty", 0, S3DLIO_LEN_TO_END, &s, &req, "get empty"), S3DLIO_OK,
              "get empty object");
    CHECK(req.bytes == 0 && req.object_size == 0 && s.calls == 0, "get empty: nothing sent");
    CHECK_INT(get("get/empty", 0, 1, &s, &req, "get empty ranged"), S3DLIO_E_USAGE,
              "ranged get of an empty object: 416");
    struct sink tiny = { .data = buf, .cap = 4 };
    CHECK_INT(get("get/hello", 0, S3DLIO_LEN_TO_END, &tiny, &req, "sink fails"), S3DLIO_E_LIMIT,
              "a failing sink stops the GET with its rc");
    CHECK_STR(req.err.message, "data sink failed: limit exceeded", "sink fails: message");
    make_pattern_file("get/big", BIG_LEN);
    check_pattern_object("get/big", BIG_LEN, "get 3 MiB in chunks of at most 1 MiB");
}

static void test_put(void)
{
    struct source src = { .fail_at = UINT64_MAX };
    struct s3dlio_req req;
    struct s3dlio_stat o;
    struct s3dlio_error err = { 0 };
    CHECK_INT(put("put/a/b/c/obj", BIG_LEN, &src, &req, "put deep"), S3DLIO_OK,
              "put creates parent directories");
    CHECK_INT(req.bytes, BIG_LEN, "put deep: bytes");
    CHECK(src.calls == 4, "put deep: source pulled in 1 MiB pieces");
    CHECK_INT(count_temp_files("put/a/b/c"), 0, "put deep: no temp file left");
    check_pattern_object("put/a/b/c/obj", BIG_LEN, "put deep: read back");

    /* a source failing midway: nothing under the final name, no temp file */
    src = (struct source){ .fail_at = MIB + MIB / 2 };
    CHECK_INT(put("put/fail/obj", BIG_LEN, &src, &req, "put fails"), S3DLIO_E_ABORTED,
              "put with a failing source");
    CHECK_STR(req.err.op, "put", "put fails: op");
    CHECK_STR(req.err.target, target("put/fail/obj"), "put fails: target");
    CHECK(!exists("put/fail/obj"), "put fails: no final file");
    CHECK_INT(count_temp_files("put/fail"), 0, "put fails: no temp file");
    src = (struct source){ .fail_at = 2 * MIB };
    CHECK_INT(put("put/a/b/c/obj", BIG_LEN, &src, &req, "overwrite fails"), S3DLIO_E_ABORTED,
              "failed overwrite");
    check_pattern_object("put/a/b/c/obj", BIG_LEN, "failed overwrite keeps the old object");
    CHECK_INT(count_temp_files("put/a/b/c"), 0, "failed overwrite: no temp file");

    src = (struct source){ .fail_at = 10, .short_body = true };
    CHECK_INT(put("put/short", 20, &src, &req, "short body"), S3DLIO_E_INTEGRITY,
              "source ends before length");
    CHECK(!exists("put/short") && count_temp_files("put") == 0, "short body: nothing left");

    CHECK_INT(put("put/zero", 0, NULL, &req, "0-byte put"), S3DLIO_OK, "0-byte put");
    CHECK_INT(ops->stat(&be, key("put/zero"), &o, &err), S3DLIO_OK, "0-byte put: stat");
    CHECK_INT(o.size, 0, "0-byte put: size");
    check_pattern_object("put/zero", 0, "0-byte get");

    src = (struct source){ .fail_at = UINT64_MAX };
    CHECK_INT(put("put/small", 3, &src, &req, "overwrite"), S3DLIO_OK, "put small");
    CHECK_INT(put("put/small", 2, &src, &req, "overwrite"), S3DLIO_OK, "overwrite");
    CHECK_INT(ops->stat(&be, key("put/small"), &o, &err), S3DLIO_OK, "overwrite: stat");
    CHECK_INT(o.size, 2, "overwrite: new size");
}

static void test_put_errors(void)
{
    struct source src = { .fail_at = UINT64_MAX };
    struct s3dlio_req req;
    CHECK_INT(put("put/dir/", 1, &src, &req, "key ends with /"), S3DLIO_E_USAGE,
              "put key ending in /");
    CHECK_INT(put("ord/zz/x", 1, &src, &req, "put through a file"), S3DLIO_E_IO,
              "put below a file");
    CHECK_STR(req.err.message, "not a directory", "put below a file: message");
    CHECK_STR(req.err.target, target("ord/zz"), "put below a file: names the file");
    CHECK_INT(put("ord/a", 1, &src, &req, "put over a directory"), S3DLIO_E_IO,
              "put over a directory");
    CHECK_INT(count_temp_files("ord"), 0, "put over a directory: no temp file");

    struct done_rec d = { 0 };
    req = (struct s3dlio_req){ .op = S3DLIO_REQ_PUT_PART,
                               .key = key("put/p"),
                               .length = 1,
                               .source = source_cb,
                               .source_ud = &src,
                               .part_number = 1,
                               .upload_id = "u",
                               .done = on_done,
                               .done_ud = &d };
    CHECK_INT(ops->submit(&be, &req), S3DLIO_E_UNSUPPORTED, "put part: unsupported");
    size_t inflight = 99;
    ops->progress(&be, 0, &inflight);
    CHECK(d.calls == 0 && inflight == 0, "refused request: done never called");
    req = (struct s3dlio_req){ .op = S3DLIO_REQ_GET, .key = key("get/hello") };
    CHECK_INT(ops->submit(&be, &req), S3DLIO_E_USAGE, "get without a sink");
}

/* done may submit again: that request is reported by the next progress call. */
struct chain {
    struct s3dlio_req next;
    struct done_rec rec;
    struct sink sink;
};

static void resubmit(struct s3dlio_req *req, enum s3dlio_rc rc, void *ud)
{
    struct chain *c = ud;
    (void)req;
    c->rec.calls++;
    c->rec.rc = rc;
    ops->submit(&be, &c->next);
}

static void test_queue(void)
{
    unsigned char buf[64] = { 0 };
    struct chain c = { .sink = { .data = buf, .cap = sizeof(buf) } };
    struct done_rec d2 = { 0 };
    c.next = (struct s3dlio_req){ .op = S3DLIO_REQ_GET,
                                  .key = key("get/hello"),
                                  .length = S3DLIO_LEN_TO_END,
                                  .sink = sink_cb,
                                  .sink_ud = &c.sink,
                                  .done = on_done,
                                  .done_ud = &d2 };
    struct s3dlio_req first = c.next;
    first.done = resubmit;
    first.done_ud = &c;
    struct s3dlio_req second = c.next, third = c.next;
    size_t inflight = 0;
    CHECK_INT(ops->submit(&be, &first), S3DLIO_OK, "queue: submit 1");
    CHECK_INT(ops->submit(&be, &second), S3DLIO_OK, "queue: submit 2");
    CHECK_INT(ops->submit(&be, &third), S3DLIO_OK, "queue: submit 3");
    CHECK_INT(d2.calls, 0, "queue: nothing reported from submit");
    ops->progress(&be, 100, &inflight);
    CHECK_INT(c.rec.calls, 1, "queue: first reported");
    CHECK_INT(d2.calls, 2, "queue: second and third reported");
    CHECK_INT(inflight, 1, "queue: the resubmitted one is in flight");
    ops->progress(&be, 100, &inflight);
    CHECK_INT(d2.calls, 3, "queue: resubmitted reported next time");
    CHECK_INT(inflight, 0, "queue: drained");
    ops->progress(&be, 100, &inflight);
    CHECK_INT(inflight, 0, "queue: empty progress");
    CHECK_INT(first.bytes + second.bytes + third.bytes + c.next.bytes, 44, "queue: bytes");
    CHECK(first.t_total_ns > 0 && first.t_first_byte_ns <= first.t_total_ns, "queue: timings");
}

static void test_remove(void)
{
    make_file("rm/a", "a");
    make_file("rm/b", "b");
    make_file("rm/c", "c");
    struct s3dlio_error err = { 0 };
    CHECK_INT(ops->remove(&be, key("rm/a"), &err), S3DLIO_OK, "remove");
    CHECK(!exists("rm/a"), "remove: gone");
    CHECK_INT(ops->remove(&be, key("rm/a"), &err), S3DLIO_E_NOT_FOUND, "remove missing");
    CHECK_STR(err.op, "delete", "remove missing: op");
    CHECK_STR(err.target, target("rm/a"), "remove missing: target");
    CHECK_INT(ops->remove(&be, key("ord/a"), &err), S3DLIO_E_NOT_FOUND, "remove a directory");

    const char *keys[] = { key("rm/b"), key("rm/missing"), key("rm/c") };
    struct s3dlio_error errs[3];
    size_t nfailed = 99;
    CHECK_INT(ops->remove_batch(&be, keys, 3, errs, &nfailed, &err), S3DLIO_OK, "remove_batch");
    CHECK_INT(nfailed, 1, "remove_batch: one failed");
    CHECK_INT(errs[0].rc, S3DLIO_OK, "remove_batch: first ok");
    CHECK_INT(errs[1].rc, S3DLIO_E_NOT_FOUND, "remove_batch: missing key");
    CHECK_STR(errs[1].target, target("rm/missing"), "remove_batch: missing key named");
    CHECK_INT(errs[2].rc, S3DLIO_OK, "remove_batch: third ok");
    CHECK(!exists("rm/b") && !exists("rm/c"), "remove_batch: gone");
    CHECK(exists("rm"), "remove leaves directories alone");
}

static void test_dirs(void)
{
    struct s3dlio_error err = { 0 };
    struct stat st;
    CHECK_INT(s3dlio_file_mkdir(key("mk/a/b"), &err), S3DLIO_OK, "mkdir -p");
    CHECK(!stat(path("mk/a/b"), &st) && S_ISDIR(st.st_mode), "mkdir -p: made");
    CHECK_INT(s3dlio_file_mkdir(key("mk/a/b/"), &err), S3DLIO_OK, "mkdir existing");
    CHECK_INT(s3dlio_file_mkdir(key("ord/zz/q"), &err), S3DLIO_E_IO, "mkdir below a file");
    CHECK_STR(err.message, "not a directory", "mkdir below a file: message");
    CHECK_STR(err.target, target("ord/zz"), "mkdir below a file: names it");
    CHECK_STR(err.op, "mkdir", "mkdir below a file: op");
    CHECK_INT(s3dlio_file_rmdir(key("mk/a"), &err), S3DLIO_E_IO, "rmdir non-empty");
    CHECK_STR(err.message, "directory not empty", "rmdir non-empty: message");
    CHECK_INT(s3dlio_file_rmdir(key("mk/a/b"), &err), S3DLIO_OK, "rmdir");
    CHECK_INT(s3dlio_file_rmdir(key("mk/a/b"), &err), S3DLIO_E_NOT_FOUND, "rmdir missing");
    CHECK_STR(err.target, target("mk/a/b"), "rmdir missing: target");
    CHECK_INT(s3dlio_file_rmdir(key("ord/zz"), &err), S3DLIO_E_IO, "rmdir a file");
}

static void test_ops_table(void)
{
    CHECK_STR(ops->scheme, "file", "scheme");
    CHECK(!ops->multipart, "no multipart");
    CHECK(!ops->bucket_create && !ops->bucket_delete && !ops->bucket_head, "no buckets");
    CHECK(ops->list && ops->stat && ops->remove && ops->remove_batch && ops->submit &&
              ops->progress && ops->open && ops->close,
          "required ops present");
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof(root), "%s/s3dlio-befile-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        fprintf(stderr, "mkdtemp %s: %s\n", root, strerror(errno));
        return 1;
    }
    base = root + 1;
    backend_open(&be);
    setup_order_tree();
    setup_list_trees();
    test_ops_table();
    test_list_order();
    test_list_cases();
    test_list_pages();
    test_list_errors();
    test_list_big();
    test_stat();
    test_get_ranges();
    test_get_other();
    test_put();
    test_put_errors();
    test_queue();
    test_remove();
    test_dirs();
    backend_close(&be);
    if (!getenv("KEEP"))
        nftw(root, rm_one, 64, FTW_DEPTH | FTW_PHYS);
    TEST_DONE();
}
