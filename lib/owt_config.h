/* owt_config.h - the command line, parsed once into one struct.
 *
 * Everything a worker needs to know at start lives here; main() builds it
 * and passes it down. Strings point into argv or the environment. */
#ifndef OWT_CONFIG_H
#define OWT_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "owt_allow.h"
#include "owt_auth.h"
#include "owt_limits.h"
#include "owt_log.h"
#include "owt_sign.h"

#define OWT_CONFIG_MAX_DIRS 32
#define OWT_CONFIG_MAX_THREADS 1024
#define OWT_CONFIG_DEFAULT_THREADS 16

typedef enum {
  OWT_MODE_AUTO = 0, /* FastCGI when fd 0 is a socket, else CGI */
  OWT_MODE_FASTCGI,
  OWT_MODE_CGI,
  OWT_MODE_HASH_PASSWORD,
  OWT_MODE_HELP,
  OWT_MODE_VERSION,
  OWT_MODE_ENCODE, /* --encode FILE [KWARGS]: print a request for it */
  OWT_MODE_ONCE,   /* --once FILE [KWARGS]: run one request through the CGI path */
  OWT_MODE_SIGN,   /* --sign FILE --key PEM: print FILE's code_sig */
} owt_mode;

typedef struct {
  owt_mode mode;
  owt_log_level log_level;
  owt_limits limits;
  const char *venv;                                 /* --venv DIR or NULL */
  const char *python_paths[OWT_CONFIG_MAX_DIRS];    /* --python-path, in order */
  size_t n_python_paths;
  const char *adaptor_dirs[OWT_CONFIG_MAX_DIRS];    /* --adaptors, in order; shipped dir added last */
  size_t n_adaptor_dirs;
  size_t max_adaptors;     /* warm-adaptor LRU bound per worker */
  double timeout;          /* seconds an adaptor may run; 0: no limit */
  double kill_grace;       /* seconds after the timeout before a stuck worker is ended */
  int debug;               /* tracebacks into 500 bodies */
  int no_code;             /* refuse shipped code: 403 */
  int allow_shell;         /* pipe().shell() allowed */
  owt_auth auth;           /* empty: no auth */
  /* request threads of a FastCGI worker (lib/owt_worker.h) */
  size_t threads;          /* requests one worker process serves at once */
  double io_timeout;       /* a FastCGI read or write stalled this long is cut; a new connection
                              must send its request within it */
  double idle_timeout;     /* a kept connection idle this long is closed */
  /* worker lifecycle (every mode) */
  uint64_t max_requests;   /* recycle a worker after this many requests; 0: never */
  uint64_t max_rss_bytes;  /* recycle a worker whose RSS is over this after a request; 0: never */
  uint64_t memory_limit;   /* RLIMIT_AS per worker, bytes; 0: none */
  /* the standalone master (--listen) */
  const char *listen;      /* HOST:PORT, [V6]:PORT, unix:PATH; NULL: fd 0 or CGI */
  size_t workers;          /* worker processes under the master */
  int workers_given;       /* --workers was given: with a socket on fd 0, run a master there */
  double grace_timeout;    /* seconds in-flight requests get on SIGTERM / SIGHUP */
  const char *user;        /* drop to this user after binding (when root) */
  const char *group;
  unsigned socket_mode;    /* chmod of a unix socket; 0: leave the umask's */
  const char *pidfile;
  int insecure;            /* allow a non-loopback --listen without auth or allow-list */
  owt_allow allow_from;    /* TCP peers allowed to speak FastCGI; empty: any */
  /* --encode / --once */
  const char *code_file;   /* FILE.py */
  const char *kwargs_text; /* KWARGS, or NULL */
  int encode_format;       /* owt_encode_format */
  const char *curl_url;    /* --curl URL */
  const char *once_path;   /* --path P (default "/") */
  /* the response cache (lib/owt_cache.h) */
  const char *cache_dir;   /* --cache-dir DIR; NULL or "": the cache is off */
  uint64_t cache_max_bytes; /* bound of the directory (default 256M) */
  double cache_ttl;        /* seconds an entry is served; 0: until evicted */
  /* passwords (lib/owt_passwd.h) */
  const char *hash_format; /* --hash-password=FORMAT; NULL: the default (yescrypt) */
  /* pipe().installing() */
  int allow_install;       /* --allow-install: pip install into --venv (refused without one) */
  /* code by digest and signed code (lib/owt_code.h, owt_codestore.h, owt_sign.h) */
  const char *code_store;  /* --code-store DIR; NULL or "": no store (code_sha256 alone is a 404) */
  uint64_t code_store_max_bytes; /* bound of the directory (default 64M) */
  owt_sign_keys trust_keys; /* --trust-key FILE (repeatable): Ed25519 public keys */
  int require_signed;      /* --require-signed: code runs only with a valid code_sig */
  const char *sign_file;   /* --sign FILE */
  const char *sign_key;    /* --key PEM: the private key for --sign and --encode */
  int encode_by_digest;    /* --encode --by-digest: code_sha256 instead of code_b64 */
  /* the shared scoreboard of processes with no common master (lib/owt_scoreboard.h) */
  const char *scoreboard;  /* --scoreboard FILE; NULL: the default; "none" or "": off */
} owt_config;

/* Parse argv (and OWT_AUTH from the environment) into cfg. OWT_OK, or
 * OWT_E_BAD_REQUEST after printing a message naming the bad option to
 * stderr (owt-fcgi then exits 2). cfg owns the auth table and the trusted keys: release them with
 * owt_config_free(). */
owt_err owt_config_parse(owt_config *cfg, int argc, char **argv);

void owt_config_usage(FILE *out);

void owt_config_free(owt_config *cfg);

#endif
