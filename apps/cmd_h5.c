/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi h5 ls|get|verify: the file `stage --to h5:PATH` wrote, read in one process. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app.h"
#include "commands.h"
#include "s3dlio/h5.h"
#include "util/atomic_file.h"
#include "util/printable.h"

#define PIECE (4u << 20) /* bytes read and written at a time by get */

static const struct cmd_help help = {
    "ls [-l] PATH | get PATH KEY DEST | verify PATH",
    "Read the HDF5 file of `stage --to h5:PATH` (no MPI needed):\n"
    "  ls PATH       its keys in order, one per line (-l: size, CRC-32C, rank, offset, ETag, key)\n"
    "  get PATH KEY DEST\n"
    "                one object's bytes into DEST (written under a temporary name and renamed\n"
    "                when complete), or to standard output with DEST '-'\n"
    "  verify PATH   the index (sorted, within /data, no overlaps, sizes add up) and every\n"
    "                object's CRC-32C; exit 1 naming the first object that does not match\n"
    "Control characters in keys print as \\xNN and a backslash as \\\\, so one line is one key.",
};

static int open_file(struct app *app, const char *path, struct s3dlio_h5 **h)
{
    struct s3dlio_error err = { 0 };
    if (s3dlio_h5_open(path, h, &err))
        return app_fail(app, &err);
    return EXIT_OK;
}

static int h5_ls(struct app *app, const char *path, bool longer)
{
    struct s3dlio_h5 *h = NULL;
    int r = open_file(app, path, &h);
    if (r)
        return r;
    struct s3dlio_error err = { 0 };
    struct s3dlio_h5_entry e;
    enum s3dlio_rc rc = S3DLIO_OK;
    char key[4 * 4096], etag[4 * 256];
    for (uint64_t i = 0; !rc && i < s3dlio_h5_count(h); i++) {
        if ((rc = s3dlio_h5_entry(h, i, &e, &err)))
            break;
        s3dlio_printable(e.key, key, sizeof(key), true);
        if (longer)
            printf("%12" PRIu64 "  %08" PRIx32 "  %4" PRId32 "  %12" PRIu64 "  %s  %s\n", e.size,
                   e.crc32c, e.rank, e.offset,
                   e.etag[0] ? s3dlio_printable(e.etag, etag, sizeof(etag), true) : "-", key);
        else
            printf("%s\n", key);
    }
    s3dlio_h5_close(h);
    return rc ? app_fail(app, &err) : EXIT_OK;
}

static enum s3dlio_rc write_all(int fd, const unsigned char *p, size_t n, const char *dest,
                                struct s3dlio_error *err)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return s3dlio_error_sys(err, "h5 get", dest, errno, "write");
        p += w;
        n -= (size_t)w;
    }
    return S3DLIO_OK;
}

/* The object's bytes to fd, PIECE at a time. */
static enum s3dlio_rc copy_out(struct s3dlio_h5 *h, const struct s3dlio_h5_entry *e, int fd,
                               const char *dest, struct s3dlio_error *err)
{
    unsigned char *buf = malloc(PIECE);
    enum s3dlio_rc rc = buf ? S3DLIO_OK : s3dlio_error_sys(err, "h5 get", dest, ENOMEM, "buffer");
    for (uint64_t at = 0; !rc && at < e->size;) {
        size_t n = e->size - at < PIECE ? (size_t)(e->size - at) : PIECE;
        if (!(rc = s3dlio_h5_read(h, e, at, buf, n, err)))
            rc = write_all(fd, buf, n, dest, err);
        at += n;
    }
    free(buf);
    return rc;
}

static int h5_get(struct app *app, const char *path, const char *key, const char *dest)
{
    struct s3dlio_h5 *h = NULL;
    int r = open_file(app, path, &h);
    if (r)
        return r;
    struct s3dlio_error err = { 0 };
    struct s3dlio_h5_entry e;
    struct s3dlio_atomic_file f = S3DLIO_ATOMIC_FILE_INIT;
    bool out = !strcmp(dest, "-");
    enum s3dlio_rc rc = s3dlio_h5_find(h, key, &e, &err);
    /* the entry's strings live in the reader: the key for messages is the caller's */
    if (!rc && !out)
        rc = s3dlio_atomic_open_or_device(&f, dest, 0, "h5 get", &err);
    if (!rc)
        rc = copy_out(h, &e, out ? STDOUT_FILENO : f.fd, dest, &err);
    if (!rc && !out)
        rc = s3dlio_atomic_commit(&f, false, "h5 get", &err);
    s3dlio_atomic_discard(&f);
    s3dlio_h5_close(h);
    return rc ? app_fail(app, &err) : EXIT_OK;
}

static int h5_verify(struct app *app, const char *path)
{
    struct s3dlio_h5 *h = NULL;
    int r = open_file(app, path, &h);
    if (r)
        return r;
    struct s3dlio_error err = { 0 };
    struct s3dlio_h5_verify_result res;
    enum s3dlio_rc rc = s3dlio_h5_verify(h, &res, &err);
    if (!rc && !app->flags.quiet)
        printf("%s: %" PRIu64 " objects, %" PRIu64 " bytes, every CRC-32C matches\n", path,
               res.objects, res.bytes);
    s3dlio_h5_close(h);
    return rc ? app_fail(app, &err) : EXIT_OK;
}

int cmd_h5(int argc, char **argv, struct app *app)
{
    bool longer = false;
    int npos = 0;
    const struct opt opts[] = {
        { "long", 'l', OPT_FLAG, &longer, NULL, "ls: size, CRC-32C, rank, offset and ETag too" },
        { NULL, 0, OPT_END, NULL, NULL, NULL },
    };
    int r = app_parse(app, "h5", argc, argv, opts, &help, &npos);
    if (r)
        return app_parse_exit(r);
    const char *what = npos ? argv[0] : "";
    if (!strcmp(what, "ls") && npos == 2)
        return h5_ls(app, argv[1], longer);
    if (longer)
        return app_usage_error(app, "-l is an option of 'h5 ls' only");
    if (!strcmp(what, "get") && npos == 4)
        return h5_get(app, argv[1], argv[2], argv[3]);
    if (!strcmp(what, "verify") && npos == 2)
        return h5_verify(app, argv[1]);
    return app_usage_error(app,
                           "expected ls PATH, get PATH KEY DEST or verify PATH (see '%s h5 "
                           "--help')",
                           app->prog);
}
