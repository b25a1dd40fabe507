/* SPDX-License-Identifier: Apache-2.0 */
/* Between the sampler (prof.c) and the code that names its addresses (prof_symbols.c). */
#ifndef S3DLIO_PROF_INT_H
#define S3DLIO_PROF_INT_H

#include <stddef.h>
#include <stdint.h>
#include "s3dlio/profile.h"

#define S3DLIO_PROF_DEPTH 96   /* frames kept per sample, leaf first */

/* One distinct stack: pc[0] the leaf (the interrupted instruction), pc[depth-1] the root. */
typedef void s3dlio_prof_stack_fn(void *ud, enum s3dlio_phase phase, const uintptr_t *pc, int depth,
                                  uint64_t count);
/* Calls fn for every distinct stack held (under the sampler's lock: fn must not call back). */
void s3dlio_prof_each_stack(s3dlio_prof_stack_fn *fn, void *ud);

#endif
