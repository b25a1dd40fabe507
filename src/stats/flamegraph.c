/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flamegraph SVG (see render.h), drawn the way Brendan Gregg's FlameGraph draws it so it
 * reads the same: root at the bottom, children left to right by name, a frame's width its
 * share of the samples, warm colours from a hash of the name. The page's script (zoom, search,
 * the detail line) is inline, so the file works alone, from disk or as a CI artifact.
 */
#include "stats/render.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

#define DEFAULT_WIDTH 1200
#define MIN_WIDTH     200
#define XPAD          10   /* left and right margin */
#define FRAME_H       16   /* one level: a 15 px box and a 1 px gap */
#define CHAR_PX       7.08 /* mean advance of 12 px Verdana/DejaVu Sans (0.59 em) */
#define LABEL_PAD     3    /* text inset from the box's left edge */
#define MIN_FRAME_PX  0.1  /* narrower frames are left out (FlameGraph's --minwidth) */
#define TOP_PAD       58   /* title, subtitle */
#define LEGEND_H      18   /* the colour key, when there are frames of two kinds */
#define BOTTOM_PAD    34   /* the detail line */

/* One frame of the merged tree; the tree is stored in pre-order. */
struct node {
    const char *name; /* borrowed from the folded set */
    size_t len;
    size_t parent;
    int depth;      /* root ("all") 0 */
    uint64_t value; /* samples of this frame and everything above it */
    uint64_t x;     /* samples left of it: its left edge in sample units */
};

struct tree {
    struct node *nodes;
    size_t n, alloc;
    int max_depth; /* of the frames wide enough to draw */
};

/* Where a frame comes from, to tell our code from the libraries and the kernel it runs in. */
enum kind {
    KIND_APP,
    KIND_LIB,
    KIND_KERNEL,
};

/* ---- the tree -------------------------------------------------------------------------- */

/* Byte i of s for frame-wise order: the end sorts first, then ';', then every other byte. */
static int frame_byte(const struct s3dlio_folded_stack *s, size_t i)
{
    if (i == s->len)
        return -1;
    return s->stack[i] == ';' ? 0 : (unsigned char)s->stack[i] + 1;
}

/*
 * Frame by frame, each frame bytewise ("a" < "a b" < "ab"): unlike plain bytewise order of the
 * whole line, sibling frames then come out sorted by name and each subtree is contiguous.
 */
static int cmp_frames(const void *a, const void *b)
{
    const struct s3dlio_folded_stack *x = *(const struct s3dlio_folded_stack *const *)a;
    const struct s3dlio_folded_stack *y = *(const struct s3dlio_folded_stack *const *)b;
    for (size_t i = 0;; i++) {
        int p = frame_byte(x, i), q = frame_byte(y, i);
        if (p != q)
            return p < q ? -1 : 1;
        if (p < 0)
            return 0;
    }
}

/* Sample sums saturate as the folded set's do: a hostile count cannot wrap the layout. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static size_t add_node(struct tree *t, const char *name, size_t len, size_t parent, int depth)
{
    s3dlio_xgrow((void **)&t->nodes, sizeof(*t->nodes), t->n + 1, &t->alloc);
    t->nodes[t->n] = (struct node){ name, len, parent, depth, 0, 0 };
    return t->n++;
}

/* Frame boundaries of one stack: starts[i], lens[i]. */
struct frames {
    size_t *starts, *lens;
    size_t n, alloc_s, alloc_l;
};

static void split(const struct s3dlio_folded_stack *s, struct frames *fr)
{
    fr->n = 0;
    for (size_t start = 0, i = 0; i <= s->len; i++) {
        if (i < s->len && s->stack[i] != ';')
            continue;
        s3dlio_xgrow((void **)&fr->starts, sizeof(*fr->starts), fr->n + 1, &fr->alloc_s);
        s3dlio_xgrow((void **)&fr->lens, sizeof(*fr->lens), fr->n + 1, &fr->alloc_l);
        fr->starts[fr->n] = start;
        fr->lens[fr->n++] = i - start;
        start = i + 1;
    }
}

/*
 * Add one stack below the root. path[d] is the node at depth d of the previous stack, whose
 * frames are prev: in frame-wise order a stack shares exactly its common leading frames with
 * the stack before it, so those nodes are reused and the rest are new.
 */
static void add_stack(struct tree *t, const struct s3dlio_folded_stack *s,
                      const struct s3dlio_folded_stack *prev_s, const struct frames *prev,
                      const struct frames *cur, size_t **path, size_t *path_alloc)
{
    size_t common = 0;
    while (prev_s && common < prev->n && common < cur->n &&
           prev->lens[common] == cur->lens[common] &&
           !memcmp(prev_s->stack + prev->starts[common], s->stack + cur->starts[common],
                   cur->lens[common]))
        common++;
    s3dlio_xgrow((void **)path, sizeof(**path), cur->n + 1, path_alloc);
    t->nodes[0].value = sat_add(t->nodes[0].value, s->count);
    for (size_t j = 0; j < cur->n; j++) {
        if (j >= common)
            (*path)[j + 1] =
                add_node(t, s->stack + cur->starts[j], cur->lens[j], (*path)[j], (int)j + 1);
        struct node *nd = &t->nodes[(*path)[j + 1]];
        nd->value = sat_add(nd->value, s->count);
    }
}

/* Left edges: each child starts where its previous sibling ended (pre-order: parents first). */
static void layout(struct tree *t)
{
    uint64_t *cursor = s3dlio_xmalloc(t->n * sizeof(*cursor));
    cursor[0] = 0;
    for (size_t i = 1; i < t->n; i++) {
        struct node *nd = &t->nodes[i];
        nd->x = cursor[nd->parent];
        cursor[nd->parent] = sat_add(cursor[nd->parent], nd->value);
        cursor[i] = nd->x;
    }
    free(cursor);
}

/* The merged tree of f, root "all" with every sample. Counts saturate like the set's. */
static void build_tree(const struct s3dlio_folded *f, struct tree *t)
{
    const struct s3dlio_folded_stack **order = s3dlio_xmalloc((f->n + 1) * sizeof(*order));
    for (size_t i = 0; i < f->n; i++)
        order[i] = &f->stacks[i];
    qsort(order, f->n, sizeof(*order), cmp_frames);
    add_node(t, "all", 3, 0, 0);
    struct frames a = { 0 }, b = { 0 }, *prev = &a, *cur = &b;
    size_t *path = s3dlio_xmalloc(sizeof(*path)), path_alloc = 1;
    path[0] = 0;
    for (size_t i = 0; i < f->n; i++) {
        split(order[i], cur);
        add_stack(t, order[i], i ? order[i - 1] : NULL, prev, cur, &path, &path_alloc);
        struct frames *tmp = prev;
        prev = cur;
        cur = tmp;
    }
    layout(t);
    free(path);
    free(a.starts), free(a.lens), free(b.starts), free(b.lens);
    free(order);
}

/* ---- colours --------------------------------------------------------------------------- */

static bool has_prefix(const char *s, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && !memcmp(s, p, n);
}

static bool has_suffix(const char *s, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && !memcmp(s + len - n, p, n);
}

static bool has_any_prefix(const char *s, size_t len, const char *const *list)
{
    for (; *list; list++)
        if (has_prefix(s, len, *list))
            return true;
    return false;
}

static bool is_any(const char *s, size_t len, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == len && !memcmp(s, *list, len))
            return true;
    return false;
}

static bool contains(const char *s, size_t len, const char *needle)
{
    return memmem(s, len, needle, strlen(needle)) != NULL;
}

/*
 * A guess from the name alone: perf's "_[k]" suffix and the kernel's entry points (whatever a
 * syscall entry calls is the kernel's too: see frame_kinds); libc, libcurl, OpenSSL, libxml2,
 * MPI by their prefixes or an unresolved "[libfoo.so]" frame. Exact names only for short words
 * ("read") a user function may start with.
 */
static enum kind frame_kind(const char *s, size_t len)
{
    static const char *const kernel[] = {
        "[kernel",
        "[vmlinux",
        "entry_SYSCALL",
        "do_syscall_",
        "__x64_sys_",
        "__arm64_sys_",
        "__sys_",
        "ksys_",
        "syscall_exit",
        "__schedule",
        "__tcp_",
        "tcp_recvmsg",
        "tcp_sendmsg",
        "__ip_",
        "__skb_",
        "__alloc_skb",
        "net_rx_action",
        "__netif_",
        "__napi_",
        "__softirq",
        "do_softirq",
        "irq_exit",
        "exc_page_fault",
        "asm_exc_",
        "asm_common_interrupt",
        "asm_sysvec_",
        "ret_from_fork",
        "handle_mm_fault",
        "__handle_mm_fault",
        "copy_user_",
        "_copy_to_user",
        "_copy_from_user",
        "vfs_",
        "__vfs_",
        "native_",
        "__x86_",
        NULL,
    };
    static const char *const lib_prefix[] = {
        "Curl_",    "curl_",       "cf_",       "multi_",    "SSL_",       "ssl3_",
        "ssl_",     "ossl_",       "tls_",      "tls1_",     "EVP_",       "evp_",
        "aesni_",   "aes_",        "AES_",      "gcm_",      "sha1_",      "sha256_",
        "sha512_",  "SHA1",        "SHA256",    "SHA512",    "HMAC",       "MD5_",
        "md5_",     "CRYPTO_",     "BIO_",      "bio_",      "OPENSSL_",   "ERR_",
        "BN_",      "bn_",         "ChaCha20",  "chacha20_", "Poly1305",   "poly1305_",
        "__libc_",  "__GI_",       "__memcpy",  "__memmove", "__memset",   "__strlen",
        "__strchr", "_int_malloc", "_int_free", "pthread_",  "__pthread_", "start_thread",
        "__clone",  "xml",         "inflate",   "deflate",   "MPI_",       "PMPI_",
        "ompi_",    "opal_",       "mca_",      "ucp_",      "uct_",       "ucs_",
        "H5",       "[lib",        "[ld-",      "[vdso",     NULL,
    };
    static const char *const lib_exact[] = {
        "memcpy",   "memmove", "memset", "memcmp",     "strlen",    "malloc",     "free",
        "calloc",   "realloc", "cfree",  "clone",      "clone3",    "read",       "write",
        "__read",   "__write", "recv",   "send",       "__recv",    "__send",     "recvfrom",
        "sendto",   "poll",    "__poll", "epoll_wait", "writev",    "readv",      "pread64",
        "pwrite64", "_start",  "crc32",  "crc32_z",    "sock_read", "sock_write", NULL,
    };
    if (has_suffix(s, len, "_[k]") || has_any_prefix(s, len, kernel))
        return KIND_KERNEL;
    if (has_any_prefix(s, len, lib_prefix) || is_any(s, len, lib_exact) || contains(s, len, ".so"))
        return KIND_LIB;
    return KIND_APP;
}

/* Every node's kind: its name's, or the kernel's when a kernel frame is below it. */
static unsigned char *frame_kinds(const struct tree *t)
{
    unsigned char *k = s3dlio_xmalloc(t->n);
    k[0] = KIND_APP;
    for (size_t i = 1; i < t->n; i++) {
        const struct node *nd = &t->nodes[i];
        k[i] = k[nd->parent] == KIND_KERNEL ? KIND_KERNEL : frame_kind(nd->name, nd->len);
    }
    return k;
}

/* Three stable values in [0, 255] from the name: the same frame is the same colour anywhere. */
static void name_hash(const char *s, size_t len, unsigned v[3])
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    h ^= h >> 29; /* FNV's low bits mix poorly for short names */
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    v[0] = (unsigned)(h & 0xff), v[1] = (unsigned)(h >> 8 & 0xff),
    v[2] = (unsigned)(h >> 16 & 0xff);
}

/* FlameGraph's "hot" palette for our code; cool blues for libraries, greens for the kernel. */
static void frame_rgb(const char *s, size_t len, enum kind kind, unsigned rgb[3])
{
    unsigned v[3];
    name_hash(s, len, v);
    switch (kind) {
    case KIND_LIB:
        rgb[0] = 80 + 60 * v[0] / 255, rgb[1] = 165 + 55 * v[0] / 255;
        rgb[2] = 195 + 45 * v[1] / 255;
        return;
    case KIND_KERNEL:
        rgb[0] = 110 + 60 * v[0] / 255, rgb[1] = 185 + 50 * v[1] / 255;
        rgb[2] = 80 + 40 * v[0] / 255;
        return;
    case KIND_APP:
        break;
    }
    rgb[0] = 205 + 50 * v[2] / 255, rgb[1] = 230 * v[0] / 255, rgb[2] = 55 * v[1] / 255;
}

/* ---- the SVG --------------------------------------------------------------------------- */

static const char style_css[] =
    "<style type=\"text/css\"><![CDATA[\n"
    "text { font-family: Verdana, \"DejaVu Sans\", \"Bitstream Vera Sans\", sans-serif;"
    " font-size: 12px; fill: #000; }\n"
    "#title { text-anchor: middle; font-size: 17px; font-weight: bold; }\n"
    "#subtitle, #legend, #empty { text-anchor: middle; fill: #444; }\n"
    "#empty { font-size: 15px; }\n"
    ".ctl { cursor: pointer; fill: #1f3f7f; }\n"
    ".ctl:hover { text-decoration: underline; }\n"
    "#search, #matched { text-anchor: end; }\n"
    "#details { fill: #222; }\n"
    ".f { cursor: pointer; }\n"
    ".f text { pointer-events: none; }\n"
    ".f:hover rect { stroke: #000; stroke-width: 0.5; }\n"
    ".hide { display: none; }\n"
    ".parent { opacity: 0.5; }\n"
    "]]></style>\n";

/*
 * Zoom, search and the detail line. Frames keep their first geometry (F[i].x/.w) so every
 * zoom is computed from the original layout, not from the last zoom's rounded numbers.
 */
static const char script_js[] =
    "<script type=\"text/ecmascript\"><![CDATA[\n"
    "\"use strict\";\n"
    "var F = [], details, matched, unzoombtn, searchbtn, zoomed = null, searching = null;\n"
    "function el(id) { return document.getElementById(id); }\n"
    "function init() {\n"
    "  details = el(\"details\"); matched = el(\"matched\");\n"
    "  unzoombtn = el(\"unzoom\"); searchbtn = el(\"search\");\n"
    "  var gs = el(\"frames\").getElementsByTagName(\"g\");\n"
    "  for (var i = 0; i < gs.length; i++) {\n"
    "    var g = gs[i], r = g.getElementsByTagName(\"rect\")[0];\n"
    "    var info = g.getElementsByTagName(\"title\")[0].textContent;\n"
    "    var cut = info.lastIndexOf(\" (\");\n"
    "    F.push({ g: g, r: r, t: g.getElementsByTagName(\"text\")[0], info: info,\n"
    "             name: cut < 0 ? info : info.substring(0, cut), fill: r.getAttribute(\"fill\"),\n"
    "             x: parseFloat(r.getAttribute(\"x\")), w: parseFloat(r.getAttribute(\"width\")),\n"
    "             y: parseFloat(r.getAttribute(\"y\")) });\n"
    "    g.__f = F[F.length - 1];\n"
    "  }\n"
    "  var fr = el(\"frames\");\n"
    "  fr.addEventListener(\"click\", function (e) { var f = hit(e); if (f) zoom(f); });\n"
    "  fr.addEventListener(\"mouseover\", function (e) {\n"
    "    var f = hit(e); if (f) details.textContent = f.info; });\n"
    "  fr.addEventListener(\"mouseout\", function () { details.textContent = \" \"; });\n"
    "  unzoombtn.addEventListener(\"click\", unzoom);\n"
    "  searchbtn.addEventListener(\"click\", function () {\n"
    "    if (searching !== null) reset_search(); else search_prompt(); });\n"
    "  window.addEventListener(\"keydown\", function (e) {\n"
    "    if (e.keyCode === 114 || ((e.ctrlKey || e.metaKey) && e.keyCode === 70)) {\n"
    "      e.preventDefault(); search_prompt();\n"
    "    } else if (e.keyCode === 27) { unzoom(); reset_search(); }\n"
    "  });\n"
    "}\n"
    "function hit(e) {\n"
    "  for (var n = e.target; n && n.nodeType === 1; n = n.parentNode)\n"
    "    if (n.__f) return n.__f;\n"
    "  return null;\n"
    "}\n"
    "function label(f, x, w) {\n"
    "  var fit = Math.floor(w / CHAR_PX), s = \"\";\n"
    "  if (fit >= 3) s = f.name.length <= fit ? f.name : f.name.substring(0, fit - 2) + \"..\";\n"
    "  f.t.textContent = s;\n"
    "  f.t.setAttribute(\"x\", (x + LABEL_PAD).toFixed(2));\n"
    "}\n"
    "function place(f, x, w, cls) {\n"
    "  f.r.setAttribute(\"x\", x.toFixed(2)); f.r.setAttribute(\"width\", w.toFixed(2));\n"
    "  f.g.setAttribute(\"class\", cls); label(f, x, w);\n"
    "}\n"
    "function zoom(z) {\n"
    "  var eps = 1e-6, scale = FULLW / z.w;\n"
    "  zoomed = z; unzoombtn.setAttribute(\"class\", \"ctl\");\n"
    "  for (var i = 0; i < F.length; i++) {\n"
    "    var f = F[i], inside = f.x >= z.x - eps && f.x + f.w <= z.x + z.w + eps;\n"
    "    var covers = f.x <= z.x + eps && f.x + f.w >= z.x + z.w - eps;\n"
    "    if (f.y > z.y && covers) place(f, XPAD, FULLW, \"f parent\");\n"
    "    else if (f.y <= z.y && inside) place(f, XPAD + (f.x - z.x) * scale, f.w * scale, \"f\");\n"
    "    else f.g.setAttribute(\"class\", \"f hide\");\n"
    "  }\n"
    "}\n"
    "function unzoom() {\n"
    "  zoomed = null; unzoombtn.setAttribute(\"class\", \"ctl hide\");\n"
    "  for (var i = 0; i < F.length; i++) place(F[i], F[i].x, F[i].w, \"f\");\n"
    "}\n"
    "function search_prompt() {\n"
    "  var term = prompt(\"Search frames (regular expression, or text):\", searching || \"\");\n"
    "  if (term) search(term);\n"
    "}\n"
    "function search(term) {\n"
    "  var re;\n"
    "  try { re = new RegExp(term); }\n"
    "  catch (e) { re = new RegExp(term.replace(/[.*+?^${}()|[\\]\\\\]/g, \"\\\\$&\")); }\n"
    "  var hits = [];\n"
    "  for (var i = 0; i < F.length; i++) {\n"
    "    var f = F[i];\n"
    "    if (re.test(f.name)) { f.r.setAttribute(\"fill\", \"rgb(230,0,230)\"); hits.push(f); }\n"
    "    else f.r.setAttribute(\"fill\", f.fill);\n"
    "  }\n"
    "  searching = term;\n"
    "  searchbtn.textContent = \"Reset search\";\n"
    "  /* a match inside another match is counted once: merge the spans left to right */\n"
    "  hits.sort(function (a, b) { return a.x - b.x || b.w - a.w; });\n"
    "  var sum = 0, end = -1;\n"
    "  for (var j = 0; j < hits.length; j++) {\n"
    "    var h = hits[j], e = h.x + h.w;\n"
    "    if (e <= end) continue;\n"
    "    sum += e - Math.max(h.x, end); end = e;\n"
    "  }\n"
    "  matched.textContent = \"Matched: \" + (100 * sum / FULLW).toFixed(1) + \"% (\" +\n"
    "    hits.length + (hits.length === 1 ? \" frame)\" : \" frames)\");\n"
    "}\n"
    "function reset_search() {\n"
    "  searching = null; searchbtn.textContent = \"Search\"; matched.textContent = \" \";\n"
    "  for (var i = 0; i < F.length; i++) F[i].r.setAttribute(\"fill\", F[i].fill);\n"
    "}\n"
    "window.addEventListener(\"load\", init);\n"
    "]]></script>\n";

static void svg_open(FILE *out, int w, int h)
{
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
            "<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "xmlns=\"http://www.w3.org/2000/svg\">\n"
            "<defs><linearGradient id=\"bg\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
            "<stop stop-color=\"#eeeeee\" offset=\"5%%\"/>"
            "<stop stop-color=\"#eeeeb0\" offset=\"95%%\"/></linearGradient></defs>\n",
            w, h, w, h);
    fputs(style_css, out);
}

/* Title, subtitle line ("<subtitle> · N samples") and, for a drawn graph, the controls. */
static void header(FILE *out, const struct s3dlio_flame_opts *o, int w, uint64_t total)
{
    char n[32];
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"100%%\" fill=\"url(#bg)\"/>\n", w);
    fprintf(out, "<text id=\"title\" x=\"%.1f\" y=\"24\">", w / 2.0);
    s3dlio_svg_escapes(out, o && o->title ? o->title : "Flame Graph");
    fprintf(out, "</text>\n<text id=\"subtitle\" x=\"%.1f\" y=\"44\">", w / 2.0);
    if (o && o->subtitle && *o->subtitle) {
        s3dlio_svg_escapes(out, o->subtitle);
        fputs(" \xC2\xB7 ", out);
    }
    fprintf(out, "%s sample%s</text>\n", s3dlio_svg_thousands(total, n, sizeof(n)),
            total == 1 ? "" : "s");
}

static void controls(FILE *out, int w, int h)
{
    fprintf(out,
            "<text id=\"unzoom\" class=\"ctl hide\" x=\"%d\" y=\"24\">Reset zoom</text>\n"
            "<text id=\"search\" class=\"ctl\" x=\"%d\" y=\"24\">Search</text>\n"
            "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n"
            "<text id=\"matched\" x=\"%d\" y=\"%d\"> </text>\n",
            XPAD, w - XPAD, XPAD, h - 12, w - XPAD, h - 12);
}

/* The colour key, only when libraries or the kernel show up beside our own code. */
static void legend(FILE *out, int w, const bool kinds[3])
{
    static const char *const names[] = { "s3dlio and application code",
                                         "libraries (libc, libcurl, OpenSSL, MPI...)", "kernel" };
    static const char *const samples[] = { "main", "Curl_", "entry_SYSCALL_64" };
    fprintf(out, "<text id=\"legend\" x=\"%.1f\" y=\"%d\">", w / 2.0, TOP_PAD + 4);
    for (int k = 0; k < 3; k++) {
        unsigned rgb[3];
        if (!kinds[k])
            continue;
        frame_rgb(samples[k], strlen(samples[k]), (enum kind)k, rgb);
        fprintf(out, "<tspan dx=\"%d\" fill=\"rgb(%u,%u,%u)\">\xE2\x96\xA0</tspan> ", k ? 16 : 0,
                rgb[0], rgb[1], rgb[2]);
        fputs(names[k], out);
    }
    fputs("</text>\n", out);
}

/* The pixel edge of sample offset x, in hundredths of a pixel: children round inside parents. */
static long long edge(uint64_t x, double scale)
{
    return (long long)((double)x * scale * 100.0 + 0.5); /* no llround: no libm in the core */
}

static void frame(FILE *out, const struct node *nd, enum kind kind, const struct tree *t,
                  double scale, int top, uint64_t total)
{
    long long x1 = edge(nd->x, scale) + XPAD * 100,
              x2 = edge(sat_add(nd->x, nd->value), scale) + XPAD * 100;
    double w = (double)(x2 - x1) / 100.0;
    int y = top + (t->max_depth - nd->depth) * FRAME_H;
    unsigned rgb[3];
    char n[32];
    frame_rgb(nd->name, nd->len, kind, rgb);
    fputs("<g class=\"f\"><title>", out);
    s3dlio_svg_escape(out, nd->name, nd->len, SIZE_MAX);
    fprintf(out, " (%s sample%s, %.2f%%)</title>", s3dlio_svg_thousands(nd->value, n, sizeof(n)),
            nd->value == 1 ? "" : "s", 100.0 * (double)nd->value / (double)total);
    fprintf(out,
            "<rect x=\"%lld.%02lld\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"rgb(%u,%u,%u)\" "
            "rx=\"2\" ry=\"2\"/>",
            x1 / 100, x1 % 100, y, w, FRAME_H - 1, rgb[0], rgb[1], rgb[2]);
    fprintf(out, "<text x=\"%.2f\" y=\"%.1f\">", (double)x1 / 100.0 + LABEL_PAD, y + 10.5);
    size_t fit = (size_t)(w / CHAR_PX);
    if (fit >= 3)
        s3dlio_svg_escape(out, nd->name, nd->len, fit);
    fputs("</text></g>\n", out);
}

static void empty_graph(FILE *out, const struct s3dlio_flame_opts *o, int w)
{
    int h = 160;
    svg_open(out, w, h);
    header(out, o, w, 0);
    fprintf(out, "<text id=\"empty\" x=\"%.1f\" y=\"%d\">no samples</text>\n</svg>\n", w / 2.0,
            h / 2 + 20);
}

/* Depth of the drawn frames, and which kinds of frame they include. */
static void survey(struct tree *t, const unsigned char *kind, double scale, bool kinds[3])
{
    t->max_depth = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct node *nd = &t->nodes[i];
        if ((double)nd->value * scale < MIN_FRAME_PX)
            continue;
        if (nd->depth > t->max_depth)
            t->max_depth = nd->depth;
        if (i)
            kinds[kind[i]] = true;
    }
}

enum s3dlio_rc s3dlio_flamegraph_svg(const struct s3dlio_folded *f,
                                     const struct s3dlio_flame_opts *o, FILE *out,
                                     struct s3dlio_error *err)
{
    int w = o && o->width ? o->width : DEFAULT_WIDTH;
    if (w < MIN_WIDTH)
        w = MIN_WIDTH;
    uint64_t total = s3dlio_folded_total(f);
    if (!total) {
        empty_graph(out, o, w);
        return s3dlio_svg_finish(out, "flamegraph", err);
    }
    struct tree t = { 0 };
    build_tree(f, &t);
    double scale = (double)(w - 2 * XPAD) / (double)t.nodes[0].value;
    bool kinds[3] = { false, false, false };
    unsigned char *kind = frame_kinds(&t);
    survey(&t, kind, scale, kinds);
    bool key = kinds[KIND_LIB] || kinds[KIND_KERNEL];
    int top = TOP_PAD + (key ? LEGEND_H : 0);
    int h = top + (t.max_depth + 1) * FRAME_H + BOTTOM_PAD;
    svg_open(out, w, h);
    fprintf(out,
            "<script type=\"text/ecmascript\"><![CDATA[\nvar XPAD = %d, FULLW = %d, "
            "CHAR_PX = %.2f, LABEL_PAD = %d;\n]]></script>\n",
            XPAD, w - 2 * XPAD, CHAR_PX, LABEL_PAD);
    fputs(script_js, out);
    header(out, o, w, total);
    if (key)
        legend(out, w, kinds);
    controls(out, w, h);
    fputs("<g id=\"frames\">\n", out);
    for (size_t i = 0; i < t.n; i++)
        if ((double)t.nodes[i].value * scale >= MIN_FRAME_PX)
            frame(out, &t.nodes[i], (enum kind)kind[i], &t, scale, top, total);
    fputs("</g>\n</svg>\n", out);
    free(kind);
    free(t.nodes);
    return s3dlio_svg_finish(out, "flamegraph", err);
}
