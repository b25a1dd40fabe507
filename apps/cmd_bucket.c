/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi mb / rb: make and remove buckets (directories for file://). */
#include <stdio.h>
#include <string.h>
#include "app.h"
#include "backend/be_file.h"
#include "commands.h"

static const struct cmd_help mb_help = {
    "s3://BUCKET | file:///DIR",
    "Create a bucket (in the configured region), or a directory tree for file://.",
};
static const struct cmd_help rb_help = {
    "s3://BUCKET | file:///DIR",
    "Remove an empty bucket, or an empty directory for file://.",
};

static int bucket_cmd(int argc, char **argv, struct app *app, const char *name,
                      const struct cmd_help *help, bool make)
{
    int npos = 0;
    const struct opt opts[] = {{NULL, 0, OPT_END, NULL, NULL, NULL}};
    int r = app_parse(app, name, argc, argv, opts, help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos != 1)
        return app_usage_error(app, "expected one URI (see '%s %s --help')", app->prog, name);
    struct s3dlio_uri uri;
    struct s3dlio_backend *be = NULL;
    if ((r = app_open(app, argv[0], &uri, &be)))
        return r;
    struct s3dlio_error err = {0};
    enum s3dlio_rc rc;
    if (!strcmp(uri.scheme, "file"))
        rc = make ? s3dlio_file_mkdir(uri.key, &err) : s3dlio_file_rmdir(uri.key, &err);
    else if (uri.key[0] && strcmp(uri.key, "/"))
        rc = s3dlio_error_set(&err, S3DLIO_E_USAGE, name, argv[0],
                              "expected a bucket URI without a key (s3://BUCKET)");
    else
        rc = make ? s3dlio_backend_bucket_create(be, &err) : s3dlio_backend_bucket_delete(be, &err);
    if (!rc && !app->flags.quiet)
        fprintf(stderr, "%s: %s %s\n", app->prog, make ? "made" : "removed", argv[0]);
    s3dlio_backend_free(be);
    s3dlio_uri_release(&uri);
    return rc ? app_fail(app, &err) : EXIT_OK;
}

int cmd_mb(int argc, char **argv, struct app *app)
{
    return bucket_cmd(argc, argv, app, "mb", &mb_help, true);
}

int cmd_rb(int argc, char **argv, struct app *app)
{
    return bucket_cmd(argc, argv, app, "rb", &rb_help, false);
}
