/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request trace's recorder and writer (include/s3dlio/trace.h): caps that drop and count,
 * the packed form's round trip and its checks, and the Chrome trace JSON parsed back with
 * json-c in strict UTF-8 mode: its events, clock alignment, lanes that never overlap, and
 * keys of any bytes.
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "s3dlio/trace.h"

#define MS 1000000ull

static struct s3dlio_req_span span_at(const char *key, uint64_t start, uint64_t end)
{
    return (struct s3dlio_req_span){.key = key, .op = "GET", .data = true, .range_off = 0,
                                    .range_len = 100, .bytes = 100, .http_status = 206,
                                    .start_ns = start, .first_byte_ns = start + (end - start) / 2,
                                    .end_ns = end};
}

/* The JSON of ranks as a string (heap). */
static char *to_json(struct s3dlio_trace *const *ranks, size_t n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    struct s3dlio_trace_info info = {.run_id = "run-1", .command = "stage"};
    struct s3dlio_error err = {0};
    CHECK_INT(s3dlio_trace_write_json(ranks, n, &info, fp, &err), S3DLIO_OK, "write json");
    fclose(fp);
    return text;
}

/* Parsed strictly (well-formed UTF-8 required); NULL, with a message, if it is not JSON. */
static struct json_object *parse(const char *text)
{
    struct json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *o = json_tokener_parse_ex(tok, text, (int)strlen(text));
    if (!o)
        fprintf(stderr, "not JSON: %s\n", json_tokener_error_desc(json_tokener_get_error(tok)));
    json_tokener_free(tok);
    return o;
}

static struct json_object *get(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* k is there, even as null */
static bool has(struct json_object *o, const char *k)
{
    return json_object_object_get_ex(o, k, NULL);
}

/* ts or dur in ns, from the exact microseconds with three decimals. */
static int64_t ns_of(struct json_object *v)
{
    return v ? (int64_t)(json_object_get_double(v) * 1000.0 + 0.5) : -1;
}

/* ---- caps ----------------------------------------------------------------------------------- */

static void test_caps(void)
{
    struct s3dlio_trace *t = s3dlio_trace_new(4, 64);
    struct s3dlio_trace_counts c;
    char k[8][48];
    for (int i = 0; i < 6; i++) {
        snprintf(k[i], sizeof(k[i]), "key-%d", i);
        struct s3dlio_req_span s = span_at(k[i], (uint64_t)i * MS, (uint64_t)(i + 1) * MS);
        s3dlio_trace_add_span(t, &s);
    }
    s3dlio_trace_get_counts(t, &c);
    CHECK_INT(c.spans, 4, "span cap: 4 kept");
    CHECK_INT(c.dropped_spans, 2, "span cap: the rest dropped and counted");
    s3dlio_trace_free(t);

    /* the key arena: a repeated key is stored once; a new one that does not fit drops its span */
    t = s3dlio_trace_new(100, 64);
    for (int i = 0; i < 10; i++) {
        struct s3dlio_req_span s = span_at("the-same-key-of-30-bytes-long!", 0, MS);
        s3dlio_trace_add_span(t, &s);
    }
    s3dlio_trace_get_counts(t, &c);
    CHECK_INT(c.key_bytes, 30, "key arena: parts of one object share their key");
    snprintf(k[0], sizeof(k[0]), "another-key-of-thirty-bytes!!!");
    snprintf(k[1], sizeof(k[1]), "a-third-key-that-cannot-fit-anymore");
    struct s3dlio_req_span a = span_at(k[0], 0, MS), b = span_at(k[1], 0, MS);
    s3dlio_trace_add_span(t, &a);
    s3dlio_trace_add_span(t, &b);
    s3dlio_trace_get_counts(t, &c);
    CHECK_INT(c.spans, 11, "key arena: spans kept while keys fit");
    CHECK_INT(c.dropped_spans, 1, "key arena: full, the span is dropped and counted");
    CHECK_INT(c.key_bytes, 60, "key arena: never past its cap");

    for (int i = 0; i < (int)S3DLIO_TRACE_MAX_PHASES + 5; i++)
        s3dlio_trace_add_phase(t, "phase-with-a-name-longer-than-thirty-one-bytes", 0, MS);
    s3dlio_trace_get_counts(t, &c);
    CHECK_INT(c.phases, S3DLIO_TRACE_MAX_PHASES, "phase cap");
    CHECK_INT(c.dropped_phases, 5, "phases past the cap counted");
    s3dlio_trace_free(t);

    /* NULL recorders take nothing and do not crash: tracing off costs a branch */
    s3dlio_trace_add_span(NULL, &a);
    s3dlio_trace_add_phase(NULL, "list", 0, 1);
    s3dlio_trace_free(NULL);
    CHECK(1, "NULL recorder");
}

/* ---- pack / unpack ----------------------------------------------------------------------------
 */

static struct s3dlio_trace *sample(int rank, int64_t offset, int nspans)
{
    struct s3dlio_trace *t = s3dlio_trace_new(0, 0);
    char key[64];
    s3dlio_trace_set_rank(t, rank, rank ? "node-b" : "node-a", offset, 1500);
    s3dlio_trace_add_phase(t, "download", 10 * MS, (uint64_t)(20 + nspans) * MS);
    for (int i = 0; i < nspans; i++) {
        snprintf(key, sizeof(key), "data/obj-%03d", i / 3); /* 3 parts per object */
        struct s3dlio_req_span s = span_at(key, (uint64_t)(11 + i) * MS, (uint64_t)(14 + i) * MS);
        s.range_off = (uint64_t)(i % 3) * 100;
        s.part_number = i % 3 + 1;
        s.attempt = i % 7 == 6;
        s.rc = i % 11 == 10 ? S3DLIO_E_CONNECT : S3DLIO_OK;
        s3dlio_trace_add_span(t, &s);
    }
    struct s3dlio_req_span head = {.key = "data/obj-000", .op = "HEAD", .http_status = 200,
                                   .start_ns = 10 * MS + 5, .end_ns = 10 * MS + 900};
    s3dlio_trace_add_span(t, &head);
    return t;
}

static void test_pack(void)
{
    struct s3dlio_trace *t = sample(1, -123456789, 40), *u = NULL;
    struct s3dlio_error err = {0};
    void *buf = NULL;
    size_t len = 0;
    CHECK_INT(s3dlio_trace_pack(t, 1u << 20, &buf, &len, &err), S3DLIO_OK, "pack");
    CHECK_INT(s3dlio_trace_unpack(buf, len, &u, &err), S3DLIO_OK, "unpack");
    char *a = to_json(&t, 1), *b = u ? to_json(&u, 1) : NULL;
    CHECK_STR(b, a, "round trip: the same trace");
    free(a);
    free(b);
    s3dlio_trace_free(u);

    /* corrupt copies are refused, never read past */
    unsigned char *bad = malloc(len);
    memcpy(bad, buf, len);
    CHECK_INT(s3dlio_trace_unpack(bad, len - 1, &u, &err), S3DLIO_E_PARSE, "short by one byte");
    CHECK_INT(s3dlio_trace_unpack(bad, 10, &u, &err), S3DLIO_E_PARSE, "shorter than a header");
    bad[0] ^= 1;
    CHECK_INT(s3dlio_trace_unpack(bad, len, &u, &err), S3DLIO_E_PARSE, "bad magic");
    bad[0] ^= 1;
    /* the first span's key offset (after the header and one phase) pointed past the keys */
    size_t first_span = 4 + 4 + 4 + 64 + 8 * 4 + 4 * 3 + (S3DLIO_TRACE_PHASE_NAME + 16);
    bad[first_span + 6 * 8 + 3] = 0x7f;
    CHECK_INT(s3dlio_trace_unpack(bad, len, &u, &err), S3DLIO_E_PARSE, "a key out of bounds");
    CHECK(u == NULL, "nothing returned on failure");
    free(bad);
    free(buf);

    /* a small budget: the first spans and their keys, the rest counted as dropped */
    size_t budget = 1000;
    CHECK_INT(s3dlio_trace_pack(t, budget, &buf, &len, &err), S3DLIO_OK, "pack within a budget");
    CHECK(len <= budget, "within the budget");
    CHECK_INT(s3dlio_trace_unpack(buf, len, &u, &err), S3DLIO_OK, "unpack the cut trace");
    struct s3dlio_trace_counts c;
    s3dlio_trace_get_counts(u, &c);
    CHECK(c.spans > 0 && c.spans < 41, "some spans fit, not all");
    CHECK_INT(c.spans + c.dropped_spans, 41, "what did not fit is counted as dropped");
    free(buf);
    s3dlio_trace_free(u);
    CHECK_INT(s3dlio_trace_pack(t, 50, &buf, &len, &err), S3DLIO_E_LIMIT, "no room for the header");
    CHECK(buf == NULL, "nothing packed");
    s3dlio_trace_free(t);
}

/* ---- the JSON
 * ------------------------------------------------------------------------------------ */

struct ev {
    int pid, tid;
    int64_t ts, dur;
};

/* Per (pid, tid > 0): events sorted by ts never overlap. Returns the overlaps found. */
static int overlaps(struct ev *e, int n)
{
    int bad = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (i != j && e[i].pid == e[j].pid && e[i].tid == e[j].tid && e[i].tid > 0 &&
                e[i].ts <= e[j].ts && e[j].ts < e[i].ts + e[i].dur && (e[i].ts != e[j].ts || i < j))
                bad++;
    return bad;
}

static void test_json(void)
{
    /* rank 1's clock runs 5 ms behind rank 0's: its events move 5 ms later */
    struct s3dlio_trace *ranks[2] = {sample(0, 0, 30), sample(1, 5 * MS, 45)};
    char *text = to_json(ranks, 2);
    struct json_object *root = parse(text);
    CHECK(root != NULL, "the trace parses");
    if (!root) {
        free(text);
        return;
    }
    CHECK_STR(json_object_get_string(get(root, "displayTimeUnit")), "ms", "displayTimeUnit");
    struct json_object *other = get(root, "otherData"), *events = get(root, "traceEvents");
    CHECK_STR(json_object_get_string(get(other, "schema")), "s3dlio-mpi/trace", "schema");
    CHECK_INT(json_object_get_int64(get(other, "spans")), 31 + 46, "otherData: spans");
    CHECK_INT(json_object_get_int64(get(other, "dropped_spans")), 0, "otherData: no drops");
    CHECK_INT(json_object_get_int64(json_object_array_get_idx(get(other, "clock_offset_ns"), 1)),
              5 * MS, "otherData: rank 1's offset");
    int n = (int)json_object_array_length(events), nx = 0, names = 0, lanes_max[2] = {0, 0};
    struct ev *ev = calloc((size_t)n, sizeof(*ev));
    int64_t phase_ts[2] = {-1, -1}, head_ts = -1, min_ts = INT64_MAX;
    for (int i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(events, i);
        const char *ph = json_object_get_string(get(e, "ph"));
        const char *name = json_object_get_string(get(e, "name"));
        int pid = json_object_get_int(get(e, "pid")), tid = json_object_get_int(get(e, "tid"));
        if (!strcmp(ph, "M")) {
            if (!strcmp(name, "process_name") && pid == 1)
                names += !strcmp(json_object_get_string(get(get(e, "args"), "name")),
                                 "rank 1 (node-b)");
            continue;
        }
        CHECK_STR(ph, "X", "every other event is complete");
        int64_t ts = ns_of(get(e, "ts")), dur = ns_of(get(e, "dur"));
        CHECK(ts >= 0 && dur >= 0, "ts and dur");
        min_ts = ts < min_ts ? ts : min_ts;
        if (!strcmp(name, "download"))
            phase_ts[pid] = ts;
        if (!strcmp(name, "HEAD") && pid == 1)
            head_ts = ts;
        if (tid > 0) {
            ev[nx++] = (struct ev){pid, tid, ts, dur};
            lanes_max[pid] = tid > lanes_max[pid] ? tid : lanes_max[pid];
            struct json_object *args = get(e, "args");
            CHECK(has(args, "key") && has(args, "bytes") && has(args, "status") &&
                      has(args, "ttfb_ms") && has(args, "attempt") && has(args, "rc"),
                  "a request's args");
        }
    }
    CHECK_INT(names, 1, "process name: rank and host");
    CHECK_INT(nx, 31 + 46, "one complete event per span");
    CHECK_INT(min_ts, 0, "ts 0 is the earliest event");
    CHECK_INT(phase_ts[0], 0, "rank 0's phase starts the trace");
    CHECK_INT(phase_ts[1], 5 * MS, "rank 1's phase moved by its offset");
    CHECK_INT(head_ts, 5 * MS + 5, "to the nanosecond");
    CHECK_INT(overlaps(ev, nx), 0, "no two events of a lane overlap");
    /* spans of 3 ms starting every 1 ms: 3 in flight at once, plus the HEAD beside the first */
    CHECK_INT(lanes_max[0], 3, "rank 0: as many lanes as requests at once, no more");
    CHECK_INT(lanes_max[1], 3, "rank 1: the same");
    free(ev);
    json_object_put(root);
    free(text);
    s3dlio_trace_free(ranks[0]);
    s3dlio_trace_free(ranks[1]);
}

/* Keys of any bytes: valid JSON in strict UTF-8 either way; UTF-8 keys come back exactly,
 * others as U+FFFD in "key" and whole in "key_hex". */
static const struct key_case {
    const char *name, *key, *hex; /* hex: NULL when the key is UTF-8 */
} key_cases[] = {
    {"quote and backslash", "a\"b\\c", NULL},
    {"control bytes", "tab\there\nnl\x01\x1f", NULL},
    {"UTF-8 of 2, 3 and 4 bytes", "\xc3\xbc-\xe2\x82\xac-\xf0\x9d\x84\x9e", NULL},
    {"DEL and slash", "a\x7f/b", NULL},
    {"a lone high byte", "x\xffy", "78ff79"},
    {"overlong NUL", "\xc0\x80", "c080"},
    {"UTF-16 surrogate", "\xed\xa0\x80", "eda080"},
    {"cut sequence at the end", "euro\xe2\x82", "6575726fe282"},
    {"past U+10FFFF", "\xf4\x90\x80\x80", "f4908080"},
};

static void test_escaping(void)
{
    size_t n = sizeof(key_cases) / sizeof(key_cases[0]);
    struct s3dlio_trace *t = s3dlio_trace_new(0, 0);
    s3dlio_trace_set_rank(t, 0, "host \"q\"", 0, 0);
    s3dlio_trace_add_phase(t, "na\"me\\", 0, MS);
    for (size_t i = 0; i < n; i++) {
        struct s3dlio_req_span s =
            span_at(key_cases[i].key, (uint64_t)i * MS, (uint64_t)(i + 1) * MS);
        s3dlio_trace_add_span(t, &s);
    }
    char *text = to_json(&t, 1);
    struct json_object *root = parse(text);
    CHECK(root != NULL, "odd keys: the trace is strict JSON");
    struct json_object *events = root ? get(root, "traceEvents") : NULL;
    size_t found = 0;
    for (size_t j = 0; events && j < json_object_array_length(events); j++) {
        struct json_object *e = json_object_array_get_idx(events, j), *args = get(e, "args");
        if (strcmp(json_object_get_string(get(e, "name")), "GET"))
            continue;
        int64_t ts = ns_of(get(e, "ts"));
        size_t i = (size_t)(ts / (int64_t)MS);
        if (i >= n)
            continue;
        const struct key_case *kc = &key_cases[i];
        const char *key = json_object_get_string(get(args, "key"));
        if (!kc->hex) {
            CHECK_STR(key, kc->key, kc->name);
            CHECK(get(args, "key_hex") == NULL, kc->name);
        } else {
            CHECK(strstr(key, "\xef\xbf\xbd") != NULL, kc->name); /* U+FFFD */
            CHECK_STR(json_object_get_string(get(args, "key_hex")), kc->hex, kc->name);
        }
        found++;
    }
    CHECK_INT(found, n, "every odd key's event");
    json_object_put(root);
    free(text);
    s3dlio_trace_free(t);
}

int main(void)
{
    test_caps();
    test_pack();
    test_json();
    test_escaping();
    TEST_DONE();
}
