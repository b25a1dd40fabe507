/* SPDX-License-Identifier: Apache-2.0 */
/* Transfer-engine options of the recursive commands, and their summary and failure output. */
#ifndef S3DLIO_APPS_XFER_CLI_H
#define S3DLIO_APPS_XFER_CLI_H

#include "app.h"
#include "s3dlio/plan.h"
#include "s3dlio/xfer.h"

struct xfer_cli {
    struct s3dlio_xfer_opts o;
    uint64_t range_threshold, part_size, multipart_threshold, stall_ms, ramp_ms;
    int max_connections, retries, max_request_rate;
    const char *report; /* under mpirun: where the JSON report goes */
};

#define XFER_CLI_NOPTS 14

/* Defaults, and the option entries (appended by commands to their own tables). */
void xfer_cli_init(struct xfer_cli *c, struct opt out[XFER_CLI_NOPTS]);
/* After parsing: copy values into c->o and the connection config. */
int xfer_cli_apply(struct xfer_cli *c, struct app *app);
/*
 * Print the one-line summary ("get: N objects, B bytes in S s, X MB/s, R retries") unless
 * quiet, and every failed object's error (at most 20, then a count). Returns the exit code.
 */
int xfer_cli_report(const struct app *app, const char *verb, const struct s3dlio_plan *plan,
                    const struct s3dlio_xfer_stats *st, enum s3dlio_rc rc);

#endif
