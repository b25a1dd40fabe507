/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the renderer tests share: an SVG captured in memory, checked well-formed by xmllint
 * (skipped with a message when xmllint is not on PATH), and small text searches over it.
 */
#ifndef S3DLIO_TEST_RENDER_CHECK_H
#define S3DLIO_TEST_RENDER_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A FILE writing to memory; close it with svg_take to get the text. */
struct svg_capture {
    char *text;
    size_t len;
    FILE *f;
};

static inline FILE *svg_begin(struct svg_capture *c)
{
    c->text = NULL, c->len = 0;
    c->f = open_memstream(&c->text, &c->len);
    return c->f;
}

/* The captured text (caller frees). */
static inline char *svg_take(struct svg_capture *c)
{
    fclose(c->f);
    return c->text;
}

/* Occurrences of needle in hay (not overlapping). */
static inline size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += len)
        n++;
    return n;
}

static inline bool have_xmllint(void)
{
    static int have = -1;
    if (have < 0) {
        have = system("command -v xmllint >/dev/null 2>&1") == 0;
        if (!have)
            printf("xmllint not on PATH: skipping the well-formedness checks\n");
    }
    return have;
}

/* svg parses as XML (xmllint --noout); true when xmllint is missing (said once). */
static inline bool xml_wellformed(const char *svg, const char *tag)
{
    if (!have_xmllint())
        return true;
    char dir[512], path[600], cmd[700];
    if (!check_tmpdir(dir, sizeof(dir), tag))
        return false;
    snprintf(path, sizeof(path), "%s/out.svg", dir);
    FILE *f = fopen(path, "w");
    bool ok = f && fputs(svg, f) >= 0;
    if (f)
        ok = fclose(f) == 0 && ok;
    snprintf(cmd, sizeof(cmd), "xmllint --noout '%s'", path);
    ok = ok && system(cmd) == 0;
    /* keep a failing file for a look: its path is in the message */
    if (!ok)
        fprintf(stderr, "[%s] not well-formed: %s\n", tag, path);
    else
        check_rmtree(dir);
    return ok;
}

/* n with thousands separators, written here independently of the renderer's own. */
static inline const char *commas(unsigned long long n, char *buf, size_t len)
{
    char d[32];
    int nd = snprintf(d, sizeof(d), "%llu", n), o = 0;
    for (int i = 0; i < nd && (size_t)o + 2 < len; i++) {
        if (i && (nd - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = d[i];
    }
    buf[o] = '\0';
    return buf;
}

/* A FILE whose writes fail (ENOSPC), for the S3DLIO_E_IO paths; NULL where there is none. */
static inline FILE *full_device(void)
{
    return fopen("/dev/full", "w");
}

#endif
