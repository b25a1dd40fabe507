/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/stats/folded.c: folded text parsed and merged (identical stacks sum, a root frame put in
 * front, frames with spaces, CRLF and blank lines), every malformed line rejected with its line
 * number and nothing added, output sorted bytewise, and random input against a plain count.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "render_check.h"
#include "stats/render.h"

static char *text_of(const struct s3dlio_folded *f)
{
    size_t len;
    return s3dlio_folded_text(f, &len);
}

static const struct parse_case {
    const char *name;
    const char *text;
    const char *root;
    const char *want; /* the set as text afterwards */
    uint64_t total;
    size_t count;
} parse_cases[] = {
    { "identical stacks sum", "a;b 3\na;c 1\na;b 4\n", NULL, "a;b 7\na;c 1\n", 8, 2 },
    { "root put in front", "a;b 3\nc 2\n", "rank 3", "rank 3;a;b 3\nrank 3;c 2\n", 5, 2 },
    { "root of several frames", "x 1\n", "node07;rank 1", "node07;rank 1;x 1\n", 1, 1 },
    { "frames with spaces: count after the last space", "main;do work;read file 5\n", NULL,
      "main;do work;read file 5\n", 5, 1 },
    { "a second space belongs to the frame", "a b  3\n", NULL, "a b  3\n", 3, 1 },
    { "tab before the count", "a;b\t2\n", NULL, "a;b 2\n", 2, 1 },
    { "trailing blanks after the count", "a;b 2  \n", NULL, "a;b 2\n", 2, 1 },
    { "CRLF lines", "a;b 2\r\na;b 3\r\n", NULL, "a;b 5\n", 5, 1 },
    { "blank lines skipped, last line unterminated", "\n  \na 1\n\nb 2", NULL, "a 1\nb 2\n", 3, 2 },
    { "sorted bytewise", "b 1\na;z 1\na 1\nB 1\na b 1\n", NULL, "B 1\na 1\na b 1\na;z 1\nb 1\n", 5,
      5 },
    { "any byte but ';' and newline", "m\xff\xfe;<&\"> 2\n", NULL, "m\xff\xfe;<&\"> 2\n", 2, 1 },
    { "largest count", "a 18446744073709551615\n", NULL, "a 18446744073709551615\n", UINT64_MAX,
      1 },
    { "empty text", "", NULL, "", 0, 0 },
};

static void test_parse(void)
{
    for (size_t i = 0; i < NELEM(parse_cases); i++) {
        const struct parse_case *c = &parse_cases[i];
        struct s3dlio_folded *f = s3dlio_folded_new();
        struct s3dlio_error err = { 0 };
        enum s3dlio_rc rc = s3dlio_folded_add_text(f, c->text, strlen(c->text), c->root, &err);
        CHECK_INT(rc, S3DLIO_OK, c->name);
        char *got = text_of(f);
        CHECK_STR(got, c->want, c->name);
        CHECK_INT(s3dlio_folded_total(f), c->total, c->name);
        CHECK_INT(s3dlio_folded_count(f), c->count, c->name);
        free(got);
        s3dlio_folded_free(f);
    }
}

static const struct bad_case {
    const char *name;
    const char *text;
    const char *line; /* "line N:" the message must name */
} bad_cases[] = {
    { "no count", "a;b\n", "line 1:" },
    { "count not a number", "a;b x\n", "line 1:" },
    { "count zero", "a;b 0\n", "line 1:" },
    { "count negative", "a;b -1\n", "line 1:" },
    { "count fractional", "a;b 1.5\n", "line 1:" },
    { "count past 2^64", "a;b 18446744073709551616\n", "line 1:" },
    { "empty stack", " 5\n", "line 1:" },
    { "empty frame inside", "a;;b 1\n", "line 1:" },
    { "empty first frame", ";a 1\n", "line 1:" },
    { "empty last frame", "a; 1\n", "line 1:" },
    { "bad line after good ones", "ok;x 1\nok;y 2\nbad\n", "line 3:" },
    { "blank lines are counted", "a 1\n\n\nb 1 x\n", "line 4:" },
    { "CRLF lines are counted once", "a 1\r\nb 2\r\nc\r\n", "line 3:" },
};

/* A failing text adds nothing: the set is as it was before, bytes and totals. */
static void test_malformed(void)
{
    for (size_t i = 0; i < NELEM(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct s3dlio_folded *f = s3dlio_folded_new();
        struct s3dlio_error err = { 0 };
        CHECK_INT(s3dlio_folded_add_text(f, "ok;x 10\n", 8, NULL, &err), S3DLIO_OK, c->name);
        char *before = text_of(f);
        enum s3dlio_rc rc = s3dlio_folded_add_text(f, c->text, strlen(c->text), "rank 0", &err);
        CHECK_INT(rc, S3DLIO_E_PARSE, c->name);
        CHECK_INT(err.rc, S3DLIO_E_PARSE, c->name);
        if (!strstr(err.message, c->line))
            CHECK_STR(err.message, c->line, c->name);
        char *after = text_of(f);
        CHECK_STR(after, before, c->name);
        CHECK_INT(s3dlio_folded_total(f), 10, c->name);
        CHECK_INT(s3dlio_folded_count(f), 1, c->name);
        free(before);
        free(after);
        s3dlio_folded_free(f);
    }
}

static void test_bad_root(void)
{
    static const char *const roots[] = { "", "a;", ";a", "a;;b", "rank\n3" };
    for (size_t i = 0; i < NELEM(roots); i++) {
        struct s3dlio_folded *f = s3dlio_folded_new();
        struct s3dlio_error err = { 0 };
        CHECK_INT(s3dlio_folded_add_text(f, "a 1\n", 4, roots[i], &err), S3DLIO_E_USAGE, roots[i]);
        CHECK_INT(s3dlio_folded_total(f), 0, roots[i]);
        s3dlio_folded_free(f);
    }
    /* err may be NULL */
    struct s3dlio_folded *f = s3dlio_folded_new();
    CHECK_INT(s3dlio_folded_add_text(f, "x\n", 2, NULL, NULL), S3DLIO_E_PARSE, "err NULL");
    s3dlio_folded_free(f);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Random lines over a pool of stacks, in three texts: every stack's sum and the total match a
 * plain count, the output is sorted, and merging the texts' sets equals adding them all to one.
 */
static void test_random_merge(void)
{
    enum {
        POOL = 300,
        LINES = 6000,
    };
    static const char *const frames[] = {
        "main", "cmd_stage", "s3dlio_xfer_run", "curl_multi_perform", "SSL_read", "memcpy",
        "x y",  "z"
    };
    char *pool[POOL];
    uint64_t want[POOL] = { 0 }, want_total = 0, seed = 7;
    size_t nfr = NELEM(frames);
    for (int i = 0; i < POOL; i++) {
        char buf[256] = "";
        int depth = 1 + (int)(rng_next(&seed) % 7);
        for (int d = 0; d < depth; d++) {
            strcat(buf, d ? ";" : "");
            strcat(buf, frames[rng_next(&seed) % nfr]);
        }
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ";leaf%d", i); /* distinct */
        pool[i] = strdup(buf);
    }
    qsort(pool, POOL, sizeof(*pool), cmp_str); /* for bsearch of the output's lines */
    struct s3dlio_folded *one = s3dlio_folded_new(), *parts[3];
    char *text[3];
    size_t tlen[3] = { 0 };
    FILE *tf[3];
    for (int p = 0; p < 3; p++) {
        parts[p] = s3dlio_folded_new();
        tf[p] = open_memstream(&text[p], &tlen[p]);
    }
    for (int l = 0; l < LINES; l++) {
        int i = (int)(rng_next(&seed) % POOL);
        uint64_t n = 1 + rng_next(&seed) % 1000;
        want[i] += n;
        want_total += n;
        fprintf(tf[l % 3], "%s %llu\n", pool[i], (unsigned long long)n);
    }
    struct s3dlio_error err = { 0 };
    for (int p = 0; p < 3; p++) {
        fclose(tf[p]);
        CHECK_INT(s3dlio_folded_add_text(parts[p], text[p], tlen[p], NULL, &err), S3DLIO_OK,
                  "random part parses");
        CHECK_INT(s3dlio_folded_add_text(one, text[p], tlen[p], NULL, &err), S3DLIO_OK,
                  "random text parses");
    }
    size_t distinct = 0;
    for (int i = 0; i < POOL; i++)
        distinct += want[i] != 0;
    CHECK_INT(s3dlio_folded_total(one), want_total, "total is the sum of the inputs");
    CHECK_INT(s3dlio_folded_count(one), distinct, "distinct stacks");

    /* every output line: its stack's expected sum, in bytewise order */
    char *out = text_of(one), *save = NULL, *prev = NULL;
    size_t lines = 0, wrong = 0, unsorted = 0;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *sp = strrchr(line, ' ');
        *sp = '\0';
        const char *key = line;
        char **hit = bsearch(&key, pool, POOL, sizeof(*pool), cmp_str);
        if (!hit) {
            wrong++;
            continue;
        }
        if (strtoull(sp + 1, NULL, 10) != want[hit - pool])
            wrong++;
        if (prev && strcmp(prev, line) >= 0)
            unsorted++;
        prev = line;
        lines++;
    }
    CHECK_INT(lines, distinct, "one line per distinct stack");
    CHECK_INT(wrong, 0, "every stack's count is its sum");
    CHECK_INT(unsorted, 0, "output sorted bytewise");
    free(out);

    s3dlio_folded_merge(parts[0], parts[1]);
    s3dlio_folded_merge(parts[0], parts[2]);
    char *a = text_of(parts[0]), *b = text_of(one);
    CHECK_STR(a, b, "merged parts equal one set of all lines");
    free(a), free(b);
    for (int p = 0; p < 3; p++) {
        s3dlio_folded_free(parts[p]);
        free(text[p]);
    }
    s3dlio_folded_free(one);
    for (int i = 0; i < POOL; i++)
        free(pool[i]);
}

static void test_add_direct(void)
{
    struct s3dlio_folded *f = s3dlio_folded_new();
    s3dlio_folded_add(f, "a;b", 2);
    s3dlio_folded_add(f, "a;b", 3);
    s3dlio_folded_add(f, "a;zero", 0); /* adds nothing */
    s3dlio_folded_add_n(f, "n\0ul;x", 6, 1);
    s3dlio_folded_add(f, "big", UINT64_MAX);
    CHECK_INT(s3dlio_folded_count(f), 3, "count 0 adds no stack");
    CHECK(s3dlio_folded_total(f) == UINT64_MAX, "total saturates");
    size_t len;
    char *t = s3dlio_folded_text(f, &len);
    static const char want[] = "a;b 5\nbig 18446744073709551615\nn\0ul;x 1\n";
    CHECK_INT(len, sizeof(want) - 1, "a NUL inside a stack is kept");
    CHECK(len == sizeof(want) - 1 && !memcmp(t, want, len), "text with a NUL byte");
    free(t);
    s3dlio_folded_free(f);
    s3dlio_folded_free(NULL);
}

int main(void)
{
    test_parse();
    test_malformed();
    test_bad_root();
    test_random_merge();
    test_add_direct();
    TEST_DONE();
}
