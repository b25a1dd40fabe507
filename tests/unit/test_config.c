/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for src/util/config.c: precedence of the four sources, the ini and .env formats,
 * and errors that name the file and line but never a secret. Fixture files live in a mkdtemp
 * directory; the environment is an array handed to the loader, never the real one.
 */
#define _POSIX_C_SOURCE 200809L
#include "s3dlio/config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

/* Every secret in the fixtures contains this, so one strstr proves none leaked. */
#define MARK "s3cr3t"

#define NONE "\001none" /* want: the field is NULL */
#define WANT(v) ((int)(v) + 1) /* int wants: 0 means not checked */

#define CONFIG_DEFAULT                                                                             \
    "[default]\n"                                                                                  \
    "region = conf-region\n"                                                                       \
    "endpoint_url = http://conf:9000\n"                                                            \
    "aws_access_key_id = AKIDCONF\n"                                                               \
    "aws_secret_access_key = conf-" MARK "\n"                                                      \
    "aws_session_token = conf-tok-" MARK "\n"
#define CRED_DEFAULT                                                                               \
    "[default]\n"                                                                                  \
    "aws_access_key_id = AKIDCRED\n"                                                               \
    "aws_secret_access_key = cred-" MARK "\n"
#define DOTENV_BASIC                                                                               \
    "AWS_ACCESS_KEY_ID=AKIDDOTENV\n"                                                               \
    "AWS_SECRET_ACCESS_KEY=dotenv-" MARK "\n"                                                      \
    "AWS_REGION=dotenv-region\n"                                                                   \
    "AWS_ENDPOINT_URL=http://dotenv:9000\n"
/* [profile dev] in config and [dev] in credentials; the look-alikes after them must be ignored */
#define CONFIG_DEV                                                                                 \
    CONFIG_DEFAULT "[profile dev]\n"                                                               \
                   "region = dev-region\n"                                                         \
                   "endpoint_url = http://dev:9000\n"                                              \
                   "[dev]\n"                                                                       \
                   "region = wrong-region\n"
#define CRED_DEV                                                                                   \
    CRED_DEFAULT "[dev]\n"                                                                         \
                 "aws_access_key_id = AKIDDEV\n"                                                   \
                 "aws_secret_access_key = dev-" MARK "\n"                                          \
                 "[profile dev]\n"                                                                 \
                 "aws_access_key_id = AKIDWRONG\n"                                                 \
                 "aws_secret_access_key = wrong-" MARK "\n"

struct load_case {
    const char *name;
    const char *config;      /* ~/.aws/config content; NULL: no file */
    const char *credentials; /* ~/.aws/credentials */
    const char *dotenv;
    const char *alt_config; /* @/alt/config and @/alt/credentials, for the path overrides */
    const char *alt_credentials;
    const char *env[8]; /* "@/" expands to the fixture directory */
    bool home_from_env; /* src->home = NULL: the loader must take HOME from env */
    enum s3dlio_rc rc;
    /* wanted fields: NULL not checked, NONE must be NULL */
    const char *access, *secret, *token, *region, *endpoint, *ca, *profile;
    int addressing, insecure, payload; /* WANT(x), 0 not checked */
    const char *msg[2];                /* substrings of the formatted error; "@/" expands */
};

static const struct load_case cases[] = {
    {.name = "defaults without any file or variable",
     .access = NONE, .secret = NONE, .token = NONE, .region = "us-east-1", .endpoint = NONE,
     .ca = NONE, .profile = "default", .addressing = WANT(S3DLIO_ADDR_AUTO),
     .insecure = WANT(false), .payload = WANT(S3DLIO_PAYLOAD_UNSIGNED)},
    {.name = "config file alone",
     .config = CONFIG_DEFAULT,
     .access = "AKIDCONF", .secret = "conf-" MARK, .token = "conf-tok-" MARK,
     .region = "conf-region", .endpoint = "http://conf:9000"},
    {.name = "credentials file over config file, token not mixed in",
     .config = CONFIG_DEFAULT, .credentials = CRED_DEFAULT,
     .access = "AKIDCRED", .secret = "cred-" MARK, .token = NONE, .region = "conf-region"},
    {.name = ".env over both ini files",
     .config = CONFIG_DEFAULT, .credentials = CRED_DEFAULT, .dotenv = DOTENV_BASIC,
     .access = "AKIDDOTENV", .secret = "dotenv-" MARK, .token = NONE, .region = "dotenv-region",
     .endpoint = "http://dotenv:9000"},
    {.name = "environment over .env",
     .config = CONFIG_DEFAULT, .credentials = CRED_DEFAULT, .dotenv = DOTENV_BASIC,
     .env = {"AWS_ACCESS_KEY_ID=AKIDENV", "AWS_SECRET_ACCESS_KEY=env-" MARK,
             "AWS_REGION=env-region"},
     .access = "AKIDENV", .secret = "env-" MARK, .token = NONE, .region = "env-region",
     .endpoint = "http://dotenv:9000"},
    {.name = "session token comes with the environment's keys",
     .config = CONFIG_DEFAULT,
     .env = {"AWS_ACCESS_KEY_ID=AKIDENV", "AWS_SECRET_ACCESS_KEY=env-" MARK,
             "AWS_SESSION_TOKEN=env-tok-" MARK},
     .access = "AKIDENV", .secret = "env-" MARK, .token = "env-tok-" MARK},
    {.name = "a session token alone does not replace file credentials",
     .credentials = CRED_DEFAULT, .env = {"AWS_SESSION_TOKEN=env-tok-" MARK},
     .access = "AKIDCRED", .secret = "cred-" MARK, .token = NONE},
    {.name = "AWS_REGION wins over AWS_DEFAULT_REGION",
     .config = CONFIG_DEFAULT, .env = {"AWS_DEFAULT_REGION=env-default", "AWS_REGION=env-region"},
     .region = "env-region"},
    {.name = "AWS_DEFAULT_REGION alone overrides the config file",
     .config = CONFIG_DEFAULT, .env = {"AWS_DEFAULT_REGION=env-default"},
     .region = "env-default"},
    {.name = "AWS_REGION wins over AWS_DEFAULT_REGION in .env",
     .dotenv = "AWS_REGION=dotenv-region\nAWS_DEFAULT_REGION=dotenv-default\n",
     .region = "dotenv-region"},
    {.name = "environment AWS_DEFAULT_REGION beats .env AWS_REGION",
     .dotenv = "AWS_REGION=dotenv-region\n", .env = {"AWS_DEFAULT_REGION=env-default"},
     .region = "env-default"},
    {.name = "AWS_ENDPOINT_URL_S3 wins over AWS_ENDPOINT_URL",
     .config = CONFIG_DEFAULT,
     .env = {"AWS_ENDPOINT_URL_S3=http://s3:1", "AWS_ENDPOINT_URL=http://all:2"},
     .endpoint = "http://s3:1"},
    {.name = "AWS_ENDPOINT_URL alone overrides endpoint_url",
     .config = CONFIG_DEFAULT, .env = {"AWS_ENDPOINT_URL=http://all:2"},
     .endpoint = "http://all:2"},
    {.name = "nested s3 block in the profile",
     .config = "[default]\n"
               "endpoint_url = http://global:1\n"
               "s3 =\n"
               "  endpoint_url = http://s3only:2\n"
               "  addressing_style = path\n"
               "  payload_signing_enabled = true\n"
               "region = after-block\n",
     .endpoint = "http://s3only:2", .region = "after-block", .addressing = WANT(S3DLIO_ADDR_PATH),
     .payload = WANT(S3DLIO_PAYLOAD_FULL)},
    {.name = "s3 endpoint from the [services NAME] the profile names",
     .config = "[services other]\ns3 =\n  endpoint_url = http://wrong:3\n"
               "[services local]\ns3 =\n  endpoint_url = http://svc:3\n"
               "[default]\nservices = local\nendpoint_url = http://global:1\n",
     .endpoint = "http://svc:3"},
    {.name = "named profile from AWS_PROFILE in both files",
     .config = CONFIG_DEV, .credentials = CRED_DEV, .env = {"AWS_PROFILE=dev"},
     .access = "AKIDDEV", .secret = "dev-" MARK, .token = NONE, .region = "dev-region",
     .endpoint = "http://dev:9000", .profile = "dev"},
    {.name = "AWS_PROFILE from .env",
     .config = CONFIG_DEV, .credentials = CRED_DEV, .dotenv = "AWS_PROFILE=dev\n",
     .access = "AKIDDEV", .region = "dev-region", .profile = "dev"},
    {.name = "profile found in the credentials file only",
     .config = CONFIG_DEFAULT,
     .credentials = "[credonly]\naws_access_key_id = AKIDCO\naws_secret_access_key = co-" MARK "\n",
     .env = {"AWS_PROFILE=credonly"},
     .access = "AKIDCO", .region = "us-east-1", .endpoint = NONE, .profile = "credonly"},
    {.name = "missing named profile",
     .config = CONFIG_DEV, .credentials = CRED_DEV, .env = {"AWS_PROFILE=nope"},
     .rc = S3DLIO_E_CONFIG,
     .msg = {"profile 'nope' not found in '@/home/.aws/config' or", "@/home/.aws/credentials"}},
    {.name = "missing default profile is fine",
     .config = "[profile other]\nregion = x\n",
     .access = NONE, .region = "us-east-1", .profile = "default"},
    {.name = "[profile default] in the config file",
     .config = "[profile default]\nregion = pd-region\n", .region = "pd-region"},
    {.name = "AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE",
     .config = CONFIG_DEFAULT, .credentials = CRED_DEFAULT,
     .alt_config = "[default]\nregion = alt-region\n",
     .alt_credentials = "[default]\naws_access_key_id = AKIDALT\n"
                        "aws_secret_access_key = alt-" MARK,
     .env = {"AWS_CONFIG_FILE=@/alt/config", "AWS_SHARED_CREDENTIALS_FILE=@/alt/credentials"},
     .access = "AKIDALT", .secret = "alt-" MARK, .region = "alt-region", .endpoint = NONE},
    {.name = "~/ in AWS_SHARED_CREDENTIALS_FILE",
     .alt_credentials = "[default]\naws_access_key_id = AKIDALT\naws_secret_access_key = alt-" MARK,
     .env = {"AWS_SHARED_CREDENTIALS_FILE=~/../alt/credentials"},
     .access = "AKIDALT"},
    {.name = "AWS_CONFIG_FILE naming a missing file is fine",
     .config = CONFIG_DEFAULT, .env = {"AWS_CONFIG_FILE=@/no/such/config"},
     .access = NONE, .region = "us-east-1"},
    {.name = "HOME taken from the given environment",
     .config = CONFIG_DEFAULT, .env = {"HOME=@/home"}, .home_from_env = true,
     .access = "AKIDCONF", .region = "conf-region"},
    {.name = ".env quoting, export, comments",
     .dotenv = "# a comment\n"
               "\n"
               "   \n"
               "export AWS_ACCESS_KEY_ID='AKID\\n$HOME'   \n"
               "AWS_SECRET_ACCESS_KEY=\"dq \\\"" MARK "\\\" \\\\ a\\nb\"  # trailing comment\n"
               "\tAWS_SESSION_TOKEN = tok#" MARK "   # inline comment\n"
               "AWS_REGION=eu-west-3\r\n"
               "AWS_CA_BUNDLE=\"/etc/ssl/my ca.pem\"\n"
               "UNKNOWN_KEY=ignored\n"
               "AWS_ENDPOINT_URL=\n"
               "S3DLIO_ADDRESSING=Virtual",
     .access = "AKID\\n$HOME", .secret = "dq \"" MARK "\" \\ a\nb", .token = "tok#" MARK,
     .region = "eu-west-3", .ca = "/etc/ssl/my ca.pem", .endpoint = NONE,
     .addressing = WANT(S3DLIO_ADDR_VIRTUAL)},
    {.name = "malformed .env line",
     .dotenv = "# fine\nAWS_REGION=x\nthis-line-is-" MARK "\n", .rc = S3DLIO_E_CONFIG,
     .msg = {"config '@/dotenv'", "line 3: expected KEY=VALUE"}},
    {.name = ".env unterminated quote",
     .dotenv = "AWS_SECRET_ACCESS_KEY=\"" MARK "\n", .rc = S3DLIO_E_CONFIG,
     .msg = {"line 1: unterminated quote", "@/dotenv"}},
    {.name = ".env text after the closing quote",
     .dotenv = "\n\nAWS_SECRET_ACCESS_KEY='x'" MARK "\n", .rc = S3DLIO_E_CONFIG,
     .msg = {"line 3: unexpected text", "@/dotenv"}},
    {.name = ".env key with a space",
     .dotenv = "AWS SECRET=" MARK "\n", .rc = S3DLIO_E_CONFIG, .msg = {"line 1"}},
    {.name = ".env line that is a pasted secret",
     .dotenv = "\nwJalrXUtnFEMI/K7MDENG+" MARK "\n", .rc = S3DLIO_E_CONFIG, .msg = {"line 2"}},
    {.name = "S3DLIO_ADDRESSING and S3DLIO_INSECURE from the environment",
     .env = {"S3DLIO_ADDRESSING=path", "S3DLIO_INSECURE=1"},
     .addressing = WANT(S3DLIO_ADDR_PATH), .insecure = WANT(true)},
    {.name = "S3DLIO_INSECURE in .env, overridden by the environment",
     .dotenv = "S3DLIO_ADDRESSING=virtual\nS3DLIO_INSECURE=true\n", .env = {"S3DLIO_INSECURE=0"},
     .addressing = WANT(S3DLIO_ADDR_VIRTUAL), .insecure = WANT(false)},
    {.name = "invalid S3DLIO_ADDRESSING",
     .env = {"S3DLIO_ADDRESSING=sideways"}, .rc = S3DLIO_E_CONFIG,
     .msg = {"config 'environment'", "invalid S3DLIO_ADDRESSING 'sideways'"}},
    {.name = "invalid S3DLIO_INSECURE in .env",
     .dotenv = "S3DLIO_INSECURE=maybe\n", .rc = S3DLIO_E_CONFIG,
     .msg = {"@/dotenv", "invalid S3DLIO_INSECURE 'maybe'"}},
    {.name = "invalid addressing_style in the config file",
     .config = "[default]\ns3 =\n  addressing_style = diagonal\n", .rc = S3DLIO_E_CONFIG,
     .msg = {"@/home/.aws/config", "invalid addressing_style 'diagonal'"}},
    {.name = "malformed ini line",
     .config = "[default]\nregion = r\nthis is " MARK "\n", .rc = S3DLIO_E_CONFIG,
     .msg = {"config '@/home/.aws/config'", "line 3: expected 'name = value'"}},
    {.name = "ini setting before any section",
     .credentials = "aws_secret_access_key = " MARK "\n", .rc = S3DLIO_E_CONFIG,
     .msg = {"@/home/.aws/credentials", "line 1: setting before the first [section]"}},
    {.name = "ini unclosed section header",
     .config = "[default\n", .rc = S3DLIO_E_CONFIG, .msg = {"line 1"}},
    {.name = "ini comments, key case, ':' and spacing",
     .config = "; semicolon comment\n# hash comment\n[default]\nREGION: ap-south-1\n\n",
     .credentials = "[ default ]\n\taws_access_key_id=AKIDSP\r\n"
                    "aws_secret_access_key   =   sp-" MARK "   \n",
     .access = "AKIDSP", .secret = "sp-" MARK, .region = "ap-south-1"},
    {.name = "empty environment value counts as unset",
     .config = CONFIG_DEFAULT, .env = {"AWS_REGION=", "AWS_PROFILE="},
     .region = "conf-region", .profile = "default"},
    {.name = "AWS_CA_BUNDLE over ca_bundle",
     .config = "[default]\nca_bundle = /conf/ca.pem\n", .env = {"AWS_CA_BUNDLE=/env/ca.pem"},
     .ca = "/env/ca.pem"},
};

static char dir[512];

/* "K=@/x" -> "K=<dir>/x" */
static const char *expand(const char *s, char *out, size_t n)
{
    const char *at = strstr(s, "@/");
    if (at)
        snprintf(out, n, "%.*s%s/%s", (int)(at - s), s, dir, at + 2);
    else
        snprintf(out, n, "%s", s);
    return out;
}

/* dir/rel in one of 4 rotating buffers: copy it if it must outlive 4 more calls */
static const char *path(const char *rel)
{
    static char buf[4][1024];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof(buf[0]), "%s/%s", dir, rel);
    return p;
}

/* Write content to dir/rel, or remove it when content is NULL. */
static void put(const char *rel, const char *content)
{
    const char *p = path(rel);
    if (!content) {
        unlink(p);
        return;
    }
    FILE *f = fopen(p, "w");
    if (!f) {
        fprintf(stderr, "cannot write %s: %s\n", p, strerror(errno));
        exit(2);
    }
    fputs(content, f);
    fclose(f);
}

/* The haystack holds want, with "@/" expanded. */
static bool contains(const char *hay, const char *want)
{
    char buf[1024];
    return strstr(hay, expand(want, buf, sizeof(buf))) != NULL;
}

static void check_field(const char *got, const char *want, const char *name, const char *field)
{
    char label[256];
    snprintf(label, sizeof(label), "%s: %s", name, field);
    if (!want)
        return;
    if (!strcmp(want, NONE))
        CHECK_STR(got ? got : NONE, NONE, label);
    else
        CHECK_STR(got, want, label);
}

static void check_int(int got, int want, const char *name, const char *field)
{
    char label[256];
    snprintf(label, sizeof(label), "%s: %s", name, field);
    if (want)
        CHECK_INT(got, want - 1, label);
}

static void check_fields(const struct s3dlio_config *cfg, const struct load_case *c)
{
    check_field(cfg->access_key, c->access, c->name, "access_key");
    check_field(cfg->secret_key, c->secret, c->name, "secret_key");
    check_field(cfg->session_token, c->token, c->name, "session_token");
    check_field(cfg->region, c->region, c->name, "region");
    check_field(cfg->endpoint, c->endpoint, c->name, "endpoint");
    check_field(cfg->ca_bundle, c->ca, c->name, "ca_bundle");
    check_field(cfg->profile, c->profile, c->name, "profile");
    check_int((int)cfg->addressing, c->addressing, c->name, "addressing");
    check_int(cfg->insecure, c->insecure, c->name, "insecure");
    check_int((int)cfg->payload_signing, c->payload, c->name, "payload_signing");
}

/* The formatted error holds every wanted substring and no secret. */
static void check_error(const struct s3dlio_error *err, const char *const *msg, const char *name)
{
    char line[2048];
    s3dlio_error_format(err, line, sizeof(line));
    for (int i = 0; i < 2 && msg[i]; i++) {
        CHECK(contains(line, msg[i]), name);
        if (!contains(line, msg[i]))
            fprintf(stderr, "  message: %s\n  wanted:  %s\n", line, msg[i]);
    }
    CHECK(!strstr(line, MARK), name);
}

static void run_case(const struct load_case *c)
{
    char envbuf[8][1024];
    const char *envp[9] = {0};
    for (int i = 0; i < 8 && c->env[i]; i++)
        envp[i] = expand(c->env[i], envbuf[i], sizeof(envbuf[i]));
    put("home/.aws/config", c->config);
    put("home/.aws/credentials", c->credentials);
    put("dotenv", c->dotenv);
    put("alt/config", c->alt_config);
    put("alt/credentials", c->alt_credentials);

    struct s3dlio_config_sources src = {
        .environ = envp,
        .dotenv_path = path("dotenv"),
        .home = c->home_from_env ? NULL : path("home"),
    };
    struct s3dlio_config cfg = {0};
    struct s3dlio_error err = {0};
    enum s3dlio_rc rc = s3dlio_config_load(&cfg, &src, &err);
    CHECK_INT(rc, c->rc, c->name);
    check_error(&err, c->msg, c->name);
    if (!rc)
        check_fields(&cfg, c);
    else
        CHECK(!cfg.access_key && !cfg.secret_key && !cfg.region && !cfg.profile, c->name);
    s3dlio_config_release(&cfg);
}

struct validate_case {
    const char *name;
    const char *access, *secret, *region, *endpoint;
    enum s3dlio_rc rc;
    const char *msg;
};

static const struct validate_case vcases[] = {
    {"complete", "AKID", MARK, "us-east-1", NULL, S3DLIO_OK, NULL},
    {"http endpoint", "AKID", MARK, "us-east-1", "http://127.0.0.1:9000", S3DLIO_OK, NULL},
    {"https endpoint with path", "AKID", MARK, "x", "https://h.example/p", S3DLIO_OK, NULL},
    {"no access key", NULL, MARK, "us-east-1", NULL, S3DLIO_E_CONFIG,
     "config: configuration error: missing credentials: set AWS_ACCESS_KEY_ID and "
     "AWS_SECRET_ACCESS_KEY (environment, .env, or ~/.aws/credentials)"},
    {"no secret key", "AKID", NULL, "us-east-1", NULL, S3DLIO_E_CONFIG, "missing credentials"},
    {"empty secret key", "AKID", "", "us-east-1", NULL, S3DLIO_E_CONFIG, "missing credentials"},
    {"no region", "AKID", MARK, NULL, NULL, S3DLIO_E_CONFIG, "missing region"},
    {"endpoint without scheme", "AKID", MARK, "r", "localhost:9000", S3DLIO_E_CONFIG,
     "invalid endpoint 'localhost:9000': must start with http:// or https://"},
    {"endpoint with scheme only", "AKID", MARK, "r", "https://", S3DLIO_E_CONFIG,
     "invalid endpoint"},
    {"endpoint with user info is not echoed", "AKID", MARK, "r", "ftp://u:" MARK "@h",
     S3DLIO_E_CONFIG, "must start with http:// or https://"},
};

static void test_validate(void)
{
    for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
        const struct validate_case *v = &vcases[i];
        struct s3dlio_config cfg = {0};
        struct s3dlio_error err = {0};
        s3dlio_config_set(&cfg.access_key, v->access);
        s3dlio_config_set(&cfg.secret_key, v->secret);
        s3dlio_config_set(&cfg.region, v->region);
        s3dlio_config_set(&cfg.endpoint, v->endpoint);
        CHECK_INT(s3dlio_config_validate(&cfg, &err), v->rc, v->name);
        const char *msg[2] = {v->msg, NULL};
        check_error(&err, msg, v->name);
        s3dlio_config_release(&cfg);
    }
}

/* Unreadable files are errors naming the path; missing ones are not (see the table). */
static void test_unreadable(void)
{
    struct s3dlio_config cfg = {0};
    struct s3dlio_error err = {0};
    const char *no_env[] = {NULL};
    char isdir[1024], home[1024], dotenv[1024];
    snprintf(isdir, sizeof(isdir), "%s", path("isdir"));
    snprintf(home, sizeof(home), "%s", path("home"));
    snprintf(dotenv, sizeof(dotenv), "%s", path("dotenv"));
    struct s3dlio_config_sources src = {no_env, isdir, home};
    const char *msg[2] = {"config '@/isdir'", "cannot read"};
    CHECK_INT(s3dlio_config_load(&cfg, &src, &err), S3DLIO_E_IO, "directory as .env");
    CHECK_INT(err.sys_errno, EISDIR, "directory as .env: errno");
    check_error(&err, msg, "directory as .env");

    /* permission bits do not stop root, so this half runs only as a normal user */
    put("home/.aws/credentials", CRED_DEFAULT);
    chmod(path("home/.aws/credentials"), 0);
    if (access(path("home/.aws/credentials"), R_OK)) {
        const char *msg2[2] = {"config '@/home/.aws/credentials'", "Permission denied"};
        s3dlio_error_clear(&err);
        src.dotenv_path = dotenv;
        put("dotenv", NULL);
        CHECK_INT(s3dlio_config_load(&cfg, &src, &err), S3DLIO_E_IO, "unreadable credentials");
        check_error(&err, msg2, "unreadable credentials");
    }
    chmod(path("home/.aws/credentials"), 0600);
    s3dlio_config_release(&cfg);
}

static void test_release_and_defaults(void)
{
    struct s3dlio_config cfg = {0};
    const char *no_env[] = {NULL};
    struct s3dlio_config_sources src = {no_env, path("none"), path("none")};

    s3dlio_config_release(&cfg); /* zeroed */
    s3dlio_config_release(NULL);
    CHECK_INT(s3dlio_config_load(&cfg, &src, NULL), S3DLIO_OK, "load with err NULL");
    CHECK_INT(cfg.connect_timeout_ms, 10000, "default connect_timeout_ms");
    CHECK_INT(cfg.low_speed_time_s, 30, "default low_speed_time_s");
    s3dlio_config_set(&cfg.secret_key, MARK);
    s3dlio_config_set(&cfg.secret_key, "second");
    CHECK_STR(cfg.secret_key, "second", "config_set replaces");
    s3dlio_config_set(&cfg.secret_key, NULL);
    CHECK(cfg.secret_key == NULL, "config_set NULL clears");
    s3dlio_config_release(&cfg);
    CHECK(!cfg.region && !cfg.profile && !cfg.connect_timeout_ms, "release zeroes");
    s3dlio_config_release(&cfg); /* released: second call is a no-op */
}

/* sync --source-profile: another profile's keys over a copy of the first connection. */
static void test_copy_and_profile(void)
{
    const char *env[] = {"AWS_ACCESS_KEY_ID=envkey", "AWS_SECRET_ACCESS_KEY=envsecret",
                         "AWS_SESSION_TOKEN=envtoken", "AWS_PROFILE=default", NULL};
    struct s3dlio_config_sources src = {env, path("none"), path("home")};
    struct s3dlio_config base = {0}, copy, left;
    struct s3dlio_error err = {0};
    put("home/.aws/credentials", "[default]\naws_access_key_id = dk\naws_secret_access_key = ds\n"
                                 "[other]\naws_access_key_id = ok\naws_secret_access_key = os\n"
                                 "[nokeys]\nregion = eu-west-1\n");
    put("home/.aws/config", "[profile nokeys]\nregion = eu-west-1\n");
    CHECK_INT(s3dlio_config_load(&base, &src, NULL), S3DLIO_OK, "load the first connection");
    s3dlio_config_set(&base.endpoint, "http://dst:1");
    s3dlio_config_copy(&copy, &base);
    CHECK(copy.endpoint != base.endpoint, "the copy owns its strings");
    CHECK_STR(copy.endpoint, "http://dst:1", "the copy has the endpoint");
    CHECK_INT(s3dlio_config_use_profile(&copy, "other", &src, &err), S3DLIO_OK, "use profile other");
    CHECK_STR(copy.access_key, "ok", "the named profile's key beats the environment's");
    CHECK_STR(copy.secret_key, "os", "the named profile's secret");
    CHECK(copy.session_token == NULL, "the environment's session token is not kept");
    CHECK_STR(copy.endpoint, "http://dst:1", "other settings stay");
    CHECK_STR(base.access_key, "envkey", "the first connection is untouched");
    s3dlio_config_copy(&left, &base);
    CHECK_INT(s3dlio_config_use_profile(&left, "nosuch", &src, &err), S3DLIO_E_CONFIG,
              "a missing profile fails");
    CHECK(strstr(err.message, "nosuch") || strstr(err.target, "nosuch"), "the error names it");
    memset(&err, 0, sizeof(err));
    CHECK_INT(s3dlio_config_use_profile(&left, "nokeys", &src, &err), S3DLIO_E_CONFIG,
              "a profile without keys fails");
    CHECK_STR(left.access_key, "envkey", "a failure leaves the keys as they were");
    s3dlio_config_release(&left);
    s3dlio_config_release(&copy);
    s3dlio_config_release(&base);
}

static void fixture_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/test_config.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp %s: %s\n", dir, strerror(errno));
        exit(2);
    }
    const char *dirs[] = {"home", "home/.aws", "alt", "isdir"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        mkdir(path(dirs[i]), 0700);
}

static void fixture_cleanup(void)
{
    const char *files[] = {"home/.aws/config", "home/.aws/credentials", "dotenv", "alt/config",
                           "alt/credentials"};
    const char *dirs[] = {"home/.aws", "home", "alt", "isdir"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        unlink(path(files[i]));
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        rmdir(path(dirs[i]));
    rmdir(dir);
}

int main(void)
{
    fixture_dir();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
    test_validate();
    test_unreadable();
    test_release_and_defaults();
    test_copy_and_profile();
    fixture_cleanup();
    TEST_DONE();
}
