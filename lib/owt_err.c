/* owt_err.c - owt_err to HTTP status and names: the only place that decides. */
#include "owt_err.h"

#include <string.h>

static const struct {
  const char *name;
  int status;
} err_table[OWT_E__COUNT] = {
    [OWT_OK] = {"ok", 200},
    [OWT_E_BAD_REQUEST] = {"bad_request", 400},
    [OWT_E_UNAUTHORIZED] = {"unauthorized", 401},
    [OWT_E_FORBIDDEN] = {"forbidden", 403},
    [OWT_E_NOT_FOUND] = {"not_found", 404},
    [OWT_E_UNKNOWN_CODE] = {"unknown_code", 404},
    [OWT_E_METHOD] = {"method_not_allowed", 405},
    [OWT_E_CONFLICT] = {"conflict", 409},
    [OWT_E_TOO_LARGE] = {"too_large", 413},
    [OWT_E_URI_TOO_LONG] = {"uri_too_long", 414},
    [OWT_E_ADAPTOR] = {"adaptor", 500},
    [OWT_E_INTERNAL] = {"internal", 500},
    [OWT_E_NOMEM] = {"no_memory", 500},
    [OWT_E_UNAVAILABLE] = {"unavailable", 503},
    [OWT_E_TIMEOUT] = {"timeout", 504},
    [OWT_E_IO] = {"client_gone", 499},
};

int owt_err_status(owt_err err) {
  if ((unsigned)err >= OWT_E__COUNT) return 500;
  return err_table[err].status;
}

const char *owt_err_name(owt_err err) {
  if ((unsigned)err >= OWT_E__COUNT) return "internal";
  return err_table[err].name;
}

owt_err owt_err_from_name(const char *name, size_t len) {
  for (int i = 0; i < OWT_E__COUNT; i++) {
    if (strlen(err_table[i].name) == len && memcmp(err_table[i].name, name, len) == 0)
      return (owt_err)i;
  }
  return OWT_E__COUNT;
}

const char *owt_err_reason(int status) {
  switch (status) {
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 418: return "I'm a teapot";
  case 422: return "Unprocessable Content";
  case 429: return "Too Many Requests";
  case 499: return "Client Closed Request";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: break;
  }
  if (status >= 200 && status < 300) return "OK";
  if (status >= 300 && status < 400) return "Redirect";
  if (status >= 400 && status < 500) return "Client Error";
  return "Server Error";
}
