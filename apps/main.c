/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi: the command table and dispatch. */
#include <stdio.h>
#include <string.h>
#include "app.h"
#include "commands.h"

struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv, struct app *app);
    const char *summary;
};

static const struct cmd commands[] = {
    {"ls", cmd_ls, "list objects under a prefix"},
    {"stat", cmd_stat, "show one object's size, ETag and time"},
    {"get", cmd_get, "download one object to a file or stdout"},
    {"put", cmd_put, "upload one file"},
    {"rm", cmd_rm, "delete an object, or everything under a prefix"},
    {"mb", cmd_mb, "make a bucket (or a directory for file://)"},
    {"rb", cmd_rb, "remove an empty bucket (or directory)"},
};

static void usage(FILE *out, const char *prog)
{
    fprintf(out, "usage: %s [--version] [--help] <command> [options] [args]\n\n", prog);
    fprintf(out, "Move datasets between S3-compatible object storage and local storage.\n"
                 "URIs: s3://bucket/key-or-prefix, file:///absolute/path\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nSee '%s <command> --help' for a command's options.\n", prog);
}

int main(int argc, char **argv)
{
    const char *prog = "s3dlio-mpi";
    if (argc < 2) {
        usage(stderr, prog);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout, prog);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("%s %s\n", prog, s3dlio_version());
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name))
            continue;
        struct app app;
        struct s3dlio_error err = {0};
        app_init(&app, prog);
        app.cmd = commands[i].name;
        if (s3dlio_global_init(&err))
            return app_fail(&app, &err);
        int rc = commands[i].fn(argc - 1, argv + 1, &app);
        app_release(&app);
        s3dlio_global_cleanup();
        return rc;
    }
    fprintf(stderr, "%s: '%s' is not a command (see '%s --help')\n", prog, argv[1], prog);
    return EXIT_USAGE;
}
