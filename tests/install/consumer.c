/* SPDX-License-Identifier: Apache-2.0 */
/* Uses the installed public API only: parse a URI and list a file:// directory. */
#include <stdio.h>
#include <string.h>
#include <s3dlio/s3dlio.h>

int main(int argc, char **argv)
{
    struct s3dlio_uri uri;
    struct s3dlio_error err = {0};
    struct s3dlio_backend *be = NULL;
    struct s3dlio_objlist all = {0};
    if (argc != 2 || s3dlio_global_init(&err) || s3dlio_uri_parse(&uri, argv[1], &err) ||
        s3dlio_backend_new(&uri, NULL, &be, &err) ||
        s3dlio_backend_list_all(be, uri.key, NULL, 0, &all, &err)) {
        fprintf(stderr, "consumer: %s\n", err.message);
        return 1;
    }
    printf("s3dlio %s: %zu objects\n", s3dlio_version(), all.n);
    s3dlio_objlist_release(&all);
    s3dlio_backend_free(be);
    s3dlio_uri_release(&uri);
    s3dlio_global_cleanup();
    return 0;
}
