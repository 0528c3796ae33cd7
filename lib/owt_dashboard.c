/* owt_dashboard.c - serve the dashboard page (lib/owt_dashboard.h). */
#include "owt_dashboard.h"

#include "owt_response.h"

owt_err owt_dashboard_send(owt_io *io) {
  static const owt_header headers[] = {
      /* The page's script and style are inline; it fetches only from this server. */
      {OWT_STR_LIT("Content-Security-Policy"),
       OWT_STR_LIT("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                   "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
                   "frame-ancestors 'none'")},
      {OWT_STR_LIT("X-Frame-Options"), OWT_STR_LIT("DENY")},
      {OWT_STR_LIT("Referrer-Policy"), OWT_STR_LIT("no-referrer")},
      {OWT_STR_LIT("Cache-Control"), OWT_STR_LIT("no-store")},
  };
  owt_str page = owt_str_make((const char *)owt_dashboard_html, owt_dashboard_html_len);
  return owt_response_send_with(io, 200, OWT_STR_LIT("text/html; charset=utf-8"), page, headers,
                                sizeof headers / sizeof headers[0]) == OWT_OK
             ? OWT_OK
             : OWT_E_IO;
}

owt_err owt_dashboard_redirect(owt_io *io) {
  static const owt_header location = {OWT_STR_LIT("Location"), OWT_STR_LIT("_owt/")};
  return owt_response_send_with(io, 308, OWT_STR_LIT("text/plain; charset=utf-8"),
                                OWT_STR_LIT("the dashboard is at /_owt/"), &location, 1) == OWT_OK
             ? OWT_OK
             : OWT_E_IO;
}
