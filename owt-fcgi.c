/* owt-fcgi.c - main(): options -> config, pick the mode, run it.
 *
 * The mode comes from how we were started: a listening socket on fd 0
 * (lighttpd bin-path, spawn-fcgi, Apache mod_fcgid) means FastCGI;
 * anything else is one plain CGI request. */
#include <fcgiapp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "lib/owt_auth.h"
#include "lib/owt_config.h"
#include "lib/owt_log.h"
#include "lib/owt_paths.h"
#include "lib/owt_py.h"
#include "lib/owt_response.h"
#include "lib/owt_server.h"

/* --hash-password: a password on stdin (one line) -> its SHA-256 hex. */
static int hash_password(void) {
  char line[4096], hex[65];
  if (!fgets(line, sizeof line, stdin)) {
    fputs("owt-fcgi: --hash-password reads the password from stdin\n", stderr);
    return 2;
  }
  size_t len = strcspn(line, "\r\n");
  owt_auth_hash_password(line, len, hex);
  memset(line, 0, sizeof line);
  printf("%s\n", hex);
  return 0;
}

/* A CGI client still deserves an HTTP answer when the interpreter fails. */
static void cgi_startup_failure(int response_fd) {
  static const char resp[] = "Status: 500 Internal Server Error\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                             "owt-fcgi could not start its Python runtime: see the error log";
  if (response_fd >= 0 && write(response_fd, resp, sizeof resp - 1) < 0) perror("owt-fcgi");
}

int main(int argc, char **argv) {
  owt_config cfg;
  owt_server srv;
  char adaptors[4096];
  memset(&srv, 0, sizeof srv);
  int rc = owt_config_parse(&cfg, argc, argv);
  if (rc) return rc;
  owt_log_set_level(cfg.log_level);

  switch (cfg.mode) {
  case OWT_MODE_HELP: owt_config_usage(stdout); goto done;
  case OWT_MODE_VERSION: printf("owt-fcgi %s (Python %s)\n", PACKAGE_VERSION, owt_py_version()); goto done;
  case OWT_MODE_HASH_PASSWORD: rc = hash_password(); goto done;
  case OWT_MODE_AUTO: cfg.mode = FCGX_IsCGI() ? OWT_MODE_CGI : OWT_MODE_FASTCGI; break;
  default: break;
  }
  int response_fd = owt_server_divert_stdout();
  if (owt_paths_adaptors(adaptors, sizeof adaptors) != 0) {
    owt_log(OWT_LOG_ERROR, "cannot find the adaptors directory (owt/ package); set OWT_ADAPTORS_HOME");
    rc = 1;
  } else if (owt_server_init(&srv, &cfg, adaptors) != 0) {
    rc = 1;
  } else if (cfg.mode == OWT_MODE_CGI) {
    rc = owt_server_run_cgi(&srv, response_fd);
  } else {
    rc = owt_server_run_fastcgi(&srv, 0);
  }
  if (rc && cfg.mode == OWT_MODE_CGI) cgi_startup_failure(response_fd);
  owt_server_free(&srv);
  if (response_fd >= 0) close(response_fd);
done:
  owt_config_free(&cfg);
  return rc;
}
