/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi get: one object to a file or stdout. */
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
    "URI DEST",
    "Download the object URI to DEST: a file, a directory (the key's last component is\n"
    "used as the name), or '-' for stdout. A file is written under a temporary name and\n"
    "renamed when complete, so a failed download never leaves a partial DEST behind.",
};

/* DEST, or DEST/<basename of key> when DEST is a directory. */
static char *dest_path(const char *dest, const char *key)
{
    struct stat sb;
    char *out;
    if (stat(dest, &sb) || !S_ISDIR(sb.st_mode))
        return strdup(dest);
    const char *base = strrchr(key, '/');
    base = base ? base + 1 : key;
    if (asprintf(&out, "%s/%s", dest, base) < 0)
        return NULL;
    return out;
}

static enum s3dlio_rc get_to_file(struct s3dlio_backend *be, const char *key, const char *path,
                                  uint64_t *bytes, struct s3dlio_error *err)
{
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.s3dlio-tmp.%ld", path, (long)getpid()) < 0)
        return s3dlio_error_set(err, S3DLIO_E_INTERNAL, "get", path, "out of memory");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    enum s3dlio_rc rc = S3DLIO_OK;
    if (fd < 0)
        rc = s3dlio_error_set(err, S3DLIO_E_IO, "get", path, "cannot create: %s", strerror(errno));
    if (!rc)
        rc = s3dlio_backend_get_to_fd(be, key, fd, bytes, err);
    if (fd >= 0 && close(fd) && !rc)
        rc = s3dlio_error_set(err, S3DLIO_E_IO, "get", path, "close failed: %s", strerror(errno));
    if (!rc && rename(tmp, path))
        rc = s3dlio_error_set(err, S3DLIO_E_IO, "get", path, "rename failed: %s", strerror(errno));
    if (rc && fd >= 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

int cmd_get(int argc, char **argv, struct app *app)
{
    int npos = 0;
    const struct opt opts[] = {{NULL, 0, OPT_END, NULL, NULL, NULL}};
    int r = app_parse(app, "get", argc, argv, opts, &help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos != 2)
        return app_usage_error(app, "expected URI and DEST (see '%s get --help')", app->prog);
    struct s3dlio_uri uri;
    struct s3dlio_backend *be = NULL;
    if ((r = app_open(app, argv[0], &uri, &be)))
        return r;
    struct s3dlio_error err = {0};
    enum s3dlio_rc rc = S3DLIO_OK;
    uint64_t bytes = 0;
    char *path = NULL;
    if (s3dlio_uri_is_prefix(&uri))
        rc = s3dlio_error_set(&err, S3DLIO_E_USAGE, "get", argv[0],
                              "URI names a prefix, not an object");
    else if (!strcmp(argv[1], "-"))
        rc = s3dlio_backend_get_to_fd(be, uri.key, STDOUT_FILENO, &bytes, &err);
    else if (!(path = dest_path(argv[1], uri.key)))
        rc = s3dlio_error_set(&err, S3DLIO_E_INTERNAL, "get", argv[1], "out of memory");
    else
        rc = get_to_file(be, uri.key, path, &bytes, &err);
    if (!rc && !app->flags.quiet && strcmp(argv[1], "-"))
        fprintf(stderr, "%s: got %s -> %s (%" PRIu64 " bytes)\n", app->prog, argv[0], path, bytes);
    free(path);
    s3dlio_backend_free(be);
    s3dlio_uri_release(&uri);
    return rc ? app_fail(app, &err) : EXIT_OK;
}
