/* owt_config.c - command-line options -> owt_config. */
#include "owt_config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
  OPT_VENV = 256,
  OPT_PYTHON_PATH,
  OPT_ADAPTORS,
  OPT_MAX_ADAPTORS,
  OPT_MAX_BODY,
  OPT_MAX_CODE,
  OPT_TIMEOUT,
  OPT_KILL_GRACE,
  OPT_DEBUG,
  OPT_NO_CODE,
  OPT_ALLOW_SHELL,
  OPT_AUTH,
  OPT_AUTH_FILE,
  OPT_HASH_PASSWORD,
  OPT_CGI,
  OPT_FASTCGI,
  OPT_MAX_REQUESTS,
  OPT_MAX_RSS,
  OPT_MEMORY_LIMIT,
  OPT_LISTEN,
  OPT_WORKERS,
  OPT_GRACE_TIMEOUT,
  OPT_USER,
  OPT_GROUP,
  OPT_SOCKET_MODE,
  OPT_PIDFILE,
  OPT_INSECURE,
  OPT_ALLOW_FROM,
  OPT_ENCODE,
  OPT_ONCE,
  OPT_QUERY,
  OPT_JSON,
  OPT_CURL,
  OPT_PATH,
  OPT_CACHE_DIR,
  OPT_CACHE_MAX_BYTES,
  OPT_CACHE_TTL,
  OPT_THREADS,
  OPT_IO_TIMEOUT,
  OPT_IDLE_TIMEOUT,
  OPT_ALLOW_INSTALL,
  OPT_CODE_STORE,
  OPT_CODE_STORE_MAX_BYTES,
  OPT_TRUST_KEY,
  OPT_REQUIRE_SIGNED,
  OPT_SIGN,
  OPT_KEY,
  OPT_BY_DIGEST,
  /* status, dashboard and request limits (docs/protocol.md §1, "Long requests") */
  OPT_MAX_QUERY,
  OPT_SCOREBOARD,
};

static const struct option long_options[] = {
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"venv", required_argument, NULL, OPT_VENV},
    {"python-path", required_argument, NULL, OPT_PYTHON_PATH},
    {"adaptors", required_argument, NULL, OPT_ADAPTORS},
    {"max-adaptors", required_argument, NULL, OPT_MAX_ADAPTORS},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"max-code", required_argument, NULL, OPT_MAX_CODE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"kill-grace", required_argument, NULL, OPT_KILL_GRACE},
    {"debug", no_argument, NULL, OPT_DEBUG},
    {"no-code", no_argument, NULL, OPT_NO_CODE},
    {"allow-shell", no_argument, NULL, OPT_ALLOW_SHELL},
    {"auth", required_argument, NULL, OPT_AUTH},
    {"auth-file", required_argument, NULL, OPT_AUTH_FILE},
    {"hash-password", optional_argument, NULL, OPT_HASH_PASSWORD},
    {"cgi", no_argument, NULL, OPT_CGI},
    {"fastcgi", no_argument, NULL, OPT_FASTCGI},
    {"max-requests", required_argument, NULL, OPT_MAX_REQUESTS},
    {"max-rss", required_argument, NULL, OPT_MAX_RSS},
    {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"grace-timeout", required_argument, NULL, OPT_GRACE_TIMEOUT},
    {"user", required_argument, NULL, OPT_USER},
    {"group", required_argument, NULL, OPT_GROUP},
    {"socket-mode", required_argument, NULL, OPT_SOCKET_MODE},
    {"pidfile", required_argument, NULL, OPT_PIDFILE},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"allow-from", required_argument, NULL, OPT_ALLOW_FROM},
    {"encode", no_argument, NULL, OPT_ENCODE},
    {"once", no_argument, NULL, OPT_ONCE},
    {"query", no_argument, NULL, OPT_QUERY},
    {"json", no_argument, NULL, OPT_JSON},
    {"curl", required_argument, NULL, OPT_CURL},
    {"path", required_argument, NULL, OPT_PATH},
    {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
    {"cache-max-bytes", required_argument, NULL, OPT_CACHE_MAX_BYTES},
    {"cache-ttl", required_argument, NULL, OPT_CACHE_TTL},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"io-timeout", required_argument, NULL, OPT_IO_TIMEOUT},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"allow-install", no_argument, NULL, OPT_ALLOW_INSTALL},
    {"code-store", required_argument, NULL, OPT_CODE_STORE},
    {"code-store-max-bytes", required_argument, NULL, OPT_CODE_STORE_MAX_BYTES},
    {"trust-key", required_argument, NULL, OPT_TRUST_KEY},
    {"require-signed", no_argument, NULL, OPT_REQUIRE_SIGNED},
    {"sign", required_argument, NULL, OPT_SIGN},
    {"key", required_argument, NULL, OPT_KEY},
    {"by-digest", no_argument, NULL, OPT_BY_DIGEST},
    {"max-query", required_argument, NULL, OPT_MAX_QUERY},
    {"scoreboard", required_argument, NULL, OPT_SCOREBOARD},
    {NULL, 0, NULL, 0},
};

void owt_config_usage(FILE *out) {
  fputs("usage: owt-fcgi [options]\n"
        "\n"
        "A FastCGI responder that runs the Python adaptor code each request carries.\n"
        "Started with a listening socket on fd 0 (lighttpd bin-path, spawn-fcgi,\n"
        "Apache mod_fcgid) it serves FastCGI; otherwise it serves one CGI request.\n"
        "\n"
        "  -v, -vv, -vvv          log warnings / one line per request / debug\n"
        "  --venv DIR             run against the virtualenv DIR (same Python minor version)\n"
        "  --python-path DIR      add DIR to sys.path (repeatable)\n"
        "  --adaptors DIR         a directory of named adaptors, importable by name (repeatable)\n"
        "  --max-adaptors N       warm adaptors kept per worker (LRU; default 64)\n"
        "  --max-body BYTES       request body limit, K/M/G suffixes (default 16M): 413\n"
        "  --max-code BYTES       decoded code limit (default 8M): 413\n"
        "  --max-query BYTES      query string limit, the GET limit (default 28K): 414, POST it\n"
        "  --timeout SECONDS      adaptor time limit (default 300; 0: none): 504\n"
        "  --kill-grace SECONDS   after the timeout, end a worker stuck in C code (default 5)\n"
        "  --debug                put tracebacks into 500 bodies\n"
        "  --no-code              refuse code sent in requests (403); serve named adaptors only\n"
        "  --allow-shell          allow pipe().shell()\n"
        "  --allow-install        let pipe().installing() pip-install into the --venv\n"
        "  --auth USER:HASH       require Basic auth (repeatable; also env OWT_AUTH); HASH from\n"
        "                         --hash-password (yescrypt, bcrypt) or the old SHA-256 hex\n"
        "  --auth-file FILE       USER:HASH lines, '#' comments\n"
        "  --hash-password[=FMT]  read a password on stdin, print its hash for --auth, exit;\n"
        "                         FMT: yescrypt (default), bcrypt, sha256 (unsalted, old)\n"
        "  --cgi, --fastcgi       force the mode instead of detecting it from fd 0\n"
        "  --cache-dir DIR        response cache (use_cache) shared by all workers; none: off\n"
        "  --cache-max-bytes B    bound of the cache directory, LRU evicted (default 256M)\n"
        "  --cache-ttl SECONDS    serve an entry this long after storing it (default 0: no limit)\n"
        "  --threads N            requests one worker serves at once, each in its own thread\n"
        "                         sharing the warm adaptors (default 16; CGI: always 1)\n"
        "  --io-timeout SECONDS   cut a FastCGI connection whose read or write stalls this long\n"
        "                         (default 60)\n"
        "  --idle-timeout SECONDS close a kept FastCGI connection idle this long (default 600)\n"
        "  --code-store DIR       keep code seen, by SHA-256, for code_sha256 requests; shared by\n"
        "                         all workers, kept across restarts; none: off\n"
        "  --code-store-max-bytes B  bound of the code store, LRU evicted (default 64M)\n"
        "  --trust-key FILE       PEM Ed25519 public key whose code_sig is trusted (repeatable)\n"
        "  --require-signed       run only code with a valid code_sig from a --trust-key: 403\n"
        "  --scoreboard FILE      processes started with no master of ours (mod_fcgid, multiwatch,\n"
        "                         CGI) share their status through FILE (default: owt-fcgi.scoreboard\n"
        "                         beside the unix socket on fd 0; none: off)\n"
        "  --max-requests N       recycle a worker after N requests\n"
        "  --max-rss MB           recycle a worker whose RSS passed MB after a request\n"
        "  --memory-limit MB      address-space limit per worker (RLIMIT_AS): MemoryError, 500\n"
        "\n"
        "Standalone master (for nginx, or anything that does not spawn FastCGI backends):\n"
        "  --listen ADDR          HOST:PORT, [IPV6]:PORT or unix:PATH; fork --workers workers\n"
        "  --workers N            worker processes (default 2); with a socket on fd 0 (lighttpd\n"
        "                         bin-path, spawn-fcgi) a master runs there and forks them, so a\n"
        "                         crashing worker loses only the requests it had accepted\n"
        "  --grace-timeout S      on SIGTERM/SIGHUP, how long in-flight requests may finish (default 30)\n"
        "  --user U, --group G    drop privileges after binding (when started as root)\n"
        "  --socket-mode MODE     chmod for a unix socket (octal, e.g. 660)\n"
        "  --pidfile FILE         write the master's pid\n"
        "  --allow-from LIST      TCP peers (addresses, CIDR blocks) allowed to connect;\n"
        "                         also env FCGI_WEB_SERVER_ADDRS\n"
        "  --insecure             allow a non-loopback --listen without --auth or --allow-from\n"
        "\n"
        "Without a web server:\n"
        "  --encode FILE.py [KWARGS] [--query | --json | --curl URL]\n"
        "                         print the request for FILE.py: query string (default),\n"
        "                         JSON body, or a ready curl command\n"
        "                         --by-digest: code_sha256 instead of the code; --key PEM: add code_sig\n"
        "  --once FILE.py [KWARGS] [--path P]\n"
        "                         run one request through the CGI path; print the response\n"
        "  --sign FILE --key PEM  print FILE's code_sig: base64 Ed25519 signature of its bytes\n"
        "\n"
        "  -h, --help             this text\n"
        "  -V, --version          the version and the embedded Python's\n",
        out);
}

/* Bytes with an optional K/M/G suffix (powers of 1024). */
static int parse_size(const char *s, size_t *out) {
  char *end = NULL;
  if (*s < '0' || *s > '9') return -1; /* strtoull takes "-1" as 2^64-1, and skips spaces */
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s) return -1;
  unsigned shift = 0;
  switch (*end) {
  case '\0': break;
  case 'k': case 'K': shift = 10; end++; break;
  case 'm': case 'M': shift = 20; end++; break;
  case 'g': case 'G': shift = 30; end++; break;
  default: return -1;
  }
  if ((*end == 'B' || *end == 'b') && shift) end++;
  if (*end || v > (((unsigned long long)-1) >> shift)) return -1;
  *out = (size_t)(v << shift);
  return 0;
}

static int parse_seconds(const char *s, double *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 86400.0 * 365) return -1;
  *out = v;
  return 0;
}

static owt_err bad(const char *opt, const char *arg, const char *why) {
  fprintf(stderr, "owt-fcgi: %s %s: %s\n", opt, arg ? arg : "", why);
  return OWT_E_BAD_REQUEST;
}

static owt_err add_dir(const char **dirs, size_t *n, const char *dir, const char *opt) {
  if (*n >= OWT_CONFIG_MAX_DIRS) return bad(opt, dir, "too many directories (at most 32)");
  dirs[(*n)++] = dir;
  return OWT_OK;
}

static owt_err parse_option(owt_config *cfg, int c, const char *arg) {
  const char *why = NULL;
  int line = 0;
  size_t n = 0;
  switch (c) {
  case 'v':
    if (cfg->log_level < OWT_LOG_DEBUG) cfg->log_level++;
    return OWT_OK;
  case 'h': cfg->mode = OWT_MODE_HELP; return OWT_OK;
  case 'V': cfg->mode = OWT_MODE_VERSION; return OWT_OK;
  case OPT_VENV: cfg->venv = arg; return OWT_OK;
  case OPT_PYTHON_PATH: return add_dir(cfg->python_paths, &cfg->n_python_paths, arg, "--python-path");
  case OPT_ADAPTORS: return add_dir(cfg->adaptor_dirs, &cfg->n_adaptor_dirs, arg, "--adaptors");
  case OPT_MAX_ADAPTORS:
    if (parse_size(arg, &n) || n < 1 || n > 1000000) return bad("--max-adaptors", arg, "want 1..1000000");
    cfg->max_adaptors = n;
    return OWT_OK;
  case OPT_MAX_BODY:
    if (parse_size(arg, &cfg->limits.max_body)) return bad("--max-body", arg, "want bytes, e.g. 16M");
    return OWT_OK;
  case OPT_MAX_CODE:
    if (parse_size(arg, &cfg->limits.max_code) || cfg->limits.max_code == 0)
      return bad("--max-code", arg, "want bytes, e.g. 8M");
    return OWT_OK;
  case OPT_TIMEOUT:
    if (parse_seconds(arg, &cfg->timeout)) return bad("--timeout", arg, "want seconds");
    return OWT_OK;
  case OPT_KILL_GRACE:
    if (parse_seconds(arg, &cfg->kill_grace)) return bad("--kill-grace", arg, "want seconds");
    return OWT_OK;
  case OPT_DEBUG: cfg->debug = 1; return OWT_OK;
  case OPT_NO_CODE: cfg->no_code = 1; return OWT_OK;
  case OPT_ALLOW_SHELL: cfg->allow_shell = 1; return OWT_OK;
  case OPT_AUTH:
    if (owt_auth_add(&cfg->auth, owt_str_of(arg), &why)) return bad("--auth", "", why);
    return OWT_OK;
  case OPT_AUTH_FILE:
    if (owt_auth_load_file(&cfg->auth, arg, &why, &line)) {
      fprintf(stderr, "owt-fcgi: --auth-file %s: line %d: %s\n", arg, line, why);
      return OWT_E_BAD_REQUEST;
    }
    return OWT_OK;
  case OPT_HASH_PASSWORD: {
    owt_passwd_format format;
    if (owt_passwd_format_of(arg, &format))
      return bad("--hash-password", arg, "want yescrypt, bcrypt or sha256");
    cfg->hash_format = arg;
    cfg->mode = OWT_MODE_HASH_PASSWORD;
    return OWT_OK;
  }
  case OPT_CGI: cfg->mode = OWT_MODE_CGI; return OWT_OK;
  case OPT_FASTCGI: cfg->mode = OWT_MODE_FASTCGI; return OWT_OK;
  case OPT_MAX_REQUESTS:
    if (parse_size(arg, &n) || n == 0) return bad("--max-requests", arg, "want a positive count");
    cfg->max_requests = n;
    return OWT_OK;
  case OPT_MAX_RSS:
    if (parse_size(arg, &n) || n == 0 || n > (1u << 24)) return bad("--max-rss", arg, "want megabytes");
    cfg->max_rss_bytes = (uint64_t)n << 20;
    return OWT_OK;
  case OPT_MEMORY_LIMIT:
    if (parse_size(arg, &n) || n < 64 || n > (1u << 24))
      return bad("--memory-limit", arg, "want megabytes (at least 64)");
    cfg->memory_limit = (uint64_t)n << 20;
    return OWT_OK;
  case OPT_LISTEN: cfg->listen = arg; return OWT_OK;
  case OPT_WORKERS:
    if (parse_size(arg, &n) || n < 1 || n > 1024) return bad("--workers", arg, "want 1..1024");
    cfg->workers = n;
    cfg->workers_given = 1;
    return OWT_OK;
  case OPT_GRACE_TIMEOUT:
    if (parse_seconds(arg, &cfg->grace_timeout)) return bad("--grace-timeout", arg, "want seconds");
    return OWT_OK;
  case OPT_USER: cfg->user = arg; return OWT_OK;
  case OPT_GROUP: cfg->group = arg; return OWT_OK;
  case OPT_SOCKET_MODE: {
    char *end = NULL;
    unsigned long mode = strtoul(arg, &end, 8);
    if (!*arg || *end || mode > 0777) return bad("--socket-mode", arg, "want octal, e.g. 660");
    cfg->socket_mode = (unsigned)mode;
    return OWT_OK;
  }
  case OPT_PIDFILE: cfg->pidfile = arg; return OWT_OK;
  case OPT_INSECURE: cfg->insecure = 1; return OWT_OK;
  case OPT_ENCODE: cfg->mode = OWT_MODE_ENCODE; return OWT_OK;
  case OPT_ONCE: cfg->mode = OWT_MODE_ONCE; return OWT_OK;
  case OPT_QUERY: cfg->encode_format = 0; return OWT_OK;
  case OPT_JSON: cfg->encode_format = 1; return OWT_OK;
  case OPT_CURL:
    cfg->encode_format = 2;
    cfg->curl_url = arg;
    return OWT_OK;
  case OPT_PATH:
    if (arg[0] != '/') return bad("--path", arg, "want a path starting with /");
    cfg->once_path = arg;
    return OWT_OK;
  case OPT_ALLOW_FROM:
    if (owt_allow_add(&cfg->allow_from, arg, &why)) return bad("--allow-from", arg, why);
    return OWT_OK;
  case OPT_CACHE_DIR: cfg->cache_dir = arg; return OWT_OK;
  case OPT_CACHE_MAX_BYTES:
    if (parse_size(arg, &n) || n < 1024)
      return bad("--cache-max-bytes", arg, "want bytes (at least 1K), e.g. 256M");
    cfg->cache_max_bytes = n;
    return OWT_OK;
  case OPT_CACHE_TTL:
    if (parse_seconds(arg, &cfg->cache_ttl)) return bad("--cache-ttl", arg, "want seconds");
    return OWT_OK;
  case OPT_THREADS:
    if (parse_size(arg, &n) || n < 1 || n > OWT_CONFIG_MAX_THREADS)
      return bad("--threads", arg, "want 1..1024");
    cfg->threads = n;
    return OWT_OK;
  case OPT_IO_TIMEOUT:
    if (parse_seconds(arg, &cfg->io_timeout) || cfg->io_timeout < 0.1)
      return bad("--io-timeout", arg, "want seconds (at least 0.1)");
    return OWT_OK;
  case OPT_IDLE_TIMEOUT:
    if (parse_seconds(arg, &cfg->idle_timeout) || cfg->idle_timeout < 0.1)
      return bad("--idle-timeout", arg, "want seconds (at least 0.1)");
    return OWT_OK;
  case OPT_ALLOW_INSTALL: cfg->allow_install = 1; return OWT_OK;
  case OPT_CODE_STORE: cfg->code_store = arg; return OWT_OK;
  case OPT_CODE_STORE_MAX_BYTES:
    if (parse_size(arg, &n) || n < 1024)
      return bad("--code-store-max-bytes", arg, "want bytes (at least 1K), e.g. 64M");
    cfg->code_store_max_bytes = n;
    return OWT_OK;
  case OPT_TRUST_KEY: {
    char reason[512];
    if (owt_sign_add_key_file(&cfg->trust_keys, arg, reason, sizeof reason))
      return bad("--trust-key", arg, reason);
    return OWT_OK;
  }
  case OPT_REQUIRE_SIGNED: cfg->require_signed = 1; return OWT_OK;
  case OPT_SIGN:
    cfg->mode = OWT_MODE_SIGN;
    cfg->sign_file = arg;
    return OWT_OK;
  case OPT_KEY: cfg->sign_key = arg; return OWT_OK;
  case OPT_BY_DIGEST: cfg->encode_by_digest = 1; return OWT_OK;
  case OPT_MAX_QUERY:
    if (parse_size(arg, &cfg->limits.max_query) || cfg->limits.max_query == 0 ||
        cfg->limits.max_query > cfg->limits.max_params / 2)
      return bad("--max-query", arg, "want bytes, 1 to 128K, e.g. 28K");
    return OWT_OK;
  case OPT_SCOREBOARD: cfg->scoreboard = arg; return OWT_OK;
  default: return OWT_E_BAD_REQUEST;
  }
}

owt_err owt_config_parse(owt_config *cfg, int argc, char **argv) {
  memset(cfg, 0, sizeof *cfg);
  cfg->log_level = OWT_LOG_ERROR; /* -v warnings, -vv one line per request, -vvv debug */
  cfg->limits = OWT_LIMITS_DEFAULT;
  cfg->max_adaptors = 64;
  cfg->timeout = 300;
  cfg->kill_grace = 5;
  cfg->workers = 2;
  cfg->threads = OWT_CONFIG_DEFAULT_THREADS;
  cfg->io_timeout = 60;
  cfg->idle_timeout = 600;
  cfg->grace_timeout = 30;
  cfg->cache_max_bytes = 256u << 20;
  cfg->code_store_max_bytes = 64u << 20;

  const char *env_auth = getenv("OWT_AUTH");
  const char *why = NULL;
  if (env_auth && owt_auth_add_list(&cfg->auth, owt_str_of(env_auth), &why))
    return bad("OWT_AUTH", "", why);
  /* The variable libfcgi and other FastCGI apps honour, IPv6 and CIDR too. */
  const char *env_addrs = getenv("FCGI_WEB_SERVER_ADDRS");
  if (env_addrs && owt_allow_add(&cfg->allow_from, env_addrs, &why))
    return bad("FCGI_WEB_SERVER_ADDRS", env_addrs, why);

  optind = 1;
  opterr = 1;
  int c;
  while ((c = getopt_long(argc, argv, "vhV", long_options, NULL)) != -1) {
    if (c == '?') return OWT_E_BAD_REQUEST; /* getopt printed which option */
    owt_err err = parse_option(cfg, c, optarg);
    if (err) return err;
  }
  if (cfg->mode == OWT_MODE_ENCODE || cfg->mode == OWT_MODE_ONCE) {
    /* FILE.py [KWARGS]: the two positional arguments of these modes. */
    if (optind >= argc) return bad(cfg->mode == OWT_MODE_ENCODE ? "--encode" : "--once", "",
                                   "want FILE.py [KWARGS]");
    cfg->code_file = argv[optind++];
    if (optind < argc) cfg->kwargs_text = argv[optind++];
  }
  if (optind < argc) return bad("unexpected argument", argv[optind], "see --help");
  /* Packages go into the operator's virtualenv, never into the system's Python. */
  if (cfg->allow_install && !cfg->venv)
    return bad("--allow-install", "", "needs --venv DIR: packages are installed into that virtualenv");
  if (cfg->require_signed && cfg->trust_keys.n == 0)
    return bad("--require-signed", "", "needs at least one --trust-key FILE");
  return OWT_OK;
}

void owt_config_free(owt_config *cfg) {
  owt_auth_free(&cfg->auth);
  owt_sign_keys_free(&cfg->trust_keys);
}
