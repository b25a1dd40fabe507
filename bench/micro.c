/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3dlio-bench-micro: single-core costs of the work around a transfer, so a run's CPU
 * profile can be read against them: buffer fill (the memory ceiling), data generation and
 * verification, SigV4 signing, SHA-256/MD5 (what --payload-signing full and --verify
 * cost), CRC-32C (checkpoint part checksums), ListObjectsV2 parsing, and the engine's own
 * cost per small-object request with and without signing (micro_engine.c), in requests per
 * CPU-second of this process. Each figure is the median of --runs runs of about
 * --seconds each. A benchmark, not a test: nothing here asserts a timing.
 *
 *   s3dlio-bench-micro [--json] [--runs N] [--seconds S] [--only SUBSTRING]
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "s3/sigv4.h"
#include "s3/xml.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/crc32c.h"
#include "xfer/datagen.h"
#include "micro_engine.h"

#define BUF_BYTES  (64u << 20)
#define LIST_KEYS  1000
#define SIGN_BATCH 64
#define MAX_RUNS   99
/* 2015-08-30T12:36:00Z, the AWS test-suite time: signatures need no clock */
#define SIGN_TIME 1440938160

/* What the benchmarks share: allocated once, outside the timed loops. */
struct state {
    unsigned char *src, *dst;
    struct s3dlio_buf list_body;
    volatile unsigned sink; /* keeps results observable so no loop is optimised away */
};

/* One timed operation; returns the work it did (bytes, signatures, keys). */
typedef double bench_fn(struct state *s);

struct bench {
    const char *name;
    const char *unit; /* "GB/s" (work is bytes), or "<thing>/s" */
    bench_fn *fn;
    bool cpu_clock;   /* per CPU-second of the process, not per wall second */
};

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- the operations ------------------------------------------------------------------ */

static double b_memset(struct state *s)
{
    memset(s->dst, (int)(s->sink & 0xff), BUF_BYTES);
    s->sink += s->dst[BUF_BYTES / 2];
    return BUF_BYTES;
}

static double b_memcpy(struct state *s)
{
    memcpy(s->dst, s->src, BUF_BYTES);
    s->sink += s->dst[BUF_BYTES / 3];
    return BUF_BYTES;
}

static double gen(struct state *s, unsigned dedup, unsigned compress)
{
    struct s3dlio_gen g = { 42, dedup, compress };
    s3dlio_gen_fill(&g, "train/shard-000123.bin", 0, s->dst, BUF_BYTES);
    s->sink += s->dst[BUF_BYTES - 1];
    return BUF_BYTES;
}

static double b_gen(struct state *s)
{
    return gen(s, 1, 1);
}

static double b_gen_dedup4(struct state *s)
{
    return gen(s, 4, 1);
}

static double b_gen_compress4(struct state *s)
{
    return gen(s, 1, 4);
}

/* s->src holds the default-factor object (filled at start) */
static double b_verify(struct state *s)
{
    struct s3dlio_gen g = { 42, 1, 1 };
    s->sink += s3dlio_gen_verify(&g, "train/shard-000123.bin", 0, s->src, BUF_BYTES, NULL);
    return BUF_BYTES;
}

/* A typical GET: host, date and payload-hash headers, no query, unsigned payload. */
static double b_sigv4(struct state *s)
{
    char date[17];
    s3dlio_sigv4_amz_date(SIGN_TIME, date);
    const struct s3dlio_kv headers[] = {
        { "host", "rgw.example.org:7480" },
        { "x-amz-date", date },
        { "x-amz-content-sha256", S3DLIO_UNSIGNED_PAYLOAD },
    };
    struct s3dlio_sigv4_input in = {
        .method = "GET",
        .path = "/bench/train/shard-000123.bin",
        .headers = headers,
        .nheaders = 3,
        .payload_hash = S3DLIO_UNSIGNED_PAYLOAD,
        .access_key = "AKIDEXAMPLE",
        .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        .region = "us-east-1",
        .service = "s3",
        .now = SIGN_TIME,
    };
    struct s3dlio_buf auth = S3DLIO_BUF_INIT(16 * 1024);
    int done = 0; /* only signatures made count: a broken signer shows as 0 sig/s */
    /* a batch per call: one signature takes microseconds, not far above the clock's cost */
    for (int i = 0; i < SIGN_BATCH; i++) {
        s3dlio_buf_reset(&auth);
        if (s3dlio_sigv4_authorization(&auth, &in) == S3DLIO_OK && auth.len) {
            s->sink += (unsigned char)s3dlio_buf_str(&auth)[auth.len - 1];
            done++;
        }
    }
    s3dlio_buf_release(&auth);
    return done;
}

static double b_sha256(struct state *s)
{
    struct s3dlio_sha256 h;
    char hex[65];
    s3dlio_sha256_init(&h);
    s3dlio_sha256_update(&h, s->src, BUF_BYTES);
    s3dlio_sha256_final_hex(&h, hex);
    s->sink += (unsigned char)hex[0];
    return BUF_BYTES;
}

static double b_md5(struct state *s)
{
    char b64[25];
    s3dlio_md5_base64(s->src, BUF_BYTES, b64);
    s->sink += (unsigned char)b64[0];
    return BUF_BYTES;
}

static double b_crc32c(struct state *s)
{
    s->sink += s3dlio_crc32c(0, s->src, BUF_BYTES);
    return BUF_BYTES;
}

static double b_crc32c_sw(struct state *s)
{
    s->sink += s3dlio_crc32c_sw(0, s->src, BUF_BYTES);
    return BUF_BYTES;
}

static double b_list_parse(struct state *s)
{
    struct s3dlio_list_page page = { 0 };
    enum s3dlio_rc rc =
        s3dlio_xml_parse_list_v2(s3dlio_buf_str(&s->list_body), s->list_body.len, &page, NULL);
    double keys = rc ? 0 : (double)page.list.n; /* a broken parser shows as 0 keys/s */
    s3dlio_list_page_release(&page);
    return keys;
}

static double b_engine(struct state *s)
{
    double n = micro_engine_gets(false);
    s->sink += (unsigned)n;
    return n;
}

static double b_engine_signed(struct state *s)
{
    double n = micro_engine_gets(true);
    s->sink += (unsigned)n;
    return n;
}

static const struct bench benches[] = {
    { "memset 64 MiB", "GB/s", b_memset, false },
    { "memcpy 64 MiB", "GB/s", b_memcpy, false },
    { "datagen fill", "GB/s", b_gen, false },
    { "datagen fill dedup 4", "GB/s", b_gen_dedup4, false },
    { "datagen fill compress 4", "GB/s", b_gen_compress4, false },
    { "datagen verify", "GB/s", b_verify, false },
    { "sigv4 GET signature", "sig/s", b_sigv4, false },
    { "sha256 64 MiB", "GB/s", b_sha256, false },
    { "md5 64 MiB", "GB/s", b_md5, false },
    { "crc32c 64 MiB", "GB/s", b_crc32c, false },
    { "crc32c 64 MiB, tables only", "GB/s", b_crc32c_sw, false },
    { "ListObjectsV2 parse (1000 keys)", "keys/s", b_list_parse, false },
    { "engine, 8 KiB GETs", "req/CPU-s", b_engine, true },
    { "engine + sigv4, 8 KiB GETs", "req/CPU-s", b_engine_signed, true },
};
#define NBENCH (sizeof(benches) / sizeof(benches[0]))

/* ---- setup ---------------------------------------------------------------------------- */

/* A full 1000-key page in the shape radosgw sends (tests/unit/data/xml/list_rgw_url.xml). */
static void build_list_body(struct s3dlio_buf *b)
{
    s3dlio_buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult "
                       "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><EncodingType>url"
                       "</EncodingType><Name>bench</Name><Prefix>train/</Prefix><MaxKeys>1000"
                       "</MaxKeys><IsTruncated>true</IsTruncated>");
    for (unsigned i = 0; i < LIST_KEYS; i++)
        s3dlio_buf_addf(b,
                        "<Contents><Key>train/shard-%06u.bin</Key><LastModified>"
                        "2026-11-26T01:31:%02u.%03uZ</LastModified><ETag>&quot;"
                        "764efa883dda1e11db47671c4a3b%04x&quot;</ETag><Size>%u</Size>"
                        "<StorageClass>STANDARD</StorageClass><Type>Normal</Type></Contents>",
                        i, i % 60, i, i, 2097152 + 4096 * i);
    s3dlio_buf_addf(b,
                    "<NextContinuationToken>train/shard-%06u.bin</NextContinuationToken>"
                    "<KeyCount>%u</KeyCount></ListBucketResult>",
                    LIST_KEYS - 1, LIST_KEYS);
}

static void state_init(struct state *s)
{
    struct s3dlio_gen g = { 42, 1, 1 };
    s->src = s3dlio_xmalloc(BUF_BYTES);
    s->dst = s3dlio_xmalloc(BUF_BYTES);
    /* touch every page first: the first pass would otherwise time page faults */
    s3dlio_gen_fill(&g, "train/shard-000123.bin", 0, s->src, BUF_BYTES);
    memset(s->dst, 1, BUF_BYTES);
    s->list_body = (struct s3dlio_buf)S3DLIO_BUF_INIT(4u << 20);
    build_list_body(&s->list_body);
}

static void state_release(struct state *s)
{
    free(s->src);
    free(s->dst);
    s3dlio_buf_release(&s->list_body);
}

/* ---- timing and output ---------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * Rates of `runs` runs, sorted (the median is rates[runs / 2]): each run repeats the op
 * until at least `seconds` have passed and divides the work done by the time it took.
 */
static void measure(const struct bench *b, struct state *s, int runs, double seconds, double *rates)
{
    double scale = strcmp(b->unit, "GB/s") ? 1.0 : 1e-9;
    clockid_t id = b->cpu_clock ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC;
    b->fn(s); /* warm-up: caches, lazy OpenSSL and libxml2 init */
    for (int r = 0; r < runs; r++) {
        double work = 0, t0 = clock_s(id), t;
        do {
            work += b->fn(s);
            t = clock_s(id) - t0;
        } while (t < seconds);
        rates[r] = work * scale / t;
    }
    qsort(rates, (size_t)runs, sizeof(rates[0]), cmp_double);
}

struct opts {
    bool json;
    int runs;
    double seconds;
    const char *only;
};

static void print_header(const struct opts *o)
{
    double load[3] = { 0 };
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (getloadavg(load, 3) < 0)
        load[0] = load[1] = load[2] = -1;
    if (o->json)
        printf("{\"cpus\": %ld, \"loadavg\": [%.2f, %.2f, %.2f], \"runs\": %d, \"seconds\": %.3f, "
               "\"results\": [",
               cpus, load[0], load[1], load[2], o->runs, o->seconds);
    else
        printf("s3dlio-bench-micro: %ld cpus, load average %.2f %.2f %.2f; median of %d runs "
               "of %.2f s, one core\n\n%-34s %14s %14s %14s\n",
               cpus, load[0], load[1], load[2], o->runs, o->seconds, "benchmark", "median", "min",
               "max");
}

static void print_row(const struct opts *o, const struct bench *b, const double *rates, bool first)
{
    double med = rates[o->runs / 2], lo = rates[0], hi = rates[o->runs - 1];
    if (o->json) {
        printf("%s\n  {\"name\": \"%s\", \"unit\": \"%s\", \"median\": %.6g, \"min\": %.6g, "
               "\"max\": %.6g}",
               first ? "" : ",", b->name, b->unit, med, lo, hi);
        return;
    }
    const char *fmt = strcmp(b->unit, "GB/s") ? "%-34s %14.0f %14.0f %14.0f %s\n"
                                              : "%-34s %14.2f %14.2f %14.2f %s\n";
    printf(fmt, b->name, med, lo, hi, b->unit);
    fflush(stdout);
}

static int parse_args(struct opts *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(a, "--json")) {
            o->json = true;
            continue;
        }
        if (!v || (strcmp(a, "--runs") && strcmp(a, "--seconds") && strcmp(a, "--only"))) {
            fprintf(stderr, "usage: s3dlio-bench-micro [--json] [--runs N] [--seconds S] "
                            "[--only SUBSTRING]\n");
            return 2;
        }
        i++;
        if (!strcmp(a, "--only"))
            o->only = v;
        else if (!strcmp(a, "--runs"))
            o->runs = (int)strtol(v, &end, 10);
        else
            o->seconds = strtod(v, &end);
        if (end && (*end || o->runs < 1 || o->runs > MAX_RUNS || !(o->seconds > 0))) {
            fprintf(stderr, "s3dlio-bench-micro: bad value '%s' for %s\n", v, a);
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = { .runs = 5, .seconds = 0.3 };
    struct state s = { 0 };
    double rates[MAX_RUNS];
    bool first = true;
    int rc = parse_args(&o, argc, argv);
    if (rc)
        return rc;
    state_init(&s);
    print_header(&o);
    for (size_t i = 0; i < NBENCH; i++) {
        if (o.only && !strstr(benches[i].name, o.only))
            continue;
        measure(&benches[i], &s, o.runs, o.seconds, rates);
        print_row(&o, &benches[i], rates, first);
        first = false;
    }
    if (o.json)
        printf("\n]}\n");
    state_release(&s);
    return 0;
}
