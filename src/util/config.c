/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection settings from the places AWS users keep them: ~/.aws/config and ~/.aws/credentials,
 * a .env file and the environment, in the precedence given in s3dlio/config.h.
 *
 * Read from the environment and from .env (same names in both; other names are ignored):
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *   AWS_REGION, AWS_DEFAULT_REGION      AWS_REGION wins when one source sets both
 *   AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL   the S3 one wins when one source sets both
 *   AWS_CA_BUNDLE, AWS_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE
 *   S3DLIO_ADDRESSING=auto|path|virtual URL style (auto: path for custom endpoints)
 *   S3DLIO_INSECURE=1|0                 skip TLS verification (also true/false, yes/no, on/off)
 * Read from the profile's section of either ini file:
 *   aws_access_key_id, aws_secret_access_key, aws_session_token, region, endpoint_url,
 *   ca_bundle, services, and in a nested "s3 =" block: endpoint_url, addressing_style,
 *   payload_signing_enabled. The block may also sit in the [services NAME] section that the
 *   profile's "services = NAME" names; the profile's own block wins over it.
 *
 * How sources combine:
 * - A higher source overrides a lower one setting by setting, so an environment
 *   AWS_DEFAULT_REGION beats a .env AWS_REGION; the "wins" pairs above apply within a source.
 * - Credentials are the exception: access key, secret key and session token are taken together
 *   from the highest source that sets an access or secret key, as the AWS CLI's credential
 *   providers do, so a session token is never paired with keys it was not issued for.
 * - An empty value counts as unset, so `AWS_REGION= cmd` does not hide the profile's region.
 * - Every string that may hold a secret is wiped before it is freed, including file contents;
 *   messages name files, lines and settings but never quote a line or a credential.
 *
 * Thread rules: s3dlio_config_load reads the process environment when no environ array is
 * given, so it must not race with setenv(); call it once at start-up.
 */
#include "s3dlio/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

/* POSIX, but <unistd.h> only declares it with _GNU_SOURCE. */
extern char **environ;

#define DEFAULT_REGION "us-east-1"
#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_LOW_SPEED_TIME_S 30L
/* Real config files are a few hundred bytes; refuse anything huge rather than read it. */
#define CONFIG_FILE_MAX (1024 * 1024)

/* Every setting any source can hold; each source spells them its own way (tables below). */
enum setting {
    S_ACCESS_KEY,
    S_SECRET_KEY,
    S_SESSION_TOKEN,
    S_REGION,
    S_DEFAULT_REGION,
    S_ENDPOINT_S3,
    S_ENDPOINT,
    S_CA_BUNDLE,
    S_ADDRESSING,
    S_INSECURE,
    S_PAYLOAD_SIGNING,
    S_PROFILE,
    S_CONFIG_FILE,
    S_CREDENTIALS_FILE,
    S_SERVICES,
    S_COUNT
};

static const char *const env_names[S_COUNT] = {
    [S_ACCESS_KEY] = "AWS_ACCESS_KEY_ID",
    [S_SECRET_KEY] = "AWS_SECRET_ACCESS_KEY",
    [S_SESSION_TOKEN] = "AWS_SESSION_TOKEN",
    [S_REGION] = "AWS_REGION",
    [S_DEFAULT_REGION] = "AWS_DEFAULT_REGION",
    [S_ENDPOINT_S3] = "AWS_ENDPOINT_URL_S3",
    [S_ENDPOINT] = "AWS_ENDPOINT_URL",
    [S_CA_BUNDLE] = "AWS_CA_BUNDLE",
    [S_ADDRESSING] = "S3DLIO_ADDRESSING",
    [S_INSECURE] = "S3DLIO_INSECURE",
    [S_PROFILE] = "AWS_PROFILE",
    [S_CONFIG_FILE] = "AWS_CONFIG_FILE",
    [S_CREDENTIALS_FILE] = "AWS_SHARED_CREDENTIALS_FILE",
};

/* Keys directly in a profile section. */
static const char *const ini_names[S_COUNT] = {
    [S_ACCESS_KEY] = "aws_access_key_id",
    [S_SECRET_KEY] = "aws_secret_access_key",
    [S_SESSION_TOKEN] = "aws_session_token",
    [S_REGION] = "region",
    [S_ENDPOINT] = "endpoint_url",
    [S_CA_BUNDLE] = "ca_bundle",
    [S_SERVICES] = "services",
};

/* Keys in the nested "s3 =" block of a profile. */
static const char *const ini_s3_names[S_COUNT] = {
    [S_ENDPOINT_S3] = "endpoint_url",
    [S_ADDRESSING] = "addressing_style",
    [S_PAYLOAD_SIGNING] = "payload_signing_enabled",
};

/* One source of settings before precedence is applied. Values are heap copies or NULL. */
struct layer {
    char *v[S_COUNT];
    const char *origin;       /* borrowed: file path or "environment", for messages */
    const char *const *names; /* how this source spells each setting, for messages */
    bool found;               /* ini: the profile's section exists in this file */
};

/* A file's contents, NUL-terminated; data is NULL for a missing file. */
struct text {
    char *data;
    size_t len;
    size_t alloc;
};

/* One "[services NAME]" s3 endpoint; both point into the config file's text. */
struct svc_endpoint {
    const char *name;
    const char *url;
};

struct ini_ctx {
    struct layer *l;
    const char *profile;
    bool config_file;    /* config: [profile NAME] and [default]; credentials: [NAME] */
    bool in_profile;     /* the current section is the wanted profile */
    const char *svc;     /* the current section is [services NAME]: NAME, else NULL */
    struct svc_endpoint *svcs;
    size_t nsvcs;
    size_t svcs_alloc;
};

/* Where ini_walk is in a file: nested "  sub = value" lines belong to the last key. */
struct ini_state {
    const char *section;
    const char *parent;
    size_t parent_indent;
    bool nested_ok; /* the parent's value was empty, so indented lines are its block */
};

/* One entry seen by ini_walk: key = value, or key.sub = value in a nested block. */
typedef void ini_entry_fn(void *ud, const char *section, const char *key, const char *sub,
                          const char *value);

/* Stores through a volatile pointer, which the compiler may not drop as dead. */
static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

static void free_wiped(char *s)
{
    if (!s)
        return;
    wipe(s, strlen(s));
    free(s);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static char *skip_blank(char *s)
{
    while (is_blank(*s))
        s++;
    return s;
}

static void rtrim(char *s)
{
    size_t n = strlen(s);
    while (n && (is_blank(s[n - 1]) || s[n - 1] == '\r'))
        s[--n] = '\0';
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* ASCII case-insensitive equality, without relying on POSIX strcasecmp. */
static bool same_word(const char *a, const char *b)
{
    while (*a && tolower((unsigned char)*a) == tolower((unsigned char)*b))
        a++, b++;
    return !*a && !*b;
}

static bool is_empty(const char *s)
{
    return !s || !*s;
}

/* The setting spelt name[0..n) in names, or S_COUNT. */
static enum setting lookup(const char *const *names, const char *name, size_t n)
{
    for (int s = 0; s < S_COUNT; s++)
        if (names[s] && strlen(names[s]) == n && !memcmp(names[s], name, n))
            return (enum setting)s;
    return S_COUNT;
}

static void layer_set(struct layer *l, enum setting s, const char *value)
{
    free_wiped(l->v[s]);
    l->v[s] = *value ? s3dlio_xstrdup(value) : NULL;
}

static void layer_release(struct layer *l)
{
    for (int s = 0; s < S_COUNT; s++)
        free_wiped(l->v[s]);
    memset(l, 0, sizeof(*l));
}

static const char *setting_name(const struct layer *l, enum setting s)
{
    if (l->names[s])
        return l->names[s];
    return l->names == ini_names && ini_s3_names[s] ? ini_s3_names[s] : "setting";
}

/* ---- sources: environment and files ------------------------------------------------------ */

static void env_layer(struct layer *l, const char *const *env)
{
    for (; *env; env++) {
        const char *eq = strchr(*env, '=');
        enum setting s = eq ? lookup(env_names, *env, (size_t)(eq - *env)) : S_COUNT;
        if (s != S_COUNT)
            layer_set(l, s, eq + 1);
    }
}

static const char *env_get(const char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (; *env; env++)
        if (!strncmp(*env, name, n) && (*env)[n] == '=')
            return *env + n + 1;
    return NULL;
}

/* The value from the environment, else from .env; it decides which files are read. */
static const char *pick(const struct layer *env, const struct layer *dotenv, enum setting s)
{
    return env->v[s] ? env->v[s] : dotenv->v[s];
}

static void text_free(struct text *t)
{
    if (t->data) {
        wipe(t->data, t->alloc);
        free(t->data);
    }
    memset(t, 0, sizeof(*t));
}

/* Grown by hand, not with s3dlio_buf: realloc would leave unwiped copies of secrets behind. */
static void text_add(struct text *t, const char *p, size_t n)
{
    if (t->len + n + 1 > t->alloc) {
        size_t cap = t->alloc ? t->alloc : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *d = s3dlio_xmalloc(cap);
        size_t len = t->len;
        if (len)
            memcpy(d, t->data, len);
        text_free(t);
        *t = (struct text){d, len, cap};
    }
    memcpy(t->data + t->len, p, n);
    t->len += n;
    t->data[t->len] = '\0';
}

/* Read path into t. A missing file leaves t->data NULL and is not an error. */
static enum s3dlio_rc read_file(const char *path, struct text *t, struct s3dlio_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT || errno == ENOTDIR ? S3DLIO_OK
                                                   : s3dlio_error_sys(err, "config", path, errno,
                                                                      "cannot read");
    /* unbuffered: stdio would keep a copy of the secrets in a buffer that fclose never wipes */
    setvbuf(f, NULL, _IONBF, 0);
    char chunk[4096];
    size_t n;
    enum s3dlio_rc rc = S3DLIO_OK;
    errno = 0;
    while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (t->len + n > CONFIG_FILE_MAX)
            rc = s3dlio_error_set(err, S3DLIO_E_CONFIG, "config", path,
                                  "file is larger than %d bytes", CONFIG_FILE_MAX);
        else
            text_add(t, chunk, n);
    }
    if (!rc && ferror(f))
        rc = s3dlio_error_sys(err, "config", path, errno ? errno : EIO, "cannot read");
    wipe(chunk, sizeof(chunk));
    fclose(f);
    return rc;
}

/* ---- .env ----------------------------------------------------------------------------------- */

/* Decode a quoted value in place: the result is never longer than the text. */
static char *dotenv_double_quoted(char *s)
{
    char *out = s;
    for (char *in = s + 1; *in; in++) {
        if (*in == '"') {
            *out = '\0';
            return in + 1;
        }
        if (*in == '\\' && (in[1] == 'n' || in[1] == '"' || in[1] == '\\')) {
            in++;
            *out++ = *in == 'n' ? '\n' : *in;
            continue;
        }
        *out++ = *in; /* other backslashes are kept as written */
    }
    return NULL;
}

/*
 * Decode the value starting at s in place. Returns the text after it (after the closing
 * quote), or NULL for an unterminated quote. An unquoted value ends at a '#' that follows
 * a blank, as in Docker Compose, so "p#ss" keeps its '#'.
 */
static char *dotenv_value(char *s)
{
    if (*s == '"')
        return dotenv_double_quoted(s);
    if (*s == '\'') {
        char *end = strchr(s + 1, '\'');
        if (!end)
            return NULL;
        size_t n = (size_t)(end - s - 1);
        memmove(s, s + 1, n); /* single quotes: literal, no escapes */
        s[n] = '\0';
        return end + 1;
    }
    char *p = s;
    while (*p && !(*p == '#' && is_blank(p[-1]))) /* p[-1] is '=' or a blank at worst */
        p++;
    *p = '\0';
    rtrim(s);
    return p;
}

/* Parse one .env line into l; returns what is wrong with it, or NULL. */
static const char *dotenv_line(char *line, struct layer *l)
{
    char *s = skip_blank(line);
    rtrim(s);
    if (!*s || *s == '#')
        return NULL;
    if (!strncmp(s, "export", 6) && is_blank(s[6]))
        s = skip_blank(s + 6);
    char *key = s;
    if (!isalpha((unsigned char)*s) && *s != '_')
        return "expected KEY=VALUE";
    while (isalnum((unsigned char)*s) || *s == '_')
        s++;
    size_t klen = (size_t)(s - key);
    s = skip_blank(s);
    if (*s != '=')
        return "expected KEY=VALUE";
    char *value = skip_blank(s + 1);
    char *rest = dotenv_value(value);
    if (!rest)
        return "unterminated quote";
    rest = skip_blank(rest);
    if (*rest && *rest != '#')
        return "unexpected text after the closing quote";
    enum setting se = lookup(env_names, key, klen);
    if (se != S_COUNT)
        layer_set(l, se, value);
    return NULL;
}

static enum s3dlio_rc dotenv_parse(char *text, struct layer *l, struct s3dlio_error *err)
{
    if (!strncmp(text, "\xEF\xBB\xBF", 3)) /* UTF-8 BOM left by some editors */
        text += 3;
    int lineno = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        const char *why = dotenv_line(line, l);
        if (why) /* never quote the line: it may hold a secret */
            return s3dlio_error_set(err, S3DLIO_E_CONFIG, "config", l->origin, "line %d: %s",
                                    lineno, why);
    }
    return S3DLIO_OK;
}

static enum s3dlio_rc load_dotenv(struct layer *l, struct s3dlio_error *err)
{
    struct text t = {0};
    enum s3dlio_rc rc = read_file(l->origin, &t, err);
    if (!rc && t.data)
        rc = dotenv_parse(t.data, l, err);
    text_free(&t);
    return rc;
}

/* ---- ~/.aws/config and ~/.aws/credentials --------------------------------------------------- */

/* An indented line under a key with an empty value: "  sub = value" of a nested block. */
static const char *ini_nested(char *s, struct ini_state *st, ini_entry_fn *fn, void *ud)
{
    if (!st->nested_ok)
        return NULL; /* continuation of a multi-line value: none of the keys we read has one */
    char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return "expected 'name = value' in a nested block";
    *eq = '\0';
    rtrim(s);
    lower(s);
    fn(ud, st->section, st->parent, s, skip_blank(eq + 1));
    return NULL;
}

/* Parse one ini line; returns what is wrong with it, or NULL. Mirrors Python's configparser. */
static const char *ini_line(char *line, struct ini_state *st, ini_entry_fn *fn, void *ud)
{
    rtrim(line);
    size_t indent = strspn(line, " \t");
    char *s = line + indent;
    if (!*s || *s == '#' || *s == ';')
        return NULL;
    if (*s == '[') {
        char *end = strrchr(s, ']');
        if (!end)
            return "expected ']' to close the section name";
        *end = '\0';
        s = skip_blank(s + 1);
        rtrim(s);
        *st = (struct ini_state){.section = s};
        fn(ud, s, NULL, NULL, NULL);
        return NULL;
    }
    if (!st->section)
        return "setting before the first [section]";
    if (st->parent && indent > st->parent_indent)
        return ini_nested(s, st, fn, ud);
    char *eq = s + strcspn(s, "=:");
    if (!*eq)
        return "expected 'name = value'";
    *eq = '\0';
    rtrim(s);
    lower(s);
    char *value = skip_blank(eq + 1);
    fn(ud, st->section, s, NULL, value);
    st->parent = s;
    st->parent_indent = indent;
    st->nested_ok = !*value;
    return NULL;
}

/* Split text into lines in place and hand every entry to fn. */
static enum s3dlio_rc ini_walk(char *text, const char *path, ini_entry_fn *fn, void *ud,
                               struct s3dlio_error *err)
{
    struct ini_state st = {0};
    int lineno = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        const char *why = ini_line(line, &st, fn, ud);
        if (why) /* never quote the line: it may hold a secret */
            return s3dlio_error_set(err, S3DLIO_E_CONFIG, "config", path, "line %d: %s", lineno,
                                    why);
    }
    return S3DLIO_OK;
}

/* "profile  dev" -> "dev" for word "profile"; NULL when section is not of that form. */
static const char *section_arg(const char *section, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(section, word, n) || !is_blank(section[n]))
        return NULL;
    while (is_blank(section[n]))
        n++;
    return section + n;
}

static bool section_is_profile(const struct ini_ctx *c, const char *section)
{
    if (!c->config_file)
        return !strcmp(section, c->profile);
    if (!strcmp(c->profile, "default") && !strcmp(section, "default"))
        return true;
    const char *name = section_arg(section, "profile");
    return name && !strcmp(name, c->profile);
}

static void ini_entry(void *ud, const char *section, const char *key, const char *sub,
                      const char *value)
{
    struct ini_ctx *c = ud;
    if (!key) {
        c->in_profile = section_is_profile(c, section);
        c->svc = c->config_file ? section_arg(section, "services") : NULL;
        c->l->found |= c->in_profile;
        return;
    }
    if (c->svc && sub && !strcmp(key, "s3") && !strcmp(sub, "endpoint_url")) {
        s3dlio_xgrow((void **)&c->svcs, sizeof(*c->svcs), c->nsvcs + 1, &c->svcs_alloc);
        c->svcs[c->nsvcs++] = (struct svc_endpoint){c->svc, value};
        return;
    }
    if (!c->in_profile)
        return;
    enum setting s = S_COUNT;
    if (!sub)
        s = lookup(ini_names, key, strlen(key));
    else if (!strcmp(key, "s3"))
        s = lookup(ini_s3_names, sub, strlen(sub));
    if (s != S_COUNT)
        layer_set(c->l, s, value);
}

/* "services = NAME" in the profile: take the s3 endpoint of [services NAME], the last one. */
static void resolve_services(struct ini_ctx *c)
{
    const char *want = c->l->v[S_SERVICES];
    if (!want || c->l->v[S_ENDPOINT_S3])
        return;
    for (size_t i = c->nsvcs; i-- > 0;) {
        if (!strcmp(c->svcs[i].name, want)) {
            layer_set(c->l, S_ENDPOINT_S3, c->svcs[i].url);
            return;
        }
    }
}

static enum s3dlio_rc load_ini(struct layer *l, const char *path, const char *profile,
                               bool config_file, struct s3dlio_error *err)
{
    struct ini_ctx c = {.l = l, .profile = profile, .config_file = config_file};
    struct text t = {0};
    enum s3dlio_rc rc = S3DLIO_OK;
    l->origin = path;
    l->names = ini_names;
    if (!path)
        return S3DLIO_OK; /* no HOME and no override: nothing to read */
    rc = read_file(path, &t, err);
    if (!rc && t.data)
        rc = ini_walk(t.data, path, ini_entry, &c, err);
    if (!rc)
        resolve_services(&c); /* before text_free: the entries point into t */
    free(c.svcs);
    text_free(&t);
    return rc;
}

/* AWS_CONFIG_FILE-style override (a leading "~/" expanded), else ~/.aws/<leaf>; NULL if neither. */
static char *aws_path(const char *override, const char *home, const char *leaf)
{
    bool tilde = override && override[0] == '~' && override[1] == '/';
    if (override && !(tilde && home))
        return s3dlio_xstrdup(override);
    if (!home)
        return NULL;
    size_t n = strlen(home) + strlen("/.aws/") + strlen(override ? override : leaf) + 1;
    char *p = s3dlio_xmalloc(n);
    if (override)
        snprintf(p, n, "%s%s", home, override + 1);
    else
        snprintf(p, n, "%s/.aws/%s", home, leaf);
    return p;
}

static enum s3dlio_rc profile_missing(const char *profile, const char *conf_path,
                                      const char *cred_path, struct s3dlio_error *err)
{
    const char *none = "(no file: HOME is not set)";
    return s3dlio_error_set(err, S3DLIO_E_CONFIG, "config", NULL,
                            "profile '%s' not found in '%s' or '%s'", profile,
                            conf_path ? conf_path : none, cred_path ? cred_path : none);
}

/* ---- precedence ---------------------------------------------------------------------------- */

static enum s3dlio_rc bad_value(const struct layer *l, enum setting s, const char *expected,
                                struct s3dlio_error *err)
{
    return s3dlio_error_set(err, S3DLIO_E_CONFIG, "config", l->origin,
                            "invalid %s '%.64s': expected %s", setting_name(l, s), l->v[s],
                            expected);
}

static enum s3dlio_rc parse_bool(const struct layer *l, enum setting s, bool *out,
                                 struct s3dlio_error *err)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (same_word(l->v[s], yes[i]) || same_word(l->v[s], no[i])) {
            *out = same_word(l->v[s], yes[i]);
            return S3DLIO_OK;
        }
    }
    return bad_value(l, s, "1 or 0 (true/false, yes/no, on/off)", err);
}

static enum s3dlio_rc parse_addressing(const struct layer *l, enum s3dlio_addressing *out,
                                       struct s3dlio_error *err)
{
    static const struct {
        const char *name;
        enum s3dlio_addressing value;
    } styles[] = {{"auto", S3DLIO_ADDR_AUTO}, {"path", S3DLIO_ADDR_PATH},
                  {"virtual", S3DLIO_ADDR_VIRTUAL}};
    for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++) {
        if (same_word(l->v[S_ADDRESSING], styles[i].name)) {
            *out = styles[i].value;
            return S3DLIO_OK;
        }
    }
    return bad_value(l, S_ADDRESSING, "auto, path or virtual", err);
}

static void set_first(char **field, const char *a, const char *b)
{
    if (a || b)
        s3dlio_config_set(field, a ? a : b);
}

static enum s3dlio_rc apply_layer(struct s3dlio_config *cfg, const struct layer *l,
                                  struct s3dlio_error *err)
{
    char *const *v = l->v;
    enum s3dlio_rc rc = S3DLIO_OK;
    if (v[S_ACCESS_KEY] || v[S_SECRET_KEY]) { /* one set: see the top of this file */
        s3dlio_config_set(&cfg->access_key, v[S_ACCESS_KEY]);
        s3dlio_config_set(&cfg->secret_key, v[S_SECRET_KEY]);
        s3dlio_config_set(&cfg->session_token, v[S_SESSION_TOKEN]);
    }
    set_first(&cfg->region, v[S_REGION], v[S_DEFAULT_REGION]);
    set_first(&cfg->endpoint, v[S_ENDPOINT_S3], v[S_ENDPOINT]);
    set_first(&cfg->ca_bundle, v[S_CA_BUNDLE], NULL);
    if (v[S_ADDRESSING])
        rc = parse_addressing(l, &cfg->addressing, err);
    if (!rc && v[S_INSECURE])
        rc = parse_bool(l, S_INSECURE, &cfg->insecure, err);
    if (!rc && v[S_PAYLOAD_SIGNING]) {
        bool full = false;
        rc = parse_bool(l, S_PAYLOAD_SIGNING, &full, err);
        cfg->payload_signing = full ? S3DLIO_PAYLOAD_FULL : S3DLIO_PAYLOAD_UNSIGNED;
    }
    return rc;
}

/* Defaults, then the layers from lowest to highest precedence. */
static enum s3dlio_rc apply_all(struct s3dlio_config *cfg, struct layer *const *layers, size_t n,
                                const char *profile, struct s3dlio_error *err)
{
    enum s3dlio_rc rc = S3DLIO_OK;
    cfg->addressing = S3DLIO_ADDR_AUTO;
    cfg->payload_signing = S3DLIO_PAYLOAD_UNSIGNED;
    cfg->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    cfg->low_speed_time_s = DEFAULT_LOW_SPEED_TIME_S;
    cfg->retries = 5;            /* as --retries: transient failures of single calls */
    cfg->retry_time_ms = 30000;  /* as --retry-time: outlast a server restart */
    cfg->retry_base_ms = 100;
    cfg->retry_cap_ms = 10000;
    cfg->max_connections = 200;
    for (size_t i = 0; !rc && i < n; i++)
        rc = apply_layer(cfg, layers[i], err);
    if (!cfg->region)
        cfg->region = s3dlio_xstrdup(DEFAULT_REGION);
    cfg->profile = s3dlio_xstrdup(profile ? profile : "default");
    return rc;
}

/* ---- public ------------------------------------------------------------------------------- */

enum s3dlio_rc s3dlio_config_load(struct s3dlio_config *cfg,
                                  const struct s3dlio_config_sources *src,
                                  struct s3dlio_error *err)
{
    static const char *const no_env[] = {NULL};
    static const struct s3dlio_config_sources defaults = {0};
    struct layer env = {.origin = "environment", .names = env_names};
    struct layer dotenv = {.names = env_names}, conf = {0}, cred = {0};
    char *conf_path = NULL, *cred_path = NULL;
    enum s3dlio_rc rc;

    if (!src)
        src = &defaults;
    memset(cfg, 0, sizeof(*cfg));
    const char *const *envp = src->environ ? src->environ : (const char *const *)environ;
    if (!envp)
        envp = no_env; /* after clearenv() */
    env_layer(&env, envp);
    dotenv.origin = src->dotenv_path ? src->dotenv_path : ".env";
    rc = load_dotenv(&dotenv, err);

    /* which profile and which files: decided by the environment and .env only */
    const char *profile = pick(&env, &dotenv, S_PROFILE);
    const char *home = src->home ? src->home : env_get(envp, "HOME");
    if (is_empty(home))
        home = NULL;
    conf_path = aws_path(pick(&env, &dotenv, S_CONFIG_FILE), home, "config");
    cred_path = aws_path(pick(&env, &dotenv, S_CREDENTIALS_FILE), home, "credentials");
    if (!rc)
        rc = load_ini(&conf, conf_path, profile ? profile : "default", true, err);
    if (!rc)
        rc = load_ini(&cred, cred_path, profile ? profile : "default", false, err);
    /* only a profile the user named must exist; "default" may well be absent */
    if (!rc && profile && !conf.found && !cred.found)
        rc = profile_missing(profile, conf_path, cred_path, err);
    if (!rc) {
        struct layer *const order[] = {&conf, &cred, &dotenv, &env};
        rc = apply_all(cfg, order, sizeof(order) / sizeof(order[0]), profile, err);
    }

    layer_release(&env);
    layer_release(&dotenv);
    layer_release(&conf);
    layer_release(&cred);
    free(conf_path);
    free(cred_path);
    if (rc)
        s3dlio_config_release(cfg);
    return rc;
}

enum s3dlio_rc s3dlio_config_validate(const struct s3dlio_config *cfg, struct s3dlio_error *err)
{
    const char *ep = cfg->endpoint;
    if (is_empty(cfg->access_key) || is_empty(cfg->secret_key))
        return s3dlio_error_set(err, S3DLIO_E_CONFIG, "config", NULL,
                                "missing credentials: set AWS_ACCESS_KEY_ID and "
                                "AWS_SECRET_ACCESS_KEY (environment, .env, or ~/.aws/credentials)");
    if (is_empty(cfg->region))
        return s3dlio_error_set(err, S3DLIO_E_CONFIG, "config", NULL,
                                "missing region: set AWS_REGION (environment or .env) or region "
                                "in ~/.aws/config");
    if (!ep)
        return S3DLIO_OK;
    size_t scheme = !strncmp(ep, "http://", 7) ? 7 : !strncmp(ep, "https://", 8) ? 8 : 0;
    /* an endpoint with '@' may hold "user:password": show it only without one */
    if (!scheme || !ep[scheme] || ep[scheme] == '/')
        return s3dlio_error_set(err, S3DLIO_E_CONFIG, "config", NULL,
                                "invalid endpoint '%.200s': must start with http:// or https://",
                                strchr(ep, '@') ? "(not shown)" : ep);
    return S3DLIO_OK;
}

void s3dlio_config_set(char **field, const char *value)
{
    free_wiped(*field);
    *field = value ? s3dlio_xstrdup(value) : NULL;
}

void s3dlio_config_release(struct s3dlio_config *cfg)
{
    if (!cfg)
        return;
    free_wiped(cfg->access_key);
    free_wiped(cfg->secret_key);
    free_wiped(cfg->session_token);
    free_wiped(cfg->region);
    free_wiped(cfg->endpoint);
    free_wiped(cfg->ca_bundle);
    free_wiped(cfg->profile);
    memset(cfg, 0, sizeof(*cfg));
}
