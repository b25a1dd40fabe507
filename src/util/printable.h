/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keys as a terminal may show them. S3 keys can hold any byte, control characters included:
 * printed raw, an escape sequence in a key would recolour or rewrite the user's terminal.
 */
#ifndef S3DLIO_UTIL_PRINTABLE_H
#define S3DLIO_UTIL_PRINTABLE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Copy s into out (outlen bytes, always NUL-terminated, cut if it does not fit) with every
 * control byte (0x00-0x1f, 0x7f) written as \xNN; with escape_backslash, '\' becomes "\\"
 * too, so the printed form maps back to one key. Returns out.
 */
char *s3dlio_printable(const char *s, char *out, size_t outlen, bool escape_backslash);

#endif
