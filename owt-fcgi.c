/* owt-fcgi.c - main(): options -> config, pick the mode, run it.
 *
 * The mode comes from how we were started: a listening socket on fd 0
 * (lighttpd bin-path, spawn-fcgi, Apache mod_fcgid) means FastCGI;
 * --listen makes it a master that binds and forks its own workers;
 * anything else is one plain CGI request. */
#include <errno.h>
#include <fcgiapp.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config.h"
#include "lib/owt_access.h"
#include "lib/owt_auth.h"
#include "lib/owt_cgi.h"
#include "lib/owt_config.h"
#include "lib/owt_encode.h"
#include "lib/owt_interp.h"
#include "lib/owt_listen.h"
#include "lib/owt_log.h"
#include "lib/owt_master.h"
#include "lib/owt_passwd.h"
#include "lib/owt_paths.h"
#include "lib/owt_py.h"
#include "lib/owt_response.h"
#include "lib/owt_server.h"
#include "lib/owt_sign.h"
#include "lib/owt_worker.h"

/* The adaptor file for --encode / --once, bounded by --max-code. */
static int read_code_file(const owt_config *cfg, owt_buf *out) {
  FILE *f = fopen(cfg->code_file, "rb");
  char chunk[65536];
  size_t n;
  if (!f) {
    fprintf(stderr, "owt-fcgi: %s: %s\n", cfg->code_file, strerror(errno));
    return -1;
  }
  owt_err err = OWT_OK;
  while (!err && (n = fread(chunk, 1, sizeof chunk, f)) > 0) err = owt_buf_append(out, chunk, n);
  int failed = ferror(f);
  fclose(f);
  if (err || failed) {
    fprintf(stderr, "owt-fcgi: %s: %s\n", cfg->code_file,
            err == OWT_E_TOO_LARGE ? "over --max-code" : "cannot read it");
    return -1;
  }
  return 0;
}

/* --encode FILE.py [KWARGS]: print the request, nothing else. */
static int encode_main(const owt_config *cfg) {
  owt_buf code = OWT_BUF_INIT(cfg->limits.max_code), out = OWT_BUF_INIT((size_t)-1 / 2);
  int rc = 1;
  if (read_code_file(cfg, &code) != 0) goto done;
  owt_str kwargs = cfg->kwargs_text ? owt_str_of(cfg->kwargs_text) : OWT_STR_NULL;
  if (owt_encode_for_config(&out, owt_buf_str(&code), kwargs, cfg, stderr) != OWT_OK) goto done;
  rc = printf("%s\n", out.data) < 0;
done:
  owt_buf_free(&code);
  owt_buf_free(&out);
  return rc;
}

/* --once FILE.py [KWARGS] [--path P]: the request a client would POST,
 * as a CGI environment and stdin, so the one request below takes exactly
 * the CGI path a web server would drive. */
static int prepare_once(const owt_config *cfg) {
  owt_buf code = OWT_BUF_INIT(cfg->limits.max_code), body = OWT_BUF_INIT((size_t)-1 / 2);
  char length[32];
  int rc = -1;
  FILE *in = NULL;
  if (read_code_file(cfg, &code) != 0) goto done;
  owt_str kwargs = cfg->kwargs_text ? owt_str_of(cfg->kwargs_text) : OWT_STR_NULL;
  if (owt_encode_request(&body, owt_buf_str(&code), kwargs, OWT_ENCODE_JSON, NULL) != OWT_OK) goto done;
  if (!(in = tmpfile()) || fwrite(body.data, 1, body.len, in) != body.len || fflush(in) != 0 ||
      fseek(in, 0, SEEK_SET) != 0 || dup2(fileno(in), 0) < 0) {
    fprintf(stderr, "owt-fcgi: --once: %s\n", strerror(errno));
    goto done;
  }
  snprintf(length, sizeof length, "%zu", body.len);
  const char *path = cfg->once_path ? cfg->once_path : "/";
  setenv("GATEWAY_INTERFACE", "CGI/1.1", 1);
  setenv("SERVER_PROTOCOL", "HTTP/1.1", 1);
  setenv("REQUEST_METHOD", "POST", 1);
  setenv("CONTENT_TYPE", "application/json", 1);
  setenv("CONTENT_LENGTH", length, 1);
  setenv("PATH_INFO", path, 1);
  setenv("REQUEST_URI", path, 1);
  setenv("QUERY_STRING", "", 1);
  setenv("SERVER_NAME", "localhost", 1);
  setenv("SERVER_ADDR", "127.0.0.1", 1);
  setenv("SERVER_PORT", "0", 1);
  setenv("REMOTE_ADDR", "127.0.0.1", 1);
  setenv("HTTP_HOST", "localhost", 1);
  rc = 0;
done:
  if (in) fclose(in); /* fd 0 keeps its own copy */
  owt_buf_free(&code);
  owt_buf_free(&body);
  return rc;
}

/* A CGI client still deserves an HTTP answer when the interpreter fails. */
static void cgi_startup_failure(int response_fd) {
  char text[512];
  owt_buf resp = OWT_BUF_FIXED(text);
  if (response_fd < 0 ||
      owt_response_canned(&resp, OWT_E_INTERNAL,
                          OWT_STR_LIT("owt-fcgi could not start its Python runtime: see the error log"), NULL,
                          0) != OWT_OK)
    return;
  if (write(response_fd, resp.data, resp.len) < 0) perror("owt-fcgi");
}

/* --memory-limit: runaway allocation becomes MemoryError (a 500), not the
 * OOM killer. Set per worker, before its interpreter starts. */
static void apply_memory_limit(const owt_config *cfg) {
  if (!cfg->memory_limit) return;
  struct rlimit rl = {(rlim_t)cfg->memory_limit, (rlim_t)cfg->memory_limit};
  if (setrlimit(RLIMIT_AS, &rl) != 0) owt_log(OWT_LOG_WARNING, "--memory-limit: %s", strerror(errno));
  /* glibc reserves 64 MB of address space for each malloc arena it adds
   * for another thread: under RLIMIT_AS that reservation, not memory in
   * use, would run out first. Two arenas serve the request threads. */
  mallopt(M_ARENA_MAX, 2);
}

/* systemd socket activation (sd_listen_fds: LISTEN_PID, LISTEN_FDS, the first
 * socket on fd 3): move the socket to fd 0, where FastCGI looks for it. The
 * variables are dropped so that processes the adaptors start do not take them. */
static void adopt_listen_fds(void) {
  const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
  char *end = NULL;
  if (!pid || !fds || strtol(pid, &end, 10) != (long)getpid() || *end) return;
  long n = strtol(fds, &end, 10);
  int bad = *end || n < 1;
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  if (bad) return;
  if (n > 1) owt_log(OWT_LOG_WARNING, "LISTEN_FDS=%ld: serving the first socket (fd 3) only", n);
  if (dup2(3, 0) < 0) {
    owt_log(OWT_LOG_ERROR, "LISTEN_FDS: cannot move fd 3 to fd 0: %s", strerror(errno));
    return;
  }
  close(3);
}

/* Processes a front starts with no master of ours (mod_fcgid, multiwatch,
 * lighttpd max-procs, CGI runs) share a file-backed scoreboard, so any of
 * them answers /_owt/status and /_owt/metrics for all of them: --scoreboard
 * FILE, by default owt-fcgi.scoreboard beside the FastCGI socket. Returns the
 * slot claimed, or -1 (the process then shows only itself). */
static int join_shared_board(const owt_config *cfg, owt_server *srv, owt_scoreboard *board, size_t threads) {
  char path[4096], why[4600];
  const char *file = cfg->scoreboard;
  if (file && (!*file || strcmp(file, "none") == 0)) return -1;
  if (!file) {
    if (cfg->mode != OWT_MODE_FASTCGI || owt_scoreboard_default_path(0, path, sizeof path) != 0) return -1;
    file = path;
  }
  if (owt_scoreboard_open(board, file, threads, why, sizeof why) != 0) {
    owt_log(cfg->scoreboard ? OWT_LOG_ERROR : OWT_LOG_WARNING, "%s: /_owt/status shows this process only%s",
            why, cfg->scoreboard ? "" : " (--scoreboard FILE names another, --scoreboard none turns it off)");
    return -1;
  }
  int slot = owt_scoreboard_join(board);
  if (slot < 0) {
    owt_log(OWT_LOG_WARNING, "scoreboard %s: every slot holds a live process: /_owt/status leaves this one out",
            file);
    owt_scoreboard_destroy(board);
    return -1;
  }
  owt_server_attach(srv, board, slot);
  return slot;
}

typedef struct {
  const owt_config *cfg;
  const char *adaptors;
} worker_ctx;

/* One worker under the master: its own interpreter, its scoreboard slot. */
static int master_worker(void *ctx, int listen_fd, int handoff_fd, owt_scoreboard *board, int slot) {
  const worker_ctx *w = ctx;
  owt_server srv;
  int saved = owt_server_divert_stdout();
  if (saved >= 0) close(saved);
  apply_memory_limit(w->cfg);
  if (owt_server_init(&srv, w->cfg, &owt_py_interp, w->adaptors, w->cfg->threads) != OWT_OK)
    return OWT_EXIT_CONFIG;
  owt_server_attach(&srv, board, slot);
  int rc = owt_worker_run(&srv, listen_fd, handoff_fd);
  owt_server_free(&srv);
  return rc;
}

static int write_pidfile(const char *path) {
  FILE *f = fopen(path, "w");
  if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
    owt_log(OWT_LOG_ERROR, "--pidfile %s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

/* The master's socket: bound here for --listen, or the one a process
 * manager handed over on fd 0 (lighttpd bin-path, spawn-fcgi, socket
 * activation) when --workers asks for a master there. */
static int master_socket(const owt_config *cfg, owt_listen_addr *addr) {
  const char *why = NULL;
  char msg[512];
  int fd;
  if (!cfg->listen) return 0;
  if (owt_listen_parse(cfg->listen, addr, &why) != OWT_OK) {
    fprintf(stderr, "owt-fcgi: --listen %s: %s\n", cfg->listen, why);
    return -2;
  }
  if (!owt_listen_is_local(addr) && !owt_auth_enabled(&cfg->auth) && cfg->allow_from.n == 0 &&
      !cfg->insecure) {
    fprintf(stderr, "owt-fcgi: refusing to run code from %s without --auth or --allow-from; pass "
                    "--insecure if the network in front of it is trusted\n", cfg->listen);
    return -2;
  }
  if (owt_listen_open(addr, 1024, cfg->socket_mode, &fd, msg, sizeof msg) != OWT_OK) {
    owt_log(OWT_LOG_ERROR, "%s", msg);
    return -1;
  }
  return fd;
}

/* The master: bind (or take fd 0), drop privileges, fork and watch workers.
 * With the socket held here, a worker that dies takes only the requests it
 * had accepted: the others wait in the backlog for its siblings. */
static int run_master(const owt_config *cfg, const char *adaptors) {
  owt_listen_addr addr;
  owt_scoreboard board;
  int rc = 1;
  memset(&addr, 0, sizeof addr);
  memset(&board, 0, sizeof board);
  int fd = master_socket(cfg, &addr);
  if (fd < 0) return fd == -2 ? 2 : 1;
  if (cfg->pidfile && write_pidfile(cfg->pidfile) != 0) goto done;
  if (owt_master_drop_privileges(cfg, addr.is_unix ? addr.path : NULL) != OWT_OK) goto done;
  if (owt_access_check_runtime(cfg, adaptors) != 0) { /* the workers could not read what they run */
    rc = OWT_EXIT_CONFIG;
    goto done;
  }
  if (owt_scoreboard_create(&board, 2 * cfg->workers, cfg->threads) != 0) {
    owt_log(OWT_LOG_ERROR, "cannot map the scoreboard: %s", strerror(errno));
    goto done;
  }
  owt_log(OWT_LOG_INFO, "master %ld on %s with %zu workers of %zu threads", (long)getpid(),
          cfg->listen ? cfg->listen : "fd 0", cfg->workers, cfg->threads);
  worker_ctx ctx = {cfg, adaptors};
  rc = owt_master_run(cfg, fd, &board, master_worker, &ctx);
done:
  owt_scoreboard_destroy(&board);
  if (cfg->listen) {
    close(fd);
    if (addr.is_unix) unlink(addr.path);
  }
  if (cfg->pidfile) unlink(cfg->pidfile);
  return rc;
}

int main(int argc, char **argv) {
  owt_config cfg;
  owt_server srv;
  char adaptors[4096];
  memset(&srv, 0, sizeof srv);
  int rc = 0;
  if (owt_config_parse(&cfg, argc, argv) != OWT_OK) return 2; /* a bad option: the usage error code */
  owt_log_set_level(cfg.log_level);
  if (!cfg.listen && (cfg.mode == OWT_MODE_AUTO || cfg.mode == OWT_MODE_FASTCGI)) adopt_listen_fds();

  switch (cfg.mode) {
  case OWT_MODE_HELP: owt_config_usage(stdout); goto done;
  case OWT_MODE_VERSION: printf("owt-fcgi %s (Python %s)\n", PACKAGE_VERSION, owt_py_version()); goto done;
  case OWT_MODE_HASH_PASSWORD: /* hook: --hash-password[=FORMAT] lives in lib/owt_passwd.c */
    rc = owt_passwd_main(cfg.hash_format, stdin, stdout, stderr);
    goto done;
  case OWT_MODE_ENCODE: rc = encode_main(&cfg); goto done;
  case OWT_MODE_SIGN:
    rc = owt_sign_main(cfg.sign_file, cfg.sign_key, cfg.limits.max_code, stdout, stderr);
    goto done;
  case OWT_MODE_ONCE:
    if (prepare_once(&cfg) != 0) {
      rc = 1;
      goto done;
    }
    cfg.mode = OWT_MODE_CGI;
    break;
  case OWT_MODE_AUTO: cfg.mode = FCGX_IsCGI() ? OWT_MODE_CGI : OWT_MODE_FASTCGI; break;
  default: break;
  }
  if (owt_paths_adaptors(adaptors, sizeof adaptors) != OWT_OK) {
    owt_log(OWT_LOG_ERROR, "cannot find the adaptors directory (owt/ package); set OWT_ADAPTORS_HOME");
    rc = 1;
    goto done;
  }
  if (cfg.listen || (cfg.mode == OWT_MODE_FASTCGI && cfg.workers_given)) {
    rc = run_master(&cfg, adaptors);
    goto done;
  }
  int response_fd = owt_server_divert_stdout();
  size_t threads = cfg.mode == OWT_MODE_CGI ? 0 : cfg.threads;
  owt_scoreboard shared;
  int shared_slot = -1;
  memset(&shared, 0, sizeof shared);
  apply_memory_limit(&cfg);
  if (owt_server_init(&srv, &cfg, &owt_py_interp, adaptors, threads) != OWT_OK) {
    rc = 1;
  } else if (cfg.mode == OWT_MODE_CGI) {
    shared_slot = join_shared_board(&cfg, &srv, &shared, 1);
    rc = owt_cgi_run(&srv, response_fd);
  } else {
    shared_slot = join_shared_board(&cfg, &srv, &shared, threads);
    rc = owt_worker_run(&srv, 0, -1); /* no master: kept connections are closed when it drains */
  }
  if (rc && cfg.mode == OWT_MODE_CGI) cgi_startup_failure(response_fd);
  if (shared_slot >= 0) owt_scoreboard_leave(&shared, shared_slot);
  owt_server_free(&srv);
  owt_scoreboard_destroy(&shared);
  if (response_fd >= 0) close(response_fd);
done:
  owt_config_free(&cfg);
  return rc;
}
