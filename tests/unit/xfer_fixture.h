/* SPDX-License-Identifier: Apache-2.0 */
/* What the engine's unit tests share: the file:// backend under a temporary root, quick options. */
#ifndef S3DLIO_TESTS_XFER_FIXTURE_H
#define S3DLIO_TESTS_XFER_FIXTURE_H

#include <stdio.h>
#include "s3dlio/s3dlio.h"
#include "s3dlio/xfer.h"

/* The file:// backend rooted at root (a check_tmpdir directory). */
static inline struct s3dlio_backend *xfer_fixture_backend(const char *root)
{
    struct s3dlio_uri u;
    struct s3dlio_backend *be = NULL;
    struct s3dlio_error e = {0};
    char text[300];
    snprintf(text, sizeof(text), "file://%s/", root);
    if (s3dlio_uri_parse(&u, text, &e) || s3dlio_backend_new(&u, NULL, &be, &e))
        fprintf(stderr, "cannot open file backend: %s\n", e.message);
    s3dlio_uri_release(&u);
    return be;
}

/* Defaults with 1 MiB ranges and parts, millisecond backoff, no ramp: quick, many requests. */
static inline void xfer_fixture_opts(struct s3dlio_xfer_opts *o)
{
    s3dlio_xfer_opts_default(o);
    o->range_threshold = 1u << 20;
    o->part_size = 1u << 20; /* several ranged parts per object */
    o->retry_base_ms = 1;
    o->retry_cap_ms = 4;
    o->ramp_ms = 0;
    o->get_concurrency = 8;
}

#endif
