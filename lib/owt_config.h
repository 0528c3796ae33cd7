/* owt_config.h - the command line, parsed once into one struct.
 *
 * Everything a worker needs to know at start lives here; main() builds it
 * and passes it down. Strings point into argv or the environment. */
#ifndef OWT_CONFIG_H
#define OWT_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "owt_auth.h"
#include "owt_limits.h"
#include "owt_log.h"

#define OWT_CONFIG_MAX_DIRS 32

typedef enum {
  OWT_MODE_AUTO = 0, /* FastCGI when fd 0 is a socket, else CGI */
  OWT_MODE_FASTCGI,
  OWT_MODE_CGI,
  OWT_MODE_HASH_PASSWORD,
  OWT_MODE_HELP,
  OWT_MODE_VERSION,
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
} owt_config;

/* Parse argv (and OWT_AUTH from the environment) into cfg. Returns 0, or 2
 * after printing a message naming the bad option to stderr. cfg owns the
 * auth table: release it with owt_config_free(). */
int owt_config_parse(owt_config *cfg, int argc, char **argv);

void owt_config_usage(FILE *out);

void owt_config_free(owt_config *cfg);

#endif
