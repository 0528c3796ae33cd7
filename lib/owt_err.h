/* owt_err.h - the one error type of lib/, and its single mapping to HTTP.
 *
 * Every fallible function in lib/ returns an owt_err. Only owt_err_status()
 * turns one into an HTTP status, so a status is decided in exactly one place. */
#ifndef OWT_ERR_H
#define OWT_ERR_H

#include <stddef.h>

typedef enum {
  OWT_OK = 0,
  OWT_E_BAD_REQUEST,  /* 400: malformed request, bad base64/JSON, no code, SyntaxError */
  OWT_E_UNAUTHORIZED, /* 401: auth configured, credentials missing or wrong */
  OWT_E_FORBIDDEN,    /* 403: shipped code refused (--no-code), path escape */
  OWT_E_NOT_FOUND,    /* 404: unknown named adaptor, unknown /_owt/ page */
  OWT_E_METHOD,       /* 405: method not allowed on a /_owt/ page */
  OWT_E_TOO_LARGE,    /* 413: body, code or params over the configured limit */
  OWT_E_URI_TOO_LONG, /* 414: a query string over --max-query (send it as a POST body) */
  OWT_E_ADAPTOR,      /* 500: the adaptor raised */
  OWT_E_INTERNAL,     /* 500: a server-side failure that is not the adaptor's */
  OWT_E_NOMEM,        /* 500: allocation failed */
  OWT_E_UNAVAILABLE,  /* 503: shutting down or over capacity */
  OWT_E_TIMEOUT,      /* 504: the adaptor ran past --timeout */
  OWT_E_IO,           /* the client or web server went away: nothing can be sent */
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
