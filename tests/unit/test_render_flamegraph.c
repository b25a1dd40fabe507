/* SPDX-License-Identifier: Apache-2.0 */
/*
 * src/stats/flamegraph.c: the SVG parses as XML (xmllint); its frames are exactly the distinct
 * stack prefixes wide enough to draw, counted here from the input by a separate plain model,
 * with the title counts and percentages that model gives; children fit inside their parents and
 * come in name order; names with <&"' and invalid UTF-8 stay well-formed; empty input, options,
 * determinism and write errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "render_check.h"
#include "stats/render.h"

/* One drawn frame as read back from the SVG. */
struct drawn {
    char *title; /* "name (N samples, P%)", as escaped in the file */
    char *label;
    double x, y, w;
};

struct drawing {
    struct drawn *f;
    size_t n;
};

static char *between(const char *p, const char *open, const char *close, const char **end)
{
    const char *a = strstr(p, open);
    if (!a)
        return NULL;
    a += strlen(open);
    const char *b = strstr(a, close);
    if (!b)
        return NULL;
    *end = b + strlen(close);
    return strndup(a, (size_t)(b - a));
}

/* Every <g class="f"> of the frames group: title, rect geometry, label. */
static struct drawing parse_frames(const char *svg)
{
    struct drawing d = { 0 };
    const char *p = strstr(svg, "<g id=\"frames\">");
    size_t alloc = 0;
    while (p && (p = strstr(p, "<g class=\"f\">")) != NULL) {
        struct drawn fr = { 0 };
        const char *end;
        fr.title = between(p, "<title>", "</title>", &end);
        const char *r = strstr(p, "<rect ");
        if (!fr.title || !r ||
            sscanf(r, "<rect x=\"%lf\" y=\"%lf\" width=\"%lf\"", &fr.x, &fr.y, &fr.w) != 3) {
            free(fr.title);
            break;
        }
        const char *t = strstr(r, "<text ");
        t = t ? strchr(t, '>') : NULL;
        fr.label = t ? between(t, ">", "</text>", &end) : strdup("");
        if (d.n == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            d.f = realloc(d.f, alloc * sizeof(*d.f));
        }
        d.f[d.n++] = fr;
        p = r;
    }
    return d;
}

static void drawing_free(struct drawing *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->f[i].title), free(d->f[i].label);
    free(d->f);
}

static const struct drawn *find_title(const struct drawing *d, const char *prefix)
{
    for (size_t i = 0; i < d->n; i++)
        if (!strncmp(d->f[i].title, prefix, strlen(prefix)))
            return &d->f[i];
    return NULL;
}

static char *render(const struct s3dlio_folded *f, const struct s3dlio_flame_opts *o,
                    enum s3dlio_rc *rc)
{
    struct svg_capture cap;
    struct s3dlio_error err = { 0 };
    *rc = s3dlio_flamegraph_svg(f, o, svg_begin(&cap), &err);
    return svg_take(&cap);
}

/* ---- the plain model: every prefix of every stack with its samples ---------------------- */

struct prefix {
    char *key;
    unsigned long long n;
};

static int cmp_prefix(const void *a, const void *b)
{
    return strcmp(((const struct prefix *)a)->key, ((const struct prefix *)b)->key);
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * From folded text: the distinct prefixes ("a", "a;b", ...) and their sums, plus the root.
 * Returns how many, *out sorted by key and merged.
 */
static size_t model(const char *text, struct prefix **out, unsigned long long *total)
{
    struct prefix *v = NULL;
    size_t n = 0, alloc = 0;
    char *copy = strdup(text), *save = NULL;
    *total = 0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *sp = strrchr(line, ' ');
        unsigned long long c = strtoull(sp + 1, NULL, 10);
        *sp = '\0';
        *total += c;
        for (char *q = line;; q++) {
            if (*q != ';' && *q)
                continue;
            if (n == alloc) {
                alloc = alloc ? alloc * 2 : 256;
                v = realloc(v, alloc * sizeof(*v));
            }
            v[n++] = (struct prefix){ strndup(line, (size_t)(q - line)), c };
            if (!*q)
                break;
        }
    }
    free(copy);
    qsort(v, n, sizeof(*v), cmp_prefix);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && !strcmp(v[m - 1].key, v[i].key)) {
            v[m - 1].n += v[i].n;
            free(v[i].key);
        } else {
            v[m++] = v[i];
        }
    }
    *out = v;
    return m;
}

/* The title the model expects for a prefix: its last frame, count, share of the total. */
static char *want_title(const char *key, unsigned long long n, unsigned long long total)
{
    const char *leaf = strrchr(key, ';');
    char c[32], *t = NULL;
    if (asprintf(&t, "%s (%s sample%s, %.2f%%)", leaf ? leaf + 1 : key, commas(n, c, sizeof(c)),
                 n == 1 ? "" : "s", 100.0 * (double)n / (double)total) < 0)
        return NULL;
    return t;
}

/* ---- tests ------------------------------------------------------------------------------ */

static const char realistic[] =
    "main;cmd_stage;s3dlio_coord_stage;s3dlio_xfer_run;curl_multi_perform;Curl_readwrite;"
    "ossl_recv;SSL_read;aesni_gcm_decrypt 4200\n"
    "main;cmd_stage;s3dlio_coord_stage;s3dlio_xfer_run;curl_multi_perform;Curl_readwrite;"
    "ossl_recv;SSL_read;ssl3_read_bytes;tls_get_more_records 1300\n"
    "main;cmd_stage;s3dlio_coord_stage;s3dlio_xfer_run;curl_multi_perform;Curl_readwrite;"
    "Curl_client_write;s3dlio_body_cb;s3dlio_crc32c_copy 2600\n"
    "main;cmd_stage;s3dlio_coord_stage;s3dlio_xfer_run;curl_multi_perform;Curl_readwrite;"
    "Curl_client_write;s3dlio_body_cb;s3dlio_sink_write;pwrite64;entry_SYSCALL_64;"
    "do_syscall_64;ksys_pwrite64;vfs_write 1900\n"
    "main;cmd_stage;s3dlio_coord_stage;s3dlio_xfer_run;curl_multi_poll;poll;entry_SYSCALL_64;"
    "do_syscall_64;__x64_sys_poll 800\n"
    "main;cmd_stage;s3dlio_coord_stage;s3dlio_coord_partition;s3dlio_backend_list;"
    "s3dlio_s3_list;xmlParseChunk 240\n"
    "main;cmd_stage;s3dlio_coord_stage;MPI_Allreduce;ompi_coll_base_allreduce_intra_"
    "recursivedoubling 90\n"
    "main;cmd_stage;s3dlio_coord_stage;s3dlio_xfer_run;s3dlio_sigv4_sign;HMAC;sha256_block_data_"
    "order_avx2 300\n"
    "main;cmd_stage;s3dlio_coord_stage;s3dlio_xfer_run;tiny_thing 1\n"
    "main;cmd_stage;s3dlio_coord_stage;s3dlio_xfer_run;tiny_thing;deeper 1\n";

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Realistic stacks plus random ones: wide stacks (>= 500) and single samples far too narrow. */
static char *random_text(uint64_t seed)
{
    static const char *const frames[] = {
        "main", "s3dlio_xfer_run", "curl_multi_perform", "SSL_read",         "memcpy",
        "poll", "s3dlio_body_cb",  "read file",          "EVP_DecryptUpdate"
    };
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    fputs(realistic, f);
    for (int i = 0; i < 400; i++) {
        int depth = 1 + (int)(rng_next(&seed) % 9);
        for (int d = 0; d < depth; d++)
            fprintf(f, "%s%s", d ? ";" : "", frames[rng_next(&seed) % NELEM(frames)]);
        fprintf(f, " %llu\n", i % 3 ? 500 + (unsigned long long)(rng_next(&seed) % 4500) : 1ull);
    }
    fclose(f);
    return text;
}

/* Frames drawn = prefixes of at least 0.1 px, titles as the model says, children inside. */
static void test_structure(void)
{
    char *text = random_text(11);
    struct s3dlio_folded *f = s3dlio_folded_new();
    struct s3dlio_error err = { 0 };
    CHECK_INT(s3dlio_folded_add_text(f, text, strlen(text), NULL, &err), S3DLIO_OK, "parse");
    enum s3dlio_rc rc;
    char *svg = render(f, NULL, &rc);
    CHECK_INT(rc, S3DLIO_OK, "render");
    CHECK(xml_wellformed(svg, "flame-structure"), "well-formed");
    struct drawing d = parse_frames(svg);
    CHECK_INT(count_of(svg, "<g class=\"f\">"), d.n, "every frame group parsed");
    CHECK_INT(count_of(strstr(svg, "<g id=\"frames\">"), "<rect "), d.n, "one rect per frame");

    struct prefix *pre;
    unsigned long long total;
    size_t np = model(text, &pre, &total);
    const struct drawn *root = find_title(&d, "all (");
    CHECK(root != NULL, "root frame drawn");
    double chart_w = root ? root->w : 1;
    CHECK(chart_w > 1000 && chart_w <= 1200, "root spans the chart");

    /* titles: the multiset the model expects for the prefixes at least 0.1 px wide */
    char **want = malloc((np + 1) * sizeof(*want)), **got = malloc((d.n + 1) * sizeof(*got));
    size_t nw = 0, omitted = 0;
    want[nw++] = want_title("all", total, total);
    for (size_t i = 0; i < np; i++) {
        if ((double)pre[i].n * chart_w / (double)total >= 0.1)
            want[nw++] = want_title(pre[i].key, pre[i].n, total);
        else
            omitted++;
    }
    for (size_t i = 0; i < d.n; i++)
        got[i] = d.f[i].title;
    CHECK_INT(d.n, nw, "frames drawn = distinct prefixes wider than 0.1 px, plus the root");
    CHECK(omitted > 0, "the input has frames too narrow to draw");
    qsort(want, nw, sizeof(*want), cmp_strp);
    qsort(got, d.n, sizeof(*got), cmp_strp);
    size_t bad_titles = 0;
    for (size_t i = 0; i < nw && i < d.n; i++)
        if (strcmp(want[i], got[i])) {
            if (!bad_titles)
                fprintf(stderr, "  title got '%s', want '%s'\n", got[i], want[i]);
            bad_titles++;
        }
    CHECK_INT(bad_titles, 0, "every title's count and percentage match the input");

    /* each frame but the root sits on a parent one level down that covers it; children's
     * widths sum to no more than their parent's */
    size_t orphans = 0, overfull = 0;
    double *child_sum = calloc(d.n, sizeof(*child_sum));
    for (size_t i = 0; i < d.n; i++) {
        if (&d.f[i] == root)
            continue;
        size_t parent = SIZE_MAX;
        for (size_t j = 0; j < d.n; j++)
            if (d.f[j].y == d.f[i].y + 16 && d.f[j].x <= d.f[i].x + 1e-9 &&
                d.f[i].x + d.f[i].w <= d.f[j].x + d.f[j].w + 1e-6)
                parent = j;
        if (parent == SIZE_MAX)
            orphans++;
        else
            child_sum[parent] += d.f[i].w;
    }
    for (size_t j = 0; j < d.n; j++)
        if (child_sum[j] > d.f[j].w + 1e-6)
            overfull++;
    CHECK_INT(orphans, 0, "every frame lies within a parent one level below");
    CHECK_INT(overfull, 0, "children's widths sum to at most the parent's");
    CHECK(root && root->y >= d.f[0].y && root->y >= d.f[d.n - 1].y, "root at the bottom");

    for (size_t i = 0; i < nw; i++)
        free(want[i]);
    for (size_t i = 0; i < np; i++)
        free(pre[i].key);
    free(want), free(got), free(pre), free(child_sum);
    drawing_free(&d);
    free(svg);
    s3dlio_folded_free(f);
    free(text);
}

/* Siblings left to right by name, as FlameGraph sorts them, whatever the input order. */
static void test_child_order(void)
{
    static const char text[] = "main;c 10\nmain;b b 10\nmain;a 10\nmain;b 10\nmain;B 10\n";
    static const char *const order[] = { "B (", "a (", "b (", "b b (", "c (" };
    struct s3dlio_folded *f = s3dlio_folded_new();
    CHECK_INT(s3dlio_folded_add_text(f, text, strlen(text), NULL, NULL), S3DLIO_OK, "parse");
    enum s3dlio_rc rc;
    char *svg = render(f, NULL, &rc);
    struct drawing d = parse_frames(svg);
    double last = -1;
    for (size_t i = 0; i < NELEM(order); i++) {
        const struct drawn *fr = find_title(&d, order[i]);
        CHECK(fr != NULL, order[i]);
        CHECK(fr && fr->x > last, order[i]);
        last = fr ? fr->x : last;
    }
    const struct drawn *m = find_title(&d, "main (");
    CHECK(m && strstr(m->title, "(50 samples, 100.00%)"), "main holds every sample");
    drawing_free(&d);
    free(svg);
    s3dlio_folded_free(f);
}

static void test_escaping(void)
{
    /* <&"' ; invalid bytes; overlong '/', a surrogate, a cut sequence, a control; UTF-8 kept */
    static const char text[] = "main;a<b&c\"d'e;\xff\xfe tail 10\n"
                               "main;over\xc0\xaflong;sur\xed\xa0\x80;cut\xe2\x82 5\n"
                               "main;ctl\x01x;caf\xc3\xa9 \xe2\x82\xac 5\n";
    struct s3dlio_folded *f = s3dlio_folded_new();
    CHECK_INT(s3dlio_folded_add_text(f, text, sizeof(text) - 1, NULL, NULL), S3DLIO_OK, "parse");
    struct s3dlio_flame_opts o = { .title = "t<&>\"'\xff", .subtitle = "s&\x02" };
    enum s3dlio_rc rc;
    char *svg = render(f, &o, &rc);
    CHECK_INT(rc, S3DLIO_OK, "render");
    CHECK(xml_wellformed(svg, "flame-escape"), "well-formed with <&\"' and invalid UTF-8");
    CHECK(strstr(svg, "<title>a&lt;b&amp;c&quot;d&#39;e (10 samples, 50.00%)</title>"),
          "frame name escaped in its title");
    CHECK(strstr(svg, "\xef\xbf\xbd\xef\xbf\xbd tail ("), "invalid bytes become U+FFFD");
    CHECK(strstr(svg, "caf\xc3\xa9 \xe2\x82\xac ("), "valid UTF-8 kept");
    CHECK(strstr(svg, "t&lt;&amp;&gt;&quot;&#39;\xef\xbf\xbd</text>"), "title escaped");
    size_t raw = 0;
    for (const unsigned char *p = (const unsigned char *)svg; *p; p++)
        raw += *p == 0xff || *p == 0xfe || *p == 0xc0 || *p == 0x01 || *p == 0x02;
    CHECK_INT(raw, 0, "no invalid byte or control left");
    free(svg);
    s3dlio_folded_free(f);
}

static void test_labels(void)
{
    char name[301], text[400];
    memset(name, 'x', 300);
    name[300] = '\0';
    snprintf(text, sizeof(text), "%s 999\nnarrow 1\n", name);
    struct s3dlio_folded *f = s3dlio_folded_new();
    CHECK_INT(s3dlio_folded_add_text(f, text, strlen(text), NULL, NULL), S3DLIO_OK, "parse");
    enum s3dlio_rc rc;
    char *svg = render(f, NULL, &rc);
    struct drawing d = parse_frames(svg);
    const struct drawn *wide = find_title(&d, "xxx"), *narrow = find_title(&d, "narrow (");
    size_t ll = wide ? strlen(wide->label) : 0;
    CHECK(wide && ll > 100 && ll < 300, "a long name is cut to its box");
    CHECK(wide && ll > 2 && !strcmp(wide->label + ll - 2, ".."), "a cut label ends in ..");
    CHECK(wide && ll * 7.0 <= wide->w, "the cut label fits its box");
    CHECK(narrow && narrow->w < 3 * 7.0 && !strcmp(narrow->label, ""), "no label in a tiny box");
    drawing_free(&d);
    free(svg);
    s3dlio_folded_free(f);
}

static void test_empty_and_options(void)
{
    struct s3dlio_folded *f = s3dlio_folded_new();
    enum s3dlio_rc rc;
    char *svg = render(f, NULL, &rc);
    CHECK_INT(rc, S3DLIO_OK, "empty renders");
    CHECK(xml_wellformed(svg, "flame-empty"), "empty is well-formed");
    CHECK(strstr(svg, "no samples") != NULL, "empty says no samples");
    CHECK_INT(count_of(svg, "<g class=\"f\">"), 0, "empty has no frames");
    free(svg);

    s3dlio_folded_add(f, "main;work", 1234567);
    struct s3dlio_flame_opts o = { .title = "download: 4 ranks",
                                   .subtitle = "at 100 Hz",
                                   .width = 800 };
    svg = render(f, &o, &rc);
    struct drawing d = parse_frames(svg);
    CHECK(strstr(svg, "width=\"800\"") && strstr(svg, "viewBox=\"0 0 800 "), "width and viewBox");
    CHECK(strstr(svg, ">download: 4 ranks</text>") != NULL, "title");
    CHECK(strstr(svg, "at 100 Hz \xc2\xb7 1,234,567 samples</text>") != NULL,
          "subtitle with the total sample count");
    const struct drawn *root = find_title(&d, "all (");
    CHECK(root && root->w > 700 && root->w <= 800, "the chart follows the width");
    CHECK_INT(count_of(svg, "href"), 0, "nothing external");
    CHECK(count_of(svg, "<script") >= 1 && strstr(svg, "<![CDATA["), "inline script in CDATA");
    drawing_free(&d);
    free(svg);
    s3dlio_folded_free(f);
}

/* Counts that overflow 64 bits when summed saturate: still a drawing, root full width. */
static void test_huge_counts(void)
{
    static const char text[] = "a;x 18446744073709551615\na;y 18446744073709551615\nb 5\n";
    struct s3dlio_folded *f = s3dlio_folded_new();
    CHECK_INT(s3dlio_folded_add_text(f, text, strlen(text), NULL, NULL), S3DLIO_OK, "parse");
    enum s3dlio_rc rc;
    char *svg = render(f, NULL, &rc);
    CHECK_INT(rc, S3DLIO_OK, "huge counts render");
    CHECK(xml_wellformed(svg, "flame-huge"), "huge counts well-formed");
    struct drawing d = parse_frames(svg);
    const struct drawn *root = find_title(&d, "all ("), *a = find_title(&d, "a (");
    CHECK(root && a && a->w <= root->w && a->x >= root->x, "a saturated child stays inside");
    drawing_free(&d);
    free(svg);
    s3dlio_folded_free(f);
}

/* Same stacks in another order: the same bytes. */
static void test_deterministic(void)
{
    char *text = random_text(99);
    struct s3dlio_folded *a = s3dlio_folded_new(), *b = s3dlio_folded_new();
    CHECK_INT(s3dlio_folded_add_text(a, text, strlen(text), NULL, NULL), S3DLIO_OK, "parse a");
    /* b gets the lines last to first */
    for (char *end = text + strlen(text); end > text;) {
        char *start = end - 1;
        while (start > text && start[-1] != '\n')
            start--;
        CHECK_INT(s3dlio_folded_add_text(b, start, (size_t)(end - start), NULL, NULL), S3DLIO_OK,
                  "parse b");
        end = start;
    }
    enum s3dlio_rc rc;
    char *sa = render(a, NULL, &rc), *sb = render(b, NULL, &rc);
    CHECK(!strcmp(sa, sb), "same input, same bytes");
    free(sa), free(sb), free(text);
    s3dlio_folded_free(a);
    s3dlio_folded_free(b);
}

static void test_write_error(void)
{
    FILE *full = full_device();
    if (!full) {
        printf("no /dev/full: skipping the write error check\n");
        return;
    }
    struct s3dlio_folded *f = s3dlio_folded_new();
    s3dlio_folded_add_text(f, realistic, strlen(realistic), NULL, NULL);
    struct s3dlio_error err = { 0 };
    CHECK_INT(s3dlio_flamegraph_svg(f, NULL, full, &err), S3DLIO_E_IO, "write error is E_IO");
    CHECK_INT(err.rc, S3DLIO_E_IO, "err filled");
    fclose(full);
    s3dlio_folded_free(f);
}

int main(void)
{
    test_structure();
    test_child_order();
    test_escaping();
    test_labels();
    test_empty_and_options();
    test_huge_counts();
    test_deterministic();
    test_write_error();
    TEST_DONE();
}
