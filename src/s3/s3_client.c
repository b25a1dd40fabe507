/* SPDX-License-Identifier: Apache-2.0 */
/*
 * S3 HTTP client over one libcurl multi handle: URL building (path or virtual-hosted
 * style), SigV4 signing of every request, response header capture, and mapping of
 * transport and HTTP failures to s3dlio errors that name the endpoint, key, status,
 * S3 code and request id.
 */
#include "s3/s3_client.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "s3/xml.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/retry.h"

/* Error and listing bodies are small; a larger one is hostile or not S3. */
#define RESP_BODY_MAX (64u << 20)
/* per-request curl buffers: with 32 GETs or 16 PUTs in flight, 8 MiB or 16 MiB in all */
#define RECV_BUFFER (256L * 1024)
#define SEND_BUFFER (1024L * 1024)

struct s3dlio_s3_client {
    const struct s3dlio_config *cfg;
    char *scheme;      /* "http" or "https" */
    char *authority;   /* host[:port] as written in the endpoint */
    char *base_path;   /* endpoint path prefix without trailing '/', usually "" */
    bool virtual_host; /* bucket goes into the host name */
    CURLM *multi;
    size_t inflight;
    /* finished easy handles, reset and kept: their buffers are reused instead of freed and
     * allocated again per request, which keeps the heap (and peak RSS) flat over long runs */
    CURL **idle;
    size_t nidle, idle_alloc;
    struct call_priv *calls; /* in flight, for cancel_all */
    uint64_t rng; /* backoff jitter of synchronous retries */
};

/* Per-call private state: the easy handle and what must live as long as it. */
struct call_priv {
    struct s3dlio_s3_client *client;
    CURL *easy;
    struct curl_slist *hdrs;
    char *url;
    char curl_err[CURL_ERROR_SIZE];
    uint64_t t_start_ns;
    uint64_t src_off;
    enum s3dlio_rc cb_rc; /* failure raised by a sink or source callback */
    long status;          /* of the response being received (checked once, then cached) */
    bool checked;         /* the check callback ran and passed */
    struct call_priv *prev, *next; /* the client's in-flight list */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void s3dlio_s3_target(const char *bucket, const char *key, char *out, size_t outlen)
{
    snprintf(out, outlen, "s3://%s%s%s", bucket ? bucket : "", key && *key ? "/" : "",
             key ? key : "");
}

enum s3dlio_rc s3dlio_s3_global_init(struct s3dlio_error *err)
{
    CURLcode cc = curl_global_init(CURL_GLOBAL_DEFAULT);
    /* libxml2 2.9 must be initialised once, before any thread might parse */
    xmlInitParser();
    if (cc)
        return s3dlio_error_set(err, S3DLIO_E_INTERNAL, "init", "libcurl", "%s",
                                curl_easy_strerror(cc));
    return S3DLIO_OK;
}

void s3dlio_s3_global_cleanup(void)
{
    curl_global_cleanup();
}

/* ---- endpoint ------------------------------------------------------------------------ */

static enum s3dlio_rc parse_endpoint(struct s3dlio_s3_client *c, const char *ep,
                                     struct s3dlio_error *err)
{
    const char *sep = strstr(ep, "://");
    if (!sep || !((sep - ep == 4 && !strncasecmp(ep, "http", 4)) ||
                  (sep - ep == 5 && !strncasecmp(ep, "https", 5))))
        return s3dlio_error_set(err, S3DLIO_E_CONFIG, "connect", ep,
                                "endpoint must start with http:// or https://");
    c->scheme = s3dlio_xstrndup(ep, (size_t)(sep - ep));
    const char *host = sep + 3;
    const char *slash = strchr(host, '/');
    size_t hlen = slash ? (size_t)(slash - host) : strlen(host);
    if (!hlen)
        return s3dlio_error_set(err, S3DLIO_E_CONFIG, "connect", ep, "endpoint has no host");
    c->authority = s3dlio_xstrndup(host, hlen);
    const char *path = slash ? slash : "";
    size_t plen = strlen(path);
    while (plen && path[plen - 1] == '/')
        plen--;
    c->base_path = s3dlio_xstrndup(path, plen);
    return S3DLIO_OK;
}

enum s3dlio_rc s3dlio_s3_client_new(const struct s3dlio_config *cfg, int max_connections,
                                    struct s3dlio_s3_client **out, struct s3dlio_error *err)
{
    struct s3dlio_s3_client *c = s3dlio_xcalloc(1, sizeof(*c));
    enum s3dlio_rc rc = S3DLIO_OK;
    char aws[256];
    c->cfg = cfg;
    c->rng = s3dlio_retry_seed((uint64_t)(uintptr_t)c, (uint64_t)getpid(), now_ns());
    if (cfg->endpoint && *cfg->endpoint) {
        rc = parse_endpoint(c, cfg->endpoint, err);
        /* custom endpoints rarely have wildcard DNS for buckets: path style by default */
        c->virtual_host = cfg->addressing == S3DLIO_ADDR_VIRTUAL;
    } else {
        snprintf(aws, sizeof(aws), "https://s3.%s.amazonaws.com", cfg->region ? cfg->region : "us-east-1");
        rc = parse_endpoint(c, aws, err);
        c->virtual_host = cfg->addressing != S3DLIO_ADDR_PATH;
    }
    if (!rc) {
        c->multi = curl_multi_init();
        if (!c->multi)
            rc = s3dlio_error_set(err, S3DLIO_E_INTERNAL, "init", "libcurl", "curl_multi_init failed");
    }
    if (rc) {
        s3dlio_s3_client_free(c);
        return rc;
    }
    curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)max_connections);
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)max_connections);
    *out = c;
    return S3DLIO_OK;
}

void s3dlio_s3_client_free(struct s3dlio_s3_client *c)
{
    if (!c)
        return;
    if (c->multi)
        curl_multi_cleanup(c->multi);
    for (size_t i = 0; i < c->nidle; i++)
        curl_easy_cleanup(c->idle[i]);
    free(c->idle);
    free(c->scheme);
    free(c->authority);
    free(c->base_path);
    free(c);
}

/* ---- request building ----------------------------------------------------------------- */

/* The raw (unencoded) path as signed: "/bucket/key" or "/key" with the bucket in the host. */
static enum s3dlio_rc raw_path(const struct s3dlio_s3_client *c, const struct s3dlio_s3_call *call,
                               struct s3dlio_buf *out)
{
    enum s3dlio_rc rc = s3dlio_buf_adds(out, c->base_path);
    if (!rc && !c->virtual_host && call->bucket && *call->bucket)
        rc = s3dlio_buf_addf(out, "/%s", call->bucket);
    if (!rc)
        rc = s3dlio_buf_addc(out, '/');
    if (!rc && call->key && *call->key)
        rc = s3dlio_buf_adds(out, call->key);
    return rc;
}

static enum s3dlio_rc host_of(const struct s3dlio_s3_client *c, const struct s3dlio_s3_call *call,
                              struct s3dlio_buf *out)
{
    if (c->virtual_host && call->bucket && *call->bucket)
        return s3dlio_buf_addf(out, "%s.%s", call->bucket, c->authority);
    return s3dlio_buf_adds(out, c->authority);
}

static enum s3dlio_rc build_url(const struct s3dlio_s3_client *c, const struct s3dlio_s3_call *call,
                                const char *host, const char *path, struct s3dlio_buf *url)
{
    enum s3dlio_rc rc = s3dlio_buf_addf(url, "%s://%s", c->scheme, host);
    if (!rc)
        rc = s3dlio_uri_encode(url, path, true);
    if (!rc && call->nquery) {
        struct s3dlio_buf q = S3DLIO_BUF_INIT(64 * 1024);
        rc = s3dlio_sigv4_canonical_query(&q, call->query, call->nquery);
        if (!rc)
            rc = s3dlio_buf_addf(url, "?%s", s3dlio_buf_str(&q));
        s3dlio_buf_release(&q);
    }
    return rc;
}

static enum s3dlio_rc payload_hash(const struct s3dlio_s3_client *c, const struct s3dlio_s3_call *call,
                                   char out[65])
{
    if (call->body) {
        /* small in-memory bodies (XML) are always hashed: cheap, and some servers want it */
        s3dlio_sha256_hex(call->body, call->body_len, out);
        return S3DLIO_OK;
    }
    if (call->payload_sha256 && strlen(call->payload_sha256) == 64) {
        memcpy(out, call->payload_sha256, 65);
        return S3DLIO_OK;
    }
    if (!call->source) {
        memcpy(out, S3DLIO_EMPTY_SHA256, 65);
        return S3DLIO_OK;
    }
    if (c->cfg->payload_signing != S3DLIO_PAYLOAD_FULL) {
        memcpy(out, S3DLIO_UNSIGNED_PAYLOAD, sizeof(S3DLIO_UNSIGNED_PAYLOAD));
        return S3DLIO_OK;
    }
    /* SigV4 needs the hash in a header before the body is sent: one read pass first */
    struct s3dlio_sha256 h;
    s3dlio_sha256_init(&h);
    char buf[64 * 1024];
    uint64_t off = 0;
    enum s3dlio_rc rc = S3DLIO_OK;
    while (!rc && off < call->body_len) {
        size_t want = call->body_len - off < sizeof(buf) ? (size_t)(call->body_len - off) : sizeof(buf);
        size_t got = 0;
        rc = call->source(call->source_ud, off, buf, want, &got);
        if (!rc && !got)
            rc = S3DLIO_E_IO;
        if (!rc)
            s3dlio_sha256_update(&h, buf, got);
        off += got;
    }
    s3dlio_sha256_final_hex(&h, out);
    return rc;
}

/* Sign and turn every header into the curl list. */
static enum s3dlio_rc sign_headers(const struct s3dlio_s3_client *c, const struct s3dlio_s3_call *call,
                                   const char *host, const char *path, struct curl_slist **list)
{
    const struct s3dlio_config *cfg = c->cfg;
    char amz_date[17], hash[65];
    time_t now = time(NULL);
    s3dlio_sigv4_amz_date(now, amz_date);
    enum s3dlio_rc rc = payload_hash(c, call, hash);
    if (rc)
        return rc;
    struct s3dlio_kv h[S3DLIO_S3_MAX_HEADERS + 4];
    size_t n = 0;
    h[n++] = (struct s3dlio_kv){"Host", host};
    h[n++] = (struct s3dlio_kv){"x-amz-date", amz_date};
    h[n++] = (struct s3dlio_kv){"x-amz-content-sha256", hash};
    if (cfg->session_token && *cfg->session_token)
        h[n++] = (struct s3dlio_kv){"x-amz-security-token", cfg->session_token};
    for (size_t i = 0; i < call->nheaders; i++)
        h[n++] = call->headers[i];
    struct s3dlio_sigv4_input in = {
        .method = call->method, .path = path, .query = call->query, .nquery = call->nquery,
        .headers = h, .nheaders = n, .payload_hash = hash, .access_key = cfg->access_key,
        .secret_key = cfg->secret_key, .region = cfg->region ? cfg->region : "us-east-1",
        .service = "s3", .now = now,
    };
    struct s3dlio_buf line = S3DLIO_BUF_INIT(16 * 1024);
    rc = s3dlio_buf_adds(&line, "Authorization: ");
    if (!rc)
        rc = s3dlio_sigv4_authorization(&line, &in);
    if (!rc)
        *list = curl_slist_append(*list, s3dlio_buf_str(&line));
    for (size_t i = 0; !rc && i < n; i++) {
        s3dlio_buf_reset(&line);
        rc = s3dlio_buf_addf(&line, "%s: %s", h[i].name, h[i].value);
        if (!rc)
            *list = curl_slist_append(*list, s3dlio_buf_str(&line));
    }
    /* no 100-continue round trip; servers answer errors before reading the body anyway */
    *list = curl_slist_append(*list, "Expect:");
    if (call->body && strcmp(call->method, "POST") == 0)
        *list = curl_slist_append(*list, "Content-Type: application/xml");
    s3dlio_buf_release(&line);
    return rc;
}

/* ---- curl callbacks ---------------------------------------------------------------------- */

static bool is_2xx(long status)
{
    return status >= 200 && status < 300;
}

/* The check callback, once per 2xx response; false when it refused the response. */
static bool run_check(struct s3dlio_s3_call *call, struct call_priv *p)
{
    if (p->checked || !call->check)
        return true;
    p->checked = true;
    enum s3dlio_rc rc = call->check(call, call->check_ud);
    if (rc) {
        p->cb_rc = rc;
        if (!call->err.rc)
            call->err.rc = rc;
    }
    return !rc;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct s3dlio_s3_call *call = ud;
    struct call_priv *p = call->priv;
    size_t n = size * nmemb;
    if (!call->t_first_byte_ns) {
        call->t_first_byte_ns = now_ns() - p->t_start_ns;
        curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &p->status);
        call->status = p->status; /* the check reads it before finish sets it for good */
    }
    if (is_2xx(p->status) && !run_check(call, p))
        return 0; /* aborts the transfer before a byte of this response is delivered */
    if (is_2xx(p->status) && call->sink) {
        enum s3dlio_rc rc = call->sink(call->sink_ud, call->sink_offset + call->body_bytes, data, n);
        if (rc) {
            p->cb_rc = rc;
            return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
        }
    } else if (s3dlio_buf_add(&call->resp_body, data, n)) {
        p->cb_rc = S3DLIO_E_LIMIT;
        return 0;
    }
    call->body_bytes += n;
    return n;
}

static void header_value(const char *line, size_t len, char *out, size_t outlen)
{
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return;
    const char *v = colon + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    if (end - v >= 2 && *v == '"' && end[-1] == '"') {
        v++;
        end--;
    }
    size_t n = (size_t)(end - v) < outlen - 1 ? (size_t)(end - v) : outlen - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

static bool header_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && line[n] == ':' && !strncasecmp(line, name, n);
}

static uint64_t to_u64(const char *s)
{
    return s[0] ? strtoull(s, NULL, 10) : 0;
}

/* "bytes a-b/total" (total may be '*'); anything else leaves has_range false. */
static void parse_content_range(struct s3dlio_s3_call *call, const char *v)
{
    unsigned long long a, b;
    int used = 0;
    if (strncasecmp(v, "bytes ", 6) || sscanf(v + 6, "%llu-%llu%n", &a, &b, &used) != 2 ||
        v[6 + used] != '/' || b < a)
        return;
    call->has_range = true;
    call->range_first = a;
    call->range_last = b;
    if (v[6 + used + 1] != '*')
        call->total_size = to_u64(v + 6 + used + 1);
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ud)
{
    struct s3dlio_s3_call *call = ud;
    size_t len = size * nmemb;
    char v[256] = "";
    if (!strncmp(line, "HTTP/", 5)) {
        /* a new response (after a redirect or 100): forget the previous one's headers */
        call->etag[0] = '\0';
        call->content_length = call->total_size = 0;
        call->has_range = call->sse_opaque_etag = false;
        call->range_first = call->range_last = call->meta_part_size = 0;
        call->parts_count = 0;
    } else if (header_is(line, len, "ETag")) {
        header_value(line, len, call->etag, sizeof(call->etag));
    } else if (header_is(line, len, "x-amz-request-id")) {
        header_value(line, len, call->request_id, sizeof(call->request_id));
    } else if (header_is(line, len, "Content-Length")) {
        header_value(line, len, v, sizeof(v));
        call->content_length = to_u64(v);
        if (!call->total_size)
            call->total_size = call->content_length;
    } else if (header_is(line, len, "Content-Range")) {
        header_value(line, len, v, sizeof(v));
        parse_content_range(call, v);
    } else if (header_is(line, len, "x-amz-mp-parts-count")) {
        header_value(line, len, v, sizeof(v));
        call->parts_count = (int)to_u64(v);
    } else if (header_is(line, len, "x-amz-meta-s3dlio-part-size")) {
        header_value(line, len, v, sizeof(v));
        call->meta_part_size = to_u64(v);
    } else if (header_is(line, len, "x-amz-server-side-encryption")) {
        header_value(line, len, v, sizeof(v));
        /* SSE-S3 (AES256) keeps MD5 ETags; KMS and DSSE-KMS do not */
        if (!strncasecmp(v, "aws:kms", 7))
            call->sse_opaque_etag = true;
    } else if (header_is(line, len, "x-amz-server-side-encryption-customer-algorithm")) {
        call->sse_opaque_etag = true;
    } else if (header_is(line, len, "Last-Modified")) {
        header_value(line, len, v, sizeof(v));
        call->last_modified = (int64_t)curl_getdate(v, NULL);
    }
    return len;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ud)
{
    struct s3dlio_s3_call *call = ud;
    struct call_priv *p = call->priv;
    size_t want = size * nmemb, got = 0;
    if (call->body) {
        got = call->body_len - p->src_off < want ? (size_t)(call->body_len - p->src_off) : want;
        memcpy(buf, (const char *)call->body + p->src_off, got);
    } else if (p->src_off < call->body_len) {
        if (call->body_len - p->src_off < want)
            want = (size_t)(call->body_len - p->src_off);
        enum s3dlio_rc rc = call->source(call->source_ud, p->src_off, buf, want, &got);
        if (rc || !got) {
            /* a source that ends early must not produce a short object under the final key */
            p->cb_rc = rc ? rc : S3DLIO_E_IO;
            return CURL_READFUNC_ABORT;
        }
    }
    p->src_off += got;
    return got;
}

/* Trace log of the exchange with secrets redacted (S3DLIO_LOG=s3:trace). */
static int on_debug(CURL *easy, curl_infotype type, char *data, size_t len, void *ud)
{
    (void)easy;
    (void)ud;
    if (type != CURLINFO_HEADER_OUT && type != CURLINFO_HEADER_IN && type != CURLINFO_TEXT)
        return 0;
    const char *dir = type == CURLINFO_HEADER_OUT ? ">" : type == CURLINFO_HEADER_IN ? "<" : "*";
    while (len) {
        const char *nl = memchr(data, '\n', len);
        size_t n = nl ? (size_t)(nl - data) + 1 : len;
        char red[1024];
        s3dlio_s3_redact_header(data, n, red, sizeof(red));
        if (red[0])
            S3DLIO_LOG(S3DLIO_LOG_TRACE, S3DLIO_SUB_S3, "%s %s", dir, red);
        data += n;
        len -= n;
    }
    return 0;
}

void s3dlio_s3_redact_header(const char *line, size_t len, char *out, size_t outlen)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (header_is(line, len, "Authorization")) {
        /* keep the credential (access key id and scope are not secret), drop the signature */
        const char *sig = strstr(line, "Signature=");
        size_t keep = sig && (size_t)(sig - line) < len ? (size_t)(sig - line) : len;
        snprintf(out, outlen, "%.*sSignature=<redacted>", (int)keep, line);
    } else if (header_is(line, len, "x-amz-security-token")) {
        snprintf(out, outlen, "x-amz-security-token: <redacted>");
    } else {
        snprintf(out, outlen, "%.*s", (int)len, line);
    }
}

/* ---- call lifecycle ------------------------------------------------------------------------ */

static void setup_easy(const struct s3dlio_s3_client *c, struct s3dlio_s3_call *call, CURL *e)
{
    struct call_priv *p = call->priv;
    const struct s3dlio_config *cfg = c->cfg;
    curl_easy_setopt(e, CURLOPT_URL, p->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, call);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->hdrs);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->curl_err);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* keys may contain "." and ".." segments: send the path exactly as signed */
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, call);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000L);
    if (cfg->low_speed_time_s > 0) {
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, cfg->low_speed_time_s);
    }
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    /* larger socket reads and writes than curl's 16 KiB / 64 KiB defaults: fewer syscalls
     * and callbacks per GiB, which is most of the client CPU on a fast link */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, RECV_BUFFER);
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, SEND_BUFFER);
    if (cfg->ca_bundle && *cfg->ca_bundle)
        curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_bundle);
    if (cfg->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (s3dlio_log_levels[S3DLIO_SUB_S3] >= S3DLIO_LOG_TRACE) {
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
        curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
    }
    if (!strcmp(call->method, "HEAD")) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (call->body || call->source || !strcmp(call->method, "PUT")) {
        /* a PUT without a body (CopyObject, UploadPartCopy) still says Content-Length: 0,
         * which RGW requires of UploadPartCopy (411 MissingContentLength otherwise) */
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, call);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)call->body_len);
        if (strcmp(call->method, "PUT"))
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, call->method);
    } else if (strcmp(call->method, "GET")) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, call->method);
    }
}

static CURL *take_handle(struct s3dlio_s3_client *c)
{
    return c->nidle ? c->idle[--c->nidle] : curl_easy_init();
}

static void give_handle(struct s3dlio_s3_client *c, CURL *e)
{
    curl_easy_reset(e);
    s3dlio_xgrow((void **)&c->idle, sizeof(*c->idle), c->nidle + 1, &c->idle_alloc);
    c->idle[c->nidle++] = e;
}

static void unlink_call(struct s3dlio_s3_client *c, struct call_priv *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else if (c->calls == p)
        c->calls = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

static void free_priv(struct s3dlio_s3_call *call)
{
    struct call_priv *p = call->priv;
    if (!p)
        return;
    if (p->easy)
        give_handle(p->client, p->easy);
    curl_slist_free_all(p->hdrs);
    free(p->url);
    free(p);
    call->priv = NULL;
}

enum s3dlio_rc s3dlio_s3_call_start(struct s3dlio_s3_client *c, struct s3dlio_s3_call *call)
{
    struct call_priv *p = s3dlio_xcalloc(1, sizeof(*p));
    p->client = c;
    struct s3dlio_buf host = S3DLIO_BUF_INIT(1024), path = S3DLIO_BUF_INIT(8192),
                      url = S3DLIO_BUF_INIT(64 * 1024);
    char target[S3DLIO_ERROR_TARGET_MAX];
    call->priv = p;
    call->rc = S3DLIO_OK;
    call->status = 0;
    call->body_bytes = 0;
    call->t_first_byte_ns = 0;
    if (!call->resp_body.max)
        call->resp_body.max = RESP_BODY_MAX;
    s3dlio_s3_target(call->bucket, call->target_key ? call->target_key : call->key, target,
                     sizeof(target));
    enum s3dlio_rc rc = host_of(c, call, &host);
    if (!rc)
        rc = raw_path(c, call, &path);
    if (!rc)
        rc = build_url(c, call, s3dlio_buf_str(&host), s3dlio_buf_str(&path), &url);
    if (!rc)
        rc = sign_headers(c, call, s3dlio_buf_str(&host), s3dlio_buf_str(&path), &p->hdrs);
    if (rc) {
        call->rc = s3dlio_error_set(&call->err, rc, call->op, target, "could not build the request");
        goto out;
    }
    p->url = s3dlio_buf_detach(&url);
    p->easy = take_handle(c);
    if (!p->easy) {
        call->rc = s3dlio_error_set(&call->err, S3DLIO_E_INTERNAL, call->op, target, "curl_easy_init failed");
        goto out;
    }
    setup_easy(c, call, p->easy);
    S3DLIO_LOG(S3DLIO_LOG_DEBUG, S3DLIO_SUB_S3, "%s %s", call->method, p->url);
    p->t_start_ns = now_ns();
    if (curl_multi_add_handle(c->multi, p->easy) != CURLM_OK) {
        call->rc = s3dlio_error_set(&call->err, S3DLIO_E_INTERNAL, call->op, target,
                                    "curl_multi_add_handle failed");
        goto out;
    }
    c->inflight++;
    p->next = c->calls;
    if (c->calls)
        c->calls->prev = p;
    c->calls = p;
out:
    s3dlio_buf_release(&host);
    s3dlio_buf_release(&path);
    s3dlio_buf_release(&url);
    if (call->rc)
        free_priv(call);
    return call->rc;
}

/* Map a transport failure to an error naming the endpoint. */
static enum s3dlio_rc transport_error(const struct s3dlio_s3_client *c, struct s3dlio_s3_call *call,
                                      CURLcode cc, const char *target)
{
    struct call_priv *p = call->priv;
    enum s3dlio_rc rc = S3DLIO_E_CONNECT;
    if (cc == CURLE_OPERATION_TIMEDOUT)
        rc = S3DLIO_E_TIMEOUT;
    const char *detail = p->curl_err[0] ? p->curl_err : curl_easy_strerror(cc);
    call->err.curl_code = (int)cc;
    /* nothing reached the server: a refusal may mean overload, and nothing was half-done */
    call->err.no_connection = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
                              cc == CURLE_SSL_CONNECT_ERROR;
    if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_OPERATION_TIMEDOUT ||
        cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_PEER_FAILED_VERIFICATION)
        return s3dlio_error_set(&call->err, rc, call->op, target, "endpoint '%s://%s': %s", c->scheme,
                                c->authority, detail);
    return s3dlio_error_set(&call->err, rc, call->op, target, "%s (endpoint %s://%s)", detail, c->scheme,
                            c->authority);
}

/*
 * Some servers (RGW) send an empty <Message>; say what the common codes mean, and where a
 * user's fix lies, rather than print a bare code.
 */
static void explain(struct s3dlio_error *e)
{
    static const struct {
        const char *code, *text;
    } known[] = {
        {"NoSuchKey", "The specified key does not exist"},
        {"NoSuchBucket", "The specified bucket does not exist"},
        {"NoSuchUpload", "The multipart upload does not exist (aborted or completed)"},
        {"SignatureDoesNotMatch", "the request signature does not match: check the secret key "
                                  "(AWS_SECRET_ACCESS_KEY), region and clock"},
        {"InvalidAccessKeyId", "the access key id is not known to the server (AWS_ACCESS_KEY_ID)"},
        {"AccessDenied", "access denied for these credentials"},
        {"BucketNotEmpty", "the bucket is not empty"},
        {"BucketAlreadyExists", "the bucket name is taken"},
        {"InvalidRange", "the requested range is not satisfiable"},
        {"SlowDown", "the server asks to slow down (throttled)"},
        {"RequestTimeTooSkewed", "the local clock differs too much from the server's"},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (!strcmp(e->s3_code, known[i].code))
            snprintf(e->message, sizeof(e->message), "%s", known[i].text);
    if (!e->s3_code[0] && e->http_status == 403) /* a HEAD: the answer has no body to say why */
        snprintf(e->message, sizeof(e->message), "forbidden: access denied, or the credentials "
                 "were not accepted (unknown access key, wrong secret key)");
}

static enum s3dlio_rc http_error(struct s3dlio_s3_call *call, const char *target)
{
    struct s3dlio_error *e = &call->err;
    e->http_status = (int)call->status;
    snprintf(e->request_id, sizeof(e->request_id), "%s", call->request_id);
    s3dlio_error_set(e, S3DLIO_E_HTTP, call->op, target, NULL);
    if (call->resp_body.len &&
        s3dlio_xml_parse_error(call->resp_body.data, call->resp_body.len, e) == S3DLIO_OK)
        e->rc = S3DLIO_E_S3;
    else
        e->message[0] = '\0';
    if (!e->message[0])
        explain(e);
    if (call->status == 404)
        e->rc = S3DLIO_E_NOT_FOUND;
    return e->rc;
}

static void finish(struct s3dlio_s3_client *c, struct s3dlio_s3_call *call, CURLcode cc)
{
    struct call_priv *p = call->priv;
    char target[S3DLIO_ERROR_TARGET_MAX];
    s3dlio_s3_target(call->bucket, call->target_key ? call->target_key : call->key, target,
                     sizeof(target));
    curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &call->status);
    call->t_total_ns = now_ns() - p->t_start_ns;
    p->status = call->status;
    if (!p->cb_rc && cc == CURLE_OK && is_2xx(call->status))
        run_check(call, p); /* a response without a body is checked here */
    if (p->cb_rc && p->cb_rc != S3DLIO_E_LIMIT && call->err.rc == S3DLIO_OK)
        call->rc = s3dlio_error_set(&call->err, p->cb_rc, call->op, target,
                                    "%s", cc == CURLE_ABORTED_BY_CALLBACK ? "reading the body failed"
                                                                          : "writing the body failed");
    else if (p->cb_rc)
        call->rc = p->cb_rc;
    else if (cc != CURLE_OK)
        call->rc = transport_error(c, call, cc, target);
    else if (!is_2xx(call->status))
        call->rc = http_error(call, target);
    else
        call->rc = S3DLIO_OK;
    S3DLIO_LOG(S3DLIO_LOG_DEBUG, S3DLIO_SUB_S3, "%s '%s' -> %ld in %.1f ms", call->method, target,
               call->status, (double)call->t_total_ns / 1e6);
    curl_multi_remove_handle(c->multi, p->easy);
    unlink_call(c, p);
    free_priv(call);
    c->inflight--;
}

/* Take call (in flight) off the client, as interrupted; its done runs. */
static void drop(struct s3dlio_s3_client *c, struct s3dlio_s3_call *call)
{
    struct call_priv *p = call->priv;
    char target[S3DLIO_ERROR_TARGET_MAX];
    s3dlio_s3_target(call->bucket, call->target_key ? call->target_key : call->key, target,
                     sizeof(target));
    curl_multi_remove_handle(c->multi, p->easy);
    unlink_call(c, p);
    c->inflight--;
    call->t_total_ns = now_ns() - p->t_start_ns;
    call->rc = s3dlio_error_set(&call->err, S3DLIO_E_ABORTED, call->op, target, "interrupted");
    free_priv(call);
    if (call->done)
        call->done(call, call->done_ud);
}

static void cancel(struct s3dlio_s3_client *c, bool spare)
{
    /* next taken before a call goes: its done may start others (they are not stopped) */
    for (struct call_priv *p = c->calls, *next; p; p = next) {
        next = p->next;
        struct s3dlio_s3_call *call = NULL;
        curl_easy_getinfo(p->easy, CURLINFO_PRIVATE, (char **)&call);
        if (!(spare && call->finish_on_cancel))
            drop(c, call);
    }
}

void s3dlio_s3_client_cancel_all(struct s3dlio_s3_client *c)
{
    cancel(c, false);
}

void s3dlio_s3_client_cancel_transfers(struct s3dlio_s3_client *c)
{
    cancel(c, true);
}

enum s3dlio_rc s3dlio_s3_client_progress(struct s3dlio_s3_client *c, int timeout_ms, size_t *inflight)
{
    int running = 0, msgs = 0;
    CURLMcode mc = curl_multi_perform(c->multi, &running);
    if (!mc && running && timeout_ms > 0)
        mc = curl_multi_poll(c->multi, NULL, 0, timeout_ms, NULL);
    if (!mc && running)
        mc = curl_multi_perform(c->multi, &running);
    if (mc)
        return S3DLIO_E_INTERNAL;
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->multi, &msgs))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct s3dlio_s3_call *call = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&call);
        finish(c, call, m->data.result);
        if (call->done)
            call->done(call, call->done_ud);
    }
    if (inflight)
        *inflight = c->inflight;
    return S3DLIO_OK;
}

static void mark_done(struct s3dlio_s3_call *call, void *ud)
{
    (void)call;
    *(int *)ud = 1;
}

static bool stopped(const struct s3dlio_s3_call *call)
{
    return call->stop && *call->stop;
}

static enum s3dlio_rc perform_once(struct s3dlio_s3_client *c, struct s3dlio_s3_call *call)
{
    int done = 0;
    call->done = mark_done;
    call->done_ud = &done;
    s3dlio_buf_reset(&call->resp_body);
    s3dlio_error_clear(&call->err);
    enum s3dlio_rc rc = s3dlio_s3_call_start(c, call);
    /* the signal that sets *stop also cuts the wait short (no SA_RESTART); the bound is the
     * fallback for a signal that lands between the check and the wait */
    while (!rc && !done) {
        if (stopped(call)) {
            drop(c, call);
            break;
        }
        rc = s3dlio_s3_client_progress(c, call->stop ? 100 : 1000, NULL);
    }
    return rc ? rc : call->rc;
}

/*
 * Synchronous calls (listing, HEAD, deletes) get the engine's retry policy too: a listing
 * that dies on one 503 would fail a whole job, and one that dies while the server restarts
 * would fail it too. Streaming bodies cannot be replayed here; those requests go through
 * the engine, which retries them.
 */
enum s3dlio_rc s3dlio_s3_call_perform(struct s3dlio_s3_client *c, struct s3dlio_s3_call *call,
                                      struct s3dlio_error *err)
{
    const struct s3dlio_config *cfg = c->cfg;
    struct s3dlio_retry_policy pol = S3DLIO_RETRY_POLICY_DEFAULT;
    pol.retries = cfg->retries >= 0 ? cfg->retries : 0;
    if (cfg->retry_time_ms >= 0)
        pol.time_ms = (uint64_t)cfg->retry_time_ms;
    if (cfg->retry_base_ms > 0)
        pol.base_ms = (uint64_t)cfg->retry_base_ms;
    if (cfg->retry_cap_ms > 0)
        pol.cap_ms = (uint64_t)cfg->retry_cap_ms;
    uint64_t first_fail = 0, attempt_start = now_ns();
    enum s3dlio_rc rc = perform_once(c, call);
    for (int attempt = 1; rc && !call->source && !stopped(call); attempt++) {
        uint64_t now = now_ns();
        if (!first_fail)
            first_fail = s3dlio_retry_budget_start(&call->err, attempt_start, now);
        if (!s3dlio_retry_allowed(&pol, &call->err, attempt, (now - first_fail) / 1000000u))
            break;
        uint64_t ms = s3dlio_retry_backoff_ms(&c->rng, attempt, pol.base_ms, pol.cap_ms);
        S3DLIO_LOG(S3DLIO_LOG_INFO, S3DLIO_SUB_S3, "retry %d of %s in %" PRIu64 " ms: %s", attempt,
                   call->op, ms, call->err.message);
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL); /* a signal ends it early; perform_once then sees stop */
        attempt_start = now_ns();
        rc = perform_once(c, call);
    }
    if (rc && err)
        *err = call->err.rc ? call->err : *err;
    if (rc && err && !err->rc)
        s3dlio_error_set(err, rc, call->op, NULL, "%s", "event loop failure");
    return rc;
}

void s3dlio_s3_call_release(struct s3dlio_s3_call *call)
{
    if (!call)
        return;
    free_priv(call);
    s3dlio_buf_release(&call->resp_body);
}
