/* owt_err.h - the one error type of lib/, and its single mapping to HTTP.
 *
 * Every fallible function a lib/ header exports returns an owt_err: OWT_OK,
 * or what went wrong (the words for a person, when there are any, go where
 * the caller asks: a buffer, a static string in *why, the log). Only
 * owt_err_status() turns one into an HTTP status, so a status is decided in
 * exactly one place: the pipeline's answers, the /_owt/ pages' and the
 * canned responses written outside it (owt_response_canned) all take theirs
 * from here. An adaptor's own status is the adaptor's, passed through.
 *
 * Start-up code follows the same rule (a bad option is OWT_E_BAD_REQUEST, a
 * missing user OWT_E_NOT_FOUND, a failed system call OWT_E_INTERNAL); the
 * status those would map to is never sent, the kind still tells the caller
 * what happened. Not errors, so not owt_err:
 *  - a value that is the answer itself: a predicate (owt_listen_is_local), a
 *    flag (owt_deadline_fired, owt_flight_take_over), a count, the status a
 *    request was answered with (owt_server_handle), a descriptor or an index
 *    with -1 for none (owt_server_divert_stdout, owt_scoreboard_claim), a
 *    pointer with NULL for none (owt_py_thread_attach);
 *  - the exit code of a whole process mode: owt_master_run, owt_worker_run,
 *    owt_cgi_run, owt_passwd_main and an owt_worker_fn;
 *  - the owt_io callbacks, which mirror read(2) and write(2).
 * Two functions still return 0 or -1: owt_scoreboard_create (with errno, as
 * mmap does) and owt_py_interrupt_on_sigterm. */
#ifndef OWT_ERR_H
#define OWT_ERR_H

#include <stddef.h>

typedef enum {
  OWT_OK = 0,
  OWT_E_BAD_REQUEST,  /* 400: malformed input: a request, its base64/JSON, no code, SyntaxError;
                         a bad option value */
  OWT_E_UNAUTHORIZED, /* 401: auth configured, credentials missing or wrong */
  OWT_E_FORBIDDEN,    /* 403: shipped code refused (--no-code), path escape */
  OWT_E_NOT_FOUND,    /* 404: unknown named adaptor, unknown /_owt/ page; a user, group or
                         directory start-up needs */
  OWT_E_UNKNOWN_CODE, /* 404: code_sha256 of code this server does not have (a JSON body) */
  OWT_E_METHOD,       /* 405: method not allowed on a /_owt/ page */
  OWT_E_CONFLICT,     /* 409: the server's state refuses it (purging a cache that is off) */
  OWT_E_TOO_LARGE,    /* 413: body, code or params over the configured limit */
  OWT_E_URI_TOO_LONG, /* 414: a query string over --max-query (send it as a POST body) */
  OWT_E_ADAPTOR,      /* 500: the adaptor raised */
  OWT_E_INTERNAL,     /* 500: a server-side failure that is not the adaptor's (a system call) */
  OWT_E_NOMEM,        /* 500: allocation failed */
  OWT_E_UNAVAILABLE,  /* 503: shutting down or over capacity */
  OWT_E_TIMEOUT,      /* 504: the adaptor ran past --timeout */
  OWT_E_IO,           /* the client or web server went away (or the watchdog took the request
                         over): nothing can be sent */
  OWT_E__COUNT
} owt_err;

/* The HTTP status for err (200 for OWT_OK). OWT_E_IO maps to 499, never sent. */
int owt_err_status(owt_err err);

/* The reason phrase for an HTTP status ("OK", "Not Found", ...); never NULL. */
const char *owt_err_reason(int status);

/* A stable lower-case name ("bad_request", "timeout", ...); never NULL. */
const char *owt_err_name(owt_err err);

/* The error whose owt_err_name() is name[0..len); OWT_E__COUNT when none is. */
owt_err owt_err_from_name(const char *name, size_t len);

#endif
