/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the sync difference (src/xfer/sync_diff.c): what is copied and deleted for
 * each --compare, keys matched below each side's root, folder markers skipped, both lists
 * in key order whatever order the listings came in.
 */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "s3dlio/sync.h"
#include "util/alloc.h"

/* "key:size:mtime:etag" entries separated by spaces; mtime -1 and etag "-" for unknown. */
static void parse_list(const char *spec, struct s3dlio_objlist *l)
{
    char buf[2048], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", spec);
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char key[512], etag[80];
        unsigned long long size;
        long long mtime;
        if (sscanf(tok, "%511[^:]:%llu:%lld:%79s", key, &size, &mtime, etag) != 4)
            continue;
        s3dlio_objlist_add(l, key, size, mtime, strcmp(etag, "-") ? etag : "");
    }
}

/* The keys of l joined by ','. */
static const char *keys(const struct s3dlio_objlist *l)
{
    static char out[2][2048];
    static int which;
    char *b = out[which++ % 2];
    b[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            strncat(b, ",", 2047 - strlen(b));
        strncat(b, l->items[i].key, 2047 - strlen(b));
    }
    return b;
}

struct diff_case {
    const char *name;
    const char *src_root, *dst_root;
    const char *src, *dst;
    enum s3dlio_sync_compare cmp;
    const char *copy, *del;
    size_t same, size_only, markers;
};

static const struct diff_case cases[] = {
    {"both empty", "a/", "b/", "", "", S3DLIO_SYNC_SIZE, "", "", 0, 0, 0},
    {"all missing, copied in key order", "a/", "b/", "a/z:1:5:e1 a/m:2:5:e2 a/b:0:5:e3", "",
     S3DLIO_SYNC_SIZE, "b,m,z", "", 0, 0, 0},
    {"all extra, deleted in key order", "a/", "b/", "", "b/y:1:5:x b/c:1:5:x", S3DLIO_SYNC_SIZE,
     "", "c,y", 0, 0, 0},
    {"equal sizes are the same by size", "a/", "b/", "a/k:10:9:e1", "b/k:10:1:e2",
     S3DLIO_SYNC_SIZE, "", "", 1, 0, 0},
    {"a size differs", "a/", "b/", "a/k:10:1:e1 a/l:3:1:e1", "b/k:11:1:e1 b/l:3:1:e1",
     S3DLIO_SYNC_SIZE, "k", "", 1, 0, 0},
    {"etag differs", "a/", "b/", "a/k:10:1:e1 a/l:3:1:e9", "b/k:10:1:e1 b/l:3:1:e8",
     S3DLIO_SYNC_ETAG, "l", "", 1, 0, 0},
    {"etag unknown on a side: size only", "a/", "b/", "a/k:10:1:-", "b/k:10:1:e1",
     S3DLIO_SYNC_ETAG, "", "", 1, 1, 0},
    {"mtime: source newer is copied, older is not", "a/", "b/", "a/new:5:200:e a/old:5:100:e",
     "b/new:5:150:e b/old:5:150:e", S3DLIO_SYNC_MTIME, "new", "", 1, 0, 0},
    {"mtime unknown: size only", "a/", "b/", "a/k:5:-1:e", "b/k:5:100:e", S3DLIO_SYNC_MTIME,
     "", "", 1, 1, 0},
    {"size ignores etag and mtime", "a/", "b/", "a/k:5:900:e1", "b/k:5:100:e2",
     S3DLIO_SYNC_SIZE, "", "", 1, 0, 0},
    {"folder markers neither copied nor deleted", "a/", "b/", "a/d/:0:1:e a/d/x:1:1:e",
     "b/e/:0:1:e b/d/x:1:1:e", S3DLIO_SYNC_SIZE, "", "", 1, 0, 2},
    {"mixed, unsorted listings", "src/", "dst/deep/",
     "src/c:1:1:e src/a/b:2:1:e src/a-b:3:1:e src/z:9:1:e",
     "dst/deep/zz:1:1:e dst/deep/a/b:2:1:e dst/deep/c:7:1:e dst/deep/a0:1:1:e", S3DLIO_SYNC_SIZE,
     "a-b,c,z", "a0,zz", 1, 0, 0},
    {"byte order, not locale order", "", "", "B:1:1:e a:1:1:e \xc3\xa9:1:1:e", "",
     S3DLIO_SYNC_SIZE, "B,a,\xc3\xa9", "", 0, 0, 0},
    {"bucket roots, nested keys", "", "p/", "x/y/z:1:1:e", "p/x/y/z:1:1:e p/x/y:1:1:e",
     S3DLIO_SYNC_SIZE, "", "x/y", 1, 0, 0},
};

static void test_cases(void)
{
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct diff_case *t = &cases[c];
        struct s3dlio_objlist src = {0}, dst = {0};
        struct s3dlio_sync_diff d;
        parse_list(t->src, &src);
        parse_list(t->dst, &dst);
        s3dlio_sync_diff(&src, t->src_root, &dst, t->dst_root, t->cmp, &d);
        CHECK_STR(keys(&d.copy), t->copy, t->name);
        CHECK_STR(keys(&d.del), t->del, t->name);
        CHECK_INT(d.same, t->same, t->name);
        CHECK_INT(d.size_only, t->size_only, t->name);
        CHECK_INT(d.src_markers + d.dst_markers, t->markers, t->name);
        CHECK_INT(d.missing + d.differ, d.copy.n, t->name);
        uint64_t bytes = 0;
        for (size_t i = 0; i < d.copy.n; i++) {
            /* copy_src points back at the source entry the copy came from */
            const struct s3dlio_object *o = &src.items[d.copy_src[i]];
            CHECK_STR(o->key + strlen(t->src_root), d.copy.items[i].key, t->name);
            CHECK_INT(o->size, d.copy.items[i].size, t->name);
            bytes += o->size;
        }
        CHECK_INT(d.copy_bytes, bytes, t->name);
        s3dlio_sync_diff_release(&d);
        s3dlio_sync_diff_release(&d); /* a second release is a no-op */
        s3dlio_objlist_release(&src);
        s3dlio_objlist_release(&dst);
    }
}

/* A key outside the root (or the root itself) is not matched, counted as outside. */
static void test_outside(void)
{
    struct s3dlio_objlist src = {0}, dst = {0};
    struct s3dlio_sync_diff d;
    parse_list("data/a:1:1:e databa:1:1:e data/:0:1:e", &src);
    s3dlio_sync_diff(&src, "data/", &dst, "x/", S3DLIO_SYNC_SIZE, &d);
    CHECK_STR(keys(&d.copy), "a", "outside");
    CHECK_INT(d.outside, 2, "outside");
    s3dlio_sync_diff_release(&d);
    s3dlio_objlist_release(&src);
}

/* After copying everything, the destination listing equals the source: nothing to do. */
static void test_second_run_copies_nothing(void)
{
    struct s3dlio_objlist src = {0}, dst = {0};
    struct s3dlio_sync_diff d, again;
    parse_list("s/a:0:1:e1 s/b/c:17825792:2:e2 s/d:5:3:e3 s/d/:0:1:e", &src);
    parse_list("t/old:4:1:e", &dst);
    s3dlio_sync_diff(&src, "s/", &dst, "t/", S3DLIO_SYNC_MTIME, &d);
    CHECK_STR(keys(&d.copy), "a,b/c,d", "first run");
    CHECK_STR(keys(&d.del), "old", "first run");
    struct s3dlio_objlist after = {0};
    for (size_t i = 0; i < d.copy.n; i++) { /* a copy is newer than its source */
        char k[256];
        snprintf(k, sizeof(k), "t/%s", d.copy.items[i].key);
        s3dlio_objlist_add(&after, k, d.copy.items[i].size, 100, "other");
    }
    for (int c = S3DLIO_SYNC_SIZE; c <= S3DLIO_SYNC_MTIME; c++) {
        s3dlio_sync_diff(&src, "s/", &after, "t/", (enum s3dlio_sync_compare)c, &again);
        if (c != S3DLIO_SYNC_ETAG) { /* the copy's ETag here is made up */
            CHECK_INT(again.copy.n, 0, s3dlio_sync_compare_name((enum s3dlio_sync_compare)c));
            CHECK_INT(again.del.n, 0, s3dlio_sync_compare_name((enum s3dlio_sync_compare)c));
        }
        s3dlio_sync_diff_release(&again);
    }
    s3dlio_sync_diff_release(&d);
    s3dlio_objlist_release(&src);
    s3dlio_objlist_release(&dst);
    s3dlio_objlist_release(&after);
}

static void test_parse_and_root(void)
{
    enum s3dlio_sync_compare c;
    CHECK_INT(s3dlio_sync_compare_parse("etag", &c), S3DLIO_OK, "parse etag");
    CHECK_INT(c, S3DLIO_SYNC_ETAG, "parse etag");
    CHECK_INT(s3dlio_sync_compare_parse("mtime", &c), S3DLIO_OK, "parse mtime");
    CHECK_INT(c, S3DLIO_SYNC_MTIME, "parse mtime");
    CHECK_INT(s3dlio_sync_compare_parse("md5", &c), S3DLIO_E_USAGE, "parse md5");
    const char *roots[][2] = {{"", ""}, {"data", "data/"}, {"data/", "data/"}, {"a/b", "a/b/"}};
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        char *r = s3dlio_sync_root(roots[i][0]);
        CHECK_STR(r, roots[i][1], roots[i][0]);
        free(r);
    }
}

int main(void)
{
    test_cases();
    test_outside();
    test_second_run_copies_nothing();
    test_parse_and_root();
    TEST_DONE();
}
