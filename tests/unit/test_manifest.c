/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checkpoint manifests (src/xfer/manifest.c): what is written parses back the same; what
 * comes from a bucket is trusted in nothing: paths that could leave the restore directory,
 * part tables that do not add up, other formats and versions are refused, naming the field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "s3dlio/manifest.h"

#define MIB (1024ull * 1024)

static uint32_t crcs[40];

static void sample(struct s3dlio_ckpt_manifest *m, struct s3dlio_ckpt_file files[3])
{
    memset(m, 0, sizeof(*m));
    m->version = 1;
    snprintf(m->name, sizeof(m->name), "step-1000");
    snprintf(m->created, sizeof(m->created), "2026-12-02T03:00:00Z");
    m->world_size = 4;
    for (int i = 0; i < 40; i++)
        crcs[i] = 0x01020304u * (uint32_t)(i + 1);
    files[0] = (struct s3dlio_ckpt_file){"model.h5", "ck/step-1000/model.h5", 300 * MIB, 8 * MIB,
                                         "9b2cf535f27731c974343645a3985328-38", crcs, 38};
    files[1] = (struct s3dlio_ckpt_file){"rank-0001/opt.pt", "ck/step-1000/rank-0001/opt.pt", 1000,
                                         1000, "d41d8cd98f00b204e9800998ecf8427e", crcs + 38, 1};
    files[2] = (struct s3dlio_ckpt_file){"empty", "ck/step-1000/empty", 0, 8 * MIB,
                                         "d41d8cd98f00b204e9800998ecf8427e", NULL, 0};
    m->files = files;
    m->nfiles = 3;
}

static void test_round_trip(void)
{
    struct s3dlio_ckpt_manifest m, back;
    struct s3dlio_ckpt_file files[3];
    struct s3dlio_error err = {0};
    char *text = NULL;
    sample(&m, files);
    CHECK_INT(s3dlio_manifest_nparts(300 * MIB, 8 * MIB), 38, "38 parts of 8 MiB in 300 MiB");
    CHECK_INT(s3dlio_manifest_nparts(0, 8 * MIB), 0, "an empty file has no part");
    CHECK_INT(s3dlio_manifest_write(&m, &text, &err), S3DLIO_OK, "write");
    CHECK(text && strstr(text, "\"format\": \"s3dlio-mpi/checkpoint\""), "format named");
    CHECK_INT(s3dlio_manifest_parse(text, text ? strlen(text) : 0, &back, &err), S3DLIO_OK,
              "parse what was written");
    CHECK(!strcmp(back.name, "step-1000") && back.world_size == 4 && back.nfiles == 3, "top level");
    bool same = back.nfiles == 3;
    for (size_t i = 0; same && i < 3; i++) {
        const struct s3dlio_ckpt_file *a = &files[i], *b = &back.files[i];
        same = !strcmp(a->path, b->path) && !strcmp(a->key, b->key) && a->size == b->size &&
               a->part_size == b->part_size && !strcmp(a->etag, b->etag) && a->nparts == b->nparts &&
               (!a->nparts || !memcmp(a->crc32c, b->crc32c, a->nparts * sizeof(uint32_t)));
    }
    CHECK(same, "every file, part size and checksum back as written");
    s3dlio_manifest_release(&back);
    s3dlio_manifest_release(&back); /* twice is harmless */
    free(text);
}

/* A valid manifest with one spot replaced: {PATH} and {CRC} and {SIZE} stand in the template. */
static const char *const TEMPLATE =
    "{\"format\": \"s3dlio-mpi/checkpoint\", \"version\": 1, \"name\": \"n\", \"created\": \"c\","
    " \"world_size\": 2, \"files\": [{\"path\": \"{PATH}\", \"key\": \"k\", \"size\": {SIZE},"
    " \"part_size\": 5, \"etag\": \"e\", \"crc32c\": [{CRC}]}]}";

static char *fill(const char *path, const char *size, const char *crc)
{
    static char out[4096];
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", TEMPLATE);
    const char *subst[3][2] = {{"{PATH}", path}, {"{SIZE}", size}, {"{CRC}", crc}};
    for (int i = 0; i < 3; i++) {
        char *at = strstr(tmp, subst[i][0]);
        snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - tmp), tmp, subst[i][1],
                 at + strlen(subst[i][0]));
        snprintf(tmp, sizeof(tmp), "%s", out);
    }
    return out;
}

static const struct refusal {
    const char *name, *path, *size, *crc, *msg;
} refusals[] = {
    {"valid", "a/b.h5", "7", "\"00000001\", \"0000000a\"", NULL},
    {"absolute path", "/etc/passwd", "7", "\"00000001\", \"0000000a\"", "could leave"},
    {"dot-dot", "a/../../x", "7", "\"00000001\", \"0000000a\"", "could leave"},
    {"dot component", "./x", "7", "\"00000001\", \"0000000a\"", "could leave"},
    {"empty component", "a//x", "7", "\"00000001\", \"0000000a\"", "could leave"},
    {"trailing slash", "a/", "7", "\"00000001\", \"0000000a\"", "could leave"},
    {"control character", "a\\u001bx", "7", "\"00000001\", \"0000000a\"", "could leave"},
    {"NUL inside", "a\\u0000b", "7", "\"00000001\", \"0000000a\"", "needs the strings"},
    {"too few checksums", "x", "7", "\"00000001\"", "lists 1 part checksums, its size and part size make 2"},
    {"too many checksums", "x", "7", "\"00000001\", \"00000002\", \"00000003\"", "make 2"},
    {"checksum not hex", "x", "7", "\"0000000g\", \"00000001\"", "8-digit hex"},
    {"checksum short", "x", "7", "\"1\", \"00000001\"", "8-digit hex"},
    {"negative size", "x", "-7", "\"00000001\", \"0000000a\"", "integers size and part_size"},
    {"size as a string", "x", "\"7\"", "\"00000001\", \"0000000a\"", "integers size and part_size"},
    {"size past 5 TiB", "x", "6000000000000", "\"00000001\"", "outside S3's limits"},
};

static void test_refusals(void)
{
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        const struct refusal *c = &refusals[i];
        const char *text = fill(c->path, c->size, c->crc);
        struct s3dlio_ckpt_manifest m;
        struct s3dlio_error err = {0};
        enum s3dlio_rc rc = s3dlio_manifest_parse(text, strlen(text), &m, &err);
        CHECK_INT(rc, c->msg ? S3DLIO_E_PARSE : S3DLIO_OK, c->name);
        if (c->msg && !strstr(err.message, c->msg))
            fprintf(stderr, "  %s: got '%s'\n", c->name, err.message);
        CHECK(!c->msg || strstr(err.message, c->msg), c->name);
        CHECK(rc || m.nfiles == 1, c->name);
        CHECK(!rc || (m.nfiles == 0 && !m.files), "a refused manifest is left empty");
        s3dlio_manifest_release(&m);
    }
}

static void test_whole_documents(void)
{
    static const struct {
        const char *name, *text, *msg;
    } docs[] = {
        {"not JSON", "{\"format\": ", "not one JSON object"},
        {"trailing garbage", "{\"format\": \"x\"} {}", "not one JSON object"},
        {"an array", "[]", "not one JSON object"},
        {"another format", "{\"format\": \"x\"}", "not a checkpoint manifest"},
        {"a later version",
         "{\"format\": \"s3dlio-mpi/checkpoint\", \"version\": 2, \"name\": \"n\", \"created\": \"c\","
         " \"world_size\": 1, \"files\": []}", "version 2 is not one this build reads"},
        {"a name with a slash",
         "{\"format\": \"s3dlio-mpi/checkpoint\", \"version\": 1, \"name\": \"a/b\", \"created\": "
         "\"c\", \"world_size\": 1, \"files\": []}", "not a checkpoint name"},
        {"no ranks",
         "{\"format\": \"s3dlio-mpi/checkpoint\", \"version\": 1, \"name\": \"n\", \"created\": \"c\","
         " \"world_size\": 0, \"files\": []}", "world size must be at least 1"},
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        struct s3dlio_ckpt_manifest m;
        struct s3dlio_error err = {0};
        CHECK_INT(s3dlio_manifest_parse(docs[i].text, strlen(docs[i].text), &m, &err), S3DLIO_E_PARSE,
                  docs[i].name);
        CHECK(strstr(err.message, docs[i].msg) != NULL, docs[i].name);
        if (!strstr(err.message, docs[i].msg))
            fprintf(stderr, "  %s: got '%s'\n", docs[i].name, err.message);
    }
    /* duplicates and a file that is another's directory: refused when written, too */
    struct s3dlio_ckpt_manifest m;
    struct s3dlio_ckpt_file files[3];
    struct s3dlio_error err = {0};
    char *text = NULL;
    sample(&m, files);
    files[2].path = "model.h5";
    CHECK_INT(s3dlio_manifest_write(&m, &text, &err), S3DLIO_E_PARSE, "a path twice");
    CHECK(strstr(err.message, "appears twice") != NULL, "... named");
    files[2].path = "model.h5/inner";
    CHECK_INT(s3dlio_manifest_write(&m, &text, &err), S3DLIO_E_PARSE, "a file as a directory");
    CHECK(strstr(err.message, "both a file and the directory") != NULL, "... named");
    CHECK(text == NULL, "nothing written");
}

int main(void)
{
    test_round_trip();
    test_refusals();
    test_whole_documents();
    TEST_DONE();
}
