/* SPDX-License-Identifier: Apache-2.0 */
/* Table-driven option parsing and help (see options.h). */
#include "options.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "util/units.h"

/* An error line, or nothing when errs is NULL (ranks other than 0 under mpirun). */
static void say(FILE *errs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(FILE *errs, const char *fmt, ...)
{
    va_list ap;
    if (!errs)
        return;
    va_start(ap, fmt);
    vfprintf(errs, fmt, ap);
    va_end(ap);
}

static const struct opt *find_long(const struct opt *t, const char *name, size_t n)
{
    for (; t && t->type != OPT_END; t++)
        if (strlen(t->name) == n && !strncmp(t->name, name, n))
            return t;
    return NULL;
}

static const struct opt *find_short(const struct opt *t, char c)
{
    for (; t && t->type != OPT_END; t++)
        if (t->short_name && t->short_name == c)
            return t;
    return NULL;
}

static bool takes_arg(const struct opt *o)
{
    return o->type != OPT_FLAG && o->type != OPT_COUNT;
}

static int store(FILE *errs, const char *prog, const char *cmd, const struct opt *o, const char *arg)
{
    uint64_t v = 0;
    switch (o->type) {
    case OPT_FLAG:
        *(bool *)o->dest = true;
        return 0;
    case OPT_COUNT:
        (*(int *)o->dest)++;
        return 0;
    case OPT_STRING:
        *(const char **)o->dest = arg;
        return 0;
    case OPT_INT:
        if (s3dlio_parse_u64(arg, &v) || v > INT32_MAX)
            break;
        *(int *)o->dest = (int)v;
        return 0;
    case OPT_SIZE:
        if (s3dlio_parse_size(arg, &v))
            break;
        *(uint64_t *)o->dest = v;
        return 0;
    case OPT_DURATION:
        if (s3dlio_parse_duration_ms(arg, &v))
            break;
        *(uint64_t *)o->dest = v;
        return 0;
    case OPT_END:
        break;
    }
    say(errs, "%s: %s: invalid value '%s' for --%s (expected %s)\n", prog, cmd, arg, o->name,
            o->argname ? o->argname : "a value");
    return -1;
}

static int parse_long(FILE *errs, const char *prog, const char *cmd, int argc, char **argv, int *i,
                      const struct opt *opts, const struct opt *common)
{
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t n = eq ? (size_t)(eq - name) : strlen(name);
    const struct opt *o = find_long(opts, name, n);
    if (!o)
        o = find_long(common, name, n);
    if (!o) {
        say(errs, "%s: %s: unknown option '--%.*s' (see '%s %s --help')\n", prog, cmd,
                (int)n, name, prog, cmd);
        return -1;
    }
    if (!takes_arg(o)) {
        if (eq) {
            say(errs, "%s: %s: option '--%s' takes no value\n", prog, cmd, o->name);
            return -1;
        }
        return store(errs, prog, cmd, o, NULL);
    }
    const char *arg = eq ? eq + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
    if (!arg) {
        say(errs, "%s: %s: option '--%s' needs a value (%s)\n", prog, cmd, o->name,
                o->argname ? o->argname : "value");
        return -1;
    }
    return store(errs, prog, cmd, o, arg);
}

static int parse_short(FILE *errs, const char *prog, const char *cmd, int argc, char **argv, int *i,
                       const struct opt *opts, const struct opt *common)
{
    for (const char *p = argv[*i] + 1; *p; p++) {
        const struct opt *o = find_short(opts, *p);
        if (!o)
            o = find_short(common, *p);
        if (!o) {
            say(errs, "%s: %s: unknown option '-%c' (see '%s %s --help')\n", prog, cmd, *p,
                    prog, cmd);
            return -1;
        }
        if (!takes_arg(o)) {
            if (store(errs, prog, cmd, o, NULL))
                return -1;
            continue;
        }
        const char *arg = p[1] ? p + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!arg) {
            say(errs, "%s: %s: option '-%c' needs a value\n", prog, cmd, *p);
            return -1;
        }
        return store(errs, prog, cmd, o, arg);
    }
    return 0;
}

int opts_parse(FILE *errs, const char *prog, const char *cmd, int argc, char **argv,
               const struct opt *opts, const struct opt *common, int *npos)
{
    int pos = 0;
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        int rc = 0;
        if (only_pos || a[0] != '-' || !a[1]) {
            argv[pos++] = a; /* "-" alone is stdin/stdout, a positional */
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = true;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return 1;
        rc = a[1] == '-' ? parse_long(errs, prog, cmd, argc, argv, &i, opts, common)
                         : parse_short(errs, prog, cmd, argc, argv, &i, opts, common);
        if (rc)
            return -1;
    }
    *npos = pos;
    return 0;
}

static void print_table(FILE *out, const struct opt *t)
{
    for (; t && t->type != OPT_END; t++) {
        char left[64];
        if (t->short_name)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", t->short_name, t->name,
                     takes_arg(t) ? " " : "", takes_arg(t) ? t->argname : "");
        else
            snprintf(left, sizeof(left), "    --%s%s%s", t->name, takes_arg(t) ? " " : "",
                     takes_arg(t) ? t->argname : "");
        fprintf(out, "  %-30s %s\n", left, t->help);
    }
}

void opts_usage(FILE *out, const char *prog, const char *cmd, const char *synopsis,
                const char *description, const struct opt *opts, const struct opt *common)
{
    fprintf(out, "usage: %s %s %s\n\n%s\n", prog, cmd, synopsis, description);
    if (opts && opts->type != OPT_END) {
        fprintf(out, "\noptions:\n");
        print_table(out, opts);
    }
    if (common && common->type != OPT_END) {
        fprintf(out, "\nconnection options (every command):\n");
        print_table(out, common);
    }
}

int opts_span(const struct opt *t, int argc, char **argv, int i)
{
    const char *a = argv[i];
    const struct opt *o = NULL;
    bool inline_value = false;
    if (a[0] != '-' || !a[1])
        return 0;
    if (a[1] == '-') {
        const char *eq = strchr(a + 2, '=');
        o = find_long(t, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
        inline_value = eq != NULL;
    } else {
        /* -vq, -vv: every letter a flag of t; a letter with a value takes the rest or the next */
        for (const char *p = a + 1; *p; p++) {
            if (!(o = find_short(t, *p)))
                return 0;
            if (takes_arg(o)) {
                inline_value = p[1] != '\0';
                break;
            }
        }
    }
    if (!o)
        return 0;
    if (!takes_arg(o) || inline_value)
        return 1;
    return i + 1 < argc ? 2 : -1;
}

void opts_concat(struct opt *out, size_t cap, const struct opt *a, const struct opt *b)
{
    size_t n = 0;
    for (const struct opt *t = a; t && t->type != OPT_END && n + 1 < cap; t++)
        out[n++] = *t;
    for (const struct opt *t = b; t && t->type != OPT_END && n + 1 < cap; t++)
        out[n++] = *t;
    out[n] = (struct opt){NULL, 0, OPT_END, NULL, NULL, NULL};
}
