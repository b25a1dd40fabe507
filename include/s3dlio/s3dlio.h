/* SPDX-License-Identifier: Apache-2.0 */
/* Umbrella header of the s3dlio library. */
#ifndef S3DLIO_H
#define S3DLIO_H

#include "s3dlio/backend.h"
#include "s3dlio/config.h"
#include "s3dlio/error.h"
#include "s3dlio/uri.h"

#define S3DLIO_VERSION_STRING "0.1.0"

/* Library version, e.g. "0.1.0". */
const char *s3dlio_version(void);

/* Process-wide setup (libcurl global init). Call once before any backend, from main. */
enum s3dlio_rc s3dlio_global_init(struct s3dlio_error *err);
void s3dlio_global_cleanup(void);

#endif
