/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The local tree an upload (put --recursive) sends: every regular file below a directory,
 * and every entry that is not sent with the reason, so nothing is left out silently.
 */
#ifndef S3DLIO_BACKEND_FILE_TREE_H
#define S3DLIO_BACKEND_FILE_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include "s3dlio/backend.h"

struct s3dlio_tree_skip {
    char *path;      /* relative to the root (heap) */
    const char *why; /* static text: "FIFO", "dangling symbolic link", ... */
};

struct s3dlio_tree {
    struct s3dlio_objlist files;      /* keys: paths relative to the root, '/'-separated */
    struct s3dlio_tree_skip *skipped; /* in walk order */
    size_t nskipped, skipped_alloc;
};

/*
 * Walk root (a directory) depth-first, names sorted in each directory. Regular files and
 * symbolic links to regular files are listed. A symbolic link to a directory is followed
 * with follow_links (a link back to a directory being walked is skipped as a loop) and
 * skipped otherwise; FIFOs, sockets, devices and dangling links are skipped. Our own
 * temporary files (writes in progress) are neither. A directory that cannot be read fails
 * the walk: its files would be lost without a word.
 */
enum s3dlio_rc s3dlio_tree_list(const char *root, bool follow_links, struct s3dlio_tree *out,
                                struct s3dlio_error *err);
void s3dlio_tree_release(struct s3dlio_tree *t);

/* One warning per skipped entry (root/path and why), shown at the default log level. */
void s3dlio_tree_warn_skipped(const struct s3dlio_tree *t, const char *root);

#endif
