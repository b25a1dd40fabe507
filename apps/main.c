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

/*
 * Before MPI_Init the rank is known only from the launcher: every rank parses the same argv,
 * so what is said before the command (help, version, a bad option or command) is said by
 * rank 0 alone.
 */
static bool another_rank(void)
{
    const char *vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v)
            return strcmp(v, "0") != 0;
    }
    return false;
}

/*
 * A usage error found before the command: under mpirun, rank 0 says it and the others are
 * silent, but a silent rank that exits non-zero at once makes mpirun kill the job before rank 0
 * has written a word. MPI_Finalize waits for every rank (Open MPI fences in it), so rank 0's
 * message is out before anyone leaves, the same as for errors found inside a command.
 */
static int early_failure(int rc)
{
    if (launched_by_mpi()) {
        fflush(stderr);
        MPI_Init(NULL, NULL);
        MPI_Finalize();
    }
    return rc;
}

struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv, struct app *app);
    int flags;
    const char *summary;
};

static const struct cmd commands[] = {
    {"stage", cmd_stage, CMD_MPI, "stage a prefix onto the ranks of an MPI job, with a report"},
    {"sync", cmd_sync, CMD_MPI, "make DST hold what SRC holds (copies spread over the ranks)"},
    {"checkpoint", cmd_checkpoint, CMD_MPI, "save, restore, list or delete checkpoints at any world size"},
    {"ls", cmd_ls, 0, "list objects under a prefix"},
    {"stat", cmd_stat, 0, "show one object's size, ETag and time"},
    {"get", cmd_get, CMD_MPI_LAUNCHED, "download an object, or a prefix (--recursive)"},
    {"put", cmd_put, CMD_MPI_LAUNCHED, "upload a file, a directory (--recursive) or generated data"},
    {"rm", cmd_rm, 0, "delete an object, or everything under a prefix"},
    {"mb", cmd_mb, 0, "make a bucket (or a directory for file://)"},
    {"rb", cmd_rb, 0, "remove an empty bucket (or directory)"},
    {"h5", cmd_h5, 0, "list, read and verify a file of stage --to h5:"},
    {"bench", cmd_bench, CMD_MPI, "benchmarks and self-checks (profile-selftest)"},
};

static void usage(FILE *out, const char *prog)
{
    if (!out)
        return;
    fprintf(out, "usage: %s [--version] [--help] [connection options] <command> [options] [args]\n\n",
            prog);
    fprintf(out, "Move datasets between S3-compatible object storage and local storage.\n"
                 "URIs: s3://bucket/key-or-prefix, file:///absolute/path\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nConnection options (--endpoint-url, --region, --profile, -v, -q, time limits...)\n"
                 "go before or after the command. See '%s <command> --help' for all options.\n",
            prog);
}

static const struct cmd *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(name, commands[i].name))
            return &commands[i];
    return NULL;
}

/*
 * The command's arguments as it parses them: its name, then the connection options given
 * before it (awscli and git accept them there), then the rest. NULL-terminated; caller frees.
 */
static char **command_args(int argc, char **argv, int at)
{
    char **args = calloc((size_t)argc + 1, sizeof(*args));
    int n = 0;
    if (!args)
        return NULL;
    args[n++] = argv[at];
    for (int i = 1; i < at; i++)
        args[n++] = argv[i];
    for (int i = at + 1; i < argc; i++)
        args[n++] = argv[i];
    return args;
}

static int run_command(const struct cmd *c, struct app *app, int argc, char **argv, int at)
{
    struct s3dlio_error err = {0};
    int provided = 0;
    app->cmd = c->name;
    app->mpi = (c->flags & CMD_MPI) || ((c->flags & CMD_MPI_LAUNCHED) && launched_by_mpi());
    if (app->mpi) {
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
        MPI_Comm_rank(MPI_COMM_WORLD, &app->rank);
    }
    char **args = command_args(argc, argv, at);
    int rc;
    if (!args)
        rc = EXIT_FAILED;
    else if (s3dlio_global_init(&err))
        rc = app_fail(app, &err);
    else {
        rc = c->fn(argc - 1, args, app);
        s3dlio_global_cleanup();
    }
    app_release(app);
    free(args);
    if (app->mpi) {
        /* every rank reaches here with the agreed exit code: a clean finalize */
        fflush(stdout);
        MPI_Finalize();
    }
    return rc;
}

int main(int argc, char **argv)
{
    const char *prog = "s3dlio-mpi";
    struct app app;
    /* A fixed mmap threshold: glibc otherwise raises it after the first large free, and the
     * transfer buffers (curl's 1 MiB send buffers, part buffers) then come from the heap,
     * whose fragmentation lets peak RSS creep up with the length of the run. Mapped
     * separately, they go back to the kernel when freed and memory stays what the
     * configuration says. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    app_init(&app, prog);
    app.usage_silent = another_rank();
    FILE *out = app.usage_silent ? NULL : stdout, *errs = app.usage_silent ? NULL : stderr;
    int at = 1;
    for (; at < argc && argv[at][0] == '-'; at++) {
        const char *a = argv[at];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(out, prog);
            return EXIT_OK;
        }
        if (!strcmp(a, "--version")) {
            if (out)
                printf("%s %s\n", prog, s3dlio_version());
            return EXIT_OK;
        }
        int span = opts_span(app.common, argc, argv, at);
        if (span <= 0) {
            if (errs)
                fprintf(errs, "%s: %s '%s' before the command (see '%s --help')\n", prog,
                        span ? "no value for option" : "unknown option", a, prog);
            return early_failure(EXIT_USAGE);
        }
        at += span - 1;
    }
    if (at >= argc) {
        usage(errs, prog);
        return early_failure(EXIT_USAGE);
    }
    if (!strcmp(argv[at], "help")) {
        usage(out, prog);
        return EXIT_OK;
    }
    const struct cmd *c = find_command(argv[at]);
    if (!c) {
        if (errs)
            fprintf(errs, "%s: '%s' is not a command (see '%s --help')\n", prog, argv[at], prog);
        return early_failure(EXIT_USAGE);
    }
    return run_command(c, &app, argc, argv, at);
}
