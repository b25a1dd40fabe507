/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command-line options as a table, so --help is generated from the same entries that
 * parse (they cannot drift). Sizes take 8MiB/8M/8388608, durations 500ms/30s.
 */
#ifndef S3DLIO_APPS_OPTIONS_H
#define S3DLIO_APPS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_type {
    OPT_END = 0,
    OPT_FLAG,     /* bool */
    OPT_COUNT,    /* int, incremented per use (-v -v) */
    OPT_INT,      /* int */
    OPT_SIZE,     /* uint64_t bytes */
    OPT_DURATION, /* uint64_t milliseconds */
    OPT_STRING,   /* const char * (points into argv) */
};

struct opt {
    const char *name;    /* long name without "--" */
    char short_name;     /* 0 for none */
    enum opt_type type;
    void *dest;
    const char *argname; /* shown in help, e.g. "SIZE" */
    const char *help;
};

/*
 * Parse argv[1..] against opts (a table ended by OPT_END) and then the shared table
 * `common` (may be NULL). Non-option arguments are moved to the front of argv in order;
 * their count is stored in *npos. "--" ends options. On error prints one line to stderr
 * (prog: CMD: ...) to errs (NULL: nowhere) and returns -1; "--help" returns 1.
 */
int opts_parse(FILE *errs, const char *prog, const char *cmd, int argc, char **argv,
               const struct opt *opts, const struct opt *common, int *npos);

/*
 * How many arguments the option at argv[i] takes up if table t has it (1, or 2 with its
 * value as the next argument), 0 if t does not know it, -1 if its value is missing. For options given before the
 * command, which main moves behind it.
 */
int opts_span(const struct opt *t, int argc, char **argv, int i);

/* Copy table a then table b (each ended by OPT_END) into out, which holds cap entries. */
void opts_concat(struct opt *out, size_t cap, const struct opt *a, const struct opt *b);

/* Print "usage" and the option table(s). */
void opts_usage(FILE *out, const char *prog, const char *cmd, const char *synopsis,
                const char *description, const struct opt *opts, const struct opt *common);

#endif
