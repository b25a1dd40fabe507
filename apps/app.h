/* SPDX-License-Identifier: Apache-2.0 */
/* What every command shares: configuration, common options, messages and exit codes. */
#ifndef S3DLIO_APPS_APP_H
#define S3DLIO_APPS_APP_H

#include <stdbool.h>
#include "options.h"
#include "s3dlio/s3dlio.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* Values of the connection options given on the command line (NULL: not given). */
struct app_flags {
    const char *endpoint;
    const char *region;
    const char *profile;
    const char *addressing;
    const char *payload_signing;
    const char *ca_bundle;
    bool insecure;
    int verbose;
    bool quiet;
    /* retries and time limits of every request; UNSET: the configuration's */
    int retries; /* -1: unset */
    uint64_t retry_time_ms, retry_base_ms, retry_cap_ms, connect_timeout_ms, stall_ms;
};
#define APP_UNSET UINT64_MAX

struct app {
    const char *prog;
    bool mpi;     /* started under an MPI launcher: recursive commands spread over ranks */
    int rank;
    bool usage_silent; /* under mpirun, ranks other than 0: rank 0 prints usage errors and help */
    const char *cmd;
    struct app_flags flags;
    struct opt common[18]; /* the connection options table, filled by app_init */
    struct s3dlio_config cfg;
};

struct cmd_help {
    const char *synopsis;
    const char *description;
};

void app_init(struct app *app, const char *prog);
/*
 * Parse argv for cmd with its own table plus the common one; load config (files, .env,
 * environment, then the flags). Returns -1 after a usage error message (exit 2), 1 after
 * printing help (exit 0), 0 to go on with *npos positionals at argv[0..].
 */
int app_parse(struct app *app, const char *cmd, int argc, char **argv, const struct opt *opts,
              const struct cmd_help *help, int *npos);
/* Print "prog: <one-line error>" and return EXIT_FAILED (or EXIT_USAGE for usage errors). */
int app_fail(const struct app *app, const struct s3dlio_error *err);
/* The same for an error already formatted (s3dlio_error_format), e.g. kept by a job feed. */
int app_fail_text(const struct app *app, enum s3dlio_rc rc, const char *line);
/* Print "prog: cmd: msg" and return EXIT_USAGE. */
int app_usage_error(const struct app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A URI argument that does not parse is a usage error (said once under mpirun): EXIT_USAGE. */
int app_check_uri(const struct app *app, const char *text);
/* Parse a URI argument and open its backend. */
int app_open(struct app *app, const char *text, struct s3dlio_uri *uri, struct s3dlio_backend **be);
void app_release(struct app *app);



/* Under mpirun: rank 0 runs fn, every rank returns its exit code. */
int app_on_rank0(int (*fn)(int, char **, struct app *), int argc, char **argv, struct app *app);
/*
 * Commands with subcommands (checkpoint save, bench lifecycle): the index in argv of the
 * subcommand, skipping connection options given before it (main moved those given before the
 * command there); 0 if there is none. app_subcommand_first then puts it at argv[1] (the
 * options before it after it), so that argv + 1 parses as the subcommand's own command line.
 */
int app_find_subcommand(const struct app *app, int argc, char **argv);
void app_subcommand_first(char **argv, int at);

/* Exit code for a non-zero app_parse result: help 0, usage 2, config 1. */
static inline int app_parse_exit(int r)
{
    return r == 1 ? EXIT_OK : r == -2 ? EXIT_FAILED : EXIT_USAGE;
}
#endif
