/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Object lists: 24-byte rows whose strings live in the list's arena. The strings must stay
 * where the rows point while the list grows and after a splice moves them to another list;
 * run under ASan, a row left pointing into a freed block fails here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "backend/strarena.h"
#include "check.h"
#include "s3dlio/backend.h"

static void key_of(size_t page, size_t i, char *out, size_t n)
{
    snprintf(out, n, "train/shard-%05zu/img-%08zu.jpg", page, i);
}

static void etag_of(size_t page, size_t i, char *out, size_t n)
{
    snprintf(out, n, "%016zx%016zx", page * 7919u + 1, i * 104729u + 3);
}

/* rows [0, count) of page, ETags quoted as they arrive from S3, a prefix every 100 rows */
static void fill_page(struct s3dlio_objlist *l, size_t page, size_t count)
{
    char key[96], etag[64], quoted[70];
    for (size_t i = 0; i < count; i++) {
        key_of(page, i, key, sizeof(key));
        etag_of(page, i, etag, sizeof(etag));
        snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
        s3dlio_objlist_add(l, key, i, (int64_t)page, quoted);
        if (i % 100 == 0) {
            snprintf(key, sizeof(key), "train/shard-%05zu/dir-%zu/", page, i);
            s3dlio_objlist_add_prefix(l, key);
        }
    }
}

/* rows [at, at + count) of l hold page's rows and l's prefixes from pat its prefixes */
static int page_intact(const struct s3dlio_objlist *l, size_t at, size_t pat, size_t page,
                       size_t count)
{
    char key[96], etag[64];
    int bad = 0;
    for (size_t i = 0; i < count; i++) {
        const struct s3dlio_object *o = &l->items[at + i];
        key_of(page, i, key, sizeof(key));
        etag_of(page, i, etag, sizeof(etag));
        bad += strcmp(o->key, key) || strcmp(s3dlio_object_etag(o), etag) || o->size != i ||
               o->mtime != (int64_t)page;
        if (i % 100 == 0) {
            snprintf(key, sizeof(key), "train/shard-%05zu/dir-%zu/", page, i);
            bad += strcmp(l->prefixes[pat + i / 100], key) != 0;
        }
    }
    return bad;
}

static void test_row_size(void)
{
    if (sizeof(void *) == 8)
        CHECK_INT(sizeof(struct s3dlio_object), 24, "a row is 24 bytes");
}

static void test_growth(void)
{
    struct s3dlio_objlist l = {0};
    fill_page(&l, 1, 1);
    const char *first_key = l.items[0].key, *first_etag = s3dlio_object_etag(&l.items[0]);
    fill_page(&l, 2, 20000); /* ~30 blocks and many reallocs of the rows */
    CHECK(l.items[0].key == first_key && s3dlio_object_etag(&l.items[0]) == first_etag,
          "growth: strings do not move");
    CHECK_STR(l.items[0].key, "train/shard-00001/img-00000000.jpg", "growth: first key");
    CHECK_INT(page_intact(&l, 1, 1, 2, 20000), 0, "growth: every row and prefix intact");
    s3dlio_objlist_release(&l);
    CHECK(!l.items && !l.n && !l.strings.fill, "release zeroes");
    s3dlio_objlist_release(&l);
    s3dlio_objlist_release(NULL);
}

static void test_etags(void)
{
    static const struct {
        const char *name, *in, *want;
    } cases[] = {
        {"quotes stripped", "\"abc\"", "abc"},
        {"bare kept", "abc", "abc"},
        {"one quote kept", "\"abc", "\"abc"},
        {"multipart", "\"0123456789abcdef0123456789abcdef-12\"", "0123456789abcdef0123456789abcdef-12"},
        {"capped at S3DLIO_ETAG_MAX",
         "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234",
         "0123456789012345678901234567890123456789012345678901234567890123456789012345678"},
    };
    struct s3dlio_objlist l = {0};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s3dlio_objlist_add(&l, "k", 1, -1, cases[i].in);
        CHECK_STR(s3dlio_object_etag(&l.items[i]), cases[i].want, cases[i].name);
    }
    s3dlio_objlist_release(&l);
}

static void test_empty_costs_nothing(void)
{
    struct s3dlio_objlist l = {0};
    s3dlio_objlist_add(&l, "", 0, -1, NULL);
    s3dlio_objlist_add(&l, "", 0, -1, "");
    s3dlio_objlist_add(&l, "", 0, -1, "\"\"");
    CHECK_INT(s3dlio_objlist_string_bytes(&l), 0, "empty key and ETags: no arena bytes");
    for (size_t i = 0; i < l.n; i++)
        CHECK(!s3dlio_object_etag(&l.items[i])[0] && !l.items[i].key[0], "empty, not NULL");
    s3dlio_objlist_add(&l, "k", 0, -1, NULL);
    size_t with_key = s3dlio_objlist_string_bytes(&l);
    for (int i = 0; i < 100; i++)
        s3dlio_objlist_add(&l, "k", 0, -1, NULL);
    /* 101 keys of 2 bytes and their empty ETags (1 byte each) fit the first block */
    CHECK_INT(s3dlio_objlist_string_bytes(&l), with_key, "unknown ETags: no new block");
    s3dlio_objlist_release(&l);
}

static void test_long_strings(void)
{
    static char big[3 * S3DLIO_STRARENA_BLOCK], mid[S3DLIO_STRARENA_BLOCK / 2];
    memset(big, 'b', sizeof(big) - 1);
    memset(mid, 'm', sizeof(mid) - 1);
    struct s3dlio_objlist l = {0};
    s3dlio_objlist_add(&l, big, 1, -1, NULL); /* longer than a block, first */
    s3dlio_objlist_add(&l, "short", 1, -1, NULL);
    size_t before = s3dlio_objlist_string_bytes(&l);
    s3dlio_objlist_add(&l, mid, 1, -1, NULL);
    s3dlio_objlist_add(&l, "after", 1, -1, NULL);
    size_t grew = s3dlio_objlist_string_bytes(&l) - before;
    /* the long one got its own block; "after" still went into the partly filled one */
    CHECK(grew < sizeof(mid) + 64, "a long key takes its own block, not a new fill block");
    CHECK_INT(strlen(l.items[0].key), sizeof(big) - 1, "key longer than a block");
    CHECK_INT(strlen(l.items[2].key), sizeof(mid) - 1, "key of half a block");
    CHECK_STR(l.items[1].key, "short", "short key");
    CHECK_STR(l.items[3].key, "after", "key after a long one");
    struct s3dlio_objlist d = {0};
    s3dlio_objlist_add(&d, "d", 1, -1, "e");
    s3dlio_objlist_splice(&d, &l);
    CHECK_INT(strlen(d.items[1].key), sizeof(big) - 1, "splice: key longer than a block");
    CHECK_INT(strlen(d.items[3].key), sizeof(mid) - 1, "splice: key of half a block");
    CHECK_STR(d.items[4].key, "after", "splice: key after a long one");
    s3dlio_objlist_release(&d);
}

static void test_splice_into_empty(void)
{
    struct s3dlio_objlist src = {0}, dst = {0};
    fill_page(&src, 3, 3000);
    const char *k0 = src.items[0].key, *klast = src.items[2999].key;
    s3dlio_objlist_splice(&dst, &src);
    CHECK(dst.items[0].key == k0 && dst.items[2999].key == klast,
          "splice into an empty list: the blocks move, no string is copied");
    CHECK(!src.n && !src.nprefixes && !src.items && !src.strings.fill, "splice: src left empty");
    CHECK_INT(page_intact(&dst, 0, 0, 3, 3000), 0, "splice into empty: rows intact");
    s3dlio_objlist_release(&src);
    fill_page(&src, 4, 10);
    CHECK_INT(page_intact(&src, 0, 0, 4, 10), 0, "a spliced-out list is reusable");
    s3dlio_objlist_release(&src);
    s3dlio_objlist_release(&dst);
}

/*
 * list_all's pattern: page after page spliced onto one list. Each page's full blocks move;
 * its last block's strings are copied, so the list holds about what its strings need.
 */
static void test_splice_pages(void)
{
    enum { PAGES = 120, ROWS = 1000 };
    struct s3dlio_objlist all = {0};
    size_t need = 0;
    const char *first_of_page1 = NULL;
    for (size_t p = 0; p < PAGES; p++) {
        struct s3dlio_objlist page = {0};
        fill_page(&page, p, ROWS);
        for (size_t i = 0; i < page.n; i++)
            need += strlen(page.items[i].key) + 1 + strlen(s3dlio_object_etag(&page.items[i])) + 1;
        for (size_t i = 0; i < page.nprefixes; i++)
            need += strlen(page.prefixes[i]) + 1;
        if (p == 1)
            first_of_page1 = page.items[0].key; /* in the page's first, full block */
        s3dlio_objlist_splice(&all, &page);
        s3dlio_objlist_release(&page); /* already empty: a no-op */
    }
    CHECK_INT(all.n, PAGES * ROWS, "pages: rows");
    CHECK_INT(all.nprefixes, PAGES * ROWS / 100, "pages: prefixes");
    int bad = 0;
    for (size_t p = 0; p < PAGES; p++)
        bad += page_intact(&all, p * ROWS, p * ROWS / 100, p, ROWS);
    CHECK_INT(bad, 0, "pages: every row and prefix intact after splices");
    CHECK(all.items[ROWS].key == first_of_page1, "pages: full blocks moved, not copied");
    size_t held = s3dlio_objlist_string_bytes(&all);
    printf("pages: %zu string bytes needed, %zu held\n", need, held);
    CHECK(held < need + need / 20 + 2 * S3DLIO_STRARENA_BLOCK,
          "pages: no half-empty block left per page");
    s3dlio_objlist_release(&all);
}

/*
 * The bound, by accounting rather than RSS (which sanitizers and malloc blur): a
 * million listed rows hold their 24 bytes and their strings, with under 1% of block slack.
 */
static void test_million_rows(void)
{
    enum { ROWS = 1000000 };
    struct s3dlio_objlist l = {0};
    fill_page(&l, 42, ROWS);
    size_t need = 0;
    for (size_t i = 0; i < l.n; i++)
        need += strlen(l.items[i].key) + 1 + strlen(s3dlio_object_etag(&l.items[i])) + 1;
    for (size_t i = 0; i < l.nprefixes; i++)
        need += strlen(l.prefixes[i]) + 1;
    size_t held = s3dlio_objlist_string_bytes(&l);
    printf("1M rows: %zu string bytes needed, %zu held (%.2f per row)\n", need, held,
           (double)held / ROWS);
    CHECK(held < need + need / 100, "1M rows: strings cost what they are, no malloc per key");
    CHECK_INT(page_intact(&l, 0, 0, 42, ROWS), 0, "1M rows: intact");
    s3dlio_objlist_release(&l);
}

/* stage's drop_markers and list_parallel's cut: rows dropped in place, then spliced */
static void test_drop_then_splice(void)
{
    struct s3dlio_objlist page = {0}, all = {0};
    fill_page(&all, 9, 5);
    s3dlio_objlist_add(&page, "a/", 0, -1, NULL);
    fill_page(&page, 10, 2000);
    s3dlio_objlist_add(&page, "b/", 0, -1, NULL);
    size_t kept = 0;
    for (size_t i = 0; i < page.n; i++) {
        size_t n = strlen(page.items[i].key);
        if (page.items[i].key[n - 1] != '/')
            page.items[kept++] = page.items[i];
    }
    page.n = kept;
    s3dlio_objlist_splice(&all, &page);
    CHECK_INT(all.n, 2005, "drop then splice: rows");
    CHECK_INT(page_intact(&all, 0, 0, 9, 5), 0, "drop then splice: dst rows");
    CHECK_INT(page_intact(&all, 5, 1, 10, 2000), 0, "drop then splice: moved rows");
    s3dlio_objlist_release(&all);
}

int main(void)
{
    test_row_size();
    test_growth();
    test_etags();
    test_empty_costs_nothing();
    test_long_strings();
    test_splice_into_empty();
    test_splice_pages();
    test_million_rows();
    test_drop_then_splice();
    TEST_DONE();
}
