/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one way s3dlio writes a destination file: a temporary file beside the final name,
 * created exclusively, renamed over the name only when complete, removed on every failure.
 * Paths below a destination root are walked without following symbolic links, so no key can
 * make us write outside the directory the user named.
 */
#ifndef S3DLIO_UTIL_ATOMIC_FILE_H
#define S3DLIO_UTIL_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "s3dlio/error.h"

/* Infix of temporary names: ".<name, cut>.s3dlio-tmp.<pid>.<counter>". */
#define S3DLIO_TMP_TAG ".s3dlio-tmp."
/* Whether a directory entry is one of our temporary files (a write in progress, not data). */
static inline bool s3dlio_is_tmp_name(const char *name)
{
    return name[0] == '.' && strstr(name, S3DLIO_TMP_TAG) != NULL;
}

struct s3dlio_atomic_file {
    int dirfd;      /* the final file's directory; -1 when closed */
    int fd;         /* the temporary file, open for writing; -1 when closed */
    char *path;     /* the final path, for messages (heap) */
    char *name;     /* the final name inside dirfd (heap) */
    char *tmp;      /* the temporary name inside dirfd (heap); NULL once renamed or removed,
                       and for a device written in place */
};
#define S3DLIO_ATOMIC_FILE_INIT {-1, -1, NULL, NULL, NULL}

/*
 * Prepare path for writing. path[0..root_len) is the root the user named (0: the whole
 * directory part of path): it is created if missing (mkdir -p) and may hold symbolic links. Below it every directory is created or
 * opened without following a link (a link there fails with a message naming it), then an
 * exclusive temporary file is created beside the final name. op ("get", "put") names the
 * operation in errors. On failure nothing is left behind and f is released.
 */
enum s3dlio_rc s3dlio_atomic_open(struct s3dlio_atomic_file *f, const char *path, size_t root_len,
                                  const char *op, struct s3dlio_error *err);

/*
 * As s3dlio_atomic_open, except that a device or FIFO already at path (--report /dev/null, a
 * pipe a reader waits on) is opened and written in place: a rename over it would replace
 * the device with a file. A FIFO nobody reads fails at once rather than hang. Commit then
 * only closes it. For files the user names whole; a key below a root must not reach one.
 */
enum s3dlio_rc s3dlio_atomic_open_or_device(struct s3dlio_atomic_file *f, const char *path,
                                            size_t root_len, const char *op,
                                            struct s3dlio_error *err);

/*
 * Finish: optionally fsync the data (and the directory after the rename), close, and rename
 * the temporary file over the final name. On failure the temporary file is removed. f is
 * released either way.
 */
enum s3dlio_rc s3dlio_atomic_commit(struct s3dlio_atomic_file *f, bool sync, const char *op,
                                    struct s3dlio_error *err);

/*
 * Close f but keep its temporary file for other processes to fill (the ranks of a restore
 * write one file together; one of them renames it, by these paths, when all are done).
 * Returns the temporary file's path (heap; NULL if there is none or memory ran out).
 */
char *s3dlio_atomic_keep(struct s3dlio_atomic_file *f);

/* Give up: remove the temporary file and release f (idempotent; accepts an INIT struct). */
void s3dlio_atomic_discard(struct s3dlio_atomic_file *f);

#endif
