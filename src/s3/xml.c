/* SPDX-License-Identifier: Apache-2.0 */
/*
 * S3 XML bodies (see xml.h). A body is parsed by libxml2 into a tree and read by element
 * local name: AWS puts everything in its 2006-03-01 namespace, compatible servers sometimes
 * in none, and both must work.
 *
 * Bodies come from the network, so: a size cap before parsing, no network access, no DTD
 * loading, no entity substitution, and any DOCTYPE stops the parse at once (S3 never sends
 * one, and it is the only way to declare an entity, so billion-laughs documents die there).
 * Every text value is copied through a capped s3dlio_buf.
 */
#include "s3/xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"
#include "util/digest.h"

#define XML_MAX_BODY    (64u * 1024 * 1024)
#define XML_MAX_TEXT    (64 * 1024) /* one element's text; S3 keys are at most 1 KiB */
#define XML_DECL        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
#define S3_XMLNS        "http://s3.amazonaws.com/doc/2006-03-01/"
#define DELETE_MAX_KEYS 1000
#define PART_NUMBER_MAX 10000

/* The document being read, named in messages, and where failures are recorded. */
struct px {
    const char *what; /* "ListObjectsV2 response" */
    struct s3dlio_error *err;
};

static enum s3dlio_rc fail(const struct px *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum s3dlio_rc fail(const struct px *p, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* op and target are the caller's to set: NULL leaves them as they are */
    return s3dlio_error_set(p->err, S3DLIO_E_PARSE, NULL, NULL, "%s: %s", p->what, msg);
}

/* SAX hook for <!DOCTYPE: halt before any entity can be declared. */
static void refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid)
{
    xmlParserCtxt *ctxt = ctx;
    (void)name;
    (void)eid;
    (void)sid;
    *(bool *)ctxt->_private = true;
    xmlStopParser(ctxt);
}

/* Why libxml2 gave up, for the message: its own text, which ends in a newline. */
static enum s3dlio_rc syntax_error(const struct px *p, xmlParserCtxt *ctxt)
{
    const xmlError *e = xmlCtxtGetLastError(ctxt);
    char why[160] = "";
    if (e && e->message) {
        snprintf(why, sizeof(why), "%s", e->message);
        why[strcspn(why, "\r\n")] = '\0';
    }
    return fail(p, "truncated or malformed XML at line %d%s%s", e ? e->line : 0, why[0] ? ": " : "",
                why);
}

static enum s3dlio_rc read_doc(const struct px *p, const char *body, size_t len, xmlDoc **out)
{
    if (len > XML_MAX_BODY)
        return fail(p, "body of %zu bytes exceeds the %u MiB limit", len, XML_MAX_BODY >> 20);
    /*
     * CompleteMultipartUpload may send whitespace to keep the connection alive before the
     * document, and an XML declaration is only legal at the very start.
     */
    while (len && (*body == ' ' || *body == '\t' || *body == '\r' || *body == '\n')) {
        body++;
        len--;
    }
    if (!len)
        return fail(p, "empty body");
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return s3dlio_error_set(p->err, S3DLIO_E_INTERNAL, NULL, NULL,
                                "%s: cannot create a libxml2 parser", p->what);
    bool doctype = false;
    ctxt->_private = &doctype;
    ctxt->sax->internalSubset = refuse_doctype;
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, body, (int)len, NULL, NULL, opts);
    enum s3dlio_rc rc = S3DLIO_OK;
    if (doctype) /* a stopped parse may still hand back a partial tree */
        rc = fail(p, "DOCTYPE declarations are not accepted");
    else if (!doc)
        rc = syntax_error(p, ctxt);
    xmlFreeParserCtxt(ctxt);
    if (rc)
        xmlFreeDoc(doc);
    else
        *out = doc;
    return rc;
}

static bool is_named(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static const xmlNode *first_child(const xmlNode *parent, const char *name)
{
    for (const xmlNode *c = parent->children; c; c = c->next)
        if (is_named(c, name))
            return c;
    return NULL;
}

/* The text of a leaf element (heap). Markup other than comments inside it is an error. */
static enum s3dlio_rc node_text(const struct px *p, const xmlNode *n, char **out)
{
    struct s3dlio_buf b = S3DLIO_BUF_INIT(XML_MAX_TEXT);
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
            continue;
        if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) {
            s3dlio_buf_release(&b);
            return fail(p, "unexpected markup inside <%s>", (const char *)n->name);
        }
        /* past its cap the buffer has already freed itself */
        if (c->content && s3dlio_buf_adds(&b, (const char *)c->content))
            return fail(p, "<%s> is longer than %d bytes", (const char *)n->name, XML_MAX_TEXT);
    }
    *out = s3dlio_buf_detach(&b);
    return S3DLIO_OK;
}

/* Text of parent's first <name> child into *out (heap), or NULL when there is none. */
static enum s3dlio_rc child_text(const struct px *p, const xmlNode *parent, const char *name,
                                 char **out)
{
    const xmlNode *c = first_child(parent, name);
    *out = NULL;
    return c ? node_text(p, c, out) : S3DLIO_OK;
}

static void copy_field(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* Leading and trailing XML whitespace off a scalar value (not keys: there it is data). */
static void trim(char *s)
{
    size_t b = strspn(s, " \t\r\n"), e = strlen(s);
    while (e > b && strchr(" \t\r\n", s[e - 1]))
        e--;
    memmove(s, s + b, e - b);
    s[e - b] = '\0';
}

/* An <Error> element into err; S3DLIO_E_S3 when it is a usable one. */
static enum s3dlio_rc error_fields(const struct px *p, const xmlNode *root)
{
    char *code = NULL, *msg = NULL, *rid = NULL, *hid = NULL;
    enum s3dlio_rc rc = child_text(p, root, "Code", &code);
    if (!rc)
        rc = child_text(p, root, "Message", &msg);
    if (!rc)
        rc = child_text(p, root, "RequestId", &rid);
    if (!rc)
        rc = child_text(p, root, "HostId", &hid);
    if (!rc && code)
        trim(code);
    if (!rc && (!code || !code[0]))
        rc = fail(p, "<Error> without a Code");
    if (!rc && p->err) {
        struct s3dlio_error *e = p->err;
        copy_field(e->s3_code, sizeof(e->s3_code), code);
        copy_field(e->message, sizeof(e->message), msg); /* RGW sends an empty Message */
        /* the body's RequestId, else the x-amz-request-id header's, else HostId */
        if (rid && rid[0])
            copy_field(e->request_id, sizeof(e->request_id), rid);
        else if (!e->request_id[0] && hid)
            copy_field(e->request_id, sizeof(e->request_id), hid);
        e->rc = S3DLIO_E_S3;
    }
    free(code);
    free(msg);
    free(rid);
    free(hid);
    return rc ? rc : S3DLIO_E_S3;
}

/*
 * Parse body and find its root, which must be <want>. An <Error> root (S3 may send one
 * with a 200) fills err and gives S3DLIO_E_S3. *doc is the caller's to free in every case.
 */
static enum s3dlio_rc open_root(const struct px *p, const char *body, size_t len, const char *want,
                                xmlDoc **doc, const xmlNode **root)
{
    *doc = NULL;
    enum s3dlio_rc rc = read_doc(p, body, len, doc);
    if (rc)
        return rc;
    const xmlNode *r = xmlDocGetRootElement(*doc);
    if (!r)
        return fail(p, "no root element");
    if (is_named(r, want)) {
        *root = r;
        return S3DLIO_OK;
    }
    if (is_named(r, "Error"))
        return error_fields(p, r);
    return fail(p, "unexpected root element <%.64s>, want <%s>", (const char *)r->name, want);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    if (!strcmp(s, "true") || !strcmp(s, "1"))
        *out = true;
    else if (!strcmp(s, "false") || !strcmp(s, "0"))
        *out = false;
    else
        return false;
    return true;
}

/* n decimal digits at s; stops at the first non-digit, so it never reads past a NUL. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return mdays[m - 1] + (m == 2 && leap);
}

/* "+hh:mm", "-hh:mm", "Z" or nothing (taken as UTC) at s, the end of the string. */
static bool parse_zone(const char *s, int64_t *offset_s)
{
    int oh, om;
    *offset_s = 0;
    if (*s == 'Z' || *s == 'z')
        return s[1] == '\0';
    if (*s == '\0')
        return true;
    if ((*s != '+' && *s != '-') || !digits(s + 1, 2, &oh) || s[3] != ':' ||
        !digits(s + 4, 2, &om) || s[6] != '\0' || oh > 23 || om > 59)
        return false;
    *offset_s = (*s == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
    return true;
}

/*
 * ISO 8601 "2009-10-12T17:50:30.000Z" to seconds since the epoch. The arithmetic is done
 * here rather than by timegm/mktime so that neither TZ nor the C library matters.
 */
static bool parse_time(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec;
    int64_t off;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return false;
    s += 19;
    if (*s == '.') {
        if (s[1] < '0' || s[1] > '9')
            return false;
        for (s++; *s >= '0' && *s <= '9'; s++)
            ;
    }
    if (!parse_zone(s, &off))
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    return true;
}

/*
 * EncodingType=url value to bytes (heap), NULL if malformed or if it would hold a NUL.
 * '+' is a space: AWS and RGW send %20 and %2B and never a bare '+', MinIO sends '+' for
 * a space (Go's QueryEscape), and botocore decodes with unquote_plus for the same reason.
 */
static char *url_decode(const char *s)
{
    char *out = s3dlio_xmalloc(strlen(s) + 1), *w = out;
    for (; *s; s++) {
        if (*s == '%') {
            unsigned char byte = 0;
            if (!s3dlio_hex_decode(s + 1, &byte, 1) || !byte) {
                free(out);
                return NULL;
            }
            *w++ = (char)byte;
            s += 2;
        } else {
            *w++ = *s == '+' ? ' ' : *s;
        }
    }
    *w = '\0';
    return out;
}

/* Replace *s by its url-decoded form when url is set. */
static enum s3dlio_rc maybe_decode(const struct px *p, bool url, const char *field, char **s)
{
    if (!url)
        return S3DLIO_OK;
    char *dec = url_decode(*s);
    if (!dec)
        return fail(p, "%s '%.200s' is not valid percent-encoding", field, *s);
    free(*s);
    *s = dec;
    return S3DLIO_OK;
}

/* Size and LastModified of one Contents entry; key is already decoded, for messages. */
static enum s3dlio_rc entry_numbers(const struct px *p, const char *key, char *size, char *mtime,
                                    uint64_t *sz, int64_t *t)
{
    if (!size)
        return fail(p, "key '%.200s' has no Size", key);
    trim(size);
    if (!parse_u64(size, sz))
        return fail(p, "Size '%.40s' of key '%.200s' is not an unsigned integer", size, key);
    *t = -1;
    if (!mtime)
        return S3DLIO_OK;
    trim(mtime);
    if (!parse_time(mtime, t))
        return fail(p, "LastModified '%.40s' of key '%.200s' is not an ISO 8601 time", mtime, key);
    return S3DLIO_OK;
}

/* One <Contents> into l. */
static enum s3dlio_rc list_entry(const struct px *p, const xmlNode *c, bool url,
                                 struct s3dlio_objlist *l)
{
    char *key = NULL, *size = NULL, *mtime = NULL, *etag = NULL;
    uint64_t sz = 0;
    int64_t t = -1;
    enum s3dlio_rc rc = child_text(p, c, "Key", &key);
    if (!rc)
        rc = child_text(p, c, "Size", &size);
    if (!rc)
        rc = child_text(p, c, "LastModified", &mtime);
    if (!rc)
        rc = child_text(p, c, "ETag", &etag);
    if (!rc && !key)
        rc = fail(p, "<Contents> without a Key");
    if (!rc)
        rc = maybe_decode(p, url, "Key", &key);
    if (!rc && !key[0])
        rc = fail(p, "<Contents> with an empty Key");
    if (!rc)
        rc = entry_numbers(p, key, size, mtime, &sz, &t);
    if (!rc)
        s3dlio_objlist_add(l, key, sz, t, etag); /* strips the ETag's quotes */
    free(key);
    free(size);
    free(mtime);
    free(etag);
    return rc;
}

/* One <CommonPrefixes> (AWS puts one <Prefix> in each; take them all) into l. */
static enum s3dlio_rc list_prefixes(const struct px *p, const xmlNode *c, bool url,
                                    struct s3dlio_objlist *l)
{
    size_t before = l->nprefixes;
    for (const xmlNode *n = c->children; n; n = n->next) {
        if (!is_named(n, "Prefix"))
            continue;
        char *s = NULL;
        enum s3dlio_rc rc = node_text(p, n, &s);
        if (!rc)
            rc = maybe_decode(p, url, "Prefix", &s);
        if (!rc)
            s3dlio_objlist_add_prefix(l, s);
        free(s);
        if (rc)
            return rc;
    }
    return l->nprefixes > before ? S3DLIO_OK : fail(p, "<CommonPrefixes> without a Prefix");
}

/* <EncodingType>: only "url" changes anything, an unknown one would garble every key. */
static enum s3dlio_rc list_encoding(const struct px *p, const xmlNode *root, bool *url)
{
    char *enc = NULL;
    enum s3dlio_rc rc = child_text(p, root, "EncodingType", &enc);
    *url = false;
    if (!rc && enc) {
        trim(enc);
        if (!strcmp(enc, "url"))
            *url = true;
        else
            rc = fail(p, "unsupported EncodingType '%.40s'", enc);
    }
    free(enc);
    return rc;
}

static enum s3dlio_rc list_entries(const struct px *p, const xmlNode *root,
                                   struct s3dlio_objlist *l)
{
    bool url;
    enum s3dlio_rc rc = list_encoding(p, root, &url);
    for (const xmlNode *c = root->children; !rc && c; c = c->next) {
        if (is_named(c, "Contents"))
            rc = list_entry(p, c, url, l);
        else if (is_named(c, "CommonPrefixes"))
            rc = list_prefixes(p, c, url, l);
    }
    return rc;
}

/*
 * IsTruncated and NextContinuationToken. A truncated page without a token would make the
 * caller either loop on the first page or stop early without noticing: refuse it.
 * The token is opaque and never url-encoded, so it is passed on byte for byte.
 */
static enum s3dlio_rc list_more(const struct px *p, const xmlNode *root, bool *truncated,
                                char **token)
{
    char *flag = NULL, *tok = NULL;
    enum s3dlio_rc rc = child_text(p, root, "IsTruncated", &flag);
    if (!rc)
        rc = child_text(p, root, "NextContinuationToken", &tok);
    if (!rc && !flag)
        rc = fail(p, "missing IsTruncated");
    if (!rc) {
        trim(flag);
        if (!parse_bool(flag, truncated))
            rc = fail(p, "IsTruncated '%.40s' is neither true nor false", flag);
    }
    if (!rc && *truncated && (!tok || !tok[0]))
        rc = fail(p, "IsTruncated is true but NextContinuationToken is missing");
    if (!rc && *truncated) {
        *token = tok;
        tok = NULL;
    }
    free(flag);
    free(tok);
    return rc;
}

enum s3dlio_rc s3dlio_xml_parse_list_v2(const char *body, size_t len, struct s3dlio_list_page *page,
                                        struct s3dlio_error *err)
{
    const struct px p = { "ListObjectsV2 response", err };
    struct s3dlio_objlist got = { 0 };
    xmlDoc *doc = NULL;
    const xmlNode *root = NULL;
    char *token = NULL;
    bool truncated = false;
    enum s3dlio_rc rc = open_root(&p, body, len, "ListBucketResult", &doc, &root);
    if (!rc)
        rc = list_more(&p, root, &truncated, &token);
    if (!rc)
        rc = list_entries(&p, root, &got);
    if (!rc) {
        /* only a fully parsed page reaches the caller's list */
        s3dlio_objlist_splice(&page->list, &got);
        free(page->next_token);
        page->next_token = token;
        page->truncated = truncated;
        token = NULL;
    }
    s3dlio_objlist_release(&got);
    free(token);
    xmlFreeDoc(doc);
    return rc;
}

enum s3dlio_rc s3dlio_xml_parse_error(const char *body, size_t len, struct s3dlio_error *err)
{
    const struct px p = { "error response", err };
    xmlDoc *doc = NULL;
    enum s3dlio_rc rc = read_doc(&p, body, len, &doc);
    const xmlNode *root = rc ? NULL : xmlDocGetRootElement(doc);
    if (!rc && !root)
        rc = fail(&p, "no root element");
    else if (!rc && !is_named(root, "Error"))
        rc = fail(&p, "unexpected root element <%.64s>, want <Error>", (const char *)root->name);
    else if (!rc)
        rc = error_fields(&p, root);
    xmlFreeDoc(doc);
    /* error_fields reports a usable body as S3DLIO_E_S3 (in err->rc); here that is success */
    return rc == S3DLIO_E_S3 ? S3DLIO_OK : rc;
}

/* One <Error> of a DeleteResult into f (zeroed by the caller). */
static enum s3dlio_rc delete_failure(const struct px *p, const xmlNode *c,
                                     struct s3dlio_delete_failure *f)
{
    char *key = NULL, *code = NULL, *msg = NULL;
    enum s3dlio_rc rc = child_text(p, c, "Key", &key);
    if (!rc)
        rc = child_text(p, c, "Code", &code);
    if (!rc)
        rc = child_text(p, c, "Message", &msg);
    if (!rc && !key)
        rc = fail(p, "<Error> entry without a Key");
    if (!rc && (!code || !code[0]))
        rc = fail(p, "<Error> entry for key '%.200s' without a Code", key);
    if (!rc) {
        f->key = key;
        key = NULL;
        copy_field(f->code, sizeof(f->code), code);
        copy_field(f->message, sizeof(f->message), msg);
    }
    free(key);
    free(code);
    free(msg);
    return rc;
}

enum s3dlio_rc s3dlio_xml_parse_delete_result(const char *body, size_t len,
                                              struct s3dlio_delete_failure **failures,
                                              size_t *nfailures, size_t *ndeleted,
                                              struct s3dlio_error *err)
{
    const struct px p = { "DeleteObjects response", err };
    struct s3dlio_delete_failure *v = NULL;
    size_t n = 0, alloc = 0, deleted = 0;
    xmlDoc *doc = NULL;
    const xmlNode *root = NULL;
    enum s3dlio_rc rc = open_root(&p, body, len, "DeleteResult", &doc, &root);
    for (const xmlNode *c = rc ? NULL : root->children; !rc && c; c = c->next) {
        if (is_named(c, "Deleted")) {
            deleted++;
        } else if (is_named(c, "Error")) {
            s3dlio_xgrow((void **)&v, sizeof(*v), n + 1, &alloc);
            memset(&v[n], 0, sizeof(v[n]));
            rc = delete_failure(&p, c, &v[n]);
            n += !rc;
        }
    }
    xmlFreeDoc(doc);
    if (rc || !n) {
        s3dlio_delete_failures_free(v, n);
        v = NULL;
        n = 0;
    }
    *failures = v;
    *nfailures = n;
    *ndeleted = rc ? 0 : deleted;
    return rc;
}

void s3dlio_delete_failures_free(struct s3dlio_delete_failure *f, size_t n)
{
    if (!f)
        return;
    for (size_t i = 0; i < n; i++)
        free(f[i].key);
    free(f);
}

enum s3dlio_rc s3dlio_xml_parse_initiate_mpu(const char *body, size_t len, char **upload_id,
                                             struct s3dlio_error *err)
{
    const struct px p = { "CreateMultipartUpload response", err };
    xmlDoc *doc = NULL;
    const xmlNode *root = NULL;
    char *id = NULL;
    *upload_id = NULL;
    enum s3dlio_rc rc = open_root(&p, body, len, "InitiateMultipartUploadResult", &doc, &root);
    if (!rc)
        rc = child_text(&p, root, "UploadId", &id);
    if (!rc && (!id || !id[0]))
        rc = fail(&p, "missing UploadId");
    if (!rc) {
        *upload_id = id;
        id = NULL;
    }
    free(id);
    xmlFreeDoc(doc);
    return rc;
}

/* etag without its surrounding quotes, truncated to fit dst[80] as objlist does. */
static void copy_etag(char dst[80], const char *src)
{
    size_t n = strlen(src);
    if (n >= 2 && src[0] == '"' && src[n - 1] == '"') {
        src++;
        n -= 2;
    }
    if (n > 79)
        n = 79;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

enum s3dlio_rc s3dlio_xml_parse_complete_mpu(const char *body, size_t len, char etag[80],
                                             struct s3dlio_error *err)
{
    const struct px p = { "CompleteMultipartUpload response", err };
    xmlDoc *doc = NULL;
    const xmlNode *root = NULL;
    char *tag = NULL;
    etag[0] = '\0';
    enum s3dlio_rc rc = open_root(&p, body, len, "CompleteMultipartUploadResult", &doc, &root);
    if (!rc)
        rc = child_text(&p, root, "ETag", &tag);
    /* an empty or absent ETag is allowed: RGW 16 sends <ETag></ETag> here */
    if (!rc && tag)
        copy_etag(etag, tag);
    free(tag);
    xmlFreeDoc(doc);
    return rc;
}

enum s3dlio_rc s3dlio_xml_parse_copy_result(const char *body, size_t len, const char *want,
                                            char etag[80], struct s3dlio_error *err)
{
    const struct px p = { "copy response", err };
    xmlDoc *doc = NULL;
    const xmlNode *root = NULL;
    char *tag = NULL;
    etag[0] = '\0';
    enum s3dlio_rc rc = open_root(&p, body, len, want, &doc, &root);
    if (!rc)
        rc = child_text(&p, root, "ETag", &tag);
    /* without it the part cannot be named in CompleteMultipartUpload */
    if (!rc && (!tag || !tag[0]))
        rc = fail(&p, "no ETag in <%s>", want);
    if (!rc)
        copy_etag(etag, tag);
    free(tag);
    xmlFreeDoc(doc);
    return rc;
}

/* Decode one UTF-8 sequence; its length, or 0 if malformed, overlong or a surrogate. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    size_t n;
    uint32_t c, min;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2, c = s[0] & 0x1Fu, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3, c = s[0] & 0x0Fu, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4, c = s[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) /* also stops at the NUL of a truncated sequence */
            return 0;
        c = c << 6 | (s[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

bool s3dlio_xml_can_carry(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        uint32_t c;
        size_t n = utf8_next(u, &c);
        if (!n || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0xFFFE || c == 0xFFFF)
            return false;
        u += n;
    }
    return true;
}

/*
 * References for what cannot go into element text as itself. Tab, LF and CR go as references
 * too: a literal CR would come out of the server's parser as LF (XML line-end normalisation).
 */
static const char *const escapes[128] = {
    ['&'] = "&amp;",   ['<'] = "&lt;",  ['>'] = "&gt;",   ['"'] = "&quot;",
    ['\''] = "&apos;", ['\t'] = "&#9;", ['\n'] = "&#10;", ['\r'] = "&#13;",
};

static enum s3dlio_rc add_escaped(struct s3dlio_buf *out, const char *s)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    const char *run = s;
    for (; !rc && *s; s++) {
        unsigned char u = (unsigned char)*s;
        const char *rep = u < 128 ? escapes[u] : NULL;
        if (!rep)
            continue;
        rc = s3dlio_buf_add(out, run, (size_t)(s - run));
        if (!rc)
            rc = s3dlio_buf_adds(out, rep);
        run = s + 1;
    }
    return rc ? rc : s3dlio_buf_adds(out, run);
}

enum s3dlio_rc s3dlio_xml_build_delete(struct s3dlio_buf *out, const char *const *keys, size_t n,
                                       bool quiet)
{
    /* check everything first, so a refused request leaves nothing half-written in out */
    if (!out || !keys || !n || n > DELETE_MAX_KEYS)
        return S3DLIO_E_USAGE;
    for (size_t i = 0; i < n; i++)
        if (!keys[i] || !keys[i][0] || !s3dlio_xml_can_carry(keys[i]))
            return S3DLIO_E_USAGE;
    enum s3dlio_rc rc = s3dlio_buf_adds(out, XML_DECL "<Delete xmlns=\"" S3_XMLNS "\">");
    if (!rc && quiet)
        rc = s3dlio_buf_adds(out, "<Quiet>true</Quiet>");
    for (size_t i = 0; !rc && i < n; i++) {
        rc = s3dlio_buf_adds(out, "<Object><Key>");
        if (!rc)
            rc = add_escaped(out, keys[i]);
        if (!rc)
            rc = s3dlio_buf_adds(out, "</Key></Object>");
    }
    return rc ? rc : s3dlio_buf_adds(out, "</Delete>");
}

/* S3 wants part numbers 1..10000 in ascending order (else InvalidPartOrder) and real ETags. */
static bool parts_ok(const struct s3dlio_part *parts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct s3dlio_part *pt = &parts[i];
        if (pt->number < 1 || pt->number > PART_NUMBER_MAX ||
            (i && pt->number <= parts[i - 1].number))
            return false;
        if (!memchr(pt->etag, '\0', sizeof(pt->etag)) || !pt->etag[0] || !s3dlio_xml_can_carry(pt->etag))
            return false;
    }
    return true;
}

enum s3dlio_rc s3dlio_xml_build_complete_mpu(struct s3dlio_buf *out,
                                             const struct s3dlio_part *parts, size_t n)
{
    if (!out || !parts || !n || n > PART_NUMBER_MAX || !parts_ok(parts, n))
        return S3DLIO_E_USAGE;
    enum s3dlio_rc rc =
        s3dlio_buf_adds(out, XML_DECL "<CompleteMultipartUpload xmlns=\"" S3_XMLNS "\">");
    for (size_t i = 0; !rc && i < n; i++) {
        rc = s3dlio_buf_addf(out, "<Part><PartNumber>%d</PartNumber><ETag>\"", parts[i].number);
        if (!rc)
            rc = add_escaped(out, parts[i].etag);
        if (!rc)
            rc = s3dlio_buf_adds(out, "\"</ETag></Part>");
    }
    return rc ? rc : s3dlio_buf_adds(out, "</CompleteMultipartUpload>");
}
