/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi rm: delete one object, or every object under a prefix in batches. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "app.h"
#include "commands.h"
#include "util/alloc.h"

static const struct cmd_help help = {
    "[--recursive] URI",
    "Delete the object URI. With --recursive, delete every object under the prefix URI,\n"
    "listing a page and deleting it in one batch request (DeleteObjects, up to 1000 keys)\n"
    "at a time. Per-key failures are reported and make the exit code 1.",
};

static enum s3dlio_rc rm_one(struct s3dlio_backend *be, const char *key, struct s3dlio_error *err)
{
    struct s3dlio_stat obj = {0};
    /* S3 deletes of missing keys succeed silently; a user naming one wants to hear it */
    enum s3dlio_rc rc = s3dlio_backend_stat(be, key, &obj, err);
    if (rc) /* the user asked to rm: the stat is ours, not theirs */
        snprintf(err->op, sizeof(err->op), "rm");
    if (!rc)
        rc = s3dlio_backend_remove(be, key, err);
    return rc;
}

/* Delete one page in one batch; *deleted counts only what is gone, err the first failure. */
static enum s3dlio_rc rm_page(struct s3dlio_backend *be, const struct s3dlio_objlist *list,
                              uint64_t *deleted, size_t *failed, struct s3dlio_error *err)
{
    const char **keys = s3dlio_xcalloc(list->n + 1, sizeof(*keys));
    struct s3dlio_error berr = {0};
    size_t nf = 0;
    for (size_t i = 0; i < list->n; i++)
        keys[i] = list->items[i].key;
    enum s3dlio_rc rc = list->n ? s3dlio_backend_remove_many(be, keys, list->n, &nf, &berr) : S3DLIO_OK;
    if (rc && !nf) /* the batch request itself failed: nothing of it was deleted */
        nf = list->n;
    *deleted += list->n - nf;
    *failed += nf;
    if (rc && !err->rc)
        *err = berr;
    free(keys);
    return rc;
}

static enum s3dlio_rc rm_prefix(struct s3dlio_backend *be, const char *prefix, uint64_t *deleted,
                                size_t *failed, struct s3dlio_error *err)
{
    struct s3dlio_list_page page = {0};
    struct s3dlio_list_pager pager;
    enum s3dlio_rc rc;
    bool more = false;
    *deleted = 0;
    *failed = 0;
    s3dlio_list_pager_init(&pager, prefix, NULL, 1000);
    /* each page is deleted before the next is listed: memory stays one page. A deleted page
     * moves the listing on; the continuation token carries the position either way. */
    while (!(rc = s3dlio_list_pager_next(be, &pager, &page, &more, err)) && more) {
        size_t before = *failed;
        rc = rm_page(be, &page.list, deleted, failed, err);
        if (rc && *failed - before == page.list.n)
            break; /* nothing of this page went: stop rather than fail page after page */
        rc = S3DLIO_OK;
    }
    s3dlio_list_page_release(&page);
    s3dlio_list_pager_release(&pager);
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
