/* SPDX-License-Identifier: Apache-2.0 */
/* The local tree of put --recursive: what is sent, what is skipped and why, links and loops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backend/file_tree.h"
#include "check.h"

static char root[512];

static void touch(const char *rel, const char *text)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void at(const char *rel, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", root, rel);
}

/*
 * a           file
 * filelink -> a               (sent: a link to a file)
 * dirlink  -> sub             (skipped, or followed)
 * dangling -> nowhere         (skipped)
 * fifo                        (skipped)
 * sub/b       file
 * sub/up   -> ..              (skipped; a loop when followed)
 * .x.s3dlio-tmp.1.2           (ours: neither sent nor reported)
 */
static void setup(void)
{
    char p[1024], q[1024];
    at("sub", p, sizeof(p));
    mkdir(p, 0755);
    touch("a", "aaaa");
    touch("sub/b", "bb");
    touch(".x.s3dlio-tmp.1.2", "partial");
    at("filelink", p, sizeof(p));
    CHECK(symlink("a", p) == 0, "symlink to a file");
    at("dirlink", p, sizeof(p));
    CHECK(symlink("sub", p) == 0, "symlink to a directory");
    at("dangling", p, sizeof(p));
    CHECK(symlink("nowhere", p) == 0, "dangling symlink");
    at("sub/up", p, sizeof(p));
    CHECK(symlink("..", p) == 0, "symlink to the parent");
    at("fifo", q, sizeof(q));
    CHECK(mkfifo(q, 0644) == 0, "fifo");
}

static const char *why_of(const struct s3dlio_tree *t, const char *path)
{
    for (size_t i = 0; i < t->nskipped; i++)
        if (!strcmp(t->skipped[i].path, path))
            return t->skipped[i].why;
    return NULL;
}

static bool has_file(const struct s3dlio_tree *t, const char *key, uint64_t size)
{
    for (size_t i = 0; i < t->files.n; i++)
        if (!strcmp(t->files.items[i].key, key))
            return t->files.items[i].size == size;
    return false;
}

static void test_not_following(void)
{
    struct s3dlio_tree t;
    struct s3dlio_error err = {0};
    CHECK_INT(s3dlio_tree_list(root, false, &t, &err), S3DLIO_OK, "walk");
    CHECK_INT(t.files.n, 3, "a, filelink, sub/b");
    CHECK(has_file(&t, "a", 4) && has_file(&t, "filelink", 4) && has_file(&t, "sub/b", 2),
          "files with their sizes");
    CHECK_INT(t.nskipped, 4, "dangling, dirlink, fifo, sub/up: every one said");
    const char *w = why_of(&t, "dangling");
    CHECK(w && strstr(w, "dangling"), "dangling link named");
    CHECK((w = why_of(&t, "fifo")) && strstr(w, "FIFO"), "FIFO named");
    CHECK((w = why_of(&t, "dirlink")) && strstr(w, "--follow-symlinks"), "the option to follow named");
    CHECK(why_of(&t, "sub/up") != NULL, "link to the parent skipped");
    CHECK(why_of(&t, ".x.s3dlio-tmp.1.2") == NULL && !has_file(&t, ".x.s3dlio-tmp.1.2", 7),
          "our temporary file neither sent nor reported");
    s3dlio_tree_release(&t);
}

static void test_following(void)
{
    struct s3dlio_tree t;
    struct s3dlio_error err = {0};
    CHECK_INT(s3dlio_tree_list(root, true, &t, &err), S3DLIO_OK, "walk following links");
    CHECK(has_file(&t, "dirlink/b", 2), "the linked directory's file under the link's name");
    CHECK_INT(t.files.n, 4, "a, dirlink/b, filelink, sub/b");
    const char *w = why_of(&t, "sub/up");
    CHECK(w && strstr(w, "loop"), "a link back up is a loop, not an endless walk");
    CHECK((w = why_of(&t, "dirlink/up")) && strstr(w, "loop"), "also below the followed link");
    s3dlio_tree_release(&t);
}

static void test_errors(void)
{
    struct s3dlio_tree t;
    struct s3dlio_error err = {0};
    char p[1024];
    at("nonexistent", p, sizeof(p));
    CHECK_INT(s3dlio_tree_list(p, false, &t, &err), S3DLIO_E_IO, "a missing root fails");
    CHECK(strstr(err.message, "No such file") != NULL, "with its errno");
    at("a", p, sizeof(p));
    CHECK_INT(s3dlio_tree_list(p, false, &t, &err), S3DLIO_E_IO, "a file as root fails");
}

int main(void)
{
    if (!check_tmpdir(root, sizeof(root), "tree"))
        return 1;
    setup();
    test_not_following();
    test_following();
    test_errors();
    check_rmtree(root);
    TEST_DONE();
}
