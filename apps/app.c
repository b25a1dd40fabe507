/* SPDX-License-Identifier: Apache-2.0 */
/* Shared command plumbing: connection options, config loading, error messages. */
#include "app.h"

#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/log.h"
#include "util/printable.h"

void app_init(struct app *app, const char *prog)
{
    memset(app, 0, sizeof(*app));
    app->prog = prog;
    struct app_flags *f = &app->flags;
    const struct opt common[] = {
        {"endpoint-url", 0, OPT_STRING, &f->endpoint, "URL", "S3 endpoint (AWS_ENDPOINT_URL)"},
        {"region", 0, OPT_STRING, &f->region, "REGION", "signing region (AWS_REGION)"},
        {"profile", 0, OPT_STRING, &f->profile, "NAME", "profile of ~/.aws/{config,credentials}"},
        {"addressing", 0, OPT_STRING, &f->addressing, "STYLE",
         "path (bucket in the path) or virtual (in the host name)"},
        {"payload-signing", 0, OPT_STRING, &f->payload_signing, "MODE",
         "unsigned (default) or full (SHA-256 of every body)"},
        {"ca-bundle", 0, OPT_STRING, &f->ca_bundle, "FILE", "CA certificates (AWS_CA_BUNDLE)"},
        {"insecure", 0, OPT_FLAG, &f->insecure, NULL, "do not verify TLS certificates"},
        {"retries", 0, OPT_INT, &f->retries, "N", "retries of 5xx, 429 and cut bodies (5)"},
        {"retry-time", 0, OPT_DURATION, &f->retry_time_ms, "TIME",
         "retry a server that cannot be reached this long, e.g. while it restarts (30s)"},
        {"retry-base", 0, OPT_DURATION, &f->retry_base_ms, "TIME",
         "backoff: full jitter over base x 2^attempt (100ms)"},
        {"retry-cap", 0, OPT_DURATION, &f->retry_cap_ms, "TIME", "longest backoff (10s)"},
        {"connect-timeout", 0, OPT_DURATION, &f->connect_timeout_ms, "TIME",
         "give up a connection attempt after TIME (10s)"},
        {"stall-timeout", 0, OPT_DURATION, &f->stall_ms, "TIME",
         "abort and retry a request that moved no byte for TIME (30s)"},
        {"verbose", 'v', OPT_COUNT, &f->verbose, NULL, "more log output (repeat for more)"},
        {"quiet", 'q', OPT_FLAG, &f->quiet, NULL, "no progress or summary output"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    _Static_assert(sizeof(common) <= sizeof(app->common), "the common table fits");
    f->retries = -1;
    f->retry_time_ms = f->retry_base_ms = f->retry_cap_ms = APP_UNSET;
    f->connect_timeout_ms = f->stall_ms = APP_UNSET;
    memcpy(app->common, common, sizeof(common));
}

static int apply_flags(struct app *app)
{
    const struct app_flags *f = &app->flags;
    struct s3dlio_config *c = &app->cfg;
    if (f->endpoint)
        s3dlio_config_set(&c->endpoint, f->endpoint);
    if (f->region)
        s3dlio_config_set(&c->region, f->region);
    if (f->ca_bundle)
        s3dlio_config_set(&c->ca_bundle, f->ca_bundle);
    if (f->insecure)
        c->insecure = true;
    if (f->retries >= 0)
        c->retries = f->retries;
    if (f->retry_time_ms != APP_UNSET)
        c->retry_time_ms = (long)f->retry_time_ms;
    if (f->retry_base_ms != APP_UNSET)
        c->retry_base_ms = (long)f->retry_base_ms;
    if (f->retry_cap_ms != APP_UNSET)
        c->retry_cap_ms = (long)f->retry_cap_ms;
    if (f->connect_timeout_ms != APP_UNSET)
        c->connect_timeout_ms = (long)f->connect_timeout_ms;
    if (f->stall_ms != APP_UNSET)
        c->low_speed_time_s = (long)((f->stall_ms + 999) / 1000);
    if (c->retry_base_ms < 1 || c->retry_cap_ms < c->retry_base_ms)
        return app_usage_error(app, "--retry-base must be above 0 and at most --retry-cap");
    if (c->connect_timeout_ms < 1 || c->low_speed_time_s < 1)
        return app_usage_error(app, "--connect-timeout and --stall-timeout must be at least 1 ms / 1 s");
    if (f->addressing) {
        if (!strcmp(f->addressing, "path"))
            c->addressing = S3DLIO_ADDR_PATH;
        else if (!strcmp(f->addressing, "virtual"))
            c->addressing = S3DLIO_ADDR_VIRTUAL;
        else
            return app_usage_error(app, "--addressing must be 'path' or 'virtual', not '%s'",
                                   f->addressing);
    }
    if (f->payload_signing) {
        if (!strcmp(f->payload_signing, "full"))
            c->payload_signing = S3DLIO_PAYLOAD_FULL;
        else if (!strcmp(f->payload_signing, "unsigned"))
            c->payload_signing = S3DLIO_PAYLOAD_UNSIGNED;
        else
            return app_usage_error(app, "--payload-signing must be 'unsigned' or 'full', not '%s'",
                                   f->payload_signing);
    }
    return 0;
}

int app_parse(struct app *app, const char *cmd, int argc, char **argv, const struct opt *opts,
              const struct cmd_help *help, int *npos)
{
    app->cmd = cmd;
    int rc = opts_parse(app->usage_silent ? NULL : stderr, app->prog, cmd, argc, argv, opts,
                        app->common, npos);
    if (rc == 1) {
        if (!app->usage_silent)
            opts_usage(stdout, app->prog, cmd, help->synopsis, help->description, opts, app->common);
        return 1;
    }
    if (rc < 0)
        return -1;
    const char *spec = getenv("S3DLIO_LOG");
    if (spec && s3dlio_log_configure(spec) && !app->usage_silent)
        fprintf(stderr, "%s: warning: S3DLIO_LOG '%s' has unknown parts (use e.g. s3:debug,all:info)\n",
                app->prog, spec);
    s3dlio_log_raise(app->flags.verbose);
    if (app->flags.profile)
        setenv("AWS_PROFILE", app->flags.profile, 1);
    struct s3dlio_error err = {0};
    if (s3dlio_config_load(&app->cfg, NULL, &err)) {
        app_fail(app, &err);
        return -2;
    }
    return apply_flags(app) ? -1 : 0;
}

int app_fail(const struct app *app, const struct s3dlio_error *err)
{
    char line[4096]; /* the whole error: a 1024-byte key, S3's message... */
    s3dlio_error_format(err, line, sizeof(line));
    return app_fail_text(app, err->rc, line);
}

int app_fail_text(const struct app *app, enum s3dlio_rc rc, const char *line)
{
    if (rc == S3DLIO_E_USAGE && app->usage_silent)
        return EXIT_USAGE;
    char shown[4 * 4096];
    fprintf(stderr, "%s: %s\n", app->prog, s3dlio_printable(line, shown, sizeof(shown), false));
    return rc == S3DLIO_E_USAGE ? EXIT_USAGE : EXIT_FAILED;
}

int app_usage_error(const struct app *app, const char *fmt, ...)
{
    va_list ap;
    if (app->usage_silent)
        return EXIT_USAGE;
    fprintf(stderr, "%s: %s: ", app->prog, app->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    return EXIT_USAGE;
}

/* A URI that does not parse: said by the one process that speaks for the job. */
static int uri_error(const struct app *app, struct s3dlio_error *err)
{
    snprintf(err->op, sizeof(err->op), "%s", app->cmd);
    if (!app->usage_silent)
        app_fail(app, err);
    return EXIT_USAGE;
}

int app_check_uri(const struct app *app, const char *text)
{
    struct s3dlio_uri uri;
    struct s3dlio_error err = {0};
    if (s3dlio_uri_parse(&uri, text, &err))
        return uri_error(app, &err);
    s3dlio_uri_release(&uri);
    return EXIT_OK;
}

int app_open(struct app *app, const char *text, struct s3dlio_uri *uri, struct s3dlio_backend **be)
{
    struct s3dlio_error err = {0};
    if (s3dlio_uri_parse(uri, text, &err))
        return uri_error(app, &err);
    if (s3dlio_backend_new(uri, &app->cfg, be, &err)) {
        snprintf(err.op, sizeof(err.op), "%s", app->cmd);
        snprintf(err.target, sizeof(err.target), "%s", text);
        s3dlio_uri_release(uri);
        return app_fail(app, &err);
    }
    return EXIT_OK;
}

void app_release(struct app *app)
{
    s3dlio_config_release(&app->cfg);
}

int app_on_rank0(int (*fn)(int, char **, struct app *), int argc, char **argv, struct app *app)
{
    int code = app->rank == 0 ? fn(argc, argv, app) : 0;
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return code;
}

int app_find_subcommand(const struct app *app, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-')
            return i;
        int span = opts_span(app->common, argc, argv, i);
        if (span <= 0)
            return 0;
        i += span - 1;
    }
    return 0;
}

void app_subcommand_first(char **argv, int at)
{
    char *saved = argv[at];
    memmove(argv + 2, argv + 1, (size_t)(at - 1) * sizeof(*argv));
    argv[1] = saved;
}
