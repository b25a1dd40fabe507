/* SPDX-License-Identifier: Apache-2.0 */
/* s3dlio-mpi: the command table and dispatch. */
#include <malloc.h>
#include <mpi.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "app.h"
#include "commands.h"

#define CMD_MPI 1      /* main() initialises MPI first (funneled: MPI from the main thread) */
#define CMD_MPI_LAUNCHED 2 /* ... only when started by mpirun/srun (recursive get and put) */

/* Open MPI's mpirun, PMIx launchers (srun --mpi=pmix) and PMI-1/2 set one of these. */
static bool launched_by_mpi(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv, struct app *app);
    int flags;
    const char *summary;
};

static const struct cmd commands[] = {
    {"stage", cmd_stage, CMD_MPI, "stage a prefix onto the ranks of an MPI job, with a report"},
    {"ls", cmd_ls, 0, "list objects under a prefix"},
    {"stat", cmd_stat, 0, "show one object's size, ETag and time"},
    {"get", cmd_get, CMD_MPI_LAUNCHED, "download an object, or a prefix (--recursive)"},
    {"put", cmd_put, CMD_MPI_LAUNCHED, "upload a file, a directory (--recursive) or generated data"},
    {"rm", cmd_rm, 0, "delete an object, or everything under a prefix"},
    {"mb", cmd_mb, 0, "make a bucket (or a directory for file://)"},
    {"rb", cmd_rb, 0, "remove an empty bucket (or directory)"},
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
    /* A fixed mmap threshold: glibc otherwise raises it after the first large free, and the
     * transfer buffers (curl's 1 MiB send buffers, part buffers) then come from the heap,
     * whose fragmentation lets peak RSS creep up with the length of the run. Mapped
     * separately, they go back to the kernel when freed and memory stays what the
     * configuration says. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
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
        int provided = 0;
        app.mpi = (commands[i].flags & CMD_MPI) ||
                  ((commands[i].flags & CMD_MPI_LAUNCHED) && launched_by_mpi());
        if (app.mpi) {
            MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
            MPI_Comm_rank(MPI_COMM_WORLD, &app.rank);
        }
        if (s3dlio_global_init(&err))
            return app_fail(&app, &err);
        int rc = commands[i].fn(argc - 1, argv + 1, &app);
        app_release(&app);
        s3dlio_global_cleanup();
        if (app.mpi) {
            /* every rank reaches here with the agreed exit code: a clean finalize */
            fflush(stdout);
            MPI_Finalize();
        }
        return rc;
    }
    fprintf(stderr, "%s: '%s' is not a command (see '%s --help')\n", prog, argv[1], prog);
    return EXIT_USAGE;
}
