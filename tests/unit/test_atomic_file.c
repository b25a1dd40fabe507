/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util/atomic_file: the one way destination files are written. Complete files appear under
 * their name only at commit; a discarded or failed one leaves nothing; below the root the
 * user named no symbolic link is followed; the root itself may be a link.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "util/atomic_file.h"

static char root[256];

static char *at(const char *rel)
{
    static char buf[4][1024];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", root, rel);
    return buf[i];
}

static int entries(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s' | wc -l)\" -eq 0", dir);
    return system(cmd) == 0 ? 0 : 1;
}

static void test_commit_and_discard(void)
{
    struct s3dlio_atomic_file f;
    struct s3dlio_error err = {0};
    struct stat st;
    const char *path = at("out/a/b/file");
    CHECK_INT(s3dlio_atomic_open(&f, path, strlen(at("out")), "get", &err), S3DLIO_OK, "open");
    CHECK(f.fd >= 0 && f.tmp && strstr(f.tmp, S3DLIO_TMP_TAG), "a temporary file beside the name");
    CHECK(stat(path, &st) != 0, "nothing under the final name yet");
    CHECK(write(f.fd, "hello", 5) == 5, "write");
    CHECK_INT(s3dlio_atomic_commit(&f, true, "get", &err), S3DLIO_OK, "commit with fsync");
    CHECK(stat(path, &st) == 0 && st.st_size == 5, "the file is there, whole");
    CHECK_INT(entries(at("out/a/b")), 1, "and nothing else beside it");

    CHECK_INT(s3dlio_atomic_open(&f, at("out/a/b/gone"), 0, "get", &err), S3DLIO_OK, "open again");
    s3dlio_atomic_discard(&f);
    s3dlio_atomic_discard(&f); /* idempotent */
    CHECK(stat(at("out/a/b/gone"), &st) != 0, "discarded: no file");
    CHECK_INT(entries(at("out/a/b")), 1, "discarded: no temporary file");
    struct s3dlio_atomic_file z = S3DLIO_ATOMIC_FILE_INIT;
    s3dlio_atomic_discard(&z); /* an INIT struct is fine */
}

static const struct refuse_case {
    const char *name, *path, *root, *msg;
} refuse_cases[] = {
    {"a link below the root", "d/link/x", "d", "is a symbolic link: refusing to write through it"},
    {"a file where a directory must be", "d/plain/x", "d", "is a file, so nothing can be written below it"},
    {"a name over NAME_MAX", NULL, "d", "longer than the file system allows"},
    {"a name ending in '/'", "d/dir/", "d", "no file name"},
};

static void test_refusals(void)
{
    mkdir(at("d"), 0777);
    mkdir(at("elsewhere"), 0777);
    CHECK(symlink(at("elsewhere"), at("d/link")) == 0, "make a link");
    FILE *fp = fopen(at("d/plain"), "w");
    CHECK(fp != NULL, "make a file");
    if (fp)
        fclose(fp);
    char longpath[1024];
    snprintf(longpath, sizeof(longpath), "%s/d/%0300d", root, 0);
    for (size_t i = 0; i < sizeof(refuse_cases) / sizeof(refuse_cases[0]); i++) {
        const struct refuse_case *c = &refuse_cases[i];
        struct s3dlio_atomic_file f;
        struct s3dlio_error err = {0};
        const char *path = c->path ? at(c->path) : longpath;
        CHECK(s3dlio_atomic_open(&f, path, strlen(at(c->root)), "get", &err) != S3DLIO_OK, c->name);
        CHECK(strstr(err.message, c->msg) != NULL, c->name);
        if (!strstr(err.message, c->msg))
            fprintf(stderr, "  got: %s\n", err.message);
        CHECK(f.fd < 0 && f.dirfd < 0 && !f.tmp, "nothing left open");
    }
    CHECK_INT(entries(at("elsewhere")), 0, "nothing written through the link");

    /* the root itself may be a link: the user named it */
    struct s3dlio_atomic_file f;
    struct s3dlio_error err = {0};
    CHECK(symlink(at("elsewhere"), at("rootlink")) == 0, "make a root link");
    CHECK_INT(s3dlio_atomic_open(&f, at("rootlink/x"), strlen(at("rootlink")), "get", &err),
              S3DLIO_OK, "a link as the root is followed");
    CHECK_INT(s3dlio_atomic_commit(&f, false, "get", &err), S3DLIO_OK, "commit");
    CHECK_INT(entries(at("elsewhere")), 1, "written where the root link points");

    /* committing over a directory fails and leaves the temporary file behind nowhere */
    mkdir(at("d/isdir"), 0777);
    CHECK_INT(s3dlio_atomic_open(&f, at("d/isdir"), strlen(at("d")), "get", &err), S3DLIO_OK, "open");
    CHECK(s3dlio_atomic_commit(&f, false, "get", &err) != S3DLIO_OK, "commit over a directory fails");
    CHECK(strstr(err.message, "is a directory") != NULL, "... saying why");
    CHECK(check_no_tmp_files(at("d")), "no temporary file left");
}

/* A rename over /dev/null (as root) once put a regular file where the device was. */
static void test_not_over_special(void)
{
    struct s3dlio_atomic_file f;
    struct s3dlio_error err = {0};
    struct stat st;
    mkdir(at("sp"), 0777);
    CHECK(mkfifo(at("sp/fifo"), 0644) == 0, "make a FIFO");
    CHECK_INT(s3dlio_atomic_open(&f, at("sp/fifo"), strlen(at("sp")), "get", &err), S3DLIO_E_USAGE,
              "a FIFO is not replaced");
    CHECK(strstr(err.message, "is a FIFO: refusing to replace it") != NULL, "... saying why");
    CHECK(!stat(at("sp/fifo"), &st) && S_ISFIFO(st.st_mode), "the FIFO is still there");
    CHECK(check_no_tmp_files(at("sp")), "no temporary file left");
    CHECK_INT(s3dlio_atomic_open(&f, "/dev/null", 0, "get", &err), S3DLIO_E_USAGE,
              "a device is not replaced");
    CHECK(strstr(err.message, "is a device") != NULL, "... saying why");
    CHECK(!stat("/dev/null", &st) && S_ISCHR(st.st_mode), "/dev/null is still a device");

    /* a file the user names whole (--report) may be a device: written in place, kept */
    CHECK_INT(s3dlio_atomic_open_or_device(&f, "/dev/null", 0, "stage", &err), S3DLIO_OK,
              "a device opened in place");
    CHECK(f.fd >= 0 && !f.tmp && write(f.fd, "x", 1) == 1, "written in place");
    CHECK_INT(s3dlio_atomic_commit(&f, true, "stage", &err), S3DLIO_OK, "commit only closes it");
    CHECK(!stat("/dev/null", &st) && S_ISCHR(st.st_mode), "/dev/null is still a device");
    CHECK(s3dlio_atomic_open_or_device(&f, at("sp/fifo"), strlen(at("sp")), "stage", &err) ==
              S3DLIO_E_IO && strstr(err.message, "No such device"), "a FIFO nobody reads fails at once");
    CHECK(f.fd < 0 && !f.path, "nothing left open");
    CHECK_INT(s3dlio_atomic_open_or_device(&f, at("sp/plain"), strlen(at("sp")), "stage", &err),
              S3DLIO_OK, "anything else: a temporary file");
    CHECK(f.tmp != NULL, "... beside the name");
    CHECK_INT(s3dlio_atomic_commit(&f, false, "stage", &err), S3DLIO_OK, "renamed");
    CHECK(!stat(at("sp/plain"), &st) && S_ISREG(st.st_mode), "the file is there");
}

int main(void)
{
    if (!check_tmpdir(root, sizeof(root), "atomic"))
        return 1;
    test_commit_and_discard();
    test_refusals();
    test_not_over_special();
    check_rmtree(root);
    TEST_DONE();
}
