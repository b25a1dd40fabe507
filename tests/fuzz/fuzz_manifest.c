/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for checkpoint manifests (src/xfer/manifest.c): a manifest comes from a
 * bucket anyone with write access may have changed. Invariants: no crash, leak or UB (the
 * sanitizers); rc is OK or S3DLIO_E_PARSE; a refused manifest is left empty; an accepted one
 * has only safe paths, and writes back to text that parses to the same manifest.
 */
#include "s3dlio/manifest.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct s3dlio_ckpt_manifest *a, const struct s3dlio_ckpt_manifest *b)
{
    REQUIRE(a->version == b->version && a->world_size == b->world_size && a->nfiles == b->nfiles);
    REQUIRE(!strcmp(a->name, b->name) && !strcmp(a->created, b->created));
    for (size_t i = 0; i < a->nfiles; i++) {
        const struct s3dlio_ckpt_file *x = &a->files[i], *y = &b->files[i];
        REQUIRE(!strcmp(x->path, y->path) && !strcmp(x->key, y->key) && !strcmp(x->etag, y->etag));
        REQUIRE(x->size == y->size && x->part_size == y->part_size && x->nparts == y->nparts);
        REQUIRE(!x->nparts || !memcmp(x->crc32c, y->crc32c, x->nparts * sizeof(uint32_t)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct s3dlio_ckpt_manifest m, back;
    struct s3dlio_error err = {0};
    enum s3dlio_rc rc = s3dlio_manifest_parse((const char *)data, size, &m, &err);
    REQUIRE(rc == S3DLIO_OK || rc == S3DLIO_E_PARSE);
    if (rc) {
        REQUIRE(m.nfiles == 0 && m.files == NULL && err.message[0]);
        return 0;
    }
    for (size_t i = 0; i < m.nfiles; i++)
        REQUIRE(m.files[i].path[0] != '/' && !strstr(m.files[i].path, ".."));
    char *text = NULL;
    REQUIRE(s3dlio_manifest_write(&m, &text, &err) == S3DLIO_OK && text);
    REQUIRE(s3dlio_manifest_parse(text, strlen(text), &back, &err) == S3DLIO_OK);
    same(&m, &back);
    s3dlio_manifest_release(&back);
    s3dlio_manifest_release(&m);
    free(text);
    return 0;
}
