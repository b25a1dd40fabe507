/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transfer engine's own cost per request, for s3dlio-bench-micro: small-object GETs
 * through s3dlio_xfer_run against a backend that answers at once from memory, so all the
 * CPU is the engine's (queues, the in-flight limit and its adaptive target, per-object
 * bookkeeping, the discard sink), plus SigV4 signing of each request when asked.
 */
#ifndef S3DLIO_BENCH_MICRO_ENGINE_H
#define S3DLIO_BENCH_MICRO_ENGINE_H

#include <stdbool.h>

/* GETs of 8 KiB objects run through the engine; returns the requests completed (0: the
 * engine failed). `sign`: the backend signs each request as the S3 backend would. */
double micro_engine_gets(bool sign);

#endif
