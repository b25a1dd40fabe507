/* SPDX-License-Identifier: Apache-2.0 */
/* The report as JSON, schema "s3dlio-mpi/report" (docs/report-schema.json). */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "s3dlio/stats.h"
#include <stdint.h>
#include "stats/json_util.h"
#include "stats/report_int.h"

/* ---- JSON ------------------------------------------------------------------------------ */

/* A fixed-size char field, safe even if the sender left no NUL in it. */
#define JSTR(field) s3dlio_json_text((field), sizeof(field))

static struct json_object *jlatency(const struct s3dlio_hist *h)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "p50", s3dlio_json_num(s3dlio_rep_ms(s3dlio_hist_quantile(h, 0.50)), 3));
    json_object_object_add(o, "p90", s3dlio_json_num(s3dlio_rep_ms(s3dlio_hist_quantile(h, 0.90)), 3));
    json_object_object_add(o, "p99", s3dlio_json_num(s3dlio_rep_ms(s3dlio_hist_quantile(h, 0.99)), 3));
    json_object_object_add(o, "p999", s3dlio_json_num(s3dlio_rep_ms(s3dlio_hist_quantile(h, 0.999)), 3));
    json_object_object_add(o, "max", s3dlio_json_num(s3dlio_rep_ms(h->max_ns), 3));
    json_object_object_add(o, "mean", s3dlio_json_num(s3dlio_rep_hist_mean_ms(h), 3));
    json_object_object_add(o, "count", json_object_new_uint64(h->n));
    return o;
}

static struct json_object *jtotals(const struct s3dlio_report *r)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "listed", json_object_new_uint64(r->listed));
    json_object_object_add(o, "objects", json_object_new_uint64(r->objects));
    json_object_object_add(o, "failures", json_object_new_uint64(r->failures));
    json_object_object_add(o, "bytes", json_object_new_uint64(r->bytes));
    json_object_object_add(o, "requests", json_object_new_uint64(r->requests));
    json_object_object_add(o, "retries", json_object_new_uint64(r->retries));
    json_object_object_add(o, "throttled", json_object_new_uint64(r->throttled));
    json_object_object_add(o, "server_errors", json_object_new_uint64(r->server_errors));
    json_object_object_add(o, "changed", json_object_new_uint64(r->changed));
    json_object_object_add(o, "restarted", json_object_new_uint64(r->restarted));
    json_object_object_add(o, "verified", json_object_new_uint64(r->verified));
    json_object_object_add(o, "not_verifiable", json_object_new_uint64(r->not_verifiable));
    json_object_object_add(o, "folder_markers", json_object_new_uint64(r->folder_markers));
    json_object_object_add(o, "aborted_uploads", json_object_new_uint64(r->aborted_uploads));
    json_object_object_add(o, "backoff_s", s3dlio_json_num(r->backoff_s, 3));
    return o;
}

static struct json_object *jlimit(const struct s3dlio_rank_stats *rs)
{
    struct json_object *o = json_object_new_object(), *t = json_object_new_array();
    json_object_object_add(o, "configured", json_object_new_int(rs->concurrency));
    json_object_object_add(o, "adaptive", json_object_new_boolean(rs->limit_adaptive));
    json_object_object_add(o, "min", json_object_new_uint64(rs->limit_min));
    json_object_object_add(o, "max", json_object_new_uint64(rs->limit_max));
    json_object_object_add(o, "decreases", json_object_new_uint64(rs->limit_decreases));
    for (uint32_t i = 0; i < rs->nlimit_samples && i < S3DLIO_LIMIT_SAMPLES; i++) {
        struct json_object *pt = json_object_new_array();
        json_object_array_add(pt, s3dlio_json_num((double)rs->limit_samples[i].t_ms / 1e3, 3));
        json_object_array_add(pt, json_object_new_uint64(rs->limit_samples[i].limit));
        json_object_array_add(t, pt);
    }
    json_object_object_add(o, "timeline", t);
    return o;
}

static struct json_object *jthroughput(const struct s3dlio_report *r)
{
    struct json_object *o = json_object_new_object(), *rank = json_object_new_object();
    json_object_object_add(rank, "min", s3dlio_json_num(r->rank_MBps_min, 3));
    json_object_object_add(rank, "median", s3dlio_json_num(r->rank_MBps_median, 3));
    json_object_object_add(rank, "max", s3dlio_json_num(r->rank_MBps_max, 3));
    json_object_object_add(o, "aggregate_MBps", s3dlio_json_num(r->throughput_MBps, 3));
    json_object_object_add(o, "rank_MBps", rank);
    return o;
}

static struct json_object *jrank(const struct s3dlio_rank_stats *rs)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "rank", json_object_new_int(rs->rank));
    json_object_object_add(o, "host", JSTR(rs->host));
    json_object_object_add(o, "objects", json_object_new_uint64(rs->objects));
    json_object_object_add(o, "failures", json_object_new_uint64(rs->failures));
    json_object_object_add(o, "bytes", json_object_new_uint64(rs->bytes));
    json_object_object_add(o, "requests", json_object_new_uint64(rs->requests));
    json_object_object_add(o, "retries", json_object_new_uint64(rs->retries));
    json_object_object_add(o, "throttled", json_object_new_uint64(rs->throttled));
    json_object_object_add(o, "server_errors", json_object_new_uint64(rs->server_errors));
    json_object_object_add(o, "wall_s", s3dlio_json_num(s3dlio_rep_rank_wall(rs), 6));
    json_object_object_add(o, "MBps", s3dlio_json_num(s3dlio_rep_rank_MBps(rs), 3));
    json_object_object_add(o, "cpu_user_s", s3dlio_json_num(rs->cpu_user_s, 6));
    json_object_object_add(o, "cpu_sys_s", s3dlio_json_num(rs->cpu_sys_s, 6));
    json_object_object_add(o, "cpu_pct", s3dlio_json_num(100 * s3dlio_rep_rank_cpu_share(rs), 1));
    json_object_object_add(o, "max_inflight", json_object_new_uint64(rs->max_inflight));
    json_object_object_add(o, "concurrency", json_object_new_int(rs->concurrency));
    json_object_object_add(o, "peak_rss_kib", json_object_new_uint64(rs->peak_rss_kib));
    json_object_object_add(o, "memory_capped", json_object_new_boolean(rs->memory_capped));
    json_object_object_add(o, "changed", json_object_new_uint64(rs->changed));
    json_object_object_add(o, "backoff_s", s3dlio_json_num((double)rs->backoff_ms / 1e3, 3));
    json_object_object_add(o, "inflight_limit", jlimit(rs));
    json_object_object_add(o, "interrupted", json_object_new_boolean(rs->interrupted));
    json_object_object_add(o, "total_ms_p50", s3dlio_json_num(s3dlio_rep_ms(s3dlio_hist_quantile(&rs->total, 0.5)), 3));
    json_object_object_add(o, "total_ms_p99", s3dlio_json_num(s3dlio_rep_ms(s3dlio_hist_quantile(&rs->total, 0.99)), 3));
    json_object_object_add(o, "cpu_samples", json_object_new_uint64(rs->prof_samples));
    json_object_object_add(o, "cpu_samples_dropped", json_object_new_uint64(rs->prof_dropped));
    return o;
}

static struct json_object *jprofile(const struct s3dlio_report *r)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "hz", json_object_new_int(r->profile_hz));
    json_object_object_add(o, "samples", json_object_new_uint64(r->prof_samples));
    json_object_object_add(o, "dropped", json_object_new_uint64(r->prof_dropped));
    return o;
}

static struct json_object *jfiles(const struct s3dlio_report *r)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < r->nfiles; i++) {
        const struct s3dlio_report_file *f = &r->files[i];
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "kind", JSTR(f->kind));
        if (f->phase[0])
            json_object_object_add(o, "phase", JSTR(f->phase));
        json_object_object_add(o, "path", JSTR(f->path));
        if (!strcmp(f->kind, "flamegraph") || !strcmp(f->kind, "folded"))
            json_object_object_add(o, "samples", json_object_new_uint64(f->samples));
        json_object_array_add(a, o);
    }
    return a;
}

/* Whole, however long: the table may shorten them, the JSON is where they are kept. */
static struct json_object *jfailed(const struct s3dlio_failed_key *f)
{
    struct json_object *o = json_object_new_object();
    s3dlio_json_add_key(o, f->key ? f->key : "");
    json_object_object_add(o, "rank", json_object_new_int(f->rank));
    json_object_object_add(o, "error", s3dlio_json_text(f->error ? f->error : "", SIZE_MAX));
    return o;
}

static void add_lists(struct json_object *o, const struct s3dlio_report *r)
{
    struct json_object *ranks = json_object_new_array(), *failed = json_object_new_array();
    struct json_object *stragglers = json_object_new_array();
    for (int i = 0; i < r->nranks; i++)
        json_object_array_add(ranks, jrank(&r->ranks[i]));
    for (size_t i = 0; i < r->nfailed; i++)
        json_object_array_add(failed, jfailed(&r->failed[i]));
    for (int k = 0; k < S3DLIO_REP_MAX_STRAGGLERS && r->stragglers[k] >= 0; k++)
        json_object_array_add(stragglers, json_object_new_int(r->stragglers[k]));
    json_object_object_add(o, "per_rank", ranks);
    json_object_object_add(o, "failed", failed);
    json_object_object_add(o, "stragglers", stragglers);
}

static struct json_object *jreport(const struct s3dlio_report *r)
{
    struct json_object *o = json_object_new_object(), *lat = json_object_new_object();
    struct json_object *imb = json_object_new_object(), *cpu = json_object_new_object();
    json_object_object_add(o, "schema", json_object_new_string("s3dlio-mpi/report"));
    json_object_object_add(o, "version", json_object_new_int(1));
    json_object_object_add(o, "run_id", JSTR(r->run_id));
    json_object_object_add(o, "command", JSTR(r->command));
    json_object_object_add(o, "source", JSTR(r->source));
    json_object_object_add(o, "destination", JSTR(r->destination));
    json_object_object_add(o, "partition", JSTR(r->partition));
    json_object_object_add(o, "ranks", json_object_new_int(r->nranks));
    json_object_object_add(o, "totals", jtotals(r));
    json_object_object_add(o, "throughput", jthroughput(r));
    json_object_object_add(imb, "bytes", s3dlio_json_num(r->imbalance_bytes, 4));
    json_object_object_add(imb, "time", s3dlio_json_num(r->imbalance_time, 4));
    json_object_object_add(o, "imbalance", imb);
    json_object_object_add(lat, "ttfb", jlatency(&r->ttfb));
    json_object_object_add(lat, "total", jlatency(&r->total));
    json_object_object_add(o, "latency_ms", lat);
    json_object_object_add(cpu, "cpu_s", s3dlio_json_num(r->cpu_s, 6));
    json_object_object_add(cpu, "cpu_s_per_GiB", s3dlio_json_num(r->cpu_s_per_GiB, 6));
    json_object_object_add(o, "cpu", cpu);
    json_object_object_add(o, "list_s", s3dlio_json_num(r->list_s, 6));
    json_object_object_add(o, "wall_s", s3dlio_json_num(r->wall_s, 6));
    json_object_object_add(o, "interrupted", json_object_new_boolean(r->interrupted));
    add_lists(o, r);
    json_object_object_add(o, "profile", jprofile(r));
    json_object_object_add(o, "files", jfiles(r));
    json_object_object_add(o, "verdict", JSTR(r->verdict));
    return o;
}

enum s3dlio_rc s3dlio_report_write_json(const struct s3dlio_report *r, FILE *out)
{
    return s3dlio_json_write(jreport(r), out);
}
