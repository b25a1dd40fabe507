/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the flamegraph and timeline writers share: XML text that stays well-formed whatever
 * bytes a frame name or rank label holds, tick steps, and the final write check.
 */
#include "stats/render.h"

#include <errno.h>
#include <math.h> /* isfinite: a macro, no libm */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#define REPLACEMENT 0xFFFDu

/*
 * The character at s[0..len) (len >= 1) into *cp; returns the bytes it takes. An invalid
 * sequence (stray continuation, overlong form, surrogate, past U+10FFFF, cut short) is one
 * byte of U+FFFD, so the bytes after it are decoded afresh, as browsers do.
 */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, v = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, v = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, v = c & 0x07, min = 0x10000;
    else
        n = 0, v = 0, min = 0;
    if (!n || n > len)
        goto bad;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            goto bad;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        goto bad;
    *cp = v;
    return n;
bad:
    *cp = REPLACEMENT;
    return 1;
}

/* Characters XML 1.0 does not allow in a document, even as references. */
static bool xml_forbidden(uint32_t cp)
{
    return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE || cp == 0xFFFF;
}

size_t s3dlio_svg_chars(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    uint32_t cp;
    for (size_t i = 0; i < len; n++)
        i += utf8_next(p + i, len - i, &cp);
    return n;
}

static void put_char(FILE *out, const unsigned char *p, size_t n, uint32_t cp)
{
    switch (cp) {
    case '&':
        fputs("&amp;", out);
        return;
    case '<':
        fputs("&lt;", out);
        return;
    case '>':
        fputs("&gt;", out);
        return;
    case '"':
        fputs("&quot;", out);
        return;
    case '\'':
        fputs("&#39;", out);
        return;
    case '\t':
    case '\n':
    case '\r':
        /* kept as references: a raw one in an attribute would be normalised to a space */
        fprintf(out, "&#%u;", (unsigned)cp);
        return;
    }
    if (cp == REPLACEMENT || xml_forbidden(cp))
        fputs("\xEF\xBF\xBD", out);
    else
        fwrite(p, 1, n, out);
}

void s3dlio_svg_escape(FILE *out, const char *s, size_t len, size_t max_chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t keep = SIZE_MAX;
    if (max_chars != SIZE_MAX && s3dlio_svg_chars(s, len) > max_chars)
        keep = max_chars > 2 ? max_chars - 2 : 0;
    uint32_t cp;
    for (size_t i = 0, n = 0; i < len && n < keep; n++) {
        size_t step = utf8_next(p + i, len - i, &cp);
        put_char(out, p + i, step, cp);
        i += step;
    }
    if (keep != SIZE_MAX)
        fputs("..", out);
}

void s3dlio_svg_escapes(FILE *out, const char *s)
{
    if (s)
        s3dlio_svg_escape(out, s, strlen(s), SIZE_MAX);
}

void s3dlio_svg_escapef(FILE *out, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    s3dlio_svg_escape(out, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, SIZE_MAX);
}

char *s3dlio_svg_thousands(uint64_t n, char *buf, size_t len)
{
    char digits[24];
    int nd = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
    size_t o = 0;
    for (int i = 0; i < nd && o + 1 < len; i++) {
        if (i && (nd - i) % 3 == 0 && o + 2 < len)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/*
 * The scale helpers below use loops, not pow/log10/ceil: the core library links no libm (the
 * tools that link s3dlio_nompi would each have to add it).
 */
double s3dlio_svg_nice_step(double span, int ticks)
{
    if (!(span > 0) || !isfinite(span) || ticks < 1)
        return 1;
    double raw = span / ticks, mag = 1;
    while (mag * 10 <= raw)
        mag *= 10;
    while (mag > raw)
        mag /= 10;
    double r = raw / mag;
    /* the first of 1, 2, 5, 10 at least as big as the raw step: never more than `ticks` */
    double m = r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10;
    /* a span near the smallest doubles can leave mag 0: a zero step would never reach span */
    return m * mag > 0 && isfinite(m * mag) ? m * mag : span;
}

int s3dlio_svg_step_decimals(double step)
{
    int d = 0;
    /* the tolerance absorbs 0.1 * 10 landing a hair under 1 */
    for (double s = step; s > 0 && s < 1 - 1e-9 && d < 9; s *= 10)
        d++;
    return d;
}

enum s3dlio_rc s3dlio_svg_finish(FILE *out, const char *op, struct s3dlio_error *err)
{
    errno = 0;
    if (fflush(out) == 0 && !ferror(out))
        return S3DLIO_OK;
    int e = errno ? errno : EIO;
    return s3dlio_error_sys(err, op, NULL, e, "write");
}

void s3dlio_svg_chart_open(FILE *out, int width, int height, const char *own_css)
{
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
            "<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "xmlns=\"http://www.w3.org/2000/svg\">\n"
            "<style type=\"text/css\"><![CDATA[\n"
            "text { font-family: Verdana, \"DejaVu Sans\", \"Bitstream Vera Sans\", sans-serif;"
            " font-size: 12px; fill: #222; }\n"
            "#title { text-anchor: middle; font-size: 17px; font-weight: bold; }\n"
            "#subtitle, #empty { text-anchor: middle; fill: #444; }\n"
            "#empty { font-size: 15px; }\n"
            ".grid { stroke: #e3e3e3; stroke-width: 1; } .frame { stroke: #888; fill: none; }\n"
            "%s"
            "]]></style>\n"
            "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
            width, height, width, height, own_css);
}
