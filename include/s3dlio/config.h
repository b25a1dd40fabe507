/* SPDX-License-Identifier: Apache-2.0 */
/* Connection configuration, loaded the way AWS users expect. */
#ifndef S3DLIO_CONFIG_H
#define S3DLIO_CONFIG_H

#include <signal.h>
#include <stdbool.h>
#include "s3dlio/error.h"

enum s3dlio_addressing {
    S3DLIO_ADDR_AUTO = 0, /* path style for custom endpoints, virtual-hosted for AWS */
    S3DLIO_ADDR_PATH,
    S3DLIO_ADDR_VIRTUAL,
};

enum s3dlio_payload_signing {
    S3DLIO_PAYLOAD_UNSIGNED = 0, /* x-amz-content-sha256: UNSIGNED-PAYLOAD */
    S3DLIO_PAYLOAD_FULL,         /* SHA-256 of every body */
};

/*
 * Everything needed to talk to an endpoint. Strings are heap-owned by the struct;
 * secret_key and session_token are wiped on release and never logged.
 */
struct s3dlio_config {
    char *access_key;
    char *secret_key;
    char *session_token;
    char *region;
    char *endpoint;      /* "http://127.0.0.1:9000"; NULL means AWS (https://s3.<region>.amazonaws.com) */
    char *ca_bundle;     /* AWS_CA_BUNDLE */
    char *profile;       /* AWS_PROFILE, for messages */
    bool insecure;       /* skip TLS verification (opt-in only) */
    enum s3dlio_addressing addressing;
    enum s3dlio_payload_signing payload_signing;
    long connect_timeout_ms;
    long low_speed_time_s; /* abort a request that moved no bytes for this long */
    int max_connections;   /* connections per process (0: 200) */
    int retries;           /* retries of 5xx, 429 and short bodies (5) */
    long retry_time_ms;    /* connection failures are retried this long (30 s) */
    long retry_base_ms;    /* backoff base (100 ms) and cap (10 s), full jitter */
    long retry_cap_ms;
    /* A signal handler's flag (NULL: none). Once it is non-zero every listing stops before its
     * next page with S3DLIO_E_ABORTED: Ctrl-C must not wait out a listing of millions of keys.
     * Code that must still list after it (a cleanup) uses a copy of the config without it. */
    const volatile sig_atomic_t *cancel;
};

/*
 * Where each source of settings comes from; NULL fields fall back to the process
 * environment / $HOME. Tests point these at fixture files.
 */
struct s3dlio_config_sources {
    const char *const *environ; /* NULL: the process environment */
    const char *dotenv_path;    /* NULL: ./.env (missing file is fine) */
    const char *home;           /* NULL: $HOME, for ~/.aws/{credentials,config} */
};

/*
 * Fill cfg with precedence defaults < ~/.aws/config + credentials (AWS_PROFILE or default)
 * < .env < environment. Command-line flags are applied by the caller afterwards.
 * Missing credentials are not an error here (see s3dlio_config_validate).
 */
enum s3dlio_rc s3dlio_config_load(struct s3dlio_config *cfg, const struct s3dlio_config_sources *src,
                                  struct s3dlio_error *err);

/* Check that an S3 connection can be made from cfg; names the first missing field. */
enum s3dlio_rc s3dlio_config_validate(const struct s3dlio_config *cfg, struct s3dlio_error *err);

/* Replace *field with a copy of value (NULL clears it). */
void s3dlio_config_set(char **field, const char *value);

/* dst (uninitialised) becomes a copy of src with strings of its own; release both. */
void s3dlio_config_copy(struct s3dlio_config *dst, const struct s3dlio_config *src);

/*
 * The credentials of `profile` (~/.aws/credentials and config, as s3dlio_config_load finds
 * them from src; NULL: the process's) replace those of cfg; every other setting stays. The
 * profile is named, so the keys in the environment and .env do not override it. A profile
 * that does not exist or has no keys is an error (S3DLIO_E_CONFIG); cfg is then unchanged.
 */
enum s3dlio_rc s3dlio_config_use_profile(struct s3dlio_config *cfg, const char *profile,
                                         const struct s3dlio_config_sources *src,
                                         struct s3dlio_error *err);

/* Free and wipe everything; accepts a zeroed or released struct. */
void s3dlio_config_release(struct s3dlio_config *cfg);

#endif
