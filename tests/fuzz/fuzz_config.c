/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the config parsers (src/util/config.c). Each input is loaded twice:
 * as the .env file, then as both ~/.aws/config and ~/.aws/credentials. Invariants: no crash,
 * leak or UB (the sanitizers), rc is OK or S3DLIO_E_CONFIG, a failed load leaves the config
 * empty, an error message is one line, and release works twice.
 *
 * The environment given to the loader pins AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE
 * to the fixture files: it overrides .env, so an input cannot send the loader to read
 * /dev/stdin or a directory (which would hang or, rightly, give S3DLIO_E_IO).
 */
#define _POSIX_C_SOURCE 200809L
#include "s3dlio/config.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[512];
static char dotenv[600], conf[600], cred[600], home[600];
static char conf_env[700], cred_env[700];

static void cleanup(void)
{
    unlink(dotenv);
    unlink(conf);
    unlink(cred);
    rmdir(home);
    rmdir(dir);
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/fuzz_config.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        abort();
    }
    snprintf(dotenv, sizeof(dotenv), "%s/dotenv", dir);
    snprintf(home, sizeof(home), "%s/home", dir);
    snprintf(conf, sizeof(conf), "%s/config", dir);
    snprintf(cred, sizeof(cred), "%s/credentials", dir);
    snprintf(conf_env, sizeof(conf_env), "AWS_CONFIG_FILE=%s", conf);
    snprintf(cred_env, sizeof(cred_env), "AWS_SHARED_CREDENTIALS_FILE=%s", cred);
    mkdir(home, 0700);
    atexit(cleanup);
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f)) {
        perror(path);
        abort();
    }
}

static void load_one(const struct s3dlio_config_sources *src)
{
    struct s3dlio_config cfg = {0};
    struct s3dlio_error err = {0};
    char line[2048];

    enum s3dlio_rc rc = s3dlio_config_load(&cfg, src, &err);
    assert(rc == S3DLIO_OK || rc == S3DLIO_E_CONFIG);
    if (rc) {
        assert(!cfg.access_key && !cfg.secret_key && !cfg.region && !cfg.profile);
        s3dlio_error_format(&err, line, sizeof(line));
        assert(!strchr(line, '\n'));
    } else {
        assert(cfg.region && cfg.profile);
        rc = s3dlio_config_validate(&cfg, &err);
        assert(rc == S3DLIO_OK || rc == S3DLIO_E_CONFIG);
    }
    s3dlio_config_release(&cfg);
    s3dlio_config_release(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0])
        setup();
    const char *env[] = {conf_env, cred_env, NULL};
    struct s3dlio_config_sources src = {env, dotenv, home};

    write_file(dotenv, data, size);
    unlink(conf);
    unlink(cred);
    load_one(&src);

    unlink(dotenv);
    write_file(conf, data, size);
    write_file(cred, data, size);
    load_one(&src);
    return 0;
}
