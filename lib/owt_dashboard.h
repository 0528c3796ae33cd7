/* owt_dashboard.h - the dashboard at /_owt/: one self-contained HTML page
 * (no external assets) that polls /_owt/status, /_owt/history and
 * /_owt/cache, draws the last minutes, and runs adaptors in a playground.
 *
 * The page is written as HTML in lib/owt_dashboard.html and built into the
 * binary as owt_dashboard_html[] (make generates lib/owt_dashboard_page.c
 * from it with od and sed), so it is edited, diffed and checked as a page,
 * and served from memory: no file to install or find at run time. */
#ifndef OWT_DASHBOARD_H
#define OWT_DASHBOARD_H

#include <stddef.h>

#include "owt_err.h"
#include "owt_io.h"

extern const unsigned char owt_dashboard_html[];
extern const size_t owt_dashboard_html_len;

/* 200 with the page, its Content-Security-Policy allowing nothing but its
 * own inline code and requests to this server. OWT_OK, or OWT_E_IO when the
 * client went away. */
owt_err owt_dashboard_send(owt_io *io);

/* /_owt (no slash): 308 to /_owt/ (a relative Location, so a server mounted
 * under a prefix redirects within it). OWT_OK, or OWT_E_IO. */
owt_err owt_dashboard_redirect(owt_io *io);

#endif
