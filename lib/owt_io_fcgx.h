/* owt_io_fcgx.h - owt_io over a libfcgi request, through its owt_flight:
 * writes are refused once the watchdog took the request over, and every
 * blocking call is timed so the watchdog can cut a stalled one. */
#ifndef OWT_IO_FCGX_H
#define OWT_IO_FCGX_H

#include <fcgiapp.h>

#include "owt_flight.h"
#include "owt_io.h"

typedef struct {
  FCGX_Request *req;
  owt_flight *flight;
} owt_io_fcgx;

/* Point io at req's streams and params; valid until FCGX_Finish_r(req).
 * fx must outlive io. */
void owt_io_fcgx_bind(owt_io *io, owt_io_fcgx *fx, FCGX_Request *req, owt_flight *flight);

#endif
