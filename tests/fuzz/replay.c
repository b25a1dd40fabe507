/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main() for fuzz targets built without libFuzzer (gcc): feeds every regular file of the
 * directories (or the files) named on the command line to LLVMFuzzerTestOneInput once, so
 * the corpus doubles as a regression test under ASan/UBSan.
 * Usage: fuzz_xml_replay tests/fuzz/corpus/xml [more dirs or files]
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_FILE (64u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The whole file (heap) into *data; 0 on success, 1 if unreadable or past REPLAY_MAX_FILE. */
static int slurp(FILE *f, uint8_t **data, size_t *len)
{
    size_t cap = 4096, got;
    *len = 0;
    *data = malloc(cap);
    while (*data && (got = fread(*data + *len, 1, cap - *len, f)) > 0) {
        *len += got;
        if (*len < cap)
            continue;
        uint8_t *bigger = cap < REPLAY_MAX_FILE ? realloc(*data, cap * 2) : NULL;
        if (!bigger)
            return 1; /* caller frees *data */
        *data = bigger;
        cap *= 2;
    }
    return !*data || ferror(f);
}

/* Run one file; 0 on success, 1 if it could not be read. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    uint8_t *data;
    size_t len;
    int bad = slurp(f, &data, &len);
    fclose(f);
    if (bad)
        fprintf(stderr, "%s: cannot read (or larger than %u bytes)\n", path, REPLAY_MAX_FILE);
    else
        LLVMFuzzerTestOneInput(data, len);
    free(data);
    return bad;
}

/* Every regular file directly in dir; *n counts the files run. */
static int replay_dir(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 1;
    }
    int bad = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) || !S_ISREG(st.st_mode))
            continue;
        bad |= replay_file(path);
        (*n)++;
    }
    closedir(d);
    return bad;
}

int main(int argc, char **argv)
{
    size_t n = 0;
    int bad = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s <corpus dir or file>...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (!stat(argv[i], &st) && S_ISDIR(st.st_mode)) {
            bad |= replay_dir(argv[i], &n);
        } else {
            bad |= replay_file(argv[i]);
            n++;
        }
    }
    printf("replayed %zu inputs%s\n", n, bad ? ", some unreadable" : "");
    return bad;
}
