/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_sample OUT.json - build a report from synthetic ranks (a slow rank, some throttling,
 * two failed keys, one of them S3's longest, spread-out latencies, an idle rank whose rates
 * are not measured), write its JSON to OUT.json and its table to stdout.
 * The input of the schema test: CTest runs this, then check-report-schema.py on OUT.json.
 * Exit: 0 written, 1 write failed, 2 usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "s3dlio/stats.h"

#define NRANKS   7 /* the last has no work: more ranks than objects */
#define MS       1000000ull
#define LONG_KEY 1024

/* Latencies spread over 2..200 ms with a tail, deterministic (no clock, no seed). */
static void fill_latency(struct s3dlio_rank_stats *rs, int slow)
{
    for (uint64_t i = 0; i < rs->requests; i++) {
        uint64_t total = (2 + (i * 37) % 60) * MS * (uint64_t)slow;
        if (i % 100 == 0)
            total += 150 * MS; /* the tail: p99 and above */
        s3dlio_hist_add(&rs->ttfb, total / 4);
        s3dlio_hist_add(&rs->total, total);
    }
}

/* A rank with nothing to do: a few microseconds, so its MB/s and CPU% are null. */
static void fill_idle(struct s3dlio_rank_stats *rs, int rank)
{
    memset(rs, 0, sizeof(*rs));
    rs->rank = rank;
    snprintf(rs->host, sizeof(rs->host), "node%02d", rank / 2);
    rs->wall_s = 2e-6;
    rs->cpu_sys_s = 0.0028;
    rs->concurrency = 16;
    rs->peak_rss_kib = 20 * 1024;
}

static void fill_rank(struct s3dlio_rank_stats *rs, int rank)
{
    int slow = rank == 4 ? 2 : 1; /* rank 4 shares a busy node */
    memset(rs, 0, sizeof(*rs));
    rs->rank = rank;
    snprintf(rs->host, sizeof(rs->host), "node%02d", rank / 2);
    rs->objects = 500;
    rs->bytes = 500ull * 8 * 1048576;
    rs->requests = 510;
    rs->retries = rank == 1 ? 10 : 0;
    rs->throttled = rank == 1 ? 8 : 0;
    rs->server_errors = rank == 1 ? 2 : 0;
    rs->failures = rank == 1 ? 2 : 0;
    rs->wall_s = 6.0 * slow + 0.1 * rank;
    rs->cpu_user_s = 1.2;
    rs->cpu_sys_s = 0.6;
    rs->max_inflight = 16;
    rs->concurrency = 16;
    rs->peak_rss_kib = 300 * 1024;
    fill_latency(rs, slow);
}

int main(int argc, char **argv)
{
    static struct s3dlio_rank_stats ranks[NRANKS];
    static char long_key[LONG_KEY + 1], long_error[LONG_KEY + 200];
    static struct s3dlio_failed_key failed[2] = {
        { NULL, NULL, 1 }, /* S3's longest key, filled below */
        { "train/shard-00342.tar",
          "get 's3://imagenet/train/shard-00342.tar': transfer stalled "
          "for 30 s (timeout)",
          1 },
    };
    struct s3dlio_report r = { 0 };

    if (argc != 2) {
        fprintf(stderr, "usage: report_sample OUT.json\n");
        return 2;
    }
    memset(long_key, 'k', LONG_KEY);
    memcpy(long_key, "train/", 6);
    snprintf(long_error, sizeof(long_error),
             "get 's3://imagenet/%s': NoSuchKey (HTTP 404, "
             "request id 4B2A9F): The specified key does not exist",
             long_key);
    failed[0].key = long_key;
    failed[0].error = long_error;
    for (int i = 0; i < NRANKS - 1; i++)
        fill_rank(&ranks[i], i);
    fill_idle(&ranks[NRANKS - 1], NRANKS - 1);
    snprintf(r.run_id, sizeof(r.run_id), "sample-0001");
    snprintf(r.command, sizeof(r.command), "stage");
    snprintf(r.source, sizeof(r.source), "s3://imagenet/train/");
    snprintf(r.destination, sizeof(r.destination), "dir:/local/scratch/imagenet");
    snprintf(r.partition, sizeof(r.partition), "size");
    r.list_s = 0.84;
    r.listed = 3010; /* 3000 done, 2 failed, 8 not done */
    r.nranks = NRANKS;
    r.ranks = ranks;
    r.failed = failed;
    r.nfailed = 2;
    s3dlio_report_build(&r);
    s3dlio_report_print_table(&r, stdout);

    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    enum s3dlio_rc rc = s3dlio_report_write_json(&r, out);
    if (fclose(out) || rc) {
        fprintf(stderr, "report_sample: cannot write '%s'\n", argv[1]);
        return 1;
    }
    return 0;
}
