/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi put: one local file to an object (multipart above a threshold). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "app.h"
#include "commands.h"

static const struct cmd_help help = {
    "[--part-size SIZE] [--multipart-threshold SIZE] SRC URI",
    "Upload the local file SRC to URI. If URI ends in '/', SRC's file name is appended.\n"
    "Files larger than the multipart threshold go as a multipart upload; a failed\n"
    "multipart upload is aborted, so no partial object appears.",
};

static char *object_key(const struct s3dlio_uri *uri, const char *src)
{
    if (!s3dlio_uri_is_prefix(uri) )
        return strdup(uri->key);
    const char *base = strrchr(src, '/');
    base = base ? base + 1 : src;
    char *key = NULL;
    if (asprintf(&key, "%s%s", uri->key, base) < 0)
        return NULL;
    return key;
}

static enum s3dlio_rc put_file(struct s3dlio_backend *be, const char *src, const char *key,
                               uint64_t threshold, uint64_t part, uint64_t *size,
                               struct s3dlio_error *err)
{
    int fd = open(src, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return s3dlio_error_set(err, S3DLIO_E_IO, "put", src, "cannot open: %s", strerror(errno));
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        close(fd);
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "put", src, "not a regular file");
    }
    *size = (uint64_t)sb.st_size;
    enum s3dlio_rc rc = s3dlio_backend_put_from_fd(be, key, fd, *size, threshold, part, err);
    close(fd);
    return rc;
}

int cmd_put(int argc, char **argv, struct app *app)
{
    uint64_t part = 8u << 20, threshold = 16u << 20, size = 0;
    int npos = 0;
    const struct opt opts[] = {
        {"part-size", 0, OPT_SIZE, &part, "SIZE", "multipart part size (default 8MiB, min 5MiB)"},
        {"multipart-threshold", 0, OPT_SIZE, &threshold, "SIZE",
         "use multipart above this size (default 16MiB)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    int r = app_parse(app, "put", argc, argv, opts, &help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos != 2)
        return app_usage_error(app, "expected SRC and URI (see '%s put --help')", app->prog);
    if (part < (5u << 20))
        return app_usage_error(app, "--part-size must be at least 5MiB (the S3 minimum)");
    struct s3dlio_uri uri;
    struct s3dlio_backend *be = NULL;
    if ((r = app_open(app, argv[1], &uri, &be)))
        return r;
    struct s3dlio_error err = {0};
    enum s3dlio_rc rc = S3DLIO_OK;
    char *key = object_key(&uri, argv[0]);
    char full[2048];
    if (!key || !key[0])
        rc = s3dlio_error_set(&err, S3DLIO_E_USAGE, "put", argv[1], "URI names no object key");
    else
        rc = put_file(be, argv[0], key, threshold, part, &size, &err);
    if (!rc && !app->flags.quiet)
        fprintf(stderr, "%s: put %s -> %s (%" PRIu64 " bytes)\n", app->prog, argv[0],
                s3dlio_uri_join(&uri, key, full, sizeof(full)), size);
    free(key);
    s3dlio_backend_free(be);
    s3dlio_uri_release(&uri);
    return rc ? app_fail(app, &err) : EXIT_OK;
}
