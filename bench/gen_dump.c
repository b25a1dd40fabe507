/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen_dump: write synthetic objects of src/xfer/datagen.c to stdout, for tests and
 * benchmarks that look at the bytes with ordinary tools (sha1sum, gzip, zstd, cmp).
 *
 *   gen_dump --seed S --key K --size N [--key K2 ...] [--dedup D] [--compress C]
 *   gen_dump --seed S --count N [--prefix P] --min A --max B [--dedup D] [--compress C]
 *   add --list to print "key size" lines instead of the data
 *
 * Objects are written back to back, in argument order; with --count, object i is
 * "<prefix><i, 6 digits>" of s3dlio_gen_object_size(seed, i, min, max) bytes.
 * Exit codes: 0 ok, 1 write error, 2 usage.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"
#include "util/units.h"
#include "xfer/datagen.h"

#define CHUNK   (1u << 20)
#define MAXKEYS 256

struct opts {
    struct s3dlio_gen gen;
    const char *keys[MAXKEYS];
    size_t nkeys;
    uint64_t size, count, min, max;
    const char *prefix;
    bool list;
};

static const char usage[] =
    "usage: gen_dump --seed S (--key K ... --size N | --count N [--prefix P] --min A --max B)\n"
    "                [--dedup D] [--compress C] [--list]\n";

/* arg NULL: the message names no argument */
static int bad_usage(const char *what, const char *arg)
{
    if (arg)
        fprintf(stderr, "gen_dump: %s '%s'\n%s", what, arg, usage);
    else
        fprintf(stderr, "gen_dump: %s\n%s", what, usage);
    return 2;
}

/* The factor options: 1..65536 (0 would mean 1; refuse it to catch typos). */
static bool parse_factor(const char *s, unsigned *out)
{
    uint64_t v;
    if (s3dlio_parse_u64(s, &v) || v < 1 || v > 65536)
        return false;
    *out = (unsigned)v;
    return true;
}

/* One "--name value" pair into o; returns 0 or the usage exit code. */
static int parse_pair(struct opts *o, const char *name, const char *v)
{
    bool ok = true;
    if (!strcmp(name, "--seed"))
        ok = !s3dlio_parse_u64(v, &o->gen.seed);
    else if (!strcmp(name, "--key") && o->nkeys < MAXKEYS)
        o->keys[o->nkeys++] = v;
    else if (!strcmp(name, "--size"))
        ok = !s3dlio_parse_size(v, &o->size);
    else if (!strcmp(name, "--count"))
        ok = !s3dlio_parse_u64(v, &o->count);
    else if (!strcmp(name, "--prefix"))
        o->prefix = v;
    else if (!strcmp(name, "--min"))
        ok = !s3dlio_parse_size(v, &o->min);
    else if (!strcmp(name, "--max"))
        ok = !s3dlio_parse_size(v, &o->max);
    else if (!strcmp(name, "--dedup"))
        ok = parse_factor(v, &o->gen.dedup_factor);
    else if (!strcmp(name, "--compress"))
        ok = parse_factor(v, &o->gen.compress_factor);
    else
        return bad_usage("unknown option or too many keys", name);
    return ok ? 0 : bad_usage("bad value", v);
}

static int parse_args(struct opts *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--list")) {
            o->list = true;
            continue;
        }
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage, stdout);
            exit(0);
        }
        if (i + 1 >= argc)
            return bad_usage("missing value after", argv[i]);
        int rc = parse_pair(o, argv[i], argv[i + 1]);
        if (rc)
            return rc;
        i++;
    }
    if (!o->nkeys == !o->count)
        return bad_usage("give either --key or --count", NULL);
    if (o->count && o->max < o->min)
        return bad_usage("--max below --min", NULL);
    return 0;
}

/* Object `key` of `size` bytes to stdout, CHUNK at a time through buf. */
static int dump(const struct opts *o, const char *key, uint64_t size, unsigned char *buf)
{
    if (o->list)
        return printf("%s %" PRIu64 "\n", key, size) < 0;
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
        s3dlio_gen_fill(&o->gen, key, off, buf, n);
        if (fwrite(buf, 1, n, stdout) != n)
            return 1;
        off += n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = { .gen = { .seed = 1 }, .prefix = "obj-" };
    int rc = parse_args(&o, argc, argv);
    if (rc)
        return rc;
    unsigned char *buf = s3dlio_xmalloc(CHUNK);
    for (size_t i = 0; !rc && i < o.nkeys; i++)
        rc = dump(&o, o.keys[i], o.size, buf);
    for (uint64_t i = 0; !rc && i < o.count; i++) {
        char key[1024];
        snprintf(key, sizeof(key), "%s%06" PRIu64, o.prefix, i);
        rc = dump(&o, key, s3dlio_gen_object_size(o.gen.seed, i, o.min, o.max), buf);
    }
    free(buf);
    if (!rc && fflush(stdout))
        rc = 1;
    if (rc)
        fprintf(stderr, "gen_dump: write to stdout failed\n");
    return rc;
}
