/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A second connection derived from the first: the same settings, another profile's
 * credentials (sync --source-profile, a source in another account).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "s3dlio/config.h"
#include "util/alloc.h"

extern char **environ;

void s3dlio_config_copy(struct s3dlio_config *dst, const struct s3dlio_config *src)
{
    *dst = *src;
    char **fields[] = {&dst->access_key, &dst->secret_key, &dst->session_token, &dst->region,
                       &dst->endpoint,   &dst->ca_bundle,  &dst->profile};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (*fields[i])
            *fields[i] = s3dlio_xstrdup(*fields[i]);
}

/* Is `entry` ("NAME=value") one of the settings a named profile must win over? */
static bool overrides_profile(const char *entry)
{
    static const char *const names[] = {"AWS_PROFILE=", "AWS_ACCESS_KEY_ID=",
                                        "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN="};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strncmp(entry, names[i], strlen(names[i])))
            return true;
    return false;
}

enum s3dlio_rc s3dlio_config_use_profile(struct s3dlio_config *cfg, const char *profile,
                                         const struct s3dlio_config_sources *src,
                                         struct s3dlio_error *err)
{
    const char *const *envp = src && src->environ ? src->environ : (const char *const *)environ;
    size_t n = 0, k = 0;
    while (envp && envp[n])
        n++;
    const char **env = s3dlio_xcalloc(n + 2, sizeof(*env));
    size_t plen = strlen("AWS_PROFILE=") + strlen(profile) + 1;
    char *named = s3dlio_xmalloc(plen);
    snprintf(named, plen, "AWS_PROFILE=%s", profile);
    env[k++] = named;
    for (size_t i = 0; i < n; i++)
        if (!overrides_profile(envp[i]))
            env[k++] = envp[i];
    /* the keys of the environment and of .env would beat the profile asked for by name */
    struct s3dlio_config_sources from = {.environ = env, .dotenv_path = "/dev/null",
                                         .home = src ? src->home : NULL};
    struct s3dlio_config loaded = {0};
    enum s3dlio_rc rc = s3dlio_config_load(&loaded, &from, err);
    if (!rc && (!loaded.access_key || !loaded.secret_key))
        rc = s3dlio_error_set(err, S3DLIO_E_CONFIG, "config", profile,
                              "profile has no aws_access_key_id and aws_secret_access_key");
    if (!rc) {
        s3dlio_config_set(&cfg->access_key, loaded.access_key);
        s3dlio_config_set(&cfg->secret_key, loaded.secret_key);
        s3dlio_config_set(&cfg->session_token, loaded.session_token);
        s3dlio_config_set(&cfg->profile, profile);
    }
    s3dlio_config_release(&loaded);
    free(named);
    free(env);
    return rc;
}
