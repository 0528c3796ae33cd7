/* owt_cgi.c - the one-shot CGI run around the request pipeline: the
 * response fd kept from adaptors, SIGTERM routed into Python, the SIGALRM
 * deadline with its last-resort 504. */
#include "owt_cgi.h"

#include <signal.h>
#include <stdlib.h>

#include "owt_deadline.h"
#include "owt_log.h"
#include "owt_response.h"

extern char **environ;

static void cgi_arm(void *arg, uint64_t ticket) {
  const owt_config *cfg = arg;
  (void)ticket;
  owt_deadline_arm(cfg->timeout, cfg->kill_grace);
}

static int cgi_disarm(void *arg) {
  (void)arg;
  return owt_deadline_disarm();
}

int owt_cgi_run(owt_server *srv, int response_fd) {
  owt_io io;
  owt_ctx c;
  /* What the hard deadline writes from its signal handler: built now. */
  static char timed_out[512];
  owt_buf fallback = OWT_BUF_FIXED(timed_out);
  owt_io_cgi cgi = {0, response_fd, 0, 0};
  size_t length = 0;
  owt_deadline_ops deadline = {cgi_arm, cgi_disarm, (void *)srv->cfg};
  if (owt_ctx_init(&c, srv, owt_py_main_thread(srv->py), 0, deadline) != OWT_OK) {
    owt_log(OWT_LOG_ERROR, "out of memory");
    owt_ctx_free(&c);
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  if (owt_py_interrupt_on_sigterm(srv->py) != 0)
    owt_log(OWT_LOG_WARNING,
            "cannot route SIGTERM to the adaptor: a cut-off stream will not run its finally");
  owt_py_protect_fd(cgi.out_fd);
  if (owt_response_canned(&fallback, OWT_E_TIMEOUT,
                          OWT_STR_LIT("Error executing code: Timeout: the adaptor did not stop after its "
                                      "timeout (stuck in C code)"),
                          NULL, 0) == OWT_OK)
    owt_deadline_set_fallback(response_fd, fallback.data, fallback.len, &cgi.started);
  /* CGI stdin carries exactly CONTENT_LENGTH bytes; read no more. (A bad
   * value reads nothing; the pipeline answers it with its own error.) */
  if (owt_request_parse_length(owt_str_of(getenv("CONTENT_LENGTH")), &length) == OWT_OK)
    cgi.body_left = length > srv->cfg->limits.max_body ? srv->cfg->limits.max_body + 1 : length;
  owt_io_cgi_bind(&io, &cgi, environ);
  owt_server_handle(&c, &io);
  int fired = owt_deadline_fired();
  owt_ctx_free(&c);
  if (fired) owt_py_after_timeout(srv->py);
  return 0;
}
