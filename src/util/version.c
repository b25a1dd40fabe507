/* SPDX-License-Identifier: Apache-2.0 */
#include "s3dlio/s3dlio.h"

const char *s3dlio_version(void)
{
    return S3DLIO_VERSION_STRING;
}
