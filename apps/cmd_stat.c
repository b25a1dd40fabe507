/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi stat: one object's metadata. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "app.h"
#include "commands.h"

static const struct cmd_help help = {
    "URI",
    "Show one object's size, ETag and last-modified time (HEAD for s3://).",
};

int cmd_stat(int argc, char **argv, struct app *app)
{
    int npos = 0;
    const struct opt opts[] = {{NULL, 0, OPT_END, NULL, NULL, NULL}};
    int r = app_parse(app, "stat", argc, argv, opts, &help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos != 1)
        return app_usage_error(app, "expected one URI (see '%s stat --help')", app->prog);
    struct s3dlio_uri uri;
    struct s3dlio_backend *be = NULL;
    if ((r = app_open(app, argv[0], &uri, &be)))
        return r;
    struct s3dlio_error err = {0};
    struct s3dlio_stat obj = {0};
    enum s3dlio_rc rc = S3DLIO_OK;
    if (!uri.key[0])
        rc = s3dlio_error_set(&err, S3DLIO_E_USAGE, "stat", argv[0], "URI names no object key");
    if (!rc)
        rc = s3dlio_backend_stat(be, uri.key, &obj, &err);
    if (!rc) {
        char when[64] = "unknown";
        time_t t = (time_t)obj.mtime;
        struct tm tm;
        if (obj.mtime >= 0 && gmtime_r(&t, &tm))
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("uri:           %s\nsize:          %" PRIu64 "\netag:          %s\nlast-modified: %s\n",
               argv[0], obj.size, obj.etag[0] ? obj.etag : "-", when);
    }
    s3dlio_backend_free(be);
    s3dlio_uri_release(&uri);
    return rc ? app_fail(app, &err) : EXIT_OK;
}
