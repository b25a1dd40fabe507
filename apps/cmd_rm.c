/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi rm: delete one object, or every object under a prefix in batches. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "app.h"
#include "commands.h"

static const struct cmd_help help = {
    "[--recursive] URI",
    "Delete the object URI. With --recursive, delete every object under the prefix URI,\n"
    "listing a page and deleting it in one batch request (DeleteObjects, up to 1000 keys)\n"
    "at a time. Per-key failures are reported and make the exit code 1.",
};

static enum s3dlio_rc rm_one(struct s3dlio_backend *be, const char *key, struct s3dlio_error *err)
{
    struct s3dlio_object obj = {0};
    /* S3 deletes of missing keys succeed silently; a user naming one wants to hear it */
    enum s3dlio_rc rc = s3dlio_backend_stat(be, key, &obj, err);
    free(obj.key);
    if (!rc)
        rc = s3dlio_backend_remove(be, key, err);
    return rc;
}

static enum s3dlio_rc rm_prefix(struct s3dlio_backend *be, const char *prefix, uint64_t *deleted,
                                size_t *failed, struct s3dlio_error *err)
{
    struct s3dlio_list_page page = {0};
    enum s3dlio_rc rc;
    *deleted = 0;
    *failed = 0;
    /* each page is deleted before the next is listed: memory stays one page */
    for (char *token = NULL;;) {
        struct s3dlio_list_req req = {.prefix = prefix, .max_keys = 1000, .continuation = token};
        rc = s3dlio_backend_list(be, &req, &page, err);
        free(token);
        token = NULL;
        if (rc)
            break;
        const char **keys = calloc(page.list.n + 1, sizeof(*keys));
        for (size_t i = 0; keys && i < page.list.n; i++)
            keys[i] = page.list.items[i].key;
        size_t nf = 0;
        struct s3dlio_error berr = {0};
        if (page.list.n)
            rc = s3dlio_backend_remove_many(be, keys, page.list.n, &nf, &berr);
        free(keys);
        *failed += nf;
        *deleted += page.list.n - nf;
        if (rc && (!err->rc || !nf))
            *err = berr;
        if (rc && !nf)
            break; /* the batch request itself failed: stop */
        token = page.truncated ? page.next_token : NULL;
        page.next_token = page.truncated ? NULL : page.next_token;
        s3dlio_list_page_release(&page);
        if (!token)
            break;
    }
    s3dlio_list_page_release(&page);
    return rc ? rc : (*failed ? err->rc : S3DLIO_OK);
}

int cmd_rm(int argc, char **argv, struct app *app)
{
    bool recursive = false;
    int npos = 0;
    const struct opt opts[] = {
        {"recursive", 'r', OPT_FLAG, &recursive, NULL, "delete every object under the prefix"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    int r = app_parse(app, "rm", argc, argv, opts, &help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos != 1)
        return app_usage_error(app, "expected one URI (see '%s rm --help')", app->prog);
    struct s3dlio_uri uri;
    struct s3dlio_backend *be = NULL;
    if ((r = app_open(app, argv[0], &uri, &be)))
        return r;
    struct s3dlio_error err = {0};
    enum s3dlio_rc rc;
    uint64_t deleted = 0;
    size_t failed = 0;
    if (recursive) {
        rc = rm_prefix(be, uri.key, &deleted, &failed, &err);
    } else if (!uri.key[0]) {
        rc = s3dlio_error_set(&err, S3DLIO_E_USAGE, "rm", argv[0],
                              "URI names no object key (use --recursive for a prefix)");
    } else {
        rc = rm_one(be, uri.key, &err);
        deleted = rc ? 0 : 1;
    }
    if (!app->flags.quiet && (deleted || failed || !rc))
        fprintf(stderr, "%s: deleted %" PRIu64 " object(s)%s under %s\n", app->prog, deleted,
                failed ? ", some failed" : "", argv[0]);
    if (failed)
        fprintf(stderr, "%s: %zu object(s) could not be deleted; first failure:\n", app->prog, failed);
    s3dlio_backend_free(be);
    s3dlio_uri_release(&uri);
    return rc ? app_fail(app, &err) : EXIT_OK;
}
