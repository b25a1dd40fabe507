/* SPDX-License-Identifier: Apache-2.0 */
/* The bench sync report as JSON, schema "s3dlio-mpi/bench-sync" (docs/bench-sync-schema.json). */
#include "s3dlio/rounds_report.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "stats/json_util.h"
#include "util/alloc.h"

#define JSTR(field) s3dlio_json_text((field), sizeof(field))

/* 64 bits as 16 hex digits: JSON numbers above 2^53 lose bits in most readers. */
static struct json_object *jhex(uint64_t v)
{
    char text[24];
    snprintf(text, sizeof(text), "%016llx", (unsigned long long)v);
    return json_object_new_string(text);
}

static struct json_object *jpct(const struct s3dlio_sync_pct *p, int decimals)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "p50", s3dlio_json_num(p->p50, decimals));
    json_object_object_add(o, "p90", s3dlio_json_num(p->p90, decimals));
    json_object_object_add(o, "max", s3dlio_json_num(p->max, decimals));
    return o;
}

static struct json_object *jsample(int rank, const struct s3dlio_sync_sample *s)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "rank", json_object_new_int(rank));
    json_object_object_add(o, "seconds", s3dlio_json_num(s->seconds, 6));
    json_object_object_add(o, "wait_s", s3dlio_json_num(s->wait_s, 6));
    json_object_object_add(o, "bytes", json_object_new_uint64(s->bytes));
    json_object_object_add(o, "objects", json_object_new_uint64(s->objects));
    json_object_object_add(o, "failures", json_object_new_uint64(s->failures));
    json_object_object_add(o, "assignment", jhex(s->assignment));
    return o;
}

static struct json_object *jround(const struct s3dlio_rounds_report *r, int i)
{
    const struct s3dlio_sync_round *d = &r->rounds[i];
    struct json_object *o = json_object_new_object(), *ranks = json_object_new_array();
    struct json_object *spread = json_object_new_object();
    json_object_object_add(o, "round", json_object_new_int(i + 1));
    json_object_object_add(o, "slowest_s", s3dlio_json_num(d->slowest_s, 6));
    json_object_object_add(o, "fastest_s", s3dlio_json_num(d->fastest_s, 6));
    json_object_object_add(o, "median_s", s3dlio_json_num(d->median_s, 6));
    json_object_object_add(o, "slowest_rank", json_object_new_int(d->slowest_rank));
    json_object_object_add(o, "fastest_rank", json_object_new_int(d->fastest_rank));
    json_object_object_add(spread, "max_min", s3dlio_json_num(d->spread_max_min, 4));
    json_object_object_add(spread, "max_median", s3dlio_json_num(d->spread_max_median, 4));
    json_object_object_add(o, "spread", spread);
    json_object_object_add(o, "skew_s", s3dlio_json_num(d->skew_s, 6));
    json_object_object_add(o, "bytes", json_object_new_uint64(d->bytes));
    json_object_object_add(o, "objects", json_object_new_uint64(d->objects));
    json_object_object_add(o, "failures", json_object_new_uint64(d->failures));
    json_object_object_add(o, "MBps", s3dlio_json_num(d->MBps, 3));
    for (int k = 0; k < r->nranks; k++)
        json_object_array_add(ranks, jsample(k, s3dlio_sync_at(r, i, k)));
    json_object_object_add(o, "per_rank", ranks);
    return o;
}

/* Ranks, then hosts, that were the slowest of a round, most often first. */
static void add_slowest(struct json_object *summary, const struct s3dlio_rounds_report *r)
{
    int *order = s3dlio_xcalloc((size_t)r->nranks + 1, sizeof(*order));
    size_t n = s3dlio_sync_slowest_ranks(r, order);
    struct json_object *ranks = json_object_new_array(), *hosts = json_object_new_object();
    for (size_t i = 0; i < n; i++) {
        struct json_object *o = json_object_new_object(), *h = NULL;
        const char *host = r->hosts ? r->hosts[order[i]] : "";
        json_object_object_add(o, "rank", json_object_new_int(order[i]));
        json_object_object_add(o, "host", s3dlio_json_text(host, 64));
        json_object_object_add(o, "count", json_object_new_int(r->slowest_count[order[i]]));
        json_object_array_add(ranks, o);
        int before = json_object_object_get_ex(hosts, host, &h) ? json_object_get_int(h) : 0;
        json_object_object_add(hosts, host,
                               json_object_new_int(before + r->slowest_count[order[i]]));
    }
    json_object_object_add(summary, "slowest_ranks", ranks);
    json_object_object_add(summary, "slowest_hosts", hosts);
    free(order);
}

static struct json_object *jsummary(const struct s3dlio_rounds_report *r)
{
    struct json_object *o = json_object_new_object(), *spread = json_object_new_object();
    json_object_object_add(o, "round_s", jpct(&r->round_s, 6));
    json_object_object_add(spread, "max_min", jpct(&r->spread_max_min, 4));
    json_object_object_add(spread, "max_median", jpct(&r->spread_max_median, 4));
    json_object_object_add(o, "spread", spread);
    json_object_object_add(o, "skew_s", jpct(&r->skew_s, 6));
    json_object_object_add(o, "mean_MBps", s3dlio_json_num(r->mean_MBps, 3));
    json_object_object_add(o, "sustained_MBps", s3dlio_json_num(r->sustained_MBps, 3));
    add_slowest(o, r);
    return o;
}

static struct json_object *jlists(const struct s3dlio_rounds_report *r, struct json_object *o)
{
    struct json_object *hosts = json_object_new_array(), *failed = json_object_new_array();
    struct json_object *files = json_object_new_array(), *rounds = json_object_new_array();
    for (int k = 0; k < r->nranks; k++)
        json_object_array_add(hosts, r->hosts ? JSTR(r->hosts[k]) : json_object_new_string(""));
    for (int i = 0; i < r->nrounds && r->rounds; i++)
        json_object_array_add(rounds, jround(r, i));
    for (size_t i = 0; i < r->nfailed; i++) {
        struct json_object *f = json_object_new_object();
        json_object_object_add(f, "round", json_object_new_int(r->failed[i].round));
        json_object_object_add(f, "rank", json_object_new_int(r->failed[i].rank));
        s3dlio_json_add_key(f, r->failed[i].key);
        json_object_object_add(f, "error", s3dlio_json_text(r->failed[i].error, SIZE_MAX));
        json_object_array_add(failed, f);
    }
    for (size_t i = 0; i < r->nfiles; i++) {
        struct json_object *f = json_object_new_object();
        json_object_object_add(f, "kind", JSTR(r->files[i].kind));
        json_object_object_add(f, "path", JSTR(r->files[i].path));
        json_object_array_add(files, f);
    }
    json_object_object_add(o, "hosts", hosts);
    json_object_object_add(o, "rounds", rounds);
    json_object_object_add(o, "failed", failed);
    json_object_object_add(o, "files", files);
    return o;
}

static struct json_object *jreport(const struct s3dlio_rounds_report *r)
{
    struct json_object *o = json_object_new_object(), *ds = json_object_new_object();
    json_object_object_add(o, "schema", json_object_new_string("s3dlio-mpi/bench-sync"));
    json_object_object_add(o, "version", json_object_new_int(1));
    json_object_object_add(o, "run_id", JSTR(r->run_id));
    json_object_object_add(o, "source", JSTR(r->source));
    json_object_object_add(o, "mode", json_object_new_string(r->write ? "write" : "read"));
    json_object_object_add(o, "scratch", r->write ? JSTR(r->scratch) : NULL);
    json_object_object_add(o, "shuffle", json_object_new_boolean(r->shuffle));
    json_object_object_add(o, "seed", json_object_new_uint64(r->seed));
    json_object_object_add(o, "ranks", json_object_new_int(r->nranks));
    json_object_object_add(o, "rounds_asked", json_object_new_int(r->rounds_asked));
    json_object_object_add(o, "rounds_done", json_object_new_int(r->nrounds));
    json_object_object_add(ds, "objects", json_object_new_uint64(r->listed));
    json_object_object_add(ds, "bytes", json_object_new_uint64(r->dataset_bytes));
    json_object_object_add(o, "dataset", ds);
    json_object_object_add(o, "list_s", s3dlio_json_num(r->list_s, 6));
    json_object_object_add(o, "interrupted", json_object_new_boolean(r->interrupted));
    json_object_object_add(o, "scratch_left", json_object_new_boolean(r->scratch_left));
    json_object_object_add(o, "summary", jsummary(r));
    return jlists(r, o);
}

enum s3dlio_rc s3dlio_rounds_report_write_json(const struct s3dlio_rounds_report *r, FILE *out)
{
    return s3dlio_json_write(jreport(r), out);
}
