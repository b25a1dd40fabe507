/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for src/s3/xml.c. Every parser gets the input and its result is checked
 * against the contract in xml.h, then freed (leaks are found by LeakSanitizer). The input is
 * also split at NUL bytes into keys and ETags for the builders, whose output must parse back,
 * with libxml2, to exactly those strings.
 * Build: clang -fsanitize=fuzzer,address,undefined; with gcc, link tests/fuzz/replay.c.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "s3/xml.h"
#include "require.h"

#define MAX_KEYS 8


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool terminated(const char *s, size_t n)
{
    return memchr(s, '\0', n) != NULL;
}

/* What every parser promises about rc and err, whatever the body. */
static void check_err(enum s3dlio_rc rc, const struct s3dlio_error *err)
{
    REQUIRE(rc == S3DLIO_OK || rc == S3DLIO_E_PARSE || rc == S3DLIO_E_S3);
    REQUIRE(!strcmp(err->op, "fuzz")); /* op belongs to the caller */
    REQUIRE(terminated(err->message, sizeof(err->message)));
    REQUIRE(terminated(err->s3_code, sizeof(err->s3_code)));
    REQUIRE(terminated(err->request_id, sizeof(err->request_id)));
    if (rc == S3DLIO_E_PARSE)
        REQUIRE(err->rc == S3DLIO_E_PARSE && err->message[0]);
    if (rc == S3DLIO_E_S3)
        REQUIRE(err->rc == S3DLIO_E_S3 && err->s3_code[0]);
}

static void fresh_err(struct s3dlio_error *err)
{
    memset(err, 0, sizeof(*err));
    snprintf(err->op, sizeof(err->op), "fuzz");
}

static void fuzz_list(const char *body, size_t len)
{
    struct s3dlio_list_page pg = { 0 };
    struct s3dlio_error err;
    fresh_err(&err);
    enum s3dlio_rc rc = s3dlio_xml_parse_list_v2(body, len, &pg, &err);
    check_err(rc, &err);
    const struct s3dlio_objlist *l = &pg.list;
    REQUIRE(l->n <= l->alloc && l->nprefixes <= l->prefixes_alloc);
    if (rc) /* a failed page adds nothing */
        REQUIRE(!l->n && !l->nprefixes && !pg.next_token && !pg.truncated);
    for (size_t i = 0; i < l->n; i++) {
        REQUIRE(l->items[i].key && l->items[i].key[0]);
        REQUIRE(strlen(s3dlio_object_etag(&l->items[i])) <= S3DLIO_ETAG_MAX);
    }
    for (size_t i = 0; i < l->nprefixes; i++)
        REQUIRE(l->prefixes[i]);
    /* truncated exactly when there is a token to continue with */
    REQUIRE(pg.truncated == (pg.next_token != NULL));
    REQUIRE(!pg.next_token || pg.next_token[0]);
    s3dlio_list_page_release(&pg);
}

static void fuzz_error(const char *body, size_t len)
{
    struct s3dlio_error err;
    fresh_err(&err);
    snprintf(err.request_id, sizeof(err.request_id), "hdr");
    enum s3dlio_rc rc = s3dlio_xml_parse_error(body, len, &err);
    REQUIRE(rc == S3DLIO_OK || rc == S3DLIO_E_PARSE);
    check_err(rc, &err);
    if (!rc)
        REQUIRE(err.rc == S3DLIO_E_S3 && err.s3_code[0] && err.request_id[0]);
    else
        REQUIRE(!strcmp(err.request_id, "hdr"));
}

static void fuzz_delete(const char *body, size_t len)
{
    struct s3dlio_delete_failure *f = NULL;
    size_t nf = 1, nd = 1;
    struct s3dlio_error err;
    fresh_err(&err);
    enum s3dlio_rc rc = s3dlio_xml_parse_delete_result(body, len, &f, &nf, &nd, &err);
    check_err(rc, &err);
    REQUIRE((f == NULL) == (nf == 0));
    if (rc)
        REQUIRE(!f && !nf && !nd);
    for (size_t i = 0; i < nf; i++) {
        REQUIRE(f[i].key && f[i].code[0]);
        REQUIRE(terminated(f[i].code, sizeof(f[i].code)));
        REQUIRE(terminated(f[i].message, sizeof(f[i].message)));
    }
    s3dlio_delete_failures_free(f, nf);
}

static void fuzz_mpu(const char *body, size_t len)
{
    struct s3dlio_error err;
    char *id = (char *)"stale", etag[80];
    fresh_err(&err);
    enum s3dlio_rc rc = s3dlio_xml_parse_initiate_mpu(body, len, &id, &err);
    check_err(rc, &err);
    REQUIRE(rc ? id == NULL : id && id[0]);
    free(id);
    fresh_err(&err);
    memset(etag, 'x', sizeof(etag));
    rc = s3dlio_xml_parse_complete_mpu(body, len, etag, &err);
    check_err(rc, &err);
    REQUIRE(terminated(etag, sizeof(etag)));
    REQUIRE(!rc || !etag[0]);
}

/* Split data at NULs into at most MAX_KEYS strings pointing into copy (size + 1 bytes). */
static size_t split(const uint8_t *data, size_t size, char *copy, const char **keys)
{
    size_t n = 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    for (char *p = copy; n < MAX_KEYS && p <= copy + size; p += strlen(p) + 1)
        keys[n++] = p;
    return size ? n : 0;
}

/* Texts of every <outer><inner> in doc, in order, must be want[0..n). */
static void check_round_trip(const struct s3dlio_buf *out, const char *outer, const char *inner,
                             const char *const *want, size_t n, bool quoted)
{
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    xmlDoc *doc = xmlReadMemory(out->data, (int)out->len, NULL, NULL, opts);
    REQUIRE(doc); /* a built body is always well-formed XML */
    size_t i = 0;
    for (xmlNode *o = xmlDocGetRootElement(doc)->children; o; o = o->next) {
        if (o->type != XML_ELEMENT_NODE || strcmp((const char *)o->name, outer))
            continue;
        for (xmlNode *c = o->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, inner))
                continue;
            xmlChar *text = xmlNodeGetContent(c);
            REQUIRE(text && i < n);
            size_t tl = strlen((const char *)text), q = quoted;
            REQUIRE(tl == strlen(want[i]) + 2 * q);
            REQUIRE(!memcmp((const char *)text + q, want[i], tl - 2 * q));
            xmlFree(text);
            i++;
        }
    }
    REQUIRE(i == n);
    xmlFreeDoc(doc);
}

/* Keys made only of printable ASCII are always accepted. */
static bool plain(const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!keys[i][0])
            return false;
        for (const char *p = keys[i]; *p; p++)
            if (*p < 0x20 || *p > 0x7e)
                return false;
    }
    return n > 0;
}

static void fuzz_builders(const uint8_t *data, size_t size)
{
    const char *keys[MAX_KEYS];
    char *copy = malloc(size + 1);
    size_t n = split(data, size, copy, keys);
    struct s3dlio_buf out = S3DLIO_BUF_INIT(16 << 20);
    enum s3dlio_rc rc = s3dlio_xml_build_delete(&out, keys, n, n % 2);
    REQUIRE(rc == S3DLIO_OK || rc == S3DLIO_E_USAGE);
    REQUIRE(rc || out.len);
    REQUIRE(!rc || !plain(keys, n));
    if (!rc)
        check_round_trip(&out, "Object", "Key", keys, n, false);
    s3dlio_buf_release(&out);

    struct s3dlio_part parts[MAX_KEYS];
    const char *etags[MAX_KEYS];
    for (size_t i = 0; i < n; i++) {
        parts[i].number = (int)(i * 1000 + 1);
        snprintf(parts[i].etag, sizeof(parts[i].etag), "%s", keys[i]);
        etags[i] = parts[i].etag;
    }
    rc = s3dlio_xml_build_complete_mpu(&out, parts, n);
    REQUIRE(rc == S3DLIO_OK || rc == S3DLIO_E_USAGE);
    if (!rc)
        check_round_trip(&out, "Part", "ETag", etags, n, true);
    s3dlio_buf_release(&out);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    fuzz_list(body, size);
    fuzz_error(body, size);
    fuzz_delete(body, size);
    fuzz_mpu(body, size);
    fuzz_builders(data, size);
    return 0;
}
