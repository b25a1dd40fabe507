/* SPDX-License-Identifier: Apache-2.0 */
/* Engine options shared by get/put --recursive and put --generate. */
#include "xfer_cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void xfer_cli_init(struct xfer_cli *c, struct opt out[XFER_CLI_NOPTS])
{
    memset(c, 0, sizeof(*c));
    s3dlio_xfer_opts_default(&c->o);
    c->range_threshold = c->o.range_threshold;
    c->part_size = c->o.part_size;
    c->multipart_threshold = c->o.multipart_threshold;
    c->retries = c->o.retries;
    c->ramp_ms = c->o.ramp_ms;
    c->stall_ms = 30000;
    c->max_connections = 200;
    const struct opt t[XFER_CLI_NOPTS] = {
        {"get-concurrency", 0, OPT_INT, &c->o.get_concurrency, "N", "GET requests in flight (32)"},
        {"put-concurrency", 0, OPT_INT, &c->o.put_concurrency, "N", "PUT requests in flight (16)"},
        {"max-connections", 0, OPT_INT, &c->max_connections, "N", "HTTP connections kept (200)"},
        {"range-threshold", 0, OPT_SIZE, &c->range_threshold, "SIZE",
         "GET larger objects as parallel ranges (4MiB)"},
        {"part-size", 0, OPT_SIZE, &c->part_size, "SIZE", "range and multipart part size (8MiB)"},
        {"multipart-threshold", 0, OPT_SIZE, &c->multipart_threshold, "SIZE",
         "PUT larger objects as multipart uploads (16MiB)"},
        {"retries", 0, OPT_INT, &c->retries, "N", "retries of transient failures (5)"},
        {"stall-timeout", 0, OPT_DURATION, &c->stall_ms, "TIME",
         "abort and retry a request that moved no byte for TIME (30s)"},
        {"ramp-up", 0, OPT_DURATION, &c->ramp_ms, "TIME",
         "grow requests in flight from 1 over TIME (100ms)"},
        {"max-request-rate", 0, OPT_INT, &c->max_request_rate, "N",
         "start at most N requests per second (0: no limit)"},
        {"verify", 0, OPT_FLAG, &c->o.verify, NULL,
         "PUT with Content-MD5; check single-part ETags on GET"},
        {"report", 0, OPT_STRING, &c->report, "PATH",
         "under mpirun: the JSON report (profiles/<run-id>/report.json)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    memcpy(out, t, sizeof(t));
}

int xfer_cli_apply(struct xfer_cli *c, struct app *app)
{
    if (c->o.get_concurrency < 1 || c->o.put_concurrency < 1 || c->max_connections < 1)
        return app_usage_error(app, "concurrency and connections must be at least 1");
    if (c->part_size < (5u << 20))
        return app_usage_error(app, "--part-size must be at least 5MiB (the S3 minimum)");
    c->o.range_threshold = c->range_threshold;
    c->o.part_size = c->part_size;
    c->o.multipart_threshold = c->multipart_threshold;
    c->o.retries = c->retries;
    c->o.ramp_ms = c->ramp_ms;
    c->o.max_request_rate = c->max_request_rate;
    c->o.hash_payload = app->cfg.payload_signing == S3DLIO_PAYLOAD_FULL;
    app->cfg.max_connections = c->max_connections;
    app->cfg.retries = c->retries;
    app->cfg.low_speed_time_s = (long)((c->stall_ms + 999) / 1000);
    return 0;
}

int xfer_cli_report(const struct app *app, const char *verb, const struct s3dlio_plan *plan,
                    const struct s3dlio_xfer_stats *st, enum s3dlio_rc rc)
{
    double secs = (double)(st->t_end_ns - st->t_start_ns) / 1e9;
    if (!app->flags.quiet)
        fprintf(stderr, "%s: %" PRIu64 " objects, %" PRIu64 " bytes in %.2f s, %.1f MB/s, %" PRIu64
                        " retries%s\n",
                verb, st->objects, st->bytes, secs, secs > 0 ? (double)st->bytes / 1e6 / secs : 0.0,
                st->retries, st->failures ? ", FAILED" : "");
    size_t shown = 0, failed = 0;
    for (size_t i = 0; i < plan->n; i++) {
        if (!plan->jobs[i].rc)
            continue;
        if (++failed <= 20)
            app_fail(app, &plan->jobs[i].err), shown++;
    }
    if (failed > shown)
        fprintf(stderr, "%s: ... and %zu more failed objects\n", app->prog, failed - shown);
    return rc || failed ? EXIT_FAILED : EXIT_OK;
}
