/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The string arena of an object list (struct s3dlio_strarena in s3dlio/backend.h): strings
 * packed into blocks that never move, freed all at once. A row then costs its 24 bytes plus
 * its strings, with no malloc header and rounding per key.
 */
#ifndef S3DLIO_BACKEND_STRARENA_H
#define S3DLIO_BACKEND_STRARENA_H

#include <stdbool.h>
#include <stddef.h>
#include "s3dlio/backend.h"

/* Usual block size; a string of more than a quarter of it gets a block of its own. */
#define S3DLIO_STRARENA_BLOCK (64u * 1024u)

/* Copy s[0..n) and a NUL into the arena; valid until the arena is released. */
const char *s3dlio_strarena_add(struct s3dlio_strarena *a, const char *s, size_t n);
/* Copy s[0..n), a NUL, t[0..m) and a NUL, together; returns where s went. */
const char *s3dlio_strarena_add2(struct s3dlio_strarena *a, const char *s, size_t n, const char *t,
                                 size_t m);
/*
 * Move every block of src to dst except src's fill block (the one new strings were going
 * to, maybe mostly empty), which is left in *partial for the caller to copy out of what it
 * still needs; src is left empty. When dst is empty, all of src moves and *partial is empty.
 */
void s3dlio_strarena_take(struct s3dlio_strarena *dst, struct s3dlio_strarena *src,
                          struct s3dlio_strarena *partial);
/* Whether p points into one of a's blocks. */
bool s3dlio_strarena_holds(const struct s3dlio_strarena *a, const char *p);
/* Bytes of the blocks (headers included): what the arena costs in memory. */
size_t s3dlio_strarena_bytes(const struct s3dlio_strarena *a);
/* Free every block; accepts a zeroed or released arena. */
void s3dlio_strarena_release(struct s3dlio_strarena *a);

#endif
