/* SPDX-License-Identifier: Apache-2.0 */
/* Control characters escaped for printing (see printable.h). */
#include "util/printable.h"

#include <stdio.h>

char *s3dlio_printable(const char *s, char *out, size_t outlen, bool escape_backslash)
{
    size_t n = 0;
    if (!outlen)
        return out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[5];
        size_t len;
        if (*p < 0x20 || *p == 0x7f)
            len = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p);
        else if (*p == '\\' && escape_backslash)
            len = (size_t)snprintf(esc, sizeof(esc), "\\\\");
        else
            esc[0] = (char)*p, len = 1;
        if (n + len >= outlen)
            break; /* a cut never splits an escape */
        for (size_t i = 0; i < len; i++)
            out[n++] = esc[i];
    }
    out[n] = '\0';
    return out;
}
