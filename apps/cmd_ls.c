/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi ls: list objects, one per line, size then full URI. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "app.h"
#include "commands.h"
#include "util/printable.h"

static const struct cmd_help help = {
    "[--recursive] URI",
    "List the objects under URI (a prefix or a key), one per line: size in bytes, then the full\n"
    "URI. Without --recursive, deeper levels show as 'DIR' lines ending in '/'. Pages are\n"
    "printed as they arrive, so a listing of any length runs in bounded memory. Control\n"
    "characters in keys print as \\xNN and a backslash as \\\\, so one line is one key.",
};

/* The full URI of key, control characters and backslashes escaped (one line per key). */
static const char *shown(const struct s3dlio_uri *uri, const char *key, char *out, size_t outlen)
{
    char full[2048];
    return s3dlio_printable(s3dlio_uri_join(uri, key, full, sizeof(full)), out, outlen, true);
}

static void print_page(const struct s3dlio_uri *uri, const struct s3dlio_list_page *page)
{
    char line[4 * 2048];
    for (size_t i = 0; i < page->list.nprefixes; i++)
        printf("%12s  %s\n", "DIR", shown(uri, page->list.prefixes[i], line, sizeof(line)));
    for (size_t i = 0; i < page->list.n; i++)
        printf("%12" PRIu64 "  %s\n", page->list.items[i].size,
               shown(uri, page->list.items[i].key, line, sizeof(line)));
}

int cmd_ls(int argc, char **argv, struct app *app)
{
    bool recursive = false;
    int page_size = 1000, npos = 0;
    const struct opt opts[] = {
        {"recursive", 'r', OPT_FLAG, &recursive, NULL, "list every object below the prefix"},
        {"page-size", 0, OPT_INT, &page_size, "N", "keys per list request, 1-1000 (default 1000)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    int r = app_parse(app, "ls", argc, argv, opts, &help, &npos);
    if (r)
        return app_parse_exit(r);
    if (npos != 1)
        return app_usage_error(app, "expected one URI (see '%s ls --help')", app->prog);
    if (page_size < 1 || page_size > 1000)
        return app_usage_error(app, "--page-size must be between 1 and 1000");
    struct s3dlio_uri uri;
    struct s3dlio_backend *be = NULL;
    if ((r = app_open(app, argv[0], &uri, &be)))
        return r;
    struct s3dlio_error err = {0};
    struct s3dlio_list_page page = {0};
    struct s3dlio_list_pager pager;
    enum s3dlio_rc rc;
    bool more = false;
    s3dlio_list_pager_init(&pager, uri.key, recursive ? NULL : "/", page_size);
    while (!(rc = s3dlio_list_pager_next(be, &pager, &page, &more, &err)) && more)
        print_page(&uri, &page);
    s3dlio_list_page_release(&page);
    s3dlio_list_pager_release(&pager);
    if (fflush(stdout) && !rc)
        rc = s3dlio_error_set(&err, S3DLIO_E_IO, "ls", argv[0], "writing the listing failed");
    s3dlio_backend_free(be);
    s3dlio_uri_release(&uri);
    return rc ? app_fail(app, &err) : EXIT_OK;
}
