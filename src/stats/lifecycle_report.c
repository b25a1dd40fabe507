/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench lifecycle's table (the rows of s3dlio's results table: upload and download MB/s and
 * time, list and delete time, total, objects, bytes, then what s3dlio does not show: the
 * spread over ranks, latency and retries) and its JSON, schema "s3dlio-mpi/lifecycle".
 */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "s3dlio/lifecycle.h"
#include "stats/json_util.h"

#define MiB (1024.0 * 1024.0)

static double total_seconds(const struct s3dlio_lifecycle_result *r)
{
    double t = 0;
    for (int p = 0; p < S3DLIO_LC_PHASES; p++)
        t += r->ran[p] ? r->seconds[p] : 0;
    return t;
}

/* MB/s of a transfer phase over its whole barrier-to-barrier time (s3dlio's definition). */
static double phase_MBps(const struct s3dlio_lifecycle_result *r, enum s3dlio_lifecycle_phase p)
{
    return r->ran[p] && r->seconds[p] > 0 ? (double)r->bytes / r->seconds[p] / 1e6 : NAN;
}

static void rate(char *buf, size_t len, double v)
{
    if (isnan(v))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.1f", v);
}

static void transfer_rows(const char *name, const struct s3dlio_lifecycle_transfer *t, FILE *out)
{
    char lo[32], med[32], hi[32], agg[32];
    rate(agg, sizeof(agg), t->MBps);
    rate(lo, sizeof(lo), t->rank_MBps_min);
    rate(med, sizeof(med), t->rank_MBps_median);
    rate(hi, sizeof(hi), t->rank_MBps_max);
    fprintf(out, "  %-9s transfer %s MB/s; per rank min/median/max %s / %s / %s MB/s\n", name, agg,
            lo, med, hi);
    char first[96] = ""; /* an upload's answer comes after its body: no first byte to time */
    if (t->ttfb_ms_p99 > 0)
        snprintf(first, sizeof(first), "first byte p50 %.2f p99 %.2f, ", t->ttfb_ms_p50, t->ttfb_ms_p99);
    fprintf(out, "  %-9s latency ms: %stotal p50 %.2f p99 %.2f; %llu requests, %llu retries, "
                 "%.2f CPU-s\n",
            "", first, t->total_ms_p50, t->total_ms_p99, (unsigned long long)t->requests,
            (unsigned long long)t->retries, t->cpu_s);
}

void s3dlio_lifecycle_print_table(const struct s3dlio_lifecycle_report *r, FILE *out)
{
    const struct s3dlio_lifecycle_result *res = &r->res;
    fprintf(out, "s3dlio-mpi lifecycle benchmark, run %s\n", r->run_id);
    fprintf(out, "  bucket %s, objects under %s, %d rank%s, %d uploads / %d downloads in flight per "
                 "rank, %d connections\n",
            r->bucket_uri, r->prefix[0] ? r->prefix : "-", r->nranks, r->nranks == 1 ? "" : "s",
            r->put_concurrency, r->get_concurrency, r->max_connections);
    fprintf(out, "  dataset: %llu objects of %.0f-%.0f MiB, %llu bytes (%.2f GiB)\n",
            (unsigned long long)res->objects, (double)r->min_size / MiB, (double)r->max_size / MiB,
            (unsigned long long)res->bytes, (double)res->bytes / (MiB * 1024));
    fprintf(out, "  %-16s %10s %12s\n", "phase", "time s", "MB/s");
    for (int p = 0; p < S3DLIO_LC_PHASES; p++) {
        char mbps[32] = "";
        if (p == S3DLIO_LC_UPLOAD || p == S3DLIO_LC_DOWNLOAD)
            rate(mbps, sizeof(mbps), phase_MBps(res, (enum s3dlio_lifecycle_phase)p));
        if (res->ran[p])
            fprintf(out, "  %-16s %10.3f %12s\n", s3dlio_lifecycle_phase_name((enum s3dlio_lifecycle_phase)p),
                    res->seconds[p], mbps);
        else
            fprintf(out, "  %-16s %10s %12s\n", s3dlio_lifecycle_phase_name((enum s3dlio_lifecycle_phase)p),
                    "not run", "");
    }
    fprintf(out, "  %-16s %10.3f\n", "total", total_seconds(res));
    if (res->ran[S3DLIO_LC_UPLOAD])
        transfer_rows("upload", &r->upload, out);
    if (res->ran[S3DLIO_LC_DOWNLOAD])
        transfer_rows("download", &r->download, out);
    bool first = true;
    for (size_t i = 0; i < r->nfiles; i++) {
        if (!strcmp(r->files[i].kind, "folded"))
            continue; /* beside its .svg */
        fprintf(out, "  %-9s %s\n", first ? "pictures" : "", r->files[i].path);
        first = false;
    }
    if (r->failed_phase)
        fprintf(out, "  FAILED in %s: %s; %s\n", r->failed_phase, r->error,
                res->cleaned_up ? "cleaned up" : "NOT cleaned up (see above)");
    else
        fprintf(out, "  %s\n", res->cleaned_up ? "every object and the bucket made here were deleted"
                                               : "kept (--keep)");
}

static struct json_object *jnum(double v)
{
    return s3dlio_json_num(v, 3);
}

static struct json_object *jtransfer(const struct s3dlio_lifecycle_transfer *t)
{
    struct json_object *o = json_object_new_object(), *rk = json_object_new_object();
    struct json_object *lat = json_object_new_object();
    json_object_object_add(o, "report", json_object_new_string(t->report));
    json_object_object_add(o, "transfer_MBps", jnum(t->MBps));
    json_object_object_add(rk, "min", jnum(t->rank_MBps_min));
    json_object_object_add(rk, "median", jnum(t->rank_MBps_median));
    json_object_object_add(rk, "max", jnum(t->rank_MBps_max));
    json_object_object_add(o, "rank_MBps", rk);
    json_object_object_add(lat, "ttfb_p50", jnum(t->ttfb_ms_p50));
    json_object_object_add(lat, "ttfb_p99", jnum(t->ttfb_ms_p99));
    json_object_object_add(lat, "total_p50", jnum(t->total_ms_p50));
    json_object_object_add(lat, "total_p99", jnum(t->total_ms_p99));
    json_object_object_add(o, "latency_ms", lat);
    json_object_object_add(o, "requests", json_object_new_uint64(t->requests));
    json_object_object_add(o, "retries", json_object_new_uint64(t->retries));
    json_object_object_add(o, "cpu_s", jnum(t->cpu_s));
    return o;
}

enum s3dlio_rc s3dlio_lifecycle_write_json(const struct s3dlio_lifecycle_report *r, FILE *out)
{
    const struct s3dlio_lifecycle_result *res = &r->res;
    struct json_object *o = json_object_new_object(), *phases = json_object_new_array();
    struct json_object *files = json_object_new_array();
    json_object_object_add(o, "schema", json_object_new_string("s3dlio-mpi/lifecycle"));
    json_object_object_add(o, "version", json_object_new_int(1));
    json_object_object_add(o, "run_id", json_object_new_string(r->run_id));
    json_object_object_add(o, "bucket", json_object_new_string(r->bucket_uri));
    json_object_object_add(o, "prefix", json_object_new_string(r->prefix));
    json_object_object_add(o, "ranks", json_object_new_int(r->nranks));
    json_object_object_add(o, "put_concurrency", json_object_new_int(r->put_concurrency));
    json_object_object_add(o, "get_concurrency", json_object_new_int(r->get_concurrency));
    json_object_object_add(o, "max_connections", json_object_new_int(r->max_connections));
    json_object_object_add(o, "objects", json_object_new_uint64(res->objects));
    json_object_object_add(o, "bytes", json_object_new_uint64(res->bytes));
    json_object_object_add(o, "min_object_bytes", json_object_new_uint64(r->min_size));
    json_object_object_add(o, "max_object_bytes", json_object_new_uint64(r->max_size));
    json_object_object_add(o, "seed", json_object_new_uint64(r->seed));
    for (int p = 0; p < S3DLIO_LC_PHASES; p++) {
        struct json_object *ph = json_object_new_object();
        json_object_object_add(ph, "name", json_object_new_string(
                                               s3dlio_lifecycle_phase_name((enum s3dlio_lifecycle_phase)p)));
        json_object_object_add(ph, "ran", json_object_new_boolean(res->ran[p]));
        json_object_object_add(ph, "seconds", res->ran[p] ? jnum(res->seconds[p]) : NULL);
        json_object_object_add(ph, "MBps", p == S3DLIO_LC_UPLOAD || p == S3DLIO_LC_DOWNLOAD
                                               ? jnum(phase_MBps(res, (enum s3dlio_lifecycle_phase)p))
                                               : NULL);
        json_object_array_add(phases, ph);
    }
    json_object_object_add(o, "phases", phases);
    json_object_object_add(o, "total_s", jnum(total_seconds(res)));
    json_object_object_add(o, "upload", res->ran[S3DLIO_LC_UPLOAD] ? jtransfer(&r->upload) : NULL);
    json_object_object_add(o, "download", res->ran[S3DLIO_LC_DOWNLOAD] ? jtransfer(&r->download) : NULL);
    json_object_object_add(o, "deleted", json_object_new_uint64(res->deleted));
    json_object_object_add(o, "bucket_created", json_object_new_boolean(res->bucket_created));
    json_object_object_add(o, "bucket_deleted", json_object_new_boolean(res->bucket_deleted));
    json_object_object_add(o, "cleaned_up", json_object_new_boolean(res->cleaned_up));
    json_object_object_add(o, "interrupted", json_object_new_boolean(r->interrupted));
    json_object_object_add(o, "failed_phase", r->failed_phase ? json_object_new_string(r->failed_phase) : NULL);
    json_object_object_add(o, "error", r->error[0] ? s3dlio_json_text(r->error, sizeof(r->error)) : NULL);
    for (size_t i = 0; i < r->nfiles; i++) {
        struct json_object *f = json_object_new_object();
        json_object_object_add(f, "kind", json_object_new_string(r->files[i].kind));
        if (r->files[i].phase[0])
            json_object_object_add(f, "phase", json_object_new_string(r->files[i].phase));
        json_object_object_add(f, "path", json_object_new_string(r->files[i].path));
        json_object_object_add(f, "samples", json_object_new_uint64(r->files[i].samples));
        json_object_array_add(files, f);
    }
    json_object_object_add(o, "files", files);
    return s3dlio_json_write(o, out);
}
