/* SPDX-License-Identifier: Apache-2.0 */
/* The subcommands of s3dlio-mpi, one file each (apps/cmd_<name>.c). */
#ifndef S3DLIO_APPS_COMMANDS_H
#define S3DLIO_APPS_COMMANDS_H

struct app;

int cmd_ls(int argc, char **argv, struct app *app);
int cmd_stat(int argc, char **argv, struct app *app);
int cmd_get(int argc, char **argv, struct app *app);
int cmd_put(int argc, char **argv, struct app *app);
int cmd_rm(int argc, char **argv, struct app *app);
int cmd_mb(int argc, char **argv, struct app *app);
int cmd_rb(int argc, char **argv, struct app *app);
int cmd_stage(int argc, char **argv, struct app *app);
int cmd_sync(int argc, char **argv, struct app *app);
int cmd_h5(int argc, char **argv, struct app *app);
int cmd_checkpoint(int argc, char **argv, struct app *app);
int cmd_bench(int argc, char **argv, struct app *app);
/* bench sync (apps/cmd_bench_sync.c): every rank takes part */
int bench_sync_main(int argc, char **argv, struct app *app);

struct s3dlio_stage_opts;
/* Run a job over MPI_COMM_WORLD through the coordination layer and print its report. */
int run_distributed(struct app *app, struct s3dlio_stage_opts *o);

#endif
